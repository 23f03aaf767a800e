//! The invariants ARCHITECTURE.md states, checked on the source: which layer may import
//! which, no import cycle between the pipeline's modules, git2 only in `git/`, output only in
//! `ui/`. Each rule reads the files as text: a `use` or a `crate::`/`super::` path counts as
//! an import of the module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its module path (`pipeline::stages::review`).
fn sources() -> Vec<(Vec<String>, String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap().with_extension("");
            let mut module: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests may reach anywhere; the rules are about the product's code.
            let text = match text.find("#[cfg(test)]\nmod tests") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            out.push((module, text, path));
        }
    }
    out
}

/// The code of a file without its comments.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) if !l[..at].contains('"') => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    text.split_at(end)
}

/// The modules a file's code names through `crate::` and `super::` paths, as absolute module
/// paths (the first segments that name modules).
fn imports(module: &[String], text: &str) -> BTreeSet<Vec<String>> {
    let code = code(text);
    let mut found = BTreeSet::new();
    for start in ["crate::", "super::"] {
        let mut rest = code.as_str();
        while let Some(at) = rest.find(start) {
            let before = rest[..at].chars().last();
            let tail = &rest[at..];
            rest = &rest[at + start.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut base: Vec<String> = Vec::new();
            let mut tail = tail;
            if let Some(t) = tail.strip_prefix("crate::") {
                tail = t;
            } else {
                base = module.to_vec();
                while let Some(t) = tail.strip_prefix("super::") {
                    base.pop();
                    tail = t;
                }
            }
            for path in paths(tail) {
                let mut full = base.clone();
                full.extend(path);
                found.insert(full);
            }
        }
    }
    found
}

/// The paths a `use` tail names: `a::b::C`, or `{a, b::c}` (first two segments of each).
fn paths(tail: &str) -> Vec<Vec<String>> {
    if let Some(group) = tail.strip_prefix('{') {
        let mut depth = 0;
        let mut items = Vec::new();
        let mut current = String::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(std::mem::take(&mut current));
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        items.push(current);
        return items
            .iter()
            .flat_map(|item| paths(item.trim()))
            .filter(|p| !p.is_empty() && p[0] != "self")
            .collect();
    }
    let mut segments = Vec::new();
    let mut rest = tail;
    loop {
        let (name, after) = ident(rest);
        if name.is_empty() {
            break;
        }
        segments.push(name.to_string());
        match after.strip_prefix("::") {
            Some(next) if next.starts_with('{') => {
                return paths(next)
                    .into_iter()
                    .map(|p| segments.iter().cloned().chain(p).collect())
                    .collect();
            }
            Some(next) if segments.len() < 3 => rest = next,
            _ => break,
        }
    }
    vec![segments]
}

/// The layer a module belongs to: its first segment (`pipeline`, `git`, ...).
fn layer(module: &[String]) -> &str {
    module.first().map(String::as_str).unwrap_or("lib")
}

/// Which layers each layer may import (besides itself).
fn allowed(layer: &str) -> &'static [&'static str] {
    match layer {
        "lib" | "main" => &["cli"],
        "cli" => &[
            "ops",
            "sandbox",
            "pipeline",
            "ui",
            "config",
            "edit",
            "forge",
            "repomap",
            "testing",
            "env",
            "error_chain",
            "git",
            "issue",
            "llm",
            "redact",
            "stage",
        ],
        "ops" => &[
            "pipeline",
            "sandbox",
            "config",
            "edit",
            "forge",
            "repomap",
            "testing",
            "env",
            "error_chain",
            "git",
            "issue",
            "llm",
            "process",
            "redact",
            "stage",
        ],
        "pipeline" => &[
            "sandbox",
            "config",
            "edit",
            "forge",
            "repomap",
            "testing",
            "env",
            "error_chain",
            "git",
            "issue",
            "llm",
            "process",
            "redact",
            "stage",
        ],
        "ui" => &["pipeline", "ops", "config", "env", "llm", "redact", "stage"],
        "llm" => &["config", "env", "error_chain", "process", "redact", "stage"],
        "redact" => &["env"],
        "git" => &["env", "process"],
        "config" => &["env", "redact", "stage"],
        "edit" => &[],
        "repomap" => &[],
        "testing" => &["env", "process", "redact"],
        "sandbox" => &["env", "process"],
        "forge" => &["env", "error_chain", "process", "redact"],
        _ => &[],
    }
}

