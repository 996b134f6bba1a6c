"""No rule is shadowed: every rule is the first match for some packet.

**What it proves.** For every `allow`/`deny` rule there is a packet (source,
destination, protocol, port) that it matches and no earlier rule matches, so
under first-match semantics (LANGUAGE.md section 3) the rule decides something.

**Why it matters.** A shadowed rule is dead text that looks like it does
something: a `deny` written after a broader `allow` blocks nothing, which is a
classic way to leave a database listener open while believing it closed.

**A failing example.**

    allow any -> lb1 any
    deny internet -> lb1 tcp/5432     # never matches: line 1 covers every packet

refuted (a warning at line 2): the rule at line 1 covers every packet it matches.

**The fix.** Move the narrower rule above the broader one (first match wins), or
delete it if it is redundant.

**Method.** `z3`: a packet of each rule is first tried concretely against the
indexed policy (most rules are the first match of their own corner packet);
for the rest, whether the earlier rules that may overlap it match every packet
it matches is decided exactly on intervals (its sources, destinations and ports
cut into pieces over which the same rules hold), or, when that would take too
much work, by Z3 searching for a packet the rule matches and none of those
rules match (`unsat` proves the rule shadowed). The
earlier rules named as covering it are a minimal set fixed by the file alone:
the last rule of the shortest prefix of the overlapping earlier rules that covers
it, then, keeping what was found, the last rule of the shortest prefix before it
that completes a cover, until the rules found cover (a binary search each; an
unsat core would name a different set from run to run).
"""

from __future__ import annotations

import bisect
import heapq
import ipaddress
from functools import lru_cache
from itertools import accumulate, islice
from typing import Iterator

from ..context import Context
from ..memo import Recent
from ..model import CheckRequest, Endpoint, Kind, Rule, Topology
from ..net import ANY_PORT, PRIVATE_RANGES, PortSet, same_family
from ..policy import Point
from ..results import Counterexample, Hop, Result, Severity, Status

ID = "shadowed-rule"
SEVERITY = Severity.WARNING
ORDER = 100
DEFAULT = False
ALWAYS = True
PARAMS: dict = {}

_SAMPLES = 24  # concrete packets tried per rule before asking the solver
_RECENT = 1 << 14  # the sample points and the atoms of about this many rule sides are kept


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    from ..engines.fastpolicy import FastPolicy
    from ..engines.packets_paths import _fast

    if not topology.rules:
        yield Result(ID, Status.PROVED, SEVERITY, "the file has no rules to shadow", request.span, "z3")
        return
    index = context.policy if isinstance(context.policy, FastPolicy) else _fast(context)
    overlaps = _Overlaps(topology, index)
    by_pair: dict = {}
    points = Recent(_RECENT)
    related: dict = {}  # covering rules -> their lines and hops (a rule often covers many: one of each for all)
    found = 0
    unknown: list[str] = []
    one_range = overlaps.one_range
    for rule in topology.rules:
        # the corner packets first (the first match of most rules that are not
        # shadowed: one, or two where a first end is ``any``, whose samples start with a
        # public address and a private one), then one earlier rule covering it all (most
        # that are), then the other samples: the answer is the same in any order, only
        # the work differs
        corners = 2 if rule.sources[0].kind == "any" or rule.destinations[0].kind == "any" else 1
        corner: list = []  # the rules matching the first corner's packet ends (when listed)
        if _first_match_somewhere(topology, index, rule, by_pair, points, one_range, 0, corners, corner):
            continue
        cover = overlaps.single_cover(rule, corner[0] if corner else None)
        if cover is not None:
            found += 1
            yield _shadowed(rule, [cover], related)
            continue
        if _first_match_somewhere(topology, index, rule, by_pair, points, one_range, corners, _SAMPLES):
            continue
        status, cover_rules, reason = _solve(topology, context, rule, overlaps.earlier(rule))
        if status is Status.UNKNOWN:
            unknown.append(f"line {rule.line}: {reason}")
        elif status is Status.REFUTED:
            found += 1
            yield _shadowed(rule, cover_rules, related)
    if unknown:  # reported even next to shadowed rules: an undecided rule is never dropped
        yield Result(ID, Status.UNKNOWN, SEVERITY, f"could not decide every rule: {unknown[0]}", request.span, "z3")
        return
    if found:
        return
    yield Result(ID, Status.PROVED, SEVERITY,
                 f"every rule ({len(topology.rules)}) is the first match for some packet", request.span, "z3")


