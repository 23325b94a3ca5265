//! The request parser's tests: examples, and properties over generated JSON: it never
//! panics, and accepts only what the allowlist allows.

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
    assert_eq!(messages[1].text, "hi there");
}

#[test]
fn unknown_parameters_tools_images_and_n_above_one_are_refused_by_name() {
    let base = |extra: Value| {
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        parse(body).unwrap_err().to_string()
    };
    assert!(base(json!({"logit_bias": {"1": 5}})).contains("'logit_bias'"));
    assert!(base(json!({"tools": []})).contains("'tools'"));
    assert!(base(json!({"n": 2})).contains("`n` must be 1"));
    assert!(base(json!({"temperature": 3})).contains("temperature"));
    let image = parse(
        json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}),
    );
    assert!(image.unwrap_err().to_string().contains("only text parts"));
    let tool = parse(json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}));
    assert!(tool.unwrap_err().to_string().contains("no tools"));
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

/// A valid value for an allowed parameter.
fn valid_value(key: &'static str) -> BoxedStrategy<Value> {
    match key {
        "model" => "[a-z0-9.-]{1,16}".prop_map(Value::from).boxed(),
        "messages" => proptest::collection::vec(valid_message(), 1..4)
            .prop_map(Value::Array)
            .boxed(),
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
        3 => proptest::sample::select(["n", "temperature", "top_p", "messages"].as_slice()),
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
                "tools",
                "tool_choice",
                "functions",
                "logit_bias",
                "logprobs",
                "response_format",
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
    let sent = object["messages"].as_array().expect("messages is a list");
    prop_assert!(!messages.is_empty(), "accepted no messages");
    prop_assert_eq!(messages.len(), sent.len());
    for (message, sent) in messages.iter().zip(sent) {
        let role = sent["role"].as_str().unwrap_or_default();
        let expected_role = match role {
            "system" | "developer" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            other => return Err(TestCaseError::fail(format!("accepted the role {other:?}"))),
        };
        prop_assert_eq!(message.role, expected_role);
        let text = expected_text(&sent["content"]);
        prop_assert!(
            text.is_some(),
            "accepted content that is not text: {}",
            sent["content"]
        );
        prop_assert_eq!(Some(&message.text), text.as_ref());
    }
    Ok(true)
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
