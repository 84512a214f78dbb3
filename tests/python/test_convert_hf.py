"""`lambda-llm convert` on a tiny random Hugging Face Llama checkpoint.

The checkpoint is written here with numpy + the `safetensors` package (HF
layout: [out, in] Linear weights, rotate-half RoPE on unpermuted Q/K), and an
independent numpy forward pass in HF's own convention is the reference: it
checks the Q/K permutation, the tensor mapping and the metadata at once.
"""
import json
import subprocess

import numpy as np
import pytest

safetensors_numpy = pytest.importorskip("safetensors.numpy")

DIM, LAYERS, HEADS, KV_HEADS, FFN, CTX = 64, 2, 4, 2, 128, 128
HEAD_DIM = DIM // HEADS
EPS, THETA = 1e-5, 10000.0
TOKENS = [1, 415, 2936, 9060, 285, 1142, 10575, 754, 272, 17898, 3914, 28723, 13, 851, 349, 264]


def write_checkpoint(directory, spm_model, vocab, tied=False, seed=0):
    rng = np.random.default_rng(seed)

    def w(*shape, scale=0.1):
        return (rng.standard_normal(shape) * scale).astype(np.float16)

    tensors = {"model.embed_tokens.weight": w(vocab, DIM, scale=1.0), "model.norm.weight": (1 + w(DIM, scale=0.1))}
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        tensors.update({
            p + "input_layernorm.weight": 1 + w(DIM),
            p + "self_attn.q_proj.weight": w(HEADS * HEAD_DIM, DIM),
            p + "self_attn.k_proj.weight": w(KV_HEADS * HEAD_DIM, DIM),
            p + "self_attn.v_proj.weight": w(KV_HEADS * HEAD_DIM, DIM),
            p + "self_attn.o_proj.weight": w(DIM, HEADS * HEAD_DIM),
            p + "post_attention_layernorm.weight": 1 + w(DIM),
            p + "mlp.gate_proj.weight": w(FFN, DIM),
            p + "mlp.up_proj.weight": w(FFN, DIM),
            p + "mlp.down_proj.weight": w(DIM, FFN),
        })
    if not tied:
        tensors["lm_head.weight"] = w(vocab, DIM)
    safetensors_numpy.save_file(tensors, str(directory / "model.safetensors"))
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": DIM,
        "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS,
        "intermediate_size": FFN, "vocab_size": vocab, "max_position_embeddings": CTX,
        "rms_norm_eps": EPS, "rope_theta": THETA, "tie_word_embeddings": tied, "torch_dtype": "float16",
        "bos_token_id": 1, "eos_token_id": 2,
    }
    (directory / "config.json").write_text(json.dumps(config))
    (directory / "tokenizer.model").write_bytes(spm_model.read_bytes())
    return {k: v.astype(np.float64) for k, v in tensors.items()}


