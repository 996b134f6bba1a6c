"""FastPolicy gives exactly the reference Policy's decisions (verdict, witness packet, rule)."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.api import load_text
from checker.engines import fastpolicy
from checker.engines.fastpolicy import FastPolicy
from checker.memo import Recent
from checker.net import ANY_PORT, parse_port
from checker.policy import INTERNET, Point, Policy, one_per_class

from .conftest import examples
from .strategies import topologies
from .test_exposure_oracle import small_networks


def _port_sets(topology):
    sets = {ANY_PORT, parse_port("tcp/443"), parse_port("udp/53")}
    for comp in topology.components.values():
        sets.add(comp.service_ports)
        for listener in comp.listeners:
            sets.add(listener.ports)
            if listener.target_ports:
                sets.add(listener.target_ports)
    sets.update(r.ports for r in topology.rules)
    return sorted(sets, key=str)


def _same_decisions(text: str) -> int:
    topology = load_text(text, "gen.topo").topology
    assert topology is not None
    reference, fast, booleans = Policy(topology), FastPolicy(topology), FastPolicy(topology)
    forgetful = FastPolicy(topology, recent=1)  # its per-component memos keep one or two components
    sources = [INTERNET, *topology.components]
    compared = 0
    for ports in _port_sets(topology):
        for source in sources:
            for destination in topology.components:
                expected = reference.connect(source, destination, ports)
                assert fast.connect(source, destination, ports) == expected, (source, destination, str(ports), text)
                # the lean boolean path, on a policy that has not decided the connection before
                assert booleans.allowed(source, destination, ports) == expected.allowed, (
                    source, destination, str(ports), text)
                assert forgetful.allowed(source, destination, ports) == expected.allowed, (
                    source, destination, str(ports), text)
                compared += 1
    assert fast.internet_points == reference.internet_points
    return compared


@settings(max_examples=examples(60))
@given(topologies(max_hosts=6, with_policy=True))
def test_fastpolicy_matches_policy_on_generated_topologies(text: str) -> None:
    _same_decisions(text)


@settings(max_examples=examples(60))
@given(small_networks())
def test_fastpolicy_matches_policy_on_small_networks(text: str) -> None:
    _same_decisions(text)


def _rules_to_are_the_reference_s(text: str) -> None:
    topology = load_text(text, "gen.topo").topology
    assert topology is not None
    reference, fast = Policy(topology), FastPolicy(topology)
    points = set(fast.internet_points)
    for name, comp in topology.components.items():
        points.update(fast.destination_points(name))
        points.add(Point(None, name))  # by name, whatever the component has
        points.update(Point(a, None) for a in comp.addresses)
    for point in points:
        expected = frozenset(r.index for r in topology.rules
                             if any(reference.endpoint_matches(e, point) for e in r.destinations))
        assert fast.rules_to(point) == expected, (str(point), text)


@settings(max_examples=examples(60))
@given(topologies(max_hosts=6, with_policy=True))
def test_rules_to_a_point_are_those_whose_destinations_match_it(text: str) -> None:
    """The destination rules of a point (from the rules' own keys, or the bucket index
    for a nameless point of a component with addresses or networks) are exactly the
    reference's."""
    _rules_to_are_the_reference_s(text)


@settings(max_examples=examples(60))
@given(small_networks())
def test_rules_to_a_point_on_small_networks(text: str) -> None:
    _rules_to_are_the_reference_s(text)


def _matching_rules_are_the_reference_s(text: str) -> None:
    topology = load_text(text, "gen.topo").topology
    assert topology is not None
    reference, fast = Policy(topology), FastPolicy(topology)
    points = set(fast.internet_points[:4])
    for name, comp in topology.components.items():
        points.add(Point(None, name))  # by name, whatever the component has
        points.update(Point(a, None) for a in comp.addresses[:1])
        points.update(Point(n.network_address, None) for n in comp.networks[:1])
    for src in points:
        for dst in points:
            expected = [r.index for r in topology.rules
                        if any(reference.endpoint_matches(e, src) for e in r.sources)
                        and any(reference.endpoint_matches(e, dst) for e in r.destinations)]
            assert list(fast.matching_rules(src, dst)) == expected, (str(src), str(dst), text)


