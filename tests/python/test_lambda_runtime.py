"""The built binary as a Lambda custom runtime (`bootstrap`), end to end against the
Runtime API emulator: direct and function URL events, buffered and streamed answers,
bad events, init failures, mid-stream failure trailers, deadlines, and logs.

Each behaviour is judged from what the emulator received. One runtime process per
configuration serves every test of that configuration; init failures get their own.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from types import SimpleNamespace

import pytest

from lambda_emulator import (ERROR_CONTENT_TYPE, HTTP_INTEGRATION_CONTENT_TYPE, PRELUDE_SEPARATOR, LambdaEmulator,
                             http_event)

CONTEXT = 512
DEADLINE_CONTEXT = 2048
# Function timeout for deadline tests: with the 1000 ms margin, about 1.5 s of work is
# allowed while 1500 tokens take far longer. A late answer fails after DEADLINE_WAIT_S.
DEADLINE_S = 2.5
DEADLINE_WAIT_S = 15
MAX_TOKENS_CAP = 4096

# Everything the log assertions depend on, in one place: field names may still move.
LOG = SimpleNamespace(
    level="level",
    request_id="requestId",
    summary=("promptTokens", "completionTokens", "ttftMs", "tokensPerSecond", "finishReason"),
    summary_prompt_tokens="promptTokens",
    summary_completion_tokens="completionTokens",
    summary_finish_reason="finishReason",
    summary_timings=("ttftMs", "tokensPerSecond"),
    load_seconds="loadSeconds",
    emf_key="_aws",
    emf_metrics={"TimeToFirstToken": "Milliseconds", "DecodeTokensPerSecond": None},  # None: any unit
)

INIT_ERROR_TYPES = {"Runtime.ConfigError", "Runtime.ModelLoadError"}
DIRECT_ANSWER_KEYS = {"id", "object", "created", "model", "text", "finish_reason", "deadline_reached", "usage",
                      "timings"}
TIMINGS_KEYS = {"prompt_tokens_evaluated", "time_to_first_token_seconds", "prefill_tokens_per_second",
                "decode_tokens_per_second", "total_seconds"}
DIRECT_ERROR_TYPES = {400: "BadRequest", 404: "NotFound", 413: "PayloadTooLarge", 500: "InternalError"}


# Runtime process


def runtime_env(api, model, extra):
    """A Lambda-like environment: nothing inherited that could steer the runtime."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "LAMBDA_", "_X_AMZN", "_HANDLER"))}
    env.update({
        "AWS_LAMBDA_RUNTIME_API": api,
        "AWS_LAMBDA_FUNCTION_NAME": "test-fn",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/test-fn",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2025/01/01/[$LATEST]0123456789abcdef",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_LLM_MODEL": str(model),
        "LAMBDA_LLM_THREADS": "2",
        "LAMBDA_LLM_CONTEXT": str(CONTEXT),
        "LAMBDA_LLM_DEADLINE_MARGIN_MS": "1000",
    })
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


class Runtime:
    """`bootstrap` running against its own emulator; stdout and stderr go to one log file."""

    def __init__(self, bootstrap, model, workdir, **env):
        self.emu = LambdaEmulator(function_name="test-fn").start()
        self.log_path = workdir / "runtime.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(bootstrap)], cwd=workdir, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     env=runtime_env(self.emu.address, model, env))
        self.pid = self.proc.pid
        self.emu.process = self.proc

    def wait_ready(self, timeout=60):
        if not self.emu.wait_for_next_poll(timeout):
            self.stop()
            init = self.emu.init_error
            pytest.fail(f"runtime never polled /next (exit {self.proc.returncode}, init error "
                        f"{init.body if init else None!r}):\n{self.log_text()[-3000:]}")
        return self

    def invoke(self, event, **kwargs):
        inv = self.emu.invoke(event, **kwargs)
        assert self.emu.protocol_errors == [], self.emu.protocol_errors
        return inv

    def log_text(self):
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def log_lines(self, start=0):
        """(JSON objects, lines that are not JSON objects) from byte offset `start`."""
        objects, other = [], []
        for line in self.log_path.read_bytes()[start:].decode("utf-8", "replace").splitlines():
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                value = None
            (objects if isinstance(value, dict) else other).append(value if isinstance(value, dict) else line)
        return objects, other

    def log_size(self):
        return self.log_path.stat().st_size

    def assert_alive(self):
        assert self.proc.poll() is None, f"runtime exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}"
        assert self.proc.pid == self.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.emu.stop()
        self._log.close()


