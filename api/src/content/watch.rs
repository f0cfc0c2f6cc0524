//! A live view of one topic: which content events change what it shows, and its current
//! state (what `topicChanged` sends).

use std::collections::HashSet;

use entity::{content_event, topic, topic_condition, topic_side_effect};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

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
        }
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

    /// The topic as it is now, if visible; remembers what it links to.
    pub async fn read(&mut self, db: &DatabaseConnection) -> ApiResult<Option<topic::Model>> {
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
        if let Some(found) = &found {
            self.id = Some(found.id);
            self.slug.clone_from(&found.slug);
            if self.visibility == Visibility::All {
                self.conditions = topic_condition::Entity::find()
                    .select_only()
                    .column(topic_condition::Column::ConditionId)
                    .filter(topic_condition::Column::TopicId.eq(found.id))
                    .into_tuple::<i32>()
                    .all(db)
                    .await?
                    .into_iter()
                    .collect();
                self.side_effects = topic_side_effect::Entity::find()
                    .select_only()
                    .column(topic_side_effect::Column::SideEffectId)
                    .filter(topic_side_effect::Column::TopicId.eq(found.id))
                    .into_tuple::<i32>()
                    .all(db)
                    .await?
                    .into_iter()
                    .collect();
            }
        }
        Ok(found)
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
}
