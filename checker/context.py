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

    @cached_property
    def policy(self) -> Policy:
        # The indexed policy: the reference Policy's exact decisions (tests/test_fastpolicy.py
        # keeps the reference as the oracle), fast enough for 100k components.
        from .engines.fastpolicy import FastPolicy

        return FastPolicy(self.topology)  # type: ignore[return-value]

    @cached_property
    def evaluator(self) -> Evaluator:
        return Evaluator(self.topology, self.policy)