@pytest.fixture(scope="session")
def bootstrap(lambda_llm_bin, tmp_path_factory):
    """The binary under the name Lambda runs: `bootstrap`, started with no arguments."""
    path = tmp_path_factory.mktemp("task") / "bootstrap"
    shutil.copy2(lambda_llm_bin, path)
    return path


def start_runtime(bootstrap, smollm2_path, tmp_path_factory, name, **env):
    rt = Runtime(bootstrap, smollm2_path, tmp_path_factory.mktemp(name), **env)
    return rt.wait_ready()


@pytest.fixture(scope="module")
def runtime(bootstrap, smollm2_path, tmp_path_factory):
    rt = start_runtime(bootstrap, smollm2_path, tmp_path_factory, "buffered")
    yield rt
    rt.stop()
    assert rt.emu.protocol_errors == []


@pytest.fixture(scope="module")
def stream_runtime(bootstrap, smollm2_path, tmp_path_factory):
    rt = start_runtime(bootstrap, smollm2_path, tmp_path_factory, "stream-mode",
                       LAMBDA_LLM_INVOKE_MODE="RESPONSE_STREAM")
    yield rt
    rt.stop()


@pytest.fixture(scope="module")
def fault_runtime(bootstrap, smollm2_path, tmp_path_factory):
    rt = start_runtime(bootstrap, smollm2_path, tmp_path_factory, "fault",
                       LAMBDA_LLM_FAULT_INJECTION="stream-error-after:3")
    yield rt
    rt.stop()


@pytest.fixture(scope="module")
def deadline_runtime(bootstrap, smollm2_path, tmp_path_factory):
    rt = start_runtime(bootstrap, smollm2_path, tmp_path_factory, "deadline",
                       LAMBDA_LLM_CONTEXT=DEADLINE_CONTEXT, LAMBDA_LLM_DEADLINE_MARGIN_MS=1000)
    yield rt
    rt.stop()


# Answer readers


def completion(prompt="The capital of France is", max_tokens=8, **fields):
    return {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, **fields}


def chat(content="Say hello.", max_tokens=12, **fields):
    return {"messages": [{"role": "user", "content": content}], "max_tokens": max_tokens, "temperature": 0, **fields}


def direct_answer(inv):
    """A direct invocation's buffered answer, checked against the documented shape."""
    assert inv.kind == "response", f"expected a response, got {inv.kind}: {inv.body[:500]!r}"
    assert not inv.streaming and inv.content_type.startswith("application/json"), (inv.streaming, inv.content_type)
    a = inv.json()
    assert DIRECT_ANSWER_KEYS <= set(a), sorted(a)
    assert a["object"] == "lambda_llm.completion"
    assert isinstance(a["id"], str) and a["id"] and isinstance(a["created"], int) and isinstance(a["model"], str)
    assert isinstance(a["text"], str) and a["finish_reason"] in ("stop", "length")
    assert isinstance(a["deadline_reached"], bool)
    u = a["usage"]
    assert u["prompt_tokens"] > 0 and u["completion_tokens"] >= 0
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    assert TIMINGS_KEYS <= set(a["timings"]), sorted(a["timings"])
    assert all(isinstance(v, (int, float)) and v >= 0 for k, v in a["timings"].items() if k in TIMINGS_KEYS)
    return a


def direct_error(inv, status):
    """A direct invocation's error answer: /error with the documented body and header."""
    assert inv.kind == "error", f"expected an error, got {inv.kind}: {inv.body[:500]!r}"
    assert inv.content_type == ERROR_CONTENT_TYPE
    e = inv.error
    assert set(e) >= {"errorMessage", "errorType", "status", "param", "stackTrace"}, sorted(e)
    assert e["errorType"] == DIRECT_ERROR_TYPES[status] and e["status"] == status, e
    assert inv.headers.get("lambda-runtime-function-error-type") == e["errorType"]
    assert isinstance(e["errorMessage"], str) and e["errorMessage"] and e["stackTrace"] == []
    return e


