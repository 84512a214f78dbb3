"""Guards the numpy oracle (tools/reference/llama_reference.py) itself.

A tiny random-weight F32 GGUF (2 layers, GQA, partial RoPE) exercises the
reader and forward pass; a deliberately naive per-position implementation
(complex-number RoPE, explicit loops over heads) written here checks the
vectorised one; KV-cache decoding must equal full recomputation. On the real
SmolLM2 file, the oracle must answer a factual chat prompt correctly, which
breaks if the RoPE pairing or Q/K layout were wrong.
"""
import numpy as np
import pytest

import gguf
from gguf.quants import dequantize, quantize
from gguf_bpe import GGUFBPE
from llama_reference import LlamaReference

VOCAB, DIM, LAYERS, HEADS, KV_HEADS, FFN, ROT = 64, 64, 2, 4, 2, 128, 8
HEAD_DIM = DIM // HEADS
Q8_0 = gguf.GGMLQuantizationType.Q8_0
EPS, BASE = 1e-5, 10000.0


def write_tiny_model(path, tied=True, q8_0=False, rng_seed=7):
    """Writes the model; returns its weights as the file holds them (float64).

    q8_0 stores every layer matrix as Q8_0 blocks (quantized by `gguf`)."""
    rng = np.random.default_rng(rng_seed)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(LAYERS)
    writer.add_context_length(128)
    writer.add_embedding_length(DIM)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_layer_norm_rms_eps(EPS)
    writer.add_rope_freq_base(BASE)
    writer.add_rope_dimension_count(ROT)
    weights = {}

    def tensor(name, *shape, scale=None):
        scale = scale if scale is not None else 1.0 / np.sqrt(shape[-1])
        value = (rng.standard_normal(shape) * scale).astype(np.float32)
        if q8_0 and name.startswith("blk."):
            blocks = quantize(value, Q8_0)
            weights[name] = dequantize(blocks, Q8_0)
            writer.add_tensor(name, blocks, raw_dtype=Q8_0)
        else:
            weights[name] = value
            writer.add_tensor(name, value)

    tensor("token_embd.weight", VOCAB, DIM, scale=1.0)
    for i in range(LAYERS):
        p = f"blk.{i}."
        weights[p + "attn_norm.weight"] = (1 + 0.1 * rng.standard_normal(DIM)).astype(np.float32)
        writer.add_tensor(p + "attn_norm.weight", weights[p + "attn_norm.weight"])
        tensor(p + "attn_q.weight", HEADS * HEAD_DIM, DIM)
        tensor(p + "attn_k.weight", KV_HEADS * HEAD_DIM, DIM)
        tensor(p + "attn_v.weight", KV_HEADS * HEAD_DIM, DIM)
        tensor(p + "attn_output.weight", DIM, HEADS * HEAD_DIM)
        weights[p + "ffn_norm.weight"] = (1 + 0.1 * rng.standard_normal(DIM)).astype(np.float32)
        writer.add_tensor(p + "ffn_norm.weight", weights[p + "ffn_norm.weight"])
        tensor(p + "ffn_gate.weight", FFN, DIM)
        tensor(p + "ffn_up.weight", FFN, DIM)
        tensor(p + "ffn_down.weight", DIM, FFN)
    weights["output_norm.weight"] = np.ones(DIM, dtype=np.float32)
    writer.add_tensor("output_norm.weight", weights["output_norm.weight"])
    if not tied:
        writer.add_tensor("output.weight", weights["token_embd.weight"].copy())
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return {k: v.astype(np.float64) for k, v in weights.items()}


