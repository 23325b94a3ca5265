//! The load-time check of a template against its input schema. The template is walked
//! statically (not rendered): every path it reads must be declared by the schema (through
//! `#each` and `#with` too), every helper must be one promptship has, with the arguments
//! it needs, so a typo is an error when the app loads, never an empty string at a run.
//! Walking beats rendering once with sample data, which would miss `{{else}}` branches.

mod shape;

use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};
use serde_json::Value;

use self::shape::{PathText, block_params, element_shape, raw, step};
use super::messages::{MARKER_START, PromptRole};

/// Helper names, dotprompt's and Handlebars' own: a field of one of these names cannot
/// be printed with `{{name}}`.
pub const HELPERS: &[&str] = &[
    "role",
    "json",
    "ifEquals",
    "unlessEquals",
    "if",
    "unless",
    "each",
    "with",
    "lookup",
    "log",
    "history",
    "section",
    "media",
    "blockHelperMissing",
    "helperMissing",
];

const BLOCK_HELPERS: &[&str] = &["if", "unless", "each", "with", "ifEquals", "unlessEquals"];

/// What is wrong with a template, where (line and column in the template), and how to
/// fix it.
#[derive(Debug, PartialEq)]
pub struct TemplateProblem {
    pub line: usize,
    pub column: usize,
    pub problem: String,
    pub fix: String,
}

/// What is known about a value: its JSON Schema, or `None` when anything goes.
type Shape<'a> = Option<&'a Value>;

/// A context the template reads from: the input, or the value of an `#each`/`#with`.
struct Frame<'a> {
    shape: Shape<'a>,
    /// Names given with `as |item index|`.
    params: Vec<(String, Shape<'a>)>,
    /// Inside `#each`, where `@index`, `@key`, `@first` and `@last` exist.
    in_each: bool,
}

/// Every problem of `template`, whose context is described by `input_schema` (no
/// schema: the template may read nothing).
pub fn check(template: &Template, input_schema: Option<&Value>) -> Vec<TemplateProblem> {
    static NOTHING: Value = Value::Null;
    let root = Frame {
        // Without a schema, every name is undeclared.
        shape: Some(input_schema.unwrap_or(&NOTHING)),
        params: Vec::new(),
        in_each: false,
    };
    let mut walker = Walker {
        frames: vec![root],
        problems: Vec::new(),
        at: (1, 1),
    };
    walker.walk(template);
    walker.problems
}

struct Walker<'a> {
    frames: Vec<Frame<'a>>,
    problems: Vec<TemplateProblem>,
    /// Where the element being checked starts.
    at: (usize, usize),
}

impl<'a> Walker<'a> {
    fn walk(&mut self, template: &Template) {
        for (i, element) in template.elements.iter().enumerate() {
            if let Some(mapping) = template.mapping.get(i) {
                self.at = (mapping.0, mapping.1);
            }
            self.element(element);
        }
    }

    fn problem(&mut self, problem: String, fix: &str) {
        self.problems.push(TemplateProblem {
            line: self.at.0,
            column: self.at.1,
            problem,
            fix: fix.to_string(),
        });
    }

    fn element(&mut self, element: &TemplateElement) {
        match element {
            TemplateElement::RawString(text) if text.contains(MARKER_START) => self.problem(
                format!("the text contains `{MARKER_START}`, which only dotprompt's helpers write"),
                "use {{role \"system\"}}, {{role \"user\"}} or {{role \"model\"}}",
            ),
            TemplateElement::RawString(_) | TemplateElement::Comment(_) => {}
            TemplateElement::Expression(expression)
            | TemplateElement::HtmlExpression(expression) => self.expression(expression),
            TemplateElement::HelperBlock(block) => self.block(block),
            TemplateElement::PartialExpression(_) | TemplateElement::PartialBlock(_) => self
                .problem(
                    "partials ({{> name}}) are not supported".into(),
                    "write the text into the app's own template",
                ),
            TemplateElement::DecoratorExpression(_) | TemplateElement::DecoratorBlock(_) => self
                .problem(
                    "decorators ({{* name}}) are not supported".into(),
                    "remove the decorator",
                ),
            _ => self.problem(
                "this kind of Handlebars element is not supported".into(),
                "use {{name}}, {{#if}}, {{#each}}, {{#with}} and dotprompt's helpers",
            ),
        }
    }

