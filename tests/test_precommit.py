"""The pre-commit hook, run by the real ``pre-commit try-repo`` against this repository.

pre-commit builds the hook's environment by installing this repository with pip
(from PyPI or the configured index), so the test needs pip to reach an index; it
is skipped, saying so, only when that installation fails for lack of network
(and fails under .ci/run, which has the network).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path


from tests.conftest import missing, require_program

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "models" / "seed"


def git(cwd: Path, *args: str) -> None:
    subprocess.run([require_program("git", "git"), *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def test_hook_file_declares_the_topocheck_hook() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "- id: topocheck\n" in text and "entry: topocheck check\n" in text and "files: \\.topo$\n" in text


def test_try_repo_passes_good_files_and_fails_bad_ones(tmp_path: Path) -> None:
    pre_commit = shutil.which("pre-commit")
    assert pre_commit, "pre-commit is in the test extra: pip install -e '.[test]'"
    require_program("git", "git")  # pre-commit clones this repository with git
    if not (ROOT / ".git").exists():
        missing("needs this repository as a git clone: pre-commit try-repo clones it")
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "test")
    shutil.copy(SEED / "04-replication.topo", repo / "good.topo")
    shutil.copy(SEED / "01-single-server.topo", repo / "bad.topo")
    (repo / "notes.txt").write_text("not a topology\n", encoding="utf-8")
    git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}

    # one run (installing the hook's environment takes most of the time): the good
    # file is checked and reported clean, the bad one fails the hook, others are not passed
    done = subprocess.run([pre_commit, "try-repo", str(ROOT), "topocheck", "--verbose", "--all-files"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    if done.returncode not in (0, 1) or ("Could not find a version" in output or "Network is unreachable" in output):
        last = next((line.strip() for line in reversed(output.splitlines()) if line.strip()), "")
        missing(f"pre-commit could not install the hook here (no package index reachable?): {last[:200]}")
    assert done.returncode == 1, output
    assert "topocheck" in output and "Failed" in output
    assert "bad.topo:33:5: error[private-web]" in output
    assert re.search(r"good\.topo: \d+ proved, 0 refuted, 0 unknown", output)
    assert not re.search(r"good\.topo:\d+:\d+:", output)  # no finding in the good file
    assert "notes.txt" not in output  # files: \.topo$
