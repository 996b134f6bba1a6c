"""The layered layout of a topology drawing, in one place.

The architecture's natural picture: tiers (rows) from the clients down to the
data (internet and client groups; DNS names and jobs; load balancers and
gateways; web servers; services; clusters and databases), each component at
least as low as its kind's tier and below everything that needs it (a longest
path over answers, forwards, requirements and memberships; cycles broken in
declaration order). Regions, zones and shared hosts are nested boxes; a box is
a column spanning the rows of its contents, its title at its top left. Rows are
shared by all columns, so every web server sits on one line.

Edges run through the gaps between rows. Each gap is cut into horizontal bands,
top to bottom::

    labels below row r | tracks | box bottoms | box titles | labels above row r+1

so an edge label can only meet another edge label (node texts sit in the rows,
titles in their own band), and the labels of one band are packed into lines
that never overlap: **no two labels overlap** holds by construction, and
:func:`overlapping_labels` checks it. An edge drops from a port on its upper
end to a track, runs along it, and drops into a port on its lower end; an
edge over several rows passes each row through a slot of its own (a *dummy*);
an edge between two nodes of one row runs below the row. Ports avoid the
titles of the boxes an edge enters, so no line crosses a title.

Text widths are computed for a monospaced font (DejaVu Sans Mono's advance,
0.602 em; wide East Asian characters count twice), and the SVG writer pins
every text to that width with ``textLength``, so the geometry holds in any
renderer.

Complexity: O((N + E) log(N + E)) for N nodes and E edges, plus O(L^2) per band
for L labels in it.
"""

from __future__ import annotations

import bisect
import heapq
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .graph import Graph, Node
from .styles import kind_look

# -- metrics -------------------------------------------------------------------------

ADVANCE = 0.6021  # DejaVu Sans Mono's advance width, in em
ASCENT = 0.93  # baseline below a text box's top, in em
LINE_BOX = 1.2  # a text box's height, in em

NAME_SIZE = 12.5
DETAIL_SIZE = 10.5
EDGE_SIZE = 10.0
TITLE_SIZE = 11.0
CAPTION_SIZE = 12.0
LEGEND_SIZE = 10.5

MARGIN = 16.0
HGAP = 26.0  # between items of a row
BOX_PAD = 12.0  # between a box's side and its contents
BOX_GAP = 20.0  # between sibling boxes, and between boxes and a loose column
TITLE_INSET = 8.0  # a title's left, from its box's left
STRIP = TITLE_SIZE * LINE_BOX + 8.0  # a title band's height
BOTTOM = 10.0  # a box's bottom padding, per nesting level
LABEL_PITCH = EDGE_SIZE * LINE_BOX + 4.0
TRACK_PITCH = 11.0
MIN_GAP = 44.0
DUMMY_WIDTH = 10.0
MIN_VISIBLE = 16.0  # of a first item's port range, right of the titles above it

# the tier of each kind: its lowest row
TIERS = {"internet": 0, "clients": 0, "dns": 1, "job": 1, "lb": 2, "gateway": 2,
         "web": 3, "service": 3, "external": 3, "cluster": 3, "db": 4}
# edges that make their target lower than their source (replication stays in a row;
# the hops a counterexample adds do not move anything)
DOWNWARD = {"entry", "answer", "served-by", "forward", "requirement", "optional", "member", "egress"}
# which end of an edge carries its label when both ends are alike
LABEL_AT_SOURCE = {"entry", "answer", "served-by", "forward", "egress", "packet", "connection", "replication"}


def text_width(text: str, size: float) -> float:
    cells = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return cells * ADVANCE * size


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlaps(self, other: "Rect") -> bool:
        """Whether the interiors meet (touching edges do not count)."""
        return (self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom)


@dataclass(frozen=True)
class Text:
    """One line of text: ``rect`` is its box (left, top, width, height)."""

    text: str
    rect: Rect
    size: float
    role: str  # node | edge | title | caption | legend
    owner: str  # the node, edge, box or legend entry it belongs to
    bold: bool = False

    @property
    def baseline(self) -> float:
        return self.rect.y + ASCENT * self.size


def make_text(text: str, x: float, y: float, size: float, role: str, owner: str, bold: bool = False) -> Text:
    return Text(text, Rect(x, y, text_width(text, size), size * LINE_BOX), size, role, owner, bold)


@dataclass
class PlacedNode:
    node: Node
    shape: str
    rect: Rect
    texts: list[Text]
    lines: list[tuple[str, float, bool]] = field(default_factory=list)  # text, size, bold
    inset: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # text's room: left, top, right, bottom


@dataclass
class PlacedBox:
    id: str
    level: str
    rect: Rect
    title: Text


@dataclass
class PlacedEdge:
    id: str
    kind: str
    points: list[tuple[float, float]]  # source end first; the arrow goes on the last point
    label: Text | None


@dataclass(frozen=True)
class LegendEntry:
    key: str  # an edge kind or a mark name
    sample: str  # line | swatch
    text: str


@dataclass
class PlacedLegend:
    entry: LegendEntry
    sample: Rect
    text: Text