def _shadowed(rule: Rule, cover: list[Rule],
              related: dict[tuple[int, ...], tuple[list[int], tuple[Hop, ...]]]) -> Result:
    key = tuple(r.index for r in cover)
    shared = related.get(key)
    if shared is None:  # (one list and one tuple of hops for all it covers: nothing changes them)
        shared = related[key] = ([r.line for r in cover],
                                 tuple(Hop(f"line {r.line} matches first", r.span) for r in cover))
    lines, hops = shared
    if cover:
        which = (f"the rule at line {lines[0]} covers" if len(lines) == 1
                 else f"the rules at lines {', '.join(map(str, lines))} cover")
        text = f"the rule at line {rule.line} can never match: {which} every packet it matches"
        hint = "move the narrower rule above the broader one, or delete it"
    elif _families(rule.sources) and _families(rule.destinations) and \
            not _families(rule.sources) & _families(rule.destinations):
        text = (f"the rule at line {rule.line} can never match: its sources and destinations are of different "
                "address families, and a packet's two ends are both IPv4 or both IPv6")
        hint = "write the networks of one family on both sides, or delete the rule"
    else:
        text = f"the rule at line {rule.line} can never match: no packet fits all of its parts"
        hint = "delete the rule"
    return Result(ID, Status.REFUTED, SEVERITY, text, rule.span, "z3",
                  (Counterexample({"rule": rule.line, "shadowed_by": lines}, related=hops),), hint=hint)


# Concrete packet ends to try first (never an unspecified address: no packet has one).
def _families(endpoints) -> set[int]:
    """The address families one side of a rule can match; empty when it may match an end
    without an address (a component by name) or any family."""
    out: set[int] = set()
    for endpoint in endpoints:
        if endpoint.kind != "network":
            return set()
        out.add(endpoint.value.version)
    return out


# ``any`` is the public addresses and the private ones: one of each first (a rule after
# ``deny internet -> X`` is most often the first match of a private source)
_ANY_SAMPLES = tuple(Point(ipaddress.ip_address(a), None)
                     for a in ("198.18.0.1", "169.254.255.254", "0.0.0.1", "2001:db8::1", "fe80::1"))
_INTERNET_SAMPLES = tuple(Point(ipaddress.ip_address(a), None) for a in ("198.18.0.1", "0.0.0.1", "2001:db8::1"))


def _endpoint_points(topology: Topology, endpoint: Endpoint, policy) -> list[Point]:
    """A few concrete points the endpoint matches (a component's addresses as the
    policy's own points of it: the points it has keyed already, so sampling adds
    nothing to its caches)."""
    if endpoint.kind in ("any", "internet"):
        return list(_ANY_SAMPLES if endpoint.kind == "any" else _INTERNET_SAMPLES)
    if endpoint.kind == "network":
        net = endpoint.value
        return [Point(net.network_address, None), Point(net.broadcast_address, None)]
    members = topology.clusters[endpoint.value].members if endpoint.kind == "cluster" else (endpoint.value,)
    out: list[Point] = []
    for member in members:
        comp = topology.components[member]
        if comp.kind is Kind.INTERNET:
            out.append(_INTERNET_SAMPLES[0])
        if comp.addresses and not comp.networks:
            out.extend(policy.destination_points(member)[:2])  # Point(address, member), the address first
        else:
            out.extend(Point(a, None) for a in comp.addresses[:2])
            out.extend(Point(n.network_address, None) for n in comp.networks[:2])
        if not comp.addresses:
            out.append(Point(None, member))
    return out[:4]


def _first_match_somewhere(topology: Topology, index, rule: Rule, by_pair: dict, points: Recent,
                           one_range: list, start: int = 0, stop: int = _SAMPLES, listed: list | None = None) -> bool:
    """True when one of the concrete packets ``start`` to ``stop`` of ``rule`` has
    ``rule`` as its first match (a witness under the reference semantics, so never a
    wrong "not shadowed"). ``one_range``: per rule, its ports' one range or None
    (:attr:`_Overlaps.one_range`).

    ``by_pair`` caches, per pair of packet ends matched by many rules, which rule is
    the first match on each port (:class:`_FirstByPort`): without it, thousands of
    rules between the same two networks cost a walk over all of them per rule.
    ``points`` keeps the sample points of the endpoints asked lately (endpoints are
    values shared by the rules that name them, and rules that name one come
    together). ``listed``, when given, receives the (sorted) rules
    matching the first pair of packet ends, where they were listed (not answered from
    ``by_pair``)."""
    ports = _corner_ports(rule.ports)
    rules = topology.rules
    for src, dst in islice(_packet_ends(topology, index, rule, points), start, stop):
        first = by_pair.get((src, dst)) if by_pair else None  # (most files fill no port map)
        if first is None:
            matching = index.matching_rules(src, dst)
            if len(matching) >= _FIRST_BY_PORT_FROM and len(by_pair) < _FIRST_BY_PORT_PAIRS:
                first = by_pair[(src, dst)] = _FirstByPort(rules, matching)
            elif listed is not None and not listed:
                listed.append(matching)
        if first is not None:
            if any(first.rule(protocol, port) == rule.index for protocol, port in ports):
                return True
            continue
        for protocol, port in ports:
            for i in matching:
                if i == rule.index:
                    return True
                if i > rule.index:
                    break
                r = one_range[i]
                if r is None:
                    if rules[i].ports is ANY_PORT or rules[i].ports.contains(protocol, port):
                        break
                elif r[0] == protocol and r[1] <= port <= r[2]:
                    break
    return False


