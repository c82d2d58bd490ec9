//! Authentication as LightRAG's server does it: an API key in `X-API-Key` (or, for Ollama
//! clients, as a bearer token), JWT bearer tokens from `/login` with AUTH_ACCOUNTS, open paths
//! from WHITELIST_PATHS, and a lockout after repeated failed logins. Checked by one layer on
//! every protected route. Unlike LightRAG, the default open paths read no data and call no
//! model: opening such a route takes an explicit WHITELIST_PATHS, and a warning at start.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::{AccountSecret, ServerConfig};
use crate::error::{ApiError, ApiResult};
use crate::serve::AppState;

/// LightRAG's token payload.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
    pub role: String,
    #[serde(default)]
    pub metadata: Value,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A signed token for `user` with `role` (`user` or `guest`).
pub fn create_token(cfg: &ServerConfig, user: &str, role: &str) -> ApiResult<String> {
    let (life, mode) = if role == "guest" {
        (cfg.guest_token_expire, "disabled")
    } else {
        (cfg.token_expire, "enabled")
    };
    let claims = Claims {
        sub: user.to_string(),
        exp: now_secs() + life.as_secs(),
        role: role.to_string(),
        metadata: json!({"auth_mode": mode}),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(cfg.token_secret.as_bytes()),
    )
    .map_err(|e| ApiError::Internal(format!("cannot sign a token: {e}")))
}

/// The claims of a valid token, or LightRAG's message for a bad one.
fn validate_token(cfg: &ServerConfig, token: &str) -> Result<Claims, &'static str> {
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = 0;
    v.required_spec_claims = ["exp", "sub"].into_iter().map(String::from).collect();
    decode::<Claims>(
        token,
        &DecodingKey::from_secret(cfg.token_secret.as_bytes()),
        &v,
    )
    .map(|d| d.claims)
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => "Token expired",
        _ => "Invalid token",
    })
}

/// Compares secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

/// Whether `path` matches one of `patterns`, in WHITELIST_PATHS' syntax (`x/*` covers `x` and
/// everything below it).
pub fn whitelisted<P: AsRef<str>>(patterns: &[P], path: &str) -> bool {
    patterns
        .iter()
        .map(AsRef::as_ref)
        .any(|p| match p.strip_suffix("/*") {
            Some(prefix) => {
                path == prefix
                    || path
                        .strip_prefix(prefix)
                        .is_some_and(|r| r.starts_with('/'))
            }
            None => path == p,
        })
}

/// Routes open to anyone that neither read the knowledge base nor call a model: the probe,
/// Ollama's version and model listing, login and the API description.
const HARMLESS: [&str; 9] = [
    "/health",
    "/api/version",
    "/api/tags",
    "/api/ps",
    "/auth-status",
    "/login",
    "/auth/verify",
    "/openapi.json",
    "/docs",
];

/// The routes that read data or call a model which `whitelist` opens to anonymous callers
/// (the server warns about each at start when credentials are configured).
pub fn open_data_routes<P: AsRef<str>>(whitelist: &[P]) -> Vec<String> {
    let mut open: Vec<String> = crate::openapi::route_paths()
        .into_iter()
        .filter(|p| !HARMLESS.contains(&p.as_str()) && whitelisted(whitelist, p))
        .collect();
    open.sort();
    open
}

/// LightRAG's combined check, in its order; `Ok` lets the request through.
pub fn check(cfg: &ServerConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    check_claims(cfg, headers).map(|_| ())
}

/// [`check`], also returning the claims of a bearer token that let the request through.
fn check_claims(cfg: &ServerConfig, headers: &HeaderMap) -> Result<Option<Claims>, ApiError> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let accounts = !cfg.accounts.is_empty();
    // Ollama clients can only send a bearer token: the API key there counts as the key.
    if let (Some(expected), Some(given)) = (&cfg.api_key, bearer) {
        if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
            return Ok(None);
        }
    }
    if let Some(token) = bearer {
        let claims = validate_token(cfg, token).map_err(|m| ApiError::Unauthorized(m.into()))?;
        let guest = claims.role == "guest";
        if (!accounts && guest && cfg.api_key.is_none()) || (accounts && !guest) {
            return Ok(Some(claims));
        }
        if !(key.is_some() && cfg.api_key.is_some()) {
            return Err(ApiError::Unauthorized(
                "Invalid token. Please login again.".into(),
            ));
        }
    }
    if !accounts && cfg.api_key.is_none() {
        return Ok(None);
    }
    if let (Some(expected), Some(given)) = (&cfg.api_key, key) {
        if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
            return Ok(None);
        }
    }
    if accounts && bearer.is_none() && key.is_none() {
        return Err(ApiError::Unauthorized(
            "No credentials provided. Please login.".into(),
        ));
    }
    Err(ApiError::Forbidden(match (key, &cfg.api_key) {
        (Some(_), _) => "Invalid API Key".into(),
        (None, Some(_)) => "API Key required".into(),
        (None, None) => "API Key required or login authentication required.".into(),
    }))
}

