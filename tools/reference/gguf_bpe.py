#!/usr/bin/env python3
"""Minimal GPT-2 style byte-level BPE over a GGUF's vocab (test tooling only).

Used to produce fixed token ids for oracle tests. The pre-tokenizer is the
GPT-2 regex with digits split one by one (llama.cpp's "smollm"/"starcoder"
pre-tokenizers); Python's `re` has no \\p{L}, so letters are [^\\W\\d_], which
is exact for ASCII text -- keep prompts ASCII. Control tokens (<|im_start|>...)
written literally in the text are matched as single tokens.

CLI: gguf_bpe.py MODEL.gguf TEXT   -> JSON array of ids (no BOS)
"""
import json
import re
import sys

import gguf

_PRETOKEN = re.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")
_CONTROL = 3  # tokenizer.ggml.token_type value for control tokens


def _byte_to_unicode():
    visible = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    mapping, extra = {}, 0
    for b in range(256):
        if b in visible:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


class GGUFBPE:
    def __init__(self, path):
        reader = gguf.GGUFReader(path)
        model = reader.fields["tokenizer.ggml.model"].contents()
        if model != "gpt2":
            raise ValueError(f"{path}: tokenizer model {model!r}, this tool handles only 'gpt2' BPE")
        tokens = reader.fields["tokenizer.ggml.tokens"].contents()
        types = reader.fields["tokenizer.ggml.token_type"].contents()
        merges = reader.fields["tokenizer.ggml.merges"].contents()
        self.tokens = tokens
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.ranks = {tuple(m.split(" ", 1)): r for r, m in enumerate(merges)}
        self.byte_map = _byte_to_unicode()
        self.unbyte = {c: b for b, c in self.byte_map.items()}
        controls = sorted((t for t, ty in zip(tokens, types) if ty == _CONTROL and t), key=len, reverse=True)
        self.control_re = re.compile("(" + "|".join(re.escape(t) for t in controls) + ")") if controls else None

    def _bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            best = min(range(len(parts) - 1),
                       key=lambda i: self.ranks.get((parts[i], parts[i + 1]), float("inf")))
            if (parts[best], parts[best + 1]) not in self.ranks:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        return [self.ids[p] for p in parts]

    def encode(self, text):
        ids = []
        chunks = self.control_re.split(text) if self.control_re else [text]
        for i, chunk in enumerate(chunks):
            if i % 2 == 1:
                ids.append(self.ids[chunk])
                continue
            for piece in _PRETOKEN.findall(chunk):
                ids.extend(self._bpe("".join(self.byte_map[b] for b in piece.encode("utf-8"))))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            token = self.tokens[i]
            if all(c in self.unbyte for c in token):
                out.extend(self.unbyte[c] for c in token)
            else:
                out.extend(token.encode("utf-8"))
        return out.decode("utf-8", errors="replace")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: gguf_bpe.py MODEL.gguf TEXT")
    print(json.dumps(GGUFBPE(sys.argv[1]).encode(sys.argv[2])))
