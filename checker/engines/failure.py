"""Failure analysis: the serving equations compiled once, then asked many questions.

:class:`ServingCircuit` compiles LANGUAGE.md section 4 (as the reference
evaluator reads it) into integer-indexed nodes, with every policy question
answered up front (:mod:`checker.engines.connections`). A node is a component,
or one listener of an ``lb``/``gateway``, and has the form::

    node = live(owner) AND group_1 AND ... AND group_m

where a *static group* (a listener's forwards, a DNS name's answers) is an OR
over nodes, and a *requirement group* picks, per scenario, the first available
alternative (availability depends only on which components are live) and is
then an OR over that alternative's entry nodes (or true, for a cluster).

Three procedures use it:

* :meth:`ServingCircuit.evaluate`: the greatest fixed point for one scenario, by
  counting live supports per group and propagating falsity with a work list:
  O(nodes + edges). Given a baseline, it recomputes only the *cone* of the
  scenario (the nodes that depend, transitively, on a failed component or on a
  requirement whose choice changed), which makes per-host and per-zone
  enumeration near-linear in total on layered topologies.
* :func:`minimal_cut_sets`: every minimal *term* with at most K failed hosts
  under which a service is down, by the fault-tree method (minimal cut sets with
  truncation at K), computed as the least fixed point of *falsity* so that
  requirement cycles get greatest-fixed-point semantics. On monotone structures
  the terms are plain cut sets; on others a term also names hosts that must stay
  live ("db1 failed, api1 live"), which is how a set can stop a service that a
  superset does not stop.
* :func:`checker.engines.failure_z3.minimum_stopping_set` (any structure): a
  minimum stopping set as a MaxSAT problem.

A structure is *monotone* (failing more never restores a service) unless some
requirement has an alternative that can be available without serving, followed
by another alternative that can be available, or writes to a ``failover auto``
cluster whose members the source reaches unevenly (failing an unreachable
primary promotes a reachable replica). :attr:`ServingCircuit.monotone` detects
exactly these patterns.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Iterable, Sequence

from ..evaluator import Node
from ..model import PUBLIC_SERVICE, FailureUnit, Kind, Topology, Verb
from ..net import PortSet
from ..policy import INTERNET

# availability kinds of a requirement alternative
AVAIL_LIVE = 0  # the target component is live (reachability checked statically)
AVAIL_READS = 1  # some reachable member of a cluster is live
AVAIL_WRITES = 2  # the cluster's current primary exists and is reachable


@dataclass
class Alternative:
    """One target of a requirement, compiled."""

    target: str
    avail: int
    comps: tuple[int, ...]  # AVAIL_LIVE: (target,); READS: reachable members; WRITES: members
    reach: tuple[bool, ...]  # WRITES: reachability of each member
    primary: int  # WRITES: the declared primary's position in ``comps``, or -1
    auto: bool  # WRITES: failover auto
    serve: tuple[int, ...] | None  # entry nodes; None: serves whenever available (a cluster)
    implies_serving: bool  # available => serves (statically)


@dataclass
class RequirementGroup:
    node: int  # the source's node
    alternatives: list[Alternative]
    line: int


class BudgetExceeded(Exception):
    """The cut-set computation grew past its budget; use another method."""


class ServingCircuit:
    """The serving equations of a topology, compiled for repeated evaluation."""

    def __init__(self, topology: Topology, allowed, port_algebra=None) -> None:
        """``allowed(source, destination, ports) -> bool`` answers policy questions;
        ``port_algebra`` (:class:`checker.engines.connections.PortAlgebra`) shares
        memoised port-set operations with it."""
        from .connections import PortAlgebra

        self.topology = topology
        self._keep: list[PortSet] = []
        comps = topology.components
        self.comp_names: list[str] = list(comps)
        self.comp_index = {name: i for i, name in enumerate(self.comp_names)}
        n_comps = len(self.comp_names)
        # failure units per component: -1 when it never fails
        self.hosts: list[FailureUnit] = []
        self.zones: list[FailureUnit] = []
        self.regions: list[FailureUnit] = []
        host_ids: dict[FailureUnit, int] = {}
        zone_ids: dict[FailureUnit, int] = {}
        region_ids: dict[FailureUnit, int] = {}
        self.host_of = [-1] * n_comps
        self.zone_of = [-1] * n_comps
        self.region_of = [-1] * n_comps
        for i, name in enumerate(self.comp_names):
            units = topology.units_of(name)
            if not units:
                continue
            for unit, ids, out, table in (
                (units[0], host_ids, self.hosts, self.host_of),
                (units[1], zone_ids, self.zones, self.zone_of),
                (units[2], region_ids, self.regions, self.region_of),
            ):
                uid = ids.get(unit)
                if uid is None:
                    uid = ids[unit] = len(out)
                    out.append(unit)
                table[i] = uid

        # nodes
        self.node_keys: list[Node] = []
        self.node_index: dict[Node, int] = {}
        self.owner: list[int] = []
        for i, name in enumerate(self.comp_names):
            comp = comps[name]
            if comp.kind is Kind.INTERNET:
                continue
            keys: Iterable[Node] = (
                [(name, j) for j in range(len(comp.listeners))] if comp.kind.forwards else [name]
            )
            for key in keys:
                self.node_index[key] = len(self.node_keys)
                self.node_keys.append(key)
                self.owner.append(i)
        n_nodes = len(self.node_keys)
        self.static_groups: list[list[tuple[int, ...]]] = [[] for _ in range(n_nodes)]
        self.requirement_groups: list[RequirementGroup] = []
        self.node_requirements: list[list[int]] = [[] for _ in range(n_nodes)]

        meet = (port_algebra or PortAlgebra()).meet
        hops: dict[tuple[str, str, int], tuple[int, ...]] = {}

        def hop(source: str, target: str, ports: PortSet) -> tuple[int, ...]:
            """Entry nodes a connection ``source -> target`` on ``ports`` may be served by
            (memoised: the same question recurs for every requirement and listener)."""
            key = (source, target, id(ports))
            hit = hops.get(key)
            if hit is not None:
                return hit
            comp = comps[target]
            out = []
            if comp.kind.forwards:
                for j, listener in enumerate(comp.listeners):
                    arriving = meet(ports, listener.ports)
                    if arriving and allowed(source, target, arriving):
                        out.append(self.node_index[(target, j)])
            elif comp.kind is not Kind.INTERNET:
                arriving = meet(ports, comp.listen) if comp.listen is not None else ports
                if arriving and allowed(source, target, arriving):
                    out.append(self.node_index[target])
            hit = hops[key] = tuple(out)
            self._keep.append(ports)  # keeps ``id(ports)`` valid for the memo's lifetime
            return hit

        self._hop = hop
        for n, key in enumerate(self.node_keys):
            if isinstance(key, tuple):
                name, j = key
                listener = comps[name].listeners[j]
                entries: list[int] = []
                for target in listener.targets:
                    members = topology.clusters[target].members if target in topology.clusters else (target,)
                    for member in members:
                        ports = listener.target_ports or comps[member].service_ports
                        entries.extend(hop(name, member, ports))
                self.static_groups[n].append(tuple(dict.fromkeys(entries)))
                continue
            comp = comps[key]
            if comp.kind is Kind.DNS:
                entries = []
                for answer in comp.answers:
                    entries.extend(hop(INTERNET, answer, comps[answer].service_ports))
                self.static_groups[n].append(tuple(dict.fromkeys(entries)))
            elif comp.kind.has_requirements:
                for req in topology.requirements_of(key):
                    if req.optional:
                        continue
                    alternatives = [a for a in (self._alternative(req, t, allowed) for t in req.targets) if a]
                    self.node_requirements[n].append(len(self.requirement_groups))
                    self.requirement_groups.append(RequirementGroup(n, alternatives, req.span.line))

        # services: each is up when one of its nodes serves
        self.services: list[tuple[str, tuple[int, ...]]] = []
        dns = [c for c in comps.values() if c.kind is Kind.DNS]
        if dns:
            self.services = [(c.name, (self.node_index[c.name],)) for c in dns]
        else:
            entries = []
            for comp in comps.values():
                if comp.kind in (Kind.DNS, Kind.INTERNET) or not comp.public_addresses:
                    continue
                entries.extend(hop(INTERNET, comp.name, comp.service_ports))
            self.services = [(PUBLIC_SERVICE, tuple(dict.fromkeys(entries)))]

        # reverse edges: who depends on a node, and which requirements a component's liveness steers
        self.static_rev: list[list[int]] = [[] for _ in range(n_nodes)]  # node -> owners of its static groups
        self.alt_rev: list[list[tuple[int, int]]] = [[] for _ in range(n_nodes)]  # node -> (req, alt)
        self.steers: list[list[int]] = [[] for _ in range(n_comps)]  # comp -> requirement ids
        for n in range(n_nodes):
            for group in self.static_groups[n]:
                for m in group:
                    self.static_rev[m].append(n)
        for r, group in enumerate(self.requirement_groups):
            for a, alt in enumerate(group.alternatives):
                for m in alt.serve or ():
                    self.alt_rev[m].append((r, a))
                for c in alt.comps:
                    if not self.steers[c] or self.steers[c][-1] != r:
                        self.steers[c].append(r)
        self.nodes_of: list[list[int]] = [[] for _ in range(n_comps)]
        for n, c in enumerate(self.owner):
            self.nodes_of[c].append(n)
        self.baseline_dead = bytearray(n_comps)
        self.baseline = self._full(self.baseline_dead)

    # -- compilation helpers ---------------------------------------------------------

    def _alternative(self, req, target: str, allowed) -> Alternative | None:
        """Compile one target of a requirement; None when it can never be available."""
        topology = self.topology
        comps = topology.components
        source = req.source
        if target in topology.clusters:
            cluster = topology.clusters[target]
            members = cluster.members
            reach = tuple(allowed(source, m, comps[m].service_ports) for m in members)
            if req.verb is Verb.WRITES:
                primary = members.index(cluster.primary) if cluster.primary in members else -1
                auto = cluster.failover.value == "auto"
                if not any(reach) or (primary < 0 and not auto):
                    return None
                return Alternative(target, AVAIL_WRITES, tuple(self.comp_index[m] for m in members), reach,
                                   primary, auto, None, True)
            live = tuple(self.comp_index[m] for m, ok in zip(members, reach) if ok)
            if not live:
                return None
            return Alternative(target, AVAIL_READS, live, (), -1, False, None, True)
        comp = comps[target]
        if comp.kind is Kind.DNS:
            if not any(allowed(source, a, comps[a].service_ports) for a in comp.answers):
                return None
            serve: list[int] = []
            for answer in comp.answers:
                serve.extend(self._hop(source, answer, comps[answer].service_ports))
            return Alternative(target, AVAIL_LIVE, (self.comp_index[target],), (), -1, False,
                               tuple(dict.fromkeys(serve)), False)
        if not allowed(source, target, comp.service_ports):
            return None
        serve_nodes = self._hop(source, target, comp.service_ports)
        implies = comp.kind is Kind.DB and serve_nodes == (self.node_index[target],)
        return Alternative(target, AVAIL_LIVE, (self.comp_index[target],), (), -1, False, serve_nodes, implies)

    # -- structure -------------------------------------------------------------------

    @property
    def monotone(self) -> bool:
        """Whether failing more components can never restore a service (see module doc)."""
        for group in self.requirement_groups:
            alts = group.alternatives
            for i, alt in enumerate(alts):
                if alt.avail == AVAIL_WRITES and alt.auto and not all(alt.reach):
                    return False
                if i < len(alts) - 1 and not alt.implies_serving:
                    return False
        return True

    def dependencies(self, n: int) -> list[int]:
        """Every node the value of ``n`` may depend on (over all scenarios)."""
        out: list[int] = []
        for group in self.static_groups[n]:
            out.extend(group)
        for r in self.node_requirements[n]:
            for alt in self.requirement_groups[r].alternatives:
                out.extend(alt.serve or ())
        return out

    def service_cone(self) -> list[int]:
        """The nodes the services depend on, dependencies first (DFS post-order)."""
        seen = bytearray(len(self.node_keys))
        order: list[int] = []
        for _, entries in self.services:
            for start in entries:
                if seen[start]:
                    continue
                seen[start] = 1
                stack = [(start, iter(self.dependencies(start)))]
                while stack:
                    node, it = stack[-1]
                    for m in it:
                        if not seen[m]:
                            seen[m] = 1
                            stack.append((m, iter(self.dependencies(m))))
                            break
                    else:
                        stack.pop()
                        order.append(node)
        return order

    # -- evaluation --------------------------------------------------------------------

    def is_available(self, alt: Alternative, dead) -> bool:
        if alt.avail == AVAIL_LIVE:
            return not dead[alt.comps[0]]
        if alt.avail == AVAIL_READS:
            return any(not dead[c] for c in alt.comps)
        # writes: the current primary
        if alt.primary >= 0 and not dead[alt.comps[alt.primary]]:
            return alt.reach[alt.primary]
        if alt.auto:
            for c, ok in zip(alt.comps, alt.reach):
                if not dead[c]:
                    return ok
        return False

    def choice(self, r: int, dead) -> int:
        """The alternative that gets requirement ``r``'s request, or -1."""
        for a, alt in enumerate(self.requirement_groups[r].alternatives):
            if self.is_available(alt, dead):
                return a
        return -1

    def _full(self, dead) -> tuple[bytearray, list[int]]:
        n_nodes = len(self.node_keys)
        choices = [self.choice(r, dead) for r in range(len(self.requirement_groups))]
        value = bytearray(n_nodes)
        self._propagate(range(n_nodes), dead, value, choices)
        return value, choices

    def evaluate(self, dead_components: Iterable[int]) -> tuple[bytearray, list[int]]:
        """Node values and requirement choices with ``dead_components`` failed,
        recomputing only the cone that depends on them."""
        dead = bytearray(self.baseline_dead)
        seeds: list[int] = []
        changed_reqs: set[int] = set()
        dead_list = list(dead_components)
        for c in dead_list:
            dead[c] = 1
        base_value, base_choices = self.baseline
        choices = list(base_choices)
        for c in dead_list:
            seeds.extend(self.nodes_of[c])
            for r in self.steers[c]:
                if r not in changed_reqs:
                    changed_reqs.add(r)
                    new = self.choice(r, dead)
                    if new != choices[r]:
                        choices[r] = new
                        seeds.append(self.requirement_groups[r].node)
        # the cone: everything that depends on a seed
        in_cone = bytearray(len(self.node_keys))
        cone: list[int] = []
        stack = seeds
        while stack:
            n = stack.pop()
            if in_cone[n]:
                continue
            in_cone[n] = 1
            cone.append(n)
            stack.extend(self.static_rev[n])
            stack.extend(self.requirement_groups[r].node for r, _ in self.alt_rev[n])
        value = bytearray(base_value)
        self._propagate(cone, dead, value, choices, in_cone)
        return value, choices

    def _propagate(self, nodes, dead, value, choices, in_cone=None) -> None:
        """Greatest fixed point over ``nodes`` (others keep their values in ``value``).

        Every node starts true unless its owner is dead; each group counts its true
        members; a node with an empty group falls, and each fall costs its dependents'
        groups one support. Linear in the nodes and edges visited.
        """
        owner = self.owner
        nodes = list(nodes)
        for n in nodes:
            value[n] = 0 if dead[owner[n]] else 1
        static_count: dict[int, int] = {}  # a node has at most one static group
        req_count: dict[int, int] = {}
        groups = self.requirement_groups
        falling: list[int] = []
        for n in nodes:
            if not value[n]:
                continue
            falls = False
            for members in self.static_groups[n]:
                count = 0
                for m in members:
                    if value[m]:
                        count += 1
                static_count[n] = count
                falls = falls or count == 0
            for r in self.node_requirements[n]:
                a = choices[r]
                if a < 0:
                    falls = True
                    continue
                serve = groups[r].alternatives[a].serve
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
            for n in self.static_rev[m]:
                if not value[n] or (in_cone is not None and not in_cone[n]):
                    continue
                static_count[n] -= 1
                if static_count[n] == 0:
                    value[n] = 0
                    falling.append(n)
            for r, a in self.alt_rev[m]:
                if choices[r] != a:
                    continue
                n = groups[r].node
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
        """Components that a set of failed units takes down."""
        wanted = set(units)
        out = []
        for c in range(len(self.comp_names)):
            if self.host_of[c] < 0:
                continue
            if (self.hosts[self.host_of[c]] in wanted or self.zones[self.zone_of[c]] in wanted
                    or self.regions[self.region_of[c]] in wanted):
                out.append(c)
        return out

    def members_of(self, kind: str) -> tuple[list[FailureUnit], list[list[int]]]:
        """Units of one kind and, for each, the components it takes down."""
        units = {"host": self.hosts, "zone": self.zones, "region": self.regions}[kind]
        table = {"host": self.host_of, "zone": self.zone_of, "region": self.region_of}[kind]
        members: list[list[int]] = [[] for _ in units]
        for c, uid in enumerate(table):
            if uid >= 0:
                members[uid].append(c)
        return units, members

    def stops(self, dead: Sequence[int]) -> list[str]:
        value, _ = self.evaluate(dead)
        return self.services_down(value)


