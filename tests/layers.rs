//! The crate's layers: which modules may not name which. A lower layer that imports a
//! higher one ties them together (the database to the login code, the model client to
//! the tables), and the next feature copies the tie. `cargo test` reads `src/` and
//! fails on a `crate::` path that crosses a line below.

use std::{
    fs,
    path::{Path, PathBuf},
};

/// What a module (a file or a folder under `src/`) may name.
enum May {
    /// Only these top-level modules (and itself).
    Only(&'static [&'static str]),
    /// Any but these.
    Not(&'static [&'static str]),
}

const LAYERS: &[(&str, May)] = &[
    // The shared words (roles, statuses, owners, the clock) depend on nothing.
    ("domain", May::Only(&[])),
    // The languages and their sentences: below everything that speaks to a visitor.
    ("i18n", May::Only(&[])),
    // The model client speaks HTTP to a model; it knows no table. (Its failures carry
    // the sentence a visitor is told, a `Text` of `i18n`.)
    ("llm", May::Only(&["domain", "i18n"])),
    // The SQL knows rows, not who logs in, what a budget is, or which page asked.
    ("db", May::Only(&["domain", "config"])),
    // A prompt app is a file and its rendering: no table, no visitor, no page, no call.
    ("apps", May::Only(&["domain", "config", "i18n"])),
    // Who is asking is answered below the routes, which use it.
    ("auth", May::Not(&["routes", "chat"])),
];

#[test]
fn no_module_names_a_module_above_its_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut crossings = Vec::new();
    for (module, may) in LAYERS {
        let files = rust_files(&src, module);
        assert!(!files.is_empty(), "src/{module} has no Rust files");
        for file in files {
            let code = without_comments(&fs::read_to_string(&file).unwrap());
            for named in crate_paths(&code) {
                let allowed = match may {
                    May::Only(names) => named == *module || names.contains(&named.as_str()),
                    May::Not(names) => !names.contains(&named.as_str()),
                };
                if !allowed {
                    crossings.push(format!(
                        "{} names crate::{named}",
                        file.strip_prefix(&src).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(
        crossings.is_empty(),
        "imports across layers (tests/layers.rs says why):\n{}",
        crossings.join("\n")
    );
}

#[test]
fn the_reader_finds_every_form_of_a_crate_path() {
    let code = "use crate::db::Role;\nuse crate::{\n    auth::{Owner, Visitor},\n    error::AppError,\n};\n\
                fn f() { crate::llm::demo::spawn(); my_crate::routes::x(); }";
    assert_eq!(crate_paths(code), ["db", "auth", "error", "llm"]);
    assert_eq!(
        crate_paths(&without_comments("// crate::db\n/* crate::auth */ x")),
        Vec::<String>::new()
    );
}

/// `src/<module>.rs` and everything under `src/<module>/`.
fn rust_files(src: &Path, module: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let file = src.join(format!("{module}.rs"));
    if file.is_file() {
        files.push(file);
    }
    let mut folders = vec![src.join(module)];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// The code without `//` and `/* */` comments (doc comments included), so that prose
/// mentioning a module is not an import. String literals are kept: none of ours holds
/// `crate::`.
fn without_comments(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |end| &after[end..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The top-level module each `crate::` path names, in order: `crate::db::x` gives `db`,
/// `crate::{auth::X, error::Y}` gives `auth` and `error`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut named = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        // `my_crate::x` is another crate's path.
        let part_of_a_word = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if part_of_a_word {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The group's top-level items, split at commas outside nested braces.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    _ if c.is_whitespace() => {}
                    _ if item_start => {
                        named.push(identifier(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            named.push(identifier(rest));
        }
    }
    named.retain(|name| !name.is_empty());
    named
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}
