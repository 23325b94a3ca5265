//! The request parser's tests: examples, and properties over generated JSON: it never
//! panics, and accepts only what the allowlist allows.

use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionToolChoiceOption, ChatCompletionTools,
    ResponseFormat as UpstreamFormat,
};
use proptest::{prelude::*, strategy::ValueTree, test_runner::TestRunner};
use serde_json::json;

use super::*;

#[test]
fn a_plain_request_parses_and_keeps_text_parts() {
    let (request, messages) = parse(json!({
        "model": "m",
        "messages": [
            {"role": "developer", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hi "}, {"type": "text", "text": "there"}]}
        ],
        "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 5, "n": 1
    }))
    .unwrap();
    assert!(request.stream);
    assert_eq!(messages[0].role, Role::System);
    assert_eq!(messages[1].text.as_deref(), Some("hi there"));
}

/// A body of one user message and `extra`, refused: the error's text.
fn refused(extra: Value) -> String {
    let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let error = parse(body).unwrap_err();
    assert_eq!(error.status(), 400, "{error}");
    error.to_string()
}

#[test]
fn unknown_parameters_images_and_n_above_one_are_refused_by_name() {
    assert!(refused(json!({"logit_bias": {"1": 5}})).contains("'logit_bias'"));
    assert!(refused(json!({"n": 2})).contains("`n` must be 1"));
    assert!(refused(json!({"temperature": 3})).contains("temperature"));
    let image = parse(
        json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}),
    );
    assert!(image.unwrap_err().to_string().contains("only text parts"));
    let function = parse(json!({"model": "m", "messages": [{"role": "function", "content": "x"}]}));
    assert!(function.unwrap_err().to_string().contains("'function'"));
}

/// Tools, a tool choice and a JSON schema, as an agent framework sends them.
fn tools_and_format() -> Value {
    json!({
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "weather_report", "description": "A report", "strict": true,
            "schema": {"type": "object", "properties": {"summary": {"type": "string"}, "celsius": {"type": "number"}},
                       "required": ["summary", "celsius"], "additionalProperties": false}}},
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
             "strict": false}},
            {"type": "function", "function": {"name": "get_time"}},
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": false,
    })
}

/// A conversation in which the model called a tool and the client answered.
fn tool_round_trip() -> Value {
    json!([
        {"role": "user", "content": "Weather in Seoul?"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Seoul\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "21 C, clear"}]},
    ])
}

