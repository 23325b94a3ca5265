//! A run's input and a model's answer checked against the app's schemas (compiled once,
//! at load). The input comes from a submitted form (text turned into typed JSON) or from
//! the API as JSON; every problem is reported at once, per field, in plain words.

mod form_text;

use serde_json::{Map, Value};

use self::form_text::typed;
use super::{
    App,
    explain::{self, Problem, ProblemKind, Step},
    form::Form,
};
use crate::{domain::has_control_characters, i18n::Text};

/// How many of an invalid answer's problems its error names.
const SHOWN_PROBLEMS: usize = 3;

/// What is wrong with one field of an input, or with the whole input.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// The field's name (the input schema's property); empty for the input as a whole.
    pub field: String,
    /// What is wrong and how to put it right, to follow the field's name: "is required",
    /// "must be one of: formal, casual".
    pub message: Text,
}

impl FieldError {
    fn new(field: &str, message: Text) -> Self {
        Self {
            field: field.to_string(),
            message,
        }
    }
}

/// The input of a submitted form (`application/x-www-form-urlencoded` pairs), typed by
/// the app's form and checked like [`validate_input`]: numbers parsed, a checkbox
/// present is `true` and absent `false`, a list is one item per non-blank line, an empty
/// field is left out (so its default applies), and names the form does not have (a CSRF
/// token, a button) are ignored. When a name repeats, the last value counts.
///
/// On success, the input the template renders: `input.default` merged under it.
pub fn input_from_form(
    app: &App,
    pairs: &[(String, String)],
) -> Result<Map<String, Value>, Vec<FieldError>> {
    if let Form::ApiOnly { reason, .. } = &app.form {
        return Err(vec![FieldError::new(
            "",
            Text::new("input-api-only").arg("reason", reason.as_str()),
        )]);
    }
    let mut input = Map::new();
    let mut unreadable = Vec::new();
    for field in app.form.fields() {
        let submitted = pairs
            .iter()
            .rev()
            .find(|(name, _)| *name == field.name)
            .map(|(_, value)| value.as_str());
        match typed(app, field, submitted) {
            Ok(Some(value)) => {
                input.insert(field.name.clone(), value);
            }
            Ok(None) => {}
            Err(message) => unreadable.push(FieldError::new(&field.name, message)),
        }
    }
    // A field that could not be read is left out, and "is required" would repeat it.
    match check(app, input) {
        Ok(input) if unreadable.is_empty() => Ok(input),
        Ok(_) => Err(unreadable),
        Err(errors) => Err(merged_errors(app, unreadable, errors)),
    }
}

/// `first`, then the errors of `then` on fields `first` says nothing about, in order.
fn merged_errors(app: &App, first: Vec<FieldError>, then: Vec<FieldError>) -> Vec<FieldError> {
    let mut all = first;
    let more: Vec<FieldError> = then.into_iter().filter(|e| !names_field(&all, e)).collect();
    all.extend(more);
    sorted(app, all)
}

/// Whether `errors` already has an error for `error`'s field.
fn names_field(errors: &[FieldError], error: &FieldError) -> bool {
    errors.iter().any(|e| e.field == error.field)
}

/// The JSON input of an API run, checked against the input schema: it must be an
/// object, with only the schema's fields (an unknown one is an error here, unlike on a
/// form), valid for the schema once `input.default` is merged under it, and free of
/// control characters other than tab and line breaks.
///
/// On success, the input the template renders: `input.default` merged under it.
pub fn validate_input(app: &App, input: &Value) -> Result<Map<String, Value>, Vec<FieldError>> {
    let Value::Object(input) = input else {
        return Err(vec![FieldError::new("", Text::new("input-not-object"))]);
    };
    let unknown: Vec<FieldError> = input
        .keys()
        .filter(|key| !accepts(app, key))
        .map(|key| FieldError::new(key, unknown_field(app)))
        .collect();
    match check(app, input.clone()) {
        Ok(input) if unknown.is_empty() => Ok(input),
        Ok(_) => Err(unknown),
        Err(errors) => Err(merged_errors(app, unknown, errors)),
    }
}