@settings(max_examples=examples(60))
@given(small_networks())
def test_rules_matching_two_packet_ends_are_the_reference_s(text: str) -> None:
    """Any two packet ends, a nameless point of a client group or of a component with
    addresses included (the shadowed-rule samples ask those): the rules matching both
    are exactly the reference's."""
    _matching_rules_are_the_reference_s(text)


def test_a_client_groups_own_point_is_matched_by_the_rules_naming_the_group() -> None:
    text = ("clients office address 2001:db8::/124\n"
            "web w address 10.0.0.1 listen tcp/443\n"
            "allow any -> office tcp/80\nallow any -> any tcp/443\n")
    _matching_rules_are_the_reference_s(text)
    fast = FastPolicy(load_text(text, "o.topo").topology)
    assert list(fast.matching_rules(Point(None, "w"), Point(None, "office"))) == [0, 1]


def test_address_after_a_component_address_is_its_own_cell() -> None:
    """A rule naming a component matches its address only: the next address of the
    same network is another client, which the reference once never tried."""
    text = """
lb lb1 address 203.0.113.10 address 10.0.0.10 listen tcp/443 -> w1 tcp/8080
web w1 address 10.0.1.1 listen tcp/8080
web w2 address 198.51.100.0 listen tcp/8080
deny w2 -> lb1 any
allow 198.51.100.0/24 -> lb1 tcp/443
"""
    topology = load_text(text, "t.topo").topology
    for policy in (Policy(topology), FastPolicy(topology)):
        decision = policy.connect(INTERNET, "lb1", parse_port("tcp/443"))
        assert decision.allowed
        assert str(decision.packet.src) == "198.51.100.1"
        assert decision.rule.line == 6


def test_a_deny_of_some_of_the_asked_ports_leaves_the_rest_to_later_rules() -> None:
    """The yes/no path reads each rule's ports as missing, holding some of, or holding
    every asked port (worked out once per pair of port sets): a deny of part of the
    asked ports decides nothing about the rest."""
    text = """
web a address 10.0.0.1 listen tcp/80
web b address 10.0.0.2 listen tcp/80-90
web c address 10.0.0.3 listen tcp/80
deny a -> b tcp/80
allow a -> b tcp/80-90
deny a -> c tcp/80-90
allow a -> c tcp/80
"""
    topology = load_text(text, "t.topo").topology
    reference, fast = Policy(topology), FastPolicy(topology)
    asked = [("a", "b", "tcp/80-90", True), ("a", "b", "tcp/80", False), ("a", "b", "tcp/81", True),
             ("a", "c", "tcp/80", False), ("a", "c", "tcp/79-80", False), ("a", "b", "tcp/79-80", False),
             ("a", "b", "tcp/80-90", True)]  # (the last: the same port sets again, from the memo)
    for source, destination, ports, allowed in asked:
        expected = reference.connect(source, destination, parse_port(ports))
        assert expected.allowed is allowed, (source, destination, ports)
        assert fast.allowed(source, destination, parse_port(ports)) is allowed, (source, destination, ports)
    fast.forget_answers()
    assert fast.allowed("a", "b", parse_port("tcp/80-90")) is True


def test_recent_memo_keeps_the_last_asked_and_forgets_the_oldest() -> None:
    memo = Recent(2)
    for key in "abc":
        memo.put(key, key.upper())  # new (c), old (a, b)
    assert memo.get("a") == "A"  # from the old generation, moved to the new: (c, a)
    memo.put("d", "D")  # the new one was full: it is the old one (c, a), new (d); b is forgotten
    assert memo.get("b", "-") == "-"
    assert (memo.get("c"), memo.get("d")) == ("C", "D")  # c moved: new (d, c)
    memo.put("e", "E")  # old (d, c), new (e): a is forgotten
    assert [memo.get(k, "-") for k in "ae"] == ["-", "E"]
    assert memo.get("x") is None and memo.get("x", 0) == 0
    memo.put("n", None)  # a memo of None is a hit, not a miss
    assert memo.get("n", "missing") is None
    assert len(memo.new) + len(memo.old) <= 2 * 2


