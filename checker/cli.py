"""The command line: the only place that touches files, streams and exit codes.

Exit status: 0 when no result of severity ``error`` is refuted or unknown;
1 when one is (a file that does not parse or resolve included; ``--unknown-ok``
lets ``unknown`` pass); 2 for a usage or configuration error, an unreadable
path, or an internal error. ``topocheck fmt --check`` exits 1 when a file would
change. spec/LIMITS.md documents the limits and the exit codes.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path
from typing import Sequence, TextIO

from . import __version__
from .api import check_text
from .config import ConfigCache, ConfigError
from .context import Options
from .limits import DEFAULT_LIMITS, DEFAULT_MEMORY_MB, apply_memory_limit, file_size_result
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
    check.add_argument("--unknown-ok", action="store_true",
                       help="do not fail the run for checks that could not finish (status unknown)")
    check.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                       help="check files in N processes (default: the number of cores)")
    check.add_argument("--max-memory", type=int, default=None, metavar="MIB",
                       help=f"memory cap of the run in MiB (default {DEFAULT_MEMORY_MB}; 0: none)")
    check.add_argument("--config", metavar="FILE",
                       help="use this topocheck.toml / pyproject.toml instead of searching upward from each file")

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

    fmt = commands.add_parser("fmt", help="rewrite topology files in the canonical layout")
    fmt.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files, or folders searched for *.topo")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file would change")
    fmt.add_argument("--diff", action="store_true", help="change nothing; print what would change as a diff")

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
            if argv is None or args.max_memory is not None:  # a real run, or asked for: cap memory
                warning = apply_memory_limit(DEFAULT_MEMORY_MB if args.max_memory is None else args.max_memory)
                if warning:
                    print(f"topocheck: warning: {warning}", file=sys.stderr)
            return _check(args)
        if args.command == "fmt":
            return _fmt(args)
        if args.command == "explain":
            return _explain(args.id, sys.stdout)
        if args.command == "render":
            return _render_diagram(args)
    except (UsageError, ConfigError) as exc:
        print(f"topocheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except MemoryError:
        print("topocheck: error: out of memory (see --max-memory)", file=sys.stderr)
        return EXIT_USAGE
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
            seen_dirs: set[tuple[int, int]] = set()
            found: list[Path] = []
            for root, dirs, names in os.walk(path, followlinks=False, onerror=lambda e: problems.append(
                    f"cannot read folder '{e.filename}': {e.strerror}")):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                try:
                    info = os.stat(root)
                except OSError:
                    continue
                if (info.st_dev, info.st_ino) in seen_dirs:  # a folder reached twice
                    dirs[:] = []
                    continue
                seen_dirs.add((info.st_dev, info.st_ino))
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
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            return None, Result("io-error", Status.REFUTED, Severity.ERROR, f"cannot read '{display}': it is {what}",
                                Span.start_of(display), "none")
        too_big = file_size_result(display, info.st_size, DEFAULT_LIMITS)
        if too_big is not None:
            return None, too_big
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, Result("io-error", Status.REFUTED, Severity.ERROR, f"cannot read '{display}': {reason}",
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
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("-j/--jobs must be at least 1")
    files, problems = collect_files(args.paths)
    configs = _configs(args)
    jobs: list[FileJob] = []
    for path in files:
        try:
            settings = configs.settings_for(path)
        except (OSError, RuntimeError):  # a symlink loop or a broken link: reading it reports why
            from .config import Settings

            settings = Settings()
        options = Options(
            timeout=args.timeout if args.timeout is not None else (settings.timeout or Options().timeout),
            default_k=settings.k or Options().default_k,
        )
        chosen = select if select is not None else (list(settings.select) if settings.select is not None else None)
        skip = list(dict.fromkeys([*settings.ignore, *ignore]))
        jobs.append((path, options, chosen, skip))
    reports = check_files(jobs, args.jobs)
    io_failure = bool(problems) or any(r.id == "io-error" for rep in reports for r in rep.results)
    for problem in problems:
        print(f"topocheck: error: {problem}", file=sys.stderr)
    rendered = _render(reports, args.format, args.output is None)
    _emit(rendered, args.output)
    if any(r.id == "internal-error" for rep in reports for r in rep.results) or io_failure:
        return EXIT_USAGE
    if args.exit_zero:
        return EXIT_OK
    from .suppress import is_failing

    failed = any(
        is_failing(r) and not (args.unknown_ok and r.status is Status.UNKNOWN) for rep in reports for r in rep.results
    )
    return EXIT_FAILED if failed else EXIT_OK


#: Fewer files than this are checked in this process: starting workers costs more.
PARALLEL_MIN_FILES = 16

#: One file to check: its path, options, selected and ignored check ids.
FileJob = tuple[Path, Options, "list[str] | None", "list[str]"]


def check_file(job: FileJob) -> FileReport:
    """Read and check one file; never raises (a bug becomes an ``internal-error`` result)."""
    path, options, select, ignore = job
    try:
        text, problem = read_source(path)
        if problem is not None:
            return FileReport(str(path), (problem,), None, skipped="the file could not be read")
        return check_text(text, str(path), options, select, ignore)
    except MemoryError:  # the cap is the whole process's: main() says so plainly
        raise
    except (ImportError, OSError) as exc:
        # Under a memory cap, loading a large shared library (Z3's) fails this way.
        text = str(exc).lower()
        if "memory" in text or "failed to map" in text:
            raise MemoryError(str(exc)) from None
        from .api import internal_error

        return FileReport(str(path), (internal_error("file", f"{type(exc).__name__}: {exc}"),), None,
                          skipped="an internal error stopped the checks")
    except Exception as exc:  # a bug: report it against this file, keep checking the others
        from .api import internal_error

        return FileReport(str(path), (internal_error("file", f"{type(exc).__name__}: {exc}"),), None,
                          skipped="an internal error stopped the checks")


def _check_chunk(jobs: list[FileJob]) -> list[FileReport]:
    return [check_file(job) for job in jobs]


def check_files(jobs: Sequence[FileJob], processes: int | None = None) -> list[FileReport]:
    """Check files in ``processes`` processes (default: the cores); reports in the order of ``jobs``.

    Runs of fewer than :data:`PARALLEL_MIN_FILES` files stay in this process.
    Workers get contiguous chunks of files and the reports come back in order,
    so the output is the same bytes as a one-process run.
    """
    workers = min(processes or os.cpu_count() or 1, len(jobs))
    if workers <= 1 or len(jobs) < PARALLEL_MIN_FILES:
        return [check_file(job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(1, min(64, len(jobs) // (workers * 4)))
    chunks = [list(jobs[i:i + size]) for i in range(0, len(jobs), size)]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [report for chunk in pool.map(_check_chunk, chunks) for report in chunk]


def _fmt(args: argparse.Namespace) -> int:
    """``topocheck fmt``: rewrite files in place, or with --check/--diff only report."""
    import difflib

    from .fmt import format_text

    files, problems = collect_files(args.paths)
    usage = bool(problems)
    failed = False
    for problem in problems:
        print(f"topocheck: error: {problem}", file=sys.stderr)
    for path in files:
        text, problem = read_source(path)
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
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(keepends=True), outcome.text.splitlines(keepends=True),
                fromfile=f"{path} (original)", tofile=f"{path} (formatted)"))
        if args.check:
            print(f"would reformat {path}")
            failed = True
        elif not args.diff:
            try:
                _write_atomically(path, outcome.text)
            except OSError as exc:
                print(f"topocheck: error: cannot write '{path}': {exc.strerror}", file=sys.stderr)
                usage = True
                continue
            print(f"formatted {path}")
    return EXIT_USAGE if usage else EXIT_FAILED if failed else EXIT_OK


def _report_to_stderr(report: FileReport) -> None:
    from .reporters import text

    sys.stderr.write(text.render([report]))


def _write_atomically(path: Path, content: str) -> None:
    """Replace ``path`` with ``content`` so a reader never sees half a file."""
    import tempfile

    mode = path.stat().st_mode
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(content)
        os.chmod(temporary, stat.S_IMODE(mode))
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _configs(args: argparse.Namespace) -> ConfigCache:
    from .checks import known_params

    explicit = None
    if args.config:
        explicit = Path(args.config)
        if not explicit.is_file():
            raise UsageError(f"no such configuration file: '{args.config}'")
    return ConfigCache(known_params(), explicit)


def _emit(rendered: str, output: str | None) -> None:
    """Write a report to ``--output`` or to standard output."""
    if output:
        try:
            Path(output).write_text(rendered, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write '{output}': {exc.strerror}") from None
    else:
        sys.stdout.write(rendered)


def _render(reports: list[FileReport], fmt: str, to_terminal: bool) -> str:
    if fmt == "json":
        from .reporters import json_report

        return json_report.render(reports)
    if fmt in ("sarif", "markdown", "github"):
        from importlib import import_module

        return import_module(f".reporters.{fmt}", __package__).render(reports)
    from .reporters import text

    colour = to_terminal and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    return text.render(reports, colour=colour)


def _explain(check_id: str, out: TextIO) -> int:
    from .checks import registry
    from .docs import explain_text
    from .reporters.sarif import BUILTIN_RULES

    checks = registry()
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

    fmt = render_format(args.format, args.output)
    if args.engine != "builtin" and fmt not in ("svg", "html"):
        raise UsageError(f"'--engine' chooses how svg and html are laid out; '--format {fmt}' has no engine")
    if args.counterexample is not None and args.counterexample < 1:
        raise UsageError("counterexamples are numbered from 1 ('--no-highlight' draws none)")
    if args.counterexample is not None and not args.highlight:
        raise UsageError("'--counterexample' and '--no-highlight' contradict each other")
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: '{args.file}'")
    text, problem = read_source(path)
    if problem is not None:
        raise UsageError(problem.message)
    loaded = load_text(text, str(path))
    if loaded.topology is None:
        from .reporters import text as text_reporter

        sys.stderr.write(text_reporter.render([FileReport(str(path), loaded.results, text)], colour=False))
        print(f"topocheck: error: cannot draw '{path}': the file has errors", file=sys.stderr)
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
