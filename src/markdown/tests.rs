//! The sanitizer's tests: examples, and properties over generated hostile Markdown and
//! HTML, checked by reading the output tag by tag as a browser would.

use proptest::{prelude::*, strategy::ValueTree, test_runner::TestRunner};
use pulldown_cmark::{Options, Parser, html};

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
    assert!(html.contains(r#"<pre tabindex="0"><code"#), "{html}");
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

// Property tests (RELIABILITY.md check 21): whatever a model, or someone steering it
// with a prompt, writes, the HTML that reaches a page runs nothing and loads nothing.

/// Elements that run script, load or embed other content, submit data, or change how
/// the rest of the page is parsed (raw-text and foreign-content elements).
const FORBIDDEN_TAGS: &[&str] = &[
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "param",
    "img",
    "image",
    "picture",
    "source",
    "video",
    "audio",
    "track",
    "svg",
    "math",
    "link",
    "meta",
    "base",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "noscript",
    "template",
    "xmp",
    "plaintext",
    "title",
    "noembed",
    "noframes",
    "portal",
    "canvas",
    "marquee",
    "body",
    "html",
    "head",
];

/// Attributes that load or submit to a URL (beyond a link's `href`) or carry CSS,
/// which can load one too. `cite` (on quotes) is not among them: browsers never load
/// or follow it, and ammonia keeps it whatever its scheme.
const FORBIDDEN_ATTRIBUTES: &[&str] = &[
    "src",
    "srcset",
    "poster",
    "background",
    "data",
    "action",
    "formaction",
    "ping",
    "xlink:href",
    "style",
    "srcdoc",
    "dynsrc",
    "lowsrc",
];

/// Why `html` would be unsafe in a browser, or `Ok` if it is not.
///
/// `html` is ammonia's output, serialised by html5ever: every `<` of text is written
/// as `&lt;` and every attribute value is quoted with `"` (inner quotes escaped), so
/// each `<` opens a tag or an end tag. Anything else is reported, not skipped: a
/// scanner that skipped what it did not understand would pass what it should check.
fn unsafe_part(html: &str) -> Result<(), String> {
    const SPACE: [char; 5] = [' ', '\t', '\n', '\x0c', '\r'];
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let tag_start = html.len() - rest.len() + at;
        let malformed = || format!("unexpected markup at byte {tag_start}");
        rest = &rest[at + 1..];
        let end_tag = rest.starts_with('/');
        if end_tag {
            rest = &rest[1..];
        }
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        if name_len == 0 {
            return Err(malformed());
        }
        let name = rest[..name_len].to_ascii_lowercase();
        if FORBIDDEN_TAGS.contains(&name.as_str()) {
            return Err(format!("a <{name}> element at byte {tag_start}"));
        }
        rest = &rest[name_len..];
        loop {
            rest = rest.trim_start_matches(SPACE);
            if let Some(after) = rest.strip_prefix('>').or(rest.strip_prefix("/>")) {
                rest = after;
                break;
            }
            let attribute_len = rest
                .find(|c: char| SPACE.contains(&c) || matches!(c, '/' | '>' | '='))
                .unwrap_or(rest.len());
            if end_tag || attribute_len == 0 {
                return Err(malformed());
            }
            let attribute = rest[..attribute_len].to_ascii_lowercase();
            rest = &rest[attribute_len..];
            let value = match rest.strip_prefix("=\"") {
                Some(quoted) => {
                    let end = quoted.find('"').ok_or_else(malformed)?;
                    rest = &quoted[end + 1..];
                    decode_attribute(&quoted[..end])?
                }
                None => String::new(),
            };
            if attribute.starts_with("on") {
                return Err(format!("an event handler `{attribute}` on <{name}>"));
            }
            if FORBIDDEN_ATTRIBUTES.contains(&attribute.as_str()) {
                return Err(format!("`{attribute}=\"{value}\"` on <{name}>"));
            }
            if attribute == "href" && !is_safe_url(&value) {
                return Err(format!("a link to `{value}`"));
            }
        }
    }
    Ok(())
}

/// An attribute value as a browser reads it. html5ever escapes every `&` of a value,
/// so the entities it writes are the only ones there can be; any other is reported.
fn decode_attribute(value: &str) -> Result<String, String> {
    let mut decoded = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        decoded.push_str(&rest[..at]);
        rest = &rest[at..];
        let (entity, c) = [
            ("&amp;", '&'),
            ("&quot;", '"'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&nbsp;", '\u{a0}'),
        ]
        .into_iter()
        .find(|(entity, _)| rest.starts_with(entity))
        .ok_or_else(|| format!("an unexpected entity in the attribute value `{value}`"))?;
        decoded.push(c);
        rest = &rest[entity.len()..];
    }
    decoded.push_str(rest);
    Ok(decoded)
}

/// Whether a link's URL, read as a browser reads it, is relative or http, https or
/// mailto. Browsers strip leading and trailing controls and spaces and drop tabs and
/// newlines anywhere before looking for a scheme (`java\tscript:` is `javascript:`).
fn is_safe_url(url: &str) -> bool {
    let url: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let Some(colon) = url.find(':') else {
        return true;
    };
    let scheme = &url[..colon];
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    // Not a scheme (`./a:b`, `?x=y:z`): a relative URL, on this site.
    !is_scheme || ["http", "https", "mailto"].contains(&scheme.to_ascii_lowercase().as_str())
}

/// What `to_safe_html` produces before ammonia, to show the generated input is
/// hostile: the checks below must fail on it.
fn unsanitized(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut html = String::new();
    html::push_html(&mut html, Parser::new_ext(markdown, options));
    html
}

/// `word` in a random mix of cases (`ScRiPt`), as filters that compare
/// case-sensitively miss it.
fn any_case(word: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<bool>(), word.len()).prop_map(move |upper| {
        word.chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// A URL that runs script or embeds content, spelled the ways filters miss: any case,
/// leading spaces and controls, tabs and newlines inside, entities for letters or
/// the colon.
fn hostile_url() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        any_case("javascript"),
        any_case("vbscript"),
        any_case("data"),
        Just("&#106;avascript".to_string()),
        Just("&#x6A;avascript".to_string()),
        Just("&#0000106&#0000097vascript".to_string()),
        Just("java\tscript".to_string()),
        Just("java&#x09;script".to_string()),
        Just("java\nscript".to_string()),
        Just("jav&#x0A;ascript".to_string()),
        Just(" \x01\x0bjavascript".to_string()),
        Just("javascript\0".to_string()),
        Just("\u{0}javascript".to_string()),
    ];
    let colon = prop_oneof![
        Just(":"),
        Just("&colon;"),
        Just("&#58;"),
        Just("&#x3a;"),
        Just("%3A")
    ];
    let payload = prop_oneof![
        Just("alert(document.cookie)"),
        Just("text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
        Just("text/html,<script>alert(1)</script>"),
        Just("image/svg+xml,<svg onload=alert(1)>"),
        Just("msgbox(1)"),
        Just("//%0aalert(1)"),
    ];
    (scheme, colon, payload).prop_map(|(s, c, p)| format!("{s}{c}{p}"))
}

/// Any URL an attacker would put in a link or image: hostile, remote or protocol-relative.
fn any_url() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => hostile_url(),
        1 => Just("http://tracker.example/p.png?u=1".to_string()),
        1 => Just("https://evil.example/x".to_string()),
        1 => Just("//evil.example/x".to_string()),
        1 => Just("mailto:a@example.com".to_string()),
        1 => Just("file:///etc/passwd".to_string()),
    ]
}

