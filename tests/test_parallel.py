"""``topocheck check -j N``: many files in several processes, the output ordered
and the same bytes as a one-process run."""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

import checker.cli as cli
from tests.conftest import MODELS

MODEL_FILES = sorted(MODELS.rglob("*.topo"))


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of 120 topology files in nested folders, a broken one among them."""
    root = tmp_path_factory.mktemp("repo")
    for index in range(120):
        folder = root / f"team{index % 7}" / f"svc{index % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(MODEL_FILES[index % len(MODEL_FILES)], folder / f"{index:04d}.topo")
    (root / "team0" / "broken.topo").write_text("web {\n")
    return root


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_parallel_output_is_identical_to_one_process(repository: Path, fmt: str) -> None:
    single = run(["check", "-j", "1", "--format", fmt, str(repository)])
    double = run(["check", "-j", "2", "--format", fmt, str(repository)])
    assert single == double
    assert single[0] == 1  # the broken file fails the run


def test_reports_come_in_path_order(repository: Path) -> None:
    _, out, _ = run(["check", "-j", "2", str(repository)])
    summaries = [line.split(": ", 1)[0] for line in out.splitlines() if line.endswith(")") or " proved, " in line]
    files = [s for s in summaries if s.endswith(".topo")]
    assert files == sorted(files, key=lambda p: Path(p).parts) and len(files) == 121


def test_workers_are_used_for_many_files(monkeypatch: pytest.MonkeyPatch, repository: Path) -> None:
    import os

    from checker.results import FileReport

    # Workers are forked after the patch, so they run the stand-in; it reports its process id.
    import time

    monkeypatch.setattr(cli, "check_file",
                        lambda job: time.sleep(0.01) or FileReport(f"{job[0]}@{os.getpid()}", ()))
    files, _ = cli.collect_files([str(repository)])
    reports = cli.check_files([(path, cli.Options(), None, []) for path in files], 2)
    assert [r.path.split("@")[0] for r in reports] == [str(p) for p in files]
    pids = {r.path.split("@")[1] for r in reports}
    assert str(os.getpid()) not in pids and len(pids) == 2  # both cores were used


def test_small_runs_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("a pool was started for a small run")

    monkeypatch.setattr("concurrent.futures.ProcessPoolExecutor", no_pool)
    jobs = [(path, cli.Options(), None, []) for path in MODEL_FILES[: cli.PARALLEL_MIN_FILES - 1]]
    assert len(cli.check_files(jobs, 2)) == len(jobs)


def test_a_crash_in_one_file_is_reported_against_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for index in range(3):
        shutil.copy(MODEL_FILES[0], tmp_path / f"{index}.topo")

    def explode(text, path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if path.endswith("1.topo"):
            raise ValueError("boom")
        return original(text, path, *args, **kwargs)

    original = cli.check_text
    monkeypatch.setattr(cli, "check_text", explode)
    code, out, err = run(["check", str(tmp_path)])
    assert code == 2
    assert "internal error in check 'file': ValueError: boom; please report it" in out
    assert f"{tmp_path / '2.topo'}: " in out and "Traceback" not in err


def test_grammar_cache_survives_corruption_and_concurrent_runs(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "TOPOCHECK_CACHE_DIR": str(tmp_path / "cache")}
    seed = str(MODEL_FILES[0])
    command = [sys.executable, "-m", "checker", "check", "--format", "json", seed]
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(4)]
    outputs = {(run.wait(timeout=120), run.stdout.read(), run.stderr.read()) for run in runs}
    assert len(outputs) == 1 and b"Traceback" not in next(iter(outputs))[2]
    (cached,) = (tmp_path / "cache").glob("grammar-*.json")
    cached.write_bytes(b"not a pickle")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == next(iter(outputs))
    assert cached.read_bytes() != b"not a pickle"  # rebuilt
