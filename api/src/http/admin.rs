//! The admin UI, embedded in the binary at build time from `admin-ui/`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

use super::embedded;

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
pub async fn asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let path = match path.as_str() {
        "" => "index.html",
        other => other,
    };
    embedded::respond(&req, Assets::get(path))
}
