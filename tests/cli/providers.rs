//! The HTTP providers against loopback servers answering as each vendor documents: Anthropic
//! Messages, Gemini streamGenerateContent, OpenAI chat completions and Ollama `/api/chat`.
//!
//! What every provider must do (stream a reply and count its tokens, retry what is transient and
//! nothing else, say what to fix, never take a broken or cut-off reply as whole) is tested once
//! here, over a table of [`Provider`]s: each says how its vendor answers (paths, payloads, error
//! bodies, finish reasons) and what the user is told. What only one vendor does is tested in
//! `providers/<vendor>.rs`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

use crate::harness::{BRANCH, Run, TestRepo};
use crate::vendors::*;

mod anthropic;
mod gemini;
mod ollama;
mod openai;

pub use anthropic::{KEY as ANTHROPIC_KEY, run_with_key as run_with_anthropic_key};

/// How one vendor's API answers, and what the user is told about it.
pub struct Provider {
    /// Its name in configuration (`[providers.NAME]`) and in messages.
    pub name: &'static str,
    /// The lld drafter and reviewer as configured (aliases where the vendor has them) and as
    /// recorded in the trailers (`provider:model-id`).
    pub drafter: &'static str,
    pub reviewer: &'static str,
    pub drafter_id: &'static str,
    pub reviewer_id: &'static str,
    /// The `base_url` that points the provider at a server whose root is the argument.
    base_url: fn(&str) -> String,
    /// The path a model's calls go to, and the query they carry.
    path: fn(&str) -> String,
    query: Option<&'static str>,
    /// The model a request asked for.
    model_of: fn(&Request, &Value) -> String,
    /// The prompt a request body carries.
    prompt_of: fn(&Value) -> String,
    /// The rest of a request that is particular to the vendor (headers, streaming options).
    check_request: fn(&Request, &Value),
    pub key: Option<Key>,
    /// What a run without the key says.
    missing_key: &'static [&'static str],

    /// The stream of a reply: `frames(text, usage, finish reason)`, as it comes in pieces
    /// (events, or lines), of `content_type`, with `headers` on the response.
    frames: fn(&str, Usage, &str) -> Vec<String>,
    content_type: &'static str,
    headers: &'static [(&'static str, &'static str)],
    /// The finish reasons of a whole reply, of one cut off at the output-token limit, and of
    /// a refusal (with what the error names as its reason).
    stop: &'static str,
    limit: &'static str,
    refusal: Option<(&'static str, &'static str)>,
    /// A call's usage, and the `Orchestrate-Tokens` of a draft and a review that each used it.
    usage: Usage,
    two_calls: &'static str,
    /// How many frames of a design carry its first text; how many at the end say the reply is
    /// whole, and what the error says is missing without them.
    head: usize,
    tail: usize,
    unfinished: &'static str,
    /// Where a request carries the output-token limit (a JSON pointer), and what it is when
    /// none is configured (`None`: the field's table is not sent at all).
    limit_field: &'static str,
    default_limit: Option<u64>,
    /// The configuration that makes it try twice (Ollama's default does).
    retry_once: &'static str,

    happy: Happy,
    /// A rate limit answered once, with the header saying when to come back.
    rate_limited: Option<ResponseTemplate>,
    /// Transient errors, answered to every attempt.
    transient: Vec<Failure>,
    /// Errors that retrying cannot help.
    refused: Vec<Failure>,
    /// A body that is not the vendor's format, and a whole reply with no text in it.
    malformed: &'static str,
    empty: Vec<String>,
}

/// Where the API key comes from and how it is sent.
pub struct Key {
    pub var: &'static str,
    pub value: &'static str,
    header: &'static str,
    scheme: &'static str,
}

/// The happy path: each call's usage, and what the two cost.
struct Happy {
    draft: Usage,
    review: Usage,
    tokens: &'static str,
    cost: &'static str,
}

/// An error answer and what the run says about it.
struct Failure {
    response: ResponseTemplate,
    /// The drafter, if not the usual one (`provider:model`, no alias).
    drafter: Option<&'static str>,
    /// More `[providers.NAME]` configuration.
    config: &'static str,
    says: String,
    hints: &'static [&'static str],
    not_said: &'static [&'static str],
    attempts: usize,
}

impl Failure {
    fn new(response: ResponseTemplate, says: String, hints: &'static [&'static str]) -> Failure {
        Failure {
            response,
            drafter: None,
            config: "",
            says,
            hints,
            not_said: &[],
            attempts: 1,
        }
    }

    fn attempts(self, config: &'static str, attempts: usize) -> Failure {
        Failure {
            config,
            attempts,
            ..self
        }
    }
}

/// The body's `model`, as Anthropic, OpenAI and Ollama take it.
fn model_in_body(_: &Request, body: &Value) -> String {
    body["model"].as_str().unwrap_or_default().to_string()
}

