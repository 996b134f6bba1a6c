"""Shared test set-up: hypothesis profiles and paths."""

import os
from pathlib import Path

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
