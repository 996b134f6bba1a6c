"""The ``availability`` check: hand-computed cases, an enumeration oracle, bounds, output.

Every probability here is an exact :class:`~fractions.Fraction`. The oracle enumerates
every assignment of up/down to every unit of small generated topologies and sums the
probabilities of those in which the reference evaluator has every service up; the check's
exact value must equal it, and what it prints must be that value's digits.

The CI profile runs a few dozen generated files; for a campaign::

    HYPOTHESIS_PROFILE=long python -m pytest -q tests/test_availability.py
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import textwrap
import time
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from checker.api import check_text, load_text
from checker.checks import availability as check
from checker.context import Context, Options
from checker.engines import availability as engine
from checker.engines.failure import circuit_for
from checker.evaluator import Evaluator
from checker.model import CheckRequest, FailureUnit
from checker.nines import given_percent, json_availability, percent
from checker.results import Status

from .strategies import topologies

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
EXAMPLES = 1000 if LONG else 40

P = Fraction(999, 1000)  # the default host rate
Z = Fraction(9999, 10000)  # zone
R = Fraction(99999, 100000)  # region


def _topology(text: str):
    loaded = load_text(text, "m.topo")
    assert loaded.topology is not None, [r.message for r in loaded.results]
    return loaded.topology


def _outcome(text: str, rates: engine.Rates = engine.Rates()) -> engine.Outcome:
    topology = _topology(text)
    circuit = circuit_for(Context(topology))
    units = list(circuit.regions) + list(circuit.zones) + list(circuit.hosts)
    availability = engine.unit_availability(topology, units, rates)
    far = time.monotonic() + 600
    return engine.compute(circuit, availability, circuit.monotone, far, far)


def _result(text: str):
    report = check_text(text, "m.topo", select=["availability"])
    [result] = [r for r in report.results if r.id == "availability"]
    return result


FRONT = """\
dns www { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> %s tcp/8080%s }
"""


def _web(name: str, extra: str = "") -> str:
    return f"web {name} {{ address 10.0.1.{ord(name[-1])}; listen tcp/8080{extra} }}\n"


# -- hand-computed cases ------------------------------------------------------------------------


def test_series() -> None:
    """One web in front of one database: every unit must be up."""
    text = FRONT % ("web1", "") + _web("web1", "; availability 99") + \
        "db db1 { address 10.0.3.10; listen tcp/5432; availability 98 }\nweb1 writes db1\n"
    outcome = _outcome(text)
    assert outcome.exact
    assert outcome.lower == R * Z * Fraction(99, 100) * Fraction(98, 100)
    assert outcome.services == {"www": outcome.lower}


def test_parallel() -> None:
    """Two webs behind the load balancer: one of them suffices."""
    text = FRONT % ("web1, web2", "") + _web("web1", "; availability 99") + _web("web2", "; availability 99")
    assert _outcome(text).lower == R * Z * (1 - Fraction(1, 100) ** 2)


def test_k_of_n_through_need() -> None:
    """``need 2`` of three webs: at least two of three up."""
    text = FRONT % ("web1, web2, web3", " need 2") + "".join(_web(w) for w in ("web1", "web2", "web3"))
    q = 1 - P
    assert _outcome(text).lower == R * Z * (P ** 3 + 3 * P ** 2 * q)


def test_shared_zone_breaks_independence() -> None:
    """Two replicas in one zone: the zone is a common cause. The textbook product for
    two independent replicas (each up with the zone, the region and its host)
    overstates the exact value, which conditions on the zone once."""
    text = "zone az-a region seoul\n" + FRONT % ("web1, web2", "") + \
        _web("web1", "; zone az-a") + _web("web2", "; zone az-a")
    exact = R * Z * (1 - (1 - P) ** 2)
    textbook = 1 - (1 - R * Z * P) ** 2
    outcome = _outcome(text)
    assert outcome.lower == exact
    assert textbook > exact  # the product formula is wrong here, and wrong toward the user's wish
    # the zone is among the costliest scenarios, with the probability of the zone alone
    [zone] = [s for s in outcome.scenarios if s.units == (FailureUnit("zone", "az-a"),)]
    assert zone.probability == 1 - Z


def test_two_zones_two_regions() -> None:
    """Replicas in zones of different regions: both halves must fail."""
    text = "zone az-a region r1\nzone az-b region r2\n" + FRONT % ("web1, web2", "") + \
        _web("web1", "; zone az-a") + _web("web2", "; zone az-b")
    side = R * Z * P
    assert _outcome(text).lower == 1 - (1 - side) ** 2


CLUSTER = """\
dns www { managed; answer web1 }
web web1 { managed; address 203.0.113.5; listen tcp/443 }
cluster orders {
  failover %s
  db db1 { address 10.0.3.10; listen tcp/5432; primary }
  db db2 { address 10.0.3.11; listen tcp/5432; replica }
}
web1 writes orders
"""


def test_failover_auto_and_manual() -> None:
    """Writes to a cluster: with ``failover auto`` either member will do; with
    ``manual`` only the declared primary."""
    auto = _outcome(CLUSTER % "auto").lower
    manual = _outcome(CLUSTER % "manual").lower
    assert auto == R * Z * (1 - (1 - P) ** 2)
    assert manual == R * Z * P
    assert auto - manual == R * Z * P * (1 - P)


def test_quorum() -> None:
    """A quorum cluster of three serves while two of three members are live."""
    text = """\
