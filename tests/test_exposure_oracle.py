"""The packet engine against exhaustive enumeration over a small address space.

Random small networks: a few /28 networks (one private, two public ones from the
documentation ranges, which are public), gateways and load balancers forwarding
to each other, to web servers and to databases, and random ordered allow/deny
rules over those networks, sub-networks, single addresses, component names,
`internet` and `any`. No rule can tell apart two public addresses outside the
/28s, nor two ports between consecutive port bounds, so enumerating every address
of the /28s plus one outside public address (and `::`), and every port bound,
enumerates every packet that matters: the oracle is exact, for `proved` and for
`refuted` alike. Every packet is decided by the plain first-match evaluator.
"""

from __future__ import annotations

import ipaddress
from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.api import check_text, load_text
from checker.model import Kind
from checker.net import ANY_PORT, PortSet
from checker.policy import INTERNET, Point, Policy

NETWORKS = ("10.0.0.0/28", "198.51.100.0/28", "203.0.113.0/28")
OUTSIDE = ("1.2.3.4", "::", "172.16.0.1", "fc00::1")
PORTS = ("tcp/443", "tcp/80", "tcp/0-1000", "tcp/400-500", "udp/53", "any", "tcp/8080")


def _addresses(draw, public: bool) -> list[str]:
    net = ipaddress.ip_network(draw(st.sampled_from(NETWORKS[1:] if public else NETWORKS[:1])))
    host = draw(st.integers(1, 14))
    return [str(net.network_address + host)]


@st.composite
def small_networks(draw) -> str:
    lines: list[str] = []
    names: list[str] = []
    kinds = ["gateway", "lb"] + draw(st.lists(st.sampled_from(["gateway", "lb"]), max_size=2))
    leaves = ["web", "db"] + draw(st.lists(st.sampled_from(["web", "db", "service"]), max_size=2))
    forwarders = [f"{k}{i}" for i, k in enumerate(kinds)]
    targets = [f"{k}{i}" for i, k in enumerate(leaves)]
    for name, kind in zip(targets, leaves):
        addresses = [] if draw(st.integers(0, 9)) == 0 else _addresses(draw, draw(st.integers(0, 11)) == 0)
        listen = draw(st.sampled_from(PORTS))
        attrs = " ".join(f"address {a}" for a in addresses)
        lines.append(f"{kind} {name} {attrs} listen {listen}")
        names.append(name)
    for name, kind in zip(forwarders, kinds):
        addresses = _addresses(draw, draw(st.integers(0, 3)) > 0) + (_addresses(draw, False) if draw(st.booleans()) else [])
        body = [f"address {a}" for a in addresses]
        for _ in range(draw(st.integers(1, 2))):
            pool = [t for t in targets + forwarders if t != name]
            chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
            target_port = draw(st.sampled_from([None] * 6 + list(PORTS)))
            tail = f" {target_port}" if target_port else ""
            body.append(f"listen {draw(st.sampled_from(PORTS))} -> {', '.join(chosen)}{tail}")
        lines.append(f"{kind} {name} {{\n  " + "\n  ".join(body) + "\n}")
        names.append(name)
    endpoints = ["any", "internet", *NETWORKS, "198.51.100.0/30", "203.0.113.8/29", "198.51.100.5", *names]
    outside = ["internet", "any", *NETWORKS[1:], "198.51.100.0/30", "203.0.113.8/29", "198.51.100.5"]
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
    addresses = {ipaddress.ip_address(a) for a in OUTSIDE}
    for net in NETWORKS:
        addresses.update(ipaddress.ip_network(net))
    for comp in topology.components.values():
        addresses.update(comp.addresses)
    points = [Point(a, None) for a in sorted(addresses, key=lambda a: (a.version, int(a)))]
    points += [Point(None, c.name) for c in topology.components.values() if not c.addresses]
    return points


def _oracle_exposed(topology) -> tuple[set[str], set[str]]:
    """(webs reachable without an lb, dbs reachable at all) by enumeration."""
    policy = Policy(topology)
    ports = _ports_of(topology)
    public_sources = [p for p in _universe(topology) if p.address is not None and _public(p.address)]
    comps = topology.components
    start: list[tuple[tuple[str, int], bool]] = []
    for comp in comps.values():
        if not comp.kind.forwards:
            continue
        for i, listener in enumerate(comp.listeners):
            admitted = any(
                listener.ports.contains(proto, port)
                and policy.first_match(src, Point(dst, comp.name), PortSet.single(proto, port)).allowed
                for src in public_sources for dst in comp.public_addresses for proto, port in ports
            ) if topology.has_policy else bool(comp.public_addresses)
            if admitted:
                start.append(((comp.name, i), comp.kind is Kind.LB))
    webs, dbs = set(), set()
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
                if comp.kind.forwards:
                    for j, other in enumerate(comp.listeners):
                        arriving = fwd & other.ports
                        if arriving and policy.connect(name, member, arriving):
                            state = ((member, j), through_lb or comp.kind is Kind.LB)
                            if state not in seen:
                                seen.add(state)
                                queue.append(state)
                    continue
                arriving = fwd & comp.listen if comp.listen is not None else fwd
                if arriving and policy.connect(name, member, arriving):
                    if comp.kind is Kind.WEB and not through_lb:
                        webs.add(member)
                    if comp.kind is Kind.DB:
                        dbs.add(member)
    return webs, dbs


def _public(address) -> bool:
    from checker.net import is_public

    return is_public(address)


def _result(report, check_id):
    (result,) = [r for r in report.results if r.id == check_id]
    return result


@settings(max_examples=120)
@given(small_networks())
def test_private_web_and_db_match_enumeration(text: str) -> None:
    loaded = load_text(text, "gen.topo")
    assert loaded.topology is not None, [r.message for r in loaded.results]
    topology = loaded.topology
    webs, dbs = _oracle_exposed(topology)
    report = check_text(text + "check private-web\ncheck private-db\n", "gen.topo")
    for check_id, kind, exposed in (("private-web", Kind.WEB, webs), ("private-db", Kind.DB, dbs)):
        expected = {c.name for c in topology.components.values() if c.kind is kind and c.public_addresses} | exposed
        result = _result(report, check_id)
        got = {c.fields["component"] for c in result.counterexamples}
        assert got == expected, (check_id, got, expected, text)
        assert result.status.value == ("refuted" if expected else "proved")
        for counterexample in result.counterexamples:
            fields = counterexample.fields
            if "packet" not in fields:
                continue
            packet = fields["packet"]
            src = ipaddress.ip_address(packet["src"])
            assert _public(src)
            entry = topology.components[fields["path"][1]]
            decision = Policy(topology).first_match(
                Point(src, None), Point(ipaddress.ip_address(packet["dst"]), entry.name),
                PortSet.single(packet["protocol"], packet["port"]),
            )
            assert decision.allowed or not topology.has_policy
            assert fields["rules"] == ([decision.rule.line] if topology.has_policy else []) + fields["rules"][1:]
            if check_id == "private-web":
                assert not any(topology.components[h].kind is Kind.LB for h in fields["path"][1:])


@settings(max_examples=80)
@given(small_networks())
def test_shadowed_rules_match_enumeration(text: str) -> None:
    topology = load_text(text, "gen.topo").topology
    policy = Policy(topology)
    points = _universe(topology)
    ports = _ports_of(topology)
    first_matches: set[int] = set()
    for src in points:
        for dst in points:
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
