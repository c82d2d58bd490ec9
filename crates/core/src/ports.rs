//! Ports: everything outside the engine is reached through these traits, so that adapters
//! (embedded stores, databases, model servers, the local model) can be swapped by configuration.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde_json::Value;

use crate::error::Result;
use crate::types::{
    Chunk, ChunkExtraction, DocStatus, DocStatusRecord, Entity, Relation, VectorHit, VectorRecord,
};

/// Why a text is embedded (asymmetric models prefix queries and documents differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmbedPurpose {
    Document,
    Query,
}

/// Turns texts into vectors of a fixed dimension.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// The model name recorded in every vector index built with it.
    fn model_name(&self) -> &str;
    /// The vector dimension.
    fn dim(&self) -> usize;
    /// Embeds a batch; the result has one vector per text, in order.
    async fn embed(&self, texts: &[String], purpose: EmbedPurpose) -> Result<Vec<Vec<f32>>>;
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

/// A request to a chat model.
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    pub system: Option<String>,
    pub history: Vec<ChatMessage>,
    pub prompt: String,
    /// Ask for a JSON object reply where the server supports it.
    pub json: bool,
    /// Ask a reasoning model not to think first, where the server allows it (extraction,
    /// keywords).
    pub no_think: bool,
    /// Cache the reply in the LLM response cache under this tag (see `llm::cache`).
    pub cache: Option<CacheTag>,
}

/// Where a reply goes in the LLM response cache: LightRAG's `{mode}:{cache_type}:{hash}` keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheTag {
    /// `default` for indexing, the query mode for queries.
    pub mode: String,
    /// `extract`, `summary`, `keywords` or `query`.
    pub cache_type: String,
}

/// A large language model that completes a conversation.
#[async_trait]
pub trait ChatModel: Send + Sync {
    /// Binding, model and host: part of every LLM cache key.
    fn identity(&self) -> String;
    /// The whole reply.
    async fn complete(&self, req: &ChatRequest) -> Result<String>;
    /// The reply as it is generated; by default one piece.
    async fn stream(&self, req: &ChatRequest) -> Result<BoxStream<'static, Result<String>>> {
        let text = self.complete(req).await?;
        Ok(Box::pin(futures::stream::once(async move { Ok(text) })))
    }
}

/// Finds entities and relations in a chunk (an LLM prompt or the offline heuristic).
#[async_trait]
pub trait Extractor: Send + Sync {
    /// Names the extractor and its settings; part of the extraction cache key.
    fn identity(&self) -> String;
    /// Extracts from one chunk. Records carry the chunk id as `source_id`.
    async fn extract(&self, chunk: &Chunk) -> Result<ChunkExtraction>;
}

/// One candidate's place in a reranked list: its index in the documents given and the
/// reranker's relevance score (higher is more relevant; the scale is the model's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RerankHit {
    pub index: usize,
    pub relevance_score: f32,
}

/// Why a reranker gave no ranking, and whether asking again later may help (a server that is
/// down, busy or slow) or not (a refused key, a reply in an unknown shape).
#[derive(Debug, Clone, thiserror::Error)]
#[error("rerank failed: {message}")]
pub struct RerankError {
    pub message: String,
    pub retryable: bool,
}

impl RerankError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

/// Orders candidate texts by their relevance to a query (a cross-encoder or a rerank API).
///
/// Contract: the hits are best first, each `index` is below `documents.len()` and appears at
/// most once, and there are at most `top_n` of them (`None`: one per document). Documents the
/// model left out are missing from the list. The engine still checks indices and scores and
/// never fails a query because of a reranker: on an error it keeps the retrieval order.
#[async_trait]
pub trait Reranker: Send + Sync {
    /// The binding's name (`cohere`, `jina`, `aliyun`, ...), for logs and `/health`.
    fn binding(&self) -> &str;
    /// The model name.
    fn model(&self) -> &str;
    /// Where the model is served (the endpoint URL; empty for a model in process).
    fn host(&self) -> &str;
    /// Scores `documents` against `query`.
    async fn rerank(
        &self,
        query: &str,
        documents: &[String],
        top_n: Option<usize>,
    ) -> std::result::Result<Vec<RerankHit>, RerankError>;
}

