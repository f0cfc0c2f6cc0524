//! GraphQL over HTTP, following the GraphQL-over-HTTP specification:
//!
//! - `POST` with `Content-Type: application/json`; `GET` with `query`, `variables`,
//!   `operationName` and `extensions` in the URL, for queries only (a mutation over `GET`
//!   is `405`).
//! - The response type is negotiated from `Accept` ([`super::negotiate`]):
//!   `application/graphql-response+json` (a request that fails before execution, such as a
//!   syntax or validation error, is `400`) or `application/json` (always `200` for a
//!   well-formed request). Anything else is `406`.
//! - A malformed request (bad JSON, `query` not a string, `variables` not an object) is
//!   `400`; an unsupported `Content-Type` is `415` ([`super::refusal`]).
//! - While the database cannot be reached, an answer holding `DATABASE_UNAVAILABLE` is `503`
//!   with `Retry-After`; an anonymous read answered from the response cache instead is
//!   `200`, marked [`STALE_HEADER`].
//!
//! This module reads requests and writes answers; [`Executor`] decides how each is answered.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::client::{ClientAddr, group};
use super::negotiate::{ResponseType, is_json_content_type, negotiate, wants_html};
use super::observe::OperationInfo;
use super::refusal::{Refusal, retry_after};
use super::viewer::MaybeViewer;
use crate::graphql::executor::{Answer, Executor, GraphqlRequest};
use crate::graphql::persisted::PersistedQuery;

/// Reads the GraphQL-over-HTTP parameters (shared by `GET`, `POST` and the WebSocket's
/// `subscribe`).
pub(super) fn request(
    query: Option<Value>,
    variables: Option<Value>,
    operation_name: Option<Value>,
    extensions: Option<Value>,
    via_get: bool,
) -> Result<GraphqlRequest, Refusal> {
    let bad = |message: &'static str| Refusal::BadRequest(message.into());
    match &extensions {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err(bad("`extensions` must be an object")),
    }
    let persisted = PersistedQuery::from_extensions(extensions.as_ref()).map_err(bad)?;
    let query = match query {
        Some(Value::String(query)) => Some(query),
        Some(_) => return Err(bad("`query` must be a string")),
        None if persisted.is_some() => None,
        None => return Err(bad("`query` is required")),
    };
    let variables = match variables {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => return Err(bad("`variables` must be an object")),
    };
    let operation_name = match operation_name {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return Err(bad("`operationName` must be a string")),
    };
    Ok(GraphqlRequest {
        query,
        variables,
        operation_name,
        persisted,
        via_get,
        uploads: Default::default(),
    })
}

/// `POST /graphql`.
pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    MaybeViewer(viewer): MaybeViewer,
) -> HttpResponse {
    let Some(response_type) = negotiate(&req) else {
        return Refusal::NotAcceptable.respond(ResponseType::Json, None);
    };
    if super::upload::is_multipart(&req) {
        // Uploads write content: the body of a caller who may not is never read.
        if let Err(e) = viewer.author() {
            return Refusal::Unauthenticated(e.to_string()).respond(response_type, None);
        }
        let request = super::upload::read(&req, payload, state.media.limits.max_bytes).await;
        return execute(&req, &state, request, None, viewer, response_type).await;
    }
    if !is_json_content_type(&req) {
        return Refusal::UnsupportedMediaType.respond(response_type, None);
    }
    let max = state.max_body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > max) {
        return Refusal::TooLarge(max).respond(response_type, None);
    }
    let body = match payload.to_bytes_limited(max).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            let refusal = Refusal::BadRequest("the request body could not be read".into());
            return refusal.respond(response_type, None);
        }
        Err(_) => return Refusal::TooLarge(max).respond(response_type, None),
    };
    let body_key = match state.executor.by_body(&viewer, &body) {
        Ok(hit) => return respond(&req, &state, hit, response_type, false),
        Err(key) => key,
    };
    let mut body = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(body)) => body,
        Ok(Value::Array(_)) => return Refusal::Batching.respond(response_type, None),
        _ => {
            let refusal = Refusal::BadRequest("the body must be a JSON object".into());
            return refusal.respond(response_type, None);
        }
    };
    let request = request(
        body.remove("query"),
        body.remove("variables"),
        body.remove("operationName"),
        body.remove("extensions"),
        false,
    );
    execute(&req, &state, request, body_key, viewer, response_type).await
}

