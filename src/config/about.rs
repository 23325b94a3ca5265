//! The site file's `[about]` table: who built this service, where to find them and what
//! it is built with, for the about page (`/about`). Every key has a default describing
//! the template itself, so a fresh clone has a sensible page.

use serde::Deserialize;

use crate::i18n::Lang;

/// Who built the service and with what: the `[about]` table of `promptship.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct About {
    /// Who built it: a name, or a team's.
    #[serde(default = "default_author")]
    pub author: String,
    #[serde(default)]
    pub author_ko: Option<String>,
    /// Markdown: a few sentences about the builder and the service.
    #[serde(default = "default_bio")]
    pub bio: String,
    #[serde(default)]
    pub bio_ko: Option<String>,
    /// Where to find the builder: GitHub, a portfolio, a blog. Only http(s) URLs.
    #[serde(default)]
    pub links: Vec<Link>,
    /// What the service is built with, in the order shown.
    #[serde(default = "default_stack")]
    pub stack: Vec<Part>,
}

/// A link of the about page.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub label: String,
    #[serde(default)]
    pub label_ko: Option<String>,
    pub url: String,
}

/// A part of the stack: a crate, a library, a tool.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub name: String,
    /// What it does here, in a few words.
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub role_ko: Option<String>,
    /// Its home page (http or https), if any.
    #[serde(default)]
    pub url: Option<String>,
}

impl Default for About {
    fn default() -> Self {
        Self {
            author: default_author(),
            author_ko: None,
            bio: default_bio(),
            bio_ko: Some(DEFAULT_BIO_KO.into()),
            links: Vec::new(),
            stack: default_stack(),
        }
    }
}

fn default_author() -> String {
    "The promptship template".into()
}

fn default_bio() -> String {
    "This service was made from **promptship**, a Rust starter template for publishing an \
     LLM-backed web service: server-rendered pages, an OpenAI-compatible API, prompt apps \
     in one file each, budgets, and one binary to deploy."
        .into()
}

const DEFAULT_BIO_KO: &str = "이 서비스는 LLM 기반 웹 서비스를 공개하기 위한 Rust 스타터 템플릿 \
     **promptship**으로 만들었습니다. 서버에서 렌더링하는 페이지, OpenAI 호환 API, 파일 하나로 \
     만드는 프롬프트 앱, 사용량 예산을 갖추고 실행 파일 하나로 배포합니다.";

/// The template's own stack.
fn default_stack() -> Vec<Part> {
    let part = |name: &str, role: &str, role_ko: &str, url: &str| Part {
        name: name.into(),
        role: role.into(),
        role_ko: Some(role_ko.into()),
        url: Some(url.into()),
    };
    vec![
        part(
            "Rust",
            "one binary, no runtime to install",
            "설치할 런타임이 없는 단일 실행 파일",
            "https://www.rust-lang.org",
        ),
        part(
            "axum",
            "HTTP server and routing",
            "HTTP 서버와 라우팅",
            "https://github.com/tokio-rs/axum",
        ),
        part(
            "Askama",
            "pages, checked at compile time",
            "컴파일할 때 검사하는 페이지 템플릿",
            "https://github.com/askama-rs/askama",
        ),
        part(
            "htmx",
            "streaming answers without a JavaScript build",
            "JavaScript 빌드 없이 답변 스트리밍",
            "https://htmx.org",
        ),
        part(
            "SQLite + sqlx",
            "storage, with queries checked at compile time",
            "저장소, 쿼리는 컴파일할 때 검사",
            "https://github.com/launchbadge/sqlx",
        ),
        part(
            "async-openai",
            "any OpenAI-compatible model server",
            "모든 OpenAI 호환 모델 서버에 연결",
            "https://github.com/64bit/async-openai",
        ),
        part(
            "Pico CSS",
            "light and dark styles without a CSS build",
            "CSS 빌드 없는 라이트·다크 스타일",
            "https://picocss.com",
        ),
        part(
            "Fluent",
            "English and Korean",
            "영어와 한국어 화면",
            "https://projectfluent.org",
        ),
    ]
}

