"""YAML as located values (checker.importers.yamlnodes), and the importers' command line."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from checker.cli import main
from checker.importers.yamlnodes import load
from checker.suppress import is_failing

from .import_helpers import check, compose, k8s, refuted


def test_every_value_keeps_its_span_and_source_text() -> None:
    (doc,) = load("a:\n  ports: [22:22, '80']\n  flag: on\n  n: 010\n", "f.yaml").documents
    ports = doc.path("a", "ports")
    assert [p.text() for p in ports.seq()] == ["22:22", "80"]  # Compose reads 22:22 as text; YAML 1.1 as 1342
    assert ports.seq()[0].value == 1342
    assert (ports.span.line, ports.span.column, ports.entry_span.column) == (2, 10, 3)
    assert doc.path("a", "flag").text() == "on" and doc.path("a", "flag").value is True
    assert doc.path("a", "n").integer() == 8


def test_aliases_are_shared_and_merge_keys_merge() -> None:
    text = "x: &x [a, b]\ny: *x\nbase: &b {k: 1, j: 2}\nz:\n  <<: *b\n  j: 3\n"
    (doc,) = load(text, "f.yaml").documents
    assert doc.get("y") is doc.get("x")
    assert doc.get("z").string_map() == {"k": "1", "j": "3"}


def test_a_billion_laughs_stays_small() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 30):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    (doc,) = load("\n".join(lines) + "\n", "f.yaml").documents
    assert len(doc.get("a29").seq()) == 10  # shared, never expanded


def test_bad_yaml_and_deep_nesting_are_syntax_results() -> None:
    assert load("a: [1, 2\n", "f.yaml").error.span.line == 2
    assert load("a: 'x\n", "f.yaml").error.message.startswith("not valid YAML: ")
    deep = load("[" * 5000 + "]" * 5000 + "\n", "f.yaml")
    assert deep.error is not None and deep.error.id == "syntax"


def test_a_suppression_comment_in_the_yaml_accepts_a_finding() -> None:
    text = ("services:\n  cache:  # topocheck: ignore[private-db] a throwaway cache for the demo\n"
            "    image: redis\n    ports: ['6379:6379']\n")
    results = check(compose(text))
    (leak,) = refuted(results, "private-db")
    assert not leak.counterexamples and leak.extra["suppressed"][0]["reason"] == "a throwaway cache for the demo"
    assert not is_failing(leak) and leak.extra["suppressed"][0]["line"] == 2


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_command_line_mistakes_are_usage_errors(tmp_path: Path) -> None:
    project = tmp_path / "p" / "compose.yaml"
    project.parent.mkdir()
    project.write_text("services:\n  a: {image: x}\n", encoding="utf-8")
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "compose.yml").write_text("services:\n  b: {image: y}\n", encoding="utf-8")
    assert run(["check", str(project), "--overlay", "o.topo"])[2] == \
        "topocheck: error: '--overlay' goes with '--from k8s|compose'\n"
    code, _, err = run(["check", "--from", "k8s", str(project), "--zones", "a,b c"])
    assert (code, err) == (2, "topocheck: error: --zones: 'b c' is not a name a zone can have (letters, digits, '-', "
                              "'_', '.')\n")
    code, _, err = run(["import", "compose", str(tmp_path)])
    assert (code, err) == (2, "topocheck: error: import compose reads one project; 2 Compose files were found (name "
                              "one, or use 'check --from compose' for several)\n")
    code, _, err = run(["check", "--from", "compose", str(tmp_path), "--overlay", str(project)])
    assert code == 2 and "--overlay goes with one system; 2 Compose projects were found" in err
    code, _, err = run(["check", "--from", "k8s", str(tmp_path / "missing")])
    assert code == 2 and f"no such file or folder: '{tmp_path / 'missing'}'" in err


def test_check_from_folders_finds_each_project(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "docker-compose.yml").write_text("services:\n  w:\n    image: x\n    ports: ['80:80']\n")
    (tmp_path / "one" / "compose.yaml").write_text("services:\n  v:\n    image: x\n    ports: ['80:80']\n")
    code, out, _ = run(["check", "--from", "compose", str(tmp_path), "--select", "no-spof"])
    assert code == 1
    assert [line.split(": ", 1)[0] for line in out.splitlines() if "error[no-spof]" in line] == [
        f"{tmp_path}/one/compose.yaml:1:1", f"{tmp_path}/two/docker-compose.yml:1:1"]


def test_bad_yaml_fails_import_and_check(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Pod\nmetadata: {name: x\n", encoding="utf-8")
    code, out, err = run(["import", "k8s", str(bad)])
    assert (code, out) == (1, "")
    assert err.startswith(f"{bad}:3:1: error[syntax] not valid YAML: ")
    code, out, _ = run(["check", "--from", "k8s", str(bad)])
    assert code == 1 and out.startswith(f"{bad}:3:1: error[syntax] not valid YAML: ")
    assert f"{bad}: 1 syntax error (the input has errors, so nothing was imported)" in out


def test_notes_can_be_ignored_and_never_fail_a_run(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", encoding="utf-8")
    code, out, _ = run(["check", "--from", "k8s", str(manifest)])
    assert code == 0 and "note[import] Secret 's' is not mapped: its values are not read" in out
    assert "note[import]" not in run(["check", "--from", "k8s", str(manifest), "--ignore", "import"])[1]
    assert k8s("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n").text == ""
