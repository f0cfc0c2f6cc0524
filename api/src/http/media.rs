//! `GET /media/{hash}.{ext}`: the media library's bytes, named by their SHA-256 so they
//! never change at an address: `ETag` (the hash), `Cache-Control: immutable` for public
//! items, `304` on `If-None-Match`, and single byte ranges (`206`, `416`) for video-style
//! seeking and resumed downloads.
//!
//! Who gets them: anyone while published content uses the item; otherwise only a request
//! whose address the API signed for a signed-in user (`Media.url`). Anything else is `404`,
//! as for an address that never existed.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::TryStreamExt;

use super::AppState;
use crate::content::media as library;
use crate::media::MediaObject;

/// How long browsers and CDNs keep a public item: a year (its address changes with its
/// bytes).
const PUBLIC_CACHE: &str = "public, max-age=31536000, immutable";
/// A signed address is for its signed-in user only, and for no longer than it is valid.
const PRIVATE_CACHE: &str = "private, max-age=3600";
/// Served files run nothing and load nothing (a PDF viewer gets a sandbox).
const MEDIA_CSP: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body("not found")
}

fn unavailable() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::RETRY_AFTER, "1"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body("the media library cannot be reached; try again shortly")
}

/// The signature of the request's address, when it has one that holds for `name`.
fn signed(req: &HttpRequest, state: &AppState, name: &str) -> bool {
    let Ok(query) = web::Query::<Vec<(String, String)>>::from_query(req.query_string()) else {
        return false;
    };
    let param = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    match (
        param("expires").and_then(|e| e.parse().ok()),
        param("signature"),
    ) {
        (Some(expires), Some(signature)) => state.auth.media_link_valid(name, expires, signature),
        _ => false,
    }
}

/// The single byte range asked for, when it should be honoured: `Ok(None)` for the whole
/// file (no `Range`, several ranges, a malformed one, or an `If-Range` that is not this
/// file), `Err(())` when it lies outside the file (`416`).
fn wanted_range(
    req: &HttpRequest,
    etag: &str,
    size: u64,
) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(range) = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    if let Some(if_range) = req.headers().get(header::IF_RANGE)
        && if_range.to_str().ok() != Some(etag)
    {
        return Ok(None);
    }
    let Ok(parsed) = http_range_header::parse_range_header(range) else {
        return Ok(None);
    };
    match parsed.validate(size) {
        Ok(ranges) => match ranges.as_slice() {
            [one] if size > 0 => Ok(Some(*one.start()..one.end() + 1)),
            _ => Ok(None),
        },
        Err(_) => Err(()),
    }
}

/// `GET` and `HEAD /media/{hash}.{ext}`: an original.
pub async fn original(
    req: HttpRequest,
    file: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    match MediaObject::parse(&file) {
        Some(object) => serve(&req, &state, object).await,
        None => not_found(),
    }
}

/// `GET` and `HEAD /media/{hash}/{width}.webp`: a responsive variant.
pub async fn variant(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (hash, file) = path.into_inner();
    match MediaObject::parse(&format!("{hash}/{file}")) {
        Some(object) => serve(&req, &state, object).await,
        None => not_found(),
    }
}

/// Serves `object` to whom may have it.
async fn serve(req: &HttpRequest, state: &AppState, object: MediaObject) -> HttpResponse {
    let MediaObject {
        hash,
        name,
        tag,
        mime,
    } = object;
    let name = name.as_str();
    let cache = if signed(req, state, name) {
        PRIVATE_CACHE
    } else {
        match library::is_public(&state.db, &hash).await {
            Ok(true) => PUBLIC_CACHE,
            Ok(false) => return not_found(),
            Err(_) => return unavailable(),
        }
    };
    let etag = format!("\"{tag}\"");
    let headers = |mut response: actix_web::HttpResponseBuilder| {
        response
            .insert_header((header::ETAG, etag.clone()))
            .insert_header((header::CACHE_CONTROL, cache))
            .insert_header((header::ACCEPT_RANGES, "bytes"))
            .insert_header((header::CONTENT_SECURITY_POLICY, MEDIA_CSP))
            // Already compressed (or a PDF): the compression middleware leaves it alone,
            // so lengths and ranges stay those of the stored bytes.
            .insert_header((header::CONTENT_ENCODING, "identity"));
        response
    };
    if super::client_has(req, &etag) {
        return headers(HttpResponse::NotModified()).finish();
    }
    let size = match state.media.store.size(name).await {
        Ok(Some(size)) => size,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, object = %name, "a media file could not be read");
            return unavailable();
        }
    };
    let range = match wanted_range(req, &etag, size) {
        Ok(range) => range,
        Err(()) => {
            return headers(HttpResponse::build(StatusCode::RANGE_NOT_SATISFIABLE))
                .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                .finish();
        }
    };
    let fetched = match state.media.store.get(name, range.clone()).await {
        Ok(Some(fetched)) => fetched,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, object = %name, "a media file could not be read");
            return unavailable();
        }
    };
    let length = fetched.range.end - fetched.range.start;
    let mut response = if range.is_some() {
        let mut partial = headers(HttpResponse::PartialContent());
        partial.insert_header((
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{}",
                fetched.range.start,
                fetched.range.end.saturating_sub(1),
                fetched.size
            ),
        ));
        partial
    } else {
        headers(HttpResponse::Ok())
    };
    response.content_type(mime).no_chunking(length).streaming(
        fetched
            .body
            .map_err(actix_web::error::ErrorServiceUnavailable),
    )
}
