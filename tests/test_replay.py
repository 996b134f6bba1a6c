"""The replay evaluator's incremental serving is the reference evaluator's serving.

:class:`checker.engines.failure_replay.ReplayEvaluator` computes each scenario from
the one with nothing failed, re-evaluating only the nodes a failure can reach;
on random topologies (``tests/strategies.py``) and random sets of failed hosts,
zones and regions, every node's value and every stopped service must equal the
plain reference's, and the explanations with them.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.api import load_text
from checker.context import Context, Options
from checker.engines.failure_replay import replay_evaluator
from checker.evaluator import Evaluator

from .conftest import examples
from .strategies import topologies


@settings(max_examples=examples(150), deadline=None)
@given(text=topologies(with_policy=None), data=st.data())
def test_incremental_serving_is_the_reference(text: str, data) -> None:
    topology = load_text(text, "gen.topo").topology
    assert topology is not None
    context = Context(topology, Options(timeout=30))
    replay = replay_evaluator(context)
    replay._FEW_DEAD = data.draw(st.sampled_from([0, 64]))  # 0: a choice never asks what it reads
    reference = Evaluator(topology, context.policy)
    units = sorted({*topology.host_units, *topology.zone_units, *topology.region_units})
    scenarios = [frozenset()] + [frozenset(data.draw(st.lists(st.sampled_from(units), max_size=3)))
                                 for _ in range(4)] if units else [frozenset()]
    for failed in scenarios:
        assert replay.serving(failed) == reference.serving(failed), (sorted(u.label for u in failed), text)
        assert replay.stopped(failed) == reference.stopped(failed)
        for service in replay.stopped(failed):
            assert replay.explain(service, failed) == reference.explain(service, failed)


@settings(max_examples=examples(150), deadline=None)
@given(text=topologies(with_policy=None), data=st.data())
def test_a_cone_alone_has_the_whole_fixed_points_values(text: str, data) -> None:
    """Evaluating only the nodes some services depend on (``Evaluator.cone``) gives
    them their values in the whole greatest fixed point; the equations read nothing
    outside the cone (the partial map would raise), in the reference and in the
    replay evaluator (scenario first evaluated alone, then from the baseline)."""
    topology = load_text(text, "gen.topo").topology
    assert topology is not None
    context = Context(topology, Options(timeout=30))
    reference = Evaluator(topology, context.policy)
    replay = replay_evaluator(context)
    replay._DIRECT_SHARE = data.draw(st.sampled_from([0, 2]))  # 0: every part from the baseline
    units = sorted({*topology.host_units, *topology.zone_units, *topology.region_units})
    services = sorted(topology.services)
    scenarios = [frozenset()] + [frozenset(data.draw(st.lists(st.sampled_from(units), max_size=3)))
                                 for _ in range(3)] if units else [frozenset()]
    for failed in scenarios:
        whole = reference.serving(failed)
        down = reference.stopped(failed)
        among = data.draw(st.lists(st.sampled_from(services), max_size=3, unique=True)) if services else []
        cone = reference.cone(among)
        assert all(read in cone for node in cone for read in reference._node_reads(node))
        assert reference.serving(failed, cone) == {node: whole[node] for node in cone}
        # the replay's map holds only what the failure reaches, the rest read from the
        # baseline: looked up, got and tested for, it is the whole map on the cone
        values = replay.serving(failed, cone)
        assert all(values[node] == values.get(node) == whole[node] and node in values for node in cone)
        expected = [name for name in down if name in among]
        assert reference.stopped(failed, among) == expected
        assert replay.stopped(failed, among) == expected
        for service in expected:
            assert replay.explain(service, failed) == reference.explain(service, failed)
        assert replay.stopped(failed) == down  # the whole map after a part of it


def test_a_failure_reevaluates_only_what_it_reaches() -> None:
    text = "\n".join(
        ["internet users"]
        + [f"dns www{i} {{ managed  answer web{i} }}" for i in range(30)]
        + [f"web web{i} address 203.0.113.{i + 1} listen tcp/443" for i in range(30)]
        + [""])
    topology = load_text(text, "t.topo").topology
    replay = replay_evaluator(Context(topology, Options(timeout=30)))
    replay.serving(frozenset())
    calls = []
    original = replay._node_value

    def counting(node, failed, value):  # noqa: ANN001, ANN202
        calls.append(node)
        return original(node, failed, value)

    replay._node_value = counting
    [unit] = [u for u in topology.host_units if u.name == "web7"]
    assert replay.stopped((unit,)) == ["www7"]
    assert sorted(set(calls)) == ["web7", "www7"]
