//! The medical reviewer: a reviewer approves a topic when saving (`markReviewed`); the topic then
//! names them (`reviewedBy`) to everyone, with the account's details for signed-in callers
//! only, and the revision keeps who it was.

use dermis_tests::{TestServer, on_both_databases};
use serde_json::{Value, json};

const PUBLIC: &str =
    "{ topic(slug: \"microneedling\") { reviewedAt reviewedBy { id displayName __typename } } }";

on_both_databases! {
    async fn the_reviewer_is_named_publicly_and_described_to_editors(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let editor = server.user(&admin, "dr.lee@example.org", "REVIEWER").await;
        let before = server.query(PUBLIC, json!({})).await;
        assert_eq!(before["topic"]["reviewedBy"], Value::Null, "never reviewed: {before}");

        let topic = server.query_as(&editor, "{ topic(slug: \"microneedling\") { id version } }", json!({})).await["topic"].clone();
        let saved = server.query_as(&editor,
            "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version reviewedBy { id email } } } }",
            json!({ "input": { "id": topic["id"], "expectedVersion": topic["version"], "markReviewed": true } })).await;
        let reviewer = &saved["updateTopic"]["topic"]["reviewedBy"];
        assert_eq!(reviewer["id"], editor.user_id.as_str(), "{saved}");
        assert_eq!(reviewer["email"], "dr.lee@example.org");

        // The public sees the name (and the cached page before the review is gone).
        let after = server.query(PUBLIC, json!({})).await;
        assert!(after["topic"]["reviewedAt"].is_string(), "{after}");
        assert_eq!(after["topic"]["reviewedBy"], json!({ "id": editor.user_id, "displayName": "dr.lee@example.org", "__typename": "User" }));

        // Not the account's details.
        let (_, answer) = server.post(&json!({ "query": "{ topic(slug: \"microneedling\") { title reviewedBy { displayName email } } }" })).await;
        assert_eq!(answer["data"]["topic"]["title"], "Microneedling", "{answer}");
        assert_eq!(answer["data"]["topic"]["reviewedBy"], Value::Null, "{answer}");
        assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{answer}");
        assert_eq!(answer["errors"][0]["path"], json!(["topic", "reviewedBy"]), "{answer}");
        let (_, answer) = server.post(&json!({ "query": "{ topic(slug: \"microneedling\") { reviewedBy { ... on User { role } } } }" })).await;
        assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "a fragment too: {answer}");

        // The revision keeps who reviewed, in API names.
        let history = server.query_as(&admin,
            "query($id: ID!) { revisions(documentType: TOPIC, documentId: $id, first: 1) { edges { node { author { id } snapshot } } } }",
            json!({ "id": topic["id"] })).await;
        let node = &history["revisions"]["edges"][0]["node"];
        assert_eq!(node["author"]["id"], editor.user_id.as_str());
        assert_eq!(node["snapshot"]["topic"]["reviewedBy"].to_string(), editor.user_id, "{node}");

        // A renamed reviewer is renamed on the public page at once.
        server.query_as(&admin, "mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { displayName } } }",
            json!({ "input": { "id": editor.user_id, "displayName": "Dr. Lee" } })).await;
        let renamed = server.query(PUBLIC, json!({})).await;
        assert_eq!(renamed["topic"]["reviewedBy"]["displayName"], "Dr. Lee", "{renamed}");
    }
}
