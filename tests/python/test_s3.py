"""`lambda-llm fetch` against a local S3 (moto, IAM auth enforced) and `debug-sigv4` against botocore.

Moto recomputes every request's SigV4 signature with botocore and evaluates IAM policies
(see s3_fixtures.MotoS3), so each successful fetch here is also a signature check on the
wire: keys with spaces, unicode, '+' and '=', session tokens, Range and If-Match headers.
The fetches run as an assumed role, with a session token, as a Lambda function does.
"""
import hashlib
import json
import os
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import sha256_file
from s3_fixtures import REGION, FaultProxy, Identity, running_moto

MiB = 1 << 20


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    with running_moto(tmp_path_factory.mktemp("moto") / "moto_server.log") as server:
        yield server


@pytest.fixture(scope="session")
def proxy(moto):
    p = FaultProxy(moto.port)
    yield p
    p.close()


@pytest.fixture(scope="session")
def smollm2_object(moto, smollm2_path):
    data = smollm2_path.read_bytes()
    key = "llm/SmolLM2-135M-Instruct.Q4_1.gguf"
    return key, moto.put_verified(key, data), len(data)


def put_blob(moto, key, size, seed, metadata_sha=None, sidecar=None, bucket="models"):
    """Uploads `size` pseudo-random bytes; returns their sha256."""
    data = (hashlib.sha256(seed.encode()).digest() * (size // 32 + 1))[:size]
    digest = hashlib.sha256(data).hexdigest()
    metadata = {} if metadata_sha is None else {"sha256": digest if metadata_sha == "correct" else metadata_sha}
    moto.s3().put_object(Bucket=bucket, Key=key, Body=data, Metadata=metadata)
    if sidecar is not None:
        text = (digest if sidecar == "correct" else sidecar) + "  " + key.rsplit("/", 1)[-1] + "\n"
        moto.s3().put_object(Bucket=bucket, Key=key + ".sha256", Body=text.encode())
    return digest


def fetch(bin_path, endpoint, identity, url, directory, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(identity.env())
    env.update({"AWS_REGION": REGION, "AWS_ENDPOINT_URL_S3": endpoint})
    return subprocess.run([str(bin_path), "fetch", url, "--dir", str(directory), *args],
                          env=env, capture_output=True, text=True, timeout=120)


def assert_no_secrets(result, *identities):
    text = result.stdout + result.stderr
    for identity in identities:
        assert identity.secret_key not in text
        if identity.session_token:
            assert identity.session_token not in text
    assert "Authorization" not in text and "AWS4-HMAC-SHA256" not in text


# a. a verified download, with progress lines and the path as stdout's last line
@pytest.mark.parametrize("mode", [[], ["--hash-after-download"]], ids=["hash-while", "hash-after"])
def test_fetch_downloads_and_verifies(lambda_llm_bin, moto, smollm2_object, tmp_path, mode):
    key, digest, size = smollm2_object
    r = fetch(lambda_llm_bin, moto.endpoint, moto.reader, f"s3://models/{key}", tmp_path, *mode)
    assert r.returncode == 0, r.stderr
    path = Path(r.stdout.strip().splitlines()[-1])
    assert path == tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size == size
    assert sha256_file(path) == digest
    assert "MB/s" in r.stderr and "reused: no" in r.stderr and "metadata x-amz-meta-sha256" in r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith(f"fetch: s3://models/{key} -> {tmp_path}")
    assert sum(1 for line in lines if line.startswith("fetch: ") and "%" in line) >= 10  # every 10%
    assert sorted(os.listdir(tmp_path)) == [".SmolLM2-135M-Instruct.Q4_1.gguf.verified", "SmolLM2-135M-Instruct.Q4_1.gguf"]
    marker = json.loads((tmp_path / ".SmolLM2-135M-Instruct.Q4_1.gguf.verified").read_text())
    assert marker["sha256"] == digest and marker["bytes"] == size
    assert_no_secrets(r, moto.reader)


# b. a second fetch reuses the verified file: a HEAD, no GET
def test_second_fetch_reuses_without_downloading(lambda_llm_bin, moto, proxy, smollm2_object, tmp_path):
    key, digest, _ = smollm2_object
    first = fetch(lambda_llm_bin, proxy.endpoint, moto.reader, f"s3://models/{key}", tmp_path)
    assert first.returncode == 0, first.stderr
    path = Path(first.stdout.strip().splitlines()[-1])
    mtime = path.stat().st_mtime_ns
    proxy.reset()
    second = fetch(lambda_llm_bin, proxy.endpoint, moto.reader, f"s3://models/{key}", tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().splitlines()[-1] == str(path)
    assert "reused" in second.stderr and "nothing downloaded" in second.stderr
    methods = [request.method for request in proxy.log()]
    assert methods == ["HEAD"], methods
    assert path.stat().st_mtime_ns == mtime and sha256_file(path) == digest


def test_changed_object_is_downloaded_again(lambda_llm_bin, moto, proxy, tmp_path):
    put_blob(moto, "changing.bin", 2 * MiB + 1, "v1", metadata_sha="correct")
    assert fetch(lambda_llm_bin, moto.endpoint, moto.reader, "s3://models/changing.bin", tmp_path).returncode == 0
    digest = put_blob(moto, "changing.bin", 2 * MiB + 3, "v2", metadata_sha="correct")
    proxy.reset()
    r = fetch(lambda_llm_bin, proxy.endpoint, moto.reader, "s3://models/changing.bin", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "reused: no" in r.stderr
    assert any(request.method == "GET" for request in proxy.log())
    assert sha256_file(tmp_path / "changing.bin") == digest


# c. cut connections: the download resumes inside the part, not from its start
def test_resume_after_cut_connections(lambda_llm_bin, moto, proxy, smollm2_object, tmp_path):
    key, digest, size = smollm2_object
    part = 8 * MiB
    cut_bytes = 3 * MiB + 12345

    seen = set()

    def cut_after(request):
        if request.method != "GET" or not request.range:
            return None
        index = int(request.range.removeprefix("bytes=").split("-")[0]) // part
        attempt = sum(1 for i in seen if i[0] == index)
        seen.add((index, attempt))
        if attempt == 0 and index % 2 == 0:
            return cut_bytes  # the first attempt of every even part
        if attempt == 1 and index == 0:
            return MiB  # and part 0's first resume too
        return None

    proxy.reset(cut_after)
    r = fetch(lambda_llm_bin, proxy.endpoint, moto.reader, f"s3://models/{key}", tmp_path,
              "--part-size-mb", "8", "--parallel", "4")
    log = proxy.log()
    proxy.reset()
    assert r.returncode == 0, r.stderr
    assert sha256_file(tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf") == digest

    gets = [request for request in log if request.method == "GET"]
    cuts = [request for request in gets if request.cut]
    starts = [int(request.range.removeprefix("bytes=").split("-")[0]) for request in gets]
    resumed = [start for start in starts if start % part != 0]
    parts = (size + part - 1) // part
    assert len(cuts) == (parts + 1) // 2 + 1, [(q.range, q.body_bytes) for q in cuts]
    assert len(gets) == parts + len(cuts)  # one more request per cut, no restarts of whole parts
    # After each cut the part is asked again from past the cut request's start, at most where the
    # cut happened (the client may lose what it had buffered but not written), up to the same end.
    for request in cuts:
        start = int(request.range.removeprefix("bytes=").split("-")[0])
        end = int(request.range.split("-")[1])
        assert any(q.range.endswith(f"-{end}") and start < int(q.range.removeprefix("bytes=").split("-")[0])
                   <= start + request.body_bytes for q in gets), (request.range, request.body_bytes, resumed)
    transferred = sum(request.body_bytes for request in gets)
    assert size <= transferred < 1.5 * size
    assert f"{len(cuts)} retries" in r.stderr
    assert sorted(os.listdir(tmp_path)) == [".SmolLM2-135M-Instruct.Q4_1.gguf.verified", "SmolLM2-135M-Instruct.Q4_1.gguf"]


def test_gives_up_after_the_retries_and_leaves_nothing(lambda_llm_bin, moto, proxy, tmp_path):
    put_blob(moto, "flaky.bin", 3 * MiB, "flaky", metadata_sha="correct")
    proxy.reset(lambda request: 1000 if request.method == "GET" else None)
    r = fetch(lambda_llm_bin, proxy.endpoint, moto.reader, "s3://models/flaky.bin", tmp_path, "--max-retries", "2")
    proxy.reset()
    assert r.returncode == 1
    assert "failed after 3 attempts" in r.stderr and "s3://models/flaky.bin" in r.stderr
    assert os.listdir(tmp_path) == []


def test_object_replaced_mid_download_is_refused(lambda_llm_bin, moto, proxy, tmp_path):
    put_blob(moto, "replaced.bin", 4 * MiB, "old", metadata_sha="correct")
    replaced = []

    def replace_on_second_get(request):
        if request.method == "GET" and len([q for q in proxy.requests if q.method == "GET"]) == 2 and not replaced:
            replaced.append(True)
            put_blob(moto, "replaced.bin", 4 * MiB, "new", metadata_sha="correct")
        return None

    proxy.reset(replace_on_second_get)
    r = fetch(lambda_llm_bin, proxy.endpoint, moto.reader, "s3://models/replaced.bin", tmp_path,
              "--part-size-mb", "1", "--parallel", "1")
    proxy.reset()
    assert replaced
    assert r.returncode == 1
    assert "s3://models/replaced.bin was replaced while it was being downloaded" in r.stderr
    assert os.listdir(tmp_path) == []


# d. a wrong checksum: refused, and nothing left under the final name or a temporary one
def test_checksum_mismatch_leaves_nothing(lambda_llm_bin, moto, tmp_path):
    wrong = "0" * 64
    actual = put_blob(moto, "bad/corrupt.bin", 3 * MiB + 17, "corrupt", metadata_sha=wrong)
    r = fetch(lambda_llm_bin, moto.endpoint, moto.reader, "s3://models/bad/corrupt.bin", tmp_path, "--part-size-mb", "1")
    assert r.returncode == 1
    assert f"expected sha256 {wrong}, got {actual}" in r.stderr
    assert "Error:" in r.stderr and "Fatal error" not in r.stderr
    assert os.listdir(tmp_path) == []


def test_sidecar_checksum_is_used_and_checked(lambda_llm_bin, moto, tmp_path):
    digest = put_blob(moto, "side/with sidecar.bin", MiB + 5, "sidecar", sidecar="correct")
    r = fetch(lambda_llm_bin, moto.endpoint, moto.reader, "s3://models/side/with sidecar.bin", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "sidecar s3://models/side/with sidecar.bin.sha256" in r.stderr
    assert sha256_file(tmp_path / "with sidecar.bin") == digest

    put_blob(moto, "side/bad.bin", MiB, "bad sidecar", sidecar="f" * 64)
    r = fetch(lambda_llm_bin, moto.endpoint, moto.reader, "s3://models/side/bad.bin", tmp_path)
    assert r.returncode == 1 and f"expected sha256 {'f' * 64}" in r.stderr
    assert not (tmp_path / "bad.bin").exists()


def test_no_checksum_explains_how_to_add_one(lambda_llm_bin, moto, tmp_path):
    put_blob(moto, "plain.bin", 1000, "plain")
    r = fetch(lambda_llm_bin, moto.endpoint, moto.reader, "s3://models/plain.bin", tmp_path)
    assert r.returncode == 1
    assert "--metadata sha256=" in r.stderr and "s3://models/plain.bin.sha256" in r.stderr
    assert os.listdir(tmp_path) == []


def test_awkward_keys_and_empty_objects(lambda_llm_bin, moto, tmp_path):
    # Moto checks the signature of every request, so these keys prove the canonical URI on the wire.
    key = "dir/my model+v=1 é~(x)*.bin"
    digest = put_blob(moto, key, 70000, "awkward", metadata_sha="correct")
    r = fetch(lambda_llm_bin, moto.endpoint, moto.reader, f"s3://models/{key}", tmp_path)
    assert r.returncode == 0, r.stderr
    assert sha256_file(tmp_path / "my model+v=1 é~(x)*.bin") == digest

    moto.put_verified("empty.bin", b"")
    r = fetch(lambda_llm_bin, moto.endpoint, moto.reader, "s3://models/empty.bin", tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "empty.bin").stat().st_size == 0


# e. missing object, missing bucket
def test_missing_object_and_bucket_are_named(lambda_llm_bin, moto, tmp_path):
    r = fetch(lambda_llm_bin, moto.endpoint, moto.reader, "s3://models/no/such/model.gguf", tmp_path)
    assert r.returncode == 1
    assert "object 'no/such/model.gguf' not found in bucket 'models'" in r.stderr
    r = fetch(lambda_llm_bin, moto.endpoint, moto.reader, "s3://no-such-bucket/model.gguf", tmp_path)
    assert r.returncode == 1
    assert "bucket 'no-such-bucket' does not exist" in r.stderr and "model.gguf" in r.stderr
    assert os.listdir(tmp_path) == []


# f. access denied (an explicit Deny; a user without policies), with the S3 error code, without credentials
def test_access_denied_says_so_without_credentials(lambda_llm_bin, moto, tmp_path):
    put_blob(moto, "secret/model.gguf", 1000, "private", metadata_sha="correct", bucket="private")
    r = fetch(lambda_llm_bin, moto.endpoint, moto.reader, "s3://private/secret/model.gguf", tmp_path)
    assert r.returncode == 1
    assert "access denied to s3://private/secret/model.gguf (AccessDenied" in r.stderr
    assert_no_secrets(r, moto.reader)
    r = fetch(lambda_llm_bin, moto.endpoint, moto.nobody, "s3://models/empty.bin", tmp_path)
    assert r.returncode == 1 and "access denied to s3://models/empty.bin (AccessDenied" in r.stderr
    assert_no_secrets(r, moto.nobody)
    assert os.listdir(tmp_path) == []


def test_server_verifies_signatures(lambda_llm_bin, moto, tmp_path):
    """A wrong secret is caught by moto's own signature check, and the error never echoes credentials."""
    wrong = Identity(moto.reader.access_key, moto.reader.secret_key[::-1], moto.reader.session_token)
    r = fetch(lambda_llm_bin, moto.endpoint, wrong, "s3://models/empty.bin", tmp_path)
    assert r.returncode == 1 and "SignatureDoesNotMatch" in r.stderr
    assert_no_secrets(r, moto.reader, wrong)
    bad_token = Identity(moto.reader.access_key, moto.reader.secret_key, moto.reader.session_token[::-1])
    r = fetch(lambda_llm_bin, moto.endpoint, bad_token, "s3://models/empty.bin", tmp_path)
    assert r.returncode == 1 and "InvalidToken" in r.stderr
    assert_no_secrets(r, moto.reader, bad_token)


# g. /tmp too small
def test_too_small_directory_fails_before_downloading(lambda_llm_bin, moto, proxy, tmp_path):
    put_blob(moto, "big.bin", 8 * MiB, "big", metadata_sha="correct")
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(small)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): " + mounted.stderr.decode().strip())
    try:
        proxy.reset()
        r = fetch(lambda_llm_bin, proxy.endpoint, moto.reader, "s3://models/big.bin", small)
        assert r.returncode == 1
        assert f"not enough space in {small}: need 9 MB, 4 MB free" in r.stderr
        assert "EphemeralStorage" in r.stderr
        assert [request.method for request in proxy.log()] == ["HEAD"]
        assert os.listdir(small) == []
    finally:
        subprocess.run(["umount", str(small)], check=True)


# h. the signer equals botocore's
SIGV4_CASES = [
    # AWS's published example: GET with Range.
    dict(method="GET", url="https://examplebucket.s3.amazonaws.com/test.txt", headers={"Range": "bytes=0-9"},
         token=None, region="us-east-1"),
    dict(method="HEAD", url="http://127.0.0.1:5000/models/llm/model.gguf", headers={}, token="FQoGZXIvYXdzEXAMPLE//token+=",
         region="us-east-1"),
    dict(method="GET", url="https://s3.eu-west-1.amazonaws.com/my.bucket/" + quote("dir/my model+v=1 é.gguf", safe="/~"),
         headers={"Range": "bytes=1048576-2097151", "If-Match": '"9b2cf535f27731c974343645a3985328-12"'},
         token="IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJGMEQCIA", region="eu-west-1"),
    dict(method="GET", url="https://bucket.s3.amazonaws.com/" + quote("a=b/c%d*(x)~.gguf", safe="/~"), headers={},
         token=None, region="us-east-1"),
    dict(method="GET", url="https://bucket.s3.us-west-2.amazonaws.com/?prefix=models%2F&max-keys=2&list-type=2",
         headers={"X-Amz-Meta-Note": "  two   spaces  "}, token="token", region="us-west-2"),
    dict(method="GET", url="https://examplebucket.s3.amazonaws.com/?lifecycle", headers={}, token=None, region="us-east-1"),
    dict(method="GET", url="http://localhost:9000/b/k?versionId=3%2BZ%2Fabc&partNumber=2", headers={"Range": "bytes=0-0"},
         token=None, region="ap-southeast-2"),
]


def botocore_sign(case, amz_date, access, secret):
    request = AWSRequest(method=case["method"], url=case["url"], headers=dict(case["headers"]))
    auth = S3SigV4Auth(Credentials(access, secret, case["token"]), "s3", case["region"])
    # add_auth without the clock: botocore's own steps at a fixed timestamp.
    request.context["timestamp"] = amz_date
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    auth._inject_signature_to_request(request, auth.signature(string_to_sign, request))
    return canonical, string_to_sign, request.headers["Authorization"]


@pytest.mark.parametrize("case", SIGV4_CASES, ids=lambda c: f"{c['method']} {c['url'][:60]}")
def test_sigv4_matches_botocore(lambda_llm_bin, case):
    amz_date, access, secret = "20130524T000000Z", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    canonical, string_to_sign, authorization = botocore_sign(case, amz_date, access, secret)
    payload = {"method": case["method"], "url": case["url"], "headers": case["headers"],
               "payload_sha256": hashlib.sha256(b"").hexdigest(), "amz_date": amz_date, "region": case["region"],
               "access_key": access, "secret_key": secret}
    if case["token"]:
        payload["session_token"] = case["token"]
    r = subprocess.run([str(lambda_llm_bin), "debug-sigv4"], input=json.dumps(payload), capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    ours = json.loads(r.stdout)
    assert ours["canonical_request"] == canonical
    assert ours["string_to_sign"] == string_to_sign
    assert ours["authorization"] == authorization
    if case["token"]:
        assert ours["signed_headers"]["x-amz-security-token"] == case["token"]
    if case["url"] == "https://examplebucket.s3.amazonaws.com/test.txt":
        assert authorization.endswith("Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")


# i. no run prints credentials (each test above checks its own output too)
def test_credentials_never_printed(lambda_llm_bin, moto, proxy, smollm2_object, tmp_path):
    key, _, _ = smollm2_object
    runs = [
        fetch(lambda_llm_bin, moto.endpoint, moto.reader, f"s3://models/{key}", tmp_path),
        fetch(lambda_llm_bin, moto.endpoint, moto.reader, f"s3://models/{key}", tmp_path),  # reused
        fetch(lambda_llm_bin, moto.endpoint, moto.reader, "s3://models/missing", tmp_path),
        fetch(lambda_llm_bin, moto.endpoint, moto.reader, "s3://private/secret/model.gguf", tmp_path),
        fetch(lambda_llm_bin, "http://127.0.0.1:1", moto.reader, "s3://models/unreachable", tmp_path, "--max-retries", "0"),
    ]
    assert [r.returncode for r in runs] == [0, 0, 1, 1, 1]
    for r in runs:
        assert_no_secrets(r, moto.reader)
