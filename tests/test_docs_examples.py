"""The documentation shows what topocheck does: every topology example in README.md and
spec/*.md parses and is in the canonical layout (or is marked as showing another layout),
every shipped model is canonical, and the README's example prints what the README says."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from checker.cli import main
from checker.fmt import format_text
from tests.conftest import MODELS, ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "spec").glob("*.md"))]
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)


def fences() -> list:
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text[: match.start()].count("\n") + 1
            out.append(pytest.param(match.group(1).strip(), match.group(2), id=f"{doc.name}:{line}"))
    return out


@pytest.mark.parametrize("info, body", fences())
def test_every_topology_example_is_canonical(info: str, body: str) -> None:
    """```topo: parses and is canonical; ```topo syntax: parses and shows a layout the
    formatter rewrites (the language reference shows ';' and blocks); an unmarked block is
    not a topology at all (so no example escapes this test)."""
    outcome = format_text(body)
    if info == "topo":
        assert outcome.text is not None, [e.message for e in outcome.errors]
        assert outcome.text == body, f"not canonical; topocheck fmt gives:\n{outcome.text}"
    elif info == "topo syntax":
        assert outcome.text is not None and outcome.text != body
    elif info == "":
        assert outcome.text is None, "a topology example: mark it ```topo"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_every_shipped_model_is_canonical() -> None:
    assert run(["fmt", "--check", str(MODELS)]) == (0, "", "")


def test_the_readme_example_prints_what_the_readme_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    model = re.search(r"^```topo\n(# shop\.topo\n.*?)^```", readme, re.S | re.M)
    shown = re.search(r"^```\n\$ topocheck check shop\.topo\n(.*?)^```", readme, re.S | re.M)
    assert model and shown
    (tmp_path / "shop.topo").write_text(model.group(1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["check", "shop.topo"])
    assert (code, err) == (1, "")
    assert out == shown.group(1)
