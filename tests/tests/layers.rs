//! The layering docs/ARCHITECTURE.md §2 promises, checked against the code: each
//! workspace crate depends only on crates listed below it, and each module of the
//! gateway crate refers (through `crate::`, `super::` or `self::` paths, in `use`
//! items and in code) only to modules the table places in a lower layer, or to
//! itself. Every gateway module must have its place in the table, so a new one cannot
//! slip past. Unit tests (`#[cfg(test)]`) are left out: they may reach anything.

use std::{collections::BTreeMap, path::Path};

use motcua_tests::{repo, repo_file};
use syn::visit::Visit;

/// A module path inside the gateway crate (`["peers", "dvcqg", "sync"]`).
type ModPath = Vec<String>;

/// The table between `<!-- layers -->` and `<!-- /layers -->`: `| layer | name | … |`
/// rows, where a name is a crate (`schemas`) or a gateway module (`gateway::peers`).
fn table() -> Vec<(u32, String)> {
    let doc = repo_file("docs/ARCHITECTURE.md");
    let start = doc.find("<!-- layers -->").expect("the layer table's start marker");
    let end = doc.find("<!-- /layers -->").expect("the layer table's end marker");
    doc[start..end]
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let layer = cells.get(1)?.parse().ok()?;
            Some((layer, cells.get(2)?.trim_matches('`').to_owned()))
        })
        .collect()
}

fn modules(table: &[(u32, String)]) -> BTreeMap<ModPath, u32> {
    table
        .iter()
        .filter_map(|(layer, name)| {
            let path = name.strip_prefix("gateway::")?;
            Some((path.split("::").map(str::to_owned).collect(), *layer))
        })
        .collect()
}

/// The table's entry a module belongs to: the longest entry that is a prefix of it.
fn entry<'a>(modules: &'a BTreeMap<ModPath, u32>, path: &[String]) -> Option<(&'a ModPath, u32)> {
    (1..=path.len()).rev().find_map(|n| modules.get_key_value(&path[..n]).map(|(k, v)| (k, *v)))
}

/// The module a source file defines.
fn module_of(file: &Path, src: &Path) -> ModPath {
    let relative = file.strip_prefix(src).expect("a file under src");
    let mut parts: ModPath = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

/// Collects every crate-relative path a file refers to, resolved to absolute module
/// paths.
struct References {
    module: ModPath,
    found: Vec<ModPath>,
}

impl References {
    fn resolve(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else { return };
        let mut base = match first.as_str() {
            "crate" => Vec::new(),
            "self" | "super" => self.module.clone(),
            _ => return,
        };
        let mut rest = &segments[1..];
        if first == "super" {
            base.pop();
        }
        while rest.first().is_some_and(|s| s == "super") {
            base.pop();
            rest = &rest[1..];
        }
        base.extend(rest.iter().cloned());
        self.found.push(base);
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.resolve(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.resolve(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.resolve(&prefix.clone()),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.use_tree(prefix, t)),
        }
    }
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("cfg") && a.meta.to_token_stream_string().contains("test"))
}

trait MetaText {
    fn to_token_stream_string(&self) -> String;
}

impl MetaText for syn::Meta {
    fn to_token_stream_string(&self) -> String {
        match self {
            syn::Meta::List(list) => list.tokens.to_string(),
            _ => String::new(),
        }
    }
}

impl<'ast> Visit<'ast> for References {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.resolve(&segments);
        syn::visit::visit_path(self, path);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if is_test_only(&item.attrs) {
            return;
        }
        if item.content.is_some() {
            self.module.push(item.ident.to_string());
            syn::visit::visit_item_mod(self, item);
            self.module.pop();
        }
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_item_fn(self, item);
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn each_gateway_module_uses_only_modules_placed_below_it() {
    let table = table();
    let modules = modules(&table);
    assert!(modules.len() > 20, "the table lists the gateway's modules: {modules:?}");
    let src = repo().join("gateway/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let module = module_of(file, &src);
        // The crate root and the binary's entry point sit above everything; a unit
        // test file (`#[cfg(test)] mod tests;`) may reach anything.
        if module.is_empty() || module == ["main"] || module.last().is_some_and(|m| m == "tests") {
            continue;
        }
        let name = module.join("::");
        let Some((own, layer)) = entry(&modules, &module) else {
            problems.push(format!("gateway::{name} has no place in the layer table"));
            continue;
        };
        let source = std::fs::read_to_string(file).expect("a source file");
        let parsed = syn::parse_file(&source).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut references = References { module: module.clone(), found: Vec::new() };
        references.visit_file(&parsed);
        for target in references.found {
            // What the crate root re-exports from the store crate sits below the gateway.
            if target.is_empty() || ["store", "files", "outbox"].contains(&target[0].as_str()) {
                continue;
            }
            let Some((theirs, their_layer)) = entry(&modules, &target) else { continue };
            let inside = theirs.starts_with(own) || own.starts_with(theirs);
            if !inside && their_layer >= layer || inside && theirs != own && their_layer > layer {
                problems.push(format!(
                    "gateway::{name} (layer {layer}) uses gateway::{} (layer {their_layer})",
                    theirs.join("::")
                ));
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "docs/ARCHITECTURE.md §2 is not what the code does:\n{}", problems.join("\n"));
}

#[test]
fn each_crate_depends_only_on_crates_placed_below_it() {
    let table = table();
    let crates: BTreeMap<String, u32> =
        table.iter().filter(|(_, name)| !name.contains("::")).map(|(l, n)| (n.clone(), *l)).collect();
    let mut problems = Vec::new();
    for (name, layer) in &crates {
        let manifest: toml::Table = repo_file(&format!("{name}/Cargo.toml")).parse().expect("a manifest");
        for section in ["dependencies", "build-dependencies"] {
            let Some(dependencies) = manifest.get(section).and_then(|d| d.as_table()) else { continue };
            for dependency in dependencies.keys().filter_map(|d| d.strip_prefix("motcua-")) {
                match crates.get(dependency) {
                    Some(theirs) if theirs < layer => {}
                    Some(theirs) => problems.push(format!("{name} (layer {layer}) uses {dependency} (layer {theirs})")),
                    None => problems.push(format!("{name} uses {dependency}, which the table does not place")),
                }
            }
        }
    }
    assert!(crates.len() >= 6, "the table lists the crates: {crates:?}");
    assert!(problems.is_empty(), "docs/ARCHITECTURE.md §2 is not what the manifests say:\n{}", problems.join("\n"));
}
