//! The map's files as a tree, how interesting each one is, and which lines fit the budget.
//!
//! Files are sorted by path component (`a/x` before `a-b/x`), so every directory's files are
//! one run and a collapsed directory is one line in their place. Interest is distance in the
//! directory tree: a focus file first, then files by how many directory steps separate them
//! from the nearest focus directory (from the root when there is no focus), shallower first,
//! then by path. Directories collapse in the opposite order — farthest and deepest first,
//! then largest, then last in path order; directories holding a focus path last,
//! directories holding a file whose definitions were reserved never — and only when
//! collapsing saves bytes. When collapsing is not enough, the
//! farthest lines go altogether.

use std::cmp::{Ordering, Reverse};

use super::walk::{Found, Kind};

/// One file of the map.
#[derive(Debug)]
pub(super) struct Entry {
    pub path: String,
    pub dir: usize,
    pub kind: Kind,
    pub focus: bool,
    /// The definitions as rendered lines, once parsed.
    pub defs: Option<Vec<String>>,
    /// Definitions reserved before the layout (their directories never collapse).
    pub pinned: bool,
    /// Definitions shown.
    pub shown: bool,
}

impl Entry {
    /// The bytes of this file's path line; nothing for a file left out as unreadable.
    pub(super) fn line_cost(&self) -> usize {
        match self.kind {
            Kind::Unreadable => 0,
            kind => self.path.len() + kind.marker().len() + 1,
        }
    }

    pub(super) fn defs_cost(&self) -> usize {
        self.defs.iter().flatten().map(String::len).sum()
    }
}

#[derive(Debug)]
pub(super) struct Dir {
    /// Without a trailing `/`; empty for the root.
    pub path: String,
    pub parent: Option<usize>,
    pub depth: usize,
    /// The run of files under this directory, at any depth.
    pub first: usize,
    pub end: usize,
    /// Steps to the nearest focus directory.
    pub distance: usize,
    /// Holds a focus directory (or is one).
    pub holds_focus: bool,
}

/// The files and directories of the map, in path order; `dirs[0]` is the root.
#[derive(Debug)]
pub(super) struct Tree {
    pub entries: Vec<Entry>,
    pub dirs: Vec<Dir>,
}

/// Paths compare by component: `/` sorts before every other byte.
fn by_component(a: &str, b: &str) -> Ordering {
    let key = |c: u8| if c == b'/' { 0 } else { c };
    a.bytes().map(key).cmp(b.bytes().map(key))
}

fn components(path: &str) -> Vec<&str> {
    path.split('/').filter(|c| !c.is_empty()).collect()
}

/// The directory part of a path ("" at the root).
fn parent_of(path: &str) -> &str {
    path.rfind('/').map_or("", |at| &path[..at])
}

impl Tree {
    /// The tree of `found` files; `focus` holds normalised paths, files or directories,
    /// existing or not.
    pub(super) fn new(mut found: Vec<Found>, focus: &[String]) -> Tree {
        found.sort_unstable_by(|a, b| by_component(&a.path, &b.path));
        found.dedup_by(|a, b| a.path == b.path);
        let mut tree = Tree {
            entries: Vec::with_capacity(found.len()),
            dirs: vec![Dir {
                path: String::new(),
                parent: None,
                depth: 0,
                first: 0,
                end: found.len(),
                distance: 0,
                holds_focus: false,
            }],
        };
        // The directories open at the current file, root first.
        let mut open: Vec<usize> = vec![0];
        for (index, file) in found.into_iter().enumerate() {
            let parts = components(parent_of(&file.path));
            let shared = open
                .iter()
                .skip(1)
                .zip(&parts)
                .take_while(|(dir, part)| {
                    let path = &tree.dirs[**dir].path;
                    path.rsplit('/').next() == Some(**part)
                })
                .count();
            for closed in open.drain(shared + 1..) {
                tree.dirs[closed].end = index;
            }
            for depth in shared..parts.len() {
                let parent = open.last().copied().unwrap_or(0);
                tree.dirs.push(Dir {
                    path: parts[..=depth].join("/"),
                    parent: Some(parent),
                    depth: depth + 1,
                    first: index,
                    end: index,
                    distance: 0,
                    holds_focus: false,
                });
                open.push(tree.dirs.len() - 1);
            }
            let dir = open.last().copied().unwrap_or(0);
            tree.entries.push(Entry {
                focus: focus.contains(&file.path),
                path: file.path,
                dir,
                kind: file.kind,
                defs: None,
                pinned: false,
                shown: false,
            });
        }
        let total = tree.entries.len();
        for dir in open.drain(1..) {
            tree.dirs[dir].end = total;
        }
        tree.measure_distances(focus);
        tree
    }

