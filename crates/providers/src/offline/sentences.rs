//! Sentence splitting inside one clean block.
//!
//! A sentence ends at `.`, `!`, `?` or `…` (plus closing quotes and brackets) followed by a
//! space and a word that does not start in lowercase, and always at `。`, `！`, `？`. A period
//! does not end a sentence after a title or common abbreviation ("Dr.", "e.g.", "approx."), in a
//! decimal ("3.14"), or after an initial or a dotted acronym ("F.", "U.S.") unless the next word
//! is a typical sentence starter ("The", "It", ...).

use super::lexicon::{self, ABBREV, STOP};

/// The sentences of `text`, trimmed and non-empty, in order.
pub fn split(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let n = chars.len();
    let byte = |k: usize| chars.get(k).map_or(text.len(), |&(b, _)| b);
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut k = 0usize;
    while k < n {
        let c = chars[k].1;
        if matches!(c, '。' | '！' | '？') {
            let mut e = k + 1;
            while e < n && is_closer(chars[e].1) {
                e += 1;
            }
            push(&mut out, &text[start..byte(e)]);
            start = byte(e);
            k = e;
            continue;
        }
        if !matches!(c, '.' | '!' | '?' | '…') {
            k += 1;
            continue;
        }
        let mut e = k;
        while e < n && matches!(chars[e].1, '.' | '!' | '?' | '…') {
            e += 1;
        }
        let single_period = c == '.' && e == k + 1;
        while e < n && is_closer(chars[e].1) {
            e += 1;
        }
        if e < n && !chars[e].1.is_whitespace() {
            k = e;
            continue;
        }
        let mut m = e;
        while m < n && chars[m].1.is_whitespace() {
            m += 1;
        }
        if m < n && ends_sentence(text, &chars, k, m, single_period) {
            push(&mut out, &text[start..byte(e)]);
            start = byte(e);
        }
        k = e;
    }
    push(&mut out, &text[start..]);
    out
}

fn push<'a>(out: &mut Vec<&'a str>, s: &'a str) {
    let s = s.trim();
    if !s.is_empty() {
        out.push(s);
    }
}

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '”' | '’' | '»' | '」' | '』')
}

/// Whether the terminator at `k`, followed by the word at `m`, ends a sentence.
fn ends_sentence(
    text: &str,
    chars: &[(usize, char)],
    k: usize,
    m: usize,
    single_period: bool,
) -> bool {
    let next = chars[m].1;
    if next.is_lowercase() {
        return false;
    }
    if !single_period {
        return true;
    }
    // The word in front of the period.
    let mut w = k;
    while w > 0 && (chars[w - 1].1.is_alphanumeric() || chars[w - 1].1 == '.') {
        w -= 1;
    }
    if w == k {
        return true;
    }
    let word = &text[chars[w].0..chars[k].0];
    let lower = word.to_lowercase();
    if lexicon::flags(&lower) & ABBREV != 0 {
        return false;
    }
    let mut letters = word.chars();
    let initial = matches!((letters.next(), letters.next()), (Some(c), None) if c.is_uppercase());
    if initial || word.contains('.') {
        return next_word_is_starter(text, chars, m);
    }
    true
}

fn next_word_is_starter(text: &str, chars: &[(usize, char)], m: usize) -> bool {
    let mut e = m;
    while e < chars.len() && (chars[e].1.is_alphanumeric() || chars[e].1 == '\'') {
        e += 1;
    }
    let end = chars.get(e).map_or(text.len(), |&(b, _)| b);
    let word = text[chars[m].0..end].to_lowercase();
    lexicon::flags(&word) & STOP != 0
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_on_terminators() {
        assert_eq!(
            split("It rained. Did it? Yes! Then… Over."),
            vec!["It rained.", "Did it?", "Yes!", "Then…", "Over."]
        );
    }

    #[test]
    fn keeps_abbreviations_and_decimals() {
        assert_eq!(
            split(
                "Dr. Mara Lindqvist met Mr. Berg, e.g. at 3.5 km. John F. Kennedy visited \
                 the U.S. Army. It was 9 a.m. The end."
            ),
            vec![
                "Dr. Mara Lindqvist met Mr. Berg, e.g. at 3.5 km.",
                "John F. Kennedy visited the U.S. Army.",
                "It was 9 a.m. The end."
            ]
        );
        assert_eq!(
            split("They moved to the U.S. The move was long."),
            vec!["They moved to the U.S.", "The move was long."]
        );
        assert_eq!(
            split("Acme Inc. Lindqvist joined."),
            vec!["Acme Inc.", "Lindqvist joined."]
        );
    }

    #[test]
    fn quotes_and_cjk() {
        assert_eq!(
            split("He said \"Go.\" She went. 東京は大きい。大阪も！"),
            vec!["He said \"Go.\"", "She went.", "東京は大きい。", "大阪も！"]
        );
    }
}
