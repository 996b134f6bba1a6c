"""Every replica can connect to the server it replicates from.

**What it proves.** For each replica, the policy allows a connection from the
replica to its source (the db its `replica of` names, else its cluster's
primary) on the source's port.

**Why it matters.** In MySQL and PostgreSQL the replica opens the connection:
MySQL's replication I/O thread and PostgreSQL's WAL receiver connect to the
source's server port and pull the changes. If the policy blocks that
connection the replica silently falls behind, and failover promotes stale
data. (The source never connects to the replica, so a rule in that direction
does not help.)

**A failing example.**

    cluster orders {
      db db1 { address 10.0.3.10 listen tcp/5432 primary }
      db db2 { address 10.0.4.10 listen tcp/5432 replica }
    }
    allow db1 -> db2 tcp/5432     # the wrong direction

refuted at db2: no rule allows db2 -> db1 tcp/5432.

**The fix.** Allow the replica to reach its source on its port, e.g.
`allow orders -> orders tcp/5432` for a whole cluster.

**Method.** The first-match policy for each replica and its source (method
`policy`); an open network (no rules) allows everything.
"""

from __future__ import annotations

from typing import Iterator

from ..context import Context
from ..engines.writes_replication import replication
from ..evaluator import denial_text
from ..model import CheckRequest, Topology
from ..results import Counterexample, Hop, Result, Severity, Status

ID = "replication-blocked"
SEVERITY = Severity.ERROR
ORDER = 112
DEFAULT = False
ALWAYS = True
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    graph = replication(context)
    found = False
    for replica in graph.replicas:
        source = graph.source(replica)
        if source is None:
            continue
        ports = topology.components[source].service_ports
        decision = context.policy.connect(replica, source, ports)
        if decision:
            continue
        found = True
        related = (Hop(f"rule at line {decision.rule.line}", decision.rule.span),) if decision.rule else ()
        yield Result(
            ID, Status.REFUTED, SEVERITY,
            f"replica '{replica}' cannot reach its source '{source}': {denial_text(replica, source, ports, decision)}",
            topology.components[replica].name_span, "policy",
            (Counterexample({"replica": replica, "source": source, "ports": str(ports)}, related=related,
                            flow=(Hop(replica, topology.span_of(replica)), Hop(source, topology.span_of(source)))),),
            hint=f"allow {replica} -> {source} {ports} (the replica connects to its source)",
        )
    if not found:
        yield Result(ID, Status.PROVED, SEVERITY, "every replica can reach the server it replicates from",
                     request.span, "policy")
