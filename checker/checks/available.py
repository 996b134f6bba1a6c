"""Every service is up when nothing has failed.

**What it proves.** With no host, zone or region failed, every service (each
`dns` name; with no `dns`, the public service: some component with a public
address that clients reach) resolves to an answer clients on the internet can
reach, and everything behind that answer serves: each load balancer has a live,
reachable target that serves, and each web server and service has every
requirement met, through the policy, on the right ports.

**Why it matters.** A topology that does not work with nothing broken makes
every other verdict meaningless; this check always runs.

**A failing example.**

    dns www { managed; answer web1 }
    web web1 address 203.0.113.5 listen tcp/443
    db db1 address 10.0.0.5 listen tcp/5432
    web1 writes db1
    allow internet -> web1 tcp/443
    # nothing allows web1 -> db1 tcp/5432

refuted: `www -> web1: web1 writes db1 (line 4): no rule allows web1 -> db1 tcp/5432`.

**The fix.** Add the missing rule (`allow web1 -> db1 tcp/5432`), the missing
listener or answer, or a public address where clients must connect.

**Method.** The serving equations, compiled once per file (shared with
`no-spof` and `zone-redundancy`), evaluated with nothing failed (method
`evaluation`); the answer is exact. When a service is down, the reference
evaluator confirms it and explains why.
"""

from __future__ import annotations

from typing import Iterator

from ..context import Context, InternalError
from ..model import CheckRequest, Topology
from ..results import Counterexample, Hop, Result, Severity, Status

ID = "available"
SEVERITY = Severity.ERROR
ORDER = 0
DEFAULT = True
ALWAYS = True
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    from ..engines.circuit import circuit_for

    circuit = circuit_for(context)
    if not circuit.services_down(circuit.baseline[0]):
        stopped: list[str] = []
    else:
        evaluator = context.evaluator
        stopped = evaluator.stopped(())
        if not stopped:
            raise InternalError(f"{ID}: the compiled serving equations stop "
                                f"{', '.join(circuit.services_down(circuit.baseline[0]))} with nothing failed, "
                                "the reference evaluator nothing")
    if not stopped:
        names = ", ".join(topology.services)
        yield Result(ID, Status.PROVED, SEVERITY, f"every service is up with nothing failed ({names})",
                     request.span, "evaluation")
        return
    explanation: list[str] = []
    first_requirement = None
    for service in stopped:
        for reason in evaluator.explain(service, ()):
            text = reason.text if reason.text.startswith(service) else f"{service}: {reason.text}"
            explanation.append(text)
            first_requirement = first_requirement or reason.requirement
    related = tuple(Hop(s, topology.span_of(s)) for s in stopped if topology.span_of(s))
    counterexample = Counterexample(
        {"failed": [], "stopped": stopped, "explanation": explanation}, related=related
    )
    first = explanation[0] if explanation else "it does not serve"
    message = f"{_quote_list(stopped)} {'is' if len(stopped) == 1 else 'are'} down with nothing failed: {first}"
    span = (first_requirement.span if first_requirement else None) or request.span or (
        related[0].span if related else None
    )
    yield Result(ID, Status.REFUTED, SEVERITY, message, span, "evaluation", (counterexample,),
                 hint="add the missing rule, listener, answer or public address the explanation names")


def _quote_list(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)
