"""The network policy: ordered ``allow``/``deny`` rules, first match decides.

This is the plain reading of LANGUAGE.md section 3, used by the reference
evaluator and as the oracle for the packet engine. A *connection* from a source
to a destination on a set of ports exists when, for some address of the source,
some address of the destination of the same family, and some port of the set,
the first rule that matches is an ``allow``. Components without an address are
matched only by rules that name them (or name their cluster, or say ``any``),
and pair with an address of either family.

Some components stand for many addresses rather than a machine's own
(:attr:`checker.model.Kind.by_networks`): the internet is every public address,
a client group the networks written for it, an external target its networks.
For them, one address per cell of the address partition the rules (and the
private ranges, the components' addresses and these networks) induce stands for
every address of the cell (see :func:`checker.net.cell_starts`), which makes
the search exhaustive. A packet from a public address of such a source (a
client on the internet) reaches only public addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import ip_network

from .model import Endpoint, Kind, Rule, Topology
from .net import IPAddress, PortSet, cell_starts, is_public, same_family

INTERNET = "(internet)"  # the source of client packets: every public address


@dataclass(frozen=True, slots=True)
class Point:
    """One end of a packet: an address, or a component without addresses (by name)."""

    address: IPAddress | None
    component: str | None
    # computed once: points key every policy cache, and an address hashes in Python
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    def __str__(self) -> str:
        return str(self.address) if self.address is not None else self.component or "?"

    def __hash__(self) -> int:
        hit = self._hash
        if hit is None:
            hit = hash((self.address, self.component))
            object.__setattr__(self, "_hash", hit)
        return hit

    def __reduce__(self):  # never the cached hash: a string hashes differently in another process
        return Point, (self.address, self.component)


@dataclass(frozen=True, slots=True)
class Packet:
    src: Point
    dst: Point
    protocol: str
    port: int


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a connection exists; for an allowed one, a witness packet and the rule."""

    allowed: bool
    packet: Packet | None = None
    rule: Rule | None = None  # the allow that admitted it, or the first deny that blocked it

    def __bool__(self) -> bool:
        return self.allowed


def reaches(src: Point, dst: Point, src_by_networks: bool) -> bool:
    """Whether a packet may go from ``src`` to ``dst`` at all, before any rule: one
    address family, and a client on the internet (a public address of the internet,
    a client group or an external target) reaches only public addresses."""
    if not same_family(src.address, dst.address):
        return False
    if src_by_networks and src.address is not None and is_public(src.address):
        return dst.address is not None and is_public(dst.address)
    return True


def one_per_class(policy, points: tuple[Point, ...]) -> tuple[Point, ...]:
    """``points`` (packet ends of one source), the first of each class ``policy`` treats
    alike (its ``source_class``, when it has one: the indexed policy), else all of them.
    Every end of a class is allowed and blocked to the same ends on the same ports, so a
    question asked from each (a client resolving a name and reaching an answer from the
    same end) is answered by one; the internet has an end per public cell, thousands in
    a large file."""
    source_class = getattr(policy, "source_class", None)
    if source_class is None:
        return points
    first: dict = {}
    for point in points:
        first.setdefault(source_class(point), point)
    return tuple(first.values())


