"""Checking files in worker processes, each file's loss its own.

``topocheck check`` gives each file to a worker process when it runs files in
parallel (``-j``) or under a memory cap (``--max-memory``, on by default), so
that whatever one file does to its process (run out of memory, be killed by the
kernel, crash in native code, ignore its time limit) costs that file's report
and nothing else:

* jobs go one at a time to the next free worker; the results come back in the
  order of the jobs, so the output is the same as in one process;
* with a memory cap, the main process keeps its share and each worker is capped
  at an equal part of the rest (:func:`checker.limits.worker_memory`), so the
  run as a whole stays under the cap; fewer workers start if the cap is small;
* a worker that dies takes only its current file: the file gets the result
  ``lost(job, kind, detail)`` builds, and a new worker takes the next file;
* a worker still busy ``limits.KILL_GRACE`` seconds after its file's time ran
  out is ended;
* past the run's deadline no file is started (``not_started(job)``).

A worker's standard error goes to a temporary file, read when it dies to tell a
lack of memory from a crash, so no worker traceback reaches the user.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any, Callable, Sequence

from . import limits

#: A worker's exit status when it ran out of memory outside a file's work.
_OUT_OF_MEMORY_EXIT = 75
#: A worker's exit status after an unexpected error of its own.
_BROKEN_EXIT = 70


@dataclass
class _Worker:
    process: Any
    conn: Any
    stderr: Any
    job: int | None = None
    started: float = 0.0
    limit: float | None = None
    reason: str = ""
    killed: bool = False
    done: bool = field(default=False)


def run(
    jobs: Sequence[Any],
    work: Callable[[Any], Any],
    processes: int,
    *,
    memory_mb: int | None,
    time_limit: Callable[[Any], tuple[float, str] | None],
    lost: Callable[[Any, str, str], Any],
    deadline: float | None = None,
    not_started: Callable[[Any], Any] | None = None,
) -> list[Any]:
    """``[work(job) for job in jobs]``, computed in up to ``processes`` workers.

    ``time_limit(job)`` is, when the job starts, the seconds it may take and
    the name of that limit (None: no limit); a worker over it by ``KILL_GRACE``
    is ended. ``lost(job, kind, detail)`` is the result of a job whose worker
    died: ``kind`` is ``"time"`` (ended for time; ``detail`` is the limit's
    name), ``"memory"`` (out of memory), ``"killed"`` (by a signal it did not
    choose, SIGKILL most often the kernel's out-of-memory killer; ``detail``
    names it) or ``"crash"`` (``detail`` says how it ended). ``memory_mb`` is
    the run's cap (None: none).
    """
    count = max(1, min(processes, len(jobs)))
    each_mb = None
    if memory_mb is not None:
        count, each_mb = limits.worker_memory(memory_mb, count)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    results: list[Any] = [None] * len(jobs)
    workers: list[_Worker] = []
    following = 0

    def start() -> _Worker:
        parent_end, child_end = context.Pipe()
        stderr = tempfile.TemporaryFile()
        process = context.Process(target=_serve, args=(child_end, work, each_mb, stderr.fileno()), daemon=True)
        process.start()
        child_end.close()
        worker = _Worker(process, parent_end, stderr)
        workers.append(worker)
        return worker

    try:
        for _ in range(count):
            start()
        if memory_mb is not None:  # the main process keeps its share while the workers run
            limits.set_memory_cap(limits.main_memory_mb(memory_mb))
        while True:
            now = time.monotonic()
            out_of_time = deadline is not None and now >= deadline
            for worker in workers:
                if worker.done or worker.job is not None or following >= len(jobs) or out_of_time:
                    continue
                worker.conn.send((following, jobs[following]))
                worker.job, worker.started = following, now
                worker.limit, worker.reason = time_limit(jobs[following]) or (None, "")
                following += 1
            busy = [w for w in workers if w.job is not None]
            if not busy:
                break
            ends = [w.started + w.limit + limits.KILL_GRACE for w in busy if w.limit is not None]
            timeout = max(0.0, min(ends) - time.monotonic()) if ends else None
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
            for worker in busy:
                if _collect(worker, results):
                    continue
                if worker.process.is_alive():
                    if worker.limit is None or time.monotonic() < worker.started + worker.limit + limits.KILL_GRACE:
                        continue
                    worker.killed = True
                    worker.process.kill()
                worker.process.join()
                if _collect(worker, results):  # it answered just before it ended
                    continue
                kind, detail = _ending(worker)
                results[worker.job] = lost(jobs[worker.job], kind, detail)
                worker.job = None
                _retire(worker)
                if following < len(jobs):
                    start()
        for index in range(following, len(jobs)):
            results[index] = not_started(jobs[index]) if not_started is not None else None
        return results
    finally:
        for worker in workers:
            _retire(worker, politely=True)
        if memory_mb is not None:
            limits.set_memory_cap(memory_mb)


def _collect(worker: _Worker, results: list[Any]) -> bool:
    """Take the worker's answer if it sent one; True when it did."""
    try:
        if not worker.conn.poll():
            return False
        index, result = worker.conn.recv()
    except (EOFError, OSError):
        return False
    results[index] = result
    worker.job = None
    return True


def _ending(worker: _Worker) -> tuple[str, str]:
    """Why a worker ended: the kind of loss and how it ended."""
    code = worker.process.exitcode
    if worker.killed:
        return "time", worker.reason
    if code == _OUT_OF_MEMORY_EXIT:
        return "memory", "out of memory"
    if code is not None and code < 0:
        number = -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number == signal.SIGABRT and b"Memory" in _tail(worker.stderr):
            return "memory", "out of memory"
        if number == getattr(signal, "SIGKILL", 9):
            return "killed", f"signal {number}"
        return "crash", f"was stopped by signal {number} ({name})"
    return "crash", f"stopped with exit status {code}"


def _tail(stderr: Any) -> bytes:
    try:
        stderr.seek(0, os.SEEK_END)
        size = stderr.tell()
        stderr.seek(max(0, size - 4096))
        return stderr.read()
    except OSError:
        return b""


def _retire(worker: _Worker, politely: bool = False) -> None:
    if worker.done:
        return
    worker.done = True
    if politely and worker.process.is_alive() and worker.job is None:
        try:
            worker.conn.send(None)
        except OSError:
            pass
        worker.process.join(timeout=2)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join()
    worker.conn.close()
    worker.stderr.close()


def _serve(conn: Any, work: Callable[[Any], Any], memory_mb: int | None, stderr_fd: int) -> None:
    """A worker: take jobs until told to stop (None) or the main process is gone."""
    try:
        try:
            os.dup2(stderr_fd, 2)  # inherited with fork; elsewhere the worker keeps the main process's
        except OSError:
            pass
        limits.forget_deadlines()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
        if memory_mb is not None:
            limits.set_memory_cap(memory_mb)
        parent = os.getppid()
        while True:
            if not conn.poll(0.5):
                if os.getppid() != parent:
                    return
                continue
            message = conn.recv()
            if message is None:
                return
            index, job = message
            conn.send((index, work(job)))
    except MemoryError:
        os._exit(_OUT_OF_MEMORY_EXIT)
    except (EOFError, OSError):
        os._exit(0)  # the main process went away
    except BaseException:  # noqa: BLE001 - a worker never prints a traceback
        os._exit(_BROKEN_EXIT)
