//! GraphQL over HTTP, following the GraphQL-over-HTTP specification:
//!
//! - `POST` with `Content-Type: application/json`; `GET` with `query`, `variables`,
//!   `operationName` and `extensions` in the URL, for queries only (a mutation over `GET`
//!   is `405`).
//! - The response type is negotiated from `Accept`: `application/graphql-response+json`
//!   (a request that fails before execution, such as a syntax or validation error, is
//!   `400`) or `application/json` (always `200` for a well-formed request). Anything else
//!   is `406`.
//! - A malformed request (bad JSON, `query` not a string, `variables` not an object) is
//!   `400`; an unsupported `Content-Type` is `415`.
//! - Every error carries `extensions.code`; unexpected errors are masked.

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
};
use async_graphql::{Request, ServerError, Variables};
use serde_json::{Map, Value, json};

use super::AppState;
use super::cache::{CacheKey, Cached};
use super::invalidation;
use super::observe::OperationInfo;
use super::persisted::PersistedQuery;
use crate::auth::Viewer;
use crate::graphql::limits::select_operation;
use crate::graphql::{AppSchema, RequestContext, build_complexity_schema, is_complexity_refusal};
use crate::metrics::Outcome;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const APPLICATION_JSON: &str = "application/json";

/// The media type the response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseType {
    /// `application/graphql-response+json`: status codes carry meaning.
    GraphqlResponse,
    /// `application/json`: legacy clients, always `200` for well-formed requests.
    Json,
}

impl ResponseType {
    fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response type from `Accept`; `None` when the client accepts neither.
fn negotiate(req: &HttpRequest) -> Option<ResponseType> {
    let Some(accept) = req.headers().get(header::ACCEPT) else {
        return Some(ResponseType::Json);
    };
    let Ok(accept) = accept.to_str() else {
        return None;
    };
    if accept.trim().is_empty() {
        return Some(ResponseType::Json);
    }
    let mut best: Option<(f32, ResponseType)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality <= 0.0 {
            continue;
        }
        let candidate = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => ResponseType::GraphqlResponse,
            APPLICATION_JSON | "application/*" | "*/*" => ResponseType::Json,
            _ => continue,
        };
        let better = match best {
            None => true,
            Some((q, kind)) => {
                quality > q
                    || (quality == q
                        && kind == ResponseType::Json
                        && candidate == ResponseType::GraphqlResponse)
            }
        };
        if better {
            best = Some((quality, candidate));
        }
    }
    best.map(|(_, kind)| kind)
}

/// A `400`/`405`/`406`/`415` answer in the GraphQL error shape.
fn refuse(
    status: StatusCode,
    code: &str,
    message: &str,
    response_type: ResponseType,
) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(response_type.content_type())
        .json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }))
}

fn bad_request(message: &str, response_type: ResponseType) -> HttpResponse {
    refuse(
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        message,
        response_type,
    )
}

fn not_acceptable() -> HttpResponse {
    refuse(
        StatusCode::NOT_ACCEPTABLE,
        "NOT_ACCEPTABLE",
        "accept application/graphql-response+json or application/json",
        ResponseType::Json,
    )
}

/// The GraphQL-over-HTTP request parameters, before execution.
struct Params {
    /// The query text; absent when a persisted query names it by hash.
    query: Option<String>,
    variables: Option<Map<String, Value>>,
    operation_name: Option<String>,
    persisted: Option<PersistedQuery>,
}

impl Params {
    /// Validates the JSON shape of the parameters (shared by `GET` and `POST`).
    fn from_values(
        query: Option<Value>,
        variables: Option<Value>,
        operation_name: Option<Value>,
        extensions: Option<Value>,
    ) -> Result<Self, &'static str> {
        match &extensions {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(_) => return Err("`extensions` must be an object"),
        }
        let persisted = PersistedQuery::from_extensions(extensions.as_ref())?;
        let query = match query {
            Some(Value::String(query)) => Some(query),
            Some(_) => return Err("`query` must be a string"),
            None if persisted.is_some() => None,
            None => return Err("`query` is required"),
        };
        let variables = match variables {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => return Err("`variables` must be an object"),
        };
        let operation_name = match operation_name {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name),
            Some(_) => return Err("`operationName` must be a string"),
        };
        Ok(Self {
            query,
            variables,
            operation_name,
            persisted,
        })
    }
}

