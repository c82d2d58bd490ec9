//! The settings the HTTP server reads (LightRAG's names), with defaults and meanings.

lightrag_core::settings_table! {
    /// Every setting of the server.
    pub SERVER_KEYS {
        "HOST" = "0.0.0.0" : "Server: address `lightrag serve` binds to.",
        "PORT" = "9621" : "Server: port (0 = any free port, printed at start).",
        "INPUT_DIR" = "./inputs" : "Server: upload and scan folder; a workspace's files live in INPUT_DIR/<workspace>/.",
        "TIMEOUT" = "300" : "Server: seconds a request may take until its response starts (`None` = no limit).",
        "MAX_CONNECTIONS" = "1024" : "Server: open connections at most (lowered to fit the descriptor limit); at the cap the longest-idle connection is closed for a newcomer.",
        "CONNECTION_IDLE_TIMEOUT" = "15" : "Server: seconds a connection has to send a complete request head, after opening or after its previous answer.",
        "LIGHTRAG_API_KEY" = "" : "Server: API key clients send in the X-API-Key header, or as `Authorization: Bearer` (Ollama clients); never logged or shown.",
        "AUTH_ACCOUNTS" = "" : "Server: login accounts `user:password` or `user:{bcrypt}hash`, comma-separated.",
        "TOKEN_SECRET" = "" : "Server: HMAC secret of login tokens; required with AUTH_ACCOUNTS, at least 32 characters.",
        "JWT_ALGORITHM" = "HS256" : "Server: token signature algorithm (only HS256).",
        "TOKEN_EXPIRE_HOURS" = "48" : "Server: lifetime of a login token.",
        "GUEST_TOKEN_EXPIRE_HOURS" = "24" : "Server: lifetime of a guest token (no accounts configured).",
        "WHITELIST_PATHS" = "/health,/api/version,/api/tags,/api/ps" : "Server: paths open without credentials; `x/*` covers x and everything below it. The default opens no route that reads data or calls a model (LightRAG's `/health,/api/*` opens /api/chat and /api/generate); listing one is logged as a warning at start.",
        "CORS_ORIGINS" = "*" : "Server: allowed browser origins, comma-separated (`*` = any).",
        "MAX_REQUEST_BODY_BYTES" = "1048576" : "Server: largest request body (0 = no limit); /documents/text(s) allow 50 MiB unless this is set.",
        "MAX_UPLOAD_SIZE" = "104857600" : "Server: largest uploaded file (0 = no limit).",
        "LOGIN_MAX_FAILED_ATTEMPTS" = "5" : "Server: failed logins per client and user before a lockout (0 = no limit).",
        "LOGIN_LOCKOUT_WINDOW_SECONDS" = "300" : "Server: window of that count, and the lockout.",
        "ENABLE_QUERY_CACHE" = "true" : "Server: answer repeated queries (same question and parameters) from a cache (seed 000).",
        "QUERY_CACHE_TTL" = "3600" : "Server: seconds a cached query result lives; any change to the documents empties the cache.",
        "QUERY_CACHE_SIZE" = "1000" : "Server: query results kept per workspace.",
        "PIPELINE_POLL_INTERVAL" = "2" : "Server: seconds between looks for documents that other processes sharing the database enqueued (replicas; not used by the embedded default).",
        "MAX_WORKSPACES" = "64" : "Server: workspaces open at once (each LIGHTRAG-WORKSPACE header value opens one).",
        "OLLAMA_EMULATING_MODEL_NAME" = "lightrag" : "Server: model name the Ollama emulation reports.",
        "OLLAMA_EMULATING_MODEL_TAG" = "latest" : "Server: model tag the Ollama emulation reports.",
        "MAX_GRAPH_NODES" = "1000" : "Server: most nodes /graphs returns.",
        "ENABLE_API_DOCS" = "true" : "Server: serve /docs and /openapi.json.",
        "WEBUI_TITLE" = "" : "Server: title shown in /health and /auth-status.",
        "WEBUI_DESCRIPTION" = "" : "Server: description shown in /health and /auth-status.",
        "TOKEN_AUTO_RENEW" = "true" : "Server: send a fresh token in the X-New-Token header when a login token nears its end.",
        "TOKEN_RENEW_THRESHOLD" = "0.5" : "Server: renew when less than this share of the token's lifetime remains.",
        "MAX_PENDING_DOCUMENTS" = "0" : "Server: refuse inserts with 429 while this many documents wait or are processed (0 = no limit).",
        "MAX_TEXTS_PER_REQUEST" = "0" : "Server: most texts one /documents/texts request may carry, else 413 (0 = no limit).",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_is_documented() {
        let doc = include_str!("../../../docs/configuration.md");
        let missing = lightrag_core::config::undocumented(super::SERVER_KEYS, doc);
        assert!(
            missing.is_empty(),
            "missing from docs/configuration.md: {missing:?}"
        );
    }
}
