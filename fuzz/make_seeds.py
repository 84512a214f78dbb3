"""Writes the committed seed corpora under fuzz/seeds/<target>/: small, hand-made
inputs that reach deep into each surface (a loadable tiny llama GGUF, real-shaped
HF files, OpenAI bodies and Lambda events, S3 answers). fuzz/run adds seeds made
from the cached test assets at run time; those are not committed.

Each file starts with the selector byte its target reads first, where it has one.
Run: ~/.cache/lambda-llm/venv/bin/python fuzz/make_seeds.py
"""
import base64
import json
import struct
import sys
from pathlib import Path

import numpy as np
import gguf

SEEDS = Path(__file__).resolve().parent / "seeds"


def write(target, name, data):
    folder = SEEDS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def tiny_llama(path, quant, with_vocab):
    """A 1-layer llama small enough for the target's forward pass."""
    rng = np.random.default_rng(7)
    embed, heads, kv_heads, ff, vocab, ctx = 32, 4, 2, 64, 48, 16
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_context_length(ctx)
    w.add_embedding_length(embed)
    w.add_block_count(1)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    if with_vocab:
        tokens = ["<unk>", "<s>", "</s>"] + [chr(ord("a") + i) for i in range(26)] + [" ", "ab", "th", "he", "the", " the"]
        tokens += [f"<0x{i:02X}>" for i in range(vocab - len(tokens))]
        w.add_tokenizer_model("llama")
        w.add_token_list(tokens)
        w.add_token_scores([float(-i) for i in range(len(tokens))])
        w.add_token_types([2, 3, 3] + [1] * (len(tokens) - 3))
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
    kv = embed // heads * kv_heads

    def tensor(name, shape):
        data = (rng.standard_normal(shape) * 0.1).astype(np.float32)
        if quant is None or name.endswith("norm.weight"):
            w.add_tensor(name, data)
        else:
            q = gguf.quants.quantize(data, quant)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=quant)

    tensor("token_embd.weight", (vocab, embed))
    tensor("output_norm.weight", (embed,))
    tensor("output.weight", (vocab, embed))
    tensor("blk.0.attn_norm.weight", (embed,))
    tensor("blk.0.attn_q.weight", (embed, embed))
    tensor("blk.0.attn_k.weight", (kv, embed))
    tensor("blk.0.attn_v.weight", (kv, embed))
    tensor("blk.0.attn_output.weight", (embed, embed))
    tensor("blk.0.ffn_norm.weight", (embed,))
    tensor("blk.0.ffn_gate.weight", (ff, embed))
    tensor("blk.0.ffn_up.weight", (ff, embed))
    tensor("blk.0.ffn_down.weight", (embed, ff))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gguf_seeds(tmp):
    for name, quant, vocab in [("tiny-f32", None, True), ("tiny-q8_0", gguf.GGMLQuantizationType.Q8_0, False),
                               ("tiny-q4_0", gguf.GGMLQuantizationType.Q4_0, True), ("tiny-f16", gguf.GGMLQuantizationType.F16, False)]:
        path = tmp / f"{name}.gguf"
        tiny_llama(path, quant, vocab)
        write("gguf", f"{name}.gguf", path.read_bytes())
    # Metadata of every value type, arrays included, and no tensors.
    path = tmp / "types.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_uint8("t.u8", 1); w.add_int8("t.i8", -1); w.add_uint16("t.u16", 2); w.add_int16("t.i16", -2)
    w.add_uint32("t.u32", 3); w.add_int32("t.i32", -3); w.add_float32("t.f32", 0.5); w.add_bool("t.b", True)
    w.add_string("t.s", "héllo"); w.add_uint64("t.u64", 4); w.add_int64("t.i64", -4); w.add_float64("t.f64", 0.25)
    w.add_array("t.arr", [1, 2, 3]); w.add_array("t.sarr", ["a", "bc"])
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    write("gguf", "types.gguf", path.read_bytes())


