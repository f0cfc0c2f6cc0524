//! Request ids, request logs (human and JSON), `/metrics` and slow-operation logs.

use std::time::Duration;

use dermis_tests::{Backend, TestServer, on_both_databases};
use reqwest::Response;
use serde_json::{Value, json};

/// POSTs a GraphQL body with an optional incoming `X-Request-Id`.
async fn send(server: &TestServer, body: &Value, request_id: Option<&str>) -> Response {
    let mut request = server
        .client
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(body.to_string());
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    request.send().await.expect("POST /graphql")
}

fn request_id(response: &Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The value of a metric line `name{labels} value`, 0 when absent.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

const PAGE: &str = "query TopicPage { topic(slug: \"microneedling\") { title } }";

on_both_databases! {
    async fn every_response_carries_a_request_id_found_in_the_log(backend) {
        let server = TestServer::sample(backend).await;
        let body = json!({ "query": PAGE, "operationName": "TopicPage" });

        // A new id when none is sent.
        let generated = request_id(&send(&server, &body, None).await);
        assert_eq!(generated.len(), 36, "a UUID: {generated}");
        assert_ne!(generated, request_id(&send(&server, &body, None).await));
        // A plain incoming id is kept; one that could forge log lines is replaced.
        assert_eq!(request_id(&send(&server, &body, Some("edge-7f3a.1")).await), "edge-7f3a.1");
        for forged in ["bad id with spaces", &"x".repeat(200)] {
            let id = request_id(&send(&server, &body, Some(forged)).await);
            assert_eq!(id.len(), 36, "{forged:?} -> {id}");
        }
        // Other paths and refusals carry one too.
        let health = server.client.get(server.url("/healthz")).send().await.expect("healthz");
        assert_eq!(request_id(&health).len(), 36);
        let refused = send(&server, &json!({ "query": "{" }), Some("refused-1")).await;
        assert_eq!(refused.status().as_u16(), 400);
        assert_eq!(request_id(&refused), "refused-1");

        // The log line of a request names its id, operation, status and duration.
        let logs = server.wait_for_log("edge-7f3a.1").await;
        let line = logs.lines().find(|l| l.contains("edge-7f3a.1") && l.contains("graphql")).unwrap_or_default();
        for needle in ["operation=\"TopicPage\"", "status=200", "duration_ms=", "method=POST", "path=/graphql"] {
            assert!(line.contains(needle), "{needle} in {line}");
        }
        assert!(!logs.contains("slow GraphQL operation"), "{logs}");
    }
}

on_both_databases! {
    async fn json_logs_are_one_object_per_line_with_the_request_fields(backend) {
        let server = TestServer::on(backend)
            .sample()
            .env("DERMIS_LOG_FORMAT", "json")
            .start()
            .await;
        send(&server, &json!({ "query": PAGE }), Some("json-req-1")).await;
        let logs = server.wait_for_log("json-req-1").await;
        let lines: Vec<Value> = logs
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
            .collect();
        let entry = lines
            .iter()
            .find(|l| l["span"]["request_id"] == "json-req-1" && l["fields"]["operation"] == "TopicPage")
            .unwrap_or_else(|| panic!("no request line in {logs}"));
        assert_eq!(entry["fields"]["status"], 200, "{entry}");
        assert!(entry["fields"]["duration_ms"].as_f64().is_some(), "{entry}");
        assert_eq!(entry["level"], "INFO");
    }
}

on_both_databases! {
    async fn metrics_count_operations_by_outcome_with_latency_and_pool(backend) {
        let server = TestServer::sample(backend).await;
        for _ in 0..3 {
            send(&server, &json!({ "query": PAGE }), None).await;
        }
        send(&server, &json!({ "query": "query Broken {" }), None).await;
        send(&server, &json!({ "query": "query Capped { topics(first: 1000) { totalCount } }" }), None).await;
        send(&server, &json!({ "query": "{ __typename }" }), None).await;
        let text = server.metrics().await;
        assert_eq!(metric(&text, r#"dermis_graphql_requests_total{operation="TopicPage",outcome="ok"}"#), 3.0, "{text}");
        assert_eq!(metric(&text, r#"dermis_graphql_requests_total{operation="anonymous",outcome="refused"}"#), 1.0, "{text}");
        assert_eq!(metric(&text, r#"dermis_graphql_requests_total{operation="Capped",outcome="partial"}"#), 1.0, "{text}");
        assert_eq!(metric(&text, r#"dermis_graphql_requests_total{operation="anonymous",outcome="ok"}"#), 1.0, "{text}");
        assert_eq!(metric(&text, r#"dermis_graphql_request_duration_seconds_count{operation="TopicPage"}"#), 3.0, "{text}");
        assert!(text.contains(r#"dermis_graphql_request_duration_seconds_bucket{le="+Inf",operation="TopicPage"} 3"#)
            || text.contains(r#"dermis_graphql_request_duration_seconds_bucket{operation="TopicPage",le="+Inf"} 3"#), "{text}");
        assert!(metric(&text, "dermis_sql_statements_total") >= 3.0, "{text}");
        // The default pool: 10 on PostgreSQL; on SQLite twice the cores, at least 4.
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let pool = if backend == Backend::Postgres { 10 } else { (2 * cores).max(4) };
        assert_eq!(metric(&text, "dermis_db_pool_max_connections"), pool as f64, "{text}");
        assert!(metric(&text, "dermis_db_pool_connections") >= 1.0, "{text}");
        assert!(text.contains("# TYPE dermis_db_pool_idle_connections gauge"), "{text}");
        // A client cannot add a label value per request.
        send(&server, &json!({ "query": "{ __typename }", "operationName": "bad\"name{}" }), None).await;
        let text = server.metrics().await;
        assert!(!text.contains("bad\\\"name"), "{text}");
    }
}

on_both_databases! {
    async fn slow_operations_are_logged_with_their_timing(backend) {
        let server = TestServer::on(backend)
            .sample()
            .env("DERMIS_SLOW_OPERATION_MS", "0")
            .start()
            .await;
        send(&server, &json!({ "query": PAGE }), Some("slow-1")).await;
        let logs = server.wait_for_log("slow GraphQL operation").await;
        let line = logs.lines().find(|l| l.contains("slow GraphQL operation")).unwrap_or_default();
        assert!(line.contains("WARN"), "{line}");
        for needle in ["slow-1", "operation=\"TopicPage\"", "duration_ms=", "threshold_ms=0"] {
            assert!(line.contains(needle), "{needle} in {line}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
