//! The one place that decides how a GraphQL request is answered: from the response cache,
//! by the compiled read path, or by the general executor (async-graphql), after the query
//! limits; and what the answer leaves behind (a cache entry, a learnt compiled read, an
//! invalidation). The HTTP layer above reads requests and writes answers only.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use actix_web::web::Bytes;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Request, ServerError, Variables};
use futures_util::StreamExt as _;
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value};

use super::cache::{CacheKey, Cached, ResponseCache};
use super::compiled::CompiledReads;
use super::documents::ParsedDocuments;
use super::limits::select_operation;
use super::mutation::changes_content;
use super::persisted::{PersistedQueries, PersistedQuery};
use super::response::{body, coded_errors, is_complexity_refusal, is_unavailable, outcome};
use super::{AppSchema, QueryLimits, RequestContext, build_complexity_schema, invalidation, order};
use crate::auth::{Auth, Viewer};
use crate::db::availability;
use crate::metrics::{Metrics, Outcome};

/// A GraphQL request as the HTTP layer read it.
#[derive(Debug, Default)]
pub struct GraphqlRequest {
    /// The query text; absent when a persisted query names it by hash.
    pub query: Option<String>,
    /// The variables.
    pub variables: Option<Map<String, Value>>,
    /// The operation to run.
    pub operation_name: Option<String>,
    /// `extensions.persistedQuery`.
    pub persisted: Option<PersistedQuery>,
    /// Sent with `GET`: queries only, and its answer may be kept by browsers and CDNs.
    pub via_get: bool,
    /// The files of a multipart request, in the order its variables name them.
    pub uploads: Uploads,
}

/// The files of a GraphQL multipart request (each in a temporary file).
#[derive(Default)]
pub struct Uploads(pub Vec<async_graphql::UploadValue>);

impl std::fmt::Debug for Uploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} uploads", self.0.len())
    }
}

/// A request refused before it ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The hash in `extensions.persistedQuery` is not the query's.
    #[error("`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query`")]
    PersistedQueryHashMismatch,
    /// A hash this node does not know (Apollo clients recognise this message and code, and
    /// resend with the query).
    #[error("PersistedQueryNotFound")]
    PersistedQueryNotFound,
    /// Neither a query nor a hash.
    #[error("`query` is required")]
    QueryRequired,
    /// A mutation sent with `GET`.
    #[error("mutations must be sent with POST")]
    MutationOverGet,
    /// A subscription sent over HTTP.
    #[error("subscriptions are served over WebSocket at /graphql (protocol graphql-transport-ws)")]
    SubscriptionOverHttp,
}

impl Refused {
    /// The stable code in `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PersistedQueryHashMismatch => "PERSISTED_QUERY_HASH_MISMATCH",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::QueryRequired => "BAD_REQUEST",
            Self::MutationOverGet => "METHOD_NOT_ALLOWED",
            Self::SubscriptionOverHttp => "SUBSCRIPTION_NEEDS_WEBSOCKET",
        }
    }
}

/// What a request was answered with.
#[derive(Debug)]
pub struct Answer {
    /// The JSON body.
    pub body: Bytes,
    /// Whether it holds `data` (a request error has none).
    pub has_data: bool,
    /// An anonymous read's clean answer as kept (with its ETag), when it was kept in the
    /// response cache or sent over `GET`: such an answer may be cached downstream too.
    pub shared: Option<Arc<Cached>>,
    /// The operation's name, for logs and metrics.
    pub operation: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// The database could not be reached: an error says `DATABASE_UNAVAILABLE`.
    pub unavailable: bool,
    /// A cached answer given while the database could not be reached, which it may no
    /// longer hold (never kept or shared downstream).
    pub stale: bool,
}

impl Answer {
    /// An answer from the response cache.
    fn kept(cached: Arc<Cached>) -> Self {
        Self {
            body: cached.body.clone(),
            has_data: true,
            operation: cached.operation.clone(),
            shared: Some(cached),
            outcome: Outcome::Ok,
            unavailable: false,
            stale: false,
        }
    }

    /// The last answer kept for a read, while the database cannot be reached.
    fn stale(cached: Arc<Cached>) -> Self {
        Self {
            body: cached.body.clone(),
            has_data: true,
            operation: cached.operation.clone(),
            shared: None,
            outcome: Outcome::Ok,
            unavailable: false,
            stale: true,
        }
    }

