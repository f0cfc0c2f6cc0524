//! From a query document to a [`Plan`]: which answer the database must build, or `None`
//! when the document asks for anything outside what this path knows. The general executor
//! answers everything else, so this file only ever has to say "no" to be correct.
//!
//! It knows `topic(slug:)` and the `topics` list with `first` written in the query (a
//! variable would change the query's complexity, which the general executor admitted for
//! the text as it was), `after` and `filter: { search }` (literals or `String` variables),
//! in the default order (title, then id).

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
    VariableDefinition,
};
use async_graphql_value::{ConstValue, Value};

use crate::content::read_model::{
    CONDITION, CONDITION_LINK, Field, Kind, SIDE_EFFECT, SIDE_EFFECT_LINK, TOPIC, View,
};

/// The most fields one object of the answer may have: PostgreSQL's `json_build_object`
/// takes at most 100 arguments (a key and a value per field).
const MAX_FIELDS: usize = 50;

/// How deep fragments may nest inside one another (a cycle is a validation error, which the
/// general executor reports; this only bounds the walk).
const MAX_FRAGMENT_DEPTH: usize = 8;

/// What the database computes for one field of the answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A constant string (`__typename`).
    Const(&'static str),
    /// A field of the read model, read from the row `Row` names.
    Field(Row, &'static Field),
    /// An object computed from the same row (an edge's `node`).
    Object(Fields),
    /// The topic's published links of one kind, in editorial order, as edge objects.
    Links(LinkKind, Fields),
    /// A list's `totalCount`: the rows of the whole filtered list.
    TotalCount,
    /// A list's `edges`: the page's rows as edge objects.
    Edges(Fields),
    /// An edge's `cursor`.
    Cursor,
    /// A list's `pageInfo` object.
    PageInfo(Fields),
    /// `PageInfo.hasNextPage`.
    HasNextPage,
    /// `PageInfo.hasPreviousPage`.
    HasPreviousPage,
    /// `PageInfo.startCursor`.
    StartCursor,
    /// `PageInfo.endCursor`.
    EndCursor,
}

/// Which row of the statement a field reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// The topic (`t`).
    Topic,
    /// A topic's link (`l`).
    Link,
    /// A link's condition or side effect (`n`).
    Document,
}

impl Row {
    /// The row's name in the statement.
    pub fn alias(self) -> &'static str {
        match self {
            Self::Topic => "t",
            Self::Link => "l",
            Self::Document => "n",
        }
    }
}

/// The fields of an object of the answer, in the query's order, by response key.
pub type Fields = Vec<(String, Node)>;

/// Which links of a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// `Topic.conditions`.
    Conditions,
    /// `Topic.sideEffects`.
    SideEffects,
}

/// Where a nullable `String` argument (a topic's `slug`, a list's `after` or `search`)
/// comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    /// Written in the query (`None`: `null`).
    Literal(Option<String>),
    /// A variable of the operation, declared `String` or `String!`.
    Variable {
        /// The variable's name.
        name: String,
        /// Declared `String!`: the general executor refuses it missing or null.
        required: bool,
        /// Its default value (`Some(None)`: `= null`).
        default: Option<Option<String>>,
    },
}

/// The arguments of a `topics` list this path answers.
#[derive(Debug, Clone, PartialEq)]
pub struct ListArgs {
    /// `first`, written in the query; `None` when not given or `null` (the default size).
    pub first: Option<i64>,
    /// `after`.
    pub after: Option<Text>,
    /// `filter: { search }`.
    pub search: Option<Text>,
}

/// One field of the root `Query` type.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// `__typename`.
    Typename,
    /// `topic(slug: ...)` with its selection.
    Topic {
        /// The slug argument (a `null` one leaves the request to the general executor).
        slug: Text,
        /// The selected fields.
        fields: Fields,
    },
    /// `topics(...)`: published topics by title, one page, with the connection's fields.
    Topics {
        /// The arguments.
        args: ListArgs,
        /// The selected fields of `TopicConnection`.
        fields: Fields,
    },
}

