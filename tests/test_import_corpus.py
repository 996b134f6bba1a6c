"""The real manifests in ../shared/corpus (Kubernetes examples, Docker's awesome-compose samples),
written by others: every file imports without an internal error, each system gets the verdicts
stated here, with the notes for what is not mapped; the README shows their real output; every
output format locates findings in the YAML (SARIF valid, its artifacts the YAML files)."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from checker.cli import main
from checker.importers.command import import_system, read_inputs
from checker.importers.overlay import read_overlay
from checker.importers.run import check_imported
from checker.results import Status

from .conftest import ROOT, SHARED
from .test_import_properties import assert_every_statement_names_its_place

CORPUS = SHARED / "corpus"
KUBERNETES = CORPUS / "kubernetes"
COMPOSE = CORPUS / "compose"
SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
GUESTBOOK_OVERLAY = ROOT / "models" / "overlays" / "guestbook.overlay"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="the corpus (../shared/corpus) is not here")

# The refuted checks of each system, its single points of failure (failed unit -> stopped services),
# its exposure paths, and its notes (file, line, start of the message).
EXPECTED = {
    "kubernetes/web-guestbook-all-in-one": {
        "refuted": {"no-spof", "zone-redundancy"},
        "spof": {"host:node-frontend": ["frontend.nodeport"], "host:node-redis-master": ["redis-master.clients"],
                 "host:node-redis-replica": ["redis-replica.clients"]},
        "notes": [("guestbook-all-in-one.yaml", 72, "Deployment 'redis-replica': its 2 replicas may all run on one"),
                  ("guestbook-all-in-one.yaml", 126, "Deployment 'frontend': its 3 replicas may all run on one node"),
                  ("guestbook-all-in-one.yaml", 4, "nothing in the manifests is seen to use Service 'redis-master'"),
                  ("guestbook-all-in-one.yaml", 49, "nothing in the manifests is seen to use Service 'redis-replica'")],
    },
    "kubernetes/web-guestbook-go": {
        "refuted": {"no-spof", "zone-redundancy"},
        "spof": {"host:node-guestbook": ["guestbook.loadbalancer"], "host:node-redis-master": ["redis-master.clients"],
                 "host:node-redis-replica": ["redis-replica.clients"]},
        "notes": [("guestbook-controller.yaml", 8, "ReplicationController 'guestbook': its 3 replicas may all run"),
                  ("redis-master-service.yaml", 4, "nothing in the manifests is seen to use Service 'redis-master'"),
                  ("redis-replica-controller.yaml", 9, "ReplicationController 'redis-replica': its 2 replicas may"),
                  ("redis-replica-service.yaml", 4, "nothing in the manifests is seen to use Service 'redis-replica'")],
    },
    "kubernetes/cockroachdb": {
        "refuted": {"no-spof", "zone-redundancy", "replicas-colocated"},
        "spof": {"host:node-cockroachdb": ["cockroachdb-public.clients"]},
        "notes": [("cockroachdb-statefulset.yaml", 60, "PodDisruptionBudget 'cockroachdb-budget' is not mapped: it "
                   "limits voluntary evictions (drains), not failures"),
                  ("cockroachdb-statefulset.yaml", 77, "StatefulSet 'cockroachdb': its 3 replicas may all run on one"),
                  ("cockroachdb-statefulset.yaml", 6, "nothing in the manifests is seen to use Service "
                   "'cockroachdb-public'")],
    },
    "kubernetes/databases-cassandra": {
        "refuted": {"no-spof", "zone-redundancy"},
        "spof": {"host:node-cassandra": ["cassandra.clients"]},
        "notes": [("cassandra-service.yaml", 6, "nothing in the manifests is seen to use Service 'cassandra'"),
                  ("cassandra-statefulset.yaml", 112, "StorageClass 'fast' is not mapped: storage is not modelled"),
                  ("cassandra-statefulset.yaml", 9, "StatefulSet 'cassandra': its 3 replicas may all run on one node")],
    },
    "kubernetes/databases-mysql-cinder-pd": {
        "refuted": {"no-spof", "zone-redundancy"},
        "spof": {"host:node-mysql": ["mysql.clients"]},
        "notes": [("mysql-service.yaml", 6, "nothing in the manifests is seen to use Service 'mysql'")],
    },
    "kubernetes/storage-redis": {
        "refuted": {"no-spof", "zone-redundancy"},
        "spof": {"host:node-redis-master": ["redis-sentinel.clients"]},
        "notes": [("redis-controller.yaml", 6, "ReplicationController 'redis' selects Pod 'redis-master' too, and "
                   "counts it among its 1 replica: it runs 0 pods of its own"),
                  ("redis-sentinel-service.yaml", 7, "nothing in the manifests is seen to use Service "
                   "'redis-sentinel'")],
    },
}
COMPOSE_EXPECTED = {
    "elasticsearch-logstash-kibana": ({"no-spof", "zone-redundancy", "private-db"}, ["kibana.published",
                                      "logstash.published"], ["internet", "elasticsearch-ports", "elasticsearch-1"]),
    "flask-redis": ({"no-spof", "zone-redundancy", "private-db"}, ["web.published"],
                    ["internet", "redis-ports", "redis-1"]),
    "gitea-postgres": ({"no-spof", "zone-redundancy"}, ["gitea.published"], None),
    "nextcloud-redis-mariadb": ({"no-spof", "zone-redundancy"}, ["nc.published"], None),
    "nginx-flask-mongo": ({"no-spof", "zone-redundancy"}, ["web.published"], None),
    "nginx-golang-postgres": ({"no-spof", "zone-redundancy"}, ["proxy.published"], None),
    "prometheus-grafana": ({"no-spof", "zone-redundancy"}, ["grafana.published", "prometheus.published"], None),
    "react-express-mysql": ({"no-spof", "zone-redundancy"}, ["backend.published", "frontend.published"], None),
    "react-rust-postgres": ({"no-spof", "zone-redundancy", "private-db"}, ["backend.running", "frontend.published"],
                            ["internet", "db-ports", "db-1"]),
    "spring-postgres": ({"no-spof", "zone-redundancy"}, ["backend.published", "db.running"], None),
    "traefik-golang": ({"no-spof", "zone-redundancy"}, ["frontend.published"], None),
    "wordpress-mysql": ({"no-spof", "zone-redundancy"}, ["wordpress.published"], None),
}


def _results(source: str, path: Path, overlay: Path | None = None):
    systems, unreadable, problems = read_inputs(source, [str(path)], False)
    assert not unreadable and not problems
    (files,) = systems
    read = read_overlay(overlay.read_text(encoding="utf-8"), str(overlay)) if overlay else None
    imported = import_system(source, files, [], read)
    assert not imported.errors
    reports = check_imported(imported, read)
    return imported, [r for report in reports for r in report.results]


def test_the_corpus_is_all_here() -> None:
    assert {f"kubernetes/{p.name}" for p in KUBERNETES.iterdir()} == set(EXPECTED)
    assert {p.name for p in COMPOSE.iterdir()} == set(COMPOSE_EXPECTED)


@pytest.mark.parametrize("path", sorted(p for p in CORPUS.rglob("*.yaml")), ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_file_imports_alone_without_an_internal_error(path: Path) -> None:
    source = "compose" if "compose" in path.relative_to(CORPUS).parts[0] else "k8s"
    imported, results = _results(source, path)
    assert imported.text or imported.notes  # nothing to check is said in a note
    assert_every_statement_names_its_place(imported.text)
    assert not [r for r in results if r.id in ("internal-error", "syntax", "undefined-name", "invalid-attribute",
                                               "duplicate-name")]
    for result in results:  # located in the user's file, never in generated text
        assert result.span is None or result.span.path == str(path)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_kubernetes_examples_get_their_verdicts_and_notes(name: str) -> None:
    expected = EXPECTED[name]
    imported, results = _results("k8s", CORPUS / name)
    refuted = {r.id for r in results if r.status is Status.REFUTED and r.id != "import"}
    assert refuted == expected["refuted"]
    assert not [r for r in results if r.status is Status.UNKNOWN]
    (spof,) = [r for r in results if r.id == "no-spof"]
    assert {c.fields["failed"][0]: c.fields["stopped"] for c in spof.counterexamples} == expected["spof"]
    found = sorted((Path(n.span.path).name, n.span.line, n.message) for n in imported.notes)
    assert [(f, line, message[:len(m)]) for (f, line, message), (_, _, m) in zip(found, sorted(expected["notes"]))] \
        == sorted(expected["notes"])
    assert len(found) == len(expected["notes"])


def test_the_guestbooks_single_redis_master_is_the_single_point_of_failure_for_writes() -> None:
    _, results = _results("k8s", KUBERNETES / "web-guestbook-all-in-one", GUESTBOOK_OVERLAY)
    (spof,) = [r for r in results if r.id == "no-spof"]
    by_unit = {c.fields["failed"][0]: c for c in spof.counterexamples}
    assert set(by_unit) == {"host:node-frontend", "host:node-redis-master", "host:node-redis-replica"}
    master = by_unit["host:node-redis-master"]
    assert master.fields["stopped"] == ["frontend.nodeport"]
    assert master.fields["explanation"][0] == (
        "failing host:node-redis-master stops frontend.nodeport: frontend.nodeport -> frontend-nodeport -> frontend-0: "
        "frontend-0 writes redis-master (guestbook.overlay:4) -> redis-master -> redis-master-0: redis-master-0 is "
        "down (failed: host:node-redis-master)")
    (related,) = master.related  # the node: where the redis-master Deployment says 'replicas: 1'
    assert (Path(related.span.path).name, related.span.line) == ("guestbook-all-in-one.yaml", 28)


@pytest.mark.parametrize("name", sorted(COMPOSE_EXPECTED))
def test_compose_samples_get_their_verdicts(name: str) -> None:
    refuted, stopped, exposure = COMPOSE_EXPECTED[name]
    _, results = _results("compose", COMPOSE / name / "compose.yaml")
    assert {r.id for r in results if r.status is Status.REFUTED and r.id != "import"} == refuted
    (spof,) = [r for r in results if r.id == "no-spof"]
    assert [c.fields for c in spof.counterexamples][0]["failed"] == [f"host:{name}"]
    assert spof.counterexamples[0].fields["stopped"] == stopped
    assert (spof.span.line, spof.span.column) == ((2, 1) if name == "react-rust-postgres" else (1, 1))  # services:
    leaks = [r for r in results if r.id == "private-db" and r.status is Status.REFUTED]
    if exposure is None:
        assert not leaks
    else:
        (leak,) = leaks
        assert leak.counterexamples[0].fields["path"] == exposure


# -- the command line, every format ---------------------------------------------------------------


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_sarif_locates_findings_in_the_yaml_and_is_valid(monkeypatch) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.is_file():
        pytest.skip("the SARIF schema (../shared/schemas) is not here")
    monkeypatch.chdir(ROOT)
    code, out, _ = run(["check", "--from", "k8s", "../shared/corpus/kubernetes/web-guestbook-go", "--format", "sarif"])
    assert code == 1
    document = json.loads(out)
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    run_ = document["runs"][0]
    uris = {a["location"]["uri"] for a in run_["artifacts"]}
    assert uris == {f"../shared/corpus/kubernetes/web-guestbook-go/{n}.yaml" for n in
                    ("guestbook-controller", "redis-master-service", "redis-replica-controller",
                     "redis-replica-service")}
    spof = next(r for r in run_["results"] if r["ruleId"] == "no-spof")
    location = spof["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("guestbook-controller.yaml")
    assert location["region"] == {"startLine": 8, "startColumn": 3, "endLine": 8, "endColumn": 14}
    related = {(r["physicalLocation"]["artifactLocation"]["uri"].rsplit("/", 1)[1],
                r["physicalLocation"]["region"]["startLine"]) for r in spof["relatedLocations"]}
    assert related == {("guestbook-controller.yaml", 8), ("redis-master-controller.yaml", 9),
                       ("redis-replica-controller.yaml", 9)}
    for result in run_["results"]:
        for location in result["locations"] + result.get("relatedLocations", []):
            assert location["physicalLocation"]["artifactLocation"]["uri"].endswith(".yaml")
    assert "import" in {r["id"] for r in run_["tool"]["driver"]["rules"]}


def test_json_and_github_formats_name_the_yaml(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run(["check", "--from", "compose", "../shared/corpus/compose/flask-redis", "--format", "json"])
    assert code == 1
    (file,) = json.loads(out)["files"]
    assert file["path"] == "../shared/corpus/compose/flask-redis/compose.yaml"
    leak = next(r for r in file["results"] if r["id"] == "private-db")
    assert (leak["location"]["line"], leak["counterexamples"][0]["rules"]) == (2, [5])
    code, out, _ = run(["check", "--from", "compose", "../shared/corpus/compose/flask-redis", "--format", "github"])
    assert "::error file=../shared/corpus/compose/flask-redis/compose.yaml,line=2,endLine=2,col=3" in out


def test_import_prints_canonical_text_and_notes_on_standard_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run(["import", "k8s", "../shared/corpus/kubernetes/cockroachdb/"])
    assert code == 0
    assert out.startswith("# Kubernetes manifests imported by topocheck: 4 objects from 1 file;")
    assert "cluster cockroachdb {\n  quorum\n" in out
    assert err.splitlines()[0] == ("../shared/corpus/kubernetes/cockroachdb/cockroachdb-statefulset.yaml:60:9: "
                                   "note[import] PodDisruptionBudget 'cockroachdb-budget' is not mapped: it limits "
                                   "voluntary evictions (drains), not failures")
    target = tmp_path / "c.topo"
    wordpress = "../shared/corpus/compose/wordpress-mysql/compose.yaml"
    assert run(["import", "compose", wordpress, "-o", str(target)])[0] == 0
    code, out, _ = run(["check", str(target)])
    assert code == 1 and "single point of failure: 'host:wordpress-mysql' stops 'wordpress.published'" in out


def test_standard_input(monkeypatch) -> None:
    text = (COMPOSE / "flask-redis" / "compose.yaml").read_text(encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code, out, _ = run(["check", "--from", "compose", "-", "--select", "private-db"])
    assert code == 1
    assert out.splitlines()[0].startswith("<stdin>:2:3: error[private-db] a packet from 11.0.0.0 to 192.0.2.10")


# -- the README shows real output ---------------------------------------------------------------------


def _readme_block(command: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(command) + len(command)
    return text[start:text.index("\n```\n", start) + 1]


README_COMMANDS = [
    "$ topocheck check --from k8s ../shared/corpus/kubernetes/web-guestbook-all-in-one/\n",
    "$ topocheck check --from k8s ../shared/corpus/kubernetes/web-guestbook-all-in-one/ "
    "--overlay models/overlays/guestbook.overlay --select no-spof\n",
    "$ topocheck check --from compose ../shared/corpus/compose/\n",
]


@pytest.mark.parametrize("command", README_COMMANDS, ids=["guestbook", "guestbook-overlay", "compose"])
def test_the_readme_shows_the_real_output(command: str, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run(command[2:].split()[1:])
    assert code == 1
    assert out == _readme_block(command)
    assert os.path.isfile(ROOT / "models" / "overlays" / "guestbook.overlay")
