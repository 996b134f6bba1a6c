"""Programs generated from the grammar itself (``hypothesis.extra.lark.from_lark``)
and random well-formed topologies (``tests/strategies.topologies``).

The grammar ignores whitespace and comments, so ``from_lark`` alone would glue
tokens together (``zoneweb1``); every terminal is drawn with a following
space, newlines stand for ``_NL``, and names are kept off the keywords. The
resulting programs are syntactically valid (asserted); resolution errors
(undefined names) are expected and must be located.

Properties: no traceback or hang, exit status 0 or 1, located results, the
same bytes on a second run, and ``fmt`` keeps the model (or the same errors).
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from checker.api import load_text
from functools import lru_cache

from lark import Lark

from checker.parser import grammar_text
from tests.strategies import KEYWORDS, topologies
from tests.test_fmt import assert_round_trip
from tests.test_fuzz_inputs import check_api, check_bytes

_NAMES = st.from_regex(r"\A[a-z][a-z0-9_.\-]{0,6}[a-z0-9]\Z").filter(lambda n: n not in KEYWORDS)


@lru_cache(maxsize=1)
def _compiled() -> Lark:
    """A parser compiled from the grammar text (``from_lark`` needs the grammar, which the
    cached parser of checker.parser does not keep)."""
    return Lark(grammar_text(), parser="lalr", lexer="contextual")


def _explicit() -> dict[str, st.SearchStrategy[str]]:
    parser = _compiled()
    out: dict[str, st.SearchStrategy[str]] = {}
    for terminal in parser.terminals:
        pattern = terminal.pattern
        if terminal.name == "_NL":
            out[terminal.name] = st.sampled_from(["\n", "\r\n", "\n\n"])
        elif terminal.name in ("WS", "COMMENT"):
            out[terminal.name] = st.sampled_from([" ", "\t"]) if terminal.name == "WS" else st.just(" ")
        elif terminal.name == "NAME":
            out[terminal.name] = _NAMES.map(lambda n: n + " ")
        elif terminal.name == "STRING":
            # the language's only escapes are \" and \\
            pieces = st.sampled_from(["a", "z", " ", "#", "\\\\", '\\"'])
            out[terminal.name] = st.lists(pieces, max_size=8).map(lambda parts: '"' + "".join(parts) + '" ')
        elif terminal.name == "PORT":
            out[terminal.name] = st.from_regex(r"\A(tcp|udp)/[0-9]{1,5}(-[0-9]{1,5})?\Z").map(lambda s: s + " ")
        elif terminal.name == "INT":
            out[terminal.name] = st.from_regex(r"\A[0-9]{1,6}\Z").map(lambda s: s + " ")
        elif terminal.name == "DECIMAL":
            out[terminal.name] = st.from_regex(r"\A[0-9]{1,3}\.[0-9]{1,3}\Z").map(lambda s: s + " ")
        elif terminal.name == "ADDRESS":
            out[terminal.name] = st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?\Z").map(lambda s: s + " ")
        elif pattern.type == "str":
            out[terminal.name] = st.just(pattern.value + " ")
    return out


def grammar_programs() -> st.SearchStrategy[str]:
    return from_lark(_compiled(), explicit=_explicit())


_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])


@settings(max_examples=max(10, settings().max_examples // 2), **_SETTINGS)
@given(program=grammar_programs())
def test_grammar_programs(tmp_path: Path, program: str) -> None:
    loaded = load_text(program, "g.topo")
    assert not [r for r in loaded.results if r.method == "parser"], (program, loaded.results)
    check_api(program)
    check_bytes(tmp_path, program.encode("utf-8"))
    assert_round_trip(program)


@settings(max_examples=max(10, settings().max_examples // 2), **_SETTINGS)
@given(text=topologies(with_checks=True))
def test_generated_topologies(tmp_path: Path, text: str) -> None:
    assert load_text(text, "t.topo").topology is not None
    check_bytes(tmp_path, text.encode("utf-8"))


# The terminals as first written: the rewrites (STRING unrolled and, from Python 3.11,
# possessive; _NL in runs of at most 1024 line ends) must match the same text.
_FIRST_STRING = re.compile(r'"([^"\\\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\\["\\])*"')
_FIRST_NL = re.compile(r"(\r?\n)+")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(['"', "\\", "a", " ", "\n", "\r", "\t", "\x7f", "\u2028", "#"]), max_size=14))
def test_rewritten_terminals_match_what_they_first_matched(chars: list[str]) -> None:
    text = "".join(chars)
    terminals = {terminal.name: re.compile(terminal.pattern.to_regexp()) for terminal in _compiled().terminals}
    for at in range(len(text)):
        first = _FIRST_STRING.match(text, at)
        now = terminals["STRING"].match(text, at)
        assert (first and first.end()) == (now and now.end()), (text, at)
        first = _FIRST_NL.match(text, at)
        ends = at
        while (run := terminals["_NL"].match(text, ends)) is not None:  # consecutive _NL tokens
            assert run.end() - ends <= 2 * 1024
            ends = run.end()
        assert (first.end() if first else at) == ends, (text, at)


def test_a_long_run_of_line_ends_is_several_separators() -> None:
    """Runs of more than 1024 line ends are lexed as several ``_NL`` (each a separator,
    and the grammar takes any number): the file reads the same."""
    nl = re.compile(next(t for t in _compiled().terminals if t.name == "_NL").pattern.to_regexp())
    assert nl.match("\n" * 5000).end() == 1024
    assert nl.match("\r\n" * 5000).end() == 2048
    loaded = load_text('topology "t"\n' + "\n\r\n" * 3000 + "web w address 10.0.0.1\n", "t.topo")
    assert loaded.results == () and list(loaded.topology.components) == ["w"]
    assert loaded.topology.components["w"].span.line == 6002
