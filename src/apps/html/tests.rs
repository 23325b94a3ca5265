//! Tests of `html.rs`: each structure's markup, the answer's key order, and escaping of
//! hostile text in values and keys.

use serde_json::json;

use super::*;

#[test]
fn an_object_is_a_definition_list_with_readable_keys_in_the_answers_order() {
    assert_eq!(
        output_html(&json!({"title": "Plants", "key_points": ["Light", "Water"], "count": 2})),
        "<dl class=\"result-object\"><dt>Title</dt><dd>Plants</dd>\
         <dt>Key points</dt><dd><ul class=\"result-list\"><li>Light</li><li>Water</li></ul></dd>\
         <dt>Count</dt><dd>2</dd></dl>"
    );
    // Not alphabetical: the answer's (and so the schema's) order.
    let html = output_html(&json!({"zeta": 1, "alpha": 2}));
    assert!(
        html.find("Zeta").unwrap() < html.find("Alpha").unwrap(),
        "{html}"
    );
}

#[test]
fn a_list_of_objects_with_the_same_keys_is_a_table() {
    assert_eq!(
        output_html(&json!([
            {"question": "Why?", "answer": "Because.", "tags": ["a"]},
            {"answer": "No.", "question": "How?", "tags": []},
        ])),
        "<table class=\"result-table\"><thead><tr><th scope=\"col\">Question</th>\
         <th scope=\"col\">Answer</th><th scope=\"col\">Tags</th></tr></thead><tbody>\
         <tr><td>Why?</td><td>Because.</td><td><ul class=\"result-list\"><li>a</li></ul></td></tr>\
         <tr><td>How?</td><td>No.</td><td><span class=\"result-empty\">none</span></td></tr>\
         </tbody></table>"
    );
}

#[test]
fn lists_of_differing_objects_or_of_scalars_are_bullet_lists() {
    assert_eq!(
        output_html(&json!([{"a": 1}, {"b": true}])),
        "<ul class=\"result-list\"><li><dl class=\"result-object\"><dt>A</dt><dd>1</dd></dl></li>\
         <li><dl class=\"result-object\"><dt>B</dt><dd>yes</dd></dl></li></ul>"
    );
    assert_eq!(
        output_html(&json!([1.5, false, null, "x"])),
        "<ul class=\"result-list\"><li>1.5</li><li>no</li>\
         <li><span class=\"result-empty\">none</span></li><li>x</li></ul>"
    );
    assert_eq!(
        output_html(&json!([])),
        "<span class=\"result-empty\">none</span>"
    );
}

#[test]
fn line_breaks_are_kept() {
    assert_eq!(
        output_html(&json!("one\ntwo\r\nthree")),
        "one<br>\ntwo<br>\nthree"
    );
}

#[test]
fn hostile_text_is_escaped_in_values_and_keys() {
    let html = output_html(&json!({
        "<script>alert(1)</script>": "<img src=x onerror=alert(1)>",
        "name": "\" onmouseover=\"alert(1)",
        "quote": "it's & <b>",
        "rows": [{"<th>": "</td><script>"}],
    }));
    assert_eq!(
        html,
        "<dl class=\"result-object\"><dt>&lt;script&gt;alert(1)&lt;/script&gt;</dt>\
         <dd>&lt;img src=x onerror=alert(1)&gt;</dd>\
         <dt>Name</dt><dd>&quot; onmouseover=&quot;alert(1)</dd>\
         <dt>Quote</dt><dd>it&#39;s &amp; &lt;b&gt;</dd>\
         <dt>Rows</dt><dd><table class=\"result-table\"><thead><tr><th scope=\"col\">&lt;th&gt;</th>\
         </tr></thead><tbody><tr><td>&lt;/td&gt;&lt;script&gt;</td></tr></tbody></table></dd></dl>"
    );
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>"));
}
