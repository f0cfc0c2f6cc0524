//! API tokens through HTTP: what each scope allows and refuses, attribution of writes,
//! revocation, expiry and the creator's deactivation holding at once on two nodes, and the
//! `dermis token` command.

use std::time::Duration;

use dermis_tests::{TestServer, on_both_databases};
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
    secret apiToken { id name prefix scopes active lastUsedAt createdBy { email } } } }";
const REVOKE: &str =
    "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { active revokedAt } } }";
const DRAFTS: &str =
    "{ topics(first: 50, filter: { status: [DRAFT] }) { edges { node { slug } } } }";
const CREATE_TOPIC: &str =
    "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id slug } } }";

/// POSTs `query` with `token` as the bearer credential; (status, body).
async fn with(node: &TestServer, token: &str, query: &str, variables: Value) -> (u16, Value) {
    node.post_as(
        Some(token),
        &json!({ "query": query, "variables": variables }),
    )
    .await
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

on_both_databases! {
    async fn a_token_can_do_what_its_scopes_say_and_nothing_else(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let editor = server.user(&admin, "ed@example.org", "EDITOR").await;
        server.query_as(&editor, CREATE_TOPIC, json!({ "input": { "title": "Draft peel", "slug": "draft-peel" } })).await;

        // Only admins, signed in as users, make tokens; at least one scope; a sane name.
        let refused = server.error_as(Some(&editor), CREATE, json!({ "input": { "name": "x", "scopes": ["PREVIEW"] } })).await;
        assert_eq!(refused["extensions"]["code"], "FORBIDDEN");
        let none = server.error_as(Some(&admin), CREATE, json!({ "input": { "name": "x", "scopes": [] } })).await;
        assert_eq!((none["extensions"]["code"].as_str(), none["extensions"]["field"].as_str()), (Some("BAD_USER_INPUT"), Some("input.scopes")));
        let past = server.error_as(Some(&admin), CREATE, json!({ "input": { "name": "x", "scopes": ["PREVIEW"], "expiresAt": "2020-01-01T00:00:00Z" } })).await;
        assert_eq!(past["extensions"]["field"], "input.expiresAt");

        let made = server.query_as(&admin, CREATE, json!({ "input": { "name": "Preview frontend", "scopes": ["PREVIEW"] } })).await["createApiToken"].clone();
        let preview = made["secret"].as_str().expect("secret").to_owned();
        assert!(preview.starts_with("dmt_") && preview.len() > 40, "{preview}");
        assert!(preview.starts_with(made["apiToken"]["prefix"].as_str().expect("prefix")));
        assert_eq!(made["apiToken"]["scopes"], json!(["PREVIEW"]));
        assert_eq!(made["apiToken"]["createdBy"]["email"], "admin@example.org");

        // PREVIEW: drafts yes; writes, accounts and tokens no.
        let (status, drafts) = with(&server, &preview, DRAFTS, json!({})).await;
        assert_eq!(status, 200, "{drafts}");
        assert!(drafts["data"]["topics"]["edges"].as_array().is_some_and(|e| e.iter().any(|n| n["node"]["slug"] == "draft-peel")), "{drafts}");
        let (_, write) = with(&server, &preview, CREATE_TOPIC, json!({ "input": { "title": "No", "slug": "no" } })).await;
        assert_eq!(code(&write), "FORBIDDEN", "{write}");
        for query in ["{ users { email } }", "{ apiTokens { id } }"] {
            let (_, body) = with(&server, &preview, query, json!({})).await;
            assert_eq!(code(&body), "FORBIDDEN", "{query}: {body}");
        }
        let (_, nested) = with(&server, &preview, CREATE, json!({ "input": { "name": "child", "scopes": ["CONTENT_WRITE"] } })).await;
        assert_eq!(code(&nested), "FORBIDDEN", "a token cannot make tokens: {nested}");
        let (_, me) = with(&server, &preview, "{ me { email } }", json!({})).await;
        assert_eq!(me["data"]["me"], Value::Null);
        // Anonymous callers and editors' tokens are unaffected.
        let anonymous = server.error_as(None, DRAFTS, json!({})).await;
        assert_eq!(anonymous["extensions"]["code"], "UNAUTHENTICATED");

        // CONTENT_WRITE: writes, attributed to the token and its creator.
        let writer = server.query_as(&admin, CREATE, json!({ "input": { "name": "Build server", "scopes": ["CONTENT_WRITE"] } })).await["createApiToken"]["secret"].as_str().expect("secret").to_owned();
        let (status, created) = with(&server, &writer, CREATE_TOPIC, json!({ "input": { "title": "From the pipeline", "slug": "from-the-pipeline" } })).await;
        assert_eq!(status, 200, "{created}");
        let id = created["data"]["createTopic"]["topic"]["id"].clone();
        let history = server.query_as(&editor, "query($id: ID!) { revisions(documentType: TOPIC, documentId: $id) { edges { node { author { email } apiToken { name prefix } } } } }", json!({ "id": id })).await;
        let node = &history["revisions"]["edges"][0]["node"];
        assert_eq!(node["author"]["email"], "admin@example.org");
        assert_eq!(node["apiToken"]["name"], "Build server");
        // Users' own writes name no token.
        let own = server.query_as(&editor, "{ topic(slug: \"draft-peel\", preview: true) { id } }", json!({})).await["topic"]["id"].clone();
        let own = server.query_as(&editor, "query($id: ID!) { revisions(documentType: TOPIC, documentId: $id) { edges { node { apiToken { name } } } } }", json!({ "id": own })).await;
        assert_eq!(own["revisions"]["edges"][0]["node"]["apiToken"], Value::Null);

        // Garbage with the prefix, and a well-formed unknown secret: 401.
        for bad in ["dmt_", "dmt_not-a-real-token-at-all-0000000000000000000"] {
            let (status, body) = with(&server, bad, DRAFTS, json!({})).await;
            assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"), "{body}");
        }
        // Its use is recorded (off the request's path: wait for it).
        loop {
            let list = server.query_as(&admin, "{ apiTokens { name lastUsedAt } }", json!({})).await;
            let used = list["apiTokens"].as_array().into_iter().flatten().find(|t| t["name"] == "Build server").map(|t| !t["lastUsedAt"].is_null());
            if used == Some(true) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

on_both_databases! {
    async fn revocation_expiry_and_the_creators_deactivation_hold_at_once_on_every_node(backend) {
        let a = TestServer::on(backend).sample().start().await;
        let admin = a.first_admin().await;
        let other_admin = a.user(&admin, "boss@example.org", "ADMIN").await;
        let b = a.another_node(&[]).await;
        let create = |name: &str, expires: Option<String>| json!({ "input": { "name": name, "scopes": ["PREVIEW"], "expiresAt": expires } });

        let made = a.query_as(&admin, CREATE, create("to revoke", None)).await["createApiToken"].clone();
        let secret = made["secret"].as_str().expect("secret").to_owned();
        assert_eq!(with(&b, &secret, DRAFTS, json!({})).await.0, 200);
        let revoked = a.query_as(&admin, REVOKE, json!({ "id": made["apiToken"]["id"] })).await;
        assert_eq!(revoked["revokeApiToken"]["apiToken"]["active"], false);
        let (status, body) = with(&b, &secret, DRAFTS, json!({})).await;
        assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"), "the very next request, on the other node: {body}");

        // A token made by an admin who is then deactivated stops working at once.
        let theirs = a.query_as(&other_admin, CREATE, create("theirs", None)).await["createApiToken"]["secret"].as_str().expect("secret").to_owned();
        assert_eq!(with(&b, &theirs, DRAFTS, json!({})).await.0, 200);
        a.query_as(&admin, "mutation($id: ID!) { deactivateUser(input: { id: $id }) { user { active } } }", json!({ "id": other_admin.user_id })).await;
        assert_eq!(with(&b, &theirs, DRAFTS, json!({})).await.0, 401);

        // Expiry: works before, refused after, on both nodes.
        let expires = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
        let brief = a.query_as(&admin, CREATE, create("brief", Some(expires.to_rfc3339()))).await["createApiToken"]["secret"].as_str().expect("secret").to_owned();
        assert_eq!(with(&b, &brief, DRAFTS, json!({})).await.0, 200);
        let after = (expires - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(100);
        tokio::time::sleep(after).await;
        for node in [&a, &b] {
            assert_eq!(with(node, &brief, DRAFTS, json!({})).await.0, 401);
        }
    }
}

on_both_databases! {
    async fn the_token_command_creates_lists_and_revokes(backend) {
        let server = TestServer::sample(backend).await;
        server.first_admin().await;
        let command = |args: &[&str]| {
            let mut command = dermis_tests::dermis(server.db.dir.path());
            command.arg("token").args(args).env("DERMIS_DATABASE_URL", &server.db.url);
            command
        };
        let refused = dermis_tests::run(command(&["create", "--name", "ci", "--scope", "preview", "--by", "nobody@example.org"])).await;
        assert_eq!(refused.code, Some(2), "{refused:?}");
        let created = dermis_tests::run(command(&["create", "--name", "ci", "--scope", "preview", "--scope", "content-write", "--by", "admin@example.org", "--expires-in-days", "30"])).await;
        assert_eq!(created.code, Some(0), "{created:?}");
        let secret = created.stdout.trim().to_owned();
        assert!(secret.starts_with("dmt_") && !secret.contains(char::is_whitespace), "{created:?}");
        let (status, body) = with(&server, &secret, CREATE_TOPIC, json!({ "input": { "title": "By command", "slug": "by-command" } })).await;
        assert_eq!(status, 200, "{body}");

        let listed = dermis_tests::run(command(&["list"])).await;
        let line = listed.stdout.lines().find(|l| l.contains("\tci\t")).expect("listed").to_owned();
        assert!(line.contains("PREVIEW,CONTENT_WRITE") && line.contains("\tactive\t") && !line.contains(&secret), "{line}");
        let id = line.split('\t').next().expect("id").to_owned();
        let revoked = dermis_tests::run(command(&["revoke", "--id", &id])).await;
        assert_eq!(revoked.code, Some(0), "{revoked:?}");
        assert_eq!(with(&server, &secret, DRAFTS, json!({})).await.0, 401);
    }
}

on_both_databases! {
    async fn a_revoked_token_is_refused_at_once_while_clients_keep_using_it_on_another_node(backend) {
        // Four clients keep sending the token to node B while an admin revokes it on node A:
        // no request sent after the revocation was answered gets through.
        let unlimited = ("DERMIS_RATE_LIMIT_PER_SECOND", "0");
        let a = TestServer::on(backend).env(unlimited.0, unlimited.1).start().await;
        let admin = a.first_admin().await;
        let b = a.another_node(&[unlimited]).await;
        let made = a.query_as(&admin, CREATE, json!({ "input": { "name": "partner", "scopes": ["PREVIEW"] } })).await["createApiToken"].clone();
        let secret = made["secret"].as_str().expect("secret").to_owned();
        crate::sessions::ends_at_once(&b, &secret, async {
            a.query_as(&admin, REVOKE, json!({ "id": made["apiToken"]["id"] })).await;
        })
        .await;
    }
}
