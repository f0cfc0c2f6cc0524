//! GraphQL subscriptions over WebSocket (`graphql-transport-ws` at `/graphql`): what
//! anonymous subscribers, editors and tokens receive; the protocol's edges; limits;
//! credentials that end while the socket lives; and changes made on one node reaching a
//! subscriber on another, with the official `graphql-ws` client from npm.

use std::time::{Duration, Instant};

use dermis_tests::socket::{NodeSubscriber, Received};
use dermis_tests::{Session, TestServer, on_both_databases};
use serde_json::{Value, json};

const TOPIC_CHANGED: &str = "subscription($slug: String!, $preview: Boolean! = false) {
    topicChanged(slug: $slug, preview: $preview) { slug title status version conditions { node { slug name } } } }";
const CONTENT_CHANGED: &str = "subscription($types: [DocumentType!]) {
    contentChanged(types: $types) { id type documentType slug oldStatus newStatus affectedTopics } }";
const TOPIC: &str = "query($slug: String!) { topic(slug: $slug, preview: true) { id version } }";
const UPDATE_TOPIC: &str =
    "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version } } }";
const CREATE_TOPIC: &str =
    "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id version } } }";
const CREATE_CONDITION: &str = "mutation($input: CreateConditionInput!) {
    createCondition(input: $input) { condition { id version } } }";
const UPDATE_CONDITION: &str = "mutation($input: UpdateConditionInput!) {
    updateCondition(input: $input) { condition { version } } }";

/// The topic's id and current version.
async fn current(server: &TestServer, editor: &Session, slug: &str) -> (Value, i64) {
    let topic = server
        .query_as(editor, TOPIC, json!({ "slug": slug }))
        .await["topic"]
        .clone();
    (
        topic["id"].clone(),
        topic["version"].as_i64().expect("version"),
    )
}

/// Saves `changes` to the topic at `slug`; its new version.
async fn save(server: &TestServer, editor: &Session, slug: &str, changes: Value) -> i64 {
    let (id, version) = current(server, editor, slug).await;
    let mut input = json!({ "id": id, "expectedVersion": version });
    if let (Some(input), Some(changes)) = (input.as_object_mut(), changes.as_object()) {
        input.extend(changes.clone());
    }
    let saved = server
        .query_as(editor, UPDATE_TOPIC, json!({ "input": input }))
        .await;
    saved["updateTopic"]["topic"]["version"]
        .as_i64()
        .expect("saved")
}

/// A (type, slug) pair of a `contentChanged` payload.
fn event_of(payload: &Value) -> (String, String) {
    let event = &payload["data"]["contentChanged"];
    (
        event["type"].as_str().unwrap_or_default().to_owned(),
        event["slug"].as_str().unwrap_or_default().to_owned(),
    )
}

