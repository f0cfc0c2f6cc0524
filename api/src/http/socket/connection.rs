//! One socket's life: `connection_init` and its credential, operations started and stopped
//! by the client, their answers sent back, keep-alive, and the credential checked again
//! until the socket closes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use actix_web::rt::task::JoinHandle;
use actix_web::web::Bytes;
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use futures_util::StreamExt as _;
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, watch};

use super::Slot;
use super::protocol::{self, ClientMessage, Close};
use crate::auth::Viewer;
use crate::config::settings::SocketSettings;
use crate::errors::ApiError;
use crate::graphql::executor::Streamed;
use crate::http::AppState;

/// Answers waiting for the socket, from all its operations.
const QUEUE: usize = 64;

/// What an operation's task hands the socket.
struct Out {
    id: String,
    generation: u64,
    frame: Frame,
    /// When it was produced: content goes out only under a credential checked since.
    at: Instant,
}

enum Frame {
    /// A response body.
    Next(Bytes),
    /// The operation was refused: these GraphQL errors.
    Errors(Value),
    /// The operation ended.
    Complete,
}

/// A running operation.
struct Operation {
    /// Tells it from an earlier operation with the same id (ids may be reused).
    generation: u64,
    task: JoinHandle<()>,
}

/// One socket.
pub struct Connection {
    state: Arc<AppState>,
    session: Session,
    client: Option<IpAddr>,
    settings: SocketSettings,
    shutdown: watch::Receiver<bool>,
    /// Set by `connection_init`.
    viewer: Option<Viewer>,
    /// The bearer token `connection_init` carried, checked again while the socket lives.
    credential: Option<String>,
    checked_at: Instant,
    operations: HashMap<String, Operation>,
    generation: u64,
    sender: mpsc::Sender<Out>,
    receiver: mpsc::Receiver<Out>,
    heard_at: Instant,
}

/// Go on serving, or end the socket (with a close frame, or none when the client is gone).
type Step = Result<(), Ended>;

/// How a socket ends: the close frame to send, if any.
type Ended = Option<CloseReason>;

/// A close frame: the code, and a reason within the 123 bytes a close frame has room for.
fn close(why: Close, reason: &str) -> Ended {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Some(CloseReason {
        code: CloseCode::Other(why.code()),
        description: Some(reason[..end].to_owned()),
    })
}

/// The `errors` of a response body.
fn errors_of(body: &[u8]) -> Value {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|mut body| body.get_mut("errors").map(Value::take))
        .unwrap_or_else(|| json!([{ "message": "the operation failed" }]))
}

impl Connection {
    /// A socket from `client`, not yet initialised.
    pub fn new(
        state: Arc<AppState>,
        session: Session,
        client: Option<IpAddr>,
        settings: SocketSettings,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        Self {
            state,
            session,
            client,
            settings,
            shutdown,
            viewer: None,
            credential: None,
            checked_at: Instant::now(),
            operations: HashMap::new(),
            generation: 0,
            sender,
            receiver,
            heard_at: Instant::now(),
        }
    }

    /// Serves the socket until either side closes it; then stops its operations and gives
    /// its place back.
    pub async fn run(mut self, mut messages: AggregatedMessageStream, offered: bool, slot: Slot) {
        let reason = if offered {
            self.serve(&mut messages).await.err().flatten()
        } else {
            close(
                Close::SubprotocolNotAcceptable,
                "Subprotocol not acceptable",
            )
        };
        for operation in self.operations.values() {
            operation.task.abort();
        }
        let _ = self.session.close(reason).await;
        drop(slot);
    }

