//! LightRAG's clean-up of extracted names, types, keywords and descriptions
//! (`sanitize_text_for_encoding`, `normalize_extracted_info`, `_normalize_and_validate_entity_type`,
//! `_truncate_entity_identifier`), re-implemented rule by rule.

/// Entity names are cut to this many characters (`DEFAULT_ENTITY_NAME_MAX_LENGTH`).
pub const ENTITY_NAME_MAX_CHARS: usize = 256;
/// ... and to this many UTF-8 bytes, on a character boundary (`DEFAULT_ENTITY_NAME_MAX_BYTES`).
pub const ENTITY_NAME_MAX_BYTES: usize = 512;

/// Entity types that would break the WebUI (JavaScript prototype members).
const RESERVED_ENTITY_TYPES: [&str; 3] = ["__proto__", "constructor", "prototype"];

/// Characters that make an entity type invalid (the entity is dropped).
const FORBIDDEN_TYPE_CHARS: [char; 8] = ['\'', '(', ')', '<', '>', '|', '/', '\\'];

/// The common CJK ideographs LightRAG's rules look at (`[\u4e00-\u9fa5]`).
fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fa5}').contains(&c)
}

/// The ASCII neighbours next to which whitespace after/before a CJK character is removed.
fn is_cjk_glue_ascii(c: char) -> bool {
    c.is_ascii_alphanumeric() || "()[]@#$%!&*-=+_".contains(c)
}

/// `str.isdigit()`, close enough: ASCII digits and other Unicode digits.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}

/// `sanitize_text_for_encoding`: trim, unescape HTML entities, drop non-characters and control
/// characters other than `\t`, `\n`, `\r`, trim again.
pub fn sanitize_text(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        return String::new();
    }
    let t = html_unescape(t);
    t.chars()
        .filter(|&c| {
            !matches!(c, '\u{FFFE}' | '\u{FFFF}')
                && !matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}')
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// `sanitize_and_normalize_extracted_text`: [`sanitize_text`] then [`normalize_extracted_info`].
/// `remove_inner_quotes` is LightRAG's mode for names, types and keywords.
pub fn normalize_text(text: &str, remove_inner_quotes: bool) -> String {
    let safe = sanitize_text(text);
    if safe.is_empty() {
        return safe;
    }
    normalize_extracted_info(&safe, remove_inner_quotes)
}

/// An entity name as LightRAG stores it: normalised (inner quotes removed), then cut to
/// [`ENTITY_NAME_MAX_CHARS`] characters and [`ENTITY_NAME_MAX_BYTES`] bytes. `None` when nothing
/// is left (empty, or a short number such as `12` or `1.2`). Case is kept.
pub fn normalize_name(s: &str) -> Option<String> {
    let n = normalize_text(s, true);
    if n.trim().is_empty() {
        return None;
    }
    Some(truncate_name(&n))
}

/// An entity type as LightRAG stores it: normalised, then rejected if it holds any of
/// `' ( ) < > | / \`, reduced to its first non-empty token if it is a comma list, with ASCII
/// spaces removed and lowercased (`Natural Object` → `naturalobject`); `__proto__`,
/// `constructor` and `prototype` are rejected.
pub fn normalize_entity_type(s: &str) -> Option<String> {
    validate_entity_type(&normalize_text(s, true))
}

/// A description (or any free text) as LightRAG stores it; `None` when empty.
pub fn normalize_description(s: &str) -> Option<String> {
    let d = normalize_text(s, false);
    if d.trim().is_empty() {
        None
    } else {
        Some(d)
    }
}

/// Relation keywords as LightRAG stores them: normalised like names, full-width commas made ASCII.
/// May be empty.
pub fn normalize_keywords(s: &str) -> String {
    normalize_text(s, true).replace('，', ",")
}

/// `_normalize_and_validate_entity_type` on an already normalised type.
pub(crate) fn validate_entity_type(t: &str) -> Option<String> {
    if t.trim().is_empty() || t.contains(&FORBIDDEN_TYPE_CHARS[..]) {
        return None;
    }
    let first = if t.contains(',') {
        t.split(',').map(str::trim).find(|p| !p.is_empty())?
    } else {
        t
    };
    let ty = first.replace(' ', "").to_lowercase();
    if ty.is_empty() || RESERVED_ENTITY_TYPES.contains(&ty.as_str()) {
        return None;
    }
    Some(ty)
}

/// Cuts a name to [`ENTITY_NAME_MAX_CHARS`] characters, then to [`ENTITY_NAME_MAX_BYTES`] bytes
/// on a character boundary (`_truncate_entity_identifier`).
pub fn truncate_name(name: &str) -> String {
    let mut end = name.len();
    if let Some((i, _)) = name.char_indices().nth(ENTITY_NAME_MAX_CHARS) {
        end = i;
    }
    if end > ENTITY_NAME_MAX_BYTES {
        end = ENTITY_NAME_MAX_BYTES;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
    }
    name[..end].to_string()
}

/// `normalize_extracted_info`, step by step (see the module docs of [`super`]).
pub fn normalize_extracted_info(name: &str, remove_inner_quotes: bool) -> String {
    let s = remove_p_br_tags(name);
    let s: String = s
        .chars()
        .map(|c| match c {
            'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '０'..='９' => {
                char::from_u32(c as u32 - 0xFF10 + 0x30).unwrap_or(c)
            }
            '－' | '—' => '-',
            '＋' => '+',
            '／' => '/',
            '＊' => '*',
            '（' => '(',
            '）' => ')',
            '\u{3000}' => ' ',
            other => other,
        })
        .collect();
    let mut s = remove_cjk_spaces(&s);
    s = strip_outer_quotes(s);
    if remove_inner_quotes {
        s = s
            .chars()
            .filter(|c| !matches!(c, '“' | '”' | '‘' | '’'))
            .collect();
        s = remove_quotes_near_cjk(&s);
        s = s.replace('\u{a0}', " ");
        let chars: Vec<char> = s.chars().collect();
        s = chars
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                if c == '\u{202F}' && i > 0 && !is_digit(chars[i - 1]) {
                    ' '
                } else {
                    c
                }
            })
            .collect();
    }
    let s = s.trim();
    let n = s.chars().count();
    if n < 3 && !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return String::new();
    }
    if n < 6 && s.contains('.') && s.chars().all(|c| c == '.' || is_digit(c)) {
        return String::new();
    }
    s.to_string()
}

