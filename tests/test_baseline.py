"""``topocheck check --baseline FILE`` and ``--write-baseline FILE``.

A finding of the baseline stays known when lines move and when unrelated parts
change; a new one fails the run on its own; a fixed one is ``absent``. Every
format marks the states; SARIF ``baselineState`` is validated against the schema.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from checker import __version__
from checker.cli import main
from tests.conftest import missing

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "models" / "seed"
SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
STAGE3 = (SEED / "03-load-balancer.topo").read_text(encoding="utf-8")
STAGE4 = (SEED / "04-replication.topo").read_text(encoding="utf-8")


def drop_web2(text: str) -> str:
    return (text.replace("web1, web2", "web1").replace("lb1 -> web1, web2", "lb1 -> web1")
            .replace("web web2 zone az-b address 10.0.2.11 listen tcp/8080\n", ""))


@pytest.fixture
def model(tmp_path: Path, monkeypatch) -> Path:
    """Stage 3 in a folder of its own, with a baseline of it written; run from that folder."""
    monkeypatch.chdir(tmp_path)
    Path("shop.topo").write_text(STAGE3, encoding="utf-8")
    assert main(["check", "shop.topo", "--write-baseline", "baseline.json", "--format", "json"]) == 1
    return tmp_path / "shop.topo"


def check(capsys, *args: str) -> tuple[int, str]:
    code = main(["check", "shop.topo", "--baseline", "baseline.json", *args])
    return code, capsys.readouterr().out


def test_known_findings_stay_known_when_lines_move(model, capsys) -> None:
    capsys.readouterr()
    lines = STAGE3.split("\n")
    web1 = next(i for i, line in enumerate(lines) if line.startswith("web web1"))
    lines[web1], lines[web1 + 1] = lines[web1 + 1], lines[web1]  # web2 declared first
    model.write_text("# moved\n# every\n# line\n" + "\n".join(lines), encoding="utf-8")
    code, out = check(capsys)
    assert code == 0
    assert "shop.topo:54:4: error[no-spof] (known) single point of failure: 'db1' stops 'www.example.com'" in out
    assert "shop.topo:34:6: error[zone-redundancy] (known) losing one zone stops a service" in out
    assert out.splitlines()[-1].endswith("; baseline: 0 new, 2 known, 0 fixed")


def test_unrelated_edits_do_not_turn_old_findings_new(model, capsys) -> None:
    capsys.readouterr()
    edited = STAGE3.replace('topology "stage 3:', 'topology "stage 3, renamed:').replace(
        "zone az-b region seoul", "zone az-b region seoul\nzone az-c region seoul").replace(
        "web web2 zone az-b address 10.0.2.11 listen tcp/8080",
        "web web2 zone az-b address 10.0.2.11 listen tcp/8080\nweb web3 zone az-c address 10.0.2.12 listen tcp/8080"
    ).replace("web1, web2", "web1, web2, web3")
    model.write_text(edited, encoding="utf-8")
    code, out = check(capsys, "--format", "json")
    document = json.loads(out)
    assert code == 0
    states = {r["id"]: r["baseline"] for r in document["files"][0]["results"]}
    assert states["no-spof"] == {"state": "unchanged", "counterexamples": ["unchanged"]}
    assert states["zone-redundancy"] == {"state": "unchanged", "counterexamples": ["unchanged"]}
    assert states["available"] == {"state": "unchanged", "counterexamples": []}
    assert document["baseline"] == {"new": 0, "unchanged": 2, "absent": 0}
    assert document["files"][0]["absent"] == []


def test_a_new_finding_fails_alone_and_is_marked_new(model, capsys) -> None:
    capsys.readouterr()
    model.write_text(drop_web2(STAGE3), encoding="utf-8")
    code, out = check(capsys)
    assert code == 1
    assert "error[no-spof] (new) single points of failure: 'db1' stops 'www.example.com'; " \
           "'web1' stops 'www.example.com'" in out
    assert "    counterexample 1 (known):\n      failed: db1\n" in out
    assert "    counterexample 2 (new):\n      failed: web1\n" in out
    assert "error[zone-redundancy] (known)" in out
    assert out.splitlines()[-1].endswith("; baseline: 1 new, 2 known, 0 fixed")
    code, out = check(capsys, "--format", "json")
    result = next(r for r in json.loads(out)["files"][0]["results"] if r["id"] == "no-spof")
    assert result["baseline"] == {"state": "new", "counterexamples": ["unchanged", "new"]}


def test_a_fixed_finding_becomes_absent(model, capsys) -> None:
    capsys.readouterr()
    model.write_text(STAGE4, encoding="utf-8")
    code, out = check(capsys)
    assert code == 0
    assert ("shop.topo: fixed since the baseline: error[no-spof] single point of failure: 'db1' stops "
            "'www.example.com' (was at line 51)") in out.splitlines()
    assert out.splitlines()[-1].endswith("; baseline: 0 new, 0 known, 2 fixed")
    code, out = check(capsys, "--format", "json")
    document = json.loads(out)
    absent = document["files"][0]["absent"]
    assert [(a["id"], a["counterexample"]["failed"]) for a in absent] == [
        ("no-spof", ["db1"]), ("zone-redundancy", ["zone:az-a"])]
    assert document["baseline"] == {"new": 0, "unchanged": 0, "absent": 2}
    code, out = check(capsys, "--format", "sarif")
    results = json.loads(out)["runs"][0]["results"]
    gone = [r for r in results if r["baselineState"] == "absent"]
    assert [(r["ruleId"], r["kind"], r["level"]) for r in gone] == [("no-spof", "pass", "none"),
                                                                   ("zone-redundancy", "pass", "none")]
    assert gone[0]["message"]["text"] == "fixed since the baseline: single point of failure: 'db1' stops " \
                                         "'www.example.com'"
    assert gone[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 51
    code, out = check(capsys, "--format", "markdown")
    assert "Fixed since the baseline:\n\n- ✅ no-spof: single point of failure: 'db1' stops 'www.example.com'\n" in out


def test_sarif_baseline_states_are_schema_valid(model, capsys) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.exists():
        missing("needs ../shared/schemas/sarif-schema-2.1.0.json beside the repository (CI has it)")
    capsys.readouterr()
    # stage 4 without web2: db1 is no longer a single point (absent), web1 is one (new), zone az-a still stops
    model.write_text(drop_web2(STAGE4), encoding="utf-8")
    code, out = check(capsys, "--format", "sarif")
    assert code == 1
    document = json.loads(out)
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    states = [(r["ruleId"], r["kind"], r["baselineState"]) for r in document["runs"][0]["results"]]
    assert states[:3] == [("available", "pass", "unchanged"), ("no-spof", "fail", "new"),
                          ("zone-redundancy", "fail", "unchanged")]
    assert states[-1] == ("no-spof", "pass", "absent")
    assert {s for _, _, s in states} == {"new", "unchanged", "absent"}
    spof = document["runs"][0]["results"][1]
    assert spof["properties"]["baseline"] == {"state": "new", "counterexamples": ["new"]}
    assert spof["partialFingerprints"] != document["runs"][0]["results"][-1]["partialFingerprints"]


def test_every_format_marks_known_findings(model, capsys) -> None:
    capsys.readouterr()
    code, out = check(capsys, "--format", "markdown")
    assert "| `no-spof` | ❌ refuted, known | error | 51 |" in out
    assert "| `available` | ✅ proved | error |" in out  # proved results carry no mark
    code, out = check(capsys, "--format", "github")
    assert "title=topocheck no-spof (refuted%2C known)::" in out
    assert out.splitlines()[-1].endswith("; baseline: 0 new, 2 known, 0 fixed")


def test_the_same_finding_twice_counts_twice(tmp_path, monkeypatch, capsys) -> None:
    """Two shadowed copies of a rule have one fingerprint: a baseline with one covers one."""
    monkeypatch.chdir(tmp_path)
    shadowed = STAGE3 + "allow internet -> lb1 tcp/443\n"
    Path("shop.topo").write_text(shadowed, encoding="utf-8")
    assert main(["check", "shop.topo", "--write-baseline", "baseline.json"]) == 1
    Path("shop.topo").write_text(shadowed + "allow internet -> lb1 tcp/443\n", encoding="utf-8")
    capsys.readouterr()
    code, out = check(capsys, "--format", "json")
    shadows = [r["baseline"]["state"] for r in json.loads(out)["files"][0]["results"] if r["id"] == "shadowed-rule"]
    assert shadows == ["unchanged", "new"]
    assert code == 0  # known errors pass; the new finding is a warning


def test_write_baseline_writes_the_json_report_atomically(model, capsys) -> None:
    capsys.readouterr()
    written = Path("baseline.json").read_text(encoding="utf-8")
    assert main(["check", "shop.topo", "--format", "json"]) == 1
    assert written == capsys.readouterr().out
    assert stat.S_IMODE(os.stat("baseline.json").st_mode) == 0o666 & ~_umask()
    os.chmod("baseline.json", 0o640)
    model.write_text(STAGE4, encoding="utf-8")
    assert main(["check", "shop.topo", "--baseline", "baseline.json", "--write-baseline", "baseline.json"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].endswith("baseline: 0 new, 0 known, 2 fixed")  # compared with the old one
    assert json.loads(Path("baseline.json").read_text())["summary"]["refuted"] == 0  # then replaced it
    assert stat.S_IMODE(os.stat("baseline.json").st_mode) == 0o640
    assert sorted(p.name for p in Path(".").iterdir()) == ["baseline.json", "shop.topo"]  # no temporary left
    assert main(["check", "shop.topo", "--write-baseline", "no/such/folder/b.json"]) == 2
    assert "cannot write the baseline 'no/such/folder/b.json'" in capsys.readouterr().err


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("content,message", [
    ("{not json", "the baseline 'bad.json' is not JSON: line 1 column 2: Expecting property name enclosed in "
                  "double quotes"),
    ("[1, 2]", "the baseline 'bad.json' is not a topocheck JSON report (not a JSON object)"),
    ('{"version": "2.1.0", "runs": []}', "the baseline 'bad.json' is SARIF; a baseline is a JSON report "
                                         "('topocheck check --format json' or '--write-baseline')"),
    ('{"tool": "topocheck", "version": "0.0.1", "files": []}',
     f"the baseline 'bad.json' was written by topocheck 0.0.1 and this is topocheck {__version__}: fingerprints "
     "may differ between versions; write a new baseline with 'topocheck check --write-baseline FILE'"),
    (json.dumps({"tool": "topocheck", "version": __version__, "files": [{"path": "a.topo", "results": {}}]}),
     "the baseline 'bad.json' is malformed: files[0].results is not a list"),
    (json.dumps({"tool": "topocheck", "version": __version__,
                 "files": [{"path": "a.topo", "results": [{"id": "no-spof", "status": "maybe", "message": "",
                                                           "severity": "error"}]}]}),
     "the baseline 'bad.json' is malformed: files[0].results[0].status is 'maybe', not one of proved, refuted, "
     "unknown"),
    (json.dumps({"tool": "topocheck", "version": __version__, "kind": "diff", "files": []}),
     "the baseline 'bad.json' is not a topocheck JSON report (write one with 'topocheck check --write-baseline FILE')"),
])
def test_a_bad_baseline_is_a_usage_error(tmp_path, monkeypatch, capsys, content, message) -> None:
    monkeypatch.chdir(tmp_path)
    Path("shop.topo").write_text(STAGE4, encoding="utf-8")
    Path("bad.json").write_text(content, encoding="utf-8")
    assert main(["check", "shop.topo", "--baseline", "bad.json"]) == 2
    assert capsys.readouterr().err == f"topocheck: error: {message}\n"


def test_a_missing_baseline_is_a_usage_error(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("shop.topo").write_text(STAGE4, encoding="utf-8")
    assert main(["check", "shop.topo", "--baseline", "nope.json"]) == 2
    assert capsys.readouterr().err == "topocheck: error: cannot read the baseline 'nope.json': No such file or directory\n"


def test_only_files_checked_now_have_absent_findings(model, capsys) -> None:
    """A baseline of two files, a run on one: the other's findings are not 'fixed'."""
    Path("other.topo").write_text(STAGE3, encoding="utf-8")
    assert main(["check", "shop.topo", "other.topo", "--write-baseline", "baseline.json"]) == 1
    capsys.readouterr()
    code, out = check(capsys, "--format", "json")
    document = json.loads(out)
    assert [f["path"] for f in document["files"]] == ["shop.topo"]
    assert document["baseline"] == {"new": 0, "unchanged": 2, "absent": 0}


def test_hostile_baseline_messages_are_escaped(model, capsys) -> None:
    document = json.loads(Path("baseline.json").read_text())
    spof = next(r for r in document["files"][0]["results"] if r["id"] == "no-spof")
    spof["message"] = "db1 \x1b[2J<script>alert(1)</script>"
    spof["counterexamples"][0]["failed"] = ["gone"]  # a finding that is not there any more
    Path("baseline.json").write_text(json.dumps(document))
    capsys.readouterr()
    code, out = check(capsys)
    assert "\x1b" not in out
    assert "fixed since the baseline: error[no-spof] db1 \\x1b[2J<script>alert(1)</script> (was at line 51)" in out
    code, out = check(capsys, "--format", "markdown")
    assert "<script>" not in out and "\x1b" not in out
    assert "- ✅ no-spof: db1 \\\\x1b\\[2J&lt;script&gt;alert(1)&lt;/script&gt;" in out
