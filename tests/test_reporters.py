"""SARIF, GitHub annotations, Markdown and text carry every check's counterexamples
generically: fields, related locations (failed units) and flows (paths)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from checker.cli import main
from checker.model import Span
from checker.reporters import github, markdown, sarif, text
from checker.results import Counterexample, FileReport, Hop, Result, Severity, Status
from checker.suppress import SuppressedEntry
from tests.conftest import require_shared

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "web w1 address 203.0.113.9\nlb lb1\nallow internet -> w1 443\nallow lb1 -> w1 443\n"


def span(line: int, col: int = 1, end: int = 6) -> Span:
    return Span("dir/m.topo", line, col, line, end)


def report(shift: int = 0) -> FileReport:
    """Results as the contract's checks report them; ``shift`` moves every line."""
    s = lambda line, c=1, e=6: span(line + shift, c, e)  # noqa: E731
    exposed = Counterexample(
        {"component": "w1", "packet": {"src": "198.51.100.1", "dst": "203.0.113.9", "protocol": "tcp", "port": 443},
         "path": ["internet", "lb1", "w1"], "rules": [3 + shift, 4 + shift]},
        related=(Hop("w1", s(1, 5, 7)),),
        flow=(Hop("internet", None), Hop("allow internet -> lb1", s(3)), Hop("lb1", s(2)), Hop("w1", s(1))),
    )
    spof = Counterexample({"failed": ["host:h1", "zone:a"], "stopped": ["www"], "explanation": ["x is down"]},
                          related=(Hop("host:h1", s(1)), Hop("zone:a", s(2))))
    accepted = SuppressedEntry(Counterexample({"failed": ["lb1"], "stopped": ["www"], "explanation": []},
                                              related=(Hop("lb1", s(2)),)),
                               {"failed": ["lb1"], "stopped": ["www"], "explanation": []}, "spare, 100% ok: really", 2)
    results = (
        Result("available", Status.PROVED, Severity.ERROR, "up", None, "evaluation"),
        Result("private-web", Status.REFUTED, Severity.ERROR, "w1 is reachable: 50%, a,b", s(1, 5, 7), "graph",
               (exposed,)),
        Result("no-spof", Status.REFUTED, Severity.ERROR, "spof", s(1), "graph", (spof,), margin=1,
               extra={"suppressed": [accepted]}),
        Result("zone-redundancy", Status.UNKNOWN, Severity.WARNING, "timed out", None, "z3"),
    )
    return FileReport("dir/m.topo", results, SOURCE)


def test_sarif_is_schema_valid() -> None:
    import jsonschema

    schema = require_shared("schemas/sarif-schema-2.1.0.json")
    jsonschema.validate(json.loads(sarif.render([report()])), json.loads(schema.read_text(encoding="utf-8")))


