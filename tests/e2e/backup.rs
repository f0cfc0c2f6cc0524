//! `dermis export` / `dermis import`: a round trip SQLite -> PostgreSQL -> SQLite (SQLite
//! -> SQLite -> SQLite without PostgreSQL) keeps every row and every byte of every media
//! file, and the imported database is fully usable: the same passwords sign in, history is
//! intact, images are served, new rows get new ids. A damaged, cut-short or hostile archive
//! loads nothing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use dermis_tests::archive::Archive;
use dermis_tests::storage::S3Bucket;
use dermis_tests::{
    Backend, PASSWORD, Storage, TestDb, TestServer, dermis_on, on_both_databases, on_both_storages,
    run, without_database,
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::media::{png, upload};

/// Runs `dermis export --output PATH` with `command` (a database and its media); returns
/// the archive and what the command printed.
async fn export(mut command: Command, path: &Path) -> (Archive, String) {
    command.args(["export", "--output"]).arg(path);
    let output = run(command).await;
    assert_eq!(output.code, Some(0), "export failed: {output:?}");
    (Archive::read(path), output.stderr)
}

/// Runs `dermis import FILE` with `command`; returns the exit code and the output.
async fn import(mut command: Command, path: &Path) -> (Option<i32>, String) {
    command.arg("import").arg(path);
    let output = run(command).await;
    (output.code, format!("{}{}", output.stdout, output.stderr))
}

/// Counts the rows of `table` in `db`.
async fn count(db: &TestDb, table: &str) -> i64 {
    let conn = db.connect().await;
    conn.query_one_raw(Statement::from_string(
        conn.get_database_backend(),
        format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}"),
    ))
    .await
    .expect("count")
    .and_then(|row| row.try_get::<i64>("", "n").ok())
    .expect("a count")
}

/// The bytes at `url` on `server` (status 200).
async fn fetch(server: &TestServer, url: &str) -> Vec<u8> {
    let response = server
        .client
        .get(server.url(url))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response.bytes().await.expect("body").to_vec()
}

/// An archive's entries, name and bytes, in order.
type Entries = Vec<(String, Vec<u8>)>;

const HISTORY: &str = "query($id: ID!) { revisions(documentType: TOPIC, documentId: $id) { edges { node { version message author { email } } } } }";
const PAGE: &str = "{ topic(slug: \"microneedling\") { bodyHtml image { url alt width height srcset variants { url } } } }";

