//! Tests of `picoschema.rs`.

use serde_json::json;

use super::*;

fn schema(value: Value) -> Value {
    to_json_schema(&value).unwrap().unwrap()
}

#[test]
fn empty_schemas_are_none() {
    assert_eq!(to_json_schema(&Value::Null).unwrap(), None);
    assert_eq!(to_json_schema(&json!("")).unwrap(), None);
}

#[test]
fn scalar_types_with_and_without_descriptions() {
    for t in ["string", "number", "integer", "boolean", "null"] {
        assert_eq!(schema(json!(t)), json!({ "type": t }));
    }
    assert_eq!(schema(json!("any")), json!({}));
    assert_eq!(
        schema(json!("number, A numeric value")),
        json!({"type": "number", "description": "A numeric value"})
    );
}

#[test]
fn descriptions_keep_their_commas_and_trailing_spaces() {
    assert_eq!(
        description("string, A description, with multiple, commas"),
        ("string", Some("A description, with multiple, commas"))
    );
    assert_eq!(
        description("string,    A text string with extra whitespace    "),
        ("string", Some("A text string with extra whitespace    "))
    );
    assert_eq!(description("string"), ("string", None));
}

#[test]
fn json_schema_passes_through() {
    let email = json!({"type": "string", "format": "email"});
    assert_eq!(schema(email.clone()), email);
    assert_eq!(
        schema(json!({"properties": {"foo": {"type": "string"}}})),
        json!({"properties": {"foo": {"type": "string"}}, "type": "object"})
    );
}

#[test]
fn a_basic_object_requires_every_field_in_order() {
    let out = schema(json!({"field1": "boolean", "field2": "string"}));
    assert_eq!(
        out,
        json!({
            "type": "object",
            "properties": {"field1": {"type": "boolean"}, "field2": {"type": "string"}},
            "required": ["field1", "field2"],
            "additionalProperties": false,
        })
    );
    assert_eq!(
        serde_json::to_string(&out["properties"]).unwrap(),
        r#"{"field1":{"type":"boolean"},"field2":{"type":"string"}}"#,
        "the order of the file is kept"
    );
}

#[test]
fn optional_fields_are_not_required_and_nullable() {
    assert_eq!(
        schema(json!({"req": "string, required field", "nonreq?": "boolean, optional field"})),
        json!({
            "type": "object",
            "properties": {
                "req": {"type": "string", "description": "required field"},
                "nonreq": {"type": ["boolean", "null"], "description": "optional field"},
            },
            "required": ["req"],
            "additionalProperties": false,
        })
    );
}

#[test]
fn nested_objects() {
    assert_eq!(
        schema(
            json!({"user": {"name": "string", "contact": {"email": "string", "phone?": "string"}}})
        ),
        json!({
            "type": "object",
            "properties": {"user": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "contact": {
                        "type": "object",
                        "properties": {"email": {"type": "string"}, "phone": {"type": ["string", "null"]}},
                        "required": ["email"],
                        "additionalProperties": false,
                    },
                },
                "required": ["name", "contact"],
                "additionalProperties": false,
            }},
            "required": ["user"],
            "additionalProperties": false,
        })
    );
}

#[test]
fn arrays_with_descriptions() {
    assert_eq!(
        schema(json!({"tags(array, list of tags)": "string, the tag", "vector(array)": "number"})),
        json!({
            "type": "object",
            "properties": {
                "tags": {"type": "array", "description": "list of tags", "items": {"type": "string", "description": "the tag"}},
                "vector": {"type": "array", "items": {"type": "number"}},
            },
            "required": ["tags", "vector"],
            "additionalProperties": false,
        })
    );
    assert_eq!(
        schema(json!({"items?(array)": "string"}))["properties"]["items"],
        json!({"type": ["array", "null"], "items": {"type": "string"}})
    );
}

#[test]
fn optional_objects_and_arrays_of_objects() {
    assert_eq!(
        schema(json!({
            "obj?(object, a nested object)": {"nest1?": "string"},
            "arr(array, array of objects)": {"nest2?": "boolean"},
        })),
        json!({
            "type": "object",
            "properties": {
                "obj": {
                    "type": ["object", "null"],
                    "description": "a nested object",
                    "properties": {"nest1": {"type": ["string", "null"]}},
                    "additionalProperties": false,
                },
                "arr": {
                    "type": "array",
                    "description": "array of objects",
                    "items": {
                        "type": "object",
                        "properties": {"nest2": {"type": ["boolean", "null"]}},
                        "additionalProperties": false,
                    },
                },
            },
            "required": ["arr"],
            "additionalProperties": false,
        })
    );
}

#[test]
fn enums_gain_null_when_optional_once() {
    assert_eq!(
        schema(json!({"color?(enum, the enum)": ["RED", "BLUE", "GREEN"]})),
        json!({
            "type": "object",
            "properties": {"color": {"description": "the enum", "enum": ["RED", "BLUE", "GREEN", null]}},
            "additionalProperties": false,
        })
    );
    assert_eq!(
        schema(json!({"status(enum)": ["ACTIVE", "INACTIVE"]}))["properties"]["status"],
        json!({"enum": ["ACTIVE", "INACTIVE"]})
    );
    assert_eq!(
        schema(json!({"c?(enum)": ["A", null, "B"]}))["properties"]["c"],
        json!({"enum": ["A", null, "B"]})
    );
}

#[test]
fn any_and_wildcards() {
    assert_eq!(
        schema(json!({"first": "any", "second?": "any, could be anything"})),
        json!({
            "type": "object",
            "properties": {"first": {}, "second": {"description": "could be anything"}},
            "required": ["first"],
            "additionalProperties": false,
        })
    );
    assert_eq!(
        schema(json!({"otherField": "string, another string", "(*)": "any, whatever you want"})),
        json!({
            "type": "object",
            "properties": {"otherField": {"type": "string", "description": "another string"}},
            "required": ["otherField"],
            "additionalProperties": {"description": "whatever you want"},
        })
    );
    assert_eq!(
        schema(json!({"(*)": "number, lucky number"})),
        json!({
            "type": "object",
            "properties": {},
            "additionalProperties": {"type": "number", "description": "lucky number"},
        })
    );
}

#[test]
fn bad_schemas_say_where_and_why() {
    let err = to_json_schema(&json!(123)).unwrap_err();
    assert!(
        err.message.contains("only of objects and strings"),
        "{err:?}"
    );
    let err = to_json_schema(&json!({"a": {"name(invalid)": "value"}})).unwrap_err();
    assert_eq!(err.path, ["a", "name(invalid)"]);
    assert!(
        err.message
            .contains("parenthetical types must be 'object' or 'array'")
    );
    let err = to_json_schema(&json!({"who": "CustomType"})).unwrap_err();
    assert!(err.message.contains("unknown type `CustomType`"), "{err:?}");
}
