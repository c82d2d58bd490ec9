//! The keyword reply of a query: `{"high_level_keywords": [...], "low_level_keywords": [...]}`
//! (LightRAG's `_parse_keywords_payload`).

use serde_json::{Map, Value};

use super::clean::{strip_code_fence, strip_think_tags};
use super::json::{lenient_value_at, recover_object};
use crate::query::Keywords;

const HIGH: &str = "high_level_keywords";
const LOW: &str = "low_level_keywords";

pub(crate) fn parse(reply: &str) -> Option<Keywords> {
    let cleaned = strip_think_tags(reply);
    let unfenced = strip_code_fence(&cleaned).trim();
    let map: Option<Map<String, Value>> = match serde_json::from_str::<Value>(unfenced) {
        Ok(Value::Object(m)) => Some(m),
        // Valid JSON that is not an object (a list, a string): nothing usable.
        Ok(_) => return None,
        Err(_) => recover_object(unfenced).map(|r| r.map),
    };
    let (high, low) = match map.as_ref().map(|m| (lookup(m, HIGH), lookup(m, LOW))) {
        Some((h, l)) if h.is_some() || l.is_some() => (h.cloned(), l.cloned()),
        // No object, or one without either key: look for the two lists by name.
        _ => (
            value_after_key(unfenced, HIGH),
            value_after_key(unfenced, LOW),
        ),
    };
    if high.is_none() && low.is_none() {
        return None;
    }
    Some(Keywords {
        high_level: keyword_list(high.as_ref()),
        low_level: keyword_list(low.as_ref()),
    })
}

/// The value under `key`, exact spelling first, then any case / surrounding spaces.
fn lookup<'m>(m: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The value written after `"key":` anywhere in the text (read leniently).
fn value_after_key(text: &str, key: &str) -> Option<Value> {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = chars.iter().map(|c| c.to_ascii_lowercase()).collect();
    let k: Vec<char> = key.chars().collect();
    let mut i = 0;
    while i + k.len() <= lower.len() {
        if lower[i..i + k.len()] == k[..] {
            let mut j = i + k.len();
            while chars
                .get(j)
                .is_some_and(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '“' | '”'))
            {
                j += 1;
            }
            if chars.get(j) == Some(&':') {
                if let Some((v, _)) = lenient_value_at(&chars, j + 1) {
                    return Some(v);
                }
            }
        }
        i += 1;
    }
    None
}

/// A list of strings: a string is split on `[\n,;]+`; non-string items are dropped; items are
/// trimmed and empty ones dropped. Anything else is an empty list.
fn keyword_list(v: Option<&Value>) -> Vec<String> {
    let clean = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
    match v {
        Some(Value::String(s)) => s.split(['\n', ',', ';']).filter_map(clean).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().and_then(clean))
            .collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(h: &[&str], l: &[&str]) -> Option<Keywords> {
        Some(Keywords {
            high_level: h.iter().map(|s| s.to_string()).collect(),
            low_level: l.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[test]
    fn shapes() {
        assert_eq!(
            parse(r#"{"high_level_keywords": ["a b"], "low_level_keywords": ["c", " ", 3]}"#),
            kw(&["a b"], &["c"])
        );
        assert_eq!(
            parse(r#"{"high_level_keywords": "x, y;z\nw", "low_level_keywords": []}"#),
            kw(&["x", "y", "z", "w"], &[])
        );
        assert_eq!(parse("[\"a\"]"), None);
        assert_eq!(parse("{\"answer\": 1}"), None);
        assert_eq!(
            parse(r#"{"high_level_keywords": [], "low_level_keywords": []}"#),
            kw(&[], &[])
        );
        assert_eq!(
            parse("broken { \"high_level_keywords\": [\"a\"] ]] , \"low_level_keywords\": ['b'"),
            kw(&["a"], &["b"])
        );
    }
}
