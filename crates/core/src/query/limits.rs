//! How much one query may ask of the engine: LightRAG's input ceilings
//! (`lightrag/constants.py`), checked before any work, and a bound on the keywords a question
//! can turn into. They are constants, not settings: a limit that keeps an anonymous caller from
//! choosing how much CPU the server spends should not be configurable away.

use super::{Keywords, QueryParam};
use crate::error::{Error, Result};
use crate::ports::ChatMessage;
use crate::tokenizer::Tokenizer;

/// Characters of a question (`/query`, `/api/generate`'s prompt).
pub const MAX_QUERY_CHARS: usize = 64 * 1024;
/// Characters of one message (a history entry, a chat message, a system prompt).
pub const MAX_MESSAGE_CHARS: usize = 32 * 1024;
/// Characters of all model-facing text of one request together.
pub const MAX_REQUEST_TEXT_CHARS: usize = 128 * 1024;
/// Messages of one conversation.
pub const MAX_MESSAGES: usize = 128;
/// Characters of a message's role.
pub const MAX_ROLE_CHARS: usize = 64;
/// Keywords per list (high-level, low-level), given or extracted.
pub const MAX_KEYWORDS_PER_LIST: usize = 64;
/// Characters of one keyword.
pub const MAX_KEYWORD_CHARS: usize = 512;
/// Characters of a model name (Ollama emulation).
pub const MAX_MODEL_NAME_CHARS: usize = 256;
/// Characters of `response_type`.
pub const MAX_RESPONSE_TYPE_CHARS: usize = 256;

fn too_long(what: &str, len: usize, max: usize) -> Error {
    Error::InvalidInput(format!(
        "{what} is {len} characters; at most {max} are allowed"
    ))
}

/// Checks one text against its limit; returns its length in characters.
pub fn check_text(what: &str, text: &str, max: usize) -> Result<usize> {
    let n = text.chars().count();
    if n > max {
        return Err(too_long(what, n, max));
    }
    Ok(n)
}

/// A conversation as a model would get it: the question (at most `query_max` characters), an
/// optional extra prompt (system prompt or user instructions) and earlier messages. Checks each
/// part and their sum.
pub fn check_conversation(
    query: &str,
    query_max: usize,
    extra: Option<(&str, &str)>,
    history: &[ChatMessage],
) -> Result<()> {
    if history.len() > MAX_MESSAGES {
        return Err(Error::InvalidInput(format!(
            "the conversation holds {} messages; at most {MAX_MESSAGES} are allowed",
            history.len()
        )));
    }
    let mut total = check_text("the query", query, query_max)?;
    if let Some((what, text)) = extra {
        total += check_text(what, text, MAX_MESSAGE_CHARS)?;
    }
    for m in history {
        total += check_text("a message's role", &m.role, MAX_ROLE_CHARS)?;
        total += check_text("a message", &m.content, MAX_MESSAGE_CHARS)?;
    }
    if total > MAX_REQUEST_TEXT_CHARS {
        return Err(Error::InvalidInput(format!(
            "the request's text is {total} characters in all; at most {MAX_REQUEST_TEXT_CHARS} are allowed"
        )));
    }
    Ok(())
}

/// Every limit that applies to a query with these parameters.
pub fn check_query(question: &str, p: &QueryParam) -> Result<()> {
    for (name, list) in [
        ("hl_keywords", &p.hl_keywords),
        ("ll_keywords", &p.ll_keywords),
    ] {
        if list.len() > MAX_KEYWORDS_PER_LIST {
            return Err(Error::InvalidInput(format!(
                "{name} holds {} keywords; at most {MAX_KEYWORDS_PER_LIST} are allowed",
                list.len()
            )));
        }
        for k in list {
            check_text(&format!("a keyword of {name}"), k, MAX_KEYWORD_CHARS)?;
        }
    }
    check_text("response_type", &p.response_type, MAX_RESPONSE_TYPE_CHARS)?;
    let prompt = p.user_prompt.as_deref().map(|u| ("user_prompt", u));
    check_conversation(question, MAX_QUERY_CHARS, prompt, &p.conversation_history)
}

