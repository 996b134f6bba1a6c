"""Hostile pull requests (issue 15): every way an untrusted topology, file name or
folder could inject output, read outside the tree, or escape the time and memory
limits, reproduced with a small input generated here and bounded in time.

spec/LIMITS.md ("Untrusted input") documents what these tests pin.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

import checker.cli as cli
from checker import limits
from checker.api import check_text, load_text
from checker.checks import registry
from checker.config import find_config
from checker.context import Options
from checker.display import visible
from checker.reporters import github, markdown, sarif, text
from checker.results import Result, Severity, Status
from tests.conftest import ROOT, SHARED

GOOD = "web w address 203.0.113.1 listen tcp/443\nallow internet -> w tcp/443\ncheck available\n"
PLAIN = "web w address 203.0.113.1 listen tcp/443\nallow internet -> w tcp/443\n"  # the default checks run
SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def run_process(argv: list[str], timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "checker", *argv], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, **kwargs)


def repository(path: Path) -> Path:
    """``path`` made a repository root (a ``.git`` folder), so configuration lookup stops there."""
    path.mkdir(parents=True, exist_ok=True)
    (path / ".git").mkdir(exist_ok=True)
    return path


# -- 1. workflow-command injection --------------------------------------------


@pytest.mark.parametrize("name", ["x\n::warning file=evil.topo,line=1::INJECTED\n.topo",
                                  "y\r::warning::INJECTED\r.topo"])
def test_github_output_cannot_be_injected_through_a_file_name(tmp_path: Path, name: str) -> None:
    tree = repository(tmp_path / "tree")
    (tree / name).write_text("web w\n")
    code, out, _ = run(["check", "--format", "github", str(tree)])
    assert code == 1
    lines = out.splitlines()  # every line end Python knows, CR included
    commands = [line for line in lines if line.lstrip().startswith(("::", "##["))]
    assert all(line.startswith(("::", "topocheck: ")) for line in lines), lines
    findings = json.loads(run(["check", "--format", "json", str(tree)])[1])["files"][0]["results"]
    assert len(commands) == sum(1 for r in findings if r["status"] != "proved")
    assert not any(re.search(r"::warning", line.split("::", 2)[1]) for line in commands)
    assert lines[-1].startswith(f"topocheck: {tree}/{visible(name)}: ")
    assert "\\x0" in lines[-1] and "INJECTED" in lines[-1]


# -- 2. reading outside the tree -------------------------------------------------


def test_a_link_out_of_the_checked_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.topo").write_text("SECRET_TOKEN_hunter2 = 1\n")
    tree = repository(tmp_path / "tree")
    (tree / "good.topo").write_text(GOOD)
    (tree / "secret.topo").symlink_to(outside / "secret.topo")
    if Path("/proc/self/environ").exists():
        (tree / "environ.topo").symlink_to("/proc/self/environ")
    code, out, err = run(["check", str(tree)])
    assert code == 2
    assert "hunter2" not in out + err and "PATH=" not in out + err
    link = tree / "secret.topo"
    assert (f"{link}:1:1: error[io-error] cannot read '{link}': it links to '{outside / 'secret.topo'}', outside "
            f"the folder being checked ('{tree}'); pass --allow-outside-symlinks to read it") in out
    assert f"{tree / 'good.topo'}: " in out  # the others are still checked
    if Path("/proc/self/environ").exists():
        assert f"{tree / 'environ.topo'}:1:1: error[io-error] cannot read '{tree / 'environ.topo'}': it links to " in out
    # The flag reads it (it is not a topology, so it does not parse).
    code, out, _ = run(["check", "--allow-outside-symlinks", str(link)])
    assert code == 1 and f"{link}:1:" in out and "error[syntax]" in out


def test_links_inside_the_folder_are_followed_and_a_named_link_is_judged_by_its_own_folder(tmp_path: Path) -> None:
    tree = repository(tmp_path / "tree")
    (tree / "real").mkdir()
    (tree / "real" / "a.topo").write_text(GOOD)
    (tree / "sub").mkdir()
    (tree / "sub" / "up.topo").symlink_to(Path("..") / "real" / "a.topo")  # leaves sub/, stays in tree/
    (tree / "real" / "same.topo").symlink_to("a.topo")
    code, out, _ = run(["check", str(tree)])
    assert code == 0 and f"{tree / 'sub' / 'up.topo'}: " in out and f"{tree / 'real' / 'same.topo'}: " in out
    # Named on the command line, a link is judged against the folder that holds it.
    assert run(["check", str(tree / "real" / "same.topo")])[0] == 0
    code, out, _ = run(["check", str(tree / "sub" / "up.topo")])
    assert code == 2 and "outside the folder being checked ('" + str(tree / "sub") + "')" in out
    assert run(["check", "--allow-outside-symlinks", str(tree / "sub" / "up.topo")])[0] == 0


def test_render_and_fmt_refuse_links_out_of_the_folder_too(tmp_path: Path) -> None:
    outside = tmp_path / "outside.topo"
    outside.write_text("web   w\n")
    tree = repository(tmp_path / "tree")
    (tree / "l.topo").symlink_to(outside)
    code, out, err = run(["render", "--format", "dot", str(tree / "l.topo")])
    assert code == 2 and "pass --allow-outside-symlinks to read it" in err and out == ""
    code, out, err = run(["fmt", str(tree)])
    assert code == 2 and "pass --allow-outside-symlinks to read it" in err
    assert outside.read_text() == "web   w\n"


# -- 3. memory -------------------------------------------------------------------


def test_a_file_that_exhausts_memory_is_a_located_result_and_the_others_are_checked(tmp_path: Path) -> None:
    tree = repository(tmp_path / "tree")
    (tree / "big.topo").write_text("web a\nallow " + "a, " * 2_500_000 + "a -> a\n")  # over 300 MB to parse
    (tree / "ok.topo").write_text(GOOD)
    started = time.monotonic()
    done = run_process(["check", "--max-memory", "256", "--timeout", "60", str(tree)])  # a worker gets 192 MiB
    assert time.monotonic() - started < 60
    assert "Traceback" not in done.stderr and "Fatal Python error" not in done.stderr, done.stderr
    big = tree / "big.topo"
    assert done.returncode == 1, done.stderr
    assert re.search(rf"^{re.escape(str(big))}:1:1: error \(unknown\)\[limit\] could not finish: .*memory",
                     done.stdout, re.M), done.stdout
    assert f"{tree / 'ok.topo'}: " in done.stdout and "ok.topo:1:1" not in done.stdout


def test_running_out_of_memory_in_process_is_located(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "a.topo").write_text(GOOD)
    (tmp_path / "b.topo").write_text(GOOD)
    original = cli.check_text

    def starved(text_, path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if path.endswith("a.topo"):
            raise MemoryError
        return original(text_, path, *args, **kwargs)

    monkeypatch.setattr(cli, "check_text", starved)
    code, out, err = run(["check", str(tmp_path)])
    assert code == 1 and err == ""
    assert (f"{tmp_path / 'a.topo'}:1:1: error (unknown)[limit] could not finish: checking the file ran out of "
            f"memory (--max-memory)\n{tmp_path / 'a.topo'}: 0 proved, 0 refuted, 1 unknown") in out  # no echo
    assert f"{tmp_path / 'b.topo'}: " in out


def test_memory_options_are_checked() -> None:
    code, _, err = run(["check", "--max-memory", "20", "."])
    assert code == 2 and "--max-memory must be 0 (no cap) or at least 128 MiB, not 20" in err


# -- 4. output that grows faster than the input ------------------------------------------


def _undefined_on_one_line(n: int) -> str:
    return "web a\nallow " + ", ".join(f"missing{i}" for i in range(n)) + " -> a tcp/80\n"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "markdown"])
def test_no_format_grows_faster_than_the_input(fmt: str) -> None:
    render = {"text": text.render, "github": github.render, "markdown": markdown.render, "sarif": sarif.render,
              "json": __import__("checker.reporters.json_report", fromlist=["render"]).render}[fmt]
    fan = lambda n: ("lb lb address 203.0.113.1 listen tcp/443 -> " + ", ".join(f"w{i}" for i in range(n))  # noqa: E731
                     + " tcp/80\n" + "".join(f"web w{i} address 10.0.{i // 250}.{i % 250 + 1}\nw{i} uses x\n"
                                             for i in range(n)))
    for family in (_undefined_on_one_line, fan):
        ratios = []
        for n in (100, 800):
            source = family(n)
            ratios.append(len(render([check_text(source, "g.topo", Options(timeout=30))])) / len(source))
        assert ratios[1] <= ratios[0] * 1.25 + 1, (family, ratios)
        assert ratios[1] < 60, (family, ratios)


def test_a_long_source_line_is_echoed_around_the_caret() -> None:
    source = "web a\nallow " + "a, " * 3000 + "nowhere -> a tcp/80\n"
    out = text.render([check_text(source, "l.topo")])
    column = source.split("\n")[1].index("nowhere") + 1
    head, echo, caret = out.splitlines()[:3]
    assert head == f"l.topo:2:{column}: error[undefined-name] undefined rule endpoint 'nowhere'"
    assert len(echo) <= limits.MAX_ECHO_COLUMNS + 20 and echo.startswith("     2 | ...")
    assert "nowhere -> a tcp/80" in echo
    assert echo.index("nowhere") == caret.index("^") and caret.count("^") == len("nowhere")


def test_a_line_of_many_open_blocks_is_located_in_linear_time() -> None:
    """The unclosed-brace analysis reads each brace in constant time: on a line of 100k
    'web w {' it once copied the line before every brace (quadratic: over 20 s, so the
    file's time ran out before it was parsed); now the brace is found well within it."""
    report = check_text("web w {" * 100_000 + "\n", "b.topo", Options(timeout=20))
    [result] = report.results
    assert (result.id, result.status.value, result.span.line, result.span.column) == ("syntax", "refuted", 1, 8)
    assert result.message == "unclosed '{': a block must end with '}'; found 'web'"


def test_resolution_errors_are_capped() -> None:
    source = "zone a\n" * (limits.MAX_RESOLUTION_ERRORS + 50)
    report = check_text(source, "z.topo")
    assert [r.id for r in report.results] == ["duplicate-name"] * limits.MAX_RESOLUTION_ERRORS
    assert report.results[-1].span.line == limits.MAX_RESOLUTION_ERRORS + 1
    assert report.skipped == (f"the file has {limits.MAX_RESOLUTION_ERRORS + 49:,} errors, the first "
                              f"{limits.MAX_RESOLUTION_ERRORS} shown, so no check ran")
    assert text.render([report]).splitlines()[-1].endswith(f"({report.skipped})")


# -- 5. time ---------------------------------------------------------------------


def test_the_timeout_covers_parsing(tmp_path: Path) -> None:
    path = tmp_path / "slow.topo"
    path.write_text(";" * 1_000_000)  # seconds to parse
    started = time.monotonic()
    code, out, _ = run(["check", "--timeout", "0.3", str(path)])
    assert time.monotonic() - started < 2.5
    assert code == 1
    assert out.startswith(f"{path}:1:1: error (unknown)[limit] could not finish: the file's time limit of 0.3 s "
                          "(--timeout) ran out before the file was parsed\n")


class _Slow:
    """A stand-in check that computes for ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def run(self, topology, request, context):  # noqa: ANN001 - the check interface
        until = time.monotonic() + self.seconds
        while time.monotonic() < until:
            pass
        return [Result(request.id, Status.PROVED, Severity.ERROR, "held", None, "test")]


def _slow_checks(monkeypatch: pytest.MonkeyPatch, seconds: float) -> list[str]:
    ids = ["available", "no-spof", "private-web"]
    patched = dict(registry())
    for check_id in ids:
        patched[check_id] = type(patched[check_id])(**{**patched[check_id].__dict__, "module": _Slow(seconds)})
    monkeypatch.setattr("checker.api.registry", lambda: patched)
    return ids


def test_the_timeout_bounds_all_checks_of_a_file_together(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ids = _slow_checks(monkeypatch, 0.6)
    path = tmp_path / "a.topo"
    path.write_text(PLAIN)
    started = time.monotonic()
    code, out, _ = run(["check", "--format", "json", "--select", ",".join(ids), "--timeout", "1", str(path)])
    assert time.monotonic() - started < 2.5
    results = {r["id"]: r for r in json.loads(out)["files"][0]["results"]}
    assert code == 1
    assert results["available"]["status"] == "proved"
    assert results["no-spof"]["message"] == ("could not finish: the file's time limit of 1 s (--timeout) ran out "
                                             "during this check")
    assert results["private-web"]["message"] == ("could not finish: the file's time limit of 1 s (--timeout) ran "
                                                 "out before this check started")
    assert {results[i]["status"] for i in ("no-spof", "private-web")} == {"unknown"}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_total_timeout_bounds_the_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, jobs: str) -> None:
    ids = _slow_checks(monkeypatch, 0.3)
    for index in range(cli.PARALLEL_MIN_FILES):
        (tmp_path / f"{index:02d}.topo").write_text(PLAIN)
    started = time.monotonic()
    code, out, _ = run(["check", "-j", jobs, "--format", "json", "--select", ",".join(ids), "--total-timeout", "1.5",
                        str(tmp_path)])
    assert time.monotonic() - started < 4
    files = json.loads(out)["files"]
    assert code == 1 and len(files) == cli.PARALLEL_MIN_FILES
    assert files[0]["results"][0]["status"] == "proved"
    last = files[-1]["results"]
    assert [(r["id"], r["status"], r["message"]) for r in last] == [
        ("limit", "unknown", "not checked: the run's time limit of 1.5 s (--total-timeout) ran out before this file "
                             "was started")]


def test_unchecked_files_fail_even_with_unknown_ok(tmp_path: Path) -> None:
    path = tmp_path / "slow.topo"
    path.write_text(";" * 1_000_000)
    assert run(["check", "--unknown-ok", "--timeout", "0.3", str(path)])[0] == 1


def test_a_worker_that_overruns_its_time_is_stopped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Native code that ignores the alarm: the main process ends the worker."""
    monkeypatch.setattr(limits, "KILL_GRACE", 0.5)

    def stuck(job):  # noqa: ANN001, ANN202
        if job[0].name == "03.topo":
            signal.signal(signal.SIGALRM, signal.SIG_IGN)  # as if a C library swallowed it
            time.sleep(60)
        return cli.FileReport(str(job[0]), ())

    monkeypatch.setattr(cli, "check_file", stuck)
    jobs = [(tmp_path / f"{i:02d}.topo", Options(timeout=0.5), None, []) for i in range(cli.PARALLEL_MIN_FILES)]
    started = time.monotonic()
    reports = cli.check_files(jobs, 2)
    assert time.monotonic() - started < 10
    (result,) = reports[3].results
    assert (result.id, result.status.value, result.span.line) == ("limit", "unknown", 1)
    assert result.message == ("could not finish: the file's time limit of 0.5 s (--timeout) ran out; the process "
                              "checking it was stopped")
    assert [r.path for r in reports] == [str(job[0]) for job in jobs]


# -- 6. control characters ------------------------------------------------------------


@pytest.mark.parametrize(("source", "line", "column", "code"), [
    ("zone a # clear \x1b[2J screen\n", 1, 16, "001B"),
    ('topology "bell\x07"\n', 1, 15, "0007"),
    ("zone a\nzone b # \x9b31m\n", 2, 10, "009B"),
    ("zone a\rallow internet -> any any\n", 1, 7, "000D"),
    ("zone a\x0c\n", 1, 7, "000C"),
    ("zone a # hidden \u202e\u2066 text\n", 1, 17, "202E"),
    ("zone a # line\u2028allow any -> any\n", 1, 14, "2028"),
])
def test_control_characters_are_syntax_errors_even_in_comments_and_strings(
        source: str, line: int, column: int, code: str) -> None:
    (error,) = load_text(source, "c.topo").results
    assert (error.id, error.span.line, error.span.column) == ("syntax", line, column)
    assert error.message == f"control character U+{code} is not allowed in a topology file"


def test_crlf_and_tabs_are_still_accepted() -> None:
    assert load_text("zone a\t# a comment\r\nweb w zone a\r\n", "t.topo").topology is not None


def test_control_characters_are_escaped_in_every_human_format(tmp_path: Path) -> None:
    tree = repository(tmp_path / "tree")
    name = "evil\x1b]52;c;aGk=\x07\x1b[2J.topo"
    (tree / name).write_text("web w # \x1b]8;;http://x\x07\n")
    for fmt in ("text", "github", "markdown"):
        code, out, err = run(["check", "--format", fmt, str(tree)])
        assert code == 1
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", out + err), (fmt, out)
        assert "evil\\x1b]52;c;aGk=\\x07\\x1b[2J.topo" in out
    _, out, _ = run(["check", str(tree)])
    assert "\n     1 | web w # \\x1b]8;;http://x\\x07\n" in out
    assert "\n       |         ^^^^\n" in out  # the caret under the escaped character
    code, out, err = run(["render", "--format", "dot", str(tree / name)])
    assert code == 1 and not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", out + err)
    drawn = tree / "ok\x1b[2J\u202e.topo"
    drawn.write_text(GOOD)
    import shutil

    for fmt in ("dot", "mermaid") + (("html",) if shutil.which("dot") else ()):
        code, out, err = run(["render", "--format", fmt, str(drawn)])
        assert code == 0, err
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]", out), fmt
        shown = {"dot": r"ok\\x1b[2J\\u202e.topo", "html": r"ok\x1b[2J\u202e.topo"}  # DOT doubles backslashes
        assert fmt == "mermaid" or shown[fmt] in out, fmt


