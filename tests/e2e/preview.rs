//! Preview links: an editor mints a token that reads one document's draft and nothing more,
//! for a frontend's draft mode; it writes nothing, expires, and stops with its editor.

use std::time::Duration;

use dermis_tests::{TestServer, on_both_databases};
use serde_json::{Value, json};

const MINT: &str = "mutation($input: CreatePreviewLinkInput!) { createPreviewLink(input: $input) { token url expiresAt } }";
const DRAFT: &str = "query($slug: String, $id: ID) { topic(slug: $slug, id: $id, preview: true) { title status conditions { node { slug } } } }";
const TEMPLATE: &str = "https://site.example/api/preview?slug={slug}&token={token}";

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

on_both_databases! {
    async fn a_preview_link_reads_its_draft_and_nothing_else(backend) {
        let server = TestServer::on(backend).sample().env("DERMIS_PREVIEW_URL", TEMPLATE).start().await;
        let admin = server.first_admin().await;
        let editor = server.user(&admin, "ed@example.org", "EDITOR").await;
        let melasma = server.query_as(&editor, "mutation { createCondition(input: { name: \"Melasma\" }) { condition { id } } }", json!({})).await["createCondition"]["condition"]["id"].clone();
        let acne = server.query(r#"{ condition(slug: "acne") { id } }"#, json!({})).await["condition"]["id"].clone();
        let peels = server.query_as(&editor, "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id } } }",
            json!({ "input": { "title": "Chemical peels", "slug": "chemical-peels", "conditions": [{ "conditionId": acne }, { "conditionId": melasma }] } })).await["createTopic"]["topic"]["id"].clone();
        server.query_as(&editor, "mutation { createTopic(input: { title: \"Other draft\", slug: \"other-draft\" }) { topic { id } } }", json!({})).await;

        let link = server.query_as(&editor, MINT, json!({ "input": { "documentType": "TOPIC", "id": peels } })).await["createPreviewLink"].clone();
        let token = link["token"].as_str().expect("token").to_owned();
        assert!(token.starts_with("dmp_"), "{token}");
        let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        assert_eq!(link["url"], format!("https://site.example/api/preview?slug=chemical-peels&token={encoded}"));

        // Its draft, by slug and by id; its links as the public sees them (the draft
        // condition left out).
        let read = |variables: Value| { let server = &server; let token = token.clone(); async move {
            server.post_as(Some(&token), &json!({ "query": DRAFT, "variables": variables })).await
        } };
        let (status, by_slug) = read(json!({ "slug": "chemical-peels" })).await;
        assert_eq!(status, 200, "{by_slug}");
        assert_eq!(by_slug["data"]["topic"], json!({ "title": "Chemical peels", "status": "DRAFT", "conditions": [{ "node": { "slug": "acne" } }] }));
        let (_, by_id) = read(json!({ "id": peels })).await;
        assert_eq!(by_id["data"], by_slug["data"]);
        // Another draft is not there; published content is, as the public sees it.
        let (_, other) = read(json!({ "slug": "other-draft" })).await;
        assert_eq!(other["data"]["topic"], Value::Null, "{other}");
        let (_, public) = read(json!({ "slug": "microneedling" })).await;
        assert_eq!(public["data"]["topic"]["status"], "PUBLISHED");
        // Lists of drafts, writes and accounts are refused.
        for query in [
            "{ topics(filter: { status: [DRAFT] }) { totalCount } }",
            "mutation($id: ID!) { publishTopic(input: { id: $id, expectedVersion: 1 }) { topic { status } } }",
            "{ users { email } }",
        ] {
            let (_, body) = server.post_as(Some(&token), &json!({ "query": query, "variables": { "id": peels } })).await;
            assert_eq!(code(&body), "FORBIDDEN", "{query}: {body}");
        }
        let (_, minted) = server.post_as(Some(&token), &json!({ "query": MINT, "variables": { "input": { "documentType": "TOPIC", "id": peels } } })).await;
        assert_eq!(code(&minted), "FORBIDDEN", "a preview link cannot mint another");

        // Only signed-in editors mint, for documents that exist.
        let (_, anonymous) = server.post(&json!({ "query": MINT, "variables": { "input": { "documentType": "TOPIC", "id": peels } } })).await;
        assert_eq!(code(&anonymous), "UNAUTHENTICATED");
        let missing = server.error_as(Some(&editor), MINT, json!({ "input": { "documentType": "CONDITION", "id": "99999" } })).await;
        assert_eq!(missing["extensions"]["code"], "NOT_FOUND");

        // A forged token is refused; so is every token of a deactivated editor, at once.
        let (status, _) = server.post_as(Some("dmp_forged.token.here"), &json!({ "query": "{ __typename }" })).await;
        assert_eq!(status, 401);
        server.query_as(&admin, "mutation($id: ID!) { deactivateUser(input: { id: $id }) { user { active } } }", json!({ "id": editor.user_id })).await;
        let (status, body) = read(json!({ "slug": "chemical-peels" })).await;
        assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"), "{body}");
    }
}

on_both_databases! {
    async fn a_preview_link_expires(backend) {
        let server = TestServer::on(backend).sample().env("DERMIS_PREVIEW_TTL", "1").start().await;
        let admin = server.first_admin().await;
        let id = server.query(r#"{ topic(slug: "microneedling") { id } }"#, json!({})).await["topic"]["id"].clone();
        let link = server.query_as(&admin, MINT, json!({ "input": { "documentType": "TOPIC", "id": id } })).await["createPreviewLink"].clone();
        assert_eq!(link["url"], Value::Null, "no preview address configured");
        let token = link["token"].as_str().expect("token").to_owned();
        let (status, _) = server.post_as(Some(&token), &json!({ "query": DRAFT, "variables": { "id": id } })).await;
        assert_eq!(status, 200);
        // One second, and the five seconds of leeway every token verification allows.
        tokio::time::sleep(Duration::from_millis(7000)).await;
        let (status, body) = server.post_as(Some(&token), &json!({ "query": DRAFT, "variables": { "id": id } })).await;
        assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"), "{body}");
    }
}
