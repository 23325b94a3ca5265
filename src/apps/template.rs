//! Handlebars set up as dotprompt sets up Handlebars.js: no HTML escaping, dotprompt's
//! helpers (`role`, `json`, `ifEquals`, `unlessEquals`), and JavaScript's semantics
//! where the `handlebars` crate's differ (how `{{value}}` prints numbers, lists and
//! objects; which values `#if`, `#unless` and `#with` take as empty).

use handlebars::{
    BlockContext, BlockParams, Context, Handlebars, Helper, HelperDef, HelperResult, Output,
    RenderContext, RenderErrorReason, Renderable, Template,
    template::{Parameter, TemplateElement},
};
use serde_json::Value;

use super::{js, messages::ROLE_MARKER_PREFIX};

/// Prints a plain `{{value}}` as JavaScript's `String(value)`. Every such expression is
/// rewritten into a call of this helper when the template is compiled (a name no
/// template may use: the checker refuses helpers it does not know).
const DISPLAY: &str = "promptship-display";

/// The registry every app's template is rendered with.
pub fn registry() -> Handlebars<'static> {
    let mut registry = Handlebars::new();
    registry.register_escape_fn(handlebars::no_escape);
    // Not strict: a field the input leaves out renders as nothing, as in dotprompt. That
    // the template names only declared fields is checked once, when it is loaded
    // (`variables.rs`), so an unknown variable is an error at start, not at a run.
    registry.set_strict_mode(false);
    registry.register_helper("role", Box::new(role));
    registry.register_helper("json", Box::new(json));
    registry.register_helper("lookup", Box::new(lookup));
    registry.register_helper(DISPLAY, Box::new(display));
    registry.register_helper("if", Box::new(If { negated: false }));
    registry.register_helper("unless", Box::new(If { negated: true }));
    registry.register_helper("ifEquals", Box::new(Equals { negated: false }));
    registry.register_helper("unlessEquals", Box::new(Equals { negated: true }));
    registry.register_helper("with", Box::new(With));
    registry
}

/// `template` (as compiled, and checked) with its plain `{{value}}` expressions
/// rewritten to print as JavaScript does.
pub fn for_rendering(mut template: Template) -> Template {
    rewrite_displays(&mut template);
    template
}

fn rewrite_displays(template: &mut Template) {
    for element in &mut template.elements {
        match element {
            TemplateElement::Expression(expression)
            | TemplateElement::HtmlExpression(expression)
                if expression.params.is_empty()
                    && expression.hash.is_empty()
                    && !expression.block =>
            {
                let name = expression.name.as_name().map(str::to_string);
                let Some(path) = name
                    .filter(|name| !super::variables::HELPERS.contains(&name.as_str()))
                    .and_then(|name| handlebars::Path::parse(&name).ok())
                else {
                    continue;
                };
                expression.name = Parameter::Name(DISPLAY.into());
                expression.params = vec![Parameter::Path(path)];
            }
            TemplateElement::HelperBlock(block) => {
                if let Some(inner) = &mut block.template {
                    rewrite_displays(inner);
                }
                if let Some(inverse) = &mut block.inverse {
                    rewrite_displays(inverse);
                }
            }
            _ => {}
        }
    }
}

/// Parameter `index`, or `None` for `undefined` (a field the input does not have).
fn argument<'a>(helper: &'a Helper<'_>, index: usize) -> Option<&'a Value> {
    helper
        .param(index)
        .filter(|param| !param.is_value_missing())
        .map(|param| param.value())
}

fn hash<'a>(helper: &'a Helper<'_>, key: &str) -> Option<&'a Value> {
    helper
        .hash_get(key)
        .filter(|param| !param.is_value_missing())
        .map(|param| param.value())
}

fn display(
    helper: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write(&js::display(argument(helper, 0)))?;
    Ok(())
}

/// `{{role "system"}}`: the marker `toMessages` splits at.
fn role(
    helper: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let name = js::display(argument(helper, 0));
    out.write(&format!("{ROLE_MARKER_PREFIX}{name}>>>"))?;
    Ok(())
}