/// Every address a page's images are served at: the hero's original and its variants.
fn image_urls(page: &Value) -> Vec<String> {
    let image = &page["topic"]["image"];
    std::iter::once(&image["url"])
        .chain(
            image["variants"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| &v["url"]),
        )
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

without_database! {
    async fn export_and_import_round_trip_between_databases() {
        // The source: sample content, two users, an edit with history, a draft with links,
        // a photo shown as the hero image and in the body, and a PDF.
        let source = TestServer::sample(Backend::Sqlite).await;
        let admin = source.first_admin().await;
        let editor = source.user(&admin, "editor@example.org", "EDITOR").await;
        let photo = upload(&source, &editor, png(700, 420), "before.png", "Forearm before treatment").await;
        let leaflet = upload(&source, &editor, b"%PDF-1.4\n%%EOF\n".to_vec(), "aftercare.pdf", "").await;
        let topic = source.query("{ topic(slug: \"microneedling\") { id version body } }", json!({})).await["topic"].clone();
        let body = format!(
            "{}\n\n![Forearm before treatment](media:{})\n\nRead [the leaflet](media:{}).",
            topic["body"].as_str().expect("body"), photo["id"].as_str().expect("id"), leaflet["id"].as_str().expect("id"),
        );
        source.query_as(&editor,
            "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version } } }",
            json!({ "input": { "id": topic["id"], "expectedVersion": topic["version"], "summary": "Edited before the move.", "imageId": photo["id"], "body": body } }),
        ).await;
        source.query_as(&editor,
            "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id } } }",
            json!({ "input": { "title": "Chemical peel", "summary": "A draft.", "conditions": [{ "conditionId": "1", "note": "Mild cases." }] } }),
        ).await;
        let history = source.query_as(&editor, HISTORY, json!({ "id": topic["id"] })).await;
        let page = source.query(PAGE, json!({})).await;
        let urls = image_urls(&page);
        assert_eq!(urls.len(), 4, "the original and three variants: {page}");
        let mut served = Vec::new();
        for url in &urls {
            served.push(fetch(&source, url).await);
        }

        let dir = dermis_tests::tempfile::tempdir().expect("temporary folder");
        let (first, printed) = export(source.command(), &dir.path().join("a.tar")).await;
        assert!(printed.contains("exported 2 users, 2 topics"), "{printed}");
        assert!(printed.contains("2 media items (5 files)"), "{printed}");
        assert_eq!(first.header["format"], "dermis-export");
        assert_eq!(first.header["formatVersion"], 3);
        assert_eq!(first.entries.first().map(String::as_str), Some("dermis-export.json"));
        assert_eq!(first.entries.last().map(String::as_str), Some("dermis-export-end.json"));
        assert!(first.rows("users").iter().all(|u| u["passwordHash"].as_str().is_some_and(|h| h.starts_with("$argon2id$"))), "hashes only");
        let raw = std::fs::read(dir.path().join("a.tar")).expect("read");
        assert!(!String::from_utf8_lossy(&raw).contains(PASSWORD), "never a password");
        assert!(first.rows("revisions").len() >= 13, "{:?}", first.rows("revisions").len());
        let text = serde_json::to_string(&first.tables).expect("JSON");
        assert!(!text.contains("body_html") && !text.contains("bodyHtml"), "derived HTML stays out of exports");
        assert_eq!(first.rows("media").len(), 2);
        assert_eq!(first.rows("mediaUses").len(), 2, "{:?}", first.rows("mediaUses"));
        // Every file, byte for byte as the source serves it.
        let hash = photo["contentHash"].as_str().expect("hash");
        assert_eq!(first.objects.get(&format!("originals/{hash}.png")), Some(&served[0]));
        for width in [320, 640, 700] {
            assert!(first.objects.contains_key(&format!("variants/{hash}/{width}.webp")), "{:?}", first.objects.keys());
        }
        assert_eq!(first.objects.len(), 5, "{:?}", first.objects.keys());
        assert_eq!(first.end["objects"], 5);
        assert_eq!(first.end["rows"]["topics"], 2);

        // Into PostgreSQL when configured (else another SQLite), and back into SQLite.
        let middle_backend = if Backend::Postgres.available() { Backend::Postgres } else { Backend::Sqlite };
        let middle = Arc::new(TestDb::create(middle_backend).await);
        let (code, output) = import(dermis_on(&middle, None), &dir.path().join("a.tar")).await;
        assert_eq!(code, Some(0), "{output}");
        assert!(output.contains("imported 2 users, 2 topics"), "{output}");
        assert!(output.contains("2 media items (5 files)"), "{output}");
        // The import rendered the HTML the export left out.
        let conn = middle.connect().await;
        let unrendered = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM topics WHERE body_html IS NULL",
            ))
            .await
            .expect("count")
            .and_then(|row| row.try_get::<i64>("", "n").ok());
        assert_eq!(unrendered, Some(0));
        drop(conn);
        // Compressed this time: gzip, as the name asks.
        let (second, _) = export(dermis_on(&middle, None), &dir.path().join("b.tar.gz")).await;
        let raw = std::fs::read(dir.path().join("b.tar.gz")).expect("read");
        assert!(raw.starts_with(&[0x1f, 0x8b]), "gzip");
        assert!(!dir.path().join("b.tar.gz.partial").exists(), "written whole, then renamed");
        assert_eq!(second.content(), first.content(), "{middle_backend:?} holds exactly what SQLite held");

        let last = TestDb::create(Backend::Sqlite).await;
        let (code, output) = import(dermis_on(&last, None), &dir.path().join("b.tar.gz")).await;
        assert_eq!(code, Some(0), "{output}");
        // The import is in the database file itself, not left in the write-ahead log.
        let file = last.url.trim_start_matches("sqlite://").split('?').next().unwrap_or_default().to_owned();
        let wal = std::fs::metadata(format!("{file}-wal")).map(|m| m.len()).unwrap_or(0);
        assert_eq!(wal, 0, "{file}-wal");
        assert!(std::fs::metadata(&file).is_ok_and(|m| m.len() > 0), "{file}");
        let (third, _) = export(dermis_on(&last, None), &dir.path().join("c.tar")).await;
        assert_eq!(third.content(), first.content(), "and back");

        // The imported database works: same passwords, same history, the same page with
        // the same images, new ids after the old.
        let server = TestServer::serve(middle.clone()).await;
        let editor = server.login("editor@example.org", PASSWORD).await;
        assert_eq!(server.query_as(&editor, HISTORY, json!({ "id": topic["id"] })).await, history);
        let data = server.query("{ topic(slug: \"microneedling\") { summary conditions { node { slug } } } }", json!({})).await;
        assert_eq!(data["topic"]["summary"], "Edited before the move.");
        assert_eq!(server.query(PAGE, json!({})).await, page, "same HTML, same image, same addresses");
        for (url, bytes) in urls.iter().zip(&served) {
            assert_eq!(&fetch(&server, url).await, bytes, "{url}");
        }
        assert_eq!(data["topic"]["conditions"].as_array().map(Vec::len), Some(8));
        let created = server.query_as(&editor,
            "mutation($input: CreateConditionInput!) { createCondition(input: $input) { condition { id } } }",
            json!({ "input": { "name": "Melasma" } }),
        ).await;
        let id: i64 = created["createCondition"]["condition"]["id"].as_str().and_then(|s| s.parse().ok()).expect("numeric id");
        assert!(id > 8, "ids continue after the imported ones: {id}");
        let another = upload(&server, &editor, png(30, 20), "after.png", "Forearm after").await;
        let id: i64 = another["id"].as_str().and_then(|s| s.parse().ok()).expect("numeric id");
        assert!(id > 2, "media ids too: {id}");

        // Import refuses a database that holds data, and a file that is no export.
        let (code, output) = import(dermis_on(&middle, None), &dir.path().join("a.tar")).await;
        assert_eq!(code, Some(2), "{output}");
        assert!(output.contains("not empty"), "{output}");
        let garbage = dir.path().join("garbage.json");
        std::fs::write(&garbage, r#"{"format":"something else"}"#).expect("write");
        let empty = TestDb::create(Backend::Sqlite).await;
        let (code, output) = import(dermis_on(&empty, None), &garbage).await;
        assert_eq!(code, Some(2), "{output}");
        assert!(output.contains("not a Dermis export"), "{output}");
    }
}

