"""Diagrams of a topology: Graphviz DOT, Mermaid, SVG (through Graphviz's ``dot``)
and a self-contained HTML page.

Regions and zones are drawn as nested clusters; components by kind (a shape
each); edges for DNS answers, listener forwards (with their ports),
requirements (labelled with their verb) and replication. With highlighting on,
the failed units and offending paths of refuted checks are coloured and a
legend says what the colours mean.

Everything here is a pure function of the topology and the results, except
:func:`to_svg`, which runs ``dot``.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ...model import UNZONED, Kind, Role, Topology
from ...results import Result, Status

FAILED_FILL, FAILED_LINE, PATH_LINE = "#ffd6d6", "#c62828", "#d84315"

# kind -> (DOT shape, DOT fill, Mermaid opening, Mermaid closing)
_SHAPES: dict[Kind, tuple[str, str, str, str]] = {
    Kind.INTERNET: ("ellipse", "#e3f2fd", "((", "))"),
    Kind.DNS: ("note", "#f3e5f5", "([", "])"),
    Kind.LB: ("hexagon", "#e8f5e9", "{{", "}}"),
    Kind.GATEWAY: ("invhouse", "#e8f5e9", "[/", "\\]"),
    Kind.WEB: ("box", "#fffde7", "[", "]"),
    Kind.SERVICE: ("component", "#fff3e0", "[[", "]]"),
    Kind.DB: ("cylinder", "#e0f2f1", "[(", ")]"),
}
INTERNET_NODE = "internet"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    kind: str  # "answer" | "forward" | "requirement" | "optional" | "replication" | "member" | "entry" | "extra"


@dataclass
class Highlight:
    """What the refuted checks point at: failed components, failed zones and
    regions (drawn as red clusters), and the hops of offending paths."""

    nodes: set[str] = field(default_factory=set)
    zones: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    hops: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.nodes or self.zones or self.regions or self.hops)


def highlight_of(topology: Topology, results: Iterable[Result]) -> Highlight:
    """Collect the failed units and offending paths of every refuted result."""
    mark = Highlight()
    for result in results:
        if result.status is not Status.REFUTED:
            continue
        for counterexample in result.counterexamples:
            fields = counterexample.fields
            for label in fields.get("failed", ()):
                _mark_unit(topology, str(label), mark)
            component = fields.get("component")
            if isinstance(component, str) and component in topology.components:
                mark.nodes.add(component)
            path = [str(p) for p in fields.get("path", ())]
            for a, b in zip(path, path[1:]):
                if (a, b) not in mark.hops:
                    mark.hops.append((a, b))
            landing = fields.get("target")
            if path and isinstance(landing, str) and landing in topology.components and "writer" in fields:
                mark.nodes.add(landing)
    return mark


def _mark_unit(topology: Topology, label: str, mark: Highlight) -> None:
    if label.startswith("zone:"):
        mark.zones.add(label[5:])
    elif label.startswith("region:"):
        mark.regions.add(label[7:])
    elif label.startswith("host:"):
        host = label[5:]
        mark.nodes.update(n for n, c in topology.components.items() if c.host == host)
    elif label in topology.components:
        mark.nodes.add(label)


# -- the drawing's structure ----------------------------------------------------


@dataclass
class Drawing:
    """The nodes (in declaration order), their clusters, and the edges."""

    nodes: list[str]
    labels: dict[str, str]
    kinds: dict[str, Kind | None]  # None: a cluster endpoint or the implicit internet
    regions: dict[str, list[str]]  # region -> zones in it (declaration order)
    zone_members: dict[str, list[str]]  # zone -> component names
    edges: list[Edge]


def drawing_of(topology: Topology, highlight: Highlight | None = None) -> Drawing:
    nodes: list[str] = []
    labels: dict[str, str] = {}
    kinds: dict[str, Kind | None] = {}
    for name, comp in topology.components.items():
        nodes.append(name)
        kinds[name] = comp.kind
        labels[name] = _component_label(topology, name)
    for name, cluster in topology.clusters.items():
        if cluster.implicit:
            continue
        nodes.append(name)
        kinds[name] = None
        labels[name] = f"{name}\ncluster, failover {cluster.failover.value}"
    internet = next((n for n, c in topology.components.items() if c.kind is Kind.INTERNET), None)
    needs_internet = highlight is not None and any(INTERNET_NODE in hop for hop in highlight.hops)
    if internet is None and needs_internet:
        internet = INTERNET_NODE
        nodes.insert(0, internet)
        kinds[internet] = None
        labels[internet] = "internet"

    zones_declared = bool(topology.zones)
    regions: dict[str, list[str]] = {}
    zone_members: dict[str, list[str]] = {}
    for zone in topology.zones.values():
        regions.setdefault(zone.region or "", []).append(zone.name)
        zone_members[zone.name] = []
    for name, comp in topology.components.items():
        if comp.kind is Kind.INTERNET:
            continue
        zone = topology.zone_of(name)
        if zone != UNZONED and zone in zone_members:
            zone_members[zone].append(name)
        elif zones_declared and not comp.managed:
            zone_members.setdefault(UNZONED, []).append(name)

    edges: list[Edge] = []
    if internet is not None:
        for name, comp in topology.components.items():
            if comp.kind is Kind.DNS:
                edges.append(Edge(internet, name, "resolves", "entry"))
    for name, comp in topology.components.items():
        for answer in comp.answers:
            edges.append(Edge(name, answer, "answer", "answer"))
        for listener in comp.listeners:
            ports = str(listener.ports)
            target_ports = f" -> {listener.target_ports}" if listener.target_ports is not None else ""
            for target in listener.targets:
                edges.append(Edge(name, target, f"{ports}{target_ports}", "forward"))
    merged: dict[tuple[str, str, str], list[str]] = {}
    for req in topology.requirements:
        for index, target in enumerate(req.targets):
            label = req.verb.value + (f" #{index + 1}" if len(req.targets) > 1 else "")
            kind = "optional" if req.optional else "requirement"
            merged.setdefault((req.source, target, kind), []).append(label + (" (optional)" if req.optional else ""))
    edges.extend(Edge(a, b, ", ".join(labels), kind) for (a, b, kind), labels in merged.items())
    for name, cluster in topology.clusters.items():
        for member in cluster.members:
            comp = topology.components[member]
            if comp.role is Role.REPLICA:
                source = comp.replica_of or cluster.primary
                if source:
                    edges.append(Edge(source, member, "replicates", "replication"))
            if not cluster.implicit:
                edges.append(Edge(name, member, "", "member"))
    if highlight is not None:
        present = {(e.source, e.target) for e in edges}
        for a, b in highlight.hops:
            a2 = internet if a == INTERNET_NODE and internet else a
            if (a2, b) not in present and a2 in labels and b in labels:
                edges.append(Edge(a2, b, "path", "extra"))
                present.add((a2, b))
    return Drawing(nodes, labels, kinds, regions, zone_members, edges)


def _component_label(topology: Topology, name: str) -> str:
    comp = topology.components[name]
    lines = [name]
    detail = [comp.kind.value]
    if comp.role is not None:
        detail.append(comp.role.value)
    if comp.managed:
        detail.append("managed")
    if comp.host is not None:
        detail.append(f"host {comp.host}")
    lines.append(", ".join(detail))
    if comp.addresses:
        lines.append(" ".join(str(a) for a in comp.addresses))
    return "\n".join(lines)


def _hop_set(topology: Topology, highlight: Highlight, internet: str | None) -> set[tuple[str, str]]:
    out = set()
    for a, b in highlight.hops:
        out.add((internet if a == INTERNET_NODE and internet else a, b))
    return out


def _internet_of(drawing: Drawing) -> str | None:
    for name in drawing.nodes:
        if drawing.kinds[name] is Kind.INTERNET or (name == INTERNET_NODE and drawing.kinds[name] is None):
            return name
    return None


def _node_failed(topology: Topology, name: str, highlight: Highlight) -> bool:
    if name in highlight.nodes:
        return True
    comp = topology.components.get(name)
    if comp is None or comp.managed or comp.kind is Kind.INTERNET:
        return False
    zone = topology.zone_of(name)
    return zone in highlight.zones or topology.region_of_zone(zone) in highlight.regions


# -- DOT ------------------------------------------------------------------------------


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _css_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def to_dot(topology: Topology, results: Sequence[Result] = (), highlight: bool = True) -> str:
    """The topology as a Graphviz digraph; node ids are component names."""
    mark = highlight_of(topology, results) if highlight else Highlight()
    drawing = drawing_of(topology, mark)
    internet = _internet_of(drawing)
    hops = _hop_set(topology, mark, internet)
    title = topology.title or topology.path
    out = [
        "digraph topology {",
        f"  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, label={_dot_id(title)}, "
        "nodesep=0.35, ranksep=0.7, compound=true];",
        "  node [fontname=\"Helvetica\", fontsize=11, style=filled, penwidth=1.2];",
        "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#546e7a\", fontcolor=\"#37474f\"];",
    ]

    def node_line(name: str, indent: str) -> str:
        kind = drawing.kinds[name]
        shape, fill, _, _ = _SHAPES[kind] if kind is not None else ("folder", "#eceff1", "", "")
        if kind is None and name == internet:
            shape, fill = _SHAPES[Kind.INTERNET][:2]
        attrs = [f"label={_dot_id(drawing.labels[name])}", f"shape={shape}", f"id={_dot_id('node-' + name)}"]
        if shape == "hexagon":
            attrs.append("margin=0.02")
        classes = ["unit"]
        if _node_failed(topology, name, mark):
            attrs += [f'fillcolor="{FAILED_FILL}"', f'color="{FAILED_LINE}"', "penwidth=3"]
            classes.append("failed")
        else:
            attrs.append(f'fillcolor="{fill}"')
            if kind is None and name != internet:
                attrs.append('style="filled,dashed"')
        attrs.append(f"class={_dot_id(' '.join(classes))}")
        return f"{indent}{_dot_id(name)} [{', '.join(attrs)}];"

    placed: set[str] = set()
    for index, (region, zones) in enumerate(drawing.regions.items()):
        indent = "  "
        if region:
            failed = region in mark.regions
            out.append(f"  subgraph {_dot_id('cluster_region_' + region)} {{")
            out.append(f"    label={_dot_id('region ' + region)}; id={_dot_id('region-' + region)}; "
                       f"style=\"rounded{',filled' if failed else ''}\"; "
                       + (f'color="{FAILED_LINE}"; fillcolor="#fff0f0"; penwidth=3; class="failed";' if failed
                          else 'color="#78909c"; penwidth=1.5;'))
            indent = "    "
        for zone in zones:
            out.extend(_dot_zone(zone, drawing.zone_members.get(zone, []), zone in mark.zones, indent, node_line))
            placed.update(drawing.zone_members.get(zone, []))
        if region:
            out.append("  }")
    if UNZONED in drawing.zone_members:
        members = drawing.zone_members[UNZONED]
        out.extend(_dot_zone(UNZONED, members, UNZONED in mark.zones, "  ", node_line))
        placed.update(members)
    for name in drawing.nodes:
        if name not in placed:
            out.append(node_line(name, "  "))

    for edge in drawing.edges:
        attrs = [f"label={_dot_id(edge.label)}"]
        style = {"optional": "dashed", "replication": "dashed", "member": "dotted"}.get(edge.kind)
        if edge.kind == "replication":
            attrs += ['color="#00897b"', 'fontcolor="#00695c"']
        if (edge.source, edge.target) in hops:
            attrs += [f'color="{PATH_LINE}"', f'fontcolor="{PATH_LINE}"', "penwidth=3", 'class="offending"']
            if edge.kind == "extra":
                style = "bold"
        if style:
            attrs.append(f"style={style}")
        if edge.kind == "member":
            attrs.append("arrowhead=none")
        out.append(f"  {_dot_id(edge.source)} -> {_dot_id(edge.target)} [{', '.join(attrs)}];")

    if mark:
        out.extend(_dot_legend(mark))
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_zone(zone, members, failed, indent, node_line) -> list[str]:
    label = "unzoned (one place)" if zone == UNZONED else f"zone {zone}"
    out = [f"{indent}subgraph {_dot_id('cluster_zone_' + zone)} {{"]
    style = (f'style="rounded,filled"; color="{FAILED_LINE}"; fillcolor="#fff0f0"; penwidth=3; class="failed";'
             if failed else 'style="rounded,filled"; color="#b0bec5"; fillcolor="#fafafa";')
    out.append(f"{indent}  label={_dot_id(label)}; id={_dot_id('zone-' + zone)}; {style}")
    out.extend(node_line(name, indent + "  ") for name in members)
    if not members:
        out.append(f"{indent}  {_dot_id('(empty zone ' + zone + ')')} [label=\"(empty)\", shape=plaintext, style=\"\"];")
    out.append(f"{indent}}}")
    return out


def _dot_legend(mark: Highlight) -> list[str]:
    rows = [
        f'<TR><TD BGCOLOR="{FAILED_FILL}" BORDER="1" COLOR="{FAILED_LINE}">   </TD>'
        "<TD ALIGN=\"LEFT\">failed unit (host, zone or region) of a refuted check</TD></TR>",
        f'<TR><TD><FONT COLOR="{PATH_LINE}"><B>&#8594;</B></FONT></TD>'
        "<TD ALIGN=\"LEFT\">offending path (a hop of a counterexample)</TD></TR>",
        '<TR><TD><FONT COLOR="#00897b">- - &#8594;</FONT></TD><TD ALIGN="LEFT">replication</TD></TR>',
        '<TR><TD>- - &#8594;</TD><TD ALIGN="LEFT">optional requirement</TD></TR>',
    ]
    return [
        "  subgraph cluster_legend {",
        '    label="legend"; id="legend"; style="rounded"; color="#90a4ae"; fontsize=10;',
        '    "(legend)" [shape=plaintext, style="", id="legend-table", label=<<TABLE BORDER="0" CELLBORDER="0" '
        'CELLSPACING="2">' + "".join(rows) + "</TABLE>>];",
        "  }",
    ]


# -- Mermaid ---------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    escaped = text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    return escaped.replace("\n", "<br/>")


def to_mermaid(topology: Topology, results: Sequence[Result] = (), highlight: bool = True) -> str:
    """The topology as a Mermaid flowchart (node ids ``n0``, ``n1``...)."""
    mark = highlight_of(topology, results) if highlight else Highlight()
    drawing = drawing_of(topology, mark)
    internet = _internet_of(drawing)
    hops = _hop_set(topology, mark, internet)
    ids = {name: f"n{i}" for i, name in enumerate(drawing.nodes)}
    out = ["flowchart LR"]

    def node_line(name: str, indent: str) -> str:
        kind = drawing.kinds[name]
        if kind is None:
            opening, closing = ("((", "))") if name == internet else ("[/", "/]")
        else:
            opening, closing = _SHAPES[kind][2], _SHAPES[kind][3]
        return f'{indent}{ids[name]}{opening}"{_mermaid_text(drawing.labels[name])}"{closing}'

    placed: set[str] = set()
    cluster_ids: dict[str, str] = {}
    for r_index, (region, zones) in enumerate(drawing.regions.items()):
        indent = "  "
        if region:
            rid = f"r{r_index}"
            cluster_ids["region:" + region] = rid
            out.append(f'  subgraph {rid}["{_mermaid_text("region " + region)}"]')
            indent = "    "
        for zone in zones:
            zid = f"z{len([k for k in cluster_ids if k.startswith('zone:')])}"
            cluster_ids["zone:" + zone] = zid
            out.append(f'{indent}subgraph {zid}["{_mermaid_text("zone " + zone)}"]')
            members = drawing.zone_members.get(zone, [])
            out.extend(node_line(n, indent + "  ") for n in members)
            placed.update(members)
            out.append(f"{indent}end")
        if region:
            out.append("  end")
    if UNZONED in drawing.zone_members:
        cluster_ids["zone:" + UNZONED] = "zu"
        out.append('  subgraph zu["unzoned (one place)"]')
        out.extend(node_line(n, "    ") for n in drawing.zone_members[UNZONED])
        placed.update(drawing.zone_members[UNZONED])
        out.append("  end")
    for name in drawing.nodes:
        if name not in placed:
            out.append(node_line(name, "  "))

    offending: list[int] = []
    replication: list[int] = []
    for index, edge in enumerate(drawing.edges):
        arrow = {"optional": "-.->", "replication": "-.->", "member": "---"}.get(edge.kind, "-->")
        if edge.kind == "extra":
            arrow = "==>"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        out.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
        if (edge.source, edge.target) in hops:
            offending.append(index)
        elif edge.kind == "replication":
            replication.append(index)

    out.append(f"  classDef failed fill:{FAILED_FILL},stroke:{FAILED_LINE},stroke-width:3px,color:#000")
    out.append(f"  classDef failedZone fill:#fff0f0,stroke:{FAILED_LINE},stroke-width:3px")
    failed_nodes = [ids[n] for n in drawing.nodes if _node_failed(topology, n, mark)]
    if failed_nodes:
        out.append(f"  class {','.join(failed_nodes)} failed")
    failed_clusters = [cluster_ids[f"zone:{z}"] for z in sorted(mark.zones) if f"zone:{z}" in cluster_ids]
    failed_clusters += [cluster_ids[f"region:{r}"] for r in sorted(mark.regions) if f"region:{r}" in cluster_ids]
    if failed_clusters:
        out.append(f"  class {','.join(failed_clusters)} failedZone")
    if replication:
        out.append(f"  linkStyle {','.join(map(str, replication))} stroke:#00897b")
    if offending:
        out.append(f"  linkStyle {','.join(map(str, offending))} stroke:{PATH_LINE},stroke-width:3px")
    return "\n".join(out) + "\n"


# -- SVG and HTML ----------------------------------------------------------------------


class GraphvizMissing(Exception):
    """Graphviz's ``dot`` is not installed."""


