"""The packet engine against exhaustive enumeration over a small address space.

Random small networks: a few small networks of both address families (private
and public ones; the documentation ranges are public), gateways and load
balancers forwarding to each other, to web servers and to databases (often to a
port the target does not listen on: exposure counts it), and random ordered
allow/deny rules over those networks, sub-networks, single addresses, whole
families, component names, `internet` and `any`. No rule can tell apart two
public addresses outside the small networks, nor two ports between consecutive
port bounds, so enumerating every address of the networks plus a few outside
ones, and every port bound, enumerates every packet that matters: the oracle is
exact, for `proved` and for `refuted` alike.

The oracle is written from LANGUAGE.md section 3 here, not taken from the
engine: a packet's two ends are of one family (an end without an address pairs
with either), public means outside the contract's private ranges and not an
unspecified address, and each packet is decided by the plain first-match rule
evaluator (:meth:`checker.policy.Policy.first_match`, which decides one concrete
packet and knows nothing of families).
"""

from __future__ import annotations

import ipaddress
from collections import deque

from hypothesis import example, given, settings
from hypothesis import strategies as st

from checker.api import check_text, load_text
from checker.model import Kind
from checker.net import ANY_PORT, PortSet
from checker.policy import Point, Policy
from tests.conftest import examples

PRIVATE_V4, PUBLIC_V4, PUBLIC_V4_B = "10.0.0.0/28", "198.51.100.0/28", "203.0.113.0/28"
PUBLIC_V6, PRIVATE_V6 = "2001:db8::/124", "fd00::/124"
NETWORKS = (PRIVATE_V4, PUBLIC_V4, PUBLIC_V4_B, PUBLIC_V6, PRIVATE_V6)
# Outside every network above: public and private addresses of both families, and the
# unspecified addresses, which are no packet end at all.
OUTSIDE = ("1.2.3.4", "172.16.0.1", "0.0.0.0", "2001:db9::1", "fc00::1", "::")
PORTS = ("tcp/443", "tcp/80", "tcp/0-1000", "tcp/400-500", "udp/53", "any", "tcp/8080", "tcp/22")
CONTRACT_PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "fc00::/7", "fe80::/10", "::1/128"))


def _public(address) -> bool:
    """LANGUAGE.md section 3, written out: not private, and not unspecified."""
    if int(address) == 0:
        return False
    return not any(address.version == n.version and address in n for n in CONTRACT_PRIVATE)


def _one_family(src: Point, dst: Point) -> bool:
    return src.address is None or dst.address is None or src.address.version == dst.address.version


def _address(draw, public: bool, family: int) -> str:
    choices = {(True, 4): [PUBLIC_V4, PUBLIC_V4_B], (False, 4): [PRIVATE_V4],
               (True, 6): [PUBLIC_V6], (False, 6): [PRIVATE_V6]}[(public, family)]
    net = ipaddress.ip_network(draw(st.sampled_from(choices)))
    return str(net.network_address + draw(st.integers(1, 14)))


def _addresses(draw, public: bool, mixed: bool) -> list[str]:
    """One address, of either family; with ``mixed`` often one of each."""
    family = draw(st.sampled_from([4, 6])) if mixed else 4
    out = [_address(draw, public, family)]
    if mixed and draw(st.booleans()):
        out.append(_address(draw, public, 10 - family))
    return out