    /// A request error (no data): the document failed to parse, validate or stay within
    /// the limits.
    fn refused(errors: &[ServerError], operation: Option<String>) -> Self {
        let errors = coded_errors(errors, "GRAPHQL_PARSE_FAILED");
        Self {
            body: Bytes::from(body::<Value>(None, &errors, None)),
            has_data: false,
            shared: None,
            operation,
            outcome: Outcome::Refused,
            unavailable: false,
            stale: false,
        }
    }
}

/// Everything answering a request needs, shared by all requests.
pub struct Executor {
    /// The database pool.
    pub db: DatabaseConnection,
    /// The schema that serves requests.
    pub schema: AppSchema,
    /// The schema that explains complexity refusals, built on the first one.
    pub complexity_schema: OnceLock<AppSchema>,
    /// Token verification (for the complexity schema).
    pub auth: Arc<Auth>,
    /// How webhooks are delivered (for the complexity schema).
    pub webhooks: Arc<crate::webhooks::WebhookSettings>,
    /// The media library (for the complexity schema).
    pub media: Arc<crate::media::MediaLibrary>,
    /// What a query may cost.
    pub limits: QueryLimits,
    /// Anonymous published reads, by request.
    pub cache: Arc<ResponseCache>,
    /// Automatic persisted queries, by hash.
    pub persisted_queries: PersistedQueries,
    /// Documents parsed before, by query text.
    pub documents: ParsedDocuments,
    /// Query texts the compiled read path answers, learnt from the general executor.
    pub compiled: CompiledReads,
    /// Process counters.
    pub metrics: Arc<Metrics>,
    /// Queries executing at once: the rest wait before any work, holding only their
    /// request. More are not faster (they all wait for the pool) but each holds its rows
    /// and answer in memory: 64 concurrent listings of 20 topics took the server from 40 to
    /// 86 MB.
    pub queries_in_flight: tokio::sync::Semaphore,
}

/// The text that stands for a persisted query's document, by its hash.
fn persisted_text(hash: &str) -> String {
    format!("#{hash}")
}

impl Executor {
    /// The schema whose complexity refusal names the limit, built on first use.
    fn complexity_schema(&self) -> &AppSchema {
        self.complexity_schema.get_or_init(|| {
            build_complexity_schema(
                self.db.clone(),
                self.auth.clone(),
                self.webhooks.clone(),
                self.media.clone(),
                &self.limits,
            )
        })
    }

    /// Whether the response cache may answer or keep `viewer`'s requests.
    fn caches(&self, viewer: &Viewer) -> bool {
        self.cache.enabled() && matches!(viewer, Viewer::Anonymous)
    }

    /// An anonymous `POST` answered by its exact bytes, before its JSON is read (an entry is
    /// only kept under a body whose parsed request passed every check); else the body's key,
    /// to keep with the answer.
    pub fn by_body(&self, viewer: &Viewer, body: &Bytes) -> Result<Answer, Option<CacheKey>> {
        let key = self.caches(viewer).then(|| CacheKey::body(body)).flatten();
        match key.as_ref().and_then(|key| self.cache.get(key)) {
            Some(hit) => {
                self.metrics.record_cache(true);
                Ok(Answer::kept(hit))
            }
            None => Err(key),
        }
    }

    /// The response-cache key of a request whose document `text` names.
    fn cache_key(&self, viewer: &Viewer, request: &GraphqlRequest, text: &str) -> Option<CacheKey> {
        if !self.caches(viewer) {
            return None;
        }
        let variables = request
            .variables
            .as_ref()
            .map(|v| serde_json::to_string(v).unwrap_or_default())
            .unwrap_or_default();
        CacheKey::request(request.operation_name.as_deref(), text, &variables)
    }

