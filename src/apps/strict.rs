//! The output schema linted against the rules of OpenAI's structured outputs in strict
//! mode (`response_format: json_schema` with `strict: true`), which refuse a schema that
//! breaks them: the root is an object, every property is required, every object says
//! `additionalProperties: false`, at most 100 properties in all and 5 levels of nesting.

use serde_json::Value;

/// Most properties a strict schema may have, over all its objects.
pub const MAX_PROPERTIES: usize = 100;
/// Most levels of objects inside objects (the root is level 1).
pub const MAX_DEPTH: usize = 5;

/// A rule a schema breaks: where (a JSON path into the schema, `$` being the root), what
/// and how to fix it.
#[derive(Debug, PartialEq)]
pub struct StrictFinding {
    pub path: String,
    pub problem: String,
    pub fix: String,
}

/// Every rule `schema` breaks; none when it can be sent with `strict: true`.
pub fn lint(schema: &Value) -> Vec<StrictFinding> {
    let mut lint = Lint::default();
    if !types(schema).eq(["object"]) {
        lint.find(
            "$",
            "the root of the schema is not an object",
            "describe the answer as fields (an object), e.g. `summary: string`",
        );
    }
    lint.walk(schema, "$", 0);
    if lint.properties > MAX_PROPERTIES {
        lint.find(
            "$",
            &format!(
                "the schema has {} properties; strict mode allows {MAX_PROPERTIES}",
                lint.properties
            ),
            "ask for fewer fields",
        );
    }
    lint.findings
}

#[derive(Default)]
struct Lint {
    findings: Vec<StrictFinding>,
    properties: usize,
}

impl Lint {
    fn find(&mut self, path: &str, problem: &str, fix: &str) {
        self.findings.push(StrictFinding {
            path: path.to_string(),
            problem: problem.to_string(),
            fix: fix.to_string(),
        });
    }

    /// Checks the schema at `path`, inside `depth` objects.
    fn walk(&mut self, schema: &Value, path: &str, depth: usize) {
        let Value::Object(fields) = schema else {
            return;
        };
        let properties = fields.get("properties").and_then(Value::as_object);
        let is_object = properties.is_some() || types(schema).any(|t| t == "object");
        let depth = depth + usize::from(is_object);
        if is_object {
            if depth == MAX_DEPTH + 1 {
                self.find(
                    path,
                    &format!(
                        "objects are nested {depth} levels deep; strict mode allows {MAX_DEPTH}"
                    ),
                    "flatten the answer: fewer objects inside objects",
                );
            }
            if fields.get("additionalProperties") != Some(&Value::Bool(false)) {
                self.find(
                    path,
                    "the object may have other keys (`additionalProperties` is not false)",
                    "add `additionalProperties: false` (in Picoschema: remove the `(*)` key)",
                );
            }
            let required: Vec<&str> = fields
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for name in properties.into_iter().flat_map(|p| p.keys()) {
                if !required.contains(&name.as_str()) {
                    self.find(
                        &child(path, &["properties", name]),
                        &format!("`{name}` is optional; strict mode requires every property"),
                        &format!(
                            "make `{name}` required (in Picoschema: remove the `?`); for \"no \
                             value\", let it be null, e.g. `type: [string, \"null\"]`"
                        ),
                    );
                }
            }
        }
        for (name, property) in properties.into_iter().flatten() {
            self.properties += 1;
            self.walk(property, &child(path, &["properties", name]), depth);
        }
        match fields.get("items") {
            Some(items @ Value::Object(_)) => self.walk(items, &child(path, &["items"]), depth),
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, &child(path, &["items", &i.to_string()]), depth);
                }
            }
            _ => {}
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for (i, member) in fields
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                self.walk(member, &child(path, &[key, &i.to_string()]), depth);
            }
        }
        for key in ["$defs", "definitions"] {
            for (name, definition) in fields
                .get(key)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                self.walk(definition, &child(path, &[key, name]), 0);
            }
        }
        if let Some(extra @ Value::Object(_)) = fields.get("additionalProperties") {
            self.walk(extra, &child(path, &["additionalProperties"]), depth);
        }
    }
}

fn types(schema: &Value) -> impl Iterator<Item = &str> {
    let list: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
}

/// `path.a.b`, with `["…"]` for a key that is not a plain name.
fn child(path: &str, keys: &[&str]) -> String {
    let mut out = path.to_string();
    for key in keys {
        let plain = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        if plain {
            out.push('.');
            out.push_str(key);
        } else {
            out.push_str(&format!(
                "[{}]",
                serde_json::to_string(key).unwrap_or_default()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::apps::picoschema::to_json_schema;

    fn pico(value: Value) -> Value {
        to_json_schema(&value).unwrap().unwrap()
    }

    fn paths(findings: &[StrictFinding]) -> Vec<&str> {
        findings.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn a_picoschema_of_required_fields_is_strict() {
        let schema = pico(json!({
            "summary": "string",
            "points(array)": {"text": "string", "why": "string"},
            "level(enum)": ["easy", "hard"],
        }));
        assert_eq!(lint(&schema), []);
    }

    #[test]
    fn optional_fields_and_wildcards_are_found_with_their_paths() {
        let schema = pico(json!({
            "summary?": "string",
            "points(array)": {"text": "string", "note?": "string"},
            "extra": {"(*)": "string"},
        }));
        let findings = lint(&schema);
        assert_eq!(
            paths(&findings),
            [
                "$.properties.summary",
                "$.properties.points.items.properties.note",
                "$.properties.extra",
            ]
        );
        assert!(
            findings[0].fix.contains("remove the `?`"),
            "{:?}",
            findings[0]
        );
        assert!(findings[2].problem.contains("additionalProperties"));
    }

    #[test]
    fn json_schema_objects_need_additional_properties_false() {
        let findings = lint(&json!({
            "type": "object",
            "properties": {"a": {"type": "string"}, "weird key": {"type": "object", "properties": {}, "additionalProperties": false}},
            "required": ["a", "weird key"],
        }));
        assert_eq!(paths(&findings), ["$"]);
    }

    #[test]
    fn the_root_must_be_an_object() {
        assert_eq!(paths(&lint(&json!({"type": "string"}))), ["$"]);
        assert_eq!(
            paths(&lint(
                &json!({"type": ["object", "null"], "properties": {}, "additionalProperties": false})
            )),
            ["$"]
        );
    }

    #[test]
    fn at_most_five_levels_and_a_hundred_properties() {
        let deep = pico(json!({"a": {"b": {"c": {"d": {"e": {"f": "string"}}}}}}));
        let findings = lint(&deep);
        assert_eq!(
            paths(&findings),
            ["$.properties.a.properties.b.properties.c.properties.d.properties.e"]
        );
        let five = pico(json!({"a": {"b": {"c": {"d": {"e": "string"}}}}}));
        assert_eq!(lint(&five), []);

        let wide: serde_json::Map<String, Value> = (0..101)
            .map(|i| (format!("f{i}"), json!("string")))
            .collect();
        let findings = lint(&pico(Value::Object(wide)));
        assert_eq!(paths(&findings), ["$"]);
        assert!(findings[0].problem.contains("101 properties"));
    }
}