@st.composite
def small_networks(draw) -> str:
    """A small forwarding topology; about half the files mix IPv4 and IPv6, and most
    forwards send to a port their target may not listen on."""
    mixed = draw(st.booleans())
    lines: list[str] = []
    names: list[str] = []
    kinds = ["gateway", "lb"] + draw(st.lists(st.sampled_from(["gateway", "lb"]), max_size=2))
    leaves = ["web", "db"] + draw(st.lists(st.sampled_from(["web", "db", "service"]), max_size=2))
    forwarders = [f"{k}{i}" for i, k in enumerate(kinds)]
    targets = [f"{k}{i}" for i, k in enumerate(leaves)]
    for name, kind in zip(targets, leaves):
        addresses = [] if draw(st.integers(0, 9)) == 0 else _addresses(draw, draw(st.integers(0, 11)) == 0, mixed)
        listen = draw(st.sampled_from(PORTS))
        attrs = " ".join(f"address {a}" for a in addresses)
        lines.append(f"{kind} {name} {attrs} listen {listen}")
        names.append(name)
    role_targets: list[str] = []
    if draw(st.booleans()):  # a cluster of services: private-db covers its members
        roles = draw(st.booleans())
        members = [f"redis{i}" for i in range(2)]
        body = ["quorum"] if not roles or draw(st.booleans()) else []
        for i, member in enumerate(members):
            addresses = _addresses(draw, draw(st.integers(0, 7)) == 0, mixed)
            role = ("primary" if i == 0 else "replica") if roles else ""
            body.append(f"service {member} {{ {' '.join(f'address {a}' for a in addresses)} "
                        f"listen {draw(st.sampled_from(PORTS))} {role} }}")
        lines.append("cluster sessions {\n  " + "\n  ".join(body) + "\n}")
        names.extend(members)
        targets.extend(members + ["sessions"])
        if roles:
            role_targets = ["primary of sessions", "replicas of sessions"]
    if "service" in leaves and draw(st.integers(0, 3)) == 0:  # a name server: not private-service's business
        ns = targets[leaves.index("service")]
        lines.append(f"dns www.example.com {{ served-by {ns}; answer {targets[0]} }}")
    for name, kind in zip(forwarders, kinds):
        addresses = _addresses(draw, draw(st.integers(0, 3)) > 0, mixed)
        if draw(st.booleans()):
            addresses += _addresses(draw, False, mixed)
        body = [f"address {a}" for a in addresses]
        for _ in range(draw(st.integers(1, 2))):
            pool = [t for t in targets + forwarders + role_targets if t != name]
            chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
            # a port-forward to a port of its own choosing (sshd on tcp/22 behind tcp/2222...)
            target_port = draw(st.sampled_from([None] * 3 + list(PORTS)))
            tail = f" {target_port}" if target_port else ""
            body.append(f"listen {draw(st.sampled_from(PORTS))} -> {', '.join(chosen)}{tail}")
        lines.append(f"{kind} {name} {{\n  " + "\n  ".join(body) + "\n}")
        names.append(name)
    v6 = [PUBLIC_V6, "2001:db8::8/125", "::/0", PRIVATE_V6] if mixed else []
    # client groups, external targets and the internet: rules naming them match their
    # networks (every public address) and their own point (a component without addresses)
    groups: list[str] = []
    group_networks = [*NETWORKS[:3], "198.51.100.0/30", "203.0.113.8/29", "10.0.0.0/30", *v6[:2], *v6[3:]]
    for i in range(draw(st.integers(0, 2))):
        chosen = draw(st.lists(st.sampled_from(group_networks), min_size=1, max_size=2, unique=True))
        groups.append(f"office{i}")
        lines.append(f"clients office{i} {' '.join(f'address {n}' for n in chosen)}")
    if draw(st.integers(0, 3)) == 0:  # the internet as a component: every public address
        groups.append("users")
        lines.append("internet users")
    if draw(st.integers(0, 2)) == 0:
        chosen = draw(st.lists(st.sampled_from([NETWORKS[2], "198.51.100.0/30", *v6[:2]]), min_size=1, max_size=2,
                               unique=True))
        groups.append("payments")
        lines.append(f"external payments {{ {' '.join(f'address {n};' for n in chosen)} listen tcp/443 }}")
    endpoints = ["any", "internet", *NETWORKS[:3], "198.51.100.0/30", "203.0.113.8/29", "198.51.100.5",
                 "0.0.0.0/0", *v6, *names, *groups]
    outside = ["internet", "any", *NETWORKS[1:3], "198.51.100.0/30", "203.0.113.8/29", "198.51.100.5",
               "0.0.0.0/0", *v6[:3], *groups]
    for _ in range(draw(st.integers(0, 9))):
        action = draw(st.sampled_from(["allow", "allow", "deny"]))
        shape = draw(st.sampled_from(["random", "entry", "entry", "forward", "forward"]))
        if shape == "entry":  # the internet, or part of it, to a forwarder
            src = [draw(st.sampled_from(outside))]
            dst = [draw(st.sampled_from(forwarders))]
        elif shape == "forward":  # a forwarder to anything
            src = [draw(st.sampled_from(forwarders))]
            dst = [draw(st.sampled_from(names))]
        else:
            src = draw(st.lists(st.sampled_from(endpoints), min_size=1, max_size=2, unique=True))
            dst = draw(st.lists(st.sampled_from(endpoints), min_size=1, max_size=2, unique=True))
        port = "any" if shape != "random" and draw(st.booleans()) else draw(st.sampled_from(PORTS))
        lines.append(f"{action} {', '.join(src)} -> {', '.join(dst)} {port}")
    return "\n".join(lines) + "\n"


