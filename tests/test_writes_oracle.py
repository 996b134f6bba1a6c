"""write-to-primary against brute force through the reference evaluator.

The oracle enumerates every scenario of at most k failed hosts, asks
``Evaluator.writes`` where every write lands, and derives the verdict and, per
writer, the size of the smallest scenario with a bad write. The check must
agree on the verdict and on every size, by enumeration and by Z3 alike, and the
compiled flow must trace exactly the writes the evaluator traces.

Topologies come from a focused strategy (below): named and unnamed clusters
with both failover modes, roles in any order, ``replica of`` chains, clusters
of services, ``quorum`` clusters and consensus groups without roles, shared
hosts, managed members (some in a zone), host lists mixing dbs, clusters and
services, chains of services (with cycles), load balancers in front of dbs,
clusters (plainly, ``primary of``, ``replicas of``) or web servers, jobs that
write, and an open network or a random allow list. The general
``tests.strategies.topologies`` (every version-2 construct) feeds one more test.
"""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.api import check_topology, load_text
from checker.context import Context, Options
from checker.engines import writes as engine
from checker.evaluator import Evaluator
from tests.conftest import examples


@st.composite
def write_topologies(draw) -> str:
    lines: list[str] = ["zone z1", "zone z2"]
    host_zone = {f"h{i}": draw(st.sampled_from(["z1", "z2"])) for i in range(1, 4)}
    counter = [0]

    def placement() -> str:
        counter[0] += 1
        choice = draw(st.integers(0, 6))
        address = f"address 10.0.{counter[0]}.1"
        if choice <= 1:
            host = f"h{choice + 1}"
            return f"host {host} zone {host_zone[host]} {address}"
        if choice == 2:
            return f"managed {address}"
        if choice == 3:
            return f"managed zone {draw(st.sampled_from(['z1', 'z2']))} {address}"
        return f"zone {draw(st.sampled_from(['z1', 'z2']))} {address}"

    dbs: list[str] = []
    clusters: list[str] = []
    with_roles: list[str] = []
    for c in range(draw(st.integers(1, 2))):
        name = f"c{c + 1}"
        clusters.append(name)
        size = draw(st.integers(1, 3))
        members = [f"{name}m{i + 1}" for i in range(size)]
        primary = draw(st.integers(0, size - 1))
        kind, port = draw(st.sampled_from([("db", "tcp/5432"), ("db", "tcp/5432"), ("service", "tcp/6379")]))
        quorum = draw(st.integers(0, 2)) == 0
        consensus = quorum and draw(st.booleans())
        lines.append(f"cluster {name} {{")
        if quorum:
            lines.append("  quorum")
        if not consensus:
            lines.append(f"  failover {draw(st.sampled_from(['auto', 'manual']))}")
            with_roles.append(name)
        for i, member in enumerate(members):
            if consensus:
                role = ""
            elif i == primary:
                role = "primary"
            else:
                earlier = [m for j, m in enumerate(members[:i])]
                role = "replica"
                if earlier and draw(st.booleans()):
                    role = f"replica of {draw(st.sampled_from(earlier))}"
            lines.append(f"  {kind} {member} {{ {placement()} listen {port} {role} }}")
        lines.append("}")
        dbs.extend(members)
    if draw(st.booleans()):
        lines.append(f"db s1 {placement()} listen tcp/5432 primary")
        lines.append(f"db s2 {placement()} listen tcp/5432 replica of s1")
        dbs += ["s1", "s2"]
    services = [f"api{i + 1}" for i in range(draw(st.integers(0, 2)))]
    for s in services:
        lines.append(f"service {s} {placement()} listen tcp/9000")
    webs = [f"web{i + 1}" for i in range(draw(st.integers(1, 2)))]
    for w in webs:
        lines.append(f"web {w} {placement()} listen tcp/8080")
    lbs: list[str] = []
    lb_kind = draw(st.sampled_from([None, "dbs", "webs"]))
    if lb_kind == "dbs":
        roles = [f"{sel} of {c}" for c in with_roles for sel in ("primary", "replicas")
                 if sel == "primary" or len([m for m in dbs if m.startswith(c + "m")]) > 1]
        targets = draw(st.lists(st.sampled_from(dbs + clusters + roles), min_size=1, max_size=2, unique=True))
        lines.append(f"lb lb1 {placement()} listen tcp/5432 -> {', '.join(targets)} tcp/5432")
        lbs.append("lb1")
    elif lb_kind == "webs":
        lines.append(f"gateway lb1 {placement()} listen tcp/8080 -> {', '.join(webs)}")
        lbs.append("lb1")
    writable = dbs + clusters + services + lbs
    jobs = ["j1"] if draw(st.integers(0, 3)) == 0 else []
    for job in jobs:
        lines.append(f"job {job}")
    for w in webs + services + jobs:
        for _ in range(draw(st.integers(0 if w in services else 1, 2))):
            pool = [t for t in writable if t != w]
            targets = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
            lines.append(f"{w} writes {', '.join(targets)}")
    if draw(st.booleans()):
        everything = webs + services + lbs + dbs
        for src in webs + services + lbs + dbs:
            dsts = draw(st.lists(st.sampled_from(everything), max_size=4, unique=True))
            if dsts:
                lines.append(f"allow {src} -> {', '.join(dsts)}")
    return "\n".join(lines) + "\n"


