//! Inputs the model proposes, self-instruct style: from a seed description and a few
//! example inputs it is asked for new ones, in rounds, until the batch has as many as
//! were asked for or `MAX_ROUNDS` have passed. A proposal is kept when it passes the
//! target's schema and is not a near-duplicate of an example or of an input already kept
//! (Sørensen–Dice over character bigrams ≥ [`NEAR_DUPLICATE`], which works for Korean
//! as for English, where a word-based or byte-counting filter would not).

use async_openai::types::chat::{
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequest, ResponseFormat, ResponseFormatJsonSchema,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Target;
use crate::{
    AppState,
    budget::{self, Spender},
    db::batches::{self, Batch},
    domain::EntryStatus,
    error::AppError,
    i18n::Text,
};

/// Similarity at or above which a proposal counts as a near-duplicate: the 0.7 that
/// self-instruct's ROUGE-L filter uses.
pub const NEAR_DUPLICATE: f64 = 0.7;

/// Rounds of proposals a batch may take, whatever comes back.
pub const MAX_ROUNDS: u32 = 10;

/// Inputs asked for in one round.
const PER_ROUND: usize = 20;

/// Inputs already kept that each round shows the model, so it does not repeat them.
const SHOWN_KEPT: usize = 10;

/// What a generated batch's inputs are proposed from, and how far it got (the batch's
/// `seed`, as JSON).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Seed {
    /// What the inputs should be about, in the admin's words.
    pub description: String,
    /// A few inputs to go by.
    pub examples: Vec<Value>,
    /// How many inputs to make.
    pub count: usize,
    /// Rounds asked so far.
    #[serde(default)]
    pub rounds: u32,
    /// Proposals dropped so far: near-duplicates, and ones that failed the schema.
    #[serde(default)]
    pub duplicates: usize,
    #[serde(default)]
    pub invalid: usize,
    /// Generation has ended (enough inputs, or out of rounds).
    #[serde(default)]
    pub finished: bool,
}

impl Seed {
    pub fn parse(batch: &Batch) -> Seed {
        batch
            .seed
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }
}

