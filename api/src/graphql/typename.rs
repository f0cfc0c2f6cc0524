//! Directives on `__typename`, made visible to validation.
//!
//! async-graphql's validation skips `__typename` fields entirely, their directives
//! included: `query($x: Boolean!) { __typename @include(if: $x) }` was refused as "variable
//! not used" (graphql-js accepts it), and `__typename @include(if: $undefined)` or
//! `__typename @unknown` passed unchecked. A parsed document is therefore rewritten once:
//! `__typename @d` becomes `... @d { __typename }`, which means the same (an inline fragment
//! without a type condition selects its fields where it stands, under its directives) and
//! whose directives validation does check.

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, InlineFragment, Selection, SelectionSet,
};

/// Rewrites every `__typename` field with directives in `document` (see the module docs).
pub fn expose_directives(document: &mut ExecutableDocument) {
    match &mut document.operations {
        DocumentOperations::Single(operation) => rewrite(&mut operation.node.selection_set.node),
        DocumentOperations::Multiple(operations) => {
            for operation in operations.values_mut() {
                rewrite(&mut operation.node.selection_set.node);
            }
        }
    }
    for fragment in document.fragments.values_mut() {
        rewrite(&mut fragment.node.selection_set.node);
    }
}

/// Recursion as deep as the selection sets, which the nesting limit bounds.
fn rewrite(set: &mut SelectionSet) {
    for selection in &mut set.items {
        let pos = selection.pos;
        match &mut selection.node {
            Selection::Field(field)
                if field.node.name.node == "__typename" && !field.node.directives.is_empty() =>
            {
                let directives = std::mem::take(&mut field.node.directives);
                let field = Positioned::new(Selection::Field(field.clone()), pos);
                selection.node = Selection::InlineFragment(Positioned::new(
                    InlineFragment {
                        type_condition: None,
                        directives,
                        selection_set: Positioned::new(SelectionSet { items: vec![field] }, pos),
                    },
                    pos,
                ));
            }
            Selection::Field(field) => rewrite(&mut field.node.selection_set.node),
            Selection::InlineFragment(fragment) => {
                rewrite(&mut fragment.node.selection_set.node);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}