def hf_forward(t, tokens, tied=False):
    """Logits of every position, float64, in Hugging Face's own convention."""
    def rms(x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + EPS) * w

    n = len(tokens)
    inv = THETA ** (-np.arange(0, HEAD_DIM, 2) / HEAD_DIM)
    ang = np.arange(n)[:, None] * inv[None, :]
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))

    def rope(x):  # x: (heads, n, head_dim), rotate_half as in transformers
        half = HEAD_DIM // 2
        rotated = np.concatenate([-x[..., half:], x[..., :half]], -1)
        return x * cos + rotated * sin

    x = t["model.embed_tokens.weight"][tokens]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        h = rms(x, t[p + "input_layernorm.weight"])
        q = (h @ t[p + "self_attn.q_proj.weight"].T).reshape(n, HEADS, HEAD_DIM).transpose(1, 0, 2)
        k = (h @ t[p + "self_attn.k_proj.weight"].T).reshape(n, KV_HEADS, HEAD_DIM).transpose(1, 0, 2)
        v = (h @ t[p + "self_attn.v_proj.weight"].T).reshape(n, KV_HEADS, HEAD_DIM).transpose(1, 0, 2)
        q, k = rope(q), rope(k)
        k = np.repeat(k, HEADS // KV_HEADS, axis=0)
        v = np.repeat(v, HEADS // KV_HEADS, axis=0)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(HEAD_DIM) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(n, DIM)
        x = x + a @ t[p + "self_attn.o_proj.weight"].T
        h = rms(x, t[p + "post_attention_layernorm.weight"])
        g = h @ t[p + "mlp.gate_proj.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ t[p + "mlp.up_proj.weight"].T)) @ t[p + "mlp.down_proj.weight"].T
    head = t["model.embed_tokens.weight"] if tied else t["lm_head.weight"]
    return rms(x, t["model.norm.weight"]) @ head.T


@pytest.fixture(scope="module")
def spm_model(cache_dir):
    path = cache_dir / "sentencepiece" / "mistral-tokenizer.model.v1"
    if not path.is_file():
        from conftest import missing
        missing(f"SentencePiece model {path}")
    return path


def run(bin_path, *args):
    return subprocess.run([str(bin_path), *map(str, args)], capture_output=True, text=True, timeout=300)


def our_logits(bin_path, model, precision="exact"):
    r = run(bin_path, "debug-logits", "--model", model, "--tokens", ",".join(map(str, TOKENS)),
            "--positions", ",".join(str(i) for i in range(len(TOKENS))), "--precision", precision, "--threads", "2")
    assert r.returncode == 0, r.stderr
    logits = json.loads(r.stdout)["logits"]
    return np.array([logits[str(i)] for i in range(len(TOKENS))], dtype=np.float64)


def relative_error(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.mark.parametrize("tied", [False, True])
def test_f32_and_f16_conversions_match_the_hf_reference(tmp_path, lambda_llm_bin, spm_model, tied):
    hf = tmp_path / "hf"
    hf.mkdir()
    weights = write_checkpoint(hf, spm_model, vocab=32000, tied=tied)
    reference = hf_forward(weights, TOKENS, tied=tied)
    for kind, tolerance in (("f32", 1e-5), ("f16", 1e-5)):  # F16 checkpoint: f16 is lossless too
        out = tmp_path / f"tiny-{kind}.gguf"
        r = run(lambda_llm_bin, "convert", hf, "-o", out, "--type", kind)
        assert r.returncode == 0, r.stderr
        ours = our_logits(lambda_llm_bin, out)
        assert relative_error(ours, reference) < tolerance, kind
        assert (ours.argmax(-1) == reference.argmax(-1)).all(), kind


def test_quantized_conversions_stay_close_to_f16(tmp_path, lambda_llm_bin, spm_model):
    hf = tmp_path / "hf"
    hf.mkdir()
    weights = write_checkpoint(hf, spm_model, vocab=32000)
    reference = hf_forward(weights, TOKENS)
    errors = {}
    for kind in ("int8", "int4-sym", "int4-asym"):
        out = tmp_path / f"tiny-{kind}.gguf"
        r = run(lambda_llm_bin, "convert", hf, "-o", out, "--type", kind)
        assert r.returncode == 0, r.stderr
        errors[kind] = relative_error(our_logits(lambda_llm_bin, out), reference)
    # Max relative logit error against the float64 reference, measured on this
    # checkpoint: int8 1.1e-2, int4-sym 1.1e-1, int4-asym 8.8e-2. Bounds leave ~2x.
    assert errors["int8"] < 2.5e-2, errors
    assert errors["int4-sym"] < 2.5e-1 and errors["int4-asym"] < 2.5e-1, errors
    assert errors["int8"] < errors["int4-sym"] and errors["int8"] < errors["int4-asym"], errors


def test_default_policy_keeps_embedding_and_head_at_8_bits(tmp_path, lambda_llm_bin, spm_model):
    hf = tmp_path / "hf"
    hf.mkdir()
    write_checkpoint(hf, spm_model, vocab=32000)
    for flags, expected in (((), "Q8_0"), (("--all-layers",), "Q4_0")):
        out = tmp_path / "tiny.gguf"
        r = run(lambda_llm_bin, "convert", hf, "-o", out, "--type", "int4-sym", *flags)
        assert r.returncode == 0, r.stderr
        listing = run(lambda_llm_bin, "inspect", out, "--tensors").stdout
        types = {line.split()[0]: line.split()[1] for line in listing.splitlines() if line.startswith("  ")}
        assert types["token_embd.weight"] == expected and types["output.weight"] == expected
        assert types["blk.0.attn_q.weight"] == "Q4_0"
        assert types["blk.0.attn_norm.weight"] == "F32"


def test_pickle_checkpoints_are_refused_with_the_reason(tmp_path, lambda_llm_bin):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
        "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100}))
    (tmp_path / "pytorch_model.bin").write_bytes(b"not really a pickle")
    r = run(lambda_llm_bin, "convert", tmp_path, "-o", tmp_path / "out.gguf", "--type", "f16")
    assert r.returncode != 0
    assert "pickle" in r.stderr.lower() and "safetensors" in r.stderr.lower()
    assert not (tmp_path / "out.gguf").exists()


def test_missing_tensor_is_named_and_no_output_is_left(tmp_path, lambda_llm_bin, spm_model):
    hf = tmp_path / "hf"
    hf.mkdir()
    write_checkpoint(hf, spm_model, vocab=32000)
    tensors = safetensors_numpy.load_file(str(hf / "model.safetensors"))
    del tensors["model.layers.1.mlp.up_proj.weight"]
    safetensors_numpy.save_file(tensors, str(hf / "model.safetensors"))
    out = tmp_path / "out.gguf"
    r = run(lambda_llm_bin, "convert", hf, "-o", out, "--type", "int8")
    assert r.returncode != 0
    assert "model.layers.1.mlp.up_proj.weight" in r.stderr
    assert not out.exists()


def test_synthetic_model_converts_runs_and_stays_marked_synthetic(tmp_path, lambda_llm_bin, cache_dir):
    if not (cache_dir / "vocab" / "ggml-vocab-llama-spm.gguf").is_file():
        from conftest import missing
        missing("vocab ggml-vocab-llama-spm.gguf")
    r = run(lambda_llm_bin, "synthesize", "--preset", "tiny", "-o", tmp_path / "synth")
    assert r.returncode == 0, r.stderr
    assert "synthetic weights" in r.stdout + r.stderr
    out = tmp_path / "tiny-q4.gguf"
    r = run(lambda_llm_bin, "convert", tmp_path / "synth", "-o", out, "--type", "int4-sym")
    assert r.returncode == 0, r.stderr
    assert "synthetic weights: accuracy not meaningful" in run(lambda_llm_bin, "inspect", out).stdout
    # The real Llama-2 vocabulary came along: SentencePiece with BOS first.
    ids = json.loads(run(lambda_llm_bin, "tokenize", "--model", out, "Hello world").stdout)
    assert ids == [1, 15043, 3186]
    r = run(lambda_llm_bin, "generate", "--model", out, "--prompt", "Hello", "--max-tokens", "4",
            "--temperature", "0", "--ignore-eos")
    assert r.returncode == 0, r.stderr
