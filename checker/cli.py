"""The command line: the only place that touches files, streams and exit codes.

Exit status: 0 when no result of severity ``error`` is refuted or unknown;
1 when one is (a file that does not parse or resolve included; ``--unknown-ok``
lets ``unknown`` pass); 2 for a usage or configuration error, an unreadable
path, paths that hold no ``*.topo`` file, or an internal error. ``topocheck fmt --check`` exits 1 when a file would
change. spec/LIMITS.md documents the limits and the exit codes.

The tree being checked may come from anyone (a pull request in CI): files are
read through :mod:`checker.files` (links out of the folder being checked are
refused, FIFOs never block, reads are bounded), reports are written atomically
and never onto a file being checked, and every file runs under its time limit,
in a worker process of its own when the run is capped (:mod:`checker.pool`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence, TextIO

from . import __version__, limits
from .api import OUT_OF_MEMORY, check_text, file_deadline, unchecked
from .config import ConfigCache, ConfigError
from .context import Options
from . import progress
from .display import visible
from .files import NotRegular, TooLarge, leaves, read_regular, same_file, walk, write_atomically
from .limits import (DEFAULT_LIMITS, DEFAULT_MEMORY_MB, LIMIT_ID, MIN_MEMORY_MB, CheckTimeout, apply_memory_limit,
                     file_size_result, file_time_reason, parse_seconds, run_time_reason)
from .model import Span
from .results import FileReport, Result, Severity, Status

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FORMATS = ("text", "json", "sarif", "markdown", "github")
RENDER_FORMATS = ("dot", "mermaid", "svg", "html")
RENDER_ENGINES = ("builtin", "dot")
# the file extensions each diagram format is written to
RENDER_EXTENSIONS = {".svg": "svg", ".html": "html", ".htm": "html", ".dot": "dot", ".gv": "dot",
                     ".mmd": "mermaid", ".mermaid": "mermaid"}
_NAMED = {"svg": "an SVG", "html": "an HTML", "dot": "a DOT", "mermaid": "a Mermaid"}


class UsageError(Exception):
    """A mistake in how topocheck was called; exit status 2."""


def _seconds(text: str) -> float:
    """argparse type of ``--timeout`` and ``--total-timeout``."""
    try:
        return parse_seconds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_OUTSIDE_HELP = ("read files that symbolic links take outside the folder being checked (a file named on the command "
                 "line: outside its own folder); refused by default")


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
    check.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                       help="wall time of each file's whole work: reading, parsing and every check (default 60)")
    check.add_argument("--total-timeout", type=_seconds, default=None, metavar="SECONDS",
                       help="wall time of the whole run; files not started by then are not checked (default: none)")
    check.add_argument("--unknown-ok", action="store_true",
                       help="do not fail the run for checks that could not finish (status unknown); a file that "
                            "could not be checked at all still fails it")
    check.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                       help="check files in N processes (default: the number of cores; fewer when "
                            "--max-memory cannot give each 512 MiB)")
    check.add_argument("--max-memory", type=int, default=None, metavar="MIB",
                       help=f"memory cap of the whole run, its processes together, in MiB (default "
                            f"{DEFAULT_MEMORY_MB}; 0: none; else at least {MIN_MEMORY_MB})")
    check.add_argument("--config", metavar="FILE",
                       help="use this topocheck.toml / pyproject.toml instead of searching upward from each file")
    check.add_argument("--allow-outside-symlinks", action="store_true", help=_OUTSIDE_HELP)
    check.add_argument("-v", "--verbose", action="store_true",
                       help="say on standard error which configuration file applies to each file")

    render = commands.add_parser("render", help="draw a topology with one counterexample highlighted")
    render.add_argument("file", metavar="FILE")
    render.add_argument("--format", choices=RENDER_FORMATS, default=None,
                        help="what to write (default: from --output's extension, else svg)")
    render.add_argument("--output", "-o", metavar="FILE", help="write the diagram here instead of standard output")
    render.add_argument("--counterexample", "-c", type=int, default=None, metavar="N",
                        help="highlight the N-th counterexample (numbered over the refuted checks in report order, "
                             "as --list-counterexamples shows; default 1); for html, the one shown first")
    render.add_argument("--list-counterexamples", action="store_true",
                        help="print the numbered counterexamples and exit")
    render.add_argument("--engine", choices=RENDER_ENGINES, default="builtin",
                        help="lay out svg and html with the built-in renderer (default) or Graphviz's dot")
    render.add_argument("--highlight", dest="highlight", action="store_true", default=True,
                        help="colour the chosen counterexample (the default)")
    render.add_argument("--no-highlight", dest="highlight", action="store_false", help="draw the topology only")
    render.add_argument("--allow-outside-symlinks", action="store_true", help=_OUTSIDE_HELP)

    fmt = commands.add_parser("fmt", help="rewrite topology files in the canonical layout")
    fmt.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files, or folders searched for *.topo")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file would change")
    fmt.add_argument("--diff", action="store_true", help="change nothing; print what would change as a diff")
    fmt.add_argument("--allow-outside-symlinks", action="store_true", help=_OUTSIDE_HELP)

    from .importers.command import add_check_options, add_import_parser
    from .review.command import add_baseline_options, add_diff_parser

    add_baseline_options(check)
    add_check_options(check)
    add_diff_parser(commands)
    add_import_parser(commands)

    explain = commands.add_parser("explain", help="what a check proves, a failing example and the fix")
    explain.add_argument("id", metavar="ID", nargs="?", help="a check id; none: list every check")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, a usage error is 2
        return int(exc.code or 0)
    try:
        if args.command in ("check", "diff"):
            if args.max_memory is not None and (args.max_memory < 0 or 0 < args.max_memory < MIN_MEMORY_MB):
                raise UsageError(f"--max-memory must be 0 (no cap) or at least {MIN_MEMORY_MB} MiB, "
                                 f"not {args.max_memory}")
            if argv is None or args.max_memory is not None:  # a real run, or asked for: cap memory
                warning = apply_memory_limit(DEFAULT_MEMORY_MB if args.max_memory is None else args.max_memory)
                if warning:
                    print(f"topocheck: warning: {warning}", file=sys.stderr)
            if args.command == "diff":
                from .review.command import run_diff

                return run_diff(args)
            return _check(args)
        if args.command == "import":
            from .importers.command import run_import

            return run_import(args)
        if args.command == "fmt":
            return _fmt(args)
        if args.command == "explain":
            return _explain(args.id, sys.stdout)
        if args.command == "render":
            return _render_diagram(args)
    except (UsageError, ConfigError) as exc:
        print(f"topocheck: error: {visible(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except MemoryError:
        print("topocheck: error: out of memory (see --max-memory)", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug: say so plainly, never a traceback
        print(f"topocheck: internal error: {type(exc).__name__}: {visible(str(exc))}; please report it",
              file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE


def _split_ids(value: str | None) -> list[str] | None:
    if value is None:
        return None
    ids = [part.strip() for part in value.split(",") if part.strip()]
    from .checks import registry

    known = set(registry()) | {"syntax", "undefined-name", "duplicate-name", "invalid-attribute", "import"}
    for check_id in ids:
        if check_id not in known:
            import difflib

            close = difflib.get_close_matches(check_id, sorted(known), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise UsageError(f"unknown check '{check_id}'{hint} (known: {', '.join(sorted(known))})")
    return ids


def _require_files(files: Sequence, problems: list[str], paths: Sequence[str]) -> None:
    """Nothing to check is a usage error (exit status 2), as ESLint and mypy have it: a
    CI step pointed at the wrong folder must not pass by checking nothing."""
    if not files and not problems:
        where = ", ".join(f"'{p}'" for p in paths)
        raise UsageError(f"no *.topo files found in {where}: nothing to check")


def collect_files(paths: Sequence[str]) -> tuple[list[Path], list[str]]:
    """Files named, and every ``*.topo`` below folders named (sorted); and problems."""
    found, problems = gather(paths)
    return [path for path, _ in found], problems


def gather(paths: Sequence[str]) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Like :func:`collect_files`, each file with the folder being checked it was
    found in: the folder named, or for a file named, the folder holding it."""
    files: list[tuple[Path, Path]] = []
    problems: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend((found, path) for found in walk(path, problems.append))
        elif os.path.lexists(path):
            files.append((path, path.parent))
        else:
            problems.append(f"no such file or folder: '{raw}'")
    return files, problems


