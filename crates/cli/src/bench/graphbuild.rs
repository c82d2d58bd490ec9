//! Writes the planned retrieval graph into the stores: nodes and edges, the tracking and chunk
//! rows, and the three vector sets, in large batches (each vector upsert snapshots the index).

use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use lightrag_core::ids::{entity_vector_id, relation_key, relation_vector_id, GRAPH_FIELD_SEP};
use lightrag_core::index::{
    entity_content, expected_chunk_meta, expected_entity_meta, expected_relation_meta,
    relation_content,
};
use lightrag_core::ports::{EmbedPurpose, Embedder, Namespace, Stores, VectorStore};
use lightrag_core::types::{Entity, Relation, VectorRecord};
use serde_json::{json, Value};

use super::graphgen::{chunks, entity, join_ids, plan, relation, Plan, Spec};

/// Items written per store call (and per vector upsert: each one snapshots the index).
const WRITE_BATCH: usize = 20_000;
/// Texts per embedding call.
const EMBED_BATCH: usize = 2_000;

/// Seconds per build phase.
#[derive(Debug, Clone, Default)]
pub struct BuildTimes {
    pub generate_s: f64,
    pub graph_s: f64,
    pub kv_s: f64,
    pub embed_s: f64,
    pub vectors_s: f64,
    pub flush_s: f64,
    pub total_s: f64,
    pub max_degree: usize,
    pub hubs_over_1000: usize,
}

impl BuildTimes {
    pub fn json(&self) -> Value {
        json!({"generate_s": self.generate_s, "graph_writes_s": self.graph_s,
               "kv_writes_s": self.kv_s, "embedding_s": self.embed_s,
               "vector_writes_s": self.vectors_s, "flush_s": self.flush_s,
               "total_s": self.total_s, "max_degree": self.max_degree,
               "hubs_over_1000_edges": self.hubs_over_1000})
    }
}

/// Embeds `texts` and writes them with their ids and metas to `set`.
async fn write_vectors(
    set: &dyn VectorStore,
    embedder: &dyn Embedder,
    items: Vec<(String, String, Value)>,
    times: &mut BuildTimes,
    bar: &ProgressBar,
) -> Result<()> {
    let mut records = Vec::with_capacity(items.len());
    for part in items.chunks(EMBED_BATCH) {
        let texts: Vec<String> = part.iter().map(|(_, t, _)| t.clone()).collect();
        let t = Instant::now();
        let vectors = embedder
            .embed(&texts, EmbedPurpose::Document)
            .await
            .context("embedding failed")?;
        times.embed_s += t.elapsed().as_secs_f64();
        for ((id, _, meta), vector) in part.iter().zip(vectors) {
            records.push(VectorRecord {
                id: id.clone(),
                vector,
                meta: meta.clone(),
            });
        }
        bar.inc(part.len() as u64);
    }
    let t = Instant::now();
    set.upsert(records)
        .await
        .with_context(|| format!("cannot write the {} vectors", set.namespace()))?;
    times.vectors_s += t.elapsed().as_secs_f64();
    Ok(())
}

