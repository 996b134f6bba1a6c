"""Diagrams of a topology: SVG and a self-contained HTML page drawn in pure Python,
Graphviz DOT, and Mermaid.

A diagram is a function of the model and the chosen counterexample. The
counterexamples of a file are numbered 1, 2, ... over its refuted results in
report order (:func:`choices`); a diagram draws one of them (the first by
default, none with ``counterexample=None``): its failed units, the services
they stop, the causal path between, the packet of an exposure or the path of a
bad write, in the styles of :mod:`.styles`, which the legend names. The HTML
page holds every counterexample and a chooser that switches between them.

The pieces: :mod:`.graph` (what is drawn), :mod:`.highlight` (what a
counterexample marks), :mod:`.layout` (where everything goes, and the check
that no two labels overlap), :mod:`.svg`, :mod:`.html`, :mod:`.dot` and
:mod:`.mermaid` (writing it out). Only :func:`to_svg_with_dot` runs a program
(Graphviz's ``dot``).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Callable, Sequence

from ...model import Topology
from ...results import Result
from .dot import GraphvizMissing, dot_to_svg, to_dot_source
from .graph import Graph, graph_of
from .highlight import Choice, Marks, Scenarios, choices, extra_hops, marks_of
from .layout import Layout, LegendEntry, labels_on_shapes, layout, overlapping_labels
from .mermaid import to_mermaid_source
from .styles import EDGES, MARK
from .svg import EXTRA_KINDS, render_svg

__all__ = [
    "Choice", "CounterexampleChoiceError", "GraphvizMissing", "choices", "drawing", "labels_on_shapes",
    "layout_of", "overlapping_labels", "to_dot", "to_html", "to_mermaid", "to_mermaid_changes", "to_svg",
    "to_svg_with_dot",
]


class CounterexampleChoiceError(ValueError):
    """A counterexample number that the file does not have."""


@dataclass(frozen=True)
class Drawing:
    """What one diagram shows: the graph, the chosen counterexample and its marks."""

    graph: Graph
    choice: Choice | None
    marks: Marks
    total: int  # how many counterexamples the file has


def pick(results: Sequence[Result], counterexample: int | None) -> tuple[Choice | None, int]:
    """The chosen counterexample (None for none) and how many there are.

    ``counterexample`` is a 1-based number; asking for one when there are none, or for
    one past the last, raises :class:`CounterexampleChoiceError`."""
    found = choices(results)
    if counterexample is None:
        return None, len(found)
    if not found:
        if counterexample == 1:  # the default: nothing to choose from is fine
            return None, 0
        raise CounterexampleChoiceError(f"there is no counterexample {counterexample}: no check was refuted")
    if not 1 <= counterexample <= len(found):
        raise CounterexampleChoiceError(
            f"there is no counterexample {counterexample}: the file has {len(found)} (1-{len(found)}); "
            "'--list-counterexamples' lists them")
    return found[counterexample - 1], len(found)


def drawing(topology: Topology, results: Sequence[Result] = (), counterexample: int | None = 1,
            highlight: bool = True) -> Drawing:
    """The graph with the chosen counterexample's hops, and its marks."""
    choice, total = pick(results, counterexample if highlight else None)
    cx = choice.counterexample if choice else None
    scenarios = Scenarios(topology)
    graph = graph_of(topology, extra_hops(topology, cx, scenarios) if cx else ())
    return Drawing(graph, choice, marks_of(topology, graph, cx, scenarios), total)


def _caption(d: Drawing, highlight: bool) -> list[str]:
    lines = [d.graph.title]
    if not highlight:
        return lines
    if d.choice is None:
        text = ("every check that ran was proved: no counterexample to draw" if d.total == 0
                else f"no counterexample chosen ({d.total} in all)")
    else:
        text = f"counterexample {d.choice.number} of {d.total}: {d.choice.summary}"
    lines.extend(textwrap.wrap(text, 110, subsequent_indent="    ", break_long_words=True, break_on_hyphens=False))
    return lines


def legend_entries(graph: Graph, used_marks: Sequence[str]) -> list[LegendEntry]:
    """The edge kinds the drawing has, then the marks in use, as the legend lists them."""
    kinds = {e.kind for e in graph.edges}
    out = [LegendEntry(kind, "line", look.legend) for kind, look in EDGES.items()
           if kind in kinds and kind not in EXTRA_KINDS]
    out.extend(LegendEntry(name, "swatch" if MARK[name].applies == "node" else "line", MARK[name].legend)
               for name in used_marks)
    return out


def layout_of(topology: Topology, results: Sequence[Result] = (), counterexample: int | None = 1,
              highlight: bool = True) -> tuple[Layout, Drawing]:
    """The laid-out standalone diagram (caption and legend included) and what it draws."""
    d = drawing(topology, results, counterexample, highlight)
    return layout(d.graph, _caption(d, highlight), legend_entries(d.graph, d.marks.used)), d


def to_svg(topology: Topology, results: Sequence[Result] = (), highlight: bool = True,
           counterexample: int | None = 1) -> str:
    """The built-in SVG: one counterexample's marks written into the drawing."""
    placed, d = layout_of(topology, results, counterexample, highlight)
    return render_svg(placed, d.marks, title=d.graph.title)


