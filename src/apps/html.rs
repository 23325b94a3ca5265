//! A structured answer as readable HTML: an object as a definition list, a list of
//! objects with the same keys as a table, other lists as bullet lists, nested values
//! inside them. Every text is escaped: an answer is the model's, never trusted markup.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::form::humanize;

/// `value` as HTML, keys in the answer's order (the schema's, under strict mode). Each
/// structure carries a class (`result-object`, `result-table`, `result-list`) to style
/// it by; an empty list and `null` show as "none" (`result-empty`).
pub fn output_html(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str(EMPTY),
        Value::Bool(true) => out.push_str("yes"),
        Value::Bool(false) => out.push_str("no"),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_text(out, s),
        Value::Object(fields) => write_object(out, fields),
        Value::Array(items) if items.is_empty() => out.push_str(EMPTY),
        Value::Array(items) => match table_columns(items) {
            Some(columns) => write_table(out, &columns, items),
            None => {
                out.push_str("<ul class=\"result-list\">");
                for item in items {
                    out.push_str("<li>");
                    write_value(out, item);
                    out.push_str("</li>");
                }
                out.push_str("</ul>");
            }
        },
    }
}

const EMPTY: &str = "<span class=\"result-empty\">none</span>";

fn write_object(out: &mut String, fields: &Map<String, Value>) {
    if fields.is_empty() {
        out.push_str(EMPTY);
        return;
    }
    out.push_str("<dl class=\"result-object\">");
    for (key, value) in fields {
        out.push_str("<dt>");
        write_text(out, &humanize(key));
        out.push_str("</dt><dd>");
        write_value(out, value);
        out.push_str("</dd>");
    }
    out.push_str("</dl>");
}

/// The columns of a list of objects that all have the same keys (in any order), in the
/// first one's order; `None` when it is not such a list.
fn table_columns(items: &[Value]) -> Option<Vec<&str>> {
    let first = items.first()?.as_object()?;
    if first.is_empty() {
        return None;
    }
    let same_keys = items.iter().all(|item| {
        item.as_object().is_some_and(|fields| {
            fields.len() == first.len() && fields.keys().all(|k| first.contains_key(k))
        })
    });
    same_keys.then(|| first.keys().map(String::as_str).collect())
}

fn write_table(out: &mut String, columns: &[&str], rows: &[Value]) {
    out.push_str("<table class=\"result-table\"><thead><tr>");
    for column in columns {
        out.push_str("<th scope=\"col\">");
        write_text(out, &humanize(column));
        out.push_str("</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for column in columns {
            out.push_str("<td>");
            write_value(out, &row[*column]);
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

/// Text escaped for an element's content or a quoted attribute, its line breaks kept.
fn write_text(out: &mut String, text: &str) {
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        for c in line.strip_suffix('\r').unwrap_or(line).chars() {
            match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                c => out.push(c),
            }
        }
        if lines.peek().is_some() {
            out.push_str("<br>\n");
        }
    }
}

#[cfg(test)]
mod tests;
