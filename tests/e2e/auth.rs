//! Accounts and sessions: first-admin setup, login, refresh rotation, logout, revocation,
//! forged tokens, the login throttle and the `dermis user` commands.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use dermis_tests::{AUTH_FIELDS, PASSWORD, Session, TestServer, dermis, on_both_databases};
use serde_json::{Value, json};

fn code(error: &Value) -> &str {
    error["extensions"]["code"].as_str().unwrap_or_default()
}

const ME: &str = "{ me { email role } }";

fn refresh_query() -> String {
    format!(
        "mutation($t: String!) {{ refreshSession(input: {{ refreshToken: $t }}) {{ {AUTH_FIELDS} }} }}"
    )
}

fn login_query() -> String {
    format!(
        "mutation($e: String!, $p: String!) {{ login(input: {{ email: $e, password: $p }}) {{ {AUTH_FIELDS} }} }}"
    )
}

/// Status and first error code of a request with `token`.
async fn with_token(server: &TestServer, token: &str, query: &str) -> (u16, String) {
    let (status, body) = server
        .post_as(Some(token), &json!({ "query": query }))
        .await;
    (
        status,
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("OK")
            .to_owned(),
    )
}

on_both_databases! {
    async fn first_admin_setup_works_once_with_the_logged_code(backend) {
        let server = TestServer::on(backend).start().await;
        let status = server.query("{ setupStatus { needsSetup } }", json!({})).await;
        assert_eq!(status["setupStatus"]["needsSetup"], true);
        let code_in_log = server.setup_code().await;
        assert_eq!(code_in_log.len(), 12, "{}", server.logs());

        let create = format!("mutation($input: CreateFirstAdminInput!) {{ createFirstAdmin(input: $input) {{ {AUTH_FIELDS} }} }}");
        let input = |code: &str, email: &str| json!({ "input": { "setupCode": code, "email": email, "displayName": "A", "password": PASSWORD } });
        let wrong = server.error_as(None, &create, input("WRONGCODE123", "a@example.org")).await;
        assert_eq!(code(&wrong), "BAD_USER_INPUT");
        assert_eq!(wrong["extensions"]["field"], "input.setupCode");

        // Two concurrent calls: exactly one admin.
        let first = json!({ "query": create, "variables": input(&code_in_log, "first@example.org") });
        let second = json!({ "query": create, "variables": input(&code_in_log, "second@example.org") });
        let (one, two) = tokio::join!(server.post(&first), server.post(&second));
        let successes = [&one.1, &two.1].iter().filter(|b| b.get("errors").is_none()).count();
        assert_eq!(successes, 1, "{one:?} {two:?}");
        let loser = if one.1.get("errors").is_some() { &one.1 } else { &two.1 };
        assert_eq!(code(&loser["errors"][0]), "FORBIDDEN", "{loser}");

        let winner = Session::from_payload(if one.1.get("errors").is_none() { &one.1["data"]["createFirstAdmin"] } else { &two.1["data"]["createFirstAdmin"] });
        let me = server.query_as(&winner, "{ me { role } users { email } }", json!({})).await;
        assert_eq!(me["me"]["role"], "ADMIN");
        assert_eq!(me["users"].as_array().map(Vec::len), Some(1));

        let again = server.error_as(None, &create, input(&code_in_log, "third@example.org")).await;
        assert_eq!(code(&again), "FORBIDDEN");
        let status = server.query("{ setupStatus { needsSetup } }", json!({})).await;
        assert_eq!(status["setupStatus"]["needsSetup"], false);
    }
}

