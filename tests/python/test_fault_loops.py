"""Fault loops: many randomly cut downloads, and processes killed mid-write, then re-run.

1. A few-MB object is fetched 100 times through a proxy that drops connections at random
   points (inside a response head, before anything, right after the head, mid-part, near the
   end, right after the last byte; FIN or RST), with a retry budget that is sometimes too
   small. Every try ends in exit 0 with a verified file, or exit 1 with an error message and
   no file under the final name; after a failure a clean re-run gives the verified file.
   The seed is printed (LAMBDA_LLM_FAULT_SEED reproduces a run; with --parallel 1 exactly).
2. `convert` killed with SIGKILL while writing: nothing under the final name, and a re-run
   writes a valid GGUF.
3. `fetch` killed with SIGKILL mid-download: nothing under the final name, and a re-run
   gives the verified file.
"""
import os
import random
import signal
import subprocess
import threading
import time

import pytest

from conftest import sha256_file
from s3_fixtures import REGION, CuttingProxy, StreamCut, running_moto

MiB = 1 << 20
SEED = int(os.environ.get("LAMBDA_LLM_FAULT_SEED", "20251127"))
TRIES = int(os.environ.get("LAMBDA_LLM_FAULT_TRIES", "100"))
BLOB_KEY = "loop/blob.bin"
BLOB_SIZE = 2 * MiB + 4321  # three 1 MiB parts, the last one short
SMOLLM2_KEY = "llm/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CRASH_SIGNS = ("Fatal error", "Traceback", "Segmentation fault", "panic", "Illegal instruction")


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    with running_moto(tmp_path_factory.mktemp("moto") / "moto_server.log", buckets=("models",)) as server:
        yield server


@pytest.fixture(scope="module")
def proxy(moto):
    p = CuttingProxy(moto.port)
    yield p
    p.close()


@pytest.fixture(scope="module")
def blob(moto):
    return moto.put_verified(BLOB_KEY, random.Random(SEED).randbytes(BLOB_SIZE))


@pytest.fixture(scope="module")
def smollm2_object(moto, smollm2_path):
    data = smollm2_path.read_bytes()
    return moto.put_verified(SMOLLM2_KEY, data), len(data)


def fetch_command(bin_path, key, directory, *args):
    return [str(bin_path), "fetch", f"s3://models/{key}", "--dir", str(directory), *args]


def fetch_env(moto, endpoint):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(moto.reader.env())
    env.update({"AWS_REGION": REGION, "AWS_ENDPOINT_URL_S3": endpoint})
    return env


def fetch(bin_path, moto, endpoint, key, directory, *args):
    return subprocess.run(fetch_command(bin_path, key, directory, *args), env=fetch_env(moto, endpoint),
                          capture_output=True, text=True, timeout=120)


def range_length(request):
    """The length a GET asked for, from its Range; None for other requests."""
    if request.method != "GET" or not request.range:
        return None
    start, end = request.range.removeprefix("bytes=").split("-")
    return int(end) - int(start) + 1


def verified_problems(result, directory, name, digest, size):
    """What is wrong with a run that should have produced the verified file (empty: nothing)."""
    problems = []
    path = directory / name
    if result.returncode != 0:
        problems.append(f"exit {result.returncode}: {result.stderr.strip()[-400:]}")
    if not result.stdout.strip() or result.stdout.strip().splitlines()[-1] != str(path):
        problems.append(f"stdout does not end with the path: {result.stdout[-200:]!r}")
    if not path.is_file() or path.stat().st_size != size or sha256_file(path) != digest:
        problems.append("CORRUPT or missing file under the final name")
    if sorted(os.listdir(directory)) != sorted([name, f".{name}.verified"]):
        problems.append(f"unexpected files: {sorted(os.listdir(directory))}")
    return problems