def naive_logits(w, tokens):
    """Position-by-position forward pass, written independently of the oracle."""
    def rms(x, g):
        return x / np.sqrt((x * x).mean() + EPS) * g

    def rope(vec, pos):
        out = vec.copy()
        for i in range(ROT // 2):
            z = complex(vec[2 * i], vec[2 * i + 1]) * np.exp(1j * pos * BASE ** (-2 * i / ROT))
            out[2 * i], out[2 * i + 1] = z.real, z.imag
        return out

    keys = [[] for _ in range(LAYERS)]
    vals = [[] for _ in range(LAYERS)]
    logits = []
    for pos, tok in enumerate(tokens):
        x = w["token_embd.weight"][tok].copy()
        for li in range(LAYERS):
            p = f"blk.{li}."
            h = rms(x, w[p + "attn_norm.weight"])
            q, k, v = (w[p + n + ".weight"] @ h for n in ("attn_q", "attn_k", "attn_v"))
            keys[li].append([rope(k[j * HEAD_DIM:(j + 1) * HEAD_DIM], pos) for j in range(KV_HEADS)])
            vals[li].append([v[j * HEAD_DIM:(j + 1) * HEAD_DIM] for j in range(KV_HEADS)])
            heads = []
            for hi in range(HEADS):
                kv = hi // (HEADS // KV_HEADS)
                qh = rope(q[hi * HEAD_DIM:(hi + 1) * HEAD_DIM], pos)
                s = np.array([qh @ keys[li][t][kv] for t in range(pos + 1)]) / np.sqrt(HEAD_DIM)
                a = np.exp(s - s.max())
                a /= a.sum()
                heads.append(sum(a[t] * vals[li][t][kv] for t in range(pos + 1)))
            x = x + w[p + "attn_output.weight"] @ np.concatenate(heads)
            h = rms(x, w[p + "ffn_norm.weight"])
            g, u = w[p + "ffn_gate.weight"] @ h, w[p + "ffn_up.weight"] @ h
            x = x + w[p + "ffn_down.weight"] @ (g / (1 + np.exp(-g)) * u)
        logits.append(w["token_embd.weight"] @ rms(x, w["output_norm.weight"]))
    return np.array(logits)


TOKENS = [3, 17, 42, 5, 63, 0, 9, 9, 28, 51, 12, 7]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "tiny-llama-f32.gguf"
    weights = write_tiny_model(path)
    return path, weights


def test_tiny_model_gives_finite_logits_of_vocab_width(tiny):
    model = LlamaReference(str(tiny[0]))
    logits = model.forward(TOKENS)
    assert logits.shape == (len(TOKENS), VOCAB)
    assert np.isfinite(logits).all()
    assert logits.std() > 0.1  # not a degenerate constant


def test_vectorised_forward_equals_naive_per_position_loop(tiny):
    path, weights = tiny
    ours = LlamaReference(str(path)).forward(TOKENS)
    np.testing.assert_allclose(ours, naive_logits(weights, TOKENS), rtol=0, atol=1e-9)


def test_kv_cache_decoding_equals_full_recompute(tiny):
    model = LlamaReference(str(tiny[0]))
    full = model.forward(TOKENS)
    model.reset()
    pieces = [model.forward(TOKENS[:5])]
    pieces += [model.forward([t]) for t in TOKENS[5:]]
    np.testing.assert_allclose(np.concatenate(pieces), full, rtol=0, atol=1e-10)


def test_greedy_run_matches_argmax_of_recomputed_logits(tiny):
    model = LlamaReference(str(tiny[0]))
    result = model.run(TOKENS, positions=[0, len(TOKENS) - 1], greedy=4)
    sequence = list(TOKENS)
    for expected in result["greedy"]:
        model.reset()
        assert int(np.argmax(model.forward(sequence)[-1])) == expected
        sequence.append(expected)
    assert set(result["logits"]) == {"0", str(len(TOKENS) - 1)}


def test_explicit_output_tensor_equals_tied_embeddings(tiny, tmp_path):
    untied = tmp_path / "untied.gguf"
    write_tiny_model(untied, tied=False)
    tied_logits = LlamaReference(str(tiny[0])).forward(TOKENS)
    np.testing.assert_array_equal(LlamaReference(str(untied)).forward(TOKENS), tied_logits)


def test_q8_0_weights_are_dequantized_exactly_as_written(tmp_path):
    path = tmp_path / "tiny-q8_0.gguf"
    weights = write_tiny_model(path, q8_0=True)
    np.testing.assert_allclose(LlamaReference(str(path)).forward(TOKENS), naive_logits(weights, TOKENS),
                               rtol=0, atol=1e-9)


def test_q8_activation_mode_perturbs_only_quantized_matmuls_and_only_slightly(tiny, tmp_path):
    exact = LlamaReference(str(tiny[0])).forward(TOKENS)
    # F32 weights take the float path, so the mode changes nothing there.
    np.testing.assert_array_equal(LlamaReference(str(tiny[0]), q8_activations=True).forward(TOKENS), exact)
    path = tmp_path / "tiny-q8_0.gguf"
    write_tiny_model(path, q8_0=True)
    float_logits = LlamaReference(str(path)).forward(TOKENS)
    q8_logits = LlamaReference(str(path), q8_activations=True).forward(TOKENS)
    relative = np.abs(q8_logits - float_logits).max() / np.abs(float_logits).max()
    assert 0 < relative < 2e-2


CHAT = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
CHAT_IDS = [1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]


def test_smollm2_reference_answers_paris(smollm2_path):
    assert GGUFBPE(str(smollm2_path)).encode(CHAT) == CHAT_IDS
    result = LlamaReference(str(smollm2_path)).run(CHAT_IDS, positions=[], greedy=8)
    answer = GGUFBPE(str(smollm2_path)).decode(result["greedy"])
    assert "Paris" in answer, answer
