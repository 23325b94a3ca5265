"""The official OpenAI Python SDK against a running promptship in demo mode, with a key
created through the app's own settings page."""

import os
import re
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import openai
import pydantic
import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("PROMPTSHIP_BIN", str(ROOT / "target" / "debug" / "promptship"))
MODEL = "promptship-demo"
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A promptship process on a free loopback port with a fresh SQLite file."""

    def __init__(self, **env: str):
        self.dir = tempfile.TemporaryDirectory()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith("OPENAI_") and k != "DATABASE_URL"
        }
        environment.update(
            BIND_ADDR=f"127.0.0.1:{self.port}",
            DATABASE_URL=f"sqlite://{self.dir.name}/app.db",
            LOG_FORMAT="json",
            **env,
        )
        self.process = subprocess.Popen(
            [BINARY], cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("promptship did not start")
            time.sleep(0.1)

    def create_key(self, email: str) -> str:
        """Signs up and creates a key on the settings page, as a person would."""
        with httpx.Client(base_url=self.base, follow_redirects=False) as browser:
            signup = browser.post("/signup", data={"email": email, "password": PASSWORD})
            assert signup.status_code == 303, signup.text
            page = browser.post("/settings/keys", data={"name": "sdk test"})
            assert page.status_code == 201, page.text
            match = re.search(r"ps_[0-9a-f]+_[0-9a-f]+", page.text)
            assert match, "the new key is shown once on the page"
            return match.group(0)

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.base}/v1", api_key=key, max_retries=0, timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.dir.cleanup()


@pytest.fixture(scope="module")
def server():
    server = Server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(server):
    return server.client(server.create_key("sdk@example.com"))


def test_a_streamed_chat_completion_arrives_in_chunks_with_usage(client):
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Hello from the SDK"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "This is the demo model" in text
    assert "Hello from the SDK" in text, "the demo echoes the question"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 10
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens > 0 and usage.prompt_tokens > 0


def test_a_chat_completion_returns_the_answer_and_usage(client):
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What are you?"},
        ],
        max_tokens=100,
    )
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    assert "demo model" in completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


class GetWeather(pydantic.BaseModel):
    """The weather in a city."""

    city: str


# The model asked for the weather and the client ran its tool: this server runs none, it
# relays the tools and the tool's result to the model.
TOOL_ROUND_TRIP = [
    {"role": "user", "content": "What is the weather in Seoul?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "GetWeather", "arguments": '{"city": "Seoul"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "21 C and clear"},
]


def test_tools_and_a_tool_result_round_trip_get_an_answer(client):
    completion = client.chat.completions.create(
        model=MODEL,
        messages=TOOL_ROUND_TRIP,
        tools=[openai.pydantic_function_tool(GetWeather)],
        tool_choice="auto",
        parallel_tool_calls=False,
    )
    message = completion.choices[0].message
    assert "demo model" in message.content
    assert message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"

    # Streamed, through the SDK's own accumulator of chunks and tool calls.
    with client.chat.completions.stream(
        model=MODEL, messages=TOOL_ROUND_TRIP, tools=[openai.pydantic_function_tool(GetWeather)]
    ) as stream:
        final = stream.get_final_completion()
    assert "demo model" in final.choices[0].message.content
    assert not final.choices[0].message.tool_calls


def test_a_tool_message_answering_no_call_raises_bad_request(client):
    with pytest.raises(openai.BadRequestError, match="tool_call_id"):
        client.chat.completions.create(
            model=MODEL,
            messages=[TOOL_ROUND_TRIP[0], {"role": "tool", "tool_call_id": "call_9", "content": "x"}],
            tools=[openai.pydantic_function_tool(GetWeather)],
        )


class StudyNotes(pydantic.BaseModel):
    summary: str
    key_points: list[str]
    questions: list[str]


def test_parse_with_a_pydantic_model_gets_an_instance_of_it(client):
    # Needs the demo model to answer `response_format: json_schema` with JSON valid
    # against the schema (issue 16, item 5).
    completion = client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "Notes on photosynthesis, please."}],
        response_format=StudyNotes,
    )
    message = completion.choices[0].message
    assert message.refusal is None
    assert isinstance(message.parsed, StudyNotes)


def test_models_are_listed(client):
    assert [m.id for m in client.models.list()] == [MODEL]


def test_a_wrong_key_raises_authentication_error(server):
    with pytest.raises(openai.AuthenticationError):
        server.client("ps_0000000000_nope").models.list()


def test_an_unknown_model_raises_not_found(client):
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])


def test_a_parameter_the_deployment_does_not_allow_raises_bad_request(client):
    with pytest.raises(openai.BadRequestError, match="logit_bias"):
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], logit_bias={"1": 1}
        )


def test_an_exhausted_budget_raises_rate_limit_error():
    # One call's reservation (prompt plus the 1024-token output cap) exceeds 500 tokens.
    server = Server(USER_DAILY_TOKENS="500")
    try:
        client = server.client(server.create_key("poor@example.com"))
        with pytest.raises(openai.RateLimitError, match="allowance"):
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    finally:
        server.stop()