def _ports_of(topology) -> list[tuple[str, int]]:
    """Every port bound (and the port after it) of every port set in the file."""
    sets = [r.ports for r in topology.rules] + [ANY_PORT]
    for comp in topology.components.values():
        sets.append(comp.service_ports)
        for listener in comp.listeners:
            sets.append(listener.ports)
            if listener.target_ports:
                sets.append(listener.target_ports)
    out = set()
    for ports in sets:
        for r in ports:
            for p in (r.low, r.high, r.high + 1, max(r.low - 1, 0)):
                if p <= 65535:
                    out.add((r.protocol, p))
    return sorted(out)


def _universe(topology) -> list[Point]:
    """Every packet end that matters: each address of the small networks, the outside
    addresses, every component address, and each component without an address. The
    unspecified addresses are in the list on purpose: they must never be a source."""
    addresses = {ipaddress.ip_address(a) for a in OUTSIDE}
    for net in NETWORKS:
        addresses.update(ipaddress.ip_network(net))
    for comp in topology.components.values():
        addresses.update(comp.addresses)
    points = [Point(a, None) for a in sorted(addresses, key=lambda a: (a.version, int(a)))]
    points += [Point(None, c.name) for c in topology.components.values() if not c.addresses]
    return points


def _own_points(comp) -> list[Point]:
    return [Point(a, comp.name) for a in comp.addresses] or [Point(None, comp.name)]


def _admitted(policy: Policy, topology, srcs, dsts, ports, arriving: PortSet) -> bool:
    """Some packet of one family from ``srcs`` to ``dsts`` on a port of ``arriving``
    is admitted (the first rule it matches is an allow; no rule at all: open)."""
    for src in srcs:
        for dst in dsts:
            if not _one_family(src, dst):
                continue
            for proto, port in ports:
                if not arriving.contains(proto, port):
                    continue
                if not topology.has_policy or policy.first_match(src, dst, PortSet.single(proto, port)).allowed:
                    return True
    return False


