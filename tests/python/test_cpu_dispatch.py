"""Runtime CPU dispatch, end to end on the test model.

- Every kernel level this CPU supports, forced with LAMBDA_LLM_CPU, gives the same
  greedy tokens as the portable path except where float summation order decides a
  near-tie, and the verbose line names the level that ran.
- On x86, the levels above AVX2 run AVX2's code for F16 and the 32-block types
  (vpdpbusd forms the same exact integer sums), so they give AVX2's bits: identical
  logits and greedy tokens.
- The release binary, run under qemu-user emulating CPUs without AVX-512 (Haswell:
  AVX2+FMA+F16C) and without AVX at all (Nehalem), picks the level that CPU has and
  answers the same text: no illegal instruction on older x86_64 hosts, whatever the
  build machine had.
"""
import json
import os
import shutil
import subprocess

import pytest

from conftest import missing

PROMPT = "The capital of France is"


def cpu_flags():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def supported_levels():
    flags = cpu_flags()
    levels = ["generic"]
    if {"avx2", "fma", "f16c"} <= flags:
        levels.append("avx2")
        if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
            levels.append("avx512")
            if "avx512_vnni" in flags:
                levels.append("avx512vnni")
    return levels


def generate(binary, model, tokens, level=None, wrapper=(), prompt=PROMPT, timeout=300):
    env = dict(os.environ)
    env.pop("LAMBDA_LLM_CPU", None)
    if level:
        env["LAMBDA_LLM_CPU"] = level
    cmd = [*wrapper, str(binary), "generate", "--model", str(model), "--prompt", prompt, "--max-tokens", str(tokens),
           "--temperature", "0", "--ignore-eos", "--threads", "1", "--verbose"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}: {r.stderr[-2000:]}"
    return r.stdout, r.stderr


def kernels_named(stderr):
    line = next((l for l in stderr.splitlines() if " kernels, " in l), "")
    return line.split(" kernels, ")[0].split()[-1] if line else None


PROMPTS = [PROMPT, "It is a truth universally acknowledged, that", "def fibonacci(n):"]
# Without 8-bit activations (F16 weights) levels differ only in float summation order
# and FMA: logits move by ~1e-5 relative, and greedy paths may part only where the
# two best tokens are this close. That holds with an F32 KV cache; the fast path's
# default F16 cache can round a last-bit difference to the neighbouring half (5e-4
# relative), which moved these logits by 1e-3 to 5e-3.
NEAR_TIE_LOGITS = 0.01