def test_rule_keys_read_as_pairs_and_by_side() -> None:
    text = ("web a address 10.0.0.1\nweb b address 10.0.0.2\nweb c\n"
            "allow a -> b tcp/80\ndeny any -> c\nallow 10.0.0.0/24 -> a, c tcp/22\n")
    policy = FastPolicy(load_text(text, "t.topo").topology)
    keys = policy.rule_keys
    expected = [
        ([("address", 4, 0x0A000001)], [("address", 4, 0x0A000002)]),
        ([("any",)], [("name", "c")]),
        ([("prefix", 4, 24, 0x0A0000)], [("address", 4, 0x0A000001), ("name", "c")]),
    ]
    assert len(keys) == 3
    assert [keys[i] for i in range(3)] == list(keys) == expected
    assert keys.side(0) == [src for src, _ in expected] and keys.side(1) == [dst for _, dst in expected]
    # a key is one object wherever a rule side holds it
    assert keys[0][0][0] is keys[2][1][0]


def _classes_decide_alike(text: str) -> int:
    """Every two packet ends of a source in one ``source_class`` are allowed to the
    same destinations on the same ports by the reference policy (what lets the circuit
    and the evaluators ask a resolution once per class); returns the ends skipped."""
    topology = load_text(text, "gen.topo").topology
    assert topology is not None
    reference, fast = Policy(topology), FastPolicy(topology)
    skipped = 0
    for source in [INTERNET, *topology.components]:
        points = reference.source_points(source)
        first: dict = {}
        for point in points:
            first.setdefault(fast.source_class(point), point)
        assert one_per_class(fast, points) == tuple(first.values())
        skipped += len(points) - len(first)
        for point in points:
            kin = first[fast.source_class(point)]
            if kin is point:
                continue
            for ports in _port_sets(topology):
                for destination in topology.components:
                    assert (reference.connect_from(point, source, destination, ports).allowed
                            == reference.connect_from(kin, source, destination, ports).allowed), (
                        source, point, kin, destination, str(ports), text)
    return skipped


@settings(max_examples=examples(60))
@given(topologies(max_hosts=6, with_policy=True))
def test_packet_ends_of_one_class_decide_alike(text: str) -> None:
    _classes_decide_alike(text)


@settings(max_examples=examples(60))
@given(small_networks())
def test_packet_ends_of_one_class_decide_alike_on_small_networks(text: str) -> None:
    _classes_decide_alike(text)


def test_public_cells_under_rules_that_do_not_tell_them_apart_are_one_class() -> None:
    text = ("internet users\nweb a address 203.0.113.1 listen tcp/80\nweb b address 198.51.100.1 listen tcp/80\n"
            "allow 198.51.100.0/24 -> a tcp/80\nallow any -> b tcp/80\n")
    topology = load_text(text, "c.topo").topology
    fast = FastPolicy(topology)
    points = fast.source_points(INTERNET)
    kept = one_per_class(fast, points)
    # 16 public cells: in IPv4 those inside 198.51.100.0/24 (a rule's sources) and the
    # rest, in IPv6 one class; each kept at its first cell
    assert len(points) == 16
    assert [str(p.address) for p in kept] == ["0.0.0.1", "198.51.100.0", "::2"]


@settings(max_examples=examples(100), deadline=None)
@given(topologies(max_hosts=6, with_policy=True))
def test_a_groups_cells_are_the_cells_inside_its_networks(text: str) -> None:
    """``cells_of`` (found by bisection per network) is every cell inside one of the
    component's networks, as scanning every cell finds them."""
    topology = load_text(text, "gen.topo").topology
    fast = FastPolicy(topology)
    for comp in topology.components.values():
        if not comp.networks or comp.kind.value == "internet":
            continue
        expected = {version: [p for p in values if any(n.version == version and int(n.network_address) <= p
                                                       <= int(n.broadcast_address) for n in comp.networks)]
                    for version, values in fast.all_cells.items()}
        assert fast.cells_of(comp.name) == expected


