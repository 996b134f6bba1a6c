"""The limits topocheck enforces, and the helpers that enforce them.

Every limit is stated here once (``spec/LIMITS.md`` documents them for users).
Hitting one is a located result with id ``limit``, never a crash:

* **Input limits** (file size, number of components, clusters, requirements,
  rules and checks) reject the file before any check runs. The result is an
  error with status ``refuted``, like a syntax error: the file fails the run
  whatever ``--unknown-ok`` says, because nothing in it was checked.
* **Run limits** (solver time, wall time, memory, recursion depth) stop one
  check. Its result is ``unknown`` with the reason; ``unknown`` fails the run
  unless the user passes ``--unknown-ok``.

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
import signal
import threading
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
#: Default memory ceiling of the command line, in MiB (``--max-memory``; 0 turns it off).
DEFAULT_MEMORY_MB = 4096
#: Extra wall time a check gets beyond its solver timeout before it is stopped:
#: ``timeout * WALL_FACTOR + WALL_GRACE`` seconds.
WALL_FACTOR = 1.5
WALL_GRACE = 5.0


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
    from .parser import declarations

    caps = {
        "component": ("components", limits.max_components),
        "cluster": ("clusters", limits.max_clusters),
        "requirement": ("requirement statements", limits.max_requirements),
        "rule": ("rules", limits.max_rules),
        "check": ("check lines", limits.max_checks),
    }
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


class CheckTimeout(Exception):
    """Raised inside a check that ran past its wall-time limit."""


def wall_limit(timeout: float) -> float:
    """The wall time a check may take when its solver may take ``timeout`` seconds."""
    return timeout * WALL_FACTOR + WALL_GRACE


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CheckTimeout` in the body after ``seconds`` of wall time.

    Uses ``SIGALRM``, so it only acts in the main thread of a process on a
    system that has it, and only when no other alarm handler is installed;
    elsewhere it does nothing (the solver's own timeout still applies).
    Native code (a Z3 ``check()``) is interrupted when it returns, which the
    solver's own timeout bounds.
    """
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not usable:
        yield
        return

    def _expired(signum: int, frame: object) -> None:
        raise CheckTimeout(f"the check ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
