//! A `.prompt` file taken apart as dotprompt's `parseDocument` does: YAML front matter
//! between `---` lines, then the template (the rest, trimmed), plus the typed reading of
//! the front matter's keys and of promptship's own `promptship.*` extension keys.

use std::collections::BTreeMap;

use serde::{Deserialize, de::IgnoredAny};
use serde_json::{Map, Value};

use super::{AppFileError, FieldHint, FieldText, ModelConfig, OutputFormat, js};

/// promptship's extension keys, written at the top level as `promptship.<field>`.
pub const EXTENSION_KEYS: &[&str] = &[
    "promptship.title",
    "promptship.title_ko",
    "promptship.description_ko",
    "promptship.icon",
    "promptship.sample",
    "promptship.fields",
    "promptship.fields_ko",
];

/// dotprompt's own keys that an app may use.
const DOTPROMPT_KEYS: &[&str] = &[
    "name",
    "description",
    "model",
    "config",
    "input",
    "output",
    "version",
    "variant",
];

/// A file's parts, before any checking beyond the YAML's own types.
#[derive(Debug)]
pub struct Document {
    pub front: FrontMatter,
    /// The template: the body, trimmed (or the whole file when it has no front matter).
    pub template: String,
    /// The file's line on which the template starts (1-based).
    pub template_line: usize,
}

/// The front matter's keys that promptship reads.
#[derive(Debug, Default, Deserialize)]
pub struct FrontMatter {
    pub name: Option<String>,
    pub description: Option<String>,
    pub model: Option<String>,
    #[serde(default)]
    pub config: ModelConfig,
    #[serde(default)]
    pub input: InputSection,
    #[serde(default)]
    pub output: OutputSection,
    #[serde(rename = "promptship.title")]
    pub title: Option<String>,
    #[serde(rename = "promptship.title_ko")]
    pub title_ko: Option<String>,
    #[serde(rename = "promptship.description_ko")]
    pub description_ko: Option<String>,
    #[serde(rename = "promptship.icon")]
    pub icon: Option<String>,
    #[serde(rename = "promptship.sample")]
    pub sample: Option<Map<String, Value>>,
    #[serde(rename = "promptship.fields", default)]
    pub fields: BTreeMap<String, FieldHint>,
    #[serde(rename = "promptship.fields_ko", default)]
    pub fields_ko: BTreeMap<String, FieldText>,
}

/// `input:` — the schema of what a run is given, and defaults for its fields.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSection {
    pub schema: Option<Value>,
    pub default: Option<Map<String, Value>>,
}

/// `output:` — what the model answers with.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    pub format: Option<OutputFormat>,
    pub schema: Option<Value>,
}

impl Document {
    pub fn parse(file: &str, source: &str) -> Result<Self, AppFileError> {
        let Some(parts) = split(source) else {
            // As dotprompt: no front matter, and the whole file is the template.
            return Ok(Self {
                front: FrontMatter::default(),
                template: source.to_string(),
                template_line: 1,
            });
        };
        let yaml = &source[parts.front_matter.clone()];
        let first_line = line_of(source, parts.front_matter.start);
        let front = read_front_matter(file, yaml, first_line)?;
        let body = &source[parts.body_start..];
        let template = js::trim(body);
        let template_start =
            parts.body_start + (body.len() - body.trim_start_matches(js::is_space).len());
        Ok(Self {
            front,
            template: template.to_string(),
            template_line: line_of(source, template_start),
        })
    }
}

fn read_front_matter(
    file: &str,
    yaml: &str,
    first_line: usize,
) -> Result<FrontMatter, AppFileError> {
    // YAML 1.2 as the `yaml` package reads it: `yes`/`on` and `1_000` stay text.
    let options = || {
        serde_saphyr::options! {
            strict_booleans: true,
            underscored_numbers_as_strings: true,
            with_snippet: false,
        }
    };
    let yaml_error = |error: serde_saphyr::Error| {
        let location = error.location();
        let mut message = error.to_string();
        if let Some(location) = location {
            let suffix = format!(" at line {}, column {}", location.line(), location.column());
            if let Some(stripped) = message.strip_suffix(&suffix) {
                message = stripped.to_string();
            }
        }
        AppFileError {
            file: file.to_string(),
            line: location.map(|l| first_line + l.line() as usize - 1),
            problem: format!("front matter: {message}"),
            fix: "correct the YAML between the `---` lines (docs/apps.md lists every key)".into(),
        }
    };
    let keys: BTreeMap<String, IgnoredAny> =
        serde_saphyr::from_str_with_options(yaml, options()).map_err(yaml_error)?;
    for key in keys.keys() {
        let problem = |problem: String, fix: &str| AppFileError {
            file: file.to_string(),
            line: key_line(yaml, key).map(|l| first_line + l - 1),
            problem,
            fix: fix.to_string(),
        };
        if let Some(field) = key.strip_prefix("promptship.") {
            if !EXTENSION_KEYS.contains(&key.as_str()) {
                return Err(problem(
                    format!("unknown key `{key}` (`{field}` is not a promptship field)"),
                    &format!("use one of {}", EXTENSION_KEYS.join(", ")),
                ));
            }
        } else if key == "tools" || key == "toolDefs" {
            return Err(problem(
                format!("`{key}`: prompt apps cannot call tools"),
                "remove the key",
            ));
        } else if !key.contains('.') && !DOTPROMPT_KEYS.contains(&key.as_str()) {
            return Err(problem(
                format!("unknown key `{key}`"),
                &format!(
                    "use dotprompt's keys ({}) or promptship's ({})",
                    DOTPROMPT_KEYS.join(", "),
                    EXTENSION_KEYS.join(", ")
                ),
            ));
        }
        // Other namespaces (`myorg.key`) are extensions of other tools, ignored as
        // dotprompt ignores them.
    }
    serde_saphyr::from_str_with_options(yaml, options()).map_err(yaml_error)
}