@lru_cache(maxsize=1024)
def _corner_ports(ports: PortSet) -> tuple[tuple[str, int], ...]:
    """The (protocol, port) samples of a rule's ports: each range's two ends (one for a
    range of one port), worked out once per port set (rules repeat theirs)."""
    return tuple((r.protocol, port) for r in ports.ranges
                 for port in ((r.low,) if r.low == r.high else (r.low, r.high)))


def _packet_ends(topology: Topology, index, rule: Rule, points: Recent) -> Iterator[tuple[Point, Point]]:
    """The sample points of the rule's sources by those of its destinations, in order,
    the pairs of one address family (made as they are read: most rules need one)."""
    for source in rule.sources:
        for src in _points_of(points, topology, source, index):
            for destination in rule.destinations:
                for dst in _points_of(points, topology, destination, index):
                    if same_family(src.address, dst.address):
                        yield src, dst


def _points_of(points: Recent, topology: Topology, endpoint: Endpoint, policy) -> list[Point]:
    """:func:`_endpoint_points`, kept for the endpoints asked lately (by id: endpoints
    live as long as their rules)."""
    hit = points.get(id(endpoint))
    if hit is None:
        hit = points.put(id(endpoint), _endpoint_points(topology, endpoint, policy))
    return hit


_FIRST_BY_PORT_FROM = 32  # matching rules from which a pair of packet ends gets a port map
_FIRST_BY_PORT_PAIRS = 4096  # pairs kept (each map is linear in its matching rules)


class _FirstByPort:
    """For packets between two fixed ends: the first matching rule on each port.

    The ports of each protocol are cut at every rule boundary into elementary
    intervals; the rules (in file order) paint the intervals they contain that no
    earlier rule painted, skipping painted runs by a "next unpainted" union-find, so
    building is near-linear in the rules' ranges and a question is one binary search."""

    def __init__(self, rules, matching: list[int]):
        bounds: dict[str, set[int]] = {}
        for i in matching:
            for r in rules[i].ports.ranges:
                bounds.setdefault(r.protocol, set()).update((r.low, r.high + 1))
        self.bounds = {p: sorted(b) for p, b in bounds.items()}
        self.owner: dict[str, list[int | None]] = {p: [None] * len(b) for p, b in self.bounds.items()}
        unpainted = {p: list(range(len(b) + 1)) for p, b in self.bounds.items()}
        for i in matching:
            for r in rules[i].ports.ranges:
                cuts, owner, nxt = self.bounds[r.protocol], self.owner[r.protocol], unpainted[r.protocol]
                j = _find(nxt, bisect.bisect_left(cuts, r.low))
                end = bisect.bisect_left(cuts, r.high + 1)
                while j < end:
                    owner[j] = i
                    nxt[j] = j + 1
                    j = _find(nxt, j + 1)

    def rule(self, protocol: str, port: int) -> int | None:
        cuts = self.bounds.get(protocol)
        if cuts is None:
            return None
        j = bisect.bisect_right(cuts, port) - 1
        return self.owner[protocol][j] if 0 <= j < len(cuts) else None


def _find(nxt: list[int], j: int) -> int:
    """The first unpainted interval from ``j`` (path halving)."""
    while nxt[j] != j:
        nxt[j] = nxt[nxt[j]]
        j = nxt[j]
    return j


# -- which earlier rules can overlap a rule -------------------------------------------

