//! Golden fixtures (`tests/fixtures/`): exports written by released versions load into an
//! empty database, their content reads back through the API, every revision they hold can
//! be restored, and the database exports again. A change to the export or snapshot format
//! that breaks old data fails here.

use std::sync::Arc;

use dermis_tests::archive::Archive;
use dermis_tests::{PASSWORD, Session, TestDb, TestServer, dermis, on_both_databases, run};
use serde_json::{Value, json};
use sha2::Digest;

/// The fixtures, oldest first: each holds the same content (format 2's was written by
/// importing format 1's and exporting again).
const FIXTURES: [&str; 3] = [
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/export-v1-2026-12-03.json"
    ),
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/export-v2-2026-12-03.json"
    ),
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/export-v3-2026-12-04.tar.gz"
    ),
];

const DOCUMENTS: &str = "{
  topics(first: 100, filter: { status: [DRAFT, PUBLISHED, ARCHIVED] }) { edges { node { id slug version } } }
  conditions(first: 100, filter: { status: [DRAFT, PUBLISHED, ARCHIVED] }) { edges { node { id slug version } } }
  sideEffects(first: 100, filter: { status: [DRAFT, PUBLISHED, ARCHIVED] }) { edges { node { id slug version } } }
}";

const HISTORY: &str = "query($type: DocumentType!, $id: ID!) {
  revisions(documentType: $type, documentId: $id, first: 100) { edges { node { id version } } }
}";

const RESTORE: &str = "mutation($input: RestoreRevisionInput!) {
  restoreRevision(input: $input) { document { ... on Topic { version } ... on Condition { version } ... on SideEffect { version } } }
}";

