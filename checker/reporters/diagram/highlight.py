"""Choosing a counterexample, and what it marks on the drawing.

The counterexamples of a file are numbered 1, 2, ... over its refuted results in
report order (the order ``topocheck check`` prints them), each result's own
counterexamples first, then those a suppression comment accepted. A diagram
draws one of them: its failed units, the services they stop, the causal path
between (:mod:`checker.scenario`), the packet of an exposure, the path of a bad
write, or what a lint names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ...model import Topology
from ...results import Counterexample, Result, Status
from .graph import INTERNET_NODE, ExtraHop, Graph
from .styles import PRECEDENCE


@dataclass(frozen=True)
class Choice:
    """The ``number``-th counterexample of a file (1-based)."""

    number: int
    result: Result
    counterexample: Counterexample
    accepted: str | None = None  # the suppression's reason, for an accepted one

    @property
    def summary(self) -> str:
        """One line: the check, where, and the counterexample's gist."""
        where = f" (line {self.result.span.line})" if self.result.span else ""
        tail = f" [accepted: {self.accepted}]" if self.accepted is not None else ""
        return f"{self.result.id}{where}: {gist(self.counterexample)}{tail}"


def choices(results: Iterable[Result]) -> list[Choice]:
    """Every counterexample of every refuted result, numbered from 1."""
    out: list[Choice] = []
    for result in results:
        if result.status is not Status.REFUTED:
            continue
        for cx in result.counterexamples:
            out.append(Choice(len(out) + 1, result, cx))
        for entry in result.extra.get("suppressed", ()):
            source = getattr(entry, "source", None)
            cx = source if isinstance(source, Counterexample) else Counterexample(dict(entry.get("counterexample", {})))
            out.append(Choice(len(out) + 1, result, cx, str(entry.get("reason", ""))))
    return out


def gist(cx: Counterexample) -> str:
    """The counterexample in a few words, for a chooser or a caption."""
    f = cx.fields
    if "stopped" in f:
        failed = ", ".join(f.get("failed", ())) or "nothing"
        return f"failed {failed} -> stops {', '.join(f['stopped'])}"
    if "writer" in f:
        failed = ", ".join(f.get("failed", ())) or "nothing"
        return f"failed {failed}: {f['writer']} writes to {f['target']} ({' -> '.join(f.get('path', ()))})"
    if "packet" in f:
        p = f["packet"]
        return (f"{p['protocol']}/{p['port']} from {p['src']} reaches {f['component']} "
                f"({' -> '.join(f.get('path', ()))})")
    if "address" in f and "component" in f:
        return f"{f['component']} has the public address {f['address']}"
    if "missing" in f:
        return f"{f['source']} -> {f['target']} {f['ports']} is denied"
    if "denied" in f:  # connection-denied: every connection one mistake denies
        return "denied: " + ", ".join(f"{c['source']} -> {c['target']} {c['ports']}" for c in f["denied"])
    if "cycle" in f:
        return "replication cycle " + " -> ".join(f["cycle"])
    if "chain" in f:
        return f"{f['replica']} replicates through " + " -> ".join(f["chain"])
    if "replica" in f and "source" in f:
        return f"{f['replica']} cannot replicate from {f['source']} ({f.get('ports', '')})"
    if "members" in f and "cluster" in f:
        return f"cluster {f['cluster']}: " + ", ".join(f["members"])
    if "shadowed_by" in f:
        return f"rule at line {f['rule']} is shadowed by line(s) {', '.join(map(str, f['shadowed_by']))}"
    return ", ".join(f"{k}={v}" for k, v in f.items())


def extra_hops(topology: Topology, cx: Counterexample, scenarios: Scenarios | None = None) -> list[ExtraHop]:
    """Hops this counterexample draws; those the model has no edge for are added to the
    drawing (``scenarios``: the drawing's, shared with :func:`marks_of`)."""
    f = cx.fields
    if "stopped" in f:  # a name whose own name server its clients cannot reach on udp/53
        seen = (scenarios or Scenarios(topology)).of(f)
        return [ExtraHop(INTERNET_NODE, name, "connection", "udp/53") for source, name in sorted(seen.blocked)
                if source == INTERNET_NODE]
    path = [str(p) for p in f.get("path", ())]
    if "packet" in f:
        p = f["packet"]
        label = f"{p['protocol']}/{p['port']}"
        return [ExtraHop(a, b, "packet", label if a == INTERNET_NODE else "") for a, b in zip(path, path[1:])]
    if "writer" in f:
        return [ExtraHop(a, b, "write", "write") for a, b in zip(path, path[1:])]
    if "missing" in f:
        source = INTERNET_NODE if f["source"] == "internet" else str(f["source"])
        return [ExtraHop(source, str(f["target"]), "connection", str(f["ports"]))]
    if "denied" in f:
        return [ExtraHop(_end(c["source"]), str(c["target"]), "connection", str(c["ports"])) for c in f["denied"]]
    return []


class Scenarios:
    """The scenarios of one drawing's counterexamples, each evaluated once (a drawing reads
    a counterexample's scenario twice: its extra hops, then its marks) with the indexed
    policy (the reference's decisions, from an index: the reference policy tries every
    rule for every question, and a whole evaluation of a 2,000-component file asked it
    for a minute). One per drawing, dropped with it."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self._evaluator = None
        self._seen: dict = {}

    def of(self, f: dict):
        """The scenario of a counterexample (its fields ``f``) that stops services."""
        from ...engines.fastpolicy import FastPolicy
        from ...evaluator import Evaluator
        from ...scenario import scenario

        key = (tuple(str(u) for u in f.get("failed", ())), tuple(str(s) for s in f["stopped"]))
        seen = self._seen.get(key)
        if seen is None:
            if self._evaluator is None:
                self._evaluator = Evaluator(self.topology, FastPolicy(self.topology))
            seen = self._seen[key] = scenario(self.topology, key[0], key[1], self._evaluator)
        return seen


def _end(name: str) -> str:
    """A connection's source as the drawing names it."""
    return INTERNET_NODE if name == "internet" else str(name)


