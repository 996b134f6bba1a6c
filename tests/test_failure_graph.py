"""networkx-style unit tests for the failure engine's graph code: small circuits
built inline, families compared as sets."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st

from checker.api import load_text
from checker.context import Context
from checker.engines.failure import circuit_for, minimal_cut_sets, _minimize, _product
from checker.engines.circuit import Runs
from checker.engines.failure_z3 import _strong_components

HEAD = """dns www { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1, web2 tcp/8080 }
web web1 address 10.0.1.11 listen tcp/8080
web web2 address 10.0.1.12 listen tcp/8080
"""


def _circuit(text: str):
    topology = load_text(text, "t.topo").topology
    assert topology is not None
    return circuit_for(Context(topology))


def _labels(circuit, terms):
    return {frozenset(circuit.hosts[h].label for h in p) for p, _ in terms}


def test_minimize_keeps_only_minimal_terms() -> None:
    a, b = frozenset({1}), frozenset({1, 2})
    e = frozenset()
    assert set(_minimize([(b, e), (a, e), (a, e)])) == {(a, e)}
    assert set(_minimize([(a, frozenset({3})), (a, e)])) == {(a, e)}


def test_product_drops_inconsistent_and_oversized_terms() -> None:
    e = frozenset()
    left = [(frozenset({1}), e), (e, frozenset({2}))]
    right = [(frozenset({2}), e), (frozenset({3, 4}), e)]
    got = set(_product(left, right, 2, [0], 10**6))
    assert got == {(frozenset({1, 2}), e), (frozenset({3, 4}), frozenset({2}))}


def test_pool_of_two_has_one_width_two_cut() -> None:
    circuit = _circuit(HEAD)
    assert _labels(circuit, minimal_cut_sets(circuit, 1)) == set()
    assert _labels(circuit, minimal_cut_sets(circuit, 2)) == {frozenset({"web1", "web2"})}


def test_shared_dependency_is_a_single_cut() -> None:
    circuit = _circuit(HEAD + "db db1 address 10.0.3.10 listen tcp/5432\nweb1, web2 writes db1\n")
    assert circuit.monotone
    assert _labels(circuit, minimal_cut_sets(circuit, 2)) == {frozenset({"db1"}), frozenset({"web1", "web2"})}


def test_cycle_members_are_cuts_and_cycle_serves() -> None:
    circuit = _circuit(HEAD + "service a address 10.0.5.1\nservice b address 10.0.5.2\n"
                       "web1, web2 uses a\na uses b\nb uses a\n")
    assert not circuit.services_down(circuit.baseline[0])  # greatest fixed point
    assert _labels(circuit, minimal_cut_sets(circuit, 1)) == {frozenset({"a"}), frozenset({"b"})}


def test_live_broken_first_alternative_needs_a_live_literal() -> None:
    circuit = _circuit(HEAD + "service api1 address 10.0.2.11\nservice api2 address 10.0.2.12\n"
                       "db db1 address 10.0.3.10\ndb db2 address 10.0.3.11\n"
                       "web1, web2 uses api1, api2\napi1 writes db1\napi2 writes db2\n")
    assert not circuit.monotone
    terms = minimal_cut_sets(circuit, 1)
    by_label = {circuit.hosts[h].label: h for h in range(len(circuit.hosts))}
    assert (frozenset({by_label["db1"]}), frozenset({by_label["api1"]})) in terms
    assert _labels(circuit, terms) == {frozenset({"db1"})}


def test_strong_components_find_the_cycle() -> None:
    circuit = _circuit(HEAD + "service a address 10.0.5.1\nservice b address 10.0.5.2\n"
                       "web1, web2 uses a\na uses b\nb uses a\n")
    comps = _strong_components(circuit.service_cone(), circuit)
    named = {frozenset(circuit.node_keys[n] for n in comp) for comp in comps}
    assert frozenset({"a", "b"}) in named
    assert frozenset({"web1"}) in named


def test_runs_pack_each_row_in_order_and_free_the_lists() -> None:
    rows = [[4, 1], [], [7], []]
    runs = Runs.packed(rows)
    assert len(runs) == 4
    assert [list(runs[i]) for i in range(4)] == [[4, 1], [], [7], []]
    assert rows == [None, None, None, None]
    assert len(Runs.empty()) == 0
    assert [list(run) for run in Runs.packed([[1], [], [2, 3]])] == [[1], [], [2, 3]]


def test_circuit_index_tables_agree_with_the_groups() -> None:
    path = Path(__file__).parent.parent / "models" / "seed" / "05-multi-datacenter.topo"
    circuit = _circuit(path.read_text())
    assert len(circuit.requirement_nodes) > 1 and len(circuit.static_groups) > 1
    assert len(circuit.requirement_alternatives) == len(circuit.requirement_nodes)
    n_nodes = len(circuit.node_keys)
    assert len(circuit.node_static) == len(circuit.node_requirements) == n_nodes
    for n in range(n_nodes):
        assert list(circuit.node_static[n]) == [g for g, group in enumerate(circuit.static_groups)
                                                if group.node == n]
        assert list(circuit.node_requirements[n]) == [
            r for r, node in enumerate(circuit.requirement_nodes) if node == n]
        assert sorted(circuit.static_rev[n]) == sorted(
            g for g, group in enumerate(circuit.static_groups) for m in group.members if m == n)
    for c in range(len(circuit.nodes_of)):
        assert list(circuit.nodes_of[c]) == [n for n, owner in enumerate(circuit.owner) if owner == c]


def test_a_requirement_line_compiles_once_per_class_of_its_sources(monkeypatch) -> None:
    from checker.engines.circuit import ServingCircuit

    compiled: list[tuple[str, str]] = []
    original = ServingCircuit._alternative

    def alternative(self, req, target):
        compiled.append((req.source, target))
        return original(self, req, target)

    monkeypatch.setattr(ServingCircuit, "_alternative", alternative)
    text = HEAD + """web web3 address 10.0.1.13 listen tcp/8080