/// Writes the planned graph, its chunks and vectors; returns where the time went.
pub async fn build(
    stores: &Stores,
    embedder: &dyn Embedder,
    spec: &Spec,
    bar: &ProgressBar,
) -> Result<(BuildTimes, Plan)> {
    let started = Instant::now();
    let mut times = BuildTimes::default();
    let now = chrono_now();
    bar.set_message("planning the graph");
    let t = Instant::now();
    let plan = plan(spec);
    times.generate_s += t.elapsed().as_secs_f64();
    times.max_degree = plan.degree.iter().copied().max().unwrap_or(0) as usize;
    times.hubs_over_1000 = plan.degree.iter().filter(|d| **d > 1000).count();
    bar.set_length((plan.names.len() + plan.edges.len() + spec.chunks) as u64);

    bar.set_message("entities");
    for start in (0..plan.names.len()).step_by(WRITE_BATCH) {
        let end = (start + WRITE_BATCH).min(plan.names.len());
        let ents: Vec<Entity> = (start..end).map(|i| entity(&plan, i, now)).collect();
        let rows: Vec<(String, Value)> = (start..end)
            .map(|i| {
                let ids = join_ids(&plan.ent_chunks[i]).0;
                let ids: Vec<&str> = ids.split(GRAPH_FIELD_SEP).collect();
                (
                    plan.names[i].clone(),
                    json!({"chunk_ids": ids, "count": ids.len()}),
                )
            })
            .collect();
        let items = ents
            .iter()
            .map(|e| {
                (
                    entity_vector_id(&e.entity_id),
                    entity_content(e),
                    expected_entity_meta(e),
                )
            })
            .collect();
        let t = Instant::now();
        stores
            .graph
            .upsert_nodes(ents)
            .await
            .context("cannot write nodes")?;
        times.graph_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        stores
            .kv
            .upsert(Namespace::EntityChunks, rows)
            .await
            .context("cannot write entity_chunks")?;
        times.kv_s += t.elapsed().as_secs_f64();
        write_vectors(
            stores.entities_vdb.as_ref(),
            embedder,
            items,
            &mut times,
            bar,
        )
        .await?;
    }

    bar.set_message("relations");
    for start in (0..plan.edges.len()).step_by(WRITE_BATCH) {
        let end = (start + WRITE_BATCH).min(plan.edges.len());
        let rels: Vec<Relation> = (start..end).map(|k| relation(&plan, k, now)).collect();
        let rows: Vec<(String, Value)> = rels
            .iter()
            .map(|r| {
                let key = relation_key(&r.src_id, &r.tgt_id);
                (key, json!({"chunk_ids": [r.source_id], "count": 1}))
            })
            .collect();
        let items = rels
            .iter()
            .map(|r| {
                let id = relation_vector_id(&r.src_id, &r.tgt_id);
                (id, relation_content(r), expected_relation_meta(r))
            })
            .collect();
        let t = Instant::now();
        stores
            .graph
            .upsert_edges(rels)
            .await
            .context("cannot write edges")?;
        times.graph_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        stores
            .kv
            .upsert(Namespace::RelationChunks, rows)
            .await
            .context("cannot write relation_chunks")?;
        times.kv_s += t.elapsed().as_secs_f64();
        write_vectors(
            stores.relationships_vdb.as_ref(),
            embedder,
            items,
            &mut times,
            bar,
        )
        .await?;
    }

    bar.set_message("chunks");
    let chunk_batch = WRITE_BATCH / 4;
    for start in (0..spec.chunks).step_by(chunk_batch) {
        let end = (start + chunk_batch).min(spec.chunks);
        let t = Instant::now();
        let batch = chunks(&plan, spec, start..end)?;
        times.generate_s += t.elapsed().as_secs_f64();
        let mut rows = Vec::with_capacity(batch.len());
        for c in &batch {
            rows.push((c.id.clone(), serde_json::to_value(c).context("chunk row")?));
        }
        let items = batch
            .iter()
            .map(|c| (c.id.clone(), c.content.clone(), expected_chunk_meta(c)))
            .collect();
        let t = Instant::now();
        stores
            .kv
            .upsert(Namespace::TextChunks, rows)
            .await
            .context("cannot write text_chunks")?;
        times.kv_s += t.elapsed().as_secs_f64();
        write_vectors(stores.chunks_vdb.as_ref(), embedder, items, &mut times, bar).await?;
    }

    bar.set_message("index snapshots");
    let t = Instant::now();
    for set in [
        &stores.chunks_vdb,
        &stores.entities_vdb,
        &stores.relationships_vdb,
    ] {
        set.flush().await.context("cannot save an index snapshot")?;
    }
    times.flush_s = t.elapsed().as_secs_f64();
    times.total_s = started.elapsed().as_secs_f64();
    Ok((times, plan))
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
