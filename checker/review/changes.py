"""What a change did to the architecture: two versions of a file, compared check by check.

Findings (a counterexample of a result that is not proved, or such a result
itself when it has none) are matched across the versions by content, with the
line-independent fingerprint SARIF output carries
(:func:`checker.reporters.sarif.fingerprint_of`): a finding that only moved is
no change. What is left on either side is paired by what it is about, read
from the counterexample's fields, and described in the architecture's terms:

==========================================  ===================  ==============================================
evidence (fields)                           paired by            a change reads
==========================================  ===================  ==============================================
``failed``, ``stopped`` (available,         the failed units     a new single point of failure, smallest
no-spof, zone-redundancy, ...)                                   stopping set, zone or region whose loss stops
                                                                 a service, or services it now also stops; and
                                                                 the reverse
``component`` with ``packet`` or            the component        a new exposure path with its packet, a new
``address`` (private-web, private-db, ...)                       public address; closed ones
``writer``, ``target`` (write-to-primary)   writer and landing   writes that can now land off the primary,
                                                                 or with fewer failures; and the reverse
anything else (lints, later checks)         (not paired)         a new finding; a fixed one
==========================================  ===================  ==============================================

Besides findings: the ``margin`` of a result (no-spof: the size of the smallest
stopping set), an ``availability`` number (any result that carries
``"availability"``, with its ``"target"``), checks that could not be decided
(``unknown``), checks that run in one version only, suppressions that start or
stop accepting a finding, and, per file, added, removed and renamed files and
versions that do not parse.

Every change is ``worse``, ``better`` or ``changed`` (neither: a check that no
longer runs, a path that moved). Everything here is pure.
"""

from __future__ import annotations

import numbers
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence

from ..model import Span, Topology
from ..reporters.sarif import fingerprint_of
from ..results import MISSING, FileReport, Result, Severity, Status

WORSE, BETTER, CHANGED = "worse", "better", "changed"
EFFECTS = (WORSE, BETTER, CHANGED)

#: The pseudo check id of file-level changes (added, removed, renamed).
FILE = "file"


@dataclass(frozen=True)
class Change:
    """One thing a change did, for one check of one file."""

    effect: str  # WORSE | BETTER | CHANGED
    check: str  # the check id (FILE for file-level changes; a parse error's id for one)
    kind: str  # what changed: see spec/DIFF.md ("single-point", "margin", "exposure", ...)
    message: str  # one sentence in the architecture's terms
    severity: Severity
    services: tuple[str, ...] = ()  # services stopped (or no longer stopped)
    old: Any = None  # the evidence before (JSON): counterexample fields, a margin, ...
    new: Any = None  # the evidence after
    span: Span | None = None  # where in the new version (None: the file)
    fingerprint: str = ""  # a finding's fingerprint, or one for the change itself
    fails: bool = False  # whether it fails ``topocheck diff`` (see :class:`Gate`)


@dataclass(frozen=True)
class Version:
    """One checked version of a file."""

    path: str  # as shown
    report: FileReport
    topology: Topology | None  # None when the version does not parse
    default_k: int = 1  # the k of checks that take one and name none


@dataclass(frozen=True)
class FileDiff:
    """What changed in one file; ``status`` is modified, unchanged, added, removed or renamed."""

    key: str  # the path that paired the versions
    old_path: str | None
    new_path: str | None
    status: str
    changes: tuple[Change, ...] = ()
    topology: Topology | None = None  # the new version's, for diagrams

    @property
    def path(self) -> str:
        return self.new_path if self.new_path is not None else (self.old_path or self.key)


@dataclass(frozen=True)
class Diff:
    old_label: str  # what was compared: paths, or a git revision and "the working tree"
    new_label: str
    files: tuple[FileDiff, ...]

    @property
    def changes(self) -> list[Change]:
        return [c for f in self.files for c in f.changes]

    def counts(self) -> dict[str, int]:
        out = {effect: 0 for effect in EFFECTS}
        for change in self.changes:
            out[change.effect] += 1
        out["failing"] = sum(1 for c in self.changes if c.fails)
        return out

    @property
    def verdict(self) -> str:
        """``worse`` when anything got worse, else ``better``, ``changed`` or ``no change``."""
        effects = {c.effect for c in self.changes}
        for effect in EFFECTS:
            if effect in effects:
                return effect
        return "no change"

    @property
    def failing(self) -> bool:
        return any(c.fails for c in self.changes)