/// Removes `<p>`, `</p>`, `<p/>`, `<br>`, `</br>`, `<br/>` (any case, spaces before `>`).
fn remove_p_br_tags(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '<' {
            if let Some(end) = match_p_br_tag(&chars, i) {
                i = end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The end of a `<p>`/`<br>` tag starting at `i`, if there is one.
fn match_p_br_tag(c: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let closing = c.get(j) == Some(&'/');
    if closing {
        j += 1;
    }
    let lower = |k: usize| c.get(k).map(|ch| ch.to_ascii_lowercase());
    if lower(j) == Some('p') {
        j += 1;
    } else if lower(j) == Some('b') && lower(j + 1) == Some('r') {
        j += 2;
    } else {
        return None;
    }
    if !closing && c.get(j) == Some(&'/') && c.get(j + 1) == Some(&'>') {
        return Some(j + 2);
    }
    while c.get(j).is_some_and(|ch| ch.is_whitespace()) {
        j += 1;
    }
    (c.get(j) == Some(&'>')).then_some(j + 1)
}

/// Removes whitespace between two CJK characters, and between a CJK character and an ASCII
/// letter, digit or one of `()[]@#$%!&*-=+_` (either order).
fn remove_cjk_spaces(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            let start = i;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            let prev = start.checked_sub(1).map(|k| chars[k]);
            let next = chars.get(i).copied();
            let drop = match (prev, next) {
                (Some(p), Some(n)) => {
                    (is_cjk(p) && (is_cjk(n) || is_cjk_glue_ascii(n)))
                        || (is_cjk_glue_ascii(p) && is_cjk(n))
                }
                _ => false,
            };
            if !drop {
                out.extend(&chars[start..i]);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Strips one pair of `"…"`, then `'…'`, then `“…”`, then `‘…’`, then `《…》` (each only when the
/// same quote does not occur inside), checked in that order on strings of two or more characters.
fn strip_outer_quotes(s: String) -> String {
    if s.chars().count() < 2 {
        return s;
    }
    let mut s = s;
    for (open, close) in [
        ('"', '"'),
        ('\'', '\''),
        ('“', '”'),
        ('‘', '’'),
        ('《', '》'),
    ] {
        if s.starts_with(open) && s.ends_with(close) {
            let inner: String = {
                let mut it = s.chars();
                it.next();
                it.next_back();
                it.collect()
            };
            if !inner.contains(open) && !inner.contains(close) {
                s = inner;
            }
        }
    }
    s
}

/// Removes runs of `'`/`"` followed by a CJK character, then runs preceded by one.
fn remove_quotes_near_cjk(s: &str) -> String {
    let is_q = |c: char| c == '\'' || c == '"';
    let pass = |chars: &[char], before: bool| -> Vec<char> {
        let mut out = Vec::with_capacity(chars.len());
        let mut i = 0;
        while i < chars.len() {
            if is_q(chars[i]) {
                let start = i;
                while i < chars.len() && is_q(chars[i]) {
                    i += 1;
                }
                let drop = if before {
                    chars.get(i).is_some_and(|&c| is_cjk(c))
                } else {
                    start > 0 && is_cjk(chars[start - 1])
                };
                if !drop {
                    out.extend_from_slice(&chars[start..i]);
                }
            } else {
                out.push(chars[i]);
                i += 1;
            }
        }
        out
    };
    let chars: Vec<char> = s.chars().collect();
    let first = pass(&chars, true);
    pass(&first, false).into_iter().collect()
}

/// `html.unescape` for the entities an LLM writes: `&amp; &lt; &gt; &quot; &apos; &nbsp;` and
/// numeric references (`&#39;`, `&#x27;`).
pub(crate) fn html_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '&' {
            if let Some((rep, end)) = match_entity(&chars, i) {
                out.push(rep);
                i = end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn match_entity(c: &[char], i: usize) -> Option<(char, usize)> {
    let mut j = i + 1;
    if c.get(j) == Some(&'#') {
        j += 1;
        let hex = matches!(c.get(j), Some('x') | Some('X'));
        if hex {
            j += 1;
        }
        let start = j;
        while j < c.len()
            && j - start < 8
            && (if hex {
                c[j].is_ascii_hexdigit()
            } else {
                c[j].is_ascii_digit()
            })
        {
            j += 1;
        }
        if j == start {
            return None;
        }
        let digits: String = c[start..j].iter().collect();
        let n = u32::from_str_radix(&digits, if hex { 16 } else { 10 }).ok()?;
        if c.get(j) == Some(&';') {
            j += 1;
        }
        let ch = match n {
            0 => '\u{FFFD}',
            n => char::from_u32(n).unwrap_or('\u{FFFD}'),
        };
        return Some((ch, j));
    }
    const NAMED: [(&str, char, bool); 6] = [
        ("amp", '&', true),
        ("lt", '<', true),
        ("gt", '>', true),
        ("quot", '"', true),
        ("nbsp", '\u{a0}', true),
        ("apos", '\'', false),
    ];
    for (name, ch, semicolon_optional) in NAMED {
        let n = name.len();
        if c.len() >= j + n && c[j..j + n].iter().copied().eq(name.chars()) {
            if c.get(j + n) == Some(&';') {
                return Some((ch, j + n + 1));
            }
            if semicolon_optional {
                return Some((ch, j + n));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_case_and_lose_quotes() {
        assert_eq!(
            normalize_name(" \"Acme Corp\" ").as_deref(),
            Some("Acme Corp")
        );
        assert_eq!(normalize_name("《三体》").as_deref(), Some("三体"));
        assert_eq!(normalize_name("“Jane Roe”").as_deref(), Some("Jane Roe"));
        assert_eq!(
            normalize_name("ＡＣＭＥ　１２３").as_deref(),
            Some("ACME 123")
        );
        assert_eq!(
            normalize_name("中国 人民 银行 ABC").as_deref(),
            Some("中国人民银行ABC")
        );
        assert_eq!(normalize_name("12"), None);
        assert_eq!(normalize_name("1.2.3"), None);
        assert_eq!(normalize_name("123").as_deref(), Some("123"));
        assert_eq!(normalize_name("<p>  </p>"), None);
        assert_eq!(normalize_name("A&amp;B").as_deref(), Some("A&B"));
        assert_eq!(normalize_name("Foo\u{a0}Bar").as_deref(), Some("Foo Bar"));
    }

    #[test]
    fn types() {
        assert_eq!(normalize_entity_type("Person").as_deref(), Some("person"));
        assert_eq!(
            normalize_entity_type("Natural Object").as_deref(),
            Some("naturalobject")
        );
        assert_eq!(
            normalize_entity_type(" , Location, Place").as_deref(),
            Some("location")
        );
        assert_eq!(normalize_entity_type("Person/Org"), None);
        assert_eq!(normalize_entity_type("it's"), None);
        assert_eq!(normalize_entity_type("__proto__"), None);
        assert_eq!(normalize_entity_type("Constructor"), None);
        assert_eq!(normalize_entity_type(""), None);
    }

    #[test]
    fn truncation_on_char_boundary() {
        let long = "名".repeat(300);
        let t = truncate_name(&long);
        assert!(t.len() <= ENTITY_NAME_MAX_BYTES && t.chars().count() <= ENTITY_NAME_MAX_CHARS);
        assert_eq!(t.chars().count(), 170);
        let ascii = "a".repeat(300);
        assert_eq!(truncate_name(&ascii).len(), 256);
    }

    #[test]
    fn descriptions_keep_inner_quotes() {
        assert_eq!(
            normalize_description("\"It is \"big\"\"").as_deref(),
            Some("\"It is \"big\"\"")
        );
        assert_eq!(normalize_description("'quoted'").as_deref(), Some("quoted"));
        assert_eq!(normalize_description("<br/>"), None);
        assert_eq!(normalize_keywords("a，b"), "a,b");
    }
}