def test_sarif_maps_kinds_levels_locations_and_flows() -> None:
    document = json.loads(sarif.render([report()]))
    run = document["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert sorted(rules) == ["available", "no-spof", "private-web", "zone-redundancy"]  # one per check that ran
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    results = {(r["ruleId"], "suppressions" in r): r for r in run["results"]}
    assert results[("available", False)]["kind"] == "pass" and results[("available", False)]["level"] == "none"
    assert results[("zone-redundancy", False)]["kind"] == "open"
    exposed = results[("private-web", False)]
    assert exposed["kind"] == "fail" and exposed["level"] == "error"
    assert exposed["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "dir/m.topo"}, "region": {"startLine": 1, "startColumn": 5, "endLine": 1,
                                                              "endColumn": 7}}
    flow = exposed["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [(f["location"]["message"]["text"], f["location"]["physicalLocation"]["region"]["startLine"])
            for f in flow] == [("allow internet -> lb1", 3), ("lb1", 2), ("w1", 1)]
    spof = results[("no-spof", False)]
    assert [(r["message"]["text"], r["physicalLocation"]["region"]["startLine"]) for r in spof["relatedLocations"]] \
        == [("failed: host:h1", 1), ("failed: zone:a", 2)]
    assert spof["properties"]["margin"] == 1
    accepted = results[("no-spof", True)]
    assert accepted["suppressions"][0]["justification"] == "spare, 100% ok: really"
    assert accepted["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 2


def test_sarif_fingerprints_survive_moved_lines() -> None:
    def prints(rep: FileReport) -> list[str]:
        return [r["partialFingerprints"]["topocheck/v1"] for r in json.loads(sarif.render([rep]))["runs"][0]["results"]]

    before, after = prints(report()), prints(report(shift=5))
    assert before == after and len(set(before)) == len(before)


def test_github_annotations_escape_properties_and_data() -> None:
    lines = github.render([report()]).splitlines()
    (exposed,) = [line for line in lines if "private-web" in line]
    assert exposed.startswith("::error file=dir/m.topo,line=1,endLine=1,col=5,endColumn=7,"
                              "title=topocheck private-web (refuted)::w1 is reachable: 50%25, a,b%0Acounterexample:")
    assert "%0A  path: internet -> lb1 -> w1" in exposed and "\n" not in exposed
    (unknown,) = [line for line in lines if "zone-redundancy" in line]
    assert unknown.startswith("::warning file=dir/m.topo,title=topocheck zone-redundancy (unknown)::timed out")
    (notice,) = [line for line in lines if "(suppressed)" in line]
    assert notice.startswith("::notice file=dir/m.topo,line=2,title=topocheck no-spof (suppressed)::"
                             "accepted: spare, 100%25 ok: really")
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert lines[-1] == "topocheck: dir/m.topo: 1 proved, 2 refuted, 1 unknown, 1 suppressed"


def test_markdown_table_counterexamples_in_words_and_suppressions() -> None:
    out = markdown.render([report()])
    assert "| `private-web` | ❌ refuted | error | 1 | w1 is reachable: 50%, a,b |" in out
    assert "| `available` | ✅ proved | error |  | up |" in out
    assert "- packet: 198.51.100.1 -> 203.0.113.9 tcp/443" in out
    assert "- path: internet -> lb1 -> w1" in out
    assert "**`no-spof` suppressed** at line 2: spare, 100% ok: really" in out


def test_text_source_line_caret_and_no_colour_unless_asked() -> None:
    out = text.render([report()])
    assert "dir/m.topo:1:5: error[private-web] w1 is reachable: 50%, a,b\n" \
           "     1 | web w1 address 203.0.113.9\n       |     ^^\n" in out
    assert "\033[" not in out
    assert "\033[1;31merror[private-web]\033[0m" in text.render([report()], colour=True)
    assert out.rstrip("\n").splitlines()[-1].startswith("dir/m.topo: 1 proved, 2 refuted, 1 unknown")


def test_cli_colours_only_a_terminal_and_respects_no_color(tmp_path: Path) -> None:
    bad = tmp_path / "bad.topo"
    bad.write_text("dns www { managed; answer w }\nweb w address 10.0.0.1 listen tcp/443\n", encoding="utf-8")
    piped = subprocess.run([sys.executable, "-m", "checker", "check", str(bad)], capture_output=True, text=True,
                           cwd=ROOT, env={**os.environ, "NO_COLOR": ""}, timeout=120)
    assert piped.returncode == 1 and "\033[" not in piped.stdout
    import pty

    for no_color, coloured in (("", True), ("1", False)):
        pid, fd = pty.fork()
        if pid == 0:  # the child: run the CLI on a terminal
            os.chdir(ROOT)
            env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
            if no_color:
                env["NO_COLOR"] = no_color
            os.execve(sys.executable, [sys.executable, "-m", "checker", "check", str(bad)], env)
        chunks = []
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        os.waitpid(pid, 0)
        output = b"".join(chunks).decode("utf-8", "replace")
        assert ("\033[1;31m" in output) is coloured, output


def test_every_cli_format_runs_on_a_folder(tmp_path: Path) -> None:
    for fmt in ("text", "json", "sarif", "markdown", "github"):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["check", "--format", fmt, str(ROOT / "models" / "seed")])
        assert code == 1 and err.getvalue() == "", fmt  # stage 1 has single points of failure
        assert "01-single-server.topo" in out.getvalue()


def test_hint_reaches_json_sarif_and_markdown() -> None:
    """LANGUAGE.md 7.10: every JSON result carries "hint" (null when none); SARIF and
    Markdown put the hint after the message, so "did you mean" reaches every reader."""
    from checker.api import check_text
    from checker.reporters import json_report

    source = "web w1 address 10.0.0.1\ndb orders address 10.0.0.2\nw1 writes order\n"
    rep = check_text(source, "m.topo")
    document = json.loads(json_report.render([rep]))
    results = document["files"][0]["results"]
    assert [r["id"] for r in results] == ["undefined-name"]
    assert results[0]["hint"] == "did you mean 'orders'?"
    message = json.loads(sarif.render([rep]))["runs"][0]["results"][0]["message"]["text"]
    assert message.startswith("undefined requirement target 'order' (hint: did you mean 'orders'?)")
    assert "(hint: did you mean 'orders'?)" in markdown.render([rep])
    proved = json.loads(json_report.render([check_text("web w1 address 203.0.113.1\n", "p.topo")]))
    assert all("hint" in r for r in proved["files"][0]["results"])
    assert proved["files"][0]["results"][0]["hint"] is None
