//! Stores chosen by configuration, opened and closed through one lifecycle.
//!
//! Each of LightRAG's four storage roles (key-value, document status, graph, vectors) names a
//! backend in its `LIGHTRAG_*_STORAGE` setting; roles mix freely (say, the embedded graph with
//! PostgreSQL vectors). [`open`] opens each backend a role needs once and hands back the
//! [`Stores`] with a [`StoreHandle`] that describes and closes them: every `lightrag` command
//! and the server go through it, so a new backend is one more arm here.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use lightrag_core::config::Settings;
use lightrag_core::error::{Error, Result};
use lightrag_core::ports::{StoreHandle, Stores};

use crate::embedded::{self, EmbeddedStores};
use crate::keys::STORAGE_KEYS;
use crate::memory::MemoryBackend;

/// A storage backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// One working directory, no service (the default).
    Embedded,
    /// In process, not durable: tests, and a throwaway server.
    Memory,
    /// PostgreSQL with pgvector, shared by any number of processes.
    Postgres,
}

/// A storage role and its setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Kv,
    DocStatus,
    Graph,
    Vectors,
}

impl Role {
    const ALL: [Role; 4] = [Role::Kv, Role::DocStatus, Role::Graph, Role::Vectors];

    /// The setting that chooses this role's backend.
    pub fn setting(self) -> &'static str {
        match self {
            Role::Kv => "LIGHTRAG_KV_STORAGE",
            Role::DocStatus => "LIGHTRAG_DOC_STATUS_STORAGE",
            Role::Graph => "LIGHTRAG_GRAPH_STORAGE",
            Role::Vectors => "LIGHTRAG_VECTOR_STORAGE",
        }
    }

    /// The role's name in `/health` (LightRAG's).
    pub fn health_name(self) -> &'static str {
        match self {
            Role::Kv => "kv_storage",
            Role::DocStatus => "doc_status_storage",
            Role::Graph => "graph_storage",
            Role::Vectors => "vector_storage",
        }
    }

    /// Storage names this build knows for the role: ours first, then LightRAG's names of the
    /// same kind of store.
    fn names(self) -> &'static [(&'static str, Backend)] {
        use Backend::*;
        match self {
            Role::Kv => &[
                ("EmbeddedKVStorage", Embedded),
                ("MemoryKVStorage", Memory),
                ("PGKVStorage", Postgres),
                ("JsonKVStorage", Embedded),
            ],
            Role::DocStatus => &[
                ("EmbeddedDocStatusStorage", Embedded),
                ("MemoryDocStatusStorage", Memory),
                ("PGDocStatusStorage", Postgres),
                ("JsonDocStatusStorage", Embedded),
            ],
            Role::Graph => &[
                ("EmbeddedGraphStorage", Embedded),
                ("MemoryGraphStorage", Memory),
                ("PGGraphStorage", Postgres),
                ("PGTableGraphStorage", Postgres),
                ("NetworkXStorage", Embedded),
            ],
            Role::Vectors => &[
                ("EmbeddedVectorStorage", Embedded),
                ("MemoryVectorStorage", Memory),
                ("PGVectorStorage", Postgres),
                ("NanoVectorDBStorage", Embedded),
            ],
        }
    }

    /// The canonical (our) name of `backend` for this role.
    fn canonical(self, backend: Backend) -> &'static str {
        self.names()
            .iter()
            .find(|(_, b)| *b == backend)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// How to reach PostgreSQL.
#[derive(Clone, PartialEq, Eq)]
pub struct PgSettings {
    /// `postgres://user[:password]@host:port/db` (with `sslmode`).
    pub url: String,
    /// `host:port`, for messages (never the password).
    pub endpoint: String,
    pub max_connections: u32,
    /// The workspace column's value for the default (unnamed) workspace.
    pub default_workspace: String,
}

impl std::fmt::Debug for PgSettings {
    /// Never prints the URL (it may hold the password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSettings")
            .field("endpoint", &self.endpoint)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

/// Which backend serves each role, and how to reach the shared ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    kv: Backend,
    doc_status: Backend,
    graph: Backend,
    vectors: Backend,
    /// Set when a role uses PostgreSQL.
    pub postgres: Option<PgSettings>,
}