dns www { managed; answer web1 }
web web1 { managed; address 203.0.113.5; listen tcp/443 }
cluster coordination { quorum; service etcd1 { listen tcp/2379 }; service etcd2 { listen tcp/2379 }; service etcd3 { listen tcp/2379 } }
web1 uses coordination
"""
    q = 1 - P
    assert _outcome(text).lower == R * Z * (P ** 3 + 3 * P ** 2 * q)


def test_ordered_alternatives_are_not_monotone() -> None:
    """``uses api1, api2``: a live api1 that cannot serve (its cache is down) still takes
    the request, so failing api1 as well restores the service. The exact value counts
    exactly the scenarios in which the first available alternative serves."""
    text = """\
dns www { managed; answer web1 }
web web1 { managed; address 203.0.113.5; listen tcp/443 }
service api1 address 10.0.0.1
service api2 address 10.0.0.2
service cache1 address 10.0.0.3
web1 uses api1, api2
api1 uses cache1
"""
    outcome = _outcome(text)
    q = 1 - P
    # up: api1 and cache1 up, or api1 down and api2 up (units in zone and region too)
    assert outcome.lower == R * Z * (P * P + q * P)
    names = [[u.label for u in s.units] for s in outcome.scenarios]
    assert names == [["cache1"], ["zone:(unzoned)"], ["region:(unregioned)"], ["api1", "api2"]]
    [cache] = [s for s in outcome.scenarios if [u.label for u in s.units] == ["cache1"]]
    # with cache1 down the service is down while api1 is live (it takes the request and
    # cannot serve), or api1 and api2 are both down, or the zone or region is
    assert cache.all_down == q
    assert cache.probability == q * (R * Z * (P + q * q) + (1 - R * Z))


def test_unit_availability_comes_from_attributes_then_rates() -> None:
    text = """\
