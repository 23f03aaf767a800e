//! Who commits: resolved by `git var`, so `user.name`, `user.email`, `GIT_AUTHOR_*`,
//! `GIT_COMMITTER_*` and their date formats mean exactly what they mean to git.

use std::time::{SystemTime, UNIX_EPOCH};

use git2::{Signature, Time};

use super::{GitError, Repo, Result};

/// A resolved author and committer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    author: Person,
    committer: Person,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Person {
    name: String,
    email: String,
    /// Seconds and offset (minutes) from `git var`; used only when the date was fixed
    /// through the environment, otherwise each commit takes the time it is made.
    when: (i64, i32),
}

impl Repo {
    pub(super) fn identity(&self) -> Result<&Identity> {
        if let Some(identity) = self.identity.get() {
            return Ok(identity);
        }
        let author = self.person("GIT_AUTHOR_IDENT")?;
        let committer = self.person("GIT_COMMITTER_IDENT")?;
        Ok(self.identity.get_or_init(|| Identity { author, committer }))
    }

    fn person(&self, var: &str) -> Result<Person> {
        let ident = self.git(&["var", var]).map_err(|e| match e {
            GitError::Command { detail, .. } => GitError::Identity { detail },
            other => other,
        })?;
        parse_ident(&ident).ok_or_else(|| GitError::Identity {
            detail: format!(
                "`git var {var}` printed {ident:?}, which is not `Name <email> time zone`"
            ),
        })
    }

    /// Who commits, as `Name <email>` (the committer), resolved once per repository handle;
    /// an error when git has no identity to commit with. A run asks before it calls any
    /// model, so work that is paid for is never refused a commit for want of a name.
    pub fn committer(&self) -> Result<String> {
        let identity = self.identity()?;
        Ok(format!(
            "{} <{}>",
            identity.committer.name, identity.committer.email
        ))
    }

    /// Author and committer signatures for a commit made now.
    pub(super) fn signatures(&self) -> Result<(Signature<'static>, Signature<'static>)> {
        let identity = self.identity()?;
        let now = now_with_offset();
        let author_time = if self.fixed_author_date {
            identity.author.when
        } else {
            now
        };
        let committer_time = if self.fixed_committer_date {
            identity.committer.when
        } else {
            now
        };
        let sig = |p: &Person, (secs, offset): (i64, i32)| {
            Signature::new(&p.name, &p.email, &Time::new(secs, offset)).map_err(|source| {
                GitError::Identity {
                    detail: format!("{} <{}> is not a valid identity: {source}", p.name, p.email),
                }
            })
        };
        Ok((
            sig(&identity.author, author_time)?,
            sig(&identity.committer, committer_time)?,
        ))
    }
}

/// The current time in UTC. Commit dates keep git's "seconds plus offset" form; using UTC
/// avoids reading the local time zone database, and git shows either correctly.
fn now_with_offset() -> (i64, i32) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    (secs, 0)
}

/// Parse `Name <email> 1700000000 +0100`.
fn parse_ident(ident: &str) -> Option<Person> {
    let (rest, zone) = ident.trim().rsplit_once(' ')?;
    let (rest, secs) = rest.rsplit_once(' ')?;
    let secs: i64 = secs.parse().ok()?;
    let offset = parse_zone(zone)?;
    let open = rest.rfind('<')?;
    let close = rest.rfind('>')?;
    if close < open {
        return None;
    }
    let name = rest[..open].trim().to_string();
    let email = rest[open + 1..close].to_string();
    Some(Person {
        name,
        email,
        when: (secs, offset),
    })
}

fn parse_zone(zone: &str) -> Option<i32> {
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    Some(sign * (hours * 60 + minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_var_output() {
        let p = parse_ident("A U Thor <author@example.com> 1112911993 -0700").unwrap();
        assert_eq!(p.name, "A U Thor");
        assert_eq!(p.email, "author@example.com");
        assert_eq!(p.when, (1112911993, -420));
    }

    #[test]
    fn rejects_malformed_idents() {
        assert!(parse_ident("nobody").is_none());
        assert!(parse_ident("A <a@b> x +0000").is_none());
        assert!(parse_ident("A <a@b> 1 0000").is_none());
    }
}
