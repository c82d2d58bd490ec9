//! LightRAG's merge rules as pure functions: how the records one document extracted for an
//! entity or a relation combine with what the graph already holds.

use std::collections::{HashMap, HashSet};

use crate::config::{MergeLimits, SourceIdsLimit};
use crate::ids::GRAPH_FIELD_SEP;
use crate::types::{Entity, ExtractedEntity, ExtractedRelation, Relation};

/// Chunk-id placeholders that do not count as evidence.
const PLACEHOLDER_SOURCES: [&str; 2] = ["manual_creation", "UNKNOWN"];
const TRUNCATED_MARK: &str = "...truncated...";

/// Splits a `<SEP>`-joined field into its non-empty parts.
pub fn split_sep(s: &str) -> Vec<String> {
    s.split(GRAPH_FIELD_SEP)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Keeps the first occurrence of each item.
pub fn dedup_in_order(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

/// The result of merging one entity or relation: what to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged<T> {
    pub record: T,
    /// The full, uncapped list of source chunk ids (the `entity_chunks`/`relation_chunks` row).
    pub all_chunk_ids: Vec<String>,
}

/// The source chunk ids of an entity or relation before and after a merge.
struct SourcePlan {
    /// Known before this merge (the tracking row, else the stored `source_id`).
    existing: Vec<String>,
    /// Existing plus new, de-duplicated: the tracking row to store.
    all: Vec<String>,
    /// What the graph keeps under the limit.
    kept: Vec<String>,
    truncate: String,
}

impl SourcePlan {
    fn new<'a>(
        tracked: Option<&[String]>,
        stored_source_id: Option<&str>,
        new_ids: impl Iterator<Item = &'a str>,
        max: usize,
        method: SourceIdsLimit,
    ) -> SourcePlan {
        let existing = match (tracked, stored_source_id) {
            (Some(t), _) => t.to_vec(),
            (None, Some(s)) => split_sep(s),
            (None, None) => Vec::new(),
        };
        let all = dedup_in_order(existing.iter().cloned().chain(new_ids.map(str::to_string)));
        let (kept, truncate) = limit_ids(&all, max, method);
        SourcePlan {
            existing,
            all,
            kept,
            truncate,
        }
    }

    /// Whether a record from chunk `id` contributes: under KEEP only records from kept (or
    /// already known) chunks do; under FIFO every record does, as in LightRAG.
    fn applies(&self, id: &str, method: SourceIdsLimit) -> bool {
        method == SourceIdsLimit::Fifo
            || self.kept.iter().any(|k| k == id)
            || self.existing.iter().any(|k| k == id)
    }

    fn adds_nothing(&self) -> bool {
        self.all.len() == self.existing.len()
    }
}

/// Applies the source-id limit; returns the kept ids and the `truncate` note.
pub(crate) fn limit_ids(
    all: &[String],
    max: usize,
    method: SourceIdsLimit,
) -> (Vec<String>, String) {
    if all.len() <= max {
        return (all.to_vec(), String::new());
    }
    match method {
        SourceIdsLimit::Keep => (all[..max].to_vec(), "KEEP Old".to_string()),
        SourceIdsLimit::Fifo => (
            all[all.len() - max..].to_vec(),
            format!("FIFO {}/{}", max, all.len()),
        ),
    }
}

/// Stored + new file paths, deduplicated and capped with LightRAG's truncation marker.
fn merge_file_paths(stored: &str, new: &[&str], limits: &MergeLimits) -> String {
    let paths = dedup_in_order(
        split_sep(stored)
            .into_iter()
            .filter(|p| !p.starts_with(TRUNCATED_MARK))
            .chain(new.iter().map(|p| p.to_string()).filter(|p| !p.is_empty())),
    );
    let max = limits.max_file_paths;
    if paths.len() <= max {
        return paths.join(GRAPH_FIELD_SEP);
    }
    let (mut kept, mark) = match limits.source_ids_limit {
        SourceIdsLimit::Keep => (paths[..max].to_vec(), "...truncated...(KEEP Old)"),
        SourceIdsLimit::Fifo => (paths[paths.len() - max..].to_vec(), "...truncated...(FIFO)"),
    };
    kept.push(mark.to_string());
    kept.join(GRAPH_FIELD_SEP)
}

