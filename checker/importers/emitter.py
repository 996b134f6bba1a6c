"""The importers' shared back end: statements with origins, written as canonical topology text.

An importer builds a list of sections of :class:`Component`, :class:`Cluster` and
:class:`Plain` statements, each with the :class:`~checker.model.Span` of the YAML it
came from (its *origin*) and comments that say why. :func:`emit` writes them in the
layout ``topocheck fmt`` gives (one component per line when it fits and lists nothing,
else a block; attributes in the formatter's order; one blank line between sections),
so the import is a fixed point of the formatter, and records the origin of every line
it writes. Checking the text and mapping each result's lines back through that table
is how findings come to be located in the user's YAML.

:class:`Names` hands out the names of the topology: valid in the language, unique per
namespace (components and clusters share one, hosts and zones have their own), never a
word the grammar reads specially where a name may stand (``internet``, ``any``, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence, Union

from ..fmt import INDENT, LINE_WIDTH
from ..model import Span
from ..results import Result, Severity, Status

#: The id of every note an importer reports (unmapped parts, assumptions it made).
NOTE_ID = "import"

# The formatter's attribute order (checker.fmt._ATTRIBUTE_ORDER), by attribute word;
# "forward" is a listen that forwards (it sorts after plain ones).
_ORDER = {"zone": 0, "host": 1, "managed": 2, "availability": 3, "address": 4, "listen": 5, "forward": 6,
          "egress": 7, "served-by": 8, "answer": 9, "clients": 10, "role": 11, "failover": 12, "quorum": 13}
# Attributes that end in a list put their component in block form.
_LISTED = frozenset({"forward", "egress", "served-by", "answer", "clients"})


@dataclass
class Attr:
    """One attribute as written (``host node-a``), in the formatter's order by ``word``.

    ``origin`` is where it came from when that differs from its component's;
    ``note`` is an own-line comment written above it (which puts the component in block form).
    """

    word: str
    text: str
    origin: Span | None = None
    note: str | None = None


@dataclass
class Component:
    kind: str
    name: str
    origin: Span
    attrs: list[Attr] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # own-line comments above it

    def attr(self, word: str, text: str, origin: Span | None = None, note: str | None = None) -> None:
        self.attrs.append(Attr(word, text, origin, note))


@dataclass
class Cluster:
    name: str
    origin: Span
    attrs: list[Attr] = field(default_factory=list)
    members: list[Component] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


@dataclass
class Plain:
    """A one-line statement: a zone, a requirement, a rule."""

    text: str
    origin: Span
    comments: list[str] = field(default_factory=list)


Statement = Union[Component, Cluster, Plain]


@dataclass(frozen=True)
class Emitted:
    """Topology text and the origin of each of its lines (``origins[n - 1]`` for line n)."""

    text: str
    origins: tuple[Span, ...]


def emit(sections: Sequence[Sequence[Statement]], where: Callable[[Span], str] | None = None) -> Emitted:
    """Write the sections, one blank line between non-empty ones, in canonical form. With
    ``where``, a statement without a comment of its own gets one naming its place
    (``# m.yaml:12``): at the end of its line, or above it when it is a block."""
    lines: list[str] = []
    origins: list[Span] = []
    for section in sections:
        if not section:
            continue
        if lines:
            lines.append("")
            origins.append(origins[-1])
        for statement in section:
            for text, origin in _statement(statement, where):
                lines.append(text)
                origins.append(origin)
    return Emitted("\n".join(lines) + "\n" if lines else "", tuple(origins))


def _statement(statement: Statement, where: Callable[[Span], str] | None) -> list[tuple[str, Span]]:
    out = [(comment(c), statement.origin) for c in statement.comments]
    place = where(statement.origin) if where is not None and not statement.comments else None
    if isinstance(statement, Plain):
        return out + [(statement.text + (f"  {comment(place)}" if place else ""), statement.origin)]
    if isinstance(statement, Component):
        return out + _component(statement, "", place)
    out.append((f"cluster {statement.name} {{", statement.origin))
    for attr in sorted(statement.attrs, key=lambda a: _ORDER[a.word]):
        out.append((INDENT + attr.text, attr.origin or statement.origin))
    for member in statement.members:
        out.extend((INDENT + comment(c), member.origin) for c in member.comments)
        out.extend(_component(member, INDENT, where(member.origin) if where and not member.comments else None))
    out.append(("}", statement.origin))
    return out


def _component(comp: Component, indent: str, place: str | None = None) -> list[tuple[str, Span]]:
    attrs = sorted(comp.attrs, key=lambda a: _ORDER[a.word])
    head = f"{comp.kind} {comp.name}"
    inline = " ".join([head, *(a.text for a in attrs)])
    if (not any(a.word in _LISTED for a in attrs) and not any(a.note for a in attrs)
            and len(indent) + len(inline) <= LINE_WIDTH):
        return [(indent + inline + (f"  {comment(place)}" if place else ""), comp.origin)]
    out = [(indent + comment(place), comp.origin)] if place else []
    out.append((f"{indent}{head} {{", comp.origin))
    for attr in attrs:
        origin = attr.origin or comp.origin
        if attr.note:
            out.append((f"{indent}{INDENT}{comment(attr.note)}", origin))
        out.append((f"{indent}{INDENT}{attr.text}", origin))
    out.append((f"{indent}}}", comp.origin))
    return out


# Characters no comment may hold (the grammar's COMMENT excludes them): C0 and C1 controls,
# DEL, the line and paragraph separators, the bidi overrides and isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def comment(text: str) -> str:
    """``# text``, with characters a comment cannot hold shown as escapes, no trailing space."""
    clean = _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return f"# {clean}".rstrip()


def quoted(value: str, limit: int = 60) -> str:
    """A value from the user's file for a comment: cut to ``limit`` characters."""
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 3] + "..."


