//! Where a chunk sits in its file. Parsed PDFs, slide decks and workbooks carry marker lines
//! (`[page 3]`, `[slide 2]`, `[sheet Sales!A1:D40]`, then `row 12: ...` lines); chunking keeps
//! them, every chunk that starts inside a unit gets that unit's marker in front, and references
//! read the markers back to name the pages, slides or cells an answer comes from.

use std::collections::BTreeMap;

use crate::chunker::RawChunk;
use crate::tokenizer::Tokenizer;

/// One marker line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Marker {
    Page(u32),
    Slide(u32),
    /// A sheet and the columns of its used range (`Sales!A1:D40` gives `A` and `D`).
    Sheet {
        name: String,
        first_col: String,
        last_col: String,
        rows: (u32, u32),
    },
}

/// Reads a marker line (the grammar is the parsers' own, `lightrag_parsers::markers`).
fn marker(line: &str) -> Option<Marker> {
    let (kind, label) = lightrag_parsers::markers::parse(line.trim())?;
    match kind {
        "page" => label.parse().ok().map(Marker::Page),
        "slide" => label.parse().ok().map(Marker::Slide),
        "sheet" => {
            let (name, range) = label.rsplit_once('!')?;
            let (a, b) = range.split_once(':').unwrap_or((range, range));
            let (c1, r1) = cell(a)?;
            let (c2, r2) = cell(b)?;
            Some(Marker::Sheet {
                name: name.to_string(),
                first_col: c1,
                last_col: c2,
                rows: (r1, r2),
            })
        }
        _ => None,
    }
}

/// `D40` → (`D`, 40).
fn cell(s: &str) -> Option<(String, u32)> {
    let split = s.find(|c: char| c.is_ascii_digit())?;
    let (col, row) = s.split_at(split);
    if col.is_empty() || !col.chars().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    Some((col.to_string(), row.parse().ok()?))
}

/// The row number of a sheet row line (`row 12: a | b`).
fn row_number(line: &str) -> Option<u32> {
    line.strip_prefix("row ")?.split_once(':')?.0.parse().ok()
}

/// Byte offsets and markers of the marker lines of `text`.
fn markers_with_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim_end_matches(['\n', '\r']);
        if l.starts_with('[') && marker(l).is_some() {
            out.push((offset, l.trim()));
        }
        offset += line.len();
    }
    out
}

/// Puts the marker of the unit a chunk starts in before every chunk that does not start with a
/// marker of its own, so that each chunk names its place however the text was cut. Documents
/// without markers are left as they are.
pub fn anchor_chunks(text: &str, chunks: &mut [RawChunk], tokenizer: &dyn Tokenizer) {
    let markers = markers_with_offsets(text);
    if markers.is_empty() {
        return;
    }
    let mut cursor = 0usize;
    for chunk in chunks.iter_mut() {
        // Chunks are trimmed pieces of the text in order; one that cannot be found (a window
        // cut inside a character) keeps the position of the one before.
        let start = match text.get(cursor..).and_then(|t| t.find(&chunk.content)) {
            Some(p) => cursor + p,
            None => cursor,
        };
        cursor = start + chunk.content.chars().next().map_or(1, char::len_utf8);
        if chunk
            .content
            .lines()
            .next()
            .is_some_and(|l| marker(l).is_some())
        {
            continue;
        }
        let Some((_, m)) = markers.iter().rev().find(|(at, _)| *at <= start) else {
            continue;
        };
        let prefix = format!("{m}\n");
        chunk.tokens += tokenizer.count(&prefix);
        chunk.content.insert_str(0, &prefix);
    }
}

/// The text without its marker lines (for quoting sentences from it).
pub fn without_markers(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.lines().any(|l| marker(l).is_some()) {
        return std::borrow::Cow::Borrowed(text);
    }
    let kept: Vec<&str> = text.lines().filter(|l| marker(l).is_none()).collect();
    std::borrow::Cow::Owned(kept.join("\n"))
}

/// What one place in a file is, merged over the chunks cited from it.
#[derive(Debug, Default)]
pub struct Places {
    pages: Vec<u32>,
    slides: Vec<u32>,
    /// Sheet name → (first column, last column, first row, last row).
    sheets: BTreeMap<String, (String, String, u32, u32)>,
}

impl Places {
    /// Adds the places a chunk's text names.
    pub fn add_chunk(&mut self, content: &str) {
        let mut sheet: Option<String> = None;
        for line in content.lines() {
            match marker(line) {
                Some(Marker::Page(n)) => self.pages.push(n),
                Some(Marker::Slide(n)) => self.slides.push(n),
                Some(Marker::Sheet {
                    name,
                    first_col,
                    last_col,
                    ..
                }) => {
                    self.sheets
                        .entry(name.clone())
                        .or_insert((first_col, last_col, u32::MAX, 0));
                    sheet = Some(name);
                }
                None => {
                    let (Some(name), Some(row)) = (&sheet, row_number(line)) else {
                        continue;
                    };
                    if let Some(e) = self.sheets.get_mut(name) {
                        e.2 = e.2.min(row);
                        e.3 = e.3.max(row);
                    }
                }
            }
        }
    }

