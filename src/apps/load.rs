//! From a `.prompt` file to a checked [`App`] and its compiled template: the name, the
//! schemas, the model and its settings, the template's variables and helpers, the
//! output schema's strictness, and the sample (which must render).

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use handlebars::Template;
use serde_json::Value;

use super::{
    App, AppFileError, OutputFormat, Version, document::Document, explain, explain::ProblemKind,
    form, picoschema, strict, template, validate, variables,
};
use crate::config::Site;

/// Templates compiled (parsed from their text) by this process, for the proof that no
/// request compiles one (the relay bench and `tests/api/apps_templates.rs`): only loading
/// a file does, at start and on a debug build's reload. A file loaded costs one relaxed
/// add here and one increment of `app_templates_compiled_total` in `/metrics`.
static TEMPLATES_COMPILED: AtomicUsize = AtomicUsize::new(0);

/// How many templates this process has compiled so far.
pub fn templates_compiled() -> usize {
    TEMPLATES_COMPILED.load(Ordering::Relaxed)
}

/// The app's name: the file's stem.
pub fn stem(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Loads one file; every problem found in it, or the app.
pub fn load(file: &Path, site: &Site) -> Result<(App, Template), Vec<AppFileError>> {
    let shown = file.display().to_string();
    let error = |line: Option<usize>, problem: String, fix: &str| AppFileError {
        file: shown.clone(),
        line,
        problem,
        fix: fix.to_string(),
    };
    let bytes = std::fs::read(file).map_err(|e| {
        vec![error(
            None,
            format!("cannot be read ({e})"),
            "check the file's permissions",
        )]
    })?;
    let source = std::str::from_utf8(&bytes).map_err(|_| {
        vec![error(
            None,
            "is not UTF-8 text".into(),
            "save the file as UTF-8",
        )]
    })?;
    let name = stem(file);
    let mut problems = Vec::new();
    if !valid_name(&name) {
        problems.push(error(
            None,
            format!("`{name}` is not a valid app name"),
            "rename the file: lowercase letters, digits and `-` (e.g. `study-notes.prompt`)",
        ));
    }
    let document = Document::parse(&shown, source).map_err(|e| vec![e])?;
    let front = document.front;
    // The line of a top-level key, for problems found in its value.
    let key_line = |key: &str| {
        source
            .lines()
            .position(|line| line.starts_with(&format!("{key}:")))
            .map(|i| i + 1)
    };
    if let Some(declared) = &front.name
        && declared != &name
    {
        problems.push(error(
            key_line("name"),
            format!("`name: {declared}` differs from the file's name `{name}`"),
            &format!("write `name: {name}` or rename the file"),
        ));
    }

    let input_schema = match schema(front.input.schema.as_ref()) {
        Ok(schema) => schema,
        Err(problem) => {
            problems.push(error(
                key_line("input"),
                format!("input.schema: {problem}"),
                "correct the schema (docs/apps.md)",
            ));
            None
        }
    };
    if let Some(schema) = &input_schema
        && !is_object(schema)
    {
        problems.push(error(
            key_line("input"),
            "input.schema does not describe fields (an object)".into(),
            "list the form's fields, e.g. `text: string, the text to summarize`",
        ));
    }
    let input_validator = input_schema
        .as_ref()
        .and_then(|schema| match explain::compile(schema) {
            Ok(validator) => Some(Arc::new(validator)),
            Err(problem) => {
                problems.push(error(
                    key_line("input"),
                    format!("input.schema: {problem}"),
                    "correct the schema (docs/apps.md)",
                ));
                None
            }
        });
    let input_defaults = front.input.default.unwrap_or_default();
    if let Some(validator) = &input_validator {
        // Each default must be a valid value; missing and undeclared fields are the
        // business of the input and of the check below.
        for problem in explain::problems(validator, &Value::Object(input_defaults.clone())) {
            if problem.kind == ProblemKind::Value {
                problems.push(error(
                    key_line("input"),
                    format!(
                        "input.default: `{}` {}",
                        explain::path_text(&problem.path),
                        problem.message
                    ),
                    "give the field a default its schema allows",
                ));
            }
        }
    }
    for field in input_defaults
        .keys()
        .filter(|f| !declares(input_schema.as_ref(), f))
    {
        problems.push(error(
            key_line("input"),
            format!("input.default sets `{field}`, which input.schema does not declare"),
            "declare the field or remove its default",
        ));
    }
    for field in front
        .fields
        .keys()
        .filter(|f| !declares(input_schema.as_ref(), f))
    {
        problems.push(error(
            key_line("promptship.fields"),
            format!("promptship.fields names `{field}`, which input.schema does not declare"),
            "use the name of an input field",
        ));
    }

    for field in front
        .fields_ko
        .keys()
        .filter(|f| !declares(input_schema.as_ref(), f))
    {
        problems.push(error(
            key_line("promptship.fields_ko"),
            format!("promptship.fields_ko names `{field}`, which input.schema does not declare"),
            "use the name of an input field",
        ));
    }

    let (form, hint_problems) = form::build(input_schema.as_ref(), &input_defaults, &front.fields);
    for problem in hint_problems {
        problems.push(error(
            key_line("promptship.fields"),
            problem,
            "remove the hint: only text fields take `line` or `textarea`",
        ));
    }

    let output_format = front
        .output
        .format
        .unwrap_or(if front.output.schema.is_some() {
            OutputFormat::Json
        } else {
            OutputFormat::Text
        });
    let output_line = key_line("output");
    let output_schema = match schema(front.output.schema.as_ref()) {
        Ok(schema) => schema,
        Err(problem) => {
            problems.push(error(
                output_line,
                format!("output.schema: {problem}"),
                "correct the schema (docs/apps.md)",
            ));
            None
        }
    };
    match (output_format, &output_schema) {
        (OutputFormat::Json, None) if front.output.schema.is_none() => problems.push(error(
            output_line,
            "output.format is json but there is no output.schema".into(),
            "describe the answer under output.schema, e.g. `summary: string`",
        )),
        (OutputFormat::Text | OutputFormat::Image, Some(_)) => problems.push(error(
            output_line,
            "output.schema is only for `format: json`".into(),
            "remove output.schema, or set `format: json`",
        )),
        (OutputFormat::Json, Some(schema)) => {
            for finding in strict::lint(schema) {
                problems.push(error(
                    output_line,
                    format!("output.schema at {}: {}", finding.path, finding.problem),
                    &finding.fix,
                ));
            }
        }
        _ => {}
    }
    let output_validator = match (output_format, &output_schema) {
        (OutputFormat::Json, Some(schema)) => match explain::compile(schema) {
            Ok(validator) => Some(Arc::new(validator)),
            Err(problem) => {
                problems.push(error(
                    output_line,
                    format!("output.schema: {problem}"),
                    "correct the schema (docs/apps.md)",
                ));
                None
            }
        },
        _ => None,
    };

    if let Some(model) = &front.model
        && output_format != OutputFormat::Image
        && model != &site.model
        && !site.models.contains_key(model)
    {
        let mut offered: Vec<&str> = site.models.keys().map(String::as_str).collect();
        offered.push(&site.model);
        offered.sort();
        problems.push(error(
            key_line("model"),
            format!("`model: {model}` is not a model of this site"),
            &format!(
                "use one of {} (the site file's `model` and `[models]`), or remove `model`",
                offered.join(", ")
            ),
        ));
    }
    for problem in config_problems(&front.config, output_format, site) {
        problems.push(error(
            key_line("config"),
            format!("config: {problem}"),
            "correct the value",
        ));
    }

    let template_line = document.template_line;
    TEMPLATES_COMPILED.fetch_add(1, Ordering::Relaxed);
    // In `/metrics` too, where a test or the bench reads it from outside the process.
    metrics::counter!("app_templates_compiled_total").increment(1);
    let compiled = match Template::compile(&document.template) {
        Ok(compiled) => Some(compiled),
        Err(e) => {
            let line = e.pos().map(|(line, _)| template_line + line - 1);
            problems.push(error(
                line,
                format!("template: {}", e.reason()),
                "correct the Handlebars syntax ({{name}}, {{#if x}}…{{/if}})",
            ));
            None
        }
    };
    if let Some(compiled) = &compiled {
        for problem in variables::check(compiled, input_schema.as_ref()) {
            problems.push(error(
                Some(template_line + problem.line - 1),
                problem.problem,
                &problem.fix,
            ));
        }
    }

    let app = App {
        title: front.title.clone().unwrap_or_else(|| name.clone()),
        name,
        version: Version::of(&bytes),
        file: file.to_path_buf(),
        title_ko: front.title_ko,
        description: front.description,
        description_ko: front.description_ko,
        icon: front.icon,
        model: front.model,
        config: front.config,
        input_schema,
        input_defaults,
        output_format,
        output_schema,
        sample: front.sample,
        fields: front.fields,
        fields_ko: front.fields_ko,
        form,
        input_validator,
        output_validator,
    };
    let compiled = match compiled {
        Some(compiled) if problems.is_empty() => template::for_rendering(compiled),
        _ => return Err(problems),
    };
    if let Some(sample) = &app.sample {
        let sample_line = key_line("promptship.sample");
        let missing: Vec<&str> = required(app.input_schema.as_ref())
            .filter(|field| {
                !sample.contains_key(*field) && !app.input_defaults.contains_key(*field)
            })
            .collect();
        if !missing.is_empty() {
            problems.push(error(
                sample_line,
                format!(
                    "promptship.sample lacks the required field(s) {}",
                    missing.join(", ")
                ),
                "give the sample a value for every required input field",
            ));
        }
        for field in sample
            .keys()
            .filter(|f| !declares(app.input_schema.as_ref(), f))
        {
            problems.push(error(
                sample_line,
                format!("promptship.sample sets `{field}`, which input.schema does not declare"),
                "remove it from the sample or declare it",
            ));
        }
        if problems.is_empty()
            && let Err(errors) = validate::validate_input(&app, &Value::Object(sample.clone()))
        {
            for e in errors {
                let at = if e.field.is_empty() {
                    String::new()
                } else {
                    format!(" `{}`", e.field)
                };
                problems.push(error(
                    sample_line,
                    format!("promptship.sample:{at} {}", e.message),
                    "give the sample a value its schema allows",
                ));
            }
        }
        if problems.is_empty() {
            let mut registry = template::registry();
            registry.register_template(&app.name, compiled.clone());
            match super::render(&registry, &app, sample) {
                Ok(messages) if messages.is_empty() => problems.push(error(
                    Some(template_line),
                    "the template renders no message for the sample".into(),
                    "write the prompt's text after the front matter",
                )),
                Ok(_) => {}
                Err(e) => problems.push(error(
                    sample_line,
                    format!("the sample does not render: {e}"),
                    "correct the sample or the template",
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok((app, compiled))
    } else {
        Err(problems)
    }
}

/// A schema of the front matter as JSON Schema.
fn schema(value: Option<&Value>) -> Result<Option<Value>, String> {
    match value {
        None => Ok(None),
        Some(value) => picoschema::to_json_schema(value).map_err(|e| {
            if e.path.is_empty() {
                e.message
            } else {
                format!("at `{}`: {}", e.path.join("."), e.message)
            }
        }),
    }
}

fn declares(schema: Option<&Value>, field: &str) -> bool {
    schema
        .and_then(|s| s.get("properties"))
        .is_some_and(|p| p.get(field).is_some())
}

fn is_object(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
        _ => schema.get("properties").is_some(),
    }
}

fn required(schema: Option<&Value>) -> impl Iterator<Item = &str> {
    schema
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn config_problems(
    config: &super::ModelConfig,
    format: super::OutputFormat,
    site: &Site,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut range = |name: &str, value: Option<f64>, low: f64, high: f64| {
        if let Some(value) = value
            && !(low..=high).contains(&value)
        {
            problems.push(format!(
                "{name} is {value}; it must be from {low} to {high}"
            ));
        }
    };
    range("temperature", config.temperature, 0.0, 2.0);
    range("topP", config.top_p, 0.0, 1.0);
    range("presencePenalty", config.presence_penalty, -2.0, 2.0);
    range("frequencyPenalty", config.frequency_penalty, -2.0, 2.0);
    if let Some(tokens) = config.max_output_tokens
        && !(1..=site.max_output_tokens).contains(&tokens)
    {
        problems.push(format!(
            "maxOutputTokens is {tokens}; the site allows 1 to {} (max_output_tokens in the site file)",
            site.max_output_tokens
        ));
    }
    if let Some(size) = &config.size {
        if format != super::OutputFormat::Image {
            problems.push(format!(
                "size is {size}; only an image app (`output.format: image`) has a size"
            ));
        } else if !valid_size(size) {
            problems.push(format!(
                "size is {size}; it must be `auto` or WIDTHxHEIGHT, each from 256 to 4096, e.g. 1024x1024"
            ));
        }
    }
    problems
}

/// `auto`, or `WIDTHxHEIGHT` with each side from 256 to 4096 pixels (the Images API's
/// models take a few fixed sizes within that; the model server names them).
fn valid_size(size: &str) -> bool {
    size == "auto"
        || size.split_once('x').is_some_and(|(width, height)| {
            [width, height].iter().all(|side| {
                side.parse::<u32>()
                    .is_ok_and(|px| (256..=4096).contains(&px))
            })
        })
}

/// Lowercase letters, digits and `-`, not starting with `-`, at most 64 characters.
pub fn valid_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
