"""SVG from a :class:`~.layout.Layout`: pure Python, no system program.

Two ways to show a counterexample: *baked* (the marks written into each
element's attributes: a standalone ``.svg`` any viewer shows alike) or
*classes* (the elements carry ``hl-MARK`` classes and the page's CSS, written
from the same :data:`~.styles.MARKS`, colours them; the HTML page switches
counterexamples by switching classes). Element ids: ``node-NAME``,
``box-zone-NAME`` (and ``box-region-``, ``box-host-``), ``edge-eN`` and
``label-eN``; names are escaped so that every id is distinct.
"""

from __future__ import annotations

import math
from html import escape
from typing import Iterable

from ...display import visible
from .highlight import Marks
from .layout import CYLINDER_RY, STACK_OFFSET, Layout, PlacedEdge, PlacedNode, Rect, Text
from .styles import (BOX_FILL, BOX_STROKE, EDGES, FAILED_BOX_FILL, FONT, MARK, MARKS, TEXT, LineLook, kind_look)

EXTRA_KINDS = ("packet", "write", "connection")


def ident(name: str) -> str:
    """An XML id part for a name: letters, digits and '-' kept, every other character escaped."""
    out = []
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch == "-"):
            out.append(ch)
        else:
            out.append(f"_{ord(ch):x}_")
    return "".join(out)


def node_id(name: str) -> str:
    return "node-" + ident(name)


def box_id(box: str) -> str:
    level, _, name = box.partition(":")
    return f"box-{level}-{ident(name)}"


def _f(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def render_svg(layout: Layout, marks: Marks, *, title: str = "", classes: bool = False,
               shown_extras: Iterable[str] = ()) -> str:
    """The drawing as an SVG document (no XML prolog, so it can be inlined in HTML).

    With ``classes``, marks become ``hl-MARK`` classes (styled by :func:`page_css`)
    and the edges only a counterexample draws are hidden unless in ``shown_extras``.
    """
    shown = set(shown_extras) | (set(marks.edges) if not classes else set())
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(layout.width)}" height="{_f(layout.height)}" '
        f'viewBox="0 0 {_f(layout.width)} {_f(layout.height)}" font-family="{escape(FONT)}" '
        f'class="topocheck-diagram" role="img">',
    ]
    if title:
        out.append(f"<title>{escape(visible(title))}</title>")
    out.append(f'<rect x="0" y="0" width="{_f(layout.width)}" height="{_f(layout.height)}" fill="#ffffff"/>')
    if layout.caption:
        out.append('<g id="caption">')
        out.extend(_text(t) for t in layout.caption)
        out.append("</g>")
    out.append('<g id="boxes">')
    for box in sorted(layout.boxes.values(), key=lambda b: (b.rect.y, b.rect.x, -b.rect.w)):
        mark = marks.boxes.get(box.id)
        cls = f"box {box.level}" + (f" hl-{mark}" if mark and classes else "")
        failed = mark is not None and not classes
        fill = FAILED_BOX_FILL if failed else BOX_FILL.get(box.level, "#ffffff")
        stroke = MARK["failed"].stroke if failed else BOX_STROKE.get(box.level, "#90a4ae")
        width = MARK["failed"].width if failed else (1.6 if box.level == "region" else 1.2)
        dash = ' stroke-dasharray="4 3"' if box.level == "host" and not failed else ""
        r = box.rect
        out.append(f'<g id="{box_id(box.id)}" class="{cls}">'
                   f'<rect class="frame" x="{_f(r.x)}" y="{_f(r.y)}" width="{_f(r.w)}" height="{_f(r.h)}" rx="8" '
                   f'fill="{fill}" stroke="{stroke}" stroke-width="{_f(width)}"{dash}/>'
                   + _text(box.title, fill="#455a64") + "</g>")
    out.append("</g>")
    out.append('<g id="edges">')
    for edge in layout.edges.values():
        out.append(_edge(edge, marks.edges.get(edge.id), classes, edge.id in shown))
    out.append("</g>")
    out.append('<g id="nodes">')
    for node in layout.nodes.values():
        out.append(_node(node, marks.nodes.get(node.node.id), classes))
    out.append("</g>")
    out.append('<g id="edge-labels">')
    for edge in layout.edges.values():
        if edge.label is not None:
            out.append(_edge_label(edge, marks.edges.get(edge.id), classes, edge.id in shown))
    out.append("</g>")
    if layout.legend_frame is not None:
        out.append(_legend(layout, marks, classes))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _text(t: Text, fill: str = TEXT, extra: str = "") -> str:
    weight = ' font-weight="bold"' if t.bold else ""
    return (f'<text x="{_f(t.rect.x)}" y="{_f(t.baseline)}" font-size="{_f(t.size)}"{weight} fill="{fill}" '
            f'textLength="{_f(t.rect.w)}" lengthAdjust="spacingAndGlyphs"{extra}>{escape(visible(t.text))}</text>')


