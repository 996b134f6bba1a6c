"""Whether some rules together match every packet one rule matches, decided exactly
on intervals.

The packets are those of :mod:`checker.engines.packets`: a source point, a destination
point, a protocol and a port, where a point is an IPv4 address, an IPv6 address or a
component without addresses (a point of its own). Each point is on one of three lines:

* class 0, the IPv4 addresses ``0 .. 2**32 - 1``;
* class 1, the IPv6 addresses ``0 .. 2**128 - 1``;
* class 2, the components without addresses, numbered in file order.

A packet's two ends are of one family when both are addresses, so its ends are on one
of seven pairs of lines (not IPv4 with IPv6). The protocol and port are one line too,
``protocol * 65536 + port``. On one pair of lines, a rule matches a box: the product of
three unions of intervals (its sources on the first line, its destinations on the
second, its ports), and "the rules ``E`` match every packet the rule ``R`` matches" is
"``R``'s box lies in the union of the boxes of ``E``" on each of the seven pairs.

That is decided by sweeping: the ports of ``R`` are cut at every bound of the others'
ports into pieces over which the same boxes hold every port; for each piece (each set of
boxes once), the sources are cut the same way; for each of those pieces, the
destinations of ``R`` must lie in the union of the destinations of the boxes left, one
merge of sorted intervals. Every piece of the space is looked at, so the answer is
exact; the work is at most the product of the pieces of the three lines times the
rules, and a caller gives a budget of work past which :class:`TooLarge` is raised
(the solver then decides).

A side's intervals are those of :meth:`checker.policy.Policy.endpoint_matches`:
``internet`` is every address that is neither private nor unspecified; a client group
or an external target matches its networks and its own point.
"""

from __future__ import annotations

import bisect
from typing import Sequence

from ..model import Endpoint, Kind, Rule, Topology
from ..net import MAX_PORT, PRIVATE_RANGES, PROTOCOLS, PortSet

Intervals = tuple[tuple[int, int], ...]  # sorted, disjoint and not touching
Side = tuple[Intervals, Intervals, Intervals]  # per class: IPv4, IPv6, points without address

_TOPS = ((1 << 32) - 1, (1 << 128) - 1)
_PAIRS = ((0, 0), (1, 1), (0, 2), (1, 2), (2, 0), (2, 1), (2, 2))  # the lines a packet's ends can be on
_PORT_LINE = MAX_PORT + 1


class TooLarge(Exception):
    """The decision would take more work than its budget."""


def _merged(intervals) -> Intervals:
    out: list[list[int]] = []
    for low, high in sorted(intervals):
        if out and low <= out[-1][1] + 1:
            if high > out[-1][1]:
                out[-1][1] = high
        else:
            out.append([low, high])
    return tuple((low, high) for low, high in out)


def _public(version: int) -> Intervals:
    """The public addresses of a family: neither private nor unspecified (``0``)."""
    out: list[tuple[int, int]] = []
    at, top = 1, _TOPS[version == 6]
    for first, last in _merged(PRIVATE_RANGES[version]):
        if first > at:
            out.append((at, first - 1))
        at = max(at, last + 1)
    if at <= top:
        out.append((at, top))
    return tuple(out)


_PUBLIC = (_public(4), _public(6))


