"""lambda-llm against llama.cpp and OpenVINO GenAI on the same GGUF files, in one run.

For every file and thread count, each round runs every engine once, ours first on
even rounds and last on odd ones, so that drift on a shared machine hits all of
them alike; the medians over rounds go into the table, and each speed ratio is
followed by its range over the rounds (ours / peer within one round), which shows
how far this machine's noise moves it. Measured per run:
- prefill tokens/s over a --prompt-tokens prompt and decode tokens/s over
  --gen-tokens greedy tokens (ours: `lambda-llm bench`; llama.cpp: `llama-bench`
  pp/tg; OpenVINO: GenAI's own TTFT/TPOT metrics);
- peak RSS of the process (wait4's ru_maxrss);
- load to first token: wall time of a fresh process that loads the file and
  generates one token from a one-word prompt (ours: `generate`; llama.cpp:
  `llama-completion --no-warmup`), page cache warm.
The memory roofline divides the weight bytes one decode step reads by a STREAM
triad bandwidth measured here with the same thread count.

Writes a Markdown report (machine, commands, absolute figures, ratios, targets).
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time

PREFILL_TARGET = 1.00  # ours / llama.cpp
DECODE_TARGET = 1.10
OPENVINO_TARGET = 1.5
RSS_SLACK = 64 * 2**20
LOAD_TARGET_S = 1.0
ROOFLINE_TARGET = 0.80
FIRST_TOKEN_CONTEXT = 512  # both engines get the same KV cache for the load-to-first-token run
OPENVINO_TIMEOUT_S = 1200


def run(cmd, env=None, timeout=3600):
    """Runs cmd; returns (stdout, stderr, rc, wall seconds, peak RSS bytes)."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        wall = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        rc = os.waitstatus_to_exitcode(status)
        return out.read().decode(errors="replace"), err.read().decode(errors="replace"), rc, wall, usage.ru_maxrss * 1024


def checked(what, cmd):
    """run() that stops the comparison, quoting the command and its last lines, on a failure."""
    out, err, rc, wall, rss = run(cmd)
    if rc:
        tail = (err or out).strip().splitlines()[-3:]
        raise SystemExit(f"compare: {what} failed (exit {rc}): {shlex.join(cmd)}\n  " + "\n  ".join(tail))
    return out, wall, rss


class Ours:
    name = "lambda-llm"

    def __init__(self, binary):
        self.binary = binary

    def measure(self, path, threads, prompt_tokens, gen_tokens, warmup):
        cmd = [self.binary, "bench", "--model", path, "--threads", str(threads), "--prompt-tokens", str(prompt_tokens),
               "--gen-tokens", str(gen_tokens), "--repetitions", "1", "--warmups", str(int(warmup)), "--json"]
        out, _, rss = checked("lambda-llm bench", cmd)
        r = json.loads(out)
        return {"prefill": r["prefillTokensPerSecond"], "decode": r["decodeTokensPerSecond"], "rss": rss, "isa": r["isa"]}

    def first_token(self, path, threads):
        cmd = [self.binary, "generate", "--model", path, "--prompt", "Hello", "--max-tokens", "1", "--temperature", "0",
               "--threads", str(threads), "--context", str(FIRST_TOKEN_CONTEXT)]
        return checked("lambda-llm generate", cmd)[1]


class LlamaCpp:
    name = "llama.cpp"

    def __init__(self, bench, completion):
        self.bench, self.completion = bench, completion

    def measure(self, path, threads, prompt_tokens, gen_tokens, warmup):
        cmd = [self.bench, "-m", path, "-t", str(threads), "-p", str(prompt_tokens), "-n", str(gen_tokens), "-r", "1",
               "-o", "json"] + ([] if warmup else ["--no-warmup"])
        out, _, rss = checked("llama-bench", cmd)
        tests = json.loads(out)
        prefill = next(t["avg_ts"] for t in tests if t["n_prompt"] and not t["n_gen"])
        decode = next(t["avg_ts"] for t in tests if t["n_gen"] and not t["n_prompt"])
        return {"prefill": prefill, "decode": decode, "rss": rss}

    def first_token(self, path, threads):
        cmd = [self.completion, "-m", path, "-p", "Hello", "-n", "1", "-t", str(threads), "-no-cnv", "--no-warmup",
               "--temp", "0", "--no-display-prompt", "-c", str(FIRST_TOKEN_CONTEXT)]
        return checked("llama-completion", cmd)[1]


