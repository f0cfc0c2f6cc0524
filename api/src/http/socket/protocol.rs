//! The messages of `graphql-transport-ws` (graphql-ws's PROTOCOL.md) and the close codes
//! the server ends a socket with.

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The WebSocket subprotocol.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// Why the server closes a socket: the protocol's codes, and two of the WebSocket's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// A message the protocol does not know or a malformed one (4400).
    BadMessage,
    /// `subscribe` before the connection was acknowledged (4401).
    Unauthorized,
    /// The credential in `connection_init` is refused, or was revoked or expired since
    /// (4403): the client may reconnect with a fresh one.
    Forbidden,
    /// The client did not offer `graphql-transport-ws` (4406).
    SubprotocolNotAcceptable,
    /// No `connection_init` in time (4408).
    InitTimeout,
    /// A second `subscribe` with the id of an active operation (4409).
    DuplicateId,
    /// A second `connection_init` (4429).
    TooManyInits,
    /// The credential could not be checked: the database cannot be reached (1013, try
    /// again later).
    TryAgainLater,
    /// The server is shutting down, or the client stopped answering pings (1001).
    GoingAway,
}

impl Close {
    /// The close code.
    pub fn code(self) -> u16 {
        match self {
            Self::BadMessage => 4400,
            Self::Unauthorized => 4401,
            Self::Forbidden => 4403,
            Self::SubprotocolNotAcceptable => 4406,
            Self::InitTimeout => 4408,
            Self::DuplicateId => 4409,
            Self::TooManyInits => 4429,
            Self::TryAgainLater => 1013,
            Self::GoingAway => 1001,
        }
    }
}

/// A message from the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Asks for a connection; the payload may carry the credential.
    ConnectionInit {
        /// Anything the client sends; `authorization` is read.
        #[serde(default)]
        payload: Option<Value>,
    },
    /// Asks for a `pong`.
    Ping {
        /// Ignored.
        #[serde(default)]
        #[allow(dead_code)]
        payload: Option<Value>,
    },
    /// The answer to the server's `ping`.
    Pong {
        /// Ignored.
        #[serde(default)]
        #[allow(dead_code)]
        payload: Option<Value>,
    },
    /// Starts an operation.
    Subscribe {
        /// The operation's id, unique among the socket's active operations.
        id: String,
        /// The GraphQL request.
        payload: Map<String, Value>,
    },
    /// Stops an operation.
    Complete {
        /// The operation's id.
        id: String,
    },
}

/// An `authorization` that is not a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("send `authorization: Bearer <token>` in connection_init's payload")]
pub struct NotBearer;

/// The bearer token in `connection_init`'s payload: `authorization` (any case) at the top
/// or under `headers`, as `Bearer <token>`; `Err` when one is there but is not a bearer
/// token.
pub fn credential(payload: Option<&Value>) -> Result<Option<String>, NotBearer> {
    let Some(Value::Object(payload)) = payload else {
        return Ok(None);
    };
    let find = |map: &Map<String, Value>| {
        map.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| value.clone())
    };
    let value = find(payload).or_else(|| match payload.get("headers") {
        Some(Value::Object(headers)) => find(headers),
        _ => None,
    });
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .map(|token| Some(token.to_owned()))
            .ok_or(NotBearer),
        Some(_) => Err(NotBearer),
    }
}

/// `connection_ack`.
pub fn ack() -> String {
    json!({ "type": "connection_ack" }).to_string()
}

/// `ping` (keep-alive) and `pong` (its answer).
pub fn ping() -> String {
    json!({ "type": "ping" }).to_string()
}

/// `pong`.
pub fn pong() -> String {
    json!({ "type": "pong" }).to_string()
}

/// `next` with a GraphQL response body (already JSON), copied as is.
pub fn next(id: &str, body: &[u8]) -> String {
    let id = Value::String(id.to_owned()).to_string();
    format!(
        "{{\"id\":{id},\"type\":\"next\",\"payload\":{}}}",
        String::from_utf8_lossy(body)
    )
}

/// `error` with the GraphQL errors of a refused operation.
pub fn error(id: &str, errors: Value) -> String {
    json!({ "id": id, "type": "error", "payload": errors }).to_string()
}

/// `error` with one error: `message` and `extensions.code`.
pub fn coded_error(id: &str, message: &str, code: &str) -> String {
    error(
        id,
        json!([{ "message": message, "extensions": { "code": code } }]),
    )
}

/// `complete`.
pub fn complete(id: &str) -> String {
    json!({ "id": id, "type": "complete" }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_is_a_bearer_token_under_authorization() {
        let read = |v: Value| credential(Some(&v));
        assert_eq!(read(json!({})), Ok(None));
        assert_eq!(
            read(json!({ "Authorization": "Bearer abc" })),
            Ok(Some("abc".into()))
        );
        assert_eq!(
            read(json!({ "headers": { "authorization": "bearer abc" } })),
            Ok(Some("abc".into()))
        );
        assert_eq!(read(json!({ "authorization": "abc" })), Err(NotBearer));
        assert_eq!(read(json!({ "authorization": 7 })), Err(NotBearer));
        assert_eq!(credential(None), Ok(None));
    }

    #[test]
    fn messages_follow_the_protocol() {
        let message: ClientMessage =
            serde_json::from_str(r#"{"type":"subscribe","id":"1","payload":{"query":"{a}"}}"#)
                .expect("subscribe");
        assert!(matches!(message, ClientMessage::Subscribe { id, .. } if id == "1"));
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"start","id":"1"}"#).is_err());
        let next: Value = serde_json::from_str(&next("a\"b", br#"{"data":{}}"#)).expect("json");
        assert_eq!(
            next,
            json!({ "id": "a\"b", "type": "next", "payload": { "data": {} } })
        );
    }
}
