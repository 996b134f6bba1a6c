"""The reference evaluator on version 2 of the language (LANGUAGE.md section 7), one
hand-written case per rule: each asserts which services are up in which scenario,
and why not (the explanation names the new things: the name server, the job, the
NAT gateway, the cluster that lost its majority)."""

from __future__ import annotations

from checker.api import load_text
from checker.evaluator import Evaluator
from checker.model import FailureUnit


def ev(text: str) -> Evaluator:
    loaded = load_text(text, "v2.topo")
    assert loaded.topology is not None, [(r.message, r.span) for r in loaded.results]
    return Evaluator(loaded.topology)


def host(name: str, implicit: bool = True) -> FailureUnit:
    return FailureUnit("host", name, implicit=implicit)


def zone(name: str) -> FailureUnit:
    return FailureUnit("zone", name)


def stopped(e: Evaluator, *units: FailureUnit) -> list[str]:
    return e.stopped(frozenset(units))


def why(e: Evaluator, service: str, *units: FailureUnit) -> str:
    return "\n".join(x.text for x in e.explain(service, frozenset(units)))


# -- 7.1 client groups ----------------------------------------------------------------

ADMIN = """
clients office address 192.168.10.0/24
clients vpn address 10.8.0.0/16
dns admin.corp.example { managed; answer ilb1; clients office, vpn }
lb ilb1 { managed; address 10.0.5.1; listen tcp/443 -> admin1 tcp/8080 }
web admin1 address 10.0.5.11 listen tcp/8080
allow office, vpn -> ilb1 tcp/443
allow ilb1 -> admin1 tcp/8080
"""


def test_private_client_groups_reach_a_private_answer() -> None:
    e = ev(ADMIN)
    assert stopped(e) == []
    assert stopped(e, host("admin1")) == ["admin.corp.example"]


def test_every_listed_group_must_reach_the_name() -> None:
    e = ev(ADMIN.replace("allow office, vpn -> ilb1 tcp/443", "allow office -> ilb1 tcp/443"))
    assert stopped(e) == ["admin.corp.example"]
    assert "no rule allows vpn -> ilb1 tcp/443" in why(e, "admin.corp.example")


def test_the_internet_reaches_no_private_answer() -> None:
    e = ev(ADMIN.replace("; clients office, vpn", "").replace("allow office, vpn", "allow any"))
    assert stopped(e) == ["admin.corp.example"]
    assert "ilb1 has no public address, so clients on the internet cannot reach it" in why(e, "admin.corp.example")


def test_a_public_client_group_reaches_only_public_addresses() -> None:
    e = ev(ADMIN.replace("clients vpn address 10.8.0.0/16", "clients vpn address 198.51.100.0/24"))
    assert stopped(e) == ["admin.corp.example"]  # the partner network on the internet cannot reach 10.0.5.1


# -- 7.2 self-hosted DNS ------------------------------------------------------------------

NAMES = """
zone az-a
zone az-b
service ns1 zone az-a address 10.0.0.53 address 203.0.113.53 listen udp/53
service ns2 zone az-b address 10.0.1.53 address 198.51.100.53 listen udp/53
dns www.example.com { served-by ns1, ns2; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1 tcp/8080 }
web web1 address 10.0.2.11 listen tcp/8080
allow internet -> ns1, ns2 udp/53
allow internet -> lb1 tcp/443
allow lb1 -> web1 tcp/8080
"""


def test_a_name_resolves_while_one_name_server_serves() -> None:
    e = ev(NAMES)
    assert stopped(e) == []
    assert stopped(e, host("ns1")) == []
    assert stopped(e, zone("az-b")) == []
    assert stopped(e, host("ns1"), host("ns2")) == ["www.example.com"]
    text = why(e, "www.example.com", host("ns1"), host("ns2"))
    assert "www.example.com -> ns1: ns1 is down (failed: ns1)" in text
    assert "www.example.com -> ns2: ns2 is down (failed: ns2)" in text