/// A query the database can answer in one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The operation name the plan was made for (requests must send the same).
    pub operation_name: Option<String>,
    /// The root fields, in the query's order, by response key.
    pub roots: Vec<(String, Root)>,
}

/// The fields a type offers this path: a response key's field name to what computes it.
type Schema = fn(&str, &SelectionSet, &Walk<'_>) -> Option<Node>;

/// The document and operation being compiled.
struct Walk<'a> {
    document: &'a ExecutableDocument,
    variables: &'a [async_graphql::Positioned<VariableDefinition>],
}

/// The plan for `document` run as `operation_name`, or `None` when this path cannot answer
/// it exactly as the general executor would. Call it only for a document that the general
/// executor has validated (the plan does not repeat validation).
pub fn compile(document: &ExecutableDocument, operation_name: Option<&str>) -> Option<Plan> {
    let operation = single_operation(document)?;
    if operation.ty != OperationType::Query || !operation.directives.is_empty() {
        return None;
    }
    if operation
        .variable_definitions
        .iter()
        .any(|v| !v.node.directives.is_empty())
    {
        return None;
    }
    let walk = Walk {
        document,
        variables: &operation.variable_definitions,
    };
    let mut roots = Vec::new();
    for (key, field) in collect(&walk, &operation.selection_set.node, "Query", 0)? {
        let root = match field.name.node.as_str() {
            "__typename" if field.arguments.is_empty() => Root::Typename,
            "topic" => {
                let mut slug = None;
                for (name, value) in &field.arguments {
                    match name.node.as_str() {
                        "slug" => slug = Some(text_argument(&walk, &value.node)?),
                        // `preview: false` is the default; anything else is for editors.
                        "preview" if value.node == Value::Boolean(false) => {}
                        _ => return None,
                    }
                }
                Root::Topic {
                    slug: slug?,
                    fields: object(&walk, &field.selection_set.node, "Topic", topic_field)?,
                }
            }
            "topics" => {
                let mut args = ListArgs {
                    first: None,
                    after: None,
                    search: None,
                };
                for (name, value) in &field.arguments {
                    match name.node.as_str() {
                        "first" => args.first = int_literal(&value.node)?,
                        "after" => args.after = Some(text_argument(&walk, &value.node)?),
                        "filter" => args.search = filter_argument(&walk, &value.node)?,
                        _ => return None,
                    }
                }
                Root::Topics {
                    args,
                    fields: object(
                        &walk,
                        &field.selection_set.node,
                        "TopicConnection",
                        connection_field,
                    )?,
                }
            }
            _ => return None,
        };
        roots.push((key, root));
    }
    if roots.is_empty() || roots.len() > MAX_FIELDS {
        return None;
    }
    Some(Plan {
        operation_name: operation_name.map(str::to_owned),
        roots,
    })
}

/// The document's only operation.
fn single_operation(document: &ExecutableDocument) -> Option<&OperationDefinition> {
    let mut operations = document.operations.iter();
    match (operations.next(), operations.next()) {
        (Some((_, operation)), None) => Some(&operation.node),
        _ => None,
    }
}

/// `first` written in the query: an integer (`Some`), or `null` (`None`). A variable is
/// refused (the outer `None`): the page size weighs in the query's complexity.
fn int_literal(value: &Value) -> Option<Option<i64>> {
    match value {
        Value::Null => Some(None),
        Value::Number(number) => Some(Some(number.as_i64()?)),
        _ => None,
    }
}