# -- stopping terms: minimal cut sets generalised to ordered alternatives ----------------------

CUT_BUDGET = 400_000  # term unions before giving up on the term method

# A term (P, N) stands for "every host in P failed and every host in N live". The set of
# scenarios in which a node is false is a union of terms; F = P realises a consistent
# term exactly (P and N disjoint), so a smallest stopping set is a consistent term with
# the fewest failed hosts. Monotone circuits only ever produce N = {}: then the terms are
# the classic minimal cut sets.
Term = tuple  # (frozenset[int], frozenset[int])
_EMPTY: Term = (frozenset(), frozenset())


def minimal_cut_sets(circuit: ServingCircuit, limit: int, budget: int = CUT_BUDGET) -> list[Term]:
    """The minimal terms with at most ``limit`` failed hosts under which some service is
    down, sorted by the number of failed hosts.

    Falsity is the least fixed point of ``false(n) = dead(owner) or some group is false``,
    ``false(OR group) = every member is false``, and a requirement is unmet when some
    alternative is chosen (every earlier one unavailable, this one available) and does not
    serve, or none is available. Term families follow the same equations (union for
    "or", pairwise union for "and"), dropping inconsistent terms and terms with more than
    ``limit`` failed hosts, and are iterated from "never false" upwards until stable, so
    requirement cycles keep their greatest-fixed-point serving semantics.

    Complexity: one pass per node on acyclic structures, each costing the product of its
    children's family sizes, bounded by ``budget`` (:class:`BudgetExceeded` beyond).
    References: minimal cut sets of fault trees (MOCUS; Vesely et al., *Fault Tree
    Handbook*, NUREG-0492), prime implicants for the non-coherent case.
    """
    counter = [0]
    families: dict[int, list[Term]] = {}
    order = circuit.service_cone()
    position = {n: i for i, n in enumerate(order)}
    dependents: dict[int, list[int]] = {n: [] for n in order}
    for n in order:
        for m in circuit.dependencies(n):
            dependents[m].append(n)
    heap = list(range(len(order)))  # positions; dependencies come first
    queued = set(heap)
    while heap:
        n = order[heapq.heappop(heap)]
        queued.discard(position[n])
        new = _node_family(circuit, n, families, limit, counter, budget)
        if new != families.get(n, []):
            families[n] = new
            for d in dependents[n]:
                if position[d] not in queued:
                    queued.add(position[d])
                    heapq.heappush(heap, position[d])
    result: list[Term] = []
    for _, entries in circuit.services:
        family = [_EMPTY]
        for m in entries:
            family = _product(family, families.get(m, []), limit, counter, budget)
        result = _minimize(result + family)
    return result


