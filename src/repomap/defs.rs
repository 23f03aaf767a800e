//! Top-level definitions of a source file, read with tree-sitter: which languages are
//! parsed, which nodes count as definitions, and how a definition becomes one line.
//!
//! Only the top level is read, plus one level of members where a reader needs them to know
//! what exists (methods of Rust `impl`s and traits, Python classes, JavaScript and TypeScript
//! classes). A definition is shown by its signature: the text from its start to its body,
//! on one line with whitespace collapsed, cut to [`SIGNATURE_CHARS`] characters.

use std::path::Path;

use tree_sitter::{Language, Node, Parser};

use super::MapError;

/// The longest signature shown, in characters; longer ones end in `...`.
pub(super) const SIGNATURE_CHARS: usize = 120;

/// How much source text a signature is read from, before whitespace is collapsed.
const SIGNATURE_SOURCE_BYTES: usize = 512;

/// A language whose definitions the map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
}

impl Lang {
    /// The language of a file, by its extension.
    pub(super) fn of(path: &str) -> Option<Lang> {
        let ext = Path::new(path).extension()?.to_str()?;
        Some(match ext {
            "rs" => Lang::Rust,
            "py" | "pyi" => Lang::Python,
            "js" | "jsx" | "mjs" | "cjs" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "go" => Lang::Go,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::JavaScript => "JavaScript",
            Lang::TypeScript => "TypeScript",
            Lang::Tsx => "TSX",
            Lang::Go => "Go",
        }
    }

    fn grammar(self) -> Language {
        match self {
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
        }
    }
}

/// One definition: where it starts, how deep it sits (0 top level, 1 a member) and its
/// signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Def {
    pub line: usize,
    pub depth: u8,
    pub signature: String,
}

/// One parser per language, made when first needed; a thread keeps its own.
#[derive(Default)]
pub(super) struct Parsers {
    parsers: Vec<(Lang, Parser)>,
}

impl Parsers {
    fn get(&mut self, lang: Lang) -> Result<&mut Parser, MapError> {
        let index = match self.parsers.iter().position(|(l, _)| *l == lang) {
            Some(index) => index,
            None => {
                let mut parser = Parser::new();
                parser
                    .set_language(&lang.grammar())
                    .map_err(|source| MapError::Grammar {
                        language: lang.name(),
                        source,
                    })?;
                self.parsers.push((lang, parser));
                self.parsers.len() - 1
            }
        };
        Ok(&mut self.parsers[index].1)
    }
}

/// The definitions of `source`, in source order. A file tree-sitter cannot parse at all
/// has none.
pub(super) fn definitions(
    parsers: &mut Parsers,
    lang: Lang,
    source: &[u8],
) -> Result<Vec<Def>, MapError> {
    let parser = parsers.get(lang)?;
    let Some(tree) = parser.parse(source, None) else {
        return Ok(Vec::new());
    };
    let mut out = Collector {
        source,
        defs: Vec::new(),
    };
    let root = tree.root_node();
    let mut cursor = root.walk();
    for node in root.named_children(&mut cursor) {
        match lang {
            Lang::Rust => out.rust(node),
            Lang::Python => out.python(node, 0),
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => out.script(node),
            Lang::Go => out.go(node),
        }
    }
    Ok(out.defs)
}

struct Collector<'s> {
    source: &'s [u8],
    defs: Vec<Def>,
}

