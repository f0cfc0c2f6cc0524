//! Caching that frontends expect: cacheable `GET` answers with `ETag` and `304`, the
//! in-process cache of anonymous reads with immediate invalidation (on every node), and
//! automatic persisted queries.

use std::time::{Duration, Instant};

use dermis_tests::{Backend, Session, TestServer, header, on_both_databases, without_database};
use reqwest::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const PAGE: &str = "query TopicPage { topic(slug: \"microneedling\") { title summary } }";
const UPDATE: &str =
    "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version } } }";

async fn get(server: &TestServer, params: &[(&str, &str)], headers: &[(&str, &str)]) -> Response {
    let mut request = server
        .client
        .get(server.url("/graphql"))
        .query(params)
        .header("accept", "application/graphql-response+json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("GET /graphql")
}

fn hits(metrics: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("dermis_response_cache_lookups_total{result=\"hit\"} "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn summary(server: &TestServer) -> String {
    server.query(PAGE, json!({})).await["topic"]["summary"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn edit_summary(server: &TestServer, editor: &Session, text: &str) {
    let topic = server
        .query_as(
            editor,
            "{ topic(slug: \"microneedling\", preview: true) { id version } }",
            json!({}),
        )
        .await["topic"]
        .clone();
    server.query_as(editor, UPDATE, json!({ "input": { "id": topic["id"], "expectedVersion": topic["version"], "summary": text } })).await;
}

on_both_databases! {
    async fn anonymous_get_answers_are_cacheable_with_an_etag(backend) {
        let server = TestServer::on(backend).sample().env("DERMIS_CACHE_MAX_AGE", "120").start().await;
        let first = get(&server, &[("query", PAGE)], &[]).await;
        assert_eq!(first.status().as_u16(), 200);
        assert_eq!(header(&first, "cache-control"), "public, max-age=120");
        assert!(header(&first, "vary").starts_with("Accept, Authorization"), "{}", header(&first, "vary"));
        let etag = header(&first, "etag").to_owned();
        assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
        let body = first.text().await.unwrap_or_default();
        assert!(body.contains("Microneedling"), "{body}");

        // Revalidation: the same ETag answers 304 with no body.
        let again = get(&server, &[("query", PAGE)], &[("if-none-match", &etag)]).await;
        assert_eq!(again.status().as_u16(), 304);
        assert_eq!(header(&again, "etag"), etag);
        assert_eq!(again.text().await.unwrap_or_default(), "");
        let other = get(&server, &[("query", PAGE)], &[("if-none-match", "\"something-else\"")]).await;
        assert_eq!(other.status().as_u16(), 200);

        // Signed-in callers, POST requests and errors are not cacheable.
        let admin = server.first_admin().await;
        let bearer = format!("Bearer {}", admin.access);
        let private = get(&server, &[("query", PAGE)], &[("authorization", &bearer)]).await;
        assert_eq!(private.status().as_u16(), 200);
        assert_eq!(header(&private, "cache-control"), "no-store");
        assert_eq!(header(&private, "etag"), "");
        let post = server.client.post(server.url("/graphql")).header("content-type", "application/json")
            .body(json!({ "query": PAGE }).to_string()).send().await.expect("POST");
        assert_eq!(header(&post, "cache-control"), "no-store");
        let failed = get(&server, &[("query", "{ topics(first: 1000) { totalCount } }")], &[]).await;
        assert_eq!(header(&failed, "cache-control"), "no-store");
        assert_eq!(header(&failed, "etag"), "");

        // A change of content changes the ETag.
        edit_summary(&server, &admin, "A new summary.").await;
        let changed = get(&server, &[("query", PAGE)], &[("if-none-match", &etag)]).await;
        assert_eq!(changed.status().as_u16(), 200);
        assert_ne!(header(&changed, "etag"), etag);
    }
}

on_both_databases! {
    async fn anonymous_reads_come_from_the_cache_until_content_changes(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        assert!(summary(&server).await.contains("minimally invasive"));
        let statements = server.sql_statements().await;
        let hits_before = hits(&server.metrics().await);
        for _ in 0..5 {
            assert!(summary(&server).await.contains("minimally invasive"));
        }
        assert_eq!(server.sql_statements().await, statements, "five repeats, no SQL");
        assert_eq!(hits(&server.metrics().await), hits_before + 5);

        // A write is visible to the very next anonymous read.
        edit_summary(&server, &admin, "Updated right now.").await;
        assert_eq!(summary(&server).await, "Updated right now.");
        // So is unpublishing.
        let topic = server.query_as(&admin, "{ topic(slug: \"microneedling\", preview: true) { id version } }", json!({})).await["topic"].clone();
        server.query_as(&admin, "mutation($input: DocumentVersionInput!) { unpublishTopic(input: $input) { topic { status } } }",
            json!({ "input": { "id": topic["id"], "expectedVersion": topic["version"] } })).await;
        assert_eq!(server.query(PAGE, json!({})).await["topic"], Value::Null);

        // Editors bypass the cache; signing in does not empty it.
        let before = server.sql_statements().await;
        server.query_as(&admin, PAGE, json!({})).await;
        server.query_as(&admin, PAGE, json!({})).await;
        assert!(server.sql_statements().await >= before + 2, "editor reads reach the database");
        server.query(PAGE, json!({})).await;
        let warm = server.sql_statements().await;
        server.login("admin@example.org", dermis_tests::PASSWORD).await;
        let after_login = server.sql_statements().await;
        server.query(PAGE, json!({})).await;
        assert_eq!(server.sql_statements().await, after_login, "still cached after a login ({warm} before it)");
    }
}

/// POSTs `body` as it is; the status, the `Content-Type` and the text of the answer.
async fn post_bytes(
    server: &TestServer,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, String, String) {
    let mut request = server
        .client
        .post(server.url("/graphql"))
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .body(body.to_owned())
        .send()
        .await
        .expect("POST /graphql");
    let content_type = header(&response, "content-type").to_owned();
    (
        response.status().as_u16(),
        content_type,
        response.text().await.unwrap_or_default(),
    )
}

on_both_databases! {
    async fn a_repeated_post_body_is_answered_by_its_bytes_until_content_changes(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let compact = json!({ "query": PAGE }).to_string();
        let spaced = format!("{{ \"query\" :\n {} }}\n", json!(PAGE));
        let (status, _, first) = post_bytes(&server, &compact, &[("accept", "application/json")]).await;
        assert_eq!(status, 200);
        assert!(first.contains("minimally invasive"), "{first}");
        let statements = server.sql_statements().await;
        let hits_before = hits(&server.metrics().await);

        // The same bytes with another Accept: the cached answer, typed for this request.
        let (status, content_type, again) =
            post_bytes(&server, &compact, &[("accept", "application/graphql-response+json")]).await;
        assert_eq!((status, again.as_str()), (200, first.as_str()));
        assert!(content_type.starts_with("application/graphql-response+json"), "{content_type}");
        // The same request in other bytes is the same entry; then its bytes are known too.
        for _ in 0..2 {
            assert_eq!(post_bytes(&server, &spaced, &[]).await.2, first);
        }
        assert_eq!(server.sql_statements().await, statements, "three repeats, no SQL");
        assert_eq!(hits(&server.metrics().await), hits_before + 3);

        // An editor sending the very same bytes is not answered from the cache.
        let bearer = format!("Bearer {}", admin.access);
        let (status, _, _) = post_bytes(&server, &compact, &[("authorization", &bearer)]).await;
        assert_eq!(status, 200);
        assert!(server.sql_statements().await > statements, "the editor's read reached the database");

        // A write: both bodies see it at once.
        edit_summary(&server, &admin, "Changed under both keys.").await;
        for body in [&compact, &spaced] {
            let (status, _, text) = post_bytes(&server, body, &[]).await;
            assert_eq!(status, 200);
            assert!(text.contains("Changed under both keys."), "{text}");
        }

        // Refusals are never kept: the same failing bytes are checked every time.
        let failing = json!({ "query": "{ topics(first: 1000) { totalCount } }" }).to_string();
        let hits_before = hits(&server.metrics().await);
        for _ in 0..2 {
            let (status, _, text) = post_bytes(&server, &failing, &[]).await;
            assert!(status == 200 || status == 400, "{status}");
            assert!(text.contains("\"errors\""), "{text}");
        }
        // A query sent with its hash registers it each time (a later request by hash alone
        // depends on that), so its bytes are never answered from the cache alone.
        let hash: String = Sha256::digest(PAGE.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let registering = json!({ "query": PAGE, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }).to_string();
        for _ in 0..2 {
            assert_eq!(post_bytes(&server, &registering, &[]).await.0, 200);
        }
        assert_eq!(hits(&server.metrics().await), hits_before, "no refusal and no registration came from the cache");
    }
}

without_database! {
    async fn a_write_on_one_node_reaches_the_cache_of_another_within_a_second() {
        // Several nodes share PostgreSQL only (one SQLite file has one node).
        if !Backend::Postgres.available() {
            eprintln!("skipped: {} is not set", dermis_tests::POSTGRES_ENV);
            return;
        }
        let a = TestServer::sample(Backend::Postgres).await;
        let b = a.another_node(&[]).await;
        let admin = a.first_admin().await;
        // The first admin's setup is announced too; node b may hear of it after its first
        // read, which empties its cache once: wait until b answers from its cache.
        let started = Instant::now();
        loop {
            assert!(summary(&b).await.contains("minimally invasive"));
            let warm = b.sql_statements().await;
            assert!(summary(&b).await.contains("minimally invasive"));
            if b.sql_statements().await == warm {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "node b never answers from its cache");
        }

        edit_summary(&a, &admin, "Written on node a.").await;
        let started = Instant::now();
        loop {
            if summary(&b).await == "Written on node a." {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(1), "node b still serves the old summary after 1 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!("seen on node b after {:?}", started.elapsed());
    }
}

on_both_databases! {
    async fn automatic_persisted_queries_follow_the_apollo_protocol(backend) {
        let server = TestServer::sample(backend).await;
        let hash: String = Sha256::digest(PAGE.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });

        // Unknown hash: the client is asked for the query.
        let (status, body) = server.post(&json!({ "extensions": persisted })).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND", "{body}");
        assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
        // Query and hash register it; from then on the hash alone works, over GET too.
        let (status, body) = server.post(&json!({ "query": PAGE, "extensions": persisted })).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = server.post(&json!({ "extensions": persisted })).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["topic"]["title"], "Microneedling");
        let response = get(&server, &[("extensions", &persisted.to_string())], &[]).await;
        assert_eq!(response.status().as_u16(), 200);
        assert!(header(&response, "etag").len() == 34);
        assert!(response.text().await.unwrap_or_default().contains("Microneedling"));

        // The registration's answer is cached under the query's text (a plain query hits
        // it), and a wrong hash beside that query is refused all the same.
        let before = hits(&server.metrics().await);
        let (status, _) = server.post(&json!({ "query": PAGE })).await;
        assert_eq!(status, 200);
        assert_eq!(hits(&server.metrics().await), before + 1);
        // A hash that is not the query's, another version, a malformed hash: refused.
        let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } });
        let (status, body) = server.post(&json!({ "query": PAGE, "extensions": wrong })).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("PERSISTED_QUERY_HASH_MISMATCH")));
        for bad in [json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } }), json!({ "persistedQuery": { "version": 1, "sha256Hash": "abc" } })] {
            let (status, body) = server.post(&json!({ "extensions": bad })).await;
            assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("BAD_REQUEST")), "{body}");
        }
        // A persisted document is checked on every use: its variables still must be given.
        let with_variable = "query($slug: String!) { topic(slug: $slug) { title } }";
        let hash: String = Sha256::digest(with_variable.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
        let (status, _) = server.post(&json!({ "query": with_variable, "variables": { "slug": "microneedling" }, "extensions": persisted })).await;
        assert_eq!(status, 200);
        let (status, body) = server.post(&json!({ "extensions": persisted })).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("GRAPHQL_VALIDATION_FAILED")), "{body}");
    }
}

