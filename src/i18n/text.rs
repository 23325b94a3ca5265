//! A sentence not yet put into words: a Fluent id and its arguments, worded in the
//! reader's language when a response is rendered, and stored by id (never as words) when
//! it must outlive the request, such as why an answer ended.

use std::{borrow::Cow, collections::BTreeMap, collections::HashMap, fmt};

use fluent_templates::{Loader, fluent_bundle::FluentValue};
use serde::{Deserialize, Serialize};

use super::{EN, LOCALES, Lang};

/// A sentence not yet put into words: the id of a Fluent message and its arguments.
/// `Display` writes it in English (logs, the `/v1` API); [`Text::in_lang`] in the
/// reader's language. Its JSON ([`Text::stored`]) is what the database keeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Text {
    id: Cow<'static, str>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    args: BTreeMap<Cow<'static, str>, Arg>,
}

/// An argument of a [`Text`]: Fluent formats numbers (and picks plurals) itself; a text
/// inside a text is worded in the same language, and a list of them is joined with
/// semicolons, as both languages write a list of problems.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Arg {
    Num(f64),
    Str(String),
    Text(Text),
    List(Vec<Text>),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Str(value.to_string())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Str(value)
    }
}

impl From<Text> for Arg {
    fn from(value: Text) -> Self {
        Arg::Text(value)
    }
}

impl From<Vec<Text>> for Arg {
    fn from(value: Vec<Text>) -> Self {
        Arg::List(value)
    }
}

macro_rules! number_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(value: $t) -> Self {
                Arg::Num(value as f64)
            }
        }
    )*};
}
number_args!(i32, i64, u16, u32, u64, usize, f64);

impl Text {
    pub fn new(id: &'static str) -> Self {
        Self {
            id: Cow::Borrowed(id),
            args: BTreeMap::new(),
        }
    }

    /// The same sentence with one more argument.
    #[must_use]
    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.args.insert(Cow::Borrowed(name), value.into());
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The sentence in `lang` (a `&Lang` too, as templates pass their fields).
    pub fn in_lang(&self, lang: impl Into<Lang>) -> String {
        let lang = lang.into();
        LOCALES.lookup_with_args(lang.id(), &self.id, &self.fluent_args(lang))
    }

    /// The arguments as Fluent takes them, texts inside worded in `lang`.
    fn fluent_args(&self, lang: Lang) -> HashMap<Cow<'static, str>, FluentValue<'_>> {
        self.args
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Arg::Str(s) => FluentValue::from(s.as_str()),
                    Arg::Num(n) => FluentValue::from(*n),
                    Arg::Text(text) => FluentValue::from(text.in_lang(lang)),
                    Arg::List(texts) => FluentValue::from(
                        texts
                            .iter()
                            .map(|text| text.in_lang(lang))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// The form the database keeps: JSON of the id and arguments, in no language.
    pub fn stored(&self) -> String {
        serde_json::to_string(self).expect("a text is plain JSON")
    }

    /// A text read back from the database. A value that is no stored text (a row written
    /// before texts were stored by id) is the English sentence of one of `earlier`, or
    /// else is shown as it was written.
    pub fn from_stored(stored: &str, earlier: &[Text]) -> Text {
        serde_json::from_str::<Text>(stored)
            .ok()
            // One this code can put into words: its id known, its arguments all there.
            .filter(|text| {
                let args = text.fluent_args(Lang::En);
                LOCALES.try_lookup_with_args(&EN, &text.id, &args).is_some()
            })
            .or_else(|| earlier.iter().find(|t| t.to_string() == stored).cloned())
            .unwrap_or_else(|| Text::new("as-written").arg("text", stored))
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.in_lang(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_inside_texts_are_worded_in_the_same_language() {
        let problems = vec![
            Text::new("field-problem")
                .arg("field", "tone")
                .arg("problem", Text::new("schema-required")),
            Text::new("field-problem")
                .arg("field", "notes")
                .arg("problem", Text::new("schema-required")),
        ];
        let text = Text::new("error-input-problems")
            .arg("count", problems.len())
            .arg("problems", problems);
        assert_eq!(
            text.to_string(),
            "The input has 2 problems: `tone` is required; `notes` is required."
        );
        let korean = text.in_lang(Lang::Ko);
        assert!(korean.contains("`tone`: 필수"), "{korean}");
        assert!(!korean.contains("required"), "{korean}");
    }

    #[test]
    fn a_stored_text_reads_back_whole_and_an_old_sentence_stays_readable() {
        let text = Text::new("answer-invalid-output").arg("problem", "`x` is required");
        let stored = text.stored();
        assert!(
            stored.starts_with(r#"{"id":"answer-invalid-output""#),
            "{stored}"
        );
        assert_eq!(Text::from_stored(&stored, &[]), text);

        let stopped = Text::new("answer-stopped");
        assert_eq!(
            Text::from_stored("Stopped.", std::slice::from_ref(&stopped)),
            stopped
        );
        let old = Text::from_stored("Something said long ago.", &[stopped]);
        assert_eq!(old.in_lang(Lang::Ko), "Something said long ago.");
        let unknown = Text::from_stored(r#"{"id":"no-such-id"}"#, &[]);
        assert_eq!(unknown.to_string(), r#"{"id":"no-such-id"}"#);
    }
}
