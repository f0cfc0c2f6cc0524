//! `document_counts`: how many topics, conditions and side effects each status holds,
//! kept exact by triggers, so that a list's `totalCount` without a search or link filter
//! reads one row instead of counting every row of the status (4 ms on SQLite and more on
//! PostgreSQL for 100,000 topics, on every such list).
//!
//! The triggers live in the database, so every writer keeps the counts: this binary, an
//! older node during a rolling upgrade, `dermis import`, an operator's SQL. SQLite uses
//! row triggers (one writer at a time). PostgreSQL uses statement triggers with transition
//! tables (an import's `INSERT` of 200 rows updates each count once, not 200 times in one
//! transaction) and updates the counts of one statement in the order of their statuses, so
//! two transactions that change statuses the other way round wait for each other instead
//! of deadlocking. A save that leaves the status alone updates no count. The one write
//! that changes statuses in several tables (publishing a topic with its unpublished links)
//! changes the topic's first, so such writes queue on the topics' counts before they take
//! any other; a new write of that kind must keep to the same order.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The counted tables.
const TABLES: [&str; 3] = ["topics", "conditions", "side_effects"];

/// Every status a document can have (`entity::ContentStatus`).
const STATUSES: [&str; 3] = ["DRAFT", "PUBLISHED", "ARCHIVED"];

/// PostgreSQL: adds each status's change in `deltas` (rows of `status`, `delta`) to the
/// counts of the trigger's table, in status order.
const PG_FUNCTIONS: &str = r#"
CREATE FUNCTION dermis_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT status, count(*) AS delta FROM inserted GROUP BY status ORDER BY status LOOP
    UPDATE document_counts SET n = n + r.delta WHERE table_name = TG_TABLE_NAME AND status = r.status;
  END LOOP;
  RETURN NULL;
END $$;
CREATE FUNCTION dermis_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT status, count(*) AS delta FROM deleted GROUP BY status ORDER BY status LOOP
    UPDATE document_counts SET n = n - r.delta WHERE table_name = TG_TABLE_NAME AND status = r.status;
  END LOOP;
  RETURN NULL;
END $$;
CREATE FUNCTION dermis_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT status, sum(delta) AS delta FROM (
      SELECT status, 1 AS delta FROM inserted
      UNION ALL SELECT status, -1 AS delta FROM deleted
    ) changes GROUP BY status HAVING sum(delta) <> 0 ORDER BY status LOOP
    UPDATE document_counts SET n = n + r.delta WHERE table_name = TG_TABLE_NAME AND status = r.status;
  END LOOP;
  RETURN NULL;
END $$;
"#;

fn create_table(backend: DbBackend) -> String {
    let bigint = if backend == DbBackend::Postgres {
        "BIGINT"
    } else {
        "INTEGER"
    };
    format!(
        "CREATE TABLE document_counts (table_name VARCHAR(32) NOT NULL, \
         status VARCHAR(16) NOT NULL, n {bigint} NOT NULL, PRIMARY KEY (table_name, status))"
    )
}

fn fill(table: &str) -> Vec<String> {
    STATUSES
        .iter()
        .map(|status| {
            format!(
                "INSERT INTO document_counts (table_name, status, n) \
                 SELECT '{table}', '{status}', COUNT(*) FROM {table} WHERE status = '{status}'"
            )
        })
        .collect()
}

fn sqlite_triggers(table: &str) -> Vec<String> {
    let count = |status: &str, delta: &str| {
        format!(
            "UPDATE document_counts SET n = n {delta} WHERE table_name = '{table}' AND status = {status};"
        )
    };
    vec![
        format!(
            "CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} BEGIN {} END",
            count("new.status", "+ 1")
        ),
        format!(
            "CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} BEGIN {} END",
            count("old.status", "- 1")
        ),
        format!(
            "CREATE TRIGGER {table}_count_update AFTER UPDATE OF status ON {table} \
             WHEN old.status IS NOT new.status BEGIN {} {} END",
            count("old.status", "- 1"),
            count("new.status", "+ 1")
        ),
    ]
}

fn pg_triggers(table: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} \
             REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION dermis_count_inserted()"
        ),
        format!(
            "CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} \
             REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION dermis_count_deleted()"
        ),
        // PostgreSQL takes no column list (`UPDATE OF status`) with transition tables;
        // the function skips statements that change no status.
        format!(
            "CREATE TRIGGER {table}_count_update AFTER UPDATE ON {table} \
             REFERENCING OLD TABLE AS deleted NEW TABLE AS inserted \
             FOR EACH STATEMENT EXECUTE FUNCTION dermis_count_updated()"
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        db.execute_unprepared(&create_table(backend)).await?;
        if backend == DbBackend::Postgres {
            db.execute_unprepared(PG_FUNCTIONS).await?;
        }
        for table in TABLES {
            for statement in fill(table) {
                db.execute_unprepared(&statement).await?;
            }
            let triggers = if backend == DbBackend::Postgres {
                pg_triggers(table)
            } else {
                sqlite_triggers(table)
            };
            for statement in triggers {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        for table in TABLES {
            for op in ["insert", "delete", "update"] {
                let drop = if backend == DbBackend::Postgres {
                    format!("DROP TRIGGER IF EXISTS {table}_count_{op} ON {table}")
                } else {
                    format!("DROP TRIGGER IF EXISTS {table}_count_{op}")
                };
                db.execute_unprepared(&drop).await?;
            }
        }
        if backend == DbBackend::Postgres {
            db.execute_unprepared(
                "DROP FUNCTION IF EXISTS dermis_count_inserted(); \
                 DROP FUNCTION IF EXISTS dermis_count_deleted(); \
                 DROP FUNCTION IF EXISTS dermis_count_updated();",
            )
            .await?;
        }
        db.execute_unprepared("DROP TABLE IF EXISTS document_counts")
            .await?;
        Ok(())
    }
}
