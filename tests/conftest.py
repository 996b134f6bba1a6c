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


def examples(count: int) -> int:
    """A test's own number of examples under the "ci" profile; at least the profile's
    under another (a fixed ``max_examples`` would otherwise cap a long campaign)."""
    return max(count, settings().max_examples)


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


# The contract's example (LANGUAGE.md section 1), its cluster members in blocks: the base of
# the one-finding-per-mistake variants and of the unclosed-brace tests.
REPLICATED = """\
topology "web tier behind a load balancer, replicated database"
zone az-a region seoul
zone az-b region seoul
dns www.example.com { managed; answer lb1 }
lb lb1 {
  managed
  address 203.0.113.10
  address 10.0.0.10
  listen tcp/443 -> web1, web2 tcp/8080
}
web web1 zone az-a address 10.0.1.11 listen tcp/8080
web web2 zone az-b address 10.0.2.11 listen tcp/8080
cluster orders {
  failover auto
  db db1 { zone az-a; address 10.0.3.10; listen tcp/5432; primary }
  db db2 { zone az-b; address 10.0.4.10; listen tcp/5432; replica }
  db db3 { zone az-b; address 10.0.4.11; listen tcp/5432; replica of db2 }
}
web1, web2 writes orders
web1, web2 reads orders
allow internet -> lb1 tcp/443
allow lb1 -> web1, web2 tcp/8080
allow web1, web2 -> orders tcp/5432
allow orders -> orders tcp/5432
check no-spof
check zone-redundancy
"""
