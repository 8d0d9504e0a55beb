//! `partner`'s canonical JSON against JavaScript itself, and against the
//! published Python variant.
//!
//! Documents are generated here (proptest, biased toward where JSON
//! printers disagree: doubles from raw bits and near the shortest-digits
//! boundaries, exponents around 1e21 and 1e-7, integers around 2^53 and
//! 2^64, every escape, lone and paired surrogates, array-index-like and
//! repeated keys, deep nesting), canonicalised by the library, and sent in
//! batches to one long-running peer process over a pipe:
//!
//! - Node (`crosscheck/canonical-json-peer.mjs`, `JSON.parse`, a recursive
//!   key sort and `JSON.stringify`): every answer must be the library's, a
//!   refusal included. A mismatch is shrunk to the smallest failing
//!   document.
//! - python3 (`crosscheck/python-variant-peer.py`, `json.dumps(body or {},
//!   sort_keys=True, separators=(",",":"))`): an expected-difference check.
//!   [`python_variant`] re-derives the variant's text from the JavaScript
//!   rules and the [`PYTHON_DIFFERENCES`] alone, and must match python3 on
//!   every document; every listed difference must occur, and a `partner`
//!   vector's body must differ exactly when the vector is flagged
//!   `interop-python`.
//!
//! The seed is fixed, so CI runs the same documents every time.
//! `SIGCONFORM_JSON_DIFF_SEED` (a number) picks another seed and
//! `SIGCONFORM_JSON_DIFF_SECONDS` runs batches with fresh seeds for that
//! long (`cargo xtask fuzz json-differential --time N`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sigconform_core::canonical_json::{MAX_DEPTH, canonical_json};

// ---------------------------------------------------------------- documents

/// A JSON document as written, so that everything a parser may see
/// (escapes, number spellings, whitespace, repeated keys) is generated.
#[derive(Debug, Clone)]
enum Doc {
    Null,
    Bool(bool),
    /// A number as written: JSON's grammar, any spelling.
    Number(String),
    String(Vec<Piece>),
    Array(Vec<Doc>, Spacing),
    Object(Vec<(Vec<Piece>, Doc)>, Spacing),
}

/// One character of a string as written.
#[derive(Debug, Clone)]
enum Piece {
    /// A character written raw (never `"`, `\` or a control character).
    Raw(char),
    /// `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r` or `\t`.
    Short(u8),
    /// `\uXXXX`, any code unit (a surrogate too), in either case of hex.
    Unit(u16, bool),
}

/// Whitespace around a container's tokens.
#[derive(Debug, Clone, Copy)]
struct Spacing(Option<&'static str>);

impl Doc {
    fn write(&self, out: &mut String) {
        match self {
            Doc::Null => out.push_str("null"),
            Doc::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Doc::Number(lexeme) => out.push_str(lexeme),
            Doc::String(pieces) => write_pieces(pieces, out),
            Doc::Array(items, Spacing(ws)) => {
                let ws = ws.unwrap_or("");
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(ws);
                    item.write(out);
                    out.push_str(ws);
                }
                out.push(']');
            }
            Doc::Object(members, Spacing(ws)) => {
                let ws = ws.unwrap_or("");
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(ws);
                    write_pieces(key, out);
                    out.push_str(ws);
                    out.push(':');
                    out.push_str(ws);
                    value.write(out);
                    out.push_str(ws);
                }
                out.push('}');
            }
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

fn write_pieces(pieces: &[Piece], out: &mut String) {
    out.push('"');
    for piece in pieces {
        match *piece {
            Piece::Raw(c) => out.push(c),
            Piece::Short(c) => {
                out.push('\\');
                out.push(char::from(c));
            }
            Piece::Unit(unit, upper) if upper => out.push_str(&format!("\\u{unit:04X}")),
            Piece::Unit(unit, _) => out.push_str(&format!("\\u{unit:04x}")),
        }
    }
    out.push('"');
}

fn raw_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range(' ', '~').prop_filter("escaped in JSON", |c| !matches!(c, '"' | '\\')),
        1 => Just('\u{7f}'),
        2 => prop::char::range('\u{80}', '\u{7ff}'),
        2 => prop::char::range('\u{800}', '\u{d7ff}'),
        2 => prop::char::range('\u{e000}', '\u{ffff}'),
        1 => prop::sample::select(vec!['\u{2028}', '\u{2029}', '\u{feff}', '\u{fffd}']),
        2 => prop::char::range('\u{10000}', '\u{10ffff}'),
    ]
}