@dataclass(frozen=True)
class Gate:
    """Which worse changes fail ``topocheck diff``.

    By default, those of checks of severity ``error`` (as ``topocheck check``
    fails on errors only); ``fail_on`` names the checks that fail instead (any
    severity; ``all`` for every check), ``warn_only`` checks that never fail.
    """

    fail_on: frozenset[str] | None = None
    warn_only: frozenset[str] = frozenset()

    def fails(self, change: Change) -> bool:
        if change.effect != WORSE or change.check in self.warn_only:
            return False
        if self.fail_on is None:
            return change.severity is Severity.ERROR
        return "all" in self.fail_on or change.check in self.fail_on

    def apply(self, diff: Diff) -> Diff:
        files = tuple(replace(f, changes=tuple(replace(c, fails=self.fails(c)) for c in f.changes))
                      for f in diff.files)
        return replace(diff, files=files)


# -- comparing two versions of a file ---------------------------------------------------


def compare_versions(old: Version | None, new: Version | None, key: str, renamed: bool = False) -> FileDiff:
    """Everything that changed from ``old`` to ``new`` (either may be None: added, removed)."""
    if new is None:
        assert old is not None
        count = len(_items(old.report.results, key))
        went = f" ({count} finding{'s' if count != 1 else ''} went with it)" if count else ""
        change = _file_change(CHANGED, "file-removed", key, f"the file was removed{went}",
                              old={"path": old.path})
        return FileDiff(key, old.path, None, "removed", (change,))
    topology = new.topology
    status = "added" if old is None else "renamed" if renamed else "modified"
    changes: list[Change] = []
    if old is None:
        changes.append(_file_change(CHANGED, "file-added", key, "a new file", new={"path": new.path}))
    elif renamed:
        changes.extend(unchanged_file(key, old.path, new.path, renamed=True).changes)
    new_errors = _errors(new.report)
    old_errors = _errors(old.report) if old is not None else None
    if new_errors is not None:
        changes.extend(_parse_changes(old_errors, new_errors, key))
        return FileDiff(key, old.path if old else None, new.path, status, tuple(changes), topology)
    if old is not None and old_errors is not None:
        first = old_errors[0]
        changes.append(Change(BETTER, first.id, "parses", f"the file parses now (the old version did not: "
                              f"{_where(first)}{first.message})", first.severity,
                              old={"message": first.message}, fingerprint=_change_print(first.id, key, "parses")))
        old = None  # nothing to compare with: every finding of the new version is new
    changes.extend(_compare_checks(old, new, key))
    if not changes and old is not None:
        status = "unchanged"
    return FileDiff(key, old.path if old else None, new.path, status, tuple(changes), topology)


def unchanged_file(key: str, old_path: str, new_path: str, renamed: bool = False) -> FileDiff:
    """Identical text in both versions: nothing to check (a rename is still said)."""
    if not renamed:
        return FileDiff(key, old_path, new_path, "unchanged")
    change = _file_change(CHANGED, "file-renamed", key, f"renamed from {old_path}", old={"path": old_path},
                          new={"path": new_path})
    return FileDiff(key, old_path, new_path, "renamed", (change,))


def _file_change(effect: str, kind: str, key: str, message: str, old: Any = None, new: Any = None) -> Change:
    return Change(effect, FILE, kind, message, Severity.NOTE, old=old, new=new,
                  fingerprint=_change_print(FILE, key, kind))


def _change_print(check_id: str, key: str, kind: str, detail: Any = None) -> str:
    return fingerprint_of(check_id, key, {"change": kind, "detail": detail}, "")


def _errors(report: FileReport) -> list[Result] | None:
    """The errors that kept a version from being checked, or None when it was."""
    if report.skipped is None:
        return None
    return [r for r in report.results if r.status is not Status.PROVED] or list(report.results)


def _where(result: Result) -> str:
    return f"line {result.span.line}: " if result.span is not None else ""


