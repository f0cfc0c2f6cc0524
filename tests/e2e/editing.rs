//! Content mutations: create, update with optimistic locking, publish rules that keep links
//! consistent, validation that writes nothing, revisions and restore, drafts for editors.

use dermis_tests::{Session, TestServer, on_both_databases};
use serde_json::{Value, json};

fn code(error: &Value) -> &str {
    error["extensions"]["code"].as_str().unwrap_or_default()
}

const CREATE_CONDITION: &str = "mutation($input: CreateConditionInput!) { createCondition(input: $input) { condition { id slug version status } } }";
const CREATE_SIDE_EFFECT: &str = "mutation($input: CreateSideEffectInput!) { createSideEffect(input: $input) { sideEffect { id slug version status } } }";
const CREATE_TOPIC: &str = "mutation($input: CreateTopicInput!) { createTopic(input: $input) {
    topic { id slug title version status conditions { note node { slug } } sideEffects { frequency note node { slug } } } } }";
const UPDATE_TOPIC: &str = "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) {
    topic { id slug title version status reviewedAt conditions { position note node { slug } } sideEffects { frequency severity duration node { slug } } } } }";
const PUBLISH_TOPIC: &str = "mutation($input: PublishTopicInput!) { publishTopic(input: $input) { topic { version status publishedAt } } }";
const HISTORY: &str =
    "query($type: DocumentType!, $id: ID!) { revisions(documentType: $type, documentId: $id) {
    edges { node { id version message author { email } snapshot } } } }";

/// A reviewer (who edits and approves) with one draft condition, one draft side effect and
/// a draft topic linking both.
async fn drafted(server: &TestServer) -> (Session, Value) {
    let admin = server.first_admin().await;
    let editor = server.user(&admin, "editor@example.org", "REVIEWER").await;
    let condition = server
        .query_as(
            &editor,
            CREATE_CONDITION,
            json!({ "input": { "name": "Melasma", "description": "Brown *patches*." } }),
        )
        .await["createCondition"]["condition"]
        .clone();
    let side_effect = server
        .query_as(
            &editor,
            CREATE_SIDE_EFFECT,
            json!({ "input": { "name": "Itching" } }),
        )
        .await["createSideEffect"]["sideEffect"]
        .clone();
    assert_eq!(condition["slug"], "melasma", "slug derived from the name");
    assert_eq!(condition["status"], "DRAFT");
    let topic = server
        .query_as(
            &editor,
            CREATE_TOPIC,
            json!({ "input": {
                "title": "Chemical Peel",
                "summary": "A solution removes the outer layer of skin.",
                "body": "## How it works\n\nAn acid is applied.",
                "features": ["Quick", "Adjustable depth"],
                "benefits": ["Smoother skin"],
                "references": [{ "title": "A review", "url": "https://example.org/review" }],
                "conditions": [{ "conditionId": condition["id"], "note": "Superficial peels first." }],
                "sideEffects": [{ "sideEffectId": side_effect["id"], "frequency": "COMMON", "severity": "MILD", "duration": "TEMPORARY" }]
            } }),
        )
        .await["createTopic"]["topic"]
        .clone();
    assert_eq!(topic["slug"], "chemical-peel");
    assert_eq!(topic["version"], 1);
    assert_eq!(topic["conditions"][0]["note"], "Superficial peels first.");
    (editor, topic)
}

