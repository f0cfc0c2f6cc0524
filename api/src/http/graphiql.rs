//! GraphiQL, served from the binary: upstream's pinned production builds of GraphiQL and
//! React (`api/assets/graphiql/`, refreshed by `api/assets/graphiql-npm/update`, checked
//! against `SHA256SUMS` by a test), so it works on a network without the internet and
//! trusts no third party, under the same Content-Security-Policy as the admin UI.

use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

use super::{AppState, embedded};

/// The files of `api/assets/graphiql/`.
#[derive(RustEmbed)]
#[folder = "assets/graphiql/"]
struct Assets;

/// The GraphiQL page (for `GET /graphql` from a browser).
pub fn page(req: &HttpRequest) -> HttpResponse {
    embedded::respond(req, Assets::get("index.html"))
}

/// `GET /graphiql/{file}`: its scripts and styles (none when GraphiQL is switched off).
pub async fn asset(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let file = state.graphiql.then(|| Assets::get(path.as_str())).flatten();
    embedded::respond(&req, file)
}
