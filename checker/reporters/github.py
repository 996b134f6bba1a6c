"""``--format github``: GitHub Actions workflow commands, one annotation per finding.

``::error file=PATH,line=L,endLine=L,col=C,endColumn=C,title=TITLE::MESSAGE``,
with ``warning`` and ``notice`` for the other severities. Values are escaped as
the Actions runner expects: in the message ``%``, CR and LF; in properties also
``:`` and ``,``. The counterexample follows the message on further lines (an
annotation's message may span lines). Proved results produce no annotation; a
plain summary line per file closes the output.

Text from the input (paths, messages, reasons) goes through
:func:`checker.display.visible` first: no line break or other control character
from a file name or a comment reaches the log, so no line but an annotation can
start a workflow command, and each finding is exactly one command.
"""

from __future__ import annotations

from typing import Iterator, Sequence

from ..baseline import baseline_counts, baseline_state
from ..display import visible
from ..results import FileReport, Result, Severity, Status
from .stream import lines_chunks
from .text import describe_fields, not_checked

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(reports: Sequence[FileReport]) -> str:
    return "".join(chunks(reports))


def chunks(reports: Sequence[FileReport]) -> Iterator[str]:
    """The commands in pieces, made as they are written (see :mod:`checker.reporters.stream`)."""
    return lines_chunks(_file_lines(report) for report in reports)


def _file_lines(report: FileReport) -> Iterator[str]:
    for result in report.results:
        if result.status is not Status.PROVED:
            yield from annotations(report.path, result)
    counts = report.counts()
    suppressed = sum(len(r.extra.get("suppressed", ())) for r in report.results)
    tail = f", {suppressed} suppressed" if suppressed else ""
    known = baseline_counts([report])
    if known is not None:
        tail += f"; baseline: {known['new']} new, {known['unchanged']} known, {known['absent']} fixed"
    stopped = not_checked(report)
    yield (f"topocheck: {visible(report.path)}: {stopped}" if stopped else
           f"topocheck: {visible(report.path)}: {counts['proved']} proved, {counts['refuted']} refuted, "
           f"{counts['unknown']} unknown{tail}")


def annotations(path: str, result: Result) -> list[str]:
    """The workflow commands for one result (one annotation; a notice per suppression)."""
    out = []
    span = result.span
    file_prop = f"file={escape_property(visible(path).replace(chr(92), '/'))}"
    props = [file_prop]
    if span is not None:
        props += [f"line={span.line}", f"endLine={span.end_line}", f"col={span.column}"]
        if span.end_line == span.line and span.end_column > span.column:
            props.append(f"endColumn={span.end_column}")
    verdict = "unknown" if result.status is Status.UNKNOWN else "refuted"
    verdict += {"new": ", new", "unchanged": ", known"}.get(baseline_state(result) or "", "")
    if result.counterexamples or not result.extra.get("suppressed"):
        title = f"topocheck {result.id} ({verdict})"
        body = [visible(result.message)]
        for index, cx in enumerate(result.counterexamples, 1):
            body.append(f"counterexample {index}:" if len(result.counterexamples) > 1 else "counterexample:")
            body.extend(f"  {visible(line)}" for line in describe_fields(cx.to_json()))
        if result.hint:
            body.append(f"hint: {visible(result.hint)}")
        out.append(f"::{_COMMANDS[result.severity]} {','.join(props + [f'title={escape_property(title)}'])}"
                   f"::{escape_data(chr(10).join(body))}")
    for entry in result.extra.get("suppressed", ()):
        line = entry.get("line") or 1
        title = f"topocheck {result.id} (suppressed)"
        body = [visible(f"accepted: {entry.get('reason', '')}")]
        body += [visible(line) for line in describe_fields(dict(entry.get("counterexample") or {}))]
        out.append(f"::notice {file_prop},line={line},title={escape_property(title)}::{escape_data(chr(10).join(body))}")
    return out
