//! A generative differential test of the read paths: random documents over the public
//! schema (field subsets, aliases, named and inline fragments, variables, cursors taken from
//! earlier answers, searches, orderings, several roots) are answered by the compiled read
//! path, by the general executor of a node that has the compiled path switched off
//! (`DERMIS_COMPILED_READS=false`), and by the general executor for an editor; the bodies
//! must be the same bytes. Set `DERMIS_DIFF_SEED` to replay a run (every failure names its
//! seed).

use std::time::{SystemTime, UNIX_EPOCH};

use dermis_tests::{Session, TestServer, on_both_databases};
use serde_json::{Value, json};

/// Documents per run and database.
const DOCUMENTS: usize = 520;

/// A small deterministic generator (xorshift64*), so a seed replays a run exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A non-empty random subset of `items`, in a random order.
    fn subset<T: Clone>(&mut self, items: &[T], max: usize) -> Vec<T> {
        let mut pool: Vec<T> = items.to_vec();
        let take = 1 + self.below(max.min(pool.len()));
        let mut out = Vec::with_capacity(take);
        for _ in 0..take {
            let at = self.below(pool.len());
            out.push(pool.remove(at));
        }
        out
    }
}

const TOPIC_LEAVES: &[&str] = &[
    "id",
    "slug",
    "title",
    "summary",
    "body",
    "bodyHtml",
    "features",
    "benefits",
    "status",
    "publishedAt",
    "reviewedAt",
    "createdAt",
    "updatedAt",
    "version",
    "__typename",
    "references { title url }",
    "reviewedBy { id displayName }",
];
/// The topic fields the compiled path computes (documents made of these are mostly its).
const PLAIN_TOPIC_LEAVES: &[&str] = &[
    "id",
    "slug",
    "title",
    "summary",
    "body",
    "bodyHtml",
    "features",
    "benefits",
    "status",
    "version",
    "__typename",
];
const NAMED_LEAVES: &[&str] = &[
    "id",
    "slug",
    "name",
    "description",
    "descriptionHtml",
    "status",
    "version",
    "__typename",
];
const SLUGS: &[&str] = &[
    "microneedling",
    "alpha-peel",
    "alpha-peel-2",
    "quoted",
    "eclat",
    "draft-topic",
    "nope",
];
const SEARCHES: &[&str] = &[
    "peel",
    "skin",
    "laser",
    "collagen",
    "zzz",
    "é",
    "acne scars",
];

/// Builds one random document and its variables.
struct Generator<'a> {
    rng: &'a mut Rng,
    cursors: &'a [String],
    variables: Vec<String>,
    values: serde_json::Map<String, Value>,
    fragments: Vec<String>,
    /// Only what the compiled path knows (half the documents), so that both paths answer
    /// many of them.
    plain: bool,
}

