//! Architecture checks over the workspace's sources, run with every `cargo test`.
//!
//! Per crate, the top-level modules (`src/foo.rs` or `src/foo/`, everything under `src/foo/`
//! counting as `foo`) form a graph with an edge A → B for every path from A that reaches B through
//! the crate root: `crate::B…`, `use crate::{B::x, …}`, a root-reaching `super::B`, or a name the
//! crate root re-exports from B (`crate::Secret` is `secret`). The checks:
//!
//! - no crate has a cycle among its modules;
//! - in gflab, only `runtime` names bollard;
//! - in gflab-agent, `client` and `server` do not reference each other, and `proto` references
//!   none of `client`, `server` and `connection`.
//!
//! Sources are read with a small tokenizer that drops comments and keeps string literals apart,
//! so neither can fake or hide a reference. Every crate's edges:
//! `cargo test -p gflab --test layering module_graph -- --nocapture`.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The crates checked: display name and folder under the workspace root.
const CRATES: [(&str, &str); 3] = [
    ("gflab", "lab"),
    ("gflab-agent", "agent"),
    ("gflab-tests", "tests_d"),
];

/// References that must not exist: crate, from module, to modules, why.
const FORBIDDEN: [(&str, &str, &[&str], &str); 3] = [
    (
        "gflab-agent",
        "client",
        &["server"],
        "the client must not depend on the server",
    ),
    (
        "gflab-agent",
        "server",
        &["client"],
        "the server must not depend on the client",
    ),
    (
        "gflab-agent",
        "proto",
        &["client", "server", "connection"],
        "the protocol is the bottom layer: both ends depend on it, it on neither",
    ),
];

/// How many cycles of one crate are listed before the rest are only counted.
const MAX_CYCLES_SHOWN: usize = 50;

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

/// What a token is; comments and whitespace produce none.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// An identifier, keyword or number (a raw identifier without its `r#`).
    Word(String),
    /// `::`.
    PathSep,
    /// Any other punctuation character.
    Punct(char),
    /// The contents of a string literal of any kind (plain, raw, byte, C).
    Str(String),
}

/// A token and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    /// The token.
    tok: Tok,
    /// 1-based line.
    line: usize,
}

impl Token {
    /// Whether this is the word `w`.
    fn is_word(&self, w: &str) -> bool {
        matches!(&self.tok, Tok::Word(x) if x == w)
    }
    /// Whether this is the punctuation `c`.
    fn is_punct(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }
}

/// Splits Rust source into tokens, dropping whitespace and comments (line, doc and nested block
/// comments). Char literals and lifetimes produce no token.
fn tokenize(src: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        s: src.chars().collect(),
        i: 0,
        line: 1,
        out: Vec::new(),
    };
    lexer.run();
    lexer.out
}

/// Whether `c` can be part of an identifier or number.
fn is_word_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// The state of [`tokenize`].
struct Lexer {
    /// The source.
    s: Vec<char>,
    /// The next character to read.
    i: usize,
    /// The line of `s[i]`.
    line: usize,
    /// Tokens so far.
    out: Vec<Token>,
}

impl Lexer {
    /// The character at `i`, or NUL past the end.
    fn at(&self, i: usize) -> char {
        self.s.get(i).copied().unwrap_or('\0')
    }

    /// Moves past one character, counting lines.
    fn bump(&mut self) {
        self.line += usize::from(self.at(self.i) == '\n');
        self.i += 1;
    }

    /// Records a token that started on `line`.
    fn push(&mut self, tok: Tok, line: usize) {
        self.out.push(Token { tok, line });
    }

