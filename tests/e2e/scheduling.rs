//! Scheduled publishing through HTTP: a schedule runs once however many nodes share the
//! database, runs at the next start when no node ran at its time, makes the same change
//! (revision and event) as the editor's action, and records a refusal for the editor.

use std::time::Duration;

use dermis_tests::{Session, TestServer, on_both_databases};
use serde_json::{Value, json};

const SCHEDULE_PUBLISH: &str = "mutation($input: ScheduleInput!) { schedulePublish(input: $input) { schedule { id state action at documentTitle } } }";
const SCHEDULE_UNPUBLISH: &str = "mutation($input: ScheduleInput!) { scheduleUnpublish(input: $input) { schedule { id state } } }";
const SCHEDULES: &str = "query($filter: ScheduleFilter) { schedules(filter: $filter) { id state action documentType documentId documentTitle outcomeCode outcome createdBy { email } } }";
const APPROVE: &str =
    "mutation($input: ApproveTopicInput!) { approveTopic(input: $input) { topic { version } } }";

fn in_seconds(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds)).to_rfc3339()
}

/// A new approved draft topic; its id.
async fn approved_topic(server: &TestServer, admin: &Session, title: &str) -> Value {
    let made = server
        .query_as(
            admin,
            "mutation($t: String!) { createTopic(input: { title: $t }) { topic { id } } }",
            json!({ "t": title }),
        )
        .await;
    let id = made["createTopic"]["topic"]["id"].clone();
    server
        .query_as(
            admin,
            APPROVE,
            json!({ "input": { "id": id, "expectedVersion": 1 } }),
        )
        .await;
    id
}

