//! Query limits: what a request may cost, checked before any database work.
//!
//! Three stages, cheapest first:
//! 1. [`QueryLimits::inspect`] on the raw request: document and variables size, then the
//!    parse behind [`nesting::parse`]'s guards (so a deeply nested document never reaches
//!    the recursive parser, nor leaves it), the rules of the text alone (`__typename`'s
//!    directives, NUL characters), then the shape of the operation with every fragment
//!    expanded once (memoised, so a "fragment bomb" costs linear time): depth, aliases,
//!    root fields, number of fields, fragment cycles, introspection.
//! 2. The weighted complexity that validation computes with the schema: connections cost
//!    `first`/`last` (default page size) times their selection, other lists
//!    [`LIST_WEIGHT`] times theirs. The serving schema checks it with async-graphql's
//!    built-in limit; a refusal is explained by [`ComplexityLimit`], an extension on a
//!    second schema (see `build_schema` in the parent module for why).
//! 3. Execution, which only starts when both passed.
//!
//! Every refusal is a [`QueryRefused`] with its own `extensions.code`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::Value as ConstValue;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{ErrorExtensionValues, Name, ServerError, ValidationResult};
use serde_json::{Map, Value};

use super::nesting::{self, MAX_BRACKETS};
use crate::content::pagination::DEFAULT_PAGE_SIZE;

/// The assumed length of a list without pagination (a topic's conditions, say) when
/// weighing a query.
pub const LIST_WEIGHT: usize = 10;

/// The weight of a connection field: its page size times the cost of one item's selection.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first.or(last).unwrap_or(DEFAULT_PAGE_SIZE).max(1);
    usize::try_from(size)
        .unwrap_or(1)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

/// The weight of an unpaginated list field.
pub fn list_cost(child_complexity: usize) -> usize {
    LIST_WEIGHT
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

pub use crate::config::settings::QueryLimits;

/// The longest query text a cache keeps (parsed documents, compiled reads); longer texts
/// are parsed every time: real frontends' queries are a few hundred bytes to a few KiB,
/// and this bounds what the caches can hold (a few MB at worst).
pub const MAX_TEXT_BYTES: usize = 8 * 1024;

/// A measure a request can exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Field nesting.
    Depth,
    /// Bracket nesting of the document text.
    Nesting,
    /// Opening brackets in the document text.
    Brackets,
    /// Weighted complexity.
    Complexity,
    /// Aliased fields.
    Aliases,
    /// Root fields.
    RootFields,
    /// Document size.
    DocumentBytes,
    /// Variables size.
    VariablesBytes,
}

impl Limit {
    fn code(self) -> &'static str {
        match self {
            Self::Depth | Self::Nesting => "QUERY_TOO_DEEP",
            Self::Brackets => "QUERY_TOO_LARGE",
            Self::Complexity => "QUERY_TOO_COMPLEX",
            Self::Aliases => "TOO_MANY_ALIASES",
            Self::RootFields => "TOO_MANY_ROOT_FIELDS",
            Self::DocumentBytes => "QUERY_TOO_LARGE",
            Self::VariablesBytes => "VARIABLES_TOO_LARGE",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Depth => "the query nests fields deeper than",
            Self::Nesting => "the query nests brackets ({ }, [ ], ( )) deeper than",
            Self::Brackets => "the query document holds more opening brackets than",
            Self::Complexity => "the query's complexity is over",
            Self::Aliases => "the query uses more aliases than",
            Self::RootFields => "the query selects more root fields than",
            Self::DocumentBytes => "the query document is larger than",
            Self::VariablesBytes => "the variables are larger than",
        }
    }
}

/// A request refused for its cost or shape, before execution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryRefused {
    /// A limit was exceeded.
    #[error("{} {max}", .limit.describe())]
    OverLimit {
        /// Which limit.
        limit: Limit,
        /// The configured maximum.
        max: usize,
        /// What the request has (at least this much; counting stops early).
        actual: usize,
    },
    /// Introspection is switched off (`DERMIS_INTROSPECTION=false`).
    #[error("introspection is disabled on this server")]
    IntrospectionDisabled,
    /// A fragment spreads itself, directly or through others.
    #[error("fragment \"{0}\" spreads itself")]
    FragmentCycle(String),
    /// `@skip`/`@include` with an `if` that is not a Boolean (async-graphql ignores it).
    #[error("the argument \"if\" of @{0} must be a Boolean or a variable")]
    ConditionNotBoolean(String),
    /// A text argument holds U+0000 (see [`super::nul`]): where.
    #[error("`{0}` may not contain the NUL character (U+0000)")]
    NulCharacter(String),
}

