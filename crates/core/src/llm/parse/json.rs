//! Recovering one JSON object from a model's reply: strict first, then a lenient parser for the
//! slips models make (single quotes, trailing commas, unquoted keys, Python literals, comments,
//! unescaped inner quotes, a cut-off end). Top-level arrays are rejected, as LightRAG's
//! `tolerant_load_json_dict` does, so one element is never taken for the whole answer.

use serde_json::{Map, Number, Value};

use super::clean::strip_code_fence;

/// Nesting deeper than this is not followed (the rest of the text is skipped).
const MAX_DEPTH: usize = 64;

/// A string value cut off by the end of a reply is kept (half-written) only under these keys,
/// as a cut last line keeps its description in the delimiter format; anywhere else (a name, a
/// type, a list item) it is dropped, so a cut name never becomes a node of its own.
const CUT_VALUE_KEYS: [&str; 4] = [
    "description",
    "entity_description",
    "relationship_description",
    "desc",
];

/// A recovered object and whether it was whole (parsed strictly, or leniently without running
/// off the end of the text).
pub(crate) struct Recovered {
    pub map: Map<String, Value>,
    pub complete: bool,
}

/// The first JSON object of `text` (fences stripped, prose before and after ignored), or `None`
/// when the first `{`/`[` outside a double-quoted string is not a `{` or nothing parses.
pub(crate) fn recover_object(text: &str) -> Option<Recovered> {
    let candidate = strip_code_fence(text).trim();
    let start = first_structural_opener(candidate)
        .filter(|&(c, _)| c == '{')?
        .1;
    let suffix = &candidate[start..];
    if let Some(Ok(Value::Object(map))) = serde_json::Deserializer::from_str(suffix)
        .into_iter::<Value>()
        .next()
    {
        return Some(Recovered {
            map,
            complete: true,
        });
    }
    let slice: Vec<char> = first_balanced_object(suffix).chars().collect();
    let mut p = Lenient::new(&slice);
    match p.value() {
        Some(Value::Object(map)) => Some(Recovered {
            map,
            complete: !p.truncated,
        }),
        _ => None,
    }
}

/// Parses one value leniently from `chars` at `pos`; returns it and whether the text ran out.
pub(crate) fn lenient_value_at(chars: &[char], pos: usize) -> Option<(Value, bool)> {
    let mut p = Lenient::new(chars);
    p.i = pos.min(chars.len());
    let v = p.value()?;
    Some((v, p.truncated))
}

/// The first `{` or `[` that is not inside a double-quoted string, with its byte offset.
fn first_structural_opener(text: &str) -> Option<(char, usize)> {
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' | '[' => return Some((c, i)),
            _ => {}
        }
    }
    None
}

/// The first brace-balanced `{…}` of `text` (which starts at `{`); a `'` opens a string only
/// after `{ [ , :` so an apostrophe in a bare word does not swallow the closing brace. The
/// whole text when the braces never balance (a cut-off reply stays repairable).
fn first_balanced_object(text: &str) -> &str {
    let mut depth: i64 = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut prev = ' ';
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if c == '"' || (c == '\'' && "{[,:".contains(prev)) {
            quote = Some(c);
        } else if c == '{' {
            depth += 1;
        } else if c == '}' {
            depth -= 1;
            if depth == 0 {
                return &text[..i + 1];
            }
        }
        if !c.is_whitespace() {
            prev = c;
        }
    }
    text
}

/// A forgiving recursive-descent JSON reader. It never fails on bad input: it skips what it
/// cannot read and notes whether the text ended inside a value.
struct Lenient<'a> {
    s: &'a [char],
    i: usize,
    depth: usize,
    truncated: bool,
    /// The last string read was cut off by the end of the text.
    cut: bool,
}