def _load(text: str):
    loaded = load_text(text, "gen.topo")
    assert loaded.topology is not None, (text, [r.message for r in loaded.results])
    return loaded.topology


def _oracle(topology, k: int) -> dict[str, int]:
    """For each writer with a bad write in some scenario of at most k hosts, the
    size of the smallest such scenario."""
    evaluator = Evaluator(topology)
    units = topology.host_units
    out: dict[str, int] = {}
    for size in range(min(k, len(units)) + 1):
        for scenario in combinations(units, size):
            for trace in evaluator.writes(frozenset(scenario)):
                if trace.bad:
                    out.setdefault(trace.writer, size)
    return out


def _checked(topology, k: int) -> dict[str, int]:
    results = [r for r in check_topology(topology, Options(default_k=k), select=["write-to-primary"])]
    assert len(results) == 1, [(r.id, r.message) for r in results]
    result = results[0]
    assert result.status.value in ("proved", "refuted"), result.message
    sizes: dict[str, int] = {}
    for cx in result.counterexamples:
        fields = cx.to_json()
        assert set(fields) == {"failed", "writer", "target", "path", "primary"}
        assert fields["path"][0] == fields["writer"] and fields["path"][-1] == fields["target"]
        assert fields["failed"] == sorted(fields["failed"]) and len(fields["failed"]) <= k
        sizes[fields["writer"]] = min(sizes.get(fields["writer"], k + 1), len(fields["failed"]))
    assert (result.status.value == "refuted") == bool(sizes)
    return sizes


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(write_topologies(), st.integers(1, 2))
def test_verdict_and_smallest_scenario_match_brute_force(text: str, k: int) -> None:
    topology = _load(text)
    assert _checked(topology, k) == _oracle(topology, k), text


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(write_topologies(), st.integers(1, 2))
def test_z3_agrees_with_brute_force(text: str, k: int) -> None:
    topology = _load(text)
    old = engine.ENUMERATION_BUDGET
    engine.ENUMERATION_BUDGET = 0  # every root with a possible bad write goes to Z3
    try:
        results = check_topology(topology, Options(default_k=k), select=["write-to-primary"])
    finally:
        engine.ENUMERATION_BUDGET = old
    (result,) = results
    oracle = _oracle(topology, k)
    if result.status.value == "unknown":  # only a gateway in front of web servers is outside the encoding
        assert "serving" in result.message or "gateway" in result.message, result.message
        return
    sizes: dict[str, int] = {}
    for cx in result.counterexamples:
        fields = cx.to_json()
        sizes[fields["writer"]] = min(sizes.get(fields["writer"], k + 1), len(fields["failed"]))
    if "could not be decided" in result.message:  # some roots passed a gateway in front of web servers
        # The writer's true minimum may come from an undecided root: a decided root's
        # smallest scenario is then at least that minimum, never below it.
        assert all(w in oracle and n >= oracle[w] for w, n in sizes.items()), text
    else:
        assert sizes == oracle, text


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(write_topologies())
def test_writes_depend_only_on_the_relevant_hosts(text: str) -> None:
    """The search's premise: a root's writes land the same way when only the hosts
    :meth:`WriteFlow.relevant` names keep their state and every other host is live;
    and a root that is not dangerous never writes to the wrong server."""
    topology = _load(text)
    context = Context(topology)
    flow = engine.write_flow(context)
    units = topology.host_units
    for root in flow.roots():
        relevant, _ = flow.relevant(root)
        for size in range(min(2, len(units)) + 1):
            for scenario in combinations(units, size):
                failed = frozenset(scenario)
                traces = [(t.path, t.landing, t.primary) for t in flow.trace(root, failed)]
                kept = [(t.path, t.landing, t.primary) for t in flow.trace(root, failed & set(relevant))]
                assert traces == kept, (text, root.describe(), scenario)
                if not flow.dangerous(root):
                    assert not any(t.bad for t in flow.trace(root, failed)), (text, root.describe(), scenario)


def _danger_by_definition(flow, topology) -> set[str]:
    """The components a write may pass from to a member that is not its cluster's
    declared primary, from :meth:`WriteFlow._passes_to` of every component."""
    before: dict[str, list[str]] = {}
    for name in topology.components:
        for nxt in flow._passes_to(name):
            before.setdefault(nxt, []).append(name)
    found = {name for name in topology.components if flow._member_danger(name)}
    stack = list(found)
    while stack:
        for name in before.get(stack.pop(), ()):
            if name not in found:
                found.add(name)
                stack.append(name)
    return found


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(write_topologies())
def test_the_danger_set_is_the_backward_closure_of_every_components_passes(text: str) -> None:
    # (built from the requirements themselves, not by asking each component)
    topology = _load(text)
    flow = engine.write_flow(Context(topology))
    assert flow._danger_set() == _danger_by_definition(flow, topology), text


def test_general_topologies_agree_with_brute_force() -> None:
    strategies = pytest.importorskip("tests.strategies")

    @settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategies.topologies(max_hosts=6), st.integers(1, 2))
    def check(text: str, k: int) -> None:
        loaded = load_text(text, "gen.topo")
        if loaded.topology is None:
            return
        assert _checked(loaded.topology, k) == _oracle(loaded.topology, k), text

    check()
