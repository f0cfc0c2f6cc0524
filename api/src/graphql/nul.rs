//! Text arguments may not hold the NUL character (U+0000).
//!
//! PostgreSQL cannot store or compare it in text, SQLite can: without one rule for both, a
//! slug, search, title or cursor with a NUL was answered normally on one database and with
//! an internal error on the other. No text of Dermis has a use for it, so a request that
//! carries one anywhere in its arguments (written in the document, checked once when the text
//! is parsed, or sent as a variable, checked on every request) is refused before it runs,
//! with `BAD_USER_INPUT` naming where.

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};
use serde_json::{Map, Value as Json};

use super::values::{Shape, Tree};

/// Where the first NUL is in the arguments written in `document` (any operation or
/// fragment; a property of the text, checked once when it is parsed): an argument's path
/// (`input.title`, `filter.search`, `ids[2]`), or a variable default's (`$name`'s path).
pub fn in_document(document: &ExecutableDocument) -> Option<String> {
    let mut sets: Vec<&SelectionSet> = Vec::new();
    let mut found = None;
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        found = found
            .or_else(|| {
                operation
                    .variable_definitions
                    .iter()
                    .find_map(|definition| {
                        let default = definition.node.default_value.as_ref()?;
                        in_value(definition.node.name.node.as_str(), &default.node)
                    })
            })
            .or_else(|| in_directives(&operation.directives));
        sets.push(&operation.selection_set.node);
    }
    for fragment in document.fragments.values() {
        found = found.or_else(|| in_directives(&fragment.node.directives));
        sets.push(&fragment.node.selection_set.node);
    }
    while found.is_none()
        && let Some(set) = sets.pop()
    {
        for selection in &set.items {
            found = found.or_else(|| in_directives(selection.node.directives()));
            match &selection.node {
                Selection::Field(field) => {
                    found = found.or_else(|| {
                        field
                            .node
                            .arguments
                            .iter()
                            .find_map(|(name, value)| in_value(name.node.as_str(), &value.node))
                    });
                    sets.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    sets.push(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    found
}

/// Where the first NUL is in a request's variables: the variable's name, then the path
/// inside its value (`input.title` for `$input`). Checked on every request.
pub fn in_variables(variables: &Map<String, Json>) -> Option<String> {
    variables
        .iter()
        .find_map(|(name, value)| in_value(name, value))
}

fn in_directives(directives: &[Positioned<Directive>]) -> Option<String> {
    directives.iter().find_map(|directive| {
        directive
            .node
            .arguments
            .iter()
            .find_map(|(name, value)| in_value(name.node.as_str(), &value.node))
    })
}

/// One step of a path into a value.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The path of the first text holding a NUL in `value`, which `name` names.
fn in_value<T: Tree>(name: &str, value: &T) -> Option<String> {
    let mut steps = Vec::new();
    if !holds_nul(value, &mut steps) {
        return None;
    }
    let mut path = name.to_owned();
    for step in steps.iter().rev() {
        match step {
            Step::Key(key) => {
                path.push('.');
                path.push_str(key);
            }
            Step::Index(i) => path.push_str(&format!("[{i}]")),
        }
    }
    Some(path)
}

/// Whether `value` holds a NUL; if so, `steps` is the way to it, innermost first. The
/// recursion is as deep as the value, which the nesting limit and JSON's own bound keep
/// small.
fn holds_nul<'a, T: Tree>(value: &'a T, steps: &mut Vec<Step<'a>>) -> bool {
    let found = |step: Step<'a>, steps: &mut Vec<Step<'a>>| {
        steps.push(step);
        true
    };
    match value.shape() {
        Shape::Text(text) => text.contains('\0'),
        Shape::List(items) => items
            .iter()
            .enumerate()
            .any(|(i, item)| holds_nul(item, steps) && found(Step::Index(i), steps)),
        Shape::Object(mut fields) => {
            fields.any(|(key, item)| holds_nul(item, steps) && found(Step::Key(key), steps))
        }
        Shape::Other => false,
    }
}
