//! One behavioural suite for every storage backend.
//!
//! Each case is an `async fn(&dyn Backend)` in one of the modules below: the port cases check
//! every method of the ports (`lightrag_core::ports`) against its documented contract, the
//! engine cases run whole scenarios of [`lightrag_core::Rag`] on the backend. A backend runs
//! the suite with one test file:
//!
//! ```ignore
//! mod conformance;
//!
//! struct Mine { /* where the data lives */ }
//!
//! #[async_trait::async_trait]
//! impl conformance::Backend for Mine {
//!     fn name(&self) -> &'static str { "mine" }
//!     async fn open(&self, model: &str, dim: usize) -> lightrag_core::Result<Stores> { ... }
//! }
//!
//! conformance_tests!(Mine::new());
//! ```
//!
//! The macro expands to one `#[tokio::test]` per case (named after it, so each shows in the
//! output of `cargo test`), each building its own backend from the expression given, which may
//! use `.await`. Run one group with a name filter: `cargo test -p lightrag-storage --test
//! conformance_memory graph_`.
//!
//! What a backend must provide: each expression gives an empty knowledge base of its own
//! (cases run in parallel: a temporary directory, a fresh schema or database), and
//! [`Backend::open`] can be called many times on it, each time after every handle of the
//! previous open was dropped, seeing what was written before (a process restart).

pub mod coordination;
pub mod doc_status;
pub mod engine;
pub mod graph;
pub mod kv;
pub mod misc;
pub mod vectors;

use async_trait::async_trait;
use lightrag_core::ports::Stores;
use lightrag_core::types::{DocStatus, DocStatusRecord, Entity, Relation, VectorRecord};
use lightrag_core::Result;

/// A storage backend under test: one knowledge base that can be opened again and again.
#[async_trait]
pub trait Backend: Send + Sync {
    /// The backend's name, in failure messages.
    fn name(&self) -> &'static str;

    /// Fresh handles over the backend's data, the vector sets bound to `model` and `dim`, as
    /// a process restarting over the same database would get. The suite drops every handle
    /// of an earlier `open` before the next one (an embedded store allows one open at a
    /// time). The first open of a new backend sees an empty knowledge base.
    async fn open(&self, model: &str, dim: usize) -> Result<Stores>;
}

/// The embedding model the port cases bind vector sets to.
pub const MODEL: &str = "conformance-model";
/// The dimension of the port cases' vectors.
pub const DIM: usize = 4;

/// Opens the backend with the port cases' model, or fails the test naming the backend.
pub async fn open(backend: &dyn Backend) -> Stores {
    backend
        .open(MODEL, DIM)
        .await
        .unwrap_or_else(|e| panic!("{}: open: {e}", backend.name()))
}

pub fn s(x: &str) -> String {
    x.to_string()
}

pub fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

pub fn pair(a: &str, b: &str) -> (String, String) {
    (s(a), s(b))
}

pub fn entity(name: &str) -> Entity {
    Entity {
        entity_id: s(name),
        entity_type: s("person"),
        description: format!("{name} description"),
        source_id: s("chunk-1"),
        file_path: s("a.txt"),
        created_at: 1,
        truncate: String::new(),
    }
}

pub fn relation(src: &str, tgt: &str, weight: f64) -> Relation {
    Relation {
        src_id: s(src),
        tgt_id: s(tgt),
        weight,
        description: format!("{src} and {tgt}"),
        keywords: s("k"),
        source_id: s("chunk-1"),
        file_path: s("a.txt"),
        created_at: 1,
        truncate: String::new(),
    }
}

pub fn record(status: DocStatus, created_at: &str, hash: Option<&str>) -> DocStatusRecord {
    DocStatusRecord {
        content_summary: s("summary"),
        content_length: 10,
        file_path: s("a.txt"),
        status,
        created_at: s(created_at),
        updated_at: s(created_at),
        track_id: s("track"),
        chunks_count: 0,
        chunks_list: Vec::new(),
        error_msg: None,
        metadata: serde_json::Map::new(),
        content_hash: hash.map(str::to_string),
    }
}

pub fn vector(id: &str, v: [f32; DIM], meta: serde_json::Value) -> VectorRecord {
    VectorRecord {
        id: s(id),
        vector: v.to_vec(),
        meta,
    }
}

/// The ids of rows, in order.
pub fn ids<T>(rows: &[(String, T)]) -> Vec<String> {
    rows.iter().map(|(id, _)| id.clone()).collect()
}

/// The sorted pairs of edges, in order.
pub fn pairs(edges: &[Relation]) -> Vec<(String, String)> {
    edges.iter().map(Relation::pair).collect()
}

