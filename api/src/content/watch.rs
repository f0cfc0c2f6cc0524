//! A live view of one topic: which content events change what it shows, and its current
//! state (what `topicChanged` sends).

use std::collections::HashSet;

use entity::{condition, content_event, side_effect, topic, topic_condition, topic_side_effect};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};

use super::Visibility;
use super::events::{affected_topics, is_public};
use super::query;
use crate::errors::ApiResult;

/// One topic, watched by slug (then by id, once found, so that a rename keeps it), as
/// `visibility` sees it.
#[derive(Debug)]
pub struct TopicWatch {
    slug: String,
    id: Option<i32>,
    visibility: Visibility,
    /// The conditions and side effects it linked to when last read (drafts included): with
    /// drafts visible, a change to any of them changes the topic's view.
    conditions: HashSet<i32>,
    side_effects: HashSet<i32>,
    /// What it showed when last read.
    last: Option<Seen>,
}

/// What a watched topic shows: its row and the version of each document it links to. Two
/// equal `Seen`s show the same page.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    topic: Option<topic::Model>,
    conditions: Vec<(i32, i32)>,
    side_effects: Vec<(i32, i32)>,
}

impl TopicWatch {
    /// Watches the topic at `slug`.
    pub fn new(slug: String, visibility: Visibility) -> Self {
        Self {
            slug,
            id: None,
            visibility,
            conditions: HashSet::new(),
            side_effects: HashSet::new(),
            last: None,
        }
    }

    /// Reads the topic as it is when watching starts.
    pub async fn start(&mut self, db: &DatabaseConnection) -> ApiResult<()> {
        self.last = Some(self.read(db).await?);
        Ok(())
    }

    /// The topic's state after an event (or after missed ones), or `None` when it shows
    /// exactly what it showed when last read: an event committed before watching started
    /// can reach the feed after the first read, which covered its change already.
    pub async fn after(
        &mut self,
        db: &DatabaseConnection,
    ) -> ApiResult<Option<Option<topic::Model>>> {
        let now = self.read(db).await?;
        if self.last.as_ref() == Some(&now) {
            return Ok(None);
        }
        let topic = now.topic.clone();
        self.last = Some(now);
        Ok(Some(topic))
    }

    /// Whether `event` may change what the watched topic shows.
    pub fn concerns(&self, event: &content_event::Model) -> bool {
        let drafts = self.visibility == Visibility::All;
        match event.document_type.as_str() {
            "topic" => {
                let this = self.id == Some(event.document_id) || event.slug == self.slug;
                this && (drafts || is_public(event))
            }
            // The outbox names the published topic pages a change affects.
            _ if !drafts => affected_topics(event).contains(&self.slug),
            "condition" => self.conditions.contains(&event.document_id),
            "side_effect" => self.side_effects.contains(&event.document_id),
            _ => false,
        }
    }

