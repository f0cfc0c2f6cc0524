//! The throttle of password checks under concurrent bursts, across nodes: an attempt
//! reserves its place before its password is checked, so a burst gets at most the limit's
//! number of checks and the right password inside it is refused with the rest.

use dermis_tests::{AUTH_FIELDS, Backend, PASSWORD, TestServer, on_both_databases};
use futures_util::future::join_all;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::{Value, json};
use tokio::sync::mpsc;

fn code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("OK")
        .to_owned()
}

fn login_body(email: &str, password: &str) -> Value {
    json!({
        "query": format!("mutation($e: String!, $p: String!) {{ login(input: {{ email: $e, password: $p }}) {{ {AUTH_FIELDS} }} }}"),
        "variables": { "e": email, "p": password },
    })
}

/// Sends `body` to `server`, from `forwarded_for` when given (the server must trust the
/// loopback proxy); the first error code, or `OK`.
async fn send(
    server: &TestServer,
    body: &Value,
    token: Option<&str>,
    forwarded_for: Option<&str>,
) -> String {
    let mut request = server
        .client
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.expect("POST /graphql");
    code(&response.json::<Value>().await.expect("JSON"))
}

/// Sends `bodies` all at once, alternating between `nodes`; reports each answer's code on
/// `codes` as it arrives, and returns them all.
async fn burst(
    nodes: &[&TestServer],
    bodies: Vec<(Value, Option<String>)>,
    codes: mpsc::UnboundedSender<String>,
) -> Vec<String> {
    join_all(bodies.into_iter().enumerate().map(|(i, (body, token))| {
        let codes = codes.clone();
        let node = nodes[i % nodes.len()];
        async move {
            let code = send(node, &body, token.as_deref(), None).await;
            let _ = codes.send(code.clone());
            code
        }
    }))
    .await
}

on_both_databases! {
    async fn a_burst_of_wrong_logins_gets_at_most_the_limit_of_checks_on_every_node(backend) {
        let settings = [
            ("DERMIS_LOGIN_MAX_FAILURES_PER_ACCOUNT", "5"),
            ("DERMIS_LOGIN_MAX_FAILURES_PER_CLIENT", "1000"),
            ("DERMIS_DB_MAX_CONNECTIONS", "8"),
        ];
        let mut start = TestServer::on(backend);
        for (key, value) in settings {
            start = start.env(key, value);
        }
        let a = start.start().await;
        let admin = a.first_admin().await;
        a.user(&admin, "victim@example.org", "EDITOR").await;
        let b = a.another_node(&settings).await;

        let wrong: Vec<_> = (0..40).map(|i| (login_body("victim@example.org", &format!("wrong password {i}")), None)).collect();
        let (codes, mut arriving) = mpsc::unbounded_channel();
        let nodes = [&a, &b];
        // On PostgreSQL the attempts are made to meet: the test holds a lock on the
        // failures table until every pooled connection of both nodes (7 each: 8 less the
        // listener's) waits for a lock, so the attempts' counts and inserts run at once when it lets go. Only a
        // lock taken per key before counting keeps them to five.
        let held = match backend {
            Backend::Postgres => Some(hold_failures_table(&a).await),
            Backend::Sqlite => None,
        };
        let burst = burst(&nodes, wrong, codes);
        let release = async {
            if let Some((db, txn)) = held {
                waiting_for_locks(&db, 14).await;
                txn.commit().await.expect("release the table");
            }
        };
        let burst = async { tokio::join!(burst, release).0 };
        let right = async {
            // Once one guess was refused, every place is taken: the right password, sent
            // while the checked guesses are still hashing, is refused too.
            while let Some(code) = arriving.recv().await {
                if code == "RATE_LIMITED" {
                    break;
                }
            }
            send(&b, &login_body("victim@example.org", PASSWORD), None, None).await
        };
        let (answers, right) = tokio::join!(burst, right);
        let checked = answers.iter().filter(|code| *code == "UNAUTHENTICATED").count();
        let refused = answers.iter().filter(|code| *code == "RATE_LIMITED").count();
        assert_eq!((checked, refused), (5, 35), "{answers:?}");
        assert_eq!(right, "RATE_LIMITED");
        // Still refused afterwards, on both nodes.
        for node in nodes {
            assert_eq!(send(node, &login_body("victim@example.org", PASSWORD), None, None).await, "RATE_LIMITED");
        }
        // Another account is not affected, and a good login gives its place back: five
        // in a row succeed although the limit is five.
        a.user(&admin, "other@example.org", "EDITOR").await;
        for node in [&a, &b, &a, &b, &a, &b] {
            assert_eq!(send(node, &login_body("other@example.org", PASSWORD), None, None).await, "OK");
        }
    }
}