/// An event handler attribute: `on…` in any case, after any separator a browser
/// accepts, with any quoting.
fn event_handler() -> impl Strategy<Value = String> {
    let event = prop_oneof![
        any_case("onerror"),
        any_case("onload"),
        any_case("onclick"),
        any_case("onmouseover"),
        any_case("onfocus"),
        any_case("ontoggle"),
        any_case("onanimationstart"),
        any_case("onpointerenter"),
        any_case("onbegin"),
    ];
    let separator = prop_oneof![
        Just(" "),
        Just("/"),
        Just("\t"),
        Just("\n"),
        Just("\x0c"),
        Just(" / ")
    ];
    let value = prop_oneof![
        Just("=alert(1)"),
        Just("=\"alert(1)\""),
        Just("='alert(1)'"),
        Just("=`alert(1)`"),
        Just(" = \"alert(1)\" "),
        Just("=&#97;lert(1)"),
    ];
    (separator, event, value).prop_map(|(s, e, v)| format!("{s}{e}{v}"))
}

fn tag_name() -> impl Strategy<Value = String> {
    prop_oneof![
        any_case("script"),
        any_case("style"),
        any_case("iframe"),
        any_case("object"),
        any_case("embed"),
        any_case("svg"),
        any_case("math"),
        any_case("img"),
        any_case("image"),
        any_case("video"),
        any_case("audio"),
        any_case("source"),
        any_case("link"),
        any_case("meta"),
        any_case("base"),
        any_case("form"),
        any_case("input"),
        any_case("button"),
        any_case("details"),
        any_case("noscript"),
        any_case("template"),
        any_case("textarea"),
        any_case("title"),
        any_case("xmp"),
        any_case("table"),
        any_case("a"),
        any_case("p"),
        any_case("div"),
        any_case("blockquote"),
        any_case("area"),
    ]
}