    /// Reads the whole source.
    fn run(&mut self) {
        while self.i < self.s.len() {
            let (c, next, line) = (self.at(self.i), self.at(self.i + 1), self.line);
            match c {
                '/' if next == '/' => {
                    while self.i < self.s.len() && self.at(self.i) != '\n' {
                        self.i += 1;
                    }
                }
                '/' if next == '*' => self.block_comment(),
                '"' => {
                    self.i += 1;
                    let text = self.string_body();
                    self.push(Tok::Str(text), line);
                }
                '\'' => self.char_or_lifetime(),
                ':' if next == ':' => {
                    self.i += 2;
                    self.push(Tok::PathSep, line);
                }
                c if is_word_char(c) => self.word(),
                c if c.is_whitespace() => self.bump(),
                c => {
                    self.i += 1;
                    self.push(Tok::Punct(c), line);
                }
            }
        }
    }

    /// Skips a block comment, nested ones included.
    fn block_comment(&mut self) {
        let mut depth = 0;
        while self.i < self.s.len() {
            if self.at(self.i) == '/' && self.at(self.i + 1) == '*' {
                depth += 1;
                self.i += 2;
            } else if self.at(self.i) == '*' && self.at(self.i + 1) == '/' {
                depth -= 1;
                self.i += 2;
                if depth == 0 {
                    return;
                }
            } else {
                self.bump();
            }
        }
    }

    /// Reads a string literal's body up to its closing quote (escapes honoured) and moves past it.
    fn string_body(&mut self) -> String {
        let mut text = String::new();
        while self.i < self.s.len() && self.at(self.i) != '"' {
            if self.at(self.i) == '\\' {
                text.push('\\');
                self.bump();
            }
            text.push(self.at(self.i));
            self.bump();
        }
        self.i += 1;
        text
    }

    /// Reads a raw string literal's body up to `"` and `hashes` hashes and moves past them.
    fn raw_string_body(&mut self, hashes: usize) -> String {
        let mut text = String::new();
        while self.i < self.s.len() {
            let closes = self.at(self.i) == '"' && (1..=hashes).all(|k| self.at(self.i + k) == '#');
            if closes {
                self.i += 1 + hashes;
                break;
            }
            text.push(self.at(self.i));
            self.bump();
        }
        text
    }

    /// Skips a char literal (`'x'`, `'"'`, `'\''`, `'\u{41}'`) or a lifetime or label (`'a`).
    fn char_or_lifetime(&mut self) {
        if self.at(self.i + 1) == '\\' {
            self.i += 3;
            while self.i < self.s.len() && self.at(self.i) != '\'' {
                self.i += 1;
            }
            self.i += 1;
        } else if self.at(self.i + 2) == '\'' {
            self.i += 3;
        } else {
            self.i += 1;
            while is_word_char(self.at(self.i)) {
                self.i += 1;
            }
        }
    }

