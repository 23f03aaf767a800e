//! What the test command may see: the user's environment without credentials.
//!
//! The test command runs code a model just wrote. It gets the user's environment (so `PATH`,
//! toolchains, proxies and caches work as in the user's shell) minus every variable that may
//! hold a credential, so model-written code cannot read a key and print it or send it away.
//! Names the user lists in `stages.impl.test_env` pass even if they look like credentials.

use std::ffi::OsString;

use crate::env::Env;
use crate::redact::is_credential_name;

/// Variables that always hold credentials, whatever their suffix.
const KNOWN: [&str; 8] = [
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "PGPASSWORD",
    "MYSQL_PWD",
];

/// This tool's own variables: its settings are not the tests' business.
const OWN_PREFIXES: [&str; 2] = ["GIT_ORCHESTRATE_", "ORCHESTRATE_"];

/// The environment for the test command, and the names of the variables removed from it.
///
/// Removed: the variables named in `provider_key_vars` (each configured provider's
/// `api_key_env`), the well-known credential variables (`GITHUB_TOKEN`, `GH_TOKEN`,
/// `ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, `GOOGLE_API_KEY`, `GEMINI_API_KEY`, `PGPASSWORD`,
/// `MYSQL_PWD`), every variable whose name ends in `_KEY`, `_TOKEN`, `_SECRET`, `_PASSWORD`,
/// `_PASSWD` or `_CREDENTIALS` in any case, and this tool's own `GIT_ORCHESTRATE_*` and
/// `ORCHESTRATE_*`; except the names in `allowed`, which pass as they are. Names and values
/// that are not UTF-8 pass as they are unless the name (read leniently) is removed.
pub fn test_environment(
    env: &Env,
    provider_key_vars: &[String],
    allowed: &[String],
) -> (Vec<(OsString, OsString)>, Vec<String>) {
    let mut kept = Vec::new();
    let mut removed = Vec::new();
    for (name, value) in env.vars_os() {
        let text = name.to_string_lossy();
        let pass = allowed.iter().any(|a| a.as_str() == text) || !removes(&text, provider_key_vars);
        if pass {
            kept.push((name.to_os_string(), value.to_os_string()));
        } else {
            removed.push(text.into_owned());
        }
    }
    (kept, removed)
}

fn removes(name: &str, provider_key_vars: &[String]) -> bool {
    let upper = name.to_ascii_uppercase();
    provider_key_vars.iter().any(|v| v == name)
        || KNOWN.contains(&upper.as_str())
        || is_credential_name(name)
        || OWN_PREFIXES.iter().any(|p| upper.starts_with(p))
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
