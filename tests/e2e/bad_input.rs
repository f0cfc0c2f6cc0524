//! Bad input, proved: malformed bodies, wrong content types, invalid UTF-8, huge bodies,
//! deep nesting, alias floods, unknown operations, wrong variable types, and huge or
//! mistyped values for every argument of every field (read from introspection, so a new
//! argument is covered by itself). Every answer is a 4xx or a GraphQL error with a code,
//! never an internal error; the server stays up; the database is unchanged.

use dermis_tests::schema::{Introspection, call_document, innermost};
use dermis_tests::{Session, TestServer, on_both_databases};
use serde_json::{Map, Value, json};

/// Checks one answer: a 4xx, or a GraphQL error; every error has a code; none is internal.
fn assert_refused(what: &str, status: u16, body: &str) {
    assert!(
        status < 500,
        "{what}: HTTP {status} ({})",
        body.chars().take(300).collect::<String>()
    );
    let json: Value = serde_json::from_str(body)
        .unwrap_or_else(|_| panic!("{what}: HTTP {status}, the body is not JSON: {body:.300}"));
    let errors = json["errors"].as_array().cloned().unwrap_or_default();
    assert!(
        (400..500).contains(&status) || !errors.is_empty(),
        "{what}: accepted ({status}): {json:.300}"
    );
    for error in &errors {
        let code = error["extensions"]["code"].as_str().unwrap_or_default();
        assert!(!code.is_empty(), "{what}: an error without a code: {error}");
        assert_ne!(code, "INTERNAL_SERVER_ERROR", "{what}: {error}");
    }
}

async fn send_raw(
    server: &TestServer,
    content_type: Option<&str>,
    body: Vec<u8>,
    token: Option<&str>,
) -> (u16, String) {
    let mut request = server
        .client
        .post(server.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
        // A server may close the connection on a body it refuses to read; it must not
        // have crashed, which the health check after every batch proves.
        Err(error) => (413, json!({ "errors": [{ "message": error.to_string(), "extensions": { "code": "CONNECTION_CLOSED" } }] }).to_string()),
    }
}

async fn assert_alive(server: &TestServer) {
    let response = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("the server is still up");
    assert_eq!(response.status().as_u16(), 200);
}

const JSON: Option<&str> = Some("application/json");

