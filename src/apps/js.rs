//! JavaScript's ways with values, which the reference renderer (dotprompt on Node)
//! applies and a prompt must reproduce byte for byte: `String(value)`, `JSON.stringify`,
//! Handlebars' truthiness and `===`, whitespace as `String.prototype.trim` sees it, and
//! the order of an object's keys. `None` stands for `undefined` (a field not given).

use serde_json::{Map, Number, Value};

/// `{{value}}` as Handlebars.js prints it: `String(value)`, with `null` and `undefined`
/// as nothing.
pub fn display(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => number(n),
        Some(Value::String(s)) => s.clone(),
        // `Array.prototype.join`: null and undefined items are empty.
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| display(Some(item)))
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Object(_)) => "[object Object]".into(),
    }
}

/// `JSON.stringify(value, null, indent)`; `undefined` gives the text `undefined`, as
/// dotprompt's `json` helper prints it.
pub fn stringify(value: Option<&Value>, indent: &str) -> String {
    let mut out = String::new();
    match value {
        None => out.push_str("undefined"),
        Some(value) => write_json(&mut out, value, indent, ""),
    }
    out
}

/// The gap `JSON.stringify` indents with: a number is that many spaces (at most 10), a
/// string its first 10 characters, anything else none.
pub fn indent(value: Option<&Value>) -> String {
    match value {
        Some(Value::Number(n)) => {
            let spaces = n.as_f64().unwrap_or(0.0).clamp(0.0, 10.0) as usize;
            " ".repeat(spaces)
        }
        Some(Value::String(s)) => s.chars().take(10).collect(),
        _ => String::new(),
    }
}

fn write_json(out: &mut String, value: &Value, gap: &str, current: &str) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => out.push_str(&quote(s)),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(fields) if fields.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            let inner = format!("{current}{gap}");
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                separate(out, i, gap, &inner);
                write_json(out, item, gap, &inner);
            }
            close(out, gap, current, ']');
        }
        Value::Object(fields) => {
            let inner = format!("{current}{gap}");
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                separate(out, i, gap, &inner);
                out.push_str(&quote(key));
                out.push(':');
                if !gap.is_empty() {
                    out.push(' ');
                }
                write_json(out, item, gap, &inner);
            }
            close(out, gap, current, '}');
        }
    }
}

fn separate(out: &mut String, index: usize, gap: &str, inner: &str) {
    if index > 0 {
        out.push(',');
    }
    if !gap.is_empty() {
        out.push('\n');
        out.push_str(inner);
    }
}

fn close(out: &mut String, gap: &str, current: &str, bracket: char) {
    if !gap.is_empty() {
        out.push('\n');
        out.push_str(current);
    }
    out.push(bracket);
}

/// A JSON string literal; serde_json escapes exactly the characters `JSON.stringify` does
/// (quote, backslash, and control characters, as `\n`-style or lowercase `\u00xx`).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// `Number.prototype.toString()`: integers without a fraction, no `.0`, exponents from
/// 1e21 and below 1e-6, as `1e+21` and `1.5e-7`.
pub fn number(n: &Number) -> String {
    const SAFE: u64 = 1 << 53;
    if let Some(i) = n.as_u64().filter(|i| *i <= SAFE) {
        return i.to_string();
    }
    if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= SAFE) {
        return i.to_string();
    }
    float(n.as_f64().unwrap_or(f64::NAN))
}

fn float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f == 0.0 {
        return "0".into();
    }
    if f < 0.0 {
        return format!("-{}", float(-f));
    }
    if f.is_infinite() {
        return "Infinity".into();
    }
    // Rust's `{:e}` prints the shortest digits that read back as `f`, as JavaScript
    // chooses them; only the layout differs.
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    let n = exponent.parse::<i64>().unwrap_or(0) + 1;
    if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (whole, fraction) = digits.split_at(n as usize);
        format!("{whole}.{fraction}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let sign = if e >= 0 { "+" } else { "-" };
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        format!("{first}{point}{rest}e{sign}{}", e.abs())
    }
}

/// JavaScript's `Boolean(value)`.
pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

/// Handlebars.js' `isEmpty`: falsy but not `0`, or an empty list (an empty object is
/// not empty).
pub fn is_empty(value: Option<&Value>) -> bool {
    let zero = matches!(value, Some(Value::Number(n)) if n.as_f64() == Some(0.0));
    (!truthy(value) && !zero) || matches!(value, Some(Value::Array(a)) if a.is_empty())
}

/// `a === b`. Two lists or objects are equal in JavaScript only when they are the same
/// one; values that arrive as JSON never are, so they compare unequal.
pub fn strictly_equal(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Value::Null), Some(Value::Null)) => true,
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => a == b,
        (Some(Value::Number(a)), Some(Value::Number(b))) => a.as_f64() == b.as_f64(),
        (Some(Value::String(a)), Some(Value::String(b))) => a == b,
        _ => false,
    }
}

/// Whitespace as `String.prototype.trim` sees it: Unicode spaces and line breaks, and
/// the byte-order mark (U+0085 is not whitespace to JavaScript).
pub fn is_space(c: char) -> bool {
    c == '\u{feff}' || (c.is_whitespace() && c != '\u{85}')
}

/// `s.trim()`.
pub fn trim(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// The value with every object's keys in the order JavaScript enumerates them: keys that
/// are array indices (`"0"`, `"17"`) first, ascending, then the others as written.
pub fn in_key_order(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(in_key_order).collect()),
        Value::Object(fields) => {
            let (mut indices, names): (Vec<_>, Vec<_>) = fields
                .into_iter()
                .map(|(key, value)| (key, in_key_order(value)))
                .partition(|(key, _)| array_index(key).is_some());
            indices.sort_by_key(|(key, _)| array_index(key));
            Value::Object(indices.into_iter().chain(names).collect::<Map<_, _>>())
        }
        other => other,
    }
}

fn array_index(key: &str) -> Option<u32> {
    let index: u32 = key.parse().ok()?;
    (index != u32::MAX && index.to_string() == key).then_some(index)
}

#[cfg(test)]
mod tests;
