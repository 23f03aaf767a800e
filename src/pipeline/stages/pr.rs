//! The `pr` stage: push the issue's branch with the user's own `git` (never forced), open a
//! pull request for it or update the one already open, record the pull request's address in
//! an empty `orchestrate(pr)` commit and push that too, so `status` shows it on any clone
//! without asking GitHub. The issue's worktree is removed at the end: the code is on the
//! branch.
//!
//! The `before_pr` gate holds before this stage (the run loop does that). A pull request
//! that was created while the connection failed is found again by its head branch, so a
//! re-run never opens a second one.

use std::sync::LazyLock;

use regex::Regex;

use super::StageOutcome;
use super::implement::verification_section;
use crate::forge::{Head, NewPull, Opened, PullRequest};
use crate::git::ObjectId;
use crate::issue::{SOURCE_HEADING, filed, source_url};
use crate::pipeline::PipelineError;
use crate::pipeline::branch::message::{
    TRAILER_ATTEMPTS, TRAILER_COST, TRAILER_DRAFTER, TRAILER_IMPLEMENTER, TRAILER_PR,
    TRAILER_REVIEWER, TRAILER_ROUNDS, TRAILER_TOKENS, TRAILER_VERDICT,
};
use crate::pipeline::branch::{IssueState, Message, StageState, Verdict};
use crate::pipeline::context::StageContext;
use crate::pipeline::events::Event;
use crate::stage::Stage;

/// The most of the brief a pull request's body quotes as its summary, in bytes.
const SUMMARY_LIMIT: usize = 2000;

pub async fn run(cx: &mut StageContext<'_>) -> Result<StageOutcome, PipelineError> {
    cx.connect_github().await?;
    let issue = cx.issue().clone();
    let branch = cx.branch_name().to_string();
    let settings = cx.github_settings();
    let base = cx.pr_base().ok_or(PipelineError::NoPullRequestBase {
        branch: branch.clone(),
    })?;
    let push_remote = settings
        .push_remote
        .clone()
        .unwrap_or_else(|| settings.remote.clone());
    // Whose repository the branch is pushed to: the pull request's head is `owner:branch`.
    let head_repo = match &settings.push_remote {
        Some(fork) => cx.remote_repo(fork)?,
        None => cx.github()?.forge().repo().clone(),
    };
    let tip = cx.head();
    cx.push(&push_remote, tip).await?;

    let brief_path = cx.artifact(Stage::Triage);
    let brief = cx.read_artifact(&brief_path)?.unwrap_or_default();
    let verification = cx
        .read_artifact(&cx.artifact(Stage::Impl))?
        .and_then(|report| verification_section(&report));
    let state = cx.current_state()?;
    let github = cx.github()?;
    let repo = github.forge().repo().clone();
    let web = github.forge().host().web.clone();
    let title = cx.redact(&format!("{} (#{})", issue.title, issue.number));
    let body = cx.redact(&body(BodyParts {
        brief: &brief,
        closes: closes(&brief, &repo.to_string(), issue.number),
        links: &links(cx, &web, &head_repo.to_string(), tip),
        verification: verification.as_deref(),
        state: &state,
        branch: &branch,
    }));
    let head = Head {
        owner: head_repo.owner.clone(),
        branch: branch.clone(),
    };
    let existing = github.call(github.forge().find_pull(&head)).await?;
    let (pull, created) = match existing {
        Some(open) => {
            let updated = github
                .call(github.forge().update_pull(open.number, &title, &body))
                .await?;
            (updated, false)
        }
        None => {
            let new = NewPull {
                title: title.clone(),
                head: head.clone(),
                base: base.clone(),
                body: body.clone(),
                draft: settings.draft,
            };
            match github.call(github.forge().create_pull(&new)).await? {
                Opened::Created(pull) => (pull, true),
                // Opened meanwhile (or by a request whose answer was lost): it gets this
                // run's title and body.
                Opened::Found(open) => {
                    let updated = github
                        .call(github.forge().update_pull(open.number, &title, &body))
                        .await?;
                    (updated, false)
                }
            }
        }
    };
    cx.emit(Event::PullRequest {
        url: pull.html_url.clone(),
        number: pull.number,
        created,
        draft: pull.draft,
        base: base.clone(),
    });

    let commit = record(cx, &pull, &base, created)?;
    match cx.push(&push_remote, commit).await {
        Ok(()) => {}
        Err(PipelineError::Git(source)) => {
            return Err(PipelineError::RecordNotPushed {
                url: pull.html_url,
                remote: push_remote,
                branch,
                source: Box::new(source),
            });
        }
        Err(other) => return Err(other),
    }
    cx.remove_worktree()?;
    Ok(StageOutcome::Passed {
        commit,
        verdict: Verdict::Passed,
        rounds: 0,
    })
}