impl<'a> Lenient<'a> {
    fn new(s: &'a [char]) -> Self {
        Lenient {
            s,
            i: 0,
            depth: 0,
            truncated: false,
            cut: false,
        }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => self.i += 1,
                Some('/') if self.s.get(self.i + 1) == Some(&'/') => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                Some('/') if self.s.get(self.i + 1) == Some(&'*') => {
                    self.i += 2;
                    while self.i < self.s.len()
                        && !(self.s[self.i] == '*' && self.s.get(self.i + 1) == Some(&'/'))
                    {
                        self.i += 1;
                    }
                    self.i = (self.i + 2).min(self.s.len());
                }
                _ => return,
            }
        }
    }

    fn value(&mut self) -> Option<Value> {
        self.skip_ws();
        match self.peek()? {
            '{' | '[' if self.depth >= MAX_DEPTH => {
                self.i = self.s.len();
                None
            }
            '{' => Some(self.object()),
            '[' => Some(self.array()),
            q @ ('"' | '\'' | '“' | '‘') => {
                let (text, closed) = self.string(q);
                self.cut |= !closed;
                Some(Value::String(text))
            }
            _ => self.bare(),
        }
    }

    fn object(&mut self) -> Value {
        self.i += 1;
        self.depth += 1;
        let mut map = Map::new();
        loop {
            self.skip_ws();
            let start = self.i;
            match self.peek() {
                None => {
                    self.truncated = true;
                    break;
                }
                Some('}') => {
                    self.i += 1;
                    break;
                }
                Some(',') | Some(']') | Some(':') => {
                    self.i += 1;
                    continue;
                }
                _ => {}
            }
            let key = match self.peek() {
                Some(q @ ('"' | '\'' | '“' | '‘')) => self.string(q).0,
                _ => self.bare_key(),
            };
            self.skip_ws();
            match self.peek() {
                Some(':') => self.i += 1,
                Some('}') | Some(',') => {
                    // A key without a value: dropped.
                    continue;
                }
                None => {
                    self.truncated = true;
                    break;
                }
                _ => {}
            }
            self.cut = false;
            let mut v = self.value();
            if v.is_none() && self.peek().is_none() {
                self.truncated = true;
            }
            if std::mem::take(&mut self.cut) && !CUT_VALUE_KEYS.contains(&key.as_str()) {
                v = None;
            }
            if !key.is_empty() {
                map.insert(key, v.unwrap_or(Value::Null));
            }
            if self.i == start {
                self.i += 1;
            }
        }
        self.depth -= 1;
        Value::Object(map)
    }

    fn array(&mut self) -> Value {
        self.i += 1;
        self.depth += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            let start = self.i;
            match self.peek() {
                None => {
                    self.truncated = true;
                    break;
                }
                Some(']') => {
                    self.i += 1;
                    break;
                }
                // A missing `]`: the enclosing object closes here.
                Some('}') => break,
                Some(',') | Some(':') => {
                    self.i += 1;
                    continue;
                }
                _ => {}
            }
            self.cut = false;
            let v = self.value();
            if let Some(v) = v.filter(|_| !std::mem::take(&mut self.cut)) {
                items.push(v);
            }
            if self.i == start {
                self.i += 1;
            }
        }
        self.depth -= 1;
        Value::Array(items)
    }

    /// A quoted string. A closing quote counts only when what follows (after spaces) ends the
    /// value (`, } ] :` or the end), or when a line break follows it (a missing comma);
    /// otherwise it is an unescaped quote inside the text. The flag is false when the text
    /// ended before the closing quote.
    fn string(&mut self, open: char) -> (String, bool) {
        let close = match open {
            '“' => '”',
            '‘' => '’',
            q => q,
        };
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.truncated = true;
                return (out, false);
            };
            self.i += 1;
            if c == '\\' {
                let Some(e) = self.peek() else {
                    self.truncated = true;
                    return (out, false);
                };
                self.i += 1;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => match self.unicode_escape() {
                        Some(ch) => out.push(ch),
                        None => out.push_str("\\u"),
                    },
                    other => out.push(other),
                }
                continue;
            }
            if c == close {
                let mut j = self.i;
                let mut newline = false;
                while let Some(&w) = self.s.get(j) {
                    if !w.is_whitespace() {
                        break;
                    }
                    newline |= w == '\n';
                    j += 1;
                }
                match self.s.get(j) {
                    None | Some(',') | Some('}') | Some(']') | Some(':') => break,
                    Some('/') if matches!(self.s.get(j + 1), Some('/') | Some('*')) => break,
                    Some(_) if newline => break,
                    Some(_) => {}
                }
            }
            out.push(c);
        }
        (out, true)
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits: String = self.s.get(self.i..self.i + 4)?.iter().collect();
        let v = u32::from_str_radix(&digits, 16).ok()?;
        self.i += 4;
        Some(v)
    }

    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
            if self.s.get(self.i) == Some(&'\\') && self.s.get(self.i + 1) == Some(&'u') {
                let save = self.i;
                self.i += 2;
                if let Some(lo) = self.hex4() {
                    if (0xDC00..0xE000).contains(&lo) {
                        return char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
                    }
                }
                self.i = save;
            }
            return Some('\u{FFFD}');
        }
        Some(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }

    /// An unquoted key, up to `:` (or a structural character / line end).
    fn bare_key(&mut self) -> String {
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, ':' | ',' | '}' | '{' | '[' | ']' | '\n') {
                break;
            }
            self.i += 1;
        }
        self.s[start..self.i]
            .iter()
            .collect::<String>()
            .trim()
            .to_string()
    }

    /// A number, a literal (`true`, `False`, `None`, ...) or an unquoted word, up to `, } ]` or a
    /// line end. `None` (nothing consumed) when a structural character is next.
    fn bare(&mut self) -> Option<Value> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, ',' | '}' | ']' | '\n' | '{' | '[') {
                break;
            }
            self.i += 1;
        }
        let word: String = self.s[start..self.i]
            .iter()
            .collect::<String>()
            .trim()
            .to_string();
        if word.is_empty() {
            return None;
        }
        Some(match word.as_str() {
            "true" | "True" => Value::Bool(true),
            "false" | "False" => Value::Bool(false),
            "null" | "None" | "undefined" => Value::Null,
            w => {
                if let Ok(n) = w.parse::<i64>() {
                    Value::Number(n.into())
                } else if let Some(n) = w.parse::<f64>().ok().and_then(Number::from_f64) {
                    Value::Number(n)
                } else {
                    Value::String(w.to_string())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(s: &str) -> Option<(Value, bool)> {
        recover_object(s).map(|r| (Value::Object(r.map), r.complete))
    }

    #[test]
    fn strict_and_lenient() {
        assert_eq!(
            obj("{\"a\": 1} trailing {x}"),
            Some((json!({"a": 1}), true))
        );
        assert_eq!(
            obj("Here you go: {\"a\": [1, 2]}"),
            Some((json!({"a": [1, 2]}), true))
        );
        assert_eq!(obj("{'a': 'b',}"), Some((json!({"a": "b"}), true)));
        assert_eq!(
            obj("{a: True, b: None}"),
            Some((json!({"a": true, "b": null}), true))
        );
        assert_eq!(
            obj("{\"a\": \"say \"hi\" now\"}"),
            Some((json!({"a": "say \"hi\" now"}), true))
        );
        assert_eq!(
            obj("{'a': 'O'Reilly'}"),
            Some((json!({"a": "O'Reilly"}), true))
        );
        assert_eq!(
            obj("{\"a\": [\"x\", \"y"),
            Some((json!({"a": ["x"]}), false))
        );
        assert_eq!(obj("{\"name\": \"Ac"), Some((json!({"name": null}), false)));
        assert_eq!(
            obj("{\"description\": \"Ac"),
            Some((json!({"description": "Ac"}), false))
        );
        assert_eq!(
            obj("{\"a\": [{\"b\": 1}, {\"b\": 2}}"),
            Some((json!({"a": [{"b": 1}, {"b": 2}]}), true))
        );
        assert_eq!(obj("[{\"a\": 1}]"), None);
        assert_eq!(obj("no json here"), None);
        assert_eq!(
            obj("```json\n{\"a\": 1,}\n```"),
            Some((json!({"a": 1}), true))
        );
        assert_eq!(
            obj("{\"a\": \"x\" // note\n}"),
            Some((json!({"a": "x"}), true))
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!("{{\"a\": {}", "[".repeat(100_000));
        assert!(obj(&deep).is_some());
        let deep = "{".repeat(100_000);
        let _ = obj(&deep);
    }
}
