"""``--format markdown``: a report for pull-request comments.

Per file: a table of the checks that ran and their verdicts, each counterexample
in words, the suppressed findings with their reasons, and a Mermaid flowchart of
the topology with its first counterexample drawn (GitHub renders Mermaid code
blocks). A file with nothing refuted keeps its diagram folded.

The report is posted where anyone can read it, and its text comes from a pull
request: every piece of it (paths, messages, reasons, tokens) goes through
:func:`text` or :func:`code`, so it can carry no HTML, no Markdown of its own,
no line break and no @-mention. A diagram is left out when it would be larger
than Mermaid draws (``MAX_DIAGRAM_CHARACTERS``).
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Iterator, Sequence

from ..display import visible
from ..limits import MAX_DIAGRAM_CHARACTERS
from ..results import FileReport, Result, Status
from .stream import lines_chunks, one_line_end
from .text import describe_fields

_ICONS = {Status.PROVED: "✅ proved", Status.REFUTED: "❌ refuted", Status.UNKNOWN: "❓ unknown"}
_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")
_HTML = {"&": "&amp;", "<": "&lt;"}


def text(value: str) -> str:
    """Input text as Markdown that shows exactly it: controls escaped, Markdown
    punctuation backslash-escaped, ``&`` and ``<`` as entities (no HTML tag, no
    entity of the input's own; a lone ``>`` is plain text where the input can
    stand, never at the start of a line), and a zero-width space after ``@``
    (no mention)."""
    escaped = _PUNCTUATION.sub(r"\\\1", visible(value))
    escaped = re.sub(r"[&<]", lambda m: _HTML[m.group()], escaped)
    return escaped.replace("@", "@&#8203;")


def code(value: str) -> str:
    """Input text as one code span: a backtick fence longer than any run inside."""
    shown = visible(value)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", shown)), default=0) + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") or not shown.strip() else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def _verdict(result: Result) -> str:
    from ..suppress import fully_suppressed

    from ..baseline import baseline_state

    state = baseline_state(result)
    known = {"new": ", new", "unchanged": ", known"}.get(state or "", "") if result.status is not Status.PROVED else ""
    if fully_suppressed(result):
        return "🔕 refuted, suppressed" + known
    return _ICONS[result.status] + known


def render(reports: Sequence[FileReport]) -> str:
    return "".join(chunks(reports))


def chunks(reports: Sequence[FileReport]) -> Iterator[str]:
    """The report in pieces, made as they are written (see
    :mod:`checker.reporters.stream`), ending in one line end."""
    totals = {"proved": 0, "refuted": 0, "unknown": 0}
    for report in reports:
        for key, count in report.counts().items():
            totals[key] += count
    head = ["# topocheck report", "",
            f"{len(reports)} file{'s' if len(reports) != 1 else ''}: {totals['proved']} proved, "
            f"{totals['refuted']} refuted, {totals['unknown']} unknown.", ""]
    return one_line_end(lines_chunks(chain((head,), (_file_section(report) for report in reports))))


def _file_section(report: FileReport) -> Iterator[str]:
    yield from (f"## {code(report.path)}", "")
    if report.skipped:
        yield from (f"_{report.skipped}._", "")
    yield from ("| check | verdict | severity | line | message |", "|---|---|---|---|---|")
    for r in report.results:
        line = f"{r.span.line}" if r.span else ""
        message = text(r.message) + (f" (hint: {text(r.hint)})" if r.hint else "")
        yield f"| `{r.id}` | {_verdict(r)} | {r.severity.value} | {line} | {message} |"
    yield ""
    yield from _absent(report)
    for r in report.results:
        figures = _figures(r)
        if r.counterexamples or figures:
            where = f" (line {r.span.line})" if r.span else ""
            yield from (f"**`{r.id}`**{where}: {text(r.message)}", "")
        yield from figures
        for index, cx in enumerate(r.counterexamples, 1):
            if len(r.counterexamples) > 1:
                yield f"- counterexample {index}:"
                yield from (f"  - {text(line)}" for line in describe_fields(cx.to_json()))
            else:
                yield from (f"- {text(line)}" for line in describe_fields(cx.to_json()))
        if r.counterexamples:
            yield ""
        for entry in r.extra.get("suppressed", ()):
            yield f"**`{r.id}` suppressed** at line {entry.get('line')}: {text(str(entry.get('reason')))}"
            yield ""
            yield from (f"- {text(line)}" for line in describe_fields(dict(entry.get("counterexample") or {})))
            yield ""
    mermaid, too_large = _diagram(report)
    if too_large is not None:
        unit = "" if too_large.endswith("characters") else " characters"
        yield from (f"_Topology diagram left out: {too_large}, more than Mermaid draws "
                    f"({MAX_DIAGRAM_CHARACTERS:,}{unit})._", "")
    if mermaid:
        from .diagram import choices

        found = choices(report.results)
        refuted = any(r.status is Status.REFUTED for r in report.results)
        summary = "Topology diagram"
        if found:
            summary += (f": counterexample 1 of {len(found)} drawn, {_escape_summary(found[0].summary)} "
                        f"(topocheck render --counterexample N draws another)")
        yield from (f"<details{' open' if refuted else ''}><summary>{summary}</summary>", "", "```mermaid")
        yield mermaid.rstrip("\n")
        yield from ("```", "", "</details>", "")


#: Stopped services named per scenario in the figures table (the others are counted).
_SCENARIO_SERVICES = 3


def _figures(result: Result) -> list[str]:
    """An availability result's figures as tables: each service's availability, and
    the scenarios that cost the most with their probabilities (numbers from the
    result; percentages rounded down, never up)."""
    from fractions import Fraction

    from ..nines import percent

    services = result.extra.get("services")
    if not isinstance(result.extra.get("availability"), float) or not isinstance(services, list):
        return []
    out = ["| service | availability |", "|---|---|"]
    out += [f"| {text(str(s['service']))} | {percent(Fraction(s['availability']))} |" for s in services]
    out.append("")
    scenarios = result.extra.get("scenarios") or []
    if scenarios:
        out += ["| scenario | stops | probability | share of the unavailability |", "|---|---|---|---|"]
        for s in scenarios:
            failed = ", ".join(s["failed"]) or "nothing failed"
            stopped = list(s["stopped"])
            stops = ", ".join(stopped[:_SCENARIO_SERVICES])
            if len(stopped) > _SCENARIO_SERVICES:
                stops += f" and {len(stopped) - _SCENARIO_SERVICES} more"
            share = "" if s.get("share") is None else f"{s['share'] * 100:.4g}%"
            out.append(f"| {text(failed)} | {text(stops)} | {s['probability']:.6g} | {share} |")
        out.append("")
    return out


def _absent(report: FileReport) -> list[str]:
    """The baseline's findings that are gone (they come from a file: escaped)."""
    from .escape import markdown_text

    if not report.absent:
        return []
    out = ["Fixed since the baseline:", ""]
    for finding in report.absent:
        out.append(f"- ✅ {markdown_text(str(finding['id']))}: {markdown_text(str(finding['message']))}")
    return out + [""]


def _diagram(report: FileReport) -> tuple[str | None, str | None]:
    """The file's Mermaid diagram, or why it is left out (:func:`~.diagram.mermaid_within`)."""
    if report.source is None or report.skipped or len(report.source) > 20 * MAX_DIAGRAM_CHARACTERS:
        return None, None  # a file this large has a diagram too large to draw: it is not parsed again
    from ..api import load_text
    from .diagram import mermaid_within, to_mermaid

    loaded = load_text(report.source, report.path)
    if loaded.topology is None:
        return None, None
    topology = loaded.topology
    return mermaid_within(topology, lambda: to_mermaid(topology, report.results), MAX_DIAGRAM_CHARACTERS)


def _escape_summary(value: str) -> str:
    """Text inside the HTML ``<summary>``: :func:`text`'s rules, ``>`` as an entity too."""
    return text(value).replace(">", "&gt;")
