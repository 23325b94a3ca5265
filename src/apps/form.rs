//! The form an app's page shows, built once at load from the input schema: one field per
//! property, its kind from the property's type. An input a simple form cannot fill in
//! (objects, lists of objects, several types at once) makes the app API-only.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::FieldHint;

/// A text field longer than this (`maxLength`) is a textarea unless a hint says otherwise.
const TEXTAREA_FROM: u64 = 200;

/// What the page shows for an app's input.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum Form {
    /// The fields, in the schema's order (none for an app without input).
    Fields { fields: Vec<Field> },
    /// The input cannot be a simple form: the app runs through the API only.
    ApiOnly {
        /// The first field no form input can fill in.
        field: String,
        /// Why, in a sentence that ends with the fix.
        reason: String,
    },
}

impl Form {
    /// The fields; none when the app is API-only.
    pub fn fields(&self) -> &[Field] {
        match self {
            Self::Fields { fields } => fields,
            Self::ApiOnly { .. } => &[],
        }
    }

    pub fn is_api_only(&self) -> bool {
        matches!(self, Self::ApiOnly { .. })
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields().iter().find(|field| field.name == name)
    }
}

/// One input of the form.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Field {
    /// The property's name: the input's `name` attribute and the key in the run's input.
    pub name: String,
    /// The property's `title`, or its name made readable (`key_points` → "Key points").
    pub label: String,
    /// The property's `description` (Picoschema's text after the comma).
    pub help: Option<String>,
    /// Whether the schema requires it and `input.default` does not supply it: the run is
    /// refused without it.
    pub required: bool,
    pub kind: FieldKind,
    /// The value the form starts with: the field's `input.default`.
    pub default: Option<Value>,
}

/// Which input the page shows, with the limits a browser can check before sending.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// `<input type="text">`.
    Line { max_length: Option<u64> },
    /// `<textarea>`.
    Textarea { max_length: Option<u64> },
    /// `<select>` of the enum's values (as text).
    Select { options: Vec<String> },
    /// `<input type="number" step="1">`.
    Integer { min: Option<i64>, max: Option<i64> },
    /// `<input type="number" step="any">`.
    Number { min: Option<f64>, max: Option<f64> },
    /// `<input type="checkbox">`: checked is `true`, unchecked `false`.
    Checkbox,
    /// A `<textarea>` of a list of texts, one per line.
    Lines,
}

impl Field {
    /// Whether the field holds text a hint (`line` or `textarea`) applies to.
    pub fn is_text(&self) -> bool {
        matches!(
            self.kind,
            FieldKind::Line { .. } | FieldKind::Textarea { .. }
        )
    }
}

/// The form for `schema` (an object schema, or none), and the problems of the hints
/// (`promptship.fields`) that name a field which does not hold text.
pub fn build(
    schema: Option<&Value>,
    defaults: &Map<String, Value>,
    hints: &BTreeMap<String, FieldHint>,
) -> (Form, Vec<String>) {
    let empty = Map::new();
    let properties = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required: Vec<&str> = schema
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut fields = Vec::new();
    let mut problems = Vec::new();
    let mut api_only = None;
    for (name, property) in properties {
        let hint = hints.get(name).copied();
        let kind = match kind(property, hint) {
            Ok(kind) => kind,
            Err(shape) => {
                if hint.is_some() {
                    problems.push(hint_problem(name, hint, shape));
                }
                api_only.get_or_insert_with(|| Form::ApiOnly {
                    field: name.clone(),
                    reason: format!(
                        "`{name}` is {shape}, which a form cannot fill in, so the app runs \
                         through the API only; for a form, use only strings, numbers, \
                         booleans, enums and lists of strings in input.schema"
                    ),
                });
                continue;
            }
        };
        let field = Field {
            name: name.clone(),
            label: property
                .get("title")
                .and_then(Value::as_str)
                .map_or_else(|| humanize(name), str::to_string),
            help: property
                .get("description")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            required: required.contains(&name.as_str()) && !defaults.contains_key(name),
            kind,
            default: defaults.get(name).cloned(),
        };
        if hint.is_some() && !field.is_text() {
            problems.push(hint_problem(name, hint, kind_name(&field.kind)));
        }
        fields.push(field);
    }
    (api_only.unwrap_or(Form::Fields { fields }), problems)
}

