//! A small, tolerant HTML (and XHTML) to text converter: no DOM, one pass over the tags.
//!
//! Skips `head`, `script`, `style` and other non-content elements, turns block elements into
//! paragraphs, `h1`..`h6` into markdown headings, `li` into `- ` items and table rows into
//! `cell | cell` lines, and decodes character references.

mod entities;

pub(crate) use entities::decode_entities;

use crate::blocks::Blocks;
use crate::{text, Deadline, ParseError, Parsed};

/// Parses an HTML file.
pub(crate) fn parse_html(bytes: &[u8], deadline: &Deadline) -> Result<Parsed, ParseError> {
    let source = text::decode_lenient(bytes);
    let mut blocks = Blocks::new();
    html_into_blocks(&source, &mut blocks, deadline)?;
    Ok(Parsed {
        text: blocks.finish(),
        format: "html",
        units: 0,
    })
}

/// Elements whose whole content is dropped.
const SKIPPED: &[&str] = &[
    "head", "title", "template", "svg", "math", "object", "iframe", "noscript", "select",
];
/// Elements whose content is raw text up to the matching end tag, dropped as well.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "xmp", "noembed", "noframes"];
/// Elements that end the current paragraph.
const BLOCK: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "nav",
    "blockquote",
    "figure",
    "figcaption",
    "address",
    "form",
    "fieldset",
    "details",
    "summary",
    "dl",
    "dt",
    "dd",
    "hr",
    "body",
    "html",
    "center",
    "caption",
    "legend",
    "hgroup",
    "search",
    "option",
];

#[derive(Default)]
struct Table {
    row: Vec<String>,
    cell: Option<String>,
}

struct Converter<'b> {
    blocks: &'b mut Blocks,
    buf: String,
    heading: Option<usize>,
    list_depth: usize,
    pre_depth: usize,
    skip_depth: usize,
    tables: Vec<Table>,
}

/// Converts HTML source into `blocks` (EPUB chapters share one `Blocks`).
pub(crate) fn html_into_blocks(
    source: &str,
    blocks: &mut Blocks,
    deadline: &Deadline,
) -> Result<(), ParseError> {
    let mut conv = Converter {
        blocks,
        buf: String::new(),
        heading: None,
        list_depth: 0,
        pre_depth: 0,
        skip_depth: 0,
        tables: Vec::new(),
    };
    let bytes = source.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        deadline.tick()?;
        let Some(lt) = source[pos..].find('<').map(|i| pos + i) else {
            conv.text(&source[pos..]);
            break;
        };
        if lt > pos {
            conv.text(&source[pos..lt]);
        }
        let rest = &source[lt..];
        if let Some(body) = rest.strip_prefix("<!--") {
            pos = body.find("-->").map_or(bytes.len(), |i| lt + 4 + i + 3);
        } else if let Some(body) = rest.strip_prefix("<![CDATA[") {
            let end = body.find("]]>").unwrap_or(body.len());
            conv.raw_text(&body[..end]);
            pos = (lt + 9 + end + 3).min(bytes.len());
        } else if rest.starts_with("<!") || rest.starts_with("<?") {
            pos = rest.find('>').map_or(bytes.len(), |i| lt + i + 1);
        } else if let Some((tag, end)) = read_tag(rest) {
            pos = lt + end;
            if !tag.closing && RAW_TEXT.contains(&tag.name.as_str()) && !tag.self_closing {
                pos = skip_raw_text(source, pos, &tag.name);
            } else {
                conv.tag(&tag);
            }
        } else {
            // A '<' that starts no tag is text.
            conv.text("<");
            pos = lt + 1;
        }
    }
    conv.flush();
    while !conv.tables.is_empty() {
        conv.end_table();
    }
    Ok(())
}

struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
}

/// Reads `<name ...>` or `</name>` at the start of `s`; returns the tag and its byte length.
fn read_tag(s: &str) -> Option<(Tag, usize)> {
    let b = s.as_bytes();
    let mut i = 1;
    let closing = b.get(1) == Some(&b'/');
    if closing {
        i += 1;
    }
    let start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b':' | b'-' | b'_')) {
        i += 1;
    }
    if i == start || !b[start].is_ascii_alphabetic() {
        return None;
    }
    let full = s[start..i].to_ascii_lowercase();
    let name = full.rsplit(':').next().unwrap_or(&full).to_string();
    // Skip attributes, honouring quotes.
    let mut quote: Option<u8> = None;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b[i]),
            (None, b'>') => {
                let self_closing = i > 0 && b[i - 1] == b'/';
                return Some((
                    Tag {
                        name,
                        closing,
                        self_closing,
                    },
                    i + 1,
                ));
            }
            _ => {}
        }
        i += 1;
    }
    Some((
        Tag {
            name,
            closing,
            self_closing: false,
        },
        b.len(),
    ))
}

/// Position just past `</name ...>` after `pos`, or the end of input.
fn skip_raw_text(source: &str, pos: usize, name: &str) -> usize {
    let lower = source[pos..].to_ascii_lowercase();
    let needle = format!("</{name}");
    match lower.find(&needle) {
        Some(i) => {
            let after = pos + i;
            source[after..]
                .find('>')
                .map_or(source.len(), |j| after + j + 1)
        }
        None => source.len(),
    }
}

