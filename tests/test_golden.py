"""Golden files: every seed model in every output format.

``tests/golden/<model>.<format>`` holds the exact bytes topocheck prints for
``models/seed/<model>.topo`` (paths relative to the repository root, no colour).
When a check lands or a reporter changes, regenerate them and review the diff::

    UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py      # or: python -m tests.test_golden

Besides the byte comparison, every golden SARIF file is validated against the
SARIF 2.1.0 schema, every DOT file is laid out by Graphviz's real ``dot``, and
every Mermaid file is checked for structure (see ``mermaid_problems``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_program, require_shared

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SCHEMA = "schemas/sarif-schema-2.1.0.json"  # under ../shared
MODELS = sorted((ROOT / "models" / "seed").glob("*.topo"))
FORMATS = ("text", "json", "sarif", "markdown", "github", "dot", "mermaid")


def render_all(model: Path) -> dict[str, str]:
    """Every format for one model, as the CLI prints it, with a repository-relative path."""
    from checker.api import check_text, load_text
    from checker.reporters import diagram, github, json_report, markdown, sarif, text

    relative = model.relative_to(ROOT).as_posix()
    source = model.read_text(encoding="utf-8")
    report = check_text(source, relative)
    topology = load_text(source, relative).topology
    assert topology is not None, f"{relative} does not load"
    return {
        "text": text.render([report], colour=False),
        "json": json_report.render([report]),
        "sarif": sarif.render([report]),
        "markdown": markdown.render([report]),
        "github": github.render([report]),
        "dot": diagram.to_dot(topology, report.results),
        "mermaid": diagram.to_mermaid(topology, report.results),
    }


def regenerate() -> list[Path]:
    written = []
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for model in MODELS:
        for fmt, content in render_all(model).items():
            target = GOLDEN / f"{model.stem}.{fmt}"
            if not target.exists() or target.read_text(encoding="utf-8") != content:
                target.write_text(content, encoding="utf-8")
                written.append(target)
    return written


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, str]]:
    if os.environ.get("UPDATE_GOLDEN"):
        regenerate()
    return {model.stem: render_all(model) for model in MODELS}


def test_every_seed_model_has_golden_files() -> None:
    assert MODELS, "no seed models found"
    missing = [f"{m.stem}.{fmt}" for m in MODELS for fmt in FORMATS if not (GOLDEN / f"{m.stem}.{fmt}").exists()]
    assert not missing, f"missing golden files {missing}; run: UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("model", [m.stem for m in MODELS])
def test_output_matches_golden(rendered, model: str, fmt: str) -> None:
    expected = (GOLDEN / f"{model}.{fmt}").read_text(encoding="utf-8")
    assert rendered[model][fmt] == expected, (
        f"{model}.{fmt} differs from tests/golden; if the change is intended, run "
        "UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py and review the diff"
    )


@pytest.mark.parametrize("model", [m.stem for m in MODELS])
def test_golden_sarif_is_schema_valid(model: str) -> None:
    import jsonschema

    schema = json.loads(require_shared(SCHEMA).read_text(encoding="utf-8"))
    document = json.loads((GOLDEN / f"{model}.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)


@pytest.mark.parametrize("model", [m.stem for m in MODELS])
def test_golden_sarif_has_one_rule_per_check(model: str) -> None:
    document = json.loads((GOLDEN / f"{model}.sarif").read_text(encoding="utf-8"))
    run = document["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    result_ids = [r["ruleId"] for r in run["results"]]
    assert sorted(set(result_ids)) == sorted(rule_ids), "one rules entry per check that ran"
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["partialFingerprints"]["topocheck/v1"]


@pytest.mark.parametrize("model", [m.stem for m in MODELS])
def test_golden_dot_is_accepted_by_graphviz(model: str) -> None:
    dot = require_program("dot", "graphviz")
    done = subprocess.run([dot, "-Tsvg"], input=(GOLDEN / f"{model}.dot").read_bytes(), capture_output=True,
                          timeout=60)
    assert done.returncode == 0 and not done.stderr, done.stderr.decode()
    assert b"<svg" in done.stdout


def mermaid_problems(source: str) -> list[str]:
    """Structural checks of a Mermaid flowchart as this project writes it: the header,
    balanced subgraphs, nodes defined once before edges use them, class and linkStyle
    targets that exist. (The Mermaid CLI needs a browser download this machine cannot
    make; this covers what our generator can get wrong.)"""
    problems = []
    lines = source.rstrip("\n").split("\n")
    if lines[0] != "flowchart TB":
        problems.append("first line must be 'flowchart TB'")
    depth, nodes, clusters, edges = 0, set(), set(), 0
    node = re.compile(r'^\s*(n\d+)(\(\(|\(\[|\{\{|\[/|\[\[|\[\(|\[)"[^"]*"(\)\)|\]\)|\}\}|\\\]|/\]|\]\]|\)\]|\])$')
    edge = re.compile(r'^\s*(n\d+) (-->|-\.->|---|==>)(\|"[^"]*"\|)? (n\d+)$')
    for number, line in enumerate(lines[1:], 2):
        stripped = line.strip()
        if m := re.match(r'^subgraph (\w+)\["[^"]*"\]$', stripped):
            depth += 1
            clusters.add(m.group(1))
        elif stripped == "end":
            depth -= 1
            if depth < 0:
                problems.append(f"line {number}: 'end' without subgraph")
        elif m := node.match(line):
            if m.group(1) in nodes:
                problems.append(f"line {number}: node {m.group(1)} defined twice")
            nodes.add(m.group(1))
        elif m := edge.match(line):
            for ident in (m.group(1), m.group(4)):
                if ident not in nodes:
                    problems.append(f"line {number}: edge uses undefined node {ident}")
            edges += 1
        elif m := re.match(r"^class ([\w,]+) (\w+)$", stripped):
            for ident in m.group(1).split(","):
                if ident not in nodes | clusters:
                    problems.append(f"line {number}: class on undefined {ident}")
        elif m := re.match(r"^linkStyle ([\d,]+) \S+$", stripped):
            if any(int(i) >= edges for i in m.group(1).split(",")):
                problems.append(f"line {number}: linkStyle index beyond the {edges} edges")
        elif not re.match(r"^classDef \w+ \S+$", stripped):
            problems.append(f"line {number}: unrecognised line {stripped!r}")
    if depth:
        problems.append("unbalanced subgraph/end")
    return problems


@pytest.mark.parametrize("model", [m.stem for m in MODELS])
def test_golden_mermaid_is_well_formed(model: str) -> None:
    source = (GOLDEN / f"{model}.mermaid").read_text(encoding="utf-8")
    assert mermaid_problems(source) == []
    markdown = (GOLDEN / f"{model}.markdown").read_text(encoding="utf-8")
    assert "```mermaid\n" + source in markdown


def test_mermaid_structure_check_catches_mistakes() -> None:
    assert mermaid_problems('flowchart TB\n  n0["a"]\n  n0 --> n1\n')
    assert mermaid_problems('flowchart TB\n  subgraph z0["zone"]\n  n0["a"]\n')
    assert mermaid_problems('flowchart TB\n  n0["a"]\n  n1["b"]\n  n0 --> n1\n  linkStyle 1 stroke:red\n')
    assert mermaid_problems('flowchart LR\n  n0["a"]\n')


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for path in regenerate():
        print(f"wrote {path.relative_to(ROOT)}")
