"""Suppressions: accepting a known finding, with a reason, in the topology file.

A comment ``# topocheck: ignore[ID, ...] REASON`` accepts the findings of the
named checks on one line of the file: the line the comment ends, or, when the
comment stands alone on its line, the next line that is not blank or a comment.
A finding is on a line when its result is located there, or when one of its
counterexample's failed units or path hops is declared there (so the comment
goes on a component's declaration or on a rule's line).

Suppression never drops a finding. A suppressed counterexample moves from the
result's ``counterexamples`` to ``extra["suppressed"]`` (JSON key
``"suppressed"``): ``[{"counterexample": {...}, "reason": "...", "line": N}]``;
a result whose every counterexample is suppressed stays ``refuted`` but no longer
fails the run (:func:`is_failing`). A comment without a reason, or naming an
unknown check, is an ``invalid-suppression`` error; a comment that accepted
nothing (for a check that ran) is an ``unused-suppression`` warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable, Iterator, Sequence

from .model import Span
from .results import Counterexample, Result, Severity, Status

_COMMENT = re.compile(r"#\s*topocheck\s*:\s*ignore\s*(?:\[(?P<ids>[^\]]*)\])?(?P<reason>.*)$")
_ID = re.compile(r"^[a-z][a-z0-9-]*$")


class SuppressedEntry(dict):
    """The JSON record of one accepted finding; keeps the counterexample object
    (with its spans) for reporters that draw locations."""

    def __init__(self, counterexample: Counterexample | None, fields: dict, reason: str, line: int):
        super().__init__(counterexample=fields, reason=reason, line=line)
        self.source = counterexample


@dataclass(frozen=True)
class Suppression:
    ids: tuple[str, ...]
    reason: str
    comment: Span  # where the comment is
    target_line: int  # the line whose findings it accepts


def parse_suppressions(text: str, path: str) -> tuple[list[Suppression], list[Result]]:
    """Every suppression comment in ``text``, and errors for malformed ones."""
    lines: list[str] | None = None  # every line, split only for a suppression on its own line
    # (comment line, the code line after it) of the last forward read: the suppressions of a
    # run of comment lines share it, so a run of thousands is read once, not once each
    scanned: tuple[int, int | None] | None = None
    found: list[Suppression] = []
    errors: list[Result] = []
    for number, raw in _lines_with_hash(text):
        hash_at = _comment_start(raw)
        if hash_at < 0:
            continue
        match = _COMMENT.match(raw, hash_at)
        if match is None:
            continue
        span = Span(path, number, hash_at + 1, number, len(raw.rstrip("\r")) + 1)
        ids_text = match.group("ids")
        reason = match.group("reason").strip()
        if ids_text is None:
            errors.append(_invalid(span, "a suppression must name the checks it accepts: "
                                         "'# topocheck: ignore[ID] reason'"))
            continue
        ids = tuple(part.strip() for part in ids_text.split(",") if part.strip())
        bad = [i for i in ids if not _ID.match(i)]
        if not ids or bad:
            errors.append(_invalid(span, f"'ignore[{ids_text}]' must list check ids such as 'no-spof'"))
            continue
        if not reason:
            errors.append(_invalid(span, f"the suppression of {_names(ids)} needs a reason after ']' "
                                         "(why is this finding accepted?)"))
            continue
        standalone = not raw[:hash_at].strip()
        target = number
        if standalone:
            if lines is None:
                lines = text.split("\n")
            if scanned is not None and scanned[0] < number and (scanned[1] is None or number < scanned[1]):
                target = scanned[1]  # the lines up to it were read for the comment before: no code
            else:
                target = _next_code_line(lines, number)
                scanned = (number, target)
            if target is None:
                errors.append(_invalid(span, "a suppression on its own line must come before the line it accepts"))
                continue
        found.append(Suppression(ids, reason, span, target))
    return found, errors


def _lines_with_hash(text: str) -> Iterator[tuple[int, str]]:
    """(number, line) of each line (split at ``\\n``) that holds a ``#``, in order,
    without splitting the whole text (a 100k-component file is 240k lines, 25 MB of
    strings, to read a few comments)."""
    number, counted = 1, 0  # the line number at offset ``counted``
    at = text.find("#")
    while at != -1:
        number += text.count("\n", counted, at)
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        if end == -1:
            end = len(text)
        yield number, text[start:end]
        counted = end
        at = text.find("#", end)


def _comment_start(line: str) -> int:
    """The index of the ``#`` that starts a comment, skipping ``#`` inside strings."""
    in_string = False
    escaped = False
    for index, char in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "#":
            return index
    return -1


