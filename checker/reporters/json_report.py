"""``--format json``: the contract's one object (LANGUAGE.md section 6), written a
result at a time (:mod:`checker.reporters.stream`)."""

from __future__ import annotations

from typing import Iterator, Sequence

from .. import __version__
from ..results import FileReport
from .stream import Items, json_chunks


def render(reports: Sequence[FileReport]) -> str:
    return "".join(chunks(reports))


def chunks(reports: Sequence[FileReport]) -> Iterator[str]:
    """The report in pieces: each result's object is made as it is written."""
    from ..baseline import baseline_counts

    summary = {"proved": 0, "refuted": 0, "unknown": 0}
    for report in reports:
        for key, count in report.counts().items():
            summary[key] += count
    counts = baseline_counts(reports)
    files = []
    for report in reports:
        entry = {"path": report.path, "results": Items(r.to_json() for r in report.results)}
        if counts is not None:  # with --baseline: each file's findings fixed since, and the counts
            entry["absent"] = list(report.absent)
        files.append(entry)
    document = {"tool": "topocheck", "version": __version__, "files": files, "summary": summary}
    if counts is not None:
        document["baseline"] = counts
    return json_chunks(document)
