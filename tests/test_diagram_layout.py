"""The built-in diagram layout: tiers, nested boxes, no overlapping labels, determinism,
and what each counterexample marks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from checker.api import check_text, load_text
from checker.reporters import diagram
from checker.reporters.diagram.graph import graph_of
from checker.reporters.diagram.layout import Layout, Rect, labels_on_shapes, layout, overlapping_labels
from checker.scenario import scenario

from .conftest import examples
from .strategies import topologies

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "models").rglob("*.topo"))


def load(text: str, path: str = "t.topo"):
    topology = load_text(text, path).topology
    assert topology is not None
    return topology


def model(name: str):
    path = next(p for p in MODELS if p.stem == name)
    text = path.read_text(encoding="utf-8")
    return load(text, str(path)), list(check_text(text, str(path)).results)


def inside(inner: Rect, outer: Rect) -> bool:
    return outer.x <= inner.x and inner.right <= outer.right and outer.y <= inner.y and inner.bottom <= outer.bottom


def geometry_problems(placed: Layout, graph) -> list[str]:
    """Everything the layout promises, as a list of broken promises."""
    problems = [f"labels overlap: {a.text!r} ({a.role}) and {b.text!r} ({b.role})"
                for a, b in overlapping_labels(placed)]
    problems += [f"edge label {t.text!r} lies on {what}" for t, what in labels_on_shapes(placed)]
    nodes = list(placed.nodes.values())
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            if a.rect.overlaps(b.rect):
                problems.append(f"nodes overlap: {a.node.id} and {b.node.id}")
    boxes = {b.id: b for b in graph.boxes}
    for node in nodes:
        box = node.node.box
        while box is not None:
            if box in placed.boxes and not inside(node.rect, placed.boxes[box].rect):
                problems.append(f"{node.node.id} is not inside {box}")
            box = boxes[box].parent
    for box in placed.boxes.values():
        parent = boxes[box.id].parent
        if parent is not None and not inside(box.rect, placed.boxes[parent].rect):
            problems.append(f"{box.id} is not inside {parent}")
        if not inside(box.title.rect, box.rect):
            problems.append(f"the title of {box.id} sticks out of its box")
    siblings: dict = {}
    for box in placed.boxes.values():
        siblings.setdefault(boxes[box.id].parent, []).append(box)
    for group in siblings.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if a.rect.overlaps(b.rect):
                    problems.append(f"boxes overlap: {a.id} and {b.id}")
    for edge in placed.edges.values():  # no line crosses a title
        for (x1, y1), (x2, y2) in zip(edge.points, edge.points[1:]):
            segment = Rect(min(x1, x2), min(y1, y2), abs(x2 - x1) or 0.01, abs(y2 - y1) or 0.01)
            for box in placed.boxes.values():
                if segment.overlaps(box.title.rect):
                    problems.append(f"edge {edge.id} crosses the title of {box.id}")
    for text in placed.texts():
        if text.rect.x < 0 or text.rect.y < 0 or text.rect.right > placed.width or text.rect.bottom > placed.height:
            problems.append(f"{text.text!r} is outside the picture")
    return problems


SERVICES = """\
topology "tiers"
zone az-a region seoul
zone az-b region seoul
internet users
dns www { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1, web2 tcp/8080 }
web web1 zone az-a address 10.0.1.11 listen tcp/8080
web web2 zone az-b address 10.0.2.11 listen tcp/8080
service app1 zone az-a address 10.0.5.11 listen tcp/9000
service app2 zone az-b address 10.0.5.12 listen tcp/9000
service redis1 zone az-a address 10.0.6.11 listen tcp/6379
db db1 zone az-a address 10.0.3.10 listen tcp/5432 primary
web1 uses app1
web2 uses app2
app1, app2 uses redis1
app1, app2 writes db1
"""


def test_tiers_run_from_the_clients_down_to_the_data() -> None:
    topology, results = model("04-replication")
    placed, _ = diagram.layout_of(topology, results)
    top = {name: node.rect.y for name, node in placed.nodes.items()}
    assert top["users"] < top["www.example.com"] < top["lb1"] < top["web1"] < top["orders"] < top["db1"]
    assert top["web1"] == top["web2"] and top["db1"] == top["db2"] == top["db3"]


def test_a_requirement_puts_what_is_needed_below_what_needs_it() -> None:
    placed = layout(graph_of(load(SERVICES)))
    top = {name: node.rect.y for name, node in placed.nodes.items()}
    assert top["web1"] == top["web2"] < top["app1"] == top["app2"] < top["redis1"] == top["db1"]


def test_a_requirement_cycle_is_laid_out() -> None:
    text = SERVICES + "redis1 uses app1\n"
    placed = layout(graph_of(load(text)))
    assert placed.nodes["app1"].rect.y < placed.nodes["redis1"].rect.y
    assert overlapping_labels(placed) == []


def test_regions_and_zones_nest_and_unplaced_components_stay_outside() -> None:
    topology, results = model("05-multi-datacenter")
    placed, d = diagram.layout_of(topology, results)
    assert geometry_problems(placed, d.graph) == []
    assert set(placed.boxes) == {"region:seoul", "region:busan", "zone:seoul-a", "zone:seoul-b", "zone:busan-a"}
    seoul, busan = placed.boxes["region:seoul"].rect, placed.boxes["region:busan"].rect
    assert seoul.right < busan.x  # side by side, in declaration order
    assert inside(placed.nodes["lb-seoul-a"].rect, placed.boxes["zone:seoul-a"].rect)
    assert inside(placed.nodes["db-busan-a"].rect, placed.boxes["zone:busan-a"].rect)
    for name in ("users", "www.example.com", "orders"):  # managed or spanning regions: in no box
        assert not any(inside(placed.nodes[name].rect, box.rect) for box in placed.boxes.values())


def test_a_shared_host_is_a_box_and_a_cluster_within_one_region_sits_in_it() -> None:
    topology, results = model("01-single-server")
    placed, _ = diagram.layout_of(topology, results)
    assert set(placed.boxes) == {"host:box1"}
    assert inside(placed.nodes["server"].rect, placed.boxes["host:box1"].rect)
    assert inside(placed.nodes["db"].rect, placed.boxes["host:box1"].rect)
    topology, results = model("04-replication")
    placed, _ = diagram.layout_of(topology, results)
    assert inside(placed.nodes["orders"].rect, placed.boxes["region:seoul"].rect)
    assert not inside(placed.nodes["orders"].rect, placed.boxes["zone:az-a"].rect)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_every_model_and_counterexample_lays_out_without_overlaps(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    topology = load(text, str(path))
    results = list(check_text(text, str(path)).results)
    for number in [None, *range(1, len(diagram.choices(results)) + 1)]:
        placed, d = diagram.layout_of(topology, results, number)
        assert geometry_problems(placed, d.graph) == [], (path.stem, number)
    # the page's one drawing holds every counterexample's hops at once
    graph = graph_of(topology, [h for c in diagram.choices(results)
                                for h in diagram.highlight.extra_hops(topology, c.counterexample)])
    assert geometry_problems(layout(graph), graph) == []


@settings(max_examples=examples(80))
@given(topologies(max_hosts=8))
def test_generated_topologies_lay_out_without_overlaps(text: str) -> None:
    topology = load(text)
    graph = graph_of(topology)
    assert geometry_problems(layout(graph), graph) == []


def unexplained(topology, results) -> list[tuple[int, object]]:
    """Stopped services of failure counterexamples that the causal path does not link to a
    failed component or a blocked hop, and hops of the path the drawing has no edge for."""
    out: list[tuple[int, object]] = []
    for choice in diagram.choices(results):
        fields = choice.counterexample.fields
        if "stopped" not in fields:
            continue
        d = diagram.drawing(topology, results, choice.number)
        drawn = {(e.source, e.target) for e in d.graph.edges}
        drawn |= {(e.target, e.source) for e in d.graph.edges if e.kind == "member"}
        drawn |= {("internet", e.target) for e in d.graph.edges if d.graph.node(e.source).kind == "internet"}
        seen = scenario(topology, fields.get("failed", ()), fields["stopped"])
        out.extend((choice.number, hop) for hop in sorted(seen.cause | seen.blocked) if hop not in drawn)
        needs: dict[str, list[str]] = {}
        for a, b in seen.cause:
            needs.setdefault(a, []).append(b)
        ends = set(seen.failed) | {a for a, _ in seen.blocked}
        # a hop from the clients themselves (the internet, a client group) explains its target
        ends |= {b for a, b in seen.blocked if a not in topology.components or topology.components[a].kind.by_networks}
        for service in seen.stopped:
            if service not in topology.components:
                continue  # the implicit public service: its starts are the public components
            stack, visited = [service], set()
            while stack and not ends & {stack[-1]}:
                name = stack.pop()
                if name not in visited:
                    visited.add(name)
                    stack.extend(needs.get(name, []))
            if not stack:
                out.append((choice.number, service))
    return out


@settings(max_examples=examples(25))
@given(topologies(max_hosts=5, with_policy=True))
def test_generated_counterexamples_lay_out_without_overlaps_and_explain_what_stopped(text: str) -> None:
    topology = load(text)
    results = list(check_text(text, "t.topo").results)
    assert unexplained(topology, results) == []
    for number in range(1, min(len(diagram.choices(results)), 6) + 1):
        placed, d = diagram.layout_of(topology, results, number)
        assert geometry_problems(placed, d.graph) == []


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_the_causal_path_links_every_stopped_service_to_what_failed(path: Path) -> None:
    topology, results = model(path.stem)
    assert unexplained(topology, results) == []


def test_long_names_titles_and_wide_characters_do_not_overlap() -> None:
    text = (
        'topology "서비스 구성: 한 줄로 길게 쓴 제목"\n'
        "zone a-zone-with-a-very-long-name-indeed region r\n"
        "zone b region a-region-whose-name-is-longer-than-its-zones\n"
        "dns www { managed; answer lb-with-a-long-name }\n"
        "lb lb-with-a-long-name { managed; address 203.0.113.10; "
        "listen tcp/8000-8099 -> w1, w2, w3 tcp/9000-9099 }\n"
        "web w1 zone a-zone-with-a-very-long-name-indeed address 10.0.0.1\n"
        "web w2 zone b address 10.0.0.2\nweb w3 zone b address 10.0.0.3\n"
        "db d zone b address 10.0.0.9 primary\n"
        "w1, w2, w3 reads d\nw1, w2, w3 writes d\nw1 uses w2 optional\nw2 uses w3 optional\n"
    )
    topology = load(text)
    results = list(check_text(text, "t.topo").results)
    for number in [None, *range(1, len(diagram.choices(results)) + 1)]:
        placed, d = diagram.layout_of(topology, results, number)
        assert geometry_problems(placed, d.graph) == []


def test_the_same_input_gives_the_same_bytes_in_every_process() -> None:
    path = ROOT / "models" / "seed" / "05-multi-datacenter.topo"
    outputs = set()
    for seed in ("0", "1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        for fmt in ("svg", "html"):
            done = subprocess.run([sys.executable, "-m", "checker", "render", str(path), "--format", fmt],
                                  capture_output=True, env=env, cwd=ROOT, timeout=120)
            assert done.returncode == 0, done.stderr
            outputs.add((fmt, done.stdout))
    assert len(outputs) == 2


# -- what a counterexample marks ----------------------------------------------------------


def test_stage_three_marks_only_the_chosen_counterexamples_failed_units() -> None:
    topology, results = model("03-load-balancer")
    single = diagram.drawing(topology, results, 1)
    assert single.choice.result.id == "no-spof"
    assert single.marks.nodes == {"db1": "failed", "www.example.com": "stopped", "lb1": "down", "web1": "down",
                                  "web2": "down"}
    assert single.marks.boxes == {}
    cause = {(e.source, e.target) for e in single.graph.edges if single.marks.edges.get(e.id) == "cause"}
    assert cause == {("www.example.com", "lb1"), ("lb1", "web1"), ("lb1", "web2"), ("web1", "db1"), ("web2", "db1")}
    zone = diagram.drawing(topology, results, 2)
    assert zone.choice.result.id == "zone-redundancy"
    assert zone.marks.boxes == {"zone:az-a": "failed"}
    assert zone.marks.nodes == {"web1": "failed", "db1": "failed", "www.example.com": "stopped", "lb1": "down",
                                "web2": "down"}
    assert diagram.drawing(topology, results, None).marks.nodes == {}


def test_the_causal_path_names_the_requirement_chain() -> None:
    topology = load(SERVICES)
    seen = scenario(topology, ["redis1"], ["www"])
    assert seen.failed == {"redis1"}
    assert seen.cause == {("www", "lb1"), ("lb1", "web1"), ("lb1", "web2"), ("web1", "app1"), ("web2", "app2"),
                          ("app1", "redis1"), ("app2", "redis1")}
    assert seen.down == {"lb1", "web1", "web2", "app1", "app2"}
    assert seen.blocked == set()
    # one web's path survives: it is no cause, and nothing on it is down
    seen = scenario(topology, ["app1"], [])
    assert seen.cause == set() and seen.down == set()


def test_a_blocked_hop_is_the_cause_when_nothing_failed() -> None:
    text = SERVICES.replace("service redis1 zone az-a address 10.0.6.11 listen tcp/6379",
                            "service redis1 zone az-a address 10.0.6.11 listen tcp/6379") + (
        "allow internet -> lb1 tcp/443\nallow lb1 -> web1, web2 tcp/8080\nallow web1 -> app1 tcp/9000\n"
        "allow web2 -> app2 tcp/9000\nallow app1, app2 -> db1 tcp/5432\n")  # no rule to redis1
    topology = load(text)
    results = list(check_text(text, "t.topo").results)
    available = next(c for c in diagram.choices(results) if c.result.id == "available")
    d = diagram.drawing(topology, results, available.number)
    blocked = {(e.source, e.target) for e in d.graph.edges if d.marks.edges.get(e.id) == "blocked"}
    assert blocked == {("app1", "redis1"), ("app2", "redis1")}
    assert d.marks.nodes["www"] == "stopped" and d.marks.nodes["app1"] == "down"
    assert "redis1" not in d.marks.nodes  # it serves; the policy keeps the apps from it


def test_an_exposure_draws_the_packet_from_the_internet() -> None:
    topology, results = model("database-behind-lb")
    choice = next(c for c in diagram.choices(results) if c.result.id == "private-db")
    d = diagram.drawing(topology, results, choice.number)
    packet = {(e.source, e.target, e.kind, e.label) for e in d.graph.edges if d.marks.edges.get(e.id) == "packet"}
    assert packet == {("users", "lb1", "packet", "tcp/5432"), ("lb1", "db2", "forward", "tcp/5432")}
    assert d.marks.nodes == {"db2": "exposed"}
    # the packet's first hop exists only in this counterexample's drawing
    assert not [e for e in diagram.drawing(topology, results, None).graph.edges if e.kind == "packet"]


def test_a_bad_write_draws_its_path_its_landing_and_the_primary() -> None:
    topology, results = model("write-to-replica")
    choice = next(c for c in diagram.choices(results) if c.result.id == "write-to-primary")
    d = diagram.drawing(topology, results, choice.number)
    writes = {(e.source, e.target) for e in d.graph.edges if d.marks.edges.get(e.id) == "write"}
    assert writes == {(choice.counterexample.fields["writer"], "db2")}
    assert d.marks.nodes["db2"] == "landing" and d.marks.nodes["db1"] == "primary"


def test_a_denied_connection_is_drawn_between_its_ends() -> None:
    text = SERVICES + "allow internet -> lb1 tcp/443\nallow lb1 -> web1, web2 tcp/8080\n"
    topology = load(text)
    results = list(check_text(text, "t.topo").results)
    denied = [c for c in diagram.choices(results) if c.result.id == "connection-denied"]
    assert denied
    for choice in denied:
        f = choice.counterexample.fields
        d = diagram.drawing(topology, results, choice.number)
        marked = [(e.source, e.target) for e in d.graph.edges if d.marks.edges.get(e.id) == "blocked"]
        assert sorted(marked) == sorted((c["source"], c["target"]) for c in f["denied"])  # one finding, every hop


def test_numbering_counts_every_counterexample_of_every_refuted_result_in_report_order() -> None:
    topology, results = model("02-separate-database")
    found = diagram.choices(results)
    expected = [(r.id, cx) for r in results if r.status.value == "refuted" for cx in r.counterexamples]
    assert [(c.result.id, c.counterexample) for c in found] == expected
    assert [c.number for c in found] == list(range(1, len(expected) + 1))
    with pytest.raises(diagram.CounterexampleChoiceError, match=r"the file has 4 \(1-4\)"):
        diagram.drawing(topology, results, 5)


def test_accepted_counterexamples_are_numbered_after_their_results_own() -> None:
    text = (ROOT / "models" / "seed" / "03-load-balancer.topo").read_text(encoding="utf-8")
    text = text.replace("\ndb db1 ", "\n# topocheck: ignore[no-spof] one database until the migration\ndb db1 ", 1)
    topology = load(text)
    results = list(check_text(text, "t.topo").results)
    found = diagram.choices(results)
    assert [(c.result.id, c.accepted) for c in found] == [
        ("no-spof", "one database until the migration"), ("zone-redundancy", None)]
    assert found[0].summary == ("no-spof (line 52): failed db1 -> stops www.example.com "
                                "[accepted: one database until the migration]")
    assert diagram.drawing(topology, results, 1).marks.nodes["db1"] == "failed"


def test_the_kinds_of_language_version_2_have_tiers_shapes_and_edge_styles() -> None:
    """Client groups beside the internet, jobs beside the DNS names, name servers below the
    names they serve, externals below what uses them, behind egress gateways: drawn from
    the same tables (a graph built by hand, as the model will give it)."""
    from checker.reporters.diagram.graph import Edge, Graph, Node
    from checker.reporters.diagram.styles import EDGES, KINDS

    nodes = (Node("internet", "internet", ("internet",), None), Node("office", "clients", ("office", "clients"), None),
             Node("www", "dns", ("www", "dns"), None), Node("pipeline", "job", ("pipeline", "job"), None),
             Node("ns1", "service", ("ns1", "service"), None), Node("lb1", "lb", ("lb1", "lb"), None),
             Node("app1", "service", ("app1", "service"), None), Node("nat-a", "gateway", ("nat-a", "gateway"), None),
             Node("payments", "external", ("payments", "external"), None))
    edges = (Edge("e0", "internet", "www", "entry", "resolves"), Edge("e1", "office", "www", "entry", "resolves"),
             Edge("e2", "www", "ns1", "served-by", "served by"), Edge("e3", "www", "lb1", "answer", "answer"),
             Edge("e4", "lb1", "app1", "forward", "tcp/443"), Edge("e5", "pipeline", "app1", "requirement", "uses"),
             Edge("e6", "app1", "nat-a", "egress", "egress"), Edge("e7", "app1", "payments", "requirement", "uses"))
    graph = Graph("version 2", nodes, (), edges)
    placed = layout(graph)
    assert geometry_problems(placed, graph) == []
    top = {name: node.rect.y for name, node in placed.nodes.items()}
    assert top["internet"] == top["office"] < top["www"] == top["pipeline"] < top["lb1"] < top["app1"]
    assert top["ns1"] > top["www"] and top["nat-a"] > top["app1"] and top["payments"] > top["app1"]
    assert {placed.nodes[n].shape for n in ("office", "pipeline", "payments")} == {"ellipse", "octagon", "cloud"}
    assert {"clients", "job", "external"} <= set(KINDS) and {"served-by", "egress"} <= set(EDGES)
    entries = [e.key for e in diagram.legend_entries(graph, ())]
    assert entries == ["entry", "answer", "served-by", "forward", "requirement", "egress"]


VERSION_2 = """\
topology "version 2: clients, jobs, name servers, egress, quorum"

