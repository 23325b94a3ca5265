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
        .rm_tags(["img"]);
    builder
});

/// Renders Markdown and removes anything that could run script, load remote content or
/// break out of the message box.
pub fn to_safe_html(markdown: &str) -> String {
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
mod tests {
    use super::{RenderCache, to_safe_html};

    #[test]
    fn a_finished_answer_is_rendered_once_and_a_reused_id_again() {
        let cache = RenderCache::default();
        assert_eq!(
            &*cache.html(7, 100, "**first**"),
            "<p><strong>first</strong></p>\n"
        );
        // Same id and update: the stored HTML, not a new rendering.
        assert_eq!(
            &*cache.html(7, 100, "changed"),
            "<p><strong>first</strong></p>\n"
        );
        // The id given to a new answer after a regenerate: rendered afresh.
        assert_eq!(&*cache.html(7, 250, "*second*"), "<p><em>second</em></p>\n");
    }

    #[test]
    fn markdown_becomes_html() {
        let html = to_safe_html("# Title\n\n**bold** and `code`\n\n```rust\nfn main() {}\n```");
        assert!(html.contains("<h1>Title</h1>"));
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<pre><code"));
    }

    #[test]
    fn script_event_handlers_and_javascript_urls_are_removed() {
        let html = to_safe_html(
            "<script>alert(1)</script><p onclick=\"alert(2)\">hi</p>\n\n\
             [x](javascript:alert(3)) <a href=\"javascript:alert(4)\">y</a>\n\n\
             <iframe src=\"https://evil.example\"></iframe><style>body{}</style>",
        );
        for bad in [
            "<script",
            "onclick",
            "href=\"javascript",
            "<iframe",
            "<style",
            "alert(1)",
        ] {
            assert!(!html.contains(bad), "{bad} survived in {html}");
        }
        assert!(html.contains("hi"));
    }

    #[test]
    fn remote_images_are_dropped() {
        let html = to_safe_html("![x](https://tracker.example/p.png) <img src=x onerror=alert(1)>");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("tracker.example"), "{html}");
    }

    #[test]
    fn links_get_safe_rel() {
        let html = to_safe_html("[docs](https://docs.rs)");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow ugc\""),
            "{html}"
        );
    }
}
