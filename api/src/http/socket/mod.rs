//! GraphQL over WebSocket at `/graphql`, with the `graphql-transport-ws` protocol (what the
//! `graphql-ws` client library, Apollo Client and urql speak): subscriptions, and queries
//! and mutations answered exactly as over HTTP.
//!
//! The protocol is implemented here rather than by async-graphql's own WebSocket handler
//! because every message passes Dermis's rules: operations go through the [`Executor`]
//! (query limits, response cache, compiled reads, cache invalidation after a write, error
//! codes), sockets are counted per client and per node, operations per socket, the rate
//! limit applies to each operation, and a credential is checked again while the socket
//! lives (a revoked or expired one closes it).
//!
//! [`Executor`]: crate::graphql::executor::Executor

mod connection;
pub mod protocol;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tokio::sync::watch;

use super::AppState;
use super::client::{ClientAddr, group};
use super::negotiate::ResponseType;
use super::refusal::Refusal;
use crate::config::settings::SocketSettings;

/// The open sockets of this node: counted per client and in all, and told when the server
/// shuts down.
pub struct Sockets {
    settings: SocketSettings,
    open: Mutex<Open>,
    shutdown: watch::Sender<bool>,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// One admitted socket's place; given back when dropped.
pub struct Slot {
    sockets: Arc<Sockets>,
    client: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.sockets.open.lock() {
            open.total = open.total.saturating_sub(1);
            if let Some(client) = self.client
                && let Some(count) = open.per_client.get_mut(&client)
            {
                *count -= 1;
                if *count == 0 {
                    open.per_client.remove(&client);
                }
            }
        }
    }
}

impl Sockets {
    /// No socket open yet.
    pub fn new(settings: SocketSettings) -> Arc<Self> {
        Arc::new(Self {
            settings,
            open: Mutex::new(Open::default()),
            shutdown: watch::channel(false).0,
        })
    }

    /// A place for a socket from `client`, unless it or the node has all it may have.
    fn admit(self: &Arc<Self>, client: Option<IpAddr>) -> Result<Slot, Refusal> {
        let mut open = self.open.lock().map_err(|_| Refusal::Internal)?;
        if open.total >= self.settings.max_per_node {
            return Err(Refusal::TooManySockets(self.settings.max_per_node));
        }
        if let Some(client) = client {
            let count = open.per_client.entry(client).or_default();
            if *count >= self.settings.max_per_client {
                return Err(Refusal::TooManySockets(self.settings.max_per_client));
            }
            *count += 1;
        }
        open.total += 1;
        Ok(Slot {
            sockets: self.clone(),
            client,
        })
    }

    /// Sockets open now.
    pub fn open(&self) -> usize {
        self.open.lock().map(|open| open.total).unwrap_or(0)
    }

    /// The server is shutting down: every socket closes with `1001 Going Away` (clients
    /// reconnect, to another node).
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }
}

/// Whether `GET /graphql` asks for a WebSocket.
pub fn is_upgrade(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    ctx.head()
        .headers()
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// `GET /graphql` with `Upgrade: websocket`.
pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let client = ClientAddr::of(&req).map(group);
    let slot = match state.sockets.admit(client) {
        Ok(slot) => slot,
        Err(refusal) => return refusal.respond(ResponseType::Json, None),
    };
    let (response, session, messages) =
        match actix_ws::handle_with_protocols(&req, body, &[protocol::PROTOCOL]) {
            Ok(handled) => handled,
            Err(error) => return error.error_response(),
        };
    let offered = response
        .headers()
        .contains_key(header::SEC_WEBSOCKET_PROTOCOL);
    let max = state.max_body_bytes;
    let messages = messages
        .max_frame_size(max)
        .aggregate_continuations()
        .max_continuation_size(max);
    let shutdown = state.sockets.shutdown.subscribe();
    let settings = state.sockets.settings.clone();
    actix_web::rt::spawn(
        connection::Connection::new(state.into_inner(), session, client, settings, shutdown)
            .run(messages, offered, slot),
    );
    response
}