on_both_databases! {
    async fn queries_beyond_the_concurrency_bound_wait_and_all_succeed(backend) {
        // One query at a time, with the response cache off: 24 concurrent readers (some
        // asking for linked documents, which the DataLoaders fetch within the one permit)
        // all get their answer, none an error.
        let server = TestServer::on(backend)
            .sample()
            .env("DERMIS_MAX_CONCURRENT_QUERIES", "1")
            .env("DERMIS_RESPONSE_CACHE_BYTES", "0")
            .start()
            .await;
        let query = json!({ "query": "{ topic(slug: \"microneedling\") { title conditions { node { name } } sideEffects { node { name } } } }" });
        let answers = futures_util::future::join_all((0..24).map(|_| server.post(&query))).await;
        for (status, body) in &answers {
            assert_eq!(*status, 200, "{body}");
            assert!(body.get("errors").is_none(), "{body}");
            assert_eq!(body["data"]["topic"]["title"], "Microneedling", "{body}");
            assert!(!body["data"]["topic"]["conditions"].as_array().is_none_or(Vec::is_empty), "{body}");
        }
    }
}

on_both_databases! {
    async fn answers_follow_the_query_order_so_equal_content_has_one_etag(backend) {
        // Every request executes (no response cache): fields that wait on a batch
        // (`sideEffects`, `conditions`) finish after plain ones (`title`), in either order.
        let server = TestServer::on(backend).sample().env("DERMIS_RESPONSE_CACHE_BYTES", "0").start().await;
        let query = "{ topic(slug: \"microneedling\") { sideEffects { severity node { slug name } } title ...F } } \
                     fragment F on Topic { conditions { node { name slug } note } slug }";
        let mut etags = Vec::new();
        for _ in 0..8 {
            let response = get(&server, &[("query", query)], &[]).await;
            assert_eq!(response.status().as_u16(), 200);
            etags.push(header(&response, "etag").to_owned());
            let body = response.text().await.expect("body");
            let at = |needle: &str| body.find(needle).unwrap_or_else(|| panic!("{needle} in {body}"));
            let order = [at("\"sideEffects\""), at("\"title\""), at("\"conditions\""), at("\"slug\":\"microneedling\"")];
            assert!(order.windows(2).all(|w| w[0] < w[1]), "{body}");
            assert!(body.contains("\"sideEffects\":[{\"severity\":") && body.contains("\"conditions\":[{\"node\":{\"name\":"), "{body}");
        }
        etags.dedup();
        assert_eq!(etags.len(), 1, "{etags:?}");
    }
}