fn piece() -> impl Strategy<Value = Piece> {
    let unit = prop_oneof![
        0x00u16..0x20,
        0x20u16..0x80,
        0x80u16..0xd800,
        0xd800u16..0xe000, // a lone surrogate, unless a neighbour pairs it
        0xe000u16..=0xffff,
    ];
    prop_oneof![
        8 => raw_char().prop_map(Piece::Raw),
        2 => prop::sample::select(b"\"\\/bfnrt".to_vec()).prop_map(Piece::Short),
        3 => (unit, any::<bool>()).prop_map(|(u, upper)| Piece::Unit(u, upper)),
    ]
}

/// Pieces, sometimes with an escaped surrogate pair spliced in.
fn pieces(max: usize) -> impl Strategy<Value = Vec<Piece>> {
    (
        prop::collection::vec(piece(), 0..max),
        prop::option::weighted(0.2, (0x10000u32..=0x10ffff, any::<bool>())),
    )
        .prop_map(|(mut pieces, pair)| {
            if let Some((code_point, upper)) = pair {
                let above = code_point - 0x10000;
                let at = pieces.len() / 2;
                pieces.insert(at, Piece::Unit(0xd800 | (above >> 10) as u16, upper));
                pieces.insert(at + 1, Piece::Unit(0xdc00 | (above & 0x3ff) as u16, upper));
            }
            pieces
        })
}

/// Keys JavaScript treats specially, or near them.
const SPECIAL_KEYS: [&str; 22] = [
    "0",
    "1",
    "9",
    "10",
    "01",
    "00",
    "-0",
    "-1",
    "1.0",
    "1e3",
    " 1",
    "42",
    "4294967294",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "__proto__",
    "constructor",
    "a",
    "é",
    "\u{e000}",
    "\u{1f600}",
];

fn key() -> impl Strategy<Value = Vec<Piece>> {
    prop_oneof![
        2 => prop::sample::select(SPECIAL_KEYS.to_vec())
            .prop_map(|k| k.chars().map(Piece::Raw).collect()),
        1 => pieces(4),
        // The same key written with an escape.
        1 => Just(vec![Piece::Unit(u16::from(b'a'), false)]),
    ]
}

/// Numbers written where printers part: the double range's ends, zeros,
/// the first integer a double can't hold, exponent spellings.
const SPECIAL_NUMBERS: [&str; 25] = [
    "0",
    "-0",
    "0.0",
    "-0.0",
    "0e0",
    "-0E-0",
    "1.0",
    "1E2",
    "1e21",
    "1e-7",
    "123e-9",
    "1e308",
    "1.7976931348623157e308",
    "1.7976931348623158e308",
    "1.8e308",
    "1e400",
    "-1e400",
    "1e-400",
    "-1e-400",
    "5e-324",
    "2.4703282292062328e-324",
    "2.4703282292062327e-324",
    "9007199254740993",
    "0.1",
    "100",
];

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any_double(),
        near_a_shortest_digits_boundary(),
        around_the_exponent_switch(),
        around_powers_of_two(),
        long_integer(),
        spelled_fraction(),
        any::<i32>().prop_map(|n| n.to_string()),
        prop::sample::select(SPECIAL_NUMBERS.to_vec()).prop_map(str::to_owned),
    ]
}

fn sign() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "-"])
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..10, n).prop_map(|d| d.iter().map(|d| char::from(b'0' + d)).collect())
}

