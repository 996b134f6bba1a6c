"""The serving equations compiled once into an integer circuit, then asked many questions.

:class:`ServingCircuit` compiles LANGUAGE.md sections 4 and 7, as the reference
evaluator (:mod:`checker.evaluator`) reads them, into integer-indexed *nodes*,
with every policy question answered up front. A node is a component, one
listener of an ``lb``/``gateway``, or an auxiliary node the compilation adds,
and has the form::

    node = live(owner) AND group_1 AND ... AND group_m AND req_1 AND ... AND req_j

* a *static group* ``(members, need)`` holds when at least ``need`` of its
  member nodes hold (``need`` 1: an OR; capacity ``need N`` and quorum
  majorities use more);
* a *requirement group* picks, per scenario, the first of its alternatives
  whose *condition* holds, and holds when that alternative's *serve* set (an
  OR of nodes; ``None``: always) holds; none available: false.

Conditions depend on liveness only, never on serving, so they are evaluated
before the fixed point. They are small expressions over components
(:data:`Cond`): ``live``, ``any`` (some live), ``atleast`` (k live: a quorum),
``first`` (the first live one of an order is acceptable: a current primary, an
egress gateway) and ``and``. Auxiliary nodes are owned by :data:`NEVER`, a
component that never fails, or by a component to stand for its bare liveness
(the members counted by a quorum).

The compilation mirrors the evaluator rule by rule:

* a requirement's targets become ordered alternatives (a component: live and
  reachable; a cluster: its current primary or a usable member, under its
  quorum; a dns name: live, a name server live and reachable, served through
  resolution from one address; an external target: reachable directly or
  through the first live egress gateway);
* a job's requirement is a static OR over its targets' serving (no network);
* a listener is a static group over its items with its ``need``: each plain
  target's entry points, a ``primary of C`` item as a requirement group over
  C's failover order, ``replicas of C`` as "a live replica, else the primary";
* a dns name is a static group per client group, over the address classes of
  the group (the name servers and the answers one address reaches).

Procedures that use it: :meth:`ServingCircuit.evaluate` (the greatest fixed
point for one scenario, recomputing only the cone a failure touches),
:mod:`checker.engines.failure` (stopping sets: cut sets, a relaxed monotone
circuit, Z3) and :mod:`checker.engines.failure_z3`.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Iterable, Sequence

from ..evaluator import DNS_PORT, Evaluator
from ..graphwalk import postorder
from ..memo import Recent
from ..model import PUBLIC_SERVICE, REPLICAS_OF, FailureUnit, Kind, Listener, Role, Topology, Verb
from ..net import PortSet
from ..policy import INTERNET, Point, one_per_class

# A liveness condition, over component indices:
#   ("true",) | ("live", c) | ("any", (c, ...)) | ("atleast", (c, ...), k, frozenset of the c)
#   | ("first", ((c, ok), ...)) | ("and", (cond, ...))
Cond = tuple
TRUE: Cond = ("true",)
_BY_CLASS = 1 << 10  # (requirement line, class of source) pairs whose alternatives are kept while compiling


def cond_and(*conds: Cond) -> Cond:
    parts = [c for c in conds if c != TRUE]
    if not parts:
        return TRUE
    return parts[0] if len(parts) == 1 else ("and", tuple(parts))


def cond_holds(cond: Cond, dead, dead_list: list[int] | None = None) -> bool:
    """Evaluate a condition under a dead-component array. ``dead_list``, when given,
    is every component ``dead`` flags (and only those): "at least k of n live" then
    counts the dead among the n from it when it is the shorter (a failure of one
    host against a quorum cluster of thousands: not a walk over the thousands)."""
    op = cond[0]
    if op == "live":
        return not dead[cond[1]]
    if op == "any":
        for c in cond[1]:
            if not dead[c]:
                return True
        return False
    if op == "first":
        for c, ok in cond[1]:
            if not dead[c]:
                return ok
        return False
    if op == "atleast":
        need = cond[2]
        if dead_list is not None and len(dead_list) < len(cond[1]):
            return len(cond[1]) - len(cond[3].intersection(dead_list)) >= need
        for c in cond[1]:
            if not dead[c]:
                need -= 1
                if need <= 0:
                    return True
        return need <= 0
    if op == "and":
        return all(cond_holds(c, dead, dead_list) for c in cond[1])
    return True


def cond_components(cond: Cond) -> set[int]:
    """Every component whose liveness a condition reads."""
    op = cond[0]
    if op == "live":
        return {cond[1]}
    if op in ("any", "atleast"):
        return set(cond[1])
    if op == "first":
        return {c for c, _ in cond[1]}
    if op == "and":
        out: set[int] = set()
        for c in cond[1]:
            out |= cond_components(c)
        return out
    return set()


@dataclass(frozen=True, slots=True)
class Alternative:
    """One target of a requirement, compiled: when it is available, and what must serve."""

    target: str
    cond: Cond
    serve: tuple[int, ...] | None  # entry nodes (an OR); None: serves whenever available
    implies_serving: bool  # available => serves (statically)


@dataclass(slots=True)
class StaticGroup:
    node: int
    members: tuple[int, ...]
    need: int


class ServingCircuit:
    """The serving equations of a topology, compiled for repeated evaluation."""

    def __init__(self, topology: Topology, allowed, port_algebra=None, policy=None) -> None:
        """``allowed(source, destination, ports) -> bool`` answers policy questions;
        ``port_algebra`` (:class:`checker.engines.connections.PortAlgebra`) shares
        memoised port-set operations with it; ``policy`` (the file's policy) answers
        the per-address questions of name resolution."""
        from ..policy import Policy
        from .connections import PortAlgebra

        self.topology = topology
        self.allowed = allowed
        self.policy = policy or Policy(topology)
        self.meet = (port_algebra or PortAlgebra()).meet
        self._keep: list[PortSet] = []
        comps = topology.components
        self.comp_names: list[str] = list(comps)
        self.comp_index = {name: i for i, name in enumerate(self.comp_names)}
        n_comps = len(self.comp_names)
        self.never = n_comps  # a component that never fails, owner of auxiliary nodes
        # failure units per component: -1 when it never fails at that level
        self.hosts: list[FailureUnit] = []
        self.zones: list[FailureUnit] = []
        self.regions: list[FailureUnit] = []
        self.host_of = array("i", [-1]) * (n_comps + 1)
        self.zone_of = array("i", [-1]) * (n_comps + 1)
        self.region_of = array("i", [-1]) * (n_comps + 1)
        # a unit -> its place among the units of its kind (units of two kinds are never equal)
        self._unit_index: dict[FailureUnit, int] = {}
        ids = self._unit_index
        lists = (self.hosts, self.zones, self.regions)
        tables = (self.host_of, self.zone_of, self.region_of)
        for i, name in enumerate(self.comp_names):
            for level, unit in enumerate(topology.placement(name)):
                if unit is None:
                    continue
                uid = ids.get(unit)
                if uid is None:
                    uid = ids[unit] = len(lists[level])
                    lists[level].append(unit)
                tables[level][i] = uid

        self.node_keys: list[object] = []
        self.owner: list[int] = []
        self.node_index: dict[object, int] = {}  # node key -> node, while compiling (dropped after)
        self.static_groups: list[StaticGroup] = []
        # per requirement group (by index r): the node it belongs to, and its ordered
        # alternatives (one sequence for equal ones); two tables, not an object per
        # group (384k groups at 100k components: 24 MB as objects)
        self.requirement_nodes = array("i")
        self.requirement_alternatives: list[Sequence[Alternative]] = []
        # node -> its static groups, its requirement groups (:class:`Runs`, made by
        # _index from each group's node: nothing reads them while compiling)
        self.node_static: Runs = Runs.empty()
        self.node_requirements: Runs = Runs.empty()
        self._hops: dict[tuple, tuple[int, ...]] = {}
        self._resolving: dict[str, tuple[Point, ...]] = {}
        self._liveness: dict[int, int] = {}
        self._aux: dict[object, int] = {}
        self._live_conds: dict[int, Cond] = {}
        self._quorum_conds: dict[str, Cond] = {}
        self._members: dict[str, tuple[list[FailureUnit], Runs]] = {}
        self._singles: dict[int, tuple[int]] = {}
        self._alternatives: dict[tuple, Alternative] = {}  # (its fields) -> an alternative's one object
        self._alternative_lists: dict[tuple, list[Alternative]] = {}
        self.evaluator = Evaluator(topology, self.policy)  # its item and candidate helpers
        # the policy's classes of sources, when ``allowed`` is its answers: sources of a
        # class are allowed alike, so a requirement line compiles once per class
        # (:meth:`_compiles_by_class`); by (id of the line, class), its alternatives, for
        # the lines compiled lately (the sources of a line are most often declared
        # together; one entry per line and class was 26 MB more at 100k components)
        classify = getattr(self.policy, "component_class", None)
        self._classify = classify if classify is not None and allowed == getattr(self.policy, "allowed", None) \
            else None
        self._by_class = Recent(_BY_CLASS)
        self._class_statements: dict[int, bool] = {}

        for comp in comps.values():
            if comp.kind.by_networks:
                continue
            if comp.kind.forwards:
                for j in range(len(comp.listeners)):
                    self._node((comp.name, j), self.comp_index[comp.name])
            else:
                self._node(comp.name, self.never if comp.kind is Kind.JOB else self.comp_index[comp.name])
        for key in list(self.node_keys):
            self._compile(key)

        # services: each is up when one of its nodes serves
        self.services: list[tuple[str, tuple[int, ...]]] = []
        for name in topology.services:
            if name == PUBLIC_SERVICE:
                entries: list[int] = []
                for comp in comps.values():
                    if comp.kind in (Kind.DNS, Kind.INTERNET) or not comp.public_addresses:
                        continue
                    entries.extend(self.hop(INTERNET, comp.name, comp.service_ports))
                self.services.append((PUBLIC_SERVICE, tuple(dict.fromkeys(entries))))
            else:
                self.services.append((name, (self.node_index[name],)))
        self._index()
        # what only compiling reads (a later question compiles nothing): tens of megabytes
        # at 100k components that the failure checks would otherwise carry
        self._hops, self._keep, self._aux, self._liveness, self._live_conds = {}, [], {}, {}, {}
        self._resolving, self._quorum_conds = {}, {}
        self._singles, self._alternatives, self._alternative_lists = {}, {}, {}
        self._by_class, self._class_statements = Recent(_BY_CLASS), {}
        self.node_index = {}  # (node key -> node: the hops read it; 8 MB at 100k components)

    # -- building nodes ----------------------------------------------------------------

    def _node(self, key: object, owner: int) -> int:
        n = len(self.node_keys)
        self.node_keys.append(key)
        self.owner.append(owner)
        self.node_index[key] = n
        return n

    def _aux_node(self, key: object, owner: int | None = None) -> tuple[int, bool]:
        """An auxiliary node, shared by key; True when it is new (to be filled in)."""
        hit = self._aux.get(key)
        if hit is not None:
            return hit, False
        n = self._node(("~",) + (key if isinstance(key, tuple) else (key,)), self.never if owner is None else owner)
        self._aux[key] = n
        return n, True

    def _static(self, n: int, members: Sequence[int], need: int = 1) -> None:
        self.static_groups.append(StaticGroup(n, tuple(members), need))

    def _requirement(self, n: int, alternatives: Sequence[Alternative]) -> None:
        self.requirement_nodes.append(n)
        self.requirement_alternatives.append(alternatives)

    def liveness_node(self, c: int) -> int:
        """A node true exactly when component ``c`` is live (no groups)."""
        hit = self._liveness.get(c)
        if hit is None:
            hit = self._liveness[c] = self._node(("~live", self.comp_names[c]), c)
        return hit

    def _or_node(self, key: object, members: Sequence[int]) -> int:
        """A node true when one of ``members`` is (reused when there is one member)."""
        members = tuple(dict.fromkeys(members))
        if len(members) == 1:
            return members[0]
        n, new = self._aux_node(("or",) + key if isinstance(key, tuple) else ("or", key))
        if new:
            self._static(n, members, 1)
        return n

    # -- policy questions ------------------------------------------------------------------

    def hop(self, source: str, target: str, ports: PortSet, point: Point | None = None) -> tuple[int, ...]:
        """Entry nodes a connection ``source -> target`` on ``ports`` (from one packet end
        ``point`` of the source, when given) may be served by; memoised."""
        key = (source, target, id(ports), point)
        hit = self._hops.get(key)
        if hit is not None:
            return hit
        comp = self.topology.components[target]
        out = []
        if comp.kind.forwards:
            for j, listener in enumerate(comp.listeners):
                arriving = self.meet(ports, listener.ports)
                if arriving and self._allowed(source, target, arriving, point):
                    out.append(self.node_index[(target, j)])
        elif not comp.kind.by_networks:
            arriving = self.meet(ports, comp.listen) if comp.listen is not None else ports
            if arriving and self._allowed(source, target, arriving, point):
                out.append(self.node_index[target])
        hit = self._hops[key] = tuple(out)
        self._keep.append(ports)  # keeps ``id(ports)`` valid for the memo's lifetime
        return hit

    def _allowed(self, source: str, target: str, ports: PortSet, point: Point | None) -> bool:
        if point is None:
            return self.allowed(source, target, ports)
        return bool(self.policy.connect_from(point, source, target, ports))

    # -- conditions ------------------------------------------------------------------------

    def _live(self, name: str) -> Cond:
        c = self.comp_index[name]
        hit = self._live_conds.get(c)
        if hit is None:
            hit = self._live_conds[c] = TRUE if not any(self.topology.placement(name)) else ("live", c)
        return hit

    def _quorum(self, cluster: str) -> Cond:
        """The cluster has its majority (one condition per cluster, made once)."""
        c = self.topology.clusters[cluster]
        if not c.quorum:
            return TRUE
        hit = self._quorum_conds.get(cluster)
        if hit is None:
            members = tuple(self.comp_index[m] for m in c.members)
            hit = self._quorum_conds[cluster] = ("atleast", members, c.majority, frozenset(members))
        return hit

    def _failover_order(self, cluster: str) -> list[str]:
        """The members in the order they become current primary."""
        c = self.topology.clusters[cluster]
        others = [m for m in c.members if m != c.primary] if c.failover.value == "auto" else []
        return [c.primary] + others

    def _primary_is(self, cluster: str, ok: dict[str, bool] | None = None) -> Cond:
        """The current primary exists (and, with ``ok``, is acceptable)."""
        order = self._failover_order(cluster)
        first = ("first", tuple((self.comp_index[m], True if ok is None else ok[m]) for m in order))
        return cond_and(self._quorum(cluster), first)

    # -- compiling a node ------------------------------------------------------------------

    def _compile(self, key: object) -> None:
        comps = self.topology.components
        n = self.node_index[key]
        if isinstance(key, tuple):
            name, j = key
            self._listener(n, name, comps[name].listeners[j])
            return
        comp = comps[key]
        cluster = self.topology.cluster_of(key)
        if cluster is not None and cluster.quorum:
            # one node for "a majority of the members is live", shared by every member
            # (a group per member would make a cluster of n members n^2 to evaluate)
            quorum, new = self._aux_node(("quorum", cluster.name))
            if new:
                self._static(quorum, [self.liveness_node(self.comp_index[m]) for m in cluster.members],
                             cluster.majority)
            self._static(n, [quorum], 1)
        if comp.kind is Kind.DNS:
            for group in self.evaluator.client_groups(comp):
                self._static(n, self._resolution_classes(group, comp, live_answers=False), 1)
        elif comp.kind is Kind.JOB:
            for req in self.topology.requirements_of(key):
                if not req.optional:
                    self._job_requirement(n, req)
        elif comp.kind.has_requirements:
            cls = None
            for req in self.topology.requirements_of(key):
                if req.optional:
                    continue
                statement = req.statement
                alike = None
                if self._classify is not None and self._compiles_by_class(statement):
                    # a source of the same class compiled this line: the same alternatives
                    if cls is None:
                        cls = self._classify(key)
                    alike = (id(statement), cls)
                    shared = self._by_class.get(alike)
                    if shared is not None:
                        self._requirement(n, shared)
                        continue
                alternatives = tuple(a for a in (self._alternative(req, t) for t in req.targets) if a is not None)
                shared = self._alternative_lists.get(alternatives)
                if shared is None:  # read-only: equal lists are one object
                    shared = self._alternative_lists[alternatives] = list(alternatives)
                if alike is not None:
                    self._by_class.put(alike, shared)
                self._requirement(n, shared)

    def _compiles_by_class(self, statement) -> bool:
        """Whether the alternatives of ``statement`` read their source only through the
        policy's answers from it (so a source of the same class, whose answers are the
        same, gets the same alternatives): every target a component that is neither a
        dns name nor external, or a cluster that is not written to through its current
        primary's own serving (a node per source)."""
        hit = self._class_statements.get(id(statement))
        if hit is None:
            topology = self.topology
            hit = True
            for target in statement.targets:
                cluster = topology.clusters.get(target)
                if cluster is not None:
                    if statement.verb is Verb.WRITES and cluster.has_roles and \
                            topology.components[cluster.members[0]].kind is Kind.SERVICE:
                        hit = False
                elif topology.components[target].kind in (Kind.DNS, Kind.EXTERNAL):
                    hit = False
            self._class_statements[id(statement)] = hit
        return hit

    def _listener(self, n: int, owner: str, listener: Listener) -> None:
        ev = self.evaluator
        items: list[int] = []  # one node per item (-1: can never serve)
        flat: list[int] = []
        for item in ev.items(listener):
            if item.selector is None:
                entries = self.hop(owner, item.name, ev.forward_ports(item, item.name))
                flat.extend(entries)
                items.append(self._or_node((owner, id(listener), item.name), entries) if entries else -1)
                continue
            node, new = self._aux_node(("item", owner, id(listener), item.selector, item.name))
            if new:
                self._role_item(node, owner, item)
            flat.append(node)
            items.append(node)
        if listener.need <= 1:
            self._static(n, flat, 1)
        else:
            self._static(n, [i for i in items if i >= 0], listener.need)

    def _role_item(self, node: int, owner: str, item) -> None:
        """``primary of C``: the current primary; ``replicas of C``: a live replica, else it."""
        ev = self.evaluator
        cluster = item.name
        quorum = self._quorum(cluster)
        alternatives = []
        if item.selector == REPLICAS_OF:
            replicas = [m for m in self.topology.clusters[cluster].members
                        if self.topology.components[m].role is Role.REPLICA]
            serve: list[int] = []
            for m in replicas:
                serve.extend(self.hop(owner, m, ev.forward_ports(item, m)))
            alternatives.append(Alternative(
                f"replicas of {cluster}", cond_and(quorum, ("any", tuple(self.comp_index[m] for m in replicas))),
                tuple(dict.fromkeys(serve)), False))
        for m in self._failover_order(cluster):
            alternatives.append(Alternative(m, cond_and(quorum, ("live", self.comp_index[m])),
                                            self.hop(owner, m, ev.forward_ports(item, m)), False))
        self._requirement(node, alternatives)

    def _job_requirement(self, n: int, req) -> None:
        comps = self.topology.components
        members: list[int] = []
        for target in req.targets:
            if target in self.topology.clusters:
                node, new = self._aux_node(("job", req.verb.value, target))
                if new:
                    self._requirement(node, [self._cluster_alternative(req, target, None)])
                members.append(node)
                continue
            comp = comps[target]
            if comp.kind is Kind.EXTERNAL:
                return  # an external target never fails: the requirement is always met
            if comp.kind.forwards:
                members.extend(self.node_index[(target, j)] for j in range(len(comp.listeners)))
            else:
                members.append(self.node_index[target])
        self._static(n, members, 1)

    def _alternative(self, req, target: str) -> Alternative | None:
        """Compile one target of a requirement; None when it can never be available."""
        topology = self.topology
        comps = topology.components
        source = req.source
        if target in topology.clusters:
            return self._cluster_alternative(req, target, source)
        comp = comps[target]
        if comp.kind is Kind.EXTERNAL:
            return self._external_alternative(source, comp)
        if comp.kind is Kind.DNS:
            return self._dns_alternative(source, comp)
        ports = comp.service_ports
        if not self.allowed(source, target, ports):
            return None
        node = self.node_index.get(target)
        if node is not None and (comp.listen is None or ports is comp.listen):
            serve = self._single(node)  # it arrives on the ports asked about: the hop is the question above
        else:
            serve = self.hop(source, target, ports)
        implies = False
        if comp.kind is Kind.DB and node is not None and serve == (node,):
            cluster = topology.cluster_of(target)
            implies = cluster is None or not cluster.quorum
        return self._shared(target, self._live(target), serve, implies)

    def _shared(self, target: str, cond: Cond, serve: tuple[int, ...], implies: bool) -> Alternative:
        """One object for equal alternatives, found by their fields (every source of a
        requirement statement that reaches its targets alike compiles the same ones:
        built once, not once per source)."""
        key = (target, cond, serve, implies)
        hit = self._alternatives.get(key)
        if hit is None:
            hit = self._alternatives[key] = Alternative(target, cond, serve, implies)
        return hit

    def _single(self, node: int) -> tuple[int]:
        """The one-node tuple of ``node``, one object per node."""
        hit = self._singles.get(node)
        if hit is None:
            hit = self._singles[node] = (node,)
        return hit

    def _cluster_alternative(self, req, cluster: str, source: str | None) -> Alternative | None:
        """A cluster endpoint; ``source`` None for a job (no network)."""
        c = self.topology.clusters[cluster]
        comps = self.topology.components
        members = c.members

        def reach(m: str) -> bool:
            return source is None or self.allowed(source, m, comps[m].service_ports)

        def entries(m: str) -> tuple[int, ...]:
            if source is None:
                return (self.node_index[m],)
            return self.hop(source, m, comps[m].service_ports)

        services = comps[members[0]].kind is Kind.SERVICE
        if req.verb is Verb.WRITES and c.has_roles:
            ok = {m: reach(m) for m in members}
            order = self._failover_order(cluster)
            if not any(ok[m] for m in order):
                return None
            if not services:
                return Alternative(cluster, self._primary_is(cluster, ok), None, True)
            # the current primary's own serving: a requirement over the failover order
            node, new = self._aux_node(("primary", source, cluster))
            if new:
                self._requirement(node, [Alternative(m, ("live", self.comp_index[m]), entries(m), False)
                                         for m in order])
            return Alternative(cluster, self._primary_is(cluster, ok), (node,), False)
        reachable = [m for m in members if reach(m)]
        if not reachable:
            return None
        cond = cond_and(self._quorum(cluster), ("any", tuple(self.comp_index[m] for m in reachable)))
        if not services:
            return Alternative(cluster, cond, None, True)
        serve: list[int] = []
        for m in reachable:
            serve.extend(entries(m))
        return Alternative(cluster, cond, tuple(dict.fromkeys(serve)), False)

    def _external_alternative(self, source: str, external) -> Alternative | None:
        ports = external.service_ports
        if self.topology.components[source].public_addresses:
            return Alternative(external.name, TRUE, None, True) if self.allowed(source, external.name, ports) else None
        gateways = self.topology.egress_of(source)
        direct = self.allowed(source, external.name, ports)
        order = tuple((self.comp_index[g], direct and self.allowed(source, g, ports)) for g in gateways)
        if not any(ok for _, ok in order):
            return None
        return Alternative(external.name, ("first", order), None, True)

    def _dns_alternative(self, source: str, dns) -> Alternative | None:
        comps = self.topology.components
        if not any(self.allowed(source, a, comps[a].service_ports) for a in dns.answers):
            return None
        conds = [self._live(dns.name)]
        if dns.served_by:
            reachable = [ns for ns in dns.served_by if self.allowed(source, ns, comps[ns].service_ports)]
            if not reachable:
                return None
            conds.append(("any", tuple(self.comp_index[ns] for ns in reachable)))
        elif dns.addresses and not self.allowed(source, dns.name, DNS_PORT):
            return None
        classes = self._resolution_classes(source, dns, live_answers=True)
        return Alternative(dns.name, cond_and(*conds), tuple(classes), False)

    def _resolution_classes(self, source: str, dns, live_answers: bool) -> list[int]:
        """Nodes of which one holds exactly when ``source`` resolves ``dns`` and reaches an
        answer that serves from one of its addresses (an answer's own node is false when
        it is down, so ``live_answers`` needs no extra condition)."""
        comps = self.topology.components
        if not dns.served_by and not dns.addresses:
            out: list[int] = []
            for a in dns.answers:
                out.extend(self.hop(source, a, comps[a].service_ports))
            return list(dict.fromkeys(out))
        classes: dict[tuple, int] = {}
        for point in self._resolving_points(source):
            if dns.served_by:
                servers: list[int] = []
                for ns in dns.served_by:
                    servers.extend(self.hop(source, ns, comps[ns].service_ports, point))
                if not servers:
                    continue
            else:
                servers = []
                if not self.policy.connect_from(point, source, dns.name, DNS_PORT):
                    continue
            answers: list[int] = []
            for a in dns.answers:
                answers.extend(self.hop(source, a, comps[a].service_ports, point))
            if not answers:
                continue
            key = (tuple(dict.fromkeys(servers)), tuple(dict.fromkeys(answers)))
            if key in classes:
                continue
            node, new = self._aux_node(("resolve", dns.name) + key)
            if new:
                if key[0]:
                    self._static(node, key[0], 1)
                self._static(node, key[1], 1)
            classes[key] = node
        return list(classes.values())

    def _resolving_points(self, source: str) -> tuple[Point, ...]:
        """The packet ends ``source`` resolves names from, one per class
        (:func:`~checker.policy.one_per_class`)."""
        hit = self._resolving.get(source)
        if hit is None:
            hit = self._resolving[source] = one_per_class(self.policy, self.policy.source_points(source))
        return hit

    # -- indexes -----------------------------------------------------------------------

    def _index(self) -> None:
        n_nodes = len(self.node_keys)
        n_comps = len(self.comp_names) + 1
        # each table is packed as soon as it is done growing, so the next one is built in
        # the room its lists leave (at 100k components, a tuple per node and table was
        # 60 MB; the peak of the whole run was here)
        rows: list[list[int]] = [[] for _ in range(n_nodes)]
        for g, group in enumerate(self.static_groups):
            rows[group.node].append(g)
        self.node_static = Runs.packed(rows)
        rows = [[] for _ in range(n_nodes)]
        for r, node in enumerate(self.requirement_nodes):
            rows[node].append(r)
        self.node_requirements = Runs.packed(rows)
        rows = [[] for _ in range(n_nodes)]  # node -> groups it is in
        for g, group in enumerate(self.static_groups):
            for m in group.members:
                rows[m].append(g)
        self.static_rev = Runs.packed(rows)
        # node -> the (requirement, alternative) pairs whose alternative it serves, flat:
        # r0, a0, r1, a1, ...; read with :func:`_pairs`
        rows = [[] for _ in range(n_nodes)]
        for r, alts in enumerate(self.requirement_alternatives):
            for a, alt in enumerate(alts):
                for m in alt.serve or ():
                    rows[m] += (r, a)
        self.alt_rev = Runs.packed(rows)
        rows = [[] for _ in range(n_comps)]
        for n, c in enumerate(self.owner):
            rows[c].append(n)
        self.nodes_of = Runs.packed(rows)
        del rows
        self.baseline_dead = bytearray(n_comps)
        self._scratch_dead = bytearray(n_comps)  # changed_by's flags of the dead components
        self.baseline = self._full(self.baseline_dead)
        self.steers = self._steers(n_comps)
        self._scratch_steered = bytearray(len(self.requirement_nodes))  # _seeds's flags

    def _steers(self, n_comps: int) -> "Runs":
        """Per component, the requirements whose choice its failure may move from the
        baseline's: those whose chosen alternative's condition reads it, and those where
        an earlier alternative's condition reads it and is not monotone (a monotone
        condition false with nothing failed stays false as more fails; the chosen one
        holds until a component it reads fails). So with any set of components failed,
        a requirement none of them steers keeps its baseline choice."""
        steers: list[list[int]] = [[] for _ in range(n_comps)]
        base_choices = self.baseline[1]
        for r, alts in enumerate(self.requirement_alternatives):
            chosen = base_choices[r]
            reads: set[int] = set()
            for a in range(len(alts) if chosen < 0 else chosen + 1):
                cond = alts[a].cond
                if a == chosen or not _monotone_cond(cond):
                    reads |= cond_components(cond)
            for c in sorted(reads):
                steers[c].append(r)
        return Runs.packed(steers)

    # -- structure -------------------------------------------------------------------

    @property
    def monotone(self) -> bool:
        """Whether failing more components can never restore a service: no requirement
        can pick an available alternative that does not serve before another one, and
        no condition is non-monotone (an uneven failover or egress order)."""
        for alts in self.requirement_alternatives:
            for i, alt in enumerate(alts):
                if not _monotone_cond(alt.cond):
                    return False
                if i < len(alts) - 1 and not alt.implies_serving:
                    return False
        return True

    def dependencies(self, n: int) -> list[int]:
        """Every node the value of ``n`` may depend on (over all scenarios)."""
        out: list[int] = []
        for g in self.node_static[n]:
            out.extend(self.static_groups[g].members)
        for r in self.node_requirements[n]:
            for alt in self.requirement_alternatives[r]:
                out.extend(alt.serve or ())
        return out

    def cone_size(self) -> int:
        """How many nodes :meth:`service_cone` has (what the term methods' budget grows with)."""
        hit = self.__dict__.get("_cone_size")
        if hit is None:
            hit = self._cone_size = len(self.service_cone())
        return hit

    def service_cone(self) -> list[int]:
        """The nodes the services depend on, dependencies first (DFS post-order)."""
        seen: set[int] = set()
        return [node for _, entries in self.services for node in postorder(entries, self.dependencies, seen)]

    # -- evaluation --------------------------------------------------------------------

    def choice(self, r: int, dead, dead_list: list[int] | None = None) -> int:
        """The alternative that gets requirement ``r``'s request, or -1 (``dead_list``:
        as :func:`cond_holds`'s)."""
        for a, alt in enumerate(self.requirement_alternatives[r]):
            if cond_holds(alt.cond, dead, dead_list):
                return a
        return -1

    def _full(self, dead) -> tuple[bytearray, list[int]]:
        n_nodes = len(self.node_keys)
        choices = [self.choice(r, dead) for r in range(len(self.requirement_nodes))]
        value = bytearray(n_nodes)
        self._propagate(range(n_nodes), dead, value, choices)
        return value, choices

    def _seeds(self, dead_list: list[int], dead) -> tuple[list[int], dict[int, int]]:
        """The nodes a failure of ``dead_list`` changes directly (their owners' nodes and
        the requirements whose choice moves), and the moved choices."""
        base_choices = self.baseline[1]
        group_node, group_alternatives = self.requirement_nodes, self.requirement_alternatives
        moved: dict[int, int] = {}
        seeds: list[int] = []
        # the requirements seen: flags kept for every call, all zero between calls (a
        # set of them was the largest table of a zone's failure at 100k, 16 MB)
        steered = self._scratch_steered
        steers = self.steers
        # the choice of a list of alternatives, by its id: equal lists are one object
        # (the sources of one requirement statement share theirs), so it is found once
        chosen: dict[int, int] = {}
        try:
            for c in dead_list:
                seeds.extend(self.nodes_of[c])
                for r in steers[c]:
                    if not steered[r]:
                        steered[r] = 1
                        alternatives = group_alternatives[r]
                        new = chosen.get(id(alternatives))
                        if new is None:
                            new = chosen[id(alternatives)] = self.choice(r, dead, dead_list)
                        if new != base_choices[r]:
                            moved[r] = new
                            seeds.append(group_node[r])
        finally:  # cleared by the walk that set them
            for c in dead_list:
                for r in steers[c]:
                    steered[r] = 0
        return seeds, moved

    def evaluate(self, dead_components: Iterable[int]) -> tuple[bytearray, list[int]]:
        """Node values and requirement choices with ``dead_components`` failed,
        recomputing only the cone that depends on them."""
        dead = bytearray(self.baseline_dead)
        dead_list = list(dead_components)
        for c in dead_list:
            dead[c] = 1
        base_value, base_choices = self.baseline
        choices = list(base_choices)
        group_node = self.requirement_nodes
        seeds, moved = self._seeds(dead_list, dead)
        for r, a in moved.items():
            choices[r] = a
        # the cone: everything that depends on a seed
        in_cone = bytearray(len(self.node_keys))
        cone: list[int] = []
        stack = seeds
        static_groups = self.static_groups
        while stack:
            n = stack.pop()
            if in_cone[n]:
                continue
            in_cone[n] = 1
            cone.append(n)
            stack.extend(static_groups[g].node for g in self.static_rev[n])
            stack.extend(group_node[r] for r in self.alt_rev[n][::2])
        value = bytearray(base_value)
        self._propagate(cone, dead, value, choices, in_cone)
        return value, choices

    def _propagate(self, nodes, dead, value, choices, in_cone=None) -> None:
        """Greatest fixed point over ``nodes`` (others keep their values in ``value``).

        Every node starts true unless its owner is dead; each group counts its true
        members; a node with a group below its need falls, and each fall costs its
        dependents' groups one support. Linear in the nodes and edges visited.
        """
        owner = self.owner
        statics = self.static_groups
        group_node, group_alternatives = self.requirement_nodes, self.requirement_alternatives
        static_count: dict[int, int] | list[int]
        req_count: dict[int, int] | list[int]
        if in_cone is None and isinstance(nodes, range) and nodes == range(len(self.node_keys)):
            # every node (the baseline): a count per group in a flat list, not a dict of
            # hundreds of thousands of entries built to be dropped
            static_count, req_count = [0] * len(statics), [0] * len(group_node)
        else:
            nodes = list(nodes)
            static_count, req_count = {}, {}
        for n in nodes:
            value[n] = 0 if dead[owner[n]] else 1
        falling: list[int] = []
        for n in nodes:
            if not value[n]:
                continue
            falls = False
            for g in self.node_static[n]:
                group = statics[g]
                count = 0
                for m in group.members:
                    if value[m]:
                        count += 1
                static_count[g] = count
                falls = falls or count < group.need
            for r in self.node_requirements[n]:
                a = choices[r]
                if a < 0:
                    falls = True
                    continue
                serve = group_alternatives[r][a].serve
                if serve is None:
                    continue
                count = 0
                for m in serve:
                    if value[m]:
                        count += 1
                req_count[r] = count
                falls = falls or count == 0
            if falls:
                falling.append(n)
        for n in falling:
            value[n] = 0
        # every node in ``falling`` was counted as a support while true
        while falling:
            m = falling.pop()
            for g in self.static_rev[m]:
                group = statics[g]
                n = group.node
                if not value[n] or (in_cone is not None and not in_cone[n]):
                    continue
                static_count[g] -= 1
                if static_count[g] < group.need:
                    value[n] = 0
                    falling.append(n)
            for r, a in _pairs(self.alt_rev[m]):
                if choices[r] != a:
                    continue
                n = group_node[r]
                if not value[n] or (in_cone is not None and not in_cone[n]):
                    continue
                req_count[r] -= 1
                if req_count[r] == 0:
                    value[n] = 0
                    falling.append(n)

    def services_down(self, value) -> list[str]:
        return sorted(name for name, entries in self.services if not any(value[m] for m in entries))

    # -- scenarios in terms of units ----------------------------------------------------

    def dead_for(self, units: Iterable[FailureUnit]) -> list[int]:
        """Components that a set of failed units takes down (in time proportional to them)."""
        out: set[int] = set()
        for unit in units:
            _, members = self.members_of(unit.kind)
            index = self._unit_index.get(unit)
            if index is not None:
                out.update(members[index])
        return sorted(out)

    def members_of(self, kind: str) -> tuple[list[FailureUnit], "Runs"]:
        """Units of one kind and, for each, the components it takes down."""
        hit = self._members.get(kind)
        if hit is None:
            units = {"host": self.hosts, "zone": self.zones, "region": self.regions}[kind]
            table = {"host": self.host_of, "zone": self.zone_of, "region": self.region_of}[kind]
            members: list = [[] for _ in units]
            for c, uid in enumerate(table):
                if uid >= 0:
                    members[uid].append(c)
            hit = self._members[kind] = (units, Runs.packed(members))  # (a host is most often one component's)
        return hit

    def stops(self, dead: Sequence[int]) -> list[str]:
        value, _ = self.evaluate(dead)
        return self.services_down(value)

    def stopped_by(self, dead_components: Iterable[int]) -> list[str]:
        """The services down with ``dead_components`` failed, as :meth:`stops` finds them,
        in time proportional to what the failure reaches: nothing of the size of the
        whole circuit is copied (:meth:`evaluate` copies every value), so trying every
        host of a large file one by one costs the sum of their cones."""
        return self.down_after(self.changed_by(dead_components))

    def changed_by(self, dead_components: Iterable[int]) -> "_Overlay":
        """The values of the nodes that change from the baseline with ``dead_components``
        failed (an overlay: the other nodes keep the baseline's values), computed as
        :meth:`stopped_by` says."""
        dead_list = list(dict.fromkeys(dead_components))
        dead = self._scratch_dead  # all zero between calls: set here, cleared before returning
        for c in dead_list:
            dead[c] = 1
        try:
            return self._changed(dead_list, dead)
        finally:
            for c in dead_list:
                dead[c] = 0

    def _changed(self, dead_list: list[int], dead: bytearray) -> "_Overlay":
        base_value, base_choices = self.baseline
        statics, group_node = self.static_groups, self.requirement_nodes
        seeds, moved = self._seeds(dead_list, dead)  # moved: the requirements whose choice changes
        value = _Overlay(base_value)  # the nodes that change; the rest keep the baseline's values
        if all(base_value[group_node[r]] for r in moved):
            self._falls(dead_list, moved, value)
            return value
        cone = _Flags()  # everything that depends on a seed, re-evaluated from "serves"
        while seeds:
            n = seeds.pop()
            if n not in cone:
                cone.add(n)
                seeds.extend(statics[g].node for g in self.static_rev[n])
                seeds.extend(group_node[r] for r in self.alt_rev[n][::2])
        choices = _Overlay(base_choices)
        choices.update(moved)
        self._propagate(cone, dead, value, choices, cone)
        return value

    def _falls(self, dead, choices: dict[int, int], fallen: dict[int, int]) -> None:
        """Set to 0 in ``fallen`` (empty: a scenario's overlay) the nodes that fall from the
        baseline when ``dead`` fail, where every
        requirement whose choice moves (``choices``) belongs to a node that serves with
        nothing failed: then nothing rises. (Let H be the baseline's operator with those
        nodes held true: the baseline is its greatest fixed point, as any post-fixed
        point of H joined with the baseline is post-fixed for the baseline's operator;
        the scenario's operator is at most H, so its greatest fixed point is at most
        the baseline, and lowering from the baseline reaches it.)

        Each group counts its members that serve at baseline, and each fall costs
        its readers one, so the work is what falls and what reads it, not the cone
        above the failure. (The overlay is the set of fallen nodes itself: a zone's
        failure fells a third of a large file, and a set of them beside it was one more
        table of that size.)"""
        base_value = self.baseline[0]
        statics = self.static_groups
        group_node, group_alternatives = self.requirement_nodes, self.requirement_alternatives
        falling: list[int] = []
        for c in dead:
            for n in self.nodes_of[c]:
                if base_value[n] and n not in fallen:
                    fallen[n] = 0
                    falling.append(n)
        req_count: dict[int, int] = {}
        for r, a in choices.items():  # a moved requirement counts its new alternative from the start
            n = group_node[r]
            if n in fallen:
                continue
            serve = group_alternatives[r][a].serve if a >= 0 else ()
            if serve is None:
                continue
            count = req_count[r] = sum(1 for m in serve if base_value[m])
            if count == 0:
                fallen[n] = 0
                falling.append(n)
        static_count: dict[int, int] = {}
        base_static, base_req = self._baseline_counts()
        base_choices = self.baseline[1]
        while falling:
            m = falling.pop()
            for g in self.static_rev[m]:
                n = statics[g].node
                if n in fallen or not base_value[n]:
                    continue
                count = static_count[g] = static_count.get(g, base_static[g]) - 1
                if count < statics[g].need:
                    fallen[n] = 0
                    falling.append(n)
            for r, a in _pairs(self.alt_rev[m]):
                if choices.get(r, base_choices[r]) != a:
                    continue
                n = group_node[r]
                if n in fallen or not base_value[n]:
                    continue
                count = req_count[r] = req_count.get(r, base_req[r]) - 1
                if count == 0:
                    fallen[n] = 0
                    falling.append(n)

    def _baseline_counts(self) -> tuple[list[int], list[int]]:
        """Per static group, its members that serve with nothing failed; per requirement,
        the serving entries of its chosen alternative (0 when it has none)."""
        hit = self.__dict__.get("_base_counts")
        if hit is None:
            base_value, base_choices = self.baseline
            statics = [sum(1 for m in g.members if base_value[m]) for g in self.static_groups]
            reqs = []
            for r, alts in enumerate(self.requirement_alternatives):
                a = base_choices[r]
                serve = alts[a].serve if a >= 0 else None
                reqs.append(sum(1 for m in serve if base_value[m]) if serve else 0)
            hit = self._base_counts = (statics, reqs)
        return hit

    def fallen(self, value: "_Overlay", among) -> list[int]:
        """The nodes of ``among`` (a set) that serve with nothing failed and not in the
        scenario whose changed values are ``value`` (:meth:`changed_by`)."""
        base = self.baseline[0]
        return [n for n, v in value.items() if not v and n in among and base[n]]

    def down_after(self, value: "_Overlay") -> list[str]:
        """The services down once the nodes in ``value`` changed (the others keep their
        baseline values): those with a changed entry, evaluated; the others as with
        nothing failed (a walk over every service per failure made trying every host
        quadratic)."""
        at_entry = self._services_at_entry()
        touched = {i for n in value for i in at_entry.get(n, ())}
        services = self.services
        get, base = value.get, value.base  # (no __missing__ call per unchanged entry)
        down = [services[i][0] for i in touched if not any(get(m, base[m]) for m in services[i][1])]
        down.extend(services[i][0] for i in self._down_at_baseline() if i not in touched)
        return sorted(down)

    def _services_at_entry(self) -> dict[int, list[int]]:
        """Entry node -> the indices of the services it is an entry of."""
        hit = self.__dict__.get("_entry_services")
        if hit is None:
            hit = self._entry_services = {}
            for i, (_, entries) in enumerate(self.services):
                for m in entries:
                    hit.setdefault(m, []).append(i)
        return hit

    def _down_at_baseline(self) -> set[int]:
        hit = self.__dict__.get("_baseline_down")
        if hit is None:
            base = self.baseline[0]
            hit = self._baseline_down = {i for i, (_, entries) in enumerate(self.services)
                                         if not any(base[m] for m in entries)}
        return hit


