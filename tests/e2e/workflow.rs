//! The medical review through HTTP: who may do which step, the states a topic goes
//! through (`DRAFT -> IN_REVIEW -> APPROVED -> PUBLISHED`), what a save does to an
//! approval, the admin's recorded override, and the review queue.

use dermis_tests::{Session, TestServer, on_both_databases};
use serde_json::{Value, json};

const TOPIC: &str = "query($id: ID!) { topic(id: $id, preview: true) { version status approved reviewedAt reviewDueAt reviewNote reviewedBy { email } } }";
const SUBMIT: &str = "mutation($input: DocumentVersionInput!) { submitTopicForReview(input: $input) { topic { version status } } }";
const APPROVE: &str = "mutation($input: ApproveTopicInput!) { approveTopic(input: $input) { topic { version status approved reviewDueAt reviewNote reviewedBy { email } } } }";
const CHANGES: &str = "mutation($input: RequestTopicChangesInput!) { requestTopicChanges(input: $input) { topic { version status reviewNote } } }";
const UPDATE: &str = "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version status approved } } }";
const PUBLISH: &str = "mutation($input: PublishTopicInput!) { publishTopic(input: $input) { topic { version status } } }";
const UNPUBLISH: &str = "mutation($input: DocumentVersionInput!) { unpublishTopic(input: $input) { topic { version status } } }";
const QUEUE: &str =
    "{ reviewQueue { waiting { totalCount topics { slug } } approved { totalCount topics { slug } }
    overdue { totalCount topics { slug } } unapprovedPublished { totalCount topics { slug } } } }";

fn code(error: &Value) -> (&str, &str) {
    (
        error["extensions"]["code"].as_str().unwrap_or_default(),
        error["extensions"]["reason"].as_str().unwrap_or_default(),
    )
}

async fn state(server: &TestServer, who: &Session, id: &Value) -> Value {
    server.query_as(who, TOPIC, json!({ "id": id })).await["topic"].clone()
}

