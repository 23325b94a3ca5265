//! Tests of `document.rs`.

use super::*;

fn parts(source: &str) -> Option<(&str, &str)> {
    split(source).map(|p| (&source[p.front_matter], &source[p.body_start..]))
}

#[test]
fn front_matter_and_body_split_as_the_reference_regex_does() {
    assert_eq!(parts("---\nname: a\n---\nbody"), Some(("name: a", "body")));
    assert_eq!(
        parts("---\r\nname: a\r\n---\r\nbody\r\n"),
        Some(("name: a", "body\r\n"))
    );
    assert_eq!(parts("---\rname: a\r---\rbody"), Some(("name: a", "body")));
    // Whitespace after a `---` may span lines; the body starts after the last break.
    assert_eq!(
        parts("---  \n\nname: a\n---  \n \n  body"),
        Some(("name: a", "  body"))
    );
    // License headers and blank lines may come first.
    assert_eq!(
        parts("# Copyright\n\n  \n---\nname: a\n---\nbody"),
        Some(("name: a", "body"))
    );
    // The first closing line wins; `----` and `--- x` do not close.
    assert_eq!(
        parts("---\na: 1\n--- x\n----\n---\nb\n---\nc"),
        Some(("a: 1\n--- x\n----", "b\n---\nc"))
    );
}

#[test]
fn files_without_front_matter_are_all_template() {
    assert_eq!(parts("just text {{x}}"), None);
    assert_eq!(
        parts("---\nname: a\n---"),
        None,
        "no line break after the closing"
    );
    assert_eq!(parts("text\n---\nname: a\n---\nbody"), None);
    assert_eq!(
        parts("---\n\n---\nbody"),
        None,
        "an empty front matter is none"
    );
    assert_eq!(parts("---\n---\nbody"), None);
    let document = Document::parse("x.prompt", "no front matter {{q}}\n").unwrap();
    assert_eq!(
        document.template, "no front matter {{q}}\n",
        "not trimmed, as dotprompt"
    );
}

#[test]
fn the_template_is_the_trimmed_body_and_knows_its_line() {
    let document =
        Document::parse("x.prompt", "---\nname: x\n---\n\n\n  Hello {{name}}\n\n").unwrap();
    assert_eq!(document.template, "Hello {{name}}");
    assert_eq!(document.template_line, 6);
}

#[test]
fn yaml_errors_name_the_file_line() {
    let err = Document::parse(
        "apps/x.prompt",
        "---\nname: x\nconfig:\n  temprature: 0.3\n---\nhi",
    )
    .unwrap_err();
    assert_eq!(err.line, Some(4), "{err}");
    assert!(err.problem.contains("unknown field `temprature`"), "{err}");
    assert!(!err.problem.contains("at line"), "{err}");
    let err = Document::parse("apps/x.prompt", "---\nname: x\nname: y\n---\nhi").unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
}

#[test]
fn unknown_promptship_keys_are_errors_and_other_namespaces_are_ignored() {
    let err =
        Document::parse("x.prompt", "---\nname: x\npromptship.titel: T\n---\nhi").unwrap_err();
    assert_eq!(err.line, Some(3));
    assert!(err.problem.contains("`promptship.titel`"), "{err}");
    assert!(err.fix.contains("promptship.title"), "{err}");
    let err = Document::parse("x.prompt", "---\nnmae: x\n---\nhi").unwrap_err();
    assert!(err.problem.contains("unknown key `nmae`"), "{err}");
    let document = Document::parse(
        "x.prompt",
        "---\nname: x\nother.tool: 1\npromptship.title: T\npromptship.fields: {notes: textarea}\n---\nhi",
    )
    .unwrap();
    assert_eq!(document.front.title.as_deref(), Some("T"));
    assert_eq!(document.front.fields["notes"], FieldHint::Textarea);
}

#[test]
fn yaml_is_read_as_version_1_2() {
    let document = Document::parse(
        "x.prompt",
        "---\npromptship.sample: {a: yes, b: on, c: 1_000, d: 0x1F, e: true}\n---\nhi",
    )
    .unwrap();
    let sample = Value::Object(document.front.sample.unwrap());
    assert_eq!(
        sample,
        serde_json::json!({"a": "yes", "b": "on", "c": "1_000", "d": 31, "e": true})
    );
}