def _parse_changes(old_errors: list[Result] | None, new_errors: list[Result], key: str) -> list[Change]:
    first = new_errors[0]
    text = f"{_where(first)}{first.message}"
    if old_errors is None:
        return [Change(WORSE, first.id, "does-not-parse", f"the new version does not parse: {text}",
                       first.severity, new={"message": first.message}, span=first.span,
                       fingerprint=_change_print(first.id, key, "does-not-parse", first.message))]
    before = sorted(fingerprint_of(r.id, key, None, r.message) for r in old_errors)
    after = sorted(fingerprint_of(r.id, key, None, r.message) for r in new_errors)
    if before == after:
        return []
    return [Change(CHANGED, first.id, "does-not-parse", f"neither version parses; now: {text}", first.severity,
                   old={"message": old_errors[0].message}, new={"message": first.message}, span=first.span,
                   fingerprint=_change_print(first.id, key, "does-not-parse", first.message))]


def _by_check(results: Iterable[Result]) -> dict[str, list[Result]]:
    out: dict[str, list[Result]] = {}
    for result in results:
        out.setdefault(result.id, []).append(result)
    return out


def _check_order() -> dict[str, int]:
    from ..checks import registry

    return {cid: i for i, cid in enumerate(registry())}


def _compare_checks(old: Version | None, new: Version, key: str) -> list[Change]:
    before = _by_check(old.report.results) if old is not None else {}
    after = _by_check(new.report.results)
    order = _check_order()
    ids = sorted(set(before) | set(after), key=lambda cid: (order.get(cid, len(order)), cid))
    changes: list[Change] = []
    for check_id in ids:
        if check_id not in after:
            changes.append(_check_presence(before[check_id], key, removed=True))
        elif check_id not in before and old is not None:
            changes.append(_check_presence(after[check_id], key, removed=False))
        else:
            changes.extend(_compare_check(before.get(check_id, []), after[check_id], old, new, key))
    return changes


def _aggregate(results: Sequence[Result]) -> str:
    statuses = {r.status for r in results}
    for status in (Status.REFUTED, Status.UNKNOWN):
        if status in statuses:
            return status.value
    return Status.PROVED.value


def _check_presence(results: list[Result], key: str, removed: bool) -> Change:
    first = results[0]
    status = _aggregate(results)
    said = status if status == Status.PROVED.value else f"{status}: {first.message}"
    message = f"no longer runs (it was {said})" if removed else f"now runs: {said}"
    evidence = {"status": status, "message": first.message}
    return Change(CHANGED, first.id, "check-removed" if removed else "check-added", message, first.severity,
                  old=evidence if removed else None, new=None if removed else evidence,
                  span=None if removed else first.span,
                  fingerprint=_change_print(first.id, key, "check-removed" if removed else "check-added"))


def _compare_check(before: list[Result], after: list[Result], old: Version | None, new: Version,
                   key: str) -> list[Change]:
    changes: list[Change] = []
    if _has_availability(before) and _has_availability(after):  # the number says it; not the scenarios
        availability = _availability_change(before, after, key)
        return [availability] if availability is not None else []
    if before and len(before) == 1 and len(after) == 1:
        margin = _margin_change(before[0], after[0], old, new, key)
        if margin is not None:
            changes.append(margin)
    changes.extend(_compare_items(_items(before, key), _items(after, key), key, new.topology,
                                  _one_set_trend(before, after, old, new)))
    return changes


# -- result-level numbers ------------------------------------------------------------------


def _has_availability(results: Sequence[Result]) -> bool:
    return any(isinstance(r.extra.get("availability"), numbers.Real) for r in results)


def _percent(value: Any) -> str:
    return f"{float(value) * 100:.10g}%"


def _availability_change(before: list[Result], after: list[Result], key: str) -> Change | None:
    """``availability`` (or any result carrying the number): the number and its target."""
    old_result = next(r for r in before if isinstance(r.extra.get("availability"), numbers.Real))
    new_result = next(r for r in after if isinstance(r.extra.get("availability"), numbers.Real))
    a, b = old_result.extra["availability"], new_result.extra["availability"]
    old_target, target = old_result.extra.get("target"), new_result.extra.get("target")
    evidence_old = {"availability": float(a), "target": _number(old_target)}
    evidence_new = {"availability": float(b), "target": _number(target)}
    fingerprint = _change_print(new_result.id, key, "availability")
    if a == b:
        if old_target == target or not isinstance(target, numbers.Real) or not isinstance(old_target, numbers.Real):
            return None
        return Change(CHANGED, new_result.id, "availability",
                      f"target {_percent(old_target)} -> {_percent(target)} (availability {_percent(b)})",
                      new_result.severity, old=evidence_old, new=evidence_new, span=new_result.span,
                      fingerprint=fingerprint)
    effect = WORSE if b < a else BETTER
    message = f"availability {_percent(a)} -> {_percent(b)}"
    if isinstance(target, numbers.Real):
        message += f" (target {_percent(target)})"
        if b < target <= a:
            message += ": now below the target"
        elif a < target <= b:
            message += ": now meets the target"
    return Change(effect, new_result.id, "availability", message, new_result.severity,
                  old=evidence_old, new=evidence_new, span=new_result.span, fingerprint=fingerprint)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, numbers.Real) else None


