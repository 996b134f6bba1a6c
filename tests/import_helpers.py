"""Helpers for the importer tests: import small YAML written in a test, check it, find results."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Sequence

from checker.importers.compose import import_compose
from checker.importers.emitter import Imported
from checker.importers.k8s import import_k8s
from checker.importers.overlay import read_overlay
from checker.importers.run import check_imported
from checker.results import FileReport, Result, Status

ROOT = Path(__file__).resolve().parent.parent


def k8s(text: str, zones: Sequence[str] = (), overlay: str | None = None, path: str = "m.yaml",
        one_node: bool = False) -> Imported:
    info = read_overlay(overlay, "o.topo").info if overlay is not None else None
    return import_k8s([(path, text)], zones, info, one_node) if info else import_k8s([(path, text)], zones,
                                                                                    one_node=one_node)


def compose(text: str, overlay: str | None = None, path: str = "proj/compose.yaml") -> Imported:
    info = read_overlay(overlay, "o.topo").info if overlay is not None else None
    return import_compose(path, text, info) if info else import_compose(path, text)


def check(imported: Imported, overlay: str | None = None) -> list[Result]:
    reports = check_imported(imported, read_overlay(overlay, "o.topo") if overlay is not None else None)
    return [r for report in reports for r in report.results]


def reports(imported: Imported, overlay: str | None = None) -> list[FileReport]:
    return check_imported(imported, read_overlay(overlay, "o.topo") if overlay is not None else None)


def refuted(results: list[Result], check_id: str) -> list[Result]:
    return [r for r in results if r.id == check_id and r.status is Status.REFUTED]


def verdict(results: list[Result], check_id: str) -> str:
    found = [r.status.value for r in results if r.id == check_id]
    assert found, f"no result for {check_id}"
    return "refuted" if "refuted" in found else found[0]


def notes(imported: Imported) -> list[str]:
    return [n.message for n in imported.notes]


def lines(imported: Imported, pattern: str) -> list[str]:
    """The statement lines of the import matching a regular expression (comments left out, the
    place-naming comment at the end of a line too)."""
    found = [line.split("  # ", 1)[0] for line in imported.text.splitlines() if not line.lstrip().startswith("#")]
    return [line for line in found if re.search(pattern, line)]


class Rows:
    """Which rows of a mapping table the tests cover (``@rows.cover("K3")``)."""

    def __init__(self, spec: str, prefix: str):
        self.spec = ROOT / "spec" / spec
        self.prefix = prefix
        self.covered: set[str] = set()

    def cover(self, *ids: str) -> Callable:
        def mark(function: Callable) -> Callable:
            self.covered.update(ids)
            return function
        return mark

    def in_spec(self) -> set[str]:
        text = self.spec.read_text(encoding="utf-8")
        return set(re.findall(rf"^\| ({self.prefix}\d+) \|", text, re.MULTILINE))
