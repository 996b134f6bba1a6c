"""Suppressions with reasons: accepted findings are reported, never dropped, and do not fail the run."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from checker.api import check_text
from checker.cli import main
from checker.model import Span
from checker.results import Counterexample, Hop, Result, Severity, Status
from checker.suppress import _lines_with_hash, apply_suppressions, fully_suppressed, is_failing, parse_suppressions
from hypothesis import given
from hypothesis import strategies as st

SPOF = """\
internet users
dns www { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; address 10.0.0.10; listen tcp/443 -> web1, web2 tcp/8080 }
web web1 address 10.0.1.11 listen tcp/8080
web web2 address 10.0.1.12 listen tcp/8080
{comment_before}
db db1 address 10.0.3.10 listen tcp/5432 {comment_after}
web1, web2 uses db1
allow internet -> lb1 tcp/443
allow lb1 -> web1, web2 tcp/8080
allow web1, web2 -> db1 tcp/5432
check no-spof
"""
KNOWN = ("no-spof", "private-web", "available")


def spof(before: str = "", after: str = "") -> str:
    return SPOF.replace("{comment_before}", before).replace("{comment_after}", after)


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def by_id(text: str) -> dict[str, Result]:
    return {r.id: r for r in check_text(text, "s.topo").results}


def test_comment_on_the_line_before_accepts_the_spof(tmp_path: Path) -> None:
    text = spof(before="# topocheck: ignore[no-spof] legacy appliance, restored from backup")
    result = by_id(text)["no-spof"]
    assert result.status is Status.REFUTED and result.counterexamples == ()
    assert result.extra["suppressed"] == [{"counterexample": {
        "failed": ["db1"], "stopped": ["www"], "explanation": result.extra["suppressed"][0]["counterexample"]["explanation"]},
        "reason": "legacy appliance, restored from backup", "line": 7}]
    assert fully_suppressed(result) and not is_failing(result)
    path = tmp_path / "s.topo"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(["check", "--format", "json", str(path)])
    assert code == 0
    (no_spof,) = [r for r in json.loads(out)["files"][0]["results"] if r["id"] == "no-spof"]
    assert no_spof["status"] == "refuted" and no_spof["suppressed"][0]["reason"].startswith("legacy")
    for fmt, marker in (("text", "suppressed[no-spof]"), ("markdown", "refuted, suppressed"),
                        ("github", "::notice file="), ("sarif", '"justification": "legacy appliance')):
        code, out, _ = run(["check", "--format", fmt, str(path)])
        assert code == 0 and marker in out, fmt


def test_trailing_comment_accepts_the_finding_on_its_line() -> None:
    result = by_id(spof(after="# topocheck: ignore[no-spof] vendor box, replaced in Q3"))["no-spof"]
    assert fully_suppressed(result)
    assert result.extra["suppressed"][0]["line"] == 7


def test_comment_on_another_line_is_unused_and_the_finding_stays() -> None:
    results = check_text(spof().replace("web web2", "# topocheck: ignore[no-spof] not here\nweb web2"), "s.topo").results
    no_spof = [r for r in results if r.id == "no-spof"][0]
    assert is_failing(no_spof) and no_spof.counterexamples
    unused = [r for r in results if r.id == "unused-suppression"]
    assert len(unused) == 1 and unused[0].severity is Severity.WARNING
    assert unused[0].span.line == 5 and "accepts no finding on line 6" in unused[0].message


def test_suppression_without_reason_or_with_unknown_id_is_an_error() -> None:
    results = check_text(spof(before="# topocheck: ignore[no-spof]"), "s.topo").results
    invalid = [r for r in results if r.id == "invalid-suppression"]
    assert [r.span.line for r in invalid] == [6] and "needs a reason" in invalid[0].message
    assert is_failing([r for r in results if r.id == "no-spof"][0])
    results = check_text(spof(before="# topocheck: ignore[no-spf] typo"), "s.topo").results
    assert any(r.id == "invalid-suppression" and "unknown check 'no-spf'" in r.message for r in results)
    _, errors = parse_suppressions("web w # topocheck: ignore no reason list\n", "x")
    assert errors and "must name the checks" in errors[0].message


def test_only_the_matching_counterexample_is_accepted() -> None:
    span = lambda line: Span("x", line, 1, line, 5)  # noqa: E731
    result = Result("no-spof", Status.REFUTED, Severity.ERROR, "two spofs", span(2), "graph", (
        Counterexample({"failed": ["a"]}, related=(Hop("a", span(2)),)),
        Counterexample({"failed": ["b"]}, related=(Hop("b", span(3)),)),
    ))
    text = "x\nweb a\nweb b # topocheck: ignore[no-spof] b is a spare\n"
    (out,) = apply_suppressions(text, "x", [result], KNOWN)
    assert [c.fields for c in out.counterexamples] == [{"failed": ["a"]}]
    assert out.extra["suppressed"][0]["counterexample"] == {"failed": ["b"]}
    assert is_failing(out)


def test_rule_line_suppresses_a_path_through_it() -> None:
    span = lambda line: Span("x", line, 1, line, 5)  # noqa: E731
    result = Result("private-web", Status.REFUTED, Severity.ERROR, "exposed", span(1), "graph", (
        Counterexample({"component": "w"}, flow=(Hop("internet", None), Hop("allow", span(3)))),))
    text = "web w\n\nallow internet -> w 443 # topocheck: ignore[private-web] a demo box\n"
    (out,) = apply_suppressions(text, "x", [result], KNOWN)
    assert fully_suppressed(out)


def test_hash_inside_a_string_is_not_a_comment() -> None:
    found, errors = parse_suppressions('topology "# topocheck: ignore[no-spof]"\n', "x")
    assert found == [] and errors == []


def test_suppressed_results_survive_parallel_checking(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.topo").write_text(spof(before="# topocheck: ignore[no-spof] accepted"), encoding="utf-8")
    code, out, _ = run(["check", "-j", "2", "--format", "json", str(tmp_path)])
    assert code == 0
    assert all(r["suppressed"] for f in json.loads(out)["files"] for r in f["results"] if r["id"] == "no-spof")


@given(st.text(alphabet="a#\n\r \"", max_size=40))
def test_the_lines_with_a_hash_are_those_of_the_split_text(text: str) -> None:
    # (the comments are found without splitting a 100k-line file when every check has run)
    assert list(_lines_with_hash(text)) == [(n, line) for n, line in enumerate(text.split("\n"), 1) if "#" in line]


def _reference(text: str, results: list[Result]) -> list[tuple]:
    """Which comment accepts which finding, by trying every suppression in file order for
    every finding (the definition; apply_suppressions looks the lines up)."""
    lines = text.split("\n")
    usable = []
    for number, line in enumerate(lines, 1):
        if "# topocheck: ignore[" not in line:
            continue
        ids = tuple(i.strip() for i in line.split("ignore[")[1].split("]")[0].split(","))
        target = number
        if line.startswith("#"):  # on its own line: the next line with code
            target = next((n for n in range(number + 1, len(lines) + 1)
                           if lines[n - 1].strip() and not lines[n - 1].strip().startswith("#")), None)
            if target is None:
                continue
        usable.append((number, ids, target))
    accepted = []
    for r, result in enumerate(results):
        for c, cx in enumerate(result.counterexamples):
            on = {hop.span.line for hop in cx.related} | ({result.span.line} if c == 0 else set())
            hit = next((s for s in usable if result.id in s[1] and s[2] in on), None)
            if hit is not None:
                accepted.append((r, c, hit[0]))
    return accepted


@given(st.lists(st.sampled_from(["web a", "", "# plain", "# topocheck: ignore[no-spof] ok",
                                 "# topocheck: ignore[private-web, no-spof] ok",
                                 "web b # topocheck: ignore[no-spof] ok", "web c # topocheck: ignore[private-web] ok"]),
                min_size=1, max_size=14),
       st.lists(st.tuples(st.sampled_from(["no-spof", "private-web"]),
                          st.lists(st.lists(st.integers(1, 15), min_size=1, max_size=3), min_size=1, max_size=3)),
                max_size=6))
def test_each_finding_is_accepted_by_the_first_suppression_of_its_lines(lines: list[str], findings: list) -> None:
    text = "\n".join(lines) + "\n"
    span = lambda line: Span("x", line, 1, line, 2)  # noqa: E731
    results = [Result(check_id, Status.REFUTED, Severity.ERROR, "m", span(cxs[0][0]), "graph",
                      tuple(Counterexample({"n": c}, related=tuple(Hop(str(n), span(n)) for n in on))
                            for c, on in enumerate(cxs)))
               for check_id, cxs in findings]
    out = apply_suppressions(text, "x", results, KNOWN)
    got = []
    for r, result in enumerate(out[:len(results)]):
        for entry in result.extra.get("suppressed", ()):
            got.append((r, entry["counterexample"]["n"], entry["line"]))
    expected = [(r, c, next(s for s in parse_suppressions(text, "x")[0] if s.comment.line == line).target_line)
                for r, c, line in _reference(text, results)]
    assert sorted(got) == sorted(expected)
    used = {(line, results[r].id) for r, _, line in _reference(text, results)}
    ran = {result.id for result in results}
    unused = {(s.comment.line, i) for s in parse_suppressions(text, "x")[0] for i in s.ids
              if i in ran and (s.comment.line, i) not in used}
    assert {(r.span.line, r.message.split("'")[1]) for r in out if r.id == "unused-suppression"} == unused


def test_a_run_of_standalone_suppressions_each_accepts_the_line_after_the_run() -> None:
    """Thousands of suppressions on their own lines before one line: each is read once
    (the run was once read again for each comment in it), each accepts that line."""
    found, errors = parse_suppressions("# topocheck: ignore[no-spof] why\n" * 5000 + "web a\n", "x")
    assert errors == [] and len(found) == 5000
    assert {s.target_line for s in found} == {5001}
    assert [s.comment.line for s in found] == list(range(1, 5001))
