"""The overlay: a topology file that says what manifests cannot, read together with an import.

An overlay is ordinary topology text. It may declare zones, client groups, requirements,
external targets, rules and checks, and refer to every imported name. Before it is read
with the import, :func:`read_overlay` learns from it what the importer must know:

* the zones it declares (replicas are placed in them, as with ``--zones``);
* which imported names it uses as targets, and its lists of alternatives (so the
  placement of replicas stays the worst case with them, and no stand-in job is made
  for clients the overlay names);
* *amendments*: a component declared in the overlay under an imported name, with only
  ``zone``, ``host``, ``managed``, ``availability`` or ``egress``, places that imported
  component (the Compose project's services on the hosts the overlay says, say). Its
  declaration leaves the overlay and its attributes replace the importer's, located in
  the overlay.

The overlay comes first in the combined text, so its rules are read before the imported
ones: an overlay ``deny`` narrows what the manifests allow, an ``allow`` widens it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lark import Token, Tree

from ..fmt import _attribute
from ..model import Span
from ..parser import parse_tree, tree_span
from ..results import Result, Severity, Status
from .common import OverlayInfo

#: What an overlay may set on an imported component.
PLACEMENT = ("zone", "host", "managed", "availability", "egress")
_WORDS = {"zone_attr": "zone", "host_attr": "host", "managed_attr": "managed", "availability_attr": "availability",
          "egress_attr": "egress", "address_attr": "address", "listen_attr": "listen", "answer_attr": "answer",
          "role_attr": "role", "clients_attr": "clients", "served_by_attr": "served-by", "quorum_attr": "quorum",
          "failover_attr": "failover"}


@dataclass(frozen=True)
class Declared:
    """A component the overlay declares: perhaps an amendment of an imported one."""

    kind: str
    name: str
    span: Span  # the whole declaration
    name_span: Span
    placement: tuple[tuple[str, str, Span], ...]  # (word, text, span) of its placement attributes
    others: tuple[tuple[str, Span], ...]  # any other attribute: (word, span)


@dataclass(frozen=True)
class Overlay:
    path: str
    text: str
    info: OverlayInfo
    declared: dict[str, Declared] = field(default_factory=dict)
    errors: tuple[Result, ...] = ()


def read_overlay(text: str, path: str) -> Overlay:
    """What an import needs to know of an overlay (see the module docstring)."""
    parsed = parse_tree(text, path)
    if parsed.tree is None:
        return Overlay(path, text, OverlayInfo(), {}, parsed.errors)
    zones: list[str] = []
    used: set[str] = set()
    alternatives: list[tuple[str, ...]] = []
    needs: list[tuple[str, str]] = []
    declared: dict[str, Declared] = {}
    for statement in parsed.tree.children:
        if not isinstance(statement, Tree):
            continue
        if statement.data == "zone":
            zones.append(str(statement.children[0]))
        elif statement.data == "requirement":
            sources = _names(statement.children[0])
            targets = _names(statement.children[2])
            used.update(targets)
            if len(targets) > 1:
                alternatives.append(tuple(targets))
            needs.extend((s, t) for s in sources for t in targets)
        elif statement.data == "component":
            _component(statement, path, declared, used, alternatives)
        elif statement.data == "cluster":
            for child in statement.children[-1].children:
                if isinstance(child, Tree) and child.data == "component":
                    _component(child, path, declared, used, alternatives)
    info = OverlayInfo(tuple(zones), frozenset(used), tuple(alternatives), tuple(needs),
                       {name: d.placement for name, d in declared.items() if not d.others})
    return Overlay(path, text, info, declared)


def _names(node: Tree | Token) -> list[str]:
    if isinstance(node, Token):
        return [str(node)]
    out = []
    for child in node.children:
        if isinstance(child, Tree):
            out.extend(_names(child))
        else:
            out.append(str(child).rsplit(" ", 1)[-1])  # 'primary of c' names c
    return out


def _component(node: Tree, path: str, declared: dict, used: set, alternatives: list) -> None:
    kind, name = str(node.children[0].children[0]), str(node.children[1])
    attributes = []
    for child in node.children[2:]:
        if isinstance(child, Tree) and child.data == "block":
            attributes.extend(c for c in child.children if isinstance(c, Tree))
        elif isinstance(child, Tree):
            attributes.append(child)
    placement, others = [], []
    for attr in attributes:
        word = _WORDS.get(attr.data, attr.data)
        if attr.data in ("answer_attr", "served_by_attr"):
            names = _names(attr.children[0])
            used.update(names)
            if len(names) > 1:
                alternatives.append(tuple(names))
        if attr.data == "listen_attr":
            lists = [c for c in attr.children if isinstance(c, Tree) and c.data == "target_list"]
            need = [c for c in attr.children if isinstance(c, Tree) and c.data == "need"]
            for target_list in lists:
                names = _names(target_list)
                used.update(names)
                if len(names) > 1 and not (need and int(str(need[0].children[0])) >= len(names)):
                    alternatives.append(tuple(names))
        if word in PLACEMENT:
            placement.append((word, _attribute(attr), _extent(attr, path)))
        else:
            others.append((word, _extent(attr, path)))
    declared[name] = Declared(kind, name, _extent(node, path), tree_span(node.children[1], path),
                              tuple(placement), tuple(others))


def _extent(node: Tree, path: str) -> Span:
    """A statement's whole span: to the end of its last token (the tree's own end can stop
    before attributes written on the declaration's line)."""
    span = tree_span(node, path)
    end = (span.end_line, span.end_column)
    for token in node.scan_values(lambda v: isinstance(v, Token)):
        end = max(end, (token.end_line, token.end_column))
    return Span(path, span.line, span.column, end[0], end[1])


def amend(overlay: Overlay, imported_kinds: dict[str, str]) -> tuple[str, list[Result]]:
    """The overlay's text without the declarations that amend imported components, and an
    error for each declaration under an imported name that cannot be an amendment."""
    errors: list[Result] = []
    lines = overlay.text.split("\n")
    for name, declared in overlay.declared.items():
        kind = imported_kinds.get(name)
        if kind is None:
            continue
        if declared.kind != kind:
            errors.append(_error(f"'{name}' is imported as a {kind}; the overlay declares it a {declared.kind}",
                                 declared.name_span, f"write '{kind} {name} ...' to place it"))
        elif declared.others:
            word, span = declared.others[0]
            errors.append(_error(f"'{word}' cannot be set on imported '{name}'; an overlay may set only "
                                 f"{', '.join(PLACEMENT)} on what it imports", span,
                                 "change the manifests, or declare a component of your own"))
        _blank(lines, declared.span)
    return "\n".join(lines), errors


def _blank(lines: list[str], span: Span) -> None:
    """Replace a span with spaces, keeping every line and column of the rest."""
    for number in range(span.line, span.end_line + 1):
        line = lines[number - 1]
        start = span.column - 1 if number == span.line else 0
        end = span.end_column - 1 if number == span.end_line else len(line)
        lines[number - 1] = line[:start] + " " * (end - start) + line[end:]


def _error(message: str, span: Span, hint: str | None) -> Result:
    return Result("invalid-attribute", Status.REFUTED, Severity.ERROR, message, span, "import", hint=hint)
