"""The library entry points: text in, results out. Nothing here touches files
or the terminal; the CLI does that."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .build import build
from .checks import CheckInfo, known_params, registry
from .context import Context, InternalError, Options
from .engines.root_cause import RUNNING_KEY
from .limits import DEFAULT_LIMITS, CheckTimeout, Limits, count_results, deadline, run_limit_result, text_size_result, wall_limit
from .model import CheckRequest, Topology
from .parser import parse
from .results import FileReport, Result, Severity, Status


@dataclass(frozen=True)
class LoadOutcome:
    topology: Topology | None
    results: tuple[Result, ...]  # syntax and resolution errors


def load_text(text: str, path: str = "<text>", limits: Limits = DEFAULT_LIMITS) -> LoadOutcome:
    """Parse and resolve a topology; on errors, no topology and every error found.

    A file over an input limit (:mod:`checker.limits`) gets one ``limit`` error.
    """
    too_big = text_size_result(text, path, limits)
    if too_big is not None:
        return LoadOutcome(None, (too_big,))
    parsed = parse(text, path)
    if parsed.statements is None:
        return LoadOutcome(None, parsed.errors)
    too_many = count_results(parsed.statements, path, limits)
    if too_many is not None:
        return LoadOutcome(None, (too_many,))
    built = build(parsed.statements, path, known_params())
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
    runs = [(info, request) for info, request in requested_checks(topology)
            if (selected is None or info.id in selected) and info.id not in ignored]
    context.cache[RUNNING_KEY] = frozenset(info.id for info, _ in runs)  # checks cite only what is shown
    results: list[Result] = []
    for info, request in runs:
        produced: list[Result] = []
        try:
            with deadline(wall_limit(context.options.timeout)):
                produced.extend(info.module.run(topology, request, context))
        except InternalError as exc:
            produced = [internal_error(info.id, str(exc), request)]
        except RecursionError:
            produced = [run_limit_result(info.id, info.severity, "the topology is nested too deeply to analyse",
                                         request.span)]
        except MemoryError:
            produced = [run_limit_result(info.id, info.severity, "the check ran out of memory", request.span)]
        except CheckTimeout as exc:
            produced = [run_limit_result(info.id, info.severity, str(exc), request.span)]
        results.extend(produced)
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
    limits: Limits = DEFAULT_LIMITS,
) -> FileReport:
    """Load and check one file's text."""
    loaded = load_text(text, path, limits)
    if loaded.topology is None:
        return FileReport(path, loaded.results, text, skipped="the file has errors, so no check ran")
    results = check_topology(loaded.topology, options, select, ignore)
    from .suppress import apply_suppressions

    results = apply_suppressions(text, path, results, known_params())
    return FileReport(path, tuple(results), text)