/// A nullable `String` argument: a string or `null` literal, or a variable declared
/// `String` or `String!`.
fn text_argument(walk: &Walk<'_>, value: &Value) -> Option<Text> {
    match value {
        Value::Null => Some(Text::Literal(None)),
        Value::String(text) => Some(Text::Literal(Some(text.clone()))),
        Value::Variable(name) => {
            let definition = walk.variables.iter().find(|v| v.node.name.node == *name)?;
            let ty = &definition.node.var_type.node;
            if !matches!(&ty.base, BaseType::Named(named) if named.as_str() == "String") {
                return None;
            }
            let default = match definition.node.default_value.as_ref().map(|v| &v.node) {
                None => None,
                Some(ConstValue::Null) => Some(None),
                Some(ConstValue::String(text)) => Some(Some(text.clone())),
                Some(_) => return None,
            };
            Some(Text::Variable {
                name: name.to_string(),
                required: !ty.nullable,
                default,
            })
        }
        _ => None,
    }
}

/// `filter`: `null`, or an object literal whose only field is `search` (`Some(None)` when
/// it filters nothing).
fn filter_argument(walk: &Walk<'_>, value: &Value) -> Option<Option<Text>> {
    match value {
        Value::Null => Some(None),
        Value::Object(fields) => {
            let mut search = None;
            for (name, value) in fields {
                match name.as_str() {
                    "search" => search = Some(text_argument(walk, value)?),
                    _ => return None,
                }
            }
            Some(search)
        }
        _ => None,
    }
}

/// The fields of a selection set on the object type `type_name`, each through `schema`.
fn object(
    walk: &Walk<'_>,
    selection: &SelectionSet,
    type_name: &str,
    schema: Schema,
) -> Option<Fields> {
    let fields = collect(walk, selection, type_name, 0)?
        .into_iter()
        .map(|(key, field)| {
            if !field.arguments.is_empty() {
                return None;
            }
            let node = schema(field.name.node.as_str(), &field.selection_set.node, walk)?;
            Some((key, node))
        })
        .collect::<Option<Fields>>()?;
    (!fields.is_empty() && fields.len() <= MAX_FIELDS).then_some(fields)
}

/// The fields of a selection set in the order GraphQL lists them, fragments on the same
/// type inlined where they are spread. `None` for anything that would need more than
/// listing: a directive, a fragment on another type, or two fields under one response key
/// (which GraphQL merges).
fn collect<'a>(
    walk: &Walk<'a>,
    selection: &'a SelectionSet,
    type_name: &str,
    depth: usize,
) -> Option<Vec<(String, &'a async_graphql::parser::types::Field)>> {
    if depth > MAX_FRAGMENT_DEPTH {
        return None;
    }
    let mut out: Vec<(String, &async_graphql::parser::types::Field)> = Vec::new();
    for item in &selection.items {
        let inner = match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                if !field.directives.is_empty() {
                    return None;
                }
                let key = field.alias.as_ref().unwrap_or(&field.name).node.to_string();
                vec![(key, field)]
            }
            Selection::FragmentSpread(spread) => {
                if !spread.node.directives.is_empty() {
                    return None;
                }
                let fragment = walk
                    .document
                    .fragments
                    .get(&spread.node.fragment_name.node)?;
                if !fragment.node.directives.is_empty()
                    || fragment.node.type_condition.node.on.node.as_str() != type_name
                {
                    return None;
                }
                collect(
                    walk,
                    &fragment.node.selection_set.node,
                    type_name,
                    depth + 1,
                )?
            }
            Selection::InlineFragment(inline) => {
                let inline = &inline.node;
                let same_type = inline
                    .type_condition
                    .as_ref()
                    .is_none_or(|on| on.node.on.node.as_str() == type_name);
                if !inline.directives.is_empty() || !same_type {
                    return None;
                }
                collect(walk, &inline.selection_set.node, type_name, depth + 1)?
            }
        };
        for (key, field) in inner {
            if out.iter().any(|(seen, _)| *seen == key) {
                return None;
            }
            out.push((key, field));
        }
    }
    Some(out)
}

/// A leaf: a field without a selection set.
fn leaf(selection: &SelectionSet, node: Node) -> Option<Node> {
    selection.items.is_empty().then_some(node)
}

