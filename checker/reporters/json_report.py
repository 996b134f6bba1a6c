"""``--format json``: the contract's one object (LANGUAGE.md section 6)."""

from __future__ import annotations

import json
from typing import Sequence

from .. import __version__
from ..display import json_safe
from ..results import FileReport


def render(reports: Sequence[FileReport]) -> str:
    summary = {"proved": 0, "refuted": 0, "unknown": 0}
    files = []
    for report in reports:
        for key, count in report.counts().items():
            summary[key] += count
        files.append({"path": report.path, "results": [r.to_json() for r in report.results]})
    from ..baseline import baseline_counts

    counts = baseline_counts(reports)
    if counts is not None:  # with --baseline: each file's findings fixed since, and the counts
        for entry, report in zip(files, reports):
            entry["absent"] = list(report.absent)
    document = {"tool": "topocheck", "version": __version__, "files": files, "summary": summary}
    if counts is not None:
        document["baseline"] = counts
    return json_safe(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