# -- 7. Markdown ------------------------------------------------------------------


def test_markdown_never_copies_html_mentions_or_line_breaks_from_the_input(tmp_path: Path) -> None:
    tree = repository(tmp_path / "tree")
    (tree / "a`b.topo").write_text("web w address 203.0.113.1  # topocheck: ignore[no-spof] <img src=x "
                                   "onerror=alert(1)> cc @octocat | `x` *y* &lt;b&gt;\n")
    (tree / "c.topo").write_text("zone a\n<script>\n")
    code, out, _ = run(["check", "--format", "markdown", str(tree)])
    assert code == 1
    assert "<img" not in out and "<script" not in out and "@octocat" not in out
    assert "&lt;img src=x onerror=alert(1)> cc @&#8203;octocat \\| \\`x\\` \\*y\\* &amp;lt;b&amp;gt;" in out
    assert "found '&lt;'" in out
    assert f"## ``{tree}/a`b.topo``" in out
    table = [line for line in out.splitlines() if line.startswith("| `")]
    assert table and all(line.replace("\\|", "").count("|") == 6 for line in table), table


# -- 8. file names that are not UTF-8, and --output ----------------------------------


def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(tmp_path: Path) -> None:
    import jsonschema

    tree = repository(tmp_path / "tree")
    raw = os.fsencode(str(tree)) + b"/caf\xe9.topo"
    with open(raw, "w", encoding="utf-8") as handle:
        handle.write("web w\n")
    shown = f"{tree}/caf\\xe9.topo"
    for fmt in ("text", "json", "sarif", "github", "markdown"):
        out_file = tmp_path / f"report.{fmt}"
        code, out, err = run(["check", "--format", fmt, "--output", str(out_file), str(tree)])
        assert code == 1, (fmt, err)
        data = out_file.read_bytes()
        data.decode("utf-8")  # valid UTF-8
        assert shown.encode() in data or fmt in ("json", "sarif"), fmt
    document = json.loads((tmp_path / "report.sarif").read_text(encoding="utf-8"))
    if SCHEMA.exists():
        jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    uri = document["runs"][0]["artifacts"][0]["location"]["uri"]
    assert uri.endswith("/caf%E9.topo")
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["files"][0]["path"] == shown


