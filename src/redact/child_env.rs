//! What the programs this tool starts may see of the user's environment, in one place.
//!
//! Each program gets the user's environment (so `PATH`, toolchains, proxies and caches work as
//! in their shell) with less of it the less it is trusted:
//!
//! - **The test command** ([`test_environment`]) runs code a model just wrote: every variable
//!   that may hold a credential goes, and this tool's own `GIT_ORCHESTRATE_*` and
//!   `ORCHESTRATE_*` settings, so model-written code cannot read a key and print it or send it
//!   away.
//! - **`agent:` and `cmd:` programs** ([`program_environment`]) talk to a model vendor, so they
//!   keep the model key they need and nothing else that looks like a credential: no GitHub
//!   token (it could push to the user's repositories), no cloud or database secret, no other
//!   vendor's key. A program we know (the first word of its command, by file name) gets only
//!   its own vendor's keys: `claude` Anthropic's, `codex` OpenAI's, `gemini` Google's (see
//!   [`VENDORS`]). Any other program (`aider`, `llm`, a script) may call any vendor, so it
//!   gets every model key: each configured provider's `api_key_env` and every variable in
//!   [`VENDORS`].
//! - **`git push`** ([`model_keys`]) needs the user's git credentials (a GitHub token a
//!   credential helper reads, the ssh agent) and nothing of the models: the model keys go,
//!   the rest stays.
//!
//! Names the user lists (`stages.impl.test_env` for the tests, `sandbox.agent_env` for
//! programs) pass whatever they look like. Names and values that are not UTF-8 pass as they
//! are unless the name (read leniently) is removed.

use std::ffi::OsString;

use super::is_credential_name;
use crate::env::{Env, GIT_REPOSITORY_VARS};

/// A model vendor: the programs that are its own command-line clients, and the variables
/// that hold its keys (upper case).
pub struct Vendor {
    pub name: &'static str,
    pub programs: &'static [&'static str],
    pub keys: &'static [&'static str],
}

/// The model keys we know by name, by vendor. A program named here sees its vendor's keys
/// and no other vendor's.
pub const VENDORS: &[Vendor] = &[
    Vendor {
        name: "Anthropic",
        programs: &["claude"],
        keys: &[
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_AUTH_TOKEN",
            "CLAUDE_CODE_OAUTH_TOKEN",
        ],
    },
    Vendor {
        name: "OpenAI",
        programs: &["codex"],
        keys: &["OPENAI_API_KEY", "CODEX_API_KEY"],
    },
    Vendor {
        name: "Google",
        programs: &["gemini"],
        keys: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    },
    Vendor {
        name: "Azure OpenAI",
        programs: &[],
        keys: &["AZURE_OPENAI_API_KEY"],
    },
    Vendor {
        name: "OpenRouter",
        programs: &[],
        keys: &["OPENROUTER_API_KEY"],
    },
    Vendor {
        name: "Mistral",
        programs: &[],
        keys: &["MISTRAL_API_KEY"],
    },
    Vendor {
        name: "Groq",
        programs: &[],
        keys: &["GROQ_API_KEY"],
    },
    Vendor {
        name: "DeepSeek",
        programs: &[],
        keys: &["DEEPSEEK_API_KEY"],
    },
    Vendor {
        name: "xAI",
        programs: &[],
        keys: &["XAI_API_KEY"],
    },
    Vendor {
        name: "Together",
        programs: &[],
        keys: &["TOGETHER_API_KEY"],
    },
    Vendor {
        name: "Fireworks",
        programs: &[],
        keys: &["FIREWORKS_API_KEY"],
    },
    Vendor {
        name: "Cohere",
        programs: &[],
        keys: &["COHERE_API_KEY", "CO_API_KEY"],
    },
];

/// GitHub's token variables (`gh`, Actions, GitHub Enterprise Server).
const GITHUB_TOKENS: [&str; 4] = [
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "GH_ENTERPRISE_TOKEN",
];

