//! While the database cannot be reached, requests are told so: HTTP 503 with
//! `DATABASE_UNAVAILABLE` and `Retry-After`, never 401 or `INTERNAL_SERVER_ERROR`; anonymous
//! readers keep getting the last cached answers, marked `Dermis-Stale`; `/readyz` says 503
//! at once while `/healthz` stays 200; and once the database is back, the save the editor
//! retries lands and every node serves it. PostgreSQL: the test's database refuses
//! connections and its backends are terminated. SQLite: another process holds the write
//! lock past the busy timeout (a lock held by a backup or an import).

use dermis_tests::{Backend, Session, TestServer, on_both_databases};
use reqwest::Response;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PAGE: &str = "query Page($slug: String!) { topic(slug: $slug) { title version } }";
const RENAME: &str = "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { title version } } }";

async fn send(server: &TestServer, token: Option<&str>, body: &Value) -> Response {
    server.post_response(token, body).await
}

/// Asserts the answer is the outage refusal; returns its body.
async fn assert_outage(response: Response, what: &str) -> Value {
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let www = response.headers().get("www-authenticate").is_some();
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(status, 503, "{what}: {body}");
    assert!(
        retry.as_deref().is_some_and(|r| r.parse::<u64>().is_ok()),
        "{what}: Retry-After {retry:?}"
    );
    assert!(!www, "{what}: not an authentication failure");
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["extensions"]["code"].as_str())
        .collect();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| *c == "DATABASE_UNAVAILABLE"),
        "{what}: {body}"
    );
    body
}

fn page(slug: &str) -> Value {
    json!({ "query": PAGE, "variables": { "slug": slug } })
}

fn rename(id: &Value, version: &Value, title: &str) -> Value {
    json!({ "query": RENAME, "variables": { "input": { "id": id, "expectedVersion": version, "title": title } } })
}

async fn status_of(server: &TestServer, path: &str) -> u16 {
    server
        .client
        .get(server.url(path))
        .send()
        .await
        .expect("GET")
        .status()
        .as_u16()
}

