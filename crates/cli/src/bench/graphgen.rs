//! The graph of the retrieval benchmark (written straight into the stores, no extraction):
//! entities with invented names, relations whose endpoints are drawn with a Zipf-like skew (a
//! few hubs get thousands of edges), chunks of generated prose that mention their entities,
//! the tracking rows, and the three vector sets from the configured embedder.

use std::collections::HashSet;

use anyhow::{anyhow, Result};
use lightrag_core::ids::{chunk_id, doc_id, sorted_pair, GRAPH_FIELD_SEP};
use lightrag_core::tokenizer::TiktokenTokenizer;
use lightrag_core::types::{Chunk, Entity, Relation};
use serde_json::{json, Value};

use super::corpus::{Cast, Kind, World};
use super::rng::{Rng, Zipf};
use super::words::{ROLES, TOPICS, VERBS_PAST};

/// Bump when the generated graph changes, so an old benchmark directory is not reused.
pub const GENERATOR_VERSION: u64 = 1;
/// Description sentences kept per entity (the offline pipeline would keep joining more).
const MAX_FRAGMENTS: usize = 10;

/// What to build.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub entities: usize,
    pub relations: usize,
    pub chunks: usize,
    pub chunk_tokens: usize,
    pub max_source_ids: usize,
    pub seed: u64,
}

impl Spec {
    pub fn json(&self) -> Value {
        json!({"entities": self.entities, "relations": self.relations, "chunks": self.chunks,
               "chunk_tokens": self.chunk_tokens, "max_source_ids": self.max_source_ids,
               "seed": self.seed, "generator_version": GENERATOR_VERSION})
    }
}

/// The shape of the graph, before any text.
pub struct Plan {
    pub world: World,
    pub names: Vec<String>,
    pub kinds: Vec<Kind>,
    pub edges: Vec<(u32, u32)>,
    pub edge_chunk: Vec<u32>,
    pub ent_chunks: Vec<Vec<u32>>,
    pub degree: Vec<u32>,
}

/// Entities in hub order: the pools interleaved, most frequent names first.
pub fn plan(spec: &Spec) -> Plan {
    let n = spec.entities.max(2);
    let (people, orgs, places) = (n * 2 / 5, n / 5, n / 4);
    let world = World::new(spec.seed, people, orgs, places, n - people - orgs - places);
    let mut names = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let pools = [
        (&world.people, Kind::Person),
        (&world.orgs, Kind::Org),
        (&world.places, Kind::Place),
        (&world.events, Kind::Event),
    ];
    for r in 0..people.max(n - people - orgs - places) {
        for (pool, kind) in pools {
            if let Some(name) = pool.get(r) {
                names.push(name.clone());
                kinds.push(kind);
            }
        }
    }
    let mut rng = Rng::new(spec.seed ^ 0xED6E);
    let zipf = Zipf::new(n, 1.0);
    let target = spec.relations.min(n * (n - 1) / 2);
    let mut seen: HashSet<(u32, u32)> = HashSet::with_capacity(target);
    let mut edges = Vec::with_capacity(target);
    let mut attempts = 0usize;
    while edges.len() < target && attempts < target.saturating_mul(50) + 1000 {
        attempts += 1;
        // One end skewed half of the time, the other uniform: hubs of thousands of edges, a
        // long tail of entities with one or two.
        let a = if rng.chance(0.5) {
            zipf.sample(&mut rng)
        } else {
            rng.below(n)
        };
        let b = rng.below(n);
        if a == b {
            continue;
        }
        let key = (a.min(b) as u32, a.max(b) as u32);
        if seen.insert(key) {
            edges.push(key);
        }
    }
    let chunks = spec.chunks.max(1) as u32;
    let primary = |i: u32| i % chunks;
    let mut degree = vec![0u32; n];
    let mut ent_chunks: Vec<Vec<u32>> = (0..n as u32).map(|i| vec![primary(i)]).collect();
    let mut edge_chunk = Vec::with_capacity(edges.len());
    for &(a, b) in &edges {
        let c = primary(if rng.chance(0.5) { a } else { b });
        edge_chunk.push(c);
        for e in [a, b] {
            degree[e as usize] += 1;
            let list = &mut ent_chunks[e as usize];
            if list.len() < spec.max_source_ids && !list.contains(&c) {
                list.push(c);
            }
        }
    }
    Plan {
        world,
        names,
        kinds,
        edges,
        edge_chunk,
        ent_chunks,
        degree,
    }
}

fn chunk_ref(c: u32) -> (String, String) {
    let path = format!("bench/retrieval-{:05}.md", c / 10);
    (chunk_id(&doc_id(&path), (c % 10) as usize), path)
}

