//! Every mutation but login, refresh and setup refuses an anonymous caller, every
//! admin-only one refuses an editor and a reviewer, and every reviewer-only one (approving
//! content) refuses an editor. The mutations come from introspection, so a new
//! mutation without a guard fails this test.

use dermis_tests::schema::{Introspection, call_document};
use dermis_tests::{Session, TestServer, on_both_databases};
use serde_json::json;

/// Mutations anyone may call.
const PUBLIC: [&str; 3] = ["login", "refreshSession", "createFirstAdmin"];
/// How the role guard's refusal of an anonymous caller begins.
const SIGN_IN: &str = "sign in to do this";
/// Mutations only admins may call.
const ADMIN_ONLY: [&str; 12] = [
    "createApiToken",
    "revokeApiToken",
    "createWebhookEndpoint",
    "updateWebhookEndpoint",
    "rotateWebhookSecret",
    "deleteWebhookEndpoint",
    "redeliverWebhook",
    "sendTestWebhook",
    "createUser",
    "updateUser",
    "deactivateUser",
    "resetPassword",
];

/// Mutations only reviewers and admins may call.
const REVIEWER_ONLY: [&str; 2] = ["approveTopic", "requestTopicChanges"];

/// Calls every field of `root` with dummy arguments as `session`; returns name -> error code.
async fn call_all(
    server: &TestServer,
    root: &str,
    session: Option<&Session>,
) -> Vec<(String, String, String)> {
    let schema = Introspection::load(server, root, None).await;
    let keyword = if root == "mutation" {
        "mutation"
    } else {
        "query"
    };
    let mut codes = Vec::new();
    for field in &schema.fields {
        let name = field["name"].as_str().unwrap_or_default();
        let mut required = Vec::new();
        let mut variables = serde_json::Map::new();
        for arg in field["args"].as_array().into_iter().flatten() {
            if arg["type"]["kind"] == "NON_NULL" {
                let arg_name = arg["name"].as_str().unwrap_or_default();
                required.push(arg_name);
                variables.insert(arg_name.to_owned(), schema.dummy(&arg["type"]));
            }
        }
        let document = call_document(keyword, field, &required);
        let (_, body) = server
            .post_as(
                session.map(|s| s.access.as_str()),
                &json!({ "query": document, "variables": variables }),
            )
            .await;
        assert!(
            body["errors"].as_array().is_none_or(|errors| errors
                .iter()
                .all(|e| e["extensions"]["code"] != "GRAPHQL_VALIDATION_FAILED")),
            "{name}: the probe itself is invalid: {body}"
        );
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("OK")
            .to_owned();
        let message = body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        codes.push((name.to_owned(), code, message));
    }
    codes
}

on_both_databases! {
    async fn every_protected_mutation_refuses_anonymous_and_admin_only_refuses_editors(backend) {
        let server = TestServer::on(backend).start().await;
        let admin = server.first_admin().await;
        let editor = server.user(&admin, "editor@example.org", "EDITOR").await;

        let anonymous = call_all(&server, "mutation", None).await;
        assert!(anonymous.len() >= 28, "mutations found: {anonymous:?}");
        assert!(anonymous.iter().any(|(name, ..)| name == "restoreRevision"), "{anonymous:?}");
        for (name, code, message) in &anonymous {
            // Login and refresh do answer UNAUTHENTICATED to the probe's made-up credentials,
            // but never with the role guard's "sign in" refusal.
            if PUBLIC.contains(&name.as_str()) {
                assert!(!message.starts_with(SIGN_IN), "{name} must be open to anonymous callers: {message}");
            } else {
                assert_eq!(code, "UNAUTHENTICATED", "{name} accepted an anonymous caller");
                assert!(message.starts_with(SIGN_IN), "{name}: {message}");
            }
        }

        let as_editor = call_all(&server, "mutation", Some(&editor)).await;
        for (name, code, _) in &as_editor {
            if ADMIN_ONLY.contains(&name.as_str()) || REVIEWER_ONLY.contains(&name.as_str()) {
                assert_eq!(code, "FORBIDDEN", "{name} accepted an editor");
            } else if !PUBLIC.contains(&name.as_str()) {
                assert!(code != "FORBIDDEN" && code != "UNAUTHENTICATED", "{name} refused an editor: {code}");
            }
        }
        let reviewer = server.user(&admin, "reviewer@example.org", "REVIEWER").await;
        let as_reviewer = call_all(&server, "mutation", Some(&reviewer)).await;
        for (name, code, _) in &as_reviewer {
            if ADMIN_ONLY.contains(&name.as_str()) {
                assert_eq!(code, "FORBIDDEN", "{name} accepted a reviewer");
            } else if !PUBLIC.contains(&name.as_str()) {
                assert!(code != "FORBIDDEN" && code != "UNAUTHENTICATED", "{name} refused a reviewer: {code}");
            }
        }
        let as_admin = call_all(&server, "mutation", Some(&admin)).await;
        for (name, code, _) in as_admin.iter().filter(|(name, ..)| !PUBLIC.contains(&name.as_str())) {
            assert!(code != "FORBIDDEN" && code != "UNAUTHENTICATED", "{name} refused an admin: {code}");
        }

        // Queries that need a role.
        let queries = call_all(&server, "query", None).await;
        let code_of = |list: &[(String, String, String)], name: &str| list.iter().find(|(n, ..)| n == name).map(|(_, c, _)| c.clone());
        assert_eq!(code_of(&queries, "users").as_deref(), Some("UNAUTHENTICATED"));
        assert_eq!(code_of(&queries, "revisions").as_deref(), Some("UNAUTHENTICATED"));
        assert_eq!(code_of(&queries, "markdownPreview").as_deref(), Some("UNAUTHENTICATED"));
        let queries = call_all(&server, "query", Some(&editor)).await;
        assert_eq!(code_of(&queries, "users").as_deref(), Some("FORBIDDEN"));
        assert_ne!(code_of(&queries, "revisions").as_deref(), Some("FORBIDDEN"));
    }
}