class _Flags(set):
    """A set that reads like the byte arrays of :meth:`ServingCircuit._propagate`
    (``in_cone[n]``): the nodes of a cone."""

    __slots__ = ()

    def __getitem__(self, c: int) -> bool:
        return c in self


class _Overlay(dict):
    """One scenario's values over the baseline's array: what is set here, else the
    baseline's (so a scenario copies only what it changes)."""

    __slots__ = ("base",)

    def __init__(self, base) -> None:
        super().__init__()
        self.base = base

    def __missing__(self, key: int):
        return self.base[key]


def _monotone_cond(cond: Cond) -> bool:
    """Whether a condition can only turn false as components fail ("first" with an
    unacceptable member before an acceptable one can turn true)."""
    op = cond[0]
    if op == "first":
        seen_bad = False
        for _, ok in cond[1]:
            if not ok:
                seen_bad = True
            elif seen_bad:
                return False
        return True
    if op == "and":
        return all(_monotone_cond(c) for c in cond[1])
    return True


CIRCUIT_KEY = "serving-circuit"


def circuit_for(context) -> ServingCircuit:
    """The file's compiled serving circuit, built once per file (``context.cache``)."""
    circuit = context.cache.get(CIRCUIT_KEY)
    if circuit is None:
        from .connections import connections

        index = connections(context)
        circuit = ServingCircuit(context.topology, index.allowed, index.ports, context.policy)
        context.cache[CIRCUIT_KEY] = circuit
    return circuit


