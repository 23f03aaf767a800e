//! `doctor` output: one line per check — `✓`, `!` (a warning) or `✗` — with its advice
//! under it, then whether a run could start; or, with `--json`, one [`DoctorDocument`].

use serde::Serialize;

use super::{BAD, GOOD, NOTE, WARN};
use crate::ops::doctor::Level;

/// What `doctor --json` prints.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct DoctorDocument {
    pub checks: Vec<DoctorCheck>,
    /// No check is an error: a run could start.
    pub ready: bool,
}

/// One check as shown.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct DoctorCheck {
    /// What was checked: `git`, `repository`, `HEAD`, `config`, `model PROVIDER:MODEL`,
    /// `github`, `github token`, `github access`, `test command`, `lock #N`, `worktree #N`,
    /// `local state`.
    pub name: String,
    /// The level is not `error`.
    pub ok: bool,
    pub level: Level,
    /// What was found, or what is wrong.
    pub detail: String,
    /// What to do about it, one suggestion per line.
    pub hint: Option<String>,
}

/// The report for people: a line per check, advice indented under it, and the verdict.
pub fn render_doctor(document: &DoctorDocument) -> String {
    let mut out = String::new();
    for check in &document.checks {
        let mark = match check.level {
            Level::Ok => format!("{GOOD}✓{GOOD:#}"),
            Level::Warning => format!("{WARN}!{WARN:#}"),
            Level::Error => format!("{BAD}✗{BAD:#}"),
        };
        out.push_str(&format!("{mark} {}: {}\n", check.name, check.detail));
        if let Some(hint) = &check.hint {
            for (i, line) in hint.lines().enumerate() {
                if i == 0 {
                    out.push_str(&format!("  {NOTE}hint:{NOTE:#} {line}\n"));
                } else {
                    out.push_str(&format!("        {line}\n"));
                }
            }
        }
    }
    if document.ready {
        out.push_str("ready: a run can start here\n");
    } else {
        out.push_str("not ready: fix the ✗ lines above\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_per_check_with_its_advice_under_it() {
        let document = DoctorDocument {
            checks: vec![
                DoctorCheck {
                    name: "git".into(),
                    ok: true,
                    level: Level::Ok,
                    detail: "git 2.43.0".into(),
                    hint: None,
                },
                DoctorCheck {
                    name: "HEAD".into(),
                    ok: true,
                    level: Level::Warning,
                    detail: "detached".into(),
                    hint: Some("pass --base BRANCH\nor switch to a branch".into()),
                },
                DoctorCheck {
                    name: "config".into(),
                    ok: false,
                    level: Level::Error,
                    detail: "bad".into(),
                    hint: None,
                },
            ],
            ready: false,
        };
        let plain = anstream::adapter::strip_str(&render_doctor(&document)).to_string();
        assert_eq!(
            plain,
            "✓ git: git 2.43.0\n! HEAD: detached\n  hint: pass --base BRANCH\n        or switch to a branch\n✗ config: bad\nnot ready: fix the ✗ lines above\n"
        );
    }
}