class RuleBoxes:
    """The boxes of a file's rules (each side worked out once per side object: rules
    that repeat a side share it)."""

    def __init__(self, topology: Topology):
        self.topology = topology
        self.nameless = {name: i for i, name in
                         enumerate(name for name, comp in topology.components.items() if not comp.addresses)}
        self._sides: dict[int, tuple[Sequence[Endpoint], Side]] = {}
        self._ports: dict[PortSet, Intervals] = {}

    def side(self, endpoints: Sequence[Endpoint]) -> Side:
        hit = self._sides.get(id(endpoints))
        if hit is None:  # (the side is kept with its intervals: its id stays its own)
            hit = self._sides[id(endpoints)] = (endpoints, self._side(endpoints))
        return hit[1]

    def ports(self, ports: PortSet) -> Intervals:
        hit = self._ports.get(ports)
        if hit is None:
            hit = self._ports[ports] = _merged(
                (PROTOCOLS.index(r.protocol) * _PORT_LINE + r.low, PROTOCOLS.index(r.protocol) * _PORT_LINE + r.high)
                for r in ports.ranges)
        return hit

    def _side(self, endpoints: Sequence[Endpoint]) -> Side:
        lines: tuple[list, list, list] = ([], [], [])
        for endpoint in endpoints:
            if endpoint.kind == "any":
                lines[0].append((0, _TOPS[0]))
                lines[1].append((0, _TOPS[1]))
                if self.nameless:
                    lines[2].append((0, len(self.nameless) - 1))
            elif endpoint.kind == "internet":
                lines[0].extend(_PUBLIC[0])
                lines[1].extend(_PUBLIC[1])
            elif endpoint.kind == "network":
                net = endpoint.value
                lines[net.version == 6].append((int(net.network_address), int(net.broadcast_address)))
            else:
                members = (self.topology.clusters[endpoint.value].members if endpoint.kind == "cluster"
                           else (endpoint.value,))
                for member in members:
                    comp = self.topology.components[member]
                    if comp.kind is Kind.INTERNET:
                        lines[0].extend(_PUBLIC[0])
                        lines[1].extend(_PUBLIC[1])
                    for address in comp.addresses:
                        lines[address.version == 6].append((int(address), int(address)))
                    for net in comp.networks:
                        lines[net.version == 6].append((int(net.network_address), int(net.broadcast_address)))
                    if member in self.nameless:
                        lines[2].append((self.nameless[member], self.nameless[member]))
        return _merged(lines[0]), _merged(lines[1]), _merged(lines[2])

    def covered(self, rule: Rule, others: Sequence[Rule], work: list[int]) -> bool:
        """Whether ``others`` together match every packet ``rule`` matches. ``work``
        holds what is left of a budget, in units of about one box looked at; the call
        takes its work from it (several calls may share one budget) and raises
        :class:`TooLarge` when it runs out."""
        src, dst, ports = self.side(rule.sources), self.side(rule.destinations), self.ports(rule.ports)
        boxes = [(self.side(r.sources), self.side(r.destinations), self.ports(r.ports)) for r in others]
        for s_class, d_class in _PAIRS:
            s, d = src[s_class], dst[d_class]
            if not s or not d or not ports:
                continue
            here = [(box[0][s_class], box[1][d_class], box[2]) for box in boxes]
            here = [b for b in here if _meets(b[0], s) and _meets(b[1], d) and _meets(b[2], ports)]
            if not _cover(ports, here, 2, (s, d), work):
                return False
        return True


def _meets(a: Intervals, b: Intervals) -> bool:
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i][1] < b[j][0]:
            i += 1
        elif b[j][1] < a[i][0]:
            j += 1
        else:
            return True
    return False


def _cover(mine: Intervals, boxes: list[tuple], axis: int, rest: tuple, work: list[int]) -> bool:
    """Whether every point of ``mine`` (on axis ``axis`` of the boxes: 2 ports, 0
    sources, 1 destinations) is, together with all of the lower axes' ``rest``, inside
    the union of ``boxes``: cut ``mine`` where a box's interval on this axis starts or
    ends; over each piece the same boxes hold it, and those boxes must cover the rest
    (each set of boxes asked once)."""
    work[0] -= len(boxes) + 1
    if work[0] < 0:
        raise TooLarge
    if axis == 1:  # the last axis: one union of intervals
        return _inside(mine, [iv for box in boxes for iv in box[1]])
    events: dict[int, list[int]] = {}  # a bound -> the boxes starting (+1 + i) or ending (-1 - i) there
    for i, box in enumerate(boxes):
        for low, high in box[axis]:
            events.setdefault(low, []).append(i + 1)
            events.setdefault(high + 1, []).append(-1 - i)
    bounds = sorted(events)
    active: set[int] = set()
    asked: dict[frozenset, bool] = {}
    next_axis, next_mine, next_rest = (0, rest[0], rest) if axis == 2 else (1, rest[1], rest)
    k = 0
    for low, high in mine:
        # the pieces of [low, high]: between consecutive bounds, with the boxes active there
        while k < len(bounds) and bounds[k] <= low:
            _apply(active, events[bounds[k]])
            k += 1
        while True:
            end = bounds[k] - 1 if k < len(bounds) and bounds[k] <= high else high
            work[0] -= len(active) + 1  # (each piece: its set of boxes is made, asked or not)
            if work[0] < 0:
                raise TooLarge
            key = frozenset(active)
            answer = asked.get(key)
            if answer is None:
                answer = asked[key] = bool(key) and _cover(next_mine, [boxes[i] for i in sorted(key)],
                                                           next_axis, next_rest, work)
            if not answer:
                return False
            if end == high:
                break
            _apply(active, events[bounds[k]])
            k += 1
    return True


def _apply(active: set[int], changes: list[int]) -> None:
    for change in changes:
        if change > 0:
            active.add(change - 1)
        else:
            active.discard(-1 - change)


def _inside(mine: Intervals, union: list[tuple[int, int]]) -> bool:
    """Whether every interval of ``mine`` lies in the union of ``union``'s."""
    merged = _merged(union)
    lows = [low for low, _ in merged]
    for low, high in mine:
        j = bisect.bisect_right(lows, low) - 1
        if j < 0 or merged[j][1] < high:
            return False
    return True