zone az-a region seoul availability 99.95
zone az-b region busan
region busan availability 99.9
dns www { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1, web2 tcp/8080 }
web web1 { zone az-a; host h1; address 10.0.1.1; listen tcp/8080 }
service side1 { host h1; address 10.0.1.2; availability 99.5 }
web web2 { zone az-b; address 10.0.2.1; listen tcp/8080 }
"""
    topology = _topology(text)
    circuit = circuit_for(Context(topology))
    units = list(circuit.regions) + list(circuit.zones) + list(circuit.hosts)
    rates = engine.Rates(Fraction(99, 100), Fraction(999, 1000), Fraction(9999, 10000))
    got = {u.label: p for u, p in engine.unit_availability(topology, units, rates).items()}
    assert got == {
        "region:seoul": Fraction(9999, 10000),  # the region rate given
        "region:busan": Fraction(999, 1000),  # its statement
        "zone:az-a": Fraction(9995, 10000),  # its clause
        "zone:az-b": Fraction(999, 1000),  # the zone rate given
        "host:h1": Fraction(995, 1000),  # through side1, which runs on h1
        "web2": Fraction(99, 100),  # the host rate given
    }
    a = Fraction(9999, 10000) * Fraction(9995, 10000) * Fraction(995, 1000)
    b = Fraction(999, 1000) * Fraction(999, 1000) * Fraction(99, 100)
    assert _outcome(text, rates).lower == 1 - (1 - a) * (1 - b)


def test_nothing_can_fail() -> None:
    text = "dns www { managed; answer web1 }\nweb web1 { managed; address 203.0.113.5; listen tcp/443 }\n" \
        "check availability target=99.999\n"
    result = _result(text)
    assert result.status is Status.PROVED
    assert result.message == "availability 100% meets the target 99.999%"
    assert result.extra["availability"] == 1.0 and result.extra["unavailability"] == 0.0
    assert result.extra["scenarios"] == []


def test_already_down_costs_everything() -> None:
    text = "dns www { managed; answer web1 }\nweb web1 { address 203.0.113.5; listen tcp/443 }\n" \
        "db db1 address 10.0.0.5\nweb1 writes db1\nallow internet -> web1 tcp/443\n" \
        "check availability target=99\n"
    result = _result(text)
    assert result.status is Status.REFUTED
    assert result.message == ("availability 0% is below the target 99%; the costliest scenario is nothing failed "
                              "(1 of the time, 100% of the unavailability)")
    [scenario] = result.extra["scenarios"]
    assert scenario == {"failed": [], "stopped": ["www"], "probability": 1.0, "share": 1.0}


# -- the check's result ---------------------------------------------------------------------------

def _documented_example() -> str:
    """The failing example of the check's documentation, as a file."""
    doc = check.__doc__
    block = doc[doc.index("**A failing example.**"):doc.index("refuted:")]
    return textwrap.dedent(block.split("\n", 2)[2]).strip() + "\n"


EXAMPLE = _documented_example()


def test_refuted_example_from_the_documentation() -> None:
    result = _result(EXAMPLE)
    exact = R * Z * P * (1 - (1 - P) ** 2)
    assert result.status is Status.REFUTED
    assert result.method == "bdd"
    assert result.message == ("availability 99.8889% is below the target 99.95%; the costliest scenario is 'db1' "
                              "(0.001 of the time, 90.02% of the unavailability)")
    assert percent(exact) == "99.8889%"
    assert (result.span.line, result.span.column) == (7, 1)
    extra = result.extra
    assert extra["availability"] == float(exact) and extra["target"] == 0.9995
    assert extra["unavailability"] == float(1 - exact)
    assert extra["exact"] is True and extra["bounds"] is None
    assert extra["services"] == [{"service": "www", "availability": float(exact)}]
    assert extra["rates"] == {"host": 0.999, "zone": 0.9999, "region": 0.99999}
    assert "independently" in extra["assumption"]
    assert [s["failed"] for s in extra["scenarios"]] == [["db1"], ["zone:(unzoned)"], ["region:(unregioned)"],
                                                          ["web1", "web2"]]
    assert [s["probability"] for s in extra["scenarios"]] == [0.001, 0.0001, 0.00001, 0.000001]
    assert extra["scenarios"][0]["share"] == float(Fraction(1, 1000) / (1 - exact))
    # refuted: the scenarios are the counterexamples too, replayed with their explanations
    first = result.counterexamples[0].fields
    assert first["failed"] == ["db1"] and first["stopped"] == ["www"]
    assert first["explanation"][0] == ("failing db1 stops www: www -> lb1 -> web1: web1 writes db1 (line 6): "
                                       "db1 is down (failed: db1)")


def test_proved_keeps_its_figures_and_no_counterexamples() -> None:
    result = _result(EXAMPLE.replace("target=99.95", "target=99.8 host=99.99"))
    exact = R * Z * Fraction(9999, 10000) * (1 - Fraction(1, 10000) ** 2)
    assert result.status is Status.PROVED
    assert result.message == f"availability {percent(exact)} meets the target 99.8%"
    assert percent(exact) == "99.97900%"
    assert result.counterexamples == ()
    assert result.extra["scenarios"][0]["failed"] == ["zone:(unzoned)"]  # the zone now costs the most
    assert result.extra["params"] == {"target": "99.8", "host": "99.99"}


