//! Word and punctuation tokens of a sentence, with the shape facts the name finder needs.

use super::lexicon::{self, ABBREV, ABBREV_END};

/// A word (letters and digits, with inner `-`, `'`, `.`, `&`) or one punctuation character.
#[derive(Debug, Clone)]
pub struct Tok<'a> {
    /// The word as written, without a possessive `'s`; for punctuation, the character.
    pub text: &'a str,
    /// `text` lowercased.
    pub lower: String,
    /// The lexicon roles of `lower` (without a trailing period).
    pub flags: u32,
    pub is_word: bool,
    /// Starts with an uppercase letter.
    pub cap: bool,
    /// Two or more uppercase letters and no lowercase ones ("NASA", "U.S.", "CO2").
    pub all_caps: bool,
    pub has_digit: bool,
    pub has_alpha: bool,
    pub has_upper: bool,
    /// Starts with a lowercase letter.
    pub lower_initial: bool,
    /// A lowercase start with a capital inside ("iPhone", "eBay").
    pub inner_upper: bool,
    /// Ends a run of names: a possessive ("Acme's"), a cut hyphen compound ("Oslo-based") or a
    /// sentence-ending abbreviation ("Inc.").
    pub ends_name: bool,
    /// Digits only.
    pub number: bool,
    /// Written with a possessive `'s` (removed from `text`).
    pub possessive: bool,
}

/// The tokens of one sentence.
pub fn tokenize(s: &str) -> Vec<Tok<'_>> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let n = chars.len();
    let byte = |k: usize| chars.get(k).map_or(s.len(), |&(b, _)| b);
    let mut toks = Vec::with_capacity(n / 4 + 1);
    let mut k = 0;
    while k < n {
        let c = chars[k].1;
        if c.is_whitespace() {
            k += 1;
            continue;
        }
        if !c.is_alphanumeric() {
            toks.push(punct(&s[byte(k)..byte(k + 1)]));
            k += 1;
            continue;
        }
        let st = k;
        k += 1;
        loop {
            if k < n && chars[k].1.is_alphanumeric() {
                k += 1;
            } else if k + 1 < n
                && matches!(chars[k].1, '-' | '\'' | '’' | '.' | '&')
                && chars[k + 1].1.is_alphanumeric()
            {
                k += 2;
            } else {
                break;
            }
        }
        let mut text = &s[byte(st)..byte(k)];
        let mut ends_name = false;
        let mut possessive = false;
        if k < n && chars[k].1 == '.' {
            let single_letter = k == st + 1 && c.is_alphabetic();
            let abbrev = lexicon::flags(&text.to_lowercase());
            if single_letter || text.contains('.') || abbrev & (ABBREV | ABBREV_END) != 0 {
                k += 1;
                text = &s[byte(st)..byte(k)];
                ends_name = abbrev & ABBREV_END != 0;
            }
        }
        for suffix in ["'s", "’s", "'S", "’S"] {
            if let Some(base) = text.strip_suffix(suffix) {
                if !base.is_empty() {
                    text = base;
                    ends_name = true;
                    possessive = true;
                }
                break;
            }
        }
        if c.is_uppercase() && text.contains('-') {
            // "Oslo-based" → "Oslo": cut at the first lowercase segment.
            let mut offset = 0;
            for seg in text.split('-') {
                if seg.starts_with(char::is_lowercase) && offset > 0 {
                    text = &text[..offset - 1];
                    ends_name = true;
                    break;
                }
                offset += seg.len() + 1;
            }
        }
        toks.push(word(text, ends_name, possessive));
    }
    toks
}

fn punct(text: &str) -> Tok<'_> {
    Tok {
        text,
        lower: String::new(),
        flags: 0,
        is_word: false,
        cap: false,
        all_caps: false,
        has_digit: false,
        has_alpha: false,
        has_upper: false,
        lower_initial: false,
        inner_upper: false,
        ends_name: false,
        number: false,
        possessive: false,
    }
}

fn word(text: &str, ends_name: bool, possessive: bool) -> Tok<'_> {
    let lower = text.to_lowercase();
    let flags = lexicon::flags(lower.strip_suffix('.').unwrap_or(&lower));
    let (mut upper, mut lowercase, mut digits, mut alpha) = (0usize, 0usize, 0usize, 0usize);
    for c in text.chars() {
        if c.is_uppercase() {
            upper += 1;
        } else if c.is_lowercase() {
            lowercase += 1;
        }
        if c.is_numeric() {
            digits += 1;
        }
        if c.is_alphabetic() {
            alpha += 1;
        }
    }
    let first = text.chars().next().unwrap_or(' ');
    let lower_initial = first.is_lowercase();
    Tok {
        text,
        lower,
        flags,
        is_word: true,
        cap: first.is_uppercase(),
        all_caps: upper >= 2 && lowercase == 0,
        has_digit: digits > 0,
        has_alpha: alpha > 0,
        has_upper: upper > 0,
        lower_initial,
        inner_upper: lower_initial && upper > 0 && !text.contains('-'),
        ends_name,
        number: digits > 0 && text.chars().all(|c| c.is_ascii_digit()),
        possessive,
    }
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    fn words(s: &str) -> Vec<&str> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn words_and_punctuation() {
        assert_eq!(
            words("Dr. O'Brien's AT&T (U.S.) e.g. 3.14 Oslo-based Jean-Luc Acme Inc. ends."),
            vec![
                "Dr.", "O'Brien", "AT&T", "(", "U.S.", ")", "e.g.", "3.14", "Oslo", "Jean-Luc",
                "Acme", "Inc.", "ends", "."
            ]
        );
        let toks = tokenize("NASA's iPhone X2 1962 Acme");
        assert!(toks[0].all_caps && toks[0].ends_name);
        assert!(toks[1].inner_upper);
        assert!(toks[2].has_digit && toks[2].cap && !toks[2].all_caps);
        assert!(toks[3].number);
        assert!(!toks[4].ends_name);
    }
}