def debug_logits(binary, model, tokens, level, positions=(), greedy=0, precision="fast", kv_cache=None):
    env = dict(os.environ, LAMBDA_LLM_CPU=level)
    cmd = [str(binary), "debug-logits", "--model", str(model), "--threads", "1", "--tokens", ",".join(map(str, tokens)),
           "--greedy", str(greedy), "--precision", precision]
    if kv_cache:
        cmd += ["--kv-cache", kv_cache]
    if positions:
        cmd += ["--positions", ",".join(map(str, positions))]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def tokenize(binary, model, text):
    r = subprocess.run([str(binary), "tokenize", "--model", str(model), text], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def max_diff(a, b):
    return max(abs(x - y) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def smollm2_f16(lambda_llm_bin, smollm2_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("dispatch") / "smollm2-f16.gguf"
    subprocess.run([str(lambda_llm_bin), "convert", str(smollm2_path), "-o", str(out), "--type", "f16"],
                   check=True, capture_output=True)
    return out


def test_float_weights_give_the_same_greedy_tokens_on_every_level_but_at_near_ties(lambda_llm_bin, smollm2_f16):
    """F16 SmolLM2 with an F32 KV cache, 32 greedy tokens of three prompts on every level: equal to the
    portable path's, or parting only at a step where the portable path's top two
    logits are within NEAR_TIE_LOGITS (and the two picks are exactly those two);
    logits at the prompt's end agree to 1e-3."""
    for prompt in PROMPTS:
        ids = tokenize(lambda_llm_bin, smollm2_f16, prompt)
        last = str(len(ids) - 1)
        base = debug_logits(lambda_llm_bin, smollm2_f16, ids, "generic", positions=[len(ids) - 1], greedy=32,
                            kv_cache="f32")
        for level in supported_levels()[1:]:
            other = debug_logits(lambda_llm_bin, smollm2_f16, ids, level, positions=[len(ids) - 1], greedy=32,
                                 kv_cache="f32")
            diff = max_diff(base["logits"][last], other["logits"][last])
            assert diff < 1e-3, f"{level}: logits differ from generic by {diff} on {prompt!r}"
            g, o = base["greedy"], other["greedy"]
            if g == o:
                continue
            i = next(k for k in range(len(g)) if g[k] != o[k])
            at = debug_logits(lambda_llm_bin, smollm2_f16, ids + g[:i], "generic", positions=[len(ids) + i - 1],
                              kv_cache="f32")
            logits = at["logits"][str(len(ids) + i - 1)]
            top = sorted(range(len(logits)), key=lambda t: -logits[t])[:2]
            margin = logits[top[0]] - logits[top[1]]
            assert {g[i], o[i]} == set(top) and margin < NEAR_TIE_LOGITS, \
                f"{level} parts from generic at step {i} of {prompt!r} with a margin of {margin} logits"


def test_quantized_levels_differ_from_each_other_no_more_than_from_exact_float_math(lambda_llm_bin, smollm2_path):
    """With 8-bit activations a last-bit float difference can round one activation the
    other way, and the flip travels through 30 layers: paths are not bit-identical
    (the closing note of the kernels issue says what that would take). What must hold:
    two levels differ from each other no more than each differs from float math."""
    ids = tokenize(lambda_llm_bin, smollm2_path, PROMPT)
    pos, last = [len(ids) - 1], str(len(ids) - 1)
    exact = debug_logits(lambda_llm_bin, smollm2_path, ids, supported_levels()[-1], positions=pos, precision="exact")
    exact = exact["logits"][last]
    fast = {l: debug_logits(lambda_llm_bin, smollm2_path, ids, l, positions=pos)["logits"][last] for l in supported_levels()}
    noise = max(max_diff(f, exact) for f in fast.values())
    assert noise < 5, f"the 8-bit path is {noise} logits from float math"
    for level, logits in fast.items():
        assert max_diff(logits, fast["generic"]) <= 1.5 * noise, level


def test_levels_above_avx2_give_avx2s_exact_logits_and_tokens(lambda_llm_bin, smollm2_path, smollm2_f16):
    """Q4_1 (the test model) and F16, default fast path: every AVX-512 level's logits at
    every prompt position and its 16 greedy tokens equal the AVX2 level's exactly."""
    above = [l for l in supported_levels() if l.startswith("avx512")]
    if not above:
        pytest.skip("this CPU has no AVX-512 level to compare with AVX2")
    for model in (smollm2_path, smollm2_f16):
        ids = tokenize(lambda_llm_bin, model, PROMPT)
        positions = list(range(len(ids)))
        base = debug_logits(lambda_llm_bin, model, ids, "avx2", positions=positions, greedy=16)
        for level in above:
            other = debug_logits(lambda_llm_bin, model, ids, level, positions=positions, greedy=16)
            assert other["greedy"] == base["greedy"], f"{level} on {model.name}"
            for p in map(str, positions):
                assert other["logits"][p] == base["logits"][p], f"{level} on {model.name}, position {p}"


def test_unforced_run_uses_the_best_level_and_says_so(lambda_llm_bin, smollm2_path):
    _, err = generate(lambda_llm_bin, smollm2_path, 1)
    assert kernels_named(err) == supported_levels()[-1], err


@pytest.mark.parametrize("cpu,level", [("Haswell", "avx2"), ("Nehalem", "generic")])
def test_binary_runs_under_an_emulated_older_cpu_and_picks_its_level(lambda_llm_bin, smollm2_path, cpu, level):
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        missing("qemu-x86_64 (Debian package qemu-user)")
    if os.uname().machine != "x86_64":
        pytest.skip("x86_64 emulation check")
    # AVX2 under qemu's TCG is slow (seconds per token): a short prompt and 3 tokens.
    out, err = generate(lambda_llm_bin, smollm2_path, 3, wrapper=(qemu, "-cpu", cpu), prompt="Paris is", timeout=600)
    assert kernels_named(err) == level, err
    native, _ = generate(lambda_llm_bin, smollm2_path, 3, level=level, prompt="Paris is")
    assert out == native