def test_output_is_written_atomically(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "a.topo").write_text(GOOD)
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir()
    report.write_text("previous report\n")

    def failing_write(handle, text_):  # noqa: ANN001, ANN202
        handle.write(text_[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("checker.files._write_text", failing_write)
    code, _, err = run(["check", "--format", "json", "--output", str(report), str(tmp_path / "a.topo")])
    assert code == 2 and f"cannot write '{report}': No space left on device" in err
    assert report.read_text() == "previous report\n"
    assert sorted(p.name for p in report.parent.iterdir()) == ["report.json"]  # no temporary left behind
    monkeypatch.undo()
    report.chmod(0o640)
    assert run(["check", "--format", "json", "--output", str(report), str(tmp_path / "a.topo")])[0] == 0
    assert json.loads(report.read_text())["files"][0]["path"] == str(tmp_path / "a.topo")
    assert stat.S_IMODE(report.stat().st_mode) == 0o640


def test_output_onto_a_checked_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.topo"
    path.write_text(GOOD)
    (tmp_path / "link.topo").symlink_to(path)
    for target in (path, tmp_path / "link.topo"):
        code, out, err = run(["check", "--output", str(target), str(tmp_path)])
        assert code == 2 and out == ""
        assert f"topocheck: error: --output '{target}' is a file being checked; write the report elsewhere" in err
    code, _, err = run(["render", "--format", "dot", "--output", str(path), str(path)])
    assert code == 2 and "is the file being drawn" in err
    assert path.read_text() == GOOD


# -- 10. timeouts that are not numbers of seconds -------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300", "-1", "0", "ten", ""])
@pytest.mark.parametrize("option", ["--timeout", "--total-timeout"])
def test_timeouts_must_be_finite_positive_seconds(option: str, value: str) -> None:
    code, out, err = run(["check", f"{option}={value}", "."])
    assert code == 2 and out == ""
    assert (f"argument {option}: must be a number of seconds greater than 0 and at most "
            f"{limits.MAX_TIMEOUT:,}, not '{value}'") in err


@pytest.mark.parametrize("value", ["nan", "inf", "1e300"])
def test_configured_timeout_must_be_finite(tmp_path: Path, value: str) -> None:
    tree = repository(tmp_path / "tree")
    (tree / "topocheck.toml").write_text(f"timeout = {value}\n")
    (tree / "a.topo").write_text(GOOD)
    code, _, err = run(["check", str(tree)])
    assert code == 2
    assert f"'timeout' must be a number of seconds greater than 0 and at most {limits.MAX_TIMEOUT:,}" in err


# -- 11. memory per run, and workers killed by the system --------------------------------


_SHARES = """
import os, resource, sys
import checker.cli as cli
from checker.results import FileReport
cli.check_file = lambda job: FileReport(f"{resource.getrlimit(resource.RLIMIT_AS)[0]}@{os.getpid()}", ())
from checker.limits import apply_memory_limit
apply_memory_limit(int(sys.argv[1]))
jobs = [(cli.Path(f"{i}.topo"), cli.Options(), None, []) for i in range(40)]
for report in cli.check_files(jobs, int(sys.argv[2])):
    print(report.path)
print("main", resource.getrlimit(resource.RLIMIT_AS)[0])
"""


@pytest.mark.parametrize(("cap", "main_share"), [(2000, 500), (4096, limits.MAIN_MEMORY_MB)])
def test_the_memory_cap_is_shared_by_the_processes_of_a_run(cap: int, main_share: int) -> None:
    done = subprocess.run([sys.executable, "-c", _SHARES, str(cap), "2"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    workers = {line.split("@")[1]: int(line.split("@")[0]) for line in lines if "@" in line}
    assert limits.main_memory_mb(cap) == main_share  # a quarter of the cap, at most MAIN_MEMORY_MB
    assert sorted(workers.values()) == [(cap - main_share) // 2 * 2**20] * 2
    assert lines[-1] == f"{cap * 2**20}"  # the main process gets its whole cap back for the report

@pytest.mark.parametrize(("cap", "count", "each"), [(1200, 1, 900), (4096, 7, 512)])
def test_fewer_workers_start_when_the_cap_is_small(cap: int, count: int, each: int) -> None:
    """-j 8 is lowered until each worker has at least MIN_WORKER_MEMORY_MB."""
    done = subprocess.run([sys.executable, "-c", _SHARES, str(cap), "8"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    workers = {line.split("@")[1]: int(line.split("@")[0]) for line in done.stdout.split() if "@" in line}
    assert each >= limits.MIN_WORKER_MEMORY_MB > (cap - limits.main_memory_mb(cap)) // (count + 1)
    assert len(workers) <= count and set(workers.values()) == {each * 2**20}


def test_a_worker_killed_by_the_system_loses_only_its_own_file(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    def killed(job):  # noqa: ANN001, ANN202
        if job[0].name == "05.topo":
            os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's OOM killer does
        return cli.FileReport(str(job[0]), ())

    monkeypatch.setattr(cli, "check_file", killed)
    jobs = [(tmp_path / f"{i:02d}.topo", Options(), None, []) for i in range(40)]
    reports = cli.check_files(jobs, 2)
    assert [r.path for r in reports] == [str(job[0]) for job in jobs]
    (result,) = reports[5].results
    assert (result.id, result.status.value, result.span.line) == ("limit", "unknown", 1)
    assert result.message.startswith("could not finish: the process checking this file was killed by the system "
                                     "(signal 9), most likely for lack of memory")
    assert all(r.results == () for index, r in enumerate(reports) if index != 5)


def test_a_worker_that_crashes_is_an_internal_error_for_its_file(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    def crashes(job):  # noqa: ANN001, ANN202
        if job[0].name == "07.topo":
            os._exit(3)
        return cli.FileReport(str(job[0]), ())

    monkeypatch.setattr(cli, "check_file", crashes)
    reports = cli.check_files([(tmp_path / f"{i:02d}.topo", Options(), None, []) for i in range(20)], 2)
    (result,) = reports[7].results
    assert result.id == "internal-error"
    assert result.message == ("internal error in check 'file': the process checking this file stopped with exit "
                              "status 3; please report it")


# -- 12. the grammar cache -----------------------------------------------------------


def _cache_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TOPOCHECK_CACHE_DIR": str(tmp_path / "cache")}


def test_the_grammar_cache_never_runs_what_it_reads(tmp_path: Path) -> None:
    import pickle

    env = _cache_env(tmp_path)
    good = ROOT / "models" / "seed" / "01-single-server.topo"
    first = run_process(["check", "--format", "json", str(good)], env=env)
    (cached,) = (tmp_path / "cache").iterdir()
    assert cached.suffix == ".json" and json.loads(cached.read_text())  # data, not code
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):  # noqa: ANN204
            return (open, (str(marker), "w"))

    cached.write_bytes(pickle.dumps(Payload()))
    cached.chmod(0o600)
    again = run_process(["check", "--format", "json", str(good)], env=env)
    assert not marker.exists()
    assert (again.returncode, again.stdout) == (first.returncode, first.stdout)


def test_a_fifo_or_an_untrusted_cache_file_is_passed_over(tmp_path: Path) -> None:
    from checker import parser

    env = _cache_env(tmp_path)
    good = ROOT / "models" / "seed" / "01-single-server.topo"
    first = run_process(["check", "--format", "json", str(good)], env=env)
    (cached,) = (tmp_path / "cache").iterdir()
    content = cached.read_bytes()
    cached.unlink()
    os.mkfifo(cached)
    again = run_process(["check", "--format", "json", str(good)], env=env, timeout=60)  # never blocks
    assert (again.returncode, again.stdout) == (first.returncode, first.stdout)
    assert stat.S_ISFIFO(cached.lstat().st_mode)  # left alone
    cached.unlink()
    cached.write_bytes(content)
    cached.chmod(0o666)  # anyone could have written it
    assert parser._read_cache(cached) is None
    cached.chmod(0o600)
    assert parser._read_cache(cached) is not None
    (tmp_path / "cache").chmod(0o777)  # a folder anyone can write to
    try:
        assert parser._read_cache(cached) is None
    finally:
        (tmp_path / "cache").chmod(0o700)


# -- 13. configuration -----------------------------------------------------------------


def test_configuration_is_not_looked_up_above_the_repository(tmp_path: Path) -> None:
    (tmp_path / "topocheck.toml").write_text('ignore = ["private-web", "no-spof"]\n')
    (tmp_path / "pyproject.toml").write_text("this is not toml [\n")
    repo = repository(tmp_path / "repo")
    (repo / "sub").mkdir()
    (repo / "sub" / "a.topo").write_text(PLAIN)
    assert find_config(repo / "sub" / "a.topo") is None
    code, out, err = run(["check", "--verbose", "--format", "json", str(repo)])
    assert code in (0, 1), err
    ids = [r["id"] for r in json.loads(out)["files"][0]["results"]]
    assert "no-spof" in ids and "private-web" in ids
    assert f"topocheck: {repo / 'sub' / 'a.topo'}: no configuration file (searched up to '{repo}')" in err
    (repo / "topocheck.toml").write_text('ignore = ["no-spof"]\n')
    code, out, err = run(["check", "--verbose", "--format", "json", str(repo)])
    assert f"topocheck: {repo / 'sub' / 'a.topo'}: configuration from '{repo / 'topocheck.toml'}'" in err
    assert "no-spof" not in [r["id"] for r in json.loads(out)["files"][0]["results"]]


def test_a_linked_file_takes_the_configuration_of_the_link_s_folder(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo")
    (repo / "quiet").mkdir()
    (repo / "quiet" / "topocheck.toml").write_text('ignore = ["no-spof"]\n')
    (repo / "quiet" / "real.topo").write_text(PLAIN)
    (repo / "loud").mkdir()
    (repo / "loud" / "link.topo").symlink_to(Path("..") / "quiet" / "real.topo")
    code, out, err = run(["check", "--format", "json", str(repo)])
    ids = {f["path"]: [r["id"] for r in f["results"]] for f in json.loads(out)["files"]}
    assert "no-spof" in ids[str(repo / "loud" / "link.topo")]
    assert "no-spof" not in ids[str(repo / "quiet" / "real.topo")]


def test_a_fifo_named_like_a_configuration_is_not_read(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo")
    os.mkfifo(repo / "topocheck.toml")
    (repo / "a.topo").write_text(GOOD)
    code, out, err = run(["check", str(repo)])
    assert code == 0, err


# -- 14. deep folders, fmt and links, capped build errors ---------------------------------


def test_a_deeply_nested_folder(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo")
    folder = repo
    for _ in range(1100):
        folder = folder / "d"
        os.mkdir(folder)
    (folder / "a.topo").write_text(GOOD)
    (repo / "b.topo").write_text(GOOD)
    try:
        code, out, err = run(["check", str(repo)])
        assert code == 0, err
        assert f"{folder / 'a.topo'}: " in out and f"{repo / 'b.topo'}: " in out
    finally:  # shutil.rmtree (pytest's clean-up) recurses: empty it from the bottom
        (folder / "a.topo").unlink()
        while folder != repo:
            folder.rmdir()
            folder = folder.parent


def test_fmt_formats_the_target_of_a_link_and_keeps_the_link(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo")
    (repo / "real.topo").write_text("web   w\n")
    (repo / "link.topo").symlink_to("real.topo")
    code, out, err = run(["fmt", str(repo / "link.topo")])
    assert code == 0, err
    assert (repo / "link.topo").is_symlink() and os.readlink(repo / "link.topo") == "real.topo"
    assert (repo / "real.topo").read_text() == "web w\n"


# -- the documented limits are the enforced ones --------------------------------------


@pytest.mark.parametrize("name", ["MAX_RESOLUTION_ERRORS", "MAX_CONFIG_BYTES", "MAX_ECHO_COLUMNS",
                                  "MAX_DIAGRAM_CHARACTERS", "MAX_TIMEOUT", "DEFAULT_MEMORY_MB", "MIN_MEMORY_MB",
                                  "MIN_WORKER_MEMORY_MB", "MAIN_MEMORY_MB", "KILL_GRACE", "MAX_SYNTAX_ERRORS"])
def test_spec_limits_states_each_limit_with_its_value(name: str) -> None:
    from checker import parser

    value = getattr(limits, name, None)
    value = getattr(parser, name) if value is None else value
    shown = {f"{value:g}", f"{value:,}"} if isinstance(value, float) else {str(value), f"{value:,}"}
    lines = (ROOT / "spec" / "LIMITS.md").read_text(encoding="utf-8").splitlines()
    number = r"(?<!\d)(?<!\d,){}(?!\d|,\d)"
    assert any(f"`{name}`" in line and any(re.search(number.format(re.escape(v)), line) for v in shown)
               for line in lines), name


def test_a_configuration_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    tree = repository(tmp_path / "tree")
    (tree / "topocheck.toml").write_text("# padding\n" * (limits.MAX_CONFIG_BYTES // 10) + 'select = ["available"]\n')
    (tree / "a.topo").write_text(GOOD)
    code, out, err = run(["check", str(tree)])
    assert code == 2 and out == ""
    assert err == (f"topocheck: error: '{tree / 'topocheck.toml'}' is larger than {limits.MAX_CONFIG_BYTES:,} bytes, "
                   "the limit for a configuration file\n")


def test_a_diagram_larger_than_mermaid_draws_is_left_out() -> None:
    source = "".join(f"web server-{i:04d} address 10.0.{i // 250}.{i % 250 + 1}\n" for i in range(1500))
    out = markdown.render([cli.FileReport("big.topo", (), source)])
    assert "```mermaid" not in out
    size = int(re.search(r"left out: ([\d,]+) characters", out).group(1).replace(",", ""))
    assert size > limits.MAX_DIAGRAM_CHARACTERS and len(out) < 2000
    assert f"more than Mermaid draws ({limits.MAX_DIAGRAM_CHARACTERS:,})._" in out
    small = markdown.render([cli.FileReport("small.topo", (), "".join(source.splitlines(keepends=True)[:30]))])
    assert "```mermaid" in small and "left out" not in small