/// The empty commit that records the pull request on the branch.
fn record(
    cx: &mut StageContext<'_>,
    pull: &PullRequest,
    base: &str,
    created: bool,
) -> Result<ObjectId, PipelineError> {
    let issue = cx.issue().clone();
    let mut message = Message::stage(Stage::Pr, issue.number, &issue.title, Verdict::Passed);
    let draft = if pull.draft { "draft " } else { "" };
    let verb = if created { "Opened" } else { "Updated" };
    message
        .paragraph(format!(
            "{verb} {draft}pull request #{} into {base}: {}",
            pull.number, pull.html_url
        ))
        .trailer(TRAILER_PR, pull.html_url.clone());
    let commit = cx.commit(&[], &message)?;
    cx.emit(Event::Committed {
        stage: Stage::Pr,
        commit: commit.short(),
        verdict: Verdict::Passed,
        paths: Vec::new(),
    });
    Ok(commit)
}

/// How the pull request closes the issue: `#N` in its own repository, `owner/name#N` in
/// another; nothing when the brief records no GitHub issue.
fn closes(brief: &str, repo: &str, number: u64) -> Option<String> {
    match issue_repo(brief)? {
        same if same == repo => Some(format!("#{number}")),
        other => Some(format!("{other}#{number}")),
    }
}

/// `owner/name` of the issue's own repository, from the address the brief records.
fn issue_repo(brief: &str) -> Option<String> {
    let url = source_url(brief)?;
    let parts: Vec<&str> = url.trim_end_matches('/').rsplitn(4, '/').collect();
    match parts.as_slice() {
        [_number, "issues", name, rest] => {
            let owner = rest.rsplit('/').next()?;
            Some(format!("{owner}/{name}"))
        }
        _ => None,
    }
}

/// A document of the issue on the branch, linked at the pushed commit.
struct Link {
    label: &'static str,
    path: String,
    url: String,
}

fn links(cx: &StageContext<'_>, web: &str, repo: &str, commit: ObjectId) -> Vec<Link> {
    let mut links = Vec::new();
    let mut push = |label: &'static str, path: String| {
        if !path.is_empty() && cx.read_at(commit, &path).ok().flatten().is_some() {
            let url = format!("{web}/{repo}/blob/{}/{path}", commit);
            links.push(Link { label, path, url });
        }
    };
    push("Brief", cx.artifact(Stage::Triage));
    push("Design", cx.artifact(Stage::Lld));
    push("Implementation spec", cx.artifact(Stage::Spec));
    push("Report", cx.artifact(Stage::Impl));
    links
}

struct BodyParts<'a> {
    brief: &'a str,
    /// The reference that closes the issue on merge (`#40`, `acme/other#40`); `None` when
    /// the issue did not come from GitHub (an issue file's number names no GitHub issue).
    closes: Option<String>,
    links: &'a [Link],
    /// The impl report's Verification section: what proves the change.
    verification: Option<&'a str>,
    state: &'a IssueState,
    branch: &'a str,
}

/// The pull request's body: a summary from the brief, links to the documents, what was
/// verified (from the impl report), a stage table and `Closes #N`.
fn body(parts: BodyParts<'_>) -> String {
    let mut out = String::new();
    let summary = summary(parts.brief);
    if !summary.is_empty() {
        out.push_str(&summary);
        out.push_str("\n\n");
    }
    if !parts.links.is_empty() {
        out.push_str("| Document | On the branch |\n|---|---|\n");
        for link in parts.links {
            out.push_str(&format!(
                "| {} | [`{}`]({}) |\n",
                link.label, link.path, link.url
            ));
        }
        out.push('\n');
    }
    match parts.verification {
        Some(section) => {
            out.push_str(section);
            out.push_str("\n\n");
        }
        None => out.push_str(
            "## Verification\n\n> **Not verified.** The implementation report on the branch has no Verification section (the code was not made by this version's impl stage): read the change as unproven.\n\n",
        ),
    }
    out.push_str(&stage_table(parts.state));
    out.push('\n');
    match parts.closes {
        Some(reference) => out.push_str(&format!("Closes {reference}\n")),
        None => out.push_str("The issue was read from a file, not from GitHub.\n"),
    }
    out.push_str(&format!(
        "\n<sub>Opened by git-orchestrate from `{}`; `git log` on the branch is the full record.</sub>\n",
        parts.branch
    ));
    out
}

