"""Witness packets come from the part of the internet and the ports the policy admits."""

from __future__ import annotations

import ipaddress

from checker.api import check_text

from .conftest import CASES


def _counterexample(name: str, check_id: str) -> dict:
    path = CASES / check_id / "bad" / name
    report = check_text(path.read_text(encoding="utf-8"), str(path))
    (result,) = [r for r in report.results if r.id == check_id]
    return result.counterexamples[0].fields


def test_partial_deny_witness_is_in_the_admitted_part() -> None:
    fields = _counterexample("partial-deny.topo", "private-web")
    assert ipaddress.ip_address(fields["packet"]["src"]) in ipaddress.ip_network("198.51.100.192/26")


def test_port_range_witness_is_in_the_open_half() -> None:
    fields = _counterexample("port-range.topo", "private-web")
    assert 8050 <= fields["packet"]["port"] <= 8099
    assert fields["packet"]["protocol"] == "tcp"


def test_witness_source_is_of_the_destination_family() -> None:
    fields = _counterexample("port-forward.topo", "private-web")
    assert ipaddress.ip_address(fields["packet"]["src"]).version == 4


def test_open_network_paths_cite_no_rules() -> None:
    assert _counterexample("open-network.topo", "private-web")["rules"] == []


def test_witness_packet_is_the_same_on_every_run_in_one_process():
    """Z3's models differ between calls; the reported witness must not."""
    from checker.api import check_text

    text = (
        "dns www { managed; answer gw1 }\n"
        "gateway gw1 address 10.9.1.10 address 203.0.113.10 listen tcp/443 -> web1 tcp/8080\n"
        "web web1 address 10.9.1.20 listen tcp/8080\n"
        "allow internet -> gw1 tcp/443\n"
        "allow gw1 -> any any\n"
    )
    witnesses = set()
    for _ in range(4):
        report = check_text(text, "w.topo")
        (result,) = [r for r in report.results if r.id == "private-web"]
        witnesses.add(tuple(sorted(result.counterexamples[0].to_json()["packet"].items())))
    assert len(witnesses) == 1, witnesses


_PARTNERS = """\
clients partners address 203.0.113.0/24
gateway gw address 198.51.100.8 listen tcp/443 -> w tcp/80
web w address 10.0.0.1 listen tcp/80
allow {source} -> gw tcp/443
allow gw -> w tcp/80
deny any -> any
"""


def test_a_rule_naming_a_client_group_admits_its_public_networks() -> None:
    """LANGUAGE.md 7.1: a rule naming a client group matches the group's networks, and
    the exposure checks look at every packet from a public address. Naming the group
    and writing its network are one rule (the group was once encoded as a point of its
    own in the solver's packets, and the web server behind it was proved private)."""
    for source in ("partners", "203.0.113.0/24"):
        report = check_text(_PARTNERS.format(source=source), "partners.topo")
        (result,) = [r for r in report.results if r.id == "private-web"]
        assert result.status.value == "refuted", (source, result.message)
        fields = result.counterexamples[0].fields
        assert ipaddress.ip_address(fields["packet"]["src"]) in ipaddress.ip_network("203.0.113.0/24")
        assert fields["path"] == ["internet", "gw", "w"] and fields["rules"] == [4, 5]


def test_a_rule_after_one_naming_a_client_group_is_shadowed_by_its_networks() -> None:
    text = ("clients office address 10.1.0.0/16 address fd00:8::/32\n"
            "web w address 10.0.0.1 address fd00::1 listen tcp/80\n"
            "allow office -> w tcp/80\n"
            "deny 10.1.0.0/16 -> w tcp/80\n"
            "deny fd00:8::/48 -> w tcp/80\n"
            "deny office -> w tcp/80\n")
    report = check_text(text, "office.topo")
    shadowed = {c.fields["rule"]: c.fields["shadowed_by"]
                for r in report.results if r.id == "shadowed-rule" for c in r.counterexamples}
    assert shadowed == {4: [3], 5: [3], 6: [3]}


def _front_doors(rule: str, doors: int = 40) -> str:
    """``doors`` public gateways, each forwarding to a database of its own (so each is a
    first hop of private-db's paths), behind one policy rule, and many public addresses
    (so the internet has many representative sources)."""
    lines = ["internet users"]
    for i in range(doors):
        lines.append(f"gateway g{i} {{ address 192.0.{i}.10; address 10.1.{i}.1; listen tcp/5432 -> db{i} }}")
        lines.append(f"db db{i} address 10.2.{i}.1 listen tcp/5432")
    return "\n".join(lines + [rule, "allow 10.1.0.0/16 -> 10.2.0.0/16 tcp/5432", "deny any -> any"]) + "\n"


def test_a_door_no_rule_allows_is_proved_closed_and_a_late_source_is_still_found() -> None:
    """With no rule allowing anything to the doors, every door is closed (the rules alone
    say so, without Z3); with one that admits only 203.0.113.0/24, a source past the first
    ones the search tries before asking Z3, each door is reached from that network, the
    first source of it in the canonical order."""
    report = check_text(_front_doors("deny internet -> 192.0.0.0/16 tcp/5432"), "closed.topo", select=["private-db"])
    (result,) = [r for r in report.results if r.id == "private-db"]
    assert result.status.value == "proved"
    report = check_text(_front_doors("allow 203.0.113.0/24 -> 192.0.0.0/16 tcp/5432"), "late.topo",
                        select=["private-db"])
    (result,) = [r for r in report.results if r.id == "private-db"]
    assert result.status.value == "refuted" and len(result.counterexamples) == 40
    for example in result.counterexamples:
        door = example.fields["component"].replace("db", "g")
        assert example.fields["packet"]["src"] == "203.0.113.0"
        assert example.fields["packet"]["dst"] == f"192.0.{door[1:]}.10"
        assert example.fields["path"] == ["internet", door, example.fields["component"]]
