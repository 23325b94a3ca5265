//! The load generator: `c` workers, each on its own keep-alive connection, send requests
//! back to back through a warm-up and a measured window. It only scans bytes (no JSON),
//! so that it costs far less CPU than the servers it measures.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use reqwest::{
    Method, StatusCode,
    header::{HeaderMap, HeaderValue},
};

/// Longest any one request may take, so that every run ends.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);
/// What precedes the first token of an answer in an OpenAI chunk.
const CONTENT: &[u8] = br#""content":""#;
const DONE: &[u8] = b"data: [DONE]";
/// The last event of a turn, and the saved answer's status in it.
const TURN_DONE: &[u8] = b"event: done";
const DELTA: &[u8] = b"event: delta";
const COMPLETE: &[u8] = br#""status":"complete""#;
/// The finished answer the page's stream ends with: swapped in out of band, complete.
const PAGE_DONE: &[u8] = br#"data-status="complete" hx-swap-oob="true""#;

/// One kind of request, sent over and over.
pub struct Job {
    pub method: Method,
    /// One URL for every worker, or one per worker (a turn's conversation).
    pub urls: Vec<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub kind: Kind,
}

/// What a successful answer looks like.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A streamed chat completion: a first token, and `[DONE]` at the end.
    Chat,
    /// A streamed turn or app run of the JSON API: a first token, and a `done` event
    /// with the answer saved as complete (for a structured app: valid for its schema).
    Turn,
    /// The chat page's stream (htmx): a first `delta` event, and the finished answer's
    /// fragment, complete, at the end.
    PageTurn,
    /// A page: 200.
    Page,
}

impl Job {
    /// `POST /v1/chat/completions`, streamed, with usage.
    pub fn chat(base: &str, model: &str, bearer: HeaderValue) -> Self {
        let body = serde_json::json!({
            "model": model,
            "stream": true,
            "stream_options": { "include_usage": true },
            "messages": [
                { "role": "system", "content": "You are a helpful assistant." },
                { "role": "user", "content": "Explain in a few lines how a reverse proxy streams server-sent events." },
            ],
        });
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, bearer);
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Job {
            method: Method::POST,
            urls: vec![format!("{base}/v1/chat/completions")],
            headers,
            body: Bytes::from(body.to_string()),
            kind: Kind::Chat,
        }
    }

    /// `POST /api/v1/conversations/{id}/messages`, streamed, each worker in a
    /// conversation of its own (a conversation answers one message at a time).
    pub fn turn(urls: Vec<String>, cookie: HeaderValue) -> Self {
        let body = serde_json::json!({
            "content": "Explain in a few lines how a reverse proxy streams server-sent events.",
        });
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::COOKIE, cookie);
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        Job {
            method: Method::POST,
            urls,
            headers,
            body: Bytes::from(body.to_string()),
            kind: Kind::Turn,
        }
    }

    /// `POST /api/v1/apps/{name}/runs` with `input` as the body, streamed: every worker
    /// starts a new run (a conversation of its own) each time.
    pub fn app_run(url: String, cookie: HeaderValue, input: &serde_json::Value) -> Self {
        let mut job = Job::turn(vec![url], cookie);
        job.body = Bytes::from(input.to_string());
        job
    }

    /// `POST /conversations` as the chat page's composer sends it with htmx: a new
    /// conversation each time, its answer streamed as the page's server-sent events.
    pub fn page_turn(base: &str, cookie: HeaderValue) -> Self {
        let mut job = Job::turn(vec![format!("{base}/conversations")], cookie);
        job.headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        job.headers
            .insert("hx-request", HeaderValue::from_static("true"));
        job.body = Bytes::from_static(
            b"content=Explain+in+a+few+lines+how+a+reverse+proxy+streams+server-sent+events.",
        );
        job.kind = Kind::PageTurn;
        job
    }

    /// `GET` of a page with a session cookie.
    pub fn page(url: String, cookie: HeaderValue) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::COOKIE, cookie);
        Job {
            method: Method::GET,
            urls: vec![url],
            headers,
            body: Bytes::new(),
            kind: Kind::Page,
        }
    }
}

/// How long to warm up and how long to measure.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub warmup: Duration,
    pub measure: Duration,
}

/// What one run measured. Latencies are of the requests sent inside the window;
/// requests/s counts each successful request by the share of its time that fell inside
/// the window, which stays exact when every request takes about as long as a window
/// (paced answers: 1.2 s) and all workers finish in step. Errors are counted over the
/// whole run, warm-up included.
#[derive(Debug, Default)]
pub struct Stats {
    pub rps: f64,
    pub ttft: Percentiles,
    pub total: Percentiles,
    pub errors: BTreeMap<String, u64>,
}

impl Stats {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Percentiles {
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
}

impl Percentiles {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Percentiles {
            p50: nearest_rank(&samples, 50.0),
            p99: nearest_rank(&samples, 99.0),
        }
    }
}

fn nearest_rank(sorted: &[Duration], percent: f64) -> Option<Duration> {
    let rank = (percent / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.max(1) - 1).copied()
}

/// One successful request.
struct Sample {
    sent: Instant,
    ttft: Option<Duration>,
    total: Duration,
}

