//! Our implementation must not be its own oracle: the Python and Node
//! standard-library scripts in `crosscheck/` recompute the canonical string
//! and tag of every vector from its inputs, and must agree with all of them.
//! The standards' vectors have a third implementation besides, installed
//! from PyPI at a pinned version: botocore's signer for SigV4, and
//! http-message-signatures's verifier for RFC 9421.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use sigconform_core::vectors;

fn export_json(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&out).unwrap();
    for path in vectors::list_files(&root.join("vectors")).unwrap() {
        let file = vectors::load_file(&path).unwrap();
        let target = out.join(path.with_extension("json").file_name().unwrap());
        std::fs::write(target, vectors::to_json(&file).to_string()).unwrap();
    }
    out
}

fn run(program: &str, script: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = export_json(program);
    let output = Command::new(program)
        .arg(root.join(script))
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} (it is required for the cross-check): {e}")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} disagrees with the vectors:\n{stderr}{stdout}"
    );
    // Guard against a script that silently checks nothing.
    let confirmed: usize = stdout
        .split_whitespace()
        .skip_while(|w| *w != "strings,")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        confirmed >= 280,
        "{script} confirmed only {confirmed} valid tags:\n{stdout}"
    );
}

#[test]
fn python_stdlib_agrees_with_every_vector() {
    run("python3", "crosscheck/crosscheck.py");
}

#[test]
fn node_stdlib_agrees_with_every_vector() {
    run("node", "crosscheck/crosscheck.mjs");
}

/// botocore, the AWS SDK for Python's signer, pinned.
const BOTOCORE: &str = "botocore==1.44.18";

#[test]
fn botocore_signs_the_sigv4_vectors_as_they_say() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = common::python_packages(&[BOTOCORE]);
    let dir = export_json("botocore");
    let output = Command::new(python)
        .arg(root.join("crosscheck/botocore_sigv4.py"))
        .arg(&dir)
        .output()
        .expect("the botocore virtual environment runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "botocore disagrees with the SigV4 vectors:\n{stderr}{stdout}"
    );
    // Every case botocore's conventions allow: the suite's and the derived.
    let confirmed: usize = stdout
        .rsplit("cross-check: ")
        .next()
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    assert!(
        confirmed >= 60,
        "botocore confirmed only {confirmed}:\n{stdout}"
    );
}

/// PyPI's http-message-signatures, the RFC 9421 library its authors test
/// against the RFC's appendix, pinned.
const HTTP_MESSAGE_SIGNATURES: &str = "http-message-signatures==3.0.0";

#[test]
fn http_message_signatures_verifies_the_rfc9421_vectors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = common::python_packages(&[HTTP_MESSAGE_SIGNATURES]);
    let dir = export_json("http-message-signatures");
    let output = Command::new(python)
        .arg(root.join("crosscheck/http_message_signatures_rfc9421.py"))
        .arg(&dir)
        .output()
        .expect("the http-message-signatures virtual environment runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "http-message-signatures disagrees with the RFC 9421 vectors:\n{stderr}{stdout}"
    );
    // Every valid step but those the library cannot take (each named).
    let verified: usize = stdout
        .rsplit("cross-check: ")
        .next()
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    assert!(
        verified >= 15,
        "http-message-signatures verified only {verified}:\n{stdout}"
    );
}

/// Values of each alphabet, and each of them with every decoration (with
/// each whitespace a case inserts): what the lenient decoders are checked
/// on.
fn decorated_values() -> Vec<(sigconform_core::lenient::Alphabet, String)> {
    use sigconform_core::crypto::TagEncoding;
    use sigconform_core::lenient::{Alphabet, Decoration};
    let bytes = |n: usize| (0..n).map(|i| (i * 73 + 5) as u8).collect::<Vec<u8>>();
    let mut values = vec![
        (Alphabet::Decimal, "1700000000".to_owned()),
        (Alphabet::Decimal, "1700000000123".to_owned()),
    ];
    for n in [20, 32, 64] {
        values.push((Alphabet::LowerHex, TagEncoding::LowerHex.encode(&bytes(n))));
        values.push((Alphabet::Base64, TagEncoding::Base64.encode(&bytes(n))));
    }
    let mut out = values.clone();
    for (alphabet, value) in values {
        for decoration in Decoration::ALL {
            for whitespace in [' ', '\t', '\n'] {
                if let Some(decorated) = decoration.apply(alphabet, &value, whitespace) {
                    out.push((alphabet, decorated));
                }
            }
        }
    }
    out
}

