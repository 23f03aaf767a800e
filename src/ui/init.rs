//! `init` output for people: each file written, each model chosen and why, the test command
//! and where it came from, and what is left to do for the GitHub Actions workflow.

use std::path::Path;

use crate::llm::defaults::Choice;
use crate::ops::init::Initialized;

/// What `init` wrote and why, as lines.
pub fn render_init(done: &Initialized) -> String {
    let mut lines = Vec::new();
    for file in &done.written {
        let verb = if file.replaced { "replaced" } else { "wrote" };
        lines.push(format!("{verb} {}", relative(&done.root, &file.path)));
    }
    if let Some(kept) = &done.kept {
        // The models are the ones that file names: what this machine has is beside the point.
        lines.push(format!(
            "kept {} as it is: the workflow passes the keys of the models it names",
            relative(&done.root, kept)
        ));
    } else {
        let role = |name: &str, choice: &Option<Choice>| match choice {
            Some(c) => format!("  {name:<12} {}: {}", c.model, c.why),
            None => format!("  {name:<12} none found on this machine (written commented out)"),
        };
        lines.push(role("drafter", &done.drafter));
        lines.push(role("reviewer", &done.reviewer));
        lines.push(role("implementer", &done.implementer));
    }
    lines.push(match &done.test_command {
        Some(test) => format!("  {:<12} `{}`: {}", "tests", test.command, test.source),
        None => format!(
            "  {:<12} none detected: say how they run in stages.impl.test_command",
            "tests"
        ),
    });
    if done.drafter.is_none() && done.kept.is_none() {
        lines.push(
            "  to choose models, set ANTHROPIC_API_KEY, GEMINI_API_KEY or OPENAI_API_KEY, run a local Ollama, or install the claude, gemini or codex program; or name them in the file".into(),
        );
    }
    let workflow = done
        .written
        .iter()
        .any(|f| f.path.ends_with(crate::ops::init::WORKFLOW_FILE));
    if workflow {
        if done.secrets.is_empty() {
            lines.push("  add your models' key as a repository secret (Settings > Secrets and variables > Actions) and uncomment it in the workflow".into());
        } else {
            lines.push(format!(
                "  add these repository secrets (Settings > Secrets and variables > Actions): {}; Actions gives GITHUB_TOKEN",
                done.secrets.join(", ")
            ));
        }
        if !done.not_on_runner.is_empty() {
            lines.push(format!(
                "  the runner does not have {}: install it in the workflow, or choose models with API keys",
                done.not_on_runner.join(", ")
            ));
        }
        lines.push(
            "  adapt the lines marked ADAPT in the workflow: what the tests need, and where git-orchestrate comes from"
                .into(),
        );
        lines.push(
            "  allow Actions to open pull requests: Settings > Actions > General > \"Allow GitHub Actions to create and approve pull requests\"".into(),
        );
        lines.push("  then label an issue `orchestrate`, or comment `/orchestrate` on it".into());
    } else {
        lines.push("next: git orchestrate ISSUE --dry-run".into());
    }
    lines.join("\n")
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
