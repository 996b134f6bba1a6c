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
        self._ends: dict[str, str] | None = None
        self._loops: list[tuple[str, ...]] = []

    def source(self, name: str) -> str | None:
        comp = self.topology.components[name]
        if comp.role is not Role.REPLICA:
            return None
        if comp.replica_of is not None:
            return comp.replica_of
        cluster = self.cluster_of.get(name)
        return self.topology.clusters[cluster].primary if cluster else None

    def chain(self, replica: str) -> Chain:
        """The chain from ``replica``, walked hop by hop (the reference for :meth:`ends`)."""
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

    def ends(self) -> dict[str, str]:
        """How each replica's chain ends (``chain(r).end`` for every replica ``r``), in
        time linear in the replicas: each is walked once, and a walk stops at a replica
        already settled. Walking every chain whole costs the square of a long cascade's
        length (a chain of 10,000 replicas: 50 million hops)."""
        if self._ends is None:
            self._settle()
        return self._ends

    def cycles(self) -> list[tuple[str, ...]]:
        """Each replication cycle once, starting at its first-declared member."""
        if self._ends is None:
            self._settle()
        order = {name: i for i, name in enumerate(self.topology.components)}
        found = []
        for loop in self._loops:
            first = min(loop, key=order.__getitem__)
            i = loop.index(first)
            found.append(loop[i:] + loop[:i])
        return sorted(found, key=lambda loop: order[loop[0]])

    def shown_chain(self, replica: str, limit: int) -> tuple[tuple[str, ...], int]:
        """The chain of a replica whose chain does not loop, for a report: every hop when
        there are at most ``limit``, else the first ``limit - 1`` and where it stops, and
        how many hops between were left out (so reporting each replica of a long cascade
        costs each one ``limit`` hops, not the cascade)."""
        if self._ends is None:
            self._settle()
        length = self._lengths[replica]  # hops after the replica
        if length < limit:
            return self.chain(replica).hops, 0
        shown = [replica]
        current = replica
        while len(shown) < limit - 1:
            current = self.source(current)
            shown.append(current)
        shown.append(self._stops[replica])
        return tuple(shown), length + 1 - limit

    def _settle(self) -> None:
        """Walk each chain once: how it ends, where it stops and how many hops it takes to
        get there, for every replica and every server a chain stops at."""
        ends: dict[str, str] = {}
        stops: dict[str, str | None] = {}  # where the chain stops (None: it loops)
        lengths: dict[str, int] = {}  # hops from here to where it stops
        loops: list[tuple[str, ...]] = []
        for replica in self.replicas:
            if replica in ends:
                continue
            path: list[str] = []
            on_path: dict[str, int] = {}
            current = replica
            while True:
                if current in ends:  # settled by an earlier walk
                    end, stop, beyond = ends[current], stops[current], lengths[current] + 1
                    break
                if current in on_path:  # the walk closed on itself: a new cycle
                    loops.append(tuple(path[on_path[current]:]))
                    end, stop, beyond = "cycle", None, 0
                    break
                on_path[current] = len(path)
                path.append(current)
                nxt = self.source(current)
                if nxt is None:  # it stops here
                    end = "primary" if self.topology.components[current].role is Role.PRIMARY else "no-primary"
                    stop, beyond = current, 0
                    break
                current = nxt
            for at, name in enumerate(path):
                ends[name], stops[name], lengths[name] = end, stop, len(path) - 1 - at + beyond
        self._ends = {replica: ends[replica] for replica in self.replicas}
        self._stops, self._lengths, self._loops = stops, lengths, loops

def replication(context) -> Replication:
    hit = context.cache.get("writes.replication")
    if hit is None:
        hit = Replication(context.topology)
        context.cache["writes.replication"] = hit
    return hit