def test_a_name_server_the_clients_cannot_reach_does_not_resolve() -> None:
    e = ev(NAMES.replace("allow internet -> ns1, ns2 udp/53", "allow internet -> ns1 udp/53"))
    assert stopped(e) == []
    assert stopped(e, host("ns1")) == ["www.example.com"]  # ns2 is live but out of reach


def test_a_dns_with_served_by_is_no_unit_of_its_own() -> None:
    e = ev(NAMES)
    assert e.topology.units_of("www.example.com") == ()


def test_a_dns_with_an_address_is_its_own_name_server_on_udp_53() -> None:
    own = """
dns www.example.com { address 203.0.113.53; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1 tcp/8080 }
web web1 address 10.0.2.11 listen tcp/8080
allow internet -> lb1 tcp/443
allow lb1 -> web1 tcp/8080
"""
    e = ev(own + "allow internet -> www.example.com udp/53\n")
    assert stopped(e) == []
    assert stopped(e, host("www.example.com")) == ["www.example.com"]  # it fails as its own host
    e = ev(own)
    assert stopped(e) == ["www.example.com"]
    assert "no rule allows clients on the internet -> www.example.com udp/53" in why(e, "www.example.com")


# -- 7.3 jobs ---------------------------------------------------------------------------

JOBS = """
job order-pipeline
service worker1 address 10.0.3.1
service worker2 address 10.0.3.2
service queue1 address 10.0.3.10 listen tcp/5672
order-pipeline uses worker1, worker2
order-pipeline uses queue1
deny any -> any
"""


def test_a_job_runs_while_any_worker_and_every_requirement_serves() -> None:
    e = ev(JOBS)
    assert e.topology.services == ("order-pipeline",)
    assert stopped(e) == []  # a job's requirements need no network connection
    assert stopped(e, host("worker1")) == []
    assert stopped(e, host("worker1"), host("worker2")) == ["order-pipeline"]
    assert stopped(e, host("queue1")) == ["order-pipeline"]
    text = why(e, "order-pipeline", host("worker1"), host("worker2"))
    assert "order-pipeline uses worker1, worker2 (line 6): no target serves: worker1 is down" in text


def test_a_job_never_fails_by_itself() -> None:
    e = ev(JOBS)
    assert e.topology.units_of("order-pipeline") == ()
    assert all(u.name != "order-pipeline" for u in e.topology.host_units)


# -- 7.4 forwarding to a cluster's roles ----------------------------------------------------

ROLES = """
gateway pgbouncer1 { managed; address 10.0.5.10; listen tcp/6432 -> primary of orders tcp/5432 }
lb reads1 { managed; address 10.0.5.20; listen tcp/5432 -> replicas of orders }
cluster orders {
  failover auto
  db db1 { address 10.0.3.10; listen tcp/5432; primary }
  db db2 { address 10.0.4.10; listen tcp/5432; replica }
}
web app1 address 10.0.1.11 listen tcp/8080
dns www.example.com { managed; answer app1 }
app1 writes pgbouncer1
app1 reads reads1
"""


def test_a_primary_of_forward_follows_failover() -> None:
    e = ev(ROLES.replace("address 10.0.1.11", "address 203.0.113.11"))
    assert stopped(e) == []
    assert stopped(e, host("db1")) == []  # db2 is promoted
    assert [(t.landing, t.primary, t.bad) for t in e.writes(frozenset())] == [("db1", "db1", False)]
    assert [(t.landing, t.bad) for t in e.writes(frozenset({host("db1")}))] == [("db2", False)]


def test_a_primary_of_forward_without_failover_stops_with_the_primary() -> None:
    e = ev(ROLES.replace("failover auto", "failover manual").replace("address 10.0.1.11", "address 203.0.113.11"))
    assert stopped(e, host("db1")) == ["www.example.com"]
    assert "primary of orders: orders has no live primary" in why(e, "www.example.com", host("db1"))


def test_replicas_of_takes_a_live_replica_else_the_primary() -> None:
    e = ev(ROLES.replace("address 10.0.1.11", "address 203.0.113.11"))
    assert stopped(e, host("db2")) == []  # no replica left: the primary serves the reads