service api1 address 10.0.2.1 listen tcp/9000
service api2 address 10.0.2.2 listen tcp/9000
dns ext { managed; answer api1 }
web1, web2, web3 uses api1, api2
web1, web2, web3 uses ext
deny web3 -> api1
allow any -> any
"""
    circuit = _circuit(text)
    # web1 and web2 are named by the same rules: the line of api1, api2 is compiled for
    # web1 and web3 (a deny names it) only; the line of a dns name, for each source
    assert sorted(compiled) == sorted([("web1", "api1"), ("web1", "api2"), ("web3", "api1"), ("web3", "api2"),
                                       ("web1", "ext"), ("web2", "ext"), ("web3", "ext")])
    by_source = {}
    for r, node in enumerate(circuit.requirement_nodes):
        by_source.setdefault(circuit.node_keys[node], []).append(circuit.requirement_alternatives[r])
    assert by_source["web1"][0] is by_source["web2"][0]  # one list, shared
    assert [a.target for a in by_source["web1"][0]] == ["api1", "api2"]
    assert [a.target for a in by_source["web3"][0]] == ["api2"]  # web3 cannot reach api1
    assert not circuit._by_class.new and not circuit._class_statements  # (dropped after compiling)


def test_a_long_failover_order_is_cut_at_the_limit() -> None:
    """The terms of a "first live member decides" condition over thousands of members
    stop at the limit: a term needing more failed hosts than any scenario asked about
    has no scenario (a quorum cluster of 4,001 members with failover took 118 s of
    no-spof building them all)."""
    from checker.engines.failure import _CondTerms, _Counter

    members = tuple((c, True) for c in range(4000))
    terms = _CondTerms(list(range(4000)), 2, _Counter(10**9))
    up, down = terms.of(("first", members))
    # member 0 live; 0 dead and 1 live; 0 and 1 dead and 2 live: no fourth term
    assert [(sorted(p), sorted(q)) for p, q in up] == [([], [0]), ([0], [1]), ([0, 1], [2])]
    assert down == []  # every member dead needs 4,000 failures
    small = _CondTerms([0, 1], 2, _Counter(10**9)).of(("first", ((0, True), (1, False))))
    assert [(sorted(p), sorted(q)) for p, q in small[1]] == [([0], [1]), ([0, 1], [])]


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 12), st.data())
def test_at_least_counts_the_dead_from_the_scenario_list_as_from_the_flags(n: int, data) -> None:
    """"At least k of n live" read from the scenario's list of dead components (the
    shorter way for a quorum cluster of thousands) answers as the walk over the flags,
    inside an "and" too and with the list repeating a component."""
    from checker.engines.circuit import cond_holds

    members = tuple(data.draw(st.lists(st.integers(0, 19), min_size=n, max_size=n, unique=True)))
    need = data.draw(st.integers(0, n + 1))
    dead_list = data.draw(st.lists(st.integers(0, 19), max_size=8))
    dead = bytearray(20)
    for c in dead_list:
        dead[c] = 1
    cond = ("atleast", members, need, frozenset(members))
    for whole in (cond, ("and", (("live", members[0]), cond))):
        assert cond_holds(whole, dead, dead_list) == cond_holds(whole, dead)
    live = sum(1 for c in members if not dead[c])
    assert cond_holds(cond, dead, dead_list) == (live >= need)


def test_a_quorum_cluster_of_thousands_is_linear_in_its_members() -> None:
    """A quorum cluster of 2,001 members split over two zones (1,001 in az-1): losing
    az-1 loses the majority, and no single host stops anything. Both checks were the
    square of the members (each member's failure walked them all to count a majority,
    on the circuit and in the reference's replay): 8,001 members took 8 s, now about
    one; here the answers are asserted, the time is the benchmark's."""
    from benchmarks import shapes
    from checker.api import check_text

    report = check_text(shapes.huge_cluster(2_001), "huge.topo", select=["no-spof", "zone-redundancy"])
    by_id = {r.id: r for r in report.results}
    assert by_id["no-spof"].status.value == "proved"
    assert "the smallest stopping set has 2 hosts" in by_id["no-spof"].message
    zone = by_id["zone-redundancy"]
    assert zone.status.value == "refuted"
    (example,) = zone.counterexamples
    assert example.fields["failed"] == ["zone:az-1"] and example.fields["stopped"] == ["www.example.com"]
    assert any("orders lost its majority: 1000 of 2001 members live" in line
               for line in example.fields["explanation"])


def test_maxsat_encodes_a_shared_majority_once_and_answers_as_the_terms() -> None:
    """Every member of a failover quorum cluster behind ``replicas of`` needs the same
    majority: MaxSAT builds its sum once (a copy per member made 200 members cost 6 s of
    encoding), and answers as the term methods do: of 301 members, no single host stops
    a service and the only pair that does is the two web servers; of three members, two
    database hosts stop it too."""
    from benchmarks import shapes
    from checker.engines.failure_z3 import minimum_stopping_set
    from checker.results import Status

    circuit = _circuit(shapes.replica_pool(301))
    assert minimum_stopping_set(circuit, 60, at_most=1).status is Status.PROVED
    outcome = minimum_stopping_set(circuit, 60, at_most=2)
    assert outcome.status is Status.REFUTED
    assert sorted(circuit.hosts[h].label for h in outcome.hosts) == ["web-a", "web-b"]
    small = _circuit(shapes.replica_pool(3))
    pairs = {p for p, _ in minimal_cut_sets(small, 2)}
    assert {frozenset(small.hosts[h].label for h in p) for p in pairs} == {
        frozenset(pair) for pair in (("web-a", "web-b"), ("db-0", "db-1"), ("db-0", "db-2"), ("db-1", "db-2"))}
    outcome = minimum_stopping_set(small, 60, at_most=2)
    assert outcome.status is Status.REFUTED and frozenset(outcome.hosts) in pairs


_SMALL_SETS = st.frozensets(st.integers(0, 7), max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SMALL_SETS, max_size=60))
def test_minimal_sets_are_the_sets_nothing_else_is_inside(family) -> None:
    """Whether a set is compared with the kept ones or looked up by its subsets (once
    the kept ones are more: a web tier needing 10,000 pairs took 7.7 s comparing each
    pair with all the others), the minimal sets are kept, each once, by size and
    members."""
    from checker.engines.failure import _minimal_sets

    got = _minimal_sets(list(family))
    unique = set(family)
    expected = {p for p in unique if not any(k < p for k in unique)}
    assert set(got) == expected and len(got) == len(expected)
    assert got == sorted(got, key=lambda p: (len(p), sorted(p)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_SMALL_SETS, _SMALL_SETS), max_size=60))
