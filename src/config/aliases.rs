//! Model aliases: the original proposal's short names (`claude:opus-4.5`,
//! `gemini:3-pro-preview`) and the vendors' families (`opus`, `sonnet`, `haiku`, `pro`,
//! `flash`, `gpt`) resolve to vendor model ids. A name that is not an alias passes through
//! unchanged. Names are resolved once, when a model name is parsed ([`ModelSpec::parse`]), so
//! the resolved id is what is sent, shown and recorded in trailers everywhere.

use super::{ModelSpec, ProviderKind};

/// Families, by provider kind, and the vendor id each means today.
const FAMILIES: [(ProviderKind, &str, &str); 10] = [
    (ProviderKind::Anthropic, "opus", "claude-opus-4-5"),
    (ProviderKind::Anthropic, "sonnet", "claude-sonnet-4-5"),
    (ProviderKind::Anthropic, "haiku", "claude-haiku-4-5"),
    (ProviderKind::Gemini, "pro", "gemini-3-pro-preview"),
    (ProviderKind::Gemini, "flash", "gemini-2.5-flash"),
    (ProviderKind::Gemini, "flash-lite", "gemini-2.5-flash-lite"),
    (ProviderKind::OpenAi, "gpt", "gpt-5"),
    (ProviderKind::OpenAi, "gpt-mini", "gpt-5-mini"),
    (ProviderKind::OpenAi, "gpt-nano", "gpt-5-nano"),
    (ProviderKind::OpenAi, "mini", "gpt-5-mini"),
];

/// The spec with its model name resolved. Only the built-in providers' names are rewritten:
/// a declared provider's models are whatever that server calls them.
pub fn resolve(spec: &ModelSpec) -> ModelSpec {
    let builtin = ProviderKind::builtin(&spec.provider) == Some(spec.kind);
    let model = if builtin {
        resolve_name(spec.kind, spec.model.trim())
    } else {
        spec.model.clone()
    };
    ModelSpec {
        model,
        ..spec.clone()
    }
}

fn resolve_name(kind: ProviderKind, name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if let Some((_, _, id)) = FAMILIES
        .iter()
        .find(|(k, alias, _)| *k == kind && *alias == lower)
    {
        return (*id).to_string();
    }
    match kind {
        // opus-4.5 → claude-opus-4-5; sonnet-4 → claude-sonnet-4-0 is not guessed: only
        // names with a family and a dotted version are rewritten.
        ProviderKind::Anthropic => {
            for family in ["opus", "sonnet", "haiku"] {
                if let Some(version) = lower.strip_prefix(family).and_then(|v| v.strip_prefix('-'))
                    && !version.is_empty()
                    && version.chars().all(|c| c.is_ascii_digit() || c == '.')
                {
                    return format!("claude-{family}-{}", version.replace('.', "-"));
                }
            }
            name.to_string()
        }
        // 3-pro-preview → gemini-3-pro-preview; 2.5-flash → gemini-2.5-flash.
        ProviderKind::Gemini if lower.starts_with(|c: char| c.is_ascii_digit()) => {
            format!("gemini-{lower}")
        }
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> ModelSpec {
        ModelSpec::parse(text, &[]).unwrap()
    }

    #[test]
    fn the_proposal_names_resolve() {
        assert_eq!(spec("claude:opus-4.5").label(), "anthropic:claude-opus-4-5");
        assert_eq!(
            spec("gemini:3-pro-preview").label(),
            "gemini:gemini-3-pro-preview"
        );
        assert_eq!(spec("claude:haiku-4.5").model, "claude-haiku-4-5");
        assert_eq!(spec("anthropic:sonnet-4.5").model, "claude-sonnet-4-5");
    }

    #[test]
    fn families_resolve_and_unknown_names_pass_through() {
        assert_eq!(spec("claude:opus").model, "claude-opus-4-5");
        assert_eq!(spec("google:flash").model, "gemini-2.5-flash");
        assert_eq!(spec("openai:gpt").model, "gpt-5");
        assert_eq!(spec("gemini:2.5-pro").model, "gemini-2.5-pro");
        assert_eq!(
            spec("anthropic:claude-opus-4-5-20251101").model,
            "claude-opus-4-5-20251101"
        );
        assert_eq!(spec("openai:o3").model, "o3");
        assert_eq!(spec("ollama:llama3.2").model, "llama3.2");
        assert_eq!(spec("cmd:opus").model, "opus");
        let declared = vec![("local".to_string(), ProviderKind::OpenAi)];
        let local = ModelSpec::parse("local:gpt", &declared).unwrap();
        assert_eq!(local.model, "gpt", "a declared server's names are its own");
    }
}