def _k_of(result: Result, version: Version | None) -> int:
    value = result.extra.get("params", {}).get("k")
    try:
        return int(value) if value is not None else (version.default_k if version else 1)
    except ValueError:
        return 1


def _margin_change(before: Result, after: Result, old: Version | None, new: Version, key: str) -> Change | None:
    """no-spof's margin (the size of the smallest stopping set; None: more than k+1)."""
    if before.margin is MISSING or after.margin is MISSING:
        return None
    if Status.UNKNOWN in (before.status, after.status):
        return None
    a, b = before.margin, after.margin
    if a == b:
        return None
    k_old, k_new = _k_of(before, old), _k_of(after, new)

    def shown(margin: int | None, k: int) -> str:
        return str(margin) if margin is not None else f"more than {k + 1}"

    worse = b is not None and (a is None or b < a)
    text = f"margin {shown(a, k_old)} -> {shown(b, k_new)}: "
    if worse:
        assert b is not None
        text += ("a service is down with nothing failed" if b == 0 else
                 f"failing {b} host{'s' if b != 1 else ''} can now stop a service")
    else:
        text += f"it now takes {shown(b, k_new)} failed hosts to stop a service"
    stopped = after if worse else before
    services = dict.fromkeys(s for cx in stopped.counterexamples for s in cx.fields.get("stopped", ()))
    return Change(WORSE if worse else BETTER, after.id, "margin", text, after.severity, tuple(services),
                  old={"margin": a}, new={"margin": b}, span=after.span,
                  fingerprint=_change_print(after.id, key, "margin"))


def _one_set_trend(before: list[Result], after: list[Result], old: Version | None, new: Version) -> str | None:
    """For a check that shows one smallest stopping set of several (no-spof with k>1), how its
    margin moved: ``worse``, ``better`` or ``equal``; None when it lists every set (k=1) or
    there is no margin to go by. Only then can a set that is no longer shown be judged."""
    if len(before) != 1 or len(after) != 1:
        return None
    a, b = before[0], after[0]
    if a.margin is MISSING or b.margin is MISSING or Status.UNKNOWN in (a.status, b.status):
        return None
    if _k_of(a, old) == 1 and _k_of(b, new) == 1:
        return None
    infinity = float("inf")
    x = a.margin if a.margin is not None else infinity
    y = b.margin if b.margin is not None else infinity
    return "equal" if x == y else WORSE if y < x else BETTER


# -- findings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One finding: a counterexample (or a result without one) and its fingerprint."""

    result: Result
    fields: dict[str, Any] | None
    fingerprint: str
    accepted: str | None = None  # the reason, when a suppression accepts it
    only: bool = True  # the result's only finding

    @property
    def family(self) -> str:
        f = self.fields
        if f is None:
            return "undecided" if self.result.status is Status.UNKNOWN else "plain"
        if "failed" in f and "stopped" in f:
            return "failure"
        if "component" in f and ("packet" in f or "address" in f):
            return "exposure"
        if "writer" in f and "target" in f:
            return "write"
        return "plain"

    @property
    def pairing(self) -> tuple | None:
        f = self.fields or {}
        family = self.family
        if family == "failure":
            return (family, tuple(f["failed"]))
        if family == "exposure":
            return (family, f["component"])
        if family == "write":
            return (family, f["writer"], f["target"])
        return None