/// Marks an early refusal (a 4xx before the operation was read) for logs and metrics.
fn tag_refusal(mut response: HttpResponse) -> HttpResponse {
    if response.status().is_client_error() && response.extensions().get::<OperationInfo>().is_none()
    {
        response.extensions_mut().insert(OperationInfo {
            name: None,
            outcome: Outcome::Refused,
        });
    }
    response
}

/// Marks a response with its operation and outcome.
fn tag(mut response: HttpResponse, name: Option<String>, outcome: Outcome) -> HttpResponse {
    response
        .extensions_mut()
        .insert(OperationInfo { name, outcome });
    response
}

/// `POST /graphql`.
pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    tag_refusal(read_post(req, payload, state).await)
}

async fn read_post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Some(response_type) = negotiate(&req) else {
        return not_acceptable();
    };
    if !is_json_content_type(&req) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request as Content-Type: application/json",
            response_type,
        );
    }
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "REQUEST_TOO_LARGE",
            &format!(
                "the request body is larger than {} bytes",
                state.max_body_bytes
            ),
            response_type,
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > state.max_body_bytes) {
        return too_large();
    }
    let body = match payload.to_bytes_limited(state.max_body_bytes).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return bad_request("the request body could not be read", response_type),
        Err(_) => return too_large(),
    };
    // An anonymous repeat is answered by its exact bytes, before its JSON is read: an
    // entry is only kept under a body whose parsed request passed every check.
    let body_key = anonymous_cache(&req, &state)
        .then(|| CacheKey::body(&body))
        .flatten();
    if let Some(hit) = body_key.as_ref().and_then(|key| state.cache.get(key)) {
        return cache_hit(&req, &state, &hit, response_type, false);
    }
    let mut body = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(body)) => body,
        Ok(Value::Array(_)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BATCHING_NOT_SUPPORTED",
                "batched requests are not supported: send one operation per request",
                response_type,
            );
        }
        _ => return bad_request("the body must be a JSON object", response_type),
    };
    let params = match Params::from_values(
        body.remove("query"),
        body.remove("variables"),
        body.remove("operationName"),
        body.remove("extensions"),
    ) {
        Ok(params) => params,
        Err(message) => return bad_request(message, response_type),
    };
    execute(&req, &state, params, body_key, response_type, false).await
}

/// `GET /graphql`: a query in the URL, or GraphiQL for a browser.
pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    tag_refusal(read_get(req, state).await)
}

async fn read_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Ok(pairs) = web::Query::<Vec<(String, String)>>::from_query(req.query_string()) else {
        return bad_request("the query string is malformed", ResponseType::Json);
    };
    let pairs = pairs.into_inner();
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if param("query").is_none() && wants_html && state.graphiql {
        return super::graphiql::page(&req);
    }
    let Some(response_type) = negotiate(&req) else {
        return not_acceptable();
    };
    let json_param = |name: &str| -> Result<Option<Value>, String> {
        param(name)
            .map(|raw| serde_json::from_str(&raw).map_err(|_| format!("`{name}` must be JSON")))
            .transpose()
    };
    let (variables, extensions) = match (json_param("variables"), json_param("extensions")) {
        (Ok(variables), Ok(extensions)) => (variables, extensions),
        (Err(message), _) | (_, Err(message)) => return bad_request(&message, response_type),
    };
    let params = match Params::from_values(
        param("query").map(Value::String),
        variables,
        param("operationName").map(Value::String),
        extensions,
    ) {
        Ok(params) => params,
        Err(message) => return bad_request(message, response_type),
    };
    execute(&req, &state, params, None, response_type, true).await
}

