//! Tests of `template.rs`.

use serde_json::json;

use super::*;

fn render(source: &str, data: Value) -> String {
    let mut registry = registry();
    registry.register_template("t", for_rendering(Template::compile(source).unwrap()));
    registry.render("t", &js::in_key_order(data)).unwrap()
}

// The expected texts are what Handlebars.js 4 (dotprompt's) renders with
// `noEscape: true` for the same template and data.
#[test]
fn values_print_as_javascript_prints_them() {
    assert_eq!(
        render(
            "a {{x}} b {{y}} c {{z}} d {{{w}}} e {{n}}|{{t}}|{{missing}}|{{missing.deep}}",
            json!({"x": 1.0, "y": 1.5, "z": [1, 2], "w": {"a": 1}, "n": null, "t": false})
        ),
        "a 1 b 1.5 c 1,2 d [object Object] e |false||"
    );
    assert_eq!(render("{{x}}", json!({"x": "<b>&"})), "<b>&", "no escaping");
}

#[test]
fn if_unless_and_with_use_javascripts_emptiness() {
    assert_eq!(
        render(
            "{{#if o}}yes{{else}}no{{/if}} {{#if zero}}yes{{else}}no{{/if}} {{#if arr}}yes{{else}}no{{/if}} {{#if zero includeZero=true}}Z{{/if}}",
            json!({"o": {}, "zero": 0, "arr": []})
        ),
        "yes no no Z"
    );
    assert_eq!(
        render(
            "{{#with obj}}{{a}}{{/with}}|{{#with empty}}E{{else}}none{{/with}}|{{#with gone}}G{{else}}none{{/with}}",
            json!({"obj": {"a": "A"}, "empty": {}})
        ),
        "A|E|none"
    );
    assert_eq!(
        render("{{#unless a}}\nU\n{{/unless}}\n", json!({"a": false})),
        "U\n"
    );
}

#[test]
fn each_walks_objects_in_javascripts_key_order() {
    assert_eq!(
        render(
            "{{#each obj}}{{@key}}={{this}};{{/each}}",
            json!({"obj": {"b": 1, "a": 2, "10": 3, "2": 4}})
        ),
        "2=4;10=3;b=1;a=2;"
    );
}

#[test]
fn standalone_block_lines_vanish_as_in_handlebars_js() {
    assert_eq!(
        render(
            "{{#if notes}}\nNotes: {{notes}}\n{{else}}\nNo notes.\n{{/if}}\nEnd",
            json!({"notes": ""})
        ),
        "No notes.\nEnd"
    );
    assert_eq!(
        render(
            "  {{#each items}}\n  - {{@index}}: {{name}}\n  {{/each}}\ndone",
            json!({"items": [{"name": "x"}, {"name": "y"}]})
        ),
        "  - 0: x\n  - 1: y\ndone"
    );
    assert_eq!(
        render(
            "{{! a comment }}\nhello\n{{!-- long\ncomment --}}\nworld",
            json!({})
        ),
        "hello\nworld"
    );
}

#[test]
fn dotprompt_helpers() {
    assert_eq!(
        render(
            "{{json missing}}|{{json o indent=2}}|{{json s}}|{{json n}}",
            json!({"o": {"b": 1, "a": [1, {}]}, "s": "x\"y\n", "n": 1.0})
        ),
        "undefined|{\n  \"b\": 1,\n  \"a\": [\n    1,\n    {}\n  ]\n}|\"x\\\"y\\n\"|1"
    );
    assert_eq!(
        render(
            "{{#ifEquals a \"x\"}}yes{{else}}no{{/ifEquals}}{{#ifEquals n 1}}one{{/ifEquals}}{{#unlessEquals a b}}diff{{/unlessEquals}}",
            json!({"a": "x", "n": 1.0})
        ),
        "yesonediff"
    );
    assert_eq!(
        render("{{role \"system\"}}x", json!({})),
        "<<<dotprompt:role:system>>>x"
    );
    assert_eq!(
        render(
            "{{lookup items 1}} {{lookup obj key}}",
            json!({"items": ["a", 2.0], "obj": {"k": "v"}, "key": "k"})
        ),
        "2 v"
    );
}
