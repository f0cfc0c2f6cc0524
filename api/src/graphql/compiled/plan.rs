//! From a query document to a [`Plan`]: which answer the database must build, or `None`
//! when the document asks for anything outside what this path knows. The general executor
//! answers everything else, so this file only ever has to say "no" to be correct.

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
    VariableDefinition,
};
use async_graphql_value::{ConstValue, Value};

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
    /// A column as it is: text, integer or null.
    Column(&'static str),
    /// An integer column as a string (GraphQL `ID`).
    Id(&'static str),
    /// A column that holds a JSON document (a list of texts).
    Json(&'static str),
    /// An object computed from the same row (an edge's `node`).
    Object(Fields),
    /// The topic's published links of one kind, in editorial order, as edge objects.
    Links(LinkKind, Fields),
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

/// Where a root field's `slug` comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Slug {
    /// Written in the query.
    Literal(String),
    /// A variable of the operation (declared `String` or `String!`), with its default.
    Variable {
        /// The variable's name.
        name: String,
        /// Its default value, when the declaration has one.
        default: Option<String>,
    },
}

/// One field of the root `Query` type.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// `__typename`.
    Typename,
    /// `topic(slug: ...)` with its selection.
    Topic {
        /// The slug argument.
        slug: Slug,
        /// The selected fields.
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
                        "slug" => slug = Some(slug_argument(&walk, &value.node)?),
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

/// A `slug` argument: a string literal, or a variable declared `String` or `String!`.
fn slug_argument(walk: &Walk<'_>, value: &Value) -> Option<Slug> {
    match value {
        Value::String(slug) => Some(Slug::Literal(slug.clone())),
        Value::Variable(name) => {
            let definition = walk.variables.iter().find(|v| v.node.name.node == *name)?;
            let named_string = matches!(
                &definition.node.var_type.node.base,
                BaseType::Named(ty) if ty.as_str() == "String"
            );
            if !named_string {
                return None;
            }
            let default = match definition.node.default_value.as_ref().map(|v| &v.node) {
                None => None,
                Some(ConstValue::String(text)) => Some(text.clone()),
                Some(_) => return None,
            };
            Some(Slug::Variable {
                name: name.to_string(),
                default,
            })
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

/// The fields of `Topic` this path computes.
fn topic_field(name: &str, selection: &SelectionSet, walk: &Walk<'_>) -> Option<Node> {
    let node = match name {
        "__typename" => Node::Const("Topic"),
        "id" => Node::Id("t.id"),
        "slug" => Node::Column("t.slug"),
        "title" => Node::Column("t.title"),
        "summary" => Node::Column("t.summary"),
        "body" => Node::Column("t.body"),
        "bodyHtml" => Node::Column("t.body_html"),
        "features" => Node::Json("t.features"),
        "benefits" => Node::Json("t.benefits"),
        "status" => Node::Column("t.status"),
        "version" => Node::Column("t.version"),
        "conditions" => {
            let edge = object(walk, selection, "TopicConditionEdge", condition_edge_field)?;
            return Some(Node::Links(LinkKind::Conditions, edge));
        }
        "sideEffects" => {
            let edge = object(
                walk,
                selection,
                "TopicSideEffectEdge",
                side_effect_edge_field,
            )?;
            return Some(Node::Links(LinkKind::SideEffects, edge));
        }
        _ => return None,
    };
    leaf(selection, node)
}

/// The fields of `TopicConditionEdge`.
fn condition_edge_field(name: &str, selection: &SelectionSet, walk: &Walk<'_>) -> Option<Node> {
    match name {
        "__typename" => leaf(selection, Node::Const("TopicConditionEdge")),
        "node" => Some(Node::Object(object(
            walk,
            selection,
            "Condition",
            condition_field,
        )?)),
        _ => link_field(name, selection),
    }
}

/// The fields of `TopicSideEffectEdge`.
fn side_effect_edge_field(name: &str, selection: &SelectionSet, walk: &Walk<'_>) -> Option<Node> {
    match name {
        "__typename" => leaf(selection, Node::Const("TopicSideEffectEdge")),
        "node" => Some(Node::Object(object(
            walk,
            selection,
            "SideEffect",
            side_effect_field,
        )?)),
        "frequency" => leaf(selection, Node::Column("l.frequency")),
        "severity" => leaf(selection, Node::Column("l.severity")),
        "duration" => leaf(selection, Node::Column("l.duration")),
        _ => link_field(name, selection),
    }
}

/// The fields both edge types have.
fn link_field(name: &str, selection: &SelectionSet) -> Option<Node> {
    match name {
        "position" => leaf(selection, Node::Column("l.position")),
        "note" => leaf(selection, Node::Column("l.note")),
        _ => None,
    }
}

/// The fields of `Condition` (without its reverse links).
fn condition_field(name: &str, selection: &SelectionSet, _: &Walk<'_>) -> Option<Node> {
    match name {
        "__typename" => leaf(selection, Node::Const("Condition")),
        _ => named_field(name, selection),
    }
}

/// The fields of `SideEffect` (without its reverse links).
fn side_effect_field(name: &str, selection: &SelectionSet, _: &Walk<'_>) -> Option<Node> {
    match name {
        "__typename" => leaf(selection, Node::Const("SideEffect")),
        _ => named_field(name, selection),
    }
}

/// The fields `Condition` and `SideEffect` share.
fn named_field(name: &str, selection: &SelectionSet) -> Option<Node> {
    let node = match name {
        "id" => Node::Id("n.id"),
        "slug" => Node::Column("n.slug"),
        "name" => Node::Column("n.name"),
        "description" => Node::Column("n.description"),
        "descriptionHtml" => Node::Column("n.description_html"),
        "status" => Node::Column("n.status"),
        "version" => Node::Column("n.version"),
        _ => return None,
    };
    leaf(selection, node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(query: &str) -> Option<Plan> {
        let document = async_graphql::parser::parse_query(query).expect("valid syntax");
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
            Slug::Variable {
                name: "slug".to_owned(),
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
    fn anything_else_is_left_to_the_general_executor() {
        for query in [
            "{ topics { totalCount } }",
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