zone az-a region seoul egress nat-a
zone az-b region seoul egress nat-b

internet users
clients office address 192.168.10.0/24

service ns1 zone az-a address 10.0.0.53 address 203.0.113.53 listen udp/53
service ns2 zone az-b address 10.0.1.53 address 198.51.100.53 listen udp/53

dns www.example.com { served-by ns1, ns2; answer lb1 }
dns admin.example.com { managed; answer lb1; clients office }

lb lb1 { managed; address 203.0.113.10; address 10.0.0.10; listen tcp/443 -> app1, app2 tcp/8080 need 2 }

web app1 zone az-a address 10.0.2.11 listen tcp/8080
web app2 zone az-b address 10.0.3.11 listen tcp/8080

gateway pgbouncer1 { zone az-a; address 10.0.5.10; listen tcp/6432 -> primary of orders tcp/5432 }
lb reads1 { managed; address 10.0.5.20; listen tcp/5432 -> replicas of orders }

gateway nat-a { zone az-a; address 203.0.113.50; address 10.0.0.5 }
gateway nat-b { zone az-b; address 198.51.100.60; address 10.0.1.5 }
external payments { address 198.51.100.0/24; listen tcp/443 }

cluster orders {
  failover auto
  db db1 { zone az-a  address 10.0.4.10  listen tcp/5432  primary }
  db db2 { zone az-b  address 10.0.4.11  listen tcp/5432  replica }
}

