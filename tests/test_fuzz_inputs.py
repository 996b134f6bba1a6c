"""Fuzzing the whole pipeline with hostile input: random bytes, random text and
mutations of every model under ``models/``.

Properties, for every input:

* no traceback and no hang: the CLI (``checker.cli.main``) returns 0 or 1 and
  writes nothing that looks like a Python traceback; the API returns a report;
  every example runs under a wall-clock watchdog;
* every error result is located inside the file (line and column exist);
* the output is deterministic: checking the same bytes twice gives the same bytes.

Example counts follow the hypothesis profile (tests/conftest.py): "ci" by
default, ``HYPOTHESIS_PROFILE=long`` for local campaigns.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.api import check_text
from checker.cli import main
from checker.limits import deadline
from tests.conftest import MODELS
from tests.strategies import mutated

WATCHDOG_SECONDS = 60
MODEL_FILES = sorted(MODELS.rglob("*.topo"))


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with deadline(WATCHDOG_SECONDS), redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_located(data: bytes | str, report_json: dict) -> None:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    n_lines = text.count("\n") + 1
    for result in report_json["files"][0]["results"]:
        location = result["location"]
        assert 1 <= location["line"] <= n_lines, result
        assert location["column"] >= 1, result
        assert (location["end_line"], location["end_column"]) >= (location["line"], location["column"]), result


def check_bytes(tmp_path: Path, data: bytes) -> None:
    """The properties of the module docstring, for one input."""
    path = tmp_path / "fuzz.topo"
    path.write_bytes(data)
    code, out, err = run_cli(["check", "--format", "json", str(path)])
    assert code in (0, 1), (code, err)
    assert "Traceback" not in out + err and "internal error" not in err, err
    report = json.loads(out)
    assert_located(data, report)
    again = run_cli(["check", "--format", "json", str(path)])
    assert again == (code, out, err)
    text_code, text_out, text_err = run_cli(["check", str(path)])
    assert text_code == code and "Traceback" not in text_out + text_err


def check_api(text: str) -> None:
    with deadline(WATCHDOG_SECONDS):
        report = check_text(text, "fuzz.topo")
    for result in report.results:
        if result.id in ("syntax", "undefined-name", "duplicate-name", "invalid-attribute", "limit"):
            assert result.span is not None and 1 <= result.span.line <= text.count("\n") + 1, result


_SETTINGS = dict(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)


@settings(**_SETTINGS)
@given(data=st.binary(max_size=400))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    check_bytes(tmp_path, data)


@settings(**_SETTINGS)
@given(text=st.text(max_size=300))
def test_random_text_through_api(text: str) -> None:
    check_api(text)


_TOKENS = st.sampled_from(
    ["web", "db", "lb", "dns", "cluster", "zone", "allow", "deny", "check", "->", ",", "{", "}", ";", "\n",
     "\r\n", " ", "\t", "#", '"', "a", "b1", "tcp/443", "10.0.0.1", "any", "internet", "primary", "replica of",
     "k=", "9" * 30, "listen", "answer", "reads", "writes", "uses", "optional", "failover auto", "\ufeff"]
)


@settings(**_SETTINGS)
@given(tokens=st.lists(_TOKENS, max_size=40))
def test_random_token_soup(tmp_path: Path, tokens: list[str]) -> None:
    check_bytes(tmp_path, " ".join(tokens).encode("utf-8"))


@pytest.mark.parametrize("model", MODEL_FILES, ids=lambda p: p.name)
def test_mutations_of_every_model(tmp_path: Path, model: Path) -> None:
    source = model.read_text(encoding="utf-8")

    @settings(max_examples=max(3, settings().max_examples // 10), **_SETTINGS)
    @given(text=mutated(source))
    def mutate(text: str) -> None:
        check_bytes(tmp_path, text.encode("utf-8", "surrogatepass"))

    mutate()