@dataclass
class Marks:
    """What one counterexample marks: element -> mark name (see styles.MARKS)."""

    nodes: dict[str, str] = field(default_factory=dict)  # node id -> mark
    boxes: dict[str, str] = field(default_factory=dict)  # box id -> mark
    edges: dict[str, str] = field(default_factory=dict)  # edge id -> mark

    def mark_node(self, name: str, mark: str) -> None:
        _put(self.nodes, name, mark)

    def mark_edge(self, edge_id: str, mark: str) -> None:
        _put(self.edges, edge_id, mark)

    @property
    def used(self) -> tuple[str, ...]:
        """The marks in use, in the legend's order."""
        present = set(self.nodes.values()) | set(self.boxes.values()) | set(self.edges.values())
        return tuple(name for name in PRECEDENCE if name in present)

    def __bool__(self) -> bool:
        return bool(self.nodes or self.boxes or self.edges)


def _put(table: dict[str, str], key: str, mark: str) -> None:
    old = table.get(key)
    if old is None or PRECEDENCE.index(mark) < PRECEDENCE.index(old):
        table[key] = mark


def marks_of(topology: Topology, graph: Graph, cx: Counterexample | None,
             scenarios: Scenarios | None = None) -> Marks:
    """The marks of one counterexample on a drawing (empty for None; ``scenarios``: the
    drawing's, shared with :func:`extra_hops`)."""
    marks = Marks()
    if cx is None:
        return marks
    f = cx.fields
    hop_mark = "packet" if "packet" in f else "write" if "writer" in f else None
    if "failed" in f:
        _mark_failed(topology, graph, [str(u) for u in f["failed"]], marks)
    if "stopped" in f:
        seen = (scenarios or Scenarios(topology)).of(f)
        for name in seen.stopped:
            if graph.node(name):
                marks.mark_node(name, "stopped")
        for name in seen.down:
            if graph.node(name):
                marks.mark_node(name, "down")
        for source, target in sorted(seen.cause):
            _mark_path(graph, [source, target], "cause", marks)
        for source, target in sorted(seen.blocked):
            _mark_path(graph, [source, target], "blocked", marks)
    if hop_mark is not None:
        _mark_path(graph, [str(p) for p in f.get("path", ())], hop_mark, marks)
    if "packet" in f or ("address" in f and "component" in f):
        marks.mark_node(str(f["component"]), "exposed")
    if "writer" in f:
        target = f.get("target")
        if isinstance(target, str) and graph.node(target):
            marks.mark_node(target, "landing")
        primary = f.get("primary")
        if isinstance(primary, str) and graph.node(primary):
            marks.mark_node(primary, "primary")
    if "missing" in f:
        source = INTERNET_NODE if f["source"] == "internet" else str(f["source"])
        _mark_path(graph, [source, str(f["target"])], "blocked", marks)
    for connection in f.get("denied", ()) if isinstance(f.get("denied"), list) else ():
        _mark_path(graph, [_end(connection["source"]), str(connection["target"])], "blocked", marks)
    if "replica" in f and "source" in f:
        _mark_path(graph, [str(f["source"]), str(f["replica"])], "blocked", marks)
    for key in ("chain", "cycle"):
        if key in f:
            names = [str(n) for n in f[key]]
            for name in names:
                if graph.node(name):
                    marks.mark_node(name, "subject")
            _mark_path(graph, names[::-1], "named", marks)  # chains run replica -> source
    if "members" in f and "cluster" in f:
        for name in [str(f["cluster"]), *map(str, f["members"])]:
            if graph.node(name):
                marks.mark_node(name, "subject")
    marks.nodes = {k: v for k, v in marks.nodes.items() if graph.node(k)}
    return marks


def _mark_failed(topology: Topology, graph: Graph, labels: Sequence[str], marks: Marks) -> None:
    from ...scenario import unit_of_label

    box_ids = {b.id for b in graph.boxes}
    units = [u for u in (unit_of_label(topology, label) for label in labels) if u is not None]
    for unit in units:
        if unit.kind in ("zone", "region", "host") and not unit.implicit and f"{unit.kind}:{unit.name}" in box_ids:
            marks.boxes[f"{unit.kind}:{unit.name}"] = "failed"
    failed = set(units)
    for name in topology.components:
        if any(u in failed for u in topology.units_of(name)):
            marks.mark_node(name, "failed")


def _mark_path(graph: Graph, path: Sequence[str], mark: str, marks: Marks) -> None:
    """Mark each hop of ``path``; a hop into a cluster member goes through the cluster's node."""
    internet = next((n.id for n in graph.nodes if n.kind == "internet"), INTERNET_NODE)
    for a, b in zip(path, path[1:]):
        a = internet if a == INTERNET_NODE else a
        edges = graph.edges_between(a, b)
        if not edges:
            via = [c for c in graph.nodes if c.kind == "cluster" and graph.edges_between(a, c.id)
                   and graph.edges_between(c.id, b)]
            if via:
                edges = graph.edges_between(a, via[0].id) + graph.edges_between(via[0].id, b)
        if not edges:  # a member that needs its cluster's majority: the membership drawn the other way
            edges = [e for e in graph.edges_between(b, a) if e.kind == "member"]
        for edge in edges:
            marks.mark_edge(edge.id, mark)
