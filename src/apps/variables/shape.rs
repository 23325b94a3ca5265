//! What the schema says about a path: one step down a schema, the items `#each` walks,
//! and a Handlebars path taken apart.

use handlebars::{
    Path,
    template::{BlockParam, Parameter},
};
use serde_json::Value;

use super::Shape;

/// One step down a schema: a field of an object, an item of a list.
pub fn step<'a>(schema: &'a Value, segment: &str) -> Result<Shape<'a>, &'static str> {
    if schema.is_null() {
        // The input of an app without an input schema.
        return Err("the app has no input.schema");
    }
    if let Some(property) = schema.get("properties").and_then(|p| p.get(segment)) {
        return Ok(Some(property));
    }
    let types = types(schema);
    if types.contains(&"object") || schema.get("properties").is_some() {
        return match schema.get("additionalProperties") {
            Some(Value::Bool(true)) => Ok(None),
            Some(other @ Value::Object(_)) => Ok(Some(other)),
            _ => Err("its schema does not declare that field"),
        };
    }
    if types.contains(&"array") {
        return if segment.parse::<usize>().is_ok() {
            Ok(schema.get("items"))
        } else {
            Err("a list has only numbered items (`.length` is not supported)")
        };
    }
    if types.is_empty() {
        // No `type` (`any`, `anyOf`, `$ref`, …): anything may be read.
        return Ok(None);
    }
    Err("its schema says it is a single value, with no fields")
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The shape of one item of a list (or of a value of an object) `#each` walks.
pub fn element_shape(shape: Shape<'_>) -> Shape<'_> {
    let schema = shape?;
    if types(schema).contains(&"array") {
        return schema.get("items");
    }
    match schema.get("additionalProperties") {
        Some(other @ Value::Object(_)) if schema.get("properties").is_none_or(is_empty_map) => {
            Some(other)
        }
        _ => None,
    }
}

fn is_empty_map(value: &Value) -> bool {
    value.as_object().is_some_and(|m| m.is_empty())
}

pub fn block_params<'a>(
    param: Option<&BlockParam>,
    item: Shape<'a>,
    each: bool,
) -> Vec<(String, Shape<'a>)> {
    let name = |p: &Parameter| p.as_name().unwrap_or_default().to_string();
    match param {
        None => Vec::new(),
        Some(BlockParam::Single(p)) => vec![(name(p), item)],
        Some(BlockParam::Pair((p, index))) if each => vec![(name(p), item), (name(index), None)],
        Some(BlockParam::Pair((p, _))) => vec![(name(p), item)],
        Some(_) => Vec::new(),
    }
}

pub fn raw(path: &Path) -> &str {
    match path {
        Path::Relative((_, raw)) | Path::Local((_, _, raw)) => raw,
    }
}

/// A Handlebars path taken apart: `../../x.y`, `this.x`, `@root.x`, `@index`, `a.[b c]`.
#[derive(Debug, PartialEq)]
pub struct PathText {
    pub up: usize,
    pub this: bool,
    pub data: Option<String>,
    pub segments: Vec<String>,
}

impl PathText {
    pub fn parse(raw: &str) -> Self {
        let mut rest = raw;
        let mut up = 0;
        while let Some(after) = rest.strip_prefix("../") {
            up += 1;
            rest = after;
        }
        let mut segments = Vec::new();
        let mut current = String::new();
        let mut bracket = false;
        for c in rest.chars() {
            match c {
                '[' if !bracket && current.is_empty() => bracket = true,
                ']' if bracket => bracket = false,
                '.' | '/' if !bracket => segments.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        segments.push(current);
        segments.retain(|s| !s.is_empty());
        let mut data = None;
        if let Some(first) = segments.first()
            && let Some(name) = first.strip_prefix('@')
        {
            data = Some(name.to_string());
            segments.remove(0);
        }
        let this =
            matches!(segments.first().map(String::as_str), Some("this")) || rest.starts_with('.');
        if segments.first().is_some_and(|s| s == "this") {
            segments.remove(0);
        }
        Self {
            up,
            this,
            data,
            segments,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> (usize, bool, Option<String>, Vec<String>) {
        let path = PathText::parse(raw);
        (path.up, path.this, path.data, path.segments)
    }

    #[test]
    fn paths_are_taken_apart_as_handlebars_reads_them() {
        let segments = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let data = |d: &str| Some(d.to_string());
        assert_eq!(
            parsed("a.b/c"),
            (0, false, None, segments(&["a", "b", "c"]))
        );
        assert_eq!(parsed("../../x"), (2, false, None, segments(&["x"])));
        assert_eq!(parsed("this.x"), (0, true, None, segments(&["x"])));
        assert_eq!(parsed("./x"), (0, true, None, segments(&["x"])));
        assert_eq!(
            parsed("@root.a"),
            (0, false, data("root"), segments(&["a"]))
        );
        assert_eq!(
            parsed("../@index"),
            (1, false, data("index"), segments(&[]))
        );
        assert_eq!(
            parsed("a.[b c].[0]"),
            (0, false, None, segments(&["a", "b c", "0"]))
        );
    }
}
