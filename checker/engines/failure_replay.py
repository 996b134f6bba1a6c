"""The reference evaluator, made affordable for replaying many counterexamples.

:class:`ReplayEvaluator` is :class:`checker.evaluator.Evaluator` unchanged in
meaning, with two costs removed: ``serving(failed)`` is memoised per scenario
(``explain`` recomputes it once per service otherwise), and allowed connections
are answered from the rule index of :mod:`checker.engines.connections`
(denied ones still go to the reference policy, whose deciding rule the
explanations quote). The index is tested against the reference policy.
"""

from __future__ import annotations

from ..evaluator import Evaluator
from ..model import Topology
from ..net import PortSet
from ..policy import Decision, Policy
from .connections import ConnectionIndex, connections

CACHE_KEY = "replay-evaluator"


class _IndexedPolicy(Policy):
    """The reference policy, answering allowed connections from the index."""

    def __init__(self, topology: Topology, index: ConnectionIndex, reference: Policy):
        super().__init__(topology)
        self._index = index
        self._reference = reference

    def allowed(self, source: str, destination: str, ports: PortSet) -> bool:
        return self._index.allowed(source, destination, ports)

    def connect(self, source: str, destination: str, ports: PortSet) -> Decision:
        if self._index.allowed(source, destination, ports):
            return Decision(True)
        return self._reference.connect(source, destination, ports)


class ReplayEvaluator(Evaluator):
    """The reference evaluator with per-scenario memoised serving values."""

    def __init__(self, topology: Topology, policy: Policy):
        super().__init__(topology, policy)
        self._serving: dict = {}

    def serving(self, failed):
        key = frozenset(failed)
        hit = self._serving.get(key)
        if hit is None:
            if len(self._serving) > 64:
                self._serving.clear()
            hit = self._serving[key] = super().serving(key)
        return hit


def replay_evaluator(context) -> ReplayEvaluator:
    """The file's replay evaluator, built once (``context.cache``)."""
    evaluator = context.cache.get(CACHE_KEY)
    if evaluator is None:
        policy = _IndexedPolicy(context.topology, connections(context), context.policy)
        evaluator = context.cache[CACHE_KEY] = ReplayEvaluator(context.topology, policy)
    return evaluator
