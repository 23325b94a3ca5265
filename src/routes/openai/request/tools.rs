//! Structured output and client tools on `/v1`: `response_format`, `tools`,
//! `tool_choice` and the tool calls in messages, as they are decoded and as they are
//! relayed (async-openai's types). The client runs its tools; this server runs none.

use async_openai::types::chat::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls, ChatCompletionNamedToolChoice,
    ChatCompletionTool, ChatCompletionToolChoiceOption, ChatCompletionTools,
    FunctionCall as UpstreamCall, FunctionName, FunctionObject, ResponseFormat as UpstreamFormat,
    ResponseFormatJsonSchema, ToolChoiceOptions,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::routes::bodies::{ToolCall, ToolType};

/// `response_format`: plain text, any JSON object, or JSON valid against a schema.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonSchemaFormat {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    pub description: Option<String>,
    /// A JSON Schema object, passed on as it is.
    #[schema(value_type = Object)]
    pub schema: Map<String, Value>,
    pub strict: Option<bool>,
}

/// A function the model may call. The client runs it and sends the result back in a
/// `tool` message.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    #[serde(rename = "type")]
    pub kind: ToolType,
    pub function: FunctionDefinition,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionDefinition {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    pub description: Option<String>,
    /// Its arguments as a JSON Schema object, passed on as it is.
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<Map<String, Value>>,
    pub strict: Option<bool>,
}

/// `tool_choice`: `none`, `auto`, `required`, or one of the `tools` by name.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ToolChoice {
    Mode(ToolChoiceMode),
    Function(NamedToolChoice),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoiceMode {
    None,
    Auto,
    Required,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedToolChoice {
    #[serde(rename = "type")]
    pub kind: ToolType,
    pub function: ChosenFunction,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChosenFunction {
    pub name: String,
}

/// A named `tool_choice` must name one of the `tools`.
pub fn check_choice(tools: Option<&[Tool]>, choice: Option<&ToolChoice>) -> Result<(), String> {
    let Some(ToolChoice::Function(named)) = choice else {
        return Ok(());
    };
    let name = &named.function.name;
    if tools
        .unwrap_or_default()
        .iter()
        .any(|tool| tool.function.name == *name)
    {
        return Ok(());
    }
    Err(format!(
        "`tool_choice` names the function '{name}', which is not in `tools`."
    ))
}

impl From<ResponseFormat> for UpstreamFormat {
    fn from(format: ResponseFormat) -> Self {
        match format {
            ResponseFormat::Text => UpstreamFormat::Text,
            ResponseFormat::JsonObject => UpstreamFormat::JsonObject,
            ResponseFormat::JsonSchema { json_schema } => UpstreamFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    description: json_schema.description,
                    name: json_schema.name,
                    schema: Value::Object(json_schema.schema),
                    strict: json_schema.strict,
                },
            },
        }
    }
}

impl From<Tool> for ChatCompletionTools {
    fn from(tool: Tool) -> Self {
        let function = tool.function;
        ChatCompletionTools::Function(ChatCompletionTool {
            function: FunctionObject {
                name: function.name,
                description: function.description,
                parameters: function.parameters.map(Value::Object),
                strict: function.strict,
            },
        })
    }
}

impl From<ToolChoice> for ChatCompletionToolChoiceOption {
    fn from(choice: ToolChoice) -> Self {
        match choice {
            ToolChoice::Mode(mode) => ChatCompletionToolChoiceOption::Mode(match mode {
                ToolChoiceMode::None => ToolChoiceOptions::None,
                ToolChoiceMode::Auto => ToolChoiceOptions::Auto,
                ToolChoiceMode::Required => ToolChoiceOptions::Required,
            }),
            ToolChoice::Function(named) => {
                ChatCompletionToolChoiceOption::Function(ChatCompletionNamedToolChoice {
                    function: FunctionName {
                        name: named.function.name,
                    },
                })
            }
        }
    }
}

impl From<ToolCall> for ChatCompletionMessageToolCalls {
    fn from(call: ToolCall) -> Self {
        ChatCompletionMessageToolCalls::Function(ChatCompletionMessageToolCall {
            id: call.id,
            function: UpstreamCall {
                name: call.function.name,
                arguments: call.function.arguments,
            },
        })
    }
}
