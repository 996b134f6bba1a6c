"""Every service is up when nothing has failed.

**What it proves.** With no host, zone or region failed, every service is up:
each `dns` name resolves, for each of its client groups (the internet unless
`clients` names others; through its name servers when it is `served-by` them),
to an answer the group can reach, and everything behind that answer serves:
each load balancer has enough live, reachable targets that serve (`need N`),
each web server and service has every requirement met, through the policy, on
the right ports (external targets through their egress gateways), and quorum
clusters have their majority. Each `job` has, for each requirement, a target
that serves. A file with neither `dns` nor `job` has the public service: some
component with a public address that clients reach.

**Why it matters.** A topology that does not work with nothing broken makes
every other verdict meaningless; this check always runs (`--select` keeps it;
only `--ignore available` drops it).

**Denied connections are cited, not repeated.** When `connection-denied`
reports the denials on a service's paths, the refutation cites those findings
("www needs connections the policy denies (see connection-denied at line 23)")
instead of restating each denied hop; what would still be down with every
denied connection allowed is explained here in full. The refutation points at
the first unmet requirement it explains, else at the service (when denials
alone explain it, the mistake's own location is connection-denied's). When
`connection-denied` does not run (`--ignore`, `--select`), the denials are
explained here.

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

from ..context import ANSWERS_KEY, Context, InternalError
from ..engines.circuit import CIRCUIT_KEY
from ..model import CheckRequest, Topology
from ..results import Counterexample, Hop, Result, Severity, Status

ID = "available"
SEVERITY = Severity.ERROR
ORDER = 0
DEFAULT = True
ALWAYS = True
ENGINES = (CIRCUIT_KEY, ANSWERS_KEY)  # the engine caches it reads (see checker.checks)
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
    from ..engines.root_cause import DOWN_KEY, LOCATION_KEY, citation, cited, fixed_evaluator

    context.cache[DOWN_KEY] = stopped  # (evaluated by the reference: the failure checks refer to it)

    # Denied connections are cited, not repeated (connection-denied reports each mistake
    # once); what is still down with them allowed is down for another reason, said here.
    fixed = fixed_evaluator(context)
    still_down = set(fixed.stopped(())) if fixed is not evaluator else set(stopped)
    explanation: list[str] = []
    first_requirement = None
    for service in stopped:
        denials = cited(context, service)
        if not denials or service in still_down:
            reasons = (fixed if denials else evaluator).explain(service, ())
            first_requirement = first_requirement or next((r.requirement for r in reasons if r.requirement), None)
            for reason in reasons:
                text = reason.text if reason.text.startswith(service) else f"{service}: {reason.text}"
                explanation.append(text)
        if denials:
            explanation.append(f"{service} needs connections the policy denies (see {citation(denials)})")
    related = tuple(Hop(s, topology.span_of(s)) for s in stopped if topology.span_of(s))
    counterexample = Counterexample(
        {"failed": [], "stopped": stopped, "explanation": explanation}, related=related
    )
    first = explanation[0] if explanation else "it does not serve"
    message = f"{_quote_list(stopped)} {'is' if len(stopped) == 1 else 'are'} down with nothing failed: {first}"
    span = (first_requirement.span if first_requirement else None) or request.span or (
        related[0].span if related else None
    )
    context.cache[LOCATION_KEY] = span  # where the failure checks point to
    hint = "add the missing rule, listener, answer or public address the explanation names"
    if all(s not in still_down for s in stopped):
        hint = "fix what connection-denied reports"
    yield Result(ID, Status.REFUTED, SEVERITY, message, span, "evaluation", (counterexample,), hint=hint)


def _quote_list(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)