class _Overlaps:
    """Per side, the rules by index key (see :mod:`checker.engines.fastpolicy`), and
    which keys can share a point: a rule can only overlap an earlier one whose keys
    meet its own on both sides."""

    def __init__(self, topology: Topology, policy):
        self.topology = topology
        self.keys = policy.rule_keys
        self.present = policy.side_keys  # per side, every key a rule has there
        self.lengths = policy.prefix_lengths  # per family, every prefix length a rule's key has
        self.policy = policy
        self._spans: tuple[dict[int, list], dict[int, list]] | None = None  # see spans
        self._meets: dict[tuple[int, tuple], list[tuple]] = {}
        self._contains: dict[tuple[int, tuple], list[tuple]] = {}
        # id of a rule side (shared by the rules that repeat it) -> its atoms, for the sides
        # asked lately (kept for every side, 30 MB at 100k components)
        self._atoms = Recent(_RECENT)
        self.cover_indexes: dict = {}  # id of a rule side -> (it, its _CoverIndex), for long sides
        # per rule, its ports as one (protocol, low, high) when they are one range (most
        # rules): the port tests below are then a tuple compare, not a loop over ranges
        self.one_range: list[tuple | None] = [r.ports.ranges[0] if len(r.ports.ranges) == 1 else None
                                              for r in topology.rules]
        # (source key, destination key) -> rules, for rules with few key pairs; the
        # others ("wide") by destination key: the policy index's own
        self.pairs, self.wide_by_dst = policy.pair_index
        self._by_ports: tuple[dict[tuple[str, int], list[int]], list[int]] | None = None  # see by_ports

    def by_ports(self) -> tuple[dict[tuple[str, int], list[int]], list[int]]:
        """The rules by the blocks of :data:`_PORT_BLOCK` ports their one range touches
        (protocol, block), and the rest (several ranges, or a range over more than
        :data:`_PORT_BLOCKS` blocks), each in file order: where thousands of rules
        share their keys (one pair of networks), a rule's ports find the few that can
        meet it. Built when first needed."""
        if self._by_ports is None:
            blocks: dict[tuple[str, int], list[int]] = {}
            wide: list[int] = []
            for i, r in enumerate(self.one_range):
                if r is None or (r[2] >> _PORT_BLOCK) - (r[1] >> _PORT_BLOCK) >= _PORT_BLOCKS:
                    wide.append(i)
                    continue
                for block in range(r[1] >> _PORT_BLOCK, (r[2] >> _PORT_BLOCK) + 1):
                    blocks.setdefault((r[0], block), []).append(i)
            self._by_ports = (blocks, wide)
        return self._by_ports

    def _port_lists(self, index: int, ports: tuple[int, int] | None = None) -> list | None:
        """The lists of :meth:`by_ports` that hold every rule whose ports meet ``ports``
        (a range of rule ``index``'s one range; all of it when None), or None when the
        rule's ports are not one narrow range."""
        mine = self.one_range[index]
        if mine is None:
            return None
        low, high = ports if ports is not None else (mine[1], mine[2])
        if (high >> _PORT_BLOCK) - (low >> _PORT_BLOCK) >= _PORT_BLOCKS:
            return None
        blocks, wide = self.by_ports()
        lists = [blocks[key] for block in range(low >> _PORT_BLOCK, (high >> _PORT_BLOCK) + 1)
                 if (key := (mine[0], block)) in blocks]
        lists.append(wide)
        return lists

    def spans(self) -> tuple[dict[int, list], dict[int, list]]:
        """Per side and family, the sorted (low, high, key) of the address and prefix keys
        (built when a rule first needs the solver: most files never do)."""
        if self._spans is None:
            self._spans = ({4: [], 6: []}, {4: [], 6: []})
            for side in (0, 1):
                for key in self.present[side]:
                    span = _span(key)
                    if span is not None:
                        self._spans[side][key[1]].append((span[0], span[1], key))
                for family in (4, 6):
                    self._spans[side][family].sort()
        return self._spans

    def atoms(self, index: int, side: int) -> list[tuple]:
        rule = self.topology.rules[index]
        endpoints = rule.destinations if side else rule.sources
        hit = self._atoms.get(id(endpoints))
        if hit is None:
            hit = self._atoms.put(id(endpoints), _atoms(self.topology, endpoints))
        return hit

    def containing_keys(self, side: int, key: tuple) -> list[tuple]:
        """The keys of ``side`` whose point sets may contain all of ``key``'s (kept for a
        key of a network or ``internet``, which may start thousands of rules; a
        component's address is named by a few)."""
        if key[0] == "address" or key[0] == "name":
            return self._containing_keys(side, key)
        hit = self._contains.get((side, key))
        if hit is None:
            hit = self._contains[(side, key)] = self._containing_keys(side, key)
        return hit

    def _containing_keys(self, side: int, key: tuple) -> list[tuple]:
        present = self.present[side]
        out = [k for k in (("any",), key) if k in present]
        if key[0] in ("address", "prefix"):
            if ("internet",) in present and _may_be_public(_span(key), key[1]):
                out.append(("internet",))
            out.extend(_containing(key, present, self.lengths))
            bits = 32 if key[1] == 4 else 128
            if key[0] == "address":
                host = ("prefix", key[1], bits, key[2])
                if host in present:
                    out.append(host)
            elif key[2] == bits:  # a host prefix: a component's address key of that address holds it too
                address = ("address", key[1], key[3])
                if address in present:
                    out.append(address)
        elif key[0] == "internet":
            out.extend(k for k in (("prefix", 4, 0, 0), ("prefix", 6, 0, 0)) if k in present)
        return out

    def single_cover(self, rule: Rule, matching: list[int] | None = None) -> Rule | None:
        """The first earlier rule whose sources, destinations and ports each contain
        the rule's (a sufficient condition, checked atom by atom), or None. Such a
        rule has, on each side, a key containing the rule's first key of that side,
        and matches every packet the rule does: ``matching``, when given, is every
        rule (sorted) that matches one such packet, and the candidates are read from
        it instead of the index."""
        src_keys, dst_keys = self.keys[rule.index]
        if not src_keys or not dst_keys:
            return None
        here = rule.index
        if matching is not None:
            candidates = islice(matching, bisect.bisect_left(matching, here))
        else:
            candidates = self._covering_candidates(src_keys[0], dst_keys[0], here, rule.index)
        src, dst = self.atoms(rule.index, 0), self.atoms(rule.index, 1)
        rules = self.topology.rules
        one_range, mine = self.one_range, self.one_range[rule.index]
        for i in candidates:
            other = rules[i]
            big = one_range[i]
            if mine is not None and big is not None:
                if big[0] != mine[0] or big[1] > mine[1] or mine[2] > big[2]:
                    continue
            elif not _ports_cover(other.ports, rule.ports):
                continue
            if _atoms_covered(src, self.atoms(i, 0), self.cover_indexes) and \
                    _atoms_covered(dst, self.atoms(i, 1), self.cover_indexes):
                return other
        return None

    def _covering_candidates(self, src_key: tuple, dst_key: tuple, here: int, index: int) -> Iterator[int]:
        """The rules before ``here`` with a key containing ``src_key`` among their
        sources and one containing ``dst_key`` among their destinations, in file order,
        each once: read lazily, so when an early rule covers (a broad rule at the top),
        the thousands after it are never gathered (each rule of a long list would
        otherwise gather every rule before it: the square of the list). When fewer
        rules hold the first port of rule ``index`` (thousands of rules on one pair of
        networks), those instead: a rule that covers holds that port too, so the
        first cover in file order is the same."""
        c_src = self.containing_keys(0, src_key)
        c_dst = self.containing_keys(1, dst_key)
        lists: list = []
        for s_key in c_src:
            row = self.pairs.get(s_key)
            if row is not None:
                for d_key in c_dst:
                    lst = row.get(d_key)
                    if lst and lst[0] < here:
                        lists.append(lst)
        wide = self.wide_by_dst
        if wide:
            for d_key in c_dst:
                lst = wide.get(d_key)
                if lst and lst[0] < here:
                    lists.append(lst)
        if not lists:
            return iter(())
        if sum(len(lst) for lst in lists) >= _FEW:
            mine = self.one_range[index]
            by_ports = self._port_lists(index, (mine[1], mine[1])) if mine is not None else None
            if by_ports is not None and _below(by_ports, here) < _below(lists, here):
                lists = by_ports
        if len(lists) == 1:
            return islice(lists[0], bisect.bisect_left(lists[0], here))
        return _merged(lists, here)

    def meeting_keys(self, side: int, key: tuple) -> list[tuple]:
        """The keys of ``side`` that share a point with ``key``."""
        hit = self._meets.get((side, key))
        if hit is not None:
            return hit
        present = self.present[side]
        if key[0] == "any":
            hit = list(present)
        elif key[0] == "name":
            hit = [k for k in (("any",), key) if k in present]
        elif key[0] == "internet":
            hit = [k for k in present if k[0] in ("any", "internet") or
                   (k[0] in ("address", "prefix") and _may_be_public(_span(k), k[1]))]
        else:
            low, high = _span(key)
            hit = [k for k in (("any",),) if k in present]
            if _may_be_public((low, high), key[1]) and ("internet",) in present:
                hit.append(("internet",))
            # keys whose range overlaps [low, high]: prefixes nest or are disjoint, so
            # those are the keys starting inside it and the prefixes containing it
            spans = self.spans()[side][key[1]]
            at = bisect.bisect_left(spans, (low, -1))
            end = bisect.bisect_right(spans, (high, 1 << 130))
            hit.extend(k for _, _, k in spans[at:end])
            hit.extend(_containing(key, present, self.lengths))
        self._meets[(side, key)] = hit
        return hit

    def earlier(self, rule: Rule) -> list[Rule]:
        """The earlier rules that may match a packet ``rule`` matches (a superset of
        those that do), in file order."""
        sides = self.keys[rule.index]
        pools = []
        for side in (0, 1):
            by_key = self.policy.rules_by_key(side)  # (built when a rule first needs the solver)
            lists = [by_key.get(k, ()) for key in sides[side] for k in self.meeting_keys(side, key)]
            pools.append((_below(lists, rule.index), side, lists))
        by_ports = self._port_lists(rule.index)
        if by_ports is not None:  # (2: the rules that may meet its ports, whatever their keys)
            pools.append((_below(by_ports, rule.index), 2, by_ports))
        size, chosen, lists = min(pools)
        checks = [({k for key in sides[side] for k in self.meeting_keys(side, key)}, self.keys.side(side))
                  for side in (0, 1) if side != chosen]
        found: set[int] = set()
        for lst in lists:
            for i in lst[: bisect.bisect_left(lst, rule.index)]:
                if i not in found and all(not meets.isdisjoint(keys[i]) for meets, keys in checks):
                    found.add(i)
        rules = self.topology.rules
        one_range, mine = self.one_range, self.one_range[rule.index]
        if mine is not None:
            protocol, low, high = mine
            return [rules[i] for i in sorted(found)
                    if ((r := one_range[i]) is not None and r[0] == protocol and r[1] <= high and low <= r[2])
                    or (r is None and _ports_meet(rules[i].ports, rule.ports))]
        return [rules[i] for i in sorted(found) if _ports_meet(rules[i].ports, rule.ports)]


