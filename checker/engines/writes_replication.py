"""The replication graph: who each replica copies from.

A replica's *source* is the db its ``replica of`` names, else its cluster's
declared primary. Following sources from a replica gives its *chain*, which
ends at a primary (healthy), at a db that is neither a primary nor a replica
of anything (the chain reaches no primary), or loops (a replication cycle).
The replication lints (``replication-source``, ``replication-cycle``,
``replication-blocked``) share this structure through ``context.cache``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Kind, Role, Topology


@dataclass(frozen=True)
class Chain:
    replica: str
    hops: tuple[str, ...]  # the replica, then each source in turn
    end: str  # "primary" | "no-primary" | "cycle"


class Replication:
    def __init__(self, topology: Topology):
        self.topology = topology
        self.cluster_of: dict[str, str] = {}
        for cluster in topology.clusters.values():
            for member in cluster.members:
                self.cluster_of.setdefault(member, cluster.name)
        self.replicas = [
            c.name for c in topology.components.values() if c.kind in (Kind.DB, Kind.SERVICE) and c.role is Role.REPLICA
        ]

    def source(self, name: str) -> str | None:
        comp = self.topology.components[name]
        if comp.role is not Role.REPLICA:
            return None
        if comp.replica_of is not None:
            return comp.replica_of
        cluster = self.cluster_of.get(name)
        return self.topology.clusters[cluster].primary if cluster else None

    def chain(self, replica: str) -> Chain:
        hops = [replica]
        seen = {replica}
        current = replica
        while True:
            nxt = self.source(current)
            if nxt is None:
                comp = self.topology.components[current]
                end = "primary" if comp.role is Role.PRIMARY else "no-primary"
                return Chain(replica, tuple(hops), end)
            hops.append(nxt)
            if nxt in seen:
                return Chain(replica, tuple(hops), "cycle")
            seen.add(nxt)
            current = nxt

    def cycles(self) -> list[tuple[str, ...]]:
        """Each replication cycle once, starting at its first-declared member."""
        order = {name: i for i, name in enumerate(self.topology.components)}
        found: dict[frozenset[str], tuple[str, ...]] = {}
        for replica in self.replicas:
            chain = self.chain(replica)
            if chain.end != "cycle":
                continue
            start = chain.hops.index(chain.hops[-1])
            loop = chain.hops[start:-1]
            key = frozenset(loop)
            if key in found:
                continue
            first = min(loop, key=order.__getitem__)
            i = loop.index(first)
            found[key] = loop[i:] + loop[:i]
        return sorted(found.values(), key=lambda loop: order[loop[0]])


def replication(context) -> Replication:
    hit = context.cache.get("writes.replication")
    if hit is None:
        hit = Replication(context.topology)
        context.cache["writes.replication"] = hit
    return hit
