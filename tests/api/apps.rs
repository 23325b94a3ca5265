//! Prompt apps through the binary: a broken app file stops the start, and the `apps`
//! commands (`check`, `render` — the contract conformance scripts read — and `new`).

use std::{
    path::Path,
    process::{Output, Stdio},
    time::{Duration, Instant},
};

use crate::{helpers::spawned::free_port, process::binary};

/// Runs `promptship ARGS` with `APPS_DIR=dir`.
fn apps(dir: &Path, args: &[&str]) -> Output {
    binary().env("APPS_DIR", dir).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_broken_app_file_stops_the_start_naming_the_file_line_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let apps_dir = dir.path().join("apps");
    std::fs::create_dir(&apps_dir).unwrap();
    std::fs::write(
        apps_dir.join("broken.prompt"),
        "---\ninput:\n  schema:\n    text: string\n---\nSummarize:\n{{txet}}\n",
    )
    .unwrap();
    let mut child = binary()
        .env("APPS_DIR", &apps_dir)
        .env("BIND_ADDR", format!("127.0.0.1:{}", free_port()))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/app.db", dir.path().display()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("the server started with a broken app file");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = text(&child.wait_with_output().unwrap().stderr);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken.prompt:7:"), "{stderr}");
    assert!(stderr.contains("`txet`"), "{stderr}");
    assert!(stderr.contains("fix: declare the field"), "{stderr}");
    assert!(
        !dir.path().join("app.db").exists(),
        "apps are checked before the database is touched"
    );
}

#[test]
fn apps_new_writes_a_starter_that_checks_and_renders() {
    let dir = tempfile::tempdir().unwrap();
    let apps_dir = dir.path().join("apps");
    let new = apps(&apps_dir, &["apps", "new", "study-notes"]);
    assert!(new.status.success(), "{}", text(&new.stderr));
    assert!(apps_dir.join("study-notes.prompt").is_file());
    let again = apps(&apps_dir, &["apps", "new", "study-notes"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("already exists"));

    let check = apps(&apps_dir, &["apps", "check"]);
    assert!(check.status.success(), "{}", text(&check.stdout));
    assert_eq!(text(&check.stdout), "study-notes  ok\n");

    // Without --input, the sample. The expected line is what Google's dotprompt renders
    // for the same file (roles mapped: model → assistant).
    let render = apps(&apps_dir, &["apps", "render", "study-notes"]);
    assert!(render.status.success(), "{}", text(&render.stderr));
    assert_eq!(
        text(&render.stdout),
        concat!(
            r#"{"messages":[{"role":"system","content":"\nYou write short, clear texts in a friendly tone.\n\n"},"#,
            r#"{"role":"user","content":"\nWrite three sentences about why the sky is blue."}]}"#,
            "\n"
        )
    );
    let render = apps(
        &apps_dir,
        &[
            "apps",
            "render",
            "study-notes",
            "--input",
            r#"{"topic": "tides", "tone": "playful"}"#,
        ],
    );
    let line = text(&render.stdout);
    assert_eq!(line.lines().count(), 1, "{line}");
    let rendered: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        rendered["messages"][1]["content"],
        "\nWrite three sentences about tides."
    );
    assert!(
        rendered["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("playful")
    );
}

#[test]
fn apps_render_fails_on_an_unknown_app_a_missing_sample_or_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plain.prompt"),
        "---\ninput:\n  schema: {q: string}\n---\n{{q}}",
    )
    .unwrap();
    for (args, expected) in [
        (
            vec!["apps", "render", "nope"],
            "no app is named `nope` (apps: plain)",
        ),
        (vec!["apps", "render", "plain"], "has no promptship.sample"),
        (
            vec!["apps", "render", "plain", "--input", "[1]"],
            "must be a JSON object",
        ),
    ] {
        let output = apps(dir.path(), &args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(
            text(&output.stderr).contains(expected),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
    let output = apps(
        dir.path(),
        &["apps", "render", "plain", "--input", r#"{"q":"hi"}"#],
    );
    assert_eq!(
        text(&output.stdout),
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n"
    );
}

#[test]
fn apps_check_prints_each_problem_and_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.prompt"), "Hello.").unwrap();
    std::fs::write(
        dir.path().join("typo.prompt"),
        "---\npromptship.titel: Typo\n---\nHello.",
    )
    .unwrap();
    let output = apps(dir.path(), &["apps", "check"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0], "good  ok");
    assert!(
        lines[1].contains("typo.prompt:2: unknown key `promptship.titel`"),
        "{stdout}"
    );

    let empty = tempfile::tempdir().unwrap();
    let output = apps(empty.path(), &["apps", "check"]);
    assert!(output.status.success());
    assert!(text(&output.stdout).starts_with("no apps in"));
}
