//! Tests of `form.rs`: each schema type's field, labels and help, required and default
//! values, API-only inputs, misplaced hints, and the shipped apps' forms.

use std::path::Path;

use serde_json::json;

use super::*;
use crate::apps::{
    Apps,
    tests::{load_one, problems, site},
    validate_input,
};

/// The form of the one app of `text`.
fn form(text: &str) -> Form {
    let apps = load_one("app", text).unwrap();
    apps.get("app").unwrap().form.clone()
}

#[test]
fn each_picoschema_type_becomes_its_field() {
    let form = form(
        "---\ninput:\n  schema:\n    title: string, what to call it\n    body: string\n    \
         tone(enum, how it sounds): [formal, casual]\n    count: integer\n    ratio?: number\n    \
         urgent: boolean, mark it urgent\n    tags?(array, one per line): string\n  \
         default: {count: 3}\npromptship.fields: {body: textarea, title: line}\n---\n{{title}}",
    );
    let field = |name, label: &str, help: Option<&str>, required, kind, default| Field {
        name: String::from(name),
        label: label.into(),
        help: help.map(Into::into),
        required,
        kind,
        default,
    };
    assert_eq!(
        form,
        Form::Fields {
            fields: vec![
                field(
                    "title",
                    "Title",
                    Some("what to call it"),
                    true,
                    FieldKind::Line { max_length: None },
                    None
                ),
                field(
                    "body",
                    "Body",
                    None,
                    true,
                    FieldKind::Textarea { max_length: None },
                    None
                ),
                field(
                    "tone",
                    "Tone",
                    Some("how it sounds"),
                    true,
                    FieldKind::Select {
                        options: vec!["formal".into(), "casual".into()]
                    },
                    None
                ),
                // Required by the schema, but its default fills it in.
                field(
                    "count",
                    "Count",
                    None,
                    false,
                    FieldKind::Integer {
                        min: None,
                        max: None
                    },
                    Some(json!(3))
                ),
                field(
                    "ratio",
                    "Ratio",
                    None,
                    false,
                    FieldKind::Number {
                        min: None,
                        max: None
                    },
                    None
                ),
                field(
                    "urgent",
                    "Urgent",
                    Some("mark it urgent"),
                    true,
                    FieldKind::Checkbox,
                    None
                ),
                field(
                    "tags",
                    "Tags",
                    Some("one per line"),
                    false,
                    FieldKind::Lines,
                    None
                ),
            ]
        }
    );
    assert!(!form.is_api_only());
    assert_eq!(form.field("tone").unwrap().label, "Tone");
}

#[test]
fn json_schema_limits_titles_and_long_texts_reach_the_fields() {
    let form = form(
        r#"---
input:
  schema:
    type: object
    properties:
      name: {type: string, title: Your name, maxLength: 40}
      story: {type: string, maxLength: 4000}
      note: {type: string, maxLength: 4000}
      age: {type: integer, minimum: 0, exclusiveMaximum: 130}
      score: {type: number, minimum: 0.5, maximum: 9.5}
      size: {enum: [1, 2, 3, null]}
promptship.fields: {note: line}
---
{{name}}"#,
    );
    let kinds: Vec<(&str, &str, &FieldKind)> = form
        .fields()
        .iter()
        .map(|f| (f.name.as_str(), f.label.as_str(), &f.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                "name",
                "Your name",
                &FieldKind::Line {
                    max_length: Some(40)
                }
            ),
            // Longer than 200 characters: several lines, unless a hint says one.
            (
                "story",
                "Story",
                &FieldKind::Textarea {
                    max_length: Some(4000)
                }
            ),
            (
                "note",
                "Note",
                &FieldKind::Line {
                    max_length: Some(4000)
                }
            ),
            (
                "age",
                "Age",
                &FieldKind::Integer {
                    min: Some(0),
                    max: Some(129)
                }
            ),
            (
                "score",
                "Score",
                &FieldKind::Number {
                    min: Some(0.5),
                    max: Some(9.5)
                }
            ),
            (
                "size",
                "Size",
                &FieldKind::Select {
                    options: vec!["1".into(), "2".into(), "3".into()]
                }
            ),
        ]
    );
    assert!(
        form.fields().iter().all(|f| !f.required),
        "JSON Schema without `required`"
    );
}

#[test]
fn an_app_without_input_has_an_empty_form() {
    let form = form("---\ndescription: Says hello.\n---\nHello.");
    assert_eq!(form, Form::Fields { fields: vec![] });
}

