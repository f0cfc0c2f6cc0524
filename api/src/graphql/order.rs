//! Answers in the order of the query.
//!
//! The GraphQL spec has every object of an answer list its fields in the order the query
//! selects them. async-graphql 7 resolves a query's fields concurrently and keeps them in
//! the order they finish, so a topic's `conditions` and `sideEffects` (two DataLoader
//! batches) came back in either order from one request to the next: the same content had
//! two different bodies, hence two `ETag`s, and a client revalidating with `If-None-Match`
//! could be sent the whole body again. [`restore`] puts every object of the answer back in
//! selection order (fragments expanded where they are spread) before it is serialised.

use async_graphql::Value;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// Fragments and fields nest at most this deep here (the query limits refuse deeper
/// queries, and fragment cycles, long before).
const MAX_NESTING: usize = 64;

/// Reorders `value` (the answer to `selection_set`) in place.
pub fn restore(value: &mut Value, document: &ExecutableDocument, selection_set: &SelectionSet) {
    let plan = Plan::of(&[selection_set], document, 0);
    plan.apply(value);
}

/// The response keys a selection selects, in order, each with the plan of its own
/// selection: the shape of the query, built once per request and laid over the answer
/// (whose lists repeat the same shape many times).
struct Plan<'a> {
    fields: Vec<(&'a str, Plan<'a>)>,
}

impl<'a> Plan<'a> {
    fn of(sets: &[&'a SelectionSet], document: &'a ExecutableDocument, nesting: usize) -> Self {
        let mut groups: Vec<(&'a str, Vec<&'a SelectionSet>)> = Vec::new();
        if nesting <= MAX_NESTING {
            for set in sets {
                collect(set, document, &mut groups, nesting);
            }
        }
        Self {
            fields: groups
                .into_iter()
                .map(|(key, subsets)| (key, Plan::of(&subsets, document, nesting + 1)))
                .collect(),
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.fields.iter().position(|(name, _)| *name == key)
    }

    fn apply(&self, value: &mut Value) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.apply(item);
                }
            }
            // An object without a selection is a JSON scalar's value: left as it is.
            Value::Object(map) if !self.fields.is_empty() => {
                let mut last = None;
                let in_order = map.keys().all(|name| {
                    let at = self.position(name.as_str());
                    let ordered = at.is_some() && at > last;
                    last = at;
                    ordered
                });
                if !in_order {
                    let mut unordered = std::mem::take(map);
                    for (key, _) in &self.fields {
                        if let Some((name, field)) = unordered.shift_remove_entry(*key) {
                            map.insert(name, field);
                        }
                    }
                    // Whatever the query does not name (nothing, normally) stays, after.
                    map.extend(unordered);
                }
                for (name, field) in map.iter_mut() {
                    if let Some(at) = self.position(name.as_str()) {
                        self.fields[at].1.apply(field);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Adds the response keys `set` selects to `groups`, in order, each with the selection
/// sets under it (several when the same key is selected more than once, which GraphQL
/// merges).
fn collect<'a>(
    set: &'a SelectionSet,
    document: &'a ExecutableDocument,
    groups: &mut Vec<(&'a str, Vec<&'a SelectionSet>)>,
    nesting: usize,
) {
    if nesting > MAX_NESTING {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                let key = field.response_key().node.as_str();
                let subset = &field.selection_set.node;
                match groups.iter_mut().find(|(name, _)| *name == key) {
                    Some((_, subsets)) => subsets.push(subset),
                    None => groups.push((key, vec![subset])),
                }
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    collect(
                        &fragment.node.selection_set.node,
                        document,
                        groups,
                        nesting + 1,
                    );
                }
            }
            Selection::InlineFragment(inline) => {
                collect(
                    &inline.node.selection_set.node,
                    document,
                    groups,
                    nesting + 1,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::types::DocumentOperations;

    use crate::graphql::nesting::{MAX_NESTING, parse};

    use super::*;

    fn restored(query: &str, answer: serde_json::Value) -> String {
        let document = parse(query, MAX_NESTING).expect("valid");
        let DocumentOperations::Single(operation) = &document.operations else {
            panic!("one operation");
        };
        let mut value = Value::from_json(answer).expect("json");
        restore(&mut value, &document, &operation.node.selection_set.node);
        serde_json::to_string(&value).expect("serialises")
    }

    #[test]
    fn objects_follow_the_selection_through_lists_aliases_and_fragments() {
        let query = "{ t: topic { slug ...F c: conditions { name } } } \
                     fragment F on Topic { ... on Topic { sideEffects { name slug } } title }";
        // Not in the query's order (serde_json's map, unless told otherwise, sorts keys).
        let answer = serde_json::json!({ "t": {
            "c": [{ "name": "acne" }],
            "title": "Microneedling",
            "sideEffects": [{ "slug": "redness", "name": "Redness" }],
            "slug": "microneedling",
        }});
        assert_eq!(
            restored(query, answer),
            r#"{"t":{"slug":"microneedling","sideEffects":[{"name":"Redness","slug":"redness"}],"title":"Microneedling","c":[{"name":"acne"}]}}"#
        );
    }
}
