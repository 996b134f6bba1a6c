"""The library entry points: text in, results out. Nothing here touches files
or the terminal; the CLI does that."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Iterable

from .build import build
from .checks import CheckInfo, known_params, registry
from .context import Context, InternalError, Options
from . import progress
from .engines.root_cause import RUNNING_KEY
from .limits import (DEFAULT_LIMITS, LIMIT_ID, MAX_RESOLUTION_ERRORS, CheckTimeout, Limits, count_results, deadline,
                     expired_reason, file_time_reason, run_limit_result, run_time_reason, text_size_result, time_left)
from .model import CheckRequest, Span, Topology
from .fastparse import paused_gc
from .heap import release_free_memory
from .parser import parse
from .results import FileReport, Result, Severity, Status


@dataclass(frozen=True)
class LoadOutcome:
    topology: Topology | None
    results: tuple[Result, ...]  # syntax and resolution errors
    total_errors: int = 0  # resolution errors found, when more than ``results`` shows


def load_text(text: str, path: str = "<text>", limits: Limits = DEFAULT_LIMITS) -> LoadOutcome:
    """Parse and resolve a topology; on errors, no topology and every error found.

    A file over an input limit (:mod:`checker.limits`) gets one ``limit`` error.
    """
    too_big = text_size_result(text, path, limits)
    if too_big is not None:
        return LoadOutcome(None, (too_big,))
    with paused_gc():  # millions of objects that all live on: see checker.fastparse.paused_gc
        return _load(text, path, limits)


def _load(text: str, path: str, limits: Limits) -> LoadOutcome:
    parsed = parse(text, path)
    if parsed.statements is None:
        return LoadOutcome(None, parsed.errors)
    too_many = count_results(parsed.statements, path, limits)
    if too_many is not None:
        return LoadOutcome(None, (too_many,))
    built = build(parsed.statements, path, known_params())
    if len(built.errors) > MAX_RESOLUTION_ERRORS:  # the first ones, in source order; the summary gives the count
        return LoadOutcome(None, built.errors[:MAX_RESOLUTION_ERRORS], len(built.errors))
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
    """Run the requested checks on a resolved topology, all of them within
    ``options.timeout`` seconds of wall time (and ``options.deadline``): each
    check's solver gets the time left, and a check the time runs out for, or
    before, is ``unknown`` with the reason."""
    options = options or Options()
    with file_deadline(options), paused_gc():  # engines build millions of objects that all live on
        # (the engines die with _run_checks's frame, before the collector is back: on, it
        # would first walk every object made while it was off, tens of millions at 100k)
        return _run_checks(topology, options, select, ignore)


def _run_checks(topology: Topology, options: Options, select: Iterable[str] | None,
                ignore: Iterable[str]) -> list[Result]:
    context = Context(topology, options)
    selected = set(select) if select else None
    ignored = set(ignore)
    runs = [(info, request) for info, request in requested_checks(topology)
            if (selected is None or info.id in selected) and info.id not in ignored]
    context.cache[RUNNING_KEY] = frozenset(info.id for info, _ in runs)  # checks cite only what is shown
    order = execution_order(runs)
    released = release_plan([runs[at] for at in order])
    produced_by: list[list[Result]] = [[] for _ in runs]  # by position in report order
    done: dict[tuple, tuple[Span | None, list[Result]]] = {}  # (id, params) -> its first line's span and results
    for step, at in enumerate(order):
        info, request = runs[at]
        context.last_use = frozenset(released.get(step, ()))
        produced_by[at] = _run_one(info, request, topology, options, context, done)
        context.last_use = frozenset()
        if step in released:
            for key in released[step]:
                context.release(key)
            release_free_memory()  # (the engines just dropped: see checker.heap)
    return [result for produced in produced_by for result in produced]


def _run_one(info: CheckInfo, request: CheckRequest, topology: Topology, options: Options, context: Context,
             done: dict[tuple, tuple[Span | None, list[Result]]]) -> list[Result]:
    progress.check_started(info.id)
    again = done.get((info.id, request.params))
    if again is not None:
        # the same check with the same parameters on another line: the same answer
        # (checks are deterministic), located at this line where the first was at its own
        first_span, first_results = again
        return [replace(r, span=request.span) if r.span == first_span else r for r in first_results]
    left = time_left()
    if left is not None and left <= 0:
        return [run_limit_result(info.id, info.severity, f"{expired_reason()} ran out before this check started",
                                 request.span)]
    context.options = replace(options, timeout=min(options.timeout, left) if left is not None
                              else options.timeout)
    produced: list[Result] = []
    try:
        produced.extend(info.module.run(topology, request, context))
    except InternalError as exc:
        produced = [internal_error(info.id, str(exc), request)]
    except RecursionError:
        produced = [run_limit_result(info.id, info.severity, "the topology is nested too deeply to analyse",
                                     request.span)]
    except MemoryError:
        produced = [run_limit_result(info.id, info.severity, "the check ran out of memory", request.span)]
    except CheckTimeout as exc:
        produced = [run_limit_result(info.id, info.severity, f"{exc} ran out during this check", request.span)]
    if all(r.status is not Status.UNKNOWN for r in produced):  # an unknown may be the time's, not the answer
        done[(info.id, request.params)] = (request.span, produced)
    return produced


def execution_order(runs: list[tuple[CheckInfo, CheckRequest]]) -> list[int]:
    """The positions of ``runs`` (in report order) in the order they run: report order,
    but a check whose module sets ``RUN_ORDER`` runs where that order puts it (among
    the ``ORDER`` of the others), e.g. next to the check whose memos it reads, so they
    are dropped before the checks that make the run's peak; results are reported in
    report order whatever the order they ran in."""
    def rank(at: int) -> tuple[int, int]:
        info = runs[at][0]
        return getattr(info.module, "RUN_ORDER", info.order), at

    return sorted(range(len(runs)), key=rank)


def release_plan(runs: list[tuple[CheckInfo, CheckRequest]]) -> dict[int, list[str]]:
    """Which engine caches to drop after which run: each cache a check names in its
    ``ENGINES``, after the last run (in this order) of a check that names it. At
    100k components the serving circuit alone is 150 MB, and the lints that come
    after the failure checks build as much again."""
    last: dict[str, int] = {}
    for at, (info, _) in enumerate(runs):
        for key in getattr(info.module, "ENGINES", ()):
            last[key] = at
    plan: dict[int, list[str]] = {}
    for key, at in last.items():
        plan.setdefault(at, []).append(key)
    return plan


def file_deadline(options: Options):
    """The deadline of one file's work: ``options.timeout`` seconds from now,
    or ``options.deadline`` (the run's end) when that comes first."""
    budget, reason = options.timeout, file_time_reason(options.timeout)
    if options.deadline is not None and options.deadline - time.monotonic() < budget:
        budget, reason = options.deadline - time.monotonic(), run_time_reason(options.total_timeout or 0)
    return deadline(max(budget, 1e-3), reason)


def unchecked(path: str, message: str) -> Result:
    """A file stopped by a run limit before its checks ran: one ``unknown`` ``limit``
    result at its first line (it fails the run even with ``--unknown-ok``)."""
    return Result(LIMIT_ID, Status.UNKNOWN, Severity.ERROR, message, Span.start_of(path), LIMIT_ID)


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
    """Load and check one file's text, within ``options.timeout`` seconds of wall
    time for all of it (see :func:`check_topology`)."""
    return _checked(text, path, options, select, ignore, limits, False)[0]


def check_text_and_model(
    text: str,
    path: str = "<text>",
    options: Options | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[FileReport, Topology | None]:
    """:func:`check_text`, and the model it checked (None when the file did not load):
    for a caller that reads the model too, which loading the text again would cost
    as much again (``topocheck diff`` draws the new version's)."""
    return _checked(text, path, options, select, ignore, limits, True)


def _checked(text: str, path: str, options: Options | None, select: Iterable[str] | None, ignore: Iterable[str],
             limits: Limits, keep_model: bool) -> tuple[FileReport, Topology | None]:
    options = options or Options()
    stopped = None
    try:
        with file_deadline(options), paused_gc():  # see checker.fastparse.paused_gc
            report, topology = _load_and_check(text, path, options, select, ignore, limits)
            if not keep_model:  # the model dies before the collector is back (it would walk all of it)
                topology = None
            return report, topology
    except CheckTimeout as exc:  # while parsing (a check's own timeout is that check's result)
        stopped = f"could not finish: {exc} ran out before the file was parsed"
    except MemoryError:
        stopped = OUT_OF_MEMORY  # built once the handler is left: leaving it frees the parser's memory
    return FileReport(path, (unchecked(path, stopped),), None, skipped="the file could not be checked"), None


def _load_and_check(text: str, path: str, options: Options, select: Iterable[str] | None,
                    ignore: Iterable[str], limits: Limits) -> tuple[FileReport, Topology | None]:
    loaded = load_text(text, path, limits)
    if loaded.topology is None:
        skipped = "the file has errors, so no check ran"
        if loaded.total_errors:
            skipped = (f"the file has {loaded.total_errors:,} errors, the first {len(loaded.results)} shown, "
                       "so no check ran")
        return FileReport(path, loaded.results, text, skipped=skipped), None
    results = check_topology(loaded.topology, options, select, ignore)
    from .suppress import apply_suppressions

    results = apply_suppressions(text, path, results, known_params())
    return FileReport(path, tuple(results), text), loaded.topology


#: The result of a file whose reading or parsing ran out of memory.
OUT_OF_MEMORY = "could not finish: checking the file ran out of memory (--max-memory)"
