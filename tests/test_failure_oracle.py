"""Oracle tests for ``no-spof`` and ``zone-redundancy``: every verdict, every single
point of failure, the size of every smallest stopping set and every zone (region)
list is compared with brute-force enumeration of unit subsets through the
reference evaluator, on random topologies (``tests/strategies.py``).

The CI profile runs a few hundred cases in total; for a campaign of thousands::

    HYPOTHESIS_PROFILE=long python -m pytest -q tests/test_failure_oracle.py
"""

from __future__ import annotations

import itertools
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.api import load_text
from checker.context import Context, Options
from checker.checks import no_spof, zone_redundancy
from checker.engines.failure import circuit_for, minimal_cut_sets
from checker.engines.failure_z3 import minimum_stopping_set
from checker.evaluator import Evaluator
from checker.model import CheckRequest
from checker.results import Status

from .conftest import examples
from .strategies import redundant_topologies, topologies

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
EXAMPLES = 5000 if LONG else 120


def _topology(text: str):
    loaded = load_text(text, "gen.topo")
    assert loaded.topology is not None, [r.message for r in loaded.results]
    return loaded.topology


def _brute_force(topology, limit: int):
    """(baseline down, smallest stopping size <= limit or None, every stopping single host)."""
    evaluator = Evaluator(topology)
    if evaluator.stopped(()):
        return True, 0, set()
    hosts = topology.host_units
    singles = {h.label for h in hosts if evaluator.stopped(frozenset((h,)))}
    if singles:
        return False, 1, singles
    for size in range(2, limit + 1):
        for combo in itertools.combinations(hosts, size):
            if evaluator.stopped(frozenset(combo)):
                return False, size, singles
    return False, None, singles


def _run(module, topology, params=()):
    request = CheckRequest(module.ID, tuple(params), None)
    return list(module.run(topology, request, Context(topology, Options(timeout=30))))


@settings(max_examples=EXAMPLES)
@given(topologies(max_hosts=8))
def test_no_spof_k1_matches_enumeration(text: str) -> None:
    topology = _topology(text)
    down, smallest, singles = _brute_force(topology, 2)
    [result] = _run(no_spof, topology)
    if down:
        assert result.status is Status.REFUTED and result.margin == 0
        assert [c.fields["failed"] for c in result.counterexamples] == [[]]
        return
    assert result.margin == smallest
    if singles:
        assert result.status is Status.REFUTED
        assert [c.fields["failed"] for c in result.counterexamples] == [[s] for s in sorted(singles)]
        _assert_stopped_complete(topology, result)
        # what the search says each single point stops (no-spof's claims) is the reference's
        from checker.engines.failure import smallest_stopping_sets

        found = smallest_stopping_sets(circuit_for(Context(topology)), 2, 30, every_set=False)
        evaluator = Evaluator(topology)
        assert list(found.stopped) == [evaluator.stopped(frozenset(units)) for units in found.sets]
    else:
        assert result.status is Status.PROVED and not result.counterexamples


@settings(max_examples=EXAMPLES)
@given(redundant_topologies(max_hosts=6))
def test_no_spof_margin_on_redundant_topologies_matches_enumeration(text: str) -> None:
    """Files built for redundancy, where a margin of 2 is common (about a third of them;
    the general generator almost always has a single point): the margin, and the set
    behind it (from the pair of single points guessed first, or the term methods),
    against enumeration."""
    from checker.engines.failure import smallest_stopping_sets

    topology = _topology(text)
    down, smallest, singles = _brute_force(topology, 2)
    [result] = _run(no_spof, topology)
    assert result.margin == smallest
    assert (result.status is Status.PROVED) == (not down and not singles)
    if down or singles:
        return
    found = smallest_stopping_sets(circuit_for(Context(topology)), 2, 30, every_set=False)
    assert found.smallest == smallest
    if smallest is not None:  # (one set, or every smallest one where the term method was exact)
        assert found.sets
        assert all(len(units) == 2 and Evaluator(topology).stopped(frozenset(units)) for units in found.sets)