/// The text for `lang`: the Korean one when asked for and given, else the plain one.
fn in_lang<'a>(lang: Lang, plain: &'a str, ko: Option<&'a str>) -> &'a str {
    match (lang, ko) {
        (Lang::Ko, Some(ko)) if !ko.trim().is_empty() => ko,
        _ => plain,
    }
}

impl About {
    pub fn author(&self, lang: Lang) -> &str {
        in_lang(lang, &self.author, self.author_ko.as_deref())
    }

    /// The bio's Markdown in `lang`.
    pub fn bio(&self, lang: Lang) -> &str {
        in_lang(lang, &self.bio, self.bio_ko.as_deref())
    }

    /// What is wrong with the table, each naming its key (`file` is the site file's name).
    pub fn problems(&self, file: &str) -> Vec<String> {
        let mut problems = Vec::new();
        if self.author.trim().is_empty() {
            problems.push(format!(
                "{file}: [about] author must not be empty: write who built the service"
            ));
        }
        for (i, link) in self.links.iter().enumerate() {
            if link.label.trim().is_empty() {
                problems.push(format!(
                    "{file}: [about] links[{i}].label is empty: name the link, like \"GitHub\""
                ));
            }
            if !is_web_url(&link.url) {
                problems.push(format!(
                    "{file}: [about] links[{i}].url = {:?} is not an http(s) URL: write it in full, like \"https://github.com/you\"",
                    link.url
                ));
            }
        }
        for (i, part) in self.stack.iter().enumerate() {
            if part.name.trim().is_empty() {
                problems.push(format!("{file}: [about] stack[{i}].name must not be empty"));
            }
            if let Some(url) = &part.url
                && !is_web_url(url)
            {
                problems.push(format!(
                    "{file}: [about] stack[{i}].url = {url:?} is not an http(s) URL: write it in full, or leave it out"
                ));
            }
        }
        problems
    }
}

impl Link {
    pub fn label(&self, lang: Lang) -> &str {
        in_lang(lang, &self.label, self.label_ko.as_deref())
    }
}

impl Part {
    pub fn role(&self, lang: Lang) -> &str {
        in_lang(lang, &self.role, self.role_ko.as_deref())
    }
}

/// An absolute http or https URL with a host: nothing a link could run (`javascript:`),
/// and nothing relative that would point into this site.
fn is_web_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty()
        && url.trim() == url
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_web_urls_are_links() {
        for good in [
            "https://github.com/someone",
            "http://example.com",
            "HTTPS://EXAMPLE.COM/a?b#c",
        ] {
            assert!(is_web_url(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "//example.com",
            "/about",
            "https://",
            "ftp://example.com",
            "https:// example.com",
            " https://example.com",
            "https://exa\"mple.com",
            "data:text/html,hi",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }

    #[test]
    fn korean_text_falls_back_to_the_plain_key() {
        let about = About {
            bio_ko: Some("한국어 소개".into()),
            ..About::default()
        };
        assert_eq!(about.bio(Lang::Ko), "한국어 소개");
        assert_eq!(about.bio(Lang::En), about.bio);
        assert_eq!(about.author(Lang::Ko), about.author);
    }

    #[test]
    fn a_bad_link_is_named_by_its_key() {
        let about = About {
            links: vec![
                Link {
                    label: "GitHub".into(),
                    label_ko: None,
                    url: "https://github.com/x".into(),
                },
                Link {
                    label: "Portfolio".into(),
                    label_ko: None,
                    url: "javascript:alert(1)".into(),
                },
            ],
            ..About::default()
        };
        let problems = about.problems("site.toml");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("[about] links[1].url") && problems[0].contains("javascript"),
            "{problems:?}"
        );
    }
}
