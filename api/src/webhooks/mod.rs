//! Webhooks after Standard Webhooks 1.0: endpoints receive every content event they ask
//! for, signed (`webhook-id`, `webhook-timestamp`, `webhook-signature`), from the
//! content-events outbox.
//!
//! - [`dispatch`]: each content event, once, becomes one delivery per enabled endpoint that
//!   wants its type (idempotent: a delivery is unique per event and endpoint).
//! - [`deliver`]: due deliveries are claimed (on PostgreSQL with `FOR UPDATE SKIP LOCKED`,
//!   so several nodes never send one twice), sent, and retried with backoff and jitter;
//!   every attempt is recorded.
//! - [`worker`]: runs both on every serving node.
//! - [`address`]: endpoints on loopback, private or link-local addresses are refused, when
//!   created and at every connection, unless allowed.

pub mod address;
pub mod deliver;
pub mod dispatch;
pub mod endpoints;
pub mod signing;
pub mod worker;

pub use crate::config::settings::{DEFAULT_RETRY_SCHEDULE, WebhookSettings};