/// Any other method on `/graphql`.
pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, POST"))
        .content_type(ResponseType::Json.content_type())
        .json(json!({ "errors": [{ "message": "use GET or POST", "extensions": { "code": "METHOD_NOT_ALLOWED" } }] }))
}

fn is_json_content_type(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(APPLICATION_JSON) {
        return false;
    }
    parts.all(|param| {
        let mut kv = param.splitn(2, '=');
        let key = kv.next().unwrap_or("").trim();
        let value = kv.next().unwrap_or("").trim().trim_matches('"');
        !key.eq_ignore_ascii_case("charset") || value.eq_ignore_ascii_case("utf-8")
    })
}

/// The caller: anonymous without `Authorization`, a user with a valid bearer token, and a
/// `401` answer for anything else.
async fn viewer(
    req: &HttpRequest,
    state: &AppState,
    response_type: ResponseType,
) -> Result<Viewer, HttpResponse> {
    let Some(header) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(Viewer::Anonymous);
    };
    let token = header
        .to_str()
        .ok()
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|token| !token.is_empty());
    let result = match token {
        Some(token) => state.auth.authenticate(&state.db, token).await,
        None => Err(crate::errors::ApiError::Unauthenticated(
            "send `Authorization: Bearer <access token>`".into(),
        )),
    };
    result.map_err(|error| {
        let message = match &error {
            crate::errors::ApiError::Unauthenticated(message) => message.clone(),
            other => {
                tracing::error!(error = %other, "authentication failed");
                "Internal server error".to_owned()
            }
        };
        let code = if matches!(error, crate::errors::ApiError::Unauthenticated(_)) {
            "UNAUTHENTICATED"
        } else {
            "INTERNAL_SERVER_ERROR"
        };
        HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
            .content_type(response_type.content_type())
            .json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }))
    })
}

/// The request errors of a refused document, as a response.
fn refused(errors: &[ServerError], response_type: ResponseType) -> HttpResponse {
    let errors = coded_errors(errors, "GRAPHQL_PARSE_FAILED");
    respond(None, errors, None, response_type)
}

/// The document to run, from the query text or the persisted-query store, checked against
/// the limits; and the text that identifies it in the response cache.
async fn resolve_document(
    state: &AppState,
    params: &Params,
    response_type: ResponseType,
) -> Result<(Arc<ExecutableDocument>, String), HttpResponse> {
    let variables = params.variables.as_ref();
    let operation = params.operation_name.as_deref();
    match (&params.query, &params.persisted) {
        (Some(query), persisted) => {
            if let Some(persisted) = persisted
                && !persisted.matches(query)
            {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "PERSISTED_QUERY_HASH_MISMATCH",
                    "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query`",
                    response_type,
                ));
            }
            let document = match state.documents.get(query) {
                Some(document) => {
                    state
                        .limits
                        .check(&document, variables, operation)
                        .map_err(|errors| refused(&errors, response_type))?;
                    document
                }
                None => {
                    let document = state
                        .limits
                        .inspect(query, variables, operation)
                        .map(Arc::new)
                        .map_err(|errors| refused(&errors, response_type))?;
                    state.documents.put(query, &document);
                    document
                }
            };
            if let Some(persisted) = persisted {
                state
                    .persisted_queries
                    .set(&persisted.hash, ExecutableDocument::clone(&document))
                    .await;
            }
            Ok((document, query.clone()))
        }
        (None, Some(persisted)) => {
            let Some(document) = state.persisted_queries.get(&persisted.hash).await else {
                // Apollo clients recognise this message and code, and resend with the query.
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "PERSISTED_QUERY_NOT_FOUND",
                    "PersistedQueryNotFound",
                    response_type,
                ));
            };
            state
                .limits
                .check(&document, variables, operation)
                .map_err(|errors| refused(&errors, response_type))?;
            Ok((Arc::new(document), persisted_text(&persisted.hash)))
        }
        (None, None) => Err(bad_request("`query` is required", response_type)),
    }
}

