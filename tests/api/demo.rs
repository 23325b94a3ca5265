//! The model side of apps. The client sends structured output's `response_format` as
//! given. The built-in demo model covers apps: every shipped app with an output schema
//! gets a JSON answer valid against it (streamed and whole), and image apps get a
//! picture made from the prompt, through the same client a real provider is called with.

use std::{path::Path, time::Duration};

use async_openai::types::{chat::CreateChatCompletionRequest, images::ImagesResponse};
use promptship::{
    apps::Apps,
    config::Site,
    llm::{LlmClient, demo},
};
use serde_json::{Value, json};

use crate::{
    images::client,
    mock_upstream::{MockUpstream, Scenario},
};

async fn demo_client() -> (String, LlmClient) {
    let base_url = demo::spawn(Duration::ZERO).await.unwrap();
    let llm = client(&base_url, Duration::from_secs(10));
    (base_url, llm)
}

/// The shipped apps, each with its sample rendered into messages.
fn shipped_apps() -> Vec<(String, Option<Value>, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("apps");
    let apps = Apps::load(&dir, &Site::load(None).unwrap()).unwrap();
    apps.iter()
        .map(|app| {
            let sample = app.sample.clone().unwrap_or_default();
            let messages = apps.render(&app.name, &sample).unwrap();
            (
                app.name.clone(),
                app.output_schema.clone(),
                serde_json::to_value(messages).unwrap(),
            )
        })
        .collect()
}

fn structured_request(name: &str, schema: &Value, messages: &Value, stream: bool) -> Value {
    json!({
        "model": demo::MODEL,
        "messages": messages,
        "stream": stream,
        "response_format": {
            "type": "json_schema",
            "json_schema": { "name": name, "schema": schema, "strict": true },
        },
    })
}

fn assert_valid(name: &str, schema: &Value, answer: &str) -> Value {
    let value: Value = serde_json::from_str(answer)
        .unwrap_or_else(|e| panic!("{name}: the answer is not JSON ({e}): {answer}"));
    let validator = jsonschema::validator_for(schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{name}: {value} breaks its schema: {errors:?}"
    );
    value
}

#[tokio::test]
async fn the_client_sends_the_schema_strict_and_reads_the_json_back() {
    let mock = MockUpstream::start().await;
    let llm = client(&mock.base_url, Duration::from_secs(10));
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}},
                        "required": ["city"], "additionalProperties": false});
    let answer = json!({"city": "Busan"});
    mock.push(Scenario::json(&answer));
    let messages = json!([{"role": "user", "content": "Where is Haeundae?"}]);
    let request: CreateChatCompletionRequest =
        serde_json::from_value(structured_request("place", &schema, &messages, true)).unwrap();
    let mut chunks = llm.stream(request, 100).await.unwrap();
    let mut text = String::new();
    while let Some(chunk) = chunks.next().await {
        for choice in chunk.unwrap().choices {
            text.extend(choice.delta.content);
        }
    }
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), answer);
    assert_eq!(
        mock.requests()[0]["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "place", "schema": schema, "strict": true}})
    );
}

#[tokio::test]
async fn every_shipped_structured_app_gets_an_answer_valid_against_its_schema() {
    let (base_url, llm) = demo_client().await;
    let apps = shipped_apps();
    let structured: Vec<_> = apps
        .iter()
        .filter_map(|(name, schema, messages)| Some((name, schema.as_ref()?, messages)))
        .collect();
    let names: Vec<&str> = structured.iter().map(|(name, ..)| name.as_str()).collect();
    assert!(
        names.contains(&"interview") && names.contains(&"extract"),
        "{names:?}"
    );
    for (name, schema, messages) in structured {
        // Streamed, through the client the app runs will use.
        let request: CreateChatCompletionRequest =
            serde_json::from_value(structured_request(name, schema, messages, true)).unwrap();
        let mut chunks = llm.stream(request, 1024).await.unwrap();
        let mut streamed = String::new();
        let mut pieces = 0;
        let mut usage = None;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.unwrap();
            usage = usage.or(chunk.usage);
            for choice in chunk.choices {
                if let Some(content) = choice.delta.content {
                    streamed.push_str(&content);
                    pieces += 1;
                }
            }
        }
        let value = assert_valid(name, schema, &streamed);
        assert!(pieces > 3, "{name}: the JSON came in {pieces} pieces");
        assert!(usage.is_some_and(|usage| usage.completion_tokens > 0));
        // The strings echo the sample.
        if name == "interview" {
            assert!(streamed.contains("posting"), "{streamed}");
            assert_eq!(value["questions"].as_array().unwrap().len(), 2);
        }

        // Whole, and the same.
        let whole: Value = reqwest::Client::new()
            .post(format!("{base_url}/chat/completions"))
            .json(&structured_request(name, schema, messages, false))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let content = whole["choices"][0]["message"]["content"].as_str().unwrap();
        assert_eq!(
            assert_valid(name, schema, content),
            value,
            "{name}: not deterministic"
        );
    }
}

#[tokio::test]
async fn json_object_gets_an_object_and_plain_chat_keeps_its_text() {
    let (base_url, _) = demo_client().await;
    let post = |body: Value| {
        let url = format!("{base_url}/chat/completions");
        async move {
            let answer: Value = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answer["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let messages = json!([{"role": "user", "content": "List three fruits."}]);
    let object = post(json!({"model": "m", "messages": messages,
                             "response_format": {"type": "json_object"}}))
    .await;
    let object: Value = serde_json::from_str(&object).unwrap();
    assert!(object.is_object() && object["you_asked"] == "List three fruits.");
    let text = post(json!({"model": "m", "messages": messages})).await;
    assert!(text.starts_with("**This is the demo model**"), "{text}");
}

#[tokio::test]
async fn an_image_app_gets_a_picture_of_its_prompt_the_same_each_time() {
    let (base_url, llm) = demo_client().await;
    // In OpenAI's shape, as its SDKs read it.
    let answer: Value = reqwest::Client::new()
        .post(format!("{base_url}/images/generations"))
        .json(&json!({"model": demo::MODEL, "prompt": "A lighthouse at dawn"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    serde_json::from_value::<ImagesResponse>(answer).unwrap();

    let lighthouse = llm
        .generate_image(demo::MODEL, "A lighthouse at dawn", Some("1024x1024"))
        .await
        .unwrap();
    assert_eq!(lighthouse.mime, "image/png");
    assert!(lighthouse.usage.is_some());
    let reader = png::Decoder::new(std::io::Cursor::new(&lighthouse.bytes[..]))
        .read_info()
        .unwrap();
    assert_eq!((reader.info().width, reader.info().height), (512, 512));
    let again = llm
        .generate_image(demo::MODEL, "A lighthouse at dawn", Some("1024x1024"))
        .await
        .unwrap();
    assert_eq!(again.bytes, lighthouse.bytes);
    let other = llm
        .generate_image(demo::MODEL, "A forest at night", Some("1024x1024"))
        .await
        .unwrap();
    assert_ne!(other.bytes, lighthouse.bytes);
}
