//! The HTTP surface: GET and POST GraphQL, GraphiQL, health probes, metrics, admin assets.

use dermis_tests::{TestServer, header, on_both_databases};
use serde_json::{Value, json};
use sha2::Digest;

on_both_databases! {
    async fn get_queries_and_refusals(backend) {
        let server = TestServer::sample(backend).await;
        let client = &server.client;

        let response = client
            .get(server.url("/graphql"))
            .query(&[
                ("query", "query One($slug: String!) { topic(slug: $slug) { title } }"),
                ("variables", r#"{"slug":"microneedling"}"#),
                ("operationName", "One"),
            ])
            .header("accept", "application/graphql-response+json")
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status().as_u16(), 200);
        assert!(header(&response, "content-type").starts_with("application/graphql-response+json"));
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body, json!({ "data": { "topic": { "title": "Microneedling" } } }));

        let response = client
            .get(server.url("/graphql"))
            .query(&[("query", "mutation { anything }")])
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status().as_u16(), 405, "mutations are POST only");
        assert_eq!(header(&response, "allow"), "POST");

        let response = client.get(server.url("/graphql")).query(&[("query", "{ topics { totalCount } }"), ("variables", "[1")]).send().await.expect("GET");
        assert_eq!(response.status().as_u16(), 400);

        let response = client.get(server.url("/graphql")).header("accept", "application/json").send().await.expect("GET");
        assert_eq!(response.status().as_u16(), 400, "a GET without query");

        let response = client.get(server.url("/graphql")).header("accept", "text/html").send().await.expect("GET");
        assert_eq!(response.status().as_u16(), 200);
        assert!(header(&response, "content-type").starts_with("text/html"));
        assert!(response.text().await.unwrap_or_default().to_lowercase().contains("graphiql"));

        let response = client.put(server.url("/graphql")).send().await.expect("PUT");
        assert_eq!(response.status().as_u16(), 405);
    }
}

on_both_databases! {
    async fn post_request_shapes(backend) {
        let server = TestServer::sample(backend).await;
        let post = |content_type: &'static str, accept: &'static str, body: Vec<u8>| {
            let server = &server;
            async move {
                let response = server
                    .client
                    .post(server.url("/graphql"))
                    .header("content-type", content_type)
                    .header("accept", accept)
                    .body(body)
                    .send()
                    .await
                    .expect("POST");
                (response.status().as_u16(), response.text().await.unwrap_or_default())
            }
        };
        let ok = json!({ "query": "{ topics { totalCount } }" }).to_string().into_bytes();
        assert_eq!(post("application/json", "application/json", ok.clone()).await.0, 200);
        assert_eq!(post("application/json; charset=utf-8", "*/*", ok.clone()).await.0, 200);
        assert_eq!(post("text/plain", "application/json", ok.clone()).await.0, 415);
        assert_eq!(post("application/json; charset=latin1", "application/json", ok.clone()).await.0, 415);
        assert_eq!(post("application/json", "text/html", ok.clone()).await.0, 406);
        for bad in ["{", "\"q\"", r#"{"query": 1}"#, r#"{"query": "{ topics { totalCount } }", "variables": [1]}"#, r#"{"variables": {}}"#] {
            let (status, body) = post("application/json", "application/graphql-response+json", bad.as_bytes().to_vec()).await;
            assert_eq!(status, 400, "{bad} -> {body}");
            assert!(body.contains("BAD_REQUEST"), "{body}");
        }
        let invalid_utf8 = b"{\"query\": \"\xff\"}".to_vec();
        assert_eq!(post("application/json", "application/json", invalid_utf8).await.0, 400);

        let huge = format!(r#"{{"query": "{{ topics {{ totalCount }} }}", "x": "{}"}}"#, "a".repeat(2 * 1024 * 1024));
        assert_eq!(post("application/json", "application/json", huge.into_bytes()).await.0, 413);

        assert_eq!(post("application/json", "application/json", ok).await.0, 200, "still up");
    }
}

on_both_databases! {
    async fn health_metrics_and_admin(backend) {
        let server = TestServer::on(backend).start().await;
        let get = |path: &'static str| server.client.get(server.url(path)).send();

        let response = get("/healthz").await.expect("healthz");
        assert_eq!(response.status().as_u16(), 200);
        let response = get("/readyz").await.expect("readyz");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.json::<Value>().await.expect("JSON"), json!({ "status": "ready" }));

        let metrics = get("/metrics").await.expect("metrics").text().await.unwrap_or_default();
        assert!(metrics.contains("# TYPE dermis_sql_statements counter"), "{metrics}");

        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let response = client.get(server.url("/admin")).send().await.expect("admin");
        assert_eq!(response.status().as_u16(), 308);
        assert_eq!(header(&response, "location"), "/admin/");
        let response = get("/admin/").await.expect("admin/");
        assert_eq!(response.status().as_u16(), 200);
        assert!(header(&response, "content-security-policy").contains("script-src 'self'"));
        assert!(response.text().await.unwrap_or_default().contains("Dermis admin"));
        assert_eq!(get("/admin/nope.js").await.expect("404").status().as_u16(), 404);
    }
}

