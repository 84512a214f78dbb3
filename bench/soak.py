"""Soak: a bounded run of small requests mixed with bad ones against each front door,
`lambda-llm serve` (over loopback HTTP, a few client connections at once) and
`lambda-llm lambda` (under the Runtime API emulator, tests/python/lambda_emulator.py,
in BUFFERED and RESPONSE_STREAM invoke modes).

Pass criteria for each run: the process never dies, no valid request gets anything
but a well-formed 2xx, every bad request gets a 4xx, the process holds no more sockets
after the run (every client gone) than before it, and (runs of 2,000 requests or
more) the model process's RSS median over the last 1,000 requests is within 5% of
its median over the first 1,000. The mix is deterministic for a given --seed.

The request builders, runners and the report are importable: tests/python/
test_soak_short.py runs a short version of the same soak.
"""
import argparse
import base64
import datetime
import http.client
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from lambda_emulator import LambdaEmulator, RuntimeExited, http_event, parse_sse  # noqa: E402

KEY = "soak-key-0123"
MODEL_NAME = "smollm2"
CONTEXT = 512
MAX_BODY = 1 << 20
MAX_TOKENS_CAP = 4096
RSS_WINDOW = 1000
RSS_GROWTH_LIMIT_PCT = 5.0
# Below this many requests the first and last windows are too close for a verdict.
RSS_VERDICT_MIN_REQUESTS = 2 * RSS_WINDOW
HTTP_TIMEOUT_S = 120
INVOKE_TIMEOUT_S = 60

PROMPTS = ["Count to five:", "The capital of France is", "Once upon a time", "Hello", "List three colours:",
           "def add(a, b):", "The sky is", "Water boils at", "My favourite fruit is", "1, 2, 3,"]
QUESTIONS = ["Say hello.", "What is 2+2?", "Name a colour.", "hi", "Tell me a fact.", "Who are you?"]
# Over CONTEXT tokens on its own (about 600 tokens), yet cheap to tokenize.
OVERFLOWING_PROMPT = "Hello " * (CONTEXT + 100)


# Requests ------------------------------------------------------------------------


def completion_body(rng, **extra):
    body = {"prompt": rng.choice(PROMPTS) + (f" {rng.randrange(100)}" if rng.random() < 0.5 else ""),
            "max_tokens": rng.randint(1, 4), "temperature": rng.choice([0, 0, 0.7])}
    if rng.random() < 0.5:
        body["model"] = MODEL_NAME
    if body["temperature"]:
        body["seed"] = rng.randrange(1 << 32)
    if rng.random() < 0.1:
        body["stop"] = ["\n"]
    body.update(extra)
    return body


def chat_body(rng, **extra):
    messages = [{"role": "user", "content": rng.choice(QUESTIONS)}]
    if rng.random() < 0.6:  # a system turn of our own keeps the template's long default out
        messages.insert(0, {"role": "system", "content": "Be brief."})
    body = {"messages": messages, "max_tokens": rng.randint(1, 4), "temperature": rng.choice([0, 0, 0.7])}
    if rng.random() < 0.5:
        body["model"] = MODEL_NAME
    body.update(extra)
    return body


def any_body(rng, **extra):
    return completion_body(rng, **extra) if rng.random() < 0.5 else chat_body(rng, **extra)


def route_of(body):
    return "/v1/chat/completions" if "messages" in body else "/v1/completions"


def dumps(body):
    return json.dumps(body).encode()


def oversized_body(rng):
    return dumps({"prompt": "x" * (MAX_BODY + rng.randrange(16, 4096))})


def bad_fields(rng):
    """(label, body) of a request whose JSON parses but whose fields are wrong."""
    choices = [
        ("wrong-type-max-tokens", completion_body(rng, max_tokens=rng.choice(["x", 2.5, [4], True]))),
        ("wrong-type-messages", {"messages": rng.choice(["hi", {"role": "user"}, 7]), "max_tokens": 2}),
        ("wrong-type-prompt", {"prompt": rng.choice([42, {"text": "hi"}, ["a", "b"], None]), "max_tokens": 2}),
        ("wrong-type-stream", any_body(rng, stream="yes")),
        ("max-tokens-too-large", completion_body(rng, max_tokens=rng.choice([MAX_TOKENS_CAP + 1, 100_000, 1 << 62]))),
        ("max-tokens-not-positive", any_body(rng, max_tokens=rng.choice([0, -1, -rng.randrange(2, 1 << 31)]))),
        ("prompt-over-context", {"prompt": OVERFLOWING_PROMPT, "temperature": 0}),
        ("empty-messages", {"messages": [], "max_tokens": 2}),
        ("empty-prompt", completion_body(rng, prompt="")),
        ("unsupported-field", rng.choice([any_body(rng, n=3), completion_body(rng, logprobs=2),
                                          completion_body(rng, best_of=2), completion_body(rng, echo=True),
                                          chat_body(rng, logprobs=True),
                                          chat_body(rng, response_format={"type": "json_object"}),
                                          chat_body(rng, tools=[{"type": "function", "function": {"name": "f"}}])])),
        ("temperature-out-of-range", any_body(rng, temperature=rng.choice([-1, 2.5, 100]))),
        ("bad-message-role", {"messages": [{"role": "wizard", "content": "hi"}], "max_tokens": 2}),
    ]
    return rng.choice(choices)


# Server requests


