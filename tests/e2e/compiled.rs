//! The compiled read path (one SQL statement per anonymous topic page) answers exactly what
//! the general executor answers, byte for byte, and leaves to it everything else.

use dermis_tests::{Backend, Session, TestServer, on_both_databases};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const PAGE: &str = "query TopicPage($slug: String!) { topic(slug: $slug) { slug title summary \
    bodyHtml features benefits conditions { note node { slug name } } \
    sideEffects { frequency severity duration note node { slug name } } } }";

const UPDATE: &str =
    "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version } } }";

/// A server without the response cache, so every anonymous read is executed.
async fn server(backend: Backend) -> TestServer {
    TestServer::on(backend)
        .sample()
        .env("DERMIS_RESPONSE_CACHE_BYTES", "0")
        .start()
        .await
}

/// POSTs a query (anonymously, or with `token`); the status and the body's exact bytes.
async fn raw(
    server: &TestServer,
    token: Option<&str>,
    query: &str,
    variables: &Value,
) -> (u16, String) {
    let body = json!({ "query": query, "variables": variables });
    server.post_text(token, &body).await
}

/// Anonymous reads executed so far by each executor: (compiled, general).
async fn executors(server: &TestServer) -> (u64, u64) {
    let metrics = server.metrics().await;
    let count = |executor: &str| {
        let prefix = format!("dermis_anonymous_reads_total{{executor=\"{executor}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    (count("compiled"), count("general"))
}

/// Sends `query` anonymously twice (the first answer teaches the compiled path, which
/// gives the second) and once as `editor` (always the general executor); asserts the three
/// bodies are the same bytes, that the second came from the compiled path, and returns
/// the parsed answer.
async fn same_on_both_paths(
    server: &TestServer,
    editor: &Session,
    query: &str,
    variables: Value,
) -> Value {
    let before = executors(server).await;
    let (status, general) = raw(server, None, query, &variables).await;
    assert_eq!(status, 200, "{general}");
    assert_eq!(
        executors(server).await,
        (before.0, before.1 + 1),
        "the first answer is the general executor's: {query}"
    );
    let compiled = compiled_body(server, editor, query, &variables).await;
    assert_eq!(
        compiled, general,
        "compiled and general answers differ for {query}"
    );
    data(&compiled)
}

/// Sends `query` anonymously, after the compiled path has learnt it: asserts the answer
/// came from the compiled path and is, byte for byte, the general executor's (an editor's
/// answer: editors are never compiled, and a list without a status filter shows them the
/// published topics too); returns the parsed answer.
async fn compiled_is_general(
    server: &TestServer,
    editor: &Session,
    query: &str,
    variables: Value,
) -> Value {
    data(&compiled_body(server, editor, query, &variables).await)
}

/// The compiled answer's body, asserted compiled and equal to `editor`'s.
async fn compiled_body(
    server: &TestServer,
    editor: &Session,
    query: &str,
    variables: &Value,
) -> String {
    let before = executors(server).await;
    let (status, compiled) = raw(server, None, query, variables).await;
    assert_eq!(status, 200, "{compiled}");
    assert_eq!(
        executors(server).await,
        (before.0 + 1, before.1),
        "compiled: {query} {variables}"
    );
    let (_, editors) = raw(server, Some(&editor.access), query, variables).await;
    assert_eq!(
        compiled, editors,
        "the compiled answer differs from an editor's for {query} {variables}"
    );
    compiled
}

/// The `data` of an answer without errors.
fn data(body: &str) -> Value {
    let answer: Value = serde_json::from_str(body).expect("JSON");
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"].clone()
}

/// The sample topic's id and version, as an editor sees them.
async fn topic(server: &TestServer, editor: &Session) -> Value {
    server
        .query_as(
            editor,
            "{ topic(slug: \"microneedling\", preview: true) { id version } }",
            json!({}),
        )
        .await["topic"]
        .clone()
}

/// Text that JSON must escape, and text it must not.
const TRICKY: &str = "Quotes \"x\", a backslash \\, a tab\t, </script>, \u{2028}, é, 日本, 😀";

on_both_databases! {
    async fn compiled_answers_are_the_general_answers_byte_for_byte(backend) {
        let server = server(backend).await;
        let admin = server.first_admin().await;
        let current = topic(&server, &admin).await;
        let condition = server.query("{ topic(slug: \"microneedling\") { conditions { node { id } } } }", json!({})).await
            ["topic"]["conditions"][0]["node"]["id"].clone();
        server.query_as(&admin, UPDATE, json!({ "input": {
            "id": current["id"], "expectedVersion": current["version"],
            "summary": TRICKY,
            "body": format!("# How it works\n\n{TRICKY}\n\n* one\n* two <script>alert(1)</script>"),
            "features": [TRICKY, "second"],
            "conditions": [{ "conditionId": condition, "note": TRICKY }, ],
        } })).await;
        // A published topic without links, and a draft.
        let bare = server.query_as(&admin, "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id version } } }",
            json!({ "input": { "title": "Bare topic", "slug": "bare" } })).await["createTopic"]["topic"].clone();
        server.query_as(&admin, "mutation($input: PublishTopicInput!) { publishTopic(input: $input) { topic { status } } }",
            json!({ "input": { "id": bare["id"], "expectedVersion": bare["version"], "overrideReview": "tested without review" } })).await;
        server.query_as(&admin, "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id } } }",
            json!({ "input": { "title": "Draft topic", "slug": "draft" } })).await;

        let data = same_on_both_paths(&server, &admin, PAGE, json!({ "slug": "microneedling" })).await;
        let page = &data["topic"];
        assert_eq!(page["summary"], TRICKY);
        assert_eq!(page["features"], json!([TRICKY, "second"]));
        assert_eq!(page["conditions"].as_array().map(Vec::len), Some(1), "{page}");
        assert_eq!(page["conditions"][0]["note"], TRICKY);
        let html = page["bodyHtml"].as_str().unwrap_or_default();
        assert!(html.contains("<h1>How it works</h1>") && !html.contains("<script"), "{html}");
        assert!(page["sideEffects"].as_array().is_some_and(|s| s.len() == 8), "{page}");

        // Aliases, __typename at every level, ids, fragments (named and inline), the
        // linked documents' own fields, two roots of which one misses, a default variable.
        let rich = "query Rich($slug: String = \"microneedling\") { __typename \
            page: topic(slug: $slug) { __typename id version status ...Heading \
              ... on Topic { body benefits } \
              treats: conditions { __typename position note node { __typename id slug status version description descriptionHtml } } \
              sideEffects { position frequency node { ...Named } } } \
            missing: topic(slug: \"no-such-topic\") { title } } \
            fragment Heading on Topic { heading: title slug } \
            fragment Named on SideEffect { __typename name descriptionHtml }";
        let data = same_on_both_paths(&server, &admin, rich, json!({})).await;
        assert_eq!(data["__typename"], "Query");
        assert_eq!(data["page"]["__typename"], "Topic");
        assert_eq!(data["page"]["treats"][0]["node"]["__typename"], "Condition");
        assert_eq!(data["page"]["sideEffects"][0]["node"]["__typename"], "SideEffect");
        assert!(data["page"]["sideEffects"][0]["node"]["descriptionHtml"].as_str().is_some_and(|h| h.starts_with('<')), "{data}");
        assert_eq!(data["missing"], Value::Null);

        // No links is an empty list; a draft is null to the public.
        let data = same_on_both_paths(&server, &admin, "{ topic(slug: \"bare\") { title conditions { note } sideEffects { note } } }", json!({})).await;
        assert_eq!(data["topic"], json!({ "title": "Bare topic", "conditions": [], "sideEffects": [] }));
        let data = same_on_both_paths(&server, &admin, "query D($s: String!) { topic(slug: $s) { title } }", json!({ "s": "draft" })).await;
        assert_eq!(data["topic"], Value::Null);
    }
}

on_both_databases! {
    async fn the_general_executor_answers_what_the_compiled_path_cannot(backend) {
        let server = server(backend).await;
        let variables = json!({ "slug": "microneedling" });
        raw(&server, None, PAGE, &variables).await;
        let (compiled, general) = executors(&server).await;
        assert_eq!((compiled, general), (0, 1));

        // Variables the plan cannot use as they are: the general executor gives the error.
        let (_, body) = raw(&server, None, PAGE, &json!({})).await;
        assert!(body.contains("\"errors\""), "{body}");
        let long = "a".repeat(121);
        let (_, body) = raw(&server, None, PAGE, &json!({ "slug": long })).await;
        assert!(body.contains("BAD_USER_INPUT"), "{body}");
        let (_, body) = raw(&server, None, PAGE, &json!({ "slug": 7 })).await;
        assert!(body.contains("\"errors\""), "{body}");
        // Another operation name than the one learnt.
        let other = json!({ "query": PAGE, "variables": variables, "operationName": "Other" });
        let (_, body) = server.post_text(None, &other).await;
        assert!(body.contains("\"errors\""), "{body}");
        // (A missing required variable is refused by the query limits before execution,
        // and an unknown operation name is no query at all: neither is counted.)
        assert_eq!(executors(&server).await, (0, 3), "none of these were compiled");

        // Fields the compiled path does not know are always the general executor's.
        let dated = "{ topic(slug: \"microneedling\") { title publishedAt } }";
        for _ in 0..2 {
            let (_, body) = raw(&server, None, dated, &json!({})).await;
            assert!(body.contains("publishedAt"), "{body}");
        }
        assert_eq!(executors(&server).await, (0, 5));

        // A good request again is compiled.
        raw(&server, None, PAGE, &variables).await;
        assert_eq!(executors(&server).await, (1, 5));

        // Switched off, nothing is compiled.
        let node = server.another_node(&[("DERMIS_COMPILED_READS", "false"), ("DERMIS_RESPONSE_CACHE_BYTES", "0")]).await;
        for _ in 0..3 {
            raw(&node, None, PAGE, &variables).await;
        }
        assert_eq!(executors(&node).await, (0, 3));
    }
}

on_both_databases! {
    async fn the_compiled_path_sees_every_write_at_once(backend) {
        let server = server(backend).await;
        let admin = server.first_admin().await;
        let variables = json!({ "slug": "microneedling" });
        raw(&server, None, PAGE, &variables).await;
        for round in 1..=3 {
            let current = topic(&server, &admin).await;
            let title = format!("Microneedling, edit {round}");
            server.query_as(&admin, UPDATE, json!({ "input": {
                "id": current["id"], "expectedVersion": current["version"],
                "title": title, "body": format!("Edit **{round}**"),
            } })).await;
            let (_, body) = raw(&server, None, PAGE, &variables).await;
            let answer: Value = serde_json::from_str(&body).expect("JSON");
            assert_eq!(answer["data"]["topic"]["title"], title.as_str(), "{body}");
            assert_eq!(answer["data"]["topic"]["bodyHtml"], format!("<p>Edit <strong>{round}</strong></p>\n"), "{body}");
        }
        assert_eq!(executors(&server).await.0, 3, "every read after the first was compiled");

        // Unpublished, the topic is gone at once.
        let current = topic(&server, &admin).await;
        server.query_as(&admin, "mutation($input: DocumentVersionInput!) { unpublishTopic(input: $input) { topic { status } } }",
            json!({ "input": { "id": current["id"], "expectedVersion": current["version"] } })).await;
        let (_, body) = raw(&server, None, PAGE, &variables).await;
        assert_eq!(body, "{\"data\":{\"topic\":null}}");
        assert_eq!(executors(&server).await.0, 4);
    }
}

on_both_databases! {
    async fn html_missing_or_from_another_renderer_is_rendered_at_start(backend) {
        let mut server = server(backend).await;
        let variables = json!({ "slug": "microneedling" });
        let (_, before) = raw(&server, None, PAGE, &variables).await;
        assert!(before.contains("<p>"), "{before}");
        server.signal("TERM");
        server.wait_for_exit(std::time::Duration::from_secs(20)).await.expect("stops");

        // As a database migrated from before the stored HTML, and one whose HTML came
        // from another renderer version.
        let db = server.db.connect().await;
        for sql in [
            "UPDATE topics SET body_html = NULL",
            "UPDATE conditions SET description_html = NULL",
            "UPDATE side_effects SET description_html = 'stale'",
            "UPDATE settings SET value = '0' WHERE key = 'markdown_renderer_version'",
        ] {
            db.execute_unprepared(sql).await.expect(sql);
        }
        drop(db);
        let server = server.another_node(&[("DERMIS_RESPONSE_CACHE_BYTES", "0")]).await;
        server.wait_for_log("rendered the Markdown of documents without stored HTML").await;
        let rich = "{ topic(slug: \"microneedling\") { bodyHtml conditions { node { descriptionHtml } } sideEffects { node { descriptionHtml } } } }";
        let first = raw(&server, None, rich, &json!({})).await.1;
        let second = raw(&server, None, rich, &json!({})).await.1;
        assert_eq!(first, second);
        assert_eq!(executors(&server).await, (1, 1));
        assert!(!second.contains("stale") && !second.contains("null"), "{second}");
        assert_eq!(raw(&server, None, PAGE, &variables).await.1, before, "the same page as before");
    }
}

on_both_databases! {
    async fn html_not_rendered_yet_is_rendered_by_the_general_executor(backend) {
        // A row whose stored HTML is missing while the server runs (written by another
        // tool, say): the compiled statement meets the null and leaves the answer to the
        // general executor, which renders the Markdown, so both paths answer the same.
        let server = server(backend).await;
        let admin = server.first_admin().await;
        let db = server.db.connect().await;
        for sql in ["UPDATE topics SET body_html = NULL", "UPDATE conditions SET description_html = NULL"] {
            db.execute_unprepared(sql).await.expect(sql);
        }
        drop(db);
        let rich = "{ topic(slug: \"microneedling\") { bodyHtml conditions { node { descriptionHtml } } } }";
        let (_, editor) = raw(&server, Some(&admin.access), rich, &json!({})).await;
        assert!(editor.contains("<h2>") && !editor.contains("null"), "{editor}");
        let before = executors(&server).await;
        let first = raw(&server, None, rich, &json!({})).await.1;
        let second = raw(&server, None, rich, &json!({})).await.1;
        assert_eq!(first, editor);
        assert_eq!(second, editor, "the compiled path's answer is the general one");
        assert_eq!(executors(&server).await, (before.0, before.1 + 2), "both by the general executor");
    }
}

on_both_databases! {
    async fn reads_during_writes_stay_compiled_and_consistent(backend) {
        let server = server(backend).await;
        let admin = server.first_admin().await;
        let variables = json!({ "slug": "microneedling" });
        raw(&server, None, PAGE, &variables).await;
        let id = topic(&server, &admin).await["id"].clone();
        // Saves one after another while reads run beside them (on SQLite, reads that meet
        // a running write leave the HTTP workers for the pool).
        let writer = async {
            for round in 0..15 {
                let version = topic(&server, &admin).await["version"].clone();
                server.query_as(&admin, UPDATE, json!({ "input": {
                    "id": id, "expectedVersion": version, "title": format!("Round {round}"),
                } })).await;
                // Once a save is answered, the next read sees it (on SQLite the reader
                // beside it keeps its thread's read transaction open meanwhile).
                let (_, body) = raw(&server, None, PAGE, &variables).await;
                assert!(body.contains(&format!("\"title\":\"Round {round}\"")), "{body}");
            }
        };
        let reader = async {
            let mut titles = Vec::new();
            for _ in 0..120 {
                let (status, body) = raw(&server, None, PAGE, &variables).await;
                assert_eq!(status, 200, "{body}");
                let answer: Value = serde_json::from_str(&body).expect("JSON");
                titles.push(answer["data"]["topic"]["title"].as_str().unwrap_or_default().to_owned());
            }
            titles
        };
        // A list beside them too (its cursors carry the title).
        let list = "{ topics { totalCount edges { cursor node { title } } } }";
        raw(&server, None, list, &json!({})).await;
        let lister = async {
            let mut titles = Vec::new();
            for _ in 0..60 {
                let (status, body) = raw(&server, None, list, &json!({})).await;
                assert_eq!(status, 200, "{body}");
                let answer: Value = serde_json::from_str(&body).expect("JSON");
                assert_eq!(answer["data"]["topics"]["totalCount"], 1, "{body}");
                titles.push(answer["data"]["topics"]["edges"][0]["node"]["title"].as_str().unwrap_or_default().to_owned());
            }
            titles
        };
        let ((), titles, listed) = tokio::join!(writer, reader, lister);
        let listed: Vec<i64> = listed.iter().map(|t| t.strip_prefix("Round ").map_or(-1, |r| r.parse().unwrap_or(i64::MAX))).collect();
        assert!(listed.windows(2).all(|w| w[0] <= w[1] && w[1] < 15), "{listed:?}");
        // Never an older title after a newer one.
        let rounds: Vec<i64> = titles.iter().map(|t| match t.strip_prefix("Round ") {
            Some(round) => round.parse().unwrap_or(i64::MAX),
            None if t == "Microneedling" => -1,
            None => i64::MAX,
        }).collect();
        assert!(rounds.iter().all(|r| *r < 15), "{titles:?}");
        assert!(rounds.windows(2).all(|w| w[0] <= w[1]), "{titles:?}");
        assert_eq!(executors(&server).await.0, 195, "every read was compiled");
        let (_, last) = raw(&server, None, PAGE, &variables).await;
        assert!(last.contains("\"title\":\"Round 14\""), "{last}");
    }
}

on_both_databases! {
    async fn links_come_in_editorial_order(backend) {
        let server = server(backend).await;
        let admin = server.first_admin().await;
        let current = topic(&server, &admin).await;
        let links = server.query_as(&admin, "{ topic(slug: \"microneedling\", preview: true) { \
            conditions { node { id } } sideEffects { frequency severity duration node { id } } } }", json!({})).await;
        // The links in the reverse of their order, so that editorial order differs from
        // the order of the documents' ids and of the rows' primary keys.
        let reversed = |list: &Value| -> Vec<Value> {
            list.as_array().cloned().unwrap_or_default().into_iter().rev().collect()
        };
        let conditions: Vec<Value> = reversed(&links["topic"]["conditions"]).iter()
            .map(|c| json!({ "conditionId": c["node"]["id"] })).collect();
        let side_effects: Vec<Value> = reversed(&links["topic"]["sideEffects"]).iter()
            .map(|e| json!({ "sideEffectId": e["node"]["id"], "frequency": e["frequency"],
                "severity": e["severity"], "duration": e["duration"] })).collect();
        assert!(conditions.len() >= 3 && side_effects.len() >= 3, "{links}");
        server.query_as(&admin, UPDATE, json!({ "input": {
            "id": current["id"], "expectedVersion": current["version"],
            "conditions": conditions, "sideEffects": side_effects,
        } })).await;
        let query = "{ topic(slug: \"microneedling\") { conditions { position node { id } } \
            sideEffects { position node { id } } } }";
        let data = same_on_both_paths(&server, &admin, query, json!({})).await;
        let ids = |list: &Value| -> Vec<Value> {
            list.as_array().cloned().unwrap_or_default().iter().map(|l| l["node"]["id"].clone()).collect()
        };
        let wanted = |list: &[Value], key: &str| -> Vec<Value> { list.iter().map(|l| l[key].clone()).collect() };
        assert_eq!(ids(&data["topic"]["conditions"]), wanted(&conditions, "conditionId"));
        assert_eq!(ids(&data["topic"]["sideEffects"]), wanted(&side_effects, "sideEffectId"));
        let positions: Vec<Value> = data["topic"]["sideEffects"].as_array().cloned().unwrap_or_default()
            .iter().map(|l| l["position"].clone()).collect();
        assert!(positions.windows(2).all(|w| w[0].as_i64() < w[1].as_i64()), "{positions:?}");
    }
}

on_both_databases! {
    async fn links_to_documents_that_are_not_published_are_left_out(backend) {
        let server = server(backend).await;
        let admin = server.first_admin().await;
        let variables = json!({ "slug": "microneedling" });
        let before = same_on_both_paths(&server, &admin, PAGE, variables.clone()).await;
        let slug_of = |list: &str| {
            before["topic"][list][0]["node"]["slug"]
                .as_str()
                .unwrap_or_else(|| panic!("the sample topic has {list}: {before}"))
                .to_owned()
        };
        let (condition, side_effect) = (slug_of("conditions"), slug_of("sideEffects"));
        // The API refuses to unpublish a linked document; a row can still say so (an
        // import, an operator's SQL), and the public page must not show it.
        let db = server.db.connect().await;
        for sql in [
            format!("UPDATE conditions SET status = 'DRAFT' WHERE slug = '{condition}'"),
            format!("UPDATE side_effects SET status = 'DRAFT' WHERE slug = '{side_effect}'"),
        ] {
            db.execute_unprepared(&sql).await.expect("update");
        }
        drop(db);
        // A SQLite node's reads share a read transaction for 20 ms at most, and these
        // writes did not go through the node.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let learnt = executors(&server).await;
        let (_, compiled) = raw(&server, None, PAGE, &variables).await;
        assert_eq!(executors(&server).await, (learnt.0 + 1, learnt.1), "compiled");
        let (_, general) = raw(&server, Some(&admin.access), PAGE, &variables).await;
        assert_eq!(compiled, general);
        let answer: Value = serde_json::from_str(&compiled).expect("JSON");
        let slugs = |list: &str| -> Vec<String> {
            answer["data"]["topic"][list]
                .as_array()
                .map(|edges| edges.iter().filter_map(|e| e["node"]["slug"].as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let count = |list: &str| before["topic"][list].as_array().map_or(0, Vec::len);
        assert_eq!(slugs("conditions").len(), count("conditions") - 1, "{compiled}");
        assert!(!slugs("conditions").contains(&condition), "{compiled}");
        assert_eq!(slugs("sideEffects").len(), count("sideEffects") - 1, "{compiled}");
        assert!(!slugs("sideEffects").contains(&side_effect), "{compiled}");
    }
}

/// The benchmark's listing: a page of topics with their links.
const LIST: &str = "query Listing { topics(first: 20) { totalCount edges { cursor node { slug title summary \
    conditions { node { slug name } } sideEffects { frequency severity node { slug name } } } } } }";

/// Creates a topic (published unless `draft`); its slug.
async fn create_topic(server: &TestServer, admin: &Session, title: &str, slug: &str, draft: bool) {
    let created = server.query_as(admin, "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id version } } }",
        json!({ "input": { "title": title, "slug": slug, "summary": format!("About {title}.") } })).await["createTopic"]["topic"].clone();
    if !draft {
        server.query_as(admin, "mutation($input: PublishTopicInput!) { publishTopic(input: $input) { topic { status } } }",
            json!({ "input": { "id": created["id"], "expectedVersion": created["version"], "overrideReview": "tested without review" } })).await;
    }
}

/// The slugs of a list's edges, in order.
fn slugs(list: &Value) -> Vec<String> {
    list["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|edge| edge["node"]["slug"].as_str().map(str::to_owned))
        .collect()
}

on_both_databases! {
    async fn topic_lists_are_the_general_answers_byte_for_byte(backend) {
        let server = server(backend).await;
        let admin = server.first_admin().await;
        // Titles a cursor must quote (quotes, a backslash, a tab, non-ASCII), two equal
        // titles (the id breaks the tie), and a draft nobody anonymous may count.
        for (title, slug) in [("Acne \"scars\"", "acne-scars"), ("Acne \"scars\"", "acne-scars-2"),
            ("Back\\slash\ttab", "backslash"), ("Éclat 日本 😀", "eclat"), ("Zz last", "zz")] {
            create_topic(&server, &admin, title, slug, false).await;
        }
        create_topic(&server, &admin, "Aaa draft", "draft", true).await;

        let listing = same_on_both_paths(&server, &admin, LIST, json!({})).await;
        assert_eq!(listing["topics"]["totalCount"], 6, "{listing}");
        let all = slugs(&listing["topics"]);
        assert_eq!(all.len(), 6, "{all:?}");
        assert!(!all.contains(&"draft".to_owned()), "{all:?}");
        let first = all.iter().position(|s| s == "acne-scars");
        assert!(first.is_some() && all.get(first.unwrap_or(0) + 1).map(String::as_str) == Some("acne-scars-2"), "equal titles by id: {all:?}");
        let micro = &listing["topics"]["edges"].as_array().into_iter().flatten()
            .find(|e| e["node"]["slug"] == "microneedling").cloned().unwrap_or_default()["node"];
        assert_eq!(micro["conditions"].as_array().map(Vec::len), Some(8), "{micro}");

        // Page after page through the cursors, with every field of pageInfo.
        let paged = "query Paged($after: String) { topics(first: 2, after: $after) { __typename totalCount \
            edges { __typename cursor node { slug } } \
            pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } } }";
        same_on_both_paths(&server, &admin, paged, json!({})).await;
        let (mut after, mut seen) = (Value::Null, Vec::new());
        for _ in 0..4 {
            let page = compiled_is_general(&server, &admin, paged, json!({ "after": after })).await["topics"].clone();
            assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null(), "{page}");
            assert_eq!(page["pageInfo"]["startCursor"], page["edges"][0]["cursor"], "{page}");
            seen.extend(slugs(&page));
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen, all, "the pages add up to the list");

        // Search: a variable, its words as word beginnings, with a cursor, with no match,
        // without words, null; and a literal.
        let search = "query S($q: String, $after: String) { topics(first: 1, after: $after, filter: { search: $q }) \
            { totalCount edges { cursor node { slug } } pageInfo { hasNextPage hasPreviousPage endCursor } } }";
        same_on_both_paths(&server, &admin, search, json!({ "q": "acn" })).await;
        let acne = compiled_is_general(&server, &admin, search, json!({ "q": "acn SCARS" })).await["topics"].clone();
        assert_eq!((acne["totalCount"].clone(), slugs(&acne)), (json!(2), vec!["acne-scars".to_owned()]), "{acne}");
        assert_eq!(acne["pageInfo"]["hasNextPage"], true);
        let second = compiled_is_general(&server, &admin, search,
            json!({ "q": "acn SCARS", "after": acne["pageInfo"]["endCursor"] })).await["topics"].clone();
        assert_eq!(slugs(&second), vec!["acne-scars-2".to_owned()], "{second}");
        assert_eq!((second["pageInfo"]["hasNextPage"].clone(), second["pageInfo"]["hasPreviousPage"].clone()), (json!(false), json!(true)));
        for (q, count) in [(json!("nothing-like-this"), 0), (json!("!!!"), 0), (Value::Null, 6)] {
            let found = compiled_is_general(&server, &admin, search, json!({ "q": q })).await["topics"].clone();
            assert_eq!(found["totalCount"], count, "{q}: {found}");
        }
        let literal = "{ topics(filter: { search: \"zz\" }) { totalCount edges { node { title } } } }";
        let data = same_on_both_paths(&server, &admin, literal, json!({})).await;
        assert_eq!(data["topics"]["edges"][0]["node"]["title"], "Zz last");

        // Several roots, each with its own arguments, bound in their order.
        let several = "query Several($q: String, $slug: String!, $after: String) { \
            a: topics(first: 1, filter: { search: $q }) { totalCount edges { node { slug } } } \
            page: topic(slug: $slug) { title } \
            b: topics(first: 2, after: $after) { edges { cursor node { slug } } pageInfo { hasPreviousPage } } }";
        let variables = json!({ "q": "zz", "slug": "eclat", "after": listing["topics"]["edges"][0]["cursor"] });
        let data = same_on_both_paths(&server, &admin, several, variables).await;
        assert_eq!((data["a"]["totalCount"].clone(), slugs(&data["a"])), (json!(1), vec!["zz".to_owned()]), "{data}");
        assert_eq!(data["page"]["title"], "Éclat 日本 😀");
        assert_eq!(slugs(&data["b"]), all[1..3].to_vec(), "{data}");
        assert_eq!(data["b"]["pageInfo"]["hasPreviousPage"], true);

        // Page sizes: none, null and zero.
        let empty = same_on_both_paths(&server, &admin,
            "{ topics(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage startCursor endCursor } } }", json!({})).await;
        assert_eq!(empty["topics"], json!({ "totalCount": 6, "edges": [], "pageInfo": { "hasNextPage": true, "startCursor": null, "endCursor": null } }));
        let null = same_on_both_paths(&server, &admin, "{ topics(first: null) { edges { node { slug } } } }", json!({})).await;
        assert_eq!(slugs(&null["topics"]), all);

        // A write is seen by the next compiled list at once.
        create_topic(&server, &admin, "Brand new", "brand-new", false).await;
        let listing = compiled_is_general(&server, &admin, LIST, json!({})).await;
        assert_eq!(listing["topics"]["totalCount"], 7, "{listing}");
    }
}

on_both_databases! {
    async fn topic_lists_the_compiled_path_cannot_answer_go_to_the_general_executor(backend) {
        let server = server(backend).await;
        // The page size as a variable (it weighs in the admitted complexity): never compiled.
        let sized = "query Sized($n: Int) { topics(first: $n) { totalCount } }";
        for _ in 0..2 {
            let (_, body) = raw(&server, None, sized, &json!({ "n": 1 })).await;
            assert!(body.contains("\"totalCount\":1"), "{body}");
        }
        assert_eq!(executors(&server).await, (0, 2));
        // A page size out of range, written in the query: the general executor's error, twice.
        for _ in 0..2 {
            let (_, body) = raw(&server, None, "{ topics(first: 101) { totalCount } }", &json!({})).await;
            assert!(body.contains("BAD_USER_INPUT"), "{body}");
        }
        assert_eq!(executors(&server).await.0, 0);

        // Learnt, then arguments the general executor refuses.
        let query = "query L($after: String, $q: String!) { topics(first: 2, after: $after, filter: { search: $q }) { totalCount } }";
        raw(&server, None, query, &json!({ "q": "micro" })).await;
        let (_, body) = raw(&server, None, query, &json!({ "q": "micro" })).await;
        assert_eq!(body, "{\"data\":{\"topics\":{\"totalCount\":1}}}");
        assert_eq!(executors(&server).await.0, 1);
        let (_, other_order) = raw(&server, None, "{ topics(first: 1, orderBy: { field: UPDATED_AT }) { edges { cursor } } }", &json!({})).await;
        let other_order: Value = serde_json::from_str(&other_order).expect("JSON");
        for variables in [
            json!({ "q": "micro", "after": "not a cursor" }),
            json!({ "q": "micro", "after": other_order["data"]["topics"]["edges"][0]["cursor"] }),
            json!({ "q": "a".repeat(201) }),
            json!({ "q": null }),
            json!({ "q": 7 }),
        ] {
            let (_, body) = raw(&server, None, query, &variables).await;
            assert!(body.contains("\"errors\""), "{variables}: {body}");
        }
        assert_eq!(executors(&server).await.0, 1, "none of these were compiled");
    }
}

on_both_databases! {
    async fn a_body_showing_images_is_the_same_bytes_on_both_paths(backend) {
        // Readers of drafts get signed image addresses; anonymous readers, on either path,
        // the stored HTML with public ones.
        let server = server(backend).await;
        let admin = server.first_admin().await;
        let item = crate::media::upload(&server, &admin, crate::media::png(700, 350), "pen.png", "The pen at work").await;
        let current = topic(&server, &admin).await;
        let page = server.query(r#"{ topic(slug: "microneedling") { body } }"#, json!({})).await;
        let body = format!("{}\n\n![The pen at work](media:{} \"Step one\")", page["topic"]["body"].as_str().expect("body"), item["id"].as_str().expect("id"));
        server.query_as(&admin, UPDATE, json!({ "input": { "id": current["id"], "expectedVersion": current["version"], "body": body } })).await;

        let variables = json!({ "slug": "microneedling" });
        let before = executors(&server).await;
        let (_, general) = raw(&server, None, PAGE, &variables).await;
        let (_, compiled) = raw(&server, None, PAGE, &variables).await;
        assert_eq!(executors(&server).await, (before.0 + 1, before.1 + 1), "one answer from each path");
        assert_eq!(compiled, general, "byte for byte");
        let html = data(&compiled)["topic"]["bodyHtml"].as_str().expect("html").to_owned();
        let hash = item["contentHash"].as_str().expect("hash");
        assert!(html.contains(&format!("src=\"/media/{hash}.png\"")) && html.contains("srcset="), "{html}");
        assert!(!html.contains("signature="), "public addresses only: {html}");
    }
}
