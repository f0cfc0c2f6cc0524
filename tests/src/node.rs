//! Node.js programs the tests drive: the official client libraries from npm
//! (`tests/clients`) and the README's examples (`docs/`).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::socket::PATIENCE;

/// The packages `tests/clients` needs; `npm ci` runs when one is missing.
const PACKAGES: [&str; 5] = [
    "graphql-ws",
    "ws",
    "standardwebhooks",
    "@apollo/client",
    "apollo-upload-client",
];

/// The folder of the Node.js client tests (`tests/clients`), its packages installed
/// (`npm ci`, once per test process).
pub async fn node_clients() -> PathBuf {
    static READY: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    READY
        .get_or_init(|| async {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients");
            let missing = PACKAGES.iter().any(|p| {
                !dir.join("node_modules")
                    .join(p)
                    .join("package.json")
                    .exists()
            });
            if missing {
                let status = tokio::process::Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                    .current_dir(&dir)
                    .status()
                    .await
                    .expect("run npm ci in tests/clients");
                assert!(status.success(), "npm ci in tests/clients failed");
            }
            dir
        })
        .await
        .clone()
}

/// A copy of the README example `docs/<name>` in `dir`, beside `tests/clients`'s packages
/// (ES modules find packages next to themselves, not through `NODE_PATH`).
pub async fn docs_example(name: &str, dir: &Path) -> PathBuf {
    let clients = node_clients().await;
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(name);
    let copy = dir.join(name);
    std::fs::copy(&source, &copy).expect("copy the example");
    let link = dir.join("node_modules");
    if !link.exists() {
        std::os::unix::fs::symlink(clients.join("node_modules"), &link).expect("link node_modules");
    }
    copy
}

/// A running Node.js program whose standard output is JSON lines.
pub struct NodeProcess {
    child: tokio::process::Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl NodeProcess {
    /// Runs `node script args...` with `env`.
    pub async fn start(script: &Path, args: &[String], env: &[(&str, &str)]) -> Self {
        let mut command = tokio::process::Command::new("node");
        command
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("run node");
        let stdout = child.stdout.take().expect("piped stdout");
        Self {
            child,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The program's next line, as JSON.
    pub async fn line(&mut self) -> Value {
        let line = tokio::time::timeout(PATIENCE, self.lines.next_line())
            .await
            .expect("the program reports within the patience")
            .expect("read the program's output")
            .expect("the program is still running");
        serde_json::from_str(&line).expect("a JSON line")
    }

    /// Asks the program to stop (a `stop` line on its standard input), then waits for it.
    pub async fn stop(mut self) {
        if let Some(stdin) = self.child.stdin.as_mut() {
            let _ = stdin.write_all(b"stop\n").await;
        }
        let _ = tokio::time::timeout(PATIENCE, self.child.wait()).await;
    }
}