/// Any finite double, as Rust prints it with and without an exponent.
fn any_double() -> impl Strategy<Value = String> {
    any::<u64>()
        .prop_map(f64::from_bits)
        .prop_filter("finite", |f| f.is_finite())
        .prop_flat_map(|f| prop::sample::select(vec![format!("{f:e}"), format!("{f}")]))
}

/// Seventeen significant digits, the last nudged: on or next to a
/// shortest-digits boundary.
fn near_a_shortest_digits_boundary() -> impl Strategy<Value = String> {
    (any::<u64>(), -2i64..=2).prop_map(|(bits, nudge)| {
        let f = f64::from_bits(bits & 0x7fef_ffff_ffff_ffff);
        let printed = format!("{f:.16e}");
        let (mantissa, exp) = printed.split_once('e').unwrap();
        let last = i64::from(mantissa.as_bytes()[mantissa.len() - 1] - b'0');
        let last = (last + nudge).clamp(0, 9);
        format!("{}{last}e{exp}", &mantissa[..mantissa.len() - 1])
    })
}

/// Magnitudes around 1e21 and 1e-7, where JavaScript switches to exponents.
fn around_the_exponent_switch() -> impl Strategy<Value = String> {
    (
        sign(),
        1u64..100_000_000_000_000_000,
        prop_oneof![-10i32..=-4, 17i32..=24],
    )
        .prop_map(|(s, m, e)| format!("{s}{m}e{}", e - (m.ilog10() as i32)))
}

/// Integers within 3 of 2^53, 2^63, 2^64 and 1e21.
fn around_powers_of_two() -> impl Strategy<Value = String> {
    let bases = vec![1u128 << 53, 1u128 << 63, 1u128 << 64, 10u128.pow(21)];
    (sign(), prop::sample::select(bases), -3i64..=3).prop_map(|(s, base, d)| {
        let n = base.checked_add_signed(i128::from(d)).unwrap();
        format!("{s}{n}")
    })
}

/// Integers of 26 digits.
fn long_integer() -> impl Strategy<Value = String> {
    (sign(), 1u8..10, digits(25)).prop_map(|(s, first, rest)| format!("{s}{first}{rest}"))
}

/// Fractions with an exponent in every spelling.
fn spelled_fraction() -> impl Strategy<Value = String> {
    let exponent = prop::sample::select(vec!["e", "E", "e+", "e-", "E+", "E-"]);
    (sign(), 0u32..100_000, digits(3), exponent, 0u32..30)
        .prop_map(|(s, i, f, e, x)| format!("{s}{i}.{f}{e}{x}"))
}

fn spacing() -> impl Strategy<Value = Spacing> {
    prop::option::weighted(0.2, prop::sample::select(vec![" ", "\n", "\t", "\r\n  "]))
        .prop_map(Spacing)
}

fn scalar() -> impl Strategy<Value = Doc> {
    prop_oneof![
        1 => Just(Doc::Null),
        1 => any::<bool>().prop_map(Doc::Bool),
        4 => number().prop_map(Doc::Number),
        4 => pieces(12).prop_map(Doc::String),
    ]
}

fn doc() -> impl Strategy<Value = Doc> {
    scalar().prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..6), spacing())
                .prop_map(|(v, s)| Doc::Array(v, s)),
            (prop::collection::vec((key(), inner), 0..6), spacing())
                .prop_map(|(m, s)| Doc::Object(m, s)),
        ]
    })
}

/// A chain of containers down to `MAX_DEPTH`, each object's keys out of
/// order, around a small document.
fn deep_doc() -> impl Strategy<Value = Doc> {
    (1..=MAX_DEPTH - 2, scalar(), any::<u64>()).prop_map(|(depth, leaf, shape)| {
        (0..depth).fold(leaf, |inner, level| {
            if shape >> (level % 64) & 1 == 0 {
                Doc::Array(vec![inner], Spacing(None))
            } else {
                let key = |k: &str| k.chars().map(Piece::Raw).collect();
                Doc::Object(
                    vec![(key("b"), Doc::Null), (key("a"), inner)],
                    Spacing(None),
                )
            }
        })
    })
}