/// Text for comparing inputs: lowercase, runs of whitespace made one space, and
/// full-width ASCII (Ａ, １, ！) folded to ASCII — the part of NFKC that inputs typed on
/// Korean, Japanese and Chinese keyboards need.
pub fn normalize(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether two normalized texts are near-duplicates.
pub fn near_duplicates(a: &str, b: &str) -> bool {
    dice(a, b) >= NEAR_DUPLICATE
}

/// Sørensen–Dice similarity of two texts' character bigrams (whitespace left out), from
/// 0 (none shared) to 1 (the same). Counted in characters: `strsim::sorensen_dice`
/// 0.11 divides by the texts' length in bytes, so a Korean text (three bytes a
/// syllable) scores about a third of what it should and near-duplicates pass.
pub fn dice(a: &str, b: &str) -> f64 {
    let chars = |s: &str| -> Vec<char> { s.chars().filter(|c| !c.is_whitespace()).collect() };
    let (a, b) = (chars(a), chars(b));
    if a == b {
        return 1.0;
    }
    if a.len() < 2 || b.len() < 2 {
        return 0.0;
    }
    let mut counts: std::collections::HashMap<(char, char), usize> =
        std::collections::HashMap::new();
    for pair in a.windows(2) {
        *counts.entry((pair[0], pair[1])).or_default() += 1;
    }
    let mut shared = 0;
    for pair in b.windows(2) {
        if let Some(left) = counts.get_mut(&(pair[0], pair[1]))
            && *left > 0
        {
            *left -= 1;
            shared += 1;
        }
    }
    (2 * shared) as f64 / (a.len() + b.len() - 2) as f64
}

/// An input's text for comparing: its values in order (texts as they are, others as
/// JSON), one per line, normalized.
pub fn text_of(input: &Value) -> String {
    let text = match input {
        Value::Object(fields) => fields
            .values()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    };
    normalize(&text)
}

/// How a round went: kept, dropped as near-duplicates, dropped as invalid.
#[derive(Debug, Default)]
pub struct Round {
    pub kept: Vec<Value>,
    pub duplicates: usize,
    pub invalid: usize,
}

/// Sorts one round's proposals: each must pass `target` and be no near-duplicate of
/// `pool` (the examples and the inputs kept so far) nor of one kept before it.
pub fn sift(proposals: Vec<Value>, target: &Target<'_>, pool: &mut Vec<String>) -> Round {
    let mut round = Round::default();
    for proposal in proposals {
        if target.check(&proposal).is_err() {
            round.invalid += 1;
            continue;
        }
        let text = text_of(&proposal);
        if pool.iter().any(|seen| near_duplicates(seen, &text)) {
            round.duplicates += 1;
            continue;
        }
        pool.push(text);
        round.kept.push(proposal);
    }
    round
}

/// Proposes the batch's inputs, saving each as it passes, until enough are kept or the
/// rounds run out; stops early if the batch leaves `generating` (paused, cancelled).
/// A budget refusal comes back as the error, for the batch to pause on.
pub async fn generate(
    state: &AppState,
    batch: &Batch,
    target: &Target<'_>,
) -> Result<(), AppError> {
    let mut seed = Seed::parse(batch);
    let Some(creator) = batch.created_by else {
        return Err(AppError::Invalid(Text::new("batch-creator-gone")));
    };
    let spender = Spender::batch(creator, batch.id, None);
    let kept_inputs: Vec<Value> = batches::list_item_inputs(&state.db, batch.id)
        .await?
        .iter()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect();
    let mut kept = kept_inputs.len();
    let mut pool: Vec<String> = seed
        .examples
        .iter()
        .chain(&kept_inputs)
        .map(text_of)
        .collect();
    let mut shown: Vec<Value> = kept_inputs;
    while kept < seed.count && seed.rounds < MAX_ROUNDS {
        let still = batches::find_batch(&state.db, batch.id).await?;
        if still.is_none_or(|b| b.state != batches::BatchState::Generating) {
            return Ok(());
        }
        seed.rounds += 1;
        let wanted = (seed.count - kept).min(PER_ROUND);
        let recent = &shown[shown.len().saturating_sub(SHOWN_KEPT)..];
        let proposals = propose(state, &spender, target, &seed, recent, wanted).await?;
        let round = sift(proposals, target, &mut pool);
        seed.duplicates += round.duplicates;
        seed.invalid += round.invalid;
        metrics::counter!("batch_proposals_total", "outcome" => "duplicate")
            .increment(round.duplicates as u64);
        metrics::counter!("batch_proposals_total", "outcome" => "invalid")
            .increment(round.invalid as u64);
        for input in round.kept.into_iter().take(seed.count - kept) {
            let mut conn = state.db.acquire().await?;
            if batches::insert_item(&mut conn, batch.id, kept as i64 + 1, &input.to_string())
                .await?
            {
                kept += 1;
                metrics::counter!("batch_proposals_total", "outcome" => "kept").increment(1);
            }
            shown.push(input);
        }
        batches::update_batch_seed(&state.db, batch.id, &json!(seed).to_string()).await?;
    }
    seed.finished = true;
    batches::update_batch_seed(&state.db, batch.id, &json!(seed).to_string()).await?;
    Ok(())
}

/// One round: asks the model for `wanted` new inputs under a JSON schema of a list of
/// the target's inputs, charged to the batch's creator. The list is wrapped in an object
/// (`{"inputs": [...]}`): structured outputs want an object at the top.
async fn propose(
    state: &AppState,
    spender: &Spender,
    target: &Target<'_>,
    seed: &Seed,
    kept: &[Value],
    wanted: usize,
) -> Result<Vec<Value>, AppError> {
    let system = format!(
        "You write realistic, varied inputs for {}. Answer with JSON only: an object whose \
         `inputs` list holds exactly the number of inputs asked for. Each input must differ \
         from the examples and from every other input in topic, wording and length; never \
         copy or lightly reword one.",
        // The model's instructions are in English, whoever reads the batch.
        target.label()
    );
    let lines = |inputs: &[Value]| {
        inputs
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut user = format!(
        "What the inputs are about: {}\n\nExamples (one JSON object per line):\n{}\n",
        seed.description,
        lines(&seed.examples)
    );
    if !kept.is_empty() {
        user.push_str(&format!(
            "\nAlready written (do not repeat these either):\n{}\n",
            lines(kept)
        ));
    }
    // The round's number makes each round's request differ, as a sampled model's
    // answers would: a deterministic server (the demo model) answers it differently.
    user.push_str(&format!(
        "\nRound {}: write {wanted} new inputs.",
        seed.rounds
    ));
    let schema = json!({
        "type": "object",
        "properties": {
            "inputs": {
                "type": "array",
                "items": target.item_schema(),
                "minItems": wanted,
                "maxItems": wanted,
            }
        },
        "required": ["inputs"],
        "additionalProperties": false,
    });
    let model = state.llm.model().to_string();
    let max_output_tokens = state.llm.max_output_tokens();
    let prompt_tokens = budget::count_tokens(&system)
        + budget::count_tokens(&user)
        + 2 * budget::TOKENS_PER_MESSAGE;
    let estimate = budget::Estimate {
        model: &model,
        app: target.app_name(),
        prompt_tokens: prompt_tokens as i64,
        completion_tokens: i64::from(max_output_tokens),
    };
    let reservation = state.meter.reserve(spender, &estimate, None)?;
    state.meter.record(&reservation).await;
    let request = CreateChatCompletionRequest {
        model,
        messages: vec![
            ChatCompletionRequestSystemMessage::from(system.as_str()).into(),
            ChatCompletionRequestUserMessage::from(user.as_str()).into(),
        ],
        // Varied proposals are the point.
        temperature: Some(1.0),
        response_format: Some(ResponseFormat::JsonSchema {
            json_schema: ResponseFormatJsonSchema {
                name: "batch_inputs".into(),
                description: Some("New inputs for a dataset batch".into()),
                schema,
                // App input schemas often have optional fields, which strict mode
                // refuses; each proposal is checked against the schema anyway.
                strict: Some(false),
            },
        }),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let (text, usage, status) = collect(state, request, max_output_tokens).await;
    let used = usage.unwrap_or((prompt_tokens as i64, budget::estimate_tokens(&text) as i64));
    state
        .meter
        .settle(
            &reservation,
            used,
            status,
            started.elapsed().as_millis() as i64,
        )
        .await;
    if status != EntryStatus::Complete {
        return Err(AppError::Invalid(Text::new("batch-proposals-unfinished")));
    }
    let proposals = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("inputs").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    Ok(proposals)
}

/// The streamed answer's text, usage and how it ended.
async fn collect(
    state: &AppState,
    request: CreateChatCompletionRequest,
    max_output_tokens: u32,
) -> (String, Option<(i64, i64)>, EntryStatus) {
    let mut chunks = match state.llm.stream(request, max_output_tokens).await {
        Ok(chunks) => chunks,
        Err(error) => {
            tracing::warn!(error = %error, "the model refused to propose batch inputs");
            return (String::new(), None, EntryStatus::Failed);
        }
    };
    let (mut text, mut usage, mut finished) = (String::new(), None, false);
    loop {
        // A server that stops sending is a failure after the same wait as on every path.
        let next = tokio::time::timeout(state.config.upstream_timeout, chunks.next()).await;
        let chunk = match next {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(_))) => return (text, usage, EntryStatus::Failed),
            Err(_) => {
                tracing::warn!("the model's stream stalled while proposing batch inputs");
                return (text, usage, EntryStatus::Failed);
            }
        };
        if let Some(reported) = chunk.usage {
            usage = Some((
                i64::from(reported.prompt_tokens),
                i64::from(reported.completion_tokens),
            ));
        }
        for choice in chunk.choices {
            if let Some(delta) = choice.delta.content {
                text.push_str(&delta);
            }
            finished |= choice.finish_reason.is_some();
        }
    }
    let status = if finished {
        EntryStatus::Complete
    } else {
        EntryStatus::Interrupted
    };
    (text, usage, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_near_duplicates_are_caught_and_different_texts_are_not() {
        let a = normalize("서울에서 부산까지 기차로 가는 가장 빠른 방법은 무엇인가요?");
        let b = normalize("서울에서 부산까지  기차로 가는 제일 빠른 방법은 무엇인가요");
        let c = normalize("김치찌개를 맛있게 끓이는 비결을 알려 주세요.");
        assert!(near_duplicates(&a, &b), "{}", dice(&a, &b));
        assert!(!near_duplicates(&a, &c), "{}", dice(&a, &c));
    }

    #[test]
    fn similarity_counts_characters_not_bytes() {
        // The same score for the same edit, in Hangul as in Latin letters.
        let latin = dice("abcdef", "abcdxy");
        let hangul = dice("가나다라마바", "가나다라사아");
        assert!((latin - hangul).abs() < 1e-9, "{latin} vs {hangul}");
        // strsim's byte-counting version scores the Hangul pair a third as similar.
        assert!(strsim::sorensen_dice("가나다라마바", "가나다라사아") < hangul / 2.0);
        assert_eq!(dice("same", "same"), 1.0);
        assert_eq!(dice("a", "b"), 0.0);
    }

    #[test]
    fn english_near_duplicates_ignore_case_width_and_spacing() {
        let a = normalize("How do I reset my password?");
        let b = normalize("  HOW do I reset  my ｐａｓｓｗｏｒｄ ? ");
        assert!(near_duplicates(&a, &b));
        let c = normalize("What is the capital of France?");
        assert!(!near_duplicates(&a, &c));
    }

    #[test]
    fn sifting_drops_duplicates_of_the_pool_and_of_each_other_and_invalid_inputs() {
        let target = Target::Chat { max_chars: 200 };
        let mut pool = vec![text_of(&json!({"message": "서울의 맛집을 추천해 주세요"}))];
        let round = sift(
            vec![
                json!({"message": "서울의 맛집을 추천해 주세요!"}),
                json!({"message": "Explain photosynthesis simply"}),
                json!({"message": "explain photosynthesis simply."}),
                json!({"message": ""}),
                json!({"text": "wrong field"}),
                json!({"message": "부산 여행 일정을 짜 주세요"}),
            ],
            &target,
            &mut pool,
        );
        assert_eq!(
            round.kept,
            [
                json!({"message": "Explain photosynthesis simply"}),
                json!({"message": "부산 여행 일정을 짜 주세요"}),
            ]
        );
        assert_eq!((round.duplicates, round.invalid), (2, 2));
        assert_eq!(pool.len(), 3);
    }
}