/// The key-value namespaces of LightRAG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    FullDocs,
    TextChunks,
    LlmResponseCache,
    FullEntities,
    FullRelations,
    EntityChunks,
    RelationChunks,
}

impl Namespace {
    /// Every namespace.
    pub const ALL: [Namespace; 7] = [
        Namespace::FullDocs,
        Namespace::TextChunks,
        Namespace::LlmResponseCache,
        Namespace::FullEntities,
        Namespace::FullRelations,
        Namespace::EntityChunks,
        Namespace::RelationChunks,
    ];

    /// LightRAG's namespace name.
    pub fn as_str(self) -> &'static str {
        match self {
            Namespace::FullDocs => "full_docs",
            Namespace::TextChunks => "text_chunks",
            Namespace::LlmResponseCache => "llm_response_cache",
            Namespace::FullEntities => "full_entities",
            Namespace::FullRelations => "full_relations",
            Namespace::EntityChunks => "entity_chunks",
            Namespace::RelationChunks => "relation_chunks",
        }
    }
}

/// JSON records by namespace and id.
#[async_trait]
pub trait KvStore: Send + Sync {
    async fn get(&self, ns: Namespace, id: &str) -> Result<Option<Value>>;
    /// One entry per id, `None` where absent.
    async fn get_many(&self, ns: Namespace, ids: &[String]) -> Result<Vec<Option<Value>>>;
    /// Inserts or replaces, atomically for the whole batch.
    async fn upsert(&self, ns: Namespace, items: Vec<(String, Value)>) -> Result<()>;
    async fn delete(&self, ns: Namespace, ids: &[String]) -> Result<()>;
    /// All keys of a namespace, sorted.
    async fn keys(&self, ns: Namespace) -> Result<Vec<String>>;
    /// Removes every record of a namespace.
    async fn clear(&self, ns: Namespace) -> Result<()>;
}

/// The order of a page of document status rows (LightRAG's `sort_field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocSort {
    UpdatedAt,
    CreatedAt,
    Id,
    FilePath,
}

impl DocSort {
    /// The field of `r` (or its id) this order sorts by.
    pub fn key<'a>(self, id: &'a str, r: &'a DocStatusRecord) -> &'a str {
        match self {
            DocSort::UpdatedAt => &r.updated_at,
            DocSort::CreatedAt => &r.created_at,
            DocSort::Id => id,
            DocSort::FilePath => &r.file_path,
        }
    }
}

/// Which rows a page holds: those in `statuses`, ordered by `sort` then id (both reversed when
/// `descending`), `limit` of them after skipping `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocPageRequest {
    pub statuses: Vec<DocStatus>,
    pub sort: DocSort,
    pub descending: bool,
    pub offset: usize,
    pub limit: usize,
}

/// One page of rows and how many rows match in all.
#[derive(Debug, Clone, Default)]
pub struct DocPage {
    pub rows: Vec<(String, DocStatusRecord)>,
    pub total: usize,
}

