"""Where writes go under failures: a compiled write-flow structure and the search
for the smallest scenario that sends a write to a server that is not its
cluster's current primary (the ``write-to-primary`` check).

**The flow.** Each ``writes`` requirement is a *root*: its source (the writer)
sends the write to the first target that is live and policy-reachable; a
cluster passes it to its current primary, a ``db`` by name takes it, a ``web``
or ``service`` passes it on along its own ``writes`` requirements, a ``dns``
name to each live, reachable answer, and an ``lb``/``gateway`` to every target
it could forward to (exactly as :meth:`checker.evaluator.Evaluator.writes`).

**What can go wrong.** A write that reaches a cluster endpoint always lands on
the current primary, and a write that reaches a cluster's *declared* primary
finds it live, hence primary. So a root can only write to the wrong server when
its static flow (every hop the policy could ever allow, whatever fails) reaches
a clustered ``db`` that is not its cluster's declared primary. Every other root
is safe in every scenario; this cuts the search at scale to the few roots that
name replicas (host lists, writes by name, load balancers in front of dbs).

**The search.** Whether a write goes wrong depends only on the liveness of the
*relevant* hosts of its root: the writer's, every component on its static flow,
and every member of every cluster the flow touches (the current primary). Any
scenario restricted to those hosts gives the same writes, so the smallest bad
scenario is a subset of them. Failover makes the property non-monotone (a
failure can repair a write as well as break it), so each size 0, 1, ..., k is
searched in turn: by enumerating every subset while their number is small, and
otherwise by Z3 with an exact cardinality constraint per size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from math import comb
from typing import Any

from ..model import Cluster, Component, FailureUnit, Kind, Requirement, Topology, Verb
from ..results import Status

ENUMERATION_BUDGET = 4000  # scenarios per root before the search moves to Z3
MAX_UNFOLDING = 20000  # nodes of a root's unfolded flow the Z3 encoding accepts


@dataclass(frozen=True)
class Hop:
    """One hop of a write: the component and the requirement or listener that sent
    the write on from it (None for the landing)."""

    name: str
    via: Any = None  # Requirement, Listener, or None


@dataclass(frozen=True)
class Landing:
    """Where one write of one root lands in one scenario."""

    writer: str
    root: Requirement
    requirement: Requirement  # the requirement whose choice sent it to its last hop
    hops: tuple[Hop, ...]
    landing: str | None
    cluster: str | None
    primary: str | None

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hops)

    @property
    def bad(self) -> bool:
        return self.landing is not None and self.cluster is not None and self.landing != self.primary


@dataclass
class RootVerdict:
    """The outcome of the search for one root."""

    root: Requirement
    status: Status
    method: str
    scenario: tuple[FailureUnit, ...] = ()
    landing: Landing | None = None
    reason: str | None = None


@dataclass
class WriteFlow:
    """The compiled structure for one topology: liveness by host, static
    reachability, the cluster of each db and which roots can go wrong."""

    topology: Topology
    policy: Any
    evaluator: Any
    host: dict[str, FailureUnit | None] = field(default_factory=dict)
    cluster_of: dict[str, str] = field(default_factory=dict)
    order: dict[FailureUnit, int] = field(default_factory=dict)  # declaration order of hosts
    _reach: dict[tuple[str, str], bool] = field(default_factory=dict)
    _danger: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def build(cls, topology: Topology, policy: Any, evaluator: Any) -> "WriteFlow":
        flow = cls(topology, policy, evaluator)
        for name, comp in topology.components.items():
            units = topology.units_of(name)
            flow.host[name] = units[0] if units else None
        for cluster in topology.clusters.values():
            for member in cluster.members:
                flow.cluster_of.setdefault(member, cluster.name)
        flow.order = {unit: i for i, unit in enumerate(topology.host_units)}
        return flow

    # -- static facts --------------------------------------------------------------

    def reach(self, source: str, target: str) -> bool:
        key = (source, target)
        hit = self._reach.get(key)
        if hit is None:
            comp = self.topology.components[target]
            hit = bool(self.policy.connect(source, target, comp.service_ports))
            self._reach[key] = hit
        return hit

    def forward_targets(self, name: str) -> list[tuple[Any, str, Any]]:
        """(listener, member, ports) for every target an lb/gateway forwards to."""
        comp = self.topology.components[name]
        out = []
        for listener in comp.listeners:
            for member, ports in self.evaluator._forwards(name, listener):
                out.append((listener, member, ports))
        return out

    def roots(self) -> list[Requirement]:
        return [r for r in self.topology.requirements if r.verb is Verb.WRITES]

    def dangerous(self, req: Requirement) -> bool:
        """Whether the static flow of ``req`` reaches a clustered db that is not its
        cluster's declared primary (only such a root can ever write to the wrong server)."""
        return any(self._target_danger(t) for t in req.targets)

    def _target_danger(self, target: str) -> bool:
        if target in self.topology.clusters:
            return False
        hit = self._danger.get(target)
        if hit is not None:
            return hit
        self._danger[target] = False  # a cycle adds nothing
        comp = self.topology.components[target]
        if comp.kind is Kind.DB:
            cluster = self.cluster_of.get(target)
            hit = cluster is not None and self.topology.clusters[cluster].primary != target
        elif comp.kind is Kind.DNS:
            hit = any(self._target_danger(a) for a in comp.answers)
        elif comp.kind.forwards:
            hit = any(self._target_danger(m) for _, m, _ in self.forward_targets(target))
        else:
            hit = any(self.dangerous(r) for r in self.topology.requirements_of(target) if r.verb is Verb.WRITES)
        self._danger[target] = hit
        return hit

    def relevant(self, root: Requirement) -> tuple[list[FailureUnit], bool]:
        """The hosts whose liveness can change where ``root``'s writes go, in
        declaration order, and whether the flow passes a load balancer or gateway
        to a server whose serving depends on its own requirements (then every
        host is relevant)."""
        names: set[str] = {root.source}
        clusters: set[str] = set()
        serving_dependent = False
        stack: list[str] = list(root.targets)
        seen_reqs: set[int] = {id(root)}
        while stack:
            name = stack.pop()
            if name in self.topology.clusters:
                clusters.add(name)
                continue
            if name in names:
                continue
            names.add(name)
            comp = self.topology.components[name]
            if comp.kind is Kind.DB:
                if name in self.cluster_of:
                    clusters.add(self.cluster_of[name])
            elif comp.kind is Kind.DNS:
                stack.extend(comp.answers)
            elif comp.kind.forwards:
                for _, member, _ in self.forward_targets(name):
                    if self.topology.components[member].kind is not Kind.DB:
                        serving_dependent = True
                    stack.append(member)
            else:
                for r in self.topology.requirements_of(name):
                    if r.verb is Verb.WRITES and id(r) not in seen_reqs:
                        seen_reqs.add(id(r))
                        stack.extend(r.targets)
        if serving_dependent:
            return list(self.topology.host_units), True
        for cluster in clusters:
            names.update(self.topology.clusters[cluster].members)
        units = {self.host[n] for n in names if self.host.get(n) is not None}
        return sorted(units, key=self.order.__getitem__), False

    # -- evaluation of one root in one scenario -------------------------------------

    def live(self, name: str, failed: frozenset[FailureUnit]) -> bool:
        unit = self.host.get(name)
        return unit is None or unit not in failed

    def current_primary(self, cluster: Cluster, failed: frozenset[FailureUnit]) -> str | None:
        if cluster.primary is not None and self.live(cluster.primary, failed):
            return cluster.primary
        if cluster.failover.value == "auto":
            for member in cluster.members:
                if self.live(member, failed):
                    return member
        return None

    def trace(self, root: Requirement, failed: frozenset[FailureUnit]) -> list[Landing]:
        """Where ``root``'s writes land when ``failed`` hosts are down (none when its
        writer is down); the same traces, in the same order, as the evaluator's."""
        out: list[Landing] = []
        if not self.live(root.source, failed):
            return out
        state = _TraceState(root, failed, out)
        self._walk(state, root, (), frozenset({root.source}))
        return out

    def _choice(self, req: Requirement, failed) -> str | None:
        source = req.source
        for target in req.targets:
            cluster = self.topology.clusters.get(target)
            if cluster is not None:
                primary = self.current_primary(cluster, failed)
                if primary is not None and self.reach(source, primary):
                    return target
                continue
            if not self.live(target, failed):
                continue
            comp = self.topology.components[target]
            if comp.kind is Kind.DNS:
                if any(self.reach(source, a) for a in comp.answers):
                    return target
            elif self.reach(source, target):
                return target
        return None

    def _walk(self, state: "_TraceState", req: Requirement, hops: tuple[Hop, ...], seen: frozenset[str]) -> None:
        hops = hops + (Hop(req.source, req),)
        target = self._choice(req, state.failed)
        if target is None:
            state.land(req, hops, None)
            return
        self._deliver(state, req, hops, target, req.source, seen)

    def _deliver(self, state, req, hops, target, sender, seen) -> None:
        topo = self.topology
        failed = state.failed
        cluster = topo.clusters.get(target)
        if cluster is not None:
            primary = self.current_primary(cluster, failed)
            state.land(req, hops + (Hop(primary),), primary, cluster.name, primary)
            return
        comp = topo.components[target]
        if comp.kind is Kind.DB:
            name = self.cluster_of.get(target)
            primary = self.current_primary(topo.clusters[name], failed) if name else None
            state.land(req, hops + (Hop(target),), target, name, primary)
            return
        if target in seen:
            state.land(req, hops + (Hop(target),), None)
            return
        seen = seen | {target}
        if comp.kind is Kind.DNS:
            for answer in comp.answers:
                if self.live(answer, failed) and self.reach(sender, answer):
                    self._deliver(state, req, hops, answer, sender, seen)
            return
        if comp.kind.forwards:
            value = state.serving(self.evaluator)
            for listener, member, ports in self.forward_targets(target):
                if self.evaluator._hop_serves(target, member, ports, failed, value):
                    self._deliver(state, req, hops + (Hop(target, listener),), member, target, seen)
            return
        onward = [r for r in topo.requirements_of(target) if r.verb is Verb.WRITES]
        if not onward:
            state.land(req, hops + (Hop(target),), None)
        for nxt in onward:
            self._walk(state, nxt, hops, seen)

    def first_bad(self, root: Requirement, failed: frozenset[FailureUnit]) -> Landing | None:
        for landing in self.trace(root, failed):
            if landing.bad:
                return landing
        return None

    # -- the search -----------------------------------------------------------------

    def search(self, root: Requirement, k: int, timeout: float) -> RootVerdict:
        """The smallest scenario of at most ``k`` failed hosts in which ``root``
        sends a write to a server that is not its cluster's current primary."""
        if not self.dangerous(root):
            return RootVerdict(root, Status.PROVED, "enumeration")
        units, serving_dependent = self.relevant(root)
        count = sum(comb(len(units), size) for size in range(min(k, len(units)) + 1))
        if count <= ENUMERATION_BUDGET:
            return self._enumerate(root, units, k)
        if serving_dependent:
            return RootVerdict(
                root, Status.UNKNOWN, "enumeration",
                reason=(f"the write of {root.source} passes a load balancer or gateway in front of servers, "
                        f"so all {len(units)} hosts matter: {count} scenarios are too many to enumerate"),
            )
        return self._solve(root, units, k, timeout)

    def _enumerate(self, root: Requirement, units: list[FailureUnit], k: int) -> RootVerdict:
        for size in range(min(k, len(units)) + 1):
            for scenario in combinations(units, size):
                landing = self.first_bad(root, frozenset(scenario))
                if landing is not None:
                    return RootVerdict(root, Status.REFUTED, "enumeration", scenario, landing)
        return RootVerdict(root, Status.PROVED, "enumeration")

    def _solve(self, root: Requirement, units: list[FailureUnit], k: int, timeout: float) -> RootVerdict:
        from ..solver import search_counterexample

        import z3

        encoder = _Encoder(self, units)
        bad = encoder.root_bad(root)
        if bad is None:
            return RootVerdict(root, Status.UNKNOWN, "z3", reason=encoder.gave_up)
        variables = [encoder.var[u] for u in units]
        for size in range(min(k, len(units)) + 1):
            solver = z3.Solver()
            solver.add(bad)
            solver.add(z3.PbEq([(v, 1) for v in variables], size))
            verdict = search_counterexample(solver, timeout)
            if verdict.status is Status.UNKNOWN:
                return RootVerdict(root, Status.UNKNOWN, "z3", reason=verdict.reason)
            if verdict.status is Status.REFUTED:
                model = verdict.model
                scenario = tuple(u for u in units if z3.is_true(model.eval(encoder.var[u], model_completion=True)))
                landing = self.first_bad(root, frozenset(scenario))
                if landing is None:  # the encoding disagrees with the flow: a bug
                    return RootVerdict(root, Status.REFUTED, "z3", scenario, None)
                return RootVerdict(root, Status.REFUTED, "z3", scenario, landing)
        return RootVerdict(root, Status.PROVED, "z3")


