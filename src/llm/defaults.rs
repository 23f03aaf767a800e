//! Zero-configuration models: when a stage names no drafter or reviewer, choose from what
//! this machine has, so that `git orchestrate 99` just works.
//!
//! The original proposal's pairing comes first (`claude:opus-4.5` drafts,
//! `gemini:3-pro-preview` reviews) when both keys are set. Otherwise the best available of,
//! in order: an Anthropic, Gemini or OpenAI key; a local Ollama server with a model pulled;
//! the `claude`, `gemini` or `codex` programs on PATH, driven through `cmd:` in their
//! non-interactive modes. The reviewer comes from another vendor than the drafter when two
//! are available. Every choice says why.

use std::time::Duration;

use serde::Serialize;

use crate::config::{ModelSpec, ProviderConfig, ProviderKind};
use crate::env::Env;

/// How long a local Ollama server gets to answer the probe.
const OLLAMA_PROBE: Duration = Duration::from_millis(400);

/// A model chosen by default, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Choice {
    /// The model as trailers record it (`anthropic:claude-opus-4-5`).
    pub model: String,
    pub why: String,
    #[serde(skip)]
    pub spec: ModelSpec,
}

/// The default drafter and reviewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Defaults {
    pub drafter: Choice,
    pub reviewer: Choice,
}

/// One way of reaching a model, and the vendor behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Option_ {
    model: String,
    vendor: &'static str,
    why: String,
}

/// What was found on this machine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub anthropic_key: Option<String>,
    pub gemini_key: Option<String>,
    pub openai_key: Option<String>,
    /// A model a local Ollama server has, and the server's address.
    pub ollama: Option<(String, String)>,
    /// `claude`, `gemini`, `codex`, where on PATH.
    pub programs: Vec<&'static str>,
    /// The `aider` program is on PATH. It edits files itself, so it can implement (as an
    /// `agent:`) but not draft or review.
    pub aider: bool,
}

/// Look at the environment, PATH and a local Ollama server.
pub async fn look(env: &Env, ollama: Option<&ProviderConfig>, client: &reqwest::Client) -> Found {
    let mut found = look_offline(env);
    let base = ollama
        .and_then(|o| o.base_url.clone())
        .unwrap_or_else(|| "http://localhost:11434".into());
    found.ollama = probe_ollama(client, &base).await.map(|model| (model, base));
    found
}

/// Look at the environment and PATH only: no request, so no Ollama server is found.
pub fn look_offline(env: &Env) -> Found {
    let first = |vars: &[&str]| {
        vars.iter()
            .find(|v| env.non_empty(v).is_some())
            .map(|v| v.to_string())
    };
    Found {
        anthropic_key: first(&["ANTHROPIC_API_KEY"]),
        gemini_key: first(&["GEMINI_API_KEY", "GOOGLE_API_KEY"]),
        openai_key: first(&["OPENAI_API_KEY"]),
        ollama: None,
        programs: ["claude", "gemini", "codex"]
            .into_iter()
            .filter(|p| env.find_program(p).is_some())
            .collect(),
        aider: env.find_program("aider").is_some(),
    }
}

/// The first model a local Ollama server lists (`GET /api/tags`), if it answers at once.
async fn probe_ollama(client: &reqwest::Client, base: &str) -> Option<String> {
    let url = super::http::join(base, "api/tags");
    let response = tokio::time::timeout(OLLAMA_PROBE, client.get(&url).send())
        .await
        .ok()?
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body: serde_json::Value = tokio::time::timeout(OLLAMA_PROBE, response.json())
        .await
        .ok()?
        .ok()?;
    body["models"][0]["name"].as_str().map(str::to_string)
}

/// Choose a drafter and a reviewer from what was found, or say everything that could be set.
/// Model names come out resolved (`anthropic:claude-opus-4-5`), as trailers record them.
pub fn choose(found: &Found) -> Result<Defaults, String> {
    let (drafter, reviewer) = choose_names(found)?;
    Ok(Defaults {
        drafter: choice(drafter),
        reviewer: choice(reviewer),
    })
}

/// A model named as written here (`claude:opus-4.5`), resolved.
fn choice((name, why): (String, String)) -> Choice {
    // Every name below is a built-in provider's, so it parses; a program that does not is
    // still run as one.
    let spec = ModelSpec::parse(&name, &[]).unwrap_or(ModelSpec {
        provider: "cmd".into(),
        kind: ProviderKind::Cmd,
        model: name,
    });
    Choice {
        model: spec.label(),
        why,
        spec,
    }
}