    /// Reads a word, or the literal it prefixes (`r"…"`, `br#"…"#`, `b"…"`, `b'x'`, `c"…"`), or
    /// the raw identifier it starts (`r#type`).
    fn word(&mut self) {
        let (begin, line) = (self.i, self.line);
        while is_word_char(self.at(self.i)) {
            self.i += 1;
        }
        let word: String = self.s[begin..self.i].iter().collect();
        let hashes = (self.i..).take_while(|&k| self.at(k) == '#').count();
        let after = self.at(self.i + hashes);
        match word.as_str() {
            "r" | "br" | "cr" if after == '"' => {
                self.i += hashes + 1;
                let text = self.raw_string_body(hashes);
                self.push(Tok::Str(text), line);
            }
            // A raw identifier: the next round reads it as a word.
            "r" if hashes == 1 && is_word_char(after) => self.i += 1,
            // A prefix: the next round reads the string or char literal.
            "b" | "c" if matches!(self.at(self.i), '"' | '\'') => {}
            _ => self.push(Tok::Word(word), line),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/// One path a use tree or an expression names, from where it was rooted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Leaf {
    /// Its segments with their lines (`client`, `Client`); a glob ends in `*`.
    segments: Vec<(String, usize)>,
    /// The name it is imported as (`as` rename), if renamed.
    alias: Option<String>,
}

impl Leaf {
    /// The name this leaf brings into scope (a `use`): its alias or its last segment; none for a
    /// glob.
    fn name(&self) -> Option<&str> {
        match (&self.alias, self.segments.last()) {
            (Some(a), _) => Some(a),
            (None, Some((last, _))) if last != "*" => Some(last),
            _ => None,
        }
    }
}

/// Parses a use tree, or the path part of an expression, starting at `i`; appends every leaf path
/// (prefixed with `prefix`) to `out` and returns the index after the tree.
fn use_tree(
    toks: &[Token],
    mut i: usize,
    prefix: &[(String, usize)],
    out: &mut Vec<Leaf>,
) -> usize {
    let mut segments = prefix.to_vec();
    loop {
        match toks.get(i).map(|t| &t.tok) {
            Some(Tok::Word(w)) => {
                segments.push((w.clone(), toks[i].line));
                i += 1;
                if toks.get(i).is_some_and(|t| t.tok == Tok::PathSep) {
                    i += 1;
                    continue;
                }
                let mut alias = None;
                if toks.get(i).is_some_and(|t| t.is_word("as")) {
                    if let Some(Tok::Word(a)) = toks.get(i + 1).map(|t| &t.tok) {
                        alias = Some(a.clone());
                    }
                    i += 2;
                }
                out.push(Leaf { segments, alias });
                return i;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                while let Some(t) = toks.get(i) {
                    if t.is_punct('}') {
                        return i + 1;
                    }
                    if t.is_punct(',') {
                        i += 1;
                        continue;
                    }
                    let next = use_tree(toks, i, &segments, out);
                    i = next.max(i + 1);
                }
                return i;
            }
            Some(Tok::Punct('*')) => {
                segments.push(("*".to_string(), toks[i].line));
                out.push(Leaf {
                    segments,
                    alias: None,
                });
                return i + 1;
            }
            _ => {
                // Not a path segment (`crate::` then `<`, or the end): the path so far is all.
                if segments.len() > prefix.len() {
                    out.push(Leaf {
                        segments,
                        alias: None,
                    });
                }
                return i;
            }
        }
    }
}

/// The inline-module depth at each token (`mod tests { … }` adds one inside its braces).
fn inline_depths(toks: &[Token]) -> Vec<usize> {
    let mut opened_at: Vec<usize> = Vec::new();
    let mut braces = 0usize;
    let mut depths = Vec::with_capacity(toks.len());
    for (i, t) in toks.iter().enumerate() {
        if t.is_punct('{') {
            braces += 1;
            let named_mod =
                i >= 2 && toks[i - 2].is_word("mod") && matches!(toks[i - 1].tok, Tok::Word(_));
            if named_mod {
                opened_at.push(braces);
            }
        } else if t.is_punct('}') {
            if opened_at.last() == Some(&braces) {
                opened_at.pop();
            }
            braces = braces.saturating_sub(1);
        }
        depths.push(opened_at.len());
    }
    depths
}

/// Every path of a file that starts at the crate root: after `crate::` (or `$crate::`), and after
/// as many `super::` as the code is deep. `file_depth` is the depth of the file's module (1 for
/// `src/foo.rs` and `src/foo/mod.rs`, 2 for `src/foo/bar.rs`); inline modules add to it.
fn root_paths(toks: &[Token], file_depth: usize) -> Vec<Leaf> {
    let depths = inline_depths(toks);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let starts_path = i == 0 || toks[i - 1].tok != Tok::PathSep;
        let sep_follows = toks.get(i + 1).is_some_and(|t| t.tok == Tok::PathSep);
        if starts_path && sep_follows && toks[i].is_word("crate") {
            i = use_tree(toks, i + 2, &[], &mut out);
        } else if starts_path && sep_follows && toks[i].is_word("super") {
            let mut j = i;
            let mut ups = 0;
            while toks.get(j).is_some_and(|t| t.is_word("super"))
                && toks.get(j + 1).is_some_and(|t| t.tok == Tok::PathSep)
            {
                ups += 1;
                j += 2;
            }
            if ups == file_depth + depths[i] {
                i = use_tree(toks, j, &[], &mut out);
            } else {
                i = j;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Names the crate root re-exports from a module (`pub use client::{Client, …}`), and macros a
/// module exports at the root (`#[macro_export]`), mapped to that module.
fn root_names(
    root: &[Token],
    modules: &BTreeSet<String>,
    files: &[(&str, &[Token])],
) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    let depths = inline_depths(root);
    for (i, t) in root.iter().enumerate() {
        if depths[i] > 0 || !t.is_word("use") {
            continue;
        }
        let mut leaves = Vec::new();
        use_tree(root, i + 1, &[], &mut leaves);
        for leaf in &leaves {
            let mut segs = leaf.segments.iter().map(|(s, _)| s.as_str());
            let first = match segs.next() {
                Some("crate" | "self") => segs.next(),
                other => other,
            };
            if let (Some(m), Some(name)) = (first, leaf.name()) {
                if modules.contains(m) && leaf.segments.len() > 1 {
                    names.insert(name.to_string(), m.to_string());
                }
            }
        }
    }
    for (module, toks) in files {
        for (i, t) in toks.iter().enumerate() {
            if t.is_word("macro_rules") && toks.get(i + 1).is_some_and(|t| t.is_punct('!')) {
                if let (true, Some(Tok::Word(name))) =
                    (macro_exported(toks, i), toks.get(i + 2).map(|t| &t.tok))
                {
                    names.insert(name.clone(), module.to_string());
                }
            }
        }
    }
    names
}

/// Whether the attributes right before token `i` include `#[macro_export]`.
fn macro_exported(toks: &[Token], mut i: usize) -> bool {
    while i > 0 && toks[i - 1].is_punct(']') {
        let Some(open) = toks[..i - 1].iter().rposition(|t| t.is_punct('[')) else {
            return false;
        };
        if toks[open..i].iter().any(|t| t.is_word("macro_export")) {
            return true;
        }
        if open == 0 || !toks[open - 1].is_punct('#') {
            return false;
        }
        i = open - 1;
    }
    false
}

// ---------------------------------------------------------------------------------------------
// Graph
// ---------------------------------------------------------------------------------------------

/// A place in the sources.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Site {
    /// File, relative to the workspace root.
    file: String,
    /// 1-based line.
    line: usize,
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One source file of a crate.
#[derive(Debug, Clone)]
struct SourceFile {
    /// Path relative to the crate's `src/` (`runner/mod.rs`).
    rel: PathBuf,
    /// Path shown in messages (`lab/src/runner/mod.rs`).
    shown: String,
    /// The file's text.
    text: String,
}

impl SourceFile {
    /// The top-level module the file belongs to; `None` for a crate root (`lib.rs`, `main.rs`).
    fn module(&self) -> Option<String> {
        let mut parts = self.rel.components();
        let first = parts.next()?.as_os_str().to_str()?;
        if parts.next().is_some() {
            return Some(first.to_string());
        }
        match first.strip_suffix(".rs")? {
            "lib" | "main" => None,
            m => Some(m.to_string()),
        }
    }
    /// How deep the file's module is below the crate root (`foo.rs`, `foo/mod.rs`: 1).
    fn depth(&self) -> usize {
        let n = self.rel.components().count();
        if self.rel.file_name().is_some_and(|f| f == "mod.rs") {
            n - 1
        } else {
            n
        }
    }
}

/// One crate's module graph.
#[derive(Debug, Default)]
struct Graph {
    /// Crate name, for messages.
    name: String,
    /// Top-level modules.
    modules: BTreeSet<String>,
    /// from → to → every place `from` references `to`, in file and line order.
    edges: BTreeMap<String, BTreeMap<String, Vec<Site>>>,
}

impl Graph {
    /// Builds the graph of a crate from its files.
    fn build(name: &str, files: &[SourceFile]) -> Graph {
        let modules: BTreeSet<String> = files.iter().filter_map(SourceFile::module).collect();
        let tokens: Vec<(Option<String>, Vec<Token>)> = files
            .iter()
            .map(|f| (f.module(), tokenize(&f.text)))
            .collect();
        let root = files
            .iter()
            .zip(&tokens)
            .find(|(f, _)| f.rel == Path::new("lib.rs"))
            .map(|(_, (_, t))| t.as_slice())
            .unwrap_or_default();
        let in_modules: Vec<(&str, &[Token])> = tokens
            .iter()
            .filter_map(|(m, t)| Some((m.as_deref()?, t.as_slice())))
            .collect();
        let names = root_names(root, &modules, &in_modules);
        let mut edges: BTreeMap<String, BTreeMap<String, Vec<Site>>> = BTreeMap::new();
        for (file, (module, toks)) in files.iter().zip(&tokens) {
            let Some(from) = module else { continue };
            for leaf in root_paths(toks, file.depth()) {
                let Some((first, line)) = leaf.segments.first() else {
                    continue;
                };
                let to = if modules.contains(first) {
                    first
                } else if let Some(m) = names.get(first) {
                    m
                } else {
                    continue;
                };
                if to != from {
                    let site = Site {
                        file: file.shown.clone(),
                        line: *line,
                    };
                    let sites = edges
                        .entry(from.clone())
                        .or_default()
                        .entry(to.clone())
                        .or_default();
                    if !sites.contains(&site) {
                        sites.push(site);
                    }
                }
            }
        }
        for sites in edges.values_mut().flat_map(|m| m.values_mut()) {
            sites.sort();
        }
        Graph {
            name: name.to_string(),
            modules,
            edges,
        }
    }

    /// The modules `from` references.
    fn targets(&self, from: &str) -> impl Iterator<Item = &str> {
        self.edges
            .get(from)
            .into_iter()
            .flat_map(|m| m.keys().map(String::as_str))
    }

    /// Where `from` first references `to`.
    fn first_site(&self, from: &str, to: &str) -> Option<&Site> {
        self.edges.get(from)?.get(to)?.first()
    }

    /// Every elementary cycle, each starting at its smallest module, as the list of its modules.
    fn cycles(&self) -> Vec<Vec<String>> {
        let mut found = Vec::new();
        for start in &self.modules {
            let mut path = vec![start.as_str()];
            self.walk(start, &mut path, &mut found);
        }
        found
    }

    /// Extends `path` (a simple path from its first module) by every module greater than the
    /// start, recording each way back to the start.
    fn walk<'g>(&'g self, start: &str, path: &mut Vec<&'g str>, found: &mut Vec<Vec<String>>) {
        let last = path[path.len() - 1];
        for next in self.targets(last) {
            if next == start {
                found.push(path.iter().map(|m| m.to_string()).collect());
            } else if next > start && !path.contains(&next) {
                path.push(next);
                self.walk(start, path, found);
                path.pop();
            }
        }
    }

    /// Renders every cycle (`a → b → a`) with one site per edge; empty when there is none.
    fn cycle_report(&self) -> String {
        let cycles = self.cycles();
        let mut out = String::new();
        if cycles.is_empty() {
            return out;
        }
        let _ = writeln!(out, "{}: {} module cycle(s):", self.name, cycles.len());
        for cycle in cycles.iter().take(MAX_CYCLES_SHOWN) {
            let _ = writeln!(out, "  {} → {}", cycle.join(" → "), cycle[0]);
            for (i, from) in cycle.iter().enumerate() {
                let to = &cycle[(i + 1) % cycle.len()];
                if let Some(site) = self.first_site(from, to) {
                    let _ = writeln!(out, "      {from} → {to}  {site}");
                }
            }
        }
        if cycles.len() > MAX_CYCLES_SHOWN {
            let _ = writeln!(out, "  … and {} more", cycles.len() - MAX_CYCLES_SHOWN);
        }
        out
    }

    /// Every edge, one line each with its first site (for `--nocapture`).
    fn edge_list(&self) -> String {
        let mut out = format!("{} modules: {}\n", self.name, self.modules.len());
        for (from, tos) in &self.edges {
            for (to, sites) in tos {
                let _ = writeln!(
                    out,
                    "  {from} → {to}  ({} reference(s), first {})",
                    sites.len(),
                    sites[0]
                );
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// The workspace
// ---------------------------------------------------------------------------------------------

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, relative to it, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                files.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    files.sort();
    files
}

/// Reads every source file of the crate in `folder`.
fn read_crate(folder: &str) -> Vec<SourceFile> {
    let src = workspace().join(folder).join("src");
    rust_files(&src)
        .into_iter()
        .map(|rel| {
            let path = src.join(&rel);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            SourceFile {
                shown: format!("{folder}/src/{}", rel.display()),
                rel,
                text,
            }
        })
        .collect()
}

/// The module graph of every checked crate.
fn graphs() -> Vec<Graph> {
    CRATES
        .iter()
        .map(|(name, folder)| Graph::build(name, &read_crate(folder)))
        .collect()
}

/// Every reference `FORBIDDEN` rules out, one line per site; empty when there is none.
fn forbidden_report(graphs: &[Graph]) -> String {
    let mut out = String::new();
    for (krate, from, tos, why) in FORBIDDEN {
        let Some(g) = graphs.iter().find(|g| g.name == krate) else {
            continue;
        };
        for to in tos {
            let Some(sites) = g.edges.get(from).and_then(|m| m.get(*to)) else {
                continue;
            };
            let _ = writeln!(out, "{krate}: {from} → {to}: {why}");
            for site in sites {
                let _ = writeln!(out, "      {site}");
            }
        }
    }
    out
}

/// Every line outside `runtime/` of `files` that names `word` in code or a string literal.
fn word_outside_runtime(files: &[SourceFile], word: &str) -> Vec<Site> {
    let mut sites = Vec::new();
    for f in files.iter().filter(|f| !f.rel.starts_with("runtime")) {
        for t in tokenize(&f.text) {
            let hit = match &t.tok {
                Tok::Word(w) => w == word,
                Tok::Str(s) => s
                    .split(|c: char| !(c == '_' || c.is_alphanumeric()))
                    .any(|w| w == word),
                _ => false,
            };
            let site = Site {
                file: f.shown.clone(),
                line: t.line,
            };
            if hit && !sites.contains(&site) {
                sites.push(site);
            }
        }
    }
    sites
}

/// Prints every crate's edges; shown with `--nocapture`.
#[test]
fn module_graph() {
    for g in graphs() {
        println!("{}", g.edge_list());
    }
}

#[test]
fn modules_form_no_cycles() {
    let report: String = graphs().iter().map(Graph::cycle_report).collect();
    if !report.is_empty() {
        panic!("modules must form no cycles; break each cycle below at one edge.\n{report}");
    }
}

#[test]
fn agent_layers_are_respected() {
    let report = forbidden_report(&graphs());
    if !report.is_empty() {
        panic!("forbidden references between modules:\n{report}");
    }
}

#[test]
fn only_the_runtime_names_bollard() {
    let sites = word_outside_runtime(&read_crate("lab"), "bollard");
    if !sites.is_empty() {
        let lines: Vec<String> = sites.iter().map(|s| format!("      {s}")).collect();
        panic!(
            "bollard is named outside lab/src/runtime/; go through the Runtime trait instead:\n{}",
            lines.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The checker itself
// ---------------------------------------------------------------------------------------------

/// The first segments (with lines) of the root paths of `src` in a file of depth `depth`.
fn roots(src: &str, depth: usize) -> Vec<(String, usize)> {
    root_paths(&tokenize(src), depth)
        .into_iter()
        .filter_map(|l| l.segments.first().cloned())
        .collect()
}

/// `(name, line)` pairs from string literals and numbers.
fn pairs(items: &[(&str, usize)]) -> Vec<(String, usize)> {
    items.iter().map(|(s, l)| (s.to_string(), *l)).collect()
}

/// A crate of in-memory files.
fn fake_crate(files: &[(&str, &str)]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|(rel, text)| SourceFile {
            rel: PathBuf::from(rel),
            shown: format!("x/src/{rel}"),
            text: text.to_string(),
        })
        .collect()
}

#[test]
fn grouped_use_across_lines_names_each_module() {
    let src = "use crate::{\n    b::x,\n    c,\n    d::{e, f::{g, h}},\n};\n";
    assert_eq!(
        roots(src, 1),
        pairs(&[("b", 2), ("c", 3), ("d", 4), ("d", 4), ("d", 4)])
    );
}

#[test]
fn paths_in_expressions_and_aliases_count() {
    let src = "fn f() {\n    let x = crate::b::f();\n    $crate::c::M;\n}\nuse crate::d as e;\n";
    assert_eq!(roots(src, 1), pairs(&[("b", 2), ("c", 3), ("d", 5)]));
    let mut leaves = Vec::new();
    use_tree(&tokenize("a::{b as c, d::*}"), 0, &[], &mut leaves);
    let names: Vec<Option<&str>> = leaves.iter().map(Leaf::name).collect();
    assert_eq!(names, [Some("c"), None]);
    assert_eq!(roots("use crate::b::*;", 1), pairs(&[("b", 1)]));
}

#[test]
fn comments_are_not_references() {
    let src = "// crate::a::x\n/// crate::b\n//! crate::c\n/* crate::d /* nested crate::e */ crate::f */\n/** crate::g */ crate::h::i();\n";
    assert_eq!(roots(src, 1), pairs(&[("h", 5)]));
}

#[test]
fn string_literals_are_not_references() {
    let src = concat!(
        "let a = \"crate::a \\\" crate::b\";\n",
        "let b = r\"crate::c\";\n",
        "let c = r#\"crate::d \" crate::e\"#;\n",
        "let d = b\"crate::f\"; let e = br##\"crate::g\"# \"##;\n",
        "let q = '\"'; let p = '\\''; let l: &'static str = \"\";\n",
        "crate::h::i();\n",
    );
    assert_eq!(roots(src, 1), pairs(&[("h", 6)]));
}

#[test]
fn lines_count_inside_literals_and_comments() {
    let src = "let s = \"a\nb\";\n/* x\ny */\nlet r = r#\"\n\"#;\ncrate::z::f();\n";
    assert_eq!(roots(src, 1), pairs(&[("z", 7)]));
}

#[test]
fn super_reaches_the_root_only_from_a_top_level_module() {
    assert_eq!(roots("use super::b::x;", 1), pairs(&[("b", 1)]));
    assert_eq!(
        roots("use super::{b, c::d};", 1),
        pairs(&[("b", 1), ("c", 1)])
    );
    assert!(roots("use super::b::x;", 2).is_empty());
    assert_eq!(roots("use super::super::b;", 2), pairs(&[("b", 1)]));
    let tests_mod = "mod tests {\n    use super::b;\n    use super::super::c;\n}\nuse super::d;\n";
    assert_eq!(roots(tests_mod, 1), pairs(&[("c", 3), ("d", 5)]));
}

#[test]
fn raw_identifiers_and_byte_chars_are_read() {
    let src = "let r#type = b'x'; crate::r#loop::f(); let c = c\"crate::no\";";
    assert_eq!(roots(src, 1), pairs(&[("loop", 1)]));
}

#[test]
fn modules_of_files_and_their_depths() {
    let files = fake_crate(&[
        ("lib.rs", ""),
        ("main.rs", ""),
        ("a.rs", ""),
        ("b/mod.rs", ""),
        ("b/c.rs", ""),
        ("d.rs", ""),
        ("d/e/f.rs", ""),
    ]);
    let seen: Vec<(Option<String>, usize)> =
        files.iter().map(|f| (f.module(), f.depth())).collect();
    let want: Vec<(Option<String>, usize)> = [
        (None, 1),
        (None, 1),
        (Some("a"), 1),
        (Some("b"), 1),
        (Some("b"), 2),
        (Some("d"), 1),
        (Some("d"), 3),
    ]
    .into_iter()
    .map(|(m, d)| (m.map(String::from), d))
    .collect();
    assert_eq!(seen, want);
}

#[test]
fn an_acyclic_crate_passes() {
    let g = Graph::build(
        "x",
        &fake_crate(&[
            (
                "lib.rs",
                "pub mod a; pub mod b; pub mod c;\npub use c::Thing;\n",
            ),
            ("a.rs", "use crate::b::f;\nuse crate::Thing;\n"),
            ("b.rs", "use crate::c::g;"),
            (
                "c.rs",
                "// use crate::a;\nfn f() { let s = \"crate::b\"; }\n",
            ),
        ]),
    );
    assert_eq!(g.cycle_report(), "");
    assert_eq!(g.targets("a").collect::<Vec<_>>(), ["b", "c"]);
}

#[test]
fn every_cycle_is_listed_with_a_site_per_edge() {
    let g = Graph::build(
        "x",
        &fake_crate(&[
            ("lib.rs", "pub mod lab; pub mod plan; pub mod vm;"),
            ("lab.rs", "use crate::vm;\n"),
            ("plan.rs", "\nuse crate::vm::Spec;\n"),
            ("vm.rs", "use crate::lab::Lab;\nuse crate::plan::Plan;\n"),
            ("vm/cpio.rs", "fn f() { super::super::plan::g(); }"),
        ]),
    );
    assert_eq!(
        g.cycle_report(),
        "x: 2 module cycle(s):\n  lab → vm → lab\n      lab → vm  x/src/lab.rs:1\n      vm → lab  x/src/vm.rs:1\n  plan → vm → plan\n      plan → vm  x/src/plan.rs:2\n      vm → plan  x/src/vm.rs:2\n"
    );
    assert_eq!(g.edges["vm"]["plan"].len(), 2);
}

#[test]
fn reexported_names_and_exported_macros_lead_to_their_module() {
    let g = Graph::build(
        "x",
        &fake_crate(&[
            (
                "lib.rs",
                "pub mod client; pub mod proto; pub mod error;\npub use client::{Info as AgentInfo, Pool};\npub mod prelude { pub use crate::proto::Hidden; }\n",
            ),
            ("client.rs", ""),
            (
                "error.rs",
                "#[macro_export]\n#[doc = \"[x]\"]\nmacro_rules! ensure { () => { $crate::Never }; }\nmacro_rules! local { () => {}; }",
            ),
            ("proto.rs", "use crate::AgentInfo;\nfn f() { crate::ensure!(); crate::Hidden; crate::local!(); }"),
        ]),
    );
    let to: Vec<&str> = g.targets("proto").collect();
    assert_eq!(to, ["client", "error"]);
    let report = forbidden_report(&[Graph {
        name: "gflab-agent".into(),
        ..g
    }]);
    assert_eq!(
        report,
        "gflab-agent: proto → client: the protocol is the bottom layer: both ends depend on it, it on neither\n      x/src/proto.rs:1\n"
    );
}

#[test]
fn bollard_is_found_in_code_and_strings_but_not_comments() {
    let files = fake_crate(&[
        (
            "lab.rs",
            "// bollard\nuse bollard::Docker;\nconst M: &str = \"a bollard error\";\n",
        ),
        ("runtime/docker.rs", "use bollard::Docker;"),
        ("plan.rs", "/* bollard */ const N: &str = \"bollards\";"),
    ]);
    let sites: Vec<String> = word_outside_runtime(&files, "bollard")
        .iter()
        .map(Site::to_string)
        .collect();
    assert_eq!(sites, ["x/src/lab.rs:2", "x/src/lab.rs:3"]);
}