def test_a_pair_of_single_points_behind_two_answers_is_found_without_the_term_methods(monkeypatch) -> None:
    """The margin of a name with two answers, each behind its own single point, comes
    from the pair guessed from what single hosts take down: the term methods are
    never asked (they would raise here)."""
    from checker.engines import failure

    def refuse(*args, **kwargs):
        raise AssertionError("the term methods ran")

    monkeypatch.setattr(failure, "monotone_cut_sets", refuse)
    monkeypatch.setattr(failure, "minimal_cut_sets", refuse)
    topology = _topology(
        "internet users\n"
        "service svc1 address 10.0.3.1 listen tcp/9000\n"
        "service svc2 address 10.0.3.2 listen tcp/9000\n"
        "web web1 address 10.0.1.1 listen tcp/8080\n"
        "web web2 address 10.0.1.2 listen tcp/8080\n"
        "web web3 address 10.0.1.3 listen tcp/8080\n"
        "web web4 address 10.0.1.4 listen tcp/8080\n"
        "web1, web2 uses svc1\n"
        "web3, web4 uses svc2, svc1\n"
        "lb lb1 address 203.0.113.10 listen tcp/443 -> web1, web2 tcp/8080\n"
        "lb lb2 address 203.0.113.11 listen tcp/443 -> web3, web4 tcp/8080\n"
        "dns www.example.com { managed; answer lb1, lb2 }\n"
    )
    [result] = _run(no_spof, topology)
    assert result.status is Status.PROVED and result.margin == 2
    assert result.message.endswith("(the smallest stopping set has 2 hosts)")
    found = failure.smallest_stopping_sets(circuit_for(Context(topology)), 2, 30, every_set=False)
    [units] = found.sets
    assert len(units) == 2 and Evaluator(topology).stopped(frozenset(units)) == ["www.example.com"]


def test_a_guessed_pair_that_revives_what_it_stopped_is_dropped() -> None:
    """h3 alone takes lb1 down (svc1 is live but cannot serve, and web1 keeps picking
    it) and h1 alone takes lb2 down, but failing both moves web1 to svc2: the guessed
    pair stops nothing, and no two hosts do (margin beyond k+1, not 2)."""
    topology = _topology(
        "internet users\n"
        "service svc3 host h3 address 10.0.3.3 listen tcp/9000\n"
        "service svc1 host h1 address 10.0.3.1 listen tcp/9000\n"
        "service svc9 host h1 address 10.0.3.9 listen tcp/9000\n"
        "service svc2 managed address 10.0.3.2 listen tcp/9000\n"
        "svc1 uses svc3\n"
        "web web1 managed address 10.0.1.1 listen tcp/8080\n"
        "web web2 managed address 10.0.1.2 listen tcp/8080\n"
        "web1 uses svc1, svc2\n"
        "web2 uses svc9\n"
        "lb lb1 managed address 203.0.113.10 listen tcp/443 -> web1 tcp/8080\n"
        "lb lb2 managed address 203.0.113.11 listen tcp/443 -> web2 tcp/8080\n"
        "dns www.example.com { managed; answer lb1, lb2 }\n"
    )
    assert _brute_force(topology, 3) == (False, None, set())
    [result] = _run(no_spof, topology)
    assert result.status is Status.PROVED and result.margin is None
    assert result.message.endswith("(every stopping set has more than 2 hosts)")


