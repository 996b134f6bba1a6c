"""Every statement and attribute of language version 2 (LANGUAGE.md section 7) parses
into the model with exact spans, round-trips through ``fmt``, and each consistency
error a careful user would want is reported at the right place."""

from __future__ import annotations

from fractions import Fraction
from ipaddress import ip_address, ip_network

import pytest

from checker.api import load_text
from checker.fmt import format_text
from checker.model import PRIMARY_OF, REPLICAS_OF, Kind, Role, Span

EVERY_FORM = """\
zone az-a region seoul egress nat-a availability 99.99
zone az-b region seoul
region seoul availability 99.999
clients office address 192.168.10.0/24
clients vpn address 10.8.0.0/16 address fd00:8::/32
service ns1 zone az-a address 10.0.0.53 listen udp/53 availability 99.5
dns www.example.com { served-by ns1; answer lb1; clients office, vpn }
dns api.example.com { address 203.0.113.53; answer lb1 }
lb lb1 {
  managed
  address 203.0.113.10
  listen tcp/443 -> web1, web2, web3 tcp/8080 need 2
  listen tcp/5432 -> primary of orders, replicas of orders
}
gateway nat-a { zone az-a; address 203.0.113.50; address 10.0.0.5 }
web web1 zone az-a address 10.0.1.11 listen tcp/8080
web web2 zone az-b address 10.0.2.11 listen tcp/8080 egress nat-a
web web3 zone az-b address 10.0.2.12 listen tcp/8080
cluster orders { failover auto; db db1 { zone az-a; primary }; db db2 { zone az-b; replica } }
cluster sessions {
  quorum
  service redis1 { zone az-a }
  service redis2 { zone az-b }
  service redis3 { managed; zone az-b }
}
external payments { address 198.51.100.0/24; listen tcp/443 }
job pipeline
pipeline uses web1, web2
web1, web2 uses payments
web1 writes sessions
check availability target=99.95 host=99.9
"""


def _topology():
    loaded = load_text(EVERY_FORM, "v2.topo")
    assert loaded.results == (), [(r.message, r.span) for r in loaded.results]
    return loaded.topology


def test_every_version_two_form_builds_the_model() -> None:
    topo = _topology()
    comps, zones = topo.components, topo.zones
    assert zones["az-a"].region == "seoul" and zones["az-a"].egress == ("nat-a",)
    assert zones["az-a"].availability == Fraction(9999, 10000) and zones["az-b"].availability is None
    assert topo.region_availability == {"seoul": Fraction(99999, 100000)}
    assert comps["office"].kind is Kind.CLIENTS and comps["office"].networks == (ip_network("192.168.10.0/24"),)
    assert comps["vpn"].networks == (ip_network("10.8.0.0/16"), ip_network("fd00:8::/32"))
    assert comps["ns1"].availability == Fraction(995, 1000)
    www = comps["www.example.com"]
    assert www.served_by == ("ns1",) and www.clients == ("office", "vpn") and www.answers == ("lb1",)
    assert comps["api.example.com"].addresses == (ip_address("203.0.113.53"),)
    pool, roles = comps["lb1"].listeners
    assert pool.targets == ("web1", "web2", "web3") and pool.need == 2 and pool.selectors == ()
    assert roles.targets == ("orders", "orders") and roles.selectors == (PRIMARY_OF, REPLICAS_OF)
    assert roles.describe_target(0) == "primary of orders" and roles.need == 1
    assert comps["web2"].egress == ("nat-a",) and topo.egress_of("web1") == ("nat-a",)
    assert topo.egress_of("web3") == ()
    sessions = topo.clusters["sessions"]
    assert sessions.quorum and not sessions.has_roles and sessions.majority == 2
    assert [comps[m].kind for m in sessions.members] == [Kind.SERVICE] * 3
    assert topo.clusters["orders"].primary == "db1" and comps["db2"].role is Role.REPLICA
    assert comps["payments"].kind is Kind.EXTERNAL and comps["payments"].networks == (ip_network("198.51.100.0/24"),)
    assert comps["pipeline"].kind is Kind.JOB
    assert [r.describe() for r in topo.requirements_of("pipeline")] == ["pipeline uses web1, web2"]
    assert topo.services == ("www.example.com", "api.example.com", "pipeline")
    assert topo.name_servers == {"ns1"}
    (check,) = topo.checks
    assert check.id == "availability" and check.params == (("target", "99.95"), ("host", "99.9"))


