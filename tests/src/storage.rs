//! Where a test server keeps media: the default folder beside its database, or a bucket
//! of an S3-compatible server (moto, started per test) when `DERMIS_TEST_MOTO` names the
//! `moto_server` command (`pip install 'moto[server]'`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Environment variable naming the `moto_server` command S3 tests start.
pub const MOTO_ENV: &str = "DERMIS_TEST_MOTO";

/// Where media is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// A folder beside the database (the default).
    Folder,
    /// S3-compatible object storage.
    S3,
}

impl Storage {
    /// Whether tests can use this storage here.
    pub fn available(self) -> bool {
        match self {
            Self::Folder => true,
            Self::S3 => std::env::var(MOTO_ENV).is_ok_and(|v| !v.is_empty()),
        }
    }
}

/// An S3-compatible server of one test, with one bucket; stopped when dropped.
pub struct S3Bucket {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    /// The key prefix the server is given (`s3://bucket/prefix`).
    pub prefix: String,
}

impl S3Bucket {
    /// Starts `moto_server` on a free loopback port and creates the bucket.
    pub async fn start() -> Self {
        let command = std::env::var(MOTO_ENV).expect("DERMIS_TEST_MOTO names moto_server");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(command)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn moto_server");
        let bucket = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "dermis-media".into(),
            prefix: "site".into(),
        };
        let client = reqwest::Client::new();
        // Python starting up on a busy machine: wait for the server to answer, however
        // long that takes, up to a bound that only a broken installation reaches.
        let mut up = false;
        for _ in 0..600 {
            if client.get(&bucket.endpoint).send().await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up, "moto_server did not start on {}", bucket.endpoint);
        let created = client
            .put(format!("{}/{}", bucket.endpoint, bucket.bucket))
            .send()
            .await
            .expect("create bucket");
        assert!(created.status().is_success(), "create bucket: {created:?}");
        bucket
    }

    /// The server's environment for this bucket.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            (
                "DERMIS_MEDIA_URL",
                format!("s3://{}/{}", self.bucket, self.prefix),
            ),
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Every key in the bucket, sorted.
    pub async fn keys(&self) -> Vec<String> {
        let listing = reqwest::get(format!(
            "{}/{}?list-type=2&max-keys=1000",
            self.endpoint, self.bucket
        ))
        .await
        .expect("list bucket")
        .text()
        .await
        .expect("listing");
        let mut keys: Vec<String> = listing
            .split("<Key>")
            .skip(1)
            .filter_map(|part| part.split("</Key>").next())
            .map(str::to_owned)
            .collect();
        keys.sort();
        keys
    }
}

impl Drop for S3Bucket {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `folder`, sorted.
pub fn files_under(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect();
    files.sort();
    files
}
