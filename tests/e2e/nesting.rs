//! Deeply nested documents, in every form a document reaches the server: the guards of
//! `graphql::nesting` refuse them before the parser recurses, and the server stays up.
//! After every request `/healthz` must answer: a stack overflow aborts the whole process.

use dermis_tests::{TestServer, on_both_databases};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// How a document is sent.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// `POST`, `Accept: application/graphql-response+json`.
    Post,
    /// `POST`, `Accept: application/json` (always `200`).
    PostLegacy,
    /// `GET ?query=`.
    Get,
    /// `POST` with its APQ hash: registers the document as a persisted query.
    RegisterPersisted,
    /// `GET` with query and APQ hash.
    GetPersisted,
}

const FORMS: [Form; 5] = [
    Form::Post,
    Form::PostLegacy,
    Form::Get,
    Form::RegisterPersisted,
    Form::GetPersisted,
];

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sends `query` in `form`; the status and the JSON answer.
async fn send(
    server: &TestServer,
    form: Form,
    query: &str,
    variables: Option<&Value>,
) -> (u16, Value) {
    let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(query) } });
    let request = match form {
        Form::Post | Form::PostLegacy | Form::RegisterPersisted => {
            let mut body = json!({ "query": query });
            if let Some(variables) = variables {
                body["variables"] = variables.clone();
            }
            if matches!(form, Form::RegisterPersisted) {
                body["extensions"] = persisted;
            }
            let accept = if matches!(form, Form::PostLegacy) {
                "application/json"
            } else {
                "application/graphql-response+json"
            };
            server
                .client
                .post(server.url("/graphql"))
                .header("content-type", "application/json")
                .header("accept", accept)
                .body(body.to_string())
        }
        Form::Get | Form::GetPersisted => {
            let mut params = vec![("query", query.to_owned())];
            if let Some(variables) = variables {
                params.push(("variables", variables.to_string()));
            }
            if matches!(form, Form::GetPersisted) {
                params.push(("extensions", persisted.to_string()));
            }
            server
                .client
                .get(server.url("/graphql"))
                .header("accept", "application/graphql-response+json")
                .query(&params)
        }
    };
    let response = request.send().await.unwrap_or_else(|error| {
        panic!(
            "{form:?} of {} bytes: no answer ({error})\n{}",
            query.len(),
            server.logs()
        )
    });
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Asserts the server is alive and well.
async fn alive(server: &TestServer, after: &str) {
    let status = match server.client.get(server.url("/healthz")).send().await {
        Ok(response) => response.status().as_u16(),
        Err(error) => panic!("/healthz after {after}: {error}\n{}", server.logs()),
    };
    assert_eq!(status, 200, "/healthz after {after}");
}

/// An answer cut short for a failure message (parse errors quote the document).
fn short(answer: &Value) -> String {
    answer.to_string().chars().take(600).collect()
}

