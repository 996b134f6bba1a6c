"""The command line of the importers: ``topocheck import`` and ``topocheck check --from``.

Files are read as the rest of topocheck reads them (:mod:`checker.files`: bounded, no
FIFO blocks, links out of a folder refused unless allowed); ``-`` reads standard input.
For Kubernetes every file given (folders: every ``*.yaml`` and ``*.yml`` below) is one
cluster; for Compose every file given is a project, and a folder holds the projects of
the Compose files below it (``compose.yaml``, ``compose.yml``, ``docker-compose.yaml``,
``docker-compose.yml``, the first of them in each folder, as Compose chooses).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from ..files import walk
from ..results import FileReport

IMPORT_FORMATS = ("k8s", "compose")
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
_ZONES_HELP = ("the cluster's zones, in order (e.g. a,b,c): replicas are placed in them as their spread constraints "
               "allow, else in the first; without it (and without zones in an overlay) everything is in one unnamed "
               "zone")


def add_import_parser(commands) -> None:
    """``topocheck import k8s|compose PATH...``."""
    parser = commands.add_parser("import", help="print the topology of Kubernetes manifests or a Compose project")
    parser.add_argument("source", choices=IMPORT_FORMATS, metavar="k8s|compose", help="what the files are")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files, folders, or - for standard input")
    parser.add_argument("--zones", metavar="A,B,...", help=_ZONES_HELP)
    parser.add_argument("--output", "-o", metavar="FILE", help="write the topology here instead of standard output")
    parser.add_argument("--allow-outside-symlinks", action="store_true",
                        help="read files that symbolic links take outside the folder being read")


def add_check_options(check: argparse.ArgumentParser) -> None:
    """``check --from k8s|compose [--overlay FILE] [--zones ...]``."""
    check.add_argument("--from", dest="from_", choices=IMPORT_FORMATS, default=None, metavar="k8s|compose",
                       help="check Kubernetes manifests or Compose projects (PATHs: files, folders, or -) instead of "
                            "topology files")
    check.add_argument("--overlay", metavar="FILE",
                       help="with --from: a topology file of what the manifests cannot say, read with them")
    check.add_argument("--zones", metavar="A,B,...", help=f"with --from: {_ZONES_HELP}")


class ImportUsage(Exception):
    """A mistake in how an import was asked for (exit status 2)."""


def _zones(text: str | None) -> list[str]:
    if not text:
        return []
    from .emitter import valid_name

    zones = [z.strip() for z in text.split(",") if z.strip()]
    for zone in zones:
        if valid_name(zone) != zone:
            raise ImportUsage(f"--zones: '{zone}' is not a name a zone can have (letters, digits, '-', '_', '.')")
    return zones


def read_inputs(source: str, paths: Sequence[str], allow_outside: bool) -> tuple[list[list[tuple[str, str]]],
                                                                                list[FileReport], list[str]]:
    """The systems to import, each a list of (path, text); reports of files that could not
    be read; and problems with the paths (no such file)."""
    from ..cli import read_source

    problems: list[str] = []
    unreadable: list[FileReport] = []
    systems: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    stdin_used = False
    for raw in paths:
        if raw == "-":
            if stdin_used:
                problems.append("'-' (standard input) is given twice")
                continue
            stdin_used = True
            found = [("<stdin>", sys.stdin.read())]
        else:
            path = Path(raw)
            if path.is_dir():
                if source == "k8s":
                    files = walk(path, problems.append, (".yaml", ".yml"))
                else:
                    files = [f for f in walk(path, problems.append, (".yaml", ".yml")) if f.name in COMPOSE_FILES]
                    files = _first_per_folder(files)
                inside = None if allow_outside else path
            elif path.exists() or path.is_symlink():
                files, inside = [path], (None if allow_outside else path.parent)
            else:
                problems.append(f"no such file or folder: '{raw}'")
                continue
            found = []
            for file in files:
                text, problem = read_source(file, inside)
                if problem is not None:
                    unreadable.append(FileReport(str(file), (problem,), None, skipped="the file could not be read"))
                    continue
                found.append((str(file), text))
            if source == "compose" and path.is_dir() and not files:
                problems.append(f"no Compose file ({', '.join(COMPOSE_FILES)}) in '{raw}'")
        if source == "k8s":
            current.extend(found)
        else:
            systems.extend([item] for item in found)
    if source == "k8s" and current:
        systems.append(current)
    return systems, unreadable, problems


def _first_per_folder(files: list[Path]) -> list[Path]:
    chosen: dict[Path, Path] = {}
    for file in sorted(files, key=lambda f: (f.parent.parts, COMPOSE_FILES.index(f.name))):
        chosen.setdefault(file.parent, file)
    return sorted(chosen.values(), key=lambda f: f.parts)


def import_system(source: str, files: list[tuple[str, str]], zones: Sequence[str], overlay=None):
    from .common import NO_OVERLAY
    from .compose import import_compose
    from .k8s import import_k8s

    info = overlay.info if overlay is not None else NO_OVERLAY
    if source == "k8s":
        return import_k8s(files, zones, info)
    path, text = files[0]
    return import_compose(path, text, info)


def _inputs(args: argparse.Namespace, source: str):
    """The zones asked for, the systems to import, reports of unreadable files, and path
    problems (said on standard error)."""
    from ..cli import UsageError
    from ..display import visible

    try:
        zones = _zones(args.zones)
    except ImportUsage as exc:
        raise UsageError(str(exc)) from None
    if zones and source == "compose":
        raise UsageError("--zones is for Kubernetes; a Compose project runs on one host (an overlay may place it)")
    systems, unreadable, problems = read_inputs(source, args.paths, args.allow_outside_symlinks)
    for problem in problems:
        print(f"topocheck: error: {visible(problem)}", file=sys.stderr)
    return zones, systems, unreadable, problems


def run_import(args: argparse.Namespace) -> int:
    """``topocheck import``: the topology on standard output (or ``--output``), notes and
    errors on standard error."""
    from ..cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, _emit, _report_to_stderr

    zones, systems, unreadable, problems = _inputs(args, args.source)
    for report in unreadable:
        _report_to_stderr(report)
    if problems or unreadable:
        return EXIT_USAGE
    if args.source == "compose" and len(systems) != 1:
        raise UsageError(f"import compose reads one project; {len(systems)} Compose files were found "
                         "(name one, or use 'check --from compose' for several)")
    if not systems:
        raise UsageError("no manifests (*.yaml, *.yml) were found")
    imported = import_system(args.source, systems[0], zones)
    if imported.errors:
        for path, text in imported.sources.items():
            errors = tuple(e for e in imported.errors if e.span is not None and e.span.path == path)
            if errors:
                _report_to_stderr(FileReport(path, errors, text, skipped="nothing was imported"))
        return EXIT_FAILED
    for path, text in imported.sources.items():
        notes = tuple(n for n in imported.notes if n.span is not None and n.span.path == path)
        if notes:
            from ..reporters import text as text_reporter

            rendered = text_reporter.render([FileReport(path, notes, text)])
            sys.stderr.write("".join(line + "\n" for line in rendered.splitlines()[:-1]))
    if args.output:
        from ..cli import _refuse_overwriting

        _refuse_overwriting(Path(args.output), [Path(p) for p in imported.sources if not p.startswith("<")],
                            "is a file being imported")
    _emit(imported.text, args.output)
    return EXIT_OK


def run_check(args: argparse.Namespace, select, ignore) -> tuple[list[FileReport], bool]:
    """``check --from``: the reports of every imported system (and unreadable files), and
    whether a path could not be read."""
    from ..api import file_deadline, unchecked
    from ..cli import UsageError, read_source
    from ..context import Options
    from ..limits import CheckTimeout
    from .overlay import read_overlay
    from .run import check_imported

    zones, systems, reports, problems = _inputs(args, args.from_)
    overlay = None
    if args.overlay:
        if len(systems) > 1:
            raise UsageError(f"--overlay goes with one system; {len(systems)} Compose projects were found")
        text, problem = read_source(Path(args.overlay), None)
        if problem is not None:
            raise UsageError(problem.message)
        overlay = read_overlay(text, args.overlay)
    configs = None
    for files in systems:
        from ..cli import _configs

        configs = configs or _configs(args)
        anchor = Path(files[0][0]) if not files[0][0].startswith("<") else Path(".")
        settings = configs.settings_for(anchor)
        options = Options(timeout=args.timeout if args.timeout is not None else (settings.timeout or Options().timeout),
                          default_k=settings.k or Options().default_k)
        chosen = select if select is not None else (list(settings.select) if settings.select is not None else None)
        skip = list(dict.fromkeys([*settings.ignore, *ignore]))
        try:
            with file_deadline(options):  # reading hostile YAML counts against the time of the check
                imported = import_system(args.from_, files, zones, overlay)
        except CheckTimeout as exc:
            reports.append(FileReport(files[0][0], (unchecked(files[0][0], f"could not finish: {exc} ran out while the "
                                                             "manifests were imported"),), None,
                                      skipped="the input could not be imported"))
            continue
        reports.extend(check_imported(imported, overlay, options, chosen, skip))
    return reports, bool(problems) or any(r.id == "io-error" for rep in reports for r in rep.results)