/// A storage key's value (trimmed) or its default, through core's one settings reader.
fn setting(s: &Settings, name: &str) -> String {
    s.reader(STORAGE_KEYS).raw(&[name])
}

fn config_error(msg: String) -> Error {
    Error::Config(msg)
}

/// Percent-encodes a URL user or password part.
fn url_part(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl StorageConfig {
    /// Reads the `LIGHTRAG_*_STORAGE` choices and, when one is PostgreSQL, its connection.
    /// An unknown or unsupported name fails here, naming the setting and the choices.
    pub fn from_settings(s: &Settings) -> Result<StorageConfig> {
        let mut chosen = HashMap::new();
        for role in Role::ALL {
            let name = setting(s, role.setting());
            let backend = role
                .names()
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                .map(|(_, b)| *b)
                .ok_or_else(|| {
                    let ours: Vec<&str> = role.names().iter().map(|(n, _)| *n).collect();
                    config_error(format!(
                        "{} = '{name}' is not a storage this build has; choose one of {}",
                        role.setting(),
                        ours.join(", ")
                    ))
                })?;
            chosen.insert(role.setting(), backend);
        }
        let pick = |r: Role| chosen[r.setting()];
        let uses_pg = chosen.values().any(|b| *b == Backend::Postgres);
        Ok(StorageConfig {
            kv: pick(Role::Kv),
            doc_status: pick(Role::DocStatus),
            graph: pick(Role::Graph),
            vectors: pick(Role::Vectors),
            postgres: if uses_pg { Some(pg_settings(s)?) } else { None },
        })
    }

    /// Every role on the embedded default.
    pub fn embedded() -> StorageConfig {
        StorageConfig {
            kv: Backend::Embedded,
            doc_status: Backend::Embedded,
            graph: Backend::Embedded,
            vectors: Backend::Embedded,
            postgres: None,
        }
    }

    /// The backend of a role.
    pub fn backend(&self, role: Role) -> Backend {
        match role {
            Role::Kv => self.kv,
            Role::DocStatus => self.doc_status,
            Role::Graph => self.graph,
            Role::Vectors => self.vectors,
        }
    }

    /// Each role's setting name in `/health` and its storage name.
    pub fn names(&self) -> Vec<(&'static str, String)> {
        Role::ALL
            .iter()
            .map(|r| (r.health_name(), r.canonical(self.backend(*r)).to_string()))
            .collect()
    }

    fn uses(&self, backend: Backend) -> bool {
        Role::ALL.iter().any(|r| self.backend(*r) == backend)
    }
}

/// PostgreSQL's connection from DATABASE_URL or the POSTGRES_* parts.
fn pg_settings(s: &Settings) -> Result<PgSettings> {
    let max_connections: u32 = setting(s, "POSTGRES_MAX_CONNECTIONS")
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| config_error("POSTGRES_MAX_CONNECTIONS must be a positive number".into()))?;
    let ssl = setting(s, "POSTGRES_SSL_MODE").to_ascii_lowercase();
    if !matches!(
        ssl.as_str(),
        "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full"
    ) {
        return Err(config_error(format!(
            "POSTGRES_SSL_MODE = '{ssl}': use disable, allow, prefer, require, verify-ca or verify-full"
        )));
    }
    let workspace = setting(s, "POSTGRES_WORKSPACE");
    let default_workspace = if workspace.is_empty() {
        let w = s.get(&["WORKSPACE"]).unwrap_or("").trim().to_string();
        if w.is_empty() {
            "default".to_string()
        } else {
            w
        }
    } else {
        workspace
    };
    let database_url = setting(s, "DATABASE_URL");
    let (url, endpoint) = if !database_url.is_empty() {
        let rest = database_url
            .strip_prefix("postgres://")
            .or_else(|| database_url.strip_prefix("postgresql://"))
            .ok_or_else(|| {
                config_error("DATABASE_URL must start with postgres:// or postgresql://".into())
            })?;
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let endpoint = authority
            .rsplit_once('@')
            .map_or(authority, |(_, h)| h)
            .to_string();
        let url = if database_url.contains("sslmode=") {
            database_url.clone()
        } else {
            let sep = if database_url.contains('?') { '&' } else { '?' };
            format!("{database_url}{sep}sslmode={ssl}")
        };
        (url, endpoint)
    } else {
        let host = setting(s, "POSTGRES_HOST");
        let port: u16 = setting(s, "POSTGRES_PORT")
            .parse()
            .map_err(|_| config_error("POSTGRES_PORT must be a port number".into()))?;
        let user = setting(s, "POSTGRES_USER");
        let password = setting(s, "POSTGRES_PASSWORD");
        let db = setting(s, "POSTGRES_DATABASE");
        let auth = if password.is_empty() {
            url_part(&user)
        } else {
            format!("{}:{}", url_part(&user), url_part(&password))
        };
        let endpoint = format!("{host}:{port}");
        (
            format!(
                "postgres://{auth}@{endpoint}/{}?sslmode={ssl}",
                url_part(&db)
            ),
            endpoint,
        )
    };
    Ok(PgSettings {
        url,
        endpoint,
        max_connections,
        default_workspace,
    })
}

