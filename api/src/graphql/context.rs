//! What a resolver knows about the request it serves.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;
use sea_orm::DatabaseConnection;

use super::batching::IdleSignal;
use super::loaders::LinkLoader;
use crate::auth::{Auth, Viewer};
use crate::errors::{ApiError, ApiResult};
use crate::media::{Addresses, MediaLibrary};

/// Per-request data: who is asking, from where, and the request's batching loader.
pub struct RequestContext {
    /// The caller.
    pub viewer: Viewer,
    /// The client's address as the login throttle counts it (an IPv6 client by its /64).
    pub client: Option<IpAddr>,
    /// Batches link lookups of one request.
    pub links: DataLoader<LinkLoader>,
    /// Releases the batches when the request goes idle (see [`IdleSignal`]).
    pub idle: Arc<IdleSignal>,
    /// How many files the request carries: an `Upload` variable may name only these
    /// (async-graphql indexes its list of files without a check).
    pub uploads: usize,
}

impl RequestContext {
    /// A context for one request.
    pub fn new(db: DatabaseConnection, viewer: Viewer, client: Option<IpAddr>) -> Self {
        let idle = IdleSignal::new();
        Self {
            viewer,
            client,
            // The batch waits for the request to go idle, not for a clock: no extra delay.
            links: DataLoader::new(LinkLoader { db }, idle.spawner()).delay(Duration::ZERO),
            idle,
            uploads: 0,
        }
    }
}

/// The request context and database of a resolver.
pub fn request<'a>(ctx: &Context<'a>) -> ApiResult<(&'a RequestContext, &'a DatabaseConnection)> {
    let request = ctx
        .data::<RequestContext>()
        .map_err(|_| ApiError::Internal("request context missing".into()))?;
    let db = ctx
        .data::<DatabaseConnection>()
        .map_err(|_| ApiError::Internal("database missing from schema data".into()))?;
    Ok((request, db))
}

/// The authentication service.
pub fn auth<'a>(ctx: &Context<'a>) -> ApiResult<&'a Auth> {
    ctx.data::<Arc<Auth>>()
        .map(|auth| auth.as_ref())
        .map_err(|_| ApiError::Internal("authentication missing from schema data".into()))
}

/// The media library.
pub fn media_library<'a>(ctx: &Context<'a>) -> ApiResult<&'a MediaLibrary> {
    ctx.data::<Arc<MediaLibrary>>()
        .map(AsRef::as_ref)
        .map_err(|_| ApiError::Internal("media library missing from schema data".into()))
}

/// How media addresses are spelt (content writes render Markdown with them).
pub fn media_addresses<'a>(ctx: &Context<'a>) -> ApiResult<&'a Addresses> {
    media_library(ctx).map(|library| &library.addresses)
}
