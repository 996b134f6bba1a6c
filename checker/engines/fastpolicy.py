"""An indexed first-match policy: the decisions of :class:`checker.policy.Policy`, fast.

The reference policy tries every rule for every pair of packet ends, and every
representative public address for clients on the internet; at 100k components
and 250k rules that is far too slow for the thousands of connections a check
needs. :class:`FastPolicy` gives *identical* :class:`~checker.policy.Decision`
values (same verdict, same witness packet, same rule) from an index:

* each side of each rule is indexed by what it can match: ``any``, ``internet``
  (public addresses), a CIDR (hashed by prefix length and prefix, so a lookup
  costs one probe per distinct prefix length), an exact address (a component's
  or a cluster member's), or a component name (for components without
  addresses, which only rules naming them match);
* the rules that match a packet end are then a union of a few buckets, and the
  rules matching a packet are the intersection of its two ends' sets, tried in
  file order exactly as the reference does;
* for clients on the internet, only the rules that can match the destination
  matter, so the public address space is cut at those rules' source bounds into
  a few intervals in which every address is treated alike; each interval is
  evaluated once, at the smallest of the reference's representatives inside it
  (which is what the reference would have reported).

Complexity: building the index is linear in the size of the rules; a
component-to-component decision costs the size of the matching rule sets.
"""

from __future__ import annotations

import bisect
from array import array
import heapq
import ipaddress
from functools import cached_property
from typing import Iterator, Sequence

from ..memo import Recent
from ..model import Endpoint, Kind, Rule, Topology
from ..net import PRIVATE_NETWORKS, PRIVATE_RANGES, IPAddress, PortSet, is_public, public_value, same_family
from ..policy import INTERNET, Decision, Packet, Point, Policy, reaches

_BITS = {4: 32, 6: 128}
_REMEMBER = 32  # bucket pairs at least this large are intersected once and remembered
_PAIR_LIMIT = 64  # rules with more (source key, destination key) pairs than this are "wide"
_UINT32 = "I" if array("I").itemsize >= 4 else "L"  # an unsigned type of at least 32 bits
_OWN = ("address", "name")  # the kinds of key only one point has (the others its neighbours share)
_NO_SHARED = ((), ())  # the shared rows of an end only the bucket index matches
_RECENT = 1 << 12  # per-component memos keep about this many components (see Recent)
_CLASS_PART = 1 << 24  # each number in a source's class below this: the class packs into one int


class _SideIndex:
    """What one side (sources or destinations) of every rule can match."""

    def __init__(self) -> None:
        self.any: list[int] = []
        self.internet: list[int] = []
        self.by_name: dict[str, list[int]] = {}
        self.by_address: dict[tuple[int, int], list[int]] = {}
        self.by_prefix: dict[tuple[int, int, int], list[int]] = {}
        self.prefix_lengths: dict[int, list[int]] = {4: [], 6: []}
        self._cache: dict[Point, tuple[tuple, ...]] = {}
        self._buckets: dict[tuple, frozenset[int]] = {}

    def add(self, index: int, endpoint: Endpoint, topology: Topology) -> None:
        if endpoint.kind == "any":
            self.any.append(index)
        elif endpoint.kind == "internet":
            self.internet.append(index)
        elif endpoint.kind == "network":
            net = endpoint.value
            key = (net.version, net.prefixlen, int(net.network_address) >> (_BITS[net.version] - net.prefixlen))
            self.by_prefix.setdefault(key, []).append(index)
            if net.prefixlen not in self.prefix_lengths[net.version]:
                self.prefix_lengths[net.version].append(net.prefixlen)
        elif endpoint.kind == "cluster":
            for member in topology.clusters[endpoint.value].members:
                self._add_component(index, member, topology)
        else:
            self._add_component(index, endpoint.value, topology)

    def _add_component(self, index: int, name: str, topology: Topology) -> None:
        comp = topology.components[name]
        self.by_name.setdefault(name, []).append(index)  # a point without address, by name
        if comp.kind is Kind.INTERNET:
            self.internet.append(index)
            return
        for net in comp.networks:  # a client group's or an external target's networks
            key = (net.version, net.prefixlen, int(net.network_address) >> (_BITS[net.version] - net.prefixlen))
            self.by_prefix.setdefault(key, []).append(index)
            if net.prefixlen not in self.prefix_lengths[net.version]:
                self.prefix_lengths[net.version].append(net.prefixlen)
        for address in comp.addresses:
            self.by_address.setdefault((address.version, int(address)), []).append(index)

    def buckets(self, point: Point) -> tuple[tuple, ...]:
        """The keys of the buckets whose rules match ``point``; together, exactly the
        rules whose side matches it."""
        hit = self._cache.get(point)
        if hit is not None:
            return hit
        keys: list[tuple] = [("any",)]
        address = point.address
        if address is None:
            keys.append(("name", point.component))
        else:
            version, value = address.version, int(address)
            if is_public(address):
                keys.append(("internet",))
            keys.append(("address", version, value))
            bits = _BITS[version]
            for length in self.prefix_lengths[version]:
                keys.append(("prefix", version, length, value >> (bits - length)))
        hit = tuple(k for k in keys if self.bucket(k))
        self._cache[point] = hit
        return hit

    def bucket(self, key: tuple) -> frozenset[int]:
        hit = self._buckets.get(key)
        if hit is None:
            kind = key[0]
            if kind == "any":
                rules = self.any
            elif kind == "internet":
                rules = self.internet
            elif kind == "name":
                rules = self.by_name.get(key[1], ())
            elif kind == "address":
                rules = self.by_address.get(key[1:], ())
            else:
                rules = self.by_prefix.get(key[1:], ())
            hit = self._buckets[key] = frozenset(rules)
        return hit

    def all_matching(self, point: Point) -> frozenset[int]:
        out: set[int] = set()
        for key in self.buckets(point):
            out.update(self.bucket(key))
        return frozenset(out)


