"""Progress on a terminal while ``topocheck check`` works: files done, the file and
check under way, redrawn in place on standard error and cleared at the end.

It appears only when standard error is a terminal, the ``CI`` environment variable
is unset (CI logs keep no carriage returns) and ``TERM`` is not ``dumb``, and only
once the run has taken :data:`DELAY` seconds (``TOPOCHECK_PROGRESS_AFTER`` sets
another), so quick runs print nothing extra. Nothing of it reaches standard output,
a file or a pipe.

The work reports what it does through this module's functions: the CLI marks files
started and done, :func:`checker.api.check_topology` names each check as it starts
(:func:`check_started`). In a worker process (:mod:`checker.pool`) the check names
travel to the main process over the worker's result pipe (:func:`forward_to`).
Without a display every function here returns at once.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence, TextIO

DELAY = 2.0  # seconds of work before progress is shown
REDRAW = 0.1  # seconds between redraws
_CLEAR = "\r\x1b[K"

# (event, job index or None for "this process's current job", payload)
Listener = Callable[[str, "int | None", "str | None"], None]
_listener: Listener | None = None


def wanted(stream: TextIO) -> bool:
    """Whether progress may be drawn on ``stream``: a terminal, outside CI."""
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return terminal and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"


def delay() -> float:
    try:
        return max(0.0, float(os.environ.get("TOPOCHECK_PROGRESS_AFTER", DELAY)))
    except ValueError:
        return DELAY


def active() -> bool:
    """Whether anything listens (a display here, or a main process that draws one)."""
    return _listener is not None


def file_started(index: int) -> None:
    if _listener is not None:
        _listener("file", index, None)


def file_done(index: int) -> None:
    if _listener is not None:
        _listener("done", index, None)


def check_started(check_id: str, index: int | None = None) -> None:
    if _listener is not None:
        _listener("check", index, check_id)


def forward_to(send: Callable[[str, str | None], None] | None) -> None:
    """In a worker: pass check names on with ``send(event, payload)`` (None: stop)."""
    global _listener
    _listener = None if send is None else (lambda event, _index, payload: send(event, payload))


class Display:
    """The progress line: ``topocheck: 3/40 files; models/x.topo: no-spof (4s)``."""

    def __init__(self, stream: TextIO, paths: Sequence[str], after: float):
        self.stream = stream
        self.paths = list(paths)
        self.after = after
        self.started = time.monotonic()
        self.done = 0
        self.running: dict[int, tuple[float, str | None]] = {}  # job -> (started, current check)
        self.current: int | None = None  # the job this process checks itself
        self.lock = threading.Lock()
        self.shown = False
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="topocheck-progress", daemon=True)

    def event(self, kind: str, index: int | None, payload: str | None) -> None:
        with self.lock:
            if index is None:
                index = self.current
            if index is None:
                return
            if kind == "file":
                self.running[index] = (time.monotonic(), None)
                self.current = index
            elif kind == "done":
                if self.running.pop(index, None) is not None:
                    self.done += 1
            elif kind == "check" and index in self.running:
                self.running[index] = (self.running[index][0], payload)

    def line(self, now: float) -> str:
        """The text of the progress line at ``now``."""
        with self.lock:
            text = f"topocheck: {self.done}/{len(self.paths)} files"
            if self.running:  # the file at work longest
                index, (since, check) = min(self.running.items(), key=lambda item: (item[1][0], item[0]))
                text += f"; {self.paths[index]}{': ' + check if check else ''} ({int(now - since)}s)"
                if len(self.running) > 1:
                    text += f", {len(self.running) - 1} more at work"
        return text

    def _loop(self) -> None:
        while not self.stop.wait(REDRAW):
            now = time.monotonic()
            if now - self.started < self.after:
                continue
            self._write(_CLEAR + self.line(now)[: max(10, self.width() - 1)])
            self.shown = True

    def width(self) -> int:
        """The columns of the terminal drawn on (the line never wraps)."""
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 80
        except (AttributeError, OSError, ValueError):
            return shutil.get_terminal_size((80, 24)).columns

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.stop.set()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        if self.shown:
            self._write(_CLEAR)


@contextmanager
def showing(stream: TextIO, paths: Sequence[str]) -> Iterator[Display | None]:
    """Draw progress on ``stream`` while the block runs, when :func:`wanted`; the line
    is cleared when the block ends, whatever way it ends."""
    global _listener
    if not wanted(stream) or not paths:
        yield None
        return
    display = Display(stream, paths, delay())
    _listener = display.event
    display.thread.start()
    try:
        yield display
    finally:
        _listener = None
        display.close()