# -- nodes --------------------------------------------------------------------------------


def _node(node: PlacedNode, mark: str | None, classes: bool) -> str:
    look = kind_look(node.node.kind)
    fill, stroke, width, dash = look.fill, "#455a64", 1.3, None
    if node.node.kind == "cluster":
        dash = "5 3"
    if mark and not classes:
        m = MARK[mark]
        fill, stroke, width, dash = m.fill or fill, m.stroke, m.width, m.dash
    cls = f"node kind-{ident(node.node.kind)}" + (f" hl-{mark}" if mark and classes else "")
    paint = f'fill="{fill}" stroke="{stroke}" stroke-width="{_f(width)}"' + (
        f' stroke-dasharray="{dash}"' if dash else "")
    detail = f'fill="none" stroke="{stroke}" stroke-width="{_f(min(width, 1.3))}"'
    parts = [f'<g id="{node_id(node.node.id)}" class="{cls}">']
    parts.extend(_outline(node.shape, node.rect, paint, detail))
    parts.extend(_text(t) for t in node.texts)
    parts.append("</g>")
    return "".join(parts)


def _outline(shape: str, r: Rect, paint: str, detail: str) -> list[str]:
    x, y, w, h, right, bottom = r.x, r.y, r.w, r.h, r.right, r.bottom
    cx, cy = x + w / 2, y + h / 2

    def poly(points: list[tuple[float, float]], cls: str = "shape", attrs: str = paint) -> str:
        return f'<polygon class="{cls}" points="{" ".join(f"{_f(a)},{_f(b)}" for a, b in points)}" {attrs}/>'

    if shape in ("ellipse", "cloud"):
        extra = ' stroke-dasharray="6 3"' if shape == "cloud" and "dasharray" not in paint else ""
        return [f'<ellipse class="shape" cx="{_f(cx)}" cy="{_f(cy)}" rx="{_f(w / 2)}" ry="{_f(h / 2)}" {paint}{extra}/>']
    if shape == "note":
        fold = 12
        return [poly([(x, y), (right - fold, y), (right, y + fold), (right, bottom), (x, bottom)]),
                f'<path class="detail" d="M{_f(right - fold)},{_f(y)} V{_f(y + fold)} H{_f(right)}" {detail}/>']
    if shape == "hexagon":
        s = 14
        return [poly([(x + s, y), (right - s, y), (right, cy), (right - s, bottom), (x + s, bottom), (x, cy)])]
    if shape == "trapezoid":
        s = 14
        return [poly([(x, y), (right, y), (right - s, bottom), (x + s, bottom)])]
    if shape == "octagon":
        s = 10
        return [poly([(x + s, y), (right - s, y), (right, y + s), (right, bottom - s), (right - s, bottom),
                      (x + s, bottom), (x, bottom - s), (x, y + s)])]
    if shape == "cylinder":
        ry, rx = CYLINDER_RY, w / 2
        body = (f'<path class="shape" d="M{_f(x)},{_f(y + ry)} A{_f(rx)},{_f(ry)} 0 0 1 {_f(right)},{_f(y + ry)} '
                f'V{_f(bottom - ry)} A{_f(rx)},{_f(ry)} 0 0 1 {_f(x)},{_f(bottom - ry)} Z" {paint}/>')
        rim = f'<path class="detail" d="M{_f(x)},{_f(y + ry)} A{_f(rx)},{_f(ry)} 0 0 0 {_f(right)},{_f(y + ry)}" {detail}/>'
        return [body, rim]
    if shape == "stack":
        o = STACK_OFFSET
        back = (f'<rect class="shape" x="{_f(x + o)}" y="{_f(y + o)}" width="{_f(w - o)}" height="{_f(h - o)}" '
                f'rx="4" {paint}/>')
        front = f'<rect class="shape" x="{_f(x)}" y="{_f(y)}" width="{_f(w - o)}" height="{_f(h - o)}" rx="4" {paint}/>'
        return [back, front]
    if shape == "component":
        tab_w, tab_h = 16, 8
        body = f'<rect class="shape" x="{_f(x + 8)}" y="{_f(y)}" width="{_f(w - 8)}" height="{_f(h)}" rx="3" {paint}/>'
        tabs = [f'<rect class="shape" x="{_f(x)}" y="{_f(y + top)}" width="{tab_w}" height="{tab_h}" {paint}/>'
                for top in (8, min(24, h - tab_h - 4))]
        return [body, *tabs]
    return [f'<rect class="shape" x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" rx="5" {paint}/>']


