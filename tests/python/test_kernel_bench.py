"""bench/kernel_bench.c, the kernel micro-benchmark behind the single-kernel figures in
the README and the kernel comments: it must build from the kernel sources, time every
level this CPU has, give the same outputs on each (every level gives the same bits),
and refuse bad arguments with a message."""
import re
import shutil
import subprocess

import pytest

from conftest import REPO, cpu_flags, missing

SOURCES = sorted(str(p) for p in (REPO / "Sources" / "CKernels").glob("*.c"))
LINE = re.compile(r"^(\S+) (\S+) (\d+)x(\d+) x(\d+): best ([\d.]+) ms, mean ([\d.]+) ms, ([\d.]+) GMAC/s, "
                  r"([\d.]+) GB/s of weights, check ([0-9a-f]{8})$")


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    cc = shutil.which("clang") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        missing("a C compiler")
    out = tmp_path_factory.mktemp("kernel_bench") / "kernel_bench"
    subprocess.run([cc, "-O2", "-fno-math-errno", "-I", str(REPO / "Sources" / "CKernels" / "include"), *SOURCES,
                    str(REPO / "bench" / "kernel_bench.c"), "-lm", "-o", str(out)], check=True, capture_output=True)
    return out


def run(bench, *args):
    return subprocess.run([str(bench), *args], capture_output=True, text=True, timeout=120)


def levels(bench):
    found = []
    for level in ("generic", "avx2", "avx512", "avx512vnni"):
        r = run(bench, "--level", level, "--reps", "1", "q4_0", "8", "32", "1")
        if r.returncode == 0:
            found.append(level)
        else:
            assert r.returncode == 1 and "lacks the instructions" in r.stderr, r.stderr
    return found


@pytest.mark.parametrize("kind", ["f16", "q8_0", "q4_0", "q4_1", "q4_k", "q6_k"])
def test_every_level_times_the_kernel_and_gives_the_same_outputs(bench, kind):
    checks = {}
    for level in levels(bench):
        # 9 rows (a ragged group), 256 columns, 1 vector (decode) and 7 (prefill), rows in chunks.
        for vectors in ("1", "7"):
            r = run(bench, "--level", level, "--reps", "2", "--chunk", "5", kind, "9", "256", vectors)
            assert r.returncode == 0, r.stderr
            m = LINE.match(r.stdout.strip())
            assert m, r.stdout
            assert (m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)) == (kind, level, "9", "256", vectors)
            assert float(m.group(8)) > 0 and float(m.group(6)) <= float(m.group(7))
            checks.setdefault(vectors, set()).add(m.group(10))
    assert all(len(c) == 1 for c in checks.values()), checks


def test_copies_cycle_the_weights_without_changing_the_outputs(bench):
    one, many = (run(bench, "--reps", "3", "--copies", c, "q8_0", "16", "64", "2") for c in ("1", "3"))
    assert one.returncode == many.returncode == 0
    assert one.stdout.split("check ")[1] == many.stdout.split("check ")[1]


@pytest.mark.parametrize("args, code, message", [
    (["q5_0", "8", "32", "1"], 2, "unknown TYPE"),
    (["q4_0", "8", "33", "1"], 1, "COLS 33 is not a multiple"),
    (["q4_0", "8", "32"], 2, "expected TYPE ROWS COLS VECTORS"),
    (["q4_0", "0", "32", "1"], 2, "ROWS and COLS must be"),
    (["q4_0", "8", "32", "-1"], 2, "ROWS and COLS must be"),
    (["--level", "sse", "q4_0", "8", "32", "1"], 2, "--level must be"),
    (["--reps", "x", "q4_0", "8", "32", "1"], 2, "--reps must be"),
    (["--bogus", "1", "q4_0", "8", "32", "1"], 2, "unknown option --bogus"),
    (["--copies", "1024", "q4_k", "1048576", "1048576", "1"], 2, "under 8 GiB"),
])
def test_bad_arguments_are_refused_with_a_message(bench, args, code, message):
    r = run(bench, *args)
    assert r.returncode == code
    assert message in r.stderr
    assert r.stdout == ""


def test_peak_ops_reports_both_register_only_ceilings(tmp_path):
    """bench/peak_ops.c, the ceilings the README measures the prefill kernels against."""
    cc = shutil.which("clang") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        missing("a C compiler")
    if not {"avx2", "fma"} <= cpu_flags():
        pytest.skip("peak_ops measures AVX2/FMA loops")
    out = tmp_path / "peak_ops"
    subprocess.run([cc, "-O2", str(REPO / "bench" / "peak_ops.c"), "-o", str(out)], check=True, capture_output=True)
    r = subprocess.run([str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    fma = re.search(r"^f32 FMA: ([\d.]+) GMAC/s \(([\d.]+) G 8-lane FMAs/s\)$", r.stdout, re.M)
    dot = re.search(r"^psign\+maddubs\+madd: ([\d.]+) GMAC/s \(([\d.]+) G steps/s\)", r.stdout, re.M)
    assert fma and dot, r.stdout
    # Each figure is its loop's count over the same best time: 8 and 32 multiply-adds a step.
    assert float(fma.group(1)) == pytest.approx(8 * float(fma.group(2)), rel=0.02)
    assert float(dot.group(1)) == pytest.approx(32 * float(dot.group(2)), rel=0.02)
    assert float(fma.group(1)) > 1 and float(dot.group(1)) > 1
