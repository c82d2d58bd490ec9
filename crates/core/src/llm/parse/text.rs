//! The delimiter ("text") format: one record per line, `<|#|>` between fields, `<|COMPLETE|>`
//! at the end (LightRAG's `_process_extraction_result`), and the older tuple form
//! `("entity"<|>NAME<|>TYPE<|>DESC)##`.

use super::clean::{looks_like_json, strip_code_fence, strip_think_tags};
use super::delimiter::fix_tuple_delimiter_corruption;
use super::normalize::{
    normalize_description, normalize_entity_type, normalize_keywords, normalize_name,
};
use super::{ParsedExtraction, COMPLETION_DELIMITER, TUPLE_DELIMITER};
use crate::types::{ExtractedEntity, ExtractedRelation};

/// The delimiter of the older tuple form.
const OLD_TUPLE_DELIMITER: &str = "<|>";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Entity,
    Relation,
}

/// One row split into fields, before validation.
struct Row {
    fields: Vec<String>,
    /// Written in the older tuple form, recognised by its quoted record type (relation fields:
    /// src, tgt, description, keywords, weight).
    old_form: bool,
}

pub(crate) fn parse(
    reply: &str,
    chunk_id: &str,
    file_path: &str,
    try_json: bool,
) -> ParsedExtraction {
    let cleaned = strip_think_tags(reply);
    if try_json && looks_like_json(&cleaned) {
        // A JSON reply in text mode (LightRAG's cache rebuild does the same detection).
        let parsed = super::json_mode::parse(&cleaned, chunk_id, file_path, false);
        if parsed.completed || parsed.records_seen > 0 {
            return parsed;
        }
    }
    let mut out = ParsedExtraction::default();
    let lower = cleaned.to_ascii_lowercase();
    let completion_lower = COMPLETION_DELIMITER.to_ascii_lowercase();
    out.completed = lower.contains(&completion_lower);
    if !out.completed {
        out.warnings.push(if cleaned.is_empty() {
            "empty reply".to_string()
        } else {
            format!("the completion delimiter {COMPLETION_DELIMITER} was not found (the reply may be cut off)")
        });
    }

    let mut rows: Vec<Row> = Vec::new();
    let mut multi_record_lines = 0usize;
    for raw_line in cleaned.split(['\n', '\r']) {
        for segment in split_ascii_case_insensitive(raw_line, &completion_lower) {
            let Some(line) = clean_line(segment) else {
                continue;
            };
            let line_rows = split_line(&line);
            if line_rows.len() > 1 {
                multi_record_lines += 1;
            }
            rows.extend(line_rows);
        }
    }
    if multi_record_lines > 0 {
        out.warnings.push(format!(
            "{multi_record_lines} line(s) held several records separated by {TUPLE_DELIMITER} instead of a new line"
        ));
    }
    for row in rows {
        handle_row(row, chunk_id, file_path, &mut out);
    }
    out
}

/// Splits on `needle` (lowercase ASCII) in any ASCII case.
fn split_ascii_case_insensitive<'a>(s: &'a str, needle: &str) -> Vec<&'a str> {
    let lower = s.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = lower[from..].find(needle) {
        let at = from + pos;
        parts.push(&s[last..at]);
        last = at + needle.len();
        from = last;
    }
    parts.push(&s[last..]);
    parts
}

