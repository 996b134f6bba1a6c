"""The reference evaluator on hand-written cases, one per rule of LANGUAGE.md sections 3-4."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker.api import load_text
from checker.evaluator import Evaluator
from checker.model import PUBLIC_SERVICE, FailureUnit
from checker.net import PRIVATE_NETWORKS, is_private, is_public


def evaluator(text: str) -> Evaluator:
    loaded = load_text(text, "case.topo")
    assert loaded.topology is not None, [r.message for r in loaded.results]
    return Evaluator(loaded.topology)


def units(ev: Evaluator, *labels: str) -> frozenset[FailureUnit]:
    """Failure units by their output labels ('web1', 'host:h', 'zone:z', 'region:r')."""
    topo = ev.topology
    every = topo.host_units + topo.zone_units + topo.region_units
    by_label = {u.label: u for u in every}
    return frozenset(by_label[label] for label in labels)


def up(ev: Evaluator, *failed: str) -> bool:
    return not ev.stopped(units(ev, *failed))


FRONT = """
dns www { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; address 10.0.0.10; listen tcp/443 -> web1, web2 tcp/8080 }
web web1 address 10.0.1.1 listen tcp/8080
web web2 address 10.0.1.2 listen tcp/8080
"""


# -- ordered alternatives ------------------------------------------------------


def test_first_live_alternative_gets_the_request():
    ev = evaluator(FRONT + """
service api1 address 10.0.2.1 listen tcp/80
service api2 address 10.0.2.2 listen tcp/80
db d address 10.0.3.1
web1, web2 uses api1, api2
api2 reads d
""")
    # api1 is live and serves: fine. With api1 down, api2 gets the request and serves.
    assert up(ev)
    assert up(ev, "api1")
    assert not up(ev, "api1", "api2")


def test_live_but_broken_first_alternative_takes_the_request():
    """The first live and reachable target gets the request even when it cannot serve it."""
    ev = evaluator(FRONT + """
service api1 address 10.0.2.1 listen tcp/80
service api2 address 10.0.2.2 listen tcp/80
db d1 address 10.0.3.1
db d2 address 10.0.3.2
web1, web2 uses api1, api2
api1 reads d1
api2 reads d2
""")
    assert up(ev)
    assert not up(ev, "d1")  # api1 is live, gets the request, and fails it
    assert up(ev, "d1", "api1")  # failing api1 as well sends requests to api2: not monotone


def test_unreachable_alternative_is_skipped():
    ev = evaluator(FRONT + """
db d1 address 10.0.3.1 listen tcp/5432
db d2 address 10.0.3.2 listen tcp/5432
web1, web2 reads d1, d2
allow internet -> lb1 tcp/443
allow lb1 -> web1, web2 tcp/8080
allow web1, web2 -> d2 tcp/5432
""")
    assert up(ev)  # d1 is live but the policy blocks it: d2 gets the reads
    assert not up(ev, "d2")


def test_optional_requirement_never_stops_its_source():
    ev = evaluator(FRONT + """
service cache address 10.0.4.1
web1, web2 uses cache optional
""")
    assert up(ev, "cache")


def test_every_requirement_is_needed():
    ev = evaluator(FRONT + """
db a address 10.0.3.1
db b address 10.0.3.2
web1, web2 reads a
web1, web2 reads b
""")
    assert not up(ev, "b")


# -- failure units ----------------------------------------------------------------


def test_shared_host_fails_together():
    ev = evaluator("""
dns www { managed; answer web1 }
web web1 host box address 203.0.113.5
db d host box address 10.0.0.5
web1 writes d
""")
    assert [u.label for u in ev.topology.host_units] == ["host:box"]
    assert not up(ev, "host:box")


def test_zone_and_region_failure():
    ev = evaluator("""
zone a region r1
zone b region r1
zone c region r2
dns www { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen 443 -> w1, w2, w3 }
web w1 zone a address 10.0.0.1
web w2 zone b address 10.0.0.2
web w3 zone c address 10.0.0.3
""")
    assert up(ev, "zone:a", "zone:b")
    assert up(ev, "region:r1")
    assert not up(ev, "region:r1", "region:r2")
    assert not up(ev, "zone:a", "zone:b", "zone:c")


def test_unzoned_components_share_one_zone():
    ev = evaluator(FRONT)
    assert [u.label for u in ev.topology.zone_units] == ["zone:(unzoned)"]
    assert not up(ev, "zone:(unzoned)")


def test_zone_without_region_is_in_the_unnamed_region():
    ev = evaluator("zone a\nweb w zone a address 203.0.113.1\n")
    assert [u.label for u in ev.topology.region_units] == ["region:(unregioned)"]


def test_component_inherits_its_hosts_zone():
    ev = evaluator("zone a\nweb w host h zone a address 203.0.113.1\ndb d host h\nw writes d\n")
    assert ev.topology.zone_of("d") == "a"
    assert not up(ev, "zone:a")


def test_managed_never_fails():
    ev = evaluator("""
