//! Identifiers with LightRAG's schemes (`doc-<md5>`, `-chunk-NNN`, `ent-`, `rel-`).

use md5::{Digest, Md5};

/// Joins multi-valued fields (descriptions, source ids, file paths), as LightRAG's `GRAPH_FIELD_SEP`.
pub const GRAPH_FIELD_SEP: &str = "<SEP>";

/// `md5(utf8(s))` as lowercase hex (LightRAG's `compute_mdhash_id` without prefix).
pub fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

/// The id of a document known by `key` (its path or a caller-given key).
pub fn doc_id(key: &str) -> String {
    format!("doc-{}", md5_hex(key))
}

/// The id of the `order`-th chunk of a document.
pub fn chunk_id(doc_id: &str, order: usize) -> String {
    format!("{doc_id}-chunk-{order:03}")
}

/// The document a chunk id belongs to (`None` for ids that are not chunk ids, such as
/// `manual_creation`).
pub fn doc_of_chunk(chunk_id: &str) -> Option<&str> {
    chunk_id.rsplit_once("-chunk-").map(|(doc, _)| doc)
}

/// The vector id of an entity.
pub fn entity_vector_id(name: &str) -> String {
    format!("ent-{}", md5_hex(name))
}

/// Relations are undirected: the pair is always stored sorted.
pub fn sorted_pair<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// The vector id of a relation (`rel-` + md5 of the sorted endpoints concatenated).
pub fn relation_vector_id(a: &str, b: &str) -> String {
    let (a, b) = sorted_pair(a, b);
    format!("rel-{}", md5_hex(&format!("{a}{b}")))
}

/// The tracking key of a relation in `relation_chunks` (`a<SEP>b`, sorted).
pub fn relation_key(a: &str, b: &str) -> String {
    let (a, b) = sorted_pair(a, b);
    format!("{a}{GRAPH_FIELD_SEP}{b}")
}

/// A track id such as `insert_20261125_113000_1a2b3c4d`.
pub fn track_id(prefix: &str) -> String {
    let now = chrono::Utc::now().format("%Y%m%d_%H%M%S");
    let uuid = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{now}_{}", &uuid[..8])
}

/// LightRAG's `compute_args_hash` for two or more arguments: md5 of `"{len}:{s}"` for each.
pub fn args_hash(parts: &[&str]) -> String {
    let mut joined = String::new();
    for p in parts {
        joined.push_str(&format!("{}:{}", p.chars().count(), p));
    }
    md5_hex(&joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_lightrag_schemes() {
        assert_eq!(md5_hex("a"), "0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(doc_id("a.txt"), format!("doc-{}", md5_hex("a.txt")));
        assert_eq!(chunk_id("doc-x", 7), "doc-x-chunk-007");
        assert_eq!(chunk_id("doc-x", 1234), "doc-x-chunk-1234");
        assert_eq!(relation_vector_id("B", "A"), relation_vector_id("A", "B"));
        assert_eq!(
            relation_vector_id("B", "A"),
            format!("rel-{}", md5_hex("AB"))
        );
        assert_eq!(relation_key("b", "a"), "a<SEP>b");
    }

    #[test]
    fn track_id_shape() {
        let t = track_id("insert");
        assert!(t.starts_with("insert_"));
        assert_eq!(t.len(), "insert_20261125_113000_1a2b3c4d".len());
    }
}