on_both_databases! {
    async fn publishing_keeps_links_consistent(backend) {
        let server = TestServer::on(backend).start().await;
        let (editor, topic) = drafted(&server).await;
        let public = r#"{ topic(slug: "chemical-peel") { title conditions { node { slug status } } } condition(slug: "melasma") { name } }"#;
        assert_eq!(server.query(public, json!({})).await["topic"], Value::Null, "drafts are not public");

        let refused = server
            .error_as(Some(&editor), PUBLISH_TOPIC, json!({ "input": { "id": topic["id"], "expectedVersion": 1 } }))
            .await;
        assert_eq!(code(&refused), "CONFLICT");
        assert_eq!(refused["extensions"]["reason"], "UNPUBLISHED_LINKS");
        let listed: Vec<&str> = refused["extensions"]["documents"].as_array().into_iter().flatten()
            .filter_map(|d| d["slug"].as_str()).collect();
        assert_eq!(listed, ["melasma", "itching"]);
        assert_eq!(server.query(public, json!({})).await["topic"], Value::Null, "nothing half-published");

        let refused = server
            .error_as(Some(&editor), PUBLISH_TOPIC, json!({ "input": { "id": topic["id"], "expectedVersion": 1, "includeLinked": true } }))
            .await;
        assert_eq!(refused["extensions"]["reason"], "NOT_APPROVED", "{refused}");
        assert_eq!(server.query(r#"{ condition(slug: "melasma") { name } }"#, json!({})).await["condition"], Value::Null, "nothing half-published");
        server.query_as(&editor, "mutation($input: ApproveTopicInput!) { approveTopic(input: $input) { topic { status } } }",
            json!({ "input": { "id": topic["id"], "expectedVersion": 1 } })).await;
        let published = server
            .query_as(&editor, PUBLISH_TOPIC, json!({ "input": { "id": topic["id"], "expectedVersion": 2, "includeLinked": true } }))
            .await;
        assert_eq!(published["publishTopic"]["topic"]["status"], "PUBLISHED");
        assert_eq!(published["publishTopic"]["topic"]["version"], 3);
        let seen = server.query(public, json!({})).await;
        assert_eq!(seen["topic"]["conditions"], json!([{ "node": { "slug": "melasma", "status": "PUBLISHED" } }]));
        assert_eq!(seen["condition"]["name"], "Melasma");

        // A condition a published topic links to cannot go away.
        let condition_id = server.query(r#"{ condition(slug: "melasma") { id version } }"#, json!({})).await["condition"].clone();
        for mutation in ["unpublishCondition", "archiveCondition"] {
            let error = server
                .error_as(Some(&editor), &format!("mutation($input: DocumentVersionInput!) {{ {mutation}(input: $input) {{ condition {{ status }} }} }}"),
                    json!({ "input": { "id": condition_id["id"], "expectedVersion": condition_id["version"] } }))
                .await;
            assert_eq!(error["extensions"]["reason"], "LINKED_FROM_PUBLISHED", "{mutation}: {error}");
            assert_eq!(error["extensions"]["documents"][0]["slug"], "chemical-peel");
        }
        let error = server
            .error_as(Some(&editor), "mutation($input: DocumentVersionInput!) { deleteCondition(input: $input) { deletedId } }",
                json!({ "input": { "id": condition_id["id"], "expectedVersion": condition_id["version"] } }))
            .await;
        assert_eq!(error["extensions"]["reason"], "LINKED_FROM_PUBLISHED");

        // Once the topic is unpublished, the condition may be unpublished.
        server
            .query_as(&editor, "mutation($input: DocumentVersionInput!) { unpublishTopic(input: $input) { topic { status } } }",
                json!({ "input": { "id": topic["id"], "expectedVersion": 3 } }))
            .await;
        let done = server
            .query_as(&editor, "mutation($input: DocumentVersionInput!) { unpublishCondition(input: $input) { condition { status version } } }",
                json!({ "input": { "id": condition_id["id"], "expectedVersion": condition_id["version"] } }))
            .await;
        assert_eq!(done["unpublishCondition"]["condition"]["status"], "DRAFT");

        // Unpublished unchanged, it stays approved: republishing needs no new review. A
        // published topic cannot be given a draft link either.
        let republished = server
            .query_as(&editor, PUBLISH_TOPIC, json!({ "input": { "id": topic["id"], "expectedVersion": 4, "includeLinked": true } }))
            .await;
        assert_eq!(republished["publishTopic"]["topic"]["version"], 5);
        let draft = server
            .query_as(&editor, CREATE_CONDITION, json!({ "input": { "name": "Freckles" } }))
            .await["createCondition"]["condition"]["id"].clone();
        let error = server
            .error_as(Some(&editor), UPDATE_TOPIC, json!({ "input": { "id": topic["id"], "expectedVersion": 5,
                "conditions": [{ "conditionId": draft }] } }))
            .await;
        assert_eq!(error["extensions"]["reason"], "UNPUBLISHED_LINKS", "{error}");
    }
}

on_both_databases! {
    async fn concurrent_saves_of_one_version_exactly_one_wins(backend) {
        let server = TestServer::on(backend).start().await;
        let (first, topic) = drafted(&server).await;
        let admin = server.login("admin@example.org", dermis_tests::PASSWORD).await;
        let second = server.user(&admin, "second@example.org", "EDITOR").await;
        let mut version = 1;
        for round in 0..6 {
            let save = |session: &Session, title: String| {
                let body = json!({ "query": UPDATE_TOPIC, "variables": { "input": { "id": topic["id"], "expectedVersion": version, "title": title } } });
                let token = session.access.clone();
                let server = &server;
                async move { server.post_as(Some(&token), &body).await.1 }
            };
            let (a, b) = tokio::join!(save(&first, format!("First {round}")), save(&second, format!("Second {round}")));
            let winners: Vec<&Value> = [&a, &b].into_iter().filter(|r| r.get("errors").is_none()).collect();
            assert_eq!(winners.len(), 1, "round {round}: {a} / {b}");
            let loser = if a.get("errors").is_some() { &a } else { &b };
            assert_eq!(code(&loser["errors"][0]), "CONFLICT", "{loser}");
            assert_eq!(loser["errors"][0]["extensions"]["reason"], "STALE_VERSION");
            assert_eq!(loser["errors"][0]["extensions"]["currentVersion"], version + 1);
            let saved = &winners[0]["data"]["updateTopic"]["topic"];
            assert_eq!(saved["version"], version + 1);
            // The winner's save is what the database holds, whole, with its revision.
            let now = server.query_as(&first, "query($id: ID!) { topic(id: $id, preview: true) { title version } }", json!({ "id": topic["id"] })).await;
            assert_eq!(now["topic"]["title"], saved["title"]);
            version += 1;
        }
        let history = server.query_as(&first, HISTORY, json!({ "type": "TOPIC", "id": topic["id"] })).await;
        let versions: Vec<i64> = history["revisions"]["edges"].as_array().into_iter().flatten()
            .filter_map(|e| e["node"]["version"].as_i64()).collect();
        assert_eq!(versions, (1..=version).rev().collect::<Vec<_>>(), "one revision per accepted save");
    }
}

on_both_databases! {
    async fn invalid_input_is_refused_and_nothing_is_written(backend) {
        let server = TestServer::on(backend).start().await;
        let (editor, topic) = drafted(&server).await;
        let before = server.db.fingerprint().await;
        let id = topic["id"].clone();
        let long = "x".repeat(201);
        let cases = [
            (CREATE_TOPIC, json!({ "title": "A", "slug": "Bad Slug" }), "input.slug"),
            (CREATE_TOPIC, json!({ "title": "Taken", "slug": "chemical-peel" }), "input.slug"),
            (CREATE_TOPIC, json!({ "title": "   " }), "input.title"),
            (CREATE_TOPIC, json!({ "title": long }), "input.title"),
            (CREATE_TOPIC, json!({ "title": "A", "conditions": [{ "conditionId": "999999" }] }), "input.conditions[0]"),
            (CREATE_TOPIC, json!({ "title": "A", "conditions": [{ "conditionId": "abc" }] }), "input.conditions[0].conditionId"),
            (CREATE_TOPIC, json!({ "title": "A", "references": [{ "title": "x", "url": "javascript:alert(1)" }] }), "input.references[0].url"),
            (CREATE_TOPIC, json!({ "title": "A", "features": ["ok", ""] }), "input.features[1]"),
            (UPDATE_TOPIC, json!({ "id": id, "expectedVersion": 1, "slug": "-bad-" }), "input.slug"),
            (UPDATE_TOPIC, json!({ "id": id, "expectedVersion": 1, "title": "Fine", "conditions": [
                { "conditionId": topic["conditions"][0]["node"]["slug"] }] }), "input.conditions[0].conditionId"),
            (CREATE_CONDITION, json!({ "name": "Melasma" }), "input.slug"),
        ];
        for (mutation, input, field) in cases {
            let error = server.error_as(Some(&editor), mutation, json!({ "input": input })).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{input}: {error}");
            assert_eq!(error["extensions"]["field"], field, "{input}: {error}");
        }
        // Duplicate links, a bad enum value, a stale version, an unknown id.
        let condition_id = server.query_as(&editor, r#"{ condition(slug: "melasma", preview: true) { id } }"#, json!({})).await["condition"]["id"].clone();
        let error = server
            .error_as(Some(&editor), UPDATE_TOPIC, json!({ "input": { "id": id, "expectedVersion": 1,
                "conditions": [{ "conditionId": condition_id }, { "conditionId": condition_id }] } }))
            .await;
        assert_eq!(error["extensions"]["field"], "input.conditions[1]");
        let error = server
            .error_as(Some(&editor), UPDATE_TOPIC, json!({ "input": { "id": id, "expectedVersion": 1,
                "sideEffects": [{ "sideEffectId": "1", "frequency": "SOMETIMES", "severity": "MILD", "duration": "TEMPORARY" }] } }))
            .await;
        assert_eq!(code(&error), "GRAPHQL_VALIDATION_FAILED", "{error}");
        let error = server.error_as(Some(&editor), UPDATE_TOPIC, json!({ "input": { "id": id, "expectedVersion": 7, "title": "Late" } })).await;
        assert_eq!(code(&error), "CONFLICT");
        assert_eq!(error["extensions"]["currentVersion"], 1);
        let error = server.error_as(Some(&editor), UPDATE_TOPIC, json!({ "input": { "id": "424242", "expectedVersion": 1, "title": "Ghost" } })).await;
        assert_eq!(code(&error), "NOT_FOUND");

        assert_eq!(server.db.fingerprint().await, before, "refused writes left no trace");
    }
}

on_both_databases! {
    async fn history_and_restore_round_trip(backend) {
        let server = TestServer::on(backend).start().await;
        let (editor, topic) = drafted(&server).await;
        let changed = server
            .query_as(&editor, UPDATE_TOPIC, json!({ "input": { "id": topic["id"], "expectedVersion": 1,
                "title": "Deep Peel", "conditions": [], "markReviewed": true } }))
            .await;
        assert_eq!(changed["updateTopic"]["topic"]["title"], "Deep Peel");
        assert_eq!(changed["updateTopic"]["topic"]["conditions"], json!([]));
        assert!(changed["updateTopic"]["topic"]["reviewedAt"].is_string());

        let history = server.query_as(&editor, HISTORY, json!({ "type": "TOPIC", "id": topic["id"] })).await;
        let edges = history["revisions"]["edges"].as_array().cloned().unwrap_or_default();
        assert_eq!(edges.len(), 2);
        assert_eq!(edges[0]["node"]["author"]["email"], "editor@example.org");
        assert_eq!(edges[1]["node"]["snapshot"]["topic"]["title"], "Chemical Peel");
        assert_eq!(edges[1]["node"]["snapshot"]["conditions"].as_array().map(Vec::len), Some(1));

        let stale = server
            .error_as(Some(&editor), "mutation($input: RestoreRevisionInput!) { restoreRevision(input: $input) { document { __typename } } }",
                json!({ "input": { "revisionId": edges[1]["node"]["id"], "expectedVersion": 1 } }))
            .await;
        assert_eq!(code(&stale), "CONFLICT");
        let restored = server
            .query_as(&editor, "mutation($input: RestoreRevisionInput!) { restoreRevision(input: $input) {
                document { ... on Topic { title version conditions { note node { slug } } } } } }",
                json!({ "input": { "revisionId": edges[1]["node"]["id"], "expectedVersion": 2 } }))
            .await;
        let document = &restored["restoreRevision"]["document"];
        assert_eq!(document["title"], "Chemical Peel");
        assert_eq!(document["version"], 3);
        assert_eq!(document["conditions"], json!([{ "note": "Superficial peels first.", "node": { "slug": "melasma" } }]));

        let history = server.query_as(&editor, HISTORY, json!({ "type": "TOPIC", "id": topic["id"] })).await;
        let messages: Vec<Value> = history["revisions"]["edges"].as_array().into_iter().flatten().map(|e| e["node"]["message"].clone()).collect();
        assert_eq!(messages, [json!("restored version 1"), Value::Null, Value::Null], "history is appended, never rewritten");

        // Deleting keeps the history.
        server
            .query_as(&editor, "mutation($input: DocumentVersionInput!) { deleteTopic(input: $input) { deletedId } }",
                json!({ "input": { "id": topic["id"], "expectedVersion": 3 } }))
            .await;
        let gone = server.query_as(&editor, "query($id: ID!) { topic(id: $id, preview: true) { id } }", json!({ "id": topic["id"] })).await;
        assert_eq!(gone["topic"], Value::Null);
        let history = server.query_as(&editor, HISTORY, json!({ "type": "TOPIC", "id": topic["id"] })).await;
        assert_eq!(history["revisions"]["edges"][0]["node"]["message"], "deleted");
        assert_eq!(history["revisions"]["edges"].as_array().map(Vec::len), Some(4));
    }
}

on_both_databases! {
    async fn drafts_are_for_editors_only(backend) {
        let server = TestServer::on(backend).start().await;
        let (editor, topic) = drafted(&server).await;
        let preview = r#"{ topic(slug: "chemical-peel", preview: true) { status conditions { node { status } } } }"#;
        let seen = server.query_as(&editor, preview, json!({})).await;
        assert_eq!(seen["topic"]["status"], "DRAFT");
        assert_eq!(seen["topic"]["conditions"], json!([{ "node": { "status": "DRAFT" } }]));
        let error = server.error_as(None, preview, json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED");

        // Without preview an editor sees what the public sees.
        let plain = server.query_as(&editor, r#"{ topic(slug: "chemical-peel") { id } }"#, json!({})).await;
        assert_eq!(plain["topic"], Value::Null);

        let drafts = r#"{ topics(filter: { status: [DRAFT] }) { totalCount edges { node { slug } } }
                          conditions(filter: { status: [DRAFT, ARCHIVED] }) { totalCount } }"#;
        let listed = server.query_as(&editor, drafts, json!({})).await;
        assert_eq!(listed["topics"]["totalCount"], 1);
        assert_eq!(listed["conditions"]["totalCount"], 1);
        assert_eq!(code(&server.error_as(None, drafts, json!({})).await), "UNAUTHENTICATED");
        let published_only = server.query(r#"{ topics(filter: { status: [PUBLISHED] }) { totalCount } }"#, json!({})).await;
        assert_eq!(published_only["topics"]["totalCount"], 0);
        let by_id = server.query_as(&editor, "query($id: ID!) { topic(id: $id, preview: true) { slug } }", json!({ "id": topic["id"] })).await;
        assert_eq!(by_id["topic"]["slug"], "chemical-peel");

        // The editor's live preview renders like bodyHtml, sanitized.
        let preview = server
            .query_as(&editor, "query($m: String!) { markdownPreview(markdown: $m) }",
                json!({ "m": "## Depth\n\n*light* peel<script>alert(1)</script>" }))
            .await;
        let html = preview["markdownPreview"].as_str().unwrap_or_default();
        assert!(html.contains("<h2>Depth</h2>") && html.contains("<em>light</em>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        let too_long = server
            .error_as(Some(&editor), "query($m: String!) { markdownPreview(markdown: $m) }", json!({ "m": "x".repeat(100_001) }))
            .await;
        assert_eq!(too_long["extensions"]["field"], "markdown");
    }
}

on_both_databases! {
    async fn deleting_a_linked_condition_versions_the_draft_topics(backend) {
        let server = TestServer::on(backend).start().await;
        let (editor, topic) = drafted(&server).await;
        let condition = server
            .query_as(&editor, r#"{ condition(slug: "melasma", preview: true) { id version } }"#, json!({}))
            .await["condition"]
            .clone();
        server
            .query_as(&editor, "mutation($input: DocumentVersionInput!) { deleteCondition(input: $input) { deletedId } }",
                json!({ "input": { "id": condition["id"], "expectedVersion": condition["version"] } }))
            .await;

        // The draft lost the link with a new version and a revision that says why...
        let seen = server
            .query_as(&editor, "query($id: ID!) { topic(id: $id, preview: true) { version conditions { node { slug } } sideEffects { node { slug } } } }",
                json!({ "id": topic["id"] }))
            .await;
        assert_eq!(seen["topic"]["version"], 2);
        assert_eq!(seen["topic"]["conditions"], json!([]));
        assert_eq!(seen["topic"]["sideEffects"], json!([{ "node": { "slug": "itching" } }]));
        let history = server.query_as(&editor, HISTORY, json!({ "type": "TOPIC", "id": topic["id"] })).await;
        assert_eq!(history["revisions"]["edges"][0]["node"]["message"], "link removed: the condition melasma was deleted");
        assert_eq!(history["revisions"]["edges"][0]["node"]["snapshot"]["conditions"], json!([]));

        // ...so an editor still holding version 1 cannot save the removed link back unseen.
        let stale = server
            .error_as(Some(&editor), UPDATE_TOPIC, json!({ "input": { "id": topic["id"], "expectedVersion": 1, "title": "Peel" } }))
            .await;
        assert_eq!(code(&stale), "CONFLICT");
        assert_eq!(stale["extensions"]["currentVersion"], 2);
    }
}