def _io_error(display: str, reason: str) -> Result:
    return Result("io-error", Status.REFUTED, Severity.ERROR, f"cannot read '{display}': {reason}",
                  Span.start_of(display), "none")


def read_source(path: Path, inside: Path | None = None) -> tuple[str | None, Result | None]:
    """The file's text, or a located result saying why it cannot be read.

    With ``inside``, a file whose links lead out of that folder is refused.
    """
    display = str(path)
    if inside is not None:
        target = leaves(path, inside)
        if target is not None:
            return None, _io_error(display, f"it links to '{target}', outside the folder being checked ('{inside}'); "
                                            "pass --allow-outside-symlinks to read it")
    try:
        data = read_regular(path, DEFAULT_LIMITS.max_file_bytes)
    except TooLarge as exc:  # checked before reading it whole
        return None, file_size_result(display, exc.size, DEFAULT_LIMITS)
    except NotRegular as exc:
        return None, _io_error(display, exc.strerror)
    except OSError as exc:
        return None, _io_error(display, exc.strerror or str(exc))
    return decode_source(data, display)


def decode_source(data: bytes, display: str) -> tuple[str | None, Result | None]:
    """A file's bytes as text, or a ``syntax`` result where they are not UTF-8."""
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
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("-j/--jobs must be at least 1")
    if args.from_ is not None:  # manifests: checker.importers reads, imports and checks them
        from .importers.command import run_check

        reports, io_failure = run_check(args, select, ignore)
        problems: list[str] = []
    elif args.overlay or args.zones:
        raise UsageError(f"'{'--overlay' if args.overlay else '--zones'}' goes with '--from k8s|compose'")
    else:
        found, problems = gather(args.paths)
        _require_files(found, problems, args.paths)
        if args.output:
            _refuse_overwriting(Path(args.output), [path for path, _ in found], "is a file being checked")
        configs = _configs(args)
        run_deadline = None if args.total_timeout is None else time.monotonic() + args.total_timeout
        jobs: list[FileJob] = []
        for path, folder in found:
            job = job_for(path, configs, args.timeout, select, ignore, deadline=run_deadline,
                          total_timeout=args.total_timeout, verbose=args.verbose)
            jobs.append(job + (None if args.allow_outside_symlinks else folder,))
        with progress.showing(sys.stderr, [visible(str(job[0])) for job in jobs]):
            reports = check_files(jobs, args.jobs)
        io_failure = bool(problems) or any(r.id == "io-error" for rep in reports for r in rep.results)
    from .review.command import baseline_step

    reports = baseline_step(args, reports)
    for problem in problems:
        print(f"topocheck: error: {visible(problem)}", file=sys.stderr)
    rendered = _render(reports, args.format, args.output is None)
    _emit(rendered, args.output)
    if any(r.id == "internal-error" for rep in reports for r in rep.results) or io_failure:
        return EXIT_USAGE
    if args.exit_zero:
        return EXIT_OK
    from .suppress import is_failing

    # --unknown-ok lets checks that could not finish pass, never a file nothing was checked in.
    failed = any(
        is_failing(r) and not (args.unknown_ok and r.status is Status.UNKNOWN and r.id != LIMIT_ID)
        for rep in reports for r in rep.results
    )
    return EXIT_FAILED if failed else EXIT_OK


