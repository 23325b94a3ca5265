//! A JSON Schema validator's errors in plain words: where in the value (the path) and
//! what is wrong, worded to follow the thing it is about ("is required", "must be one
//! of: formal, casual"), so a form, the API and an invalid model answer read alike. The
//! words are [`Text`]s, put into the reader's language where they are shown.

use std::{borrow::Cow, fmt::Write as _};

use jsonschema::{
    ValidationError,
    error::{TypeKind, ValidationErrorKind as Kind},
    paths::LocationSegment,
    types::JsonType,
};
use serde_json::Value;

use crate::i18n::Text;

/// One step into a JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// What is wrong at a place in the value.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The steps from the root to the value (for a missing or undeclared key, to the key).
    pub path: Vec<Step>,
    /// What is wrong, to follow the value's name: "must be text".
    pub message: Text,
    pub kind: ProblemKind,
}

/// The kinds of problem a caller may treat apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// A required key is missing.
    Missing,
    /// A key the schema does not declare.
    Undeclared,
    /// A value that breaks a rule.
    Value,
}

/// A compiled validator for `schema`, or why the schema is not valid JSON Schema.
pub fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::validator_for(schema).map_err(|e| {
        let at = e.instance_path().as_str();
        if at.is_empty() {
            format!("it is not valid JSON Schema: {e}")
        } else {
            format!("it is not valid JSON Schema at {at}: {e}")
        }
    })
}

/// Every problem of `value` against `validator`, in the validator's order.
pub fn problems(validator: &jsonschema::Validator, value: &Value) -> Vec<Problem> {
    validator.iter_errors(value).flat_map(explain).collect()
}

/// One validator error as problems (an object with two unknown keys is two problems).
fn explain(error: ValidationError<'_>) -> Vec<Problem> {
    let path: Vec<Step> = error
        .instance_path()
        .iter()
        .map(|segment| match segment {
            LocationSegment::Property(key) => Step::Key(key.into_owned()),
            LocationSegment::Index(i) => Step::Index(i),
        })
        .collect();
    let at = |message: Text| {
        vec![Problem {
            path: path.clone(),
            message,
            kind: ProblemKind::Value,
        }]
    };
    let under = |key: &str, message: Text, kind| Problem {
        path: [path.clone(), vec![Step::Key(key.to_string())]].concat(),
        message,
        kind,
    };
    let instance = error.instance();
    match error.kind() {
        Kind::Required { property } => {
            vec![under(
                property.as_str().unwrap_or_default(),
                Text::new("schema-required"),
                ProblemKind::Missing,
            )]
        }
        Kind::AdditionalProperties { unexpected } | Kind::UnevaluatedProperties { unexpected } => {
            unexpected
                .iter()
                .map(|key| under(key, Text::new("schema-undeclared"), ProblemKind::Undeclared))
                .collect()
        }
        Kind::Type { kind } => at(Text::new("schema-type").arg("types", type_names(kind))),
        Kind::Enum { options } => {
            at(Text::new("schema-enum").arg("options", options_text(options)))
        }
        Kind::Constant { expected_value } => {
            at(Text::new("schema-constant").arg("value", text(expected_value).into_owned()))
        }
        Kind::MaxLength { limit } => at(Text::new("schema-max-length")
            .arg("limit", *limit)
            .arg("count", characters(instance))),
        Kind::MinLength { limit: 1 } => at(Text::new("schema-empty")),
        Kind::MinLength { limit } => at(Text::new("schema-min-length")
            .arg("limit", *limit)
            .arg("count", characters(instance))),
        // Bounds as the schema writes them (2.5, 1e3), never reformatted.
        Kind::Maximum { limit } => at(Text::new("schema-maximum").arg("limit", limit.to_string())),
        Kind::Minimum { limit } => at(Text::new("schema-minimum").arg("limit", limit.to_string())),
        Kind::ExclusiveMaximum { limit } => {
            at(Text::new("schema-exclusive-maximum").arg("limit", limit.to_string()))
        }
        Kind::ExclusiveMinimum { limit } => {
            at(Text::new("schema-exclusive-minimum").arg("limit", limit.to_string()))
        }
        Kind::MultipleOf { multiple_of } => {
            at(Text::new("schema-multiple-of").arg("multiple", multiple_of.to_string()))
        }
        Kind::MaxItems { limit } => at(Text::new("schema-max-items")
            .arg("limit", *limit)
            .arg("count", items(instance))),
        Kind::MinItems { limit } => at(Text::new("schema-min-items")
            .arg("limit", *limit)
            .arg("count", items(instance))),
        Kind::UniqueItems => at(Text::new("schema-unique-items")),
        Kind::MaxProperties { limit } => {
            at(Text::new("schema-max-properties").arg("limit", *limit))
        }
        Kind::MinProperties { limit } => {
            at(Text::new("schema-min-properties").arg("limit", *limit))
        }
        Kind::Pattern { pattern } => {
            at(Text::new("schema-pattern").arg("pattern", pattern.as_str()))
        }
        Kind::Format { format } => at(Text::new("schema-format").arg("format", format.as_str())),
        Kind::AnyOf { .. } | Kind::OneOfNotValid { .. } => at(Text::new("schema-no-shape")),
        Kind::OneOfMultipleValid { .. } => at(Text::new("schema-many-shapes")),
        Kind::FalseSchema | Kind::Not { .. } => at(Text::new("schema-not-allowed")),
        // Rare keywords: the validator's own words, without the value (it may be long).
        _ => at(Text::new("schema-other").arg("detail", error.masked().to_string())),
    }
}

/// `text`, `a whole number`, `text or null`.
fn type_names(kind: &TypeKind) -> Text {
    let name = |t: JsonType| {
        let name = match t {
            JsonType::String => "string",
            JsonType::Integer => "integer",
            JsonType::Number => "number",
            JsonType::Boolean => "boolean",
            JsonType::Array => "array",
            JsonType::Object => "object",
            JsonType::Null => "null",
        };
        Text::new("schema-type-name").arg("type", name)
    };
    match kind {
        TypeKind::Single(t) => name(*t),
        // "null" last: "text or null" reads as the optional field it usually is.
        TypeKind::Multiple(set) => {
            let names: Vec<Text> = set
                .iter()
                .filter(|t| *t != JsonType::Null)
                .chain(set.iter().filter(|t| *t == JsonType::Null))
                .map(name)
                .collect();
            // "a or (b or c)": each language joins two at a time.
            names
                .into_iter()
                .rev()
                .reduce(|rest, first| Text::new("schema-or").arg("first", first).arg("rest", rest))
                .unwrap_or_else(|| name(JsonType::Null))
        }
    }
}

/// The enum's values as a person reads them: `formal, casual` (null left out: it stands
/// for "no value", which an optional field allows anyway).
fn options_text(options: &Value) -> String {
    options
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| !v.is_null())
        .map(|v| text(v).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value as text: a string without its quotes, anything else as JSON.
fn text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// A string's length as JSON Schema counts it: in Unicode code points.
fn characters(value: &Value) -> usize {
    value.as_str().map_or(0, |s| s.chars().count())
}

fn items(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

/// `questions[2].answer`, or `` for the root.
pub fn path_text(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => {
                let _ = write!(out, ".{key}");
            }
            Step::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}
