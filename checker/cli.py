"""The command line: the only place that touches files, streams and exit codes.

Exit status: 0 when no result of severity ``error`` is refuted or unknown;
1 when one is (a file that does not parse or resolve included); 2 for a usage
or configuration error, an unreadable path, or an internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence, TextIO

from . import __version__
from .api import check_text
from .context import Options
from .model import Span
from .results import FileReport, Result, Severity, Status

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FORMATS = ("text", "json")


class UsageError(Exception):
    """A mistake in how topocheck was called; exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="topocheck",
        description="Prove or refute properties of web-system topologies.",
    )
    parser.add_argument("--version", action="version", version=f"topocheck {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="check topology files and folders")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files, or folders searched for *.topo")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--output", metavar="FILE", help="write the report here instead of standard output")
    check.add_argument("--select", metavar="ID,...", help="run only these checks")
    check.add_argument("--ignore", metavar="ID,...", help="do not run these checks")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when a check fails")
    check.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="solver time per check")

    explain = commands.add_parser("explain", help="what a check proves, a failing example and the fix")
    explain.add_argument("id", metavar="ID")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, a usage error is 2
        return int(exc.code or 0)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "explain":
            return _explain(args.id, sys.stdout)
    except UsageError as exc:
        print(f"topocheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so plainly, never a traceback
        print(f"topocheck: internal error: {type(exc).__name__}: {exc}; please report it", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE


def _split_ids(value: str | None) -> list[str] | None:
    if value is None:
        return None
    ids = [part.strip() for part in value.split(",") if part.strip()]
    from .checks import registry

    known = set(registry()) | {"syntax", "undefined-name", "duplicate-name", "invalid-attribute"}
    for check_id in ids:
        if check_id not in known:
            raise UsageError(f"unknown check '{check_id}' (known: {', '.join(sorted(known))})")
    return ids


def collect_files(paths: Sequence[str]) -> tuple[list[Path], list[str]]:
    """Files named, and every ``*.topo`` below folders named (sorted); and problems."""
    files: list[Path] = []
    problems: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found: list[Path] = []
            for root, dirs, names in os.walk(path, followlinks=False, onerror=lambda e: problems.append(
                    f"cannot read folder '{e.filename}': {e.strerror}")):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / n for n in names if n.endswith(".topo"))
            files.extend(sorted(found))
        elif path.exists():
            files.append(path)
        else:
            problems.append(f"no such file or folder: '{raw}'")
    return files, problems


def read_source(path: Path) -> tuple[str | None, Result | None]:
    """The file's text, or a located result saying why it cannot be read."""
    display = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, Result("io-error", Status.REFUTED, Severity.ERROR, f"cannot read '{display}': {exc.strerror}",
                            Span.start_of(display), "none")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, Result(
            "syntax", Status.REFUTED, Severity.ERROR,
            f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
            Span(display, line, column, line, column + 1), "parser", hint="save the file as UTF-8",
        )


def _check(args: argparse.Namespace) -> int:
    select = _split_ids(args.select)
    ignore = _split_ids(args.ignore) or []
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    options = Options() if args.timeout is None else Options(timeout=args.timeout)
    files, problems = collect_files(args.paths)
    reports: list[FileReport] = []
    io_failure = bool(problems)
    for path in files:
        text, problem = read_source(path)
        if problem is not None:
            io_failure = io_failure or problem.id == "io-error"
            reports.append(FileReport(str(path), (problem,), None, skipped="the file could not be read"))
            continue
        reports.append(check_text(text, str(path), options, select, ignore))
    for problem in problems:
        print(f"topocheck: error: {problem}", file=sys.stderr)
    rendered = _render(reports, args.format, args.output is None)
    if args.output:
        try:
            Path(args.output).write_text(rendered, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write '{args.output}': {exc.strerror}") from None
    else:
        sys.stdout.write(rendered)
    if any(r.id == "internal-error" for rep in reports for r in rep.results) or io_failure:
        return EXIT_USAGE
    if args.exit_zero:
        return EXIT_OK
    failed = any(r.failing for rep in reports for r in rep.results)
    return EXIT_FAILED if failed else EXIT_OK


def _render(reports: list[FileReport], fmt: str, to_terminal: bool) -> str:
    if fmt == "json":
        from .reporters import json_report

        return json_report.render(reports)
    from .reporters import text

    colour = to_terminal and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    return text.render(reports, colour=colour)


def _explain(check_id: str, out: TextIO) -> int:
    from .checks import registry

    checks = registry()
    if check_id not in checks:
        import difflib

        close = difflib.get_close_matches(check_id, list(checks), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UsageError(f"unknown check '{check_id}'{hint} (known: {', '.join(checks)})")
    info = checks[check_id]
    out.write(f"{info.id} ({info.severity.value})\n\n{info.doc}\n")
    return EXIT_OK