/// The fields of `TopicConnection`.
fn connection_field(name: &str, selection: &SelectionSet, walk: &Walk<'_>) -> Option<Node> {
    match name {
        "__typename" => leaf(selection, Node::Const("TopicConnection")),
        "totalCount" => leaf(selection, Node::TotalCount),
        "edges" => Some(Node::Edges(object(
            walk,
            selection,
            "TopicEdge",
            edge_field,
        )?)),
        "pageInfo" => Some(Node::PageInfo(object(
            walk,
            selection,
            "PageInfo",
            page_info_field,
        )?)),
        _ => None,
    }
}

/// The fields of `TopicEdge`.
fn edge_field(name: &str, selection: &SelectionSet, walk: &Walk<'_>) -> Option<Node> {
    match name {
        "__typename" => leaf(selection, Node::Const("TopicEdge")),
        "cursor" => leaf(selection, Node::Cursor),
        "node" => Some(Node::Object(object(walk, selection, "Topic", topic_field)?)),
        _ => None,
    }
}

/// The fields of `PageInfo`.
fn page_info_field(name: &str, selection: &SelectionSet, _: &Walk<'_>) -> Option<Node> {
    let node = match name {
        "__typename" => Node::Const("PageInfo"),
        "hasNextPage" => Node::HasNextPage,
        "hasPreviousPage" => Node::HasPreviousPage,
        "startCursor" => Node::StartCursor,
        "endCursor" => Node::EndCursor,
        _ => return None,
    };
    leaf(selection, node)
}

/// A field of `view` this path computes, read from `row`: every field of the read model
/// whose kind it knows.
fn read_field(view: &'static View, row: Row, name: &str, selection: &SelectionSet) -> Option<Node> {
    let field = view.field(name)?;
    if field.kind == Kind::Other {
        return None;
    }
    leaf(selection, Node::Field(row, field))
}

/// The fields of `Topic` this path computes.
fn topic_field(name: &str, selection: &SelectionSet, walk: &Walk<'_>) -> Option<Node> {
    match name {
        "__typename" => leaf(selection, Node::Const(TOPIC.type_name)),
        "conditions" => {
            let edge = object(
                walk,
                selection,
                CONDITION_LINK.type_name,
                condition_edge_field,
            )?;
            Some(Node::Links(LinkKind::Conditions, edge))
        }
        "sideEffects" => {
            let edge = object(
                walk,
                selection,
                SIDE_EFFECT_LINK.type_name,
                side_effect_edge_field,
            )?;
            Some(Node::Links(LinkKind::SideEffects, edge))
        }
        _ => read_field(&TOPIC, Row::Topic, name, selection),
    }
}

/// The fields of `TopicConditionEdge`.
fn condition_edge_field(name: &str, selection: &SelectionSet, walk: &Walk<'_>) -> Option<Node> {
    match name {
        "__typename" => leaf(selection, Node::Const(CONDITION_LINK.type_name)),
        "node" => Some(Node::Object(object(
            walk,
            selection,
            CONDITION.type_name,
            condition_field,
        )?)),
        _ => read_field(&CONDITION_LINK, Row::Link, name, selection),
    }
}

/// The fields of `TopicSideEffectEdge`.
fn side_effect_edge_field(name: &str, selection: &SelectionSet, walk: &Walk<'_>) -> Option<Node> {
    match name {
        "__typename" => leaf(selection, Node::Const(SIDE_EFFECT_LINK.type_name)),
        "node" => Some(Node::Object(object(
            walk,
            selection,
            SIDE_EFFECT.type_name,
            side_effect_field,
        )?)),
        _ => read_field(&SIDE_EFFECT_LINK, Row::Link, name, selection),
    }
}

/// The fields of `Condition` (without its reverse links).
fn condition_field(name: &str, selection: &SelectionSet, _: &Walk<'_>) -> Option<Node> {
    match name {
        "__typename" => leaf(selection, Node::Const(CONDITION.type_name)),
        _ => read_field(&CONDITION, Row::Document, name, selection),
    }
}

