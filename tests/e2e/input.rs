//! Input that databases or validators treat differently gets one answer: NUL characters
//! in any text argument (read from introspection, so a new argument is covered by itself),
//! editors asking for published content, the order of validation errors, and variables
//! used only in directives.

use dermis_tests::schema::{Introspection, call_document, innermost};
use dermis_tests::{Session, TestServer, on_both_databases};
use serde_json::{Value, json};

const NUL_TEXT: &str = "a\u{0}b";

/// Every way to put a NUL into an argument of type `ty`: (path below the argument, value),
/// with the other required input fields valid.
fn nul_variants(ty: &Value, schema: &Introspection, depth: usize) -> Vec<(String, Value)> {
    match ty["kind"].as_str().unwrap_or_default() {
        "NON_NULL" => nul_variants(&ty["ofType"], schema, depth),
        "LIST" => nul_variants(&ty["ofType"], schema, depth)
            .into_iter()
            .map(|(path, value)| (format!("[0]{path}"), json!([value])))
            .collect(),
        "INPUT_OBJECT" if depth < 3 => {
            let base = schema.dummy(ty);
            let mut out = Vec::new();
            for field in schema.named(ty)["inputFields"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let name = field["name"].as_str().unwrap_or_default();
                for (path, value) in nul_variants(&field["type"], schema, depth + 1) {
                    let mut object = base.as_object().cloned().unwrap_or_default();
                    object.insert(name.to_owned(), value);
                    out.push((format!(".{name}{path}"), Value::Object(object)));
                }
            }
            out
        }
        "SCALAR" if matches!(ty["name"].as_str(), Some("String" | "ID")) => {
            vec![(String::new(), json!(NUL_TEXT))]
        }
        _ => Vec::new(),
    }
}

