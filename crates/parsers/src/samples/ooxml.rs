//! OOXML writers (DOCX, PPTX, XLSX) with the parts Office expects: content types,
//! relationships, styles, and master/layout/theme for PPTX.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{entry, esc, write_zip, XML_HEAD};

const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG_REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";

fn rels(entries: &[(&str, &str, &str)]) -> String {
    let mut s = format!("{XML_HEAD}<Relationships xmlns=\"{PKG_REL_NS}\">");
    for (id, kind, target) in entries {
        s.push_str(&format!(
            "<Relationship Id=\"{id}\" Type=\"{REL_NS}/{kind}\" Target=\"{target}\"/>"
        ));
    }
    s.push_str("</Relationships>");
    s
}

fn content_types(overrides: &[(&str, &str)]) -> String {
    let mut s = format!(
        "{XML_HEAD}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    );
    for (part, kind) in overrides {
        s.push_str(&format!(
            "<Override PartName=\"{part}\" ContentType=\"{kind}\"/>"
        ));
    }
    s.push_str("</Types>");
    s
}

const W_NS: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

/// A DOCX: a `Heading 1` paragraph, body paragraphs, then a table (first row as given).
pub fn write_docx(
    path: impl AsRef<Path>,
    heading: &str,
    paragraphs: &[&str],
    table: &[&[&str]],
) -> io::Result<()> {
    write_zip(path, &docx_entries(&docx_body(heading, paragraphs, table)))
}

/// A DOCX whose `word/document.xml` inflates to `unpacked_bytes` (mostly spaces): a zip bomb.
pub fn write_zip_bomb_docx(path: impl AsRef<Path>, unpacked_bytes: u64) -> io::Result<()> {
    let file = fs::File::create(path)?;
    let mut zip = ZipWriter::new(file);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let small = docx_entries("<w:p><w:r><w:t>x</w:t></w:r></w:p>");
    for (name, data) in small.iter().filter(|(n, _)| n != "word/document.xml") {
        zip.start_file(name.as_str(), deflated)
            .map_err(io::Error::other)?;
        zip.write_all(data)?;
    }
    zip.start_file(
        "word/document.xml",
        deflated.large_file(unpacked_bytes >= u32::MAX as u64),
    )
    .map_err(io::Error::other)?;
    let head = format!("{XML_HEAD}<w:document xmlns:w=\"{W_NS}\"><w:body>");
    zip.write_all(head.as_bytes())?;
    let chunk = vec![b' '; 1 << 20];
    let mut left = unpacked_bytes.saturating_sub(head.len() as u64);
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        zip.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    zip.write_all(b"</w:body></w:document>")?;
    zip.finish().map_err(io::Error::other)?;
    Ok(())
}

fn w_para(style: Option<&str>, text: &str) -> String {
    let ppr = style
        .map(|s| format!("<w:pPr><w:pStyle w:val=\"{s}\"/></w:pPr>"))
        .unwrap_or_default();
    format!(
        "<w:p>{ppr}<w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
        esc(text)
    )
}

fn docx_body(heading: &str, paragraphs: &[&str], table: &[&[&str]]) -> String {
    let mut body = w_para(Some("Heading1"), heading);
    for p in paragraphs {
        body.push_str(&w_para(None, p));
    }
    if !table.is_empty() {
        let cols = table.iter().map(|r| r.len()).max().unwrap_or(1).max(1);
        body.push_str("<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/><w:tblW w:w=\"0\" w:type=\"auto\"/></w:tblPr><w:tblGrid>");
        for _ in 0..cols {
            body.push_str(&format!("<w:gridCol w:w=\"{}\"/>", 9000 / cols));
        }
        body.push_str("</w:tblGrid>");
        for row in table {
            body.push_str("<w:tr>");
            for i in 0..cols {
                let cell = row.get(i).copied().unwrap_or("");
                body.push_str(&format!(
                    "<w:tc><w:tcPr><w:tcW w:w=\"{}\" w:type=\"dxa\"/></w:tcPr>{}</w:tc>",
                    9000 / cols,
                    w_para(None, cell)
                ));
            }
            body.push_str("</w:tr>");
        }
        body.push_str("</w:tbl><w:p/>");
    }
    body
}

fn docx_entries(body: &str) -> Vec<(String, Vec<u8>)> {
    let document = format!(
        "{XML_HEAD}<w:document xmlns:w=\"{W_NS}\" xmlns:r=\"{REL_NS}\"><w:body>{body}\
<w:sectPr><w:pgSz w:w=\"12240\" w:h=\"15840\"/><w:pgMar w:top=\"1440\" w:right=\"1440\" w:bottom=\"1440\" w:left=\"1440\" w:header=\"720\" w:footer=\"720\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
    );
    let styles = format!(
        "{XML_HEAD}<w:styles xmlns:w=\"{W_NS}\">\
<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/></w:style>\
<w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/><w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/><w:pPr><w:outlineLvl w:val=\"0\"/></w:pPr><w:rPr><w:b/><w:sz w:val=\"32\"/></w:rPr></w:style>\
<w:style w:type=\"table\" w:styleId=\"TableGrid\"><w:name w:val=\"Table Grid\"/><w:tblPr><w:tblBorders>\
<w:top w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"auto\"/><w:left w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"auto\"/>\
<w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"auto\"/><w:right w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"auto\"/>\
<w:insideH w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"auto\"/><w:insideV w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"auto\"/>\
</w:tblBorders></w:tblPr></w:style></w:styles>"
    );
    vec![
        entry(
            "[Content_Types].xml",
            content_types(&[
                ("/word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
                ("/word/styles.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"),
            ]),
        ),
        entry("_rels/.rels", rels(&[("rId1", "officeDocument", "word/document.xml")])),
        entry("word/_rels/document.xml.rels", rels(&[("rId1", "styles", "styles.xml")])),
        entry("word/document.xml", document),
        entry("word/styles.xml", styles),
    ]
}

const P_NS: &str = "http://schemas.openxmlformats.org/presentationml/2006/main";
const A_NS: &str = "http://schemas.openxmlformats.org/drawingml/2006/main";

/// A PPTX with one slide per `(title, bullets)`.
pub fn write_pptx(path: impl AsRef<Path>, slides: &[(&str, &[&str])]) -> io::Result<()> {
    write_pptx_with_notes(path, slides, &[])
}

/// A PPTX whose slide `i` carries speaker notes `notes[i]` (when present and non-empty).
pub fn write_pptx_with_notes(
    path: impl AsRef<Path>,
    slides: &[(&str, &[&str])],
    notes: &[&str],
) -> io::Result<()> {
    let mut entries = Vec::new();
    let mut overrides: Vec<(String, &str)> = vec![
        (
            "/ppt/presentation.xml".into(),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        ),
        (
            "/ppt/slideMasters/slideMaster1.xml".into(),
            "application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml",
        ),
        (
            "/ppt/slideLayouts/slideLayout1.xml".into(),
            "application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml",
        ),
        (
            "/ppt/theme/theme1.xml".into(),
            "application/vnd.openxmlformats-officedocument.theme+xml",
        ),
    ];
    let mut pres_rels = vec![
        (
            "rId1".to_string(),
            "slideMaster",
            "slideMasters/slideMaster1.xml".to_string(),
        ),
        ("rId2".to_string(), "theme", "theme/theme1.xml".to_string()),
    ];
    let mut sld_ids = String::new();
    for (i, (title, bullets)) in slides.iter().enumerate() {
        let n = i + 1;
        let rid = format!("rId{}", n + 10);
        sld_ids.push_str(&format!("<p:sldId id=\"{}\" r:id=\"{rid}\"/>", 255 + n));
        pres_rels.push((rid, "slide", format!("slides/slide{n}.xml")));
        overrides.push((
            format!("/ppt/slides/slide{n}.xml"),
            "application/vnd.openxmlformats-officedocument.presentationml.slide+xml",
        ));
        // The body shape comes first in the tree; readers must still put the title first.
        let shapes = format!(
            "{}{}",
            text_shape(3, "Content", "<p:ph idx=\"1\"/>", bullets),
            text_shape(2, "Title", "<p:ph type=\"title\"/>", &[title])
        );
        entries.push(entry(
            &format!("ppt/slides/slide{n}.xml"),
            slide_xml("sld", &shapes),
        ));
        let mut slide_rels = vec![(
            "rId1",
            "slideLayout",
            "../slideLayouts/slideLayout1.xml".to_string(),
        )];
        if let Some(note) = notes.get(i).filter(|s| !s.is_empty()) {
            slide_rels.push((
                "rId2",
                "notesSlide",
                format!("../notesSlides/notesSlide{n}.xml"),
            ));
            let shapes = format!(
                "{}{}",
                text_shape(
                    2,
                    "Slide Number",
                    "<p:ph type=\"sldNum\" idx=\"5\"/>",
                    &[&n.to_string()]
                ),
                text_shape(3, "Notes", "<p:ph type=\"body\" idx=\"1\"/>", &[note])
            );
            entries.push(entry(
                &format!("ppt/notesSlides/notesSlide{n}.xml"),
                slide_xml("notes", &shapes),
            ));
            entries.push(entry(
                &format!("ppt/notesSlides/_rels/notesSlide{n}.xml.rels"),
                rels(&[("rId1", "slide", &format!("../slides/slide{n}.xml"))]),
            ));
            overrides.push((
                format!("/ppt/notesSlides/notesSlide{n}.xml"),
                "application/vnd.openxmlformats-officedocument.presentationml.notesSlide+xml",
            ));
        }
        let slide_rels: Vec<(&str, &str, &str)> = slide_rels
            .iter()
            .map(|(a, b, c)| (*a, *b, c.as_str()))
            .collect();
        entries.push(entry(
            &format!("ppt/slides/_rels/slide{n}.xml.rels"),
            rels(&slide_rels),
        ));
    }
    let presentation = format!(
        "{XML_HEAD}<p:presentation xmlns:a=\"{A_NS}\" xmlns:r=\"{REL_NS}\" xmlns:p=\"{P_NS}\">\
<p:sldMasterIdLst><p:sldMasterId id=\"2147483648\" r:id=\"rId1\"/></p:sldMasterIdLst>\
<p:sldIdLst>{sld_ids}</p:sldIdLst><p:sldSz cx=\"9144000\" cy=\"6858000\"/><p:notesSz cx=\"6858000\" cy=\"9144000\"/></p:presentation>"
    );
    let pres_rels: Vec<(&str, &str, &str)> = pres_rels
        .iter()
        .map(|(a, b, c)| (a.as_str(), *b, c.as_str()))
        .collect();
    let overrides: Vec<(&str, &str)> = overrides.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    entries.extend([
        entry("[Content_Types].xml", content_types(&overrides)),
        entry("_rels/.rels", rels(&[("rId1", "officeDocument", "ppt/presentation.xml")])),
        entry("ppt/presentation.xml", presentation),
        entry("ppt/_rels/presentation.xml.rels", rels(&pres_rels)),
        entry(
            "ppt/slideMasters/slideMaster1.xml",
            format!(
                "{XML_HEAD}<p:sldMaster xmlns:a=\"{A_NS}\" xmlns:r=\"{REL_NS}\" xmlns:p=\"{P_NS}\"><p:cSld><p:spTree>{}</p:spTree></p:cSld>\
<p:clrMap bg1=\"lt1\" tx1=\"dk1\" bg2=\"lt2\" tx2=\"dk2\" accent1=\"accent1\" accent2=\"accent2\" accent3=\"accent3\" accent4=\"accent4\" accent5=\"accent5\" accent6=\"accent6\" hlink=\"hlink\" folHlink=\"folHlink\"/>\
<p:sldLayoutIdLst><p:sldLayoutId id=\"2147483649\" r:id=\"rId1\"/></p:sldLayoutIdLst></p:sldMaster>",
                GROUP_PROPS
            ),
        ),
        entry(
            "ppt/slideMasters/_rels/slideMaster1.xml.rels",
            rels(&[("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml"), ("rId2", "theme", "../theme/theme1.xml")]),
        ),
        entry(
            "ppt/slideLayouts/slideLayout1.xml",
            format!(
                "{XML_HEAD}<p:sldLayout xmlns:a=\"{A_NS}\" xmlns:r=\"{REL_NS}\" xmlns:p=\"{P_NS}\" type=\"obj\"><p:cSld name=\"Title and Content\"><p:spTree>{}</p:spTree></p:cSld></p:sldLayout>",
                GROUP_PROPS
            ),
        ),
        entry("ppt/slideLayouts/_rels/slideLayout1.xml.rels", rels(&[("rId1", "slideMaster", "../slideMasters/slideMaster1.xml")])),
        entry("ppt/theme/theme1.xml", theme_xml()),
    ]);
    write_zip(path, &entries)
}

const GROUP_PROPS: &str =
    "<p:nvGrpSpPr><p:cNvPr id=\"1\" name=\"\"/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>";

fn slide_xml(root: &str, shapes: &str) -> String {
    format!(
        "{XML_HEAD}<p:{root} xmlns:a=\"{A_NS}\" xmlns:r=\"{REL_NS}\" xmlns:p=\"{P_NS}\"><p:cSld><p:spTree>{GROUP_PROPS}{shapes}</p:spTree></p:cSld></p:{root}>"
    )
}

fn text_shape(id: usize, name: &str, placeholder: &str, paragraphs: &[&str]) -> String {
    let mut paras = String::new();
    for p in paragraphs {
        paras.push_str(&format!(
            "<a:p><a:r><a:rPr lang=\"en-US\"/><a:t>{}</a:t></a:r></a:p>",
            esc(p)
        ));
    }
    if paras.is_empty() {
        paras.push_str("<a:p/>");
    }
    format!(
        "<p:sp><p:nvSpPr><p:cNvPr id=\"{id}\" name=\"{name}\"/><p:cNvSpPr><a:spLocks noGrp=\"1\"/></p:cNvSpPr><p:nvPr>{placeholder}</p:nvPr></p:nvSpPr>\
<p:spPr/><p:txBody><a:bodyPr/><a:lstStyle/>{paras}</p:txBody></p:sp>"
    )
}

fn theme_xml() -> String {
    let colors: String = [
        ("dk1", "000000"),
        ("lt1", "FFFFFF"),
        ("dk2", "44546A"),
        ("lt2", "E7E6E6"),
        ("accent1", "4472C4"),
        ("accent2", "ED7D31"),
        ("accent3", "A5A5A5"),
        ("accent4", "FFC000"),
        ("accent5", "5B9BD5"),
        ("accent6", "70AD47"),
        ("hlink", "0563C1"),
        ("folHlink", "954F72"),
    ]
    .iter()
    .map(|(n, c)| format!("<a:{n}><a:srgbClr val=\"{c}\"/></a:{n}>"))
    .collect();
    let fill = "<a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill>";
    let line = format!("<a:ln w=\"9525\">{fill}</a:ln>");
    let effect = "<a:effectStyle><a:effectLst/></a:effectStyle>";
    format!(
        "{XML_HEAD}<a:theme xmlns:a=\"{A_NS}\" name=\"Office Theme\"><a:themeElements><a:clrScheme name=\"Office\">{colors}</a:clrScheme>\
<a:fontScheme name=\"Office\"><a:majorFont><a:latin typeface=\"Calibri Light\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/></a:majorFont>\
<a:minorFont><a:latin typeface=\"Calibri\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/></a:minorFont></a:fontScheme>\
<a:fmtScheme name=\"Office\"><a:fillStyleLst>{fill}{fill}{fill}</a:fillStyleLst><a:lnStyleLst>{line}{line}{line}</a:lnStyleLst>\
<a:effectStyleLst>{effect}{effect}{effect}</a:effectStyleLst><a:bgFillStyleLst>{fill}{fill}{fill}</a:bgFillStyleLst></a:fmtScheme></a:themeElements></a:theme>"
    )
}

/// An XLSX with one sheet per `(name, rows)`. Cells that parse as numbers are stored as numbers,
/// `YYYY-MM-DD` cells as dates (serial number with a date format), everything else as shared
/// strings; empty strings leave the cell out.
pub fn write_xlsx(path: impl AsRef<Path>, sheets: &[(&str, &[&[&str]])]) -> io::Result<()> {
    let mut shared: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    let mut overrides: Vec<(String, &str)> = vec![
        (
            "/xl/workbook.xml".into(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        ),
        (
            "/xl/styles.xml".into(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
        ),
        (
            "/xl/sharedStrings.xml".into(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
        ),
    ];
    let mut wb_rels = vec![
        ("rId1".to_string(), "styles", "styles.xml".to_string()),
        (
            "rId2".to_string(),
            "sharedStrings",
            "sharedStrings.xml".to_string(),
        ),
    ];
    let mut sheet_list = String::new();
    for (i, (name, rows)) in sheets.iter().enumerate() {
        let n = i + 1;
        let rid = format!("rId{}", n + 10);
        sheet_list.push_str(&format!(
            "<sheet name=\"{}\" sheetId=\"{n}\" r:id=\"{rid}\"/>",
            esc(name)
        ));
        wb_rels.push((rid, "worksheet", format!("worksheets/sheet{n}.xml")));
        overrides.push((
            format!("/xl/worksheets/sheet{n}.xml"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
        ));
        let mut data = String::new();
        for (r, row) in rows.iter().enumerate() {
            data.push_str(&format!("<row r=\"{}\">", r + 1));
            for (c, value) in row.iter().enumerate() {
                if value.is_empty() {
                    continue;
                }
                let reference = format!("{}{}", column_letters(c + 1), r + 1);
                if let Some(serial) = iso_date_serial(value) {
                    data.push_str(&format!("<c r=\"{reference}\" s=\"1\"><v>{serial}</v></c>"));
                } else if value.parse::<f64>().is_ok_and(f64::is_finite) {
                    data.push_str(&format!("<c r=\"{reference}\"><v>{value}</v></c>"));
                } else {
                    let index = shared.iter().position(|s| s == value).unwrap_or_else(|| {
                        shared.push(value.to_string());
                        shared.len() - 1
                    });
                    data.push_str(&format!("<c r=\"{reference}\" t=\"s\"><v>{index}</v></c>"));
                }
            }
            data.push_str("</row>");
        }
        entries.push(entry(
            &format!("xl/worksheets/sheet{n}.xml"),
            format!("{XML_HEAD}<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"{REL_NS}\"><sheetData>{data}</sheetData></worksheet>"),
        ));
    }
    let strings: String = shared
        .iter()
        .map(|s| format!("<si><t xml:space=\"preserve\">{}</t></si>", esc(s)))
        .collect();
    let wb_rels: Vec<(&str, &str, &str)> = wb_rels
        .iter()
        .map(|(a, b, c)| (a.as_str(), *b, c.as_str()))
        .collect();
    let overrides: Vec<(&str, &str)> = overrides.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    entries.extend([
        entry("[Content_Types].xml", content_types(&overrides)),
        entry("_rels/.rels", rels(&[("rId1", "officeDocument", "xl/workbook.xml")])),
        entry(
            "xl/workbook.xml",
            format!("{XML_HEAD}<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"{REL_NS}\"><sheets>{sheet_list}</sheets></workbook>"),
        ),
        entry("xl/_rels/workbook.xml.rels", rels(&wb_rels)),
        entry(
            "xl/sharedStrings.xml",
            format!("{XML_HEAD}<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"{0}\" uniqueCount=\"{0}\">{strings}</sst>", shared.len()),
        ),
        entry(
            "xl/styles.xml",
            format!(
                "{XML_HEAD}<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
<fonts count=\"1\"><font><sz val=\"11\"/><name val=\"Calibri\"/></font></fonts>\
<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>\
<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
<cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/><xf numFmtId=\"14\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/></cellXfs>\
<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles></styleSheet>"
            ),
        ),
    ]);
    write_zip(path, &entries)
}

fn column_letters(mut col: usize) -> String {
    let mut out = Vec::new();
    while col > 0 {
        out.push(b'A' + ((col - 1) % 26) as u8);
        col = (col - 1) / 26;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// `2024-01-31` → Excel serial (1900 system), for dates after 1900-03-01.
fn iso_date_serial(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = value[..4].parse().ok()?;
    let m: i64 = value[5..7].parse().ok()?;
    let d: i64 = value[8..].parse().ok()?;
    if !(1901..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from civil (Howard Hinnant), then shift the Unix epoch to Excel's.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468 + 25_569)
}