def _false_family(families, nodes, limit, counter, budget) -> list[Term]:
    """Terms under which every one of ``nodes`` is false."""
    family = [_EMPTY]
    for m in nodes:
        family = _product(family, families.get(m, []), limit, counter, budget)
        if not family:
            break
    return family


def _node_family(circuit, n, families, limit, counter, budget) -> list[Term]:
    host = circuit.host_of[circuit.owner[n]]
    out: list[Term] = [(frozenset((host,)), frozenset())] if host >= 0 else []
    for group in circuit.static_groups[n]:
        out.extend(_false_family(families, group, limit, counter, budget))
    for r in circuit.node_requirements[n]:
        alts = circuit.requirement_groups[r].alternatives
        before = [_EMPTY]  # every earlier alternative unavailable
        for alt in alts:
            up, down = _availability(circuit, alt)
            if alt.serve is not None:
                chosen = _product(before, up, limit, counter, budget)
                if chosen:
                    failing = _false_family(families, alt.serve, limit, counter, budget)
                    out.extend(_product(chosen, failing, limit, counter, budget))
            before = _product(before, down, limit, counter, budget)
            if not before:
                break
        out.extend(before)
    return _minimize(out)


def _availability(circuit, alt: Alternative) -> tuple[list[Term], list[Term]]:
    """(terms under which ``alt`` is available, terms under which it is not)."""
    host_of = circuit.host_of
    none: frozenset[int] = frozenset()
    if alt.avail in (AVAIL_LIVE, AVAIL_READS):
        hosts = [host_of[c] for c in alt.comps]
        if any(h < 0 for h in hosts):
            return [_EMPTY], []
        return [(none, frozenset((h,))) for h in hosts], [(frozenset(hosts), none)]
    # writes: candidate j is the current primary when every earlier candidate is dead
    candidates = ([alt.primary] if alt.primary >= 0 else []) + (
        [j for j in range(len(alt.comps)) if j != alt.primary] if alt.auto else [])
    up: list[Term] = []
    down: list[Term] = []
    dead_so_far: frozenset[int] = frozenset()
    for j in candidates:
        h = host_of[alt.comps[j]]
        bucket = up if alt.reach[j] else down
        if h < 0:
            bucket.append((dead_so_far, none))
            return _minimize(up), _minimize(down)
        bucket.append((dead_so_far, frozenset((h,))))
        dead_so_far = dead_so_far | {h}
    down.append((dead_so_far, none))  # no live candidate: no primary
    return _minimize([t for t in up if not (t[0] & t[1])]), _minimize([t for t in down if not (t[0] & t[1])])


