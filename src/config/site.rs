//! The site file (`promptship.toml`): what this service *is*.

use std::collections::HashMap;

use serde::Deserialize;

use super::{About, ConfigError};
use crate::{domain::DataPolicy, i18n::Lang};

/// The site file used when `PROMPTSHIP_SITE` is not set and `promptship.toml` is missing,
/// so the binary runs from any directory.
const DEFAULT_SITE: &str = include_str!("../../promptship.toml");

/// What this service *is*: read from the site file (`promptship.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Shown in the header and the page titles.
    pub name: String,
    /// One line under the name on the landing page.
    pub tagline: String,
    /// The tagline in Korean; read through [`Site::tagline`].
    #[serde(default)]
    pub tagline_ko: Option<String>,
    /// Markdown shown on the landing page above the first message box.
    pub landing: String,
    /// The landing text in Korean; read through [`Site::landing`].
    #[serde(default)]
    pub landing_ko: Option<String>,
    /// The system prompt sent first in every conversation.
    pub system_prompt: String,
    /// Example first messages offered on the landing page.
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// The suggestions in Korean; read through [`Site::suggestions`].
    #[serde(default)]
    pub suggestions_ko: Option<Vec<String>>,
    /// The model name sent to the provider (ignored by the demo model).
    pub model: String,
    /// The provider's model for image apps that name none (`output.format: image`).
    #[serde(default = "default_image_model")]
    pub image_model: String,
    /// The most tokens one answer may use; the server sends it on every call.
    pub max_output_tokens: u32,
    /// Model names offered on `/v1`, each mapped to the provider's model. Empty: the
    /// site's `model` under its own name.
    #[serde(default)]
    pub models: HashMap<String, String>,
    /// An app (the name of a file in the apps folder) to show as the home page instead of
    /// the chat, for a single-purpose service; the chat stays at `/chat`.
    #[serde(default)]
    pub home_app: Option<String>,
    /// Whose conversations may be exported as training data.
    #[serde(default)]
    pub data_policy: DataPolicy,
    /// Dollars per million tokens, by model name, for cost reports and the money budget.
    #[serde(default)]
    pub prices: HashMap<String, Price>,
    /// The about page: who built the service, their links, the stack (`[about]`).
    #[serde(default)]
    pub about: About,
}

fn default_image_model() -> String {
    "gpt-image-1".into()
}

/// A model's price in dollars per million tokens, and per picture for an image model.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    #[serde(default)]
    pub input: f64,
    #[serde(default)]
    pub output: f64,
    /// Dollars per picture: every call to a model with this price makes one.
    #[serde(default)]
    pub image: f64,
}

/// A text of the site file in `lang`: its `_ko` twin for Korean when the file gives one
/// (an empty one counts as none), else the plain key, the fallback for every language.
fn in_lang<'a, T: ?Sized>(
    lang: Lang,
    plain: &'a T,
    ko: Option<&'a T>,
    is_empty: impl Fn(&T) -> bool,
) -> &'a T {
    match (lang, ko) {
        (Lang::Ko, Some(ko)) if !is_empty(ko) => ko,
        _ => plain,
    }
}

impl Site {
    /// The tagline in `lang` (`tagline_ko` for Korean, else `tagline`).
    pub fn tagline(&self, lang: Lang) -> &str {
        in_lang(
            lang,
            &self.tagline,
            self.tagline_ko.as_deref(),
            str::is_empty,
        )
    }

    /// The landing text (Markdown) in `lang`.
    pub fn landing(&self, lang: Lang) -> &str {
        in_lang(
            lang,
            &self.landing,
            self.landing_ko.as_deref(),
            str::is_empty,
        )
    }

    /// The suggested first messages in `lang`.
    pub fn suggestions(&self, lang: Lang) -> &[String] {
        in_lang(
            lang,
            &self.suggestions,
            self.suggestions_ko.as_deref(),
            <[String]>::is_empty,
        )
    }
}

