"""The network policy: ordered ``allow``/``deny`` rules, first match decides.

This is the plain reading of LANGUAGE.md section 3, used by the reference
evaluator and as the oracle for the packet engine. A *connection* from a source
to a destination on a set of ports exists when, for some address of the source,
some address of the destination and some port of the set, the first rule that
matches is an ``allow``. Components without an address are matched only by
rules that name them (or name their cluster, or say ``any``). Clients on the
internet are every public address: one representative per cell of the address
partition the rules induce stands for all of them (see
:func:`checker.net.public_representatives`), which makes the search exhaustive.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_network
from functools import cached_property

from .model import Endpoint, Kind, Rule, Topology
from .net import IPAddress, PortSet, is_public, public_representatives, same_family

INTERNET = "(internet)"  # the source of client packets: every public address


@dataclass(frozen=True)
class Point:
    """One end of a packet: an address, or a component without addresses (by name)."""

    address: IPAddress | None
    component: str | None

    def __str__(self) -> str:
        return str(self.address) if self.address is not None else self.component or "?"


@dataclass(frozen=True)
class Packet:
    src: Point
    dst: Point
    protocol: str
    port: int


@dataclass(frozen=True)
class Decision:
    """Whether a connection exists; for an allowed one, a witness packet and the rule."""

    allowed: bool
    packet: Packet | None = None
    rule: Rule | None = None  # the allow that admitted it, or the first deny that blocked it

    def __bool__(self) -> bool:
        return self.allowed


class Policy:
    """First-match evaluation of a topology's rules."""

    def __init__(self, topology: Topology):
        self.topology = topology
        self.rules = topology.rules
        self.open = not topology.has_policy
        self._cache: dict[tuple[str, str, PortSet, bool], Decision] = {}

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

    # -- connections between components ---------------------------------------

    @cached_property
    def internet_points(self) -> tuple[Point, ...]:
        networks = [e.value for r in self.rules for e in r.sources + r.destinations if e.kind == "network"]
        # A component's address is a cell of its own: the address after it starts the next
        # cell, which a rule naming the component does not match.
        networks += [ip_network(a) for c in self.topology.components.values() for a in c.addresses]
        return tuple(Point(a, None) for a in public_representatives(networks))

    def source_points(self, source: str) -> tuple[Point, ...]:
        if source == INTERNET or self.topology.components[source].kind is Kind.INTERNET:
            return self.internet_points
        comp = self.topology.components[source]
        if comp.addresses:
            return tuple(Point(a, source) for a in comp.addresses)
        return (Point(None, source),)

    def destination_points(self, destination: str, from_internet: bool) -> tuple[Point, ...]:
        comp = self.topology.components[destination]
        if from_internet:  # clients reach only public addresses
            return tuple(Point(a, destination) for a in comp.public_addresses)
        if comp.addresses:
            return tuple(Point(a, destination) for a in comp.addresses)
        return (Point(None, destination),)

    def connect(self, source: str, destination: str, ports: PortSet) -> Decision:
        """Whether ``source`` (a component or :data:`INTERNET`) may open a connection
        to ``destination`` on one of ``ports``; cached, as the policy never changes."""
        from_internet = source == INTERNET or self.topology.components[source].kind is Kind.INTERNET
        key = (source, destination, ports, from_internet)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        decision = self._connect(source, destination, ports, from_internet)
        self._cache[key] = decision
        return decision

    def _connect(self, source: str, destination: str, ports: PortSet, from_internet: bool) -> Decision:
        if not ports:
            return Decision(False)
        dsts = self.destination_points(destination, from_internet)
        if not dsts:
            return Decision(False)
        srcs = self.source_points(source)
        if self.open:
            for src in srcs:
                for dst in dsts:
                    if same_family(src.address, dst.address):
                        protocol, port = ports.sample()
                        return Decision(True, Packet(src, dst, protocol, port), None)
            return Decision(False)
        blocker = None
        for src in srcs:
            for dst in dsts:
                if not same_family(src.address, dst.address):
                    continue  # a packet's two ends are of one address family
                decision = self.first_match(src, dst, ports)
                if decision.allowed:
                    return decision
                blocker = blocker or decision.rule
        return Decision(False, None, blocker)
