//! Refusing writes that another site's page makes a browser send.
//!
//! A browser sends some requests to any server without asking CORS first: a POST whose body is
//! a form, `multipart/form-data` or `text/plain` (or has no type), from a `<form>` or a
//! `no-cors` fetch. It cannot read the answer, but the write happens: on a server without
//! credentials, or with cookies some day, any page a user opens could insert documents, start a
//! scan or clear caches. JSON routes already take JSON only (which a browser sends cross-site
//! only after a preflight that CORS_ORIGINS answers); this layer covers the rest (uploads,
//! body-less POSTs, the Ollama routes, login): a state-changing request that a browser marks as
//! coming from another origin is refused unless that origin is listed in CORS_ORIGINS by name.
//! Clients that are not browsers (curl, SDKs, Ollama clients) send no `Origin` and pass.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::extract::declares_json;
use crate::serve::AppState;

/// Whether `origin` (`scheme://host[:port]`) names the host the request was sent to.
fn same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// Whether a browser sent this request from another site, without a CORS preflight, to a
/// server whose CORS_ORIGINS does not name that site.
pub fn cross_site_write(method: &Method, headers: &HeaderMap, allowed: &[String]) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || declares_json(headers) {
        return false;
    }
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        Some(origin) => !(same_origin(origin, headers) || allowed.iter().any(|a| a == origin)),
        // Browsers that send no Origin still say where a request comes from.
        None => headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site")),
    }
}

/// Layer body: a 403 for [`cross_site_write`] requests.
pub async fn refuse(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if cross_site_write(req.method(), req.headers(), &state.cfg.cors_origins) {
        return ApiError::Forbidden(
            "cross-site request refused: a page of another origin cannot write here (list the origin in CORS_ORIGINS to allow it)".into(),
        )
        .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_foreign_simple_writes_are_refused() {
        let post = Method::POST;
        let none: Vec<String> = vec![];
        let form = [("host", "rag.local:9621"), ("content-type", "text/plain")];
        // curl and SDKs: no Origin.
        assert!(!cross_site_write(&post, &headers(&form), &none));
        let foreign = headers(&[
            ("host", "rag.local:9621"),
            ("origin", "https://evil.example"),
            ("content-type", "text/plain"),
        ]);
        assert!(cross_site_write(&post, &foreign, &none));
        assert!(!cross_site_write(&Method::GET, &foreign, &none));
        // `*` is not a listing by name: a form post from anywhere stays refused.
        assert!(cross_site_write(&post, &foreign, &["*".to_string()]));
        assert!(!cross_site_write(
            &post,
            &foreign,
            &["https://evil.example".to_string()]
        ));
        let same = headers(&[
            ("host", "rag.local:9621"),
            ("origin", "http://rag.local:9621"),
        ]);
        assert!(!cross_site_write(&post, &same, &none));
        let fetch_meta = headers(&[("host", "rag.local"), ("sec-fetch-site", "cross-site")]);
        assert!(cross_site_write(&post, &fetch_meta, &none));
        let json = headers(&[
            ("origin", "https://evil.example"),
            ("content-type", "application/json"),
        ]);
        assert!(!cross_site_write(&post, &json, &none), "CORS decides");
    }
}
