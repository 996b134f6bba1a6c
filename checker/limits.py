"""The limits topocheck enforces, and the helpers that enforce them.

Every limit is stated here once (``spec/LIMITS.md`` documents them for users).
Hitting one is a located result with id ``limit``, never a crash:

* **Input limits** (file size, number of components, clusters, requirements,
  rules and checks) reject the file before any check runs. The result is an
  error with status ``refuted``, like a syntax error: the file fails the run
  whatever ``--unknown-ok`` says, because nothing in it was checked.
* **Run limits** (the time of each file, the time of the whole run, memory,
  recursion depth) stop one check, or one file. A check stopped this way is
  ``unknown`` with the reason; ``unknown`` fails the run unless the user passes
  ``--unknown-ok``. A file stopped before its checks ran gets one ``limit``
  result with status ``unknown``: it fails the run even with ``--unknown-ok``,
  because nothing in it was checked.

Time: ``--timeout`` is the wall time of each file's whole work (reading,
parsing, resolving, every check) and ``--total-timeout`` the wall time of the
run; :func:`deadline` enforces both (nested) with ``SIGALRM``, each check's
solver gets what is left (:func:`time_left`), and with ``-j`` the main process
ends a worker that overruns its file's time by :data:`KILL_GRACE`. Memory:
``--max-memory`` caps the address space of the whole run, shared between the
main process and its workers (:func:`worker_memory`).

Nesting needs no counter of its own: the grammar allows blocks two deep at most
(``cluster { db { ... } }``) and the LALR parser keeps no recursion, so depth
is bounded by the grammar. The depth of *chains* (requirements, forwarding,
``replica of``) is bounded by the file's size and the component limit; an
engine that recurses too deep gives ``unknown`` (see :func:`run_limit_result`).

``k``: a failure scenario never holds more units than the file has, so checks
with a ``k`` parameter search :func:`effective_k` units, not ``k``. A huge
``k`` therefore costs what ``k = number of units`` costs, and the answer for it
is exact (or ``unknown`` when the search runs out of time).
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from dataclasses import dataclass
from typing import Iterator

from .model import Span
from .results import Result, Severity, Status

LIMIT_ID = "limit"

#: Largest topology file read, in bytes (checked before reading it).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Most components (cluster members included) in one file.
MAX_COMPONENTS = 250_000
#: Most clusters in one file.
MAX_CLUSTERS = 100_000
#: Most requirement statements in one file.
MAX_REQUIREMENTS = 250_000
#: Most allow/deny rules in one file.
MAX_RULES = 250_000
#: Most ``check`` lines in one file.
MAX_CHECKS = 1_000
#: Longest digit string read as a number (``k=``); Python refuses to convert
#: more than 4300 digits, and no count in a topology needs more than a few.
MAX_NUMBER_DIGITS = 18
#: Block nesting allowed by the grammar (``cluster { db { ... } }``); stated, not counted.
MAX_NESTING = 2
#: Most resolution errors (undefined and duplicate names, invalid attributes)
#: reported per file, the first in source order; the file's summary gives the count.
MAX_RESOLUTION_ERRORS = 100
#: Widest part of a source line the text format echoes under a finding; a longer
#: line is cut around the caret, so output stays proportional to the input.
MAX_ECHO_COLUMNS = 160
#: Largest configuration file read, in bytes.
MAX_CONFIG_BYTES = 1024 * 1024
#: Largest Mermaid diagram the Markdown format embeds, in characters (Mermaid's
#: own default ``maxTextSize``: GitHub draws nothing larger).
MAX_DIAGRAM_CHARACTERS = 50_000
#: Most components ``topocheck render`` draws: 20k components are 20 s and 570 MB of
#: layout (2-core machine, SVG), and no one reads such a drawing; 100k ran for minutes and
#: past 1.6 GB before it was stopped.
MAX_DIAGRAM_COMPONENTS = 20_000
#: Largest ``--timeout`` / ``--total-timeout`` / ``timeout`` accepted, in seconds (a day).
MAX_TIMEOUT = 86_400
#: Default memory ceiling of the command line, in MiB (``--max-memory``; 0 turns it off).
DEFAULT_MEMORY_MB = 4096
#: Smallest ``--max-memory`` accepted (other than 0), in MiB: below it not even
#: Python and the parser fit.
MIN_MEMORY_MB = 128
#: With ``-j``, each worker gets at least this much of ``--max-memory``; ``-j`` is
#: lowered until it does.
MIN_WORKER_MEMORY_MB = 512
#: The most of ``--max-memory`` the main process keeps while workers check files
#: (a quarter of the cap, up to this): it only collects the reports.
MAIN_MEMORY_MB = 512
#: With ``-j``, a worker still busy this long after its file's time ran out is
#: ended by the main process (native code can ignore the alarm), in seconds.
KILL_GRACE = 5.0


@dataclass(frozen=True)
class Limits:
    """Input limits; the defaults are the module constants (tests lower them)."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_components: int = MAX_COMPONENTS
    max_clusters: int = MAX_CLUSTERS
    max_requirements: int = MAX_REQUIREMENTS
    max_rules: int = MAX_RULES
    max_checks: int = MAX_CHECKS


