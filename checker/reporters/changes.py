"""Formats of ``topocheck diff``: text, JSON, Markdown (a pull-request comment) and SARIF.

* text: one compiler-style line per change, ``PATH:LINE:COL: EFFECT[CHECK] message``
  (``PATH: EFFECT[CHECK] message`` when it has no place in the new version), a
  worse change that does not fail marked ``(not failing)``, then the verdict;
* JSON: one object, documented in spec/DIFF.md;
* Markdown: a verdict line, a table of the changes, and per changed file a
  Mermaid diagram of the new version with what got worse in red and what got
  better in green;
* SARIF 2.1.0: one result per change; ``baselineState`` is ``new`` for what
  appeared, ``absent`` for what went, ``updated`` for the rest; worse changes
  are failures at their check's level, the others ``level: none``.

What a file brings (paths, messages quoting names) is escaped as
:mod:`checker.reporters.escape` says.
"""

from __future__ import annotations

import html
import re
from typing import Any, Iterator

from .. import __version__
from ..limits import MAX_DIAGRAM_CHARACTERS
from ..results import Counterexample, Result, Status
from ..review.changes import BETTER, CHANGED, FILE, WORSE, Change, Diff, FileDiff
from .escape import control, markdown_text
from .stream import Items, json_chunks, lines_chunks, one_line_end

#: At most this many Mermaid diagrams in one Markdown report (a pull-request comment stays readable).
MAX_DIAGRAMS = 5


def render(diff: Diff, fmt: str) -> str:
    return "".join(chunks(diff, fmt))


def chunks(diff: Diff, fmt: str) -> Iterator[str]:
    """The report in pieces, each change's made as it is written (see
    :mod:`checker.reporters.stream`)."""
    return {"text": _text_chunks, "json": _json_chunks, "markdown": _markdown_chunks,
            "sarif": _sarif_chunks}[fmt](diff)


def _files_word(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


def counts_phrase(diff: Diff) -> str:
    """``2 worse (1 failing), 1 better, 1 changed in 1 of 3 files`` (counts of zero left out)."""
    counts = diff.counts()
    if diff.verdict == "no change":
        return f"{_files_word(len(diff.files))} compared"
    parts = []
    if counts[WORSE]:
        parts.append(f"{counts[WORSE]} worse ({counts['failing']} failing)")
    parts += [f"{counts[effect]} {effect}" for effect in (BETTER, CHANGED) if counts[effect]]
    touched = sum(1 for f in diff.files if f.changes)
    return f"{', '.join(parts)} in {touched} of {_files_word(len(diff.files))}"


def verdict_line(diff: Diff) -> str:
    """``worse: 2 worse (2 failing), 1 better in 1 of 3 files`` or ``no change: 3 files compared``."""
    return f"{diff.verdict}: {counts_phrase(diff)}"


# -- text -----------------------------------------------------------------------------------


def _text_chunks(diff: Diff) -> Iterator[str]:
    head = [control(f"topocheck diff: {diff.old_label} -> {diff.new_label}")]
    lines = (_text_line(file, change) for file in diff.files for change in file.changes)
    return lines_chunks((head, lines, [verdict_line(diff)]))


def _text_line(file: FileDiff, change: Change) -> str:
    span = change.span
    where = f"{file.path}:{span.line}:{span.column}" if span is not None else file.path
    note = " (not failing)" if change.effect == WORSE and not change.fails else ""
    return control(f"{where}: {change.effect}[{change.check}]{note} {change.message}")


# -- JSON -----------------------------------------------------------------------------------


def _location(change: Change) -> dict[str, int] | None:
    span = change.span
    if span is None:
        return None
    return {"line": span.line, "column": span.column, "end_line": span.end_line, "end_column": span.end_column}


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "effect": change.effect,
        "check": change.check,
        "kind": change.kind,
        "severity": change.severity.value,
        "message": change.message,
        "services": list(change.services),
        "old": change.old,
        "new": change.new,
        "location": _location(change),
        "fingerprint": change.fingerprint,
        "fails": change.fails,
    }


def _json_chunks(diff: Diff) -> Iterator[str]:
    counts = diff.counts()
    document = {
        "tool": "topocheck",
        "version": __version__,
        "kind": "diff",
        "old": diff.old_label,
        "new": diff.new_label,
        "verdict": diff.verdict,
        "failing": diff.failing,
        "files": [{"path": f.path, "old_path": f.old_path, "new_path": f.new_path, "status": f.status,
                   "changes": Items(_change_json(c) for c in f.changes)} for f in diff.files],
        "summary": {"worse": counts[WORSE], "better": counts[BETTER], "changed": counts[CHANGED],
                    "failing": counts["failing"], "files": len(diff.files),
                    "files_changed": sum(1 for f in diff.files if f.changes)},
    }
    return json_chunks(document)


# -- Markdown ---------------------------------------------------------------------------------

_ICONS = {WORSE: "❌ worse", BETTER: "✅ better", CHANGED: "➖ changed"}
_VERDICT_ICONS = {WORSE: "❌", BETTER: "✅", CHANGED: "➖", "no change": "✅"}


def _markdown_chunks(diff: Diff) -> Iterator[str]:
    return one_line_end(lines_chunks((_markdown_lines(diff),)))


