//! The interface in two languages, English and Korean. The sentences live in Fluent
//! files (`locales/{en,ko}/*.ftl`) compiled into the binary; a visitor's language is the
//! one they picked (the `lang` cookie), else the first of their browser's
//! `Accept-Language` that is offered, else English.
//!
//! Templates call [`Lang::t`] (`{{ layout.lang.t("nav-apps") }}`); code that does not
//! know its reader's language yet (an error raised deep in a service) carries a [`Text`],
//! put into words when the response is rendered.

mod text;

use std::{borrow::Cow, collections::HashMap, fmt};

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header, request::Parts},
};
use fluent_langneg::{NegotiationStrategy, negotiate_languages};
use fluent_templates::{
    LanguageIdentifier, Loader, fluent_bundle::FluentValue, langid, static_loader,
};
use tower_sessions::cookie::Cookie;

pub use text::{Arg, Text};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they would end up inside
        // attributes, titles and the tests' text matches, and both languages run
        // left to right.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The cookie holding the language a visitor picked.
pub const COOKIE: &str = "lang";

/// A language of the interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Ko,
}

static EN: LanguageIdentifier = langid!("en");
static KO: LanguageIdentifier = langid!("ko");

impl Lang {
    /// Every language offered, in the order the switcher shows them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ko];

    /// The BCP 47 tag, for `<html lang>`, the cookie and `Content-Language`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }

    /// The language's own name, as the switcher shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ko => "한국어",
        }
    }

    /// The language of a tag exactly as [`Lang::code`] writes it; anything else is not
    /// offered.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|lang| lang.code() == code)
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::En => &EN,
            Lang::Ko => &KO,
        }
    }

    /// The sentence `id` in this language.
    pub fn t(self, id: &str) -> String {
        LOCALES.lookup(self.id(), id)
    }

    /// The sentence `id` with one argument, e.g. `t1("messages-left", "count", 3)`.
    pub fn t1<'a>(self, id: &str, name: &'static str, value: impl Into<FluentValue<'a>>) -> String {
        let args = HashMap::from([(Cow::Borrowed(name), value.into())]);
        LOCALES.lookup_with_args(self.id(), id, &args)
    }

    /// The visitor's language: the `lang` cookie when it names a language offered, else
    /// the best match of `Accept-Language`, else English.
    pub fn of(headers: &HeaderMap) -> Lang {
        picked(headers).unwrap_or_else(|| accepted(headers))
    }
}

impl From<&Lang> for Lang {
    fn from(lang: &Lang) -> Self {
        *lang
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::of(&parts.headers))
    }
}

/// The language in the `lang` cookie, if it is one offered.
fn picked(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == COOKIE)
        .and_then(|cookie| Lang::from_code(cookie.value()))
}