#[test]
fn inputs_no_form_can_fill_in_make_the_app_api_only() {
    for (schema, field, shape) in [
        (
            "title: string\n    points(array):\n      text: string",
            "points",
            "a list of objects",
        ),
        ("meta:\n      author: string", "meta", "an object"),
        ("anything: any", "anything", "of any type"),
        (
            "counts(array): integer",
            "counts",
            "a list of values other than strings",
        ),
    ] {
        let text = format!("---\ninput:\n  schema:\n    {schema}\n---\nx");
        let form = form(&text);
        let Form::ApiOnly {
            field: named,
            reason,
        } = &form
        else {
            panic!("{schema}: {form:?}");
        };
        assert_eq!(named, field, "{schema}");
        assert!(
            reason.contains(&format!(
                "`{field}` is {shape}, which a form cannot fill in"
            )),
            "{reason}"
        );
        assert!(reason.contains("through the API only"), "{reason}");
        assert!(form.fields().is_empty());
    }
}

#[test]
fn a_hint_on_a_field_that_is_not_text_is_refused_at_load() {
    let found = problems(
        "---\ninput:\n  schema:\n    count: integer\n    kind(enum): [a, b]\n\
         promptship.fields: {count: textarea, kind: line}\n---\n{{count}}{{kind}}",
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].contains(
            "app.prompt:6: promptship.fields makes `count` a textarea, but `count` is a whole \
             number, not text; fix: remove the hint"
        ),
        "{}",
        found[0]
    );
    assert!(
        found[1].contains("makes `kind` a line, but `kind` is an enum"),
        "{}",
        found[1]
    );
}

#[test]
fn names_become_readable_labels() {
    for (name, label) in [
        ("text", "Text"),
        ("key_points", "Key points"),
        ("keyPoints", "Key points"),
        ("no-text", "No text"),
        ("userID", "User ID"),
        ("URL", "URL"),
        ("_private_", "Private"),
        ("제목", "제목"),
    ] {
        assert_eq!(humanize(name), label, "{name}");
    }
}

#[test]
fn the_shipped_apps_have_forms_and_valid_samples() {
    let apps = Apps::load(Path::new("apps"), &site()).unwrap();
    let kinds = |name: &str| -> Vec<(String, FieldKind, bool)> {
        apps.get(name)
            .unwrap()
            .form
            .fields()
            .iter()
            .map(|f| (f.name.clone(), f.kind.clone(), f.required))
            .collect()
    };
    let textarea = FieldKind::Textarea { max_length: None };
    let select = |options: &[&str]| FieldKind::Select {
        options: options.iter().map(ToString::to_string).collect(),
    };
    let integer = FieldKind::Integer {
        min: None,
        max: None,
    };
    assert_eq!(
        kinds("summarize"),
        [
            ("text".into(), textarea.clone(), true),
            (
                "kind".into(),
                select(&["notes", "transcript", "article"]),
                false
            ),
            ("points".into(), integer.clone(), false),
            ("questions".into(), FieldKind::Checkbox, false),
        ]
    );
    assert_eq!(
        kinds("translate"),
        [
            ("text".into(), textarea.clone(), true),
            ("direction".into(), select(&["ko-en", "en-ko"]), false),
            (
                "tone".into(),
                select(&["formal", "polite", "casual"]),
                false
            ),
            ("keep".into(), FieldKind::Lines, false),
        ]
    );
    assert_eq!(
        kinds("interview"),
        [
            ("posting".into(), textarea.clone(), true),
            ("project".into(), textarea.clone(), true),
            (
                "level".into(),
                select(&["intern", "junior", "senior"]),
                false
            ),
            ("count".into(), integer, false),
            ("topics".into(), FieldKind::Lines, false),
        ]
    );
    assert_eq!(
        kinds("extract"),
        [
            ("text".into(), textarea.clone(), true),
            (
                "kind".into(),
                select(&["contact", "invoice", "event"]),
                false
            ),
            ("fields".into(), FieldKind::Lines, false),
        ]
    );
    assert_eq!(
        kinds("image"),
        [
            ("prompt".into(), textarea, true),
            (
                "style".into(),
                select(&["photo", "illustration", "watercolor", "pixel art"]),
                false
            ),
            ("no_text".into(), FieldKind::Checkbox, false),
        ]
    );
    assert_eq!(
        apps.get("summarize").unwrap().form.fields()[0]
            .help
            .as_deref(),
        Some("the notes, transcript or article")
    );
    assert_eq!(apps.get("image").unwrap().form.fields()[2].label, "No text");
    for app in apps.iter() {
        let sample = json!(app.sample.clone().unwrap());
        validate_input(app, &sample).unwrap_or_else(|e| panic!("{}: {e:?}", app.name));
    }
}