on_both_databases! {
    async fn an_anonymous_subscriber_sees_what_the_public_sees_change(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let mut socket = server.socket(None).await;
        socket.subscribe("page", TOPIC_CHANGED, json!({ "slug": "microneedling" })).await;
        socket.subscribe("feed", CONTENT_CHANGED, json!({})).await;
        server.wait_for_live_subscribers(2).await;

        // A draft the public never sees: no message on either subscription.
        server.query_as(&admin, CREATE_TOPIC, json!({ "input": { "title": "Peels", "slug": "peels" } })).await;
        server.query_as(&admin, CREATE_CONDITION, json!({ "input": { "name": "Melasma" } })).await;
        // The published page changes: its new state, and the event.
        let version = save(&server, &admin, "microneedling", json!({ "title": "Microneedling (collagen induction)" })).await;
        let page = socket.next_of("page").await;
        assert_eq!(page["data"]["topicChanged"]["title"], "Microneedling (collagen induction)", "{page}");
        assert_eq!(page["data"]["topicChanged"]["version"], version);
        let event = socket.next_of("feed").await;
        assert_eq!(event_of(&event), ("topic.updated".into(), "microneedling".into()), "drafts were not sent first: {event}");
        assert_eq!(event["data"]["contentChanged"]["affectedTopics"], json!(["microneedling"]));

        // A published condition it shows changes: the page again, with the new name.
        let acne = server.query_as(&admin, "{ condition(slug: \"acne\") { id version } }", json!({})).await["condition"].clone();
        server.query_as(&admin, UPDATE_CONDITION, json!({ "input": { "id": acne["id"], "expectedVersion": acne["version"], "name": "Acne and acne scars" } })).await;
        let page = socket.next_of("page").await;
        let names: Vec<&str> = page["data"]["topicChanged"]["conditions"].as_array().expect("conditions").iter().filter_map(|c| c["node"]["name"].as_str()).collect();
        assert!(names.contains(&"Acne and acne scars"), "{page}");
        assert_eq!(event_of(&socket.next_of("feed").await), ("condition.updated".into(), "acne".into()));

        // Unpublished: null, as the public now sees it; the event names the old status.
        let (id, version) = current(&server, &admin, "microneedling").await;
        server.query_as(&admin, "mutation($input: DocumentVersionInput!) { unpublishTopic(input: $input) { topic { status } } }", json!({ "input": { "id": id, "expectedVersion": version } })).await;
        let page = socket.next_of("page").await;
        assert_eq!(page, json!({ "data": { "topicChanged": null } }));
        let event = socket.next_of("feed").await;
        assert_eq!(event_of(&event), ("topic.unpublished".into(), "microneedling".into()));
        assert_eq!((event["data"]["contentChanged"]["oldStatus"].as_str(), event["data"]["contentChanged"]["newStatus"].as_str()), (Some("PUBLISHED"), Some("DRAFT")));
        // Its drafts are nobody's business but the editors'.
        save(&server, &admin, "microneedling", json!({ "summary": "A draft summary." })).await;

        // Stopping one subscription leaves the other running.
        socket.send(json!({ "type": "complete", "id": "page" })).await;
        server.wait_for_live_subscribers(1).await;
        let (id, version) = current(&server, &admin, "microneedling").await;
        server.query_as(&admin, "mutation($input: PublishTopicInput!) { publishTopic(input: $input) { topic { status } } }", json!({ "input": { "id": id, "expectedVersion": version, "overrideReview": "tested without review" } })).await;
        let event = socket.next_of("feed").await;
        assert_eq!(event_of(&event), ("topic.published".into(), "microneedling".into()), "no message for the draft save nor for the stopped page: {event}");
        socket.close().await;
        server.wait_for_live_subscribers(0).await;
    }
}