    /// The socket's loop, until it ends.
    async fn serve(&mut self, messages: &mut AggregatedMessageStream) -> Step {
        let init_deadline = tokio::time::sleep(self.settings.init_timeout);
        tokio::pin!(init_deadline);
        let mut keepalive = tokio::time::interval(self.settings.keepalive);
        keepalive.tick().await;
        let mut recheck = tokio::time::interval(self.settings.recheck);
        recheck.tick().await;
        if *self.shutdown.borrow() {
            return Err(close(Close::GoingAway, "the server is shutting down"));
        }
        loop {
            tokio::select! {
                message = messages.recv() => {
                    let message = match message {
                        None => return Err(None),
                        Some(Ok(message)) => message,
                        Some(Err(error)) => {
                            return Err(close(Close::BadMessage, &format!("invalid frame: {error}")));
                        }
                    };
                    self.heard_at = Instant::now();
                    match message {
                        AggregatedMessage::Text(text) => self.on_text(&text).await?,
                        AggregatedMessage::Binary(_) => {
                            return Err(close(
                                Close::BadMessage,
                                "binary messages are not part of graphql-transport-ws",
                            ));
                        }
                        AggregatedMessage::Ping(bytes) => {
                            self.session.pong(&bytes).await.map_err(|_| None)?;
                        }
                        AggregatedMessage::Pong(_) => {}
                        // The client's own close frame is answered with the same code.
                        AggregatedMessage::Close(reason) => return Err(reason),
                    }
                }
                Some(out) = self.receiver.recv() => self.on_out(out).await?,
                () = &mut init_deadline, if self.viewer.is_none() => {
                    return Err(close(Close::InitTimeout, "Connection initialisation timeout"));
                }
                _ = keepalive.tick() => {
                    if self.heard_at.elapsed() > self.settings.keepalive * 3 {
                        return Err(close(Close::GoingAway, "no answer to pings"));
                    }
                    if self.viewer.is_some() {
                        self.send(protocol::ping()).await?;
                    }
                }
                _ = recheck.tick(), if self.credential.is_some() => self.check_credential().await?,
                _ = self.shutdown.changed() => {
                    return Err(close(Close::GoingAway, "the server is shutting down"));
                }
            }
        }
    }

    /// Sends `text`; ends the socket when the client has gone.
    async fn send(&mut self, text: String) -> Step {
        self.session.text(text).await.map_err(|_| None)
    }

