//! The core crate's modules form layers: no module depends, directly or
//! through others, on a module that depends on it. Read from the source:
//! every `crate::NAME` a file of module `m` mentions is an edge from `m` to
//! `NAME` (an item the crate root re-exports counts as its module's).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// The top-level module a file belongs to: `scheme` for `scheme/a2a.rs`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_str()
        .unwrap();
    first.trim_end_matches(".rs").to_owned()
}

/// The identifiers after each `crate::` in `text`, and in `use crate::{a, b::c}`.
fn mentioned(text: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(group.split(',').map(|item| ident(item.trim())));
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|name| !name.is_empty());
    out
}

/// Items the crate root re-exports, by the module they come from.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.strip_prefix("pub use ") else {
            continue;
        };
        let (module, items) = rest.split_once("::").unwrap();
        let items = items
            .trim_end_matches(';')
            .trim_matches(|c| c == '{' || c == '}');
        for item in items.split(',') {
            out.insert(item.trim().to_owned(), module.to_owned());
        }
    }
    out
}

#[test]
fn modules_form_layers_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let exported = reexports(&lib);
    let mut list = Vec::new();
    files(&src, &mut list);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in list.iter().filter(|f| !f.ends_with("lib.rs")) {
        let module = module_of(&src, file);
        // Code only: a link in a comment is not a dependency.
        let text: String = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .map(|line| line.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let targets = edges.entry(module.clone()).or_default();
        for name in mentioned(&text) {
            let target = exported.get(&name).cloned().unwrap_or(name);
            if target != module {
                targets.insert(target);
            }
        }
    }
    // Depth-first search for a path back to where it started.
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
    for module in edges.keys() {
        let mut path = vec![module.clone()];
        if path_back(&edges, module, module, &mut BTreeSet::new(), &mut path) {
            panic!("a cycle: {} -> {module}", path.join(" -> "));
        }
    }
}