pub fn join_ids(chunks: &[u32]) -> (String, String) {
    let refs: Vec<(String, String)> = chunks.iter().map(|c| chunk_ref(*c)).collect();
    let mut paths: Vec<&str> = Vec::new();
    for (_, p) in &refs {
        if !paths.contains(&p.as_str()) && paths.len() < 75 {
            paths.push(p);
        }
    }
    let ids: Vec<&str> = refs.iter().map(|(id, _)| id.as_str()).collect();
    (ids.join(GRAPH_FIELD_SEP), paths.join(GRAPH_FIELD_SEP))
}

pub fn entity(plan: &Plan, i: usize, now: i64) -> Entity {
    let mut rng = Rng::new(0xE000 ^ i as u64);
    let name = &plan.names[i];
    let kind = plan.kinds[i];
    let fragments: Vec<String> = (0..plan.ent_chunks[i].len().min(MAX_FRAGMENTS))
        .map(|_| {
            let (t, y) = (rng.pick(TOPICS), 1780 + rng.below(140));
            match (kind, rng.below(2)) {
                (Kind::Person, 0) => format!("{name} was a {} who worked on {t}.", rng.pick(ROLES)),
                (Kind::Person, _) => format!("{name} wrote about {t} in {y}."),
                (Kind::Org, 0) => format!("The {name} dealt mainly in {t}."),
                (Kind::Org, _) => format!("The {name} was founded in {y} to oversee {t}."),
                (Kind::Place, 0) => format!("{name} was known for its {t}."),
                (Kind::Place, _) => format!("In {y}, {name} became a centre of {t}."),
                (Kind::Event, _) => format!("The {name} of {y} disrupted {t}."),
            }
        })
        .collect();
    let (source_id, file_path) = join_ids(&plan.ent_chunks[i]);
    Entity {
        entity_id: name.clone(),
        entity_type: kind.entity_type().to_string(),
        description: fragments.join(GRAPH_FIELD_SEP),
        source_id,
        file_path,
        created_at: now,
        truncate: String::new(),
    }
}

pub fn relation(plan: &Plan, k: usize, now: i64) -> Relation {
    let mut rng = Rng::new(0xB000 ^ k as u64);
    let (a, b) = plan.edges[k];
    let (src, tgt) = sorted_pair(&plan.names[a as usize], &plan.names[b as usize]);
    let (t, t2) = (rng.pick(TOPICS), rng.pick(TOPICS));
    let description = match rng.below(3) {
        0 => format!("{src} and {tgt} were both involved in the {t}."),
        1 => format!(
            "{src} {} {tgt} in {}.",
            rng.pick(VERBS_PAST),
            1780 + rng.below(140)
        ),
        _ => format!("{src} and {tgt} met during the dispute over {t}."),
    };
    let mut kw = vec![t.to_string(), t2.to_string()];
    kw.sort();
    kw.dedup();
    let (source_id, file_path) = join_ids(&[plan.edge_chunk[k]]);
    Relation {
        src_id: src.to_string(),
        tgt_id: tgt.to_string(),
        weight: (1 + rng.below(5)) as f64,
        description,
        keywords: kw.join(","),
        source_id,
        file_path,
        created_at: now,
        truncate: String::new(),
    }
}

/// The text chunks `range`, generated on every core.
pub fn chunks(plan: &Plan, spec: &Spec, range: std::ops::Range<usize>) -> Result<Vec<Chunk>> {
    let n_chunks = spec.chunks.max(1);
    let make = |c: usize| {
        let mut cast = Cast::default();
        for i in (c..plan.names.len()).step_by(n_chunks) {
            let name = plan.names[i].clone();
            match plan.kinds[i] {
                Kind::Person => cast.people.push(name),
                Kind::Org => cast.orgs.push(name),
                Kind::Place => cast.places.push(name),
                Kind::Event => cast.events.push(name),
            }
        }
        let mut rng = Rng::new(spec.seed ^ 0xC000_0000 ^ c as u64);
        let tok = TiktokenTokenizer::o200k();
        let title = format!("Record {}", c + 1);
        let (content, tokens) = plan
            .world
            .prose(&title, &cast, spec.chunk_tokens, &mut rng, &tok);
        let (id, path) = chunk_ref(c as u32);
        Chunk {
            id,
            content,
            tokens,
            chunk_order_index: c % 10,
            full_doc_id: doc_id(&path),
            file_path: path,
            llm_cache_list: vec![],
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ids: Vec<usize> = range.collect();
    let per = ids.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .chunks(per)
            .map(|part| s.spawn(|| part.iter().map(|&c| make(c)).collect::<Vec<_>>()))
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.extend(h.join().map_err(|_| anyhow!("chunk generation panicked"))?);
        }
        Ok(out)
    })
}
