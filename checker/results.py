"""Results: what checks yield and reporters format.

A result is one verdict of one check on one file. Counterexamples are small
frozen records whose ``to_json`` gives exactly the contract's fields
(LANGUAGE.md section 6); their ``related`` and ``flow`` carry source spans for
reporters that draw locations (SARIF, diagrams) and never appear in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

from .model import Span


class Status(str, Enum):
    PROVED = "proved"
    REFUTED = "refuted"
    UNKNOWN = "unknown"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


def _by_fields(obj) -> tuple:
    """Pickling of the slotted records below: the class and its fields, rebuilt by
    ``__init__`` (every Python from 3.10.0, whatever its slotted-dataclass pickling)."""
    return type(obj), tuple(getattr(obj, f.name) for f in fields(obj))


# The records are slotted: a file of 100k components can have 100k results, and a
# per-instance dict would be most of their memory.
@dataclass(frozen=True, slots=True)
class Hop:
    """One labelled source location: a failed unit's declaration, or a hop of a path."""

    label: str
    span: Span | None

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class Counterexample:
    """A refutation's evidence. ``fields`` is the contract's JSON object."""

    fields: dict[str, Any]
    related: tuple[Hop, ...] = ()
    flow: tuple[Hop, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return self.fields

    @property
    def failed_units(self) -> tuple[str, ...]:
        return tuple(self.fields.get("failed", ()))

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.fields.get("path", ()))

    __reduce__ = _by_fields


class _Missing:
    """The "no margin" marker; pickles by name, so it stays itself across processes (``-j``)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class _NoExtra(dict):
    """The ``extra`` of a result that has none: one shared empty dict that refuses
    changes (a new dict per result was 6 MB of 100k shadowed rules' results)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("a result's extra fields are fixed when it is made")

    __setitem__ = __delitem__ = __ior__ = update = setdefault = pop = popitem = clear = _refuse  # type: ignore

    def __reduce__(self) -> str:
        return "NO_EXTRA"


NO_EXTRA = _NoExtra()


@dataclass(frozen=True, slots=True)
class Result:
    id: str
    status: Status
    severity: Severity
    message: str
    span: Span | None
    method: str
    counterexamples: tuple[Counterexample, ...] = ()
    margin: Any = MISSING  # no-spof only: int or None
    hint: str | None = None  # a how-to-fix line for the text reporter
    extra: dict[str, Any] = field(default_factory=lambda: NO_EXTRA)  # one shared empty dict unless given

    __reduce__ = _by_fields

    @property
    def failing(self) -> bool:
        """True when this result fails a run: an error that is refuted or unknown."""
        return self.severity is Severity.ERROR and self.status is not Status.PROVED

    def to_json(self) -> dict[str, Any]:
        span = self.span
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status.value,
            "severity": self.severity.value,
            "message": self.message,
            "location": (span.to_json() if span else {"line": 1, "column": 1, "end_line": 1, "end_column": 1}),
            "method": self.method,
            "counterexamples": [c.to_json() for c in self.counterexamples],
            "hint": self.hint,
        }
        if self.margin is not MISSING:
            out["margin"] = self.margin
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class FileReport:
    """Everything checked in one file, in a stable order."""

    path: str
    results: tuple[Result, ...]
    source: str | None = None  # the text, for reporters that quote lines
    skipped: str | None = None  # why checks did not run (errors in the file)
    absent: tuple[dict[str, Any], ...] = ()  # findings of a baseline gone since (checker.baseline)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for r in self.results:
            out[r.status.value] += 1
        return out