def _product(left, right, limit, counter, budget) -> list[Term]:
    """Minimal consistent conjunctions of one term from each family, with at most
    ``limit`` failed hosts."""
    if not left or not right:
        return []
    counter[0] += len(left) * len(right)
    if counter[0] > budget:
        raise BudgetExceeded()
    out = []
    for p1, n1 in left:
        for p2, n2 in right:
            p = p1 | p2
            if len(p) > limit:
                continue
            q = n1 | n2
            if p & q:
                continue
            out.append((p, q))
    return _minimize(out)


def _minimize(family: list[Term]) -> list[Term]:
    """The terms no other term subsumes, without duplicates, in a stable order."""
    unique = sorted(set(family), key=lambda t: (len(t[0]), len(t[1]), sorted(t[0]), sorted(t[1])))
    kept: list[Term] = []
    for p, q in unique:
        if not any(kp <= p and kq <= q for kp, kq in kept):
            kept.append((p, q))
    return kept


# -- shared by the checks -------------------------------------------------------------------

CIRCUIT_KEY = "serving-circuit"


def circuit_for(context) -> ServingCircuit:
    """The file's compiled serving circuit, built once per file (``context.cache``)."""
    circuit = context.cache.get(CIRCUIT_KEY)
    if circuit is None:
        from .connections import connections

        index = connections(context)
        circuit = ServingCircuit(context.topology, index.allowed, index.ports)
        context.cache[CIRCUIT_KEY] = circuit
    return circuit