DEFAULT_LIMITS = Limits()


def effective_k(k: int, n_units: int) -> int:
    """The size bound a ``k`` search really needs: ``min(k, n_units)``, at least 0.

    A failure scenario is a set of distinct units, so no scenario is larger than
    the number of units that can fail; searching "at most ``k``" for any
    ``k >= n_units`` is the same search as ``k = n_units``. Checks that take
    ``k`` call this before enumerating or encoding, so ``k=1000000`` is
    answered exactly, at the cost of ``k = n_units``.

    >>> effective_k(10**9, 5)
    5
    >>> effective_k(2, 5)
    2
    """
    return max(0, min(int(k), int(n_units)))


def limit_result(message: str, span: Span, hint: str | None = None) -> Result:
    """An input limit hit at ``span``: the file is rejected (refuted error)."""
    return Result(LIMIT_ID, Status.REFUTED, Severity.ERROR, message, span, "limit", hint=hint)


def run_limit_result(check_id: str, severity: Severity, reason: str, span: Span | None) -> Result:
    """A check stopped by a run limit: ``unknown`` with the reason, under the check's id."""
    return Result(check_id, Status.UNKNOWN, severity, f"could not finish: {reason}", span, LIMIT_ID)


def file_size_result(path: str, size: int, limits: Limits = DEFAULT_LIMITS) -> Result | None:
    """A ``limit`` result when a file of ``size`` bytes is over the size limit."""
    if size <= limits.max_file_bytes:
        return None
    return limit_result(
        f"the file is {size:,} bytes; the limit is {limits.max_file_bytes:,} bytes",
        Span.start_of(path),
        "split the topology into several files",
    )


def text_size_result(text: str, path: str, limits: Limits = DEFAULT_LIMITS) -> Result | None:
    """A ``limit`` result located at the line where ``text`` crosses the size limit."""
    if len(text) <= limits.max_file_bytes // 4:  # cheap: at most 4 bytes per character
        return None
    data_size = len(text.encode("utf-8", "surrogatepass"))
    if data_size <= limits.max_file_bytes:
        return None
    prefix = text.encode("utf-8", "surrogatepass")[: limits.max_file_bytes].decode("utf-8", "ignore")
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return limit_result(
        f"the file is {data_size:,} bytes; the limit is {limits.max_file_bytes:,} bytes (crossed here)",
        Span(path, line, column, line, column + 1),
        "split the topology into several files",
    )


def count_results(statements: list, path: str, limits: Limits = DEFAULT_LIMITS) -> Result | None:
    """A ``limit`` result when a parsed file declares too many things.

    Located at the first declaration over the limit. ``statements`` are the
    parser's statement records (:func:`checker.parser.parse`).
    """
    from .fastparse import Record
    from .parser import declarations

    caps = {
        "component": ("components", limits.max_components),
        "cluster": ("clusters", limits.max_clusters),
        "requirement": ("requirement statements", limits.max_requirements),
        "rule": ("rules", limits.max_rules),
        "check": ("check lines", limits.max_checks),
    }
    counts = dict.fromkeys(caps, 0)
    for stmt in statements:  # counted by tag first: spans are made only for a file over a limit
        tag = stmt[0]
        if tag in counts:
            counts[tag] += 1
            if tag == "cluster":
                counts["component"] += stmt.length(4) if isinstance(stmt, Record) else len(stmt[4])
    if all(counts[what] <= cap for what, (_, cap) in caps.items()):
        return None
    counts = dict.fromkeys(caps, 0)
    for what, span in declarations(statements, path):  # cluster members count as components
        counts[what] += 1
        label, cap = caps[what]
        if counts[what] > cap:
            return limit_result(
                f"more than {cap:,} {label} in one file (the limit)",
                span,
                "split the topology into several files",
            )
    return None


def number_too_long(value: str) -> bool:
    """True when a digit string is too long to be a sensible count (``k=``)."""
    return len(value.lstrip("0")) > MAX_NUMBER_DIGITS


class CheckTimeout(BaseException):
    """Raised where the work stood when its time ran out; ``str()`` names the limit.

    A ``BaseException``, like ``KeyboardInterrupt``, so that no ``except
    Exception`` on the way (a library's fallback, a parser's retry) swallows it.
    """


def parse_seconds(text: str | float) -> float:
    """A time limit in seconds: finite, above 0 and at most :data:`MAX_TIMEOUT`.

    Raises ``ValueError`` with the user's words otherwise (``nan`` would disable
    every comparison, ``inf`` and ``1e300`` overflow the alarm and the solver).
    """
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not (0 < value <= MAX_TIMEOUT):  # false for nan too
        raise ValueError(f"must be a number of seconds greater than 0 and at most {MAX_TIMEOUT:,}, not {text!r}")
    return value


def file_time_reason(timeout: float) -> str:
    """The limit of one file's work, as results name it."""
    return f"the file's time limit of {timeout:g} s (--timeout)"