@dataclass(frozen=True)
class ServerCase:
    kind: str
    method: str
    path: str
    body: bytes | None = None
    auth: str | None = KEY  # None: no Authorization header
    expect: int | None = None  # None: a valid request, any 2xx; else the 4xx expected
    stream: bool = False
    oversized: int = 0  # a prompt of this many bytes, built at send time; `chunked` picks the framing
    chunked: bool = False
    disconnect: bool = False  # close the connection after the first event of a stream
    close: bool = True  # send `Connection: close` (oversized and abandoned requests go on a connection of their own)

    @property
    def valid(self):
        return self.expect is None

    def describe(self):
        if self.oversized:
            body = (f'{{"prompt": "x" * {self.oversized}}}' + (" sent chunked" if self.chunked else "")
                    + (" with Connection: close" if self.close else ""))
        else:
            body = repr(self.body[:300] if self.body else b"")
        return f"{self.method} {self.path} auth={self.auth!r} body={body}"


def server_valid(rng):
    r = rng.random() * 80
    if r < 30:
        return ServerCase("completion", "POST", "/v1/completions", dumps(completion_body(rng)))
    if r < 52:
        return ServerCase("chat", "POST", "/v1/chat/completions", dumps(chat_body(rng)))
    if r < 59:
        return ServerCase("completion-stream", "POST", "/v1/completions",
                          dumps(completion_body(rng, stream=True)), stream=True)
    if r < 66:
        extra = {"stream_options": {"include_usage": True}} if rng.random() < 0.5 else {}
        return ServerCase("chat-stream", "POST", "/v1/chat/completions", dumps(chat_body(rng, stream=True, **extra)),
                          stream=True)
    if r < 69:  # fields the server has no use for are ignored, as OpenAI clients expect
        body = any_body(rng, user="soak", frequency_penalty=0, metadata={"k": [1, 2]}, x_unknown=True)
        return ServerCase("unknown-fields", "POST", route_of(body), dumps(body))
    if r < 74:
        return ServerCase("models", "GET", "/v1/models")
    if r < 77:
        return ServerCase("health", "GET", "/health", auth=rng.choice([KEY, None]))
    if r < 78:
        return ServerCase("metrics", "GET", "/metrics")
    return ServerCase("stream-disconnect", "POST", "/v1/completions",
                      dumps(completion_body(rng, max_tokens=48, stream=True)), stream=True, disconnect=True)


def server_bad(rng):
    r = rng.randrange(10)
    if r == 0:
        body = rng.choice([b"{not json", b'{"prompt": "hi"', b"", b"null", b"[1, 2]", b'"text"',
                           b'{"prompt": "\xff\xfe"}'])
        return ServerCase("bad:malformed-json", "POST", rng.choice(["/v1/completions", "/v1/chat/completions"]),
                          body, expect=400)
    if r in (1, 2, 3):
        label, body = bad_fields(rng)
        return ServerCase("bad:" + label, "POST", route_of(body), dumps(body), expect=400)
    if r == 4:
        return ServerCase("bad:unknown-model", "POST", "/v1/completions",
                          dumps(completion_body(rng, model=f"gpt-{rng.randrange(100)}")), expect=404)
    if r == 5:
        # Random paths: a route label per path would grow without bound.
        path = rng.choice(["/v2/nothing", "/v1/embeddings", f"/x/{rng.randrange(10**9)}", "/v1/completions/extra"])
        return ServerCase("bad:wrong-route", rng.choice(["GET", "POST"]), path, expect=404)
    if r == 6:
        method, path = rng.choice([("GET", "/v1/completions"), ("GET", "/v1/chat/completions"),
                                   ("DELETE", "/v1/models"), ("PUT", "/v1/chat/completions"), ("POST", "/health")])
        return ServerCase("bad:wrong-method", method, path, dumps(completion_body(rng)) if method != "GET" else None,
                          expect=405)
    if r == 7:
        return ServerCase("bad:oversized-body", "POST", "/v1/completions", oversized=MAX_BODY + rng.randrange(16, 4096),
                          chunked=rng.random() < 0.5, close=rng.random() < 0.5, expect=413)
    if r == 8:
        path, body = rng.choice([("/v1/models", None), ("/v1/completions", dumps(completion_body(rng))),
                                 ("/v1/chat/completions", dumps(chat_body(rng)))])
        return ServerCase("bad:missing-or-wrong-key", "GET" if body is None else "POST", path, body,
                          auth=rng.choice([None, "wrong-key", "", KEY + "x"]), expect=401)
    label, body = bad_fields(rng)
    return ServerCase("bad:stream-" + label, "POST", route_of(body), dumps({"stream": True, **body}), expect=400)


def server_cases(n, seed=1):
    """The mix for `serve`: about 80% valid, 20% bad, deterministic for a seed."""
    rng = random.Random(f"server-{seed}")
    return [server_bad(rng) if rng.random() < 0.2 else server_valid(rng) for _ in range(n)]


# Lambda events


@dataclass(frozen=True)
class LambdaCase:
    kind: str
    build: object  # () -> event bytes; built at send time so big events are not all held at once
    expect: int | None = None
    http: bool = False  # a function URL event: answered in the HTTP integration shape
    stream: bool = False  # server-sent events expected

    @property
    def valid(self):
        return self.expect is None

    def describe(self):
        event = self.build()
        return f"{self.kind} event={event[:400]!r}{'...' if len(event) > 400 else ''} ({len(event)} bytes)"


def url_event(method, path, body=None, key=KEY, base64_body=False):
    headers = {} if key is None else {"authorization": f"Bearer {key}"}
    return http_event(method, path, body, headers=headers, base64_body=base64_body)


