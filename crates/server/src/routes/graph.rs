//! `/graph*` and `/graphs`: labels, subgraphs for a viewer, and hand edits of entities and
//! relations. Edits are refused while the workspace's pipeline runs (LightRAG's 409) and
//! empty the query cache.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use lightrag_core::graph_edit::{EntityFields, RelationFields};
use lightrag_core::types::{Entity, Relation};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Ws};
use crate::serve::AppState;
use crate::workspace::Workspace;

/// `GET /graph/label/list`.
#[utoipa::path(get, path = "/graph/label/list", tag = "graph", responses((status = 200, description = "All entity names, sorted")))]
pub async fn label_list(Ws(ws): Ws) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(ws.rag.stores().graph.labels().await?))
}

#[derive(Deserialize)]
pub struct LimitQuery {
    pub limit: Option<usize>,
}

/// `GET /graph/label/popular?limit=300`.
#[utoipa::path(get, path = "/graph/label/popular", tag = "graph", params(("limit" = Option<usize>, Query, description = "1..1000, default 300")), responses((status = 200, description = "Entity names by degree")))]
pub async fn label_popular(
    Ws(ws): Ws,
    Query(q): Query<LimitQuery>,
) -> ApiResult<Json<Vec<String>>> {
    let limit = q.limit.unwrap_or(300);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::Unprocessable(
            "limit must be between 1 and 1000".into(),
        ));
    }
    Ok(Json(ws.rag.popular_labels(limit).await?))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    pub q: String,
    pub limit: Option<usize>,
}

/// `GET /graph/label/search?q=..&limit=50`.
#[utoipa::path(get, path = "/graph/label/search", tag = "graph", params(("q" = String, Query, description = "Text to find"), ("limit" = Option<usize>, Query, description = "1..100, default 50")), responses((status = 200, description = "Matching entity names, best first")))]
pub async fn label_search(
    Ws(ws): Ws,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Vec<String>>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::Unprocessable(
            "limit must be between 1 and 100".into(),
        ));
    }
    Ok(Json(ws.rag.search_labels(&q.q, limit).await?))
}

#[derive(Deserialize)]
pub struct ExistsQuery {
    pub name: String,
}

/// `GET /graph/entity/exists?name=`.
#[utoipa::path(get, path = "/graph/entity/exists", tag = "graph", params(("name" = String, Query)), responses((status = 200, description = "Whether the entity exists")))]
pub async fn entity_exists(Ws(ws): Ws, Query(q): Query<ExistsQuery>) -> ApiResult<Json<Value>> {
    let name = q.name.trim().to_string();
    let found = ws.rag.stores().graph.get_nodes(&[name]).await?;
    Ok(Json(json!({"exists": !found.is_empty()})))
}

#[derive(Deserialize)]
pub struct GraphQuery {
    pub label: String,
    pub max_depth: Option<usize>,
    pub max_nodes: Option<usize>,
}

fn node_json(e: &Entity) -> Value {
    json!({"id": e.entity_id, "labels": [e.entity_id], "properties": e})
}

fn edge_json(r: &Relation) -> Value {
    json!({"id": format!("{}-{}", r.src_id, r.tgt_id), "type": "DIRECTED",
           "source": r.src_id, "target": r.tgt_id,
           "properties": {"weight": r.weight, "description": r.description, "keywords": r.keywords,
                          "source_id": r.source_id, "file_path": r.file_path,
                          "created_at": r.created_at, "truncate": r.truncate}})
}

/// `GET /graphs?label=&max_depth=3&max_nodes=1000`: `*` is the best-connected part of the
/// whole graph; a label is a breadth-first neighbourhood, each level by degree.
#[utoipa::path(get, path = "/graphs", tag = "graph", params(("label" = String, Query, description = "Start entity, or * for the whole graph"), ("max_depth" = Option<usize>, Query), ("max_nodes" = Option<usize>, Query)), responses((status = 200, description = "Nodes and edges")))]
pub async fn graphs(
    State(state): State<AppState>,
    Ws(ws): Ws,
    Query(q): Query<GraphQuery>,
) -> ApiResult<Json<Value>> {
    let depth = q.max_depth.unwrap_or(3);
    let cap = q.max_nodes.unwrap_or(1000).min(state.cfg.max_graph_nodes);
    if depth < 1 || cap < 1 {
        return Err(ApiError::Unprocessable(
            "max_depth and max_nodes must be at least 1".into(),
        ));
    }
    let g = ws.rag.subgraph(q.label.trim(), depth, cap).await?;
    Ok(Json(json!({
        "nodes": g.nodes.iter().map(node_json).collect::<Vec<_>>(),
        "edges": g.edges.iter().map(edge_json).collect::<Vec<_>>(),
        "is_truncated": g.truncated,
    })))
}

/// Refuses edits while the pipeline runs, as LightRAG does.
async fn idle(ws: &Workspace) -> ApiResult<()> {
    if ws.cluster_busy().await {
        return Err(ApiError::Conflict(
            "The pipeline is busy; edit the graph when it is idle".into(),
        ));
    }
    Ok(())
}

