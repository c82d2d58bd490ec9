//! [`Rag::query`]: one query from keywords to answer.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::answer::extractive_answer;
use super::chunks::{merge_chunk_lists, ContextChunk};
use super::context::{
    build_references, chunk_line, chunk_line_tokens, kg_context, naive_context, py_json_line,
    rows_and_tokens_within,
};
use super::rerank::Reranked;
use super::retrieve::{round_robin, KgHits};
use super::{
    Keywords, QueryData, QueryMode, QueryOutput, QueryParam, QueryResult, NO_CONTEXT_ANSWER,
};
use crate::engine::Rag;
use crate::error::{Error, Result};
use crate::ports::{CacheTag, ChatRequest, EmbedPurpose};
use crate::prompts::{render, NAIVE_RAG_RESPONSE, RAG_RESPONSE};
use crate::types::VectorHit;

/// LightRAG's query weight: one per character, two for CJK and other wide scripts.
fn query_weight(q: &str) -> usize {
    q.chars()
        .map(|c| {
            let u = c as u32;
            let wide = matches!(u, 0x1100..=0x11FF | 0x2E80..=0x9FFF | 0xAC00..=0xD7AF
                | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF);
            if wide {
                2
            } else {
                1
            }
        })
        .sum()
}

impl Rag {
    /// Answers a question in the given mode, with references.
    pub async fn query(&self, question: &str, param: &QueryParam) -> Result<QueryResult> {
        let mut p = param.clone();
        p.stream = false;
        Ok(self.query_stream(question, &p).await?.result)
    }

