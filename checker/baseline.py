"""Baselines: the findings of a JSON report written earlier are known.

``topocheck check --baseline FILE`` reads a report that ``--format json`` (or
``--write-baseline``) wrote, typically on the main branch, and compares every
finding of this run with it. A *finding* is one counterexample of a result that
is not proved (an accepted one, under ``suppressed``, included), or such a result
itself when it has no counterexample (an ``unknown`` verdict, a syntax error).
Findings are matched by the line-independent fingerprint that SARIF output
carries (:func:`checker.reporters.sarif.fingerprint_of`, one definition): the
check id, the file and the counterexample without line numbers. Matching counts
copies, per file: two identical findings in the baseline cover two now, not three.

Every result of the run gets ``extra["baseline"]`` (JSON key ``"baseline"``)::

    {"state": "new" | "unchanged", "counterexamples": ["new" | "unchanged", ...],
     "suppressed": [...]}           # "suppressed" only when the result has accepted findings

A result is ``unchanged`` when every finding in it is in the baseline (a proved
result: when the baseline has the same check proved on the same file), else
``new``. An ``unchanged`` result no longer fails the run
(:func:`checker.suppress.is_failing`). Findings of the baseline that match
nothing in a file checked now are that report's ``absent`` ones: fixed since.
A file the baseline has but this run did not check contributes nothing.

Everything here is pure: the CLI reads and writes the files.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any, Iterable, Sequence

from . import __version__
from .reporters.sarif import fingerprint_of
from .results import FileReport, Result, Status

STATES = ("new", "unchanged", "absent")
_STATUSES = {s.value for s in Status}


class BaselineError(Exception):
    """A baseline that cannot be used: not a topocheck JSON report, or another version's."""


@dataclass(frozen=True)
class BaselineFinding:
    """One finding of the baseline, as the report recorded it."""

    fingerprint: str
    id: str
    status: str
    severity: str
    message: str
    location: dict[str, Any]
    counterexample: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "severity": self.severity, "message": self.message,
                "location": self.location, "counterexample": self.counterexample,
                "fingerprint": self.fingerprint}


@dataclass(frozen=True)
class Baseline:
    source: str  # where it was read from, for messages
    findings: dict[str, tuple[BaselineFinding, ...]]  # by file path (POSIX form), in report order
    proved: dict[str, frozenset[str]]  # the checks proved, by file path


def file_key(path: str) -> str:
    """How a file is named in a baseline: its path in POSIX form, as reported."""
    return PurePath(path).as_posix()


