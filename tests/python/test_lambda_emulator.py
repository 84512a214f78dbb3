"""The Runtime API emulator checked on its own, with a tiny scripted runtime client
speaking the protocol over one keep-alive connection, so that the end-to-end tests
of our runtime rest on an emulator verified independently of it.
"""
import base64
import http.client
import json
import subprocess
import sys
import threading
import time
import uuid

import pytest

from lambda_emulator import (BASE, ERROR_CONTENT_TYPE, HTTP_INTEGRATION_CONTENT_TYPE, PRELUDE_SEPARATOR,
                             LambdaEmulator, RuntimeExited, http_event, parse_sse)


class ScriptedRuntime:
    """A Runtime API client in a few lines: one HTTP/1.1 connection, kept alive."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def next(self):
        self.conn.request("GET", BASE + "/runtime/invocation/next")
        r = self.conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()

    def post(self, path, body, headers=None):
        self.conn.request("POST", BASE + path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        return r.status, r.read()

    def stream(self, request_id, pieces, content_type="text/event-stream", trailers=None):
        """A chunked streaming answer, one HTTP chunk per piece, then optional trailers."""
        c = self.conn
        c.putrequest("POST", f"{BASE}/runtime/invocation/{request_id}/response")
        c.putheader("Content-Type", content_type)
        c.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
        c.putheader("Transfer-Encoding", "chunked")
        c.putheader("Trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body")
        c.endheaders()
        for piece in pieces:
            c.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        end = b"0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in (trailers or {}).items()) + b"\r\n"
        c.send(end)
        r = c.getresponse()
        return r.status, r.read()

    def close(self):
        self.conn.close()


@pytest.fixture
def emu():
    with LambdaEmulator() as e:
        yield e


def run_runtime(emu, script):
    """Runs `script(runtime)` in a thread; returns a function that joins it and re-raises."""
    errors = []

    def body():
        rt = ScriptedRuntime(emu.address)
        try:
            script(rt)
        except BaseException as e:  # surfaced by join()
            errors.append(e)
        finally:
            rt.close()

    t = threading.Thread(target=body, daemon=True)
    t.start()

    def join():
        t.join(timeout=30)
        assert not t.is_alive(), "scripted runtime hung"
        if errors:
            raise errors[0]
    return join


def test_address_is_loopback_with_an_ephemeral_port(emu):
    host, port = emu.address.split(":")
    assert host == "127.0.0.1" and int(port) > 0


def test_next_delivers_the_event_with_lambda_headers_and_records_a_buffered_answer(emu):
    seen = {}

    def script(rt):
        status, headers, body = rt.next()
        seen.update(status=status, headers=headers, body=body, at=time.time())
        rid = headers["lambda-runtime-aws-request-id"]
        seen["post"] = rt.post(f"/runtime/invocation/{rid}/response", b'{"answer": 42}',
                               {"Content-Type": "application/json"})

    join = run_runtime(emu, script)
    inv = emu.invoke({"prompt": "hi"}, timeout_s=7, client_context="ctx", cognito_identity="cog")
    join()
    h = seen["headers"]
    assert seen["status"] == 200 and json.loads(seen["body"]) == {"prompt": "hi"}
    assert uuid.UUID(h["lambda-runtime-aws-request-id"]) and h["lambda-runtime-aws-request-id"] == inv.request_id
    assert h["lambda-runtime-invoked-function-arn"] == "arn:aws:lambda:us-east-1:123456789012:function:test-fn"
    assert h["lambda-runtime-trace-id"].startswith("Root=1-") and ";Parent=" in h["lambda-runtime-trace-id"]
    assert h["lambda-runtime-trace-id"].endswith(";Sampled=1")
    assert h["lambda-runtime-client-context"] == "ctx" and h["lambda-runtime-cognito-identity"] == "cog"
    deadline_ms = int(h["lambda-runtime-deadline-ms"])
    assert deadline_ms == inv.deadline_ms
    assert abs(deadline_ms - (inv.delivered_at + 7) * 1000) < 2
    assert seen["post"][0] == 202
    assert inv.kind == "response" and inv.json() == {"answer": 42} and not inv.streaming
    assert inv.content_type == "application/json" and inv.error_type is None
    assert inv.delivered_at <= inv.answer_started_at <= inv.completed_at
    assert emu.protocol_errors == []


def test_optional_headers_are_absent_unless_given(emu):
    seen = {}

    def script(rt):
        _, headers, _ = rt.next()
        seen.update(headers)
        rt.post(f"/runtime/invocation/{headers['lambda-runtime-aws-request-id']}/response", b"{}")

    join = run_runtime(emu, script)
    emu.invoke(b"{}")
    join()
    assert "lambda-runtime-client-context" not in seen and "lambda-runtime-cognito-identity" not in seen


def test_next_blocks_until_an_event_is_queued(emu):
    got = []
    join = run_runtime(emu, lambda rt: got.append(rt.next()))
    assert emu.wait_for_next_poll(timeout=10)
    time.sleep(0.3)
    assert got == [], "GET /next answered with nothing queued"
    inv = emu.queue({"n": 1})
    join()
    assert got[0][0] == 200 and got[0][1]["lambda-runtime-aws-request-id"] == inv.request_id


def test_events_are_served_in_order_over_one_kept_alive_connection(emu):
    def script(rt):
        for _ in range(3):
            _, headers, body = rt.next()
            rid = headers["lambda-runtime-aws-request-id"]
            rt.post(f"/runtime/invocation/{rid}/response", body)

    join = run_runtime(emu, script)
    answers = [emu.invoke({"i": i}) for i in range(3)]
    join()
    assert [a.json() for a in answers] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert emu.next_polls == 3 and len({a.request_id for a in answers}) == 3


def test_error_answer_is_recorded_with_its_type_header(emu):
    payload = {"errorMessage": "max_tokens must be an integer", "errorType": "BadRequest", "stackTrace": []}

    def script(rt):
        _, headers, _ = rt.next()
        status, _ = rt.post(f"/runtime/invocation/{headers['lambda-runtime-aws-request-id']}/error",
                            json.dumps(payload).encode(),
                            {"Content-Type": ERROR_CONTENT_TYPE, "Lambda-Runtime-Function-Error-Type": "BadRequest"})
        assert status == 202

    join = run_runtime(emu, script)
    inv = emu.invoke({"max_tokens": "x"})
    join()
    assert inv.kind == "error" and inv.error == payload
    assert inv.error_type == "BadRequest" and inv.content_type == ERROR_CONTENT_TYPE


def test_init_error_is_recorded_and_no_poll_is_seen(emu):
    def script(rt):
        status, _ = rt.post("/runtime/init/error", b'{"errorMessage": "no model", "errorType": "Runtime.X"}',
                            {"Content-Type": ERROR_CONTENT_TYPE, "Lambda-Runtime-Function-Error-Type": "Runtime.X"})
        assert status == 202

    join = run_runtime(emu, script)
    join()
    assert not emu.wait_for_next_poll(timeout=2)
    assert emu.init_error.error_type == "Runtime.X"
    assert emu.init_error.json()["errorMessage"] == "no model"
    assert emu.init_error.headers["content-type"] == ERROR_CONTENT_TYPE
    assert emu.next_polls == 0


def test_streamed_answer_keeps_each_chunk_and_its_arrival_order(emu):
    pieces = [b'data: {"t": "a"}\n\n', b'data: {"t": "b"}\n\n', b"data: [DONE]\n\n"]

    def script(rt):
        _, headers, _ = rt.next()
        status, _ = rt.stream(headers["lambda-runtime-aws-request-id"], pieces)
        assert status == 202

    join = run_runtime(emu, script)
    inv = emu.invoke({"stream": True})
    join()
    assert inv.streaming and inv.kind == "response" and inv.content_type == "text/event-stream"
    assert [c.data for c in inv.chunks] == pieces
    assert all(a.at <= b.at for a, b in zip(inv.chunks, inv.chunks[1:]))
    assert inv.prelude is None and inv.trailers == {} and inv.stream_error is None
    assert inv.sse() == [{"t": "a"}, {"t": "b"}, "[DONE]"]


def test_streamed_http_integration_answer_is_split_at_the_prelude(emu):
    prelude = {"statusCode": 201, "headers": {"content-type": "text/event-stream"}}
    # The separator split across chunks must still be found.
    pieces = [json.dumps(prelude).encode() + b"\x00" * 3, b"\x00" * 5 + b"data: 1\n\n", b"data: [DONE]\n\n"]

    def script(rt):
        _, headers, _ = rt.next()
        rt.stream(headers["lambda-runtime-aws-request-id"], pieces, content_type=HTTP_INTEGRATION_CONTENT_TYPE)

    join = run_runtime(emu, script)
    inv = emu.invoke(http_event("POST", "/v1/completions", {"prompt": "x", "stream": True}))
    join()
    assert inv.prelude == prelude and inv.prelude_error is None
    assert inv.payload == b"data: 1\n\ndata: [DONE]\n\n"
    assert inv.sse() == [1, "[DONE]"]


def test_prelude_without_separator_is_reported(emu):
    def script(rt):
        _, headers, _ = rt.next()
        rt.stream(headers["lambda-runtime-aws-request-id"], [b'{"statusCode": 200}data: x\n\n'],
                  content_type=HTTP_INTEGRATION_CONTENT_TYPE)

    join = run_runtime(emu, script)
    inv = emu.invoke(b"{}")
    join()
    assert inv.prelude is None and "NUL" in inv.prelude_error


def test_broken_stream_trailers_are_decoded(emu):
    error = {"errorMessage": "engine failed", "errorType": "InternalError"}
    trailers = {"Lambda-Runtime-Function-Error-Type": "InternalError",
                "Lambda-Runtime-Function-Error-Body": base64.b64encode(json.dumps(error).encode()).decode()}

    def script(rt):
        _, headers, _ = rt.next()
        rt.stream(headers["lambda-runtime-aws-request-id"], [b"data: 1\n\n"], trailers=trailers)
        # The connection stays usable after trailers.
        _, headers, _ = rt.next()
        rt.post(f"/runtime/invocation/{headers['lambda-runtime-aws-request-id']}/response", b"{}")

    join = run_runtime(emu, script)
    inv = emu.invoke(b"{}")
    after = emu.invoke(b"{}")
    join()
    assert inv.error_type == "InternalError" and inv.stream_error == error
    assert inv.body == b"data: 1\n\n" and inv.kind == "response"
    assert after.kind == "response"


def test_unknown_request_id_is_400_and_recorded(emu):
    results = {}

    def script(rt):
        results["response"] = rt.post(f"/runtime/invocation/{uuid.uuid4()}/response", b"{}")
        results["stream"] = rt.stream(str(uuid.uuid4()), [b"x"])
        results["error"] = rt.post(f"/runtime/invocation/{uuid.uuid4()}/error", b"{}")

    join = run_runtime(emu, script)
    join()
    assert [results[k][0] for k in ("response", "stream", "error")] == [400, 400, 400]
    assert json.loads(results["response"][1])["errorType"] == "InvalidRequestID"
    assert [e.status for e in emu.protocol_errors] == [400, 400, 400]


def test_a_second_answer_to_the_same_request_is_refused(emu):
    results = []

    def script(rt):
        _, headers, _ = rt.next()
        rid = headers["lambda-runtime-aws-request-id"]
        results.append(rt.post(f"/runtime/invocation/{rid}/response", b'{"first": 1}')[0])
        results.append(rt.post(f"/runtime/invocation/{rid}/response", b'{"second": 2}')[0])

    join = run_runtime(emu, script)
    inv = emu.invoke(b"{}")
    join()
    assert results == [202, 400] and inv.json() == {"first": 1}
    assert emu.protocol_errors[0].reason.endswith("already answered")


def test_buffered_answer_over_six_megabytes_is_413(emu):
    results = []

    def script(rt):
        _, headers, _ = rt.next()
        rid = headers["lambda-runtime-aws-request-id"]
        results.append(rt.post(f"/runtime/invocation/{rid}/response", b"x" * (6 * 1024 * 1024 + 1))[0])
        results.append(rt.post(f"/runtime/invocation/{rid}/response", b"{}")[0])

    join = run_runtime(emu, script)
    inv = emu.invoke(b"{}")
    join()
    assert results == [413, 202] and inv.json() == {}


def test_invoke_times_out_when_nobody_answers(emu):
    with pytest.raises(TimeoutError):
        emu.invoke(b"{}", wait_s=0.3)


def test_invoke_fails_fast_when_the_watched_process_exits(emu):
    emu.process = subprocess.Popen([sys.executable, "-c", "pass"])
    with pytest.raises(RuntimeExited):
        emu.invoke(b"{}", wait_s=20)
    assert not emu.wait_for_next_poll(timeout=5)


def test_stop_releases_a_runtime_blocked_in_next():
    emu = LambdaEmulator().start()
    outcome = []

    def script(rt):
        try:
            rt.next()
            outcome.append("answered")
        except (OSError, http.client.HTTPException):
            outcome.append("closed")

    join = run_runtime(emu, script)
    assert emu.wait_for_next_poll(timeout=10)
    emu.stop()
    join()
    assert outcome == ["closed"]


def test_http_event_looks_like_a_function_url_event():
    e = http_event("POST", "/v1/chat/completions", {"a": 1}, headers={"X-Thing": "v"}, query="a=1&b",
                   base64_body=True)
    assert e["version"] == "2.0" and e["routeKey"] == "$default" and e["rawPath"] == "/v1/chat/completions"
    assert e["requestContext"]["http"]["method"] == "POST" and e["requestContext"]["http"]["path"] == e["rawPath"]
    assert e["headers"]["x-thing"] == "v" and all(k == k.lower() for k in e["headers"])
    assert e["isBase64Encoded"] is True and json.loads(base64.b64decode(e["body"])) == {"a": 1}
    assert e["queryStringParameters"] == {"a": "1", "b": ""} and e["rawQueryString"] == "a=1&b"
    assert "body" not in http_event("GET", "/health")


def test_parse_sse_reads_data_fields():
    assert parse_sse(b'data: {"x": 1}\n\n: comment\n\ndata: [DONE]\n\n') == [{"x": 1}, "[DONE]"]
    assert PRELUDE_SEPARATOR == b"\0" * 8
