"""A cluster with `failover auto` has a member to fail over to.

**What it proves.** Every cluster that says `failover auto` has at least two
members.

**Why it matters.** Automatic failover promotes a replica; with a single
member there is none, so the setting promises a redundancy that does not
exist and the database is a single point of failure.

**A failing example.**

    cluster orders {
      failover auto
      db db1 { primary }
    }

warning at `orders`.

**The fix.** Add a replica (`db db2 { replica }`), ideally in another zone.

**Method.** Counting members in the model (method `graph`).
"""

from __future__ import annotations

from typing import Iterator

from ..context import Context
from ..model import CheckRequest, Topology
from ..results import Counterexample, Hop, Result, Severity, Status

ID = "failover-single-member"
SEVERITY = Severity.WARNING
ORDER = 113
DEFAULT = False
ALWAYS = True
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    found = False
    for cluster in topology.clusters.values():
        if cluster.failover.value != "auto" or len(cluster.members) != 1:
            continue
        found = True
        member = cluster.members[0]
        yield Result(
            ID, Status.REFUTED, SEVERITY,
            f"cluster '{cluster.name}' has failover auto but a single member ('{member}'): there is nothing to promote",
            cluster.span, "graph",
            (Counterexample({"cluster": cluster.name, "members": [member]},
                            related=(Hop(member, topology.span_of(member)),)),),
            hint="add a replica in another zone",
        )
    if not found:
        yield Result(ID, Status.PROVED, SEVERITY, "every cluster with failover auto has a member to promote",
                     request.span, "graph")
