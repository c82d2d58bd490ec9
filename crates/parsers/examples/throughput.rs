//! Parse throughput per format (docs/benchmarks.md): writes one large file of each format with
//! the crate's sample writers, parses it a few times and prints MB/s of input and of text out.
//!
//! `cargo run --release -p lightrag-parsers --example throughput --features samples,pdf,office`

use std::path::Path;
use std::time::Instant;

use lightrag_parsers::{parse, samples, Limits};

/// A sentence of ordinary prose; `i` makes every line different.
fn line(i: usize) -> String {
    format!(
        "Line {i}: the survey boat left the northern quay at dawn and measured the depth of the channel every forty metres."
    )
}

fn main() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let lines: Vec<String> = (0..20_000).map(line).collect();
    let l: Vec<&str> = lines.iter().map(String::as_str).collect();

    let pages: Vec<&[&str]> = l.chunks(40).take(300).collect();
    samples::write_pdf(d.join("big.pdf"), &pages)?;
    let table: Vec<Vec<&str>> = l[..2000]
        .iter()
        .map(|s| vec![*s, "12.5", "north"])
        .collect();
    let table_refs: Vec<&[&str]> = table.iter().map(Vec::as_slice).collect();
    samples::write_docx(
        d.join("big.docx"),
        "Survey",
        &l[..12_000],
        &table_refs[..1000],
    )?;
    let slides: Vec<(&str, &[&str])> = l.chunks(10).take(1000).map(|c| ("Depths", c)).collect();
    samples::write_pptx(d.join("big.pptx"), &slides)?;
    samples::write_xlsx(d.join("big.xlsx"), &[("Depths", &table_refs)])?;
    samples::write_odt(
        d.join("big.odt"),
        "Survey",
        &l[..12_000],
        &l[..500],
        &table_refs[..500],
    )?;
    let chapters: Vec<(&str, &[&str])> = l.chunks(400).map(|c| ("Chapter", c)).collect();
    samples::write_epub(d.join("big.epub"), "Survey", &chapters)?;
    samples::write_rtf(d.join("big.rtf"), "Survey", &l)?;
    samples::write_html(
        d.join("big.html"),
        "Survey",
        "Survey",
        &l,
        &table_refs[..1000],
    )?;
    std::fs::write(d.join("big.md"), l.join("\n\n"))?;

    let limits = Limits::default();
    println!(
        "| format | file MB | text MB | units | parse ms (best of 3) | input MB/s | text MB/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    for name in [
        "big.pdf", "big.docx", "big.pptx", "big.xlsx", "big.odt", "big.epub", "big.rtf",
        "big.html", "big.md",
    ] {
        measure(&d.join(name), &limits);
    }
    Ok(())
}

fn measure(path: &Path, limits: &Limits) {
    let bytes = std::fs::read(path).expect("sample file");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let mut best = f64::MAX;
    let mut out = None;
    for _ in 0..3 {
        let t = Instant::now();
        let parsed = parse(name, &bytes, limits).expect("the sample parses");
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(parsed);
    }
    let Some(parsed) = out else { return };
    let mb = |n: usize| n as f64 / 1e6;
    println!(
        "| {} | {:.2} | {:.2} | {} | {:.0} | {:.1} | {:.1} |",
        parsed.format,
        mb(bytes.len()),
        mb(parsed.text.len()),
        parsed.units,
        best * 1000.0,
        mb(bytes.len()) / best,
        mb(parsed.text.len()) / best
    );
}