/// Document status rows.
#[async_trait]
pub trait DocStatusStore: Send + Sync {
    async fn get(&self, id: &str) -> Result<Option<DocStatusRecord>>;
    /// Inserts or replaces, atomically for the whole batch.
    async fn upsert(&self, items: Vec<(String, DocStatusRecord)>) -> Result<()>;
    /// Removes the rows that exist among `ids`.
    async fn delete(&self, ids: &[String]) -> Result<()>;
    /// Rows in any of the statuses, ordered by `(created_at, id)`. For batch work (the
    /// pipeline, requeueing); requests page with [`DocStatusStore::page`].
    async fn by_statuses(&self, statuses: &[DocStatus]) -> Result<Vec<(String, DocStatusRecord)>>;
    /// One page of rows, answered from an index: the cost grows with `offset + limit`, not with
    /// the number of rows stored.
    async fn page(&self, req: &DocPageRequest) -> Result<DocPage>;
    /// The rows of one track id, ordered by `(created_at, id)`.
    async fn by_track_id(&self, track_id: &str) -> Result<Vec<(String, DocStatusRecord)>>;
    /// Rows per status (every status present, zeros included).
    async fn counts(&self) -> Result<HashMap<DocStatus, usize>>;
    /// A non-duplicate row with this content hash, other than `exclude`.
    async fn find_by_content_hash(
        &self,
        hash: &str,
        exclude: Option<&str>,
    ) -> Result<Option<(String, DocStatusRecord)>>;
    /// Removes every row.
    async fn clear(&self) -> Result<()>;
}

/// The knowledge graph: entities as nodes (id = name), undirected relations as edges keyed by
/// the sorted pair. Batched reads: one call per hop, never one per node.
///
/// Contract every backend keeps (the conformance suite checks it): an edge may name a node
/// that does not exist and still counts in both ends' degrees; a self-loop counts once;
/// `node_edges` has an entry for every name asked (empty when it has no edge) and orders a
/// node's edges heaviest first, equal weights by the other end's name; "sorted" means Rust
/// `str` order (UTF-8 bytes: PostgreSQL needs `COLLATE "C"`); a non-finite weight is
/// `InvalidInput` and the whole batch is refused.
#[async_trait]
pub trait GraphStore: Send + Sync {
    /// The nodes that exist among `names`.
    async fn get_nodes(&self, names: &[String]) -> Result<HashMap<String, Entity>>;
    async fn upsert_nodes(&self, nodes: Vec<Entity>) -> Result<()>;
    /// The edges that exist among the pairs, keyed by the sorted pair.
    async fn get_edges(
        &self,
        pairs: &[(String, String)],
    ) -> Result<HashMap<(String, String), Relation>>;
    /// Inserts or replaces edges; endpoints are sorted by the store.
    async fn upsert_edges(&self, edges: Vec<Relation>) -> Result<()>;
    /// Degrees of the existing nodes among `names`.
    async fn node_degrees(&self, names: &[String]) -> Result<HashMap<String, usize>>;
    /// For each name, its edges, heaviest first, at most `cap` of them (a hub cannot blow up a query).
    async fn node_edges(
        &self,
        names: &[String],
        cap: usize,
    ) -> Result<HashMap<String, Vec<Relation>>>;
    /// Removes nodes and every edge touching them.
    async fn remove_nodes(&self, names: &[String]) -> Result<()>;
    async fn remove_edges(&self, pairs: &[(String, String)]) -> Result<()>;
    async fn node_count(&self) -> Result<usize>;
    async fn edge_count(&self) -> Result<usize>;
    /// Every node, sorted by name (export, checks).
    async fn all_nodes(&self) -> Result<Vec<Entity>>;
    /// Every edge, sorted by pair (export, checks).
    async fn all_edges(&self) -> Result<Vec<Relation>>;
    /// Every node name, sorted: names only, read from the name index.
    async fn labels(&self) -> Result<Vec<String>>;
    /// At most `limit` names containing `needle` (already lowercased, not empty), ranked by
    /// [`crate::browse::label_score`] then name.
    async fn search_labels(&self, needle: &str, limit: usize) -> Result<Vec<String>>;
    /// The `limit` names of highest degree, with their degrees; ties by name. Answered from a
    /// degree index, not by ranking every node.
    async fn top_labels(&self, limit: usize) -> Result<Vec<(String, usize)>>;
    /// The edges whose two ends are both among `names`, sorted by pair.
    async fn edges_among(&self, names: &[String]) -> Result<Vec<Relation>> {
        let inside: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        let mut edges: Vec<Relation> = self
            .node_edges(names, usize::MAX)
            .await?
            .into_values()
            .flatten()
            .filter(|r| inside.contains(r.src_id.as_str()) && inside.contains(r.tgt_id.as_str()))
            .collect();
        edges.sort_by_key(|r| r.pair());
        edges.dedup_by(|a, b| a.pair() == b.pair());
        Ok(edges)
    }
    /// Removes every node and edge.
    async fn clear(&self) -> Result<()>;
}

