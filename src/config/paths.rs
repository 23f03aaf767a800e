//! Artifact path templates (`[paths]`), checked when the configuration is loaded, before any
//! model is called: each on its own (relative, out of `.git` at any depth, only known
//! `{placeholders}`), then all together as the run would render them (no two artifacts in one
//! file, no artifact where another needs a folder). A bad path found at commit time would
//! throw away what the models were paid for, or silently overwrite one artifact with another.

use super::layers::{Origin, Origins};
use super::{ConfigError, invalid};
use crate::stage::Stage;

/// The placeholders a path template may use: the issue number, and the stage whose file it
/// is (`triage`, `lld`, `spec`; for review logs, the reviewed stage).
const PLACEHOLDERS: [&str; 2] = ["issue", "stage"];

const EXAMPLE: &str = "use a path relative to the repository root, such as \"docs/lld/{issue}.md\"";

/// Check each template, then every pair of the files they name. `templates` is
/// `(key, template)` for `paths.brief`, `paths.lld`, `paths.spec`, `paths.report` and
/// `paths.reviews`.
pub(super) fn check(templates: &[(&str, &str)], origins: &Origins) -> Result<(), ConfigError> {
    for (key, template) in templates {
        check_one(key, template, origins)?;
    }
    let files = rendered(templates);
    for (i, a) in files.iter().enumerate() {
        for b in &files[i + 1..] {
            check_pair(a, b, origins)?;
        }
    }
    Ok(())
}

/// A template must be a relative path with `/` separators, with no empty, `.`, `..` or `.git`
/// part, and with no placeholder but the known ones.
fn check_one(key: &str, template: &str, origins: &Origins) -> Result<(), ConfigError> {
    let bad = |why: String, hint: &str| {
        Err(invalid(
            origins,
            key,
            format!("`{template}` {why}"),
            Some(hint),
        ))
    };
    if template.trim().is_empty() {
        return bad("is empty".into(), EXAMPLE);
    }
    if template.starts_with('/') || template.contains('\\') {
        return bad("must be a relative path with / separators".into(), EXAMPLE);
    }
    let parts: Vec<&str> = template.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return bad("must not contain empty, `.` or `..` parts".into(), EXAMPLE);
    }
    // At any depth and in any case: git refuses such a path in a tree, and on a
    // case-insensitive file system `.GIT` is the repository's own directory.
    if parts.iter().any(|p| p.eq_ignore_ascii_case(".git")) {
        return bad("must not have a `.git` part".into(), EXAMPLE);
    }
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        let after = &rest[open + 1..];
        let name = match (rest[open..].starts_with('{'), after.find(['{', '}'])) {
            (true, Some(close)) if after[close..].starts_with('}') => &after[..close],
            _ => {
                return bad(
                    "has a `{` or `}` that is not part of a placeholder".into(),
                    "placeholders are written {issue} and {stage}; braces cannot appear otherwise",
                );
            }
        };
        if !PLACEHOLDERS.contains(&name) {
            return bad(
                format!("uses `{{{name}}}`, which is not a placeholder"),
                "the placeholders are {issue} (the issue number) and {stage} (the stage name)",
            );
        }
        rest = &after[name.len() + 1..];
    }
    Ok(())
}

/// One file a run writes: the key whose template names it, for which stage, and the path
/// with `{stage}` filled in (`{issue}` stays, so the check holds for every issue).
struct Rendered<'a> {
    key: &'a str,
    stage: Stage,
    path: String,
}

/// The files of every stage that writes one: each stage's artifact, and the review log of
/// each reviewed stage.
fn rendered<'a>(templates: &[(&'a str, &'a str)]) -> Vec<Rendered<'a>> {
    let template = |key: &str| {
        templates
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| *t)
            .unwrap_or_default()
    };
    let mut files = Vec::new();
    for stage in Stage::ALL {
        let artifact = match stage {
            Stage::Triage => "paths.brief",
            Stage::Lld => "paths.lld",
            Stage::Spec => "paths.spec",
            Stage::Impl => "paths.report",
            Stage::Pr => continue,
        };
        files.push((artifact, stage));
    }
    for stage in Stage::ALL.into_iter().filter(|s| s.is_reviewed()) {
        files.push(("paths.reviews", stage));
    }
    files
        .into_iter()
        .map(|(key, stage)| Rendered {
            key,
            stage,
            path: template(key).replace("{stage}", stage.name()),
        })
        .collect()
}

/// Two files must differ, and neither may be a folder of the other.
fn check_pair(a: &Rendered<'_>, b: &Rendered<'_>, origins: &Origins) -> Result<(), ConfigError> {
    let folder_of = |x: &Rendered<'_>, y: &Rendered<'_>| {
        y.path
            .strip_prefix(x.path.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
    };
    if a.key == b.key && a.path == b.path {
        return Err(invalid(
            origins,
            a.key,
            format!(
                "`{}` names one file for the {} and the {} review logs, so one would overwrite the other",
                a.path,
                a.stage.name(),
                b.stage.name()
            ),
            Some("put {stage} in it, as in \"docs/reviews/{issue}-{stage}.md\""),
        ));
    }
    // Report at the key the user set (the other may be a default), naming the other too.
    let (this, other) = if origins.is_set(b.key) {
        (b, a)
    } else {
        (a, b)
    };
    let described = |x: &Rendered<'_>| {
        let what = if x.key == "paths.reviews" {
            format!("the {} review log", x.stage.name())
        } else {
            format!("the {}", x.stage.artifact_noun())
        };
        let origin = match origins.is_set(x.key) {
            true => origins.of(x.key),
            false => Origin::Defaults,
        };
        format!("`{}` ({what}, set in {origin})", x.key)
    };
    let message = if this.path == other.path {
        format!(
            "`{}` is also the file of {}: one artifact would overwrite the other",
            this.path,
            described(other)
        )
    } else if folder_of(this, other) {
        format!(
            "`{}` is a file, but {} needs it to be a folder (`{}`)",
            this.path,
            described(other),
            other.path
        )
    } else if folder_of(other, this) {
        format!(
            "`{}` needs `{}` to be a folder, but that is the file of {}",
            this.path,
            other.path,
            described(other)
        )
    } else {
        return Ok(());
    };
    Err(invalid(
        origins,
        this.key,
        message,
        Some(
            "give each artifact and review log its own file, as the defaults do: docs/issues/{issue}.md, docs/lld/{issue}.md, docs/specs/{issue}.md, docs/reports/{issue}.md, docs/reviews/{issue}-{stage}.md",
        ),
    ))
}
