"""Greedy agreement between lambda-llm and llama.cpp on our conversions of one model.

For every --type: convert, then for each prompt compare the greedy 32-token text of
  ours, llama.cpp with float attention (-fa off, F32 KV cache: what our engine computes),
  llama.cpp with its defaults (F16 KV cache, flash attention where it picks it).
Weight x activation products round alike in both engines (8-bit activation blocks with
fp16 scales), but the rest of the graph (norm and softmax sums, rope angles, exp
approximations) differs in the last float bits; with 8-bit activations those bits can
flip a rounding and, at a near-tie between two tokens, the greedy path. The llama.cpp
self-comparison (defaults vs float attention) shows how often that happens to the peer
itself on the same file. Float types must agree on every prompt; the exit status says so.
"""
import argparse
import os
import subprocess
import sys
import tempfile

PROMPTS = [
    "The history of the Roman Empire",
    "It is a truth universally acknowledged, that a single man in possession of a good fortune",
    "The capital of France is",
    "def fibonacci(n):",
    "Once upon a time, in a small village by the sea,",
    "Photosynthesis is the process by which",
]
FLOAT_TYPES = {"f32", "f16", "bf16"}


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.rstrip("\n")


def prefix(a, b):
    return len(os.path.commonprefix([a, b]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lambda-llm", required=True)
    ap.add_argument("--llama-completion", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--types", default="f32,f16,bf16,int8,int4-sym,int4-asym")
    ap.add_argument("--tokens", type=int, default=32)
    args = ap.parse_args()
    threads = str(os.cpu_count() or 1)
    llama = [args.llama_completion, "-n", str(args.tokens), "--temp", "0", "--ignore-eos", "-no-cnv",
             "--no-display-prompt", "--no-warmup", "-t", threads]
    print(f"{len(PROMPTS)} prompts, {args.tokens} greedy tokens each; 'same' counts identical texts, "
          "'prefix' is the mean common prefix in characters of ~"
          f"{args.tokens * 4}.\n")
    print("| type | ours = llama.cpp (float attention) | mean prefix | llama.cpp defaults = llama.cpp float attention | mean prefix |")
    print("|---|---|---|---|---|")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for t in args.types.split(","):
            path = os.path.join(tmp, f"{t}.gguf")
            run([args.lambda_llm, "convert", args.model, "-o", path, "--type", t])
            same = self_same = 0
            pre = self_pre = 0
            for p in PROMPTS:
                ours = run([args.lambda_llm, "generate", "--model", path, "--prompt", p, "--temperature", "0",
                            "--max-tokens", str(args.tokens), "--ignore-eos"])
                flt = run(llama + ["-m", path, "-p", p, "-fa", "off", "-ctk", "f32", "-ctv", "f32"])
                dflt = run(llama + ["-m", path, "-p", p])
                same += ours == flt
                self_same += dflt == flt
                pre += prefix(ours, flt)
                self_pre += prefix(dflt, flt)
            n = len(PROMPTS)
            print(f"| {t} | {same}/{n} | {pre / n:.0f} | {self_same}/{n} | {self_pre / n:.0f} |", flush=True)
            if t in FLOAT_TYPES and same != n:
                failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
