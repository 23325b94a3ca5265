//! The demo model's structured answers: a value valid against a JSON Schema, made from
//! the schema alone, its texts from words of the question. Same schema and words, same
//! value: nothing random, nothing from the clock.

mod number;

use std::collections::HashSet;

use serde_json::{Map, Value};

use number::number;

/// Past this depth arrays are as short as allowed, nullable values are null and only
/// required properties are made, so that a schema naming itself (`$ref: "#"`) ends.
const MAX_DEPTH: usize = 8;
/// Past this depth nothing more is made at all, whatever the schema says.
const HARD_DEPTH: usize = 32;
/// Values made in all: a request asking for `minItems: 1000000` at every level gets a
/// short, invalid answer rather than the demo's memory.
const MAX_VALUES: usize = 10_000;
/// Characters of all strings made: past them a `minLength` is no longer met.
const MAX_CHARS: usize = 200_000;
/// Words kept from the question.
const MAX_WORDS: usize = 64;

/// A value of `schema`, its strings made from words of `question`.
pub fn example(schema: &Value, question: &str) -> Value {
    make(schema, question, None)
}

/// [`example`] as a sampling model would answer: each string's words are picked
/// pseudo-randomly from the question's, from `seed` (the same seed, the same value).
pub fn sampled_example(schema: &Value, question: &str, seed: u64) -> Value {
    // xorshift needs a state that is not zero.
    make(schema, question, Some(seed | 1))
}

fn make(schema: &Value, question: &str, random: Option<u64>) -> Value {
    let words = words(question);
    let mut maker = Maker {
        root: schema,
        words: &words,
        next_word: 0,
        random,
        made: 0,
        chars: 0,
    };
    maker.value(schema, "answer", 0, 0)
}

/// The words of `text` worth echoing, each once, in order; a few stand-ins when it has
/// none.
fn words(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut words = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        // Short English words are mostly "a", "of", "to"; a two-syllable Korean word is
        // a word.
        let shortest = if word.is_ascii() { 3 } else { 2 };
        if word.chars().count() < shortest || !seen.insert(word.to_lowercase()) {
            continue;
        }
        words.push(word.to_string());
        if words.len() == MAX_WORDS {
            break;
        }
    }
    if words.is_empty() {
        words = ["sample", "demo", "text"].map(String::from).to_vec();
    }
    words
}

struct Maker<'a> {
    /// Where `$ref`s point into.
    root: &'a Value,
    words: &'a [String],
    /// The next word a string takes: each string takes the next three.
    next_word: usize,
    /// A sampled answer's xorshift state: each word is picked with it instead.
    random: Option<u64>,
    /// Values and characters made so far, against `MAX_VALUES` and `MAX_CHARS`.
    made: usize,
    chars: usize,
}

