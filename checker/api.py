"""The library entry points: text in, results out. Nothing here touches files
or the terminal; the CLI does that."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .build import build
from .checks import CheckInfo, known_params, registry
from .context import Context, InternalError, Options
from .model import CheckRequest, Topology
from .parser import parse
from .results import FileReport, Result, Severity, Status


@dataclass(frozen=True)
class LoadOutcome:
    topology: Topology | None
    results: tuple[Result, ...]  # syntax and resolution errors


def load_text(text: str, path: str = "<text>") -> LoadOutcome:
    """Parse and resolve a topology; on errors, no topology and every error found."""
    parsed = parse(text, path)
    if parsed.tree is None:
        return LoadOutcome(None, parsed.errors)
    built = build(parsed.tree, path, known_params())
    return LoadOutcome(built.topology, built.errors)


def requested_checks(topology: Topology) -> list[tuple[CheckInfo, CheckRequest]]:
    """What runs on a file: the lints and ``available`` always; the checks its ``check``
    lines name, or the default set when it names none; in report order."""
    checks = registry()
    runs: list[tuple[CheckInfo, CheckRequest]] = []
    named = {req.id for req in topology.checks}
    for info in checks.values():
        if info.always and info.id not in named:
            runs.append((info, CheckRequest(info.id, (), None)))
        elif not topology.checks and info.default:
            runs.append((info, CheckRequest(info.id, (), None)))
    runs.extend((checks[req.id], req) for req in topology.checks if req.id in checks)
    runs.sort(key=lambda pair: (pair[0].order, pair[0].id))
    return runs


def check_topology(
    topology: Topology,
    options: Options | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> list[Result]:
    """Run the requested checks on a resolved topology."""
    context = Context(topology, options or Options())
    selected = set(select) if select else None
    ignored = set(ignore)
    results: list[Result] = []
    for info, request in requested_checks(topology):
        if (selected is not None and info.id not in selected) or info.id in ignored:
            continue
        try:
            results.extend(info.module.run(topology, request, context))
        except InternalError as exc:
            results.append(internal_error(info.id, str(exc), request))
        except RecursionError:
            results.append(
                Result(info.id, Status.UNKNOWN, info.severity, "the topology is nested too deeply to analyse",
                       request.span, "limit")
            )
    return results


def internal_error(check_id: str, detail: str, request: CheckRequest | None = None) -> Result:
    return Result(
        "internal-error", Status.UNKNOWN, Severity.ERROR,
        f"internal error in check '{check_id}': {detail}; please report it",
        request.span if request else None, "none",
    )


def check_text(
    text: str,
    path: str = "<text>",
    options: Options | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> FileReport:
    """Load and check one file's text."""
    loaded = load_text(text, path)
    if loaded.topology is None:
        return FileReport(path, loaded.results, text, skipped="the file has errors, so no check ran")
    results = check_topology(loaded.topology, options, select, ignore)
    return FileReport(path, tuple(results), text)
