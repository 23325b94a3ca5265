//! Token counts for budgets and history trimming, without a tokenizer in memory.
//!
//! An exact o200k count needs tiktoken's tables: about 47 MiB of RAM and 180 ms to load,
//! three times this service's whole idle footprint. Budgets only need a count that does
//! not fall short (a reservation is an upper bound, settled with the provider's own usage
//! when the call ends), so this module estimates from the shapes o200k's pre-tokenizer
//! splits text into: words, digit groups of three, punctuation runs, whitespace runs and
//! CJK characters. The `tiktoken` feature swaps in the exact count.
//! `estimates_never_fall_short_of_tiktoken` checks the estimate against tiktoken.

/// The number of o200k tokens in `text`: estimated from above, or exact with the
/// `tiktoken` feature.
pub fn count_tokens(text: &str) -> usize {
    #[cfg(feature = "tiktoken")]
    {
        tiktoken_rs::o200k_base_singleton().count_ordinary(text)
    }
    #[cfg(not(feature = "tiktoken"))]
    {
        estimate_tokens(text)
    }
}

/// Loads the tokenizer's tables (about 180 ms) before the first request needs them.
#[cfg(feature = "tiktoken")]
pub fn warm_up() {
    count_tokens("warm up");
}

#[derive(Clone, Copy, PartialEq)]
enum Class {
    Letter,
    Digit,
    Space,
    Punct,
    /// One token (or more) for each character: CJK, emoji and other symbols.
    Wide,
}

fn class(c: char) -> Class {
    if c.is_ascii_alphabetic() {
        Class::Letter
    } else if c.is_ascii_digit() {
        Class::Digit
    } else if c.is_whitespace() {
        Class::Space
    } else if c.is_ascii() {
        Class::Punct
    } else if c.is_alphabetic() && u32::from(c) < 0x2E80 {
        // Latin, Greek, Cyrillic… letters with their accents: part of a word.
        Class::Letter
    } else {
        Class::Wide
    }
}

/// Estimates o200k's token count of `text`, from above for the kinds of text a chat
/// carries (prose in Latin scripts, code, JSON, numbers, CJK, emoji).
pub fn estimate_tokens(text: &str) -> usize {
    let mut tokens = 0;
    // A single space joins a following word or punctuation, not digits or CJK.
    let mut lone_space = false;
    let mut chars = text.chars().peekable();
    while let Some(first) = chars.next() {
        let kind = class(first);
        let mut len: usize = 1;
        let mut bytes = first.len_utf8();
        while let Some(&next) = chars.peek() {
            if class(next) != kind || kind == Class::Wide {
                break;
            }
            len += 1;
            bytes += next.len_utf8();
            chars.next();
        }
        if lone_space && matches!(kind, Class::Digit | Class::Wide) {
            tokens += 1;
        }
        lone_space = kind == Class::Space && len == 1 && first == ' ';
        tokens += match kind {
            // Common words are one token; long or rare ones split into pieces of about
            // four letters. Accented letters take two bytes and split more often.
            Class::Letter => 1 + (bytes.saturating_sub(1)) / 5,
            // o200k groups digits by three.
            Class::Digit => len.div_ceil(3),
            // Longer runs (indentation, blank lines) are a token or two of their own.
            Class::Space if lone_space => 0,
            Class::Space => 1 + len / 16,
            // Punctuation merges in pairs and threes (`://`, `();`, `"},`).
            Class::Punct => len.div_ceil(2),
            Class::Wide => bytes.div_ceil(3),
        };
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text of every kind a chat carries; each must be estimated at or above tiktoken's
    /// count, and not far above it (a budget that over-reserves turns people away early).
    const SAMPLES: &[(&str, &str)] = &[
        (
            "prose",
            "A reverse proxy streams server-sent events by flushing each chunk to the client as soon as it arrives from the upstream, instead of buffering the whole response. Nginx needs proxy_buffering off for that; Caddy flushes event streams by itself.",
        ),
        (
            "markdown",
            "## Steps\n\n1. Install the package.\n2. Run **`cargo run`** and open http://127.0.0.1:3000.\n3. Ask a question.\n\n> Answers stream in *as the model writes them*.\n\n- one\n- two\n",
        ),
        (
            "rust",
            "fn main() {\n    let listener = TcpListener::bind(\"127.0.0.1:3000\").await?;\n    for (i, line) in text.lines().enumerate() {\n        println!(\"{i}: {line}\");\n    }\n}\n",
        ),
        (
            "json",
            r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hello there"}],"max_tokens":512,"temperature":0.7}"#,
        ),
        (
            "numbers",
            "3.14159 2718281828 1,234,567.89 0x7fff_ffff 2026-11-28T09:34:53Z",
        ),
        (
            "german",
            "Die Größe der Datenbank wächst täglich; überprüfen Sie die Sicherungen regelmäßig und löschen Sie alte Einträge.",
        ),
        (
            "french",
            "L'élève a répondu à la première question très rapidement, sans hésiter.",
        ),
        (
            "russian",
            "Привет! Как дела? Сервер отвечает быстро и сохраняет каждый разговор.",
        ),
        (
            "chinese",
            "你好，世界！这个服务会把每一次对话都保存下来，方便以后继续。",
        ),
        (
            "japanese",
            "こんにちは。今日はとても良い天気ですね。サーバーは東京にあります。",
        ),
        ("emoji", "Great job 🎉🎉 — ship it 🚀 and rest 😴. ✅ done"),
        (
            "url",
            "https://example.com/api/v1/conversations/3f2a9c1e?include=messages&limit=50#top",
        ),
        ("whitespace", "a\n\n\n\nb\t\t\tc          d\r\n\r\ne"),
        ("one word", "internationalization"),
        ("empty", ""),
    ];

    #[test]
    fn estimates_never_fall_short_of_tiktoken() {
        let bpe = tiktoken_rs::o200k_base_singleton();
        let mut report = String::new();
        let (mut total_exact, mut total_estimate) = (0, 0);
        for (name, text) in SAMPLES {
            let exact = bpe.count_ordinary(text);
            let estimate = estimate_tokens(text);
            total_exact += exact;
            total_estimate += estimate;
            report.push_str(&format!("{name}: exact {exact}, estimate {estimate}\n"));
            assert!(estimate >= exact, "{name} falls short:\n{report}");
            assert!(estimate <= exact * 2 + 2, "{name} is far over:\n{report}");
        }
        println!("{report}in all: exact {total_exact}, estimate {total_estimate}");
        assert!(
            total_estimate * 10 <= total_exact * 14,
            "over 40% above in all:\n{report}"
        );
    }

    #[test]
    fn long_chat_messages_are_estimated_from_above_too() {
        let bpe = tiktoken_rs::o200k_base_singleton();
        let text: String = SAMPLES
            .iter()
            .map(|(_, t)| *t)
            .collect::<Vec<_>>()
            .join("\n\n")
            .repeat(20);
        assert!(estimate_tokens(&text) >= bpe.count_ordinary(&text));
    }
}
