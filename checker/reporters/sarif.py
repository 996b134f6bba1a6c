"""``--format sarif``: SARIF 2.1.0 for code scanning.

One run; one ``rules`` entry per check that produced a result (its docstring's
first line as the short description, the whole docstring as help), in report
order. Each result maps as follows:

* refuted: ``kind: "fail"`` with ``level`` from the severity (error, warning,
  note);
* proved: ``kind: "pass"``, ``level: "none"`` (SARIF 3.27.9: a result that is
  not a failure has level none);
* unknown: ``kind: "open"`` ("the tool could not determine whether the result
  holds"), ``level: "none"``; ``properties.status`` keeps topocheck's verdict.

A counterexample gives ``relatedLocations`` (each failed unit's declaration,
``Counterexample.related``) and one ``codeFlows`` entry per counterexample with
a path (``Counterexample.flow``, hop by hop). Counterexamples accepted by a
``# topocheck: ignore[...]`` comment appear as ``suppressions`` of kind
``inSource`` with the reason as justification. ``partialFingerprints`` hash the
check id, the file and the counterexample's fields without line numbers, so a
finding keeps its identity when lines move.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import replace
from functools import lru_cache
from itertools import chain
from pathlib import PurePath, PurePosixPath
from typing import Any, Iterator, Sequence
from urllib.parse import quote

from .. import __version__
from ..model import Span
from ..results import MISSING, Counterexample, FileReport, Result, Severity, Status
from .stream import Items, json_chunks

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/topocheck/topocheck"

# Results that do not come from a check module.
BUILTIN_RULES = {
    "syntax": "The file is not a well-formed topology.",
    "undefined-name": "A name is used that is not declared.",
    "duplicate-name": "A name is declared twice.",
    "invalid-attribute": "An attribute is not valid for its component or check.",
    "io-error": "The file could not be read.",
    "limit": "The file is over an input limit, or ran out of time or memory before its checks ran; nothing in "
             "it was checked (spec/LIMITS.md).",
    "internal-error": "topocheck failed on this file; please report it.",
    "unused-suppression": "A '# topocheck: ignore[...]' comment accepted no finding.",
    "invalid-suppression": "A '# topocheck: ignore[...]' comment is malformed or has no reason.",
    "import": "A part of the manifests an importer could not map, or an assumption it made (spec/IMPORT-K8S.md, "
              "spec/IMPORT-COMPOSE.md).",
}

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def render(reports: Sequence[FileReport]) -> str:
    return "".join(chunks(reports))


def chunks(reports: Sequence[FileReport]) -> Iterator[str]:
    """The log in pieces: each result's object is made as it is written (see
    :mod:`checker.reporters.stream`)."""
    from ..checks import registry

    checks = registry()
    seen: list[str] = []
    for report in reports:
        for check_id in [r.id for r in report.results] + [str(f["id"]) for f in report.absent]:
            if check_id not in seen:
                seen.append(check_id)
    order = {cid: i for i, cid in enumerate(checks)}
    seen.sort(key=lambda cid: (order.get(cid, len(order)), cid))
    rules = [_rule(cid, checks.get(cid)) for cid in seen]
    index = {cid: i for i, cid in enumerate(seen)}
    results = chain(
        (sarif for report in reports for result in report.results
         for sarif in _results(report, result, index[result.id])),
        (_absent(report, finding, index[str(finding["id"])]) for report in reports for finding in report.absent))
    artifacts = [{"location": {"uri": _uri(report.path)}} for report in reports]
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "topocheck",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "artifacts": artifacts,
                "results": Items(results),
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json_chunks(document)


def _rule(check_id: str, info) -> dict[str, Any]:
    if info is None:
        summary = BUILTIN_RULES.get(check_id, check_id)
        return {
            "id": check_id,
            "name": _camel(check_id),
            "shortDescription": {"text": summary},
            "fullDescription": {"text": summary},
            "help": {"text": summary, "markdown": summary},
            "defaultConfiguration": {"level": "warning" if check_id == "unused-suppression" else "error"},
        }
    return {
        "id": check_id,
        "name": _camel(check_id),
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": _first_paragraph(info.doc)},
        "help": {"text": info.doc, "markdown": info.doc},
        "helpUri": f"{INFORMATION_URI}/blob/main/spec/CHECKS.md#{check_id}",
        "defaultConfiguration": {"level": _LEVELS[info.severity]},
        "properties": {"tags": ["topology"], "default": info.default},
    }


def _camel(check_id: str) -> str:
    return "".join(part.capitalize() for part in check_id.replace("_", "-").split("-"))


def _first_paragraph(doc: str) -> str:
    return " ".join(doc.split("\n\n", 1)[0].split())


@lru_cache(maxsize=256)  # (every location of a file's results names the file)
def _uri(path: str) -> str:
    """The file's URI, its name's bytes percent-encoded (a name that is not UTF-8 included)."""
    pure = PurePath(path)
    if pure.is_absolute():
        try:
            return pure.as_uri()
        except ValueError:
            pass
    return quote(os.fsencode(PurePosixPath(*pure.parts).as_posix() if pure.parts else path))


def _region(span: Span) -> dict[str, int]:
    region = {"startLine": max(1, span.line), "startColumn": max(1, span.column)}
    if span.end_line >= span.line:
        region["endLine"] = span.end_line
        if span.end_line > span.line or span.end_column > span.column:
            region["endColumn"] = span.end_column
    return region


def _location(path: str, span: Span | None, message: str | None = None, ident: int | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(span.path if span and span.path else path)}}
    if span is not None:
        physical["region"] = _region(span)
    out: dict[str, Any] = {}
    if ident is not None:
        out["id"] = ident
    out["physicalLocation"] = physical
    if message:
        out["message"] = {"text": message}
    return out


def fingerprint(path: str, result: Result, counterexample: Counterexample | None) -> str:
    """A hash that survives line moves: id, file, and the evidence without line numbers."""
    return fingerprint_of(result.id, path, counterexample.fields if counterexample is not None else None,
                          result.message)


#: Counterexample fields that hold line numbers (or text made of them): left out of fingerprints.
LINE_FIELDS = frozenset({"rules", "explanation", "rule", "shadowed_by"})
_LINE_NUMBERS = re.compile(r"\b(lines?) \d+(?:(?:, | and )\d+)*")


def fingerprint_of(check_id: str, path: str, fields: dict[str, Any] | None, message: str) -> str:
    """:func:`fingerprint` on plain data, so a JSON report's result (its ``id``, a
    counterexample object or null, its ``message``) gives the same value: the check
    id, the file, and the counterexample's fields without :data:`LINE_FIELDS`, or,
    with no counterexample, the message with its line numbers masked."""
    if fields:
        evidence: Any = {k: v for k, v in fields.items() if k not in LINE_FIELDS}
    else:
        evidence = _LINE_NUMBERS.sub(r"\1 #", message)
    text = json.dumps([check_id, PurePath(path).as_posix(), evidence], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _results(report: FileReport, result: Result, rule_index: int) -> list[dict[str, Any]]:
    """The result itself (unless every finding in it was suppressed), then one
    result per suppressed counterexample, carrying its suppression."""
    from ..suppress import fully_suppressed

    out = [] if fully_suppressed(result) else [_result(report, result, rule_index)]
    for position, entry in enumerate(result.extra.get("suppressed", ())):
        source = getattr(entry, "source", None) or Counterexample(dict(entry.get("counterexample") or {}))
        extra = {k: v for k, v in result.extra.items() if k != "suppressed"}
        accepted = replace(result, counterexamples=(source,) if source.fields else (), extra=extra)
        sarif = _result(report, accepted, rule_index)
        line = int(entry.get("line") or 1)
        if "baseline" in result.extra:
            sarif["baselineState"] = result.extra["baseline"]["suppressed"][position]
        sarif["suppressions"] = [{
            "kind": "inSource", "status": "accepted", "justification": str(entry.get("reason", "")),
            "location": _location(report.path, Span(report.path, line, 1, line, 1)),
        }]
        out.append(sarif)
    return out


def _result(report: FileReport, result: Result, rule_index: int) -> dict[str, Any]:
    from .text import describe_fields

    if result.status is Status.REFUTED:
        kind, level = "fail", _LEVELS[result.severity]
    elif result.status is Status.PROVED:
        kind, level = "pass", "none"
    else:
        kind, level = "open", "none"
    message = result.message
    if result.hint:
        message += f" (hint: {result.hint})"
    if result.counterexamples:
        lines = describe_fields(result.counterexamples[0].to_json())
        message += "\n" + "\n".join(lines)
    out: dict[str, Any] = {
        "ruleId": result.id,
        "ruleIndex": rule_index,
        "kind": kind,
        "level": level,
        "message": {"text": message},
        "locations": [_location(report.path, result.span)],
    }
    if "baseline" in result.extra:  # --baseline: "new" or "unchanged"
        out["baselineState"] = result.extra["baseline"]["state"]
    related: list[dict[str, Any]] = []
    flows: list[dict[str, Any]] = []
    for cx_index, counterexample in enumerate(result.counterexamples, 1):
        for hop in counterexample.related:
            if hop.span is None:
                continue
            text = f"failed: {hop.label}" if counterexample.fields.get("failed") else hop.label
            related.append(_location(report.path, hop.span, text, len(related) + 1))
        hops = [hop for hop in counterexample.flow if hop.span is not None]
        if hops:
            flows.append({
                "message": {"text": f"counterexample {cx_index}: " + " -> ".join(h.label for h in hops)},
                "threadFlows": [{
                    "locations": [
                        {"location": _location(report.path, hop.span, hop.label), "nestingLevel": 0,
                         "executionOrder": order}
                        for order, hop in enumerate(hops, 1)
                    ]
                }],
            })
    if related:
        out["relatedLocations"] = related
    if flows:
        out["codeFlows"] = flows
    first = result.counterexamples[0] if result.counterexamples else None
    out["partialFingerprints"] = {"topocheck/v1": fingerprint(report.path, result, first)}
    properties: dict[str, Any] = {"status": result.status.value, "method": result.method}
    if result.counterexamples:
        properties["counterexamples"] = [c.to_json() for c in result.counterexamples]
    for key, value in result.extra.items():
        if key != "suppressed":
            properties[key] = value
    if result.margin is not MISSING:
        properties["margin"] = result.margin
    if result.hint:
        properties["hint"] = result.hint
    out["properties"] = properties
    return out


def _absent(report: FileReport, finding: dict[str, Any], rule_index: int) -> dict[str, Any]:
    """A finding of the baseline that is gone: ``baselineState: absent``, where it was."""
    where = finding.get("location") or {}

    def number(key: str) -> int:
        value = where.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else 1

    span = Span(report.path, number("line"), number("column"), number("end_line"), number("end_column"))
    properties: dict[str, Any] = {"status": str(finding.get("status"))}
    if finding.get("counterexample"):
        properties["counterexamples"] = [finding["counterexample"]]
    return {
        "ruleId": str(finding["id"]),
        "ruleIndex": rule_index,
        "kind": "pass",
        "level": "none",
        "message": {"text": f"fixed since the baseline: {finding.get('message', '')}"},
        "locations": [_location(report.path, span)],
        "baselineState": "absent",
        "partialFingerprints": {"topocheck/v1": str(finding.get("fingerprint", ""))},
        "properties": properties,
    }
