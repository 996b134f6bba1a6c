"""Every limit of checker/limits.py (spec/LIMITS.md), hit on purpose: each gives a
clear, located result or message and the documented exit status, never a crash."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import replace
from pathlib import Path

import pytest

import checker.cli as cli
from checker import limits
from checker.api import check_text, check_topology, load_text
from checker.checks import registry
from checker.context import Options
from checker.limits import CheckTimeout, Limits, deadline, effective_k
from checker.model import Span
from checker.results import Result, Severity, Status
from tests.conftest import ROOT

SMALL = "zone a\nweb w1 zone a address 10.0.0.1\nweb w2 zone a address 10.0.0.2\nallow any -> any\nallow any -> w1\n"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def only_limit(text: str, limits_: Limits) -> Result:
    loaded = load_text(text, "l.topo", limits_)
    assert loaded.topology is None and len(loaded.results) == 1
    result = loaded.results[0]
    assert (result.id, result.status, result.severity) == ("limit", Status.REFUTED, Severity.ERROR)
    return result


def test_text_over_the_size_limit_is_located_where_it_crosses() -> None:
    result = only_limit(SMALL, Limits(max_file_bytes=20))
    assert "the limit is 20 bytes" in result.message
    assert (result.span.line, result.span.column) == (2, 14)  # byte 20 is on line 2
    assert load_text(SMALL, "l.topo", Limits(max_file_bytes=len(SMALL))).topology is not None


@pytest.mark.parametrize(
    ("field", "line", "what"),
    [("max_components", 3, "components"), ("max_rules", 5, "rules")],
)
def test_counts_over_the_limit_point_at_the_first_one_too_many(field: str, line: int, what: str) -> None:
    result = only_limit(SMALL, Limits(**{field: 1}))
    assert result.message == f"more than 1 {what} in one file (the limit)"
    assert (result.span.line, result.span.column) == (line, 1)


def test_cluster_members_count_as_components() -> None:
    text = "cluster c {\n  db a { primary }\n  db b { replica }\n}\n"
    result = only_limit(text, Limits(max_components=1))
    assert result.span.line == 3 and "components" in result.message
    assert only_limit(text, Limits(max_clusters=0)).span.line == 1


def test_requirements_and_checks_are_counted() -> None:
    text = "web a\nweb b\na uses b\nb uses a\ncheck no-spof\ncheck private-web\n"
    assert only_limit(text, Limits(max_requirements=1)).span.line == 4
    assert only_limit(text, Limits(max_checks=1)).span.line == 6


def test_huge_numbers_are_limits_not_crashes() -> None:
    loaded = load_text("web w\ncheck no-spof k=" + "9" * 5000 + "\n", "k.topo")
    (result,) = loaded.results
    assert result.id == "limit" and (result.span.line, result.span.column) == (2, 17)
    loaded = load_text("web w listen tcp/" + "9" * 5000 + "\n", "p.topo")
    (result,) = loaded.results
    assert result.id == "syntax" and "out of range 0-65535" in result.message
    assert load_text("web w\ncheck no-spof k=" + "9" * 18 + "\n").topology is not None


def test_effective_k_is_bounded_by_the_units() -> None:
    assert effective_k(10**18, 7) == 7
    assert effective_k(2, 7) == 2
    assert effective_k(5, 0) == 0


def test_a_huge_k_is_answered_quickly() -> None:
    text = (ROOT / "models" / "seed" / "04-replication.topo").read_text()
    text += "check no-spof k=999999999999999999\ncheck write-to-primary k=999999999999999999\n"
    started = time.monotonic()
    report = check_text(text, "k.topo", Options(timeout=20))
    assert time.monotonic() - started < 60
    assert {r.status for r in report.results} <= {Status.PROVED, Status.REFUTED, Status.UNKNOWN}
    assert all(r.id != "internal-error" for r in report.results)


class _Stuck:
    """A stand-in check module whose run never finishes, or fails in a given way."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error

    def run(self, topology, request, context):  # noqa: ANN001 - the check interface
        if self.error is not None:
            raise self.error
        while True:
            time.sleep(0.01)
        yield  # pragma: no cover


@pytest.mark.parametrize(
    ("stand_in", "reason"),
    [
        (_Stuck(), "could not finish: the file's time limit of 1 s (--timeout) ran out during this check"),
        (_Stuck(MemoryError()), "could not finish: the check ran out of memory"),
        (_Stuck(RecursionError()), "could not finish: the topology is nested too deeply"),
    ],
)
def test_a_check_that_cannot_finish_is_unknown(monkeypatch: pytest.MonkeyPatch, stand_in: _Stuck, reason: str) -> None:
    info = registry()["available"]
    patched = {**registry(), "available": type(info)(**{**info.__dict__, "module": stand_in})}
    monkeypatch.setattr("checker.api.registry", lambda: patched)
    topology = load_text(SMALL).topology
    results = [r for r in check_topology(topology, Options(timeout=1), select=["available"])]
    assert [(r.id, r.status, r.method) for r in results] == [("available", Status.UNKNOWN, "limit")]
    assert results[0].message.startswith(reason)


def test_deadline_interrupts_python_code_and_restores_the_alarm() -> None:
    import signal

    with pytest.raises(CheckTimeout):
        with deadline(0.05):
            while True:
                pass
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)