on_both_databases! {
    async fn refresh_rotates_and_reuse_revokes_the_family(backend) {
        // No reuse interval: any second presentation of a spent token is theft
        // (sessions::a_token_refreshed_twice_at_once_keeps_the_session covers the interval).
        let server = TestServer::on(backend).env("DERMIS_REFRESH_REUSE_INTERVAL", "0").start().await;
        let admin = server.first_admin().await;
        let me = server.query_as(&admin, ME, json!({})).await;
        assert_eq!(me["me"], json!({ "email": "admin@example.org", "role": "ADMIN" }));
        assert_eq!(server.query(ME, json!({})).await["me"], Value::Null, "anonymous");

        let rotated = server.query(&refresh_query(), json!({ "t": admin.refresh })).await;
        let second = Session::from_payload(&rotated["refreshSession"]);
        assert_ne!(second.refresh, admin.refresh);
        assert_eq!(server.query_as(&second, ME, json!({})).await["me"]["role"], "ADMIN");

        // The old refresh token is spent; presenting it again revokes the whole family.
        let reused = server.error_as(None, &refresh_query(), json!({ "t": admin.refresh })).await;
        assert_eq!(code(&reused), "UNAUTHENTICATED");
        let after_theft = server.error_as(None, &refresh_query(), json!({ "t": second.refresh })).await;
        assert_eq!(code(&after_theft), "UNAUTHENTICATED", "the family is revoked");

        // Logout ends a session.
        let fresh = server.login("ADMIN@example.org", PASSWORD).await;
        server
            .query_as(&fresh, "mutation($t: String!) { logout(input: { refreshToken: $t }) { signedOut } }", json!({ "t": fresh.refresh }))
            .await;
        let refused = server.error_as(None, &refresh_query(), json!({ "t": fresh.refresh })).await;
        assert_eq!(code(&refused), "UNAUTHENTICATED");
        let garbage = server.error_as(None, &refresh_query(), json!({ "t": "not-a-token" })).await;
        assert_eq!(code(&garbage), "UNAUTHENTICATED");
    }
}

on_both_databases! {
    async fn password_change_reset_and_deactivation_end_every_session(backend) {
        let server = TestServer::on(backend).start().await;
        let admin = server.first_admin().await;
        let editor_a = server.user(&admin, "ed@example.org", "EDITOR").await;
        let editor_b = server.login("ed@example.org", PASSWORD).await;

        let change = format!("mutation($input: ChangePasswordInput!) {{ changePassword(input: $input) {{ {AUTH_FIELDS} }} }}");
        let wrong = server
            .error_as(Some(&editor_a), &change, json!({ "input": { "currentPassword": "nope nope nope", "newPassword": "another long password" } }))
            .await;
        assert_eq!(code(&wrong), "BAD_USER_INPUT");
        let changed = server
            .query_as(&editor_a, &change, json!({ "input": { "currentPassword": PASSWORD, "newPassword": "another long password" } }))
            .await;
        let renewed = Session::from_payload(&changed["changePassword"]);
        for old in [&editor_a, &editor_b] {
            assert_eq!(with_token(&server, &old.access, ME).await, (401, "UNAUTHENTICATED".into()));
            let refresh = server.error_as(None, &refresh_query(), json!({ "t": old.refresh })).await;
            assert_eq!(code(&refresh), "UNAUTHENTICATED");
        }
        assert_eq!(server.query_as(&renewed, ME, json!({})).await["me"]["email"], "ed@example.org");
        let bad_login = server.error_as(None, &login_query(), json!({ "e": "ed@example.org", "p": PASSWORD })).await;
        assert_eq!(code(&bad_login), "UNAUTHENTICATED", "the old password no longer works");

        // An admin's reset ends the sessions too.
        server
            .query_as(&admin, "mutation($id: ID!) { resetPassword(input: { id: $id, newPassword: \"a third long password\" }) { user { id } } }", json!({ "id": renewed.user_id }))
            .await;
        assert_eq!(with_token(&server, &renewed.access, ME).await.0, 401);

        // Deactivation: no sessions, no login.
        let again = server.login("ed@example.org", "a third long password").await;
        server
            .query_as(&admin, "mutation($id: ID!) { deactivateUser(input: { id: $id }) { user { active } } }", json!({ "id": again.user_id }))
            .await;
        assert_eq!(with_token(&server, &again.access, ME).await.0, 401);
        let refused = server.error_as(None, &login_query(), json!({ "e": "ed@example.org", "p": "a third long password" })).await;
        assert_eq!(code(&refused), "UNAUTHENTICATED");

        // The last admin cannot be deactivated or demoted.
        let last = server
            .error_as(Some(&admin), "mutation($id: ID!) { deactivateUser(input: { id: $id }) { user { id } } }", json!({ "id": admin.user_id }))
            .await;
        assert_eq!(code(&last), "BAD_USER_INPUT");
    }
}