/// Tokens of each text one query embeds (the question, each keyword list). What a question
/// retrieves is decided by its beginning; beyond this, a long question would only cost more
/// model windows (a 40 KB question once took 31 s of CPU with the local model).
pub const MAX_QUERY_EMBED_TOKENS: usize = 512;

/// `text` cut to its first [`MAX_QUERY_EMBED_TOKENS`] tokens.
pub fn embed_prefix(tok: &dyn Tokenizer, text: &str) -> String {
    // A token is at least one byte: a short text needs no count.
    if text.len() <= MAX_QUERY_EMBED_TOKENS {
        return text.to_string();
    }
    let ids = tok.encode(text);
    if ids.len() <= MAX_QUERY_EMBED_TOKENS {
        return text.to_string();
    }
    tok.decode(&ids[..MAX_QUERY_EMBED_TOKENS])
}

/// Bounds keywords that came from a model or from the question itself, so that no question
/// turns into more searches than a caller may ask for directly.
pub fn cap_keywords(k: &mut Keywords) {
    for list in [&mut k.high_level, &mut k.low_level] {
        list.truncate(MAX_KEYWORDS_PER_LIST);
        for w in list.iter_mut() {
            if let Some((cut, _)) = w.char_indices().nth(MAX_KEYWORD_CHARS) {
                w.truncate(cut);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn msg(content: &str) -> ChatMessage {
        ChatMessage {
            role: "user".into(),
            content: content.into(),
        }
    }

    #[test]
    fn each_limit_is_named_in_its_error() {
        let cfg = Settings::default().to_config().unwrap();
        let mut p = QueryParam::from_defaults(&cfg.query);
        assert!(check_query("who runs the ferry?", &p).is_ok());
        p.hl_keywords = vec!["k".into(); 65];
        let e = check_query("q", &p).unwrap_err().to_string();
        assert!(e.contains("hl_keywords") && e.contains("64"), "{e}");
        p.hl_keywords = vec!["k".repeat(513)];
        assert!(check_query("q", &p)
            .unwrap_err()
            .to_string()
            .contains("512"));
        p.hl_keywords.clear();
        p.response_type = "x".repeat(257);
        let e = check_query("q", &p).unwrap_err().to_string();
        assert!(e.contains("response_type"), "{e}");
        p.response_type = "Bullet Points".into();
        p.conversation_history = vec![msg("hi"); 129];
        let e = check_query("q", &p).unwrap_err().to_string();
        assert!(e.contains("128"), "{e}");
        p.conversation_history = vec![msg(&"x".repeat(32 * 1024 + 1))];
        assert!(check_query("q", &p).is_err());
        p.conversation_history = vec![msg(&"x".repeat(32 * 1024)); 4];
        let e = check_query("q", &p).unwrap_err().to_string();
        assert!(e.contains("in all"), "{e}");
        p.conversation_history.clear();
        p.user_prompt = Some("x".repeat(200 * 1024));
        assert!(check_query("q", &p)
            .unwrap_err()
            .to_string()
            .contains("user_prompt"));
        p.user_prompt = None;
        assert!(check_query(&"q".repeat(64 * 1024 + 1), &p).is_err());
    }

    #[test]
    fn query_texts_are_embedded_up_to_a_bound() {
        let tok = crate::tokenizer::TiktokenTokenizer::o200k();
        let short = "Who runs the ferry across Lake Orin?";
        assert_eq!(embed_prefix(&tok, short), short);
        let long = "ferry harbour crane ".repeat(2_000);
        let cut = embed_prefix(&tok, &long);
        assert_eq!(tok.count(&cut), MAX_QUERY_EMBED_TOKENS);
        assert!(long.starts_with(&cut));
    }

    #[test]
    fn extracted_keywords_are_capped() {
        let mut k = Keywords {
            high_level: vec!["x".repeat(600), "ok".into()],
            low_level: (0..900).map(|i| format!("w{i}")).collect(),
        };
        cap_keywords(&mut k);
        assert_eq!(k.high_level[0].chars().count(), MAX_KEYWORD_CHARS);
        assert_eq!(k.high_level[1], "ok");
        assert_eq!(k.low_level.len(), MAX_KEYWORDS_PER_LIST);
    }
}
