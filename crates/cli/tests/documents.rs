//! Documents beyond plain text through the built `lightrag` binary: a folder holding one file of
//! every supported type is indexed and each file answers its own question with a reference that
//! names it (and its page, slide or sheet); bad files fail with their reason and lose nothing.

use std::path::Path;
use std::process::{Command, Output};

use lightrag_parsers::samples;

mod common;
use common::ok;

/// Runs `lightrag` with the hashing embedder (retrieval is not under test here) and every
/// chunk in reach of a query.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lightrag"))
        .arg("--working-dir")
        .arg(dir)
        .args(["--set", "COSINE_THRESHOLD=-1"])
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("EMBEDDING_BINDING", "hashing")
        .env("LLM_BINDING", "none")
        .output()
        .expect("run lightrag")
}

fn status(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(&run(dir, &["status", "--json"]))).expect("status json")
}

/// A made-up place name per file, so each question has exactly one answer.
fn name(i: usize) -> String {
    const A: [&str; 20] = [
        "Bral", "Cor", "Dun", "Fen", "Gal", "Hes", "Ivo", "Jor", "Kel", "Lun", "Mor", "Nes", "Orm",
        "Pel", "Quil", "Ros", "Sar", "Tov", "Ulm", "Vey",
    ];
    const B: [&str; 8] = [
        "dale", "mark", "wick", "holm", "stead", "ford", "by", "ness",
    ];
    format!("{}{}", A[i % 20], B[(i / 20) % 8])
}

fn fact(i: usize) -> String {
    format!(
        "The {} lighthouse was built in the year {}.",
        name(i),
        1700 + i
    )
}

/// Writes the file for extension `ext` holding fact `i`; returns the location its reference
/// should name (each file is one chunk, so that is every unit of the file).
fn write_sample(dir: &Path, ext: &str, i: usize) -> Option<&'static str> {
    let path = dir.join(format!("sample.{ext}"));
    let fact = fact(i);
    let filler = "This paragraph is about nothing in particular.";
    match ext {
        "pdf" => {
            samples::write_pdf(&path, &[&["Front matter of the report."], &[&fact]]).unwrap();
            return Some("pages 1-2");
        }
        "docx" => {
            samples::write_docx(&path, "Coastal lights", &[filler, &fact], &[&["a", "b"]]).unwrap()
        }
        "pptx" => {
            samples::write_pptx(
                &path,
                &[("Intro", &[filler][..]), ("Lights", &[fact.as_str()][..])],
            )
            .unwrap();
            return Some("slides 1-2");
        }
        "xlsx" => {
            samples::write_xlsx(&path, &[("Lights", &[&["Fact"], &[filler], &[&fact]])]).unwrap();
            return Some("sheet Lights!A1:A3");
        }
        "odt" => {
            samples::write_odt(&path, "Coastal lights", &[&fact], &["item"], &[&["a"]]).unwrap()
        }
        "epub" => samples::write_epub(
            &path,
            "Lights",
            &[("One", &[filler][..]), ("Two", &[fact.as_str()][..])],
        )
        .unwrap(),
        "rtf" => samples::write_rtf(&path, "Coastal lights", &[&fact]).unwrap(),
        "html" | "htm" | "xhtml" => {
            samples::write_html(&path, "Lights", "Coastal lights", &[&fact], &[&["a", "b"]])
                .unwrap()
        }
        "json" => std::fs::write(&path, format!("{{\"note\": \"{fact}\"}}\n")).unwrap(),
        "jsonl" => {
            std::fs::write(&path, format!("{{\"note\": \"{fact}\"}}\n{{\"n\": 2}}\n")).unwrap()
        }
        "xml" => std::fs::write(&path, format!("<notes><note>{fact}</note></notes>\n")).unwrap(),
        _ => std::fs::write(&path, format!("{fact}\n")).unwrap(),
    }
    None
}

