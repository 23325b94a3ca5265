//! Tests of `validate.rs`: a form's text typed, the API's JSON checked, every error at
//! once in plain English, defaults, control characters, and the model's answer.

use serde_json::{Value, json};

use super::*;
use crate::apps::{
    Apps,
    tests::{load_one, problems},
};

/// An app with a field of every kind, and limits.
const NOTE: &str = r#"---
input:
  schema:
    type: object
    properties:
      title: {type: string, maxLength: 10, description: a short title}
      body: {type: string}
      tone: {enum: [formal, casual]}
      stars: {enum: [1, 2, 3]}
      count: {type: integer, minimum: 1, maximum: 10}
      ratio: {type: [number, "null"]}
      urgent: {type: boolean}
      tags: {type: [array, "null"], items: {type: string, maxLength: 5}, maxItems: 3}
    required: [title, body, tone, count, urgent]
    additionalProperties: false
  default:
    tone: casual
promptship.fields: {body: textarea}
---
{{title}} {{body}} {{tone}} {{stars}} {{count}} {{ratio}} {{urgent}} {{tags}}"#;

fn apps(text: &str) -> Apps {
    load_one("app", text).unwrap()
}

fn form(app: &App, pairs: &[(&str, &str)]) -> Result<Map<String, Value>, Vec<FieldError>> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    input_from_form(app, &pairs)
}

/// The errors as `field: message` lines, in order.
fn errors(result: Result<Map<String, Value>, Vec<FieldError>>) -> Vec<String> {
    result
        .expect_err("the input should be refused")
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect()
}

#[test]
fn a_forms_text_becomes_typed_json_with_the_defaults_merged_under_it() {
    let apps = apps(NOTE);
    let app = apps.get("app").unwrap();
    let input = form(
        app,
        &[
            ("csrf", "token"),
            ("title", "  Hi  "),
            ("body", "line 1\r\nline 2\r\n"),
            ("stars", "2"),
            ("count", " 4 "),
            ("ratio", "2.5"),
            ("urgent", "on"),
            ("tags", "a\r\n\r\n  b  \n\n"),
            ("submit", "Run"),
        ],
    )
    .unwrap();
    assert_eq!(
        Value::Object(input),
        json!({
            "tone": "casual",
            "title": "Hi",
            "body": "line 1\nline 2\n",
            "stars": 2,
            "count": 4,
            "ratio": 2.5,
            "urgent": true,
            "tags": ["a", "b"],
        })
    );
}

#[test]
fn empty_fields_are_left_out_and_an_unchecked_box_is_false() {
    let apps = apps(NOTE);
    let app = apps.get("app").unwrap();
    let input = form(
        app,
        &[
            ("title", "x"),
            ("body", "y"),
            ("tone", ""),
            ("stars", ""),
            ("count", "3"),
            ("ratio", "  "),
            ("tags", "\n \n"),
        ],
    )
    .unwrap();
    assert_eq!(
        Value::Object(input),
        json!({"tone": "casual", "title": "x", "body": "y", "count": 3, "urgent": false})
    );
    // The last value of a repeated name counts; a number keeps its integer form.
    let input = form(
        app,
        &[
            ("title", "x"),
            ("body", "y"),
            ("count", "1"),
            ("count", "5"),
            ("ratio", "3"),
            ("tone", "formal"),
        ],
    )
    .unwrap();
    assert_eq!(input["count"], json!(5));
    assert_eq!(serde_json::to_string(&input["ratio"]).unwrap(), "3");
    assert_eq!(input["tone"], json!("formal"));
}

#[test]
fn every_error_of_a_form_is_reported_at_once_in_the_forms_order() {
    let apps = apps(NOTE);
    let app = apps.get("app").unwrap();
    let found = errors(form(
        app,
        &[
            ("title", "far too long a title"),
            ("tone", "rude"),
            ("stars", "5"),
            ("count", "many"),
            ("ratio", "1,5"),
            ("tags", "ok\nway too long\nc\nd"),
        ],
    ));
    assert_eq!(
        found,
        [
            "title: must be at most 10 characters (it has 20)",
            "body: is required",
            "tone: must be one of: formal, casual",
            "stars: must be one of: 1, 2, 3",
            "count: must be a whole number, such as 3",
            "ratio: must be a number, such as 2.5",
            "tags: must have at most 3 item(s) (it has 4)",
            "tags: item 2 must be at most 5 characters (it has 12)",
        ]
    );
    let found = errors(form(app, &[("title", "x"), ("body", "y"), ("count", "11")]));
    assert_eq!(found, ["count: must be at most 10"]);
    let found = errors(form(app, &[("title", "x"), ("body", "y"), ("count", "0")]));
    assert_eq!(found, ["count: must be at least 1"]);
}

#[test]
fn control_characters_are_refused_in_any_text() {
    let apps = apps(NOTE);
    let app = apps.get("app").unwrap();
    let found = errors(form(
        app,
        &[
            ("title", "a\u{1b}[31m"),
            ("body", "tab\tand\nbreaks are fine"),
            ("count", "2"),
            ("tags", "ok\nnul\u{0}"),
        ],
    ));
    assert_eq!(
        found,
        [
            "title: contains control characters (such as NUL or ESC): remove them",
            "tags: contains control characters (such as NUL or ESC): remove them",
        ]
    );
}

