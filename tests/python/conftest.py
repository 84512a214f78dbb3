"""Shared fixtures for the Python oracle tests.

Assets live outside the repo (scripts/setup-assets fills the cache). Policy:
a missing asset or binary skips the test, unless LAMBDA_LLM_REQUIRE_ASSETS=1
(CI), where it fails so nothing passes by silently not running.

Env: LAMBDA_LLM_BIN (default .build/release/lambda-llm), LAMBDA_LLM_CACHE
(default $XDG_CACHE_HOME/lambda-llm or ~/.cache/lambda-llm).
"""
import hashlib
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "reference"))


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def assets_required():
    return os.environ.get("LAMBDA_LLM_REQUIRE_ASSETS") == "1"


def cpu_flags():
    """This CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def missing(what):
    """Skips, or fails when assets are required."""
    message = f"{what} (run scripts/setup-assets; build with swift build -c release)"
    if assets_required():
        pytest.fail("required asset missing: " + message)
    pytest.skip("asset missing: " + message)


@pytest.fixture(scope="session")
def cache_dir():
    env = os.environ.get("LAMBDA_LLM_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lambda-llm"


@pytest.fixture(scope="session")
def smollm2_path(cache_dir):
    path = cache_dir / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        missing(f"model {path}")
    return path


@pytest.fixture(scope="session")
def lambda_llm_bin():
    path = Path(os.environ.get("LAMBDA_LLM_BIN") or REPO / ".build" / "release" / "lambda-llm")
    if not (path.is_file() and os.access(path, os.X_OK)):
        missing(f"binary {path} (set LAMBDA_LLM_BIN)")
    return path
