//! Keywords from the question itself, when no LLM is configured: low-level keywords are the
//! names and concrete terms in the question, the high-level keyword is its content as one phrase.

use super::Keywords;
use crate::text::{content_words, is_stopword, words};

/// Lowercase words that may sit inside a name ("Bank of England").
const CONNECTORS: &[&str] = &["of", "and", "de", "von", "van", "la", "del", "&"];

/// Capitalised runs ("Lake Varna", "Nordholm Institute") and the remaining content words.
pub fn offline_keywords(question: &str) -> Keywords {
    let ws = words(question);
    let mut names: Vec<String> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let mut in_name = vec![false; ws.len()];
    for (i, w) in ws.iter().enumerate() {
        let cap = w.chars().next().is_some_and(char::is_uppercase);
        let stop = is_stopword(&w.to_lowercase());
        let next_cap = ws
            .get(i + 1)
            .is_some_and(|n| n.chars().next().is_some_and(char::is_uppercase));
        if !run.is_empty() && CONNECTORS.contains(w) && next_cap {
            run.push(w);
            in_name[i] = true;
            continue;
        }
        // A capitalised stopword at the start ("What", "Who") is not a name.
        if cap && !(stop && run.is_empty()) {
            run.push(w);
            in_name[i] = true;
        } else {
            if !run.is_empty() {
                names.push(run.join(" "));
            }
            run.clear();
        }
    }
    if !run.is_empty() {
        names.push(run.join(" "));
    }
    let mut low = names.clone();
    for (i, w) in ws.iter().enumerate() {
        let lw = w.to_lowercase();
        if !in_name[i] && lw.chars().count() > 2 && !is_stopword(&lw) && !low.contains(&lw) {
            low.push(lw);
        }
    }
    let content = content_words(question);
    let high = if content.is_empty() {
        vec![]
    } else {
        vec![content.join(" ")]
    };
    Keywords {
        high_level: high,
        low_level: low,
    }
}

impl crate::engine::Rag {
    /// Query keywords: from the keyword chat model when one is configured (cached, JSON reply,
    /// tolerant parsing), from the question itself otherwise or when the model's reply is
    /// unusable.
    pub(crate) async fn keywords(&self, question: &str, mode: super::QueryMode) -> Keywords {
        let Some(chat) = &self.chat else {
            return offline_keywords(question);
        };
        let prompt = crate::prompts::render(
            crate::llm::prompts::KEYWORDS_EXTRACTION,
            &[("language", &self.cfg.language), ("query", question)],
        );
        let req = crate::ports::ChatRequest {
            prompt,
            json: true,
            no_think: true,
            cache: Some(crate::ports::CacheTag {
                mode: mode.as_str().to_string(),
                cache_type: "keywords".into(),
            }),
            ..Default::default()
        };
        match chat.keyword.complete(&req).await {
            Ok(reply) => match crate::llm::parse::parse_keywords(&reply) {
                Some(k) => k,
                None => {
                    tracing::warn!(
                        "the keyword reply is not usable JSON; using the question's own words"
                    );
                    offline_keywords(question)
                }
            },
            Err(e) => {
                tracing::warn!("keyword extraction failed ({e}); using the question's own words");
                offline_keywords(question)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_terms() {
        let k = offline_keywords("Who founded the Nordholm Institute of Hydrology in 1921?");
        assert_eq!(k.low_level[0], "Nordholm Institute of Hydrology");
        assert!(k.low_level.contains(&"founded".to_string()));
        assert!(k.low_level.contains(&"1921".to_string()));
        assert_eq!(k.high_level.len(), 1);
    }

    #[test]
    fn trivial_question_gives_nothing() {
        let k = offline_keywords("what is it?");
        assert!(k.low_level.is_empty());
        assert!(k.high_level.is_empty());
    }
}