/// The drafter and the reviewer, each as `(model name, why)`.
type Pair = ((String, String), (String, String));

fn choose_names(found: &Found) -> Result<Pair, String> {
    if let (Some(a), Some(g)) = (&found.anthropic_key, &found.gemini_key) {
        let why = format!("the original pairing: {a} and {g} are set");
        return Ok((
            ("claude:opus-4.5".into(), why.clone()),
            ("gemini:3-pro-preview".into(), why),
        ));
    }
    let options = options(found);
    let Some(drafter) = options.first() else {
        return Err(nothing_found());
    };
    let reviewer = options
        .iter()
        .find(|o| o.vendor != drafter.vendor)
        .map(|o| {
            (
                o.model.clone(),
                format!("{}; from another vendor than the drafter", o.why),
            )
        })
        .unwrap_or_else(|| {
            (
                drafter.model.clone(),
                format!(
                    "{}; no second vendor is available, so the drafter reviews too",
                    drafter.why
                ),
            )
        });
    Ok(((drafter.model.clone(), drafter.why.clone()), reviewer))
}

fn options(found: &Found) -> Vec<Option_> {
    let mut options = Vec::new();
    let mut add = |model: &str, vendor: &'static str, why: String| {
        options.push(Option_ {
            model: model.to_string(),
            vendor,
            why,
        })
    };
    if let Some(var) = &found.anthropic_key {
        add("claude:opus-4.5", "anthropic", format!("{var} is set"));
    }
    if let Some(var) = &found.gemini_key {
        add("gemini:3-pro-preview", "google", format!("{var} is set"));
    }
    if let Some(var) = &found.openai_key {
        add("openai:gpt-5", "openai", format!("{var} is set"));
    }
    if let Some((model, base)) = &found.ollama {
        add(
            &format!("ollama:{model}"),
            "ollama",
            format!("Ollama answers at {base} and has {model}"),
        );
    }
    for program in &found.programs {
        let (model, vendor) = match *program {
            "claude" => ("cmd:claude -p", "anthropic"),
            "gemini" => ("cmd:gemini -p \"Answer the request above.\"", "google"),
            _ => ("cmd:codex exec -", "openai"),
        };
        add(model, vendor, format!("the `{program}` program is on PATH"));
    }
    options
}

/// The implementer `init` writes: the agent form of the program that drafts (it edits files
/// itself, in the worktree), else the drafter's own model (a text implementer, as a
/// run with nothing configured uses), else `aider` when it is the only thing found.
pub fn implementer(found: &Found, drafter: Option<&Choice>) -> Option<Choice> {
    let agent = |program: &str| match program {
        "claude" => Some("agent:claude -p --permission-mode acceptEdits"),
        "codex" => Some("agent:codex exec --sandbox workspace-write -"),
        "gemini" => Some("agent:gemini --yolo"),
        "aider" => Some("agent:aider --yes-always --no-auto-commits --message-file /dev/stdin"),
        _ => None,
    };
    if let Some(drafter) = drafter {
        let program = match drafter.spec.kind {
            ProviderKind::Cmd => drafter.spec.model.split_whitespace().next(),
            _ => None,
        };
        return Some(match program.and_then(agent) {
            Some(name) => choice((
                name.to_string(),
                format!(
                    "the `{}` program drafts, and as an agent it edits files itself",
                    program.unwrap_or_default()
                ),
            )),
            None => Choice {
                why: format!("the drafter's model ({})", drafter.why),
                ..drafter.clone()
            },
        });
    }
    found.aider.then(|| {
        choice((
            agent("aider").unwrap_or_default().to_string(),
            "the `aider` program is on PATH (it implements; it cannot draft or review)".into(),
        ))
    })
}

fn nothing_found() -> String {
    format!(
        "no model is configured, and {}\nor name the models in .orchestrate.toml:\n  [stages.lld]\n  drafter = \"claude:opus-4.5\"\n  reviewer = \"gemini:3-pro-preview\"",
        NOTHING_HERE.join("\n")
    )
}

