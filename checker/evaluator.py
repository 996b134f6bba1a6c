"""The reference evaluator: LANGUAGE.md sections 4 and 7, read literally.

Given a topology and a set of failed units, it answers "is each service up,
why not, and where does each write go". It is deliberately plain: a greatest
fixed point computed by iterating from "everything live serves" downwards,
and direct walks for explanations and writes. The fast engines (graph
algorithms, Z3, decision diagrams) are tested against it, and every
counterexample they find is replayed through it before it is reported.

Liveness: a component is *live* when nothing it runs on has failed (client
groups, jobs, external targets and a ``dns`` with ``served-by`` never fail; a
``managed`` one only with the zone it names). A member of a ``quorum`` cluster
is *usable* only while more than half of the cluster's members are live.

Serving, per kind (sections 3 and 7):

* ``db`` serves when usable.
* ``web``/``service`` serve when usable and every non-optional requirement is
  met. A requirement's targets are tried in order: the first that is
  *available* gets the request, and the requirement is met when it serves.
  Available means, for a component, live and reachable under the policy; for a
  cluster, ``writes``: its current primary exists and is reachable (a
  consensus group: a usable member is), ``reads``/``uses``: some usable member
  is reachable; for a ``dns`` name, live, one of its name servers live and
  reachable (with ``served-by``), and some answer reachable; for an
  ``external`` target, reachable: directly from a public address, else through
  the first live gateway of the source's egress list, the policy allowing
  source -> gateway and source -> external on the external's port.
* a ``job`` serves when every non-optional requirement has *some* target that
  serves, network aside (the job is the work its targets do).
* an ``lb``/``gateway`` listener serves when its owner is live and at least
  ``need`` (default 1) of its targets serve, reached by the policy on the
  forwarded port: a plain target, each member of a plain cluster, the current
  primary for ``primary of C``, a live replica (else the current primary) for
  ``replicas of C``.
* a ``dns`` name serves when it is live and every client group of it (default:
  the internet) resolves it and reaches an answer that serves, from one
  address of the group: resolving needs a name server that serves and that
  the address reaches (``served-by``), or the name's own address on udp/53.

Requirements may form cycles; the greatest fixed point makes a cycle met while
everything on it is live and its other requirements are met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Union

from .graphwalk import postorder
from .model import (
    PRIMARY_OF,
    PUBLIC_SERVICE,
    REPLICAS_OF,
    Cluster,
    Component,
    FailureUnit,
    Kind,
    Listener,
    Requirement,
    Role,
    Topology,
    Verb,
)
from .net import PortSet
from .policy import INTERNET, Decision, Point, Policy, one_per_class

# A node of the serving equations: a component, or one listener of an lb/gateway.
Node = Union[str, tuple[str, int]]

MAX_EXPLANATION_LINES = 12
MAX_CHAIN_SHOWN = 24  # hops of one explanation chain shown before the middle is elided
DNS_PORT = PortSet.single("udp", 53)


@dataclass(frozen=True)
class Explanation:
    """One path's reason a service is down; ``requirement`` is the first unmet
    requirement on that path, if the path reached one."""

    text: str
    requirement: Requirement | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class WriteTrace:
    """Where one write lands in one scenario.

    ``writer`` issued the write; ``hops`` are the components it passed, each with
    what sent it on from there (the requirement, or the listener that forwarded
    it; None for the last), ending at ``landing`` (a db, or a member of a cluster
    of services), or at the last component that could take it when it landed
    nowhere (``landing`` None). ``requirement`` is the requirement whose choice
    sent it to its last hop.
    """

    writer: str
    requirement: Requirement
    hops: tuple[tuple[str, object], ...]
    landing: str | None
    cluster: str | None  # the landing server's cluster, when that cluster has roles
    primary: str | None  # that cluster's current primary in the scenario

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.hops)

    @property
    def bad(self) -> bool:
        """A write that reached a member of a cluster with roles that is not its current primary."""
        return self.landing is not None and self.cluster is not None and self.landing != self.primary


@dataclass(frozen=True)
class Item:
    """One target of a listener as ``need`` counts it: a component (``members`` one
    name), a plain cluster's member, or a role of a cluster (its members, of which
    the scenario picks)."""

    selector: str | None  # None, PRIMARY_OF or REPLICAS_OF
    name: str  # the component, or the cluster for a role
    ports: PortSet | None  # the forwarded ports; None: each candidate's own

    def label(self) -> str:
        return f"{self.selector} of {self.name}" if self.selector else self.name


class Evaluator:
    """Plain evaluation of services and writes under a set of failed units."""

    def __init__(self, topology: Topology, policy: Policy | None = None):
        self.topology = topology
        self.policy = policy or Policy(topology)
        self.components = topology.components
        self._entry_points: dict[tuple[str, PortSet], tuple[tuple[Node, PortSet], ...]] = {}
        self._resolving: dict[str, tuple[Point, ...]] = {}

    def resolving_points(self, source: str) -> tuple[Point, ...]:
        """The packet ends ``source`` may resolve a name from, one per class of ends the
        policy treats alike (:func:`~checker.policy.one_per_class`; all of them for the
        reference policy): whether a name is resolved and an answer reached from the same
        end is the same for every end of a class."""
        hit = self._resolving.get(source)
        if hit is None:
            hit = self._resolving[source] = one_per_class(self.policy, self.policy.source_points(source))
        return hit

    # -- liveness --------------------------------------------------------------

    def live(self, name: str, failed: frozenset[FailureUnit]) -> bool:
        """A component is live when none of the units it runs on has failed."""
        return not failed or not any(unit in failed for unit in self.topology.units_of(name))

    def cluster_of(self, name: str) -> str | None:
        cluster = self.topology.cluster_of(name)
        return cluster.name if cluster is not None else None

    def live_members(self, cluster: str, failed: frozenset[FailureUnit]) -> list[str]:
        return [m for m in self.topology.clusters[cluster].members if self.live(m, failed)]

    def has_majority(self, cluster: str, failed: frozenset[FailureUnit]) -> bool:
        """A cluster acts unless it is a ``quorum`` cluster with half or fewer members live."""
        c = self.topology.clusters[cluster]
        return not c.quorum or len(self.live_members(cluster, failed)) >= c.majority

    def usable(self, name: str, failed: frozenset[FailureUnit]) -> bool:
        """Live, and (for a member of a quorum cluster) its cluster has its majority."""
        if not self.live(name, failed):
            return False
        cluster = self.cluster_of(name)
        return cluster is None or self.has_majority(cluster, failed)

    def current_primary(self, cluster: str, failed: frozenset[FailureUnit]) -> str | None:
        """The declared primary if live; else, with failover auto, the first live member;
        none when a quorum cluster has lost its majority, or the cluster has no roles."""
        c: Cluster = self.topology.clusters[cluster]
        if c.primary is None or not self.has_majority(cluster, failed):
            return None
        if self.live(c.primary, failed):
            return c.primary
        if c.failover.value == "auto":
            for member in c.members:
                if self.live(member, failed):
                    return member
        return None

    def replica_candidates(self, cluster: str, failed: frozenset[FailureUnit]) -> list[str]:
        """``replicas of C``: its live replicas, else its current primary (none without a majority)."""
        if not self.has_majority(cluster, failed):
            return []
        c = self.topology.clusters[cluster]
        replicas = [m for m in c.members if self.components[m].role is Role.REPLICA and self.live(m, failed)]
        if replicas:
            return replicas
        primary = self.current_primary(cluster, failed)
        return [primary] if primary is not None else []

    def egress_gateway(self, source: str, failed: frozenset[FailureUnit]) -> str | None:
        """The first live gateway of ``source``'s egress list."""
        for gateway in self.topology.egress_of(source):
            if self.live(gateway, failed):
                return gateway
        return None

    # -- the serving equations ---------------------------------------------------

    def nodes(self) -> list[Node]:
        out: list[Node] = []
        for comp in self.components.values():
            if comp.kind.by_networks:
                continue  # the internet, client groups and external targets are not served
            if comp.kind.forwards:
                out.extend((comp.name, i) for i in range(len(comp.listeners)))
            else:
                out.append(comp.name)
        return out

    def serving(self, failed: frozenset[FailureUnit], within: Iterable[Node] | None = None) -> dict[Node, bool]:
        """The greatest fixed point of the serving equations.

        Start from "every node serves" and lower a node to False when its equation
        says so; every equation is monotone in the node values, so this chaotic
        iteration reaches the greatest fixed point. A node is re-evaluated only
        when a node its equation reads has just changed (``_dependents``).

        With ``within`` (a set of nodes closed under "reads the value of", such as
        :meth:`cone` gives), only those nodes are evaluated: their equations read
        nothing outside, so iterating them alone from "every node serves" takes
        the very steps the whole iteration takes on them, and ends in the whole
        greatest fixed point's values for them.
        """
        failed = frozenset(failed)
        if within is None:
            value: dict[Node, bool] = {n: True for n in self.nodes()}
            self._lower(value, list(value), failed)
            return value
        value = {n: True for n in within}
        dependents: dict[Node, list[Node]] = {}
        for node in value:
            for read in self._node_reads(node):
                dependents.setdefault(read, []).append(node)
        pending = list(value)
        pending.reverse()  # the iteration takes the last first: the order of ``within`` (see cone)
        self._lower(value, pending, failed, dependents)
        return value

    def _lower(self, value: dict, pending: list, failed: frozenset, dependents: dict | None = None) -> None:
        """The iteration: re-evaluate each pending node that is still true, and when it
        falls, queue the true nodes that read it (those evaluated: ``value`` may hold a
        reads-closed part of the nodes), until nothing changes."""
        if dependents is None:
            dependents = self._dependents()
        queued = set(pending)
        while pending:
            node = pending.pop()
            queued.discard(node)
            if value[node] and not self._node_value(node, failed, value):
                value[node] = False
                for dependent in dependents.get(node, ()):
                    if value.get(dependent) and dependent not in queued:
                        queued.add(dependent)
                        pending.append(dependent)

    def cone(self, services: Iterable[str]) -> dict[Node, None]:
        """The nodes the given services' values depend on: their own nodes (for the
        implicit public service, the entry points of every public component) and
        every node those read, transitively (:meth:`_node_reads`); as the keys of a
        dict, in an order where a node comes after the nodes it reads (but on cycles),
        which :meth:`serving` evaluates from the first, so most nodes are evaluated once.
        The last few are remembered: read the dict, never change it."""
        services = tuple(services)
        memo = self.__dict__.setdefault("_cones", {})
        hit = memo.get(services)
        if hit is not None:  # many scenarios stop the same services (every link of a chain)
            return hit
        if len(memo) >= 8:
            memo.clear()
        hit = memo[services] = self._cone(services)
        return hit

    def _cone(self, services: tuple[str, ...]) -> dict[Node, None]:
        starts: list[Node] = []
        for service in services:
            names = [c.name for c in self._public_components()] if service == PUBLIC_SERVICE else [service]
            starts.extend(e for name in names for e in self._entries_of(name))
        return dict.fromkeys(postorder(starts, self._node_reads, set()))

    def _entries_of(self, name: str) -> list[Node]:
        """Every node whose value a mention of ``name`` may read."""
        if name in self.topology.clusters:
            return [e for m in self.topology.clusters[name].members for e in self._entries_of(m)]
        comp = self.components[name]
        if comp.kind.by_networks:
            return []
        if comp.kind.forwards:
            return [(name, i) for i in range(len(comp.listeners))]
        return [name]

    def _node_reads(self, node: Node) -> tuple[Node, ...]:
        """The nodes whose values the equation of ``node`` may read (an over-approximation:
        every entry point of every target a node may forward, answer or send a request to,
        and every name server of a dns name). Computed once per node."""
        cache = self.__dict__.get("_reads_cache")
        if cache is None:
            cache = self._reads_cache = {}
        hit = cache.get(node)
        if hit is not None:
            return hit
        if isinstance(node, tuple):
            name, index = node
            listener = self.components[name].listeners[index]
            hit = tuple(e for target in listener.targets for e in self._entries_of(target))
        else:
            comp = self.components[node]
            names = list(comp.answers) + list(comp.served_by)
            for req in self.topology.requirements_of(node):
                for target in req.targets:
                    names.append(target)
                    if target in self.components and self.components[target].kind is Kind.DNS:
                        names.extend(self.components[target].answers)
                        names.extend(self.components[target].served_by)
            hit = tuple(e for n in names for e in self._entries_of(n))
        cache[node] = hit
        return hit

    def _dependents(self) -> dict[Node, set[Node]]:
        """For each node, the nodes whose equations read its value (:meth:`_node_reads`
        inverted, over every node)."""
        cached = getattr(self, "_dependents_cache", None)
        if cached is not None:
            return cached
        out: dict[Node, set[Node]] = {}
        for node in self.nodes():
            for read in self._node_reads(node):
                out.setdefault(read, set()).add(node)
        self._dependents_cache = out
        return out

    def _node_value(self, node: Node, failed: frozenset[FailureUnit], value: dict[Node, bool]) -> bool:
        if isinstance(node, tuple):
            name, index = node
            if not self.live(name, failed):
                return False
            listener = self.components[name].listeners[index]
            serving = sum(1 for item in self.items(listener) if self._item_serves(name, item, failed, value))
            return serving >= listener.need
        comp = self.components[node]
        if comp.kind is Kind.JOB:
            return all(req.optional or self._job_requirement_met(req, failed, value)
                       for req in self.topology.requirements_of(node))
        if not self.usable(node, failed):
            return False
        if comp.kind is Kind.DB:
            return True
        if comp.kind is Kind.DNS:
            return all(self._group_reaches(node, group, failed, value) for group in self.client_groups(comp))
        return all(
            req.optional or self.requirement_met(req, failed, value)
            for req in self.topology.requirements_of(node)
        )

    # -- listeners -----------------------------------------------------------------

    def items(self, listener: Listener) -> list[Item]:
        """What ``need`` counts: each plain target, each member of a plain cluster, each role."""
        out = []
        for index, target in enumerate(listener.targets):
            selector = listener.selector(index)
            if selector is None and target in self.topology.clusters:
                out.extend(Item(None, m, listener.target_ports) for m in self.topology.clusters[target].members)
            else:
                out.append(Item(selector, target, listener.target_ports))
        return out

    def item_candidates(self, item: Item, failed: frozenset[FailureUnit]) -> list[str]:
        """The components an item may send to in this scenario."""
        if item.selector == PRIMARY_OF:
            primary = self.current_primary(item.name, failed)
            return [primary] if primary is not None else []
        if item.selector == REPLICAS_OF:
            return self.replica_candidates(item.name, failed)
        return [item.name]

    def forward_ports(self, item: Item, target: str) -> PortSet:
        return item.ports or self.components[target].service_ports

    def _item_serves(self, owner: str, item: Item, failed, value) -> bool:
        return any(self._hop_serves(owner, target, self.forward_ports(item, target), failed, value)
                   for target in self.item_candidates(item, failed))

    def _forwards(self, name: str, listener: Listener) -> list[tuple[str, PortSet]]:
        """(target, ports the forward is sent to) for every component a listener may
        ever send to (every member of a cluster, whatever its role)."""
        out = []
        for item in self.items(listener):
            members = self.topology.clusters[item.name].members if item.selector else (item.name,)
            out.extend((member, self.forward_ports(item, member)) for member in members)
        return out

    def entry_points(self, target: str, ports: PortSet) -> tuple[tuple[Node, PortSet], ...]:
        """The nodes a connection to ``target`` on ``ports`` may be served by, with the
        ports it arrives on: a listener whose ports overlap, or the component itself
        (a function of the model alone: computed once per target and ports)."""
        key = (target, ports)
        hit = self._entry_points.get(key)
        if hit is None:
            hit = self._entry_points[key] = tuple(self._entry_points_of(target, ports))  # (kept: a tuple)
        return hit

    def _entry_points_of(self, target: str, ports: PortSet) -> list[tuple[Node, PortSet]]:
        comp = self.components[target]
        if comp.kind.forwards:
            return [
                ((target, i), ports & listener.ports)
                for i, listener in enumerate(comp.listeners)
                if ports & listener.ports
            ]
        accepted = ports & comp.listen if comp.listen is not None else ports
        return [(target, accepted)] if accepted else []

    def _hop_serves(self, source: str, target: str, ports: PortSet, failed, value, point: Point | None = None) -> bool:
        """Some entry point of ``target`` on ``ports`` serves and ``source`` (or its one
        packet end ``point``) may connect to it there."""
        for node, arriving in self.entry_points(target, ports):
            if not value[node]:
                continue
            if point is None:
                if self.policy.allowed(source, target, arriving):
                    return True
            elif self.policy.connect_from(point, source, target, arriving):
                return True
        return False

    # -- dns names ------------------------------------------------------------------

    def client_groups(self, dns: Component) -> tuple[str, ...]:
        """Who resolves a name: its ``clients`` groups, else the internet."""
        return dns.clients or (INTERNET,)

    def _resolution_free(self, dns: Component) -> bool:
        """Whether resolving needs no packet: a managed name, or one that is its own host
        without an address."""
        return not dns.served_by and not dns.addresses

    def _group_reaches(self, dns: str, group: str, failed, value) -> bool:
        """One address of ``group`` resolves ``dns`` and reaches an answer that serves."""
        comp = self.components[dns]
        if self._resolution_free(comp):
            return any(self._hop_serves(group, a, self.components[a].service_ports, failed, value)
                       for a in comp.answers)
        return any(self._resolves_from(comp, group, point, failed, value)
                   and any(self._hop_serves(group, a, self.components[a].service_ports, failed, value, point)
                           for a in comp.answers)
                   for point in self.resolving_points(group))

    def _resolves_from(self, dns: Component, source: str, point: Point, failed, value) -> bool:
        if dns.served_by:
            return any(self._hop_serves(source, ns, self.components[ns].service_ports, failed, value, point)
                       for ns in dns.served_by)
        if dns.addresses:
            return bool(self.policy.connect_from(point, source, dns.name, DNS_PORT))
        return True

    def _dns_serves_to(self, source: str, dns: Component, failed, value) -> bool:
        """A requirement's source reaches a serving answer of ``dns``, having resolved it
        from the same address."""
        if self._resolution_free(dns):
            return any(self._hop_serves(source, a, self.components[a].service_ports, failed, value)
                       for a in dns.answers if self.live(a, failed))
        return any(self._resolves_from(dns, source, point, failed, value)
                   and any(self._hop_serves(source, a, self.components[a].service_ports, failed, value, point)
                           for a in dns.answers if self.live(a, failed))
                   for point in self.resolving_points(source))

    # -- requirements ------------------------------------------------------------

    def requirement_choice(
        self, req: Requirement, failed: frozenset[FailureUnit]
    ) -> tuple[str | None, list[tuple[str, str]]]:
        """The target that gets the request (the first available one), and why each
        earlier target was passed over."""
        skipped: list[tuple[str, str]] = []
        for target in req.targets:
            why_not = self._unavailable(req, target, failed)
            if why_not is None:
                return target, skipped
            skipped.append((target, why_not))
        return None, skipped

    def _unavailable(self, req: Requirement, target: str, failed: frozenset[FailureUnit]) -> str | None:
        """None when ``target`` is available to the requirement's source (see the module doc)."""
        source = req.source
        if target in self.topology.clusters:
            cluster = self.topology.clusters[target]
            if not self.has_majority(target, failed):
                return self.majority_text(target, failed)
            if req.verb is Verb.WRITES and cluster.has_roles:
                primary = self.current_primary(target, failed)
                if primary is None:
                    return f"{target} has no live primary (failover {cluster.failover.value})"
                return self._unreachable(source, primary)
            live = self.live_members(target, failed)
            if not live:
                return f"every member of {target} is down"
            reasons = [self._unreachable(source, m) for m in live]
            if all(reasons):
                return reasons[0]
            return None
        comp = self.components[target]
        if comp.kind is Kind.EXTERNAL:
            return self._external_unavailable(source, comp, failed)
        if not self.live(target, failed):
            return f"{target} is down ({self.failed_units_of(target, failed)})"
        if comp.kind is Kind.DNS:
            if comp.served_by:
                servers = [ns for ns in comp.served_by if self.live(ns, failed)]
                if not servers:
                    return f"every name server of {target} is down ({', '.join(comp.served_by)})"
                reasons = [self._unreachable(source, ns) for ns in servers]
                if all(reasons):
                    return reasons[0]
            elif comp.addresses:
                decision = self.policy.connect(source, target, DNS_PORT)
                if not decision:
                    return denial_text(source, target, DNS_PORT, decision)
            reasons = [self._unreachable(source, a) for a in comp.answers]
            return None if not all(reasons) else reasons[0]
        return self._unreachable(source, target)

    def _external_unavailable(self, source: str, external: Component, failed) -> str | None:
        ports = external.service_ports
        if self.components[source].public_addresses:
            return self._unreachable(source, external.name)
        gateways = self.topology.egress_of(source)
        if not gateways:
            return (f"{source} has no public address and no egress gateway, so it cannot reach the external "
                    f"target {external.name}")
        gateway = self.egress_gateway(source, failed)
        if gateway is None:
            downs = "; ".join(self.down_text(g, failed) for g in gateways)
            return f"every egress gateway of {source} is down: {downs}"
        decision = self.policy.connect(source, gateway, ports)
        if not decision:
            return f"egress through {gateway}: {denial_text(source, gateway, ports, decision)}"
        return self._unreachable(source, external.name)

    def _unreachable(self, source: str, target: str) -> str | None:
        ports = self.components[target].service_ports
        if self.policy.allowed(source, target, ports):
            return None
        return denial_text(source, target, ports, self.policy.connect(source, target, ports))

    def requirement_met(self, req: Requirement, failed: frozenset[FailureUnit], value: dict[Node, bool]) -> bool:
        target, _ = self.requirement_choice(req, failed)
        if target is None:
            return False
        return self._target_serves(req, target, failed, value)

    def _target_serves(self, req: Requirement, target: str, failed, value) -> bool:
        source = req.source
        if target in self.topology.clusters:
            return any(self._member_serves(source, m, failed, value)
                       for m in self._cluster_recipients(req, target, failed))
        comp = self.components[target]
        if comp.kind is Kind.EXTERNAL:
            return True  # available: reached, and an external target never fails
        if comp.kind is Kind.DNS:
            return self._dns_serves_to(source, comp, failed, value)
        return self._hop_serves(source, target, comp.service_ports, failed, value)

    def _cluster_recipients(self, req: Requirement, cluster: str, failed) -> list[str]:
        """The members a request to a cluster endpoint may go to: the current primary for
        a write to a cluster with roles, else every live member."""
        if req.verb is Verb.WRITES and self.topology.clusters[cluster].has_roles:
            primary = self.current_primary(cluster, failed)
            return [primary] if primary is not None else []
        return self.live_members(cluster, failed)

    def _member_serves(self, source: str, member: str, failed, value) -> bool:
        comp = self.components[member]
        return self._hop_serves(source, member, comp.service_ports, failed, value)

    def _job_requirement_met(self, req: Requirement, failed, value) -> bool:
        """A job's requirement: some target serves (network aside)."""
        return any(self._serves_unreached(req, target, failed, value) for target in req.targets)

    def _serves_unreached(self, req: Requirement, target: str, failed, value) -> bool:
        if target in self.topology.clusters:
            if not self.has_majority(target, failed):
                return False
            return any(value[m] for m in self._cluster_recipients(req, target, failed))
        comp = self.components[target]
        if comp.kind is Kind.EXTERNAL:
            return True
        return any(value[e] for e in self._entries_of(target))

    # -- services ----------------------------------------------------------------

    def services_up(self, failed: Iterable[FailureUnit] = (), among: Iterable[str] | None = None) -> dict[str, bool]:
        """For each service (dns name, job, or the implicit public service), whether it is
        up; with ``among``, for those services only, from their :meth:`cone` alone."""
        failed = frozenset(failed)
        names = list(self.topology.services) if among is None else list(among)
        value = self.serving(failed, None if among is None else self.cone(names))
        out = {}
        for name in names:
            if name == PUBLIC_SERVICE:
                out[name] = self._public_service_up(failed, value)
            else:
                out[name] = value[name]
        return out

    def _public_components(self) -> list[Component]:
        return [c for c in self.components.values()
                if c.public_addresses and c.kind not in (Kind.DNS, Kind.INTERNET)]

    def _public_service_up(self, failed, value) -> bool:
        return any(self._hop_serves(INTERNET, comp.name, comp.service_ports, failed, value)
                   for comp in self._public_components())

    def stopped(self, failed: Iterable[FailureUnit], among: Iterable[str] | None = None) -> list[str]:
        """The services that are down in this scenario (of ``among``, when given), sorted."""
        return sorted(name for name, up in self.services_up(failed, among).items() if not up)

    # -- explanations ------------------------------------------------------------

    def failed_units_of(self, name: str, failed: frozenset[FailureUnit]) -> str:
        units = [u.label for u in self.topology.units_of(name) if u in failed]
        return "failed: " + ", ".join(units) if units else "failed"

    def majority_text(self, cluster: str, failed: frozenset[FailureUnit]) -> str:
        c = self.topology.clusters[cluster]
        live = len(self.live_members(cluster, failed))
        return f"{cluster} lost its majority: {live} of {len(c.members)} members live"

    def down_text(self, name: str, failed: frozenset[FailureUnit]) -> str:
        """Why a component cannot act: it is down, or its quorum cluster lost its majority."""
        if not self.live(name, failed):
            return f"{name} is down ({self.failed_units_of(name, failed)})"
        return self.majority_text(self.cluster_of(name), failed)

    def explain(self, service: str, failed: Iterable[FailureUnit] = ()) -> list[Explanation]:
        """Why a service is down: the first unmet thing on each path, as chains of hops."""
        failed = frozenset(failed)
        value = self.serving(failed, self.cone([service]))  # the walk reads nothing else
        walk = _Walk(self, failed, value)
        if service == PUBLIC_SERVICE:
            public = self._public_components()
            if not public:
                return [Explanation("no component has a public address, so clients on the internet reach nothing")]
            for comp in public:
                walk.hop(INTERNET, comp.name, comp.service_ports, [comp.name])
            return walk.run()
        comp = self.components[service]
        if comp.kind is Kind.JOB:
            walk.node(service, [service])
            return walk.run()
        if not self.live(service, failed):
            return [Explanation(f"{service} is down ({self.failed_units_of(service, failed)})")]
        for group in self.client_groups(comp):
            who = "clients on the internet" if group == INTERNET else f"client group {group}"
            if self._group_reaches(service, group, failed, value):
                continue
            if not self._resolution_free(comp):
                resolving = [p for p in self.resolving_points(group)
                             if self._resolves_from(comp, group, p, failed, value)]
                if not resolving:
                    walk.resolution(service, group, who, [service])
                    continue
            walk.answers(service, group, who, self._resolution_free(comp))
        return walk.run()

    # -- writes ------------------------------------------------------------------

    def writes(self, failed: Iterable[FailureUnit] = ()) -> list[WriteTrace]:
        """Every write every component issues, and where it lands, in this scenario.

        A write goes to the first available target of a ``writes`` requirement (for a
        job: to every target that serves): a cluster with roles sends it to its
        current primary, a consensus group to its live members, a db or a cluster
        member by name takes it whatever its role, a web or service passes it on
        along its own ``writes`` requirements, and an lb or gateway forwards it
        where its listeners may: a ``primary of C`` target to C's current primary,
        any other target to each live one it could pick (each is traced).
        """
        failed = frozenset(failed)
        out: list[WriteTrace] = []
        for req in self.topology.requirements:
            if req.verb is Verb.WRITES:
                out.extend(self.writes_of(req, failed))
        return out

    def writes_of(self, req: Requirement, failed: Iterable[FailureUnit] = ()) -> list[WriteTrace]:
        """The part of :meth:`writes` that one ``writes`` requirement issues (none
        when its source has failed: a failed server issues no writes)."""
        failed = frozenset(failed)
        out: list[WriteTrace] = []
        if req.verb is Verb.WRITES and self.live(req.source, failed):
            self._trace(req.source, req, (), failed, out, frozenset({req.source}))
        return out

    def _trace(self, writer, req, hops, failed, out, seen) -> None:
        hops = hops + ((req.source, req),)
        if self.components[req.source].kind is Kind.JOB:
            value = self.serving(failed)
            targets = [t for t in req.targets if self._serves_unreached(req, t, failed, value)]
            if not targets:
                out.append(WriteTrace(writer, req, hops, None, None, None))
            for target in targets:
                self._deliver(writer, req, hops, target, req.source, failed, out, seen)
            return
        target, _ = self.requirement_choice(req, failed)
        if target is None:
            out.append(WriteTrace(writer, req, hops, None, None, None))
            return
        self._deliver(writer, req, hops, target, req.source, failed, out, seen)

    def _deliver(self, writer, req, hops, target, sender, failed, out, seen) -> None:
        if target in self.topology.clusters:
            cluster = self.topology.clusters[target]
            if cluster.has_roles:
                primary = self.current_primary(target, failed)
                if primary is None:
                    out.append(WriteTrace(writer, req, hops + ((target, None),), None, None, None))
                else:
                    out.append(WriteTrace(writer, req, hops + ((primary, None),), primary, target, primary))
            else:  # a consensus group: any live member acts for it, while it has its majority
                for member in self.live_members(target, failed) if self.has_majority(target, failed) else ():
                    out.append(WriteTrace(writer, req, hops + ((member, None),), member, None, None))
            return
        comp = self.components[target]
        cluster = self.topology.cluster_of(target)
        if comp.kind is Kind.DB or cluster is not None:
            if cluster is not None and not self.has_majority(cluster.name, failed):
                out.append(WriteTrace(writer, req, hops + ((target, None),), None, None, None))  # it refuses
            elif cluster is None or not cluster.has_roles:
                out.append(WriteTrace(writer, req, hops + ((target, None),), target, None, None))
            else:
                out.append(WriteTrace(writer, req, hops + ((target, None),), target, cluster.name,
                                      self.current_primary(cluster.name, failed)))
            return
        if comp.kind is Kind.EXTERNAL or target in seen:
            out.append(WriteTrace(writer, req, hops + ((target, None),), None, None, None))
            return
        seen = seen | {target}
        if comp.kind is Kind.DNS:
            for answer in comp.answers:
                if self.live(answer, failed) and self.policy.connect(sender, answer, self.components[answer].service_ports):
                    self._deliver(writer, req, hops, answer, sender, failed, out, seen)
            return
        if comp.kind.forwards:
            value = self.serving(failed)
            for listener in comp.listeners:
                for item in self.items(listener):
                    for member in self.item_candidates(item, failed):
                        if self._hop_serves(target, member, self.forward_ports(item, member), failed, value):
                            self._deliver(writer, req, hops + ((target, listener),), member, target, failed, out,
                                          seen)
            return
        onward = [r for r in self.topology.requirements_of(target) if r.verb is Verb.WRITES]
        if not onward:
            out.append(WriteTrace(writer, req, hops + ((target, None),), None, None, None))
        for nxt in onward:
            self._trace(writer, nxt, hops, failed, out, seen)


