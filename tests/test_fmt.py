"""``topocheck fmt``: the canonical layout, comments kept, idempotent, the model unchanged."""

from __future__ import annotations

import dataclasses
import io
import re
from contextlib import redirect_stderr, redirect_stdout
from enum import Enum
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.api import check_text, load_text
from checker.cli import main
from checker.context import Options
from checker.fmt import format_text
from checker.model import Span
from tests.conftest import MODELS, examples
from tests.strategies import topologies

MODEL_FILES = sorted(MODELS.rglob("*.topo"))


def signature(value: object) -> object:
    """A comparable image of a model object with every source position left out."""
    if isinstance(value, Span):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,) + tuple(
            (f.name, signature(getattr(value, f.name)))
            for f in dataclasses.fields(value)
            if f.name not in ("path", "span", "name_column", "host_spans", "region_spans",
                              "places")  # (a rule's place, in its file's table)
        )
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict) or hasattr(value, "items"):
        return tuple((k, signature(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(signature(v) for v in value)
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    return repr(value)  # addresses, port sets


def model_of(text: str) -> object:
    loaded = load_text(text, "m.topo")
    if loaded.topology is None:
        return ("errors", tuple(sorted(r.id for r in loaded.results)))  # messages and order follow lines
    return signature(loaded.topology)


def assert_round_trip(text: str) -> str:
    """fmt keeps the model, is idempotent, and keeps every comment; returns the formatted text."""
    formatted = format_text(text).text
    assert formatted is not None
    assert model_of(formatted) == model_of(text)
    assert format_text(formatted).text == formatted
    for line in text.splitlines():
        if "#" in line and '"' not in line:
            comment = line[line.index("#"):].rstrip()
            assert comment in formatted, comment
    return formatted


@pytest.mark.parametrize("model", MODEL_FILES, ids=lambda p: p.name)
def test_every_model_round_trips(model: Path) -> None:
    assert_round_trip(model.read_text(encoding="utf-8"))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=topologies(with_checks=True))
def test_generated_topologies_round_trip(text: str) -> None:
    assert_round_trip(text)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=examples(100))
@given(text=topologies(with_checks=True), data=st.data())
def test_comments_anywhere_are_kept_where_they_were(text: str, data) -> None:
    """Comments on lines of their own and after code, on any line of a generated file
    (the items around each are found by bisection): every one is kept, the model is
    the same, formatting again changes nothing, and an own-line comment still comes
    right before the statement it came before."""
    lines = text.splitlines()
    out: list[str] = []
    before: dict[str, str] = {}
    for number, line in enumerate(lines):
        if data.draw(st.booleans()) and line.strip() and not line.startswith((" ", "}", "#")):
            before[f"# own {number}"] = line.split()[0]
            out.append(f"# own {number}")
        if data.draw(st.booleans()) and line.strip() and '"' not in line:
            line = f"{line}  # after {number}"
        out.append(line)
    formatted = assert_round_trip("\n".join(out) + "\n").splitlines()
    for comment, keyword in before.items():
        (at,) = [i for i, line in enumerate(formatted) if line.strip() == comment]
        following = next(line for line in formatted[at + 1:] if line.strip() and not line.lstrip().startswith("#"))
        assert following.split()[0] == keyword, (comment, following)


def test_canonical_layout() -> None:
    source = (
        "# header\n\n\n"
        "zone b;zone a region r   # zones\n"
        "web   w1 { listen 8080\n address 10.0.0.1  zone a }\n"
        "lb l { address 10.0.0.2 ; listen tcp/443 -> w1 tcp/8080 ; zone a }\n"
        "cluster c {\n  db d1 { primary }\n\n  # the replica\n  db d2 { replica }\n  failover auto\n}\n"
        "w1 uses c,d1 optional\n"
        "allow internet->l tcp/443\n"
        "check no-spof  k=2\n\n\n# end\n"
    )
    expected = (
        "# header\n\n"
        "zone b\n"
        "zone a region r  # zones\n"
        "web w1 zone a address 10.0.0.1 listen 8080\n"
        "lb l {\n  zone a\n  address 10.0.0.2\n  listen tcp/443 -> w1 tcp/8080\n}\n"
        "cluster c {\n  failover auto\n  db d1 primary\n\n  # the replica\n  db d2 replica\n}\n"
        "w1 uses c, d1 optional\n"
        "allow internet -> l tcp/443\n"
        "check no-spof k=2\n\n# end\n"
    )
    assert format_text(source).text == expected
    assert format_text(expected).text == expected


def test_comments_stay_with_their_attribute() -> None:
    source = "web w {\n  listen 80   # port\n  zone a # where\n  # the address\n  address 10.0.0.1\n}\nzone a\n"
    assert format_text(source).text == (
        "web w {\n  zone a  # where\n  # the address\n  address 10.0.0.1\n  listen 80  # port\n}\nzone a\n"
    )


def test_hash_inside_a_string_is_not_a_comment() -> None:
    assert format_text('topology "a # b"   # c\n').text == 'topology "a # b"  # c\n'


def test_long_component_becomes_a_block() -> None:
    addresses = " ".join(f"address 10.0.0.{i}" for i in range(1, 12))
    formatted = format_text(f"web w {addresses}\n").text
    assert formatted.startswith("web w {\n  address 10.0.0.1\n") and formatted.endswith("}\n")


def test_syntax_errors_are_reported_not_formatted() -> None:
    outcome = format_text("web w {\n", "bad.topo")
    assert outcome.text is None and outcome.errors[0].id == "syntax"


def test_empty_and_comment_only_files() -> None:
    assert format_text("").text == ""
    assert format_text("\n\n  \n").text == ""
    assert format_text("\n# only\n\n").text == "# only\n"


def test_crlf_and_tabs_are_normalised() -> None:
    assert format_text("zone a\r\n\tweb\tw  zone a\r\n").text == "zone a\nweb w zone a\n"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_cli_check_write_and_diff(tmp_path: Path) -> None:
    messy = tmp_path / "messy.topo"
    messy.write_text("zone a;web w zone a\n", encoding="utf-8")
    clean = tmp_path / "clean.topo"
    clean.write_text("zone a\n", encoding="utf-8")
    broken = tmp_path / "broken.topo"
    broken.write_text("web {\n", encoding="utf-8")

    code, out, err = run(["fmt", "--check", str(messy), str(clean)])
    assert (code, out) == (1, f"would reformat {messy}\n")
    code, out, _ = run(["fmt", "--diff", str(messy)])
    assert code == 0 and "-zone a;web w zone a\n+zone a\n+web w zone a\n" in out
    assert messy.read_text() == "zone a;web w zone a\n"  # --diff changes nothing

    code, out, _ = run(["fmt", str(tmp_path / "messy.topo"), str(clean)])
    assert (code, out) == (0, f"formatted {messy}\n")
    assert messy.read_text() == "zone a\nweb w zone a\n"
    assert run(["fmt", "--check", str(tmp_path / "messy.topo")])[0] == 0

    code, out, err = run(["fmt", str(broken)])
    assert code == 1 and f"{broken}:1:5: error[syntax]" in err
    assert broken.read_text() == "web {\n"
    assert run(["fmt", str(tmp_path / "missing.topo")])[0] == 2


# -- suppression comments keep what they accept ----------------------------------------


def test_a_suppression_on_a_cluster_line_stays_on_the_cluster_line() -> None:
    source = (
        "zone az-a\n"
        "cluster orders { failover auto  # topocheck: ignore[replicas-colocated] one zone on purpose\n"
        "  db db1 zone az-a address 10.0.3.10 listen tcp/5432 primary\n"
        "  db db2 zone az-a address 10.0.3.11 listen tcp/5432 replica\n"
        "}\n"
    )
    formatted = format_text(source).text
    assert formatted == (
        "zone az-a\n"
        "cluster orders {  # topocheck: ignore[replicas-colocated] one zone on purpose\n"
        "  failover auto\n"
        "  db db1 zone az-a address 10.0.3.10 listen tcp/5432 primary\n"
        "  db db2 zone az-a address 10.0.3.11 listen tcp/5432 replica\n"
        "}\n"
    )
    assert suppressed(formatted) == suppressed(source) != []


def test_a_statement_a_suppression_would_lose_keeps_its_layout() -> None:
    # Splitting the line would leave the rule at line 1 outside the comment's line.
    source = "web w address 203.0.113.5 listen tcp/80; allow internet -> w tcp/80  # topocheck: ignore[private-web] demo\n"
    assert format_text(source).text == source
    other = "web w  address 10.0.0.1\n"  # and the rest of the file is still formatted
    assert format_text(other + source).text == "web w address 10.0.0.1\n" + source


_LINE_FIELDS = ("rule", "rules", "needed_by", "shadowed_by", "line")
_LINES = re.compile(r"\blines? \d+(?:, \d+)*")


def _masked(value: object) -> object:
    """A counterexample's fields without line numbers (formatting moves lines)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _masked(v)) for k, v in value.items() if k not in _LINE_FIELDS))
    if isinstance(value, list):
        return tuple(_masked(v) for v in value)
    if isinstance(value, str):
        return _LINES.sub("line #", value)
    return value


def suppressed(text: str) -> list[tuple]:
    """Every accepted finding (check, reason, counterexample), and every unused or invalid
    suppression (check, message without its line), sorted."""
    report = check_text(text, "m.topo", Options(timeout=20))
    out = []
    for result in report.results:
        for entry in result.extra.get("suppressed", ()):
            out.append((result.id, entry["reason"], _masked(entry["counterexample"])))
        if result.id in ("unused-suppression", "invalid-suppression"):
            out.append((result.id, _LINES.sub("line #", result.message)))
    return sorted(out, key=repr)


@st.composite
def _with_suppressions(draw: st.DrawFn) -> str:
    """A generated topology with suppression comments on random statement lines: some for
    checks that find something on that line, some for others; after the code, or on a
    line of their own before it."""
    text = draw(topologies(max_hosts=4, with_policy=True))
    lines = text.split("\n")
    report = check_text(text, "m.topo", Options(timeout=20))
    found: dict[int, set[str]] = {}
    for result in report.results:
        if result.status.value != "refuted":
            continue
        spans = [result.span] + [h.span for c in result.counterexamples for h in c.related + c.flow]
        for span in spans:
            if span is not None:
                found.setdefault(span.line, set()).add(result.id)
    code = [n for n, line in enumerate(lines, 1) if line.strip() and not line.lstrip().startswith("#")
            and "#" not in line]
    if not code:
        return text
    chosen = draw(st.lists(st.sampled_from(code), min_size=1, max_size=4, unique=True))
    for rank, number in enumerate(sorted(chosen, reverse=True)):
        ids = sorted(found.get(number, ())) or ["no-spof"]
        check_id = draw(st.sampled_from(ids + ["zone-redundancy"]))
        comment = f"# topocheck: ignore[{check_id}] reason {rank}"
        if draw(st.booleans()):
            lines[number - 1] += "  " + comment
        else:
            indent = lines[number - 1][: len(lines[number - 1]) - len(lines[number - 1].lstrip())]
            lines.insert(number - 1, indent + comment)
    return "\n".join(lines)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_with_suppressions())
def test_fmt_keeps_what_every_suppression_accepts(text: str) -> None:
    formatted = format_text(text).text
    assert formatted is not None
    assert suppressed(formatted) == suppressed(text), formatted
    assert format_text(formatted).text == formatted
