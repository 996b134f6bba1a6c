"""What one failure scenario does to a topology, as a diagram draws it.

A counterexample of ``no-spof``, ``zone-redundancy`` or ``available`` names the
failed units and the stopped services; its explanation says why in words. A
diagram draws the same reason as a picture: the components that failed, the
ones that are live but serve nothing because of them, and the *causal path*:
the hops from each stopped service down to what failed (a DNS answer, a
listener's forward, a requirement such as ``app2 uses redis1``, a cluster's
member), plus the hops that fail although both ends serve (the policy or a port
blocks them, as ``available`` reports).

Everything here is read off the reference evaluator (:mod:`checker.evaluator`),
the one statement of the semantics, so the picture says what the checks prove.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .evaluator import Evaluator
from .model import PUBLIC_SERVICE, FailureUnit, Kind, Topology
from .policy import INTERNET

Hop = tuple[str, str]  # (what needs, what it needs), as drawn: component or cluster names


@dataclass(frozen=True)
class Scenario:
    """The failed units of a counterexample and what they do.

    ``cause`` holds the hops of the causal path whose far end does not serve,
    ``blocked`` the hops that fail although their far end serves; ``down`` the
    components and clusters on the path that are live yet serve nothing.
    """

    units: tuple[FailureUnit, ...]
    failed: frozenset[str]
    stopped: tuple[str, ...]
    down: frozenset[str]
    cause: frozenset[Hop]
    blocked: frozenset[Hop]


def unit_of_label(topology: Topology, label: str) -> FailureUnit | None:
    """The failure unit a counterexample names (``host:H``, ``zone:Z``, ``region:R``, a component)."""
    for kind in ("host", "zone", "region"):
        if label.startswith(kind + ":"):
            return FailureUnit(kind, label[len(kind) + 1:])
    if label in topology.components:
        return topology.host_unit(label)
    return None


def scenario(topology: Topology, failed_labels: Iterable[str], stopped: Iterable[str] = (),
             evaluator: Evaluator | None = None) -> Scenario:
    """The failed components, and the causal path from each stopped service to what failed."""
    units = tuple(u for u in (unit_of_label(topology, str(label)) for label in failed_labels) if u is not None)
    walk = _Walk(topology, evaluator or Evaluator(topology), frozenset(units))
    stopped = tuple(s for s in stopped if s in topology.components or s == PUBLIC_SERVICE)
    for service in stopped:
        walk.start(service)
    return walk.result(units, stopped)


class _Walk:
    """Explore what each non-serving node needs that does not serve, then keep the
    hops that lead to a failed component or a blocked hop."""

    def __init__(self, topology: Topology, evaluator: Evaluator, failed: frozenset[FailureUnit]):
        self.topology = topology
        self.components = topology.components
        self.evaluator = evaluator
        self.failed_units = failed
        self.value = evaluator.serving(failed)
        self.failed = frozenset(n for n in topology.components if not evaluator.live(n, failed))
        self.needs: dict[str, list[str]] = {}
        self.blocked: set[Hop] = set()
        self.starts: list[str] = []

    # -- what serves -------------------------------------------------------------

    def serves(self, name: str) -> bool:
        if name in self.topology.clusters:
            return any(self.serves(m) for m in self.topology.clusters[name].members)
        comp = self.topology.components.get(name)
        if comp is None or comp.kind is Kind.INTERNET:
            return True
        if name in self.failed:
            return False
        if comp.kind.forwards:
            return any(self.value.get((name, i), False) for i in range(len(comp.listeners)))
        return self.value.get(name, True)

    # -- exploring -----------------------------------------------------------------

    def start(self, service: str) -> None:
        if service == PUBLIC_SERVICE:
            for comp in self.topology.components.values():
                if comp.public_addresses and comp.kind not in (Kind.DNS, Kind.INTERNET) and not self.serves(comp.name):
                    self._explore(comp.name)
                    self.starts.append(comp.name)
            return
        self.starts.append(service)
        self._explore(service)

    def _explore(self, root: str) -> None:
        pending = [root]
        while pending:
            name = pending.pop()
            if name in self.needs:
                continue
            needed = self._needed(name)
            self.needs[name] = needed
            pending.extend(reversed(needed))

    def _needed(self, name: str) -> list[str]:
        """What ``name`` (which does not serve) needs that does not serve; the hops it cannot
        make at all (policy, a port, no public address) go to ``blocked``, as the evaluator's
        explanation puts a hop it cannot make before what lies behind it."""
        out: list[str] = []
        if name in self.failed:
            return out
        if name in self.topology.clusters:
            return [m for m in self.topology.clusters[name].members if not self.serves(m)]
        comp = self.topology.components[name]
        if comp.kind is Kind.DNS:
            for answer in comp.answers:
                self._classify(name, answer, self._verdict(INTERNET, answer, self.components[answer].service_ports),
                               out)
        elif comp.kind.forwards:
            for index, listener in enumerate(comp.listeners):
                if self.value.get((name, index), False):
                    continue
                for target in listener.targets:
                    cluster = self.topology.clusters.get(target)
                    members = cluster.members if cluster is not None else (target,)
                    verdicts = [self._verdict(name, m, listener.target_ports or self.components[m].service_ports)
                                for m in members]
                    if "down" in verdicts:
                        out.append(target)
                    elif "blocked" in verdicts:
                        self.blocked.add((name, target))
        else:
            for req in self.topology.requirements_of(name):
                if req.optional or self.evaluator.requirement_met(req, self.failed_units, self.value):
                    continue
                chosen, skipped = self.evaluator.requirement_choice(req, self.failed_units)
                for target, _ in skipped:
                    self._classify(name, target, "down" if self._unavailable_as_down(target) else "blocked", out)
                if chosen is not None and chosen in self.components:
                    target = self.components[chosen]
                    if target.kind is Kind.DNS:
                        verdict = "down" if not self.serves(chosen) else "blocked"
                    else:
                        verdict = self._verdict(name, chosen, target.service_ports)
                    self._classify(name, chosen, verdict, out)
        return list(dict.fromkeys(out))

    def _verdict(self, source: str, target: str, ports) -> str | None:
        """A hop from ``source`` to ``target`` on ``ports``: ``blocked`` when it cannot be made,
        ``down`` when it can but what it reaches does not serve, None when it serves."""
        comp = self.components[target]
        if source == INTERNET and not comp.public_addresses:
            return "blocked"
        entries = self.evaluator.entry_points(target, ports)
        allowed = [node for node, arriving in entries if self.evaluator.policy.connect(source, target, arriving)]
        if not allowed:
            return "blocked"
        if target not in self.failed and any(self.value.get(node, True) for node in allowed):
            return None
        return "down"

    def _classify(self, source: str, target: str, verdict: str | None, out: list[str]) -> None:
        if verdict == "down":
            out.append(target)
        elif verdict == "blocked":
            self.blocked.add((source, target))

    def _unavailable_as_down(self, target: str) -> bool:
        """Whether a requirement target passed over was down (rather than out of reach)."""
        cluster = self.topology.clusters.get(target)
        if cluster is None:
            return target in self.failed
        return self._cluster_without_primary(target) or all(m in self.failed for m in cluster.members)

    def _cluster_without_primary(self, name: str) -> bool:
        cluster = self.topology.clusters.get(name)
        if cluster is None:
            return False
        return self.evaluator.current_primary(name, self.failed_units) is None and any(
            m in self.failed for m in cluster.members)

    # -- keeping what explains ------------------------------------------------------

    def result(self, units: tuple[FailureUnit, ...], stopped: tuple[str, ...]) -> Scenario:
        explains = {n for n in self.needs if n in self.failed}
        explains |= {source for source, _ in self.blocked if source in self.needs}
        changed = True
        while changed:  # backwards closure: a node explains when something it needs does
            changed = False
            for name, needed in self.needs.items():
                if name not in explains and any(n in explains for n in needed):
                    explains.add(name)
                    changed = True
        cause = frozenset((n, m) for n, needed in self.needs.items() if n in explains
                          for m in needed if m in explains)
        blocked = frozenset(hop for hop in self.blocked if hop[0] in explains)
        on_path = {n for n, _ in cause | blocked} | {m for _, m in cause} | {n for n in self.starts if n in explains}
        down = frozenset(n for n in on_path if n not in self.failed and n not in stopped)
        return Scenario(units, self.failed, stopped, down, cause, blocked)
