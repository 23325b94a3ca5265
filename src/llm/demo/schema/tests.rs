//! Examples made for schemas of every kind, each checked with the `jsonschema` crate.

use serde_json::json;

use super::*;

/// The example of `schema` for the question "How do I prepare a booking service
/// interview?", checked with the `jsonschema` crate.
fn valid_example(schema: Value) -> Value {
    let question = "How do I prepare a booking service interview?";
    let value = example(&schema, question);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{value} is not valid against {schema}: {errors:?}"
    );
    assert_eq!(
        example(&schema, question),
        value,
        "the same schema, another value"
    );
    value
}

#[test]
fn a_strict_object_gets_every_property_with_words_of_the_question() {
    let value = valid_example(json!({
        "type": "object",
        "properties": {
            "summary": {"type": "string"},
            "key_points": {"type": "array", "items": {"type": "string"}},
            "confident": {"type": "boolean"},
            "score": {"type": "number"},
            "count": {"type": "integer"}
        },
        "required": ["summary", "key_points", "confident", "score", "count"],
        "additionalProperties": false
    }));
    assert_eq!(value["summary"], "Summary (demo): How prepare booking");
    assert_eq!(
        value["key_points"],
        json!([
            "Key points 1 (demo): service interview How",
            "Key points 2 (demo): prepare booking service"
        ])
    );
    assert_eq!(value["count"], 3);
}

#[test]
fn enums_consts_and_string_lengths_are_kept() {
    let value = valid_example(json!({
        "type": "object",
        "properties": {
            "level": {"type": "string", "enum": ["intern", "junior", "senior"]},
            "levels": {"type": "array", "items": {"enum": ["intern", "junior", "senior"]}},
            "kind": {"const": "event"},
            "code": {"type": "string", "minLength": 2, "maxLength": 4},
            "essay": {"type": "string", "minLength": 200},
            "when": {"type": "string", "format": "date-time"}
        },
        "required": ["level", "levels", "kind", "code", "essay", "when"],
        "additionalProperties": false
    }));
    assert_eq!(value["level"], "intern");
    assert_eq!(value["levels"], json!(["junior", "senior"]));
    assert_eq!(value["code"], "Code");
}

#[test]
fn numbers_stay_within_their_bounds_and_steps() {
    valid_example(json!({
        "type": "object",
        "properties": {
            "a": {"type": "integer", "minimum": 10, "maximum": 20},
            "b": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 2},
            "c": {"type": "number", "minimum": 0, "maximum": 1},
            "d": {"type": "number", "exclusiveMinimum": 5},
            "e": {"type": "integer", "multipleOf": 5, "minimum": 7},
            "f": {"type": "number", "multipleOf": 0.1, "minimum": 0.25, "maximum": 0.35},
            "g": {"type": "integer", "maximum": -4},
            "h": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 3},
                  "minItems": 3, "uniqueItems": true}
        },
        "required": ["a", "b", "c", "d", "e", "f", "g", "h"],
        "additionalProperties": false
    }));
}

#[test]
fn item_counts_follow_min_and_max_items() {
    let value = valid_example(json!({
        "type": "object",
        "properties": {
            "one": {"type": "array", "items": {"type": "string"}, "maxItems": 1},
            "four": {"type": "array", "items": {"type": "string"}, "minItems": 4},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "boolean"}],
                     "items": false}
        },
        "required": ["one", "four", "pair"],
        "additionalProperties": false
    }));
    assert_eq!(value["one"].as_array().unwrap().len(), 1);
    assert_eq!(value["four"].as_array().unwrap().len(), 4);
}

#[test]
fn references_nullable_types_and_any_of_take_a_real_value() {
    let value = valid_example(json!({
        "type": "object",
        "$defs": {
            "person": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "email": {"type": ["string", "null"]}},
                "required": ["name", "email"],
                "additionalProperties": false
            }
        },
        "definitions": {"step": {"type": "string", "enum": ["plan", "do"]}},
        "properties": {
            "organizer": {"$ref": "#/$defs/person"},
            "guests": {"type": "array", "items": {"$ref": "#/$defs/person"}},
            "step": {"$ref": "#/definitions/step"},
            "note": {"anyOf": [{"type": "null"}, {"type": "string"}]},
            "either": {"anyOf": [{"type": "integer", "minimum": 50}, {"type": "string"}]},
            "both": {"allOf": [
                {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
                {"properties": {"y": {"type": "boolean"}}, "required": ["y"]}
            ]}
        },
        "required": ["organizer", "guests", "step", "note", "either", "both"],
        "additionalProperties": false
    }));
    assert!(value["organizer"]["email"].is_string());
    assert!(value["note"].is_string());
    assert_eq!(value["either"], 50);
    assert_eq!(value["both"], json!({"x": 3, "y": true}));
}

#[test]
fn a_schema_that_names_itself_ends() {
    let value = valid_example(json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#"}},
            "parent": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}
        },
        "required": ["name", "children", "parent"],
        "additionalProperties": false
    }));
    assert!(value["children"].is_array());
}

#[test]
fn a_huge_request_gets_a_bounded_answer() {
    let schema = json!({"type": "array", "minItems": 1_000_000_000u64,
                        "items": {"type": "array", "minItems": 1_000_000_000u64,
                                  "items": {"type": "string", "minLength": 1_000_000_000u64}}});
    let value = example(&schema, "x");
    assert!(value.to_string().len() < 1_000_000);
}

#[test]
fn words_skip_short_english_words_but_keep_korean_ones() {
    assert_eq!(
        words("How do I ask for a raise? 연봉 협상 방법, how?"),
        ["How", "ask", "for", "raise", "연봉", "협상", "방법"]
    );
    assert_eq!(words("?!"), ["sample", "demo", "text"]);
}

#[test]
fn sampled_examples_vary_with_the_seed_and_repeat_with_it() {
    let schema = json!({
        "type": "object",
        "properties": {"inputs": {"type": "array", "minItems": 3, "maxItems": 3,
            "items": {"type": "object", "properties": {"message": {"type": "string"}},
                      "required": ["message"]}}},
        "required": ["inputs"],
    });
    let question = "Questions about trains, festivals, markets, temples, hiking and food in Korea";
    let first = sampled_example(&schema, question, 1);
    assert_eq!(
        sampled_example(&schema, question, 1),
        first,
        "the same seed, another value"
    );
    let second = sampled_example(&schema, question, 2);
    assert_ne!(first, second);
    assert_eq!(second["inputs"].as_array().unwrap().len(), 3);
    // Without sampling, the deterministic example is unchanged.
    assert_eq!(example(&schema, question), example(&schema, question));
}