def parse_baseline(text: str, source: str) -> Baseline:
    """A baseline from a JSON report's text; :class:`BaselineError` says what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"the baseline '{source}' is not JSON: line {exc.lineno} column {exc.colno}: "
                            f"{exc.msg}") from None
    if not isinstance(data, dict):
        raise BaselineError(f"the baseline '{source}' is not a topocheck JSON report (not a JSON object)")
    if "runs" in data and "files" not in data:
        raise BaselineError(f"the baseline '{source}' is SARIF; a baseline is a JSON report "
                            "('topocheck check --format json' or '--write-baseline')")
    if data.get("tool") != "topocheck" or "files" not in data or data.get("kind") == "diff":
        raise BaselineError(f"the baseline '{source}' is not a topocheck JSON report "
                            "(write one with 'topocheck check --write-baseline FILE')")
    version = data.get("version")
    if version != __version__:
        raise BaselineError(f"the baseline '{source}' was written by topocheck {_shown(version)} and this is "
                            f"topocheck {__version__}: fingerprints may differ between versions; write a new "
                            "baseline with 'topocheck check --write-baseline FILE'")
    findings: dict[str, list[BaselineFinding]] = {}
    proved: dict[str, set[str]] = {}
    for f_index, entry in enumerate(_expect(data["files"], list, "files", source)):
        where = f"files[{f_index}]"
        entry = _expect(entry, dict, where, source)
        path = _expect(entry.get("path"), str, f"{where}.path", source)
        key = file_key(path)
        found = findings.setdefault(key, [])
        for r_index, result in enumerate(_expect(entry.get("results"), list, f"{where}.results", source)):
            found.extend(_findings_of_json(key, result, f"{where}.results[{r_index}]", source, proved))
    return Baseline(source, {k: tuple(v) for k, v in findings.items()},
                    {k: frozenset(v) for k, v in proved.items()})


def _shown(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else value


def _expect(value: Any, kind: type, where: str, source: str) -> Any:
    if not isinstance(value, kind):
        wanted = {list: "a list", dict: "an object", str: "a string"}[kind]
        raise BaselineError(f"the baseline '{source}' is malformed: {where} is not {wanted}")
    return value


def _findings_of_json(key: str, result: Any, where: str, source: str,
                      proved: dict[str, set[str]]) -> list[BaselineFinding]:
    result = _expect(result, dict, where, source)
    check_id = _expect(result.get("id"), str, f"{where}.id", source)
    status = _expect(result.get("status"), str, f"{where}.status", source)
    if status not in _STATUSES:
        raise BaselineError(f"the baseline '{source}' is malformed: {where}.status is '{status}', "
                            f"not one of {', '.join(sorted(_STATUSES))}")
    message = _expect(result.get("message"), str, f"{where}.message", source)
    severity = _expect(result.get("severity"), str, f"{where}.severity", source)
    location = _expect(result.get("location", {}), dict, f"{where}.location", source)
    if status == Status.PROVED.value:
        proved.setdefault(key, set()).add(check_id)
        return []
    evidence: list[dict[str, Any] | None] = []
    for c_index, cx in enumerate(_expect(result.get("counterexamples", []), list, f"{where}.counterexamples", source)):
        evidence.append(_expect(cx, dict, f"{where}.counterexamples[{c_index}]", source))
    for s_index, entry in enumerate(_expect(result.get("suppressed", []), list, f"{where}.suppressed", source)):
        entry = _expect(entry, dict, f"{where}.suppressed[{s_index}]", source)
        cx = entry.get("counterexample")
        evidence.append(_expect(cx, dict, f"{where}.suppressed[{s_index}].counterexample", source) if cx else None)
    return [BaselineFinding(fingerprint_of(check_id, key, cx, message), check_id, status, severity, message,
                            location, cx or None)
            for cx in (evidence or [None])]


# -- comparing a run with a baseline ------------------------------------------------


def result_fingerprints(path: str, result: Result) -> tuple[list[str], list[str]]:
    """The fingerprints of a result's findings: its counterexamples', and its accepted ones'.
    A result with neither is one finding (its own, by message); a proved result has none."""
    if result.status is Status.PROVED:
        return [], []
    key = file_key(path)
    shown = [fingerprint_of(result.id, key, cx.fields, result.message) for cx in result.counterexamples]
    accepted = [fingerprint_of(result.id, key, dict(entry.get("counterexample") or {}), result.message)
                for entry in result.extra.get("suppressed", ())]
    if not shown and not accepted:
        shown = [fingerprint_of(result.id, key, None, result.message)]
    return shown, accepted


def apply_baseline(reports: Sequence[FileReport], baseline: Baseline) -> list[FileReport]:
    """The reports with every result marked ``new`` or ``unchanged`` and each file's
    ``absent`` findings filled in (see the module's docstring)."""
    out: list[FileReport] = []
    for report in reports:
        key = file_key(report.path)
        known = baseline.findings.get(key, ())
        available = Counter(f.fingerprint for f in known)
        proved = baseline.proved.get(key, frozenset())

        marked: list[Result] = []
        for result in report.results:
            if result.status is Status.PROVED:
                mark: dict[str, Any] = {"state": "unchanged" if result.id in proved else "new",
                                        "counterexamples": []}
            else:
                shown, accepted = result_fingerprints(report.path, result)
                shown_states = [_take(available, fp) for fp in shown]
                accepted_states = [_take(available, fp) for fp in accepted]
                states = shown_states or accepted_states
                mark = {"state": "new" if "new" in states else "unchanged",
                        "counterexamples": shown_states if result.counterexamples else []}
                if accepted_states:
                    mark["suppressed"] = accepted_states
            marked.append(replace(result, extra={**result.extra, "baseline": mark}))
        absent: list[dict[str, Any]] = []
        for finding in reversed(known):  # the later copies of a fingerprint are the ones gone
            if available[finding.fingerprint] > 0:
                available[finding.fingerprint] -= 1
                absent.append(finding.to_json())
        out.append(replace(report, results=tuple(marked), absent=tuple(reversed(absent))))
    return out


def _take(available: Counter, fingerprint: str) -> str:
    """``unchanged`` when the baseline has a copy of the finding left (and use it up), else ``new``."""
    if available[fingerprint] > 0:
        available[fingerprint] -= 1
        return "unchanged"
    return "new"


def baseline_state(result: Result) -> str | None:
    """``new`` or ``unchanged`` when a baseline was applied, else None."""
    mark = result.extra.get("baseline")
    return mark.get("state") if isinstance(mark, dict) else None


def counterexample_states(result: Result) -> list[str]:
    """The state of each shown counterexample (empty without a baseline)."""
    mark = result.extra.get("baseline")
    return list(mark.get("counterexamples", ())) if isinstance(mark, dict) else []


def baseline_counts(reports: Iterable[FileReport]) -> dict[str, int] | None:
    """How many findings are new, unchanged and absent; None when no baseline was applied."""
    counts = {state: 0 for state in STATES}
    applied = False
    for report in reports:
        counts["absent"] += len(report.absent)
        applied = applied or bool(report.absent)
        for result in report.results:
            mark = result.extra.get("baseline")
            if not isinstance(mark, dict):
                continue
            applied = True
            if result.status is Status.PROVED:
                continue
            states = list(mark.get("counterexamples", ())) + list(mark.get("suppressed", ()))
            for state in states or [mark.get("state")]:
                counts[state] += 1
    return counts if applied else None
