"""The adversarial shapes the benchmarks time (``benchmarks/shapes.py``) give the
right verdicts, asserted at a small size: a speed-up measured on them can never buy a
wrong answer."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import cells, shapes  # noqa: E402
from checker.api import check_text  # noqa: E402
from checker.checks.no_spof import EXPLAINED  # noqa: E402


def _results(text: str, check_id: str):
    return [r for r in check_text(text, "shape.topo").results if r.id == check_id]


def test_chain_every_link_is_a_single_point_and_the_first_ones_are_explained() -> None:
    n = EXPLAINED + 20
    (result,) = _results(shapes.chain(n), "no-spof")
    assert result.status.value == "refuted" and result.margin == 1
    examples = result.counterexamples
    assert sorted(c.fields["failed"][0] for c in examples) == sorted(f"svc-{i}" for i in range(n))
    assert all(c.fields["stopped"] == ["www.example.com"] for c in examples)
    explained = [c for c in examples if len(c.fields["explanation"]) > 1]
    assert len(explained) == EXPLAINED
    for c in examples[EXPLAINED:]:
        (line,) = c.fields["explanation"]
        assert line.startswith(f"failing {c.fields['failed'][0]} stops www.example.com (replayed;")


def test_cycle_is_served_and_every_member_is_a_single_point() -> None:
    text = shapes.cycle(50)
    (available,) = _results(text, "available")
    assert available.status.value == "proved"
    (result,) = _results(text, "no-spof")
    assert {c.fields["failed"][0] for c in result.counterexamples} == {f"svc-{i}" for i in range(50)}


def test_overlapping_rules_each_third_rule_is_covered_by_the_two_before_it() -> None:
    n = 60
    results = _results(shapes.overlapping_rules(n), "shadowed-rule")
    shadowed = {c.fields["rule"]: c.fields["shadowed_by"] for r in results for c in r.counterexamples}
    first = min(shadowed)  # the line of the first rule covered only by the two before it
    # every third rule, and by two earlier rules, the one just before it among them
    # (neither alone covers: the shape is built so)
    assert sorted(shadowed) == [first + 3 * i for i in range(n // 3)]
    for line, cover in shadowed.items():
        assert len(cover) == 2 and cover[1] == line - 1 and cover[0] < line - 1, (line, cover)


def test_all_down_is_reported_once_at_its_cause() -> None:
    text = shapes.all_down(200)
    (available,) = _results(text, "available")
    assert available.status.value == "refuted"
    for check_id in ("no-spof", "zone-redundancy"):
        (result,) = _results(text, check_id)
        assert "already down with nothing failed (see available" in result.message


def test_alternatives_only_the_last_database_is_a_single_point() -> None:
    (result,) = _results(shapes.alternatives(200), "no-spof")
    assert [c.fields["failed"] for c in result.counterexamples] == [["db-0"]]


def test_huge_cluster_survives_any_one_member() -> None:
    (result,) = _results(shapes.huge_cluster(301), "no-spof")
    assert result.status.value == "proved" and result.margin == 2


def test_replica_pool_survives_any_two_members_and_loses_its_majority_with_az_1() -> None:
    """A failover quorum cluster of 301 read through ``replicas of`` and written through
    ``primary of``: no single host stops a service and no two members do, only the two
    web servers (the search by hosts answers where the subsets of half the members gave
    up and MaxSAT took 9 s at 1,000), and az-1, which holds the odd member, takes the
    majority with it."""
    report = check_text(shapes.replica_pool(301), "pool.topo",
                        select=["no-spof", "zone-redundancy", "write-to-primary"])
    by_id = {r.id: r for r in report.results}
    assert by_id["no-spof"].status.value == "proved" and by_id["no-spof"].margin == 2
    assert by_id["write-to-primary"].status.value == "proved"
    (example,) = by_id["zone-redundancy"].counterexamples
    assert example.fields["failed"] == ["zone:az-1"]
    assert any("orders lost its majority: 150 of 301 members live" in line for line in example.fields["explanation"])


def test_need_tree_every_node_is_a_single_point_explained_down_its_path() -> None:
    """A tree of 255 balancers and web servers, each balancer needing both children:
    each node is a single point, and each one explained step by step (the first
    ones) is explained down the path from the name to it (each replay costs that
    path, not the tree)."""
    (result,) = _results(shapes.need_tree(255), "no-spof")
    assert {c.fields["failed"][0] for c in result.counterexamples} == {f"n-{i}" for i in range(255)}
    explained = [c for c in result.counterexamples if "(replayed;" not in c.fields["explanation"][0]]
    assert len(explained) == EXPLAINED
    for example in explained:
        node = int(example.fields["failed"][0].removeprefix("n-"))
        path = [node]
        while path[-1]:
            path.append((path[-1] - 1) // 2)
        expected = "www -> " + " -> ".join(f"n-{i}" for i in reversed(path)) + f": n-{node} is down"
        assert expected in example.fields["explanation"][-1]
        assert len(example.fields["explanation"]) == len(path)


def test_wide_rule_the_deny_after_the_allow_of_the_same_sides_is_shadowed() -> None:
    """One rule naming 600 web servers and 600 services, and a deny of the same sides
    after it: the deny is shadowed by that one rule (each of its 600 atoms per side found
    inside the allow's through an index, not against each of the allow's 600)."""
    n = 600
    (result,) = _results(shapes.wide_rule(n), "shadowed-rule")
    (example,) = result.counterexamples
    assert example.fields == {"rule": 8 + 3 * n, "shadowed_by": [7 + 3 * n]}


def test_cells_give_exactly_the_planted_faults() -> None:
    n = 2 * cells.SINGLE + 1  # cells 0, 97 and 194 have one service; 0, 89, 178 an open primary
    text = cells.cells(n)
    report = check_text(text, "cells.topo")
    assert sum(1 for line in text.splitlines() if line.startswith(("dns ", "lb ", "web ", "service ", "  db "))) + 1 \
        == cells.components(n)
    by_id: dict = {}
    for result in report.results:
        by_id.setdefault(result.id, []).append(result)
    proved = {"available", "private-web", "private-service", "write-to-primary", "connection-denied"}
    assert {i for i, rs in by_id.items() if all(r.status.value == "proved" for r in rs)} >= proved
    (no_spof,) = by_id["no-spof"]
    assert {c.fields["failed"][0] for c in no_spof.counterexamples} == {"svc-0-a", "svc-97-a", "svc-194-a"}
    (private_db,) = by_id["private-db"]
    assert private_db.status.value == "refuted"
    assert {c.fields["component"] for c in private_db.counterexamples} == {"db-0-a", "db-89-a", "db-178-a"}
    assert sorted(c.fields["rule"] for r in by_id["shadowed-rule"] for c in r.counterexamples) == \
        [i + 1 for i, line in enumerate(text.splitlines()) if line.startswith("allow lb-") and
         line.endswith("-a tcp/8080") and "," not in line]
    assert len(by_id["shadowed-rule"]) == len(range(0, n, cells.SHADOWED)) == 3


def test_the_benchmark_table_runs_in_quick_mode() -> None:
    """``benchmarks/run.py`` itself (its workloads assert their verdicts in the child)."""
    import json
    import subprocess

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
    out = subprocess.run([sys.executable, str(script), "--quick", "--only",
                          "chain-600,overlapping-rules-5000,parse-10k,cells-10k,reports-100k", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = json.loads(out.stdout[out.stdout.index("\n["):])
    assert [r["workload"] for r in rows] == ["chain-600", "overlapping-rules-5000", "parse-10k", "cells-10k",
                                             "reports-100k"]
    assert all(r["time"] > 0 and not r["misses"] for r in rows)
    assert rows[2]["baseline"] > 0  # Lark's lexer, measured in the same run


def test_a_zone_that_stops_many_services_explains_the_first_and_counts_the_others(monkeypatch) -> None:
    from benchmarks.generate import generate
    from checker.checks import zone_redundancy

    text = "".join(line for line in generate(2000).splitlines(keepends=True) if not line.startswith("check "))
    (full,) = _results(text, "zone-redundancy")
    monkeypatch.setattr(zone_redundancy, "EXPLAINED", 3)
    (capped,) = _results(text, "zone-redundancy")
    assert capped.status.value == full.status.value == "refuted"
    assert [c.fields["stopped"] for c in capped.counterexamples] == [c.fields["stopped"] for c in full.counterexamples]
    example, uncapped = capped.counterexamples[0], full.counterexamples[0]
    stopped, lead = example.fields["stopped"], f"failing {example.fields['failed'][0]}"
    assert len(stopped) > 3
    *lines, last = example.fields["explanation"]
    more = len(stopped) - 3
    assert last == f"{lead} stops {more} more service{'s' if more > 1 else ''} (not explained here)"

    def about(line: str, services: list[str]) -> bool:
        return any(line.startswith(f"{lead} stops {s}: ") or line == f"{lead} stops {s}" for s in services)

    # the first three services' lines are those of the uncapped run, and no other service's
    assert lines and lines == [line for line in uncapped.fields["explanation"] if about(line, stopped[:3])]
    assert not any(about(line, stopped[3:]) for line in lines)
    assert any(about(line, stopped[3:]) for line in uncapped.fields["explanation"])


def test_cascade_reports_each_replica_below_no_primary_and_the_ring_once() -> None:
    n = 40
    report = check_text(shapes.cascade(n), "shape.topo")
    source = [r.counterexamples[0].fields for r in report.results if r.id == "replication-source"]
    assert sorted(f["replica"] for f in source) == sorted(f"down-{i}" for i in range(n))
    deepest = next(f for f in source if f["replica"] == f"down-{n - 1}")
    assert deepest["chain"] == [f"down-{i}" for i in range(n - 1, n - 24, -1)] + ["old"]
    assert deepest["elided"] == n - 23
    (cycle,) = [r.counterexamples[0].fields["cycle"] for r in report.results if r.id == "replication-cycle"]
    assert cycle == ["ring-0"] + [f"ring-{i}" for i in range(n - 1, 0, -1)] + ["ring-0"]  # each copies from the one before


def test_suppressed_every_rule_is_shadowed_and_accepted_on_its_line() -> None:
    from checker.suppress import fully_suppressed

    n = 30
    report = check_text(shapes.suppressed(n), "shape.topo")
    shadowed = [r for r in report.results if r.id == "shadowed-rule"]
    assert len(shadowed) == n and all(fully_suppressed(r) for r in shadowed)
    assert sorted(r.extra["suppressed"][0]["line"] for r in shadowed) == list(range(5, 5 + n))
    assert not [r for r in report.results if r.id.endswith("-suppression")]


def test_names_are_served_and_each_name_server_is_a_single_point() -> None:
    n = 30
    text = shapes.names(n)
    (available,) = _results(text, "available")
    assert available.status.value == "proved"
    (result,) = _results(text, "no-spof")
    stops = {c.fields["failed"][0]: c.fields["stopped"] for c in result.counterexamples}
    assert stops == {f"ns-{i}": [f"name-{i}.example.com"] for i in range(n)}


def test_k8s_apps_admit_only_their_callers_and_each_node_is_a_single_point() -> None:
    from checker.importers.k8s import import_k8s
    from checker.importers.run import check_imported
    from checker.policy import Policy

    n = 30
    imported = import_k8s([("apps.yaml", shapes.k8s_apps(n))])
    rules = [line.split("  #")[0] for line in imported.text.splitlines() if line.startswith(("allow ", "deny "))]
    assert len(rules) == 5 * n + 1  # per application: the Service's forward, who may use it, who may reach the pods
    assert "allow app2-0.ns2, app2-1.ns2 -> app12.ns2 tcp/80" in rules and "deny any -> app12.ns2 tcp/80" in rules
    results = [r for report in check_imported(imported) for r in report.results]
    statuses = {r.id: r.status.value for r in results if r.id != "import"}
    assert statuses["available"] == statuses["connection-denied"] == "proved"
    (spof,) = [r for r in results if r.id == "no-spof"]
    assert {c.fields["failed"][0] for c in spof.counterexamples} == {f"host:node-app{i}.ns{i % 10}" for i in range(n)}
    from checker.api import load_text

    topology = load_text(imported.text, "apps.topo").topology
    policy = Policy(topology)
    assert policy.connect("app2-0.ns2", "app12-0.ns2", _ports("tcp/8080"))
    for source in ("app3-0.ns3", "app22-0.ns2", "app12-1.ns2"):  # another namespace, a later one, itself
        assert not policy.connect(source, "app12-0.ns2", _ports("tcp/8080")), source


def _ports(text: str):
    from checker.net import parse_port

    return parse_port(text)


def test_k8s_namespaces_admit_their_own_pods_in_one_block_each() -> None:
    from checker.api import load_text
    from checker.importers.k8s import import_k8s
    from checker.importers.run import check_imported
    from checker.policy import Policy

    n = 30
    imported = import_k8s([("apps.yaml", shapes.k8s_namespaces(n))])
    rules = [line.split("  #")[0] for line in imported.text.splitlines() if line.startswith(("allow ", "deny "))]
    assert len(rules) == n + 4 * 10 + 1  # the forwards, then per namespace two rules for its Services, two for its pods
    pods = "app2-0.ns2, app2-1.ns2, app12-0.ns2, app12-1.ns2, app22-0.ns2, app22-1.ns2"
    assert f"allow {pods} -> app2.ns2, app12.ns2, app22.ns2 tcp/80" in rules
    assert f"allow {pods} -> {pods}" in rules and f"deny any -> {pods}" in rules
    results = [r for report in check_imported(imported) for r in report.results]
    statuses = {r.id: r.status.value for r in results if r.id != "import"}
    assert statuses["available"] == statuses["connection-denied"] == "proved"
    policy = Policy(load_text(imported.text, "apps.topo").topology)
    assert policy.connect("app22-1.ns2", "app2.ns2", _ports("tcp/80"))
    assert policy.connect("app2-0.ns2", "app22-1.ns2", _ports("tcp/8080"))
    assert not policy.connect("app3-0.ns3", "app2.ns2", _ports("tcp/80"))  # another namespace
    assert not policy.connect("app3-0.ns3", "app2-0.ns2", _ports("tcp/8080"))
