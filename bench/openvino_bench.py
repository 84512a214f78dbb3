"""One OpenVINO GenAI measurement, run by bench/compare in the peer's own venv.

Loads a GGUF with LLMPipeline (its GGUF reader handles some types, not all),
feeds exactly --prompt-tokens tokens of the given text, generates --gen-tokens
greedily without stopping early, and prints one JSON object: load seconds,
prefill and decode tokens/s from GenAI's own perf metrics. Errors print a JSON
object with "error" so the table can say why a file did not load.
"""
import argparse
import json
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--prompt-file", required=True)
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--gen-tokens", type=int, default=128)
    p.add_argument("--repetitions", type=int, default=1)
    a = p.parse_args()
    try:
        import numpy as np
        import openvino as ov
        import openvino_genai as genai

        t0 = time.monotonic()
        # The stateful SDPA pipeline: the default paged-attention one caches prefixes, so
        # a repeated prompt would skip its prefill.
        pipe = genai.LLMPipeline(a.model, "CPU", INFERENCE_NUM_THREADS=a.threads, ATTENTION_BACKEND="SDPA")
        load = time.monotonic() - t0
        ids = pipe.get_tokenizer().encode(open(a.prompt_file, encoding="utf-8").read()).input_ids.data
        ids = np.ascontiguousarray(ids[:, : a.prompt_tokens]).astype(np.int64)
        if ids.shape[1] < a.prompt_tokens:
            raise RuntimeError(f"prompt text has only {ids.shape[1]} tokens")
        inputs = genai.TokenizedInputs(ov.Tensor(ids), ov.Tensor(np.ones_like(ids)))
        config = genai.GenerationConfig()
        config.max_new_tokens = a.gen_tokens
        config.min_new_tokens = a.gen_tokens
        config.do_sample = False
        runs = []
        for i in range(a.repetitions + 1):  # run 0 warms up
            m = pipe.generate(inputs, config).perf_metrics
            if i:
                runs.append((a.prompt_tokens / (m.get_ttft().mean / 1000), 1000 / m.get_tpot().mean))
        runs.sort()
        prefill = sorted(r[0] for r in runs)[len(runs) // 2]
        decode = sorted(r[1] for r in runs)[len(runs) // 2]
        print(json.dumps({"load": load, "prefill": prefill, "decode": decode}))
    except Exception as e:  # noqa: BLE001 - any failure is a result: "does not load this file"
        print(json.dumps({"error": f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