/// 200 batches of 500: 100 000 documents.
const BATCH: usize = 500;
const BATCHES: u32 = 200;
const SEED: u64 = 0x5167_c0af_0000_0014;

// ---------------------------------------------------------------- peers

/// A long-running peer: one document per line in, one answer per line out.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

/// A peer's answer: the canonical text, or that it refused the document.
type Answer = Option<Vec<u8>>;

impl Peer {
    fn start(program: &str, script: &str) -> Peer {
        let script = root().join(script);
        let mut child = Command::new(program)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program} {}: {e}", script.display()));
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        Peer {
            child,
            stdin,
            stdout,
        }
    }

    /// The peer's answers to `documents`, in order. Written from a thread
    /// of its own, so that neither side waits on a full pipe.
    fn answer(&mut self, documents: &[Vec<u8>]) -> Vec<Answer> {
        let stdin = self.stdin.as_mut().expect("peer's stdin");
        let stdout = &mut self.stdout;
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let mut lines = String::new();
                for document in documents {
                    lines.push_str(&BASE64.encode(document));
                    lines.push('\n');
                }
                stdin.write_all(lines.as_bytes()).expect("write to peer");
                stdin.flush().expect("write to peer");
            });
            (0..documents.len())
                .map(|_| {
                    let mut line = String::new();
                    stdout.read_line(&mut line).expect("read from peer");
                    let line = line.trim_end();
                    match line.split_at_checked(1) {
                        Some(("=", text)) => Some(BASE64.decode(text).expect("peer's base64")),
                        Some(("!", _)) => None,
                        _ => panic!("the peer answered {line:?}"),
                    }
                })
                .collect()
        })
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// The repository, where the Node and Python peers (`crosscheck/`) and the
/// vectors are.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ours(document: &[u8]) -> Answer {
    canonical_json(document).ok().map(String::into_bytes)
}

fn show(answer: &Answer) -> String {
    match answer {
        Some(text) => format!("{:?}", String::from_utf8_lossy(text)),
        None => "refused".into(),
    }
}

/// What one document gives: `None` when the two sides agree, else why not.
type Verdict = Option<String>;

/// Runs `compare` over batches of generated documents (the fixed seed, or
/// fresh seeds for `SIGCONFORM_JSON_DIFF_SECONDS`); on a disagreement,
/// fails with the smallest document that still disagrees ([`shrink`]).
fn run_batches(name: &str, mut compare: impl FnMut(&[Doc]) -> Vec<Verdict>) {
    let seconds: u64 = std::env::var("SIGCONFORM_JSON_DIFF_SECONDS")
        .ok()
        .map(|s| s.parse().expect("SIGCONFORM_JSON_DIFF_SECONDS: seconds"))
        .unwrap_or(0);
    let mut seed: u64 = std::env::var("SIGCONFORM_JSON_DIFF_SEED")
        .ok()
        .map(|s| s.parse().expect("SIGCONFORM_JSON_DIFF_SEED: a number"))
        .unwrap_or(if seconds > 0 { rand_seed() } else { SEED });
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut documents = 0;
    loop {
        let mut bytes = [0; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
        );
        let strategy = prop_oneof![50 => doc(), 1 => deep_doc()];
        for _ in 0..BATCHES {
            let mut trees: Vec<_> = (0..BATCH)
                .map(|_| strategy.new_tree(&mut runner).expect("a document"))
                .collect();
            let docs: Vec<Doc> = trees.iter().map(ValueTree::current).collect();
            documents += docs.len();
            let verdicts = compare(&docs);
            if let Some(first) = verdicts.iter().position(Option::is_some) {
                let why = verdicts[first].clone().unwrap_or_default();
                let smallest = shrink(trees.swap_remove(first), why, &mut compare);
                panic!("{name} (SIGCONFORM_JSON_DIFF_SEED={seed}), smallest failing {smallest}");
            }
        }
        if Instant::now() >= deadline {
            break;
        }
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
    }
    eprintln!("{name}: {documents} documents, last seed {seed}");
}