zone a
dns www { managed; answer lb1 }
lb lb1 { managed; zone a; address 203.0.113.10; listen 443 -> w }
web w managed zone a address 10.0.0.1
""")
    assert ev.topology.host_units == ()
    assert up(ev)
    assert ev.live("w", units(ev))


def test_unmanaged_dns_is_a_host():
    ev = evaluator("dns www { answer w }\nweb w address 203.0.113.1\n")
    assert not up(ev, "www")


# -- clusters and failover ---------------------------------------------------------


CLUSTER = """
dns www {{ managed; answer w }}
web w managed address 203.0.113.1
cluster orders {{
  failover {mode}
  db d1 {{ primary }}
  db d2 {{ replica }}
  db d3 {{ replica of d2 }}
}}
w writes orders
"""


def test_failover_auto_promotes_first_live_member_in_declaration_order():
    ev = evaluator(CLUSTER.format(mode="auto"))
    assert ev.current_primary("orders", units(ev)) == "d1"
    assert ev.current_primary("orders", units(ev, "d1")) == "d2"
    assert ev.current_primary("orders", units(ev, "d1", "d2")) == "d3"
    assert ev.current_primary("orders", units(ev, "d1", "d2", "d3")) is None
    assert up(ev, "d1", "d2")


def test_failover_manual_has_no_primary_when_it_fails():
    ev = evaluator(CLUSTER.format(mode="manual"))
    assert ev.current_primary("orders", units(ev, "d1")) is None
    assert not up(ev, "d1")
    assert up(ev, "d2")


def test_reads_reach_any_live_member():
    ev = evaluator(CLUSTER.format(mode="manual").replace("w writes orders", "w reads orders"))
    assert up(ev, "d1", "d2")
    assert not up(ev, "d1", "d2", "d3")


def test_standalone_primary_forms_a_manual_cluster():
    ev = evaluator("db a primary\ndb b replica of a\ndb c replica of b\n")
    cluster = ev.topology.clusters["(cluster of a)"]
    assert cluster.members == ("a", "b", "c")
    assert cluster.failover.value == "manual"


def test_writes_land_on_current_primary_or_by_name():
    ev = evaluator(CLUSTER.format(mode="auto") + "w writes d2\n")
    traces = ev.writes(units(ev))
    landings = sorted((t.landing, t.bad) for t in traces)
    assert landings == [("d1", False), ("d2", True)]
    traces = ev.writes(units(ev, "d1"))
    assert sorted((t.landing, t.bad) for t in traces) == [("d2", False), ("d2", False)]


def test_write_host_list_under_manual_failover_lands_on_replica():
    ev = evaluator(CLUSTER.format(mode="manual").replace("w writes orders", "w writes orders, d2"))
    assert not any(t.bad for t in ev.writes(units(ev)))
    bad = [t for t in ev.writes(units(ev, "d1")) if t.bad]
    assert [(t.writer, t.path, t.landing, t.primary) for t in bad] == [("w", ("w", "d2"), "d2", None)]


def test_writes_pass_through_services():
    ev = evaluator("""
dns www { managed; answer w }
web w managed address 203.0.113.1
service api managed
db p primary
db r replica of p
w writes api
api writes r
""")
    bad = [t for t in ev.writes(units(ev)) if t.bad]
    assert sorted((t.writer, t.path, t.landing, t.primary) for t in bad) == [
        ("api", ("api", "r"), "r", "p"),  # api's own writes
        ("w", ("w", "api", "r"), "r", "p"),  # w's writes, passed on by api
    ]


# -- the policy -------------------------------------------------------------------------


def test_first_match_decides():
    ev = evaluator(FRONT + """
db d address 10.0.3.1 listen tcp/5432
web1, web2 writes d
allow internet -> lb1 tcp/443
allow lb1 -> web1, web2 tcp/8080
deny web1 -> d any
allow web1, web2 -> d tcp/5432
""")
    assert not ev.policy.connect("web1", "d", ev.topology.components["d"].service_ports)
    assert ev.policy.connect("web2", "d", ev.topology.components["d"].service_ports)
    assert up(ev)  # web2 still serves
    assert not up(ev, "web2")


def test_no_match_denies_and_ports_must_match():
    ev = evaluator(FRONT + """
