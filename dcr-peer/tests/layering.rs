//! The crate's layering, read from its source: `fsm/` is a leaf (the
//! standard library and `dcr-wire` only, no lock, atomic or channel), and
//! no import circle joins the crate's files.
//!
//! A file depends on another when it names an item of it: in a `use`
//! (groups expanded), or inline as `crate::a::b`, `super::x` or
//! `child::x`. A path is resolved to the file that defines the item, so a
//! re-export (`pub use`) leads on to where the item lives, and declaring a
//! module (`mod x;`) is no dependency. Comments and string literals are
//! ignored. The checker's own tests below feed it small made-up crates.
//!
//! `LAYERING_PRINT=1 cargo test -p dcr-peer --test layering -- --nocapture`
//! prints the graph.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// The crates `fsm/` may name.
const FSM_MAY_USE: [&str; 4] = ["std", "core", "alloc", "dcr_wire"];
/// Primitive types, whose associated functions (`u64::from`) name no
/// crate.
const PRIMITIVES: [&str; 17] = [
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64", "bool", "char", "str",
];
/// Types `fsm/` may not hold: the machines own no lock, atomic or channel.
const FSM_MAY_NOT_HOLD: [&str; 9] = [
    "Mutex",
    "RwLock",
    "Atomic",
    "Condvar",
    "mpsc",
    "oneshot",
    "broadcast",
    "Notify",
    "Arc",
];

#[test]
fn fsm_is_a_leaf() {
    let krate = Crate::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let faults = krate.leaf_faults("fsm", &FSM_MAY_USE, &FSM_MAY_NOT_HOLD);
    assert!(
        faults.is_empty(),
        "fsm/ is not a leaf:\n{}",
        faults.join("\n")
    );
}