/// The number of published topics `node` answers.
async fn total(node: &TestServer) -> u64 {
    node.query("{ topics { totalCount } }", json!({})).await["topics"]["totalCount"]
        .as_u64()
        .unwrap_or(0)
}

on_both_databases! {
    async fn a_write_by_a_dermis_command_reaches_every_nodes_cache(backend) {
        // The announcement rides in the writing transaction, so a command that writes
        // content (here `dermis seed --file`) is heard by every node, like a mutation
        // (PostgreSQL: NOTIFY; SQLite: the content counter the nodes look at).
        let a = TestServer::sample(backend).await;
        let b = a.another_node(&[]).await;
        let before = total(&a).await;
        for node in [&a, &b] {
            assert_eq!(total(node).await, before);
            let warm = node.sql_statements().await;
            assert_eq!(total(node).await, before);
            assert_eq!(node.sql_statements().await, warm, "answered from the cache");
        }

        let file = a.db.dir.path().join("more.json");
        let more = json!({ "topics": [{ "slug": "peel", "title": "Chemical peel", "summary": "Added by a command." }] });
        std::fs::write(&file, more.to_string()).expect("write the seed file");
        let mut command = dermis_tests::dermis(a.db.dir.path());
        command.args(["seed", "--file"]).arg(&file).env("DERMIS_DATABASE_URL", &a.db.url);
        let output = dermis_tests::run(command).await;
        assert_eq!(output.code, Some(0), "{output:?}");

        // Wait for the event (the new count); the deadline only stops a test that would hang.
        let started = Instant::now();
        for node in [&a, &b] {
            while total(node).await != before + 1 {
                assert!(started.elapsed() < Duration::from_secs(60), "a node still serves the old count");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        eprintln!("both nodes saw the command's write after {:?}", started.elapsed());
    }
}