_PORT_BLOCK = 8  # log2 of the ports in a block of Overlaps.by_ports
_PORT_BLOCKS = 16  # the blocks a rule's range may touch and be filed by them
_FEW = 64  # candidate rules below which the key lists are read as they are


def _below(lists: list, here: int) -> int:
    """How many items of the sorted lists are below ``here``, together."""
    return sum(bisect.bisect_left(lst, here) for lst in lists)


def _span(key: tuple) -> tuple[int, int] | None:
    if key[0] == "address":
        return key[2], key[2]
    if key[0] == "prefix":
        _, version, length, value = key
        bits = 32 if version == 4 else 128
        low = value << (bits - length)
        return low, low + (1 << (bits - length)) - 1
    return None


def _containing(key: tuple, present, lengths: dict[int, list[int]]) -> Iterator[tuple]:
    """The prefix keys that strictly contain an address or prefix key (``lengths``: per
    family, the prefix lengths any key has, shortest first)."""
    version = key[1]
    bits = 32 if version == 4 else 128
    low, _ = _span(key)
    top = key[2] if key[0] == "prefix" else bits
    for length in lengths[version]:
        if length >= top:
            return
        k = ("prefix", version, length, low >> (bits - length))
        if k in present:
            yield k


def _may_be_public(span: tuple[int, int], version: int) -> bool:
    """Whether an address range is not inside one private network."""
    low, high = span
    for first, last in PRIVATE_RANGES[version]:
        if first <= low and high <= last:
            return False
    return True


