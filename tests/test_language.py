"""Every statement and attribute form of LANGUAGE.md sections 2-3 parses into the model."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from checker.api import load_text
from checker.model import Failover, Kind, Role, Verb
from checker.net import ANY_PORT, PortSet

from .conftest import ROOT

EVERY_FORM = r'''# a comment
topology "every \"form\" \\ here"
zone az-a region seoul; zone az-b
internet users
dns www.example.com {
  managed
  answer lb1, gw1
}
lb lb1 {
  address 203.0.113.10
  address 10.0.0.10
  listen tcp/443 -> web-1, web_2 tcp/8080
  listen udp/53 -> svc
}
gateway gw1 managed address 198.51.100.7 listen 80 -> lb1 tcp/443
web web-1 zone az-a host h1 address 10.0.1.11 listen tcp/8080
web web_2 zone az-b address 10.0.2.11 listen tcp/8000-8099 listen udp/9000
service svc address fd00::5 listen any
cluster orders {
  failover auto
  db db1 { zone az-a  address 10.0.3.10  listen tcp/5432  primary }
  db db2 { zone az-b; address 10.0.4.10; listen tcp/5432; replica }
  db db3 { zone az-b  address 10.0.4.11  listen tcp/5432  replica of db2 }
}
db legacy primary
db legacy-r replica of legacy
web-1, web_2 writes orders
web-1 reads orders, legacy
web_2 uses svc optional
allow internet -> lb1 tcp/443
allow users, 192.0.2.0/24 -> gw1 80
deny any -> orders any
allow lb1 -> web-1, web_2
allow web-1 -> 2001:db8::/32 udp/53
check no-spof k=2
check zone-redundancy level=region
'''


def test_every_form_builds_the_model():
    loaded = load_text(EVERY_FORM, "every.topo")
    assert loaded.results == (), [r.message for r in loaded.results]
    topo = loaded.topology
    assert topo.title == 'every "form" \\ here'
    assert topo.zones["az-a"].region == "seoul" and topo.zones["az-b"].region is None
    comps = topo.components
    assert [c for c in comps] == [
        "users", "www.example.com", "lb1", "gw1", "web-1", "web_2", "svc",
        "db1", "db2", "db3", "legacy", "legacy-r",
    ]
    assert comps["users"].kind is Kind.INTERNET
    assert comps["www.example.com"].managed and comps["www.example.com"].answers == ("lb1", "gw1")
    lb = comps["lb1"]
    assert [str(a) for a in lb.addresses] == ["203.0.113.10", "10.0.0.10"]
    assert lb.listeners[0].targets == ("web-1", "web_2")
    assert lb.listeners[0].ports == PortSet.single("tcp", 443)
    assert lb.listeners[0].target_ports == PortSet.single("tcp", 8080)
    assert lb.listeners[1].target_ports is None and lb.listeners[1].ports == PortSet.single("udp", 53)
    assert comps["gw1"].kind is Kind.GATEWAY and comps["gw1"].listeners[0].ports == PortSet.single("tcp", 80)
    assert comps["web-1"].host == "h1" and comps["web-1"].zone == "az-a"
    assert comps["web_2"].listen == PortSet.single("tcp", 8000, 8099) | PortSet.single("udp", 9000)
    assert comps["svc"].listen == ANY_PORT and comps["svc"].addresses == (ipaddress.ip_address("fd00::5"),)
    orders = topo.clusters["orders"]
    assert orders.members == ("db1", "db2", "db3") and orders.primary == "db1"
    assert orders.failover is Failover.AUTO
    assert comps["db3"].role is Role.REPLICA and comps["db3"].replica_of == "db2"
    assert comps["db2"].replica_of is None and comps["db2"].cluster == "orders"
    implicit = topo.clusters["(cluster of legacy)"]
    assert implicit.implicit and implicit.members == ("legacy", "legacy-r")
    assert implicit.failover is Failover.MANUAL
    reqs = [(r.source, r.verb, r.targets, r.optional) for r in topo.requirements]
    assert reqs == [
        ("web-1", Verb.WRITES, ("orders",), False),
        ("web_2", Verb.WRITES, ("orders",), False),
        ("web-1", Verb.READS, ("orders", "legacy"), False),
        ("web_2", Verb.USES, ("svc",), True),
    ]
    rules = topo.rules
    assert [(r.action, r.line) for r in rules] == [
        ("allow", 30), ("allow", 31), ("deny", 32), ("allow", 33), ("allow", 34)
    ]
    assert [e.kind for e in rules[1].sources] == ["component", "network"]
    assert rules[1].ports == PortSet.single("tcp", 80)
    assert [e.kind for e in rules[2].sources] == ["any"] and rules[2].destinations[0].kind == "cluster"
    assert rules[3].ports == ANY_PORT
    assert str(rules[4].destinations[0].value) == "2001:db8::/32"
    assert [(c.id, c.params) for c in topo.checks] == [
        ("no-spof", (("k", "2"),)),
        ("zone-redundancy", (("level", "region"),)),
    ]


def test_spans_are_exact():
    topo = load_text(EVERY_FORM, "every.topo").topology
    web = topo.components["web-1"]
    assert (web.name_span.line, web.name_span.column, web.name_span.end_column) == (16, 5, 10)
    assert (web.span.line, web.span.column) == (16, 1)
    db2 = topo.components["db2"]
    assert (db2.name_span.line, db2.name_span.column) == (22, 6)
    req = topo.requirements[2]
    assert (req.span.line, req.span.column, req.span.end_column) == (28, 1, 27)
    assert topo.checks[1].span.line == 36


def test_semicolons_and_newlines_are_interchangeable():
    a = load_text("zone z\nweb w zone z\ndb d\nw reads d\n", "a.topo").topology
    b = load_text("zone z; web w zone z; db d; w reads d", "b.topo").topology
    assert a.components.keys() == b.components.keys()
    assert [r.targets for r in a.requirements] == [r.targets for r in b.requirements]


def test_empty_and_comment_only_files_parse():
    for text in ("", "\n\n", "# only a comment\n", ";;\n"):
        loaded = load_text(text, "e.topo")
        assert loaded.topology is not None, text


def test_keywords_may_be_used_as_names_after_the_first_word():
    text = "web primary\ndb replica\nweb w\nw reads replica, primary\nallow primary -> replica\ncheck zone-redundancy level=zone\n"
    loaded = load_text(text, "k.topo")
    assert loaded.topology is not None, [r.message for r in loaded.results]
    assert loaded.topology.requirements[0].targets == ("replica", "primary")


def test_a_keyword_cannot_start_a_statement():
    (error,) = load_text("web primary\nprimary reads x\n", "k.topo").results
    assert error.id == "syntax" and (error.span.line, error.span.column) == (2, 1)


def test_grammar_is_shipped_in_the_package_and_spec():
    spec = ROOT / "spec" / "topology.lark"
    package = ROOT / "checker" / "topology.lark"
    assert spec.read_text() == package.read_text()
    assert Path(spec).resolve() == package.resolve()