on_both_databases! {
    async fn editors_and_preview_tokens_follow_drafts_and_others_may_not(backend) {
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        let editor = server.user(&admin, "ed@example.org", "EDITOR").await;
        let created = server.query_as(&admin, CREATE_CONDITION, json!({ "input": { "name": "Melasma" } })).await["createCondition"]["condition"].clone();
        let draft = server.query_as(&admin, CREATE_TOPIC, json!({ "input": { "title": "Peels", "slug": "peels", "conditions": [{ "conditionId": created["id"] }] } })).await;
        assert!(draft["createTopic"]["topic"]["id"].is_string());

        // Anonymous: preview is refused on the operation, the socket stays.
        let mut anonymous = server.socket(None).await;
        anonymous.subscribe("1", TOPIC_CHANGED, json!({ "slug": "peels", "preview": true })).await;
        let refused = anonymous.message().await;
        assert_eq!(refused["id"], "1", "{refused}");
        let code = if refused["type"] == "error" { &refused["payload"][0]["extensions"]["code"] } else { &refused["payload"]["errors"][0]["extensions"]["code"] };
        assert_eq!(code, "UNAUTHENTICATED", "{refused}");

        // A PREVIEW token and an editor follow the draft, and the draft condition it links to.
        let token = server.query_as(&admin, "mutation { createApiToken(input: { name: \"Preview\", scopes: [PREVIEW] }) { secret } }", json!({})).await["createApiToken"]["secret"].as_str().expect("secret").to_owned();
        let mut preview = server.socket(Some(&token)).await;
        preview.subscribe("p", TOPIC_CHANGED, json!({ "slug": "peels", "preview": true })).await;
        let mut editing = server.socket(Some(&editor.access)).await;
        editing.subscribe("e", TOPIC_CHANGED, json!({ "slug": "peels", "preview": true })).await;
        editing.subscribe("all", CONTENT_CHANGED, json!({ "types": ["CONDITION"] })).await;
        server.wait_for_live_subscribers(3).await;

        let version = save(&server, &editor, "peels", json!({ "summary": "Chemical peels, drafted." })).await;
        // At least once: the creation of the draft or of its condition, committed just
        // before the subscriptions, may reach them after, with the state they started from.
        for (socket, id) in [(&mut preview, "p"), (&mut editing, "e")] {
            let page = socket.next_of_where(id, |p| p["data"]["topicChanged"]["version"].as_i64() == Some(version)).await;
            assert_eq!(page["data"]["topicChanged"]["status"], "DRAFT", "{page}");
        }
        server.query_as(&editor, UPDATE_CONDITION, json!({ "input": { "id": created["id"], "expectedVersion": created["version"], "name": "Melasma (chloasma)" } })).await;
        for (socket, id) in [(&mut preview, "p"), (&mut editing, "e")] {
            let page = socket.next_of_where(id, |p| p["data"]["topicChanged"]["conditions"][0]["node"]["name"] == "Melasma (chloasma)").await;
            assert_eq!(page["data"]["topicChanged"]["version"].as_i64(), Some(version), "{page}");
        }
        // Editors get draft events too, filtered by type: the condition's, not the topic's.
        let event = editing.next_of("all").await;
        assert_eq!(event_of(&event), ("condition.updated".into(), "melasma".into()), "{event}");
    }
}

