//! Webhooks in the schema: endpoints (create, update, rotate the secret, delete), their
//! deliveries with every attempt, redelivery and test messages. Admins, and API tokens with
//! `WEBHOOKS_MANAGE`.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::context::request;
use super::guard::RoleGuard;
use crate::content::events::event_types;
use crate::content::pagination::list_limit;
use crate::content::validate;
use crate::errors::{ApiError, ApiResult};
use crate::webhooks::endpoints::{self, EndpointFields};
use crate::webhooks::{WebhookSettings, deliver};

/// A URL that receives signed content events (Standard Webhooks 1.0).
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

/// A URL that receives signed content events (Standard Webhooks 1.0).
#[Object]
impl WebhookEndpoint {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Where deliveries are sent.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// For people.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// The event types it receives; empty: every event.
    async fn event_types(&self) -> Vec<&str> {
        self.0
            .event_types
            .split(',')
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// Whether deliveries are made.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Why it was disabled (by an administrator, `410 Gone`, or failing for days).
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }

    /// Since when every delivery has failed; null while it answers.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }

    /// Until when the secret before the last rotation still signs too.
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret_until
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Its deliveries, newest first.
    #[graphql(
        complexity = "crate::graphql::limits::page_cost(Some(first), None, child_complexity)"
    )]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many, at most 100.", default = 20)] first: i32,
    ) -> ApiResult<Vec<WebhookDelivery>> {
        let (_, db) = request(ctx)?;
        let limit = list_limit(first)?;
        Ok(webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::EndpointId.eq(self.0.id))
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(limit)
            .all(db)
            .await?
            .into_iter()
            .map(WebhookDelivery)
            .collect())
    }
}

/// One message for one endpoint: a content event, or a test.
pub struct WebhookDelivery(pub webhook_delivery::Model);

/// One message for one endpoint, sent until delivered or given up.
#[Object]
impl WebhookDelivery {
    /// Stable identifier (pass it to `redeliverWebhook`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The `webhook-id` header: the same for every attempt, for deduplication.
    async fn message_id(&self) -> &str {
        &self.0.message_id
    }

    /// The event type (`webhook.test` for a test message).
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }

    /// `pending`, `delivered` or `failed`.
    async fn status(&self) -> &str {
        &self.0.status
    }

    /// Attempts so far.
    async fn attempt_count(&self) -> i32 {
        self.0.attempts
    }

    /// When the next attempt is due (while pending).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == deliver::PENDING).then_some(self.0.next_attempt_at)
    }

    /// The HTTP status of the last answer; null when none came.
    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status_code
    }

    /// The exact body sent, as JSON text.
    async fn payload(&self) -> &str {
        &self.0.payload
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the endpoint accepted it.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }

    /// Every attempt, oldest first.
    async fn attempts(&self, ctx: &Context<'_>) -> ApiResult<Vec<WebhookAttempt>> {
        let (_, db) = request(ctx)?;
        Ok(webhook_attempt::Entity::find()
            .filter(webhook_attempt::Column::DeliveryId.eq(self.0.id))
            .order_by_asc(webhook_attempt::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|a| WebhookAttempt {
                attempted_at: a.attempted_at,
                status_code: a.status_code,
                duration_ms: a.duration_ms,
                response: a.response,
            })
            .collect())
    }
}

/// One HTTP attempt of a delivery.
#[derive(SimpleObject)]
pub struct WebhookAttempt {
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// The answer's HTTP status; null when none came.
    pub status_code: Option<i32>,
    /// How long it took, in milliseconds.
    pub duration_ms: i32,
    /// The first KiB of the answer, or why there was none.
    pub response: String,
}

/// A new endpoint.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// Where to send (`https://...`; `http://` too). Hosts on private networks are refused
    /// unless the server allows them.
    pub url: String,
    /// The event types wanted (see `webhookEventTypes`); omit or empty for every event.
    pub event_types: Option<Vec<String>>,
    /// For people.
    pub description: Option<String>,
}

/// Changes to an endpoint; what is omitted stays.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint.
    pub id: ID,
    /// A new URL.
    pub url: Option<String>,
    /// New event types (empty: every event).
    pub event_types: Option<Vec<String>>,
    /// A new description.
    pub description: Option<String>,
    /// Disable, or enable again (which clears its failure streak).
    pub enabled: Option<bool>,
}

/// An endpoint, by id.
#[derive(InputObject)]
pub struct WebhookEndpointIdInput {
    /// Its id.
    pub id: ID,
}

/// A delivery, by id.
#[derive(InputObject)]
pub struct WebhookDeliveryIdInput {
    /// Its id.
    pub id: ID,
}

/// An endpoint with its signing secret, answered once.
#[derive(SimpleObject)]
pub struct WebhookSecretPayload {
    /// `whsec_...`: verify deliveries with it (any Standard Webhooks library does).
    pub secret: String,
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
}

/// An endpoint as it is now.
#[derive(SimpleObject)]
pub struct WebhookEndpointPayload {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
}

/// A deleted endpoint.
#[derive(SimpleObject)]
pub struct DeleteWebhookEndpointPayload {
    /// Its id.
    pub deleted_id: ID,
}

