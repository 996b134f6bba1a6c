"""Checking a file leaves no reference cycle of ours behind.

The cyclic garbage collector is paused while a file is checked
(:func:`checker.fastparse.paused_gc`), so what a file's work leaves behind must be
freed by reference counting alone. One cycle anywhere (an object and its helper
pointing at each other, a closure calling itself) keeps everything reachable from
it (the circuit, the model) alive until a collection runs, and its memory is not
reused by the checks that follow. Every check runs here, on files that reach the
relaxed failure search, the falling-host search, the solver and the importers'
models; the garbage a collection then finds must hold nothing made by topocheck.
(Z3 makes a few ctypes array types per call, which are cycles of its own.)
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from benchmarks import shapes
from benchmarks.generate import generate
from checker.api import check_text
from checker.context import Options
from checker.importers.command import import_system
from checker.importers.run import check_imported

from .conftest import SHARED

ROOT = Path(__file__).resolve().parent.parent
CORPUS = SHARED / "corpus"


def _without_checks(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("check "))


CASES = {
    "generated, every default check": _without_checks(generate(300)),
    "generated, its own checks (no-spof k=3, write-to-primary k=2)": generate(300, plant=("port-forward",)),
    "seed, multi-datacenter": (ROOT / "models/seed/05-multi-datacenter.topo").read_text(encoding="utf-8"),
    "availability in nines": (ROOT / "tests/cases/availability/good/k-of-n.topo").read_text(encoding="utf-8"),
    "quorum cluster": _without_checks(shapes.huge_cluster(31)),
    "chain": _without_checks(shapes.chain(20)),
    "every service down": _without_checks(shapes.all_down(300)),
    "overlapping rules": _without_checks(shapes.overlapping_rules(60)),
}


def _ours(thing: object) -> bool:
    module = getattr(thing, "__module__", None) or getattr(type(thing), "__module__", "") or ""
    return module.startswith("checker")


def _cycles_of_ours(work) -> list:
    """What of ours a collection finds unreachable after ``work()`` (run once before,
    so imports and one-time caches are not counted), and ``work()``'s value."""
    work()
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        value = work()
        gc.collect()
        ours = [thing for thing in gc.garbage if _ours(thing)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()
        if enabled:
            gc.enable()
    return ours, value


@pytest.mark.parametrize("name", list(CASES))
def test_checking_a_file_leaves_no_cycle_of_ours(name: str) -> None:
    ours, report = _cycles_of_ours(lambda: check_text(CASES[name], "t.topo", Options(timeout=120)))
    assert report.results
    _assert_none(ours)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the corpus (../shared/corpus) is not here")
@pytest.mark.parametrize("source, folder", [("k8s", "kubernetes/cockroachdb"), ("compose", "compose/flask-redis")])
def test_importing_and_checking_leaves_no_cycle_of_ours(source: str, folder: str) -> None:
    files = [(str(p), p.read_text(encoding="utf-8")) for p in sorted((CORPUS / folder).iterdir())
             if p.suffix in (".yaml", ".yml")]

    def work():
        return check_imported(import_system(source, files, ()), None, Options(timeout=120))

    ours, reports = _cycles_of_ours(work)
    assert any(report.results for report in reports)
    _assert_none(ours)


def _assert_none(ours: list) -> None:
    kinds = sorted({type(thing).__qualname__ + (f" {thing.__qualname__}" if callable(thing) else "")
                    for thing in ours})
    assert not ours, f"{len(ours)} objects of ours only the cyclic collector frees: {kinds[:8]}"