class Policy:
    """First-match evaluation of a topology's rules."""

    def __init__(self, topology: Topology):
        self.topology = topology
        self.rules = topology.rules
        self.open = not topology.has_policy
        self._cache: dict[tuple[str, str, PortSet], Decision] = {}

    # -- endpoints -------------------------------------------------------------

    def endpoint_matches(self, endpoint: Endpoint, point: Point) -> bool:
        """Whether a rule endpoint covers a packet end."""
        if endpoint.kind == "any":
            return True
        if endpoint.kind == "internet":
            return point.address is not None and is_public(point.address)
        if endpoint.kind == "network":
            net = endpoint.value
            return point.address is not None and point.address.version == net.version and point.address in net
        if endpoint.kind == "cluster":
            members = self.topology.clusters[endpoint.value].members
            return any(self._component_matches(m, point) for m in members)
        return self._component_matches(endpoint.value, point)

    def _component_matches(self, name: str, point: Point) -> bool:
        comp = self.topology.components[name]
        if point.address is None:
            return point.component == name
        if comp.kind is Kind.INTERNET:
            return is_public(point.address)
        if comp.networks:
            return any(point.address.version == n.version and point.address in n for n in comp.networks)
        return point.address in comp.addresses

    def first_match(self, src: Point, dst: Point, ports: PortSet) -> Decision:
        """The first-match verdict for packets between two points on any of ``ports``."""
        remaining = ports
        blocker: Rule | None = None
        for rule in self.rules:
            if not any(self.endpoint_matches(e, src) for e in rule.sources):
                continue
            if not any(self.endpoint_matches(e, dst) for e in rule.destinations):
                continue
            hit = remaining & rule.ports
            if not hit:
                continue
            if rule.action == "allow":
                protocol, port = hit.sample()
                return Decision(True, Packet(src, dst, protocol, port), rule)
            blocker = blocker or rule
            remaining = remaining - hit
            if not remaining:
                break
        return Decision(False, None, blocker)

    # -- packet ends -----------------------------------------------------------

    @cached_property
    def cells(self) -> tuple[IPAddress, ...]:
        """One address per cell of the partition every rule network, component address
        (and the address after it: a rule naming a component matches its address only)
        and component network induces, private ranges included; sorted."""
        networks = [e.value for r in self.rules for e in r.sources + r.destinations if e.kind == "network"]
        for comp in self.topology.components.values():
            networks += [ip_network(a) for a in comp.addresses]
            networks += list(comp.networks)
        return tuple(cell_starts(networks))

    @cached_property
    def internet_points(self) -> tuple[Point, ...]:
        return tuple(Point(a, None) for a in self.cells if is_public(a))

    def by_networks(self, name: str) -> bool:
        """Whether a source or destination stands for many addresses (the internet, a
        client group, an external target)."""
        return name == INTERNET or self.topology.components[name].kind.by_networks

    def source_points(self, source: str) -> tuple[Point, ...]:
        if source == INTERNET or self.topology.components[source].kind is Kind.INTERNET:
            return self.internet_points
        return self._points(source)

    def destination_points(self, destination: str) -> tuple[Point, ...]:
        return self._points(destination)

    def _points(self, name: str) -> tuple[Point, ...]:
        comp = self.topology.components[name]
        if comp.networks:
            return tuple(Point(a, None) for a in self.cells
                         if any(a.version == n.version and a in n for n in comp.networks))
        if comp.addresses:
            return tuple(Point(a, name) for a in comp.addresses)
        return (Point(None, name),)

    # -- connections between components ---------------------------------------

    def connect(self, source: str, destination: str, ports: PortSet) -> Decision:
        """Whether ``source`` (a component or :data:`INTERNET`) may open a connection
        to ``destination`` on one of ``ports``; cached, as the policy never changes."""
        key = (source, destination, ports)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        decision = self._connect(source, destination, ports)
        self._cache[key] = decision
        return decision

    def allowed(self, source: str, destination: str, ports: PortSet) -> bool:
        """Whether the connection exists (``bool(self.connect(...))``; an indexed policy
        answers it without building the decision)."""
        return self.connect(source, destination, ports).allowed

    def forget_answers(self) -> None:
        """Drop the memo of :meth:`allowed`'s bare answers (here there is none: they are
        :meth:`connect`'s decisions, which stay). Called after the last check that reads
        the answers the serving circuit asked (:data:`checker.context.ANSWERS_KEY`)."""

    def _connect(self, source: str, destination: str, ports: PortSet) -> Decision:
        if not ports:
            return Decision(False)
        return self.connect_points(self.source_points(source), self.by_networks(source),
                                   self.destination_points(destination), ports)

    def connect_from(self, src: Point, source: str, destination: str, ports: PortSet) -> Decision:
        """Whether one packet end ``src`` of ``source`` may connect to ``destination``
        (a client resolves a name and then connects from the same address)."""
        if not ports:
            return Decision(False)
        return self.connect_points((src,), self.by_networks(source), self.destination_points(destination), ports)

    def connect_points(self, srcs, src_by_networks: bool, dsts, ports: PortSet) -> Decision:
        """The first allowed packet, in source-then-destination order, between the given
        ends (pairs that :func:`reaches` rules out are no packet at all)."""
        blocker = None
        for src in srcs:
            for dst in dsts:
                if not reaches(src, dst, src_by_networks):
                    continue
                if self.open:
                    protocol, port = ports.sample()
                    return Decision(True, Packet(src, dst, protocol, port), None)
                decision = self.first_match(src, dst, ports)
                if decision.allowed:
                    return decision
                blocker = blocker or decision.rule
        return Decision(False, None, blocker)