impl QueryRefused {
    /// The stable code integrators match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::OverLimit { limit, .. } => limit.code(),
            Self::IntrospectionDisabled => "INTROSPECTION_DISABLED",
            Self::FragmentCycle(_) | Self::ConditionNotBoolean(_) => "GRAPHQL_VALIDATION_FAILED",
            Self::NulCharacter(_) => "BAD_USER_INPUT",
        }
    }

    /// The GraphQL error: message, `code`, and for a limit `limit` and `actual`.
    pub fn into_server_error(self) -> ServerError {
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", self.code());
        match &self {
            Self::OverLimit { max, actual, .. } => {
                extensions.set("limit", *max as u64);
                extensions.set("actual", *actual as u64);
            }
            Self::NulCharacter(field) => extensions.set("field", field.as_str()),
            _ => {}
        }
        let mut error = ServerError::new(self.to_string(), None);
        error.extensions = Some(extensions);
        error
    }
}

/// What stage 1 hands back: the parsed document, or the errors to answer with.
pub type Inspected = Result<ExecutableDocument, Vec<ServerError>>;

impl QueryLimits {
    /// The configured maximum of `limit`.
    fn max(&self, limit: Limit) -> usize {
        match limit {
            Limit::Depth => self.max_depth,
            Limit::Nesting => self.max_nesting,
            Limit::Brackets => MAX_BRACKETS,
            Limit::Complexity => self.max_complexity,
            Limit::Aliases => self.max_aliases,
            Limit::RootFields => self.max_root_fields,
            Limit::DocumentBytes => self.max_document_bytes,
            Limit::VariablesBytes => self.max_variables_bytes,
        }
    }

    fn over(&self, limit: Limit, actual: usize) -> Result<(), QueryRefused> {
        let max = self.max(limit);
        if actual > max {
            Err(QueryRefused::OverLimit { limit, max, actual })
        } else {
            Ok(())
        }
    }

    /// Stage 1: sizes, nesting, parse and shape. A parse error comes back with the code
    /// `GRAPHQL_PARSE_FAILED`.
    pub fn inspect(
        &self,
        query: &str,
        variables: Option<&Map<String, Value>>,
        operation_name: Option<&str>,
    ) -> Inspected {
        let refused = |error: QueryRefused| vec![error.into_server_error()];
        self.over(Limit::DocumentBytes, query.len())
            .map_err(refused)?;
        let mut document = nesting::parse(query, self.max_nesting).map_err(|refusal| {
            let (limit, actual) = match refusal {
                nesting::Refusal::TooDeep(actual) => (Limit::Nesting, actual),
                nesting::Refusal::TooManyBrackets(actual) => (Limit::Brackets, actual),
                nesting::Refusal::Syntax(mut error) => {
                    let mut extensions = ErrorExtensionValues::default();
                    extensions.set("code", "GRAPHQL_PARSE_FAILED");
                    error.extensions = Some(extensions);
                    return vec![error];
                }
            };
            refused(QueryRefused::OverLimit {
                limit,
                max: self.max(limit),
                actual,
            })
        })?;
        super::typename::expose_directives(&mut document);
        // What depends on the text alone is checked once, here: a text that passes is kept
        // (parsed documents, persisted queries) and later only `check`ed.
        if let Some(field) = super::nul::in_document(&document) {
            return Err(refused(QueryRefused::NulCharacter(field)));
        }
        self.check(&document, variables, operation_name)?;
        Ok(document)
    }

    /// The checks of a parsed document against one request's variables and operation
    /// name: variables size, shape of the operation, required variables. A persisted
    /// document (APQ) passes here on every use.
    pub fn check(
        &self,
        document: &ExecutableDocument,
        variables: Option<&Map<String, Value>>,
        operation_name: Option<&str>,
    ) -> Result<(), Vec<ServerError>> {
        let refused = |error: QueryRefused| vec![error.into_server_error()];
        if let Some(variables) = variables {
            let size = serde_json::to_string(variables).map_or(usize::MAX, |s| s.len());
            self.over(Limit::VariablesBytes, size).map_err(refused)?;
            if let Some(field) = super::nul::in_variables(variables) {
                return Err(refused(QueryRefused::NulCharacter(field)));
            }
        }
        if let Some(operation) = select_operation(document, operation_name) {
            self.check_shape(document, operation).map_err(refused)?;
            required_variables(operation, variables)?;
        }
        Ok(())
    }

