"""No replica copies, through its `replica of` chain, from itself.

**What it proves.** The `replica of` relation has no cycle.

**Why it matters.** Replicas in a cycle copy only from each other: none of
them ever receives a write from the primary, so they drift apart from it from
the moment they are set up, and none can be promoted safely.

**A failing example.**

    cluster orders {
      db db1 { primary }
      db db2 { replica of db3 }
      db db3 { replica of db2 }
    }

refuted at db2: `db2 -> db3 -> db2`.

**The fix.** Point one replica of the cycle at the primary (`replica`, or
`replica of db1`).

**Method.** Following each chain in the model (method `graph`); each cycle is
reported once, at its first-declared member.
"""

from __future__ import annotations

from typing import Iterator

from ..context import Context
from ..engines.writes_replication import replication
from ..model import CheckRequest, Topology
from ..results import Counterexample, Hop, Result, Severity, Status

ID = "replication-cycle"
SEVERITY = Severity.ERROR
ORDER = 111
DEFAULT = False
ALWAYS = True
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    cycles = replication(context).cycles()
    for loop in cycles:
        path = list(loop) + [loop[0]]
        flow = tuple(Hop(name, topology.span_of(name)) for name in path)
        yield Result(
            ID, Status.REFUTED, SEVERITY,
            f"replication cycle {' -> '.join(path)}: these replicas copy only from each other, never from the primary",
            topology.components[loop[0]].name_span, "graph",
            (Counterexample({"cycle": path}, flow=flow),),
            hint=f"make one of them replicate from the primary, e.g. '{loop[0]}' with plain 'replica'",
        )
    if not cycles:
        yield Result(ID, Status.PROVED, SEVERITY, "no replication cycle", request.span, "graph")
