"""The interval decision of "these rules together match every packet that one does"
(:mod:`checker.engines.cover`) against Z3 on the same question, on generated files
(both generators: the small forwarding networks with client groups, external targets and
both address families, and the whole language's), and on hand-made edges."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checker.api import load_text
from checker.engines.cover import RuleBoxes, TooLarge
from checker.engines.packets import PacketSpace
from tests.conftest import examples
from tests.strategies import topologies
from tests.test_exposure_oracle import small_networks


def _solver_says_covered(space: PacketSpace, rule, others) -> bool:
    import z3

    packet = space.packet("p")
    solver = z3.Solver()
    solver.add(space.well_formed_packet(packet), space.matches(packet, rule))
    for other in others:
        solver.add(z3.Not(space.matches(packet, other)))
    verdict = solver.check()
    assert verdict in (z3.sat, z3.unsat)
    return verdict == z3.unsat


def _agree(text: str, data, everything: bool = True) -> int:
    topology = load_text(text, "gen.topo").topology
    assert topology is not None
    rules = topology.rules
    boxes, space = RuleBoxes(topology), PacketSpace(topology)
    covered = 0
    for rule in rules:
        others = [r for r in rules if r is not rule]
        # every other rule, the rules before it (the check's own question) and a subset
        subsets = [others, rules[:rule.index]] if everything else [rules[:rule.index]]
        if others:
            subsets.append(data.draw(st.lists(st.sampled_from(others), max_size=4, unique_by=id)))
        for chosen in subsets:
            exact = boxes.covered(rule, chosen, [10**9])
            assert exact == _solver_says_covered(space, rule, chosen), (rule.line, [r.line for r in chosen], text)
            covered += exact
    return covered


@settings(max_examples=examples(100), deadline=None)
@given(small_networks(), st.data())
def test_the_intervals_decide_as_the_solver_on_small_networks(text: str, data) -> None:
    _agree(text, data)


@settings(max_examples=examples(30), deadline=None)
@given(topologies(with_policy=True), st.data())
def test_the_intervals_decide_as_the_solver_on_whole_files(text: str, data) -> None:
    _agree(text, data, everything=False)


_EDGES = """\
clients office address 10.1.0.0/16 address fd00:8::/32
external payments { address 198.51.100.0/24; listen tcp/443 }
internet users
web w address 10.0.0.1 address fd00::1 listen tcp/80
web n listen tcp/80
"""


@pytest.mark.parametrize("rules, covered", [
    # a client group is its networks and its own point: its networks alone leave the point
    (["allow 10.1.0.0/16, fd00:8::/32 -> w any", "deny office -> w any"], False),
    (["allow office -> w any", "deny 10.1.0.0/17 -> w tcp/80"], True),
    (["allow office -> w any", "deny fd00:8::/33 -> w tcp/80"], True),
    # internet: neither private nor unspecified, of both families
    (["allow 0.0.0.0/1, 128.0.0.0/1, ::/0 -> w any", "deny internet -> w any"], True),
    (["allow internet -> w any", "deny 0.0.0.0/0 -> w any"], False),  # 0.0.0.0 and the private ranges
    (["allow internet -> w any", "deny 0.0.0.1 -> w any"], True),
    (["allow internet -> w any", "deny 0.0.0.0 -> w any"], False),
    (["allow users -> w any", "deny payments -> w any"], False),  # the external target's own point
    (["allow users, payments -> w any", "deny payments -> w any"], True),
    # the two families never meet; a point without address meets both
    (["allow 0.0.0.0/0 -> any any", "deny ::/0 -> w any"], False),
    (["allow 0.0.0.0/0 -> w any", "deny ::/0 -> 10.0.0.1 any"], True),  # matches no packet at all
    (["allow any -> n any", "deny ::/0 -> n tcp/80"], True),
    (["allow 0.0.0.0/0 -> n tcp/1-65535", "allow ::/0 -> n tcp/0", "deny 0.0.0.0/0, ::/0 -> n tcp/0-65535"], False),
    (["allow 0.0.0.0/0 -> n tcp/1-65535", "allow 0.0.0.0/0 -> n tcp/0", "deny 0.0.0.0/0 -> n tcp/0-65535"], True),
    # pieces: two rules covering halves on two axes at once
    (["allow 10.0.0.0/9 -> w tcp/0-100", "allow 10.128.0.0/9 -> w tcp/0-100",
      "allow 10.0.0.0/8 -> w tcp/101-200", "deny 10.0.0.0/8 -> w tcp/50-150"], True),
    (["allow 10.0.0.0/9 -> w tcp/0-100", "allow 10.128.0.0/10 -> w tcp/0-100",
      "allow 10.0.0.0/8 -> w tcp/101-200", "deny 10.0.0.0/8 -> w tcp/50-150"], False),
])
def test_edges(rules: list[str], covered: bool) -> None:
    topology = load_text(_EDGES + "\n".join(rules) + "\n", "edges.topo").topology
    assert topology is not None
    *others, rule = topology.rules
    assert RuleBoxes(topology).covered(rule, others, [10**9]) is covered
    assert _solver_says_covered(PacketSpace(topology), rule, others) is covered


def test_a_budget_too_small_raises() -> None:
    topology = load_text(_EDGES + "allow office -> w any\ndeny 10.1.0.0/17 -> w tcp/80\n", "b.topo").topology
    *others, rule = topology.rules
    with pytest.raises(TooLarge):
        RuleBoxes(topology).covered(rule, others, [1])
    work = [10**6]
    assert RuleBoxes(topology).covered(rule, others, work) and 0 < work[0] < 10**6


def test_a_network_covered_by_its_128_parts_is_decided_on_intervals() -> None:
    """A cover of 128 rules (a /17 by its /24s) is within the intervals' budget: the
    solver is never asked, and the cover named is every part (each one is needed)."""
    from unittest import mock

    from checker.api import check_text
    from checker.checks import shadowed_rule

    text = "web w address 10.9.0.1 listen tcp/5432\n" + "".join(
        f"allow 10.0.{i}.0/24 -> w tcp/5432\n" for i in range(128)) + "deny 10.0.0.0/17 -> w tcp/5432\n"
    with mock.patch.object(shadowed_rule, "_solve_z3", side_effect=AssertionError("Z3 was asked")):
        report = check_text(text, "parts.topo", select=["shadowed-rule"])
    (result,) = [r for r in report.results if r.id == "shadowed-rule"]
    assert result.counterexamples[0].fields == {"rule": 130, "shadowed_by": list(range(2, 130))}


def _plain_minimal_cover(count: int, covers) -> list[int]:
    """The rule of shadowed_rule._minimal_cover as first written: a plain binary search."""
    needed: list[int] = []
    bound = count
    while bound and not covers(needed):
        low, high = 1, bound
        while low < high:
            middle = (low + high) // 2
            if covers(needed + list(range(middle))):
                high = middle
            else:
                low = middle + 1
        needed.append(low - 1)
        bound = low - 1
    return sorted(needed)


@settings(max_examples=examples(200))
@given(st.lists(st.frozensets(st.integers(0, 7)), min_size=1, max_size=24))
@example([frozenset()] * 9 + [frozenset([0])] + [frozenset()] * 3)  # 7 questions where the plain search asks 5
def test_the_minimal_cover_is_the_plain_binary_search_s(parts: list[frozenset]) -> None:
    """Whatever the rules cover (each a set of points, covering being their union), the
    search that asks first about the rule just before its bound names the same rules as
    the plain binary search, in no more questions than two more per rule named: both
    find the same rules in the same rounds; a round of the plain search over a bound b
    asks at least floor(log2 b) questions, one of the search at most 1 + ceil(log2 (b-1))."""
    from checker.checks.shadowed_rule import _minimal_cover

    target = frozenset().union(*parts)  # (all of them cover, as the search is given)
    asked = {"plain": 0, "search": 0}

    def covers_for(who):
        def covers(chosen: list[int]) -> bool:
            asked[who] += 1
            return frozenset().union(*(parts[i] for i in chosen)) >= target
        return covers

    plain = _plain_minimal_cover(len(parts), covers_for("plain"))
    found = _minimal_cover(len(parts), covers_for("search"))
    assert found == plain
    assert asked["search"] <= asked["plain"] + 2 * len(found)


_ATOM = st.one_of(
    st.just(("all",)), st.just(("public",)), st.sampled_from([("name", "a"), ("name", "b")]),
    st.builds(lambda v, low, size: ("range", v, low, low + size), st.sampled_from([4, 6]),
              st.sampled_from([0, 1, 9, 10, 167772160, 167772170, 3221225984, 4294967040]),
              st.sampled_from([0, 1, 5, 255, 16777215])),
)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(_ATOM, max_size=40), st.lists(_ATOM, max_size=40))
def test_a_long_side_covers_through_its_index_as_atom_by_atom(atoms, cover) -> None:
    """A rule side of thousands of atoms is checked against an index of the earlier rule's
    (sets of names, ranges sorted by start with the furthest end so far): each atom lies
    inside one atom of the cover exactly when the pairwise test says so, ranges nested,
    overlapping and touching the private networks and 0.0.0.0 included."""
    from checker.checks.shadowed_rule import _atom_in, _CoverIndex

    index = _CoverIndex(cover)
    for atom in atoms:
        assert index.holds(atom) == any(_atom_in(atom, c) for c in cover), (atom, cover)
