//! The public read API: lookups, Relay pagination, filters, ordering, link attributes,
//! reverse relations and sanitized HTML.

use dermis_tests::{TestServer, on_both_databases};
use serde_json::{Value, json};

use crate::many_topics;

const PAGE: &str = r#"query($first: Int, $after: String, $last: Int, $before: String, $order: TopicOrder, $filter: TopicFilter) {
  topics(first: $first, after: $after, last: $last, before: $before, orderBy: $order, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { slug } }
  }
}"#;

fn slugs(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|e| e["node"]["slug"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn range(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("topic-{i:03}")).collect()
}

on_both_databases! {
    async fn relay_pagination_walks_forward_and_backward(backend) {
        let server = TestServer::on(backend).seed_json(&many_topics(25)).start().await;
        let page = |vars: Value| {
            let server = &server;
            async move { server.query(PAGE, vars).await["topics"].clone() }
        };

        let first = page(json!({ "first": 10 })).await;
        assert_eq!(first["totalCount"], 25);
        assert_eq!(slugs(&first), range(0, 10));
        assert_eq!(first["pageInfo"]["hasNextPage"], true);
        assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
        assert_eq!(first["pageInfo"]["endCursor"], first["edges"][9]["cursor"]);

        let second = page(json!({ "first": 10, "after": first["pageInfo"]["endCursor"] })).await;
        assert_eq!(slugs(&second), range(10, 20));
        assert_eq!(second["pageInfo"]["hasNextPage"], true);
        assert_eq!(second["pageInfo"]["hasPreviousPage"], true);

        let third = page(json!({ "first": 10, "after": second["pageInfo"]["endCursor"] })).await;
        assert_eq!(slugs(&third), range(20, 25));
        assert_eq!(third["pageInfo"]["hasNextPage"], false);

        let last = page(json!({ "last": 5 })).await;
        assert_eq!(slugs(&last), range(20, 25));
        assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
        assert_eq!(last["pageInfo"]["hasNextPage"], false);

        let before = page(json!({ "last": 5, "before": last["pageInfo"]["startCursor"] })).await;
        assert_eq!(slugs(&before), range(15, 20));
        assert_eq!(before["pageInfo"]["hasNextPage"], true);
        assert_eq!(before["pageInfo"]["hasPreviousPage"], true);

        let start = page(json!({ "last": 20, "before": before["pageInfo"]["startCursor"] })).await;
        assert_eq!(slugs(&start), range(0, 15));
        assert_eq!(start["pageInfo"]["hasPreviousPage"], false);

        let empty = page(json!({ "first": 0 })).await;
        assert_eq!(slugs(&empty), Vec::<String>::new());
        assert_eq!(empty["pageInfo"]["endCursor"], Value::Null);
        assert_eq!(empty["pageInfo"]["hasNextPage"], true);

        let default_size = page(json!({})).await;
        assert_eq!(slugs(&default_size).len(), 20, "default page size");
    }
}

on_both_databases! {
    async fn every_order_pages_through_all_items_once(backend) {
        let server = TestServer::on(backend).seed_json(&many_topics(25)).start().await;
        for (field, direction, expect_reversed) in [
            ("TITLE", "DESC", true),
            ("UPDATED_AT", "ASC", false),
            ("UPDATED_AT", "DESC", true),
            ("PUBLISHED_AT", "DESC", true),
        ] {
            let mut seen = Vec::new();
            let mut after = Value::Null;
            loop {
                let vars = json!({ "first": 7, "after": after, "order": { "field": field, "direction": direction } });
                let page = server.query(PAGE, vars).await["topics"].clone();
                seen.extend(slugs(&page));
                if page["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = page["pageInfo"]["endCursor"].clone();
            }
            let mut expected = range(0, 25);
            if expect_reversed {
                expected.reverse();
            }
            assert_eq!(seen, expected, "{field} {direction}");
        }
    }
}

on_both_databases! {
    async fn filters_by_text_condition_and_side_effect(backend) {
        let server = TestServer::on(backend).seed_json(&many_topics(25)).start().await;
        let count = |filter: Value| {
            let server = &server;
            async move {
                let page = server.query(PAGE, json!({ "first": 100, "filter": filter })).await["topics"].clone();
                (page["totalCount"].as_i64().unwrap_or(-1), slugs(&page))
            }
        };
        // Topic i links conditions (i..i+2)%10 and side effects (i, i+2, i+4)%10.
        assert_eq!(count(json!({ "condition": "condition-0" })).await.0, 7);
        assert_eq!(count(json!({ "sideEffect": "effect-0" })).await.0, 7);
        let both = count(json!({ "condition": "condition-0", "sideEffect": "effect-0" })).await;
        assert_eq!(both.1, ["topic-000", "topic-008", "topic-010", "topic-018", "topic-020"]);
        assert_eq!(count(json!({ "search": "topic 007" })).await.1, ["topic-007"]);
        assert_eq!(count(json!({ "search": "SUMMARY of TOPIC 12." })).await.1, ["topic-012"]);
        assert_eq!(count(json!({ "search": "100%" })).await.0, 0, "LIKE wildcards are literal");
        assert_eq!(count(json!({ "condition": "no-such-condition" })).await.0, 0);

        let data = server
            .query(
                r#"{ conditions(filter: { topic: "topic-000" }) { totalCount edges { node { slug } } }
                     sideEffects(filter: { search: "effect 4" }) { totalCount edges { node { slug } } } }"#,
                json!({}),
            )
            .await;
        assert_eq!(slugs(&data["conditions"]), ["condition-0", "condition-1", "condition-2"]);
        assert_eq!(slugs(&data["sideEffects"]), ["effect-4"]);
    }
}

on_both_databases! {
    async fn lookups_links_and_reverse_relations(backend) {
        let server = TestServer::sample(backend).await;
        let data = server
            .query(
                r#"{
                  condition(slug: "loose-skin") { name descriptionHtml topics { note node { slug } } }
                  sideEffect(slug: "bleeding") { name topics { frequency severity duration note node { title } } }
                  conditions(first: 3, orderBy: { field: NAME }) { totalCount edges { node { name } } }
                  sideEffects(last: 2, orderBy: { field: NAME, direction: DESC }) { edges { node { name } } }
                  missingTopic: topic(slug: "no-such-topic") { title }
                  missingCondition: condition(slug: "no-such") { name }
                  missingEffect: sideEffect(slug: "NOT A SLUG") { name }
                }"#,
                json!({}),
            )
            .await;
        assert_eq!(data["condition"]["name"], "Loose skin");
        assert!(data["condition"]["descriptionHtml"].as_str().unwrap_or_default().starts_with("<p>"));
        assert_eq!(
            data["condition"]["topics"],
            json!([{ "note": "Particularly after liposuction or weight loss.", "node": { "slug": "microneedling" } }])
        );
        assert_eq!(
            data["sideEffect"]["topics"],
            json!([{ "frequency": "UNCOMMON", "severity": "MILD", "duration": "TEMPORARY",
                     "note": "More likely when a deeper treatment is chosen.", "node": { "title": "Microneedling" } }])
        );
        assert_eq!(data["conditions"]["totalCount"], 8);
        let names: Vec<&str> = data["conditions"]["edges"].as_array().into_iter().flatten()
            .filter_map(|e| e["node"]["name"].as_str()).collect();
        assert_eq!(names, ["Acne", "Alopecia", "Loose skin"]);
        let names: Vec<&str> = data["sideEffects"]["edges"].as_array().into_iter().flatten()
            .filter_map(|e| e["node"]["name"].as_str()).collect();
        assert_eq!(names, ["Bruising", "Bleeding"], "last 2 of Z..A");
        assert_eq!(data["missingTopic"], Value::Null);
        assert_eq!(data["missingCondition"], Value::Null);
        assert_eq!(data["missingEffect"], Value::Null);
    }
}

