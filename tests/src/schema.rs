//! The server's schema, read by introspection, for tests that must cover every field and
//! argument (so a new one is covered without editing the test).

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::{Session, TestServer};

/// Nested `ofType` selection deep enough for `[X!]!`.
pub const TYPE_REF: &str =
    "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// The root fields of one operation type and every named type.
pub struct Introspection {
    /// Fields of the root type (`name`, `type`, `args`).
    pub fields: Vec<Value>,
    /// Every named type by name (`kind`, `enumValues`, `inputFields`).
    pub types: HashMap<String, Value>,
}

impl Introspection {
    /// Reads the fields of `root` (`"query"` or `"mutation"`).
    pub async fn load(server: &TestServer, root: &str, session: Option<&Session>) -> Self {
        let document = format!(
            "{{ __schema {{ {root}Type {{ fields {{ name type {{ {TYPE_REF} }} args {{ name type {{ {TYPE_REF} }} }} }} }}
               types {{ name kind enumValues {{ name }} inputFields {{ name type {{ {TYPE_REF} }} }} }} }} }}"
        );
        let (_, body) = server
            .post_as(
                session.map(|s| s.access.as_str()),
                &json!({ "query": document }),
            )
            .await;
        let data = &body["data"]["__schema"];
        Self {
            fields: data[format!("{root}Type")]["fields"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
            types: data["types"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| (t["name"].as_str().unwrap_or_default().to_owned(), t.clone()))
                .collect(),
        }
    }

    /// Every argument of every root field: (field, argument, the arguments a call gives:
    /// every required one, and this one).
    pub fn arguments(&self) -> Vec<(&Value, &Value, Vec<&str>)> {
        let mut out = Vec::new();
        for field in &self.fields {
            let args = field["args"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            for arg in args {
                let name = arg["name"].as_str().unwrap_or_default();
                let mut given: Vec<&str> = args
                    .iter()
                    .filter(|a| a["type"]["kind"] == "NON_NULL")
                    .filter_map(|a| a["name"].as_str())
                    .collect();
                if !given.contains(&name) {
                    given.push(name);
                }
                out.push((field, arg, given));
            }
        }
        out
    }

    /// The variables of a call of `field` giving `given`: `value` for `arg`, valid dummies
    /// for the others.
    pub fn variables(
        &self,
        field: &Value,
        given: &[&str],
        arg: &str,
        value: Value,
    ) -> serde_json::Map<String, Value> {
        let mut variables = serde_json::Map::new();
        for other in field["args"].as_array().into_iter().flatten() {
            let name = other["name"].as_str().unwrap_or_default();
            if name != arg && given.contains(&name) {
                variables.insert(name.to_owned(), self.dummy(&other["type"]));
            }
        }
        variables.insert(arg.to_owned(), value);
        variables
    }

    /// The definition of a named type.
    pub fn named(&self, ty: &Value) -> &Value {
        &self.types[ty["name"].as_str().unwrap_or_default()]
    }

    /// A well-typed value of `ty`: required input fields filled, lists empty.
    pub fn dummy(&self, ty: &Value) -> Value {
        match ty["kind"].as_str().unwrap_or_default() {
            "NON_NULL" => self.dummy(&ty["ofType"]),
            "LIST" => json!([]),
            "ENUM" => self.named(ty)["enumValues"][0]["name"].clone(),
            "INPUT_OBJECT" => {
                let mut object = serde_json::Map::new();
                for field in self.named(ty)["inputFields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    if field["type"]["kind"] == "NON_NULL" {
                        object.insert(
                            field["name"].as_str().unwrap_or_default().to_owned(),
                            self.dummy(&field["type"]),
                        );
                    }
                }
                Value::Object(object)
            }
            _ => match ty["name"].as_str().unwrap_or_default() {
                "Int" => json!(1),
                "Float" => json!(1.5),
                "Boolean" => json!(false),
                "ID" => json!("1"),
                "DateTime" => json!("2099-01-01T00:00:00Z"),
                // What a multipart request's `map` puts in the variable (async-graphql's
                // spelling); sent as JSON it names no file, so a guard is still reached.
                "Upload" => json!("#__graphql_file__:0"),
                _ => json!("x"),
            },
        }
    }
}

/// The type as written in a variable declaration (`[String!]!`).
pub fn type_name(ty: &Value) -> String {
    match ty["kind"].as_str().unwrap_or_default() {
        "NON_NULL" => format!("{}!", type_name(&ty["ofType"])),
        "LIST" => format!("[{}]", type_name(&ty["ofType"])),
        _ => ty["name"].as_str().unwrap_or_default().to_owned(),
    }
}

/// The innermost named type of a wrapped type.
pub fn innermost(ty: &Value) -> &Value {
    let mut ty = ty;
    while ty["ofType"].is_object() {
        ty = &ty["ofType"];
    }
    ty
}

/// A document calling `field` with its arguments taken from variables `$<arg>` (only
/// the ones in `given`), selecting `__typename` when it returns an object.
pub fn call_document(keyword: &str, field: &Value, given: &[&str]) -> String {
    let name = field["name"].as_str().unwrap_or_default();
    let args: Vec<&Value> = field["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|arg| given.contains(&arg["name"].as_str().unwrap_or_default()))
        .collect();
    let list = |f: &dyn Fn(&str, &Value) -> String| {
        if args.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = args
                .iter()
                .map(|arg| f(arg["name"].as_str().unwrap_or_default(), &arg["type"]))
                .collect();
            format!("({})", parts.join(", "))
        }
    };
    let declarations = list(&|arg, ty| format!("${arg}: {}", type_name(ty)));
    let arguments = list(&|arg, _| format!("{arg}: ${arg}"));
    let selection = if matches!(
        innermost(&field["type"])["kind"].as_str(),
        Some("SCALAR" | "ENUM")
    ) {
        ""
    } else {
        "{ __typename }"
    };
    format!("{keyword} Probe{declarations} {{ {name}{arguments} {selection} }}")
}
