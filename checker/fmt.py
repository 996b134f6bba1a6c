"""The canonical formatter behind ``topocheck fmt``.

One way to write every topology, so diffs show meaning and not layout:

* one statement per line (``;`` separators become line breaks), single spaces
  between words, ``a, b`` for lists, ``k=v`` for check parameters;
* a component is written on one line (``web web1 zone az-a address 10.0.1.11``)
  when that line fits in :data:`LINE_WIDTH` characters, it has no list-valued
  attribute (``answer``, a forwarding ``listen``) and no comment inside; else
  as a block, one attribute per line, indented by two spaces;
* attributes in a fixed order: ``zone``, ``host``, ``managed``,
  ``availability``, ``address``, ``listen``, forwarding ``listen``, ``egress``,
  ``served-by``, ``answer``, ``clients``, role, ``failover``, ``quorum``
  (attributes of one kind keep their written order, which can matter);
  list-valued ones (``answer``, ``clients``, ``served-by``, ``egress``, a
  forwarding ``listen``) put the component in block form;
* a zone's clauses in the order ``region``, ``egress``, ``availability``;
* a cluster is always a block: its ``failover`` and ``quorum`` first, then its
  members in their written order;
* statements keep their order; one blank line is kept where the source had
  blank lines between statements (or member declarations); leading and
  trailing blank lines go;
* comments stay where they are: a comment on a line of its own stays before
  the statement (or attribute) that follows it, a comment after code stays at
  the end of the line of the statement or attribute it followed; one after the
  opening line of a component or cluster block stays on that line;
* a suppression comment (``# topocheck: ignore[...]``) accepts the findings on
  one line, so it never changes what it accepts: when the canonical layout would
  take a statement the comment accepts off its line, or bring another onto it,
  the top-level statement keeps its layout as written (see
  :func:`_suppression_moves`).

Formatting never changes the model (tests compare the resolved models,
ignoring source positions) and is idempotent. Only files without syntax errors
are formatted; resolution errors (an undefined name) do not stop it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from lark import Token, Tree

from .parser import parse_tree
from .results import Result

LINE_WIDTH = 88
INDENT = "  "

_ATTRIBUTE_ORDER = {
    "zone_attr": 0,
    "host_attr": 1,
    "managed_attr": 2,
    "availability_attr": 3,
    "address_attr": 4,
    "listen_attr": 5,  # a forwarding listen sorts after plain ones (see _attribute_key)
    "egress_attr": 7,
    "served_by_attr": 8,
    "answer_attr": 9,
    "clients_attr": 10,
    "role_attr": 11,
    "failover_attr": 12,
    "quorum_attr": 13,
}
_LISTED = frozenset({"answer_attr", "clients_attr", "served_by_attr", "egress_attr"})
_ZONE_CLAUSES = {"zone_region": (0, "region"), "zone_egress": (1, "egress"), "zone_availability": (2, "availability")}


@dataclass(frozen=True)
class FormatOutcome:
    """The formatted text, or ``None`` and the syntax errors that prevent formatting."""

    text: str | None
    errors: tuple[Result, ...] = ()

    def changed(self, original: str) -> bool:
        return self.text is not None and self.text != original


def format_text(text: str, path: str = "<text>") -> FormatOutcome:
    """Format a topology file's text (see the module docstring for the style)."""
    parsed = parse_tree(text, path)
    if parsed.tree is None:
        return FormatOutcome(None, parsed.errors)
    pinned: set[int] = set()
    while True:
        formatted = _Formatter(text, frozenset(pinned)).run(parsed.tree)
        moved = _suppression_moves(text, parsed.tree, formatted, path) - pinned
        if not moved:
            return FormatOutcome(formatted)
        pinned |= moved


# ---------------------------------------------------------------------------
# Comments
# ---------------------------------------------------------------------------


def _comment_of(line: str) -> tuple[str, bool] | None:
    """The comment on a source line, and whether code comes before it."""
    in_string = False
    escaped = False
    for index, char in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "#":
            return line[index:].rstrip(), bool(line[:index].strip())
    return None


@dataclass
class _Item:
    """One formatted unit in a container: a statement, an attribute or a member."""

    node: Tree
    first: int
    last: int
    leading: list[tuple[int, str]] = field(default_factory=list)  # own-line comments before it, by line
    trailing: str | None = None  # the comment after it on its last line
    inner_comments: int = 0  # comments inside it (components with blocks)