@dataclass(frozen=True)
class StoppingSets:
    """The answer to "which sets of at most ``limit`` hosts stop a service"."""

    status: str  # "found" | "none" (no stopping set of at most ``limit``) | "unknown"
    smallest: int | None  # size of a smallest stopping set when known and <= limit
    sets: tuple[tuple[FailureUnit, ...], ...]  # smallest sets (all singletons when smallest is 1)
    method: str
    reason: str | None = None


def smallest_stopping_sets(circuit: ServingCircuit, limit: int, timeout: float) -> StoppingSets:
    """Smallest sets of at most ``limit`` hosts that stop a service (baseline must be up).

    First :func:`minimal_cut_sets` (method ``graph``): exact, every minimal term up to
    ``limit`` failed hosts; on monotone circuits these are the classic minimal cut sets,
    otherwise terms also carry the hosts that must stay live (a live first alternative
    that does not serve). When the term families exceed their budget, MaxSAT (method
    ``z3``); when its optimum is a single host, every host is then tried alone on the
    circuit, so all single points are listed.
    """
    if not circuit.monotone:
        relaxed = _relaxed_stopping_sets(circuit, limit)
        if relaxed is not None:
            return relaxed
    terms = None
    try:
        # iterative deepening: a small stopping set is found with small (cheap) families
        for depth in range(1, limit + 1):
            terms = minimal_cut_sets(circuit, depth)
            if terms:
                break
    except BudgetExceeded:
        terms = None
    if terms is not None:
        if not terms:
            return StoppingSets("none", None, (), "graph")
        size = min(len(p) for p, _ in terms)
        chosen = {p for p, _ in terms if len(p) == size}
        return StoppingSets("found", size, _sorted_sets([tuple(circuit.hosts[h] for h in p) for p in chosen]),
                            "graph")
    from .failure_z3 import minimum_stopping_set
    from ..results import Status

    outcome = minimum_stopping_set(circuit, timeout)
    if outcome.status is Status.UNKNOWN:
        return StoppingSets("unknown", None, (), "z3", outcome.reason)
    if outcome.status is Status.PROVED or len(outcome.hosts) > limit:
        return StoppingSets("none", None, (), "z3")
    size = len(outcome.hosts)
    if size == 1:
        units, members = circuit.members_of("host")
        singles = [(units[h],) for h in range(len(units)) if circuit.stops(members[h])]
        return StoppingSets("found", 1, _sorted_sets(singles), "z3")
    return StoppingSets("found", size, (tuple(circuit.hosts[h] for h in outcome.hosts),), "z3")


