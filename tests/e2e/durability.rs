//! Durability: `kill -9` in the middle of a stream of saves. After a restart the database
//! passes its integrity checks, every acknowledged save is there with its revision, and
//! nothing half-written is visible (every document's row agrees with its revision).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dermis_tests::{Backend, Session, TestServer, on_both_databases};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

const UPDATE: &str = "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version summary } } }";
const CREATE: &str = "mutation($input: CreateConditionInput!) { createCondition(input: $input) { condition { id version } } }";

/// What the server acknowledged: topic versions with their summaries, created conditions.
#[derive(Default)]
struct Acknowledged {
    topic_versions: Vec<(i64, String)>,
    conditions: Vec<(String, String)>,
}

/// Sends a mutation as `editor`; `None` once the server no longer answers.
async fn send(server: &TestServer, editor: &Session, body: Value) -> Option<Value> {
    let response = server
        .client
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .bearer_auth(&editor.access)
        .body(body.to_string())
        .send()
        .await
        .ok()?;
    response.json::<Value>().await.ok()
}

/// Saves the topic over and over until the server stops answering.
async fn save_topic(
    server: Arc<TestServer>,
    editor: Session,
    id: Value,
    acked: Arc<Mutex<Acknowledged>>,
) {
    let mut version = 1;
    for i in 0.. {
        let summary = format!("Summary save {i}.");
        let body = json!({ "query": UPDATE, "variables": { "input": { "id": id, "expectedVersion": version, "summary": summary } } });
        let Some(answer) = send(&server, &editor, body).await else {
            return;
        };
        let Some(new_version) = answer["data"]["updateTopic"]["topic"]["version"].as_i64() else {
            panic!("a save failed while the server was up: {answer}");
        };
        version = new_version;
        if let Ok(mut acked) = acked.lock() {
            acked.topic_versions.push((new_version, summary));
        }
    }
}

/// Creates conditions until the server stops answering.
async fn create_conditions(
    server: Arc<TestServer>,
    editor: Session,
    acked: Arc<Mutex<Acknowledged>>,
) {
    for i in 0.. {
        let name = format!("Durable condition {i}");
        let body = json!({ "query": CREATE, "variables": { "input": { "name": name, "description": "x".repeat(2000) } } });
        let Some(answer) = send(&server, &editor, body).await else {
            return;
        };
        let Some(id) = answer["data"]["createCondition"]["condition"]["id"].as_str() else {
            panic!("a create failed while the server was up: {answer}");
        };
        if let Ok(mut acked) = acked.lock() {
            acked.conditions.push((id.to_owned(), name));
        }
    }
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query")
        .expect("one row");
    row.try_get_by_index::<i64>(0).expect("a number")
}

async fn text(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .expect("query")
    .iter()
    .map(|row| row.try_get_by_index::<String>(0).unwrap_or_default())
    .collect()
}

