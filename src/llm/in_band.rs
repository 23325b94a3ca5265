//! Errors a model server reports inside a stream that began with `200 OK`. Each server
//! has its own shape, and none of them is a normal chunk; both the page path and the
//! `/v1` relay read every event through [`in_band_error`] before anything else.

use serde::Deserialize;
use serde_json::Value;

/// An error reported in the stream, as far as it says what went wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct InBandError {
    /// The server's `type` or `code`, when it gave one.
    pub kind: Option<String>,
    /// The server's message: for the log only (it may quote anything).
    pub message: String,
}

/// The shapes of an in-band error, by server:
/// - OpenAI, Ollama, llama.cpp, LiteLLM: `{"error": {"message", "type", "code", …}}`
///   (llama.cpp and some proxies also send `{"error": "text"}`);
/// - vLLM: `{"object": "error", "message", "type", "code"}`;
/// - OpenRouter, mid-stream: a normal-looking chunk with an `error` object and a choice
///   whose `finish_reason` is `"error"`.
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    r#type: Option<Value>,
    #[serde(default)]
    choices: Vec<ProbeChoice>,
}

#[derive(Deserialize)]
struct ProbeChoice {
    #[serde(default)]
    finish_reason: Option<Value>,
}

/// Every shape above carries the JSON string `"error"`, as a key or as a value, and a
/// normal chunk almost never does (a model's text is escaped inside its string), so
/// one substring search passes nearly every event on; only those that contain it are
/// decoded.
static NEEDLE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"error\""));

/// The error an event reports, if it reports one. An event that names `"error"` but is
/// not JSON is reported as an error too (`message` says so): it is no chunk either.
pub fn in_band_error(event: &[u8]) -> Option<InBandError> {
    NEEDLE.find(event)?;
    let probe = match serde_json::from_slice::<Probe>(event) {
        Ok(probe) => probe,
        Err(_) => {
            return Some(InBandError {
                kind: None,
                message: "an unreadable event that mentions an error".into(),
            });
        }
    };
    let error = probe.error.filter(|error| !error.is_null());
    let vllm = probe.object.as_deref() == Some("error");
    let finished_in_error = probe
        .choices
        .iter()
        .any(|choice| choice.finish_reason.as_ref().and_then(Value::as_str) == Some("error"));
    if error.is_none() && !vllm && !finished_in_error {
        return None;
    }
    let text = |value: Option<&Value>| match value {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let (kind, message) = match &error {
        Some(Value::String(message)) => (None, Some(message.clone())),
        Some(object) => (
            text(object.get("type")).or_else(|| text(object.get("code"))),
            text(object.get("message")),
        ),
        None => (text(probe.r#type.as_ref()), text(probe.message.as_ref())),
    };
    Some(InBandError {
        kind,
        message: message.unwrap_or_else(|| "no message".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(event: &str) -> Option<InBandError> {
        in_band_error(event.as_bytes())
    }

    #[test]
    fn the_error_shapes_of_the_common_servers_are_recognised() {
        let shapes = [
            // OpenAI, Ollama, LiteLLM
            r#"{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"#,
            // llama.cpp server
            r#"{"error":{"code":500,"message":"slot unavailable","type":"server_error"}}"#,
            r#"{"error":"context overflow"}"#,
            // vLLM
            r#"{"object":"error","message":"out of KV cache","type":"InternalServerError","param":null,"code":500}"#,
            // OpenRouter, mid-stream
            r#"{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","error":{"code":502,"message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}"#,
        ];
        for shape in shapes {
            let error = found(shape).unwrap_or_else(|| panic!("not recognised: {shape}"));
            assert_ne!(error.message, "no message", "{shape}");
        }
        assert_eq!(
            found(r#"{"object":"error","message":"m","type":"BadRequestError","code":400}"#),
            Some(InBandError {
                kind: Some("BadRequestError".into()),
                message: "m".into()
            })
        );
        // A finish reason of "error" alone is enough.
        assert!(found(r#"{"choices":[{"index":0,"delta":{},"finish_reason":"error"}]}"#).is_some());
    }

    #[test]
    fn normal_chunks_are_not_errors_even_when_they_say_error() {
        for chunk in [
            r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"error"},"finish_reason":null}]}"#,
            r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"say \"error\""},"finish_reason":null}]}"#,
            r#"{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"error":null}"#,
            r#"{"id":"c","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#,
            // A call of the client's tool, even one named "error" with an error in its
            // arguments, and the finish reason that ends a tool call.
            r#"{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"error","arguments":""}}]},"finish_reason":null}]}"#,
            r#"{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"error\":\"x\"}"}}]},"finish_reason":null}]}"#,
            r#"{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        ] {
            assert_eq!(found(chunk), None, "{chunk}");
        }
    }

    #[test]
    fn an_unreadable_event_that_mentions_an_error_is_one() {
        assert!(found(r#"{"error": {"message": "cut"#).is_some());
    }
}
