//! The guards against random documents: valid ones that mix every recursive construct with
//! strings, block strings, escapes, comments and unicode at random depths, and the same
//! documents cut up and stitched with quotes, backslashes and brackets. The checks run on a
//! thread with a small stack: an overflow anywhere aborts the test process, so it fails.

use proptest::prelude::*;

use super::*;
use crate::graphql::QueryLimits;

/// A stack far smaller than a worker thread's 2 MiB: whatever needs more must make room.
const SMALL_STACK: usize = 128 * 1024;

/// Runs `check` on a thread with [`SMALL_STACK`]; its panic becomes this thread's.
fn on_small_stack(check: impl FnOnce() + Send + 'static) {
    let outcome = std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(check)
        .expect("spawn a thread")
        .join();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Builds a document from a script of choices: each choice takes the script's next byte
/// (0 once it is used up, which always picks a leaf), so shrinking the script shrinks the
/// document.
struct Writer<'a> {
    script: &'a [u8],
    at: usize,
    out: String,
    names: usize,
}

const NAMES: [&str; 6] = ["a", "topic", "_b2", "sideEffects", "Q", "nodes"];

/// Characters that confuse lexers: quotes, backslashes, every bracket, comment starts,
/// multi-byte characters, a NUL.
const TRICKY: [char; 16] = [
    'a', ' ', '"', '\\', '{', '}', '[', ']', '(', ')', '#', 'é', '😀', '\u{0}', '/', 'u',
];

impl<'a> Writer<'a> {
    fn new(script: &'a [u8]) -> Self {
        Self {
            script,
            at: 0,
            out: String::new(),
            names: 0,
        }
    }

    fn pick(&mut self, choices: usize) -> usize {
        let byte = self.script.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        usize::from(byte) % choices
    }

    /// Room left: documents stay well under the bracket ceiling.
    fn roomy(&self) -> bool {
        self.out.len() < 6_000
    }