def _oracle_exposed(topology) -> tuple[set[str], set[str], set[str]]:
    """(webs and services reachable without an lb, dbs and cluster members reachable at
    all) by enumeration. A forward to a cluster, or to a role of one, may reach every
    member (which one is primary depends on what failed)."""
    policy = Policy(topology)
    ports = _ports_of(topology)
    public_sources = [p for p in _universe(topology) if p.address is not None and _public(p.address)]
    comps = topology.components
    start: list[tuple[tuple[str, int], bool]] = []
    for comp in comps.values():
        if not comp.kind.forwards:
            continue
        entries = [Point(a, comp.name) for a in comp.addresses if _public(a)]
        for i, listener in enumerate(comp.listeners):
            if _admitted(policy, topology, public_sources, entries, ports, listener.ports):
                start.append(((comp.name, i), comp.kind is Kind.LB))
    webs, services, dbs = set(), set(), set()
    members = {m for c in topology.clusters.values() for m in c.members}
    seen = set(start)
    queue = deque(start)
    while queue:
        (name, i), through_lb = queue.popleft()
        listener = comps[name].listeners[i]
        for target in listener.targets:
            members = topology.clusters[target].members if target in topology.clusters else (target,)
            for member in members:
                comp = comps[member]
                fwd = listener.target_ports or comp.service_ports
                hop = (_own_points(comps[name]), _own_points(comp))
                if comp.kind.forwards:
                    for j, other in enumerate(comp.listeners):
                        if _admitted(policy, topology, *hop, ports, fwd & other.ports):
                            state = ((member, j), through_lb or comp.kind is Kind.LB)
                            if state not in seen:
                                seen.add(state)
                                queue.append(state)
                    continue
                # the last hop: whatever port the forward delivers to, listened on or not
                if _admitted(policy, topology, *hop, ports, fwd):
                    if comp.kind is Kind.WEB and not through_lb:
                        webs.add(member)
                    if comp.kind is Kind.SERVICE and not through_lb:
                        services.add(member)
                    if comp.kind is Kind.DB or member in members:
                        dbs.add(member)
    return webs, services, dbs


def _result(report, check_id):
    (result,) = [r for r in report.results if r.id == check_id]
    return result


@settings(max_examples=examples(150))
@given(small_networks())
def test_private_web_and_db_match_enumeration(text: str) -> None:
    loaded = load_text(text, "gen.topo")
    assert loaded.topology is not None, [r.message for r in loaded.results]
    topology = loaded.topology
    webs, services, dbs = _oracle_exposed(topology)
    report = check_text(text + "check private-web\ncheck private-service\ncheck private-db\n", "gen.topo")
    members = {m for c in topology.clusters.values() for m in c.members}
    name_servers = {ns for c in topology.components.values() for ns in c.served_by}
    goals = {
        "private-web": {c.name for c in topology.components.values() if c.kind is Kind.WEB},
        "private-service": {c.name for c in topology.components.values() if c.kind is Kind.SERVICE}
                           - members - name_servers,
        "private-db": {c.name for c in topology.components.values() if c.kind is Kind.DB} | members,
    }
    for check_id, exposed in (("private-web", webs), ("private-service", services), ("private-db", dbs)):
        public = {c.name for c in topology.components.values()
                  if c.name in goals[check_id] and any(_public(a) for a in c.addresses)}
        expected = public | (exposed & goals[check_id])
        result = _result(report, check_id)
        got = {c.fields["component"] for c in result.counterexamples}
        assert got == expected, (check_id, got, expected, text)
        assert result.status.value == ("refuted" if expected else "proved")
        for counterexample in result.counterexamples:
            fields = counterexample.fields
            if "packet" not in fields:
                continue
            packet = fields["packet"]
            src, dst = ipaddress.ip_address(packet["src"]), ipaddress.ip_address(packet["dst"])
            assert _public(src) and src.version == dst.version, packet
            entry = topology.components[fields["path"][1]]
            decision = Policy(topology).first_match(
                Point(src, None), Point(dst, entry.name), PortSet.single(packet["protocol"], packet["port"]),
            )
            assert decision.allowed or not topology.has_policy
            assert fields["rules"] == ([decision.rule.line] if topology.has_policy else []) + fields["rules"][1:]
            if check_id in ("private-web", "private-service"):
                assert not any(topology.components[h].kind is Kind.LB for h in fields["path"][1:])


@settings(max_examples=examples(80))
@given(small_networks())
def test_shadowed_rules_match_enumeration(text: str) -> None:
    _shadowed_rules_match_enumeration(text)


@settings(max_examples=examples(40))
@given(small_networks())
def test_shadowed_rules_match_enumeration_with_port_maps(text: str) -> None:
    """The same, with every pair of packet ends answered from its first-match port map
    (in real files only pairs matched by many rules get one)."""
    from unittest import mock

    from checker.checks import shadowed_rule

    with mock.patch.object(shadowed_rule, "_FIRST_BY_PORT_FROM", 1):
        _shadowed_rules_match_enumeration(text)