/// A delivery as it is now.
#[derive(SimpleObject)]
pub struct WebhookDeliveryPayload {
    /// The delivery.
    pub delivery: WebhookDelivery,
}

fn settings<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Arc<WebhookSettings>> {
    ctx.data::<Arc<WebhookSettings>>()
        .map_err(|_| ApiError::Internal("webhook settings missing from the schema".into()))
}

/// Webhook endpoints and event types.
#[derive(Default)]
pub struct WebhookQueries;

/// Webhook endpoints and event types.
#[Object]
impl WebhookQueries {
    /// Admins and tokens with `WEBHOOKS_MANAGE`: every webhook endpoint.
    #[graphql(
        guard = "RoleGuard::Webhooks",
        complexity = "crate::graphql::limits::list_cost(child_complexity)"
    )]
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> ApiResult<Vec<WebhookEndpoint>> {
        let (_, db) = request(ctx)?;
        Ok(endpoints::list(db)
            .await?
            .into_iter()
            .map(WebhookEndpoint)
            .collect())
    }

    /// Every event type an endpoint can ask for.
    async fn webhook_event_types(&self) -> Vec<String> {
        event_types()
    }
}

/// Webhook management.
#[derive(Default)]
pub struct WebhookMutations;

/// Webhook management; admins and tokens with `WEBHOOKS_MANAGE`.
#[Object]
impl WebhookMutations {
    /// Creates an endpoint and answers its signing secret, this once.
    #[graphql(guard = "RoleGuard::Webhooks")]
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] input: CreateWebhookEndpointInput,
    ) -> ApiResult<WebhookSecretPayload> {
        let (request, db) = request(ctx)?;
        let creator = request.viewer.author()?.user;
        let fields = EndpointFields {
            url: Some(input.url),
            event_types: input.event_types,
            description: input.description,
            enabled: None,
        };
        let endpoint = endpoints::create(db, creator, fields, settings(ctx)?.allow_private).await?;
        Ok(WebhookSecretPayload {
            secret: endpoint.secret.clone(),
            endpoint: WebhookEndpoint(endpoint),
        })
    }

    /// Changes an endpoint.
    #[graphql(guard = "RoleGuard::Webhooks")]
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateWebhookEndpointInput,
    ) -> ApiResult<WebhookEndpointPayload> {
        let (_, db) = request(ctx)?;
        let id = validate::id(&input.id, "input.id")?;
        let fields = EndpointFields {
            url: input.url,
            event_types: input.event_types,
            description: input.description,
            enabled: input.enabled,
        };
        let endpoint = endpoints::update(db, id, fields, settings(ctx)?.allow_private).await?;
        Ok(WebhookEndpointPayload {
            endpoint: WebhookEndpoint(endpoint),
        })
    }

    /// Gives an endpoint a new secret, answered this once; the old one keeps signing too for
    /// 24 hours, so the receiver can switch without losing a delivery.
    #[graphql(guard = "RoleGuard::Webhooks")]
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] input: WebhookEndpointIdInput,
    ) -> ApiResult<WebhookSecretPayload> {
        let (_, db) = request(ctx)?;
        let id = validate::id(&input.id, "input.id")?;
        let endpoint = endpoints::rotate_secret(db, id).await?;
        Ok(WebhookSecretPayload {
            secret: endpoint.secret.clone(),
            endpoint: WebhookEndpoint(endpoint),
        })
    }

    /// Deletes an endpoint and its deliveries.
    #[graphql(guard = "RoleGuard::Webhooks")]
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] input: WebhookEndpointIdInput,
    ) -> ApiResult<DeleteWebhookEndpointPayload> {
        let (_, db) = request(ctx)?;
        let id = validate::id(&input.id, "input.id")?;
        endpoints::delete(db, id).await?;
        Ok(DeleteWebhookEndpointPayload {
            deleted_id: input.id,
        })
    }

    /// Sends a delivery again, at once (also a failed one).
    #[graphql(guard = "RoleGuard::Webhooks")]
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery.")] input: WebhookDeliveryIdInput,
    ) -> ApiResult<WebhookDeliveryPayload> {
        let (_, db) = request(ctx)?;
        let id = validate::id(&input.id, "input.id")?;
        let delivery = deliver::redeliver(db, id).await?;
        crate::webhooks::worker::wake();
        Ok(WebhookDeliveryPayload {
            delivery: WebhookDelivery(delivery),
        })
    }

    /// Sends a `webhook.test` message to an endpoint.
    #[graphql(guard = "RoleGuard::Webhooks")]
    async fn send_test_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] input: WebhookEndpointIdInput,
    ) -> ApiResult<WebhookDeliveryPayload> {
        let (_, db) = request(ctx)?;
        let id = validate::id(&input.id, "input.id")?;
        let endpoint = endpoints::get(db, id).await?;
        Ok(WebhookDeliveryPayload {
            delivery: WebhookDelivery(
                crate::webhooks::dispatch::test_message(db, &endpoint).await?,
            ),
        })
    }
}