class _Walk:
    """The explanation of a down service, as an explicit depth-first walk (no recursion,
    so a chain of any length is explained): the first unmet thing on each path, each
    line prefixed by the hops and requirements that led to it.

    Each step costs the same however deep the walk is: a prefix is a linked list of
    its hops (:func:`_extend`), rendered only for a line that is added (the middle
    elided past :data:`MAX_CHAIN_SHOWN` hops, like a chain), and the nodes on the
    current path are one set, a node leaving it when its subtree is done."""

    def __init__(self, evaluator: Evaluator, failed: frozenset[FailureUnit], value: dict[Node, bool]):
        self.ev = evaluator
        self.failed = failed
        self.value = value
        self.lines: list[Explanation] = []
        # a task: ("hop", source, target, ports, chain, prefix, requirement)
        #         ("node", node, chain, prefix, requirement)
        #         ("line", text, requirement)
        #         ("mark", cell), ("unless", cell, text, requirement): add text if no line came
        #         between the two (text: a string, or a prefix and the rest)
        #         ("leave", node): the node's subtree is done
        self.tasks: list[tuple] = []
        self.on_path: set = set()

    def run(self) -> list[Explanation]:
        self.tasks.reverse()  # tasks queued at top level run in the order they were queued
        steps = {name: getattr(self, f"_{name}") for name in ("hop", "node", "line", "mark", "unless", "leave")}
        tasks, lines = self.tasks, self.lines
        while tasks and len(lines) < MAX_EXPLANATION_LINES:
            task = tasks.pop()
            steps[task[0]](*task[1:])
        return _dedupe(self.lines)

    def hop(self, source: str, target: str, ports: PortSet, chain: list[str]) -> None:
        self.tasks.append(("hop", source, target, ports, chain, "", None))

    def node(self, node: Node, chain: list[str]) -> None:
        self.tasks.append(("node", node, chain, "", None))

    def answers(self, dns: str, group: str, who: str, resolution_free: bool) -> None:
        """Why no answer of ``dns`` serves ``group``; for a name resolved over the network,
        when each answer is fine on its own, that no resolving address reaches one."""
        components = self.ev.components
        children = [("hop", group, a, components[a].service_ports, [dns, a], "", None)
                    for a in components[dns].answers]
        if resolution_free:
            self.tasks.extend(children)
            return
        self.tasks.extend(self.guarded(
            children, f"{dns}: {who} that resolve {dns} reach no answer that serves from the address they "
                      "resolved it from (a client resolves and connects from one address)", None))

    def resolution(self, dns: str, group: str, who: str, chain: list[str]) -> None:
        comp = self.ev.components[dns]
        if comp.served_by:
            children = [("hop", group, ns, self.ev.components[ns].service_ports, chain + [ns], "", None)
                        for ns in comp.served_by]
            self.tasks.extend(self.guarded(children, f"{_chain(chain)}: {who} reach no name server of {dns} "
                                                     "that serves", None))
        else:
            decision = self.ev.policy.connect(group, dns, DNS_PORT)
            self.tasks.append(("line", f"{_chain(chain)}: {denial_text(group, dns, DNS_PORT, decision)}", None))

    def add(self, text: str, prefix, requirement: Requirement | None) -> None:
        self.lines.append(Explanation(_render(prefix) + text, requirement))

    def push_children(self, tasks: list[tuple]) -> None:
        """Children run next, in the order given (the stack is last in, first out)."""
        self.tasks.extend(reversed(tasks))

    def _line(self, text: str, requirement) -> None:
        self.lines.append(Explanation(text, requirement))

    def _mark(self, cell: list) -> None:
        cell.append(len(self.lines))

    def _unless(self, cell: list, text, requirement) -> None:
        if len(self.lines) == cell[0]:
            if text.__class__ is tuple:
                text = _render(text[0]) + text[1]
            self.lines.append(Explanation(text, requirement))

    def _leave(self, node) -> None:
        self.on_path.discard(node)

    def guarded(self, children: list[tuple], text: str, requirement) -> list[tuple]:
        """``children``, then ``text`` when they added no line."""
        cell: list = []
        return [("mark", cell), *children, ("unless", cell, text, requirement)]

    def _hop(self, source, target, ports, chain, prefix, requirement) -> None:
        ev = self.ev
        head = _chain(chain)
        who = "clients on the internet" if source == INTERNET else (
            f"client group {source}" if source in ev.components and ev.components[source].kind is Kind.CLIENTS
            else source)
        if source == INTERNET and not ev.components[target].public_addresses:
            self.add(f"{head}: {target} has no public address, so {who} cannot reach it", prefix, requirement)
            return
        entries = ev.entry_points(target, ports)
        if not entries:
            self.add(f"{head}: {target} does not listen on {ports}", prefix, requirement)
            return
        children = []
        for node, arriving in entries:
            decision = ev.policy.connect(source, target, arriving)
            if not decision:
                self.add(f"{head}: {denial_text(source, target, arriving, decision)}", prefix, requirement)
                continue
            if self.value[node]:
                continue
            children.append(("node", node, chain, prefix, requirement))
        self.push_children(children)

    def _node(self, node, chain, prefix, requirement) -> None:
        ev = self.ev
        head = _chain(chain)
        name = node[0] if isinstance(node, tuple) else node
        comp = ev.components[name]
        if comp.kind is not Kind.JOB and not ev.usable(name, self.failed):
            self.add(f"{head}: {ev.down_text(name, self.failed)}", prefix, requirement)
            return
        if node in self.on_path:
            self.add(f"{head}: requirement cycle through {name} is not met", prefix, requirement)
            return
        self.on_path.add(node)
        self.tasks.append(("leave", node))  # below the children this step pushes: runs after them
        if isinstance(node, tuple):
            self._listener(node, chain, prefix, requirement)
            return
        if comp.kind is Kind.DNS:  # a dns name reached by a requirement: its answers
            children = [("hop", name, a, ev.components[a].service_ports, chain + [a], prefix, requirement)
                        for a in comp.answers]
            self.push_children(children)
            return
        for req in ev.topology.requirements_of(name):
            if comp.kind is Kind.JOB:
                if req.optional or ev._job_requirement_met(req, self.failed, self.value):
                    continue
                self._job_requirement(req, chain, prefix, requirement)
                return
            if req.optional or ev.requirement_met(req, self.failed, self.value):
                continue
            if self._requirement(name, req, chain, prefix, requirement):
                return  # the first unmet requirement on this path that leads further

    def _listener(self, node, chain, prefix, requirement) -> None:
        ev = self.ev
        name, index = node
        head = _chain(chain)
        listener = ev.components[name].listeners[index]
        items = ev.items(listener)
        if not items:
            self.add(f"{head}: listener {listener.ports} has no targets", prefix, requirement)
            return
        if listener.need > 1:
            serving = [i.label() for i in items if ev._item_serves(name, i, self.failed, self.value)]
            self.add(f"{head}: listener {listener.ports} needs {listener.need} of {len(items)} targets, "
                     f"{len(serving)} serve{'s' if len(serving) == 1 else ''}"
                     + (f" ({', '.join(serving)})" if serving else ""), prefix, requirement)
        children = []
        for item in items:
            if ev._item_serves(name, item, self.failed, self.value):
                continue
            candidates = ev.item_candidates(item, self.failed)
            if item.selector and not candidates:
                why = (ev.majority_text(item.name, self.failed) if not ev.has_majority(item.name, self.failed)
                       else f"{item.name} has no live {'primary' if item.selector == PRIMARY_OF else 'replica or primary'}")
                self.add(f"{head} -> {item.label()}: {why}", prefix, requirement)
                continue
            for target in candidates:
                children.append(("hop", name, target, ev.forward_ports(item, target), chain + [target],
                                 prefix, requirement))
        self.push_children(children)

    def _requirement(self, name, req, chain, prefix, requirement) -> bool:
        """Explain one unmet requirement: a line when no target is available (False: the
        walk goes on to the next requirement), else the walk into the chosen target."""
        ev = self.ev
        head = f"{_chain(chain)}: {req.source} {req.verb.value} {', '.join(req.targets)} (line {req.span.line})"
        requirement = requirement or req
        target, skipped = ev.requirement_choice(req, self.failed)
        if target is None:
            reasons = "; ".join(reason for _, reason in skipped)
            self.add(f"{head}: {reasons}", prefix, requirement)
            return False
        inner = _extend(prefix, head)
        if target in ev.topology.clusters:
            members = ev._cluster_recipients(req, target, self.failed)
            children = [("hop", name, m, ev.components[m].service_ports, [m], inner, requirement)
                        for m in members]
            self.push_children(self.guarded(children, (prefix, f"{head}: {target} does not serve"), requirement))
            return True
        comp = ev.components[target]
        if comp.kind is Kind.DNS:
            if not ev._resolution_free(comp) and not any(
                    ev._resolves_from(comp, name, p, self.failed, self.value) for p in ev.resolving_points(name)):
                children = [("hop", name, ns, ev.components[ns].service_ports, [ns], inner, requirement)
                            for ns in comp.served_by]
                self.push_children(self.guarded(children, (prefix, f"{head}: {name} cannot resolve {target}"),
                                                requirement))
                return True
            children = [("hop", name, a, ev.components[a].service_ports, [target, a], inner, requirement)
                        for a in comp.answers if ev.live(a, self.failed)]
            self.push_children(self.guarded(children, (prefix, f"{head}: {target} does not serve"), requirement))
            return True
        if comp.kind is Kind.EXTERNAL:
            self.add(f"{head}: {target} does not serve", prefix, requirement)
            return False
        self.push_children(self.guarded([("hop", name, target, comp.service_ports, [target], inner, requirement)],
                                        (prefix, f"{head}: {target} does not serve"), requirement))
        return True

    def _job_requirement(self, req, chain, prefix, requirement) -> None:
        """A job's unmet requirement: the walk into each target that is up but does not
        serve; when every target is down, why each one is."""
        ev = self.ev
        head = f"{_chain(chain)}: {req.source} {req.verb.value} {', '.join(req.targets)} (line {req.span.line})"
        requirement = requirement or req
        reasons = []
        children = []
        for target in req.targets:
            if target in ev.topology.clusters:
                if not ev.has_majority(target, self.failed):
                    reasons.append(ev.majority_text(target, self.failed))
                elif not ev._cluster_recipients(req, target, self.failed):
                    reasons.append(f"{target} has no live primary")
                else:
                    reasons.append(f"no member of {target} serves")
                continue
            comp = ev.components[target]
            live = ev.live(target, self.failed) if comp.kind.forwards else ev.usable(target, self.failed)
            if not live:
                reasons.append(ev.down_text(target, self.failed))
                continue
            for entry in ev._entries_of(target):
                children.append(("node", entry, [target], _extend(prefix, head), requirement))
        if children:
            self.push_children(children)
            return
        self.add(f"{head}: no target serves: {'; '.join(reasons)}", prefix, requirement)