def to_dot(topology: Topology, results: Sequence[Result] = (), highlight: bool = True,
           counterexample: int | None = 1) -> str:
    """The topology as a Graphviz digraph, one counterexample highlighted."""
    d = drawing(topology, results, counterexample, highlight)
    caption = _caption(d, highlight)[1:] if d.choice else []
    return to_dot_source(d.graph, d.marks, "\n".join(caption) or None)


def to_svg_with_dot(topology: Topology, results: Sequence[Result] = (), highlight: bool = True,
                    counterexample: int | None = 1) -> str:
    """SVG laid out by Graphviz's ``dot`` (raises :class:`GraphvizMissing` without it)."""
    return dot_to_svg(to_dot(topology, results, highlight, counterexample))


def to_mermaid(topology: Topology, results: Sequence[Result] = (), highlight: bool = True,
               counterexample: int | None = 1) -> str:
    """The topology as a Mermaid flowchart, one counterexample highlighted."""
    d = drawing(topology, results, counterexample, highlight)
    return to_mermaid_source(d.graph, d.marks)


#: The fewest characters a component takes in a Mermaid flowchart: its node's line,
#: ``  n0["a"]`` at the least (an indent, an id, a shape's two ends, a quoted name), and
#: its line end (every component is a node: :func:`~.graph.graph_of`).
MERMAID_NODE_CHARACTERS = 10


def mermaid_too_large(topology: Topology, limit: int) -> bool:
    """Whether every Mermaid flowchart of ``topology`` is longer than ``limit``
    characters, known without drawing it (at 10k components, drawing took 4.5 s)."""
    return len(topology.components) * MERMAID_NODE_CHARACTERS > limit


def mermaid_within(topology: Topology, draw: Callable[[], str], limit: int) -> tuple[str | None, str | None]:
    """``(draw(), None)`` when the flowchart ``draw`` makes of ``topology`` is at most
    ``limit`` characters; else ``(None, how large)``: ``"N components"`` when that is
    known without drawing it (:func:`mermaid_too_large`), ``"N characters"`` when drawn."""
    if mermaid_too_large(topology, limit):
        return None, f"{len(topology.components):,} components"
    text = draw()
    return (text, None) if len(text) <= limit else (None, f"{len(text):,} characters")


def to_mermaid_changes(topology: Topology, worse: Sequence[Result], better: Sequence[Result]) -> str:
    """A pull-request diagram (``topocheck diff``): every counterexample of what got
    worse marked as a diagram marks one, and the components, zones and regions that the
    evidence of what got better names in the ``improved`` style (unless also marked)."""
    scenarios = Scenarios(topology)
    hops = [hop for r in worse for cx in r.counterexamples for hop in extra_hops(topology, cx, scenarios)]
    graph = graph_of(topology, hops)
    marks = Marks()
    for r in worse:
        for cx in r.counterexamples:
            one = marks_of(topology, graph, cx, scenarios)
            for name, mark in one.nodes.items():
                marks.mark_node(name, mark)
            for edge, mark in one.edges.items():
                marks.mark_edge(edge, mark)
            marks.boxes.update(one.boxes)
    for r in better:
        for cx in r.counterexamples:
            one = marks_of(topology, graph, cx, scenarios)
            for name, mark in one.nodes.items():
                if mark in ("failed", "exposed", "landing", "subject") and name not in marks.nodes:
                    marks.mark_node(name, "improved")
            for box in one.boxes:
                marks.boxes.setdefault(box, "improved")
    return to_mermaid_source(graph, marks)


def to_html(topology: Topology, results: Sequence[Result], path: str, counterexample: int | None = 1,
            engine: str = "builtin") -> str:
    """One self-contained page: the diagram with a chooser over every counterexample,
    the verdicts and the counterexamples in words. ``counterexample`` is the one
    shown first; ``engine`` is ``builtin`` or ``dot``."""
    from .html import page

    chosen, _ = pick(results, counterexample)
    found = choices(results)
    scenarios = Scenarios(topology)
    hops = [hop for choice in found for hop in extra_hops(topology, choice.counterexample, scenarios)]
    graph = graph_of(topology, hops)
    kinds = {e.id: e.kind for e in graph.edges}
    picks = []
    for choice in found:
        marks = marks_of(topology, graph, choice.counterexample, scenarios)
        picks.append((choice, marks, [e for e in marks.edges if kinds[e] in EXTRA_KINDS]))
    if engine == "dot":
        svg = dot_to_svg(to_dot_source(graph, Marks(), None, bake=False, extras_hidden=True))
    else:
        first = next((p for p in picks if chosen is not None and p[0].number == chosen.number), None)
        svg = render_svg(layout(graph, (), ()), first[1] if first else Marks(), title=graph.title, classes=True,
                         shown_extras=first[2] if first else ())
    edge_kinds = [kind for kind in EDGES if kind in set(kinds.values()) and kind not in EXTRA_KINDS]
    return page(graph.title, path, svg, results, picks, chosen.number if chosen else 0, edge_kinds)
