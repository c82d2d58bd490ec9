//! PDF text through pdf-extract: one `[page N]` marker per page that has text.

mod unpacked;

use std::panic::{catch_unwind, AssertUnwindSafe};

use pdf_extract::{Document, MediaBox, OutputDev, OutputError, Transform};

use crate::blocks::tidy_lines;
use crate::{markers, Deadline, Limits, ParseError, Parsed};

/// Extracts the text of every page; an encrypted file we cannot open fails with `Encrypted`, one
/// whose compressed streams unpack to more than `limits.max_unpacked_bytes` with `PdfBomb`.
pub(crate) fn parse_pdf(
    bytes: &[u8],
    limits: &Limits,
    deadline: &Deadline,
) -> Result<Parsed, ParseError> {
    // lopdf inflates object and cross-reference streams inside `load_mem`, so the raw bytes are
    // measured first; see `unpacked` for what each pass covers.
    unpacked::scan_raw(bytes, limits.max_unpacked_bytes, deadline)?;
    let doc = match Document::load_mem(bytes) {
        Ok(doc) => doc,
        Err(_) if has_encrypt_entry(bytes) => return Err(ParseError::Encrypted { format: "pdf" }),
        Err(e) => return Err(ParseError::corrupt("pdf", e)),
    };
    // lopdf already decrypted files whose user password is empty; what is still encrypted needs one.
    if doc.is_encrypted() {
        return Err(ParseError::Encrypted { format: "pdf" });
    }
    unpacked::check_loaded(&doc, limits.max_unpacked_bytes, deadline)?;
    let page_numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
    if page_numbers.is_empty() {
        return Err(ParseError::corrupt("pdf", "it has no pages"));
    }
    let mut sink = PageSink {
        deadline,
        pages: Vec::new(),
        current: None,
        last_end: 0.0,
        last_y: 0.0,
        height: 0.0,
        word_start: false,
    };
    // One pass over all pages; if it fails part-way, the remaining pages are tried one by one.
    let whole = catch_unwind(AssertUnwindSafe(|| {
        pdf_extract::output_doc(&doc, &mut sink)
    }));
    if let Some(e) = deadline_hit(deadline, &whole) {
        return Err(e);
    }
    if !matches!(whole, Ok(Ok(()))) {
        sink.end_current();
        let done = sink.pages.iter().map(|(n, _)| *n).max().unwrap_or(0);
        for &n in page_numbers.iter().filter(|&&n| n > done) {
            deadline.check()?;
            sink.current = None;
            let page = catch_unwind(AssertUnwindSafe(|| {
                pdf_extract::output_doc_page(&doc, &mut sink, n)
            }));
            if let Some(e) = deadline_hit(deadline, &page) {
                return Err(e);
            }
            sink.end_current();
        }
    }
    let mut text = String::new();
    for (n, raw) in &sink.pages {
        let body = tidy_lines(raw);
        if body.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&markers::page(*n as usize));
        text.push('\n');
        text.push_str(&body);
    }
    if text.is_empty() {
        return Err(ParseError::NoTextLayer);
    }
    Ok(Parsed {
        text,
        format: "pdf",
        units: page_numbers.len(),
    })
}

fn deadline_hit<T>(
    deadline: &Deadline,
    result: &std::thread::Result<Result<T, OutputError>>,
) -> Option<ParseError> {
    matches!(result, Ok(Err(_)))
        .then(|| deadline.check().err())
        .flatten()
}

/// Looks for `/Encrypt` in the file's last 4 KiB (the trailer) or anywhere in small files.
fn has_encrypt_entry(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    tail.windows(8).any(|w| w == b"/Encrypt")
}

/// Collects characters per page, placing spaces and line breaks by position (as pdf-extract's
/// plain-text output does).
struct PageSink<'d> {
    deadline: &'d Deadline,
    pages: Vec<(u32, String)>,
    current: Option<(u32, String)>,
    last_end: f64,
    last_y: f64,
    height: f64,
    /// The next character starts a text-showing operation: place it by position.
    word_start: bool,
}

impl PageSink<'_> {
    fn end_current(&mut self) {
        if let Some(page) = self.current.take() {
            self.pages.push(page);
        }
    }
}

impl OutputDev for PageSink<'_> {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        _: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.end_current();
        self.current = Some((page_num, String::new()));
        self.height = media_box.ury - media_box.lly;
        self.last_end = f64::MAX;
        self.last_y = 0.0;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.end_current();
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        ch: &str,
    ) -> Result<(), OutputError> {
        if self.deadline.check().is_err() {
            return Err(OutputError::FormatError(std::fmt::Error));
        }
        let Some((_, text)) = self.current.as_mut() else {
            return Ok(());
        };
        let (x, y) = (trm.m31, self.height - trm.m32);
        let scaled_x = font_size * trm.m11 + font_size * trm.m21;
        let scaled_y = font_size * trm.m12 + font_size * trm.m22;
        let size = (scaled_x * scaled_y).abs().sqrt();
        if self.word_start && !text.is_empty() {
            let dy = (y - self.last_y).abs();
            if dy > size * 1.5 || (x < self.last_end && dy > size * 0.5) {
                text.push('\n');
            } else if x > self.last_end + size * 0.1 {
                text.push(' ');
            }
        }
        self.word_start = false;
        text.push_str(ch);
        self.last_y = y;
        self.last_end = x + width * size;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.word_start = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}
