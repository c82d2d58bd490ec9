//! Writers of real files in every supported binary format, for tests here and in other crates.
//!
//! Each writer builds the file from the content it is given, so a test can check the parser's
//! output exactly. The Office, ODF and EPUB files carry the parts a reader expects (content types,
//! relationships, styles, master/layout/theme for PPTX); the PDFs use the standard Helvetica font
//! with WinAnsi encoding, one text object per line and exact xref offsets.
//!
//! The writers live in one private module per format family (PDF; OOXML: DOCX, PPTX, XLSX; ODT
//! and EPUB; markup: RTF, HTML) and are re-exported here; this module holds what the zip-based
//! writers share.

mod markup;
mod odf_epub;
mod ooxml;
mod pdf;

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

pub use markup::{write_html, write_rtf};
pub use odf_epub::{write_epub, write_odt};
pub use ooxml::{write_docx, write_pptx, write_pptx_with_notes, write_xlsx, write_zip_bomb_docx};
pub use pdf::{write_encrypted_pdf, write_flate_bomb_pdf, write_pdf, write_scanned_pdf};

/// Escapes text for XML content and attribute values.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const XML_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

/// Writes a zip with the given entries; an entry named `mimetype` is stored uncompressed.
fn write_zip(path: impl AsRef<Path>, entries: &[(String, Vec<u8>)]) -> io::Result<()> {
    let file = fs::File::create(path)?;
    let mut zip = ZipWriter::new(file);
    for (name, data) in entries {
        let method = if name == "mimetype" {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        zip.start_file(
            name.as_str(),
            SimpleFileOptions::default().compression_method(method),
        )
        .map_err(io::Error::other)?;
        zip.write_all(data)?;
    }
    zip.finish().map_err(io::Error::other)?;
    Ok(())
}

fn entry(name: &str, text: impl Into<String>) -> (String, Vec<u8>) {
    (name.to_string(), text.into().into_bytes())
}
