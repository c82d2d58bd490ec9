//! The JSON format (`ENTITY_EXTRACTION_USE_JSON`): `{"entities": [{"name", "type",
//! "description"}], "relationships": [{"source", "target", "keywords", "description"}]}`
//! (LightRAG's `_process_json_extraction_result`).

use serde_json::{Map, Value};

use super::clean::strip_think_tags;
use super::json::recover_object;
use super::text::{push_entity, push_relation};
use super::ParsedExtraction;

const ENTITY_KEYS: [&str; 3] = ["entities", "entity", "nodes"];
const RELATION_KEYS: [&str; 4] = ["relationships", "relations", "relationship", "edges"];

pub(crate) fn parse(
    reply: &str,
    chunk_id: &str,
    file_path: &str,
    text_fallback: bool,
) -> ParsedExtraction {
    let cleaned = strip_think_tags(reply);
    let Some(rec) = recover_object(&cleaned) else {
        let why = if cleaned.is_empty() {
            "empty reply"
        } else {
            "no JSON object could be recovered from the reply"
        };
        if text_fallback && (cleaned.contains("<|") || cleaned.contains("|>")) {
            // The model answered in the delimiter format: read it as such.
            let mut out = super::text::parse(&cleaned, chunk_id, file_path, false);
            out.warnings
                .insert(0, format!("{why}; parsed it as delimiter records"));
            return out;
        }
        return ParsedExtraction {
            warnings: vec![why.to_string()],
            ..Default::default()
        };
    };
    let mut out = ParsedExtraction {
        completed: rec.complete,
        ..Default::default()
    };
    if !rec.complete {
        out.warnings
            .push("the JSON reply is cut off; keeping the records that parsed".to_string());
    }
    let entities = lookup(&rec.map, &ENTITY_KEYS);
    let relations = lookup(&rec.map, &RELATION_KEYS);
    if entities.is_none() && relations.is_none() {
        out.warnings
            .push("the JSON reply has neither \"entities\" nor \"relationships\"".to_string());
    }
    for item in items(entities, "entities", &mut out) {
        let Value::Object(e) = item else {
            out.warnings.push(format!(
                "entity item that is not an object dropped: {}",
                short(item)
            ));
            continue;
        };
        out.records_seen += 1;
        let name = field(e, &["name", "entity_name", "entity"]);
        let ty = field(e, &["type", "entity_type"]);
        let desc = field(e, &["description", "entity_description", "desc"]);
        push_entity(&name, &ty, &desc, chunk_id, file_path, &mut out);
    }
    for item in items(relations, "relationships", &mut out) {
        let Value::Object(r) = item else {
            out.warnings.push(format!(
                "relationship item that is not an object dropped: {}",
                short(item)
            ));
            continue;
        };
        out.records_seen += 1;
        let src = field(r, &["source", "src_id", "src", "source_entity"]);
        let tgt = field(r, &["target", "tgt_id", "tgt", "target_entity"]);
        let kw = field(r, &["keywords", "relationship_keywords"]);
        let desc = field(r, &["description", "relationship_description", "desc"]);
        push_relation(&src, &tgt, &kw, &desc, None, chunk_id, file_path, &mut out);
    }
    out
}

/// The value under the first key found (exact spelling first, then any case).
fn lookup<'m>(map: &'m Map<String, Value>, keys: &[&str]) -> Option<&'m Value> {
    keys.iter().find_map(|k| map.get(*k)).or_else(|| {
        keys.iter().find_map(|k| {
            map.iter()
                .find(|(mk, _)| mk.trim().eq_ignore_ascii_case(k))
                .map(|(_, v)| v)
        })
    })
}

/// The items of a list field; a single object counts as a list of one, `null` as empty.
fn items<'v>(v: Option<&'v Value>, what: &str, out: &mut ParsedExtraction) -> Vec<&'v Value> {
    match v {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        Some(other) => {
            out.warnings
                .push(format!("\"{what}\" is not a list: {}", short(other)));
            vec![]
        }
    }
}

/// A field as text: strings as they are, numbers and booleans written out, lists joined with
/// `, `, `null` or missing as empty.
fn field(obj: &Map<String, Value>, keys: &[&str]) -> String {
    lookup(obj, keys).map(as_text).unwrap_or_default()
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => repair_escape_damage(s),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => a
            .iter()
            .map(as_text)
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(_) => v.to_string(),
    }
}

/// `\f`/`\b` written unescaped before a letter (LaTeX such as `\frac`, `\beta`) decode to a
/// form feed / backspace; the backslash is restored (`repair_vlm_json_escape_damage`).
fn repair_escape_damage(s: &str) -> String {
    if !s.contains(['\u{c}', '\u{8}']) {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        let next_letter = chars.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic());
        match c {
            '\u{c}' if next_letter => out.push_str("\\f"),
            '\u{8}' if next_letter => out.push_str("\\b"),
            _ => out.push(c),
        }
    }
    out
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    let p: String = s.chars().take(80).collect();
    if p.len() < s.len() {
        format!("{p}…")
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ParsedExtraction {
        parse(s, "c1", "f.txt", true)
    }

    #[test]
    fn clean_json() {
        let r = p(
            r#"{"entities":[{"name":"Acme Corp","type":"Organization","description":"A rocket maker."},
            {"name":"Jane Roe","type":"Person","description":"CEO of Acme."}],
            "relationships":[{"source":"Jane Roe","target":"Acme Corp","keywords":"leadership","description":"Jane leads Acme."}]}"#,
        );
        assert!(r.completed && r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(r.extraction.entities.len(), 2);
        assert_eq!(r.extraction.entities[0].entity_type, "organization");
        assert_eq!(r.extraction.relations[0].weight, 1.0);
        assert_eq!(r.records_seen, 3);
    }

    #[test]
    fn tolerant() {
        let r = p("<think>let me see</think>\n```json\n{'entities': [{'name': 'Acme', 'type': 'Organization', 'description': 'A maker', 'extra': 1},\n {name: 'X'}, 5,],\n 'relationships': [{'source': 'Acme', 'target': 'Ohio', 'keywords': ['base', 'location'], 'description': 'Acme is in Ohio.'}],}\n```\nHope this helps!");
        assert_eq!(r.extraction.entities.len(), 1, "{:?}", r.warnings);
        assert_eq!(r.extraction.relations[0].keywords, "base, location");
        assert!(r.warnings.iter().any(|w| w.contains("not an object")));
        assert!(r.warnings.iter().any(|w| w.contains("X")));
    }

    #[test]
    fn cut_off_json_keeps_complete_items() {
        let r = p(
            r#"{"entities":[{"name":"Acme","type":"Organization","description":"A maker."},{"name":"Jane","type":"Per"#,
        );
        assert!(!r.completed);
        assert_eq!(r.extraction.entities.len(), 1);
        assert!(!r.warnings.is_empty());
    }

    #[test]
    fn delimiter_reply_in_json_mode() {
        let r = p("entity<|#|>Acme<|#|>Organization<|#|>A maker.\n<|COMPLETE|>");
        assert_eq!(r.extraction.entities.len(), 1);
        assert!(r.completed);
    }

    #[test]
    fn latex_escape_damage() {
        let r = p("{\"entities\":[{\"name\":\"Formula\",\"type\":\"Concept\",\"description\":\"Uses \\frac{a}{b}.\"}]}");
        assert_eq!(r.extraction.entities[0].description, "Uses \\frac{a}{b}.");
    }
}
