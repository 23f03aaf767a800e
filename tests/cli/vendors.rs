//! Loopback servers that answer as the model vendors document: Anthropic Messages, Gemini
//! streamGenerateContent, OpenAI chat completions and Ollama /api/chat, streaming included,
//! with their error bodies and headers. wiremock serves whole responses; [`RawServer`] plays
//! what wiremock cannot (a connection reset mid-stream, a stream that goes silent).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::harness::complete_doc;

/// What only the reviewer prompts say (the built-in review templates).
pub const REVIEW_MARKER: &str = "End your reply with a JSON object";

/// A wiremock server on loopback, with the runtime it needs.
pub struct Vendor {
    rt: tokio::runtime::Runtime,
    pub server: MockServer,
}

impl Vendor {
    pub fn start() -> Vendor {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(MockServer::start());
        Vendor { rt, server }
    }

    pub fn url(&self) -> String {
        self.server.uri()
    }

    pub fn mount(&self, mock: Mock) {
        self.rt.block_on(mock.mount(&self.server));
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
    }

    /// Request bodies as JSON.
    pub fn bodies(&self) -> Vec<Value> {
        self.requests()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }

    /// Mount a drafter and a reviewer on one endpoint: requests carrying the review prompt
    /// get `review`, all others `draft`.
    pub fn draft_and_review(
        &self,
        endpoint: &str,
        draft: ResponseTemplate,
        review: ResponseTemplate,
    ) {
        self.mount(
            Mock::given(method("POST"))
                .and(path(endpoint))
                .and(body_string_contains(REVIEW_MARKER))
                .respond_with(review)
                .with_priority(1),
        );
        self.mount(
            Mock::given(method("POST"))
                .and(path(endpoint))
                .respond_with(draft)
                .with_priority(2),
        );
    }
}

/// A server-sent events body from `(event, data)` pairs (`event` empty: no event line).
pub fn sse(events: &[(&str, Value)]) -> String {
    let mut body = String::new();
    for (event, data) in events {
        if !event.is_empty() {
            body.push_str(&format!("event: {event}\n"));
        }
        body.push_str(&format!("data: {data}\n\n"));
    }
    body
}

pub fn sse_response(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .insert_header("cache-control", "no-cache")
        .set_body_raw(body, "text/event-stream")
}

pub fn json_error(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// Each event of a server-sent events stream on its own, as the frames a stream is cut at.
pub fn sse_frames(events: &[(&str, Value)]) -> Vec<String> {
    events
        .iter()
        .map(|e| sse(std::slice::from_ref(e)))
        .collect()
}

/// The tokens of one call, which each vendor reports in its own fields.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// Prompt tokens in all, those read from the vendor's prompt cache included.
    pub prompt: u64,
    /// Of the prompt tokens, those read from the cache.
    pub cached: u64,
    /// Output tokens.
    pub output: u64,
    /// Thinking tokens, billed as output (Gemini's `thoughtsTokenCount`).
    pub thoughts: u64,
}

