"""``topocheck explain`` and ``spec/CHECKS.md`` come from the checks' docstrings."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from checker.checks import registry
from checker.cli import main
from checker.docs import render

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_checks_md_is_in_step_with_the_docstrings() -> None:
    current = (ROOT / "spec" / "CHECKS.md").read_text(encoding="utf-8")
    assert current == render(), "spec/CHECKS.md is stale; run: python -m checker.docs > spec/CHECKS.md"


@pytest.mark.parametrize("check_id", list(registry()))
def test_explain_prints_the_whole_docstring(check_id: str) -> None:
    code, out, err = run(["explain", check_id])
    info = registry()[check_id]
    assert code == 0 and err == ""
    assert out.startswith(f"{check_id}: severity {info.severity.value}")
    assert info.doc in out
    assert f"## {check_id}\n" in render()


@pytest.mark.parametrize("check_id", list(registry()))
def test_every_check_docstring_has_the_sections(check_id: str) -> None:
    doc = registry()[check_id].doc
    for section in ("What it proves", "Why it matters", "failing example", "fix"):
        assert section.lower() in doc.lower(), f"{check_id}'s docstring lacks '{section}'"


def test_explain_unknown_id_suggests_a_close_one() -> None:
    code, out, err = run(["explain", "availble"])
    assert code == 2 and out == ""
    assert "unknown check 'availble'; did you mean 'available'?" in err


def test_explain_builtin_result_ids() -> None:
    code, out, _ = run(["explain", "unused-suppression"])
    assert code == 0 and "accepted no finding" in out
