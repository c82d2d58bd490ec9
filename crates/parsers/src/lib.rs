//! lightrag-parsers: the bytes of an uploaded file become the text LightRAG indexes.
//!
//! # Design
//!
//! [`parse`] looks at the extension to pick a parser, then at the first bytes to check the
//! extension is honest (a PDF named `.docx` is refused with [`ParseError::ContentMismatch`]).
//! Each parser keeps the structure an answer needs: headings as markdown `#`, list items as
//! `- `, table rows as `cell | cell`, and for paged formats a location marker line before each
//! unit (see [`markers`] for the grammar: `[page N]`, `[slide N]`, `[sheet NAME!A1:D9]`).
//!
//! Bad files fail with a typed [`ParseError`] whose message is meant for the person who uploaded
//! the file. Resource use is bounded by [`Limits`]: input size; for zip-based formats every entry
//! is read through a cap and the total unpacked size is counted (zip bombs fail fast), and so is
//! what a PDF's compressed streams unpack to, before lopdf inflates them; parsers check a
//! deadline inside their loops. [`parse_guarded`] adds a thread, `catch_unwind` and a hard
//! timeout on top, so a hostile file can neither crash nor hang the caller: use it from servers.
//!
//! ```
//! use lightrag_parsers::{parse, Limits};
//! let parsed = parse("notes.md", b"# Title\n\nBody", &Limits::default()).unwrap();
//! assert_eq!(parsed.format, "text");
//! assert!(parsed.text.starts_with("# Title"));
//! ```
//!
//! Cargo features: `pdf` and `office` (default) add the PDF and zip-based parsers; `samples`
//! adds [`samples`], writers of real files of every format for tests.

#![deny(missing_docs)]

mod blocks;
mod error;
mod formats;
mod guard;
mod html;
pub mod markers;
#[cfg(feature = "office")]
mod office;
#[cfg(feature = "pdf")]
mod pdf;
mod rtf;
#[cfg(feature = "samples")]
pub mod samples;
mod text;

use std::sync::OnceLock;
use std::time::Duration;

pub use error::ParseError;
use formats::{Format, Sniffed};
pub(crate) use guard::Deadline;

/// Resource bounds for one parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: u64,
    /// Largest total a zip-based file, or the compressed streams of a PDF, may unpack to, in bytes.
    pub max_unpacked_bytes: u64,
    /// Most entries a zip-based file may have.
    pub max_archive_entries: usize,
    /// Wall-clock budget for one parse.
    pub timeout: Duration,
}

impl Default for Limits {
    /// 100 MiB in, 512 MiB unpacked, 10 000 entries, 60 s.
    fn default() -> Self {
        Limits {
            max_bytes: 100 * 1024 * 1024,
            max_unpacked_bytes: 512 * 1024 * 1024,
            max_archive_entries: 10_000,
            timeout: Duration::from_secs(60),
        }
    }
}

/// The text of a file, ready for chunking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Extracted text, with [`markers`] lines for paged formats.
    pub text: String,
    /// The parser used: `"pdf"`, `"docx"`, `"pptx"`, `"xlsx"`, `"odt"`, `"epub"`, `"rtf"`, `"html"`, `"text"`.
    pub format: &'static str,
    /// Pages, slides or sheets in the file; 0 for formats without such units.
    pub units: usize,
}

/// Extensions (lowercase, no dot) the enabled features can parse.
pub fn supported_extensions() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        formats::EXTENSIONS
            .iter()
            .filter(|(_, format)| format.enabled())
            .map(|(ext, _)| *ext)
            .collect()
    })
}

/// Whether a file name's extension (case-insensitive) is one this build parses.
pub fn is_supported(file_name: &str) -> bool {
    formats::format_for(&formats::extension_of(file_name)).is_some()
}

/// Parses on the calling thread, checking `limits.timeout` cooperatively inside loops.
///
/// A malformed file may still make a third-party parser panic or loop; servers should call
/// [`parse_guarded`].
pub fn parse(file_name: &str, bytes: &[u8], limits: &Limits) -> Result<Parsed, ParseError> {
    let deadline = Deadline::after(limits.timeout);
    parse_until(file_name, bytes, limits, &deadline)
}