/// Paths whose polling must not renew tokens (LightRAG's list), with everything below them.
const NO_RENEW: [&str; 3] = [
    "/health/*",
    "/documents/paginated/*",
    "/documents/pipeline_status/*",
];

/// A fresh token when `claims` has less than the renewal share of its lifetime left, at most
/// once a minute per user (LightRAG's sliding renewal).
fn renewal(state: &AppState, claims: &Claims, path: &str) -> Option<String> {
    let cfg = &state.cfg;
    if !cfg.token_auto_renew || whitelisted(&NO_RENEW, path) {
        return None;
    }
    let life = if claims.role == "guest" {
        cfg.guest_token_expire
    } else {
        cfg.token_expire
    };
    let left = claims.exp.saturating_sub(now_secs()) as f64;
    if left >= cfg.token_renew_threshold * life.as_secs_f64() {
        return None;
    }
    {
        let mut last = state.renewals.lock().unwrap_or_else(|p| p.into_inner());
        if last
            .get(&claims.sub)
            .is_some_and(|t| t.elapsed() < Duration::from_secs(60))
        {
            return None;
        }
        if last.len() > 10_000 {
            last.clear();
        }
        last.insert(claims.sub.clone(), Instant::now());
    }
    create_token(cfg, &claims.sub, &claims.role).ok()
}

/// Layer body for protected routes.
pub async fn require(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if whitelisted(&state.cfg.whitelist, &path) {
        return next.run(req).await;
    }
    let claims = match check_claims(&state.cfg, req.headers()) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let fresh = claims.and_then(|c| renewal(&state, &c, &path));
    let mut resp = next.run(req).await;
    if let Some(token) = fresh.and_then(|t| axum::http::HeaderValue::from_str(&t).ok()) {
        resp.headers_mut().insert("x-new-token", token);
    }
    resp
}

/// Where failed logins are counted for the lockout: in this process ([`LoginLimiter`]) or, for
/// replicas, in a store they share (the binary's Redis counter), so that an attacker cannot
/// get N times the attempts from N replicas.
#[async_trait::async_trait]
pub trait LoginAttempts: Send + Sync {
    /// Seconds until `key` may try again, if it has failed `max` times within `window`.
    async fn locked(&self, key: &str, max: usize, window: Duration) -> Option<u64>;
    /// Counts a failure of `key` (kept for `window`).
    async fn fail(&self, key: &str, window: Duration);
    /// Forgets `key`'s failures (a successful login).
    async fn succeed(&self, key: &str);
}

#[async_trait::async_trait]
impl LoginAttempts for LoginLimiter {
    async fn locked(&self, key: &str, max: usize, window: Duration) -> Option<u64> {
        self.locked_now(key, max, window)
    }
    async fn fail(&self, key: &str, _window: Duration) {
        self.fail_now(key.to_string());
    }
    async fn succeed(&self, key: &str) {
        self.succeed_now(key);
    }
}

/// Failed logins per client address and user name, for the lockout, in this process.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// Seconds until `key` may try again, if it is locked out.
    pub fn locked_now(&self, key: &str, max: usize, window: Duration) -> Option<u64> {
        if max == 0 {
            return None;
        }
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let q = map.get_mut(key)?;
        while q.front().is_some_and(|t| t.elapsed() >= window) {
            q.pop_front();
        }
        if q.len() >= max {
            let oldest = q.front().map(|t| t.elapsed()).unwrap_or_default();
            return Some(window.saturating_sub(oldest).as_secs().max(1));
        }
        None
    }

    /// Counts a failure of `key`.
    pub fn fail_now(&self, key: String) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a flood of user names: forget the oldest keys.
        if map.len() > 10_000 {
            map.clear();
        }
        map.entry(key).or_default().push_back(Instant::now());
    }

    /// Forgets `key`'s failures.
    pub fn succeed_now(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// The form `/login` takes (OAuth2 password flow).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
}