def _ports_meet(a: PortSet, b: PortSet) -> bool:
    return any(x.protocol == y.protocol and x.low <= y.high and y.low <= x.high for x in a.ranges for y in b.ranges)


# -- one earlier rule that covers a rule entirely ----------------------------------------

def _atoms(topology: Topology, endpoints) -> list[tuple]:
    """The point sets a rule side matches: ("all",), ("public",), ("range", v, low, high)
    or ("name", component) (a component without addresses)."""
    out: list[tuple] = []
    for endpoint in endpoints:
        if endpoint.kind == "any":
            out.append(("all",))
        elif endpoint.kind == "internet":
            out.append(("public",))
        elif endpoint.kind == "network":
            net = endpoint.value
            out.append(("range", net.version, int(net.network_address), int(net.broadcast_address)))
        else:
            members = topology.clusters[endpoint.value].members if endpoint.kind == "cluster" else (endpoint.value,)
            for member in members:
                comp = topology.components[member]
                if comp.kind is Kind.INTERNET:
                    out.append(("public",))
                if not comp.addresses:
                    out.append(("name", member))
                out.extend(("range", a.version, value, value) for a in comp.addresses for value in (int(a),))
                out.extend(("range", n.version, int(n.network_address), int(n.broadcast_address))
                           for n in comp.networks)
    return out


