//! Zip-based formats: DOCX, PPTX, XLSX (Office Open XML), ODT (OpenDocument) and EPUB.

mod archive;
mod docx;
mod epub;
mod odt;
mod pptx;
mod xlsx;
pub(crate) mod xml;

use archive::Archive;

use crate::formats::Format;
use crate::{Deadline, Limits, ParseError, Parsed};

/// What a zip archive's entries say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZipKind {
    Known(Format),
    OtherOpenDocument,
    Plain,
}

impl ZipKind {
    fn describe(self) -> &'static str {
        match self {
            ZipKind::Known(Format::Docx) => "a DOCX document",
            ZipKind::Known(Format::Pptx) => "a PPTX presentation",
            ZipKind::Known(Format::Xlsx) => "an XLSX workbook",
            ZipKind::Known(Format::Odt) => "an ODT document",
            ZipKind::Known(Format::Epub) => "an EPUB book",
            ZipKind::OtherOpenDocument => {
                "an OpenDocument file of another kind (spreadsheet, presentation...)"
            }
            _ => "a ZIP archive",
        }
    }
}

/// Opens the archive, checks its entries match the extension, and runs the format's parser.
pub(crate) fn parse_zip(
    extension: &str,
    format: Format,
    bytes: &[u8],
    limits: &Limits,
    deadline: &Deadline,
) -> Result<Parsed, ParseError> {
    let mut archive = Archive::open(bytes, limits, format.name())?;
    let kind = identify(&mut archive, deadline)?;
    let acceptable = match (format, kind) {
        (f, ZipKind::Known(k)) => f == k,
        // Without a mimetype entry, an ODT or EPUB is still readable from its main parts.
        (Format::Odt, ZipKind::Plain) => archive.has("content.xml"),
        (Format::Epub, ZipKind::Plain) => archive.has("META-INF/container.xml"),
        _ => false,
    };
    if !acceptable {
        if kind == ZipKind::Plain && archive.has("[Content_Types].xml") {
            return Err(ParseError::corrupt(
                format.name(),
                "the main document part is missing",
            ));
        }
        return Err(ParseError::ContentMismatch {
            extension: extension.to_string(),
            actual: kind.describe(),
        });
    }
    match format {
        Format::Docx => docx::parse(&mut archive, deadline),
        Format::Pptx => pptx::parse(&mut archive, deadline),
        Format::Xlsx => xlsx::parse(&mut archive, deadline),
        Format::Odt => odt::parse(&mut archive, deadline),
        Format::Epub => epub::parse(&mut archive, deadline),
        _ => Err(ParseError::Unsupported {
            extension: extension.to_string(),
        }),
    }
}

fn identify(archive: &mut Archive<'_>, deadline: &Deadline) -> Result<ZipKind, ParseError> {
    if archive.has("word/document.xml") {
        return Ok(ZipKind::Known(Format::Docx));
    }
    if archive.has("ppt/presentation.xml") {
        return Ok(ZipKind::Known(Format::Pptx));
    }
    if archive.has("xl/workbook.xml") {
        return Ok(ZipKind::Known(Format::Xlsx));
    }
    if archive.has("mimetype") {
        let mime = archive.read_text("mimetype", deadline)?.unwrap_or_default();
        let mime = mime.trim();
        return Ok(match mime {
            "application/vnd.oasis.opendocument.text" => ZipKind::Known(Format::Odt),
            "application/epub+zip" => ZipKind::Known(Format::Epub),
            m if m.starts_with("application/vnd.oasis.opendocument.") => ZipKind::OtherOpenDocument,
            _ => ZipKind::Plain,
        });
    }
    Ok(ZipKind::Plain)
}