def test_minimized_terms_are_the_terms_nothing_else_subsumes(family) -> None:
    """The same for terms (failed hosts, live hosts): a term is dropped when another has
    no more of either."""
    got = _minimize(list(family))
    unique = set(family)
    expected = {t for t in unique if not any(o != t and o[0] <= t[0] and o[1] <= t[1] for o in unique)}
    assert set(got) == expected and len(got) == len(expected)
    assert got == sorted(got, key=lambda t: (len(t[0]), len(t[1]), sorted(t[0]), sorted(t[1])))


def test_a_web_tier_needing_many_pairs_has_each_pair_as_a_smallest_set() -> None:
    """Two web servers that need 400 services of two servers each: the smallest
    stopping sets are the 400 pairs and the two web servers, every one listed, by the
    term method (each web server's family of 401 is minimized by lookups of subsets,
    not by comparing each pair with all, and the two families are paired only where
    they differ: 10,000 services went over the budget to MaxSAT, 18.9 s)."""
    from checker.engines.failure import smallest_stopping_sets
    from benchmarks import shapes

    circuit = _circuit(shapes.wide_needs(400))
    found = smallest_stopping_sets(circuit, 2, 60)
    assert found.status == "found" and found.smallest == 2 and found.method == "graph"
    expected = {frozenset((f"s-{i}-a", f"s-{i}-b")) for i in range(400)} | {frozenset(("web-a", "web-b"))}
    assert {frozenset(u.label for u in s) for s in found.sets} == expected


