"""The reference evaluator, made affordable for replaying many counterexamples.

:class:`ReplayEvaluator` is :class:`checker.evaluator.Evaluator` unchanged in
meaning, with three costs removed: ``serving(failed)`` is memoised per scenario
(``explain`` recomputes it once per service otherwise), computed only on the part
of the nodes asked for, and allowed connections
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
        self.allowed = index.allowed  # type: ignore[method-assign]
        source_class = getattr(reference, "source_class", None)
        if source_class is not None:  # the indexed policy's classes of packet ends (the same rules decide)
            self.source_class = source_class

    def connect(self, source: str, destination: str, ports: PortSet) -> Decision:
        if self._index.allowed(source, destination, ports):
            return _ALLOWED
        return self._reference.connect(source, destination, ports)


_ALLOWED = Decision(True)


class ReplayEvaluator(Evaluator):
    """The reference evaluator with memoised, incremental serving values.

    ``serving(failed)`` is the reference's greatest fixed point, computed once with
    nothing failed and then, per scenario, only where the failure can reach: a node
    keeps its value from the scenario with nothing failed when its equation
    mentions no failed component and reads no node that may change. Exactly:

    * the equation of a node mentions only its own component and cluster, and the
      names written in its listener, answers, name servers, egress gateways and
      requirements (with their clusters' members, and a dns target's answers and
      name servers) (:meth:`_mentions`);
    * the *affected* nodes are those mentioning a failed component, closed under
      "reads the value of" (the reference's own dependents); every other node's
      equation is the same function of the same values as with nothing failed,
      and none of them reads an affected node, so together they keep their values
      (a self-contained part of the system has the same greatest fixed point
      whatever the rest does);
    * the affected nodes start from "serves" and are lowered by the reference's
      own iteration, the others held at their values.

    ``serving(failed, within)`` asks for the values of a part of the nodes closed
    under "reads" (:meth:`~checker.evaluator.Evaluator.cone`: what the services an
    engine claims stopped depend on): the first such parts are evaluated alone, the
    later ones from the baseline restricted to them (see :meth:`serving`).

    ``tests/test_replay.py`` compares it with the plain reference on random
    topologies and scenarios.
    """

    _MEMO = 4  # scenarios kept (a serving map holds a value per node)
    _FEW_DEAD = 64  # dead components up to which a choice first asks whether it reads one
    _DIRECT_SHARE = 2  # parts evaluated alone, in all, at most this many times the components

    def __init__(self, topology: Topology, policy: Policy):
        super().__init__(topology, policy)
        self._serving: dict = {}
        self._baseline: dict = {}  # nothing failed: the values of the nodes asked for so far
        self._baseline_whole = False  # ... which are every node
        self._direct = 0  # nodes evaluated in scenarios evaluated alone on a part of the nodes
        self._readers: dict[str, list] | None = None
        self._by_unit: dict | None = None
        self._dead_key: object = None  # the scenario self._dead is for
        self._dead: set[str] = set()
        self._chooses: dict = {}  # id of a requirement -> the components its choice reads
        self._choices: dict = {}  # id of a requirement -> its choice with nothing failed
        self._majority_key: object = None  # the scenario self._majority is for
        self._majority: dict[str, bool] = {}  # cluster -> has its majority in that scenario
        self._parts: dict = {}  # id of a part -> (it, its nodes' places) once the baseline covers it

    def live(self, name: str, failed) -> bool:
        """As the reference's, from the scenario's set of dead components (made once)."""
        if not failed:
            return True
        if failed is not self._dead_key:
            self._dead_key, self._dead = failed, self._dead_components(frozenset(failed))
        return name not in self._dead

    def has_majority(self, cluster: str, failed) -> bool:
        """As the reference's, counted once per scenario and cluster (each member of a
        quorum cluster asks it: a walk over the members each time is the square of a
        cluster of thousands)."""
        key = failed if failed else None
        if key is not self._majority_key:
            self._majority_key, self._majority = key, {}
        hit = self._majority.get(cluster)
        if hit is None:
            hit = self._majority[cluster] = super().has_majority(cluster, failed)
        return hit

    def _dead_components(self, failed: frozenset) -> set[str]:
        return {name for unit in failed for name in self._members(unit)}

    def _members(self, unit) -> tuple[str, ...]:
        """The components a failure unit takes down."""
        if unit.kind == "host" and unit.implicit:  # a component's own host: that component
            name = unit.name
            return (name,) if name in self.components and unit in self.topology.units_of(name) else ()
        return self._units_index().get(unit, ())

    def _units_index(self) -> dict:
        """Failure unit -> the components it takes down, for every unit but a component's
        own host (:meth:`_members` answers those: at 100k components, most units)."""
        if self._by_unit is None:
            by_unit: dict = {}
            for name in self.components:
                for unit in self.topology.units_of(name):
                    if not unit.implicit:
                        by_unit.setdefault(unit, []).append(name)
            self._by_unit = {unit: tuple(names) for unit, names in by_unit.items()}
        return self._by_unit

    def requirement_choice(self, req, failed):
        """As the reference's; when no component the choice reads is dead (see
        :meth:`_mentions`), the choice with nothing failed (computed once). Where many
        components are dead (a zone, a region) most choices read one of them, and
        the reference is asked directly."""
        if failed:
            if failed is not self._dead_key:
                self.live("", failed)
            if len(self._dead) > self._FEW_DEAD:
                return super().requirement_choice(req, failed)
            mentioned = self._chooses.get(id(req))
            if mentioned is None:
                mentioned = self._chooses[id(req)] = frozenset(self._choice_mentions(req))
            if not mentioned.isdisjoint(self._dead):
                return super().requirement_choice(req, failed)
        hit = self._choices.get(id(req))
        if hit is None:
            hit = self._choices[id(req)] = super().requirement_choice(req, frozenset())
        return hit

    def _choice_mentions(self, req) -> set[str]:
        """Every component whose liveness the choice of a requirement's target reads."""
        out = set(self.topology.egress_of(req.source))
        for target in req.targets:
            out |= self._named(target)
            if target in self.components:
                comp = self.components[target]
                for name in (*comp.answers, *comp.served_by):
                    out |= self._named(name)
        return out

    def serving(self, failed, within=None):
        """As the reference's (with ``within``, the values of those nodes, and maybe of
        more); the scenario's values are kept and extended to new nodes on demand."""
        key = frozenset(failed)
        hit = self._serving.get(key)
        if hit is not None:
            value, scope = hit
            if scope is None or within is scope or (within is not None and all(node in scope for node in within)):
                return value
            within = None if within is None else {**scope, **dict.fromkeys(within)}
        elif within is not None and not isinstance(within, dict):  # (a cone is one, never changed)
            within = dict.fromkeys(within)  # ordered (see Evaluator.cone), with membership tests
        if len(self._serving) >= self._MEMO:
            self._serving.clear()
        if not key:
            value = self._nothing_failed(within)
        elif within is not None and not self._covered(within) and \
                self._direct + len(within) <= self._DIRECT_SHARE * len(self.components):
            # a part evaluated there alone, until that has cost about as much as the passes
            # over every node that evaluating from the baseline needs (a few big scenarios,
            # as zones give, never pay for those; many small ones, as hosts give, do once)
            self._direct += len(within)
            value = super().serving(key, within)
        else:
            value = self._incremental(key, within)  # from the values with nothing failed
        self._serving[key] = (value, within)
        return value

    def _covered(self, within: dict) -> bool:
        if self._baseline_whole or self._part(within) is not None:
            return True
        return all(node in self._baseline for node in within)

    def _part(self, within: dict) -> dict | None:
        """For a part whose baseline values are all known, the part's nodes by their place
        in it (made once: a part is asked for in one scenario after another, each of
        which would otherwise walk all of it); None for another part."""
        hit = self._parts.get(id(within))
        return hit[1] if hit is not None and hit[0] is within else None

    def _nothing_failed(self, within: dict | None = None) -> dict:
        """The values with nothing failed, of ``within`` (a reads-closed set of nodes)
        or of every node, and of every node asked for before: the nodes new to the
        map are lowered by the reference's iteration, the old ones (which read none
        of them) kept."""
        base = self._baseline
        if not self._baseline_whole and (within is None or self._part(within) is None):
            new = [n for n in (self.nodes() if within is None else within) if n not in base]
            for node in new:
                base[node] = True
            new.reverse()  # the iteration takes the last first: the order of ``within`` (see cone)
            self._lower(base, new, frozenset())
            self._baseline_whole = within is None
            if within is not None:
                self._places(within)
        return base

    def _places(self, within: dict) -> dict:
        """The nodes of a part the baseline covers by their place in it, kept for it."""
        hit = self._part(within)
        if hit is None:
            if len(self._parts) >= self._MEMO:
                self._parts.clear()
            hit = dict(zip(within, range(len(within))))
            self._parts[id(within)] = (within, hit)
        return hit

    def _incremental(self, failed: frozenset, within: dict | None) -> dict:
        """The scenario's values of ``within`` (or of every node): the affected nodes
        lowered from "serves", every other node's value that with nothing failed."""
        base = self._nothing_failed(within)
        readers = self._readers_of()
        dependents = self._dependents()
        affected: set = set()
        stack = [node for unit in failed for name in self._members(unit) for node in readers.get(name, ())]
        while stack:
            node = stack.pop()
            if node not in affected and (within is None or node in within):
                affected.add(node)
                stack.extend(dependents.get(node, ()))
        # the affected nodes' values over the baseline's, not a copy of them all: a scenario
        # costs what it affects (a tree of thousands of single points was the square of it)
        value = _Scenario(dict.fromkeys(affected, True))
        value.base, value.within = base, within
        if within is None:
            pending = list(affected)
        else:
            pending = sorted(affected, key=self._places(within).__getitem__)  # the baseline covers it
        pending.reverse()
        self._lower(value, pending, failed)  # the reference's iteration, over the affected nodes
        return value

    def _readers_of(self) -> dict[str, list]:
        """For each component, the nodes whose equations mention it."""
        if self._readers is None:
            readers: dict[str, list] = {}
            for node in self.nodes():
                for name in self._mentions(node):
                    readers.setdefault(name, []).append(node)
            self._readers = readers
        return self._readers

    def _mentions(self, node) -> set[str]:
        """Every component whose liveness the equation of ``node`` may read (see the class doc)."""
        topology = self.topology
        if isinstance(node, tuple):
            name, index = node
            out = {name}
            for target in self.components[name].listeners[index].targets:
                out |= self._named(target)
            return out
        comp = self.components[node]
        out = self._named(node)
        for name in (*comp.answers, *comp.served_by, *topology.egress_of(node)):
            out |= self._named(name)
        for req in topology.requirements_of(node):
            out |= self._choice_mentions(req)  # its targets, with their answers and name servers
        return out

    def _named(self, name: str) -> set[str]:
        """A name's components: a cluster's members; a component and its cluster's members."""
        clusters = self.topology.clusters
        if name in clusters:
            return set(clusters[name].members)
        cluster = self.topology.cluster_of(name)
        return {name, *cluster.members} if cluster is not None else {name}