def _position(node: Tree | Token) -> tuple[int, int]:
    if isinstance(node, Token):
        return node.line, node.column
    return node.meta.line, node.meta.column


def _line_range(node: Tree | Token) -> tuple[int, int]:
    if isinstance(node, Token):
        return node.line, node.end_line
    return node.meta.line, node.meta.end_line


# ---------------------------------------------------------------------------
# The formatter
# ---------------------------------------------------------------------------


class _Formatter:
    def __init__(self, text: str, pinned: frozenset[int] = frozenset()) -> None:
        self.lines = text.split("\n")
        self.pinned = pinned  # indices of top-level statements written as they are
        self.comments: dict[int, tuple[str, bool]] = {}
        for number, line in enumerate(self.lines, 1):
            found = _comment_of(line)
            if found is not None:
                self.comments[number] = found
        self.used: set[int] = set()

    def blank_between(self, after: int, before: int) -> bool:
        """True when a blank line lies strictly between source lines ``after`` and ``before``."""
        return any(not self.lines[n - 1].strip() for n in range(after + 1, before) if 0 < n <= len(self.lines))

    # -- attaching comments to items -----------------------------------------

    def items(self, nodes: list[Tree], first: int, last: int) -> tuple[list[_Item], list[tuple[int, str]]]:
        """``nodes`` as items with their comments; and the comments left over in
        lines ``first..last`` (own-line comments after the last item; comments on
        a line no item ends on), with their line numbers."""
        items = sorted((_Item(node, *_line_range(node)) for node in nodes), key=lambda i: _position(i.node))
        # siblings follow each other: their first lines, and their last lines, never go
        # back, so the items around a line are found by bisection (a scan of every item
        # per comment was the square of a file's statements: 10k components took 5.4 s)
        firsts = [item.first for item in items]
        left: list[tuple[int, str]] = []
        for number in range(first, last + 1):
            if number in self.used or number not in self.comments:
                continue
            comment, after_code = self.comments[number]
            after = bisect_right(firsts, number)  # items[after:] start below the line
            start = after
            while start > 0 and items[start - 1].last >= number:
                start -= 1
            inside = items[start:after]
            if after_code:
                ending = [item for item in inside if item.last == number]
                if ending:
                    self.used.add(number)
                    ending[-1].trailing = comment
                elif inside:
                    inside[-1].inner_comments += 1  # within a multi-line item: its own business
                else:
                    self.used.add(number)
                    left.append((number, comment))
                continue
            if inside:
                inside[-1].inner_comments += 1
                continue
            following = items[after:after + 1]
            self.used.add(number)
            if following:
                following[0].leading.append((number, comment))
            else:
                left.append((number, comment))
        return items, left

    def header_line_comments(self, items: list[_Item], left: list[tuple[int, str]],
                             header: int) -> list[tuple[int, str]]:
        """A comment after code on a block's opening line belongs to the opening line (where
        the block's name is), not to an attribute or member that also ends there."""
        for inner in items:
            if inner.trailing is not None and inner.last == header and inner.node.data != "component":
                left = [(header, inner.trailing), *left]
                inner.trailing = None
        return left

    # -- top level -----------------------------------------------------------

    def run(self, tree: Tree) -> str:
        statements = [c for c in tree.children if isinstance(c, Tree)]
        index_of = {id(node): index for index, node in enumerate(statements)}
        items, left = self.items(statements, 1, len(self.lines))
        out: list[str] = []
        previous_end: int | None = None
        for item in items:
            if index_of[id(item.node)] in self.pinned:
                if previous_end is not None and item.first <= previous_end:
                    continue  # shares its line with the statement before: already written
                if previous_end is not None and self.blank_between(previous_end, self.first_leading_line(item)):
                    out.append("")
                out.extend(self.leading(item, "", keep_blanks=True))
                last = max(i.last for i in items if i.first <= item.last and i.last >= item.first)
                out.extend(line.rstrip() for line in self.lines[item.first - 1:last])
                previous_end = last
                continue
            if previous_end is not None and self.blank_between(previous_end, self.first_leading_line(item)):
                out.append("")
            out.extend(self.leading(item, "", keep_blanks=True))
            out.extend(self.statement(item))
            previous_end = item.last
        for number, comment in left:
            if previous_end is not None and self.blank_between(previous_end, number):
                out.append("")
            out.append(comment)
            previous_end = number
        return "\n".join(out) + "\n" if out else ""

    def first_leading_line(self, item: _Item) -> int:
        """The source line of the item's first leading comment (else its own first line)."""
        return item.leading[0][0] if item.leading else item.first

    def leading(self, item: _Item, indent: str, keep_blanks: bool) -> list[str]:
        """The item's own-line comments; with ``keep_blanks``, one blank line where the source had any."""
        out: list[str] = []
        previous: int | None = None
        for number, comment in item.leading:
            if keep_blanks and previous is not None and self.blank_between(previous, number):
                out.append("")
            out.append(indent + comment)
            previous = number
        if keep_blanks and previous is not None and self.blank_between(previous, item.first):
            out.append("")
        return out

    def statement(self, item: _Item) -> list[str]:
        node = item.node
        if node.data == "component":
            return self.component(item, "")
        if node.data == "cluster":
            return self.cluster(item)
        return [_with_comment(_simple_statement(node), item.trailing)]

    # -- components and clusters ---------------------------------------------

    def component(self, item: _Item, indent: str) -> list[str]:
        node = item.node
        kind, name = _token(node.children[0]), str(node.children[1])
        head = f"{kind} {name}"
        attributes: list[Tree] = []
        block: Tree | None = None
        for child in node.children[2:]:
            if child.data == "block":
                block = child
                attributes.extend(c for c in child.children if isinstance(c, Tree))
            else:
                attributes.append(child)
        attr_items, left = self.items(attributes, item.first, item.last)
        left = self.header_line_comments(attr_items, left, item.first)
        header_comment = None
        closing: list[str] = []
        for number, comment in left:
            if number == item.first and header_comment is None and self.comments[number][1]:
                header_comment = comment
            else:
                closing.append(comment)
        attr_items.sort(key=lambda a: _attribute_key(a.node))
        comments = [a for a in attr_items if a.leading or a.trailing]
        inline_text = " ".join([head, *(_attribute(a.node) for a in attr_items)])
        trailing = item.trailing
        if header_comment is not None:
            comments.append(_Item(node, 0, 0, trailing=header_comment))
        listed = any(_is_listed(a.node) for a in attr_items)
        inline = (
            not listed
            and not closing
            and not any(a.leading for a in attr_items)
            and len([c for c in comments if c.trailing]) + (trailing is not None) <= 1
            and len(indent) + len(inline_text) <= LINE_WIDTH
        )
        if inline:
            comment = trailing or next((c.trailing for c in comments if c.trailing), None)
            return [_with_comment(indent + inline_text, comment)]
        if not attr_items and block is None and not closing:
            return [_with_comment(indent + head, trailing)]
        out = [_with_comment(f"{indent}{head} {{", header_comment)]
        for attr in attr_items:
            out.extend(self.leading(attr, indent + INDENT, keep_blanks=False))
            out.append(_with_comment(f"{indent}{INDENT}{_attribute(attr.node)}", attr.trailing))
        out.extend(f"{indent}{INDENT}{c}" for c in closing)
        out.append(_with_comment(f"{indent}}}", trailing))
        return out

    def cluster(self, item: _Item) -> list[str]:
        node = item.node
        name = str(node.children[0])
        block = node.children[-1]
        attributes = [c for c in node.children[1:-1] if isinstance(c, Tree)]
        attributes += [c for c in block.children if isinstance(c, Tree) and c.data != "component"]
        members = [c for c in block.children if isinstance(c, Tree) and c.data == "component"]
        attr_items, left = self.items(attributes + members, item.first, item.last)
        left = self.header_line_comments(attr_items, left, item.first)
        header_comment = None
        closing: list[str] = []
        for number, comment in left:
            if number == item.first and header_comment is None and self.comments[number][1]:
                header_comment = comment
            else:
                closing.append(comment)
        plain = sorted((a for a in attr_items if a.node.data != "component"), key=lambda a: _attribute_key(a.node))
        member_items = [a for a in attr_items if a.node.data == "component"]
        out = [_with_comment(f"cluster {name} {{", header_comment)]
        for attr in plain:
            out.extend(self.leading(attr, INDENT, keep_blanks=False))
            out.append(_with_comment(f"{INDENT}{_attribute(attr.node)}", attr.trailing))
        previous_end: int | None = None
        for member in member_items:
            if previous_end is not None and self.blank_between(previous_end, self.first_leading_line(member)):
                out.append("")
            out.extend(self.leading(member, INDENT, keep_blanks=True))
            out.extend(self.component(member, INDENT))
            previous_end = member.last
        out.extend(f"{INDENT}{c}" for c in closing)
        out.append(_with_comment("}", item.trailing))
        return out


