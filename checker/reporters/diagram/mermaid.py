"""Mermaid: the same drawing as a flowchart (node ids ``n0``, ``n1``, ...), top to bottom."""

from __future__ import annotations

from ...display import visible_lines
from .graph import Box, Graph, Node, nested_lines
from .highlight import Marks
from .styles import EDGES, FAILED_BOX_FILL, MARK, kind_look


def _text(text: str) -> str:
    escaped = visible_lines(text).replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    return escaped.replace("\n", "<br/>")


def to_mermaid_source(graph: Graph, marks: Marks) -> str:
    ids = {node.id: f"n{i}" for i, node in enumerate(graph.nodes)}
    nodes = {n.id: n for n in graph.nodes}
    out = ["flowchart TB"]
    box_ids: dict[str, str] = {}

    def node_line(node: Node, indent: str) -> str:
        opening, closing = kind_look(node.kind).mermaid
        return f'{indent}{ids[node.id]}{opening}"{_text(chr(10).join(node.lines))}"{closing}'

    def open_box(box: Box, indent: str) -> list[str]:
        box_ids[box.id] = f"b{len(box_ids)}"
        return [f'{indent}subgraph {box_ids[box.id]}["{_text(box.title)}"]']

    out.extend(nested_lines(graph, open_box, lambda indent: f"{indent}end", node_line))

    styled: dict[str, list[int]] = {}
    for index, edge in enumerate(graph.edges):
        look = EDGES.get(edge.kind)
        arrow = "-->"
        if look is not None and not look.arrow:
            arrow = "---"
        elif look is not None and look.dash:
            arrow = "-.->"
        if edge.kind in ("packet", "write", "connection"):
            arrow = "==>"
        label = f'|"{_text(edge.label)}"|' if edge.label else ""
        out.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
        mark = marks.edges.get(edge.id)
        if mark:
            styled.setdefault(mark, []).append(index)
        elif edge.kind == "replication":
            styled.setdefault("replication", []).append(index)

    for name in marks.used:
        m = MARK[name]
        if m.applies == "node":
            dash = f",stroke-dasharray:{m.dash.split()[0]}" if m.dash else ""
            out.append(f"  classDef {name} fill:{m.fill or '#ffffff'},stroke:{m.stroke},stroke-width:{m.width:g}px"
                       f",color:#000{dash}")
    if any(mark != "improved" for mark in marks.boxes.values()):
        out.append(f"  classDef failedBox fill:{FAILED_BOX_FILL},stroke:{MARK['failed'].stroke},stroke-width:3px")
    if "improved" in marks.boxes.values():
        m = MARK["improved"]
        out.append(f"  classDef improvedBox fill:{m.fill},stroke:{m.stroke},stroke-width:{m.width:g}px")
    for name in marks.used:
        members = [ids[n] for n in nodes if marks.nodes.get(n) == name]
        if members and MARK[name].applies == "node":
            out.append(f"  class {','.join(members)} {name}")
    for mark, cls in (("failed", "failedBox"), ("improved", "improvedBox")):
        boxes = [box_ids[b] for b, m in marks.boxes.items() if b in box_ids and (m == "improved") == (mark == "improved")]
        if boxes:
            out.append(f"  class {','.join(boxes)} {cls}")
    if "replication" in styled:
        out.append(f"  linkStyle {','.join(map(str, styled.pop('replication')))} stroke:{EDGES['replication'].colour}")
    for name in marks.used:
        if name in styled:
            m = MARK[name]
            out.append(f"  linkStyle {','.join(map(str, styled[name]))} stroke:{m.stroke},stroke-width:{m.width:g}px")
    return "\n".join(out) + "\n"
