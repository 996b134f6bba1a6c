"""YAML documents as located values: every mapping, sequence and scalar keeps its span.

PyYAML's ``compose`` stage gives nodes with marks (0-based line and column); this
module turns them into :class:`Node` values whose :attr:`Node.span` is a 1-based
:class:`~checker.model.Span` in the user's file, as the topology parser gives, so an
importer cites the YAML the way the builder cites topology text. Scalars keep their
source text too (:attr:`Node.raw`): Compose reads ``22:22`` as a string, where YAML 1.1
(and PyYAML) would read the number 1342.

Aliases are shared, not copied (a file of nested aliases, the "billion laughs", stays
small), and merge keys (``<<: *base``) are resolved as PyYAML resolves them. Text that
is not YAML is a located ``syntax`` result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from ..model import Span
from ..results import Result, Severity, Status

# The pure-Python loader: its marks are exact for every input (the C loader's are too,
# but it is not always installed, and the output must not depend on it).
_Loader = yaml.SafeLoader


@dataclass(eq=False)
class Node:
    """One YAML value with where it is written.

    ``value`` is a ``dict`` of keys to nodes for a mapping, a ``list`` of nodes for a
    sequence, else the scalar as YAML resolves it (str, int, float, bool, None).
    ``key_span`` is the span of the key when the node is a mapping's value.
    """

    value: Any
    span: Span
    raw: str | None = None  # a scalar's source text
    key_span: Span | None = None
    keys: dict = field(default_factory=dict)  # key -> key span, for a mapping

    # -- shapes ---------------------------------------------------------------

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_seq(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        return not isinstance(self.value, (dict, list))

    def get(self, key: str) -> "Node | None":
        """The value under ``key`` of a mapping (None for anything else, or no such key)."""
        if isinstance(self.value, dict):
            return self.value.get(key)
        return None

    def path(self, *keys: str) -> "Node | None":
        """``get`` along a path of keys."""
        node: Node | None = self
        for key in keys:
            node = node.get(key) if node is not None else None
        return node

    def items(self) -> Iterator[tuple[str, "Node"]]:
        if isinstance(self.value, dict):
            yield from self.value.items()

    def seq(self) -> list["Node"]:
        """The items of a sequence; nothing for anything else."""
        return list(self.value) if isinstance(self.value, list) else []

    @property
    def entry_span(self) -> Span:
        """From its key (when it is a mapping's value) to its own end: ``replicas: 3``."""
        if self.key_span is None:
            return self.span
        return Span(self.span.path, self.key_span.line, self.key_span.column, self.span.end_line,
                    self.span.end_column)

    # -- scalars --------------------------------------------------------------

    def text(self) -> str | None:
        """A scalar as text: strings as written, numbers and booleans as their source
        text (``80`` is ``"80"``, ``on`` is ``"on"``); None for mappings, sequences and null."""
        if not self.is_scalar or self.value is None:
            return None
        if isinstance(self.value, str):
            return self.value
        return self.raw if self.raw is not None else str(self.value)

    def integer(self) -> int | None:
        """A scalar that is a whole number (written as a number or a numeric string)."""
        if isinstance(self.value, bool):
            return None
        if isinstance(self.value, int):
            return self.value
        text = self.text()
        if text is not None and text.strip().isdigit() and len(text.strip()) <= 18:
            return int(text.strip())
        return None

    def string_map(self) -> dict[str, str]:
        """A mapping of scalars as text (labels, selectors); other values are left out."""
        out: dict[str, str] = {}
        for key, node in self.items():
            text = node.text()
            if text is not None:
                out[key] = text
            elif node.value is None:
                out[key] = ""
        return out


@dataclass(frozen=True)
class Documents:
    """The documents of one file, or the error that stopped reading it."""

    path: str
    text: str
    documents: tuple[Node, ...]
    error: Result | None = None


def load(text: str, path: str) -> Documents:
    """Every YAML document in ``text``, as located nodes; empty documents are left out."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        return Documents(path, text, (), _syntax(exc, path))
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error of a text input is marked
        return Documents(path, text, (), Result("syntax", Status.REFUTED, Severity.ERROR,
                                                f"not valid YAML: {exc}", Span.start_of(path), "yaml"))
    except RecursionError:
        return Documents(path, text, (), Result("syntax", Status.REFUTED, Severity.ERROR,
                                                "not readable YAML: it is nested too deeply",
                                                Span.start_of(path), "yaml"))
    converter = _Converter(path)
    try:
        documents = tuple(converter.node(n) for n in nodes if n is not None)
    except yaml.MarkedYAMLError as exc:  # a bad merge key, found while converting
        return Documents(path, text, (), _syntax(exc, path))
    except RecursionError:
        return Documents(path, text, (), Result("syntax", Status.REFUTED, Severity.ERROR,
                                                "not readable YAML: it is nested too deeply",
                                                Span.start_of(path), "yaml"))
    return Documents(path, text, documents)


def _syntax(exc: yaml.MarkedYAMLError, path: str) -> Result:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = exc.problem or exc.context or "not valid YAML"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    return Result("syntax", Status.REFUTED, Severity.ERROR, f"not valid YAML: {problem}{context}",
                  Span(path, line, column, line, column + 1), "yaml", hint="fix the YAML; nothing was imported")


class _Converter:
    """PyYAML nodes to :class:`Node`, each YAML node converted once (aliases share)."""

    def __init__(self, path: str):
        self.path = path
        self.done: dict[int, Node] = {}
        self.constructor = _Loader("")

    def span(self, node: yaml.Node) -> Span:
        start, end = node.start_mark, node.end_mark
        return Span(self.path, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def node(self, node: yaml.Node) -> Node:
        known = self.done.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.ScalarNode):
            try:
                value = self.constructor.construct_object(node)
            except yaml.constructor.ConstructorError:
                value = node.value  # an unknown tag: keep the text
            if not isinstance(value, (str, int, float, bool)) and value is not None:
                value = node.value  # dates, binary: their text
            out = Node(value, self.span(node), raw=node.value)
            self.done[id(node)] = out
            return out
        if isinstance(node, yaml.SequenceNode):
            out = Node([], self.span(node))
            self.done[id(node)] = out
            out.value.extend(self.node(item) for item in node.value)
            return out
        out = Node({}, self.span(node))
        self.done[id(node)] = out
        if any(key.tag == "tag:yaml.org,2002:merge" for key, _ in node.value):
            self.constructor.flatten_mapping(node)
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
            else:  # a complex key: no manifest field has one
                continue
            child = self.node(value_node)
            key_span = self.span(key_node)
            if child.key_span is None:
                child.key_span = key_span
            out.value[key] = child
            out.keys[key] = key_span
        return out
