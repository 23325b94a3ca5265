//! The shapes fine-tuning tools read: an example (a conversation up to a question, then
//! its ideal answer) or a preference pair, as one JSON line of each format.

use serde_json::{Value, json};

use crate::domain::Role;

/// What the examples are written as (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OpenAI supervised fine-tuning: `{"messages": [...]}`, earlier answers `weight: 0`.
    OpenaiSft,
    /// OpenAI preference fine-tuning: `input`, `preferred_output`, `non_preferred_output`.
    OpenaiDpo,
    /// Hugging Face TRL's conversational language-modeling format.
    TrlSft,
    /// TRL's conversational preference format: `prompt`, `chosen`, `rejected`.
    TrlDpo,
    /// LLaMA-Factory's alpaca: `instruction`, `input`, `output`, `system`, `history`.
    Alpaca,
    /// LLaMA-Factory's sharegpt: `conversations` of `from`/`value`, and `system`.
    Sharegpt,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::OpenaiSft,
        Format::OpenaiDpo,
        Format::TrlSft,
        Format::TrlDpo,
        Format::Alpaca,
        Format::Sharegpt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::OpenaiSft => "openai-sft",
            Format::OpenaiDpo => "openai-dpo",
            Format::TrlSft => "trl-sft",
            Format::TrlDpo => "trl-dpo",
            Format::Alpaca => "alpaca",
            Format::Sharegpt => "sharegpt",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// Whether the format holds preference pairs rather than single answers.
    pub fn is_pairs(self) -> bool {
        matches!(self, Format::OpenaiDpo | Format::TrlDpo)
    }
}

/// One message of an example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    pub role: Role,
    pub content: String,
}

impl Turn {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// A supervised example: the conversation up to and including a question, then the
/// answer to learn.
#[derive(Clone, Debug)]
pub struct Example {
    pub prompt: Vec<Turn>,
    pub answer: String,
}

/// A preference pair: two answers to the same conversation, the better one first.
#[derive(Clone, Debug)]
pub struct Pair {
    pub prompt: Vec<Turn>,
    pub chosen: String,
    pub rejected: String,
}

/// Why an example cannot be written in a format.
pub const NOT_ALTERNATING: &str = "roles_not_alternating";

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn message(turn: &Turn) -> Value {
    json!({"role": role_name(turn.role), "content": turn.content})
}

fn answer(content: &str) -> Value {
    json!({"role": "assistant", "content": content})
}

/// The example as OpenAI's chat form (`{"messages": [...]}`), which the data checks read.
pub fn chat_form(prompt: &[Turn], reply: &str) -> Value {
    let mut messages: Vec<Value> = prompt.iter().map(message).collect();
    messages.push(answer(reply));
    json!({ "messages": messages })
}

/// A supervised example as one line of `format` (an SFT format).
pub fn sft_line(format: Format, example: &Example) -> Result<Value, &'static str> {
    Ok(match format {
        Format::OpenaiSft => {
            let mut messages: Vec<Value> = example
                .prompt
                .iter()
                .map(|turn| {
                    let mut value = message(turn);
                    // Earlier answers are context, not what the model should learn.
                    if turn.role == Role::Assistant {
                        value["weight"] = json!(0);
                    }
                    value
                })
                .collect();
            messages.push(answer(&example.answer));
            json!({ "messages": messages })
        }
        Format::TrlSft => chat_form(&example.prompt, &example.answer),
        Format::Alpaca => {
            let Exchanges {
                system,
                pairs,
                question,
            } = exchanges(&example.prompt)?;
            let history: Vec<Value> = pairs.iter().map(|(q, a)| json!([q, a])).collect();
            json!({
                "instruction": question,
                "input": "",
                "output": example.answer,
                "system": system,
                "history": history,
            })
        }
        Format::Sharegpt => {
            let Exchanges {
                system,
                pairs,
                question,
            } = exchanges(&example.prompt)?;
            let mut conversations = Vec::new();
            for (q, a) in &pairs {
                conversations.push(json!({"from": "human", "value": q}));
                conversations.push(json!({"from": "gpt", "value": a}));
            }
            conversations.push(json!({"from": "human", "value": question}));
            conversations.push(json!({"from": "gpt", "value": example.answer}));
            json!({ "conversations": conversations, "system": system })
        }
        Format::OpenaiDpo | Format::TrlDpo => unreachable!("a preference format takes pairs"),
    })
}

/// A preference pair as one line of `format` (a DPO format).
pub fn pair_line(format: Format, pair: &Pair) -> Value {
    let prompt: Vec<Value> = pair.prompt.iter().map(message).collect();
    match format {
        Format::OpenaiDpo => json!({
            "input": { "messages": prompt },
            "preferred_output": [answer(&pair.chosen)],
            "non_preferred_output": [answer(&pair.rejected)],
        }),
        Format::TrlDpo => json!({
            "prompt": prompt,
            "chosen": [answer(&pair.chosen)],
            "rejected": [answer(&pair.rejected)],
        }),
        _ => unreachable!("an SFT format takes examples"),
    }
}

