//! Relay connection types shared by every paginated list.

use async_graphql::SimpleObject;

use super::types::{Condition, SideEffect, Topic};
use crate::content::pagination::Page;

/// Where a page sits in the whole list.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// True when more items follow this page (pass `endCursor` as `after`).
    pub has_next_page: bool,
    /// True when items precede this page (pass `startCursor` as `before`).
    pub has_previous_page: bool,
    /// Cursor of the first edge of this page; null when the page is empty.
    pub start_cursor: Option<String>,
    /// Cursor of the last edge of this page; null when the page is empty.
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// The page info of a page.
    pub fn of<M>(page: &Page<M>) -> Self {
        Self {
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            start_cursor: page.edges.first().map(|(cursor, _)| cursor.clone()),
            end_cursor: page.edges.last().map(|(cursor, _)| cursor.clone()),
        }
    }
}

macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ident, $what:literal) => {
        #[doc = concat!("A ", $what, " with its cursor.")]
        #[derive(SimpleObject)]
        pub struct $edge {
            /// Opaque position of this item; pass it as `after` or `before`.
            pub cursor: String,
            #[doc = concat!("The ", $what, ".")]
            pub node: $node,
        }

        #[doc = concat!("A page of ", $what, "s, with Relay pagination (`first`/`after`, `last`/`before`).")]
        #[derive(SimpleObject)]
        pub struct $connection {
            /// The items of this page with their cursors.
            pub edges: Vec<$edge>,
            /// Where this page sits in the whole list.
            pub page_info: PageInfo,
            /// Number of items in the whole filtered list, across all pages.
            pub total_count: i64,
        }

        impl $connection {
            /// Wraps a page of rows.
            pub fn from_page<M>(page: Page<M>, node: impl Fn(M) -> $node) -> Self {
                let page_info = PageInfo::of(&page);
                let total_count = page
                    .total_count
                    .map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX));
                Self {
                    edges: page
                        .edges
                        .into_iter()
                        .map(|(cursor, row)| $edge {
                            cursor,
                            node: node(row),
                        })
                        .collect(),
                    page_info,
                    total_count,
                }
            }
        }
    };
}

connection!(TopicConnection, TopicEdge, Topic, "topic");
connection!(ConditionConnection, ConditionEdge, Condition, "condition");
connection!(
    SideEffectConnection,
    SideEffectEdge,
    SideEffect,
    "side effect"
);