class FastPolicy(Policy):
    """Indexed first-match evaluation: the reference :class:`checker.policy.Policy`
    (whose cached ``connect`` it inherits) with an index behind every look-up."""

    def __init__(self, topology: Topology, recent: int = _RECENT):
        """``recent``: about how many components the per-component memos keep
        (:class:`Recent`; tests make it tiny, so that answers come from memos that forget)."""
        super().__init__(topology)
        self._pairs: dict[tuple[tuple, tuple], list[int]] = {}
        self._source_ranges: dict[int, list[tuple[int, int, int]]] = {}
        self._points = Recent(recent)  # name -> its packet ends (:meth:`_own_points`)
        # (source key, destination key) -> rules with both, in file order; rules whose
        # key product is large ("wide") are kept apart, by destination key.
        self._by_pair: dict[tuple, dict[tuple, Sequence[int]]] = {}  # tuples once built
        self._wide_by_dst: dict[tuple, list[int]] = {}
        self._wide_sources: dict[int, frozenset[tuple]] = {}
        # every key a rule side holds, each mapped to its one object (a point's keys are
        # these objects, not copies: a point's keys then cost a tuple of references)
        self._src_keys: dict[tuple, tuple] = {}
        self._dst_keys: dict[tuple, tuple] = {}
        # per side, a point's keys (:meth:`_keys`)
        self._point_keys = (Recent(recent), Recent(recent))
        self._public_dst: dict[Point, list[int]] = {}
        self._public_buckets: dict[tuple, list[int]] = {}
        # per rule: whether its sources may be public (0: not asked yet, 1: no, 2: yes);
        # the sides asked lately by id (rules repeat their sides: asked once each)
        self._public_rules = bytearray(len(self.rules))
        self._public_sides = Recent(recent)
        self._cells_of: dict[str, dict[int, list[int]]] = {}
        self._prefix_lengths: dict[int, list[int]] = {4: [], 6: []}
        # (destination, ports) -> class of source (:meth:`component_class`) -> allowed:
        # an answer costs a dict slot, not a key tuple (400k at 100k); a row of one
        # answer is the pair (class, allowed), not a dict (half the rows)
        self._allowed: dict[tuple[str, PortSet], tuple[object, bool] | dict[object, bool]] = {}
        # sources the rules cannot tell apart share their answers (:meth:`component_class`)
        # name -> its class, for every source asked while the answers are kept (the
        # answers are read again by source: a class worked out again was a second per
        # million questions at 100k components)
        self._classes: dict[str, object] = {}
        self._last_class_source: str | None = None
        self._last_class: object = ""
        self._row_classes: dict[int, int] = {}  # hash of a row's contents -> its number
        self._row_kept: list[dict] = []  # number -> the row first given it
        self._shared_classes: dict[int, int] = {}  # id of shared rows -> their number
        self._wide_classes: dict[frozenset, int] = {}
        self._wide_by_src: dict[tuple, tuple[int, ...]] | None = None  # key -> the wide rules with it
        self._src_ends = Recent(recent)  # name -> :meth:`_source_ends`
        self._last_source: str | None = None  # the last source :meth:`_allows` was asked about
        self._last_source_ends: list[tuple] | None = None
        self._dst_ends = Recent(recent)  # name -> :meth:`_destination_ends`
        self._shared_rows: dict[tuple, tuple] = {}  # a source's shared keys -> (them, their rows)
        self.rule_keys = RuleKeys()  # per rule: (source keys, destination keys)
        # per rule, its action (1: allow) and the class of its ports (equal port sets are
        # one class); per asked port set, each class's relation to it (:func:`_relation`),
        # worked out when first met: what :meth:`_allows` reads for each candidate rule
        self._allows_rule = bytearray(len(self.rules))
        self._port_class = array(_UINT32)
        self._port_sets: list[PortSet] = []
        self._relations: dict[PortSet, dict[int, int]] = {}
        self._last_ports: PortSet | None = None
        self._last_relations: dict[int, int] = {}
        classes: dict[PortSet, int] = {}
        interned: dict[tuple, tuple] = {}
        side_keys: dict[int, list[tuple]] = {}  # id of a (shared) rule side -> its keys
        for rule in self.rules:
            # (a rule's own index, its position: one int object per rule, however many
            # tables file it; enumerate's would be another 28 bytes a rule, 7 MB at 100k)
            index = rule.index
            if rule.action == "allow":
                self._allows_rule[index] = 1
            port_class = classes.get(rule.ports)
            if port_class is None:
                port_class = classes[rule.ports] = len(self._port_sets)
                self._port_sets.append(rule.ports)
            self._port_class.append(port_class)
            src_keys = side_keys.get(id(rule.sources))
            if src_keys is None:
                src_keys = side_keys[id(rule.sources)] = _rule_keys(rule.sources, topology, interned)
            dst_keys = side_keys.get(id(rule.destinations))
            if dst_keys is None:
                dst_keys = side_keys[id(rule.destinations)] = _rule_keys(rule.destinations, topology, interned)
            self.rule_keys.append(src_keys, dst_keys)
            for key in src_keys + dst_keys:
                if key[0] == "prefix" and key[2] not in self._prefix_lengths[key[1]]:
                    self._prefix_lengths[key[1]].append(key[2])
            for key in src_keys:
                self._src_keys[key] = key
            for key in dst_keys:
                self._dst_keys[key] = key
            if len(src_keys) * len(dst_keys) <= _PAIR_LIMIT:
                for s_key in src_keys:
                    row = self._by_pair.setdefault(s_key, {})
                    for d_key in dst_keys:
                        row.setdefault(d_key, []).append(index)
            else:
                self._wide_sources[index] = frozenset(src_keys)
                for d_key in dst_keys:
                    self._wide_by_dst.setdefault(d_key, []).append(index)
        # Each list done growing becomes a tuple, one object per distinct list: a rule
        # with several key pairs files the same one-rule list under each (at 100k, 590k
        # lists of one rule, 830k in all: 45 MB as lists and tuples each their own)
        shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        for row in self._by_pair.values():
            for d_key, rules in row.items():
                kept = tuple(rules)
                row[d_key] = shared.setdefault(kept, kept)
        self._sorted_lengths = {version: sorted(lengths) for version, lengths in self._prefix_lengths.items()}
        self._rules_by_key: list[dict[tuple, Sequence[int]] | None] = [None, None]  # see rules_by_key

    @property
    def pair_index(self) -> tuple[dict[tuple, dict[tuple, tuple[int, ...]]], dict[tuple, list[int]]]:
        """(source key -> destination key -> rules in file order (a tuple, shared by the
        pairs that hold the same rules), for rules with at most :data:`_PAIR_LIMIT` key pairs; destination
        key -> the other, "wide", rules): every rule is in one of them under each of its
        destination keys (read only)."""
        return self._by_pair, self._wide_by_dst

    @property
    def prefix_lengths(self) -> dict[int, list[int]]:
        """Per address family, the prefix lengths some rule's key has, shortest first
        (read only)."""
        return self._sorted_lengths

    @property
    def side_keys(self) -> tuple[dict[tuple, tuple], dict[tuple, tuple]]:
        """(every index key some rule's sources have, every key some rule's destinations
        have), each a dict of the key to itself (read only)."""
        return self._src_keys, self._dst_keys

    @cached_property
    def sources(self) -> _SideIndex:
        """The per-side bucket index of the rules' sources (built on first use)."""
        return self._side_index("sources")

    @cached_property
    def destinations(self) -> _SideIndex:
        return self._side_index("destinations")

    def _side_index(self, side: str) -> _SideIndex:
        out = _SideIndex()
        for rule in self.rules:
            for endpoint in getattr(rule, side):
                out.add(rule.index, endpoint, self.topology)
        return out

    # -- packets -----------------------------------------------------------------

    def _pair(self, src_key: tuple, dst_key: tuple) -> list[int]:
        """The rules in both a source bucket and a destination bucket, in file order;
        remembered when both buckets are large (they are shared by many points)."""
        key = (src_key, dst_key)
        hit = self._pairs.get(key)
        if hit is not None:
            return hit
        a, b = self.sources.bucket(src_key), self.destinations.bucket(dst_key)
        if len(a) > len(b):
            a, b = b, a
        hit = sorted(i for i in a if i in b)
        if len(a) >= _REMEMBER:
            self._pairs[key] = hit
        return hit

    def _keys(self, point: Point, source: bool) -> tuple[tuple, ...] | None:
        """The index keys a packet end matches (``None``: a nameless point of a
        component with addresses or networks, which only the bucket index files by
        name: the rules' own keys hold the addresses and networks)."""
        cache = self._point_keys[source]
        hit = cache.get(point, False)
        if hit is not False:
            return hit
        present = self._src_keys if source else self._dst_keys
        address = point.address
        if address is None:
            comp = self.topology.components.get(point.component)
            if comp is not None and (comp.addresses or comp.networks) and comp.kind is not Kind.INTERNET:
                return cache.put(point, None)
            keys = [("any",), ("name", point.component)]
        else:
            version, value = address.version, int(address)
            keys = [("any",), ("address", version, value)]
            if is_public(address):
                keys.append(("internet",))
            bits = _BITS[version]
            for length in self._prefix_lengths[version]:
                keys.append(("prefix", version, length, value >> (bits - length)))
        return cache.put(point, tuple(kept for k in keys if (kept := present.get(k)) is not None))

    def source_class(self, point: Point) -> object:
        """What decides every connection from ``point`` as a source: its address family,
        whether it is public (:func:`~checker.policy.reaches`) and the index keys it
        matches (so the rules whose sources match it). Two points of one class are
        allowed, and blocked, to the same ends on the same ports, so a question asked
        from each of them (a client resolving a name, from each of the thousands of
        public cells) is answered by one."""
        keys = self._keys(point, True)
        if keys is None:
            return point
        address = point.address
        return (0 if address is None else address.version, address is not None and is_public(address),
                point.component, keys)

    def iter_matching(self, src: Point, dst: Point) -> Iterator[int]:
        """Indices (file order) of the rules whose endpoints match both packet ends."""
        return iter(self._matching(src, dst))

    def _matching(self, src: Point, dst: Point, s_keys=(), d_keys=()) -> list[int]:
        """The union over pairs of the ends' index keys of their common rules, sorted
        (the keys, when the caller has them, are those of :meth:`_keys`)."""
        if s_keys == ():
            s_keys, d_keys = self._keys(src, True), self._keys(dst, False)
        if s_keys is None or d_keys is None:
            return list(self._iter_buckets(src, dst))
        lists = []
        by_pair = self._by_pair
        for s_key in s_keys:
            row = by_pair.get(s_key)
            if row is not None:
                for d_key in d_keys:
                    pair = row.get(d_key)
                    if pair is not None:
                        lists.append(pair)
        if self._wide_sources:
            wanted = None
            for d_key in d_keys:
                for i in self._wide_by_dst.get(d_key, ()):
                    if wanted is None:
                        wanted = set(s_keys)
                    if not wanted.isdisjoint(self._wide_sources[i]):
                        lists.append([i])
        if len(lists) == 1:
            return lists[0]
        if not lists:
            return lists
        return sorted(set().union(*lists))

    def _iter_buckets(self, src: Point, dst: Point) -> Iterator[int]:
        """As :meth:`iter_matching`, from the per-side bucket index."""
        lists = [
            pair
            for s_key in self.sources.buckets(src)
            for d_key in self.destinations.buckets(dst)
            if (pair := self._pair(s_key, d_key))
        ]
        if len(lists) == 1:
            yield from lists[0]
            return
        previous = -1
        for index in heapq.merge(*lists):
            if index != previous:
                yield index
                previous = index

    def matching_rules(self, src: Point, dst: Point) -> list[int]:
        """Indices (file order) of the rules whose endpoints match both packet ends (a
        list the index may keep: read it, never change it)."""
        return self._matching(src, dst)

    def first_match(self, src: Point, dst: Point, ports: PortSet, s_keys=(), d_keys=()) -> Decision:
        """The first-match verdict for packets between two points on any of ``ports``."""
        remaining = ports
        blocker: Rule | None = None
        rules = self.rules
        for index in self._matching(src, dst, s_keys, d_keys):
            rule = rules[index]
            if not _overlaps(remaining, rule.ports):
                continue
            hit = remaining if _covers(rule.ports, remaining) else remaining & rule.ports
            if rule.action == "allow":
                protocol, port = hit.sample()
                return Decision(True, Packet(src, dst, protocol, port), rule)
            blocker = blocker or rule
            remaining = remaining - hit
            if not remaining:
                break
        return Decision(False, None, blocker)

    # -- the internet ----------------------------------------------------------------

    @cached_property
    def all_cells(self) -> dict[int, Sequence[int]]:
        """The reference's cells (:attr:`checker.policy.Policy.cells`), as sorted integers per family."""
        points: dict[int, set[int]] = {4: {1}, 6: {1}}  # as checker.net.cell_starts
        sides: dict[int, tuple[Endpoint, ...]] = {}  # (rules share their sides: each read once)
        for rule in self.rules:
            sides.setdefault(id(rule.sources), rule.sources)
            sides.setdefault(id(rule.destinations), rule.destinations)
        networks = [e.value for side in sides.values() for e in side if e.kind == "network"]
        networks.extend(PRIVATE_NETWORKS)
        for comp in self.topology.components.values():
            networks.extend(comp.networks)
        for net in networks:
            points[net.version].add(int(net.network_address))
            top = int(net.broadcast_address) + 1
            if top < 2 ** _BITS[net.version]:
                points[net.version].add(top)
        for comp in self.topology.components.values():
            for address in comp.addresses:
                value, version = int(address), address.version
                points[version].add(value)
                if value + 1 < 2 ** _BITS[version]:
                    points[version].add(value + 1)
        # IPv4 cells as an array of 32-bit ints (every address and the one after it: 200k
        # int objects at 100k components, 7 MB); IPv6 values do not fit one
        return {4: array(_UINT32, sorted(p for p in points[4] if p)), 6: sorted(p for p in points[6] if p)}

    @cached_property
    def representatives(self) -> dict[int, list[int]]:
        """The reference's representative public addresses, as sorted integers per family."""
        out: dict[int, list[int]] = {}
        for version, values in self.all_cells.items():  # (sorted, without zero: the private ranges cut out)
            kept: list[int] = []
            start = 0
            for first, last in sorted(PRIVATE_RANGES[version]):
                kept.extend(values[start:bisect.bisect_left(values, first, start)])
                start = max(start, bisect.bisect_right(values, last, start))
            kept.extend(values[start:])
            out[version] = kept
        return out

    def cells_of(self, name: str) -> dict[int, list[int]]:
        """The cells inside a component's networks (the internet: every public cell)."""
        hit = self._cells_of.get(name)
        if hit is None:
            comp = self.topology.components[name]
            if comp.kind is Kind.INTERNET:
                hit = self.representatives
            else:  # each network's cells found by bisection (a scan of every cell per group is the square of many groups)
                hit = {}
                for version, values in self.all_cells.items():
                    inside: set[int] = set()
                    for n in comp.networks:
                        if n.version == version:
                            low = bisect.bisect_left(values, int(n.network_address))
                            inside.update(values[low:bisect.bisect_right(values, int(n.broadcast_address))])
                    hit[version] = sorted(inside)
            self._cells_of[name] = hit
        return hit

    @cached_property
    def internet_points(self) -> tuple[Point, ...]:
        return tuple(Point(_address(v, p), None) for v in (4, 6) for p in self.representatives[v])

    def _public_rules_to(self, dst: Point) -> list[int]:
        """The rules whose destinations match ``dst`` and whose sources may match a
        public address (the only ones that can cut the public address space)."""
        hit = self._public_dst.get(dst)
        if hit is None:
            lists = [self._public_in_bucket(key) for key in self._destination_keys(dst)]
            hit = self._public_dst[dst] = sorted(set().union(*lists)) if len(lists) != 1 else lists[0]
        return hit

    def _public_in_bucket(self, key: tuple) -> list[int]:
        """The rules of one destination bucket whose sources may be public, sorted; once
        per bucket (the ``any`` and ``internet`` buckets are every public destination's)."""
        if not self._bucket_only(key):
            return self._public_rules_by_destination_key.get(key, ())
        hit = self._public_buckets.get(key)  # a component's name: the bucket index's
        if hit is None:
            hit = self._public_buckets[key] = sorted(i for i in self.destinations.bucket(key)
                                                     if self._may_be_public(i))
        return hit

    @cached_property
    def _public_rules_by_destination_key(self) -> dict[tuple, Sequence[int]]:
        """Destination key -> the rules under it whose sources may be public, in file
        order (all a client on the internet can meet: a fraction of the rules)."""
        public = self._public_rules
        sides: dict[int, bool] = {}  # id of a (shared) list of source keys -> whether public
        for rule, keys in zip(self.rules, self.rule_keys.side(0)):
            hit = sides.get(id(keys))
            if hit is None:
                hit = sides[id(keys)] = any(map(_public_key, keys))
            public[rule.index] = 2 if hit else 1  # (what _may_be_public keeps, for each rule at once)
        return _filed_by_key(self.rules, self.rule_keys, 1, lambda index: public[index] == 2)

    # The rules by destination key, for a destination point: from the rules' own keys
    # (:attr:`rule_keys`) where a point's keys (:meth:`_keys`) say all, else from the
    # per-side bucket index (built only then). A point with an address, or a component
    # without addresses or networks by name, is matched exactly by the rules under its
    # keys; a nameless point of a component with addresses or networks is also matched
    # by the rules that name the component, which only the bucket index files by name.
    # (The bucket index holds every rule side's endpoints once more, with a set per
    # bucket: at 100k components, tens of megabytes the connections never needed.)

    def rules_to(self, point: Point) -> frozenset[int]:
        """The rules whose destinations match ``point``."""
        return frozenset().union(*(self._destination_bucket(key) for key in self._destination_keys(point)))

    def rules_by_key(self, side: int) -> dict[tuple, Sequence[int]]:
        """The rules filed under each index key of one side (0: sources, 1:
        destinations), in file order; built on first use (read only)."""
        hit = self._rules_by_key[side]
        if hit is None:
            hit = self._rules_by_key[side] = _filed_by_key(self.rules, self.rule_keys, side)
        return hit

    def _destination_keys(self, point: Point) -> tuple[tuple, ...]:
        if point.address is not None or self._by_name_only(point.component):
            keys = self._keys(point, False)
            if keys is not None:
                return keys
        return self.destinations.buckets(point)

    def _destination_bucket(self, key: tuple):
        """The rules under one destination key, in file order (a key of either index: they
        agree on every key but the name of a component with addresses or networks)."""
        if self._bucket_only(key):
            return self.destinations.bucket(key)
        return self.rules_by_key(1).get(key, ())

    def _bucket_only(self, key: tuple) -> bool:
        """Whether only the bucket index files a destination key's rules: the name of a
        component with addresses or networks (the rules' own keys hold its addresses)."""
        return key[0] == "name" and not self._by_name_only(key[1])

    def _by_name_only(self, name: str | None) -> bool:
        comp = self.topology.components.get(name) if name is not None else None
        return comp is not None and not comp.addresses and not comp.networks

    def _may_be_public(self, index: int) -> bool:
        """Whether a rule's sources may match a public address (once per rule; a side
        repeated by the rules around it, once for them)."""
        known = self._public_rules[index]
        if known:
            return known == 2
        keys = self.rule_keys.side(0)[index]  # (one list per side, shared by its rules)
        hit = self._public_sides.get(id(keys))
        if hit is None:
            hit = self._public_sides.put(id(keys), any(map(_public_key, keys)))
        self._public_rules[index] = 2 if hit else 1
        return hit

    def _source_bounds(self, rule_indices: set[int]) -> dict[int, set[int]]:
        """Where the public address space must be cut so that, inside each piece, the
        given rules' sources match every address alike."""
        cuts: dict[int, set[int]] = {4: {0}, 6: {0}}
        for net in PRIVATE_NETWORKS:
            _cut(cuts, net.version, int(net.network_address), int(net.broadcast_address))
        for index in rule_indices:
            for version, low, high in self._ranges_of_sources(index):
                _cut(cuts, version, low, high)
        return cuts

    def _ranges_of_sources(self, index: int) -> list[tuple[int, int, int]]:
        """(version, low, high) of each network and address a rule's sources name."""
        hit = self._source_ranges.get(index)
        if hit is not None:
            return hit
        out: list[tuple[int, int, int]] = []
        for endpoint in self.rules[index].sources:
            if endpoint.kind == "network":
                net = endpoint.value
                out.append((net.version, int(net.network_address), int(net.broadcast_address)))
            elif endpoint.kind in ("component", "cluster"):
                members = (
                    self.topology.clusters[endpoint.value].members
                    if endpoint.kind == "cluster" else (endpoint.value,)
                )
                for member in members:
                    comp = self.topology.components[member]
                    out.extend((a.version, int(a), int(a)) for a in comp.addresses)
                    out.extend((n.version, int(n.network_address), int(n.broadcast_address)) for n in comp.networks)
        self._source_ranges[index] = out
        return out

    def _connect_from_networks(self, source: str, dsts: tuple[Point, ...], ports: PortSet) -> Decision:
        """A connection from the internet or a client group: the source's cells are cut
        at the bounds of the rules that can decide (their sources' ranges, the private
        ranges, the group's networks) into intervals in which every address is treated
        alike, and each interval is tried once, at its smallest cell (the reference's
        witness)."""
        internet = source == INTERNET or self.topology.components[source].kind is Kind.INTERNET
        relevant: set[int] = set()
        for dst in dsts:
            matching = self._public_rules_to(dst) if internet else self.rules_to(dst)
            relevant.update(i for i in matching if _overlaps(self.rules[i].ports, ports))
        blocker: Rule | None = None
        cuts = self._source_bounds(relevant)
        cells = self.representatives if internet else self.cells_of(source)
        if not internet:
            for net in self.topology.components[source].networks:
                _cut(cuts, net.version, int(net.network_address), int(net.broadcast_address))
        for version in (4, 6):
            reps = cells[version]
            same = [dst for dst in dsts if dst.address is None or dst.address.version == version]
            if not same or not reps:
                continue
            bounds = sorted(cuts[version])
            for position, low in enumerate(bounds):
                high = bounds[position + 1] - 1 if position + 1 < len(bounds) else 2 ** _BITS[version] - 1
                at = bisect.bisect_left(reps, low)
                if at == len(reps) or reps[at] > high:
                    continue
                src = Point(_address(version, reps[at]), None)
                for dst in same:
                    if not reaches(src, dst, True):
                        continue
                    if self.open:
                        protocol, port = ports.sample()
                        return Decision(True, Packet(src, dst, protocol, port), None)
                    decision = self.first_match(src, dst, ports)
                    if decision.allowed:
                        return decision
                    blocker = blocker or decision.rule
        return Decision(False, None, blocker)

    # -- connections between components ---------------------------------------

    def source_points(self, source: str) -> tuple[Point, ...]:
        if source == INTERNET or self.topology.components[source].kind is Kind.INTERNET:
            return self.internet_points
        return self._own_points(source)

    def destination_points(self, destination: str) -> tuple[Point, ...]:
        return self._own_points(destination)

    def _own_points(self, name: str) -> tuple[Point, ...]:
        hit = self._points.get(name)
        if hit is None:
            comp = self.topology.components[name]
            if comp.networks:
                cells = self.cells_of(name)
                hit = tuple(Point(_address(v, p), None) for v in (4, 6) for p in cells[v])
            elif comp.addresses:
                hit = tuple(Point(a, name) for a in comp.addresses)
            else:
                hit = (Point(None, name),)
            self._points.put(name, hit)
        return hit

    def _connect(self, source: str, destination: str, ports: PortSet) -> Decision:
        if not ports:
            return Decision(False)
        dsts = self.destination_points(destination)
        if self.by_networks(source):
            return self._connect_from_networks(source, dsts, ports)
        blocker = None
        for src, s_keys in self._keyed(source, True):
            for dst, d_keys in self._keyed(destination, False):
                if not same_family(src.address, dst.address):
                    continue
                if self.open:
                    protocol, port = ports.sample()
                    return Decision(True, Packet(src, dst, protocol, port), None)
                decision = self.first_match(src, dst, ports, s_keys, d_keys)
                if decision.allowed:
                    return decision
                blocker = blocker or decision.rule
        return Decision(False, None, blocker)

    def allowed(self, source: str, destination: str, ports: PortSet) -> bool:
        """``bool(self.connect(source, destination, ports))``, without building the
        decision (no witness packet, no deciding rule): what the serving equations
        ask, hundreds of thousands of times in a large file. Cached."""
        key = (destination, ports)
        row = self._allowed.get(key)
        cls = self._last_class if source is self._last_class_source else self.component_class(source)
        if row is None:  # a first answer: a pair (half the rows at 100k hold one answer)
            hit = self._allows(source, destination, ports)
            self._allowed[key] = (cls, hit)
            return hit
        if row.__class__ is tuple:
            if row[0] == cls:
                return row[1]
            hit = self._allows(source, destination, ports)
            self._allowed[key] = {row[0]: row[1], cls: hit}
            return hit
        hit = row.get(cls)
        if hit is None:
            hit = row[cls] = self._allows(source, destination, ports)
        return hit

    def forget_answers(self) -> None:
        """Drop :meth:`allowed`'s memo (35 MB at 100k components, held otherwise through
        the failure checks' peak; it refills with what is asked after)."""
        self._allowed = {}
        self._classes = {}
        self._last_class_source, self._last_class = None, ""
        self._row_classes, self._row_kept, self._shared_classes, self._wide_classes = {}, [], {}, {}
        self._wide_by_src = None

    def component_class(self, source: str) -> object:
        """The class of a source for :meth:`allowed`: sources of one class (an int, or
        a tuple of ints) are matched by the same rules, so every connection from them
        is decided alike; a source the index cannot class so is its own class (its
        name). Numbered anew after :meth:`forget_answers` (with the answers).

        :meth:`_allows` reads a source only through its ends (:meth:`_source_ends`):
        each end's address family, the index rows of its own keys, the shared rows of
        its other keys, and which "wide" rules its keys meet. Two ends with rows of
        equal contents, the same shared rows and the same wide rules are matched by
        the same rules (a row of a key holds, by destination key, every rule filed
        under the pair), so the class is those, end by end, with each row known by
        its contents: in a large file most servers of a pool are named by the same
        rules, and their requirements ask the same questions of the same targets."""
        hit = self._classes.get(source)
        if hit is None:
            hit = self._classes[source] = self._source_class(source)
        self._last_class_source, self._last_class = source, hit
        return hit

    def _source_class(self, source: str) -> object:
        ends = self._source_ends(source)
        if not ends:
            return source
        wide = self._wide_by_src
        if wide is None:
            wide = self._wide_by_src = _inverse(self._wide_sources)
        shared_classes, wide_classes = self._shared_classes, self._wide_classes
        signature = []
        for family, rows, keys, _, shared in ends:
            if rows is None:
                return source  # (only the bucket index matches the end: by its point)
            signature.append(family)
            # (the shared rows are kept for the index's life: one object each)
            signature.append(shared_classes.setdefault(id(shared), len(shared_classes)))
            signature.append(wide_classes.setdefault(frozenset(i for key in keys for i in wide.get(key, ())),
                                                     len(wide_classes)))
            signature.append(len(rows))
            for row in rows:
                number = self._row_class(row)
                if number is None:
                    return source
                signature.append(number)
        # one int when the numbers are small (a tuple would be kept for each source the
        # answers memo holds: tens of megabytes at 100k components): the digits in base
        # _CLASS_PART, after their count (so that no two signatures give one int)
        if max(signature) >= _CLASS_PART or len(signature) >= _CLASS_PART:
            return tuple(signature)
        packed = len(signature)
        for number in signature:
            packed = packed * _CLASS_PART + number
        return packed

    def _row_class(self, row: dict) -> int | None:
        """A number for the contents of an index row: equal rows, equal numbers (None
        for a row whose contents' hash another row's contents have)."""
        classes = self._row_classes
        digest = hash(frozenset(row.items()))
        number = classes.get(digest)
        if number is None:
            number = classes[digest] = len(self._row_kept)
            self._row_kept.append(row)
            return number
        kept = self._row_kept[number]
        return number if kept is row or kept == row else None

    def _allows(self, source: str, destination: str, ports: PortSet) -> bool:
        # Asked in runs of one source (a component's requirements are compiled
        # together): its ends are kept in one slot ahead of the bounded memo. A source
        # that stands for networks has no ends (``None``): the reference decides it.
        if source is self._last_source:
            source_ends = self._last_source_ends
        else:
            source_ends = self._source_ends(source)
            self._last_source, self._last_source_ends = source, source_ends
        if source_ends is None or not ports or self.open:
            return bool(self.connect(source, destination, ports))
        if ports is self._last_ports:
            relations = self._last_relations
        else:
            relations = self._relations.get(ports)
            if relations is None:
                relations = self._relations[ports] = {}
            self._last_ports, self._last_relations = ports, relations
        port_class, allows = self._port_class, self._allows_rule
        for src_family, rows, s_keys, src, shared in source_ends:
            for dst_family, d_keys, wide, dst, by_shared in self._destination_ends(destination):
                if src_family and dst_family and dst_family != src_family:
                    continue
                if rows is None or d_keys is None:  # a nameless end of a component with addresses
                    candidates = self._matching(src, dst)
                else:
                    # the rows of keys many sources share (any, internet, networks) meet
                    # this end's keys once for all of them; the source's own rows here
                    found = by_shared.get(id(shared))
                    if found is None:
                        found = by_shared[id(shared)] = [
                            pair for row in shared[1] for key in d_keys if (pair := row.get(key)) is not None]
                    lists = [pair for row in rows for key in d_keys if (pair := row.get(key)) is not None]
                    if found:
                        lists.extend(found)
                    for index, keys in wide:
                        if not keys.isdisjoint(s_keys):
                            lists.append((index,))
                    if len(lists) == 1:
                        candidates = lists[0]
                    elif lists:
                        candidates = sorted(set().union(*lists))
                    else:
                        continue
                for index in candidates:
                    kind = port_class[index]
                    relation = relations.get(kind)
                    if relation is None:
                        relation = relations[kind] = _relation(ports, self._port_sets[kind])
                    if relation == _DISJOINT:
                        continue
                    if allows[index]:
                        return True
                    if relation == _COVERS:
                        break
                    # a deny of some of the ports: the rest is decided rule by rule
                    if self._rest_allowed(candidates, ports):
                        return True
                    break
        return False

    def _rest_allowed(self, candidates: Sequence[int], ports: PortSet) -> bool:
        """Whether the first match of some port of ``ports`` among ``candidates`` (rules
        in file order) allows it."""
        remaining = ports
        rules = self.rules
        for index in candidates:
            rule = rules[index]
            rule_ports = rule.ports
            if rule_ports is not remaining and not _overlaps(remaining, rule_ports):
                continue
            if rule.action == "allow":
                return True
            if _covers(rule_ports, remaining):
                return False
            remaining = remaining - (remaining & rule_ports)
        return False

    def _source_ends(self, name: str) -> list[tuple] | None:
        """(address family or 0, the index rows of its own keys, its keys, point, the
        shared rows) of each packet end of a component as a source (rows None: only the
        bucket index can match the end); once per component. ``None`` for a source that
        stands for networks (:meth:`by_networks`).

        A point's own keys are its address and name; the rest (``any``, ``internet``, the
        networks around it) it shares with its neighbours, and their rows are one
        object ``(keys, rows)`` for all the points that have the same such keys."""
        hit = self._src_ends.get(name, False)
        if hit is False:
            if self.by_networks(name):
                return self._src_ends.put(name, None)
            by_pair = self._by_pair
            ends = []
            for point, keys in self._keyed(name, True):
                if keys is None:
                    ends.append((point.address.version if point.address is not None else 0, None, (), point,
                                 _NO_SHARED))
                    continue
                common = tuple(k for k in keys if k[0] not in _OWN and k in by_pair)
                shared = self._shared_rows.get(common)
                if shared is None:
                    shared = self._shared_rows[common] = (common, tuple(by_pair[k] for k in common))
                ends.append((point.address.version if point.address is not None else 0,
                             tuple(by_pair[k] for k in keys if k[0] in _OWN and k in by_pair),
                             keys, point, shared))
            hit = self._src_ends.put(name, ends)
        return hit

    def _destination_ends(self, name: str) -> list[tuple]:
        """(address family or 0, its keys, the "wide" rules filed under them with their
        source keys, point, a memo of what the sources' shared rows hold under its keys
        by the id of those rows) of each packet end of a component as a destination."""
        hit = self._dst_ends.get(name)
        if hit is None:
            wide = self._wide_sources
            hit = self._dst_ends.put(name, [
                (point.address.version if point.address is not None else 0, keys,
                 () if keys is None or not wide else
                 tuple((i, wide[i]) for i in sorted({i for k in keys for i in self._wide_by_dst.get(k, ())})),
                 point, {})
                for point, keys in self._keyed(name, False)])
        return hit

    def _keyed(self, name: str, source: bool) -> list[tuple[Point, tuple[tuple, ...] | None]]:
        """A component's own points, each with its index keys (both kept by their own
        caches: a list per component here would be a third copy)."""
        return [(p, self._keys(p, source)) for p in self._own_points(name)]


