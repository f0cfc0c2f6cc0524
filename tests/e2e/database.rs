//! The migrated schema itself: constraints, indexes, SQLite settings.

use dermis_tests::{Backend, TestServer, on_both_databases};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

async fn exec(db: &DatabaseConnection, sql: &str) -> Result<(), sea_orm::DbErr> {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .map(|_| ())
}

async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .collect()
}

const NOW: &str = "'2026-01-01 00:00:00+00:00'";

on_both_databases! {
    async fn constraints_and_indexes_exist(backend) {
        let server = TestServer::on(backend).start().await;
        let db = server.db.connect().await;
        if backend == Backend::Sqlite {
            exec(&db, "PRAGMA foreign_keys = ON").await.expect("pragma");
            assert_eq!(strings(&db, "PRAGMA journal_mode").await, ["wal"], "SQLite runs in WAL mode");
        }
        let topic = |slug: &str| {
            format!(
                "INSERT INTO topics (slug, title, summary, body, features, benefits, \"references\", status, version, created_at, updated_at) \
                 VALUES ('{slug}', 'T', '', '', '[]', '[]', '[]', 'PUBLISHED', 1, {NOW}, {NOW})"
            )
        };
        exec(&db, &topic("one")).await.expect("first insert");
        assert!(exec(&db, &topic("one")).await.is_err(), "slugs are unique");
        assert!(
            exec(&db, "INSERT INTO topic_conditions (topic_id, condition_id, position) VALUES (999, 999, 0)").await.is_err(),
            "links need existing documents"
        );
        assert!(
            exec(&db, &format!("INSERT INTO users (email, display_name, password_hash, role, active, token_version, created_at, updated_at) VALUES ('a@b.c', 'A', 'x', 'ADMIN', true, 0, {NOW}, {NOW})")).await.is_ok()
        );
        assert!(
            exec(&db, &format!("INSERT INTO users (email, display_name, password_hash, role, active, token_version, created_at, updated_at) VALUES ('a@b.c', 'B', 'x', 'EDITOR', true, 0, {NOW}, {NOW})")).await.is_err(),
            "emails are unique"
        );

        let indexes = match backend {
            Backend::Sqlite => strings(&db, "SELECT name FROM sqlite_master WHERE type = 'index'").await,
            Backend::Postgres => strings(&db, "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'").await,
        };
        for table in ["topics", "conditions", "side_effects"] {
            let label = if table == "topics" { "title" } else { "name" };
            for column in [label, "updated_at", "published_at"] {
                let name = format!("idx_{table}_{column}");
                assert!(indexes.contains(&name), "{name} missing from {indexes:?}");
            }
            // Lists filter on status and order by a key and the id: one index serves both
            // (the label case-insensitively: an expression index on lower(label)).
            for name in [format!("idx_{table}_status_lower_{label}_id"), format!("idx_{table}_status_updated_at_id")] {
                assert!(indexes.contains(&name), "{name} missing from {indexes:?}");
            }
            let name = format!("idx_{table}_status_{label}_id");
            assert!(!indexes.contains(&name), "{name} was replaced by the lower() index");
            let name = format!("idx_{table}_status");
            assert!(!indexes.contains(&name), "{name} is a prefix of the composites and was dropped");
            if backend == Backend::Postgres {
                let name = format!("idx_{table}_search_document");
                assert!(indexes.contains(&name), "{name} missing from {indexes:?}");
            }
        }
        if backend == Backend::Sqlite {
            // The server gathered planner statistics at start (the search plan depends on them).
            assert_eq!(
                strings(&db, "SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'").await,
                ["sqlite_stat1"]
            );
            // ... without STAT4 samples, which would make SQLite re-prepare statements.
            assert_eq!(strings(&db, "SELECT CAST(count(*) AS TEXT) FROM sqlite_stat4").await, ["0"]);
            // The first page of a list reads the composite index in order: no sort of all rows.
            let plan: Vec<String> = db
                .query_all_raw(Statement::from_string(
                    db.get_database_backend(),
                    "EXPLAIN QUERY PLAN SELECT id FROM topics WHERE status IN ('PUBLISHED') ORDER BY lower(title), id LIMIT 21",
                ))
                .await
                .expect("plan")
                .iter()
                .filter_map(|row| row.try_get_by_index::<String>(3).ok())
                .collect();
            assert!(
                plan.iter().any(|step| step.contains("idx_topics_status_lower_title_id"))
                    && !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                "{plan:?}"
            );
        }
        for name in [
            "idx_topic_conditions_topic_position",
            "idx_topic_conditions_condition_id",
            "idx_topic_side_effects_topic_position",
            "idx_topic_side_effects_side_effect_id",
            "idx_revisions_entity_version",
        ] {
            assert!(indexes.contains(&name.to_owned()), "{name} missing from {indexes:?}");
        }
    }
}

on_both_databases! {
    async fn nodes_starting_together_on_a_new_database_migrate_it_once(backend) {
        let db = std::sync::Arc::new(dermis_tests::TestDb::create(backend).await);
        let (a, b, c) = tokio::join!(
            TestServer::serve(db.clone()),
            TestServer::serve(db.clone()),
            TestServer::serve(db.clone()),
        );
        for node in [&a, &b, &c] {
            let data = node.query("{ topics { totalCount } }", serde_json::json!({})).await;
            assert_eq!(data["topics"]["totalCount"], 0);
        }
        let conn = db.connect().await;
        let row = sea_orm::ConnectionTrait::query_one_raw(
            &conn,
            sea_orm::Statement::from_string(conn.get_database_backend(), "SELECT CAST(COUNT(*) AS BIGINT) FROM seaql_migrations"),
        )
        .await
        .expect("query")
        .expect("row");
        let applied: i64 = row.try_get_by_index(0).expect("count");
        let listed = a.logs();
        assert!(applied >= 5, "{applied}");
        assert!(!listed.contains("ERROR"), "{listed}");
    }
}
