//! Webhooks through the real interfaces: a receiver on a loopback port gets every content
//! event once per endpoint, each signature verified here with code of this test (an HMAC of
//! `id.timestamp.body`, as Standard Webhooks specifies), not the server's; retries after
//! failures; `410` disables; two nodes never send one twice; a delivery outlives a
//! `kill -9`; a rotated secret signs alongside the old one; private addresses are refused
//! unless allowed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use dermis_tests::{Session, TestServer, on_both_databases};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ALLOW: (&str, &str) = ("DERMIS_WEBHOOK_ALLOW_PRIVATE", "true");
const CREATE: &str = "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id enabled } } }";

/// A request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: BTreeMap<String, String>,
    body: String,
}

/// An HTTP receiver on a loopback port: records every request and answers with the status
/// its script gives (then 200).
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Vec<u16>>>,
    served: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let url = format!("http://{}/hooks", listener.local_addr().expect("address"));
        let receiver = Self {
            url,
            got: Arc::default(),
            script: Arc::new(Mutex::new(script)),
            served: Arc::default(),
        };
        let this = receiver.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let this = this.clone();
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 8192];
                    let (head_end, length) = loop {
                        let Ok(n) = socket.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
                            let length = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (end + 4, length);
                        }
                    };
                    while buffer.len() < head_end + length {
                        let Ok(n) = socket.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                    }
                    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
                    let headers = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                        .collect();
                    let body =
                        String::from_utf8_lossy(&buffer[head_end..head_end + length]).into_owned();
                    let status = {
                        let mut script = this.script.lock().expect("script");
                        if script.is_empty() {
                            200
                        } else {
                            script.remove(0)
                        }
                    };
                    if status == 200 {
                        this.got
                            .lock()
                            .expect("got")
                            .push(Received { headers, body });
                    }
                    this.served.fetch_add(1, Ordering::AcqRel);
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        receiver
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().expect("got").clone()
    }

    /// Waits for `count` accepted deliveries (a test that would hang stops after a minute).
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        let started = std::time::Instant::now();
        loop {
            let got = self.received();
            if got.len() >= count {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "got {} of {count}: {got:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Verifies a delivery as a receiver would, with `secret` (`whsec_...`).
fn verify(received: &Received, secret: &str) -> bool {
    let Ok(key) =
        base64::engine::general_purpose::STANDARD.decode(secret.trim_start_matches("whsec_"))
    else {
        return false;
    };
    let (Some(id), Some(timestamp), Some(signatures)) = (
        received.headers.get("webhook-id"),
        received.headers.get("webhook-timestamp"),
        received.headers.get("webhook-signature"),
    ) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
        return false;
    };
    mac.update(format!("{id}.{timestamp}.{}", received.body).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    signatures
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

/// The endpoints with their deliveries, once every delivery is settled as `status` (the
/// receiver sees a request before the server has recorded its answer).
async fn settled(server: &TestServer, admin: &Session, query: &str, status: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let log = server.query_as(admin, query, json!({})).await;
        let all = log["webhookEndpoints"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|e| e["deliveries"].as_array().cloned().unwrap_or_default())
            .all(|d| d["status"] == status);
        if all {
            // Read again: in one answer the endpoints are read before their deliveries.
            return server.query_as(admin, query, json!({})).await;
        }
        assert!(started.elapsed() < Duration::from_secs(180), "{log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn endpoint(
    server: &TestServer,
    admin: &Session,
    url: &str,
    types: Value,
) -> (String, Value) {
    let made = server
        .query_as(
            admin,
            CREATE,
            json!({ "input": { "url": url, "eventTypes": types, "description": "test receiver" } }),
        )
        .await;
    let made = &made["createWebhookEndpoint"];
    (
        made["secret"].as_str().expect("secret").to_owned(),
        made["endpoint"]["id"].clone(),
    )
}

async fn create_condition(server: &TestServer, admin: &Session, name: &str) {
    server
        .query_as(
            admin,
            "mutation($n: String!) { createCondition(input: { name: $n }) { condition { id } } }",
            json!({ "n": name }),
        )
        .await;
}

on_both_databases! {
    async fn a_receiver_gets_every_event_once_and_can_verify_it(backend) {
        let server = TestServer::on(backend).env(ALLOW.0, ALLOW.1).start().await;
        let admin = server.first_admin().await;
        let all = Receiver::start(Vec::new()).await;
        let published_only = Receiver::start(Vec::new()).await;
        let (secret, _) = endpoint(&server, &admin, &all.url, json!([])).await;
        let (other_secret, _) = endpoint(&server, &admin, &published_only.url, json!(["topic.published"])).await;

        let condition = server.query_as(&admin, "mutation { createCondition(input: { name: \"Acne scars\" }) { condition { id } } }", json!({})).await["createCondition"]["condition"]["id"].clone();
        let topic = server.query_as(&admin, "mutation($c: ID!) { createTopic(input: { title: \"Microneedling\", conditions: [{ conditionId: $c }] }) { topic { id version } } }", json!({ "c": condition })).await["createTopic"]["topic"].clone();
        let published = server.query_as(&admin, "mutation($id: ID!, $v: Int!) { publishTopic(input: { id: $id, expectedVersion: $v, includeLinked: true, overrideReview: \"tested without review\" }) { topic { version } } }", json!({ "id": topic["id"], "v": topic["version"] })).await;
        server.query_as(&admin, "mutation($id: ID!, $v: Int!) { updateTopic(input: { id: $id, expectedVersion: $v, summary: \"Tiny needles.\" }) { topic { id } } }", json!({ "id": topic["id"], "v": published["publishTopic"]["topic"]["version"] })).await;

        let got = all.wait_for(5).await;
        let filtered = published_only.wait_for(1).await;
        // Let any duplicate arrive before counting.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let got_now = all.received();
        assert_eq!(got_now.len(), 5, "each event once: {got_now:?}");
        assert_eq!(published_only.received().len(), 1);
        let mut types: Vec<String> = got.iter().map(|r| serde_json::from_str::<Value>(&r.body).expect("JSON")["type"].as_str().unwrap_or_default().to_owned()).collect();
        types.sort();
        assert_eq!(types, ["condition.created", "condition.published", "topic.created", "topic.published", "topic.updated"]);
        let ids: std::collections::BTreeSet<_> = got.iter().map(|r| r.headers["webhook-id"].clone()).collect();
        assert_eq!(ids.len(), 5, "one webhook-id per event");
        for received in &got {
            assert!(verify(received, &secret), "signature: {received:?}");
            assert!(!verify(received, &other_secret), "another endpoint's secret must not verify");
            assert_eq!(received.headers.get("content-type").map(String::as_str), Some("application/json"));
        }
        let event: Value = serde_json::from_str(&filtered[0].body).expect("JSON");
        assert_eq!(event["type"], "topic.published");
        assert_eq!(event["data"]["slug"], "microneedling");
        assert_eq!(event["data"]["affectedTopics"], json!(["microneedling"]));
        assert_eq!((event["data"]["oldStatus"].as_str(), event["data"]["newStatus"].as_str()), (Some("DRAFT"), Some("PUBLISHED")));
        assert!(verify(&filtered[0], &other_secret));

        // Every delivery is recorded with its attempt.
        let deliveries = settled(&server, &admin, "{ webhookEndpoints { url deliveries { status attemptCount attempts { statusCode } } } }", "delivered").await;
        let first = &deliveries["webhookEndpoints"][0];
        assert_eq!(first["deliveries"].as_array().map(Vec::len), Some(5));
        assert!(first["deliveries"].as_array().into_iter().flatten().all(|d| d["status"] == "delivered" && d["attempts"][0]["statusCode"] == 200), "{first}");
    }
}

on_both_databases! {
    async fn failures_are_retried_410_disables_and_a_rotated_secret_signs_with_the_old(backend) {
        let server = TestServer::on(backend).env(ALLOW.0, ALLOW.1).env("DERMIS_WEBHOOK_RETRY_SCHEDULE", "0.1,0.2,0.3").start().await;
        let admin = server.first_admin().await;
        let flaky = Receiver::start(vec![500, 503]).await;
        let (secret, id) = endpoint(&server, &admin, &flaky.url, json!([])).await;
        create_condition(&server, &admin, "Redness").await;
        let got = flaky.wait_for(1).await;
        assert!(verify(&got[0], &secret));
        let log = settled(&server, &admin, "{ webhookEndpoints { deliveries { status attemptCount attempts { statusCode response } } failingSince } }", "delivered").await;
        let delivery = &log["webhookEndpoints"][0]["deliveries"][0];
        assert_eq!(delivery["attemptCount"], 3, "{delivery}");
        let codes: Vec<&Value> = delivery["attempts"].as_array().into_iter().flatten().map(|a| &a["statusCode"]).collect();
        assert_eq!(codes, [&json!(500), &json!(503), &json!(200)]);
        assert_eq!(log["webhookEndpoints"][0]["failingSince"], Value::Null, "it answers again");

        // Rotation: the next delivery verifies with the new secret and with the old one.
        let rotated = server.query_as(&admin, "mutation($id: ID!) { rotateWebhookSecret(input: { id: $id }) { secret } }", json!({ "id": id })).await;
        let new_secret = rotated["rotateWebhookSecret"]["secret"].as_str().expect("secret").to_owned();
        assert_ne!(new_secret, secret);
        create_condition(&server, &admin, "Swelling").await;
        let got = flaky.wait_for(2).await;
        assert!(verify(&got[1], &new_secret) && verify(&got[1], &secret));

        // 410 Gone: the endpoint is disabled and says why; nothing more is sent.
        let gone = Receiver::start(vec![410]).await;
        endpoint(&server, &admin, &gone.url, json!([])).await;
        create_condition(&server, &admin, "Itching").await;
        let started = std::time::Instant::now();
        loop {
            let endpoints = server.query_as(&admin, "{ webhookEndpoints { url enabled disabledReason } }", json!({})).await;
            let state = endpoints["webhookEndpoints"].as_array().into_iter().flatten().find(|e| e["url"] == gone.url.as_str()).cloned().unwrap_or_default();
            if state["enabled"] == false {
                assert!(state["disabledReason"].as_str().is_some_and(|r| r.contains("410")), "{state}");
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "{state}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        create_condition(&server, &admin, "Bruising").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(gone.served.load(Ordering::Acquire), 1, "a disabled endpoint gets nothing more");
    }
}

on_both_databases! {
    async fn two_nodes_send_each_event_once_and_a_delivery_outlives_kill_9(backend) {
        let mut a = TestServer::on(backend).env(ALLOW.0, ALLOW.1).start().await;
        let admin = a.first_admin().await;
        let b = a.another_node(&[ALLOW]).await;
        let receiver = Receiver::start(Vec::new()).await;
        let (secret, _) = endpoint(&a, &admin, &receiver.url, json!(["condition.created"])).await;
        for i in 0..30 {
            let node = if i % 2 == 0 { &a } else { &b };
            create_condition(node, &admin, &format!("Condition {i}")).await;
        }
        receiver.wait_for(30).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let got = receiver.received();
        let ids: std::collections::BTreeSet<_> = got.iter().map(|r| r.headers["webhook-id"].clone()).collect();
        assert_eq!((got.len(), ids.len()), (30, 30), "each event once, though two nodes deliver");
        assert!(got.iter().all(|r| verify(r, &secret)));

        // The receiver is down; an event is committed; the node is killed before it could
        // deliver. Another node delivers it once the receiver is back.
        drop(b);
        receiver.script.lock().expect("script").extend(std::iter::repeat_n(503, 1000));
        create_condition(&a, &admin, "After the crash").await;
        let started = std::time::Instant::now();
        while receiver.served.load(Ordering::Acquire) < 31 {
            assert!(started.elapsed() < Duration::from_secs(60));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        a.signal("KILL");
        a.wait_for_exit(Duration::from_secs(60)).await.ok();
        receiver.script.lock().expect("script").clear();
        let c = a.another_node(&[ALLOW, ("DERMIS_WEBHOOK_RETRY_SCHEDULE", "0.1")]).await;
        let got = receiver.wait_for(31).await;
        let last: Value = serde_json::from_str(&got[30].body).expect("JSON");
        assert_eq!(last["data"]["slug"], "after-the-crash");
        assert!(verify(&got[30], &secret));
        drop(c);
    }
}

on_both_databases! {
    async fn private_addresses_are_refused_unless_allowed(backend) {
        let server = TestServer::on(backend).start().await;
        let admin = server.first_admin().await;
        for url in ["http://127.0.0.1:9/hooks", "http://169.254.169.254/latest", "http://[::1]/x", "ftp://example.org/", "http://user:pw@127.0.0.1/"] {
            let refused = server.error_as(Some(&admin), CREATE, json!({ "input": { "url": url } })).await;
            assert_eq!((refused["extensions"]["code"].as_str(), refused["extensions"]["field"].as_str()), (Some("BAD_USER_INPUT"), Some("input.url")), "{url}: {refused}");
        }
        let unknown = server.error_as(Some(&admin), CREATE, json!({ "input": { "url": "https://example.org/h", "eventTypes": ["topic.exploded"] } })).await;
        assert_eq!(unknown["extensions"]["field"], "input.eventTypes");
        // Editors may not manage webhooks; a token with WEBHOOKS_MANAGE may.
        let editor = server.user(&admin, "ed@example.org", "EDITOR").await;
        let refused = server.error_as(Some(&editor), "{ webhookEndpoints { id } }", json!({})).await;
        assert_eq!(refused["extensions"]["code"], "FORBIDDEN");
        let token = server.query_as(&admin, "mutation { createApiToken(input: { name: \"hooks\", scopes: [WEBHOOKS_MANAGE] }) { secret } }", json!({})).await["createApiToken"]["secret"].as_str().expect("secret").to_owned();
        let (status, body) = server.post_as(Some(&token), &json!({ "query": "{ webhookEndpoints { id } webhookEventTypes }" })).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["data"]["webhookEventTypes"].as_array().is_some_and(|t| t.contains(&json!("revision.restored"))));
    }
}

on_both_databases! {
    async fn the_readme_receiver_verifies_deliveries_and_names_the_pages_to_revalidate(backend) {
        let server = TestServer::on(backend).sample().env(ALLOW.0, ALLOW.1).start().await;
        let admin = server.first_admin().await;
        // The receiver needs its secret to start, the endpoint needs its address: a free port.
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let url = format!("http://127.0.0.1:{port}/");
        let (secret, _) = endpoint(&server, &admin, &url, json!([])).await;
        let dir = dermis_tests::tempfile::tempdir().expect("temp dir");
        let script = dermis_tests::node::docs_example("webhook-receiver.mjs", dir.path()).await;
        let port = port.to_string();
        let mut receiver = dermis_tests::node::NodeProcess::start(&script, &[], &[("DERMIS_WEBHOOK_SECRET", &secret), ("PORT", &port)]).await;
        assert_eq!(receiver.line().await, json!({ "listening": url }));

        // A save of the published page: verified, and its page named for revalidation.
        let topic = server.query_as(&admin, "{ topic(slug: \"microneedling\") { id version } }", json!({})).await["topic"].clone();
        server.query_as(&admin, "mutation($id: ID!, $v: Int!) { updateTopic(input: { id: $id, expectedVersion: $v, summary: \"Fine needles, collagen.\" }) { topic { id } } }", json!({ "id": topic["id"], "v": topic["version"] })).await;
        assert_eq!(receiver.line().await, json!({ "received": "topic.updated", "slug": "microneedling" }));
        assert_eq!(receiver.line().await, json!({ "revalidate": ["/procedures/microneedling"] }));

        // A forged delivery is refused with 400.
        let forged = reqwest::Client::new().post(&url)
            .header("webhook-id", "msg_forged").header("webhook-timestamp", chrono_now())
            .header("webhook-signature", "v1,AAAA").body("{\"type\":\"topic.deleted\",\"data\":{}}")
            .send().await.expect("post");
        assert_eq!(forged.status().as_u16(), 400);
        assert!(receiver.line().await["refused"].is_string());
    }
}

/// Seconds since the epoch, as `webhook-timestamp` carries them.
fn chrono_now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
        .to_string()
}