def safetensors(tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def checkpoint_seeds():
    rng = np.random.default_rng(3)
    f32 = rng.standard_normal((4, 8)).astype(np.float32)
    write("checkpoint", "safetensors-mixed", b"\x00" + safetensors([
        ("model.embed_tokens.weight", "F32", (4, 8), f32.tobytes()),
        ("model.norm.weight", "F16", (8,), f32[0].astype(np.float16).tobytes()),
        ("lm_head.weight", "BF16", (2, 8), (f32[:2].view(np.uint32) >> 16).astype(np.uint16).tobytes()),
        ("empty", "F32", (0, 8), b""),
    ], {"format": "pt"}))
    smollm2 = {"architectures": ["LlamaForCausalLM"], "hidden_size": 576, "num_hidden_layers": 30, "num_attention_heads": 9,
               "num_key_value_heads": 3, "intermediate_size": 1536, "vocab_size": 49152, "max_position_embeddings": 8192,
               "rms_norm_eps": 1e-5, "rope_theta": 100000, "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": True,
               "torch_dtype": "bfloat16", "model_type": "llama"}
    llama2 = {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
              "num_key_value_heads": 32, "intermediate_size": 11008, "vocab_size": 32000, "max_position_embeddings": 4096,
              "rms_norm_eps": 1e-5, "rope_scaling": None, "bos_token_id": 1, "eos_token_id": 2, "model_type": "llama"}
    llama3 = dict(llama2, num_key_value_heads=8, intermediate_size=14336, vocab_size=128256, rope_theta=500000.0,
                  eos_token_id=[128001, 128009], rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                               "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})
    for name, config in [("smollm2", smollm2), ("llama2", llama2), ("llama3", llama3)]:
        write("checkpoint", f"config-{name}", b"\x01" + json.dumps(config).encode())
    vocab = {"<|endoftext|>": 0, "<|im_start|>": 1, "<|im_end|>": 2}
    for i, c in enumerate("abcdefghijklmnopqrstuvwxyzĠĊ"):
        vocab[c] = 3 + i
    merges = ["t h", "th e", "Ġ t", "Ġt he", "a b"]
    for m in merges:
        vocab.setdefault(m.replace(" ", ""), len(vocab))
    tokenizer = {"version": "1.0", "model": {"type": "BPE", "vocab": vocab, "merges": merges},
                 "added_tokens": [{"id": 0, "content": "<|endoftext|>", "special": True}, {"id": 1, "content": "<|im_start|>", "special": True},
                                  {"id": 2, "content": "<|im_end|>", "special": True}],
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False}}
    tokenizer_config = {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "add_bos_token": False,
                        "chat_template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}{% endfor %}"}
    write("checkpoint", "tokenizer-json-bpe", b"\x02" + json.dumps(tokenizer).encode() + b"\x00" + json.dumps(tokenizer_config).encode())
    write("checkpoint", "tokenizer-json-only", b"\x02" + json.dumps(tokenizer).encode())


def tokenizer_seeds():
    texts = ["Hello, world!", "  leading spaces and\ttabs\nnew lines\r\n", "Ünïcödé 日本語 한국어 emoji 🙂👍🏽 ﷽",
             "<|im_start|>user\nhi<|im_end|>", "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
             "numbers 1234567890 3.14159 -42", "'s 't 're 've 'm 'll 'd", "\u0000\u0001\u007f", "a" * 64]
    for i, text in enumerate(texts):
        for selector in (0, 1, 4, 5):
            write("tokenizer", f"text-{i}-{selector}", bytes([selector]) + text.encode())
    ids = struct.pack(">8H", 1, 9690, 28, 905, 17, 2, 0, 49151)
    for selector in (2, 3):
        write("tokenizer", f"ids-{selector}", bytes([selector]) + ids + b"\xff\xff\x80\x00")


def request_seeds():
    completion = {"model": "smollm2", "prompt": "Once upon a time", "max_tokens": 8, "temperature": 0.7, "top_p": 0.9,
                  "stop": ["\n", "The end"], "seed": 42, "stream": False}
    chat = {"model": "smollm2", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"},
                                             {"role": "assistant", "content": "4"}, {"role": "user", "content": [{"type": "text", "text": "And 3+3?"}]}],
            "max_tokens": 4, "stream": True, "stream_options": {"include_usage": True}, "frequency_penalty": 0.5, "logprobs": False}
    write("request", "completion", b"\x00" + json.dumps(completion).encode())
    write("request", "completion-list-prompt", b"\x00" + json.dumps(dict(completion, prompt=["one"], n=1, max_tokens=None)).encode())
    write("request", "chat", b"\x01" + json.dumps(chat).encode())
    write("request", "chat-bad", b"\x01" + b'{"messages": [{"role": "tool", "content": 3}], "max_tokens": -1, "unknown": 1}')
    write("request", "direct-event", b"\x02" + json.dumps(chat).encode())

    def url_event(method, path, body, b64, headers=None):
        event = {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
                 "headers": headers or {"content-type": "application/json", "authorization": "Bearer fuzz-key"},
                 "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
                                    "requestId": "r-1", "timeEpoch": 1700000000000},
                 "isBase64Encoded": b64}
        if body is not None:
            event["body"] = base64.b64encode(body.encode()).decode() if b64 else body
        return b"\x02" + json.dumps(event).encode()

    write("request", "url-chat-base64", url_event("POST", "/v1/chat/completions", json.dumps(chat), True))
    write("request", "url-completion", url_event("POST", "/v1/completions", json.dumps(completion), False))
    write("request", "url-models", url_event("GET", "/v1/models", None, False))
    write("request", "url-health-nokey", url_event("GET", "/health", None, False, {}))
    write("request", "url-bad-base64", url_event("POST", "/v1/completions", "not base64 ***", False).replace(b'"isBase64Encoded": false', b'"isBase64Encoded": true'))
    v1 = {"resource": "/", "path": "/v1/completions", "httpMethod": "POST", "requestContext": {"stage": "prod"}, "body": "{}"}
    write("request", "apigw-v1", b"\x02" + json.dumps(v1).encode())


