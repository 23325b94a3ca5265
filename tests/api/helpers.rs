//! `TestApp`: the real router served on a loopback port, with a temporary SQLite file and
//! the mock upstream as its model server; and the helpers tests share. The app's logs go
//! nowhere unless `TEST_LOG` is set (`TEST_LOG=1 cargo test ...`).

pub mod spawned;

use std::{collections::HashMap, io::IsTerminal, sync::LazyLock, time::Duration};

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use promptship::{
    AppState,
    config::{Config, Site},
};
use serde_json::Value;
use sqlx::SqlitePool;
use tokio::{sync::oneshot, task::JoinHandle};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::mock_upstream::MockUpstream;

/// Logging for the whole test binary, set up by the first `TestApp`: with `TEST_LOG` set,
/// each test's lines go to its stdout (which the test runner shows for a failing test),
/// filtered by `RUST_LOG` or the binary's default; otherwise they are formatted as the
/// binary formats them, then dropped. A test that reads the logs (`logs::LogCapture`) sets a
/// subscriber of its own for its thread, which wins over this one.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(promptship::telemetry::DEFAULT_FILTER));
    let lines = fmt::layer().with_ansi(std::io::stdout().is_terminal());
    let registry = tracing_subscriber::registry().with(filter);
    if std::env::var_os("TEST_LOG").is_some() {
        registry.with(lines.with_test_writer()).init();
    } else {
        registry.with(lines.with_writer(std::io::sink)).init();
    }
});

pub struct TestApp {
    /// `http://127.0.0.1:port`
    pub address: String,
    pub client: reqwest::Client,
    pub db: SqlitePool,
    pub mock: MockUpstream,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// The admin account of `TestApp::admin`.
pub const ADMIN_EMAIL: &str = "admin@example.com";
/// The admin account's password.
pub const ADMIN_PASSWORD: &str = "a long admin passphrase";

/// The password every test account uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// One server-sent event as a client saw it.
#[derive(Clone, Debug)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Starts the app with the per-address rate limits out of the way, for tests that
    /// sign up and log in several users from 127.0.0.1.
    pub async fn spawn_unthrottled(vars: &[(&str, &str)]) -> Self {
        let mut all = vec![
            ("MESSAGE_RATE_PER_MINUTE", "1000"),
            ("AUTH_RATE_PER_MINUTE", "1000"),
            ("SIGNUPS_PER_HOUR", "1000"),
            ("WRITE_RATE_PER_MINUTE", "100000"),
            ("GUESTS_PER_HOUR", "100000"),
        ];
        all.extend_from_slice(vars);
        Self::spawn_with(&all).await
    }

