//! Tests of `js.rs`.

use serde_json::json;

use super::*;

#[test]
fn numbers_print_as_javascript_prints_them() {
    for (value, text) in [
        (json!(1.0), "1"),
        (json!(-0.0), "0"),
        (json!(1.5), "1.5"),
        (json!(123456789012_i64), "123456789012"),
        (json!(1e21), "1e+21"),
        (json!(1e20), "100000000000000000000"),
        (json!(1.5e-7), "1.5e-7"),
        (json!(0.000001), "0.000001"),
        (json!(1e300), "1e+300"),
        (json!(0.1), "0.1"),
        (json!(-2.5), "-2.5"),
        (json!(u64::MAX), "18446744073709552000"),
    ] {
        assert_eq!(display(Some(&value)), text, "{value}");
    }
}

#[test]
fn lists_join_with_commas_and_objects_are_object_object() {
    let value = json!([1, null, "a", [2, 3], {"k": 1}, true]);
    assert_eq!(display(Some(&value)), "1,,a,2,3,[object Object],true");
    assert_eq!(display(None), "");
    assert_eq!(display(Some(&json!(null))), "");
}

#[test]
fn stringify_matches_json_stringify_with_and_without_indent() {
    let value = json!({"b": 1, "a": [1, {}], "e": {}, "s": "x\"y\n\u{1b}é"});
    assert_eq!(
        stringify(Some(&value), ""),
        r#"{"b":1,"a":[1,{}],"e":{},"s":"x\"y\n\u001bé"}"#
    );
    assert_eq!(
        stringify(Some(&value), "  "),
        "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    {}\n  ],\n  \"e\": {},\n  \"s\": \"x\\\"y\\n\\u001bé\"\n}"
    );
    assert_eq!(stringify(Some(&json!([1])), "--"), "[\n--1\n]");
    assert_eq!(stringify(None, ""), "undefined");
    assert_eq!(indent(Some(&json!(40))), " ".repeat(10));
    assert_eq!(indent(Some(&json!(true))), "");
}

#[test]
fn truthiness_follows_handlebars_if() {
    // `{{#if}}` renders its block unless the value is falsy or an empty list.
    let shown = |v: Value| truthy(Some(&v)) && !is_empty(Some(&v));
    assert!(shown(json!({})));
    assert!(shown(json!([0])));
    assert!(!shown(json!([])));
    assert!(!shown(json!(0)));
    assert!(!shown(json!("")));
    assert!(!is_empty(Some(&json!(0))), "0 is shown with includeZero");
    assert!(is_empty(None));
}

#[test]
fn strict_equality_is_javascripts() {
    assert!(strictly_equal(Some(&json!(1)), Some(&json!(1.0))));
    assert!(!strictly_equal(Some(&json!(1)), Some(&json!("1"))));
    assert!(!strictly_equal(None, Some(&json!(null))));
    assert!(strictly_equal(None, None));
    assert!(!strictly_equal(Some(&json!({})), Some(&json!({}))));
}

#[test]
fn trim_uses_javascripts_whitespace() {
    assert_eq!(trim("\u{feff}\u{a0} x \n"), "x");
    assert_eq!(trim("\u{85}x"), "\u{85}x");
}

#[test]
fn index_keys_come_first_as_in_javascript() {
    let value = in_key_order(json!({"b": 1, "a": 2, "10": 3, "2": {"z": 0, "1": 1}, "01": 5}));
    assert_eq!(
        serde_json::to_string(&value).unwrap(),
        r#"{"2":{"1":1,"z":0},"10":3,"b":1,"a":2,"01":5}"#
    );
}
