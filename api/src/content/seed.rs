//! Sample content and the `dermis seed` loader: inserts the documents of a seed file that
//! are missing (by slug) and leaves existing ones alone, so it can run any number of times
//! and never overwrites an editor's changes.

use std::collections::HashMap;

use entity::json::Reference;
use entity::{ContentStatus, Duration, Frequency, Severity, condition, side_effect, topic};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QuerySelect};
use serde::Deserialize;

use super::document::Document;
use super::embeds::{Missing, render};
use super::fields::{
    ConditionLink, Items, Label, Markdown, References, SideEffectLink, Slug, Summary, TopicFields,
};
use super::validate::FieldError;
use super::validate::is_valid_slug;
use super::write::{self, Identity, create_condition, create_side_effect};
use crate::errors::ApiError;
use crate::media::Addresses;

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
    /// A document's field breaks the rules every editor's input follows.
    #[error("document {slug:?}: {error}")]
    Invalid {
        /// The document.
        slug: String,
        /// The field and why.
        error: FieldError,
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

/// Inserts what is missing, in one transaction. Media items its Markdown names are shown
/// if the library has them (`addresses` spells their addresses).
pub async fn load(
    db: &DatabaseConnection,
    addresses: &Addresses,
    file: SeedFile,
) -> Result<SeedReport, SeedError> {
    let txn = crate::db::begin_content_write(db).await?;
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
        let (identity, description) = named(doc)?;
        let html = render(&txn, addresses, description.as_str(), Missing::Skip).await?;
        let model = create_condition(&txn, identity, description, html, None).await?;
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
        let (identity, description) = named(doc)?;
        let html = render(&txn, addresses, description.as_str(), Missing::Skip).await?;
        let model = create_side_effect(&txn, identity, description, html, None).await?;
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
        let invalid = |error| SeedError::Invalid {
            slug: doc.slug.clone(),
            error,
        };
        let condition_links = (0..)
            .zip(&doc.conditions)
            .map(|(i, link)| {
                let id = *conditions
                    .get(&link.slug)
                    .ok_or_else(|| unknown("condition", &link.slug))?;
                ConditionLink::parse(id, link.note.clone(), &format!("conditions[{i}].note"))
                    .map_err(invalid)
            })
            .collect::<Result<Vec<_>, SeedError>>()?;
        let side_effect_links = (0..)
            .zip(&doc.side_effects)
            .map(|(i, link)| {
                let id = *side_effects
                    .get(&link.slug)
                    .ok_or_else(|| unknown("side effect", &link.slug))?;
                let attributes = (link.frequency, link.severity, link.duration);
                let field = format!("sideEffects[{i}].note");
                SideEffectLink::parse(id, attributes, link.note.clone(), &field).map_err(invalid)
            })
            .collect::<Result<Vec<_>, SeedError>>()?;
        let (identity, fields) = topic(doc, condition_links, side_effect_links)?;
        let body = fields.body.as_ref().map_or("", |body| body.as_str());
        let html = render(&txn, addresses, body, Missing::Skip).await?;
        write::create_topic(&txn, identity, fields, html, None).await?;
        report.created += 1;
    }
    txn.commit().await?;
    Ok(report)
}

/// A seed file's condition or side effect, parsed as an editor's input is.
fn named(doc: SeedNamed) -> Result<(Identity, Markdown), SeedError> {
    let parsed = || {
        let label = Label::parse(&doc.name, "name")?;
        let identity = Identity {
            slug: Slug::parse(Some(&doc.slug), label.as_str(), "slug")?,
            label,
            status: doc.status,
        };
        Ok((
            identity,
            Markdown::parse(doc.description.clone(), "description")?,
        ))
    };
    parsed().map_err(|error| SeedError::Invalid {
        slug: doc.slug.clone(),
        error,
    })
}

/// A seed file's topic, parsed as an editor's input is.
fn topic(
    doc: SeedTopic,
    conditions: Vec<ConditionLink>,
    side_effects: Vec<SideEffectLink>,
) -> Result<(Identity, TopicFields), SeedError> {
    let slug = doc.slug.clone();
    let parsed = move || -> Result<_, FieldError> {
        let label = Label::parse(&doc.title, "title")?;
        let identity = Identity {
            slug: Slug::parse(Some(&doc.slug), label.as_str(), "slug")?,
            label,
            status: doc.status,
        };
        let fields = TopicFields {
            title: None,
            slug: None,
            summary: Some(Summary::parse(&doc.summary, "summary")?),
            body: Some(Markdown::parse(doc.body, "body")?),
            features: Some(Items::parse(doc.features, "features")?),
            benefits: Some(Items::parse(doc.benefits, "benefits")?),
            references: Some(References::parse(doc.references, "references")?),
            conditions: Some(conditions),
            side_effects: Some(side_effects),
            image: None,
        };
        Ok((identity, fields))
    };
    parsed().map_err(|error| SeedError::Invalid { slug, error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_documents_follow_the_editors_rules() {
        let json = format!(
            r#"{{"topics": [{{"slug": "long", "title": "{}", "features": [" a ", ""]}}]}}"#,
            "x".repeat(300)
        );
        let mut file = parse(&json).expect("well-formed");
        let doc = file.topics.remove(0);
        match topic(doc, Vec::new(), Vec::new()) {
            Err(SeedError::Invalid { slug, error }) => {
                assert_eq!(slug, "long");
                assert_eq!(error.field, "title");
                assert_eq!(
                    error.error,
                    crate::content::validate::InputError::TooLong { max: 200, got: 300 }
                );
            }
            other => panic!("refused, not {other:?}"),
        }
    }

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
