//! Entity and relation extraction with a chat model: LightRAG's record format (or JSON records),
//! one gleaning pass for missed records, tolerant parsing. A reply with nothing parseable is a
//! failure of the chunk, never a silent success with zero entities.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::parse::{
    parse_extraction_json, parse_extraction_text, ParsedExtraction, COMPLETION_DELIMITER,
    TUPLE_DELIMITER,
};
use super::prompts::{
    EXTRACTION_CONTINUE, EXTRACTION_EXAMPLES, EXTRACTION_SYSTEM, EXTRACTION_SYSTEM_JSON,
    EXTRACTION_USER, EXTRACTION_USER_JSON,
};
use crate::error::{Error, Result};
use crate::ids::md5_hex;
use crate::ports::{ChatMessage, ChatModel, ChatRequest, Extractor};
use crate::prompts::render;
use crate::tokenizer::Tokenizer;
use crate::types::{Chunk, ChunkExtraction};

/// Settings of LLM extraction (LightRAG's names in brackets).
#[derive(Debug, Clone)]
pub struct ExtractionSettings {
    /// Output language (`SUMMARY_LANGUAGE`).
    pub language: String,
    /// Entity types offered to the model.
    pub entity_types: String,
    /// Extra passes for missed records (`MAX_GLEANING`; LightRAG makes at most one).
    pub max_gleaning: usize,
    /// Records per reply (`MAX_EXTRACTION_RECORDS`).
    pub max_total_records: usize,
    /// Entity records per reply (`MAX_EXTRACTION_ENTITIES`).
    pub max_entity_records: usize,
    /// Gleaning is skipped above this many input tokens (`MAX_EXTRACT_INPUT_TOKENS`).
    pub max_extract_input_tokens: usize,
    /// JSON records instead of the delimiter format (`ENTITY_EXTRACTION_USE_JSON`).
    pub use_json: bool,
}

/// Extraction through a chat model.
pub struct LlmExtractor {
    chat: Arc<dyn ChatModel>,
    settings: ExtractionSettings,
    tokenizer: Arc<dyn Tokenizer>,
    system: String,
}

impl LlmExtractor {
    /// An extractor that asks `chat`.
    pub fn new(
        chat: Arc<dyn ChatModel>,
        settings: ExtractionSettings,
        tokenizer: Arc<dyn Tokenizer>,
    ) -> Self {
        let max_total = settings.max_total_records.to_string();
        let max_ent = settings.max_entity_records.to_string();
        let system = if settings.use_json {
            render(
                EXTRACTION_SYSTEM_JSON,
                &[
                    ("entity_types_guidance", &settings.entity_types),
                    ("language", &settings.language),
                    ("max_total_records", &max_total),
                    ("max_entity_records", &max_ent),
                ],
            )
        } else {
            let examples = render(
                EXTRACTION_EXAMPLES,
                &[
                    ("tuple_delimiter", TUPLE_DELIMITER),
                    ("completion_delimiter", COMPLETION_DELIMITER),
                ],
            );
            render(
                EXTRACTION_SYSTEM,
                &[
                    ("tuple_delimiter", TUPLE_DELIMITER),
                    ("completion_delimiter", COMPLETION_DELIMITER),
                    ("entity_types_guidance", &settings.entity_types),
                    ("examples", &examples),
                    ("language", &settings.language),
                    ("max_total_records", &max_total),
                    ("max_entity_records", &max_ent),
                ],
            )
        };
        LlmExtractor {
            chat,
            settings,
            tokenizer,
            system,
        }
    }

    fn user_prompt(&self, text: &str) -> String {
        if self.settings.use_json {
            render(EXTRACTION_USER_JSON, &[("input_text", text)])
        } else {
            let max_total = self.settings.max_total_records.to_string();
            render(
                EXTRACTION_USER,
                &[
                    ("language", &self.settings.language),
                    ("max_total_records", &max_total),
                    ("input_text", text),
                ],
            )
        }
    }

