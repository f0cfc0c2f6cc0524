//! Sample content and the `dermis seed` loader: inserts the documents of a seed file that
//! are missing (by slug) and leaves existing ones alone, so it can run any number of times
//! and never overwrites an editor's changes.

use std::collections::HashMap;

use entity::json::Reference;
use entity::{ContentStatus, Duration, Frequency, Severity, condition, side_effect, topic};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QuerySelect};
use serde::Deserialize;

use super::document::Document;
use super::validate::is_valid_slug;
use super::write::{
    self, ConditionLink, NamedInput, SideEffectLink, TopicInput, create_condition,
    create_side_effect,
};
use crate::errors::ApiError;

/// The bundled sample content (microneedling), structured from the source overview.
pub const SAMPLE: &str = include_str!("../../seeds/sample.json");

/// A seed file could not be loaded; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file is not valid seed JSON.
    #[error("invalid seed file: {0}")]
    Parse(#[from] serde_json::Error),
    /// A slug is not lowercase `a-z0-9-`.
    #[error("invalid slug {0:?}: use lowercase letters, digits and single hyphens")]
    InvalidSlug(String),
    /// A topic links to a slug that neither the database nor the file holds.
    #[error("topic {topic:?} links to unknown {kind} {slug:?}")]
    UnknownLink {
        /// The topic.
        topic: String,
        /// `condition` or `side effect`.
        kind: &'static str,
        /// The missing slug.
        slug: String,
    },
    /// The database refused.
    #[error("{0}")]
    Database(#[from] ApiError),
}

impl From<sea_orm::DbErr> for SeedError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Database(err.into())
    }
}

fn published() -> ContentStatus {
    ContentStatus::Published
}

/// A seed file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedFile {
    /// Conditions to create.
    #[serde(default)]
    pub conditions: Vec<SeedNamed>,
    /// Side effects to create.
    #[serde(default)]
    pub side_effects: Vec<SeedNamed>,
    /// Topics to create, with links by slug.
    #[serde(default)]
    pub topics: Vec<SeedTopic>,
}

/// A condition or side effect in a seed file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedNamed {
    slug: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "published")]
    status: ContentStatus,
}

/// A topic in a seed file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTopic {
    slug: String,
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    benefits: Vec<String>,
    #[serde(default)]
    references: Vec<Reference>,
    #[serde(default = "published")]
    status: ContentStatus,
    #[serde(default)]
    conditions: Vec<SeedConditionLink>,
    #[serde(default)]
    side_effects: Vec<SeedSideEffectLink>,
}

/// A topic's link to a condition, by slug.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedConditionLink {
    slug: String,
    #[serde(default)]
    note: Option<String>,
}

/// A topic's link to a side effect, by slug.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSideEffectLink {
    slug: String,
    frequency: Frequency,
    severity: Severity,
    duration: Duration,
    #[serde(default)]
    note: Option<String>,
}

/// What a seed run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    /// Documents inserted.
    pub created: usize,
    /// Documents already present (by slug) and left untouched.
    pub skipped: usize,
}

/// Parses seed JSON.
pub fn parse(json: &str) -> Result<SeedFile, SeedError> {
    let file: SeedFile = serde_json::from_str(json)?;
    let slugs = file
        .conditions
        .iter()
        .chain(&file.side_effects)
        .map(|d| &d.slug)
        .chain(file.topics.iter().map(|t| &t.slug));
    for slug in slugs {
        if !is_valid_slug(slug) {
            return Err(SeedError::InvalidSlug(slug.clone()));
        }
    }
    Ok(file)
}

