"""Graphviz DOT: the same drawing, laid out by ``dot`` (``--engine dot`` or ``--format dot``).

Node ids are component names; the ``id`` attributes (``node-NAME``, ``box-zone-Z``,
``edge-eN``) are those of the built-in SVG, so the HTML page can switch the
highlight of a Graphviz drawing the same way.
"""

from __future__ import annotations

import shutil
import subprocess

from ...display import visible_lines
from .graph import Box, Graph, Node, nested_lines
from .highlight import Marks
from .styles import BOX_STROKE, EDGES, FAILED_BOX_FILL, MARK, kind_look
from .svg import box_id, node_id


class GraphvizMissing(Exception):
    """Graphviz's ``dot`` is not installed."""


def _q(text: str) -> str:
    text = visible_lines(text)  # a path or title from the input carries no control character into a label
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot_source(graph: Graph, marks: Marks, caption: str | None = None, bake: bool = True,
                  extras_hidden: bool = False) -> str:
    """The graph as a digraph, top to bottom; ``bake`` writes the marks into the attributes
    (otherwise they are left to the page's CSS, and with ``extras_hidden`` the hops only a
    counterexample draws are classed ``extra``, hidden until it is chosen)."""
    title = graph.title + (f"\n{caption}" if caption else "")
    out = [
        "digraph topology {",
        f"  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, labelloc=t, label={_q(title)}, "
        "nodesep=0.35, ranksep=0.55, compound=true];",
        "  node [fontname=\"Helvetica\", fontsize=11, style=filled, penwidth=1.2];",
        "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#546e7a\", fontcolor=\"#37474f\"];",
    ]
    def node_line(node: Node, indent: str) -> str:
        look = kind_look(node.kind)
        attrs = [f"label={_q(chr(10).join(node.lines))}", f"shape={look.dot_shape}", f"id={_q(node_id(node.id))}"]
        if look.dot_shape == "hexagon":
            attrs.append("margin=0.02")
        mark = marks.nodes.get(node.id) if bake else None
        classes = [f"kind-{node.kind}"] + ([f"hl-{mark}"] if mark else [])  # dot adds "node" itself
        if mark:
            m = MARK[mark]
            attrs += [f'fillcolor="{m.fill or look.fill}"', f'color="{m.stroke}"', f"penwidth={m.width:g}"]
            if m.dash:
                attrs.append('style="filled,dashed"')
        else:
            attrs.append(f'fillcolor="{look.fill}"')
            if node.kind == "cluster":
                attrs.append('style="filled,dashed"')
        attrs.append(f"class={_q(' '.join(classes))}")
        return f"{indent}{_q(node.id)} [{', '.join(attrs)}];"

    def open_box(box: Box, indent: str) -> list[str]:
        mark = marks.boxes.get(box.id) if bake else None
        if mark:
            style = (f'style="rounded,filled"; color="{MARK[mark].stroke}"; fillcolor="{FAILED_BOX_FILL}"; '
                     f'penwidth=3; class="box hl-{mark}";')  # dot adds "cluster"
        else:
            style = (f'style="rounded{",dashed" if box.level == "host" else ""}"; '
                     f'color="{BOX_STROKE.get(box.level, "#90a4ae")}"; class="box";')
        return [f"{indent}subgraph {_q('cluster_' + box.id)} {{",
                f"{indent}  label={_q(box.title)}; id={_q(box_id(box.id))}; {style}"]

    out.extend(nested_lines(graph, open_box, lambda indent: f"{indent}}}", node_line))

    for edge in graph.edges:
        look = EDGES.get(edge.kind)
        attrs = [f"label={_q(edge.label)}", f"id={_q('edge-' + edge.id)}"]
        mark = marks.edges.get(edge.id) if bake else None
        colour = look.colour if look else "#546e7a"
        dash = look.dash if look else None
        if mark:
            m = MARK[mark]
            colour, dash = m.stroke, m.dash or dash
            attrs += [f'color="{colour}"', f'fontcolor="{colour}"', f"penwidth={m.width:g}"]
        else:
            attrs.append(f'color="{colour}"')
        if dash:
            attrs.append("style=dotted" if edge.kind == "member" else "style=dashed")
        if look is not None and not look.arrow:
            attrs.append("arrowhead=none")
        extra = " extra" if extras_hidden and edge.kind in ("packet", "write", "connection") else ""
        attrs.append(f"class={_q(edge.kind + extra + (' hl-' + mark if mark else ''))}")  # dot adds "edge"
        out.append(f"  {_q(edge.source)} -> {_q(edge.target)} [{', '.join(attrs)}];")

    if bake and marks:
        out.extend(_legend(marks))
    out.append("}")
    return "\n".join(out) + "\n"


def _legend(marks: Marks) -> list[str]:
    rows = []
    for name in marks.used:
        m = MARK[name]
        if m.applies == "edge":
            sample = f'<FONT COLOR="{m.stroke}"><B>&#8594;</B></FONT>'
            rows.append(f'<TR><TD>{sample}</TD><TD ALIGN="LEFT">{m.legend}</TD></TR>')
        else:
            rows.append(f'<TR><TD BGCOLOR="{m.fill or "#ffffff"}" BORDER="1" COLOR="{m.stroke}">   </TD>'
                        f'<TD ALIGN="LEFT">{m.legend}</TD></TR>')
    return [
        "  subgraph cluster_legend {",
        '    label="legend"; id="legend"; style="rounded"; color="#90a4ae"; fontsize=10;',
        '    "(legend)" [shape=plaintext, style="", id="legend-table", label=<<TABLE BORDER="0" CELLBORDER="0" '
        'CELLSPACING="2">' + "".join(rows) + "</TABLE>>];",
        "  }",
    ]


def dot_to_svg(dot_source: str, timeout: float = 60.0) -> str:
    """Lay out DOT with Graphviz's ``dot``; raises :class:`GraphvizMissing` without it."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing(
            "'--engine dot' needs Graphviz's 'dot' program, which was not found on PATH (install it, e.g. "
            "'apt-get install graphviz' or 'brew install graphviz', or leave out '--engine dot' to use the "
            "built-in renderer)"
        )
    done = subprocess.run([exe, "-Tsvg"], input=dot_source.encode("utf-8"), capture_output=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    svg = done.stdout.decode("utf-8")
    start = svg.find("<svg")  # drop the XML prolog and doctype so the SVG can be inlined in HTML
    return svg[start:] if start >= 0 else svg