def failure_problems(result, directory, name):
    """What is unclean about a failed run: a crash, no message, or anything under the final name."""
    problems = []
    if result.returncode != 1:
        problems.append(f"exit {result.returncode} (want 1; negative: killed by a signal)")
    if "Error:" not in result.stderr:
        problems.append(f"no error message: {result.stderr[-300:]!r}")
    if any(sign in result.stderr for sign in CRASH_SIGNS):
        problems.append(f"crash in stderr: {result.stderr[-600:]!r}")
    if (directory / name).exists():
        problems.append("CORRUPT: a file under the final name after a failure")
    if (directory / f".{name}.verified").exists():
        problems.append("a verified marker after a failure")
    strays = [entry for entry in os.listdir(directory) if not entry.startswith(f".{name}.part-")]
    if strays:
        problems.append(f"files other than part files: {strays}")
    return problems


class TryPlan:
    """One try's faults, drawn from its own seeded generator: the first cut hits one chosen
    request (0: the HEAD), later requests are cut with probability `p`, up to `max_cuts`."""

    def __init__(self, seed, index):
        self.rng = random.Random(f"{seed}-{index}")
        rng = self.rng
        self.parallel = rng.choice([1, 1, 2, 3])
        self.max_retries = rng.choice([0, 1, 2, 3, 5])
        self.hash_after = rng.random() < 0.2
        self.p = rng.choice([0.1, 0.3, 0.6])
        self.max_cuts = rng.randint(1, 5)
        self.first = rng.randrange(0, 4)  # HEAD, or one of the first GETs
        self.seen = 0
        self.cuts = []
        self.lock = threading.Lock()

    def args(self):
        args = ["--part-size-mb", "1", "--parallel", str(self.parallel), "--max-retries", str(self.max_retries)]
        return args + (["--hash-after-download"] if self.hash_after else [])

    def describe(self):
        return (f"parallel={self.parallel} max_retries={self.max_retries} hash_after={self.hash_after} "
                f"p={self.p} max_cuts={self.max_cuts} first={self.first}")

    def __call__(self, request):
        with self.lock:
            index, self.seen = self.seen, self.seen + 1
            chosen = index == self.first or (index > self.first and self.rng.random() < self.p)
            if not chosen or len(self.cuts) >= self.max_cuts:
                return None
            cut = self.draw(range_length(request))
            self.cuts.append((request.method, request.range, cut))
            return cut

    def draw(self, length):
        rng = self.rng
        reset = rng.random() < 0.3
        where = rng.choice(["head", "before", "after-head", "mid", "near-end", "last-byte", "complete"])
        if where == "before":
            return StreamCut(head_bytes=0, reset=reset)
        if where == "head":
            return StreamCut(head_bytes=rng.randrange(1, 550), reset=reset)  # moto's heads are ~600 bytes
        length = length or 0  # a HEAD answer has no body: these cut right after its head
        body = {"after-head": 0, "mid": rng.randrange(0, length + 1), "near-end": max(0, length - rng.randint(1, 4096)),
                "last-byte": max(0, length - 1), "complete": length}[where]
        return StreamCut(body_bytes=body, reset=reset)


