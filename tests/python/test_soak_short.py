"""A short soak of both front doors (bench/soak.py's mix and runners, 300 requests
each): `lambda-llm serve` through four concurrent connections, and `lambda-llm lambda`
under the Runtime API emulator in BUFFERED and RESPONSE_STREAM modes.

Asserts what the full soak asserts except memory growth: the process stays up, every
valid request gets a well-formed 2xx, every bad one a 4xx, no connection is left open
once its client has gone, and the runtime breaks no Runtime API rule. 300 requests are too few for an RSS verdict, so RSS is only printed;
`bench/soak` runs 10,000 and judges it.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import soak  # noqa: E402

REQUESTS = 300


def assert_soak_passed(result):
    print("\n" + result.summary_line())
    for r in result.bad_other_4xx()[:5]:
        print(f"  note: {r.kind} expected {r.expect}, got {r.status}")
    assert result.crashed is None, result.crashed
    assert len(result.records) == REQUESTS
    failures = result.valid_failures() + result.bad_not_4xx()
    assert not failures, "\n".join(f"{f.kind} -> {f.status}: {f.detail[:300]} | request: {f.request[:300]}"
                                   for f in failures[:10])
    assert not result.valid_5xx()
    assert result.status_classes()["2xx"] > REQUESTS // 2
    assert result.status_classes()["4xx"] > 0, "the mix should include bad requests"
    assert result.leaked_sockets() == 0, (f"{result.sockets_after} sockets open after every client closed, "
                                          f"{result.sockets_before} before the soak: connections leak")


def test_mix_is_deterministic_and_about_a_fifth_bad():
    for make in (soak.server_cases, soak.lambda_cases):
        cases = make(2000, seed=7)
        again = make(2000, seed=7)
        assert [c.kind for c in cases] == [c.kind for c in again]
        bad = sum(not c.valid for c in cases) / len(cases)
        assert 0.15 < bad < 0.25, bad
    kinds = {c.kind for c in soak.lambda_cases(2000, seed=7)}
    assert {"direct-stream", "url-stream", "url-base64", "bad:url-bad-base64", "bad:url-missing-or-wrong-key",
            "bad:direct-oversized", "bad:url-wrong-method"} <= kinds, kinds


def test_server_short_soak(lambda_llm_bin, smollm2_path, tmp_path):
    result = soak.soak_server(lambda_llm_bin, smollm2_path, soak.server_cases(REQUESTS, seed=3), tmp_path)
    assert_soak_passed(result)
    assert result.exit_code == 0, "serve should exit cleanly on SIGTERM after the soak"


@pytest.mark.parametrize("mode", ["BUFFERED", "RESPONSE_STREAM"])
def test_lambda_short_soak(lambda_llm_bin, smollm2_path, tmp_path, mode):
    result = soak.soak_lambda(lambda_llm_bin, smollm2_path, soak.lambda_cases(REQUESTS, seed=3), tmp_path,
                              invoke_mode=mode)
    assert_soak_passed(result)
    assert result.protocol_errors == []


def test_server_closes_connections_it_answered_before_reading_an_oversized_body(lambda_llm_bin, smollm2_path,
                                                                                tmp_path):
    """A body declared over 1 MiB is refused (413) before it is read; with `Connection:
    close` the server must still close the connection once the client has gone."""
    case = soak.ServerCase("bad:oversized-body", "POST", "/v1/completions", oversized=soak.MAX_BODY + 100,
                           close=True, expect=413)
    result = soak.soak_server(lambda_llm_bin, smollm2_path, [case] * 20, tmp_path, clients=1)
    print("\n" + result.summary_line())
    assert result.crashed is None and [r.status for r in result.records] == [413] * 20
    assert result.leaked_sockets() == 0, (f"{result.sockets_after} sockets open after 20 refused uploads "
                                          f"(client gone), {result.sockets_before} before")
