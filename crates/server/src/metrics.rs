//! Prometheus metrics with seed 000's names. Library code records through the `metrics` facade;
//! this module installs the one process-wide recorder and renders it at `/metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const QUERY_LATENCY: &str = "lightrag_query_latency_seconds";
pub const DOCUMENT_PROCESSING: &str = "lightrag_document_processing_seconds";
pub const ACTIVE_REQUESTS: &str = "lightrag_active_requests";
pub const FAILED_REQUESTS: &str = "lightrag_failed_requests_total";
pub const DOCUMENTS: &str = "lightrag_documents";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder once per process (tests start many servers in one process) and
/// returns its handle; `None` when another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let latency = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                60.0,
            ];
            let processing = [
                0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
            ];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(QUERY_LATENCY.into()), &latency)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(DOCUMENT_PROCESSING.into()), &processing)
                });
            let builder = match builder {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!("metrics disabled: {e}");
                    return None;
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
                return None;
            }
            describe();
            Some(handle)
        })
        .clone()
}

fn describe() {
    describe_histogram!(
        QUERY_LATENCY,
        Unit::Seconds,
        "Time to answer a query, by mode and cache outcome."
    );
    describe_histogram!(
        DOCUMENT_PROCESSING,
        Unit::Seconds,
        "Time to process one document through the pipeline."
    );
    describe_gauge!(ACTIVE_REQUESTS, "HTTP requests being served.");
    describe_gauge!(
        DOCUMENTS,
        "Documents of a workspace by status, read from the storage at scrape time."
    );
    describe_counter!(
        FAILED_REQUESTS,
        "HTTP responses with a 4xx or 5xx status, by status."
    );
    describe_counter!(
        "lightrag_query_cache_hits_total",
        "Queries answered from the query result cache."
    );
    describe_counter!(
        "lightrag_query_cache_misses_total",
        "Queries the query result cache could not answer."
    );
    describe_counter!(
        "lightrag_documents_processed_total",
        "Documents that reached a final status, by status."
    );
    describe_counter!(
        "lightrag_document_leases_total",
        "Documents this replica claimed under a lease, by replica."
    );
    describe_counter!(
        "lightrag_document_leases_taken_over_total",
        "Claims of documents whose earlier holder's lease had run out, by replica."
    );
    describe_counter!(
        "lightrag_document_leases_expired_total",
        "Documents this replica stopped because its lease ran out and another took them, by replica."
    );
    describe_counter!(
        "lightrag_embedding_cache_hits_total",
        "Embeddings served by the in-process embedding cache, by workspace."
    );
    describe_counter!(
        "lightrag_embedding_cache_misses_total",
        "Embeddings the in-process embedding cache did not hold, by workspace."
    );
    metrics::gauge!(ACTIVE_REQUESTS).set(0.0);
    metrics::counter!(FAILED_REQUESTS, "status" => "500").absolute(0);
}

/// Gives every metric family a `# HELP` line: families recorded by crates that did not
/// describe them (Prometheus tooling requires one) get their name in words.
pub fn with_help(text: &str) -> String {
    let described: std::collections::HashSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# HELP "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            if let Some(name) = rest.split_whitespace().next() {
                if !described.contains(name) {
                    let words = name.trim_start_matches("lightrag_").replace('_', " ");
                    out.push_str(&format!("# HELP {name} {words}\n"));
                }
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Decrements the active-request gauge however the request ends (a dropped connection too).
struct Active;

impl Drop for Active {
    fn drop(&mut self) {
        metrics::gauge!(ACTIVE_REQUESTS).decrement(1.0);
    }
}

/// Layer body: counts active requests and failed responses.
pub async fn track(req: Request, next: Next) -> Response {
    metrics::gauge!(ACTIVE_REQUESTS).increment(1.0);
    let _active = Active;
    let resp = next.run(req).await;
    let status = resp.status();
    if status.is_client_error() || status.is_server_error() {
        metrics::counter!(FAILED_REQUESTS, "status" => status.as_u16().to_string()).increment(1);
    }
    resp
}

/// Records one query's latency.
pub fn observe_query(started: Instant, mode: &str, cached: bool) {
    metrics::histogram!(QUERY_LATENCY, "mode" => mode.to_string(), "cache" => if cached { "hit" } else { "miss" })
        .record(started.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests {
    #[test]
    fn undescribed_families_get_a_help_line() {
        let text = "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n# TYPE b_seconds gauge\nb_seconds 2\n";
        let out = super::with_help(text);
        assert_eq!(out.matches("# HELP a_total").count(), 1);
        assert!(out.contains("# HELP b_seconds b seconds\n# TYPE b_seconds gauge"));
    }
}
