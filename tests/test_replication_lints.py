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