on_both_databases! {
    async fn graphiql_is_served_whole_from_the_binary(backend) {
        let server = TestServer::sample(backend).await;
        let client = &server.client;
        let page = client.get(server.url("/graphql")).header("accept", "text/html").send().await.expect("GET");
        assert_eq!(page.status().as_u16(), 200);
        let admin = client.get(server.url("/admin/")).send().await.expect("GET /admin/");
        let policy = header(&page, "content-security-policy").to_owned();
        assert_eq!(policy, header(&admin, "content-security-policy"), "the admin UI's policy");
        assert!(policy.contains("script-src 'self';") && !policy.contains("unsafe"), "{policy}");
        assert_eq!(header(&page, "x-frame-options"), "DENY");
        let html = page.text().await.expect("HTML");

        // Every script and stylesheet comes from this server, and is upstream's pinned
        // build byte for byte (api/assets/graphiql/SHA256SUMS, written by its update script).
        let pinned: Vec<(&str, &str)> = include_str!("../../api/assets/graphiql/SHA256SUMS")
            .lines()
            .filter_map(|line| line.split_once("  "))
            .collect();
        assert_eq!(pinned.len(), 4);
        let referenced: Vec<&str> = html
            .split(['"', '\''])
            .filter(|part| part.ends_with(".js") || part.ends_with(".css"))
            .collect();
        assert!(referenced.len() >= 5, "{html}");
        for path in &referenced {
            assert!(path.starts_with("/graphiql/"), "{path} is not this server's");
        }
        for (sum, file) in &pinned {
            let path = format!("/graphiql/{file}");
            assert!(referenced.contains(&path.as_str()), "{path} is not used by the page");
            let response = client.get(server.url(&path)).send().await.expect("GET asset");
            assert_eq!(response.status().as_u16(), 200, "{path}");
            let kind = if file.ends_with(".js") { "javascript" } else { "text/css" };
            assert!(header(&response, "content-type").contains(kind), "{path}");
            let etag = header(&response, "etag").to_owned();
            let bytes = response.bytes().await.expect("bytes");
            let digest: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(&digest, sum, "{path} is not the pinned build");
            // A browser that has it gets 304.
            let again = client.get(server.url(&path)).header("if-none-match", &etag).send().await.expect("GET");
            assert_eq!(again.status().as_u16(), 304, "{path}");
        }
        assert_eq!(client.get(server.url("/graphiql/nope.js")).send().await.expect("GET").status().as_u16(), 404);

        // Switched off: neither the page nor its files.
        let off = server.another_node(&[("DERMIS_GRAPHIQL", "false")]).await;
        let page = off.client.get(off.url("/graphql")).header("accept", "text/html").send().await.expect("GET");
        assert!(!header(&page, "content-type").starts_with("text/html"));
        let file = off.client.get(off.url("/graphiql/graphiql.min.js")).send().await.expect("GET");
        assert_eq!(file.status().as_u16(), 404);
    }
}
