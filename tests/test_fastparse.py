"""The parser's fast path (checker.fastparse) gives exactly Lark's records.

Every record is compared token by token (type, value, offsets, lines and
columns) with the records of Lark's own parser, on every model and corpus
file, on generated benchmark files, on programs generated from the grammar
and on random topologies; a file with a syntax error leaves the fast path, so
its errors are Lark's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from lark import Token

from benchmarks.generate import generate
from checker.api import load_text
from checker.fastparse import _PARSERS, FastParser, Record, Tok, _may_start_blank, parse_fast
from checker.parser import _parse_with, lark_parser, parse
from checker.model import Rule, Span
from tests.strategies import mutated, topologies
from tests.test_fuzz_grammar import _SETTINGS, grammar_programs

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted({*ROOT.glob("models/**/*.topo"), *ROOT.glob("tests/**/*.topo"),
                *(ROOT / "../shared/corpus").glob("**/*.topo")})


def _flat(value):
    """A record as nested plain values, each token as all its attributes."""
    if isinstance(value, Record):
        value = value.thaw()
    if isinstance(value, (Token, Tok)):
        return ("token", value.type, str(value), value.start_pos, value.end_pos, value.line, value.column,
                value.end_line, value.end_column)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_flat(item) for item in value])
    return value


def _assert_same(text: str) -> None:
    reference, errors = _parse_with(lark_parser(), text, "t.topo")
    fast = parse_fast(lark_parser(), text)
    if reference is None:
        assert fast is None, errors
        return
    assert fast is not None
    assert _flat(fast) == _flat(reference)
    # the builder reads frozen records by its own paths (rules of known endpoints without
    # tokens: Builder._known_rule): the model and every error are those of Lark's records
    from checker.build import build
    from checker.checks import known_params

    from_fast, from_lark = build(fast, "t.topo", known_params()), build(reference, "t.topo", known_params())
    assert from_fast.errors == from_lark.errors
    assert from_fast.topology == from_lark.topology


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_models_and_corpus(path: Path) -> None:
    _assert_same(path.read_text(encoding="utf-8", errors="replace"))


@pytest.mark.parametrize("n", [3, 60, 1000])
def test_generated_files(n: int) -> None:
    _assert_same(generate(n, plant=("port-forward",)))


@settings(max_examples=settings().max_examples, **_SETTINGS)  # the profile's (60; "long": 5,000)
@given(program=grammar_programs())
def test_grammar_programs(program: str) -> None:
    _assert_same(program)


@settings(max_examples=settings().max_examples, **_SETTINGS)  # the profile's (60; "long": 5,000)
@given(text=topologies(with_checks=True))
def test_random_topologies(text: str) -> None:
    _assert_same(text)


@settings(max_examples=settings().max_examples, **_SETTINGS)  # the profile's (60; "long": 5,000)
@given(text=topologies().flatmap(mutated))
def test_mutated_topologies(text: str) -> None:
    _assert_same(text)


def test_a_syntax_error_is_lark_s() -> None:
    text = "web w1 listen tcp/80\nweb w2 listen\n"
    assert parse_fast(lark_parser(), text) is None
    [error] = parse(text, "t.topo").errors
    assert (error.span.line, error.span.column, error.message) == (
        2, 14, "expected 'any', a number or a port like tcp/443; found the end of the line")


def test_records_read_like_tuples() -> None:
    [record] = parse("allow web1, 10.0.0.0/8 -> db1 tcp/5432\n", "t.topo").statements
    assert isinstance(record, Record)
    assert record[0] == "rule" and len(record) == 5
    tag, action, sources, destinations, port = record
    assert (str(action), [str(s) for s in sources], [s.type for s in sources], str(port)) == (
        "allow", ["web1", "10.0.0.0/8"], ["NAME", "ADDRESS"], "tcp/5432")
    assert (port.line, port.column, port.end_column, port.start_pos, port.end_pos) == (1, 31, 39, 30, 38)
    assert [str(d) for d in record[3]] == ["db1"] and record[-1] == port


def test_a_cluster_s_members_are_records_of_their_own() -> None:
    text = "cluster c {\n  failover auto\n  db a { primary  address 10.0.0.1 }\n  db b replica of a\n}\n"
    [record] = parse(text, "t.topo").statements
    members = record.items(4)
    assert [type(m) for m in members] == [Record, Record] and record.length(4) == 2
    assert _flat(members) == _flat(record[4])
    assert [(str(m[2]), m[2].line, m[2].column) for m in members] == [("a", 3, 6), ("b", 4, 6)]


def test_the_builder_never_thaws_a_cluster_s_members_at_once(monkeypatch) -> None:
    # a 100k-component file holds its members' statements frozen until their pass: thawed
    # all at once (record[4]), they held a third of the load's peak memory
    original = Record.__getitem__

    def getitem(self, index):
        assert not (original(self, 0) == "cluster" and index in (4, -2)), "a cluster's members thawed at once"
        return original(self, index)

    def whole(self):
        assert original(self, 0) != "cluster", "a cluster's statement thawed whole"
        return iter(self.thaw())

    monkeypatch.setattr(Record, "__getitem__", getitem)
    monkeypatch.setattr(Record, "__iter__", whole)
    outcome = load_text(generate(300), "t.topo")
    assert outcome.topology is not None and outcome.topology.clusters


def test_names_are_shared() -> None:
    text = "web a\nweb b\nallow a -> b\nallow b -> a\n"
    records = parse(text, "t.topo").statements
    first, second = records[2][2][0], records[3][3][0]
    assert str(first) is str(second)


def test_line_numbers_are_shared() -> None:
    # the spans of one line hold one int object for its number, however many times the
    # statement was read (a large file's spans held a fresh one each)
    text = "\n" * 300 + "web a zone z address 10.0.0.1 listen tcp/80\nzone z\nweb b zone z\nallow a -> b tcp/80\n"
    topology = load_text(text, "t.topo").topology
    comp, rule = topology.components["a"], topology.rules[0]
    assert comp.span.line == 301 and rule.span.line == 304
    assert comp.span.line is comp.name_span.line is comp.span.end_line
    # a rule holds no number of its own: its place is in the file's table of rule places
    assert rule.span == Span("t.topo", 304, 1, 304, 20)
    assert "line" not in Rule.__slots__ and rule.places.lines[rule.index] == 304


def test_rules_share_one_table_of_places() -> None:
    text = "zone z\nweb a zone z address 10.0.0.1 listen tcp/80\nweb b zone z\n" \
           "allow a -> b tcp/80\n\n  deny any -> b\nallow 10.0.0.0/8 -> a, b tcp/1-9\n"
    rules = load_text(text, "t.topo").topology.rules
    assert len({id(rule.places) for rule in rules}) == 1
    assert [rule.span for rule in rules] == [Span("t.topo", 4, 1, 4, 20), Span("t.topo", 6, 3, 6, 16),
                                              Span("t.topo", 7, 1, 7, 33)]
    assert [(r.line, r.column, r.end_line, r.end_column) for r in rules] == [(4, 1, 4, 20), (6, 3, 6, 16),
                                                                              (7, 1, 7, 33)]
    assert rules[0] == rules[0] and rules[0] != rules[1] and len(set(rules)) == 3


def test_the_loop_uses_lark_s_own_tables() -> None:
    fast = FastParser(lark_parser())
    table = lark_parser().parser.parser.parser.parse_table
    assert set(fast.actions) == set(table.states)
    assert len(fast.lexers) == len(table.states)


def test_the_model_is_the_same_either_way() -> None:
    text = generate(200)
    built_fast = load_text(text, "t.topo").topology
    records, _ = _parse_with(lark_parser(), text, "t.topo")
    from checker.build import build
    from checker.checks import known_params

    built_lark = build(records, "t.topo", known_params()).topology
    assert built_fast == built_lark


def _thawed(monkeypatch) -> list:
    """A list that gets the tag of each statement thawed into tokens (how the builder's
    general path reads a statement)."""
    made: list = []
    original = Record.thaw

    def thaw(self):
        made.append(self[0])
        return original(self)

    monkeypatch.setattr(Record, "thaw", thaw)
    return made


def test_rules_of_known_endpoints_are_built_without_tokens(monkeypatch) -> None:
    # a rule whose endpoints are components or were resolved before is read from the
    # frozen arrays: at 100k components, making its tokens was a third of the build
    made = _thawed(monkeypatch)
    text = ("web w1 address 10.0.0.1\nweb w2 address 10.0.0.2\ncluster c {\n  db d1 { primary  address 10.0.0.3 }\n}\n"
            + "allow w1, 10.0.0.0/8 -> w2, c tcp/80\n" * 3 + "deny any -> internet\n" * 2 + "allow w2 -> w1\n")
    made.clear()
    outcome = load_text(text, "t.topo")
    assert not outcome.results
    rules = outcome.topology.rules
    assert [(r.action, [(e.kind, str(e.value)) for e in r.sources + r.destinations], str(r.ports)) for r in rules] \
        == [("allow", [("component", "w1"), ("network", "10.0.0.0/8"), ("component", "w2"), ("cluster", "c")],
             "tcp/80")] * 3 + [("deny", [("any", "None"), ("internet", "None")], "any")] * 2 \
        + [("allow", [("component", "w2"), ("component", "w1")], "any")]
    assert [(r.span.line, r.span.column, r.span.end_column) for r in rules] == \
        [(6, 1, 37), (7, 1, 37), (8, 1, 37), (9, 1, 21), (10, 1, 21), (11, 1, 15)]
    # the first rule resolves the network, the cluster and the port from tokens; the
    # first 'any'/'internet' rule too; every other rule is read from the arrays
    assert made.count("rule") == 2, made
    assert rules[1].sources is rules[0].sources and rules[4].destinations is rules[3].destinations


def test_requirements_of_known_names_are_built_without_tokens(monkeypatch) -> None:
    # a requirement statement whose sources and targets are fine is read from the
    # frozen arrays; one with something to report takes the general path, which says it
    made = _thawed(monkeypatch)
    text = ("web w1 address 10.0.0.1\nweb w2 address 10.0.0.2\nservice api address 10.0.0.4\n"
            "cluster c {\n  db d1 { primary  address 10.0.0.3 }\n}\n"
            "w1, w2 uses api\n"
            "w1 writes c optional\n"
            "  w2  reads   c,  api\n"
            "w1 uses nowhere\n")
    outcome = load_text(text, "t.topo")
    assert [(r.id, r.span.line, r.span.column) for r in outcome.results] == [("undefined-name", 10, 9)]
    assert made.count("requirement") == 1, made  # only the statement with the undefined name
    made.clear()
    fine = load_text(text.replace("w1 uses nowhere\n", ""), "t.topo")
    assert not fine.results and not made
    reqs = fine.topology.requirements
    assert [(r.source, r.verb.value, r.targets, r.optional) for r in reqs] == [
        ("w1", "uses", ("api",), False), ("w2", "uses", ("api",), False),
        ("w1", "writes", ("c",), True), ("w2", "reads", ("c", "api"), False)]
    assert reqs[0].statement is reqs[1].statement
    assert [(r.span.line, r.span.column, r.span.end_line, r.span.end_column) for r in reqs] == [
        (7, 1, 7, 16), (7, 1, 7, 16), (8, 1, 8, 21), (9, 3, 9, 22)]


def test_components_of_plain_attributes_are_built_without_tokens(monkeypatch) -> None:
    # a component statement whose attributes are plain words with one value each, with
    # nothing to report, is declared and read from the frozen arrays (at 100k components,
    # making its tokens was half of the build); any other takes the general path
    tokens: list = []  # the component statements read as tokens
    original, whole = Record.__getitem__, Record.thaw

    def getitem(self, index):
        if original(self, 0) == "component" and index != 0:
            tokens.append(str(original(self, 2)))
        return original(self, index)

    def thaw(self):
        if original(self, 0) == "component":
            tokens.append(str(original(self, 2)))
        return whole(self)

    monkeypatch.setattr(Record, "__getitem__", getitem)
    monkeypatch.setattr(Record, "thaw", thaw)
    plain = ("zone z1\nzone z2\n"
             "web w1 zone z1 host h1 address 10.0.0.1 address 10.0.0.9 listen tcp/80 listen tcp/81\n"
             "service s1 {\n  zone z2\n  host h2\n  address 10.0.0.2\n  managed\n}\n"
             "cluster c {\n  db d1 { primary  address 10.0.0.3  listen tcp/5432 }\n"
             "  db d2 replica address 10.0.0.4\n}\n")
    outcome = load_text(plain, "t.topo")
    assert not tokens and not outcome.results
    comps = outcome.topology.components
    w1, s1, d2 = comps["w1"], comps["s1"], comps["d2"]
    assert (w1.zone, w1.host, [str(a) for a in w1.addresses], str(w1.listen)) == (
        "z1", "h1", ["10.0.0.1", "10.0.0.9"], "tcp/80-81")
    assert (s1.zone, s1.managed, d2.role.value, d2.cluster) == ("z2", True, "replica", "c")
    assert [(c.span.line, c.span.column, c.span.end_line, c.span.end_column, c.name_column)
            for c in (w1, s1, d2)] == [(3, 1, 3, 85, 5), (4, 1, 9, 2, 9), (12, 3, 12, 33, 6)]
    assert outcome.topology.unit_span(outcome.topology.units_of("w1")[0]) is not None
    # each with something to report, or not plain, takes the general path, which says it
    odd = plain + ("web w2 zone z9 address 10.0.0.5\n"  # an undeclared zone
                   "web w1 address 10.0.0.6\n"  # a name taken
                   "cluster e {\n  lb l1 address 10.0.0.7\n}\n"  # a kind a cluster cannot hold
                   "web w3 zone z1 zone z2\n"  # a single-valued attribute twice
                   "web w4 address 10.0.0.0/24\n")  # a network as an address
    assert [(r.id, r.span.line, r.span.column) for r in load_text(odd, "t.topo").results] == [
        ("undefined-name", 14, 13), ("duplicate-name", 15, 5), ("invalid-attribute", 17, 3),
        ("invalid-attribute", 19, 16), ("invalid-attribute", 20, 16)]
    assert sorted(set(tokens)) == ["l1", "w1", "w2", "w3", "w4"]
    _assert_same(odd)


def _counted(monkeypatch, method: str) -> list:
    """A list that grows by one at each call of ``FastParser.<method>``."""
    calls: list = []
    original = getattr(FastParser, method)

    def counted(self, *args):
        calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(FastParser, method, counted)
    return calls


def _slow_calls(text: str, monkeypatch) -> int:
    calls = _counted(monkeypatch, "_slow")
    _PARSERS.clear()
    try:
        _assert_same(text)
    finally:
        _PARSERS.clear()
    return len(calls)


def test_statements_seen_before_are_replayed(monkeypatch) -> None:
    # 1,000 components of a few statement shapes: Lark's loop parses each shape once
    text = generate(1000, plant=("port-forward",))
    statements = len(parse(text, "t.topo").statements)
    assert statements > 3000
    assert _slow_calls(text, monkeypatch) < 100


def test_the_memo_keeps_each_token_in_its_place(monkeypatch) -> None:
    # the same statements twice over, with other names, spacing and values: the second
    # time each is replayed; lookaheads of each kind (a newline, ';', a comment and
    # blank lines, the end of the file without a newline)
    block = ("web {0}a listen tcp/80\nweb {0}b listen tcp/81 ; web {0}c listen tcp/82\n"
             "web   {0}d listen tcp/{1}   # a comment\n\n;;\nweb {0}e listen tcp/84\n"
             "allow {0}a -> {0}b tcp/80\nallow {0}c, {0}d -> {0}e\nallow {0}d -> {0}e tcp/1; allow {0}e -> {0}a\n")
    text = block.format("x", 83) + block.format("long-name-", 8443) + "web f listen tcp/85"
    assert _slow_calls(text, monkeypatch) <= 12  # 9 statements each once, the first, the last, the end
    names = [str(record[2]) for record in parse(text, "t.topo").statements if record[0] == "component"]
    assert names == [*(p + n for p in ("x", "long-name-") for n in "abcde"), "f"]


def test_without_memo_room_the_records_are_the_same(monkeypatch) -> None:
    monkeypatch.setattr("checker.fastparse._MAX_NODES", 0)
    text = generate(300)
    assert _slow_calls(text, monkeypatch) > 300


def test_a_file_that_misses_the_memo_drops_it(monkeypatch) -> None:
    # each rule one source longer than the one before: each walks the memo, then leaves it
    names = [f"w{i}" for i in range(300)]
    text = "".join(f"web {n}\n" for n in names) + "".join(
        f"allow {', '.join(names[:k])} -> w0 tcp/80\n" for k in range(1, 301))
    walks = _counted(monkeypatch, "_replay")
    slow = _slow_calls(text, monkeypatch)
    assert slow > 300  # every rule is parsed by the loop
    assert len(walks) < 120  # and, after the trial, no longer walks the memo first


@pytest.mark.parametrize(("pattern", "may"), [
    ("[ \t]+", True), (" ", True), ("\\t", True), ("\\s", True), ("[^a]", True), (".", True),
    ("a|\\t", True), ("(a|) ", True), ("(?:x?)?\\ y", True), ("(?=x) ", True), ("(a)\\1", False),
    ("[A-Za-z_]([A-Za-z0-9_.\\-]*[A-Za-z0-9_])?", False), ("(tcp|udp)\\/[0-9]+(-[0-9]+)?", False),
    ("#[^\x00-\x08\n]*", False), ("(a|)b", False), ("\\bx", False), ("[^ \t]", False), ("\"[^\"]*\"", False),
])
def test_which_terminals_may_start_with_a_blank(pattern: str, may: bool) -> None:
    assert _may_start_blank(pattern, []) is may
    assert _may_start_blank(pattern, ["i"]) is True  # flags: not read, so assumed


def test_every_lexer_of_the_grammar_skips_the_blanks_before_a_token() -> None:
    fast = FastParser(lark_parser())
    assert all(match.__self__.pattern.startswith("[ \\t]*(?:") for match, *_ in fast.lexers.values())
    text = "web  a\t\t zone z   # a comment\n\t allow a -> a   \n  \t\nallow a,a\t->a tcp/80\t# end\n"
    _assert_same(text)
    [_, first, second] = parse(text, "t.topo").statements
    assert [(t.value, t.start_pos, t.column) for t in (first[1], first[2][0], first[3][0])] == [
        ("allow", 32, 3), ("a", 38, 9), ("a", 43, 14)]
    assert [(str(t), t.column) for t in second[2]] == [("a", 7), ("a", 9)]


def test_a_terminal_that_may_start_with_a_blank_keeps_lark_s_pattern() -> None:
    from lark import Lark

    from checker.fastparse import _blanks_first

    # after "x" only a word may come; after a word, a word or a gap (" 7")
    grammar = 'start: "x" WORD+ GAP\nWORD: /[a-z]+/\nGAP: / [0-9]/\nWS: /[ \\t]+/\n%ignore WS\n'
    lexers = Lark(grammar, parser="lalr", lexer="contextual").parser.lexer.lexers.values()
    kept = set()
    for state in lexers:
        scanner = state.scanner
        as_lark = _blanks_first(scanner).__self__ is scanner._mres[0]
        assert as_lark == ("GAP" in {t.name for t in scanner.terminals})
        kept.add(as_lark)
    assert kept == {True, False}