    /// Like [`Rag::query`]; with `param.stream` and a chat model, the answer comes as a stream
    /// (the result's `answer` is then empty).
    pub async fn query_stream(&self, question: &str, param: &QueryParam) -> Result<QueryOutput> {
        let q = question.trim();
        if q.is_empty() {
            return Err(Error::InvalidInput("the query is empty".into()));
        }
        super::limits::check_query(q, param)?;
        if param.mode != QueryMode::Bypass && query_weight(q) < 3 {
            return Err(Error::InvalidInput(format!(
                "the query '{q}' is too short to search for"
            )));
        }
        if param.mode == QueryMode::Bypass {
            return self.bypass(q, param).await;
        }
        if param.mode == QueryMode::Naive {
            // Naive retrieval searches chunks with the question itself: a keyword call to the
            // model would only cost time. Without a model, the question's own words still
            // pick the sentences of the extractive answer.
            let keywords = if self.chat.is_some() {
                Keywords::default()
            } else {
                super::keywords::offline_keywords(q)
            };
            return self.naive_query(q, param, keywords).await;
        }
        let keywords = if !param.hl_keywords.is_empty() || !param.ll_keywords.is_empty() {
            Keywords {
                high_level: param.hl_keywords.clone(),
                low_level: param.ll_keywords.clone(),
            }
        } else {
            let mut k = self.keywords(q, param.mode).await;
            super::limits::cap_keywords(&mut k);
            k
        };
        let mut keywords = keywords;
        if keywords.high_level.is_empty() && keywords.low_level.is_empty() {
            if q.chars().count() < 50 {
                keywords.low_level = vec![q.to_string()];
            } else {
                return Ok(no_result(param.mode, keywords).into());
            }
        }
        let ll = keywords.low_level.join(", ");
        let hl = keywords.high_level.join(", ");
        // LightRAG's quirk: local without low-level keywords (or global without high-level ones)
        // searches with whatever list exists.
        let (use_local, use_global) = match param.mode {
            QueryMode::Local if ll.is_empty() => (false, true),
            QueryMode::Global if hl.is_empty() => (true, false),
            QueryMode::Local => (true, false),
            QueryMode::Global => (false, true),
            _ => (!ll.is_empty(), !hl.is_empty()),
        };
        // One batched embedding call for everything this query needs, each text bounded.
        let mut texts = vec![q];
        if use_local {
            texts.push(&ll);
        }
        if use_global {
            texts.push(&hl);
        }
        let texts: Vec<String> = texts
            .into_iter()
            .map(|t| super::limits::embed_prefix(self.tokenizer(), t))
            .collect();
        let vecs = self.embed(&texts, EmbedPurpose::Query).await?;
        let q_vec = &vecs[0];
        let threshold = self.cfg.query.cosine_threshold;
        let mut local = KgHits::default();
        let mut global = KgHits::default();
        if use_local {
            let hits = self
                .stores
                .entities_vdb
                .query(&vecs[1], param.top_k, threshold)
                .await?;
            local = self.local_search(&hits).await?;
        }
        if use_global {
            let v = &vecs[if use_local { 2 } else { 1 }];
            let hits = self
                .stores
                .relationships_vdb
                .query(v, param.top_k, threshold)
                .await?;
            global = self.global_search(&hits).await?;
        }
        let entities = round_robin(&local.entities, &global.entities, |e| {
            e.entity.entity_id.clone()
        });
        let relations = round_robin(&local.relations, &global.relations, |r| r.relation.pair());
        let vector_hits: Vec<VectorHit> = if param.mode == QueryMode::Mix {
            let k = if param.chunk_top_k > 0 {
                param.chunk_top_k
            } else {
                param.top_k
            };
            self.stores.chunks_vdb.query(q_vec, k, threshold).await?
        } else {
            vec![]
        };
        if entities.is_empty() && relations.is_empty() && vector_hits.is_empty() {
            return Ok(no_result(param.mode, keywords).into());
        }

        // Token budgets of the graph sections, whole rows only.
        let counter = self.token_memo.counter(self.tokenizer.as_ref());
        let tok: &dyn crate::tokenizer::Tokenizer = &counter;
        let ent_rows: Vec<String> = entities
            .iter()
            .map(|e| {
                py_json_line(&[
                    ("entity", &e.entity.entity_id),
                    ("type", &e.entity.entity_type),
                    ("description", &e.entity.description),
                ])
            })
            .collect();
        let rel_rows: Vec<String> = relations
            .iter()
            .map(|r| {
                py_json_line(&[
                    ("entity1", &r.relation.src_id),
                    ("entity2", &r.relation.tgt_id),
                    ("description", &r.relation.description),
                ])
            })
            .collect();
        let (n_ent, ent_tokens) = rows_and_tokens_within(tok, &ent_rows, param.max_entity_tokens);
        let (n_rel, rel_tokens) = rows_and_tokens_within(tok, &rel_rows, param.max_relation_tokens);
        let entities = &entities[..n_ent];
        let relations = &relations[..n_rel];
        let ent_rows = &ent_rows[..n_ent];
        let rel_rows = &rel_rows[..n_rel];

        // Chunks: vector hits, then those of entities, then those of relations.
        let vector_chunks: Vec<ContextChunk> =
            vector_hits.iter().map(ContextChunk::from_hit).collect();
        let ent_sources: Vec<&str> = entities
            .iter()
            .map(|e| e.entity.source_id.as_str())
            .collect();
        let ent_ids = self
            .pick_chunks(&ent_sources, &HashSet::new(), Some(q_vec))
            .await?;
        let taken: HashSet<String> = ent_ids.iter().cloned().collect();
        let rel_sources: Vec<&str> = relations
            .iter()
            .map(|r| r.relation.source_id.as_str())
            .collect();
        let rel_ids = self.pick_chunks(&rel_sources, &taken, Some(q_vec)).await?;
        let ent_chunks = self.load_chunks(&ent_ids).await?;
        let rel_chunks = self.load_chunks(&rel_ids).await?;
        let merged = merge_chunk_lists([&vector_chunks, &ent_chunks, &rel_chunks]);
        let mut reranked = self.rerank_chunks(q, merged, param).await;

        let sys = render(
            RAG_RESPONSE,
            &[
                ("response_type", &param.response_type),
                ("user_prompt", &user_prompt_text(param)),
                ("context_data", ""),
            ],
        );
        // The context without chunks: its frame plus the rows, already counted above.
        let frame = tok.count(&kg_context(&[], &[], &[], &[]));
        let used = tok.count(&sys) + frame + ent_tokens + rel_tokens + tok.count(q) + 200;
        let chunks = self.fit_chunks(
            std::mem::take(&mut reranked.chunks),
            param,
            param.max_total_tokens.saturating_sub(used),
        );
        let (refs, chunk_refs) = build_references(&chunks);
        let chunk_rows: Vec<String> = chunks
            .iter()
            .zip(&chunk_refs)
            .map(|(c, r)| chunk_line(r, &c.content))
            .collect();
        let context = kg_context(ent_rows, rel_rows, &chunk_rows, &refs);

        let data = QueryData {
            entities: entities
                .iter()
                .map(|e| {
                    json!({"entity_name": e.entity.entity_id, "entity_type": e.entity.entity_type,
                    "description": e.entity.description, "source_id": e.entity.source_id,
                    "file_path": e.entity.file_path, "created_at": e.entity.created_at})
                })
                .collect(),
            relationships: relations
                .iter()
                .map(|r| {
                    json!({"src_id": r.relation.src_id, "tgt_id": r.relation.tgt_id,
                    "description": r.relation.description, "keywords": r.relation.keywords,
                    "weight": r.relation.weight, "source_id": r.relation.source_id,
                    "file_path": r.relation.file_path, "created_at": r.relation.created_at})
                })
                .collect(),
            chunks: chunk_data(&chunks, &chunk_refs, &reranked),
            references: refs.clone(),
        };
        self.finish(
            q,
            param,
            keywords,
            data,
            context,
            &chunks,
            &chunk_refs,
            RAG_RESPONSE,
            "context_data",
        )
        .await
    }

