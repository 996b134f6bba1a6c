"""Addresses and port sets: the values packets are made of.

Addresses use the standard library's :mod:`ipaddress`. Which addresses are
*private* follows the contract (LANGUAGE.md section 3), not
``ipaddress.is_global``: the documentation ranges (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24) are public here, because examples use them
as public addresses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable, Iterator, NamedTuple, Union

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

PRIVATE_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)

PROTOCOLS = ("tcp", "udp")
MAX_PORT = 65535


#: Per address family, the private networks as (first, last) integers: the same test
#: as ``address in network``, without the network object's work per call (the policy
#: asks it hundreds of thousands of times in a large file).
PRIVATE_RANGES: dict[int, tuple[tuple[int, int], ...]] = {
    version: tuple((int(n.network_address), int(n.broadcast_address)) for n in PRIVATE_NETWORKS
                   if n.version == version)
    for version in (4, 6)
}


def is_private(address: IPAddress) -> bool:
    """True when ``address`` lies in one of the contract's private ranges."""
    return _private_value(address.version, int(address))


def _private_value(version: int, value: int) -> bool:
    for first, last in PRIVATE_RANGES[version]:
        if first <= value <= last:
            return True
    return False


def is_public(address: IPAddress) -> bool:
    """Every address that is not private is public (documentation ranges included),
    except the unspecified addresses ``0.0.0.0`` and ``::``: no packet comes from them,
    so ``internet`` never holds them (LANGUAGE.md section 3)."""
    value = int(address)
    return bool(value) and not _private_value(address.version, value)


def public_value(version: int, value: int) -> bool:
    """:func:`is_public` of the address of this family and integer value."""
    return bool(value) and not _private_value(version, value)


def same_family(a: IPAddress | None, b: IPAddress | None) -> bool:
    """Whether two packet ends can be the source and destination of one packet: both
    IPv4 or both IPv6 (an end without an address, a component matched by name, pairs
    with either)."""
    return a is None or b is None or a.__class__ is b.__class__ or a.version == b.version  # (a class is a family)


def parse_address(text: str) -> IPAddress | IPNetwork:
    """Parse ``10.0.1.11`` into an address and ``10.0.0.0/16`` into a network.

    Raises ``ValueError`` with a readable message for malformed text or a
    network with host bits set.
    """
    if "/" in text:
        try:
            return ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            raise ValueError(_address_error(text, exc)) from None
    try:
        return ipaddress.ip_address(text)
    except ValueError as exc:
        raise ValueError(_address_error(text, exc)) from None


def _address_error(text: str, exc: ValueError) -> str:
    message = str(exc)
    if "has host bits set" in message:
        return f"'{text}' has host bits set; did you mean '{ipaddress.ip_network(text, strict=False)}'?"
    return f"'{text}' is not a valid IPv4 or IPv6 address"


def cell_starts(networks: Iterable[IPNetwork], extra: Iterable[IPAddress] = ()) -> list[IPAddress]:
    """One address from every cell of the partition the given networks (and the private
    ranges) induce, without the unspecified addresses, sorted by family and value.

    Two addresses that lie in exactly the same of the given networks (and the same
    private ranges) are matched by exactly the same rules, so checking one address
    per cell is exhaustive. Every cell starts at address zero, at the first address of
    some network, or just past the last address of one; address zero itself is no
    packet end, so the cell it starts is represented by address one.
    """
    points: set[IPAddress] = {ipaddress.IPv4Address(1), ipaddress.IPv6Address(1)}
    for net in list(networks) + list(PRIVATE_NETWORKS):
        points.add(net.network_address)
        top = int(net.broadcast_address) + 1
        limit = 2**32 if net.version == 4 else 2**128
        if top < limit:
            points.add(ipaddress.ip_address(top) if net.version == 4 else ipaddress.IPv6Address(top))
    points.update(extra)
    return sorted((p for p in points if int(p)), key=lambda a: (a.version, int(a)))


def public_representatives(networks: Iterable[IPNetwork], extra: Iterable[IPAddress] = ()) -> list[IPAddress]:
    """The public addresses among :func:`cell_starts`: one from every cell of public
    addresses, so checking them is exhaustive for clients on the internet."""
    return [p for p in cell_starts(networks, extra) if is_public(p)]


