"""Static connections between components: the booleans the serving equations read.

The reference :meth:`checker.policy.Policy.connect` scans every rule for every
connection, which is O(rules) per question and too slow on large files. The
serving equations only ever ask "may A open a connection to B on these ports?"
for a fixed, finite set of pairs, and the answer never depends on failures, so
each is answered once, by the file's indexed policy
(:class:`checker.engines.fastpolicy.FastPolicy`: every rule filed under the
packet ends it can match, a question reading the rules filed under both of its
ends in file order), whose cache every engine shares.

Shared through ``context.cache["connections"]``, with the memoised port-set
algebra the compiled circuit uses.
"""

from __future__ import annotations

from ..model import Topology
from ..net import PortSet
from ..policy import Policy

CACHE_KEY = "connections"


class ConnectionIndex:
    """``allowed(source, destination, ports)`` with the reference policy's meaning.

    ``source`` is a component name or :data:`checker.policy.INTERNET`. The answers
    are the indexed policy's (:meth:`checker.engines.fastpolicy.FastPolicy.allowed`,
    one index and one cache of booleans for every engine of the file); ``policy``
    is the file's policy, or the reference one (then an index of its rules is built).
    """

    def __init__(self, topology: Topology, policy: Policy):
        from .fastpolicy import FastPolicy

        self.topology = topology
        self.policy = policy if isinstance(policy, FastPolicy) else FastPolicy(topology)
        self.open = not topology.has_policy
        self.rules = topology.rules
        self.ports = PortAlgebra()
        self.allowed = self.policy.allowed


class PortAlgebra:
    """``&`` and ``-`` of port sets, memoised: a file has a handful of distinct port
    sets, asked about hundreds of thousands of times. Operands are keyed by identity
    (kept alive here, so identities stay valid) and results are interned, so a
    repeated question costs one dictionary probe instead of building ranges."""

    def __init__(self) -> None:
        self._intern: dict[PortSet, PortSet] = {}
        self._memo: dict[tuple[int, int, int], tuple[PortSet, PortSet, PortSet]] = {}

    def meet(self, a: PortSet, b: PortSet) -> PortSet:
        return self._op(0, a, b)

    def minus(self, a: PortSet, b: PortSet) -> PortSet:
        return self._op(1, a, b)

    def _op(self, op: int, a: PortSet, b: PortSet) -> PortSet:
        key = (op, id(a), id(b))
        hit = self._memo.get(key)
        if hit is not None:
            return hit[2]
        result = (a & b) if op == 0 else (a - b)
        result = self._intern.setdefault(result, result)
        self._memo[key] = (a, b, result)
        return result


def connections(context) -> ConnectionIndex:
    """The file's connection index, built once and shared through ``context.cache``."""
    index = context.cache.get(CACHE_KEY)
    if not isinstance(index, ConnectionIndex):
        index = ConnectionIndex(context.topology, context.policy)
        context.cache[CACHE_KEY] = index
    return index