async fn existing_ids<E: Document, C: sea_orm::ConnectionTrait>(
    conn: &C,
    slugs: Vec<String>,
) -> Result<HashMap<String, i32>, SeedError> {
    let rows: Vec<(String, i32)> = E::find()
        .select_only()
        .column(E::SLUG)
        .column(E::ID)
        .filter(E::SLUG.is_in(slugs))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Inserts what is missing, in one transaction.
pub async fn load(db: &DatabaseConnection, file: SeedFile) -> Result<SeedReport, SeedError> {
    let txn = crate::db::begin_write(db).await?;
    let mut report = SeedReport::default();

    let mut conditions = existing_ids::<condition::Entity, _>(
        &txn,
        file.conditions.iter().map(|d| d.slug.clone()).collect(),
    )
    .await?;
    for doc in file.conditions {
        if conditions.contains_key(&doc.slug) {
            report.skipped += 1;
            continue;
        }
        let model = create_condition(&txn, named(doc), None).await?;
        conditions.insert(model.slug, model.id);
        report.created += 1;
    }

    let mut side_effects = existing_ids::<side_effect::Entity, _>(
        &txn,
        file.side_effects.iter().map(|d| d.slug.clone()).collect(),
    )
    .await?;
    for doc in file.side_effects {
        if side_effects.contains_key(&doc.slug) {
            report.skipped += 1;
            continue;
        }
        let model = create_side_effect(&txn, named(doc), None).await?;
        side_effects.insert(model.slug, model.id);
        report.created += 1;
    }

    // Links may also point at documents that were in the database before this file.
    let linked_conditions = file
        .topics
        .iter()
        .flat_map(|t| t.conditions.iter().map(|l| l.slug.clone()))
        .collect();
    conditions.extend(existing_ids::<condition::Entity, _>(&txn, linked_conditions).await?);
    let linked_side_effects = file
        .topics
        .iter()
        .flat_map(|t| t.side_effects.iter().map(|l| l.slug.clone()))
        .collect();
    side_effects.extend(existing_ids::<side_effect::Entity, _>(&txn, linked_side_effects).await?);

    let existing_topics = existing_ids::<topic::Entity, _>(
        &txn,
        file.topics.iter().map(|t| t.slug.clone()).collect(),
    )
    .await?;
    for doc in file.topics {
        if existing_topics.contains_key(&doc.slug) {
            report.skipped += 1;
            continue;
        }
        let unknown = |kind, slug: &str| SeedError::UnknownLink {
            topic: doc.slug.clone(),
            kind,
            slug: slug.to_owned(),
        };
        let condition_links = doc
            .conditions
            .iter()
            .map(|link| {
                Ok(ConditionLink {
                    condition_id: *conditions
                        .get(&link.slug)
                        .ok_or_else(|| unknown("condition", &link.slug))?,
                    note: link.note.clone(),
                })
            })
            .collect::<Result<Vec<_>, SeedError>>()?;
        let side_effect_links = doc
            .side_effects
            .iter()
            .map(|link| {
                Ok(SideEffectLink {
                    side_effect_id: *side_effects
                        .get(&link.slug)
                        .ok_or_else(|| unknown("side effect", &link.slug))?,
                    frequency: link.frequency,
                    severity: link.severity,
                    duration: link.duration,
                    note: link.note.clone(),
                })
            })
            .collect::<Result<Vec<_>, SeedError>>()?;
        let input = TopicInput {
            slug: doc.slug,
            title: doc.title,
            summary: doc.summary,
            body: doc.body,
            features: doc.features,
            benefits: doc.benefits,
            references: doc.references,
            status: doc.status,
        };
        write::create_topic(&txn, input, condition_links, side_effect_links, None).await?;
        report.created += 1;
    }
    txn.commit().await?;
    Ok(report)
}

fn named(doc: SeedNamed) -> NamedInput {
    NamedInput {
        slug: doc.slug,
        name: doc.name,
        description: doc.description,
        status: doc.status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_parses_with_eight_conditions_and_side_effects() {
        let file = parse(SAMPLE).expect("sample content is valid");
        assert_eq!(file.conditions.len(), 8);
        assert_eq!(file.side_effects.len(), 8);
        assert_eq!(file.topics.len(), 1);
        assert_eq!(file.topics[0].conditions.len(), 8);
        assert_eq!(file.topics[0].side_effects.len(), 8);
    }

    #[test]
    fn slugs() {
        assert!(is_valid_slug("stretch-marks"));
        assert!(is_valid_slug("a1"));
        for bad in ["", "Acne", "a--b", "-a", "a-", "a b", "é"] {
            assert!(!is_valid_slug(bad), "{bad}");
        }
    }
}
