//! Webhook endpoints: created with a URL, the event types wanted and a description; the
//! signing secret is answered once; the secret can be rotated (the old one keeps signing
//! for a grace period); an endpoint can be disabled, enabled again and deleted.

use chrono::Duration;
use entity::webhook_endpoint;
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryOrder, Set,
};

use super::address;
use super::signing::new_secret;
use crate::content::events::event_types;
use crate::db::now;
use crate::errors::{ApiError, ApiResult};

/// How long the old secret keeps signing after a rotation, so receivers can switch.
pub const ROTATION_GRACE: Duration = Duration::hours(24);

/// Longest URL, description.
const MAX_URL: usize = 2000;
const MAX_DESCRIPTION: usize = 500;

/// What an endpoint is made of.
#[derive(Debug, Clone, Default)]
pub struct EndpointFields {
    /// Where deliveries are sent (`http` or `https`).
    pub url: Option<String>,
    /// The event types wanted; empty: every event.
    pub event_types: Option<Vec<String>>,
    /// For people.
    pub description: Option<String>,
    /// Whether deliveries are made.
    pub enabled: Option<bool>,
}

/// A URL that may receive webhooks: absolute `http(s)`, a host that resolves to public
/// addresses only (unless `allow_private`), no credentials.
pub async fn check_url(url: &str, allow_private: bool) -> ApiResult<String> {
    let bad = |message: String| ApiError::bad_input("input.url", message);
    let url = url.trim();
    if url.len() > MAX_URL {
        return Err(bad(format!("the URL must be at most {MAX_URL} characters")));
    }
    let parsed = url::Url::parse(url).map_err(|e| bad(format!("not a valid URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("the URL must start with https:// or http://".into()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("the URL must not carry credentials".into()));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| bad("the URL needs a host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    address::resolve(&host, port, allow_private)
        .await
        .map_err(|reason| bad(format!("webhooks cannot be sent there: {reason}")))?;
    Ok(parsed.to_string())
}

fn check_event_types(types: &[String]) -> ApiResult<String> {
    let known = event_types();
    if let Some(unknown) = types.iter().find(|t| !known.contains(t)) {
        return Err(ApiError::bad_input(
            "input.eventTypes",
            format!("unknown event type `{unknown}`; see `webhookEventTypes`"),
        ));
    }
    let mut types = types.to_vec();
    types.sort();
    types.dedup();
    Ok(types.join(","))
}

fn check_description(text: &str) -> ApiResult<String> {
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(ApiError::bad_input(
            "input.description",
            format!("the description must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(text.trim().to_owned())
}

/// Whether `endpoint` wants events of `event_type`.
pub fn wants(endpoint: &webhook_endpoint::Model, event_type: &str) -> bool {
    endpoint.event_types.is_empty() || endpoint.event_types.split(',').any(|t| t == event_type)
}

/// Creates an endpoint for `creator`; answers it with its secret.
pub async fn create(
    db: &DatabaseConnection,
    creator: i32,
    fields: EndpointFields,
    allow_private: bool,
) -> ApiResult<webhook_endpoint::Model> {
    // What needs no network first: a request with a bad type never waits for DNS.
    let event_types = check_event_types(&fields.event_types.unwrap_or_default())?;
    let description = check_description(fields.description.as_deref().unwrap_or_default())?;
    let url = check_url(fields.url.as_deref().unwrap_or_default(), allow_private).await?;
    let endpoint = webhook_endpoint::ActiveModel {
        url: Set(url),
        description: Set(description),
        event_types: Set(event_types),
        secret: Set(new_secret()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        enabled: Set(fields.enabled.unwrap_or(true)),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_by: Set(creator),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(endpoint)
}

/// An endpoint by id, or `NOT_FOUND`.
pub async fn get(db: &DatabaseConnection, id: i32) -> ApiResult<webhook_endpoint::Model> {
    webhook_endpoint::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no webhook endpoint with id {id}")))
}

/// Every endpoint, oldest first.
pub async fn list(db: &DatabaseConnection) -> ApiResult<Vec<webhook_endpoint::Model>> {
    Ok(webhook_endpoint::Entity::find()
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(db)
        .await?)
}

/// Changes what is given; enabling clears the reason it was disabled and its failure streak.
pub async fn update(
    db: &DatabaseConnection,
    id: i32,
    fields: EndpointFields,
    allow_private: bool,
) -> ApiResult<webhook_endpoint::Model> {
    let mut endpoint = get(db, id).await?.into_active_model();
    if let Some(url) = fields.url {
        endpoint.url = Set(check_url(&url, allow_private).await?);
    }
    if let Some(types) = fields.event_types {
        endpoint.event_types = Set(check_event_types(&types)?);
    }
    if let Some(description) = fields.description {
        endpoint.description = Set(check_description(&description)?);
    }
    if let Some(enabled) = fields.enabled {
        endpoint.enabled = Set(enabled);
        if enabled {
            endpoint.disabled_reason = Set(None);
            endpoint.failing_since = Set(None);
        } else {
            endpoint.disabled_reason = Set(Some("disabled by an administrator".into()));
        }
    }
    Ok(endpoint.update(db).await?)
}

/// A new secret; the old one keeps signing for [`ROTATION_GRACE`].
pub async fn rotate_secret(db: &DatabaseConnection, id: i32) -> ApiResult<webhook_endpoint::Model> {
    let current = get(db, id).await?;
    let old = current.secret.clone();
    let mut endpoint = current.into_active_model();
    endpoint.previous_secret = Set(Some(old));
    endpoint.previous_secret_until = Set(Some(now() + ROTATION_GRACE));
    endpoint.secret = Set(new_secret());
    Ok(endpoint.update(db).await?)
}

/// Deletes an endpoint with its deliveries.
pub async fn delete(db: &DatabaseConnection, id: i32) -> ApiResult<()> {
    let endpoint = get(db, id).await?;
    webhook_endpoint::Entity::delete_by_id(endpoint.id)
        .exec(db)
        .await?;
    Ok(())
}

/// The secrets that sign now: the current one, and the previous one during its grace.
pub fn signing_secrets(endpoint: &webhook_endpoint::Model) -> Vec<&str> {
    let mut secrets = vec![endpoint.secret.as_str()];
    if let (Some(old), Some(until)) = (&endpoint.previous_secret, endpoint.previous_secret_until)
        && until > now()
    {
        secrets.push(old);
    }
    secrets
}