/// Raw bodies and headers that are wrong at the HTTP or JSON level.
async fn malformed_requests(server: &TestServer) {
    let ok = br#"{"query":"{ __typename }"}"#.to_vec();
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_variables = format!(
        r#"{{"query":"query($v: String) {{ __typename }}","variables":{{"v":{}1{}}}}}"#,
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let mut invalid_utf8 = br#"{"query":"{ __typename "#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    invalid_utf8.extend_from_slice(br#" }"}"#);
    let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        ("truncated JSON", JSON, br#"{"query": "#.to_vec()),
        ("trailing garbage", JSON, br#"{"query":"{ __typename }"} x"#.to_vec()),
        ("empty body", JSON, Vec::new()),
        ("null", JSON, b"null".to_vec()),
        ("a number", JSON, b"42".to_vec()),
        ("a string", JSON, br#""{ __typename }""#.to_vec()),
        ("no query", JSON, b"{}".to_vec()),
        ("query not a string", JSON, br#"{"query":{"a":1}}"#.to_vec()),
        ("variables a list", JSON, br#"{"query":"{ __typename }","variables":[1]}"#.to_vec()),
        ("variables a string", JSON, br#"{"query":"{ __typename }","variables":"{}"}"#.to_vec()),
        ("operationName a number", JSON, br#"{"query":"{ __typename }","operationName":5}"#.to_vec()),
        ("extensions a list", JSON, br#"{"query":"{ __typename }","extensions":[]}"#.to_vec()),
        ("number out of range", JSON, br#"{"query":"query($n: Int) { topics(first: $n) { totalCount } }","variables":{"n":1e400}}"#.to_vec()),
        ("JSON nested 100k deep", JSON, deep_json.into_bytes()),
        ("variables nested 5k deep", JSON, deep_variables.into_bytes()),
        ("invalid UTF-8", JSON, invalid_utf8),
        ("a NUL in the query", JSON, b"{\"query\":\"{ __typename \\u0000 }\"}".to_vec()),
        ("lone surrogate", JSON, br#"{"query":"{ topic(slug: \"\ud800\") { id } }"}"#.to_vec()),
        ("batch", JSON, format!("[{0},{0}]", String::from_utf8_lossy(&ok)).into_bytes()),
        ("no content type", None, ok.clone()),
        ("text/plain", Some("text/plain"), ok.clone()),
        ("XML", Some("application/xml"), b"<query>{ __typename }</query>".to_vec()),
        ("form", Some("application/x-www-form-urlencoded"), b"query=%7B__typename%7D".to_vec()),
        ("multipart", Some("multipart/form-data; boundary=x"), b"--x\r\n\r\n{}\r\n--x--".to_vec()),
        ("application/graphql", Some("application/graphql"), b"{ __typename }".to_vec()),
        ("latin-1 charset", Some("application/json; charset=latin1"), ok.clone()),
        ("garbage content type", Some(";;;=\u{7f}"), ok.clone()),
        ("10 MB body", JSON, {
            let mut body = br#"{"query":"{ __typename }","variables":{"v":""#.to_vec();
            body.resize(10 * 1024 * 1024, b'a');
            body.extend_from_slice(br#""}}"#);
            body
        }),
    ];
    for (what, content_type, body) in cases {
        let (status, answer) = send_raw(server, content_type, body, None).await;
        assert_refused(what, status, &answer);
    }
    // The same 10 MB streamed without a Content-Length.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..160).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let response = server
        .client
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(response.status().as_u16(), 413);
    }
    // GET with a broken query string, invalid UTF-8 and bad JSON in the URL.
    for query in [
        "query=%FF%FE",
        "query=%7B__typename%7D&variables=%7Bnot-json",
        "query=%7B__typename%7D&variables=%5B%5D",
        "query=%7B&&&===",
        "variables=%7B%7D",
    ] {
        let response = server
            .client
            .get(format!("{}?{query}", server.url("/graphql")))
            .header("accept", "application/json")
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        assert_refused(query, status, &response.text().await.unwrap_or_default());
    }
    assert_alive(server).await;
}

/// Documents that are valid JSON but abusive or wrong GraphQL.
async fn abusive_documents(server: &TestServer) {
    let deep = format!(
        "{}{}",
        "{ topics { edges { node ".repeat(334),
        "} } }".repeat(334)
    );
    let deep_list = format!(
        "{{ topics(filter: {{ search: {}\"x\"{} }}) {{ totalCount }} }}",
        "[".repeat(1000),
        "]".repeat(1000)
    );
    let aliases: String = (0..10_000).map(|i| format!("a{i}:__typename ")).collect();
    let cases: Vec<(&str, Value)> = vec![
        ("1000-deep selection", json!({ "query": deep })),
        ("1000-deep list literal", json!({ "query": deep_list })),
        (
            "10k aliases",
            json!({ "query": format!("{{ {aliases} }}") }),
        ),
        (
            "unknown operation name",
            json!({ "query": "query A { __typename }", "operationName": "B" }),
        ),
        (
            "two operations, no name",
            json!({ "query": "query A { __typename } query B { __typename }" }),
        ),
        ("unknown field", json!({ "query": "{ nope }" })),
        (
            "wrong variable type",
            json!({ "query": "query($n: Int) { topics(first: $n) { totalCount } }", "variables": { "n": "ten" } }),
        ),
        (
            "float for Int",
            json!({ "query": "query($n: Int) { topics(first: $n) { totalCount } }", "variables": { "n": 1.5 } }),
        ),
        (
            "Int over 32 bits",
            json!({ "query": "query($n: Int) { topics(first: $n) { totalCount } }", "variables": { "n": 9_223_372_036_854_775_807_i64 } }),
        ),
        (
            "huge Int literal",
            json!({ "query": "{ topics(first: 99999999999999999999999999) { totalCount } }" }),
        ),
        (
            "missing required variable",
            json!({ "query": "query($s: String!) { topic(slug: $s) { id } }" }),
        ),
        (
            "undeclared variable",
            json!({ "query": "{ topic(slug: $s) { id } }" }),
        ),
        (
            "variable of unknown type",
            json!({ "query": "query($s: Nope) { __typename }" }),
        ),
        (
            "unused variable of a bad value",
            json!({ "query": "query($s: String) { __typename }", "variables": { "s": { "a": [1, 2] } } }),
        ),
        (
            "mutation over a query's name",
            json!({ "query": "mutation { topics { totalCount } }" }),
        ),
        (
            "subscription",
            json!({ "query": "subscription { topics { totalCount } }" }),
        ),
        (
            "fragment on an unknown type",
            json!({ "query": "{ ...F } fragment F on Nope { a }" }),
        ),
        (
            "directive nonsense",
            json!({ "query": "{ __typename @skip(if: \"yes\") }" }),
        ),
        (
            "huge string literal",
            json!({ "query": format!("{{ topic(slug: \"{}\") {{ id }} }}", "x".repeat(60_000)) }),
        ),
    ];
    for (what, body) in cases {
        let (status, answer) = send_raw(server, JSON, body.to_string().into_bytes(), None).await;
        assert_refused(what, status, &answer);
    }
    assert_alive(server).await;
}

/// Values no argument accepts, for a leaf of type `ty` (named type definition `def`).
fn bad_values(ty: &Value, schema: &Introspection) -> Vec<Value> {
    let huge_string = Value::String("x".repeat(200_000));
    match ty["kind"].as_str().unwrap_or_default() {
        "NON_NULL" => {
            let mut values = bad_values(&ty["ofType"], schema);
            values.push(Value::Null);
            values
        }
        "LIST" => {
            let item = schema.dummy(&ty["ofType"]);
            vec![Value::Array(vec![item; 10_000]), json!({ "not": "a list" })]
        }
        "ENUM" => vec![json!("NOT_A_VALUE"), json!(7)],
        "INPUT_OBJECT" => vec![json!("not an object"), json!({ "unknownField": 1 })],
        _ => match ty["name"].as_str().unwrap_or_default() {
            "Int" => vec![
                json!(2_147_483_647),
                json!(-2_147_483_648),
                json!(9_007_199_254_740_993_i64),
                json!("12"),
            ],
            "Float" => vec![json!(1.0e308), json!("NaN")],
            "Boolean" => vec![json!("true"), json!(1)],
            // An ID may be written as a number, so a number is no mistake here.
            "ID" => vec![huge_string, json!(true), json!({ "a": 1 })],
            _ => vec![huge_string, json!(12_345), json!({ "a": 1 })],
        },
    }
}

/// Every (path, bad value) variant of an argument: the argument itself, and for an input
/// object each of its fields (recursively) with the others left valid.
fn variants(ty: &Value, schema: &Introspection, depth: usize) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = bad_values(ty, schema)
        .into_iter()
        .map(|v| (String::new(), v))
        .collect();
    let named = innermost(ty);
    if named["kind"] == "INPUT_OBJECT" && depth < 3 {
        let base = schema.dummy(named);
        for field in schema.named(named)["inputFields"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = field["name"].as_str().unwrap_or_default();
            for (path, value) in variants(&field["type"], schema, depth + 1) {
                let mut object = base.as_object().cloned().unwrap_or_else(Map::new);
                object.insert(name.to_owned(), value);
                let wrapped = if ty["kind"] == "LIST" || ty["ofType"]["kind"] == "LIST" {
                    json!([object])
                } else {
                    Value::Object(object)
                };
                out.push((format!(".{name}{path}"), wrapped));
            }
        }
    }
    out
}

/// Sends every bad value to every argument of every field of `root` as `session`.
async fn every_argument(server: &TestServer, root: &str, session: &Session) -> usize {
    let schema = Introspection::load(server, root, Some(session)).await;
    let mut sent = 0;
    for (field, arg, given) in schema.arguments() {
        let name = field["name"].as_str().unwrap_or_default();
        let arg_name = arg["name"].as_str().unwrap_or_default();
        let document = call_document(root, field, &given);
        for (path, value) in variants(&arg["type"], &schema, 0) {
            let shown: String = value.to_string().chars().take(120).collect();
            let variables = schema.variables(field, &given, arg_name, value);
            let body = json!({ "query": document, "variables": variables });
            let (status, answer) = send_raw(
                server,
                JSON,
                body.to_string().into_bytes(),
                Some(&session.access),
            )
            .await;
            assert_refused(
                &format!("{name}({arg_name}{path} = {shown})"),
                status,
                &answer,
            );
            sent += 1;
        }
    }
    sent
}

on_both_databases! {
    async fn no_bad_input_crashes_the_server_or_writes_anything(backend) {
        let server = TestServer::on(backend)
            .sample()
            .env("DERMIS_RATE_LIMIT_PER_SECOND", "0")
            .env("DERMIS_LOGIN_MAX_FAILURES_PER_CLIENT", "1000000")
            .start()
            .await;
        let admin = server.first_admin().await;
        let before = server.db.fingerprint().await;

        malformed_requests(&server).await;
        abusive_documents(&server).await;
        let queries = every_argument(&server, "query", &admin).await;
        let mutations = every_argument(&server, "mutation", &admin).await;
        assert!(queries > 50 && mutations > 300, "{queries} query and {mutations} mutation probes");

        assert_alive(&server).await;
        assert_eq!(server.db.fingerprint().await, before, "bad input wrote to the database");
        let logs = server.logs();
        assert!(!logs.contains("panicked"), "{logs}");
        // The server still works normally.
        let data = server.query("{ topic(slug: \"microneedling\") { title } }", json!({})).await;
        assert_eq!(data["topic"]["title"], "Microneedling");
    }
}