    fn check_shape(
        &self,
        document: &ExecutableDocument,
        operation: &OperationDefinition,
    ) -> Result<(), QueryRefused> {
        let mut walker = Walker {
            document,
            memo: HashMap::new(),
            visiting: HashSet::new(),
        };
        let shape = walker.selection_set(&operation.selection_set.node)?;
        let root = walker.root_fields(&operation.selection_set.node);
        self.over(Limit::RootFields, root.len())?;
        if !self.introspection
            && root
                .iter()
                .any(|name| name.as_str() == "__schema" || name.as_str() == "__type")
        {
            return Err(QueryRefused::IntrospectionDisabled);
        }
        self.over(Limit::Depth, shape.depth)?;
        self.over(Limit::Aliases, shape.aliases)?;
        // Every field weighs at least 1, so the plain field count bounds the complexity
        // from below; refusing here keeps validation itself cheap.
        self.over(Limit::Complexity, shape.fields)
    }
}

/// The operation a request runs: the named one, or the only one.
/// Variable coercion's first rule, which async-graphql leaves to execution time (where it
/// surfaces as a field error without a code): a variable of a non-null type without a
/// default must be given, and not as `null`. A request error, like every other variable
/// error, with the code `GRAPHQL_VALIDATION_FAILED`.
fn required_variables(
    operation: &OperationDefinition,
    variables: Option<&Map<String, Value>>,
) -> Result<(), Vec<ServerError>> {
    let errors: Vec<ServerError> = operation
        .variable_definitions
        .iter()
        .filter(|definition| {
            let definition = &definition.node;
            !definition.var_type.node.nullable
                && definition.default_value.is_none()
                && variables
                    .and_then(|v| v.get(definition.name.node.as_str()))
                    .is_none_or(Value::is_null)
        })
        .map(|definition| {
            let mut error = ServerError::new(
                format!(
                    "variable \"${}\" of required type \"{}\" was not provided",
                    definition.node.name.node, definition.node.var_type.node
                ),
                Some(definition.pos),
            );
            let mut extensions = ErrorExtensionValues::default();
            extensions.set("code", "GRAPHQL_VALIDATION_FAILED");
            error.extensions = Some(extensions);
            error
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The operation a request runs: the named one, or the only one.
pub fn select_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, operation)| &operation.node),
        (DocumentOperations::Multiple(operations), None) => {
            let mut all = operations.values();
            match (all.next(), all.next()) {
                (Some(only), None) => Some(&only.node),
                _ => None,
            }
        }
    }
}

/// Refuses `@skip(if: "yes")` and the like: `if` must be a Boolean literal or a variable.
fn conditions_are_boolean(directives: &[Positioned<Directive>]) -> Result<(), QueryRefused> {
    for directive in directives {
        let name = directive.node.name.node.as_str();
        if !matches!(name, "skip" | "include") {
            continue;
        }
        if let Some(value) = directive.node.get_argument("if")
            && value
                .node
                .clone()
                .into_const()
                .is_some_and(|constant| !matches!(constant, ConstValue::Boolean(_)))
        {
            return Err(QueryRefused::ConditionNotBoolean(name.to_owned()));
        }
    }
    Ok(())
}

/// The size of a selection set with its fragments expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Shape {
    depth: usize,
    fields: usize,
    aliases: usize,
}

impl Shape {
    fn merge(&mut self, other: Shape) {
        self.depth = self.depth.max(other.depth);
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
    }
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    memo: HashMap<&'a str, Shape>,
    visiting: HashSet<&'a str>,
}

