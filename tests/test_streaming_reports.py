"""Reports are written a piece at a time (checker.reporters.stream): the same text as
one document dumped whole, each finding's piece made only when it is written, and a
reader that leaves early (``| head``) costs nothing but the rest of the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.display import json_safe
from checker.model import Span
from checker.reporters import github, json_report, markdown, sarif, text
from checker.reporters.stream import Items, json_chunks, lines_chunks, one_line_end
from checker.reporters.text import SourceLines
from checker.results import Counterexample, FileReport, Hop, Result, Severity, Status

ROOT = Path(__file__).resolve().parent.parent

# JSON values with the characters a report can hold: line ends, quotes, controls,
# non-ASCII, a lone surrogate (a file name's byte that is not UTF-8)
_TEXT = st.text(alphabet=st.sampled_from(list("ab \n\t\"\\/<>&@") + ["é", "€", "\u2028", "\x1b", "\udce9"]),
                max_size=8)
_LEAF = st.none() | st.booleans() | st.integers(-10**12, 10**12) | \
    st.floats(allow_nan=False, allow_infinity=False) | _TEXT
_VALUE = st.recursive(_LEAF, lambda inner: st.lists(inner, max_size=4) |
                      st.dictionaries(_TEXT, inner, max_size=4), max_leaves=20)


@st.composite
def _streamed(draw, value=None):
    """(a document in which some lists are Items over generators, the same document
    as plain values)."""
    value = draw(_VALUE) if value is None else value
    if isinstance(value, dict):
        pairs = [(k, draw(_streamed(v))) for k, v in value.items()]
        return {k: s for k, (s, _) in pairs}, {k: p for k, (_, p) in pairs}
    if isinstance(value, list):
        parts = [draw(_streamed(v)) for v in value]
        plain = [p for _, p in parts]
        if draw(st.booleans()):  # an Items: its elements as they are written (plain: Items nest no Items)
            return Items(iter(plain)), plain
        return [s for s, _ in parts], plain
    return value, value


@settings(max_examples=300, deadline=None)
@given(_streamed())
def test_a_streamed_document_is_the_document_dumped_whole(pair) -> None:
    streamed, plain = pair
    expected = json_safe(json.dumps(plain, indent=2, ensure_ascii=False)) + "\n"
    assert "".join(json_chunks(streamed)) == expected


def test_each_element_of_an_items_is_made_when_it_is_written() -> None:
    made: list[int] = []

    def elements():
        for i in range(1000):
            made.append(i)
            yield {"finding": i, "text": "x\ny"}

    pieces = json_chunks({"tool": "t", "results": Items(elements()), "summary": {"n": 1000}})
    first = next(pieces)
    assert len(made) == 1 and first.startswith('{\n  "tool": "t",\n  "results": [\n    {')
    for _ in range(10):
        next(pieces)
    assert len(made) == 11  # one element per piece, never read ahead
    rest = "".join(pieces)
    assert len(made) == 1000 and rest.endswith('  "summary": {\n    "n": 1000\n  }\n}\n')
    assert "".join(json_chunks(Items(iter(())))) == "[]\n"


def test_keys_of_a_streamed_object_are_strings() -> None:
    try:
        "".join(json_chunks({1: Items(iter(()))}))
    except TypeError as exc:
        assert "keys are strings, not int" in str(exc)
    else:
        raise AssertionError("an int key was written")


@given(st.lists(st.lists(_TEXT, max_size=5), max_size=6), st.integers(1, 4))
def test_lines_in_pieces_are_the_lines_joined(groups, batch) -> None:
    lines = [line for group in groups for line in group]
    assert "".join(lines_chunks(iter(groups), batch)) == "\n".join(lines) + "\n"


@given(st.lists(st.text(alphabet="a\n", max_size=6), max_size=8))
def test_one_line_end_is_the_text_stripped_of_its_line_ends(pieces) -> None:
    assert "".join(one_line_end(iter(pieces))) == "".join(pieces).rstrip("\n") + "\n"


@given(st.none() | st.text(alphabet="ab\n\r", max_size=30))
def test_source_lines_are_the_text_split_at_line_feeds(source) -> None:
    lines = SourceLines(source)
    expected = [] if source is None else source.split("\n")
    assert len(lines) == len(expected)
    assert [lines[i] for i in range(len(lines))] == expected


# -- the reporters ------------------------------------------------------------------------


def _report(findings: int, made: list[int] | None = None) -> FileReport:
    """A file of ``findings`` shadowed rules and a proved check; ``made`` counts the
    results turned into JSON."""
    class Counted(Result):
        __slots__ = ()

        def to_json(self):  # noqa: ANN202
            if made is not None:
                made.append(1)
            return Result.to_json(self)

    source = "".join(f"allow internet -> w{i} tcp/443\n" for i in range(findings))
    results = [Counted("available", Status.PROVED, Severity.ERROR, "up", None, "evaluation")]
    for i in range(findings):
        where = Span("big.topo", i + 1, 1, i + 1, 6)
        results.append(Counted(
            "shadowed-rule", Status.REFUTED, Severity.WARNING, f"the rule at line {i + 1} can never match", where,
            "z3", (Counterexample({"rule": i + 1, "shadowed_by": [1]}, related=(Hop("line 1 matches first", where),)),),
            hint="delete it"))
    return FileReport("big.topo", tuple(results), source)


def test_every_reporter_writes_its_report_in_pieces() -> None:
    report = _report(3000)
    for module in (text, json_report, sarif, markdown, github):
        pieces = list(module.chunks([report]))
        assert len(pieces) > 2, module.__name__  # not one document made whole
        assert "".join(pieces) == module.render([report])
    for module in (json_report, sarif):  # canonical: the document dumped whole, indented by two
        written = module.render([report])
        assert written == json.dumps(json.loads(written), indent=2, ensure_ascii=False) + "\n"
    document = json.loads(json_report.render([report]))
    assert document["summary"] == {"proved": 1, "refuted": 3000, "unknown": 0}
    assert [r["location"]["line"] for r in document["files"][0]["results"][1:]] == list(range(1, 3001))
    findings = text.render([report]).split("\n")
    assert findings[:3] == ["big.topo:1:1: warning[shadowed-rule] the rule at line 1 can never match",
                            "     1 | allow internet -> w0 tcp/443", "       | ^^^^^"]
    assert "  3000 | allow internet -> w2999 tcp/443" in findings
    assert text.render([]) == github.render([]) == "\n"  # no lines: one line end


def test_a_result_is_made_json_only_when_it_is_written() -> None:
    made: list[int] = []
    pieces = json_report.chunks([_report(500, made)])
    next(pieces)
    assert len(made) == 1
    assert sum(1 for _ in pieces) >= 500 and len(made) == 501


def test_a_reader_that_leaves_early_changes_nothing_but_the_rest(tmp_path: Path) -> None:
    # the report is 30 times a pipe's buffer: the reader closes after its first bytes
    path = tmp_path / "big.topo"
    path.write_text("web w address 10.0.0.1 listen tcp/443\n" + "allow any -> w tcp/443\n" * 3000)
    for fmt in ("text", "json", "sarif"):
        process = subprocess.Popen([sys.executable, "-m", "checker", "check", "--format", fmt, str(path)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        assert process.stdout is not None and process.stderr is not None
        head = process.stdout.read(100)
        process.stdout.close()
        err = process.stderr.read()
        assert process.wait(timeout=120) == 1, (fmt, err)  # findings (the shadowed rules), as when read whole
        assert head and err == b"", (fmt, err)  # no traceback, no "internal error"


def test_every_diff_format_writes_its_report_in_pieces() -> None:
    from checker.api import check_text_and_model
    from checker.reporters import changes
    from checker.review.changes import Diff, Version, compare_versions

    old_text = "web w address 10.0.0.1 listen tcp/443\nallow any -> w tcp/443\n"
    new_text = old_text + "allow any -> w tcp/443\n" * 2000  # 2,000 new shadowed rules: a change each
    before = Version("m.topo", check_text_and_model(old_text, "m.topo")[0], None)
    report, topology = check_text_and_model(new_text, "m.topo")
    diff = Diff("old", "new", (compare_versions(before, Version("m.topo", report, topology), "m.topo"),))
    assert sum(1 for c in diff.changes if c.check == "shadowed-rule") == 2000
    for fmt in ("text", "json", "markdown", "sarif"):
        pieces = list(changes.chunks(diff, fmt))
        assert len(pieces) > (2000 if fmt in ("json", "sarif") else 1), fmt  # a change a piece; 1,024 lines a piece
        assert "".join(pieces) == changes.render(diff, fmt)
        if fmt in ("json", "sarif"):
            written = "".join(pieces)
            assert written == json.dumps(json.loads(written), indent=2, ensure_ascii=False) + "\n"