/// Runs [`parse`] on its own thread under `catch_unwind`, waiting at most `limits.timeout`.
///
/// A parser that overruns is abandoned (its thread stops at its next deadline check) and
/// [`ParseError::Timeout`] returned; a panic becomes [`ParseError::Panicked`].
pub fn parse_guarded(
    file_name: &str,
    bytes: Vec<u8>,
    limits: &Limits,
) -> Result<Parsed, ParseError> {
    let name = file_name.to_string();
    let inner_limits = limits.clone();
    guard::run_guarded(limits.timeout, move |deadline| {
        parse_until(&name, &bytes, &inner_limits, deadline)
    })
}

/// Runs any parse function the way [`parse_guarded`] does; public only for tests of the guard.
#[doc(hidden)]
pub fn run_guarded_for_test<F>(timeout: Duration, f: F) -> Result<Parsed, ParseError>
where
    F: FnOnce() -> Result<Parsed, ParseError> + Send + 'static,
{
    guard::run_guarded(timeout, move |_| f())
}

fn parse_until(
    file_name: &str,
    bytes: &[u8],
    limits: &Limits,
    deadline: &Deadline,
) -> Result<Parsed, ParseError> {
    let extension = formats::extension_of(file_name);
    let format = formats::format_for(&extension).ok_or_else(|| ParseError::Unsupported {
        extension: extension.clone(),
    })?;
    if bytes.is_empty() {
        return Err(ParseError::Empty { format: None });
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(ParseError::TooLarge {
            size: bytes.len() as u64,
            limit: limits.max_bytes,
        });
    }
    let sniffed = formats::sniff(bytes);
    check_content(&extension, format, sniffed)?;
    let parsed = dispatch(&extension, format, bytes, limits, deadline)?;
    if parsed.text.trim().is_empty() {
        return Err(ParseError::Empty {
            format: Some(parsed.format),
        });
    }
    Ok(parsed)
}

/// Refuses an extension whose content is plainly another format.
fn check_content(extension: &str, format: Format, sniffed: Sniffed) -> Result<(), ParseError> {
    let mismatch = |actual: Sniffed| ParseError::ContentMismatch {
        extension: extension.to_string(),
        actual: actual.describe(),
    };
    match (format, sniffed) {
        (Format::Pdf, Sniffed::Pdf) | (Format::Rtf, Sniffed::Rtf) => Ok(()),
        (Format::Pdf, Sniffed::Unknown) => {
            Err(ParseError::corrupt("pdf", "it does not start with %PDF-"))
        }
        (Format::Rtf, Sniffed::Unknown) => {
            Err(ParseError::corrupt("rtf", "it does not start with {\\rtf"))
        }
        (Format::Docx | Format::Pptx | Format::Xlsx | Format::Odt | Format::Epub, Sniffed::Zip) => {
            Ok(())
        }
        (Format::Docx | Format::Pptx | Format::Xlsx, Sniffed::Ole) => Err(ParseError::Encrypted {
            format: format.name(),
        }),
        (
            Format::Docx | Format::Pptx | Format::Xlsx | Format::Odt | Format::Epub,
            Sniffed::Unknown,
        ) => Err(ParseError::corrupt(
            format.name(),
            "it is not a ZIP-based document",
        )),
        // An RTF or HTML file saved as .txt is still text.
        (Format::Text | Format::Html, Sniffed::Unknown | Sniffed::Rtf) => Ok(()),
        (_, other) => Err(mismatch(other)),
    }
}

// Only the PDF and zip-based parsers take limits beyond the input size.
#[cfg_attr(not(any(feature = "pdf", feature = "office")), allow(unused_variables))]
fn dispatch(
    extension: &str,
    format: Format,
    bytes: &[u8],
    limits: &Limits,
    deadline: &Deadline,
) -> Result<Parsed, ParseError> {
    match format {
        Format::Text => text::parse_text(extension, bytes, deadline),
        Format::Html => html::parse_html(bytes, deadline),
        Format::Rtf => rtf::parse_rtf(bytes, deadline),
        #[cfg(feature = "pdf")]
        Format::Pdf => pdf::parse_pdf(bytes, limits, deadline),
        #[cfg(feature = "office")]
        Format::Docx | Format::Pptx | Format::Xlsx | Format::Odt | Format::Epub => {
            office::parse_zip(extension, format, bytes, limits, deadline)
        }
        #[allow(unreachable_patterns)]
        _ => Err(ParseError::Unsupported {
            extension: extension.to_string(),
        }),
    }
}
