//! Relations are batched: a page costs the same number of SQL statements whatever its size.

use dermis_tests::{TestServer, on_both_databases};
use serde_json::json;

use crate::many_topics;

const PAGE_WITH_RELATIONS: &str = r#"query($n: Int!) {
  topics(first: $n) {
    edges { node {
      title
      conditions { note node { name topics { node { slug } } } }
      sideEffects { frequency node { name topics { severity } } }
    } }
  }
}"#;

on_both_databases! {
    async fn page_size_does_not_change_the_statement_count(backend) {
        let server = TestServer::on(backend).seed_json(&many_topics(60)).env("DERMIS_LOG", "info,dermis_api::graphql=debug").start().await;
        let mut counts = Vec::new();
        for n in [10, 50] {
            let before = server.sql_statements().await;
            let data = server.query(PAGE_WITH_RELATIONS, json!({ "n": n })).await;
            let after = server.sql_statements().await;
            let edges = data["topics"]["edges"].as_array().expect("edges");
            assert_eq!(edges.len(), n);
            assert_eq!(edges[0]["node"]["conditions"].as_array().map(Vec::len), Some(3));
            assert_eq!(edges[0]["node"]["sideEffects"].as_array().map(Vec::len), Some(3));
            counts.push(after - before);
        }
        // One page query, then one batched query per relation level:
        // conditions, side effects, topics of those conditions, topics of those side effects.
        assert_eq!(counts[0], counts[1], "statements for 10 vs 50 topics: {counts:?}\n{}", server.logs());
        assert!(counts[1] <= 5, "statements for a page: {counts:?}");
        assert!(counts[1] >= 3, "the counter counts: {counts:?}");
    }
}