impl Maker<'_> {
    /// A value of `schema` for the property `name`. `variant` is the item's number in an
    /// array (0 outside one), so that the items of a list differ.
    fn value(&mut self, schema: &Value, name: &str, variant: usize, depth: usize) -> Value {
        self.made += 1;
        if depth > HARD_DEPTH || self.made > MAX_VALUES {
            return Value::Null;
        }
        let schema = match schema {
            Value::Object(_) => {
                let mut merged = Map::new();
                self.flatten(schema, depth, &mut merged);
                merged
            }
            // `true` takes anything; `false` nothing, so anything will do.
            _ => Map::new(),
        };
        if let Some(value) = schema.get("const") {
            return value.clone();
        }
        if let Some(Value::Array(options)) = schema.get("enum")
            && !options.is_empty()
        {
            return options[variant % options.len()].clone();
        }
        match type_of(&schema, depth) {
            "object" => self.object(&schema, variant, depth),
            "array" => self.array(&schema, name, variant, depth),
            "integer" => number(&schema, true, variant),
            "number" => number(&schema, false, variant),
            // true, then true, false, true… down a list.
            "boolean" => Value::Bool(variant == 0 || variant % 2 == 1),
            "null" => Value::Null,
            _ => self.string(&schema, name, variant),
        }
    }

    /// `schema` with what its `$ref`, `allOf` and chosen `anyOf`/`oneOf` branch say
    /// merged in: properties and required names added up, other keywords the last one's.
    fn flatten(&self, schema: &Value, depth: usize, merged: &mut Map<String, Value>) {
        let Value::Object(schema) = schema else {
            return;
        };
        if depth > HARD_DEPTH {
            return;
        }
        if let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| self.resolve(reference))
        {
            self.flatten(target, depth + 1, merged);
        }
        for (key, value) in schema {
            match (key.as_str(), value) {
                ("$ref" | "allOf" | "anyOf" | "oneOf" | "$defs" | "definitions", _) => {}
                ("properties", Value::Object(properties)) => {
                    let into = merged
                        .entry("properties")
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(into) = into {
                        for (name, property) in properties {
                            into.insert(name.clone(), property.clone());
                        }
                    }
                }
                ("required", Value::Array(names)) => {
                    let into = merged
                        .entry("required")
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(into) = into {
                        for name in names {
                            if !into.contains(name) {
                                into.push(name.clone());
                            }
                        }
                    }
                }
                _ => {
                    merged.insert(key.clone(), value.clone());
                }
            }
        }
        if let Some(Value::Array(all)) = schema.get("allOf") {
            for part in all {
                self.flatten(part, depth + 1, merged);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = schema.get(key)
                && let Some(branch) = branch(branches, depth)
            {
                self.flatten(branch, depth + 1, merged);
            }
        }
    }

    /// A reference inside the schema (`#`, `#/$defs/x`, `#/definitions/x`, any JSON
    /// pointer); others (remote files) are not followed.
    fn resolve(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        let pointer = percent_encoding::percent_decode_str(pointer)
            .decode_utf8()
            .ok()?;
        self.root.pointer(&pointer)
    }

    fn object(&mut self, schema: &Map<String, Value>, variant: usize, depth: usize) -> Value {
        let required: Vec<&str> = match schema.get("required") {
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut object = Map::new();
        if let Some(Value::Object(properties)) = schema.get("properties") {
            for (name, property) in properties {
                // Strict schemas require every property; an optional one is made too,
                // unless it may be what keeps a recursive schema going.
                if depth < MAX_DEPTH || required.contains(&name.as_str()) {
                    let value = self.value(property, name, variant, depth + 1);
                    object.insert(name.clone(), value);
                }
            }
        }
        // A required name without a schema of its own takes `additionalProperties`'.
        let anything = Value::Bool(true);
        let other = match schema.get("additionalProperties") {
            Some(other @ Value::Object(_)) => other,
            _ => &anything,
        };
        for name in required {
            if !object.contains_key(name) {
                let value = self.value(other, name, variant, depth + 1);
                object.insert(name.to_string(), value);
            }
        }
        Value::Object(object)
    }

    fn array(
        &mut self,
        schema: &Map<String, Value>,
        name: &str,
        variant: usize,
        depth: usize,
    ) -> Value {
        let count = |key: &str| {
            schema
                .get(key)
                .and_then(Value::as_u64)
                .map(|n| n.min(MAX_VALUES as u64) as usize)
        };
        let wanted = if depth < MAX_DEPTH { 2 } else { 0 };
        let count = wanted
            .max(count("minItems").unwrap_or(0))
            .min(count("maxItems").unwrap_or(usize::MAX));
        // Items in order: `prefixItems` (or draft 7's `items` as a list), then `items`.
        let (prefix, rest) = match (schema.get("prefixItems"), schema.get("items")) {
            (Some(Value::Array(prefix)), items) => (prefix.as_slice(), items),
            (_, Some(Value::Array(prefix))) => (prefix.as_slice(), schema.get("additionalItems")),
            (_, items) => (&[][..], items),
        };
        let anything = Value::Bool(true);
        let mut items: Vec<Value> = Vec::with_capacity(count);
        for i in 0..count {
            let item = prefix.get(i).or(rest).unwrap_or(&anything);
            // Items of a list of lists are numbered apart from their parent's.
            let number = if variant == 0 {
                i + 1
            } else {
                variant * 10 + i + 1
            };
            let value = self.value(item, name, number, depth + 1);
            if schema.get("uniqueItems") == Some(&Value::Bool(true)) && items.contains(&value) {
                continue;
            }
            items.push(value);
        }
        Value::Array(items)
    }

    fn string(&mut self, schema: &Map<String, Value>, name: &str, variant: usize) -> Value {
        if let Some(text) = schema
            .get("format")
            .and_then(Value::as_str)
            .and_then(formatted)
        {
            return Value::String(text.to_string());
        }
        let length = |key: &str| schema.get(key).and_then(Value::as_u64).map(|n| n as usize);
        let mut text = self.text(name, variant);
        let shortest = length("minLength").unwrap_or(0);
        let mut count = text.chars().count();
        while count < shortest && self.chars + count < MAX_CHARS {
            text.push_str(" demo");
            count += 5;
        }
        if let Some(longest) = length("maxLength") {
            text = text.chars().take(longest.max(shortest)).collect();
        }
        self.chars += count;
        Value::String(text)
    }

    /// "Question 2 (demo): backend engineer booking": the property, the item's number,
    /// and the next three words of the question.
    fn text(&mut self, name: &str, variant: usize) -> String {
        let mut label: String = name.replace(['_', '-'], " ");
        if let Some(first) = label.chars().next() {
            label = first.to_uppercase().chain(label.chars().skip(1)).collect();
        }
        if variant > 0 {
            label = format!("{label} {variant}");
        }
        let count = self.words.len();
        let words: Vec<&str> = (0..3)
            .map(|i| {
                let index = match &mut self.random {
                    Some(state) => {
                        *state ^= *state << 13;
                        *state ^= *state >> 7;
                        *state ^= *state << 17;
                        (*state % count as u64) as usize
                    }
                    None => (self.next_word + i) % count,
                };
                self.words[index].as_str()
            })
            .collect();
        self.next_word += 3;
        format!("{label} (demo): {}", words.join(" "))
    }
}

