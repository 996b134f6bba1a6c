"""Every write reaches its cluster's current primary, whatever k hosts fail.

**What it proves.** In every failure scenario of at most k failed hosts
(`check write-to-primary k=N`; default 1), every write every live server
issues lands on the current primary of the cluster it reaches. A write goes to
the first target of its `writes` requirement that is live and reachable under
the policy (a client's host list); a cluster endpoint (`writes orders`) sends
it to the current primary; a `db` named directly takes it whatever its role;
a `web` or `service` passes it on along its own `writes`; a load balancer or
gateway may forward it to any target it serves. The current primary is the
declared primary if live; else, with `failover auto`, the first live member in
declaration order; else (`failover manual`) none.

**Why it matters.** A write that lands on a replica is lost when replication
overwrites it, or forks the data when the old primary returns (split brain).
The service stays up while this happens, so nothing else notices.

**A failing example.**

    cluster orders {
      failover manual
      db db1 { primary }
      db db2 { replica }
    }
    web web1
    web1 writes db1, db2        # a driver's host list

refuted: with `db1` failed nothing promotes `db2`, yet web1's driver moves on
to it: `{"failed": ["db1"], "writer": "web1", "target": "db2", "path":
["web1", "db2"], "primary": null}`.

**The fix.** Write to the cluster endpoint (`web1 writes orders`), which always
means the current primary; if you keep a host list, list the members in the
cluster's promotion order and use `failover auto`.

**Counterexamples.** One per `writes` requirement (each source of each
statement, in file order) that can send a write to the wrong server, each with
the smallest scenario that does it (fewest failed hosts; among equals, the
first in declaration order): `failed` (the failed hosts, sorted), `writer`,
`target` (the server that got the write), `path` (writer first, that server
last) and `primary` (the cluster's current primary then, or null). The result
points at the requirement that sent the write to that server.

**Method.** Only requirements whose possible flow reaches a clustered db other
than its declared primary can ever go wrong; the rest are safe in every
scenario. For each of those, only the hosts of the servers on its flow and of
the members of the clusters it touches can change where its writes go, so the
search covers every scenario by trying each size 0..k over those hosts:
by enumeration while the scenarios are few (method `enumeration`), else with
Z3 (method `z3`; a solver timeout is `unknown`). Every counterexample is
replayed through the reference evaluator before it is reported.
"""

from __future__ import annotations

import time
from typing import Iterator

from ..context import Context, InternalError
from ..engines.failure_replay import CACHE_KEY as REPLAY_KEY
from ..engines.writes import FLOW_KEY, Landing, RootVerdict, write_flow
from ..model import CheckRequest, FailureUnit, Topology
from ..results import Counterexample, Hop, Result, Severity, Status
from . import positive_int

ID = "write-to-primary"
SEVERITY = Severity.ERROR
ORDER = 50
DEFAULT = True
ALWAYS = False
ENGINES = (FLOW_KEY, REPLAY_KEY)  # the engine caches it reads (see checker.checks)
PARAMS = {"k": positive_int}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    k_text = request.param("k")
    k = int(k_text) if k_text is not None else context.options.default_k
    extra = {"params": dict(request.params)} if request.params else {}
    flow = write_flow(context)
    deadline = time.monotonic() + context.options.timeout
    verdicts: list[RootVerdict] = []
    for root in flow.roots():
        remaining = max(0.001, deadline - time.monotonic())
        verdicts.append(flow.search(root, k, remaining))
    method = "z3" if any(v.method == "z3" for v in verdicts) else "enumeration"
    refuted = [v for v in verdicts if v.status is Status.REFUTED]
    unknown = [v for v in verdicts if v.status is Status.UNKNOWN]
    scope = f"at most {k} failed host{'s' if k != 1 else ''}"
    if refuted:
        counterexamples = tuple(_counterexample(topology, context, v) for v in refuted)
        first = refuted[0]
        message = _describe(first)
        if len(refuted) > 1:
            message += f" ({len(refuted) - 1} more write requirement{'s' if len(refuted) > 2 else ''} can go wrong)"
        if unknown:
            message += f"; {len(unknown)} more could not be decided"
        yield Result(
            ID, Status.REFUTED, SEVERITY, message, first.landing.requirement.span, method, counterexamples,
            hint="write to the cluster endpoint (`writes CLUSTER`), which always reaches the current primary",
            extra=extra,
        )
        return
    if unknown:
        first = unknown[0]
        yield Result(
            ID, Status.UNKNOWN, SEVERITY,
            f"could not decide where {first.root.source}'s writes (line {first.root.span.line}) go with {scope}: "
            f"{first.reason}",
            request.span, method, extra=extra,
        )
        return
    yield Result(
        ID, Status.PROVED, SEVERITY,
        f"every write reaches its cluster's current primary in every scenario of {scope}",
        request.span, method, extra=extra,
    )


def _describe(verdict: RootVerdict) -> str:
    landing = verdict.landing
    assert landing is not None
    when = "with nothing failed" if not verdict.scenario else "when " + ", ".join(
        sorted(u.label for u in verdict.scenario)
    ) + (" fails" if len(verdict.scenario) == 1 else " fail")
    primary = f"its primary is {landing.primary}" if landing.primary else "it has no primary (failover manual)"
    return (
        f"{landing.writer}'s write lands on {landing.landing}, a member of {landing.cluster} that is not "
        f"its current primary, {when}: {' -> '.join(landing.path)}; {primary}"
    )


def _counterexample(topology: Topology, context: Context, verdict: RootVerdict) -> Counterexample:
    landing = verdict.landing
    failed = frozenset(verdict.scenario)
    if landing is None or not _replays(context, verdict.root, failed, landing):
        labels = sorted(u.label for u in failed)
        raise InternalError(
            f"write-to-primary: the scenario {labels} for {verdict.root.describe()} "
            "does not reproduce a bad write in the reference evaluator"
        )
    fields = {
        "failed": sorted(u.label for u in failed),
        "writer": landing.writer,
        "target": landing.landing,
        "path": list(landing.path),
        "primary": landing.primary,
    }
    related = tuple(Hop(u.label, topology.unit_span(u)) for u in sorted(failed, key=_label))
    hops = []
    for hop in landing.hops:
        span = hop.via.span if hop.via is not None else topology.span_of(hop.name)
        hops.append(Hop(hop.name, span))
    return Counterexample(fields, related=related, flow=tuple(hops))


def _label(unit: FailureUnit) -> str:
    return unit.label


def _replays(context: Context, root, failed: frozenset[FailureUnit], landing: Landing) -> bool:
    """Whether the reference evaluator sends ``root``'s write the same wrong way."""
    for trace in context.evaluator.writes_of(root, failed):
        if (trace.bad and trace.writer == landing.writer and trace.path == landing.path
                and trace.landing == landing.landing and trace.primary == landing.primary):
            return True
    return False