/// The part of `[sent, sent + total]` inside `[from, until]`, as a fraction of it.
fn share_inside(sample: &Sample, from: Instant, until: Instant) -> f64 {
    let finished = sample.sent + sample.total;
    let inside = finished
        .min(until)
        .saturating_duration_since(sample.sent.max(from));
    inside.as_secs_f64() / sample.total.as_secs_f64().max(1e-9)
}

#[derive(Default)]
struct Tally {
    samples: Vec<Sample>,
    /// Successful requests inside the window, counted by share.
    completed: f64,
    errors: BTreeMap<String, u64>,
}

/// Runs `concurrency` workers for the window and gathers what they saw.
pub async fn run(job: Job, concurrency: usize, window: Window) -> anyhow::Result<Stats> {
    let job = Arc::new(job);
    // Clients first, so that building them does not eat into the warm-up.
    let clients = (0..concurrency)
        .map(|_| connection())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let start = Instant::now();
    let measured_from = start + window.warmup;
    let measured_until = measured_from + window.measure;
    let workers: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, client)| {
            let job = job.clone();
            // Starts spread over the warm-up: otherwise paced answers, which all take
            // the same 1.2 s, keep every worker in step and arrive in waves of `c`.
            let first = start + window.warmup.mul_f64(i as f64 / concurrency as f64);
            tokio::spawn(async move {
                tokio::time::sleep_until(first.into()).await;
                let url = &job.urls[i % job.urls.len()];
                worker(client, &job, url, measured_from, measured_until).await
            })
        })
        .collect();
    let mut samples = Vec::new();
    let mut completed = 0.0;
    let mut errors = BTreeMap::new();
    for worker in workers {
        let tally = worker.await?;
        samples.extend(tally.samples);
        completed += tally.completed;
        for (kind, count) in tally.errors {
            *errors.entry(kind).or_default() += count;
        }
    }
    Ok(Stats {
        rps: completed / window.measure.as_secs_f64(),
        ttft: Percentiles::of(samples.iter().filter_map(|s| s.ttft).collect()),
        total: Percentiles::of(samples.iter().map(|s| s.total).collect()),
        errors,
    })
}

/// A client of its own per worker: one keep-alive connection, never shared.
fn connection() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .timeout(REQUEST_LIMIT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// Sends requests back to back until `until`, then lets the last one finish.
async fn worker(
    client: reqwest::Client,
    job: &Job,
    url: &str,
    from: Instant,
    until: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut body = Vec::with_capacity(16 * 1024);
    while Instant::now() < until {
        match send(&client, job, url, &mut body).await {
            Ok(sample) => {
                tally.completed += share_inside(&sample, from, until);
                if sample.sent >= from {
                    tally.samples.push(sample);
                }
            }
            Err(kind) => *tally.errors.entry(kind).or_default() += 1,
        }
    }
    tally
}

/// One request, read to its end; an error is named by its kind.
async fn send(
    client: &reqwest::Client,
    job: &Job,
    url: &str,
    body: &mut Vec<u8>,
) -> Result<Sample, String> {
    body.clear();
    let sent = Instant::now();
    let streamed = job.kind != Kind::Page;
    let mut response = client
        .request(job.method.clone(), url)
        .headers(job.headers.clone())
        .body(job.body.clone())
        .send()
        .await
        .map_err(transport)?;
    let status = response.status();
    let mut ttft = None;
    let mut scanned = 0;
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        body.extend_from_slice(&chunk);
        if streamed && ttft.is_none() {
            // A turn's first event holds the question's text: its tokens come as `delta`
            // events.
            let arrived = match job.kind {
                Kind::Turn | Kind::PageTurn => find(&body[scanned..], DELTA).is_some(),
                _ => first_token(body, scanned),
            };
            if arrived {
                ttft = Some(sent.elapsed());
            }
            // A marker may straddle two chunks: look again from just before the end.
            scanned = body.len().saturating_sub(DELTA.len().max(CONTENT.len()));
        }
    }
    let total = sent.elapsed();
    if status != StatusCode::OK {
        return Err(format!("status {}", status.as_u16()));
    }
    if job.kind == Kind::Chat && !body.trim_ascii_end().ends_with(DONE) {
        return Err("missing [DONE]".into());
    }
    if job.kind == Kind::Turn {
        let done = find(body, TURN_DONE).ok_or("missing done")?;
        if find(&body[done..], COMPLETE).is_none() {
            return Err("answer not complete".into());
        }
    }
    if job.kind == Kind::PageTurn && find(body, PAGE_DONE).is_none() {
        return Err("answer not complete".into());
    }
    if streamed && ttft.is_none() {
        return Err("no content".into());
    }
    Ok(Sample { sent, ttft, total })
}

/// Whether `body[from..]` holds `"content":"` followed by a character other than `"`.
fn first_token(body: &[u8], from: usize) -> bool {
    let mut at = from;
    while let Some(found) = find(&body[at..], CONTENT) {
        let next = at + found + CONTENT.len();
        match body.get(next) {
            Some(b'"') => at = next,
            Some(_) => return true,
            None => return false,
        }
    }
    false
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn transport(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else {
        "request"
    };
    format!("transport ({kind})")
}
