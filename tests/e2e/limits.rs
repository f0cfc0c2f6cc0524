//! Query limits: each refusal has its own code, comes before any database work, and the
//! limits are configurable.

use dermis_tests::{TestServer, on_both_databases};
use serde_json::{Value, json};

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

on_both_databases! {
    async fn each_limit_refuses_with_its_code_before_touching_the_database(backend) {
        let server = TestServer::on(backend)
            .sample()
            .env("DERMIS_MAX_QUERY_DEPTH", "5")
            .env("DERMIS_MAX_QUERY_COMPLEXITY", "300")
            .env("DERMIS_MAX_ALIASES", "3")
            .env("DERMIS_MAX_ROOT_FIELDS", "3")
            .env("DERMIS_MAX_DOCUMENT_BYTES", "2000")
            .env("DERMIS_MAX_VARIABLES_BYTES", "200")
            .env("DERMIS_INTROSPECTION", "false")
            .start()
            .await;
        let aliases = (0..4).map(|i| format!("a{i}: totalCount")).collect::<Vec<_>>().join(" ");
        let cases = [
            (json!({ "query": "{ topics { edges { node { conditions { node { name } } } } } }" }), "QUERY_TOO_DEEP"),
            (json!({ "query": format!("{}{}", "{ a ".repeat(100), "}".repeat(100)) }), "QUERY_TOO_DEEP"),
            (json!({ "query": format!("{{ topics {{ {aliases} }} }}") }), "TOO_MANY_ALIASES"),
            (json!({ "query": "{ __typename topics { totalCount } conditions { totalCount } sideEffects { totalCount } }" }), "TOO_MANY_ROOT_FIELDS"),
            (json!({ "query": format!("{{ __typename }} # {}", "x".repeat(2000)) }), "QUERY_TOO_LARGE"),
            (json!({ "query": "query($s: String) { topic(slug: $s) { id } }", "variables": { "s": "x".repeat(300) } }), "VARIABLES_TOO_LARGE"),
            (json!({ "query": "{ __schema { types { name } } }" }), "INTROSPECTION_DISABLED"),
            (json!({ "query": "{ __type(name: \"Topic\") { name } }" }), "INTROSPECTION_DISABLED"),
            // Complexity weighs connections by their page size, from literals and variables.
            (json!({ "query": "{ topics(first: 100) { edges { node { title } } } }" }), "QUERY_TOO_COMPLEX"),
            (json!({ "query": "query($n: Int) { topics(first: $n) { edges { node { title } } } }", "variables": { "n": 100 } }), "QUERY_TOO_COMPLEX"),
            (json!({ "query": "{ topics(first: 30) { edges { node { conditions { note } } } } }" }), "QUERY_TOO_COMPLEX"),
        ];
        let before = server.sql_statements().await;
        for (body, expected) in &cases {
            let (status, answer) = server.post(body).await;
            assert_eq!(status, 400, "{body} -> {answer}");
            assert_eq!(code(&answer), *expected, "{body} -> {answer}");
            assert!(answer.get("data").is_none(), "{answer}");
        }
        assert_eq!(server.sql_statements().await, before, "no refusal reached the database");

        // The message says which limit, and the extensions carry the numbers.
        let (_, answer) = server.post(&cases[2].0).await;
        assert_eq!(answer["errors"][0]["extensions"]["limit"], 3, "{answer}");
        assert_eq!(answer["errors"][0]["extensions"]["actual"], 4, "{answer}");
        assert!(answer["errors"][0]["message"].as_str().unwrap_or_default().contains("aliases"));
        // A complexity refusal too, with the complexity the variables give the query.
        let (_, answer) = server.post(&cases[9].0).await;
        assert_eq!(answer["errors"][0]["extensions"]["limit"], 300, "{answer}");
        assert!(answer["errors"][0]["extensions"]["actual"].as_u64() > Some(300), "{answer}");
        assert!(answer["errors"][0]["message"].as_str().unwrap_or_default().contains("complexity"));

        // A query text seen before is not parsed again, but every request is checked with
        // its own variables: the text refused above passes with a smaller page, and a
        // required variable is still required the second time.
        let (status, answer) = server.post(&json!({ "query": cases[9].0["query"], "variables": { "n": 2 } })).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["data"]["topics"]["edges"][0]["node"]["title"], "Microneedling", "{answer}");
        let required = "query($s: String!) { topic(slug: $s) { slug } }";
        let data = server.query(required, json!({ "s": "microneedling" })).await;
        assert_eq!(data["topic"]["slug"], "microneedling");
        for _ in 0..2 {
            let (status, answer) = server.post(&json!({ "query": required })).await;
            assert_eq!((status, code(&answer)), (400, "GRAPHQL_VALIDATION_FAILED"), "{answer}");
        }

        // Within the limits, the same shapes work.
        let data = server.query("{ __typename a: topics(first: 10) { edges { node { title } } } }", json!({})).await;
        assert_eq!(data["a"]["edges"][0]["node"]["title"], "Microneedling");
        let data = server.query("query($n: Int) { topics(first: $n) { totalCount } }", json!({ "n": 5 })).await;
        assert_eq!(data["topics"]["totalCount"], 1);
    }
}

on_both_databases! {
    async fn defaults_admit_real_queries_and_refuse_abusive_ones(backend) {
        let server = TestServer::sample(backend).await;
        // What a frontend's topic listing asks for: a full page with links.
        let page = "{ topics(first: 100) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
            slug title summary features benefits references { title url }
            conditions { note node { slug name } }
            sideEffects { frequency severity duration note node { slug name } } } } } }";
        let data = server.query(page, json!({})).await;
        assert_eq!(data["topics"]["edges"][0]["node"]["conditions"].as_array().map(Vec::len), Some(8));
        // GraphiQL's introspection query is allowed by default.
        let data = server.query("{ __schema { queryType { name } types { name fields { name args { name } } } } }", json!({})).await;
        assert_eq!(data["__schema"]["queryType"]["name"], "Query");

        // A fragment bomb: 2^30 fields once expanded, a few hundred bytes written down.
        let mut bomb = String::from("{ ...F0 }\n");
        for i in 0..30 {
            bomb.push_str(&format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}\n", n = i + 1));
        }
        bomb.push_str("fragment F30 on Query { topics { totalCount } }");
        let (status, answer) = server.post(&json!({ "query": bomb })).await;
        assert_eq!((status, code(&answer)), (400, "QUERY_TOO_COMPLEX"), "{answer}");

        let (status, answer) = server.post(&json!({ "query": "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }" })).await;
        assert_eq!((status, code(&answer)), (400, "GRAPHQL_VALIDATION_FAILED"), "{answer}");

        // Nesting far past the limit is refused before the parser recurses into it.
        let deep = format!("{}{}", "{ a ".repeat(1000), "}".repeat(1000));
        let (status, answer) = server.post(&json!({ "query": deep })).await;
        assert_eq!((status, code(&answer)), (400, "QUERY_TOO_DEEP"));

        // Batches are refused as such.
        let (status, answer) = server.post(&json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }])).await;
        assert_eq!((status, code(&answer)), (400, "BATCHING_NOT_SUPPORTED"), "{answer}");
    }
}
