"""``--format text``: compiler-style lines, the source line with a caret, the
counterexample indented beneath, and a one-line summary per file.

Text from the input (paths, messages, source lines, reasons) is shown through
:func:`checker.display.visible`, so a control character is printed as an escape,
never acted on; a source line wider than ``MAX_ECHO_COLUMNS`` is cut around the
caret, so many findings on one long line do not repeat it whole.
"""

from __future__ import annotations

from array import array
from typing import Any, Iterator, Sequence

from ..display import visible
from ..limits import MAX_ECHO_COLUMNS
from ..results import FileReport, Result, Status

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "note": "\033[1;36m", "proved": "\033[1;32m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def render(reports: Sequence[FileReport], colour: bool = False) -> str:
    return "".join(chunks(reports, colour))


def chunks(reports: Sequence[FileReport], colour: bool = False) -> Iterator[str]:
    """The report in pieces, a finding's lines each (made as it is written: see
    :mod:`checker.reporters.stream`)."""
    for report in reports:
        lines = SourceLines(report.source)
        for result in report.results:
            if result.status is not Status.PROVED:
                yield "\n".join(_finding(report.path, result, lines, colour)) + "\n"
        absent = _absent(report)
        if absent:
            yield "\n".join(absent) + "\n"
        yield _summary(report, colour) + "\n"
    if len(reports) > 1:
        yield _total(reports, colour) + "\n"
    elif not reports:
        yield "\n"  # (no lines: one line end, as for every format)


class SourceLines:
    """A text's lines (split at line feeds), read by number from 0, without a string per
    line: where each starts, found when a line is first read (the lines of a
    100k-component file as strings were 40 MB more at the report's peak). No text (a
    file not read): no lines."""

    __slots__ = ("text", "_starts")

    def __init__(self, text: str | None) -> None:
        self.text = text
        self._starts: array | None = None

    def _index(self) -> array:
        if self._starts is None:
            text = self.text
            self._starts = starts = array("q", [] if text is None else [0])
            if text is not None:
                find, at = text.find, text.find("\n")
                while at >= 0:
                    starts.append(at + 1)
                    at = find("\n", at + 1)
        return self._starts

    def __len__(self) -> int:
        return len(self._index())

    def __getitem__(self, index: int) -> str:
        starts, text = self._index(), self.text or ""
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(text)
        return text[starts[index]:end]


def _suppressed_count(report: FileReport) -> int:
    return sum(len(r.extra.get("suppressed", ())) for r in report.results)


def _total(reports: Sequence[FileReport], colour: bool) -> str:
    """The final line over every file."""
    from ..suppress import is_failing

    totals = {"proved": 0, "refuted": 0, "unknown": 0}
    for report in reports:
        for key, count in report.counts().items():
            totals[key] += count
    suppressed = sum(_suppressed_count(r) for r in reports)
    failing = sum(1 for rep in reports for r in rep.results if is_failing(r))
    verdict = (_paint(f"{failing} failing", _COLOURS["error"], colour) if failing
               else _paint("nothing failing", _COLOURS["proved"], colour))
    tail = f", {suppressed} suppressed" if suppressed else ""
    return (f"total: {len(reports)} files, {totals['proved']} proved, {totals['refuted']} refuted, "
            f"{totals['unknown']} unknown{tail}; {verdict}")


def _paint(text: str, code: str, colour: bool) -> str:
    return f"{code}{text}{_RESET}" if colour else text


def _finding(path: str, result: Result, lines: SourceLines, colour: bool) -> list[str]:
    span = result.span
    line, column = (span.line, span.column) if span else (1, 1)
    from ..suppress import fully_suppressed

    label = result.severity.value if result.status is Status.REFUTED else f"{result.severity.value} (unknown)"
    code = _COLOURS[result.severity.value]
    if fully_suppressed(result):
        label, code = "suppressed", _DIM
    from ..baseline import baseline_state, counterexample_states

    state = baseline_state(result)
    known = f" ({_BASELINE_WORDS[state]})" if state else ""
    head = (f"{visible(path)}:{line}:{column}: {_paint(f'{label}[{result.id}]', code, colour)}{known} "
            f"{visible(result.message)}")
    out = [head]
    if span and 1 <= span.line <= len(lines):
        source = lines[span.line - 1].rstrip("\r").expandtabs(1)
        width = max(1, (span.end_column - span.column) if span.end_line == span.line else len(source) - span.column + 1)
        shown, offset, marks = echo(source, span.column - 1, width)
        out.append(f"  {span.line:>4} | {shown}")
        out.append(f"       | {' ' * offset}{_paint('^' * marks, code, colour)}")
    if result.hint and not fully_suppressed(result):
        out.append(f"       = hint: {visible(result.hint)}")
    states = counterexample_states(result)
    for index, counterexample in enumerate(result.counterexamples, 1):
        prefix = f"counterexample {index}" if len(result.counterexamples) > 1 else "counterexample"
        if len(states) > 1:
            prefix += f" ({_BASELINE_WORDS[states[index - 1]]})"
        out.append(f"    {_paint(prefix, _BOLD, colour)}:")
        out.extend(f"      {visible(text)}" for text in describe_fields(counterexample.to_json()))
    for entry in result.extra.get("suppressed", ()):
        reason = visible(str(entry.get("reason")))
        out.append(f"    {_paint('suppressed', _BOLD, colour)} (line {entry.get('line')}): {reason}")
        out.extend(f"      {visible(text)}" for text in describe_fields(dict(entry.get("counterexample") or {})))
    return out