@settings(max_examples=examples(40))
@given(small_networks())
def test_shadowed_rules_match_enumeration_with_memos_that_forget(text: str) -> None:
    """The same, with the sample points and atoms of one rule side kept at a time (in
    real files, of the thousands asked last)."""
    from unittest import mock

    from checker.checks import shadowed_rule

    with mock.patch.object(shadowed_rule, "_RECENT", 1):
        _shadowed_rules_match_enumeration(text)


@settings(max_examples=examples(40))
@given(small_networks())
def test_shadowed_rules_match_enumeration_by_the_solver(text: str) -> None:
    """The same, with every rule the samples leave decided by Z3 (in real files, only
    those whose intervals would take too much work)."""
    from unittest import mock

    from checker.checks import shadowed_rule

    with mock.patch.object(shadowed_rule, "_INTERVAL_WORK", 0):
        _shadowed_rules_match_enumeration(text)


@settings(max_examples=examples(80))
@given(small_networks())
# found by a fresh seed: a rule from 198.51.100.5/32 is covered by an earlier one from the
# component whose address that is; the index looked for covers of a host prefix among
# prefixes only, not among the address keys of the same address
@example('web web0 address 10.0.0.1 listen tcp/443\ngateway gateway0 address 10.0.0.1 listen tcp/443 -> web0\n'
         'gateway gateway3 address 198.51.100.5 listen tcp/443 -> web0\n'
         'allow gateway3 -> web0 any\nallow internet -> gateway0 any\nallow 198.51.100.5 -> gateway0 any\n')
# found in CI once the generator wrote client groups: the corner packet ends at the
# group's own point, which the policy index looked up by name, while the rules naming a
# group are filed by its networks (rule 1 was missing from the rules matching it)
@example('web w address 10.0.0.1 listen tcp/443\nclients office0 address 2001:db8::/124\n'
         'allow any -> office0 tcp/80\nallow any -> any tcp/443\nallow any -> office0 tcp/80\n')
# found in review: `internet` never holds 0.0.0.0, so it covers no network starting there
@example('web w address 10.0.0.1 listen tcp/80\nallow internet -> w tcp/80\n'
         'deny 0.0.0.0/8 -> w tcp/80\ndeny 0.0.0.0 -> w tcp/80\n')
def test_single_cover_from_the_corner_matches_is_the_one_from_the_index(text: str) -> None:
    """A rule that covers another entirely matches the other's corner packet, so the
    first cover read from the rules matching that packet is the one the key index
    gives (the same rule named, not just a cover)."""
    from checker.checks import shadowed_rule
    from checker.context import Context
    from checker.engines.packets_paths import _fast
    from checker.memo import Recent

    topology = load_text(text, "gen.topo").topology
    index = _fast(Context(topology))
    overlaps = shadowed_rule._Overlaps(topology, index)
    # (a memo of one entry: the samples come out the same when they are worked out again)
    one_range, by_pair, points = overlaps.one_range, {}, Recent(1)
    for rule in topology.rules:
        corner: list = []
        if shadowed_rule._first_match_somewhere(topology, index, rule, by_pair, points, one_range, 0, 1, corner):
            continue
        if corner:
            assert overlaps.single_cover(rule, corner[0]) is overlaps.single_cover(rule), (rule.line, text)


