//! The `dermis` command: subcommands, migrations, configuration sources and refusals of
//! invalid configuration.

use std::net::TcpListener;

use dermis_tests::{Backend, TestDb, TestServer, dermis, on_both_databases, run, without_database};
use serde_json::json;

/// Environment, expected exit code, expected message.
type ConfigCase<'a> = (&'a [(&'a str, &'a str)], i32, &'a str);

/// The only line of an error, asserting there is exactly one.
fn single_error_line(stderr: &str) -> String {
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "one clear line expected, got:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    errors[0].to_owned()
}

without_database! {
    async fn help_lists_the_subcommands_and_schema_needs_no_database() {
        let dir = dermis_tests::tempfile::tempdir().expect("dir");
        let mut help = dermis(dir.path());
        help.arg("--help");
        let output = run(help).await;
        assert_eq!(output.code, Some(0));
        for sub in ["serve", "migrate", "seed", "schema"] {
            assert!(output.stdout.contains(sub), "{sub} missing from:\n{}", output.stdout);
        }
        let mut schema = dermis(dir.path());
        schema.arg("schema");
        let output = run(schema).await;
        assert_eq!(output.code, Some(0));
        assert!(output.stdout.contains("type Query"));
        assert!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0) == 0, "no database file created");
    }
}

on_both_databases! {
    async fn migrate_up_and_status(backend) {
        let db = TestDb::create(backend).await;
        let status = || {
            let mut command = dermis(db.dir.path());
            command.args(["migrate", "status"]).env("DERMIS_DATABASE_URL", &db.url);
            run(command)
        };
        let before = status().await;
        assert_eq!(before.code, Some(0), "{before:?}");
        let total = before.stdout.lines().count();
        assert!(total >= 5, "{}", before.stdout);
        assert_eq!(before.stdout.matches("Pending").count(), total, "{}", before.stdout);

        let mut up = dermis(db.dir.path());
        up.args(["migrate", "up"]).env("DERMIS_DATABASE_URL", &db.url);
        let output = run(up).await;
        assert_eq!(output.code, Some(0), "{output:?}");
        assert!(output.stdout.contains(&format!("applied {total} migration(s)")), "{}", output.stdout);

        let after = status().await;
        assert_eq!(after.stdout.matches("Applied").count(), total, "{}", after.stdout);
        assert_eq!(after.stdout.matches("Pending").count(), 0, "{}", after.stdout);
        assert!(after.stdout.contains("m20261124_000001_users"));
    }
}

without_database! {
    async fn invalid_configuration_stops_with_one_clear_line() {
        let dir = dermis_tests::tempfile::tempdir().expect("dir");
        let occupied = TcpListener::bind("127.0.0.1:0").expect("bind");
        let taken = occupied.local_addr().expect("addr").to_string();
        let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
        let cases: [ConfigCase; 5] = [
            (&[("DERMIS_DATABASE_URL", "mysql://root:hunter2@localhost/db")], 2, "invalid DERMIS_DATABASE_URL"),
            (&[("DERMIS_DATABASE_URL", "nonsense")], 2, "invalid DERMIS_DATABASE_URL"),
            (&[("DERMIS_BIND", "not-an-address")], 2, "invalid DERMIS_BIND"),
            (&[("DERMIS_BIND", &taken), ("DERMIS_DATABASE_URL", &sqlite)], 1, "cannot listen on"),
            (&[("DERMIS_DATABASE_URL", "postgres://postgres:hunter2@127.0.0.1:1/nothing")], 1, "cannot connect to the database"),
        ];
        for (env, code, message) in cases {
            let mut command = dermis(dir.path());
            command.arg("serve").envs(env.iter().copied());
            let output = run(command).await;
            assert_eq!(output.code, Some(code), "{env:?}: {output:?}");
            let line = single_error_line(&output.stderr);
            assert!(line.contains(message), "{env:?}: {line}");
            assert!(!line.contains("hunter2"), "password leaked: {line}");
        }
        drop(occupied);
    }
}

without_database! {
    async fn flags_override_environment_which_overrides_dotenv() {
        let dir = dermis_tests::tempfile::tempdir().expect("dir");
        let from_dotenv = dir.path().join("from-dotenv.db");
        std::fs::write(
            dir.path().join(".env"),
            format!("DERMIS_DATABASE_URL=sqlite://{}?mode=rwc\n", from_dotenv.display()),
        )
        .expect("write .env");

        // .env is read when nothing else says otherwise.
        let mut command = dermis(dir.path());
        command.args(["migrate", "up"]);
        assert_eq!(run(command).await.code, Some(0));
        assert!(from_dotenv.exists(), ".env was not read");

        // The environment wins over .env...
        let from_env = dir.path().join("from-env.db");
        let mut command = dermis(dir.path());
        command.args(["migrate", "up"]).env("DERMIS_DATABASE_URL", format!("sqlite://{}?mode=rwc", from_env.display()));
        assert_eq!(run(command).await.code, Some(0));
        assert!(from_env.exists());

        // ...and a flag wins over both.
        let from_flag = dir.path().join("from-flag.db");
        let mut command = dermis(dir.path());
        command
            .args(["migrate", "up", "--database-url"])
            .arg(format!("sqlite://{}?mode=rwc", from_flag.display()))
            .env("DERMIS_DATABASE_URL", "mysql://not-used");
        let output = run(command).await;
        assert_eq!(output.code, Some(0), "{output:?}");
        assert!(from_flag.exists());
    }
}

without_database! {
    async fn serve_logs_json_when_asked() {
        // `--log-format json` / DERMIS_LOG_FORMAT=json: one JSON object per log line.
        let server = TestServer::on(Backend::Sqlite)
            .embedded_default()
            .env("DERMIS_LOG_FORMAT", "json")
            .start()
            .await;
        let logs = server.wait_for_log("listening on").await;
        assert!(logs.lines().any(|l| l.starts_with('{') && l.contains("listening on")), "{logs}");
        assert!(logs.lines().filter(|l| !l.trim().is_empty()).all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "every line is JSON: {logs}");
        let data = server.query("{ topics { totalCount } }", json!({})).await;
        assert_eq!(data["topics"]["totalCount"], 1, "embedded default has the sample");
    }
}
