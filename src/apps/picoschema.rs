//! Picoschema, dotprompt's short schema language, turned into JSON Schema exactly as the
//! reference (`picoschema.ts`) does; a schema that already is JSON Schema passes through.
//!
//! `name: string, a description`, `name?: …` (optional, and then also nullable),
//! `tags(array, a description): string`, `address(object): {…}`, `color(enum): [A, B]`,
//! `(*): type` (any other key), and the scalar types `string`, `number`, `integer`,
//! `boolean`, `null` and `any`. Named schemas need a resolver, which apps have none of.

use serde_json::{Map, Value, json};

const SCALAR_TYPES: &[&str] = &["any", "boolean", "integer", "null", "number", "string"];
const WILDCARD: &str = "(*)";

/// A Picoschema that cannot be turned into JSON Schema: what is wrong and where (the
/// keys leading to it).
#[derive(Debug, PartialEq)]
pub struct PicoschemaError {
    pub path: Vec<String>,
    pub message: String,
}

/// The JSON Schema for `schema`; `None` for an empty one (`null`, `""`, absent), as
/// the reference returns `null`.
pub fn to_json_schema(schema: &Value) -> Result<Option<Value>, PicoschemaError> {
    if is_falsy(schema) {
        return Ok(None);
    }
    if let Value::String(text) = schema {
        return string_schema(text, &[]).map(Some);
    }
    if is_json_schema(schema) {
        return Ok(Some(schema.clone()));
    }
    // `typeof properties === "object"`, which null and lists are too.
    if let Some(Value::Object(_) | Value::Array(_) | Value::Null) = schema.get("properties") {
        let mut out = schema.clone();
        out["type"] = json!("object");
        return Ok(Some(out));
    }
    parse(schema, &[]).map(Some)
}

/// The reference treats `!schema` as no schema at all.
fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// A JSON Schema-ish `type` at the top level (a string naming a JSON type).
fn is_json_schema(value: &Value) -> bool {
    value
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| SCALAR_TYPES.contains(&t) || t == "object" || t == "array")
}

fn parse(value: &Value, path: &[String]) -> Result<Value, PicoschemaError> {
    match value {
        Value::String(text) => string_schema(text, path),
        Value::Object(fields) => object_schema(fields, path),
        other => Err(error(
            path,
            format!(
                "a Picoschema consists only of objects and strings, got {other}: write a type \
                 such as `string` or `number, what it is`"
            ),
        )),
    }
}

fn string_schema(text: &str, path: &[String]) -> Result<Value, PicoschemaError> {
    let (type_name, description) = description(text);
    if !SCALAR_TYPES.contains(&type_name) {
        return Err(error(
            path,
            format!(
                "unknown type `{type_name}`: use string, number, integer, boolean, null or any \
                 (named schemas are not supported)"
            ),
        ));
    }
    let mut schema = Map::new();
    if type_name != "any" {
        schema.insert("type".into(), json!(type_name));
    }
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        schema.insert("description".into(), json!(description));
    }
    Ok(Value::Object(schema))
}

fn object_schema(fields: &Map<String, Value>, path: &[String]) -> Result<Value, PicoschemaError> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut additional = json!(false);
    for (key, value) in fields {
        let here = [path, std::slice::from_ref(key)].concat();
        if key == WILDCARD {
            additional = parse(value, &here)?;
            continue;
        }
        let key_parts = PropertyKey::parse(key);
        if !key_parts.optional {
            required.push(json!(key_parts.name));
        }
        let mut property = match key_parts.type_name {
            None => {
                let mut property = parse(value, &here)?;
                // Optional fields are also nullable.
                if key_parts.optional
                    && let Some(Value::String(t)) = property.get("type").cloned()
                {
                    property["type"] = json!([t, "null"]);
                }
                property
            }
            Some("array") => json!({
                "type": if key_parts.optional { json!(["array", "null"]) } else { json!("array") },
                "items": parse(value, &here)?,
            }),
            Some("object") => {
                let mut property = parse(value, &here)?;
                if key_parts.optional {
                    let t = property.get("type").cloned().unwrap_or(Value::Null);
                    property["type"] = json!([t, "null"]);
                }
                property
            }
            Some("enum") => {
                let Value::Array(values) = value else {
                    return Err(error(
                        &here,
                        "an enum lists its values: write `field(enum): [A, B]`".into(),
                    ));
                };
                let mut values = values.clone();
                if key_parts.optional && !values.contains(&Value::Null) {
                    values.push(Value::Null);
                }
                json!({ "enum": values })
            }
            Some(other) => {
                return Err(error(
                    &here,
                    format!(
                        "parenthetical types must be 'object' or 'array' (or 'enum'), got \
                         `{other}`"
                    ),
                ));
            }
        };
        if let (Some(description), Some(_)) = (key_parts.description, key_parts.type_name)
            && !description.is_empty()
        {
            property["description"] = json!(description);
        }
        properties.insert(key_parts.name.to_string(), property);
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    schema.insert("additionalProperties".into(), additional);
    Ok(Value::Object(schema))
}

/// `name?(type, description)` taken apart.
struct PropertyKey<'a> {
    name: &'a str,
    optional: bool,
    type_name: Option<&'a str>,
    description: Option<&'a str>,
}

impl<'a> PropertyKey<'a> {
    fn parse(key: &'a str) -> Self {
        // As `key.split('(')` destructured into two: text after a second `(` is dropped.
        let mut parts = key.split('(');
        let name = parts.next().unwrap_or_default();
        let type_info = parts.next().filter(|info| !info.is_empty());
        let (name, optional) = match name.strip_suffix('?') {
            Some(name) => (name, true),
            None => (name, false),
        };
        let (type_name, description) = match type_info {
            None => (None, None),
            Some(info) => {
                // The last character is taken to be the closing parenthesis.
                let end = info.char_indices().last().map_or(0, |(i, _)| i);
                let (type_name, description) = self::description(&info[..end]);
                (Some(type_name), description)
            }
        };
        Self {
            name,
            optional,
            type_name,
            description,
        }
    }
}

/// `type, description` split at the first comma, spaces after it skipped (the
/// reference's `/(.*?), *(.*)$/`).
fn description(text: &str) -> (&str, Option<&str>) {
    match text.split_once(',') {
        None => (text, None),
        Some((type_name, rest)) => (type_name, Some(rest.trim_start_matches(' '))),
    }
}

fn error(path: &[String], message: String) -> PicoschemaError {
    PicoschemaError {
        path: path.to_vec(),
        message,
    }
}

#[cfg(test)]
mod tests;