fn slugs(part: &Value) -> Vec<String> {
    part["topics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["slug"].as_str().map(str::to_owned))
        .collect()
}

on_both_databases! {
    async fn a_topic_goes_through_review_before_the_public_sees_it(backend) {
        let server = TestServer::on(backend).start().await;
        let admin = server.first_admin().await;
        let editor = server.user(&admin, "editor@example.org", "EDITOR").await;
        let reviewer = server.user(&admin, "dr.lee@example.org", "REVIEWER").await;
        let created = server.query_as(&editor, "mutation { createTopic(input: { title: \"Chemical Peel\", summary: \"Acid on skin.\" }) { topic { id version status approved } } }", json!({})).await["createTopic"]["topic"].clone();
        let id = created["id"].clone();
        assert_eq!((created["status"].as_str(), created["approved"].as_bool()), (Some("DRAFT"), Some(false)));

        // An editor can neither publish nor approve unreviewed content, nor override.
        let refused = server.error_as(Some(&editor), PUBLISH, json!({ "input": { "id": id, "expectedVersion": 1 } })).await;
        assert_eq!(code(&refused), ("CONFLICT", "NOT_APPROVED"), "{refused}");
        assert_eq!(refused["extensions"]["documents"][0]["status"], "DRAFT", "{refused}");
        let refused = server.error_as(Some(&editor), APPROVE, json!({ "input": { "id": id, "expectedVersion": 1 } })).await;
        assert_eq!(code(&refused).0, "FORBIDDEN", "{refused}");
        let refused = server.error_as(Some(&editor), UPDATE, json!({ "input": { "id": id, "expectedVersion": 1, "title": "Peel", "markReviewed": true } })).await;
        assert_eq!(code(&refused).0, "FORBIDDEN", "{refused}");
        let refused = server.error_as(Some(&editor), PUBLISH, json!({ "input": { "id": id, "expectedVersion": 1, "overrideReview": "I am sure" } })).await;
        assert_eq!(code(&refused).0, "FORBIDDEN", "{refused}");
        // An API token cannot approve either: an approval is a person's.
        let token = server.query_as(&admin, "mutation { createApiToken(input: { name: \"CI\", scopes: [CONTENT_WRITE] }) { secret } }", json!({})).await["createApiToken"]["secret"].as_str().unwrap_or_default().to_owned();
        let (_, answer) = server.post_as(Some(&token), &json!({ "query": APPROVE, "variables": { "input": { "id": id, "expectedVersion": 1 } } })).await;
        assert_eq!(code(&answer["errors"][0]).0, "FORBIDDEN", "{answer}");
        let now = state(&server, &editor, &id).await;
        assert_eq!((now["version"].as_i64(), now["status"].as_str()), (Some(1), Some("DRAFT")), "nothing written: {now}");

        // Submitted; submitting twice is refused.
        let submitted = server.query_as(&editor, SUBMIT, json!({ "input": { "id": id, "expectedVersion": 1 } })).await;
        assert_eq!(submitted["submitTopicForReview"]["topic"], json!({ "version": 2, "status": "IN_REVIEW" }));
        let refused = server.error_as(Some(&editor), SUBMIT, json!({ "input": { "id": id, "expectedVersion": 2 } })).await;
        assert_eq!(code(&refused), ("CONFLICT", "WRONG_STATUS"), "{refused}");
        let queue = server.query_as(&reviewer, QUEUE, json!({})).await["reviewQueue"].clone();
        assert_eq!(slugs(&queue["waiting"]), ["chemical-peel"], "{queue}");

        // Sent back with a note; an empty note is refused.
        let refused = server.error_as(Some(&reviewer), CHANGES, json!({ "input": { "id": id, "expectedVersion": 2, "note": "  " } })).await;
        assert_eq!((code(&refused).0, refused["extensions"]["field"].as_str()), ("BAD_USER_INPUT", Some("input.note")), "{refused}");
        let sent_back = server.query_as(&reviewer, CHANGES, json!({ "input": { "id": id, "expectedVersion": 2, "note": "Cite a source for the downtime." } })).await;
        assert_eq!(sent_back["requestTopicChanges"]["topic"], json!({ "version": 3, "status": "DRAFT", "reviewNote": "Cite a source for the downtime." }));

        // Fixed, submitted again, approved with a note: due in a year by default.
        server.query_as(&editor, UPDATE, json!({ "input": { "id": id, "expectedVersion": 3, "references": [{ "title": "Peel review, 2024" }] } })).await;
        server.query_as(&editor, SUBMIT, json!({ "input": { "id": id, "expectedVersion": 4 } })).await;
        let approved = server.query_as(&reviewer, APPROVE, json!({ "input": { "id": id, "expectedVersion": 5, "note": "Accurate." } })).await["approveTopic"]["topic"].clone();
        assert_eq!((approved["status"].as_str(), approved["approved"].as_bool()), (Some("APPROVED"), Some(true)), "{approved}");
        assert_eq!(approved["reviewedBy"]["email"], "dr.lee@example.org");
        assert_eq!(approved["reviewNote"], "Accurate.");
        let due = chrono::DateTime::parse_from_rfc3339(approved["reviewDueAt"].as_str().unwrap_or_default()).expect("reviewDueAt");
        let days = (due.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
        assert!((364..=365).contains(&days), "due in {days} days");

        // A save that changes nothing keeps the approval; a real change withdraws it.
        let same = server.query_as(&editor, UPDATE, json!({ "input": { "id": id, "expectedVersion": 6, "title": "Chemical Peel" } })).await;
        assert_eq!(same["updateTopic"]["topic"], json!({ "version": 6, "status": "APPROVED", "approved": true }));
        let changed = server.query_as(&editor, UPDATE, json!({ "input": { "id": id, "expectedVersion": 6, "summary": "An acid removes the outer layer." } })).await;
        assert_eq!(changed["updateTopic"]["topic"], json!({ "version": 7, "status": "DRAFT", "approved": false }));
        // A reviewer approves straight from draft (no submission needed) and the editor publishes.
        server.query_as(&reviewer, APPROVE, json!({ "input": { "id": id, "expectedVersion": 7 } })).await;
        let published = server.query_as(&editor, PUBLISH, json!({ "input": { "id": id, "expectedVersion": 8 } })).await;
        assert_eq!(published["publishTopic"]["topic"], json!({ "version": 9, "status": "PUBLISHED" }));
        let public = server.query("{ topic(slug: \"chemical-peel\") { summary approved reviewedBy { displayName } } }", json!({})).await;
        assert_eq!(public["topic"], json!({ "summary": "An acid removes the outer layer.", "approved": true, "reviewedBy": { "displayName": "dr.lee@example.org" } }));
        // The note is for editors only.
        let (_, answer) = server.post(&json!({ "query": "{ topic(slug: \"chemical-peel\") { reviewNote } }" })).await;
        assert_eq!(code(&answer["errors"][0]).0, "UNAUTHENTICATED", "{answer}");

        // A published topic edited stays published, listed as changed since its review,
        // until a reviewer approves it again.
        server.query_as(&editor, UPDATE, json!({ "input": { "id": id, "expectedVersion": 9, "summary": "An acid peels the outer layer." } })).await;
        let now = state(&server, &editor, &id).await;
        assert_eq!((now["status"].as_str(), now["approved"].as_bool()), (Some("PUBLISHED"), Some(false)), "{now}");
        let queue = server.query_as(&editor, QUEUE, json!({})).await["reviewQueue"].clone();
        assert_eq!(slugs(&queue["unapprovedPublished"]), ["chemical-peel"], "{queue}");
        let again = server.query_as(&reviewer, APPROVE, json!({ "input": { "id": id, "expectedVersion": 10 } })).await;
        assert_eq!(again["approveTopic"]["topic"]["status"], "PUBLISHED");
        // Unpublished unchanged, it is still approved: back to APPROVED, not DRAFT.
        let unpublished = server.query_as(&editor, UNPUBLISH, json!({ "input": { "id": id, "expectedVersion": 11 } })).await;
        assert_eq!(unpublished["unpublishTopic"]["topic"], json!({ "version": 12, "status": "APPROVED" }));
        let queue = server.query_as(&editor, QUEUE, json!({})).await["reviewQueue"].clone();
        assert_eq!((slugs(&queue["approved"]), queue["unapprovedPublished"]["totalCount"].as_i64()), (vec!["chemical-peel".to_owned()], Some(0)), "{queue}");

        // The history says who did each step.
        let history = server.query_as(&admin, "query($id: ID!) { revisions(documentType: TOPIC, documentId: $id, first: 20) { edges { node { version message author { email } } } } }", json!({ "id": id })).await;
        let messages: Vec<String> = history["revisions"]["edges"].as_array().into_iter().flatten()
            .map(|e| format!("{} {}", e["node"]["message"].as_str().unwrap_or("saved"), e["node"]["author"]["email"].as_str().unwrap_or_default())).collect();
        assert!(messages.contains(&"approved: Accurate. dr.lee@example.org".to_owned()), "{messages:?}");
        assert!(messages.contains(&"changes requested: Cite a source for the downtime. dr.lee@example.org".to_owned()), "{messages:?}");
        assert!(messages.contains(&"submitted for review editor@example.org".to_owned()), "{messages:?}");
        // Each step is an event: topic.reviewed with the statuses it moved between.
        let events = server.query_as(&admin, "{ contentEvents(first: 100) { type oldStatus newStatus } }", json!({})).await;
        let reviewed: Vec<(String, String)> = events["contentEvents"].as_array().into_iter().flatten()
            .filter(|e| e["type"] == "topic.reviewed")
            .map(|e| (e["oldStatus"].as_str().unwrap_or_default().to_owned(), e["newStatus"].as_str().unwrap_or_default().to_owned())).collect();
        let pairs: Vec<(&str, &str)> = reviewed.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(pairs, [("DRAFT", "IN_REVIEW"), ("IN_REVIEW", "DRAFT"), ("DRAFT", "IN_REVIEW"), ("IN_REVIEW", "APPROVED"), ("DRAFT", "APPROVED"), ("PUBLISHED", "PUBLISHED")]);
    }
}

on_both_databases! {
    async fn an_admin_override_is_recorded_and_reviewers_do_not_manage_users(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let reviewer = server.user(&admin, "dr.lee@example.org", "REVIEWER").await;
        // The sample content is published but was never approved here.
        let topic = server.query_as(&admin, "{ topic(slug: \"microneedling\") { id version approved } }", json!({})).await["topic"].clone();
        assert_eq!(topic["approved"], false);
        let down = server.query_as(&admin, UNPUBLISH, json!({ "input": { "id": topic["id"], "expectedVersion": topic["version"] } })).await["unpublishTopic"]["topic"].clone();
        assert_eq!(down["status"], "DRAFT");
        let refused = server.error_as(Some(&admin), PUBLISH, json!({ "input": { "id": topic["id"], "expectedVersion": down["version"] } })).await;
        assert_eq!(code(&refused), ("CONFLICT", "NOT_APPROVED"), "{refused}");
        let refused = server.error_as(Some(&admin), PUBLISH, json!({ "input": { "id": topic["id"], "expectedVersion": down["version"], "overrideReview": " " } })).await;
        assert_eq!(refused["extensions"]["field"], "input.overrideReview", "{refused}");
        let up = server.query_as(&admin, PUBLISH, json!({ "input": { "id": topic["id"], "expectedVersion": down["version"], "overrideReview": "Safety correction, review booked" } })).await;
        assert_eq!(up["publishTopic"]["topic"]["status"], "PUBLISHED");
        let history = server.query_as(&admin, "query($id: ID!) { revisions(documentType: TOPIC, documentId: $id, first: 1) { edges { node { message author { email } } } } }", json!({ "id": topic["id"] })).await;
        assert_eq!(history["revisions"]["edges"][0]["node"], json!({ "message": "published without review (admin override): Safety correction, review booked", "author": { "email": "admin@example.org" } }));

        // A reviewer approves but does not manage users.
        let (_, answer) = server.post_as(Some(&reviewer.access), &json!({ "query": "mutation { createUser(input: { email: \"x@example.org\", displayName: \"X\", role: EDITOR, password: \"correct horse battery\" }) { user { id } } }" })).await;
        assert_eq!(code(&answer["errors"][0]).0, "FORBIDDEN", "{answer}");
        let me = server.query_as(&reviewer, "{ me { role } }", json!({})).await;
        assert_eq!(me["me"]["role"], "REVIEWER");
        // Archived content is not approved; nor is a stale version.
        let refused = server.error_as(Some(&reviewer), APPROVE, json!({ "input": { "id": topic["id"], "expectedVersion": 1 } })).await;
        assert_eq!(code(&refused), ("CONFLICT", "STALE_VERSION"), "{refused}");
        let refused = server.error_as(Some(&reviewer), APPROVE, json!({ "input": { "id": topic["id"], "expectedVersion": up["publishTopic"]["topic"]["version"], "reviewDueAt": "2001-01-01T00:00:00Z" } })).await;
        assert_eq!(refused["extensions"]["field"], "input.reviewDueAt", "{refused}");
    }
}

on_both_databases! {
    async fn the_queue_lists_what_waits_and_what_is_overdue(backend) {
        let server = TestServer::on(backend).start().await;
        let admin = server.first_admin().await;
        let reviewer = server.user(&admin, "dr.lee@example.org", "REVIEWER").await;
        let mut ids = Vec::new();
        for title in ["Alpha", "Beta", "Gamma"] {
            let made = server.query_as(&admin, "mutation($t: String!) { createTopic(input: { title: $t }) { topic { id } } }", json!({ "t": title })).await;
            ids.push(made["createTopic"]["topic"]["id"].clone());
        }
        server.query_as(&admin, SUBMIT, json!({ "input": { "id": ids[0], "expectedVersion": 1 } })).await;
        server.query_as(&admin, SUBMIT, json!({ "input": { "id": ids[1], "expectedVersion": 1 } })).await;
        // Gamma's next review falls due in a second.
        let due = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
        server.query_as(&reviewer, APPROVE, json!({ "input": { "id": ids[2], "expectedVersion": 1, "reviewDueAt": due } })).await;
        let queue = loop {
            let queue = server.query_as(&reviewer, QUEUE, json!({})).await["reviewQueue"].clone();
            if queue["overdue"]["totalCount"] == 1 {
                break queue;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        assert_eq!(slugs(&queue["waiting"]), ["alpha", "beta"], "{queue}");
        assert_eq!(queue["waiting"]["totalCount"], 2);
        assert_eq!(slugs(&queue["approved"]), ["gamma"]);
        assert_eq!(slugs(&queue["overdue"]), ["gamma"]);
        // Anonymous callers do not see the queue.
        let (_, answer) = server.post(&json!({ "query": QUEUE })).await;
        assert_eq!(code(&answer["errors"][0]).0, "UNAUTHENTICATED", "{answer}");
    }
}