fn with(extra: Value, messages: Value) -> Value {
    let mut body = json!({"model": "m", "messages": messages});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

#[test]
fn structured_output_tools_and_a_tool_round_trip_are_accepted() {
    let (request, messages) = parse(with(tools_and_format(), tool_round_trip())).unwrap();
    assert_eq!(request.tools.as_ref().map(Vec::len), Some(2));
    assert_eq!(request.parallel_tool_calls, Some(false));
    assert_eq!(messages[1].role, Role::Assistant);
    assert_eq!(messages[1].text, None, "a null content stays null");
    assert_eq!(messages[1].tool_calls[0].id, "call_1");
    assert_eq!(
        messages[1].tool_calls[0].function.arguments,
        r#"{"city":"Seoul"}"#
    );
    assert_eq!(
        messages[2],
        Message {
            role: Role::Tool,
            text: Some("21 C, clear".into()),
            tool_calls: Vec::new(),
            tool_call_id: Some("call_1".into()),
        }
    );
    for format in [json!({"type": "text"}), json!({"type": "json_object"})] {
        parse(with(
            json!({"response_format": format}),
            json!([{"role": "user", "content": "hi"}]),
        ))
        .unwrap();
    }
    for choice in ["none", "auto", "required"] {
        let mut body = with(tools_and_format(), tool_round_trip());
        body["tool_choice"] = choice.into();
        parse(body).unwrap();
    }
}

#[test]
fn tools_the_format_and_the_tool_choice_reach_async_openai_as_they_were_sent() {
    let sent = tools_and_format();
    let (request, messages) = parse(with(sent.clone(), tool_round_trip())).unwrap();
    let format = UpstreamFormat::from(request.response_format.unwrap());
    assert_eq!(
        serde_json::to_value(format).unwrap(),
        sent["response_format"]
    );
    let tools: Vec<ChatCompletionTools> =
        request.tools.unwrap().into_iter().map(Into::into).collect();
    assert_eq!(serde_json::to_value(tools).unwrap(), sent["tools"]);
    let choice = ChatCompletionToolChoiceOption::from(request.tool_choice.unwrap());
    assert_eq!(serde_json::to_value(choice).unwrap(), sent["tool_choice"]);
    let calls: Vec<ChatCompletionMessageToolCalls> = messages[1]
        .tool_calls
        .iter()
        .cloned()
        .map(Into::into)
        .collect();
    assert_eq!(
        serde_json::to_value(calls).unwrap(),
        tool_round_trip()[1]["tool_calls"]
    );
    let mode = parse(with(
        json!({"tools": sent["tools"], "tool_choice": "required"}),
        json!([{"role": "user", "content": "hi"}]),
    ))
    .unwrap()
    .0;
    let mode = ChatCompletionToolChoiceOption::from(mode.tool_choice.unwrap());
    assert_eq!(serde_json::to_value(mode).unwrap(), json!("required"));
}

#[test]
fn each_mistake_in_the_response_format_is_a_400_naming_it() {
    let schema = |json_schema: Value| json!({"response_format": {"type": "json_schema", "json_schema": json_schema}});
    let cases = [
        (
            json!({"response_format": {"type": "xml"}}),
            "`response_format.type` must be `text`, `json_object` or `json_schema`, not \"xml\"",
        ),
        (
            json!({"response_format": "json"}),
            "`response_format` must be an object",
        ),
        (
            json!({"response_format": {"type": "json_schema"}}),
            "`response_format.json_schema` must be an object",
        ),
        (
            schema(json!({"schema": {"type": "object"}})),
            "`response_format.json_schema.name` must be a name of 1 to 64 characters, not missing",
        ),
        (
            schema(json!({"name": "x".repeat(65), "schema": {}})),
            "`response_format.json_schema.name`",
        ),
        (
            schema(json!({"name": "x", "schema": "object"})),
            "`response_format.json_schema.schema` must be a JSON Schema object",
        ),
        (
            schema(json!({"name": "x"})),
            "`response_format.json_schema.schema` must be a JSON Schema object",
        ),
        (
            schema(json!({"name": "x", "schema": {}, "strict": "yes"})),
            "expected a boolean",
        ),
        (
            schema(json!({"name": "x", "schema": {}, "format": "v2"})),
            "unknown field `format`",
        ),
        (
            json!({"response_format": {"type": "text", "json_schema": {}}}),
            "`response_format.json_schema` is not a field of a response format of type \"text\"",
        ),
        (
            json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}, "strict": true}}),
            "`response_format.strict` is not a field",
        ),
    ];
    for (extra, expected) in cases {
        let error = refused(extra.clone());
        assert!(error.contains(expected), "{extra}: {error}");
    }
}