/// Stored fragments first, then new descriptions (longest first within the document), exact
/// duplicates removed.
fn merge_descriptions(stored: Option<&str>, new: &[&str]) -> Vec<String> {
    let mut fresh: Vec<&str> = new
        .iter()
        .copied()
        .filter(|d| !d.trim().is_empty())
        .collect();
    // Records of one document share a timestamp in LightRAG, so its order reduces to length desc.
    fresh.sort_by_key(|d| std::cmp::Reverse(d.len()));
    dedup_in_order(
        stored
            .map(split_sep)
            .unwrap_or_default()
            .into_iter()
            .chain(fresh.into_iter().map(|d| d.trim().to_string())),
    )
}

/// The most frequent type among the new records and the stored one (ties: first seen, new first).
fn pick_type(new: &[&str], stored: Option<&str>) -> String {
    let all: Vec<&str> = new
        .iter()
        .copied()
        .chain(stored)
        .filter(|t| !t.is_empty())
        .collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &all {
        *counts.entry(t).or_default() += 1;
    }
    let mut best: Option<(&str, usize)> = None;
    for t in &all {
        let c = counts[t];
        if best.is_none_or(|(_, bc)| c > bc) {
            best = Some((t, c));
        }
    }
    best.map(|(t, _)| t.to_string())
        .unwrap_or_else(|| "UNKNOWN".to_string())
}

/// Merges the new records of one entity into the stored node.
/// `tracked` is the entity's full source list (`entity_chunks`), if any.
/// Returns `None` when the node is already full under KEEP and nothing new applies.
pub fn merge_entity(
    name: &str,
    stored: Option<&Entity>,
    tracked: Option<&[String]>,
    new: &[ExtractedEntity],
    limits: &MergeLimits,
    now: i64,
) -> Option<Merged<Entity>> {
    let plan = SourcePlan::new(
        tracked,
        stored.map(|s| s.source_id.as_str()),
        new.iter().map(|r| r.source_id.as_str()),
        limits.max_source_ids_per_entity,
        limits.source_ids_limit,
    );
    // Under KEEP, records from chunks beyond the limit contribute nothing.
    let applied: Vec<&ExtractedEntity> = new
        .iter()
        .filter(|r| plan.applies(&r.source_id, limits.source_ids_limit))
        .collect();
    if stored.is_some() && applied.is_empty() && plan.adds_nothing() {
        return None;
    }
    let types: Vec<&str> = applied.iter().map(|r| r.entity_type.as_str()).collect();
    let entity_type = pick_type(&types, stored.map(|s| s.entity_type.as_str()));
    let descs: Vec<&str> = applied.iter().map(|r| r.description.as_str()).collect();
    let mut fragments = merge_descriptions(stored.map(|s| s.description.as_str()), &descs);
    if fragments.is_empty() {
        fragments.push(format!("Entity {name}"));
    }
    let paths: Vec<&str> = applied.iter().map(|r| r.file_path.as_str()).collect();
    let file_path = merge_file_paths(
        stored.map(|s| s.file_path.as_str()).unwrap_or(""),
        &paths,
        limits,
    );
    Some(Merged {
        record: Entity {
            entity_id: name.to_string(),
            entity_type,
            description: fragments.join(GRAPH_FIELD_SEP),
            source_id: plan.kept.join(GRAPH_FIELD_SEP),
            file_path,
            created_at: now,
            truncate: plan.truncate,
        },
        all_chunk_ids: plan.all,
    })
}

