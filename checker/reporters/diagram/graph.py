"""The drawing's structure, shared by every diagram format.

Nodes are components, clusters, and the internet (declared, or added when a
counterexample's packet starts there); boxes are regions, zones and shared
hosts, nested; edges are DNS answers, listener forwards (labelled with their
ports), requirements (labelled with their verb), replication and cluster
membership, in that order, then the hops a counterexample needs that the model
has no edge for. Everything is in declaration order, so the same file gives the
same drawing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from ...model import UNZONED, Cluster, Kind, Role, Topology

INTERNET_NODE = "internet"


@dataclass(frozen=True)
class Node:
    id: str  # the component's or cluster's name
    kind: str  # a Kind value, "cluster", or "internet" for the implicit internet
    lines: tuple[str, ...]  # the label: name first, then details
    box: str | None  # the innermost box holding it


@dataclass(frozen=True)
class Box:
    id: str  # "region:R", "zone:Z", "host:H"
    level: str  # region | zone | host
    title: str
    parent: str | None


@dataclass(frozen=True)
class Edge:
    id: str  # "e0", "e1", ... in drawing order
    source: str
    target: str
    kind: str  # a key of styles.EDGES
    label: str


@dataclass(frozen=True)
class ExtraHop:
    """A hop a counterexample draws that the model has no edge for."""

    source: str
    target: str
    kind: str  # packet | write | connection
    label: str


@dataclass(frozen=True)
class Graph:
    title: str
    nodes: tuple[Node, ...]
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    _by_name: dict[str, Node] = field(init=False, repr=False, compare=False)
    _by_ends: dict[tuple[str, str], list[Edge]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {n.id: n for n in self.nodes})
        by_ends: dict[tuple[str, str], list[Edge]] = {}
        for edge in self.edges:
            by_ends.setdefault((edge.source, edge.target), []).append(edge)
        object.__setattr__(self, "_by_ends", by_ends)

    def node(self, name: str) -> Node | None:
        return self._by_name.get(name)

    def edges_between(self, source: str, target: str) -> list[Edge]:
        return list(self._by_ends.get((source, target), ()))


def nested_lines(graph: Graph, open_box: Callable[[Box, str], list[str]], close_box: Callable[[str], str],
                 node_line: Callable[[Node, str], str], indent: str = "  ") -> list[str]:
    """Lines for the boxes (outermost first, each with its boxes, then its nodes) and then the
    nodes in no box, as DOT and Mermaid nest them; boxes with nothing in them are left out."""
    by_box: dict[str | None, list[Node]] = {}
    for node in graph.nodes:
        by_box.setdefault(node.box, []).append(node)
    children: dict[str | None, list[Box]] = {}
    for box in graph.boxes:
        children.setdefault(box.parent, []).append(box)

    def has_content(box: Box) -> bool:
        return bool(by_box.get(box.id)) or any(has_content(c) for c in children.get(box.id, []))

    out: list[str] = []

    def emit(box: Box, at: str) -> None:
        out.extend(open_box(box, at))
        for child in children.get(box.id, []):
            if has_content(child):
                emit(child, at + "  ")
        out.extend(node_line(n, at + "  ") for n in by_box.get(box.id, []))
        out.append(close_box(at))

    for box in children.get(None, []):
        if has_content(box):
            emit(box, indent)
    out.extend(node_line(n, indent) for n in by_box.get(None, []))
    return out


def internet_of(topology: Topology) -> str | None:
    """The declared internet component, if any."""
    return next((n for n, c in topology.components.items() if c.kind is Kind.INTERNET), None)


def graph_of(topology: Topology, extras: Iterable[ExtraHop] = ()) -> Graph:
    """The nodes, boxes and edges of a topology, with ``extras`` added after the model's edges."""
    extras = list(dict.fromkeys(extras))
    internet = internet_of(topology)
    needs_internet = any(INTERNET_NODE in (h.source, h.target) for h in extras)
    if internet is None and needs_internet:
        internet = INTERNET_NODE

    boxes = _boxes(topology)
    box_ids = {b.id for b in boxes}
    nodes: list[Node] = []
    if internet == INTERNET_NODE and INTERNET_NODE not in topology.components:
        nodes.append(Node(INTERNET_NODE, "internet", ("internet",), None))
    for name, comp in topology.components.items():
        nodes.append(Node(name, comp.kind.value, component_lines(topology, name), _box_of(topology, name, box_ids)))
    for name, cluster in topology.clusters.items():
        if cluster.implicit:
            continue
        boxes_of_members = {_box_of(topology, m, box_ids) for m in cluster.members}
        nodes.append(Node(name, "cluster", cluster_lines(cluster),
                          _common_box(boxes_of_members, {b.id: b for b in boxes})))
    names = {n.id for n in nodes}

    edges: list[Edge] = []

    def add(source: str, target: str, kind: str, label: str) -> None:
        edges.append(Edge(f"e{len(edges)}", source, target, kind, label))

    for build in EDGE_BUILDERS:
        for source, target, kind, label in build(topology, internet):
            add(source, target, kind, label)
    present = {(e.source, e.target) for e in edges}
    for edge in [e for e in edges if e.kind == "member"]:  # a hop into a member may go through its cluster
        present.update((e.source, edge.target) for e in edges if e.target == edge.source)
    for hop in extras:
        source = internet if hop.source == INTERNET_NODE and internet else hop.source
        if source in names and hop.target in names and (source, hop.target) not in present:
            add(source, hop.target, hop.kind, hop.label)
            present.add((source, hop.target))
    return Graph(topology.title or topology.path, tuple(nodes), tuple(boxes), tuple(edges))