def lambda_valid(rng):
    r = rng.random() * 80
    seed = rng.randrange(1 << 30)

    def later(make):  # each event built from its own seed, the same at every build
        return lambda: make(random.Random(seed))

    if r < 15:
        return LambdaCase("direct-completion", later(lambda g: dumps(completion_body(g))))
    if r < 27:
        return LambdaCase("direct-chat", later(lambda g: dumps(chat_body(g))))
    if r < 33:
        return LambdaCase("direct-stream", later(lambda g: dumps(any_body(g, stream=True))), stream=True)
    if r < 35:
        return LambdaCase("direct-unknown-fields", later(lambda g: dumps(any_body(g, user="soak", x_unknown=[1]))))
    if r < 47:
        return LambdaCase("url-completion", later(lambda g: dumps(url_event("POST", "/v1/completions",
                                                                           completion_body(g)))), http=True)
    if r < 57:
        return LambdaCase("url-chat", later(lambda g: dumps(url_event("POST", "/v1/chat/completions",
                                                                     chat_body(g)))), http=True)
    if r < 61:
        def b64(g):
            body = any_body(g)
            return dumps(url_event("POST", route_of(body), body, base64_body=True))
        return LambdaCase("url-base64", later(b64), http=True)
    if r < 69:
        def stream(g):
            extra = {"stream_options": {"include_usage": True}} if g.random() < 0.5 else {}
            body = any_body(g, stream=True, **extra)
            return dumps(url_event("POST", route_of(body), body))
        return LambdaCase("url-stream", later(stream), http=True, stream=True)
    if r < 72:
        def unknown(g):
            body = any_body(g, user="soak", frequency_penalty=0, x_unknown={"a": 1})
            return dumps(url_event("POST", route_of(body), body))
        return LambdaCase("url-unknown-fields", later(unknown), http=True)
    if r < 76:
        return LambdaCase("url-models", lambda: dumps(url_event("GET", "/v1/models")), http=True)
    return LambdaCase("url-health", later(lambda g: dumps(url_event("GET", "/health", key=g.choice([KEY, None])))),
                      http=True)


def lambda_bad(rng):
    seed = rng.randrange(1 << 30)

    def later(make):
        return lambda: make(random.Random(seed))

    r = rng.randrange(20)
    if r == 0:
        return LambdaCase("bad:direct-malformed-json", later(lambda g: g.choice(
            [b"{not json", b'{"prompt": "hi"', b"", b'{"prompt": "\xff\xfe"}'])), expect=400)
    if r == 1:
        return LambdaCase("bad:direct-not-an-object", later(lambda g: g.choice([b"[1, 2]", b'"hi"', b"42", b"null"])),
                          expect=400)
    if r in (2, 3, 4):
        def fields(g):
            label, body = bad_fields(g)
            if g.random() < 0.3:
                body = {"stream": True, **body}
            return dumps(body)
        return LambdaCase("bad:direct-fields", later(fields), expect=400)
    if r == 5:
        return LambdaCase("bad:direct-unknown-model",
                          later(lambda g: dumps(completion_body(g, model=f"gpt-{g.randrange(100)}"))), expect=404)
    if r == 6:
        return LambdaCase("bad:direct-oversized", later(lambda g: oversized_body(g)), expect=413)
    if r == 7:
        def v1(g):
            return dumps({"version": "1.0", "resource": "/v1/completions", "path": "/v1/completions",
                          "httpMethod": "POST", "headers": {"authorization": f"Bearer {KEY}"},
                          "requestContext": {"httpMethod": "POST", "path": "/v1/completions", "stage": "prod"},
                          "body": json.dumps(completion_body(g)), "isBase64Encoded": False})
        return LambdaCase("bad:url-payload-v1", later(v1), expect=400, http=True)
    if r == 8:
        def route(g):
            path = g.choice(["/v2/nothing", "/v1/embeddings", f"/x/{g.randrange(10**9)}"])
            return dumps(url_event(g.choice(["GET", "POST"]), path))
        return LambdaCase("bad:url-wrong-route", later(route), expect=404, http=True)
    if r == 9:
        def method(g):
            m, path = g.choice([("GET", "/v1/completions"), ("GET", "/v1/chat/completions"),
                                ("DELETE", "/v1/models"), ("POST", "/health")])
            return dumps(url_event(m, path, completion_body(g) if m != "GET" else None))
        return LambdaCase("bad:url-wrong-method", later(method), expect=405, http=True)
    if r == 10:
        def bad64(g):
            event = url_event("POST", "/v1/completions")
            return dumps({**event, "body": g.choice(["%%% not base64 %%%", "abc", "====", "a\x00b"]),
                          "isBase64Encoded": True})
        return LambdaCase("bad:url-bad-base64", later(bad64), expect=400, http=True)
    if r == 11:
        def garbage(g):
            body = g.choice([b"{not json", b"", b"[1]", b"\xff\xfe"])
            event = url_event("POST", g.choice(["/v1/completions", "/v1/chat/completions"]))
            return dumps({**event, "body": base64.b64encode(body).decode(), "isBase64Encoded": True})
        return LambdaCase("bad:url-malformed-json", later(garbage), expect=400, http=True)
    if r in (12, 13):
        def fields(g):
            label, body = bad_fields(g)
            return dumps(url_event("POST", route_of(body), body))
        return LambdaCase("bad:url-fields", later(fields), expect=400, http=True)
    if r == 14:
        def stream(g):
            label, body = bad_fields(g)
            return dumps(url_event("POST", route_of(body), {"stream": True, **body}))
        return LambdaCase("bad:url-stream-fields", later(stream), expect=400, http=True)
    if r in (15, 16):
        def key(g):
            path, body = g.choice([("/v1/models", None), ("/v1/completions", completion_body(g)),
                                   ("/v1/chat/completions", chat_body(g))])
            return dumps(url_event("GET" if body is None else "POST", path, body,
                                   key=g.choice([None, "wrong-key", KEY + "x"])))
        return LambdaCase("bad:url-missing-or-wrong-key", later(key), expect=401, http=True)
    if r == 17:
        return LambdaCase("bad:url-oversized", later(lambda g: dumps(url_event(
            "POST", "/v1/completions", {"prompt": "x" * (MAX_BODY + g.randrange(16, 4096))}))), expect=413, http=True)
    if r == 18:
        return LambdaCase("bad:url-unknown-model", later(lambda g: dumps(url_event(
            "POST", "/v1/chat/completions", chat_body(g, model="gpt-17")))), expect=404, http=True)
    return LambdaCase("bad:url-prompt-over-context", lambda: dumps(url_event(
        "POST", "/v1/completions", {"prompt": OVERFLOWING_PROMPT})), expect=400, http=True)


