//! Description summaries (LightRAG's `_handle_entity_relation_summary`): fragments are joined
//! while they are few and short; past `FORCE_LLM_SUMMARY_ON_MERGE` fragments or
//! `SUMMARY_MAX_TOKENS` tokens the extract model writes one summary, map-reducing groups that
//! fit `SUMMARY_CONTEXT_SIZE` when all of them do not.

use super::prompts::SUMMARIZE_DESCRIPTIONS;
use crate::engine::Rag;
use crate::error::Result;
use crate::ids::GRAPH_FIELD_SEP;
use crate::ports::{CacheTag, ChatModel, ChatRequest};
use crate::prompts::render;

impl Rag {
    /// The stored description for `fragments` of an entity (`kind` = "Entity") or a relation
    /// (`kind` = "Relation"): joined, or summarised when a chat model is configured.
    pub(crate) async fn describe(
        &self,
        kind: &str,
        name: &str,
        fragments: Vec<String>,
    ) -> Result<String> {
        let Some(chat) = self.chat.as_ref().map(|c| c.extract.clone()) else {
            return Ok(self.bound_fragments(fragments));
        };
        let tok = self.tokenizer.as_ref();
        let mut list = fragments;
        loop {
            if list.len() <= 1 {
                return Ok(list.join(GRAPH_FIELD_SEP));
            }
            let total: usize = list.iter().map(|f| tok.count(f)).sum();
            if total <= self.cfg.summary_context_size || list.len() <= 2 {
                if list.len() < self.cfg.force_llm_summary_on_merge
                    && total < self.cfg.summary_max_tokens
                {
                    return Ok(list.join(GRAPH_FIELD_SEP));
                }
                return self.summarize(chat.as_ref(), kind, name, &list).await;
            }
            // Map: consecutive groups within the context size (never a lone fragment that
            // would overflow: it takes the next one too); reduce: summarise each group.
            let mut next = Vec::new();
            let mut group: Vec<String> = Vec::new();
            let mut group_tokens = 0;
            for f in list {
                let n = tok.count(&f);
                if group.len() >= 2 && group_tokens + n > self.cfg.summary_context_size {
                    next.push(
                        self.summarize_group(chat.as_ref(), kind, name, std::mem::take(&mut group))
                            .await?,
                    );
                    group_tokens = 0;
                }
                group_tokens += n;
                group.push(f);
            }
            if !group.is_empty() {
                next.push(
                    self.summarize_group(chat.as_ref(), kind, name, group)
                        .await?,
                );
            }
            list = next;
        }
    }

    async fn summarize_group(
        &self,
        chat: &dyn ChatModel,
        kind: &str,
        name: &str,
        group: Vec<String>,
    ) -> Result<String> {
        if group.len() < 2 {
            return Ok(group.into_iter().next().unwrap_or_default());
        }
        self.summarize(chat, kind, name, &group).await
    }

    async fn summarize(
        &self,
        chat: &dyn ChatModel,
        kind: &str,
        name: &str,
        fragments: &[String],
    ) -> Result<String> {
        let tok = self.tokenizer.as_ref();
        let mut lines = Vec::new();
        let mut used = 0;
        for f in fragments {
            let line = serde_json::json!({ "Description": f }).to_string();
            used += tok.count(&line);
            if used > self.cfg.summary_context_size && !lines.is_empty() {
                break;
            }
            lines.push(line);
        }
        let length = self.cfg.summary_length_recommended.to_string();
        let prompt = render(
            SUMMARIZE_DESCRIPTIONS,
            &[
                ("description_type", kind),
                ("description_name", name),
                ("summary_length", &length),
                ("language", &self.cfg.language),
                ("description_list", &lines.join("\n")),
            ],
        );
        let req = ChatRequest {
            prompt,
            no_think: true,
            cache: Some(CacheTag {
                mode: "default".into(),
                cache_type: "summary".into(),
            }),
            ..Default::default()
        };
        let summary = chat.complete(&req).await?;
        let summary = summary.trim();
        if summary.is_empty() {
            // An empty summary would lose the facts: keep the fragments instead.
            return Ok(fragments.join(GRAPH_FIELD_SEP));
        }
        Ok(summary.replace(GRAPH_FIELD_SEP, " "))
    }
}
