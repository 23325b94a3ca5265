//! A non-streamed `/v1` answer: the upstream's stream decoded by async-openai and put
//! together into one `chat.completion`, with its text, a refusal and the tool calls the
//! model made (the client runs them; this server runs none).

use std::{collections::BTreeMap, time::Duration};

use async_openai::types::chat::{ChatCompletionMessageToolCallChunk, FinishReason};

use super::{
    super::bodies::{
        ChatCompletion, ChatCompletionMessage, ChatCompletionUsage, FunctionCall, ToolCall,
        ToolType,
    },
    relay::Ledger,
};
use crate::{
    domain::EntryStatus,
    drain::Held,
    error::AppError,
    llm::{Chunk, Chunks, UpstreamError},
};

/// A decoded upstream stream, collected into one answer.
pub(super) struct Collected {
    pub(super) chunks: Chunks,
    /// Open until the answer is collected; cut off at the end of a shutdown's grace.
    pub(super) held: Held,
    pub(super) ledger: Ledger,
    /// The model name the client asked for, reported back.
    pub(super) exposed: String,
    pub(super) timeout: Duration,
    /// What the chunks have said so far.
    pub(super) answer: Answer,
}

/// An answer put together from its chunks.
#[derive(Default)]
pub(super) struct Answer {
    content: String,
    refusal: String,
    /// By the index the chunks give each call: a call's pieces come in order, and the
    /// pieces of parallel calls may come interleaved.
    tool_calls: BTreeMap<u32, ToolCall>,
}

impl Answer {
    fn add_tool_call(&mut self, piece: &ChatCompletionMessageToolCallChunk) {
        let call = self
            .tool_calls
            .entry(piece.index)
            .or_insert_with(|| ToolCall {
                id: String::new(),
                kind: ToolType::Function,
                function: FunctionCall {
                    name: String::new(),
                    arguments: String::new(),
                },
            });
        // The id and the name come whole in a call's first piece (some servers repeat
        // them later); the arguments come a few characters at a time.
        if let Some(id) = &piece.id
            && call.id.is_empty()
        {
            call.id.clone_from(id);
        }
        if let Some(function) = &piece.function {
            if let Some(name) = &function.name
                && call.function.name.is_empty()
            {
                call.function.name.clone_from(name);
            }
            if let Some(arguments) = &function.arguments {
                call.function.arguments.push_str(arguments);
            }
        }
    }

    fn into_message(self) -> ChatCompletionMessage {
        let tool_calls: Vec<ToolCall> = self.tool_calls.into_values().collect();
        let refusal = (!self.refusal.is_empty()).then_some(self.refusal);
        // As OpenAI answers: `null` content when the model only calls tools or refuses.
        let content = (!self.content.is_empty() || (tool_calls.is_empty() && refusal.is_none()))
            .then_some(self.content);
        ChatCompletionMessage::assistant(content, refusal, tool_calls)
    }
}

enum Next {
    Chunk(Box<Chunk>),
    Done,
    Failed(UpstreamError),
    /// The server is shutting down and the grace period is over.
    CutOff,
}

impl Collected {
    async fn next(&mut self) -> Next {
        let next = tokio::select! {
            next = tokio::time::timeout(self.timeout, self.chunks.next()) => next,
            () = &mut self.held => return Next::CutOff,
        };
        match next {
            Ok(Some(Ok(chunk))) => {
                if let Some(usage) = &chunk.usage {
                    self.ledger.usage = Some((
                        i64::from(usage.prompt_tokens),
                        i64::from(usage.completion_tokens),
                    ));
                }
                for choice in &chunk.choices {
                    let delta = &choice.delta;
                    if let Some(text) = &delta.content {
                        self.answer.content.push_str(text);
                        self.ledger.text.push_str(text);
                    }
                    if let Some(text) = &delta.refusal {
                        self.answer.refusal.push_str(text);
                        self.ledger.text.push_str(text);
                    }
                    for piece in delta.tool_calls.iter().flatten() {
                        self.answer.add_tool_call(piece);
                        if let Some(function) = &piece.function {
                            let name = function.name.as_deref().unwrap_or_default();
                            let arguments = function.arguments.as_deref().unwrap_or_default();
                            self.ledger.text.push_str(name);
                            self.ledger.text.push_str(arguments);
                        }
                    }
                }
                Next::Chunk(Box::new(chunk))
            }
            Ok(Some(Err(error))) => Next::Failed(error),
            Ok(None) => Next::Done,
            Err(_) => Next::Failed(UpstreamError::Timeout),
        }
    }