impl Converter<'_> {
    fn text(&mut self, raw: &str) {
        if self.skip_depth > 0 {
            return;
        }
        let decoded = decode_entities(raw);
        self.raw_text(&decoded);
    }

    fn raw_text(&mut self, text: &str) {
        if self.skip_depth > 0 {
            return;
        }
        let pre = self.pre_depth > 0;
        let target = match self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
            Some(cell) => cell,
            None => &mut self.buf,
        };
        if pre {
            target.push_str(text);
            return;
        }
        for (i, word) in text
            .split(|c: char| c.is_whitespace() && c != '\u{a0}')
            .enumerate()
        {
            if i > 0 && !target.is_empty() && !target.ends_with([' ', '\n']) {
                target.push(' ');
            }
            target.push_str(&word.replace('\u{a0}', " "));
        }
    }

    fn tag(&mut self, tag: &Tag) {
        let name = tag.name.as_str();
        if name == "body" && !tag.closing {
            self.skip_depth = 0;
        }
        if SKIPPED.contains(&name) {
            if tag.closing {
                self.skip_depth = self.skip_depth.saturating_sub(1);
            } else if !tag.self_closing {
                self.skip_depth += 1;
            }
            return;
        }
        if self.skip_depth > 0 {
            return;
        }
        let in_cell = self.tables.last().is_some_and(|t| t.cell.is_some());
        match name {
            "br" => {
                if in_cell {
                    self.raw_text(" ");
                } else {
                    self.buf.push('\n');
                }
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" if !in_cell => {
                self.flush();
                self.heading = (!tag.closing).then(|| usize::from(name.as_bytes()[1] - b'0'));
            }
            "ul" | "ol" | "menu" if !in_cell => {
                self.flush();
                if tag.closing {
                    self.list_depth = self.list_depth.saturating_sub(1);
                } else if !tag.self_closing {
                    self.list_depth += 1;
                }
            }
            "pre" | "listing" if !in_cell => {
                self.flush();
                if tag.closing {
                    self.pre_depth = self.pre_depth.saturating_sub(1);
                } else if !tag.self_closing {
                    self.pre_depth += 1;
                }
            }
            "table" => {
                if tag.closing {
                    self.end_table();
                } else if !tag.self_closing {
                    self.flush();
                    self.tables.push(Table::default());
                }
            }
            "tr" if !self.tables.is_empty() => {
                self.end_cell();
                self.end_row();
            }
            "td" | "th" if !self.tables.is_empty() => {
                self.end_cell();
                if !tag.closing {
                    if let Some(table) = self.tables.last_mut() {
                        table.cell = Some(String::new());
                    }
                }
            }
            _ if in_cell && (BLOCK.contains(&name) || name == "li") => self.raw_text(" "),
            _ if name == "li" || BLOCK.contains(&name) => self.flush(),
            _ => {}
        }
    }

    /// Emits the pending inline text as a heading, list item or paragraph.
    fn flush(&mut self) {
        let text = std::mem::take(&mut self.buf);
        if text.trim().is_empty() {
            return;
        }
        if let Some(level) = self.heading {
            self.blocks.heading(level, &text);
        } else if self.list_depth > 0 {
            self.blocks.list_item(self.list_depth, &text);
        } else {
            self.blocks.paragraph(&text);
        }
    }

    fn end_cell(&mut self) {
        if let Some(table) = self.tables.last_mut() {
            if let Some(cell) = table.cell.take() {
                table.row.push(cell);
            }
        }
    }

    fn end_row(&mut self) {
        let depth = self.tables.len();
        let Some(table) = self.tables.last_mut() else {
            return;
        };
        let row = std::mem::take(&mut table.row);
        if row.is_empty() {
            return;
        }
        if depth > 1 {
            // A nested table's rows go into the enclosing cell.
            let line = row.iter().map(|c| c.trim()).collect::<Vec<_>>().join(" | ");
            if let Some(cell) = self.tables[depth - 2].cell.as_mut() {
                if !cell.is_empty() {
                    cell.push_str("; ");
                }
                cell.push_str(&line);
            }
        } else {
            self.blocks.table_row(&row);
        }
    }

    fn end_table(&mut self) {
        if self.tables.is_empty() {
            return;
        }
        self.end_cell();
        self.end_row();
        self.tables.pop();
        if self.tables.is_empty() {
            self.flush();
            self.blocks.break_run();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn convert(html: &str) -> String {
        let mut blocks = Blocks::new();
        html_into_blocks(html, &mut blocks, &Deadline::after(Duration::from_secs(10))).unwrap();
        blocks.finish()
    }

    #[test]
    fn structure_survives() {
        let html = "<html><head><title>T</title><style>p{}</style></head><body>\
            <h1>Main &amp; more</h1><p>Hello <b>big</b>\n world&nbsp;!</p><script>var x = '<p>';</script>\
            <ul><li>one</li><li>two<ul><li>deep</li></ul></li></ul>\
            <table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2<br>3</td></tr></table>\
            <div>caf&eacute; &#233; &#x1F600; &bogus;</div><!-- gone --></body></html>";
        assert_eq!(
            convert(html),
            "# Main & more\n\nHello big world !\n\n- one\n- two\n  - deep\n\na | b\n1 | 2 3\n\ncafé é 😀 &bogus;"
        );
    }

    #[test]
    fn tolerates_broken_markup() {
        assert_eq!(convert("<p>a < b <p>c"), "a < b\n\nc");
        assert_eq!(convert("<div>x<table><tr><td>y"), "x\n\ny");
        assert_eq!(convert("<p>unterminated <b"), "unterminated");
        assert_eq!(
            convert("<head><meta charset=utf-8><body>visible"),
            "visible"
        );
    }
}