def test_random_cuts_end_verified_or_clean_and_rerun_recovers(lambda_llm_bin, moto, proxy, blob, tmp_path):
    print(f"\nfault loop: seed {SEED} (LAMBDA_LLM_FAULT_SEED), {TRIES} tries, object {BLOB_SIZE} bytes in 1 MiB parts")
    figures = dict(tries=0, successes=0, clean_failures=0, recovered_reruns=0, corrupt_files=0, cuts=0,
                   leftover_part_files=0)
    problems = []
    started = time.monotonic()
    for index in range(TRIES):
        plan = TryPlan(SEED, index)
        directory = tmp_path / f"try{index:03d}"
        proxy.reset(plan)
        result = fetch(lambda_llm_bin, moto, proxy.endpoint, BLOB_KEY, directory, *plan.args())
        proxy.reset()
        figures["tries"] += 1
        figures["cuts"] += len(plan.cuts)
        label = f"try {index} ({plan.describe()}; cuts {plan.cuts})"
        if result.returncode == 0:
            found = verified_problems(result, directory, "blob.bin", blob, BLOB_SIZE)
            figures["successes"] += not found
        else:
            found = failure_problems(result, directory, "blob.bin")
            figures["clean_failures"] += not found
            figures["leftover_part_files"] += len([e for e in os.listdir(directory) if ".part-" in e])
            rerun = fetch(lambda_llm_bin, moto, proxy.endpoint, BLOB_KEY, directory, "--part-size-mb", "1")
            rerun_found = verified_problems(rerun, directory, "blob.bin", blob, BLOB_SIZE)
            figures["recovered_reruns"] += not rerun_found
            found += [f"re-run: {problem}" for problem in rerun_found]
        figures["corrupt_files"] += sum("CORRUPT" in problem for problem in found)
        problems += [f"{label}: {problem}" for problem in found]
    figures["seconds"] = round(time.monotonic() - started, 1)
    print("fault loop figures: " + ", ".join(f"{name} {value}" for name, value in figures.items()))
    assert not problems, "\n".join(problems[:20])
    assert figures["corrupt_files"] == 0
    assert figures["successes"] + figures["clean_failures"] == TRIES
    assert figures["recovered_reruns"] == figures["clean_failures"]
    # The draw must exercise both outcomes, or the loop proves less than it claims.
    assert figures["successes"] >= TRIES // 10 and figures["clean_failures"] >= TRIES // 10, figures


def test_model_fetched_through_cuts_generates(lambda_llm_bin, moto, proxy, smollm2_object, tmp_path):
    digest, size = smollm2_object
    cuts = {0: StreamCut(body_bytes=3 * MiB + 12345), 5: StreamCut(head_bytes=40, reset=True)}
    gets = []

    def cut(request):
        if request.method != "GET":
            return None
        gets.append(request)
        return cuts.get(len(gets) - 1)

    proxy.reset(cut)
    r = fetch(lambda_llm_bin, moto, proxy.endpoint, SMOLLM2_KEY, tmp_path, "--part-size-mb", "8", "--parallel", "4")
    log = proxy.log()
    proxy.reset()
    assert not verified_problems(r, tmp_path, SMOLLM2_NAME, digest, size), r.stderr
    assert sum(request.cut for request in log) == 2 and "2 retries" in r.stderr, r.stderr
    g = subprocess.run([str(lambda_llm_bin), "generate", "--model", str(tmp_path / SMOLLM2_NAME), "--prompt",
                        "The capital of France is", "--max-tokens", "2", "--temperature", "0", "--threads", "2"],
                       capture_output=True, text=True, timeout=120)
    assert g.returncode == 0, g.stderr
    assert g.stdout.strip(), g.stdout
    print(f"\nfetched through 2 cuts, generated: {g.stdout.strip()!r}")