def http_response(inv):
    """(status, lower-case headers, body bytes, streamed) of an HTTP event's answer, in either mode."""
    assert inv.kind == "response", f"HTTP events are answered on /response, got {inv.kind}: {inv.body[:500]!r}"
    if inv.streaming:
        assert inv.content_type == HTTP_INTEGRATION_CONTENT_TYPE, inv.content_type
        assert inv.prelude is not None, inv.prelude_error
        assert not inv.trailers, inv.trailers
        headers = {k.lower(): v for k, v in inv.prelude.get("headers", {}).items()}
        return inv.prelude["statusCode"], headers, inv.payload, True
    assert inv.content_type.startswith("application/json"), inv.content_type
    r = inv.json()
    assert isinstance(r["statusCode"], int) and isinstance(r["body"], str), r
    body = base64.b64decode(r["body"]) if r.get("isBase64Encoded") else r["body"].encode()
    return r["statusCode"], {k.lower(): v for k, v in r.get("headers", {}).items()}, body, False


def http_json(inv, status=200):
    code, headers, body, _ = http_response(inv)
    assert code == status, (code, body[:500])
    assert headers.get("content-type", "").startswith("application/json"), headers
    return json.loads(body)


def openai_error(inv, status):
    body = http_json(inv, status)
    e = body["error"]
    assert set(e) == {"message", "type", "param", "code"}, e
    assert isinstance(e["message"], str) and e["message"]
    return e


def read_stream(events, kind):
    """Text, finish reason and usage of an OpenAI SSE stream; checks its framing."""
    assert events and events[-1] == "[DONE]", events[-3:]
    assert "[DONE]" not in events[:-1]
    chunks = events[:-1]
    expected = "chat.completion.chunk" if kind == "chat" else "text_completion"
    assert all(c["object"] == expected for c in chunks), {c.get("object") for c in chunks}
    assert len({c["id"] for c in chunks}) == 1
    if kind == "chat":
        assert chunks[0]["choices"][0]["delta"].get("role") == "assistant", chunks[0]
    text, finish, usage = [], None, None
    for c in chunks:
        if c.get("usage"):
            assert c["choices"] == [] and c is chunks[-1], c
            usage = c["usage"]
        for choice in c["choices"]:
            piece = choice["delta"].get("content") if kind == "chat" else choice.get("text")
            text.append(piece or "")
            if choice.get("finish_reason"):
                assert finish is None, "finish_reason sent twice"
                finish = choice["finish_reason"]
    assert finish in ("stop", "length"), finish
    return "".join(text), finish, usage


def assert_still_serving(rt):
    rt.assert_alive()
    direct_answer(rt.invoke(completion("Hi", max_tokens=1)))
    rt.assert_alive()


# Direct invocations


def test_direct_completion_answers_the_documented_object(runtime):
    a = direct_answer(runtime.invoke(completion()))
    assert a["text"] and a["usage"]["completion_tokens"] <= 8
    assert a["deadline_reached"] is False


def test_direct_chat_answers_the_documented_object(runtime):
    a = direct_answer(runtime.invoke(chat()))
    assert a["text"].strip() and a["usage"]["completion_tokens"] <= 12


def test_direct_completion_honours_stop_and_seed(runtime):
    first = direct_answer(runtime.invoke(completion("One, two, three,", max_tokens=16, temperature=0.8, seed=7)))
    again = direct_answer(runtime.invoke(completion("One, two, three,", max_tokens=16, temperature=0.8, seed=7)))
    assert first["text"] == again["text"], "same seed, same text"
    stopped = direct_answer(runtime.invoke(completion("One, two, three,", max_tokens=16, stop=[","])))
    assert "," not in stopped["text"] and stopped["finish_reason"] == "stop"


@pytest.mark.parametrize("kind", ["completion", "chat"])
def test_direct_stream_is_sse_without_prelude_and_matches_the_buffered_text(runtime, kind):
    request = completion("Once upon a time", max_tokens=12) if kind == "completion" else chat(max_tokens=12)
    plain = direct_answer(runtime.invoke(request))
    inv = runtime.invoke({**request, "stream": True})
    assert inv.kind == "response" and inv.streaming
    assert inv.headers.get("transfer-encoding", "").lower() == "chunked"
    assert inv.content_type.startswith("text/event-stream"), inv.content_type
    assert PRELUDE_SEPARATOR not in inv.body and inv.body.startswith(b"data: ")
    assert inv.trailers.get("lambda-runtime-function-error-type") in (None, ""), inv.trailers
    assert len(inv.chunks) > 1, "a stream should arrive in pieces"
    text, finish, _ = read_stream(inv.sse(), kind)
    assert text == plain["text"] and finish == plain["finish_reason"]


