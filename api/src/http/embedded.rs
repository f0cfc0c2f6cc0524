//! Files embedded in the binary (the admin UI, GraphiQL), answered the same way: their
//! media type, an `ETag` (the file's SHA-256, computed at build time) with `304 Not
//! Modified` for a browser that has it, `no-cache` so a new binary's files are fetched at
//! once, and a Content-Security-Policy that allows nothing from elsewhere.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::EmbeddedFile;

/// The policy of the admin UI and GraphiQL: scripts, styles and fonts from this server
/// only (fonts and images also as `data:` URLs inside its stylesheets), requests to this
/// server only, never framed. Images may also come over `https:`: the Markdown preview shows
/// the images a body links to, as the public will see them (an image runs no script).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: https:; font-src 'self' data:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The answer for an embedded file, or `404` when there is none.
pub fn respond(req: &HttpRequest, file: Option<EmbeddedFile>) -> HttpResponse {
    let Some(file) = file else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let etag: String = file
        .metadata
        .sha256_hash()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let etag = format!("\"{etag}\"");
    let fresh = super::client_has(req, &etag);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        // For browsers that predate `frame-ancestors`.
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    if fresh {
        response.finish()
    } else {
        response
            .content_type(file.metadata.mimetype())
            .body(file.data.into_owned())
    }
}