# ---------------------------------------------------------------------------
# Rendering pieces
# ---------------------------------------------------------------------------


def _with_comment(line: str, comment: str | None) -> str:
    return f"{line}  {comment}" if comment else line


def _token(node: Tree | Token) -> str:
    """The text of a token, or of the single token under a tree (``kind``, ``port``...)."""
    if isinstance(node, Token):
        return str(node)
    return str(node.children[0])


def _names(node: Tree) -> str:
    return ", ".join(str(t.children[0]) if isinstance(t, Tree) else str(t) for t in node.children)


def _endpoint(node: Tree) -> str:
    if node.data == "internet_endpoint":
        return "internet"
    return str(node.children[0])


def _simple_statement(node: Tree) -> str:
    kind = node.data
    children = node.children
    if kind == "topology":
        return f"topology {children[0]}"
    if kind == "zone":
        clauses = sorted(children[1:], key=lambda c: _ZONE_CLAUSES[c.data][0])
        return " ".join([f"zone {children[0]}"] + [_zone_clause(c) for c in clauses])
    if kind == "region":
        return f"region {children[0]}" + (f" availability {children[1]}" if len(children) > 1 else "")
    if kind == "requirement":
        tail = " optional" if len(children) > 3 else ""
        return f"{_names(children[0])} {_token(children[1])} {_names(children[2])}{tail}"
    if kind == "rule":
        sides = [", ".join(_endpoint(e) for e in side.children) for side in children[1:3]]
        tail = f" {_token(children[3])}" if len(children) > 3 else ""
        return f"{_token(children[0])} {sides[0]} -> {sides[1]}{tail}"
    if kind == "check":
        params = [f"{p.children[0]}={p.children[1]}" for p in children[1:]]
        return " ".join(["check", str(children[0]), *params])
    raise ValueError(f"unknown statement '{kind}'")  # pragma: no cover - the grammar has no other


