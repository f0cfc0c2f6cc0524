//! The content-events outbox through HTTP: a scripted editing session leaves exactly one
//! event per change, in order, with statuses and the published topic pages each affects;
//! a refused write leaves none.

use dermis_tests::{TestServer, on_both_databases};
use serde_json::{Value, json};

const FEED: &str = "query($after: ID) { contentEvents(after: $after, first: 100) {
    id type documentType slug version oldStatus newStatus affectedTopics } }";

/// The events after `after`, as (type, slug, old, new, affected) tuples, and the last id.
async fn events_after(
    server: &TestServer,
    session: &dermis_tests::Session,
    after: &Value,
) -> (Vec<Value>, Value) {
    let data = server
        .query_as(session, FEED, json!({ "after": after }))
        .await;
    let events = data["contentEvents"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let last = events
        .last()
        .map(|e| e["id"].clone())
        .unwrap_or_else(|| after.clone());
    let rows = events
        .iter()
        .map(|e| {
            json!([
                e["type"],
                e["slug"],
                e["oldStatus"],
                e["newStatus"],
                e["affectedTopics"]
            ])
        })
        .collect();
    (rows, last)
}

on_both_databases! {
    async fn every_change_leaves_one_event_and_a_refused_one_none(backend) {
        let server = TestServer::on(backend).start().await;
        let admin = server.first_admin().await;
        let (before, start) = events_after(&server, &admin, &Value::Null).await;
        assert!(before.is_empty(), "{before:?}");

        let condition = server.query_as(&admin, "mutation { createCondition(input: { name: \"Acne scars\" }) { condition { id version } } }", json!({})).await["createCondition"]["condition"].clone();
        let topic = server.query_as(&admin, "mutation($c: ID!) { createTopic(input: { title: \"Microneedling\", conditions: [{ conditionId: $c }] }) { topic { id version } } }", json!({ "c": condition["id"] })).await["createTopic"]["topic"].clone();
        // Publishing the topic publishes its draft condition with it (recorded first).
        let published = server.query_as(&admin, "mutation($id: ID!, $v: Int!) { publishTopic(input: { id: $id, expectedVersion: $v, includeLinked: true, overrideReview: \"tested without review\" }) { topic { version } } }", json!({ "id": topic["id"], "v": topic["version"] })).await;
        let version = published["publishTopic"]["topic"]["version"].clone();
        // A stale save is refused and leaves no event.
        let stale = server.error_as(Some(&admin), "mutation($id: ID!) { updateTopic(input: { id: $id, expectedVersion: 1, summary: \"x\" }) { topic { id } } }", json!({ "id": topic["id"] })).await;
        assert_eq!(stale["extensions"]["code"], "CONFLICT");
        // Renaming the published topic affects its old and new address.
        let renamed = server.query_as(&admin, "mutation($id: ID!, $v: Int!) { updateTopic(input: { id: $id, expectedVersion: $v, slug: \"microneedling-therapy\" }) { topic { version } } }", json!({ "id": topic["id"], "v": version })).await;
        let version = renamed["updateTopic"]["topic"]["version"].clone();
        // Editing the condition affects the published topic that links to it.
        let condition_now = server.query_as(&admin, "query($id: ID!) { condition(id: $id, preview: true) { version } }", json!({ "id": condition["id"] })).await["condition"]["version"].clone();
        server.query_as(&admin, "mutation($id: ID!, $v: Int!) { updateCondition(input: { id: $id, expectedVersion: $v, description: \"Pitted scars.\" }) { condition { id } } }", json!({ "id": condition["id"], "v": condition_now })).await;
        server.query_as(&admin, "mutation($id: ID!, $v: Int!) { unpublishTopic(input: { id: $id, expectedVersion: $v }) { topic { id } } }", json!({ "id": topic["id"], "v": version })).await;

        let (events, _) = events_after(&server, &admin, &start).await;
        let expected = vec![
            json!(["condition.created", "acne-scars", null, "DRAFT", []]),
            json!(["topic.created", "microneedling", null, "DRAFT", []]),
            json!(["condition.published", "acne-scars", "DRAFT", "PUBLISHED", ["microneedling"]]),
            json!(["topic.published", "microneedling", "DRAFT", "PUBLISHED", ["microneedling"]]),
            json!(["topic.updated", "microneedling-therapy", "PUBLISHED", "PUBLISHED", ["microneedling", "microneedling-therapy"]]),
            json!(["condition.updated", "acne-scars", "PUBLISHED", "PUBLISHED", ["microneedling-therapy"]]),
            json!(["topic.unpublished", "microneedling-therapy", "PUBLISHED", "DRAFT", ["microneedling-therapy"]]),
        ];
        assert_eq!(Value::from(events.clone()), Value::from(expected.clone()), "{}", Value::from(events.clone()));

        // The feed pages by id; anonymous callers may not read it.
        let (first_two, after_two) = {
            let data = server.query_as(&admin, "query($after: ID) { contentEvents(after: $after, first: 2) { id } }", json!({ "after": start })).await;
            let ids = data["contentEvents"].as_array().cloned().unwrap_or_default();
            (ids.len(), ids.last().map(|e| e["id"].clone()).unwrap_or(Value::Null))
        };
        assert_eq!(first_two, 2);
        let (rest, _) = events_after(&server, &admin, &after_two).await;
        assert_eq!(rest, expected[2..].to_vec());
        let anonymous = server.error_as(None, FEED, json!({})).await;
        assert_eq!(anonymous["extensions"]["code"], "UNAUTHENTICATED");
    }
}

on_both_databases! {
    async fn a_save_without_changes_writes_nothing(backend) {
        // Saving what is already saved answers the current version: no new version, revision
        // or event. A stale version is still a conflict.
        let server = TestServer::on(backend).start().await;
        let admin = server.first_admin().await;
        let topic = server.query_as(&admin, "mutation { createTopic(input: { title: \"Peel\", summary: \"Acids.\", features: [\"quick\"] }) { topic { id version } } }", json!({})).await["createTopic"]["topic"].clone();
        let condition = server.query_as(&admin, "mutation { createCondition(input: { name: \"Melasma\" }) { condition { id version } } }", json!({})).await["createCondition"]["condition"].clone();
        let (_, start) = events_after(&server, &admin, &Value::Null).await;
        let same = server.query_as(&admin, "mutation($id: ID!) { updateTopic(input: { id: $id, expectedVersion: 1, title: \"Peel\", summary: \"Acids.\", features: [\"quick\"], conditions: [] }) { topic { version } } }", json!({ "id": topic["id"] })).await;
        assert_eq!(same["updateTopic"]["topic"]["version"], 1);
        let same = server.query_as(&admin, "mutation($id: ID!) { updateCondition(input: { id: $id, expectedVersion: 1, name: \"Melasma\" }) { condition { version } } }", json!({ "id": condition["id"] })).await;
        assert_eq!(same["updateCondition"]["condition"]["version"], 1);
        let history = server.query_as(&admin, "query($id: ID!) { revisions(documentType: TOPIC, documentId: $id) { edges { node { version } } } }", json!({ "id": topic["id"] })).await;
        assert_eq!(history["revisions"]["edges"].as_array().map(Vec::len), Some(1));
        let (events, _) = events_after(&server, &admin, &start).await;
        assert!(events.is_empty(), "{events:?}");

        let stale = server.error_as(Some(&admin), "mutation($id: ID!) { updateTopic(input: { id: $id, expectedVersion: 7, title: \"Peel\" }) { topic { version } } }", json!({ "id": topic["id"] })).await;
        assert_eq!(stale["extensions"]["code"], "CONFLICT");
        let changed = server.query_as(&admin, "mutation($id: ID!) { updateTopic(input: { id: $id, expectedVersion: 1, title: \"Chemical peel\" }) { topic { version } } }", json!({ "id": topic["id"] })).await;
        assert_eq!(changed["updateTopic"]["topic"]["version"], 2);
        let (events, _) = events_after(&server, &admin, &start).await;
        assert_eq!(events.len(), 1, "{events:?}");
    }
}
