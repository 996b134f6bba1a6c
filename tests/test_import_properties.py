"""Properties of the importers on generated manifests.

* Importing, printing (``topocheck import``) and parsing the printed topology gives the same
  model as ``check --from`` builds; the text is canonical (a fixed point of ``fmt``); every
  span of that model maps into the user's YAML.
* The placement of replicas by groups of workloads gives the verdicts of the worst placement,
  every replica nothing spreads on one node (spec/IMPORT-K8S.md, "Placement").
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.api import check_topology, load_text
from checker.cli import main
from checker.context import Options
from checker.fmt import format_text
from checker.importers.compose import import_compose
from checker.importers.k8s import import_k8s
from checker.importers.overlay import read_overlay
from checker.importers.run import load_imported

from .conftest import examples
from .test_fmt import signature

APPS = ("web", "api", "cart", "db", "cache", "worker")
IMAGES = ("example/app", "postgres:16", "redis:7", "nginx", "quay.io/coreos/etcd:v3.5")


@st.composite
def manifests(draw) -> str:
    """A few workloads, Services over them (sometimes over several), references between them,
    spread constraints, sometimes a NetworkPolicy."""
    names = draw(st.lists(st.sampled_from(APPS), min_size=1, max_size=4, unique=True))
    tiers = {name: draw(st.sampled_from(["a", "a", "b"])) for name in names}  # Services over several workloads
    docs = []
    for name in names:
        replicas = draw(st.sampled_from([0, 1, 1, 2, 3]))
        kind = draw(st.sampled_from(["Deployment", "StatefulSet"]))
        image = draw(st.sampled_from(IMAGES))
        spread = ""
        if draw(st.booleans()):
            key = draw(st.sampled_from(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]))
            if draw(st.booleans()):
                spread = (f"      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuring"
                          f"Execution:\n          - labelSelector: {{matchLabels: {{app: {name}}}}}\n"
                          f"            topologyKey: {key}\n")
            else:
                spread = (f"      topologySpreadConstraints:\n      - {{maxSkew: {draw(st.integers(1, 2))}, "
                          f"topologyKey: {key}, whenUnsatisfiable: DoNotSchedule, labelSelector: "
                          f"{{matchLabels: {{app: {name}}}}}}}\n")
        env = [f"{{name: {other.upper()}_HOST, value: {other}}}" for other in names
               if other != name and draw(st.booleans())]
        docs.append(f"apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n"
                    f"  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n"
                    f"    metadata: {{labels: {{app: {name}, tier: {tiers[name]}}}}}\n    spec:\n{spread}"
                    f"      containers:\n      - name: main\n        image: {image}\n"
                    f"        ports: [{{containerPort: 8080, name: http}}]\n        env: [{', '.join(env)}]\n")
    for name in names:
        if draw(st.booleans()):
            kind = draw(st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer", "headless"]))
            extra = "  clusterIP: None\n" if kind == "headless" else f"  type: {kind}\n"
            selector = f"{{app: {name}}}" if draw(st.booleans()) else f"{{tier: {tiers[name]}}}"
            docs.append(f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec:\n{extra}"
                        f"  selector: {selector}\n  ports: [{{port: 80, targetPort: http}}]\n")
    if draw(st.booleans()):
        target, source = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        docs.append(f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p}}\nspec:\n"
                    f"  podSelector: {{matchLabels: {{app: {target}}}}}\n  ingress:\n"
                    f"  - from: [{{podSelector: {{matchLabels: {{app: {source}}}}}}}]\n    ports: [{{port: http}}]\n")
    return "---\n".join(docs)


@st.composite
def projects(draw) -> str:
    names = draw(st.lists(st.sampled_from(APPS), min_size=1, max_size=4, unique=True))
    lines = ["services:"]
    for name in names:
        lines.append(f"  {name}:")
        lines.append(f"    image: {draw(st.sampled_from(IMAGES))}")
        if draw(st.booleans()):
            lines.append(f"    ports: ['{draw(st.sampled_from(['80:80', '8080', '127.0.0.1:81:81', '5432:5432']))}']")
        others = [o for o in names if o != name and draw(st.booleans())]
        if others:
            lines.append(f"    depends_on: [{', '.join(others)}]")
        if draw(st.booleans()):
            lines.append(f"    networks: [{draw(st.sampled_from(['front', 'back']))}]")
        if draw(st.booleans()):
            lines.append(f"    deploy: {{replicas: {draw(st.integers(0, 2))}}}")
    lines += ["networks:", "  front: {}", "  back: {internal: true}"]
    return "\n".join(lines) + "\n"


def _printed(source: str, path: Path) -> str:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert main(["import", source, str(path)]) == 0, err.getvalue()
    return out.getvalue()


def assert_every_statement_names_its_place(text: str) -> None:
    """Each statement has a comment (above it, or at the end of its line) naming a file and line."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if not line or line[0] in "# }":
            continue
        above = []
        for previous in reversed(lines[:number]):
            if not previous.startswith("#"):
                break
            above.append(previous)
        assert re.search(r"\.ya?ml:\d+", " ".join(above) + line), line


