"""``topocheck diff``: what a change made worse and what it made better.

Each kind of change is tested in both directions on small files, by the exact
change reported (effect, check, kind, message); then the seed stages, the
file-level changes, the gate and exit codes, every format (SARIF validated
against the schema), hostile names, and ``--base`` on a real git repository.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from checker.cli import main
from checker.results import Counterexample, FileReport, Result, Severity, Status
from tests.conftest import missing, require_program

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "models" / "seed"
SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"

BASE = """\
zone az-a region r1
zone az-b region r2
dns www { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1, web2 tcp/8080 }
web web1 zone az-a address 10.0.1.11 listen tcp/8080
web web2 zone az-b address 10.0.1.12 listen tcp/8080
cluster orders {
  failover auto
  db db1 { zone az-a; address 10.0.3.10; listen tcp/5432; primary }
  db db2 { zone az-b; address 10.0.3.11; listen tcp/5432; replica }
}
web1, web2 writes orders
allow internet -> lb1 tcp/443
allow lb1 -> web1, web2 tcp/8080
allow web1, web2 -> orders tcp/5432
allow orders -> orders tcp/5432
"""

ONE_WEB = (BASE.replace("web1, web2", "web1")
           .replace("web web2 zone az-b address 10.0.1.12 listen tcp/8080\n", ""))
ONE_ZONE = BASE.replace("web web2 zone az-b", "web web2 zone az-a")
EXPOSED = BASE + ("lb lb2 { managed; address 203.0.113.20; listen tcp/5432 -> db1 }\n"
                  "allow internet -> lb2 tcp/5432\nallow lb2 -> db1 tcp/5432\n")
PUBLIC_DB = BASE.replace("address 10.0.3.11;", "address 10.0.3.11; address 198.51.100.7;")
WRITE_REPLICA = BASE + "web1 writes db2\n"
DOWN = BASE.replace("allow lb1 -> web1, web2 tcp/8080\n", "")
# failover manual: writes to 'db1, db2' reach db2 only when db1 fails; 'db2, db1' always
WRITES_LATE = (BASE.replace("failover auto", "failover manual")
               .replace("web1, web2 writes orders", "web2 writes orders\nweb1 writes db1, db2"))
WRITES_EARLY = WRITES_LATE.replace("web1 writes db1, db2", "web1 writes db2, db1")

THREE = """\
zone az-a region r1
zone az-b region r2
zone az-c region r2
dns www { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1, web2, web3 tcp/8080 }
web web1 zone az-a address 10.0.1.11 listen tcp/8080
web web2 zone az-b address 10.0.1.12 listen tcp/8080
web web3 zone az-c address 10.0.1.13 listen tcp/8080
cluster orders {
  failover auto
  db db1 { zone az-a; address 10.0.3.10; listen tcp/5432; primary }
  db db2 { zone az-b; address 10.0.3.11; listen tcp/5432; replica }
  db db3 { zone az-c; address 10.0.3.12; listen tcp/5432; replica }
}
web1, web2, web3 writes orders
allow internet -> lb1 tcp/443
allow lb1 -> web1, web2, web3 tcp/8080
allow web1, web2, web3 -> orders tcp/5432
allow orders -> orders tcp/5432
check no-spof k=2
check zone-redundancy level=region
"""
TWO_OF_THREE = THREE.replace("web1, web2, web3", "web1, web2").replace(
    "web web3 zone az-c address 10.0.1.13 listen tcp/8080\n", "")
ONE_OF_THREE = TWO_OF_THREE.replace("web1, web2", "web1").replace(
    "web web2 zone az-b address 10.0.1.12 listen tcp/8080\n", "")


def run_diff(tmp_path: Path, old: str, new: str, *options: str, capsys) -> tuple[int, dict]:
    """``topocheck diff old new --format json``: the exit status and the document."""
    (tmp_path / "old").mkdir(exist_ok=True)
    (tmp_path / "new").mkdir(exist_ok=True)
    (tmp_path / "old" / "shop.topo").write_text(old, encoding="utf-8")
    (tmp_path / "new" / "shop.topo").write_text(new, encoding="utf-8")
    code = main(["diff", str(tmp_path / "old" / "shop.topo"), str(tmp_path / "new" / "shop.topo"),
                 "--format", "json", *options])
    return code, json.loads(capsys.readouterr().out)


def changes_of(document: dict) -> list[tuple[str, str, str, str]]:
    return [(c["effect"], c["check"], c["kind"], c["message"]) for f in document["files"] for c in f["changes"]]


# -- each kind of change, both ways --------------------------------------------------------------


def test_single_point_margin_and_zone_worse_then_better(tmp_path, capsys) -> None:
    code, doc = run_diff(tmp_path, BASE, ONE_WEB, capsys=capsys)
    assert code == 1 and doc["verdict"] == "worse" and doc["failing"] is True
    assert changes_of(doc) == [
        ("worse", "no-spof", "margin", "margin 2 -> 1: failing 1 host can now stop a service"),
        ("worse", "no-spof", "single-point", "new single point of failure: 'web1' stops 'www'"),
        ("worse", "zone-redundancy", "zone", "losing zone 'az-a' now stops 'www'"),
    ]
    spof = doc["files"][0]["changes"][1]
    assert spof["services"] == ["www"] and spof["old"] is None
    assert spof["new"]["failed"] == ["web1"] and spof["location"]["line"] == 5  # web1's declaration
    code, doc = run_diff(tmp_path, ONE_WEB, BASE, capsys=capsys)
    assert code == 0 and doc["verdict"] == "better"
    assert changes_of(doc) == [
        ("better", "no-spof", "margin", "margin 1 -> 2: it now takes 2 failed hosts to stop a service"),
        ("better", "no-spof", "single-point", "'web1' is no longer a single point of failure (it stopped 'www')"),
        ("better", "zone-redundancy", "zone", "losing zone 'az-a' no longer stops 'www'"),
    ]


def test_zone_whose_loss_now_stops_a_service(tmp_path, capsys) -> None:
    code, doc = run_diff(tmp_path, BASE, ONE_ZONE, capsys=capsys)
    assert code == 1
    assert changes_of(doc) == [("worse", "zone-redundancy", "zone", "losing zone 'az-a' now stops 'www'")]
    assert doc["files"][0]["changes"][0]["location"]["line"] == 1  # the zone's declaration
    code, doc = run_diff(tmp_path, ONE_ZONE, BASE, capsys=capsys)
    assert code == 0
    assert changes_of(doc) == [("better", "zone-redundancy", "zone", "losing zone 'az-a' no longer stops 'www'")]


def test_stopping_sets_and_margin_three_to_one(tmp_path, capsys) -> None:
    code, doc = run_diff(tmp_path, THREE, TWO_OF_THREE, capsys=capsys)
    assert code == 1
    assert changes_of(doc) == [
        ("worse", "no-spof", "margin", "margin 3 -> 2: failing 2 hosts can now stop a service"),
        ("worse", "no-spof", "stopping-set",
         "new smallest stopping set: failing 'web1' and 'web2' (2 hosts) stops 'www'"),
    ]
    code, doc = run_diff(tmp_path, THREE, ONE_OF_THREE, capsys=capsys)
    assert changes_of(doc) == [
        ("worse", "no-spof", "margin", "margin 3 -> 1: failing 1 host can now stop a service"),
        ("worse", "no-spof", "single-point", "new single point of failure: 'web1' stops 'www'"),
        ("worse", "zone-redundancy", "region", "losing region 'r1' now stops 'www'"),
    ]
    # with k=2 one smallest set is shown: a larger one that stops no more is superseded, not fixed
    code, doc = run_diff(tmp_path, TWO_OF_THREE, ONE_OF_THREE, capsys=capsys)
    assert changes_of(doc) == [
        ("worse", "no-spof", "margin", "margin 2 -> 1: failing 1 host can now stop a service"),
        ("worse", "no-spof", "single-point", "new single point of failure: 'web1' stops 'www'"),
        ("worse", "zone-redundancy", "region", "losing region 'r1' now stops 'www'"),
    ]
    code, doc = run_diff(tmp_path, ONE_OF_THREE, TWO_OF_THREE, capsys=capsys)
    assert code == 0
    assert changes_of(doc) == [
        ("better", "no-spof", "margin", "margin 1 -> 2: it now takes 2 failed hosts to stop a service"),
        ("better", "no-spof", "single-point", "'web1' is no longer a single point of failure (it stopped 'www')"),
        ("better", "zone-redundancy", "region", "losing region 'r1' no longer stops 'www'"),
    ]
    code, doc = run_diff(tmp_path, TWO_OF_THREE, THREE, capsys=capsys)
    assert changes_of(doc) == [
        ("better", "no-spof", "margin", "margin 2 -> 3: it now takes 3 failed hosts to stop a service"),
        ("better", "no-spof", "stopping-set", "failing 'web1' and 'web2' no longer stops 'www'"),
    ]


def test_exposure_path_with_its_packet(tmp_path, capsys) -> None:
    code, doc = run_diff(tmp_path, BASE, EXPOSED, capsys=capsys)
    assert code == 1
    assert changes_of(doc) == [(
        "worse", "private-db", "exposure",
        "new exposure: a packet from 11.0.0.0 to 203.0.113.20 tcp/5432 reaches 'db1' along internet -> lb2 -> db1")]
    new = doc["files"][0]["changes"][0]["new"]
    assert new["packet"] == {"src": "11.0.0.0", "dst": "203.0.113.20", "protocol": "tcp", "port": 5432}
    code, doc = run_diff(tmp_path, EXPOSED, BASE, capsys=capsys)
    assert code == 0
    assert changes_of(doc) == [(
        "better", "private-db", "exposure",
        "exposure closed: the internet no longer reaches 'db1' (it did along internet -> lb2 -> db1, "
        "e.g. a packet from 11.0.0.0 to 203.0.113.20 tcp/5432)")]


def test_public_address(tmp_path, capsys) -> None:
    code, doc = run_diff(tmp_path, BASE, PUBLIC_DB, capsys=capsys)
    assert code == 1
    assert changes_of(doc) == [("worse", "private-db", "public-address", "'db2' now has the public address 198.51.100.7")]
    code, doc = run_diff(tmp_path, PUBLIC_DB, BASE, capsys=capsys)
    assert changes_of(doc) == [
        ("better", "private-db", "public-address", "'db2' no longer has a public address (it had 198.51.100.7)")]


def test_writes_that_can_now_land_on_a_replica(tmp_path, capsys) -> None:
    code, doc = run_diff(tmp_path, BASE, WRITE_REPLICA, capsys=capsys)
    assert code == 1
    assert changes_of(doc) == [
        # web1 now needs db2 itself, so losing db2's zone stops the service too
        ("worse", "zone-redundancy", "zone", "losing zone 'az-b' now stops 'www'"),
        ("worse", "write-to-primary", "write",
         "writes from 'web1' can now land on 'db2' with nothing failed (web1 -> db2); its current primary is 'db1'"),
    ]
    code, doc = run_diff(tmp_path, WRITE_REPLICA, BASE, capsys=capsys)
    assert changes_of(doc) == [
        ("better", "zone-redundancy", "zone", "losing zone 'az-b' no longer stops 'www'"),
        ("better", "write-to-primary", "write", "writes from 'web1' no longer land on 'db2' (they did with nothing failed)"),
    ]


def test_a_write_that_takes_fewer_failures(tmp_path, capsys) -> None:
    code, doc = run_diff(tmp_path, WRITES_LATE, WRITES_EARLY, capsys=capsys)
    assert code == 1
    assert changes_of(doc) == [("worse", "write-to-primary", "write",
                                "writes from 'web1' now land on 'db2' with nothing failed (before: when 'db1' fails)")]
    code, doc = run_diff(tmp_path, WRITES_EARLY, WRITES_LATE, capsys=capsys)
    assert changes_of(doc) == [("better", "write-to-primary", "write",
                                "writes from 'web1' land on 'db2' only when 'db1' fails now (before: with nothing failed)")]


def test_service_down_with_nothing_failed(tmp_path, capsys) -> None:
    code, doc = run_diff(tmp_path, BASE, DOWN, capsys=capsys)
    assert code == 1
    assert changes_of(doc) == [  # one missing rule: one connection-denied finding, the others cite it
        ("worse", "available", "down", "'www' is now down with nothing failed: www needs connections the policy "
         "denies (see connection-denied at line 4)"),
        ("worse", "no-spof", "margin", "margin 2 -> 0: a service is down with nothing failed"),
        ("worse", "no-spof", "down", "'www' is now down with nothing failed"),
        ("worse", "zone-redundancy", "down", "'www' is now down with nothing failed"),
        ("worse", "connection-denied", "finding", "new: no rule allows lb1 -> web1, web2 tcp/8080: 2 connections "
         "the model needs are denied (line 4)"),
    ]
    code, doc = run_diff(tmp_path, DOWN, BASE, capsys=capsys)
    assert changes_of(doc)[0] == ("better", "available", "down", "'www' is no longer down with nothing failed")
    assert changes_of(doc)[4][3] == ("fixed: no rule allows lb1 -> web1, web2 tcp/8080: 2 connections the model "
                                     "needs are denied (line 4)")


def test_moved_lines_and_reordered_declarations_are_no_change(tmp_path, capsys) -> None:
    moved = "# a comment moves every line\n\n" + "\n".join(reversed(ONE_WEB.split("\n", 2)[:2])) + "\n" + \
        ONE_WEB.split("\n", 2)[2]
    code, doc = run_diff(tmp_path, ONE_WEB, moved, capsys=capsys)
    assert (code, doc["verdict"], changes_of(doc)) == (0, "no change", [])
    assert doc["files"][0]["status"] == "unchanged"


def test_each_version_is_loaded_once(tmp_path, capsys, monkeypatch) -> None:
    # the new version's model, which places changes and draws the diagram, is the one its
    # checks ran on (at 100k components a second load was 7 s and 20 MB at the peak)
    import checker.api

    loaded: list[str] = []
    real = checker.api.load_text
    monkeypatch.setattr(checker.api, "load_text", lambda text, path, *rest: loaded.append(path) or
                        real(text, path, *rest))
    code, doc = run_diff(tmp_path, BASE, ONE_WEB, capsys=capsys)
    assert code == 1 and [Path(p).parent.name for p in loaded] == ["old", "new"]
    assert doc["files"][0]["changes"][1]["location"]["line"] == 5  # placed by the new version's model


def test_identical_inputs_say_no_change(tmp_path, capsys) -> None:
    code, doc = run_diff(tmp_path, ONE_WEB, ONE_WEB, capsys=capsys)
    assert (code, doc["verdict"], doc["failing"], changes_of(doc)) == (0, "no change", False, [])
    (tmp_path / "same.topo").write_text(ONE_WEB, encoding="utf-8")
    assert main(["diff", str(tmp_path / "same.topo"), str(tmp_path / "same.topo")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "no change: 1 file compared"
    assert main(["diff", str(tmp_path / "old"), str(tmp_path / "new"), "--format", "markdown"]) == 0
    assert "**no change**" in capsys.readouterr().out


def test_check_that_runs_in_one_version_only(tmp_path, capsys) -> None:
    named = BASE + "check no-spof\n"
    code, doc = run_diff(tmp_path, BASE, named, capsys=capsys)
    assert code == 0 and doc["verdict"] == "changed"
    assert changes_of(doc) == [
        ("changed", "zone-redundancy", "check-removed", "no longer runs (it was proved)"),
        ("changed", "private-web", "check-removed", "no longer runs (it was proved)"),
        ("changed", "private-service", "check-removed", "no longer runs (it was proved)"),
        ("changed", "private-db", "check-removed", "no longer runs (it was proved)"),
        ("changed", "write-to-primary", "check-removed", "no longer runs (it was proved)"),
    ]
    code, doc = run_diff(tmp_path, ONE_WEB + "check no-spof\n", ONE_WEB, capsys=capsys)
    assert changes_of(doc)[0] == ("changed", "zone-redundancy", "check-added",
                                  "now runs: refuted: losing one zone stops a service: 'zone:az-a' stops 'www'")


def test_suppression_accepting_a_finding(tmp_path, capsys) -> None:
    accepted = ONE_WEB.replace("web web1 zone az-a address 10.0.1.11 listen tcp/8080",
                               "web web1 zone az-a address 10.0.1.11 listen tcp/8080  "
                               "# topocheck: ignore[no-spof] a second web server is on order")
    code, doc = run_diff(tmp_path, ONE_WEB, accepted, capsys=capsys)
    assert code == 0
    assert changes_of(doc) == [("changed", "no-spof", "accepted",
                                "now accepted by a suppression (a second web server is on order): "
                                "single point of failure: 'web1' stops 'www'")]
    code, doc = run_diff(tmp_path, accepted, ONE_WEB, capsys=capsys)
    assert code == 1
    assert changes_of(doc) == [("worse", "no-spof", "accepted",
                                "no longer accepted by a suppression (it was: a second web server is on order): "
                                "single point of failure: 'web1' stops 'www'")]


def test_a_version_that_does_not_parse(tmp_path, capsys) -> None:
    broken = BASE.replace("address 10.0.1.12 listen", "address listen")
    code, doc = run_diff(tmp_path, BASE, broken, capsys=capsys)
    assert code == 1
    assert changes_of(doc) == [("worse", "syntax", "does-not-parse",
                                "the new version does not parse: line 6: expected an address like 10.0.0.1 or 10.0.0.0/16; "
                                "found 'listen'")]
    code, doc = run_diff(tmp_path, broken.replace("lb1 tcp/443", "lb1 tcp/80"), ONE_WEB, capsys=capsys)
    assert code == 1  # parsing again is better; every finding of the new version is new
    assert changes_of(doc) == [
        ("better", "syntax", "parses", "the file parses now (the old version did not: line 6: expected an address "
                                       "like 10.0.0.1 or 10.0.0.0/16; found 'listen')"),
        ("worse", "no-spof", "single-point", "new single point of failure: 'web1' stops 'www'"),
        ("worse", "zone-redundancy", "zone", "losing zone 'az-a' now stops 'www'"),
    ]
    code, doc = run_diff(tmp_path, broken, broken.replace("failover auto", "failover manual"), capsys=capsys)
    assert (code, changes_of(doc)) == (0, [])  # neither parses, for the same reason


# -- availability (any result carrying the number) ---------------------------------------------


def _availability_report(value: float, target: float, status: Status) -> FileReport:
    result = Result("availability", status, Severity.ERROR, f"availability {value}", None, "exact",
                    extra={"availability": value, "target": target})
    return FileReport("m.topo", (result,), "")


@pytest.mark.parametrize("old,new,effect,message", [
    (0.9999, 0.9997, "worse", "availability 99.99% -> 99.97% (target 99.98%): now below the target"),
    (0.9997, 0.9999, "better", "availability 99.97% -> 99.99% (target 99.98%): now meets the target"),
    (0.99999, 0.99995, "worse", "availability 99.999% -> 99.995% (target 99.98%)"),
])
def test_availability_change(old, new, effect, message) -> None:
    from checker.review.changes import Version, compare_versions

    def version(value: float) -> Version:
        status = Status.PROVED if value >= 0.9998 else Status.REFUTED
        return Version("m.topo", _availability_report(value, 0.9998, status), None)

    diff = compare_versions(version(old), version(new), "m.topo")
    assert [(c.effect, c.check, c.kind, c.message) for c in diff.changes] == [
        (effect, "availability", "availability", message)]
    assert diff.changes[0].old == {"availability": old, "target": 0.9998}


def test_availability_scenarios_are_not_findings() -> None:
    """The scenarios an availability result lists are evidence, not findings: the number speaks."""
    from checker.review.changes import Version, compare_versions

    def version(scenario: str) -> Version:
        result = Result("availability", Status.REFUTED, Severity.ERROR, "below", None, "exact",
                        (Counterexample({"failed": [scenario], "probability": 0.001}),),
                        extra={"availability": 0.999, "target": 0.9999})
        return Version("m.topo", FileReport("m.topo", (result,), ""), None)

    assert compare_versions(version("db1"), version("db2"), "m.topo").changes == ()


# -- the seed stages -------------------------------------------------------------------------------


def _seed_diff(old: str, new: str, capsys, fmt: str = "json") -> tuple[int, str]:
    code = main(["diff", str(SEED / old), str(SEED / new), "--format", fmt])
    return code, capsys.readouterr().out


def test_seed_stage_three_to_four_gets_better(capsys) -> None:
    code, out = _seed_diff("03-load-balancer.topo", "04-replication.topo", capsys)
    assert code == 0
    assert changes_of(json.loads(out)) == [
        ("better", "no-spof", "margin", "margin 1 -> 2: it now takes 2 failed hosts to stop a service"),
        ("better", "no-spof", "single-point",
         "'db1' is no longer a single point of failure (it stopped 'www.example.com')"),
        ("better", "zone-redundancy", "zone", "losing zone 'az-a' no longer stops 'www.example.com'"),
        ("changed", "private-service", "check-removed", "no longer runs (it was proved)"),
        ("changed", "private-db", "check-removed", "no longer runs (it was proved)"),
    ]


def test_seed_stage_four_to_three_gets_worse(capsys) -> None:
    code, out = _seed_diff("04-replication.topo", "03-load-balancer.topo", capsys)
    assert code == 1
    assert changes_of(json.loads(out)) == [
        ("worse", "no-spof", "margin", "margin 2 -> 1: failing 1 host can now stop a service"),
        ("worse", "no-spof", "single-point", "new single point of failure: 'db1' stops 'www.example.com'"),
        ("worse", "zone-redundancy", "zone", "losing zone 'az-a' now stops 'www.example.com'"),
        ("changed", "private-service", "check-added", "now runs: proved"),
        ("changed", "private-db", "check-added", "now runs: proved"),
    ]


def drop_web2(text: str) -> str:
    """Stage 4 without its second web server."""
    return (text.replace("web1, web2", "web1")
            .replace("web web2 zone az-b address 10.0.2.11 listen tcp/8080\n", ""))


def test_seed_stage_four_without_a_web_server_gets_worse(tmp_path, capsys) -> None:
    (tmp_path / "04-replication.topo").write_text(drop_web2((SEED / "04-replication.topo").read_text()))
    code = main(["diff", str(SEED / "04-replication.topo"), str(tmp_path / "04-replication.topo")])
    out = capsys.readouterr().out
    path = tmp_path / "04-replication.topo"
    assert code == 1
    assert out == (f"topocheck diff: {SEED / '04-replication.topo'} -> {path}\n"
                   f"{path}:53:5: worse[no-spof] margin 2 -> 1: failing 1 host can now stop a service\n"
                   f"{path}:53:5: worse[no-spof] new single point of failure: 'web1' stops 'www.example.com'\n"
                   f"{path}:36:6: worse[zone-redundancy] losing zone 'az-a' now stops 'www.example.com'\n"
                   "worse: 3 worse (3 failing) in 1 of 1 file\n")


def test_seed_stages_in_every_format(capsys) -> None:
    code, markdown = _seed_diff("04-replication.topo", "03-load-balancer.topo", capsys, "markdown")
    from checker.reporters.escape import markdown_text

    old, new = markdown_text(str(SEED / "04-replication.topo")), markdown_text(str(SEED / "03-load-balancer.topo"))
    assert markdown.splitlines()[0] == f"**topocheck**: ❌ **worse**: 3 worse (3 failing), 2 changed in 1 of 1 file " \
                                       f"({old} → {new})"
    assert f"| ❌ worse | {new}:51 | `no-spof` | www.example.com | " \
           "new single point of failure: 'db1' stops 'www.example.com' |" in markdown
    from tests.test_golden import mermaid_problems

    mermaid = markdown.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert mermaid_problems(mermaid) == []
    assert f"<details open><summary>{SEED / '03-load-balancer.topo'}: red, what got worse</summary>" in markdown
    assert "  class n3,n5 failed" in mermaid.splitlines()  # web1 and db1 in zone az-a, which now stops it
    code, better = _seed_diff("03-load-balancer.topo", "04-replication.topo", capsys, "markdown")
    mermaid = better.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert mermaid_problems(mermaid) == []
    assert "classDef improved fill:#dcedc8,stroke:#2e7d32,stroke-width:3px,color:#000" in mermaid
    improved = [line for line in mermaid.splitlines() if line.endswith(" improved") and "class " in line]
    assert improved == ["  class n3,n5 improved"]  # web1 and db1, in zone az-a
    assert "  class b1 improvedBox" in mermaid.splitlines()  # zone az-a itself
    assert re.search(r'n5\[\("db1<br/>', mermaid)


def test_sarif_of_a_diff_is_valid_and_maps_effects(capsys) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.exists():
        missing("needs ../shared/schemas/sarif-schema-2.1.0.json beside the repository (CI has it)")
    code, out = _seed_diff("03-load-balancer.topo", "04-replication.topo", capsys, "sarif")
    document = json.loads(out)
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    results = document["runs"][0]["results"]
    assert [(r["ruleId"], r["kind"], r["level"], r["baselineState"]) for r in results] == [
        ("no-spof", "pass", "none", "updated"),  # the margin
        ("no-spof", "pass", "none", "absent"),  # db1 no longer a single point
        ("zone-redundancy", "pass", "none", "absent"),
        ("private-service", "informational", "none", "updated"),
        ("private-db", "informational", "none", "updated"),
    ]
    code, out = _seed_diff("04-replication.topo", "03-load-balancer.topo", capsys, "sarif")
    document = json.loads(out)
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    spof = document["runs"][0]["results"][1]
    assert (spof["kind"], spof["level"], spof["baselineState"]) == ("fail", "error", "new")
    assert spof["message"]["text"] == "worse: new single point of failure: 'db1' stops 'www.example.com'"
    assert spof["locations"][0]["physicalLocation"]["region"]["startLine"] == 51
    assert spof["properties"]["fails"] is True


# -- files: folders, added, removed, renamed ----------------------------------------------------


def test_folders_pair_files_and_see_added_removed_renamed(tmp_path, capsys) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        (folder / "sub").mkdir(parents=True)
    (old / "kept.topo").write_text(BASE)
    (new / "kept.topo").write_text(ONE_WEB)
    (old / "gone.topo").write_text(ONE_WEB)
    (new / "sub" / "fresh.topo").write_text((SEED / "02-separate-database.topo").read_text())
    (old / "sub" / "before.topo").write_text(THREE)
    (new / "sub" / "after.topo").write_text(THREE.replace("failover auto", "failover auto  # promoted"))
    code = main(["diff", str(old), str(new), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    files = [(f["path"], f["status"]) for f in doc["files"]]
    assert files == [(str(new / "kept.topo"), "modified"), (str(new / "sub" / "after.topo"), "renamed"),
                     (str(new / "sub" / "fresh.topo"), "added"), (str(old / "gone.topo"), "removed")]
    by_path = {f["path"]: [(c["effect"], c["check"], c["kind"], c["message"]) for c in f["changes"]]
               for f in doc["files"]}
    assert by_path[str(new / "sub" / "after.topo")] == [
        ("changed", "file", "file-renamed", f"renamed from {old / 'sub' / 'before.topo'}")]
    assert by_path[str(new / "sub" / "fresh.topo")] == [  # every finding of a new file is new
        ("changed", "file", "file-added", "a new file"),
        ("worse", "no-spof", "single-point", "new single point of failure: 'db1' stops 'www.example.com'"),
        ("worse", "no-spof", "single-point", "new single point of failure: 'web1' stops 'www.example.com'"),
        ("worse", "zone-redundancy", "zone", "losing zone '(unzoned)' now stops 'www.example.com'"),
        ("worse", "private-web", "public-address", "'web1' now has the public address 203.0.113.10")]
    assert by_path[str(old / "gone.topo")] == [
        ("changed", "file", "file-removed", "the file was removed (2 findings went with it)")]


def test_usage_errors(tmp_path, capsys) -> None:
    (tmp_path / "a.topo").write_text(BASE)
    assert main(["diff", str(tmp_path / "a.topo")]) == 2
    assert "diff compares two versions" in capsys.readouterr().err
    assert main(["diff", str(tmp_path / "a.topo"), str(tmp_path)]) == 2
    assert "cannot compare a file with a folder" in capsys.readouterr().err
    assert main(["diff", str(tmp_path / "a.topo"), str(tmp_path / "nope.topo")]) == 2
    assert f"no such file or folder: '{tmp_path / 'nope.topo'}'" in capsys.readouterr().err
    assert main(["diff", str(tmp_path / "a.topo"), str(tmp_path / "a.topo"), "--fail-on", "no-spf"]) == 2
    assert "unknown check 'no-spf'" in capsys.readouterr().err


# -- the gate -----------------------------------------------------------------------------------------


def test_fail_on_and_warn_only_choose_what_fails(tmp_path, capsys) -> None:
    code, doc = run_diff(tmp_path, BASE, ONE_WEB, "--warn-only", "no-spof", capsys=capsys)
    assert code == 1  # zone-redundancy still fails
    assert [c["fails"] for c in doc["files"][0]["changes"]] == [False, False, True]
    code, doc = run_diff(tmp_path, BASE, ONE_WEB, "--warn-only", "no-spof,zone-redundancy", capsys=capsys)
    assert code == 0 and doc["verdict"] == "worse" and doc["summary"]["failing"] == 0
    code, doc = run_diff(tmp_path, BASE, ONE_WEB, "--fail-on", "private-db", capsys=capsys)
    assert code == 0
    code, doc = run_diff(tmp_path, BASE, ONE_WEB, "--fail-on", "zone-redundancy", capsys=capsys)
    assert code == 1 and doc["summary"]["failing"] == 1
    assert main(["diff", str(tmp_path / "old" / "shop.topo"), str(tmp_path / "new" / "shop.topo"),
                 "--exit-zero"]) == 0
    capsys.readouterr()


def test_warnings_getting_worse_do_not_fail_unless_asked(tmp_path, capsys) -> None:
    shadowed = BASE + "allow internet -> lb1 tcp/443\n"  # the same rule again: never the first match
    code = main(["diff", str(_write(tmp_path, "a.topo", BASE)), str(_write(tmp_path, "b.topo", shadowed))])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[1] == (f"{tmp_path / 'b.topo'}:17:1: worse[shadowed-rule] (not failing) new: the rule at line 17 "
                      "can never match: the rule at line 13 covers every packet it matches")
    assert out[2] == "worse: 1 worse (0 failing) in 1 of 1 file"
    assert main(["diff", str(tmp_path / "a.topo"), str(tmp_path / "b.topo"), "--fail-on", "all"]) == 1
    capsys.readouterr()


def _write(folder: Path, name: str, text: str) -> Path:
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


# -- hostile names and messages -------------------------------------------------------------------


def test_hostile_file_names_and_messages_are_escaped_in_every_format(tmp_path, capsys) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    name = "evil\x1b[31m<img src=x onerror=alert(1)>|@team\n*x*.topo"
    (new / name).write_text("web w1 address 10.0.0.1\nweb <b>\x1b[2J\n", encoding="utf-8")
    outputs = {}
    for fmt in ("text", "json", "markdown", "sarif"):
        assert main(["diff", str(old), str(new), "--format", fmt]) == 1
        outputs[fmt] = capsys.readouterr().out
    text = outputs["text"]
    assert "\x1b" not in text and "\\x1b[31m" in text
    lines = text.splitlines()
    assert len(lines) == 4 and lines[1].endswith("changed[file] a new file")
    assert "\\x0a*x*.topo:2:8: worse[syntax] the new version does not parse: line 2: control character U+001B " \
        "is not allowed in a topology file" \
        in lines[2]
    markdown = outputs["markdown"]
    assert "\x1b" not in markdown
    assert "<img" not in markdown and "<b>" not in markdown
    assert "&lt;img src=x onerror=alert(1)&gt;\\|@\u2060team\\\\x0a\\*x\\*.topo" in markdown  # \\x0a shows \x0a
    structure = re.sub(r"</?(details|summary)( open)?>", "", markdown)
    assert "<" not in structure.split("```mermaid")[0]
    for fmt in ("json", "sarif"):
        assert "\x1b" not in outputs[fmt]  # JSON escapes control characters
        json.loads(outputs[fmt])
    paths = [f["path"] for f in json.loads(outputs["json"])["files"]]
    assert paths == [str(new / name)]


def test_a_diagram_too_long_for_mermaid_is_left_out_undrawn(tmp_path, capsys, monkeypatch) -> None:
    from checker.reporters import diagram

    drawn: list[int] = []
    real = diagram.to_mermaid_changes
    monkeypatch.setattr(diagram, "to_mermaid_changes", lambda *args: drawn.append(1) or real(*args))
    webs = "".join(f"web w{i} address 10.1.{i // 250}.{i % 250 + 1}\n" for i in range(5001))
    code, _ = run_diff(tmp_path, BASE, ONE_WEB + webs, capsys=capsys)
    assert code == 1
    main(["diff", str(tmp_path / "old" / "shop.topo"), str(tmp_path / "new" / "shop.topo"), "--format", "markdown"])
    out = capsys.readouterr().out
    assert "```mermaid" not in out and drawn == []  # 5,006 components: at least 50,060 characters
    assert out.endswith("shop.topo left out: 5,006 components, more than Mermaid draws (50,000 characters)._\n")
    (tmp_path / "new" / "shop.topo").write_text(ONE_WEB, encoding="utf-8")  # the same change, small: drawn
    main(["diff", str(tmp_path / "old" / "shop.topo"), str(tmp_path / "new" / "shop.topo"), "--format", "markdown"])
    assert "```mermaid" in capsys.readouterr().out and drawn == [1]


def test_a_file_name_that_is_not_utf8_is_written_as_utf8_in_every_format(tmp_path) -> None:
    # (through a real process: standard output writes bytes, where a test's capture takes any text)
    import os
    import sys

    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    for folder, text in ((old, BASE), (new, ONE_WEB)):
        with open(os.path.join(os.fsencode(folder), b"caf\xe9.topo"), "w", encoding="utf-8") as handle:
            handle.write(text)
    for fmt in ("text", "json", "markdown", "sarif"):
        done = subprocess.run([sys.executable, "-m", "checker", "diff", str(old), str(new), "--format", fmt],
                              capture_output=True, cwd=ROOT, timeout=120)
        assert done.returncode == 1 and done.stderr == b"", (fmt, done.stderr)
        out = done.stdout.decode("utf-8")  # (raises where a byte of the name was written raw)
        if fmt in ("text", "markdown"):
            assert "caf\\xe9.topo" in out, fmt
        elif fmt == "json":
            assert json.loads(out)["files"][0]["path"].endswith("caf\\xe9.topo")
        else:  # SARIF names files by URI
            assert json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
                "artifactLocation"]["uri"].endswith("caf%E9.topo")


# -- --base on a real git repository ------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    require_program("git", "git")
    repo = tmp_path / "repo"
    (repo / "models").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / "models" / "shop.topo").write_text(BASE)
    (repo / "models" / "stage.topo").write_text((SEED / "04-replication.topo").read_text())
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    (repo / "models" / "shop.topo").write_text(ONE_ZONE)
    (repo / "models" / "stage.topo").write_text(drop_web2((SEED / "04-replication.topo").read_text()))
    _git(repo, "commit", "-qam", "head")
    return repo


def test_base_compares_the_working_tree_with_a_revision(repo, capsys, monkeypatch) -> None:
    monkeypatch.chdir(repo)
    assert main(["diff", "--base", "HEAD~1"]) == 1
    assert capsys.readouterr().out == (
        "topocheck diff: HEAD~1 -> the working tree\n"
        "models/shop.topo:1:6: worse[zone-redundancy] losing zone 'az-a' now stops 'www'\n"
        "models/stage.topo:53:5: worse[no-spof] margin 2 -> 1: failing 1 host can now stop a service\n"
        "models/stage.topo:53:5: worse[no-spof] new single point of failure: 'web1' stops 'www.example.com'\n"
        "models/stage.topo:36:6: worse[zone-redundancy] losing zone 'az-a' now stops 'www.example.com'\n"
        "worse: 4 worse (4 failing) in 2 of 2 files\n")
    assert main(["diff", "--base", "main"]) == 0  # the working tree is the head commit
    assert capsys.readouterr().out.endswith("no change: 2 files compared\n")
    monkeypatch.chdir(repo / "models")  # paths are the working tree's, from where it runs
    assert main(["diff", "--base", "HEAD~1", "shop.topo", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(f["old_path"], f["new_path"]) for f in doc["files"]] == [("HEAD~1:models/shop.topo", "shop.topo")]


def test_base_sees_renames_deletions_and_uncommitted_files(repo, capsys, monkeypatch) -> None:
    monkeypatch.chdir(repo)
    _git(repo, "mv", "models/shop.topo", "models/renamed.topo")
    (repo / "models" / "stage.topo").unlink()
    (repo / "models" / "new.topo").write_text(ONE_WEB)  # not even added to git
    assert main(["diff", "--base", "HEAD", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(f["old_path"], f["new_path"], f["status"]) for f in doc["files"]] == [
        (None, "models/new.topo", "added"),
        ("HEAD:models/shop.topo", "models/renamed.topo", "renamed"),
        ("HEAD:models/stage.topo", None, "removed"),
    ]


def test_base_usage_errors(repo, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(repo)
    assert main(["diff", "--base", "no-such-branch"]) == 2
    assert capsys.readouterr().err == "topocheck: error: no such git revision: 'no-such-branch'\n"
    assert main(["diff", "--base=--output=/tmp/x"]) == 2
    assert "not a git revision: '--output=/tmp/x'" in capsys.readouterr().err
    assert main(["diff", "--base", "HEAD", "missing.topo"]) == 2
    assert "no such file or folder in the working tree or in 'HEAD': 'missing.topo'" in capsys.readouterr().err
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert main(["diff", "--base", "HEAD"]) == 2
    assert "--base needs a git repository" in capsys.readouterr().err


def test_base_reads_names_as_data_not_options(repo, capsys, monkeypatch) -> None:
    """A file whose name looks like an option, or holds a newline, is read as the file it is."""
    monkeypatch.chdir(repo)
    odd = repo / "models" / "--output=x\n.topo"
    odd.write_text(BASE)
    _git(repo, "add", "--", str(odd))
    _git(repo, "commit", "-qm", "odd")
    odd.write_text(ONE_WEB)
    assert main(["diff", "--base", "HEAD", "models", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    changed = [f for f in doc["files"] if f["changes"]]
    assert [f["new_path"] for f in changed] == ["models/--output=x\n.topo"]
    assert not (repo / "x").exists()


# -- the README's examples are real output -------------------------------------------------------------


def _readme_block(after: str, fence: str = "```") -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(after) + len(after)
    return text[start:text.index(f"\n{fence}\n", start) + 1]


def test_readme_shows_the_real_diff_of_stage_three_to_four(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    command = "$ topocheck diff models/seed/03-load-balancer.topo models/seed/04-replication.topo\n"
    assert main(command[2:].split()[1:]) == 0
    assert capsys.readouterr().out == _readme_block(command)


def test_readme_shows_the_real_diff_of_dropping_a_web_server(tmp_path, capsys, monkeypatch) -> None:
    require_program("git", "git")
    repo = tmp_path / "clone"
    shutil.copytree(SEED, repo / "models" / "seed")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "the seed")
    stage = repo / "models" / "seed" / "04-replication.topo"
    stage.write_text(drop_web2(stage.read_text(encoding="utf-8")), encoding="utf-8")
    monkeypatch.chdir(repo)
    command = "$ topocheck diff --base main models/seed\n"
    assert main(["diff", "--base", "main", "models/seed"]) == 1
    assert capsys.readouterr().out + "$ echo $?\n1\n" == _readme_block(command)
    assert main(["diff", "--base", "main", "models/seed", "--format", "markdown"]) == 1
    assert capsys.readouterr().out == _readme_block("````markdown\n", fence="````")
