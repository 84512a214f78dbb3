#!/usr/bin/env python3
"""Independent numpy Llama forward pass over a GGUF file (test oracle only).

Written from the model definition, not from the Swift engine, so the two can
check each other. Weights are dequantized with the PyPI `gguf` package and all
arithmetic runs in float64: the oracle's own rounding error is negligible next
to the engine's 8-bit activation quantization, so any mismatch is the engine's.

RoPE: llama.cpp's HF converter permutes the rows of attn_q/attn_k so that the
rotation applies to adjacent pairs (x[2i], x[2i+1]) -- ggml's "normal" rope
mode (LLAMA_ROPE_TYPE_NORM), which is what llama.cpp uses for the llama
architecture. Dimensions past rope.dimension_count pass through unrotated.

CLI:
  llama_reference.py --model M.gguf --tokens 1,2,3 [--positions 0,2]
                     [--greedy N] [--json OUT]
prints {"logits": {"<pos>": [...]}, "greedy": [...]} (also written to OUT).
"""
import argparse
import json
import sys
import time

import numpy as np

try:
    import gguf
    from gguf.quants import dequantize
except ImportError:  # pragma: no cover - message for people running it by hand
    sys.exit("llama_reference: needs the PyPI 'gguf' package (pip install gguf numpy)")


class ReferenceError(Exception):
    pass


def _field(reader, key, default=None):
    field = reader.fields.get(key)
    if field is None:
        return default
    value = field.contents()
    return value