/// Shrinks a disagreeing document alone, one peer round trip per step
/// (proptest's own search, done by hand because the documents go in
/// batches); returns why the smallest that still disagrees does.
fn shrink(
    mut tree: impl ValueTree<Value = Doc>,
    mut why: String,
    compare: &mut impl FnMut(&[Doc]) -> Vec<Verdict>,
) -> String {
    if !tree.simplify() {
        return why;
    }
    loop {
        match compare(&[tree.current()]).pop().flatten() {
            Some(still) => {
                why = still;
                if !tree.simplify() {
                    return why;
                }
            }
            None if !tree.complicate() => return why,
            None => {}
        }
    }
}

fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

// ---------------------------------------------------------------- JavaScript

#[test]
fn canonical_json_is_what_javascript_prints() {
    let mut node = Peer::start("node", "crosscheck/canonical-json-peer.mjs");
    run_batches("node differential", |docs| {
        let texts: Vec<Vec<u8>> = docs.iter().map(|d| d.text().into_bytes()).collect();
        let theirs = node.answer(&texts);
        texts
            .iter()
            .zip(&theirs)
            .map(|(text, theirs)| {
                let ours = ours(text);
                (&ours != theirs).then(|| {
                    format!(
                        "document {:?}\n  ours: {}\n  node: {}",
                        String::from_utf8_lossy(text),
                        show(&ours),
                        show(theirs)
                    )
                })
            })
            .collect()
    });
}