#[test]
fn the_api_takes_an_object_of_declared_fields_relying_on_defaults() {
    let apps = apps(NOTE);
    let app = apps.get("app").unwrap();
    let input = validate_input(
        app,
        &json!({"title": "x", "body": "y", "count": 2, "urgent": false, "ratio": null}),
    )
    .unwrap();
    assert_eq!(input["tone"], json!("casual"), "the default is merged");
    assert_eq!(input["ratio"], Value::Null, "an optional field may be null");

    assert_eq!(
        errors(validate_input(app, &json!(["x"]))),
        [
            ": the input must be a JSON object of the app's fields (its input_schema in GET \
             /api/v1/apps), such as {\"text\": \"...\"}"
        ]
    );
    assert_eq!(
        errors(validate_input(
            app,
            &json!({"body": 5, "count": 2.5, "urgent": "yes", "tags": [1], "extra": 1, "tone": null})
        )),
        [
            "title: is required",
            "body: must be text",
            "tone: must be one of: formal, casual",
            "count: must be a whole number",
            "urgent: must be true or false",
            "tags: item 1 must be text",
            "extra: is not a field of this app (its fields: title, body, tone, stars, count, \
             ratio, urgent, tags)",
        ]
    );
}

#[test]
fn nested_inputs_are_checked_through_the_api_only() {
    let apps = apps(
        "---\ninput:\n  schema:\n    points(array):\n      text: string\n      weight?: number\n---\n\
         {{#each points}}{{text}}{{/each}}",
    );
    let app = apps.get("app").unwrap();
    let found = errors(form(app, &[("points", "a")]));
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with(": this app has no form: send its input as JSON to the API"),
        "{found:?}"
    );
    validate_input(app, &json!({"points": [{"text": "a", "weight": 1}]})).unwrap();
    assert_eq!(
        errors(validate_input(
            app,
            &json!({"points": [{"text": "a"}, {"weight": "x"}, {"text": "c", "z": 1}]})
        )),
        [
            "points: `weight` of item 2 must be a number or null",
            "points: `text` of item 2 is required",
            "points: `z` of item 3 is not declared by the schema",
        ]
    );
}

#[test]
fn an_app_without_input_takes_an_empty_object() {
    let apps = apps("Hello.");
    let app = apps.get("app").unwrap();
    assert!(validate_input(app, &json!({})).unwrap().is_empty());
    assert!(form(app, &[("anything", "x")]).unwrap().is_empty());
    assert_eq!(
        errors(validate_input(app, &json!({"q": 1}))),
        ["q: is not a field of this app, which takes no input"]
    );
}

#[test]
fn defaults_samples_and_schemas_are_checked_when_the_app_loads() {
    let found = problems(
        "---\ninput:\n  schema: {count: integer, tone(enum): [a, b]}\n  default: {count: five}\n\
         ---\n{{count}}{{tone}}",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("app.prompt:2: input.default: `count` must be a whole number"),
        "{}",
        found[0]
    );

    let found = problems(
        "---\ninput:\n  schema: {count: integer, tone(enum): [a, b]}\n\
         promptship.sample: {count: 2, tone: c}\n---\n{{count}}{{tone}}",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("app.prompt:4: promptship.sample: `tone` must be one of: a, b"),
        "{}",
        found[0]
    );

    let found = problems(
        "---\ninput:\n  schema:\n    type: object\n    properties: {a: {type: strin}}\n---\n{{a}}",
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("input.schema: it is not valid JSON Schema at /properties/a/type")),
        "{found:?}"
    );
}

/// A structured app, as `summarize` is.
const ANSWER: &str = r#"---
output:
  schema:
    title: string
    points(array): string
    questions(array):
      question: string
      answer: string
---
Go."#;

#[test]
fn a_valid_answer_is_parsed() {
    let apps = apps(ANSWER);
    let app = apps.get("app").unwrap();
    let text =
        r#"{"title": "T", "points": ["a"], "questions": [{"question": "q", "answer": "a"}]}"#;
    assert_eq!(
        validate_output(app, text).unwrap(),
        serde_json::from_str::<Value>(text).unwrap()
    );
}

#[test]
fn an_invalid_answer_names_its_first_three_problems_and_their_places() {
    let apps = apps(ANSWER);
    let app = apps.get("app").unwrap();
    assert_eq!(
        validate_output(app, "  ").unwrap_err().to_string(),
        "the answer is empty, where JSON was expected"
    );
    assert!(
        validate_output(app, r#"{"title": "T""#)
            .unwrap_err()
            .to_string()
            .starts_with("the answer is not valid JSON (EOF while parsing an object"),
    );
    assert_eq!(
        validate_output(app, "[]").unwrap_err().to_string(),
        "the answer does not match the app's output schema: the answer must be an object"
    );
    assert_eq!(
        validate_output(
            app,
            r#"{"title": 1, "points": "a", "questions": [{"question": "q"}, {"question": "r", "answer": 2, "x": 0}]}"#
        )
        .unwrap_err()
        .to_string(),
        "the answer does not match the app's output schema: `title` must be text; `points` \
         must be a list; `questions[0].answer` is required (and 2 more)"
    );
}

#[test]
fn a_text_app_has_its_answer_only_parsed() {
    let apps = apps("Hello.");
    let app = apps.get("app").unwrap();
    assert_eq!(validate_output(app, "[1]").unwrap(), json!([1]));
}

#[test]
fn apps_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<App>();
    shared::<Apps>();
}