# -- the model's edges, one builder per kind of hop ------------------------------------
# Each yields (source, target, edge kind, label); a new kind of hop (a name server a
# DNS name is served by, an egress gateway) is one more builder and one row of
# styles.EDGES.

EdgeRow = tuple[str, str, str, str]


def _entries(topology: Topology, internet: str | None) -> Iterator[EdgeRow]:
    """Who resolves each name: its client groups, else the internet (when drawn)."""
    for name, comp in topology.components.items():
        if comp.kind is not Kind.DNS:
            continue
        if comp.clients:
            for group in comp.clients:
                yield group, name, "entry", "resolves"
        elif internet is not None:
            yield internet, name, "entry", "resolves"


def _name_servers(topology: Topology, internet: str | None) -> Iterator[EdgeRow]:
    for name, comp in topology.components.items():
        for server in comp.served_by:
            yield name, server, "served-by", "served by"


def _answers(topology: Topology, internet: str | None) -> Iterator[EdgeRow]:
    for name, comp in topology.components.items():
        for answer in comp.answers:
            yield name, answer, "answer", "answer"


def _forwards(topology: Topology, internet: str | None) -> Iterator[EdgeRow]:
    """A listener's forwards, labelled with its ports, ``need N``, and a cluster role
    (``primary of``, ``replicas of``) where one is written."""
    for name, comp in topology.components.items():
        for listener in comp.listeners:
            label = str(listener.ports)
            if listener.target_ports is not None:
                label += f" -> {listener.target_ports}"
            if listener.need > 1:
                label += f" need {listener.need}"
            for index, target in enumerate(listener.targets):
                selector = listener.selector(index)
                yield name, target, "forward", f"{selector} of {target}: {label}" if selector else label


def _requirements(topology: Topology, internet: str | None) -> Iterator[EdgeRow]:
    """One edge per source, target and kind; its label lists the verbs (with the target's
    place among the alternatives when there are several and their order matters)."""
    merged: dict[tuple[str, str, str], list[str]] = {}
    for req in topology.requirements:
        ordered = len(req.targets) > 1 and topology.components[req.source].kind is not Kind.JOB  # a job takes any
        for index, target in enumerate(req.targets):
            order = f" #{index + 1}" if ordered else ""
            kind = "optional" if req.optional else "requirement"
            text = req.verb.value + order + (" (optional)" if req.optional else "")
            merged.setdefault((req.source, target, kind), []).append(text)
    for (source, target, kind), texts in merged.items():
        yield source, target, kind, ", ".join(dict.fromkeys(texts))


def _clusters(topology: Topology, internet: str | None) -> Iterator[EdgeRow]:
    for name, cluster in topology.clusters.items():
        for member in cluster.members:
            comp = topology.components[member]
            if comp.role is Role.REPLICA:
                source = comp.replica_of or cluster.primary
                if source:
                    yield source, member, "replication", "replicates"
            if not cluster.implicit:
                yield name, member, "member", ""


