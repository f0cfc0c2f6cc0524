//! The layering rule, checked on the sources: each module may use only the modules below it
//! (http -> graphql -> content -> entity; configuration, errors and the database helpers
//! at the bottom), so there are no import cycles and the domain knows nothing of GraphQL.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What each top-level module may use. The entry points (`startup`, `cli`, `telemetry`)
/// wire everything and are not listed.
const ALLOWED: &[(&str, &[&str])] = &[
    ("config", &[]),
    ("markdown", &[]),
    ("metrics", &[]),
    ("db", &["config", "metrics"]),
    // Media files: what an upload is, making it safe, where it is kept; no database.
    ("media", &["config"]),
    // A database error is told apart (and recorded) as an outage by `db::availability`;
    // a refused upload is a domain error.
    ("errors", &["db", "media"]),
    ("content", &["db", "errors", "markdown", "media"]),
    ("backup", &["content", "db", "media"]),
    // A content write names its author, a user or an API token (`content::Author`).
    ("auth", &["config", "content", "db", "errors"]),
    // Webhooks deliver the content events.
    ("webhooks", &["config", "content", "db", "errors"]),
    (
        "graphql",
        &[
            "auth", "config", "content", "db", "errors", "markdown", "media", "metrics", "webhooks",
        ],
    ),
    // Runs due schedules (content) and announces them as a mutation does (graphql).
    ("scheduler", &["content", "graphql"]),
    (
        "http",
        &[
            "auth", "config", "content", "db", "errors", "graphql", "media", "metrics",
        ],
    ),
];

/// The top-level modules each top-level module names (`crate::name`), tests left out.
fn uses(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("tests.rs") {
                continue;
            }
            let Ok(relative) = path.strip_prefix(src) else {
                continue;
            };
            let module = relative
                .components()
                .next()
                .map(|c| {
                    c.as_os_str()
                        .to_string_lossy()
                        .trim_end_matches(".rs")
                        .to_owned()
                })
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (at, _) in code.match_indices("crate::") {
                let name: String = code[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if name != module && !name.is_empty() {
                    uses.entry(module.clone()).or_default().insert(name);
                }
            }
        }
    }
    uses
}

#[test]
fn modules_only_use_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let uses = uses(&src);
    assert!(uses.contains_key("http"), "sources found: {uses:?}");
    let mut wrong = Vec::new();
    for (module, allowed) in ALLOWED {
        for used in uses.get(*module).into_iter().flatten() {
            if !allowed.contains(&used.as_str()) {
                wrong.push(format!("{module} uses {used}"));
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken: {wrong:?}");
}