    async fn naive_query(
        &self,
        q: &str,
        param: &QueryParam,
        keywords: Keywords,
    ) -> Result<QueryOutput> {
        let text = super::limits::embed_prefix(self.tokenizer(), q);
        let vecs = self.embed(&[text], EmbedPurpose::Query).await?;
        let k = if param.chunk_top_k > 0 {
            param.chunk_top_k
        } else {
            param.top_k
        };
        let hits = self
            .stores
            .chunks_vdb
            .query(&vecs[0], k, self.cfg.query.cosine_threshold)
            .await?;
        if hits.is_empty() {
            return Ok(no_result(param.mode, keywords).into());
        }
        let chunks: Vec<ContextChunk> = hits.iter().map(ContextChunk::from_hit).collect();
        let mut reranked = self.rerank_chunks(q, chunks, param).await;
        let counter = self.token_memo.counter(self.tokenizer.as_ref());
        let tok: &dyn crate::tokenizer::Tokenizer = &counter;
        let sys = render(
            NAIVE_RAG_RESPONSE,
            &[
                ("response_type", &param.response_type),
                ("user_prompt", &user_prompt_text(param)),
                ("content_data", ""),
            ],
        );
        let used = tok.count(&sys) + tok.count(q) + 200;
        let chunks = self.fit_chunks(
            std::mem::take(&mut reranked.chunks),
            param,
            param.max_total_tokens.saturating_sub(used),
        );
        let (refs, chunk_refs) = build_references(&chunks);
        let rows: Vec<String> = chunks
            .iter()
            .zip(&chunk_refs)
            .map(|(c, r)| chunk_line(r, &c.content))
            .collect();
        let context = naive_context(&rows, &refs);
        let data = QueryData {
            entities: vec![],
            relationships: vec![],
            chunks: chunk_data(&chunks, &chunk_refs, &reranked),
            references: refs,
        };
        self.finish(
            q,
            param,
            keywords,
            data,
            context,
            &chunks,
            &chunk_refs,
            NAIVE_RAG_RESPONSE,
            "content_data",
        )
        .await
    }