on_both_databases! {
    async fn the_protocol_is_followed_at_its_edges(backend) {
        let server = TestServer::on(backend).sample().env("DERMIS_WS_INIT_TIMEOUT", "1").start().await;

        // Only graphql-transport-ws is spoken: a client offering only the legacy protocol
        // gets none back (and fails the handshake, as browsers do); one offering none is
        // closed with 4406.
        let legacy = server.open_socket(&["graphql-ws"]).await;
        assert!(matches!(&legacy, Err((0, reason)) if reason.contains("subprotocol")), "{:?}", legacy.as_ref().err());
        let mut bare = server.open_socket(&[]).await.expect("upgrade");
        assert_eq!(bare.closed().await.0, 4406);

        // Before connection_init: subscribe is unauthorised; silence times out.
        let mut early = server.open_socket(&["graphql-transport-ws"]).await.expect("upgrade");
        early.subscribe("1", "{ __typename }", json!({})).await;
        assert_eq!(early.closed().await.0, 4401);
        let mut silent = server.open_socket(&["graphql-transport-ws"]).await.expect("upgrade");
        assert_eq!(silent.closed().await.0, 4408);

        // Malformed messages, binary frames, a second init, an id in use: closed, coded.
        for bad in ["not json", "{\"type\":\"start\",\"id\":\"1\"}", "{\"type\":\"subscribe\",\"id\":\"1\"}", "[]"] {
            let mut socket = server.socket(None).await;
            socket.send_text(bad).await;
            assert_eq!(socket.closed().await.0, 4400, "{bad}");
        }
        let mut binary = server.socket(None).await;
        binary.send_binary(b"{}".to_vec()).await;
        assert_eq!(binary.closed().await.0, 4400);
        let mut twice = server.socket(None).await;
        twice.send(json!({ "type": "connection_init" })).await;
        assert_eq!(twice.closed().await.0, 4429);
        let mut duplicate = server.socket(None).await;
        duplicate.subscribe("same", TOPIC_CHANGED, json!({ "slug": "microneedling" })).await;
        duplicate.subscribe("same", TOPIC_CHANGED, json!({ "slug": "microneedling" })).await;
        let (code, reason) = duplicate.closed().await;
        assert_eq!((code, reason.as_str()), (4409, "Subscriber for same already exists"));

        // A credential that is not valid is forbidden at init.
        let mut forged = server.open_socket(&["graphql-transport-ws"]).await.expect("upgrade");
        forged.send(json!({ "type": "connection_init", "payload": { "authorization": "Bearer nope" } })).await;
        assert_eq!(forged.closed().await.0, 4403);

        // Ping is answered; queries answer exactly as over HTTP, then complete; request
        // errors are `error` messages with codes; the socket lives on through all of it.
        let mut socket = server.socket(None).await;
        socket.send(json!({ "type": "ping" })).await;
        assert_eq!(socket.message().await, json!({ "type": "pong" }));
        let query = "{ topic(slug: \"microneedling\") { title conditions { node { slug } } } }";
        socket.subscribe("q", query, json!({})).await;
        let (_, over_http) = server.post(&json!({ "query": query })).await;
        assert_eq!(socket.next_of("q").await, over_http);
        assert_eq!(socket.message().await, json!({ "id": "q", "type": "complete" }));
        socket.subscribe("bad", "{ nope }", json!({})).await;
        let error = socket.message().await;
        assert_eq!((error["type"].as_str(), error["payload"][0]["extensions"]["code"].as_str()), (Some("error"), Some("GRAPHQL_VALIDATION_FAILED")), "{error}");
        socket.send(json!({ "type": "subscribe", "id": "v", "payload": { "query": query, "variables": [1] } })).await;
        let error = socket.message().await;
        assert_eq!(error["payload"][0]["extensions"]["code"], "BAD_REQUEST", "{error}");
        let deep = format!("subscription {{ topicChanged(slug: \"a\") {{ {}slug{} }} }}", "conditions { node { topics { node { ".repeat(4), " } } } }".repeat(4));
        socket.subscribe("deep", &deep, json!({})).await;
        let error = socket.message().await;
        assert_eq!(error["payload"][0]["extensions"]["code"], "QUERY_TOO_DEEP", "the query limits hold on sockets too: {error}");
        // A complete for an unknown id is ignored.
        socket.send(json!({ "type": "complete", "id": "never" })).await;
        socket.send(json!({ "type": "ping" })).await;
        assert_eq!(socket.message().await, json!({ "type": "pong" }));

        // Subscriptions over HTTP are refused with a code saying where they are served.
        let (status, body) = server.post(&json!({ "query": TOPIC_CHANGED, "variables": { "slug": "microneedling" } })).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str()), (400, Some("SUBSCRIPTION_NEEDS_WEBSOCKET")), "{body}");
    }
}

