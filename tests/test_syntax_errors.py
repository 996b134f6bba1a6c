"""Syntax errors read like a person wrote them: an unclosed block is one error, at the
brace that was not closed, never a cascade at the lines after it."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.parser import parse
from tests.conftest import REPLICATED, examples
from tests.strategies import topologies

SEED = REPLICATED
_PLAIN = re.compile(r'"(?:[^"\\\n]|\\["\\])*"|#[^\n]*')


def errors(text: str) -> list[tuple[int, int, str, str | None]]:
    return [(e.span.line, e.span.column, e.message, e.hint) for e in parse(text, "m.topo").errors]


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


@pytest.mark.parametrize("member, replica_line", [("db1", "primary }"), ("db2", "replica }"),
                                                  ("db3", "replica of db2 }")])
def test_a_member_without_its_brace_is_one_error_at_that_brace(member: str, replica_line: str) -> None:
    broken = SEED.replace(replica_line, replica_line[:-2], 1)
    line = line_of(SEED, f"db {member} {{")
    assert errors(broken) == [(
        line, 10, f"unclosed '{{': a block must end with '}}'; the '{{' of 'db {member}' is never closed",
        f"add '}}' where its block ends, by the indentation before line {line + 1}",
    )]


def test_a_cluster_without_its_brace_is_one_error_at_the_cluster() -> None:
    broken = SEED.replace("replica of db2 }\n}\n", "replica of db2 }\n\n", 1)
    line = line_of(SEED, "cluster orders {")
    assert errors(broken) == [(
        line, 16, "unclosed '{': a block must end with '}'; the '{' of 'cluster orders' is never closed",
        f"add '}}' where its block ends, by the indentation before line {line_of(SEED, 'web1, web2 writes')}",
    )]


def test_a_block_open_at_the_end_of_the_file() -> None:
    assert errors('topology "{ not a brace"\nweb w {  # { nor this\n  zone a\n') == [
        (2, 7, "unclosed '{': a block must end with '}'; the '{' of 'web w' is never closed",
         "add '}' where its block ends")]


def test_without_indentation_the_innermost_open_block_is_named() -> None:
    flat = "web w {\nzone a\n}\ndb d {\nzone b\nweb x address 10.0.0.1\n"
    assert [e[:3] for e in errors(flat)] == [
        (4, 6, "unclosed '{': a block must end with '}'; the '{' of 'db d' is never closed")]


def test_other_mistakes_inside_a_block_are_not_taken_for_a_missing_brace() -> None:
    assert [e[:3] for e in errors("web w {\n  zone\n}\n")] == [
        (2, 7, "expected a name; found the end of the line")]
    # the block is open at the end too, but the parser stopped at the missing name first
    assert [e[:3] for e in errors("web w {\n  zone\n")] == [
        (2, 7, "expected a name; found the end of the line")]


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies(max_hosts=6), st.data())
def test_any_closing_brace_removed_is_one_error_at_its_opening_brace(text: str, data: st.DataObject) -> None:
    code = _PLAIN.sub(lambda m: " " * len(m.group()), text)
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    for index, char in enumerate(code):
        if char == "{":
            stack.append(index)
        elif char == "}":
            pairs.append((stack.pop(), index))
    if not pairs:
        return
    opening, closing = data.draw(st.sampled_from(pairs))
    broken = text[:closing] + text[closing + 1:]
    line = text.count("\n", 0, opening) + 1
    column = opening - (text.rfind("\n", 0, opening) + 1) + 1
    found = errors(broken)
    assert [e[:2] for e in found] == [(line, column)], (broken, found)
    assert found[0][2].startswith("unclosed '{'")
