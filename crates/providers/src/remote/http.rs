//! The HTTP side shared by every remote adapter: one reqwest client per adapter, JSON POSTs
//! with retries (timeouts, connection failures, 429, 5xx; never other 4xx), the four timeouts
//! of [`Timeouts`], and error messages that name binding, host, model, status and a body
//! excerpt, never the API key.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{BoxStream, StreamExt};
use lightrag_core::error::{Error, Result};
use reqwest::header::RETRY_AFTER;
use serde_json::Value;

use super::retry::{parse_retry_after, RetryPolicy};
use super::settings::{Binding, Timeouts};
use super::stream::{Event, Framing, Reader};

/// Which error variant failures become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Llm,
    Embedding,
    /// A rerank API: its adapter reports [`Failure`]s as the port's own `RerankError`; were
    /// one turned into an engine error, it would be a model server's, `Error::Llm`.
    Rerank,
}

/// A request that failed for good: the message (binding, host, model, what happened) and
/// whether trying again later may help.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) retryable: bool,
}

/// Characters of a response body quoted in an error.
const EXCERPT_CHARS: usize = 300;

/// One server and model, as an adapter talks to it.
pub(crate) struct Endpoint {
    client: reqwest::Client,
    /// The binding's name, as errors and logs show it.
    label: &'static str,
    kind: Kind,
    /// The base URL without a trailing slash.
    pub(crate) base: String,
    /// The base URL as errors show it (no user info).
    shown: String,
    pub(crate) model: String,
    api_key: Option<String>,
    pub(crate) timeouts: Timeouts,
    retry: RetryPolicy,
}

/// Why one attempt failed, and whether another may succeed.
pub(crate) struct AttemptError {
    pub(crate) detail: String,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl AttemptError {
    pub(crate) fn fatal(detail: impl Into<String>) -> Self {
        AttemptError {
            detail: detail.into(),
            retryable: false,
            retry_after: None,
        }
    }
    fn transient(detail: impl Into<String>) -> Self {
        AttemptError {
            detail: detail.into(),
            retryable: true,
            retry_after: None,
        }
    }
}

impl Endpoint {
    /// An endpoint of `binding` at `host` (empty: the binding's default).
    pub(crate) fn new(
        binding: Binding,
        kind: Kind,
        host: &str,
        model: &str,
        api_key: Option<String>,
        timeouts: Timeouts,
        retry: RetryPolicy,
    ) -> Result<Endpoint> {
        let host = binding.host_or_default(host);
        Endpoint::at(
            binding.as_str(),
            kind,
            host,
            model,
            api_key,
            timeouts,
            retry,
        )
    }

    /// An endpoint at `host` exactly, for a server of the protocol named `label`.
    pub(crate) fn at(
        label: &'static str,
        kind: Kind,
        host: &str,
        model: &str,
        api_key: Option<String>,
        timeouts: Timeouts,
        retry: RetryPolicy,
    ) -> Result<Endpoint> {
        let base = host.trim().trim_end_matches('/').to_string();
        let config_err = |msg: String| Error::Config(format!("{label} host {host}: {msg}"));
        let url = reqwest::Url::parse(&base).map_err(|e| config_err(format!("not a URL ({e})")))?;
        match url.scheme() {
            "http" => {}
            "https" if cfg!(feature = "tls") => {}
            "https" => {
                return Err(config_err(
                    "https needs lightrag-providers' `tls` feature, which this build lacks".into(),
                ))
            }
            other => return Err(config_err(format!("unsupported scheme {other}"))),
        }
        let mut shown_url = url.clone();
        let _ = shown_url.set_username("");
        let _ = shown_url.set_password(None);
        let shown = shown_url.as_str().trim_end_matches('/').to_string();
        if model.trim().is_empty() {
            return Err(config_err("no model configured".into()));
        }
        install_tls_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| config_err(format!("cannot build the HTTP client: {}", chain(&e))))?;
        Ok(Endpoint {
            client,
            label,
            kind,
            base,
            shown,
            model: model.to_string(),
            api_key: api_key.filter(|k| !k.is_empty()),
            timeouts,
            retry,
        })
    }

    /// The error of operation `op` (`chat`, `embeddings`, ...) with `detail`.
    pub(crate) fn fail(&self, op: &str, detail: &str) -> Error {
        self.to_error(self.describe(op, detail))
    }

    /// What failed, where: binding, operation, host, model and `detail` (key redacted).
    pub(crate) fn describe(&self, op: &str, detail: &str) -> String {
        format!(
            "{} {op} failed (host {}, model {}): {}",
            self.label,
            self.shown,
            self.model,
            self.redact(detail)
        )
    }

    fn to_error(&self, message: String) -> Error {
        match self.kind {
            Kind::Llm | Kind::Rerank => Error::Llm(message),
            Kind::Embedding => Error::Embedding(message),
        }
    }

    fn redact(&self, text: &str) -> String {
        match &self.api_key {
            Some(k) if k.len() >= 4 => text.replace(k.as_str(), "[api key]"),
            _ => text.to_string(),
        }
    }

    /// POSTs `body` to `path` and parses the JSON reply, retrying per the policy.
    pub(crate) async fn post_json(&self, op: &str, path: &str, body: &Value) -> Result<Value> {
        self.try_post_json(op, path, body)
            .await
            .map_err(|f| self.to_error(f.message))
    }