on_both_databases! {
    async fn sockets_and_operations_are_limited_even_in_a_burst(backend) {
        let server = TestServer::on(backend).sample()
            .env("DERMIS_WS_MAX_SOCKETS_PER_CLIENT", "3")
            .env("DERMIS_WS_MAX_OPERATIONS", "2")
            .start().await;
        // Ten clients from one address at once: three get a socket, the others a coded 429.
        let attempts = futures_util::future::join_all((0..10).map(|_| server.open_socket(&["graphql-transport-ws"]))).await;
        let mut open = Vec::new();
        for attempt in attempts {
            match attempt {
                Ok(socket) => open.push(socket),
                Err((status, body)) => {
                    assert_eq!(status, 429, "{body}");
                    assert!(body.contains("TOO_MANY_SOCKETS"), "{body}");
                }
            }
        }
        assert_eq!(open.len(), 3);
        assert_eq!(server.metric("dermis_websocket_connections").await, 3.0);
        // Closing one gives its place back.
        open.pop().expect("a socket").close().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut again = loop {
            match server.open_socket(&["graphql-transport-ws"]).await {
                Ok(socket) => break socket,
                Err(_) => {
                    assert!(Instant::now() < deadline, "the closed socket's place came back");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        again.send(json!({ "type": "connection_init" })).await;
        assert_eq!(again.message().await["type"], "connection_ack");

        // Two operations per socket: the third is refused with a code; stopping one frees it.
        again.subscribe("a", TOPIC_CHANGED, json!({ "slug": "microneedling" })).await;
        again.subscribe("b", CONTENT_CHANGED, json!({})).await;
        again.subscribe("c", CONTENT_CHANGED, json!({})).await;
        let refused = again.message().await;
        assert_eq!((refused["id"].as_str(), refused["payload"][0]["extensions"]["code"].as_str()), (Some("c"), Some("TOO_MANY_OPERATIONS")), "{refused}");
        again.send(json!({ "type": "complete", "id": "a" })).await;
        again.subscribe("c", "{ __typename }", json!({})).await;
        assert_eq!(again.next_of("c").await, json!({ "data": { "__typename": "Query" } }));
    }
}

on_both_databases! {
    async fn a_credential_that_ends_closes_its_sockets_before_anything_more_is_sent(backend) {
        let a = TestServer::on(backend).sample().env("DERMIS_WS_RECHECK", "1").start().await;
        let admin = a.first_admin().await;
        let editor = a.user(&admin, "ed@example.org", "EDITOR").await;
        // On SQLite the second node is the same process's database file, as on PostgreSQL
        // another node: the socket lives on b, the credential ends on a.
        let b = a.another_node(&[("DERMIS_WS_RECHECK", "1")]).await;
        let token = a.query_as(&admin, "mutation { createApiToken(input: { name: \"Live\", scopes: [PREVIEW] }) { secret apiToken { id } } }", json!({})).await["createApiToken"].clone();
        let secret = token["secret"].as_str().expect("secret").to_owned();

        let mut by_token = b.socket(Some(&secret)).await;
        by_token.subscribe("t", TOPIC_CHANGED, json!({ "slug": "microneedling", "preview": true })).await;
        let mut by_editor = b.socket(Some(&editor.access)).await;
        by_editor.subscribe("e", TOPIC_CHANGED, json!({ "slug": "microneedling", "preview": true })).await;
        b.wait_for_live_subscribers(2).await;

        // Revoked on a, then a draft saved: the token's socket closes, and the draft that
        // followed the revocation never reaches it.
        a.query_as(&admin, "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { active } } }", json!({ "id": token["apiToken"]["id"] })).await;
        save(&a, &admin, "microneedling", json!({ "summary": "Saved after the revocation." })).await;
        match by_token.receive().await {
            Received::Closed(code, reason) => assert_eq!(code, 4403, "{reason}"),
            Received::Message(message) => panic!("sent under a revoked token: {message}"),
        }
        // The editor's socket got the draft; signing out closes it too (idle: the recheck).
        let page = by_editor.next_of("e").await;
        assert_eq!(page["data"]["topicChanged"]["version"], 2, "{page}");
        let (_, out) = a.post_as(Some(&editor.access), &json!({ "query": "mutation($t: String!) { logout(input: { refreshToken: $t }) { signedOut } }", "variables": { "t": editor.refresh } })).await;
        assert_eq!(out["data"]["logout"]["signedOut"], true, "{out}");
        assert_eq!(by_editor.closed().await.0, 4403);
    }
}

on_both_databases! {
    async fn a_subscriber_on_one_node_sees_a_publish_on_another_with_the_graphql_ws_client(backend) {
        let a = TestServer::sample(backend).await;
        let admin = a.first_admin().await;
        let b = a.another_node(&[]).await;
        let mut page = NodeSubscriber::start(&b, "subscription { topicChanged(slug: \"peels\") { slug title status } }", json!({}), None).await;
        let mut feed = NodeSubscriber::start(&b, "subscription { contentChanged(types: [TOPIC]) { type slug } }", json!({}), None).await;
        b.wait_for_live_subscribers(2).await;

        // Five topics published on a, one after the other; each reaches b's subscriber.
        let mut lags = Vec::new();
        for round in 0..5 {
            let slug = if round == 0 { "peels".to_owned() } else { format!("peels-{round}") };
            let created = a.query_as(&admin, CREATE_TOPIC, json!({ "input": { "title": format!("Peels {round}"), "slug": slug } })).await["createTopic"]["topic"].clone();
            let started = Instant::now();
            a.query_as(&admin, "mutation($input: PublishTopicInput!) { publishTopic(input: $input) { topic { status } } }", json!({ "input": { "id": created["id"], "expectedVersion": created["version"], "overrideReview": "tested without review" } })).await;
            let line = feed.line().await;
            lags.push(started.elapsed());
            assert_eq!(line, json!({ "next": { "data": { "contentChanged": { "type": "topic.published", "slug": slug } } } }));
            if round == 0 {
                assert_eq!(page.line().await, json!({ "next": { "data": { "topicChanged": { "slug": "peels", "title": "Peels 0", "status": "PUBLISHED" } } } }));
            }
        }
        lags.sort();
        let median = lags[lags.len() / 2];
        eprintln!("{backend:?}: publish on node a to receipt on node b: {lags:?}");
        // Within a second on PostgreSQL (LISTEN/NOTIFY), on the median so that one stall of
        // a loaded machine does not decide; SQLite nodes learn of each other's writes by
        // polling every 0.5 s, so they get twice as long.
        let bound = match backend {
            dermis_tests::Backend::Postgres => Duration::from_secs(1),
            dermis_tests::Backend::Sqlite => Duration::from_secs(2),
        };
        assert!(median < bound, "median lag {median:?}");
        page.stop().await;
        feed.stop().await;
    }
}

on_both_databases! {
    async fn shutdown_tells_subscribers_to_go_instead_of_waiting_for_them(backend) {
        let mut server = TestServer::on(backend).sample().env("DERMIS_SHUTDOWN_TIMEOUT", "600").start().await;
        let mut socket = server.socket(None).await;
        socket.subscribe("page", TOPIC_CHANGED, json!({ "slug": "microneedling" })).await;
        server.wait_for_live_subscribers(1).await;
        server.signal("TERM");
        let (code, reason) = socket.closed().await;
        assert_eq!((code, reason.as_str()), (1001, "the server is shutting down"));
        // Well before the 600 s the shutdown could wait for requests in flight.
        let exit = server.wait_for_exit(Duration::from_secs(120)).await;
        assert_eq!(exit, Ok(Some(0)), "{}", server.logs());
    }
}

on_both_databases! {
    async fn the_server_pings_and_drops_a_client_that_stopped_answering(backend) {
        let server = TestServer::on(backend).sample().env("DERMIS_WS_KEEPALIVE", "1").start().await;
        // A client that answers (as graphql-ws does by itself) stays connected through many
        // rounds of pings, its subscription alive.
        let mut lively = server.socket(None).await;
        lively.subscribe("feed", CONTENT_CHANGED, json!({})).await;
        let mut silent = server.socket(None).await;
        for _ in 0..5 {
            assert_eq!(lively.receive_raw().await, Received::Message(json!({ "type": "ping" })));
            lively.send(json!({ "type": "pong" })).await;
        }
        // One that says nothing is let go after three rounds.
        let mut pings = 0;
        let closed = loop {
            match silent.receive_raw().await {
                Received::Message(message) if message["type"] == "ping" => pings += 1,
                Received::Message(message) => panic!("unexpected {message}"),
                Received::Closed(code, reason) => break (code, reason),
            }
        };
        assert_eq!(closed, (1001, "no answer to pings".to_owned()));
        assert!(pings >= 2, "pinged before being dropped: {pings}");
        server.wait_for_live_subscribers(1).await;
        lively.send(json!({ "type": "ping" })).await;
        // The server's own pings may come first.
        assert_eq!(lively.receive().await, Received::Message(json!({ "type": "pong" })));
    }
}