on_both_databases! {
    async fn kill_9_during_saves_loses_nothing_acknowledged(backend) {
        let server = Arc::new(TestServer::sample(backend).await);
        let admin = server.first_admin().await;
        let editor = server.user(&admin, "editor@example.org", "EDITOR").await;
        let id = server.query("{ topic(slug: \"microneedling\") { id } }", json!({})).await["topic"]["id"].clone();
        let acked = Arc::new(Mutex::new(Acknowledged::default()));
        let writers = [
            tokio::spawn(save_topic(server.clone(), editor.clone(), id.clone(), acked.clone())),
            tokio::spawn(create_conditions(server.clone(), editor.clone(), acked.clone())),
        ];
        // Kill once both have been acknowledged a few times (the topic more often than one
        // page of its history holds): mid-stream, requests in flight.
        // A writer that stopped early (a failed save panics it) fails the test, not hangs it.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let enough = acked.lock().map(|a| a.topic_versions.len() > 120 && a.conditions.len() >= 15).unwrap_or(true);
            if enough {
                break;
            }
            assert!(writers.iter().all(|w| !w.is_finished()), "a writer stopped while the server was up");
            assert!(std::time::Instant::now() < deadline, "too few saves acknowledged in 60 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }

        server.signal("KILL");
        for writer in writers {
            writer.await.expect("writer");
        }
        let acked = std::mem::take(&mut *acked.lock().expect("lock"));

        // Integrity of the files themselves (SQLite) before the server touches them again.
        let db = server.db.connect().await;
        if backend == Backend::Sqlite {
            assert_eq!(text(&db, "PRAGMA integrity_check").await, vec!["ok".to_owned()]);
            assert!(text(&db, "PRAGMA foreign_key_check").await.is_empty(), "dangling references");
        }
        // Nothing half-written: every document's current version has its revision.
        for (table, kind) in [("topics", "topic"), ("conditions", "condition"), ("side_effects", "side_effect")] {
            let orphans = scalar(&db, &format!(
                "SELECT COUNT(*) FROM {table} d WHERE NOT EXISTS (SELECT 1 FROM revisions r \
                 WHERE r.entity_type = '{kind}' AND r.entity_id = d.id AND r.version = d.version)"
            )).await;
            assert_eq!(orphans, 0, "{table} rows without the revision of their version");
        }
        let links = scalar(&db, "SELECT COUNT(*) FROM topic_conditions l WHERE NOT EXISTS (SELECT 1 FROM conditions c WHERE c.id = l.condition_id)").await;
        assert_eq!(links, 0, "links to missing conditions");
        let _ = db.close().await;

        // After a restart, every acknowledged save is there with its revision.
        let restarted = TestServer::serve(server.db.clone()).await;
        let editor = restarted.login("editor@example.org", dermis_tests::PASSWORD).await;
        // The whole history, page by page: a fast machine acknowledges more than one page
        // (100) of saves before the kill.
        let mut snapshots: Vec<(i64, String)> = Vec::new();
        let mut after = Value::Null;
        loop {
            let history = restarted.query_as(&editor,
                "query($id: ID!, $after: String) { revisions(documentType: TOPIC, documentId: $id, first: 100, after: $after) { edges { node { version snapshot } } pageInfo { hasNextPage endCursor } } }",
                json!({ "id": id, "after": after }),
            ).await;
            snapshots.extend(history["revisions"]["edges"].as_array().into_iter().flatten()
                .map(|e| (e["node"]["version"].as_i64().unwrap_or(0), e["node"]["snapshot"]["topic"]["summary"].as_str().unwrap_or_default().to_owned())));
            let page_info = &history["revisions"]["pageInfo"];
            if page_info["hasNextPage"] != json!(true) {
                break;
            }
            assert!(page_info["endCursor"].is_string(), "a next page without a cursor: {page_info}");
            after = page_info["endCursor"].clone();
        }
        for (version, summary) in &acked.topic_versions {
            assert!(snapshots.contains(&(*version, summary.clone())), "acknowledged version {version} lost: {snapshots:?}");
        }
        let last = acked.topic_versions.last().map_or(1, |(v, _)| *v);
        let topic = restarted.query_as(&editor,
            "query($id: ID!) { topic(id: $id, preview: true) { version summary } }", json!({ "id": id })).await["topic"].clone();
        let current = topic["version"].as_i64().unwrap_or(0);
        assert!(current == last || current == last + 1, "at most the one unacknowledged save landed: {current} vs {last}");
        assert!(snapshots.contains(&(current, topic["summary"].as_str().unwrap_or_default().to_owned())));
        for (id, name) in &acked.conditions {
            let condition = restarted.query_as(&editor,
                "query($id: ID!) { condition(id: $id, preview: true) { name version } }", json!({ "id": id })).await;
            assert_eq!(condition["condition"]["name"], name.as_str(), "acknowledged condition {name} lost");
        }
        // And the server writes on normally.
        restarted.query_as(&editor, UPDATE, json!({ "input": { "id": id, "expectedVersion": current, "summary": "After the crash." } })).await;
    }
}
