//! The GraphQL schema: the public read API over topics, conditions and side effects.

pub mod api_tokens;
pub mod batching;
pub mod cache;
pub mod compiled;
pub mod connection;
pub mod context;
pub mod documents;
pub mod enums;
pub mod error;
pub mod events;
pub mod executor;
pub mod guard;
pub mod invalidation;
pub mod limits;
pub mod loaders;
pub mod media;
pub mod mutation;
pub mod nesting;
pub mod nul;
pub mod order;
pub mod persisted;
pub mod preview;
pub mod query;
pub mod response;
pub mod review;
pub mod schedules;
pub mod subscription;
pub mod typename;
pub mod types;
pub mod upload;
pub mod values;
pub mod webhooks;

use crate::webhooks::WebhookSettings;
use std::sync::Arc;

use async_graphql::{SDLExportOptions, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

pub use context::RequestContext;
pub use limits::QueryLimits;
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;

use crate::auth::Auth;

/// The Dermis schema type.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .override_output_type_description::<async_graphql::ID>(
        "An opaque, stable identifier. Compare it for equality; do not parse it.",
    )
    .override_output_type_description::<chrono::DateTime<chrono::Utc>>(
        "A point in time as an RFC 3339 string in UTC, e.g. `2026-11-24T09:30:00Z`.",
    )
    .override_output_type_description::<async_graphql::Json<serde_json::Value>>("Any JSON value.")
}

/// The schema that serves requests, reading from `db`, within `limits`. It refuses a query
/// over the complexity limit with async-graphql's own check, whose error names neither the
/// limit nor the query's complexity: [`response::is_complexity_refusal`] recognises that answer, and
/// the request is then run once more on [`build_complexity_schema`]'s schema for the
/// documented `QUERY_TOO_COMPLEX` error. (An extension on this schema could report it at
/// once, but async-graphql sends every field of every query through the extension chain as
/// soon as there is one: 9.5% of an uncached topic page's instructions.)
pub fn build_schema(
    db: DatabaseConnection,
    auth: Arc<Auth>,
    webhooks: Arc<WebhookSettings>,
    media: Arc<crate::media::MediaLibrary>,
    limits: &QueryLimits,
) -> AppSchema {
    finish(
        builder()
            .data(db)
            .data(auth)
            .data(webhooks)
            .data(media)
            .limit_complexity(limits.max_complexity),
        limits,
    )
}

/// The schema that explains a complexity refusal: the same schema with
/// [`limits::ComplexityLimit`], whose error carries the code, the limit and the query's
/// complexity. Only refused requests run on it, and they stop at validation.
pub fn build_complexity_schema(
    db: DatabaseConnection,
    auth: Arc<Auth>,
    webhooks: Arc<WebhookSettings>,
    media: Arc<crate::media::MediaLibrary>,
    limits: &QueryLimits,
) -> AppSchema {
    finish(
        builder()
            .data(db)
            .data(auth)
            .data(webhooks)
            .data(media)
            .extension(limits::ComplexityLimit::new(limits.max_complexity)),
        limits,
    )
}

fn finish(
    builder: SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot>,
    limits: &QueryLimits,
) -> AppSchema {
    if limits.introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The schema's SDL, as committed in `api/schema.graphql` and printed by `dermis schema`:
/// what introspection describes, so that a client's `printSchema(buildClientSchema(...))`
/// and this file describe one schema (a conformance test compares them with graphql-js).
/// async-graphql's own SDL leaves out two things introspection reports: the schema's
/// description (the `schema { ... }` block carries it) and `@specifiedBy` on scalars.
pub async fn sdl() -> String {
    let schema = builder().finish();
    let described = schema.execute("{ __schema { description } }").await;
    let description = described
        .data
        .into_json()
        .ok()
        .and_then(|data| data["__schema"]["description"].as_str().map(str::to_owned));
    let sdl = schema.sdl_with_options(SDLExportOptions::new().include_specified_by());
    // async-graphql ends its SDL with the `schema { ... }` block: the description goes on it.
    match (description, sdl.rfind("\nschema {")) {
        (Some(description), Some(at)) => format!(
            "{}\n\"\"\"\n{}\n\"\"\"{}",
            &sdl[..at],
            description.replace("\"\"\"", "\\\"\"\""),
            &sdl[at..]
        ),
        _ => sdl,
    }
}