/// A JSON value written as a GraphQL literal.
fn literal(value: &Value) -> String {
    match value {
        Value::Object(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        // Enum values are strings in JSON but names in GraphQL: the dummies use enum
        // values only where the schema has enums, written without quotes here.
        Value::String(text)
            if text.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !text.is_empty() =>
        {
            text.clone()
        }
        other => other.to_string(),
    }
}

fn error_of(body: &Value) -> (&str, &str) {
    let error = &body["errors"][0]["extensions"];
    (
        error["code"].as_str().unwrap_or_default(),
        error["field"].as_str().unwrap_or_default(),
    )
}

/// Sends a NUL to every text position of every argument of every field of `root`, as a
/// variable and written in the document; each is `BAD_USER_INPUT` naming the position.
async fn every_text_argument(server: &TestServer, root: &str, admin: &Session) -> usize {
    let schema = Introspection::load(server, root, Some(admin)).await;
    let mut sent = 0;
    for (field, arg, given) in schema.arguments() {
        let name = field["name"].as_str().unwrap_or_default();
        let arg_name = arg["name"].as_str().unwrap_or_default();
        for (path, value) in nul_variants(&arg["type"], &schema, 0) {
            let expected = format!("{arg_name}{path}");
            let variables = schema.variables(field, &given, arg_name, value);
            // As variables.
            let body =
                json!({ "query": call_document(root, field, &given), "variables": variables });
            let (status, answer) = server.post_as(Some(&admin.access), &body).await;
            assert_eq!(
                (status, error_of(&answer)),
                (400, ("BAD_USER_INPUT", expected.as_str())),
                "{name} {body}: {answer}"
            );
            // Written in the document.
            let arguments: Vec<String> = variables
                .iter()
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect();
            let selection = if matches!(
                innermost(&field["type"])["kind"].as_str(),
                Some("SCALAR" | "ENUM")
            ) {
                ""
            } else {
                "{ __typename }"
            };
            let document = format!("{root} {{ {name}({}) {selection} }}", arguments.join(", "));
            let (status, answer) = server
                .post_as(Some(&admin.access), &json!({ "query": document }))
                .await;
            assert_eq!(
                (status, error_of(&answer)),
                (400, ("BAD_USER_INPUT", expected.as_str())),
                "{document}: {answer}"
            );
            sent += 2;
        }
    }
    sent
}

on_both_databases! {
    async fn a_nul_in_any_text_argument_is_refused_alike_on_both_databases(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let before = server.db.fingerprint().await;
        let queries = every_text_argument(&server, "query", &admin).await;
        let mutations = every_text_argument(&server, "mutation", &admin).await;
        assert!(queries >= 10 && mutations >= 40, "{queries} query and {mutations} mutation probes");
        // Anonymous callers get the same answer.
        let (status, answer) = server.post(&json!({ "query": "query($s: String!) { topic(slug: $s) { id } }", "variables": { "s": NUL_TEXT } })).await;
        assert_eq!((status, error_of(&answer)), (400, ("BAD_USER_INPUT", "s")), "{answer}");
        // A cursor is text too, though an opaque one: a made-up one holding a NUL.
        let forged = dermis_tests::base64url(br#"{"f":"l","s":"a\u0000","i":1}"#);
        let (status, answer) = server.post(&json!({ "query": "query($c: String) { topics(first: 2, after: $c) { totalCount } }", "variables": { "c": forged } })).await;
        assert_eq!((status, error_of(&answer).0), (200, "BAD_USER_INPUT"), "{answer}");
        assert_eq!(server.db.fingerprint().await, before, "nothing was written");
        // Text without a NUL, however odd, is still text.
        let (status, answer) = server.post(&json!({ "query": "query($s: String!) { topic(slug: $s) { id } }", "variables": { "s": "\u{1}\u{7f}\u{fffd}" } })).await;
        assert_eq!((status, &answer["data"]["topic"]), (200, &Value::Null), "{answer}");
    }
}

on_both_databases! {
    async fn editors_asking_for_published_content_see_what_the_public_sees(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        // A draft topic that treats acne and causes redness, both published.
        let ids = server.query("{ condition(slug: \"acne\") { id } sideEffect(slug: \"redness\") { id } }", json!({})).await;
        server
            .query_as(&admin, "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id } } }", json!({ "input": {
                "title": "Chemical peel", "summary": "A draft.",
                "conditions": [{ "conditionId": ids["condition"]["id"] }],
                "sideEffects": [{ "sideEffectId": ids["sideEffect"]["id"], "frequency": "COMMON", "severity": "MILD", "duration": "TEMPORARY" }],
            } }))
            .await;
        let lists = |status: &str| format!(
            "{{ conditions(first: 50, filter: {{ status: [{status}] }}) {{ edges {{ node {{ slug topics {{ node {{ slug status }} }} }} }} }}
               sideEffects(first: 50, filter: {{ status: [{status}] }}) {{ edges {{ node {{ slug topics {{ node {{ slug status }} }} }} }} }} }}"
        );
        let topics_of = |data: &Value, list: &str, slug: &str| -> Vec<String> {
            data[list]["edges"].as_array().into_iter().flatten()
                .filter(|edge| edge["node"]["slug"] == slug)
                .flat_map(|edge| edge["node"]["topics"].as_array().cloned().unwrap_or_default())
                .map(|edge| edge["node"]["slug"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        let public = server.query(&lists("PUBLISHED"), json!({})).await;
        let editor = server.query_as(&admin, &lists("PUBLISHED"), json!({})).await;
        assert_eq!(editor, public, "an editor asking for published content sees the public's");
        assert_eq!(topics_of(&editor, "conditions", "acne"), vec!["microneedling"]);
        assert_eq!(topics_of(&editor, "sideEffects", "redness"), vec!["microneedling"]);
        // Asking for drafts as well opens the links to them.
        let drafts = server.query_as(&admin, &lists("PUBLISHED, DRAFT"), json!({})).await;
        assert_eq!(topics_of(&drafts, "conditions", "acne"), vec!["chemical-peel", "microneedling"]);
        assert_eq!(topics_of(&drafts, "sideEffects", "redness"), vec!["chemical-peel", "microneedling"]);
        // A single condition as an editor without preview: the public's view too.
        let one = "{ condition(slug: \"acne\") { topics { node { slug } } } }";
        assert_eq!(server.query_as(&admin, one, json!({})).await, server.query(one, json!({})).await);
    }
}

on_both_databases! {
    async fn identical_invalid_requests_get_identical_answers(backend) {
        let server = TestServer::sample(backend).await;
        let body = json!({ "query": "query($unused: Int) { nope topic(slug: 1) { alsoNope } also: nope2 ...F } fragment F on Query { x }" });
        let (_, first) = server.post_text(None, &body).await;
        let parsed: Value = serde_json::from_str(&first).expect("JSON");
        let errors = parsed["errors"].as_array().cloned().unwrap_or_default();
        assert!(errors.len() >= 5, "{first}");
        let places: Vec<(u64, u64)> = errors.iter().map(|e| (e["locations"][0]["line"].as_u64().unwrap_or(0), e["locations"][0]["column"].as_u64().unwrap_or(0))).collect();
        let mut sorted = places.clone();
        sorted.sort();
        assert_eq!(places, sorted, "errors in document order: {first}");
        for _ in 0..12 {
            let (_, again) = server.post_text(None, &body).await;
            assert_eq!(again, first);
        }
    }
}

on_both_databases! {
    async fn a_variable_used_only_in_a_directive_is_used(backend) {
        let server = TestServer::sample(backend).await;
        let root = "query($x: Boolean!) { __typename @include(if: $x) }";
        assert_eq!(server.query(root, json!({ "x": true })).await, json!({ "__typename": "Query" }));
        // Every root field skipped: an empty object, as graphql-js answers.
        assert_eq!(server.query(root, json!({ "x": false })).await, json!({}));
        let (status, text) = server.post_text(None, &json!({ "query": root, "variables": { "x": false } })).await;
        assert_eq!((status, text.as_str()), (200, r#"{"data":{}}"#));
        let nested = "query($x: Boolean!) { topic(slug: \"microneedling\") { kind: __typename @skip(if: $x) title } }";
        assert_eq!(server.query(nested, json!({ "x": false })).await, json!({ "topic": { "kind": "Topic", "title": "Microneedling" } }));
        assert_eq!(server.query(nested, json!({ "x": true })).await, json!({ "topic": { "title": "Microneedling" } }));
        let fragment = "query($x: Boolean!) { ...F } fragment F on Query { __typename @include(if: $x) }";
        assert_eq!(server.query(fragment, json!({ "x": true })).await, json!({ "__typename": "Query" }));
        // Over GET as well.
        let response = server.client.get(server.url("/graphql"))
            .query(&[("query", root), ("variables", r#"{"x":true}"#)])
            .send().await.expect("GET");
        assert_eq!(response.json::<Value>().await.expect("JSON"), json!({ "data": { "__typename": "Query" } }));
        // What validation skipped on __typename before is checked now.
        for (query, message) in [
            ("{ __typename @include(if: $y) }", "Variable \"$y\" is not defined"),
            ("{ __typename @unknown }", "Unknown directive \"unknown\""),
            ("query($s: String!) { __typename @include(if: $s) }", "argument \"if\""),
        ] {
            let (status, answer) = server.post(&json!({ "query": query, "variables": { "s": "x" } })).await;
            assert_eq!(status, 400, "{query}: {answer}");
            assert_eq!(answer["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{query}: {answer}");
            assert!(answer["errors"][0]["message"].as_str().unwrap_or_default().contains(message), "{query}: {answer}");
        }
    }
}