/// `GET /graphql`: a query in the URL, or GraphiQL for a browser.
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeViewer(viewer): MaybeViewer,
) -> HttpResponse {
    let Ok(pairs) = web::Query::<Vec<(String, String)>>::from_query(req.query_string()) else {
        let refusal = Refusal::BadRequest("the query string is malformed".into());
        return refusal.respond(ResponseType::Json, None);
    };
    let pairs = pairs.into_inner();
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    if param("query").is_none() && wants_html(&req) && state.graphiql {
        return super::graphiql::page(&req);
    }
    let Some(response_type) = negotiate(&req) else {
        return Refusal::NotAcceptable.respond(ResponseType::Json, None);
    };
    let json_param = |name: &str| -> Result<Option<Value>, Refusal> {
        param(name)
            .map(|raw| {
                serde_json::from_str(&raw)
                    .map_err(|_| Refusal::BadRequest(format!("`{name}` must be JSON").into()))
            })
            .transpose()
    };
    let request = json_param("variables").and_then(|variables| {
        request(
            param("query").map(Value::String),
            variables,
            param("operationName").map(Value::String),
            json_param("extensions")?,
            true,
        )
    });
    execute(&req, &state, request, None, viewer, response_type).await
}

/// Any other method on `/graphql`.
pub async fn method_not_allowed() -> HttpResponse {
    Refusal::MethodNotAllowed.respond(ResponseType::Json, None)
}

/// Runs a read request through the executor and writes its answer.
async fn execute(
    req: &HttpRequest,
    state: &AppState,
    request: Result<GraphqlRequest, Refusal>,
    body_key: Option<crate::graphql::cache::CacheKey>,
    viewer: crate::auth::Viewer,
    response_type: ResponseType,
) -> HttpResponse {
    let request = match request {
        Ok(request) => request,
        Err(refusal) => return refusal.respond(response_type, None),
    };
    let via_get = request.via_get;
    let operation = request.operation_name.clone();
    let client = ClientAddr::of(req).map(group);
    let executor: &Executor = &state.executor;
    match executor.execute(request, body_key, viewer, client).await {
        Ok(answer) => respond(req, state, answer, response_type, via_get),
        Err(refused) => Refusal::from(refused).respond(response_type, operation),
    }
}

/// Marks an answer the response cache gave because the database could not be reached: the
/// last answer this node read, which the database may no longer hold.
pub const STALE_HEADER: &str = "Dermis-Stale";

/// Writes an answer: `400` for a request error under `application/graphql-response+json`;
/// an anonymous read's shared answer over `GET` is cacheable by browsers and CDNs for the
/// configured max-age, with an `ETag` and `304 Not Modified` on `If-None-Match`; anything
/// else is `no-store`.
fn respond(
    req: &HttpRequest,
    state: &AppState,
    answer: Answer,
    response_type: ResponseType,
    via_get: bool,
) -> HttpResponse {
    let status = if answer.unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else if !answer.has_data && response_type == ResponseType::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = match answer.shared.as_ref().filter(|_| via_get) {
        Some(shared) => {
            let not_modified = super::client_has(req, &shared.etag);
            let mut response = if not_modified {
                HttpResponse::NotModified()
            } else {
                HttpResponse::build(status)
            };
            let cache_control = format!("public, max-age={}", state.cache_max_age);
            response
                .insert_header((header::ETAG, shared.etag.clone()))
                .insert_header((header::CACHE_CONTROL, cache_control))
                .insert_header((header::VARY, "Accept, Authorization"));
            if not_modified {
                response.finish()
            } else {
                response
                    .content_type(response_type.content_type())
                    .body(answer.body)
            }
        }
        None => {
            let mut response = HttpResponse::build(status);
            response
                .content_type(response_type.content_type())
                .insert_header((header::CACHE_CONTROL, "no-store"));
            if answer.unavailable {
                response.insert_header(retry_after());
            }
            if answer.stale {
                response.insert_header((STALE_HEADER, "database-unavailable"));
            }
            response.body(answer.body)
        }
    };
    response.extensions_mut().insert(OperationInfo {
        name: answer.operation,
        outcome: answer.outcome,
    });
    response
}
