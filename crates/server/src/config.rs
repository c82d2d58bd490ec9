//! The server's settings, read from the same layered [`Settings`] as the engine's (config file <
//! `.env` < environment < flags) under LightRAG's names. Defaults come from the server's own
//! table, [`SERVER_KEYS`], which also documents them (docs/configuration.md).

use std::path::PathBuf;
use std::time::Duration;

use lightrag_core::config::Settings;

use crate::error::ConfigError;
use crate::keys::SERVER_KEYS;

/// A login account: plaintext password or a `{bcrypt}` hash, as LightRAG's AUTH_ACCOUNTS.
#[derive(Clone)]
pub struct Account {
    pub username: String,
    pub secret: AccountSecret,
}

/// How an account's password is checked.
#[derive(Clone)]
pub enum AccountSecret {
    Plain(String),
    Bcrypt(String),
}

impl std::fmt::Debug for Account {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Account({})", self.username)
    }
}

/// Everything the HTTP layer needs to know.
#[derive(Clone)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// Upload and scan folder; files of workspace `w` live in `input_dir/w/`.
    pub input_dir: PathBuf,
    /// The workspace of requests without a `LIGHTRAG-WORKSPACE` header.
    pub default_workspace: String,
    pub max_workspaces: usize,
    pub api_key: Option<String>,
    pub accounts: Vec<Account>,
    pub token_secret: String,
    pub token_expire: Duration,
    pub guest_token_expire: Duration,
    pub whitelist: Vec<String>,
    /// `["*"]` = any origin; empty = no cross-origin access.
    pub cors_origins: Vec<String>,
    /// 0 = no limit.
    pub max_request_body_bytes: usize,
    /// Limit of `/documents/text(s)` bodies.
    pub max_text_body_bytes: usize,
    /// 0 = no limit.
    pub max_upload_size: usize,
    pub timeout: Option<Duration>,
    /// Open connections at most (before the descriptor limit lowers it).
    pub max_connections: usize,
    /// Time to send a complete request head.
    pub connection_idle_timeout: Duration,
    pub login_max_failed_attempts: usize,
    pub login_lockout_window: Duration,
    pub enable_query_cache: bool,
    pub query_cache_ttl: Duration,
    pub query_cache_size: usize,
    /// How often a workspace over shared stores looks for documents other processes enqueued.
    pub pipeline_poll_interval: Duration,
    pub ollama_model: String,
    pub max_graph_nodes: usize,
    pub enable_api_docs: bool,
    pub token_auto_renew: bool,
    /// Share of a token's lifetime under which it is renewed.
    pub token_renew_threshold: f64,
    /// 0 = no admission limit.
    pub max_pending_documents: usize,
    /// 0 = no limit.
    pub max_texts_per_request: usize,
    pub webui_title: String,
    pub webui_description: String,
}

impl std::fmt::Debug for ServerConfig {
    /// Secrets are shown only as set or not.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("input_dir", &self.input_dir)
            .field("api_key_set", &self.api_key.is_some())
            .field("accounts", &self.accounts)
            .finish_non_exhaustive()
    }
}

/// The shortest TOKEN_SECRET accepted with accounts: an HS256 key of 256 bits as hex or text.
pub const MIN_TOKEN_SECRET_CHARS: usize = 32;

/// LightRAG's built-in JWT secret, refused once accounts exist.
pub const DEFAULT_TOKEN_SECRET: &str = "lightrag-jwt-default-secret-key!";

/// The server's keys read through core's one settings reader, its errors as [`ConfigError`].
struct Reader<'a>(lightrag_core::config::Reader<'a>);

fn config_error(e: lightrag_core::Error) -> ConfigError {
    match e {
        lightrag_core::Error::Config(m) => ConfigError(m),
        other => ConfigError(other.to_string()),
    }
}

impl Reader<'_> {
    fn raw(&self, name: &str) -> String {
        self.0.raw(&[name])
    }
    fn num<T: std::str::FromStr>(&self, name: &str) -> Result<T, ConfigError> {
        self.0.parse(&[name]).map_err(config_error)
    }
    fn float(&self, name: &str) -> Result<f64, ConfigError> {
        self.0.non_negative(name).map_err(config_error)
    }
    fn flag(&self, name: &str) -> Result<bool, ConfigError> {
        self.0.flag(&[name]).map_err(config_error)
    }
    fn list(&self, name: &str) -> Vec<String> {
        self.0.list(name)
    }
}