    fn parse(&self, reply: &str, chunk: &Chunk) -> ParsedExtraction {
        if self.settings.use_json {
            parse_extraction_json(reply, &chunk.id, &chunk.file_path)
        } else {
            parse_extraction_text(reply, &chunk.id, &chunk.file_path)
        }
    }
}

/// Gleaned records join the first pass: new names and pairs are added, and a record already
/// there is replaced only when the gleaned description is longer.
pub fn merge_gleaned(first: &mut ChunkExtraction, gleaned: ChunkExtraction) {
    let mut ent: HashMap<String, usize> = first
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.clone(), i))
        .collect();
    for e in gleaned.entities {
        match ent.get(&e.name) {
            Some(&i) if first.entities[i].description.len() >= e.description.len() => {}
            Some(&i) => first.entities[i] = e,
            None => {
                ent.insert(e.name.clone(), first.entities.len());
                first.entities.push(e);
            }
        }
    }
    let key = |a: &str, b: &str| {
        if a <= b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        }
    };
    let mut rel: HashMap<(String, String), usize> = first
        .relations
        .iter()
        .enumerate()
        .map(|(i, r)| (key(&r.src, &r.tgt), i))
        .collect();
    for r in gleaned.relations {
        let k = key(&r.src, &r.tgt);
        match rel.get(&k) {
            Some(&i) if first.relations[i].description.len() >= r.description.len() => {}
            Some(&i) => first.relations[i] = r,
            None => {
                rel.insert(k, first.relations.len());
                first.relations.push(r);
            }
        }
    }
}

#[async_trait]
impl Extractor for LlmExtractor {
    fn identity(&self) -> String {
        let s = &self.settings;
        let settings = format!(
            "{}|{}|{}|{}|{}|{}",
            s.language,
            s.max_gleaning.min(1),
            s.max_total_records,
            s.max_entity_records,
            s.use_json,
            s.entity_types
        );
        format!(
            "llm-extract-v1:{}:{}",
            self.chat.identity(),
            md5_hex(&format!("{}\n{settings}", self.system))
        )
    }

    async fn extract(&self, chunk: &Chunk) -> Result<ChunkExtraction> {
        let user = self.user_prompt(&chunk.content);
        let req = ChatRequest {
            system: Some(self.system.clone()),
            prompt: user.clone(),
            json: self.settings.use_json,
            no_think: true,
            ..Default::default()
        };
        let reply = self.chat.complete(&req).await?;
        let first = self.parse(&reply, chunk);
        for w in &first.warnings {
            tracing::warn!(chunk = %chunk.id, "extraction reply: {w}");
        }
        if first.records_seen == 0 && !first.completed && !chunk.content.trim().is_empty() {
            let excerpt: String = reply.chars().take(160).collect();
            return Err(Error::Extraction(format!(
                "the LLM reply holds no parseable record and no completion marker: {excerpt:?}"
            )));
        }
        let mut extraction = first.extraction;
        if self.settings.max_gleaning > 0 {
            let input = self.tokenizer.count(&self.system)
                + self.tokenizer.count(&user)
                + self.tokenizer.count(&reply)
                + self.tokenizer.count(EXTRACTION_CONTINUE);
            if input <= self.settings.max_extract_input_tokens {
                let glean = ChatRequest {
                    system: Some(self.system.clone()),
                    history: vec![
                        ChatMessage {
                            role: "user".into(),
                            content: user,
                        },
                        ChatMessage {
                            role: "assistant".into(),
                            content: reply,
                        },
                    ],
                    prompt: EXTRACTION_CONTINUE.into(),
                    json: self.settings.use_json,
                    no_think: true,
                    ..Default::default()
                };
                match self.chat.complete(&glean).await {
                    Ok(more) => merge_gleaned(&mut extraction, self.parse(&more, chunk).extraction),
                    // The first pass stands on its own; a failed gleaning only loses extras.
                    Err(e) => {
                        tracing::warn!(chunk = %chunk.id, "gleaning failed, keeping the first pass: {e}")
                    }
                }
            }
        }
        Ok(extraction)
    }
}