def _egress(topology: Topology, internet: str | None) -> Iterator[EdgeRow]:
    """How components without a public address reach the external targets they need:
    to each gateway of their egress list (in order), and from the gateway on."""
    onward: dict[tuple[str, str], None] = {}
    for name, comp in topology.components.items():
        externals = [t for req in topology.requirements_of(name) for t in req.targets
                     if t in topology.components and topology.components[t].kind is Kind.EXTERNAL]
        if not externals or comp.public_addresses:
            continue
        gateways = topology.egress_of(name)
        for index, gateway in enumerate(gateways):
            yield name, gateway, "egress", "egress" + (f" #{index + 1}" if len(gateways) > 1 else "")
            for external in externals:
                onward.setdefault((gateway, external), None)
    for gateway, external in onward:
        yield gateway, external, "egress", "egress"


EDGE_BUILDERS: tuple[Callable[[Topology, str | None], Iterator[EdgeRow]], ...] = (
    _entries, _name_servers, _answers, _forwards, _requirements, _egress, _clusters,
)


def cluster_lines(cluster: Cluster) -> tuple[str, ...]:
    """A cluster's label: its name, failover policy (if it has roles), and quorum."""
    detail = ["cluster"]
    if cluster.has_roles:
        detail.append(f"failover {cluster.failover.value}")
    lines = [cluster.name, ", ".join(detail)]
    if cluster.quorum:
        lines.append(f"quorum: {cluster.majority} of {len(cluster.members)} live")
    return tuple(lines)


def component_lines(topology: Topology, name: str) -> tuple[str, ...]:
    """A component's label: its name; kind, role, managed and host; its addresses."""
    comp = topology.components[name]
    detail = [comp.kind.value]
    if comp.role is not None:
        detail.append(comp.role.value if comp.replica_of is None else f"replica of {comp.replica_of}")
    if comp.managed:
        detail.append("managed")
    if comp.host is not None:
        detail.append(f"host {comp.host}")
    lines = [name, ", ".join(detail)]
    if comp.addresses:
        lines.append(" ".join(str(a) for a in comp.addresses))
    return tuple(lines)


def _boxes(topology: Topology) -> list[Box]:
    """Regions, zones (inside their region) and hosts shared by several components (inside their zone)."""
    out: list[Box] = []
    regions: list[str] = []
    for zone in topology.zones.values():
        if zone.region is not None and zone.region not in regions:
            regions.append(zone.region)
    out.extend(Box(f"region:{r}", "region", f"region {r}", None) for r in regions)
    for zone in topology.zones.values():
        parent = f"region:{zone.region}" if zone.region is not None else None
        out.append(Box(f"zone:{zone.name}", "zone", f"zone {zone.name}", parent))
    zones_declared = bool(topology.zones)
    if zones_declared and any(_unzoned(topology, n) for n in topology.components):
        out.append(Box(f"zone:{UNZONED}", "zone", "unzoned (one place)", None))
    hosts: dict[str, list[str]] = {}
    for name, comp in topology.components.items():
        if comp.host is not None:
            hosts.setdefault(comp.host, []).append(name)
    for host, members in hosts.items():
        if len(members) < 2:
            continue
        zone = topology.zone_of(members[0])
        parent = f"zone:{zone}" if (zone != UNZONED or zones_declared) else None
        out.append(Box(f"host:{host}", "host", f"host {host}", parent))
    return out


def _unzoned(topology: Topology, name: str) -> bool:
    return bool(topology.units_of(name)) and topology.zone_of(name) == UNZONED


def _box_of(topology: Topology, name: str, box_ids: set[str]) -> str | None:
    """The innermost box of a component; none for what fails with nothing (the internet,
    client groups, jobs, external targets, managed components without a zone, a name
    served by name servers)."""
    if not topology.units_of(name):
        return None
    comp = topology.components[name]
    if comp.host is not None and f"host:{comp.host}" in box_ids:
        return f"host:{comp.host}"
    box = f"zone:{topology.zone_of(name)}"
    return box if box in box_ids else None


def _common_box(members: set[str | None], boxes: dict[str, Box]) -> str | None:
    """The innermost box holding every one of ``members``' boxes."""
    chains = []
    for box in members:
        chain: list[str] = []
        while box is not None:
            chain.append(box)
            box = boxes[box].parent
        chains.append(chain[::-1])
    if not chains or any(not c for c in chains):
        return None
    common: str | None = None
    for level in zip(*chains):
        if len(set(level)) != 1:
            break
        common = level[0]
    return common