fn hint_problem(name: &str, hint: Option<FieldHint>, shape: &str) -> String {
    let hint = match hint {
        Some(FieldHint::Textarea) => "textarea",
        _ => "line",
    };
    format!("promptship.fields makes `{name}` a {hint}, but `{name}` is {shape}, not text")
}

/// The input for one property, or what its shape is when no simple input fits.
fn kind(property: &Value, hint: Option<FieldHint>) -> Result<FieldKind, &'static str> {
    if let Some(values) = property.get("enum").and_then(Value::as_array) {
        let options: Option<Vec<String>> = values
            .iter()
            .filter(|v| !v.is_null())
            .map(option_text)
            .collect();
        return options
            .map(|options| FieldKind::Select { options })
            .ok_or("an enum with objects or lists among its values");
    }
    match types(property).as_slice() {
        ["string"] => {
            let max_length = property.get("maxLength").and_then(Value::as_u64);
            let long = max_length.is_some_and(|n| n > TEXTAREA_FROM);
            Ok(match hint {
                Some(FieldHint::Textarea) => FieldKind::Textarea { max_length },
                None if long => FieldKind::Textarea { max_length },
                _ => FieldKind::Line { max_length },
            })
        }
        ["integer"] => Ok(FieldKind::Integer {
            min: bound(property, "minimum", "exclusiveMinimum", 1.0).map(|m| m.ceil() as i64),
            max: bound(property, "maximum", "exclusiveMaximum", -1.0).map(|m| m.floor() as i64),
        }),
        ["number"] => Ok(FieldKind::Number {
            min: property.get("minimum").and_then(Value::as_f64),
            max: property.get("maximum").and_then(Value::as_f64),
        }),
        ["boolean"] => Ok(FieldKind::Checkbox),
        ["array"] => match property.get("items").map(types).as_deref() {
            Some(["string"]) => Ok(FieldKind::Lines),
            Some(["object"]) => Err("a list of objects"),
            _ => Err("a list of values other than strings"),
        },
        ["object"] => Err("an object"),
        [] if property.get("properties").is_some() => Err("an object"),
        [] => Err("of any type"),
        _ => Err("of several types"),
    }
}

/// An integer's bound: `minimum`, or one past `exclusiveMinimum` (`step` is 1 or -1).
fn bound(property: &Value, inclusive: &str, exclusive: &str, step: f64) -> Option<f64> {
    property.get(inclusive).and_then(Value::as_f64).or_else(|| {
        property
            .get(exclusive)
            .and_then(Value::as_f64)
            .map(|m| m + step)
    })
}

/// The types a schema allows, `null` left out (Picoschema makes optional fields
/// nullable, and a form leaves an optional field out instead).
fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|t| *t != "null")
    .collect()
}

/// An enum value as the form shows and submits it; `None` for objects and lists.
pub fn option_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    }
}

fn kind_name(kind: &FieldKind) -> &'static str {
    match kind {
        FieldKind::Line { .. } | FieldKind::Textarea { .. } => "text",
        FieldKind::Select { .. } => "an enum",
        FieldKind::Integer { .. } => "a whole number",
        FieldKind::Number { .. } => "a number",
        FieldKind::Checkbox => "a boolean",
        FieldKind::Lines => "a list",
    }
}

/// A property name made readable for a label: `key_points` and `keyPoints` become "Key
/// points"; an acronym (`URL`, `userID`) keeps its capitals.
pub fn humanize(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1);
        if c == '_' || c == '-' {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
            continue;
        }
        let boundary = c.is_uppercase() && previous.is_some_and(char::is_lowercase);
        if boundary {
            out.push(' ');
        }
        if boundary && !next.is_some_and(|n| n.is_uppercase()) {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    let out = out.trim_end();
    let mut chars = out.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests;
