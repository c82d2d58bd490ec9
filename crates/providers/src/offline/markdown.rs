//! Turns a chunk (plain text or Markdown) into clean text blocks: headings, paragraphs, list
//! items and table cells, with the Markdown syntax removed so it never leaks into names or
//! descriptions.
//!
//! Line handling: blank lines end a paragraph; fenced code blocks, rules and link reference
//! definitions are skipped; `#` headings (and setext underlines) become heading blocks; `>`
//! quote markers and list markers (`-`, `*`, `+`, `•`, `1.`, `1)`, task boxes) are stripped;
//! table rows become one block per cell. A single line break inside a paragraph is treated as
//! wrapping (the lines are joined) when the previous line is long (40+ characters) and the new
//! line is not a `Label: value` line; otherwise it separates blocks, so one-line titles and
//! `Key: value` lines stand alone.
//!
//! Inline handling: emphasis markers (`*`, `_`, `~~`) and backticks are dropped (intra-word
//! underscores are kept), links and images keep their text, footnote references, HTML tags and
//! bare URLs are removed, and a few HTML entities are decoded.

/// What kind of Markdown element a block came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Heading,
    Paragraph,
    ListItem,
    TableCell,
}

/// A block of clean text (whitespace collapsed, Markdown removed).
#[derive(Debug, Clone)]
pub struct Block {
    pub text: String,
    pub kind: BlockKind,
    /// The block is a single source line (a candidate title when it is a paragraph).
    pub single_line: bool,
}

/// A line this long or longer that is followed by another text line is taken as wrapped prose.
const WRAP_MIN_CHARS: usize = 40;

struct Builder {
    blocks: Vec<Block>,
    current: Option<Block>,
    last_line_chars: usize,
}

impl Builder {
    fn flush(&mut self) {
        if let Some(mut block) = self.current.take() {
            block.text = collapse_whitespace(&block.text);
            if block.text.chars().any(char::is_alphanumeric) {
                self.blocks.push(block);
            }
        }
    }

    fn start(&mut self, kind: BlockKind, content: &str) {
        self.flush();
        let mut text = String::with_capacity(content.len());
        clean_inline(content, &mut text);
        self.current = Some(Block {
            text,
            kind,
            single_line: true,
        });
    }
}

/// Splits a chunk into clean blocks, in order.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut b = Builder {
        blocks: Vec::new(),
        current: None,
        last_line_chars: 0,
    };
    let mut fence: Option<&str> = None;
    for raw in text.lines() {
        let mut line = raw.trim();
        if let Some(marker) = fence {
            if line.starts_with(marker) {
                fence = None;
            }
            continue;
        }
        if line.starts_with("```") || line.starts_with("~~~") {
            b.flush();
            fence = Some(&line[..3]);
            continue;
        }
        while let Some(rest) = line.strip_prefix('>') {
            line = rest.trim_start();
        }
        if line.is_empty() {
            b.flush();
            continue;
        }
        if is_rule(line) {
            // A setext underline turns the one-line paragraph above it into a heading.
            if let Some(cur) = b.current.as_mut() {
                if cur.kind == BlockKind::Paragraph
                    && cur.single_line
                    && (line.starts_with('=') || line.starts_with('-'))
                {
                    cur.kind = BlockKind::Heading;
                }
            }
            b.flush();
            continue;
        }
        if let Some(title) = heading(line) {
            b.start(BlockKind::Heading, title);
            b.flush();
            continue;
        }
        if line.starts_with('[') && line.contains("]:") {
            b.flush();
            continue;
        }
        if line.starts_with('|') || line.matches('|').count() >= 2 {
            b.flush();
            if !line
                .chars()
                .all(|c| matches!(c, '|' | '-' | ':' | ' ' | '+'))
            {
                for cell in line.split('|') {
                    b.start(BlockKind::TableCell, cell.trim());
                    b.flush();
                }
            }
            continue;
        }
        if let Some(item) = list_item(line) {
            b.start(BlockKind::ListItem, item);
            b.last_line_chars = line.chars().count();
            continue;
        }
        let joins = b.last_line_chars >= WRAP_MIN_CHARS
            && !is_label_line(line)
            && matches!(
                b.current.as_ref().map(|c| c.kind),
                Some(BlockKind::Paragraph | BlockKind::ListItem)
            );
        if joins {
            if let Some(cur) = b.current.as_mut() {
                cur.text.push(' ');
                clean_inline(line, &mut cur.text);
                cur.single_line = false;
            }
        } else {
            b.start(BlockKind::Paragraph, line);
        }
        b.last_line_chars = line.chars().count();
    }
    b.flush();
    b.blocks
}

