use super::*;

fn message(id: i64, role: Role, content: &str, status: MessageStatus) -> Message {
    Message {
        id,
        conversation_id: "c".into(),
        role,
        content: content.into(),
        status,
        error: None,
        model: (role == Role::Assistant).then(|| "gpt-4o-mini".into()),
        prompt_tokens: None,
        completion_tokens: None,
        first_token_ms: None,
        duration_ms: None,
        created_at: id,
        updated_at: id,
        image: None,
        reply_to: None,
        preferred: false,
    }
}

fn answer(id: i64, question: i64, content: &str, status: MessageStatus) -> Message {
    Message {
        reply_to: Some(question),
        ..message(id, Role::Assistant, content, status)
    }
}

fn contents(snapshot: &Snapshot) -> Vec<(SharedRole, &str)> {
    snapshot
        .messages
        .iter()
        .map(|m| (m.role, m.content.as_str()))
        .collect()
}

#[test]
fn tokens_are_22_url_safe_characters_and_never_repeat() {
    let tokens: std::collections::HashSet<String> = (0..1000).map(|_| new_token()).collect();
    assert_eq!(tokens.len(), 1000);
    for token in &tokens {
        assert_eq!(token.len(), 22, "{token}");
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
    }
    // No bit is fixed (a v4 UUID's version and variant bits would be): every bit of the
    // 16 bytes is seen both set and clear.
    let decoded: Vec<Vec<u8>> = tokens
        .iter()
        .map(|t| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .unwrap()
        })
        .collect();
    for byte in 0..16 {
        let ones = decoded.iter().fold(0u8, |acc, d| acc | d[byte]);
        let zeros = decoded.iter().fold(0u8, |acc, d| acc | !d[byte]);
        assert_eq!((ones, zeros), (0xff, 0xff), "byte {byte}");
    }
}

#[test]
fn a_snapshot_takes_finished_answers_with_their_questions_only() {
    let messages = [
        message(1, Role::User, "First question", MessageStatus::Complete),
        answer(2, 1, "**First** answer", MessageStatus::Complete),
        message(3, Role::User, "Failed question", MessageStatus::Complete),
        answer(4, 3, "", MessageStatus::Failed),
        message(5, Role::User, "Stopped question", MessageStatus::Complete),
        answer(6, 5, "Half an ans", MessageStatus::Interrupted),
        message(7, Role::User, "Streaming question", MessageStatus::Complete),
        answer(8, 7, "Being writ", MessageStatus::Streaming),
    ];
    let snapshot = Snapshot::of(&messages, None);
    assert_eq!(
        contents(&snapshot),
        [
            (SharedRole::User, "First question"),
            (SharedRole::Assistant, "**First** answer")
        ]
    );
    assert_eq!(snapshot.excerpt, "First answer");
    assert!(snapshot.run.is_none());
}

#[test]
fn a_snapshot_follows_the_chosen_answer_of_a_regenerated_question() {
    let mut preferred = answer(3, 1, "Preferred", MessageStatus::Complete);
    preferred.preferred = true;
    let messages = [
        message(1, Role::User, "Q", MessageStatus::Complete),
        answer(2, 1, "Older", MessageStatus::Complete),
        preferred,
        answer(4, 1, "Newest", MessageStatus::Complete),
    ];
    let snapshot = Snapshot::of(&messages, None);
    assert_eq!(
        contents(&snapshot),
        [
            (SharedRole::User, "Q"),
            (SharedRole::Assistant, "Preferred")
        ]
    );
}

#[test]
fn a_runs_prompt_and_instructions_never_reach_its_snapshot() {
    let mut example = answer(3, 2, "An example answer", MessageStatus::Complete);
    example.model = None;
    let mut result = answer(
        5,
        4,
        r#"{"summary": "Short", "points": ["a", 2]}"#,
        MessageStatus::Complete,
    );
    result.model = Some("gpt-4o-mini".into());
    let messages = [
        message(
            1,
            Role::System,
            "SECRET INSTRUCTIONS",
            MessageStatus::Complete,
        ),
        message(
            2,
            Role::User,
            "An example question",
            MessageStatus::Complete,
        ),
        example,
        message(
            4,
            Role::User,
            "Summarize: RENDERED TEMPLATE",
            MessageStatus::Complete,
        ),
        result,
        message(6, Role::User, "A follow-up", MessageStatus::Complete),
        answer(7, 6, "Its answer", MessageStatus::Complete),
    ];
    let run = Run {
        title: "Summarize".into(),
        title_ko: None,
        icon: "📝".into(),
        input: vec![Field {
            label: "Text".into(),
            value: "Some text".into(),
        }],
    };
    let snapshot = Snapshot::of(&messages, Some(run));
    let json = serde_json::to_string(&snapshot).unwrap();
    for secret in ["SECRET", "RENDERED", "example"] {
        assert!(!json.contains(secret), "{secret} in {json}");
    }
    assert_eq!(snapshot.messages.len(), 3);
    assert_eq!(snapshot.messages[0].format, Format::Json);
    assert_eq!(snapshot.excerpt, "Short · a · 2");
    let chat = snapshot.as_chat();
    assert_eq!(chat[0].0, Role::User);
    assert_eq!(chat[0].1, "📝 Summarize\n\nText: Some text");
    assert_eq!(chat[1].0, Role::Assistant);
    assert_eq!(chat.len(), 4);
}

#[test]
fn an_excerpt_counts_characters_not_bytes() {
    let korean = "가".repeat(300);
    let cut = excerpt(&korean);
    assert_eq!(cut.chars().count(), EXCERPT_CHARS);
    assert!(cut.ends_with('…'));
    let fits = "나".repeat(EXCERPT_CHARS);
    assert_eq!(
        excerpt(&fits),
        fits,
        "200 Korean characters (600 bytes) fit"
    );
    assert_eq!(
        markdown_text("# Title\n\nSome *marked* `code`\n- a\n- b"),
        "Title Some marked code a b"
    );
}