#[test]
fn no_import_circle_joins_the_crate_s_files() {
    let krate = Crate::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let graph = krate.graph();
    assert!(
        graph.len() > 20,
        "the crate's files were not found: {graph:?}"
    );
    if std::env::var_os("LAYERING_PRINT").is_some() {
        for (f, d) in &graph {
            println!(
                "{f} -> {}",
                d.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    if let Some(circle) = find_circle(&graph) {
        panic!("import circle: {}", circle.join(" -> "));
    }
}

/// One source file: its module path (`""` for the crate root) and its
/// text with comments and string literals blanked out.
#[derive(Debug)]
struct Module {
    path: Vec<String>,
    code: String,
}

#[derive(Debug, Default)]
struct Crate {
    modules: Vec<Module>,
}

impl Crate {
    /// Every `.rs` file under `src`.
    fn read(src: &Path) -> Crate {
        let mut files = Vec::new();
        collect(src, src, &mut files);
        Crate::from_files(files.iter().map(|(p, t)| (p.as_str(), t.as_str())))
    }

    /// A crate from `(path relative to src, text)` pairs.
    fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Crate {
        let modules = files
            .into_iter()
            .map(|(file, text)| Module {
                path: module_path(file),
                code: inline_supers(&strip(text)),
            })
            .collect();
        Crate { modules }
    }

    fn module(&self, path: &[String]) -> Option<&Module> {
        self.modules.iter().find(|m| m.path == path)
    }

    /// The `pub use` re-exports of each module: (module, name) → the
    /// absolute path it stands for.
    fn reexports(&self) -> HashMap<(Vec<String>, String), Vec<String>> {
        let mut map = HashMap::new();
        for m in &self.modules {
            for (public, tree) in use_statements(&m.code) {
                if !public {
                    continue;
                }
                for (path, alias) in expand(&tree) {
                    if let Some(abs) = self.absolute(m, &path) {
                        map.insert((m.path.clone(), alias), abs);
                    }
                }
            }
        }
        map
    }

    /// `path` as written in `m`, made absolute; `None` for other crates.
    fn absolute(&self, m: &Module, path: &[String]) -> Option<Vec<String>> {
        let (first, rest) = path.split_first()?;
        let mut base = match first.as_str() {
            "crate" => Vec::new(),
            "self" => m.path.clone(),
            "super" => m.path[..m.path.len().checked_sub(1)?].to_vec(),
            // A child module of `m`, named without a prefix.
            child
                if self
                    .module(&[&m.path[..], &[child.to_string()]].concat())
                    .is_some() =>
            {
                m.path.clone()
            }
            _ => return None,
        };
        if first != "crate" && first != "self" && first != "super" {
            base.push(first.clone());
        }
        let mut rest = rest;
        while let Some((s, r)) = rest.split_first() {
            if s != "super" {
                break;
            }
            base.pop()?;
            rest = r;
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    /// The file defining the item at absolute `path`, following
    /// re-exports.
    fn resolve(
        &self,
        path: &[String],
        reexports: &HashMap<(Vec<String>, String), Vec<String>>,
        depth: usize,
    ) -> Option<Vec<String>> {
        let longest = (0..=path.len())
            .rev()
            .find(|&n| self.module(&path[..n]).is_some())?;
        let module = path[..longest].to_vec();
        if let Some(name) = path.get(longest) {
            if let Some(target) = reexports.get(&(module.clone(), name.clone())) {
                if depth < 16 {
                    let mut next = target.clone();
                    next.extend(path[longest + 1..].iter().cloned());
                    return self.resolve(&next, reexports, depth + 1);
                }
            }
        }
        Some(module)
    }

    /// Every path `m` names, as written: those of its `use` statements,
    /// and those written inline, with a first segment that a `use`
    /// brought into scope replaced by the path it stands for.
    fn written_paths(m: &Module) -> Vec<Vec<String>> {
        let uses: Vec<(Vec<String>, String)> = use_statements(&m.code)
            .iter()
            .flat_map(|(_, tree)| expand(tree))
            .collect();
        let mut paths: Vec<Vec<String>> = uses.iter().map(|(p, _)| p.clone()).collect();
        for path in inline_paths(&without_uses(&m.code)) {
            match uses.iter().find(|(_, bound)| *bound == path[0]) {
                Some((full, _)) => paths.push([&full[..], &path[1..]].concat()),
                None => paths.push(path),
            }
        }
        paths
    }

    /// Every path `m` names that leads into this crate, made absolute.
    fn named_paths(&self, m: &Module) -> Vec<Vec<String>> {
        Crate::written_paths(m)
            .iter()
            .filter_map(|p| self.absolute(m, p))
            .collect()
    }

    /// Which files each file depends on, by module name (`crate` for the
    /// root).
    fn graph(&self) -> BTreeMap<String, BTreeSet<String>> {
        let reexports = self.reexports();
        let mut graph = BTreeMap::new();
        for m in &self.modules {
            let from = name(&m.path);
            let deps: BTreeSet<String> = self
                .named_paths(m)
                .iter()
                .filter_map(|p| self.resolve(p, &reexports, 0))
                .map(|p| name(&p))
                .filter(|to| *to != from)
                .collect();
            graph.insert(from, deps);
        }
        graph
    }

    /// What the files under `dir` do that a leaf may not: name another
    /// crate than `may_use`, a file of this crate outside `dir`, or hold
    /// one of `may_not_hold`.
    fn leaf_faults(&self, dir: &str, may_use: &[&str], may_not_hold: &[&str]) -> Vec<String> {
        let reexports = self.reexports();
        let mut faults = Vec::new();
        for m in self
            .modules
            .iter()
            .filter(|m| m.path.first().map(String::as_str) == Some(dir))
        {
            let file = name(&m.path);
            for p in self.named_paths(m) {
                if let Some(to) = self.resolve(&p, &reexports, 0) {
                    if to.first().map(String::as_str) != Some(dir) {
                        faults.push(format!("{file} names {}", p.join("::")));
                    }
                }
            }
            for p in Crate::written_paths(m) {
                let first = p[0].as_str();
                let ours = self.absolute(m, &p).is_some();
                // A path into another crate: a type in scope
                // (`Message::Ping`) or a primitive (`u64::from`) is none.
                let a_crate = first.starts_with(|c: char| c.is_ascii_lowercase())
                    && !PRIMITIVES.contains(&first);
                if !ours && a_crate && !may_use.contains(&first) {
                    faults.push(format!("{file} names {}", p.join("::")));
                }
            }
            for word in words(&m.code) {
                if may_not_hold.iter().any(|t| word.starts_with(t)) {
                    faults.push(format!("{file} holds {word}"));
                }
            }
        }
        faults.sort();
        faults.dedup();
        faults
    }
}

/// Module path of the file at `file` (relative to `src`).
fn module_path(file: &str) -> Vec<String> {
    let file = file.trim_end_matches(".rs");
    let mut parts: Vec<String> = file.split('/').map(str::to_string).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("lib" | "main" | "mod")
    ) {
        parts.pop();
    }
    parts
}

fn name(path: &[String]) -> String {
    if path.is_empty() {
        "crate".into()
    } else {
        path.join("::")
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p.strip_prefix(root).expect("under src");
            let text = std::fs::read_to_string(&p).expect("source is UTF-8");
            out.push((rel.to_string_lossy().replace('\\', "/"), text));
        }
    }
}

/// `text` with comments, string and character literals replaced by
/// spaces (lengths and line breaks kept).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, s: &[u8]| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = 0;
            while j < rest.len() {
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if rest[0] == b'"'
            || (raw_start(b, i)
                && (rest.starts_with(b"r\"")
                    || rest.starts_with(b"r#\"")
                    || rest.starts_with(b"r##")))
        {
            let hashes = rest.iter().skip(1).take_while(|&&c| c == b'#').count();
            let raw = rest[0] == b'r';
            let open = if raw { 2 + hashes } else { 1 };
            let mut j = open;
            loop {
                if j >= rest.len() {
                    break;
                }
                if !raw && rest[j] == b'\\' {
                    j += 2;
                    continue;
                }
                if rest[j] == b'"' && rest[j + 1..].iter().take(hashes).all(|&c| c == b'#') {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            let j = j.min(rest.len());
            blank(&mut out, &rest[..j]);
            i += j;
        } else if rest[0] == b'\'' {
            // A character literal ('x', '\n', '\u{..}'), not a lifetime.
            let end = if rest.get(1) == Some(&b'\\') {
                rest.iter().skip(3).position(|&c| c == b'\'').map(|p| p + 4)
            } else if rest.get(2) == Some(&b'\'') {
                Some(3)
            } else {
                None
            };
            match end {
                Some(n) => {
                    blank(&mut out, &rest[..n]);
                    i += n;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = text[i..].chars().next().expect("in bounds");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// True when an `r` at `i` can open a raw string (it does not end a
/// longer identifier, bar a byte string's `b`).
fn raw_start(b: &[u8], i: usize) -> bool {
    i == 0
        || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
        || (b[i - 1] == b'b' && (i == 1 || !b[i - 2].is_ascii_alphanumeric()))
}

/// `code` with the `super`s that stay inside the file rewritten as
/// `self`: within an inline `mod tests { .. }`, `super::x` is the file's
/// own `x`.
fn inline_supers(code: &str) -> String {
    // How many inline modules enclose each byte.
    let mut depth = vec![0u8; code.len() + 1];
    let mut from = 0;
    while let Some(p) = find_word(&code[from..], "mod") {
        let at = from + p;
        from = at + 3;
        let after = code[from..].trim_start();
        let ident: String = after.chars().take_while(|&c| is_ident(c)).collect();
        let rest = after[ident.len()..].trim_start();
        if ident.is_empty() || !rest.starts_with('{') {
            continue;
        }
        let open = code.len() - rest.len();
        let mut level = 0;
        let close = code[open..]
            .char_indices()
            .find(|&(_, c)| {
                level += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                level == 0
            })
            .map_or(code.len(), |(i, _)| open + i);
        for d in &mut depth[open..close] {
            *d += 1;
        }
    }
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < code.len() {
        let starts = code[i..].starts_with("super::")
            && !code[..i].ends_with(|c: char| is_ident(c) || c == ':');
        if starts && depth[i] > 0 {
            let mut k = 0;
            while code[i + 7 * k..].starts_with("super::") {
                k += 1;
            }
            let inside = k.min(usize::from(depth[i]));
            out.push_str("self::");
            for _ in inside..k {
                out.push_str("super::");
            }
            i += 7 * k;
            continue;
        }
        let c = code[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifiers of `code`.
fn words(code: &str) -> impl Iterator<Item = &str> {
    code.split(|c: char| !is_ident(c)).filter(|w| !w.is_empty())
}

/// Each `use` statement of `code`: whether it is public (any `pub`), and
/// its tree as written (`crate::a::{b, c::d as e}`).
fn use_statements(code: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        let before = rest[..at].trim_end();
        let public = before.ends_with("pub") || before.ends_with(')');
        let Some(end) = rest[at..].find(';') else {
            break;
        };
        let tree = rest[at + 3..at + end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        out.push((public, tree));
        rest = &rest[at + end..];
    }
    out
}

/// `code` without its `use` statements.
fn without_uses(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').map_or(rest.len(), |e| at + e);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Where `word` stands alone in `text`.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = text[from..].find(word) {
        let at = from + p;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// The paths of a use tree, each with the name it binds.
fn expand(tree: &str) -> Vec<(Vec<String>, String)> {
    fn go(prefix: &[String], tree: &str, out: &mut Vec<(Vec<String>, String)>) {
        let tree = tree.trim().trim_start_matches("::");
        if let Some(open) = tree.find('{') {
            let head: Vec<String> = tree[..open]
                .split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let prefix = [prefix, &head[..]].concat();
            for part in split_top(inner) {
                go(&prefix, part, out);
            }
            return;
        }
        let (path, alias) = match tree.split_once(" as ") {
            Some((p, a)) => (p, Some(a.trim())),
            None => (tree, None),
        };
        let mut full: Vec<String> = prefix.to_vec();
        full.extend(
            path.split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        if full.last().map(String::as_str) == Some("self") {
            full.pop();
        }
        if full.last().map(String::as_str) == Some("*") {
            full.pop();
        }
        if full.is_empty() {
            return;
        }
        let bound = alias.map_or_else(|| full.last().cloned().unwrap_or_default(), str::to_string);
        out.push((full, bound));
    }
    let mut out = Vec::new();
    go(&[], tree, &mut out);
    out
}

/// `a, b::{c, d}, e` split at its top-level commas.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// Paths written inline (`a::b::c`) in `code`, each at least two
/// segments long.
fn inline_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts =
            is_ident(chars[i]) && (i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':'));
        if !starts {
            i += 1;
            continue;
        }
        let mut segs = Vec::new();
        let mut j = i;
        loop {
            let s = j;
            while j < chars.len() && is_ident(chars[j]) {
                j += 1;
            }
            segs.push(chars[s..j].iter().collect::<String>());
            if chars.get(j) == Some(&':')
                && chars.get(j + 1) == Some(&':')
                && chars.get(j + 2).is_some_and(|&c| is_ident(c))
            {
                j += 2;
            } else {
                break;
            }
        }
        if segs.len() > 1 {
            out.push(segs);
        }
        i = j.max(i + 1);
    }
    out
}

/// A circle in `graph`, as the files around it, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut HashMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(n.to_string(), Mark::Open);
        stack.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            match marks.get(m).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let from = stack.iter().position(|s| s == m).expect("on the stack");
                    let mut circle = stack[from..].to_vec();
                    circle.push(m.clone());
                    return Some(circle);
                }
                Mark::New => {
                    if let Some(c) = visit(m, graph, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(n.to_string(), Mark::Done);
        None
    }
    let mut marks = HashMap::new();
    for n in graph.keys() {
        if marks.get(n).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(c) = visit(n, graph, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

// ---- the checker's own tests ------------------------------------------------

fn deps(krate: &Crate, of: &str) -> Vec<String> {
    krate.graph()[of].iter().cloned().collect()
}

#[test]
fn the_checker_finds_a_circle_through_uses_and_inline_paths() {
    let krate = Crate::from_files([
        ("lib.rs", "mod a; mod b; mod c;"),
        (
            "a.rs",
            "use crate::b::{Thing, other::Deep as D};\npub struct A;",
        ),
        ("b.rs", "pub struct Thing;\nfn f() { crate::c::run(); }"),
        ("c.rs", "fn g(_: super::a::A) {}"),
    ]);
    let circle = find_circle(&krate.graph()).expect("a -> b -> c -> a");
    assert_eq!(circle, ["a", "b", "c", "a"]);
}

#[test]
fn the_checker_follows_re_exports_and_ignores_comments_and_strings() {
    let krate = Crate::from_files([
        ("lib.rs", "mod a; mod b;\npub use a::A;"),
        // `crate::A` is a's, re-exported by the root: no edge to the root.
        (
            "a.rs",
            "pub struct A;\n// use crate::b::B;\nconst S: &str = \"crate::b::B\";",
        ),
        ("b.rs", "use crate::A;\n/* crate::b */ pub struct B;"),
    ]);
    assert_eq!(deps(&krate, "b"), ["a"]);
    assert!(deps(&krate, "a").is_empty());
    assert_eq!(find_circle(&krate.graph()), None);
}

#[test]
fn the_checker_sees_a_parent_and_its_child_naming_each_other() {
    let krate = Crate::from_files([
        ("lib.rs", "mod peer;"),
        (
            "peer/mod.rs",
            "mod driver;\npub struct Peer;\nfn f() { driver::run(); }",
        ),
        ("peer/driver.rs", "use super::Peer;\npub fn run() {}"),
    ]);
    assert_eq!(deps(&krate, "peer"), ["peer::driver"]);
    assert_eq!(deps(&krate, "peer::driver"), ["peer"]);
    assert!(find_circle(&krate.graph()).is_some());
}

#[test]
fn the_checker_reads_super_in_an_inline_module_as_the_file_itself() {
    let krate = Crate::from_files([
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "pub struct A;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::super::b::B;\n}"),
        ("b.rs", "pub struct B;"),
    ]);
    assert_eq!(deps(&krate, "a"), ["b"]);
}

#[test]
fn the_checker_tells_a_leaf_from_one_that_is_not() {
    let leaf = Crate::from_files([
        ("lib.rs", "mod fsm; mod config;"),
        ("fsm/mod.rs", "pub mod a;"),
        ("fsm/a.rs", "use std::time::Instant;\nuse dcr_wire::Message;\nuse super::b;\nfn f(m: Message) { Message::Ping; }"),
        ("config.rs", "use std::sync::Mutex;"),
    ]);
    let ok: Vec<String> = leaf.leaf_faults("fsm", &FSM_MAY_USE, &FSM_MAY_NOT_HOLD);
    assert!(ok.is_empty(), "{ok:?}");
    let not = Crate::from_files([
        ("lib.rs", "mod fsm; mod config;"),
        ("fsm/mod.rs", "pub mod a;"),
        (
            "fsm/a.rs",
            "use crate::config::Limits;\nuse std::sync::{Arc, Mutex};\n#[derive(thiserror::Error)] struct E;\nfn f() { let _ = rand::random::<u8>(); }",
        ),
        ("config.rs", "pub struct Limits;"),
    ]);
    let faults = not.leaf_faults("fsm", &FSM_MAY_USE, &FSM_MAY_NOT_HOLD);
    for fault in [
        "fsm::a names config::Limits",
        "fsm::a names thiserror::Error",
        "fsm::a names rand::random",
        "fsm::a holds Mutex",
        "fsm::a holds Arc",
    ] {
        assert!(
            faults.iter().any(|f| f == fault),
            "{fault} not in {faults:?}"
        );
    }
}
