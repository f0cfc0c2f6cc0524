//! What a GraphQL-over-HTTP request is sent as and asks to receive.

use actix_web::HttpRequest;
use actix_web::http::header;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const APPLICATION_JSON: &str = "application/json";

/// The media type the response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `application/graphql-response+json`: status codes carry meaning.
    GraphqlResponse,
    /// `application/json`: legacy clients, always `200` for well-formed requests.
    Json,
}

impl ResponseType {
    /// The `Content-Type` of the response.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response type from `Accept`; `None` when the client accepts neither.
pub fn negotiate(req: &HttpRequest) -> Option<ResponseType> {
    let Some(accept) = req.headers().get(header::ACCEPT) else {
        return Some(ResponseType::Json);
    };
    let Ok(accept) = accept.to_str() else {
        return None;
    };
    if accept.trim().is_empty() {
        return Some(ResponseType::Json);
    }
    let mut best: Option<(f32, ResponseType)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality <= 0.0 {
            continue;
        }
        let candidate = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => ResponseType::GraphqlResponse,
            APPLICATION_JSON | "application/*" | "*/*" => ResponseType::Json,
            _ => continue,
        };
        let better = match best {
            None => true,
            Some((q, kind)) => {
                quality > q
                    || (quality == q
                        && kind == ResponseType::Json
                        && candidate == ResponseType::GraphqlResponse)
            }
        };
        if better {
            best = Some((quality, candidate));
        }
    }
    best.map(|(_, kind)| kind)
}

/// Whether the body is declared `application/json` (UTF-8, the only charset allowed).
pub fn is_json_content_type(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(APPLICATION_JSON) {
        return false;
    }
    parts.all(|param| {
        let mut kv = param.splitn(2, '=');
        let key = kv.next().unwrap_or("").trim();
        let value = kv.next().unwrap_or("").trim().trim_matches('"');
        !key.eq_ignore_ascii_case("charset") || value.eq_ignore_ascii_case("utf-8")
    })
}

/// Whether a browser asks for a page (GraphiQL), not a GraphQL answer.
pub fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}
