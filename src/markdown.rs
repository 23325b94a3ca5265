//! Markdown to safe HTML. Model output is untrusted input: pulldown-cmark passes raw
//! HTML through, so everything it produces is cleaned by ammonia before it reaches a page.

use std::sync::{Arc, LazyLock};

use pulldown_cmark::{Options, Parser, html};

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        // Links open safely and tell search engines the model wrote them.
        .link_rel(Some("noopener noreferrer nofollow ugc"))
        .url_schemes(["http", "https", "mailto"].into())
        // No images at all: a remote image would leak the reader's IP to anyone who can
        // make the model print a URL.
        .rm_tags(["img"])
        // A long code line scrolls sideways inside its block: a keyboard must reach it.
        .set_tag_attribute_value("pre", "tabindex", "0");
    builder
});

/// Renders Markdown and removes anything that could run script, load remote content or
/// break out of the message box.
pub fn to_safe_html(markdown: &str) -> String {
    // Control characters (a model may write any) have no place in a page.
    let cleaned: String;
    let markdown = if crate::domain::has_control_characters(markdown) {
        cleaned = markdown
            .chars()
            .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
            .collect();
        &cleaned
    } else {
        markdown
    };
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    SANITIZER.clean(&unsafe_html).to_string()
}

/// Finished answers already rendered, so a page of fifty messages costs no Markdown
/// work. Keyed by message id and last update (SQLite can give a deleted row's id to the
/// next one), bounded by the size of the HTML it holds.
#[derive(Clone, Debug)]
pub struct RenderCache(moka::sync::Cache<(i64, i64), Arc<str>>);

/// Rendered HTML kept, in bytes.
const RENDER_CACHE_BYTES: u64 = 8 << 20;

impl Default for RenderCache {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .weigher(|_, html: &Arc<str>| u32::try_from(html.len()).unwrap_or(u32::MAX))
                .max_capacity(RENDER_CACHE_BYTES)
                .build(),
        )
    }
}

impl RenderCache {
    /// `to_safe_html` of a message that will not change again, rendered once.
    pub fn html(&self, id: i64, updated_at: i64, markdown: &str) -> Arc<str> {
        self.0
            .get_with((id, updated_at), || to_safe_html(markdown).into())
    }
}

#[cfg(test)]
mod tests;
