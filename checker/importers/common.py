"""What the Kubernetes and Compose importers share: reading files, showing places, placing
replicas on nodes, and the overlay's part in an import."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ..model import Span
from ..results import Result
from .yamlnodes import Documents, load


class Sources:
    """The files of one import, and how comments name a place in them: a file by its
    base name when that is unambiguous, else by its path as given."""

    def __init__(self, files: Sequence[tuple[str, str]]):
        self.texts: dict[str, str] = {}
        for path, text in files:
            self.texts.setdefault(path, text)
        names = [os.path.basename(p) or p for p in self.texts]
        self.short = {p: (os.path.basename(p) or p) if names.count(os.path.basename(p) or p) == 1 else p
                      for p in self.texts}

    def where(self, span: Span) -> str:
        return f"{self.short.get(span.path, span.path)}:{span.line}"

    @property
    def anchor(self) -> str:
        return next(iter(self.texts), "<stdin>")

    def load(self) -> tuple[list[Documents], tuple[Result, ...]]:
        loaded = [load(text, path) for path, text in self.texts.items()]
        return loaded, tuple(d.error for d in loaded if d.error is not None)


@dataclass(frozen=True)
class OverlayInfo:
    """What an import needs to know of the overlay (read by :mod:`checker.importers.overlay`).

    ``zones``: the zones it declares, in order; ``used``: names it names as requirement
    or listener targets (so the importer adds no stand-in job for their clients);
    ``alternatives``: name lists whose members it treats as alternatives (requirement
    targets, listener targets, dns answers); ``needs``: (source, target) of each of its
    requirements; ``amendments``: placement attributes it gives imported components, by
    name: (word, text, span in the overlay).
    """

    zones: tuple[str, ...] = ()
    used: frozenset[str] = frozenset()
    alternatives: tuple[tuple[str, ...], ...] = ()
    needs: tuple[tuple[str, str], ...] = ()
    amendments: dict[str, tuple[tuple[str, str, Span], ...]] = field(default_factory=dict)


NO_OVERLAY = OverlayInfo()


class Addresses:
    """Consecutive addresses from one network after another, skipping the first ``skip``
    of each."""

    def __init__(self, *networks: str, skip: int = 10):
        self.networks = [ipaddress.ip_network(n) for n in networks]
        self.skip = skip
        self.network = self.networks.pop(0)
        self.next = int(self.network.network_address) + skip

    def take(self) -> str:
        address = ipaddress.ip_address(self.next)
        while address not in self.network:
            if not self.networks:  # pragma: no cover - more than a /12 of services
                raise OverflowError(f"more addresses than {self.network} holds")
            self.network = self.networks.pop(0)
            self.next = int(self.network.network_address) + self.skip
            address = ipaddress.ip_address(self.next)
        self.next += 1
        return str(address)


#: Public addresses nobody wrote down (a host's, a cloud load balancer's): the three
#: documentation networks, then the benchmarking one (public here, LANGUAGE.md section
#: 2.4, and 131,072 addresses: a project that publishes thousands of ports still gets one
#: each, where the first network alone ran out after 246).
PUBLIC_STAND_INS = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15")


class Groups:
    """Union-find over workload names, each group named after its first member (input order)."""

    def __init__(self, names: Iterable[str]):
        self.order = {name: index for index, name in enumerate(names)}
        self.parent = {name: name for name in self.order}

    def find(self, name: str) -> str:
        root = name
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[name] != root:
            self.parent[name], name = root, self.parent[name]
        return root

    def union(self, names: Iterable[str]) -> None:
        roots = sorted({self.find(n) for n in names if n in self.parent}, key=self.order.__getitem__)
        for other in roots[1:]:
            self.parent[other] = roots[0]

    def name(self, member: str) -> str:
        return self.find(member)


def alternative_groups(workloads: Sequence[str], alternatives: Iterable[Iterable[str]],
                       requires: dict[str, set[str]], one_node: bool = False) -> Groups:
    """The groups of workloads whose unspread replicas one node holds in the model.

    Workloads that are alternatives to each other (a Service over several of them, an
    overlay's list of targets), together with everything they depend on, share one
    group: then every smallest set of pods whose loss stops a service lies within one
    group, so a node per group is as bad as any placement a scheduler may choose
    (spec/IMPORT-K8S.md, "Placement"). ``one_node`` puts every workload in one group."""
    groups = Groups(workloads)
    if one_node:
        groups.union(workloads)
        return groups
    for alternative in alternatives:
        members = {w for w in alternative if w in groups.parent}
        if len(members) < 2:
            continue
        closure, pending = set(members), list(members)
        while pending:
            for needed in requires.get(pending.pop(), ()):
                if needed not in closure:
                    closure.add(needed)
                    pending.append(needed)
        groups.union(closure)
    return groups


def zone_spread(replicas: int, zones: Sequence[str], cap: int | None, skew: int | None) -> list[str | None]:
    """The zone of each replica in the worst placement a scheduler may choose.

    No constraint: every replica in the first zone. ``cap`` (a required anti-affinity
    on the zone): at most that many per zone, the rest unscheduled (None). ``skew`` (a
    ``DoNotSchedule`` spread): each replica goes to the first zone that keeps the
    difference between the fullest and the emptiest zone within the skew."""
    if not zones:
        return [None] * replicas
    if cap is None and skew is None:
        return [zones[0]] * replicas
    counts = [0] * len(zones)
    out: list[str | None] = []
    for _ in range(replicas):
        chosen = None
        for index in range(len(zones)):
            trial = counts.copy()
            trial[index] += 1
            if cap is not None and trial[index] > cap:
                continue
            if skew is not None and max(trial) - min(trial) > skew:
                continue
            chosen = index
            break
        if chosen is None:
            out.append(None)
            continue
        counts[chosen] += 1
        out.append(zones[chosen])
    return out


@dataclass
class Placement:
    """Where one replica runs: its node (a host of the model) and zone."""

    node: str
    zone: str | None


def place(workloads: Sequence[tuple[str, list[str | None], int | None]],
          groups: Groups) -> dict[tuple[str, int], Placement]:
    """Nodes for replicas: ``(workload, zone of each replica, replicas per node or None)``.

    In each group and zone, node *i* holds the *i*-th replica of every workload that may
    have several per node only up to its cap, and node 1 also every replica of a workload
    nothing spreads; so node 1 is the worst node, as on a real cluster that packs pods."""
    counts: dict[tuple[str, str | None], int] = {}
    slots: dict[tuple[str, int], tuple[str, str | None, int]] = {}
    for workload, zones, cap in workloads:
        group = groups.name(workload)
        rank: dict[str | None, int] = {}
        for index, zone in enumerate(zones):
            r = rank.get(zone, 0)
            rank[zone] = r + 1
            node = r // cap if cap else 0
            slots[(workload, index)] = (group, zone, node)
            counts[(group, zone)] = max(counts.get((group, zone), 0), node + 1)
    out = {}
    for key, (group, zone, node) in slots.items():
        name = f"node-{group}" + (f"-{zone}" if zone is not None else "")
        if counts[(group, zone)] > 1:
            name += f"-{node + 1}"
        out[key] = Placement(name, zone)
    return out