OVERFLOWING_PROMPT = {"prompt": "Hello " * (CONTEXT + 100), "temperature": 0}

BAD_DIRECT_EVENTS = {
    "invalid JSON": (b"{not json", 400, None, "JSON"),
    "max_tokens of the wrong type": (completion("Hi", max_tokens="x"), 400, "max_tokens", "max_tokens"),
    "messages of the wrong type": ({"messages": "hi", "max_tokens": 4}, 400, "messages", "messages"),
    "empty prompt": (completion(""), 400, "prompt", "prompt"),
    # No max_tokens: the prompt alone overflows (with one, the validator blames max_tokens).
    "prompt longer than the context": (OVERFLOWING_PROMPT, 400, "prompt", str(CONTEXT)),
    "max_tokens over the cap": (completion("Hi", max_tokens=MAX_TOKENS_CAP + 1), 400, "max_tokens",
                                str(MAX_TOKENS_CAP)),
    "temperature out of range": (completion("Hi", temperature=-1), 400, "temperature", "temperature"),
    "unknown model": (completion("Hi", model="gpt-17"), 404, "model", "gpt-17"),
    "event over the body limit": (completion("x" * ((1 << 20) + 16)), 413, None, str(1 << 20)),
}


@pytest.mark.parametrize("event,status,param,mentions", BAD_DIRECT_EVENTS.values(), ids=list(BAD_DIRECT_EVENTS))
def test_bad_direct_event_is_an_invocation_error_and_the_next_one_is_served(runtime, event, status, param, mentions):
    e = direct_error(runtime.invoke(event), status)
    assert e["param"] == param, e
    assert mentions in e["errorMessage"], e
    assert_still_serving(runtime)


# Function URL / HTTP API events, buffered invoke mode


def test_function_url_completion_is_an_openai_text_completion(runtime):
    request = completion()
    direct = direct_answer(runtime.invoke(request))
    inv = runtime.invoke(http_event("POST", "/v1/completions", request))
    code, headers, _, streamed = http_response(inv)
    assert not streamed and inv.json()["isBase64Encoded"] is False
    body = http_json(inv)
    assert body["object"] == "text_completion"
    choice = body["choices"][0]
    assert choice["text"] == direct["text"] and choice["finish_reason"] == direct["finish_reason"]
    assert body["usage"] == direct["usage"]
    assert body["lambda_llm"]["deadline_reached"] is False


def test_function_url_chat_is_an_openai_chat_completion(runtime):
    body = http_json(runtime.invoke(http_event("POST", "/v1/chat/completions", chat())))
    assert body["object"] == "chat.completion"
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant" and message["content"].strip()
    assert body["choices"][0]["finish_reason"] in ("stop", "length")
    u = body["usage"]
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"] and u["completion_tokens"] <= 12


def test_function_url_models_lists_the_served_model(runtime):
    direct = direct_answer(runtime.invoke(completion("Hi", max_tokens=1)))
    body = http_json(runtime.invoke(http_event("GET", "/v1/models")))
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [direct["model"]]


def test_function_url_health_is_200(runtime):
    code, _, _, _ = http_response(runtime.invoke(http_event("GET", "/health")))
    assert code == 200


def test_function_url_base64_body_is_decoded(runtime):
    request = completion("The sky is", max_tokens=6)
    plain = http_json(runtime.invoke(http_event("POST", "/v1/completions", request)))
    encoded = http_json(runtime.invoke(http_event("POST", "/v1/completions", request, base64_body=True)))
    assert encoded["choices"][0]["text"] == plain["choices"][0]["text"]


BAD_HTTP_EVENTS = {
    "unknown route": (http_event("GET", "/v2/nothing"), 404, None),
    "GET on a POST route": (http_event("GET", "/v1/completions"), 405, None),
    "base64 garbage": ({**http_event("POST", "/v1/completions"), "body": "%%% not base64 %%%",
                        "isBase64Encoded": True}, 400, None),
    "invalid JSON": ({**http_event("POST", "/v1/chat/completions"), "body": "{not json"}, 400, None),
    "empty prompt": (http_event("POST", "/v1/completions", completion("")), 400, "prompt"),
    "prompt over the context": (http_event("POST", "/v1/completions", OVERFLOWING_PROMPT), 400, "prompt"),
    "huge max_tokens": (http_event("POST", "/v1/completions", completion("Hi", max_tokens=100_000)), 400,
                        "max_tokens"),
    "unknown model": (http_event("POST", "/v1/chat/completions", chat(model="gpt-17")), 404, "model"),
    "body over the limit": (http_event("POST", "/v1/completions", completion("x" * ((1 << 20) + 16))), 413, None),
}