    /// Distances to the nearest focus directory: a focus path's own directory when it is a
    /// file (or names nothing in the tree, as a file the change will create), itself when it
    /// is a directory; the root when there is no focus.
    fn measure_distances(&mut self, focus: &[String]) {
        let mut targets: Vec<Vec<&str>> = focus
            .iter()
            .map(|path| {
                let is_dir = self.dirs.iter().any(|d| &d.path == path);
                components(if is_dir { path } else { parent_of(path) })
            })
            .collect();
        if targets.is_empty() {
            targets.push(Vec::new());
        }
        for dir in &mut self.dirs {
            let parts = components(&dir.path);
            let (mut distance, mut holds_focus) = (usize::MAX, false);
            for target in &targets {
                let shared = parts.iter().zip(target).take_while(|(a, b)| a == b).count();
                distance = distance.min(parts.len() + target.len() - 2 * shared);
                holds_focus |= shared == parts.len() && !focus.is_empty();
            }
            dir.distance = distance;
            dir.holds_focus = holds_focus;
        }
    }

    /// All files, most interesting first.
    pub(super) fn by_interest(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        order.sort_by_key(|&i| {
            let entry = &self.entries[i];
            let dir = &self.dirs[entry.dir];
            (!entry.focus, dir.distance, dir.depth, i)
        });
        order
    }

    /// Files under `dir` that the map lists (all but unreadable ones).
    fn listed_in(&self, dir: usize) -> usize {
        let d = &self.dirs[dir];
        self.entries[d.first..d.end]
            .iter()
            .filter(|e| e.kind != Kind::Unreadable)
            .count()
    }

    /// The line standing for a collapsed directory.
    pub(super) fn dir_line(&self, dir: usize) -> String {
        let count = self.listed_in(dir);
        let noun = if count == 1 { "file" } else { "files" };
        format!("{}/ ({count} {noun})\n", self.dirs[dir].path)
    }

    /// Which path lines to show so that they take at most `budget` bytes.
    pub(super) fn layout(&self, budget: usize) -> Layout {
        let dirs = self.dirs.len();
        let mut cost = vec![0usize; dirs];
        let mut keep = vec![false; dirs];
        for entry in &self.entries {
            cost[entry.dir] += entry.line_cost();
            if entry.pinned {
                keep[entry.dir] = true;
            }
        }
        // Parents come before their children, so one backward pass sums subtrees.
        for dir in (1..dirs).rev() {
            if let Some(parent) = self.dirs[dir].parent {
                cost[parent] += cost[dir];
                keep[parent] |= keep[dir];
            }
        }
        let mut layout = Layout {
            collapsed: vec![false; dirs],
            hidden_dirs: vec![false; dirs],
            hidden_files: vec![false; self.entries.len()],
            total: cost[0],
        };
        if layout.total <= budget {
            return layout;
        }
        let mut candidates: Vec<usize> = (1..dirs).filter(|&d| !keep[d]).collect();
        // Among equals, the largest directory first (it saves most), then the last in path
        // order, so the top of the map stays open.
        candidates.sort_by_key(|&d| {
            let dir = &self.dirs[d];
            let size = cost[d];
            (
                dir.holds_focus,
                Reverse(dir.distance),
                Reverse(dir.depth),
                Reverse(size),
                Reverse(d),
            )
        });
        for d in candidates {
            if layout.total <= budget {
                return layout;
            }
            let line = self.dir_line(d).len();
            let Some(saved) = cost[d].checked_sub(line).filter(|s| *s > 0) else {
                continue;
            };
            layout.collapsed[d] = true;
            let mut at = Some(d);
            while let Some(a) = at {
                cost[a] -= saved;
                at = self.dirs[a].parent;
            }
            layout.total = cost[0];
        }
        if layout.total > budget {
            self.hide(&mut layout, budget);
        }
        layout
    }