/// A set of vectors with metadata and approximate nearest-neighbour search by cosine similarity.
/// A set is bound to the embedding model and dimension it was built with: every backend checks
/// the binding when it opens a set and refuses another model or dimension with
/// `ModelMismatch`; a vector of the wrong dimension, or with a non-finite value, is
/// `InvalidInput` and its whole batch is refused.
#[async_trait]
pub trait VectorStore: Send + Sync {
    /// LightRAG's namespace (`chunks`, `entities`, `relationships`).
    fn namespace(&self) -> &str;
    /// Inserts or replaces records (by id).
    async fn upsert(&self, records: Vec<VectorRecord>) -> Result<()>;
    /// At most `top_k` hits with similarity >= `threshold`, best first.
    async fn query(&self, vector: &[f32], top_k: usize, threshold: f32) -> Result<Vec<VectorHit>>;
    async fn delete(&self, ids: &[String]) -> Result<()>;
    /// Stored vectors of the ids that exist.
    async fn get_vectors(&self, ids: &[String]) -> Result<HashMap<String, Vec<f32>>>;
    /// Stored metadata of the ids that exist.
    async fn get_meta(&self, ids: &[String]) -> Result<HashMap<String, Value>>;
    /// Every id, sorted.
    async fn ids(&self) -> Result<Vec<String>>;
    /// Removes everything (the model binding stays).
    async fn clear(&self) -> Result<()>;
    /// Persists derived state (an index snapshot); the records themselves are already durable.
    async fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// What stays open behind a set of stores (a database pool, index snapshots): described in
/// `/health`, closed once when the process stops. Every backend hands one out with its
/// [`Stores`], so opening and closing go through one lifecycle whatever the backend.
#[async_trait]
pub trait StoreHandle: Send + Sync {
    /// LightRAG's setting and storage name of each role, e.g.
    /// `("kv_storage", "PGKVStorage")`.
    fn names(&self) -> Vec<(&'static str, String)>;
    /// Saves what is kept in memory and releases connections; the stores must not be used
    /// afterwards.
    async fn close(&self) -> Result<()>;
    /// Bytes held by in-process indexes (the embedded ANN graphs), for benchmarks.
    fn index_memory_bytes(&self) -> u64 {
        0
    }
}

/// A document this process may work on until its lease expires, unless renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocLease {
    pub doc_id: String,
    /// The fencing token: every claim of any document gets a larger one, so a status write
    /// carrying an older token (a holder whose lease lapsed) is refused.
    pub token: i64,
    /// The document was `processing` under a holder whose lease had expired.
    pub taken_over: bool,
}

/// A lease held now, for `/health` and checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseInfo {
    pub doc_id: String,
    /// The replica id of the holder.
    pub owner: String,
    pub token: i64,
    /// Milliseconds until it expires unless renewed.
    pub expires_in_ms: i64,
}

/// Something held until dropped: a lock of the graph or of some of its keys.
pub trait Held: Send + Sync {}
impl Held for () {}