/// The text of OpenAI's and Ollama's one user message.
fn message_content(body: &Value) -> String {
    body["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The tables every test runs over.
fn providers() -> [Provider; 4] {
    [
        Provider::anthropic(),
        Provider::gemini(),
        Provider::openai(),
        Provider::ollama(),
    ]
}

impl Provider {
    pub fn anthropic() -> Provider {
        let usage = Usage::new(1200, 300);
        let frames: fn(&str, Usage, &str) -> Vec<String> =
            |text, usage, finish| sse_frames(&anthropic_events(text, usage.into(), finish));
        Provider {
            name: "anthropic",
            drafter: "claude:opus-4.5",
            reviewer: "claude:sonnet",
            drafter_id: "anthropic:claude-opus-4-5",
            reviewer_id: "anthropic:claude-sonnet-4-5",
            base_url: str::to_string,
            path: |_| ANTHROPIC_PATH.into(),
            query: None,
            model_of: model_in_body,
            // The prompt is one user message of text blocks: a cacheable prefix, then the rest.
            prompt_of: |body| {
                body["messages"][0]["content"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|block| block["text"].as_str().unwrap())
                    .collect()
            },
            check_request: |request, body| {
                assert_eq!(
                    request.headers.get("anthropic-version").unwrap(),
                    "2023-06-01"
                );
                assert_eq!(body["stream"], true);
                assert_eq!(body["messages"].as_array().unwrap().len(), 1);
                assert_eq!(body["messages"][0]["role"], "user");
            },
            key: Some(Key {
                var: "ANTHROPIC_API_KEY",
                value: anthropic::KEY,
                header: "x-api-key",
                scheme: "",
            }),
            missing_key: &[
                "no API key for anthropic: ANTHROPIC_API_KEY is not set",
                "export ANTHROPIC_API_KEY=...",
            ],
            frames,
            content_type: "text/event-stream",
            headers: &[("request-id", "req_018EeWyXxfu5pfWkrYcMdjWG")],
            stop: "end_turn",
            limit: "max_tokens",
            refusal: Some(("refusal", "stop_reason: refusal")),
            usage,
            two_calls: "in=2400 out=600",
            // message_start, content_block_start, ping, the first delta; message_delta carries
            // the stop reason and message_stop ends the message.
            head: 4,
            tail: 2,
            unfinished: "its message_stop event",
            limit_field: "/max_tokens",
            default_limit: Some(16384),
            retry_once: "max_retries = 1",
            // Two calls of 1200 in / 300 out: Opus 1200 × $5 + 300 × $25, Sonnet 1200 × $3 +
            // 300 × $15 (per million).
            happy: Happy {
                draft: usage,
                review: usage,
                tokens: "in=2400 out=600",
                cost: "0.0216",
            },
            rate_limited: Some(
                anthropic_error(
                    429,
                    "rate_limit_error",
                    "Number of request tokens has exceeded your per-minute rate limit",
                )
                .insert_header("retry-after", "0"),
            ),
            transient: vec![Failure::new(
                anthropic_error(529, "overloaded_error", "Overloaded"),
                "anthropic answered HTTP 529 for anthropic:claude-opus-4-5: overloaded_error: Overloaded".into(),
                &["not your credentials"],
            )
            .attempts("", 4)],
            refused: [
                (
                    400,
                    "invalid_request_error",
                    "max_tokens: 99999999 > 64000, which is the maximum allowed",
                    &["max_output_tokens"],
                ),
                (
                    401,
                    "authentication_error",
                    "invalid x-api-key",
                    &["check ANTHROPIC_API_KEY"],
                ),
                (
                    403,
                    "permission_error",
                    "Your API key does not have permission to use the specified resource.",
                    &["ANTHROPIC_API_KEY"],
                ),
                (
                    404,
                    "not_found_error",
                    "model: claude-opus-4-5",
                    &["check the model name `anthropic:claude-opus-4-5`"],
                ),
            ]
            .into_iter()
            .map(|(status, kind, message, hints)| {
                Failure::new(
                    anthropic_error(status, kind, message),
                    format!("anthropic answered HTTP {status} for anthropic:claude-opus-4-5: {kind}: {message}"),
                    hints,
                )
            })
            .collect(),
            malformed: "event: message_start\ndata: {\"type\": \"message_start\", \"message\": {\n\n",
            empty: frames("", usage, "end_turn"),
        }
    }

    pub fn gemini() -> Provider {
        let usage = Usage::new(1000, 250);
        let failure = |status, code_name, message: &str| {
            Failure::new(
                gemini_error(status, code_name, message),
                format!(
                    "gemini answered HTTP {status} for gemini:gemini-3-pro-preview: {code_name}: {message}"
                ),
                &[],
            )
        };
        Provider {
            name: "gemini",
            drafter: "gemini:3-pro-preview",
            reviewer: "gemini:flash",
            drafter_id: "gemini:gemini-3-pro-preview",
            reviewer_id: "gemini:gemini-2.5-flash",
            base_url: str::to_string,
            // wiremock's `path` leaves out the query (`?alt=sse`).
            path: |model| format!("/v1beta/models/{model}:streamGenerateContent"),
            query: Some("alt=sse"),
            model_of: |request, _| {
                let path = request.url.path();
                let model = path.strip_prefix("/v1beta/models/").unwrap_or(path);
                model.split(':').next().unwrap().to_string()
            },
            prompt_of: |body| {
                body["contents"][0]["parts"][0]["text"]
                    .as_str()
                    .unwrap()
                    .to_string()
            },
            check_request: |_, body| {
                assert_eq!(body["contents"].as_array().unwrap().len(), 1);
                assert_eq!(body["contents"][0]["role"], "user");
            },
            key: Some(Key {
                var: "GEMINI_API_KEY",
                value: gemini::KEY,
                header: "x-goog-api-key",
                scheme: "",
            }),
            missing_key: &[
                "no API key for gemini: GEMINI_API_KEY or GOOGLE_API_KEY is not set",
                "export GEMINI_API_KEY=...",
            ],
            frames: |text, usage, finish| sse_frames(&gemini_events(None, text, usage, finish)),
            content_type: "text/event-stream",
            headers: &[],
            stop: "STOP",
            limit: "MAX_TOKENS",
            refusal: Some(("SAFETY", "SAFETY")),
            usage,
            two_calls: "in=2000 out=500",
            // One GenerateContentResponse an event; the last carries the finishReason.
            head: 1,
            tail: 1,
            unfinished: "a finishReason",
            limit_field: "/generationConfig/maxOutputTokens",
            default_limit: None,
            retry_once: "max_retries = 1",
            // The drafter read 4000 of its 10000 prompt tokens from the cache and thought for 300
            // tokens, billed as output. in = 10000 + 2000; out = (500 + 300) + 400.
            // gemini-3-pro-preview ($2 in, $0.2 cached, $12 out per million):
            //   6000 fresh × 2 = 0.0120, 4000 cached × 0.2 = 0.0008, 800 out × 12 = 0.0096 → 0.0224
            // gemini-2.5-flash ($0.3 in, $2.5 out): 2000 × 0.3 = 0.0006, 400 × 2.5 = 0.0010 → 0.0016
            // Total 0.0240 (0.0312 if the cached tokens were priced as fresh input).
            happy: Happy {
                draft: Usage {
                    prompt: 10_000,
                    cached: 4_000,
                    output: 500,
                    thoughts: 300,
                },
                review: Usage::new(2_000, 400),
                tokens: "in=12000 out=1200",
                cost: "0.0240",
            },
            rate_limited: Some(
                gemini_error(
                    429,
                    "RESOURCE_EXHAUSTED",
                    "Resource has been exhausted (e.g. check quota).",
                )
                .insert_header("retry-after", "0"),
            ),
            transient: vec![
                Failure {
                    hints: &["capacity or an outage, not your credentials"],
                    ..failure(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
                }
                .attempts("", 4),
                Failure {
                    hints: &["capacity or an outage, not your credentials"],
                    ..failure(
                        500,
                        "INTERNAL",
                        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
                    )
                }
                .attempts("max_retries = 2", 3),
                Failure {
                    hints: &["rate limit or your quota, not your credentials"],
                    ..failure(
                        429,
                        "RESOURCE_EXHAUSTED",
                        "You exceeded your current quota, please check your plan and billing details.",
                    )
                }
                .attempts("max_retries = 2", 3),
            ],
            refused: vec![
                // Gemini answers a bad key with 400, not 401.
                Failure {
                    hints: &["the key was refused: check GEMINI_API_KEY (or GOOGLE_API_KEY)"],
                    ..failure(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
                },
                Failure {
                    hints: &["max_output_tokens"],
                    ..failure(
                        400,
                        "INVALID_ARGUMENT",
                        "* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be positive.",
                    )
                },
                Failure {
                    hints: &[
                        "the key is valid but may not use gemini:gemini-3-pro-preview: check the key's permissions and GEMINI_API_KEY",
                    ],
                    ..failure(403, "PERMISSION_DENIED", "The caller does not have permission")
                },
                Failure {
                    drafter: Some("gemini:gemini-9"),
                    hints: &["check the model name `gemini:gemini-9`"],
                    ..Failure::new(
                        gemini_error(
                            404,
                            "NOT_FOUND",
                            "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.",
                        ),
                        "gemini answered HTTP 404 for gemini:gemini-9: NOT_FOUND: models/gemini-9 is not found for API version v1beta".into(),
                        &[],
                    )
                },
            ],
            malformed: "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\n\n",
            // Gemini's empty answer: a candidate with no parts, finished normally.
            empty: sse_frames(&[(
                "",
                json!({
                    "candidates": [{"content": {"role": "model"}, "finishReason": "STOP", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 1000, "totalTokenCount": 1000},
                    "modelVersion": "gemini-3-pro-preview", "responseId": "mAitaLmkHPPlz7IPvtfUqQ4",
                }),
            )]),
        }
    }

    pub fn openai() -> Provider {
        let usage = Usage::new(900, 200);
        let frames: fn(&str, Usage, &str) -> Vec<String> = |text, usage, finish| {
            let mut frames = sse_frames(&openai_events(
                text,
                usage.prompt,
                usage.output,
                usage.cached,
                finish,
            ));
            frames.push("data: [DONE]\n\n".into());
            frames
        };
        Provider {
            name: "openai",
            drafter: "openai:gpt",
            reviewer: "openai:gpt-5-mini",
            drafter_id: "openai:gpt-5",
            reviewer_id: "openai:gpt-5-mini",
            // The base URL of OpenAI's API ends in /v1.
            base_url: |url| format!("{url}/v1"),
            path: |_| "/v1/chat/completions".into(),
            query: None,
            model_of: model_in_body,
            prompt_of: message_content,
            check_request: |_, body| {
                assert_eq!(body["stream"], true);
                assert_eq!(body["stream_options"]["include_usage"], true);
                assert_eq!(body["messages"].as_array().unwrap().len(), 1);
                assert_eq!(body["messages"][0]["role"], "user");
                assert!(
                    body.get("max_tokens").is_none(),
                    "max_tokens is deprecated for chat completions"
                );
            },
            key: Some(Key {
                var: "OPENAI_API_KEY",
                value: openai::KEY,
                header: "authorization",
                scheme: "Bearer ",
            }),
            missing_key: &[
                "no API key for openai: OPENAI_API_KEY is not set",
                "export OPENAI_API_KEY=...",
            ],
            frames,
            content_type: "text/event-stream",
            headers: &[],
            stop: "stop",
            limit: "length",
            refusal: Some(("content_filter", "finish_reason content_filter")),
            usage,
            two_calls: "in=1800 out=400",
            // The role chunk, then text; at the end the chunk with the finish_reason, the usage
            // chunk and `data: [DONE]`.
            head: 2,
            tail: 3,
            unfinished: "a finish_reason",
            limit_field: "/max_completion_tokens",
            default_limit: None,
            retry_once: "max_retries = 1",
            // The drafter read 32000 of its 40000 prompt tokens from OpenAI's prompt cache, the
            // reviewer 8000 of its 20000; `prompt_tokens` counts the cached tokens too.
            // USD per million tokens, from prices.toml:
            //   gpt-5 (input 1.25, cached 0.125, output 10):
            //     8000 fresh × 1.25 + 32000 cached × 0.125 + 1000 out × 10 = 10000 + 4000 + 10000 → $0.0240
            //   gpt-5-mini (input 0.25, cached 0.025, output 2):
            //     12000 fresh × 0.25 + 8000 cached × 0.025 + 500 out × 2 = 3000 + 200 + 1000 → $0.0042
            // $0.0282 in all. Cached input at the full input rate would be $0.0620.
            happy: Happy {
                draft: Usage {
                    prompt: 40_000,
                    cached: 32_000,
                    output: 1_000,
                    thoughts: 0,
                },
                review: Usage {
                    prompt: 20_000,
                    cached: 8_000,
                    output: 500,
                    thoughts: 0,
                },
                tokens: "in=60000 out=1500",
                cost: "0.0282",
            },
            rate_limited: Some(
                openai_error(
                    429,
                    "tokens",
                    "rate_limit_exceeded",
                    "Rate limit reached for gpt-5 in organization org-abc123 on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s. Visit https://platform.openai.com/account/rate-limits to learn more.",
                )
                .insert_header("retry-after-ms", "0")
                .insert_header("x-ratelimit-remaining-tokens", "1000"),
            ),
            transient: [
                (
                    500,
                    "The server had an error while processing your request. Sorry about that!",
                ),
                (
                    503,
                    "The engine is currently overloaded, please try again later.",
                ),
            ]
            .into_iter()
            .map(|(status, message)| {
                Failure::new(
                    json_error(
                        status,
                        json!({"error": {"message": message, "type": "server_error", "param": null, "code": null}}),
                    ),
                    format!("openai answered HTTP {status} for openai:gpt-5: server_error: {message}"),
                    &["not your credentials"],
                )
                .attempts("", 4)
            })
            .collect(),
            refused: vec![
                Failure::new(
                    openai_error(
                        401,
                        "invalid_request_error",
                        "invalid_api_key",
                        "Incorrect API key provided: sk-proj-********************************************ABCD. You can find your API key at https://platform.openai.com/account/api-keys.",
                    ),
                    "openai answered HTTP 401 for openai:gpt-5: invalid_api_key: Incorrect API key provided: sk-proj-****".into(),
                    &["the key was refused: check OPENAI_API_KEY"],
                ),
                // A 429 that waiting does not cure: the account is out of credit.
                Failure {
                    not_said: &["rate limit"],
                    ..Failure::new(
                        openai_error(
                            429,
                            "insufficient_quota",
                            "insufficient_quota",
                            "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
                        ),
                        "openai answered HTTP 429 for openai:gpt-5: insufficient_quota: You exceeded your current quota".into(),
                        &["the account behind OPENAI_API_KEY is out of credit: check its billing"],
                    )
                },
                Failure::new(
                    openai_error(
                        404,
                        "invalid_request_error",
                        "model_not_found",
                        "The model `gpt-5` does not exist or you do not have access to it.",
                    ),
                    "openai answered HTTP 404 for openai:gpt-5: model_not_found: The model `gpt-5` does not exist".into(),
                    &["check the model name `openai:gpt-5`"],
                ),
            ],
            malformed: "data: {\"id\": \"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\", \"object\": \"chat.completion.chunk\", \"choices\": [\n\n",
            empty: frames("", Usage::new(900, 0), "stop"),
        }
    }

    pub fn ollama() -> Provider {
        let usage = Usage::new(700, 150);
        let frames: fn(&str, Usage, &str) -> Vec<String> =
            |text, usage, finish| ollama_frames(text, usage.prompt, usage.output, finish);
        Provider {
            name: "ollama",
            drafter: "ollama:llama3.2",
            reviewer: "ollama:llama3.2",
            drafter_id: "ollama:llama3.2",
            reviewer_id: "ollama:llama3.2",
            base_url: str::to_string,
            path: |_| "/api/chat".into(),
            query: None,
            model_of: model_in_body,
            prompt_of: message_content,
            check_request: |_, body| {
                assert_eq!(body["stream"], true);
                assert_eq!(body["messages"].as_array().unwrap().len(), 1);
                assert_eq!(body["messages"][0]["role"], "user");
            },
            key: None,
            missing_key: &[],
            frames,
            content_type: "application/x-ndjson",
            headers: &[],
            stop: "stop",
            limit: "length",
            refusal: None,
            usage,
            two_calls: "in=1400 out=300",
            // One JSON line a piece of text; the `done` line with the counts ends it.
            head: 1,
            tail: 1,
            unfinished: "its done message",
            limit_field: "/options/num_predict",
            default_limit: None,
            // Ollama retries once unless configured otherwise.
            retry_once: "",
            // Two calls, each prompt_eval_count 700 / eval_count 150. A local model costs
            // nothing, and that is known (not merely unpriced).
            happy: Happy {
                draft: usage,
                review: usage,
                tokens: "in=1400 out=300",
                cost: "0.0000",
            },
            rate_limited: None,
            transient: vec![],
            refused: vec![Failure {
                drafter: Some("ollama:llama9"),
                ..Failure::new(
                    json_error(
                        404,
                        json!({"error": "model \"llama9\" not found, try pulling it first"}),
                    ),
                    "ollama answered HTTP 404 for ollama:llama9: model \"llama9\" not found, try pulling it first".into(),
                    &["check the model name `ollama:llama9`"],
                )
            }],
            malformed: "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T08:52:19.385406455-07:00\",\"message\":{\"role\":\"assis\n",
            empty: frames("", Usage::new(700, 0), "stop"),
        }
    }

    /// The vendor's model id of `model` (`provider:id`).
    fn model_id(model: &str) -> &str {
        model.split_once(':').map_or(model, |(_, id)| id)
    }

    /// Configuration naming `drafter` and this provider's reviewer for lld, the provider at
    /// `url`: `provider` goes into `[providers.NAME]`, `after` after the stage table (it must
    /// start with a table header).
    pub fn configure(
        &self,
        repo: &TestRepo,
        url: &str,
        provider: &str,
        drafter: &str,
        after: &str,
    ) {
        repo.config(&format!(
            "[providers.{}]\nbase_url = \"{}\"\nretry_delay = \"10ms\"\n{provider}\n[stages.lld]\ndrafter = \"{drafter}\"\nreviewer = \"{}\"\n\n{after}",
            self.name,
            (self.base_url)(url),
            self.reviewer
        ));
    }

    /// A repository whose lld drafter and reviewer are this provider's, at `url`.
    pub fn setup(&self, url: &str, provider: &str) -> (TestRepo, String) {
        self.setup_drafter(url, provider, self.drafter)
    }

    pub fn setup_drafter(&self, url: &str, provider: &str, drafter: &str) -> (TestRepo, String) {
        let repo = TestRepo::new();
        self.configure(&repo, url, provider, drafter, "");
        let issue = repo.default_issue();
        (repo, issue)
    }

    /// The lld stage, with the provider's key set.
    pub fn lld(&self, repo: &TestRepo, issue: &str) -> Run {
        let args = ["7", "--issue-file", issue, "--until", "lld"];
        match &self.key {
            Some(key) => repo.run_env(&[(key.var, key.value)], &args),
            None => repo.run(&args),
        }
    }

    /// A whole reply of `text` with `usage`, ending with `finish`.
    fn body(&self, text: &str, usage: Usage, finish: &str) -> String {
        (self.frames)(text, usage, finish).concat()
    }

    fn respond(&self, body: String) -> ResponseTemplate {
        let mut response =
            ResponseTemplate::new(200).insert_header("content-type", self.content_type);
        if self.content_type == "text/event-stream" {
            response = response.insert_header("cache-control", "no-cache");
        }
        for (name, value) in self.headers {
            response = response.insert_header(*name, *value);
        }
        response.set_body_raw(body, self.content_type)
    }

    pub fn reply(&self, text: &str) -> ResponseTemplate {
        self.respond(self.body(text, self.usage, self.stop))
    }

    /// Mount `draft` for the drafter's calls and `review` for the reviewer's.
    pub fn mount(&self, vendor: &Vendor, draft: ResponseTemplate, review: ResponseTemplate) {
        let drafter = (self.path)(Self::model_id(self.drafter_id));
        let reviewer = (self.path)(Self::model_id(self.reviewer_id));
        if drafter == reviewer {
            vendor.draft_and_review(&drafter, draft, review);
        } else {
            for (endpoint, response) in [(drafter, draft), (reviewer, review)] {
                vendor.mount(
                    Mock::given(method("POST"))
                        .and(path(endpoint))
                        .respond_with(response),
                );
            }
        }
    }

    /// Mount a design and an approval.
    pub fn approving(&self, vendor: &Vendor) {
        self.mount(vendor, self.reply(&design()), self.reply(&approval()));
    }

    /// The drafter's calls (to `drafter`, a `provider:model`) all get `response`.
    fn mount_drafter(&self, vendor: &Vendor, drafter: &str, response: ResponseTemplate) {
        vendor.mount(
            Mock::given(method("POST"))
                .and(path((self.path)(Self::model_id(drafter))))
                .respond_with(response),
        );
    }
}

/// Run `test` for every provider, each on its own, and fail naming those it failed for.
fn each(test: impl Fn(&Provider)) {
    each_of(providers().iter(), test);
}

fn each_of<'a>(providers: impl Iterator<Item = &'a Provider>, test: impl Fn(&Provider)) {
    let mut failed = Vec::new();
    let mut ran = 0;
    for provider in providers {
        ran += 1;
        eprintln!("--- {}", provider.name);
        if catch_unwind(AssertUnwindSafe(|| test(provider))).is_err() {
            failed.push(provider.name);
        }
    }
    assert!(ran > 0, "no provider to test");
    assert!(failed.is_empty(), "failed for {failed:?}");
}

#[track_caller]
fn assert_not_retried(run: &Run, vendor: &Vendor) {
    assert!(
        !run.stderr.contains("gave up after") && !run.stderr.contains("retrying"),
        "retried:\n{}",
        run.stderr
    );
    assert_eq!(vendor.requests().len(), 1, "must not be retried");
}

/// `secret` appears nowhere the user or a later reader could see it.
#[track_caller]
pub fn assert_never_shown(repo: &TestRepo, run: &Run, secret: &str) {
    assert!(
        !run.stderr.contains(secret),
        "stderr shows the key:\n{}",
        run.stderr
    );
    assert!(
        !run.stdout.contains(secret),
        "stdout shows the key:\n{}",
        run.stdout
    );
    let state = repo.state_files();
    for (path, text) in &state {
        assert!(!text.contains(secret), "{path} holds the key");
    }
    assert!(
        state.iter().any(|(path, _)| path.contains("/transcripts/")),
        "no transcript was kept, so none could be checked"
    );
    let history = repo.git(&["log", "--all", "-p"]);
    assert!(!history.contains(secret), "the history holds the key");
}

#[track_caller]
fn assert_no_design(repo: &TestRepo) {
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[track_caller]
fn assert_design_from_the_vendor(repo: &TestRepo) {
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("from the vendor")
    );
}

// ---------------------------------------------------------------------------------------
// A whole reply

#[test]
fn a_design_drafted_and_reviewed_records_models_tokens_and_cost() {
    each(|p| {
        let vendor = Vendor::start();
        let happy = &p.happy;
        p.mount(
            &vendor,
            p.respond(p.body(&design(), happy.draft, p.stop)),
            p.respond(p.body(&approval(), happy.review, p.stop)),
        );
        let (repo, issue) = p.setup(&vendor.url(), "");
        p.lld(&repo, &issue).expect_code(0);

        // Aliases resolved: the ids sent are the vendor's, and so are the ids recorded.
        assert_eq!(
            repo.trailer(BRANCH, "Orchestrate-Drafter").as_deref(),
            Some(p.drafter_id)
        );
        assert_eq!(
            repo.trailer(BRANCH, "Orchestrate-Reviewer").as_deref(),
            Some(p.reviewer_id)
        );
        assert_eq!(
            repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
            Some(happy.tokens)
        );
        assert_eq!(
            repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
            Some(happy.cost)
        );
        assert_design_from_the_vendor(&repo);

        let requests = vendor.requests();
        assert_eq!(requests.len(), 2);
        let prompts = repo.transcript_prompts();
        assert_eq!(prompts.len(), 2, "one transcript per call");
        for ((request, prompt), model) in requests
            .iter()
            .zip(&prompts)
            .zip([p.drafter_id, p.reviewer_id].map(Provider::model_id))
        {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(request.url.path(), (p.path)(model));
            assert_eq!(request.url.query(), p.query, "{}", request.url);
            assert_eq!((p.model_of)(request, &body), model);
            match &p.key {
                Some(key) => {
                    assert_eq!(
                        request.headers.get(key.header).unwrap(),
                        &format!("{}{}", key.scheme, key.value)
                    );
                    assert!(
                        !request.url.as_str().contains(key.value),
                        "the key goes in a header, never the URL"
                    );
                }
                None => {
                    for header in ["authorization", "x-api-key", "x-goog-api-key"] {
                        assert!(request.headers.get(header).is_none(), "{header} was sent");
                    }
                }
            }
            (p.check_request)(request, &body);
            match p.default_limit {
                Some(limit) => assert_eq!(body.pointer(p.limit_field), Some(&json!(limit))),
                None => {
                    let table = p.limit_field.split('/').nth(1).unwrap();
                    assert!(
                        body.get(table).is_none(),
                        "no output limit is configured for {}",
                        p.name
                    );
                }
            }
            assert_eq!(
                (p.prompt_of)(&body),
                *prompt,
                "the prompt sent is the one kept"
            );
            assert!(prompt.contains("Add a --verbose flag"), "{prompt}");
        }
        assert!(!prompts[0].contains(REVIEW_MARKER));
        assert!(prompts[1].contains(REVIEW_MARKER));
        assert!(
            prompts[1].contains("from the vendor"),
            "the reviewer sees the draft"
        );

        // status shows what was used.
        let status = repo.run(&["status", "7"]);
        assert!(status.stdout.contains(happy.tokens), "{}", status.stdout);
    });
}

#[test]
fn the_output_token_limit_is_sent_with_every_call() {
    each(|p| {
        let vendor = Vendor::start();
        p.approving(&vendor);
        let (repo, issue) = p.setup(&vendor.url(), "max_output_tokens = 500");
        p.lld(&repo, &issue).expect_code(0);
        let requests = vendor.requests();
        assert_eq!(requests.len(), 2);
        for request in &requests {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(body.pointer(p.limit_field), Some(&json!(500)));
            (p.check_request)(request, &body);
        }
    });
}

#[test]
fn replies_split_across_network_reads_are_put_back_together() {
    each(|p| {
        let text = format!("{}\nNaïve café — ✓ déjà vu\n", design());
        let draft = p.body(&text, p.usage, p.stop);
        let review = p.body(&approval(), p.usage, p.stop);
        let content_type = p.content_type;
        let server = RawServer::start(move |request, stream| {
            let body = if request.contains(REVIEW_MARKER) {
                &review
            } else {
                &draft
            };
            send_in_pieces(stream, content_type, body, 7);
        });
        let (repo, issue) = p.setup(&server.url(), "");
        p.lld(&repo, &issue).expect_code(0);
        assert!(
            repo.show(BRANCH, "docs/lld/7.md")
                .unwrap()
                .contains("Naïve café — ✓ déjà vu")
        );
        assert_eq!(
            repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
            Some(p.two_calls)
        );
    });
}

#[test]
fn a_missing_key_is_reported_before_any_request() {
    each_of(providers().iter().filter(|p| p.key.is_some()), |p| {
        let vendor = Vendor::start();
        p.approving(&vendor);
        let (repo, issue) = p.setup(&vendor.url(), "");
        let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
        run.expect_code(1);
        for line in p.missing_key {
            run.stderr_has(line);
        }
        assert!(vendor.requests().is_empty());
        assert_eq!(repo.branches(), ["main"]);
    });
}

// ---------------------------------------------------------------------------------------
// Errors, retried or not

#[test]
fn a_rate_limit_is_retried_when_the_vendor_says() {
    each_of(
        providers().iter().filter(|p| p.rate_limited.is_some()),
        |p| {
            let vendor = Vendor::start();
            vendor.mount(
                Mock::given(method("POST"))
                    .and(path((p.path)(Provider::model_id(p.drafter_id))))
                    .respond_with(p.rate_limited.clone().unwrap())
                    .up_to_n_times(1)
                    .with_priority(1),
            );
            p.approving(&vendor);
            let (repo, issue) = p.setup(&vendor.url(), "");
            p.lld(&repo, &issue)
                .expect_code(0)
                .stderr_has("attempt 1 of 4")
                .stderr_has("HTTP 429");
            assert_eq!(vendor.requests().len(), 3, "one retry, then the reviewer");
            assert_design_from_the_vendor(&repo);
        },
    );
}

#[test]
fn transient_errors_are_retried_up_to_max_retries_and_are_not_your_credentials() {
    each_of(
        providers().iter().filter(|p| !p.transient.is_empty()),
        |p| {
            for failure in &p.transient {
                let vendor = Vendor::start();
                p.mount_drafter(&vendor, p.drafter_id, failure.response.clone());
                let (repo, issue) = p.setup(&vendor.url(), failure.config);
                let run = p.lld(&repo, &issue);
                run.expect_code(1)
                    .stderr_has(&failure.says)
                    .stderr_has(&format!("gave up after {} attempts", failure.attempts));
                for hint in failure.hints {
                    run.stderr_has(hint);
                }
                assert_eq!(
                    vendor.requests().len(),
                    failure.attempts,
                    "{}",
                    failure.says
                );
                assert_eq!(
                    repo.subjects(BRANCH).len(),
                    2,
                    "only the brief was committed"
                );
            }
        },
    );
}

#[test]
fn client_errors_are_not_retried_and_say_what_to_fix() {
    each(|p| {
        assert!(!p.refused.is_empty());
        for failure in &p.refused {
            let drafter = failure.drafter.unwrap_or(p.drafter_id);
            let vendor = Vendor::start();
            p.mount_drafter(&vendor, drafter, failure.response.clone());
            let (repo, issue) = p.setup_drafter(
                &vendor.url(),
                failure.config,
                failure.drafter.unwrap_or(p.drafter),
            );
            let run = p.lld(&repo, &issue);
            run.expect_code(1).stderr_has(&failure.says);
            for hint in failure.hints {
                run.stderr_has(hint);
            }
            for text in failure.not_said {
                assert!(!run.stderr.contains(text), "{text:?} said:\n{}", run.stderr);
            }
            assert_not_retried(&run, &vendor);
            let request = &vendor.requests()[0];
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!((p.model_of)(request, &body), Provider::model_id(drafter));
            if let Some(key) = &p.key {
                assert_never_shown(&repo, &run, key.value);
            }
            assert_eq!(repo.subjects(BRANCH).len(), 2, "only the brief");
        }
    });
}

// ---------------------------------------------------------------------------------------
// Connection faults

#[test]
fn a_refused_connection_is_retried_then_named_with_its_base_url() {
    each(|p| {
        let port = closed_port();
        let root = format!("http://127.0.0.1:{port}");
        let (repo, issue) = p.setup(&root, p.retry_once);
        let mut url = format!("{root}{}", (p.path)(Provider::model_id(p.drafter_id)));
        if let Some(query) = p.query {
            url = format!("{url}?{query}");
        }
        p.lld(&repo, &issue)
            .expect_code(1)
            .stderr_has(&format!(
                "could not reach {} at {url}: nothing accepted a connection at 127.0.0.1",
                p.name
            ))
            .stderr_has(&format!(
                "check that {url} is right and the server is running ([providers.{}] base_url)",
                p.name
            ))
            .stderr_has("gave up after 2 attempts");
    });
}

#[test]
fn a_connection_reset_mid_stream_is_retried_and_then_reported() {
    each(|p| {
        let connections = Arc::new(AtomicU32::new(0));
        let seen = connections.clone();
        let head = (p.frames)(&design(), p.usage, p.stop)[..p.head].concat();
        let content_type = p.content_type;
        let server = RawServer::start(move |_request, stream| {
            seen.fetch_add(1, Ordering::SeqCst);
            start_stream(stream, content_type, &head);
            // Close without finishing the chunked body: the peer sees the connection drop.
            let _ = stream.shutdown(std::net::Shutdown::Both);
        });
        let (repo, issue) = p.setup(&server.url(), p.retry_once);
        p.lld(&repo, &issue)
            .expect_code(1)
            .stderr_has(&format!("the reply from {} broke off", p.drafter_id))
            .stderr_has("gave up after 2 attempts");
        assert_eq!(connections.load(Ordering::SeqCst), 2);
        assert_no_design(&repo);
    });
}

#[test]
fn a_silent_stream_hits_the_idle_timeout() {
    each(|p| {
        let head = (p.frames)(&design(), p.usage, p.stop)[..p.head].concat();
        let content_type = p.content_type;
        let server = RawServer::start(move |_request, stream| {
            start_stream(stream, content_type, &head);
            std::thread::sleep(Duration::from_secs(5));
        });
        let (repo, issue) = p.setup(&server.url(), "idle_timeout = \"1s\"\nmax_retries = 0");
        p.lld(&repo, &issue).expect_code(1).stderr_has(&format!(
            "{} sent nothing for 1s; the stream was given up",
            p.drafter_id
        ));
    });
}

#[test]
fn a_server_that_never_answers_hits_the_idle_timeout() {
    // No status line, no headers: nothing at all comes back for longer than idle_timeout,
    // which is "no bytes from the server for this long: the stream is dead" (defaults.toml).
    each(|p| {
        let server = RawServer::start(|_request, _stream| {
            std::thread::sleep(Duration::from_secs(5));
        });
        let (repo, issue) = p.setup(
            &server.url(),
            "idle_timeout = \"1s\"\ntimeout = \"4s\"\nmax_retries = 0",
        );
        p.lld(&repo, &issue).expect_code(1).stderr_has(&format!(
            "{} sent nothing for 1s; the stream was given up",
            p.drafter_id
        ));
    });
}

// ---------------------------------------------------------------------------------------
// How a reply ends

#[test]
fn a_stream_ended_before_its_last_event_broke_off_and_is_retried() {
    each(|p| {
        let vendor = Vendor::start();
        let frames = (p.frames)(&design(), p.usage, p.stop);
        let cut = frames[..frames.len() - p.tail].concat();
        p.mount_drafter(&vendor, p.drafter_id, p.respond(cut));
        let (repo, issue) = p.setup(&vendor.url(), p.retry_once);
        p.lld(&repo, &issue)
            .expect_code(1)
            .stderr_has(&format!(
                "the reply from {} broke off: the stream ended before {}",
                p.drafter_id, p.unfinished
            ))
            .stderr_has("gave up after 2 attempts");
        assert_eq!(
            vendor.requests().len(),
            2,
            "a dropped stream is transient: retried once"
        );
        assert_no_design(&repo);
    });
}

#[test]
fn malformed_json_is_not_its_documented_format_and_not_retried() {
    each(|p| {
        let vendor = Vendor::start();
        p.mount_drafter(&vendor, p.drafter_id, p.respond(p.malformed.into()));
        let (repo, issue) = p.setup(&vendor.url(), "");
        let run = p.lld(&repo, &issue);
        run.expect_code(1).stderr_has(&format!(
            "{} sent something that is not its documented format",
            p.drafter_id
        ));
        assert_not_retried(&run, &vendor);
    });
}

#[test]
fn an_empty_reply_is_not_retried() {
    each(|p| {
        let vendor = Vendor::start();
        p.mount_drafter(&vendor, p.drafter_id, p.respond(p.empty.concat()));
        let (repo, issue) = p.setup(&vendor.url(), "");
        let run = p.lld(&repo, &issue);
        run.expect_code(1)
            .stderr_has(&format!("{} replied with nothing", p.drafter_id));
        assert_not_retried(&run, &vendor);
    });
}

#[test]
fn a_reply_cut_off_at_the_output_limit_is_not_retried_reviewed_or_committed() {
    each(|p| {
        let vendor = Vendor::start();
        let cut_off = p.body("# Design\n\n## Context\nHalf a sen", p.usage, p.limit);
        p.mount(&vendor, p.respond(cut_off), p.reply(&approval()));
        let (repo, issue) = p.setup(&vendor.url(), "max_output_tokens = 500");
        let run = p.lld(&repo, &issue);
        run.expect_code(1)
            .stderr_has(&format!(
                "the reply from {} was cut off at the output-token limit (500 tokens); it was not used",
                p.drafter_id
            ))
            .stderr_has(&format!("[providers.{}] max_output_tokens", p.name));
        assert_not_retried(&run, &vendor);
        assert_eq!(vendor.bodies()[0].pointer(p.limit_field), Some(&json!(500)));
        assert_no_design(&repo);
    });
}

#[test]
fn a_truncated_review_keeps_the_paid_draft_and_counts_its_tokens() {
    each(|p| {
        let vendor = Vendor::start();
        let cut_review = p.body("{\"verdict\": \"APPR", p.usage, p.limit);
        p.mount(&vendor, p.reply(&design()), p.respond(cut_review));
        let (repo, issue) = p.setup(&vendor.url(), "");
        p.lld(&repo, &issue)
            .expect_code(1)
            .stderr_has(&format!("the reply from {} was cut off", p.reviewer_id));
        assert_eq!(vendor.requests().len(), 2, "the review was not retried");
        // The draft was paid for: it is committed, as blocked, with both calls' tokens.
        assert_eq!(
            repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
            Some("blocked")
        );
        assert_eq!(
            repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
            Some(p.two_calls)
        );
        assert_design_from_the_vendor(&repo);
    });
}

#[test]
fn a_refusal_is_not_retried_or_committed() {
    each_of(providers().iter().filter(|p| p.refusal.is_some()), |p| {
        let (finish, reason) = p.refusal.unwrap();
        let vendor = Vendor::start();
        let refused = p.body("# Design\n\nThe widget", p.usage, finish);
        p.mount_drafter(&vendor, p.drafter_id, p.respond(refused));
        let (repo, issue) = p.setup(&vendor.url(), "");
        let run = p.lld(&repo, &issue);
        run.expect_code(1)
            .stderr_has(&format!("{} declined to answer", p.drafter_id))
            .stderr_has(reason);
        assert_not_retried(&run, &vendor);
        assert_no_design(&repo);
    });
}