/// Merges the new records of one relation (pair already sorted) into the stored edge.
pub fn merge_relation(
    pair: (&str, &str),
    stored: Option<&Relation>,
    tracked: Option<&[String]>,
    new: &[ExtractedRelation],
    limits: &MergeLimits,
    now: i64,
) -> Option<Merged<Relation>> {
    let plan = SourcePlan::new(
        tracked,
        stored.map(|s| s.source_id.as_str()),
        new.iter().map(|r| r.source_id.as_str()),
        limits.max_source_ids_per_relation,
        limits.source_ids_limit,
    );
    let applied: Vec<&ExtractedRelation> = new
        .iter()
        .filter(|r| plan.applies(&r.source_id, limits.source_ids_limit))
        .collect();
    if stored.is_some() && applied.is_empty() && plan.adds_nothing() {
        return None;
    }
    // A record from a chunk the stored edge already lists was counted before (a resumed run).
    let stored_sources: Vec<String> = stored.map(|s| split_sep(&s.source_id)).unwrap_or_default();
    let added: f64 = applied
        .iter()
        .filter(|r| !stored_sources.contains(&r.source_id))
        .map(|r| r.weight)
        .sum();
    // Evidence: the distinct real sources the edge keeps.
    let real_sources = plan
        .kept
        .iter()
        .filter(|id| !PLACEHOLDER_SOURCES.contains(&id.as_str()))
        .count() as f64;
    let weight = (stored.map(|s| s.weight).unwrap_or(0.0) + added).max(real_sources);
    let mut keywords: Vec<String> = stored
        .map(|s| s.keywords.as_str())
        .into_iter()
        .chain(applied.iter().map(|r| r.keywords.as_str()))
        .flat_map(|k| {
            k.replace('，', ",")
                .split(',')
                .map(|t| t.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|k| !k.is_empty())
        .collect();
    keywords.sort();
    keywords.dedup();
    let descs: Vec<&str> = applied.iter().map(|r| r.description.as_str()).collect();
    let fragments = merge_descriptions(stored.map(|s| s.description.as_str()), &descs);
    if fragments.is_empty() {
        return None;
    }
    let paths: Vec<&str> = applied.iter().map(|r| r.file_path.as_str()).collect();
    let file_path = merge_file_paths(
        stored.map(|s| s.file_path.as_str()).unwrap_or(""),
        &paths,
        limits,
    );
    Some(Merged {
        record: Relation {
            src_id: pair.0.to_string(),
            tgt_id: pair.1.to_string(),
            weight,
            description: fragments.join(GRAPH_FIELD_SEP),
            keywords: keywords.join(","),
            source_id: plan.kept.join(GRAPH_FIELD_SEP),
            file_path,
            created_at: now,
            truncate: plan.truncate,
        },
        all_chunk_ids: plan.all,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn ent(name: &str, ty: &str, desc: &str, chunk: &str) -> ExtractedEntity {
        ExtractedEntity {
            name: name.into(),
            entity_type: ty.into(),
            description: desc.into(),
            source_id: chunk.into(),
            file_path: "a.txt".into(),
        }
    }

    fn rel(a: &str, b: &str, kw: &str, desc: &str, chunk: &str) -> ExtractedRelation {
        ExtractedRelation {
            src: a.into(),
            tgt: b.into(),
            keywords: kw.into(),
            description: desc.into(),
            weight: 1.0,
            source_id: chunk.into(),
            file_path: "a.txt".into(),
        }
    }

    #[test]
    fn new_entity_joins_descriptions_and_picks_majority_type() {
        let limits = Config::defaults().merge;
        let recs = [
            ent("Acme", "organization", "Acme makes rockets.", "c1"),
            ent("Acme", "organization", "Acme is in Ohio, a state.", "c2"),
            ent("Acme", "location", "Acme makes rockets.", "c2"),
        ];
        let m = merge_entity("Acme", None, None, &recs, &limits, 5).unwrap();
        assert_eq!(m.record.entity_type, "organization");
        assert_eq!(
            m.record.description,
            "Acme is in Ohio, a state.<SEP>Acme makes rockets."
        );
        assert_eq!(m.record.source_id, "c1<SEP>c2");
        assert_eq!(m.record.file_path, "a.txt");
        assert_eq!(m.all_chunk_ids, vec!["c1", "c2"]);
    }

    #[test]
    fn merging_twice_is_idempotent() {
        let limits = Config::defaults().merge;
        let recs = [ent("Acme", "organization", "Acme makes rockets.", "c1")];
        let first = merge_entity("Acme", None, None, &recs, &limits, 5).unwrap();
        let again = merge_entity(
            "Acme",
            Some(&first.record),
            Some(&first.all_chunk_ids),
            &recs,
            &limits,
            6,
        )
        .unwrap();
        assert_eq!(again.record.description, first.record.description);
        assert_eq!(again.record.source_id, first.record.source_id);

        let r = [rel("A", "B", "x, y", "A knows B.", "c1")];
        let e1 = merge_relation(("A", "B"), None, None, &r, &limits, 1).unwrap();
        let e2 = merge_relation(
            ("A", "B"),
            Some(&e1.record),
            Some(&e1.all_chunk_ids),
            &r,
            &limits,
            2,
        )
        .unwrap();
        assert_eq!(e1.record.weight, 1.0);
        assert_eq!(e2.record.weight, 1.0);
    }

    #[test]
    fn relation_weights_add_and_keywords_sort() {
        let limits = Config::defaults().merge;
        let first = merge_relation(
            ("A", "B"),
            None,
            None,
            &[rel("A", "B", "leadership, employment", "A leads B.", "c1")],
            &limits,
            1,
        )
        .unwrap();
        assert_eq!(first.record.keywords, "employment,leadership");
        let second = merge_relation(
            ("A", "B"),
            Some(&first.record),
            Some(&first.all_chunk_ids),
            &[
                rel("B", "A", "funding", "B funds A.", "c2"),
                rel("A", "B", "x", "A leads B.", "c3"),
            ],
            &limits,
            2,
        )
        .unwrap();
        assert_eq!(second.record.weight, 3.0);
        assert_eq!(second.record.keywords, "employment,funding,leadership,x");
        assert_eq!(second.record.description, "A leads B.<SEP>B funds A.");
        assert_eq!(second.record.source_id, "c1<SEP>c2<SEP>c3");
    }

    #[test]
    fn source_ids_are_capped_keep_and_fifo() {
        let mut limits = Config::defaults().merge;
        limits.max_source_ids_per_entity = 2;
        let recs = [
            ent("X", "t", "one", "c1"),
            ent("X", "t", "two", "c2"),
            ent("X", "t", "three", "c3"),
        ];
        let keep = merge_entity("X", None, None, &recs, &limits, 0).unwrap();
        assert_eq!(keep.record.source_id, "c1<SEP>c2");
        assert_eq!(keep.record.truncate, "KEEP Old");
        assert!(!keep.record.description.contains("three"));
        assert_eq!(keep.all_chunk_ids.len(), 3);
        limits.source_ids_limit = SourceIdsLimit::Fifo;
        let fifo = merge_entity("X", None, None, &recs, &limits, 0).unwrap();
        assert_eq!(fifo.record.source_id, "c2<SEP>c3");
        assert_eq!(fifo.record.truncate, "FIFO 2/3");
        // FIFO truncates the sources only; every description still counts (as LightRAG).
        assert!(fifo.record.description.contains("one"));
    }

    #[test]
    fn file_paths_are_capped_with_a_marker() {
        let mut limits = Config::defaults().merge;
        limits.max_file_paths = 2;
        let out = merge_file_paths("a<SEP>b", &["c"], &limits);
        assert_eq!(out, "a<SEP>b<SEP>...truncated...(KEEP Old)");
        // LightRAG drops the marker when it re-reads the list; nothing new means no marker.
        let again = merge_file_paths(&out, &["b"], &limits);
        assert_eq!(again, "a<SEP>b");
    }
}