on_both_databases! {
    async fn forged_expired_and_malformed_tokens_are_refused(backend) {
        let server = TestServer::on(backend)
            .env("DERMIS_JWT_SECRET", "the-first-secret-that-is-long-enough!")
            .env("DERMIS_ACCESS_TOKEN_TTL", "1")
            .start()
            .await;
        let admin = server.first_admin().await;
        // Valid for one second (plus the server's 5 s leeway).
        assert_eq!(with_token(&server, &admin.access, ME).await, (200, "OK".into()));

        // Another secret: a second node of another deployment signs the same claims.
        let other = server.another_node(&[("DERMIS_JWT_SECRET", "a-completely-different-secret-value!!")]).await;
        let foreign = other.login("admin@example.org", PASSWORD).await;
        assert_eq!(with_token(&server, &foreign.access, ME).await, (401, "UNAUTHENTICATED".into()));

        let parts: Vec<&str> = admin.access.split('.').collect();
        assert_eq!(parts.len(), 3);
        let none = format!("{}.{}.", dermis_tests::base64url(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
        let hs512 = format!("{}.{}.{}", dermis_tests::base64url(br#"{"alg":"HS512","typ":"JWT"}"#), parts[1], parts[2]);
        let tampered = format!("{}.{}.{}", parts[0], dermis_tests::base64url(br#"{"sub":"1","role":"ADMIN","tv":0,"iat":1,"exp":99999999999}"#), parts[2]);
        for (label, token) in [("alg none", none), ("HS512", hs512), ("tampered", tampered), ("garbage", "abc.def.ghi".to_owned())] {
            let (status, code) = with_token(&server, &token, ME).await;
            assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"), "{label}");
        }
        let response = server.client.post(server.url("/graphql")).header("content-type", "application/json")
            .header("authorization", "Basic YWRtaW46YWRtaW4=").body(json!({ "query": ME }).to_string()).send().await.expect("POST");
        assert_eq!(response.status().as_u16(), 401, "not a bearer token");
        assert!(response.headers().get("www-authenticate").is_some());

        // Expired: one second of life plus five of leeway.
        tokio::time::sleep(Duration::from_secs(7)).await;
        let (status, code) = with_token(&server, &admin.access, ME).await;
        assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"), "expired");
        // The refresh token still renews the session.
        let renewed = server.query(&refresh_query(), json!({ "t": admin.refresh })).await;
        let renewed = Session::from_payload(&renewed["refreshSession"]);
        assert_eq!(with_token(&server, &renewed.access, ME).await.0, 200);
    }
}

on_both_databases! {
    async fn login_failures_look_alike_and_are_throttled_across_nodes(backend) {
        let limits = [("DERMIS_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3"), ("DERMIS_LOGIN_MAX_FAILURES_PER_CLIENT", "12")];
        let server = TestServer::on(backend).env(limits[0].0, limits[0].1).env(limits[1].0, limits[1].1).start().await;
        let admin = server.first_admin().await;
        server.user(&admin, "victim@example.org", "EDITOR").await;
        server.user(&admin, "known@example.org", "EDITOR").await;

        // Same answer, similar time, for a wrong password and an unknown email.
        let attempt = |email: &'static str| {
            let server = &server;
            async move {
                let started = Instant::now();
                let error = server.error_as(None, &login_query(), json!({ "e": email, "p": "wrong password!!" })).await;
                (started.elapsed(), error)
            }
        };
        // Three interleaved samples each (3 failures per account, 6 for this client so far);
        // the fastest of each are compared: a busy machine only ever adds time, so the
        // minimum is the cost of the work itself (medians of three failed twice on a loaded
        // machine, 66 vs 277 ms, with minimums of 66 vs 94 ms).
        let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            let (known_time, known) = attempt("known@example.org").await;
            let (unknown_time, unknown) = attempt("nobody@example.org").await;
            assert_eq!(known["message"], unknown["message"]);
            assert_eq!(known["extensions"], unknown["extensions"]);
            assert_eq!(code(&known), "UNAUTHENTICATED");
            known_times.push(known_time);
            unknown_times.push(unknown_time);
        }
        known_times.sort();
        unknown_times.sort();
        let ratio = unknown_times[0].as_secs_f64() / known_times[0].as_secs_f64();
        assert!((0.33..3.0).contains(&ratio), "unknown email took {unknown_times:?}, wrong password {known_times:?}");

        // Per account: 3 failures, then refused even with the right password, on any node.
        for _ in 0..3 {
            attempt("victim@example.org").await;
        }
        let node_b = server.another_node(&limits).await;
        let refused = node_b.error_as(None, &login_query(), json!({ "e": "victim@example.org", "p": PASSWORD })).await;
        assert_eq!(code(&refused), "RATE_LIMITED", "{refused}");
        assert!(refused["extensions"]["retryAfter"].as_u64().is_some_and(|s| s > 0 && s <= 900), "{refused}");

        // Per client: 12 failures from this address across accounts (6 + 3 so far).
        for i in 0..3 {
            node_b.error_as(None, &login_query(), json!({ "e": format!("x{i}@example.org"), "p": "wrong password!!" })).await;
        }
        let refused = server.error_as(None, &login_query(), json!({ "e": "admin@example.org", "p": PASSWORD })).await;
        assert_eq!(code(&refused), "RATE_LIMITED", "{refused}");
    }
}

on_both_databases! {
    async fn user_validation_and_the_user_command(backend) {
        let server = TestServer::on(backend).start().await;
        let admin = server.first_admin().await;
        let create = "mutation($input: CreateUserInput!) { createUser(input: $input) { user { email } } }";
        let input = |email: &str, password: String| json!({ "input": { "email": email, "displayName": "X", "role": "EDITOR", "password": password } });
        for (email, password, field) in [
            ("short@example.org", "elevenchars".to_owned(), "input.password"),
            ("long@example.org", "x".repeat(1025), "input.password"),
            ("not-an-email", PASSWORD.to_owned(), "input.email"),
            ("ADMIN@Example.ORG", PASSWORD.to_owned(), "input.email"),
        ] {
            let error = server.error_as(Some(&admin), create, input(email, password)).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{email}: {error}");
            assert_eq!(error["extensions"]["field"], field, "{email}");
        }
        let created = server.query_as(&admin, create, input("Mixed.Case@Example.org", PASSWORD.to_owned())).await;
        assert_eq!(created["createUser"]["user"]["email"], "mixed.case@example.org");

        // The command line: the password comes from stdin, never argv.
        let run_user = |args: &[&str], stdin: &str| {
            let mut command = dermis(server.db.dir.path());
            command.arg("user").args(args).env("DERMIS_DATABASE_URL", &server.db.url)
                .stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = command.spawn().expect("spawn");
            if let Some(mut input) = child.stdin.take() {
                let _ = input.write_all(stdin.as_bytes());
            }
            child.wait_with_output().expect("output")
        };
        let short = run_user(&["create", "--email", "cli@example.org", "--name", "Cli", "--role", "editor"], "short\n");
        assert_eq!(short.status.code(), Some(2), "{short:?}");
        assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
        let ok = run_user(&["create", "--email", "cli@example.org", "--name", "Cli", "--role", "editor"], &format!("{PASSWORD}\n"));
        assert_eq!(ok.status.code(), Some(0), "{ok:?}");
        let session = server.login("cli@example.org", PASSWORD).await;
        assert_eq!(server.query_as(&session, ME, json!({})).await["me"]["role"], "EDITOR");
        let argv = run_user(&["create", "--email", "x@example.org", "--name", "X", "--role", "editor", "--password", "secretsecret"], "");
        assert_eq!(argv.status.code(), Some(2), "no --password flag");

        let listed = run_user(&["list"], "");
        assert!(String::from_utf8_lossy(&listed.stdout).contains("cli@example.org"));
        let reset = run_user(&["set-password", "--email", "CLI@example.org"], "a brand new password\n");
        assert_eq!(reset.status.code(), Some(0), "{reset:?}");
        assert_eq!(with_token(&server, &session.access, ME).await.0, 401, "set-password ends sessions");
        let off = run_user(&["deactivate", "--email", "cli@example.org"], "");
        assert_eq!(off.status.code(), Some(0), "{off:?}");
        let refused = server.error_as(None, &login_query(), json!({ "e": "cli@example.org", "p": "a brand new password" })).await;
        assert_eq!(code(&refused), "UNAUTHENTICATED");
    }
}
