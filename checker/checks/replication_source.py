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

**Method.** Following each chain in the model (method `graph`), each replica
walked once (a walk stops at a replica already settled), so a cascade of
thousands of replicas costs its length, not its square; chains that loop are
reported by `replication-cycle` instead. Each replica whose chain fails is
reported with its chain; past 24 hops the chain shows the first 23 and where
it stops, and the counterexample says how many were left out (`elided`).
"""

from __future__ import annotations

from typing import Iterator

from ..context import Context
from ..engines.writes_replication import replication
from ..evaluator import MAX_CHAIN_SHOWN
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
    ends = graph.ends()
    found = False
    for replica in graph.replicas:
        if ends[replica] != "no-primary":
            continue
        found = True
        hops, elided = graph.shown_chain(replica, MAX_CHAIN_SHOWN)
        last = hops[-1]
        names = list(hops)
        if elided:
            names[-1:-1] = [f"... ({elided:,} more)"]
        flow = tuple(Hop(name, topology.span_of(name)) for name in hops)
        data = {"replica": replica, "chain": list(hops)}
        if elided:
            data["elided"] = elided  # hops left out before the last one (a long cascade)
        yield Result(
            ID, Status.REFUTED, SEVERITY,
            f"replica '{replica}' copies from '{last}' ({' -> '.join(names)}), which is neither a primary "
            "nor a replica of one: its chain never reaches a primary",
            topology.components[replica].name_span, "graph",
            (Counterexample(data, flow=flow),),
            hint=f"point '{replica}' at the primary ('replica of NAME') or make '{last}' a primary",
        )
    if not found:
        yield Result(ID, Status.PROVED, SEVERITY, "every replica's chain reaches its cluster's primary",
                     request.span, "graph")