    fn push(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// Ignored tokens: always one space, sometimes commas, line ends, tabs, a BOM, or a
    /// comment full of quotes and brackets.
    fn gap(&mut self) {
        self.push(" ");
        for _ in 0..self.pick(3) {
            match self.pick(8) {
                0 => self.push(","),
                1 => self.push("\n"),
                2 => self.push("\r\n"),
                3 => self.push("\t"),
                4 => self.push("\u{feff}"),
                5 => self.push("\r"),
                _ => {
                    self.push("#");
                    for _ in 0..self.pick(12) {
                        let c = TRICKY[self.pick(TRICKY.len())];
                        self.out.push(c);
                    }
                    self.push("\n");
                }
            }
        }
    }

    fn name(&mut self) {
        let name = NAMES[self.pick(NAMES.len())];
        self.push(name);
    }

    fn fresh_name(&mut self, prefix: &str) -> String {
        self.names += 1;
        format!("{prefix}{}", self.names)
    }

    /// A string as the parser reads it: plain with every escape, or a block string.
    fn string(&mut self) {
        let mut raw = String::new();
        for _ in 0..self.pick(12) {
            match self.pick(TRICKY.len() + 3) {
                i if i < TRICKY.len() => raw.push(TRICKY[i]),
                i if i == TRICKY.len() => raw.push('\n'),
                i if i == TRICKY.len() + 1 => raw.push('\r'),
                _ => raw.push_str("\"\"\"["),
            }
        }
        if self.pick(2) == 0 {
            self.push("\"");
            for c in raw.chars() {
                match c {
                    '"' => self.push("\\\""),
                    '\\' => self.push("\\\\"),
                    '\n' => self.push("\\n"),
                    '\r' => self.push("\\r"),
                    '/' => self.push("\\/"),
                    'é' => self.push("\\u00E9"),
                    other => self.out.push(other),
                }
            }
            self.push("\"");
        } else {
            let mut content = raw.replace("\"\"\"", "\\\"\"\"");
            if content.ends_with('"') || content.ends_with('\\') {
                content.push(' ');
            }
            self.push("\"\"\"");
            self.push(&content);
            self.push("\"\"\"");
        }
    }

    /// A value (a constant one in variable defaults); `budget` bounds its nesting.
    fn value(&mut self, budget: usize, constant: bool) {
        let nest = budget > 0 && self.roomy();
        match self.pick(12) {
            0 => self.push("-12"),
            1 => self.push("3.5e2"),
            2 | 3 => self.string(),
            4 => {
                let keyword = ["true", "false", "null"][self.pick(3)];
                self.push(keyword);
            }
            5 => self.push("PUBLISHED"),
            6 if !constant => self.push("$v1"),
            7 | 8 if nest => {
                self.push("[");
                for _ in 0..self.pick(3) {
                    self.gap();
                    self.value(budget - 1, constant);
                }
                self.gap();
                self.push("]");
            }
            9 | 10 if nest => {
                self.push("{");
                for key in 0..self.pick(3) {
                    self.gap();
                    self.push(&format!("k{key}:"));
                    self.gap();
                    self.value(budget - 1, constant);
                }
                self.gap();
                self.push("}");
            }
            11 if nest => {
                // A run of lists at once: depth without breadth.
                let run = (self.pick(64) + 1).min(budget);
                self.push(&"[".repeat(run));
                self.value(budget - run, constant);
                self.push(&"]".repeat(run));
            }
            _ => self.push("0"),
        }
    }

    /// A type: named, or lists of it (the parser reads a type as one token: no spaces).
    fn type_(&mut self, budget: usize) {
        let run = if budget > 0 && self.pick(3) == 0 {
            (self.pick(40) + 1).min(budget)
        } else {
            0
        };
        self.push(&"[".repeat(run));
        self.push("Int");
        for _ in 0..run {
            if self.pick(2) == 0 {
                self.push("!");
            }
            self.push("]");
        }
        if self.pick(2) == 0 {
            self.push("!");
        }
    }

    fn arguments(&mut self, budget: usize) {
        self.push("(");
        for _ in 0..=self.pick(2) {
            self.gap();
            self.name();
            self.push(":");
            self.gap();
            self.value(budget, false);
        }
        self.gap();
        self.push(")");
    }

    fn directives(&mut self, budget: usize) {
        for _ in 0..self.pick(2) {
            self.gap();
            self.push("@include");
            if self.pick(2) == 0 {
                self.arguments(budget);
            }
        }
    }

    /// A selection set; `sets` bounds how many more sets may nest in it (the parser allows
    /// 64), `budget` the nesting of values.
    fn selection_set(&mut self, sets: usize, budget: usize) {
        self.push("{");
        for _ in 0..=self.pick(2) {
            self.gap();
            let nest = sets > 0 && self.roomy();
            match self.pick(6) {
                0 if nest => {
                    self.push("...");
                    if self.pick(2) == 0 {
                        self.gap();
                        self.push("on Topic");
                    }
                    self.directives(budget);
                    self.gap();
                    self.selection_set(sets - 1, budget);
                }
                1 => {
                    self.push("...Frag");
                    self.directives(budget);
                }
                choice => {
                    if self.pick(3) == 0 {
                        self.push("alias: ");
                    }
                    self.name();
                    if self.pick(2) == 0 {
                        self.arguments(budget);
                    }
                    self.directives(budget);
                    if nest && choice >= 4 {
                        self.gap();
                        self.selection_set(sets - 1, budget);
                    }
                }
            }
        }
        self.gap();
        self.push("}");
    }

    /// A whole document: one operation (shorthand or with variables and directives), then
    /// fragments.
    fn document(mut self) -> String {
        let budget = 160;
        self.gap();
        if self.pick(2) == 0 {
            self.selection_set(60, budget);
        } else {
            let kind = ["query", "mutation", "subscription"][self.pick(3)];
            self.push(kind);
            self.push(" ");
            let name = self.fresh_name("Op");
            self.push(&name);
            if self.pick(2) == 0 {
                self.push("(");
                for _ in 0..=self.pick(2) {
                    self.gap();
                    let variable = self.fresh_name("$v");
                    self.push(&variable);
                    self.push(":");
                    self.gap();
                    self.type_(budget);
                    // The parser wants a definition's directives before its default.
                    self.directives(budget);
                    if self.pick(2) == 0 {
                        self.gap();
                        self.push("=");
                        self.gap();
                        self.value(budget, true);
                    }
                }
                self.gap();
                self.push(")");
            }
            self.directives(budget);
            self.gap();
            self.selection_set(60, budget);
        }
        for _ in 0..self.pick(3) {
            self.gap();
            let name = self.fresh_name("Frag");
            self.push(&format!("fragment {name} on Topic"));
            self.directives(budget);
            self.gap();
            self.selection_set(60, budget);
        }
        self.gap();
        self.out
    }
}

/// Text put into documents to derail a lexer.
const SPLICES: [&str; 16] = [
    "\"",
    "\"\"\"",
    "\\",
    "\\\"\"\"",
    "#",
    "\n",
    "[",
    "{",
    "(",
    "]",
    "}",
    ")",
    "\"\"",
    "é",
    "\"\"\" \" [[]] ",
    "\"\"\"\" \"\" ",
];

/// `text` with `edits` applied: each inserts a splice, a run of brackets, or removes a
/// character, at a position picked from the edit's number.
fn mutate(text: &str, edits: &[(usize, u8)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(position, edit) in edits {
        let mut at = position % (chars.len() + 1);
        if edit >= 128 {
            // Just inside a list, where an unterminated block string still parses.
            let opens: Vec<usize> = (0..chars.len()).filter(|&i| chars[i] == '[').collect();
            if let Some(open) = opens.get(position % opens.len().max(1)) {
                at = open + 1;
            }
        }
        match usize::from(edit % 128) % (SPLICES.len() + 3) {
            i if i < SPLICES.len() => {
                chars.splice(at..at, SPLICES[i].chars());
            }
            i if i == SPLICES.len() => {
                chars.splice(at..at, "[".repeat(300).chars());
            }
            i if i == SPLICES.len() + 1 => {
                chars.splice(at..at, "{a ".repeat(100).chars());
            }
            _ => {
                if at < chars.len() {
                    chars.remove(at);
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// What every text must satisfy, on a small stack: the blind count is an upper bound of the
/// lexer's depth; a document the guarded parse admits nests within the limit by both
/// measures; inspecting it (the whole stage 1) finishes.
fn guarded(text: String) {
    on_small_stack(move || {
        let lexical = depth(&text);
        assert!(brackets(&text) >= lexical, "{text:?}");
        let limits = QueryLimits::default();
        if let Ok(document) = parse(&text, limits.max_nesting) {
            assert!(lexical <= limits.max_nesting, "{text:?}");
            assert!(document_depth(&document) <= limits.max_nesting, "{text:?}");
        }
        let _ = limits.inspect(&text, None, None);
    });
}

/// The parse without a limit (on a thread with room for it): the tree of any text the
/// parser accepts nests no deeper than the lexer measured; `exact` asks for equality.
fn agrees(text: &str, exact: bool) {
    let lexical = depth(text);
    match parse(text, usize::MAX) {
        Ok(document) => {
            let parsed = document_depth(&document);
            if exact {
                assert_eq!(parsed, lexical, "{text:?}");
            } else {
                assert!(
                    parsed <= lexical,
                    "{text:?}: tree {parsed} > text {lexical}"
                );
            }
        }
        Err(Refusal::Syntax(error)) => {
            assert!(
                !exact,
                "a generated document did not parse: {error:?}\n{text}"
            );
        }
        Err(Refusal::TooDeep(_) | Refusal::TooManyBrackets(_)) => {}
    }
}

proptest! {
    // A failure prints its shrunk input; no regression files are written into the tree.
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_documents_measure_alike_as_text_and_tree(
        script in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let text = Writer::new(&script).document();
        agrees(&text, true);
        guarded(text);
    }

    #[test]
    fn damaged_documents_never_overflow_and_never_hide_depth(
        script in proptest::collection::vec(any::<u8>(), 0..400),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        let text = mutate(&Writer::new(&script).document(), &edits);
        agrees(&text, false);
        guarded(text);
    }
}

#[test]
fn the_reported_block_string_shape_is_measured_in_full() {
    let nested = format!("{}{}", "[".repeat(2000), "]".repeat(2000));
    let text = format!(r#"{{ topic(slug: """ a " b """, id: {nested}) {{ id }} }}"#);
    assert_eq!(depth(&text), 2002);
    guarded(text);
}

#[test]
fn an_unterminated_block_string_is_read_as_the_parser_reads_it() {
    // The parser falls back to `""` and a string `" "`; the lists after them are real.
    let text = r#"{ a(x: [""" " [[[[ 1 ]]]] ]) }"#;
    assert_eq!(depth(text), 7);
    agrees(text, true);
}

#[test]
fn escapes_comments_and_block_strings_hide_their_brackets() {
    for (text, expected) in [
        (r#"{ a(x: "{{{{[[[") } # {{{{"#, 2),
        (r#"{ a(x: "\"{{") }"#, 2),
        (r#"{ a(x: "\\", y: [[1]]) }"#, 4),
        ("{ a(x: \"\"\" \\\"\"\" [[[ \"\"\", y: [1]) }", 3),
        ("{ a(x: \"\"\"\n\"\n[[[\"\"\") }", 2),
        ("# \" [[[\n{ a }", 1),
        ("{ a(x: \"\\u00e9[\", y: {k: [1]}) }", 4),
        ("query($v: [[Int!]!] = [[1]]) { a }", 3),
    ] {
        assert_eq!(depth(text), expected, "{text}");
        agrees(text, true);
    }
}

#[test]
fn the_lexer_stops_where_the_parser_must_fail() {
    // A line end, a bad escape and a surrogate end a string the parser cannot read.
    for text in [
        "{ a(x: \"\n\" [[[[ ]]]] ) }",
        r#"{ a(x: "\q" [[[[ ]]]] ) }"#,
        r#"{ a(x: "\uD800" [[[[ ]]]] ) }"#,
    ] {
        assert_eq!(depth(text), 2, "{text}");
        assert!(matches!(parse(text, 64), Err(Refusal::Syntax(_))), "{text}");
    }
}

#[test]
fn too_many_brackets_are_refused_even_inside_a_string() {
    let text = format!("{{ a(x: \"{}\") }}", "[".repeat(MAX_BRACKETS));
    assert_eq!(depth(&text), 2);
    assert!(matches!(
        parse(&text, 32),
        Err(Refusal::TooManyBrackets(n)) if n == MAX_BRACKETS + 2
    ));
}