impl Collector<'_> {
    fn rust(&mut self, node: Node) {
        match node.kind() {
            "function_item"
            | "function_signature_item"
            | "struct_item"
            | "enum_item"
            | "union_item"
            | "mod_item"
            | "const_item"
            | "static_item"
            | "type_item" => {
                self.push(node, 0);
            }
            "macro_definition" => self.push_text(node, find_brace(node, self.source), 0),
            "impl_item" | "trait_item" => {
                self.push(node, 0);
                self.members(node, &["function_item", "function_signature_item"]);
            }
            _ => {}
        }
    }

    fn python(&mut self, node: Node, depth: u8) {
        match node.kind() {
            "function_definition" => self.push(node, depth),
            "class_definition" => {
                self.push(node, depth);
                if depth == 0
                    && let Some(body) = node.child_by_field_name("body")
                {
                    let mut cursor = body.walk();
                    for member in body.named_children(&mut cursor) {
                        self.python(member, 1);
                    }
                }
            }
            "decorated_definition" => {
                if let Some(definition) = node.child_by_field_name("definition") {
                    self.python(definition, depth);
                }
            }
            _ => {}
        }
    }

    /// JavaScript, TypeScript and TSX share their declarations.
    fn script(&mut self, node: Node) {
        match node.kind() {
            "function_declaration"
            | "generator_function_declaration"
            | "function_signature"
            | "interface_declaration"
            | "type_alias_declaration"
            | "enum_declaration" => self.push(node, 0),
            "class_declaration" | "abstract_class_declaration" => {
                self.push(node, 0);
                self.members(
                    node,
                    &[
                        "method_definition",
                        "method_signature",
                        "abstract_method_signature",
                    ],
                );
            }
            "lexical_declaration" | "variable_declaration" if holds_function(node) => {
                self.push_declaration(node, node);
            }
            "export_statement" => self.export(node),
            _ => {}
        }
    }

    /// `export ...`: the exported declaration, shown from the `export` keyword on. Exported
    /// constants are shown whatever they hold; re-exports (`export { a } from`) are not
    /// definitions.
    fn export(&mut self, node: Node) {
        if let Some(declaration) = node.child_by_field_name("declaration") {
            match declaration.kind() {
                "lexical_declaration" | "variable_declaration" => {
                    self.push_declaration(node, declaration);
                }
                "class_declaration" | "abstract_class_declaration" => {
                    self.push_until(node, declaration.child_by_field_name("body"), 0);
                    self.members(
                        declaration,
                        &[
                            "method_definition",
                            "method_signature",
                            "abstract_method_signature",
                        ],
                    );
                }
                _ => self.push_until(node, declaration.child_by_field_name("body"), 0),
            }
        } else if let Some(value) = node.child_by_field_name("value") {
            self.push_until(node, value.child_by_field_name("body"), 0);
        }
    }

    fn go(&mut self, node: Node) {
        match node.kind() {
            "function_declaration" | "method_declaration" => self.push(node, 0),
            "type_declaration" => {
                let mut cursor = node.walk();
                let specs: Vec<Node> = node
                    .named_children(&mut cursor)
                    .filter(|n| matches!(n.kind(), "type_spec" | "type_alias"))
                    .collect();
                match specs.as_slice() {
                    [spec] => self.push_go_type(node, *spec),
                    // `type ( A int; B string )`: each type on its own line.
                    _ => {
                        for spec in specs {
                            self.push_go_type(spec, spec);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// A Go type up to the brace of a struct or interface body, whole otherwise.
    fn push_go_type(&mut self, start: Node, spec: Node) {
        let body = spec
            .child_by_field_name("type")
            .filter(|t| matches!(t.kind(), "struct_type" | "interface_type"))
            .and_then(|t| {
                let mut cursor = t.walk();
                t.named_children(&mut cursor)
                    .find(|c| matches!(c.kind(), "field_declaration_list" | "method_spec_list"))
            });
        match body {
            Some(body) => self.push_until(start, Some(body), 0),
            None => self.push_text(start, find_brace(start, self.source), 0),
        }
    }

    /// `const f = () => ...` or `export const f = ...`: up to the function's body when the
    /// value is a function, whole (cut to length) otherwise.
    fn push_declaration(&mut self, start: Node, declaration: Node) {
        let mut cursor = declaration.walk();
        let body = declaration
            .named_children(&mut cursor)
            .filter_map(|d| d.child_by_field_name("value"))
            .find(|v| matches!(v.kind(), "arrow_function" | "function_expression"))
            .and_then(|v| v.child_by_field_name("body"));
        self.push_until(start, body, 0);
    }

    /// The members of a node's body that are among `kinds`, one level down.
    fn members(&mut self, node: Node, kinds: &[&str]) {
        let Some(body) = node.child_by_field_name("body") else {
            return;
        };
        let mut cursor = body.walk();
        for member in body.named_children(&mut cursor) {
            if kinds.contains(&member.kind()) {
                self.push(member, 1);
            }
        }
    }

    fn push(&mut self, node: Node, depth: u8) {
        self.push_until(node, node.child_by_field_name("body"), depth);
    }

    /// A definition from `start` to the start of `body` (to the end of `start` without one).
    fn push_until(&mut self, start: Node, body: Option<Node>, depth: u8) {
        let end = body.map_or(start.end_byte(), |b| b.start_byte());
        self.push_text(start, end, depth);
    }

    fn push_text(&mut self, start: Node, end: usize, depth: u8) {
        let from = start.start_byte();
        let to = end.clamp(from, self.source.len());
        let signature = signature(&self.source[from..to]);
        if !signature.is_empty() {
            self.defs.push(Def {
                line: start.start_position().row + 1,
                depth,
                signature,
            });
        }
    }
}

/// Whether a `const`/`let`/`var` declaration binds a function.
fn holds_function(declaration: Node) -> bool {
    let mut cursor = declaration.walk();
    declaration
        .named_children(&mut cursor)
        .filter_map(|d| d.child_by_field_name("value"))
        .any(|v| matches!(v.kind(), "arrow_function" | "function_expression"))
}

/// The byte where a node's first `{` is, or its end.
fn find_brace(node: Node, source: &[u8]) -> usize {
    let (from, to) = (node.start_byte(), node.end_byte().min(source.len()));
    source[from..to]
        .iter()
        .position(|&b| b == b'{')
        .map_or(to, |at| from + at)
}

/// Source text as one line: whitespace collapsed, no space just inside brackets, no
/// trailing `{` or `,`, at most [`SIGNATURE_CHARS`] characters.
fn signature(text: &[u8]) -> String {
    let text = &text[..text.len().min(SIGNATURE_SOURCE_BYTES)];
    let text = String::from_utf8_lossy(text);
    let mut out = String::new();
    for word in text.split_whitespace() {
        let joins = out.ends_with(['(', '[', '<']) || word.starts_with([')', ']', '>', ',']);
        if word.starts_with([')', ']']) && out.ends_with(',') {
            out.pop();
        }
        if !out.is_empty() && !joins {
            out.push(' ');
        }
        out.push_str(word);
    }
    let out = out.trim_end_matches(|c: char| c == '{' || c == ',' || c.is_whitespace());
    if out.chars().count() <= SIGNATURE_CHARS {
        return out.to_string();
    }
    let mut cut: String = out.chars().take(SIGNATURE_CHARS - 3).collect();
    cut.push_str("...");
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(lang: Lang, source: &str) -> Vec<String> {
        definitions(&mut Parsers::default(), lang, source.as_bytes())
            .unwrap()
            .into_iter()
            .map(|d| format!("{}{}: {}", "  ".repeat(d.depth.into()), d.line, d.signature))
            .collect()
    }

    #[test]
    fn languages_follow_extensions() {
        assert_eq!(Lang::of("src/main.rs"), Some(Lang::Rust));
        assert_eq!(Lang::of("a/b.py"), Some(Lang::Python));
        for js in ["x.js", "x.jsx", "x.mjs", "x.cjs"] {
            assert_eq!(Lang::of(js), Some(Lang::JavaScript), "{js}");
        }
        assert_eq!(Lang::of("x.ts"), Some(Lang::TypeScript));
        assert_eq!(Lang::of("x.tsx"), Some(Lang::Tsx));
        assert_eq!(Lang::of("cmd/main.go"), Some(Lang::Go));
        assert_eq!(Lang::of("README.md"), None);
        assert_eq!(Lang::of("Makefile"), None);
    }

    #[test]
    fn rust_items_impls_and_traits() {
        let source = r#"//! A module.
use std::fmt;

/// A point.
#[derive(Debug)]
pub struct Point {
    pub x: i32,
}

pub enum Shape { Circle, Square }

pub const ORIGIN: Point = Point { x: 0 };
static COUNT: u32 = 0;
pub type Pair = (Point, Point);
mod inner;

macro_rules! square {
    ($x:expr) => { $x * $x };
}

impl Point {
    pub fn new(x: i32) -> Self {
        Self { x }
    }

    fn private_helper(
        &self,
        other: &Point,
    ) -> i32 {
        self.x + other.x
    }
}

pub trait Area {
    fn area(&self) -> f64;
    fn twice(&self) -> f64 { self.area() * 2.0 }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.x)
    }
}

pub fn distance<T>(a: &Point, b: &Point) -> i32
where
    T: Clone,
{
    a.x - b.x
}

#[cfg(test)]
mod tests {
    fn hidden() {}
}
"#;
        assert_eq!(
            lines(Lang::Rust, source),
            [
                "6: pub struct Point",
                "10: pub enum Shape",
                "12: pub const ORIGIN: Point = Point { x: 0 };",
                "13: static COUNT: u32 = 0;",
                "14: pub type Pair = (Point, Point);",
                "15: mod inner;",
                "17: macro_rules! square",
                "21: impl Point",
                "  22: pub fn new(x: i32) -> Self",
                "  26: fn private_helper(&self, other: &Point) -> i32",
                "34: pub trait Area",
                "  35: fn area(&self) -> f64;",
                "  36: fn twice(&self) -> f64",
                "39: impl fmt::Display for Point",
                "  40: fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result",
                "45: pub fn distance<T>(a: &Point, b: &Point) -> i32 where T: Clone",
                "53: mod tests",
            ]
        );
    }

    #[test]
    fn python_functions_classes_and_methods() {
        let source = r#""""Shapes."""
import math

RATIO = 2


def area(radius: float) -> float:
    return math.pi * radius ** 2


@dataclass
class Circle(Shape):
    """A circle."""

    radius: float

    def __init__(self, radius):
        self.radius = radius

    @property
    def diameter(self) -> float:
        def inner():
            pass
        return 2 * self.radius


async def fetch(
    url: str,
    timeout: int = 5,
) -> bytes:
    pass
"#;
        assert_eq!(
            lines(Lang::Python, source),
            [
                "7: def area(radius: float) -> float:",
                "12: class Circle(Shape):",
                "  17: def __init__(self, radius):",
                "  21: def diameter(self) -> float:",
                "27: async def fetch(url: str, timeout: int = 5) -> bytes:",
            ]
        );
    }

    #[test]
    fn javascript_functions_classes_and_exports() {
        let source = r#"import { x } from "./x.js";

export function add(a, b) {
  return a + b;
}

function* ids() { yield 1; }

export class Counter extends Base {
  count = 0;
  constructor(start) { super(); this.count = start; }
  increment() { this.count++; }
  static of(n) { return new Counter(n); }
}

export const LIMIT = 10;
const double = (n) => n * 2;
let notAFunction = 3;
export default function main() {}
export { add as plus };
"#;
        assert_eq!(
            lines(Lang::JavaScript, source),
            [
                "3: export function add(a, b)",
                "7: function* ids()",
                "9: export class Counter extends Base",
                "  11: constructor(start)",
                "  12: increment()",
                "  13: static of(n)",
                "16: export const LIMIT = 10;",
                "17: const double = (n) =>",
                "19: export default function main()",
            ]
        );
    }

    #[test]
    fn typescript_interfaces_types_and_classes() {
        let source = r#"export interface User {
  id: number;
  name: string;
}

export type Id = number | string;
type Handler = (user: User) => void;

export enum Role { Admin, Guest }

export abstract class Store<T> {
  abstract load(id: Id): Promise<T>;
  save(item: T): void {}
}

export async function find(id: Id): Promise<User | undefined> {
  return undefined;
}

export const handlers: Handler[] = [];
"#;
        assert_eq!(
            lines(Lang::TypeScript, source),
            [
                "1: export interface User",
                "6: export type Id = number | string;",
                "7: type Handler = (user: User) => void;",
                "9: export enum Role",
                "11: export abstract class Store<T>",
                "  12: abstract load(id: Id): Promise<T>",
                "  13: save(item: T): void",
                "16: export async function find(id: Id): Promise<User | undefined>",
                "20: export const handlers: Handler[] = [];",
            ]
        );
    }

    #[test]
    fn tsx_components() {
        let source = "export function App(props: Props) {\n  return <div>{props.name}</div>;\n}\n";
        assert_eq!(
            lines(Lang::Tsx, source),
            ["1: export function App(props: Props)"]
        );
    }

    #[test]
    fn go_functions_methods_and_types() {
        let source = r#"package server

import "net/http"

// Server serves.
type Server struct {
	addr string
}

type Handler interface {
	Serve(w http.ResponseWriter) error
}

type (
	ID   int
	Name = string
)

func New(addr string) *Server {
	return &Server{addr: addr}
}

func (s *Server) Start() error {
	return nil
}

var global = 1
"#;
        assert_eq!(
            lines(Lang::Go, source),
            [
                "6: type Server struct",
                "10: type Handler interface",
                "15: ID int",
                "16: Name = string",
                "19: func New(addr string) *Server",
                "23: func (s *Server) Start() error",
            ]
        );
    }

    #[test]
    fn long_signatures_are_cut() {
        let long = format!("pub fn f({}) {{}}\n", "a: u32, ".repeat(30));
        let defs = lines(Lang::Rust, &long);
        assert_eq!(defs.len(), 1);
        let signature = defs[0].trim_start_matches("1: ");
        assert_eq!(signature.chars().count(), SIGNATURE_CHARS);
        assert!(signature.starts_with("pub fn f(a: u32, a: u32"));
        assert!(signature.ends_with("..."));
    }

    #[test]
    fn broken_source_still_yields_what_parses() {
        let defs = lines(Lang::Rust, "fn ok() {}\nfn broken( {\n");
        assert_eq!(defs.first().map(String::as_str), Some("1: fn ok()"));
    }
}