/// The run needs models for `missing` (stage and role names, in order), none is configured
/// for them, and none was found on this machine: the message names those roles and where to
/// configure them.
pub fn nothing_found_for(missing: &[(&str, &str)]) -> String {
    let keys: Vec<String> = missing
        .iter()
        .map(|(stage, role)| format!("stages.{stage}.{role}"))
        .collect();
    let mut example = String::new();
    let mut section = "";
    for (stage, role) in missing {
        if *stage != section {
            example.push_str(&format!("\n  [stages.{stage}]"));
            section = stage;
        }
        let model = match *role {
            "reviewer" => "gemini:3-pro-preview",
            _ => "claude:opus-4.5",
        };
        example.push_str(&format!("\n  {role} = \"{model}\""));
    }
    let keys = match keys.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => keys.join(""),
    };
    format!(
        "no model is configured for {keys}, and {}\nor name {} in .orchestrate.toml:{example}",
        NOTHING_HERE.join("\n"),
        if missing.len() == 1 { "it" } else { "them" }
    )
}

/// What this machine could offer, when it offers nothing.
const NOTHING_HERE: [&str; 6] = [
    "none was found on this machine. Any one of these works:",
    "  export ANTHROPIC_API_KEY=...   (Claude drafts; with GEMINI_API_KEY too, Gemini reviews)",
    "  export GEMINI_API_KEY=...      (or GOOGLE_API_KEY)",
    "  export OPENAI_API_KEY=...",
    "  run a local Ollama (`ollama serve`, then `ollama pull llama3.2`)",
    "  install the `claude`, `gemini` or `codex` command-line programs",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_pairing_wins_when_both_keys_are_set() {
        let found = Found {
            anthropic_key: Some("ANTHROPIC_API_KEY".into()),
            gemini_key: Some("GOOGLE_API_KEY".into()),
            openai_key: Some("OPENAI_API_KEY".into()),
            ..Found::default()
        };
        let d = choose(&found).unwrap();
        assert_eq!(
            (d.drafter.model.as_str(), d.reviewer.model.as_str()),
            ("anthropic:claude-opus-4-5", "gemini:gemini-3-pro-preview")
        );
        assert!(d.drafter.why.contains("GOOGLE_API_KEY"));
    }

    #[test]
    fn the_reviewer_comes_from_another_vendor() {
        let found = Found {
            openai_key: Some("OPENAI_API_KEY".into()),
            programs: vec!["codex", "claude"],
            ..Found::default()
        };
        let d = choose(&found).unwrap();
        assert_eq!(d.drafter.model, "openai:gpt-5");
        assert_eq!(
            d.reviewer.model, "cmd:claude -p",
            "codex is the same vendor as the drafter"
        );
        let alone = Found {
            ollama: Some(("llama3.2:latest".into(), "http://localhost:11434".into())),
            ..Found::default()
        };
        let d = choose(&alone).unwrap();
        assert_eq!(d.drafter.model, "ollama:llama3.2:latest");
        assert_eq!(d.reviewer.model, d.drafter.model);
        assert!(d.reviewer.why.contains("no second vendor"));
    }

    #[test]
    fn the_implementer_is_the_drafters_agent_form_or_its_model() {
        let programs = Found {
            programs: vec!["codex"],
            ..Found::default()
        };
        let d = choose(&programs).unwrap();
        let i = implementer(&programs, Some(&d.drafter)).unwrap();
        assert_eq!(i.model, "agent:codex exec --sandbox workspace-write -");
        assert_eq!(i.spec.kind, ProviderKind::Agent);
        let key = Found {
            gemini_key: Some("GEMINI_API_KEY".into()),
            aider: true,
            ..Found::default()
        };
        let d = choose(&key).unwrap();
        let i = implementer(&key, Some(&d.drafter)).unwrap();
        assert_eq!(i.model, "gemini:gemini-3-pro-preview");
        assert!(i.why.contains("GEMINI_API_KEY is set"), "{}", i.why);
        let aider = Found {
            aider: true,
            ..Found::default()
        };
        assert!(choose(&aider).is_err(), "aider cannot draft");
        let i = implementer(&aider, None).unwrap();
        assert!(i.model.starts_with("agent:aider "), "{}", i.model);
        assert_eq!(implementer(&Found::default(), None), None);
    }

    #[test]
    fn nothing_found_lists_every_option() {
        let err = choose(&Found::default()).unwrap_err();
        for needle in [
            "ANTHROPIC_API_KEY",
            "GEMINI_API_KEY",
            "OPENAI_API_KEY",
            "Ollama",
            "codex",
            "[stages.lld]",
        ] {
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }
}
