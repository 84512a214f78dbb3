"""End-to-end checks of the `lambda-llm` command line on the real SmolLM2 model."""
import json
import subprocess

import pytest


def run(bin_path, *args, timeout=300):
    return subprocess.run([str(bin_path), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_chat_answers_capital_of_france_with_paris(lambda_llm_bin, smollm2_path):
    # Exact precision: float activations, as the numpy reference computes. With
    # ggml-style 8-bit activations (the default) this greedy answer sits on a
    # 0.09-logit margin and flips to "L'Etoile, la Marseillaise..." -- exactly what
    # llama.cpp prints for the same prompt -- so this check pins the exact path.
    r = run(lambda_llm_bin, "generate", "--model", smollm2_path, "--chat",
            "What is the capital of France?", "--temperature", "0", "--max-tokens", "48", "--precision", "exact")
    assert r.returncode == 0, r.stderr
    assert "Paris" in r.stdout


def test_chat_with_default_precision_answers_in_words(lambda_llm_bin, smollm2_path):
    r = run(lambda_llm_bin, "generate", "--model", smollm2_path, "--chat",
            "Name three colours.", "--temperature", "0", "--max-tokens", "32")
    assert r.returncode == 0, r.stderr
    assert sum(c.isalpha() for c in r.stdout) > 10
    assert "<|im_end|>" not in r.stdout


def test_greedy_generation_is_identical_with_one_and_two_threads(lambda_llm_bin, smollm2_path):
    outs = []
    for threads in (1, 2):
        r = run(lambda_llm_bin, "generate", "--model", smollm2_path, "--prompt", "The history of the Roman Empire",
                "--temperature", "0", "--max-tokens", "24", "--threads", threads)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert outs[0] == outs[1]
    assert len(outs[0].strip()) > 0


def test_seeded_sampling_is_reproducible(lambda_llm_bin, smollm2_path):
    args = ("generate", "--model", smollm2_path, "--prompt", "Once upon a time", "--temperature", "1.0",
            "--seed", "42", "--max-tokens", "24")
    a, b = run(lambda_llm_bin, *args), run(lambda_llm_bin, *args)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout


def test_stop_string_ends_output_before_it(lambda_llm_bin, smollm2_path):
    r = run(lambda_llm_bin, "generate", "--model", smollm2_path, "--prompt", "1, 2, 3, 4, 5,",
            "--temperature", "0", "--max-tokens", "40", "--stop", "9")
    assert r.returncode == 0, r.stderr
    assert "9" not in r.stdout
    assert "8" in r.stdout


def test_tokenize_prints_json_ids_with_special_tokens_parsed(lambda_llm_bin, smollm2_path):
    r = run(lambda_llm_bin, "tokenize", "--model", smollm2_path, "<|im_start|>user\nHello")
    assert r.returncode == 0, r.stderr
    ids = json.loads(r.stdout)
    assert ids[0] == 1  # <|im_start|> is token 1 in SmolLM2's vocabulary
    assert all(isinstance(i, int) for i in ids) and len(ids) >= 3


def test_inspect_describes_shapes_and_types(lambda_llm_bin, smollm2_path):
    r = run(lambda_llm_bin, "inspect", smollm2_path)
    assert r.returncode == 0, r.stderr
    assert "dim 576, 30 layers, 9 heads, 3 KV heads, FFN 1536, vocab 49152" in r.stdout
    assert "Q4_1 x210" in r.stdout and "Q8_0 x1" in r.stdout
    assert "gpt2, pre-tokenizer smollm" in r.stdout


def test_bench_json_reports_every_figure(lambda_llm_bin, smollm2_path):
    r = run(lambda_llm_bin, "bench", "--model", smollm2_path, "--prompt-tokens", "32", "--gen-tokens", "16",
            "--repetitions", "1", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    for key in ("loadSeconds", "timeToFirstTokenSeconds", "prefillTokensPerSecond", "decodeTokensPerSecond",
                "peakRSSBytes"):
        assert report[key] > 0, key
    # mmap, not copy: the whole process stays well under twice the 98 MB file.
    assert report["peakRSSBytes"] < 2 * 98_000_000 + 64_000_000


@pytest.mark.parametrize("args,needle", [
    (("generate", "--model", "/nonexistent/model.gguf", "--prompt", "hi"), "/nonexistent/model.gguf"),
    (("generate", "--model", "MODEL", "--prompt", "hi", "--context", "999999"), "context"),
    (("generate", "--model", "MODEL"), "--prompt"),
    (("generate", "--model", "MODEL", "--prompt", "hi", "--temperature", "-1"), "temperature"),
    (("inspect", "/etc/hostname"), "/etc/hostname"),
    (("bench", "--model", "MODEL", "--warmups", "11"), "--warmups"),
    (("generate", "--model", "MODEL", "--prompt", "hi", "--kv-cache", "f8"), "--kv-cache"),
])
def test_bad_input_gives_a_clear_error_and_nonzero_exit(lambda_llm_bin, smollm2_path, args, needle):
    args = [smollm2_path if a == "MODEL" else a for a in args]
    r = run(lambda_llm_bin, *args)
    assert r.returncode != 0
    assert needle in r.stderr
    assert "Fatal error" not in r.stderr and "Stack dump" not in r.stderr