def _items(results: Iterable[Result], key: str) -> list[_Item]:
    from ..baseline import result_fingerprints

    items: list[_Item] = []
    for result in results:
        if result.status is Status.PROVED:
            continue
        shown, accepted = result_fingerprints(key, result)
        count = len(shown) + len(accepted)
        if result.counterexamples:
            items.extend(_Item(result, dict(cx.fields), fp, only=count == 1)
                         for cx, fp in zip(result.counterexamples, shown))
        elif not accepted:
            items.append(_Item(result, None, shown[0]))
        for entry, fp in zip(result.extra.get("suppressed", ()), accepted):
            fields = dict(entry.get("counterexample") or {}) or None
            items.append(_Item(result, fields, fp, accepted=str(entry.get("reason", "")), only=count == 1))
    return items


def _compare_items(before: list[_Item], after: list[_Item], key: str, topology: Topology | None,
                   one_set: str | None) -> list[Change]:
    pool: dict[str, list[_Item]] = defaultdict(list)
    for item in before:
        pool[item.fingerprint].append(item)
    changes: list[Change] = []
    fresh: list[_Item] = []
    for item in after:  # 1. the same finding, wherever its lines went
        if pool[item.fingerprint]:
            previous = pool[item.fingerprint].pop(0)
            changes.extend(_acceptance(previous, item, topology))
        else:
            fresh.append(item)
    gone = [item for item in before if item in pool[item.fingerprint] and _take(pool, item)]
    by_subject: dict[tuple, list[_Item]] = defaultdict(list)
    for item in gone:  # 2. the same subject, different evidence
        if item.pairing is not None:
            by_subject[item.pairing].append(item)
    appeared: list[_Item] = []
    paired: set[int] = set()
    for item in fresh:
        subject = item.pairing
        if subject is not None and by_subject.get(subject):
            previous = by_subject[subject].pop(0)
            paired.add(id(previous))
            changes.extend(_acceptance(previous, item, topology))
            changes.extend(_evolved(previous, item, topology))
        else:
            appeared.append(item)
    disappeared = [item for item in gone if id(item) not in paired]
    if one_set is not None:  # 3. one smallest stopping set shown of several: the margin decides
        sets_new = [i for i in appeared if i.family == "failure" and i.fields["failed"]]
        sets_old = [i for i in disappeared if i.family == "failure" and i.fields["failed"]]
        if one_set == "equal":  # another set of the same size: no change in how much it takes
            for previous, item in zip(sets_old, sets_new):
                appeared.remove(item)
                disappeared.remove(previous)
                changes.append(_change(CHANGED, item, "stopping-set",
                                       f"the smallest stopping set shown is now {_units(item.fields['failed'])} "
                                       f"(was {_units(previous.fields['failed'])}); its size is unchanged",
                                       topology, previous))
        elif one_set == WORSE:  # the old set is superseded by a smaller one, not gone
            disappeared = [i for i in disappeared if i not in sets_old]
        else:  # a larger set shown now stopped before too (it contains the old, smaller one)
            appeared = [i for i in appeared if i not in sets_new]
    changes.extend(_appeared(item, topology) for item in appeared)
    changes.extend(_disappeared(item, topology) for item in disappeared)
    return changes


def _take(pool: dict[str, list[_Item]], item: _Item) -> bool:
    pool[item.fingerprint].remove(item)
    return True


def _change(effect: str, item: _Item, kind: str, message: str, topology: Topology | None,
            previous: _Item | None = None, services: Sequence[str] | None = None) -> Change:
    """A change about ``item`` (the new finding; the old one for ``better`` without ``previous``)."""
    old_item = previous if previous is not None else (item if effect == BETTER else None)
    new_item = item if not (effect == BETTER and previous is None) else None
    fields = item.fields or {}
    if services is None:
        services = fields.get("stopped", ()) if item.family == "failure" else ()
    span = _locate(topology, fields) if topology is not None else None
    if span is None and new_item is not None:
        span = new_item.result.span
    return Change(effect, item.result.id, kind, message, item.result.severity, tuple(services),
                  old=_evidence(old_item), new=_evidence(new_item), span=span, fingerprint=item.fingerprint)


def _evidence(item: _Item | None) -> Any:
    if item is None:
        return None
    evidence = dict(item.fields) if item.fields is not None else {"message": item.result.message}
    if item.accepted is not None:
        evidence["accepted"] = item.accepted
    return evidence