class LlamaReference:
    """A float64 Llama decoder with an explicit KV cache."""

    def __init__(self, path, q8_activations=False):
        """q8_activations: round each activation vector to Q8 blocks (32 values,
        scale amax/127 stored as f16) before every product with a quantized
        weight, as ggml's integer dot products do. Off by default (pure float64);
        on, it estimates how far a faithful integer-dot engine may drift."""
        self.q8_activations = q8_activations
        self.quantized = set()  # names of weights stored quantized in the file
        reader = gguf.GGUFReader(path)
        self.path = path
        arch = _field(reader, "general.architecture", "llama")
        self.arch = arch

        def meta(name, default=None, required=False):
            value = _field(reader, f"{arch}.{name}", default)
            if value is None and required:
                raise ReferenceError(f"{path}: missing metadata {arch}.{name}")
            return value

        self.n_embd = int(meta("embedding_length", required=True))
        self.n_layer = int(meta("block_count", required=True))
        self.n_head = int(meta("attention.head_count", required=True))
        self.n_head_kv = int(meta("attention.head_count_kv", self.n_head))
        self.head_dim = int(meta("attention.key_length", self.n_embd // self.n_head))
        self.eps = float(meta("attention.layer_norm_rms_epsilon", 1e-5))
        self.freq_base = float(meta("rope.freq_base", 10000.0))
        self.n_rot = int(meta("rope.dimension_count", self.head_dim))
        scaling = meta("rope.scaling.type", "none")
        factor = float(meta("rope.scaling.factor", 1.0) or 1.0)
        if scaling == "linear":
            self.freq_scale = 1.0 / factor
        elif scaling in ("none", None) or factor == 1.0:
            self.freq_scale = 1.0
        else:
            raise ReferenceError(f"{path}: rope scaling '{scaling}' is not implemented by the reference")
        if self.n_head % self.n_head_kv:
            raise ReferenceError(f"{path}: head_count {self.n_head} not a multiple of head_count_kv {self.n_head_kv}")
        if self.n_rot % 2 or self.n_rot > self.head_dim:
            raise ReferenceError(f"{path}: rope.dimension_count {self.n_rot} invalid for head size {self.head_dim}")

        tensors = {t.name: t for t in reader.tensors}

        def weight(name, required=True):
            t = tensors.get(name)
            if t is None:
                if required:
                    raise ReferenceError(f"{path}: missing tensor {name}")
                return None
            if t.tensor_type not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16,
                                     gguf.GGMLQuantizationType.F64):
                self.quantized.add(name)
            values = dequantize(t.data, t.tensor_type)
            # GGUF lists dims innermost first; numpy wants them outermost first.
            shape = tuple(int(d) for d in reversed(t.shape))
            return np.ascontiguousarray(values.reshape(shape), dtype=np.float64)

        self.token_embd = weight("token_embd.weight")
        self.vocab = self.token_embd.shape[0]
        self.output_norm = weight("output_norm.weight")
        self.output = weight("output.weight", required=False)
        self.output_quantized = "output.weight" in self.quantized
        if self.output is None:
            self.output = self.token_embd  # tied embeddings
            self.output_quantized = "token_embd.weight" in self.quantized
        freq_factors = weight("rope_freqs.weight", required=False)
        self.layers = []
        for i in range(self.n_layer):
            p = f"blk.{i}."
            layer = {name: weight(p + name + ".weight") for name in (
                "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")}
            layer["quantized"] = {n for n in layer if p + n + ".weight" in self.quantized}
            self.layers.append(layer)
        q_rows = self.layers[0]["attn_q"].shape[0]
        k_rows = self.layers[0]["attn_k"].shape[0]
        if q_rows != self.n_head * self.head_dim or k_rows != self.n_head_kv * self.head_dim:
            raise ReferenceError(f"{path}: attn_q/attn_k rows {q_rows}/{k_rows} disagree with head counts")

        # theta_i = pos * freq_scale * base^(-2i/n_rot) / freq_factor_i
        inv_freq = self.freq_base ** (-np.arange(0, self.n_rot, 2, dtype=np.float64) / self.n_rot)
        if freq_factors is not None:
            inv_freq = inv_freq / freq_factors.astype(np.float64)[: self.n_rot // 2]
        self.inv_freq = inv_freq * self.freq_scale
        self.reset()

    def reset(self):
        """Forgets the KV cache."""
        self.cache_k = [np.zeros((self.n_head_kv, 0, self.head_dim)) for _ in range(self.n_layer)]
        self.cache_v = [np.zeros((self.n_head_kv, 0, self.head_dim)) for _ in range(self.n_layer)]

    @property
    def n_past(self):
        return self.cache_k[0].shape[1]

    def _rms_norm(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def _matmul(self, x, w, quantized):
        """x (n, k) times w (m, k) transposed."""
        if self.q8_activations and quantized and x.shape[-1] % 32 == 0:
            blocks = x.reshape(x.shape[0], -1, 32)
            amax = np.abs(blocks).max(axis=-1, keepdims=True)
            d = (amax / 127.0).astype(np.float16).astype(np.float64)
            inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
            q = np.clip(np.round(blocks * inv), -127, 127)
            x = (q * d).reshape(x.shape)
        return x @ w.T

    def _rope(self, x, positions):
        """x: (heads, n, head_dim); rotates adjacent pairs of the first n_rot dims."""
        angles = positions[:, None].astype(np.float64) * self.inv_freq[None, :]  # (n, n_rot/2)
        cos, sin = np.cos(angles), np.sin(angles)
        out = x.copy()
        x0 = x[..., 0:self.n_rot:2]
        x1 = x[..., 1:self.n_rot:2]
        out[..., 0:self.n_rot:2] = x0 * cos - x1 * sin
        out[..., 1:self.n_rot:2] = x0 * sin + x1 * cos
        return out

    def forward(self, tokens):
        """Appends `tokens` after the cached ones; returns their logits (n, vocab)."""
        tokens = np.asarray(tokens, dtype=np.int64)
        if tokens.ndim != 1 or len(tokens) == 0:
            raise ReferenceError("forward needs a non-empty 1-D token list")
        if tokens.min() < 0 or tokens.max() >= self.vocab:
            raise ReferenceError(f"token id out of range 0..<{self.vocab}")
        n, start = len(tokens), self.n_past
        positions = np.arange(start, start + n)
        total = start + n
        group = self.n_head // self.n_head_kv
        scale = 1.0 / np.sqrt(self.head_dim)
        # Query i (absolute position start+i) may see keys at positions <= start+i.
        mask = np.where(np.arange(total)[None, :] <= positions[:, None], 0.0, -np.inf)

        x = self.token_embd[tokens]
        for li, layer in enumerate(self.layers):
            def mm(a, name):
                return self._matmul(a, layer[name], name in layer["quantized"])
            h = self._rms_norm(x, layer["attn_norm"])
            q = mm(h, "attn_q").reshape(n, self.n_head, self.head_dim).transpose(1, 0, 2)
            k = mm(h, "attn_k").reshape(n, self.n_head_kv, self.head_dim).transpose(1, 0, 2)
            v = mm(h, "attn_v").reshape(n, self.n_head_kv, self.head_dim).transpose(1, 0, 2)
            q = self._rope(q, positions)
            k = self._rope(k, positions)
            self.cache_k[li] = np.concatenate([self.cache_k[li], k], axis=1)
            self.cache_v[li] = np.concatenate([self.cache_v[li], v], axis=1)
            keys = np.repeat(self.cache_k[li], group, axis=0)    # (n_head, total, hd)
            values = np.repeat(self.cache_v[li], group, axis=0)
            scores = q @ keys.transpose(0, 2, 1) * scale + mask   # (n_head, n, total)
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            attn = (probs @ values).transpose(1, 0, 2).reshape(n, self.n_head * self.head_dim)
            x = x + mm(attn, "attn_output")

            h = self._rms_norm(x, layer["ffn_norm"])
            gate = mm(h, "ffn_gate")
            up = mm(h, "ffn_up")
            x = x + mm(gate / (1.0 + np.exp(-gate)) * up, "ffn_down")

        return self._matmul(self._rms_norm(x, self.output_norm), self.output, self.output_quantized)

    def run(self, tokens, positions=None, greedy=0):
        """Logits at `positions` of the prompt plus `greedy` argmax continuations."""
        positions = list(range(len(tokens))) if positions is None else list(positions)
        for p in positions:
            if not 0 <= p < len(tokens):
                raise ReferenceError(f"position {p} outside the {len(tokens)}-token prompt")
        self.reset()
        logits = self.forward(tokens)
        # Per greedy step, the runner-up and its distance to the winner: a near-tie
        # is where a rounding difference may legitimately choose the other token.
        result = {"logits": {str(p): logits[p].tolist() for p in positions}, "greedy": [],
                  "greedy_runner_up": [], "greedy_margin": []}
        last = logits[-1]
        for step in range(greedy):
            first, second = (int(i) for i in np.argsort(-last)[:2])
            token = first
            result["greedy"].append(token)
            result["greedy_runner_up"].append(second)
            result["greedy_margin"].append(float(last[first] - last[second]))
            if step + 1 < greedy:
                last = self.forward([token])[-1]
        return result


def _int_list(text):
    try:
        return [int(v) for v in text.split(",") if v.strip() != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="GGUF file (llama architecture)")
    parser.add_argument("--tokens", required=True, type=_int_list, help="comma-separated prompt token ids")
    parser.add_argument("--positions", type=_int_list, help="prompt positions whose logits to report (default: all)")
    parser.add_argument("--greedy", type=int, default=0, help="argmax tokens to generate after the prompt")
    parser.add_argument("--json", help="also write the JSON result to this file")
    parser.add_argument("--q8-activations", action="store_true",
                        help="mimic ggml: round activations to Q8 blocks before quantized matmuls")
    args = parser.parse_args(argv)
    try:
        started = time.perf_counter()
        model = LlamaReference(args.model, q8_activations=args.q8_activations)
        loaded = time.perf_counter()
        result = model.run(args.tokens, args.positions, args.greedy)
        done = time.perf_counter()
    except (ReferenceError, OSError, ValueError) as exc:
        sys.exit(f"llama_reference: {exc}")
    print(f"llama_reference: load {loaded - started:.1f}s, forward+greedy {done - loaded:.1f}s",
          file=sys.stderr)
    text = json.dumps(result)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
