//! The one error type of the crate: a failure class per variant, worded for the person who uploaded.

/// Why a file could not be turned into text.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ParseError {
    /// The extension is not one this build can parse.
    #[error("{}", unsupported_message(extension))]
    Unsupported {
        /// Lowercase extension without the dot (`""` if the name has none).
        extension: String,
    },
    /// Nothing to index: a 0-byte file (`format: None`) or no text after extraction.
    #[error("{}", empty_message(*format))]
    Empty {
        /// The parser that found no text; `None` for a 0-byte file.
        format: Option<&'static str>,
    },
    /// The file is bigger than `Limits::max_bytes`.
    #[error("the file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Input size in bytes.
        size: u64,
        /// `Limits::max_bytes`.
        limit: u64,
    },
    /// Password protection we cannot open.
    #[error("{}", encrypted_message(format))]
    Encrypted {
        /// The format named by the extension.
        format: &'static str,
    },
    /// A PDF whose pages carry no text (typically a scan).
    #[error("the PDF has no text layer (a scanned document?); OCR is not supported")]
    NoTextLayer,
    /// The bytes are damaged or not what the format requires.
    #[error("the {} file is damaged or invalid: {reason}", format.to_uppercase())]
    Corrupt {
        /// The format named by the extension.
        format: &'static str,
        /// What is wrong, for the message.
        reason: String,
    },
    /// The extension promises one format, the content is another.
    #[error("the file is named .{extension} but its content is {actual}")]
    ContentMismatch {
        /// The extension of the file name.
        extension: String,
        /// What the content is, as a phrase (`"a PDF"`).
        actual: &'static str,
    },
    /// A zip-based file that unpacks to more than `Limits::max_unpacked_bytes`.
    #[error("the archive unpacks to more than {limit} bytes; refusing it as a possible zip bomb")]
    ArchiveBomb {
        /// `Limits::max_unpacked_bytes`.
        limit: u64,
    },
    /// A PDF whose compressed streams unpack to more than `Limits::max_unpacked_bytes`.
    #[error("the PDF's compressed streams unpack to more than {limit} bytes; refusing it as a possible decompression bomb")]
    PdfBomb {
        /// `Limits::max_unpacked_bytes`.
        limit: u64,
    },
    /// A zip-based file with more entries than `Limits::max_archive_entries`.
    #[error("the archive has {count} entries, more than the limit of {limit}")]
    TooManyEntries {
        /// Entries in the archive.
        count: usize,
        /// `Limits::max_archive_entries`.
        limit: usize,
    },
    /// A text type whose content holds NUL bytes.
    #[error("the file is named .{extension} but holds binary data (NUL bytes), not text")]
    Binary {
        /// The extension of the file name.
        extension: String,
    },
    /// A text type that is not valid UTF-8 (nor UTF-16 with a BOM).
    #[error("the text is not valid UTF-8 (first bad byte at offset {offset}); save it as UTF-8 and try again")]
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// Parsing ran past `Limits::timeout`.
    #[error("parsing took longer than {seconds} s and was stopped")]
    Timeout {
        /// The budget that ran out.
        seconds: f64,
    },
    /// The parser crashed on this input (caught; the process is fine).
    #[error("the parser crashed on this file ({reason}); the file is probably malformed")]
    Panicked {
        /// The panic message.
        reason: String,
    },
}

impl ParseError {
    /// True when the file itself is at fault (as opposed to a limit or a crash of ours).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            ParseError::Timeout { .. } | ParseError::Panicked { .. } | ParseError::TooLarge { .. }
        )
    }

    pub(crate) fn corrupt(format: &'static str, reason: impl std::fmt::Display) -> Self {
        ParseError::Corrupt {
            format,
            reason: reason.to_string(),
        }
    }
}

fn unsupported_message(extension: &str) -> String {
    if extension.is_empty() {
        "the file name has no extension, so its type is unknown".to_string()
    } else {
        format!("files of type .{extension} are not supported")
    }
}

fn empty_message(format: Option<&str>) -> String {
    match format {
        None => "the file is empty (0 bytes)".to_string(),
        Some("text") => "the file contains only whitespace".to_string(),
        Some(f) => format!("the {} file contains no text to index", f.to_uppercase()),
    }
}

fn encrypted_message(format: &str) -> String {
    match format {
        "pdf" => "the PDF is encrypted; remove the password (e.g. print it to a new PDF) and upload it again"
            .to_string(),
        f => format!(
            "the {} file is password-protected (or a legacy binary Office file); save an unprotected copy and upload it again",
            f.to_uppercase()
        ),
    }
}