/// Runs `program script file` and reads what it prints.
fn output_of(program: &str, script: &str, file: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(program)
        .arg(root.join(script))
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (the cross-check needs it): {e}"));
    assert!(
        output.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The lenient decoders `crates/core/src/lenient.rs` names after Python's,
/// Node's and Java's read what those libraries read of every decorated
/// value: Python 3's `base64.b64decode` (with and without `validate=True`),
/// `bytes.fromhex` and `int`; Node's `Buffer.from` and `parseInt`; Java's
/// MIME and basic base64 decoders.
#[test]
fn the_lenient_decoders_read_what_the_libraries_read() {
    use sigconform_core::lenient::{Alphabet, LenientDecoder::*};
    let items = decorated_values();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lenient");
    std::fs::create_dir_all(&dir).unwrap();
    let name = |a: Alphabet| match a {
        Alphabet::LowerHex => "hex",
        Alphabet::Base64 => "base64",
        Alphabet::Decimal => "decimal",
    };
    let json = dir.join("items.json");
    let listed: Vec<serde_json::Value> = items
        .iter()
        .map(|(a, text)| serde_json::json!({"alphabet": name(*a), "text": text}))
        .collect();
    std::fs::write(&json, serde_json::to_string(&listed).unwrap()).unwrap();
    let lines = dir.join("items.txt");
    let escaped: Vec<String> = items
        .iter()
        .map(|(a, text)| {
            let text = text.replace('\n', "\\n").replace('\t', "\\t");
            format!("{}\t{text}", name(*a))
        })
        .collect();
    std::fs::write(&lines, escaped.join("\n") + "\n").unwrap();

    let read = |out: String| -> Vec<serde_json::Map<String, serde_json::Value>> {
        serde_json::from_str(&out).unwrap()
    };
    let python = read(output_of(
        "python3",
        "crosscheck/lenient_decoders.py",
        &json,
    ));
    let node = read(output_of("node", "crosscheck/lenient_decoders.mjs", &json));
    let java = output_of("java", "crosscheck/LenientDecoders.java", &lines);
    let java: Vec<Vec<&str>> = java.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        (python.len(), node.len(), java.len()),
        (items.len(), items.len(), items.len())
    );

    let mut compared = 0;
    for (i, (alphabet, text)) in items.iter().enumerate() {
        let library = |map: &serde_json::Map<String, serde_json::Value>, name: &str| {
            map[name].as_str().map(str::to_owned)
        };
        let java_read = |column: usize| Some(java[i][column].to_owned()).filter(|r| r != "-");
        let pairs = match alphabet {
            Alphabet::Base64 => vec![
                (
                    "b64decode",
                    library(&python[i], "b64decode"),
                    PythonB64decode,
                ),
                (
                    "b64decode(validate=True)",
                    library(&python[i], "b64decode(validate=True)"),
                    IgnoresPaddingBits,
                ),
                (
                    "Buffer.from(base64)",
                    library(&node[i], "Buffer.from(base64)"),
                    NodeBufferBase64,
                ),
                ("getMimeDecoder", java_read(0), JavaMimeDecoder),
                ("getDecoder", java_read(1), IgnoresPaddingBits),
            ],
            Alphabet::LowerHex => vec![
                (
                    "bytes.fromhex",
                    library(&python[i], "bytes.fromhex"),
                    SkipsWhitespace,
                ),
                (
                    "Buffer.from(hex)",
                    library(&node[i], "Buffer.from(hex)"),
                    NodeBufferHex,
                ),
            ],
            Alphabet::Decimal => vec![
                ("int", library(&python[i], "int"), SkipsForeignCharacters),
                (
                    "parseInt",
                    library(&node[i], "parseInt"),
                    IgnoresTrailingData,
                ),
            ],
        };
        for (library, read, model) in pairs {
            assert_eq!(
                read,
                model.read(*alphabet, text),
                "{library} and {model:?} differ on {text:?}"
            );
            compared += 1;
        }
    }
    assert!(compared > 200, "{compared}");
}