impl<'a> Walker<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> Result<Shape, QueryRefused> {
        let mut shape = Shape::default();
        for selection in &set.items {
            conditions_are_boolean(selection.node.directives())?;
            match &selection.node {
                Selection::Field(field) => {
                    let children = self.selection_set(&field.node.selection_set.node)?;
                    shape.merge(Shape {
                        depth: children.depth.saturating_add(1),
                        fields: children.fields.saturating_add(1),
                        aliases: children
                            .aliases
                            .saturating_add(usize::from(field.node.alias.is_some())),
                    });
                }
                Selection::InlineFragment(fragment) => {
                    shape.merge(self.selection_set(&fragment.node.selection_set.node)?);
                }
                Selection::FragmentSpread(spread) => {
                    shape.merge(self.fragment(&spread.node.fragment_name.node)?);
                }
            }
        }
        Ok(shape)
    }

    fn fragment(&mut self, name: &'a Name) -> Result<Shape, QueryRefused> {
        if let Some(shape) = self.memo.get(name.as_str()) {
            return Ok(*shape);
        }
        if !self.visiting.insert(name.as_str()) {
            return Err(QueryRefused::FragmentCycle(name.to_string()));
        }
        // An unknown fragment is left to validation, which names it.
        let shape = match self.document.fragments.get(name) {
            Some(fragment) => self.selection_set(&fragment.node.selection_set.node)?,
            None => Shape::default(),
        };
        self.visiting.remove(name.as_str());
        self.memo.insert(name.as_str(), shape);
        Ok(shape)
    }

    /// The names of the root fields, fragments expanded (cycles were refused before).
    fn root_fields(&self, set: &'a SelectionSet) -> Vec<&'a Name> {
        let mut names = Vec::new();
        let mut pending: Vec<&SelectionSet> = vec![set];
        let mut seen = HashSet::new();
        while let Some(set) = pending.pop() {
            for selection in &set.items {
                match &selection.node {
                    Selection::Field(field) => names.push(&field.node.name.node),
                    Selection::InlineFragment(fragment) => {
                        pending.push(&fragment.node.selection_set.node);
                    }
                    Selection::FragmentSpread(spread) => {
                        let name = &spread.node.fragment_name.node;
                        if seen.insert(name.as_str())
                            && let Some(fragment) = self.document.fragments.get(name)
                        {
                            pending.push(&fragment.node.selection_set.node);
                        }
                    }
                }
            }
        }
        names
    }
}

/// Stage 2: refuses a document whose weighted complexity (computed by validation with
/// the schema) is over the limit.
pub struct ComplexityLimit {
    max: usize,
}

impl ComplexityLimit {
    /// The extension for a maximum complexity.
    pub fn new(max: usize) -> Self {
        Self { max }
    }
}

impl ExtensionFactory for ComplexityLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ComplexityCheck { max: self.max })
    }
}

struct ComplexityCheck {
    max: usize,
}

#[async_trait::async_trait]
impl Extension for ComplexityCheck {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.complexity > self.max {
            return Err(vec![
                QueryRefused::OverLimit {
                    limit: Limit::Complexity,
                    max: self.max,
                    actual: result.complexity,
                }
                .into_server_error(),
            ]);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect(limits: &QueryLimits, query: &str) -> Result<(), String> {
        limits
            .inspect(query, None, None)
            .map(|_| ())
            .map_err(|errors| {
                errors[0]
                    .extensions
                    .as_ref()
                    .and_then(|e| e.get("code").cloned())
                    .map(|code| code.to_string())
                    .unwrap_or_default()
            })
    }

    #[test]
    fn a_fragment_bomb_is_measured_without_expanding_it() {
        let mut query = String::from("query { ...F0 }\n");
        for i in 0..40 {
            query.push_str(&format!(
                "fragment F{i} on Query {{ ...F{next} ...F{next} }}\n",
                next = i + 1
            ));
        }
        query.push_str("fragment F40 on Query { __typename }\n");
        let limits = QueryLimits::default();
        assert_eq!(
            inspect(&limits, &query),
            Err("\"QUERY_TOO_COMPLEX\"".into())
        );
    }

    #[test]
    fn cycles_and_limits_have_their_codes() {
        let limits = QueryLimits {
            max_root_fields: 2,
            introspection: false,
            ..QueryLimits::default()
        };
        let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert_eq!(
            inspect(&limits, cycle),
            Err("\"GRAPHQL_VALIDATION_FAILED\"".into())
        );
        assert_eq!(
            inspect(&limits, "{ a b c }"),
            Err("\"TOO_MANY_ROOT_FIELDS\"".into())
        );
        assert_eq!(
            inspect(&limits, "{ ... on Query { __schema { types { name } } } }"),
            Err("\"INTROSPECTION_DISABLED\"".into())
        );
        assert_eq!(inspect(&limits, "{ __typename }"), Ok(()));
    }
}
