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
from .model import PUBLIC_SERVICE, FailureUnit, Kind, Topology, Verb
from .policy import INTERNET

Hop = tuple[str, str]  # (what needs, what it needs): component or cluster names ("internet": its clients)


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
    hops that lead to a failed component or a blocked hop. The cases follow the
    evaluator's explanation walk: a name's client groups, name servers and answers;
    a listener's targets (a cluster's primary or replicas, ``need N``); a
    requirement's alternatives (clusters and their majority, external targets
    behind egress gateways); a job's targets."""

    def __init__(self, topology: Topology, evaluator: Evaluator, failed: frozenset[FailureUnit]):
        self.topology = topology
        self.components = topology.components
        self.clusters = topology.clusters
        self.ev = evaluator
        self.failed_units = failed
        self.value = evaluator.serving(failed)
        self.failed = frozenset(n for n in topology.components if not evaluator.live(n, failed))
        self.needs: dict[str, list[str]] = {}
        self.blocked: set[Hop] = set()
        self.starts: list[str] = []

    # -- what serves -------------------------------------------------------------

    def serves(self, name: str) -> bool:
        cluster = self.clusters.get(name)
        if cluster is not None:
            return self.ev.has_majority(name, self.failed_units) and any(self.serves(m) for m in cluster.members)
        comp = self.components.get(name)
        if comp is None or comp.kind.by_networks:
            return True
        if name in self.failed:
            return False
        if comp.kind.forwards:
            return any(self.value.get((name, i), False) for i in range(len(comp.listeners)))
        return self.value.get(name, True)

    # -- exploring -----------------------------------------------------------------

    def start(self, service: str) -> None:
        if service == PUBLIC_SERVICE:
            for comp in self.components.values():
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
            needed = list(dict.fromkeys(self._needed(name)))
            self.needs[name] = needed
            pending.extend(reversed(needed))

    def _needed(self, name: str) -> list[str]:
        """What ``name`` (which does not serve) needs that does not serve; the hops it cannot
        make at all (policy, a port, no public address, no egress) go to ``blocked``, as the
        evaluator's explanation puts a hop it cannot make before what lies behind it."""
        out: list[str] = []
        if name in self.failed:
            return out
        if name in self.clusters:
            return [m for m in self.clusters[name].members if not self.serves(m)]
        comp = self.components[name]
        if comp.kind is not Kind.JOB and not self.ev.usable(name, self.failed_units):
            cluster = self.ev.cluster_of(name)  # live, but its quorum cluster lost its majority
            return [cluster] if cluster is not None else []
        if comp.kind is Kind.DNS:
            self._name(name, comp, out)
        elif comp.kind.forwards:
            self._listeners(name, comp, out)
        elif comp.kind is Kind.JOB:
            self._job(name, out)
        else:
            self._requirements(name, out)
        return out

    def _name(self, name: str, comp, out: list[str]) -> None:
        ev = self.ev
        for group in ev.client_groups(comp):
            if ev._group_reaches(name, group, self.failed_units, self.value):
                continue
            if not ev._resolution_free(comp) and not any(
                    ev._resolves_from(comp, group, point, self.failed_units, self.value)
                    for point in ev.resolving_points(group)):
                if comp.served_by:
                    for server in comp.served_by:
                        self._classify(name, server, self._verdict(group, server, self._ports(server)), out)
                else:  # its own name server, out of the group's reach
                    self.blocked.add(("internet" if group == INTERNET else group, name))
                continue
            before = (len(out), len(self.blocked))
            for answer in comp.answers:
                self._classify(name, answer, self._verdict(group, answer, self._ports(answer)), out)
            if (len(out), len(self.blocked)) == before:
                # each step works on its own, but not from one address: the clients that can
                # resolve the name cannot reach a serving answer from that same address
                for answer in comp.answers:
                    self.blocked.add((name, answer))

    def _listeners(self, name: str, comp, out: list[str]) -> None:
        ev = self.ev
        for index, listener in enumerate(comp.listeners):
            if self.value.get((name, index), False):
                continue
            for item in ev.items(listener):
                if ev._item_serves(name, item, self.failed_units, self.value):
                    continue
                written = item.name
                if item.selector is None and item.name not in listener.targets:
                    written = ev.cluster_of(item.name) or item.name  # a member of a plain cluster target
                candidates = ev.item_candidates(item, self.failed_units)
                if item.selector and not candidates:
                    out.append(written)  # no primary, no replica, or no majority
                for target in candidates:
                    verdict = self._verdict(name, target, ev.forward_ports(item, target))
                    self._classify(name, written, verdict, out)

    def _requirements(self, name: str, out: list[str]) -> None:
        for req in self.topology.requirements_of(name):
            if req.optional or self.ev.requirement_met(req, self.failed_units, self.value):
                continue
            chosen, skipped = self.ev.requirement_choice(req, self.failed_units)
            for target, _ in skipped:
                self._passed_over(name, req, target, out)
            if chosen is None:
                continue
            comp = self.components.get(chosen)
            if comp is None or comp.kind is Kind.DNS:  # a cluster's recipients, or a name's answers
                self._classify(name, chosen, "down" if not self.serves(chosen) or comp is None else "blocked", out)
            elif not comp.kind.by_networks:
                self._classify(name, chosen, self._verdict(name, chosen, comp.service_ports), out)

    def _passed_over(self, name: str, req, target: str, out: list[str]) -> None:
        """A requirement target skipped as unavailable: down, without a primary or a
        majority, behind a failed egress gateway, or out of reach."""
        ev, failed = self.ev, self.failed_units
        cluster = self.clusters.get(target)
        if cluster is not None:
            down = (not ev.has_majority(target, failed) or not ev.live_members(target, failed)
                    or (req.verb is Verb.WRITES and cluster.has_roles and ev.current_primary(target, failed) is None))
            self._classify(name, target, "down" if down else "blocked", out)
            return
        comp = self.components[target]
        if comp.kind is Kind.EXTERNAL and not self.components[name].public_addresses:
            gateways = self.topology.egress_of(name)
            gateway = ev.egress_gateway(name, failed)
            if gateways and gateway is None:
                out.extend(gateways)  # every egress gateway is down
            elif gateway is not None and not ev.policy.connect(name, gateway, comp.service_ports):
                self.blocked.add((name, gateway))
            else:
                self.blocked.add((name, target))
            return
        down = target in self.failed or not ev.usable(target, failed) or (
            comp.kind is Kind.DNS and not self.serves(target))
        self._classify(name, target, "down" if down else "blocked", out)

    def _job(self, name: str, out: list[str]) -> None:
        """A job's requirement needs no connection: each target that does not serve is a cause."""
        for req in self.topology.requirements_of(name):
            if req.optional or self.ev._job_requirement_met(req, self.failed_units, self.value):
                continue
            out.extend(t for t in req.targets if not self.serves(t) or (
                t in self.clusters and not self.ev._cluster_recipients(req, t, self.failed_units)))

    def _ports(self, name: str):
        return self.components[name].service_ports

    def _verdict(self, source: str, target: str, ports) -> str | None:
        """A hop from ``source`` to ``target`` on ``ports``: ``blocked`` when it cannot be made,
        ``down`` when it can but what it reaches does not serve, None when it serves."""
        comp = self.components[target]
        if source == INTERNET and not comp.public_addresses:
            return "blocked"
        entries = self.ev.entry_points(target, ports)
        allowed = [node for node, arriving in entries if self.ev.policy.connect(source, target, arriving)]
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

    # -- keeping what explains ------------------------------------------------------

    def result(self, units: tuple[FailureUnit, ...], stopped: tuple[str, ...]) -> Scenario:
        explains = {n for n in self.needs if n in self.failed}
        explains |= {source for source, _ in self.blocked if source in self.needs}
        # a hop the clients themselves (the internet, a client group) cannot make explains its target
        entries = {(s, t) for s, t in self.blocked
                   if s not in self.components or self.components[s].kind.by_networks}
        explains |= {target for _, target in entries if target in self.needs}
        changed = True
        while changed:  # backwards closure: a node explains when something it needs does
            changed = False
            for name, needed in self.needs.items():
                if name not in explains and any(n in explains for n in needed):
                    explains.add(name)
                    changed = True
        cause = frozenset((n, m) for n, needed in self.needs.items() if n in explains
                          for m in needed if m in explains)
        blocked = frozenset(hop for hop in self.blocked if hop[0] in explains or hop in entries)
        on_path = {n for n, _ in cause | blocked} | {m for _, m in cause} | {n for n in self.starts if n in explains}
        down = frozenset(n for n in on_path if n not in self.failed and n not in stopped)
        return Scenario(units, self.failed, stopped, down, cause, blocked)