/// What the issue is about, in the brief's words: the text after its title, up to its
/// comments, its source section or the issue a triage model's brief keeps, cut at a paragraph. References and mentions are set as code,
/// so the issue's own text can neither close other issues nor notify people.
fn summary(brief: &str) -> String {
    let mut lines = brief.lines().skip_while(|l| !l.starts_with("# "));
    lines.next();
    let mut text = String::new();
    for line in lines {
        if line.starts_with("## Comments")
            || line.starts_with(SOURCE_HEADING)
            || line.trim_end() == filed::HEADING
        {
            break;
        }
        if text.len() + line.len() > SUMMARY_LIMIT {
            text.push_str("\n…");
            break;
        }
        text.push_str(line);
        text.push('\n');
    }
    defuse(text.trim())
}

/// `#12`, `owner/repo#12` and `@someone` set in code spans, where GitHub links nothing.
fn defuse(text: &str) -> String {
    static REFERENCE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"(?:\b[\w.-]+/[\w.-]+)?#\d+\b|\B@[A-Za-z0-9][A-Za-z0-9-]*|\bGH-\d+\b").ok()
    });
    match REFERENCE.as_ref() {
        Some(re) => re.replace_all(text, "`$0`").into_owned(),
        None => text.replace('#', "＃").replace('@', "＠"),
    }
}

/// One row per stage: verdict, models, rounds, attempts, tokens and cost, from each stage's
/// last commit on the branch.
fn stage_table(state: &IssueState) -> String {
    let mut out = String::from(
        "| Stage | Verdict | Models | Rounds | Attempts | Tokens | Cost |\n|---|---|---|---|---|---|---|\n",
    );
    for stage in Stage::ALL.into_iter().filter(|s| *s != Stage::Pr) {
        let record = state.stage(stage);
        let trailer = |name: &str| {
            record
                .last_change
                .as_ref()
                .and_then(|c| c.trailer(name))
                .map(str::to_string)
        };
        let verdict = match &record.state {
            StageState::Done { by_person: true } => "by hand".to_string(),
            StageState::Missing => "not run".to_string(),
            _ => trailer(TRAILER_VERDICT).unwrap_or_else(|| "-".into()),
        };
        let models: Vec<String> = [TRAILER_DRAFTER, TRAILER_REVIEWER, TRAILER_IMPLEMENTER]
            .into_iter()
            .filter_map(&trailer)
            .map(|m| format!("`{m}`"))
            .collect();
        let cell = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        out.push_str(&format!(
            "| {stage} | {verdict} | {} | {} | {} | {} | {} |\n",
            if models.is_empty() {
                "-".to_string()
            } else {
                models.join(", ")
            },
            cell(trailer(TRAILER_ROUNDS)),
            cell(trailer(TRAILER_ATTEMPTS)),
            cell(trailer(TRAILER_TOKENS)),
            cell(trailer(TRAILER_COST)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_mentions_in_the_summary_link_nothing() {
        let brief = "# Fix it\n\nFixes #12 and closes acme/other#3; thanks @alice, mail a@b.c.\n\n## Source\n\n- Issue: https://github.com/acme/widgets/issues/40\n";
        assert_eq!(
            summary(brief),
            "Fixes `#12` and closes `acme/other#3`; thanks `@alice`, mail a@b.c."
        );
    }

    #[test]
    fn the_summary_stops_at_comments_and_is_bounded() {
        let brief = "# T\n\nBody.\n\n## Comments\n\n### @x\n\nsecret\n";
        assert_eq!(summary(brief), "Body.");
        let long = format!("# T\n\n{}\n", "word ".repeat(1000));
        assert!(summary(&long).len() < SUMMARY_LIMIT + 10);
    }

    #[test]
    fn the_issue_repository_comes_from_the_source_section() {
        let brief = "# T\n\n- Issue: https://evil.example/x/y/issues/1\n\n## Source\n\n- Issue: https://github.com/acme/other/issues/40\n";
        assert_eq!(issue_repo(brief).as_deref(), Some("acme/other"));
        assert_eq!(issue_repo("# T\n\nno source\n"), None);
        assert_eq!(closes(brief, "acme/other", 40).as_deref(), Some("#40"));
        assert_eq!(
            closes(brief, "acme/widgets", 40).as_deref(),
            Some("acme/other#40")
        );
        assert_eq!(closes("# T\n\nfrom a file\n", "acme/widgets", 7), None);
    }

    #[test]
    fn a_model_brief_is_summed_up_by_its_own_words_and_closes_the_issue_it_keeps() {
        let issue = "# T\n\nThe issue's body.\n\n## Source\n\n- Issue: https://github.com/acme/widgets/issues/40\n";
        let brief = filed::append("# T\n\n## Problem\nThe model's words.\n", issue);
        assert_eq!(summary(&brief), "## Problem\nThe model's words.");
        assert_eq!(closes(&brief, "acme/widgets", 40).as_deref(), Some("#40"));
    }
}
