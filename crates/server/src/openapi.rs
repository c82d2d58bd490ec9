//! `/openapi.json`, generated from the handlers' annotations and the request types, and
//! `/docs`, a small page of ours that reads it (no Swagger UI assets to fetch or vendor).

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Object, Required};
use utoipa::{Modify, OpenApi};

use crate::routes;
use crate::serve::AppState;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "lightrag-rs API",
        description = "LightRAG's HTTP API: documents, query, knowledge graph, Ollama emulation. Every route takes an optional LIGHTRAG-WORKSPACE header."
    ),
    paths(
        routes::health::health,
        routes::health::metrics,
        crate::auth::auth_status,
        crate::auth::login,
        crate::auth::verify,
        routes::query::query,
        routes::query::query_stream,
        routes::query::query_data,
        routes::documents::ingest::upload,
        routes::documents::ingest::text,
        routes::documents::ingest::texts,
        routes::documents::ingest::scan,
        routes::documents::ingest::scan_status,
        routes::documents::ingest::supported,
        routes::documents::status::paginated,
        routes::documents::status::status_counts,
        routes::documents::status::track_status,
        routes::documents::status::pipeline_status,
        routes::documents::manage::clear_all,
        routes::documents::manage::delete_documents,
        routes::documents::manage::clear_cache,
        routes::documents::manage::reprocess_failed,
        routes::documents::manage::cancel_pipeline,
        routes::documents::manage::force_reset,
        routes::graph::label_list,
        routes::graph::label_popular,
        routes::graph::label_search,
        routes::graph::graphs,
        routes::graph::entity_exists,
        routes::graph::entity_edit,
        routes::graph::entity_create,
        routes::graph::relation_edit,
        routes::graph::relation_create,
        routes::graph::entities_merge,
        routes::graph::entity_delete,
        routes::graph::relation_delete,
        routes::ollama::version,
        routes::ollama::tags,
        routes::ollama::ps,
        routes::ollama::chat,
        routes::ollama::generate,
    ),
    modifiers(&Security),
    security(("api_key" = []), ("bearer" = [])),
    tags(
        (name = "documents", description = "Insert, list, delete; processing runs in the background"),
        (name = "query", description = "Answers, streamed answers, retrieved data"),
        (name = "graph", description = "Knowledge graph labels, subgraphs and edits"),
        (name = "ollama", description = "Ollama emulation for chat front ends"),
        (name = "auth", description = "Login and token checks"),
        (name = "health", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// Adds the credential schemes and the workspace header to every operation.
struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        let header = ParameterBuilder::new()
            .name("LIGHTRAG-WORKSPACE")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Knowledge base to work on ([A-Za-z0-9_]); default: the WORKSPACE setting",
            ))
            .schema(Some(Object::with_type(
                utoipa::openapi::schema::Type::String,
            )))
            .build();
        for item in api.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.delete,
                &mut item.put,
            ]
            .into_iter()
            .flatten()
            {
                op.parameters
                    .get_or_insert_with(Vec::new)
                    .push(utoipa::openapi::RefOr::T(header.clone()));
            }
        }
    }
}

/// The document as JSON, built once.
pub fn openapi_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
}

/// Every route path the API describes (`{param}` segments as written).
pub fn route_paths() -> Vec<String> {
    ApiDoc::openapi().paths.paths.keys().cloned().collect()
}

async fn json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json())
}

async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}

/// The documentation routes (public).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(json))
        .route("/docs", get(docs))
}