def _refuse_overwriting(output: Path, inputs: Sequence[Path], what: str) -> None:
    """A usage error when ``output`` names one of ``inputs`` (through links too)."""
    for path in inputs:
        if same_file(output, path):
            raise UsageError(f"--output '{output}' {what}; write the report elsewhere")


def job_for(path: Path, configs: ConfigCache, timeout: float | None, select: list[str] | None,
            ignore: list[str], deadline: float | None = None, total_timeout: float | None = None,
            verbose: bool = False) -> FileJob:
    """What to run on one file: its configuration, then the command line's choices."""
    try:
        settings = configs.settings_for(path)
    except (OSError, RuntimeError):  # a symlink loop or a broken link: reading it reports why
        from .config import Settings

        settings = Settings()
    if verbose:
        print(f"topocheck: {visible(str(path))}: {visible(configs.describe(path, settings))}", file=sys.stderr)
    options = Options(
        timeout=timeout if timeout is not None else (settings.timeout or Options().timeout),
        default_k=settings.k or Options().default_k,
        deadline=deadline,
        total_timeout=total_timeout,
    )
    chosen = select if select is not None else (list(settings.select) if settings.select is not None else None)
    if chosen is not None and "available" not in chosen:
        chosen = [*chosen, "available"]  # it always runs (README); --ignore available drops it
    skip = list(dict.fromkeys([*settings.ignore, *ignore]))
    return (path, options, chosen, skip)


