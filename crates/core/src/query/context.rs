//! The context handed to the LLM, in LightRAG's layout: entity, relation and chunk sections as
//! JSON lines (Python `json.dumps` spacing), then the numbered reference list. Sections are cut
//! to their token budgets by whole rows.

use std::collections::HashMap;

use super::chunks::ContextChunk;
use super::Reference;
use crate::locations::Places;
use crate::tokenizer::Tokenizer;

/// One JSON object on one line with Python's default separators (`", "`, `": "`), non-ASCII kept.
pub fn py_json_line(pairs: &[(&str, &str)]) -> String {
    let fields: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}: {}",
                serde_json::Value::String(k.to_string()),
                serde_json::Value::String(v.to_string())
            )
        })
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// How many leading rows fit `budget` tokens when joined with newlines (whole rows only).
pub fn rows_within(tok: &dyn Tokenizer, rows: &[String], budget: usize) -> usize {
    rows_and_tokens_within(tok, rows, budget).0
}

/// `rows_within`, plus the tokens of the rows kept, so the caller need not count them again.
pub fn rows_and_tokens_within(
    tok: &dyn Tokenizer,
    rows: &[String],
    budget: usize,
) -> (usize, usize) {
    let mut total = 0usize;
    for (i, r) in rows.iter().enumerate() {
        let next = total + tok.count(r) + usize::from(i > 0);
        if next > budget {
            return (i, total);
        }
        total = next;
    }
    (rows.len(), total)
}

/// The tokens of a chunk's context line from the count stored at chunking time: the line's
/// JSON framing, counted, plus one per escaped quote or backslash and one per line break (a run
/// of `\n` escapes costs about one token more than the raw break). Re-tokenising every chunk of every query was half of a query's time;
/// this differs from the exact count of the line by a few tokens at most.
pub fn chunk_line_tokens(
    tok: &dyn Tokenizer,
    reference_id: &str,
    content: &str,
    stored: usize,
) -> usize {
    if stored == 0 {
        return tok.count(&chunk_line(reference_id, content));
    }
    let quotes = content.chars().filter(|c| matches!(c, '"' | '\\')).count();
    let breaks = content
        .split(|c: char| c.is_control())
        .filter(|piece| !piece.is_empty())
        .count()
        .saturating_sub(1);
    let escaped = quotes + breaks;
    tok.count(&chunk_line(reference_id, "")) + stored + escaped
}

/// References from the final chunks: distinct file paths by occurrence count (desc), then first
/// appearance; `unknown_source` and empty paths get no reference. A reference names the pages,
/// slides or sheet cells of its chunks when their text carries location markers. Returns the list and each
/// chunk's reference id.
pub fn build_references(chunks: &[ContextChunk]) -> (Vec<Reference>, Vec<String>) {
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, c) in chunks.iter().enumerate() {
        if c.file_path.is_empty() || c.file_path == "unknown_source" {
            continue;
        }
        let e = counts.entry(c.file_path.as_str()).or_insert((0, i));
        e.0 += 1;
    }
    let mut paths: Vec<(&str, (usize, usize))> = counts.into_iter().collect();
    paths.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.1 .1.cmp(&b.1 .1)));
    let mut places: HashMap<&str, Places> = HashMap::new();
    for c in chunks {
        places
            .entry(c.file_path.as_str())
            .or_default()
            .add_chunk(&c.content);
    }
    let refs: Vec<Reference> = paths
        .iter()
        .enumerate()
        .map(|(i, (p, _))| Reference {
            reference_id: (i + 1).to_string(),
            file_path: p.to_string(),
            location: places.get(p).and_then(Places::describe),
        })
        .collect();
    let by_path: HashMap<&str, &str> = refs
        .iter()
        .map(|r| (r.file_path.as_str(), r.reference_id.as_str()))
        .collect();
    let ids = chunks
        .iter()
        .map(|c| {
            by_path
                .get(c.file_path.as_str())
                .map(|s| s.to_string())
                .unwrap_or_default()
        })
        .collect();
    (refs, ids)
}

/// A chunk's context line.
pub fn chunk_line(reference_id: &str, content: &str) -> String {
    py_json_line(&[("reference_id", reference_id), ("content", content)])
}

fn reference_lines(refs: &[Reference]) -> String {
    refs.iter()
        .filter(|r| !r.reference_id.is_empty())
        .map(|r| format!("[{}] {}", r.reference_id, r.label()))
        .collect::<Vec<_>>()
        .join("\n")
}

const CHUNKS_LABEL: &str = "Document Chunks (each entry's reference_id points into the Reference Document List; content_headings, when present, is the heading path of the chunk):";
const REFS_LABEL: &str = "Reference Document List (each entry starts with its [reference_id]):";