class PortRange(NamedTuple):
    """Ports ``low``..``high`` (inclusive) of one protocol (a named tuple: compared,
    ordered and hashed in C, as port sets are dictionary keys of every policy cache)."""

    protocol: str
    low: int
    high: int

    def __str__(self) -> str:
        if self.low == 0 and self.high == MAX_PORT:
            return f"{self.protocol}/any"
        if self.low == self.high:
            return f"{self.protocol}/{self.low}"
        return f"{self.protocol}/{self.low}-{self.high}"


@dataclass(frozen=True)
class PortSet:
    """A finite union of port ranges, kept normalised (sorted, merged).

    The empty set matches nothing; :data:`ANY_PORT` matches every port of
    every protocol.
    """

    ranges: tuple[PortRange, ...] = ()

    def __hash__(self) -> int:
        # kept on the object: port sets are in the key of every policy cache, asked about
        # hundreds of thousands of times in a large file
        try:
            return self._hash
        except AttributeError:
            object.__setattr__(self, "_hash", hash(self.ranges))
            return self._hash

    def __reduce__(self):
        # by its ranges only: a string's hash differs from process to process, so a kept
        # hash must never travel to another one (results are pickled to -j's main
        # process and to the result cache)
        return (PortSet, (self.ranges,))

    @staticmethod
    def of(ranges: Iterable[PortRange]) -> "PortSet":
        merged: list[PortRange] = []
        for r in sorted(ranges):
            if merged and merged[-1].protocol == r.protocol and r.low <= merged[-1].high + 1:
                last = merged[-1]
                merged[-1] = PortRange(r.protocol, last.low, max(last.high, r.high))
            else:
                merged.append(r)
        return PortSet(tuple(merged))

    @staticmethod
    def single(protocol: str, low: int, high: int | None = None) -> "PortSet":
        return PortSet((PortRange(protocol, low, low if high is None else high),))

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __iter__(self) -> Iterator[PortRange]:
        return iter(self.ranges)

    def __and__(self, other: "PortSet") -> "PortSet":
        if self is other:
            return self
        out = []
        for a in self.ranges:
            for b in other.ranges:
                if a.protocol == b.protocol:
                    low, high = max(a.low, b.low), min(a.high, b.high)
                    if low <= high:
                        out.append(PortRange(a.protocol, low, high))
        met = PortSet.of(out)
        # one of the two when it is that (most often: a listener's ports met with what
        # arrives on them): one object where the engines keep the result per component
        # (100k components: 100k port sets of 200 bytes each, in the replay's memos)
        if met.ranges == other.ranges:
            return other
        if met.ranges == self.ranges:
            return self
        return met

    def __sub__(self, other: "PortSet") -> "PortSet":
        out = list(self.ranges)
        for b in other.ranges:
            nxt = []
            for a in out:
                if a.protocol != b.protocol or b.high < a.low or b.low > a.high:
                    nxt.append(a)
                    continue
                if a.low < b.low:
                    nxt.append(PortRange(a.protocol, a.low, b.low - 1))
                if b.high < a.high:
                    nxt.append(PortRange(a.protocol, b.high + 1, a.high))
            out = nxt
        return PortSet.of(out)

    def __or__(self, other: "PortSet") -> "PortSet":
        return PortSet.of(self.ranges + other.ranges)

    def contains(self, protocol: str, port: int) -> bool:
        return any(r.protocol == protocol and r.low <= port <= r.high for r in self.ranges)

    def sample(self) -> tuple[str, int]:
        """A concrete (protocol, port) in the set, preferring tcp and low ports."""
        first = self.ranges[0]
        return first.protocol, first.low

    def __str__(self) -> str:
        if self == ANY_PORT:
            return "any"
        return ", ".join(str(r) for r in self.ranges) or "no port"


ANY_PORT = PortSet.of(PortRange(p, 0, MAX_PORT) for p in PROTOCOLS)
NO_PORT = PortSet()


def parse_port(text: str) -> PortSet:
    """Parse ``tcp/443``, ``udp/53``, ``tcp/8000-8099``, ``443`` or ``any``.

    Raises ``ValueError`` with a readable message for out-of-range ports.
    """
    if text == "any":
        return ANY_PORT
    protocol, _, spec = text.rpartition("/")
    protocol = protocol or "tcp"
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol '{protocol}'; expected tcp or udp")
    low_text, _, high_text = spec.partition("-")
    low = int(low_text)
    high = int(high_text) if high_text else low
    for value in (low, high):
        if not 0 <= value <= MAX_PORT:
            raise ValueError(f"port {value} is out of range 0-{MAX_PORT}")
    if low > high:
        raise ValueError(f"port range {low}-{high} is empty; write the lower port first")
    return PortSet.single(protocol, low, high)