on_both_storages! {
    async fn an_export_piped_into_an_import_carries_the_media_store(backend, storage) {
        // `dermis export | dermis import -`: one stream from one installation into another
        // with its own database and its own media store (its own bucket on S3).
        let source = TestServer::on(backend).storage(storage).sample().start().await;
        let admin = source.first_admin().await;
        let photo = upload(&source, &admin, png(400, 300), "diagram.png", "How the needles reach the dermis").await;
        let topic = source.query("{ topic(slug: \"microneedling\") { id version } }", json!({})).await["topic"].clone();
        source.query_as(&admin,
            "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version } } }",
            json!({ "input": { "id": topic["id"], "expectedVersion": topic["version"], "imageId": photo["id"] } }),
        ).await;
        let page = source.query(PAGE, json!({})).await;

        let target = Arc::new(TestDb::create(backend).await);
        let bucket = match storage {
            Storage::S3 => Some(Arc::new(S3Bucket::start().await)),
            Storage::Folder => None,
        };
        let mut exporter = source.command();
        exporter.arg("export").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut exporter = exporter.spawn().expect("spawn export");
        let pipe = exporter.stdout.take().expect("stdout");
        let mut importer = dermis_on(&target, bucket.as_deref());
        importer.args(["import", "-"]).stdin(Stdio::from(pipe)).stdout(Stdio::piped()).stderr(Stdio::piped());
        let importer = importer.spawn().expect("spawn import");
        let (exported, imported) = tokio::task::spawn_blocking(move || {
            (exporter.wait_with_output(), importer.wait_with_output())
        }).await.expect("join");
        let (exported, imported) = (exported.expect("export ran"), imported.expect("import ran"));
        assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
        let said = format!("{}{}", String::from_utf8_lossy(&imported.stdout), String::from_utf8_lossy(&imported.stderr));
        assert!(imported.status.success(), "{said}");
        assert!(said.contains("1 media items (3 files)"), "{said}");

        let copy = TestServer::serve_media(target.clone(), bucket).await;
        assert_eq!(copy.stored_media().await, source.stored_media().await, "the same objects");
        assert_eq!(copy.query(PAGE, json!({})).await, page);
        for url in image_urls(&page) {
            assert_eq!(fetch(&copy, &url).await, fetch(&source, &url).await, "{url}");
        }
    }
}

