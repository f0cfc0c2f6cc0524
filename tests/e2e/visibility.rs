//! Anonymous callers never see a draft or archived document, by any path.

use dermis_tests::{TestServer, on_both_databases};
use serde_json::json;

on_both_databases! {
    async fn anonymous_callers_see_published_content_only(backend) {
        let seed = json!({
            "conditions": [
                { "slug": "acne", "name": "Acne" },
                { "slug": "secret-condition", "name": "Hidden condition", "status": "DRAFT" }
            ],
            "sideEffects": [
                { "slug": "redness", "name": "Redness" },
                { "slug": "secret-effect", "name": "Hidden effect", "status": "ARCHIVED" }
            ],
            "topics": [
                { "slug": "visible", "title": "Visible", "conditions": [{ "slug": "acne" }, { "slug": "secret-condition" }],
                  "sideEffects": [
                    { "slug": "secret-effect", "frequency": "RARE", "severity": "SEVERE", "duration": "PERSISTENT" },
                    { "slug": "redness", "frequency": "COMMON", "severity": "MILD", "duration": "TEMPORARY" }
                  ] },
                { "slug": "draft-topic", "title": "Unreleased", "status": "DRAFT", "conditions": [{ "slug": "acne" }],
                  "sideEffects": [{ "slug": "redness", "frequency": "COMMON", "severity": "MILD", "duration": "TEMPORARY" }] },
                { "slug": "old-topic", "title": "Withdrawn", "status": "ARCHIVED", "conditions": [{ "slug": "acne" }] }
            ]
        });
        let server = TestServer::on(backend).seed_json(&seed).start().await;
        let data = server
            .query(
                r#"{
                  draft: topic(slug: "draft-topic") { title }
                  archived: topic(slug: "old-topic") { title }
                  visible: topic(slug: "visible") {
                    conditions { position node { slug } }
                    sideEffects { node { slug } }
                  }
                  topics { totalCount edges { node { slug } } }
                  searched: topics(filter: { search: "unreleased" }) { totalCount }
                  byHidden: topics(filter: { condition: "secret-condition" }) { totalCount }
                  byHiddenEffect: topics(filter: { sideEffect: "secret-effect" }) { totalCount }
                  hiddenCondition: condition(slug: "secret-condition") { name }
                  hiddenEffect: sideEffect(slug: "secret-effect") { name }
                  conditions { totalCount }
                  sideEffects { totalCount }
                  ofDraft: conditions(filter: { topic: "draft-topic" }) { totalCount }
                  acne: condition(slug: "acne") { topics { node { slug } } }
                  redness: sideEffect(slug: "redness") { topics { node { slug } } }
                }"#,
                json!({}),
            )
            .await;
        assert_eq!(data["draft"], json!(null));
        assert_eq!(data["archived"], json!(null));
        assert_eq!(data["visible"]["conditions"], json!([{ "position": 0, "node": { "slug": "acne" } }]));
        assert_eq!(data["visible"]["sideEffects"], json!([{ "node": { "slug": "redness" } }]));
        assert_eq!(data["topics"]["totalCount"], 1);
        assert_eq!(data["topics"]["edges"], json!([{ "node": { "slug": "visible" } }]));
        assert_eq!(data["searched"]["totalCount"], 0);
        assert_eq!(data["byHidden"]["totalCount"], 0);
        assert_eq!(data["byHiddenEffect"]["totalCount"], 0);
        assert_eq!(data["hiddenCondition"], json!(null));
        assert_eq!(data["hiddenEffect"], json!(null));
        assert_eq!(data["conditions"]["totalCount"], 1);
        assert_eq!(data["sideEffects"]["totalCount"], 1);
        assert_eq!(data["ofDraft"]["totalCount"], 0);
        assert_eq!(data["acne"]["topics"], json!([{ "node": { "slug": "visible" } }]));
        assert_eq!(data["redness"]["topics"], json!([{ "node": { "slug": "visible" } }]));
    }
}