/// The fields of `SideEffect` (without its reverse links).
fn side_effect_field(name: &str, selection: &SelectionSet, _: &Walk<'_>) -> Option<Node> {
    match name {
        "__typename" => leaf(selection, Node::Const(SIDE_EFFECT.type_name)),
        _ => read_field(&SIDE_EFFECT, Row::Document, name, selection),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(query: &str) -> Option<Plan> {
        let document = crate::graphql::nesting::parse(query, crate::graphql::nesting::MAX_NESTING)
            .expect("valid syntax");
        compile(&document, None)
    }

    #[test]
    fn the_topic_page_compiles_in_the_query_order() {
        let plan = plan(
            "query P($slug: String!) { topic(slug: $slug) { title t: slug \
             conditions { note node { name } } } }",
        )
        .expect("compiles");
        let (key, Root::Topic { slug, fields }) = &plan.roots[0] else {
            panic!("a topic root");
        };
        assert_eq!(key, "topic");
        assert_eq!(
            *slug,
            Text::Variable {
                name: "slug".to_owned(),
                required: true,
                default: None
            }
        );
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["title", "t", "conditions"]);
    }

    #[test]
    fn fragments_on_the_same_type_are_inlined_where_spread() {
        let plan = plan(
            "{ topic(slug: \"a\") { id ...F ... on Topic { slug } } } \
             fragment F on Topic { title }",
        )
        .expect("compiles");
        let Root::Topic { fields, .. } = &plan.roots[0].1 else {
            panic!("a topic root");
        };
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["id", "title", "slug"]);
    }

    #[test]
    fn topic_lists_compile_with_their_arguments() {
        let plan = plan(
            "query L($after: String, $q: String = \"micro\") { topics(first: 5, after: $after, \
             filter: { search: $q }) { totalCount edges { cursor node { slug } } \
             pageInfo { hasNextPage endCursor } } }",
        )
        .expect("compiles");
        let Root::Topics { args, fields } = &plan.roots[0].1 else {
            panic!("a list root");
        };
        assert_eq!(args.first, Some(5));
        assert_eq!(
            args.after,
            Some(Text::Variable {
                name: "after".to_owned(),
                required: false,
                default: None
            })
        );
        assert_eq!(
            args.search,
            Some(Text::Variable {
                name: "q".to_owned(),
                required: false,
                default: Some(Some("micro".to_owned()))
            })
        );
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["totalCount", "edges", "pageInfo"]);
        let defaults = plan_of("{ topics { totalCount } }");
        let Root::Topics { args, .. } = &defaults.roots[0].1 else {
            panic!("a list root");
        };
        assert_eq!(
            (args.first, &args.after, &args.search),
            (None, &None, &None)
        );
    }

    fn plan_of(query: &str) -> Plan {
        plan(query).expect("compiles")
    }

    #[test]
    fn anything_else_is_left_to_the_general_executor() {
        for query in [
            "query Q($n: Int) { topics(first: $n) { totalCount } }",
            "{ topics(last: 2) { totalCount } }",
            "{ topics(orderBy: { field: TITLE }) { totalCount } }",
            "{ topics(filter: { condition: \"acne\" }) { totalCount } }",
            "query Q($f: TopicFilter) { topics(filter: $f) { totalCount } }",
            "{ topics { edges { node { publishedAt } } } }",
            "{ topic(slug: \"a\") { publishedAt } }",
            "{ topic(slug: \"a\") { title @include(if: true) } }",
            "{ topic(slug: \"a\") { title title } }",
            "{ topic(slug: \"a\", preview: true) { title } }",
            "{ topic(id: \"1\") { title } }",
            "query Q($n: Int) { topic(slug: $n) { title } }",
            "{ topic(slug: \"a\") { conditions { node { topics { note } } } } }",
            "mutation { logout { ok } }",
            "query A { topic(slug: \"a\") { title } } query B { __typename }",
            "{ topic(slug: \"a\") { ... on Condition { name } } }",
        ] {
            assert_eq!(plan(query), None, "{query}");
        }
    }
}