/// A `Label: value` line ("Founded: 1949", "Chief executive: Jonas Feld"): a capitalised label
/// of one to four words and a colon.
fn is_label_line(line: &str) -> bool {
    let Some(colon) = line.get(..40).unwrap_or(line).find(':') else {
        return false;
    };
    let label = &line[..colon];
    line.starts_with(char::is_uppercase)
        && line[colon + 1..].starts_with(' ')
        && (1..=4).contains(&label.split_whitespace().count())
        && label
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '-')
}

/// `---`, `***`, `___`, `===` (three or more, spaces allowed).
fn is_rule(line: &str) -> bool {
    let marks = line.chars().filter(|c| !c.is_whitespace()).count();
    marks >= 3
        && line
            .chars()
            .all(|c| c.is_whitespace() || matches!(c, '-' | '*' | '_' | '='))
        && line
            .chars()
            .filter(|c| !c.is_whitespace())
            .all(|c| line.trim_start().starts_with(c))
}

/// The text of an ATX heading (`# Title #`).
fn heading(line: &str) -> Option<&str> {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    if hashes == 0 || hashes > 6 {
        return None;
    }
    let rest = &line[hashes..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some(rest.trim().trim_end_matches('#').trim_end())
}

/// The content of a list item, without its marker and task box.
fn list_item(line: &str) -> Option<&str> {
    let mut rest = None;
    for marker in ["- ", "* ", "+ ", "• ", "– "] {
        if let Some(r) = line.strip_prefix(marker) {
            rest = Some(r);
            break;
        }
    }
    if rest.is_none() {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        if (1..=3).contains(&digits) {
            let after = &line[digits..];
            if let Some(r) = after
                .strip_prefix(". ")
                .or_else(|| after.strip_prefix(") "))
            {
                rest = Some(r);
            }
        }
    }
    let rest = rest?.trim_start();
    for box_ in ["[ ] ", "[x] ", "[X] "] {
        if let Some(r) = rest.strip_prefix(box_) {
            return Some(r);
        }
    }
    Some(rest)
}

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Appends `s` to `out` without inline Markdown.
pub fn clean_inline(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let next = bytes.get(i + 1).copied();
        match bytes[i] {
            b'\\' if next.is_some_and(|n| n.is_ascii_punctuation()) => {
                out.push(char::from(bytes[i + 1]));
                i += 2;
            }
            b'!' if next == Some(b'[') => match link(s, i + 1) {
                Some((text, end)) => {
                    clean_inline(text, out);
                    i = end;
                }
                None => {
                    out.push('!');
                    i += 1;
                }
            },
            b'[' => match link(s, i) {
                Some((text, end)) => {
                    clean_inline(text, out);
                    i = end;
                }
                None => {
                    out.push('[');
                    i += 1;
                }
            },
            b'`' | b'*' => i += 1,
            b'~' if next == Some(b'~') => i += 2,
            b'_' => {
                let prev_alnum = out.chars().next_back().is_some_and(char::is_alphanumeric);
                let next_alnum = s[i + 1..].chars().next().is_some_and(char::is_alphanumeric);
                if prev_alnum && next_alnum {
                    out.push('_');
                }
                i += 1;
            }
            b'<' => match tag_end(bytes, i) {
                Some(end) => {
                    out.push(' ');
                    i = end;
                }
                None => {
                    out.push('<');
                    i += 1;
                }
            },
            b'&' => {
                let rest = &s[i..];
                let decoded = [
                    ("&amp;", '&'),
                    ("&nbsp;", ' '),
                    ("&quot;", '"'),
                    ("&#39;", '\''),
                    ("&apos;", '\''),
                ]
                .into_iter()
                .find(|(entity, _)| rest.starts_with(entity));
                match decoded {
                    Some((entity, c)) => {
                        out.push(c);
                        i += entity.len();
                    }
                    None => {
                        out.push('&');
                        i += 1;
                    }
                }
            }
            b'h' | b'H' | b'w' | b'W'
                if !out.chars().next_back().is_some_and(char::is_alphanumeric)
                    && is_url_start(&s[i..]) =>
            {
                i += s[i..].find(char::is_whitespace).unwrap_or(s.len() - i);
            }
            _ => {
                let c = s[i..].chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
}

fn is_url_start(s: &str) -> bool {
    let head = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    head.starts_with("http://") || head.starts_with("https://") || head.starts_with("www.")
}

/// A link or image at `open` (`[text](url)`, `[text][ref]`, `[^note]`): its text and the byte
/// after it. Footnote references have empty text.
fn link(s: &str, open: usize) -> Option<(&str, usize)> {
    let close = open + 1 + s[open + 1..].find(']')?;
    let text = &s[open + 1..close];
    let after = close + 1;
    if text.starts_with('^') {
        return Some(("", after));
    }
    match s.as_bytes().get(after) {
        Some(b'(') => {
            let end = after + 1 + s[after + 1..].find(')')?;
            Some((text, end + 1))
        }
        Some(b'[') => {
            let end = after + 1 + s[after + 1..].find(']')?;
            Some((text, end + 1))
        }
        _ => None,
    }
}

/// The byte after an HTML tag or comment starting at `open`, if it is one.
fn tag_end(bytes: &[u8], open: usize) -> Option<usize> {
    let first = *bytes.get(open + 1)?;
    if !(first.is_ascii_alphabetic() || first == b'/' || first == b'!') {
        return None;
    }
    for (k, &b) in bytes.iter().enumerate().skip(open + 1).take(300) {
        match b {
            b'>' => return Some(k + 1),
            b'<' | b'\n' => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<(String, BlockKind)> {
        blocks(s).into_iter().map(|b| (b.text, b.kind)).collect()
    }

    #[test]
    fn inline_markdown_is_removed() {
        let mut out = String::new();
        clean_inline(
            "**Bold** and _em_ with `code`, a [Vell Institute](https://x.org/a_b) link, \
             ![Map of Oslo](map.png), a note[^1], <b>tag</b>, snake_case, AT&amp;T, \
             see https://example.org/Page now ~~gone~~",
            &mut out,
        );
        assert_eq!(
            out,
            "Bold and em with code, a Vell Institute link, Map of Oslo, a note,  tag , \
             snake_case, AT&T, see  now gone"
        );
    }

    #[test]
    fn block_structure() {
        let md = "# The Vell Institute #\n\nIntro line that is long enough to wrap onto\n\
                  the next line.\n\n- **First** item\n2. Second item\n\n| Name | Year |\n\
                  |---|---|\n| Oslo | 1962 |\n\n```\nCode Block Here\n```\nTitle\n=====\n\
                  > Quoted text";
        assert_eq!(
            texts(md),
            vec![
                ("The Vell Institute".into(), BlockKind::Heading),
                (
                    "Intro line that is long enough to wrap onto the next line.".into(),
                    BlockKind::Paragraph
                ),
                ("First item".into(), BlockKind::ListItem),
                ("Second item".into(), BlockKind::ListItem),
                ("Name".into(), BlockKind::TableCell),
                ("Year".into(), BlockKind::TableCell),
                ("Oslo".into(), BlockKind::TableCell),
                ("1962".into(), BlockKind::TableCell),
                ("Title".into(), BlockKind::Heading),
                ("Quoted text".into(), BlockKind::Paragraph),
            ]
        );
    }

    #[test]
    fn short_lines_and_label_lines_stand_alone() {
        assert_eq!(
            texts(
                "Founded: 1962\nFounders: Oskar Brand and a group of Port Ostra merchants\n\
                 Chief executive: Jonas Feld"
            ),
            vec![
                ("Founded: 1962".into(), BlockKind::Paragraph),
                (
                    "Founders: Oskar Brand and a group of Port Ostra merchants".into(),
                    BlockKind::Paragraph
                ),
                ("Chief executive: Jonas Feld".into(), BlockKind::Paragraph),
            ]
        );
    }
}
