//! The bundled sample content: what it holds, that seeding is idempotent, and that only a
//! new embedded database gets it unasked.

use dermis_tests::{TestServer, on_both_databases, seed_database, without_database};
use serde_json::{Value, json};

const TOPIC: &str = r#"query {
  topic(slug: "microneedling") {
    title summary body bodyHtml features benefits status publishedAt version
    references { title url }
    conditions { position note node { slug name status } }
    sideEffects { position frequency severity duration note node { slug name status } }
  }
}"#;

on_both_databases! {
    async fn sample_topic_holds_the_source_facts(backend) {
        let server = TestServer::sample(backend).await;
        let data = server.query(TOPIC, json!({})).await;
        let topic = &data["topic"];
        assert_eq!(topic["title"], "Microneedling");
        assert_eq!(topic["status"], "PUBLISHED");
        assert!(topic["publishedAt"].is_string());
        assert!(topic["summary"].as_str().unwrap_or_default().contains("collagen"));
        assert!(topic["body"].as_str().unwrap_or_default().starts_with("## How microneedling works"));
        assert!(topic["bodyHtml"].as_str().unwrap_or_default().contains("<h2>How microneedling works</h2>"));
        assert_eq!(topic["features"].as_array().map(Vec::len), Some(6));
        assert_eq!(topic["features"][0], "Minimally invasive cosmetic procedure");
        assert_eq!(topic["benefits"].as_array().map(Vec::len), Some(4));
        assert_eq!(topic["benefits"][3], "Helps the skin rebuild itself");

        let conditions = topic["conditions"].as_array().expect("conditions");
        let slugs: Vec<&str> = conditions.iter().filter_map(|c| c["node"]["slug"].as_str()).collect();
        assert_eq!(
            slugs,
            ["wrinkles", "acne", "stretch-marks", "alopecia", "rosacea", "pigmentation", "scarring", "loose-skin"]
        );
        for (i, c) in conditions.iter().enumerate() {
            assert_eq!(c["position"], json!(i));
            assert_eq!(c["node"]["status"], "PUBLISHED");
        }
        assert_eq!(conditions[7]["note"], "Particularly after liposuction or weight loss.");
        assert_eq!(conditions[0]["note"], Value::Null);

        let effects = topic["sideEffects"].as_array().expect("side effects");
        assert_eq!(effects.len(), 8);
        for effect in effects {
            assert_eq!(effect["severity"], "MILD", "{effect}");
            assert_eq!(effect["duration"], "TEMPORARY", "{effect}");
            assert_eq!(effect["node"]["status"], "PUBLISHED");
            let expected = if effect["node"]["slug"] == "bleeding" { "UNCOMMON" } else { "COMMON" };
            assert_eq!(effect["frequency"], expected, "{effect}");
        }
        let bleeding = effects.iter().find(|e| e["node"]["slug"] == "bleeding").expect("bleeding");
        assert_eq!(bleeding["note"], "More likely when a deeper treatment is chosen.");
        assert_eq!(
            effects.iter().map(|e| e["node"]["name"].as_str().unwrap_or_default()).collect::<Vec<_>>(),
            ["Skin irritation", "Discomfort", "Swelling", "Dryness", "Bruising", "Redness", "Flaking", "Bleeding"]
        );
    }
}

/// Counts rows and sums versions of every content table: a fingerprint of the content.
async fn fingerprint(server: &TestServer) -> Vec<i64> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = server.db.connect().await;
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) AS n FROM topics",
        "SELECT COUNT(*) AS n FROM conditions",
        "SELECT COUNT(*) AS n FROM side_effects",
        "SELECT COUNT(*) AS n FROM topic_conditions",
        "SELECT COUNT(*) AS n FROM topic_side_effects",
        "SELECT COUNT(*) AS n FROM revisions",
        "SELECT COALESCE(SUM(version), 0) AS n FROM topics",
    ] {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("query")
            .expect("row");
        out.push(row.try_get::<i64>("", "n").expect("count"));
    }
    out
}

on_both_databases! {
    async fn seeding_twice_changes_nothing(backend) {
        let server = TestServer::sample(backend).await;
        let before = fingerprint(&server).await;
        assert_eq!(before, vec![1, 8, 8, 8, 8, 17, 1], "one revision per document");
        let again = seed_database(&server.db, "").await;
        assert!(again.stdout.contains("created 0 document(s), 17 already present"), "{again:?}");
        assert_eq!(fingerprint(&server).await, before);
    }
}

on_both_databases! {
    async fn a_given_database_gets_no_sample_content_unasked(backend) {
        let server = TestServer::on(backend).start().await;
        let data = server.query("{ topics { totalCount } conditions { totalCount } }", json!({})).await;
        assert_eq!(data["topics"]["totalCount"], 0);
        assert_eq!(data["conditions"]["totalCount"], 0);
        assert!(!server.logs().contains("sample content"));
    }
}

without_database! {
    async fn the_embedded_default_starts_with_the_sample_content() {
        let server = TestServer::on(dermis_tests::Backend::Sqlite).embedded_default().start().await;
        let data = server.query(r#"{ topic(slug: "microneedling") { title } }"#, json!({})).await;
        assert_eq!(data["topic"]["title"], "Microneedling");
        assert!(server.db.dir.path().join("dermis.db").exists(), "file created in the working folder");
        assert!(server.logs().contains("loaded the sample content"));
    }
}

on_both_databases! {
    async fn seed_refuses_links_to_unknown_documents_and_writes_nothing(backend) {
        let server = TestServer::on(backend).start().await;
        let bad = json!({
            "conditions": [{ "slug": "acne", "name": "Acne" }],
            "topics": [{ "slug": "peel", "title": "Peel", "conditions": [{ "slug": "missing" }] }]
        });
        let path = server.db.dir.path().join("bad.json");
        std::fs::write(&path, bad.to_string()).expect("write");
        let mut command = dermis_tests::dermis(server.db.dir.path());
        command.args(["seed", "--file"]).arg(&path).env("DERMIS_DATABASE_URL", &server.db.url);
        let output = dermis_tests::run(command).await;
        assert_ne!(output.code, Some(0));
        assert!(output.stderr.contains("unknown condition \"missing\""), "{output:?}");
        assert_eq!(fingerprint(&server).await, vec![0, 0, 0, 0, 0, 0, 0]);
    }
}
