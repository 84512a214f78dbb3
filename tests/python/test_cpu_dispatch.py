"""Runtime CPU dispatch, end to end on the test model.

- Every kernel level this CPU supports, forced with LAMBDA_LLM_CPU, gives the portable
  path's exact logits and greedy tokens on F16, Q8_0, Q4_0 and Q4_1 files: the portable
  C keeps AVX2's floating-point order, and the AVX-512 levels keep it too (vpdpbusd
  forms the same exact integer sums). The verbose line names the level that ran.
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

from conftest import cpu_flags, missing

PROMPT = "The capital of France is"


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


def debug_logits(binary, model, tokens, level, positions=(), greedy=0, precision="fast"):
    env = dict(os.environ, LAMBDA_LLM_CPU=level)
    cmd = [str(binary), "debug-logits", "--model", str(model), "--threads", "1", "--tokens", ",".join(map(str, tokens)),
           "--greedy", str(greedy), "--precision", precision]
    if positions:
        cmd += ["--positions", ",".join(map(str, positions))]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def tokenize(binary, model, text):
    r = subprocess.run([str(binary), "tokenize", "--model", str(model), text], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def converted(lambda_llm_bin, smollm2_path, tmp_path_factory):
    """The test model (Q4_1) converted to the other types whose kernels share one order."""
    out = {}
    for kind in ("f16", "int8", "int4-sym"):
        path = tmp_path_factory.mktemp("dispatch") / f"smollm2-{kind}.gguf"
        subprocess.run([str(lambda_llm_bin), "convert", str(smollm2_path), "-o", str(path), "--type", kind],
                       check=True, capture_output=True)
        out[kind] = path
    return out


@pytest.mark.parametrize("kind,prompts,precision,greedy", [
    ("int4-asym", PROMPTS, "fast", 16), ("f16", PROMPTS, "fast", 16), ("int8", PROMPTS[:1], "fast", 16),
    ("int4-sym", PROMPTS[:1], "fast", 16), ("int4-asym", PROMPTS[:1], "exact", 4)])
def test_every_level_gives_the_portable_paths_exact_logits_and_tokens(lambda_llm_bin, smollm2_path, converted, kind,
                                                                      prompts, precision, greedy):
    """Q4_1 (the test model), F16, Q8_0 and Q4_0 on the default fast path (8-bit
    activations, F16 KV cache), and Q4_1 on the exact path (float activations, F32
    cache): every level's logits at every prompt position and its greedy tokens equal
    the portable path's exactly. The kernels and the vector helpers keep one
    floating-point order on every level (ck_check asserts it kernel by kernel, and that
    the arm64 build's portable bits are the x86_64 build's)."""
    model = smollm2_path if kind == "int4-asym" else converted[kind]
    levels = supported_levels()
    if len(levels) < 2:
        pytest.skip("this CPU has only the portable level")
    for prompt in prompts:
        ids = tokenize(lambda_llm_bin, model, prompt)
        positions = list(range(len(ids)))
        base = debug_logits(lambda_llm_bin, model, ids, "generic", positions, greedy, precision)
        for level in levels[1:]:
            other = debug_logits(lambda_llm_bin, model, ids, level, positions, greedy, precision)
            where = f"{level} on {kind} ({precision}), {prompt!r}"
            assert other["greedy"] == base["greedy"], where
            for p in map(str, positions):
                assert other["logits"][p] == base["logits"][p], f"{where}, position {p}"


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