# -- edges --------------------------------------------------------------------------------


def _edge_look(edge: PlacedEdge, mark: str | None, classes: bool) -> tuple[str, float, str | None]:
    look = EDGES.get(edge.kind, LineLook("#455a64", None, True, edge.kind))
    colour, width, dash = look.colour, 1.4, look.dash
    if mark and not classes:
        m = MARK[mark]
        colour, width, dash = m.stroke, m.width, m.dash if m.dash else (look.dash if edge.kind != "member" else None)
    return colour, width, dash


def _edge(edge: PlacedEdge, mark: str | None, classes: bool, shown: bool) -> str:
    look = EDGES.get(edge.kind, LineLook("#455a64", None, True, edge.kind))
    colour, width, dash = _edge_look(edge, mark, classes)
    cls = f"edge {edge.kind}"
    if mark and classes:
        cls += f" hl-{mark}"
    if edge.kind in EXTRA_KINDS:
        cls += " extra" + (" on" if shown else "")
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    parts = [f'<g id="edge-{edge.id}" class="{cls}">',
             f'<path class="line" d="{_path(edge.points)}" fill="none" stroke="{colour}" '
             f'stroke-width="{_f(width)}"{dash_attr} stroke-linejoin="round"/>']
    if look.arrow and len(edge.points) >= 2:
        parts.append(_arrow(edge.points[-2], edge.points[-1], colour))
    parts.append("</g>")
    return "".join(parts)


def _path(points: list[tuple[float, float]], radius: float = 6.0) -> str:
    """A polyline with rounded corners."""
    if len(points) < 3:
        return "M" + " L".join(f"{_f(x)},{_f(y)}" for x, y in points)
    out = [f"M{_f(points[0][0])},{_f(points[0][1])}"]
    for prev, here, nxt in zip(points, points[1:], points[2:]):
        r = min(radius, _dist(prev, here) / 2, _dist(here, nxt) / 2)
        a = _toward(here, prev, r)
        b = _toward(here, nxt, r)
        out.append(f"L{_f(a[0])},{_f(a[1])} Q{_f(here[0])},{_f(here[1])} {_f(b[0])},{_f(b[1])}")
    out.append(f"L{_f(points[-1][0])},{_f(points[-1][1])}")
    return " ".join(out)


def _dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(b[0] - a[0], b[1] - a[1])


def _toward(a: tuple[float, float], b: tuple[float, float], r: float) -> tuple[float, float]:
    d = _dist(a, b) or 1.0
    return (a[0] + (b[0] - a[0]) * r / d, a[1] + (b[1] - a[1]) * r / d)


