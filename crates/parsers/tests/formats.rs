//! Every format, written by `samples` and parsed back: text and markers checked exactly.

mod common;

use common::{parse_path, Dir};
use lightrag_parsers::{parse, samples, Limits};

#[cfg(feature = "pdf")]
#[test]
fn pdf_pages_get_markers_and_empty_pages_none() {
    let dir = Dir::new();
    let path = dir.path("report.pdf");
    let pages: &[&[&str]] = &[
        &["Hello PDF world", "Second line (with parens)"],
        &[],
        &["Page three caf\u{e9}"],
    ];
    samples::write_pdf(&path, pages).unwrap();
    let parsed = parse_path(&path).unwrap();
    assert_eq!(parsed.format, "pdf");
    assert_eq!(parsed.units, 3);
    assert_eq!(
        parsed.text,
        "[page 1]\nHello PDF world\nSecond line (with parens)\n\n[page 3]\nPage three caf\u{e9}"
    );
}

#[cfg(feature = "office")]
#[test]
fn docx_headings_paragraphs_and_tables() {
    let dir = Dir::new();
    let path = dir.path("report.docx");
    let table: &[&[&str]] = &[&["Name", "Value"], &["alpha", "1"], &["beta", ""]];
    samples::write_docx(
        &path,
        "Quarterly Report",
        &["First paragraph.", "Second & <third>."],
        table,
    )
    .unwrap();
    let parsed = parse_path(&path).unwrap();
    assert_eq!(parsed.format, "docx");
    assert_eq!(
        parsed.text,
        "# Quarterly Report\n\nFirst paragraph.\n\nSecond & <third>.\n\nName | Value\nalpha | 1\nbeta"
    );
}

#[cfg(feature = "office")]
#[test]
fn pptx_slides_in_order_title_first_with_notes() {
    let dir = Dir::new();
    let path = dir.path("deck.pptx");
    let slides: &[(&str, &[&str])] = &[
        ("Intro", &["Point A", "Point B"]),
        ("Blank", &[]),
        ("Results", &["Up 10%"]),
    ];
    samples::write_pptx_with_notes(&path, slides, &["Say hello", "", ""]).unwrap();
    let parsed = parse_path(&path).unwrap();
    assert_eq!(parsed.format, "pptx");
    assert_eq!(parsed.units, 3);
    assert_eq!(
        parsed.text,
        "[slide 1]\nIntro\nPoint A\nPoint B\nNotes: Say hello\n\n[slide 2]\nBlank\n\n[slide 3]\nResults\nUp 10%"
    );
}

#[cfg(feature = "office")]
#[test]
fn xlsx_sheets_rows_numbers_and_dates() {
    let dir = Dir::new();
    let path = dir.path("book.xlsx");
    let data: &[&[&str]] = &[
        &["Name", "Qty", "When"],
        &["apple", "3", "2024-01-31"],
        &["pear", "2.50", ""],
    ];
    let sparse: &[&[&str]] = &[&[], &["", "x", "", "y"]];
    samples::write_xlsx(&path, &[("Data", data), ("Empty", &[]), ("Q]2", sparse)]).unwrap();
    let parsed = parse_path(&path).unwrap();
    assert_eq!(parsed.format, "xlsx");
    assert_eq!(parsed.units, 3);
    assert_eq!(
        parsed.text,
        "[sheet Data!A1:C3]\nrow 1: Name | Qty | When\nrow 2: apple | 3 | 2024-01-31\nrow 3: pear | 2.5\n\n\
         [sheet Q 2!B2:D2]\nrow 2: x |  | y"
    );
    for line in parsed.text.lines().filter(|l| l.starts_with('[')) {
        assert!(lightrag_parsers::markers::parse(line).is_some(), "{line}");
    }
}

#[cfg(feature = "office")]
#[test]
fn odt_headings_lists_tables() {
    let dir = Dir::new();
    let path = dir.path("notes.odt");
    let table: &[&[&str]] = &[&["k", "v"], &["a", "1"]];
    samples::write_odt(
        &path,
        "Minutes",
        &["We met.", "We agreed."],
        &["one", "two"],
        table,
    )
    .unwrap();
    let parsed = parse_path(&path).unwrap();
    assert_eq!(parsed.format, "odt");
    assert_eq!(
        parsed.text,
        "# Minutes\n\nWe met.\n\nWe agreed.\n\n- one\n- two\n\nk | v\na | 1"
    );
}

#[cfg(feature = "office")]
#[test]
fn epub_chapters_in_spine_order() {
    let dir = Dir::new();
    let path = dir.path("book.epub");
    let chapters: &[(&str, &[&str])] = &[
        ("Chapter One", &["It begins."]),
        ("Chapter Two", &["It ends."]),
    ];
    samples::write_epub(&path, "A Book", chapters).unwrap();
    let parsed = parse_path(&path).unwrap();
    assert_eq!(parsed.format, "epub");
    assert_eq!(
        parsed.text,
        "# Chapter One\n\nIt begins.\n\n# Chapter Two\n\nIt ends."
    );
}

#[test]
fn rtf_text_with_unicode() {
    let dir = Dir::new();
    let path = dir.path("letter.rtf");
    samples::write_rtf(
        &path,
        "Dear {team}",
        &["Caf\u{e9} \u{2014} na\u{ef}ve \u{1F600}", "Bye\\now"],
    )
    .unwrap();
    let parsed = parse_path(&path).unwrap();
    assert_eq!(parsed.format, "rtf");
    assert_eq!(
        parsed.text,
        "Dear {team}\n\nCaf\u{e9} \u{2014} na\u{ef}ve \u{1F600}\n\nBye\\now"
    );
}

#[test]
fn html_keeps_structure_and_drops_head() {
    let dir = Dir::new();
    let path = dir.path("page.html");
    let table: &[&[&str]] = &[&["h1", "h2"], &["1", "2"]];
    samples::write_html(&path, "Hidden title", "Welcome", &["Hello & bye"], table).unwrap();
    let parsed = parse_path(&path).unwrap();
    assert_eq!(parsed.format, "html");
    assert_eq!(parsed.text, "# Welcome\n\nHello & bye\n\nh1 | h2\n1 | 2");
}

#[test]
fn text_types_pass_through() {
    let limits = Limits::default();
    for name in [
        "a.md", "b.CSV", "c.json", "d.py", "e.rs", "f.yaml", "g.log", "h.tex", "i.vue",
    ] {
        let parsed = parse(name, b"\xEF\xBB\xBFline one\r\nline two\n", &limits).unwrap();
        assert_eq!(parsed.text, "line one\nline two\n", "{name}");
        assert_eq!(parsed.format, "text");
        assert_eq!(parsed.units, 0);
    }
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("h\u{e9}".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(parse("u.txt", &utf16, &limits).unwrap().text, "h\u{e9}");
}
