//! A submitted form's text typed as its field's JSON value: numbers parsed, a checkbox's
//! presence, a list's lines; an empty field is no value, so its default applies.

use serde_json::{Number, Value};

use crate::{
    apps::{
        App,
        form::{Field, FieldKind, option_text},
    },
    i18n::Text,
};

/// One submitted text as the field's JSON value; `None` for an empty field.
pub fn typed(app: &App, field: &Field, submitted: Option<&str>) -> Result<Option<Value>, Text> {
    if field.kind == FieldKind::Checkbox {
        return Ok(Some(Value::Bool(submitted.is_some())));
    }
    // Browsers send a textarea's line breaks as CRLF but count them as one character
    // for `maxlength`; LF keeps the server's count the same as the browser's.
    let text = submitted.unwrap_or_default().replace("\r\n", "\n");
    if text.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(match &field.kind {
        FieldKind::Line { .. } => Value::String(text.trim().to_string()),
        FieldKind::Textarea { .. } => Value::String(text),
        FieldKind::Select { .. } => {
            let text = text.trim();
            // The enum's value whose text was submitted: a number stays a number.
            enum_values(app, &field.name)
                .find(|value| option_text(value).as_deref() == Some(text))
                .cloned()
                .unwrap_or_else(|| Value::String(text.to_string()))
        }
        FieldKind::Integer { .. } => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| Text::new("input-not-integer"))?,
        FieldKind::Number { .. } => {
            number(text.trim()).ok_or_else(|| Text::new("input-not-number"))?
        }
        FieldKind::Lines => Value::Array(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(|line| Value::String(line.to_string()))
                .collect(),
        ),
        FieldKind::Checkbox => unreachable!("handled above"),
    }))
}

/// A number as typed: an integer stays an integer (`5`, not `5.0`).
fn number(text: &str) -> Option<Value> {
    if let Ok(integer) = text.parse::<i64>() {
        return Some(Value::from(integer));
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

fn enum_values<'a>(app: &'a App, name: &str) -> impl Iterator<Item = &'a Value> {
    app.input_schema
        .as_ref()
        .and_then(|s| s.get("properties"))
        .and_then(|p| p.get(name))
        .and_then(|p| p.get("enum"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}