@settings(max_examples=examples(60))
@given(small_networks(), st.sampled_from([(8, 16, 64), (2, 1000, 0), (0, 2, 0)]))
def test_overlapping_rules_and_covers_read_by_ports_are_those_read_by_keys(text: str, sizes) -> None:
    """Where thousands of rules share their keys, the earlier rules that may overlap a
    rule, and the candidates for one rule covering it, are read from the rules by port
    block instead. Whichever lists are read, the overlapping rules are exactly those
    whose keys meet the rule's on both sides and whose ports meet its ports, and the
    cover found is the first in file order (``sizes``: the block size in bits, the
    blocks a rule may span, and the candidates from which the blocks are tried; the
    last two make the blocks win most choices)."""
    from unittest import mock

    from checker.checks import shadowed_rule
    from checker.context import Context
    from checker.engines.packets_paths import _fast

    block, spans, few = sizes
    topology = load_text(text, "gen.topo").topology
    index = _fast(Context(topology))
    plain = shadowed_rule._Overlaps(topology, index)
    covers = [plain.single_cover(rule) for rule in topology.rules]
    with mock.patch.object(shadowed_rule, "_PORT_BLOCK", block), \
            mock.patch.object(shadowed_rule, "_PORT_BLOCKS", spans), mock.patch.object(shadowed_rule, "_FEW", few):
        overlaps = shadowed_rule._Overlaps(topology, index)
        for rule in topology.rules:
            assert overlaps.single_cover(rule) is covers[rule.index], (rule.line, text)
            sides = overlaps.keys[rule.index]
            meets = [{k for key in sides[side] for k in overlaps.meeting_keys(side, key)} for side in (0, 1)]
            expected = [r for r in topology.rules[:rule.index]
                        if all(meets[side] & set(overlaps.keys[r.index][side]) for side in (0, 1))
                        and shadowed_rule._ports_meet(r.ports, rule.ports)]
            assert overlaps.earlier(rule) == expected, (rule.line, text)


def _shadowed_rules_match_enumeration(text: str) -> None:
    topology = load_text(text, "gen.topo").topology
    policy = Policy(topology)
    points = [p for p in _universe(topology) if p.address is None or int(p.address)]
    ports = _ports_of(topology)
    first_matches: set[int] = set()
    for src in points:
        for dst in points:
            if not _one_family(src, dst):
                continue
            candidates = [r for r in topology.rules
                          if any(policy.endpoint_matches(e, src) for e in r.sources)
                          and any(policy.endpoint_matches(e, dst) for e in r.destinations)]
            for proto, port in ports:
                for rule in candidates:
                    if rule.ports.contains(proto, port):
                        first_matches.add(rule.index)
                        break
    expected = {r.line for r in topology.rules if r.index not in first_matches}
    report = check_text(text, "gen.topo")
    results = [r for r in report.results if r.id == "shadowed-rule"]
    got = {c.fields["rule"] for r in results for c in r.counterexamples}
    assert got == expected, (got, expected, text)
    assert all(r.status.value == ("refuted" if expected else "proved") for r in results)
    # the rules named as the cover do cover: every packet of the universe the shadowed rule
    # matches is matched by one of them
    by_line = {r.line: r for r in topology.rules}
    for counterexample in (c for r in results for c in r.counterexamples):
        cover = [by_line[line] for line in counterexample.fields["shadowed_by"]]
        shadowed = by_line[counterexample.fields["rule"]]
        for src in points:
            for dst in points:
                if not _one_family(src, dst) or not _matches(policy, shadowed, src, dst):
                    continue
                for proto, port in ports:
                    if shadowed.ports.contains(proto, port):
                        assert any(_matches(policy, r, src, dst) and r.ports.contains(proto, port)
                                   for r in cover), (counterexample.fields, src, dst, proto, port, text)
    # and the cover is fixed by the file, not by the solver's run: asked again in the same
    # process (a solver with a different history), the same rules are named
    again = check_text(text, "gen.topo")
    assert [c.fields for r in again.results if r.id == "shadowed-rule" for c in r.counterexamples] == \
        [c.fields for r in results for c in r.counterexamples]


def _matches(policy: Policy, rule, src, dst) -> bool:
    return (any(policy.endpoint_matches(e, src) for e in rule.sources)
            and any(policy.endpoint_matches(e, dst) for e in rule.destinations))