/// Mutations that change no content: they leave the response cache alone (a login flood
/// must not flush every node's cache).
/// (`createFirstAdmin` is not among them: it changes the anonymous `setupStatus`.)
const ACCOUNT_MUTATIONS: [&str; 4] = ["login", "refreshSession", "logout", "changePassword"];

/// Whether running `operation` (a mutation) may have changed what anonymous callers see.
fn changes_content(operation: &OperationDefinition) -> bool {
    operation.ty == OperationType::Mutation
        && operation
            .selection_set
            .node
            .items
            .iter()
            .any(|item| match &item.node {
                Selection::Field(field) => {
                    !ACCOUNT_MUTATIONS.contains(&field.node.name.node.as_str())
                }
                _ => true,
            })
}

/// Executes a request: `body_key` is its key in the response cache by its `POST` body
/// (when anonymous), kept with its answer so that the same bytes are answered sooner.
async fn execute(
    req: &HttpRequest,
    state: &AppState,
    params: Params,
    body_key: Option<CacheKey>,
    response_type: ResponseType,
    via_get: bool,
) -> HttpResponse {
    // An anonymous repeat read is answered from the response cache before anything else:
    // an entry is only kept for a query that passed every check with exactly this
    // operation name, text and variables (its key), so none of them needs doing again.
    let generation = state.cache.generation();
    let text = lookup_text(&params);
    // A body with both a query and its hash registers the query for later requests by
    // hash: it is never answered by its bytes alone, which would skip that registration.
    let body_key = body_key.filter(|_| text.is_some());
    let early_key = text.and_then(|text| cache_key(req, state, &params, &text));
    if let Some(hit) = early_key.as_ref().and_then(|key| state.cache.get(key)) {
        // The same request in other bytes (spacing, key order): its body joins the entry.
        if let Some(body_key) = body_key {
            state.cache.put(generation, [body_key], hit.clone());
        }
        return cache_hit(req, state, &hit, response_type, via_get);
    }
    let (document, cache_text) = match resolve_document(state, &params, response_type).await {
        Ok(resolved) => resolved,
        Err(response) => return tag(response, params.operation_name, Outcome::Refused),
    };
    // For logs and metrics: the name sent, else the name of the document's only operation.
    let operation_name = params
        .operation_name
        .clone()
        .or_else(|| match &document.operations {
            DocumentOperations::Multiple(ops) if ops.len() == 1 => {
                ops.keys().next().map(|name| name.to_string())
            }
            _ => None,
        });
    let operation = select_operation(&document, params.operation_name.as_deref());
    let operation_type = operation.map(|op| op.ty);
    let writes_content = operation.is_some_and(changes_content);
    if via_get && operation_type == Some(OperationType::Mutation) {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "POST"))
            .content_type(response_type.content_type())
            .json(json!({ "errors": [{ "message": "mutations must be sent with POST", "extensions": { "code": "METHOD_NOT_ALLOWED" } }] }));
    }
    let viewer = match viewer(req, state, response_type).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    let anonymous_read =
        matches!(viewer, Viewer::Anonymous) && operation_type == Some(OperationType::Query);
    // A request with both a query and its hash is keyed now that the hash was checked.
    let cache_key = early_key
        .or_else(|| cache_key(req, state, &params, &cache_text))
        .filter(|_| anonymous_read);
    if cache_key.is_some() {
        state.metrics.record_cache(false);
    }

    // Mutations are few and may wait on argon2; only queries are bounded.
    let _permit = if operation_type == Some(OperationType::Query) {
        state.queries_in_flight.acquire().await.ok()
    } else {
        None
    };
    // While a content write runs, compiled reads leave the HTTP workers (see
    // compiled::inline). Sign-ins are not counted: most of their time is password hashing,
    // and a login flood would otherwise send every read through the pool.
    let _writing = writes_content.then(|| state.compiled.writing());
    if anonymous_read && let Some(compiled) = state.compiled.get(&cache_text) {
        let variables = params.variables.as_ref();
        let name = params.operation_name.as_deref();
        if let Some(body) = state
            .compiled
            .answer(&compiled, &state.db, &state.metrics, variables, name)
            .await
        {
            state.metrics.record_anonymous_read(true);
            let read = Read {
                generation,
                cache_key,
                body_key,
                operation: operation_name.clone(),
                status: StatusCode::OK,
                response_type,
                via_get,
            };
            let response = read.respond(req, state, Bytes::from(body));
            return tag(response, operation_name, Outcome::Ok);
        }
    }
    let client = super::client::ClientAddr::of(req).map(super::client::group);
    let context = RequestContext::new(state.db.clone(), viewer, client);
    let mut response = run(&state.schema, &params, &document, context).await;
    if is_complexity_refusal(&response) {
        // Once more, on the schema whose refusal names the limit and the complexity.
        let schema = state.complexity_schema.get_or_init(|| {
            build_complexity_schema(state.db.clone(), state.auth.clone(), &state.limits)
        });
        let context = RequestContext::new(state.db.clone(), viewer, client);
        response = run(schema, &params, &document, context).await;
    }

    let request_error = !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty());
    if response.errors.is_empty() && response.data == async_graphql::Value::Null {
        // Every root field was skipped (`@include(if: false)`): async-graphql answers
        // `null`, the spec (and graphql-js) an empty object.
        response.data = async_graphql::Value::Object(Default::default());
    }
    let default_code = if request_error {
        "GRAPHQL_VALIDATION_FAILED"
    } else {
        "INTERNAL_SERVER_ERROR"
    };
    let errors = coded_errors(&response.errors, default_code);
    if anonymous_read {
        state.metrics.record_anonymous_read(false);
        if !request_error {
            // Valid and within every limit: the compiled path may answer this text next.
            let name = params.operation_name.as_deref();
            state.compiled.learn(&cache_text, &document, name);
        }
    }
    let data = (!request_error).then_some(&response.data);
    if writes_content && data.is_some_and(|d| *d != async_graphql::Value::Null) {
        invalidation::content_changed(&state.db, &state.cache).await;
    }
    let extensions = (!response.extensions.is_empty())
        .then(|| serde_json::to_value(&response.extensions).unwrap_or(Value::Null));
    let outcome = outcome(request_error, &errors);
    let clean = errors.is_empty() && data.is_some();
    let (status, body) = render(data, errors, extensions, response_type);
    let response = if anonymous_read && clean {
        let read = Read {
            generation,
            cache_key,
            body_key,
            operation: operation_name.clone(),
            status,
            response_type,
            via_get,
        };
        read.respond(req, state, body)
    } else {
        not_cacheable(status, response_type, body)
    };
    tag(response, operation_name, outcome)
}

