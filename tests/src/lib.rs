//! End-to-end harness: every test gets its own database and its own `dermis serve`
//! process on a random loopback port, and talks to it over HTTP.
//!
//! Tests run on SQLite always and on PostgreSQL when `DERMIS_TEST_POSTGRES_URL` is set
//! (for example `postgres://postgres@127.0.0.1:5432/postgres`); each PostgreSQL test
//! creates a database of its own and drops it afterwards.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

pub mod archive;
pub mod node;
pub mod schema;
pub mod socket;
pub mod storage;

pub use storage::Storage;
use storage::{S3Bucket, files_under};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

pub use tempfile;

/// Environment variable naming the PostgreSQL server tests may create databases on.
pub const POSTGRES_ENV: &str = "DERMIS_TEST_POSTGRES_URL";

/// Runs a test body once per database backend: `NAME::sqlite` always, `NAME::postgres`
/// when PostgreSQL is configured (otherwise it says it skipped).
#[macro_export]
macro_rules! on_both_databases {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($backend: $crate::Backend) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::set_bin(env!("CARGO_BIN_EXE_dermis"));
                body($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::set_bin(env!("CARGO_BIN_EXE_dermis"));
                if $crate::Backend::Postgres.available() {
                    body($crate::Backend::Postgres).await;
                } else {
                    eprintln!("skipped: {} is not set", $crate::POSTGRES_ENV);
                }
            }
        }
    };
}

/// Runs a test body once per database backend and media storage: `NAME::sqlite` and
/// `NAME::postgres` on the media folder, `NAME::sqlite_s3` and `NAME::postgres_s3` on an S3
/// bucket (each skipped, saying so, where its backend or storage is not configured).
#[macro_export]
macro_rules! on_both_storages {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident, $storage:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($backend: $crate::Backend, $storage: $crate::Storage) $body

            async fn run(backend: $crate::Backend, storage: $crate::Storage) {
                $crate::set_bin(env!("CARGO_BIN_EXE_dermis"));
                if !backend.available() {
                    eprintln!("skipped: {} is not set", $crate::POSTGRES_ENV);
                } else if !storage.available() {
                    eprintln!("skipped: {} is not set", $crate::storage::MOTO_ENV);
                } else {
                    body(backend, storage).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::Backend::Sqlite, $crate::Storage::Folder).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::Backend::Postgres, $crate::Storage::Folder).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_s3() {
                run($crate::Backend::Sqlite, $crate::Storage::S3).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_s3() {
                run($crate::Backend::Postgres, $crate::Storage::S3).await;
            }
        }
    };
}

/// A test that needs no database of its own or only the embedded SQLite default.
#[macro_export]
macro_rules! without_database {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $crate::set_bin(env!("CARGO_BIN_EXE_dermis"));
            $body
        }
    };
}

/// A database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A new database on the server named by `DERMIS_TEST_POSTGRES_URL`.
    Postgres,
}

impl Backend {
    /// Can tests use this backend here?
    pub fn available(self) -> bool {
        match self {
            Self::Sqlite => true,
            Self::Postgres => std::env::var(POSTGRES_ENV).is_ok_and(|v| !v.trim().is_empty()),
        }
    }
}