#[test]
fn each_mistake_in_the_tools_or_the_tool_choice_is_a_400_naming_it() {
    let tool = |name: &str| json!({"type": "function", "function": {"name": name}});
    let too_many: Vec<Value> = (0..129).map(|i| tool(&format!("f{i}"))).collect();
    let cases = [
        (
            json!({"tools": {"get_weather": {}}}),
            "`tools` must be a list of function tools",
        ),
        (
            json!({"tools": too_many}),
            "`tools` lists 129 tools; at most 128",
        ),
        (
            json!({"tools": [tool("a"), 7]}),
            "`tools[1]` must be an object",
        ),
        (
            json!({"tools": [{"type": "custom", "custom": {"name": "x"}}]}),
            "`tools[0].type` must be `function`",
        ),
        (
            json!({"tools": [{"type": "function"}]}),
            "`tools[0].function` must be an object with a `name`",
        ),
        (
            json!({"tools": [tool("")]}),
            "`tools[0].function.name` must be a name of 1 to 64 characters",
        ),
        (
            json!({"tools": [{"type": "function", "function": {"name": "f", "parameters": "none"}}]}),
            "`tools[0].function.parameters` must be a JSON Schema object",
        ),
        (
            json!({"tools": [{"type": "function", "function": {"name": "f", "params": {}}}]}),
            "unknown field `params`",
        ),
        (
            json!({"tools": [tool("f")], "tool_choice": "always"}),
            "`tool_choice` must be `none`, `auto`, `required` or",
        ),
        (
            json!({"tools": [tool("f")], "tool_choice": {"type": "function", "function": {"name": "g"}}}),
            "`tool_choice` names the function 'g', which is not in `tools`",
        ),
        (
            json!({"tool_choice": {"type": "function", "function": {"name": "f"}}}),
            "which is not in `tools`",
        ),
        (
            json!({"tools": [tool("f")], "parallel_tool_calls": "yes"}),
            "expected a boolean",
        ),
    ];
    for (extra, expected) in cases {
        let error = refused(extra.clone());
        assert!(error.contains(expected), "{extra}: {error}");
    }
    let most: Vec<Value> = (0..128).map(|i| tool(&format!("f{i}"))).collect();
    parse(with(
        json!({"tools": most}),
        json!([{"role": "user", "content": "hi"}]),
    ))
    .unwrap();
}

#[test]
fn each_mistake_in_tool_calls_and_tool_messages_is_a_400_naming_it() {
    let call = |id: Value, arguments: Value| {
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": id, "type": "function", "function": {"name": "f", "arguments": arguments}}]})
    };
    let user = json!({"role": "user", "content": "hi"});
    let answer = |id: &str| json!({"role": "tool", "tool_call_id": id, "content": "done"});
    let cases = [
        (
            json!([user, call("c1".into(), "{}".into()), {"role": "tool", "content": "done"}]),
            "messages[2] is a tool message without `tool_call_id`",
        ),
        (
            json!([user, call("c1".into(), "{}".into()), answer("c2")]),
            "messages[2].tool_call_id 'c2' answers no tool call of an earlier assistant message",
        ),
        (
            json!([user, answer("c1"), call("c1".into(), "{}".into())]),
            "messages[1].tool_call_id 'c1' answers no tool call",
        ),
        (
            json!([{"role": "user", "content": "hi", "tool_calls": call("c1".into(), "{}".into())["tool_calls"]}]),
            "messages[0].tool_calls: only assistant messages carry tool calls",
        ),
        (
            json!([{"role": "user", "content": "hi", "tool_call_id": "c1"}]),
            "messages[0].tool_call_id belongs on tool messages only",
        ),
        (
            json!([user, call("c1".into(), json!({"city": "Seoul"}))]),
            "`messages[1].tool_calls[0].function.arguments` must be a string of JSON",
        ),
        (
            json!([user, call("".into(), "{}".into())]),
            "`messages[1].tool_calls[0].id` must be the call's id",
        ),
        (
            json!([user, {"role": "assistant", "tool_calls": {"id": "c1"}}]),
            "`messages[1].tool_calls` must be a list",
        ),
        (
            json!([user, {"role": "assistant", "content": null}]),
            "messages[1].content must be a string or a list of text parts (null only on an assistant message with tool_calls)",
        ),
        (
            json!([user, call("c1".into(), "{}".into()), {"role": "tool", "tool_call_id": "c1", "content": null}]),
            "messages[2].content must be",
        ),
    ];
    for (messages, expected) in cases {
        let error = parse(with(json!({}), messages.clone())).unwrap_err();
        assert_eq!(error.status(), 400);
        assert!(error.to_string().contains(expected), "{messages}: {error}");
    }
    // An assistant message from an SDK's own answer: `tool_calls` null or empty, and
    // fields it does not forward.
    let replayed = json!([user, {"role": "assistant", "content": "hi", "tool_calls": null, "refusal": null, "annotations": []},
                          {"role": "assistant", "content": "again", "tool_calls": []}]);
    let (_, messages) = parse(with(json!({}), replayed)).unwrap();
    assert!(messages.iter().all(|m| m.tool_calls.is_empty()));
}