def test_overlapping_networks_of_a_group_give_each_cell_once() -> None:
    text = ("clients office { address 10.0.0.0/16; address 10.0.1.0/24; address 10.0.0.0/8 }\nweb w address 10.0.1.5 listen tcp/80\n"
            "allow office -> w tcp/80\n")
    fast = FastPolicy(load_text(text, "o.topo").topology)
    cells = fast.cells_of("office")[4]
    assert cells == sorted(set(cells)) and all(10 << 24 <= p < 11 << 24 for p in cells) and len(cells) > 3


def _components_of_one_class_decide_alike(text: str, pair_limit: int | None = None) -> int:
    """Every two components of one ``component_class`` are allowed to the same
    destinations on the same ports by the reference policy (what lets ``allowed``
    answer one of them from the other's answer); returns the components that share a
    class with an earlier one. ``pair_limit``: the index's bound on a rule's key pairs
    (small: most rules are "wide", the class must see which of them name a source)."""
    topology = load_text(text, "gen.topo").topology
    assert topology is not None
    with patch.object(fastpolicy, "_PAIR_LIMIT", fastpolicy._PAIR_LIMIT if pair_limit is None else pair_limit):
        fast = FastPolicy(topology)
    reference = Policy(topology)
    first: dict = {}
    shared = 0
    for source in topology.components:
        cls = fast.component_class(source)
        if isinstance(cls, str):
            assert cls == source  # a source the index cannot class is its own class
            continue
        kin = first.setdefault(cls, source)
        if kin == source:
            continue
        shared += 1
        for ports in _port_sets(topology):
            for destination in topology.components:
                expected = reference.connect(source, destination, ports).allowed
                assert reference.connect(kin, destination, ports).allowed == expected, (
                    source, kin, destination, str(ports), text)
                assert fast.allowed(source, destination, ports) == expected, (source, destination, str(ports), text)
    return shared


@settings(max_examples=examples(60))
@given(topologies(max_hosts=6, with_policy=True), st.sampled_from([None, 1, 4]))
def test_components_of_one_class_decide_alike(text: str, pair_limit: int | None) -> None:
    _components_of_one_class_decide_alike(text, pair_limit)


@settings(max_examples=examples(60))
@given(small_networks(), st.sampled_from([None, 1, 4]))
def test_components_of_one_class_decide_alike_on_small_networks(text: str, pair_limit: int | None) -> None:
    _components_of_one_class_decide_alike(text, pair_limit)


def test_a_pool_named_by_the_same_rules_is_one_class_and_a_rule_naming_one_member_parts_it() -> None:
    pool = "".join(f"web w{i} address 10.0.0.{i + 1} listen tcp/80\n" for i in range(4))
    text = (pool + "service api address 10.0.1.1 listen tcp/9000\nservice other address 10.0.1.2 listen tcp/9000\n"
            "allow w0, w1, w2, w3 -> api tcp/9000\n"
            "deny w1 -> api tcp/9000\n"  # (after the allow: decides nothing, yet w1 is named)
            "deny w2 -> other\n"
            "allow any -> other tcp/9000\n")
    topology = load_text(text, "c.topo").topology
    for pair_limit in (None, 1):  # the pool's rules filed by key pairs, or as wide rules
        with patch.object(fastpolicy, "_PAIR_LIMIT", fastpolicy._PAIR_LIMIT if pair_limit is None else pair_limit):
            fast = FastPolicy(topology)
        classes = {name: fast.component_class(name) for name in ("w0", "w1", "w2", "w3")}
        assert classes["w0"] == classes["w3"], pair_limit
        assert len({classes["w0"], classes["w1"], classes["w2"]}) == 3, pair_limit
        port = parse_port("tcp/9000")
        # w3 is answered from w0's memo; w2 is not, and is denied
        assert fast.allowed("w0", "other", port) and fast.allowed("w3", "other", port)
        assert not fast.allowed("w2", "other", port)
        assert all(fast.allowed(w, "api", port) for w in classes)
        # a forgotten memo (classes renumbered) still answers right
        fast.forget_answers()
        assert not fast.allowed("w2", "other", port) and fast.allowed("w1", "other", port)
    # w3 with w0, and other with api (no rule names either as a source)
    assert _components_of_one_class_decide_alike(text) == 2
    assert _components_of_one_class_decide_alike(text, pair_limit=1) == 2
