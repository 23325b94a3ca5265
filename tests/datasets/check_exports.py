"""Every export format, loaded by the tools people train with: makes conversations
through a running promptship (demo model, no network), reviews them in its database,
runs `promptship export` for each format, loads each file with Hugging Face `datasets`
and checks its columns, and runs OpenAI's cookbook checks on the openai-* files."""

import http.cookiejar
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BINARY = os.environ.get("PROMPTSHIP_BIN", str(ROOT / "target" / "debug" / "promptship"))

COLUMNS = {
    "openai-sft": {"messages"},
    "openai-dpo": {"input", "preferred_output", "non_preferred_output"},
    "trl-sft": {"messages"},
    "trl-dpo": {"prompt", "chosen", "rejected"},
    "alpaca": {"instruction", "input", "output", "system", "history"},
    "sharegpt": {"conversations", "system"},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A visitor with cookies; redirects are followed, as a browser does."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def post(self, path, form=None, body=None):
        if body is not None:
            data, kind = json.dumps(body).encode(), "application/json"
        else:
            data, kind = urllib.parse.urlencode(form or {}).encode(), "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=data, headers={"Content-Type": kind})
        with self.opener.open(request, timeout=60) as response:
            return response.geturl(), response.read()


def make_conversations(base, db_path):
    guest = Browser(base)
    # Chats of two turns each; the second answer regenerated, so it has a sibling.
    for i in range(6):
        url, _ = guest.post("/conversations", {"content": f"Question {i}: what is {i} plus {i}?"})
        page = urllib.parse.urlparse(url).path
        guest.post(f"{page}/messages", {"content": f"And {i} times {i}?"})
        guest.post(f"{page}/regenerate")
    for text in ["안녕하세요, 반갑습니다.", "오늘 날씨가 좋네요."]:
        guest.post("/api/v1/apps/translate/runs", body={"text": text, "direction": "ko-en"})

    db = sqlite3.connect(db_path)
    answers = [row[0] for row in db.execute("SELECT id FROM messages WHERE role = 'assistant' ORDER BY id")]
    assert len(answers) >= 20, answers
    now = int(time.time() * 1000)
    for n, answer in enumerate(answers):
        state, content, rating, correction = "accepted", None, None, None
        if n % 5 == 1:
            state, content = "edited", f"An edited answer number {n}."
        elif n % 5 == 2:
            state, rating = "rejected", -1
        elif n % 5 == 3:
            state, correction, rating = "pending", f"A corrected answer number {n}.", 1
        db.execute(
            "INSERT INTO reviews (message_id, state, content, reason, updated_at) VALUES (?, ?, ?, ?, ?)",
            (answer, state, content, "wrong_facts" if state == "rejected" else None, now),
        )
        if rating is not None or correction is not None:
            db.execute(
                "INSERT INTO feedback (message_id, rating, correction, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (answer, rating, correction, now, now),
            )
    db.commit()
    db.close()


def main():
    from datasets import load_dataset

    work = Path(tempfile.mkdtemp(prefix="promptship-datasets-"))
    site = (ROOT / "promptship.toml").read_text().replace('data_policy = "off"', 'data_policy = "all"')
    (work / "site.toml").write_text(site)
    db_path = work / "app.db"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(
        BIND_ADDR=f"127.0.0.1:{port}",
        DATABASE_URL=f"sqlite://{db_path}",
        PROMPTSHIP_SITE=str(work / "site.toml"),
        LOG_FORMAT="json",
    )
    server = subprocess.Popen([BINARY], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("promptship did not start")
                time.sleep(0.1)
        make_conversations(base, db_path)
    finally:
        server.terminate()
        server.wait(timeout=10)

    failures = 0
    for name, columns in COLUMNS.items():
        out = work / name
        done = subprocess.run(
            [BINARY, "export", "--format", name, "--split", "0.7", "--out", str(out)],
            env=env, cwd=ROOT, capture_output=True, text=True,
        )
        if done.returncode != 0:
            print(f"FAIL {name}: promptship export failed: {done.stderr}")
            failures += 1
            continue
        manifest = json.loads((out / "manifest.json").read_text())
        files = {split: str(out / f"{split}.jsonl") for split in ("train", "validation")
                 if manifest["files"].get(f"{split}.jsonl")}
        loaded = load_dataset("json", data_files=files)
        for split, dataset in loaded.items():
            if set(dataset.column_names) != columns:
                print(f"FAIL {name} {split}: columns {dataset.column_names}, expected {sorted(columns)}")
                failures += 1
            if dataset.num_rows != manifest["files"][f"{split}.jsonl"]:
                print(f"FAIL {name} {split}: {dataset.num_rows} rows, the manifest says {manifest['files']}")
                failures += 1
        info = json.loads((out / "dataset_info.json").read_text())
        if sorted(e["file_name"] for e in info.values()) != ["train.jsonl", "validation.jsonl"]:
            print(f"FAIL {name}: dataset_info.json names {info}")
            failures += 1
        print(f"ok   {name}: {manifest['examples']} examples {manifest['files']}, loaded by datasets")
        if name.startswith("openai-"):
            kind = "dpo" if name.endswith("dpo") else "sft"
            for path in files.values():
                checked = subprocess.run([sys.executable, str(HERE / "openai_checks.py"), kind, path])
                failures += checked.returncode != 0
    if failures:
        print(f"{failures} failure(s)")
        return 1
    print("every format loads and passes its checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