def test_target_is_required_and_validated() -> None:
    def errors(text: str) -> list[tuple]:
        report = check_text(text, "m.topo")
        return [(r.id, r.span.line, r.span.column, r.message) for r in report.results]

    assert errors(EXAMPLE.replace("target=99.95", "host=99.9")) == [
        ("invalid-attribute", 7, 1, "check 'availability' needs target=")]
    assert errors(EXAMPLE.replace("target=99.95", "target=100")) == [
        ("invalid-attribute", 7, 27, "check 'availability' target=100: 100 is not a percentage strictly between "
                                     "0 and 100")]
    assert errors(EXAMPLE.replace("target=99.95", "target=99.95 zone=x")) == [
        ("invalid-attribute", 7, 38, "check 'availability' zone=x: 'x' is not a number")]


def test_not_in_the_default_set() -> None:
    report = check_text(EXAMPLE.replace("check availability target=99.95\n", ""), "m.topo")
    assert "availability" not in {r.id for r in report.results}


def test_equal_to_the_target_is_proved_and_printed_as_the_target() -> None:
    """One host at exactly the target, its zone and region never failing (rates of
    100 % are not allowed, so the zone and region are managed away: the web is its
    own host, in no zone... it still has the implicit zone). Instead: set the rates so
    that the product is the target exactly."""
    text = ("dns www { managed; answer web1 }\nweb web1 { address 203.0.113.5; listen tcp/443; availability 99.9 }\n"
            "check availability target=99.8001 zone=99.99 region=99.99\n")
    exact = Fraction(999, 1000) * Fraction(9999, 10000) ** 2
    result = _result(text)
    assert result.message.startswith(f"availability {percent(exact, Fraction(998001, 1000000))}")
    assert result.status is (Status.PROVED if exact >= Fraction(998001, 1000000) else Status.REFUTED)
    # exactly on the target: proved, and the printed value is not below it
    on = ("dns www { managed; answer web1 }\nweb web1 { address 203.0.113.5; listen tcp/443; availability 99.98 }\n"
          "check availability target=99.97 zone=99.99 region=99.99999999\n")
    value = Fraction(9998, 10000) * Fraction(9999, 10000) * Fraction(9999999999, 10000000000)
    result = _result(on)
    assert result.status is (Status.PROVED if value >= Fraction(9997, 10000) else Status.REFUTED)


def test_percent_never_crosses_the_target() -> None:
    target = Fraction(999500001, 10 ** 9)
    just_above = Fraction(999500002, 10 ** 9)
    just_below = Fraction(9995000009, 10 ** 10)
    assert percent(just_above, target) == "99.9500002%"
    assert percent(just_below, target) == "99.95000%"  # rounded down: it stays below
    assert percent(just_above) == "99.95000%"  # without the target: four digits of 0.04999..., rounded down
    assert percent(Fraction(1, 2)) == "50.000%"
    assert percent(Fraction(2, 3), up=True) == "66.667%" and percent(Fraction(2, 3)) == "66.666%"
    assert given_percent(Fraction(9995, 10000)) == "99.95%" and given_percent(Fraction(99, 100)) == "99%"
    # JSON numbers: on the target's side of its float
    assert json_availability(target, target) == float(target)
    below = json_availability(target - Fraction(1, 10 ** 30), target)
    assert below < float(target) and float(target) - below < 1e-15


# -- the oracle: every assignment of up/down to every unit -----------------------------------------


def _enumerate(topology, availability: dict[FailureUnit, Fraction]):
    """(P(every service up), P(each service up), the stopping sets) by brute force."""
    units = list(topology.region_units) + list(topology.zone_units) + list(topology.host_units)
    evaluator = Evaluator(topology)
    total = Fraction(0)
    per_service = {s: Fraction(0) for s in topology.services}
    stopping: dict[frozenset, Fraction] = {}
    for bits in itertools.product((False, True), repeat=len(units)):
        failed = frozenset(u for u, down in zip(units, bits) if down)
        weight = Fraction(1)
        for u, down in zip(units, bits):
            weight *= (1 - availability[u]) if down else availability[u]
        up = evaluator.services_up(failed)
        if all(up.values()):
            total += weight
        else:
            stopping[failed] = weight
        for s, ok in up.items():
            if ok:
                per_service[s] += weight
    return total, per_service, stopping


