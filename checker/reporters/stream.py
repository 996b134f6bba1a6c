"""Reports written a piece at a time.

A report of a file with a hundred thousand findings is tens of megabytes of text
(the 100k benchmark file: 36 MB of text, 65 MB of JSON, 179 MB of SARIF). Built as one
document and one string, the JSON report took the run's peak from 475 to 696 MB, and
SARIF to 1.6 GB. The reporters instead yield their text in pieces, each finding's
piece made when it is written; ``render`` is the pieces joined, for callers that
want one string.

:func:`json_chunks` writes what ``json.dumps(document, indent=2, ensure_ascii=False)``
writes, character for character, where any list of the document may be an
:class:`Items`: a list whose elements are made as they are written.
"""

from __future__ import annotations

import json
from itertools import chain
from typing import Any, Iterable, Iterator

from ..display import json_safe

_INDENT = "  "


class Items:
    """A list of a JSON document written one element at a time: ``elements`` is read
    once, when the list is reached (an iterable, often a generator). An element is
    plain JSON data (it holds no :class:`Items` of its own)."""

    __slots__ = ("elements",)

    def __init__(self, elements: Iterable[Any]) -> None:
        self.elements = elements


def json_chunks(document: Any) -> Iterator[str]:
    """``json.dumps(document, indent=2, ensure_ascii=False)`` in pieces (made valid
    UTF-8 by :func:`checker.display.json_safe`), then a line end. A list element of
    an :class:`Items` is one piece; so are the parts of the document around them."""
    pending: list[str] = []
    for piece in _encode(document, 0):
        if piece is _FLUSH:
            if pending:
                yield json_safe("".join(pending))
                pending.clear()
        else:
            pending.append(piece)
    pending.append("\n")
    yield json_safe("".join(pending))


_FLUSH = object()  # (a marker after a list element of an Items: what is pending is written)
_NONE = object()


def _encode(value: Any, level: int) -> Iterator[Any]:
    if isinstance(value, Items):
        yield from _items(value, level)
    elif isinstance(value, dict) and value:
        inner = "\n" + _INDENT * (level + 1)
        yield "{"
        for position, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"a streamed JSON object's keys are strings, not {type(key).__name__}")
            yield ("," if position else "") + inner + json.dumps(key, ensure_ascii=False) + ": "
            yield from _encode(item, level + 1)
        yield "\n" + _INDENT * level + "}"
    elif isinstance(value, (list, tuple)) and value:
        inner = "\n" + _INDENT * (level + 1)
        yield "["
        for position, item in enumerate(value):
            yield ("," if position else "") + inner
            yield from _encode(item, level + 1)
        yield "\n" + _INDENT * level + "]"
    else:
        yield _dumps(value, level)


def _items(items: Items, level: int) -> Iterator[Any]:
    elements = iter(items.elements)
    first = next(elements, _NONE)
    if first is _NONE:
        yield "[]"
        return
    inner = "\n" + _INDENT * (level + 1)
    yield "["
    for position, element in enumerate(chain((first,), elements)):
        yield ("," if position else "") + inner + _dumps(element, level + 1)
        yield _FLUSH
    yield "\n" + _INDENT * level + "]"


def _dumps(value: Any, level: int) -> str:
    """One value as ``json.dumps`` writes it at nesting ``level`` (its own lines
    indented to there: a JSON string never holds a line end of its own)."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + _INDENT * level) if level and "\n" in text else text


def lines_chunks(groups: Iterable[Iterable[str]], batch: int = 1024) -> Iterator[str]:
    """``"\\n".join(lines) + "\\n"`` in pieces of ``batch`` lines (the lines of a
    group, a file's section say, made as they are read)."""
    pending: list[str] = []
    written = False
    for group in groups:
        for line in group:
            pending.append(line)
            if len(pending) >= batch:
                yield "\n".join(pending) + "\n"
                pending.clear()
                written = True
    if pending or not written:
        yield "\n".join(pending) + "\n"


def one_line_end(pieces: Iterable[str]) -> Iterator[str]:
    """The pieces' text with its line ends at the end made one, as
    ``text.rstrip("\\n") + "\\n"`` (the line ends at the end of a piece are held back
    until text follows them)."""
    held = ""
    for piece in pieces:
        text = held + piece
        body = text.rstrip("\n")
        if body:
            yield body
            held = text[len(body):]
        else:
            held = text
    yield "\n"
