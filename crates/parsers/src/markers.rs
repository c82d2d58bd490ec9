//! Location markers written into the extracted text.
//!
//! Grammar: a marker is a whole line matching `^\[(page|slide|sheet) [^\]\n]+\]$`; the text of that
//! unit follows on the next lines, up to the next marker or the end. PDFs get `[page N]`, PPTX
//! `[slide N]` (N counts from 1) and XLSX `[sheet NAME!A1:D40]` (the sheet's used range). Other
//! formats carry no markers. Markers are only written by this module, so the syntax lives here.

/// Marker before a PDF page's text (`n` counts from 1).
pub fn page(n: usize) -> String {
    format!("[page {n}]")
}

/// Marker before a slide's text (`n` counts from 1, in presentation order).
pub fn slide(n: usize) -> String {
    format!("[slide {n}]")
}

/// Marker before a sheet's rows: `[sheet NAME!RANGE]`, `]` and line breaks in the name become spaces.
pub fn sheet(name: &str, range: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c == ']' || c == '\n' || c == '\r' {
                ' '
            } else {
                c
            }
        })
        .collect();
    format!("[sheet {name}!{range}]")
}

/// The kind and label of a marker line (`("page", "3")`), or `None` if the line is not a marker.
pub fn parse(line: &str) -> Option<(&str, &str)> {
    let inner = line.strip_prefix('[')?.strip_suffix(']')?;
    let (kind, label) = inner.split_once(' ')?;
    let known = matches!(kind, "page" | "slide" | "sheet");
    let clean = !label.is_empty() && !label.contains([']', '\n']);
    (known && clean).then_some((kind, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip() {
        assert_eq!(page(3), "[page 3]");
        assert_eq!(parse(&page(3)), Some(("page", "3")));
        assert_eq!(sheet("Q1 ]data\n", "A1:B2"), "[sheet Q1  data !A1:B2]");
        assert_eq!(parse("[sheet Q1!A1:B2]"), Some(("sheet", "Q1!A1:B2")));
        assert_eq!(parse("[note 1]"), None);
        assert_eq!(parse("[page ]"), None);
    }
}