def _zone_clause(node: Tree) -> str:
    word = _ZONE_CLAUSES[node.data][1]
    value = node.children[0]
    return f"{word} {_names(value) if isinstance(value, Tree) else value}"


def _is_listed(node: Tree) -> bool:
    """Attributes that end in a list and so always get a line of their own."""
    return node.data in _LISTED or (node.data == "listen_attr" and len(node.children) > 1)


def _attribute_key(node: Tree) -> int:
    order = _ATTRIBUTE_ORDER.get(node.data, 9)
    if node.data == "listen_attr" and len(node.children) > 1:
        order += 1
    return order


def _attribute(node: Tree) -> str:
    kind = node.data
    children = node.children
    if kind == "zone_attr":
        return f"zone {children[0]}"
    if kind == "host_attr":
        return f"host {children[0]}"
    if kind == "address_attr":
        return f"address {children[0]}"
    if kind == "managed_attr":
        return "managed"
    if kind == "listen_attr":
        text = f"listen {_token(children[0])}"
        for child in children[1:]:
            if isinstance(child, Tree) and child.data == "target_list":
                text += f" -> {_names(child)}"
            elif isinstance(child, Tree) and child.data == "need":
                text += f" need {child.children[0]}"
            else:
                text += f" {_token(child)}"
        return text
    if kind == "answer_attr":
        return f"answer {_names(children[0])}"
    if kind in ("clients_attr", "served_by_attr", "egress_attr"):
        word = {"clients_attr": "clients", "served_by_attr": "served-by", "egress_attr": "egress"}[kind]
        return f"{word} {_names(children[0])}"
    if kind == "availability_attr":
        return f"availability {children[0]}"
    if kind == "quorum_attr":
        return "quorum"
    if kind == "role_attr":
        return str(children[0]) + (f" of {children[1]}" if len(children) > 1 else "")
    if kind == "failover_attr":
        return f"failover {_token(children[0])}"
    raise ValueError(f"unknown attribute '{kind}'")  # pragma: no cover - the grammar has no other