fn branding(cfg: &ServerConfig) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("core_version".into(), json!(env!("CARGO_PKG_VERSION")));
    m.insert("api_version".into(), json!(crate::serve::API_VERSION));
    m.insert("webui_title".into(), json!(cfg.webui_title));
    m.insert("webui_description".into(), json!(cfg.webui_description));
    m.insert("ai_content_notice_enabled".into(), json!(false));
    m
}

/// Without accounts, LightRAG hands every caller a guest token: its fields, added to `m`.
fn guest_access(cfg: &ServerConfig, m: &mut serde_json::Map<String, Value>) -> ApiResult<()> {
    m.insert(
        "access_token".into(),
        json!(create_token(cfg, "guest", "guest")?),
    );
    m.insert("token_type".into(), json!("bearer"));
    m.insert("auth_mode".into(), json!("disabled"));
    m.insert(
        "message".into(),
        json!("Authentication is disabled. Using guest access."),
    );
    Ok(())
}

/// `GET /auth-status`.
#[utoipa::path(get, path = "/auth-status", tag = "auth", responses((status = 200, description = "Whether login is configured; a guest token when it is not")))]
pub async fn auth_status(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let cfg = &state.cfg;
    let mut m = branding(cfg);
    if cfg.accounts.is_empty() {
        m.insert("auth_configured".into(), json!(false));
        guest_access(cfg, &mut m)?;
    } else {
        m.insert("auth_configured".into(), json!(true));
        m.insert("auth_mode".into(), json!("enabled"));
    }
    Ok(Json(Value::Object(m)))
}

/// `POST /login`.
#[utoipa::path(post, path = "/login", tag = "auth", request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "A bearer token")))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Form(form): Form<LoginForm>,
) -> ApiResult<Json<Value>> {
    let cfg = &state.cfg;
    let mut m = branding(cfg);
    if cfg.accounts.is_empty() {
        guest_access(cfg, &mut m)?;
        return Ok(Json(Value::Object(m)));
    }
    let user: String = form.username.chars().take(256).collect();
    let key = format!("{}:{user}", addr.ip());
    let (max, window) = (cfg.login_max_failed_attempts, cfg.login_lockout_window);
    if let Some(retry_after) = state.logins.locked(&key, max, window).await {
        return Err(ApiError::TooManyRequests {
            message: "Too many failed login attempts. Try again later.".into(),
            retry_after,
        });
    }
    let account = cfg.accounts.iter().find(|a| a.username == user).cloned();
    let password = form.password;
    let ok = match account.map(|a| a.secret) {
        Some(AccountSecret::Plain(p)) => constant_time_eq(p.as_bytes(), password.as_bytes()),
        Some(AccountSecret::Bcrypt(hash)) => {
            tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
                .await
                .unwrap_or(false)
        }
        None => false,
    };
    if !ok {
        if max > 0 {
            state.logins.fail(&key, window).await;
        }
        tracing::info!(user = %user, "failed login");
        return Err(ApiError::Unauthorized("Incorrect credentials".into()));
    }
    state.logins.succeed(&key).await;
    m.insert(
        "access_token".into(),
        json!(create_token(cfg, &user, "user")?),
    );
    m.insert("token_type".into(), json!("bearer"));
    m.insert("auth_mode".into(), json!("enabled"));
    Ok(Json(Value::Object(m)))
}

/// `GET /auth/verify`: the combined check without the whitelist.
#[utoipa::path(get, path = "/auth/verify", tag = "auth", responses((status = 200, description = "The credentials are valid")))]
pub async fn verify(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    check(&state.cfg, &headers)?;
    Ok(Json(json!({"status": "ok"})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitelist_matches_on_segment_boundaries() {
        let w = vec!["/health".to_string(), "/api/*".to_string()];
        assert!(whitelisted(&w, "/health"));
        assert!(whitelisted(&w, "/api"));
        assert!(whitelisted(&w, "/api/tags"));
        assert!(!whitelisted(&w, "/apix"));
        assert!(!whitelisted(&w, "/health/x"));
        assert!(!whitelisted(&w, "/query"));
    }

    #[test]
    fn open_data_routes_names_what_a_whitelist_exposes() {
        let default = crate::config::ServerConfig::from_settings(&Default::default(), "")
            .expect("defaults")
            .whitelist;
        assert!(open_data_routes(&default).is_empty(), "{default:?}");
        let lightrags = ["/health", "/api/*"];
        assert_eq!(open_data_routes(&lightrags), ["/api/chat", "/api/generate"]);
        assert_eq!(open_data_routes(&["/graphs"]), ["/graphs"]);
    }

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