on_both_databases! {
    async fn a_damaged_cut_short_or_hostile_archive_loads_nothing(backend) {
        let source = TestServer::sample(backend).await;
        let admin = source.first_admin().await;
        upload(&source, &admin, png(40, 30), "small.png", "A small image").await;
        let dir = dermis_tests::tempfile::tempdir().expect("temporary folder");
        let good_path = dir.path().join("good.tar");
        let (good, _) = export(source.command(), &good_path).await;
        let raw = std::fs::read(&good_path).expect("read");

        // Entries as written, to rebuild variants of the archive from.
        let mut entries: Entries = Vec::new();
        for name in &good.entries {
            let bytes = if name == "dermis-export.json" {
                serde_json::to_vec(&good.header).expect("JSON")
            } else if name == "dermis-export-end.json" {
                serde_json::to_vec(&good.end).expect("JSON")
            } else if let Some(object) = name.strip_prefix("objects/") {
                good.objects[object].clone()
            } else {
                let table = name.split('/').next().expect("table");
                good.rows(table).iter().map(|row| format!("{row}\n")).collect::<String>().into_bytes()
            };
            entries.push((name.clone(), bytes));
        }
        let rebuilt = |name: &str, change: &dyn Fn(&mut Entries)| {
            let mut entries = entries.clone();
            change(&mut entries);
            let path = dir.path().join(name);
            let borrowed: Vec<(&str, Vec<u8>)> = entries.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
            Archive::write(&path, &borrowed);
            path
        };
        let original = entries.iter().position(|(n, _)| n.starts_with("objects/originals/")).expect("an original");
        let topics = entries.iter().position(|(n, _)| n.starts_with("topics/")).expect("topics");
        let end = entries.len() - 1;

        // The rebuilding itself loses nothing: rebuilt as written, the archive loads.
        let same = rebuilt("same.tar", &|_| {});
        let db = TestDb::create(backend).await;
        let (code, output) = import(dermis_on(&db, None), &same).await;
        assert_eq!(code, Some(0), "{output}");

        let cut = dir.path().join("cut.tar");
        std::fs::write(&cut, &raw[..raw.len() / 2]).expect("write");
        let mut without_objects = good.end.clone();
        without_objects["objects"] = json!(0);
        let cases: Vec<(&str, std::path::PathBuf, &[&str])> = vec![
            ("cut in half", cut, &["cut short", "damaged"]),
            ("without its end", rebuilt("no-end.tar", &|e| { e.pop(); }), &["cut short"]),
            ("an end that disagrees", rebuilt("wrong-end.tar", &|e| {
                e[end].1 = br#"{"rows":{"topics":1},"objects":1}"#.to_vec();
            }), &["the archive's end lists"]),
            ("an image swapped", rebuilt("swapped.tar", &|e| {
                let bytes = &mut e[original].1;
                let last = bytes.len() - 1;
                bytes[last] ^= 0xff;
            }), &["do not match its name"]),
            ("a file placed outside the store", rebuilt("escape.tar", &|e| {
                e[original].0 = "objects/../../escaped.png".into();
            }), &["not a media file name"]),
            ("a topic that is not JSON", rebuilt("not-json.tar", &|e| {
                e[topics].1 = b"{\"id\": 1, \"slug\": \n".to_vec();
            }), &["topics/000001.jsonl, line 1"]),
            ("the media files left out", rebuilt("no-file.tar", &|e| {
                e.retain(|(n, _)| !n.starts_with("objects/"));
                let end = e.len() - 1;
                e[end].1 = serde_json::to_vec(&without_objects).expect("JSON");
            }), &["lacks media file"]),
        ];
        for (what, path, why) in cases {
            let db = TestDb::create(backend).await;
            let (code, output) = import(dermis_on(&db, None), &path).await;
            assert_eq!(code, Some(2), "{what}: {output}");
            assert!(why.iter().any(|w| output.contains(w)), "{what}: {output}");
            assert!(output.contains("not a Dermis export"), "{what}: {output}");
            for table in ["users", "topics", "conditions", "media", "revisions"] {
                assert_eq!(count(&db, table).await, 0, "{what}: nothing written to {table}");
            }
            assert!(!db.dir.path().join("escaped.png").exists(), "{what}");
            // The same database takes the good archive afterwards: nothing was left behind.
            let (code, output) = import(dermis_on(&db, None), &good_path).await;
            assert_eq!(code, Some(0), "{what}, then the good archive: {output}");
        }
    }
}

