//! Who the client is: the peer address, or, behind trusted proxies, the address they
//! report in `X-Forwarded-For`.

use std::net::IpAddr;

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;
use actix_web::{HttpMessage, HttpRequest};
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed (`DERMIS_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// The proxies in `networks` (see [`crate::config::settings::parse_networks`]).
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    /// Parses a comma-separated list of addresses and CIDR ranges (`10.0.0.0/8, ::1`).
    pub fn parse(list: &str) -> Result<Self, String> {
        crate::config::settings::parse_networks(list).map(Self)
    }

    fn trusts(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The client of a request from `peer`: the peer itself unless it is a trusted proxy;
    /// then the right-most address in `X-Forwarded-For` that is not a trusted proxy (the
    /// left-most one when all are). Entries a client could forge in front of the proxies'
    /// own are never reached.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|entry| entry.trim().parse::<IpAddr>())
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        forwarded
            .iter()
            .rev()
            .find(|addr| !self.trusts(**addr))
            .or(forwarded.first())
            .copied()
            .unwrap_or(peer)
    }
}

/// The address a client is counted under by the rate limit and the login throttle: IPv4
/// as is, IPv6 by its /64 prefix (which one subscriber usually owns, and can change the
/// rest of at will); an IPv4-mapped IPv6 address as the IPv4 address.
pub fn group(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::from(segments)
            }
        },
    }
}

/// The client address of a request, as resolved by the request middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// Resolves and stores the client of `req`.
    pub fn resolve(req: &ServiceRequest, proxies: &TrustedProxies) -> Self {
        let peer = req
            .peer_addr()
            .map_or(IpAddr::from([127, 0, 0, 1]), |addr| addr.ip());
        Self(proxies.client(peer, req.headers()))
    }

    /// The client stored for `req`, or its peer address.
    pub fn of(req: &HttpRequest) -> Option<IpAddr> {
        req.extensions()
            .get::<ClientAddr>()
            .map(|client| client.0)
            .or_else(|| req.peer_addr().map(|addr| addr.ip()))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_str(xff).expect("header"),
        );
        map
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").expect("valid");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // An untrusted peer's header is ignored.
        assert_eq!(
            proxies.client(ip("203.0.113.9"), &headers("1.2.3.4")),
            ip("203.0.113.9")
        );
        // Behind two trusted proxies, the right-most untrusted entry is the client; a
        // forged entry in front of it is not reached.
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &headers("6.6.6.6, 198.51.100.7, 10.1.2.3")),
            ip("198.51.100.7")
        );
        // Garbage in the header: fall back to the peer.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &headers("not an address")),
            ip("10.0.0.1")
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(group(a), group(b));
        assert_ne!(group(a), group(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert_eq!(group(mapped), "192.0.2.1".parse::<IpAddr>().expect("ip"));
    }
}
