"""Every look a diagram uses, named once.

Component kinds (a shape and a fill each), edge kinds (a line each) and the
highlight styles of a chosen counterexample (failed units, stopped services,
the causal path, ...). The SVG writer, the HTML page's CSS, DOT and Mermaid all
read these tables, and the legend prints the same names, so the legend cannot
say one thing while the drawing shows another.

A new component kind or edge kind is one row here (and, for a new shape, one
outline function in :mod:`.svg`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KindLook:
    """How a component kind is drawn: the built-in SVG shape, its fill, and the
    Graphviz and Mermaid shapes that stand for it."""

    shape: str  # ellipse | note | hexagon | trapezoid | box | component | cylinder | stack | octagon | cloud
    fill: str
    dot_shape: str
    mermaid: tuple[str, str]


KINDS: dict[str, KindLook] = {
    "internet": KindLook("ellipse", "#e3f2fd", "ellipse", ("((", "))")),
    "clients": KindLook("ellipse", "#e8eaf6", "ellipse", ("((", "))")),
    "dns": KindLook("note", "#f3e5f5", "note", ("([", "])")),
    "job": KindLook("octagon", "#ede7f6", "octagon", ("{{", "}}")),
    "lb": KindLook("hexagon", "#e8f5e9", "hexagon", ("{{", "}}")),
    "gateway": KindLook("trapezoid", "#e8f5e9", "invtrapezium", ("[/", "\\]")),
    "web": KindLook("box", "#fffde7", "box", ("[", "]")),
    "service": KindLook("component", "#fff3e0", "component", ("[[", "]]")),
    "db": KindLook("cylinder", "#e0f2f1", "cylinder", ("[(", ")]")),
    "cluster": KindLook("stack", "#eceff1", "folder", ("[/", "/]")),
    "external": KindLook("cloud", "#f5f5f5", "egg", ("(", ")")),
}
DEFAULT_KIND = KindLook("box", "#ffffff", "box", ("[", "]"))


def kind_look(kind: str) -> KindLook:
    return KINDS.get(kind, DEFAULT_KIND)


@dataclass(frozen=True)
class LineLook:
    """How an edge kind is drawn, and what the legend calls it."""

    colour: str
    dash: str | None  # SVG stroke-dasharray
    arrow: bool
    legend: str


EDGES: dict[str, LineLook] = {
    "entry": LineLook("#78909c", None, True, "clients resolve a name"),
    "answer": LineLook("#546e7a", None, True, "DNS answer"),
    "served-by": LineLook("#546e7a", "1 3", True, "name served by a name server"),
    "forward": LineLook("#37474f", None, True, "listener forward (ports)"),
    "requirement": LineLook("#455a64", None, True, "requirement (its verb)"),
    "optional": LineLook("#90a4ae", "6 4", True, "optional requirement"),
    "egress": LineLook("#6d4c41", "8 3 2 3", True, "egress through a gateway"),
    "replication": LineLook("#00897b", "5 3", True, "replication"),
    "member": LineLook("#90a4ae", "2 3", False, "cluster member"),
    # drawn only for a counterexample that needs them (a hop the model has no edge for)
    "packet": LineLook("#e65100", None, True, "packet from the internet"),
    "write": LineLook("#1565c0", None, True, "where a write went"),
    "connection": LineLook("#6a1b9a", "5 3", True, "connection the finding names"),
}


@dataclass(frozen=True)
class Mark:
    """A highlight style of a chosen counterexample.

    ``applies`` is ``node`` (components and clusters, and failed zone, region or
    host boxes), or ``edge``. ``fill`` None keeps the kind's fill.
    """

    name: str
    applies: str
    stroke: str
    width: float
    dash: str | None
    fill: str | None
    legend: str


MARKS: tuple[Mark, ...] = (
    Mark("failed", "node", "#c62828", 3.0, None, "#ffcdd2", "failed unit (host, zone or region)"),
    Mark("stopped", "node", "#ef6c00", 3.0, "7 3", "#fff3e0", "stopped service"),
    Mark("down", "node", "#757575", 2.0, "4 3", "#eeeeee", "live, but serves nothing (needs what failed)"),
    Mark("cause", "edge", "#c62828", 3.0, None, None, "causal path: what the stopped service needs"),
    Mark("blocked", "edge", "#6a1b9a", 3.0, "6 3", None, "hop the policy or a port blocks"),
    Mark("exposed", "node", "#e65100", 3.0, None, "#ffe0b2", "reachable from the internet"),
    Mark("packet", "edge", "#e65100", 3.0, None, None, "offending packet's path"),
    Mark("write", "edge", "#1565c0", 3.0, None, None, "path of the bad write"),
    Mark("landing", "node", "#1565c0", 3.0, None, "#bbdefb", "where the write landed (not the primary)"),
    Mark("primary", "node", "#2e7d32", 3.0, "2 2", None, "the cluster's current primary"),
    Mark("subject", "node", "#3949ab", 3.0, None, "#e8eaf6", "named by the finding"),
    Mark("named", "edge", "#3949ab", 3.0, None, None, "hop named by the finding"),
    Mark("improved", "node", "#2e7d32", 3.0, None, "#dcedc8", "what the change made better (topocheck diff)"),
)
MARK = {m.name: m for m in MARKS}

# When two marks fall on one element, the earlier wins.
PRECEDENCE = tuple(m.name for m in MARKS)

BOX_FILL = {"region": "#fbfcfd", "zone": "#f5f7f8", "host": "#ffffff"}
BOX_STROKE = {"region": "#607d8b", "zone": "#90a4ae", "host": "#b0bec5"}
FAILED_BOX_FILL = "#fff0f0"
TEXT = "#1f2933"
FONT = "'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace"