def lambda_cases(n, seed=1):
    """The mix for the Lambda runtime: about 80% valid, 20% bad, deterministic for a seed."""
    rng = random.Random(f"lambda-{seed}")
    return [lambda_bad(rng) if rng.random() < 0.2 else lambda_valid(rng) for _ in range(n)]


# Judging ---------------------------------------------------------------------------


@dataclass
class Outcome:
    status: int | None  # None: no answer at all
    ok: bool
    detail: str = ""


def check_sse(data: bytes):
    """'' when `data` is a complete OpenAI event stream, else what is wrong."""
    try:
        events = parse_sse(data)
    except (ValueError, UnicodeDecodeError) as e:
        return f"unparsable stream: {e}"
    if not events or events[-1] != "[DONE]":
        return f"stream does not end with [DONE]: {data[-200:]!r}"
    if any(isinstance(e, dict) and "error" in e for e in events):
        return f"error event in stream: {data[-300:]!r}"
    if not any(isinstance(e, dict) and any(c.get("finish_reason") for c in e.get("choices", [])) for e in events):
        return "no finish_reason in stream"
    return ""


def check_openai_body(status, body: bytes, expect, stream=False, path=""):
    """Judges one HTTP answer (status, body) against what the request deserved."""
    if expect is not None:
        if not 400 <= status < 500:
            return Outcome(status, False, f"bad request answered {status}: {body[:300]!r}")
        try:
            error = json.loads(body)["error"]
            assert isinstance(error["message"], str) and error["message"]
        except Exception:
            return Outcome(status, False, f"{status} without an OpenAI error object: {body[:300]!r}")
        return Outcome(status, True)
    if not 200 <= status < 300:
        return Outcome(status, False, f"valid request answered {status}: {body[:300]!r}")
    if stream:
        problem = check_sse(body)
        return Outcome(status, not problem, problem)
    if path == "/metrics":
        ok = b"lambda_llm_requests_total" in body
        return Outcome(status, ok, "" if ok else f"metrics body: {body[:200]!r}")
    try:
        answer = json.loads(body)
    except ValueError:
        return Outcome(status, False, f"2xx body is not JSON: {body[:300]!r}")
    if path.endswith("completions") and not (isinstance(answer.get("choices"), list) and answer["choices"]):
        return Outcome(status, False, f"no choices: {body[:300]!r}")
    if path == "/v1/models" and [m.get("id") for m in answer.get("data", [])] != [MODEL_NAME]:
        return Outcome(status, False, f"models: {body[:300]!r}")
    return Outcome(status, True)


def judge_invocation(case: LambdaCase, inv, path_hint=""):
    """Status and verdict of one Lambda invocation, from what the emulator received."""
    if inv.kind == "error":
        try:
            error = json.loads(inv.body)
            status = int(error.get("status") or 500)
        except (ValueError, TypeError):
            return Outcome(500, False, f"unparsable /error body: {inv.body[:300]!r}")
        if case.http:
            return Outcome(status, False, f"HTTP event answered on /error: {inv.body[:300]!r}")
        if case.valid:
            return Outcome(status, False, f"valid event answered with an error: {inv.body[:300]!r}")
        if not 400 <= status < 500:
            return Outcome(status, False, f"bad event answered {status}: {inv.body[:300]!r}")
        return Outcome(status, True)
    broken = inv.error_type
    if broken:
        return Outcome(500, False, f"stream ended with error trailer {broken}: {inv.stream_error}")
    if case.http:
        if inv.streaming:
            if inv.prelude is None:
                return Outcome(None, False, f"stream without prelude ({inv.prelude_error}): {inv.body[:200]!r}")
            status, body = inv.prelude.get("statusCode"), inv.payload
        else:
            try:
                answer = inv.json()
                status = answer["statusCode"]
                body = base64.b64decode(answer["body"]) if answer.get("isBase64Encoded") else answer["body"].encode()
            except Exception as e:
                return Outcome(None, False, f"malformed HTTP integration answer ({e}): {inv.body[:300]!r}")
        if not isinstance(status, int):
            return Outcome(None, False, f"statusCode {status!r}")
        return check_openai_body(status, body, case.expect, stream=case.stream, path=path_hint)
    # A direct invocation answered on /response.
    if not case.valid:
        return Outcome(200, False, f"bad direct event answered on /response: {inv.body[:300]!r}")
    if case.stream:
        if not inv.streaming:
            return Outcome(200, False, "stream request answered buffered")
        problem = check_sse(inv.body)
        return Outcome(200, not problem, problem)
    try:
        answer = inv.json()
        ok = isinstance(answer.get("text"), str) and answer.get("object") == "lambda_llm.completion"
    except ValueError:
        ok = False
    return Outcome(200, ok, "" if ok else f"direct answer: {inv.body[:300]!r}")


# Results ---------------------------------------------------------------------------


@dataclass
class Record:
    kind: str
    valid: bool
    expect: int | None
    status: int | None
    ok: bool
    detail: str
    request: str  # set only for failures: what to send to reproduce