# -- names -------------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_]([A-Za-z0-9_.\-]*[A-Za-z0-9_])?")
# Words the grammar reads specially where a name may stand: rule endpoints (internet, any),
# a requirement's tail (optional), listener targets (primary of, replicas of, need).
_RESERVED = frozenset({"internet", "any", "optional", "primary", "replica", "replicas", "need", "of"})


def valid_name(text: str) -> str:
    """``text`` as a name of the language: characters it cannot hold become ``-``; a name
    that starts with a digit (or ``-``/``.``) gets a leading ``_``; one that ends in ``-``
    or ``.`` a trailing ``_``; a reserved word a trailing ``_``."""
    name = re.sub(r"[^A-Za-z0-9_.\-]", "-", text) or "_"
    if not re.match(r"[A-Za-z_]", name):
        name = "_" + name
    if name[-1] in "-.":
        name += "_"
    if name in _RESERVED:
        name += "_"
    return name


class Names:
    """Unique, valid names in one namespace, handed out in a stable order."""

    def __init__(self, taken: Iterable[str] = ()):
        self.taken: set[str] = set(taken)

    def claim(self, wanted: str) -> str:
        """``wanted`` made valid, or with ``-2``, ``-3``... when that is taken."""
        base = valid_name(wanted)
        name, number = base, 2
        while name in self.taken:
            name = f"{base}-{number}"
            number += 1
        self.taken.add(name)
        return name

    def __contains__(self, name: str) -> bool:
        return name in self.taken


# -- what an importer gives ---------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    """One imported system: its topology text, where each line came from, and notes.

    ``sources`` are the files read (path -> text), in the order given; ``anchor`` is the
    file that results located nowhere in particular (a check proved for the whole system)
    are reported under; ``errors`` are YAML errors that stopped the import (then ``text`` is
    empty). ``uses`` are names the importer was told are used already (from the overlay).
    """

    kind: str  # "k8s" | "compose"
    text: str
    origins: tuple[Span, ...]
    notes: tuple[Result, ...]
    sources: dict[str, str]
    anchor: str
    errors: tuple[Result, ...] = ()
    components: dict[str, str] = field(default_factory=dict)  # name -> kind, of what it declares

    def origin(self, line: int) -> Span:
        """The YAML span line ``line`` (1-based) of :attr:`text` came from."""
        if 1 <= line <= len(self.origins):
            return self.origins[line - 1]
        return Span.start_of(self.anchor)


def declared_kinds(sections: Sequence[Sequence[Statement]]) -> dict[str, str]:
    """Every component's name and kind, cluster members included."""
    out: dict[str, str] = {}
    for section in sections:
        for statement in section:
            if isinstance(statement, Component):
                out[statement.name] = statement.kind
            elif isinstance(statement, Cluster):
                out.update((m.name, m.kind) for m in statement.members)
    return out


def stand_in_job(jobs: list, requirements: list, name: str, targets: Sequence[str], origin: Span, why: str) -> None:
    """A job standing for the clients (or the work) of what nothing is seen to use, and its
    requirement (added to ``jobs`` and ``requirements``): so its failures still stop a service."""
    jobs.append(Component("job", name, origin, comments=[why]))
    requirements.append(Plain(f"{name} uses {', '.join(targets)}", origin))


def note(message: str, span: Span, hint: str | None = None) -> Result:
    """A located note: something the importer could not map, or an assumption it made."""
    return Result(NOTE_ID, Status.REFUTED, Severity.NOTE, message, span, "import", hint=hint)