impl Site {
    /// What a call costs, in millionths of a dollar (0 for a model without a price).
    pub fn cost_microusd(&self, model: &str, prompt_tokens: i64, completion_tokens: i64) -> i64 {
        let price = self.prices.get(model).copied().unwrap_or_default();
        // An image model's call made a picture when it has output (a failed one has none).
        let pictures = if completion_tokens > 0 { 1.0 } else { 0.0 };
        // dollars per million tokens = micro-dollars per token
        (prompt_tokens as f64 * price.input
            + completion_tokens as f64 * price.output
            + pictures * price.image * 1_000_000.0)
            .round() as i64
    }
}

impl Site {
    /// Loads the site file named by the config, or the built-in default when none is set
    /// and `promptship.toml` does not exist in the working directory.
    pub fn load(path: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let (name, text) = match path {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => (path.display().to_string(), text),
                Err(e) => {
                    return Err(ConfigError(vec![format!(
                        "PROMPTSHIP_SITE={:?} cannot be read ({e}): point it at your site file",
                        path.display().to_string()
                    )]));
                }
            },
            None => match std::fs::read_to_string("promptship.toml") {
                Ok(text) => ("promptship.toml".to_string(), text),
                Err(_) => ("built-in promptship.toml".to_string(), DEFAULT_SITE.into()),
            },
        };
        Self::parse(&name, &text)
    }

    pub fn parse(name: &str, text: &str) -> Result<Self, ConfigError> {
        let site: Site = toml::from_str(text)
            .map_err(|e| ConfigError(vec![format!("{name}: {}", e.to_string().trim())]))?;
        let mut problems = Vec::new();
        if site.name.trim().is_empty() {
            problems.push(format!("{name}: `name` must not be empty"));
        }
        if site.model.trim().is_empty() {
            problems.push(format!("{name}: `model` must name the provider's model"));
        }
        if site.max_output_tokens == 0 {
            problems.push(format!("{name}: `max_output_tokens` must be above 0"));
        }
        problems.extend(site.about.problems(name));
        if problems.is_empty() {
            Ok(site)
        } else {
            Err(ConfigError(problems))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_site_file_is_valid() {
        let site = Site::parse("promptship.toml", DEFAULT_SITE).unwrap();
        assert!(!site.suggestions.is_empty());
        assert_eq!(
            site.suggestions(Lang::Ko).len(),
            site.suggestions.len(),
            "every suggestion has a Korean twin"
        );
    }

    #[test]
    fn a_text_comes_in_korean_when_the_file_gives_it_else_as_written() {
        let base = "name='x'\nlanding='Hi'\nsystem_prompt=''\nmodel='m'\nmax_output_tokens=5\n";
        let site = Site::parse(
            "site.toml",
            &format!(
                "{base}tagline='Fast'\ntagline_ko='빠름'\nsuggestions=['a']\nsuggestions_ko=['가']"
            ),
        )
        .unwrap();
        assert_eq!(site.tagline(Lang::En), "Fast");
        assert_eq!(site.tagline(Lang::Ko), "빠름");
        assert_eq!(site.suggestions(Lang::Ko), ["가"]);
        assert_eq!(site.landing(Lang::Ko), "Hi", "no landing_ko: the plain key");
    }

    #[test]
    fn a_site_file_with_a_typo_names_the_field() {
        let err = Site::parse(
            "site.toml",
            "name='x'\ntagline=''\nlanding=''\nsystem_prompt=''\nmodel='m'\nmax_output_tokens=5\nmodle='y'",
        )
        .unwrap_err();
        assert!(err.to_string().contains("modle"), "{err}");
    }

    #[test]
    fn an_about_link_that_is_not_a_web_url_stops_the_start_naming_its_key() {
        let text = format!(
            "{DEFAULT_SITE}\n[[about.links]]\nlabel = \"Blog\"\nurl = \"javascript:alert(1)\"\n"
        );
        let err = Site::parse("promptship.toml", &text).unwrap_err();
        assert!(err.to_string().contains("[about] links[0].url"), "{err}");
        let shipped = Site::parse("promptship.toml", DEFAULT_SITE).unwrap();
        assert!(!shipped.about.stack.is_empty() && shipped.about.bio_ko.is_some());
    }
}
