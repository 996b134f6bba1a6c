"""The probability that every service is up is at least the target (`target=99.95`, required).

**What it proves.** Every failure unit is up with a probability of its own, all
independently: a host its `availability P` (set on any component that runs
on it), a zone the `availability P` of its `zone` clause, a region that of its
`region R availability P` statement, and otherwise the check's rate for the
level (`host=99.9 zone=99.99 region=99.999` unless given). The implicit
`zone:(unzoned)` and `region:(unregioned)` fail at the zone and region rates
like any other; `managed` components never fail as hosts (a zonal one goes
with its zone), and client groups, jobs, external targets and a `dns` with
`served-by` never fail themselves. Under that model the check computes the
exact probability that every service (each `dns` name, each job, the
public service) is up, with the same semantics as every other check
(ordered alternatives, failover, quorum, `need N`, jobs, client groups,
self-hosted DNS, egress), and compares it exactly with the target. Each
result carries the availability (printed with at least four significant
digits of the unavailability, rounded down and never across the target),
the target, the independence assumption, each service's own availability,
and the (at most five) minimal stopping sets that cost the most, proved or
not (a refutation also gives them as its counterexamples): the sets of units whose
failure stops a service, no subset of which does, ranked by the probability
that all their units are down, each with the probability that they are all
down *and* a service is down, and that probability's share of the
unavailability. Shares overlap (two sets can be down at once), so they need
not add up to 100 %. Every reported set is replayed through the reference
evaluator first.

**Why it matters.** Availability is how people state the reason for
redundancy ("99.95 % a month is 22 minutes of downtime"); fault-tree tools
compute it from hand-drawn trees, which drift from the system. Computed from
the architecture itself, the number changes when the architecture does, and
the ranked scenarios say which single fix buys the most nines: a single
point of failure at 99.9 % costs a hundred times more than a zone.

**A failing example.**

    dns www { managed; answer lb1 }
    lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1, web2 tcp/8080 }
    web web1 address 10.0.1.11 listen tcp/8080
    web web2 address 10.0.1.12 listen tcp/8080
    db db1 address 10.0.3.10 listen tcp/5432
    web1, web2 writes db1
    check availability target=99.95

refuted: `availability 99.8889% is below the target 99.95%; the costliest
scenario is 'db1' (0.001 of the time, 90.02% of the unavailability)`, then
`zone:(unzoned)` (every component sits in it), `region:(unregioned)` and
`web1, web2`.

**The fix.** Work down the scenario list: a replica of `db1` in a cluster with
`failover auto` removes the costliest scenario, a second zone the next; or,
when a unit really is more reliable than the default, say so with
`availability P` on it.

**Method.** The compiled serving circuit becomes binary decision diagrams
over one variable per unit (the first twelve regions and zones ordered first, each
other one next to its hosts): the serving
equations' greatest fixed point computed symbolically, from "every node
serves" down until no diagram changes, so the structure need not be monotone.
Probabilities are exact fractions over the diagrams; services that share no
host are combined per assignment of the zones and regions (method `bdd`).
The most probable minimal stopping sets are the heaviest paths of each
service's "down" diagram, found one at a time by excluding the supersets of
those already found. When the exact value cannot be computed in the check's
time, the result gives proven bounds: `P(all up) <= P(S up)` for each service,
and each group S of services, whose probability was computed, `P(all up) >= 1 - sum(P(G down))` when every group
was, and on monotone structures `P(all up) >= prod(P(G up))` (Harris-FKG);
`proved` or `refuted` when the interval decides, else `unknown` (method
`bdd-bounds`); scenarios then carry no share, and on non-monotone structures
their probability is that of all their units being down. A time limit never
gives `proved` on its own.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Iterator

from ..context import Context
from ..engines.circuit import CIRCUIT_KEY
from ..engines.failure_replay import CACHE_KEY as REPLAY_KEY
from ..model import CheckRequest, Topology
from ..results import Counterexample, Result, Severity, Status
from ..nines import float_up, given_percent, json_availability, percent
from . import percentage

ID = "availability"
SEVERITY = Severity.ERROR
ORDER = 60
DEFAULT = False
ALWAYS = False
ENGINES = (CIRCUIT_KEY, REPLAY_KEY)  # the engine caches it reads (see checker.checks)
PARAMS = {"target": percentage, "host": percentage, "zone": percentage, "region": percentage,
          "_required": ("target",)}

ASSUMPTION = ("every host, zone and region fails independently of the others, at its own availability "
              "or the rate of its level")

#: Shares of the check's time: the exact computation, then the search for scenarios;
#: the rest replays them through the reference evaluator.
EXACT_SHARE = 0.6
SCENARIO_SHARE = 0.8
REPLAY_SHARE = 0.95
#: Stopped services explained per scenario (the others are counted).
EXPLAINED_SERVICES = 3


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    from ..build import parse_percentage
    from ..engines.availability import DEFAULT_HOST, DEFAULT_REGION, DEFAULT_ZONE, Rates, compute, unit_availability
    from ..engines.failure import circuit_for
    from ..engines.failure_replay import replay_evaluator
    from ..engines.failure_report import stopping_counterexample
    from ..limits import time_left

    started = time.monotonic()
    budget = context.options.timeout
    left = time_left()
    if left is not None:
        budget = min(budget, left)

    def fraction(key: str, default: Fraction) -> Fraction:
        text = request.param(key)
        value = parse_percentage(text) if text is not None else default
        assert isinstance(value, Fraction), value  # the builder validated it
        return value

    target = fraction("target", Fraction(0))
    rates = Rates(fraction("host", DEFAULT_HOST), fraction("zone", DEFAULT_ZONE), fraction("region", DEFAULT_REGION))
    circuit = circuit_for(context)
    units = list(circuit.regions) + list(circuit.zones) + list(circuit.hosts)
    availability = unit_availability(topology, units, rates)
    outcome = compute(circuit, availability, circuit.monotone, started + EXACT_SHARE * budget,
                      started + SCENARIO_SHARE * budget)

    if outcome.lower >= target:
        status = Status.PROVED
    elif outcome.upper < target:
        status = Status.REFUTED
    else:
        status = Status.UNKNOWN
    unavailability = 1 - outcome.lower if outcome.exact else None

    evaluator = replay_evaluator(context)
    scenarios = []
    examples = []
    for scenario in outcome.scenarios:
        if time.monotonic() > started + REPLAY_SHARE * budget:
            break  # a scenario that is not replayed is not reported
        example = stopping_counterexample(topology, evaluator, scenario.units, ID, EXPLAINED_SERVICES,
                                          claimed=circuit.stopped_by(circuit.dead_for(scenario.units)))
        share = scenario.probability / unavailability if unavailability else None
        fields = {"failed": example.fields["failed"], "stopped": example.fields["stopped"],
                  "probability": float(scenario.probability),
                  "share": None if share is None else float(share)}
        scenarios.append(fields)
        examples.append(Counterexample({**fields, "explanation": example.fields["explanation"]},
                                       related=example.related))

    services = sorted(outcome.services.items(), key=lambda item: (item[1], item[0]))
    extra = {
        "availability": json_availability(outcome.lower, target),
        "target": float(target),
        "unavailability": float(1 - outcome.lower),
        "exact": outcome.exact,
        "bounds": None if outcome.exact else {"lower": json_availability(outcome.lower, target),
                                              "upper": float_up(outcome.upper)},
        "services": [{"service": name, "availability": float(value)} for name, value in services],
        "scenarios": scenarios,
        "rates": {"host": float(rates.host), "zone": float(rates.zone), "region": float(rates.region)},
        "assumption": ASSUMPTION,
    }
    if request.params:
        extra["params"] = dict(request.params)
    method = "bdd" if outcome.exact else "bdd-bounds"
    message = _message(status, outcome, target, scenarios)
    hint = None
    if status is not Status.PROVED:
        hint = ("the first scenario costs the most: add redundancy on another host or zone for its units, or "
                "give them the availability they really have ('availability P')")
    yield Result(ID, status, SEVERITY, message, request.span, method,
                 tuple(examples) if status is not Status.PROVED else (), hint=hint, extra=extra)


def _message(status: Status, outcome, target: Fraction, scenarios: list[dict]) -> str:
    shown_target = given_percent(target)
    if outcome.exact:
        value = percent(outcome.lower, target)
        if status is Status.PROVED:
            text = f"availability {value} meets the target {shown_target}"
        else:
            text = f"availability {value} is below the target {shown_target}"
    else:
        low, high = percent(outcome.lower, target), percent(outcome.upper, target, up=True)
        between = f"availability between {low} and {high} ({outcome.reason})"
        if status is Status.PROVED:
            text = f"{between} meets the target {shown_target}"
        elif status is Status.REFUTED:
            text = f"{between} is below the target {shown_target}"
        else:
            text = f"could not decide whether the target {shown_target} is met: {between}"
    if status is not Status.PROVED and scenarios:
        first = scenarios[0]
        units = ", ".join(f"'{u}'" for u in first["failed"]) or "nothing failed"
        cost = f"{_plain(first['probability'])} of the time"
        if first["share"] is not None:
            cost += f", {_plain(first['share'] * 100)}% of the unavailability"
        text += f"; the costliest scenario is {units} ({cost})"
    return text


def _plain(value: float) -> str:
    return f"{value:.4g}"