def _check_round_trip(imported, printed: str, overlay=None) -> None:
    assert format_text(printed).text == printed  # canonical
    assert_every_statement_names_its_place(printed)
    loaded, remap, errors = load_imported(imported, overlay)
    assert loaded.topology is not None and not errors, [r.message for r in loaded.results]
    if overlay is None:
        parsed = load_text(printed, "printed.topo")
        assert parsed.topology is not None
        assert signature(parsed.topology) == signature(loaded.topology)
    files = dict(imported.sources)
    if overlay is not None:
        files[overlay.path] = overlay.text
    topology = loaded.topology
    spans = [c.span for c in topology.components.values()] + [c.name_span for c in topology.components.values()]
    spans += [r.span for r in topology.requirements] + [r.span for r in topology.rules]
    spans += list(topology.host_spans.values()) + [z.span for z in topology.zones.values()]
    for span in spans:
        mapped = remap.span(span)
        assert mapped.path in files, mapped
        assert 1 <= mapped.line <= files[mapped.path].count("\n") + 1, mapped


@settings(max_examples=examples(25))
@given(manifests())
def test_kubernetes_import_print_parse_is_the_model_check_from_builds(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("k8s") / "m.yaml"
    path.write_text(text, encoding="utf-8")
    imported = import_k8s([(str(path), text)])
    _check_round_trip(imported, _printed("k8s", path))


@settings(max_examples=examples(25))
@given(projects())
def test_compose_import_print_parse_is_the_model_check_from_builds(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("compose") / "compose.yaml"
    path.write_text(text, encoding="utf-8")
    imported = import_compose(str(path), text)
    _check_round_trip(imported, _printed("compose", path))


@settings(max_examples=examples(15))
@given(manifests(), st.data())
def test_an_overlay_is_read_with_the_import_and_located_in_its_own_file(text: str, data) -> None:
    bare = import_k8s([("m.yaml", text)], (), read_overlay("zone east\n", "o.topo").info)
    pods = [line.split()[1] for line in bare.text.splitlines() if line.split()[:1] in (["web"], ["service"])]
    targets = [line.split()[1] for line in bare.text.splitlines() if line.split()[:1] in (["lb"], ["db"])]
    if not pods or not targets:
        return
    source, target = data.draw(st.sampled_from(pods)), data.draw(st.sampled_from(targets))
    overlay = read_overlay(f"zone east\n{source} uses {target}\n", "o.topo")
    imported = import_k8s([("m.yaml", text)], (), overlay.info)
    _check_round_trip(imported, imported.text, overlay)
    loaded, remap, _ = load_imported(imported, overlay)
    (requirement,) = [r for r in loaded.topology.requirements if r.source == source and r.targets == (target,)
                      and remap.span(r.span).path == "o.topo"]
    assert remap.span(requirement.span).line == 2


def _verdicts(imported) -> dict:
    loaded, _, _ = load_imported(imported)
    assert loaded.topology is not None
    out = {}
    for k in (1, 2):
        options = Options(timeout=60, default_k=k)
        for result in check_topology(loaded.topology, options, select=["no-spof", "zone-redundancy"]):
            out[(result.id, k)] = (result.status.value, result.to_json().get("margin"))
    return out


@settings(max_examples=examples(40))
@given(manifests(), st.sampled_from([(), ("a", "b"), ("a", "b", "c")]))
def test_the_group_placement_has_the_verdicts_of_one_node_for_every_unspread_replica(text: str, zones) -> None:
    grouped = import_k8s([("m.yaml", text)], zones)
    single = import_k8s([("m.yaml", text)], zones, one_node=True)
    assert _verdicts(grouped) == _verdicts(single)