    /// What the topic shows now, if visible; remembers what it links to.
    async fn read(&mut self, db: &DatabaseConnection) -> ApiResult<Seen> {
        let by_id = match self.id {
            Some(id) => {
                let select =
                    query::visible::<topic::Entity>(topic::Entity::find(), self.visibility)
                        .filter(topic::Column::Id.eq(id));
                crate::db::unique(select, db).await?
            }
            None => None,
        };
        let found = match by_id {
            Some(found) => Some(found),
            None => query::find_by_slug::<topic::Entity>(db, &self.slug, self.visibility).await?,
        };
        let mut seen = Seen {
            topic: None,
            conditions: Vec::new(),
            side_effects: Vec::new(),
        };
        if let Some(found) = found {
            self.id = Some(found.id);
            self.slug.clone_from(&found.slug);
            seen.conditions = condition::Entity::find()
                .select_only()
                .column(condition::Column::Id)
                .column(condition::Column::Version)
                .join_rev(
                    JoinType::InnerJoin,
                    topic_condition::Relation::Condition.def(),
                )
                .filter(topic_condition::Column::TopicId.eq(found.id))
                .order_by_asc(condition::Column::Id)
                .into_tuple()
                .all(db)
                .await?;
            seen.side_effects = side_effect::Entity::find()
                .select_only()
                .column(side_effect::Column::Id)
                .column(side_effect::Column::Version)
                .join_rev(
                    JoinType::InnerJoin,
                    topic_side_effect::Relation::SideEffect.def(),
                )
                .filter(topic_side_effect::Column::TopicId.eq(found.id))
                .order_by_asc(side_effect::Column::Id)
                .into_tuple()
                .all(db)
                .await?;
            self.conditions = seen.conditions.iter().map(|(id, _)| *id).collect();
            self.side_effects = seen.side_effects.iter().map(|(id, _)| *id).collect();
            seen.topic = Some(found);
        }
        Ok(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(
        kind: &str,
        id: i32,
        slug: &str,
        new: &str,
        affected: &[&str],
    ) -> content_event::Model {
        content_event::Model {
            id: 1,
            event_type: format!("{kind}.updated"),
            document_type: kind.into(),
            document_id: id,
            slug: slug.into(),
            version: 2,
            old_status: Some(new.into()),
            new_status: Some(new.into()),
            affected_topics: serde_json::json!(affected),
            author_id: None,
            api_token_id: None,
            created_at: crate::db::now(),
            dispatched_at: None,
        }
    }

    #[test]
    fn the_public_watch_follows_public_changes_of_its_page() {
        let mut watch = TopicWatch::new("microneedling".into(), Visibility::PublishedOnly);
        assert!(watch.concerns(&event("topic", 1, "microneedling", "PUBLISHED", &[])));
        assert!(!watch.concerns(&event("topic", 1, "microneedling", "DRAFT", &[])));
        assert!(!watch.concerns(&event("topic", 2, "peels", "PUBLISHED", &[])));
        // Renamed: followed by id.
        watch.id = Some(1);
        assert!(watch.concerns(&event("topic", 1, "needling", "PUBLISHED", &[])));
        let acne = |affected: &[&str]| event("condition", 7, "acne", "PUBLISHED", affected);
        assert!(watch.concerns(&acne(&["microneedling", "peels"])));
        assert!(!watch.concerns(&acne(&["peels"])));
    }

    #[test]
    fn the_preview_watch_follows_drafts_and_what_the_topic_links_to() {
        let mut watch = TopicWatch::new("microneedling".into(), Visibility::All);
        watch.id = Some(1);
        watch.conditions.insert(7);
        watch.side_effects.insert(9);
        assert!(watch.concerns(&event("topic", 1, "microneedling", "DRAFT", &[])));
        assert!(watch.concerns(&event("condition", 7, "acne", "DRAFT", &[])));
        assert!(!watch.concerns(&event("condition", 9, "scars", "DRAFT", &[])));
        assert!(watch.concerns(&event("side_effect", 9, "redness", "DRAFT", &[])));
        assert!(!watch.concerns(&event("side_effect", 7, "swelling", "DRAFT", &[])));
    }

    /// A migrated SQLite database in a file of its own, holding the sample content; and
    /// the file.
    async fn sample_db() -> (DatabaseConnection, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "dermis-watch-{}-{}.db",
            std::process::id(),
            crate::db::now().timestamp_nanos_opt().unwrap_or(0)
        ));
        let db = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .expect("SQLite");
        crate::db::migrate(&db).await.expect("migrated");
        let sample = crate::content::seed::parse(crate::content::seed::SAMPLE).expect("sample");
        crate::content::seed::load(&db, &crate::media::Addresses::default(), sample)
            .await
            .expect("seeded");
        (db, path)
    }

    #[tokio::test]
    async fn an_event_the_first_read_covered_sends_nothing_and_a_change_does() {
        let (db, path) = sample_db().await;
        let mut watch = TopicWatch::new("microneedling".into(), Visibility::All);
        watch.start(&db).await.expect("read");
        let id = watch.id.expect("found");
        // An event committed before watching started, delivered after: nothing to send.
        assert!(watch.after(&db).await.expect("read").is_none());
        // A linked condition changed: the topic's row did not, what it shows did.
        let linked = *watch.conditions.iter().next().expect("a linked condition");
        condition::Entity::update_many()
            .col_expr(
                condition::Column::Version,
                sea_orm::sea_query::Expr::value(9),
            )
            .filter(condition::Column::Id.eq(linked))
            .exec(&db)
            .await
            .expect("updated");
        let now = watch.after(&db).await.expect("read");
        assert_eq!(now.flatten().map(|t| t.version), Some(1));
        // The topic itself changed: its new state, once.
        topic::Entity::update_many()
            .col_expr(topic::Column::Version, sea_orm::sea_query::Expr::value(2))
            .filter(topic::Column::Id.eq(id))
            .exec(&db)
            .await
            .expect("updated");
        let now = watch.after(&db).await.expect("read");
        assert_eq!(now.flatten().map(|t| t.version), Some(2));
        assert!(watch.after(&db).await.expect("read").is_none(), "sent once");
        db.close().await.expect("closed");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
