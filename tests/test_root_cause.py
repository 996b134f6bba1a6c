"""One finding per mistake: denied connections grouped by the rule change that allows them.

The seed's replicated-database stage with one mistake in its policy (a wrong port, a
source left out, the rule missing, the rule shadowed by an earlier deny) gives exactly
one ``connection-denied`` finding, at the place to edit, naming the near miss; the other
checks cite it. Every suggested fix, applied to the text, allows what the finding lists.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from checker.api import check_text, load_text
from checker.checks.connection_denied import decided_connections, needed_connections
from checker.cli import main
from checker.context import Context
from checker.engines.root_cause import findings
from checker.reporters import text
from tests.conftest import REPLICATED, examples
from tests.strategies import topologies

BASE = REPLICATED
RULE = "allow web1, web2 -> orders tcp/5432\n"

DOWN = """\
m.topo:4:5: error[available] 'www.example.com' is down with nothing failed: www.example.com needs connections the policy denies (see connection-denied at line {line})
     4 | dns www.example.com {{ managed; answer lb1 }}
       |     ^^^^^^^^^^^^^^^
       = hint: fix what connection-denied reports
    counterexample:
      failed: (none)
      stopped: www.example.com
      because www.example.com needs connections the policy denies (see connection-denied at line {line})
m.topo:{spof}:1: error[no-spof] 'www.example.com' is already down with nothing failed (see available at line 4), so no failure was analysed
    {spof} | check no-spof
       | ^^^^^^^^^^^^^
       = hint: make the service available first
    counterexample:
      failed: (none)
      stopped: www.example.com
      because www.example.com is already down with nothing failed (see available at line 4)
m.topo:{zone}:1: error[zone-redundancy] 'www.example.com' is already down with nothing failed (see available at line 4), so no failure was analysed
    {zone} | check zone-redundancy
       | ^^^^^^^^^^^^^^^^^^^^^
       = hint: make the service available first
    counterexample:
      failed: (none)
      stopped: www.example.com
      because www.example.com is already down with nothing failed (see available at line 4)
"""
ALL_SIX = ("web1 -> db1 tcp/5432, web1 -> db2 tcp/5432, web1 -> db3 tcp/5432, "
           "web2 -> db1 tcp/5432, web2 -> db2 tcp/5432, web2 -> db3 tcp/5432")

WRONG_PORT = DOWN.format(line=23, spof=25, zone=26) + f"""\
m.topo:23:1: error[connection-denied] the rule at line 23 allows tcp/5433; db1, db2 and db3 listen on tcp/5432: 6 connections the model needs are denied (lines 19, 20)
    23 | allow web1, web2 -> orders tcp/5433
       | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
       = hint: change line 23 to 'allow web1, web2 -> orders tcp/5432'
    counterexample:
      near_miss: port
      rule: 23
      denied: {ALL_SIX}
      needed_by: 19, 20
      fix: allow web1, web2 -> orders tcp/5432
m.topo: 7 proved, 4 refuted, 0 unknown; proved: shadowed-rule, replication-source, replication-cycle, replication-blocked, failover-single-member, replicas-colocated, open-network
"""

MISSING = DOWN.format(line=19, spof=24, zone=25) + f"""\
m.topo:19:1: error[connection-denied] no rule allows web1, web2 -> orders tcp/5432: 6 connections the model needs are denied (lines 19, 20)
    19 | web1, web2 writes orders
       | ^^^^^^^^^^^^^^^^^^^^^^^^
       = hint: add 'allow web1, web2 -> orders tcp/5432'
    counterexample:
      near_miss: (none)
      rule: (none)
      denied: {ALL_SIX}
      needed_by: 19, 20
      fix: allow web1, web2 -> orders tcp/5432
m.topo: 7 proved, 4 refuted, 0 unknown; proved: shadowed-rule, replication-source, replication-cycle, replication-blocked, failover-single-member, replicas-colocated, open-network
"""

SHADOWED = DOWN.format(line=23, spof=26, zone=27) + f"""\
m.topo:24:1: warning[shadowed-rule] the rule at line 24 can never match: the rule at line 23 covers every packet it matches
    24 | allow web1, web2 -> orders tcp/5432
       | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
       = hint: move the narrower rule above the broader one, or delete it
    counterexample:
      rule: 24
      shadowed_by: 23
m.topo:23:1: error[connection-denied] the rule at line 23 denies what the rule at line 24 allows, and comes first: 6 connections the model needs are denied (lines 19, 20)
    23 | deny web1, web2 -> orders any
       | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
       = hint: put 'allow web1, web2 -> orders tcp/5432' above line 23
    counterexample:
      near_miss: shadowed
      rule: 24
      denied: {ALL_SIX}
      needed_by: 19, 20
      fix: allow web1, web2 -> orders tcp/5432