def _relaxed_stopping_sets(circuit: ServingCircuit, limit: int) -> StoppingSets | None:
    """The answer from :class:`RelaxedCircuit` when it settles the question: no
    relaxed stopping set of at most ``limit`` hosts (then there is no real one), or
    smallest relaxed sets of which some really stop a service (then they are the
    smallest real ones; for singletons, the real ones among them are all of them).
    None otherwise (a budget exceeded, or no smallest relaxed set really stops)."""
    relaxed = RelaxedCircuit(circuit)
    try:
        for depth in range(1, limit + 1):
            terms = minimal_cut_sets(relaxed, depth)
            if terms:
                break
    except BudgetExceeded:
        return None
    if not terms:
        return StoppingSets("none", None, (), "graph")
    size = min(len(p) for p, _ in terms)
    _, members = circuit.members_of("host")
    real = [p for p in {p for p, _ in terms if len(p) == size}
            if circuit.stops([c for h in p for c in members[h]])]
    if not real:
        return None
    return StoppingSets("found", size, _sorted_sets([tuple(circuit.hosts[h] for h in p) for p in real]), "graph")


def _sorted_sets(sets: list[tuple[FailureUnit, ...]]) -> tuple[tuple[FailureUnit, ...], ...]:
    normal = [tuple(sorted(s, key=lambda u: u.label)) for s in sets]
    return tuple(sorted(normal, key=lambda s: [u.label for u in s]))