def test_failure_domains_of_the_new_kinds() -> None:
    topo = _topology()
    for never in ("office", "payments", "pipeline", "www.example.com"):
        assert topo.units_of(never) == (), never  # www is served by its name servers
    assert [u.label for u in topo.units_of("api.example.com")] == ["api.example.com", "zone:(unzoned)",
                                                                  "region:(unregioned)"]
    assert [u.label for u in topo.units_of("redis3")] == ["zone:az-b", "region:seoul"]  # managed, zonal
    assert "redis3" not in {u.name for u in topo.host_units}


def test_exact_spans_of_the_new_declarations() -> None:
    topo = _topology()
    comps = topo.components
    assert comps["office"].name_span == Span("v2.topo", 4, 9, 4, 15)
    assert comps["office"].span == Span("v2.topo", 4, 1, 4, 39)
    assert comps["pipeline"].span == Span("v2.topo", 27, 1, 27, 13)
    assert comps["payments"].span == Span("v2.topo", 26, 1, 26, 62)
    pool, roles = comps["lb1"].listeners
    assert pool.span == Span("v2.topo", 12, 3, 12, 53)
    assert roles.span == Span("v2.topo", 13, 3, 13, 59)
    assert topo.zones["az-a"].span == Span("v2.topo", 1, 6, 1, 10)
    assert topo.region_spans["seoul"] == Span("v2.topo", 1, 18, 1, 23)
    assert topo.clusters["sessions"].span == Span("v2.topo", 20, 9, 20, 17)
    (pipeline_req,) = topo.requirements_of("pipeline")
    assert pipeline_req.span == Span("v2.topo", 28, 1, 28, 25)


def test_fmt_writes_every_version_two_form_canonically_and_keeps_the_model() -> None:
    formatted = format_text(EVERY_FORM, "v2.topo").text
    assert formatted is not None
    assert "zone az-a region seoul egress nat-a availability 99.99\n" in formatted
    assert "region seoul availability 99.999\n" in formatted
    assert "  listen tcp/443 -> web1, web2, web3 tcp/8080 need 2\n" in formatted
    assert "  listen tcp/5432 -> primary of orders, replicas of orders\n" in formatted
    assert "dns www.example.com {\n  served-by ns1\n  answer lb1\n  clients office, vpn\n}\n" in formatted
    assert "cluster sessions {\n  quorum\n" in formatted
    assert "web web2 {\n  zone az-b\n  address 10.0.2.11\n  listen tcp/8080\n  egress nat-a\n}\n" in formatted
    assert format_text(formatted, "v2.topo").text == formatted
    again = load_text(formatted, "v2.topo").topology
    before = _topology()
    assert {n: (c.kind, c.networks, c.clients, c.served_by, c.egress, c.availability, c.listeners and
                [(x.targets, x.selectors, x.need) for x in c.listeners])
            for n, c in again.components.items()} == {
        n: (c.kind, c.networks, c.clients, c.served_by, c.egress, c.availability, c.listeners and
            [(x.targets, x.selectors, x.need) for x in c.listeners])
        for n, c in before.components.items()}


BASE = """\
zone az-a
clients office address 192.168.10.0/24
external payments { address 198.51.100.0/24; listen tcp/443 }
gateway nat-a { zone az-a; address 203.0.113.50 }
service ns1 address 10.0.0.53 listen udp/53
web web1 address 10.0.1.11
web web2 address 10.0.1.12
db db1 primary
cluster orders { db o1 { primary }; db o2 { replica } }
cluster ring { quorum; service e1; service e2; service e3 }
job pipeline
"""


