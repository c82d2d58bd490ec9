//! Small text utilities shared by the offline keyword extractor and the extractive answerer:
//! English stopwords, word splitting and sentence splitting.

/// Common English words that carry no topic.
pub const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "tell",
    "describe",
    "explain",
    "give",
    "list",
    "many",
    "much",
    "please",
    "know",
    "show",
    "did",
    "does",
    "whose",
    "there",
    "made",
    "make",
    "within",
    "among",
    "per",
    "via",
];

/// Whether a lowercase word is a stopword.
pub fn is_stopword(lower: &str) -> bool {
    STOPWORDS.contains(&lower)
}

/// Words of a text: runs of alphanumeric characters (apostrophes and hyphens inside a word kept).
pub fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(pos, c)) in chars.iter().enumerate() {
        let inner_joiner = (c == '\'' || c == '-' || c == '’')
            && start.is_some()
            && chars.get(i + 1).is_some_and(|(_, n)| n.is_alphanumeric());
        if c.is_alphanumeric() || inner_joiner {
            if start.is_none() {
                start = Some(pos);
            }
        } else if let Some(s) = start.take() {
            out.push(&text[s..pos]);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Content words of a text, lowercased, stopwords and one-letter words removed.
pub fn content_words(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .map(|w| w.to_lowercase())
        .filter(|w| w.chars().count() > 1 && !is_stopword(w))
        .collect()
}

/// Joins hard-wrapped lines: a single line break inside a paragraph becomes a space, while
/// blank lines, headings and list items keep their own lines.
pub fn unwrap_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev_blank = true;
    for line in text.lines() {
        let t = line.trim();
        let starts_block = t.is_empty()
            || t.starts_with('#')
            || t.starts_with("- ")
            || t.starts_with("* ")
            || t.split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if !out.is_empty() {
            out.push(if starts_block || prev_blank {
                '\n'
            } else {
                ' '
            });
        }
        out.push_str(t);
        prev_blank = t.is_empty() || t.starts_with('#');
    }
    out
}

const ABBREVIATIONS: &[&str] = &[
    "dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "vs", "etc", "inc", "ltd", "co", "corp",
    "no", "fig", "e.g", "i.e", "u.s", "mt",
];

/// Splits text into sentences at `.`, `!`, `?` (not after common abbreviations or inside
/// numbers) and at blank lines or line breaks.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let end = match b {
            b'\n' => Some(i),
            b'!' | b'?' => Some(i + 1),
            b'.' => {
                let next_is_space = bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace());
                let prev_word: String = text[start..i]
                    .rsplit(|c: char| c.is_whitespace())
                    .next()
                    .unwrap_or("")
                    .trim_start_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase();
                let abbrev = ABBREVIATIONS.contains(&prev_word.as_str())
                    || (prev_word.chars().count() == 1
                        && prev_word.chars().all(char::is_alphabetic));
                (next_is_space && !abbrev).then_some(i + 1)
            }
            _ => None,
        };
        if let Some(e) = end {
            let s = text[start..e].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = e;
        }
        i += 1;
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_but_not_abbreviations_or_decimals() {
        let s = sentences("Dr. Smith paid 3.5 dollars. Then he left!\nNew line here");
        assert_eq!(
            s,
            vec![
                "Dr. Smith paid 3.5 dollars.",
                "Then he left!",
                "New line here"
            ]
        );
    }

    #[test]
    fn wrapped_lines_join_but_blocks_stay() {
        let t = "# Title\nA sentence that\nwraps here.\n\n- item one\n- item two\n1. first";
        assert_eq!(
            unwrap_lines(t),
            "# Title\nA sentence that wraps here.\n\n- item one\n- item two\n1. first"
        );
    }

    #[test]
    fn words_keep_inner_apostrophes_and_hyphens() {
        assert_eq!(
            words("Acme's well-known (river)"),
            vec!["Acme's", "well-known", "river"]
        );
        assert_eq!(
            content_words("What is the Acme river?"),
            vec!["acme", "river"]
        );
        assert!(words("日本語 テキスト").len() == 2);
    }
}