m.topo: 6 proved, 5 refuted, 0 unknown; proved: replication-source, replication-cycle, replication-blocked, failover-single-member, replicas-colocated, open-network
"""

# One web server left out: the service is up, web1 is a single point of failure because
# of it, and the failure checks cite the finding where their explanation crosses it.
WRONG_SOURCE = """\
m.topo:11:5: error[no-spof] single point of failure: 'web1' stops 'www.example.com'
    11 | web web1 zone az-a address 10.0.1.11 listen tcp/8080
       |     ^^^^
       = hint: add redundancy on a separate host for what the counterexample names
    counterexample:
      failed: web1
      stopped: www.example.com
      because failing web1 stops www.example.com: www.example.com -> lb1 -> web1: web1 is down (failed: web1)
      because failing web1 stops www.example.com: www.example.com -> lb1 -> web2: web2 writes orders (line 19): web2 -> db1 tcp/5432 is denied (see connection-denied at line 23)
      because failing web1 stops www.example.com: www.example.com -> lb1 -> web2: web2 reads orders (line 20): web2 -> db1 tcp/5432 is denied (see connection-denied at line 23)
m.topo:2:6: error[zone-redundancy] losing one zone stops a service: 'zone:az-a' stops 'www.example.com'
     2 | zone az-a region seoul
       |      ^^^^
       = hint: spread every tier over at least two zones
    counterexample:
      failed: zone:az-a
      stopped: www.example.com
      because failing zone:az-a stops www.example.com: www.example.com -> lb1 -> web1: web1 is down (failed: zone:az-a)
      because failing zone:az-a stops www.example.com: www.example.com -> lb1 -> web2: web2 writes orders (line 19): web2 -> db2 tcp/5432 is denied (see connection-denied at line 23)
      because failing zone:az-a stops www.example.com: www.example.com -> lb1 -> web2: web2 reads orders (line 20): web2 -> db2 tcp/5432 is denied (see connection-denied at line 23)
m.topo:23:1: error[connection-denied] the rule at line 23 allows web1 -> orders tcp/5432 but not from web2: 3 connections the model needs are denied (lines 19, 20)
    23 | allow web1 -> orders tcp/5432
       | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
       = hint: add web2 to its sources: 'allow web1, web2 -> orders tcp/5432'
    counterexample:
      near_miss: source
      rule: 23
      denied: web2 -> db1 tcp/5432, web2 -> db2 tcp/5432, web2 -> db3 tcp/5432
      needed_by: 19, 20
      fix: allow web1, web2 -> orders tcp/5432