def _arrow(before: tuple[float, float], tip: tuple[float, float], colour: str) -> str:
    d = _dist(before, tip) or 1.0
    ux, uy = (tip[0] - before[0]) / d, (tip[1] - before[1]) / d
    length, half = 9.0, 4.0
    bx, by = tip[0] - ux * length, tip[1] - uy * length
    points = [tip, (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]
    return (f'<polygon class="arrow" points="{" ".join(f"{_f(x)},{_f(y)}" for x, y in points)}" '
            f'fill="{colour}" stroke="{colour}" stroke-width="1"/>')


def _edge_label(edge: PlacedEdge, mark: str | None, classes: bool, shown: bool) -> str:
    assert edge.label is not None
    r = edge.label.rect
    colour = MARK[mark].stroke if (mark and not classes) else TEXT
    cls = f"edge-label {edge.kind}" + (f" hl-{mark}" if mark and classes else "")
    if edge.kind in EXTRA_KINDS:
        cls += " extra" + (" on" if shown else "")
    return (f'<g id="label-{edge.id}" class="{cls}"><rect x="{_f(r.x - 2)}" y="{_f(r.y)}" width="{_f(r.w + 4)}" '
            f'height="{_f(r.h)}" rx="2" fill="#ffffff" fill-opacity="0.9"/>' + _text(edge.label, fill=colour) + "</g>")


# -- legend ---------------------------------------------------------------------------------


def _legend(layout: Layout, marks: Marks, classes: bool) -> str:
    frame = layout.legend_frame
    assert frame is not None
    parts = ['<g id="legend">',
             f'<rect x="{_f(frame.x)}" y="{_f(frame.y)}" width="{_f(frame.w)}" height="{_f(frame.h)}" rx="6" '
             'fill="#ffffff" stroke="#cfd8dc"/>']
    for item in layout.legend:
        key = item.entry.key
        s = item.sample
        cls = "legend-entry"
        if key in MARK:
            cls += " mark" + (" on" if key in marks.used else "")
        parts.append(f'<g class="{cls}" data-key="{escape(key)}">')
        if key in MARK:
            m = MARK[key]
            dash = f' stroke-dasharray="{m.dash}"' if m.dash else ""
            if m.applies == "edge":
                parts.append(f'<line x1="{_f(s.x)}" y1="{_f(s.y + s.h / 2)}" x2="{_f(s.right)}" y2="{_f(s.y + s.h / 2)}" '
                             f'stroke="{m.stroke}" stroke-width="{_f(m.width)}"{dash}/>')
            else:
                parts.append(f'<rect x="{_f(s.x + 2)}" y="{_f(s.y)}" width="{_f(s.w - 4)}" height="{_f(s.h)}" rx="3" '
                             f'fill="{m.fill or "#ffffff"}" stroke="{m.stroke}" stroke-width="{_f(m.width)}"{dash}/>')
        else:
            look = EDGES[key]
            dash = f' stroke-dasharray="{look.dash}"' if look.dash else ""
            parts.append(f'<line x1="{_f(s.x)}" y1="{_f(s.y + s.h / 2)}" x2="{_f(s.right)}" y2="{_f(s.y + s.h / 2)}" '
                         f'stroke="{look.colour}" stroke-width="1.6"{dash}/>')
        parts.append(_text(item.text))
        parts.append("</g>")
    parts.append("</g>")
    return "".join(parts)


def page_css() -> str:
    """The CSS that colours ``hl-MARK`` classes, from the same table the legend reads."""
    rules = ["#diagram .extra { display: none; }", "#diagram .extra.on { display: inline; }"]
    for m in MARKS:
        dash = m.dash or "none"
        if m.applies == "node":
            fill = f" fill: {m.fill};" if m.fill else ""
            rules.append(f".hl-{m.name} .shape, .hl-{m.name} > polygon, .hl-{m.name} > ellipse, "
                         f".hl-{m.name} > path {{{fill} stroke: {m.stroke}; stroke-width: {m.width}px; "
                         f"stroke-dasharray: {dash}; }}")
            rules.append(f".hl-{m.name} .detail {{ stroke: {m.stroke}; }}")
            rules.append(f".box.hl-{m.name} .frame {{ fill: {FAILED_BOX_FILL}; stroke: {m.stroke}; "
                         f"stroke-width: {m.width}px; stroke-dasharray: none; }}")
        else:
            line_dash = f" stroke-dasharray: {m.dash};" if m.dash else ""
            rules.append(f".edge.hl-{m.name} .line, .edge.hl-{m.name} > path {{ stroke: {m.stroke}; "
                         f"stroke-width: {m.width}px;{line_dash} }}")
            rules.append(f".edge.hl-{m.name} .arrow, .edge.hl-{m.name} > polygon {{ fill: {m.stroke}; "
                         f"stroke: {m.stroke}; }}")
            rules.append(f".edge-label.hl-{m.name} text, .edge.hl-{m.name} text {{ fill: {m.stroke}; }}")
    return "\n".join(rules) + "\n"