/// An opening tag with URL attributes and event handlers, closed or left open.
fn hostile_tag() -> impl Strategy<Value = String> {
    let attribute = prop_oneof![
        event_handler(),
        (
            prop_oneof![
                Just("href"),
                Just("src"),
                Just("xlink:href"),
                Just("action"),
                Just("formaction"),
                Just("data"),
                Just("poster"),
                Just("background"),
                Just("srcset"),
                Just("srcdoc"),
                Just("style"),
            ],
            any_url(),
            prop_oneof![Just("\""), Just("'"), Just("")],
        )
            .prop_map(|(name, url, q)| format!(" {name}={q}{url}{q}")),
        Just(" style=\"background:url(http://tracker.example/p.png)\"".to_string()),
    ];
    (
        tag_name(),
        proptest::collection::vec(attribute, 0..4),
        prop_oneof![Just(">"), Just("/>"), Just(""), Just(" >")],
    )
        .prop_map(|(name, attributes, end)| format!("<{name}{}{end}", attributes.concat()))
}

/// A piece of a hostile answer: HTML and Markdown that load, run or break out,
/// mixed with the characters that trip parsers.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => hostile_tag(),
        1 => tag_name().prop_map(|name| format!("</{name}>")),
        2 => any_url().prop_map(|url| format!("[x]({url})")),
        1 => any_url().prop_map(|url| format!("[x](<{url}>)")),
        1 => any_url().prop_map(|url| format!("[x]({url} \"t\")")),
        2 => any_url().prop_map(|url| format!("![x]({url})")),
        1 => any_url().prop_map(|url| format!("<{url}>")),
        1 => any_url().prop_map(|url| format!("\n\n[r]: {url}\n\n[x][r] ![y][r]\n\n")),
        1 => any_url().prop_map(|url| format!("<a href={url}>x</a>")),
        1 => any_url().prop_map(|url| format!("<img src=\"{url}\">")),
        1 => any_url().prop_map(|url| format!("<meta http-equiv=refresh content=\"0;url={url}\">")),
        1 => any_url().prop_map(|url| format!("<svg><a xlink:href=\"{url}\"><text>x</text></a></svg>")),
        // Known sanitizer bypasses: parsing differences between a sanitizer and a
        // browser (mutation XSS).
        1 => prop_oneof![
            Just("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">"),
            Just("<svg><style><img src=x onerror=alert(1)></style></svg>"),
            Just("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"),
            Just("<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>"),
            Just("<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">"),
            Just("<math><mi><style><!--</style><img src onerror=alert(1)>-->"),
            Just("<a href=\"javas\u{0}cript:alert(1)\">x</a>"),
            Just("<![CDATA[><img src=x onerror=alert(1)>]]>"),
            Just("<!--><img src=x onerror=alert(1)>-->"),
            Just("<? foo=\"><script>alert(1)</script>\">"),
            Just("<scr<script>ipt>alert(1)</scr</script>ipt>"),
            Just("<<script>script>alert(1)<</script>/script>"),
            Just("<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\"></iframe>"),
            Just("<object data=\"data:text/html,<script>alert(1)</script>\"></object>"),
            Just("<embed src=\"javascript:alert(1)\">"),
            Just("<base href=\"//evil.example/\">"),
            Just("<details open ontoggle=alert(1)>"),
            Just("<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>"),
        ]
        .prop_map(str::to_string),
        // Markdown structure that changes how what follows is parsed.
        3 => prop_oneof![
            Just("\n\n"),
            Just("\n"),
            Just("    "),
            Just("```\n"),
            Just("`"),
            Just("> "),
            Just("- "),
            Just("1. "),
            Just("- [ ] "),
            Just("| a | b |\n|---|---|\n| "),
            Just("**"),
            Just("~~"),
            Just("\\"),
            Just("&"),
            Just("&amp;"),
            Just("&lt;"),
            Just("<"),
            Just(">"),
            Just("\""),
            Just("'"),
            Just("="),
            Just("<!--"),
            Just("-->"),
            Just("<![CDATA["),
            Just("]]>"),
            Just("<!DOCTYPE html>"),
            Just("</p>"),
            Just("<p"),
        ]
        .prop_map(str::to_string),
        // Characters that trip parsers and terminals: NUL, bidirectional overrides,
        // zero-width and byte-order marks, odd line ends, combining marks, emoji.
        2 => prop_oneof![
            Just("\0"),
            Just("\u{202E}"),
            Just("\u{202D}"),
            Just("\u{2066}"),
            Just("\u{200B}"),
            Just("\u{FEFF}"),
            Just("\r\n"),
            Just("\r"),
            Just("\u{85}"),
            Just("\u{2028}"),
            Just("e\u{301}\u{302}\u{303}"),
            Just("👩‍👩‍👧‍👦"),
            Just("\u{FFFD}"),
        ]
        .prop_map(str::to_string),
        2 => "[a-zA-Z0-9 ]{0,12}",
        1 => any::<String>(),
    ]
}