    /// The text that identifies a request's document in the response cache before the
    /// document is resolved: the query, or `#hash` for a persisted query sent by hash alone.
    /// A request with both has none yet: its hash must first be checked against its query
    /// (a hit keyed by the query alone would skip that check).
    fn lookup_text(request: &GraphqlRequest) -> Option<Cow<'_, str>> {
        match (&request.query, &request.persisted) {
            (Some(query), None) => Some(Cow::Borrowed(query.as_str())),
            (None, Some(persisted)) => Some(Cow::Owned(persisted_text(&persisted.hash))),
            _ => None,
        }
    }

    /// The document to run, from the query text or the persisted-query store, checked
    /// against the limits; and the text that identifies it in the response cache.
    async fn resolve(
        &self,
        request: &GraphqlRequest,
    ) -> Result<Result<(Arc<ExecutableDocument>, String), Vec<ServerError>>, Refused> {
        let variables = request.variables.as_ref();
        let operation = request.operation_name.as_deref();
        match (&request.query, &request.persisted) {
            (Some(query), persisted) => {
                if persisted.as_ref().is_some_and(|p| !p.matches(query)) {
                    return Err(Refused::PersistedQueryHashMismatch);
                }
                let document = match self.documents.get(query) {
                    Some(document) => self
                        .limits
                        .check(&document, variables, operation)
                        .map(|()| document),
                    None => self
                        .limits
                        .inspect(query, variables, operation)
                        .map(Arc::new)
                        .inspect(|document| self.documents.put(query, document)),
                };
                let document = match document {
                    Ok(document) => document,
                    Err(errors) => return Ok(Err(errors)),
                };
                if let Some(persisted) = persisted {
                    let copy = ExecutableDocument::clone(&document);
                    self.persisted_queries.set(&persisted.hash, copy).await;
                }
                Ok(Ok((document, query.clone())))
            }
            (None, Some(persisted)) => {
                let Some(document) = self.persisted_queries.get(&persisted.hash).await else {
                    return Err(Refused::PersistedQueryNotFound);
                };
                Ok(self
                    .limits
                    .check(&document, variables, operation)
                    .map(|()| (Arc::new(document), persisted_text(&persisted.hash))))
            }
            (None, None) => Err(Refused::QueryRequired),
        }
    }

    /// Answers `request` for `viewer` from `client`; `body_key` is its key in the response
    /// cache by its `POST` body ([`Executor::by_body`]), kept with its answer.
    pub async fn execute(
        &self,
        request: GraphqlRequest,
        body_key: Option<CacheKey>,
        viewer: Viewer,
        client: Option<IpAddr>,
    ) -> Result<Answer, Refused> {
        // An anonymous repeat read is answered from the response cache before anything else:
        // an entry is only kept for a query that passed every check with exactly this
        // operation name, text and variables (its key), so none of them needs doing again.
        let generation = self.cache.generation();
        let text = Self::lookup_text(&request);
        // A body with both a query and its hash registers the query for later requests by
        // hash: it is never answered by its bytes alone, which would skip that registration.
        let body_key = body_key.filter(|_| text.is_some());
        let early_key = text.and_then(|text| self.cache_key(&viewer, &request, &text));
        if let Some(hit) = early_key.as_ref().and_then(|key| self.cache.get(key)) {
            // The same request in other bytes (spacing, key order): its body joins the entry.
            if let Some(body_key) = body_key {
                self.cache.put(generation, [body_key], hit.clone());
            }
            self.metrics.record_cache(true);
            return Ok(Answer::kept(hit));
        }
        let (document, cache_text) = match self.resolve(&request).await? {
            Ok(resolved) => resolved,
            Err(errors) => return Ok(Answer::refused(&errors, request.operation_name)),
        };
        // For logs and metrics: the name sent, else the name of the document's only operation.
        let operation_name =
            request
                .operation_name
                .clone()
                .or_else(|| match &document.operations {
                    DocumentOperations::Multiple(ops) if ops.len() == 1 => {
                        ops.keys().next().map(|name| name.to_string())
                    }
                    _ => None,
                });
        let operation = select_operation(&document, request.operation_name.as_deref());
        let operation_type = operation.map(|op| op.ty);
        let writes_content = operation.is_some_and(changes_content);
        if request.via_get && operation_type == Some(OperationType::Mutation) {
            return Err(Refused::MutationOverGet);
        }
        if operation_type == Some(OperationType::Subscription) {
            return Err(Refused::SubscriptionOverHttp);
        }
        let anonymous_read =
            matches!(viewer, Viewer::Anonymous) && operation_type == Some(OperationType::Query);
        // A request with both a query and its hash is keyed now that the hash was checked.
        let cache_key = early_key
            .or_else(|| self.cache_key(&viewer, &request, &cache_text))
            .filter(|_| anonymous_read);
        if cache_key.is_some() {
            self.metrics.record_cache(false);
        }
        let keep = Keep {
            generation,
            cache_key,
            body_key,
            operation: operation_name.clone(),
            via_get: request.via_get,
        };
        // The database failed a moment ago: the last answer, at once, rather than another
        // wait for the pool.
        if availability::down()
            && let Some(stale) = keep.stale(&self.cache)
        {
            return Ok(stale);
        }

        // Mutations are few and may wait on argon2; only queries are bounded.
        let _permit = if operation_type == Some(OperationType::Query) {
            self.queries_in_flight.acquire().await.ok()
        } else {
            None
        };
        // While a content write runs, compiled reads leave the HTTP workers (see
        // compiled::inline). Sign-ins are not counted: most of their time is password
        // hashing, and a login flood would otherwise send every read through the pool.
        let _writing = writes_content.then(|| self.compiled.writing());
        if anonymous_read && let Some(compiled) = self.compiled.get(&cache_text) {
            let variables = request.variables.as_ref();
            let name = request.operation_name.as_deref();
            if let Some(body) = self
                .compiled
                .answer(&compiled, &self.db, &self.metrics, variables, name)
                .await
            {
                self.metrics.record_anonymous_read(true);
                return Ok(keep.answer(&self.cache, Bytes::from(body)));
            }
        }
        let context = RequestContext::new(self.db.clone(), viewer, client);
        let mut response = self.run(&self.schema, &request, &document, context).await;
        if is_complexity_refusal(&response) {
            // Once more, on the schema whose refusal names the limit and the complexity.
            let schema = self.complexity_schema();
            let context = RequestContext::new(self.db.clone(), viewer, client);
            response = self.run(schema, &request, &document, context).await;
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
            self.metrics.record_anonymous_read(false);
            if !request_error {
                // Valid and within every limit: the compiled path may answer this text next.
                let name = request.operation_name.as_deref();
                self.compiled.learn(&cache_text, &document, name);
            }
        }
        let data = (!request_error).then_some(&response.data);
        if writes_content && data.is_some_and(|d| *d != async_graphql::Value::Null) {
            invalidation::own_content_write(&self.cache, &self.db).await;
        }
        let extensions = (!response.extensions.is_empty())
            .then(|| serde_json::to_value(&response.extensions).unwrap_or(Value::Null));
        let outcome = outcome(request_error, &errors);
        let unavailable = errors.iter().any(is_unavailable);
        if unavailable && let Some(stale) = keep.stale(&self.cache) {
            return Ok(stale);
        }
        let bytes = Bytes::from(body(data, &errors, extensions.as_ref()));
        if anonymous_read && errors.is_empty() && data.is_some() {
            return Ok(keep.answer(&self.cache, bytes));
        }
        Ok(Answer {
            body: bytes,
            has_data: data.is_some(),
            shared: None,
            operation: operation_name,
            outcome,
            unavailable,
            stale: false,
        })
    }

    /// Executes `document` with the request's variables and operation name on `schema`.
    async fn run(
        &self,
        schema: &AppSchema,
        request: &GraphqlRequest,
        document: &ExecutableDocument,
        mut context: RequestContext,
    ) -> async_graphql::Response {
        let idle = context.idle.clone();
        let run = prepared(request, document);
        context.uploads = run.uploads.len();
        let run = run.data(context);
        let mut response = idle.track(schema.execute(run)).await;
        // async-graphql lists fields in the order they finished; the spec (and one ETag per
        // content) wants the query's order.
        if let Some(operation) = select_operation(document, request.operation_name.as_deref()) {
            order::restore(&mut response.data, document, &operation.selection_set.node);
        }
        response
    }
}