/// The best language offered for the browser's `Accept-Language`. The tags are ordered
/// by their `q` weights first (fluent-langneg's parser reads them in written order and
/// would keep `ko;q=0`, which means "not Korean").
fn accepted(headers: &HeaderMap) -> Lang {
    let Some(value) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Lang::En;
    };
    let mut weighted: Vec<(u16, LanguageIdentifier)> = value
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            // Weights have at most three decimals (RFC 9110 §12.4.2).
            let weight = (q.clamp(0.0, 1.0) * 1000.0).round() as u16;
            (weight > 0 && tag != "*")
                .then(|| tag.parse().ok().map(|id| (weight, id)))
                .flatten()
        })
        .collect();
    weighted.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
    let requested: Vec<LanguageIdentifier> = weighted.into_iter().map(|(_, id)| id).collect();
    let available = [EN.clone(), KO.clone()];
    negotiate_languages(
        &requested,
        &available,
        Some(&available[0]),
        NegotiationStrategy::Lookup,
    )
    .first()
    .and_then(|id| Lang::ALL.into_iter().find(|lang| lang.id() == *id))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeSet, fs, path::Path};

    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn the_browsers_languages_are_matched_by_weight_and_region() {
        let lang = |accept: &str| Lang::of(&headers(&[(header::ACCEPT_LANGUAGE, accept)]));
        assert_eq!(lang("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"), Lang::Ko);
        assert_eq!(lang("en-US,en;q=0.9,ko;q=0.8"), Lang::En);
        assert_eq!(lang("en;q=0.5, ko;q=0.8"), Lang::Ko, "weights, not order");
        assert_eq!(lang("ko;q=0, en;q=0.1"), Lang::En, "q=0 means not this one");
        assert_eq!(lang("fr-FR,de;q=0.9"), Lang::En, "not offered: English");
        assert_eq!(lang("fr, ko;q=0.2"), Lang::Ko);
        assert_eq!(lang("*"), Lang::En);
        assert_eq!(lang(";;, ,q=x"), Lang::En, "garbage is ignored");
        assert_eq!(Lang::of(&HeaderMap::new()), Lang::En);
    }

    #[test]
    fn a_picked_language_wins_over_the_browsers_and_an_unknown_one_is_ignored() {
        let of = |cookie: &str| {
            Lang::of(&headers(&[
                (header::ACCEPT_LANGUAGE, "ko-KR"),
                (header::COOKIE, cookie),
            ]))
        };
        assert_eq!(of("id=abc; lang=en"), Lang::En);
        assert_eq!(of("lang=ko"), Lang::Ko);
        assert_eq!(of("lang=fr"), Lang::Ko, "not offered: the browser decides");
        assert_eq!(of("lang=EN"), Lang::Ko, "only the exact codes");
    }

    #[test]
    fn texts_are_put_in_either_language() {
        let text = Text::new("status-404");
        assert_eq!(text.to_string(), "Not found");
        assert_eq!(text.in_lang(Lang::Ko), "찾을 수 없음");
        assert_eq!(Lang::Ko.t("nav-apps"), "앱");
        assert_eq!(Lang::En.t("nav-apps"), "Apps");
    }

    /// Every `.ftl` file of a language, parsed: `(file, message ids)`.
    fn messages(lang: &str) -> Vec<(String, BTreeSet<String>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(lang);
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "ftl"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let source = fs::read_to_string(&path).unwrap();
                let resource = fluent_templates::fluent_bundle::FluentResource::try_new(source)
                    .unwrap_or_else(|(_, errors)| panic!("{}: {errors:?}", path.display()));
                let ids = resource
                    .entries()
                    .filter_map(|entry| match entry {
                        fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                        _ => None,
                    })
                    .collect();
                (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    ids,
                )
            })
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_files_and_messages() {
        let en = messages("en");
        let ko = messages("ko");
        let names = |files: &[(String, BTreeSet<String>)]| -> Vec<String> {
            files.iter().map(|(name, _)| name.clone()).collect()
        };
        assert_eq!(names(&en), names(&ko), "the same .ftl files in en/ and ko/");
        for ((file, en_ids), (_, ko_ids)) in en.iter().zip(&ko) {
            let missing: Vec<_> = en_ids.difference(ko_ids).collect();
            let extra: Vec<_> = ko_ids.difference(en_ids).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{file}: missing in ko {missing:?}, only in ko {extra:?}"
            );
        }
    }

    /// The ids the code and templates ask for: in `.t(…)`, `.t1(…)` and `Text::new(…)`.
    fn ids_used() -> BTreeSet<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = BTreeSet::new();
        let mut stack = vec![root.join("src"), root.join("templates")];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Ok(source) = fs::read_to_string(&path) else {
                    continue;
                };
                for call in [".t(\"", ".t1(\"", "Text::new(\""] {
                    for (at, _) in source.match_indices(call) {
                        let rest = &source[at + call.len()..];
                        let id = &rest[..rest.find('"').unwrap()];
                        // Only ids as Fluent writes them: this skips other methods named `t`.
                        if !id.is_empty()
                            && id
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                        {
                            let file = path.strip_prefix(root).unwrap().display().to_string();
                            used.insert((file, id.to_string()));
                        }
                    }
                }
            }
        }
        used
    }

    #[test]
    fn every_id_the_code_asks_for_exists_in_both_languages() {
        let known = |lang: &str| -> BTreeSet<String> {
            messages(lang)
                .into_iter()
                .flat_map(|(_, ids)| ids)
                .collect()
        };
        let (en, ko) = (known("en"), known("ko"));
        let used = ids_used();
        assert!(used.len() > 10, "the scan finds the ids in use: {used:?}");
        let unknown: Vec<_> = used
            .iter()
            .filter(|(_, id)| !en.contains(id) || !ko.contains(id))
            .collect();
        assert!(unknown.is_empty(), "ids missing from locales/: {unknown:?}");
    }
}