def _markdown_lines(diff: Diff) -> Iterator[str]:
    counts = diff.counts()
    compared = f"{markdown_text(diff.old_label)} → {markdown_text(diff.new_label)}"
    yield from (f"**topocheck**: {_VERDICT_ICONS[diff.verdict]} **{diff.verdict}**: "
                f"{markdown_text(counts_phrase(diff))} ({compared})", "")
    if diff.verdict == "no change":
        yield "Nothing got worse or better."
        return
    if counts[WORSE] and not diff.failing:
        yield from ("Nothing that fails the check got worse.", "")
    yield from ("| | file | check | service | what changed |", "|---|---|---|---|---|")
    for file in diff.files:
        for change in file.changes:
            icon = _ICONS[change.effect] + (" (not failing)" if change.effect == WORSE and not change.fails else "")
            where = f"{file.path}:{change.span.line}" if change.span is not None else file.path
            services = ", ".join(markdown_text(s) for s in change.services)
            check = f"`{change.check}`" if change.check != FILE else "file"
            yield f"| {icon} | {markdown_text(where)} | {check} | {services} | {markdown_text(change.message)} |"
    yield ""
    drawn = 0
    for file in diff.files:
        if not _drawable(file):
            continue
        drawn += 1
        if drawn > MAX_DIAGRAMS:
            yield from (f"_Diagrams of {sum(1 for f in diff.files if _drawable(f)) - MAX_DIAGRAMS} more files are "
                        "left out._", "")
            break
        from .diagram import mermaid_within

        assert file.topology is not None
        diagram, too_large = mermaid_within(file.topology, lambda: _diagram(file), MAX_DIAGRAM_CHARACTERS)
        if diagram is None:
            yield from (f"_Diagram of {markdown_text(file.path)} left out: {too_large}, more than Mermaid draws "
                        f"({MAX_DIAGRAM_CHARACTERS:,} characters)._", "")
            continue
        fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", diagram)), default=0))
        colours = [words for effect, words in ((WORSE, "red, what got worse"), (BETTER, "green, what got better"))
                   if any(c.effect == effect for c in file.changes)]
        yield from (f"<details open><summary>{html.escape(control(file.path))}: {'; '.join(colours)}</summary>", "",
                    f"{fence}mermaid", diagram.rstrip("\n"), fence, "", "</details>", "")


def _drawable(file: FileDiff) -> bool:
    return file.topology is not None and any(c.effect in (WORSE, BETTER) for c in file.changes)


def _evidence_result(change: Change, evidence: Any) -> Result | None:
    if not isinstance(evidence, dict) or not evidence:
        return None
    return Result(change.check, Status.REFUTED, change.severity, change.message, None, "diff",
                  (Counterexample(dict(evidence)),))


def _diagram(file: FileDiff) -> str:
    """The new version's Mermaid diagram (of a drawable file: :func:`_drawable`): the
    evidence of worse changes red, of better ones green."""
    from .diagram import to_mermaid_changes

    topology = file.topology
    assert topology is not None
    worse = [r for c in file.changes if c.effect == WORSE for r in [_evidence_result(c, c.new)] if r is not None]
    better = [r for c in file.changes if c.effect == BETTER
              for r in [_evidence_result(c, c.old if c.new is None else c.new)] if r is not None]
    return to_mermaid_changes(topology, worse, better)


# -- SARIF ------------------------------------------------------------------------------------

_FILE_RULE = "A topology file was added, removed or renamed."


def _baseline_state(change: Change) -> str:
    if change.effect == WORSE and change.old is None or change.kind == "file-added":
        return "new"
    if change.effect == BETTER and change.new is None or change.kind == "file-removed":
        return "absent"
    return "updated"


def _sarif_chunks(diff: Diff) -> Iterator[str]:
    from ..checks import registry
    from .sarif import INFORMATION_URI, SCHEMA, _rule

    checks = registry()
    seen: list[str] = []
    for change in diff.changes:
        if change.check not in seen:
            seen.append(change.check)
    rules = []
    for check_id in seen:
        if check_id == FILE:
            rules.append({"id": FILE, "name": "File", "shortDescription": {"text": _FILE_RULE},
                          "fullDescription": {"text": _FILE_RULE}, "defaultConfiguration": {"level": "note"}})
        else:
            rules.append(_rule(check_id, checks.get(check_id)))
    index = {cid: i for i, cid in enumerate(seen)}
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "topocheck", "version": __version__, "semanticVersion": __version__,
                                "informationUri": INFORMATION_URI, "rules": rules}},
            "automationDetails": {"id": "topocheck/diff/"},
            "results": Items(_sarif_result(file, change, index[change.check])
                             for file in diff.files for change in file.changes),
            "columnKind": "unicodeCodePoints",
            "properties": {"old": diff.old_label, "new": diff.new_label, "verdict": diff.verdict},
        }],
    }
    return json_chunks(document)


def _sarif_result(file: FileDiff, change: Change, rule_index: int) -> dict[str, Any]:
    from .sarif import _LEVELS, _location

    if change.effect == WORSE:
        kind, level = "fail", _LEVELS[change.severity]
    else:
        kind, level = ("pass" if change.effect == BETTER else "informational"), "none"
    properties: dict[str, Any] = {"effect": change.effect, "change": change.kind,
                                  "services": list(change.services), "fails": change.fails}
    if change.old is not None:
        properties["old"] = change.old
    if change.new is not None:
        properties["new"] = change.new
    return {
        "ruleId": change.check,
        "ruleIndex": rule_index,
        "kind": kind,
        "level": level,
        "message": {"text": f"{change.effect}: {change.message}"},
        "locations": [_location(file.path, change.span)],
        "baselineState": _baseline_state(change),
        "partialFingerprints": {"topocheck/v1": change.fingerprint},
        "properties": properties,
    }
