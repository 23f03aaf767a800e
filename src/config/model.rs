//! Model names: `provider:model`, the providers that exist, and how a model is shown.

use std::fmt;

use serde::Serialize;

/// The wire protocol or mechanism behind a provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Anthropic,
    Gemini,
    #[serde(rename = "openai")]
    OpenAi,
    Ollama,
    Cmd,
    Agent,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 6] = [
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
        ProviderKind::OpenAi,
        ProviderKind::Ollama,
        ProviderKind::Cmd,
        ProviderKind::Agent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::OpenAi => "openai",
            ProviderKind::Ollama => "ollama",
            ProviderKind::Cmd => "cmd",
            ProviderKind::Agent => "agent",
        }
    }

    /// A `kind = "..."` value in a `[providers.NAME]` table.
    pub fn from_kind(kind: &str) -> Option<ProviderKind> {
        ProviderKind::ALL.into_iter().find(|k| k.name() == kind)
    }

    /// A built-in provider name or alias (`claude` is `anthropic`, `google` is `gemini`).
    pub fn builtin(name: &str) -> Option<ProviderKind> {
        match name {
            "claude" => Some(ProviderKind::Anthropic),
            "google" => Some(ProviderKind::Gemini),
            other => ProviderKind::from_kind(other),
        }
    }

    /// Programs run as models: their "model" part is a command line.
    pub fn is_program(self) -> bool {
        matches!(self, ProviderKind::Cmd | ProviderKind::Agent)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A model named in configuration: `anthropic:claude-opus-4-5`, `cmd:./draft.sh`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    /// The provider's canonical name: a built-in (`anthropic`, never the alias `claude`) or
    /// the name of a `[providers.NAME]` table.
    pub provider: String,
    pub kind: ProviderKind,
    /// The model id, or for `cmd:` and `agent:` the command line.
    pub model: String,
}

impl ModelSpec {
    /// Parse `provider:model`, with the model's alias resolved (`claude:opus-4.5` is
    /// `anthropic:claude-opus-4-5`); `declared` are the `[providers.NAME]` tables and their
    /// kinds.
    pub fn parse(text: &str, declared: &[(String, ProviderKind)]) -> Result<ModelSpec, String> {
        ModelSpec::parse_as_written(text, declared).map(|spec| super::aliases::resolve(&spec))
    }

    fn parse_as_written(
        text: &str,
        declared: &[(String, ProviderKind)],
    ) -> Result<ModelSpec, String> {
        let text = text.trim();
        let Some((provider, model)) = text.split_once(':') else {
            return Err(format!(
                "`{text}` is not a model name: write provider:model, such as claude:opus-4.5 or cmd:./my-model.sh"
            ));
        };
        let provider = provider.trim();
        let model = model.trim();
        if model.is_empty() {
            return Err(format!("`{text}` names no model after `{provider}:`"));
        }
        if let Some((name, kind)) = declared.iter().find(|(name, _)| name == provider) {
            return Ok(ModelSpec {
                provider: name.clone(),
                kind: *kind,
                model: model.to_string(),
            });
        }
        match ProviderKind::builtin(provider) {
            Some(kind) => Ok(ModelSpec {
                provider: kind.name().to_string(),
                kind,
                model: model.to_string(),
            }),
            None => {
                let mut known: Vec<String> = vec![
                    "anthropic (or claude)".into(),
                    "gemini (or google)".into(),
                    "openai".into(),
                    "ollama".into(),
                    "cmd".into(),
                    "agent".into(),
                ];
                known.extend(
                    declared
                        .iter()
                        .filter(|(n, _)| ProviderKind::builtin(n).is_none())
                        .map(|(n, _)| n.clone()),
                );
                Err(format!(
                    "unknown provider `{provider}` in `{text}` (known providers: {})",
                    known.join(", ")
                ))
            }
        }
    }

