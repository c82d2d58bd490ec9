//! Which extension maps to which parser, and what the first bytes of a file say it really is.

/// A parser this crate has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Pdf,
    Docx,
    Pptx,
    Xlsx,
    Odt,
    Epub,
    Rtf,
    Html,
    Text,
}

impl Format {
    /// Short name reported in [`crate::Parsed::format`].
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Pptx => "pptx",
            Format::Xlsx => "xlsx",
            Format::Odt => "odt",
            Format::Epub => "epub",
            Format::Rtf => "rtf",
            Format::Html => "html",
            Format::Text => "text",
        }
    }

    /// Whether the enabled cargo features can parse this format.
    pub(crate) fn enabled(self) -> bool {
        match self {
            Format::Pdf => cfg!(feature = "pdf"),
            Format::Docx | Format::Pptx | Format::Xlsx | Format::Odt | Format::Epub => {
                cfg!(feature = "office")
            }
            Format::Rtf | Format::Html | Format::Text => true,
        }
    }
}

/// Every accepted extension (lowercase, no dot) and its parser: LightRAG 1.5.7's list plus source code.
pub(crate) const EXTENSIONS: &[(&str, Format)] = &[
    ("pdf", Format::Pdf),
    ("docx", Format::Docx),
    ("pptx", Format::Pptx),
    ("xlsx", Format::Xlsx),
    ("odt", Format::Odt),
    ("epub", Format::Epub),
    ("rtf", Format::Rtf),
    ("html", Format::Html),
    ("htm", Format::Html),
    ("xhtml", Format::Html),
    // Prose and markup.
    ("txt", Format::Text),
    ("text", Format::Text),
    ("md", Format::Text),
    ("markdown", Format::Text),
    ("mdx", Format::Text),
    ("rst", Format::Text),
    ("log", Format::Text),
    ("tex", Format::Text),
    ("latex", Format::Text),
    ("bib", Format::Text),
    // Data and configuration.
    ("csv", Format::Text),
    ("tsv", Format::Text),
    ("json", Format::Text),
    ("jsonl", Format::Text),
    ("xml", Format::Text),
    ("yaml", Format::Text),
    ("yml", Format::Text),
    ("toml", Format::Text),
    ("ini", Format::Text),
    ("cfg", Format::Text),
    ("conf", Format::Text),
    ("properties", Format::Text),
    ("env", Format::Text),
    ("sql", Format::Text),
    // Scripts and source code.
    ("sh", Format::Text),
    ("bat", Format::Text),
    ("ps1", Format::Text),
    ("py", Format::Text),
    ("js", Format::Text),
    ("ts", Format::Text),
    ("jsx", Format::Text),
    ("tsx", Format::Text),
    ("java", Format::Text),
    ("c", Format::Text),
    ("cpp", Format::Text),
    ("h", Format::Text),
    ("hpp", Format::Text),
    ("cs", Format::Text),
    ("go", Format::Text),
    ("rs", Format::Text),
    ("rb", Format::Text),
    ("php", Format::Text),
    ("swift", Format::Text),
    ("kt", Format::Text),
    ("scala", Format::Text),
    ("r", Format::Text),
    ("m", Format::Text),
    ("lua", Format::Text),
    ("pl", Format::Text),
    ("css", Format::Text),
    ("scss", Format::Text),
    ("less", Format::Text),
    ("vue", Format::Text),
    ("svelte", Format::Text),
];

/// The extension of a file name, lowercase, without the dot (`""` when there is none).
pub(crate) fn extension_of(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() || base.starts_with('.') => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// The enabled parser for an extension.
pub(crate) fn format_for(extension: &str) -> Option<Format> {
    EXTENSIONS
        .iter()
        .find(|(ext, format)| *ext == extension && format.enabled())
        .map(|(_, format)| *format)
}

/// What the leading bytes say a file is, independent of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Pdf,
    /// A zip archive; which zip-based format is decided from its entries.
    Zip,
    Rtf,
    /// An OLE compound file: legacy .doc/.xls/.ppt or a password-protected OOXML file.
    Ole,
    Unknown,
}

impl Sniffed {
    /// The phrase used in [`crate::ParseError::ContentMismatch`].
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Sniffed::Pdf => "a PDF",
            Sniffed::Zip => "a ZIP archive",
            Sniffed::Rtf => "an RTF document",
            Sniffed::Ole => "a legacy binary Office (OLE) file",
            Sniffed::Unknown => "something else",
        }
    }
}

/// Looks at magic bytes: `%PDF-` (within the first KiB, as readers allow), `PK\3\4`, `{\rtf`, OLE.
pub(crate) fn sniff(bytes: &[u8]) -> Sniffed {
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        Sniffed::Pdf
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Sniffed::Zip
    } else if skip_bom(bytes).starts_with(b"{\\rtf") {
        Sniffed::Rtf
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Sniffed::Ole
    } else {
        Sniffed::Unknown
    }
}

fn skip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_unique_and_lowercase() {
        for (i, (ext, _)) in EXTENSIONS.iter().enumerate() {
            assert_eq!(*ext, ext.to_ascii_lowercase());
            assert!(
                !EXTENSIONS[..i].iter().any(|(e, _)| e == ext),
                "duplicate {ext}"
            );
        }
    }

    #[test]
    fn extension_parsing() {
        assert_eq!(extension_of("a/b/Report.PDF"), "pdf");
        assert_eq!(extension_of("archive.tar.gz"), "gz");
        assert_eq!(extension_of("README"), "");
        assert_eq!(extension_of(".env"), "env");
        assert_eq!(extension_of("dir.d\\file"), "");
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Sniffed::Pdf);
        assert_eq!(sniff(b"PK\x03\x04rest"), Sniffed::Zip);
        assert_eq!(sniff(b"{\\rtf1\\ansi}"), Sniffed::Rtf);
        assert_eq!(sniff(b"hello"), Sniffed::Unknown);
    }
}