@pytest.mark.parametrize("event,status,param", BAD_HTTP_EVENTS.values(), ids=list(BAD_HTTP_EVENTS))
def test_bad_function_url_request_is_an_openai_error_and_the_next_one_is_served(runtime, event, status, param):
    inv = runtime.invoke(event)
    e = openai_error(inv, status)
    if param is not None:
        assert e["param"] == param, e
    assert_still_serving(runtime)


# Function URL streaming


def test_function_url_completion_stream_has_the_prelude_then_sse(runtime):
    request = completion("Once upon a time", max_tokens=12)
    plain = http_json(runtime.invoke(http_event("POST", "/v1/completions", request)))
    inv = runtime.invoke(http_event("POST", "/v1/completions", {**request, "stream": True}))
    assert inv.streaming and inv.content_type == HTTP_INTEGRATION_CONTENT_TYPE
    assert inv.prelude is not None, inv.prelude_error
    assert inv.prelude["statusCode"] == 200
    headers = {k.lower(): v for k, v in inv.prelude["headers"].items()}
    assert headers["content-type"].startswith("text/event-stream") and headers["cache-control"] == "no-cache"
    assert len(inv.chunks) > 1, "a stream should arrive in pieces"
    assert not inv.trailers.get("lambda-runtime-function-error-type"), inv.trailers
    text, finish, usage = read_stream(inv.sse(), "completion")
    assert text == plain["choices"][0]["text"] and finish == plain["choices"][0]["finish_reason"]
    assert usage is None, "usage is sent only when stream_options asks for it"


def test_function_url_chat_stream_starts_with_the_role_and_ends_with_usage(runtime):
    request = chat("Name three colours.", max_tokens=16)
    plain = http_json(runtime.invoke(http_event("POST", "/v1/chat/completions", request)))
    inv = runtime.invoke(http_event("POST", "/v1/chat/completions",
                                    {**request, "stream": True, "stream_options": {"include_usage": True}}))
    code, headers, _, streamed = http_response(inv)
    assert streamed and code == 200 and headers["content-type"].startswith("text/event-stream")
    text, finish, usage = read_stream(inv.sse(), "chat")
    assert text == plain["choices"][0]["message"]["content"]
    assert finish == plain["choices"][0]["finish_reason"]
    assert usage == plain["usage"]


def test_function_url_stream_request_that_is_invalid_gets_a_400(runtime):
    inv = runtime.invoke(http_event("POST", "/v1/completions", completion("", stream=True)))
    assert openai_error(inv, 400)["param"] == "prompt"
    assert_still_serving(runtime)


# RESPONSE_STREAM invoke mode: every HTTP answer is streamed with a prelude


def test_response_stream_mode_streams_a_plain_answer_with_its_status_and_headers(stream_runtime):
    inv = stream_runtime.invoke(http_event("POST", "/v1/completions", completion()))
    assert inv.streaming and inv.content_type == HTTP_INTEGRATION_CONTENT_TYPE
    body = http_json(inv, 200)
    assert body["object"] == "text_completion" and body["choices"][0]["text"]


def test_response_stream_mode_streams_errors_with_their_status(stream_runtime):
    for event, status in [(http_event("POST", "/v1/completions", completion("")), 400),
                          (http_event("GET", "/nowhere"), 404),
                          (http_event("GET", "/v1/chat/completions"), 405)]:
        inv = stream_runtime.invoke(event)
        assert inv.streaming and inv.content_type == HTTP_INTEGRATION_CONTENT_TYPE
        openai_error(inv, status)
    stream_runtime.assert_alive()


def test_response_stream_mode_models_and_sse(stream_runtime):
    models = stream_runtime.invoke(http_event("GET", "/v1/models"))
    assert models.streaming and http_json(models)["object"] == "list"
    inv = stream_runtime.invoke(http_event("POST", "/v1/chat/completions", chat(stream=True)))
    code, headers, _, streamed = http_response(inv)
    assert streamed and code == 200 and headers["content-type"].startswith("text/event-stream")
    text, _, _ = read_stream(inv.sse(), "chat")
    assert text.strip()


# Mid-stream failure


