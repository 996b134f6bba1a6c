"""The reference evaluator: LANGUAGE.md section 4, read literally.

Given a topology and a set of failed units, it answers "is each service up,
why not, and where does each write go". It is deliberately plain: a greatest
fixed point computed by iterating from "everything live serves" downwards, and
direct recursion for explanations and writes. The fast engines (graph
algorithms, Z3) are tested against it, and every counterexample they find is
replayed through it before it is reported.

Serving, per component kind (section 3's table):

* ``db`` serves when live.
* ``web``/``service`` serve when live and every non-optional requirement is met.
  A requirement's targets are tried in order: the first that is *available*
  (live, and reachable under the policy) gets the request, and the requirement
  is met when that target serves.
* an ``lb``/``gateway`` listener serves when its component is live and one
  target it may reach (policy and port) serves.
* a ``dns`` name serves when live and clients on the internet reach one of its
  answers (on a public address, every hop allowed) and that answer serves.

Requirements may form cycles; the greatest fixed point makes a cycle met while
everything on it is live and its other requirements are met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Union

from .model import PUBLIC_SERVICE, Cluster, Component, FailureUnit, Kind, Requirement, Topology, Verb
from .net import PortSet
from .policy import INTERNET, Decision, Policy

# A node of the serving equations: a component, or one listener of an lb/gateway.
Node = Union[str, tuple[str, int]]

MAX_EXPLANATION_LINES = 12


@dataclass(frozen=True)
class Explanation:
    """One path's reason a service is down; ``requirement`` is the first unmet
    requirement on that path, if the path reached one."""

    text: str
    requirement: Requirement | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class WriteTrace:
    """Where one write lands in one scenario.

    ``writer`` issued the write through ``requirement``; ``path`` lists the
    components it passed, ending at ``landing`` (a db), or at the last
    component that could take it when it landed nowhere (``landing`` None).
    """

    writer: str
    requirement: Requirement
    path: tuple[str, ...]
    landing: str | None
    cluster: str | None  # the landing db's cluster
    primary: str | None  # that cluster's current primary in the scenario

    @property
    def bad(self) -> bool:
        """A write that reached a clustered db that is not its cluster's current primary."""
        return self.landing is not None and self.cluster is not None and self.landing != self.primary