fn code(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

fn nest(open: &str, inner: &str, close: &str, levels: usize) -> String {
    format!("{}{inner}{}", open.repeat(levels), close.repeat(levels))
}

/// A selection set with `levels` inline fragments nested in it around `inner`.
fn fragments(inner: &str, levels: usize) -> String {
    format!("{{ {} }}", nest("... on Query { ", inner, "} ", levels))
}

/// The worst shapes: every recursive construct, behind every trick a lexer can miss.
fn worst_shapes(levels: usize) -> Vec<(&'static str, String)> {
    let lists = nest("[", "1", "]", levels);
    vec![
        (
            "lists after a block string with an odd number of quotes (the reported crash)",
            format!(r#"{{ topic(slug: """ a " b """, id: {lists}) {{ id }} }}"#),
        ),
        (
            "list values",
            format!("{{ topic(slug: {lists}) {{ id }} }}"),
        ),
        (
            "object values",
            format!(
                "{{ topics(filter: {}) {{ totalCount }} }}",
                nest("{ search: ", "1", " }", levels)
            ),
        ),
        ("selection sets", nest("{ topics ", "", "}", levels)),
        ("inline fragments", fragments("__typename ", levels)),
        (
            "list types",
            format!(
                "query($v: {}) {{ __typename }}",
                nest("[", "Int", "]", levels)
            ),
        ),
        (
            "default values",
            format!("query($v: Int = {lists}) {{ __typename }}"),
        ),
        (
            "directive arguments",
            format!("{{ __typename @include(if: {lists}) }}"),
        ),
        (
            "lists after an escaped quote",
            format!(r#"{{ topic(slug: "\"", id: {lists}) {{ id }} }}"#),
        ),
        (
            "lists after an escaped triple quote",
            format!(r#"{{ topic(slug: """ a \""" b """, id: {lists}) {{ id }} }}"#),
        ),
        (
            "lists after a comment holding a quote",
            format!("{{ topic(slug: \"x\" # \"\n id: {lists}) {{ id }} }}"),
        ),
        (
            "lists after an unterminated block string",
            format!(r#"{{ topic(slug: [""" " {lists}]) {{ id }} }}"#),
        ),
        (
            "lists after unicode, a BOM and \\u escapes",
            format!("\u{feff}{{ topic(slug: \"é😀\\u00e9\", id: {lists}) {{ id }} }}"),
        ),
    ]
}

on_both_databases! {
    async fn the_worst_nesting_is_refused_in_every_form_and_the_server_stays_up(backend) {
        let server = TestServer::sample(backend).await;
        let mut sent = 0;
        for levels in [40, 2000, 7700] {
            for (shape, query) in worst_shapes(levels) {
                for form in FORMS {
                    if query.len() > 8 * 1024 && matches!(form, Form::Get | Form::GetPersisted) {
                        // Longer URLs are refused by HTTP clients before they are sent.
                        continue;
                    }
                    // Twice: the second time through the parsed-document cache's lookup.
                    for _ in 0..2 {
                        let (status, answer) = send(&server, form, &query, None).await;
                        let what = format!("{shape}, {levels} levels, {form:?}");
                        alive(&server, &what).await;
                        sent += 1;
                        let expected = if matches!(form, Form::PostLegacy) { 200 } else { 400 };
                        assert_eq!(status, expected, "{what}: {}", short(&answer));
                        // The size limit (64 KiB) comes first.
                        let (expected, limit) = if query.len() > 65_536 {
                            ("QUERY_TOO_LARGE", 65_536)
                        } else {
                            ("QUERY_TOO_DEEP", 32)
                        };
                        assert_eq!(code(&answer), expected, "{what}: {}", short(&answer));
                        assert_eq!(answer["errors"][0]["extensions"]["limit"], limit, "{what}: {}", short(&answer));
                        assert!(answer.get("data").is_none(), "{what}: {}", short(&answer));
                    }
                }
            }
        }
        assert!(sent > 300);

        // Variables nested as deep as JSON parsing allows do not reach a recursion either.
        let variables = json!({ "s": serde_json::from_str::<Value>(&nest("[", "1", "]", 120)).expect("JSON") });
        for form in FORMS {
            let (status, answer) = send(&server, form, "query($s: String) { topic(slug: $s) { id } }", Some(&variables)).await;
            alive(&server, "deep variables").await;
            assert!(status < 500 && code(&answer) != "INTERNAL_SERVER_ERROR", "{form:?}: {status} {answer}");
        }

        // Brackets that no lexer would count (inside a string) still count for the
        // lexer-blind guard: a document may hold at most 4096.
        let query = format!("{{ topic(slug: \"{}\") {{ id }} }}", "[".repeat(5000));
        for form in [Form::Post, Form::RegisterPersisted] {
            let (status, answer) = send(&server, form, &query, None).await;
            alive(&server, "5000 brackets in a string").await;
            assert_eq!((status, code(&answer)), (400, "QUERY_TOO_LARGE"), "{answer}");
            assert_eq!(answer["errors"][0]["extensions"]["limit"], 4096, "{answer}");
        }

        // At the limit, documents are parsed and answered; one level more is refused.
        let page = "topic(slug: \"microneedling\") { title } ";
        let at_limit = fragments(page, 30);
        for form in FORMS {
            let (status, answer) = send(&server, form, &at_limit, None).await;
            assert_eq!(status, 200, "{form:?}: {answer}");
            assert_eq!(answer["data"]["topic"]["title"], "Microneedling", "{form:?}: {answer}");
        }
        let over = fragments(page, 31);
        let (status, answer) = send(&server, Form::Post, &over, None).await;
        assert_eq!((status, code(&answer)), (400, "QUERY_TOO_DEEP"), "{answer}");
        assert_eq!(answer["errors"][0]["extensions"]["actual"], 33, "{answer}");
        assert!(!server.logs().contains("overflow"), "{}", server.logs());
    }
}

on_both_databases! {
    async fn documents_as_deep_as_the_highest_setting_are_served_safely(backend) {
        // DERMIS_MAX_NESTING's ceiling is what validation and execution, which walk the
        // parsed document recursively, are known to survive on a worker's stack: documents
        // of every shape at that depth are parsed, validated and answered in every form.
        let max = 128;
        let server = TestServer::on(backend).sample().env("DERMIS_MAX_NESTING", &max.to_string()).start().await;
        for (shape, query) in worst_shapes(max - 3) {
            for form in FORMS {
                let (status, answer) = send(&server, form, &query, None).await;
                let what = format!("{shape}, {form:?}");
                alive(&server, &what).await;
                assert!(status < 500, "{what}: {status} {answer}");
                assert_ne!(code(&answer), "QUERY_TOO_DEEP", "{what}: {}", short(&answer));
                assert_ne!(code(&answer), "INTERNAL_SERVER_ERROR", "{what}: {}", short(&answer));
            }
        }
        // A variable of a deeply nested list type with a default of that depth: validation
        // checks the one against the other, level by level.
        let depth = max - 2;
        let query = format!(
            "query($v: {} = {}) {{ __typename @include(if: true) }}",
            nest("[", "Int", "]", depth),
            nest("[", "1", "]", depth),
        );
        let (status, answer) = send(&server, Form::Post, &query, None).await;
        alive(&server, "a deep typed default").await;
        assert!(status < 500, "{status} {answer}");
        let (status, answer) = send(&server, Form::Post, &fragments("__typename ", max), None).await;
        assert_eq!((status, code(&answer)), (400, "QUERY_TOO_DEEP"), "{answer}");

        // Above the ceiling the server does not start.
        let mut command = dermis_tests::dermis(server.db.dir.path());
        command.args(["serve", "--bind", "127.0.0.1:0", "--max-nesting", "129"]).env("DERMIS_DATABASE_URL", &server.db.url);
        let output = dermis_tests::run(command).await;
        assert_eq!(output.code, Some(2), "{output:?}");
        assert!(output.stderr.contains("DERMIS_MAX_NESTING must be at most 128"), "{output:?}");
    }
}