class OpenVINO:
    name = "OpenVINO GenAI"

    def __init__(self, python, script, prompt_file):
        self.python, self.script, self.prompt_file = python, script, prompt_file

    def measure(self, path, threads, prompt_tokens, gen_tokens, warmup):
        cmd = [self.python, self.script, "--model", path, "--threads", str(threads), "--prompt-file", self.prompt_file,
               "--prompt-tokens", str(prompt_tokens), "--gen-tokens", str(gen_tokens)]
        out, err, rc, wall, rss = run(cmd, timeout=OPENVINO_TIMEOUT_S)
        if wall >= OPENVINO_TIMEOUT_S:
            return {"error": f"no result within {OPENVINO_TIMEOUT_S} s"}
        try:
            r = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            r = {"error": f"exit {rc}: " + " ".join((err or out).strip().splitlines()[-1:])[:200]}
        if "error" in r:
            return {"error": r["error"]}
        return {"prefill": r["prefill"], "decode": r["decode"], "rss": rss, "load": r["load"]}


def warm_page_cache(path):
    """Reads the file through once so the engine that runs next finds it in the page cache.
    On a machine whose memory barely holds the big files, a peer's run (llama.cpp keeps
    a repacked anonymous copy of Q4_0 weights) can evict the next engine's pages, and a
    run without warm-up would then time disk reads. Both engines get this, every run."""
    with open(path, "rb", buffering=0) as f:
        while f.read(16 << 20):
            pass


def median(values):
    s = sorted(values)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def gguf_facts(path, context):
    """Weight bytes one decode step reads, and our KV cache bytes at `context` (F16, the fast path's)."""
    from gguf import GGUFReader

    r = GGUFReader(path)
    names = {t.name: int(t.n_bytes) for t in r.tensors}
    read = sum(b for n, b in names.items() if n != "token_embd.weight")
    if "output.weight" not in names:  # tied head: the embedding is read whole as the output matrix
        read += names.get("token_embd.weight", 0)

    def field(suffix):
        for k, f in r.fields.items():
            if k.endswith(suffix):
                return int(f.parts[f.data[0]][0])
        raise SystemExit(f"compare: {path} has no *{suffix} field")

    layers, embd = field(".block_count"), field(".embedding_length")
    heads, kv_heads = field(".attention.head_count"), field(".attention.head_count_kv")
    kv = 2 * layers * context * (embd // heads) * kv_heads * 2
    return read, kv


def stream_bandwidth(binary, threads):
    return float(checked("stream_triad", [binary, str(threads)])[0].split()[0])


def machine():
    model, flags = "unknown", set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = [f for f in ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni") if f in flags]
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}, flags: {' '.join(isa)}"


def amdahl_fit(measured):
    """The study's projection (LambdaPlanner.scalingFit): t(n) = s + p/n through the two
    smallest thread counts' seconds per token, s and p clamped at 0. measured maps
    threads -> tokens/s; returns (s, p), or None when fewer than two counts are usable."""
    points = sorted((n, v) for n, v in measured.items() if n > 0 and v and v > 0)
    if len(points) < 2:
        return None
    (a, va), (b, vb) = points[0], points[1]
    ta, tb = 1 / va, 1 / vb
    p = (ta - tb) / (1 / a - 1 / b)
    s = ta - p / a
    if p < 0:
        return ta, 0.0
    if s < 0:
        return 0.0, ta * a
    return s, p


def scaling_lines(files, threads, engine_names, med):
    """Speed-up over the smallest thread count for each file, engine and phase, with what
    the Amdahl fit through the two smallest counts projects for the larger ones: the
    check on the study's Lambda projection, which measures only 1 and 2 threads."""
    base, fit_counts = threads[0], threads[:2]
    base_name = f"{base} thread" + ("s" if base > 1 else "")
    lines = ["", f"## Thread scaling: speed-up over {base_name}; in brackets the study's projection "
             f"(Amdahl fit through the {fit_counts[0]}- and {fit_counts[1]}-thread runs)", "",
             f"| file | engine | phase | {base_name}, tok/s | " + " | ".join(f"{t} threads" for t in threads[1:]) + " |",
             "|---|---|---|" + "---:|" * len(threads)]
    for label, _, _ in files:
        for name in engine_names:
            for phase in ("prefill", "decode"):
                measured = {t: med(label, t, name, phase) for t in threads}
                if measured[base] is None:
                    continue
                fit = amdahl_fit({t: measured[t] for t in fit_counts})
                cells = []
                for t in threads[1:]:
                    got = "n/a" if measured[t] is None else f"{measured[t] / measured[base]:.2f}x"
                    if fit and t not in fit_counts:
                        got += f" ({1 / (fit[0] + fit[1] / t) / measured[base]:.2f}x)"
                    cells.append(got)
                lines.append(f"| {label} | {name} | {phase} | {fmt(measured[base], 2)} | " + " | ".join(cells) + " |")
    return lines


def git_commit():
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True).stdout.strip()
    except OSError:  # no git where the benchmark runs (a copied tree)
        return "unknown"
    return (commit or "unknown") + (" (with uncommitted changes)" if dirty else "")


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def mb(b):
    return "n/a" if b is None else f"{b / 2**20:,.0f} MB"