static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Registers the `dermis` binary under test (the macros pass Cargo's
/// `CARGO_BIN_EXE_dermis`, which exists only while compiling the test target).
pub fn set_bin(path: &str) {
    let _ = BIN.set(PathBuf::from(path));
}

/// The path of the `dermis` binary under test.
pub fn dermis_bin() -> PathBuf {
    BIN.get()
        .cloned()
        .expect("call dermis_tests::set_bin(env!(\"CARGO_BIN_EXE_dermis\")) first")
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database that exists for one test only.
pub struct TestDb {
    /// Its connection URL.
    pub url: String,
    /// Which engine.
    pub backend: Backend,
    /// A private working folder (the SQLite file lives here; so does any `.env`).
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// Creates an empty database.
    pub async fn create(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        match backend {
            Backend::Sqlite => Self {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("dermis.db").display()
                ),
                backend,
                dir,
                postgres: None,
            },
            Backend::Postgres => {
                let admin_url = std::env::var(POSTGRES_ENV).expect("PostgreSQL configured");
                let name = format!(
                    "dermis_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.subsec_nanos())
                        .unwrap_or(0)
                );
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("connect to DERMIS_TEST_POSTGRES_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                let _ = admin.close().await;
                let mut url = url::Url::parse(&admin_url).expect("valid PostgreSQL URL");
                url.set_path(&format!("/{name}"));
                Self {
                    url: url.to_string(),
                    backend,
                    dir,
                    postgres: Some((admin_url, name)),
                }
            }
        }
    }

    /// PostgreSQL: the database stops accepting connections and every open one (the
    /// servers' pools and listeners) is terminated, as in an outage, for this test's
    /// database alone. Undone by [`TestDb::accept_connections`].
    pub async fn refuse_connections(&self) {
        let (admin_url, name) = self.postgres.as_ref().expect("a PostgreSQL database");
        let admin = Database::connect(admin_url)
            .await
            .expect("connect as admin");
        admin
            .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
            .await
            .expect("refuse connections");
        admin
            .execute_unprepared(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .await
            .expect("terminate backends");
        let _ = admin.close().await;
    }

    /// PostgreSQL: the database accepts connections again.
    pub async fn accept_connections(&self) {
        let (admin_url, name) = self.postgres.as_ref().expect("a PostgreSQL database");
        let admin = Database::connect(admin_url)
            .await
            .expect("connect as admin");
        admin
            .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
            .await
            .expect("accept connections");
        let _ = admin.close().await;
    }

    /// A direct connection, for assertions on what was (not) written.
    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url)
            .await
            .expect("connect to test database")
    }

    /// Row counts and version sums of every table that holds content, users, sessions, API
    /// tokens or settings: equal fingerprints mean nothing was written (login failures, which a
    /// refused login records on purpose, are left out).
    pub async fn fingerprint(&self) -> Vec<(String, i64, i64)> {
        let db = self.connect().await;
        let mut out = Vec::new();
        for (table, sum) in [
            ("topics", "version"),
            ("conditions", "version"),
            ("side_effects", "version"),
            ("topic_conditions", "position"),
            ("topic_side_effects", "position"),
            ("revisions", "version"),
            ("users", "token_version"),
            ("sessions", "token_version"),
            ("settings", "0"),
            ("api_tokens", "0"),
            ("content_events", "version"),
        ] {
            let sql = format!(
                "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM({sum}), 0) AS BIGINT) FROM {table}"
            );
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .expect("fingerprint query")
                .expect("one row");
            out.push((
                table.to_owned(),
                row.try_get_by_index::<i64>(0).expect("count"),
                row.try_get_by_index::<i64>(1).expect("sum"),
            ));
        }
        let _ = db.close().await;
        out
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs outside async context guarantees: use a private runtime on a thread.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// Output of a finished `dermis` command.
#[derive(Debug)]
pub struct CommandOutput {
    /// Exit code (None when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// A `dermis` command with a clean environment: no inherited `DERMIS_*` variables, the
/// given working folder, logs at `info`.
pub fn dermis(cwd: &Path) -> Command {
    let mut command = Command::new(dermis_bin());
    for (key, _) in std::env::vars() {
        if key.starts_with("DERMIS_") || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    command.current_dir(cwd).env("DERMIS_LOG", "info");
    command
}

/// A `dermis` command on `db` (its URL set) keeping media in `bucket`, or in the folder
/// beside the database when `None`: what `serve` on them would use.
pub fn dermis_on(db: &TestDb, bucket: Option<&S3Bucket>) -> Command {
    let mut command = dermis(db.dir.path());
    command.env("DERMIS_DATABASE_URL", &db.url);
    for (key, value) in bucket.iter().flat_map(|bucket| bucket.env()) {
        command.env(key, value);
    }
    command
}

/// Runs a `dermis` command to completion (at most 60 s).
pub async fn run(mut command: Command) -> CommandOutput {
    command.stdin(Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run dermis");
    CommandOutput {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A response header as text (empty when absent or not text).
pub fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// URL-safe base64 without padding (JWT parts, cursors), for forging them in tests.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A signed-in user's tokens.
#[derive(Debug, Clone)]
pub struct Session {
    /// Access token (JWT).
    pub access: String,
    /// Refresh token.
    pub refresh: String,
    /// The user's id.
    pub user_id: String,
}

impl Session {
    /// The session in an `AuthPayload`.
    pub fn from_payload(payload: &Value) -> Self {
        let text = |key: &str| payload[key].as_str().map(str::to_owned).unwrap_or_default();
        Self {
            access: text("accessToken"),
            refresh: text("refreshToken"),
            user_id: payload["user"]["id"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_default(),
        }
    }
}

/// Selection of an `AuthPayload`.
pub const AUTH_FIELDS: &str =
    "accessToken refreshToken accessTokenExpiresAt refreshTokenExpiresAt user { id email role }";

/// A password that passes the policy.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running `dermis serve` with its own database.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The server's database (shared with other nodes started from this one).
    pub db: Arc<TestDb>,
    /// An HTTP client.
    pub client: reqwest::Client,
    child: Child,
    logs: Arc<Mutex<String>>,
    s3: Option<Arc<S3Bucket>>,
}

/// How to start a server.
pub struct Start {
    backend: Backend,
    seed: Option<String>,
    env: Vec<(String, String)>,
    embedded_default: bool,
    storage: Storage,
}

impl Start {
    /// Loads the bundled sample content (with `dermis seed`) before starting.
    pub fn sample(mut self) -> Self {
        self.seed = Some(String::new());
        self
    }

    /// Loads this seed JSON (with `dermis seed --file`) before starting.
    pub fn seed_json(mut self, json: &Value) -> Self {
        self.seed = Some(json.to_string());
        self
    }

    /// Sets an environment variable of the server.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Gives the server no database URL at all, so it uses the embedded default in its
    /// working folder (SQLite only).
    pub fn embedded_default(mut self) -> Self {
        self.embedded_default = true;
        self
    }

    /// Keeps media in `storage` (an S3 server and bucket of this test's own for S3).
    pub fn storage(mut self, storage: Storage) -> Self {
        self.storage = storage;
        self
    }

    /// Starts the server and waits until it listens.
    pub async fn start(self) -> TestServer {
        let db = TestDb::create(self.backend).await;
        if let Some(seed) = &self.seed {
            seed_database(&db, seed).await;
        }
        let s3 = match self.storage {
            Storage::Folder => None,
            Storage::S3 => Some(Arc::new(S3Bucket::start().await)),
        };
        TestServer::spawn(Arc::new(db), self.env, self.embedded_default, s3).await
    }
}

/// Runs `dermis seed` (the sample when `json` is empty) against `db`; panics on failure.
pub async fn seed_database(db: &TestDb, json: &str) -> CommandOutput {
    let mut command = dermis(db.dir.path());
    command.arg("seed").env("DERMIS_DATABASE_URL", &db.url);
    if !json.is_empty() {
        let path = db.dir.path().join(format!(
            "seed-{}.json",
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, json).expect("write seed file");
        command.arg("--file").arg(path);
    }
    let output = run(command).await;
    assert_eq!(output.code, Some(0), "dermis seed failed: {output:?}");
    output
}

impl TestServer {
    /// Prepares a server on `backend` with an empty database.
    pub fn on(backend: Backend) -> Start {
        Start {
            backend,
            seed: None,
            env: Vec::new(),
            embedded_default: false,
            storage: Storage::Folder,
        }
    }

    /// A server with the sample content.
    pub async fn sample(backend: Backend) -> Self {
        Self::on(backend).sample().start().await
    }

    /// A server on an existing database (one a test prepared, or another server's).
    pub async fn serve(db: Arc<TestDb>) -> Self {
        Self::spawn(db, Vec::new(), false, None).await
    }

    /// A server on an existing database whose media are kept in `bucket` (or in the folder
    /// beside the database when `None`).
    pub async fn serve_media(db: Arc<TestDb>, bucket: Option<Arc<S3Bucket>>) -> Self {
        Self::spawn(db, Vec::new(), false, bucket).await
    }

    /// The S3 bucket this server keeps media in, if it uses one.
    pub fn bucket(&self) -> Option<Arc<S3Bucket>> {
        self.s3.clone()
    }

    /// A `dermis` command on this server's database and media storage.
    pub fn command(&self) -> Command {
        dermis_on(&self.db, self.s3.as_deref())
    }

    /// Another node on the same database and media storage (as behind a load balancer).
    pub async fn another_node(&self, env: &[(&str, &str)]) -> Self {
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Self::spawn(self.db.clone(), env, false, self.s3.clone()).await
    }

    /// Every stored media object: paths under the media folder, or keys in the bucket.
    pub async fn stored_media(&self) -> Vec<String> {
        match &self.s3 {
            Some(bucket) => bucket.keys().await,
            None => {
                let folder = self.db.dir.path().join("dermis-media");
                files_under(&folder)
                    .iter()
                    .filter_map(|f| f.strip_prefix(&folder).ok())
                    .map(|f| f.to_string_lossy().into_owned())
                    .collect()
            }
        }
    }

    async fn spawn(
        db: Arc<TestDb>,
        env: Vec<(String, String)>,
        embedded_default: bool,
        s3: Option<Arc<S3Bucket>>,
    ) -> Self {
        let mut command = dermis(db.dir.path());
        for (key, value) in s3.iter().flat_map(|bucket| bucket.env()) {
            command.env(key, value);
        }
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--workers", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if !embedded_default {
            command.env("DERMIS_DATABASE_URL", &db.url);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn dermis serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let logs = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Keep the line before announcing the address, so that a test which starts
                // after `start()` returned sees the "listening on" line in `logs()`.
                if let Ok(mut logs) = sink.lock() {
                    logs.push_str(&line);
                    logs.push('\n');
                }
                if let Some(at) = line.find("listening on http://") {
                    let url: String = line[at + "listening on ".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || ":/.[]".contains(*c))
                        .collect();
                    let _ = tx.send(url);
                }
            }
        });
        let base = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
            .await
            .expect("join");
        let Ok(base) = base else {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "dermis serve did not start ({status:?}):\n{}",
                logs.lock().map(|l| l.clone()).unwrap_or_default()
            );
        };
        Self {
            base,
            db,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            child,
            logs,
            s3,
        }
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a GraphQL request; returns the status and the JSON body.
    pub async fn post(&self, body: &Value) -> (u16, Value) {
        self.post_as(None, body).await
    }

    /// POSTs a GraphQL request with an optional bearer token.
    pub async fn post_as(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        let (status, text) = self.post_text(token, body).await;
        match serde_json::from_str(&text) {
            Ok(json) => (status, json),
            Err(error) => panic!("HTTP {status} without a JSON body ({error}): {text:?}"),
        }
    }

    /// POSTs a GraphQL request with an optional bearer token; the whole response (headers
    /// included).
    pub async fn post_response(&self, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("POST /graphql")
    }

    /// POSTs a GraphQL request with an optional bearer token; the status and the answer's
    /// exact text (for comparing bodies byte for byte).
    pub async fn post_text(&self, token: Option<&str>, body: &Value) -> (u16, String) {
        let response = self.post_response(token, body).await;
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// Runs an operation as `session` that must succeed; returns `data`.
    pub async fn query_as(&self, session: &Session, query: &str, variables: Value) -> Value {
        let (status, body) = self
            .post_as(
                Some(&session.access),
                &json!({ "query": query, "variables": variables }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Runs an operation (as `session`, or anonymously) that must fail; returns the first error.
    pub async fn error_as(
        &self,
        session: Option<&Session>,
        query: &str,
        variables: Value,
    ) -> Value {
        let (_, body) = self
            .post_as(
                session.map(|s| s.access.as_str()),
                &json!({ "query": query, "variables": variables }),
            )
            .await;
        assert!(body.get("errors").is_some(), "expected an error: {body}");
        body["errors"][0].clone()
    }

    /// Waits (up to 10 s) until the log holds `needle`; returns the whole log then.
    /// Panics with the log when it never appears.
    pub async fn wait_for_log(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let logs = self.logs();
            if logs.contains(needle) {
                return logs;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{needle:?} never appeared in the log:\n{logs}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The one-time setup code the server printed to its log.
    pub async fn setup_code(&self) -> String {
        let logs = self.wait_for_log("setup code ").await;
        let at = logs
            .find("setup code ")
            .map_or(0, |at| at + "setup code ".len());
        logs[at..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect()
    }

    /// Creates the first admin (through `createFirstAdmin`) and returns its session.
    pub async fn first_admin(&self) -> Session {
        let data = self
            .query(
                &format!("mutation($input: CreateFirstAdminInput!) {{ createFirstAdmin(input: $input) {{ {AUTH_FIELDS} }} }}"),
                json!({ "input": { "setupCode": self.setup_code().await, "email": "admin@example.org", "displayName": "Admin", "password": PASSWORD } }),
            )
            .await;
        Session::from_payload(&data["createFirstAdmin"])
    }

    /// Creates a user as `admin` and signs in as that user.
    pub async fn user(&self, admin: &Session, email: &str, role: &str) -> Session {
        self.query_as(
            admin,
            "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
            json!({ "input": { "email": email, "displayName": email, "role": role, "password": PASSWORD } }),
        )
        .await;
        self.login(email, PASSWORD).await
    }

    /// Signs in; panics on failure.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let data = self
            .query(
                &format!(
                    "mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}"
                ),
                json!({ "input": { "email": email, "password": password } }),
            )
            .await;
        Session::from_payload(&data["login"])
    }

    /// Runs a query that must succeed without errors; returns `data`.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self
            .post(&json!({ "query": query, "variables": variables }))
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Runs a query that must fail; returns the first error.
    pub async fn query_error(&self, query: &str, variables: Value) -> Value {
        let (_, body) = self
            .post(&json!({ "query": query, "variables": variables }))
            .await;
        body["errors"][0].clone()
    }

    /// The text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// A gauge or counter of `/metrics` (the sum of its series), 0 when absent.
    pub async fn metric(&self, name: &str) -> f64 {
        self.metrics()
            .await
            .lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Waits until `n` subscriptions listen to this node's live feed (a subscription
    /// listens once the server has run its first step, which the client is not told of).
    pub async fn wait_for_live_subscribers(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + socket::PATIENCE;
        loop {
            let now = self.metric("dermis_live_subscribers").await;
            if now == n as f64 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{now} live subscribers, expected {n}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends the server process a signal (`"TERM"`, `"INT"`, `"KILL"`).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits up to `timeout` for the process to exit; its exit code (`None` when killed
    /// by a signal), or `Err(())` when it is still running.
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> Result<Option<i32>, ()> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the log reader catch up with the last lines.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Ok(status.code());
            }
            if std::time::Instant::now() >= deadline {
                return Err(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The server's SQL statement counter, from `/metrics`.
    pub async fn sql_statements(&self) -> u64 {
        self.metrics()
            .await
            .lines()
            .find_map(|line| line.strip_prefix("dermis_sql_statements_total "))
            .and_then(|n| n.trim().parse().ok())
            .expect("dermis_sql_statements_total in /metrics")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