def test_a_proxy_that_forwards_writes_to_every_member_writes_to_a_replica() -> None:
    e = ev(ROLES.replace("primary of orders", "orders"))
    bad = [t for t in e.writes(frozenset()) if t.bad]
    assert [(t.path, t.landing, t.primary) for t in bad] == [(("app1", "pgbouncer1", "db2"), "db2", "db1")]


# -- 7.5 clusters of services, and quorum --------------------------------------------------

QUORUM = """
zone az-a
zone az-b
zone az-c
dns www.example.com { managed; answer app1 }
web app1 managed address 203.0.113.5
cluster coordination { quorum; service etcd1 { zone az-a }; service etcd2 { zone az-b }; service etcd3 { zone az-b } }
app1 uses coordination
"""


def test_a_quorum_cluster_needs_a_majority() -> None:
    e = ev(QUORUM)
    assert stopped(e) == []
    assert stopped(e, zone("az-a")) == []  # 2 of 3 left
    assert stopped(e, zone("az-b")) == ["www.example.com"]
    assert "coordination lost its majority: 1 of 3 members live" in why(e, "www.example.com", zone("az-b"))


def test_a_member_named_directly_refuses_without_a_majority() -> None:
    e = ev(QUORUM.replace("app1 uses coordination", "app1 uses etcd1"))
    assert stopped(e, zone("az-a")) == ["www.example.com"]
    assert stopped(e, zone("az-b")) == ["www.example.com"]  # etcd1 is live, but alone
    assert "coordination lost its majority: 1 of 3 members live" in why(e, "www.example.com", zone("az-b"))


def test_a_consensus_group_takes_writes_on_any_member_and_never_misplaces_one() -> None:
    e = ev(QUORUM.replace("app1 uses coordination", "app1 writes coordination"))
    traces = e.writes(frozenset({zone("az-a")}))
    assert {t.landing for t in traces} == {"etcd2", "etcd3"} and not any(t.bad for t in traces)
    assert e.writes(frozenset({zone("az-b")})) == [] or all(t.landing is None for t in e.writes(frozenset({zone("az-b")})))


SESSIONS = """
zone az-a
zone az-b
dns www.example.com { managed; answer app1 }
web app1 managed address 203.0.113.5
cluster sessions {
  failover auto
  quorum
  service redis1 { zone az-a; listen tcp/6379; primary }
  service redis2 { zone az-b; listen tcp/6379; replica }
  service redis3 { zone az-b; listen tcp/6379; replica }
}
app1 writes sessions
"""


def test_writes_to_a_cluster_of_services_follow_its_primary_under_quorum() -> None:
    e = ev(SESSIONS)
    assert [(t.landing, t.bad) for t in e.writes(frozenset())] == [("redis1", False)]
    assert [(t.landing, t.bad) for t in e.writes(frozenset({zone("az-a")}))] == [("redis2", False)]
    assert stopped(e, zone("az-b")) == ["www.example.com"]  # redis1 alone: no majority


# -- 7.6 capacity ----------------------------------------------------------------------------

CAPACITY = """
dns www.example.com { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1, web2, web3 tcp/8080 need 2 }
web web1 address 10.0.1.1 listen tcp/8080
web web2 address 10.0.1.2 listen tcp/8080
web web3 address 10.0.1.3 listen tcp/8080
"""


def test_need_counts_serving_targets() -> None:
    e = ev(CAPACITY)
    assert stopped(e, host("web1")) == []
    assert stopped(e, host("web1"), host("web2")) == ["www.example.com"]
    assert "listener tcp/443 needs 2 of 3 targets, 1 serves (web3)" in why(e, "www.example.com", host("web1"),
                                                                            host("web2"))


# -- 7.7 managed, but somewhere ----------------------------------------------------------------

def test_a_zonal_managed_component_fails_with_its_zone_only() -> None:
    e = ev("""
zone az-a
zone az-b
dns www.example.com { managed; answer web1 }
web web1 managed address 203.0.113.5
db rds1 managed zone az-a primary
web1 writes rds1
""")
    assert e.topology.placement("rds1")[0] is None
    assert e.topology.host_units == ()
    assert stopped(e, zone("az-b")) == []
    assert stopped(e, zone("az-a")) == ["www.example.com"]