impl Generator<'_> {
    fn topic_leaves(&self) -> &'static [&'static str] {
        if self.plain {
            PLAIN_TOPIC_LEAVES
        } else {
            TOPIC_LEAVES
        }
    }

    /// A `String` argument: a literal or a variable.
    fn text(&mut self, name: &str, value: &str) -> String {
        if self.rng.chance(50) {
            let var = format!("{name}{}", self.variables.len());
            let required = self.rng.chance(50);
            self.variables
                .push(format!("${var}: String{}", if required { "!" } else { "" }));
            self.values.insert(var.clone(), json!(value));
            format!("${var}")
        } else {
            serde_json::to_string(value).unwrap_or_default()
        }
    }

    /// The selection of a condition or side effect.
    fn named(&mut self) -> String {
        self.rng.subset(NAMED_LEAVES, 4).join(" ")
    }

    /// A link edge's selection.
    fn link(&mut self, side_effect: bool) -> String {
        let mut fields: Vec<String> = vec!["note".into(), "position".into(), "__typename".into()];
        if side_effect {
            fields.extend(["frequency".into(), "severity".into(), "duration".into()]);
        }
        let mut chosen = self.rng.subset(&fields, 3);
        if self.rng.chance(80) {
            chosen.push(format!("node {{ {} }}", self.named()));
        }
        chosen.join(" ")
    }

    /// A topic's selection: leaves, links, aliases, fragments.
    fn topic(&mut self) -> String {
        let leaves = self.topic_leaves();
        let mut parts: Vec<String> = self
            .rng
            .subset(leaves, 6)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if self.rng.chance(40) {
            parts.push(format!("conditions {{ {} }}", self.link(false)));
        }
        if self.rng.chance(40) {
            parts.push(format!("sideEffects {{ {} }}", self.link(true)));
        }
        if self.rng.chance(20) {
            let leaf = *self.rng.pick(&["title", "slug", "summary", "version"]);
            parts.push(format!("alias{}: {leaf}", self.rng.below(9)));
        }
        match self.rng.below(4) {
            0 => {
                let name = format!("F{}", self.fragments.len());
                let inner = self.rng.subset(leaves, 3).join(" ");
                self.fragments
                    .push(format!("fragment {name} on Topic {{ {inner} }}"));
                parts.push(format!("...{name}"));
            }
            1 => {
                let inner = self.rng.subset(leaves, 3).join(" ");
                parts.push(format!("... on Topic {{ {inner} }}"));
            }
            _ => {}
        }
        dedupe(parts).join(" ")
    }

    /// A topic list's arguments and selection.
    fn topics(&mut self) -> String {
        let mut args = Vec::new();
        if self.rng.chance(70) {
            args.push(format!("first: {}", self.rng.below(6)));
        }
        if !self.cursors.is_empty() && self.rng.chance(40) {
            let cursor = self.rng.pick(self.cursors).clone();
            let cursor = self.text("after", &cursor);
            args.push(format!("after: {cursor}"));
        }
        if self.rng.chance(25) {
            let search = *self.rng.pick(SEARCHES);
            let search = self.text("q", search);
            args.push(format!("filter: {{ search: {search} }}"));
        }
        if !self.plain && self.rng.chance(15) {
            let field = *self.rng.pick(&["TITLE", "UPDATED_AT", "PUBLISHED_AT"]);
            let direction = *self.rng.pick(&["ASC", "DESC"]);
            args.push(format!(
                "orderBy: {{ field: {field}, direction: {direction} }}"
            ));
        }
        let mut parts = Vec::new();
        if self.rng.chance(50) {
            parts.push("totalCount".to_owned());
        }
        if self.rng.chance(85) {
            let cursor = if self.rng.chance(60) { "cursor " } else { "" };
            parts.push(format!("edges {{ {cursor}node {{ {} }} }}", self.topic()));
        }
        if self.rng.chance(50) {
            let info = [
                "hasNextPage",
                "hasPreviousPage",
                "startCursor",
                "endCursor",
                "__typename",
            ];
            parts.push(format!(
                "pageInfo {{ {} }}",
                self.rng.subset(&info, 4).join(" ")
            ));
        }
        if parts.is_empty() {
            parts.push("__typename".into());
        }
        let args = if args.is_empty() {
            String::new()
        } else {
            format!("({})", args.join(", "))
        };
        format!("topics{args} {{ {} }}", parts.join(" "))
    }

    /// One root field.
    fn root(&mut self) -> String {
        let kinds = if self.plain { 9 } else { 10 };
        match self.rng.below(kinds) {
            0..=4 => {
                let slug = *self.rng.pick(SLUGS);
                let slug = self.text("slug", slug);
                format!("topic(slug: {slug}) {{ {} }}", self.topic())
            }
            5..=8 => self.topics(),
            _ => {
                let (list, one) = *self
                    .rng
                    .pick(&[("conditions", "condition"), ("sideEffects", "sideEffect")]);
                if self.rng.chance(50) {
                    format!(
                        "{list}(first: 3) {{ totalCount edges {{ node {{ {} topics {{ note node {{ slug }} }} }} }} }}",
                        self.named()
                    )
                } else {
                    format!("{one}(slug: \"acne\") {{ {} }}", self.named())
                }
            }
        }
    }

    /// A whole document: one to three roots (aliased when more than one), an operation
    /// name sometimes, its variables and fragments.
    fn document(mut self) -> (String, Value) {
        let count =
            1 + usize::from(self.rng.chance(25)) + usize::from(!self.plain && self.rng.chance(10));
        let roots: Vec<String> = (0..count)
            .map(|i| {
                let root = self.root();
                if count > 1 || self.rng.chance(10) {
                    format!("r{i}: {root}")
                } else {
                    root
                }
            })
            .collect();
        let name = if self.rng.chance(50) {
            "query Q"
        } else {
            "query"
        };
        let variables = if self.variables.is_empty() {
            String::new()
        } else {
            format!("({})", self.variables.join(", "))
        };
        let operation = if variables.is_empty() && name == "query" && self.rng.chance(50) {
            format!("{{ {} }}", roots.join(" "))
        } else {
            format!("{name}{variables} {{ {} }}", roots.join(" "))
        };
        let text = std::iter::once(operation)
            .chain(self.fragments)
            .collect::<Vec<_>>()
            .join("\n");
        (text, Value::Object(self.values))
    }
}

/// `parts` without repeated entries (GraphQL would merge them; the document stays simple).
fn dedupe(parts: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in parts {
        if !out.contains(&part) {
            out.push(part);
        }
    }
    out
}

/// Every cursor in an answer.
fn harvest(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                if matches!(key.as_str(), "cursor" | "startCursor" | "endCursor")
                    && let Some(cursor) = value.as_str()
                    && !into.iter().any(|c| c == cursor)
                {
                    into.push(cursor.to_owned());
                }
                harvest(value, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| harvest(item, into)),
        _ => {}
    }
}

