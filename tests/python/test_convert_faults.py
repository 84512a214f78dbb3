"""Faults while writing a conversion: the disk fills up or the file hits a size limit.

Either way `convert` must exit with an error naming the output and the cause, and leave
nothing behind: no file under the final name and no temporary file beside it.
"""
import os
import resource
import signal
import subprocess

import pytest


def convert(bin_path, model, out, preexec=None):
    return subprocess.run([str(bin_path), "convert", str(model), "-o", str(out), "--type", "int8", "--threads", "2"],
                          capture_output=True, text=True, timeout=300, preexec_fn=preexec)


def test_disk_full_leaves_no_partial_output(tmp_path, lambda_llm_bin, smollm2_path):
    small = tmp_path / "small"
    small.mkdir()
    # An 8 MB tmpfs fills up after a few tensors of the 143 MB int8 output.
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(small)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): " + mounted.stderr.decode().strip())
    try:
        out = small / "model.gguf"
        r = convert(lambda_llm_bin, smollm2_path, out)
        assert r.returncode == 1, r.stderr
        assert str(out) in r.stderr
        assert "No space left on device" in r.stderr
        assert "Fatal error" not in r.stderr and "Traceback" not in r.stderr
        assert os.listdir(small) == []
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_file_size_limit_leaves_no_partial_output(tmp_path, lambda_llm_bin, smollm2_path):
    def limit_file_size():
        # Ignored SIGXFSZ turns the limit into an EFBIG write error instead of a kill.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 << 20, 8 << 20))

    out = tmp_path / "model.gguf"
    r = convert(lambda_llm_bin, smollm2_path, out, preexec=limit_file_size)
    assert r.returncode == 1, r.stderr
    assert str(out) in r.stderr
    assert "File too large" in r.stderr
    assert os.listdir(tmp_path) == []
