//! The shared output shape of document formats (DOCX, ODT, EPUB, HTML): markdown-like blocks.
//!
//! Headings become `#`..`######` lines, paragraphs are separated by a blank line, list items are
//! `- ` lines and table rows `cell | cell` lines; consecutive items or rows stay on adjacent lines.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Block,
    ListItem,
    TableRow,
}

/// Accumulates blocks into the final text.
#[derive(Default)]
pub(crate) struct Blocks {
    out: String,
    last: Option<Kind>,
}

impl Blocks {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A heading of `level` 1..=6 (clamped).
    pub(crate) fn heading(&mut self, level: usize, text: &str) {
        let text = one_line(text);
        if !text.is_empty() {
            let hashes = "#".repeat(level.clamp(1, 6));
            self.push(Kind::Block, &format!("{hashes} {text}"));
        }
    }

    /// A paragraph; inner line breaks are kept, surrounding whitespace trimmed.
    pub(crate) fn paragraph(&mut self, text: &str) {
        let text = tidy_lines(text);
        if !text.is_empty() {
            self.push(Kind::Block, &text);
        }
    }

    /// A list item, indented two spaces per nesting level below the first.
    pub(crate) fn list_item(&mut self, depth: usize, text: &str) {
        let text = one_line(text);
        if !text.is_empty() {
            let indent = "  ".repeat(depth.saturating_sub(1).min(8));
            self.push(Kind::ListItem, &format!("{indent}- {text}"));
        }
    }

    /// A table row; trailing empty cells are dropped and an all-empty row is skipped.
    pub(crate) fn table_row(&mut self, cells: &[String]) {
        let mut cells: Vec<String> = cells.iter().map(|c| one_line(c)).collect();
        while cells.last().is_some_and(|c| c.is_empty()) {
            cells.pop();
        }
        if !cells.is_empty() {
            self.push(Kind::TableRow, &cells.join(" | "));
        }
    }

    /// Ends a run of list items or table rows, so the next one starts a new block.
    pub(crate) fn break_run(&mut self) {
        if self.last.is_some() {
            self.last = Some(Kind::Block);
        }
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }

    fn push(&mut self, kind: Kind, line: &str) {
        match self.last {
            None => {}
            Some(last) if last == kind && kind != Kind::Block => self.out.push('\n'),
            Some(_) => self.out.push_str("\n\n"),
        }
        self.out.push_str(line);
        self.last = Some(kind);
    }
}

/// Folds a row of a table nested in a cell into that cell's text: the row's non-empty cells
/// joined by " | ", rows separated by "; " (DOCX and ODT both nest tables this way).
#[cfg(feature = "office")]
pub(crate) fn fold_nested_row(cell: &mut String, row: &[String]) {
    let line = row
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    if line.is_empty() {
        return;
    }
    if !cell.is_empty() {
        cell.push_str("; ");
    }
    cell.push_str(&line);
}

/// Collapses all whitespace runs (line breaks included) into single spaces.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Trims each line's ends (tabs inside a line survive) and drops blank lines at either end.
pub(crate) fn tidy_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_matches(|c: char| c == ' ' || c == '\r'))
        .collect();
    let mut out = String::new();
    let mut blank = false;
    for line in lines {
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        blank = false;
        out.push_str(line.trim_matches('\t'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_layout() {
        let mut b = Blocks::new();
        b.heading(2, " Intro ");
        b.paragraph("first\nline  ");
        b.list_item(1, "a");
        b.list_item(2, "b");
        b.table_row(&["x".into(), "".into(), "z".into(), "".into()]);
        b.table_row(&["".into(), "".into()]);
        b.table_row(&["1".into()]);
        b.paragraph("   ");
        b.paragraph("end");
        assert_eq!(
            b.finish(),
            "## Intro\n\nfirst\nline\n\n- a\n  - b\n\nx |  | z\n1\n\nend"
        );
    }
}
