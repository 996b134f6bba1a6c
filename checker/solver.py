"""The one place that asks Z3 for a verdict.

Every query is posed as "is there a counterexample?": ``sat`` means the
property is refuted (and the model is the counterexample), ``unsat`` means it is
proved, and anything else (a timeout, a resource limit, an incomplete theory) is
``unknown`` with Z3's reason. Nothing else in topocheck calls ``check()``; an
``unknown`` is never turned into ``proved``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .results import Status


@dataclass(frozen=True)
class SolverVerdict:
    status: Status  # REFUTED (sat: a counterexample exists), PROVED (unsat), UNKNOWN
    model: Any = None  # the z3 model when REFUTED
    reason: str | None = None  # why the verdict is UNKNOWN


def search_counterexample(solver: Any, timeout: float, assumptions: tuple = (), model: bool = True) -> SolverVerdict:
    """Run ``solver`` (a ``z3.Solver`` or ``z3.Optimize`` holding the negated
    property, under ``assumptions`` when given) for at most ``timeout`` seconds and map its
    answer to a verdict (with the counterexample model unless ``model`` is false)."""
    import z3

    solver.set("timeout", max(1, int(timeout * 1000)))
    answer = solver.check(*assumptions)
    if answer == z3.sat:
        return SolverVerdict(Status.REFUTED, solver.model() if model else None)
    if answer == z3.unsat:
        return SolverVerdict(Status.PROVED)
    reason = solver.reason_unknown() or "the solver gave up"
    if "timeout" in reason or "canceled" in reason:
        reason = f"the solver did not finish within {timeout:g} s"
    return SolverVerdict(Status.UNKNOWN, reason=reason)