/// Where a workspace's data lives.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The embedded store's directory (WORKING_DIR, or WORKING_DIR/<workspace>).
    pub data_dir: &'a Path,
    /// The workspace ("" = the default one).
    pub workspace: &'a str,
}

/// In-memory backends of this process, by data directory: opening a workspace twice in one
/// process sees one set of data, as with the other backends.
fn memory_backend(key: &Path) -> MemoryBackend {
    static BACKENDS: OnceLock<Mutex<HashMap<std::path::PathBuf, MemoryBackend>>> = OnceLock::new();
    let mut map = BACKENDS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry(key.to_path_buf()).or_default().clone()
}

/// Opens the stores of `place` with the configured backends, bound to an embedding model.
/// A backend that cannot be reached fails here with a message that names it.
pub async fn open(
    cfg: &StorageConfig,
    place: Place<'_>,
    model: &str,
    dim: usize,
) -> Result<(Stores, Arc<dyn StoreHandle>)> {
    let embedded = if cfg.uses(Backend::Embedded) {
        Some(embedded::open(place.data_dir, model, dim)?)
    } else {
        None
    };
    let memory = if cfg.uses(Backend::Memory) {
        Some(memory_backend(place.data_dir).open(model, dim)?)
    } else {
        None
    };
    #[cfg(feature = "postgres")]
    let postgres = match &cfg.postgres {
        Some(pg) if cfg.uses(Backend::Postgres) => {
            let backend = crate::postgres::PgBackend::connect(pg).await?;
            let ws = if place.workspace.is_empty() {
                pg.default_workspace.as_str()
            } else {
                place.workspace
            };
            let stores = backend.open(ws, model, dim).await?;
            Some((backend, stores))
        }
        _ => None,
    };
    #[cfg(not(feature = "postgres"))]
    if cfg.uses(Backend::Postgres) {
        return Err(config_error(
            "PostgreSQL storage was chosen, but this build has no PostgreSQL support (cargo feature `postgres`)".into(),
        ));
    }
    let from = |role: Role| -> &Stores {
        match cfg.backend(role) {
            Backend::Embedded => &embedded.as_ref().expect("opened above").stores,
            Backend::Memory => memory.as_ref().expect("opened above"),
            #[cfg(feature = "postgres")]
            Backend::Postgres => &postgres.as_ref().expect("opened above").1,
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => unreachable!("refused above"),
        }
    };
    let vectors = from(Role::Vectors);
    let stores = Stores {
        kv: from(Role::Kv).kv.clone(),
        doc_status: from(Role::DocStatus).doc_status.clone(),
        // Leases are about status rows: they live where the rows do.
        coordinator: from(Role::DocStatus).coordinator.clone(),
        graph: from(Role::Graph).graph.clone(),
        chunks_vdb: vectors.chunks_vdb.clone(),
        entities_vdb: vectors.entities_vdb.clone(),
        relationships_vdb: vectors.relationships_vdb.clone(),
    };
    let handle = Handle {
        names: cfg.names(),
        embedded,
        #[cfg(feature = "postgres")]
        postgres: postgres.map(|(b, _)| b),
    };
    Ok((stores, Arc::new(handle)))
}