@dataclass
class SoakResult:
    target: str
    command: str
    requests: int = 0
    duration_s: float = 0.0
    records: list = field(default_factory=list)  # in completion order
    rss_kb: list = field(default_factory=list)  # after each record, same order
    crashed: str | None = None  # why the process died or stopped answering
    exit_code: int | None = None  # after SIGTERM at the end
    sockets_before: int | None = None  # sockets the process holds before the first request
    sockets_after: int | None = None  # and after the last, once every client connection is closed
    protocol_errors: list = field(default_factory=list)
    metric_series: int | None = None  # server: lambda_llm_requests_total lines at the end
    reconnects: int = 0  # keep-alive connections the server closed between requests
    log_path: str = ""

    @property
    def window(self):
        return min(RSS_WINDOW, len(self.rss_kb) // 2)

    def rss_first_median(self):
        return statistics.median(self.rss_kb[:self.window]) if self.window else None

    def rss_last_median(self):
        return statistics.median(self.rss_kb[-self.window:]) if self.window else None

    def rss_growth_pct(self):
        first, last = self.rss_first_median(), self.rss_last_median()
        return None if not first else (last - first) / first * 100

    def status_classes(self):
        c = Counter()
        for r in self.records:
            c["none" if r.status is None else f"{r.status // 100}xx"] += 1
        return c

    def valid_failures(self):
        return [r for r in self.records if r.valid and not r.ok]

    def valid_5xx(self):
        return [r for r in self.records if r.valid and r.status is not None and r.status >= 500]

    def bad_not_4xx(self):
        return [r for r in self.records if not r.valid and not r.ok]

    def bad_other_4xx(self):
        """Bad requests refused with a 4xx, but not the one expected."""
        return [r for r in self.records if not r.valid and r.ok and r.status != r.expect]

    def leaked_sockets(self):
        if self.sockets_before is None or self.sockets_after is None:
            return None
        return max(0, self.sockets_after - self.sockets_before)

    def criteria(self):
        """(criterion, passed or None for no verdict, figure) rows."""
        growth = self.rss_growth_pct()
        rss_verdict = None if self.requests < RSS_VERDICT_MIN_REQUESTS or growth is None else growth < RSS_GROWTH_LIMIT_PCT
        rows = [
            ("no crash (process alive, every request answered)", self.crashed is None,
             self.crashed or f"{len(self.records)}/{self.requests} answered"),
            ("0 5xx on valid requests", not self.valid_5xx(), str(len(self.valid_5xx()))),
            ("every valid request: well-formed 2xx", not self.valid_failures(), f"{len(self.valid_failures())} not"),
            ("every bad request: 4xx", not self.bad_not_4xx(), f"{len(self.bad_not_4xx())} not"),
            (f"RSS growth first→last {RSS_WINDOW} < {RSS_GROWTH_LIMIT_PCT:g}%", rss_verdict,
             "n/a" if growth is None else f"{growth:+.2f}%"
             + ("" if rss_verdict is not None else f" (no verdict under {RSS_VERDICT_MIN_REQUESTS} requests)")),
        ]
        leaked = self.leaked_sockets()
        rows.append(("no leaked connections (sockets held after the run vs before)", None if leaked is None else leaked == 0,
                     "n/a" if leaked is None else f"{self.sockets_before} before, {self.sockets_after} after"))
        if self.target.startswith("lambda"):
            rows.append(("no Runtime API protocol errors", not self.protocol_errors, str(len(self.protocol_errors))))
        return rows

    def passed(self):
        return all(ok is not False for _, ok, _ in self.criteria())

    def summary_line(self):
        growth = self.rss_growth_pct()
        c = self.status_classes()
        return (f"{self.target}: {len(self.records)}/{self.requests} requests in {self.duration_s:.1f} s, "
                f"2xx {c['2xx']} 4xx {c['4xx']} 5xx {c['5xx']} none {c['none']}, "
                f"RSS median {fmt_kb(self.rss_first_median())} -> {fmt_kb(self.rss_last_median())} "
                f"({'n/a' if growth is None else f'{growth:+.2f}%'}), max {fmt_kb(max(self.rss_kb, default=None))}, "
                f"sockets {self.sockets_before} -> {self.sockets_after}, "
                f"{'PASS' if self.passed() else 'FAIL'}")


def fmt_kb(kb):
    return "n/a" if kb is None else f"{kb / 1024:.1f} MiB"


# Processes ---------------------------------------------------------------------------


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def open_sockets(pid):
    """Sockets among the process's file descriptors (None when it is gone)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    n = 0
    for fd in fds:
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass  # closed meanwhile
    return n


def settled_sockets(pid, baseline, wait_s=5.0):
    """Open sockets once closes in flight have landed: polls until `baseline` or `wait_s`."""
    limit = time.time() + wait_s
    while True:
        n = open_sockets(pid)
        if n is None or n <= baseline or time.time() > limit:
            return n
        time.sleep(0.25)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc, timeout=30):
    """SIGTERM, then the exit code (SIGKILL and None if it does not exit)."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def tail(path, n=3000):
    try:
        return Path(path).read_bytes()[-n:].decode("utf-8", "replace")
    except OSError:
        return ""


# Server soak ------------------------------------------------------------------------


class ServerClient:
    """One client connection (kept alive across requests, reopened when the server closes it)."""

    def __init__(self, port):
        self.port = port
        self.conn = None
        self.used = 0
        self.reconnects = 0

    def headers(self, case):
        h = {"Content-Type": "application/json"}
        if case.auth is not None:
            h["Authorization"] = f"Bearer {case.auth}"
        return h

    def send(self, case: ServerCase) -> Outcome:
        if case.oversized or case.disconnect:
            return self.send_raw(case)
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT_S)
                self.used = 0
            try:
                self.conn.request(case.method, case.path, body=case.body, headers=self.headers(case))
                r = self.conn.getresponse()
                body = r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self.close()
                # A kept-alive connection may be closed by the server between requests.
                if attempt == 0 and self.used > 0:
                    self.reconnects += 1
                    continue
                return Outcome(None, False, f"no answer: {e!r}")
            except (OSError, http.client.HTTPException) as e:
                self.close()
                return Outcome(None, False, f"no answer: {e!r}")
            self.used += 1
            if r.will_close:
                self.close()
            if case.stream and case.valid and not (r.getheader("Content-Type") or "").startswith("text/event-stream"):
                return Outcome(r.status, False, f"stream content type {r.getheader('Content-Type')!r}")
            return check_openai_body(r.status, body, case.expect, stream=case.stream, path=case.path)
        raise AssertionError("unreachable")

    def send_raw(self, case: ServerCase) -> Outcome:
        """Oversized bodies and abandoned streams, on a connection of their own."""
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=HTTP_TIMEOUT_S)
        except OSError as e:
            return Outcome(None, False, f"connect: {e!r}")
        with sock:
            body = dumps({"prompt": "x" * case.oversized}) if case.oversized else case.body
            head = [f"{case.method} {case.path} HTTP/1.1", "Host: 127.0.0.1"] + (["Connection: close"] if case.close else [])
            head += [f"{k}: {v}" for k, v in self.headers(case).items()]
            if case.chunked:
                head.append("Transfer-Encoding: chunked")
                step = 64 * 1024
                payload = b"".join(b"%x\r\n" % len(body[i:i + step]) + body[i:i + step] + b"\r\n"
                                   for i in range(0, len(body), step)) + b"0\r\n\r\n"
            else:
                head.append(f"Content-Length: {len(body)}")
                payload = body
            try:
                sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer 413 and close before reading it all
            response = http.client.HTTPResponse(sock, method=case.method)
            try:
                response.begin()
                if case.disconnect and response.status == 200:
                    # Leave after the first event: the server must cancel the generation.
                    first = response.read1(4096)
                    ok = first.startswith(b"data: ")
                    return Outcome(200, ok, "" if ok else f"first stream bytes {first[:100]!r}")
                body = response.read()
            except (OSError, http.client.HTTPException) as e:
                return Outcome(None, False, f"no answer: {e!r}")
            return check_openai_body(response.status, body, case.expect, path=case.path)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def start_server(binary, model, workdir, model_threads=1, max_queue=8):
    port = free_port()
    log_path = Path(workdir) / "serve.log"
    log = open(log_path, "wb")
    cmd = [str(binary), "serve", "--model", str(model), "--port", str(port), "--threads", str(model_threads),
           "--context", str(CONTEXT), "--api-key", KEY, "--max-queue", str(max_queue), "--model-name", MODEL_NAME,
           # Short, so that connections a client abandoned are gone before the socket count.
           "--idle-timeout", "2"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited with {proc.returncode} while starting:\n{tail(log_path)}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/health")
            status = c.getresponse().status
            c.close()
            if status == 200:
                return proc, port, log_path, cmd
        except OSError:
            time.sleep(0.2)
    stop_process(proc)
    raise RuntimeError(f"serve did not become healthy in 120 s:\n{tail(log_path)}")


def soak_server(binary, model, cases, workdir, clients=4, model_threads=1, progress=None):
    """Runs `cases` through `clients` concurrent connections to a fresh `serve`."""
    proc, port, log_path, cmd = start_server(binary, model, workdir, model_threads)
    result = SoakResult("server", " ".join(str(c) for c in cmd), requests=len(cases), log_path=str(log_path))
    lock = threading.Lock()
    next_index = iter(range(len(cases)))
    stop = threading.Event()
    workers = [ServerClient(port) for _ in range(clients)]

    def work(client):
        while not stop.is_set():
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            case = cases[i]
            outcome = client.send(case)
            alive = proc.poll() is None
            with lock:
                result.records.append(Record(case.kind, case.valid, case.expect, outcome.status, outcome.ok,
                                             outcome.detail, "" if outcome.ok else case.describe()))
                result.rss_kb.append(rss_kb(proc.pid))
                if not alive and result.crashed is None:
                    result.crashed = f"serve exited with {proc.returncode} after request {i} ({case.describe()})"
                    stop.set()
                if progress and len(result.records) % 1000 == 0:
                    progress(f"server: {len(result.records)}/{len(cases)}")

    time.sleep(0.5)  # the health check's connection closes on the server's side too
    result.sockets_before = open_sockets(proc.pid)
    started = time.time()
    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.duration_s = time.time() - started
    result.reconnects = sum(c.reconnects for c in workers)
    for c in workers:
        c.close()
    if proc.poll() is None:
        result.sockets_after = settled_sockets(proc.pid, result.sockets_before or 0)
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/metrics")
            text = c.getresponse().read().decode()
            c.close()
            result.metric_series = sum(1 for line in text.splitlines() if line.startswith("lambda_llm_requests_total{"))
        except OSError:
            pass
    elif result.crashed is None:
        result.crashed = f"serve exited with {proc.returncode}"
    result.exit_code = stop_process(proc)
    if result.crashed:
        result.crashed += "\n" + tail(log_path)
    return result


# Lambda soak ------------------------------------------------------------------------


def runtime_env(api, model, model_threads, invoke_mode):
    """A Lambda-like environment: nothing inherited that could steer the runtime."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDA_", "_X_AMZN", "_HANDLER"))}
    env.update({
        "AWS_LAMBDA_RUNTIME_API": api,
        "AWS_LAMBDA_FUNCTION_NAME": "soak-fn",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008",
        "AWS_REGION": "us-east-1",
        "LAMBDA_LLM_MODEL": str(model),
        "LAMBDA_LLM_THREADS": str(model_threads),
        "LAMBDA_LLM_CONTEXT": str(CONTEXT),
        "LAMBDA_LLM_MODEL_NAME": MODEL_NAME,
        "LAMBDA_LLM_API_KEY": KEY,
        "LAMBDA_LLM_INVOKE_MODE": invoke_mode,
    })
    return env


def path_of(event: bytes):
    try:
        return json.loads(event).get("rawPath", "")
    except (ValueError, AttributeError):
        return ""


def soak_lambda(binary, model, cases, workdir, invoke_mode="BUFFERED", model_threads=1, progress=None):
    """Runs `cases` one invocation at a time (as Lambda does) through a fresh runtime."""
    target = "lambda" if invoke_mode == "BUFFERED" else "lambda-stream"
    emu = LambdaEmulator(function_name="soak-fn").start()
    log_path = Path(workdir) / f"{target}.log"
    log = open(log_path, "wb")
    cmd = [str(Path(binary).resolve()), "lambda"]
    env = runtime_env(emu.address, model, model_threads, invoke_mode)
    proc = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    emu.process = proc
    result = SoakResult(target, f"LAMBDA_LLM_INVOKE_MODE={invoke_mode} LAMBDA_LLM_THREADS={model_threads} "
                                f"LAMBDA_LLM_CONTEXT={CONTEXT} LAMBDA_LLM_API_KEY=... {binary} lambda",
                        requests=len(cases), log_path=str(log_path))
    try:
        if not emu.wait_for_next_poll(120):
            raise RuntimeError(f"runtime never polled /next (exit {proc.poll()}):\n{tail(log_path)}")
        result.sockets_before = open_sockets(proc.pid)
        started = time.time()
        for i, case in enumerate(cases):
            event = case.build()
            try:
                inv = emu.wait(emu.queue(event, timeout_s=INVOKE_TIMEOUT_S), wait_s=INVOKE_TIMEOUT_S + 30)
                outcome = judge_invocation(case, inv, path_hint=path_of(event) if case.http else "")
                inv.event, inv.body, inv.chunks = b"", b"", []  # the emulator keeps every invocation
            except (RuntimeExited, TimeoutError) as e:
                outcome = Outcome(None, False, str(e))
                result.crashed = f"{e} (request {i}: {case.describe()})"
            result.records.append(Record(case.kind, case.valid, case.expect, outcome.status, outcome.ok,
                                         outcome.detail, "" if outcome.ok else case.describe()))
            result.rss_kb.append(rss_kb(proc.pid))
            if result.crashed is None and proc.poll() is not None:
                result.crashed = f"runtime exited with {proc.returncode} after request {i} ({case.describe()})"
            if result.crashed:
                break
            if progress and (i + 1) % 1000 == 0:
                progress(f"{target}: {i + 1}/{len(cases)}")
        result.duration_s = time.time() - started
        if proc.poll() is None:
            result.sockets_after = settled_sockets(proc.pid, result.sockets_before or 0)
    finally:
        result.protocol_errors = list(emu.protocol_errors)
        result.exit_code = stop_process(proc, timeout=10)
        emu.stop()
    if result.crashed:
        result.crashed += "\n" + tail(log_path)
    return result


# Report -----------------------------------------------------------------------------


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc), {model or platform.processor()}, {platform.system()} {platform.release()}"


def commit():
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def rss_blocks(result, size=RSS_WINDOW):
    """Median RSS of each block of `size` requests, in MiB: the trend at a glance."""
    return " ".join(f"{statistics.median(result.rss_kb[i:i + size]) / 1024:.1f}"
                    for i in range(0, len(result.rss_kb), size))


def markdown(results, argv, seed, clients, model, binary, model_threads, load=("?", "?")):
    built = datetime.datetime.fromtimestamp(Path(binary).stat().st_mtime).isoformat(timespec="minutes")
    out = [f"# Soak: {datetime.date.today().isoformat()}", "",
           f"- Machine: {machine()}; load average (1 min) {load[0]} at the start, {load[1]} at the end",
           f"- Commit: {commit()}; binary `{binary}` (built {built})",
           f"- Command: `{' '.join(argv)}`",
           f"- Model: `{Path(model).name}`, context {CONTEXT}, {model_threads} model thread(s); seed {seed}; "
           f"server: {clients} concurrent keep-alive client connections, --max-queue 8, API key set; Lambda: one "
           "invocation at a time through tests/python/lambda_emulator.py, LAMBDA_LLM_API_KEY set",
           "- Mix: about 80% valid (completion and chat with max_tokens 1-4, streams, GET /v1/models, /health), "
           "20% bad (malformed JSON, wrong types, unsupported fields, max_tokens out of range, prompt over the "
           "context, empty messages/prompt, unknown model, wrong route/method, body over 1 MiB, missing/wrong API "
           "key; Lambda: direct and function URL events, base64 bodies, bad base64, payload format 1.0)",
           f"- RSS: VmRSS of the model process after every request; medians over the first and last "
           f"{RSS_WINDOW} requests in completion order", ""]
    names = [r.target for r in results]
    rows = [
        ("requests answered / sent", [f"{len(r.records)} / {r.requests}" for r in results]),
        ("duration", [f"{r.duration_s:.1f} s" for r in results]),
        ("requests/s", [f"{len(r.records) / r.duration_s:.1f}" if r.duration_s else "n/a" for r in results]),
        ("valid / bad sent", [f"{sum(x.valid for x in r.records)} / {sum(not x.valid for x in r.records)}"
                              for r in results]),
        ("2xx", [str(r.status_classes()["2xx"]) for r in results]),
        ("4xx", [str(r.status_classes()["4xx"]) for r in results]),
        ("5xx", [str(r.status_classes()["5xx"]) for r in results]),
        ("no answer", [str(r.status_classes()["none"]) for r in results]),
        ("4xx by code", [" ".join(f"{k}:{v}" for k, v in sorted(Counter(x.status for x in r.records
                                                                         if x.status and 400 <= x.status < 500).items()))
                         for r in results]),
        ("bad refused with another 4xx than expected", [str(len(r.bad_other_4xx())) for r in results]),
        (f"RSS median, requests 1-{RSS_WINDOW}", [fmt_kb(r.rss_first_median()) for r in results]),
        (f"RSS median, last {RSS_WINDOW}", [fmt_kb(r.rss_last_median()) for r in results]),
        ("RSS growth", ["n/a" if r.rss_growth_pct() is None else f"{r.rss_growth_pct():+.2f}%" for r in results]),
        ("RSS max", [fmt_kb(max(r.rss_kb, default=None)) for r in results]),
        ("exit code after SIGTERM", [str(r.exit_code) for r in results]),
        ("sockets held before / after", [f"{r.sockets_before} / {r.sockets_after}" for r in results]),
        ("keep-alive reconnects", [str(r.reconnects) if r.target == "server" else "-" for r in results]),
        ("/metrics request series at the end", [str(r.metric_series) if r.metric_series is not None else "-"
                                                for r in results]),
    ]
    out += ["## Figures", "", "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    out += [f"| {label} | " + " | ".join(values) + " |" for label, values in rows]
    out += ["", "## Criteria", "", "| target | criterion | result | figure |", "|---|---|---|---|"]
    for r in results:
        for label, ok, figure in r.criteria():
            verdict = "no verdict" if ok is None else ("PASS" if ok else "FAIL")
            out.append(f"| {r.target} | {label} | {verdict} | {figure.splitlines()[0] if figure else ''} |")
    out += ["", f"Overall: {'PASS' if all(r.passed() for r in results) else 'FAIL'}", ""]
    for r in results:
        out += [f"## {r.target}", "", f"Command: `{r.command}`  ", f"Log: `{r.log_path}`  ",
                f"RSS median per {RSS_WINDOW} requests (MiB): {rss_blocks(r)}", ""]
        out += ["| kind | sent | statuses |", "|---|---|---|"]
        by_kind = {}
        for x in r.records:
            by_kind.setdefault(x.kind, Counter())[x.status] += 1
        for kind in sorted(by_kind, key=lambda k: (k.startswith("bad:"), k)):
            c = by_kind[kind]
            out.append(f"| {kind} | {sum(c.values())} | " + " ".join(f"{s}:{n}" for s, n in sorted(
                c.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))) + " |")
        problems = r.valid_failures() + r.bad_not_4xx()
        if r.crashed:
            out += ["", "Crash:", "", "```", r.crashed[-3000:], "```"]
        if problems:
            out += ["", f"First failures ({len(problems)} in all):", ""]
            out += [f"- `{p.kind}` → {p.status}: {p.detail[:400]} — request: `{p.request[:400]}`" for p in problems[:15]]
        other = r.bad_other_4xx()
        if other:
            seen = Counter((p.kind, p.expect, p.status) for p in other)
            out += ["", "Bad requests refused with another 4xx than expected (not a failure):", ""]
            out += [f"- `{k}`: expected {e}, got {s} ({n}x)" for (k, e, s), n in sorted(seen.items())]
        if r.protocol_errors:
            out += ["", "Runtime API protocol errors:", ""] + [f"- {e}" for e in r.protocol_errors[:10]]
        out.append("")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the lambda-llm binary")
    ap.add_argument("--model", required=True, help="GGUF model (the SmolLM2 test model)")
    ap.add_argument("--target", choices=["server", "lambda", "both"], default="both")
    ap.add_argument("--lambda-modes", default="BUFFERED,RESPONSE_STREAM",
                    help="invoke modes the lambda target runs, one runtime each (default: both)")
    ap.add_argument("--requests", type=int, default=10_000, help="requests per run (default 10000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clients", type=int, default=4, help="concurrent server connections (default 4)")
    ap.add_argument("--model-threads", type=int, default=1, help="--threads / LAMBDA_LLM_THREADS (default 1)")
    ap.add_argument("--out", default=f"bench/results/soak-{datetime.date.today().isoformat()}.md")
    ap.add_argument("--workdir", help="where logs go (default: a new folder under /tmp)")
    args = ap.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="lambda-llm-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)

    def progress(line):
        print(line, file=sys.stderr, flush=True)

    results = []
    load_start = f"{os.getloadavg()[0]:.2f}"
    if args.target in ("server", "both"):
        results.append(soak_server(args.bin, args.model, server_cases(args.requests, args.seed), workdir,
                                   clients=args.clients, model_threads=args.model_threads, progress=progress))
        progress(results[-1].summary_line())
    if args.target in ("lambda", "both"):
        for mode in [m.strip().upper() for m in args.lambda_modes.split(",") if m.strip()]:
            results.append(soak_lambda(args.bin, args.model, lambda_cases(args.requests, args.seed), workdir,
                                       invoke_mode=mode, model_threads=args.model_threads, progress=progress))
            progress(results[-1].summary_line())
    report = markdown(results, ["bench/soak"] + list(argv if argv is not None else sys.argv[1:]), args.seed,
                      args.clients, args.model, args.bin, args.model_threads,
                      load=(load_start, f"{os.getloadavg()[0]:.2f}"))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)
    print(f"written to {out}; logs in {workdir}", file=sys.stderr)
    return 0 if all(r.passed() for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