/// An export of `topics` published topics whose texts come from a small vocabulary, each
/// with one word of its own (`word000001`, ...) in its summary: enough text that FTS5
/// fills its index in several flushes.
fn bulk_export(topics: usize) -> Value {
    const NOW: &str = "2026-11-25T00:00:00Z";
    const VOCABULARY: [&str; 12] = [
        "skin",
        "collagen",
        "dermis",
        "needle",
        "treatment",
        "redness",
        "swelling",
        "acne",
        "scar",
        "texture",
        "tone",
        "repair",
    ];
    // The same pseudo-random words on every run.
    let mut state: u64 = 20_261_202;
    let mut words = |n: usize| {
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                VOCABULARY[(state >> 33) as usize % VOCABULARY.len()]
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let rows: Vec<Value> = (1..=topics)
        .map(|i| {
            json!({
                "id": i, "slug": format!("topic-{i:06}"), "title": format!("Topic {i:06}"),
                "summary": format!("{} word{i:06}.", words(30)),
                "body": format!("## How it works\n\n{}\n\n{}", words(120), words(80)),
                "features": [], "benefits": [], "references": [],
                "reviewed_at": null, "reviewed_by": null, "status": "PUBLISHED",
                "published_at": NOW, "version": 1, "created_at": NOW, "updated_at": NOW,
                "created_by": null, "updated_by": null,
            })
        })
        .collect();
    json!({
        "format": "dermis-export", "formatVersion": 1, "exportedAt": NOW, "dermisVersion": "test",
        "users": [], "conditions": [], "sideEffects": [], "topics": rows,
        "topicConditions": [], "topicSideEffects": [], "revisions": [],
    })
}

on_both_databases! {
    async fn a_bulk_import_leaves_the_search_index_merged(backend) {
        // 1,000 topics: FTS5 fills the index in five flushes, which its own merging leaves
        // as five segments; a prefix search seeks in each (BENCHMARKS.md).
        let db = Arc::new(TestDb::create(backend).await);
        let file = db.dir.path().join("bulk.json");
        std::fs::write(&file, bulk_export(1000).to_string()).expect("write export");
        let (code, output) = import(dermis_on(&db, None), &file).await;
        assert_eq!(code, Some(0), "{output}");
        assert!(output.contains("imported 0 users, 1000 topics"), "{output}");

        if backend == Backend::Sqlite {
            let conn = db.connect().await;
            for table in ["topics_search", "conditions_search", "side_effects_search"] {
                let segments = conn
                    .query_one_raw(Statement::from_string(
                        conn.get_database_backend(),
                        format!("SELECT COUNT(DISTINCT segid) AS n FROM {table}_idx"),
                    ))
                    .await
                    .expect("count segments")
                    .and_then(|row| row.try_get::<i64>("", "n").ok());
                assert!(segments.is_some_and(|n| n <= 1), "{table}: {segments:?} segments after the import");
            }
            drop(conn);
        }

        // Search reads the merged index: word beginnings, every word, totals.
        let server = TestServer::serve(db.clone()).await;
        let search = "query($q: String) { topics(first: 20, filter: { search: $q }) { totalCount edges { node { slug } } } }";
        let found = server.query(search, json!({ "q": "word00050" })).await;
        assert_eq!(found["topics"]["totalCount"], 10, "{found}");
        let slugs: Vec<&str> = found["topics"]["edges"].as_array().into_iter().flatten()
            .filter_map(|e| e["node"]["slug"].as_str()).collect();
        let expected: Vec<String> = (500..510).map(|i| format!("topic-{i:06}")).collect();
        assert_eq!(slugs, expected);
        let one = server.query(search, json!({ "q": "WORD000777 how" })).await;
        assert_eq!(one["topics"]["edges"][0]["node"]["slug"], "topic-000777", "{one}");
        assert_eq!(one["topics"]["totalCount"], 1, "{one}");
        let none = server.query(search, json!({ "q": "word000777 zzz" })).await;
        assert_eq!(none["topics"]["totalCount"], 0, "{none}");
        let all = server.query(search, json!({ "q": "how" })).await;
        assert_eq!(all["topics"]["totalCount"], 1000, "{all}");
        // The import kept the per-status counts that unfiltered lists read.
        let listed = server.query("{ topics(first: 1) { totalCount } conditions { totalCount } }", json!({})).await;
        assert_eq!(listed, json!({ "topics": { "totalCount": 1000 }, "conditions": { "totalCount": 0 } }));
    }
}

on_both_databases! {
    async fn an_export_during_a_burst_of_saves_is_one_moment_of_the_database(backend) {
        // Each save writes the topic and its revision together. An export that read its
        // tables at different moments would hold a topic without its newest revision, or a
        // revision newer than its topic; one snapshot holds neither.
        let server = Arc::new(TestServer::sample(backend).await);
        let admin = server.first_admin().await;
        const UPDATE: &str = "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version } } }";
        let saving = {
            let server = server.clone();
            let admin = admin.clone();
            tokio::spawn(async move {
                let topic = server.query("{ topic(slug: \"microneedling\") { id version } }", json!({})).await["topic"].clone();
                let mut version = topic["version"].as_i64().expect("version");
                for round in 0..40 {
                    let saved = server.query_as(&admin, UPDATE, json!({ "input": { "id": topic["id"], "expectedVersion": version, "summary": format!("Saved in round {round}.") } })).await;
                    version = saved["updateTopic"]["topic"]["version"].as_i64().expect("saved");
                }
                version
            })
        };
        let dir = dermis_tests::tempfile::tempdir().expect("temporary folder");
        let mut exports = 0;
        while !saving.is_finished() || exports == 0 {
            let (archive, _) = export(server.command(), &dir.path().join(format!("{exports}.tar"))).await;
            exports += 1;
            for topic in archive.rows("topics") {
                let newest = archive.rows("revisions").iter()
                    .filter(|r| r["entityType"] == "topic" && r["entityId"] == topic["id"])
                    .filter_map(|r| r["version"].as_i64())
                    .max();
                assert_eq!(newest, topic["version"].as_i64(), "export {exports}: topic {} and its history", topic["slug"]);
            }
        }
        let last = saving.await.expect("saves");
        assert_eq!(last, 41, "every save landed");
        eprintln!("{backend:?}: {exports} exports during 40 saves, each one moment");
    }
}
