"""Databases are private and no packet from the internet ever ends at one.

**What it proves.** Every `db` has only private addresses (LANGUAGE.md section 3;
the documentation ranges are public), and no internet path ends at a
database: no packet from a public address, admitted by the first-match policy
at a public address of an `lb` or `gateway`, is forwarded by listeners (every
hop allowed) to a `db`, not even through a load balancer. The last hop counts
whatever port the forward delivers to, whether or not the database `listen`s
there: `listen` says what it serves, not that nothing else on the machine
answers.

**Why it matters.** A database reachable from the internet is one password (or
one unpatched bug) away from a breach. Private addresses alone do not make it
private: a listener that forwards to it publishes it.

**A failing example.**

    lb lb1 address 203.0.113.10 address 10.0.0.10 listen tcp/5432 -> db2
    db db2 address 10.0.4.10 listen tcp/5432 replica
    allow 198.51.100.0/24 -> lb1 tcp/5432
    allow lb1 -> db2 tcp/5432

refuted: a packet from 198.51.100.0 (a public address: the documentation
ranges are on the internet) to 203.0.113.10 tcp/5432 is admitted by line 3 and
forwarded to `db2` (line 4).

**The fix.** Remove the listener (reach the database over a VPN or from inside
the network), or deny the internet on that port before any rule admits it.

**Method.** `z3`, as `private-web`: slice the forwarding graph to the listeners
from which a database is reachable, ask Z3 for an admitted client packet at
each, follow the forwards through the indexed policy, and replay every witness
through the plain first-match evaluator before reporting it.
"""

from __future__ import annotations

from typing import Iterator

from ..context import Context
from ..model import CheckRequest, Kind, Topology
from ..results import Result, Severity, Status

ID = "private-db"
SEVERITY = Severity.ERROR
ORDER = 40
DEFAULT = True
ALWAYS = False
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    from ..engines.packets_paths import exposure_findings

    findings, unknown = exposure_findings(context, Kind.DB, through_lb_allowed=False)
    if findings:
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        yield Result(ID, Status.REFUTED, SEVERITY, findings[0].text + more, findings[0].span, "z3",
                     tuple(f.counterexample for f in findings),
                     hint="give databases private addresses only and forward nothing from the internet to them")
        return
    if unknown:
        yield Result(ID, Status.UNKNOWN, SEVERITY, f"could not decide every internet entry: {unknown[0]}",
                     request.span, "z3")
        return
    dbs = sum(1 for c in topology.components.values() if c.kind is Kind.DB)
    yield Result(ID, Status.PROVED, SEVERITY,
                 f"every database ({dbs}) has only private addresses and no internet path ends at one",
                 request.span, "z3")