def _extend(prefix, head: str) -> tuple:
    """The prefix of an explanation line one requirement deeper: ``(parent, head, depth)``
    (the root prefix is ``""``); shared by the walk's tasks, rendered by :func:`_render`."""
    return (prefix, head, 1 if prefix == "" else prefix[2] + 1)


def _render(prefix) -> str:
    """``head -> head -> ``: the prefix as it starts a line, the middle elided when it is
    very long (as :func:`_chain` elides a chain)."""
    if prefix == "":
        return ""
    heads = []
    while prefix != "":
        heads.append(prefix[1])
        prefix = prefix[0]
    heads.reverse()
    if len(heads) > MAX_CHAIN_SHOWN:
        half = MAX_CHAIN_SHOWN // 2
        heads = heads[:half] + [f"... ({len(heads) - 2 * half} more)"] + heads[-half:]
    return "".join(head + " -> " for head in heads)


def _chain(chain: list[str]) -> str:
    """``a -> b -> c``, the middle elided when the chain is very long."""
    if len(chain) > MAX_CHAIN_SHOWN:
        half = MAX_CHAIN_SHOWN // 2
        chain = chain[:half] + [f"... ({len(chain) - 2 * half} more)"] + chain[-half:]
    return " -> ".join(chain)


def denial_text(source: str, target: str, ports: PortSet, decision: Decision) -> str:
    """'no rule allows a -> b tcp/5432' or 'rule at line 12 denies a -> b tcp/5432'."""
    who = "clients on the internet" if source == INTERNET else source
    if decision.rule is not None:
        return f"the rule at line {decision.rule.line} denies {who} -> {target} {ports}"
    return f"no rule allows {who} -> {target} {ports}"


def _dedupe(lines: list[Explanation]) -> list[Explanation]:
    seen: dict[Explanation, None] = {}
    for line in lines:
        seen.setdefault(line, None)
    return list(seen)[:MAX_EXPLANATION_LINES]
