//! How deeply a GraphQL document nests: measured on its text before it is parsed, and on
//! the parsed document before anything else walks it.
//!
//! async-graphql's parser (pest, then a recursive conversion into its syntax tree) and
//! everything after it (validation, execution, dropping the tree) recurse once per level of
//! list and object values, list types and selection sets, without a bound. A document that
//! nests a few hundred levels overflows a worker thread's stack and aborts the process. So a
//! document reaches the parser only through [`parse`], behind three guards:
//!
//! 1. [`depth`]: the deepest nesting of `{ }`, `[ ]` and `( )`, read with a lexer that
//!    follows async-graphql's grammar (strings with escapes, block strings with `\"""`,
//!    comments, and the parser's fallback for an unterminated block string). A document
//!    deeper than the limit is refused without being parsed.
//! 2. [`brackets`]: every opening bracket in the text, strings and comments included. No
//!    document nests deeper than it has brackets, so this count can only over-count, whatever
//!    a lexer gets wrong. Over [`MAX_BRACKETS`] the document is refused; below, the parse runs
//!    on a stack sized for that many levels (a fresh segment from `stacker` when the current
//!    thread has less left), so a misreading of guard 1 cannot overflow it.
//! 3. [`document_depth`]: the same measure on the parsed tree, without recursion. The tree of
//!    a document refused here is dropped on that large stack too, so only documents within
//!    the limit ever leave [`parse`].
//!
//! Guards 1 and 3 agree on every document the parser accepts (a property test checks it);
//! the limit is `QueryLimits::max_nesting`.

use async_graphql::ServerError;
use async_graphql::parser::types::{
    BaseType, Directive, DocumentOperations, ExecutableDocument, Selection, SelectionSet, Type,
};
use async_graphql::parser::{Positioned, parse_query};

use super::values;

pub use crate::config::settings::MAX_NESTING;

/// The most opening brackets a document may hold (guard 2). Far above what real queries
/// hold (a large frontend query has a few hundred), and bounded so that the stack a parse
/// may need stays small: at most `MAX_BRACKETS` x [`STACK_PER_LEVEL`].
pub const MAX_BRACKETS: usize = 4096;

/// Stack reserved per level the parser might descend (unoptimised builds use about 5.5 KiB
/// per level of list values, optimised ones about 1.3 KiB).
const STACK_PER_LEVEL: usize = 8 * 1024;

/// Stack reserved for the parser whatever the document (its entry, pest's own 64 KiB
/// headroom, error formatting).
const STACK_BASE: usize = 512 * 1024;

/// What [`parse`] refuses a document for.
#[derive(Debug)]
pub enum Refusal {
    /// It nests deeper than the limit (guard 1 or 3): how deep.
    TooDeep(usize),
    /// It has more than [`MAX_BRACKETS`] opening brackets: how many.
    TooManyBrackets(usize),
    /// It is not valid GraphQL syntax.
    Syntax(ServerError),
}

/// Parses `text` into a document that nests at most `max_nesting` levels, or says why not.
/// The only way into async-graphql's parser (clippy's `disallowed-methods` keeps it so).
pub fn parse(text: &str, max_nesting: usize) -> Result<ExecutableDocument, Refusal> {
    let lexical = depth(text);
    if lexical > max_nesting {
        return Err(Refusal::TooDeep(lexical));
    }
    let brackets = brackets(text);
    if brackets > MAX_BRACKETS {
        return Err(Refusal::TooManyBrackets(brackets));
    }
    let stack = STACK_BASE + brackets * STACK_PER_LEVEL;
    stacker::maybe_grow(stack, stack, || {
        #[allow(clippy::disallowed_methods)]
        let document = parse_query(text).map_err(|error| Refusal::Syntax(error.into()))?;
        let parsed = document_depth(&document);
        if parsed > max_nesting {
            // Dropping a deep tree recurses as deeply as parsing it did: here, on this stack.
            drop(document);
            return Err(Refusal::TooDeep(parsed));
        }
        Ok(document)
    })
}

/// The number of opening brackets (`{`, `[`, `(`) anywhere in `text`: an upper bound of
/// its nesting that needs no lexer.
pub fn brackets(text: &str) -> usize {
    text.bytes()
        .filter(|b| matches!(b, b'{' | b'[' | b'('))
        .count()
}

/// The deepest nesting of `{ }`, `[ ]` and `( )` outside strings and comments, as
/// async-graphql's parser reads them. Scanning stops where that parser must fail (a string
/// it cannot read): it never gets further, so nothing after that point can nest in it.
/// All of GraphQL's punctuation is ASCII, and UTF-8 never uses ASCII bytes inside a
/// multi-byte character, so the text is read byte by byte.
pub fn depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut at, mut depth, mut deepest) = (0, 0usize, 0usize);
    while let Some(&byte) = bytes.get(at) {
        at = match byte {
            b'#' => comment_end(bytes, at + 1),
            b'"' => match string_end(bytes, at) {
                Some(end) => end,
                None => break,
            },
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
                at + 1
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                at + 1
            }
            _ => at + 1,
        };
    }
    deepest
}