@settings(max_examples=EXAMPLES // 2)
@given(topologies(max_hosts=7))
def test_no_spof_k2_k3_smallest_set(text: str) -> None:
    topology = _topology(text)
    evaluator = Evaluator(topology)
    for k in (2, 3):
        down, smallest, _ = _brute_force(topology, k + 1)
        [result] = _run(no_spof, topology, (("k", str(k)),))
        assert result.extra == {"params": {"k": str(k)}}
        assert result.margin == smallest, (k, result.message)
        if smallest is not None and smallest <= k:
            assert result.status is Status.REFUTED
            [example] = result.counterexamples
            assert len(example.fields["failed"]) == smallest
            units = {u.label: u for u in topology.host_units}
            assert evaluator.stopped(frozenset(units[label] for label in example.fields["failed"]))
        else:
            assert result.status is Status.PROVED


@settings(max_examples=EXAMPLES // 2)
@given(topologies(max_hosts=8))
def test_both_methods_agree_with_enumeration(text: str) -> None:
    """The term method and MaxSAT each find the true minimum."""
    topology = _topology(text)
    circuit = circuit_for(Context(topology))
    if circuit.services_down(circuit.baseline[0]):
        return
    _, smallest, _ = _brute_force(topology, 3)
    outcome = minimum_stopping_set(circuit, 30)
    size = len(outcome.hosts) if outcome.status is Status.REFUTED else None
    assert (size if size is not None and size <= 3 else None) == smallest
    for bound in (1, 2):  # bounded: the smallest set within the bound, or none
        bounded = minimum_stopping_set(circuit, 30, at_most=bound)
        found = len(bounded.hosts) if bounded.status is Status.REFUTED else None
        assert found == (smallest if smallest is not None and smallest <= bound else None)
    terms = minimal_cut_sets(circuit, 3)
    assert (min(len(p) for p, _ in terms) if terms else None) == smallest
    evaluator = Evaluator(topology)
    for failed, live in terms:
        # every term is realised by failing exactly its failed hosts (the others stay live)
        assert evaluator.stopped(frozenset(circuit.hosts[h] for h in failed)), (failed, live)


@settings(max_examples=EXAMPLES)
@given(topologies(max_hosts=8))
def test_zone_and_region_redundancy_match_enumeration(text: str) -> None:
    topology = _topology(text)
    evaluator = Evaluator(topology)
    down = bool(evaluator.stopped(()))
    for level, units in (("zone", topology.zone_units), ("region", topology.region_units)):
        expected = sorted(u.label for u in units if evaluator.stopped(frozenset((u,))))
        params = () if level == "zone" else (("level", "region"),)
        [result] = _run(zone_redundancy, topology, params)
        got = [c.fields["failed"] for c in result.counterexamples]
        if down:
            assert result.status is Status.REFUTED and got == [[]]
        elif expected:
            assert result.status is Status.REFUTED and got == [[label] for label in expected]
        else:
            assert result.status is Status.PROVED
        _assert_stopped_complete(topology, result)


def _assert_stopped_complete(topology, result) -> None:
    """Each counterexample's ``stopped`` (the circuit's list, each one replayed on its
    cone) is every service the full reference evaluation finds down."""
    evaluator = Evaluator(topology)
    units = {u.label: u for u in (*topology.host_units, *topology.zone_units, *topology.region_units)}
    for example in result.counterexamples:
        failed = frozenset(units[label] for label in example.fields["failed"])
        assert example.fields["stopped"] == evaluator.stopped(failed), example.fields["failed"]


@settings(max_examples=EXAMPLES)
@given(topologies(max_hosts=8))
def test_circuit_matches_evaluator_on_random_scenarios(text: str) -> None:
    """The compiled circuit's greatest fixed point equals the evaluator's, scenario by
    scenario (random subsets of hosts, plus each zone and region)."""
    topology = _topology(text)
    evaluator = Evaluator(topology)
    circuit = circuit_for(Context(topology))
    units = list(topology.host_units)
    scenarios = [frozenset(), *(frozenset((u,)) for u in topology.zone_units + topology.region_units)]
    scenarios += [frozenset(units[i] for i in range(len(units)) if (mask >> i) & 1) for mask in range(0, 2 ** len(units), 7)]
    for failed in scenarios:
        expected = evaluator.stopped(failed)
        assert circuit.stops(circuit.dead_for(failed)) == expected, sorted(u.label for u in failed)
        # the cone-proportional evaluation the checks use (falls from the baseline when nothing can rise)
        assert circuit.stopped_by(circuit.dead_for(failed)) == expected, sorted(u.label for u in failed)
    # the flags one scenario sets are cleared for the next (each scenario above read them)
    assert not any(circuit._scratch_steered) and not any(circuit._scratch_dead)


@settings(max_examples=EXAMPLES)
@given(topologies(max_hosts=8, with_policy=True))
def test_connection_index_matches_reference_policy(text: str) -> None:
    from checker.engines.connections import ConnectionIndex
    from checker.policy import INTERNET, Policy

    topology = _topology(text)
    policy = Policy(topology)
    index = ConnectionIndex(topology, policy)
    names = list(topology.components)
    for source in names + [INTERNET]:
        for destination in names:
            ports = topology.components[destination].service_ports
            assert index.allowed(source, destination, ports) == bool(policy.connect(source, destination, ports)), (
                source, destination)


@settings(max_examples=EXAMPLES // 2)
@given(topologies(max_hosts=7))
def test_relaxed_circuit_stops_whatever_the_real_one_stops(text: str) -> None:
    """The monotone relaxation only under-approximates serving: every real stopping
    set of at most 3 hosts contains a relaxed minimal cut set."""
    from checker.engines.failure import RelaxedCircuit

    topology = _topology(text)
    circuit = circuit_for(Context(topology))
    if circuit.services_down(circuit.baseline[0]):
        return
    cuts = [p for p, live in minimal_cut_sets(RelaxedCircuit(circuit), 3)]
    assert all(not live for _, live in minimal_cut_sets(RelaxedCircuit(circuit), 3))
    evaluator = Evaluator(topology)
    index = {u: i for i, u in enumerate(circuit.hosts)}
    for size in (1, 2, 3):
        for combo in itertools.combinations(topology.host_units, size):
            if evaluator.stopped(frozenset(combo)):
                hosts = frozenset(index[u] for u in combo)
                assert any(p <= hosts for p in cuts), sorted(u.label for u in combo)


@settings(max_examples=examples(300))
@given(st.lists(st.integers(-1, 6), min_size=0, max_size=9), st.integers(-1, 10), st.integers(0, 4))
def test_falling_host_sets_are_the_minimal_small_sets_by_enumeration(hosts, falling, limit) -> None:
    """The sets of at most ``limit`` hosts that take down ``falling`` of the components
    (one host per component, -1: never fails) used for quorum and ``need`` conditions,
    against every subset of the hosts."""
    from checker.engines.failure import _Counter, _falling_host_sets

    got = _falling_host_sets(hosts, falling, limit, _Counter(10**9))
    real = sorted({h for h in hosts if h >= 0})
    stopping = [frozenset(s) for size in range(limit + 1) for s in itertools.combinations(real, size)
                if sum(1 for h in hosts if h in s) >= falling]
    minimal = {s for s in stopping if not any(t < s for t in stopping)}
    assert set(got) == minimal and len(got) == len(minimal)


_FAMILY = st.lists(st.frozensets(st.integers(0, 4), min_size=1, max_size=2), max_size=3)


@settings(max_examples=examples(300))
@given(st.lists(_FAMILY, min_size=1, max_size=3), st.integers(-1, 4), st.integers(2, 3))
def test_falling_sets_of_a_group_are_the_minimal_small_sets_by_enumeration(families, need, limit) -> None:
    """The sets of at most ``limit`` hosts under which fewer than ``need`` of a group's
    members hold (a member falls under a set holding one of its family's), against
    every set of hosts: groups of one member (the margin search's shortcut) included,
    and groups that need none of their members, or more than they have."""
    from checker.engines.failure import _Counter, _falling_sets, _minimal_sets

    families = {m: _minimal_sets(list(family)) for m, family in enumerate(families)}
    nodes = tuple(families)
    got = _falling_sets(families, nodes, need, limit, _Counter(10**9))
    stopping = [frozenset(s) for size in range(limit + 1) for s in itertools.combinations(range(5), size)
                if sum(1 for m in nodes if not any(p <= frozenset(s) for p in families[m])) < need]
    minimal = {s for s in stopping if not any(t < s for t in stopping)}
    assert set(got) == minimal and len(got) == len(minimal)


@settings(max_examples=examples(300))
@given(st.lists(st.lists(st.frozensets(st.integers(0, 5), max_size=2), max_size=3), min_size=1, max_size=7),
       st.integers(1, 7), st.integers(1, 3))
def test_covering_host_sets_are_the_falling_sets_by_subsets_of_members(families, falling, limit) -> None:
    """The search by hosts that a group of hundreds needing half takes (a failover quorum
    cluster behind ``replicas of``: 1,000 members cost 9 s of MaxSAT after the subsets
    gave up) finds the sets the subsets of members find, and every set of hosts agrees:
    members whose family is empty (they never fall) or holds the empty set (they are
    down already) included."""
    from checker.engines.failure import _Counter, _covering_host_sets, _minimal_sets, _set_product

    families = {m: _minimal_sets(list(family)) for m, family in enumerate(families)}
    nodes = [m for m in families if families[m]]
    got = _covering_host_sets(families, nodes, falling, limit, _Counter(10**9))
    stopping = [frozenset(s) for size in range(limit + 1) for s in itertools.combinations(range(6), size)
                if sum(1 for m in families if any(p <= frozenset(s) for p in families[m])) >= falling]
    minimal = {s for s in stopping if not any(t < s for t in stopping)}
    assert set(got) == minimal and len(got) == len(minimal)
    by_subsets = []
    for subset in itertools.combinations(nodes, falling):
        family = [frozenset()]
        for m in subset:
            family = _set_product(family, families[m], limit, _Counter(10**9))
        by_subsets.extend(family)
    assert set(got) == set(_minimal_sets(by_subsets))


def test_a_large_pool_that_needs_half_is_proved_without_finding_its_smallest_set() -> None:
    """A pool of 400 behind a listener that needs 200: no two hosts stop it. The search
    for small sets asks MaxSAT only about sets of at most k+1 hosts (unbounded, a pool
    of 800 ran for more than five minutes proving that its smallest set has 401 hosts)."""
    n = 400
    targets = ", ".join(f"web-{i}" for i in range(n))
    text = (
        "internet users\ndns www { managed; answer lb }\n"
        f"lb lb {{ managed; address 203.0.113.10; address 10.255.0.1; listen tcp/443 -> {targets} tcp/8080 need {n // 2} }}\n"
        + "".join(f"web web-{i} address 10.0.{i >> 8}.{i & 255} listen tcp/8080\n" for i in range(n))
        + "allow internet -> lb tcp/443\nallow lb -> 10.0.0.0/8 tcp/8080\n"
    )
    topology = _topology(text)
    [result] = _run(no_spof, topology)
    assert result.status is Status.PROVED and result.margin is None
    assert result.message.endswith("(every stopping set has more than 2 hosts)")
    assert minimum_stopping_set(circuit_for(Context(topology)), 30, at_most=2).status is Status.PROVED