#[test]
fn layers_import_only_the_layers_below_them() {
    let mut wrong = Vec::new();
    for (module, text, path) in sources() {
        let from = layer(&module).to_string();
        for target in imports(&module, &text) {
            let to = layer(&target);
            if to != from && !allowed(&from).contains(&to) {
                wrong.push(format!(
                    "{}: {from} imports {}",
                    path.display(),
                    target.join("::")
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layering:\n{}",
        wrong.join("\n")
    );
}

/// The command line and the renderers see the pipeline through its front: the items its root
/// re-exports, its events and its io. Everything else is the pipeline's own business.
#[test]
fn the_edge_sees_only_the_pipelines_front() {
    const FRONT: &[&str] = &["events", "io"];
    let mut wrong = Vec::new();
    for (module, text, path) in sources() {
        if !matches!(layer(&module), "cli" | "ui") {
            continue;
        }
        for target in imports(&module, &text) {
            if target.first().map(String::as_str) != Some("pipeline") || target.len() < 3 {
                continue;
            }
            let is_module = target[1].chars().next().is_some_and(char::is_lowercase);
            if is_module && !FRONT.contains(&target[1].as_str()) {
                wrong.push(format!("{}: {}", path.display(), target.join("::")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the edge reaches into the pipeline:\n{}",
        wrong.join("\n")
    );
}

/// The pipeline's modules import each other without cycles, and a stage never imports the
/// loop that dispatches it or the gates the loop holds at.
#[test]
fn pipeline_modules_import_each_other_without_cycles() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text, path) in sources() {
        if layer(&module) != "pipeline" || module.len() < 2 {
            continue; // pipeline/mod.rs declares and re-exports; it is everyone's parent
        }
        let from = module[1].clone();
        for target in imports(&module, &text) {
            if target.len() < 2 || target[0] != "pipeline" {
                continue;
            }
            let to = &target[1];
            if !to.chars().next().is_some_and(char::is_lowercase) || *to == from {
                continue;
            }
            if from == "stages" {
                assert!(
                    !matches!(to.as_str(), "run" | "gate"),
                    "{} imports pipeline::{to}: a stage never calls back into the loop",
                    path.display()
                );
            }
            graph.entry(from.clone()).or_default().insert(to.clone());
        }
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(at) = path.iter().position(|n| n == node) {
            panic!("import cycle: {} -> {node}", path[at..].join(" -> "));
        }
        if done.contains(node) {
            return;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
    assert!(
        graph.contains_key("run") && graph.contains_key("stages"),
        "{graph:?}"
    );
}

#[test]
fn git2_is_used_only_in_the_git_module() {
    for (module, text, path) in sources() {
        if layer(&module) == "git" {
            continue;
        }
        assert!(
            !code(&text).contains("git2::"),
            "{} uses git2 outside src/git",
            path.display()
        );
    }
}

#[test]
fn only_the_ui_writes_to_the_terminal() {
    const PRINTS: [&str; 6] = [
        "println!",
        "eprintln!",
        "print!(",
        "eprint!(",
        "io::stdout()",
        "io::stderr()",
    ];
    for (module, text, path) in sources() {
        if layer(&module) == "ui" {
            continue;
        }
        let code = code(&text);
        for print in PRINTS {
            assert!(
                !code.contains(print),
                "{} writes to the terminal ({print}) outside src/ui",
                path.display()
            );
        }
    }
}

#[test]
fn the_import_reader_understands_the_forms_used() {
    let module: Vec<String> = vec!["pipeline".into(), "stages".into(), "review".into()];
    let found = imports(
        &module,
        "use super::StageOutcome;\nuse crate::pipeline::{PipelineError, branch::{Message, Verdict}};\nlet x = crate::git::ObjectId::parse(y);\n// use crate::ui::Ui;\n",
    );
    let found: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert!(
        found.contains(&"pipeline::stages::StageOutcome".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"pipeline::branch::Message".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"git::ObjectId::parse".to_string()),
        "{found:?}"
    );
    assert!(!found.iter().any(|f| f.starts_with("ui")), "{found:?}");
}