class RuleKeys:
    """Per rule (by index), its (source keys, destination keys), read as a sequence
    of pairs; kept as one list per side (a pair per rule was 12 MB more at 100k)."""

    __slots__ = ("_sides",)

    def __init__(self) -> None:
        self._sides: tuple[list[list[tuple]], list[list[tuple]]] = ([], [])

    def append(self, src_keys: list[tuple], dst_keys: list[tuple]) -> None:
        self._sides[0].append(src_keys)
        self._sides[1].append(dst_keys)

    def side(self, side: int) -> list[list[tuple]]:
        """Per rule, the keys of one side (0: sources, 1: destinations) (read only)."""
        return self._sides[side]

    def __getitem__(self, index: int) -> tuple[list[tuple], list[tuple]]:
        return self._sides[0][index], self._sides[1][index]

    def __len__(self) -> int:
        return len(self._sides[0])

    def __iter__(self) -> Iterator[tuple[list[tuple], list[tuple]]]:
        return zip(*self._sides)


def _inverse(sets: dict[int, frozenset[tuple]]) -> dict[tuple, tuple[int, ...]]:
    """Key -> the indices (ascending) whose set holds it; equal tuples are one object
    (the servers of a pool are all in the same wide rules: 6 MB at 100k as a list each)."""
    lists: dict[tuple, list[int]] = {}
    for index in sorted(sets):
        for key in sets[index]:
            lists.setdefault(key, []).append(index)
    shared: dict[tuple[int, ...], tuple[int, ...]] = {}
    out: dict[tuple, tuple[int, ...]] = {}
    for key, indices in lists.items():
        kept = tuple(indices)
        out[key] = shared.setdefault(kept, kept)
    return out