# -- 7.8 external dependencies and egress --------------------------------------------------------

EGRESS = """
zone az-b
external payments { address 198.51.100.0/24; listen tcp/443 }
gateway nat-a { zone az-a; address 203.0.113.50; address 10.0.0.5 }
gateway nat-b { zone az-b; address 198.51.100.60; address 10.0.1.5 }
zone az-a egress nat-a, nat-b
dns www.example.com { managed; answer app1 }
web app1 managed zone az-a address 10.0.1.11
app1 uses payments
allow app1 -> payments tcp/443
allow app1 -> nat-a, nat-b tcp/443
"""


def test_egress_takes_the_first_live_gateway() -> None:
    e = ev(EGRESS.replace("dns www.example.com { managed; answer app1 }", "job checkout\ncheckout uses app1"))
    assert stopped(e) == []
    assert stopped(e, host("nat-a")) == []  # nat-b takes over
    assert stopped(e, host("nat-a"), host("nat-b")) == ["checkout"]
    assert ("every egress gateway of app1 is down: nat-a is down (failed: nat-a); nat-b is down (failed: nat-b)"
            in why(e, "checkout", host("nat-a"), host("nat-b")))


def test_egress_needs_the_policy_to_allow_the_gateway_and_the_target() -> None:
    e = ev(EGRESS.replace("allow app1 -> nat-a, nat-b tcp/443", "allow app1 -> nat-b tcp/443")
           .replace("dns www.example.com { managed; answer app1 }", "job checkout\ncheckout uses app1"))
    assert stopped(e) == ["checkout"]  # the first live gateway, nat-a, is out of reach
    assert stopped(e, host("nat-a")) == []  # failing it makes nat-b the way out
    assert "egress through nat-a: no rule allows app1 -> nat-a tcp/443" in why(e, "checkout")


def test_no_public_address_and_no_egress_reaches_no_external_target() -> None:
    e = ev(EGRESS.replace("zone az-a egress nat-a, nat-b\n", "zone az-a\n")
           .replace("dns www.example.com { managed; answer app1 }", "job checkout\ncheckout uses app1"))
    assert stopped(e) == ["checkout"]
    assert "app1 has no public address and no egress gateway" in why(e, "checkout")
    e = ev(EGRESS.replace("address 10.0.1.11", "address 203.0.113.11")
           .replace("dns www.example.com { managed; answer app1 }", "job checkout\ncheckout uses app1"))
    assert stopped(e, host("nat-a"), host("nat-b")) == []  # a public address goes direct


# -- readings the contract writes down (issue 10) ----------------------------------------------

def test_any_matches_a_component_without_an_address() -> None:
    e = ev("""
dns www.example.com { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1 }
web web1
allow internet -> lb1 tcp/443
allow any -> any
""")
    assert stopped(e) == []  # `allow any -> any` covers the hop to web1, which has no address
    e = ev("""
dns www.example.com { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1 }
web web1
allow internet -> lb1 tcp/443
allow 0.0.0.0/0 -> 0.0.0.0/0
""")
    assert stopped(e) == ["www.example.com"]  # networks cover addresses only


def test_one_zone_is_refuted_and_managed_components_without_a_zone_survive_it() -> None:
    from checker.api import check_text

    text = """
zone az-a
dns www.example.com { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1, web2 }
web web1 zone az-a address 10.0.1.1
web web2 zone az-a address 10.0.1.2
check zone-redundancy
"""
    (result,) = [r for r in check_text(text, "z.topo").results if r.id == "zone-redundancy"]
    assert result.status.value == "refuted"
    assert [c.fields["failed"] for c in result.counterexamples] == [["zone:az-a"]]
    survives = text.replace("web web1 zone az-a address 10.0.1.1", "web web1 managed address 10.0.1.1")
    (result,) = [r for r in check_text(survives, "z.topo").results if r.id == "zone-redundancy"]
    assert result.status.value == "proved"