/// The async-graphql request for `request`, whose document is already parsed and checked.
fn prepared(request: &GraphqlRequest, document: &ExecutableDocument) -> Request {
    let mut run = Request::new(request.query.clone().unwrap_or_default());
    run.set_parsed_query(document.clone());
    if let Some(variables) = &request.variables {
        run = run.variables(Variables::from_json(Value::Object(variables.clone())));
    }
    if let Some(name) = &request.operation_name {
        run = run.operation_name(name.clone());
    }
    // Each run reads the files anew (a refused run may be run again).
    for upload in &request.uploads.0 {
        match upload.try_clone() {
            Ok(upload) => run.uploads.push(upload),
            // The field that reads it reports the missing file.
            Err(e) => tracing::warn!(error = %e, "an uploaded file could not be reopened"),
        }
    }
    run
}

/// One message of a streamed operation: a response body, and whether it is a request error
/// (the operation was refused before it ran: it has no `data`, and ends the stream).
#[derive(Debug, Clone)]
pub struct StreamedAnswer {
    /// The JSON body.
    pub body: Bytes,
    /// Refused before it ran.
    pub refused: bool,
}

/// What an operation sent over a WebSocket gives.
pub enum Streamed {
    /// A query or mutation: its one answer, as over HTTP.
    Single(Answer),
    /// A subscription: an answer per event, until the client stops it.
    Stream(futures_util::stream::BoxStream<'static, StreamedAnswer>),
}

impl Executor {
    /// Answers an operation sent over a WebSocket: a query or mutation exactly as over
    /// `POST` (limits, cache, compiled reads, invalidation), a subscription as a stream.
    pub async fn stream(
        &self,
        request: GraphqlRequest,
        viewer: Viewer,
        client: Option<IpAddr>,
    ) -> Result<Streamed, Refused> {
        let (document, _) = match self.resolve(&request).await? {
            Ok(resolved) => resolved,
            Err(errors) => {
                return Ok(Streamed::Single(Answer::refused(
                    &errors,
                    request.operation_name,
                )));
            }
        };
        let operation = select_operation(&document, request.operation_name.as_deref());
        if operation.map(|op| op.ty) != Some(OperationType::Subscription) {
            return self
                .execute(request, None, viewer, client)
                .await
                .map(Streamed::Single);
        }
        // Subscriptions are few and long: they run on the schema whose complexity refusal
        // names the limit (the extension's per-field cost does not matter here).
        let schema = self.complexity_schema();
        let context = RequestContext::new(self.db.clone(), viewer, client);
        let idle = context.idle.clone();
        let responses = schema.execute_stream(prepared(&request, &document).data(context));
        let name = request.operation_name;
        let answers = futures_util::stream::unfold(responses, move |mut responses| {
            let idle = idle.clone();
            async move {
                use futures_util::StreamExt;
                let response = idle.track(responses.next()).await?;
                Some((response, responses))
            }
        })
        .map(move |mut response| {
            if let Some(operation) = select_operation(&document, name.as_deref()) {
                order::restore(&mut response.data, &document, &operation.selection_set.node);
            }
            let refused = response.data == async_graphql::Value::Null
                && !response.errors.is_empty()
                && response.errors.iter().all(|e| e.path.is_empty());
            let default_code = if refused {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                "INTERNAL_SERVER_ERROR"
            };
            let errors = coded_errors(&response.errors, default_code);
            let data = (!refused).then_some(&response.data);
            StreamedAnswer {
                body: Bytes::from(body(data, &errors, None)),
                refused,
            }
        });
        Ok(Streamed::Stream(Box::pin(answers)))
    }
}

/// Where an anonymous read's clean answer (data, no errors) is kept, whichever executor
/// built it.
struct Keep {
    /// The response cache's generation when the read started.
    generation: u64,
    /// Its key in the response cache, when the cache is on.
    cache_key: Option<CacheKey>,
    /// Its key by its `POST` body, kept alongside `cache_key` (never alone).
    body_key: Option<CacheKey>,
    /// The operation's name, kept with the answer for logs and metrics.
    operation: Option<String>,
    via_get: bool,
}

impl Keep {
    /// The last answer kept under this read's key, for when the database cannot be reached.
    fn stale(&self, cache: &ResponseCache) -> Option<Answer> {
        let key = self.cache_key.as_ref()?;
        cache.get_stale(key).map(Answer::stale)
    }

    /// Keeps `body` in the response cache and answers it (shared over `GET`). The ETag (a
    /// SHA-256 of the body) is only computed for what is cached or sent by `GET`.
    fn answer(self, cache: &ResponseCache, body: Bytes) -> Answer {
        let shared = (self.via_get || self.cache_key.is_some()).then(|| {
            let cached = Arc::new(Cached::new(body.clone(), self.operation.clone()));
            if let Some(key) = self.cache_key {
                let keys = std::iter::once(key).chain(self.body_key);
                cache.put(self.generation, keys, cached.clone());
            }
            cached
        });
        Answer {
            body,
            has_data: true,
            shared,
            operation: self.operation,
            outcome: Outcome::Ok,
            unavailable: false,
            stale: false,
        }
    }
}