    /// Keeps the first `chunk_top_k` chunks, then as many whole chunks as fit `available` tokens.
    fn fit_chunks(
        &self,
        mut chunks: Vec<ContextChunk>,
        param: &QueryParam,
        available: usize,
    ) -> Vec<ContextChunk> {
        if param.chunk_top_k > 0 {
            chunks.truncate(param.chunk_top_k);
        }
        let (_, refs) = build_references(&chunks);
        let counter = self.token_memo.counter(self.tokenizer.as_ref());
        let tok: &dyn crate::tokenizer::Tokenizer = &counter;
        let mut total = 0usize;
        let mut keep = chunks.len();
        for (i, (c, r)) in chunks.iter().zip(&refs).enumerate() {
            total += chunk_line_tokens(tok, r, &c.content, c.tokens) + usize::from(i > 0);
            if total > available {
                keep = i;
                break;
            }
        }
        chunks.truncate(keep);
        chunks
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        q: &str,
        param: &QueryParam,
        keywords: Keywords,
        data: QueryData,
        context: String,
        chunks: &[ContextChunk],
        chunk_refs: &[String],
        template: &str,
        slot: &str,
    ) -> Result<QueryOutput> {
        let mut result = QueryResult {
            status: "success".into(),
            message: "Query executed successfully".into(),
            mode: param.mode,
            keywords,
            data,
            context: context.clone(),
            answer: String::new(),
            llm_generated: false,
        };
        let system = render(
            template,
            &[
                ("response_type", &param.response_type),
                ("user_prompt", &user_prompt_text(param)),
                (slot, &context),
            ],
        );
        if param.only_need_prompt {
            result.answer = format!("{system}\n\n---User Query---\n\n{q}");
            return Ok(result.into());
        }
        if param.only_need_context {
            result.answer = context;
            return Ok(result.into());
        }
        if let Some(chat) = &self.chat {
            // LightRAG never caches an answer given with conversation history.
            let cache = param.conversation_history.is_empty().then(|| CacheTag {
                mode: param.mode.as_str().to_string(),
                cache_type: "query".into(),
            });
            let req = ChatRequest {
                system: Some(system),
                history: param.conversation_history.clone(),
                prompt: q.to_string(),
                cache,
                ..Default::default()
            };
            result.llm_generated = true;
            if param.stream {
                let stream = chat.query.stream(&req).await?;
                return Ok(QueryOutput {
                    result,
                    stream: Some(stream),
                });
            }
            result.answer = chat.query.complete(&req).await?;
            return Ok(result.into());
        }
        let mut terms = result.keywords.low_level.clone();
        terms.extend(result.keywords.high_level.iter().cloned());
        result.answer = extractive_answer(q, &terms, chunks, chunk_refs, &result.data.references)
            .unwrap_or_else(|| NO_CONTEXT_ANSWER.to_string());
        Ok(result.into())
    }

    async fn bypass(&self, q: &str, param: &QueryParam) -> Result<QueryOutput> {
        let Some(chat) = &self.chat else {
            return Err(Error::Config(
                "mode bypass sends the question straight to the LLM, and no LLM is configured (set LLM_BINDING)".into(),
            ));
        };
        let req = ChatRequest {
            history: param.conversation_history.clone(),
            prompt: q.to_string(),
            ..Default::default()
        };
        let mut out = QueryOutput::from(QueryResult {
            status: "success".into(),
            message: "Query executed successfully".into(),
            mode: QueryMode::Bypass,
            keywords: Keywords::default(),
            data: QueryData::default(),
            context: String::new(),
            answer: String::new(),
            llm_generated: true,
        });
        if param.stream {
            out.stream = Some(chat.query.stream(&req).await?);
        } else {
            out.result.answer = chat.query.complete(&req).await?;
        }
        Ok(out)
    }
}

/// The effective additional instructions, or `n/a`.
fn user_prompt_text(param: &QueryParam) -> String {
    match param.user_prompt.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() => format!("\n\n{p}"),
        _ => "n/a".into(),
    }
}

/// The chunks of `/query/data`; a reranked chunk also carries its `rerank_score` (LightRAG's
/// name for it).
fn chunk_data(chunks: &[ContextChunk], refs: &[String], reranked: &Reranked) -> Vec<Value> {
    chunks
        .iter()
        .zip(refs)
        .map(|(c, r)| {
            let mut v = json!({"reference_id": r, "content": c.content, "file_path": c.file_path, "chunk_id": c.chunk_id});
            if let Some(score) = reranked.score(&c.chunk_id) {
                v["rerank_score"] = json!(score);
            }
            v
        })
        .collect()
}

fn no_result(mode: QueryMode, keywords: Keywords) -> QueryResult {
    QueryResult {
        status: "failure".into(),
        message: "Query returned no results".into(),
        mode,
        keywords,
        data: QueryData::default(),
        context: String::new(),
        answer: NO_CONTEXT_ANSWER.into(),
        llm_generated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::query_weight;

    #[test]
    fn wide_characters_weigh_two() {
        assert_eq!(query_weight("ab"), 2);
        assert_eq!(query_weight("湖泊"), 4);
    }
}