#: Fewer files than this are checked in one process: starting workers costs more.
PARALLEL_MIN_FILES = 16

#: One file to check: its path, options, selected and ignored check ids, and
#: optionally the folder its links must stay in (None or absent: not checked).
FileJob = tuple  # (Path, Options, list[str] | None, list[str][, Path | None])


def check_file(job: FileJob) -> FileReport:
    """Read and check one file, all within its time limit; never raises (a bug
    becomes an ``internal-error`` result, a limit a ``limit`` result)."""
    path, options, select, ignore, *rest = job
    inside = rest[0] if rest else None
    if options.deadline is not None and time.monotonic() >= options.deadline:
        return not_started(job)
    stopped = None
    try:
        with file_deadline(options):
            text, problem = read_source(path, inside)
            if problem is not None:
                return FileReport(str(path), (problem,), None, skipped="the file could not be read")
            return check_text(text, str(path), options, select, ignore)
    except CheckTimeout as exc:
        stopped = f"could not finish: {exc} ran out before the file was parsed"
    except MemoryError:
        stopped = OUT_OF_MEMORY  # reported once the handler is left, which frees what the file took
    except (ImportError, OSError) as exc:
        # Under a memory cap, loading a large shared library (Z3's) fails this way.
        if "memory" not in str(exc).lower() and "failed to map" not in str(exc).lower():
            return _internal(path, f"{type(exc).__name__}: {exc}")
        stopped = OUT_OF_MEMORY
    except Exception as exc:  # a bug: report it against this file, keep checking the others
        return _internal(path, f"{type(exc).__name__}: {exc}")
    return FileReport(str(path), (unchecked(str(path), stopped),), None, skipped="the file could not be checked")


def _internal(path: Path, detail: str) -> FileReport:
    from .api import internal_error

    return FileReport(str(path), (internal_error("file", detail),), None, skipped="an internal error stopped the checks")


def not_started(job: FileJob) -> FileReport:
    """The report of a file the run's time ran out before (``--total-timeout``)."""
    path, options = job[0], job[1]
    message = f"not checked: {run_time_reason(options.total_timeout or 0)} ran out before this file was started"
    return FileReport(str(path), (unchecked(str(path), message),), None, skipped="the file was not checked")


def _work(job: FileJob) -> FileReport:
    return check_file(job)  # looked up when called, so a test's stand-in reaches the workers


def _time_limit(job: FileJob) -> tuple[float, str]:
    """The seconds a file starting now may take, and which limit that is."""
    options = job[1]
    if options.deadline is not None and options.deadline - time.monotonic() < options.timeout:
        return max(0.0, options.deadline - time.monotonic()), run_time_reason(options.total_timeout or 0)
    return options.timeout, file_time_reason(options.timeout)


def _lost(job: FileJob, kind: str, detail: str) -> FileReport:
    """The report of a file whose worker process died (see :func:`checker.pool.run`)."""
    path = job[0]
    if kind == "time":
        message = f"could not finish: {detail} ran out; the process checking it was stopped"
    elif kind == "memory":
        message = OUT_OF_MEMORY
    elif kind == "killed":
        message = (f"could not finish: the process checking this file was killed by the system ({detail}), most "
                   "likely for lack of memory (--max-memory)")
    else:
        return _internal(path, f"the process checking this file {detail}")
    return FileReport(str(path), (unchecked(str(path), message),), None, skipped="the file could not be checked")


def check_files(jobs: Sequence[FileJob], processes: int | None = None) -> list[FileReport]:
    """Check files in ``processes`` processes (default: the cores); reports in the order of ``jobs``.

    Each file goes to a worker process (:mod:`checker.pool`) when the run is
    capped in memory (``--max-memory``) or checks at least
    :data:`PARALLEL_MIN_FILES` files in several processes; otherwise, or where
    there is no ``fork``, the files are checked in this process. The reports
    come back in order, so the output is the same bytes as a one-process run.
    """
    workers = min(processes or os.cpu_count() or 1, len(jobs))
    if len(jobs) < PARALLEL_MIN_FILES:
        workers = 1
    cap = limits.memory_cap_mb()
    from . import pool

    if not jobs or (workers <= 1 and cap is None) or not pool.available():
        reports = []
        for index, job in enumerate(jobs):
            progress.file_started(index)
            reports.append(check_file(job))
            progress.file_done(index)
        return reports
    deadline = next((job[1].deadline for job in jobs if job[1].deadline is not None), None)
    return pool.run(jobs, _work, workers, memory_mb=cap, time_limit=_time_limit, lost=_lost, deadline=deadline,
                    not_started=not_started)


