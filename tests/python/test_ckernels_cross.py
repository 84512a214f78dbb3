"""The C kernels on their own (tests/ckernels/ck_check.c): natively, for arm64, and on
the AVX-512 levels this machine may lack.

The Swift suite covers every kernel on this machine's ISAs; this check exists for the
arm64 build (Graviton), which this x86_64 machine cannot run Swift for: the same C
sources are cross-compiled with Debian's aarch64 gcc and run under qemu-aarch64, so
the portable path that arm64 uses is proven to build, to agree with the reference, and
to give the x86_64 build's bits (ck_check prints a digest of the portable level's
outputs: row dots of the types that share AVX2's order, attention, vector helpers).
Likewise for the AVX-512 and VNNI levels on a CPU without them (qemu-user has no
AVX-512): built with CK_X86_EMULATED, SIMDe's portable intrinsics stand in for them.
"""
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, cpu_flags, missing

SOURCES = sorted(str(p) for p in (REPO / "Sources" / "CKernels").glob("*.c")) + [str(REPO / "tests" / "ckernels" / "ck_check.c")]
INCLUDE = str(REPO / "Sources" / "CKernels" / "include")


def build_and_run(compiler, out, runner=(), extra=()):
    subprocess.run([compiler, "-O3", "-fno-math-errno", "-I", INCLUDE, *extra, *SOURCES, "-lm", "-o", str(out)],
                   check=True, capture_output=True, text=True)
    r = subprocess.run([*runner, str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert ", 0 failures" in r.stdout
    return r.stdout


def digest(out):
    m = re.search(r"portable digest ([0-9a-f]{16})", out)
    assert m, out[-2000:]
    return m.group(1)


def native_compilers():
    found = [c for c in (shutil.which("cc") or shutil.which("clang"), shutil.which("gcc")) if c]
    if not found:
        missing("a C compiler")
    return list(dict.fromkeys(found))


def test_c_kernels_match_the_reference_on_every_native_level(tmp_path):
    for i, cc in enumerate(native_compilers()):
        out = build_and_run(cc, tmp_path / f"ck_check{i}")
        assert "checks" in out


def test_c_kernels_build_and_give_the_native_portable_bits_on_arm64_under_qemu(tmp_path):
    gcc, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64")
    if gcc is None or qemu is None:
        missing("aarch64-linux-gnu-gcc and qemu-aarch64 (Debian gcc-aarch64-linux-gnu, qemu-user)")
    out = build_and_run(gcc, tmp_path / "ck_check_arm64", runner=(qemu, "-cpu", "max"), extra=("-static",))
    assert "best level 0" in out  # arm64 takes the portable path
    native = {digest(build_and_run(cc, tmp_path / f"ck_native{i}")) for i, cc in enumerate(native_compilers())}
    assert native == {digest(out)}, "the arm64 portable path's bits differ from the x86_64 build's"


def test_avx512_and_vnni_levels_give_the_portable_bits_when_simde_stands_in_for_them(tmp_path):
    if platform.machine() != "x86_64":
        pytest.skip("the AVX-512 levels are x86_64 code")
    if not {"avx2", "fma", "f16c"} <= cpu_flags():
        pytest.skip("the emulated build runs AVX2 natively; this CPU lacks it")
    if not Path("/usr/include/simde/x86/avx512.h").exists():
        missing("SIMDe's headers (Debian libsimde-dev)")
    native = {digest(build_and_run(cc, tmp_path / f"ck_native{i}")) for i, cc in enumerate(native_compilers())}
    for i, cc in enumerate(native_compilers()):
        out = build_and_run(cc, tmp_path / f"ck_emulated{i}",
                            extra=("-DCK_X86_EMULATED", "-mavx2", "-mfma", "-mf16c", "-Wno-psabi"))
        assert "best level 3" in out  # every level ran, VNNI included
        assert {digest(out)} == native
