"""Tests of the topology strategies themselves.

The first group needs no parser: a small independent reader of the generated
text (:func:`read_declarations`) checks that braces balance, names are unique,
every referenced name is declared and the failure-unit bound holds. The second
group loads every generated file with ``checker.api.load_text`` and expects no
errors; it is skipped while the checker cannot be imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings

from tests.strategies import CHECK_IDS, KEYWORDS, mutated, topologies
from tests.conftest import examples

_COMPONENT_KINDS = {"internet", "dns", "lb", "gateway", "web", "service", "db", "clients", "job", "external"}
_TOKEN = re.compile(
    r'"(?:[^"\\\n]|\\["\\])*"'  # string
    r"|(?:tcp|udp)/\d+(?:-\d+)?"  # port
    r"|\d+\.\d+\.\d+\.\d+(?:/\d+)?"  # address or CIDR
    r"|[0-9A-Fa-f]*:[0-9A-Fa-f:]*(?:/\d+)?"  # IPv6 address or CIDR
    r"|\d+\.\d+"  # a percentage
    r"|->|[{},;=\n]"
    r"|[A-Za-z_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?"  # name
    r"|\d+"
)
_PORT_OR_NUMBER = re.compile(r"^(?:(?:tcp|udp)/\d+(?:-\d+)?|\d+)$")
_ADDRESS = re.compile(r"^(?:\d+\.\d+\.\d+\.\d+|[0-9A-Fa-f]*:[0-9A-Fa-f:]*)(?:/\d+)?$")
_LIST_KEYS = ("clients", "served-by", "egress")


@dataclass
class Declarations:
    """What the reader found: declared names and every name used as a reference."""

    components: dict[str, dict[str, object]] = field(default_factory=dict)
    clusters: set[str] = field(default_factory=set)
    zones: set[str] = field(default_factory=set)
    duplicates: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    zone_references: list[str] = field(default_factory=list)
    requirement_sources: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    listener_targets: list[str] = field(default_factory=list)


def tokenize(text: str) -> list[str]:
    """Tokens of ``text`` without comments or blanks; newlines kept as ``\\n``."""
    text = re.sub(r"#[^\n]*", "", text)
    tokens = _TOKEN.findall(text)
    assert not _TOKEN.sub("", text).strip(), "untokenizable text"
    return tokens


def statements(tokens: list[str]) -> list[list[str]]:
    """Split at newlines and ``;`` outside braces."""
    out: list[list[str]] = [[]]
    depth = 0
    for token in tokens:
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        if token in ("\n", ";") and depth == 0:
            out.append([])
        else:
            out[-1].append(token)
    return [s for s in out if s]


def _attributes(tokens: list[str]) -> list[list[str]]:
    """Attribute groups: each starts at an attribute keyword."""
    starts = {"zone", "host", "address", "managed", "listen", "answer", "primary", "replica", "failover",
              "clients", "served-by", "egress", "availability", "quorum"}
    groups: list[list[str]] = []
    for token in tokens:
        # `primary` right after `->` or `,` is a listener target (`primary of C`), not a role
        if token in starts and not (token == "primary" and groups and groups[-1][-1] in ("->", ",")):
            groups.append([token])
        elif token not in ("{", "}", "\n", ";"):
            assert groups, f"stray token {token!r}"
            groups[-1].append(token)
    return groups


def _component(decl: Declarations, kind: str, tokens: list[str], cluster: str | None) -> None:
    name = tokens[0]
    if name in decl.components or name in decl.clusters:
        decl.duplicates.append(name)
    info: dict[str, object] = {"kind": kind, "managed": False, "host": None, "zone": None, "cluster": cluster}
    for group in _attributes(tokens[1:]):
        key = group[0]
        if key == "managed":
            info["managed"] = True
        elif key == "zone":
            info["zone"] = group[1]
            decl.zone_references.append(group[1])
        elif key == "host":
            info["host"] = group[1]
        elif key == "replica" and len(group) == 3:
            decl.references.append(group[2])
        elif key == "answer":
            names = [t for t in group[1:] if t != ","]
            decl.answers.extend(names)
            decl.references.extend(names)
        elif key == "listen" and "->" in group:
            tail = group[group.index("->") + 1 :]
            names = [t for t in tail if t not in (",", "any", "of", "primary", "replicas", "need")
                     and not _PORT_OR_NUMBER.match(t)]
            decl.listener_targets.extend(names)
            decl.references.extend(names)
        elif key in _LIST_KEYS:
            names = [t for t in group[1:] if t != ","]
            info.setdefault(key, []).extend(names)  # type: ignore[union-attr]
            decl.references.extend(names)
    decl.components[name] = info


def read_declarations(text: str) -> Declarations:
    """An independent, forgiving reader of generated files (not a parser)."""
    decl = Declarations()
    for stmt in statements(tokenize(text)):
        head = stmt[0]
        if head == "topology":
            continue
        if head == "zone":
            if stmt[1] in decl.zones:
                decl.duplicates.append(stmt[1])
            decl.zones.add(stmt[1])
            if "egress" in stmt:
                tail = stmt[stmt.index("egress") + 1 :]
                if "region" in tail:
                    tail = tail[: tail.index("region")]
                decl.references.extend(t for t in tail if t != ",")
        elif head in _COMPONENT_KINDS:
            _component(decl, head, stmt[1:], None)
        elif head == "cluster":
            name = stmt[1]
            if name in decl.components or name in decl.clusters:
                decl.duplicates.append(name)
            decl.clusters.add(name)
            body = stmt[stmt.index("{") + 1 : -1]
            for line in statements(body):  # the body's lines, nested blocks kept whole
                if line[0] in ("db", "service"):
                    _component(decl, line[0], line[1:], name)
        elif head in ("allow", "deny"):
            for token in stmt[1:]:
                if token not in ("->", ",", "any", "internet") and not _ADDRESS.match(token) \
                        and not _PORT_OR_NUMBER.match(token):
                    decl.references.append(token)
        elif head == "check":
            assert stmt[1] in CHECK_IDS
        else:
            verb_at = next(i for i, t in enumerate(stmt) if t in ("reads", "writes", "uses"))
            sources = [t for t in stmt[:verb_at] if t != ","]
            targets = [t for t in stmt[verb_at + 1 :] if t not in (",", "optional")]
            decl.requirement_sources.extend(sources)
            decl.references.extend(sources + targets)
    return decl


def host_units(decl: Declarations) -> set[str]:
    """Distinct hosts of the components that can fail as hosts: not managed, not the
    internet, a client group, a job or an external target, not a dns with served-by."""
    return {
        str(info["host"] or f"implicit:{name}")
        for name, info in decl.components.items()
        if not info["managed"] and info["kind"] not in ("internet", "clients", "job", "external")
        and not info.get("served-by")
    }


# ---------------------------------------------------------------------------
# Without the parser.
# ---------------------------------------------------------------------------


@settings(max_examples=examples(50), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=topologies(max_hosts=8, with_checks=True))
def test_generated_files_are_well_formed(text: str) -> None:
    depth = 0
    for token in tokenize(text):
        depth += {"{": 1, "}": -1}.get(token, 0)
        assert depth >= 0
    assert depth == 0

    decl = read_declarations(text)
    assert decl.duplicates == []
    known = set(decl.components) | decl.clusters
    assert set(decl.references) <= known
    assert set(decl.zone_references) <= decl.zones
    assert not (known | decl.zones) & KEYWORDS
    assert len(host_units(decl)) <= 8

    zone_of_host: dict[str, object] = {}
    for info in decl.components.values():
        if info["host"] is not None:
            assert zone_of_host.setdefault(info["host"], info["zone"]) == info["zone"]
    for source in decl.requirement_sources:
        assert decl.components[source]["kind"] in ("web", "service", "job")
    for answer in decl.answers:
        assert answer in decl.clusters or decl.components[answer]["kind"] not in ("dns", "internet")
    for target in decl.listener_targets:
        assert target in decl.clusters or decl.components[target]["kind"] != "dns"


@settings(max_examples=examples(30), deadline=None)
@given(text=topologies(max_hosts=3))
def test_host_bound_is_respected(text: str) -> None:
    assert len(host_units(read_declarations(text))) <= 3


@settings(max_examples=examples(20), deadline=None)
@given(text=topologies(with_policy=False))
def test_without_policy_has_no_rules(text: str) -> None:
    assert not any(s[0] in ("allow", "deny") for s in statements(tokenize(text)))


@settings(max_examples=examples(20), deadline=None)
@given(text=topologies(with_policy=True))
def test_with_policy_has_rules(text: str) -> None:
    assert any(s[0] in ("allow", "deny") for s in statements(tokenize(text)))


@settings(max_examples=examples(30), deadline=None)
@given(text=topologies().flatmap(mutated))
def test_mutated_gives_text(text: str) -> None:
    assert isinstance(text, str)


# ---------------------------------------------------------------------------
# With the parser (skipped until ``checker.api`` is importable).
# ---------------------------------------------------------------------------


def _load_text() -> Callable[[str, str], Any]:
    """``checker.api.load_text``, or skip the test while it cannot be imported."""
    api = pytest.importorskip("checker.api")
    return api.load_text  # type: ignore[no-any-return]


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=topologies(with_checks=True))
def test_generated_files_load_without_errors(text: str) -> None:
    loaded = _load_text()(text, "generated.topo")
    errors = [(r.id, r.message, r.span) for r in loaded.results if r.severity.value == "error"]
    assert errors == [], text
    assert loaded.topology is not None


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=topologies().flatmap(mutated))
def test_mutated_files_never_crash_the_loader(text: str) -> None:
    loaded = _load_text()(text, "mutated.topo")
    assert loaded.topology is not None or loaded.results


# ---------------------------------------------------------------------------
# The benchmark generator (benchmarks/generate.py) shares the same reader.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, options",
    [(3, {}), (10, {}), (120, {}), (300, {"n_clusters": 12, "zones": 1, "regions": 0}), (200, {"rules_per_component": 6.0})],
)
def test_benchmark_generator_is_well_formed(n: int, options: dict[str, object]) -> None:
    from benchmarks.generate import generate

    text = generate(n, **options)  # type: ignore[arg-type]
    assert text == generate(n, **options)  # type: ignore[arg-type]
    decl = read_declarations(text)
    assert decl.duplicates == []
    assert len(decl.components) == n + 1  # and `internet users`
    assert set(decl.references) <= set(decl.components) | decl.clusters
    assert set(decl.zone_references) <= decl.zones
    # The rule budget is met exactly whenever it exceeds the rules the service needs.
    rules = sum(1 for s in statements(tokenize(text)) if s[0] in ("allow", "deny"))
    assert rules == round(float(options.get("rules_per_component", 2.5)) * n)  # type: ignore[arg-type]


def test_benchmark_generator_rejects_impossible_sizes() -> None:
    from benchmarks.generate import generate

    with pytest.raises(ValueError):
        generate(10, n_clusters=3)


def test_benchmark_files_load_and_are_available() -> None:
    api = pytest.importorskip("checker.api")
    from benchmarks.generate import generate

    for n in (5, 60, 150):
        report = api.check_text(generate(n, seed=n), "bench.topo", select=["available"])
        assert [(r.id, r.status.value) for r in report.results] == [("available", "proved")]