/// Parses `user:pass,user2:{bcrypt}hash`; a malformed entry is a startup error.
fn parse_accounts(raw: &str) -> Result<Vec<Account>, ConfigError> {
    let mut out = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((user, pass)) = entry.split_once(':') else {
            return Err(ConfigError(
                "AUTH_ACCOUNTS entries must be user:password".into(),
            ));
        };
        let user = user.trim();
        if user.is_empty() || user.len() > 256 || pass.is_empty() {
            return Err(ConfigError(
                "AUTH_ACCOUNTS: every account needs a user name (at most 256 characters) and a password".into(),
            ));
        }
        let secret = match pass.strip_prefix("{bcrypt}") {
            Some(hash) => AccountSecret::Bcrypt(hash.to_string()),
            None => AccountSecret::Plain(pass.to_string()),
        };
        out.push(Account {
            username: user.to_string(),
            secret,
        });
    }
    Ok(out)
}

impl ServerConfig {
    /// Reads the server settings; `workspace` is the engine's sanitised WORKSPACE.
    pub fn from_settings(s: &Settings, workspace: &str) -> Result<ServerConfig, ConfigError> {
        let r = Reader(s.reader(SERVER_KEYS));
        let accounts = parse_accounts(&r.raw("AUTH_ACCOUNTS"))?;
        let secret = r.raw("TOKEN_SECRET");
        let token_secret = if accounts.is_empty() {
            if secret.is_empty() {
                DEFAULT_TOKEN_SECRET.to_string()
            } else {
                secret
            }
        } else if secret.is_empty() || secret == DEFAULT_TOKEN_SECRET {
            return Err(ConfigError(
                "AUTH_ACCOUNTS is set, so TOKEN_SECRET must be set to a secret of your own (e.g. `openssl rand -hex 32`)".into(),
            ));
        } else if secret.chars().count() < MIN_TOKEN_SECRET_CHARS {
            return Err(ConfigError(format!(
                "TOKEN_SECRET is {} characters; login tokens need at least {MIN_TOKEN_SECRET_CHARS} (e.g. `openssl rand -hex 32`)",
                secret.chars().count()
            )));
        } else {
            secret
        };
        let alg = r.raw("JWT_ALGORITHM");
        if !alg.eq_ignore_ascii_case("HS256") {
            return Err(ConfigError(format!(
                "JWT_ALGORITHM = '{alg}': only HS256 is supported"
            )));
        }
        let api_key = Some(r.raw("LIGHTRAG_API_KEY")).filter(|k| !k.is_empty());
        let body: usize = r.num("MAX_REQUEST_BODY_BYTES")?;
        let explicit_body = s.get(&["MAX_REQUEST_BODY_BYTES"]).is_some();
        let timeout = r.raw("TIMEOUT");
        let timeout = if timeout.eq_ignore_ascii_case("none") {
            None
        } else {
            let t = r.float("TIMEOUT")?;
            (t > 0.0).then(|| Duration::from_secs_f64(t))
        };
        let hours = |name: &str| -> Result<Duration, ConfigError> {
            Ok(Duration::from_secs_f64(r.float(name)? * 3600.0))
        };
        let positive_secs = |name: &str| -> Result<Duration, ConfigError> {
            let v = r.float(name)?;
            if v > 0.0 {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(ConfigError(format!("{name} must be more than 0 seconds")))
            }
        };
        let cors = r.raw("CORS_ORIGINS");
        let name = r.raw("OLLAMA_EMULATING_MODEL_NAME");
        let tag = r.raw("OLLAMA_EMULATING_MODEL_TAG");
        Ok(ServerConfig {
            host: r.raw("HOST"),
            port: r.num("PORT")?,
            input_dir: PathBuf::from(r.raw("INPUT_DIR")),
            default_workspace: workspace.to_string(),
            max_workspaces: r.num("MAX_WORKSPACES")?,
            api_key,
            accounts,
            token_secret,
            token_expire: hours("TOKEN_EXPIRE_HOURS")?,
            guest_token_expire: hours("GUEST_TOKEN_EXPIRE_HOURS")?,
            whitelist: r.list("WHITELIST_PATHS"),
            cors_origins: cors
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            max_request_body_bytes: body,
            max_text_body_bytes: if explicit_body { body } else { 50 << 20 },
            max_upload_size: r.num("MAX_UPLOAD_SIZE")?,
            timeout,
            max_connections: r.num("MAX_CONNECTIONS")?,
            connection_idle_timeout: positive_secs("CONNECTION_IDLE_TIMEOUT")?,
            login_max_failed_attempts: r.num("LOGIN_MAX_FAILED_ATTEMPTS")?,
            login_lockout_window: Duration::from_secs_f64(r.float("LOGIN_LOCKOUT_WINDOW_SECONDS")?),
            enable_query_cache: r.flag("ENABLE_QUERY_CACHE")?,
            query_cache_ttl: Duration::from_secs_f64(r.float("QUERY_CACHE_TTL")?),
            query_cache_size: r.num("QUERY_CACHE_SIZE")?,
            pipeline_poll_interval: positive_secs("PIPELINE_POLL_INTERVAL")?,
            ollama_model: format!("{name}:{tag}"),
            max_graph_nodes: r.num("MAX_GRAPH_NODES")?,
            enable_api_docs: r.flag("ENABLE_API_DOCS")?,
            token_auto_renew: r.flag("TOKEN_AUTO_RENEW")?,
            token_renew_threshold: r.float("TOKEN_RENEW_THRESHOLD")?,
            max_pending_documents: r.num("MAX_PENDING_DOCUMENTS")?,
            max_texts_per_request: r.num("MAX_TEXTS_PER_REQUEST")?,
            webui_title: r.raw("WEBUI_TITLE"),
            webui_description: r.raw("WEBUI_DESCRIPTION"),
        })
    }

