//! CORS with `actix-cors`, from `DERMIS_CORS_ORIGINS`.
//!
//! No origin is allowed by default: browsers on other sites cannot read answers until an
//! operator names them. Same-origin use (the admin UI) needs no CORS. Credentials are bearer
//! tokens, never cookies, so `*` is safe for a public read API. A request from an origin
//! that is not allowed is still served, without CORS headers: the browser then withholds
//! the answer, and non-browser clients are not affected.

use actix_cors::Cors;
use actix_web::http::{Method, header};

use crate::config::CorsOrigins;

/// The CORS middleware for `origins`.
pub fn cors(origins: &CorsOrigins) -> Cors {
    let cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST])
        .allow_any_header()
        .expose_headers([
            header::RETRY_AFTER,
            header::ETAG,
            super::observe::REQUEST_ID,
        ])
        .max_age(3600)
        .block_on_origin_mismatch(false);
    match origins {
        CorsOrigins::Any => cors.allow_any_origin().send_wildcard(),
        CorsOrigins::List(list) => list
            .iter()
            .fold(cors, |cors, origin| cors.allowed_origin(origin)),
    }
}