def _filed_by_key(rules: Sequence[Rule], rule_keys: RuleKeys, side: int, keep=None) -> dict[tuple, Sequence[int]]:
    """The rules (those ``keep(index)`` accepts, or all) under each index key of one
    side, in file order; a key of one rule holds a tuple (most do: half a list's size)."""
    out: dict[tuple, Sequence[int]] = {}
    for rule, keys in zip(rules, rule_keys.side(side)):
        index = rule.index  # (its position, the one int object: see FastPolicy.__init__)
        if keys and (keep is None or keep(index)):
            for key in keys:
                out.setdefault(key, []).append(index)  # type: ignore[union-attr]
    for key, rules in out.items():
        if len(rules) == 1:
            out[key] = (rules[0],)
    return out


def _rule_keys(endpoints, topology: Topology, interned: dict[tuple, tuple] | None = None) -> list[tuple]:
    """The index keys of one side of a rule (see :meth:`FastPolicy._keys`), each the one
    object ``interned`` holds for it."""
    keys: dict[tuple, None] = {}
    for endpoint in endpoints:
        if endpoint.kind in ("any", "internet"):
            keys[(endpoint.kind,)] = None
        elif endpoint.kind == "network":
            net = endpoint.value
            keys[("prefix", net.version, net.prefixlen,
                  int(net.network_address) >> (_BITS[net.version] - net.prefixlen))] = None
        else:
            members = topology.clusters[endpoint.value].members if endpoint.kind == "cluster" else (endpoint.value,)
            for member in members:
                comp = topology.components[member]
                if comp.kind is Kind.INTERNET:
                    keys[("internet",)] = None
                    keys[("name", member)] = None
                    continue
                if not comp.addresses and not comp.networks:
                    keys[("name", member)] = None
                for address in comp.addresses:
                    keys[("address", address.version, int(address))] = None
                for net in comp.networks:
                    keys[("prefix", net.version, net.prefixlen,
                          int(net.network_address) >> (_BITS[net.version] - net.prefixlen))] = None
    if interned is None:
        return list(keys)
    return [interned.setdefault(key, key) for key in keys]


