//! `dermis export` / `dermis import`: a round trip SQLite -> PostgreSQL -> SQLite (SQLite
//! -> SQLite -> SQLite without PostgreSQL) keeps every row, and the imported database is
//! fully usable: the same passwords sign in, history is intact, new rows get new ids.

use std::path::Path;
use std::sync::Arc;

use dermis_tests::{
    Backend, PASSWORD, TestDb, TestServer, dermis, on_both_databases, run, without_database,
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

/// Runs `dermis export` on `db` into `path`; returns the parsed document.
async fn export(db: &TestDb, path: &Path) -> Value {
    let mut command = dermis(db.dir.path());
    command
        .args(["export", "--output"])
        .arg(path)
        .env("DERMIS_DATABASE_URL", &db.url);
    let output = run(command).await;
    assert_eq!(output.code, Some(0), "export failed: {output:?}");
    assert!(
        output.stderr.contains("exported 2 users, 2 topics"),
        "{output:?}"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("read export")).expect("JSON")
}

/// Runs `dermis import FILE` on `db`; returns the exit code and the output.
async fn import(db: &TestDb, path: &Path) -> (Option<i32>, String) {
    let mut command = dermis(db.dir.path());
    command
        .arg("import")
        .arg(path)
        .env("DERMIS_DATABASE_URL", &db.url);
    let output = run(command).await;
    (output.code, format!("{}{}", output.stdout, output.stderr))
}

/// The export without the fields that differ from one run to the next.
fn comparable(mut export: Value) -> Value {
    export["exportedAt"] = Value::Null;
    export
}

const HISTORY: &str = "query($id: ID!) { revisions(documentType: TOPIC, documentId: $id) { edges { node { version message author { email } } } } }";

without_database! {
    async fn export_and_import_round_trip_between_databases() {
        // The source: sample content, two users, an edit with history, a draft with links.
        let source = TestServer::sample(Backend::Sqlite).await;
        let admin = source.first_admin().await;
        let editor = source.user(&admin, "editor@example.org", "EDITOR").await;
        let topic = source.query("{ topic(slug: \"microneedling\") { id version } }", json!({})).await["topic"].clone();
        source.query_as(&editor,
            "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version } } }",
            json!({ "input": { "id": topic["id"], "expectedVersion": topic["version"], "summary": "Edited before the move." } }),
        ).await;
        source.query_as(&editor,
            "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id } } }",
            json!({ "input": { "title": "Chemical peel", "summary": "A draft.", "conditions": [{ "conditionId": "1", "note": "Mild cases." }] } }),
        ).await;
        let history = source.query_as(&editor, HISTORY, json!({ "id": topic["id"] })).await;

        let dir = dermis_tests::tempfile::tempdir().expect("temporary folder");
        let first = export(&source.db, &dir.path().join("a.json")).await;
        assert_eq!(first["format"], "dermis-export");
        let users = first["users"].as_array().cloned().unwrap_or_default();
        assert!(users.iter().all(|u| u["passwordHash"].as_str().is_some_and(|h| h.starts_with("$argon2id$"))), "hashes only");
        assert!(!first.to_string().contains(PASSWORD), "never a password");
        assert!(first["revisions"].as_array().is_some_and(|r| r.len() >= 12), "{}", first["revisions"]);
        assert!(!first.to_string().contains("body_html") && !first.to_string().contains("bodyHtml"), "derived HTML stays out of exports");
        let html = source.query("{ topic(slug: \"microneedling\") { bodyHtml } }", json!({})).await["topic"]["bodyHtml"].clone();
        assert!(html.as_str().is_some_and(|h| h.contains("<h2>")), "{html}");

        // Into PostgreSQL when configured (else another SQLite), and back into SQLite.
        let middle_backend = if Backend::Postgres.available() { Backend::Postgres } else { Backend::Sqlite };
        let middle = Arc::new(TestDb::create(middle_backend).await);
        let (code, output) = import(&middle, &dir.path().join("a.json")).await;
        assert_eq!(code, Some(0), "{output}");
        assert!(output.contains("imported 2 users, 2 topics"), "{output}");
        // The import rendered the HTML the export left out.
        let conn = middle.connect().await;
        let unrendered = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM topics WHERE body_html IS NULL",
            ))
            .await
            .expect("count")
            .and_then(|row| row.try_get::<i64>("", "n").ok());
        assert_eq!(unrendered, Some(0));
        drop(conn);
        let second = export(&middle, &dir.path().join("b.json")).await;
        assert_eq!(comparable(second), comparable(first.clone()), "{middle_backend:?} holds exactly what SQLite held");

        let last = TestDb::create(Backend::Sqlite).await;
        let (code, output) = import(&last, &dir.path().join("b.json")).await;
        assert_eq!(code, Some(0), "{output}");
        // The import is in the database file itself, not left in the write-ahead log.
        let file = last.url.trim_start_matches("sqlite://").split('?').next().unwrap_or_default().to_owned();
        let wal = std::fs::metadata(format!("{file}-wal")).map(|m| m.len()).unwrap_or(0);
        assert_eq!(wal, 0, "{file}-wal");
        assert!(std::fs::metadata(&file).is_ok_and(|m| m.len() > 0), "{file}");
        let third = export(&last, &dir.path().join("c.json")).await;
        assert_eq!(comparable(third), comparable(first), "and back");

        // The imported database works: same passwords, same history, new ids after the old.
        let server = TestServer::serve(middle.clone()).await;
        let editor = server.login("editor@example.org", PASSWORD).await;
        assert_eq!(server.query_as(&editor, HISTORY, json!({ "id": topic["id"] })).await, history);
        let data = server.query("{ topic(slug: \"microneedling\") { summary conditions { node { slug } } } }", json!({})).await;
        assert_eq!(data["topic"]["summary"], "Edited before the move.");
        let imported = server.query("{ topic(slug: \"microneedling\") { bodyHtml } }", json!({})).await;
        assert_eq!(imported["topic"]["bodyHtml"], html);
        assert_eq!(data["topic"]["conditions"].as_array().map(Vec::len), Some(8));
        let created = server.query_as(&editor,
            "mutation($input: CreateConditionInput!) { createCondition(input: $input) { condition { id } } }",
            json!({ "input": { "name": "Melasma" } }),
        ).await;
        let id: i64 = created["createCondition"]["condition"]["id"].as_str().and_then(|s| s.parse().ok()).expect("numeric id");
        assert!(id > 8, "ids continue after the imported ones: {id}");

        // Import refuses a database that holds data, and a file that is no export.
        let (code, output) = import(&middle, &dir.path().join("a.json")).await;
        assert_eq!(code, Some(2), "{output}");
        assert!(output.contains("not empty"), "{output}");
        let garbage = dir.path().join("garbage.json");
        std::fs::write(&garbage, r#"{"format":"something else"}"#).expect("write");
        let empty = TestDb::create(Backend::Sqlite).await;
        let (code, output) = import(&empty, &garbage).await;
        assert_eq!(code, Some(2), "{output}");
        assert!(output.contains("not a Dermis export"), "{output}");
    }
}

