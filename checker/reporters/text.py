"""``--format text``: compiler-style lines, the source line with a caret, the
counterexample indented beneath, and a one-line summary per file."""

from __future__ import annotations

from typing import Any, Sequence

from ..results import FileReport, Result, Status

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "note": "\033[1;36m", "proved": "\033[1;32m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def render(reports: Sequence[FileReport], colour: bool = False) -> str:
    out: list[str] = []
    for report in reports:
        lines = (report.source or "").split("\n")
        for result in report.results:
            if result.status is Status.PROVED:
                continue
            out.extend(_finding(report.path, result, lines, colour))
        out.append(_summary(report, colour))
    return "\n".join(out) + "\n"


def _paint(text: str, code: str, colour: bool) -> str:
    return f"{code}{text}{_RESET}" if colour else text


def _finding(path: str, result: Result, lines: list[str], colour: bool) -> list[str]:
    span = result.span
    line, column = (span.line, span.column) if span else (1, 1)
    label = result.severity.value if result.status is Status.REFUTED else f"{result.severity.value} (unknown)"
    head = f"{path}:{line}:{column}: {_paint(f'{label}[{result.id}]', _COLOURS[result.severity.value], colour)} {result.message}"
    out = [head]
    if span and 1 <= span.line <= len(lines):
        source = lines[span.line - 1].rstrip("\r").expandtabs(1)
        width = max(1, (span.end_column - span.column) if span.end_line == span.line else len(source) - span.column + 1)
        out.append(f"  {span.line:>4} | {source}")
        out.append(f"       | {' ' * (span.column - 1)}{_paint('^' * width, _COLOURS[result.severity.value], colour)}")
    if result.hint:
        out.append(f"       = hint: {result.hint}")
    for index, counterexample in enumerate(result.counterexamples, 1):
        prefix = f"counterexample {index}" if len(result.counterexamples) > 1 else "counterexample"
        out.append(f"    {_paint(prefix, _BOLD, colour)}:")
        out.extend(f"      {text}" for text in describe_fields(counterexample.to_json()))
    return out


def describe_fields(fields: dict[str, Any]) -> list[str]:
    """A counterexample's fields as readable lines (shared by the Markdown reporter)."""
    out = []
    for key, value in fields.items():
        if key == "explanation":
            out.extend(f"because {line}" for line in value)
        elif key == "path":
            out.append(f"path: {' -> '.join(str(v) for v in value)}")
        elif key == "packet":
            out.append(
                f"packet: {value['src']} -> {value['dst']} {value['protocol']}/{value['port']}"
            )
        elif key == "rules":
            out.append("admitted by rules at lines: " + ", ".join(str(v) for v in value) if value else "admitted by: the open network (no rules)")
        elif isinstance(value, list):
            out.append(f"{key}: {', '.join(str(v) for v in value) if value else '(none)'}")
        else:
            out.append(f"{key}: {'(none)' if value is None else value}")
    return out


def _summary(report: FileReport, colour: bool) -> str:
    counts = report.counts()
    text = f"{report.path}: {counts['proved']} proved, {counts['refuted']} refuted, {counts['unknown']} unknown"
    proved = []
    for r in report.results:
        if r.status is Status.PROVED:
            margin = ""
            if "margin" in r.to_json():
                m = r.to_json()["margin"]
                margin = f" (margin {m})" if m is not None else " (margin > k+1)"
            proved.append(f"{r.id}{margin}")
    if proved:
        text += f"; {_paint('proved', _COLOURS['proved'], colour)}: {', '.join(proved)}"
    if report.skipped:
        text += f" ({report.skipped})"
    return text