@dataclass
class Layout:
    width: float
    height: float
    nodes: dict[str, PlacedNode]
    boxes: dict[str, PlacedBox]
    edges: dict[str, PlacedEdge]
    caption: list[Text]
    legend: list[PlacedLegend]
    legend_frame: Rect | None
    rows: list[float] = field(default_factory=list)  # each row's top

    def texts(self) -> list[Text]:
        """Every label of the drawing."""
        out = list(self.caption)
        for box in self.boxes.values():
            out.append(box.title)
        for node in self.nodes.values():
            out.extend(node.texts)
        out.extend(e.label for e in self.edges.values() if e.label is not None)
        out.extend(item.text for item in self.legend)
        return out


def overlapping_labels(layout: Layout) -> list[tuple[Text, Text]]:
    """Every pair of labels whose boxes overlap (the layout promises none)."""
    cell_w, cell_h = 120.0, 40.0
    texts = layout.texts()
    cells: dict[tuple[int, int], list[int]] = {}
    for index, t in enumerate(texts):
        for cx in range(int(t.rect.x // cell_w), int(t.rect.right // cell_w) + 1):
            for cy in range(int(t.rect.y // cell_h), int(t.rect.bottom // cell_h) + 1):
                cells.setdefault((cx, cy), []).append(index)
    pairs: set[tuple[int, int]] = set()
    for members in cells.values():
        for n, i in enumerate(members):
            for j in members[n + 1:]:
                if (i, j) not in pairs and texts[i].rect.overlaps(texts[j].rect):
                    pairs.add((i, j))
    return [(texts[i], texts[j]) for i, j in sorted(pairs)]


def labels_on_shapes(layout: Layout) -> list[tuple[Text, str]]:
    """Edge labels that lie on a node's shape or a box's title (the layout promises none)."""
    labels = [e.label for e in layout.edges.values() if e.label is not None]
    shapes = [(n.rect, n.node.id) for n in layout.nodes.values()] + [(b.title.rect, b.id) for b in layout.boxes.values()]
    shapes.sort(key=lambda s: s[0].x)
    starts = [r.x for r, _ in shapes]
    widest = max((r.w for r, _ in shapes), default=0.0)
    out = []
    for label in labels:
        first = bisect.bisect_left(starts, label.rect.x - widest)
        for rect, what in shapes[first:bisect.bisect_left(starts, label.rect.right)]:
            if label.rect.overlaps(rect):
                out.append((label, what))
    return out


# -- the layout ---------------------------------------------------------------------------


@dataclass
class _Item:
    """Something that takes room in a row: a node, or a slot an edge passes a row through."""

    id: str
    row: int
    box: str | None
    w: float
    h: float
    order: int
    node: PlacedNode | None = None
    edge: str | None = None  # a dummy's edge
    x: float = 0.0  # left, relative while arranging, absolute after

    @property
    def centre(self) -> float:
        return self.x + self.w / 2


@dataclass
class _End:
    """One end of an edge segment at an item: ``side`` top or bottom."""

    edge: str
    item: str
    side: str
    group: tuple
    far: str  # the item at the other end of the segment
    x: float = 0.0


@dataclass
class _Segment:
    """An edge's passage through the gap below ``gap``: from ``upper`` down to ``lower``
    (for an edge inside one row, both ends are bottoms)."""

    edge: str
    gap: int
    upper: _End
    lower: _End
    track: int = -1


class LayoutError(AssertionError):
    """The layout broke its own promise (a bug): two labels overlap, or an edge label lies on a shape."""


def layout(graph: Graph, caption: Sequence[str] = (), legend: Sequence[LegendEntry] = ()) -> Layout:
    """Place every node, box, edge and label of ``graph``; the caption goes on top, the legend below.

    The result is checked: overlapping labels raise :class:`LayoutError` rather than
    produce a picture that cannot be read."""
    placed = _Layouter(graph).run(caption, legend)
    clashes = overlapping_labels(placed)
    on_shapes = labels_on_shapes(placed)
    if clashes or on_shapes:
        first = (f"'{clashes[0][0].text}' and '{clashes[0][1].text}'" if clashes
                 else f"'{on_shapes[0][0].text}' on {on_shapes[0][1]}")
        raise LayoutError(f"the diagram layout put labels on each other ({first})")
    return placed


class _Layouter:
    def __init__(self, graph: Graph):
        self.graph = graph
        self.parent: dict[str, str | None] = {b.id: b.parent for b in graph.boxes}
        self.box_of = {b.id: b for b in graph.boxes}
        self.depth: dict[str | None, int] = {None: -1}
        for box in graph.boxes:
            self.depth[box.id] = self._depth(box.id)

    def _depth(self, box: str) -> int:
        d, parent = 0, self.parent[box]
        while parent is not None:
            d, parent = d + 1, self.parent[parent]
        return d

    # -- driver --------------------------------------------------------------------------

    def run(self, caption: Sequence[str], legend: Sequence[LegendEntry]) -> Layout:
        self._size_nodes()
        self._rank()
        self._spans()
        self._dummies()
        self._order()
        self._arrange_all()
        for sweep in range(4):
            if not self._reorder(downward=sweep % 2 == 0):
                break
            self._arrange_all()
        self._ports()
        self._tracks()
        self._labels()
        return self._vertical(caption, legend)

    # -- sizes and ranks -----------------------------------------------------------------

    def _size_nodes(self) -> None:
        self.placed: dict[str, PlacedNode] = {}
        for node in self.graph.nodes:
            shape = kind_look(node.kind).shape
            sizes = [(line, NAME_SIZE if i == 0 else DETAIL_SIZE, i == 0) for i, line in enumerate(node.lines)]
            text_w = max(text_width(line, size) for line, size, _ in sizes)
            text_h = sum(size * LINE_BOX + 2 for _, size, _ in sizes) - 2
            left, top, right, bottom = _insets(shape, text_w, text_h)
            w = max(96.0, text_w + left + right)
            h = text_h + top + bottom
            self.placed[node.id] = PlacedNode(node, shape, Rect(0, 0, w, h), [], sizes, (left, top, right, bottom))

    def _rank(self) -> None:
        nodes = [n.id for n in self.graph.nodes]
        index = {n: i for i, n in enumerate(nodes)}
        down: dict[str, list[str]] = {n: [] for n in nodes}
        for e in self.graph.edges:
            if e.kind in DOWNWARD and e.source != e.target:
                down[e.source].append(e.target)
        # break cycles: drop edges that close one, depth first in declaration order
        state: dict[str, int] = {}
        kept: dict[str, list[str]] = {n: [] for n in nodes}
        order: list[str] = []
        for root in nodes:
            if root in state:
                continue
            stack = [(root, iter(down[root]))]
            state[root] = 1
            while stack:
                name, children = stack[-1]
                child = next(children, None)
                if child is None:
                    state[name] = 2
                    order.append(name)
                    stack.pop()
                    continue
                if state.get(child) == 1:
                    continue  # a back edge
                kept[name].append(child)
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(down[child])))
        rank = {n: TIERS.get(self.placed[n].node.kind, 3) for n in nodes}
        for name in reversed(order):  # a topological order of the kept edges
            for child in kept[name]:
                rank[child] = max(rank[child], rank[name] + 1)
        used = sorted(set(rank.values()))
        compact = {r: i for i, r in enumerate(used)}
        self.rank = {n: compact[rank[n]] for n in nodes}
        self.rows = len(used)
        self.index = index

    def _spans(self) -> None:
        """Each box's rows: from its first to its last content's row."""
        self.span: dict[str, tuple[int, int]] = {}
        for node in self.graph.nodes:
            box, row = node.box, self.rank[node.id]
            while box is not None:
                lo, hi = self.span.get(box, (row, row))
                self.span[box] = (min(lo, row), max(hi, row))
                box = self.parent[box]
        self.children: dict[str | None, list[str]] = {None: []}
        for box in self.graph.boxes:
            if box.id in self.span:
                self.children.setdefault(box.parent, []).append(box.id)
                self.children.setdefault(box.id, [])

    def _chain(self, box: str | None) -> list[str]:
        out = []
        while box is not None:
            out.append(box)
            box = self.parent[box]
        return out

    def _dummies(self) -> None:
        """Items for every node, and a slot in each row a long edge passes."""
        self.items: dict[str, _Item] = {}
        for node in self.graph.nodes:
            placed = self.placed[node.id]
            self.items[node.id] = _Item(node.id, self.rank[node.id], node.box, placed.rect.w, placed.rect.h,
                                        self.index[node.id], node=placed)
        self.chains: dict[str, list[str]] = {}  # edge -> items from the upper end down
        self.reversed: set[str] = set()
        self.same_row: set[str] = set()
        for position, edge in enumerate(self.graph.edges):
            upper, lower = edge.source, edge.target
            if self.rank[upper] > self.rank[lower]:
                upper, lower = lower, upper
                self.reversed.add(edge.id)
            if upper == lower:
                continue  # a self loop is not drawn
            if self.rank[upper] == self.rank[lower]:
                self.same_row.add(edge.id)
                self.chains[edge.id] = [upper, lower]
                continue
            chain = [upper]
            upper_boxes = self._chain(self.graph.node(upper).box)
            lower_boxes = self._chain(self.graph.node(lower).box)
            for row in range(self.rank[upper] + 1, self.rank[lower]):
                box = next((b for b in lower_boxes if self.span[b][0] <= row <= self.span[b][1]), None)
                if box is None:
                    box = next((b for b in upper_boxes if self.span[b][0] <= row <= self.span[b][1]), None)
                ident = f"{edge.id}@{row}"
                self.items[ident] = _Item(ident, row, box, DUMMY_WIDTH, 0.0, 100000 + position, edge=edge.id)
                chain.append(ident)
            chain.append(lower)
            self.chains[edge.id] = chain

    # -- horizontal placement -------------------------------------------------------------

    def _order(self) -> None:
        """The items of each cell (a box's own items in one row), in declaration order."""
        self.cells: dict[tuple[str | None, int], list[str]] = {}
        for item in sorted(self.items.values(), key=lambda i: i.order):
            self.cells.setdefault((item.box, item.row), []).append(item.id)

    def _reorder(self, downward: bool) -> bool:
        """Sort each cell by the mean position of its neighbours in the row above (or below)."""
        neighbours: dict[str, list[str]] = {i: [] for i in self.items}
        for edge_id, chain in self.chains.items():
            if edge_id in self.same_row:
                continue
            for a, b in zip(chain, chain[1:]):
                if downward:
                    neighbours[b].append(a)
                else:
                    neighbours[a].append(b)
        changed = False
        for key, ids in self.cells.items():
            def weight(ident: str) -> tuple[float, int]:
                near = neighbours[ident]
                if not near:
                    return (self.items[ident].centre, self.items[ident].order)
                return (sum(self.items[n].centre for n in near) / len(near), self.items[ident].order)

            ordered = sorted(ids, key=weight)
            if ordered != ids:
                self.cells[key] = ordered
                changed = True
        return changed

    def _arrange_all(self) -> None:
        self.rel_box: dict[str, float] = {}  # box -> left, relative to its parent's content left
        self.box_w: dict[str, float] = {}
        self.rel_item: dict[str, float] = {}
        self.box_left: dict[str, float] = {}
        self.items_in: dict[str | None, list[str]] = {None: [], **{b: [] for b in self.span}}
        for ident, item in self.items.items():
            self.items_in[item.box].append(ident)
        width = self._arrange(None, None)
        self.content_w = width
        self._settle(None, MARGIN)

    def _title_width(self, box: str) -> float:
        return text_width(self.box_of[box].title, TITLE_SIZE)

    def _arrange(self, box: str | None, inherited: float | None) -> float:
        """Lay out ``box``'s contents relative to its content's left; returns the content width.

        ``inherited`` is how far from the content's left the titles above its first row
        reach (None: no title there)."""
        children = self.children.get(box, [])
        if box is None:
            rows = range(self.rows)
            first = 0
            clear = None
        else:
            lo, hi = self.span[box]
            rows = range(lo, hi + 1)
            first = lo
            own = TITLE_INSET + self._title_width(box) + 4 - BOX_PAD
            clear = own if inherited is None else max(own, inherited)
        closed = set()
        for child in children:
            lo, hi = self.span[child]
            closed.update(range(lo, hi + 1))
        # the children, side by side
        offset = 0.0
        for n, child in enumerate(children):
            if n:
                offset += BOX_GAP
            child_clear = None
            if clear is not None and self.span[child][0] == first:
                child_clear = clear - offset - BOX_PAD
            inner = self._arrange(child, child_clear)
            width = max(inner + 2 * BOX_PAD, self._title_width(child) + 2 * TITLE_INSET)
            self.rel_box[child] = offset
            self.box_w[child] = width
            offset += width
        children_w = offset
        # loose items in closed rows: a column right of the children
        loose_x = children_w + (BOX_GAP if children else 0.0)
        loose_w = 0.0
        open_rows: list[int] = []
        for row in rows:
            ids = self.cells.get((box, row), [])
            if row not in closed:
                open_rows.append(row)
                continue
            row_clear = clear if row == first else None
            end = self._pack(ids, loose_x, row_clear)
            loose_w = max(loose_w, end - loose_x)
        content = children_w + (BOX_GAP + loose_w if loose_w else 0.0)
        # open rows: centred over the whole width
        for row in open_rows:
            ids = self.cells.get((box, row), [])
            row_clear = clear if row == first else None
            content = max(content, self._pack(ids, 0.0, row_clear))
        for row in open_rows:
            ids = self.cells.get((box, row), [])
            if not ids:
                continue
            natural = self._pack(ids, 0.0, None)
            row_clear = clear if row == first else None
            self._pack(ids, max(0.0, (content - natural) / 2), row_clear)
        return max(content, 1.0)

    def _pack(self, ids: list[str], start: float, clear: float | None) -> float:
        """Place ``ids`` left to right from ``start``; the first keeps a visible part right of ``clear``."""
        x = start
        for n, ident in enumerate(ids):
            item = self.items[ident]
            if n:
                x += HGAP if (item.node or self.items[ids[n - 1]].node) else HGAP / 2
            if clear is not None:  # a port on the part right of the titles: beyond the shape's margin
                visible = item.w if item.node is None else _port_margin(item.node.shape, item.w) + MIN_VISIBLE
                x = max(x, clear + min(visible, item.w) - item.w + (4 if item.node is None else 0))
            self.rel_item[ident] = x
            x += item.w
        return x

    def _settle(self, box: str | None, content_left: float) -> None:
        for ident in self.items_in[box]:
            self.items[ident].x = content_left + self.rel_item[ident]
        for child in self.children.get(box, []):
            left = content_left + self.rel_box[child]
            self.box_left[child] = left
            self._settle(child, left + BOX_PAD)

    # -- ports ----------------------------------------------------------------------------

    def _titles_over(self, item: _Item) -> list[tuple[float, float]]:
        """The x ranges of the titles an edge into ``item``'s top passes."""
        out = []
        for box in self._chain(item.box):
            if self.span[box][0] == item.row:
                left = self.box_left[box] + TITLE_INSET
                out.append((left - 5, left + self._title_width(box) + 5))
        return out

    def _ports(self) -> None:
        self.segments: list[_Segment] = []
        ends: dict[tuple[str, str], list[_End]] = {}  # (item, side) -> ends
        for edge in self.graph.edges:
            chain = self.chains.get(edge.id)
            if chain is None:
                continue
            same = edge.id in self.same_row
            for n, (a, b) in enumerate(zip(chain, chain[1:])):
                upper_role = "tgt" if (edge.id in self.reversed and n == 0) else "src"
                lower_role = "src" if (edge.id in self.reversed and n == len(chain) - 2) else "tgt"
                upper = _End(edge.id, a, "bottom", self._group(edge, a, "bottom", upper_role), b)
                lower = _End(edge.id, b, "bottom" if same else "top",
                             self._group(edge, b, "bottom" if same else "top", lower_role), a)
                ends.setdefault((a, upper.side), []).append(upper)
                ends.setdefault((b, lower.side), []).append(lower)
                self.segments.append(_Segment(edge.id, self.items[a].row, upper, lower))
        for (ident, side), found in sorted(ends.items()):
            item = self.items[ident]
            groups: dict[tuple, list[_End]] = {}
            for end in found:
                groups.setdefault(end.group, []).append(end)
            if item.node is None:
                for end in found:
                    end.x = item.centre
                continue
            lo, hi = _port_range(item.node.shape, item.x, item.w)
            if side == "top":
                lo, hi = _clear_of(lo, hi, self._titles_over(item))

            def pull(group: tuple) -> tuple[float, int]:
                members = groups[group]
                return (sum(self.items[e.far].centre for e in members) / len(members),
                        min(self.items[e.far].order for e in members))

            ordered = sorted(groups, key=pull)
            for n, group in enumerate(ordered):
                x = (lo + hi) / 2 if len(ordered) == 1 else lo + (n + 0.5) * (hi - lo) / len(ordered)
                for end in groups[group]:
                    end.x = round(x, 1)
        self._separate_verticals()

    def _group(self, edge, item: str, side: str, role: str) -> tuple:
        """Ends that share a port: one node's side, one edge kind and label, one role."""
        if self.items[item].node is None:
            return (item, side, edge.id)
        return (item, side, edge.kind, edge.label, role)

    def _separate_verticals(self) -> None:
        """Nudge a lower port that would continue another edge's drop at the same x."""
        by_gap: dict[int, list[_Segment]] = {}
        for seg in self.segments:
            by_gap.setdefault(seg.gap, []).append(seg)
        for segs in by_gap.values():
            uppers = sorted({(round(s.upper.x), s.upper.group) for s in segs}, key=lambda u: u[0])
            xs = [x for x, _ in uppers]
            by_lower: dict[tuple, list[_Segment]] = {}
            for seg in segs:
                by_lower.setdefault(seg.lower.group, []).append(seg)
            joined = {(seg.upper.group, seg.lower.group) for seg in segs}  # a drop into its own target is fine

            def near(x: float) -> list[tuple[float, tuple]]:
                return uppers[bisect.bisect_left(xs, x - 4):bisect.bisect_right(xs, x + 4)]

            for seg in segs:
                end = seg.lower
                item = self.items[end.item]
                if end.side != "top" or item.node is None:
                    continue
                if any(abs(x - end.x) < 4 and (group, end.group) not in joined for x, group in near(end.x)):
                    lo, hi = _port_range(item.node.shape, item.x, item.w)
                    lo, hi = _clear_of(lo, hi, self._titles_over(item))
                    for shift in (7, -7, 14, -14, 21, -21):
                        moved = round(end.x + shift, 1)
                        if lo <= moved <= hi and all(abs(x - moved) >= 4 for x, _ in near(moved)):
                            for other in by_lower[end.group]:  # the whole port moves
                                other.lower.x = moved
                            break

    # -- tracks -----------------------------------------------------------------------------

    def _tracks(self) -> None:
        self.track_count: dict[int, int] = {}
        by_gap: dict[int, list[_Segment]] = {}
        for seg in self.segments:
            by_gap.setdefault(seg.gap, []).append(seg)
        for gap, segs in sorted(by_gap.items()):
            bent = [s for s in segs if s.edge in self.same_row or abs(s.upper.x - s.lower.x) >= 0.5]
            nets = _nets(bent)
            spans = []
            for net in nets:
                xs = [x for s in net for x in (s.upper.x, s.lower.x)]
                spans.append((min(xs), max(xs), net))
            spans.sort(key=lambda t: (t[0], t[1], t[2][0].edge))
            free: list[tuple[float, int]] = []  # (where a track's last net ends, track)
            count = 0
            for lo, hi, net in spans:
                if free and free[0][0] + 8 < lo:
                    _, track = heapq.heappop(free)
                else:
                    track, count = count, count + 1
                heapq.heappush(free, (hi, track))
                for seg in net:
                    seg.track = track
            self.track_count[gap] = count

    # -- labels -------------------------------------------------------------------------------

    def _labels(self) -> None:
        """One label per port group, packed into the band beside its port."""
        self.band_lines: dict[tuple[int, str], int] = {}  # (row, band) -> lines of labels
        self.label_at: dict[str, tuple[int, str, float, int]] = {}  # edge -> (row, band, x, line)
        ends_of: dict[str, list[_End]] = {}
        for seg in self.segments:
            ends_of.setdefault(seg.edge, []).extend([seg.upper, seg.lower])
        group_size: dict[tuple, int] = {}
        for found in ends_of.values():
            for end in found:
                group_size[end.group] = group_size.get(end.group, 0) + 1
        owners: dict[tuple, tuple[_End, str]] = {}
        for edge in self.graph.edges:
            if not edge.label or edge.id not in ends_of:
                continue
            found = ends_of[edge.id]
            source_end = next(e for e in found if e.item == edge.source)
            target_end = next(e for e in found if e.item == edge.target)
            a, b = group_size[source_end.group], group_size[target_end.group]
            if a != b:
                owner = source_end if a > b else target_end
            else:
                owner = source_end if edge.kind in LABEL_AT_SOURCE else target_end
            owners.setdefault(owner.group, (owner, edge.id))
        verticals = {key: sorted(x for x, _ in found) for key, found in self._band_verticals().items()}
        walls = {key: sorted(found) for key, found in self._band_walls().items()}
        labels = {e.id: e.label for e in self.graph.edges}
        lines_of: dict[tuple[int, str], list[_Line]] = {}
        for group, (end, edge_id) in sorted(owners.items(), key=lambda kv: (kv[1][0].x, kv[1][1])):
            item = self.items[end.item]
            band = "below" if end.side == "bottom" else "above"
            key = (item.row, band)
            w = text_width(labels[edge_id], EDGE_SIZE)
            lines = lines_of.setdefault(key, [])
            crossing, walled = verticals.get(key, []), walls.get(key, [])
            best = None
            for line in range(len(lines) + 1):
                for shift, x1 in _candidates(end.x, w):
                    if x1 < MARGIN / 2:
                        continue
                    x2 = x1 + w
                    if line < len(lines) and lines[line].blocks(x1 - 6, x2 + 6):
                        continue
                    # the port's own line is at end.x, outside every candidate
                    crossings = _count_between(crossing, x1 - 2, x2 + 2)
                    walls_hit = _count_between(walled, x1 - 3, x2 + 3)
                    cost = 10 * crossings + 4 * walls_hit + 3 * line + shift
                    if best is None or cost < best[0]:
                        best = (cost, line, x1)
            assert best is not None
            _, line, x1 = best
            if line == len(lines):
                lines.append(_Line())
            lines[line].add(x1, x1 + w)
            self.band_lines[key] = len(lines)
            self.label_at[edge_id] = (item.row, band, x1, line)

    def _band_verticals(self) -> dict[tuple[int, str], list[tuple[float, tuple]]]:
        """The x of every line that crosses each label band, with its port group."""
        out: dict[tuple[int, str], list[tuple[float, tuple]]] = {}
        for seg in self.segments:
            upper = self.items[seg.upper.item]
            out.setdefault((upper.row, "below"), []).append((seg.upper.x, seg.upper.group))
            lower = self.items[seg.lower.item]
            band = "below" if seg.lower.side == "bottom" else "above"
            out.setdefault((lower.row, band), []).append((seg.lower.x, seg.lower.group))
        for item in self.items.values():
            if item.node is None:  # a slot: its line crosses both bands of its row
                out.setdefault((item.row, "above"), []).append((item.centre, ("slot", item.id)))
                out.setdefault((item.row, "below"), []).append((item.centre, ("slot", item.id)))
        return out

    def _band_walls(self) -> dict[tuple[int, str], list[float]]:
        """The x of every box side that crosses each label band."""
        out: dict[tuple[int, str], list[float]] = {}
        for box, (lo, hi) in self.span.items():
            xs = [self.box_left[box], self.box_left[box] + self.box_w[box]]
            for row in range(lo, hi + 1):
                out.setdefault((row, "above"), []).extend(xs)
                out.setdefault((row, "below"), []).extend(xs)
        return out

    # -- vertical placement and the result -------------------------------------------------------

    def _vertical(self, caption: Sequence[str], legend: Sequence[LegendEntry]) -> Layout:
        y = MARGIN
        caption_texts = []
        for n, line in enumerate(caption):
            size = CAPTION_SIZE + (1.5 if n == 0 else 0)
            caption_texts.append(make_text(line, MARGIN, y, size, "caption", f"caption-{n}", bold=n == 0))
            y += size * LINE_BOX + 4
        if caption:
            y += 8
        starting: dict[int, list[str]] = {}
        ending: dict[int, list[str]] = {}
        for box, (lo, hi) in self.span.items():
            starting.setdefault(lo, []).append(box)
            ending.setdefault(hi, []).append(box)
        heights: dict[int, float] = {}
        for item in self.items.values():
            heights[item.row] = max(heights.get(item.row, 0.0), item.h)
        row_top: list[float] = []
        row_h: list[float] = []
        box_top: dict[str, float] = {}
        box_bottom: dict[str, float] = {}
        band_top: dict[tuple[int, str], float] = {}
        track_y: dict[tuple[int, int], float] = {}
        for row in range(self.rows):
            # titles of the boxes starting here, outermost first
            depths = sorted({self.depth[b] for b in starting.get(row, [])})
            for box in starting.get(row, []):
                box_top[box] = y + depths.index(self.depth[box]) * STRIP
            y += len(depths) * STRIP
            band_top[(row, "above")] = y
            y += self.band_lines.get((row, "above"), 0) * LABEL_PITCH + 4
            row_top.append(y)
            height = heights.get(row, 0.0)
            row_h.append(height)
            y += height
            band_top[(row, "below")] = y + 2
            y += self.band_lines.get((row, "below"), 0) * LABEL_PITCH + 4
            tracks = self.track_count.get(row, 0)
            for t in range(tracks):
                track_y[(row, t)] = y + 4 + t * TRACK_PITCH
            y += (tracks * TRACK_PITCH + 4) if tracks else 0
            depths = sorted({self.depth[b] for b in ending.get(row, [])}, reverse=True)
            for box in ending.get(row, []):
                box_bottom[box] = y + (depths.index(self.depth[box]) + 1) * BOTTOM
            y += len(depths) * BOTTOM
            if row < self.rows - 1:
                next_titles = len({self.depth[b] for b in starting.get(row + 1, [])}) * STRIP
                next_band = self.band_lines.get((row + 1, "above"), 0) * LABEL_PITCH + 4
                short = MIN_GAP - (y - row_top[row] - height + next_titles + next_band)
                if short > 0:  # room to breathe: spread the tracks over the extra space
                    for t in range(tracks):
                        track_y[(row, t)] += short / 2
                    for box in ending.get(row, []):
                        box_bottom[box] += short
                    y += short
        bottom = y

        # nodes
        for item in self.items.values():
            if item.node is None:
                continue
            placed = item.node
            placed.rect = Rect(round(item.x, 1), round(row_top[item.row], 1), item.w, item.h)
            placed.texts = _node_texts(placed)
        # boxes
        boxes: dict[str, PlacedBox] = {}
        for box in self.graph.boxes:
            if box.id not in self.span:
                continue
            left, top = self.box_left[box.id], box_top[box.id]
            rect = Rect(round(left, 1), round(top, 1), round(self.box_w[box.id], 1), round(box_bottom[box.id] - top, 1))
            title = make_text(box.title, rect.x + TITLE_INSET, rect.y + 4, TITLE_SIZE, "title", box.id, bold=True)
            boxes[box.id] = PlacedBox(box.id, box.level, rect, title)
        # edges
        edges: dict[str, PlacedEdge] = {}
        segs_of: dict[str, list[_Segment]] = {}
        for seg in self.segments:
            segs_of.setdefault(seg.edge, []).append(seg)
        for edge in self.graph.edges:
            if edge.id not in segs_of:
                continue
            points: list[tuple[float, float]] = []
            for seg in segs_of[edge.id]:
                upper, lower = self.items[seg.upper.item], self.items[seg.lower.item]
                start = (seg.upper.x, self._port_y(upper, seg.upper.x, "bottom", row_top, row_h))
                end = (seg.lower.x, self._port_y(lower, seg.lower.x, seg.lower.side, row_top, row_h))
                if not points:
                    points.append(start)
                elif points[-1] != start:
                    points.append(start)
                if seg.track >= 0:
                    ty = track_y[(seg.gap, seg.track)]
                    points.extend([(seg.upper.x, ty), (seg.lower.x, ty)])
                points.append(end)
            if edge.id in self.reversed:
                points.reverse()
            label = None
            if edge.id in self.label_at:
                row, band, x1, line = self.label_at[edge.id]
                y1 = band_top[(row, band)] + line * LABEL_PITCH
                if band == "above":  # lines count up from the row
                    count = self.band_lines[(row, band)]
                    y1 = band_top[(row, band)] + (count - 1 - line) * LABEL_PITCH
                label = make_text(edge.label, round(x1, 1), round(y1 + 2, 1), EDGE_SIZE, "edge", edge.id)
            edges[edge.id] = PlacedEdge(edge.id, edge.kind, _simplify(points), label)

        width = MARGIN + max([self.content_w] + [c.rect.w for c in caption_texts]
                             + [e.label.rect.right - MARGIN for e in edges.values() if e.label]) + MARGIN
        placed_legend, frame, bottom = _legend(legend, bottom + 10, width)
        width = max(width, (frame.right + MARGIN) if frame else 0)
        height = bottom + MARGIN
        return Layout(round(width, 1), round(height, 1), {n: self.placed[n] for n in self.placed}, boxes, edges,
                      caption_texts, placed_legend, frame, [round(t, 1) for t in row_top])

    def _port_y(self, item: _Item, x: float, side: str, row_top: list[float], row_h: list[float]) -> float:
        if item.node is None:
            return row_top[item.row] if side == "top" else row_top[item.row] + row_h[item.row]
        rect = item.node.rect
        return round(_boundary(item.node.shape, rect, x, side), 1)


# -- helpers ---------------------------------------------------------------------------------


def _insets(shape: str, text_w: float, text_h: float) -> tuple[float, float, float, float]:
    """Room between a shape's bounding box and its text: left, top, right, bottom."""
    if shape in ("ellipse", "cloud"):
        side = text_w * 0.24 + 12
        return side, text_h * 0.24 + 6, side, text_h * 0.24 + 6
    return {
        "note": (10, 7, 20, 7),
        "hexagon": (24, 7, 24, 7),
        "trapezoid": (24, 7, 24, 7),
        "component": (24, 7, 10, 7),
        "cylinder": (10, 16, 10, 10),
        "stack": (10, 7, 16, 13),
        "octagon": (16, 8, 16, 8),
    }.get(shape, (10, 7, 10, 7))


def _node_texts(placed: PlacedNode) -> list[Text]:
    left, top, right, _ = placed.inset
    rect = placed.rect
    inner_x, inner_w = rect.x + left, rect.w - left - right
    y = rect.y + top
    out = []
    for line, size, bold in placed.lines:
        w = text_width(line, size)
        out.append(Text(line, Rect(round(inner_x + (inner_w - w) / 2, 2), round(y, 2), w, size * LINE_BOX), size,
                        "node", placed.node.id, bold))
        y += size * LINE_BOX + 2
    return out


def _port_margin(shape: str, w: float) -> float:
    inset = {"ellipse": 0.3, "cloud": 0.3, "hexagon": 0.22, "trapezoid": 0.22, "octagon": 0.2}.get(shape, 0.1)
    return max(8.0, w * inset)


def _port_range(shape: str, x: float, w: float) -> tuple[float, float]:
    """Where on a shape's top or bottom edges may attach."""
    margin = _port_margin(shape, w)
    return x + margin, x + w - margin


def _clear_of(lo: float, hi: float, blocked: Iterable[tuple[float, float]]) -> tuple[float, float]:
    """The widest part of [lo, hi] outside every blocked range."""
    parts = [(lo, hi)]
    for a, b in blocked:
        nxt = []
        for p, q in parts:
            if b <= p or a >= q:
                nxt.append((p, q))
                continue
            if a > p:
                nxt.append((p, a))
            if b < q:
                nxt.append((b, q))
        parts = nxt
    if not parts:
        return hi, hi
    return max(parts, key=lambda pq: (pq[1] - pq[0], pq[0]))


def _boundary(shape: str, rect: Rect, x: float, side: str) -> float:
    """The y where a vertical line at ``x`` meets the shape's outline."""
    import math

    if shape in ("ellipse", "cloud"):
        rx, ry = rect.w / 2, rect.h / 2
        cx, cy = rect.x + rx, rect.y + ry
        t = max(0.0, 1 - ((x - cx) / rx) ** 2)
        dy = ry * math.sqrt(t)
        return cy - dy if side == "top" else cy + dy
    if shape == "cylinder" and side == "bottom":
        rx, ry = rect.w / 2, CYLINDER_RY
        t = max(0.0, 1 - ((x - (rect.x + rx)) / rx) ** 2)
        return rect.bottom - ry + ry * math.sqrt(t)
    if shape == "stack" and side == "bottom":
        return rect.bottom - STACK_OFFSET
    return rect.y if side == "top" else rect.bottom


CYLINDER_RY = 7.0
STACK_OFFSET = 6.0


def _candidates(anchor: float, w: float) -> list[tuple[float, float]]:
    """(cost, left) of the places a label of width ``w`` may take beside a port at ``anchor``."""
    out = [(0.0, anchor + 5), (1.0, anchor - 5 - w)]
    for k in range(1, 9):
        out.append((1.5 * k, anchor + 5 + 12 * k))
        out.append((1.5 * k + 1, anchor - 5 - w - 12 * k))
    return out


class _Line:
    """One line of a label band: disjoint intervals, sorted."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []

    def blocks(self, lo: float, hi: float) -> bool:
        at = bisect.bisect_left(self.starts, hi)
        return at > 0 and self.ends[at - 1] > lo

    def add(self, lo: float, hi: float) -> None:
        at = bisect.bisect_left(self.starts, lo)
        self.starts.insert(at, lo)
        self.ends.insert(at, hi)


def _count_between(xs: list[float], lo: float, hi: float) -> int:
    """How many of the sorted ``xs`` lie strictly between ``lo`` and ``hi``."""
    return max(0, bisect.bisect_left(xs, hi) - bisect.bisect_right(xs, lo))


def _nets(segments: list[_Segment]) -> list[list[_Segment]]:
    """Segments that share a port and may share a track (a bus: every upper end to every lower end)."""
    parent = list(range(len(segments)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_port: dict[tuple, int] = {}
    for i, seg in enumerate(segments):
        for key in (("u", seg.upper.group, seg.upper.item), ("l", seg.lower.group, seg.lower.item)):
            if key in by_port:
                parent[find(i)] = find(by_port[key])
            else:
                by_port[key] = i
    groups: dict[int, list[_Segment]] = {}
    for i, seg in enumerate(segments):
        groups.setdefault(find(i), []).append(seg)
    out = []
    for group in groups.values():
        uppers = {(s.upper.item, s.upper.group) for s in group}
        lowers = {(s.lower.item, s.lower.group) for s in group}
        pairs = {((s.upper.item, s.upper.group), (s.lower.item, s.lower.group)) for s in group}
        if len(pairs) == len(uppers) * len(lowers):
            out.append(group)
            continue
        split: dict[tuple, list[_Segment]] = {}  # not a full bus: one net per upper port
        for seg in group:
            split.setdefault((seg.upper.item, seg.upper.group), []).append(seg)
        out.extend(split.values())
    return out


def _simplify(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for p in points:
        p = (round(p[0], 1), round(p[1], 1))
        if out and out[-1] == p:
            continue
        if len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if (ax == bx == p[0]) or (ay == by == p[1]):
                out[-1] = p
                continue
        out.append(p)
    return out


def _legend(entries: Sequence[LegendEntry], top: float, width: float) -> tuple[list[PlacedLegend], Rect | None, float]:
    """Legend entries in rows, wrapped at the drawing's width."""
    if not entries:
        return [], None, top
    sample_w, gap = 30.0, 16.0
    row_h = LEGEND_SIZE * LINE_BOX + 6
    x0 = MARGIN + 10
    limit = max(width - MARGIN - 10, 360.0)
    x, y = x0, top + 8
    placed: list[PlacedLegend] = []
    right = x0
    for entry in entries:
        w = sample_w + 6 + text_width(entry.text, LEGEND_SIZE)
        if x > x0 and x + w > limit:
            x, y = x0, y + row_h
        sample = Rect(x, y + 2, sample_w, LEGEND_SIZE * LINE_BOX - 4)
        text = make_text(entry.text, x + sample_w + 6, y, LEGEND_SIZE, "legend", entry.key)
        placed.append(PlacedLegend(entry, sample, text))
        right = max(right, text.rect.right)
        x += w + gap
    frame = Rect(MARGIN, top, right + 10 - MARGIN, y + row_h + 4 - top)
    return placed, frame, frame.bottom