#[test]
fn a_folder_of_every_supported_type_is_indexed_and_answers_with_references() {
    let docs = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let exts = lightrag_parsers::supported_extensions();
    for must in [
        "pdf", "docx", "pptx", "xlsx", "odt", "rtf", "epub", "html", "htm", "md", "csv",
    ] {
        assert!(exts.contains(&must), "{must} is not supported: {exts:?}");
    }
    let mut places = Vec::new();
    for (i, ext) in exts.iter().enumerate() {
        places.push(write_sample(docs.path(), ext, i));
    }
    let out = ok(&run(w, &["insert", docs.path().to_str().unwrap()]));
    assert!(
        out.contains(&format!("enqueued: {} new", exts.len())) && out.contains("0 rejected"),
        "{out}"
    );
    assert_eq!(status(w)["status_counts"]["processed"], exts.len());

    let n = exts.len().to_string();
    for (i, ext) in exts.iter().enumerate() {
        let question = format!("When was the {} lighthouse built?", name(i));
        let answer = ok(&run(
            w,
            &[
                "query",
                &question,
                "--mode",
                "naive",
                "--chunk-top-k",
                &n,
                "--top-k",
                &n,
            ],
        ));
        if !answer.contains(&fact(i)) {
            let data = ok(&run(
                w,
                &[
                    "query",
                    &question,
                    "--mode",
                    "naive",
                    "--chunk-top-k",
                    &n,
                    "--top-k",
                    &n,
                    "--json",
                ],
            ));
            panic!("sample.{ext}: the answer lacks its fact:\n{answer}\n{data}");
        }
        let file = format!("sample.{ext}");
        let cited = match places[i] {
            Some(place) => format!("{file} ({place})"),
            None => file.clone(),
        };
        let reference = answer
            .lines()
            .find(|l| l.starts_with("* [") && l.contains(&format!("] {file}")))
            .unwrap_or_else(|| panic!("sample.{ext}: no reference:\n{answer}"));
        assert!(
            reference.ends_with(&cited),
            "sample.{ext}: reference '{reference}', expected '{cited}'"
        );
    }

    // The data of a query names the page too.
    let v: serde_json::Value = serde_json::from_str(&ok(&run(
        w,
        &[
            "query",
            &format!("When was the {} lighthouse built?", name(0)),
            "--json",
            "--mode",
            "naive",
            "--chunk-top-k",
            &n,
        ],
    )))
    .unwrap();
    let pdf = exts.iter().position(|e| *e == "pdf").unwrap();
    let refs = v["data"]["references"].as_array().unwrap();
    let pdf_ref = refs
        .iter()
        .find(|r| r["file_path"] == "sample.pdf")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(pdf_ref["location"], "pages 1-2", "{v}");
    assert!(pdf < exts.len());
}

#[test]
fn bad_documents_fail_with_their_reason_and_the_rest_is_indexed() {
    let docs = tempfile::tempdir().unwrap();
    let d = docs.path();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(d.join("good.md"), fact(1)).unwrap();
    samples::write_encrypted_pdf(d.join("locked.pdf")).unwrap();
    samples::write_scanned_pdf(d.join("scan.pdf"), 2).unwrap();
    samples::write_zip_bomb_docx(d.join("bomb.docx"), 700 * 1024 * 1024).unwrap();
    samples::write_flate_bomb_pdf(d.join("inflate.pdf"), 700 * 1024 * 1024).unwrap();
    std::fs::write(d.join("zero.docx"), b"").unwrap();
    samples::write_pdf(d.join("liar.docx"), &[&["A PDF in disguise."]]).unwrap();
    let mut truncated = Vec::new();
    samples::write_pdf(d.join("whole.tmp"), &[&["Some words."]]).unwrap();
    truncated.extend_from_slice(&std::fs::read(d.join("whole.tmp")).unwrap()[..200]);
    std::fs::remove_file(d.join("whole.tmp")).unwrap();
    std::fs::write(d.join("broken.pdf"), truncated).unwrap();

    let out = ok(&run(w, &["insert", d.to_str().unwrap()]));
    assert!(out.contains("1 new") && out.contains("7 rejected"), "{out}");
    let expect = [
        ("locked.pdf", "encrypted"),
        ("scan.pdf", "OCR is not supported"),
        ("bomb.docx", "zip bomb"),
        ("inflate.pdf", "decompression bomb"),
        ("zero.docx", "empty (0 bytes)"),
        ("liar.docx", "named .docx but its content is"),
        ("broken.pdf", "damaged or invalid"),
    ];
    let st = status(w);
    assert_eq!(st["status_counts"]["processed"], 1, "{st}");
    assert_eq!(st["status_counts"]["failed"], expect.len(), "{st}");
    for (file, reason) in expect {
        assert!(
            out.contains(&format!("{file}: ")),
            "{file} not listed:\n{out}"
        );
        let row = st["failed"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["file_path"] == file)
            .unwrap_or_else(|| panic!("{file} has no failed row: {st}"));
        let msg = row["error_msg"].as_str().unwrap();
        assert!(msg.contains(reason), "{file}: '{msg}' lacks '{reason}'");
    }

    // The fixed file replaces its failed row; the others stay failed, the good one untouched.
    samples::write_pdf(d.join("locked.pdf"), &[&[&fact(2)]]).unwrap();
    let out = ok(&run(w, &["insert", d.to_str().unwrap()]));
    assert!(
        out.contains("1 new") && out.contains("1 unchanged"),
        "{out}"
    );
    let st = status(w);
    assert_eq!(st["status_counts"]["processed"], 2, "{st}");
    assert_eq!(st["status_counts"]["failed"], expect.len() - 1, "{st}");
    let answer = ok(&run(
        w,
        &[
            "query",
            &format!("When was the {} lighthouse built?", name(2)),
            "--mode",
            "naive",
        ],
    ));
    assert!(answer.contains("locked.pdf (page 1)"), "{answer}");
}
