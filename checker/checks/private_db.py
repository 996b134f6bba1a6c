"""Databases and cluster members are private and no packet from the internet ever ends at one.

**What it proves.** Every `db`, and every member of a cluster of any kind (a
Redis, Kafka or etcd cluster of services too; LANGUAGE.md section 7.9), has
only private addresses (section 3; the documentation ranges are public), and no
internet path ends at one: no packet from a public address, admitted by the
first-match policy at a public address of an `lb` or `gateway`, is forwarded by
listeners (every hop allowed) to such a server, not even through a load
balancer; a `primary of C` or `replicas of C` forward counts as a forward to
every member it may pick. The last hop counts
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
from ..results import Result, Severity

ID = "private-db"
SEVERITY = Severity.ERROR
ORDER = 40
DEFAULT = True
ALWAYS = False
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    from ._exposure import exposure_result

    goals = [c.name for c in topology.components.values() if c.kind is Kind.DB or c.name in topology.cluster_members]
    yield from exposure_result(
        ID, SEVERITY, request, context, goals, through_lb_allowed=False,
        proved="every database and cluster member ({count}) has only private addresses and no internet path "
               "ends at one",
        hint="give databases and cluster members private addresses only and forward nothing from the "
             "internet to them")