def _locate(topology: Topology, fields: dict[str, Any]) -> Span | None:
    """The declaration, in the new version, of what a finding names first."""
    names = list(fields.get("failed", ())) + [fields.get(k) for k in ("component", "writer", "replica", "cluster")]
    for label in names:
        if not isinstance(label, str):
            continue
        if label.startswith("zone:") and label[5:] in topology.zones:
            return topology.zones[label[5:]].span
        if label.startswith("region:"):
            span = topology.region_spans.get(label[7:])
        elif label.startswith("host:"):
            span = topology.host_spans.get(label[5:])
        else:
            span = topology.span_of(label)
        if span is not None:
            return span
    return None


# -- describing findings ------------------------------------------------------------------------


def _quote(names: Sequence[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    if len(quoted) <= 1:
        return "".join(quoted) or "nothing"
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _unit(label: str) -> str:
    for prefix, word in (("zone:", "zone"), ("region:", "region"), ("host:", "host")):
        if label.startswith(prefix):
            return f"{word} '{label[len(prefix):]}'"
    return f"'{label}'"


def _units(labels: Sequence[str]) -> str:
    shown = [_unit(label) for label in labels]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _failure_kind(failed: Sequence[str]) -> str:
    if not failed:
        return "down"
    if len(failed) > 1:
        return "stopping-set"
    label = failed[0]
    return "zone" if label.startswith("zone:") else "region" if label.startswith("region:") else "single-point"


def _is(names: Sequence[str]) -> str:
    return "is" if len(names) == 1 else "are"


def _packet(fields: dict[str, Any]) -> str:
    p = fields.get("packet") or {}
    return f"a packet from {p.get('src')} to {p.get('dst')} {p.get('protocol')}/{p.get('port')}"


def _path(fields: dict[str, Any]) -> str:
    return " -> ".join(str(hop) for hop in fields.get("path", ()))


def _scenario(fields: dict[str, Any]) -> str:
    failed = list(fields.get("failed", ()))
    if not failed:
        return "with nothing failed"
    return f"when {_units(failed)} fail{'s' if len(failed) == 1 else ''}"


def _plain(item: _Item) -> str:
    """A finding without a description of its own: the result's message (and its evidence)."""
    if item.fields is None or item.only:
        return item.result.message
    from ..reporters.text import describe_fields

    shown = {k: v for k, v in item.fields.items() if k != "explanation"}
    return f"{item.result.message} [{'; '.join(describe_fields(shown))}]"


def _sentences(item: _Item) -> tuple[str, str, str]:
    """A finding's kind of change, and how its appearing and its going read."""
    f = item.fields or {}
    family = item.family
    if family == "failure":
        failed, stopped = list(f["failed"]), list(f["stopped"])
        kind, units, services = _failure_kind(failed), _units(failed) if failed else "", _quote(stopped)
        if kind == "down":
            came = f"{services} {_is(stopped)} now down with nothing failed"
            if f.get("explanation") and item.result.id == "available":  # the others say "see available"
                came += f": {f['explanation'][0]}"
            return kind, came, f"{services} {_is(stopped)} no longer down with nothing failed"
        if kind in ("zone", "region"):
            return kind, f"losing {units} now stops {services}", f"losing {units} no longer stops {services}"
        if kind == "single-point":
            return (kind, f"new single point of failure: {units} stops {services}",
                    f"{units} is no longer a single point of failure (it stopped {services})")
        return (kind, f"new smallest stopping set: failing {units} ({len(failed)} hosts) stops {services}",
                f"failing {units} no longer stops {services}")
    if family == "exposure":
        component = f["component"]
        if "address" in f:
            return ("public-address", f"'{component}' now has the public address {f['address']}",
                    f"'{component}' no longer has a public address (it had {f['address']})")
        return ("exposure", f"new exposure: {_packet(f)} reaches '{component}' along {_path(f)}",
                f"exposure closed: the internet no longer reaches '{component}' "
                f"(it did along {_path(f)}, e.g. {_packet(f)})")
    if family == "write":
        primary = f"its current primary is '{f['primary']}'" if f.get("primary") else "there is no current primary"
        return ("write", f"writes from '{f['writer']}' can now land on '{f['target']}' {_scenario(f)} "
                         f"({_path(f)}); {primary}",
                f"writes from '{f['writer']}' no longer land on '{f['target']}' (they did {_scenario(f)})")
    if family == "undecided":
        message = item.result.message
        return "undecided", f"could not be decided: {message}", f"decided now (it could not be decided: {message})"
    return "finding", f"new: {_plain(item)}", f"fixed: {_plain(item)}"


def _appeared(item: _Item, topology: Topology | None) -> Change:
    """A finding of the new version only: worse (or changed, when a suppression accepts it)."""
    kind, text, _ = _sentences(item)
    if item.accepted is not None:
        return _change(CHANGED, item, kind, f"{text} (accepted by a suppression: {item.accepted})", topology)
    return _change(WORSE, item, kind, text, topology)


def _disappeared(item: _Item, topology: Topology | None) -> Change:
    """A finding of the old version only: better."""
    kind, _, text = _sentences(item)
    if item.accepted is not None:
        text += f" (it was accepted: {item.accepted})"
    return _change(BETTER, item, kind, text, topology)


def _acceptance(previous: _Item, item: _Item, topology: Topology | None) -> list[Change]:
    """A suppression that starts or stops accepting the same finding."""
    if previous.accepted == item.accepted or (previous.accepted is not None and item.accepted is not None):
        return []
    kind = "accepted"
    if item.accepted is not None:
        return [_change(CHANGED, item, kind, f"now accepted by a suppression ({item.accepted}): {_plain(item)}",
                        topology, previous)]
    return [_change(WORSE, item, kind, f"no longer accepted by a suppression (it was: {previous.accepted}): "
                                       f"{_plain(item)}", topology, previous)]


def _evolved(previous: _Item, item: _Item, topology: Topology | None) -> list[Change]:
    """The same subject (failed units, component, writer and landing) with other evidence."""
    a, b = previous.fields or {}, item.fields or {}
    family = item.family
    if family == "failure":
        failed = list(b["failed"])
        kind = _failure_kind(failed)
        subject = {"down": "", "zone": f"losing {_units(failed)}", "region": f"losing {_units(failed)}",
                   "single-point": _units(failed), "stopping-set": f"failing {_units(failed)}"}[kind]
        added = [s for s in b["stopped"] if s not in a["stopped"]]
        removed = [s for s in a["stopped"] if s not in b["stopped"]]
        out = []
        if added:
            text = (f"{_quote(added)} {_is(added)} now down with nothing failed too" if kind == "down"
                    else f"{subject} now also stops {_quote(added)}")
            out.append(_change(WORSE, item, kind, text, topology, previous, services=added))
        if removed:
            still = f" (it still stops {_quote(b['stopped'])})" if kind != "down" else ""
            text = (f"{_quote(removed)} {_is(removed)} no longer down with nothing failed" if kind == "down"
                    else f"{subject} no longer stops {_quote(removed)}{still}")
            out.append(_change(BETTER, item, kind, text, topology, previous, services=removed))
        return out
    if family == "exposure":
        component = b["component"]
        if "address" in a and "address" in b:
            return [_change(CHANGED, item, "public-address", f"'{component}' still has a public address, now "
                                                           f"{b['address']} (was {a['address']})", topology, previous)]
        if "packet" in a and "packet" in b:
            if a.get("path") == b.get("path"):
                return []  # the same path; another example packet is no change
            return [_change(CHANGED, item, "exposure", f"'{component}' is still reachable from the internet, "
                                                     f"now along {_path(b)} (was {_path(a)})", topology, previous)]
        now = f"the public address {b['address']}" if "address" in b else f"{_packet(b)} along {_path(b)}"
        was = f"the public address {a['address']}" if "address" in a else f"{_packet(a)} along {_path(a)}"
        return [_change(CHANGED, item, "exposure", f"'{component}' is still exposed: now {now} (was {was})",
                        topology, previous)]
    # writes: the same writer and landing; the fewer failures it takes, the worse
    before, after = len(a.get("failed", ())), len(b.get("failed", ()))
    if after == before:
        return []
    effect = WORSE if after < before else BETTER
    text = (f"writes from '{b['writer']}' now land on '{b['target']}' {_scenario(b)} (before: {_scenario(a)})"
            if effect == WORSE else
            f"writes from '{b['writer']}' land on '{b['target']}' only {_scenario(b)} now (before: {_scenario(a)})")
    return [_change(effect, item, "write", text, topology, previous)]