// Property tests (RELIABILITY.md checks 19 and 21): no body makes `parse` panic, every
// body it accepts keeps to the documented allowlist, and every refusal is the
// visitor's error (4xx), never a server error.

const ROLES: [&str; 4] = ["system", "developer", "user", "assistant"];

/// Strings a request is made of, with the ones that mean something to the parser.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => proptest::sample::select(
            ["system", "developer", "user", "assistant", "tool", "function", "User",
             "text", "image_url", "input_audio", "", "\0", "\u{202E}"].as_slice()
        )
        .prop_map(str::to_string),
        2 => proptest::sample::select(ALLOWED).prop_map(str::to_string),
        3 => any::<String>(),
    ]
}

/// Numbers at and around the bounds the parser checks (`n`, the u32 caps, the f32
/// ranges of temperature and top_p).
fn edge_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        proptest::sample::select(
            [
                -1.0,
                -0.0,
                0.0,
                0.5,
                1.0,
                1.000_000_1,
                1.5,
                2.0,
                2.000_000_1,
                3.0,
                1e40,
                -1e40,
                f64::MIN_POSITIVE,
                f64::MAX,
            ]
            .as_slice()
        )
        .prop_map(Value::from),
        proptest::sample::select(vec![
            0,
            1,
            2,
            -1,
            i64::from(u32::MAX),
            i64::from(u32::MAX) + 1,
            i64::MIN,
            i64::MAX
        ])
        .prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        (-1.0..3.0f64).prop_map(Value::from),
    ]
}