    fn expression(&mut self, expression: &HelperTemplate) {
        let name = expression.name.as_name().unwrap_or_default().to_string();
        if expression.params.is_empty() && expression.hash.is_empty() {
            if HELPERS.contains(&name.as_str()) {
                self.helper_misused(&name);
            } else if let Parameter::Path(_) | Parameter::Name(_) = &expression.name {
                self.variable(&name);
            }
            return;
        }
        match name.as_str() {
            "role" => {
                match expression.params.as_slice() {
                    [Parameter::Literal(Value::String(role))]
                        if PromptRole::from_dotprompt(role).is_some() => {}
                    _ => self.problem(
                        "{{role}} takes one of \"system\", \"user\" or \"model\" (the assistant)"
                            .into(),
                        "write {{role \"system\"}}, {{role \"user\"}} or {{role \"model\"}}",
                    ),
                }
                // Role metadata (`purpose=...`) goes into dotprompt's message metadata,
                // which the API call has no place for; literals only.
                for value in expression.hash.values() {
                    if !matches!(value, Parameter::Literal(_)) {
                        self.problem(
                            "{{role}} options must be literal text".into(),
                            "remove the option",
                        );
                    }
                }
            }
            "json" => {
                self.arguments(expression, 1, "{{json value}} or {{json value indent=2}}");
                self.options(expression, &["indent"]);
            }
            "lookup" => self.arguments(expression, 2, "{{lookup object key}}"),
            _ if BLOCK_HELPERS.contains(&name.as_str()) => self.problem(
                format!("`{name}` is a block helper"),
                &format!("write {{{{#{name} …}}}} … {{{{/{name}}}}}"),
            ),
            _ => self.helper_unknown(&name),
        }
    }

    fn block(&mut self, block: &HelperTemplate) {
        let name = block.name.as_name().unwrap_or_default().to_string();
        let shape = match name.as_str() {
            "if" | "unless" => {
                self.arguments(block, 1, &format!("{{{{#{name} value}}}}"));
                self.options(block, &["includeZero"]);
                None
            }
            "ifEquals" | "unlessEquals" => {
                self.arguments(block, 2, &format!("{{{{#{name} a b}}}}"));
                self.options(block, &[]);
                None
            }
            "each" | "with" => {
                let usage = format!("{{{{#{name} value}}}}");
                self.arguments(block, 1, &usage);
                self.options(block, &[]);
                let value = match block.params.first() {
                    Some(param) => self.parameter_shape(param),
                    None => None,
                };
                let inner = if name == "each" {
                    element_shape(value)
                } else {
                    value
                };
                Some((inner, name == "each"))
            }
            _ if block.params.is_empty() && block.hash.is_empty() => {
                self.problem(
                    format!("{{{{#{name}}}}} sections are not supported"),
                    &format!("write {{{{#each {name}}}}} for a list or {{{{#if {name}}}}} for a condition"),
                );
                return;
            }
            _ => {
                self.helper_unknown(&name);
                return;
            }
        };
        let at = self.at;
        match shape {
            None => self.inner(block.template.as_ref()),
            Some((inner, each)) => {
                let parent_in_each = self.frames.last().is_some_and(|f| f.in_each);
                let params = block_params(block.block_param.as_ref(), inner, each);
                self.frames.push(Frame {
                    shape: inner,
                    params,
                    in_each: each || parent_in_each,
                });
                self.inner(block.template.as_ref());
                self.frames.pop();
            }
        }
        self.at = at;
        self.inner(block.inverse.as_ref());
    }

    fn inner(&mut self, template: Option<&Template>) {
        if let Some(template) = template {
            self.walk(template);
        }
    }

    /// Checks `count` positional arguments (each a declared path or a literal).
    fn arguments(&mut self, helper: &HelperTemplate, count: usize, usage: &str) {
        let name = helper.name.as_name().unwrap_or_default().to_string();
        if helper.params.len() != count {
            self.problem(
                format!(
                    "`{name}` takes {count} argument(s), not {}",
                    helper.params.len()
                ),
                &format!("write {usage}"),
            );
        }
        for param in &helper.params {
            self.parameter_shape(param);
        }
    }