    /// The last resort: leave out whole lines, farthest first, never a pinned file's.
    fn hide(&self, layout: &mut Layout, budget: usize) {
        let top = self.top_collapsed(layout);
        // (distance, depth, position, cost, what)
        let mut lines: Vec<(usize, usize, usize, usize, Line)> = Vec::new();
        for (d, dir) in self.dirs.iter().enumerate() {
            if layout.collapsed[d] && top[d] == Some(d) {
                let cost = self.dir_line(d).len();
                lines.push((dir.distance, dir.depth, dir.first, cost, Line::Dir(d)));
            }
        }
        for (i, entry) in self.entries.iter().enumerate() {
            if top[entry.dir].is_none() && !entry.pinned && entry.line_cost() > 0 {
                let dir = &self.dirs[entry.dir];
                lines.push((
                    dir.distance,
                    dir.depth + 1,
                    i,
                    entry.line_cost(),
                    Line::File(i),
                ));
            }
        }
        lines.sort_by_key(|&(distance, depth, at, _, _)| (Reverse(distance), Reverse(depth), at));
        for (_, _, _, cost, line) in lines {
            if layout.total <= budget {
                break;
            }
            match line {
                Line::Dir(d) => layout.hidden_dirs[d] = true,
                Line::File(i) => layout.hidden_files[i] = true,
            }
            layout.total -= cost;
        }
    }

    /// For each directory, the outermost collapsed directory holding it, if any.
    pub(super) fn top_collapsed(&self, layout: &Layout) -> Vec<Option<usize>> {
        let mut top: Vec<Option<usize>> = vec![None; self.dirs.len()];
        for d in 1..self.dirs.len() {
            let above = self.dirs[d].parent.and_then(|p| top[p]);
            top[d] = above.or(layout.collapsed[d].then_some(d));
        }
        top
    }

    /// Whether a file's own line is shown.
    pub(super) fn visible(&self, layout: &Layout, top: &[Option<usize>], file: usize) -> bool {
        let entry = &self.entries[file];
        top[entry.dir].is_none() && !layout.hidden_files[file] && entry.kind != Kind::Unreadable
    }
}

#[derive(Debug, Clone, Copy)]
enum Line {
    Dir(usize),
    File(usize),
}

/// Which path lines are shown: collapsed directories (one line for their files), lines left
/// out altogether, and the bytes the shown path lines take.
#[derive(Debug)]
pub(super) struct Layout {
    pub collapsed: Vec<bool>,
    pub hidden_dirs: Vec<bool>,
    pub hidden_files: Vec<bool>,
    pub total: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(paths: &[&str], focus: &[&str]) -> Tree {
        let found = paths
            .iter()
            .map(|p| Found {
                path: p.to_string(),
                kind: Kind::Text,
            })
            .collect();
        let focus: Vec<String> = focus.iter().map(|f| f.to_string()).collect();
        Tree::new(found, &focus)
    }

    #[test]
    fn paths_sort_by_component() {
        let t = tree(&["a-b/x", "a/y", "a/b/z", "a.rs", "a/a"], &[]);
        let paths: Vec<&str> = t.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a/a", "a/b/z", "a/y", "a-b/x", "a.rs"]);
        let dirs: Vec<(&str, usize, usize)> = t
            .dirs
            .iter()
            .map(|d| (d.path.as_str(), d.first, d.end))
            .collect();
        assert_eq!(
            dirs,
            [("", 0, 5), ("a", 0, 3), ("a/b", 1, 2), ("a-b", 3, 4)]
        );
    }

    #[test]
    fn interest_follows_focus_then_distance() {
        let t = tree(
            &[
                "README.md",
                "src/a/deep.rs",
                "src/b/x.rs",
                "src/b/y.rs",
                "src/lib.rs",
            ],
            &["src/b/y.rs"],
        );
        let order: Vec<&str> = t
            .by_interest()
            .into_iter()
            .map(|i| t.entries[i].path.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "src/b/y.rs",
                "src/b/x.rs",
                "src/lib.rs",
                "README.md",
                "src/a/deep.rs"
            ]
        );
    }

    #[test]
    fn without_focus_shallow_files_come_first() {
        let t = tree(&["a/b/c.rs", "a/d.rs", "e.rs"], &[]);
        let order: Vec<&str> = t
            .by_interest()
            .into_iter()
            .map(|i| t.entries[i].path.as_str())
            .collect();
        assert_eq!(order, ["e.rs", "a/d.rs", "a/b/c.rs"]);
    }

    #[test]
    fn far_directories_collapse_first() {
        let mut paths = Vec::new();
        for dir in ["near", "far/away"] {
            for i in 0..10 {
                paths.push(format!("{dir}/file{i}.txt"));
            }
        }
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        let t = tree(&paths, &["near/file0.txt"]);
        let full = t.layout(usize::MAX).total;
        let layout = t.layout(full - 1);
        let collapsed: Vec<&str> = (0..t.dirs.len())
            .filter(|&d| layout.collapsed[d])
            .map(|d| t.dirs[d].path.as_str())
            .collect();
        assert_eq!(collapsed, ["far/away"]);
        assert!(layout.total < full);
    }
}