/// Opens a transaction on the server's database that holds `login_failures` against
/// writers; returns the connection (for watching) and the transaction (to let go).
async fn hold_failures_table(
    server: &TestServer,
) -> (sea_orm::DatabaseConnection, sea_orm::DatabaseTransaction) {
    let db = server.db.connect().await;
    let txn = db.begin().await.expect("begin");
    txn.execute_unprepared("LOCK TABLE login_failures IN EXCLUSIVE MODE")
        .await
        .expect("lock");
    (db, txn)
}

/// Waits until `count` sessions of this database wait for a lock (a minute at most, as a
/// guard against a hang, far beyond what the burst needs).
async fn waiting_for_locks(db: &sea_orm::DatabaseConnection, count: i64) {
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    loop {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                sql,
            ))
            .await
            .expect("pg_stat_activity")
            .expect("a row");
        let waiting = row.try_get_by_index::<i64>(0).expect("count");
        if waiting >= count {
            return;
        }
        assert!(
            std::time::Instant::now() < give_up,
            "only {waiting} of {count} sessions ever waited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

on_both_databases! {
    async fn guessing_the_current_password_is_throttled_like_login(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let editor = server.user(&admin, "ed@example.org", "EDITOR").await;
        let change = |current: &str| json!({
            "query": format!("mutation($input: ChangePasswordInput!) {{ changePassword(input: $input) {{ {AUTH_FIELDS} }} }}"),
            "variables": { "input": { "currentPassword": current, "newPassword": "a brand new long password" } },
        });
        // Twelve wrong current passwords at once, from a stolen token: five are checked.
        let guesses: Vec<_> = (0..12).map(|i| (change(&format!("guess number {i}")), Some(editor.access.clone()))).collect();
        let (codes, _arriving) = mpsc::unbounded_channel();
        let answers = burst(&[&server], guesses, codes).await;
        let checked = answers.iter().filter(|code| *code == "BAD_USER_INPUT").count();
        let refused = answers.iter().filter(|code| *code == "RATE_LIMITED").count();
        assert_eq!((checked, refused), (5, 7), "{answers:?}");
        // Then the right one is refused as well, and the password is unchanged.
        assert_eq!(send(&server, &change(PASSWORD), Some(&editor.access), None).await, "RATE_LIMITED");
        assert_eq!(send(&server, &login_body("ed@example.org", PASSWORD), None, None).await, "OK");
        // Twelve in a row, one after the other: the same.
        let other = server.user(&admin, "other@example.org", "EDITOR").await;
        let mut answers = Vec::new();
        for i in 0..12 {
            answers.push(send(&server, &change(&format!("guess number {i}")), Some(&other.access), None).await);
        }
        assert_eq!(answers.iter().filter(|code| *code == "BAD_USER_INPUT").count(), 5, "{answers:?}");
    }
}

on_both_databases! {
    async fn the_login_throttle_counts_an_ipv6_client_by_its_slash_64(backend) {
        let server = TestServer::on(backend)
            .env("DERMIS_TRUSTED_PROXIES", "127.0.0.1")
            .env("DERMIS_LOGIN_MAX_FAILURES_PER_CLIENT", "3")
            .env("DERMIS_RATE_LIMIT_PER_SECOND", "0")
            .start()
            .await;
        // Three failures from three addresses of one /64, for three accounts.
        for i in 1..=3 {
            let body = login_body(&format!("user{i}@example.org"), "wrong password!!");
            assert_eq!(send(&server, &body, None, Some(&format!("2001:db8:1:2::{i}"))).await, "UNAUTHENTICATED");
        }
        // Any other address of that /64 is refused; the next /64 and an IPv4 client are not.
        let body = login_body("user9@example.org", "wrong password!!");
        assert_eq!(send(&server, &body, None, Some("2001:db8:1:2:ffff:ffff:ffff:9")).await, "RATE_LIMITED");
        assert_eq!(send(&server, &body, None, Some("2001:db8:1:3::1")).await, "UNAUTHENTICATED");
        assert_eq!(send(&server, &body, None, Some("192.0.2.7")).await, "UNAUTHENTICATED");
    }
}
