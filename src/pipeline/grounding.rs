//! Grounding: what the models are told about the target repository, so that drafts name real
//! paths and reviewers judge against this repository rather than one they imagine.

use crate::git::{GitError, ObjectId, Repo};

/// How many paths of the tracked tree a prompt lists.
const MAX_PATHS: usize = 400;
/// How much of the README a prompt quotes.
const README_LINES: usize = 60;
const README_BYTES: usize = 4000;

/// The repository as a prompt describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoContext {
    pub name: String,
    pub paths: Vec<String>,
    pub truncated: bool,
    pub readme: Option<(String, String)>,
}

impl RepoContext {
    /// Read the context from the tree of `commit`.
    pub fn read(repo: &Repo, commit: ObjectId) -> Result<RepoContext, GitError> {
        let (paths, truncated) = repo.tracked_paths(commit, MAX_PATHS)?;
        let readme_name = paths
            .iter()
            .filter(|p| !p.contains('/'))
            .find(|p| {
                let lower = p.to_ascii_lowercase();
                lower == "readme" || lower.starts_with("readme.")
            })
            .cloned();
        let readme = match readme_name {
            Some(name) => repo
                .read_file(commit, &name)?
                .map(|bytes| (name, opening(&String::from_utf8_lossy(&bytes)))),
            None => None,
        };
        Ok(RepoContext {
            name: repo.name(),
            paths,
            truncated,
            readme,
        })
    }

    /// The Markdown section prompts include.
    pub fn render(&self) -> String {
        let mut out = format!("## The repository: {}\n\n", self.name);
        if self.paths.is_empty() {
            out.push_str("The repository tracks no files yet.\n");
        } else {
            let note = if self.truncated {
                format!(
                    " (the first {}, shallowest first; the list is cut there)",
                    self.paths.len()
                )
            } else {
                String::new()
            };
            out.push_str(&format!("Tracked files{note}:\n\n```\n"));
            for path in &self.paths {
                out.push_str(path);
                out.push('\n');
            }
            out.push_str("```\n");
        }
        if let Some((name, text)) = &self.readme {
            out.push_str(&format!(
                "\nThe opening of {name}:\n\n<<<README\n{text}\nREADME>>>\n"
            ));
        }
        out
    }
}

fn opening(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().take(README_LINES) {
        if out.len() + line.len() + 1 > README_BYTES {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string()
}
