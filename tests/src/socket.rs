//! A raw `graphql-transport-ws` client for the protocol's edges (what the official client
//! never sends); the official `graphql-ws` client from npm runs through [`node_client`].

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error, Message};

use crate::TestServer;
use crate::node::{NodeProcess, node_clients};

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for a message that must come (a generous bound on a busy machine:
/// a missing message fails the test instead of hanging it).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// What the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// A protocol message.
    Message(Value),
    /// The socket closed with this code and reason.
    Closed(u16, String),
}

/// A WebSocket to `/graphql`.
pub struct GraphqlSocket {
    stream: Stream,
    /// Messages read while waiting for another operation's.
    pending: std::collections::VecDeque<Value>,
}

impl TestServer {
    /// The server's WebSocket URL for `/graphql`.
    pub fn ws_url(&self) -> String {
        format!("{}/graphql", self.base.replacen("http://", "ws://", 1))
    }

    /// Opens a WebSocket offering `protocols` (none: no `Sec-WebSocket-Protocol`); the
    /// HTTP status and body when the server refuses the upgrade.
    pub async fn open_socket(&self, protocols: &[&str]) -> Result<GraphqlSocket, (u16, String)> {
        let mut request = self.ws_url().into_client_request().expect("ws request");
        if !protocols.is_empty() {
            let offered = HeaderValue::from_str(&protocols.join(", ")).expect("header");
            request
                .headers_mut()
                .insert("sec-websocket-protocol", offered);
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(GraphqlSocket {
                stream,
                pending: Default::default(),
            }),
            Err(Error::Http(response)) => {
                let body = response
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                Err((response.status().as_u16(), body))
            }
            Err(Error::Protocol(error)) => {
                Err((0, format!("handshake refused: {error}").to_lowercase()))
            }
            Err(error) => panic!("cannot open a WebSocket: {error}"),
        }
    }

    /// A `graphql-transport-ws` socket, acknowledged, with `token` as its credential.
    pub async fn socket(&self, token: Option<&str>) -> GraphqlSocket {
        let mut socket = self
            .open_socket(&["graphql-transport-ws"])
            .await
            .expect("the upgrade is accepted");
        let payload = token.map_or(
            json!({}),
            |t| json!({ "authorization": format!("Bearer {t}") }),
        );
        socket
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let ack = socket.receive().await;
        assert_eq!(
            ack,
            Received::Message(json!({ "type": "connection_ack" })),
            "connection_ack"
        );
        socket
    }
}

impl GraphqlSocket {
    /// Sends a JSON message.
    pub async fn send(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    /// Sends a text frame as is.
    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::text(text))
            .await
            .expect("send a message");
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.stream
            .send(Message::binary(bytes))
            .await
            .expect("send a binary message");
    }

    /// Starts operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "type": "subscribe",
            "id": id,
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }

    /// The next protocol message or the close, answering the server's pings only when
    /// `pong` is set (else a ping is returned like any message).
    async fn read(&mut self, pong: bool) -> Received {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("a message within the patience");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON message");
                    if pong && message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Received::Message(message);
                }
                Some(Ok(Message::Close(frame))) => return closed(frame),
                Some(Ok(_)) => {}
                Some(Err(Error::ConnectionClosed | Error::AlreadyClosed)) | None => {
                    return Received::Closed(1006, String::new());
                }
                Some(Err(error)) => panic!("WebSocket error: {error}"),
            }
        }
    }

    /// The next message (pings answered and skipped) or the close.
    pub async fn receive(&mut self) -> Received {
        match self.pending.pop_front() {
            Some(message) => Received::Message(message),
            None => self.read(true).await,
        }
    }

    /// The next message, pings included, unanswered.
    pub async fn receive_raw(&mut self) -> Received {
        self.read(false).await
    }

    /// The next message, which must be a protocol message (not a close).
    pub async fn message(&mut self) -> Value {
        match self.receive().await {
            Received::Message(message) => message,
            closed => panic!("expected a message, the socket closed: {closed:?}"),
        }
    }

    /// The next message for operation `id` (those of other operations are kept for later).
    pub async fn message_of(&mut self, id: &str) -> Value {
        if let Some(at) = self.pending.iter().position(|m| m["id"] == id) {
            return self.pending.remove(at).unwrap_or_default();
        }
        loop {
            match self.read(true).await {
                Received::Message(message) if message["id"] == id => return message,
                Received::Message(message) => self.pending.push_back(message),
                closed => panic!("expected a message for {id}, the socket closed: {closed:?}"),
            }
        }
    }

    /// The payload of the next message for `id`, which must be `next`.
    pub async fn next_of(&mut self, id: &str) -> Value {
        let message = self.message_of(id).await;
        assert_eq!(message["type"], "next", "{message}");
        message["payload"].clone()
    }

    /// The payload of the first `next` for `id` that `wanted` accepts, passing over those
    /// before it. `topicChanged` delivers at least once: an event committed just before a
    /// subscription can reach the feed after it and send a state the client already has;
    /// a client keeps the newest state, and a test waits for the one it expects.
    pub async fn next_of_where(&mut self, id: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let payload = self.next_of(id).await;
            if wanted(&payload) {
                return payload;
            }
        }
    }

    /// Waits for the close; its code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            if let Received::Closed(code, reason) = self.receive().await {
                return (code, reason);
            }
        }
    }

    /// Closes the socket from the client side.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

fn closed(frame: Option<CloseFrame>) -> Received {
    frame.map_or(Received::Closed(1005, String::new()), |frame| {
        Received::Closed(u16::from(frame.code), frame.reason.to_string())
    })
}

/// A subscription made with the official `graphql-ws` client in Node.js
/// (`tests/clients/subscribe.mjs`): what it received, line by line.
pub struct NodeSubscriber {
    process: NodeProcess,
}

impl NodeSubscriber {
    /// Subscribes to `query` on `server` with `token`, and waits until the client says its
    /// connection is acknowledged.
    pub async fn start(
        server: &TestServer,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> Self {
        let script = node_clients().await.join("subscribe.mjs");
        let args = [
            server.ws_url(),
            query.to_owned(),
            variables.to_string(),
            token.unwrap_or("").to_owned(),
        ];
        let mut process = NodeProcess::start(&script, &args, &[]).await;
        let first = process.line().await;
        assert_eq!(first, json!({ "ready": true }), "the client connected");
        Self { process }
    }

    /// The client's next line (a `next`, `error`, `complete` or `closed` report).
    pub async fn line(&mut self) -> Value {
        self.process.line().await
    }

    /// Stops the subscription and the client.
    pub async fn stop(self) {
        self.process.stop().await;
    }
}