def _pairs(flat: Sequence[int]):
    """The pairs of a flat sequence ``x0, y0, x1, y1, ...``: ``(x0, y0), (x1, y1), ...``."""
    items = iter(flat)
    return zip(items, items)


class Runs:
    """Per index ``0 .. n-1``, a run of ints (a node's groups, a component's nodes):
    every run in one array and where each starts in another, read as ``runs[i]`` (an
    array of the run). A tuple per index was 60 MB at 100k components over the
    circuit's tables, most of it the int objects; packed, 4 bytes an entry."""

    __slots__ = ("starts", "items")

    def __init__(self, starts: array, items: array) -> None:
        self.starts = starts
        self.items = items

    @classmethod
    def packed(cls, rows: list[list[int]]) -> "Runs":
        """The runs of ``rows`` (emptied as they are packed: the lists go as the
        array grows)."""
        starts = array("i", [0])
        items = array("i")
        for i, row in enumerate(rows):
            items.extend(row)
            starts.append(len(items))
            rows[i] = None  # type: ignore[call-overload]
        return cls(starts, items)

    @classmethod
    def empty(cls) -> "Runs":
        return cls(array("i", [0]), array("i"))

    def __getitem__(self, i: int) -> array:
        starts = self.starts
        return self.items[starts[i]:starts[i + 1]]

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __iter__(self):
        items, starts = self.items, self.starts
        return (items[starts[i]:starts[i + 1]] for i in range(len(starts) - 1))