/// Words that make a `GITHUB_*` or `GH_*` name a credential (`GITHUB_PAT`, `GH_APP_KEY`);
/// `GITHUB_REPOSITORY` or `GH_HOST` are not.
const GITHUB_CREDENTIAL_WORDS: [&str; 9] = [
    "TOKEN",
    "PAT",
    "KEY",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "AUTH",
    "CREDENTIAL",
    "CREDENTIALS",
];

/// Credentials whose names do not end like one.
const OTHER_CREDENTIALS: [&str; 2] = ["PGPASSWORD", "MYSQL_PWD"];

/// This tool's own variables: its settings are not the tests' business.
const OWN_PREFIXES: [&str; 2] = ["GIT_ORCHESTRATE_", "ORCHESTRATE_"];

/// An environment for a child, and the names of the variables left out of it.
pub type Filtered = (Vec<(OsString, OsString)>, Vec<String>);

/// The environment for the test command, and the names of the variables removed from it.
///
/// Removed: the variables named in `provider_key_vars` (each configured provider's
/// `api_key_env`), every model key in [`VENDORS`], GitHub's tokens (`GITHUB_TOKEN`,
/// `GH_TOKEN`, their Enterprise forms, any `GITHUB_*`/`GH_*` credential), `PGPASSWORD`,
/// `MYSQL_PWD`, every variable whose name ends in `_KEY`, `_TOKEN`, `_SECRET`, `_PASSWORD`,
/// `_PASSWD` or `_CREDENTIALS` in any case, this tool's own `GIT_ORCHESTRATE_*` and
/// `ORCHESTRATE_*`, and git's repository variables (`GIT_DIR`, `GIT_INDEX_FILE`, ...: the
/// tests run in the worktree, which git must find from the directory); except the
/// names in `allowed`, which pass as they are.
pub fn test_environment(env: &Env, provider_key_vars: &[String], allowed: &[String]) -> Filtered {
    filter(env, allowed, |name, upper| {
        GIT_REPOSITORY_VARS.contains(&name)
            || provider_key_vars.iter().any(|v| v == name)
            || is_vendor_key(upper)
            || is_github_credential(upper)
            || is_other_credential(name, upper)
            || OWN_PREFIXES.iter().any(|p| upper.starts_with(p))
    })
}

/// The environment for an `agent:` or `cmd:` program running `command`, and the names of the
/// variables removed from it.
///
/// Removed: GitHub's tokens and every other credential-looking variable (as for the tests),
/// except model keys: when the program is one we know (the first word of `command`, after
/// any `NAME=value` assignments, by file name; see [`VENDORS`]) its own vendor's keys pass
/// and every other model key goes, the configured providers' `api_key_env` included; any
/// other program keeps every model key. The names in `allowed` (`sandbox.agent_env`) pass
/// as they are.
pub fn program_environment(
    env: &Env,
    command: &str,
    provider_key_vars: &[String],
    allowed: &[String],
) -> Filtered {
    let vendor = vendor_of(command);
    filter(env, allowed, |name, upper| {
        if is_github_credential(upper) {
            return true;
        }
        if provider_key_vars.iter().any(|v| v == name) || is_vendor_key(upper) {
            return vendor.is_some_and(|v| !v.keys.contains(&upper));
        }
        is_other_credential(name, upper)
    })
}

/// The model keys set in `env`, by name: the configured providers' `api_key_env` and every
/// variable in [`VENDORS`]; never a GitHub token, which a push may need. What `git push`
/// runs without.
pub fn model_keys(env: &Env, provider_key_vars: &[String]) -> Vec<String> {
    env.names()
        .filter(|name| {
            let upper = name.to_ascii_uppercase();
            !is_github_credential(&upper)
                && (provider_key_vars.contains(name) || is_vendor_key(&upper))
        })
        .collect()
}

