"""The two versions of each file ``topocheck diff`` compares.

* two files: one pair;
* two folders: the ``*.topo`` files under each (as ``topocheck check`` finds
  them), paired by their path relative to the folder;
* ``--base GITREF [PATH ...]``: the working tree's files under the paths, and
  the same paths in the revision. The revision is resolved once to a commit
  (``git rev-parse --verify``), listed with ``git ls-tree`` and each file read
  by its blob id with ``git cat-file``: no shell, every name an argument of its
  own, so no name or revision can be read as an option or a command.

Files left unpaired on both sides are renamed when their texts are similar
(at least half the same, as git's default rename threshold), else added or
removed.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Sequence

from ..limits import DEFAULT_LIMITS, file_size_result
from ..results import Result

RENAME_SIMILARITY = 0.5
#: Rename detection compares every unpaired old file with every unpaired new one; past this, it stops.
RENAME_MAX_PAIRS = 2500


class SourceError(Exception):
    """The versions cannot be found: a usage error (exit status 2)."""


@dataclass(frozen=True)
class Side:
    """One version of one file."""

    key: str  # the path that pairs versions: relative, POSIX
    path: str  # as shown
    text: str | None
    problem: Result | None = None  # why the text could not be read
    local: Path | None = None  # the file on disk, whose configuration applies


@dataclass(frozen=True)
class Pair:
    old: Side | None
    new: Side | None
    renamed: bool = False

    @property
    def key(self) -> str:
        return (self.new or self.old).key  # type: ignore[union-attr]


@dataclass(frozen=True)
class Versions:
    pairs: list[Pair]
    old_label: str
    new_label: str


def _read(path: Path, key: str) -> Side:
    from ..cli import read_source

    text, problem = read_source(path)
    return Side(key, str(path), text, problem, path)


def from_paths(old: str, new: str) -> Versions:
    """Two files, or two folders."""
    from ..cli import collect_files

    old_path, new_path = Path(old), Path(new)
    for raw, path in ((old, old_path), (new, new_path)):
        if not path.exists():
            raise SourceError(f"no such file or folder: '{raw}'")
    if old_path.is_dir() != new_path.is_dir():
        raise SourceError(f"cannot compare a file with a folder: '{old}' and '{new}' (give two files or two folders)")
    if not new_path.is_dir():
        key = PurePosixPath(new_path.as_posix()).as_posix()
        return Versions([Pair(_read(old_path, key), _read(new_path, key))], old, new)
    sides: list[list[Side]] = []
    for folder in (old_path, new_path):
        files, problems = collect_files([str(folder)])
        if problems:
            raise SourceError(problems[0])
        sides.append([_read(f, f.relative_to(folder).as_posix()) for f in files])
    return Versions(pair_sides(sides[0], sides[1]), old, new)


def pair_sides(old: Sequence[Side], new: Sequence[Side]) -> list[Pair]:
    """Pair by key; then pair what is left by similar text (renames); the rest is added or removed.
    In the order of the new side, removed files last."""
    by_key = {side.key: side for side in old}
    pairs: list[Pair] = []
    lonely_new: list[Side] = []
    for side in new:
        if side.key in by_key:
            pairs.append(Pair(by_key.pop(side.key), side))
        else:
            lonely_new.append(side)
    lonely_old = list(by_key.values())
    renames = _renames(lonely_old, lonely_new)
    taken_old = {id(o) for o, _ in renames.values()}
    for side in lonely_new:
        if id(side) in renames:
            pairs.append(Pair(renames[id(side)][0], side, renamed=True))
        else:
            pairs.append(Pair(None, side))
    pairs.extend(Pair(side, None) for side in lonely_old if id(side) not in taken_old)
    return pairs


def _renames(old: list[Side], new: list[Side]) -> dict[int, tuple[Side, float]]:
    """New side's id -> (old side, similarity), best matches first, each side used once."""
    if not old or not new or len(old) * len(new) > RENAME_MAX_PAIRS:
        return {}
    scored: list[tuple[float, int, int]] = []
    for i, a in enumerate(old):
        for j, b in enumerate(new):
            if a.text is None or b.text is None:
                continue
            matcher = difflib.SequenceMatcher(None, a.text.splitlines(), b.text.splitlines(), autojunk=False)
            if matcher.real_quick_ratio() < RENAME_SIMILARITY or matcher.quick_ratio() < RENAME_SIMILARITY:
                continue
            ratio = matcher.ratio()
            if ratio >= RENAME_SIMILARITY:
                scored.append((ratio, i, j))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_old: set[int] = set()
    out: dict[int, tuple[Side, float]] = {}
    for ratio, i, j in scored:
        if i in used_old or id(new[j]) in out:
            continue
        used_old.add(i)
        out[id(new[j])] = (old[i], ratio)
    return out


