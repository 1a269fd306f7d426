//! The crate's layers, checked from its source: which module may use which (read from every
//! `crate::…` and `super::…` path in `src/`, comments and `#[cfg(test)]` modules left out).
//!
//! - no cycle between the crate's top-level modules;
//! - the stages (`cpu`, `gpu`), the plan and its inputs (`params`, `stages`, `plan`) and the
//!   backends (`backend`) never use the layers above them: the CLI, `run`, `stream`, `tune`,
//!   `bench`, `outputs`, `checks`, `eval` or the `pipeline` facade;
//! - the library never uses the binary (`src/bin/`).
//!
//! ARCHITECTURE.md draws the same layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a library file: `src/gpu/threshold.rs` → `["gpu", "threshold"]`,
/// `src/backend/mod.rs` → `["backend"]`, `src/lib.rs` → `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its `#[cfg(test)]` items.
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut skip_depth: Option<i32> = None;
    let mut depth = 0i32;
    let mut pending_test = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let no_comment = match trimmed.find("//") {
            Some(i) => &trimmed[..i],
            None => trimmed,
        };
        if trimmed.starts_with("#[cfg(test)]") {
            pending_test = true;
            continue;
        }
        let opens = no_comment.matches('{').count() as i32;
        let closes = no_comment.matches('}').count() as i32;
        if pending_test && skip_depth.is_none() {
            skip_depth = Some(depth);
            pending_test = false;
        }
        depth += opens - closes;
        if let Some(d) = skip_depth {
            if depth <= d && (opens > 0 || closes > 0) {
                skip_depth = None;
            }
            continue;
        }
        out.push_str(no_comment);
        out.push('\n');
    }
    out
}

/// The top-level modules a file's code uses (`crate::x`, or `super::x` resolved).
fn uses(module: &[String], code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
            continue; // `floodseg_crate::` and the like
        }
        let name = ident(&code[i + 7..]);
        if !name.is_empty() {
            out.insert(name);
        }
    }
    for (i, _) in code.match_indices("super::") {
        if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
            continue;
        }
        // `super` from `a::b` is `a`; a `super::super` chain is rare and resolved the same way
        let mut parent = module.to_vec();
        parent.pop();
        let name = ident(&code[i + 7..]);
        let top = parent.first().cloned().unwrap_or(name);
        out.insert(top);
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in all {
        if f.starts_with(src().join("bin")) {
            continue;
        }
        let module = module_of(&f);
        let Some(top) = module.first().cloned() else {
            continue; // lib.rs: the module list
        };
        let text = std::fs::read_to_string(&f).unwrap();
        let mut used = uses(&module, &code(&text));
        used.remove(&top);
        g.entry(top).or_default().extend(used);
    }
    g
}

#[test]
fn the_crate_has_no_import_cycle() {
    let g = graph();
    // depth-first search for a back edge
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(n) {
            return;
        }
        if let Some(i) = path.iter().position(|p| p == n) {
            panic!("import cycle: {} → {n}", path[i..].join(" → "));
        }
        path.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if g.contains_key(m) {
                visit(m, g, path, done);
            }
        }
        path.pop();
        done.insert(n.to_string());
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        visit(n, &g, &mut Vec::new(), &mut done);
    }
    assert!(
        g.len() >= 20,
        "only {} modules found: {:?}",
        g.len(),
        g.keys()
    );
}

#[test]
fn stages_plan_and_backends_never_use_the_layers_above_them() {
    let g = graph();
    let lower = [
        "cpu", "gpu", "shaders", "error", "image", "measure", "params", "stages", "plan",
        "backend", "io",
    ];
    let upper = [
        "run", "stream", "tune", "bench", "outputs", "checks", "eval", "pipeline", "render",
        "synth", "flags", "track", "ctc",
    ];
    for l in lower {
        let used = g.get(l).unwrap_or_else(|| panic!("no module {l}"));
        for u in upper {
            assert!(!used.contains(u), "{l} uses {u}: {used:?}");
        }
    }
    // the stages use only the stages, the shaders, errors and images
    for l in ["cpu", "gpu"] {
        for m in &g[l] {
            assert!(
                ["cpu", "gpu", "shaders", "error", "image"].contains(&m.as_str()),
                "{l} uses {m}"
            );
        }
    }
    // the plan is below both backends
    assert!(!g["plan"].contains("backend") && !g["params"].contains("plan"));
}

#[test]
fn the_library_never_uses_the_binary() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    for f in all.iter().filter(|f| !f.starts_with(src().join("bin"))) {
        let text = code(&std::fs::read_to_string(f).unwrap());
        assert!(
            !text.contains("mod bin") && !text.contains("bin::floodseg"),
            "{} refers to the binary",
            f.display()
        );
    }
}

/// The checker itself: a planted upward use is found.
#[test]
fn the_checker_sees_an_upward_use() {
    let used = uses(
        &["cpu".into(), "peaks".into()],
        &code("use crate::tune::Grid;\n// crate::stream in a comment\nfn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::bench;\n}\n"),
    );
    assert_eq!(used, BTreeSet::from(["tune".to_string()]));
}

#[test]
#[ignore]
fn print_graph() {
    for (k, v) in graph() {
        println!("{k}: {v:?}");
    }
}