/// A prompt as LLaMA-Factory reads it.
struct Exchanges<'a> {
    /// The system messages, joined.
    system: String,
    /// The earlier questions and their answers.
    pairs: Vec<(&'a str, &'a str)>,
    /// The last question.
    question: &'a str,
}

/// The prompt as LLaMA-Factory reads it. Its converters drop an example whose turns do
/// not alternate user, assistant, …, user, so such an example is refused here.
fn exchanges(prompt: &[Turn]) -> Result<Exchanges<'_>, &'static str> {
    let system: Vec<&str> = prompt
        .iter()
        .filter(|t| t.role == Role::System)
        .map(|t| t.content.as_str())
        .collect();
    let turns: Vec<&Turn> = prompt.iter().filter(|t| t.role != Role::System).collect();
    let alternates = turns.len() % 2 == 1
        && turns.iter().enumerate().all(|(i, t)| {
            t.role
                == if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                }
        });
    if !alternates {
        return Err(NOT_ALTERNATING);
    }
    let pairs = turns
        .chunks_exact(2)
        .map(|pair| (pair[0].content.as_str(), pair[1].content.as_str()))
        .collect();
    Ok(Exchanges {
        system: system.join("\n\n"),
        pairs,
        question: turns[turns.len() - 1].content.as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Example {
        Example {
            prompt: vec![
                Turn::new(Role::System, "Be brief."),
                Turn::new(Role::User, "Hi"),
                Turn::new(Role::Assistant, "Hello!"),
                Turn::new(Role::User, "2+2?"),
            ],
            answer: "4".into(),
        }
    }

    fn pair() -> Pair {
        Pair {
            prompt: vec![
                Turn::new(Role::System, "Be brief."),
                Turn::new(Role::User, "2+2?"),
            ],
            chosen: "4".into(),
            rejected: "5".into(),
        }
    }

    #[test]
    fn openai_sft_weights_earlier_answers_zero_and_the_last_answer_by_default() {
        assert_eq!(
            sft_line(Format::OpenaiSft, &example()).unwrap(),
            json!({"messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!", "weight": 0},
                {"role": "user", "content": "2+2?"},
                {"role": "assistant", "content": "4"},
            ]})
        );
    }

    #[test]
    fn trl_sft_is_the_plain_conversation() {
        assert_eq!(
            sft_line(Format::TrlSft, &example()).unwrap(),
            json!({"messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "2+2?"},
                {"role": "assistant", "content": "4"},
            ]})
        );
    }

    #[test]
    fn alpaca_puts_earlier_turns_in_history_and_the_last_question_in_instruction() {
        assert_eq!(
            sft_line(Format::Alpaca, &example()).unwrap(),
            json!({"instruction": "2+2?", "input": "", "output": "4", "system": "Be brief.",
                   "history": [["Hi", "Hello!"]]})
        );
    }

    #[test]
    fn sharegpt_alternates_human_and_gpt_with_the_system_apart() {
        assert_eq!(
            sft_line(Format::Sharegpt, &example()).unwrap(),
            json!({"conversations": [
                {"from": "human", "value": "Hi"},
                {"from": "gpt", "value": "Hello!"},
                {"from": "human", "value": "2+2?"},
                {"from": "gpt", "value": "4"},
            ], "system": "Be brief."})
        );
    }

    #[test]
    fn llama_factory_formats_refuse_turns_that_do_not_alternate() {
        let mut two_questions = example();
        two_questions
            .prompt
            .insert(3, Turn::new(Role::User, "and?"));
        for format in [Format::Alpaca, Format::Sharegpt] {
            assert_eq!(sft_line(format, &two_questions), Err(NOT_ALTERNATING));
        }
        // The conversational formats take it as it is.
        assert!(sft_line(Format::TrlSft, &two_questions).is_ok());
    }

    #[test]
    fn preference_pairs_take_each_tools_shape() {
        let prompt = json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "2+2?"},
        ]);
        assert_eq!(
            pair_line(Format::OpenaiDpo, &pair()),
            json!({"input": {"messages": prompt},
                   "preferred_output": [{"role": "assistant", "content": "4"}],
                   "non_preferred_output": [{"role": "assistant", "content": "5"}]})
        );
        assert_eq!(
            pair_line(Format::TrlDpo, &pair()),
            json!({"prompt": prompt,
                   "chosen": [{"role": "assistant", "content": "4"}],
                   "rejected": [{"role": "assistant", "content": "5"}]})
        );
    }

    #[test]
    fn formats_parse_by_their_names() {
        for format in Format::ALL {
            assert_eq!(Format::parse(format.as_str()), Some(format));
        }
        assert_eq!(Format::parse("jsonl"), None);
    }
}