def _availability_draw(rng: random.Random, units) -> dict[FailureUnit, Fraction]:
    """Distinct, awkward per-unit availabilities (some equal, to exercise ties)."""
    choices = [Fraction(999, 1000), Fraction(99, 100), Fraction(9, 10), Fraction(1, 2), Fraction(97, 100),
               Fraction(2, 3), Fraction(9999, 10000)]
    return {u: rng.choice(choices) for u in units}


@settings(max_examples=EXAMPLES, deadline=None)
@given(topologies(max_hosts=3))
def test_exact_value_equals_enumeration(text: str) -> None:
    topology = _topology(text)
    units = list(topology.region_units) + list(topology.zone_units) + list(topology.host_units)
    availability = _availability_draw(random.Random(text), units)
    total, per_service, stopping = _enumerate(topology, availability)
    circuit = circuit_for(Context(topology))
    far = time.monotonic() + 600
    outcome = engine.compute(circuit, availability, circuit.monotone, far, far, scenarios=4)
    assert outcome.exact and outcome.lower == outcome.upper == total
    assert outcome.services == per_service
    # the scenarios: minimal stopping sets, the most probable ones first, each with its joint probability
    minimal = [f for f in stopping if not any(g < f for g in stopping)]

    def all_down(f) -> Fraction:
        return math.prod((1 - availability[u] for u in f), start=Fraction(1))

    weights = sorted((all_down(f) for f in minimal), reverse=True)
    reported = [frozenset(s.units) for s in outcome.scenarios]
    assert len(reported) == min(4, len(minimal))
    assert all(f in minimal for f in reported)
    assert [s.all_down for s in outcome.scenarios] == weights[:len(reported)]
    for s, f in zip(outcome.scenarios, reported):
        assert s.all_down == all_down(f)
        assert s.probability == sum((w for g, w in stopping.items() if f <= g), Fraction(0))


@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(topologies(max_hosts=3))
def test_printed_value_is_the_oracles(text: str) -> None:
    """Through the check, with its default rates: the digits printed and the JSON
    number are those of the enumerated probability, on the right side of the target."""
    topology = _topology(text)
    units = list(topology.region_units) + list(topology.zone_units) + list(topology.host_units)
    availability = engine.unit_availability(topology, units, engine.Rates())
    total, _, _ = _enumerate(topology, availability)
    target = Fraction(9995, 10000)
    request = CheckRequest("availability", (("target", "99.95"),), None)
    [result] = check.run(topology, request, Context(topology, Options(timeout=60)))
    assert result.status is (Status.PROVED if total >= target else Status.REFUTED)
    shown = percent(total, target)
    verb = "meets" if total >= target else "is below"
    assert result.message.startswith(f"availability {shown} {verb} the target 99.95%")
    assert result.extra["availability"] == json_availability(total, target)
    digits = Fraction(shown.rstrip("%")) / 100
    assert digits <= total and (digits >= target) == (total >= target)


@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(topologies(max_hosts=4))
def test_both_backends_agree(text: str) -> None:
    """CUDD and the pure-Python diagrams give the same exact results, scenarios included."""
    pytest.importorskip("dd.cudd")
    topology = _topology(text)
    circuit = circuit_for(Context(topology))
    units = list(circuit.regions) + list(circuit.zones) + list(circuit.hosts)
    availability = _availability_draw(random.Random(text), units)
    far = time.monotonic() + 600
    outcomes = [engine.compute(circuit, availability, circuit.monotone, far, far, backend=b)
                for b in ("cudd", "autoref")]
    assert [o.backend for o in outcomes] == ["cudd", "autoref"]
    cudd, autoref = outcomes
    assert (cudd.lower, cudd.upper, cudd.services) == (autoref.lower, autoref.upper, autoref.services)
    assert cudd.scenarios == autoref.scenarios


# -- bounds when the exact value is out of time ------------------------------------------------------


def test_out_of_time_is_never_proved() -> None:
    topology = _topology(EXAMPLE.replace("target=99.95", "target=1"))
    circuit = circuit_for(Context(topology))
    units = list(circuit.regions) + list(circuit.zones) + list(circuit.hosts)
    availability = engine.unit_availability(topology, units, engine.Rates())
    past = time.monotonic() - 1
    outcome = engine.compute(circuit, availability, circuit.monotone, past, past)
    assert not outcome.exact and (outcome.lower, outcome.upper) == (0, 1)
    assert outcome.reason == "the exact computation did not finish in the time left"