impl Usage {
    pub const fn new(prompt: u64, output: u64) -> Usage {
        Usage {
            prompt,
            cached: 0,
            output,
            thoughts: 0,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Anthropic Messages API

/// Usage as Anthropic reports it in `message_start` / `message_delta`.
#[derive(Clone, Copy, Debug)]
pub struct AnthropicUsage {
    pub input: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub output: u64,
}

impl From<Usage> for AnthropicUsage {
    /// Anthropic counts cached prompt tokens apart from `input_tokens`.
    fn from(usage: Usage) -> AnthropicUsage {
        AnthropicUsage {
            input: usage.prompt - usage.cached,
            cache_read: usage.cached,
            cache_write: 0,
            output: usage.output + usage.thoughts,
        }
    }
}

pub const USAGE: AnthropicUsage = AnthropicUsage {
    input: 1200,
    cache_read: 0,
    cache_write: 0,
    output: 300,
};

/// The events of a streamed message, split into a few text deltas.
pub fn anthropic_events(
    text: &str,
    usage: AnthropicUsage,
    stop_reason: &str,
) -> Vec<(&'static str, Value)> {
    let mut events = vec![
        (
            "message_start",
            json!({"type": "message_start", "message": {
                "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
                "content": [], "model": "claude-opus-4-5-20251101", "stop_reason": null,
                "stop_sequence": null,
                "usage": {"input_tokens": usage.input, "cache_creation_input_tokens": usage.cache_write,
                          "cache_read_input_tokens": usage.cache_read, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ("ping", json!({"type": "ping"})),
    ];
    for piece in chunks(text) {
        events.push((
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
        ));
    }
    events.push((
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push((
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null},
               "usage": {"output_tokens": usage.output}}),
    ));
    events.push(("message_stop", json!({"type": "message_stop"})));
    events
}

/// Where Anthropic's Messages API takes calls.
pub const ANTHROPIC_PATH: &str = "/v1/messages";

pub fn anthropic_reply(text: &str) -> ResponseTemplate {
    sse_response(sse(&anthropic_events(text, USAGE, "end_turn")))
        .insert_header("request-id", "req_018EeWyXxfu5pfWkrYcMdjWG")
}

pub fn anthropic_error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    json_error(
        status,
        json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}),
    )
}

/// A server answering as Anthropic does: a design to drafters, an approval to reviewers.
pub fn approving_anthropic() -> Vendor {
    let vendor = Vendor::start();
    vendor.draft_and_review(
        ANTHROPIC_PATH,
        anthropic_reply(&design()),
        anthropic_reply(&approval()),
    );
    vendor
}

// ---------------------------------------------------------------------------------------
// Gemini

/// `usageMetadata` as Gemini reports it on the last chunk of a stream.
pub fn gemini_usage(usage: Usage) -> Value {
    let mut metadata = json!({
        "promptTokenCount": usage.prompt,
        "candidatesTokenCount": usage.output,
        "totalTokenCount": usage.prompt + usage.output + usage.thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": usage.prompt}],
    });
    if usage.cached > 0 {
        metadata["cachedContentTokenCount"] = json!(usage.cached);
        metadata["cacheTokensDetails"] = json!([{"modality": "TEXT", "tokenCount": usage.cached}]);
    }
    if usage.thoughts > 0 {
        metadata["thoughtsTokenCount"] = json!(usage.thoughts);
    }
    metadata
}

/// One `GenerateContentResponse` chunk.
pub fn gemini_chunk(parts: Value, finish: Option<&str>, usage: Value) -> Value {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(reason) = finish {
        candidate["finishReason"] = json!(reason);
    }
    json!({"candidates": [candidate], "usageMetadata": usage,
           "modelVersion": "gemini-3-pro-preview", "responseId": "mAitaLmkHPPlz7IPvtfUqQ4"})
}

/// A streamed reply: an optional thought summary first, then the text in a few pieces, the
/// last carrying `finish` and the full usage (earlier chunks carry the prompt count only, as
/// Gemini's running totals do). A candidate stopped for `SAFETY` carries its ratings.
pub fn gemini_events(
    thought: Option<&str>,
    text: &str,
    usage: Usage,
    finish: &str,
) -> Vec<(&'static str, Value)> {
    let running = json!({"promptTokenCount": usage.prompt, "totalTokenCount": usage.prompt});
    let mut events = Vec::new();
    if let Some(thought) = thought {
        events.push((
            "",
            gemini_chunk(
                json!([{"text": thought, "thought": true}]),
                None,
                running.clone(),
            ),
        ));
    }
    let pieces = chunks(text);
    let last = pieces.len() - 1;
    for (i, piece) in pieces.iter().enumerate() {
        let mut chunk = if i == last {
            gemini_chunk(json!([{"text": piece}]), Some(finish), gemini_usage(usage))
        } else {
            gemini_chunk(json!([{"text": piece}]), None, running.clone())
        };
        if i == last && finish == "SAFETY" {
            chunk["candidates"][0]["safetyRatings"] = json!([
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}
            ]);
        }
        events.push(("", chunk));
    }
    events
}

pub fn gemini_reply(text: &str) -> ResponseTemplate {
    sse_response(sse(&gemini_events(
        None,
        text,
        Usage::new(1000, 250),
        "STOP",
    )))
}

/// A Gemini error body, with the `details` the real API adds.
pub fn gemini_error_body(status: u16, code_name: &str, message: &str) -> Value {
    json!({"error": {"code": status, "message": message, "status": code_name,
                     "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                  "reason": "REASON", "domain": "googleapis.com",
                                  "metadata": {"service": "generativelanguage.googleapis.com"}}]}})
}

pub fn gemini_error(status: u16, code_name: &str, message: &str) -> ResponseTemplate {
    json_error(status, gemini_error_body(status, code_name, message))
}

// ---------------------------------------------------------------------------------------
// OpenAI chat completions

pub fn openai_events(
    text: &str,
    prompt_tokens: u64,
    output_tokens: u64,
    cached: u64,
    finish: &str,
) -> Vec<(&'static str, Value)> {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion.chunk",
               "created": 1741569952, "model": "gpt-5-2025-08-07", "system_fingerprint": "fp_eb9dce56a8",
               "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
               "usage": null})
    };
    let mut events = vec![(
        "",
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
    )];
    for piece in chunks(text) {
        events.push(("", chunk(json!({"content": piece}), Value::Null)));
    }
    events.push(("", chunk(json!({}), json!(finish))));
    events.push((
        "",
        json!({"id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion.chunk",
               "created": 1741569952, "model": "gpt-5-2025-08-07", "choices": [],
               "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": output_tokens,
                         "total_tokens": prompt_tokens + output_tokens,
                         "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                         "completion_tokens_details": {"reasoning_tokens": 0}}}),
    ));
    events
}

/// An OpenAI stream: the chunks, then `data: [DONE]`.
pub fn openai_body(events: &[(&str, Value)]) -> String {
    let mut body = sse(events);
    body.push_str("data: [DONE]\n\n");
    body
}

pub fn openai_reply(text: &str) -> ResponseTemplate {
    sse_response(openai_body(&openai_events(text, 900, 200, 0, "stop")))
}

pub fn openai_error(status: u16, kind: &str, code: &str, message: &str) -> ResponseTemplate {
    json_error(
        status,
        json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
    )
}

// ---------------------------------------------------------------------------------------
// Ollama

/// The lines of an `/api/chat` stream: the text in a few pieces, then the `done` line with
/// the token counts.
pub fn ollama_frames(
    text: &str,
    prompt_tokens: u64,
    output_tokens: u64,
    done_reason: &str,
) -> Vec<String> {
    let mut lines: Vec<String> = chunks(text)
        .into_iter()
        .map(|piece| {
            json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00",
                   "message": {"role": "assistant", "content": piece}, "done": false})
            .to_string()
                + "\n"
        })
        .collect();
    lines.push(
        json!({"model": "llama3.2", "created_at": "2023-08-04T19:22:45.499127Z",
               "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": done_reason,
               "total_duration": 4883583458u64, "load_duration": 1334875, "prompt_eval_count": prompt_tokens,
               "prompt_eval_duration": 342546000, "eval_count": output_tokens, "eval_duration": 4535599000u64})
        .to_string()
            + "\n",
    );
    lines
}

