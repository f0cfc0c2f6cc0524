//! From the outbox to deliveries: each content event not yet dispatched becomes one delivery
//! per enabled endpoint that wants its type, and is marked dispatched, in one transaction.
//! Nodes may race: PostgreSQL hands each event to one of them (`FOR UPDATE SKIP LOCKED`),
//! SQLite runs one writer at a time, and a delivery is unique per event and endpoint
//! (`message_id`), so an event is never delivered twice to one endpoint.

use entity::{content_event, webhook_endpoint};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, Set,
    Statement,
};
use serde_json::json;

use super::endpoints::wants;
use crate::db::now;
use crate::errors::ApiResult;

/// Events dispatched per transaction.
const BATCH: i64 = 200;

/// The `webhook-id` of an event's delivery to an endpoint: stable across attempts.
pub fn message_id(event_id: i32, endpoint_id: i32) -> String {
    format!("msg_evt{event_id}_ep{endpoint_id}")
}

/// The body sent for an event (Standard Webhooks' `type`, `timestamp`, `data`).
pub fn payload(event: &content_event::Model) -> String {
    let data = json!({
        "eventId": event.id.to_string(),
        "documentType": event.document_type.to_uppercase(),
        "documentId": event.document_id.to_string(),
        "slug": event.slug,
        "version": event.version,
        "oldStatus": event.old_status,
        "newStatus": event.new_status,
        "affectedTopics": event.affected_topics,
    });
    json!({
        "type": event.event_type,
        "timestamp": event.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    })
    .to_string()
}

/// A delivery due now.
fn new_delivery(
    message_id: String,
    endpoint_id: i32,
    event_id: Option<i32>,
    event_type: &str,
    payload: String,
) -> entity::webhook_delivery::ActiveModel {
    let at = now();
    entity::webhook_delivery::ActiveModel {
        message_id: Set(message_id),
        endpoint_id: Set(endpoint_id),
        event_id: Set(event_id),
        event_type: Set(event_type.to_owned()),
        payload: Set(payload),
        status: Set(super::deliver::PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(at),
        locked_until: Set(None),
        last_status_code: Set(None),
        created_at: Set(at),
        delivered_at: Set(None),
        ..Default::default()
    }
}

/// Dispatches up to a batch of events; returns how many.
pub async fn dispatch(db: &DatabaseConnection) -> ApiResult<usize> {
    let txn = crate::db::begin_write(db).await?;
    let backend = txn.get_database_backend();
    let lock = match backend {
        DbBackend::Postgres => " FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let ids: Vec<i32> = txn
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT id FROM content_events WHERE dispatched_at IS NULL ORDER BY id LIMIT {BATCH}{lock}"
            ),
        ))
        .await?
        .iter()
        .filter_map(|row| row.try_get::<i32>("", "id").ok())
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let events = content_event::Entity::find()
        .filter(content_event::Column::Id.is_in(ids.iter().copied()))
        .all(&txn)
        .await?;
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .all(&txn)
        .await?;
    let at = now();
    let mut deliveries = Vec::new();
    for event in &events {
        let body = payload(event);
        // An endpoint gets the events of changes made once it existed, not a backlog the
        // worker had not dispatched yet when it was created.
        let listening = |e: &&webhook_endpoint::Model| e.created_at <= event.created_at;
        for endpoint in endpoints
            .iter()
            .filter(listening)
            .filter(|e| wants(e, &event.event_type))
        {
            deliveries.push(new_delivery(
                message_id(event.id, endpoint.id),
                endpoint.id,
                Some(event.id),
                &event.event_type,
                body.clone(),
            ));
        }
    }
    for chunk in deliveries.chunks(100) {
        entity::webhook_delivery::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(entity::webhook_delivery::Column::MessageId)
                    .do_nothing()
                    .to_owned(),
            )
            .try_insert()
            .exec(&txn)
            .await?;
    }
    content_event::Entity::update_many()
        .col_expr(content_event::Column::DispatchedAt, Expr::value(at))
        .filter(content_event::Column::Id.is_in(ids.iter().copied()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(events.len())
}

/// A `webhook.test` message for `endpoint`, due at once.
pub async fn test_message(
    db: &DatabaseConnection,
    endpoint: &webhook_endpoint::Model,
) -> ApiResult<entity::webhook_delivery::Model> {
    use sea_orm::ActiveModelTrait;
    let at = now();
    let body = json!({
        "type": "webhook.test",
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": { "endpointId": endpoint.id.to_string() },
    })
    .to_string();
    let message_id = format!("msg_test_{}", uuid::Uuid::new_v4().simple());
    Ok(
        new_delivery(message_id, endpoint.id, None, "webhook.test", body)
            .insert(db)
            .await?,
    )
}
