"""Mermaid: the same drawing as a flowchart (node ids ``n0``, ``n1``, ...), top to bottom."""

from __future__ import annotations

from .graph import Graph
from .highlight import Marks
from .styles import EDGES, FAILED_BOX_FILL, MARK, kind_look


def _text(text: str) -> str:
    escaped = text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    return escaped.replace("\n", "<br/>")


def to_mermaid_source(graph: Graph, marks: Marks) -> str:
    ids = {node.id: f"n{i}" for i, node in enumerate(graph.nodes)}
    nodes = {n.id: n for n in graph.nodes}
    out = ["flowchart TB"]
    by_box: dict[str | None, list[str]] = {}
    for node in graph.nodes:
        by_box.setdefault(node.box, []).append(node.id)
    children: dict[str | None, list[str]] = {}
    for box in graph.boxes:
        children.setdefault(box.parent, []).append(box.id)
    boxes = {b.id: b for b in graph.boxes}
    box_ids: dict[str, str] = {}

    def has_content(box: str) -> bool:
        return bool(by_box.get(box)) or any(has_content(c) for c in children.get(box, []))

    def node_line(name: str, indent: str) -> str:
        opening, closing = kind_look(nodes[name].kind).mermaid
        return f'{indent}{ids[name]}{opening}"{_text(chr(10).join(nodes[name].lines))}"{closing}'

    def emit(box: str, indent: str) -> None:
        ident = f"b{len(box_ids)}"
        box_ids[box] = ident
        out.append(f'{indent}subgraph {ident}["{_text(boxes[box].title)}"]')
        for child in children.get(box, []):
            if has_content(child):
                emit(child, indent + "  ")
        out.extend(node_line(n, indent + "  ") for n in by_box.get(box, []))
        out.append(f"{indent}end")

    for box in children.get(None, []):
        if has_content(box):
            emit(box, "  ")
    out.extend(node_line(n, "  ") for n in by_box.get(None, []))

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
    if marks.boxes:
        out.append(f"  classDef failedBox fill:{FAILED_BOX_FILL},stroke:{MARK['failed'].stroke},stroke-width:3px")
    for name in marks.used:
        members = [ids[n] for n in nodes if marks.nodes.get(n) == name]
        if members and MARK[name].applies == "node":
            out.append(f"  class {','.join(members)} {name}")
    failed_boxes = [box_ids[b] for b in marks.boxes if b in box_ids]
    if failed_boxes:
        out.append(f"  class {','.join(failed_boxes)} failedBox")
    if "replication" in styled:
        out.append(f"  linkStyle {','.join(map(str, styled.pop('replication')))} stroke:{EDGES['replication'].colour}")
    for name in marks.used:
        if name in styled:
            m = MARK[name]
            out.append(f"  linkStyle {','.join(map(str, styled[name]))} stroke:{m.stroke},stroke-width:{m.width:g}px")
    return "\n".join(out) + "\n"