def test_unknown_fails_the_run_unless_unknown_ok(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "u.topo"
    path.write_text(SMALL)
    unknown = Result("available", Status.UNKNOWN, Severity.ERROR, "could not finish: test", None, "limit")
    monkeypatch.setattr(cli, "check_text", lambda text, p, *a, **k: cli.FileReport(p, (unknown,), text))
    assert run(["check", str(path)])[0] == 1
    assert run(["check", "--unknown-ok", str(path)])[0] == 0


def test_oversized_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.topo"
    path.write_text(SMALL)
    other = tmp_path / "ok.topo"
    other.write_text("web w address 203.0.113.1\n")
    monkeypatch.setattr(cli, "DEFAULT_LIMITS", Limits(max_file_bytes=10))
    code, out, err = run(["check", str(path), str(other)])
    assert code == 1
    assert f"{path}:1:1: error[limit] the file is {len(SMALL)} bytes; the limit is 10 bytes" in out
    assert f"{other}: " in out  # the other file was still checked


def test_memory_cap_gives_a_clear_message() -> None:
    """A cap too small to start is a usage error; the smallest allowed one checks a
    seed model (in a worker capped at its share); 0 turns the cap off. A file that
    runs out of memory is tests/test_hostile.py's."""
    seed = str(ROOT / "models" / "seed" / "04-replication.topo")
    done = subprocess.run([sys.executable, "-m", "checker", "check", "--max-memory", "20", seed],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"topocheck: error: --max-memory must be 0 (no cap) or at least {limits.MIN_MEMORY_MB} MiB, not 20\n"
    for cap in (str(limits.MIN_MEMORY_MB), "0"):
        done = subprocess.run([sys.executable, "-m", "checker", "check", "--max-memory", cap, seed],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert (done.returncode, done.stderr) == (0, ""), done.stderr
        assert f"{seed}: 13 proved, 0 refuted, 0 unknown" in done.stdout


# A parse's peak memory beyond the text, in a fresh process (the test process's own peak
# would hide it), printed with what the parse made of the text.
_PARSE_PEAK = """
import resource, sys
from checker import parser
text = sys.stdin.read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = parser.parse(text, "x.topo")
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(grown // 1024, len(outcome.errors), len(outcome.statements), len(str(outcome.statements[0][2])))
"""

_RUNS = {  # each took 130-530 MB beyond its text to parse before the separators' and strings' fixes
    "blank lines": ("\n" * 600_000, 3),
    "CRLF blank lines": ("\r\n" * 600_000, 3),
    "separators": (";\n" * 300_000, 3),
    "a long string": (None, 3_000_002),
    "a string of escapes": (None, 3_000_002),
}


@pytest.mark.parametrize("run_of", list(_RUNS))
def test_long_runs_parse_in_bounded_memory(run_of: str) -> None:
    """Runs of blank lines or separators between two statements, and long strings, cost
    the parser a few bytes per line at most, not the regex engine's backtracking state
    or a token kept per separator."""
    if run_of == "a string of escapes" and sys.version_info < (3, 11):
        pytest.skip("a string's escapes are matched in bounded memory from Python 3.11 (possessive repeats)")
    between, name_length = _RUNS[run_of]
    if between is None:
        body = "a" * 3_000_000 if run_of == "a long string" else '\\"' * 1_500_000
        text = f'topology "{body}"\ninternet users\n'
    else:
        text = 'topology "x"\n' + between + "internet users\n"
    done = subprocess.run([sys.executable, "-c", _PARSE_PEAK], input=text, capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={**os.environ, "TOPOCHECK_CACHE_DIR": "off"})
    assert done.returncode == 0, done.stderr
    grown, errors, statements, first_name = (int(word) for word in done.stdout.split())
    assert (errors, statements, first_name) == (0, 2, name_length)
    assert grown < 40, f"parsing grew the peak by {grown} MB"


def test_usage_errors_for_bad_options() -> None:
    assert run(["check", "-j", "0", "."])[0] == 2
    assert run(["check", "--timeout", "0", "."])[0] == 2


def test_a_check_asked_again_with_the_same_parameters_is_answered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated `check` lines (up to 1,000 of them) cost one run each distinct request:
    each line still gets its results, located at its own line."""
    seed = (ROOT / "models" / "seed" / "04-replication.topo").read_text(encoding="utf-8")
    body = "".join(line + "\n" for line in seed.splitlines() if not line.startswith("check "))
    info = registry()["no-spof"]
    calls = []
    real = info.module.run

    def counting(topology, request, context):
        calls.append(request.params)
        return real(topology, request, context)

    monkeypatch.setattr(info.module, "run", counting)
    once = check_text(body + "check no-spof\n", "r.topo").results
    calls.clear()
    many = check_text(body + "check no-spof\ncheck no-spof k=2\ncheck no-spof\ncheck no-spof\n", "r.topo").results
    assert calls == [(), (("k", "2"),)]
    first_line = body.count("\n") + 1
    by_line = {}
    for result in many:
        if result.id == "no-spof":
            by_line.setdefault(result.span.line if result.span else None, []).append(result)
    expected = [r for r in once if r.id == "no-spof"]
    for line in (first_line, first_line + 2, first_line + 3):
        moved = [replace(r, span=Span(r.span.path, line, r.span.column, line, r.span.end_column))
                 if r.span and r.span.line == first_line
                 else r for r in expected]
        assert by_line[line] == moved