# Found by the grammar fuzzer in CI: two covers of the rule at line 46 exist (39+41 and
# 40+41), and which one an unsat core names changed from run to run in one process.
_TWO_COVERS = """\
# generated by tests/strategies.py
zone dc1 region r2
zone dc2
dns shop-1.example.org zone dc2 address 198.51.100.12 managed answer nat1, web-1, web-2
gateway nat1 {
  address 203.0.113.10
  host vm-2
  listen tcp/443 -> web-2 tcp/80
  listen tcp/80 -> web-1, redis2 8080
}
web web-1 {
  host vm-2
  address 10.9.1.10
  listen 8080
  address 203.0.113.11
}
web web-2 listen tcp/80 host vm-3 address 10.0.1.10 zone dc1
cluster sessions1 {
  failover auto
  quorum
  service redis1 {
    zone dc1
    address 172.16.0.10
    replica
  }
  service redis2 host vm-1 address 10.1.1.10 primary zone dc2
}
web-2 writes sessions1, redis2 optional

web-2 reads redis2, redis1, sessions1
web-2, web-1 writes redis2; web-2, web-1 reads sessions1, redis2, redis1
deny internet -> any
allow internet -> any udp/53
allow 203.0.113.0/24 -> 10.0.0.0/8 tcp/80
deny nat1 -> any
allow nat1 -> any
allow 203.0.113.0/24 -> 10.9.0.0/16 any
allow any -> redis2 tcp/8080
allow 10.0.0.0/16 -> 10.1.1.0/24
allow 10.0.0.0/8 -> 10.1.0.0/16
allow any -> 172.16.0.10/32 any
allow 10.0.0.0/8 -> 10.0.0.0/8
allow 203.0.113.0/24 -> 10.0.0.0/8
allow 203.0.113.11/32 -> 10.1.1.10/32
allow internet, redis2 -> 203.0.113.0/24 443; deny 10.0.0.0/16 -> 10.1.1.0/24 any
allow 203.0.113.0/24 -> 10.1.1.0/24 any; allow 10.0.0.0/16 -> sessions1 any
allow any -> 10.1.0.0/16 any
check zone-redundancy level=zone

check available
check private-service
"""


def test_shadowed_cover_is_the_same_every_run() -> None:
    seen = set()
    for _ in range(10):
        report = check_text(_TWO_COVERS, "two-covers.topo")
        seen.add(tuple((c.fields["rule"], tuple(c.fields["shadowed_by"]))
                       for r in report.results if r.id == "shadowed-rule" for c in r.counterexamples))
    assert len(seen) == 1, seen
    # the earliest rules that cover, each needed: 39 and 41 (40 would do in place of 39)
    assert (46, (39, 41)) in next(iter(seen)), seen


@settings(max_examples=examples(200))
@given(st.lists(st.tuples(st.sampled_from(["tcp", "udp"]), st.integers(0, 40), st.integers(0, 12)),
                min_size=1, max_size=30),
       st.lists(st.integers(0, 60), min_size=1, max_size=10))
def test_first_by_port_is_the_first_rule_containing_the_port(ranges, ports) -> None:
    from types import SimpleNamespace

    from checker.checks.shadowed_rule import _FirstByPort
    from checker.net import PortRange

    rules = [SimpleNamespace(ports=PortSet.of([PortRange(p, low, low + width)])) for p, low, width in ranges]
    matching = sorted(set(range(0, len(rules), 2)) | set(range(1, len(rules), 3)))
    first = _FirstByPort(rules, matching)
    for protocol in ("tcp", "udp", "icmp"):
        for port in ports:
            expected = next((i for i in matching if rules[i].ports.contains(protocol, port)), None)
            assert first.rule(protocol, port) == expected


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.lists(st.integers(0, 400), max_size=150).map(lambda xs: sorted(set(xs))), min_size=2, max_size=5),
       st.integers(0, 420))
def test_shadowed_rule_candidates_are_every_earlier_rule_once_in_order(lists: list[list[int]], here: int) -> None:
    """The covering candidates of several key pairs, merged lazily then (past the first
    64) gathered: every rule below ``here`` in any list, once, in file order."""
    from checker.checks.shadowed_rule import _merged

    expected = sorted({i for lst in lists for i in lst if i < here})
    assert list(_merged([lst for lst in lists if lst], here)) == expected
