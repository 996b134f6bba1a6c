"""The command line's part of reviewing: ``topocheck diff`` and ``check --baseline``.

``topocheck diff OLD NEW`` (two files or two folders) or ``topocheck diff
--base GITREF [PATH ...]`` (the working tree against a git revision) checks
both versions of every file that differs, with the same options for both (the
new version's configuration), and prints what got worse and what got better.

Exit status: 0 when nothing that fails got worse (``no change`` included); 1
when something did (by default a worse change of a check of severity
``error``; ``--fail-on`` and ``--warn-only`` choose by check id); 2 for a usage
error (a missing path, a file compared with a folder, a git revision that does
not exist) or an internal error.

``topocheck check --baseline FILE`` marks the findings of an earlier JSON report
as known (:mod:`checker.baseline`) and ``--write-baseline FILE`` writes this
run's report as one, atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from ..results import FileReport

DIFF_FORMATS = ("text", "json", "markdown", "sarif")


# -- check --baseline / --write-baseline -----------------------------------------------


def add_baseline_options(check: argparse.ArgumentParser) -> None:
    check.add_argument("--baseline", metavar="FILE",
                       help="a JSON report written earlier: its findings are marked known and do not fail the run")
    check.add_argument("--write-baseline", metavar="FILE",
                       help="also write this run's JSON report to FILE, to use as a baseline later")


def baseline_step(args: argparse.Namespace, reports: list[FileReport]) -> list[FileReport]:
    """Write the baseline asked for (the unmarked reports), then mark the reports with the one given."""
    from ..baseline import BaselineError, apply_baseline, parse_baseline
    from ..cli import UsageError
    from ..files import write_atomically

    baseline = None
    if getattr(args, "baseline", None):  # read before writing: the two may be the same file
        try:
            text = Path(args.baseline).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(f"cannot read the baseline '{args.baseline}': {reason}") from None
        try:
            baseline = parse_baseline(text, args.baseline)
        except BaselineError as exc:
            raise UsageError(str(exc)) from None
    if getattr(args, "write_baseline", None):
        from ..reporters import json_report

        try:
            write_atomically(Path(args.write_baseline), json_report.chunks(reports))
        except OSError as exc:
            raise UsageError(f"cannot write the baseline '{args.write_baseline}': {exc.strerror or exc}") from None
    return apply_baseline(reports, baseline) if baseline is not None else reports


# -- diff ---------------------------------------------------------------------------------------


def add_diff_parser(commands: argparse._SubParsersAction) -> None:
    diff = commands.add_parser(
        "diff", help="what a change made worse or better: two files, two folders, or --base GITREF",
        description="Check two versions and say, per file and check, what got worse and what got better.")
    diff.add_argument("paths", nargs="*", metavar="PATH",
                      help="OLD NEW (two files or two folders); with --base, the paths to compare (default .)")
    diff.add_argument("--base", metavar="GITREF", help="compare the working tree with this git revision")
    diff.add_argument("--format", choices=DIFF_FORMATS, default="text")
    diff.add_argument("--output", metavar="FILE", help="write the report here instead of standard output")
    diff.add_argument("--select", metavar="ID,...", help="run only these checks")
    diff.add_argument("--ignore", metavar="ID,...", help="do not run these checks")
    diff.add_argument("--fail-on", metavar="ID,...",
                      help="fail (exit 1) only when one of these checks got worse ('all': any check); "
                           "default: any check of severity error")
    diff.add_argument("--warn-only", metavar="ID,...", help="report these checks getting worse without failing")
    diff.add_argument("--exit-zero", action="store_true", help="exit 0 even when something got worse")
    diff.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="solver time per check")
    diff.add_argument("--max-memory", type=int, default=None, metavar="MIB",
                      help="memory cap of the run in MiB (0: none)")
    diff.add_argument("--config", metavar="FILE",
                      help="use this topocheck.toml / pyproject.toml instead of searching upward from each file")


def _gate(args: argparse.Namespace):
    from ..cli import _split_ids
    from .changes import Gate

    fail_on = None
    if args.fail_on is not None:
        ids = [part.strip() for part in args.fail_on.split(",") if part.strip()]
        fail_on = frozenset(["all"] if "all" in ids else _split_ids(",".join(ids)) or [])
    warn_only = frozenset(_split_ids(args.warn_only) or [])
    return Gate(fail_on, warn_only)


def run_diff(args: argparse.Namespace) -> int:
    """``topocheck diff``: the exit status (see the module's docstring)."""
    from ..cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, _configs, _emit, _split_ids
    from .sources import SourceError, from_git, from_paths

    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    gate = _gate(args)
    select = _split_ids(args.select)
    ignore = _split_ids(args.ignore) or []
    try:
        if args.base is not None:
            versions = from_git(args.base, args.paths)
        elif len(args.paths) == 2:
            versions = from_paths(args.paths[0], args.paths[1])
        else:
            raise UsageError("diff compares two versions: give OLD and NEW (two files or two folders), "
                             "or --base GITREF [PATH ...]")
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    configs = _configs(args)
    diff, internal = compare_all(versions, configs, args.timeout, select, ignore)
    diff = gate.apply(diff)
    from ..reporters import changes as render

    _emit(render.chunks(diff, args.format), args.output)
    if internal:
        for message in internal:
            print(f"topocheck: internal error: {message}", file=sys.stderr)
        return EXIT_USAGE
    if args.exit_zero:
        return EXIT_OK
    return EXIT_FAILED if diff.failing else EXIT_OK


def compare_all(versions, configs, timeout: float | None, select: Sequence[str] | None,
                ignore: Sequence[str]):
    """Check both versions of every pair that differs; the :class:`~.changes.Diff` and any internal errors."""
    from ..api import check_text, check_text_and_model
    from ..cli import job_for
    from .changes import Diff, Version, compare_versions, unchanged_file

    files = []
    internal: list[str] = []

    def version(side, options, chosen, skip, draw: bool) -> Version:
        if side.problem is not None:
            report = FileReport(side.path, (side.problem,), None, skipped="the file could not be read")
            return Version(side.path, report, None, options.default_k)
        # the new version's model places changes and draws the diagram; the old one's is not needed
        if draw:
            report, topology = check_text_and_model(side.text, side.path, options, chosen, skip)
        else:
            report, topology = check_text(side.text, side.path, options, chosen, skip), None
        internal.extend(f"{side.path}: {r.message}" for r in report.results if r.id == "internal-error")
        return Version(side.path, report, topology, options.default_k)  # (a model only where its checks ran)

    for pair in versions.pairs:
        old, new = pair.old, pair.new
        if old is not None and new is not None and old.problem is None and new.problem is None \
                and old.text == new.text:
            files.append(unchanged_file(pair.key, old.path, new.path, pair.renamed))
            continue
        where = (new.local if new is not None else None) or (old.local if old is not None else None) \
            or Path(pair.key)
        _, options, chosen, skip = job_for(where, configs, timeout, list(select) if select is not None else None,
                                           list(ignore))
        before = version(old, options, chosen, skip, draw=False) if old is not None else None
        after = version(new, options, chosen, skip, draw=True) if new is not None else None
        files.append(compare_versions(before, after, pair.key, renamed=pair.renamed))
    return Diff(versions.old_label, versions.new_label, tuple(files)), internal
