"""Counterexamples of the failure checks, replayed through the reference evaluator.

Both ``no-spof`` and ``zone-redundancy`` report a set of failed units, the
services it stops and why. Every such set is replayed through
:class:`checker.evaluator.Evaluator` first: a set the evaluator does not
confirm is a bug in an engine (:class:`checker.context.InternalError`), never
output.
"""

from __future__ import annotations

from typing import Iterable

from ..context import InternalError
from ..evaluator import Evaluator
from ..model import FailureUnit, Span, Topology
from ..results import Counterexample, Hop

ALREADY_DOWN = "already down with nothing failed (see available)"


def stopping_counterexample(topology: Topology, evaluator: Evaluator, units: Iterable[FailureUnit],
                            check_id: str, explain_at_most: int | None = None,
                            claimed: Iterable[str] | None = None) -> Counterexample:
    """The contract's ``{"failed", "stopped", "explanation"}`` for one stopping set;
    with ``explain_at_most``, only that many stopped services are explained (a line
    says how many more there are).

    ``claimed``: the services an engine found stopped; the reference evaluator then
    evaluates only what they depend on (:meth:`~checker.evaluator.Evaluator.cone`)
    and must find every one of them down. Without it, every service is evaluated.
    """
    ordered = sorted(set(units), key=lambda u: u.label)
    failed = frozenset(ordered)
    claim = None if claimed is None else sorted(set(claimed))
    stopped = evaluator.stopped(failed, claim)
    if not stopped or (claim is not None and stopped != claim):
        labels = ", ".join(u.label for u in ordered) or "nothing"
        what = "a service" if not claim else ", ".join(sorted(set(claim) - set(stopped))) or "a service"
        raise InternalError(f"{check_id}: failing {labels} does not stop {what} in the reference evaluator")
    labels = [u.label for u in ordered]
    lead = f"failing {', '.join(labels)}" if labels else ALREADY_DOWN
    explanation: list[str] = []
    explained = stopped if explain_at_most is None else stopped[:explain_at_most]
    for service in explained:
        reasons = evaluator.explain(service, failed)
        if not reasons:
            explanation.append(f"{lead} stops {service}" if labels else f"{service} is {lead}")
        for reason in reasons:
            if labels:
                explanation.append(f"{lead} stops {service}: {reason.text}")
            else:
                explanation.append(f"{service} is {lead}: {reason.text}")
    if not explained:
        explanation.append(f"{lead} stops {', '.join(stopped)} (replayed; the step-by-step explanation is "
                           "given for the first counterexamples only)")
    elif len(explained) < len(stopped):
        more = len(stopped) - len(explained)
        explanation.append(f"{lead} stops {more} more service{'s' if more > 1 else ''} (not explained here)")
    related = tuple(Hop(u.label, topology.unit_span(u)) for u in ordered)
    return Counterexample({"failed": labels, "stopped": stopped, "explanation": explanation}, related=related)


def unit_location(topology: Topology, unit: FailureUnit) -> Span | None:
    """Where to point for a unit: its declaration; for the implicit ``(unzoned)`` zone or
    ``(unregioned)`` region, the first component placed there."""
    span = topology.unit_span(unit)
    if span is not None:
        return span
    for name in topology.components:
        units = topology.units_of(name)
        if unit in units:
            return topology.components[name].name_span
    return None


def quote(names: Iterable[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)
