//! A small RTF reader: groups, control words, `\uN` with `\ucN` skipping, `\'hh` bytes in the
//! document's `\ansicpg` code page, and ignorable destinations (font tables, pictures, `\*`...).

use crate::blocks::tidy_lines;
use crate::{Deadline, ParseError, Parsed};

/// Destinations whose content is not document text.
const SKIPPED_DESTINATIONS: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "object",
    "header",
    "headerl",
    "headerr",
    "headerf",
    "footer",
    "footerl",
    "footerr",
    "footerf",
    "fldinst",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "mmathPr",
    "pgdsctbl",
    "revtbl",
    "filetbl",
    "bkmkstart",
    "bkmkend",
    "private",
    "datafield",
    "xe",
    "tc",
    "txe",
    "nonshppict",
    "sp",
    "sn",
    "sv",
    "userprops",
    "docvar",
    "template",
    "operator",
    "author",
    "title",
    "subject",
    "keywords",
    "comment",
    "doccomm",
    "company",
    "listtext",
    "pntext",
    "pntxta",
    "pntxtb",
    "fldtype",
    "ftnsep",
    "ftnsepc",
    "aftnsep",
    "atnid",
    "atnauthor",
    "annotation",
    "objdata",
    "blipuid",
    "wgrffmtfilter",
    "passwordhash",
];

#[derive(Clone, Copy)]
struct Group {
    skip: bool,
    uc: usize,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    out: String,
    pending: Vec<u8>,
    encoding: &'static encoding_rs::Encoding,
    stack: Vec<Group>,
    state: Group,
    /// Fallback characters still to drop after a `\uN`.
    skip_chars: usize,
}

/// Parses an RTF document into paragraphs (table cells joined by ` | `).
pub(crate) fn parse_rtf(bytes: &[u8], deadline: &Deadline) -> Result<Parsed, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if !bytes.starts_with(b"{\\rtf") {
        return Err(ParseError::corrupt("rtf", "it does not start with {\\rtf"));
    }
    let mut reader = Reader {
        bytes,
        pos: 0,
        out: String::new(),
        pending: Vec::new(),
        encoding: encoding_rs::WINDOWS_1252,
        stack: Vec::new(),
        state: Group { skip: false, uc: 1 },
        skip_chars: 0,
    };
    reader.run(deadline)?;
    let paragraphs: Vec<String> = reader
        .out
        .split("\n\n")
        .map(tidy_lines)
        .filter(|p| !p.is_empty())
        .collect();
    Ok(Parsed {
        text: paragraphs.join("\n\n"),
        format: "rtf",
        units: 0,
    })
}