class Evaluator:
    """Plain evaluation of services and writes under a set of failed units."""

    def __init__(self, topology: Topology, policy: Policy | None = None):
        self.topology = topology
        self.policy = policy or Policy(topology)
        self.components = topology.components
        self._cluster_of_db: dict[str, str] = {}
        for cluster in topology.clusters.values():
            for member in cluster.members:
                self._cluster_of_db.setdefault(member, cluster.name)

    # -- liveness --------------------------------------------------------------

    def live(self, name: str, failed: frozenset[FailureUnit]) -> bool:
        """A component is live when none of the units it runs on has failed."""
        return not any(unit in failed for unit in self.topology.units_of(name))

    def cluster_of(self, db: str) -> str | None:
        return self._cluster_of_db.get(db)

    def current_primary(self, cluster: str, failed: frozenset[FailureUnit]) -> str | None:
        """The declared primary if live; else, with failover auto, the first live member."""
        c: Cluster = self.topology.clusters[cluster]
        if c.primary is not None and self.live(c.primary, failed):
            return c.primary
        if c.failover.value == "auto":
            for member in c.members:
                if self.live(member, failed):
                    return member
        return None

    # -- the serving equations ---------------------------------------------------

    def nodes(self) -> list[Node]:
        out: list[Node] = []
        for comp in self.components.values():
            if comp.kind is Kind.INTERNET:
                continue
            if comp.kind.forwards:
                out.extend((comp.name, i) for i in range(len(comp.listeners)))
            else:
                out.append(comp.name)
        return out

    def serving(self, failed: frozenset[FailureUnit]) -> dict[Node, bool]:
        """The greatest fixed point of the serving equations.

        Start from "every node serves" and lower a node to False when its equation
        says so; every equation is monotone in the node values, so this chaotic
        iteration reaches the greatest fixed point. A node is re-evaluated only
        when a node its equation reads has just changed (``_dependents``).
        """
        value: dict[Node, bool] = {n: True for n in self.nodes()}
        dependents = self._dependents()
        pending = list(value)
        queued = set(pending)
        while pending:
            node = pending.pop()
            queued.discard(node)
            if value[node] and not self._node_value(node, failed, value):
                value[node] = False
                for dependent in dependents.get(node, ()):
                    if value[dependent] and dependent not in queued:
                        queued.add(dependent)
                        pending.append(dependent)
        return value

    def _dependents(self) -> dict[Node, set[Node]]:
        """For each node, the nodes whose equations read its value (an over-approximation:
        every entry point of every target a node may forward, answer or send a request to)."""
        cached = getattr(self, "_dependents_cache", None)
        if cached is not None:
            return cached
        out: dict[Node, set[Node]] = {}

        def entries(name: str) -> list[Node]:
            if name in self.topology.clusters:
                return [m for m in self.topology.clusters[name].members]
            comp = self.components[name]
            if comp.kind.forwards:
                return [(name, i) for i in range(len(comp.listeners))]
            if comp.kind is Kind.DNS:
                return [e for a in comp.answers for e in entries(a)]
            return [name]

        for node in self.nodes():
            if isinstance(node, tuple):
                name, index = node
                reads = [
                    e for target, _ in self._forwards(name, self.components[name].listeners[index])
                    for e in entries(target)
                ]
            else:
                comp = self.components[node]
                if comp.kind is Kind.DNS:
                    reads = [e for a in comp.answers for e in entries(a)]
                else:
                    reads = [e for req in self.topology.requirements_of(node) for t in req.targets for e in entries(t)]
            for read in reads:
                out.setdefault(read, set()).add(node)
        self._dependents_cache = out
        return out

    def _node_value(self, node: Node, failed: frozenset[FailureUnit], value: dict[Node, bool]) -> bool:
        if isinstance(node, tuple):
            name, index = node
            if not self.live(name, failed):
                return False
            listener = self.components[name].listeners[index]
            return any(
                self._hop_serves(name, target, ports, failed, value)
                for target, ports in self._forwards(name, listener)
            )
        comp = self.components[node]
        if not self.live(node, failed):
            return False
        if comp.kind is Kind.DB:
            return True
        if comp.kind is Kind.DNS:
            return any(self._client_reaches(a, failed, value) for a in comp.answers)
        return all(
            req.optional or self.requirement_met(req, failed, value)
            for req in self.topology.requirements_of(node)
        )

    def _forwards(self, name: str, listener) -> list[tuple[str, PortSet]]:
        """(target, ports the forward is sent to) for each target of a listener."""
        out = []
        for target in listener.targets:
            members = self.topology.clusters[target].members if target in self.topology.clusters else (target,)
            for member in members:
                ports = listener.target_ports or self.components[member].service_ports
                out.append((member, ports))
        return out

    def entry_points(self, target: str, ports: PortSet) -> list[tuple[Node, PortSet]]:
        """The nodes a connection to ``target`` on ``ports`` may be served by, with the
        ports it arrives on: a listener whose ports overlap, or the component itself."""
        comp = self.components[target]
        if comp.kind.forwards:
            return [
                ((target, i), ports & listener.ports)
                for i, listener in enumerate(comp.listeners)
                if ports & listener.ports
            ]
        accepted = ports & comp.listen if comp.listen is not None else ports
        return [(target, accepted)] if accepted else []

    def _hop_serves(self, source: str, target: str, ports: PortSet, failed, value) -> bool:
        for node, arriving in self.entry_points(target, ports):
            if value[node] and self.policy.connect(source, target, arriving):
                return True
        return False

    def _client_reaches(self, answer: str, failed, value) -> bool:
        comp = self.components[answer]
        return self._hop_serves(INTERNET, answer, comp.service_ports, failed, value)

    # -- requirements ------------------------------------------------------------

    def requirement_choice(
        self, req: Requirement, failed: frozenset[FailureUnit]
    ) -> tuple[str | None, list[tuple[str, str]]]:
        """The target that gets the request (the first available one), and why each
        earlier target was passed over."""
        skipped: list[tuple[str, str]] = []
        for target in req.targets:
            why_not = self._unavailable(req, target, failed)
            if why_not is None:
                return target, skipped
            skipped.append((target, why_not))
        return None, skipped

    def _unavailable(self, req: Requirement, target: str, failed: frozenset[FailureUnit]) -> str | None:
        """None when ``target`` is live and reachable from the requirement's source."""
        source = req.source
        if target in self.topology.clusters:
            cluster = self.topology.clusters[target]
            if req.verb is Verb.WRITES:
                primary = self.current_primary(target, failed)
                if primary is None:
                    return f"{target} has no live primary (failover {cluster.failover.value})"
                return self._unreachable(source, primary)
            live = [m for m in cluster.members if self.live(m, failed)]
            if not live:
                return f"every member of {target} is down"
            reasons = [self._unreachable(source, m) for m in live]
            if all(reasons):
                return reasons[0]
            return None
        if not self.live(target, failed):
            return f"{target} is down ({self.failed_units_of(target, failed)})"
        comp = self.components[target]
        if comp.kind is Kind.DNS:
            reasons = [self._unreachable(source, a) for a in comp.answers]
            return None if not all(reasons) else reasons[0]
        return self._unreachable(source, target)

    def _unreachable(self, source: str, target: str) -> str | None:
        ports = self.components[target].service_ports
        decision = self.policy.connect(source, target, ports)
        if decision:
            return None
        return denial_text(source, target, ports, decision)

    def requirement_met(self, req: Requirement, failed: frozenset[FailureUnit], value: dict[Node, bool]) -> bool:
        target, _ = self.requirement_choice(req, failed)
        if target is None:
            return False
        return self._target_serves(req, target, failed, value)

    def _target_serves(self, req: Requirement, target: str, failed, value) -> bool:
        source = req.source
        if target in self.topology.clusters:
            return True  # a live, reachable db (the primary for writes) serves
        comp = self.components[target]
        if comp.kind is Kind.DNS:
            return any(
                self._hop_serves(source, a, self.components[a].service_ports, failed, value)
                for a in comp.answers
                if self.live(a, failed)
            )
        return self._hop_serves(source, target, comp.service_ports, failed, value)

    # -- services ----------------------------------------------------------------

    def services_up(self, failed: Iterable[FailureUnit] = ()) -> dict[str, bool]:
        """For each service (dns name, or the implicit public service), whether it is up."""
        failed = frozenset(failed)
        value = self.serving(failed)
        dns = [c for c in self.components.values() if c.kind is Kind.DNS]
        if dns:
            return {c.name: value[c.name] for c in dns}
        return {PUBLIC_SERVICE: self._public_service_up(failed, value)}

    def _public_service_up(self, failed, value) -> bool:
        for comp in self.components.values():
            if comp.kind in (Kind.DNS, Kind.INTERNET) or not comp.public_addresses:
                continue
            if self._client_reaches(comp.name, failed, value):
                return True
        return False

    def stopped(self, failed: Iterable[FailureUnit]) -> list[str]:
        """The services that are down in this scenario, sorted."""
        return sorted(name for name, up in self.services_up(failed).items() if not up)

    # -- explanations ------------------------------------------------------------

    def failed_units_of(self, name: str, failed: frozenset[FailureUnit]) -> str:
        units = [u.label for u in self.topology.units_of(name) if u in failed]
        return "failed: " + ", ".join(units) if units else "failed"

    def explain(self, service: str, failed: Iterable[FailureUnit] = ()) -> list[Explanation]:
        """Why a service is down: the first unmet thing on each path, as chains of hops."""
        failed = frozenset(failed)
        value = self.serving(failed)
        lines: list[Explanation] = []
        if service == PUBLIC_SERVICE:
            public = [c for c in self.components.values() if c.public_addresses and c.kind not in (Kind.DNS, Kind.INTERNET)]
            if not public:
                return [Explanation("no component has a public address, so clients on the internet reach nothing")]
            for comp in public:
                self._why_hop(INTERNET, comp.name, comp.service_ports, failed, value, [comp.name], set(), lines)
            return _dedupe(lines)
        dns = self.components[service]
        if not self.live(service, failed):
            return [Explanation(f"{service} is down ({self.failed_units_of(service, failed)})")]
        for answer in dns.answers:
            comp = self.components[answer]
            self._why_hop(INTERNET, answer, comp.service_ports, failed, value, [service, answer], set(), lines)
        return _dedupe(lines)

    def _why_hop(self, source, target, ports, failed, value, chain, seen, lines) -> None:
        prefix = " -> ".join(chain)
        if len(lines) >= MAX_EXPLANATION_LINES:
            return
        who = "clients on the internet" if source == INTERNET else source
        if source == INTERNET and not self.components[target].public_addresses:
            lines.append(Explanation(f"{prefix}: {target} has no public address, so {who} cannot reach it"))
            return
        entries = self.entry_points(target, ports)
        if not entries:
            lines.append(Explanation(f"{prefix}: {target} does not listen on {ports}"))
            return
        for node, arriving in entries:
            decision = self.policy.connect(source, target, arriving)
            if not decision:
                lines.append(Explanation(f"{prefix}: {denial_text(source, target, arriving, decision)}"))
                continue
            if value[node]:
                continue
            self._why_node(node, failed, value, chain, seen, lines)

    def _why_node(self, node: Node, failed, value, chain, seen, lines) -> None:
        prefix = " -> ".join(chain)
        name = node[0] if isinstance(node, tuple) else node
        if not self.live(name, failed):
            lines.append(Explanation(f"{prefix}: {name} is down ({self.failed_units_of(name, failed)})"))
            return
        if node in seen:
            lines.append(Explanation(f"{prefix}: requirement cycle through {name} is not met"))
            return
        seen = seen | {node}
        if isinstance(node, tuple):
            listener = self.components[name].listeners[node[1]]
            forwards = self._forwards(name, listener)
            if not forwards:
                lines.append(Explanation(f"{prefix}: listener {listener.ports} has no targets"))
            for target, ports in forwards:
                self._why_hop(name, target, ports, failed, value, chain + [target], seen, lines)
            return
        for req in self.topology.requirements_of(name):
            if req.optional or self.requirement_met(req, failed, value):
                continue
            head = f"{prefix}: {req.source} {req.verb.value} {', '.join(req.targets)} (line {req.span.line})"
            target, skipped = self.requirement_choice(req, failed)
            if target is None:
                reasons = "; ".join(reason for _, reason in skipped)
                lines.append(Explanation(f"{head}: {reasons}", req))
                continue
            comp = self.components.get(target)
            if comp is None or comp.kind is Kind.DNS:
                lines.append(Explanation(f"{head}: {target} does not serve", req))
                continue
            sub: list[Explanation] = []
            self._why_hop(name, target, comp.service_ports, failed, value, [target], seen, sub)
            if not sub:
                lines.append(Explanation(f"{head}: {target} does not serve", req))
            for line in sub:
                lines.append(Explanation(f"{head} -> {line.text}", req))
            return  # the first unmet requirement on this path

    # -- writes ------------------------------------------------------------------

    def writes(self, failed: Iterable[FailureUnit] = ()) -> list[WriteTrace]:
        """Every write every component issues, and where it lands, in this scenario.

        A write goes to the first available target of a ``writes`` requirement: a
        cluster sends it to its current primary, a db by name takes it whatever its
        role, a web or service passes it on along its own ``writes`` requirements,
        and an lb or gateway forwards it to any target it could pick (each is traced).
        """
        failed = frozenset(failed)
        out: list[WriteTrace] = []
        for req in self.topology.requirements:
            if req.verb is Verb.WRITES:
                out.extend(self.writes_of(req, failed))
        return out

    def writes_of(self, req: Requirement, failed: Iterable[FailureUnit] = ()) -> list[WriteTrace]:
        """The part of :meth:`writes` that one ``writes`` requirement issues (none
        when its source has failed: a failed server issues no writes)."""
        failed = frozenset(failed)
        out: list[WriteTrace] = []
        if req.verb is Verb.WRITES and self.live(req.source, failed):
            self._trace(req.source, req, (req.source,), failed, out, frozenset({req.source}))
        return out

    def _trace(self, writer, req, path, failed, out, seen) -> None:
        target, _ = self.requirement_choice(req, failed)
        if target is None:
            out.append(WriteTrace(writer, req, path, None, None, None))
            return
        self._deliver(writer, req, path, target, req.source, failed, out, seen)

    def _deliver(self, writer, req, path, target, sender, failed, out, seen) -> None:
        if target in self.topology.clusters:
            primary = self.current_primary(target, failed)
            out.append(WriteTrace(writer, req, path + (primary,), primary, target, primary))
            return
        comp = self.components[target]
        if comp.kind is Kind.DB:
            cluster = self.cluster_of(target)
            primary = self.current_primary(cluster, failed) if cluster else None
            out.append(WriteTrace(writer, req, path + (target,), target, cluster, primary))
            return
        if target in seen:
            out.append(WriteTrace(writer, req, path + (target,), None, None, None))
            return
        seen = seen | {target}
        if comp.kind is Kind.DNS:
            for answer in comp.answers:
                if self.live(answer, failed) and self.policy.connect(sender, answer, self.components[answer].service_ports):
                    self._deliver(writer, req, path, answer, sender, failed, out, seen)
            return
        if comp.kind.forwards:
            value = self.serving(failed)
            for listener in comp.listeners:
                for member, ports in self._forwards(target, listener):
                    if self._hop_serves(target, member, ports, failed, value):
                        self._deliver(writer, req, path + (target,), member, target, failed, out, seen)
            return
        onward = [r for r in self.topology.requirements_of(target) if r.verb is Verb.WRITES]
        if not onward:
            out.append(WriteTrace(writer, req, path + (target,), None, None, None))
        for nxt in onward:
            self._trace(writer, nxt, path + (target,), failed, out, seen)


def denial_text(source: str, target: str, ports: PortSet, decision: Decision) -> str:
    """'no rule allows a -> b tcp/5432' or 'rule at line 12 denies a -> b tcp/5432'."""
    who = "clients on the internet" if source == INTERNET else source
    if decision.rule is not None:
        return f"the rule at line {decision.rule.line} denies {who} -> {target} {ports}"
    return f"no rule allows {who} -> {target} {ports}"


def _dedupe(lines: list[Explanation]) -> list[Explanation]:
    seen: dict[Explanation, None] = {}
    for line in lines:
        seen.setdefault(line, None)
    return list(seen)[:MAX_EXPLANATION_LINES]