    /// Starts the app with extra environment variables (e.g. a short timeout).
    pub async fn spawn_with(vars: &[(&str, &str)]) -> Self {
        LazyLock::force(&TRACING);
        let dir = tempfile::tempdir().unwrap();
        let mock = MockUpstream::start().await;
        let mut env: HashMap<String, String> = HashMap::from([
            (
                "DATABASE_URL".into(),
                format!("sqlite://{}", dir.path().join("test.db").display()),
            ),
            ("OPENAI_BASE_URL".into(), mock.base_url.clone()),
            ("OPENAI_API_KEY".into(), "sk-test-secret-key".into()),
            ("UPSTREAM_TIMEOUT_SECS".into(), "1".into()),
        ]);
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_lookup(|name| env.get(name).cloned()).unwrap();
        let site = Site::load(config.site_path.as_deref()).unwrap();
        let state = AppState::build(config, site).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, signal) = oneshot::channel::<()>();
        let server = tokio::spawn(promptship::serve(state.clone(), listener, async {
            let _ = signal.await;
        }));
        Self {
            address,
            client: http_client(),
            db: state.db.clone(),
            mock,
            state,
            shutdown: Some(shutdown),
            server: Some(server),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form from `client` (another browser than the app's own).
    pub async fn post_form_as(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client.post(self.url(path)).form(form).send().await.unwrap()
    }

    /// The body of `GET path` from `client`.
    pub async fn text_as(&self, client: &reqwest::Client, path: &str) -> String {
        body_text(client.get(self.url(path))).await
    }

    /// The body of `GET path` from `client`, asked for in `lang` (`Accept-Language`).
    pub async fn text_in(&self, client: &reqwest::Client, path: &str, lang: &str) -> String {
        body_text(client.get(self.url(path)).header("accept-language", lang)).await
    }

    /// Posts a `/v1` chat completion with the API key `key`, from a client without
    /// cookies.
    pub async fn complete(&self, key: &str, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url("/v1/chat/completions"))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form as htmx does, which asks for the page's stream.
    pub async fn post_htmx(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("hx-request", "true")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Signs up a new account in a new browser and returns that browser, logged in.
    pub async fn sign_up(&self, email: &str) -> reqwest::Client {
        let client = http_client();
        self.sign_up_as(&client, email).await;
        client
    }

    /// Signs up a new account in `client` (a guest's browser, say), which is then
    /// logged in.
    pub async fn sign_up_as(&self, client: &reqwest::Client, email: &str) {
        let response = client
            .post(self.url("/signup"))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            303,
            "sign-up failed: {:?}",
            response.text().await
        );
    }

    /// An API key for a new account with this email (made the way the settings page
    /// makes one), for calling `/v1` with a bearer token.
    pub async fn api_key(&self, email: &str) -> String {
        self.sign_up(email).await;
        let user_id = self.user_id(email).await;
        let key = promptship::auth::api_key::generate();
        promptship::db::api_keys::insert_api_key(&self.db, user_id, "test", &key.prefix, &key.hash)
            .await
            .unwrap();
        key.key
    }

    /// The id of the account with this email.
    pub async fn user_id(&self, email: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM users WHERE email = ?")
            .bind(email)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Creates the admin account and returns a browser logged in with it.
    pub async fn admin(&self) -> reqwest::Client {
        promptship::auth::create_admin(
            &self.db,
            &self.state.hasher,
            ADMIN_EMAIL,
            ADMIN_PASSWORD.into(),
        )
        .await
        .unwrap();
        let client = http_client();
        let response = self.log_in(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(response.status(), 303, "the admin could not log in");
        client
    }

    /// Posts the login form from `client`.
    pub async fn log_in(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    /// Writes a settled ledger row for today, as if someone had spent these tokens.
    pub async fn record_usage(&self, user_id: Option<i64>, tokens: i64, cost_microusd: i64) {
        sqlx::query(
            "INSERT INTO usage (day, user_id, ip, model, prompt_tokens, completion_tokens,
                                cost_microusd, status, created_at)
             VALUES (?, ?, '192.0.2.1', 'gpt-4o-mini', ?, 0, ?, 'complete', 0)",
        )
        .bind(self.state.clock.today())
        .bind(user_id)
        .bind(tokens)
        .bind(cost_microusd)
        .execute(&self.db)
        .await
        .unwrap();
        self.reload_budgets().await;
    }

    /// Turns the kill switch on in the database, as an operator with SQL access could.
    pub async fn pause_in_database(&self) {
        sqlx::query("INSERT INTO settings (key, value) VALUES ('paused', '1')")
            .execute(&self.db)
            .await
            .unwrap();
        self.reload_budgets().await;
    }

    /// Budgets are checked in memory: after writing the ledger or settings directly, the
    /// app reads them again (as it does at start).
    pub async fn reload_budgets(&self) {
        self.state.meter.reload(&self.db).await.unwrap();
    }

    /// The first page of `client`'s conversations (`{"data": [...], "has_more": …}`).
    pub async fn list_conversations_as(&self, client: &reqwest::Client) -> Value {
        client
            .get(self.url("/api/v1/conversations"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Creates a conversation through the JSON API and returns its id.
    pub async fn create_conversation(&self) -> String {
        self.create_conversation_as(&self.client).await
    }

    pub async fn create_conversation_as(&self, client: &reqwest::Client) -> String {
        let response = client
            .post(self.url("/api/v1/conversations"))
            .json(&serde_json::json!({ "title": "Test" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Sends a message through the JSON API asking for a stream.
    pub async fn send_streaming(&self, conversation: &str, content: &str) -> reqwest::Response {
        self.send_streaming_as(&self.client, conversation, content)
            .await
    }

    pub async fn send_streaming_as(
        &self,
        client: &reqwest::Client,
        conversation: &str,
        content: &str,
    ) -> reqwest::Response {
        client
            .post(self.url(&format!("/api/v1/conversations/{conversation}/messages")))
            .header("accept", "text/event-stream")
            .json(&serde_json::json!({ "content": content }))
            .send()
            .await
            .unwrap()
    }

    /// Sends a message and reads the whole stream (bounded by a deadline).
    pub async fn chat(&self, conversation: &str, content: &str) -> Vec<SseEvent> {
        let response = self.send_streaming(conversation, content).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        read_events(response).await
    }

    /// The conversation's messages as the API returns them.
    pub async fn messages(&self, conversation: &str) -> Vec<Value> {
        let body: Value = self
            .get(&format!("/api/v1/conversations/{conversation}"))
            .await
            .json()
            .await
            .unwrap();
        body["messages"].as_array().unwrap().clone()
    }

    pub async fn message_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM messages")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Sends the shutdown signal and waits for the server to finish.
    pub async fn shut_down(&mut self) -> anyhow::Result<()> {
        self.shutdown.take().unwrap().send(()).unwrap();
        self.server.take().unwrap().await.unwrap()
    }
}

/// A client that shows redirects instead of following them.
pub fn http_client() -> reqwest::Client {
    // reqwest is built without a default TLS provider; the app installs ring, and so
    // must a test that builds a client first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// Sends `request` and reads its whole body as text.
async fn body_text(request: reqwest::RequestBuilder) -> String {
    request.send().await.unwrap().text().await.unwrap()
}

pub async fn read_events(response: reqwest::Response) -> Vec<SseEvent> {
    let mut stream = response.bytes_stream().eventsource();
    let mut events = Vec::new();
    let read = async {
        while let Some(event) = stream.next().await {
            let event = event.unwrap();
            events.push(SseEvent {
                event: event.event,
                data: event.data,
            });
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the stream did not end within 20 s");
    events
}

/// The text of all `delta` events of an API stream, joined.
pub fn streamed_text(events: &[SseEvent]) -> String {
    events
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| e.json()["content"].as_str().unwrap().to_string())
        .collect()
}

/// The answer of the `done` event of an API stream.
pub fn done_answer(events: &[SseEvent]) -> Value {
    let done = events.last().expect("no events");
    assert_eq!(
        done.event, "done",
        "the stream did not end with `done`: {events:?}"
    );
    done.json()["answer"].clone()
}

/// `error.message` of a JSON error body.
pub async fn error_message(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["message"].as_str().unwrap().to_string()
}

/// Micro-dollars as the admin page shows money: `$1.2345`.
pub fn dollars(microusd: i64) -> String {
    format!("${:.4}", microusd as f64 / 1_000_000.0)
}
