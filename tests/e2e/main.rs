//! End-to-end tests: each starts the real `dermis` binary on a fresh database and talks to
//! it over HTTP (or runs its subcommands). Database tests run on SQLite and, when
//! `DERMIS_TEST_POSTGRES_URL` is set, on PostgreSQL.

mod api_tokens;
mod auth;
mod backup;
mod bad_input;
mod caching;
mod cli;
mod compiled;
mod counts;
mod database;
mod dataloaders;
mod differential;
mod durability;
mod editing;
mod errors;
mod events;
mod golden;
mod guards;
mod http;
mod input;
mod limits;
mod media;
mod nesting;
mod observability;
mod outage;
mod preview;
mod read_api;
mod review;
mod sample_content;
mod scheduling;
mod schema_contract;
mod sessions;
mod shutdown;
mod subscriptions;
mod throttle;
mod traffic;
mod visibility;
mod webhooks;
mod workflow;

use serde_json::{Value, json};

/// A seed file with `n` published topics `topic-000`..., each linked to 3 conditions and 3
/// side effects out of pools of 10.
pub fn many_topics(n: usize) -> Value {
    let conditions: Vec<Value> = (0..10)
        .map(|i| json!({ "slug": format!("condition-{i}"), "name": format!("Condition {i}") }))
        .collect();
    let side_effects: Vec<Value> = (0..10)
        .map(|i| json!({ "slug": format!("effect-{i}"), "name": format!("Effect {i}") }))
        .collect();
    let topics: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "slug": format!("topic-{i:03}"),
                "title": format!("Topic {i:03}"),
                "summary": format!("Summary of topic {i}."),
                "conditions": (0..3).map(|k| json!({ "slug": format!("condition-{}", (i + k) % 10) })).collect::<Vec<_>>(),
                "sideEffects": (0..3).map(|k| json!({
                    "slug": format!("effect-{}", (i + 2 * k) % 10),
                    "frequency": "COMMON", "severity": "MILD", "duration": "TEMPORARY"
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "conditions": conditions, "sideEffects": side_effects, "topics": topics })
}
