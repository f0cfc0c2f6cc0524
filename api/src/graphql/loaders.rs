//! DataLoaders: every link lookup of one request that is made in the same tick is answered
//! by one SQL statement, whatever the page size.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{condition, side_effect, topic, topic_condition, topic_side_effect, user};
use sea_orm::DatabaseConnection;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::content::{Visibility, links};
use crate::errors::ApiError;

/// Loads links for a batch of documents.
pub struct LinkLoader {
    /// The database.
    pub db: DatabaseConnection,
}

/// The conditions a topic treats (key: topic id, and what the caller may see).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConditionsOfTopic(pub i32, pub Visibility);
/// The side effects a topic may cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SideEffectsOfTopic(pub i32, pub Visibility);
/// The topics that treat a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TopicsOfCondition(pub i32, pub Visibility);
/// The topics that may cause a side effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TopicsOfSideEffect(pub i32, pub Visibility);

macro_rules! link_loader {
    ($key:ident, $value:ty, $query:path) => {
        impl Loader<$key> for LinkLoader {
            type Value = Vec<$value>;
            type Error = ApiError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, ApiError> {
                tracing::debug!(
                    loader = stringify!($key),
                    keys = keys.len(),
                    "loading a batch"
                );
                let mut out = HashMap::new();
                // One statement per visibility present in the batch (at most two).
                for visibility in [Visibility::PublishedOnly, Visibility::All] {
                    let ids: Vec<i32> = keys
                        .iter()
                        .filter(|key| key.1 == visibility)
                        .map(|key| key.0)
                        .collect();
                    if ids.is_empty() {
                        continue;
                    }
                    let grouped = $query(&self.db, &ids, visibility).await?;
                    out.extend(
                        grouped
                            .into_iter()
                            .map(|(id, links)| ($key(id, visibility), links)),
                    );
                }
                Ok(out)
            }
        }
    };
}

link_loader!(
    ConditionsOfTopic,
    (topic_condition::Model, condition::Model),
    links::conditions_of_topics
);
link_loader!(
    SideEffectsOfTopic,
    (topic_side_effect::Model, side_effect::Model),
    links::side_effects_of_topics
);
link_loader!(
    TopicsOfCondition,
    (topic_condition::Model, topic::Model),
    links::topics_of_conditions
);
link_loader!(
    TopicsOfSideEffect,
    (topic_side_effect::Model, topic::Model),
    links::topics_of_side_effects
);

/// A user by id (revision authors).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserById(pub i32);

impl Loader<UserById> for LinkLoader {
    type Value = user::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[UserById]) -> Result<HashMap<UserById, user::Model>, ApiError> {
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(keys.iter().map(|key| key.0)))
            .all(&self.db)
            .await?;
        Ok(users.into_iter().map(|u| (UserById(u.id), u)).collect())
    }
}

/// An API token by id (revisions made with one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApiTokenById(pub i32);

impl Loader<ApiTokenById> for LinkLoader {
    type Value = entity::api_token::Model;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ApiTokenById],
    ) -> Result<HashMap<ApiTokenById, entity::api_token::Model>, ApiError> {
        use entity::api_token;
        let tokens = api_token::Entity::find()
            .filter(api_token::Column::Id.is_in(keys.iter().map(|key| key.0)))
            .all(&self.db)
            .await?;
        Ok(tokens
            .into_iter()
            .map(|t| (ApiTokenById(t.id), t))
            .collect())
    }
}

/// A media item by id (topics' hero images).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MediaById(pub i32);

impl Loader<MediaById> for LinkLoader {
    type Value = entity::media::Model;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[MediaById],
    ) -> Result<HashMap<MediaById, entity::media::Model>, ApiError> {
        use entity::media;
        let items = media::Entity::find()
            .filter(media::Column::Id.is_in(keys.iter().map(|key| key.0)))
            .all(&self.db)
            .await?;
        Ok(items.into_iter().map(|m| (MediaById(m.id), m)).collect())
    }
}