def _with_shared_from(threshold: int, call):
    """``call()`` with products setting shared sets apart from ``threshold`` pairs."""
    from checker.engines import failure

    kept = failure._SHARED_FROM
    failure._SHARED_FROM = threshold
    try:
        return call()
    finally:
        failure._SHARED_FROM = kept


@settings(max_examples=300, deadline=None)
@given(st.lists(_SMALL_SETS, max_size=14), st.lists(_SMALL_SETS, max_size=14), st.integers(1, 4))
def test_a_product_sets_apart_what_both_families_hold(left, right, limit) -> None:
    """Minimal unions of one set from each family, within the limit, against every
    pair: sets both families hold (paired as they are from 64 pairs on) included."""
    from checker.engines.failure import _Counter, _minimal_sets, _set_product

    shared = [p for p in left[: len(left) // 2]]
    left, right = _minimal_sets(list(left)), _minimal_sets(list(right) + shared)
    got = _with_shared_from(0, lambda: _set_product(left, right, limit, _Counter(10**9)))
    assert got == _set_product(left, right, limit, _Counter(10**9))  # at the threshold in use
    unions = {a | b for a in left for b in right if len(a | b) <= limit}
    expected = {u for u in unions if not any(o < u for o in unions)}
    assert set(got) == expected and len(got) == len(expected)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_SMALL_SETS, _SMALL_SETS), max_size=14),
       st.lists(st.tuples(_SMALL_SETS, _SMALL_SETS), max_size=14), st.integers(1, 4))
def test_a_product_of_terms_sets_apart_what_both_families_hold(left, right, limit) -> None:
    """The same for terms: consistent conjunctions (no host both failed and live)."""
    from checker.engines.failure import _Counter

    consistent = [t for t in left + right if not t[0] & t[1]]
    left = _minimize([t for t in left if not t[0] & t[1]])
    right = _minimize([t for t in right if not t[0] & t[1]] + consistent[: len(consistent) // 2])
    got = _with_shared_from(0, lambda: _product(left, right, limit, _Counter(10**9), 10**9))
    assert got == _product(left, right, limit, _Counter(10**9), 10**9)
    both = {(a[0] | b[0], a[1] | b[1]) for a in left for b in right}
    both = {t for t in both if len(t[0]) <= limit and not t[0] & t[1]}
    expected = {t for t in both if not any(o != t and o[0] <= t[0] and o[1] <= t[1] for o in both)}
    assert set(got) == expected and len(got) == len(expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(_SMALL_SETS, _SMALL_SETS), max_size=40), max_size=12))
def test_merged_families_are_the_minimal_terms_of_them_all(families) -> None:
    """The services' families merged, minimized now and then rather than after each one
    (a thousand jobs behind two gateways were the square of the jobs): the minimal
    terms of their union, for terms and for plain sets."""
    from checker.engines.failure import _merged, _minimal_sets

    families = [_minimize(f) for f in families]
    assert _merged(iter(families), _minimize) == _minimize([t for f in families for t in f])
    sets = [_minimal_sets([p for p, _ in f]) for f in families]
    assert _merged(iter(sets), _minimal_sets) == _minimal_sets([p for f in sets for p in f])


def test_jobs_behind_two_gateways_are_all_stopped_by_the_pair() -> None:
    """600 jobs, each with a service in each zone reaching a provider through the
    zone's one gateway: the pair of gateways is the smallest stopping set, and it
    stops every job (the term method merging 600 services' families)."""
    from benchmarks import shapes
    from checker.api import check_text

    report = check_text(shapes.shared_egress(600) + "check no-spof k=2\n", "egress.topo", select=["no-spof"])
    (result,) = [r for r in report.results if r.id == "no-spof"]
    assert result.status.value == "refuted"
    (example,) = result.counterexamples
    assert example.fields["failed"] == ["nat-1", "nat-2"]
    assert sorted(example.fields["stopped"]) == sorted(f"j-{i}" for i in range(600))