impl Reader<'_> {
    fn run(&mut self, deadline: &Deadline) -> Result<(), ParseError> {
        while self.pos < self.bytes.len() {
            deadline.tick()?;
            let b = self.bytes[self.pos];
            self.pos += 1;
            match b {
                b'{' => {
                    self.flush_bytes();
                    if self.stack.len() >= 10_000 {
                        return Err(ParseError::corrupt("rtf", "groups nest too deeply"));
                    }
                    self.stack.push(self.state);
                }
                b'}' => {
                    self.flush_bytes();
                    match self.stack.pop() {
                        Some(state) => self.state = state,
                        None => break, // the document's closing brace; trailing bytes are ignored
                    }
                }
                b'\\' => self.control(),
                b'\r' | b'\n' => {}
                _ => self.literal(b),
            }
        }
        self.flush_bytes();
        Ok(())
    }

    fn control(&mut self) {
        let Some(&c) = self.bytes.get(self.pos) else {
            return;
        };
        if c.is_ascii_alphabetic() {
            let start = self.pos;
            while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_alphabetic() {
                self.pos += 1;
            }
            let word = String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned();
            let num_start = self.pos;
            if self.bytes.get(self.pos) == Some(&b'-') {
                self.pos += 1;
            }
            while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_digit() {
                self.pos += 1;
            }
            let param = std::str::from_utf8(&self.bytes[num_start..self.pos])
                .ok()
                .and_then(|s| s.parse::<i64>().ok());
            if self.bytes.get(self.pos) == Some(&b' ') {
                self.pos += 1;
            }
            self.word(&word, param);
            return;
        }
        self.pos += 1;
        match c {
            b'\'' => {
                let hex = self
                    .bytes
                    .get(self.pos..self.pos + 2)
                    .and_then(|h| std::str::from_utf8(h).ok());
                if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    self.pos += 2;
                    if self.skip_chars > 0 {
                        self.skip_chars -= 1;
                    } else if !self.state.skip {
                        self.pending.push(byte);
                    }
                }
            }
            b'*' => self.state.skip = true,
            b'\\' | b'{' | b'}' => self.literal(c),
            b'~' => self.emit("\u{a0}"),
            b'_' => self.emit("\u{2011}"),
            b'\r' | b'\n' => self.emit("\n\n"),
            _ => {} // \- optional hyphen, \| formula, \: index subentry
        }
    }

    fn word(&mut self, word: &str, param: Option<i64>) {
        match word {
            "par" | "sect" | "page" => self.emit("\n\n"),
            "line" => self.emit("\n"),
            "row" => {
                self.flush_bytes();
                let trimmed = self.out.trim_end_matches([' ', '|']).len();
                self.out.truncate(trimmed);
                self.emit("\n");
            }
            "cell" | "nestcell" => self.emit(" | "),
            "tab" => self.emit("\t"),
            "emdash" => self.emit("—"),
            "endash" => self.emit("–"),
            "bullet" => self.emit("•"),
            "lquote" => self.emit("‘"),
            "rquote" => self.emit("’"),
            "ldblquote" => self.emit("“"),
            "rdblquote" => self.emit("”"),
            "emspace" | "enspace" | "qmspace" => self.emit(" "),
            "uc" => self.state.uc = param.unwrap_or(1).clamp(0, 16) as usize,
            "u" => {
                if let Some(n) = param {
                    let code = if n < 0 { n + 65536 } else { n } as u32;
                    self.emit_unicode(code);
                    self.skip_chars = self.state.uc;
                }
            }
            "ansicpg" => {
                if let Some(encoding) = param.and_then(code_page) {
                    self.encoding = encoding;
                }
            }
            "mac" => self.encoding = encoding_rs::MACINTOSH,
            "bin" => {
                // Raw binary data of `param` bytes follows; never text.
                let n = param.unwrap_or(0).max(0) as usize;
                self.pos = self.pos.saturating_add(n).min(self.bytes.len());
            }
            w if SKIPPED_DESTINATIONS.contains(&w) => self.state.skip = true,
            _ => {}
        }
    }

    fn literal(&mut self, b: u8) {
        if self.skip_chars > 0 {
            self.skip_chars -= 1;
            return;
        }
        if self.state.skip {
            return;
        }
        if b.is_ascii() {
            self.flush_bytes();
            self.out.push(b as char);
        } else {
            self.pending.push(b);
        }
    }

    fn emit(&mut self, s: &str) {
        self.skip_chars = 0;
        if !self.state.skip {
            self.flush_bytes();
            self.out.push_str(s);
        }
    }

    fn emit_unicode(&mut self, code: u32) {
        if self.state.skip {
            return;
        }
        self.flush_bytes();
        // Surrogate pairs arrive as two \u words.
        if (0xDC00..0xE000).contains(&code) {
            if let Some(high) = self.out.pop() {
                if let Some(h) = high_surrogate_of(high) {
                    let combined = 0x10000 + ((h - 0xD800) << 10) + (code - 0xDC00);
                    self.out
                        .push(char::from_u32(combined).unwrap_or('\u{fffd}'));
                    return;
                }
                self.out.push(high);
            }
        }
        if (0xD800..0xDC00).contains(&code) {
            // Remember the high half in a private-use slot until the low half comes.
            self.out
                .push(char::from_u32(0xF0000 + code).unwrap_or('\u{fffd}'));
            return;
        }
        self.out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
    }

    fn flush_bytes(&mut self) {
        if !self.pending.is_empty() {
            let decoded = self
                .encoding
                .decode_without_bom_handling(&self.pending)
                .0
                .into_owned();
            self.out.push_str(&decoded);
            self.pending.clear();
        }
    }
}

fn high_surrogate_of(c: char) -> Option<u32> {
    let v = c as u32;
    (0xF0000 + 0xD800..0xF0000 + 0xDC00)
        .contains(&v)
        .then(|| v - 0xF0000)
}

fn code_page(cp: i64) -> Option<&'static encoding_rs::Encoding> {
    let label = match cp {
        437 | 850 | 1252 => "windows-1252",
        65001 => "utf-8",
        932 => "shift_jis",
        936 => "gbk",
        949 => "euc-kr",
        950 => "big5",
        874 => "windows-874",
        10000 => "macintosh",
        1250..=1258 => return encoding_rs::Encoding::for_label(format!("windows-{cp}").as_bytes()),
        _ => return None,
    };
    encoding_rs::Encoding::for_label(label.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn run(rtf: &str) -> String {
        parse_rtf(rtf.as_bytes(), &Deadline::after(Duration::from_secs(10)))
            .unwrap()
            .text
    }

    #[test]
    fn reads_text_and_skips_destinations() {
        let rtf = r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Times;}}{\colortbl;\red0\green0\blue0;}
{\*\generator Foo;}{\info{\title Hidden}}\pard Hello \b bold\b0  caf\'e9\par
Line\line two\tab end\par
{\pict\wmetafile8 0102abcdef}\u8364?\uc2\u8212 xx done\par
\trowd\cellx1000\cellx2000 a\cell b\cell\row}";
        assert_eq!(
            run(rtf),
            "Hello bold café\n\nLine\ntwo\tend\n\n€— done\n\na | b"
        );
    }

    #[test]
    fn code_pages_and_surrogates() {
        assert_eq!(run(r"{\rtf1\ansi\ansicpg1251 \'cf\'f0\'e8}"), "При");
        assert_eq!(run(r"{\rtf1\ansi\ansicpg932 \'82\'a0}"), "あ");
        assert_eq!(run(r"{\rtf1 \u-10179?\u-8704?}"), "😀");
    }
}
