//! Wrappers models put around a reply: reasoning blocks and Markdown code fences.

/// Drops `<think>…</think>` blocks, and everything before a leading `</think>` that has no
/// opening tag (a stream that began inside the block), then trims (`remove_think_tags`).
/// An unclosed `<think>` is kept, as LightRAG does.
pub fn strip_think_tags(text: &str) -> String {
    let mut s = text;
    if let Some(close) = s.find("</think>") {
        if !s[..close].contains("<think>") {
            s = &s[close + "</think>".len()..];
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find("<think>") {
        let after = &rest[open + "<think>".len()..];
        match after.find("</think>") {
            Some(close) => {
                out.push_str(&rest[..open]);
                rest = &after[close + "</think>".len()..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// Strips a Markdown code fence around the whole text (```` ```json … ``` ````, also on one
/// line). An opening fence with no closing one (a cut-off reply) is stripped too. Anything
/// else is returned unchanged.
pub fn strip_code_fence(text: &str) -> &str {
    let t = text.trim();
    let Some(rest) = t.strip_prefix("```") else {
        return text;
    };
    let rest = rest.strip_suffix("```").unwrap_or(rest);
    // The info string: a word right after the opening fence (`json`, `text`, ...).
    let word_end = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let after_word = &rest[word_end..];
    let rest =
        if word_end > 0 && (after_word.is_empty() || after_word.starts_with(char::is_whitespace)) {
            let w = &rest[..word_end];
            // `json` is always an info string; another word only when a line break follows it.
            if w.eq_ignore_ascii_case("json")
                || after_word
                    .trim_start_matches([' ', '\t', '\r'])
                    .starts_with('\n')
            {
                after_word
            } else {
                rest
            }
        } else {
            rest
        };
    rest.trim()
}

/// Whether a reply is (possibly fenced) JSON: it starts with `{` or `[` (`_looks_like_json_extraction_result`).
pub(crate) fn looks_like_json(text: &str) -> bool {
    let t = text.trim();
    if t.starts_with('{') || t.starts_with('[') {
        return true;
    }
    t.starts_with("```") && {
        let inner = strip_code_fence(t).trim_start();
        inner.starts_with('{') || inner.starts_with('[')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_blocks() {
        assert_eq!(
            strip_think_tags("<think>hmm</think>\n{\"a\":1}"),
            "{\"a\":1}"
        );
        assert_eq!(strip_think_tags("reasoning...</think>answer"), "answer");
        assert_eq!(
            strip_think_tags("a<think>x</think>b<think>y</think>c"),
            "abc"
        );
        assert_eq!(strip_think_tags("<think>unclosed"), "<think>unclosed");
    }

    #[test]
    fn fences() {
        assert_eq!(strip_code_fence("```json\n{\"a\":1}\n```"), "{\"a\":1}");
        assert_eq!(strip_code_fence("```json {\"a\":1}```"), "{\"a\":1}");
        assert_eq!(strip_code_fence("```\nentity<|#|>A\n```"), "entity<|#|>A");
        assert_eq!(
            strip_code_fence("```text\nentity<|#|>A\n```"),
            "entity<|#|>A"
        );
        assert_eq!(strip_code_fence("```entity<|#|>A```"), "entity<|#|>A");
        assert_eq!(strip_code_fence("```json\n{\"a\":"), "{\"a\":");
        assert_eq!(strip_code_fence("plain"), "plain");
        assert_eq!(strip_code_fence("```"), "");
    }
}
