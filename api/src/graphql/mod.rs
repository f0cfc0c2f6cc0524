//! The GraphQL schema: the public read API over topics, conditions and side effects.

pub mod batching;
pub mod connection;
pub mod context;
pub mod enums;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

pub use context::RequestContext;
pub use limits::QueryLimits;
pub use mutation::MutationRoot;
pub use query::QueryRoot;

use crate::auth::Auth;

/// The Dermis schema type.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(QueryRoot, MutationRoot::default(), EmptySubscription)
        .override_output_type_description::<async_graphql::ID>(
            "An opaque, stable identifier. Compare it for equality; do not parse it.",
        )
        .override_output_type_description::<chrono::DateTime<chrono::Utc>>(
            "A point in time as an RFC 3339 string in UTC, e.g. `2026-11-24T09:30:00Z`.",
        )
        .override_output_type_description::<async_graphql::Json<serde_json::Value>>(
            "Any JSON value.",
        )
}

/// The schema that serves requests, reading from `db`, within `limits`.
pub fn build_schema(db: DatabaseConnection, auth: Arc<Auth>, limits: &QueryLimits) -> AppSchema {
    let builder = builder()
        .data(db)
        .data(auth)
        .extension(limits::ComplexityLimit::new(limits.max_complexity));
    if limits.introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The schema's SDL, as committed in `api/schema.graphql` and printed by `dermis schema`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
