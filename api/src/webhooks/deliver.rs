//! Sending deliveries: claim what is due, send it signed, record the attempt, and decide what
//! comes next: delivered on `2xx`; the endpoint disabled on `410 Gone`; otherwise another
//! attempt after the next wait of the retry schedule (with ±20 % jitter, so a recovering
//! receiver is not hit by every node at once), and failed after the last. An endpoint that
//! has failed every delivery for [`DISABLE_AFTER`] is disabled and shown so to admins.

use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, Set, Statement,
};

use super::WebhookSettings;
use super::endpoints::signing_secrets;
use super::signing::signature;
use crate::db::now;
use crate::errors::ApiResult;

/// Waiting for its next attempt.
pub const PENDING: &str = "pending";
/// Answered `2xx`.
pub const DELIVERED: &str = "delivered";
/// Given up: the schedule ran out, or the endpoint answered `410 Gone`.
pub const FAILED: &str = "failed";

/// An endpoint failing every delivery this long is disabled.
pub const DISABLE_AFTER: chrono::Duration = chrono::Duration::days(5);

/// How long a claim holds a delivery (longer than an attempt may take).
const CLAIM_FOR: chrono::Duration = chrono::Duration::seconds(30);

/// Deliveries claimed per round.
const BATCH: i64 = 20;

/// How much of an answer is kept.
const KEEP_BYTES: usize = 1024;

/// Claims up to a batch of due deliveries to enabled endpoints.
pub async fn claim(db: &DatabaseConnection) -> ApiResult<Vec<webhook_delivery::Model>> {
    let txn = crate::db::begin_write(db).await?;
    let backend = txn.get_database_backend();
    let (lock, placeholder) = match backend {
        DbBackend::Postgres => (" FOR UPDATE SKIP LOCKED", ["$1", "$2"]),
        _ => ("", ["?", "?"]),
    };
    let at = now();
    let sql = format!(
        "SELECT id FROM webhook_deliveries WHERE status = '{PENDING}' AND next_attempt_at <= {p1} \
         AND (locked_until IS NULL OR locked_until < {p2}) \
         AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled) \
         ORDER BY next_attempt_at, id LIMIT {BATCH}{lock}",
        p1 = placeholder[0],
        p2 = placeholder[1],
    );
    let ids: Vec<i32> = txn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [at.into(), at.into()],
        ))
        .await?
        .iter()
        .filter_map(|row| row.try_get::<i32>("", "id").ok())
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Expr::value(at + CLAIM_FOR),
        )
        .filter(webhook_delivery::Column::Id.is_in(ids.iter().copied()))
        .exec(&txn)
        .await?;
    let claimed = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Id.is_in(ids))
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(claimed)
}

/// What one attempt got.
struct Answer {
    status: Option<u16>,
    response: String,
    took: Duration,
}

/// Whether `url` names a non-public IP address directly (the client's resolver, which
/// checks host names, is not asked for an address literal).
fn private_literal(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .is_some_and(|url| match url.host() {
            Some(url::Host::Ipv4(ip)) => !super::address::is_public(ip.into()),
            Some(url::Host::Ipv6(ip)) => !super::address::is_public(ip.into()),
            _ => false,
        })
}

/// Sends `delivery` to `endpoint` once.
async fn send(
    client: &reqwest::Client,
    settings: &WebhookSettings,
    delivery: &webhook_delivery::Model,
    endpoint: &webhook_endpoint::Model,
) -> Answer {
    let started = Instant::now();
    if !settings.allow_private && private_literal(&endpoint.url) {
        return Answer {
            status: None,
            response: "the address is not public".to_owned(),
            took: started.elapsed(),
        };
    }
    let timestamp = now().timestamp();
    let signed = signature(
        &signing_secrets(endpoint),
        &delivery.message_id,
        timestamp,
        &delivery.payload,
    );
    let result = match signed {
        Err(reason) => Err(format!("cannot sign: {reason}")),
        Ok(signed) => client
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header(
                "user-agent",
                concat!("Dermis-Webhooks/", env!("CARGO_PKG_VERSION")),
            )
            .header("webhook-id", &delivery.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signed)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(|e| describe(&e)),
    };
    match result {
        Ok(response) => {
            let status = response.status().as_u16();
            let mut kept = Vec::new();
            let mut response = response;
            while kept.len() < KEEP_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            kept.truncate(KEEP_BYTES);
            Answer {
                status: Some(status),
                response: String::from_utf8_lossy(&kept).into_owned(),
                took: started.elapsed(),
            }
        }
        Err(reason) => Answer {
            status: None,
            response: reason,
            took: started.elapsed(),
        },
    }
}

/// Why a request got no answer, for the delivery log (without the URL's query).
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_redirect() {
        "redirects are not followed"
    } else {
        "request failed"
    };
    let mut reason = what.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        reason = format!("{what}: {inner}");
        source = inner.source();
    }
    reason
}