/// An export of `topics` published topics whose texts come from a small vocabulary, each
/// with one word of its own (`word000001`, ...) in its summary: enough text that FTS5
/// fills its index in several flushes.
fn bulk_export(topics: usize) -> Value {
    const NOW: &str = "2026-11-25T00:00:00Z";
    const VOCABULARY: [&str; 12] = [
        "skin",
        "collagen",
        "dermis",
        "needle",
        "treatment",
        "redness",
        "swelling",
        "acne",
        "scar",
        "texture",
        "tone",
        "repair",
    ];
    // The same pseudo-random words on every run.
    let mut state: u64 = 20_261_202;
    let mut words = |n: usize| {
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                VOCABULARY[(state >> 33) as usize % VOCABULARY.len()]
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let rows: Vec<Value> = (1..=topics)
        .map(|i| {
            json!({
                "id": i, "slug": format!("topic-{i:06}"), "title": format!("Topic {i:06}"),
                "summary": format!("{} word{i:06}.", words(30)),
                "body": format!("## How it works\n\n{}\n\n{}", words(120), words(80)),
                "features": [], "benefits": [], "references": [],
                "reviewed_at": null, "reviewed_by": null, "status": "PUBLISHED",
                "published_at": NOW, "version": 1, "created_at": NOW, "updated_at": NOW,
                "created_by": null, "updated_by": null,
            })
        })
        .collect();
    json!({
        "format": "dermis-export", "formatVersion": 1, "exportedAt": NOW, "dermisVersion": "test",
        "users": [], "conditions": [], "sideEffects": [], "topics": rows,
        "topicConditions": [], "topicSideEffects": [], "revisions": [],
    })
}

on_both_databases! {
    async fn a_bulk_import_leaves_the_search_index_merged(backend) {
        // 1,000 topics: FTS5 fills the index in five flushes, which its own merging leaves
        // as five segments; a prefix search seeks in each (BENCHMARKS.md).
        let db = Arc::new(TestDb::create(backend).await);
        let file = db.dir.path().join("bulk.json");
        std::fs::write(&file, bulk_export(1000).to_string()).expect("write export");
        let (code, output) = import(&db, &file).await;
        assert_eq!(code, Some(0), "{output}");
        assert!(output.contains("imported 0 users, 1000 topics"), "{output}");

        if backend == Backend::Sqlite {
            let conn = db.connect().await;
            for table in ["topics_search", "conditions_search", "side_effects_search"] {
                let segments = conn
                    .query_one_raw(Statement::from_string(
                        conn.get_database_backend(),
                        format!("SELECT COUNT(DISTINCT segid) AS n FROM {table}_idx"),
                    ))
                    .await
                    .expect("count segments")
                    .and_then(|row| row.try_get::<i64>("", "n").ok());
                assert!(segments.is_some_and(|n| n <= 1), "{table}: {segments:?} segments after the import");
            }
            drop(conn);
        }

        // Search reads the merged index: word beginnings, every word, totals.
        let server = TestServer::serve(db.clone()).await;
        let search = "query($q: String) { topics(first: 20, filter: { search: $q }) { totalCount edges { node { slug } } } }";
        let found = server.query(search, json!({ "q": "word00050" })).await;
        assert_eq!(found["topics"]["totalCount"], 10, "{found}");
        let slugs: Vec<&str> = found["topics"]["edges"].as_array().into_iter().flatten()
            .filter_map(|e| e["node"]["slug"].as_str()).collect();
        let expected: Vec<String> = (500..510).map(|i| format!("topic-{i:06}")).collect();
        assert_eq!(slugs, expected);
        let one = server.query(search, json!({ "q": "WORD000777 how" })).await;
        assert_eq!(one["topics"]["edges"][0]["node"]["slug"], "topic-000777", "{one}");
        assert_eq!(one["topics"]["totalCount"], 1, "{one}");
        let none = server.query(search, json!({ "q": "word000777 zzz" })).await;
        assert_eq!(none["topics"]["totalCount"], 0, "{none}");
        let all = server.query(search, json!({ "q": "how" })).await;
        assert_eq!(all["topics"]["totalCount"], 1000, "{all}");
        // The import kept the per-status counts that unfiltered lists read.
        let listed = server.query("{ topics(first: 1) { totalCount } conditions { totalCount } }", json!({})).await;
        assert_eq!(listed, json!({ "topics": { "totalCount": 1000 }, "conditions": { "totalCount": 0 } }));
    }
}
