"""The members of a cluster do not all run in one place.

**What it proves.** No cluster of two or more members has all of them on one
host, or all of them in one zone (components without a zone share the
unnamed zone `(unzoned)`). A `managed` member never fails as a host, so a
cluster with one is not "on one host"; one with no zone never fails at all,
so a cluster with such a member is left out; a managed member that names a
zone fails with it, and counts for "in one zone" (LANGUAGE.md section 7.7).

**Why it matters.** Replicas exist to survive the loss of the primary's
machine or data center. Replicas on the primary's host die with it; replicas
in its zone die with the data center (the seed's Kakao fire).

**A failing example.**

    cluster orders {
      db db1 { zone az-a  primary }
      db db2 { zone az-a  replica }
    }

warning at `orders`: every member is in zone az-a.

**The fix.** Place a member in another zone (and on another host).

**Method.** Comparing the members' hosts and zones in the model (method
`graph`).
"""

from __future__ import annotations

from typing import Iterator

from ..context import Context
from ..model import CheckRequest, Topology
from ..results import Counterexample, Hop, Result, Severity, Status

ID = "replicas-colocated"
SEVERITY = Severity.WARNING
ORDER = 114
DEFAULT = False
ALWAYS = True
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    found = False
    for cluster in topology.clusters.values():
        members = cluster.members
        placements = [topology.placement(m) for m in members]
        if len(members) < 2 or any(zone is None for _, zone, _ in placements):
            continue  # a member that never fails
        hosts = {host for host, _, _ in placements}
        zones = {topology.zone_of(m) for m in members}
        if len(hosts) == 1 and None not in hosts:
            place = next(iter(hosts)).label
            what = f"on one host ({place})"
        elif len(zones) == 1:
            place = f"zone:{next(iter(zones))}"
            what = f"in one zone ({place})"
        else:
            continue
        found = True
        yield Result(
            ID, Status.REFUTED, SEVERITY,
            f"every member of cluster '{cluster.name}' runs {what}: one failure there takes all of them",
            cluster.span, "graph",
            (Counterexample({"cluster": cluster.name, "members": list(members), "place": place},
                            related=tuple(Hop(m, topology.span_of(m)) for m in members)),),
            hint="place a replica in another zone",
        )
    if not found:
        yield Result(ID, Status.PROVED, SEVERITY, "no cluster has all its members on one host or in one zone",
                     request.span, "graph")