/// Reads string fields of `updated_data`; any other key or type is a 400.
fn string_fields(
    data: &Map<String, Value>,
    allowed: &[&str],
) -> ApiResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    for (k, v) in data {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::BadRequest(format!("field '{k}' cannot be set")));
        }
        if k == "weight" {
            continue;
        }
        let s = v
            .as_str()
            .ok_or_else(|| ApiError::BadRequest(format!("field '{k}' must be a string")))?;
        out.insert(k.clone(), s.to_string());
    }
    Ok(out)
}

fn entity_fields(m: &HashMap<String, String>) -> EntityFields {
    EntityFields {
        entity_type: m.get("entity_type").cloned(),
        description: m.get("description").cloned(),
        source_id: m.get("source_id").cloned(),
        file_path: m.get("file_path").cloned(),
    }
}

fn relation_fields(
    data: &Map<String, Value>,
    m: &HashMap<String, String>,
) -> ApiResult<RelationFields> {
    let weight = match data.get("weight") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .ok_or_else(|| ApiError::BadRequest("weight must be a number".into()))?,
        ),
    };
    Ok(RelationFields {
        description: m.get("description").cloned(),
        keywords: m.get("keywords").cloned(),
        source_id: m.get("source_id").cloned(),
        file_path: m.get("file_path").cloned(),
        weight,
    })
}

