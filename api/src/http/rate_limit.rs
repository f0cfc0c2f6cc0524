//! Per-client rate limiting for the whole API, with `governor` (GCRA, in memory).
//!
//! Each client address (an IPv6 client by its /64, which one subscriber usually owns) may
//! send `DERMIS_RATE_LIMIT_PER_SECOND` requests per second on average and
//! `DERMIS_RATE_LIMIT_BURST` at once. Over it, the answer is `429` with `Retry-After` and a
//! GraphQL error `RATE_LIMITED` carrying `extensions.retryAfter`. Health probes and
//! `/metrics` are exempt. The state is per node: behind a load balancer with N nodes a
//! client gets up to N times the rate (the login throttle, which must be exact, lives in
//! the database instead).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde_json::json;

use super::AppState;
use super::client::{ClientAddr, group};
use super::observe::OperationInfo;
use crate::metrics::Outcome;

/// Paths that are never limited: load balancers and Prometheus poll them.
const EXEMPT: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// How often (in checks) idle clients are dropped from memory.
const PRUNE_EVERY: u64 = 4096;

/// The limiter shared by every worker.
pub struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// A limiter allowing `per_second` on average and `burst` at once per client.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(
                Quota::per_second(per_second).allow_burst(burst),
            ),
            checks: AtomicU64::new(0),
        }
    }

    /// `Ok` when `client` may go on, else how long it should wait.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&group(client))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// The middleware: refuses a client over its rate before any other work.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limiter = req
        .app_data::<web::Data<AppState>>()
        .and_then(|state| state.rate_limiter.clone());
    let client = req.extensions().get::<ClientAddr>().map(|c| c.0);
    if let (Some(limiter), Some(client)) = (limiter, client)
        && !EXEMPT.contains(&req.path())
        && let Err(wait) = limiter.check(client)
    {
        let retry_after = wait.as_millis().div_ceil(1000).max(1);
        let mut response = HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, retry_after.to_string()))
            .content_type("application/json; charset=utf-8")
            .json(json!({ "errors": [{
                "message": format!("too many requests from this address: retry in {retry_after} s"),
                "extensions": { "code": "RATE_LIMITED", "retryAfter": retry_after },
            }] }));
        if req.path() == "/graphql" {
            response.extensions_mut().insert(OperationInfo {
                name: None,
                outcome: Outcome::RateLimited,
            });
        }
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_client_waits() {
        let one = NonZeroU32::MIN;
        let three = NonZeroU32::new(3).expect("non-zero");
        let limiter = RateLimiter::new(one, three);
        let client: IpAddr = "192.0.2.7".parse().expect("ip");
        for _ in 0..3 {
            assert!(limiter.check(client).is_ok());
        }
        let wait = limiter.check(client).expect_err("over the burst");
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(limiter.check("192.0.2.8".parse().expect("ip")).is_ok());
    }
}
