"""Internet paths: which components a packet from the internet can end at.

LANGUAGE.md section 3: an *internet path* is a chain of ``lb``/``gateway``
listener forwards that starts with a packet from a public address to a public
address of the first component, on a port it listens on, every hop allowed by
the policy. The last hop delivers the packet on the port the forward sends it
to, whether or not the target ``listen``s there (sshd or an admin console may
answer), so exposure ignores ``listen`` on the last hop. This engine finds,
for each component of interest, one such path (a shortest one) with a concrete
witness packet, in three steps:

1. **Slice** (no policy, no solver): the forwarding graph has a node per
   listener of each ``lb``/``gateway`` and per other component; an edge per
   forward. A forward to a forwarder arrives on its listeners whose ports
   overlap; a forward to anything else arrives on the forward's ports, whatever
   the target listens on. Only nodes from which a component of interest can be
   reached matter; for ``private-web`` load balancers are removed first, since
   a path through one is allowed.
2. **First hop** (Z3): for each entry listener left in the slice, is there a
   packet from a public source to a public address of the entry, on the
   listener's ports, whose first matching rule is an ``allow``? Only the rules
   that can match such packets enter the formula. ``sat`` gives the witness.
3. **Forwards** (the indexed policy): a breadth-first search over the slice
   from the admitted entries, each hop decided by ``Policy.connect``'s rules
   ("from some address of the forwarder to some address of the target on the
   target port").

Every path is replayed through the reference first-match evaluator
(:meth:`checker.policy.Policy.first_match`) before it is returned; a path that
does not replay raises :class:`checker.context.InternalError`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Union

from ..context import Context, InternalError
from ..model import Kind, Listener, Rule, Span, Topology
from ..net import PortSet, is_public
from ..policy import INTERNET, Decision, Packet, Point, Policy
from ..results import Counterexample, Status

Node = Union[str, tuple[str, int]]  # a component, or one listener of an lb/gateway


@dataclass(frozen=True)
class Edge:
    target: str
    node: Node  # where the forward arrives
    ports: PortSet  # the ports it arrives on
    listener: Listener


@dataclass(frozen=True)
class InternetPath:
    """One internet path ending at ``component``, with the decisions admitting each hop."""

    component: str
    packet: Packet  # the client's packet (first hop)
    hops: tuple[str, ...]  # internet, entry, ..., component
    decisions: tuple[Decision, ...]  # one per hop
    spans: tuple[Span, ...]  # where each hop is declared (the listener; the entry itself)

    @property
    def rules(self) -> list[int]:
        return [d.rule.line for d in self.decisions if d.rule is not None]


@dataclass(frozen=True)
class Exposure:
    paths: tuple[InternetPath, ...]  # at most one per component, in declaration order
    unknown: tuple[str, ...]  # why some entries could not be decided


class ForwardingGraph:
    """The listener forwards of a topology, without the policy."""

    def __init__(self, topology: Topology):
        self.topology = topology
        self.edges: dict[Node, list[Edge]] = {}
        self.edges_of: dict[str, list[Edge]] = {}  # every forward of a component
        for comp in topology.components.values():
            if not comp.kind.forwards:
                continue
            for i, listener in enumerate(comp.listeners):
                self.edges[(comp.name, i)] = list(self._forwards(listener))
                self.edges_of.setdefault(comp.name, []).extend(self.edges[(comp.name, i)])

    def _forwards(self, listener: Listener):
        topology = self.topology
        for target in listener.targets:
            members = topology.clusters[target].members if target in topology.clusters else (target,)
            for member in members:
                comp = topology.components[member]
                ports = listener.target_ports or comp.service_ports
                if comp.kind.forwards:
                    for j, other in enumerate(comp.listeners):
                        arriving = ports & other.ports
                        if arriving:
                            yield Edge(member, (member, j), arriving, listener)
                else:
                    # The last hop delivers on the port the forward sends to, whether or not
                    # the target listens there: `listen` cannot show that nothing else on the
                    # machine answers (LANGUAGE.md section 3), so exposure counts it.
                    yield Edge(member, member, ports, listener)

    def relevant(self, goals: set[str], excluded: set[str]) -> set[Node]:
        """Nodes from which a goal component is reachable avoiding ``excluded`` components."""
        reverse: dict[Node, list[Node]] = {}
        for node, edges in self.edges.items():
            if node[0] in excluded:
                continue
            for edge in edges:
                if edge.target not in excluded:
                    reverse.setdefault(edge.node, []).append(node)
        seen: set[Node] = set(goals)
        queue = deque(goals)
        while queue:
            node = queue.popleft()
            for before in reverse.get(node, ()):
                if before not in seen:
                    seen.add(before)
                    queue.append(before)
        return seen


def _graph(context: Context) -> ForwardingGraph:
    graph = context.cache.get("packets.graph")
    if graph is None:
        graph = context.cache["packets.graph"] = ForwardingGraph(context.topology)
    return graph


def reference_policy(context: Context) -> Policy:
    """The plain first-match policy, kept as the oracle for replay."""
    policy = context.cache.get("packets.reference")
    if policy is None:
        policy = context.cache["packets.reference"] = Policy(context.topology)
    return policy


def first_hop(context: Context, entry: str, index: int) -> tuple[Status, Decision | None, str | None]:
    """Whether a client packet may enter ``entry`` on its listener ``index`` (or, for
    ``index`` -1, on the ports the component listens on), decided by Z3."""
    key = ("packets.first-hop", entry, index)
    if key in context.cache:
        return context.cache[key]
    outcome = _first_hop(context, entry, index)
    context.cache[key] = outcome
    return outcome


def _first_hop(context: Context, entry: str, index: int) -> tuple[Status, Decision | None, str | None]:
    import z3

    from ..solver import search_counterexample
    from .fastpolicy import FastPolicy
    from .packets import PacketSpace

    topology = context.topology
    comp = topology.components[entry]
    ports = comp.listeners[index].ports if index >= 0 else comp.service_ports
    destinations = comp.public_addresses
    if not destinations or not ports:
        return Status.PROVED, None, None
    space = context.cache.get("packets.space")
    if space is None:
        space = context.cache["packets.space"] = PacketSpace(topology)
    index_policy = context.policy if isinstance(context.policy, FastPolicy) else _fast(context)
    candidates: set[int] = set()
    for address in destinations:
        candidates.update(index_policy.rules_to(Point(address, entry)))
    rules = [topology.rules[i] for i in sorted(candidates)
             if topology.rules[i].ports & ports and _may_come_from_internet(topology, topology.rules[i])]
    if topology.has_policy and not any(rule.action == "allow" for rule in rules):
        return Status.PROVED, None, None  # only a rule that allows admits a packet: what Z3 would say
    # The witness is chosen canonically (Z3's model is not the same from one call to the
    # next): the first destination address and the first public representative source
    # of its family (outside 0.0.0.0/8 first, then by value) that the policy admits, on
    # the policy's first admitted port. Every cell of the address partition has a
    # representative, so this search finds a packet whenever one is admitted. The first
    # few sources are tried before Z3 is asked (most entries admit the first: a compose
    # project that publishes 2,000 ports asked Z3 2,000 times for what the search then
    # found), the rest only when Z3 says a packet is admitted. A path that is reported is
    # replayed hop by hop through the reference policy (replay).
    found = _canonical_witness(context, entry, destinations, ports, _FIRST_SOURCES)
    if found[0] is not None:
        return Status.REFUTED, Decision(True, Packet(*found[:4]), found[4]), None
    packet = space.packet("hop")
    solver = z3.Solver()
    solver.add(space.well_formed_packet(packet), space.is_public(packet.src))
    solver.add(z3.Or([space.is_address(packet.dst, a) for a in destinations]))
    solver.add(space.ports(packet, ports))
    solver.add(space.admitted(packet, rules, not topology.has_policy))
    verdict = search_counterexample(solver, context.options.timeout)
    if verdict.status is not Status.REFUTED:
        return verdict.status, None, verdict.reason
    found = _canonical_witness(context, entry, destinations, ports, skip=_FIRST_SOURCES)  # (those were not)
    if found[0] is None:
        raise InternalError(f"Z3 found a client packet admitted to '{entry}' but no representative source is")
    return Status.REFUTED, Decision(True, Packet(*found[:4]), found[4]), None


_FIRST_SOURCES = 16  # sources the canonical search tries per destination before Z3 is asked


def _canonical_witness(context: Context, entry: str, destinations, ports: PortSet, first: int | None = None,
                       skip: int = 0):
    """The first admitted (source, destination, protocol, port) in a fixed order, with
    the rule that admits it (None without a policy); all None when none is (among the
    ``first`` sources of each destination, when given, past its ``skip`` first ones)."""
    policy = context.policy
    for address in destinations:
        dst = Point(address, entry)
        for src in islice(_ordered_sources(context, address.version), skip, first):
            if not context.topology.has_policy:
                protocol, port = ports.sample()
                return src, dst, protocol, port, None
            decision = policy.first_match(src, dst, ports)
            if decision.allowed:  # (its rule is the first to match the packet it samples)
                return src, dst, decision.packet.protocol, decision.packet.port, decision.rule
    return None, None, None, None, None


def _ordered_sources(context: Context, version: int) -> list[Point]:
    """The internet's representative points of one address family, outside 0.0.0.0/8
    first, then by value (sorted once: each entry asks)."""
    key = ("packets.sources", version)
    hit = context.cache.get(key)
    if hit is None:
        hit = context.cache[key] = sorted(
            (p for p in reference_policy(context).internet_points if p.address.version == version),
            key=lambda p: (p.address.version == 4 and int(p.address) >> 24 == 0, int(p.address)))
    return hit


def _fast(context: Context):
    from .fastpolicy import FastPolicy

    policy = context.cache.get("packets.fastpolicy")
    if policy is None:
        policy = context.cache["packets.fastpolicy"] = FastPolicy(context.topology)
    return policy


def _may_come_from_internet(topology: Topology, rule: Rule) -> bool:
    """False only for rules whose sources are all components with no public address and
    no networks (a client group's or an external target's networks may hold public
    addresses: kept whatever they are, a rule too many only slows the query)."""
    for endpoint in rule.sources:
        if endpoint.kind in ("any", "internet", "network"):
            return True
        members = topology.clusters[endpoint.value].members if endpoint.kind == "cluster" else (endpoint.value,)
        for member in members:
            comp = topology.components[member]
            if comp.kind is Kind.INTERNET or comp.public_addresses or comp.networks:
                return True
    return False


def internet_paths(context: Context, goals: set[str], through_lb_allowed: bool) -> Exposure:
    """One shortest internet path to each of the ``goals`` components; paths that pass
    an ``lb`` are ignored when ``through_lb_allowed``."""
    topology = context.topology
    graph = _graph(context)
    excluded = {c.name for c in topology.components.values() if c.kind is Kind.LB} if through_lb_allowed else set()
    if not goals:
        return Exposure((), ())
    relevant = graph.relevant(goals, excluded)
    policy = context.policy
    parent: dict[Node, tuple[Node | None, Decision, Span]] = {}
    queue: deque[Node] = deque()
    unknown: list[str] = []
    for comp in topology.components.values():
        if not comp.kind.forwards or comp.name in excluded or not comp.public_addresses:
            continue
        for i, listener in enumerate(comp.listeners):
            node = (comp.name, i)
            if node not in relevant:
                continue
            status, decision, reason = first_hop(context, comp.name, i)
            if status is Status.UNKNOWN:
                unknown.append(f"{comp.name} ({listener.ports}): {reason}")
            elif decision is not None:
                parent[node] = (None, decision, listener.span)
                queue.append(node)
    found: dict[str, InternetPath] = {}
    while queue:
        node = queue.popleft()
        name = node[0] if isinstance(node, tuple) else node
        for edge in graph.edges.get(node, ()):
            if edge.node in parent or edge.node not in relevant or edge.target in excluded:
                continue
            decision = policy.connect(name, edge.target, edge.ports)
            if not decision.allowed:
                continue
            parent[edge.node] = (node, decision, edge.listener.span)
            if edge.target in goals:
                found.setdefault(edge.target, _path(context, edge.node, edge.target, parent))
            else:
                queue.append(edge.node)
    paths = tuple(found[name] for name in topology.components if name in found)
    return Exposure(paths, tuple(unknown))


def _path(context: Context, end: Node, goal: str, parent) -> InternetPath:
    nodes: list[Node] = []
    decisions: list[Decision] = []
    spans: list[Span] = []
    node: Node | None = end
    while node is not None:
        before, decision, span = parent[node]
        nodes.append(node)
        decisions.append(decision)
        spans.append(span)
        node = before
    nodes.reverse()
    decisions.reverse()
    spans.reverse()
    hops = ("internet",) + tuple(n[0] if isinstance(n, tuple) else n for n in nodes)
    path = InternetPath(goal, decisions[0].packet, hops, tuple(decisions), tuple(spans))
    replay(context, path)
    return path


def replay(context: Context, path: InternetPath) -> None:
    """Check every hop of a path with the reference first-match evaluator."""
    topology = context.topology
    reference = reference_policy(context)
    graph = _graph(context)
    previous: str = INTERNET
    for position, (hop, decision) in enumerate(zip(path.hops[1:], path.decisions)):
        packet = decision.packet
        if packet is None or packet.dst.component != hop:
            raise InternalError(f"hop {position + 1} of the path to {path.component} has no packet to {hop}")
        comp = topology.components[hop]
        if position == 0:
            if packet.src.address is None or not is_public(packet.src.address):
                raise InternalError(f"the witness packet to {hop} does not come from a public address")
            if packet.dst.address not in comp.public_addresses:
                raise InternalError(f"the witness packet does not go to a public address of {hop}")
            if not comp.service_ports.contains(packet.protocol, packet.port):
                raise InternalError(f"{hop} does not listen on {packet.protocol}/{packet.port}")
        else:
            source = topology.components[previous]
            own = (packet.src.address in source.addresses) if source.addresses else packet.src.component == previous
            if not own:
                raise InternalError(f"hop {previous} -> {hop} does not start at {previous}")
            if not any(edge.target == hop and edge.ports.contains(packet.protocol, packet.port)
                       for edge in graph.edges_of.get(previous, ())):
                raise InternalError(f"{previous} does not forward to {hop} on {packet.protocol}/{packet.port}")
        if topology.has_policy:
            again = reference.first_match(packet.src, packet.dst, PortSet.single(packet.protocol, packet.port))
            if not again.allowed or again.rule != decision.rule:
                raise InternalError(
                    f"the packet {packet.src} -> {packet.dst} {packet.protocol}/{packet.port} "
                    f"does not replay through the policy"
                )
        previous = hop


@dataclass(frozen=True)
class Finding:
    """One exposed component: the contract's counterexample, a one-line text, and where."""

    counterexample: Counterexample
    text: str
    span: Span


