//! The raw JSON of structured output and tools, checked before the body is decoded, so
//! that a mistake is named by where it is (the decoder's own messages name no path).

use serde_json::{Map, Value};

/// Tools a request may offer, as many as OpenAI allows (the OpenAPI document's
/// `max_items` says so too).
pub const MAX_TOOLS: usize = 128;

/// Longest name of a function or a response format, as OpenAI allows.
const MAX_NAME_CHARS: usize = 64;

/// Checks `response_format`, `tools`, `tool_choice` and the messages' `tool_calls`.
pub fn check_shapes(body: &Map<String, Value>) -> Result<(), String> {
    if let Some(format) = body.get("response_format") {
        check_response_format(format)?;
    }
    if let Some(tools) = body.get("tools") {
        check_tools(tools)?;
    }
    if let Some(choice) = body.get("tool_choice") {
        check_tool_choice(choice)?;
    }
    if let Some(Value::Array(messages)) = body.get("messages") {
        for (i, message) in messages.iter().enumerate() {
            if let Some(calls) = message.get("tool_calls") {
                check_tool_calls(i, calls)?;
            }
        }
    }
    Ok(())
}

fn check_response_format(format: &Value) -> Result<(), String> {
    if format.is_null() {
        return Ok(());
    }
    if !format.is_object() {
        return Err(
            "`response_format` must be an object such as {\"type\": \"json_object\"}.".into(),
        );
    }
    let kind = format.get("type").and_then(Value::as_str);
    // The decoder would drop other fields of a unit variant without a word.
    let fields: &[&str] = match kind {
        Some("json_schema") => &["type", "json_schema"],
        _ => &["type"],
    };
    if let Some(other) = format
        .as_object()
        .and_then(|map| map.keys().find(|key| !fields.contains(&key.as_str())))
    {
        return Err(format!(
            "`response_format.{other}` is not a field of a response format of type {}.",
            shown(format.get("type"))
        ));
    }
    match kind {
        Some("text" | "json_object") => Ok(()),
        Some("json_schema") => {
            let Some(json_schema) = format.get("json_schema").filter(|v| v.is_object()) else {
                return Err(
                    "`response_format.json_schema` must be an object with a `name` and a `schema`."
                        .into(),
                );
            };
            check_name(json_schema.get("name"), "response_format.json_schema.name")?;
            if !json_schema.get("schema").is_some_and(Value::is_object) {
                return Err(format!(
                    "`response_format.json_schema.schema` must be a JSON Schema object, such as {{\"type\": \"object\", \"properties\": {{…}}}}, not {}.",
                    shown(json_schema.get("schema"))
                ));
            }
            Ok(())
        }
        _ => Err(format!(
            "`response_format.type` must be `text`, `json_object` or `json_schema`, not {}.",
            shown(format.get("type"))
        )),
    }
}

fn check_tools(tools: &Value) -> Result<(), String> {
    let tools = match tools {
        Value::Null => return Ok(()),
        Value::Array(tools) => tools,
        _ => return Err("`tools` must be a list of function tools.".into()),
    };
    if tools.len() > MAX_TOOLS {
        return Err(format!(
            "`tools` lists {} tools; at most {MAX_TOOLS} are allowed.",
            tools.len()
        ));
    }
    for (i, tool) in tools.iter().enumerate() {
        if !tool.is_object() {
            return Err(format!(
                "`tools[{i}]` must be an object such as {{\"type\": \"function\", \"function\": {{\"name\": …}}}}."
            ));
        }
        if tool.get("type").and_then(Value::as_str) != Some("function") {
            return Err(format!(
                "`tools[{i}].type` must be `function` (this deployment relays function tools only), not {}.",
                shown(tool.get("type"))
            ));
        }
        let Some(function) = tool.get("function").filter(|v| v.is_object()) else {
            return Err(format!(
                "`tools[{i}].function` must be an object with a `name`."
            ));
        };
        check_name(function.get("name"), &format!("tools[{i}].function.name"))?;
        if function
            .get("parameters")
            .is_some_and(|p| !p.is_object() && !p.is_null())
        {
            return Err(format!(
                "`tools[{i}].function.parameters` must be a JSON Schema object."
            ));
        }
    }
    Ok(())
}

fn check_tool_choice(choice: &Value) -> Result<(), String> {
    let valid = match choice {
        Value::Null => true,
        Value::String(mode) => matches!(mode.as_str(), "none" | "auto" | "required"),
        Value::Object(_) => {
            choice.get("type").and_then(Value::as_str) == Some("function")
                && choice
                    .pointer("/function/name")
                    .is_some_and(Value::is_string)
        }
        _ => false,
    };
    if valid {
        return Ok(());
    }
    Err(format!(
        "`tool_choice` must be `none`, `auto`, `required` or {{\"type\": \"function\", \"function\": {{\"name\": …}}}}, not {}.",
        shown(Some(choice))
    ))
}

/// An assistant message's `tool_calls`, as an earlier answer gave them.
fn check_tool_calls(index: usize, calls: &Value) -> Result<(), String> {
    let calls = match calls {
        Value::Null => return Ok(()),
        Value::Array(calls) => calls,
        _ => {
            return Err(format!(
                "`messages[{index}].tool_calls` must be a list of tool calls."
            ));
        }
    };
    for (j, call) in calls.iter().enumerate() {
        let path = format!("messages[{index}].tool_calls[{j}]");
        if call
            .get("id")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(format!(
                "`{path}.id` must be the call's id, as the answer gave it."
            ));
        }
        if call.get("type").and_then(Value::as_str) != Some("function") {
            return Err(format!("`{path}.type` must be `function`."));
        }
        if !call.pointer("/function/name").is_some_and(Value::is_string) {
            return Err(format!("`{path}.function.name` must be a string."));
        }
        if !call
            .pointer("/function/arguments")
            .is_some_and(Value::is_string)
        {
            return Err(format!(
                "`{path}.function.arguments` must be a string of JSON, as the answer gave it (not an object)."
            ));
        }
    }
    Ok(())
}

fn check_name(name: Option<&Value>, path: &str) -> Result<(), String> {
    match name.and_then(Value::as_str) {
        Some(name) if (1..=MAX_NAME_CHARS).contains(&name.chars().count()) => Ok(()),
        _ => Err(format!(
            "`{path}` must be a name of 1 to {MAX_NAME_CHARS} characters, not {}.",
            shown(name)
        )),
    }
}

/// A value as a message shows it: its JSON, cut short.
fn shown(value: Option<&Value>) -> String {
    const SHOWN_CHARS: usize = 40;
    let Some(value) = value else {
        return "missing".into();
    };
    let json = value.to_string();
    if json.chars().count() <= SHOWN_CHARS {
        return json;
    }
    let mut short: String = json.chars().take(SHOWN_CHARS).collect();
    short.push('…');
    short
}
