//! The settings the stores read: which backend serves each storage role (LightRAG's
//! `LIGHTRAG_*_STORAGE` names) and how to reach PostgreSQL (LightRAG's `POSTGRES_*` names, or
//! seed 000's `DATABASE_URL`).

lightrag_core::settings_table! {
    /// Every setting of the storage backends.
    pub STORAGE_KEYS {
        "LIGHTRAG_KV_STORAGE" = "EmbeddedKVStorage" : "Storage: key-value records (documents, chunks, LLM cache): `EmbeddedKVStorage` (also LightRAG's `JsonKVStorage`), `PGKVStorage`, `MemoryKVStorage` (not durable).",
        "LIGHTRAG_DOC_STATUS_STORAGE" = "EmbeddedDocStatusStorage" : "Storage: document statuses: `EmbeddedDocStatusStorage` (also `JsonDocStatusStorage`), `PGDocStatusStorage`, `MemoryDocStatusStorage`.",
        "LIGHTRAG_GRAPH_STORAGE" = "EmbeddedGraphStorage" : "Storage: the knowledge graph: `EmbeddedGraphStorage` (also `NetworkXStorage`), `PGGraphStorage` (plain tables; `PGTableGraphStorage` also works), `MemoryGraphStorage`.",
        "LIGHTRAG_VECTOR_STORAGE" = "EmbeddedVectorStorage" : "Storage: the three vector sets: `EmbeddedVectorStorage` (also `NanoVectorDBStorage`), `PGVectorStorage` (pgvector), `MemoryVectorStorage`.",
        "DATABASE_URL" = "" : "Storage: PostgreSQL as one URL (`postgres://user:password@host:port/db`, seed 000); set, it wins over the POSTGRES_* parts.",
        "POSTGRES_HOST" = "localhost" : "Storage: PostgreSQL host.",
        "POSTGRES_PORT" = "5432" : "Storage: PostgreSQL port.",
        "POSTGRES_USER" = "postgres" : "Storage: PostgreSQL user.",
        "POSTGRES_PASSWORD" = "" : "Storage: PostgreSQL password (never logged or shown).",
        "POSTGRES_DATABASE" = "postgres" : "Storage: PostgreSQL database.",
        "POSTGRES_WORKSPACE" = "" : "Storage: the workspace column's value for the default workspace (empty = WORKSPACE, or `default`); a per-request workspace header still picks its own.",
        "POSTGRES_MAX_CONNECTIONS" = "12" : "Storage: connections in the pool of each process.",
        "POSTGRES_SSL_MODE" = "prefer" : "Storage: `disable`, `allow`, `prefer`, `require`, `verify-ca` or `verify-full`.",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_is_documented() {
        let doc = include_str!("../../../docs/configuration.md");
        let missing = lightrag_core::config::undocumented(super::STORAGE_KEYS, doc);
        assert!(
            missing.is_empty(),
            "missing from docs/configuration.md: {missing:?}"
        );
    }
}