# ---------------------------------------------------------------------------
# Suppression comments keep what they accept
# ---------------------------------------------------------------------------

# Attributes no check cites (no span of the model points at them): moving one on or off
# a suppressed line changes nothing that comment accepts. Every other attribute (a
# host's first use, a listener, and any added later) counts.
_UNCITED_ATTRIBUTES = frozenset({"zone_attr", "address_attr", "managed_attr", "role_attr", "failover_attr",
                                 "answer_attr"})


def _suppression_moves(source: str, tree: Tree, formatted: str, path: str) -> set[int]:
    """The top-level statements whose layout must stay as written so that every
    suppression comment accepts the same findings in ``formatted`` as in ``source``.

    A comment accepts the findings located on its target line (suppress.py); a finding
    is located at a statement, a component or cluster name, or a cited attribute. So
    each comment's target line must hold the same of those, identified independently
    of position, before and after. Comments are matched by their text, in order.
    """
    from .suppress import parse_suppressions

    before, _ = parse_suppressions(source, path)
    if not before:
        return set()
    after_tree = parse_tree(formatted, path).tree
    after, _ = parse_suppressions(formatted, path)
    if after_tree is None:  # cannot happen for a formatter that keeps the model; be safe
        return set(range(len([c for c in tree.children if isinstance(c, Tree)])))
    anchors_before, ranges = _anchors(tree)
    anchors_after, _ = _anchors(after_tree)
    source_lines, formatted_lines = source.split("\n"), formatted.split("\n")

    def text_of(lines: list[str], sup) -> str:
        return lines[sup.comment.line - 1][sup.comment.column - 1:].rstrip()

    later: dict[str, list] = {}
    for sup in after:
        later.setdefault(text_of(formatted_lines, sup), []).append(sup)
    moved: set[int] = set()
    for sup in before:
        candidates = later.get(text_of(source_lines, sup), [])
        match = candidates.pop(0) if candidates else None
        if match is not None and anchors_before.get(sup.target_line, set()) == \
                anchors_after.get(match.target_line, set()):
            continue
        touched = {sup.target_line, sup.comment.line}
        moved.update(i for i, (first, last) in enumerate(ranges) if any(first <= n <= last for n in touched))
    # statements that share a line with a moved one are written as they are with it
    grew = True
    while grew:
        grew = False
        for i, (first, last) in enumerate(ranges):
            if i not in moved and any(first <= ranges[m][1] and last >= ranges[m][0] for m in moved):
                moved.add(i)
                grew = True
    return moved


def _anchors(tree: Tree) -> tuple[dict[int, set[tuple]], list[tuple[int, int]]]:
    """The things a finding can be located at, by line (statements by position in the
    file, members by name, attributes by kind and rank among their kind), and each
    top-level statement's line range."""
    by_line: dict[int, set[tuple]] = {}
    ranges: list[tuple[int, int]] = []

    def add(node: Tree, key: tuple) -> None:
        by_line.setdefault(node.meta.line, set()).add(key)

    def attributes(nodes: list, key: tuple) -> None:
        seen: dict[str, int] = {}
        for node in nodes:
            if not isinstance(node, Tree) or node.data in ("component", "block", "cluster_block"):
                continue
            rank = seen[node.data] = seen.get(node.data, -1) + 1
            if node.data not in _UNCITED_ATTRIBUTES:
                add(node, (*key, node.data, rank))

    def component(node: Tree, key: tuple) -> None:
        add(node, key)
        children = list(node.children[2:])
        for child in node.children[2:]:
            if isinstance(child, Tree) and child.data == "block":
                children.extend(child.children)
        attributes(children, key)

    statements = [c for c in tree.children if isinstance(c, Tree)]
    for index, node in enumerate(statements):
        ranges.append((node.meta.line, node.meta.end_line))
        key = ("statement", index)
        if node.data == "component":
            component(node, key)
        elif node.data == "cluster":
            add(node, key)
            block = node.children[-1]
            attributes([*node.children[1:-1], *block.children], key)
            for member in block.children:
                if isinstance(member, Tree) and member.data == "component":
                    component(member, (*key, "member", str(member.children[1])))
        else:
            add(node, key)
    return by_line, ranges