cluster sessions {
  failover auto
  quorum
  service redis1 { zone az-a; address 10.0.6.11; listen tcp/6379; primary }
  service redis2 { zone az-b; address 10.0.6.12; listen tcp/6379; replica }
  service redis3 { zone az-b; address 10.0.6.13; listen tcp/6379; replica }
}

job order-pipeline
service worker1 zone az-a address 10.0.7.11
service worker2 zone az-b address 10.0.7.12

app1, app2 writes pgbouncer1
app1, app2 reads reads1
app1, app2 uses sessions
app1, app2 uses payments
order-pipeline uses worker1, worker2
worker1, worker2 reads reads1

allow internet -> lb1 tcp/443
allow internet, office -> ns1, ns2 udp/53
allow office -> lb1 tcp/443
allow lb1 -> app1, app2 tcp/8080
allow app1, app2 -> pgbouncer1 tcp/6432
allow app1, app2, worker1, worker2 -> reads1 tcp/5432
allow pgbouncer1, reads1 -> orders tcp/5432
allow app1, app2 -> sessions tcp/6379
allow app1, app2 -> nat-a, nat-b tcp/443
allow app1, app2 -> payments tcp/443
allow orders -> orders tcp/5432
allow sessions -> sessions tcp/6379
"""


def test_version_2_constructs_are_drawn() -> None:
    topology = load(VERSION_2)
    results = list(check_text(VERSION_2, "v2.topo").results)
    placed, d = diagram.layout_of(topology, results, None)
    assert geometry_problems(placed, d.graph) == []
    edges = {(e.source, e.target): (e.kind, e.label) for e in d.graph.edges}
    assert edges[("users", "www.example.com")] == ("entry", "resolves")
    assert edges[("office", "admin.example.com")] == ("entry", "resolves")  # its client group, not the internet
    assert ("users", "admin.example.com") not in edges
    assert edges[("www.example.com", "ns1")] == edges[("www.example.com", "ns2")] == ("served-by", "served by")
    assert edges[("lb1", "app1")] == ("forward", "tcp/443 -> tcp/8080 need 2")
    assert edges[("pgbouncer1", "orders")] == ("forward", "primary of orders: tcp/6432 -> tcp/5432")
    assert edges[("reads1", "orders")] == ("forward", "replicas of orders: tcp/5432")
    assert edges[("app1", "nat-a")] == edges[("app2", "nat-b")] == ("egress", "egress")  # the zone's gateway
    assert edges[("nat-a", "payments")] == edges[("nat-b", "payments")] == ("egress", "egress")
    assert edges[("app1", "payments")] == ("requirement", "uses")
    assert edges[("order-pipeline", "worker1")] == ("requirement", "uses")  # a job takes any: no order
    assert d.graph.node("sessions").lines == ("sessions", "cluster, failover auto", "quorum: 2 of 3 live")
    for name in ("users", "office", "www.example.com", "order-pipeline", "payments", "lb1"):
        assert d.graph.node(name).box is None, name
    top = {name: node.rect.y for name, node in placed.nodes.items()}
    assert top["users"] == top["office"] < top["www.example.com"] == top["order-pipeline"] < top["lb1"]
    assert top["payments"] > top["app1"] and top["nat-a"] > top["app1"]
    assert placed.nodes["order-pipeline"].shape == "octagon" and placed.nodes["payments"].shape == "cloud"


def test_version_2_causal_paths_go_through_egress_and_quorum() -> None:
    topology = load(VERSION_2)
    results = list(check_text(VERSION_2, "v2.topo").results)
    assert unexplained(topology, results) == []
    found = {c.summary.split(": ", 1)[1]: c.number for c in diagram.choices(results)}
    nat = diagram.drawing(topology, results, found["failed nat-a -> stops admin.example.com, www.example.com"])

    def marked(d, mark):
        return {(e.source, e.target) for e in d.graph.edges if d.marks.edges.get(e.id) == mark}

    assert nat.marks.nodes == {"nat-a": "failed", "admin.example.com": "stopped", "www.example.com": "stopped",
                               "lb1": "down", "app1": "down"}
    assert marked(nat, "cause") == {("www.example.com", "lb1"), ("admin.example.com", "lb1"), ("lb1", "app1"),
                                    ("app1", "nat-a")}  # app1 needs payments through its zone's gateway
    zone = diagram.drawing(topology, results, found["failed zone:az-b -> stops admin.example.com, www.example.com"])
    assert zone.marks.boxes == {"zone:az-b": "failed"}
    assert zone.marks.nodes["sessions"] == "down" and zone.marks.nodes["redis1"] == "down"  # no majority
    assert {("app1", "sessions"), ("sessions", "redis1"), ("sessions", "redis2"), ("sessions", "redis3")} <= marked(
        zone, "cause")
    for number in found.values():
        placed, d = diagram.layout_of(topology, results, number)
        assert geometry_problems(placed, d.graph) == []


def test_version_2_every_failure_of_up_to_two_units_is_explained() -> None:
    """Every set of at most two hosts, zones or regions: each service it stops is linked by
    the causal path to a failed component or a blocked hop (the evaluator decides what stops)."""
    from itertools import combinations

    from checker.evaluator import Evaluator

    topology = load(VERSION_2)
    evaluator = Evaluator(topology)
    units = [*topology.host_units, *topology.zone_units, *topology.region_units]
    checked = 0
    for size in (1, 2):
        for failed in combinations(units, size):
            stopped = evaluator.stopped(failed)
            if not stopped:
                continue
            seen = scenario(topology, [u.label for u in failed], stopped, evaluator)
            needs: dict[str, set[str]] = {}
            for a, b in seen.cause:
                needs.setdefault(a, set()).add(b)
            ends = set(seen.failed) | {a for a, _ in seen.blocked}
            # a hop from the clients themselves (the internet, a client group) explains its target
            ends |= {b for a, b in seen.blocked
                     if a not in topology.components or topology.components[a].kind.by_networks}
            for service in seen.stopped:
                reached, frontier = set(), [service]
                while frontier:
                    name = frontier.pop()
                    if name not in reached:
                        reached.add(name)
                        frontier.extend(needs.get(name, ()))
                assert reached & ends, ([u.label for u in failed], service)
                checked += 1
    assert checked > 50


@settings(max_examples=examples(40), deadline=None)
@given(topologies(max_hosts=5, with_policy=True))
def test_a_scenario_is_the_same_with_the_indexed_policy(text: str) -> None:
    """Drawings evaluate a counterexample's scenario with the indexed policy (the
    reference policy tries every rule for every question: a 2,000-component file took a
    minute to draw); for every single unit failed, its scenario is the reference's."""
    from checker.engines.fastpolicy import FastPolicy
    from checker.evaluator import Evaluator

    topology = load_text(text, "gen.topo").topology
    reference, indexed = Evaluator(topology), Evaluator(topology, FastPolicy(topology))
    for unit in [None, *topology.host_units, *topology.zone_units]:
        failed = () if unit is None else (unit,)
        stopped = reference.stopped(failed)
        assert indexed.stopped(failed) == stopped
        labels = [u.label for u in failed]
        assert scenario(topology, labels, stopped, indexed) == scenario(topology, labels, stopped, reference)