/// The line (1-based, within `yaml`) on which the top-level `key` is written.
fn key_line(yaml: &str, key: &str) -> Option<usize> {
    yaml.lines()
        .position(|line| {
            let line = line.trim_start_matches(['"', '\'']);
            line.strip_prefix(key).is_some_and(|rest| {
                rest.trim_start_matches(['"', '\''])
                    .trim_start()
                    .starts_with(':')
            })
        })
        .map(|i| i + 1)
}

/// The line (1-based) of byte `offset`.
fn line_of(source: &str, offset: usize) -> usize {
    source[..offset].matches('\n').count() + 1
}

/// Where the front matter and the body are.
#[derive(Debug, PartialEq)]
struct Parts {
    front_matter: std::ops::Range<usize>,
    body_start: usize,
}

/// dotprompt's `FRONTMATTER_AND_BODY_REGEX`, followed step by step with its backtracking:
/// `^(?:(?:#[^\n]*|[ \t]*)\n)*---\s*(?:\r\n|\r|\n)([\s\S]*?)(?:\r\n|\r|\n)---\s*(?:\r\n|\r|\n)([\s\S]*)$`.
/// Blank and `#` lines may come before the first `---`; the front matter ends at the
/// first line starting with `---` followed by whitespace and a line break. An empty
/// front matter counts as none, as `if (frontmatter)` does.
fn split(source: &str) -> Option<Parts> {
    let mut at = 0;
    while let Some(end) = source[at..].find('\n') {
        let line = &source[at..at + end];
        if line.starts_with('#') || line.chars().all(|c| c == ' ' || c == '\t') {
            at += end + 1;
        } else {
            break;
        }
    }
    let after_open = at + source[at..].strip_prefix("---").map(|_| 3)?;
    let spaces_end = space_run_end(source, after_open);
    for open_end in boundaries(source, after_open, spaces_end).rev() {
        for front_start in line_breaks_at(source, open_end) {
            if let Some(parts) = close(source, front_start) {
                return Some(parts).filter(|p| !p.front_matter.is_empty());
            }
        }
    }
    None
}

/// The lazy `([\s\S]*?)(?:\r\n|\r|\n)---\s*(?:\r\n|\r|\n)` from `front_start`.
fn close(source: &str, front_start: usize) -> Option<Parts> {
    for front_end in boundaries(source, front_start, source.len()) {
        for dashes in line_breaks_at(source, front_end) {
            if !source[dashes..].starts_with("---") {
                continue;
            }
            let after = dashes + 3;
            let spaces_end = space_run_end(source, after);
            for k in boundaries(source, after, spaces_end).rev() {
                if let Some(body_start) = line_breaks_at(source, k).next() {
                    return Some(Parts {
                        front_matter: front_start..front_end,
                        body_start,
                    });
                }
            }
        }
    }
    None
}

/// Where each alternative of `(?:\r\n|\r|\n)` at `at` ends, in the regex's order.
fn line_breaks_at(source: &str, at: usize) -> impl Iterator<Item = usize> + '_ {
    let rest = &source[at..];
    [("\r\n", 2), ("\r", 1), ("\n", 1)]
        .into_iter()
        .filter(move |(text, _)| rest.starts_with(text))
        .map(move |(_, len)| at + len)
}

/// The end of the run of `\s` starting at `at`.
fn space_run_end(source: &str, at: usize) -> usize {
    at + source[at..]
        .char_indices()
        .find(|(_, c)| !js::is_space(*c))
        .map_or(source.len() - at, |(i, _)| i)
}

/// The character boundaries from `start` to `end`, both included.
fn boundaries(
    source: &str,
    start: usize,
    end: usize,
) -> impl DoubleEndedIterator<Item = usize> + '_ {
    (start..=end).filter(move |i| source.is_char_boundary(*i))
}

#[cfg(test)]
mod tests;
