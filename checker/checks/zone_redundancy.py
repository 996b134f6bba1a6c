"""No single zone (or, with `level=region`, region) failure stops a service.

**What it proves.** Failing any one zone (every host in it) leaves every
service up. Components with no `zone` share one unnamed zone, reported as
`zone:(unzoned)`, so a file whose components all sit in one (implicit) zone
is refuted. With `level=region`, every region fails in turn instead (zones
without a region share `region:(unregioned)`). `managed` components with no
zone never fail; a managed component that names a zone fails with it (and its
region). A refutation lists one counterexample per zone (region) whose loss stops
a service, sorted by name. A service that is already down with nothing failed
is refuted (never proved) with a single counterexample that fails nothing and
refers to `available` instead of repeating why ("already down with nothing
failed (see available at line 4), so no failure was analysed"). Where an
explanation crosses a connection that `connection-denied` reports, it cites
that finding instead of restating the denial.

**Why it matters.** A data center burns down (the seed's Kakao fire) or a
cloud zone goes dark: the service must survive losing one place, which needs
every tier spread over at least two.

**A failing example.**

    zone az-a
    zone az-b
    dns www { managed; answer lb1 }
    lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1, web2 tcp/8080 }
    web web1 zone az-a address 10.0.1.11 listen tcp/8080
    web web2 zone az-b address 10.0.2.11 listen tcp/8080
    db db1 zone az-a primary address 10.0.3.10 listen tcp/5432
    web1, web2 writes db1

refuted: `failing zone:az-a stops www: ... web2 writes db1 (line 8): db1 is down (failed: zone:az-a)`.

**The fix.** Place a second instance of every tier the counterexample names in
another zone (region): web servers on both sides of the load balancer, a
replica with `failover auto` in the other zone, and write to the cluster.

**Method.** Every zone (region) is tried on the compiled serving circuit; each
scenario recomputes only the part of the greatest fixed point that depends on
the failed components, so the whole check is near-linear on layered topologies
(method `enumeration`: the search covers every zone). Every counterexample is
replayed through the reference evaluator, on the part of the topology the
stopped services depend on. Every stopped service is listed; the first 100 of
each counterexample are also explained step by step, and one more line counts
the others (a zone of a large file can stop hundreds, each explained in several
lines).
"""

from __future__ import annotations

from typing import Iterator

from ..context import ANSWERS_KEY, Context
from ..engines.circuit import CIRCUIT_KEY
from ..engines.failure_replay import CACHE_KEY as REPLAY_KEY
from ..model import CheckRequest, Topology
from ..results import Result, Severity, Status
from . import one_of

ID = "zone-redundancy"
SEVERITY = Severity.ERROR
ORDER = 20
DEFAULT = True
ALWAYS = False
# the engine caches it reads (see checker.checks); the policy's answers too: its replays
# ask the questions the circuit asked, and asked again they were a third of its time
ENGINES = (CIRCUIT_KEY, REPLAY_KEY, ANSWERS_KEY)
PARAMS = {"level": one_of("zone", "region")}
EXPLAINED = 100  # stopped services explained step by step per counterexample; one line counts the others


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    from ..engines.failure import circuit_for
    from ..engines.failure_replay import replay_evaluator
    from ..engines.failure_report import quote, stopping_counterexample, unit_location
    from ..engines.root_cause import cite_in, down_with_nothing_failed

    level = request.param("level") or "zone"
    extra = {"params": dict(request.params)} if request.params else {}
    circuit = circuit_for(context)
    evaluator = replay_evaluator(context)

    down = circuit.services_down(circuit.baseline[0])
    if down:
        message, example = down_with_nothing_failed(context, evaluator, down, ID)  # replayed (here or by available)
        yield Result(ID, Status.REFUTED, SEVERITY, message, request.span, "enumeration", (example,),
                     hint="make the service available first", extra=extra)
        return

    units, members = circuit.members_of(level)
    stops = {u: circuit.stopped_by(dead) for u, dead in zip(units, members)}
    stopping = sorted((u for u in units if stops[u]), key=lambda u: u.label)
    # the replays need no circuit: when no later check does either, its room is theirs
    del circuit, members
    context.done_with(CIRCUIT_KEY)
    if not stopping:
        yield Result(ID, Status.PROVED, SEVERITY,
                     f"no single {level} failure stops a service ({len(units)} {level}s tried)",
                     request.span, "enumeration", extra=extra)
        return
    examples = tuple(cite_in(context, stopping_counterexample(topology, evaluator, (u,), ID, EXPLAINED,
                                                             claimed=stops[u]))
                     for u in stopping)  # each replayed, every stopped service
    message = f"losing one {level} stops a service: " + "; ".join(
        f"'{c.fields['failed'][0]}' stops {quote(c.fields['stopped'])}" for c in examples
    )
    yield Result(ID, Status.REFUTED, SEVERITY, message, unit_location(topology, stopping[0]) or request.span,
                 "enumeration", examples,
                 hint=f"spread every tier over at least two {level}s", extra=extra)