def _bounded(monkeypatch, text: str):
    def slow(self, groups, fixed=None):
        raise engine.OutOfTime()

    monkeypatch.setattr(engine.AvailabilityModel, "all_up", slow)
    return _result(text)


TWO_SERVICES = """\
dns www { managed; answer web1 }
dns api { managed; answer web2 }
web web1 { address 203.0.113.5; listen tcp/443 }
web web2 { address 203.0.113.6; listen tcp/443 }
check availability target=%s
"""


def test_bounds_decide_when_they_can(monkeypatch) -> None:
    """Two services on two hosts: when the exact combination is out of time, the
    groups' own probabilities bound it (union bound below, the smaller above; Harris-FKG
    below on this monotone structure)."""
    p = R * Z * P  # each service alone; the exact value shares the zone and region
    exact = R * Z * P * P
    lower = max(1 - 2 * (1 - p), p * p)
    assert lower <= exact <= p
    refuted = _bounded(monkeypatch, TWO_SERVICES % "99.9")  # above p: the upper bound refutes
    assert refuted.status is Status.REFUTED and refuted.method == "bdd-bounds"
    assert refuted.extra["exact"] is False
    assert refuted.extra["bounds"] == {"lower": float(lower), "upper": float(p)}
    assert refuted.message.startswith(f"availability between {percent(lower, Fraction(999, 1000))} and "
                                      f"{percent(p, Fraction(999, 1000), up=True)} (the exact computation did "
                                      "not finish in the time left) is below the target 99.9%")
    proved = _bounded(monkeypatch, TWO_SERVICES % "99.7")  # below the lower bound
    assert proved.status is Status.PROVED
    undecided = _bounded(monkeypatch, TWO_SERVICES % "99.79")  # between the bounds
    assert float(lower) < 0.9979 < float(p)
    assert undecided.status is Status.UNKNOWN
    assert undecided.message.startswith("could not decide whether the target 99.79% is met: availability between")


def test_no_time_gives_unknown_never_proved() -> None:
    """A file that is proved with time to spare is ``unknown`` without it: the bounds
    of nothing computed are 0 and 1."""
    topology = _topology(EXAMPLE.replace("target=99.95", "target=90"))
    request = CheckRequest("availability", (("target", "90"),), None)
    [enough] = check.run(topology, request, Context(topology, Options(timeout=60)))
    assert enough.status is Status.PROVED
    [none] = check.run(topology, request, Context(topology, Options(timeout=1e-9)))
    assert (none.status, none.method) == (Status.UNKNOWN, "bdd-bounds")
    assert none.message == ("could not decide whether the target 90% is met: availability between 0% and 100% "
                            "(the exact computation did not finish in the time left)")
    assert none.extra["bounds"] == {"lower": 0.0, "upper": 1.0} and none.extra["scenarios"] == []


# -- output in every format -----------------------------------------------------------------------


