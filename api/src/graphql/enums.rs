//! GraphQL enums: the stored enums of the model and the ordering options.

use async_graphql::Enum;

/// Publication state of a document.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::ContentStatus")]
pub enum ContentStatus {
    /// Work in progress, visible to editors only.
    Draft,
    /// A topic submitted for medical review; editors only.
    InReview,
    /// A topic whose content a reviewer approved, ready to publish; editors only.
    Approved,
    /// Visible to everyone.
    Published,
    /// Withdrawn from the public, kept for history.
    Archived,
}

/// How often a side effect occurs after a procedure.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::Frequency")]
pub enum Frequency {
    /// Most people who have the procedure experience it.
    Common,
    /// Some people experience it.
    Uncommon,
    /// Few people experience it.
    Rare,
}

/// How severe a side effect is.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::Severity")]
pub enum Severity {
    /// Minor; passes without treatment.
    Mild,
    /// Noticeable; may need care.
    Moderate,
    /// Needs medical attention.
    Severe,
}

/// How long a side effect lasts.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::Duration")]
pub enum Duration {
    /// Goes away by itself, usually within days.
    Temporary,
    /// May last or need treatment to resolve.
    Persistent,
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum OrderDirection {
    /// Smallest first (A to Z, oldest first).
    #[default]
    Asc,
    /// Largest first (Z to A, newest first).
    Desc,
}

/// Fields a topic list can be ordered by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum TopicOrderField {
    /// By title.
    #[default]
    Title,
    /// By time of the last change.
    UpdatedAt,
    /// By time of publication.
    PublishedAt,
}

/// Fields a condition or side-effect list can be ordered by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum NameOrderField {
    /// By name.
    #[default]
    Name,
    /// By time of the last change.
    UpdatedAt,
    /// By time of publication.
    PublishedAt,
}

impl From<OrderDirection> for crate::content::pagination::Direction {
    fn from(value: OrderDirection) -> Self {
        match value {
            OrderDirection::Asc => Self::Asc,
            OrderDirection::Desc => Self::Desc,
        }
    }
}

impl From<TopicOrderField> for crate::content::document::SortField {
    fn from(value: TopicOrderField) -> Self {
        match value {
            TopicOrderField::Title => Self::Label,
            TopicOrderField::UpdatedAt => Self::UpdatedAt,
            TopicOrderField::PublishedAt => Self::PublishedAt,
        }
    }
}

impl From<NameOrderField> for crate::content::document::SortField {
    fn from(value: NameOrderField) -> Self {
        match value {
            NameOrderField::Name => Self::Label,
            NameOrderField::UpdatedAt => Self::UpdatedAt,
            NameOrderField::PublishedAt => Self::PublishedAt,
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{InputType, Value};
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;
    use crate::content::read_model::{DURATION, EnumMap, FREQUENCY, SEVERITY, STATUS};

    /// Each variant's stored value and GraphQL name, as the read model declares them.
    fn holds<E, G>(map: &EnumMap)
    where
        E: ActiveEnum<Value = String> + Iterable + Copy,
        G: From<E> + InputType,
    {
        let actual: Vec<(String, String)> = E::iter()
            .map(|variant| {
                let named = match G::from(variant).to_value() {
                    Value::Enum(name) => name.to_string(),
                    other => other.to_string(),
                };
                (variant.to_value(), named)
            })
            .collect();
        let declared: Vec<(String, String)> = map
            .values
            .iter()
            .map(|(s, n)| ((*s).to_owned(), (*n).to_owned()))
            .collect();
        assert_eq!(actual, declared, "{}", map.name);
    }

    #[test]
    fn the_read_models_enum_maps_are_the_schemas() {
        holds::<entity::ContentStatus, ContentStatus>(&STATUS);
        holds::<entity::Frequency, Frequency>(&FREQUENCY);
        holds::<entity::Severity, Severity>(&SEVERITY);
        holds::<entity::Duration, Duration>(&DURATION);
    }
}