/// Waits until no schedule is pending; the finished ones.
async fn all_finished(server: &TestServer, admin: &Session) -> Vec<Value> {
    loop {
        let pending = server.query_as(admin, SCHEDULES, json!({})).await["schedules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if pending.is_empty() {
            let filter = json!({ "filter": { "state": ["DONE", "FAILED", "CANCELLED"] } });
            return server.query_as(admin, SCHEDULES, filter).await["schedules"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

on_both_databases! {
    async fn a_schedule_runs_once_across_nodes(backend) {
        let a = TestServer::on(backend).start().await;
        let admin = a.first_admin().await;
        let b = a.another_node(&[]).await;
        let c = a.another_node(&[]).await;
        let mut ids = Vec::new();
        for i in 0..12 {
            ids.push(approved_topic(&a, &admin, &format!("Timed {i}")).await);
        }
        let start = a.query_as(&admin, "{ contentEvents(first: 100) { id } }", json!({})).await["contentEvents"].as_array().and_then(|e| e.last()).map(|e| e["id"].clone()).unwrap_or(Value::Null);
        // All due at the same second, planned through different nodes: three nodes race.
        let at = in_seconds(2);
        for (i, id) in ids.iter().enumerate() {
            let node = [&a, &b, &c][i % 3];
            let planned = node.query_as(&admin, SCHEDULE_PUBLISH, json!({ "input": { "documentType": "TOPIC", "id": id, "at": at } })).await;
            assert_eq!(planned["schedulePublish"]["schedule"]["state"], "PENDING", "{planned}");
        }
        let finished = all_finished(&b, &admin).await;
        assert_eq!(finished.len(), 12);
        assert!(finished.iter().all(|s| s["state"] == "DONE"), "{finished:?}");
        // Each topic published once: one event and one revision each.
        let events = a.query_as(&admin, "query($after: ID) { contentEvents(after: $after, first: 100) { type documentId } }", json!({ "after": start })).await;
        let published: Vec<String> = events["contentEvents"].as_array().into_iter().flatten()
            .filter(|e| e["type"] == "topic.published").filter_map(|e| e["documentId"].as_str().map(str::to_owned)).collect();
        let mut sorted = published.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!((published.len(), sorted.len()), (12, 12), "{published:?}");
        for id in &ids {
            let history = c.query_as(&admin, "query($id: ID!) { revisions(documentType: TOPIC, documentId: $id, first: 10) { edges { node { message author { email } } } } }", json!({ "id": id })).await;
            let runs = history["revisions"]["edges"].as_array().into_iter().flatten()
                .filter(|e| e["node"]["message"] == "published on schedule").count();
            assert_eq!(runs, 1, "{history}");
            assert_eq!(history["revisions"]["edges"][0]["node"]["author"]["email"], "admin@example.org");
        }
        // Every node's public answer shows them (caches emptied on each node).
        for node in [&a, &b, &c] {
            let total = node.query("{ topics(first: 1) { totalCount } }", json!({})).await;
            assert_eq!(total["topics"]["totalCount"], 12, "{total}");
        }
    }
}

on_both_databases! {
    async fn a_schedule_missed_while_down_runs_at_start(backend) {
        let mut server = TestServer::on(backend).start().await;
        let admin = server.first_admin().await;
        let id = approved_topic(&server, &admin, "Overnight").await;
        let planned = server.query_as(&admin, SCHEDULE_PUBLISH, json!({ "input": { "documentType": "TOPIC", "id": id, "at": in_seconds(3) } })).await;
        assert_eq!(planned["schedulePublish"]["schedule"]["documentTitle"], "Overnight");
        server.signal("TERM");
        assert_eq!(server.wait_for_exit(Duration::from_secs(120)).await, Ok(Some(0)));
        assert!(server.logs().contains("listening on"));
        // Down past its time.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let restarted = TestServer::serve(server.db.clone()).await;
        let finished = all_finished(&restarted, &admin).await;
        assert_eq!(finished.len(), 1);
        assert_eq!(finished[0]["state"], "DONE", "{finished:?}");
        let public = restarted.query("{ topic(slug: \"overnight\") { status } }", json!({})).await;
        assert_eq!(public["topic"]["status"], "PUBLISHED");
    }
}

on_both_databases! {
    async fn a_refused_schedule_says_why_and_changes_nothing(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let editor = server.user(&admin, "editor@example.org", "EDITOR").await;
        // Not approved: refused at its time, with the reason on the schedule.
        let draft = server.query_as(&editor, "mutation { createTopic(input: { title: \"Unreviewed\" }) { topic { id } } }", json!({})).await["createTopic"]["topic"]["id"].clone();
        server.query_as(&editor, SCHEDULE_PUBLISH, json!({ "input": { "documentType": "TOPIC", "id": draft, "at": in_seconds(1) } })).await;
        // A condition a published topic links to cannot be unpublished.
        let acne = server.query("{ condition(slug: \"acne\") { id } }", json!({})).await["condition"]["id"].clone();
        server.query_as(&editor, SCHEDULE_UNPUBLISH, json!({ "input": { "documentType": "CONDITION", "id": acne, "at": in_seconds(1) } })).await;
        let before = server.query_as(&admin, "{ contentEvents(first: 100) { id } }", json!({})).await["contentEvents"].as_array().map(Vec::len);
        let finished = all_finished(&server, &editor).await;
        let outcome = |kind: &str, id: &Value| finished.iter().find(|s| s["documentType"] == kind && s["documentId"] == *id).cloned().unwrap_or(Value::Null);
        let topic = outcome("TOPIC", &draft);
        assert_eq!((topic["state"].as_str(), topic["outcomeCode"].as_str()), (Some("FAILED"), Some("NOT_APPROVED")), "{topic}");
        assert!(topic["outcome"].as_str().unwrap_or_default().contains("not been approved"), "{topic}");
        assert_eq!(topic["createdBy"]["email"], "editor@example.org");
        let condition = outcome("CONDITION", &acne);
        assert_eq!((condition["state"].as_str(), condition["outcomeCode"].as_str()), (Some("FAILED"), Some("LINKED_FROM_PUBLISHED")), "{condition}");
        let after = server.query_as(&admin, "{ contentEvents(first: 100) { id } }", json!({})).await["contentEvents"].as_array().map(Vec::len);
        assert_eq!(before, after, "a refused schedule leaves no event");
        let status = server.query_as(&editor, "query($id: ID!) { topic(id: $id, preview: true) { status version } }", json!({ "id": draft })).await;
        assert_eq!(status["topic"], json!({ "status": "DRAFT", "version": 1 }));
    }
}

on_both_databases! {
    async fn schedules_are_validated_cancelled_and_go_with_their_document(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let topic = server.query("{ topic(slug: \"microneedling\") { id version } }", json!({})).await["topic"].clone();
        let input = |at: String| json!({ "input": { "documentType": "TOPIC", "id": topic["id"], "at": at } });
        let past = server.error_as(Some(&admin), SCHEDULE_UNPUBLISH, input(in_seconds(-60))).await;
        assert_eq!((past["extensions"]["code"].as_str(), past["extensions"]["field"].as_str()), (Some("BAD_USER_INPUT"), Some("input.at")), "{past}");
        let far = server.error_as(Some(&admin), SCHEDULE_UNPUBLISH, input(in_seconds(4000 * 86_400))).await;
        assert_eq!(far["extensions"]["field"], "input.at", "{far}");
        let missing = server.error_as(Some(&admin), SCHEDULE_UNPUBLISH, json!({ "input": { "documentType": "TOPIC", "id": "4242", "at": in_seconds(60) } })).await;
        assert_eq!(missing["extensions"]["code"], "NOT_FOUND", "{missing}");
        let (_, anonymous) = server.post(&json!({ "query": SCHEDULE_UNPUBLISH, "variables": input(in_seconds(60)) })).await;
        assert_eq!(anonymous["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{anonymous}");

        let first = server.query_as(&admin, SCHEDULE_UNPUBLISH, input(in_seconds(3600))).await["scheduleUnpublish"]["schedule"].clone();
        let twice = server.error_as(Some(&admin), SCHEDULE_UNPUBLISH, input(in_seconds(7200))).await;
        assert_eq!(twice["extensions"]["reason"], "ALREADY_SCHEDULED", "{twice}");
        // Two at once: one of them is refused.
        let (one, other) = (
            json!({ "query": SCHEDULE_PUBLISH, "variables": input(in_seconds(100)) }),
            json!({ "query": SCHEDULE_PUBLISH, "variables": input(in_seconds(200)) }),
        );
        let (x, y) = tokio::join!(server.post_as(Some(&admin.access), &one), server.post_as(Some(&admin.access), &other));
        let refused: Vec<&Value> = [&x.1, &y.1].into_iter().filter(|a| a["errors"].is_array()).collect();
        assert_eq!(refused.len(), 1, "{x:?} {y:?}");
        assert_eq!(refused[0]["errors"][0]["extensions"]["reason"], "ALREADY_SCHEDULED");

        let cancelled = server.query_as(&admin, "mutation($id: ID!) { cancelSchedule(input: { id: $id }) { schedule { state } } }", json!({ "id": first["id"] })).await;
        assert_eq!(cancelled["cancelSchedule"]["schedule"]["state"], "CANCELLED");
        let again = server.error_as(Some(&admin), "mutation($id: ID!) { cancelSchedule(input: { id: $id }) { schedule { state } } }", json!({ "id": first["id"] })).await;
        assert_eq!(again["extensions"]["reason"], "WRONG_STATUS", "{again}");

        // Deleting a document cancels what was planned for it.
        let made = server.query_as(&admin, "mutation { createTopic(input: { title: \"Doomed\" }) { topic { id version } } }", json!({})).await["createTopic"]["topic"].clone();
        server.query_as(&admin, SCHEDULE_PUBLISH, json!({ "input": { "documentType": "TOPIC", "id": made["id"], "at": in_seconds(3600) } })).await;
        server.query_as(&admin, "mutation($input: DocumentVersionInput!) { deleteTopic(input: $input) { deletedId } }", json!({ "input": { "id": made["id"], "expectedVersion": made["version"] } })).await;
        let listed = server.query_as(&admin, SCHEDULES, json!({ "filter": { "state": ["CANCELLED"], "documentType": "TOPIC", "documentId": made["id"] } })).await;
        assert_eq!(listed["schedules"][0]["outcome"], "the document was deleted", "{listed}");
        let pending = server.query_as(&admin, SCHEDULES, json!({})).await["schedules"].as_array().map(Vec::len);
        assert_eq!(pending, Some(1), "the surviving publish schedule");
    }
}