def _atoms_covered(atoms: list[tuple], cover: list[tuple], indexes: dict | None = None) -> bool:
    """Whether each atom lies inside one atom of ``cover``: pair by pair for short sides,
    else through an index of the cover, kept in ``indexes`` (by the cover's identity) when
    given (a rule naming 3,000 sources after one naming 3,000 was nine million pairs)."""
    if len(atoms) * len(cover) <= _PAIRS:
        return all(any(_atom_in(a, c) for c in cover) for a in atoms)
    hit = None if indexes is None else indexes.get(id(cover))
    if hit is None or hit[0] is not cover:
        hit = (cover, _CoverIndex(cover))
        if indexes is not None:
            if len(indexes) >= 64:
                indexes.clear()
            indexes[id(cover)] = hit
    index = hit[1]
    return all(index.holds(a) for a in atoms)


_PAIRS = 256  # atom pairs from which a cover is indexed


class _CoverIndex:
    """:func:`_atom_in` against every atom of a cover at once: its names in a set, its
    ranges per family sorted by start with the furthest end reached so far, so a range
    lies inside one of them when the furthest end among those starting at or before it
    reaches its own."""

    __slots__ = ("all", "public", "names", "starts", "reach")

    def __init__(self, cover: list[tuple]) -> None:
        self.all = any(c[0] == "all" for c in cover)
        self.public = any(c[0] == "public" for c in cover)
        self.names = {c for c in cover if c[0] == "name"}
        spans: dict[int, list[tuple[int, int]]] = {}
        for c in cover:
            if c[0] == "range":
                spans.setdefault(c[1], []).append((c[2], c[3]))
        self.starts: dict[int, list[int]] = {}
        self.reach: dict[int, list[int]] = {}
        for version, pairs in spans.items():
            pairs.sort()
            self.starts[version] = [low for low, _ in pairs]
            self.reach[version] = list(accumulate((high for _, high in pairs), max))

    def holds(self, a: tuple) -> bool:
        if self.all:
            return True
        kind = a[0]
        if kind == "all":
            return False
        if kind == "public":
            return self.public
        if kind == "name":
            return a in self.names
        if self.public and a[2] > 0 and not _touches_private(a):
            return True
        starts = self.starts.get(a[1])
        if not starts:
            return False
        i = bisect.bisect_right(starts, a[2]) - 1
        return i >= 0 and self.reach[a[1]][i] >= a[3]


def _atom_in(a: tuple, c: tuple) -> bool:
    if c[0] == "all":
        return True
    if a[0] == "all":
        return False
    if c[0] == "public":  # (neither private nor unspecified: a range from 0 holds 0.0.0.0 or ::)
        return a[0] == "public" or (a[0] == "range" and a[2] > 0 and not _touches_private(a))
    if c[0] == "name":
        return a == c
    # c is a range
    return a[0] == "range" and a[1] == c[1] and c[2] <= a[2] and a[3] <= c[3]


def _touches_private(a: tuple) -> bool:
    _, version, low, high = a
    return any(low <= last and first <= high for first, last in PRIVATE_RANGES[version])


def _ports_cover(big: PortSet, small: PortSet) -> bool:
    return all(any(y.protocol == x.protocol and y.low <= x.low and x.high <= y.high for y in big.ranges)
               for x in small.ranges)


def _solve(topology: Topology, context: Context, rule: Rule, earlier: list[Rule]):
    """Whether the earlier rules together cover ``rule``; when they do, the cover reported
    is a minimal one fixed by the rule order alone (never by which unsat core the solver
    happens to find: the same file gives the same message every run). Decided on
    intervals (:mod:`checker.engines.cover`) within :data:`_INTERVAL_WORK`, else by Z3."""
    from ..engines.cover import RuleBoxes, TooLarge

    boxes = context.cache.get("shadowed.boxes")
    if boxes is None:
        boxes = context.cache["shadowed.boxes"] = RuleBoxes(topology)
    work = [_INTERVAL_WORK]
    try:
        if not boxes.covered(rule, earlier, work):
            return Status.PROVED, [], None
        chosen = _minimal_cover(len(earlier), lambda chosen: boxes.covered(rule, [earlier[i] for i in chosen], work))
    except TooLarge:
        return _solve_z3(topology, context, rule, earlier)
    return Status.REFUTED, [earlier[i] for i in chosen], None


