//! No request parses a template: the real binary compiles each app's template once, at
//! start, and its app pages and runs (text and structured, JSON, streamed and from the
//! form) leave the count of compiled templates in `/metrics` where start-up left it.
//! A process of its own, so that no other test's apps count in it.

use std::process::Stdio;

use serde_json::{Value, json};

use crate::{
    helpers::{
        http_client, read_events,
        spawned::{UNLIMITED, free_port, wait_until_up},
    },
    process::binary,
};

const METRICS_TOKEN: &str = "apps-templates-test";
const COUNTER: &str = "app_templates_compiled_total";

#[tokio::test]
async fn app_pages_and_runs_compile_no_template_after_start() {
    let apps_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("apps");
    let shipped = std::fs::read_dir(&apps_dir)
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "prompt"))
        })
        .count();
    assert!(
        shipped >= 2,
        "the shipped apps are in {}",
        apps_dir.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = KillOnDrop(
        binary()
            .envs(UNLIMITED)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/app.db", dir.path().display()),
            )
            .env("APPS_DIR", &apps_dir)
            .env("METRICS_TOKEN", METRICS_TOKEN)
            .env("DEMO_WORD_DELAY_MS", "0")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let browser = http_client();
    wait_until_up(&browser, &base).await;
    let compiled = async || -> f64 {
        let text = http_client()
            .get(format!("{base}/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(COUNTER)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {COUNTER} in /metrics:\n{text}"))
    };
    let at_start = compiled().await;
    assert_eq!(
        at_start, shipped as f64,
        "one template compiled per app file at start"
    );

    for path in [
        "/apps",
        "/apps/translate",
        "/apps/extract",
        "/apps/extract?sample",
    ] {
        let response = browser.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
    }
    let translate = json!({ "text": "안녕하세요", "direction": "ko-en", "tone": "polite" });
    let extract = json!({ "text": "Mina Park, mina.park@example.com", "kind": "contact" });
    for (name, input) in [("translate", &translate), ("extract", &extract)] {
        let url = format!("{base}/api/v1/apps/{name}/runs");
        let run: Value = browser
            .post(&url)
            .json(input)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(run["status"], "complete", "{name}: {run}");
        if name == "extract" {
            assert!(
                run["output"]["fields"].is_array(),
                "a structured output: {run}"
            );
        }
        let streamed = browser
            .post(&url)
            .header("accept", "text/event-stream")
            .json(input)
            .send()
            .await
            .unwrap();
        let events = read_events(streamed).await;
        let done = events
            .iter()
            .find(|e| e.event == "done")
            .expect("a done event");
        assert_eq!(done.json()["status"], "complete", "{name} streamed");
    }
    let form = browser
        .post(format!("{base}/apps/translate/runs"))
        .form(&[
            ("text", "Good morning"),
            ("direction", "en-ko"),
            ("tone", "casual"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 303, "the form's run redirects to its result");
    let result = form.headers()["location"].to_str().unwrap().to_string();
    let page = browser.get(format!("{base}{result}")).send().await.unwrap();
    assert_eq!(page.status(), 200, "GET {result}");

    assert_eq!(
        compiled().await,
        at_start,
        "a request compiled a template: only loading the apps may"
    );
}

/// The server, stopped however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