def to_svg(dot_source: str, timeout: float = 60.0) -> str:
    """Lay out DOT with Graphviz's ``dot``; raises :class:`GraphvizMissing` without it."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing(
            "rendering SVG needs Graphviz's 'dot' program, which was not found on PATH "
            "(install it, e.g. 'apt-get install graphviz' or 'brew install graphviz')"
        )
    done = subprocess.run([exe, "-Tsvg"], input=dot_source.encode("utf-8"), capture_output=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    svg = done.stdout.decode("utf-8")
    # drop the XML prolog and doctype so the SVG can be inlined in HTML
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


_PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px;
       color: #1f2933; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.4em; }
.path { color: #52606d; font-family: monospace; }
#diagram svg { max-width: 100%; height: auto; border: 1px solid #d9e2ec; border-radius: 6px; }
table { border-collapse: collapse; margin-top: 0.5em; }
th, td { border: 1px solid #d9e2ec; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f0f4f8; }
.proved { color: #1b5e20; font-weight: 600; } .refuted { color: #b71c1c; font-weight: 600; }
.unknown { color: #e65100; font-weight: 600; }
.counterexample { margin: 0.4em 0 0.8em 0; padding: 6px 12px; border-left: 4px solid #c62828;
                  background: #fff5f5; }
.counterexample ul { margin: 0.2em 0; } code { background: #f0f4f8; padding: 0 3px; }
"""