/// An anonymous read's clean answer (data, no errors), whichever executor built it.
struct Read {
    /// The response cache's generation when the read started.
    generation: u64,
    /// Its key in the response cache, when the cache is on.
    cache_key: Option<CacheKey>,
    /// Its key by its `POST` body, kept alongside `cache_key` (never alone).
    body_key: Option<CacheKey>,
    /// The operation's name, kept with the answer for logs and metrics.
    operation: Option<String>,
    status: StatusCode,
    response_type: ResponseType,
    via_get: bool,
}

impl Read {
    /// Keeps `body` in the response cache and answers it (cacheable over `GET`). The ETag
    /// (a SHA-256 of the body) is only computed for what is cached or sent by `GET`.
    fn respond(self, req: &HttpRequest, state: &AppState, body: Bytes) -> HttpResponse {
        if !self.via_get && self.cache_key.is_none() {
            return not_cacheable(self.status, self.response_type, body);
        }
        let cached = Arc::new(Cached::new(body, self.operation));
        if let Some(key) = self.cache_key {
            let keys = std::iter::once(key).chain(self.body_key);
            state.cache.put(self.generation, keys, cached.clone());
        }
        answer(
            req,
            state,
            &cached,
            self.status,
            self.response_type,
            self.via_get,
        )
    }
}