/// Restores every revision of every document, one after the other; returns how many.
async fn restore_everything(server: &TestServer, editor: &Session) -> usize {
    let documents = server.query_as(editor, DOCUMENTS, json!({})).await;
    let mut restored = 0;
    for (list, kind) in [
        ("topics", "TOPIC"),
        ("conditions", "CONDITION"),
        ("sideEffects", "SIDE_EFFECT"),
    ] {
        for edge in documents[list]["edges"].as_array().into_iter().flatten() {
            let id = &edge["node"]["id"];
            let mut version = edge["node"]["version"].as_i64().expect("version");
            let history = server
                .query_as(editor, HISTORY, json!({ "type": kind, "id": id }))
                .await;
            let revisions: Vec<Value> = history["revisions"]["edges"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(!revisions.is_empty(), "{list} {id} has a history");
            for revision in revisions.iter().rev() {
                let data = server
                    .query_as(editor, RESTORE, json!({ "input": { "revisionId": revision["node"]["id"], "expectedVersion": version } }))
                    .await;
                let now = data["restoreRevision"]["document"]["version"]
                    .as_i64()
                    .expect("version");
                assert_eq!(
                    now,
                    version + 1,
                    "{list} {id}: revision {} restored",
                    revision["node"]["version"]
                );
                version = now;
                restored += 1;
            }
        }
    }
    restored
}

/// Imports `file` into a new database of `backend` and serves it.
async fn import(backend: dermis_tests::Backend, file: &std::path::Path) -> TestServer {
    let db = TestDb::create(backend).await;
    let mut command = dermis(db.dir.path());
    command
        .arg("import")
        .arg(file)
        .env("DERMIS_DATABASE_URL", &db.url);
    let output = run(command).await;
    assert_eq!(output.code, Some(0), "{output:?}");
    TestServer::serve(Arc::new(db)).await
}

/// Every revision of the fixture's first topic, oldest first, as the API shows them.
async fn topic_history(server: &TestServer, editor: &Session) -> Vec<Value> {
    let topic = server
        .query_as(
            editor,
            "{ topic(slug: \"microneedling\") { id } }",
            json!({}),
        )
        .await;
    let history = server
        .query_as(editor, "query($id: ID!) { revisions(documentType: TOPIC, documentId: $id, first: 100) { edges { node { version snapshot } } } }",
            json!({ "id": topic["topic"]["id"] }))
        .await;
    let mut revisions: Vec<Value> = history["revisions"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["node"].clone())
        .collect();
    revisions.reverse();
    revisions
}

/// Loads fixture `file`, checks what it holds through the API, restores every revision,
/// exports again, and loads that export into another new database.
async fn fixture_loads_and_restores(backend: dermis_tests::Backend, file: &str) -> TestServer {
    let server = import(backend, std::path::Path::new(file)).await;

    // What the public sees.
    let page = server
        .query("{ topic(slug: \"microneedling\") { summary reviewedAt conditions { node { slug } } } condition(slug: \"melasma\") { name } peel: topic(slug: \"chemical-peel\") { id } }", json!({}))
        .await;
    assert!(
        page["topic"]["summary"]
            .as_str()
            .unwrap_or_default()
            .ends_with("It is done in a clinic."),
        "{page}"
    );
    assert!(page["topic"]["reviewedAt"].is_string(), "{page}");
    assert_eq!(
        page["topic"]["conditions"].as_array().map(Vec::len),
        Some(8)
    );
    assert_eq!(page["condition"]["name"], "Melasma");
    assert_eq!(page["peel"], Value::Null, "a draft stays hidden");

    // What the editor sees, signing in with the password the export kept as a hash.
    let editor = server.login("editor@example.org", PASSWORD).await;
    let draft = server
        .query_as(&editor, "{ topic(slug: \"chemical-peel\", preview: true) { title status features references { title url }
            conditions { note node { slug } } sideEffects { frequency note node { slug } } }
            sideEffect(slug: \"itching\") { name } }", json!({}))
        .await;
    assert_eq!(
        draft["topic"]["title"], "Chemical peel",
        "restored to its first version"
    );
    assert_eq!(draft["topic"]["status"], "DRAFT");
    assert_eq!(draft["topic"]["features"], json!(["Takes 30 minutes"]));
    assert_eq!(
        draft["topic"]["references"],
        json!([{ "title": "A review", "url": "https://example.org/peel" }])
    );
    assert_eq!(
        draft["topic"]["conditions"],
        json!([{ "note": "mild acne", "node": { "slug": "acne" } }, { "note": null, "node": { "slug": "melasma" } }])
    );
    assert_eq!(
        draft["topic"]["sideEffects"],
        json!([{ "frequency": "COMMON", "note": "for a day", "node": { "slug": "redness" } }])
    );
    assert_eq!(draft["sideEffect"], Value::Null, "archived: not published");

    // Old snapshots come back in the API's names, in the current format.
    let history = topic_history(&server, &editor).await;
    let first = &history[0]["snapshot"];
    assert_eq!(first["snapshotVersion"], 2, "{first}");
    assert_eq!(first["topic"]["title"], "Microneedling");
    assert!(
        first["topic"]["updatedAt"].is_string() && first["topic"].get("updated_at").is_none(),
        "{first}"
    );
    assert!(first["conditions"][0]["conditionId"].is_number(), "{first}");
    assert!(
        first["sideEffects"][0]["sideEffectId"].is_number(),
        "{first}"
    );
    assert!(
        first["sideEffects"][0].get("side_effect_id").is_none(),
        "{first}"
    );

    // Every snapshot the old release wrote can be brought back.
    let restored = restore_everything(&server, &editor).await;
    assert_eq!(restored, 25, "the fixture's 25 revisions");

    // The database exports again, in the current format, and that export loads too.
    let again = server.db.dir.path().join("again.tar");
    let mut command = dermis(server.db.dir.path());
    command
        .args(["export", "--output"])
        .arg(&again)
        .env("DERMIS_DATABASE_URL", &server.db.url);
    let output = run(command).await;
    assert_eq!(output.code, Some(0), "{output:?}");
    let written = Archive::read(&again);
    assert_eq!(written.header["formatVersion"], 3);
    assert_eq!(written.rows("revisions").len(), 50, "25 + 25 restores");
    let copy = import(backend, &again).await;
    let editor_again = copy.login("editor@example.org", PASSWORD).await;
    assert_eq!(
        topic_history(&copy, &editor_again).await,
        topic_history(&server, &editor).await
    );
    copy
}

on_both_databases! {
    async fn the_first_export_format_still_loads_and_every_revision_restores(backend) {
        fixture_loads_and_restores(backend, FIXTURES[0]).await;
    }
}

on_both_databases! {
    async fn the_second_export_format_loads_and_every_revision_restores(backend) {
        fixture_loads_and_restores(backend, FIXTURES[1]).await;
    }
}

on_both_databases! {
    async fn the_third_export_format_an_archive_with_media_loads_and_every_revision_restores(backend) {
        let server = fixture_loads_and_restores(backend, FIXTURES[2]).await;
        // Its image came along, byte for byte (its name is its SHA-256), through two imports.
        let editor = server.login("editor@example.org", PASSWORD).await;
        let media = server
            .query_as(&editor, "{ media(first: 10) { items { alt caption width height contentHash url variants { width } } } }", json!({}))
            .await;
        let item = &media["media"]["items"][0];
        assert_eq!(item["alt"], "Skin layers, a diagram", "{media}");
        assert_eq!(item["caption"], "Epidermis over dermis");
        assert_eq!((item["width"].as_i64(), item["height"].as_i64()), (Some(48), Some(32)));
        assert_eq!(item["variants"], json!([{ "width": 48 }]));
        let url = item["url"].as_str().expect("a signed address: no published page shows it");
        let bytes = server.client.get(server.url(url)).send().await.expect("GET").bytes().await.expect("body");
        let hash: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(item["contentHash"], hash.as_str());
    }
}
