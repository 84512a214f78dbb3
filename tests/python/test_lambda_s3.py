"""The runtime's init with an S3 model: `bootstrap` with LAMBDA_LLM_MODEL=s3://... against
a moto server that checks SigV4 and IAM, under the Runtime API emulator. Download,
verify, load, answer; and the init errors a function owner will meet (missing object,
access denied, /tmp too small), reported to /runtime/init/error without credentials.
"""
import hashlib
import subprocess

import pytest

from s3_fixtures import REGION, running_moto
from test_lambda_runtime import Runtime

KEY = "llm/SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def moto(tmp_path_factory, smollm2_path):
    with running_moto(tmp_path_factory.mktemp("moto-lambda") / "moto_server.log") as server:
        data = smollm2_path.read_bytes()
        meta = {"sha256": hashlib.sha256(data).hexdigest()}
        for bucket in ("models", "private"):
            server.s3().put_object(Bucket=bucket, Key=KEY, Body=data, Metadata=meta)
        yield server


@pytest.fixture(scope="module")
def bootstrap(lambda_llm_bin, tmp_path_factory):
    path = tmp_path_factory.mktemp("s3-bootstrap") / "bootstrap"
    path.symlink_to(lambda_llm_bin)
    return path


def s3_env(moto, identity, directory, model=f"s3://models/{KEY}"):
    env = {"AWS_REGION": REGION, "AWS_ENDPOINT_URL_S3": moto.endpoint, "LAMBDA_LLM_DOWNLOAD_DIR": str(directory),
           "AWS_SESSION_TOKEN": None}
    env.update(identity.env())
    return model, env


def start(bootstrap, tmp_path, model, env):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return Runtime(bootstrap, model, work, **env)


def test_model_from_s3_is_downloaded_verified_and_served(bootstrap, moto, smollm2_path, tmp_path):
    download = tmp_path / "tmp"
    download.mkdir()
    model, env = s3_env(moto, moto.reader, download)
    runtime = start(bootstrap, tmp_path, model, env).wait_ready()
    try:
        answer = runtime.invoke({"prompt": "The capital of France is", "max_tokens": 4, "temperature": 0})
        assert answer.kind == "response", answer.body
        assert answer.json()["usage"]["completion_tokens"] > 0
        local = download / "SmolLM2-135M-Instruct.Q4_1.gguf"
        assert hashlib.sha256(local.read_bytes()).digest() == hashlib.sha256(smollm2_path.read_bytes()).digest()
        lines, _ = runtime.log_lines()
        done = [line for line in lines if line.get("message") == "model download done"]
        assert done and done[0]["downloadMBps"] > 0 and done[0]["reused"] is False
        assert any("loadSeconds" in line for line in lines)
        text = runtime.log_text()
        assert moto.reader.secret_key not in text and moto.reader.session_token not in text
    finally:
        runtime.stop()

    # A second init in the same /tmp (Lambda re-running init in a warm sandbox) reuses the verified file.
    runtime = start(bootstrap, tmp_path, model, env).wait_ready()
    try:
        lines, _ = runtime.log_lines()
        assert [line["reused"] for line in lines if line.get("message") == "model download done"] == [True]
    finally:
        runtime.stop()


@pytest.mark.parametrize("case", ["missing", "denied"])
def test_s3_init_errors_are_reported_without_credentials(bootstrap, moto, tmp_path, case):
    download = tmp_path / "tmp"
    download.mkdir()
    url = "s3://models/llm/nothing-here.gguf" if case == "missing" else f"s3://private/{KEY}"
    model, env = s3_env(moto, moto.reader, download, url)
    runtime = start(bootstrap, tmp_path, model, env)
    try:
        runtime.proc.wait(timeout=60)
        assert runtime.proc.returncode != 0
        init = runtime.emu.init_error
        assert init is not None, runtime.log_text()
        assert init.error_type == "Runtime.ModelDownloadError"
        message = init.json()["errorMessage"]
        assert url in message
        assert ("not found" in message.lower()) if case == "missing" else ("denied" in message.lower())
        assert runtime.emu.next_polls == 0
        for text in (message, runtime.log_text()):
            assert moto.reader.secret_key not in text and moto.reader.session_token not in text
        assert list(download.iterdir()) == []
    finally:
        runtime.stop()


def test_tmp_too_small_is_an_init_error_naming_ephemeral_storage(bootstrap, moto, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(small)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): " + mounted.stderr.decode().strip())
    try:
        model, env = s3_env(moto, moto.reader, small)
        runtime = start(bootstrap, tmp_path, model, env)
        try:
            runtime.proc.wait(timeout=60)
            init = runtime.emu.init_error
            assert init is not None, runtime.log_text()
            message = init.json()["errorMessage"]
            assert str(small) in message and "EphemeralStorage" in message
            assert list(small.iterdir()) == []
        finally:
            runtime.stop()
    finally:
        subprocess.run(["umount", str(small)], check=True)
