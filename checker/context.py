"""What a check run shares: the model, options, and lazily built engines.

Engines that several checks use (the policy, the reference evaluator) are built
once per file here, so checks never redo each other's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .evaluator import Evaluator
from .model import Topology
from .policy import Policy

DEFAULT_TIMEOUT = 60.0

#: The key a check names in its ``ENGINES`` when it asks the policy's bare yes/no
#: answers (:meth:`~checker.policy.Policy.allowed`) that an earlier check asked before
#: it: not a cache entry but the policy's memo of them, forgotten (:meth:`Context.release`)
#: after the last check that names it (35 MB at 100k components).
ANSWERS_KEY = "policy.answers"


class InternalError(Exception):
    """A bug in topocheck, e.g. a counterexample the reference evaluator does not confirm.

    Never reported as a verdict: the CLI turns it into an ``internal-error`` result
    and exit status 2.
    """


@dataclass(frozen=True)
class Options:
    timeout: float = DEFAULT_TIMEOUT  # seconds of wall time for one file's whole work (each check's solver: what is left)
    default_k: int = 1
    deadline: float | None = None  # ``time.monotonic()`` by which the whole run ends (``--total-timeout``)
    total_timeout: float | None = None  # the ``--total-timeout`` that set ``deadline``, for messages


@dataclass
class Context:
    topology: Topology
    options: Options = field(default_factory=Options)
    cache: dict[str, Any] = field(default_factory=dict)
    #: the engine caches the run drops after the check now running (see :meth:`done_with`)
    last_use: frozenset[str] = frozenset()

    @cached_property
    def policy(self) -> Policy:
        # The indexed policy: the reference Policy's exact decisions (tests/test_fastpolicy.py
        # keeps the reference as the oracle), fast enough for 100k components.
        from .engines.fastpolicy import FastPolicy

        return FastPolicy(self.topology)  # type: ignore[return-value]

    def done_with(self, key: str) -> None:
        """Drop an engine cache in the middle of a check that is done with it, when no
        later check of the run reads it (it was to go right after this check: see
        :attr:`last_use`); else nothing. A check whose last part needs less than its
        first (the failure checks' replays after their scenarios) so frees the room."""
        if key in self.last_use:
            from .heap import release_free_memory

            self.release(key)
            release_free_memory()

    def release(self, key: str) -> None:
        """Drop one engine cache (:data:`ANSWERS_KEY`: the policy's memo of answers)."""
        self.cache.pop(key, None)
        if key == ANSWERS_KEY and "policy" in self.__dict__:
            self.policy.forget_answers()

    @cached_property
    def evaluator(self) -> Evaluator:
        return Evaluator(self.topology, self.policy)