/// Where a comment that starts before `at` ends: at the next line terminator.
fn comment_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|b| matches!(b, b'\n' | b'\r'))
        .map_or(bytes.len(), |offset| at + offset)
}

/// Where the string that starts with the `"` at `at` ends (just past its closing quote), or
/// `None` where the parser cannot read a string there.
///
/// A `"""` opens a block string, which runs to the next `"""` that is not escaped as
/// `\"""`. The grammar tries the block string first and, when no `"""` closes it, falls
/// back to a plain string: `""` (empty), after which the third `"` opens a string of its
/// own. The lexer does the same, or a document could hide brackets from it that the
/// parser reads.
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes[at..].starts_with(b"\"\"\"") {
        let mut next = at + 3;
        while next < bytes.len() {
            if bytes[next..].starts_with(b"\"\"\"") {
                return Some(next + 3);
            }
            next += if bytes[next..].starts_with(b"\\\"\"\"") {
                4
            } else {
                1
            };
        }
        return Some(at + 2);
    }
    let mut next = at + 1;
    loop {
        match *bytes.get(next)? {
            b'"' => return Some(next + 1),
            b'\n' | b'\r' => return None,
            b'\\' => match *bytes.get(next + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => next += 2,
                b'u' => {
                    let hex = bytes.get(next + 2..next + 6)?;
                    if !is_scalar_value_hex(hex) {
                        return None;
                    }
                    next += 6;
                }
                _ => return None,
            },
            _ => next += 1,
        }
    }
}

/// Four hex digits naming a Unicode scalar value (not a surrogate, D800-DFFF), the only
/// `\u` escapes the parser reads.
fn is_scalar_value_hex(hex: &[u8]) -> bool {
    hex.iter().all(u8::is_ascii_hexdigit)
        && !(hex[0].eq_ignore_ascii_case(&b'd')
            && matches!(hex[1].to_ascii_lowercase(), b'8'..=b'9' | b'a'..=b'f'))
}

/// A part of a parsed document, with the depth its brackets open at.
enum Part<'a> {
    Set(&'a SelectionSet),
    Directives(&'a [Positioned<Directive>]),
    Type(&'a Type),
}

/// The nesting of a parsed document, counted as [`depth`] counts it on the text: a
/// selection set, an argument list, a variable definition list, a list or object value and
/// a list type each open one level. Walked with a stack of its own, not by recursion.
pub fn document_depth(document: &ExecutableDocument) -> usize {
    let mut pending: Vec<(Part<'_>, usize)> = Vec::new();
    let operations: Vec<_> = match &document.operations {
        DocumentOperations::Single(operation) => vec![operation],
        DocumentOperations::Multiple(operations) => operations.values().collect(),
    };
    let mut deepest = 0;
    for operation in operations {
        let operation = &operation.node;
        if !operation.variable_definitions.is_empty() {
            deepest = 1;
        }
        pending.push((Part::Set(&operation.selection_set.node), 0));
        pending.push((Part::Directives(&operation.directives), 0));
        for variable in &operation.variable_definitions {
            let variable = &variable.node;
            // Inside the operation's `( ... )`.
            pending.push((Part::Type(&variable.var_type.node), 1));
            pending.push((Part::Directives(&variable.directives), 1));
            if let Some(default) = &variable.default_value {
                deepest = deepest.max(1 + values::depth(&default.node));
            }
        }
    }
    for fragment in document.fragments.values() {
        pending.push((Part::Set(&fragment.node.selection_set.node), 0));
        pending.push((Part::Directives(&fragment.node.directives), 0));
    }
    while let Some((part, at)) = pending.pop() {
        match part {
            Part::Set(set) if !set.items.is_empty() => {
                let inside = at + 1;
                deepest = deepest.max(inside);
                for selection in &set.items {
                    pending.push((Part::Directives(selection.node.directives()), inside));
                    match &selection.node {
                        Selection::Field(field) => {
                            let field = &field.node;
                            if !field.arguments.is_empty() {
                                deepest = deepest.max(inside + 1);
                            }
                            for (_, value) in &field.arguments {
                                deepest = deepest.max(inside + 1 + values::depth(&value.node));
                            }
                            pending.push((Part::Set(&field.selection_set.node), inside));
                        }
                        Selection::InlineFragment(fragment) => {
                            pending.push((Part::Set(&fragment.node.selection_set.node), inside));
                        }
                        Selection::FragmentSpread(_) => {}
                    }
                }
            }
            Part::Set(_) => {}
            Part::Directives(directives) => {
                for directive in directives {
                    if !directive.node.arguments.is_empty() {
                        deepest = deepest.max(at + 1);
                    }
                    for (_, value) in &directive.node.arguments {
                        deepest = deepest.max(at + 1 + values::depth(&value.node));
                    }
                }
            }
            Part::Type(ty) => {
                if let BaseType::List(inner) = &ty.base {
                    deepest = deepest.max(at + 1);
                    pending.push((Part::Type(inner), at + 1));
                }
            }
        }
    }
    deepest
}

#[cfg(test)]
mod tests;