def s3_seeds():
    secret = "fuzzSecretKey/K7MDENG+bPxRfiCYEXAMPLEKEY"
    token = "FwoGZXIvYXdzEFUZZSESSIONTOKENEXAMPLE//////////wEaDFuzz="
    echo = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature "
            f"we calculated does not match the signature you provided. Check your key {secret} and signing method.</Message>"
            f"<AWSAccessKeyId>AKIAFUZZEXAMPLE00001</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n20231114T221320Z</StringToSign>"
            f"<CanonicalRequest>GET\n/models/model.gguf\n\nhost:s3.amazonaws.com\nx-amz-security-token:{token}\n</CanonicalRequest>"
            f"<RequestId>4442587FB7D0A2F9</RequestId></Error>")
    for status in (3, 103, 112, 101, 200):  # 303 403 412 401 500 after the target's 300 + byte
        write("s3", f"error-{status}", bytes([0, status, 0]) + echo.encode())
    write("s3", "error-region", bytes([0, 1, 0]) + b"<Error><Code>PermanentRedirect</Code><Message>wrong endpoint</Message><Region>eu-west-1</Region></Error>")
    write("s3", "error-token-in-message", bytes([0, 103, 0]) + f"<Error><Code>InvalidToken</Code><Message>token {token} &amp; more</Message></Error>".encode())
    # S3 proper keeps Message short, but an endpoint may say anything: a long one.
    write("s3", "error-long-message", bytes([0, 103, 0]) + ("<Error><Code>AccessDenied</Code><Message>" + "Access denied. " * 18
                                                          + f"Token was {token}.</Message></Error>").encode())
    for i, header in enumerate(["bytes 0-9/1000", "bytes 16777216-33554431/104857600", "bytes 5-5/*", "bytes 0-0/1"]):
        write("s3", f"range-{i}", bytes([1, 0, 0]) + header.encode())
    write("s3", "checksum-meta", bytes([2, 0, 0]) + b"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")
    write("s3", "checksum-sidecar", bytes([2, 1, 0]) + b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  model.gguf\n")
    write("s3", "sign-get", bytes([3, 0, 0]) + b"GET\nhttps://models.s3.us-east-1.amazonaws.com/dir/model%20v2.gguf?partNumber=1&x=a+b\nRange: bytes=0-9\nIf-Match: \"etag\"\nX-Amz-Meta-A:  two  spaces ")
    write("s3", "sign-path-style", bytes([3, 0, 0]) + b"HEAD\nhttp://127.0.0.1:9000/models/a/../b/~c!*'().gguf\nhost: 127.0.0.1:9000\n")
    for i, loc in enumerate(["s3://models/smollm2/model.gguf", "/opt/model.gguf", "s3://bucket", "s3://Bad_Bucket/key", "file:///x.gguf"]):
        write("s3", f"location-{i}", bytes([4, 0, 0]) + loc.encode())
    write("s3", "date", bytes([5, 0, 0]) + b"20231114T221320Z")


def main():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        gguf_seeds(Path(tmp))
    checkpoint_seeds()
    tokenizer_seeds()
    request_seeds()
    s3_seeds()
    for folder in sorted(SEEDS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    sys.exit(main())