def to_html(topology: Topology, results: Sequence[Result], svg: str, path: str) -> str:
    """One self-contained page: the SVG inline, the verdict table, the counterexamples."""
    from ..text import describe_fields

    esc = html.escape
    title = topology.title or path
    rows = []
    for r in results:
        rows.append(
            f'<tr class="result" data-check="{esc(r.id)}" data-status="{r.status.value}">'
            f"<td><code>{esc(r.id)}</code></td><td class=\"{r.status.value}\">{r.status.value}</td>"
            f"<td>{r.severity.value}</td><td>{esc(_line_of(r))}</td><td>{esc(r.message)}</td></tr>"
        )
    details = []
    for r in results:
        for index, cx in enumerate(r.counterexamples, 1):
            items = "".join(f"<li>{esc(line)}</li>" for line in describe_fields(cx.to_json()))
            details.append(
                f'<div class="counterexample" data-check="{esc(r.id)}"><strong>{esc(r.id)}</strong> '
                f"counterexample {index}: {esc(r.message)}<ul>{items}</ul></div>"
            )
        for entry in r.extra.get("suppressed", ()):
            details.append(
                f'<div class="counterexample suppressed" data-check="{esc(r.id)}"><strong>{esc(r.id)}</strong> '
                f"suppressed at line {entry.get('line')}: {esc(str(entry.get('reason')))}</div>"
            )
    body = "\n".join(details) if details else "<p>No counterexamples: every check that ran was proved.</p>"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{esc(title)} - topocheck</title>\n<style>{_PAGE_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n<div class=\"path\">{esc(path)}</div>\n"
        f"<h2>Diagram</h2>\n<div id=\"diagram\">\n{svg}\n</div>\n"
        "<h2>Verdicts</h2>\n<table id=\"verdicts\">\n<tr><th>check</th><th>verdict</th><th>severity</th>"
        "<th>line</th><th>message</th></tr>\n" + "\n".join(rows) + "\n</table>\n"
        f"<h2>Counterexamples</h2>\n<div id=\"counterexamples\">\n{body}\n</div>\n</body>\n</html>\n"
    )


def _line_of(result: Result) -> str:
    return f"{result.span.line}:{result.span.column}" if result.span else ""
