"""The C kernels on their own (tests/ckernels/ck_check.c), natively and for arm64.

The Swift suite covers every kernel on this machine's ISAs; this check exists for the
arm64 build (Graviton), which this x86_64 machine cannot run Swift for: the same C
sources are cross-compiled with Debian's aarch64 gcc and run under qemu-aarch64, so
the portable path that arm64 uses is proven to build and to agree with the reference.
"""
import shutil
import subprocess

from conftest import REPO, missing

SOURCES = sorted(str(p) for p in (REPO / "Sources" / "CKernels").glob("*.c")) + [str(REPO / "tests" / "ckernels" / "ck_check.c")]
INCLUDE = str(REPO / "Sources" / "CKernels" / "include")


def build_and_run(compiler, out, runner=(), extra=()):
    subprocess.run([compiler, "-O3", "-fno-math-errno", "-I", INCLUDE, *extra, *SOURCES, "-lm", "-o", str(out)],
                   check=True, capture_output=True, text=True)
    r = subprocess.run([*runner, str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert ", 0 failures" in r.stdout
    return r.stdout


def test_c_kernels_match_the_reference_on_every_native_level(tmp_path):
    cc = shutil.which("cc") or shutil.which("clang")
    if cc is None:
        missing("a C compiler")
    out = build_and_run(cc, tmp_path / "ck_check")
    assert "checks" in out


def test_c_kernels_build_and_match_the_reference_on_arm64_under_qemu(tmp_path):
    gcc, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64")
    if gcc is None or qemu is None:
        missing("aarch64-linux-gnu-gcc and qemu-aarch64 (Debian gcc-aarch64-linux-gnu, qemu-user)")
    out = build_and_run(gcc, tmp_path / "ck_check_arm64", runner=(qemu, "-cpu", "max"), extra=("-static",))
    assert "best level 0" in out  # arm64 takes the portable path