# The work (about one box looked at a unit) the intervals may take for one rule and its
# minimal cover before Z3 decides it instead: about a second. Z3 is slower on every
# shape measured (a /16 covered by its 256 /24s: 1.9M units, 1.5 s, against 6-11 s)
_INTERVAL_WORK = 2_000_000


def _solve_z3(topology: Topology, context: Context, rule: Rule, earlier: list[Rule]):
    """:func:`_solve` by Z3: a timeout is unknown."""
    import z3

    from ..engines.packets import PacketSpace
    from ..solver import search_counterexample

    space = context.cache.get("packets.space")
    if space is None:
        space = context.cache["packets.space"] = PacketSpace(topology)
    # one packet for every rule of the file, so each rule's formula is built once
    exprs = context.cache.get("shadowed.exprs")
    if exprs is None:
        packet = space.packet("shadow")
        exprs = context.cache["shadowed.exprs"] = {"packet": packet, "well-formed": space.well_formed_packet(packet)}
    packet = exprs["packet"]

    def match(r: Rule):
        hit = exprs.get(r.index)
        if hit is None:
            hit = exprs[r.index] = space.matches(packet, r)
        return hit

    solver = z3.Solver()
    solver.add(exprs["well-formed"])
    solver.add(match(rule))
    marks = []
    for r in earlier:
        mark = z3.Bool(f"rule_{r.index}")
        marks.append(mark)
        solver.add(z3.Implies(mark, z3.Not(match(r))))
    timeout = context.options.timeout
    verdict = search_counterexample(solver, timeout, tuple(marks), model=False)
    if verdict.status is Status.REFUTED:
        return Status.PROVED, [], None
    if verdict.status is not Status.PROVED:
        return Status.UNKNOWN, [], verdict.reason

    def covers(chosen: list[int]) -> bool:
        # a query the solver cannot finish keeps the rules it was asked about: the set
        # reported still covers the rule, it may just not be the smallest
        return search_counterexample(solver, timeout, tuple(marks[i] for i in chosen),
                                     model=False).status is Status.PROVED

    return Status.REFUTED, [earlier[i] for i in _minimal_cover(len(earlier), covers)], None


def _minimal_cover(count: int, covers) -> list[int]:
    """A minimal set of the first ``count`` earlier rules (by position) that covers, given
    that all of them do: the latest rule needed is the last of the shortest prefix that
    covers; then, with the rules found so far kept, the last of the shortest prefix of
    the rules before it that completes a cover, until the rules found cover on their own.
    Each rule found is needed (without it, what is left is inside a prefix that does not
    cover), so the set is minimal, in O(size of the set x log n) questions. (Covering is
    monotone in the rules asked, so the shortest prefix is found by a binary search; its
    first question is whether the rule just before the bound is needed, which a cover
    by many small rules answers at once: the binary search would take log n.)"""
    needed: list[int] = []
    bound = count
    while bound and not covers(needed):  # (with no rule left before, the last query proved a cover)
        low, high = 1, bound
        if bound > 1:
            if covers(needed + list(range(bound - 1))):
                high = bound - 1
            else:
                low = bound
        while low < high:
            middle = (low + high) // 2
            if covers(needed + list(range(middle))):
                high = middle
            else:
                low = middle + 1
        needed.append(low - 1)
        bound = low - 1
    return sorted(needed)


# Candidates merged one by one before the rest are gathered at once (merging is lazy but
# costs a Python step each; gathering costs the whole list but runs in C)
_LAZY = 64


def _merged(lists: list, here: int) -> Iterator[int]:
    """The items below ``here`` of several sorted lists, in order, each once: the first
    :data:`_LAZY` merged lazily, the rest (when asked for) gathered and sorted."""
    bounds = [bisect.bisect_left(lst, here) for lst in lists]
    last, count = -1, 0
    for item in heapq.merge(*(islice(lst, bound) for lst, bound in zip(lists, bounds))):
        if item != last:
            yield item
            last, count = item, count + 1
            if count == _LAZY:
                break
    else:
        return
    rest: set[int] = set()
    for lst, bound in zip(lists, bounds):
        rest.update(lst[bisect.bisect_right(lst, last):bound])
    yield from sorted(rest)