def _fmt(args: argparse.Namespace) -> int:
    """``topocheck fmt``: rewrite files in place, or with --check/--diff only report."""
    import difflib

    from .fmt import format_text

    found, problems = gather(args.paths)
    _require_files(found, problems, args.paths)
    usage = bool(problems)
    failed = False
    for problem in problems:
        print(f"topocheck: error: {visible(problem)}", file=sys.stderr)
    for path, folder in found:
        text, problem = read_source(path, None if args.allow_outside_symlinks else folder)
        if problem is not None:
            _report_to_stderr(FileReport(str(path), (problem,), None))
            usage = usage or problem.id == "io-error"
            failed = True
            continue
        outcome = format_text(text, str(path))
        if outcome.text is None:
            _report_to_stderr(FileReport(str(path), outcome.errors, text, skipped="not formatted"))
            failed = True
            continue
        if outcome.text == text:
            continue
        shown = visible(str(path))
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(keepends=True), outcome.text.splitlines(keepends=True),
                fromfile=f"{shown} (original)", tofile=f"{shown} (formatted)"))
        if args.check:
            print(f"would reformat {shown}")
            failed = True
        elif not args.diff:
            try:
                write_atomically(path, outcome.text)  # a link keeps pointing at its formatted target
            except OSError as exc:
                print(f"topocheck: error: cannot write '{shown}': {exc.strerror}", file=sys.stderr)
                usage = True
                continue
            print(f"formatted {shown}")
    return EXIT_USAGE if usage else EXIT_FAILED if failed else EXIT_OK


def _report_to_stderr(report: FileReport) -> None:
    from .reporters import text

    sys.stderr.write(text.render([report]))


def _configs(args: argparse.Namespace) -> ConfigCache:
    from .checks import known_params

    explicit = None
    if args.config:
        explicit = Path(args.config)
        if not explicit.is_file():
            raise UsageError(f"no such configuration file: '{args.config}'")
    return ConfigCache(known_params(), explicit)


def _emit(rendered: str | Iterable[str], output: str | None) -> None:
    """Write a report (its text, or its pieces as they are made) to ``--output``
    (atomically: the previous report stays whole until the new one is) or to
    standard output."""
    if output:
        try:
            write_atomically(Path(output), rendered)
        except OSError as exc:
            raise UsageError(f"cannot write '{output}': {exc.strerror or exc}") from None
    else:
        try:
            sys.stdout.writelines((rendered,) if isinstance(rendered, str) else rendered)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader left (``| head``): the rest is not wanted, the exit status is
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # (so that the flush at exit writes nowhere, quietly)
            os.close(devnull)


def _render(reports: list[FileReport], fmt: str, to_terminal: bool) -> Iterable[str]:
    """The report in pieces, each made as it is written (see checker.reporters.stream)."""
    from importlib import import_module

    module = import_module(f".reporters.{'json_report' if fmt == 'json' else fmt}", __package__)
    if fmt == "text":
        colour = to_terminal and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        return module.chunks(reports, colour=colour)
    return module.chunks(reports)


