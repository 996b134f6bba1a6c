"""Packets as bit-vectors: the first-match policy as a Z3 formula.

A packet is (source point, destination point, protocol, destination port). A
point is an address or, for a component without addresses, the component
itself (rules match it only by naming it, its cluster, or ``any``). Each point
is a pair of bit-vectors:

* ``kind``: 0 an IPv4 address, 1 an IPv6 address, ``2 + i`` the i-th
  component without addresses;
* ``addr``: the address. It is 128 bits wide when the file mentions an IPv6
  address or network, else 32 bits; in a file without IPv6 no rule can tell
  two IPv6 addresses apart except by whether they are public, so an IPv6
  point is then encoded by that one fact (bit 0 set: public; witnesses use
  ``::`` and ``::1``).

The protocol is one bit (0 tcp, 1 udp) and the port 16 bits. A rule's match is
a conjunction of its two sides and its ports; "the first rule that matches is
an allow" is the if-then-else chain over the rules in file order, linear in
their number. Callers slice the rules first (only those that can match the
packets in question), so formulas stay small at any file size.

Every query goes through :func:`checker.solver.search_counterexample`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Sequence

from ..model import Endpoint, Kind, Rule, Topology
from ..net import MAX_PORT, PRIVATE_NETWORKS, PROTOCOLS, IPAddress, PortSet
from ..policy import Point

_V4, _V6 = 0, 1


def uses_ipv6(topology: Topology) -> bool:
    """Whether any address, component network or rule network of the file is IPv6."""
    for comp in topology.components.values():
        if any(a.version == 6 for a in comp.addresses) or any(n.version == 6 for n in comp.networks):
            return True
    for rule in topology.rules:
        for endpoint in rule.sources + rule.destinations:
            if endpoint.kind == "network" and endpoint.value.version == 6:
                return True
    return False


@dataclass
class SymbolicPoint:
    kind: Any
    addr: Any


@dataclass
class SymbolicPacket:
    src: SymbolicPoint
    dst: SymbolicPoint
    protocol: Any
    port: Any


class PacketSpace:
    """The bit-vector encoding of packets for one topology."""

    def __init__(self, topology: Topology):
        import z3

        self.z3 = z3
        self.topology = topology
        self.wide = uses_ipv6(topology)
        self.width = 128 if self.wide else 32
        self.nameless = [name for name, c in topology.components.items() if not c.addresses]
        self.nameless_id = {name: i + 2 for i, name in enumerate(self.nameless)}
        self.kind_width = max(2, (len(self.nameless) + 2).bit_length())

    # -- variables -------------------------------------------------------------

    def point(self, name: str) -> SymbolicPoint:
        z3 = self.z3
        return SymbolicPoint(z3.BitVec(f"{name}_kind", self.kind_width), z3.BitVec(f"{name}_addr", self.width))

    def packet(self, name: str = "p") -> SymbolicPacket:
        z3 = self.z3
        return SymbolicPacket(self.point(f"{name}_src"), self.point(f"{name}_dst"),
                              z3.BitVec(f"{name}_proto", 1), z3.BitVec(f"{name}_port", 16))

    def well_formed(self, point: SymbolicPoint) -> Any:
        """A point that exists: a known kind, an IPv4 address in 32 bits, and no
        address bits on a component without addresses."""
        z3 = self.z3
        k, a = point.kind, point.addr
        out = [z3.ULE(k, len(self.nameless) + 1)]
        if self.wide:
            out.append(z3.Implies(k == _V4, z3.Extract(127, 32, a) == 0))
        else:
            out.append(z3.Implies(k == _V6, z3.Extract(31, 1, a) == 0))
        out.append(z3.Implies(z3.UGT(k, 1), a == 0))
        return z3.And(out)

    def well_formed_packet(self, packet: SymbolicPacket) -> Any:
        """Both ends exist and, when both are addresses, are of one family."""
        z3 = self.z3
        src, dst = packet.src.kind, packet.dst.kind
        return z3.And(self.well_formed(packet.src), self.well_formed(packet.dst),
                      z3.Implies(z3.And(z3.ULE(src, 1), z3.ULE(dst, 1)), src == dst))

    # -- terms -------------------------------------------------------------------

    def _in_network(self, point: SymbolicPoint, net) -> Any:
        z3 = self.z3
        family = _V4 if net.version == 4 else _V6
        if net.version == 6 and not self.wide:
            return z3.BoolVal(False)  # no IPv6 network in the file: never reached
        if net.prefixlen == 0:
            return point.kind == family
        bits = 32 if net.version == 4 else 128
        prefix = int(net.network_address) >> (bits - net.prefixlen)
        return z3.And(point.kind == family,
                      z3.Extract(bits - 1, bits - net.prefixlen, point.addr) == prefix)

    def is_public(self, point: SymbolicPoint) -> Any:
        """The contract's public addresses (documentation ranges included)."""
        z3 = self.z3
        v4 = [self._in_network(point, n) for n in PRIVATE_NETWORKS if n.version == 4]
        public4 = z3.And(point.kind == _V4, z3.Not(z3.Or(v4)), z3.Extract(31, 0, point.addr) != 0)
        if self.wide:
            v6 = [self._in_network(point, n) for n in PRIVATE_NETWORKS if n.version == 6]
            public6 = z3.And(point.kind == _V6, z3.Not(z3.Or(v6)), point.addr != 0)
        else:
            public6 = z3.And(point.kind == _V6, z3.Extract(0, 0, point.addr) == 1)
        return z3.Or(public4, public6)

    def is_address(self, point: SymbolicPoint, address: IPAddress) -> Any:
        z3 = self.z3
        if address.version == 6 and not self.wide:
            raise AssertionError("an IPv6 address in a file encoded as IPv4")
        return z3.And(point.kind == (_V4 if address.version == 4 else _V6), point.addr == int(address))

    def _component(self, point: SymbolicPoint, name: str) -> Any:
        z3 = self.z3
        comp = self.topology.components[name]
        terms = [self.is_address(point, a) for a in comp.addresses]
        # a client group or an external target: its networks (LANGUAGE.md 7.1); its name
        # also stands for a point of its own, like any component without addresses
        terms.extend(self._in_network(point, n) for n in comp.networks)
        if name in self.nameless_id:
            terms.append(point.kind == self.nameless_id[name])
        if comp.kind is Kind.INTERNET:
            terms.append(self.is_public(point))
        return z3.Or(terms) if terms else z3.BoolVal(False)

    def endpoint(self, point: SymbolicPoint, endpoint: Endpoint) -> Any:
        """Whether a rule endpoint covers the point."""
        z3 = self.z3
        if endpoint.kind == "any":
            return z3.BoolVal(True)
        if endpoint.kind == "internet":
            return self.is_public(point)
        if endpoint.kind == "network":
            return self._in_network(point, endpoint.value)
        if endpoint.kind == "cluster":
            return z3.Or([self._component(point, m) for m in self.topology.clusters[endpoint.value].members])
        return self._component(point, endpoint.value)

    def ports(self, packet: SymbolicPacket, ports: PortSet) -> Any:
        z3 = self.z3
        terms = []
        for r in ports:
            proto = packet.protocol == PROTOCOLS.index(r.protocol)
            bounds = []
            if r.low > 0:
                bounds.append(z3.UGE(packet.port, r.low))
            if r.high < MAX_PORT:
                bounds.append(z3.ULE(packet.port, r.high))
            terms.append(z3.And(proto, *bounds))
        return z3.Or(terms) if terms else z3.BoolVal(False)

    def matches(self, packet: SymbolicPacket, rule: Rule) -> Any:
        z3 = self.z3
        return z3.And(
            z3.Or([self.endpoint(packet.src, e) for e in rule.sources]),
            z3.Or([self.endpoint(packet.dst, e) for e in rule.destinations]),
            self.ports(packet, rule.ports),
        )

    def admitted(self, packet: SymbolicPacket, rules: Sequence[Rule], open_network: bool) -> Any:
        """The first of ``rules`` (in file order) that matches is an ``allow``."""
        z3 = self.z3
        if open_network:
            return z3.BoolVal(True)
        term = z3.BoolVal(False)
        for rule in sorted(rules, key=lambda r: r.index, reverse=True):
            term = z3.If(self.matches(packet, rule), z3.BoolVal(rule.action == "allow"), term)
        return term

    # -- models ------------------------------------------------------------------

    def concrete_point(self, model: Any, point: SymbolicPoint) -> Point:
        kind = model.eval(point.kind, model_completion=True).as_long()
        addr = model.eval(point.addr, model_completion=True).as_long()
        if kind == _V4:
            return Point(ipaddress.IPv4Address(addr & 0xFFFFFFFF), None)
        if kind == _V6:
            if self.wide:
                return Point(ipaddress.IPv6Address(addr), None)
            return Point(ipaddress.IPv6Address(2 if addr & 1 else 1), None)
        return Point(None, self.nameless[kind - 2])

    def concrete_port(self, model: Any, packet: SymbolicPacket) -> tuple[str, int]:
        proto = model.eval(packet.protocol, model_completion=True).as_long()
        port = model.eval(packet.port, model_completion=True).as_long()
        return PROTOCOLS[proto], port