@dataclass
class _TraceState:
    root: Requirement
    failed: frozenset[FailureUnit]
    out: list[Landing]
    _serving: Any = None

    def land(self, req, hops, landing, cluster=None, primary=None) -> None:
        self.out.append(Landing(self.root.source, self.root, req, hops, landing, cluster, primary))

    def serving(self, evaluator) -> Any:
        if self._serving is None:
            self._serving = evaluator.serving(self.failed)
        return self._serving


class _Encoder:
    """The flow of one root as a Z3 formula over 'host failed' variables: the
    unfolded flow, each delivery guarded by the choices that lead to it."""

    def __init__(self, flow: WriteFlow, units: list[FailureUnit]):
        import z3

        self.z3 = z3
        self.flow = flow
        self.var = {u: z3.Bool(f"failed_{i}") for i, u in enumerate(units)}
        self.nodes = 0
        self.gave_up: str | None = None

    def live(self, name: str):
        unit = self.flow.host.get(name)
        if unit is None:
            return self.z3.BoolVal(True)
        return self.z3.Not(self.var[unit])

    def is_primary(self, cluster: Cluster, member: str):
        z3 = self.z3
        if member == cluster.primary:
            return self.live(member)
        if cluster.failover.value != "auto" or cluster.primary is None:
            return z3.BoolVal(False)
        before = [z3.Not(self.live(cluster.primary))]
        for m in cluster.members:
            if m == member:
                break
            before.append(z3.Not(self.live(m)))
        return z3.And(self.live(member), *before)

    def available(self, source: str, target: str):
        z3 = self.z3
        flow = self.flow
        cluster = flow.topology.clusters.get(target)
        if cluster is not None:
            return z3.Or([self.is_primary(cluster, m) for m in cluster.members if flow.reach(source, m)] or [z3.BoolVal(False)])
        comp = flow.topology.components[target]
        if comp.kind is Kind.DNS:
            reachable = any(flow.reach(source, a) for a in comp.answers)
        else:
            reachable = flow.reach(source, target)
        return z3.And(self.live(target), z3.BoolVal(reachable))

    def root_bad(self, root: Requirement):
        bads: list = []
        ok = self._walk(root, self.live(root.source), frozenset({root.source}), bads)
        if not ok:
            return None
        return self.z3.Or(bads) if bads else self.z3.BoolVal(False)

    def _tick(self) -> bool:
        self.nodes += 1
        if self.nodes > MAX_UNFOLDING:
            self.gave_up = f"the write flow unfolds into more than {MAX_UNFOLDING} hops"
            return False
        return True

    def _walk(self, req: Requirement, guard, seen: frozenset[str], bads: list) -> bool:
        z3 = self.z3
        none_before: list = []
        for target in req.targets:
            avail = self.available(req.source, target)
            chosen = z3.And(guard, avail, *none_before)
            none_before.append(z3.Not(avail))
            if not self._deliver(target, req.source, chosen, seen, bads):
                return False
        return True

    def _deliver(self, target: str, sender: str, guard, seen: frozenset[str], bads: list) -> bool:
        if not self._tick():
            return False
        z3 = self.z3
        flow = self.flow
        topo = flow.topology
        if target in topo.clusters:
            return True  # the current primary: never a wrong server
        comp: Component = topo.components[target]
        if comp.kind is Kind.DB:
            name = flow.cluster_of.get(target)
            if name is not None and topo.clusters[name].primary != target:
                bads.append(z3.And(guard, z3.Not(self.is_primary(topo.clusters[name], target))))
            return True
        if target in seen:
            return True
        seen = seen | {target}
        if comp.kind is Kind.DNS:
            for answer in comp.answers:
                if flow.reach(sender, answer):
                    if not self._deliver(answer, sender, z3.And(guard, self.live(answer)), seen, bads):
                        return False
            return True
        if comp.kind.forwards:
            for _, member, ports in flow.forward_targets(target):
                member_comp = topo.components[member]
                if member_comp.kind is not Kind.DB:
                    self.gave_up = f"the write flow passes {target}, which forwards to {member}, a server whose serving Z3 does not model"
                    return False
                entries = flow.evaluator.entry_points(member, ports)
                if any(flow.policy.connect(target, member, arriving) for _, arriving in entries):
                    if not self._deliver(member, target, z3.And(guard, self.live(member)), seen, bads):
                        return False
            return True
        for nxt in topo.requirements_of(target):
            if nxt.verb is Verb.WRITES:
                if not self._walk(nxt, guard, seen, bads):
                    return False
        return True


def write_flow(context) -> WriteFlow:
    """The compiled write flow of a context's topology, built once per file."""
    flow = context.cache.get("writes.flow")
    if flow is None:
        flow = WriteFlow.build(context.topology, context.policy, context.evaluator)
        context.cache["writes.flow"] = flow
    return flow
