"""``check --from``: check an import as the parser would check its printed text, and locate
every finding in the user's files.

The overlay (if any) and the imported topology are one text, the overlay first; it is
parsed and built by the ordinary front end and checked by the ordinary checks. Then
every span of every result (its location, the related locations of its counterexamples,
the hops of its code flows) is mapped back: a line of the overlay to the overlay file,
a line of the import to the YAML it came from (:attr:`Imported.origins`). Line numbers
in messages and explanations ("writes redis-master (line 30)") and in the ``rules``,
``rule`` and ``shadowed_by`` fields are mapped the same way, so no output mentions the
generated text. Results are then reported per file they are located in, each file with
its own text for the source line under a finding, so every reporter (SARIF included,
whose artifacts are then the YAML files) shows them where the user can fix them.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterable

from ..api import LoadOutcome, check_topology, file_deadline, load_text
from ..checks import known_params
from ..context import Options
from ..limits import CheckTimeout
from ..model import Span
from ..results import Counterexample, FileReport, Hop, Result, Severity, Status
from ..suppress import apply_suppressions
from .common import Sources
from .emitter import Imported
from .overlay import Overlay, amend

#: The path the combined text is parsed under; no result keeps it.
COMBINED = "<import>"
_LINES = re.compile(r"\b(lines?) (\d+(?:(?:, | and )\d+)*)")
_LINE_FIELDS = ("rule",)
_LINE_LIST_FIELDS = ("rules", "shadowed_by")


def combined_text(imported: Imported, overlay: Overlay | None) -> tuple[str, int, list[Result]]:
    """The overlay (amendments taken out) and the import as one text, the number of the
    overlay's lines before the import, and errors in amendments."""
    if overlay is None:
        return imported.text, 0, []
    text, errors = amend(overlay, imported.components)
    if text and not text.endswith("\n"):
        text += "\n"
    offset = text.count("\n")
    return text + imported.text, offset, errors


class Remap:
    """Spans and line numbers of the combined text, mapped to the user's files."""

    def __init__(self, imported: Imported, overlay: Overlay | None, offset: int):
        self.imported = imported
        self.overlay = overlay
        self.offset = offset
        files = list(imported.sources.items()) + ([(overlay.path, overlay.text)] if overlay else [])
        self.sources = Sources(files)

    def span(self, span: Span | None) -> Span | None:
        if span is None or span.path != COMBINED:
            return span
        if span.line <= self.offset and self.overlay is not None:
            return Span(self.overlay.path, span.line, span.column, span.end_line, span.end_column)
        return self.imported.origin(span.line - self.offset)

    def line(self, line: int) -> Span:
        return self.span(Span(COMBINED, line, 1, line, 1)) or Span.start_of(self.imported.anchor)

    def text(self, text: str) -> str:
        """``line 30`` becomes ``file.yaml:140``, ``lines 3, 5`` becomes ``a.yaml:3, a.yaml:9``."""
        def place(match: re.Match) -> str:
            numbers = re.findall(r"\d+", match.group(2))
            separators = re.findall(r", | and ", match.group(2))
            shown = [self.sources.where(self.line(int(n))) for n in numbers]
            out, said = shown[0], {shown[0]}
            for separator, item in zip(separators, shown[1:]):
                if item not in said:  # two generated lines of one place in the file
                    out += separator + item
                    said.add(item)
            return out
        return _LINES.sub(place, text)

    def number(self, value):
        return self.line(value).line if isinstance(value, int) and not isinstance(value, bool) else value

    def hop(self, hop: Hop) -> Hop:
        return Hop(self.text(hop.label), self.span(hop.span))

    def counterexample(self, cx: Counterexample) -> Counterexample:
        fields = dict(cx.fields)
        if isinstance(fields.get("explanation"), list):
            fields["explanation"] = [self.text(str(line)) for line in fields["explanation"]]
        for key in _LINE_FIELDS:
            if key in fields:
                fields[key] = self.number(fields[key])
        for key in _LINE_LIST_FIELDS:
            if isinstance(fields.get(key), list):
                fields[key] = list(dict.fromkeys(self.number(v) for v in fields[key]))
        return Counterexample(fields, tuple(self.hop(h) for h in cx.related), tuple(self.hop(h) for h in cx.flow))

    def result(self, result: Result) -> Result:
        return replace(result, message=self.text(result.message), span=self.span(result.span),
                       hint=self.text(result.hint) if result.hint else result.hint,
                       counterexamples=tuple(self.counterexample(c) for c in result.counterexamples))


def load_imported(imported: Imported, overlay: Overlay | None = None) -> tuple[LoadOutcome, Remap, list[Result]]:
    """Parse and build the import with its overlay, as ``check --from`` does: the model (or
    the errors), how its spans map to the user's files, and errors in the overlay's amendments."""
    text, offset, amend_errors = combined_text(imported, overlay)
    return load_text(text, COMBINED), Remap(imported, overlay, offset), amend_errors


def check_imported(imported: Imported, overlay: Overlay | None = None, options: Options | None = None,
                   select: Iterable[str] | None = None, ignore: Iterable[str] = ()) -> list[FileReport]:
    """Check an import (with its overlay) and report the results by the file they are located in."""
    options = options or Options()
    selected, ignored = (set(select) if select else None), set(ignore)
    notes = [n for n in imported.notes if (selected is None or n.id in selected) and n.id not in ignored]
    if imported.errors or (overlay is not None and overlay.errors):
        errors = list(imported.errors) + list(overlay.errors if overlay else ())
        return _reports(imported, overlay, errors, skipped="the input has errors, so nothing was imported")
    if not imported.text:
        return _reports(imported, overlay, notes, skipped="nothing in the input was imported")
    try:
        with file_deadline(options):
            loaded, remap, amend_errors = load_imported(imported, overlay)
            if loaded.topology is None or amend_errors:
                results = [remap.result(r) for r in loaded.results] + amend_errors
                return _reports(imported, overlay, results + notes, skipped="the import has errors, so no check ran")
            results = check_topology(loaded.topology, options, select, ignore)
    except CheckTimeout as exc:
        stopped = Result("limit", Status.UNKNOWN, Severity.ERROR, f"could not finish: {exc} ran out before the "
                         "import was checked", Span.start_of(imported.anchor), "limit")
        return _reports(imported, overlay, [stopped], skipped="the import could not be checked")
    return _reports(imported, overlay, [remap.result(r) for r in results] + notes)


def _reports(imported: Imported, overlay: Overlay | None, results: list[Result],
             skipped: str | None = None) -> list[FileReport]:
    """One report per file that holds a result (and the anchor, which holds the rest), in
    the order the files were given, the overlay last; suppression comments in each file
    apply to the results located in it."""
    texts = dict(imported.sources)
    if overlay is not None:
        texts.setdefault(overlay.path, overlay.text)
    by_file: dict[str, list[Result]] = {path: [] for path in texts}
    for result in results:
        path = result.span.path if result.span is not None and result.span.path in by_file else imported.anchor
        by_file.setdefault(path, []).append(result)
    reports = []
    known = known_params()
    for path, found in by_file.items():
        if not found and path != imported.anchor:
            continue
        text = texts.get(path)
        if text is not None and skipped is None:
            found = apply_suppressions(text, path, found, known)
        reports.append(FileReport(path, tuple(found), text, skipped=skipped if path == imported.anchor else None))
    return reports
