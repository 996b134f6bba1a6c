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
* past the run's deadline no file is started (``not_started(job)``);
* while the main process draws progress on a terminal (:mod:`checker.progress`),
  a worker names each check it starts, over its result pipe, before the result.

Workers are forked (POSIX), and talk to the main process over two pipes each:
jobs one way, results the other, each a length-prefixed pickle of our own
objects. A worker's standard error goes to a temporary file, read when it dies
to tell a lack of memory from a crash, so no worker traceback reaches the user.
:func:`available` is False where there is no ``fork``: files are then checked
in the main process.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from . import limits, progress

#: A worker's exit status when it ran out of memory outside a file's work.
_OUT_OF_MEMORY_EXIT = 75
#: A worker's exit status after an unexpected error of its own.
_BROKEN_EXIT = 70
_LENGTH = struct.Struct("!Q")


def available() -> bool:
    """Whether this system can run workers (it has ``fork``)."""
    return hasattr(os, "fork")


@dataclass(frozen=True)
class _Progress:
    """A worker's word on its current job (:mod:`checker.progress`), sent before its result."""

    event: str
    payload: str | None


@dataclass
class _Worker:
    pid: int
    jobs: int  # the pipe the main process writes jobs to
    results: int  # the pipe it reads results from
    stderr: Any
    job: int | None = None
    started: float = 0.0
    limit: float | None = None
    reason: str = ""
    killed: bool = False
    status: int | None = None  # from waitpid, once it has ended


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
    results: list[Any] = [None] * len(jobs)
    workers: list[_Worker] = []
    following = 0
    failures = 0
    lowered = False
    try:
        for _ in range(count):
            workers.append(_start(work, each_mb, workers))
        if memory_mb is not None:  # the main process keeps its share while the workers run
            limits.set_memory_cap(limits.main_memory_mb(memory_mb))
            lowered = True
        while True:
            now = time.monotonic()
            out_of_time = deadline is not None and now >= deadline
            for worker in list(workers):
                if worker.job is not None or following >= len(jobs) or out_of_time:
                    continue
                try:
                    _send(worker.jobs, (following, jobs[following]))
                except OSError:  # it ended while idle: a new worker takes the job
                    _retire(worker, workers)
                    workers.append(_start(work, each_mb, workers))
                    continue
                worker.job, worker.started = following, now
                progress.file_started(following)
                worker.limit, worker.reason = time_limit(jobs[following]) or (None, "")
                following += 1
            busy = [w for w in workers if w.job is not None]
            if not busy:
                if following >= len(jobs) or out_of_time:
                    break
                failures += 1
                if failures > 3:  # workers die before taking a job: stop starting them
                    raise OSError("the worker processes end as soon as they start")
                continue
            failures = 0
            ends = [w.started + w.limit + limits.KILL_GRACE for w in busy if w.limit is not None]
            timeout = max(0.0, min(ends) - time.monotonic()) if ends else None
            ready, _, _ = select.select([w.results for w in busy], [], [], timeout)
            for worker in busy:
                if worker.results in ready:
                    answer = _receive(worker.results)
                    if isinstance(answer, _Progress):  # not the result yet: which check runs
                        if answer.event == "check" and answer.payload is not None:
                            progress.check_started(answer.payload, worker.job)
                        continue
                    if answer is not None:
                        index, result = answer
                        results[index] = result
                        progress.file_done(index)
                        worker.job = None
                        continue
                elif worker.limit is None or time.monotonic() < worker.started + worker.limit + limits.KILL_GRACE:
                    continue
                else:
                    worker.killed = True
                    _kill(worker)
                _end(worker)
                kind, detail = _ending(worker)
                results[worker.job] = lost(jobs[worker.job], kind, detail)
                progress.file_done(worker.job)
                worker.job = None
                _retire(worker, workers)
                if following < len(jobs):
                    workers.append(_start(work, each_mb, workers))
        for index in range(following, len(jobs)):
            results[index] = not_started(jobs[index]) if not_started is not None else None
        return results
    finally:
        for worker in list(workers):
            if worker.job is not None:
                _kill(worker)
            _retire(worker, workers)
        if lowered:
            limits.set_memory_cap(memory_mb)


def _start(work: Callable[[Any], Any], memory_mb: int | None, others: list[_Worker]) -> _Worker:
    job_read, job_write = os.pipe()
    result_read, result_write = os.pipe()
    stderr = tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:  # the worker
        status = _BROKEN_EXIT
        try:
            os.close(job_write)
            os.close(result_read)
            for other in others:  # so each worker sees the end of its own pipes only
                for fd in (other.jobs, other.results):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            os.dup2(stderr.fileno(), 2)
            status = _serve(job_read, result_write, work, memory_mb)
        finally:
            os._exit(status)
    os.close(job_read)
    os.close(result_write)
    return _Worker(pid, job_write, result_read, stderr)


def _serve(jobs: int, results: int, work: Callable[[Any], Any], memory_mb: int | None) -> int:
    """A worker: take jobs until the main process closes the pipe; its exit status."""
    try:
        limits.forget_deadlines()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
        if memory_mb is not None:
            limits.set_memory_cap(memory_mb)
        if progress.active():  # the main process draws progress: tell it which check runs
            progress.forward_to(lambda event, payload: _send(results, _Progress(event, payload)))
        while True:
            message = _receive(jobs)
            if message is None:
                return 0
            index, job = message
            result = work(job)
            _send(results, (index, result))
            del result
    except MemoryError:
        return _OUT_OF_MEMORY_EXIT
    except OSError:
        return 0  # the main process went away
    except BaseException:  # noqa: BLE001 - a worker never prints a traceback
        return _BROKEN_EXIT


def _send(fd: int, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(fd: int) -> Any:
    """The next message on ``fd``, or None at its end (the other side closed or died)."""
    header = _read_exactly(fd, _LENGTH.size)
    if header is None:
        return None
    data = _read_exactly(fd, _LENGTH.unpack(header)[0])
    return None if data is None else pickle.loads(data)  # noqa: S301 - from our own worker


def _retire(worker: _Worker, workers: list[_Worker]) -> None:
    """End and reap a worker and forget it."""
    _end(worker)
    worker.stderr.close()
    workers.remove(worker)


def _kill(worker: _Worker) -> None:
    try:
        os.kill(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _end(worker: _Worker) -> None:
    """Close the worker's pipes (an idle worker then exits) and reap it."""
    if worker.status is not None:
        return
    for fd in (worker.jobs, worker.results):
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        worker.status = os.waitpid(worker.pid, 0)[1]
    except ChildProcessError:
        worker.status = 0


def _ending(worker: _Worker) -> tuple[str, str]:
    """Why a worker ended: the kind of loss and how it ended."""
    status = worker.status or 0
    if worker.killed:
        return "time", worker.reason
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number == signal.SIGABRT and b"Memory" in _tail(worker.stderr):
            return "memory", "out of memory"
        if number == getattr(signal, "SIGKILL", 9):
            return "killed", f"signal {number}"
        return "crash", f"was stopped by signal {number} ({name})"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    if code == _OUT_OF_MEMORY_EXIT:
        return "memory", "out of memory"
    return "crash", f"stopped with exit status {code}"


def _tail(stderr: Any) -> bytes:
    try:
        stderr.seek(0, os.SEEK_END)
        size = stderr.tell()
        stderr.seek(max(0, size - 4096))
        return stderr.read()
    except OSError:
        return b""
