"""Services are private and reached from the internet only through a load balancer.

**What it proves.** Every `service` outside a cluster, other than the name
servers a `dns` is `served-by` (which answer the internet by design), has only
private addresses (LANGUAGE.md sections 3 and 7.9; the documentation ranges are
public), and every internet path to one (a packet from a public address to a
public address of a `gateway` or `lb`, forwarded by listeners, every hop
allowed by the first-match policy) passes through an `lb`. The last hop counts
whatever port the forward delivers to, whether or not the service `listen`s
there. Members of clusters of services are `private-db`'s business.

**Why it matters.** An internal API, a cache or a queue with a public address
and an open firewall is reachable by anyone: caches and queues in particular
often run without authentication (an exposed Redis is a classic breach).

**A failing example.**

    service cache1 address 203.0.113.40 listen tcp/6379
    allow any -> any

refuted: `cache1` has the public address 203.0.113.40.

**The fix.** Give internal services private addresses only; if the internet
must reach one, put an `lb` in front of it.

**Method.** `z3`, as `private-web`: slice the forwarding graph to the gateways
from which a service is reachable without a load balancer, ask Z3 for an
admitted client packet at each, follow the forwards through the indexed
policy, and replay every witness through the plain first-match evaluator
before reporting it.
"""

from __future__ import annotations

from typing import Iterator

from ..context import Context
from ..model import CheckRequest, Kind, Topology
from ..results import Result, Severity

ID = "private-service"
SEVERITY = Severity.ERROR
ORDER = 35
DEFAULT = True
ALWAYS = False
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    from ._exposure import exposure_result

    goals = [c.name for c in topology.components.values() if c.kind is Kind.SERVICE
             and c.name not in topology.cluster_members and c.name not in topology.name_servers]
    yield from exposure_result(
        ID, SEVERITY, request, context, goals, through_lb_allowed=True,
        proved="every service ({count}) outside clusters and name servers has only private addresses and is "
               "reached from the internet only through a load balancer",
        hint="give internal services private addresses only; put an lb in front of one the internet must reach")
