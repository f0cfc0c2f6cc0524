//! Ending a session ends its access tokens at once, on every node: logout, reuse of a
//! rotated refresh token, `changePassword`, `resetPassword` and `deactivateUser`. Each is
//! tried while other clients keep using the token on another node: no request sent after
//! the ending was answered may still get through.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use dermis_tests::{AUTH_FIELDS, PASSWORD, Session, TestServer, on_both_databases};
use futures_util::future::join_all;
use serde_json::json;

const ME: &str = "{ me { email } }";

/// The status of `{ me }` with `token` on `node`.
async fn me(node: &TestServer, token: &str) -> u16 {
    node.post_as(Some(token), &json!({ "query": ME })).await.0
}

/// Runs `end` while four clients keep sending `token` to `node`, and checks: before, the
/// token worked; every request sent after `end` finished is refused with `401`.
pub(crate) async fn ends_at_once(node: &TestServer, token: &str, end: impl Future<Output = ()>) {
    let log: Arc<Mutex<Vec<(Instant, u16)>>> = Arc::default();
    let ended: Arc<Mutex<Option<Instant>>> = Arc::default();
    let after = |log: &[(Instant, u16)], ended: Option<Instant>| {
        ended.map_or(0, |at| log.iter().filter(|(sent, _)| *sent > at).count())
    };
    // Each answer wakes the ending, which waits for the token to prove itself first.
    let answered = Arc::new(tokio::sync::Notify::new());
    let clients = join_all((0..4).map(|_| {
        let (log, ended, answered) = (log.clone(), ended.clone(), answered.clone());
        async move {
            loop {
                let done = {
                    let log = log.lock().expect("log");
                    after(&log, *ended.lock().expect("ended")) >= 40
                };
                if done {
                    break;
                }
                let sent = Instant::now();
                let status = me(node, token).await;
                log.lock().expect("log").push((sent, status));
                answered.notify_one();
            }
        }
    }));
    let ending = async {
        while log
            .lock()
            .expect("log")
            .iter()
            .filter(|(_, s)| *s == 200)
            .count()
            < 8
        {
            answered.notified().await;
        }
        end.await;
        *ended.lock().expect("ended") = Some(Instant::now());
    };
    tokio::join!(clients, ending);
    let ended = ended.lock().expect("ended").expect("ended");
    let log = log.lock().expect("log");
    let late: Vec<u16> = log
        .iter()
        .filter(|(sent, _)| *sent > ended)
        .map(|(_, s)| *s)
        .collect();
    assert!(late.len() >= 40);
    assert!(
        late.iter().all(|status| *status == 401),
        "sent after the ending: {late:?}"
    );
}

fn logout_body(refresh: &str) -> serde_json::Value {
    json!({ "query": "mutation($t: String!) { logout(input: { refreshToken: $t }) { signedOut } }", "variables": { "t": refresh } })
}

fn refresh_body(refresh: &str) -> serde_json::Value {
    json!({
        "query": format!("mutation($t: String!) {{ refreshSession(input: {{ refreshToken: $t }}) {{ {AUTH_FIELDS} }} }}"),
        "variables": { "t": refresh },
    })
}

