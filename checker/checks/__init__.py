"""The checks. Each module here is one check: its docstring is its documentation
(``topocheck explain ID`` and ``spec/CHECKS.md`` come from it) and it defines

* ``ID``: the check id; ``SEVERITY``: the severity of its findings;
* ``ORDER``: where its results come in a file's report;
* ``DEFAULT``: whether it runs when a file names no checks; ``ALWAYS``: a lint
  that runs whatever the file names (``available`` and lints);
* ``ENGINES``: the keys of the engine caches (``context.cache``) its run
  reads, directly or through an engine; a run drops each after the last
  check that names it (:func:`checker.api.check_topology`), so a file's peak
  memory is not every engine's structures at once. A cache no check names
  lives for the whole file; :data:`checker.context.ANSWERS_KEY` names the
  policy's memo of yes/no answers;
* ``RUN_ORDER`` (optional): where it runs, among the others' ``ORDER``, when
  that is not where it is reported (:func:`checker.api.execution_order`);
* ``PARAMS``: ``{key: validator}`` for ``check ID key=value``; a validator
  returns an error message or None; the key ``_required`` (a tuple of keys,
  no validator) lists the parameters a ``check`` line must give;
* ``run(topology, request, context)``: yields :class:`~checker.results.Result`.

Modules are found by listing this package, so adding a check is adding a file.
Checks import heavy solvers (Z3, networkx) inside ``run``, never at import time.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Callable, Mapping

from ..results import Severity

Validator = Callable[[str], "str | None"]


@dataclass(frozen=True)
class CheckInfo:
    id: str
    severity: Severity
    order: int
    default: bool
    always: bool
    params: Mapping[str, Validator]
    module: ModuleType

    @property
    def doc(self) -> str:
        return (self.module.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.doc.split("\n", 1)[0].strip()


@lru_cache(maxsize=1)
def registry() -> dict[str, CheckInfo]:
    """Every check, by id, in report order."""
    found: list[CheckInfo] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if not hasattr(module, "ID"):
            continue
        found.append(
            CheckInfo(
                id=module.ID,
                severity=module.SEVERITY,
                order=module.ORDER,
                default=module.DEFAULT,
                always=getattr(module, "ALWAYS", False),
                params=getattr(module, "PARAMS", {}),
                module=module,
            )
        )
    found.sort(key=lambda c: (c.order, c.id))
    return {c.id: c for c in found}


def known_params() -> dict[str, Mapping[str, Validator]]:
    """Every check id a file may name, with its parameters: the contract's checks
    (LANGUAGE.md section 4) and every registered one."""
    params: dict[str, Mapping[str, Validator]] = {
        "available": {},
        "no-spof": {"k": positive_int},
        "zone-redundancy": {"level": one_of("zone", "region")},
        "private-web": {},
        "private-service": {},
        "private-db": {},
        "write-to-primary": {"k": positive_int},
    }
    params.update({cid: info.params for cid, info in registry().items()})
    return params


def positive_int(value: str) -> str | None:
    """Validator for ``k=N``: a whole number of at least 1."""
    if not value.isdigit() or int(value) < 1:
        return "expected a whole number of at least 1"
    return None


def percentage(value: str) -> str | None:
    """Validator for ``target=99.95``: a percentage strictly between 0 and 100."""
    from ..build import parse_percentage

    problem = parse_percentage(value)
    return problem if isinstance(problem, str) else None


def one_of(*choices: str) -> Validator:
    def validate(value: str) -> str | None:
        if value not in choices:
            return f"expected one of {', '.join(choices)}"
        return None

    return validate