/// The wait before attempt `attempts + 1`, with ±20 % jitter; `None` when none is left.
fn next_wait(settings: &WebhookSettings, attempts: i32) -> Option<Duration> {
    let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
    let base = *settings.retry_schedule.get(index)?;
    let jitter = 0.8 + (OsRng.next_u32() % 401) as f64 / 1000.0;
    Some(base.mul_f64(jitter))
}

/// A claimed delivery sent once: what to record.
pub struct Sent {
    delivery: webhook_delivery::Model,
    endpoint: webhook_endpoint::Model,
    answer: Answer,
    at: chrono::DateTime<chrono::Utc>,
}

/// Sends a claimed delivery once; `None` when its endpoint is gone.
pub async fn attempt(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    settings: &WebhookSettings,
    delivery: webhook_delivery::Model,
) -> ApiResult<Option<Sent>> {
    let Some(endpoint) = webhook_endpoint::Entity::find_by_id(delivery.endpoint_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let answer = send(client, settings, &delivery, &endpoint).await;
    Ok(Some(Sent {
        delivery,
        endpoint,
        answer,
        at: now(),
    }))
}

/// Records the outcomes of a round's attempts in one transaction (one commit, not one per
/// delivery: on SQLite each commit waits for the disk).
pub async fn record(
    db: &DatabaseConnection,
    settings: &WebhookSettings,
    outcomes: Vec<Sent>,
) -> ApiResult<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let txn = crate::db::begin_write(db).await?;
    for sent in outcomes {
        record_one(&txn, settings, sent).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Records one attempt and decides what comes next.
async fn record_one(
    txn: &sea_orm::DatabaseTransaction,
    settings: &WebhookSettings,
    sent: Sent,
) -> ApiResult<()> {
    let Sent {
        delivery,
        endpoint,
        answer,
        at,
    } = sent;
    let attempts = delivery.attempts + 1;
    let status = answer.status.map(i32::from);
    webhook_attempt::ActiveModel {
        delivery_id: Set(delivery.id),
        attempted_at: Set(at),
        status_code: Set(status),
        duration_ms: Set(i32::try_from(answer.took.as_millis()).unwrap_or(i32::MAX)),
        response: Set(answer.response),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut update = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(
            webhook_delivery::Column::LastStatusCode,
            Expr::value(status),
        )
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(webhook_delivery::Column::Id.eq(delivery.id));
    let mut endpoint_update = webhook_endpoint::Entity::update_many()
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id));
    match answer.status {
        Some(200..=299) => {
            update = update
                .col_expr(webhook_delivery::Column::Status, Expr::value(DELIVERED))
                .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(at));
            endpoint_update = endpoint_update.col_expr(
                webhook_endpoint::Column::FailingSince,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            );
        }
        Some(410) => {
            update = update.col_expr(webhook_delivery::Column::Status, Expr::value(FAILED));
            endpoint_update = endpoint_update
                .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
                .col_expr(
                    webhook_endpoint::Column::DisabledReason,
                    Expr::value("the endpoint answered 410 Gone"),
                );
        }
        _ => {
            update = match next_wait(settings, attempts) {
                Some(wait) => {
                    let wait =
                        chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
                    update.col_expr(
                        webhook_delivery::Column::NextAttemptAt,
                        Expr::value(at + wait),
                    )
                }
                None => update.col_expr(webhook_delivery::Column::Status, Expr::value(FAILED)),
            };
            let failing_since = endpoint.failing_since.unwrap_or(at);
            endpoint_update = endpoint_update.col_expr(
                webhook_endpoint::Column::FailingSince,
                Expr::value(failing_since),
            );
            if at - failing_since >= DISABLE_AFTER {
                endpoint_update = endpoint_update
                    .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
                    .col_expr(
                        webhook_endpoint::Column::DisabledReason,
                        Expr::value("every delivery failed for 5 days"),
                    );
            }
        }
    }
    update.exec(txn).await?;
    endpoint_update.exec(txn).await?;
    Ok(())
}

/// Sends the delivery again at once (a `failed` one too), as a new attempt.
pub async fn redeliver(db: &DatabaseConnection, id: i32) -> ApiResult<webhook_delivery::Model> {
    let delivery = webhook_delivery::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| {
            crate::errors::ApiError::NotFound(format!("no webhook delivery with id {id}"))
        })?;
    let mut active: webhook_delivery::ActiveModel = delivery.into();
    active.status = Set(PENDING.to_owned());
    active.next_attempt_at = Set(now());
    active.locked_until = Set(None);
    Ok(active.update(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_literals_are_checked_here() {
        assert!(private_literal("http://127.0.0.1:8080/x"));
        assert!(private_literal("http://[::1]/x"));
        assert!(private_literal("http://10.0.0.7/x"));
        assert!(!private_literal("https://93.184.216.34/x"));
        assert!(!private_literal("https://example.org/x"));
    }
}
