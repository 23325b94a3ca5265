//! What the benchmark needs from a running promptship before it can load it: an
//! account, an API key, the model name, and a conversation of 50 messages.

use std::sync::Arc;

use anyhow::{Context, bail, ensure};
use reqwest::{
    StatusCode, Url,
    cookie::{CookieStore, Jar},
    header::{AUTHORIZATION, HeaderValue},
};
use serde_json::{Value, json};

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "q7Vt-Lm2x-Rp9k-Wz4c";
/// Questions asked to fill the conversation; each gets one answer.
const QUESTIONS: usize = 25;

/// A signed-up user of one promptship instance.
pub struct Account {
    /// Keeps the session cookie; redirects are shown, not followed.
    pub browser: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
    pub key: String,
    pub model: String,
}

impl Account {
    /// Signs up, creates an API key and asks `/v1/models` for the model name.
    pub async fn sign_up(base: &str) -> anyhow::Result<Self> {
        let jar = Arc::new(Jar::default());
        let browser = reqwest::Client::builder()
            .no_proxy()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let response = browser
            .post(format!("{base}/signup"))
            .form(&[("email", EMAIL), ("password", PASSWORD)])
            .send()
            .await?;
        expect_status(response.status(), StatusCode::SEE_OTHER, "POST /signup")?;
        let response = browser
            .post(format!("{base}/settings/keys"))
            .form(&[("name", "bench")])
            .send()
            .await?;
        expect_status(
            response.status(),
            StatusCode::CREATED,
            "POST /settings/keys",
        )?;
        let key = find_key(&response.text().await?).context("no API key in the keys page")?;
        let model = first_model(&browser, base, &key).await?;
        Ok(Account {
            browser,
            jar,
            base: base.to_string(),
            key,
            model,
        })
    }

    pub fn bearer(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("Bearer {}", self.key)).expect("keys are ASCII")
    }

    /// The session cookie, to be sent by load workers that share no cookie store.
    pub fn cookie(&self) -> anyhow::Result<HeaderValue> {
        let url = Url::parse(&self.base)?;
        self.jar.cookies(&url).context("no session cookie")
    }

    /// Creates `count` empty conversations; returns the URL each takes messages at.
    pub async fn conversations(&self, count: usize) -> anyhow::Result<Vec<String>> {
        let api = format!("{}/api/v1/conversations", self.base);
        let mut urls = Vec::with_capacity(count);
        for _ in 0..count {
            let response = self
                .browser
                .post(&api)
                .json(&json!({ "title": "Turns" }))
                .send()
                .await?;
            expect_status(
                response.status(),
                StatusCode::CREATED,
                "POST /api/v1/conversations",
            )?;
            let conversation: Value = response.json().await?;
            let id = conversation["id"].as_str().context("no id")?;
            urls.push(format!("{api}/{id}/messages"));
        }
        Ok(urls)
    }

    /// A counter from `/metrics` (0 when it was never counted).
    pub async fn metric(&self, token: &str, name: &str) -> anyhow::Result<f64> {
        metric(&self.browser, &self.base, token, name).await
    }

    /// Creates a conversation of 50 messages (25 questions, 25 answers); returns its id.
    pub async fn fill_conversation(&self) -> anyhow::Result<String> {
        let api = format!("{}/api/v1/conversations", self.base);
        let response = self
            .browser
            .post(&api)
            .json(&json!({ "title": "Reverse proxies" }))
            .send()
            .await?;
        expect_status(
            response.status(),
            StatusCode::CREATED,
            "POST /api/v1/conversations",
        )?;
        let conversation: Value = response.json().await?;
        let id = conversation["id"]
            .as_str()
            .context("no id in the new conversation")?
            .to_string();
        for n in 1..=QUESTIONS {
            // Without `Accept: text/event-stream` the answer comes back as JSON when done.
            let content = format!("Question {n}: how does a reverse proxy stream events?");
            let response = self
                .browser
                .post(format!("{api}/{id}/messages"))
                .json(&json!({ "content": content }))
                .send()
                .await?;
            let status = response.status();
            let body = response.text().await?;
            ensure!(
                status == StatusCode::OK,
                "POST /api/v1/conversations/{{id}}/messages answered {status}: {body}"
            );
        }
        let shown: Value = self
            .browser
            .get(format!("{api}/{id}"))
            .send()
            .await?
            .json()
            .await?;
        let count = shown["messages"].as_array().map_or(0, Vec::len);
        ensure!(
            count == 2 * QUESTIONS,
            "the conversation has {count} messages, not {}",
            2 * QUESTIONS
        );
        Ok(id)
    }
}

/// A counter from the `/metrics` of the server at `base` (0 when it was never counted).
pub async fn metric(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
) -> anyhow::Result<f64> {
    let text = client
        .get(format!("{base}/metrics"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0))
}

fn expect_status(got: StatusCode, want: StatusCode, what: &str) -> anyhow::Result<()> {
    if got != want {
        bail!("{what} answered {got}, expected {want}");
    }
    Ok(())
}

/// `ps_<prefix>_<secret>` (see src/auth/api_key.rs), found in the keys page.
fn find_key(page: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_';
    page.match_indices("ps_").find_map(|(start, _)| {
        let key: String = page[start..].chars().take_while(|&c| allowed(c)).collect();
        // A key has both parts; "ps_" alone may appear elsewhere in the page.
        let parts = key.splitn(3, '_').filter(|p| !p.is_empty()).count();
        (parts == 3 && key.len() > 20).then_some(key)
    })
}

async fn first_model(client: &reqwest::Client, base: &str, key: &str) -> anyhow::Result<String> {
    let response = client
        .get(format!("{base}/v1/models"))
        .header(AUTHORIZATION, format!("Bearer {key}"))
        .send()
        .await?;
    expect_status(response.status(), StatusCode::OK, "GET /v1/models")?;
    let models: Value = response.json().await?;
    models["data"][0]["id"]
        .as_str()
        .map(str::to_string)
        .context("GET /v1/models listed no model")
}