allow internet -> lb1 tcp/443
allow lb1 -> web1 tcp/8000-8099
allow lb1 -> web2 udp/8080
""")
    assert up(ev)
    assert not up(ev, "web1")  # web2 is only allowed on udp


def test_open_network_allows_everything():
    ev = evaluator(FRONT)
    assert not ev.topology.has_policy
    assert up(ev)


def test_clients_reach_only_public_addresses():
    ev = evaluator("dns www { managed; answer w }\nweb w address 10.0.0.1\n")
    assert not up(ev)
    assert "no public address" in ev.explain("www")[0].text


def test_partial_internet_deny_leaves_the_rest_admitted():
    ev = evaluator("""
dns www { managed; answer w }
web w address 203.0.113.1 listen tcp/443
deny 0.0.0.0/1 -> w any
allow internet -> w tcp/443
""")
    assert up(ev)
    decision = ev.policy.connect("(internet)", "w", ev.topology.components["w"].service_ports)
    assert decision.packet.src.address >= ipaddress.ip_address("128.0.0.0")
    assert is_public(decision.packet.src.address)


def test_component_without_address_matches_only_rules_naming_it():
    ev = evaluator("""
dns www { managed; answer w }
web w address 203.0.113.1
service api
w uses api
allow internet -> w any
allow w -> 10.0.0.0/8 any
""")
    assert not up(ev)  # api has no address: the CIDR rule does not match it
    ev = evaluator("""
dns www { managed; answer w }
web w address 203.0.113.1
service api
w uses api
allow internet -> w any
allow w -> api any
""")
    assert up(ev)


@pytest.mark.parametrize(
    "address, public",
    [
        ("10.1.2.3", False), ("172.16.0.1", False), ("172.32.0.1", True), ("192.168.1.1", False),
        ("100.64.0.1", False), ("127.0.0.1", False), ("169.254.1.1", False),
        ("192.0.2.1", True), ("198.51.100.1", True), ("203.0.113.1", True), ("8.8.8.8", True),
        ("fc00::1", False), ("fe80::1", False), ("::1", False), ("2001:db8::1", True),
    ],
)
def test_private_ranges(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


def _edges():
    """Each private network's first and last address and the addresses just outside."""
    for net in PRIVATE_NETWORKS:
        top = (1 << net.max_prefixlen) - 1
        for value in (int(net.network_address) - 1, int(net.network_address),
                      int(net.broadcast_address), int(net.broadcast_address) + 1):
            if 0 <= value <= top:
                yield ipaddress.ip_address(value) if net.version == 4 else ipaddress.IPv6Address(value)


@given(st.one_of(st.sampled_from(list(_edges())),
                 st.integers(0, (1 << 32) - 1).map(ipaddress.IPv4Address),
                 st.integers(0, (1 << 128) - 1).map(ipaddress.IPv6Address)))
def test_private_test_is_membership_of_the_private_networks(address):
    """The integer-range test gives what ``address in network`` gives, at every edge."""
    assert is_private(address) is any(address.version == n.version and address in n for n in PRIVATE_NETWORKS)


# -- services -------------------------------------------------------------------------


def test_no_dns_means_some_public_component_serves():
    ev = evaluator("web w address 203.0.113.1\ndb d address 10.0.0.1\nw reads d\n")
    assert ev.topology.services == (PUBLIC_SERVICE,)
    assert up(ev)
    assert not up(ev, "d")


def test_no_public_component_means_no_service():
    ev = evaluator("web w address 10.0.0.1\n")
    assert not up(ev)


def test_requirement_cycle_is_met_while_everything_on_it_is_live():
    ev = evaluator("""
dns www { managed; answer a }
web a address 203.0.113.1
service b address 10.0.0.2
db d address 10.0.0.3
a uses b
b uses a
b reads d
""")
    assert up(ev)
    assert not up(ev, "b")
    assert not up(ev, "d")


def test_lb_forwards_into_another_lb_on_a_matching_listener():
    ev = evaluator("""
dns www { managed; answer gw }
gateway gw { managed; address 203.0.113.1; address 10.0.0.1; listen tcp/443 -> lb1 tcp/8443 }
lb lb1 { managed; address 10.0.0.2; listen tcp/8443 -> w tcp/8080 }
web w address 10.0.1.1 listen tcp/8080
""")
    assert up(ev)
    assert not up(ev, "w")


def test_explanation_names_the_unmet_requirement_and_its_line():
    ev = evaluator("""dns www { managed; answer w }
web w address 203.0.113.1
db d address 10.0.0.1 listen tcp/5432
w writes d
allow internet -> w any
""")
    (reason,) = ev.explain("www")
    assert reason.text == "www -> w: w writes d (line 4): no rule allows w -> d tcp/5432"
    assert reason.requirement.span.line == 4