    /// How the model is shown in trailers, logs and output: secrets that a command line may
    /// carry (`--api-key X`, `TOKEN=...`, `sk-...`) are masked.
    pub fn label(&self) -> String {
        if self.kind.is_program() {
            format!("{}:{}", self.provider, redact_command(&self.model))
        } else {
            format!("{}:{}", self.provider, self.model)
        }
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Mask the parts of a command line that are credentials: the value of an assignment to a
/// variable that holds one (`OPENAI_API_KEY=...`, `GH_TOKEN=...`: see [`is_secret_variable`]),
/// the word after a flag that names one (`--api-key X`, `--token=X`), and words or values that
/// look like tokens (`sk-...`, `ghp_...`). Other assignments (`LLM_USER_PATH=/opt/llm`) are
/// not secrets, and are shown as they are.
pub fn redact_command(command: &str) -> String {
    const MASK: &str = "***";
    let mut out: Vec<String> = Vec::new();
    let mut mask_next = false;
    for word in command.split_whitespace() {
        let bare = word.trim_matches(|c| c == '"' || c == '\'');
        if mask_next {
            // `Authorization: Bearer TOKEN`: the scheme stays, the credential goes.
            if matches!(
                bare.to_ascii_lowercase().as_str(),
                "bearer" | "basic" | "token"
            ) {
                out.push(word.to_string());
                continue;
            }
            out.push(MASK.into());
            mask_next = false;
            continue;
        }
        // A header given as an argument: `x-api-key: VALUE`, `Authorization: Bearer VALUE`,
        // or `x-api-key:VALUE` in one word.
        if let Some((name, value)) = bare.split_once(':')
            && !name.is_empty()
            && !name.contains('=')
            && !name.starts_with('-')
            && !value.starts_with("//")
            && is_secret_name(name)
        {
            let quote = &word[..word.len() - word.trim_start_matches(['"', '\'']).len()];
            if value.trim().is_empty() {
                out.push(word.to_string());
                mask_next = true;
            } else {
                out.push(format!("{quote}{name}:{MASK}"));
            }
            continue;
        }
        if let Some((name, value)) = word.split_once('=') {
            let secret = if name.starts_with('-') {
                is_secret_name(name.trim_start_matches('-'))
            } else {
                is_secret_variable(name)
            };
            if secret || looks_like_key(value) {
                out.push(format!("{name}={MASK}"));
                continue;
            }
        }
        if word.starts_with('-') && is_secret_name(word.trim_start_matches('-')) {
            out.push(word.to_string());
            mask_next = true;
            continue;
        }
        if looks_like_key(word) {
            out.push(MASK.into());
            continue;
        }
        out.push(word.to_string());
    }
    // Token shapes anywhere in the line (`ghp_…` after a flag of any name, the password in
    // `https://user:pass@host`), as every other text the tool shows is cleaned.
    crate::redact::Redactor::default().clean(&out.join(" "))
}

/// An environment variable that holds a credential: its name ends in `_KEY`, `_TOKEN`,
/// `_SECRET` or `_PASSWORD` (in any case), or it is a well-known one named otherwise.
fn is_secret_variable(name: &str) -> bool {
    const SUFFIXES: [&str; 4] = ["_KEY", "_TOKEN", "_SECRET", "_PASSWORD"];
    const KNOWN: [&str; 8] = [
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "AWS_ACCESS_KEY_ID",
        "PGPASSWORD",
        "MYSQL_PWD",
        "GITHUB_PAT",
    ];
    let name = name.to_ascii_uppercase();
    SUFFIXES.iter().any(|s| name.ends_with(s)) || KNOWN.contains(&name.as_str())
}

/// Whether a flag (`--api-key`) or header (`x-api-key`, `Authorization`) carries a credential:
/// its last word names one. `--token`, `--auth-token`, `--openai-api-key` do; `--map-tokens`,
/// `--max-tokens`, `--token-limit` and `--no-auth` count or switch things and do not, so
/// their values stay readable and a recorded command can be run again.
fn is_secret_name(name: &str) -> bool {
    const WORDS: [&str; 15] = [
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "pass",
        "passphrase",
        "pat",
        "credential",
        "credentials",
        "auth",
        "authorization",
        "bearer",
        "cookie",
    ];
    let name = name.to_ascii_lowercase();
    let words: Vec<&str> = name
        .split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    match (words.first(), words.last()) {
        (Some(&"no"), _) => false,
        (_, Some(last)) => WORDS.contains(last),
        _ => false,
    }
}

fn looks_like_key(word: &str) -> bool {
    let word = word.trim_matches(|c| c == '"' || c == '\'');
    const PREFIXES: [&str; 8] = [
        "sk-",
        "sk_",
        "ghp_",
        "gho_",
        "github_pat_",
        "xoxb-",
        "AIza",
        "hf_",
    ];
    word.len() >= 16 && PREFIXES.iter().any(|p| word.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_builtins_aliases_and_declared() {
        let spec = ModelSpec::parse("claude:opus-4.5", &[]).unwrap();
        assert_eq!(spec.provider, "anthropic");
        assert_eq!(spec.kind, ProviderKind::Anthropic);
        assert_eq!(spec.model, "claude-opus-4-5", "aliases resolve once, here");
        let cmd = ModelSpec::parse("cmd:claude -p", &[]).unwrap();
        assert_eq!(cmd.model, "claude -p");
        let declared = vec![("vllm".to_string(), ProviderKind::OpenAi)];
        let spec = ModelSpec::parse("vllm:qwen", &declared).unwrap();
        assert_eq!(
            (spec.provider.as_str(), spec.kind),
            ("vllm", ProviderKind::OpenAi)
        );
        let err = ModelSpec::parse("foo:bar", &declared).unwrap_err();
        assert!(err.contains("unknown provider `foo`"), "{err}");
        assert!(err.contains("vllm"), "{err}");
        assert!(ModelSpec::parse("opus", &[]).is_err());
        assert!(ModelSpec::parse("cmd:", &[]).is_err());
    }

    #[test]
    fn labels_mask_secrets_in_command_lines() {
        assert_eq!(
            redact_command("llm -m gpt-5 --key sk-abcdefghijklmnopqrst"),
            "llm -m gpt-5 --key ***"
        );
        assert_eq!(
            redact_command("OPENAI_API_KEY=abc tool --api-token=xyz run"),
            "OPENAI_API_KEY=*** tool --api-token=*** run"
        );
        assert_eq!(redact_command("tool sk-ant-api03-aaaaaaaaaaaa"), "tool ***");
        assert_eq!(
            redact_command("GH_TOKEN=ghp_x anthropic_api_key=a DB_SECRET=s PGPASSWORD=p tool"),
            "GH_TOKEN=*** anthropic_api_key=*** DB_SECRET=*** PGPASSWORD=*** tool"
        );
        assert_eq!(
            redact_command("AUTH=sk-abcdefghijklmnopqrst tool --x=ghp_abcdefghijklmnopqrst"),
            "AUTH=*** tool --x=***"
        );
        assert_eq!(
            redact_command("claude -p --model opus"),
            "claude -p --model opus"
        );
    }

    #[test]
    fn headers_tokens_and_urls_in_command_lines_are_masked() {
        assert_eq!(
            redact_command(
                "curl -H 'x-api-key: abc123def456' -H 'Authorization: Bearer tok-98765432' https://api"
            ),
            "curl -H 'x-api-key: *** -H 'Authorization: Bearer *** https://api"
        );
        assert_eq!(
            redact_command("tool -H x-api-key:abc123def456 run"),
            "tool -H x-api-key:*** run"
        );
        assert_eq!(
            redact_command("tool -k ghp_abcdefghij1234 --api-key=abc:def"),
            "tool -k *** --api-key=***"
        );
        assert_eq!(
            redact_command("llm --base https://alice:pw-123456@example.com/v1"),
            "llm --base https://[REDACTED]@example.com/v1"
        );
        assert_eq!(
            redact_command("tool --url http://localhost:8080/v1"),
            "tool --url http://localhost:8080/v1"
        );
    }

    #[test]
    fn flags_that_count_tokens_are_not_credentials() {
        // Aider's and llama.cpp's own flags: masking them would make the recorded command
        // unrunnable.
        for command in [
            "aider --map-tokens 0 --yes-always",
            "llama-cli --max-tokens 1024 --token-limit 5 --no-auth run",
            "tool --keyring-backend file --tokenizer bpe",
        ] {
            assert_eq!(redact_command(command), command);
        }
        assert_eq!(
            redact_command("tool --auth-token abc123 --openai-api-key xyz --password hunter2 run"),
            "tool --auth-token *** --openai-api-key *** --password *** run"
        );
        assert_eq!(
            redact_command("tool --map-tokens 0 --token t0ps3cret"),
            "tool --map-tokens 0 --token ***"
        );
    }

    #[test]
    fn assignments_that_hold_no_credential_are_shown() {
        for command in [
            "LLM_USER_PATH=/opt/llm llm -m smollm2",
            "HOME=/tmp OLLAMA_HOST=127.0.0.1:11434 DEBUG=1 tool",
            "KEYBOARD=us TOKENIZER=bpe MONKEY=1 tool",
        ] {
            assert_eq!(redact_command(command), command);
        }
    }
}