/// The text that identifies a request's document in the response cache before the document
/// is resolved: the query, or `#hash` for a persisted query sent by hash alone. A request
/// with both has none yet: its hash must first be checked against its query (a hit keyed
/// by the query alone would skip that check).
fn lookup_text(params: &Params) -> Option<Cow<'_, str>> {
    match (&params.query, &params.persisted) {
        (Some(query), None) => Some(Cow::Borrowed(query.as_str())),
        (None, Some(persisted)) => Some(Cow::Owned(persisted_text(&persisted.hash))),
        _ => None,
    }
}

/// The text that stands for a persisted query's document, by its hash.
fn persisted_text(hash: &str) -> String {
    format!("#{hash}")
}

/// Whether the response cache may answer or keep this request: it is on and the caller is
/// anonymous (editors' requests carry `Authorization`).
fn anonymous_cache(req: &HttpRequest, state: &AppState) -> bool {
    state.cache.enabled() && !req.headers().contains_key(header::AUTHORIZATION)
}

/// Answers a request from the response cache.
fn cache_hit(
    req: &HttpRequest,
    state: &AppState,
    hit: &Cached,
    response_type: ResponseType,
    via_get: bool,
) -> HttpResponse {
    state.metrics.record_cache(true);
    let response = answer(req, state, hit, StatusCode::OK, response_type, via_get);
    tag(response, hit.operation.clone(), Outcome::Ok)
}

/// The response-cache key of an anonymous request whose document `text` names, when the
/// cache is on: the operation name, the text and the variables.
fn cache_key(req: &HttpRequest, state: &AppState, params: &Params, text: &str) -> Option<CacheKey> {
    if !anonymous_cache(req, state) {
        return None;
    }
    let variables = params
        .variables
        .as_ref()
        .map(|v| serde_json::to_string(v).unwrap_or_default())
        .unwrap_or_default();
    CacheKey::request(params.operation_name.as_deref(), text, &variables)
}

/// Executes `document` with the request's variables and operation name on `schema`.
async fn run(
    schema: &AppSchema,
    params: &Params,
    document: &ExecutableDocument,
    context: RequestContext,
) -> async_graphql::Response {
    let mut request = Request::new(params.query.clone().unwrap_or_default());
    request.set_parsed_query(document.clone());
    if let Some(variables) = &params.variables {
        request = request.variables(Variables::from_json(Value::Object(variables.clone())));
    }
    if let Some(name) = &params.operation_name {
        request = request.operation_name(name.clone());
    }
    let idle = context.idle.clone();
    let mut response = idle.track(schema.execute(request.data(context))).await;
    // async-graphql lists fields in the order they finished; the spec (and one ETag per
    // content) wants the query's order.
    if let Some(operation) = select_operation(document, params.operation_name.as_deref()) {
        super::order::restore(&mut response.data, document, &operation.selection_set.node);
    }
    response
}

/// An answer that no cache may keep.
fn not_cacheable(status: StatusCode, response_type: ResponseType, body: Bytes) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(response_type.content_type())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// An anonymous read's answer: over `GET`, cacheable by browsers and CDNs for the
/// configured max-age, with an `ETag` and `304 Not Modified` on `If-None-Match`.
fn answer(
    req: &HttpRequest,
    state: &AppState,
    cached: &Cached,
    status: StatusCode,
    response_type: ResponseType,
    via_get: bool,
) -> HttpResponse {
    if !via_get {
        return not_cacheable(status, response_type, cached.body.clone());
    }
    let cache_control = format!("public, max-age={}", state.cache_max_age);
    let not_modified = super::client_has(req, &cached.etag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::build(status)
    };
    response
        .insert_header((header::ETAG, cached.etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::VARY, "Accept, Authorization"));
    if not_modified {
        response.finish()
    } else {
        response
            .content_type(response_type.content_type())
            .body(cached.body.clone())
    }
}