def _next_code_line(lines: list[str], number: int) -> int | None:
    for index in range(number, len(lines)):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index + 1
    return None


def _invalid(span: Span, message: str) -> Result:
    return Result("invalid-suppression", Status.REFUTED, Severity.ERROR, message, span, "suppression")


def _names(ids: Sequence[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


def _lines_of(result: Result, counterexample: Counterexample | None, first: bool, path: str) -> set[int]:
    """The lines of ``path`` a finding is on (an imported system's findings span several files)."""
    lines: set[int] = set()
    if result.span is not None and (first or counterexample is None) and result.span.path == path:
        lines.add(result.span.line)
    if counterexample is not None:
        for hop in counterexample.related + counterexample.flow:
            if hop.span is not None and hop.span.path == path:
                lines.add(hop.span.line)
    return lines


def apply_suppressions(
    text: str, path: str, results: Iterable[Result], known_ids: Iterable[str]
) -> list[Result]:
    """Move accepted counterexamples into ``extra["suppressed"]`` and add results for
    malformed and unused suppressions. ``known_ids`` are the check ids a comment may name."""
    results = list(results)
    suppressions, problems = parse_suppressions(text, path)
    known = set(known_ids)
    usable: list[Suppression] = []
    for sup in suppressions:
        unknown = [i for i in sup.ids if i not in known]
        if unknown:
            problems.append(_invalid(sup.comment, f"unknown check {_names(unknown)} in suppression"))
        else:
            usable.append(sup)
    # check id -> target line -> (order, the first usable suppression of it there): a
    # finding's lines are looked up, not every suppression tried for every finding
    by_id: dict[str, dict[int, tuple[int, Suppression]]] = {}
    for order, sup in enumerate(usable):
        for check_id in sup.ids:
            by_id.setdefault(check_id, {}).setdefault(sup.target_line, (order, sup))
    used: set[tuple[int, str]] = set()  # (comment line, id)
    out: list[Result] = []
    for result in results:
        if result.status is not Status.REFUTED:
            out.append(result)
            continue
        matching = by_id.get(result.id)
        if not matching:
            out.append(result)
            continue
        kept: list[Counterexample] = []
        accepted: list[SuppressedEntry] = list(result.extra.get("suppressed", ()))
        candidates: Sequence[Counterexample | None] = result.counterexamples or (None,)
        for index, cx in enumerate(candidates):
            lines = _lines_of(result, cx, index == 0, path)
            hits = [matching[line] for line in lines if line in matching]
            hit = min(hits)[1] if hits else None  # the first in the file, as they were tried
            if hit is None:
                if cx is not None:
                    kept.append(cx)
                continue
            used.add((hit.comment.line, result.id))
            accepted.append(SuppressedEntry(cx, cx.to_json() if cx is not None else {}, hit.reason, hit.target_line))
        if len(accepted) == len(result.extra.get("suppressed", ())):
            out.append(result)
            continue
        extra = dict(result.extra)
        extra["suppressed"] = accepted
        out.append(replace(result, counterexamples=tuple(kept), extra=extra))
    ran = {r.id for r in results}
    for sup in usable:
        for check_id in sup.ids:
            if check_id in ran and (sup.comment.line, check_id) not in used:
                out.append(Result(
                    "unused-suppression", Status.REFUTED, Severity.WARNING,
                    f"the suppression of '{check_id}' accepts no finding on line {sup.target_line}; remove it",
                    sup.comment, "suppression",
                ))
    out.extend(problems)
    return out


def fully_suppressed(result: Result) -> bool:
    """True for a refuted result whose every finding was accepted by a suppression."""
    return (result.status is Status.REFUTED and not result.counterexamples
            and bool(result.extra.get("suppressed")))


def is_failing(result: Result) -> bool:
    """Whether a result fails the run, suppressions and a baseline taken into account
    (a finding already in the baseline, ``checker.baseline``, does not fail it)."""
    known = result.extra.get("baseline", {}).get("state") == "unchanged"
    return result.failing and not fully_suppressed(result) and not known
