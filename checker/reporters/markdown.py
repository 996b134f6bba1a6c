"""``--format markdown``: a report for pull-request comments.

Per file: a table of the checks that ran and their verdicts, each counterexample
in words, the suppressed findings with their reasons, and a Mermaid flowchart of
the topology with its first counterexample drawn (GitHub renders Mermaid code
blocks). A file with nothing refuted keeps its diagram folded.
"""

from __future__ import annotations

from typing import Sequence

from ..results import FileReport, Result, Status
from .text import describe_fields

_ICONS = {Status.PROVED: "✅ proved", Status.REFUTED: "❌ refuted", Status.UNKNOWN: "❓ unknown"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _verdict(result: Result) -> str:
    from ..suppress import fully_suppressed

    if fully_suppressed(result):
        return "🔕 refuted, suppressed"
    return _ICONS[result.status]


def render(reports: Sequence[FileReport]) -> str:
    totals = {"proved": 0, "refuted": 0, "unknown": 0}
    for report in reports:
        for key, count in report.counts().items():
            totals[key] += count
    out = ["# topocheck report", "",
           f"{len(reports)} file{'s' if len(reports) != 1 else ''}: {totals['proved']} proved, "
           f"{totals['refuted']} refuted, {totals['unknown']} unknown.", ""]
    for report in reports:
        out.extend(_file_section(report))
    return "\n".join(out).rstrip("\n") + "\n"


def _file_section(report: FileReport) -> list[str]:
    out = [f"## `{report.path}`", ""]
    if report.skipped:
        out += [f"_{report.skipped}._", ""]
    out += ["| check | verdict | severity | line | message |", "|---|---|---|---|---|"]
    for r in report.results:
        line = f"{r.span.line}" if r.span else ""
        message = _cell(r.message) + (f" (hint: {_cell(r.hint)})" if r.hint else "")
        out.append(f"| `{r.id}` | {_verdict(r)} | {r.severity.value} | {line} | {message} |")
    out.append("")
    for r in report.results:
        if r.counterexamples:
            where = f" (line {r.span.line})" if r.span else ""
            out += [f"**`{r.id}`**{where}: {r.message}", ""]
        for index, cx in enumerate(r.counterexamples, 1):
            if len(r.counterexamples) > 1:
                out.append(f"- counterexample {index}:")
                out.extend(f"  - {line}" for line in describe_fields(cx.to_json()))
            else:
                out.extend(f"- {line}" for line in describe_fields(cx.to_json()))
        if r.counterexamples:
            out.append("")
        for entry in r.extra.get("suppressed", ()):
            out.append(f"**`{r.id}` suppressed** at line {entry.get('line')}: {entry.get('reason')}")
            out.append("")
            out.extend(f"- {line}" for line in describe_fields(dict(entry.get("counterexample") or {})))
            out.append("")
    mermaid = _diagram(report)
    if mermaid:
        from .diagram import choices

        found = choices(report.results)
        refuted = any(r.status is Status.REFUTED for r in report.results)
        summary = "Topology diagram"
        if found:
            summary += (f": counterexample 1 of {len(found)} drawn, {_escape_summary(found[0].summary)} "
                        f"(<code>topocheck render --counterexample N</code> draws another)")
        out += [f"<details{' open' if refuted else ''}><summary>{summary}</summary>", "", "```mermaid"]
        out.append(mermaid.rstrip("\n"))
        out += ["```", "", "</details>", ""]
    return out


def _diagram(report: FileReport) -> str | None:
    if report.source is None or report.skipped:
        return None
    from ..api import load_text
    from .diagram import to_mermaid

    loaded = load_text(report.source, report.path)
    if loaded.topology is None:
        return None
    return to_mermaid(loaded.topology, report.results)


def _escape_summary(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
