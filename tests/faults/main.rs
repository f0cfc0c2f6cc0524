//! Fault injection on the real PostgreSQL server: three `dermis serve` nodes on one
//! database, readers and a writer running, while PostgreSQL (a) restarts, (b) stops for
//! 20 s, and (c) has every Dermis backend terminated. The nodes together hold as many
//! connections as the server allows (pools and listeners at its limit). After each fault:
//! every acknowledged save is in the database and served by every node within 2 s, no
//! request was answered 401 or `INTERNAL_SERVER_ERROR`, every node is ready again and
//! listening, by itself.
//!
//! It stops and restarts the machine's PostgreSQL cluster, so it runs only when
//! `DERMIS_TEST_POSTGRES_FAULTS` names that cluster (`15/main`; `.ci/run` sets it when it
//! runs as root) and in a test binary of its own: cargo runs test binaries one at a time,
//! so no other test's database goes away under it. (SQLite's faults, a locked database
//! file, are in the e2e suite: `outage.rs`.)

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dermis_tests::{Backend, PASSWORD, Session, TestServer};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::Mutex;

const FAULTS_ENV: &str = "DERMIS_TEST_POSTGRES_FAULTS";
const READ: &str = "query Page($slug: String!) { topic(slug: $slug) { title version } }";
const SAVE: &str = "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { title version } } }";

/// Every answer seen, by (node, status, code).
type Seen = Arc<Mutex<BTreeMap<String, usize>>>;

async fn record(seen: &Seen, node: usize, status: u16, body: &Value) {
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("-")
        .to_owned();
    *seen
        .lock()
        .await
        .entry(format!("node {node}: {status} {code}"))
        .or_default() += 1;
}

fn pg_ctl(cluster: &str, action: &str) {
    let (version, name) = cluster
        .split_once('/')
        .expect("DERMIS_TEST_POSTGRES_FAULTS is VERSION/NAME");
    let mut command = std::process::Command::new("pg_ctlcluster");
    command.args(["--skip-systemctl-redirect", version, name, action]);
    if action != "start" {
        command.args(["--", "-m", "fast"]);
    }
    let status = command.status().expect("run pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster {action}: {status}");
}

async fn admin_sql(sql: &str) -> Vec<sea_orm::QueryResult> {
    let url = std::env::var(dermis_tests::POSTGRES_ENV).expect("PostgreSQL configured");
    let db = Database::connect(&url).await.expect("connect as admin");
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            sql.to_owned(),
        ))
        .await
        .expect("admin statement");
    let _ = db.close().await;
    rows
}

async fn setting(name: &str) -> i64 {
    let rows = admin_sql(&format!(
        "SELECT CAST(setting AS BIGINT) AS v FROM pg_settings WHERE name = '{name}'"
    ))
    .await;
    rows[0].try_get::<i64>("", "v").expect("setting")
}

/// What happens to PostgreSQL.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// `pg_ctlcluster restart` (fast shutdown).
    Restart,
    /// Stopped for 20 s, then started.
    Stop,
    /// `pg_terminate_backend` of every backend of the test's database.
    Terminate,
}

