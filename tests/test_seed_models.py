"""Every model under models/ gets the verdicts its header's ``# expect:`` line states.

The line lists ``ID=status`` or ``ID[key=value]=status`` pairs. Checks that are
not built yet are skipped per check, so the test extends itself as checks land.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checker.api import check_text
from checker.checks import registry

from .conftest import MODELS

_PAIR = re.compile(r"([a-z-]+)(?:\[([^\]]*)\])?=(proved|refuted|unknown)")


def _models():
    for path in sorted(MODELS.glob("**/*.topo")):
        yield pytest.param(path, id=str(path.relative_to(MODELS)))


def parse_expect(text: str) -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
    for line in text.splitlines():
        if line.startswith("# expect:"):
            out = []
            for check_id, params, status in _PAIR.findall(line):
                pairs = tuple(tuple(p.split("=", 1)) for p in params.split(",") if p) if params else ()
                out.append((check_id, pairs, status))
            return out
    return []


def test_seed_stages_exist() -> None:
    stages = sorted(p.name for p in (MODELS / "seed").glob("*.topo"))
    assert len(stages) >= 5, stages


@pytest.mark.parametrize("path", list(_models()))
def test_model_verdicts(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected = parse_expect(text)
    assert expected, f"{path} has no '# expect:' line"
    report = check_text(text, str(path))
    assert not report.skipped, [r.message for r in report.results]
    built = registry()
    checked = 0
    for check_id, params, status in expected:
        if check_id not in built:
            continue
        matching = [
            r for r in report.results
            if r.id == check_id and (not params or all(r.extra.get("params", {}).get(k) == v for k, v in params))
        ]
        if not params:
            matching = matching[:1] if len(matching) == 1 else [
                r for r in matching if not r.extra.get("params")
            ] or matching
        assert matching, f"no {check_id}{list(params)} result in {[r.id for r in report.results]}"
        assert {r.status.value for r in matching} == {status}, [(r.id, r.status.value, r.message) for r in matching]
        checked += 1
    assert checked, "no expectation could be checked"