def broken_stream(inv):
    assert inv.kind == "response" and inv.streaming
    error_type = inv.trailers.get("lambda-runtime-function-error-type")
    assert error_type, f"no error trailer: trailers {inv.trailers}, body {inv.body[-300:]!r}"
    error = inv.stream_error
    assert error is not None, "no Lambda-Runtime-Function-Error-Body trailer"
    assert isinstance(error["errorMessage"], str) and error["errorMessage"]
    assert error["errorType"] == error_type, (error, error_type)
    events = inv.sse()
    assert "[DONE]" not in events, "a broken stream must not claim to be complete"
    tokens = [e for e in events if isinstance(e, dict) and e.get("choices")]
    assert tokens, f"some token chunks should arrive before the failure: {events}"
    return events


def test_mid_stream_failure_ends_a_function_url_stream_with_error_trailers(fault_runtime):
    inv = fault_runtime.invoke(http_event("POST", "/v1/completions",
                                          completion("Once upon a time", max_tokens=40, stream=True)))
    assert inv.prelude is not None and inv.prelude["statusCode"] == 200
    broken_stream(inv)
    fault_runtime.assert_alive()
    assert http_json(fault_runtime.invoke(http_event("POST", "/v1/completions", completion())))["choices"]


def test_mid_stream_failure_ends_a_direct_stream_with_error_trailers(fault_runtime):
    inv = fault_runtime.invoke(chat(max_tokens=40, stream=True))
    assert inv.prelude is None
    broken_stream(inv)
    assert_still_serving(fault_runtime)


# Deadline


# SmolLM2 at temperature 0 rambles on this prompt for well over 1500 tokens.
LONG_STORY = completion("Once upon a time", max_tokens=1500)


def assert_before_deadline(inv):
    assert inv.completed_at is not None
    late_ms = inv.completed_at * 1000 - inv.deadline_ms
    assert late_ms < 0, f"answer completed {late_ms:.0f} ms after the deadline"


def test_direct_answer_stops_at_the_deadline(deadline_runtime):
    inv = deadline_runtime.invoke(LONG_STORY, timeout_s=DEADLINE_S, wait_s=DEADLINE_WAIT_S)
    assert_before_deadline(inv)
    a = direct_answer(inv)
    assert a["deadline_reached"] is True and a["finish_reason"] == "length"
    assert a["usage"]["completion_tokens"] < 1500


def test_function_url_answer_stops_at_the_deadline(deadline_runtime):
    inv = deadline_runtime.invoke(http_event("POST", "/v1/completions", LONG_STORY),
                                  timeout_s=DEADLINE_S, wait_s=DEADLINE_WAIT_S)
    assert_before_deadline(inv)
    body = http_json(inv)
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["lambda_llm"]["deadline_reached"] is True
    assert body["usage"]["completion_tokens"] < 1500


def test_function_url_stream_ends_cleanly_at_the_deadline(deadline_runtime):
    inv = deadline_runtime.invoke(http_event("POST", "/v1/completions", {**LONG_STORY, "stream": True}),
                                  timeout_s=DEADLINE_S, wait_s=DEADLINE_WAIT_S)
    assert_before_deadline(inv)
    code, _, _, streamed = http_response(inv)
    assert streamed and code == 200
    _, finish, _ = read_stream(inv.sse(), "completion")
    assert finish == "length"
    deadline_runtime.assert_alive()


def test_runtime_serves_normally_after_a_deadline(deadline_runtime):
    a = direct_answer(deadline_runtime.invoke(completion(max_tokens=4)))
    assert a["deadline_reached"] is False


# Init failures


def not_gguf(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"this is not a GGUF file\n" * 64)
    return path


INIT_FAILURES = {
    "model variable unset": lambda tmp: (None, "LAMBDA_LLM_MODEL"),
    "model file missing": lambda tmp: (tmp / "missing" / "model.gguf", str(tmp / "missing" / "model.gguf")),
    "model file not GGUF": lambda tmp: (not_gguf(tmp), str(tmp / "model.gguf")),
}


