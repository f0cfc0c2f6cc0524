//! Rate limiting per client (with trusted proxies), CORS and security headers.

use std::time::Duration;

use dermis_tests::{TestServer, header, on_both_databases};
use reqwest::Response;
use serde_json::{Value, json};

/// POSTs `{ __typename }` with an optional `X-Forwarded-For`.
async fn ping(server: &TestServer, forwarded_for: Option<&str>) -> Response {
    let mut request = server
        .client
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .body(json!({ "query": "{ __typename }" }).to_string());
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    request.send().await.expect("POST /graphql")
}

/// Sends requests until one is refused; returns how many passed and the refusal.
async fn flood(server: &TestServer, forwarded_for: Option<&str>) -> (usize, Response) {
    for passed in 0..100 {
        let response = ping(server, forwarded_for).await;
        if response.status().as_u16() == 429 {
            return (passed, response);
        }
        assert_eq!(response.status().as_u16(), 200);
    }
    panic!("100 requests passed a burst of 5");
}

on_both_databases! {
    async fn a_flood_from_one_client_gets_429_with_retry_after(backend) {
        let server = TestServer::on(backend)
            .env("DERMIS_RATE_LIMIT_PER_SECOND", "2")
            .env("DERMIS_RATE_LIMIT_BURST", "5")
            .start()
            .await;
        let (passed, refused) = flood(&server, None).await;
        assert!((5..=6).contains(&passed), "the burst is 5 (plus what refilled meanwhile): {passed}");
        let retry_after: u64 = header(&refused, "retry-after").parse().expect("Retry-After in seconds");
        assert!((1..=2).contains(&retry_after), "{retry_after}");
        let body: Value = refused.json().await.expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["retryAfter"], retry_after, "{body}");

        // The peer is not a trusted proxy, so a forged X-Forwarded-For changes nothing.
        assert_eq!(ping(&server, Some("203.0.113.50")).await.status().as_u16(), 429);
        // Probes are never limited.
        let health = server.client.get(server.url("/healthz")).send().await.expect("healthz");
        assert_eq!(health.status().as_u16(), 200);
        // Waiting as told lets the client in again.
        tokio::time::sleep(Duration::from_secs(retry_after)).await;
        assert_eq!(ping(&server, None).await.status().as_u16(), 200);
        // Refusals are counted.
        let metrics = server.metrics().await;
        assert!(metrics.contains(r#"dermis_graphql_requests_total{operation="anonymous",outcome="rate_limited"}"#), "{metrics}");
    }
}

on_both_databases! {
    async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(backend) {
        let server = TestServer::on(backend)
            .sample()
            .env("DERMIS_RATE_LIMIT_PER_SECOND", "1")
            .env("DERMIS_RATE_LIMIT_BURST", "5")
            .env("DERMIS_TRUSTED_PROXIES", "127.0.0.1/32, ::1")
            .env("DERMIS_LOGIN_MAX_FAILURES_PER_CLIENT", "2")
            .start()
            .await;
        let (passed, _) = flood(&server, Some("198.51.100.1")).await;
        assert!((5..=6).contains(&passed), "{passed}");
        // A client may put anything in front; the proxy appends the real address last.
        assert_eq!(ping(&server, Some("6.6.6.6, 198.51.100.1")).await.status().as_u16(), 429);
        // Other clients behind the same proxy, and the proxy itself, are unaffected.
        assert_eq!(ping(&server, Some("198.51.100.2")).await.status().as_u16(), 200);
        assert_eq!(ping(&server, Some("2001:db8::7")).await.status().as_u16(), 200);
        assert_eq!(ping(&server, None).await.status().as_u16(), 200);

        // The login throttle sees the forwarded client too.
        let login = |email: String, xff: &'static str| {
            let server = &server;
            async move {
                let body = json!({
                    "query": "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
                    "variables": { "input": { "email": email, "password": "wrong password 123" } },
                });
                let response = server.client.post(server.url("/graphql"))
                    .header("content-type", "application/json")
                    .header("x-forwarded-for", xff)
                    .body(body.to_string()).send().await.expect("login");
                let body: Value = response.json().await.expect("JSON");
                body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_owned()
            }
        };
        for i in 0..2 {
            assert_eq!(login(format!("nobody{i}@example.org"), "192.0.2.10").await, "UNAUTHENTICATED");
        }
        assert_eq!(login("nobody9@example.org".into(), "192.0.2.10").await, "RATE_LIMITED");
        assert_eq!(login("nobody9@example.org".into(), "192.0.2.11").await, "UNAUTHENTICATED");
    }
}

on_both_databases! {
    async fn cors_answers_only_configured_origins(backend) {
        let server = TestServer::on(backend)
            .env("DERMIS_CORS_ORIGINS", "https://app.example, http://localhost:3000")
            .start()
            .await;
        let preflight = |origin: &'static str| {
            server.client.request(reqwest::Method::OPTIONS, server.url("/graphql"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type, authorization")
                .send()
        };
        let allowed = preflight("https://app.example").await.expect("preflight");
        assert!(allowed.status().is_success(), "{}", allowed.status());
        assert_eq!(header(&allowed, "access-control-allow-origin"), "https://app.example");
        assert!(header(&allowed, "access-control-allow-methods").contains("POST"));
        assert!(header(&allowed, "access-control-allow-headers").to_lowercase().contains("authorization"));
        assert_eq!(header(&allowed, "access-control-max-age"), "3600");

        let denied = preflight("https://evil.example").await.expect("preflight");
        assert!(denied.status().is_client_error(), "{}", denied.status());
        assert_eq!(header(&denied, "access-control-allow-origin"), "");

        let post = |origin: &'static str| {
            server.client.post(server.url("/graphql"))
                .header("content-type", "application/json")
                .header("origin", origin)
                .body(json!({ "query": "{ __typename }" }).to_string())
                .send()
        };
        let response = post("http://localhost:3000").await.expect("POST");
        assert_eq!(header(&response, "access-control-allow-origin"), "http://localhost:3000");
        assert!(header(&response, "access-control-expose-headers").to_lowercase().contains("x-request-id"));
        // Another origin is served (curl and servers are not browsers) but gets no CORS
        // headers, so a browser withholds the answer from that page.
        let response = post("https://evil.example").await.expect("POST");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(header(&response, "access-control-allow-origin"), "");

        // None by default; `*` opens the read API to every site.
        let closed = TestServer::on(backend).start().await;
        let response = closed.client.request(reqwest::Method::OPTIONS, closed.url("/graphql"))
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
            .send().await.expect("preflight");
        assert_eq!(header(&response, "access-control-allow-origin"), "");
        let open = closed.another_node(&[("DERMIS_CORS_ORIGINS", "*")]).await;
        let response = open.client.post(open.url("/graphql"))
            .header("content-type", "application/json")
            .header("origin", "https://anywhere.example")
            .body(json!({ "query": "{ __typename }" }).to_string())
            .send().await.expect("POST");
        assert_eq!(header(&response, "access-control-allow-origin"), "*");
    }
}

on_both_databases! {
    async fn security_headers_on_api_and_admin(backend) {
        let server = TestServer::on(backend).start().await;
        let api = ping(&server, None).await;
        assert_eq!(header(&api, "x-content-type-options"), "nosniff");
        assert_eq!(header(&api, "referrer-policy"), "no-referrer");
        let admin = server.client.get(server.url("/admin/")).send().await.expect("admin");
        assert_eq!(header(&admin, "x-content-type-options"), "nosniff");
        assert!(header(&admin, "content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(header(&admin, "x-frame-options"), "DENY");
    }
}