class _Scenario(dict):
    """A scenario's serving values: the affected nodes' own (the dict's items), every
    other node of the part (``within``; every node when None) read from the values
    with nothing failed (``base``)."""

    __slots__ = ("base", "within")

    def __missing__(self, node):
        if self.within is None or node in self.within:
            return self.base[node]
        raise KeyError(node)

    def get(self, node, default=None):
        try:
            return self[node]
        except KeyError:
            return default

    def __contains__(self, node) -> bool:
        return dict.__contains__(self, node) or (node in self.base if self.within is None else node in self.within)

    # read whole, it is the mapping it stands for (the engines only look nodes up)
    def whole(self) -> dict:
        scope = self.base if self.within is None else self.within
        return {node: self[node] for node in scope}

    def __iter__(self):
        return iter(self.whole())

    def __len__(self) -> int:
        return len(self.base if self.within is None else self.within)

    def keys(self):
        return self.whole().keys()

    def values(self):
        return self.whole().values()

    def items(self):
        return self.whole().items()

    def copy(self) -> dict:
        return self.whole()

    def __eq__(self, other) -> bool:
        return self.whole() == (other.whole() if isinstance(other, _Scenario) else other)

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.whole())


def replay_evaluator(context) -> ReplayEvaluator:
    """The file's replay evaluator, built once (``context.cache``)."""
    evaluator = context.cache.get(CACHE_KEY)
    if evaluator is None:
        policy = _IndexedPolicy(context.topology, connections(context), context.policy)
        evaluator = context.cache[CACHE_KEY] = ReplayEvaluator(context.topology, policy)
    return evaluator