on_both_databases! {
    async fn ending_a_session_ends_its_access_tokens_at_once_on_every_node(backend) {
        // Hundreds of requests from one address: no rate limit in the way.
        let unlimited = ("DERMIS_RATE_LIMIT_PER_SECOND", "0");
        let no_reuse = ("DERMIS_REFRESH_REUSE_INTERVAL", "0");
        let a = TestServer::on(backend).env(unlimited.0, unlimited.1).env(no_reuse.0, no_reuse.1).start().await;
        let admin = a.first_admin().await;
        a.user(&admin, "ed@example.org", "EDITOR").await;
        let b = a.another_node(&[unlimited, no_reuse]).await;
        let laptop = a.login("ed@example.org", PASSWORD).await;
        let phone = b.login("ed@example.org", PASSWORD).await;

        // Logout on node A ends the laptop's session; node B refuses its token at once.
        ends_at_once(&b, &laptop.access, async {
            let (status, body) = a.post_as(Some(&laptop.access), &logout_body(&laptop.refresh)).await;
            assert_eq!(status, 200, "{body}");
        })
        .await;
        assert_eq!(me(&a, &laptop.access).await, 401);
        // The phone's session is another one: it goes on, on both nodes.
        assert_eq!((me(&a, &phone.access).await, me(&b, &phone.access).await), (200, 200));

        // A rotated refresh token presented again (stolen) ends that session and the access
        // token issued with the rotation.
        let (_, rotated) = b.post(&refresh_body(&phone.refresh)).await;
        let rotated = Session::from_payload(&rotated["data"]["refreshSession"]);
        ends_at_once(&a, &rotated.access, async {
            let (_, replay) = b.post(&refresh_body(&phone.refresh)).await;
            assert_eq!(replay["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{replay}");
        })
        .await;
        assert_eq!(me(&a, &phone.access).await, 401, "the first token of that session too");

        // changePassword on node B ends every session of the user, on node A as well; the
        // caller's new session works.
        let desk = a.login("ed@example.org", PASSWORD).await;
        let tablet = a.login("ed@example.org", PASSWORD).await;
        let renewed = Arc::new(Mutex::new(None));
        ends_at_once(&a, &desk.access, async {
            let change = format!("mutation($input: ChangePasswordInput!) {{ changePassword(input: $input) {{ {AUTH_FIELDS} }} }}");
            let data = b.query_as(&tablet, &change, json!({ "input": { "currentPassword": PASSWORD, "newPassword": "a second long password" } })).await;
            *renewed.lock().expect("renewed") = Some(Session::from_payload(&data["changePassword"]));
        })
        .await;
        let renewed = renewed.lock().expect("renewed").clone().expect("a new session");
        assert_eq!(me(&b, &tablet.access).await, 401);
        assert_eq!((me(&a, &renewed.access).await, me(&b, &renewed.access).await), (200, 200));

        // An admin's resetPassword on one node, and deactivateUser on the other.
        ends_at_once(&b, &renewed.access, async {
            a.query_as(&admin, "mutation($id: ID!) { resetPassword(input: { id: $id, newPassword: \"a third long password\" }) { user { id } } }", json!({ "id": renewed.user_id })).await;
        })
        .await;
        let last = b.login("ed@example.org", "a third long password").await;
        ends_at_once(&a, &last.access, async {
            b.query_as(&admin, "mutation($id: ID!) { deactivateUser(input: { id: $id }) { user { active } } }", json!({ "id": last.user_id })).await;
        })
        .await;
    }
}

on_both_databases! {
    async fn a_token_refreshed_twice_at_once_keeps_the_session(backend) {
        // Two tabs (here on two nodes) refresh with the same token at the same moment: both
        // get the same successor, and the session goes on. Presented again after the reuse
        // interval, the spent token is theft and ends the session.
        let settings = [("DERMIS_RATE_LIMIT_PER_SECOND", "0"), ("DERMIS_REFRESH_REUSE_INTERVAL", "2")];
        let a = TestServer::on(backend).env(settings[0].0, settings[0].1).env(settings[1].0, settings[1].1).start().await;
        let admin = a.first_admin().await;
        let b = a.another_node(&settings).await;
        let mut session = a.login("admin@example.org", PASSWORD).await;
        for round in 0..10 {
            let body = refresh_body(&session.refresh);
            let ((_, one), (_, two)) = tokio::join!(a.post(&body), b.post(&body));
            let one = Session::from_payload(&one["data"]["refreshSession"]);
            let two = Session::from_payload(&two["data"]["refreshSession"]);
            assert_eq!(one.refresh, two.refresh, "round {round}: one successor");
            assert_ne!(one.refresh, session.refresh);
            assert_eq!((me(&a, &one.access).await, me(&b, &two.access).await), (200, 200));
            session = one;
        }
        // A third presentation within the interval still returns that successor.
        let spent = session.refresh.clone();
        let (_, next) = b.post(&refresh_body(&spent)).await;
        let next = Session::from_payload(&next["data"]["refreshSession"]);
        let (_, again) = a.post(&refresh_body(&spent)).await;
        assert_eq!(Session::from_payload(&again["data"]["refreshSession"]).refresh, next.refresh);

        // After the interval: theft. The session ends, its successor with it.
        let deadline = Instant::now() + std::time::Duration::from_millis(2100);
        tokio::time::sleep_until(deadline.into()).await;
        let (_, replay) = a.post(&refresh_body(&spent)).await;
        assert_eq!(replay["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{replay}");
        let (_, after) = b.post(&refresh_body(&next.refresh)).await;
        assert_eq!(after["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{after}");
        assert_eq!(me(&b, &next.access).await, 401);
        // Other sessions of the user are untouched.
        assert_eq!(me(&a, &admin.access).await, 200);
    }
}