/// What [`open`] keeps open.
struct Handle {
    names: Vec<(&'static str, String)>,
    embedded: Option<EmbeddedStores>,
    #[cfg(feature = "postgres")]
    postgres: Option<crate::postgres::PgBackend>,
}

#[async_trait]
impl StoreHandle for Handle {
    fn names(&self) -> Vec<(&'static str, String)> {
        self.names.clone()
    }

    fn index_memory_bytes(&self) -> u64 {
        self.embedded.as_ref().map_or(0, |e| {
            e.vector_sets
                .iter()
                .map(|v| v.index_memory_bytes() as u64)
                .sum()
        })
    }

    async fn close(&self) -> Result<()> {
        if let Some(e) = &self.embedded {
            e.flush().await?;
        }
        #[cfg(feature = "postgres")]
        if let Some(pg) = &self.postgres {
            pg.close().await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_pairs(pairs)
    }

    #[test]
    fn defaults_are_embedded_and_lightrag_names_are_understood() {
        let c = StorageConfig::from_settings(&Settings::default()).unwrap();
        assert_eq!(c, StorageConfig::embedded());
        let c = StorageConfig::from_settings(&settings(&[
            ("LIGHTRAG_KV_STORAGE", "JsonKVStorage"),
            ("LIGHTRAG_GRAPH_STORAGE", "NetworkXStorage"),
        ]))
        .unwrap();
        assert_eq!(c.backend(Role::Graph), Backend::Embedded);
        assert_eq!(
            c.names()[2],
            ("graph_storage", "EmbeddedGraphStorage".into())
        );
    }

    #[test]
    fn a_wrong_choice_names_the_setting_and_the_choices() {
        let e =
            StorageConfig::from_settings(&settings(&[("LIGHTRAG_GRAPH_STORAGE", "Neo4JStorage")]))
                .unwrap_err()
                .to_string();
        assert!(
            e.contains("LIGHTRAG_GRAPH_STORAGE") && e.contains("PGGraphStorage"),
            "{e}"
        );
    }

    #[test]
    fn postgres_from_parts_or_url_without_leaking_the_password() {
        let c = StorageConfig::from_settings(&settings(&[
            ("LIGHTRAG_VECTOR_STORAGE", "PGVectorStorage"),
            ("POSTGRES_HOST", "db.local"),
            ("POSTGRES_PORT", "5439"),
            ("POSTGRES_USER", "rag"),
            ("POSTGRES_PASSWORD", "p@ss word"),
            ("POSTGRES_DATABASE", "kb"),
            ("WORKSPACE", "team"),
        ]))
        .unwrap();
        let pg = c.postgres.clone().unwrap();
        assert_eq!(
            pg.url,
            "postgres://rag:p%40ss%20word@db.local:5439/kb?sslmode=prefer"
        );
        assert_eq!(pg.endpoint, "db.local:5439");
        assert_eq!(pg.default_workspace, "team");
        assert!(!format!("{pg:?}").contains("ss"), "{pg:?}");
        assert_eq!(c.backend(Role::Kv), Backend::Embedded, "roles mix");
        let c = StorageConfig::from_settings(&settings(&[
            ("LIGHTRAG_KV_STORAGE", "PGKVStorage"),
            ("DATABASE_URL", "postgres://u:pw@h:1/d"),
        ]))
        .unwrap();
        let pg = c.postgres.unwrap();
        assert_eq!(pg.url, "postgres://u:pw@h:1/d?sslmode=prefer");
        assert_eq!(
            (pg.endpoint.as_str(), pg.default_workspace.as_str()),
            ("h:1", "default")
        );
    }
}