m.topo: 8 proved, 3 refuted, 0 unknown; proved: available, shadowed-rule, replication-source, replication-cycle, replication-blocked, failover-single-member, replicas-colocated, open-network
"""

VARIANTS = {
    "wrong-port": (BASE.replace(RULE, RULE.replace("5432", "5433")), WRONG_PORT),
    "wrong-source": (BASE.replace(RULE, "allow web1 -> orders tcp/5432\n"), WRONG_SOURCE),
    "missing-rule": (BASE.replace(RULE, ""), MISSING),
    "shadowed-by-deny": (BASE.replace(RULE, "deny web1, web2 -> orders any\n" + RULE), SHADOWED),
}


def test_the_example_itself_is_proved() -> None:
    report = check_text(BASE, "m.topo")
    assert [r.id for r in report.results if r.status.value != "proved"] == []


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_one_mistake_is_one_finding(variant: str) -> None:
    source, expected = VARIANTS[variant]
    report = check_text(source, "m.topo")
    assert text.render([report]) == expected
    assert [r.id for r in report.results if r.id == "connection-denied" and r.status.value == "refuted"] \
        == ["connection-denied"]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_file_still_fails(variant: str, tmp_path: Path) -> None:
    path = tmp_path / "m.topo"
    path.write_text(VARIANTS[variant][0], encoding="utf-8")
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert main(["check", str(path)]) == 1


def test_down_services_are_never_proved_tolerant() -> None:
    report = check_text(VARIANTS["wrong-port"][0], "m.topo")
    by_id = {r.id: r for r in report.results}
    assert by_id["no-spof"].status.value == "refuted" and by_id["no-spof"].margin == 0
    assert by_id["zone-redundancy"].status.value == "refuted"
    assert by_id["no-spof"].counterexamples[0].fields["failed"] == []


def test_without_available_the_failure_checks_explain_in_full() -> None:
    report = check_text(VARIANTS["wrong-port"][0], "m.topo", ignore=["available"])
    (spof,) = [r for r in report.results if r.id == "no-spof"]
    assert spof.message == "'www.example.com' is already down with nothing failed (see available)"
    assert spof.counterexamples[0].fields["explanation"][0] == (
        "www.example.com is already down with nothing failed (see available): www.example.com -> lb1 -> web1: "
        "web1 writes orders (line 19): web1 -> db1 tcp/5432 is denied (see connection-denied at line 23)")


def _finding_texts(source: str) -> list[tuple[str, int, str, str]]:
    report = check_text(source, "m.topo", select=["connection-denied"])
    return [(r.status.value, r.span.line if r.span else 0, r.message, r.hint or "") for r in report.results]


def test_the_failure_checks_do_not_evaluate_again_what_available_found_down(monkeypatch) -> None:
    """``available`` evaluates the file with the reference evaluator; the failure checks
    that refer to it take its list of down services for the circuit's claim, and
    replay the claim themselves only when it is not there (``available`` ignored)."""
    from checker.engines import failure_report

    replays: list[tuple] = []
    replay = failure_report.stopping_counterexample

    def counting(topology, evaluator, units, check_id, *args, **kwargs):
        replays.append((check_id, tuple(units)))
        return replay(topology, evaluator, units, check_id, *args, **kwargs)

    monkeypatch.setattr(failure_report, "stopping_counterexample", counting)
    source = VARIANTS["wrong-port"][0]
    report = check_text(source, "m.topo")
    assert [r.id for r in report.results if "already down" in r.message] == ["no-spof", "zone-redundancy"]
    assert replays == []
    report = check_text(source, "m.topo", ignore=["available"])
    assert replays == [("no-spof", ()), ("zone-redundancy", ())]
    assert [r.message for r in report.results if r.id == "zone-redundancy"] == [
        "'www.example.com' is already down with nothing failed (see available)"]


def test_a_deny_with_no_allow_to_move_is_one_finding_at_the_deny() -> None:
    source = BASE.replace(RULE, "deny 10.0.0.0/8 -> orders any\n" + RULE.replace("5432", "5433"))
    assert _finding_texts(source) == [(
        "refuted", 23,
        "the rule at line 23 denies what the model needs: 6 connections the model needs are denied (lines 19, 20)",
        "put 'allow web1, web2 -> orders tcp/5432' above line 23",
    )]


def test_each_rule_to_add_is_its_own_finding() -> None:
    source = BASE.replace("allow lb1 -> web1, web2 tcp/8080\n", "").replace(RULE, "")
    assert _finding_texts(source) == [
        ("refuted", 9, "no rule allows lb1 -> web1, web2 tcp/8080: 2 connections the model needs are denied (line 9)",
         "add 'allow lb1 -> web1, web2 tcp/8080'"),
        ("refuted", 19, "no rule allows web1, web2 -> orders tcp/5432: 6 connections the model needs are denied "
         "(lines 19, 20)", "add 'allow web1, web2 -> orders tcp/5432'"),
    ]


def test_a_rule_for_another_tier_is_not_a_near_miss() -> None:
    # 'allow orders -> orders tcp/5432' matches the databases and the port, but its
    # sources are databases: it is no near miss for the web servers' connections.
    (finding,) = _finding_texts(BASE.replace(RULE, ""))
    assert finding[2].startswith("no rule allows web1, web2 -> orders tcp/5432")


def test_a_port_near_miss_in_use_is_kept_and_a_rule_added() -> None:
    source = BASE.replace(RULE, "allow web1, web2 -> orders, lb1 tcp/443\n") \
        .replace("web1, web2 reads orders\n", "web1, web2 reads orders\nweb1 uses lb1\n")
    texts = _finding_texts(source)
    assert texts == [("refuted", 24, "the rule at line 24 allows tcp/443; db1, db2 and db3 listen on tcp/5432: "
                      "6 connections the model needs are denied (lines 19, 20)",
                      "put 'allow web1, web2 -> orders, lb1 tcp/5432' above line 24")]


# -- every fix fixes what it says ------------------------------------------------


def _apply(source: str, finding) -> str:
    """The file with ``finding.fix`` applied as its ``edit`` says."""
    lines = source.split("\n")

    def offset(line: int, column: int) -> int:
        return sum(len(text) + 1 for text in lines[: line - 1]) + column - 1

    if finding.edit == "replace":
        span = finding.rule.span
        start, end = offset(span.line, span.column), offset(span.end_line, span.end_column)
        return source[:start] + finding.fix[0] + source[end:]
    if finding.edit == "insert":
        span = finding.anchor.span
        start = offset(span.line, span.column)
        return source[:start] + "\n".join(finding.fix) + "\n" + source[start:]
    return source + "\n".join(finding.fix) + "\n"


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(topologies(max_hosts=6, with_policy=True))
def test_every_fix_allows_the_connections_it_names(source: str) -> None:
    topology = load_text(source, "m.topo").topology
    assert topology is not None
    for finding in findings(Context(topology)):
        if finding.edit == "none":  # no rule can allow it: the ends cannot reach each other
            assert finding.kind == "unreachable" and not finding.fix
            continue
        fixed = load_text(_apply(source, finding), "m.topo").topology
        assert fixed is not None, (finding.edit, finding.fix)
        context = Context(fixed)
        needed = {(s, t, p) for s, t, p, _, _ in needed_connections(fixed, context)}
        still_denied = {(s, t, p) for (s, t, p, _, _), _ in decided_connections(context).denied}
        for denied in finding.denied:
            key = (denied.source, denied.target, denied.ports)
            assert key in needed and key not in still_denied, (finding.message, finding.fix, str(denied))


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(topologies(max_hosts=6, with_policy=True))
def test_near_misses_from_the_rules_of_either_end_are_those_of_every_rule(source: str) -> None:
    """The near-miss search reads only the rules that match one end of a packet (the
    policy index's buckets): the findings are those of reading every rule."""
    from checker.engines import root_cause

    topology = load_text(source, "m.topo").topology
    assert topology is not None
    indexed = root_cause._analyse(Context(topology))
    every_rule = root_cause._Matcher._candidates
    try:
        root_cause._Matcher._candidates = lambda self, src, dst: self.topology.rules
        plain = root_cause._analyse(Context(topology))
    finally:
        root_cause._Matcher._candidates = every_rule
    assert [(f.message, f.fix, f.span) for f in indexed] == [(f.message, f.fix, f.span) for f in plain]


def test_ten_thousand_near_misses_each_get_their_own_finding() -> None:
    """2,000 web servers, each allowed to the service of the next one but not to its own:
    each denied connection is one finding at the rule that nearly allows it (the search
    once ran out of its budget after a few hundred, grouping the rest at the last deny)."""
    n = 2000
    lines = ["internet users", "dns www { managed; answer lb }",
             "lb lb { managed; address 203.0.113.10; address 10.255.0.1; listen tcp/443 -> "
             + ", ".join(f"w{i}" for i in range(n)) + " tcp/8080 }"]
    for i in range(n):
        lines += [f"web w{i} address 10.0.{i >> 8}.{i & 255} listen tcp/8080",
                  f"service s{i} address 10.1.{i >> 8}.{i & 255} listen tcp/9000", f"w{i} uses s{i}"]
    lines += ["allow internet -> lb tcp/443", "allow lb -> 10.0.0.0/16 tcp/8080"]
    lines += [f"allow w{i} -> s{(i + 1) % n} tcp/9000" for i in range(n)]
    lines.append("deny any -> any")
    topology = load_text("\n".join(lines) + "\n", "m.topo").topology
    found = findings(Context(topology))
    assert len(found) == n and all(f.kind in ("source", "destination") for f in found)
    first = 3 + 3 * n + 3  # the line of the rule for w0 (after the two that reach the web servers)
    assert found[0].message == (f"the rule at line {first} allows w0 -> s1 tcp/9000 but not from w1: "
                                "w1 -> s1 tcp/9000 is denied (the requirement 'w1 uses s1' needs it)")


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies(max_hosts=6, with_policy=True, with_checks=True))
def test_a_service_down_with_nothing_failed_is_never_proved_tolerant(source: str) -> None:
    report = check_text(source, "m.topo")
    by_id = {r.id: r for r in report.results}
    if by_id["available"].status.value != "refuted":
        return
    for check_id in ("no-spof", "zone-redundancy"):
        if check_id in by_id:
            assert by_id[check_id].status.value == "refuted", by_id[check_id].message
            assert by_id[check_id].counterexamples[0].fields["failed"] == []


def test_a_connection_no_rule_can_allow_says_why() -> None:
    # an IPv6-only gateway forwarding to an IPv4-only web server: no packet at all
    source = ("dns www managed answer gw1\n"
              "gateway gw1 managed address 2001:db8::b listen tcp/443 -> web1 tcp/8080\n"
              "web web1 address 10.9.1.10 listen tcp/8080\n"
              "allow internet -> gw1 tcp/443\n"
              "allow gw1 -> web1 tcp/8080\n")
    assert _finding_texts(source) == [(
        "refuted", 2,
        "no rule can allow gw1 -> web1 tcp/8080: gw1 and web1 have no addresses of one family "
        "(the listener tcp/443 of gw1 needs it)",
        "give web1 an address of the family gw1 has (or the other way round)",
    )]