    /// The whole answer as one `chat.completion` object.
    pub(super) async fn collect(mut self) -> Result<ChatCompletion, AppError> {
        let mut id = String::new();
        let mut created = 0;
        let mut finish: Option<FinishReason> = None;
        loop {
            match self.next().await {
                Next::Chunk(chunk) => {
                    id = chunk.id;
                    created = chunk.created;
                    if let Some(reason) = chunk.choices.iter().find_map(|c| c.finish_reason) {
                        finish = Some(reason);
                    }
                }
                Next::Done => break,
                Next::Failed(error) => {
                    self.ledger.settle(EntryStatus::Interrupted).await;
                    return Err(AppError::Upstream(error));
                }
                Next::CutOff => {
                    self.ledger.settle(EntryStatus::Interrupted).await;
                    return Err(AppError::ShuttingDown);
                }
            }
        }
        self.ledger.settle(EntryStatus::Complete).await;
        // The provider's figures, as async-openai read them (`u32`), come back whole.
        let tokens = |count: i64| u32::try_from(count).unwrap_or(u32::MAX);
        let usage = self.ledger.usage.map(|(prompt, completion)| {
            ChatCompletionUsage::new(tokens(prompt), tokens(completion))
        });
        Ok(ChatCompletion::new(
            id,
            i64::from(created),
            self.exposed,
            std::mem::take(&mut self.answer).into_message(),
            finish.unwrap_or(FinishReason::Stop),
            usage,
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn pieces(pieces: Value) -> Vec<ChatCompletionMessageToolCallChunk> {
        serde_json::from_value(pieces).unwrap()
    }

    #[test]
    fn parallel_tool_calls_are_put_together_from_interleaved_pieces() {
        let mut answer = Answer::default();
        for piece in pieces(json!([
            {"index": 0, "id": "call_a", "type": "function", "function": {"name": "weather", "arguments": ""}},
            {"index": 1, "id": "call_b", "type": "function", "function": {"name": "time", "arguments": "{\"tz\""}},
            {"index": 0, "function": {"arguments": "{\"city\":"}},
            {"index": 1, "function": {"arguments": ":\"KST\"}"}},
            {"index": 0, "id": "call_a", "function": {"name": "weather", "arguments": "\"Seoul\"}"}},
        ])) {
            answer.add_tool_call(&piece);
        }
        let message = serde_json::to_value(answer.into_message()).unwrap();
        assert_eq!(
            message,
            json!({
                "role": "assistant",
                "content": null,
                "refusal": null,
                "tool_calls": [
                    {"id": "call_a", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Seoul\"}"}},
                    {"id": "call_b", "type": "function", "function": {"name": "time", "arguments": "{\"tz\":\"KST\"}"}},
                ],
            })
        );
    }

    #[test]
    fn an_empty_answer_is_empty_text_and_a_refusal_has_null_content() {
        let empty = serde_json::to_value(Answer::default().into_message()).unwrap();
        assert_eq!(empty["content"], "");
        let refused = Answer {
            refusal: "I can't help with that.".into(),
            ..Answer::default()
        };
        let refused = serde_json::to_value(refused.into_message()).unwrap();
        assert_eq!(refused["content"], Value::Null);
        assert_eq!(refused["refusal"], "I can't help with that.");
    }
}
