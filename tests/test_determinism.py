"""The same input gives the same bytes: across runs, processes and hash seeds."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import MODELS, ROOT

FILES = [
    MODELS / "seed" / "04-replication.topo",
    MODELS / "seed" / "05-multi-datacenter.topo",
    MODELS / "examples" / "write-to-replica.topo",
    MODELS / "examples" / "partial-internet-deny.topo",
]


def run_with_seed(seed: str, fmt: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "checker", "check", "-j", "1", "--format", fmt, *map(str, FILES)],
        capture_output=True, cwd=ROOT, env=env, timeout=300,
    )


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_same_bytes_across_hash_seeds(fmt: str) -> None:
    first = run_with_seed("0", fmt)
    second = run_with_seed("4242", fmt)
    assert first.returncode in (0, 1) and b"Traceback" not in first.stderr
    assert (first.returncode, first.stdout, first.stderr) == (second.returncode, second.stdout, second.stderr)


def test_fmt_output_is_stable_across_hash_seeds() -> None:
    outputs = []
    for seed in ("1", "977"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "checker", "fmt", "--diff", *map(str, FILES)],
                              capture_output=True, cwd=ROOT, env=env, timeout=120)
        outputs.append((done.returncode, done.stdout))
    assert outputs[0] == outputs[1]
