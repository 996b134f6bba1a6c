"""Reading and writing files when the tree being checked is untrusted.

In CI the folder topocheck checks is a pull request from anyone, so a path in it
may be a symbolic link to a secret (``/proc/self/environ``), a FIFO that never
answers, a folder nested thousands deep, or the name of a file the report would
overwrite. The command line (:mod:`checker.cli`) reads and writes through these
helpers only:

* :func:`walk` finds ``*.topo`` files without recursion and without following
  links to folders;
* :func:`leaves` says when a link takes a file outside the folder being checked
  (the command line refuses it unless ``--allow-outside-symlinks``);
* :func:`read_regular` opens without blocking, reads regular files only, and
  never more than a limit, whatever the file claims its size is;
* :func:`write_atomically` writes a report or a formatted file through a
  temporary file and a rename: a reader sees the old content or the new one,
  never a part, and a failed write leaves the old content.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Callable, Iterable, TextIO


class NotRegular(OSError):
    """A path that is not a regular file (a folder, FIFO, device or socket)."""


class TooLarge(Exception):
    """A file over the size limit; ``size`` is its size in bytes (as far as it was read)."""

    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


def walk(folder: Path, problem: Callable[[str], None], suffixes: tuple[str, ...] = (".topo",)) -> list[Path]:
    """Every file below ``folder`` whose name ends in one of ``suffixes`` (``*.topo``),
    sorted folder by folder; hidden folders and links to folders are skipped, and a
    folder reached twice is read once. Iterative, so any depth the file system allows works."""
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    pending = [str(folder)]
    while pending:
        current = pending.pop()
        try:
            info = os.stat(current)
            with os.scandir(current) as entries:
                listed = sorted(entries, key=lambda entry: entry.name)
        except OSError as exc:
            problem(f"cannot read folder '{current}': {exc.strerror}")
            continue
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        folders = []
        for entry in listed:
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_folder = False
            if is_folder:
                if not entry.name.startswith("."):
                    folders.append(entry.path)
            elif entry.name.endswith(suffixes):
                found.append(Path(entry.path))
        pending.extend(reversed(folders))  # depth first, in name order
    return sorted(found, key=lambda path: path.parts)


def leaves(path: Path, folder: Path) -> str | None:
    """Where ``path`` really is, when links take it outside ``folder``; else None."""
    real = os.path.realpath(path)
    base = os.path.realpath(folder)
    if real == base or real.startswith(base.rstrip(os.sep) + os.sep):
        return None
    return real


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The content of a regular file of at most ``max_bytes`` bytes. Opened without
    blocking, so a FIFO never hangs the run; raises :class:`NotRegular` for anything
    but a regular file and :class:`TooLarge` past the limit, whatever size the file
    claims (``/proc`` files claim 0): at most ``max_bytes + 1`` bytes are read."""
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise NotRegular(0, f"it is {what}")
        if info.st_size > max_bytes:
            raise TooLarge(info.st_size)
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(handle, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise TooLarge(size)
        return b"".join(chunks)
    finally:
        os.close(handle)


def _write_text(handle: TextIO, text: str) -> None:
    handle.write(text)


def write_atomically(path: Path, content: str | Iterable[str]) -> None:
    """Replace ``path`` with ``content`` (a text, or its pieces, written as they
    come) so a reader never sees half a file.

    A link is followed: its target is replaced and the link kept. The file keeps
    its permissions (a new one gets the usual ones, after the umask).
    """
    target = Path(os.path.realpath(path)) if os.path.islink(path) else path
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(target.parent))
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            for piece in (content,) if isinstance(content, str) else content:
                _write_text(out, piece)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through links too); False when either is missing."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