/// The type to make: the first one named that is not `null` (unless past `MAX_DEPTH`,
/// where `null` ends a recursion), or the one the keywords imply.
fn type_of(schema: &Map<String, Value>, depth: usize) -> &str {
    match schema.get("type") {
        Some(Value::String(name)) => name,
        Some(Value::Array(names)) => {
            let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
            let null = names.contains(&"null");
            match names.iter().find(|name| **name != "null") {
                Some(_) if null && depth >= MAX_DEPTH => "null",
                Some(name) => name,
                None if null => "null",
                None => "string",
            }
        }
        _ => {
            let has = |keys: &[&str]| keys.iter().any(|key| schema.contains_key(*key));
            if has(&["properties", "required", "additionalProperties"]) {
                "object"
            } else if has(&["items", "prefixItems", "minItems", "maxItems"]) {
                "array"
            } else if has(&[
                "minimum",
                "maximum",
                "exclusiveMinimum",
                "exclusiveMaximum",
                "multipleOf",
            ]) {
                "number"
            } else {
                "string"
            }
        }
    }
}

/// The `anyOf`/`oneOf` branch to follow: the first that is not just `null`, or past
/// `MAX_DEPTH` a `null` one if there is one.
fn branch(branches: &[Value], depth: usize) -> Option<&Value> {
    let is_null = |branch: &&Value| branch.get("type") == Some(&Value::from("null"));
    if depth >= MAX_DEPTH
        && let Some(null) = branches.iter().find(is_null)
    {
        return Some(null);
    }
    branches
        .iter()
        .find(|branch| !is_null(branch))
        .or(branches.first())
}

/// A fixed example of a string `format`, for the formats strict mode knows.
fn formatted(format: &str) -> Option<&'static str> {
    Some(match format {
        "date-time" => "2025-01-15T09:30:00Z",
        "date" => "2025-01-15",
        "time" => "09:30:00Z",
        "duration" => "PT1H30M",
        "email" | "idn-email" => "demo@example.com",
        "hostname" | "idn-hostname" => "example.com",
        "ipv4" => "192.0.2.1",
        "ipv6" => "2001:db8::1",
        "uuid" => "00000000-0000-4000-8000-000000000000",
        "uri" | "iri" | "uri-reference" | "iri-reference" => "https://example.com/demo",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
