//! Bad input gets a clear GraphQL error with a stable `extensions.code`, never a 500.

use dermis_tests::{TestServer, on_both_databases};
use serde_json::{Value, json};

fn code(error: &Value) -> &str {
    error["extensions"]["code"].as_str().unwrap_or_default()
}

on_both_databases! {
    async fn pagination_and_filter_arguments_are_validated(backend) {
        let server = TestServer::sample(backend).await;
        for (query, field) in [
            ("{ topics(first: 101) { totalCount } }", "first"),
            ("{ topics(last: 101) { totalCount } }", "last"),
            ("{ conditions(first: -1) { totalCount } }", "first"),
            ("{ sideEffects(first: 1, last: 1) { totalCount } }", "last"),
            (r#"{ topics(after: "not-a-cursor") { totalCount } }"#, "after"),
            (r#"{ topics(before: "eyJmIjoibCJ9") { totalCount } }"#, "before"),
        ] {
            let error = server.query_error(query, json!({})).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{query}: {error}");
            assert_eq!(error["extensions"]["field"], field, "{query}: {error}");
        }

        let long = "word ".repeat(50);
        let error = server
            .query_error("query($s: String) { topics(filter: { search: $s }) { totalCount } }", json!({ "s": long }))
            .await;
        assert_eq!(code(&error), "BAD_USER_INPUT");
        assert_eq!(error["extensions"]["field"], "filter.search");

        // A cursor is bound to the order it was issued for.
        let data = server.query("{ topics(first: 1) { pageInfo { endCursor } } }", json!({})).await;
        let cursor = data["topics"]["pageInfo"]["endCursor"].clone();
        let error = server
            .query_error(
                "query($c: String) { topics(after: $c, orderBy: { field: UPDATED_AT }) { totalCount } }",
                json!({ "c": cursor }),
            )
            .await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "{error}");
        assert!(error["message"].as_str().unwrap_or_default().contains("another `orderBy`"));
    }
}

on_both_databases! {
    async fn request_errors_follow_the_graphql_over_http_spec(backend) {
        let server = TestServer::sample(backend).await;
        let cases = [
            (json!({ "query": "{ topic(slug: }" }), "GRAPHQL_PARSE_FAILED"),
            (json!({ "query": "{ topic(slug: \"microneedling\") { nope } }" }), "GRAPHQL_VALIDATION_FAILED"),
            (json!({ "query": "{ topics { totalCount } }", "operationName": "Missing" }), "GRAPHQL_VALIDATION_FAILED"),
            (
                json!({ "query": "query($n: Int) { topics(first: $n) { totalCount } }", "variables": { "n": "ten" } }),
                "GRAPHQL_VALIDATION_FAILED",
            ),
            (
                json!({ "query": "query($n: Int) { topics(first: $n) { totalCount } }", "variables": { "n": 1e40 } }),
                "GRAPHQL_VALIDATION_FAILED",
            ),
        ];
        for (body, expected) in cases {
            // application/graphql-response+json: a request error is a 400 without `data`.
            let (status, answer) = server.post(&body).await;
            assert_eq!(status, 400, "{body} -> {answer}");
            assert_eq!(code(&answer["errors"][0]), expected, "{body} -> {answer}");
            assert!(answer.get("data").is_none(), "{answer}");
            assert!(!answer["errors"][0]["message"].as_str().unwrap_or_default().is_empty());

            // application/json (legacy): the same error with 200.
            let response = server
                .client
                .post(server.url("/graphql"))
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("POST");
            assert_eq!(response.status().as_u16(), 200);
            assert!(response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json")));
            let answer: Value = response.json().await.expect("JSON");
            assert_eq!(code(&answer["errors"][0]), expected, "{answer}");
        }

        // A field error keeps `data` and answers 200 even in the strict media type.
        let (status, answer) = server.post(&json!({ "query": "{ topics(first: 500) { totalCount } }" })).await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.get("data").is_some());
        assert_eq!(code(&answer["errors"][0]), "BAD_USER_INPUT");

        // The server is still fine.
        let data = server.query(r#"{ topic(slug: "microneedling") { title } }"#, json!({})).await;
        assert_eq!(data["topic"]["title"], "Microneedling");
    }
}