pub fn ollama_lines(
    text: &str,
    prompt_tokens: u64,
    output_tokens: u64,
    done_reason: &str,
) -> String {
    ollama_frames(text, prompt_tokens, output_tokens, done_reason).concat()
}

pub fn lines_response(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/x-ndjson")
        .set_body_raw(body, "application/x-ndjson")
}

pub fn ollama_reply(text: &str) -> ResponseTemplate {
    lines_response(ollama_lines(text, 700, 150, "stop"))
}

// ---------------------------------------------------------------------------------------
// Shared

/// Split text into a few pieces, as a stream delivers it.
fn chunks(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    let size = chars.len().div_ceil(3).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// A complete design, a revision, and a verdict, as the vendors would stream them.
pub fn design() -> String {
    complete_doc("from the vendor")
}

pub fn approval() -> String {
    crate::harness::approved().to_string()
}

/// A plain TCP server answering each connection with `respond` (on its own thread).
pub struct RawServer {
    pub port: u16,
}

impl RawServer {
    /// `respond` gets the request text and the stream; it writes what it likes.
    pub fn start<F>(respond: F) -> RawServer
    where
        F: Fn(&str, &mut std::net::TcpStream) + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let request = read_request(&mut stream);
                respond(&request, &mut stream);
            }
        });
        RawServer { port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Read one HTTP request (headers and a Content-Length body).
fn read_request(stream: &mut std::net::TcpStream) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&data).into_owned()
}

/// Start a chunked response of `content_type` and send `body` as one chunk, leaving it open.
pub fn start_stream(stream: &mut std::net::TcpStream, content_type: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(format!("{:x}\r\n{body}\r\n", body.len()).as_bytes());
    let _ = stream.flush();
}

/// Answer a `RawServer` request with `body` sent as a chunked response in pieces of `piece`
/// bytes, each flushed on its own, so that lines, events and characters arrive split.
pub fn send_in_pieces(
    stream: &mut std::net::TcpStream,
    content_type: &str,
    body: &str,
    piece: usize,
) {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    for bytes in body.as_bytes().chunks(piece) {
        let _ = stream.write_all(format!("{:x}\r\n", bytes.len()).as_bytes());
        let _ = stream.write_all(bytes);
        let _ = stream.write_all(b"\r\n");
        let _ = stream.flush();
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let _ = stream.flush();
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
