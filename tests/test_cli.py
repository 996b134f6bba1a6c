"""The command line contract (LANGUAGE.md sections 5-6): exit codes, JSON shape, files and folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.cli import main

GOOD = """dns www { managed; answer w }
web w address 203.0.113.1 listen tcp/443
db d address 10.0.0.1 listen tcp/5432
w writes d
allow internet -> w tcp/443
allow w -> d tcp/5432
check private-db
"""
BAD = GOOD.replace("allow w -> d tcp/5432\n", "")
BROKEN = "web w {\n  zone\n"


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "good.topo").write_text(GOOD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.topo").write_text(BAD)
    (tmp_path / "sub" / "notes.txt").write_text("not a topology")
    return tmp_path


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["check", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_good_file_exits_zero(tree, capsys):
    code, doc = run_json(capsys, str(tree / "good.topo"))
    assert code == 0
    assert doc["tool"] == "topocheck" and doc["version"]
    (file_,) = doc["files"]
    result = next(r for r in file_["results"] if r["id"] == "available")
    assert result["status"] == "proved" and result["severity"] == "error"
    assert set(result) >= {"id", "status", "severity", "message", "location", "method", "counterexamples"}
    assert set(result["location"]) == {"line", "column", "end_line", "end_column"}


def test_refuted_error_exits_one_with_counterexample(tree, capsys):
    code, doc = run_json(capsys, str(tree / "sub" / "bad.topo"))
    assert code == 1
    result = next(r for r in doc["files"][0]["results"] if r["id"] == "available")
    assert result["status"] == "refuted"
    assert result["location"]["line"] == 1  # the service: what is wrong is connection-denied's, at line 4
    (cx,) = result["counterexamples"]
    assert cx == {  # the denial is connection-denied's finding: cited, not repeated
        "failed": [],
        "stopped": ["www"],
        "explanation": ["www needs connections the policy denies (see connection-denied at line 4)"],
    }
    denied = next(r for r in doc["files"][0]["results"] if r["id"] == "connection-denied")
    assert (denied["status"], denied["location"]["line"]) == ("refuted", 4)
    assert denied["message"].startswith("no rule allows w -> d tcp/5432; add 'allow w -> d tcp/5432'")
    assert doc["summary"]["refuted"] >= 1


def test_available_explains_a_denial_itself_when_connection_denied_does_not_run(tree, capsys):
    code, doc = run_json(capsys, "--ignore", "connection-denied", str(tree / "sub" / "bad.topo"))
    assert code == 1
    result = next(r for r in doc["files"][0]["results"] if r["id"] == "available")
    assert result["counterexamples"][0]["explanation"] == [
        "www -> w: w writes d (line 4): no rule allows w -> d tcp/5432"]
    assert "connection-denied" not in {r["id"] for r in doc["files"][0]["results"]}


def test_folders_are_searched_for_topo_files_in_order(tree, capsys):
    code, doc = run_json(capsys, str(tree))
    assert code == 1
    assert [Path(f["path"]).name for f in doc["files"]] == ["good.topo", "bad.topo"]


def test_a_broken_file_does_not_stop_the_others(tree, capsys):
    (tree / "a-broken.topo").write_text(BROKEN)
    code, doc = run_json(capsys, str(tree))
    assert code == 1
    names = [Path(f["path"]).name for f in doc["files"]]
    assert names == ["a-broken.topo", "good.topo", "bad.topo"]
    broken = doc["files"][0]["results"]
    assert [r["id"] for r in broken] == ["syntax"]
    assert broken[0]["location"]["line"] == 2
    assert any(r["status"] == "proved" for r in doc["files"][1]["results"])


def test_exit_zero(tree, capsys):
    code, _ = run_json(capsys, "--exit-zero", str(tree / "sub" / "bad.topo"))
    assert code == 0


def test_select_and_ignore(tree, capsys):
    code, doc = run_json(capsys, "--ignore", "available", str(tree / "sub" / "bad.topo"))
    assert "available" not in [r["id"] for r in doc["files"][0]["results"]]
    code, doc = run_json(capsys, "--select", "available", str(tree / "good.topo"))
    assert [r["id"] for r in doc["files"][0]["results"]] == ["available"]


def test_unknown_check_in_select_is_a_usage_error(tree, capsys):
    assert main(["check", "--select", "no-such-check", str(tree)]) == 2
    assert "unknown check 'no-such-check'" in capsys.readouterr().err


def test_missing_path_is_exit_two_but_others_are_still_checked(tree, capsys):
    code = main(["check", "--format", "json", str(tree / "nope.topo"), str(tree / "good.topo")])
    captured = capsys.readouterr()
    assert code == 2
    assert "no such file or folder" in captured.err
    assert len(json.loads(captured.out)["files"]) == 1


def test_output_file(tree, capsys, tmp_path):
    out = tmp_path / "report.json"
    assert main(["check", "--format", "json", "--output", str(out), str(tree / "good.topo")]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text())["summary"]["refuted"] == 0


def test_text_output_is_compiler_style(tree, capsys):
    main(["check", str(tree / "sub" / "bad.topo")])
    out = capsys.readouterr().out.splitlines()
    path = str(tree / "sub" / "bad.topo")
    assert out[0].startswith(f"{path}:1:5: error[available] 'www' is down with nothing failed")
    assert out[1].strip().startswith("1 | dns www { managed; answer w }")
    assert out[-1].startswith(f"{path}: ")
    assert "refuted" in out[-1]


def test_not_utf8_is_a_located_syntax_error(tmp_path, capsys):
    bad = tmp_path / "latin1.topo"
    bad.write_bytes(b"web w\n# caf\xe9\n")
    code, doc = run_json(capsys, str(bad))
    assert code == 1
    (result,) = doc["files"][0]["results"]
    assert result["id"] == "syntax" and result["location"]["line"] == 2 and result["location"]["column"] == 6


def test_usage_errors_exit_two(capsys):
    assert main(["check", "--format", "nope"]) == 2
    assert main(["frobnicate"]) == 2


def test_explain_prints_the_docstring(capsys):
    assert main(["explain", "available"]) == 0
    out = capsys.readouterr().out
    assert "What it proves" in out and "The fix" in out
    assert main(["explain", "availble"]) == 2
    assert "did you mean 'available'" in capsys.readouterr().err


def test_python_dash_m_works(tree):
    proc = subprocess.run(
        [sys.executable, "-m", "checker", "check", "--format", "json", str(tree / "good.topo")],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"][0]["path"].endswith("good.topo")


# -- the first hour -----------------------------------------------------------


def test_select_keeps_available(tree, capsys):
    code, doc = run_json(capsys, "--select", "private-db", str(tree / "good.topo"))
    assert [r["id"] for r in doc["files"][0]["results"]] == ["available", "private-db"]
    code, doc = run_json(capsys, "--select", "private-db", "--ignore", "available", str(tree / "good.topo"))
    assert [r["id"] for r in doc["files"][0]["results"]] == ["private-db"]


def test_a_misspelt_check_id_gets_did_you_mean(tree, capsys):
    assert main(["check", "--select", "nospof", str(tree)]) == 2
    assert capsys.readouterr().err.startswith(
        "topocheck: error: unknown check 'nospof'; did you mean 'no-spof'? (known: ")


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_a_folder_without_topology_files_is_nothing_to_check(tmp_path, capsys, command):
    (tmp_path / "notes.txt").write_text("not a topology")
    assert main([command, str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"topocheck: error: no *.topo files found in '{tmp_path}': nothing to check\n"


def test_a_file_that_does_not_parse_says_no_check_ran(tmp_path, capsys):
    bad = tmp_path / "bad.topo"
    bad.write_text("web w {\n  zone a\nallow internet -> w\n")
    assert main(["check", str(bad)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{bad}:1:7: error[syntax] unclosed '{{'")
    assert lines[-1] == f"{bad}: 1 syntax error (the file has errors, so no check ran)"


def test_explain_without_an_id_lists_every_check(capsys):
    from checker.checks import registry

    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("the checks, in report order (topocheck explain ID for one):\n")
    for info in registry().values():
        assert any(line.split()[:1] == [info.id] and line.rstrip().endswith(info.summary.replace("`", ""))
                   for line in out.splitlines()), info.id
    assert "\n  syntax " in out and "\nreported by topocheck itself:\n" in out
