//! A JSON Schema validator's errors in plain English: where in the value (the path) and
//! what is wrong, worded to follow the thing it is about ("is required", "must be one
//! of: formal, casual"), so a form, the API and an invalid model answer read alike.

use std::{borrow::Cow, fmt::Write as _};

use jsonschema::{
    ValidationError,
    error::{TypeKind, ValidationErrorKind as Kind},
    paths::LocationSegment,
    types::JsonType,
};
use serde_json::Value;

/// One step into a JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// What is wrong at a place in the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The steps from the root to the value (for a missing or undeclared key, to the key).
    pub path: Vec<Step>,
    /// What is wrong, to follow the value's name: "must be text".
    pub message: String,
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
    let at = |message: String| {
        vec![Problem {
            path: path.clone(),
            message,
            kind: ProblemKind::Value,
        }]
    };
    let under = |key: &str, message: &str, kind| Problem {
        path: [path.clone(), vec![Step::Key(key.to_string())]].concat(),
        message: message.to_string(),
        kind,
    };
    let instance = error.instance();
    match error.kind() {
        Kind::Required { property } => {
            vec![under(
                property.as_str().unwrap_or_default(),
                "is required",
                ProblemKind::Missing,
            )]
        }
        Kind::AdditionalProperties { unexpected } | Kind::UnevaluatedProperties { unexpected } => {
            unexpected
                .iter()
                .map(|key| {
                    under(
                        key,
                        "is not declared by the schema",
                        ProblemKind::Undeclared,
                    )
                })
                .collect()
        }
        Kind::Type { kind } => at(format!("must be {}", type_names(kind))),
        Kind::Enum { options } => at(format!("must be one of: {}", options_text(options))),
        Kind::Constant { expected_value } => at(format!("must be {}", text(expected_value))),
        Kind::MaxLength { limit } => at(format!(
            "must be at most {limit} characters (it has {})",
            characters(instance)
        )),
        Kind::MinLength { limit: 1 } => at("must not be empty".into()),
        Kind::MinLength { limit } => at(format!(
            "must be at least {limit} characters (it has {})",
            characters(instance)
        )),
        Kind::Maximum { limit } => at(format!("must be at most {limit}")),
        Kind::Minimum { limit } => at(format!("must be at least {limit}")),
        Kind::ExclusiveMaximum { limit } => at(format!("must be less than {limit}")),
        Kind::ExclusiveMinimum { limit } => at(format!("must be more than {limit}")),
        Kind::MultipleOf { multiple_of } => at(format!("must be a multiple of {multiple_of}")),
        Kind::MaxItems { limit } => at(format!(
            "must have at most {limit} item(s) (it has {})",
            items(instance)
        )),
        Kind::MinItems { limit } => at(format!(
            "must have at least {limit} item(s) (it has {})",
            items(instance)
        )),
        Kind::UniqueItems => at("must not list the same item twice".into()),
        Kind::MaxProperties { limit } => at(format!("must have at most {limit} field(s)")),
        Kind::MinProperties { limit } => at(format!("must have at least {limit} field(s)")),
        Kind::Pattern { pattern } => at(format!("must match the pattern `{pattern}`")),
        Kind::Format { format } => at(format!("must be a valid {format}")),
        Kind::AnyOf { .. } | Kind::OneOfNotValid { .. } => {
            at("does not match any of the shapes the schema allows".into())
        }
        Kind::OneOfMultipleValid { .. } => {
            at("matches more than one of the shapes the schema allows".into())
        }
        Kind::FalseSchema | Kind::Not { .. } => at("is not allowed here".into()),
        // Rare keywords: the validator's own words, without the value (it may be long).
        _ => at(format!("does not match the schema: {}", error.masked())),
    }
}

/// `text`, `a whole number`, `text or null`.
fn type_names(kind: &TypeKind) -> String {
    let name = |t: JsonType| match t {
        JsonType::String => "text",
        JsonType::Integer => "a whole number",
        JsonType::Number => "a number",
        JsonType::Boolean => "true or false",
        JsonType::Array => "a list",
        JsonType::Object => "an object",
        JsonType::Null => "null",
    };
    match kind {
        TypeKind::Single(t) => name(*t).to_string(),
        // "null" last: "text or null" reads as the optional field it usually is.
        TypeKind::Multiple(set) => set
            .iter()
            .filter(|t| *t != JsonType::Null)
            .chain(set.iter().filter(|t| *t == JsonType::Null))
            .map(name)
            .collect::<Vec<_>>()
            .join(" or "),
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