def exposure_findings(context: Context, goals: list[str], through_lb_allowed: bool) -> tuple[list[Finding], tuple[str, ...]]:
    """For each of the ``goals`` components (in declaration order), at most one finding:
    its first public address, else one internet path to it (replayed)."""
    from ..results import Hop

    topology = context.topology
    exposure = internet_paths(context, set(goals), through_lb_allowed)
    by_component = {p.component: p for p in exposure.paths}
    findings: list[Finding] = []
    wanted = set(goals)
    for comp in topology.components.values():
        if comp.name not in wanted:
            continue
        if comp.public_addresses:
            address = comp.public_addresses[0]
            findings.append(Finding(
                Counterexample({"component": comp.name, "address": str(address)},
                               related=(Hop(comp.name, comp.name_span),)),
                f"'{comp.name}' has the public address {address}",
                comp.name_span,
            ))
            continue
        path = by_component.get(comp.name)
        if path is None:
            continue
        packet = path.packet
        flow = [Hop(f"internet -> {path.hops[1]}: {packet.src} -> {packet.dst} {packet.protocol}/{packet.port}",
                    path.decisions[0].rule.span if path.decisions[0].rule else path.spans[0])]
        for source, target, decision, span in zip(path.hops[1:], path.hops[2:], path.decisions[1:], path.spans[1:]):
            flow.append(Hop(f"{source} -> {target}", decision.rule.span if decision.rule else span))
        fields = {
            "component": comp.name,
            "packet": {"src": str(packet.src), "dst": str(packet.dst.address),
                       "protocol": packet.protocol, "port": packet.port},
            "path": list(path.hops),
            "rules": path.rules,
        }
        admitted = f" (rules at lines {', '.join(map(str, path.rules))})" if path.rules else " (the network is open)"
        findings.append(Finding(
            Counterexample(fields, related=(Hop(comp.name, comp.name_span),), flow=tuple(flow)),
            f"a packet from {packet.src} to {packet.dst.address} {packet.protocol}/{packet.port} reaches "
            f"'{comp.name}' along {' -> '.join(path.hops)}{admitted}",
            comp.name_span,
        ))
    return findings, exposure.unknown