/// The graph-mode context.
pub fn kg_context(
    entities: &[String],
    relations: &[String],
    chunks: &[String],
    refs: &[Reference],
) -> String {
    format!(
        "\nKnowledge Graph Data (Entity):\n\n```json\n{}\n```\n\nKnowledge Graph Data (Relationship):\n\n```json\n{}\n```\n\n{CHUNKS_LABEL}\n\n```json\n{}\n```\n\n{REFS_LABEL}\n\n```\n{}\n```\n\n",
        entities.join("\n"),
        relations.join("\n"),
        chunks.join("\n"),
        reference_lines(refs)
    )
}

/// The naive-mode context (chunks and references only).
pub fn naive_context(chunks: &[String], refs: &[Reference]) -> String {
    format!(
        "\n{CHUNKS_LABEL}\n\n```json\n{}\n```\n\n{REFS_LABEL}\n\n```\n{}\n```\n\n",
        chunks.join("\n"),
        reference_lines(refs)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::TiktokenTokenizer;

    fn chunk(id: &str, path: &str) -> ContextChunk {
        ContextChunk {
            chunk_id: id.into(),
            content: format!("text of {id}"),
            file_path: path.into(),
            tokens: 0,
        }
    }

    #[test]
    fn json_lines_use_python_spacing() {
        assert_eq!(
            py_json_line(&[("entity", "Zoë \"Z\""), ("type", "person")]),
            r#"{"entity": "Zoë \"Z\"", "type": "person"}"#
        );
    }

    #[test]
    fn references_by_count_then_first_seen() {
        let cs = [
            chunk("1", "b.md"),
            chunk("2", "a.md"),
            chunk("3", "a.md"),
            chunk("4", "unknown_source"),
            chunk("5", "c.md"),
        ];
        let (refs, ids) = build_references(&cs);
        let order: Vec<&str> = refs.iter().map(|r| r.file_path.as_str()).collect();
        assert_eq!(order, vec!["a.md", "b.md", "c.md"]);
        assert_eq!(ids, vec!["2", "1", "1", "", "3"]);
    }

    #[test]
    fn budgets_keep_whole_rows() {
        let t = TiktokenTokenizer::o200k();
        let rows: Vec<String> = (0..10).map(|i| format!("row number {i}")).collect();
        let one = t.count(&rows[0]);
        assert_eq!(rows_within(&t, &rows, one), 1);
        assert_eq!(rows_within(&t, &rows, 10_000), 10);
        assert_eq!(rows_within(&t, &rows, 0), 0);
        let (n, used) = rows_and_tokens_within(&t, &rows, 10_000);
        assert_eq!((n, used), (10, t.count(&rows.join("\n"))));
    }

    #[test]
    fn stored_counts_stay_close_to_the_rendered_line() {
        let t = TiktokenTokenizer::o200k();
        let texts = [
            include_str!("../../../../examples/vell_river_institute.md"),
            include_str!("../../../../examples/ostra_accord_1984.txt"),
            "He said \"no\" twice.\nThen a path: C:\\temp\\x.\tDone.",
        ];
        for text in texts {
            let exact = t.count(&chunk_line("1", text));
            let estimate = chunk_line_tokens(&t, "1", text, t.count(text));
            let diff = exact.abs_diff(estimate);
            // Within 2%, or a few tokens on a short line.
            assert!(
                diff <= 4 || diff * 50 <= exact,
                "exact {exact}, estimate {estimate}"
            );
        }
    }

    #[test]
    fn layout_has_lightrags_sections() {
        let refs = vec![
            Reference {
                reference_id: "1".into(),
                file_path: "a.md".into(),
                location: None,
            },
            Reference {
                reference_id: "2".into(),
                file_path: "b.pdf".into(),
                location: Some("pages 3-4".into()),
            },
        ];
        let c = kg_context(&["{}".into()], &[], &[chunk_line("1", "x")], &refs);
        assert!(c.starts_with("\nKnowledge Graph Data (Entity):\n\n```json\n{}\n```"));
        assert!(c.contains("Knowledge Graph Data (Relationship):"));
        assert!(c.contains("[1] a.md\n[2] b.pdf (pages 3-4)"));
    }

    #[test]
    fn references_name_the_pages_of_their_chunks() {
        let chunk = |file: &str, content: &str| ContextChunk {
            chunk_id: content.into(),
            content: content.into(),
            file_path: file.into(),
            tokens: 0,
        };
        let (refs, ids) = build_references(&[
            chunk("r.pdf", "[page 7]\nseven"),
            chunk("a.md", "plain"),
            chunk("r.pdf", "[page 2]\ntwo\n[page 3]\nthree"),
        ]);
        assert_eq!(ids, ["1", "2", "1"]);
        assert_eq!(refs[0].location.as_deref(), Some("pages 2-3, 7"));
        assert_eq!(refs[1].location, None);
    }
}