on_both_databases! {
    async fn markdown_is_rendered_and_sanitized(backend) {
        let seed = json!({
            "conditions": [{ "slug": "x", "name": "X", "description": "*fine* <script>alert('c')</script>" }],
            "topics": [{
                "slug": "unsafe", "title": "Unsafe",
                "body": "**bold** <script>alert(1)</script> <img src=x onerror=alert(1)> [link](javascript:alert(1)) <a href=\"https://example.org\">ok</a>",
                "conditions": [{ "slug": "x" }]
            }]
        });
        let server = TestServer::on(backend).seed_json(&seed).start().await;
        let data = server
            .query(r#"{ topic(slug: "unsafe") { body bodyHtml conditions { node { descriptionHtml } } } }"#, json!({}))
            .await;
        let html = data["topic"]["bodyHtml"].as_str().unwrap_or_default();
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("href=\"https://example.org\""), "{html}");
        for forbidden in ["<script", "onerror", "javascript:"] {
            assert!(!html.contains(forbidden), "{forbidden} in {html}");
        }
        assert!(data["topic"]["body"].as_str().unwrap_or_default().contains("<script>"), "source kept as written");
        let description = data["topic"]["conditions"][0]["node"]["descriptionHtml"].as_str().unwrap_or_default();
        assert!(description.contains("<em>fine</em>") && !description.contains("<script"), "{description}");
    }
}