# -- git ----------------------------------------------------------------------------------


def _git(git: str, args: Sequence[str], cwd: Path) -> bytes:
    """Run git with ``args`` (no shell); its output, or :class:`SourceError` with its message."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    try:
        done = subprocess.run([git, *args], cwd=str(cwd), stdin=subprocess.DEVNULL, capture_output=True,
                              env=env, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"git failed: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(f"git {args[0]} failed: {message[-1] if message else f'status {done.returncode}'}")
    return done.stdout


def from_git(ref: str, paths: Sequence[str], cwd: Path | None = None) -> Versions:
    """The working tree's files under ``paths`` against the same paths in revision ``ref``."""
    from ..cli import collect_files, decode_source

    cwd = Path.cwd() if cwd is None else cwd
    git = shutil.which("git")
    if git is None:
        raise SourceError("--base needs git, which was not found on PATH")
    if not ref or ref.startswith("-") or any(ord(ch) < 32 or ch == "\x7f" for ch in ref):
        raise SourceError(f"not a git revision: {ref!r}")
    try:
        root = Path(_git(git, ["rev-parse", "--show-toplevel"], cwd).decode("utf-8", "surrogateescape").strip())
    except SourceError as exc:
        raise SourceError(f"--base needs a git repository: {exc}") from None
    root = root.resolve()
    try:
        commit = _git(git, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], root)
    except SourceError:
        raise SourceError(f"no such git revision: '{ref}'") from None
    commit_id = commit.decode("ascii", "replace").strip()

    specs: list[str] = []
    wanted = list(paths) or ["."]
    for raw in wanted:
        absolute = (cwd / raw).resolve()
        try:
            relative = absolute.relative_to(root).as_posix()
        except ValueError:
            raise SourceError(f"'{raw}' is outside the git repository at '{root}'") from None
        specs.append(relative)
    listing = _git(git, ["--literal-pathspecs", "ls-tree", "-r", "-z", "-l", "--full-tree", commit_id, "--",
                         *specs], root)
    old_sides: list[Side] = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, name_bytes = entry.partition(b"\t")
        fields = meta.split()
        if len(fields) < 4 or fields[1] != b"blob":
            continue
        name = name_bytes.decode("utf-8", "surrogateescape")
        parts = PurePosixPath(name).parts
        named = name in specs  # a file named on the command line is compared whatever its name
        if not named and (not name.endswith(".topo") or any(part.startswith(".") for part in parts[:-1])):
            continue
        display = f"{ref}:{name}"
        size = int(fields[3]) if fields[3].isdigit() else 0
        too_big = file_size_result(display, size, DEFAULT_LIMITS)
        if too_big is not None:
            old_sides.append(Side(name, display, None, too_big))
            continue
        data = _git(git, ["cat-file", "blob", fields[2].decode("ascii")], root)
        text, problem = decode_source(data, display)
        old_sides.append(Side(name, display, text, problem))

    present = [raw for raw in wanted if (cwd / raw).exists()]
    for raw, spec in zip(wanted, specs):
        if raw in present or spec == ".":
            continue
        if not any(side.key == spec or side.key.startswith(spec + "/") for side in old_sides):
            raise SourceError(f"no such file or folder in the working tree or in '{ref}': '{raw}'")
    files, problems = collect_files(present) if present else ([], [])
    if problems:
        raise SourceError(problems[0])
    here = cwd.resolve()
    new_sides = [_read(f, _repository_path(here / f, root, f)) for f in files]
    return Versions(pair_sides(old_sides, new_sides), ref, "the working tree")


def _repository_path(path: Path, root: Path, shown: Path) -> str:
    """A working-tree file's path from the repository's top (its own name kept, links not followed)."""
    relative = os.path.relpath(os.path.normpath(path), root)
    return PurePosixPath(*Path(relative).parts).as_posix() if not relative.startswith("..") else shown.as_posix()
