//! A rendered template split into chat messages at its role markers, as dotprompt's
//! `toMessages` does: the text before the first marker is the user's, whitespace-only
//! pieces are dropped, a marker with nothing before it changes the current message's
//! role, and a message's text is kept exactly as rendered (not trimmed).

use serde::Serialize;

use super::js;

/// What `{{role "x"}}` writes into the rendered text.
pub const ROLE_MARKER_PREFIX: &str = "<<<dotprompt:role:";
/// The start of every dotprompt marker. A template's own text or an input may not
/// contain it: it would forge a marker (for example a system message from a visitor).
pub const MARKER_START: &str = "<<<dotprompt:";
const HISTORY_MARKER_PREFIX: &str = "<<<dotprompt:history";

/// Who speaks in a message of a rendered prompt, in OpenAI's words (dotprompt's `model`
/// is `assistant`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptRole {
    System,
    User,
    Assistant,
}

impl PromptRole {
    /// The role a `{{role "..."}}` names (dotprompt's names).
    pub fn from_dotprompt(name: &str) -> Option<Self> {
        match name {
            "system" => Some(Self::System),
            "user" => Some(Self::User),
            "model" => Some(Self::Assistant),
            _ => None,
        }
    }
}

/// One message of a rendered prompt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PromptMessage {
    pub role: PromptRole,
    pub content: String,
}

/// Splits `rendered` into messages. The roles were checked when the template was loaded,
/// and inputs cannot hold markers, so every marker here names a known role.
pub fn to_messages(rendered: &str) -> Vec<PromptMessage> {
    let mut messages = vec![PromptMessage {
        role: PromptRole::User,
        content: String::new(),
    }];
    for piece in split_at_markers(rendered) {
        if js::trim(piece).is_empty() {
            continue;
        }
        let current = messages.last_mut().expect("never empty");
        if let Some(name) = piece.strip_prefix(ROLE_MARKER_PREFIX) {
            // Only `{{role}}` writes markers, with a role checked at load.
            let role = PromptRole::from_dotprompt(name).unwrap_or(PromptRole::User);
            if js::trim(&current.content).is_empty() {
                current.role = role;
            } else {
                messages.push(PromptMessage {
                    role,
                    content: String::new(),
                });
            }
        } else if piece.starts_with(HISTORY_MARKER_PREFIX) {
            // `{{history}}` is refused at load; without history, the reference starts a
            // model message here.
            messages.push(PromptMessage {
                role: PromptRole::Assistant,
                content: String::new(),
            });
        } else {
            current.content.push_str(piece);
        }
    }
    messages.retain(|m| !m.content.is_empty());
    messages
}

/// `rendered.split(/(<<<dotprompt:(?:role:[a-z]+|history))>>>/g)`: the text between
/// markers, and each marker without its closing `>>>`.
fn split_at_markers(rendered: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest_start = 0;
    let mut search = 0;
    while let Some(found) = rendered[search..].find(MARKER_START) {
        let start = search + found;
        let after = &rendered[start + MARKER_START.len()..];
        let name_len = if let Some(role) = after.strip_prefix("role:") {
            let letters = role.bytes().take_while(u8::is_ascii_lowercase).count();
            (letters > 0).then_some("role:".len() + letters)
        } else {
            after.starts_with("history").then_some("history".len())
        };
        let marker_end = name_len.map(|len| start + MARKER_START.len() + len);
        match marker_end.filter(|end| rendered[*end..].starts_with(">>>")) {
            Some(end) => {
                pieces.push(&rendered[rest_start..start]);
                pieces.push(&rendered[start..end]);
                rest_start = end + 3;
                search = rest_start;
            }
            None => search = start + 1,
        }
    }
    pieces.push(&rendered[rest_start..]);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles_and_texts(rendered: &str) -> Vec<(PromptRole, String)> {
        to_messages(rendered)
            .into_iter()
            .map(|m| (m.role, m.content))
            .collect()
    }

    fn expected(messages: &[(PromptRole, &str)]) -> Vec<(PromptRole, String)> {
        messages.iter().map(|(r, t)| (*r, t.to_string())).collect()
    }

    #[test]
    fn markers_split_messages_and_text_is_not_trimmed() {
        use PromptRole::*;
        // dotprompt 1.1.2 gives exactly these for the same rendered text.
        assert_eq!(
            roles_and_texts(
                "\n  <<<dotprompt:role:system>>>\n  Sys\n\n<<<dotprompt:role:user>>>  \n<<<dotprompt:role:model>>>hi<<<dotprompt:role:user>>>\n\n  Q: x"
            ),
            expected(&[
                (System, "\n  Sys\n\n"),
                (Assistant, "hi"),
                (User, "\n\n  Q: x")
            ])
        );
    }

    #[test]
    fn text_before_any_marker_is_the_users() {
        assert_eq!(
            roles_and_texts("Hello\n"),
            expected(&[(PromptRole::User, "Hello\n")])
        );
        assert_eq!(roles_and_texts("  \n "), []);
    }

    #[test]
    fn a_marker_after_text_starts_a_new_message_even_with_the_same_role() {
        assert_eq!(
            roles_and_texts("a<<<dotprompt:role:user>>>b"),
            expected(&[(PromptRole::User, "a"), (PromptRole::User, "b")])
        );
    }

    #[test]
    fn text_that_only_looks_like_a_marker_stays_text() {
        assert_eq!(
            split_at_markers("x <<<dotprompt:role:System>>> <<<dotprompt:role:>>> y"),
            ["x <<<dotprompt:role:System>>> <<<dotprompt:role:>>> y"]
        );
        assert_eq!(
            split_at_markers("<<<dotprompt:role:user>>>"),
            ["", "<<<dotprompt:role:user", ""]
        );
    }
}