def _public_key(key: tuple) -> bool:
    """Whether an index key of a rule's sources may match a public address: ``any``,
    ``internet`` (a client on the internet), a public address, or a network not inside
    a private range; never a component's name (a component without addresses or
    networks, which no public packet end is)."""
    kind = key[0]
    if kind in ("any", "internet"):
        return True
    if kind == "address":
        return public_value(key[1], key[2])
    if kind == "prefix":
        _, version, length, value = key
        free = _BITS[version] - length
        low, high = value << free, ((value + 1) << free) - 1
        return not any(first <= low and high <= last for first, last in PRIVATE_RANGES[version])
    return False


_DISJOINT, _PARTLY, _COVERS = 0, 1, 2  # how a rule's ports meet an asked port set


def _relation(asked: PortSet, rule_ports: PortSet) -> int:
    """Whether ``rule_ports`` miss every port of ``asked``, hold some of them, or all."""
    if rule_ports is not asked and not _overlaps(asked, rule_ports):
        return _DISJOINT
    return _COVERS if _covers(rule_ports, asked) else _PARTLY


def _overlaps(a: PortSet, b: PortSet) -> bool:
    """Whether two port sets share a port (without building the intersection)."""
    if a is b:
        return bool(a.ranges)
    for x in a.ranges:
        for y in b.ranges:
            if x.protocol == y.protocol and x.low <= y.high and y.low <= x.high:
                return True
    return False


def _covers(big: PortSet, small: PortSet) -> bool:
    """Whether ``big`` contains every port of ``small`` (both normalised)."""
    if big is small:
        return True
    for x in small.ranges:
        for y in big.ranges:
            if y.protocol == x.protocol and y.low <= x.low and x.high <= y.high:
                break
        else:
            return False
    return True


def _cut(cuts: dict[int, set[int]], version: int, low: int, high: int) -> None:
    cuts[version].add(low)
    if high + 1 < 2 ** _BITS[version]:
        cuts[version].add(high + 1)


def _address(version: int, value: int) -> IPAddress:
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)