fn hostile_markdown() -> impl Strategy<Value = String> {
    proptest::collection::vec(fragment(), 1..40).prop_map(|fragments| fragments.concat())
}

#[test]
fn the_output_check_catches_each_thing_it_looks_for() {
    for bad in [
        "<script>alert(1)</script>",
        "<p><ScRiPt>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<object data=\"x\"></object>",
        "<embed src=\"x\">",
        "<style>p{}</style>",
        "<img src=\"http://tracker.example/p.png\">",
        "<p onclick=\"alert(1)\">x</p>",
        "<p title=\"a\" ONLOAD=\"\">x</p>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\" &#1; JaVa&#9;Script:alert(1)\">x</a>",
        "<a href=\"java\tscript:alert(1)\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "<a href=\"data:text/html,x\">x</a>",
        "<a title=\"x\" href=\"file:///etc/passwd\">x</a>",
        "<a href=x>unquoted</a>",
        "<!-- a comment -->",
    ] {
        assert!(unsafe_part(bad).is_err(), "not caught: {bad}");
    }
    for good in [
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; onclick=x javascript:alert(1)</p>\n",
        "<p title=\"onload=&quot;x&quot; javascript:alert(1) <img>\">x</p>",
        "<a href=\"https://docs.rs\" rel=\"noopener noreferrer nofollow ugc\">d</a>",
        "<a href=\"mailto:a@example.com\">m</a><a href=\"/relative/path:x\">r</a>",
        "<a href=\"javascript&amp;colon;alert(1)\">x</a><br>",
        "<ol start=\"3\"><li>x</li></ol><hr>",
    ] {
        assert_eq!(unsafe_part(good), Ok(()), "{good}");
    }
}

/// Without ammonia, the generated answers are unsafe: the property below would
/// fail if the sanitizer stopped sanitizing.
#[test]
fn the_generated_answers_are_hostile() {
    let mut runner = TestRunner::deterministic();
    let strategy = hostile_markdown();
    let samples = 300;
    let unsafe_raw = (0..samples)
        .filter(|_| {
            let markdown = strategy.new_tree(&mut runner).unwrap().current();
            unsafe_part(&unsanitized(&markdown)).is_err()
        })
        .count();
    assert!(
        unsafe_raw * 10 >= samples * 9,
        "only {unsafe_raw} of {samples} unsanitized renderings were unsafe"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_markdown_and_html_render_inert(markdown in hostile_markdown()) {
        let html = to_safe_html(&markdown);
        prop_assert_eq!(unsafe_part(&html), Ok(()), "{}", html);
    }

    #[test]
    fn any_text_renders_inert(markdown in any::<String>()) {
        let html = to_safe_html(&markdown);
        prop_assert_eq!(unsafe_part(&html), Ok(()), "{}", html);
    }

    #[test]
    fn any_bytes_read_as_text_render_inert(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let html = to_safe_html(&String::from_utf8_lossy(&bytes));
        prop_assert_eq!(unsafe_part(&html), Ok(()), "{}", html);
    }
}
