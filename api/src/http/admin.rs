//! The admin UI, embedded in the binary at build time from `admin-ui/`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use rust_embed::RustEmbed;

/// The files of `admin-ui/`.
#[derive(RustEmbed)]
#[folder = "../admin-ui/"]
struct Assets;

/// `GET /admin`: the UI lives under `/admin/`.
pub async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/admin/"))
        .finish()
}

/// `GET /admin/{path}`: an embedded file; the UI's entry page for `/admin/`.
pub async fn asset(path: web::Path<String>) -> HttpResponse {
    let path = match path.as_str() {
        "" => "index.html",
        other => other,
    };
    let Some(file) = Assets::get(path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    HttpResponse::Ok()
        .content_type(file.metadata.mimetype())
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ))
        // For browsers that predate `frame-ancestors`.
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(file.data.into_owned())
}