def test_fetch_killed_mid_download_then_rerun_verifies(lambda_llm_bin, moto, proxy, smollm2_object, tmp_path):
    digest, size = smollm2_object
    part = 8 * MiB
    let_through = 5  # GETs answered before the proxy holds the rest back
    release = threading.Event()
    gets = []

    def stall(request):
        if request.method == "GET":
            gets.append(request)
            if len(gets) > let_through:
                release.wait(60)  # holds the proxy until the process is dead
        return None

    proxy.reset(stall)
    process = subprocess.Popen(fetch_command(lambda_llm_bin, SMOLLM2_KEY, tmp_path, "--part-size-mb", "8", "--parallel", "2"),
                               env=fetch_env(moto, proxy.endpoint), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (len(gets) > let_through and sum(q.body_bytes == range_length(q) for q in gets) >= let_through - 1):
            assert process.poll() is None and time.monotonic() < deadline, "the fetch never reached the held-back parts"
            time.sleep(0.02)
        partials = [entry for entry in os.listdir(tmp_path) if entry.startswith(f".{SMOLLM2_NAME}.part-{process.pid}-")]
        assert len(partials) == 1, os.listdir(tmp_path)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    completed = sum(q.body_bytes == range_length(q) for q in gets)
    assert not (tmp_path / SMOLLM2_NAME).exists() and not (tmp_path / f".{SMOLLM2_NAME}.verified").exists()
    assert os.listdir(tmp_path) == partials  # only the dead process's part file

    proxy.reset()
    r = fetch(lambda_llm_bin, moto, proxy.endpoint, SMOLLM2_KEY, tmp_path, "--part-size-mb", "8", "--parallel", "2")
    log = proxy.log()
    assert not verified_problems(r, tmp_path, SMOLLM2_NAME, digest, size), r.stderr  # the stale part file is gone too
    downloaded = sum(q.body_bytes for q in log if q.method == "GET")
    print(f"\nfetch killed after {completed} of {(size + part - 1) // part} parts ({completed * part / MiB:.0f} MiB); "
          f"re-run downloaded {downloaded} of {size} bytes, reused {size - downloaded}")
    # A re-run starts over: the dead process's part file is deleted, not resumed.
    assert "reused: no" in r.stderr and downloaded == size


@pytest.fixture(scope="module")
def convert_killed_then_rerun(lambda_llm_bin, smollm2_path, tmp_path_factory):
    """Kills a convert once its temporary file has grown, then converts again into the same path."""
    directory = tmp_path_factory.mktemp("convert-kill")
    out = directory / "out.gguf"
    command = [str(lambda_llm_bin), "convert", str(smollm2_path), "-o", str(out), "--type", "int8", "--threads", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    temporaries = []
    try:
        deadline = time.monotonic() + 120
        while True:
            temporaries = [directory / e for e in os.listdir(directory) if e.startswith(".out.gguf.tmp-")]
            grown = [t for t in temporaries if t.exists() and t.stat().st_size >= 16 * MiB]
            if grown:
                break
            assert process.poll() is None, "convert finished before it could be killed: " + process.stderr.read().decode()
            assert time.monotonic() < deadline, "the temporary file never grew"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    killed = dict(returncode=process.returncode, files=sorted(os.listdir(directory)),
                  temporary_bytes=grown[0].stat().st_size)
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    return dict(directory=directory, out=out, killed=killed, rerun=rerun, files=sorted(os.listdir(directory)))


def test_convert_killed_leaves_no_output_and_rerun_writes_valid_gguf(lambda_llm_bin, convert_killed_then_rerun):
    run = convert_killed_then_rerun
    killed = run["killed"]
    print(f"\nconvert killed with its temporary file at {killed['temporary_bytes'] / MiB:.0f} MiB; "
          f"left {killed['files']}; after the re-run: {run['files']}")
    assert killed["returncode"] == -signal.SIGKILL
    assert "out.gguf" not in killed["files"]
    assert run["rerun"].returncode == 0, run["rerun"].stderr

    inspect = subprocess.run([str(lambda_llm_bin), "inspect", str(run["out"])], capture_output=True, text=True, timeout=60)
    assert inspect.returncode == 0, inspect.stderr
    from gguf import GGUFReader
    reader = GGUFReader(str(run["out"]))
    assert len(reader.tensors) > 0
    assert all(t.data_offset + t.n_bytes <= os.path.getsize(run["out"]) for t in reader.tensors)
    # The re-run's own temporary file is gone; at most the killed run's is left (see the next test).
    assert [f for f in run["files"] if f not in killed["files"]] == ["out.gguf"]


def test_convert_rerun_removes_the_killed_runs_temporary_file(convert_killed_then_rerun):
    assert convert_killed_then_rerun["files"] == ["out.gguf"]