@pytest.mark.parametrize("line, where, message", [
    ("lb lb1 { listen tcp/443 -> web1, web2 need 3 }", (12, 44),
     "need 3 is more than the listener's 2 targets, so it never serves"),
    ("lb lb1 { listen tcp/443 -> orders need 3 }", (12, 40), "need 3 is more than the listener's 2 targets"),
    ("lb lb1 { listen tcp/443 -> web1 need 0 }", (12, 38), "need 0: expected a whole number of at least 1"),
    ("lb lb1 { listen tcp/443 -> primary of ring }", (12, 28),
     "'primary of ring': cluster 'ring' has no roles (a consensus group), so it has no primary"),
    ("lb lb1 { listen tcp/443 -> primary of web1 }", (12, 28),
     "'primary of web1' names web 'web1'; a role belongs to a cluster"),
    ("external bad { address 10.1.0.0/16 }", (12, 24),
     "external 'bad' has the private address 10.1.0.0/16; an external target is on the internet"),
    ("web web3 egress web1", (12, 17), "egress gateway 'web1' is a web, not a gateway"),
    ("zone az-b egress ns1", (12, 18), "egress gateway 'ns1' is a service, not a gateway"),
    ("job j2 address 10.0.9.9", (12, 8), "'address' does not apply to job 'j2'"),
    ("job j2 zone az-a", (12, 8), "'zone' does not apply to job 'j2'"),
    ("cluster mixed { db m1 { primary }; service m2 { replica } }", (12, 44),
     "cluster 'mixed' mixes member kinds: 'm1' is a db, 'm2' a service"),
    ("cluster half { quorum; service h1 { primary }; service h2 }", (12, 56),
     "in a quorum cluster either every member has a role or none does"),
    ("cluster bare { service b1; service b2 }", (12, 24), "cluster member 'b1' needs a role"),
    ("service lone primary", (12, 14), "service 'lone' has a role outside any cluster"),
    ("dns d1 { served-by ns1; address 203.0.113.9; answer web1 }", (12, 10),
     "dns 'd1' takes 'served-by' or 'address', not both"),
    ("dns d1 { managed; served-by ns1; answer web1 }", (12, 19), "dns 'd1' is managed (run by a provider)"),
    ("dns d1 { clients web1; answer web1 }", (12, 18), "client group 'web1' is a web, not a clients or internet"),
    ("dns d1 { served-by payments; answer web1 }", (12, 20),
     "name server 'payments' is an external, not a service or web"),
    ("dns d1 { answer payments }", (12, 17), "answer 'payments' is an external, not a server"),
    ("web1 uses office", (12, 11), "'office' is a clients, never a requirement target"),
    ("web1 uses pipeline", (12, 11), "'pipeline' is a job, never a requirement target"),
    ("payments uses web1", (12, 1), "'payments' is an external; only web, service and job components issue requests"),
    ("allow pipeline -> web1", (12, 7), "'pipeline' is a job: it has no address, so no rule can match its packets"),
    ("web web3 availability 100", (12, 23), "is not a percentage strictly between 0 and 100"),
    ("web web3 managed availability 99", (12, 18), "'web3' is managed, so it never fails as a host"),
    ("web web3 host h1 availability 99\nweb web4 host h1 availability 98", (13, 18),
     "host 'h1' is given availability 99 by 'web3' and 98 by 'web4'; a machine has one availability"),
    ("zone az-a region r1", (12, 6), "zone 'az-a' is declared twice"),
    ("zone az-c region r1 region r2", (12, 21), "'region' is given twice for zone 'az-c'"),
    ("region r9 availability 0", (12, 24), "region 'r9' availability: 0 is not a percentage"),
    ("web web3 quorum", (12, 10), "'quorum' does not apply to web 'web3'"),
    ("check availability host=99", (12, 1), "check 'availability' needs target="),
    ("check availability target=100", (12, 27), "check 'availability' target=100: 100 is not a percentage"),
])
def test_consistency_errors_are_located(line: str, where: tuple[int, int], message: str) -> None:
    loaded = load_text(BASE + line + "\n", "bad.topo")
    assert loaded.topology is None
    found = [(r.span.line, r.span.column, r.message) for r in loaded.results]
    assert any((l, c) == where and message in m for l, c, m in found), found


def test_undefined_names_in_version_two_forms_get_a_did_you_mean() -> None:
    loaded = load_text(BASE + "dns d1 { served-by ns2; answer web1 }\nweb web3 egress nat-b\n", "bad.topo")
    found = {(r.span.line, r.span.column): (r.message, r.hint) for r in loaded.results}
    assert found[(12, 20)] == ("undefined name server 'ns2'", "did you mean 'ns1'?")
    assert found[(13, 17)] == ("undefined egress gateway 'nat-b'", "did you mean 'nat-a'?")