    fn options(&mut self, helper: &HelperTemplate, allowed: &[&str]) {
        let name = helper.name.as_name().unwrap_or_default().to_string();
        let mut keys: Vec<_> = helper.hash.keys().collect();
        keys.sort();
        for key in keys {
            if !allowed.contains(&key.as_str()) {
                self.problem(
                    format!("`{name}` has no option `{key}`"),
                    &if allowed.is_empty() {
                        "remove the option".to_string()
                    } else {
                        format!("use {}", allowed.join(", "))
                    },
                );
            }
            self.parameter_shape(&helper.hash[key]);
        }
    }

    fn parameter_shape(&mut self, param: &Parameter) -> Shape<'a> {
        match param {
            Parameter::Path(path) => self.variable(raw(path)),
            Parameter::Name(name) => self.variable(name),
            Parameter::Literal(_) => None,
            Parameter::Subexpression(_) => {
                self.problem(
                    "subexpressions `( … )` are not supported".into(),
                    "read the field directly, or use {{#each}} / {{#with}}",
                );
                None
            }
            _ => None,
        }
    }

    fn helper_misused(&mut self, name: &str) {
        let fix = match name {
            "role" => "write {{role \"system\"}}, {{role \"user\"}} or {{role \"model\"}}",
            "json" => "write {{json field}}",
            "history" | "media" | "section" => {
                return self.helper_unknown(name);
            }
            _ => "rename the input field: helper names cannot be printed with {{name}}",
        };
        self.problem(format!("`{{{{{name}}}}}` calls the helper `{name}`"), fix);
    }

    fn helper_unknown(&mut self, name: &str) {
        let (problem, fix) = match name {
            "history" => (
                "{{history}} is not supported: an app run has no earlier messages".to_string(),
                "remove it".to_string(),
            ),
            "media" => (
                "{{media}} is not supported yet: apps take text input".to_string(),
                "remove it".to_string(),
            ),
            "section" => (
                "{{section}} is not supported".to_string(),
                "remove it".to_string(),
            ),
            _ => (
                format!("unknown helper `{name}`"),
                "use role, json, lookup, #if, #unless, #each, #with, #ifEquals or #unlessEquals"
                    .to_string(),
            ),
        };
        self.problem(problem, &fix);
    }

    /// The shape of the value `raw` names, or a problem when the schema does not
    /// declare it.
    fn variable(&mut self, raw: &str) -> Shape<'a> {
        let path = PathText::parse(raw);
        if let Some(data) = &path.data {
            return match data.as_str() {
                "root" => self.navigate(self.frames[0].shape, &path.segments, raw, true),
                "index" | "key" | "first" | "last"
                    if self.frames.iter().any(|f| f.in_each) && path.segments.is_empty() =>
                {
                    None
                }
                "index" | "key" | "first" | "last" => {
                    self.problem(
                        format!("`{raw}` is only set inside {{{{#each}}}}"),
                        "move it into an {{#each}} block",
                    );
                    None
                }
                _ => {
                    self.problem(
                        format!("unknown data variable `{raw}`"),
                        "use @index, @key, @first, @last or @root",
                    );
                    None
                }
            };
        }
        if path.up >= self.frames.len() {
            self.problem(
                format!("`{raw}` goes up more blocks than there are"),
                "remove a `../`",
            );
            return None;
        }
        let frame_index = self.frames.len() - 1 - path.up;
        if !path.this
            && let Some(first) = path.segments.first()
        {
            // Block parameters are seen from every block inside theirs.
            let param = self.frames[..=frame_index]
                .iter()
                .rev()
                .find_map(|f| f.params.iter().find(|(name, _)| name == first));
            if let Some((_, shape)) = param {
                let shape = *shape;
                return self.navigate(shape, &path.segments[1..], raw, false);
            }
        }
        let shape = self.frames[frame_index].shape;
        self.navigate(shape, &path.segments, raw, frame_index == 0)
    }

    fn navigate(
        &mut self,
        mut shape: Shape<'a>,
        segments: &[String],
        raw: &str,
        from_root: bool,
    ) -> Shape<'a> {
        for (i, segment) in segments.iter().enumerate() {
            let schema = shape?;
            match step(schema, segment) {
                Ok(next) => shape = next,
                Err(why) => {
                    let declared = if from_root && i == 0 && !schema.is_null() {
                        "input.schema does not declare it"
                    } else {
                        why
                    };
                    self.problem(
                        format!("the template reads `{raw}`, but {declared}"),
                        "declare the field under input.schema (e.g. `name: string, what it is`), \
                         or correct the name",
                    );
                    return None;
                }
            }
        }
        shape
    }
}