def round_ratios(ours, peer, key):
    """Ours / peer round by round: both engines ran once in every round, back to back,
    so each ratio shares that round's conditions."""
    return [o[key] / p[key] for o, p in zip(ours, peer) if o.get(key) is not None and p.get(key)]


def ratio_cell(x, per_round):
    """The median ratio, then its range over the rounds when there were several."""
    if x is None:
        return "n/a"
    if len(per_round) < 2:
        return fmt(x, 2)
    return f"{fmt(x, 2)} ({min(per_round):.2f}-{max(per_round):.2f})"


def target_lines(names, verdicts):
    """The targets table: met or not per target, the cells that missed with their
    round ranges, and how many of those met the target in at least one round."""
    lines = ["", "## Targets", "", "| target | met | where not |", "|---|---|---|"]
    near = total = 0
    for key, title in names.items():
        items = verdicts[key]
        if not items:
            lines.append(f"| {title} | not measured | |")
            continue
        missed = [(n, x, rounds) for n, x, ok, rounds, goal in items if not ok]
        total += len(missed)
        near += sum(1 for n, x, ok, rounds, goal in items if not ok and goal is not None and rounds
                    and max(rounds) >= goal)
        shown = [f"{n} ({ratio_cell(x, rounds)})" for n, x, rounds in missed]
        lines.append(f"| {title} | {'yes' if not missed else f'{len(items) - len(missed)} of {len(items)}'} | "
                     f"{', '.join(shown)} |")
    if total:
        lines += ["", f"Missed cells that met the target in at least one round: {near} of {total}."]
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lambda-llm", required=True)
    p.add_argument("--llama-bench", required=True)
    p.add_argument("--llama-completion", required=True)
    p.add_argument("--openvino-python", help="python of a venv with openvino-genai (omit to skip OpenVINO)")
    p.add_argument("--stream-triad", required=True)
    p.add_argument("--file", action="append", default=[], metavar="LABEL=PATH", required=True)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=3, help="rounds for files under 1 GiB")
    p.add_argument("--big-rounds", type=int, default=1, help="rounds for files of 1 GiB or more (no warm-up run)")
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--gen-tokens", type=int, default=128)
    p.add_argument("--big-gen-tokens", type=int, help="tokens to generate for files of 1 GiB or more (default: --gen-tokens)")
    p.add_argument("--prompt-file", required=True, help="English text; OpenVINO takes its first --prompt-tokens tokens")
    p.add_argument("--load-file", help="LABEL of the file whose load-to-first-token is held to the 1 s target")
    p.add_argument("--roofline-file", help="LABEL of the file whose decode is held to 80%% of the roofline")
    p.add_argument("--out", required=True)
    p.add_argument("--command", default="bench/compare", help="the command line to quote in the report")
    p.add_argument("--commit", help="the commit to name in the report (default: git's HEAD here)")
    a = p.parse_args()

    files = []
    for spec in a.file:
        label, _, path = spec.partition("=")
        if not path or not os.path.isfile(path):
            raise SystemExit(f"compare: --file {spec}: no such file")
        files.append((label, path, os.path.getsize(path)))
    threads = sorted({int(t) for t in a.threads.split(",")})
    engines = [Ours(a.lambda_llm), LlamaCpp(a.llama_bench, a.llama_completion)]
    if a.openvino_python:
        engines.append(OpenVINO(a.openvino_python, os.path.join(os.path.dirname(__file__), "openvino_bench.py"),
                                a.prompt_file))
    big = 2**30

    bandwidth = {t: max(stream_bandwidth(a.stream_triad, t) for _ in range(2)) for t in threads}
    print("STREAM triad: " + ", ".join(f"{t} thread(s) {bandwidth[t] / 1e9:.1f} GB/s" for t in threads), flush=True)

    results = {}  # (label, threads, engine) -> list of runs
    first_token = {}  # (label, engine) -> list of seconds
    for label, path, size in files:
        rounds = a.big_rounds if size >= big else a.rounds
        gen = (a.big_gen_tokens or a.gen_tokens) if size >= big else a.gen_tokens
        for rnd in range(rounds):
            for t in threads:
                order = engines if rnd % 2 == 0 else engines[::-1]
                for e in order:
                    if isinstance(e, OpenVINO) and any(r.get("error") for (f, _, n), runs in results.items()
                                                       if f == label and n == e.name for r in runs):
                        continue  # it could not load this file: say so once
                    if size >= big:
                        warm_page_cache(path)
                    r = e.measure(path, t, a.prompt_tokens, gen, warmup=size < big)
                    results.setdefault((label, t, e.name), []).append(r)
                    shown = r.get("error") or f"prefill {r['prefill']:.1f} tok/s, decode {r['decode']:.2f} tok/s, RSS {mb(r['rss'])}"
                    print(f"[{label} t={t} round {rnd + 1}/{rounds}] {e.name}: {shown}", flush=True)
            for e in engines[:2][:: 1 if rnd % 2 == 0 else -1]:
                warm_page_cache(path)
                s = e.first_token(path, max(threads))
                first_token.setdefault((label, e.name), []).append(s)
                print(f"[{label} round {rnd + 1}/{rounds}] {e.name}: load to first token {s:.2f} s", flush=True)

    def med(label, t, engine, key):
        runs = [r for r in results.get((label, t, engine), []) if key in r]
        return median([r[key] for r in runs]) if runs else None

    def rounds(label, t, peer, key):
        return round_ratios(results.get((label, t, "lambda-llm"), []), results.get((label, t, peer), []), key)

    def ratio(x, y):
        return None if x is None or y is None or y == 0 else x / y

    isa = next((r["isa"] for runs in results.values() for r in runs if "isa" in r), "?")
    lines = [
        f"# lambda-llm vs llama.cpp vs OpenVINO GenAI, {datetime.date.today().isoformat()}",
        "",
        f"- Command: `{a.command}`",
        f"- Commit: {a.commit or git_commit()}; our kernels: {isa}",
        f"- Machine: {machine()}",
        "- Peers: llama.cpp from the llama-cpp-python 0.3.36 sdist (`llama-bench`, `llama-completion`); "
        + ("OpenVINO GenAI (PyPI, stateful SDPA pipeline)" if a.openvino_python else "OpenVINO not run"),
        f"- Prompt {a.prompt_tokens} tokens, {a.gen_tokens} generated"
        + (f" ({a.big_gen_tokens} for files of 1 GiB or more)" if a.big_gen_tokens else "")
        + f"; medians of {a.rounds} alternating rounds ({a.big_rounds} for files of 1 GiB or more, without warm-up runs;"
        " each such run starts after the file was read through the page cache)."
        " llama-bench times prefill and decode as separate tests (decode from an empty context); ours decodes after the prompt.",
        "- STREAM triad: " + ", ".join(f"{t} thread(s) {bandwidth[t] / 1e9:.1f} GB/s" for t in threads),
        "",
        "## Absolute figures",
        "",
        "| file | size | threads | engine | prefill tok/s | decode tok/s | peak RSS |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for label, path, size in files:
        for t in threads:
            for e in engines:
                runs = [r for (f, _, n), rs in results.items() if f == label and n == e.name for r in rs]
                err = next((r["error"] for r in runs if "error" in r), None)
                if err:
                    lines.append(f"| {label} | {mb(size)} | {t} | {e.name} | does not load: {err} | | |")
                    continue
                lines.append(f"| {label} | {mb(size)} | {t} | {e.name} | {fmt(med(label, t, e.name, 'prefill'))} | "
                             f"{fmt(med(label, t, e.name, 'decode'), 2)} | {mb(med(label, t, e.name, 'rss'))} |")

    lines += ["", "## Ratios, ours / peer (higher is better for speed, lower for RSS)", "",
              "Speed ratios are medians over the rounds, with their range over the rounds in brackets "
              "(ours / peer within each round).", "",
              "| file | threads | prefill / llama.cpp | decode / llama.cpp | prefill / OpenVINO | decode / OpenVINO | "
              "RSS / llama.cpp | RSS limit (file + KV + 64 MB) | decode / roofline |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    verdicts = {k: [] for k in ("prefill", "decode", "openvino", "rss", "load", "roofline")}
    for label, path, size in files:
        gen = (a.big_gen_tokens or a.gen_tokens) if size >= big else a.gen_tokens
        read, kv = gguf_facts(path, a.prompt_tokens + gen + 8)
        limit = size + kv + RSS_SLACK
        for t in threads:
            o = {k: med(label, t, "lambda-llm", k) for k in ("prefill", "decode", "rss")}
            l = {k: med(label, t, "llama.cpp", k) for k in ("prefill", "decode", "rss")}
            v = {k: med(label, t, "OpenVINO GenAI", k) for k in ("prefill", "decode")}
            pr, dr = ratio(o["prefill"], l["prefill"]), ratio(o["decode"], l["decode"])
            pv, dv = ratio(o["prefill"], v["prefill"]), ratio(o["decode"], v["decode"])
            rr = ratio(o["rss"], l["rss"])
            roof = o["decode"] * read / bandwidth[t] if o["decode"] else None
            rl = {k: rounds(label, t, "llama.cpp", k) for k in ("prefill", "decode")}
            rv = {k: rounds(label, t, "OpenVINO GenAI", k) for k in ("prefill", "decode")}
            lines.append(f"| {label} | {t} | {ratio_cell(pr, rl['prefill'])} | {ratio_cell(dr, rl['decode'])} | "
                         f"{ratio_cell(pv, rv['prefill'])} | {ratio_cell(dv, rv['decode'])} | {fmt(rr, 2)} | "
                         f"{mb(o['rss'])} of {mb(limit)} | {fmt(roof * 100 if roof else None, 0)}% |")
            verdicts["prefill"].append((f"{label} t={t}", pr, pr is not None and pr >= PREFILL_TARGET,
                                        rl["prefill"], PREFILL_TARGET))
            verdicts["decode"].append((f"{label} t={t}", dr, dr is not None and dr >= DECODE_TARGET,
                                       rl["decode"], DECODE_TARGET))
            for name, x in (("prefill", pv), ("decode", dv)):
                if x is not None:
                    verdicts["openvino"].append((f"{label} t={t} {name}", x, x >= OPENVINO_TARGET, rv[name],
                                                 OPENVINO_TARGET))
            ok = o["rss"] is not None and o["rss"] <= limit and (l["rss"] is None or o["rss"] <= l["rss"])
            verdicts["rss"].append((f"{label} t={t}", rr, ok, [], None))
            if label == a.roofline_file and t == max(threads):
                verdicts["roofline"].append((f"{label} t={t}", roof, roof is not None and roof >= ROOFLINE_TARGET,
                                             [], None))

    if len(threads) > 2:
        lines += scaling_lines(files, threads, [e.name for e in engines], med)

    lines += ["", "## Load to first token (fresh process, one-word prompt, one token, page cache warm, "
              f"{max(threads)} threads, context {FIRST_TOKEN_CONTEXT})", "", "| file | lambda-llm | llama.cpp | OpenVINO GenAI load only |", "|---|---:|---:|---:|"]
    for label, path, size in files:
        ours = median(first_token[(label, "lambda-llm")])
        theirs = median(first_token[(label, "llama.cpp")])
        ov = med(label, max(threads), "OpenVINO GenAI", "load")
        lines.append(f"| {label} | {ours:.2f} s | {theirs:.2f} s | {fmt(ov, 2) + ' s' if ov else 'n/a'} |")
        if label == a.load_file:
            verdicts["load"].append((label, ours, ours < LOAD_TARGET_S, [], None))

    names = {
        "decode": f"decode >= {DECODE_TARGET:.2f}x llama.cpp",
        "prefill": f"prefill >= {PREFILL_TARGET:.2f}x llama.cpp",
        "openvino": f">= {OPENVINO_TARGET}x OpenVINO GenAI where it loads the file",
        "rss": "peak RSS <= file + KV cache + 64 MB and <= llama.cpp's",
        "load": f"load to first token < {LOAD_TARGET_S:.0f} s ({a.load_file or 'no file named for it in this run'})",
        "roofline": f"decode >= {ROOFLINE_TARGET:.0%} of the memory roofline "
                    f"({a.roofline_file or 'no file named for it in this run'})",
    }
    lines += target_lines(names, verdicts)
    report = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(report)
    print("\n" + report)
    print(f"compare: wrote {a.out}")


if __name__ == "__main__":
    sys.exit(main())
