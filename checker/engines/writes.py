"""Where writes go under failures: the search for the smallest scenario that sends
a write to a server that is not its cluster's current primary (the
``write-to-primary`` check).

**The flow.** Each ``writes`` requirement is a *root*: its source (the writer)
sends the write to the first available target; a cluster with roles passes it
to its current primary, a consensus group to a live member, a ``db`` or a
cluster member by name takes it, a ``web`` or ``service`` passes it on along
its own ``writes`` requirements, a ``dns`` name to each live, reachable answer,
and an ``lb``/``gateway`` to each target it could forward to (``primary of C``:
the current primary), exactly as :meth:`checker.evaluator.Evaluator.writes`
says: the traces *are* the reference evaluator's.

**What can go wrong.** A write that reaches a cluster endpoint always lands on
the current primary, and a write that reaches a cluster's *declared* primary
finds it live and the cluster acting (else it is refused), hence primary. So a
root can only write to the wrong server when its static flow (every hop the
policy could ever allow, whatever fails) reaches a member of a cluster with
roles that is not its declared primary. Every other root is safe in every
scenario; this cuts the search at scale to the few roots that name replicas
(host lists, writes by name, load balancers in front of a cluster's members).

**The search.** Whether a write goes wrong depends only on the liveness of the
*relevant* hosts of its root: the writer's, every component on its static
flow and every one its choices read (name servers, egress gateways), and
every member of every cluster the flow touches (the current primary, the
majority). Any scenario restricted to those hosts gives the same writes, so
the smallest bad scenario is a subset of them. Failover makes the property
non-monotone (a failure can repair a write as well as break it), so each size
0, 1, ..., k is searched in turn: by enumerating every subset while their
number is small, and otherwise by Z3 with an exact cardinality constraint per
size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from math import comb
from typing import Any

from ..evaluator import DNS_PORT
from ..model import PRIMARY_OF, REPLICAS_OF, Cluster, FailureUnit, Kind, Requirement, Role, Topology, Verb
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
    """The static structure for one topology: the host of each component, static
    reachability, and which roots can go wrong."""

    topology: Topology
    policy: Any
    evaluator: Any
    order: dict[FailureUnit, int] = field(default_factory=dict)  # declaration order of hosts
    _reach: dict[tuple[str, str], bool] = field(default_factory=dict)
    _danger: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, topology: Topology, policy: Any, evaluator: Any) -> "WriteFlow":
        flow = cls(topology, policy, evaluator)
        flow.order = {unit: i for i, unit in enumerate(topology.host_units)}
        return flow

    def host(self, name: str) -> FailureUnit | None:
        """The host a component fails with (the topology keeps every placement once)."""
        return self.topology.placement(name)[0] if name in self.topology.components else None

    # -- static facts --------------------------------------------------------------

    def reach(self, source: str, target: str, ports=None) -> bool:
        key = (source, target, ports)
        hit = self._reach.get(key)
        if hit is None:
            comp = self.topology.components[target]
            hit = bool(self.policy.connect(source, target, ports or comp.service_ports))
            self._reach[key] = hit
        return hit

    def forward_targets(self, name: str) -> list[tuple[Any, Any, str, Any]]:
        """(listener, item, member, ports) for every component an lb/gateway may forward to."""
        ev = self.evaluator
        out = []
        for listener in self.topology.components[name].listeners:
            for item in ev.items(listener):
                members = self.topology.clusters[item.name].members if item.selector else (item.name,)
                out.extend((listener, item, m, ev.forward_ports(item, m)) for m in members)
        return out

    def roots(self) -> list[Requirement]:
        writes = Verb.WRITES
        return [r for r in self.topology.requirements if r.statement.verb is writes]

    def dangerous(self, req: Requirement) -> bool:
        """Whether the static flow of ``req`` reaches a member of a cluster with roles that
        is not its declared primary (only such a root can ever write to the wrong server)."""
        danger = self._danger_set()
        return any(t in danger for t in req.targets)

    def _member_danger(self, name: str) -> bool:
        cluster = self.topology.cluster_of(name)
        return cluster is not None and cluster.has_roles and cluster.primary != name

    def _passes_to(self, name: str) -> list[str]:
        """Where a write that reaches ``name`` may go next, statically."""
        topo = self.topology
        if name in topo.clusters:
            return []
        comp = topo.components[name]
        if self._lands(comp):
            return []
        if comp.kind is Kind.DNS:
            return list(comp.answers)
        if comp.kind.forwards:
            return [m for _, item, m, _ in self.forward_targets(name) if item.selector != PRIMARY_OF]
        if comp.kind.has_requirements:
            return [t for r in topo.requirements_of(name) if r.verb is Verb.WRITES for t in r.targets]
        return []

    def _lands(self, comp) -> bool:
        """Whether a write that reaches ``comp`` stays there (a db, a cluster's member)."""
        return comp.kind is Kind.DB or self.topology.cluster_of(comp.name) is not None

    def _danger_set(self) -> set[str]:
        """Every component from which a write may reach a member of a cluster with roles
        other than its declared primary: a backward search from those members over the
        static flow (iterative, linear in the flow's size)."""
        if "all" in self._danger:
            return self._danger["all"]
        topo = self.topology
        predecessors: dict[str, list[str]] = {}
        for name, comp in topo.components.items():
            if not comp.kind.has_requirements:  # (those pass writes on by their requirements: below)
                for nxt in self._passes_to(name):
                    predecessors.setdefault(nxt, []).append(name)
        # a write requirement passes on to its targets (as _passes_to says, read from the
        # requirements themselves: a large file has a hundred thousand components)
        passes: dict[str, bool] = {}
        writes = Verb.WRITES
        for req in topo.requirements:
            statement = req.statement
            if statement.verb is not writes:
                continue
            name = req.source
            ok = passes.get(name)
            if ok is None:
                ok = passes[name] = not self._lands(topo.components[name])
            if ok:
                for nxt in statement.targets:
                    predecessors.setdefault(nxt, []).append(name)
        found = {name for name in self.topology.components if self._member_danger(name)}
        stack = list(found)
        while stack:
            name = stack.pop()
            for before in predecessors.get(name, ()):
                if before not in found:
                    found.add(before)
                    stack.append(before)
        self._danger["all"] = found
        return found

    def relevant(self, root: Requirement) -> tuple[list[FailureUnit], bool]:
        """The hosts whose liveness can change where ``root``'s writes go, in
        declaration order, and whether the flow depends on serving (a load balancer
        or gateway in front of servers with requirements of their own, a job's
        targets): then every host is relevant."""
        topo = self.topology
        names: set[str] = {root.source}
        clusters: set[str] = set()
        serving_dependent = False
        pending: list[Requirement] = [root]
        seen_reqs: set[int] = set()
        stack: list[str] = []
        while pending or stack:
            if pending:
                req = pending.pop()
                if id(req) in seen_reqs:
                    continue
                seen_reqs.add(id(req))
                if topo.components[req.source].kind is Kind.JOB and any(
                        topo.components[topo.clusters[t].members[0] if t in topo.clusters else t].kind
                        not in (Kind.DB, Kind.EXTERNAL) for t in req.targets):
                    serving_dependent = True  # a job writes to every target that serves
                for target in req.targets:
                    stack.append(target)
                    if target in topo.components:
                        comp = topo.components[target]
                        if comp.kind is Kind.EXTERNAL:
                            names.update(topo.egress_of(req.source))
                        elif comp.kind is Kind.DNS:
                            names.update(comp.served_by)
                continue
            name = stack.pop()
            if name in topo.clusters:
                clusters.add(name)
                continue
            if name in names:
                continue  # seen, or the writer itself (a write that comes back stops there)
            names.add(name)
            comp = topo.components[name]
            cluster = topo.cluster_of(name)
            if cluster is not None:
                clusters.add(cluster.name)
            elif comp.kind is Kind.DNS:
                stack.extend(comp.answers)
            elif comp.kind.forwards:
                for _, item, member, _ in self.forward_targets(name):
                    if item.selector:
                        clusters.add(item.name)
                    if topo.components[member].kind is not Kind.DB:
                        serving_dependent = True
                    stack.append(member)
            elif comp.kind.has_requirements:
                pending.extend(r for r in topo.requirements_of(name) if r.verb is Verb.WRITES)
        if serving_dependent:
            return list(topo.host_units), True
        for cluster in clusters:
            names.update(topo.clusters[cluster].members)
        units = {unit for n in names if (unit := self.host(n)) is not None}
        return sorted(units, key=self.order.__getitem__), False

    # -- evaluation of one root in one scenario -------------------------------------

    def trace(self, root: Requirement, failed: frozenset[FailureUnit]) -> list[Landing]:
        """Where ``root``'s writes land when ``failed`` hosts are down (none when its
        writer is down): the reference evaluator's traces."""
        return [Landing(t.writer, root, t.requirement, tuple(Hop(n, v) for n, v in t.hops), t.landing,
                        t.cluster, t.primary)
                for t in self.evaluator.writes_of(root, failed)]

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
                reason=(f"the write of {root.source} depends on what servers serve (a load balancer or gateway "
                        f"in front of servers, or a job), so all {len(units)} hosts matter: {count} scenarios are "
                        "too many to enumerate"),
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


class _Encoder:
    """The flow of one root as a Z3 formula over 'host failed' variables: the
    unfolded flow, each delivery guarded by the choices that lead to it. It models
    the evaluator's writes where they depend on liveness only, and gives up (the
    result is ``unknown``) where they depend on what a server serves."""

    def __init__(self, flow: WriteFlow, units: list[FailureUnit]):
        import z3

        self.z3 = z3
        self.flow = flow
        self.var = {u: z3.Bool(f"failed_{i}") for i, u in enumerate(units)}
        self.nodes = 0
        self.gave_up: str | None = None

    def live(self, name: str):
        unit = self.flow.host(name)
        if unit is None:
            return self.z3.BoolVal(True)
        return self.z3.Not(self.var[unit])

    def majority(self, cluster: Cluster):
        if not cluster.quorum:
            return self.z3.BoolVal(True)
        return self.z3.PbGe([(self.live(m), 1) for m in cluster.members], cluster.majority)

    def is_primary(self, cluster: Cluster, member: str):
        """``member`` is the cluster's current primary."""
        z3 = self.z3
        if cluster.primary is None:
            return z3.BoolVal(False)
        if member == cluster.primary:
            return z3.And(self.majority(cluster), self.live(member))
        if cluster.failover.value != "auto":
            return z3.BoolVal(False)
        before = [z3.Not(self.live(cluster.primary))]
        for m in cluster.members:
            if m == member:
                break
            if m != cluster.primary:
                before.append(z3.Not(self.live(m)))
        return z3.And(self.majority(cluster), self.live(member), *before)

    def available(self, req: Requirement, target: str):
        """The evaluator's ``_unavailable(req, target)`` is None."""
        z3 = self.z3
        flow = self.flow
        topo = flow.topology
        source = req.source
        cluster = topo.clusters.get(target)
        if cluster is not None:
            if req.verb is Verb.WRITES and cluster.has_roles:
                return z3.Or([z3.And(self.is_primary(cluster, m), z3.BoolVal(flow.reach(source, m)))
                              for m in cluster.members] or [z3.BoolVal(False)])
            return z3.And(self.majority(cluster),
                          z3.Or([z3.And(self.live(m), z3.BoolVal(flow.reach(source, m))) for m in cluster.members]))
        comp = topo.components[target]
        if comp.kind is Kind.EXTERNAL:
            if topo.components[source].public_addresses:
                return z3.BoolVal(flow.reach(source, target))
            decided = z3.BoolVal(False)
            for gateway in reversed(topo.egress_of(source)):
                ok = flow.reach(source, gateway, comp.service_ports) and flow.reach(source, target)
                decided = z3.If(self.live(gateway), z3.BoolVal(ok), decided)
            return decided
        if comp.kind is Kind.DNS:
            parts = [self.live(target), z3.BoolVal(any(flow.reach(source, a) for a in comp.answers))]
            if comp.served_by:
                parts.append(z3.Or([z3.And(self.live(ns), z3.BoolVal(flow.reach(source, ns)))
                                    for ns in comp.served_by]))
            elif comp.addresses:
                parts.append(z3.BoolVal(flow.reach(source, target, DNS_PORT)))
            return z3.And(parts)
        return z3.And(self.live(target), z3.BoolVal(flow.reach(source, target)))

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

    def _job_serves(self, req: Requirement, target: str):
        """A job's target serves (network aside), where that depends on liveness only
        (a database, a cluster endpoint, an external target); None elsewhere."""
        z3 = self.z3
        topo = self.flow.topology
        cluster = topo.clusters.get(target)
        if cluster is not None:
            if topo.components[cluster.members[0]].kind is not Kind.DB:
                return None
            if req.verb is Verb.WRITES and cluster.has_roles:
                return z3.Or([self.is_primary(cluster, m) for m in cluster.members])
            return z3.And(self.majority(cluster), z3.Or([self.live(m) for m in cluster.members]))
        comp = topo.components[target]
        if comp.kind is Kind.EXTERNAL:
            return z3.BoolVal(True)
        if comp.kind is not Kind.DB:
            return None
        member_of = topo.cluster_of(target)
        return z3.And(self.live(target), self.majority(member_of) if member_of is not None else z3.BoolVal(True))

    def _walk(self, req: Requirement, guard, seen: frozenset[str], bads: list) -> bool:
        z3 = self.z3
        if self.flow.topology.components[req.source].kind is Kind.JOB:
            # every target that serves takes the job's write
            for target in req.targets:
                serves = self._job_serves(req, target)
                if serves is None:
                    self.gave_up = (f"{req.source} is a job that writes {target}, whose serving Z3 does not model "
                                    "(where a job's write goes depends on what its targets serve)")
                    return False
                if not self._deliver(target, req.source, z3.And(guard, serves), seen, bads):
                    return False
            return True
        none_before: list = []
        for target in req.targets:
            avail = self.available(req, target)
            chosen = z3.And(guard, avail, *none_before)
            none_before.append(z3.Not(avail))
            if not self._deliver(target, req.source, chosen, seen, bads):
                return False
        return True

    def _land(self, member: str, guard, bads: list) -> None:
        """A write delivered to ``member`` by name: bad unless it is the current primary
        (a member of a quorum cluster without its majority refuses it)."""
        z3 = self.z3
        cluster = self.flow.topology.cluster_of(member)
        if cluster is None or not cluster.has_roles:
            return
        bads.append(z3.And(guard, self.majority(cluster), z3.Not(self.is_primary(cluster, member))))

    def _deliver(self, target: str, sender: str, guard, seen: frozenset[str], bads: list) -> bool:
        if not self._tick():
            return False
        z3 = self.z3
        flow = self.flow
        topo = flow.topology
        if target in topo.clusters:
            return True  # the current primary, or a consensus group: never a wrong server
        comp = topo.components[target]
        if comp.kind is Kind.DB or topo.cluster_of(target) is not None:
            self._land(target, guard, bads)
            return True
        if comp.kind is Kind.EXTERNAL or target in seen:
            return True
        seen = seen | {target}
        if comp.kind is Kind.DNS:
            for answer in comp.answers:
                if flow.reach(sender, answer):
                    if not self._deliver(answer, sender, z3.And(guard, self.live(answer)), seen, bads):
                        return False
            return True
        if comp.kind.forwards:
            for _, item, member, ports in flow.forward_targets(target):
                member_comp = topo.components[member]
                if member_comp.kind is not Kind.DB:
                    self.gave_up = (f"the write flow passes {target}, which forwards to {member}, a server whose "
                                    "serving Z3 does not model")
                    return False
                if item.selector == PRIMARY_OF:
                    continue  # the current primary
                entries = flow.evaluator.entry_points(member, ports)
                if not any(flow.policy.connect(target, member, arriving) for _, arriving in entries):
                    continue
                cluster = topo.cluster_of(member)
                candidate = self.live(member)
                if cluster is not None:
                    candidate = z3.And(candidate, self.majority(cluster))
                if item.selector == REPLICAS_OF and member_comp.role is not Role.REPLICA:
                    # the primary takes it only when no replica is live: it is then primary
                    continue
                if not self._deliver(member, target, z3.And(guard, candidate), seen, bads):
                    return False
            return True
        for nxt in topo.requirements_of(target):
            if nxt.verb is Verb.WRITES:
                if not self._walk(nxt, guard, seen, bads):
                    return False
        return True


FLOW_KEY = "writes.flow"


def write_flow(context) -> WriteFlow:
    """The compiled write flow of a context's topology, built once per file."""
    flow = context.cache.get(FLOW_KEY)
    if flow is None:
        from .failure_replay import replay_evaluator

        flow = WriteFlow.build(context.topology, context.policy, replay_evaluator(context))
        context.cache[FLOW_KEY] = flow
    return flow