@pytest.mark.parametrize("setup", INIT_FAILURES.values(), ids=list(INIT_FAILURES))
def test_init_failure_is_reported_and_the_process_exits(bootstrap, tmp_path, setup):
    model, mentions = setup(tmp_path)
    rt = Runtime(bootstrap, model or "", tmp_path, LAMBDA_LLM_MODEL=model)
    try:
        code = rt.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        rt.stop()
        pytest.fail("runtime did not exit after an init failure:\n" + rt.log_text()[-2000:])
    rt.stop()
    assert code != 0, rt.log_text()[-2000:]
    assert rt.emu.next_polls == 0, "an init failure must not be followed by GET /next"
    init = rt.emu.init_error
    assert init is not None, "no POST /runtime/init/error:\n" + rt.log_text()[-2000:]
    assert init.headers.get("content-type") == ERROR_CONTENT_TYPE
    body = init.json()
    assert body["errorType"] in INIT_ERROR_TYPES and init.error_type == body["errorType"], (body, init.error_type)
    assert mentions in body["errorMessage"], body
    assert isinstance(body.get("stackTrace"), list)


# Logs and metrics


def wait_for_summary(rt, request_id, timeout=10):
    limit = time.time() + timeout
    while True:
        objects, _ = rt.log_lines()
        found = [o for o in objects if o.get(LOG.request_id) == request_id and all(k in o for k in LOG.summary)]
        if found:
            return found[-1]
        if time.time() > limit:
            pytest.fail(f"no summary log line for {request_id} within {timeout} s (are logs flushed?):\n"
                        + rt.log_text()[-2000:])
        time.sleep(0.1)


def assert_emf(line):
    aws = line[LOG.emf_key]
    assert isinstance(aws["Timestamp"], int) and aws["Timestamp"] > 1_600_000_000_000
    directives = aws["CloudWatchMetrics"]
    assert directives, line
    names = {}
    for d in directives:
        assert isinstance(d["Namespace"], str) and d["Namespace"]
        assert all(isinstance(dims, list) for dims in d["Dimensions"])
        for dims in d["Dimensions"]:
            assert all(name in line for name in dims), f"dimension missing as a field: {dims} in {line}"
        for m in d["Metrics"]:
            names[m["Name"]] = m.get("Unit")
    for name, unit in LOG.emf_metrics.items():
        assert name in names, f"metric {name} missing: {sorted(names)}"
        if unit is not None:
            assert names[name] == unit, (name, names[name])
    for name in names:
        assert isinstance(line.get(name), (int, float)), f"metric value {name} missing: {line}"


def test_logs_are_json_lines_tagged_with_the_request_id_and_never_hold_the_prompt(runtime):
    warmup = runtime.invoke(completion("Hi", max_tokens=1))
    wait_for_summary(runtime, warmup.request_id)
    start = runtime.log_size()
    marker = f"zebra-{uuid.uuid4().hex}"
    inv = runtime.invoke(completion(f"My secret word is {marker}. Repeat it:", max_tokens=6))
    answer = direct_answer(inv)
    summary = wait_for_summary(runtime, inv.request_id)
    time.sleep(0.3)  # let any line written after the summary land

    assert summary[LOG.summary_prompt_tokens] == answer["usage"]["prompt_tokens"]
    assert summary[LOG.summary_completion_tokens] == answer["usage"]["completion_tokens"]
    assert summary[LOG.summary_finish_reason] == answer["finish_reason"]
    assert all(isinstance(summary[k], (int, float)) and summary[k] >= 0 for k in LOG.summary_timings), summary

    objects, other = runtime.log_lines(start)
    assert other == [], f"log lines that are not JSON objects: {other[:5]}"
    emf = [o for o in objects if LOG.emf_key in o]
    assert emf, "no CloudWatch EMF line for the invocation"
    for line in emf:
        assert_emf(line)
    for line in objects:
        # Lines of the warm-up invocation may still land after its summary.
        if LOG.emf_key not in line and line.get(LOG.request_id) != warmup.request_id:
            assert LOG.level in line, line
            assert line.get(LOG.request_id) == inv.request_id, f"line without this invocation's id: {line}"

    http = runtime.invoke(http_event("POST", "/v1/chat/completions", chat(f"Remember {marker}", max_tokens=4)))
    http_json(http)
    wait_for_summary(runtime, http.request_id)
    assert marker not in runtime.log_text(), "prompt text leaked into the logs"


def test_init_log_reports_the_model_load_time(runtime):
    objects, _ = runtime.log_lines()
    loads = [o for o in objects if LOG.load_seconds in o]
    assert loads, "no init line with " + LOG.load_seconds
    assert isinstance(loads[0][LOG.load_seconds], (int, float)) and loads[0][LOG.load_seconds] >= 0
    assert LOG.level in loads[0]