/// Every variable of `env` but those `removes(name, upper-case name)` is true for, unless
/// `allowed` names them.
fn filter(env: &Env, allowed: &[String], removes: impl Fn(&str, &str) -> bool) -> Filtered {
    let mut kept = Vec::new();
    let mut removed = Vec::new();
    for (name, value) in env.vars_os() {
        let text = name.to_string_lossy();
        let upper = text.to_ascii_uppercase();
        if allowed.iter().any(|a| a.as_str() == text) || !removes(&text, &upper) {
            kept.push((name.to_os_string(), value.to_os_string()));
        } else {
            removed.push(text.into_owned());
        }
    }
    (kept, removed)
}

/// The vendor whose client `command` runs, if it is one we know.
fn vendor_of(command: &str) -> Option<&'static Vendor> {
    let word = command
        .split_whitespace()
        .find(|word| !is_assignment(word))?
        .trim_matches(|c| c == '\'' || c == '"');
    let program = word.rsplit('/').next()?;
    VENDORS.iter().find(|v| v.programs.contains(&program))
}

/// `NAME=value`, as a shell reads it before a command.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        name.chars().next().is_some_and(|c| !c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn is_vendor_key(upper: &str) -> bool {
    VENDORS.iter().any(|v| v.keys.contains(&upper))
}

fn is_github_credential(upper: &str) -> bool {
    GITHUB_TOKENS.contains(&upper)
        || ["GITHUB_", "GH_"].iter().any(|prefix| {
            upper.strip_prefix(prefix).is_some_and(|rest| {
                rest.split('_')
                    .any(|word| GITHUB_CREDENTIAL_WORDS.contains(&word))
            })
        })
}

