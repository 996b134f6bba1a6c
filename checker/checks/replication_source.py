"""Every replica's replication chain reaches its cluster's primary.

**What it proves.** Following `replica of` from each replica (a replica
without `of` copies from its cluster's primary) always ends at a primary.

**Why it matters.** A replica whose chain ends at a server that is neither a
primary nor a replica copies data nobody writes: it serves stale reads
forever, and promoting it loses every write since it was set up.

**A failing example.**

    db db1 primary
    db old                   # neither primary nor replica
    db db2 replica of old    # copies from old, which takes no writes

refuted at db2: `db2 -> old` never reaches a primary.

**The fix.** Point the replica at the primary or at a replica of it
(`replica of db1`), or make the source a `primary`.

**Method.** Following each chain in the model (method `graph`); chains that
loop are reported by `replication-cycle` instead.
"""

from __future__ import annotations

from typing import Iterator

from ..context import Context
from ..engines.writes_replication import replication
from ..model import CheckRequest, Topology
from ..results import Counterexample, Hop, Result, Severity, Status

ID = "replication-source"
SEVERITY = Severity.ERROR
ORDER = 110
DEFAULT = False
ALWAYS = True
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    graph = replication(context)
    found = False
    for replica in graph.replicas:
        chain = graph.chain(replica)
        if chain.end != "no-primary":
            continue
        found = True
        last = chain.hops[-1]
        flow = tuple(Hop(name, topology.span_of(name)) for name in chain.hops)
        yield Result(
            ID, Status.REFUTED, SEVERITY,
            f"replica '{replica}' copies from '{last}' ({' -> '.join(chain.hops)}), which is neither a primary "
            "nor a replica of one: its chain never reaches a primary",
            topology.components[replica].name_span, "graph",
            (Counterexample({"replica": replica, "chain": list(chain.hops)}, flow=flow),),
            hint=f"point '{replica}' at the primary ('replica of NAME') or make '{last}' a primary",
        )
    if not found:
        yield Result(ID, Status.PROVED, SEVERITY, "every replica's chain reaches its cluster's primary",
                     request.span, "graph")
