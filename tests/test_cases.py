"""Good/bad topology files per check, under tests/cases/<check-id>/{good,bad}/.

A good file must get a ``proved`` result for the check. A bad file must get a
``refuted`` one, and names what it expects in comments this test reads:

* ``# expect: {JSON}``: an object that must be contained in one of the
  result's counterexamples (dicts compare key by key, lists element by element);
  repeat the line for several counterexamples;
* ``# expect-count: N``: the exact number of counterexamples;
* ``# expect-location: LINE:COL``: where the result points;
* ``# expect-message: TEXT``: a fragment of the message;
* ``# expect-id: ID``: check a result of another id (a lint or an error) instead.

Checks that are not built yet are skipped, never passed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.api import check_text
from checker.checks import registry

from .conftest import CASES


def _case_files():
    for path in sorted(CASES.glob("*/*/*.topo")):
        yield pytest.param(path, id=f"{path.parent.parent.name}/{path.parent.name}/{path.name}")


def contains(actual, expected) -> bool:
    """Whether ``expected`` is a sub-structure of ``actual``."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and contains(actual[k], v) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            contains(a, e) for a, e in zip(actual, expected)
        )
    return actual == expected


def expectations(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        for key in ("expect-count", "expect-location", "expect-message", "expect-id", "expect"):
            prefix = f"# {key}:"
            if line.startswith(prefix):
                out.setdefault(key, []).append(line[len(prefix):].strip())
                break
    return out


@pytest.mark.parametrize("path", list(_case_files()))
def test_case(path: Path) -> None:
    check_id = path.parent.parent.name
    kind = path.parent.name
    text = path.read_text(encoding="utf-8")
    wanted = expectations(text)
    result_id = wanted.get("expect-id", [check_id])[0]
    if result_id not in registry() and result_id not in ("syntax", "undefined-name", "duplicate-name", "invalid-attribute"):
        pytest.skip(f"check '{result_id}' is not built yet")
    report = check_text(text, str(path))
    results = [r for r in report.results if r.id == result_id]
    assert results, f"no '{result_id}' result; got {[(r.id, r.status.value, r.message) for r in report.results]}"
    if kind == "good":
        assert all(r.status.value == "proved" for r in results), [r.message for r in results]
        return
    refuted = [r for r in results if r.status.value == "refuted"]
    assert refuted, [r.message for r in results]
    result = refuted[0]
    counterexamples = [c.to_json() for r in refuted for c in r.counterexamples]
    for raw in wanted.get("expect", []):
        expected = json.loads(raw)
        assert any(contains(c, expected) for c in counterexamples), (expected, counterexamples)
    for raw in wanted.get("expect-count", []):
        assert len(counterexamples) == int(raw), counterexamples
    for raw in wanted.get("expect-location", []):
        line, column = (int(x) for x in raw.split(":"))
        assert any((r.span.line, r.span.column) == (line, column) for r in refuted), [
            (r.span.line, r.span.column, r.message) for r in refuted
        ]
    for raw in wanted.get("expect-message", []):
        assert any(raw in r.message for r in refuted), [r.message for r in refuted]