/// The model's answer to a JSON app, parsed and checked against its output schema; the
/// error names the first problems and their places in the answer. An app without an
/// output schema only has its answer parsed.
pub fn validate_output(app: &App, text: &str) -> Result<Value, Text> {
    if text.trim().is_empty() {
        return Err(Text::new("output-empty"));
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Text::new("output-not-json").arg("detail", e.to_string()))?;
    let Some(validator) = &app.output_validator else {
        return Ok(value);
    };
    let problems = explain::problems(validator, &value);
    if problems.is_empty() {
        return Ok(value);
    }
    let shown: Vec<Text> = problems
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(|problem| match explain::path_text(&problem.path) {
            path if path.is_empty() => {
                Text::new("output-problem").arg("problem", problem.message.clone())
            }
            path => Text::new("field-problem")
                .arg("field", path)
                .arg("problem", problem.message.clone()),
        })
        .collect();
    Err(Text::new("output-schema-mismatch")
        .arg("problems", shown)
        .arg("more", problems.len().saturating_sub(SHOWN_PROBLEMS)))
}

/// The checks both kinds of input share, on an input made only of fields the app takes.
fn check(app: &App, input: Map<String, Value>) -> Result<Map<String, Value>, Vec<FieldError>> {
    // `{ ...input.default, ...input }`, as the render merges them: a required field
    // with a default may be left out.
    let mut merged = app.input_defaults.clone();
    merged.extend(input);
    let mut errors: Vec<FieldError> = merged
        .iter()
        .filter(|(key, value)| has_control_characters(key) || holds_control(value))
        .map(|(key, _)| FieldError::new(key, Text::new("input-control")))
        .collect();
    let merged = Value::Object(merged);
    if let Some(validator) = &app.input_validator {
        for problem in explain::problems(validator, &merged) {
            if problem.kind == ProblemKind::Undeclared && problem.path.len() == 1 {
                // Reported by the caller (the API), or impossible (a form).
                continue;
            }
            errors.push(field_error(problem));
        }
    }
    match merged {
        Value::Object(merged) if errors.is_empty() => Ok(merged),
        _ => Err(sorted(app, errors)),
    }
}

/// A problem as an error of the field at the head of its path.
fn field_error(problem: Problem) -> FieldError {
    let mut path = problem.path.into_iter();
    let field = match path.next() {
        Some(Step::Key(key)) => key,
        Some(Step::Index(i)) => i.to_string(),
        None => {
            return FieldError::new(
                "",
                Text::new("input-problem").arg("problem", problem.message),
            );
        }
    };
    // "`text` of item 2": the rest of the path, innermost first, each step inside the
    // next as the language says it.
    let place = path
        .map(|step| match step {
            Step::Key(key) => Text::new("input-key").arg("key", key),
            Step::Index(i) => Text::new("input-item").arg("number", i + 1),
        })
        .reduce(|outer, inner| {
            Text::new("input-of")
                .arg("inner", inner)
                .arg("outer", outer)
        });
    let message = match place {
        None => problem.message,
        Some(place) => Text::new("input-inside")
            .arg("place", place)
            .arg("problem", problem.message),
    };
    FieldError::new(&field, message)
}

/// The errors in the form's order: the input as a whole, then each field as the schema
/// lists it, then fields it does not know.
fn sorted(app: &App, mut errors: Vec<FieldError>) -> Vec<FieldError> {
    let order = all_fields_of(app);
    errors.sort_by_key(|e| {
        if e.field.is_empty() {
            0
        } else {
            order
                .iter()
                .position(|name| *name == e.field)
                .map_or(usize::MAX, |i| i + 1)
        }
    });
    let mut seen = Vec::new();
    errors.retain(|e| {
        let new = !seen.contains(e);
        if new {
            seen.push(e.clone());
        }
        new
    });
    errors
}

/// The input schema's property names, in its order.
fn all_fields_of(app: &App) -> Vec<&str> {
    app.input_schema
        .as_ref()
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Whether the API may send `key`: a declared field, or any key when the schema lets
/// other keys in (Picoschema's `(*)`).
fn accepts(app: &App, key: &str) -> bool {
    let Some(schema) = &app.input_schema else {
        return false;
    };
    schema
        .get("properties")
        .is_some_and(|p| p.get(key).is_some())
        || matches!(
            schema.get("additionalProperties"),
            Some(Value::Bool(true) | Value::Object(_))
        )
}

fn unknown_field(app: &App) -> Text {
    let names = all_fields_of(app);
    if names.is_empty() {
        Text::new("input-no-fields")
    } else {
        Text::new("input-unknown-field").arg("fields", names.join(", "))
    }
}

/// Whether any text in the value (keys too) has a control character other than a tab or
/// a line break; the same rule as the chat's (`domain::has_control_characters`).
fn holds_control(value: &Value) -> bool {
    match value {
        Value::String(s) => has_control_characters(s),
        Value::Array(items) => items.iter().any(holds_control),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| has_control_characters(key) || holds_control(value)),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