    /// A message from the client.
    async fn on_text(&mut self, text: &str) -> Step {
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(message) => message,
            Err(error) => {
                return Err(close(
                    Close::BadMessage,
                    &format!("invalid message: {error}"),
                ));
            }
        };
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload).await,
            ClientMessage::Ping { .. } => self.send(protocol::pong()).await,
            ClientMessage::Pong { .. } => Ok(()),
            ClientMessage::Subscribe { id, payload } => {
                if self.viewer.is_none() {
                    return Err(close(Close::Unauthorized, "Unauthorized"));
                }
                if self.operations.contains_key(&id) {
                    let reason = format!("Subscriber for {id} already exists");
                    return Err(close(Close::DuplicateId, &reason));
                }
                self.subscribe(id, payload).await
            }
            ClientMessage::Complete { id } => {
                if let Some(operation) = self.operations.remove(&id) {
                    operation.task.abort();
                }
                Ok(())
            }
        }
    }

    /// `connection_init`: the credential, if any, must be valid now.
    async fn init(&mut self, payload: Option<Value>) -> Step {
        if self.viewer.is_some() {
            return Err(close(
                Close::TooManyInits,
                "Too many initialisation requests",
            ));
        }
        let token = match protocol::credential(payload.as_ref()) {
            Ok(token) => token,
            Err(error) => return Err(close(Close::Forbidden, &format!("Forbidden: {error}"))),
        };
        let viewer = match &token {
            None => Viewer::Anonymous,
            Some(token) => match self.state.auth.authenticate(&self.state.db, token).await {
                Ok(viewer) => viewer,
                Err(error) => return Err(refused_credential(&error)),
            },
        };
        self.viewer = Some(viewer);
        self.credential = token;
        self.checked_at = Instant::now();
        self.send(protocol::ack()).await
    }

    /// Checks the credential again; ends the socket if it no longer holds.
    async fn check_credential(&mut self) -> Step {
        let Some(token) = self.credential.as_ref() else {
            return Ok(());
        };
        match self.state.auth.authenticate(&self.state.db, token).await {
            Ok(_) => {
                self.checked_at = Instant::now();
                Ok(())
            }
            Err(error @ ApiError::Unauthenticated(_)) => Err(refused_credential(&error)),
            // Cannot tell now (the database is away): it held at the last check.
            Err(error) => {
                tracing::debug!(%error, "cannot check a socket's credential again");
                Ok(())
            }
        }
    }

    /// `subscribe`: starts the operation, unless the socket or client is over its limits.
    async fn subscribe(&mut self, id: String, mut payload: Map<String, Value>) -> Step {
        if self.operations.len() >= self.settings.max_operations {
            let message = format!(
                "at most {} operations at once on one connection",
                self.settings.max_operations
            );
            return self
                .send(protocol::coded_error(&id, &message, "TOO_MANY_OPERATIONS"))
                .await;
        }
        if let (Some(limiter), Some(client)) = (&self.state.rate_limiter, self.client)
            && let Err(wait) = limiter.check(client)
        {
            let retry_after = wait.as_millis().div_ceil(1000).max(1);
            let error = json!([{
                "message": format!("too many requests from this address: retry in {retry_after} s"),
                "extensions": { "code": "RATE_LIMITED", "retryAfter": retry_after },
            }]);
            return self.send(protocol::error(&id, error)).await;
        }
        let request = crate::http::graphql::request(
            payload.remove("query"),
            payload.remove("variables"),
            payload.remove("operationName"),
            payload.remove("extensions"),
            false,
        );
        let request = match request {
            Ok(request) => request,
            Err(refusal) => {
                let error = protocol::coded_error(&id, &refusal.to_string(), refusal.code());
                return self.send(error).await;
            }
        };
        self.generation += 1;
        let generation = self.generation;
        let state = self.state.clone();
        let sender = self.sender.clone();
        let viewer = self.viewer.unwrap_or(Viewer::Anonymous);
        let client = self.client;
        let task_id = id.clone();
        let task = actix_web::rt::spawn(async move {
            let send = |frame| {
                sender.send(Out {
                    id: task_id.clone(),
                    generation,
                    frame,
                    at: Instant::now(),
                })
            };
            match state.executor.stream(request, viewer, client).await {
                Err(refused) => {
                    let errors = json!([{
                        "message": refused.to_string(),
                        "extensions": { "code": refused.code() },
                    }]);
                    let _ = send(Frame::Errors(errors)).await;
                }
                Ok(Streamed::Single(answer)) if !answer.has_data => {
                    let _ = send(Frame::Errors(errors_of(&answer.body))).await;
                }
                Ok(Streamed::Single(answer)) => {
                    if send(Frame::Next(answer.body)).await.is_ok() {
                        let _ = send(Frame::Complete).await;
                    }
                }
                Ok(Streamed::Stream(mut answers)) => {
                    while let Some(answer) = answers.next().await {
                        if answer.refused {
                            let _ = send(Frame::Errors(errors_of(&answer.body))).await;
                            return;
                        }
                        if send(Frame::Next(answer.body)).await.is_err() {
                            return;
                        }
                    }
                    let _ = send(Frame::Complete).await;
                }
            }
        });
        self.operations.insert(id, Operation { generation, task });
        Ok(())
    }

    /// An operation's answer: sent unless the client stopped the operation meanwhile, and
    /// content only under a credential that still holds.
    async fn on_out(&mut self, out: Out) -> Step {
        let current = self
            .operations
            .get(&out.id)
            .is_some_and(|operation| operation.generation == out.generation);
        if !current {
            return Ok(());
        }
        let text = match out.frame {
            Frame::Next(body) => {
                // A credential revoked before this was produced is caught here; answers
                // produced together share one check.
                if self.checked_at < out.at {
                    self.check_credential().await?;
                }
                protocol::next(&out.id, &body)
            }
            Frame::Errors(errors) => {
                self.operations.remove(&out.id);
                protocol::error(&out.id, errors)
            }
            Frame::Complete => {
                self.operations.remove(&out.id);
                protocol::complete(&out.id)
            }
        };
        self.send(text).await
    }
}

/// The close frame for a credential refused at `connection_init` or since.
fn refused_credential(error: &ApiError) -> Ended {
    match error {
        ApiError::Unauthenticated(message) => {
            close(Close::Forbidden, &format!("Forbidden: {message}"))
        }
        ApiError::Unavailable(_) => close(
            Close::TryAgainLater,
            "the server cannot reach its database; try again shortly",
        ),
        error => {
            tracing::error!(%error, "cannot check a socket's credential");
            Some(CloseReason {
                code: CloseCode::Error,
                description: Some("Internal server error".into()),
            })
        }
    }
}
