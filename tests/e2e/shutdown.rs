//! Graceful shutdown: on SIGTERM/SIGINT the server stops accepting, lets in-flight requests
//! finish within the timeout, closes the pool and exits cleanly.

use std::time::{Duration, Instant};

use dermis_tests::{TestServer, on_both_databases};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Opens a connection and sends a POST whose body is cut in two; returns the stream and
/// the rest of the body.
async fn half_sent_request(server: &TestServer) -> (TcpStream, Vec<u8>) {
    let address = server.base.trim_start_matches("http://").to_owned();
    let body = json!({ "query": "{ topic(slug: \"microneedling\") { title } }" }).to_string();
    let mut stream = TcpStream::connect(&address).await.expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    let (first, rest) = body.as_bytes().split_at(10);
    stream.write_all(first).await.expect("write first part");
    stream.flush().await.expect("flush");
    (stream, rest.to_vec())
}

on_both_databases! {
    async fn sigterm_finishes_in_flight_requests_then_exits(backend) {
        let mut server = TestServer::on(backend).sample().start().await;
        let (mut stream, rest) = half_sent_request(&server).await;
        tokio::time::sleep(Duration::from_millis(200)).await;

        server.signal("TERM");
        server.wait_for_log("SIGTERM").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(server.wait_for_exit(Duration::ZERO).await.is_err(), "still serving the request in flight");
        // New connections are no longer served.
        let refused = tokio::time::timeout(
            Duration::from_secs(2),
            server.client.get(server.url("/healthz")).send(),
        ).await;
        assert!(!matches!(refused, Ok(Ok(_))), "a new request was served after SIGTERM");

        // The request in flight completes with its answer.
        stream.write_all(&rest).await.expect("write rest");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("read answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"title\":\"Microneedling\""), "{answer}");

        let code = server.wait_for_exit(Duration::from_secs(10)).await;
        assert_eq!(code, Ok(Some(0)), "exit code; log:\n{}", server.logs());
        let logs = server.logs();
        assert!(logs.contains("closing the database pool"), "{logs}");
        assert!(logs.contains("shutdown complete"), "{logs}");
    }
}

on_both_databases! {
    async fn a_request_that_never_finishes_does_not_hold_the_shutdown(backend) {
        let mut server = TestServer::on(backend)
            .sample()
            .env("DERMIS_SHUTDOWN_TIMEOUT", "1")
            .start()
            .await;
        let (_stream, _rest) = half_sent_request(&server).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        server.signal("INT");
        let code = server.wait_for_exit(Duration::from_secs(10)).await;
        assert_eq!(code, Ok(Some(0)), "log:\n{}", server.logs());
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(900), "waited for the timeout: {took:?}");
        assert!(took < Duration::from_secs(5), "not much longer: {took:?}");
    }
}