on_both_databases! {
    async fn full_text_search_matches_word_prefixes_and_follows_edits(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let slugs = |search: &'static str| {
            let server = &server;
            async move {
                let data = server.query("query($s: String) { topics(filter: { search: $s }) { edges { node { slug } } } }", json!({ "s": search })).await;
                data["topics"]["edges"].as_array().into_iter().flatten()
                    .map(|e| e["node"]["slug"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>()
            }
        };
        assert_eq!(slugs("micro").await, ["microneedling"], "a word's beginning");
        assert_eq!(slugs("COLLAGEN skin").await, ["microneedling"], "every word, any case, any column");
        assert!(slugs("needling").await.is_empty(), "not the middle of a word");
        assert!(slugs("collagen zebra").await.is_empty(), "every word must match");
        assert!(slugs("%%% ...").await.is_empty(), "no words, no matches");

        let topic = server.query_as(&admin, "{ topic(slug: \"microneedling\") { id version } }", json!({})).await["topic"].clone();
        server.query_as(&admin,
            "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version } } }",
            json!({ "input": { "id": topic["id"], "expectedVersion": topic["version"], "title": "Collagen induction therapy" } }),
        ).await;
        assert_eq!(slugs("induction").await, ["microneedling"], "the index follows an edit");
        let conditions = server.query("{ conditions(filter: { search: \"scar\" }) { edges { node { slug } } } }", json!({})).await;
        assert!(conditions["conditions"]["edges"].as_array().is_some_and(|e| !e.is_empty()), "{conditions}");
    }
}

on_both_databases! {
    async fn titles_and_names_sort_case_insensitively_on_every_path_and_page(backend) {
        let titles = ["botox", "Azelaic Peel", "acne laser", "Chemical peel", "BB glow", "zinc mask", "Yoga face"];
        let topics: Vec<Value> = titles.iter().enumerate().map(|(i, t)| json!({ "slug": format!("t-{i}"), "title": t, "summary": "." })).collect();
        let conditions: Vec<Value> = ["melasma", "Acne", "rosacea", "Burns"].iter().enumerate().map(|(i, n)| json!({ "slug": format!("c-{i}"), "name": n })).collect();
        let server = TestServer::on(backend).seed_json(&json!({ "topics": topics, "conditions": conditions, "sideEffects": [] })).start().await;
        let expected = ["acne laser", "Azelaic Peel", "BB glow", "botox", "Chemical peel", "Yoga face", "zinc mask"];
        // One page, and pages of two through the cursor, anonymously (the compiled path
        // answers these) and as an editor (the general executor).
        let admin = server.first_admin().await;
        let page = "query($after: String) { topics(first: 2, after: $after) { edges { node { title } } pageInfo { hasNextPage endCursor } } }";
        // Anonymous twice: the compiled path learns a query from the general executor's
        // first answer, and answers it from then on.
        for session in [None, None, Some(&admin)] {
            let all = match session {
                None => server.query("{ topics(first: 10) { edges { node { title } } } }", json!({})).await,
                Some(s) => server.query_as(s, "{ topics(first: 10) { edges { node { title } } } }", json!({})).await,
            };
            let listed: Vec<&str> = all["topics"]["edges"].as_array().into_iter().flatten().filter_map(|e| e["node"]["title"].as_str()).collect();
            assert_eq!(listed, expected, "{session:?}");
            let mut seen = Vec::new();
            let mut after = Value::Null;
            loop {
                let data = match session {
                    None => server.query(page, json!({ "after": after })).await,
                    Some(s) => server.query_as(s, page, json!({ "after": after })).await,
                };
                seen.extend(data["topics"]["edges"].as_array().into_iter().flatten().filter_map(|e| e["node"]["title"].as_str().map(str::to_owned)));
                if data["topics"]["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = data["topics"]["pageInfo"]["endCursor"].clone();
            }
            assert_eq!(seen, expected, "paged: {session:?}");
        }
        let conditions = server.query("{ conditions(first: 10) { edges { node { name } } } }", json!({})).await;
        let names: Vec<&str> = conditions["conditions"]["edges"].as_array().into_iter().flatten().filter_map(|e| e["node"]["name"].as_str()).collect();
        assert_eq!(names, ["Acne", "Burns", "melasma", "rosacea"]);
        // Descending is the reverse.
        let down = server.query("{ topics(first: 3, orderBy: { field: TITLE, direction: DESC }) { edges { node { title } } } }", json!({})).await;
        let listed: Vec<&str> = down["topics"]["edges"].as_array().into_iter().flatten().filter_map(|e| e["node"]["title"].as_str()).collect();
        assert_eq!(listed, ["zinc mask", "Yoga face", "Chemical peel"]);
    }
}