    /// [`Endpoint::post_json`], failing with whether a later try may help.
    pub(crate) async fn try_post_json(
        &self,
        op: &str,
        path: &str,
        body: &Value,
    ) -> std::result::Result<Value, Failure> {
        let url = format!("{}{path}", self.base);
        let url = url.as_str();
        let total = self.timeouts.total;
        self.with_retries(op, || async move {
            let attempt = async {
                let resp = self.send(url, body).await?;
                let bytes = resp.bytes().await.map_err(|e| {
                    AttemptError::transient(format!("reading the reply: {}", chain(&e)))
                })?;
                serde_json::from_slice(&bytes).map_err(|e| {
                    AttemptError::fatal(format!("reply is not JSON ({e}): {}", excerpt(&bytes)))
                })
            };
            tokio::time::timeout(total, attempt)
                .await
                .unwrap_or_else(|_| Err(total_timeout(total)))
        })
        .await
    }

    /// POSTs `body` to `path` and streams the reply's content pieces. Failures before the
    /// first body bytes are retried; later ones end the stream with an error.
    pub(crate) async fn post_stream(
        self: &Arc<Self>,
        op: &'static str,
        path: &str,
        body: &Value,
        framing: Framing,
        parse: fn(&str) -> std::result::Result<Event, String>,
    ) -> Result<BoxStream<'static, Result<String>>> {
        let url = format!("{}{path}", self.base);
        let url = url.as_str();
        let (first, rest, start) = self
            .with_retries(op, || async move {
                let start = Instant::now();
                let total = self.timeouts.total;
                let first_deadline = match self.timeouts.first_token {
                    Some(t) => t.min(total),
                    None => total,
                };
                let attempt = async {
                    let resp = self.send(url, body).await?;
                    let mut bytes = resp.bytes_stream().map(|r| r.map(|b| b.to_vec())).boxed();
                    match bytes.next().await {
                        Some(Ok(chunk)) => Ok((chunk, bytes, start)),
                        Some(Err(e)) => Err(AttemptError::transient(format!(
                            "stream broke before its first chunk: {}",
                            chain(&e)
                        ))),
                        None => Err(AttemptError::transient("empty streamed reply")),
                    }
                };
                tokio::time::timeout(first_deadline, attempt)
                    .await
                    .unwrap_or_else(|_| Err(first_token_timeout(first_deadline, total)))
            })
            .await
            .map_err(|f| self.to_error(f.message))?;
        let reader = Reader::new(
            self.clone(),
            op,
            rest,
            framing,
            parse,
            start + self.timeouts.total,
        );
        Ok(reader.into_stream(first))
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent.
    async fn with_retries<T, F, Fut>(
        &self,
        op: &str,
        mut attempt: F,
    ) -> std::result::Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, AttemptError>>,
    {
        let mut retry = 0;
        loop {
            match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) if e.retryable && retry < self.retry.max_retries => {
                    let wait = self.retry.delay(retry, e.retry_after);
                    tracing::warn!(
                        binding = self.label, host = %self.shown, model = %self.model,
                        "{op} attempt {} failed ({}); retrying in {wait:?}",
                        retry + 1, self.redact(&e.detail)
                    );
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
                Err(e) => {
                    let attempts = retry + 1;
                    let detail = if attempts > 1 {
                        format!("{} (after {attempts} attempts)", e.detail)
                    } else {
                        e.detail
                    };
                    return Err(Failure {
                        message: self.describe(op, &detail),
                        retryable: e.retryable,
                    });
                }
            }
        }
    }

    /// Sends the request and returns a successful response (headers received), within the
    /// first-token limit.
    async fn send(
        &self,
        url: &str,
        body: &Value,
    ) -> std::result::Result<reqwest::Response, AttemptError> {
        let mut req = self.client.post(url).json(body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        let sent = match self.timeouts.first_token {
            Some(t) => tokio::time::timeout(t, req.send()).await.map_err(|_| {
                AttemptError::transient(format!("no response within {t:?} (first-token timeout)"))
            })?,
            None => req.send().await,
        };
        let resp = sent.map_err(|e| {
            let what = if e.is_connect() {
                "cannot connect"
            } else {
                "request failed"
            };
            let retryable = !(e.is_builder() || e.is_redirect() || e.is_decode());
            AttemptError {
                detail: format!("{what}: {}", chain(&e)),
                retryable,
                retry_after: None,
            }
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = tokio::time::timeout(Duration::from_secs(5), resp.bytes())
            .await
            .ok()
            .and_then(|r| r.ok())
            .map(|b| excerpt(&b))
            .unwrap_or_default();
        let code = status.as_u16();
        Err(AttemptError {
            detail: format!("HTTP {status}: {body}"),
            retryable: code == 429 || code == 408 || status.is_server_error(),
            retry_after,
        })
    }
}

fn total_timeout(total: Duration) -> AttemptError {
    AttemptError::transient(format!(
        "no complete reply within {total:?} (total timeout)"
    ))
}

fn first_token_timeout(limit: Duration, total: Duration) -> AttemptError {
    if limit >= total {
        AttemptError::transient(format!("no reply within {total:?} (total timeout)"))
    } else {
        AttemptError::transient(format!(
            "no first chunk within {limit:?} (first-token timeout)"
        ))
    }
}

/// An error and its causes, joined (reqwest's own message omits the interesting part).
pub(crate) fn chain(e: &reqwest::Error) -> String {
    let mut top = e.to_string();
    // The caller names the host (without user info); drop reqwest's copy of the URL.
    if let Some(i) = top.find(" for url (") {
        top.truncate(i);
    }
    let mut parts = vec![top];
    let mut cur = std::error::Error::source(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if parts.last().is_none_or(|p| !p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// A short, single-line quote of a response body.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return "(empty body)".into();
    }
    match flat.char_indices().nth(EXCERPT_CHARS) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

/// Installs rustls' ring provider as the process default once (reqwest is built without one).
fn install_tls_provider() {
    #[cfg(feature = "tls")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // Err means another provider is installed already; that one serves as well.
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
    }
}