def run_time_reason(total: float) -> str:
    """The limit of the whole run, as results name it."""
    return f"the run's time limit of {total:g} s (--total-timeout)"


# The deadlines in force in this process, innermost last: [when, reason, fired].
_deadlines: list[list] = []


def time_left() -> float | None:
    """Seconds until the nearest :func:`deadline` in force (negative once passed), or None."""
    if not _deadlines:
        return None
    return min(entry[0] for entry in _deadlines) - time.monotonic()


def expired_reason() -> str:
    """The reason of the nearest deadline (call when :func:`time_left` is not positive)."""
    return min(_deadlines)[1] if _deadlines else "the time limit"


def _arm() -> None:
    """Set the alarm for the nearest deadline that has not fired yet (each fires once)."""
    waiting = [entry[0] for entry in _deadlines if not entry[2]]
    left = min(waiting) - time.monotonic() if waiting else None
    signal.setitimer(signal.ITIMER_REAL, max(left, 1e-4) if left is not None else 0)


def _expired(signum: int, frame: object) -> None:
    now = time.monotonic()
    due = [entry for entry in _deadlines if not entry[2] and entry[0] <= now + 0.001]
    if not due:  # an early tick: wait for the real one
        _arm()
        return
    for entry in due:
        entry[2] = True
    raise CheckTimeout(min(due)[1])


@contextlib.contextmanager
def deadline(seconds: float | None, reason: str | None = None) -> Iterator[None]:
    """Raise :class:`CheckTimeout` (its text: ``reason``) in the body after
    ``seconds`` of wall time.

    Deadlines nest: the nearest one in force fires, with its own reason, and an
    inner one cannot extend an outer one. Uses ``SIGALRM``, so it only acts in
    the main thread of a process on a system that has it, and only when no
    other alarm handler is installed; elsewhere it does nothing (the solver's
    own timeout, which :func:`time_left` sets, still applies). Native code (a Z3
    ``check()``) is interrupted when it returns, which the solver's timeout bounds.
    """
    outermost = not _deadlines
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
        and (not outermost or (
            signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
            and signal.getitimer(signal.ITIMER_REAL)[0] == 0))
    )
    if not usable:
        yield
        return
    entry = [time.monotonic() + seconds, reason or f"the time limit of {seconds:g} s", False]
    previous = signal.signal(signal.SIGALRM, _expired) if outermost else None
    _deadlines.append(entry)
    try:
        _arm()
        yield
    finally:
        del _deadlines[next(i for i, e in enumerate(_deadlines) if e is entry)]
        if outermost:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        else:
            _arm()


def forget_deadlines() -> None:
    """Drop the deadlines inherited from the parent (a forked worker has no timer)."""
    _deadlines.clear()
    if hasattr(signal, "SIGALRM"):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


def main_memory_mb(total_mb: int) -> int:
    """The share of a ``--max-memory`` of ``total_mb`` the main process keeps
    while workers run: a quarter, at most :data:`MAIN_MEMORY_MB` (it holds the
    reports that come back)."""
    return min(total_mb // 4, MAIN_MEMORY_MB)


def worker_memory(total_mb: int, processes: int) -> tuple[int, int]:
    """How many workers a run capped at ``total_mb`` MiB may start (at most
    ``processes``), and the cap of each, so that the main process's share and
    the workers' caps add up to no more than ``total_mb``.

    >>> worker_memory(4096, 2)
    (2, 1792)
    >>> worker_memory(1200, 8)
    (1, 900)
    """
    available = total_mb - main_memory_mb(total_mb)
    count = max(1, min(processes, available // MIN_WORKER_MEMORY_MB))
    return count, available // count


def memory_cap_mb() -> int | None:
    """This process's address-space cap in MiB, or None when it has none."""
    try:
        import resource
    except ImportError:
        return None
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return None if soft == resource.RLIM_INFINITY else soft // (1024 * 1024)


def set_memory_cap(megabytes: int | None) -> None:
    """Set this process's soft address-space cap (None: back to the hard limit).

    Raising it again is allowed up to the hard limit, which is never touched.
    """
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = hard if megabytes is None else megabytes * 1024 * 1024
    if hard != resource.RLIM_INFINITY and (wanted == resource.RLIM_INFINITY or wanted > hard):
        wanted = hard
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def apply_memory_limit(megabytes: int) -> str | None:
    """Cap this process's address space at ``megabytes`` MiB (0: no cap).

    Returns a warning when the cap cannot be set (no ``resource`` module, or a
    lower hard limit already in place, which is then kept). Allocation past the
    cap raises ``MemoryError``, which the run reports as ``unknown``.
    """
    if megabytes <= 0:
        return None
    try:
        import resource
    except ImportError:
        return "memory limit not supported on this system"
    wanted = megabytes * 1024 * 1024
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY and hard < wanted:
            wanted = hard
        if soft != resource.RLIM_INFINITY and soft <= wanted:
            return None  # already as strict or stricter
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    except (ValueError, OSError) as exc:
        return f"could not set the memory limit: {exc}"
    return None