/// Trims a line and removes what decorates it: code-fence markers, list bullets. `None` for an
/// empty line or a bare fence.
fn clean_line(segment: &str) -> Option<String> {
    let mut line = segment.trim();
    if line.starts_with("```") {
        let inner = strip_code_fence(line);
        if !inner.contains('<') && !inner.contains('|') {
            return None;
        }
        line = inner;
    }
    line = line.strip_suffix("```").unwrap_or(line).trim_end();
    // List bullets: "- ", "* ", "• ", "1. ", "2) ".
    for b in ["- ", "* ", "• ", "+ "] {
        if let Some(rest) = line.strip_prefix(b) {
            line = rest.trim_start();
            break;
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 4 {
        let rest = &line[digits..];
        if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            line = r.trim_start();
        }
    }
    (!line.is_empty()).then(|| line.to_string())
}

/// Splits one line into rows: the older tuple form (`(...)##(...)`) or delimiter records,
/// several records on one line being split where a field is a record type.
fn split_line(line: &str) -> Vec<Row> {
    let parenthesised = line.starts_with('(');
    let pieces: Vec<String> = if parenthesised {
        split_old_records(line)
    } else {
        vec![line.to_string()]
    };
    let mut rows = Vec::new();
    for piece in pieces {
        let mut rec = piece;
        if parenthesised {
            let t = rec.trim();
            let t = t.strip_prefix('(').unwrap_or(t);
            let t = t.strip_suffix(')').unwrap_or(t);
            rec = t.replace(OLD_TUPLE_DELIMITER, TUPLE_DELIMITER);
        }
        let mut fixed = fix_tuple_delimiter_corruption(&rec, "#", TUPLE_DELIMITER);
        if !fixed.contains(TUPLE_DELIMITER) && fixed.contains(OLD_TUPLE_DELIMITER) {
            // The older delimiter written with spaces around it.
            fixed = fixed.replace(OLD_TUPLE_DELIMITER, TUPLE_DELIMITER);
        }
        let fields: Vec<String> = fixed
            .split(TUPLE_DELIMITER)
            .filter_map(clean_field)
            .collect();
        if fields.is_empty() {
            continue;
        }
        for f in split_records(fields) {
            // The older form quotes its record type: `("relationship"<|>...`.
            let quoted_type =
                f[0].trim_start_matches('(').starts_with(['"', '\'']) && is_type_field(&f[0]);
            rows.push(Row {
                fields: f,
                old_form: quoted_type,
            });
        }
    }
    rows
}

/// Splits `(…)##(…)##` at the `##` that follows a `)`.
fn split_old_records(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'#' && bytes[i + 1] == b'#' && line[..i].trim_end().ends_with(')') {
            out.push(line[start..i].to_string());
            i += 2;
            while i < bytes.len() && bytes[i] == b'#' {
                i += 1;
            }
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(line[start..].to_string());
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// A field trimmed, without surrounding Markdown emphasis; `None` when empty.
fn clean_field(f: &str) -> Option<String> {
    let mut t = f.trim();
    // `__x__` is left alone: it is a legitimate name (`__init__`) more often than emphasis.
    while t.len() >= 4 && t.starts_with("**") && t.ends_with("**") {
        t = t[2..t.len() - 2].trim();
    }
    (!t.is_empty()).then(|| t.to_string())
}

/// The record type named by a field: its letters, lowercased, containing `relation` or `entity`.
fn kind_of(field: &str) -> Option<Kind> {
    let l = field.to_lowercase();
    if l.contains("relation") {
        Some(Kind::Relation)
    } else if l.contains("entity") {
        Some(Kind::Entity)
    } else {
        None
    }
}

/// Whether a field is exactly a record type (`entity`, `relation`, `relationship`, any case,
/// quotes, parentheses and emphasis ignored): such a field inside a row starts a new record.
fn is_type_field(field: &str) -> bool {
    let letters: String = field
        .chars()
        .filter(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    matches!(letters.as_str(), "entity" | "relation" | "relationship")
        && field
            .chars()
            .all(|c| c.is_alphabetic() || "\"'()*_ ".contains(c))
}

/// Splits fields where a record-type field starts another record (the model wrote several
/// records on one line). In the type slot of an entity row (field 2) a record-type field is the
/// type (`entity<|#|>Foo<|#|>Entity<|#|>...`), unless the fields from it up to the next
/// record-type field make a whole record of that kind (the entity row lost its fields).
fn split_records(fields: Vec<String>) -> Vec<Vec<String>> {
    let is_type: Vec<bool> = fields.iter().map(|f| is_type_field(f)).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    for (i, f) in fields.into_iter().enumerate() {
        let mut starts_new = !cur.is_empty() && is_type[i];
        if starts_new && cur.len() == 2 && kind_of(&cur[0]) == Some(Kind::Entity) {
            let span = 1 + is_type[i + 1..].iter().take_while(|t| !**t).count();
            let whole = match kind_of(&f) {
                Some(Kind::Relation) => span == 5,
                _ => span == 4,
            };
            starts_new = whole;
        }
        if starts_new {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(f);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn preview(fields: &[String]) -> String {
    let s = fields.join(" | ");
    let mut p: String = s.chars().take(80).collect();
    if p.len() < s.len() {
        p.push('…');
    }
    p
}

fn handle_row(row: Row, chunk_id: &str, file_path: &str, out: &mut ParsedExtraction) {
    let f = &row.fields;
    let n = f.len();
    let head = f[0].to_lowercase();
    let kind = kind_of(&head);
    if n == 1 {
        // A lone word or prose line; a row cut right after its type is worth a warning.
        let letters = head.trim_start_matches(|c: char| !c.is_alphabetic());
        if (letters.starts_with("entity") || letters.starts_with("relation"))
            && letters.contains(['<', '|'])
        {
            out.warnings
                .push(format!("incomplete record dropped: {}", preview(f)));
        }
        return;
    }
    let Some(kind) = kind else {
        if head.contains("content_keywords") || head.contains("content keywords") {
            return;
        }
        out.warnings.push(format!(
            "record of unknown type dropped ({n} fields): {}",
            preview(f)
        ));
        return;
    };
    match (kind, n) {
        (Kind::Entity, 4) => {
            out.records_seen += 1;
            push_entity(&f[1], &f[2], &f[3], chunk_id, file_path, out);
        }
        (Kind::Entity, 5) | (Kind::Relation, 5) => {
            if kind == Kind::Entity {
                out.warnings.push(format!(
                    "relation written with the entity prefix recovered: {} ~ {}",
                    f[1], f[2]
                ));
            }
            out.records_seen += 1;
            if row.old_form {
                push_relation(&f[1], &f[2], &f[4], &f[3], None, chunk_id, file_path, out);
            } else {
                push_relation(&f[1], &f[2], &f[3], &f[4], None, chunk_id, file_path, out);
            }
        }
        (Kind::Relation, 6) if row.old_form => {
            out.records_seen += 1;
            push_relation(
                &f[1],
                &f[2],
                &f[4],
                &f[3],
                Some(&f[5]),
                chunk_id,
                file_path,
                out,
            );
        }
        (Kind::Entity, _) => {
            out.warnings.push(format!(
                "entity record with {n}/4 fields dropped: {}",
                preview(f)
            ));
        }
        (Kind::Relation, _) => {
            out.warnings.push(format!(
                "relation record with {n}/5 fields dropped: {}",
                preview(f)
            ));
        }
    }
}

/// Validates and stores one entity.
pub(crate) fn push_entity(
    name: &str,
    ty: &str,
    desc: &str,
    chunk_id: &str,
    file_path: &str,
    out: &mut ParsedExtraction,
) {
    let Some(name_n) = normalize_name(name) else {
        out.warnings.push(format!(
            "entity dropped: empty name after normalisation ({name:?})"
        ));
        return;
    };
    let Some(ty_n) = normalize_entity_type(ty) else {
        out.warnings
            .push(format!("entity '{name_n}' dropped: invalid type {ty:?}"));
        return;
    };
    let Some(desc_n) = normalize_description(desc) else {
        out.warnings
            .push(format!("entity '{name_n}' dropped: empty description"));
        return;
    };
    out.extraction.entities.push(ExtractedEntity {
        name: name_n,
        entity_type: ty_n,
        description: desc_n,
        source_id: chunk_id.to_string(),
        file_path: file_path.to_string(),
    });
}

/// Validates and stores one relation (fields given as src, tgt, keywords, description).
#[allow(clippy::too_many_arguments)]
pub(crate) fn push_relation(
    src: &str,
    tgt: &str,
    keywords: &str,
    desc: &str,
    weight: Option<&str>,
    chunk_id: &str,
    file_path: &str,
    out: &mut ParsedExtraction,
) {
    let (Some(s), Some(t)) = (normalize_name(src), normalize_name(tgt)) else {
        out.warnings.push(format!(
            "relation dropped: empty endpoint after normalisation ({src:?} ~ {tgt:?})"
        ));
        return;
    };
    if s == t {
        out.warnings
            .push(format!("relation dropped: '{s}' relates to itself"));
        return;
    }
    let kw = normalize_keywords(keywords);
    let Some(d) = normalize_description(desc) else {
        out.warnings
            .push(format!("relation '{s}' ~ '{t}' dropped: empty description"));
        return;
    };
    let weight = weight
        .map(|w| {
            w.trim()
                .trim_matches(|c| c == '"' || c == '\'' || c == ')' || c == '(')
        })
        .and_then(|w| w.parse::<f64>().ok())
        .filter(|w| w.is_finite() && *w > 0.0)
        .unwrap_or(1.0);
    out.extraction.relations.push(ExtractedRelation {
        src: s,
        tgt: t,
        keywords: kw,
        description: d,
        weight,
        source_id: chunk_id.to_string(),
        file_path: file_path.to_string(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ParsedExtraction {
        parse(s, "c1", "f.txt", true)
    }

    #[test]
    fn well_formed() {
        let r = p("entity<|#|>Acme Corp<|#|>Organization<|#|>Acme Corp is a rocket maker based in Ohio.\n\
                   entity<|#|>Jane Roe<|#|>Person<|#|>Jane Roe is the chief executive of Acme Corp.\n\
                   relation<|#|>Jane Roe<|#|>Acme Corp<|#|>leadership, employment<|#|>Jane Roe leads Acme Corp as CEO.\n\
                   <|COMPLETE|>");
        assert!(r.completed);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(r.records_seen, 3);
        let e = &r.extraction.entities;
        assert_eq!(
            (e[0].name.as_str(), e[0].entity_type.as_str()),
            ("Acme Corp", "organization")
        );
        assert_eq!(
            (e[1].name.as_str(), e[1].entity_type.as_str()),
            ("Jane Roe", "person")
        );
        let rel = &r.extraction.relations[0];
        assert_eq!(
            (rel.src.as_str(), rel.tgt.as_str(), rel.keywords.as_str()),
            ("Jane Roe", "Acme Corp", "leadership, employment")
        );
        assert_eq!(rel.weight, 1.0);
        assert_eq!(rel.source_id, "c1");
        assert_eq!(rel.file_path, "f.txt");
    }

    #[test]
    fn several_records_on_one_line() {
        let r = p("entity<|#|>A Co<|#|>Organization<|#|>A company.<|#|>entity<|#|>B Co<|#|>Organization<|#|>B company.<|#|>relation<|#|>A Co<|#|>B Co<|#|>rivals<|#|>A Co competes with B Co.<|#|><|COMPLETE|>");
        assert_eq!(r.extraction.entities.len(), 2);
        assert_eq!(r.extraction.relations.len(), 1);
        assert!(r.completed);
    }

    #[test]
    fn entity_type_named_entity_is_not_a_split_point() {
        let r = p("entity<|#|>Foo<|#|>Entity<|#|>Foo is a thing.\n<|COMPLETE|>");
        assert_eq!(r.extraction.entities.len(), 1);
        assert_eq!(r.extraction.entities[0].entity_type, "entity");
    }

    #[test]
    fn record_after_a_short_entity_on_the_same_line() {
        let r = p("entity<|#|>Acme<|#|>  <|#|>relation<|#|>Jane<|#|>Acme<|#|>work<|#|>Jane works at Acme.\n<|COMPLETE|>");
        assert_eq!(r.extraction.relations.len(), 1);
        assert!(
            r.warnings.iter().any(|w| w.contains("2/4")),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn old_tuple_form() {
        let r = p("(\"entity\"<|>\"Acme\"<|>\"organization\"<|>\"A maker.\")##\n(\"entity\"<|>Bob<|>person<|>Bob works there.)##\n(\"relationship\"<|>\"Bob\"<|>\"Acme\"<|>\"Bob works at Acme.\"<|>\"employment\"<|>8)##\n(\"content_keywords\"<|>\"jobs\")<|COMPLETE|>");
        assert!(r.completed);
        assert_eq!(r.extraction.entities.len(), 2, "{:?}", r.warnings);
        let rel = &r.extraction.relations[0];
        assert_eq!(
            (rel.description.as_str(), rel.keywords.as_str(), rel.weight),
            ("Bob works at Acme.", "employment", 8.0)
        );
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn parenthesised_new_format_keeps_new_order() {
        let r = p("(relation<|#|>A Co<|#|>B Co<|#|>rivals<|#|>A Co competes with B Co.)\n(entity<|#|>__init__<|#|>Method<|#|>**A dunder.**)");
        assert_eq!(r.extraction.relations[0].keywords, "rivals");
        assert_eq!(
            r.extraction.relations[0].description,
            "A Co competes with B Co."
        );
        assert_eq!(r.extraction.entities[0].name, "__init__");
        assert_eq!(r.extraction.entities[0].description, "A dunder.");
    }

    #[test]
    fn mis_prefixed_relation() {
        let r = p("entity<|#|>A Co<|#|>B Co<|#|>rivals<|#|>A Co competes with B Co.\n<|COMPLETE|>");
        assert_eq!(r.extraction.relations.len(), 1);
        assert_eq!(r.extraction.relations[0].keywords, "rivals");
    }

    #[test]
    fn drops_are_warned() {
        let r = p("entity<|#|>Acme<|#|>Org/Company<|#|>desc\nrelation<|#|>Acme<|#|>Acme<|#|>self<|#|>desc\nentity<|#|>12<|#|>number<|#|>desc\nrelation<|#|>A<|#|>B<|#|>kw\n<|COMPLETE|>");
        assert!(r.extraction.entities.is_empty() && r.extraction.relations.is_empty());
        assert_eq!(r.warnings.len(), 4, "{:?}", r.warnings);
        assert_eq!(r.records_seen, 3);
    }
}