def _explain(check_id: str | None, out: TextIO) -> int:
    from .checks import registry
    from .docs import explain_text
    from .reporters.sarif import BUILTIN_RULES

    checks = registry()
    if check_id is None:
        from .docs import check_list

        out.write(check_list(BUILTIN_RULES))
        return EXIT_OK
    if check_id in checks:
        out.write(explain_text(checks[check_id]))
        return EXIT_OK
    if check_id in BUILTIN_RULES:
        out.write(f"{check_id}: reported by topocheck itself, not a check\n\n{BUILTIN_RULES[check_id]}\n")
        return EXIT_OK
    import difflib

    close = difflib.get_close_matches(check_id, [*checks, *BUILTIN_RULES], n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise UsageError(f"unknown check '{check_id}'{hint} (known: {', '.join(checks)})")


def render_format(fmt: str | None, output: str | None) -> str:
    """The diagram format: ``--format``, else the output's extension, else svg; an extension
    that contradicts ``--format``, or that no format writes, is a usage error."""
    suffix = Path(output).suffix.lower() if output else ""
    implied = RENDER_EXTENSIONS.get(suffix)
    if suffix and implied is None:
        known = ", ".join(sorted(RENDER_EXTENSIONS))
        raise UsageError(f"cannot write a diagram to '{output}': topocheck render writes svg, html, dot or mermaid, "
                         f"and '{suffix}' is none of them (use one of {known}; for a picture, open the .svg or "
                         "convert it, e.g. 'rsvg-convert -o x.png x.svg')")
    if fmt is not None and implied is not None and implied != fmt:
        wanted = " or ".join(s for s, f in RENDER_EXTENSIONS.items() if f == fmt)
        raise UsageError(f"'--format {fmt}' contradicts the output '{output}', which names {_NAMED[implied]} file "
                         f"(write {_NAMED[fmt]} diagram to a {wanted} file, or leave out --format)")
    return fmt or implied or "svg"


def _render_diagram(args: argparse.Namespace) -> int:
    """``topocheck render``: the diagram of one file, with one counterexample drawn on it."""
    from .api import load_text
    from .reporters import diagram

    path = Path(args.file)
    if args.output:
        _refuse_overwriting(Path(args.output), [path], "is the file being drawn")
    fmt = render_format(args.format, args.output)
    if args.engine != "builtin" and fmt not in ("svg", "html"):
        raise UsageError(f"'--engine' chooses how svg and html are laid out; '--format {fmt}' has no engine")
    if args.counterexample is not None and args.counterexample < 1:
        raise UsageError("counterexamples are numbered from 1 ('--no-highlight' draws none)")
    if args.counterexample is not None and not args.highlight:
        raise UsageError("'--counterexample' and '--no-highlight' contradict each other")
    if not path.is_file():
        raise UsageError(f"no such file: '{args.file}'")
    text, problem = read_source(path, None if args.allow_outside_symlinks else path.parent)
    if problem is not None:
        raise UsageError(problem.message)
    loaded = load_text(text, str(path))
    if loaded.topology is None:
        from .reporters import text as text_reporter

        sys.stderr.write(text_reporter.render([FileReport(str(path), loaded.results, text)], colour=False))
        print(f"topocheck: error: cannot draw '{visible(str(path))}': the file has errors", file=sys.stderr)
        return EXIT_FAILED
    drawn = len(loaded.topology.components)
    if drawn > limits.MAX_DIAGRAM_COMPONENTS:  # (before its checks run: they would be wasted)
        print(f"topocheck: error: cannot draw '{visible(str(path))}': it has {drawn:,} components, more than a "
              f"diagram is drawn for ({limits.MAX_DIAGRAM_COMPONENTS:,}); 'topocheck check' checks it",
              file=sys.stderr)
        return EXIT_FAILED
    results: list[Result] = []
    if args.highlight or args.list_counterexamples:
        settings = _configs(argparse.Namespace(config=None)).settings_for(path)
        options = Options(timeout=settings.timeout or Options().timeout, default_k=settings.k or Options().default_k)
        results = list(check_text(text, str(path), options, settings.select, settings.ignore).results)
    if args.list_counterexamples:
        found = diagram.choices(results)
        lines = [f"{c.number:>3}  {c.summary}" for c in found] or ["no counterexamples: no check was refuted"]
        sys.stdout.write("\n".join(lines) + "\n")
        return EXIT_OK
    number = args.counterexample if args.counterexample is not None else 1
    try:
        if fmt == "mermaid":
            rendered = diagram.to_mermaid(loaded.topology, results, args.highlight, number)
        elif fmt == "dot":
            rendered = diagram.to_dot(loaded.topology, results, args.highlight, number)
        elif fmt == "html":
            rendered = diagram.to_html(loaded.topology, results if args.highlight else [], str(path),
                                       number if args.highlight else None, engine=args.engine)
        elif args.engine == "dot":
            rendered = diagram.to_svg_with_dot(loaded.topology, results, args.highlight, number)
        else:
            rendered = diagram.to_svg(loaded.topology, results, args.highlight, number)
    except diagram.CounterexampleChoiceError as exc:
        raise UsageError(str(exc)) from None
    except diagram.GraphvizMissing as exc:
        raise UsageError(str(exc)) from None
    _emit(rendered, args.output)
    return EXIT_OK