/// Engine input errors are 400 on these routes, unknown names 404.
fn edit_error(e: lightrag_core::Error) -> ApiError {
    match e {
        lightrag_core::Error::InvalidInput(m) => ApiError::BadRequest(m),
        other => ApiError::Engine(other),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EntityEdit {
    pub entity_name: String,
    #[schema(value_type = Object)]
    pub updated_data: Map<String, Value>,
    #[serde(default)]
    pub allow_rename: bool,
    #[serde(default)]
    pub allow_merge: bool,
}

/// `POST /graph/entity/edit`.
#[utoipa::path(post, path = "/graph/entity/edit", tag = "graph", request_body = EntityEdit, responses((status = 200, description = "The entity as it now is")))]
pub async fn entity_edit(Ws(ws): Ws, ApiJson(req): ApiJson<EntityEdit>) -> ApiResult<Json<Value>> {
    idle(&ws).await?;
    let m = string_fields(
        &req.updated_data,
        &[
            "entity_name",
            "entity_type",
            "description",
            "source_id",
            "file_path",
        ],
    )?;
    let new_name = m
        .get("entity_name")
        .map(|s| s.trim())
        .filter(|n| *n != req.entity_name.trim());
    if new_name.is_some() && !req.allow_rename {
        return Err(ApiError::BadRequest("renaming needs allow_rename".into()));
    }
    let merged_into = new_name.map(str::to_string);
    let e = ws
        .rag
        .edit_entity(
            &req.entity_name,
            new_name,
            &entity_fields(&m),
            req.allow_merge,
        )
        .await
        .map_err(edit_error)?;
    ws.cache.invalidate();
    let message = match &merged_into {
        Some(t) if req.allow_merge => format!("Entity merged successfully into '{t}'"),
        _ => "Entity updated successfully".to_string(),
    };
    Ok(Json(json!({
        "status": "success", "message": message, "data": e,
        "operation_summary": {"merged": merged_into.is_some() && req.allow_merge,
            "merge_status": if merged_into.is_some() && req.allow_merge { "success" } else { "not_attempted" },
            "merge_error": null, "operation_status": "success", "target_entity": merged_into,
            "final_entity": e.entity_id, "renamed": merged_into.is_some()},
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EntityCreate {
    pub entity_name: String,
    #[schema(value_type = Object)]
    pub entity_data: Map<String, Value>,
}

/// `POST /graph/entity/create`.
#[utoipa::path(post, path = "/graph/entity/create", tag = "graph", request_body = EntityCreate, responses((status = 200, description = "The new entity")))]
pub async fn entity_create(
    Ws(ws): Ws,
    ApiJson(req): ApiJson<EntityCreate>,
) -> ApiResult<Json<Value>> {
    idle(&ws).await?;
    let m = string_fields(
        &req.entity_data,
        &["entity_type", "description", "source_id", "file_path"],
    )?;
    let e = ws
        .rag
        .create_entity(&req.entity_name, &entity_fields(&m))
        .await
        .map_err(edit_error)?;
    ws.cache.invalidate();
    Ok(Json(json!({"status": "success",
        "message": format!("Entity '{}' created successfully", e.entity_id), "data": e})))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RelationEdit {
    pub source_id: String,
    pub target_id: String,
    #[schema(value_type = Object)]
    pub updated_data: Map<String, Value>,
}

const RELATION_KEYS: [&str; 5] = [
    "description",
    "keywords",
    "source_id",
    "file_path",
    "weight",
];

/// `POST /graph/relation/edit`.
#[utoipa::path(post, path = "/graph/relation/edit", tag = "graph", request_body = RelationEdit, responses((status = 200, description = "The relation as it now is")))]
pub async fn relation_edit(
    Ws(ws): Ws,
    ApiJson(req): ApiJson<RelationEdit>,
) -> ApiResult<Json<Value>> {
    idle(&ws).await?;
    let m = string_fields(&req.updated_data, &RELATION_KEYS)?;
    let f = relation_fields(&req.updated_data, &m)?;
    let r = ws
        .rag
        .edit_relation(req.source_id.trim(), req.target_id.trim(), &f)
        .await
        .map_err(edit_error)?;
    ws.cache.invalidate();
    Ok(Json(
        json!({"status": "success", "message": "Relation updated successfully", "data": r}),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RelationCreate {
    pub source_entity: String,
    pub target_entity: String,
    #[schema(value_type = Object)]
    pub relation_data: Map<String, Value>,
}

/// `POST /graph/relation/create`.
#[utoipa::path(post, path = "/graph/relation/create", tag = "graph", request_body = RelationCreate, responses((status = 200, description = "The new relation")))]
pub async fn relation_create(
    Ws(ws): Ws,
    ApiJson(req): ApiJson<RelationCreate>,
) -> ApiResult<Json<Value>> {
    idle(&ws).await?;
    let m = string_fields(&req.relation_data, &RELATION_KEYS)?;
    let f = relation_fields(&req.relation_data, &m)?;
    let r = ws
        .rag
        .create_relation(&req.source_entity, &req.target_entity, &f)
        .await
        .map_err(edit_error)?;
    ws.cache.invalidate();
    Ok(Json(json!({"status": "success",
        "message": format!("Relation created successfully between '{}' and '{}'", req.source_entity.trim(), req.target_entity.trim()),
        "data": r})))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MergeRequest {
    pub entities_to_change: Vec<String>,
    pub entity_to_change_into: String,
}

/// `POST /graph/entities/merge`.
#[utoipa::path(post, path = "/graph/entities/merge", tag = "graph", request_body = MergeRequest, responses((status = 200, description = "The merged entity")))]
pub async fn entities_merge(
    Ws(ws): Ws,
    ApiJson(req): ApiJson<MergeRequest>,
) -> ApiResult<Json<Value>> {
    idle(&ws).await?;
    if req.entities_to_change.is_empty() {
        return Err(ApiError::Unprocessable(
            "entities_to_change must not be empty".into(),
        ));
    }
    let e = ws
        .rag
        .merge_entities(&req.entities_to_change, &req.entity_to_change_into)
        .await
        .map_err(edit_error)?;
    ws.cache.invalidate();
    Ok(Json(json!({"status": "success",
        "message": format!("Successfully merged {} entities into '{}'", req.entities_to_change.len(), e.entity_id),
        "data": e})))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EntityDelete {
    pub entity_name: String,
}

fn deleted(message: String) -> Json<Value> {
    Json(
        json!({"status": "success", "doc_id": "", "message": message, "status_code": 200, "file_path": null}),
    )
}

/// `DELETE /graph/entity/delete`.
#[utoipa::path(delete, path = "/graph/entity/delete", tag = "graph", request_body = EntityDelete, responses((status = 200, description = "Deleted")))]
pub async fn entity_delete(
    Ws(ws): Ws,
    ApiJson(req): ApiJson<EntityDelete>,
) -> ApiResult<Json<Value>> {
    idle(&ws).await?;
    ws.rag
        .delete_entity(&req.entity_name)
        .await
        .map_err(edit_error)?;
    ws.cache.invalidate();
    Ok(deleted(format!(
        "Entity '{}' and its relationships have been deleted",
        req.entity_name.trim()
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RelationDelete {
    pub source_entity: String,
    pub target_entity: String,
}

/// `DELETE /graph/relation/delete`.
#[utoipa::path(delete, path = "/graph/relation/delete", tag = "graph", request_body = RelationDelete, responses((status = 200, description = "Deleted")))]
pub async fn relation_delete(
    Ws(ws): Ws,
    ApiJson(req): ApiJson<RelationDelete>,
) -> ApiResult<Json<Value>> {
    idle(&ws).await?;
    ws.rag
        .delete_relation(req.source_entity.trim(), req.target_entity.trim())
        .await
        .map_err(edit_error)?;
    ws.cache.invalidate();
    Ok(deleted(format!(
        "Relation between '{}' and '{}' has been deleted",
        req.source_entity.trim(),
        req.target_entity.trim()
    )))
}

/// The graph routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/graph/label/list", get(label_list))
        .route("/graph/label/popular", get(label_popular))
        .route("/graph/label/search", get(label_search))
        .route("/graphs", get(graphs))
        .route("/graph/entity/exists", get(entity_exists))
        .route("/graph/entity/edit", post(entity_edit))
        .route("/graph/entity/create", post(entity_create))
        .route("/graph/relation/edit", post(relation_edit))
        .route("/graph/relation/create", post(relation_create))
        .route("/graph/entities/merge", post(entities_merge))
        .route("/graph/entity/delete", delete(entity_delete))
        .route("/graph/relation/delete", delete(relation_delete))
}