/// Anonymous reads answered so far by the compiled path.
async fn compiled_reads(server: &TestServer) -> u64 {
    let metrics = server.metrics().await;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("dermis_anonymous_reads_total{executor=\"compiled\"} "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Creates the content the documents ask about: topics with equal titles, text JSON must
/// escape, links with notes and every frequency, a draft.
async fn content(server: &TestServer, admin: &Session) {
    let ids = server
        .query_as(admin, "{ conditions(first: 4) { edges { node { id } } } sideEffects(first: 4) { edges { node { id } } } }", json!({}))
        .await;
    let id = |list: &str, i: usize| ids[list]["edges"][i]["node"]["id"].clone();
    let topics = [
        ("Alpha peel", "alpha-peel", false),
        ("Alpha peel", "alpha-peel-2", false),
        ("Say \"quoted\" \\ tab\t", "quoted", false),
        ("Éclat laser 日本 😀", "eclat", false),
        ("Zeta skin", "zeta", false),
        ("Beta collagen", "beta", false),
        ("Draft topic", "draft-topic", true),
    ];
    for (n, (title, slug, draft)) in topics.into_iter().enumerate() {
        let frequency = ["COMMON", "UNCOMMON", "RARE"][n % 3];
        let severity = ["MILD", "MODERATE", "SEVERE"][n % 3];
        let duration = ["TEMPORARY", "PERSISTENT"][n % 2];
        let input = json!({
            "title": title, "slug": slug,
            "summary": format!("About {title}: skin, collagen and peel."),
            "body": format!("## {title}\n\nA *laser* or a peel, <b>bold</b> \u{2028} text."),
            "features": ["One", format!("Two {n}")], "benefits": ["Skin"],
            "references": [{ "title": "A review", "url": "https://example.org/r" }],
            "conditions": [{ "conditionId": id("conditions", n % 4), "note": format!("note \"{n}\"") }, { "conditionId": id("conditions", (n + 1) % 4) }],
            "sideEffects": [{ "sideEffectId": id("sideEffects", n % 4), "frequency": frequency,
                "severity": severity, "duration": duration, "note": "n\u{e9}" }],
        });
        let created = server
            .query_as(admin, "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id version } } }", json!({ "input": input }))
            .await["createTopic"]["topic"].clone();
        if !draft {
            server
                .query_as(admin, "mutation($input: PublishTopicInput!) { publishTopic(input: $input) { topic { status } } }",
                    json!({ "input": { "id": created["id"], "expectedVersion": created["version"], "overrideReview": "tested without review" } }))
                .await;
        }
    }
}

on_both_databases! {
    async fn random_documents_get_the_same_bytes_from_every_read_path(backend) {
        let compiled = TestServer::on(backend).sample()
            .env("DERMIS_RESPONSE_CACHE_BYTES", "0").env("DERMIS_RATE_LIMIT_PER_SECOND", "0")
            .start().await;
        let general = compiled
            .another_node(&[("DERMIS_RESPONSE_CACHE_BYTES", "0"), ("DERMIS_RATE_LIMIT_PER_SECOND", "0"),
                ("DERMIS_COMPILED_READS", "false")])
            .await;
        let admin = compiled.first_admin().await;
        content(&compiled, &admin).await;
        let seed = std::env::var("DERMIS_DIFF_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(7) | 1);
        let mut rng = Rng(seed);
        let mut cursors: Vec<String> = Vec::new();
        let before = compiled_reads(&compiled).await;
        let mut with_data = 0;
        for n in 0..DOCUMENTS {
            let generator = Generator { rng: &mut rng, cursors: &cursors, variables: Vec::new(), values: serde_json::Map::new(), fragments: Vec::new(), plain: n % 2 == 0 };
            let (query, variables) = generator.document();
            let body = json!({ "query": query, "variables": variables });
            let context = || format!("seed {seed}, document {n}: {query} {variables}");
            // The first anonymous answer teaches the compiled path; the second may come from it.
            let (status, taught) = compiled.post_text(None, &body).await;
            let (_, again) = compiled.post_text(None, &body).await;
            let (reference_status, reference) = general.post_text(None, &body).await;
            let (_, editor) = compiled.post_text(Some(&admin.access), &body).await;
            assert_eq!(status, reference_status, "{}", context());
            assert_eq!(taught, reference, "first answer, {}", context());
            assert_eq!(again, reference, "compiled answer, {}", context());
            assert_eq!(editor, reference, "editor's answer, {}", context());
            let answer: Value = serde_json::from_str(&reference).unwrap_or_default();
            if answer.get("errors").is_none() {
                with_data += 1;
            }
            harvest(&answer, &mut cursors);
        }
        let compiled_answers = compiled_reads(&compiled).await - before;
        eprintln!("seed {seed}: {compiled_answers} compiled answers, {with_data} clean, {} cursors", cursors.len());
        // The test means something only if both paths answered many documents.
        assert!(with_data >= DOCUMENTS / 2, "seed {seed}: only {with_data} documents had clean answers");
        assert!(compiled_answers >= (DOCUMENTS / 4) as u64, "seed {seed}: only {compiled_answers} compiled answers");
        assert!(cursors.len() >= 5, "seed {seed}: cursors {cursors:?}");
    }
}
