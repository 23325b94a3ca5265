//! The `/v1` API's path to the model: the same request, retries, timeouts and error
//! mapping as [`LlmClient::stream`], but the answer comes back as the server's own
//! server-sent events, split and not decoded. async-openai decodes every chunk into typed
//! structs, which the pages need (they keep the text) and a relay does not: decoding and
//! encoding again was most of what a relayed stream cost.

use std::pin::Pin;

use async_openai::{
    error::{ApiError, ApiErrorResponse, OpenAIError, WrappedError},
    middleware::HttpRequestFactory,
    types::chat::CreateChatCompletionRequest,
};
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use tower::ServiceExt;

use super::{LlmClient, UpstreamError};

impl LlmClient {
    /// Starts a streamed chat completion and returns its events undecoded.
    pub async fn stream_raw(
        &self,
        mut request: CreateChatCompletionRequest,
        max_output_tokens: u32,
    ) -> Result<RawEvents, UpstreamError> {
        self.prepare(&mut request, max_output_tokens);
        let body = Bytes::from(serde_json::to_vec(&request).map_err(|_| UpstreamError::Malformed)?);
        let http = self.retry.http.clone();
        let url = self.completions_url.clone();
        let authorization = self.authorization.clone();
        // Rebuilt for each try, as async-openai's own requests are.
        let factory = HttpRequestFactory::new(move || {
            let mut request = http
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            if let Some(authorization) = &authorization {
                request = request.header(reqwest::header::AUTHORIZATION, authorization.clone());
            }
            let built = request.build().map_err(OpenAIError::Reqwest);
            async move { built }
        });
        let response = self.retry.clone().oneshot(factory).await?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        Ok(RawEvents {
            body: Box::pin(response.bytes_stream()),
            buffer: BytesMut::new(),
            data: Vec::new(),
        })
    }
}

/// A non-success response, read and classified the way async-openai's are.
async fn refusal(response: reqwest::Response) -> UpstreamError {
    let status = response.status();
    let bytes = match response.bytes().await {
        Ok(bytes) => bytes,
        Err(error) => return OpenAIError::Reqwest(error).into(),
    };
    let api_error = serde_json::from_slice::<WrappedError>(&bytes)
        .map(|wrapped| wrapped.error)
        .unwrap_or_else(|_| ApiError {
            message: String::from_utf8_lossy(&bytes).into_owned(),
            ..ApiError::default()
        });
    OpenAIError::ApiError(ApiErrorResponse {
        status_code: status,
        api_error,
    })
    .into()
}

/// A streamed answer's events, each the text of its `data:` field(s).
pub struct RawEvents {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    /// Bytes received and not yet split into lines.
    buffer: BytesMut,
    /// The `data:` lines of the event being read.
    data: Vec<Bytes>,
}

impl RawEvents {
    /// The events completed by the next read from the server (at least one), or `None`
    /// at the end of the body. An event cut off by the end is dropped, as a browser's
    /// `EventSource` drops it.
    pub async fn next(&mut self) -> Option<Result<Vec<Bytes>, UpstreamError>> {
        loop {
            let events = self.split();
            if !events.is_empty() {
                return Some(Ok(events));
            }
            match self.body.next().await? {
                Ok(chunk) => self.buffer.extend_from_slice(&chunk),
                Err(error) => return Some(Err(OpenAIError::Reqwest(error).into())),
            }
        }
    }

    /// Splits the complete lines received so far, returning the events they finish.
    fn split(&mut self) -> Vec<Bytes> {
        let mut events = Vec::new();
        while let Some(end) = memchr::memchr(b'\n', &self.buffer) {
            let mut line = self.buffer.split_to(end + 1).freeze().slice(..end);
            if line.ends_with(b"\r") {
                line.truncate(line.len() - 1);
            }
            if line.is_empty() {
                if let Some(event) = self.take_event() {
                    events.push(event);
                }
            } else if line.starts_with(b"data:") {
                let skip = if line.get(5) == Some(&b' ') { 6 } else { 5 };
                self.data.push(line.slice(skip..));
            }
            // Other fields (`event:`, `id:`, `retry:`) and `:` comments (keep-alives)
            // carry nothing a chat completion uses.
        }
        events
    }

    fn take_event(&mut self) -> Option<Bytes> {
        match self.data.len() {
            0 => None,
            1 => self.data.pop(),
            _ => Some(Bytes::from(
                self.data
                    .drain(..)
                    .map(|line| line.to_vec())
                    .collect::<Vec<_>>()
                    .join(&b'\n'),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(pieces: &[&str]) -> Vec<String> {
        let body = futures_util::stream::iter(
            pieces
                .iter()
                .map(|p| Ok(Bytes::copy_from_slice(p.as_bytes())))
                .collect::<Vec<reqwest::Result<Bytes>>>(),
        );
        let mut raw = RawEvents {
            body: Box::pin(body),
            buffer: BytesMut::new(),
            data: Vec::new(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut all = Vec::new();
            while let Some(batch) = raw.next().await {
                for event in batch.unwrap() {
                    all.push(String::from_utf8(event.to_vec()).unwrap());
                }
            }
            all
        })
    }

    #[test]
    fn events_split_across_reads_and_line_endings_come_out_whole() {
        assert_eq!(
            events(&[
                "data: {\"a\":1}\n\nda",
                "ta: {\"b\":",
                "2}\r\n\r\n: keep-alive\n\nevent: x\ndata:{\"c\":3}\n",
                "\ndata: [DONE]\n\n",
            ]),
            ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}", "[DONE]"]
        );
    }

    #[test]
    fn multi_line_data_is_joined_and_a_cut_off_event_is_dropped() {
        assert_eq!(
            events(&["data: line one\ndata: line two\n\ndata: {\"cut\":"]),
            ["line one\nline two"]
        );
    }
}