# -- a monotone under-approximation of serving, for proofs on non-monotone structures ------

class RelaxedCircuit:
    """A monotone circuit whose services serve only where the real ones do.

    Each node ``n`` of the real circuit becomes a *value* node (``n``: its owner is
    live and its body holds) and a *body* node (``N + n``, owned by nothing that can
    fail). A requirement with alternatives ``a_1 .. a_j`` is replaced by "some
    alternative is available" AND, for every alternative, "its target's body
    holds" (or, where the entry nodes are not the target's own, their values):
    whichever alternative the real requirement picks is available and its body
    holds, so it serves. Availability of a write to a ``failover auto`` cluster
    reached unevenly is narrowed to "a member of the reachable prefix of the
    failover order is live" (then the current primary is one of them).

    Every operator is pointwise at most the real one and monotone, so its greatest
    fixed point is at most the real one: every set that stops a real service stops
    a relaxed one. Hence "no relaxed stopping set of at most L hosts" proves the
    same for the real circuit, and a smallest relaxed set that really stops a
    service is a smallest real one.
    """

    def __init__(self, circuit: ServingCircuit) -> None:
        n_nodes = len(circuit.node_keys)
        never = len(circuit.host_of)
        self.hosts = circuit.hosts
        self.host_of = list(circuit.host_of) + [-1]
        self.owner = list(circuit.owner) + [never] * n_nodes
        self.static_groups: list[list[tuple[int, ...]]] = [[(n_nodes + n,)] for n in range(n_nodes)]
        self.static_groups += [[] for _ in range(n_nodes)]
        self.node_requirements: list[list[int]] = [[] for _ in range(2 * n_nodes)]
        self.requirement_groups: list[RequirementGroup] = []
        for n in range(n_nodes):
            body = n_nodes + n
            groups = self.static_groups[body]
            groups.extend(tuple(group) for group in circuit.static_groups[n])
            for r in circuit.node_requirements[n]:
                group = circuit.requirement_groups[r]
                available = []
                for alt in group.alternatives:
                    narrowed = _monotone_availability(alt)
                    if narrowed is not None:
                        available.append(narrowed)
                    if alt.serve is None:
                        continue
                    owner = circuit.comp_index.get(alt.target)
                    own = owner is not None and alt.avail == AVAIL_LIVE and all(
                        circuit.owner[m] == owner for m in alt.serve)
                    groups.append(tuple(n_nodes + m if own else m for m in alt.serve))
                self.node_requirements[body].append(len(self.requirement_groups))
                self.requirement_groups.append(RequirementGroup(body, available, group.line))
        self.services = circuit.services
        self.node_keys = [None] * (2 * n_nodes)

    dependencies = ServingCircuit.dependencies
    service_cone = ServingCircuit.service_cone


def _monotone_availability(alt: Alternative) -> Alternative | None:
    """``alt`` with a monotone availability no larger than its own and no serving
    condition (None when that availability is never true)."""
    if alt.avail != AVAIL_WRITES:
        return Alternative(alt.target, alt.avail, alt.comps, alt.reach, alt.primary, alt.auto, None, True)
    order = ([alt.primary] if alt.primary >= 0 else []) + (
        [j for j in range(len(alt.comps)) if j != alt.primary] if alt.auto else [])
    prefix = []
    for j in order:
        if not alt.reach[j]:
            break
        prefix.append(alt.comps[j])
    if not prefix:
        return None
    return Alternative(alt.target, AVAIL_READS, tuple(prefix), (), -1, False, None, True)
