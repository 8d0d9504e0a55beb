//! The runner's place among the crates: it probes a verifier from outside,
//! so what it compiles holds no reference server and no database client.
//! Its controls name the server's deliberate defects through
//! `sigconform-defects`, which is data over the core. Read from
//! `cargo tree`: the packages a crate's normal dependencies reach on this
//! platform.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The names of the packages `package` reaches through normal (not dev,
/// not build) dependencies, itself included.
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--edges", "normal", "--prefix", "none"])
        .args(["--format", "{p}", "--package", package, "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_runner_compiles_no_server_and_no_database_client() {
    // The walk sees a database client where there is one.
    let server = normal_dependencies("sigconform-server");
    assert!(
        server.contains("sqlx") && server.contains("redis"),
        "{server:?}"
    );
    let reached = normal_dependencies("sigconform-runner");
    assert!(reached.contains("sigconform-defects"), "{reached:?}");
    let forbidden: Vec<&String> = reached
        .iter()
        .filter(|name| {
            *name == "sigconform-server" || name.starts_with("sqlx") || name.starts_with("redis")
        })
        .collect();
    assert!(forbidden.is_empty(), "the runner compiles {forbidden:?}");
}

#[test]
fn the_defect_model_depends_on_the_core_only() {
    let reached = normal_dependencies("sigconform-defects");
    let ours: Vec<&String> = reached
        .iter()
        .filter(|name| name.starts_with("sigconform"))
        .collect();
    assert_eq!(ours, ["sigconform-core", "sigconform-defects"]);
    assert!(!reached.contains("hyper"), "{reached:?}");
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`fuzz` for `fuzz/oracle.rs`),
/// and whether the file is that module's root (`super::` names the crate
/// root there; in `fuzz/oracle.rs` it names `fuzz`).
fn module_of(src: &Path, file: &Path) -> (String, bool) {
    let relative = file.strip_prefix(src).unwrap();
    let parts: Vec<&str> = relative
        .components()
        .map(|c| c.as_os_str().to_str().unwrap())
        .collect();
    let at_root = parts.len() == 1 || parts[1] == "mod.rs";
    (parts[0].trim_end_matches(".rs").to_owned(), at_root)
}

/// The code of `file`: comments dropped (a link in a comment is not a
/// dependency), and its unit tests (a test may reach anywhere).
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first names after each `prefix` in `text`, and each name in
/// `prefix{a, b::c}`.
fn mentioned(text: &str, prefix: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices(prefix) {
        // `super::super::` is seen at its second `super::`.
        let rest = &text[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => return true,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    false
                })
                .map_or(group.len(), |(i, _)| i);
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group[..end].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(group[start..i].trim()));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            out.insert(ident(group[start..end].trim()));
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|name| !name.is_empty() && name != "super");
    out
}

/// The runner's modules form layers. The crate root is the roof: it
/// declares the modules and re-exports, and defines nothing, so no module
/// imports from above itself through it; and no module depends, directly or
/// through others, on a module that depends on it.
#[test]
fn the_runners_modules_form_layers_below_its_root() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let modules: BTreeSet<String> = lib
        .lines()
        .filter_map(|line| {
            let line = line
                .trim_start_matches("pub ")
                .trim_start_matches("pub(crate) ");
            Some(line.strip_prefix("mod ")?.trim_end_matches(';').to_owned())
        })
        .collect();
    let defined: Vec<&str> = lib
        .lines()
        .filter(|line| {
            [
                "fn ", "struct ", "enum ", "const ", "static ", "impl ", "trait ", "type ",
            ]
            .iter()
            .any(|item| {
                let line = line
                    .trim_start_matches("pub ")
                    .trim_start_matches("pub(crate) ");
                line.starts_with(item) || line.starts_with(&format!("async {item}"))
            })
        })
        .collect();
    assert!(defined.is_empty(), "the crate root defines {defined:?}");

    let mut list = Vec::new();
    files(&src, &mut list);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut through_the_root = Vec::new();
    for file in list.iter().filter(|f| !f.ends_with("lib.rs")) {
        let (module, at_root) = module_of(&src, file);
        let text = code(file);
        let mut names = mentioned(&text, "crate::");
        if at_root {
            names.extend(mentioned(&text, "super::"));
        }
        let targets = edges.entry(module.clone()).or_default();
        for name in names {
            if modules.contains(&name) {
                if name != module {
                    targets.insert(name);
                }
            } else {
                through_the_root.push(format!("{}: {name}", file.display()));
            }
        }
    }
    assert!(
        through_the_root.is_empty(),
        "imported through the crate root, not from their module: {through_the_root:#?}"
    );
    for module in edges.keys() {
        let mut path = vec![module.clone()];
        if path_back(&edges, module, module, &mut BTreeSet::new(), &mut path) {
            panic!("a cycle: {} -> {module}", path.join(" -> "));
        }
    }
}

/// Whether a path leads from `at` back to `start`, depth first; `path`
/// holds it.
fn path_back(
    edges: &BTreeMap<String, BTreeSet<String>>,
    start: &str,
    at: &str,
    seen: &mut BTreeSet<String>,
    path: &mut Vec<String>,
) -> bool {
    for next in edges.get(at).into_iter().flatten() {
        if next == start {
            return true;
        }
        if seen.insert(next.clone()) {
            path.push(next.clone());
            if path_back(edges, start, next, seen, path) {
                return true;
            }
            path.pop();
        }
    }
    false
}
