//! ODT and EPUB 3 writers.

use std::io;
use std::path::Path;

use super::{entry, esc, write_zip, XML_HEAD};

const ODF_NS: &str = "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" \
xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" \
xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\" \
xmlns:fo=\"urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0\" office:version=\"1.3\"";

/// An ODT: a level-1 heading, paragraphs, a bullet list of `items`, then a table.
pub fn write_odt(
    path: impl AsRef<Path>,
    heading: &str,
    paragraphs: &[&str],
    items: &[&str],
    table: &[&[&str]],
) -> io::Result<()> {
    let mut body = format!("<text:h text:outline-level=\"1\">{}</text:h>", esc(heading));
    for p in paragraphs {
        body.push_str(&format!("<text:p>{}</text:p>", esc(p)));
    }
    if !items.is_empty() {
        body.push_str("<text:list>");
        for item in items {
            body.push_str(&format!(
                "<text:list-item><text:p>{}</text:p></text:list-item>",
                esc(item)
            ));
        }
        body.push_str("</text:list>");
    }
    if !table.is_empty() {
        let cols = table.iter().map(|r| r.len()).max().unwrap_or(1).max(1);
        body.push_str(&format!("<table:table table:name=\"Table1\"><table:table-column table:number-columns-repeated=\"{cols}\"/>"));
        for row in table {
            body.push_str("<table:table-row>");
            for i in 0..cols {
                let cell = row.get(i).copied().unwrap_or("");
                body.push_str(&format!("<table:table-cell office:value-type=\"string\"><text:p>{}</text:p></table:table-cell>", esc(cell)));
            }
            body.push_str("</table:table-row>");
        }
        body.push_str("</table:table>");
    }
    let content = format!(
        "{XML_HEAD}<office:document-content {ODF_NS}><office:automatic-styles/><office:body><office:text>{body}</office:text></office:body></office:document-content>"
    );
    let styles = format!(
        "{XML_HEAD}<office:document-styles {ODF_NS}><office:styles/></office:document-styles>"
    );
    let manifest = format!(
        "{XML_HEAD}<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.3\">\
<manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument.text\"/>\
<manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/>\
<manifest:file-entry manifest:full-path=\"styles.xml\" manifest:media-type=\"text/xml\"/></manifest:manifest>"
    );
    write_zip(
        path,
        &[
            entry("mimetype", "application/vnd.oasis.opendocument.text"),
            entry("META-INF/manifest.xml", manifest),
            entry("content.xml", content),
            entry("styles.xml", styles),
        ],
    )
}

/// An EPUB 3 with one XHTML chapter per `(chapter title, paragraphs)`, in spine order.
pub fn write_epub(
    path: impl AsRef<Path>,
    title: &str,
    chapters: &[(&str, &[&str])],
) -> io::Result<()> {
    let mut entries = vec![
        entry("mimetype", "application/epub+zip"),
        entry(
            "META-INF/container.xml",
            format!("{XML_HEAD}<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles><rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/></rootfiles></container>"),
        ),
    ];
    let (mut manifest, mut spine, mut toc) = (String::new(), String::new(), String::new());
    for (i, (chapter, paragraphs)) in chapters.iter().enumerate() {
        let n = i + 1;
        manifest.push_str(&format!("<item id=\"ch{n}\" href=\"text/chapter{n}.xhtml\" media-type=\"application/xhtml+xml\"/>"));
        spine.push_str(&format!("<itemref idref=\"ch{n}\"/>"));
        toc.push_str(&format!(
            "<li><a href=\"text/chapter{n}.xhtml\">{}</a></li>",
            esc(chapter)
        ));
        let body: String = paragraphs
            .iter()
            .map(|p| format!("<p>{}</p>", esc(p)))
            .collect();
        entries.push(entry(
            &format!("OEBPS/text/chapter{n}.xhtml"),
            xhtml(chapter, &format!("<h1>{}</h1>{body}", esc(chapter))),
        ));
    }
    entries.push(entry(
        "OEBPS/nav.xhtml",
        xhtml(
            title,
            &format!("<nav epub:type=\"toc\" id=\"toc\"><ol>{toc}</ol></nav>"),
        ),
    ));
    entries.push(entry(
        "OEBPS/content.opf",
        format!(
            "{XML_HEAD}<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" unique-identifier=\"uid\">\
<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:identifier id=\"uid\">urn:uuid:00000000-0000-4000-8000-000000000000</dc:identifier>\
<dc:title>{}</dc:title><dc:language>en</dc:language><meta property=\"dcterms:modified\">2024-01-01T00:00:00Z</meta></metadata>\
<manifest><item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" properties=\"nav\"/>{manifest}</manifest>\
<spine>{spine}</spine></package>",
            esc(title)
        ),
    ));
    write_zip(path, &entries)
}

fn xhtml(title: &str, body: &str) -> String {
    format!(
        "{XML_HEAD}<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\"><head><title>{}</title></head><body>{body}</body></html>",
        esc(title)
    )
}