/// The errors of an answer as JSON, each with a code ([`normalize_error`]), in one order:
/// by where they are in the document, then by path, then by message. async-graphql's
/// validation reports in an order that varies between identical requests (its rules keep
/// state in hash maps); equal requests must give equal bytes.
fn coded_errors(errors: &[ServerError], default_code: &str) -> Vec<Value> {
    let mut errors: Vec<Value> = errors
        .iter()
        .map(|e| normalize_error(serde_json::to_value(e).unwrap_or(Value::Null), default_code))
        .collect();
    errors.sort_by_cached_key(|error| {
        let locations: Vec<(u64, u64)> = error["locations"]
            .as_array()
            .map(|locations| {
                locations
                    .iter()
                    .map(|l| {
                        let at = |key: &str| l[key].as_u64().unwrap_or(0);
                        (at("line"), at("column"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        (
            locations,
            error["path"].to_string(),
            error["message"].as_str().unwrap_or_default().to_owned(),
        )
    });
    errors
}

/// How an executed request ended, from its (normalised) errors.
fn outcome(request_error: bool, errors: &[Value]) -> Outcome {
    let internal = errors
        .iter()
        .any(|e| e["extensions"]["code"] == "INTERNAL_SERVER_ERROR");
    if internal {
        Outcome::Failed
    } else if request_error {
        Outcome::Refused
    } else if errors.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Partial
    }
}

/// How async-graphql words the errors it raises while coercing an argument at execution
/// time (values its validation lets through, such as a string for an input object). Every
/// resolver error of Dermis carries a code, so an uncoded error with one of these messages is
/// the caller's input, not a fault.
const INPUT_COERCION_PREFIXES: [&str; 3] = [
    "Failed to parse \"",
    "Invalid value for argument",
    "Expected input type \"",
];

/// Gives an error without a code `default_code`, or `BAD_USER_INPUT` when it is an argument
/// that failed to coerce; an unexpected resolver error also gets its message masked (the
/// original goes to the log).
fn normalize_error(mut error: Value, default_code: &str) -> Value {
    let Some(object) = error.as_object_mut() else {
        return json!({ "message": "Internal server error", "extensions": { "code": "INTERNAL_SERVER_ERROR" } });
    };
    let coercion = object
        .get("message")
        .and_then(Value::as_str)
        .is_some_and(|m| {
            INPUT_COERCION_PREFIXES.iter().any(|p| m.starts_with(p))
                || m.contains("(occurred while parsing \"")
        });
    let extensions = object
        .entry("extensions")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(extensions) = extensions.as_object_mut()
        && !extensions.contains_key("code")
    {
        let code = if coercion && default_code == "INTERNAL_SERVER_ERROR" {
            "BAD_USER_INPUT"
        } else {
            default_code
        };
        extensions.insert("code".into(), Value::String(code.to_owned()));
        if code == "INTERNAL_SERVER_ERROR" {
            let original = object.insert("message".into(), json!("Internal server error"));
            tracing::error!(error = ?original, "unexpected GraphQL field error");
        }
    }
    error
}

/// The response body: `errors` (when any), `data` (when present), `extensions` (when any).
/// `data` is serialised straight from the executor's value, in the selection set's order
/// (the spec's SHOULD), without first copying it into a `serde_json::Value` tree.
#[derive(serde::Serialize)]
struct Body<'a, D: serde::Serialize> {
    #[serde(skip_serializing_if = "<[Value]>::is_empty")]
    errors: &'a [Value],
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a D>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<&'a Value>,
}

/// The status and JSON body of a GraphQL response.
fn render<D: serde::Serialize>(
    data: Option<&D>,
    errors: Vec<Value>,
    extensions: Option<Value>,
    response_type: ResponseType,
) -> (StatusCode, Bytes) {
    let status = if data.is_none() && response_type == ResponseType::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = Body {
        errors: &errors,
        data,
        extensions: extensions.as_ref(),
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    (status, Bytes::from(bytes))
}

fn respond(
    data: Option<Value>,
    errors: Vec<Value>,
    extensions: Option<Value>,
    response_type: ResponseType,
) -> HttpResponse {
    let (status, body) = render(data.as_ref(), errors, extensions, response_type);
    HttpResponse::build(status)
        .content_type(response_type.content_type())
        .body(body)
}