def test_a_drawing_evaluates_each_scenario_once_and_keeps_none(monkeypatch) -> None:
    """A counterexample's scenario is read twice per drawing (its hops, its marks): the
    drawing's own cache evaluates it once; nothing outlives the drawing (a module-level
    cache kept the last topology alive and was shared between threads)."""
    import gc
    import weakref

    from checker.reporters.diagram import highlight

    topology, results = model("01-single-server")
    calls: list[tuple] = []
    real = highlight.Scenarios.of

    def counting(self, f):
        calls.append((tuple(f.get("failed", ())), tuple(f["stopped"])))
        return real(self, f)

    monkeypatch.setattr(highlight.Scenarios, "of", counting)
    evaluated: list[tuple] = []
    import checker.scenario as scenario_module

    real_scenario = scenario_module.scenario
    monkeypatch.setattr(scenario_module, "scenario",
                        lambda *a, **k: evaluated.append(a[1:3]) or real_scenario(*a, **k))
    d = diagram.drawing(topology, results)
    assert d.choice is not None and "stopped" in d.choice.counterexample.fields
    assert len(calls) == 2 and len(evaluated) == 1  # read twice, evaluated once
    assert d.marks.nodes  # and the marks came from it
    held = weakref.ref(topology)
    del topology, d, results
    gc.collect()
    assert held() is None


@settings(max_examples=examples(80))
@given(topologies(max_hosts=8))
def test_a_mermaid_diagram_takes_at_least_its_bound_a_component(text: str) -> None:
    # what lets a report leave out a diagram too long for Mermaid without drawing it
    topology = load(text)
    bound = diagram.MERMAID_NODE_CHARACTERS * len(topology.components)
    assert len(diagram.to_mermaid(topology)) >= bound
    assert len(diagram.to_mermaid_changes(topology, [], [])) >= bound
    assert diagram.mermaid_too_large(topology, bound - 1) and not diagram.mermaid_too_large(topology, bound)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_every_model_s_mermaid_diagram_takes_at_least_its_bound(path: Path) -> None:
    topology = load(path.read_text(encoding="utf-8"), str(path))
    assert len(diagram.to_mermaid(topology)) >= diagram.MERMAID_NODE_CHARACTERS * len(topology.components)
