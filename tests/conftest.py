"""Shared test set-up: hypothesis profiles and paths."""

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
CASES = Path(__file__).resolve().parent / "cases"
SHARED = ROOT.parent / "shared"

# "ci" keeps the suite fast; "long" is for local fuzzing campaigns:
#   HYPOTHESIS_PROFILE=long python -m pytest tests
settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# A fresh machine with nothing but Python runs the suite green: a test that needs a
# system program or a file from outside the repository skips, naming what it needs.
# .ci/run sets TOPOCHECK_TEST_EVERYTHING=1, which turns each such skip into a failure,
# so CI cannot go green by skipping.
EVERYTHING = os.environ.get("TOPOCHECK_TEST_EVERYTHING") == "1"


def missing(reason: str) -> None:
    """Skip the test for lack of something outside the repository (fail under .ci/run)."""
    if EVERYTHING:
        pytest.fail(f"{reason} (TOPOCHECK_TEST_EVERYTHING=1: nothing may be skipped)")
    pytest.skip(reason)


def require_program(name: str, package: str) -> str:
    """The path of a system program on PATH; else skip, naming the package that brings it."""
    found = shutil.which(name)
    if not found:
        missing(f"needs the '{name}' program (apt-get install {package}; .ci/run installs it)")
    return found  # type: ignore[return-value]


def require_shared(relative: str) -> Path:
    """A file of ../shared beside the repository (the contract's schema, the corpus); else skip."""
    path = SHARED / relative
    if not path.exists():
        missing(f"needs ../shared/{relative} beside the repository (CI has it)")
    return path
