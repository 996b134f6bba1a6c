"""What ``private-web``, ``private-service`` and ``private-db`` share: one verdict on a
set of components, from the internet-path engine (:mod:`checker.engines.packets_paths`)."""

from __future__ import annotations

from typing import Iterator

from ..context import Context
from ..model import CheckRequest
from ..results import Result, Severity, Status


def exposure_result(check_id: str, severity: Severity, request: CheckRequest, context: Context,
                    goals: list[str], through_lb_allowed: bool, proved: str, hint: str) -> Iterator[Result]:
    """Refuted with one counterexample per exposed goal (a public address, or a packet
    and its path); unknown when an internet entry could not be decided; else proved,
    with ``proved`` (formatted with ``count``) as the message."""
    from ..engines.packets_paths import exposure_findings

    findings, unknown = exposure_findings(context, goals, through_lb_allowed)
    if findings:
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        yield Result(check_id, Status.REFUTED, severity, findings[0].text + more, findings[0].span, "z3",
                     tuple(f.counterexample for f in findings), hint=hint)
        return
    if unknown:
        yield Result(check_id, Status.UNKNOWN, severity, f"could not decide every internet entry: {unknown[0]}",
                     request.span, "z3")
        return
    yield Result(check_id, Status.PROVED, severity, proved.format(count=len(goals)), request.span, "z3")