/// Any JSON value, up to four levels deep and 64 nodes.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Not-a-number and infinities become null: JSON has neither.
        any::<f64>().prop_map(Value::from),
        edge_number(),
        any_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(any_text(), inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A valid message: one of the four roles, and a string or a list of text parts.
fn valid_message() -> impl Strategy<Value = Value> {
    let text_part = any::<String>().prop_map(|text| json!({"type": "text", "text": text}));
    let content = prop_oneof![
        any::<String>().prop_map(Value::from),
        proptest::collection::vec(text_part, 0..3).prop_map(Value::Array),
    ];
    let name = proptest::option::weighted(0.2, any::<String>());
    (proptest::sample::select(ROLES.as_slice()), content, name).prop_map(|(role, content, name)| {
        let mut message = json!({"role": role, "content": content});
        if let Some(name) = name {
            message["name"] = name.into();
        }
        message
    })
}

/// An assistant message calling one or two tools, and a tool message answering each.
fn valid_round_trip() -> impl Strategy<Value = Vec<Value>> {
    let call = ("[a-zA-Z0-9_]{1,12}", "[a-zA-Z0-9_-]{1,64}", any::<String>()).prop_map(
        |(id, name, arguments)| {
            json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
        },
    );
    let content = prop_oneof![Just(Value::Null), any::<String>().prop_map(Value::from)];
    (
        proptest::collection::vec(call, 1..3),
        content,
        any::<String>(),
    )
        .prop_map(|(calls, content, result)| {
            let mut messages =
                vec![json!({"role": "assistant", "content": content, "tool_calls": calls})];
            messages.extend(calls.iter().map(
                |call| json!({"role": "tool", "tool_call_id": call["id"], "content": result}),
            ));
            messages
        })
}

/// A function tool, with or without its optional fields.
fn valid_tool() -> impl Strategy<Value = Value> {
    (
        "[a-zA-Z0-9_-]{1,64}",
        proptest::option::of(any::<String>()),
        proptest::option::of(Just(
            json!({"type": "object", "properties": {"q": {"type": "string"}}}),
        )),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(name, description, parameters, strict)| {
            let mut function = json!({"name": name});
            if let Some(description) = description {
                function["description"] = description.into();
            }
            if let Some(parameters) = parameters {
                function["parameters"] = parameters;
            }
            if let Some(strict) = strict {
                function["strict"] = strict.into();
            }
            json!({"type": "function", "function": function})
        })
}

/// A valid value for an allowed parameter.
fn valid_value(key: &'static str) -> BoxedStrategy<Value> {
    match key {
        "model" => "[a-z0-9.-]{1,16}".prop_map(Value::from).boxed(),
        "messages" => (
            proptest::collection::vec(valid_message(), 1..4),
            proptest::option::weighted(0.3, valid_round_trip()),
        )
            .prop_map(|(mut messages, round_trip)| {
                messages.extend(round_trip.into_iter().flatten());
                Value::Array(messages)
            })
            .boxed(),
        "response_format" => prop_oneof![
            Just(json!({"type": "text"})),
            Just(json!({"type": "json_object"})),
            ("[a-zA-Z0-9_-]{1,64}", proptest::option::of(any::<bool>())).prop_map(|(name, strict)| {
                json!({"type": "json_schema", "json_schema": {
                    "name": name, "strict": strict,
                    "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}})
            }),
        ]
        .boxed(),
        "tools" => proptest::collection::vec(valid_tool(), 0..4)
            .prop_map(Value::Array)
            .boxed(),
        "tool_choice" => proptest::sample::select(["none", "auto", "required"].as_slice())
            .prop_map(Value::from)
            .boxed(),
        "parallel_tool_calls" => any::<bool>().prop_map(Value::from).boxed(),
        "stream" => any::<bool>().prop_map(Value::from).boxed(),
        "stream_options" => (any::<bool>(), proptest::option::of(any::<bool>()))
            .prop_map(|(usage, obfuscation)| {
                json!({"include_usage": usage, "include_obfuscation": obfuscation})
            })
            .boxed(),
        "stop" => prop_oneof![
            any::<String>().prop_map(Value::from),
            proptest::collection::vec(any::<String>(), 0..4).prop_map(Value::from),
        ]
        .boxed(),
        "user" => any::<String>().prop_map(Value::from).boxed(),
        "n" => Just(Value::from(1)).boxed(),
        "max_tokens" | "max_completion_tokens" => any::<u32>().prop_map(Value::from).boxed(),
        "seed" => any::<i64>().prop_map(Value::from).boxed(),
        "temperature" => (0.0..=2.0f64).prop_map(Value::from).boxed(),
        "top_p" => (0.0..=1.0f64).prop_map(Value::from).boxed(),
        _ => (-2.0..=2.0f64).prop_map(Value::from).boxed(),
    }
}

/// A value for an allowed parameter that is just out of bounds or of the wrong type.
fn invalid_value(key: &'static str) -> BoxedStrategy<Value> {
    let near_bound = match key {
        "n" => vec![json!(0), json!(2), json!(-1), json!(1.5), json!("1")],
        "temperature" => vec![
            json!(-0.001),
            json!(2.001),
            json!(-1),
            json!(3),
            json!(1e40),
        ],
        "top_p" => vec![json!(-0.001), json!(1.001), json!(2), json!(-1e40)],
        "messages" => vec![json!([]), json!({}), json!("hi"), json!([[]])],
        "max_tokens" | "max_completion_tokens" => {
            vec![json!(-1), json!(u64::from(u32::MAX) + 1), json!(1.5)]
        }
        "stream_options" => vec![json!({"include_usage": true, "chunk_size": 1}), json!(true)],
        "response_format" => vec![
            json!({"type": "xml"}),
            json!("json_object"),
            json!({"type": "json_schema"}),
            json!({"type": "json_schema", "json_schema": {"schema": {}}}),
            json!({"type": "json_schema", "json_schema": {"name": "x", "schema": "object"}}),
            json!({"type": "json_schema", "json_schema": {"name": "", "schema": {}}}),
            json!({"type": "text", "strict": true}),
        ],
        "tools" => vec![
            json!({}),
            json!([{"type": "custom", "custom": {"name": "x"}}]),
            json!([{"type": "function"}]),
            json!([{"type": "function", "function": {"name": ""}}]),
            json!([{"type": "function", "function": {"name": "f", "parameters": []}}]),
            Value::Array(vec![
                json!({"type": "function", "function": {"name": "f"}});
                129
            ]),
        ],
        "tool_choice" => vec![
            json!("always"),
            json!({"type": "function"}),
            json!({"type": "function", "function": {"name": "not among the tools"}}),
            json!(1),
        ],
        _ => vec![json!({}), json!([1])],
    };
    prop_oneof![
        4 => proptest::sample::select(near_bound),
        1 => edge_number(),
        1 => any_json(),
    ]
    .boxed()
}

/// What turns a valid body into one that may be refused.
#[derive(Clone, Debug)]
enum Fault {
    /// The body stays valid.
    None,
    /// An allowed parameter gets a value out of bounds or of the wrong type.
    Value(&'static str, Value),
    /// An allowed parameter is left out.
    Missing(&'static str),
    /// A message gets another role (`tool`, `function`, `User`, anything).
    Role(proptest::sample::Index, Value),
    /// A message's content gets a part that is not text, among text parts.
    Part(proptest::sample::Index, Value),
    /// A message's content is replaced by anything.
    Content(proptest::sample::Index, Value),
    /// A message gets another field (`tool_calls`, `name` of any type).
    Field(proptest::sample::Index, &'static str, Value),
}

fn fault() -> impl Strategy<Value = Fault> {
    // The parameters whose values `parse` checks, more often than the others.
    let key = prop_oneof![
        3 => proptest::sample::select(
            ["n", "temperature", "top_p", "messages", "response_format", "tools", "tool_choice"]
                .as_slice()
        ),
        1 => proptest::sample::select(ALLOWED),
    ];
    let role = prop_oneof![
        3 => proptest::sample::select(
            ["tool", "function", "System", "USER", " user", "", "developer\0", "ipython"]
                .as_slice()
        )
        .prop_map(Value::from),
        1 => any_text().prop_map(Value::from),
        1 => any_json(),
    ];
    let part = prop_oneof![
        Just(json!({"type": "image_url", "image_url": {"url": "https://example.com/a.png"}})),
        Just(json!({"type": "input_audio", "input_audio": {"data": "", "format": "wav"}})),
        Just(json!({"type": "file", "file": {"file_id": "f"}})),
        Just(json!({"type": "TEXT", "text": "x"})),
        Just(json!({"text": "x"})),
        any_json().prop_map(|text| json!({"type": "text", "text": text})),
        any_json(),
    ];
    let content = prop_oneof![
        proptest::sample::select(vec![
            Value::Null,
            json!(1),
            json!(true),
            json!({}),
            json!({"type": "text", "text": "not in a list"}),
            json!([null]),
            json!([["nested"]]),
        ]),
        any_json(),
    ];
    let field = proptest::sample::select(
        [
            "name",
            "tool_calls",
            "tool_call_id",
            "function_call",
            "refusal",
            "audio",
        ]
        .as_slice(),
    );
    prop_oneof![
        3 => Just(Fault::None),
        6 => key.prop_flat_map(|key| invalid_value(key).prop_map(move |value| Fault::Value(key, value))),
        1 => proptest::sample::select(ALLOWED).prop_map(Fault::Missing),
        3 => (any::<proptest::sample::Index>(), role).prop_map(|(i, role)| Fault::Role(i, role)),
        2 => (any::<proptest::sample::Index>(), part).prop_map(|(i, part)| Fault::Part(i, part)),
        2 => (any::<proptest::sample::Index>(), content).prop_map(|(i, content)| Fault::Content(i, content)),
        1 => (any::<proptest::sample::Index>(), field, any_json()).prop_map(|(i, key, value)| Fault::Field(i, key, value)),
    ]
}

/// An object of allowed parameters only: a valid request (model and messages, the
/// other parameters each present or not) with at most one fault, so that about half
/// are accepted and each kind of refusal is tried often.
fn allowlisted_body() -> impl Strategy<Value = Value> {
    let fields: Vec<_> = ALLOWED
        .iter()
        .map(|&key| {
            let value = if matches!(key, "model" | "messages") {
                valid_value(key).prop_map(Some).boxed()
            } else {
                proptest::option::weighted(0.3, valid_value(key)).boxed()
            };
            value.prop_map(move |value| value.map(|value| (key.to_string(), value)))
        })
        .collect();
    (fields, fault()).prop_map(|(fields, fault)| {
        let mut body = Value::Object(fields.into_iter().flatten().collect());
        match fault {
            Fault::None => {}
            Fault::Role(i, role) => message_at(&mut body, i)["role"] = role,
            Fault::Part(i, part) => {
                message_at(&mut body, i)["content"] =
                    json!([{"type": "text", "text": "before"}, part]);
            }
            Fault::Content(i, content) => message_at(&mut body, i)["content"] = content,
            Fault::Field(i, key, value) => message_at(&mut body, i)[key] = value,
            Fault::Value(key, value) => body[key] = value,
            Fault::Missing(key) => {
                body.as_object_mut().unwrap().remove(key);
            }
        }
        body
    })
}

/// The message of a body that `i` picks.
fn message_at(body: &mut Value, i: proptest::sample::Index) -> &mut Value {
    let messages = body["messages"].as_array_mut().unwrap();
    let at = i.index(messages.len());
    &mut messages[at]
}

/// An allowlisted body with one more parameter, named as clients name them.
fn body_with_an_unknown_key() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        proptest::sample::select(
            [
                "functions",
                "function_call",
                "logit_bias",
                "logprobs",
                "prediction",
                "Model",
                "messages ",
                "n\0",
                "modalities",
                "audio"
            ]
            .as_slice()
        )
        .prop_map(str::to_string),
        any::<String>(),
    ]
    .prop_filter("an allowed name", |key| !ALLOWED.contains(&key.as_str()));
    (allowlisted_body(), key, any_json()).prop_map(|(mut body, key, value)| {
        body[key] = value;
        body
    })
}

/// The text `parse` must make of a message's content, or `None` if the content is
/// not text.
fn expected_text(content: &Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => parts
            .iter()
            .map(|part| match (part.get("type"), part.get("text")) {
                (Some(Value::String(kind)), Some(Value::String(text))) if kind == "text" => {
                    Some(text.as_str())
                }
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// What must hold of `parse(body)`: an accepted request keeps to the allowlist and its
/// content is reduced to text; a refusal is a 4xx.
fn check_outcome(body: &Value) -> Result<bool, TestCaseError> {
    let (request, messages) = match parse(body.clone()) {
        Ok(parsed) => parsed,
        Err(error) => {
            prop_assert!(
                error.status().is_client_error(),
                "refused with {}: {error}",
                error.status()
            );
            return Ok(false);
        }
    };
    let object = body
        .as_object()
        .expect("accepted a body that is not an object");
    for key in object.keys() {
        prop_assert!(
            ALLOWED.contains(&key.as_str()),
            "accepted the parameter {key:?}"
        );
    }
    prop_assert!(
        request.n.is_none_or(|n| n == 1),
        "accepted n = {:?}",
        request.n
    );
    prop_assert!(
        request.temperature.is_none_or(|t| (0.0..=2.0).contains(&t)),
        "accepted temperature {:?}",
        request.temperature
    );
    prop_assert!(
        request.top_p.is_none_or(|p| (0.0..=1.0).contains(&p)),
        "accepted top_p {:?}",
        request.top_p
    );
    check_tools_and_format(object)?;
    let sent = object["messages"].as_array().expect("messages is a list");
    prop_assert!(!messages.is_empty(), "accepted no messages");
    prop_assert_eq!(messages.len(), sent.len());
    let mut calls = HashSet::new();
    for (message, sent) in messages.iter().zip(sent) {
        let role = sent["role"].as_str().unwrap_or_default();
        let expected_role = match role {
            "system" | "developer" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            other => return Err(TestCaseError::fail(format!("accepted the role {other:?}"))),
        };
        prop_assert_eq!(message.role, expected_role);
        let sent_calls: Vec<ToolCall> = match &sent["tool_calls"] {
            Value::Null => Vec::new(),
            sent_calls => serde_json::from_value(sent_calls.clone()).map_err(|_| {
                TestCaseError::fail(format!("accepted the tool calls {sent_calls}"))
            })?,
        };
        prop_assert!(
            sent_calls.is_empty() || role == "assistant",
            "accepted tool calls on a {role} message"
        );
        prop_assert_eq!(&message.tool_calls, &sent_calls);
        let id = sent["tool_call_id"].as_str();
        if role == "tool" {
            prop_assert!(
                id.is_some_and(|id| calls.contains(id)),
                "accepted a tool message answering {id:?}, not one of {calls:?}"
            );
        } else {
            prop_assert!(
                sent["tool_call_id"].is_null(),
                "accepted a {role} message's tool_call_id"
            );
        }
        prop_assert_eq!(message.tool_call_id.as_deref(), id);
        calls.extend(sent_calls.iter().map(|call| call.id.clone()));
        if sent["content"].is_null() && !sent_calls.is_empty() {
            prop_assert_eq!(&message.text, &None);
            continue;
        }
        let text = expected_text(&sent["content"]);
        prop_assert!(
            text.is_some(),
            "accepted content that is not text: {}",
            sent["content"]
        );
        prop_assert_eq!(&message.text, &text);
    }
    Ok(true)
}

/// What an accepted body's tools, tool choice and response format must be.
fn check_tools_and_format(object: &Map<String, Value>) -> Result<(), TestCaseError> {
    let name_fits = |name: &Value| {
        name.as_str()
            .is_some_and(|n| (1..=64).contains(&n.chars().count()))
    };
    let tools = object.get("tools").and_then(Value::as_array);
    if let Some(tools) = tools {
        prop_assert!(
            tools.len() <= shapes::MAX_TOOLS,
            "accepted {} tools",
            tools.len()
        );
        for tool in tools {
            prop_assert_eq!(tool["type"].as_str(), Some("function"));
            prop_assert!(
                name_fits(&tool["function"]["name"]),
                "accepted the tool {tool}"
            );
            prop_assert!(matches!(
                tool["function"]["parameters"],
                Value::Null | Value::Object(_)
            ));
        }
    }
    if let Some(name) = object
        .get("tool_choice")
        .and_then(|choice| choice.pointer("/function/name"))
    {
        prop_assert!(
            tools.is_some_and(|tools| tools.iter().any(|tool| tool["function"]["name"] == *name)),
            "accepted a tool choice of {name}, not among the tools"
        );
    }
    if let Some(format) = object
        .get("response_format")
        .filter(|format| !format.is_null())
    {
        let kind = format["type"].as_str().unwrap_or_default();
        prop_assert!(
            matches!(kind, "text" | "json_object" | "json_schema"),
            "accepted the response format {format}"
        );
        if kind == "json_schema" {
            prop_assert!(
                name_fits(&format["json_schema"]["name"]),
                "accepted {format}"
            );
            prop_assert!(
                format["json_schema"]["schema"].is_object(),
                "accepted {format}"
            );
        }
    }
    Ok(())
}

/// The generated allowlisted bodies are both accepted and refused often enough for
/// the properties below to test each side.
#[test]
fn the_generated_bodies_are_both_accepted_and_refused() {
    let mut runner = TestRunner::deterministic();
    let strategy = allowlisted_body();
    let samples = 400;
    let accepted = (0..samples)
        .filter(|_| parse(strategy.new_tree(&mut runner).unwrap().current()).is_ok())
        .count();
    assert!(
        (samples / 10..=samples * 9 / 10).contains(&accepted),
        "{accepted} of {samples} generated bodies were accepted"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_json_is_parsed_or_refused_as_the_visitors_error(body in any_json()) {
        check_outcome(&body)?;
    }


    #[test]
    fn any_parameter_outside_the_allowlist_is_refused_by_name(body in body_with_an_unknown_key()) {
        let unknown = body
            .as_object()
            .unwrap()
            .keys()
            .find(|key| !ALLOWED.contains(&key.as_str()))
            .unwrap()
            .clone();
        let error = parse(body).expect_err("accepted an unknown parameter");
        prop_assert!(error.status().is_client_error());
        prop_assert!(error.to_string().contains(&format!("'{unknown}'")), "{error}");
    }
}
proptest! {
    // More cases: each fault that `parse` must refuse is one of many kinds.
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn any_object_of_allowed_parameters_is_accepted_only_within_the_allowlist(
        body in allowlisted_body()
    ) {
        check_outcome(&body)?;
    }
}