def test_json_sarif_markdown_and_text(tmp_path, capsys) -> None:
    from checker.cli import main

    path = tmp_path / "m.topo"
    path.write_text(EXAMPLE)
    assert main(["check", str(path), "--select", "availability", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    [result] = [r for r in doc["files"][0]["results"] if r["id"] == "availability"]  # `available` runs too
    assert isinstance(result["availability"], float) and isinstance(result["target"], float)
    assert result["scenarios"][0]["failed"] == ["db1"]

    assert main(["check", str(path), "--select", "availability"]) == 1
    text = capsys.readouterr().out
    assert "error[availability] availability 99.8889% is below the target 99.95%" in text
    assert "      probability: 0.001 (the failed units all down and a service down)" in text
    assert "      share of the unavailability: 90.02%" in text

    assert main(["check", str(path), "--select", "availability", "--format", "markdown"]) == 1
    markdown = capsys.readouterr().out
    assert "| service | availability |" in markdown
    assert "| www | 99.8889% |" in markdown
    assert "| scenario | stops | probability | share of the unavailability |" in markdown
    assert "| db1 | www | 0.001 | 90.02% |" in markdown

    assert main(["check", str(path), "--select", "availability", "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    [finding] = [f for f in sarif["runs"][0]["results"] if f["ruleId"] == "availability"]
    assert finding["properties"]["availability"] == result["availability"]
    schema_path = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "schemas" / \
        "sarif-schema-2.1.0.json"
    if schema_path.exists():
        import jsonschema

        jsonschema.validate(sarif, json.loads(schema_path.read_text()))


def test_explain_availability(capsys) -> None:
    from checker.cli import main

    assert main(["explain", "availability"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("availability: severity error · runs when named · parameters: target (required), "
                          "host, zone, region")
    assert "**A failing example.**" in out and "Harris-FKG" in out


def test_diff_shows_an_availability_change(tmp_path, capsys) -> None:
    from checker.cli import main

    old = tmp_path / "old.topo"
    new = tmp_path / "new.topo"
    old.write_text(EXAMPLE)
    new.write_text(EXAMPLE.replace("db db1 address 10.0.3.10 listen tcp/5432",
                                   "db db1 address 10.0.3.10 listen tcp/5432 availability 99.99"))
    assert main(["diff", str(old), str(new), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    changes = [(c["effect"], c["check"], c["message"]) for f in doc["files"] for c in f["changes"]]
    better = R * Z * Fraction(9999, 10000) * (1 - (1 - P) ** 2)
    before = R * Z * P * (1 - (1 - P) ** 2)
    assert changes == [("better", "availability",
                        f"availability {float(before) * 100:.10g}% -> {float(better) * 100:.10g}% "
                        "(target 99.95%): now meets the target")]
    assert main(["diff", str(new), str(old)]) == 1  # back again: worse, and availability fails
    assert "worse[availability] availability" in capsys.readouterr().out


# -- the README's table of the seed stages is real output -------------------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
STAGES = ("01-single-server", "02-separate-database", "03-load-balancer", "04-replication", "05-multi-datacenter")
STAGE_NAMES = ("one server", "a separate database", "a load balancer, two webs", "a replicated database",
               "two regions")
MINUTES_A_YEAR = Fraction(36525 * 24 * 60, 100)


def _downtime(unavailability: Fraction) -> str:
    """Expected downtime a year, rounded up (never in the user's favour)."""
    minutes = unavailability * MINUTES_A_YEAR
    for unit, size in (("h", Fraction(60)), ("min", Fraction(1)), ("s", Fraction(1, 60))):
        if minutes >= size or unit == "s":
            value = minutes / size
            tenths = math.ceil(value * 10)
            return f"{tenths // 10}.{tenths % 10} {unit}"
    raise AssertionError


def seed_table() -> str:
    """The README's table: each seed stage under the default rates, target 99.95 %."""
    rows = ["| stage | availability | downtime a year | costliest scenario (share of the unavailability) "
            "| target 99.95% |", "|---|---|---|---|---|"]
    for number, (stage, name) in enumerate(zip(STAGES, STAGE_NAMES), 1):
        text = (ROOT / "models" / "seed" / f"{stage}.topo").read_text(encoding="utf-8")
        text += "\ncheck availability target=99.95\n"
        topology = _topology(text)
        result = _result(text)
        outcome = _outcome(text)
        assert outcome.exact and result.extra["availability"] == json_availability(outcome.lower, Fraction(9995, 10000))
        first = result.extra["scenarios"][0]
        costliest = f"{', '.join(first['failed'])} ({first['share'] * 100:.3g}%)"
        rows.append(f"| {number}. {name} | {percent(outcome.lower, Fraction(9995, 10000))} | "
                    f"{_downtime(1 - outcome.lower)} | {costliest} | {result.status.value} |")
        assert topology.path == "m.topo"
    return "\n".join(rows) + "\n"


def test_readme_table_of_the_seed_stages_is_real_output() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = seed_table()
    start = readme.index("| stage | availability |")
    assert readme[start:readme.index("\n\n", start) + 1] == table, "regenerate with: python -m tests.test_availability"


if __name__ == "__main__":
    print(seed_table(), end="")


# -- the diagram operations, against every assignment -------------------------------------------------

_SEVEN = """\
zone az-1
zone az-2
zone az-3
dns www { managed; answer web1 }
web web1 { managed; address 203.0.113.5; listen tcp/443 }
cluster coordination { quorum
""" + "".join(f"  service etcd{i} {{ zone az-{1 + i % 3}; listen tcp/2379 }}\n" for i in range(7)) + """}
web1 uses coordination
"""


def _seven_model(rates: list[Fraction], backend: str | None):
    topology = _topology(_SEVEN)
    circuit = circuit_for(Context(topology))
    units = list(circuit.regions) + list(circuit.zones) + list(circuit.hosts)
    availability = {u: rates[i % len(rates)] for i, u in enumerate(units)}
    return engine.AvailabilityModel(circuit, availability, time.monotonic() + 600, backend)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.sampled_from([Fraction(999, 1000), Fraction(99, 100), Fraction(1, 2), Fraction(1)]),
                min_size=1, max_size=4),
       st.lists(st.lists(st.tuples(st.integers(0, 9), st.booleans()), min_size=1, max_size=4), max_size=5),
       st.integers(0, 8), st.sampled_from(["cudd", "autoref"]))
def test_heaviest_set_and_thresholds_are_those_of_every_assignment(rates, clauses, k, backend) -> None:
    """On the ten variables of a quorum of seven in three zones, with availabilities that
    tie (and units that never fail): ``at_least`` over the members' liveness is the
    count of every assignment, and ``heaviest`` of a random function (a DNF) is the
    heaviest set F whose failure alone satisfies it, ties to the smaller, then to the
    smaller sorted indices, as the set sizes of a quorum of 1,001 need (sets of 501,
    weighed by their logarithms and exactly only where those cannot tell)."""
    if backend == "cudd":
        pytest.importorskip("dd.cudd")
    model = _seven_model(rates, backend)
    variables = members = f = term = threshold = None
    try:
        names, bdd = model.names, model.bdd
        n = len(names)
        variables = [bdd.var(v) for v in names]
        f = model.false
        for clause in clauses:
            term = model.true
            for i, positive in clause:
                term = term & (variables[i % n] if positive else ~variables[i % n])
            f = f | term
        members = [variables[3 + m] & variables[m % 3] for m in range(7)]  # a member's host and zone up
        threshold = model.at_least(members, k)
        best = None
        for bits in itertools.product((True, False), repeat=n):
            assignment = dict(zip(names, bits))
            count = sum(1 for m in members if bdd.let(assignment, m) == model.true)
            assert (bdd.let(assignment, threshold) == model.true) == (count >= k)
            if bdd.let(assignment, f) == model.true:
                chosen = tuple(i for i, up in enumerate(bits) if not up)
                weight = math.prod((1 - model.up[i] for i in chosen), start=Fraction(1))
                key = (-weight, len(chosen), chosen)
                if best is None or key < best:
                    best = key
        found = model.heaviest(f)
        if best is None:
            assert found is None
        else:
            assert found == (-best[0], best[2])
    finally:
        variables = members = f = term = threshold = None  # (a manager must outlive its nodes)
        model.close()


def test_a_pool_spread_over_thirty_zones_is_exact_and_linear() -> None:
    """Thirty web servers, each in a zone of its own: the pool is up while one of them
    and its zone are (and the implicit region). The zones past the first twelve sit next
    to their hosts in the variable order, not before every host: all thirty first made a
    diagram of 2^30 nodes (twenty took 50 s and 2 GB)."""
    n = 30
    text = "".join(f"zone z{i}\n" for i in range(n)) + (FRONT % (", ".join(f"w{i}" for i in range(n)), "")) + "".join(
        f"web w{i} {{ zone z{i}; address 10.0.2.{i + 1}; listen tcp/8080 }}\n" for i in range(n))
    outcome = _outcome(text)
    assert outcome.exact
    assert outcome.lower == outcome.upper == R * (1 - (1 - P * Z) ** n)


def test_a_percentage_nines_past_the_limit_is_rounded_down_to_the_limit() -> None:
    """A service that stops only when 1,500 regions fail has an unavailability with
    thousands of zeros after the point: it is printed with the limit's decimals, rounded
    down (it was an internal error: too many digits to print)."""
    value = 1 - Fraction(1, 10 ** 7500)
    shown = percent(value)
    assert shown == "99." + "9" * 40 + "%"
    assert percent(value, Fraction(99, 100)) == shown
    assert percent(Fraction(9999879, 10000000)) == "99.998790%"  # (short ones as before)