on_both_databases! {
    async fn an_unreachable_database_is_reported_as_an_outage_and_loses_no_save(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let topic = server.query_as(&admin, "{ topic(slug: \"microneedling\") { id version title } }", json!({})).await["topic"].clone();
        // A reader's page, cached on this node.
        let (status, before) = server.post(&page("microneedling")).await;
        assert_eq!(status, 200, "{before}");

        match backend {
            Backend::Postgres => {
                let other = server.another_node(&[]).await;
                server.db.refuse_connections().await;
                let started = Instant::now();
                assert_eq!(status_of(&server, "/readyz").await, 503);
                assert!(started.elapsed() < Duration::from_secs(3), "readyz took {:?}", started.elapsed());
                assert_eq!(status_of(&server, "/healthz").await, 200);

                // The editor's save, an editor's read, an uncached read: 503, never 401.
                assert_outage(send(&server, Some(&admin.access), &rename(&topic["id"], &topic["version"], "Renamed during the outage")).await, "save").await;
                assert_outage(send(&server, Some(&admin.access), &json!({ "query": "{ me { email } }" })).await, "me").await;
                assert_outage(send(&other, None, &page("microneedling")).await, "uncached read").await;
                // Signing in is refused the same way (the admin UI keeps the form).
                let login = json!({ "query": "mutation { login(input: { email: \"admin@example.org\", password: \"x\" }) { accessToken } }" });
                assert_outage(send(&server, None, &login).await, "login").await;

                // The cached page is still served, marked stale.
                let response = send(&server, None, &page("microneedling")).await;
                assert_eq!(response.status().as_u16(), 200);
                assert_eq!(response.headers().get("dermis-stale").and_then(|v| v.to_str().ok()), Some("database-unavailable"));
                assert_eq!(response.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
                let stale: Value = response.json().await.expect("JSON");
                assert_eq!(stale, before);

                server.db.accept_connections().await;
                // The editor retries (as the admin UI does) until the save lands.
                let saved = retry_until_saved(&server, &admin, &topic).await;
                assert_eq!(saved["title"], "Renamed during the outage");
                for node in [&server, &other] {
                    wait_for_title(node, "Renamed during the outage").await;
                    assert_eq!(status_of(node, "/readyz").await, 200);
                }
            }
            Backend::Sqlite => {
                // A backup or import holds the write lock past the busy timeout: the save is
                // refused as an outage, reads go on; once released, the retried save lands.
                let db = server.db.connect().await;
                use sea_orm::{ConnectionTrait, TransactionTrait};
                let lock = db
                    .begin_with_options(sea_orm::TransactionOptions {
                        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await
                    .expect("write lock");
                lock.execute_unprepared("UPDATE settings SET updated_at = updated_at").await.expect("hold the lock");
                assert_outage(send(&server, Some(&admin.access), &rename(&topic["id"], &topic["version"], "Renamed during the outage")).await, "save").await;
                let (status, read) = server.post_as(Some(&admin.access), &page("microneedling")).await;
                assert_eq!((status, &read["data"]["topic"]["title"]), (200, &topic["title"]), "reads go on: {read}");
                lock.rollback().await.expect("release");
                let saved = retry_until_saved(&server, &admin, &topic).await;
                assert_eq!(saved["title"], "Renamed during the outage");
                wait_for_title(&server, "Renamed during the outage").await;
            }
        }
        assert!(!server.logs().contains("panicked"));
    }
}

/// Retries the rename, as the admin UI does, while the answer is `DATABASE_UNAVAILABLE`.
async fn retry_until_saved(server: &TestServer, admin: &Session, topic: &Value) -> Value {
    loop {
        let response = send(
            server,
            Some(&admin.access),
            &rename(&topic["id"], &topic["version"], "Renamed during the outage"),
        )
        .await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON");
        if status == 503 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        return body["data"]["updateTopic"]["topic"].clone();
    }
}

/// Waits until `node` serves the topic's new title to anonymous readers.
async fn wait_for_title(node: &TestServer, title: &str) {
    loop {
        let (status, body) = node.post(&page("microneedling")).await;
        if status == 200 && body["data"]["topic"]["title"] == title {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_databases! {
    async fn a_full_pool_refuses_within_the_acquire_timeout(backend) {
        // One pooled connection (on PostgreSQL two, one of them the listener's), taken by a
        // save that waits on a lock another process holds: a read that needs a connection
        // is refused as an outage after the acquire timeout, while the save still waits,
        // and the save lands once the lock goes.
        let server = TestServer::on(backend)
            .sample()
            .env("DERMIS_DB_MAX_CONNECTIONS", match backend { Backend::Postgres => "2", Backend::Sqlite => "1" })
            .env("DERMIS_DB_ACQUIRE_TIMEOUT_MS", "300")
            .start()
            .await;
        let admin = server.first_admin().await;
        let topic = server.query_as(&admin, "{ topic(slug: \"microneedling\") { id version } }", json!({})).await["topic"].clone();
        let db = server.db.connect().await;
        use sea_orm::{ConnectionTrait, TransactionTrait};
        let lock = match backend {
            Backend::Postgres => {
                let txn = db.begin().await.expect("begin");
                txn.execute_unprepared("SELECT id FROM topics FOR UPDATE").await.expect("lock the topics");
                txn
            }
            Backend::Sqlite => {
                let txn = db
                    .begin_with_options(sea_orm::TransactionOptions {
                        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await
                    .expect("write lock");
                txn.execute_unprepared("UPDATE settings SET updated_at = updated_at").await.expect("hold the lock");
                txn
            }
        };
        let body = rename(&topic["id"], &topic["version"], "Saved after the wait");
        let save = send(&server, Some(&admin.access), &body);
        tokio::pin!(save);
        // The save takes the connection; then a read finds none.
        let read = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            send(&server, Some(&admin.access), &page("microneedling")).await
        };
        let refused = tokio::select! {
            response = read => response,
            _ = &mut save => panic!("the save finished while the lock was held"),
        };
        assert_outage(refused, "read with the pool taken").await;
        lock.rollback().await.expect("release");
        let saved: Value = save.await.json().await.expect("JSON");
        assert_eq!(saved["data"]["updateTopic"]["topic"]["title"], "Saved after the wait", "{saved}");
    }
}