    /// Whether any credential is configured (otherwise the server is open).
    pub fn auth_configured(&self) -> bool {
        self.api_key.is_some() || !self.accounts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_pairs(pairs)
    }

    #[test]
    fn defaults_are_lightrags() {
        let c = ServerConfig::from_settings(&Settings::default(), "").unwrap();
        assert_eq!(c.port, 9621);
        assert_eq!(c.host, "0.0.0.0");
        assert_eq!(
            c.whitelist,
            vec!["/health", "/api/version", "/api/tags", "/api/ps"]
        );
        assert_eq!(c.max_request_body_bytes, 1 << 20);
        assert_eq!(c.max_text_body_bytes, 50 << 20);
        assert_eq!(c.token_secret, DEFAULT_TOKEN_SECRET);
        assert_eq!(c.ollama_model, "lightrag:latest");
    }

    #[test]
    fn accounts_need_a_secret_of_their_own() {
        let s = settings(&[("AUTH_ACCOUNTS", "admin:pw")]);
        assert!(ServerConfig::from_settings(&s, "").is_err());
        let short = settings(&[("AUTH_ACCOUNTS", "admin:pw"), ("TOKEN_SECRET", "s")]);
        let e = ServerConfig::from_settings(&short, "").err().unwrap();
        assert!(e.to_string().contains("at least 32"), "{e}");
        let strong = "4f1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c";
        let s = settings(&[("AUTH_ACCOUNTS", "admin:pw"), ("TOKEN_SECRET", strong)]);
        let c = ServerConfig::from_settings(&s, "").unwrap();
        assert_eq!(c.accounts.len(), 1);
        assert!(
            !format!("{c:?}").contains(strong),
            "no secret in Debug output"
        );
        assert!(!format!("{:?}", c.accounts).contains("pw"));
        let s = settings(&[("AUTH_ACCOUNTS", "nopassword"), ("TOKEN_SECRET", "s")]);
        assert!(ServerConfig::from_settings(&s, "").is_err());
    }

    #[test]
    fn explicit_body_limit_also_governs_text_routes() {
        let s = settings(&[("MAX_REQUEST_BODY_BYTES", "1000")]);
        let c = ServerConfig::from_settings(&s, "").unwrap();
        assert_eq!(c.max_text_body_bytes, 1000);
    }
}