fn is_other_credential(name: &str, upper: &str) -> bool {
    is_credential_name(name) || OTHER_CREDENTIALS.contains(&upper)
}
#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    fn names(vars: &[(OsString, OsString)]) -> Vec<String> {
        vars.iter()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect()
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn user_env() -> Env {
        Env::from_pairs([
            ("PATH", "/usr/bin:/bin"),
            ("HOME", "/home/u"),
            ("LANG", "C.UTF-8"),
            ("ANTHROPIC_API_KEY", "sk-ant-xxxxxxxxxxxx"),
            ("OPENAI_API_KEY", "sk-xxxxxxxxxxxx"),
            ("GH_TOKEN", "gho_xxxxxxxxxxxx"),
            ("MY_SERVICE_TOKEN", "t0ken"),
            ("DB_PASSWORD", "hunter2"),
            ("aws_secret", "lower case too"),
            ("PGPASSWORD", "pg"),
            ("LOCAL_LLM_AUTH", "custom provider credential"),
            ("NPM_TOKEN", "needed by the tests"),
            ("GIT_ORCHESTRATE_LOG", "debug"),
            ("ORCHESTRATE_MODEL", "x"),
            ("TOKENIZER_PATH", "/opt/tok"),
            ("KEYBOARD", "us"),
        ])
    }

    #[test]
    fn credentials_and_own_variables_are_removed_the_rest_kept() {
        let (kept, removed) = test_environment(
            &user_env(),
            &strings(&["LOCAL_LLM_AUTH"]),
            &strings(&["NPM_TOKEN"]),
        );
        assert_eq!(
            names(&kept),
            [
                "HOME",
                "KEYBOARD",
                "LANG",
                "NPM_TOKEN",
                "PATH",
                "TOKENIZER_PATH"
            ]
        );
        assert_eq!(
            removed,
            [
                "ANTHROPIC_API_KEY",
                "DB_PASSWORD",
                "GH_TOKEN",
                "GIT_ORCHESTRATE_LOG",
                "LOCAL_LLM_AUTH",
                "MY_SERVICE_TOKEN",
                "OPENAI_API_KEY",
                "ORCHESTRATE_MODEL",
                "PGPASSWORD",
                "aws_secret",
            ]
        );
        let path = kept.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v);
        assert_eq!(
            path.map(OsString::as_os_str),
            Some(OsStr::new("/usr/bin:/bin"))
        );
    }

    #[test]
    fn without_an_allow_list_every_credential_goes() {
        let (kept, removed) = test_environment(&user_env(), &[], &[]);
        assert!(removed.contains(&"NPM_TOKEN".to_string()));
        // A provider's variable with an ordinary-looking name goes only when it is named.
        assert!(names(&kept).contains(&"LOCAL_LLM_AUTH".to_string()));
    }

    /// What a user running an agent may have set.
    fn agent_user_env() -> Env {
        Env::from_pairs([
            ("PATH", "/usr/bin:/bin"),
            ("HOME", "/home/u"),
            ("ANTHROPIC_API_KEY", "sk-ant-xxxxxxxxxxxx"),
            ("CLAUDE_CODE_OAUTH_TOKEN", "oauth"),
            ("OPENAI_API_KEY", "sk-xxxxxxxxxxxx"),
            ("GEMINI_API_KEY", "AIzaxxxxxxxx"),
            ("OPENROUTER_API_KEY", "sk-or-xxxxxxxx"),
            ("GATEWAY_KEY", "configured provider"),
            ("LOCAL_LLM_AUTH", "configured, ordinary name"),
            ("GITHUB_TOKEN", "ghp_xxxxxxxxxxxx"),
            ("GH_TOKEN", "gho_xxxxxxxxxxxx"),
            ("GH_ENTERPRISE_TOKEN", "ghe"),
            ("GITHUB_PAT", "github_pat_xxxx"),
            ("GITHUB_REPOSITORY", "acme/widgets"),
            ("GH_HOST", "github.com"),
            ("AWS_SECRET_ACCESS_KEY", "aws"),
            ("DEPLOY_SECRET", "s"),
            ("DB_PASSWORD", "hunter2"),
            ("PGPASSWORD", "pg"),
            ("NPM_TOKEN", "npm"),
            ("GIT_ORCHESTRATE_LOG", "debug"),
        ])
    }

    fn program(command: &str, allowed: &[&str]) -> (Vec<String>, Vec<String>) {
        let (kept, removed) = program_environment(
            &agent_user_env(),
            command,
            &strings(&["GATEWAY_KEY", "LOCAL_LLM_AUTH"]),
            &strings(allowed),
        );
        (names(&kept), removed)
    }

    const NEVER: [&str; 9] = [
        "AWS_SECRET_ACCESS_KEY",
        "DB_PASSWORD",
        "DEPLOY_SECRET",
        "GH_ENTERPRISE_TOKEN",
        "GH_TOKEN",
        "GITHUB_PAT",
        "GITHUB_TOKEN",
        "NPM_TOKEN",
        "PGPASSWORD",
    ];

    #[test]
    fn a_program_we_do_not_know_keeps_every_model_key_and_no_other_credential() {
        for command in [
            "aider --yes-always",
            "llm -m gpt-5",
            "/home/u/bin/my-agent.sh",
        ] {
            let (kept, removed) = program(command, &[]);
            assert_eq!(removed, NEVER, "{command}");
            for name in [
                "ANTHROPIC_API_KEY",
                "CLAUDE_CODE_OAUTH_TOKEN",
                "GATEWAY_KEY",
                "GEMINI_API_KEY",
                "GH_HOST",
                "GITHUB_REPOSITORY",
                "GIT_ORCHESTRATE_LOG",
                "HOME",
                "LOCAL_LLM_AUTH",
                "OPENAI_API_KEY",
                "OPENROUTER_API_KEY",
                "PATH",
            ] {
                assert!(kept.contains(&name.to_string()), "{command}: {name}");
            }
        }
    }

    #[test]
    fn a_vendors_own_program_keeps_only_that_vendors_keys() {
        let others = |keep: &[&str]| -> Vec<String> {
            let models = [
                "ANTHROPIC_API_KEY",
                "CLAUDE_CODE_OAUTH_TOKEN",
                "GATEWAY_KEY",
                "GEMINI_API_KEY",
                "LOCAL_LLM_AUTH",
                "OPENAI_API_KEY",
                "OPENROUTER_API_KEY",
            ];
            let mut gone: Vec<String> = NEVER
                .iter()
                .chain(models.iter().filter(|m| !keep.contains(m)))
                .map(|s| s.to_string())
                .collect();
            gone.sort();
            gone
        };
        for (command, own) in [
            (
                "claude -p --permission-mode acceptEdits",
                &["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"][..],
            ),
            (
                "/usr/local/bin/claude -p",
                &["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"][..],
            ),
            (
                "codex exec --sandbox workspace-write -",
                &["OPENAI_API_KEY"][..],
            ),
            ("RUST_LOG=debug 'codex' exec -", &["OPENAI_API_KEY"][..]),
            ("gemini -p", &["GEMINI_API_KEY"][..]),
        ] {
            let (kept, removed) = program(command, &[]);
            assert_eq!(removed, others(own), "{command}");
            for name in own.iter().chain(&["PATH", "GITHUB_REPOSITORY"]) {
                assert!(kept.contains(&name.to_string()), "{command}: {name}");
            }
        }
        // A word that only contains a vendor's program name is not that program.
        let (_, removed) = program("claudette -p", &[]);
        assert_eq!(removed, NEVER);
    }

    #[test]
    fn names_the_user_lists_pass_whatever_they_look_like() {
        let (kept, removed) = program(
            "claude -p",
            &["NPM_TOKEN", "GITHUB_TOKEN", "OPENAI_API_KEY"],
        );
        for name in ["NPM_TOKEN", "GITHUB_TOKEN", "OPENAI_API_KEY"] {
            assert!(kept.contains(&name.to_string()), "{name}");
            assert!(!removed.contains(&name.to_string()), "{name}");
        }
        assert!(removed.contains(&"GH_TOKEN".to_string()));
    }

    #[test]
    fn a_push_loses_the_model_keys_and_keeps_github_and_everything_else() {
        let mut keys = model_keys(
            &agent_user_env(),
            &strings(&["GATEWAY_KEY", "LOCAL_LLM_AUTH", "GITHUB_TOKEN"]),
        );
        keys.sort();
        assert_eq!(
            keys,
            [
                "ANTHROPIC_API_KEY",
                "CLAUDE_CODE_OAUTH_TOKEN",
                "GATEWAY_KEY",
                "GEMINI_API_KEY",
                "LOCAL_LLM_AUTH",
                "OPENAI_API_KEY",
                "OPENROUTER_API_KEY",
            ]
        );
    }

    #[test]
    fn the_tests_lose_github_credentials_of_every_shape() {
        let (_, removed) = test_environment(&agent_user_env(), &[], &[]);
        for name in NEVER
            .iter()
            .chain(&["GEMINI_API_KEY", "GIT_ORCHESTRATE_LOG"])
        {
            assert!(removed.contains(&name.to_string()), "{name}");
        }
        assert!(!removed.contains(&"GITHUB_REPOSITORY".to_string()));
        assert!(!removed.contains(&"GH_HOST".to_string()));
    }

    #[test]
    fn variables_that_are_not_utf8_pass_unless_their_name_is_a_credential() {
        let odd_value = OsStr::from_bytes(b"caf\xe9").to_os_string();
        let odd_name = OsStr::from_bytes(b"X\xff").to_os_string();
        let secret_name = OsStr::from_bytes(b"\xffAPI_KEY").to_os_string();
        let env = Env::from_pairs([
            (OsString::from("LC_NAME"), odd_value.clone()),
            (odd_name.clone(), OsString::from("v")),
            (secret_name, OsString::from("sk")),
        ]);
        let (kept, removed) = test_environment(&env, &[], &[]);
        assert_eq!(
            kept,
            [
                (OsString::from("LC_NAME"), odd_value),
                (odd_name, OsString::from("v")),
            ]
        );
        assert_eq!(removed, ["\u{fffd}API_KEY"]);
    }
}