def echo(source: str, start: int, width: int) -> tuple[str, int, int]:
    """The source line as shown under a finding, where the caret starts in it and
    how many carets: ``source[start:start + width]`` is marked. Control characters
    are escaped (the caret follows the escape's width); a line wider than
    ``MAX_ECHO_COLUMNS`` is cut around the mark, with ``...`` where it was cut."""
    before = visible(source[:start])
    marked = visible(source[start:start + width]) or " "
    after = visible(source[start + width:])
    shown = before + marked + after
    offset, marks = len(before), len(marked)
    if len(shown) <= MAX_ECHO_COLUMNS:
        return shown, offset, marks
    marks = min(marks, MAX_ECHO_COLUMNS // 2)
    first = max(0, min(offset - (MAX_ECHO_COLUMNS - marks) // 2, len(shown) - MAX_ECHO_COLUMNS))
    last = first + MAX_ECHO_COLUMNS
    window = shown[first:last]
    if first > 0:
        window, offset = "..." + window, offset - first + 3
    if last < len(shown):
        window += "..."
    return window, offset, marks


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
        elif key == "denied" and isinstance(value, list):  # connections: {"source", "target", "ports"}
            out.append("denied: " + ", ".join(f"{c['source']} -> {c['target']} {c['ports']}" for c in value))
        elif key == "probability" and isinstance(value, float):
            out.append(f"probability: {value:.6g} (the failed units all down and a service down)")
        elif key == "share":
            if value is not None:
                out.append(f"share of the unavailability: {value * 100:.4g}%")
        elif key == "rules":
            out.append("admitted by rules at lines: " + ", ".join(str(v) for v in value) if value else "admitted by: the open network (no rules)")
        elif isinstance(value, list):
            out.append(f"{key}: {', '.join(str(v) for v in value) if value else '(none)'}")
        else:
            out.append(f"{key}: {'(none)' if value is None else value}")
    return out


_PROBLEM_NAMES = {"syntax": "syntax error", "io-error": "read error", "limit": "input over a limit"}


def not_checked(report: FileReport) -> str | None:
    """For a file that could not be loaded, what stopped it instead of verdict counts:
    "1 syntax error (the file has errors, so no check ran)"."""
    if not report.skipped or not report.results or any(r.status is not Status.REFUTED for r in report.results):
        return None  # a file stopped by a run limit keeps its counts: its result is unknown
    counts: dict[str, int] = {}
    for result in report.results:
        counts[result.id] = counts.get(result.id, 0) + 1
    parts = []
    for check_id, count in counts.items():
        name = _PROBLEM_NAMES.get(check_id, check_id.replace("-", " "))
        parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return f"{', '.join(parts)} ({report.skipped})"


def _summary(report: FileReport, colour: bool) -> str:
    stopped = not_checked(report)
    if stopped is not None:
        return f"{visible(report.path)}: {stopped}"
    counts = report.counts()
    text = f"{visible(report.path)}: {counts['proved']} proved, {counts['refuted']} refuted, {counts['unknown']} unknown"
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
    suppressed = _suppressed_count(report)
    if suppressed:
        text += f"; {suppressed} suppressed"
    from ..baseline import baseline_counts

    counts = baseline_counts([report])
    if counts is not None:
        text += f"; baseline: {counts['new']} new, {counts['unchanged']} known, {counts['absent']} fixed"
    return text


#: How a baseline state reads next to a finding.
_BASELINE_WORDS = {"new": "new", "unchanged": "known"}


def _absent(report: FileReport) -> list[str]:
    """The baseline's findings that are gone (they come from a file: escaped)."""
    from .escape import control

    out = []
    for finding in report.absent:
        line = finding.get("location", {}).get("line", "?")
        out.append(control(f"{report.path}: fixed since the baseline: {finding['severity']}[{finding['id']}] "
                           f"{finding['message']} (was at line {line})"))
    return out
