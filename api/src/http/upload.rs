//! GraphQL multipart requests (the "GraphQL multipart request spec" that Apollo's and
//! urql's upload links speak): `operations` (the JSON request), `map` (which variable each
//! file goes to) and the files, read by async-graphql's parser into temporary files, so a
//! large upload costs disk, not memory.
//!
//! Only a caller who may write content gets this far: the body of an anonymous multipart
//! request is never read.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use async_graphql::http::{MultipartOptions, receive_body};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::refusal::Refusal;
use crate::graphql::executor::{GraphqlRequest, Uploads};

/// Most files one request may carry.
const MAX_FILES: usize = 10;

/// Whether the request is declared `multipart/form-data`.
pub fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// Reads a multipart request; each file at most `max_file_bytes`.
pub async fn read(
    req: &HttpRequest,
    mut payload: web::Payload,
    max_file_bytes: usize,
) -> Result<GraphqlRequest, Refusal> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // actix-web's payload stays on its worker thread; the parser wants a `Send` reader, so
    // the body crosses over a small channel.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<web::Bytes, std::io::Error>>(4);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(std::io::Error::other);
            let failed = chunk.is_err();
            if sender.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    })
    .into_async_read();
    let options = MultipartOptions::default()
        .max_file_size(max_file_bytes)
        .max_num_files(MAX_FILES);
    let parsed = receive_body(content_type, body, options)
        .await
        .map_err(|e| refusal(e, max_file_bytes))?;
    let query = (!parsed.query.is_empty()).then(|| Value::String(parsed.query.clone()));
    let variables = serde_json::to_value(&parsed.variables).ok();
    let extensions = serde_json::to_value(&parsed.extensions).ok();
    let mut request = super::graphql::request(
        query,
        variables,
        parsed.operation_name.clone().map(Value::String),
        extensions,
        false,
    )?;
    request.uploads = Uploads(parsed.uploads);
    Ok(request)
}

/// A parser error as the client is told it.
fn refusal(error: async_graphql::ParseRequestError, max_file_bytes: usize) -> Refusal {
    use async_graphql::ParseRequestError as E;
    match error {
        E::PayloadTooLarge => Refusal::TooLarge(max_file_bytes),
        E::InvalidMultipart(e) if e.to_string().contains("exceeded") => {
            Refusal::TooLarge(max_file_bytes)
        }
        E::MissingOperatorsPart => Refusal::BadRequest("the `operations` part is missing".into()),
        E::MissingMapPart => Refusal::BadRequest("the `map` part is missing".into()),
        E::MissingFiles => {
            Refusal::BadRequest("`map` names files that the request does not carry".into())
        }
        E::UnsupportedBatch => Refusal::Batching,
        other => Refusal::BadRequest(format!("the multipart request is malformed: {other}").into()),
    }
}
