"""The replication lints on generated topologies: one proved result when a lint
finds nothing, otherwise refuted results pointing at the offending
declaration, and findings that agree with a direct reading of the model."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.api import check_topology, load_text
from checker.model import Role

from .conftest import examples
from .test_writes_oracle import write_topologies

LINTS = ("replication-source", "replication-cycle", "replication-blocked", "failover-single-member", "replicas-colocated")


@st.composite
def with_cycles(draw) -> str:
    """A generated topology, sometimes with a replication cycle added."""
    text = draw(write_topologies())
    if draw(st.booleans()):
        text += "cluster loop {\n  db l1 { primary }\n  db l2 { replica of l3 }\n  db l3 { replica of l2 }\n}\n"
    return text


@settings(max_examples=examples(60), deadline=None)
@given(with_cycles())
def test_lints_agree_with_the_model(text: str) -> None:
    topology = load_text(text, "gen.topo").topology
    assert topology is not None
    results = check_topology(topology, select=LINTS)
    for lint in LINTS:
        mine = [r for r in results if r.id == lint]
        assert mine, lint
        if any(r.status.value == "proved" for r in mine):
            assert len(mine) == 1 and mine[0].span is None
        else:
            assert all(r.status.value == "refuted" and r.span is not None for r in mine)
    by_id = {lint: [r for r in results if r.id == lint and r.status.value == "refuted"] for lint in LINTS}
    # replication-blocked: exactly the replicas the policy keeps from their source
    policy_blocked = set()
    for comp in topology.components.values():
        if comp.role is not Role.REPLICA:
            continue
        source = comp.replica_of
        if source is None and comp.cluster is not None:
            source = topology.clusters[comp.cluster].primary
        if source and not check_policy(topology, comp.name, source):
            policy_blocked.add(comp.name)
    assert {r.counterexamples[0].fields["replica"] for r in by_id["replication-blocked"]} == policy_blocked
    # replication-cycle: the added loop is found iff it was added
    cycles = [r.counterexamples[0].fields["cycle"] for r in by_id["replication-cycle"]]
    assert (["l2", "l3", "l2"] in cycles) == ("cluster loop" in text)
    # failover-single-member: auto clusters of one member
    single = {c.name for c in topology.clusters.values() if c.failover.value == "auto" and len(c.members) == 1}
    assert {r.counterexamples[0].fields["cluster"] for r in by_id["failover-single-member"]} == single


def check_policy(topology, source: str, destination: str) -> bool:
    from checker.policy import Policy

    return bool(Policy(topology).connect(source, destination, topology.components[destination].service_ports))


@st.composite
def replication_graphs(draw) -> str:
    """Servers that copy from each other at random: cascades, cycles, chains that run
    into a cycle or into a server that is neither primary nor replica, and a cluster
    whose replicas copy from its primary or from each other, all often."""
    size = draw(st.integers(1, 10))
    names = [f"s{i}" for i in range(size)]
    lines = []
    for i, name in enumerate(names):
        role = draw(st.sampled_from(["primary", "none", "of", "of", "of"]))
        others = [other for other in names if other != name]
        if role == "of" and others:
            lines.append(f"db {name} replica of {draw(st.sampled_from(others))}")
        else:
            lines.append(f"db {name}" + (" primary" if role == "primary" else ""))
    members = [f"m{i}" for i in range(draw(st.integers(0, 6)))]
    if members:
        lines.append("cluster c {")
        lines.append(f"  db {members[0]} primary")
        for name in members[1:]:
            others = [other for other in members if other != name]
            lines.append(f"  db {name} " + draw(st.sampled_from(["replica", *(f"replica of {o}" for o in others)])))
        lines.append("}")
    return "\n".join(lines) + "\n"


@settings(max_examples=examples(300), deadline=None)
@given(replication_graphs(), st.integers(2, 6))
def test_settled_chains_agree_with_walking_each_chain(text: str, limit: int) -> None:
    """``Replication.ends``, ``cycles`` and ``shown_chain`` (each chain walked once) give
    what walking every replica's chain hop by hop gives (:meth:`Replication.chain`)."""
    from checker.engines.writes_replication import Replication

    loaded = load_text(text, "r.topo")
    assert loaded.results == ()
    graph = Replication(loaded.topology)
    chains = {replica: graph.chain(replica) for replica in graph.replicas}
    assert graph.ends() == {replica: chain.end for replica, chain in chains.items()}
    order = list(loaded.topology.components)
    loops = set()
    for chain in chains.values():
        if chain.end == "cycle":
            loop = chain.hops[chain.hops.index(chain.hops[-1]):-1]
            first = min(loop, key=order.index)
            loops.add(loop[loop.index(first):] + loop[:loop.index(first)])
    assert graph.cycles() == sorted(loops, key=lambda loop: order.index(loop[0]))
    for replica, chain in chains.items():
        if chain.end == "cycle":
            continue
        hops, elided = graph.shown_chain(replica, limit)
        if len(chain.hops) <= limit:
            assert (hops, elided) == (chain.hops, 0)
        else:
            assert hops == chain.hops[:limit - 1] + chain.hops[-1:]
            assert elided == len(chain.hops) - limit


def test_a_long_cascade_is_reported_replica_by_replica_in_bounded_words() -> None:
    """A cascade of 3,000 replicas below a server that is no primary: each replica is
    reported, its chain shown up to 24 hops and where it stops (the hops between
    counted), so the report grows with the cascade, not with its square."""
    n = 3000
    text = "db old\ndb d0 replica of old\n" + "".join(f"db d{i} replica of d{i - 1}\n" for i in range(1, n))
    results = check_topology(load_text(text, "c.topo").topology, select=["replication-source"])
    assert len(results) == n and all(r.status.value == "refuted" for r in results)
    last = results[-1]
    shown = [f"d{i}" for i in range(n - 1, n - 24, -1)]
    assert last.message == (f"replica 'd{n - 1}' copies from 'old' ({' -> '.join(shown)} -> ... ({n - 23:,} more) "
                            "-> old), which is neither a primary nor a replica of one: its chain never reaches a primary")
    assert last.counterexamples[0].fields == {"replica": f"d{n - 1}", "chain": shown + ["old"], "elided": n - 23}
    assert [hop.label for hop in last.counterexamples[0].flow] == shown + ["old"]
    assert max(len(r.message) for r in results) < 400