    /// "pages 3-4, 7", "slide 2", "sheet Sales!A12:D40", or `None` when nothing is known.
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(p) = numbered("page", &self.pages) {
            parts.push(p);
        }
        if let Some(s) = numbered("slide", &self.slides) {
            parts.push(s);
        }
        for (name, (c1, c2, r1, r2)) in &self.sheets {
            if *r1 == u32::MAX {
                parts.push(format!("sheet {name}"));
            } else {
                parts.push(format!("sheet {name}!{c1}{r1}:{c2}{r2}"));
            }
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// "page 3", "pages 3-4, 7": sorted, distinct, runs joined.
fn numbered(unit: &str, numbers: &[u32]) -> Option<String> {
    let mut n = numbers.to_vec();
    n.sort_unstable();
    n.dedup();
    if n.is_empty() {
        return None;
    }
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for x in n.iter().copied() {
        match runs.last_mut() {
            Some(r) if r.1 + 1 == x => r.1 = x,
            _ => runs.push((x, x)),
        }
    }
    let text: Vec<String> = runs
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    let plural = if n.len() > 1 { "s" } else { "" };
    Some(format!("{unit}{plural} {}", text.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunker::{chunk_text, ChunkingOptions};
    use crate::tokenizer::Tokenizer;

    /// One token per whitespace-separated word, enough to cut windows here.
    struct Words;
    impl Tokenizer for Words {
        fn encode(&self, text: &str) -> Vec<u32> {
            text.split_inclusive(' ').map(|w| w.len() as u32).collect()
        }
        fn decode(&self, _ids: &[u32]) -> String {
            unreachable!("not used by these tests")
        }
        fn count(&self, text: &str) -> usize {
            text.split_whitespace().count()
        }
    }

    #[test]
    fn markers_are_read_strictly() {
        assert_eq!(marker("[page 3]"), Some(Marker::Page(3)));
        assert_eq!(marker("[slide 12]"), Some(Marker::Slide(12)));
        assert_eq!(
            marker("[sheet Q3 Sales!A1:D40]"),
            Some(Marker::Sheet {
                name: "Q3 Sales".into(),
                first_col: "A".into(),
                last_col: "D".into(),
                rows: (1, 40)
            })
        );
        for not in [
            "[page three]",
            "[Page 3]",
            "see [page 3] above",
            "[sheet x]",
            "[1] ref.md",
        ] {
            assert_eq!(marker(not), None, "{not}");
        }
    }

    #[test]
    fn chunks_that_start_inside_a_page_get_its_marker() {
        let text = "[page 1]\nalpha beta gamma delta\n[page 2]\nepsilon zeta eta theta iota";
        let mut chunks = vec![
            RawChunk {
                tokens: 4,
                content: "[page 1]\nalpha beta gamma".into(),
                chunk_order_index: 0,
            },
            RawChunk {
                tokens: 4,
                content: "gamma delta\n[page 2]\nepsilon".into(),
                chunk_order_index: 1,
            },
            RawChunk {
                tokens: 3,
                content: "zeta eta theta iota".into(),
                chunk_order_index: 2,
            },
        ];
        anchor_chunks(text, &mut chunks, &Words);
        assert!(chunks[0].content.starts_with("[page 1]\nalpha"));
        assert!(chunks[1].content.starts_with("[page 1]\ngamma delta"));
        assert!(chunks[2].content.starts_with("[page 2]\nzeta"));
        assert_eq!(chunks[2].tokens, 5);
        let mut p = Places::default();
        p.add_chunk(&chunks[1].content);
        assert_eq!(p.describe().as_deref(), Some("pages 1-2"));
    }

    #[test]
    fn text_without_markers_is_untouched() {
        let tok = crate::tokenizer::TiktokenTokenizer::o200k();
        let text = "plain words ".repeat(400);
        let opts = ChunkingOptions {
            size: 100,
            overlap: 10,
            ..Default::default()
        };
        let mut chunks = chunk_text(&tok, &text, &opts).unwrap();
        let before = chunks.clone();
        anchor_chunks(&text, &mut chunks, &tok);
        assert_eq!(chunks, before);
    }

    #[test]
    fn real_windows_over_many_pages_name_their_pages() {
        let tok = crate::tokenizer::TiktokenTokenizer::o200k();
        let text: String = (1..=30)
            .map(|p| {
                format!(
                    "[page {p}]\n{}\n",
                    format!("Page {p} talks about topic {p}. ").repeat(12)
                )
            })
            .collect();
        let opts = ChunkingOptions {
            size: 120,
            overlap: 20,
            ..Default::default()
        };
        let mut chunks = chunk_text(&tok, &text, &opts).unwrap();
        anchor_chunks(&text, &mut chunks, &tok);
        for c in &chunks {
            let first = c.content.lines().next().unwrap();
            let Some(Marker::Page(n)) = marker(first) else {
                panic!("chunk without a page: {}", c.content)
            };
            // The first sentence after the marker belongs to that page (or the next one,
            // when the window starts right at a page's end).
            let body = &c.content[first.len()..];
            let said = body
                .split("Page ")
                .nth(1)
                .and_then(|s| s.split(' ').next())
                .and_then(|s| s.parse::<u32>().ok());
            if let Some(s) = said {
                assert!(
                    s == n || s == n + 1,
                    "marker {n}, text of page {s}: {}",
                    c.content
                );
            }
        }
    }

    #[test]
    fn sheet_rows_become_a_cell_range() {
        let mut p = Places::default();
        p.add_chunk("[sheet Sales!A1:D40]\nrow 12: a | b\nrow 13: c | d\nrow 20: e");
        p.add_chunk("[sheet Sales!A1:D40]\nrow 25: f");
        p.add_chunk("[page 3]\nx\n[page 4]\ny");
        p.add_chunk("[page 7]\nz");
        assert_eq!(
            p.describe().as_deref(),
            Some("pages 3-4, 7; sheet Sales!A12:D25")
        );
        assert_eq!(Places::default().describe(), None);
        assert_eq!(without_markers("[page 3]\nx\n[page 4]\ny"), "x\ny");
    }
}
