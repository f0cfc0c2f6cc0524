//! `totalCount` of lists without a search or link filter comes from `document_counts`,
//! which triggers keep: it must stay exactly the number of rows through every kind of
//! write, on both databases, on both read paths, and under concurrent status changes.

use dermis_tests::{Session, TestServer, on_both_databases};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const TABLES: [&str; 3] = ["topics", "conditions", "side_effects"];

/// `(status, rows)` pairs, by status.
type ByStatus = Vec<(String, i64)>;

/// A table's counts: its name, counted from its rows, kept in `document_counts`.
type Counts = Vec<(String, ByStatus, ByStatus)>;

/// For each table, `(status, rows)` counted from the rows and from `document_counts`
/// (statuses without rows left out of both).
async fn counted_both_ways(server: &TestServer) -> Counts {
    let db = server.db.connect().await;
    let backend = db.get_database_backend();
    let rows = |sql: String| {
        let db = &db;
        async move {
            db.query_all_raw(Statement::from_string(backend, sql))
                .await
                .expect("query")
                .iter()
                .map(|row| {
                    (
                        row.try_get::<String>("", "status").expect("status"),
                        row.try_get::<i64>("", "n").expect("n"),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let mut out = Vec::new();
    for table in TABLES {
        let real = rows(format!(
            "SELECT status, CAST(COUNT(*) AS BIGINT) AS n FROM {table} GROUP BY status ORDER BY status"
        ))
        .await;
        let kept = rows(format!(
            "SELECT status, CAST(n AS BIGINT) AS n FROM document_counts \
             WHERE table_name = '{table}' AND n <> 0 ORDER BY status"
        ))
        .await;
        out.push((table.to_owned(), real, kept));
    }
    let _ = db.close().await;
    out
}

/// Rows of `table` with `status`, counted from the rows.
fn rows_of(counts: &Counts, table: &str, statuses: &[&str]) -> i64 {
    counts
        .iter()
        .filter(|(t, _, _)| t == table)
        .flat_map(|(_, real, _)| real.iter())
        .filter(|(status, _)| statuses.contains(&status.as_str()))
        .map(|(_, n)| n)
        .sum()
}

/// Asserts the kept counts are the rows' counts, and that every list's `totalCount` (the
/// compiled path's, the general executor's, an editor's with a status filter) says so.
async fn assert_exact(server: &TestServer, editor: &Session, step: &str) {
    let counts = counted_both_ways(server).await;
    for (table, real, kept) in &counts {
        assert_eq!(real, kept, "{step}: document_counts of {table}");
    }
    let published = |table| rows_of(&counts, table, &["PUBLISHED"]);
    // Twice anonymously (the second answer is the compiled path's for the topics list).
    let lists = "{ topics { totalCount } conditions { totalCount } sideEffects { totalCount } }";
    let topics = "{ topics(first: 1) { totalCount edges { cursor } } }";
    for _ in 0..2 {
        let data = server.query(lists, json!({})).await;
        assert_eq!(
            data["topics"]["totalCount"],
            published("topics"),
            "{step}: {data}"
        );
        assert_eq!(
            data["conditions"]["totalCount"],
            published("conditions"),
            "{step}: {data}"
        );
        assert_eq!(
            data["sideEffects"]["totalCount"],
            published("side_effects"),
            "{step}: {data}"
        );
        let data = server.query(topics, json!({})).await;
        assert_eq!(
            data["topics"]["totalCount"],
            published("topics"),
            "{step}: {data}"
        );
    }
    let unpublished = server
        .query_as(
            editor,
            "{ topics(filter: { status: [DRAFT, ARCHIVED] }) { totalCount } \
               all: conditions(filter: { status: [DRAFT, PUBLISHED, ARCHIVED] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        unpublished["topics"]["totalCount"],
        rows_of(&counts, "topics", &["DRAFT", "ARCHIVED"]),
        "{step}: {unpublished}"
    );
    assert_eq!(
        unpublished["all"]["totalCount"],
        rows_of(&counts, "conditions", &["DRAFT", "PUBLISHED", "ARCHIVED"]),
        "{step}: {unpublished}"
    );
}

/// Runs a mutation as `editor` and returns its payload's first field.
async fn mutate(server: &TestServer, editor: &Session, mutation: &str, input: Value) -> Value {
    let data = server
        .query_as(editor, mutation, json!({ "input": input }))
        .await;
    data.as_object()
        .and_then(|o| o.values().next().cloned())
        .unwrap_or_default()
}

const CREATE_TOPIC: &str =
    "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id version } } }";
const CREATE_CONDITION: &str = "mutation($input: CreateConditionInput!) { createCondition(input: $input) { condition { id version } } }";

on_both_databases! {
    async fn totals_stay_exact_through_every_kind_of_write(backend) {
        let server = TestServer::on(backend).sample().env("DERMIS_RESPONSE_CACHE_BYTES", "0").start().await;
        let admin = server.first_admin().await;
        assert_exact(&server, &admin, "sample content").await;

        let topic = mutate(&server, &admin, CREATE_TOPIC, json!({ "title": "Chemical peel" })).await["topic"].clone();
        assert_exact(&server, &admin, "created a draft").await;
        let condition = mutate(&server, &admin, CREATE_CONDITION, json!({ "name": "Melasma" })).await["condition"].clone();
        let linked = mutate(&server, &admin,
            "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version } } }",
            json!({ "id": topic["id"], "expectedVersion": 1, "summary": "Saved.", "conditions": [{ "conditionId": condition["id"] }] })).await;
        assert_exact(&server, &admin, "saved without a status change").await;
        // Publishing with the linked draft condition changes two tables in one transaction.
        let published = mutate(&server, &admin,
            "mutation($input: PublishTopicInput!) { publishTopic(input: $input) { topic { version } } }",
            json!({ "id": topic["id"], "expectedVersion": linked["topic"]["version"], "includeLinked": true, "overrideReview": "tested without review" })).await;
        assert_exact(&server, &admin, "published with its linked condition").await;
        let version = published["topic"]["version"].clone();
        let unpublished = mutate(&server, &admin,
            "mutation($input: DocumentVersionInput!) { unpublishTopic(input: $input) { topic { version } } }",
            json!({ "id": topic["id"], "expectedVersion": version })).await;
        assert_exact(&server, &admin, "unpublished").await;
        let archived = mutate(&server, &admin,
            "mutation($input: DocumentVersionInput!) { archiveTopic(input: $input) { topic { version } } }",
            json!({ "id": topic["id"], "expectedVersion": unpublished["topic"]["version"] })).await;
        assert_exact(&server, &admin, "archived").await;
        mutate(&server, &admin,
            "mutation($input: DocumentVersionInput!) { deleteTopic(input: $input) { deletedId } }",
            json!({ "id": topic["id"], "expectedVersion": archived["topic"]["version"] })).await;
        assert_exact(&server, &admin, "deleted").await;
        let condition = server.query_as(&admin, "query($id: ID!) { condition(id: $id, preview: true) { version } }",
            json!({ "id": condition["id"] })).await["condition"].clone();
        mutate(&server, &admin,
            "mutation($input: DocumentVersionInput!) { unpublishCondition(input: $input) { condition { version } } }",
            json!({ "id": condition_id(&server, &admin, "melasma").await, "expectedVersion": condition["version"] })).await;
        assert_exact(&server, &admin, "condition unpublished").await;
    }
}

/// The id of the condition with `slug`, as an editor sees it.
async fn condition_id(server: &TestServer, editor: &Session, slug: &str) -> Value {
    server
        .query_as(
            editor,
            "query($s: String!) { condition(slug: $s, preview: true) { id } }",
            json!({ "s": slug }),
        )
        .await["condition"]["id"]
        .clone()
}

on_both_databases! {
    async fn concurrent_status_changes_keep_the_totals_and_never_deadlock(backend) {
        let server = TestServer::on(backend).env("DERMIS_RESPONSE_CACHE_BYTES", "0").start().await;
        let admin = server.first_admin().await;
        let mut topics = Vec::new();
        for i in 0..4 {
            topics.push(mutate(&server, &admin, CREATE_TOPIC, json!({ "title": format!("Topic {i}") })).await["topic"].clone());
        }
        // Four editors at once: each publishes and unpublishes its own topic over and over,
        // two of them starting published, so changes cross in both directions.
        let flip = |topic: Value, start_published: bool| {
            let server = &server;
            let admin = &admin;
            async move {
                let mut version = topic["version"].as_i64().unwrap_or(1);
                let mut published = false;
                if start_published {
                    version = mutate(server, admin, "mutation($input: PublishTopicInput!) { publishTopic(input: $input) { topic { version } } }",
                        json!({ "id": topic["id"], "expectedVersion": version, "overrideReview": "tested without review" })).await["topic"]["version"].as_i64().unwrap_or(0);
                    published = true;
                }
                for _ in 0..10 {
                    let (mutation, payload, input) = if published {
                        ("mutation($input: DocumentVersionInput!) { unpublishTopic(input: $input) { topic { version } } }", "unpublishTopic",
                            json!({ "id": topic["id"], "expectedVersion": version }))
                    } else {
                        ("mutation($input: PublishTopicInput!) { publishTopic(input: $input) { topic { version } } }", "publishTopic",
                            json!({ "id": topic["id"], "expectedVersion": version, "overrideReview": "tested without review" }))
                    };
                    let (status, answer) = server.post_as(Some(&admin.access), &json!({ "query": mutation,
                        "variables": { "input": input } })).await;
                    assert_eq!(status, 200, "{answer}");
                    assert!(answer.get("errors").is_none(), "a status change failed: {answer}");
                    version = answer["data"][payload]["topic"]["version"].as_i64().unwrap_or(0);
                    published = !published;
                }
            }
        };
        futures_util::future::join_all(topics.iter().enumerate().map(|(i, t)| flip(t.clone(), i % 2 == 0))).await;
        assert_exact(&server, &admin, "after concurrent status changes").await;
    }
}