/// Expands to one `#[tokio::test]` per suite case, each running the case on the backend built
/// by the expression given (evaluated in the async test, so it may `.await`).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@cases $make;
            // key-value
            [current_thread] kv::kv_round_trip,
            [current_thread] kv::kv_unicode_ids_and_values,
            [current_thread] kv::kv_namespaces_are_separate,
            [current_thread] kv::kv_clear,
            // document status
            [current_thread] doc_status::doc_status_upsert_get_delete,
            [current_thread] doc_status::doc_status_by_statuses_order,
            [current_thread] doc_status::doc_status_counts_with_zeros,
            [current_thread] doc_status::doc_status_created_at_is_immutable,
            [current_thread] doc_status::doc_status_content_hash_lookup,
            [current_thread] doc_status::doc_status_page,
            [current_thread] doc_status::doc_status_by_track_id,
            [current_thread] doc_status::doc_status_clear,
            // coordination
            [current_thread] coordination::leases_claim_what_needs_work_oldest_first,
            [current_thread] coordination::leases_expire_and_fence_the_old_holder,
            [current_thread] coordination::leases_abandoned_or_released_are_free_at_once,
            [multi_thread] coordination::leases_concurrent_claims_never_overlap,
            [current_thread] coordination::generation_grows_with_each_change,
            [current_thread] coordination::leases_released_all_at_once_on_stop,
            // graph
            [current_thread] graph::graph_nodes_round_trip,
            [current_thread] graph::graph_edges_are_undirected,
            [current_thread] graph::graph_node_edges_heaviest_first_with_cap,
            [current_thread] graph::graph_hub_cap_returns_the_heaviest,
            [current_thread] graph::graph_node_degrees,
            [current_thread] graph::graph_remove_nodes_fixes_neighbours,
            [current_thread] graph::graph_remove_edges,
            [current_thread] graph::graph_counts_and_sorted_listings,
            [current_thread] graph::graph_search_labels_ranking,
            [current_thread] graph::graph_top_labels,
            [current_thread] graph::graph_edges_among,
            [current_thread] graph::graph_clear,
            [current_thread] graph::graph_non_finite_weight_refused,
            // vectors
            [current_thread] vectors::vectors_query_order_threshold_and_top_k,
            [current_thread] vectors::vectors_update_replaces,
            [current_thread] vectors::vectors_delete,
            [current_thread] vectors::vectors_get_missing_ids,
            [current_thread] vectors::vectors_ids_sorted_and_sets_separate,
            [current_thread] vectors::vectors_clear_keeps_binding,
            [current_thread] vectors::vectors_reopen_with_another_model_refused,
            [current_thread] vectors::vectors_wrong_dimension_refused,
            // every port
            [current_thread] misc::empty_batches_are_no_ops,
            [current_thread] misc::large_batches,
            [multi_thread] misc::concurrent_upserts_of_one_id,
            [current_thread] misc::reopen_sees_the_same_data,
            // the engine
            [current_thread] engine::engine_insert_reinsert_delete,
            [current_thread] engine::engine_every_mode_answers_with_references,
            [current_thread] engine::engine_changed_document_replaces_it,
            [current_thread] engine::engine_duplicate_content_is_reported,
            [current_thread] engine::engine_failed_chunk_fails_its_document_only,
            [current_thread] engine::engine_crash_after_merge_resumes_to_the_same_graph,
            [multi_thread] engine::engine_killed_run_resumes_to_the_same_graph,
            [current_thread] engine::engine_vector_sets_refuse_another_model,
            [current_thread] engine::engine_check_and_rebuild_vectors,
            [current_thread] engine::engine_graph_reads_are_batched_and_hubs_capped,
            [current_thread] engine::engine_descriptions_stay_bounded_without_llm,
            [multi_thread] engine::engine_concurrent_merges_leave_the_latest_vectors,
            [multi_thread] engine::engine_graph_edit_not_undone_by_a_merge_still_writing,
            [current_thread] engine::engine_browse,
            [current_thread] engine::engine_clear_workspace,
            [current_thread] engine::engine_requeue_failed,
        );
    };
    (@cases $make:expr; $([$flavor:ident] $module:ident :: $case:ident),* $(,)?) => {
        $( $crate::conformance_tests!(@one $flavor $make; $module::$case); )*
    };
    (@one current_thread $make:expr; $module:ident :: $case:ident) => {
        #[tokio::test]
        async fn $case() {
            let backend = $make;
            $crate::conformance::$module::$case(&backend).await;
        }
    };
    (@one multi_thread $make:expr; $module:ident :: $case:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $case() {
            let backend = $make;
            $crate::conformance::$module::$case(&backend).await;
        }
    };
}