/// `{{json value indent=2}}`: `JSON.stringify(value, null, indent)`.
fn json(
    helper: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let indent = js::indent(hash(helper, "indent"));
    out.write(&js::stringify(argument(helper, 0), &indent))?;
    Ok(())
}

/// `{{lookup object key}}`, printed as JavaScript prints the value found.
fn lookup(
    helper: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let object = argument(helper, 0);
    let key = js::display(argument(helper, 1));
    let found = match object {
        Some(Value::Object(fields)) => fields.get(&key),
        Some(Value::Array(items)) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        // `if (!obj) return obj;`, and a scalar has no fields.
        other if !js::truthy(other) => other,
        _ => None,
    };
    out.write(&js::display(found))?;
    Ok(())
}

/// `#if` and `#unless` as Handlebars.js decides: the block unless the value is falsy
/// (`0` too, unless `includeZero=true`) or an empty list; an empty object is shown.
struct If {
    negated: bool,
}

impl HelperDef for If {
    fn call<'reg: 'rc, 'rc>(
        &self,
        helper: &Helper<'rc>,
        registry: &'reg Handlebars<'reg>,
        context: &'rc Context,
        render: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let value = argument(helper, 0);
        let include_zero = js::truthy(hash(helper, "includeZero"));
        let shown = !((!include_zero && !js::truthy(value)) || js::is_empty(value));
        block(
            helper,
            shown != self.negated,
            registry,
            context,
            render,
            out,
        )
    }
}

/// dotprompt's `#ifEquals a b` and `#unlessEquals a b`: `a === b`.
struct Equals {
    negated: bool,
}

impl HelperDef for Equals {
    fn call<'reg: 'rc, 'rc>(
        &self,
        helper: &Helper<'rc>,
        registry: &'reg Handlebars<'reg>,
        context: &'rc Context,
        render: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let equal = js::strictly_equal(argument(helper, 0), argument(helper, 1));
        block(
            helper,
            equal != self.negated,
            registry,
            context,
            render,
            out,
        )
    }
}

fn block<'reg: 'rc, 'rc>(
    helper: &Helper<'rc>,
    shown: bool,
    registry: &'reg Handlebars<'reg>,
    context: &'rc Context,
    render: &mut RenderContext<'reg, 'rc>,
    out: &mut dyn Output,
) -> HelperResult {
    let template = if shown {
        helper.template()
    } else {
        helper.inverse()
    };
    match template {
        Some(template) => template.render(registry, context, render, out),
        None => Ok(()),
    }
}

/// `#with value`: the block with `value` as its context unless the value is empty as
/// `#if` sees it (an empty object is not).
struct With;

impl HelperDef for With {
    fn call<'reg: 'rc, 'rc>(
        &self,
        helper: &Helper<'rc>,
        registry: &'reg Handlebars<'reg>,
        context: &'rc Context,
        render: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let param = helper
            .param(0)
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("with", 0))?;
        let value = argument(helper, 0);
        if js::is_empty(value) {
            return block(helper, false, registry, context, render, out);
        }
        // As the crate's own `with`, with the emptiness test above.
        let mut inner = BlockContext::new();
        match param.context_path() {
            Some(path) => inner.base_path_mut().clone_from(path),
            None => inner.set_base_value(param.value().clone()),
        }
        if let Some(parent) = render.block() {
            inner
                .local_variables_mut()
                .clone_from(parent.local_variables());
        }
        if let Some(name) = helper.block_param() {
            let mut params = BlockParams::new();
            match param.context_path() {
                Some(_) => params.add_path(name, Vec::new())?,
                None => params.add_value(name, param.value().clone())?,
            }
            inner.set_block_params(params);
        }
        render.push_block(inner);
        let result = match helper.template() {
            Some(template) => template.render(registry, context, render, out),
            None => Ok(()),
        };
        render.pop_block();
        result
    }
}

#[cfg(test)]
mod tests;