/// Coordinates the processes that share one set of stores: which one works on which
/// document (leases with fencing tokens), which one writes which part of the graph
/// (cross-process locks), and a knowledge-base generation that query caches compare.
///
/// Contract (the conformance suite checks it for every backend): a claim takes documents that
/// need work (`pending`; `processing` or a `failed` one flagged `retry_on_next_run`, never a
/// duplicate), oldest first, that no live lease holds, and gives each a token larger than any
/// given before; two claims at once never take the same document; an expired lease can be
/// taken by any claimant (`taken_over`); a lease this process abandoned (the task holding it
/// was dropped) can be taken again by this process at once. A status write under a lease is
/// atomic with the check of its token: after a takeover the old holder's writes fail with
/// [`crate::Error::LeaseLost`].
#[async_trait]
pub trait Coordinator: Send + Sync {
    /// This process's id, unique among the processes sharing the stores.
    fn replica_id(&self) -> &str;
    /// Whether other processes may share these stores: merges then also take
    /// [`Coordinator::lock_keys`] (in one process, the engine's own locks are enough).
    fn shared(&self) -> bool;
    /// Claims at most `limit` documents that need work for `ttl` (see the contract), other
    /// than those in `skip` (what this run already failed). Its cost must not grow with the
    /// number of documents stored: a run of N documents makes about N claims.
    async fn claim(
        &self,
        limit: usize,
        ttl: std::time::Duration,
        skip: &[String],
    ) -> Result<Vec<DocLease>>;
    /// Extends a lease by `ttl` from now; false when it is no longer held.
    async fn renew(&self, lease: &DocLease, ttl: std::time::Duration) -> Result<bool>;
    /// Whether the lease is held with at least `margin` left (checked before each write of
    /// a leased document's data).
    async fn holds(&self, lease: &DocLease, margin: std::time::Duration) -> Result<bool>;
    /// Writes the document's status row if the lease is still held, atomically with that
    /// check, and gives the lease up in the same step when `release`.
    async fn write_status(
        &self,
        lease: &DocLease,
        row: DocStatusRecord,
        release: bool,
    ) -> Result<()>;
    /// Gives a lease up without writing (a run that stops); no-op when not held.
    async fn release(&self, lease: &DocLease) -> Result<()>;
    /// Forgets that this process holds `lease` (its task was dropped), so that the next
    /// claim here may take the document again.
    fn abandon(&self, lease: &DocLease);
    /// Gives up every lease this process holds: it is stopping, and its documents go to the
    /// others at once instead of when the leases expire. Returns how many.
    async fn release_all(&self) -> Result<usize>;
    /// Every live lease, by document id.
    async fn leases(&self) -> Result<Vec<LeaseInfo>>;
    /// Holds `keys` of the graph exclusively and the graph shared, across processes, until
    /// the returned value is dropped. Keys are taken in one global order (no deadlock).
    async fn lock_keys(&self, keys: &[String]) -> Result<Box<dyn Held>>;
    /// Holds the whole graph alone, across processes, until dropped.
    async fn lock_graph(&self) -> Result<Box<dyn Held>>;
    /// Holds `names` exclusively (document ids, content hashes), in this process and across
    /// processes, until dropped: an enqueue decides "new, unchanged, replaced or duplicate"
    /// under them, so two inserts of one document or one content never both win. Apart from
    /// the graph's locks (an enqueue that replaces a document takes the graph inside).
    async fn lock_documents(&self, names: &[String]) -> Result<Box<dyn Held>>;
    /// A number that grows whenever the knowledge base changes, as seen by every process.
    async fn generation(&self) -> Result<i64>;
    /// Records a change of the knowledge base (a document processed or deleted, an edit).
    async fn bump_generation(&self) -> Result<i64>;
    /// A number that grows with each request to cancel processing, in any process: every
    /// process working on these stores stops its run when it sees it move.
    async fn cancel_requests(&self) -> Result<i64>;
    /// Asks every process to cancel its processing run.
    async fn request_cancel(&self) -> Result<i64>;
}

/// The storages an engine works on, one per LightRAG slot.
#[derive(Clone)]
pub struct Stores {
    pub kv: Arc<dyn KvStore>,
    pub doc_status: Arc<dyn DocStatusStore>,
    pub graph: Arc<dyn GraphStore>,
    pub chunks_vdb: Arc<dyn VectorStore>,
    pub entities_vdb: Arc<dyn VectorStore>,
    pub relationships_vdb: Arc<dyn VectorStore>,
    /// Leases, cross-process locks and the generation of these stores.
    pub coordinator: Arc<dyn Coordinator>,
}