impl Fault {
    async fn inject(self, cluster: &str, database: &str) {
        match self {
            Self::Restart => {
                pg_ctl(cluster, "restart");
                postgres_back().await;
            }
            Self::Stop => {
                pg_ctl(cluster, "stop");
                tokio::time::sleep(Duration::from_secs(20)).await;
                pg_ctl(cluster, "start");
                postgres_back().await;
            }
            Self::Terminate => {
                admin_sql(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()")).await;
            }
        }
    }
}

/// Waits until PostgreSQL answers again.
async fn postgres_back() {
    let url = std::env::var(dermis_tests::POSTGRES_ENV).expect("PostgreSQL configured");
    loop {
        if let Ok(db) = Database::connect(&url).await {
            let _ = db.close().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The writer: renames the topic again and again through the nodes in turn, retrying a
/// save refused as an outage. Returns the last acknowledged title.
async fn write(
    nodes: Arc<Vec<TestServer>>,
    editor: Session,
    id: Value,
    stop: Arc<AtomicBool>,
    seen: Seen,
    label: &'static str,
) -> String {
    let mut acknowledged = String::new();
    let mut version = current(&nodes[0], &editor).await;
    let mut n = 0usize;
    while !stop.load(Ordering::Acquire) {
        n += 1;
        let title = format!("{label} {n}");
        loop {
            let node = n % nodes.len();
            let input =
                json!({ "input": { "id": id, "expectedVersion": version, "title": title } });
            let (status, body) = nodes[node]
                .post_as(
                    Some(&editor.access),
                    &json!({ "query": SAVE, "variables": input }),
                )
                .await;
            record(&seen, node, status, &body).await;
            if status == 200 && body.get("errors").is_none() {
                version = body["data"]["updateTopic"]["topic"]["version"]
                    .as_i64()
                    .expect("version");
                acknowledged = title.clone();
                break;
            }
            if body["errors"][0]["extensions"]["reason"] == "STALE_VERSION" {
                // An earlier attempt committed though its answer was lost: it is ours.
                version = current(&nodes[node], &editor).await;
                acknowledged = title.clone();
                break;
            }
            assert_eq!(status, 503, "only outages may refuse a save: {body}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    acknowledged
}

async fn current(node: &TestServer, editor: &Session) -> i64 {
    loop {
        let (status, body) = node
            .post_as(
                Some(&editor.access),
                &json!({ "query": READ, "variables": { "slug": "microneedling" } }),
            )
            .await;
        if status == 200
            && let Some(version) = body["data"]["topic"]["version"].as_i64()
        {
            return version;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A reader: anonymous and editor reads on one node, as fast as they are answered.
async fn read(
    node: Arc<Vec<TestServer>>,
    index: usize,
    editor: Session,
    stop: Arc<AtomicBool>,
    seen: Seen,
) {
    let mut round = 0u64;
    while !stop.load(Ordering::Acquire) {
        round += 1;
        let token = round.is_multiple_of(2).then_some(editor.access.as_str());
        let body = json!({ "query": READ, "variables": { "slug": "microneedling" } });
        let (status, body) = node[index].post_as(token, &body).await;
        record(&seen, index, status, &body).await;
    }
}

/// Waits until every node serves `title` to anonymous readers; returns how long that took.
async fn converged(nodes: &[TestServer], title: &str) -> Duration {
    let started = Instant::now();
    for node in nodes {
        loop {
            let (status, body) = node
                .post(&json!({ "query": READ, "variables": { "slug": "microneedling" } }))
                .await;
            if status == 200 && body["data"]["topic"]["title"] == title {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "never converged on {title:?}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    started.elapsed()
}

async fn ready(node: &TestServer) {
    loop {
        let response = node.client.get(node.url("/readyz")).send().await;
        if response.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn stored_title(db_url: &str) -> String {
    let db = Database::connect(db_url)
        .await
        .expect("connect to the test database");
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT title FROM topics WHERE slug = 'microneedling'",
        ))
        .await
        .expect("read the title")
        .expect("the topic");
    let _ = db.close().await;
    row.try_get::<String>("", "title").expect("title")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restarts_stops_and_killed_backends_lose_no_save_and_serve_nothing_stale() {
    dermis_tests::set_bin(env!("CARGO_BIN_EXE_dermis"));
    let Some(cluster) = std::env::var(FAULTS_ENV).ok().filter(|c| !c.is_empty()) else {
        eprintln!(
            "skipped: set {FAULTS_ENV} (and {}) to stop and restart that PostgreSQL cluster",
            dermis_tests::POSTGRES_ENV
        );
        return;
    };
    assert!(
        Backend::Postgres.available(),
        "{FAULTS_ENV} needs {}",
        dermis_tests::POSTGRES_ENV
    );

    // The nodes' connections (pools and listeners) take what the server allows, less
    // what superusers keep and a few for this test's own connections.
    let limit = setting("max_connections").await - setting("superuser_reserved_connections").await;
    let in_use = admin_sql("SELECT 1 FROM pg_stat_activity WHERE backend_type = 'client backend'")
        .await
        .len() as i64;
    let per_node = ((limit - in_use - 6) / 3).max(3);
    let per_node_text = per_node.to_string();
    let env = [
        ("DERMIS_RATE_LIMIT_PER_SECOND", "0"),
        ("DERMIS_DB_MAX_CONNECTIONS", per_node_text.as_str()),
    ];
    let first = TestServer::on(Backend::Postgres)
        .sample()
        .env(env[0].0, env[0].1)
        .env(env[1].0, env[1].1)
        .start()
        .await;
    let admin = first.first_admin().await;
    first.user(&admin, "ed@example.org", "EDITOR").await;
    let second = first.another_node(&env).await;
    let third = first.another_node(&env).await;
    let db_url = first.db.url.clone();
    let nodes = Arc::new(vec![first, second, third]);
    let editor = nodes[0].login("ed@example.org", PASSWORD).await;
    let id = nodes[0]
        .query_as(
            &editor,
            "{ topic(slug: \"microneedling\") { id } }",
            json!({}),
        )
        .await["topic"]["id"]
        .clone();
    let database = db_url.rsplit('/').next().unwrap_or_default().to_owned();
    eprintln!(
        "3 nodes x {per_node} connections (the server allows {limit}, {in_use} in use before)"
    );

    for (label, fault) in [
        ("restart", Fault::Restart),
        ("stop 20 s", Fault::Stop),
        ("terminate backends", Fault::Terminate),
    ] {
        let seen: Seen = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let listened_before: Vec<usize> = nodes
            .iter()
            .map(|n| {
                n.logs()
                    .matches("listening for content changes again")
                    .count()
            })
            .collect();
        let readers: Vec<_> = (0..3)
            .flat_map(|node| (0..per_node as usize + 2).map(move |_| node))
            .map(|node| {
                tokio::spawn(read(
                    nodes.clone(),
                    node,
                    editor.clone(),
                    stop.clone(),
                    seen.clone(),
                ))
            })
            .collect();
        let writer = tokio::spawn(write(
            nodes.clone(),
            editor.clone(),
            id.clone(),
            stop.clone(),
            seen.clone(),
            label,
        ));
        // Load first, then the fault, then load again until each node is ready.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let started = Instant::now();
        fault.inject(&cluster, &database).await;
        for node in nodes.iter() {
            ready(node).await;
        }
        let recovered = started.elapsed();
        tokio::time::sleep(Duration::from_secs(1)).await;
        stop.store(true, Ordering::Release);
        let acknowledged = writer.await.expect("writer");
        for reader in readers {
            reader.await.expect("reader");
        }

        // Every acknowledged save is in the database and every node serves it within 2 s.
        assert_eq!(stored_title(&db_url).await, acknowledged, "{label}");
        let took = converged(&nodes, &acknowledged).await;
        let seen = seen.lock().await.clone();
        eprintln!(
            "{label}: recovered in {recovered:?}; all nodes served the last save after {took:?}; answers: {seen:?}"
        );
        assert!(
            took < Duration::from_secs(2),
            "{label}: served after {took:?}"
        );
        for answer in seen.keys() {
            assert!(
                !answer.contains(" 401 ")
                    && !answer.contains("INTERNAL_SERVER_ERROR")
                    && !answer.contains(" 500 "),
                "{label}: {answer} in {seen:?}"
            );
        }
        // Each node listens again (its listener reconnected by itself), and a write on one
        // node empties the others' caches: warm them, save through the first, all serve it.
        for (index, node) in nodes.iter().enumerate() {
            let listened = node
                .logs()
                .matches("listening for content changes again")
                .count();
            assert!(
                listened > listened_before[index],
                "{label}: node {index} did not listen again:\n{}",
                node.logs()
            );
        }
        converged(&nodes, &acknowledged).await;
        let version = current(&nodes[0], &editor).await;
        let title = format!("{label}: after");
        nodes[0]
            .query_as(
                &editor,
                SAVE,
                json!({ "input": { "id": id, "expectedVersion": version, "title": title } }),
            )
            .await;
        let took = converged(&nodes, &title).await;
        assert!(
            took < Duration::from_secs(2),
            "{label}: a write after recovery reached every cache after {took:?}"
        );
    }
    for node in nodes.iter() {
        assert!(!node.logs().contains("panicked"), "{}", node.logs());
    }
}