/// The one difference kept on purpose: JavaScript's depth is bounded by
/// its stack (past 2 000 levels in Node), ours by `MAX_DEPTH`.
#[test]
fn nesting_beyond_max_depth_is_refused_where_javascript_accepts_it() {
    let mut node = Peer::start("node", "crosscheck/canonical-json-peer.mjs");
    let nested = |depth| format!("{}0{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
    let documents = [nested(MAX_DEPTH), nested(MAX_DEPTH + 1)];
    let theirs = node.answer(&documents);
    assert_eq!(ours(&documents[0]), theirs[0]);
    assert!(theirs[1].is_some(), "node accepts {} levels", MAX_DEPTH + 1);
    assert_eq!(ours(&documents[1]), None);
}

/// A mismatch must be found: the check itself is not vacuous.
#[test]
fn the_node_peer_tells_a_wrong_text_apart() {
    let mut node = Peer::start("node", "crosscheck/canonical-json-peer.mjs");
    let answers = node.answer(&[br#"{"b":1,"a":[1.0]}"#.to_vec(), b"{".to_vec()]);
    assert_eq!(answers[0].as_deref(), Some(&br#"{"a":[1],"b":1}"#[..]));
    assert_eq!(answers[1], None);
    assert_ne!(answers[0].as_deref(), Some(&br#"{"b":1,"a":[1]}"#[..]));
}

// ---------------------------------------------------------------- Python

/// What a document means once parsed: strings as UTF-16 code units, as in
/// JavaScript (a lone surrogate is a unit of its own), numbers as written,
/// an object's repeated key once, with its last value.
enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(Vec<u16>),
    Array(Vec<Value>),
    Object(Vec<(Vec<u16>, Value)>),
}

fn units(pieces: &[Piece]) -> Vec<u16> {
    let mut units = Vec::new();
    for piece in pieces {
        match *piece {
            Piece::Raw(c) => units.extend(c.encode_utf16(&mut [0; 2]).iter()),
            Piece::Short(c) => units.push(match c {
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => 0x0a,
                b'r' => 0x0d,
                b't' => 0x09,
                other => u16::from(other),
            }),
            Piece::Unit(unit, _) => units.push(unit),
        }
    }
    units
}

impl Value {
    fn of(doc: &Doc) -> Value {
        match doc {
            Doc::Null => Value::Null,
            Doc::Bool(b) => Value::Bool(*b),
            Doc::Number(lexeme) => Value::Number(lexeme.clone()),
            Doc::String(pieces) => Value::String(units(pieces)),
            Doc::Array(items, _) => Value::Array(items.iter().map(Value::of).collect()),
            Doc::Object(members, _) => {
                let mut object: Vec<(Vec<u16>, Value)> = Vec::new();
                for (key, value) in members {
                    let key = units(key);
                    object.retain(|(k, _)| *k != key);
                    object.push((key, Value::of(value)));
                }
                Value::Object(object)
            }
        }
    }

    /// Python's truth value, which the variant's `body or {}` tests.
    fn python_falsy(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::Number(lexeme) => lexeme.parse::<f64>().is_ok_and(|f| f == 0.0),
            Value::String(s) => s.is_empty(),
            Value::Array(items) => items.is_empty(),
            Value::Object(members) => members.is_empty(),
        }
    }
}

/// One way the Python variant differs from the scheme's JavaScript rules:
/// its name, and the `partner` vector that shows it (flagged
/// `interop-python`).
struct Difference {
    name: &'static str,
    vector: &'static str,
}

/// Every way the Python variant differs, in [`python_variant`]'s rules
/// (the bit of each is its index). `docs/canonical-json.md` lists them.
const PYTHON_DIFFERENCES: [Difference; 7] = [
    Difference {
        name: "ensure_ascii: DEL and every non-ASCII character escaped as \\uxxxx",
        vector: "partner-unicode-raw",
    },
    Difference {
        name: "integers kept exact (JavaScript rounds them to doubles: 9007199254740993, 1e21 digits)",
        vector: "partner-big-integers",
    },
    Difference {
        name: "floats printed by repr: 1.0, 1e+16, 1e-05, -0.0",
        vector: "partner-floats-integral",
    },
    Difference {
        name: "numbers beyond the double range printed Infinity (JavaScript: null)",
        vector: "partner-number-beyond-double-range",
    },
    Difference {
        name: "a falsy body (false, 0, \"\", [], {}) signed as {}",
        vector: "partner-falsy-body-false",
    },
    Difference {
        name: "array-index keys sorted as strings (\"10\" before \"9\"), not first",
        vector: "partner-numeric-string-keys",
    },
    Difference {
        name: "keys sorted by code point, not UTF-16 unit (U+FF61 before U+1F600)",
        vector: "partner-key-sort-utf16",
    },
];

const ENSURE_ASCII: u8 = 1;
const EXACT_INTEGERS: u8 = 1 << 1;
const REPR_FLOATS: u8 = 1 << 2;
const INFINITY: u8 = 1 << 3;
const FALSY_BODY: u8 = 1 << 4;
const INDEX_KEYS_AS_STRINGS: u8 = 1 << 5;
const CODE_POINT_ORDER: u8 = 1 << 6;
const ALL_DIFFERENCES: u8 = (1 << PYTHON_DIFFERENCES.len()) - 1;

/// The canonical text by the JavaScript rules changed by `differences`:
/// none gives the scheme's text, all of them the Python variant's.
fn python_variant(root: &Value, differences: u8) -> String {
    let mut out = String::new();
    if matches!(root, Value::Null) || differences & FALSY_BODY != 0 && root.python_falsy() {
        out.push_str("{}");
    } else {
        write_value(root, differences, &mut out);
    }
    out
}

fn write_value(value: &Value, differences: u8, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(lexeme) => write_number(lexeme, differences, out),
        Value::String(s) => write_units(s, differences, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, differences, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut members: Vec<_> = members.iter().collect();
            members.sort_by(|(a, _), (b, _)| key_order(a, b, differences));
            out.push('{');
            for (i, (key, value)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_units(key, differences, out);
                out.push(':');
                write_value(value, differences, out);
            }
            out.push('}');
        }
    }
}

fn key_order(a: &[u16], b: &[u16], differences: u8) -> std::cmp::Ordering {
    let index = |k: &[u16]| -> Option<u64> {
        let text = String::from_utf16(k).ok()?;
        let canonical = text == "0" || (!text.starts_with('0') && !text.is_empty());
        let n: u64 = text
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse().ok())??;
        (canonical && n < u64::from(u32::MAX)).then_some(n)
    };
    let by_index = if differences & INDEX_KEYS_AS_STRINGS == 0 {
        match (index(a), index(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    } else {
        std::cmp::Ordering::Equal
    };
    let code_points = |k: &[u16]| -> Vec<u32> {
        char::decode_utf16(k.iter().copied())
            .map(|c| c.map_or_else(|lone| u32::from(lone.unpaired_surrogate()), u32::from))
            .collect()
    };
    by_index.then_with(|| {
        if differences & CODE_POINT_ORDER != 0 {
            code_points(a).cmp(&code_points(b))
        } else {
            a.cmp(b)
        }
    })
}

fn write_units(s: &[u16], differences: u8, out: &mut String) {
    out.push('"');
    for c in char::decode_utf16(s.iter().copied()) {
        match c {
            Ok('"') => out.push_str("\\\""),
            Ok('\\') => out.push_str("\\\\"),
            Ok('\u{8}') => out.push_str("\\b"),
            Ok('\u{c}') => out.push_str("\\f"),
            Ok('\n') => out.push_str("\\n"),
            Ok('\r') => out.push_str("\\r"),
            Ok('\t') => out.push_str("\\t"),
            Ok(c) if c < ' ' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            Ok(c) if differences & ENSURE_ASCII != 0 && !(' '..='~').contains(&c) => {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            Ok(c) => out.push(c),
            Err(lone) => out.push_str(&format!("\\u{:04x}", lone.unpaired_surrogate())),
        }
    }
    out.push('"');
}

fn write_number(lexeme: &str, differences: u8, out: &mut String) {
    let integer = !lexeme.contains(['.', 'e', 'E']);
    if integer && differences & EXACT_INTEGERS != 0 {
        // Python's int: exact, and -0 is 0.
        let digits = lexeme.trim_start_matches('-');
        out.push_str(if digits.bytes().all(|d| d == b'0') {
            "0"
        } else {
            lexeme
        });
        return;
    }
    let f: f64 = lexeme.parse().expect("a JSON number");
    if !f.is_finite() {
        out.push_str(match (differences & INFINITY != 0, f > 0.0) {
            (true, true) => "Infinity",
            (true, false) => "-Infinity",
            (false, _) => "null",
        });
    } else if !integer && differences & REPR_FLOATS != 0 {
        out.push_str(&python_repr(f));
    } else if f == 0.0 {
        out.push('0');
    } else {
        out.push_str(ryu_js::Buffer::new().format_finite(f));
    }
}

/// Python's `repr` of a finite double: the shortest digits, as JavaScript
/// chooses them, printed with an exponent below 1e-4 and from 1e16 on, and
/// `.0` after an integral value.
fn python_repr(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let sign = if f < 0.0 { "-" } else { "" };
    let (digits, point) = shortest(f.abs());
    let n = digits.len() as i32;
    let body = if point <= -4 || point > 16 {
        let exp = point - 1;
        let mantissa = if n > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        format!(
            "{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point >= n {
        format!("{digits}{}.0", "0".repeat((point - n) as usize))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    format!("{sign}{body}")
}

/// The shortest digits of a positive double, and where the decimal point
/// goes: `0.d1d2… × 10^point`.
fn shortest(f: f64) -> (String, i32) {
    let printed = ryu_js::Buffer::new().format_finite(f).to_owned();
    let (mantissa, exp) = printed.split_once('e').unwrap_or((&printed, "0"));
    let exp: i32 = exp.parse().expect("exponent");
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{whole}{fraction}");
    let leading = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_start_matches('0').trim_end_matches('0').to_owned();
    (digits, whole.len() as i32 + exp - leading as i32)
}

/// Why python3's answer for a document is not the listed differences'
/// (or the library's not the JavaScript rules'), if it is not; else counts
/// in `seen` the differences that change this document's text.
fn python_verdict(doc: &Doc, text: &[u8], theirs: &Answer, seen: &mut [usize]) -> Verdict {
    let value = Value::of(doc);
    let javascript = python_variant(&value, 0);
    let variant = python_variant(&value, ALL_DIFFERENCES);
    let ours = ours(text);
    let why = if ours.as_deref() != Some(javascript.as_bytes()) {
        format!(
            "the JavaScript rules give {javascript:?}, the library {}",
            show(&ours)
        )
    } else if theirs.as_deref() != Some(variant.as_bytes()) {
        format!(
            "the listed differences give {variant:?}, python3 {}",
            show(theirs)
        )
    } else {
        if variant != javascript {
            for (bit, count) in seen.iter_mut().enumerate() {
                if python_variant(&value, 1 << bit) != javascript {
                    *count += 1;
                }
            }
        }
        return None;
    };
    Some(format!(
        "document {:?}\n  {why}",
        String::from_utf8_lossy(text)
    ))
}

#[test]
fn the_python_variant_differs_only_in_the_listed_ways() {
    let mut python = Peer::start("python3", "crosscheck/python-variant-peer.py");
    let mut seen = [0usize; PYTHON_DIFFERENCES.len()];
    run_batches("python expected-difference check", |docs| {
        let texts: Vec<Vec<u8>> = docs.iter().map(|d| d.text().into_bytes()).collect();
        let theirs = python.answer(&texts);
        docs.iter()
            .zip(&texts)
            .zip(&theirs)
            .map(|((doc, text), theirs)| python_verdict(doc, text, theirs, &mut seen))
            .collect()
    });
    for (difference, count) in PYTHON_DIFFERENCES.iter().zip(seen) {
        eprintln!("{count:>7}  {}", difference.name);
        assert!(count > 0, "never seen: {}", difference.name);
    }
}

/// A `partner` vector's body gives the variant's text exactly when the
/// vector is flagged interop-python, and each difference has its vector.
#[test]
fn partner_vectors_are_flagged_interop_python_exactly_where_the_variant_differs() {
    let mut python = Peer::start("python3", "crosscheck/python-variant-peer.py");
    let vectors =
        sigconform_core::vectors::load_file(&root().join("vectors/partner.yaml")).unwrap();
    let mut bodies = Vec::new();
    for case in &vectors.cases {
        for step in &case.steps {
            if let Some(body) = &step.request.body
                && canonical_json(body.as_bytes()).is_ok()
                && !body.is_empty()
            {
                bodies.push((case, body.clone().into_bytes()));
            }
        }
    }
    let answers = python.answer(&bodies.iter().map(|(_, b)| b.clone()).collect::<Vec<_>>());
    let mut misflagged = Vec::new();
    for ((case, body), theirs) in bodies.iter().zip(&answers) {
        let flagged = case.flags.iter().any(|f| f == "interop-python");
        let differs = ours(body) != *theirs;
        if differs != flagged {
            misflagged.push(format!(
                "{}: the Python variant {}, and the case is{} flagged interop-python",
                case.id,
                if differs { "differs" } else { "agrees" },
                if flagged { "" } else { " not" }
            ));
        }
    }
    assert!(misflagged.is_empty(), "{}", misflagged.join("\n"));
    for difference in &PYTHON_DIFFERENCES {
        let case = vectors.cases.iter().find(|c| c.id == difference.vector);
        assert!(
            case.is_some_and(|c| c.flags.iter().any(|f| f == "interop-python")),
            "{} is not a partner vector flagged interop-python ({})",
            difference.vector,
            difference.name
        );
    }
}
