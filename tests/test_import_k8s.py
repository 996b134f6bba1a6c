"""The Kubernetes importer, one mapping rule of spec/IMPORT-K8S.md at a time (small YAML written here)."""

from __future__ import annotations

import re

import pytest

from checker.fmt import format_text

from .import_helpers import Rows, check, k8s, lines, notes, refuted, verdict

rows = Rows("IMPORT-K8S.md", "K")


def deployment(name: str, replicas: int | None = 1, labels: str | None = None, image: str = "example/app:1",
               ports: str = "[{containerPort: 8080}]", extra: str = "", env: str = "", kind: str = "Deployment",
               namespace: str = "") -> str:
    labels = labels or f"{{app: {name}}}"
    count = f"  replicas: {replicas}\n" if replicas is not None else ""
    ns = f", namespace: {namespace}" if namespace else ""
    env_block = f"\n        env: {env}" if env else ""
    return (f"apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {name}{ns}}}\nspec:\n{count}"
            f"  selector: {{matchLabels: {labels}}}\n  template:\n    metadata: {{labels: {labels}}}\n"
            f"    spec:\n{extra}      containers:\n      - name: main\n        image: {image}\n"
            f"        ports: {ports}{env_block}\n")


def service(name: str, selector: str | None = None, ports: str = "[{port: 80, targetPort: 8080}]",
            extra: str = "", namespace: str = "") -> str:
    selector = selector or f"{{app: {name}}}"
    ns = f", namespace: {namespace}" if namespace else ""
    return (f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}{ns}}}\nspec:\n  selector: {selector}\n"
            f"  ports: {ports}\n{extra}")


def docs(*parts: str) -> str:
    return "---\n".join(parts)


ANTI_AFFINITY = """      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: web}}
            topologyKey: kubernetes.io/hostname
"""


@rows.cover("K1")
def test_every_document_of_every_file_and_list_items_are_one_cluster() -> None:
    from checker.importers.k8s import import_k8s

    listed = ("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: one}\n"
              "  spec: {containers: [{name: c, image: x}]}\n")
    imported = import_k8s([("a.yaml", deployment("web")), ("b.yaml", listed)])
    assert lines(imported, r"^(web|service|db) ") == [
        "service web-0 host node-web address 10.244.0.10 listen tcp/8080",
        "service one host node-one address 10.244.0.11",
    ]
    assert imported.anchor == "a.yaml"
    assert imported.origin(imported.text.splitlines().index(
        "service one host node-one address 10.244.0.11") + 1).path == "b.yaml"


@rows.cover("K2")
def test_bad_yaml_is_a_located_syntax_error_and_nothing_is_imported() -> None:
    imported = k8s("kind: Pod\nmetadata: {name: x\nspec: {}\n")
    assert imported.text == ""
    (error,) = imported.errors
    assert (error.id, error.span.line, error.span.column) == ("syntax", 3, 5)
    assert error.message.startswith("not valid YAML: ")
    (result,) = check(imported)
    assert result.id == "syntax" and result.span.path == "m.yaml"


@rows.cover("K3", "K4")
def test_documents_that_are_no_object_and_kinds_that_are_not_mapped_are_noted() -> None:
    imported = k8s(docs("just: data\n", "kind: Pod\nmetadata: {labels: {a: b}}\n",
                        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: pdb}\nspec: {}\n",
                        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
                        deployment("web")))
    assert notes(imported) == [
        "a document that is not a Kubernetes object (no 'kind') is skipped",
        "Pod without 'metadata.name' is skipped",
        "PodDisruptionBudget 'pdb' is not mapped: it limits voluntary evictions (drains), not failures",
        "Widget 'w' is not mapped (a kind topocheck does not know); skipped",
    ]
    assert [(n.span.line, n.span.column) for n in imported.notes] == [(1, 1), (3, 1), (8, 18), (13, 18)]
    assert all(n.id == "import" and n.severity.value == "note" for n in imported.notes)


@rows.cover("K5")
def test_an_object_defined_twice_keeps_the_first() -> None:
    imported = k8s(docs(deployment("web", 2), deployment("web", 5)))
    assert len(lines(imported, r"^service web-")) == 2
    assert notes(imported)[0] == ("Deployment 'web' is defined again (first at m.yaml:3); the later one is skipped, "
                                  "as 'kubectl apply' would replace it")


@rows.cover("K6")
def test_several_namespaces_qualify_every_name() -> None:
    imported = k8s(docs(deployment("api", namespace="a"), deployment("api", namespace="b"),
                        service("api", namespace="a", ports="[{port: 80, targetPort: 8080}]")))
    assert lines(imported, r"^(service|lb) ") == [
        "service api-0.a host node-api.a address 10.244.0.10 listen tcp/8080",
        "service api-0.b host node-api.b address 10.244.0.11 listen tcp/8080",
        "lb api.a {",
    ]


@rows.cover("K7")
def test_replicas_become_components_and_zero_replicas_run_nothing() -> None:
    imported = k8s(docs(deployment("web", 3), deployment("once", None, kind="StatefulSet"),
                        deployment("none", 0, kind="ReplicaSet")))
    assert [line.split()[1] for line in lines(imported, r"^service ")] == ["web-0", "web-1", "web-2", "once-0"]
    assert "ReplicaSet 'none' has no replicas: nothing of it runs" in notes(imported)


@rows.cover("K8")
def test_a_bare_pod_keeps_its_name_unless_a_service_has_it() -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: mysql, labels: {app: mysql}}\nspec:\n" \
          "  containers: [{name: m, image: mysql:8, ports: [{containerPort: 3306}]}]\n"
    assert lines(k8s(pod), r"^db ") == ["db mysql host node-mysql address 10.244.0.10 listen tcp/3306"]
    imported = k8s(docs(pod, service("mysql", ports="[{port: 3306}]")))
    assert lines(imported, r"^db ") == ["db mysql-pod host node-mysql address 10.244.0.10 listen tcp/3306"]
    assert lines(imported, r"^  listen") == ["  listen tcp/3306 -> mysql-pod tcp/3306"]


@rows.cover("K9")
def test_a_daemonset_is_one_pod_and_says_so() -> None:
    imported = k8s(deployment("agent", None, kind="DaemonSet"))
    assert lines(imported, r"^service ") == ["service agent-0 host node-agent address 10.244.0.10 listen tcp/8080"]
    assert notes(imported)[0].startswith("DaemonSet 'agent' runs a pod on every node; how many nodes")


@rows.cover("K10")
def test_an_autoscaler_may_scale_down_to_its_minimum() -> None:
    hpa = ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n"
           "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n"
           "  maxReplicas: 9\n")
    imported = k8s(docs(deployment("web", 6), hpa))
    assert len(lines(imported, r"^service web-")) == 2
    (note,) = [n for n in imported.notes if "Autoscaler" in n.message]
    assert note.message == ("Deployment 'web' is scaled by HorizontalPodAutoscaler 'h', which may scale it down to 2 "
                            "replicas; taken as 2")
    assert (note.span.line, note.span.column) == (20, 3)


@rows.cover("K11")
def test_a_replication_controller_counts_a_bare_pod_it_selects_as_its_own() -> None:
    rc = ("apiVersion: v1\nkind: ReplicationController\nmetadata: {name: redis}\nspec:\n  replicas: 2\n"
          "  selector: {name: redis}\n  template:\n    metadata: {labels: {name: redis}}\n"
          "    spec: {containers: [{name: r, image: redis}]}\n")
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: boot, labels: {name: redis}}\nspec:\n" \
          "  containers: [{name: r, image: redis}]\n"
    imported = k8s(docs(pod, rc, rc.replace("name: redis}\nspec", "name: other}\nspec")))
    assert [line.split()[1] for line in lines(imported, r"^db ")] == ["boot", "redis-0", "other-0", "other-1"]
    assert notes(imported)[0] == ("ReplicationController 'redis' selects Pod 'boot' too, and counts it among its 2 "
                                  "replicas: it runs 1 pod of its own")


@rows.cover("K12")
def test_kinds_come_from_images_and_public_entries() -> None:
    imported = k8s(docs(deployment("cache", image="bitnami/redis:7"), deployment("ui", image="mongo-express"),
                        deployment("web"), service("web", extra="  type: NodePort\n"), deployment("api")))
    assert [line.split()[0] for line in lines(imported, r"-0 host")] == ["db", "service", "web", "service"]


@rows.cover("K13")
def test_listen_ports_are_the_containers_and_the_services_targets() -> None:
    imported = k8s(docs(deployment("a", ports="[{containerPort: 53, protocol: UDP, name: dns}]"),
                        service("a", ports="[{port: 53, targetPort: dns, protocol: UDP}, {port: 9000}]"),
                        deployment("b", ports="[]")))
    assert lines(imported, r"-0 host") == [
        "service a-0 host node-a address 10.244.0.10 listen tcp/9000 listen udp/53",
        "service b-0 host node-b address 10.244.0.11",
    ]


@rows.cover("K14")
def test_replicas_share_a_node_unless_a_required_rule_keeps_them_apart() -> None:
    shared = k8s(deployment("web", 3))
    assert {line.split()[3] for line in lines(shared, r"^service web-")} == {"node-web"}
    results = check(shared)
    (spof,) = refuted(results, "no-spof")
    assert spof.message == "single point of failure: 'host:node-web' stops 'web.running'"
    assert (spof.span.path, spof.span.line, spof.span.column, spof.span.end_column) == ("m.yaml", 5, 3, 14)
    apart = k8s(deployment("web", 3, extra=ANTI_AFFINITY))
    assert [line.split()[3] for line in lines(apart, r"^service web-")] == ["node-web-1", "node-web-2", "node-web-3"]
    assert verdict(check(apart), "no-spof") == "proved"
    skew = ("      topologySpreadConstraints:\n      - {maxSkew: 2, topologyKey: kubernetes.io/hostname, "
            "whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}\n")
    spread = k8s(deployment("web", 5, extra=skew))
    assert [line.split()[3] for line in lines(spread, r"^service web-")] == [
        "node-web-1", "node-web-1", "node-web-2", "node-web-2", "node-web-3"]
    preferred = ANTI_AFFINITY.replace("requiredDuring", "preferredDuring")
    assert {line.split()[3] for line in lines(k8s(deployment("web", 3, extra=preferred)), r"^service web-")} == {
        "node-web"}


@rows.cover("K15")
def test_zones_hold_replicas_as_their_spread_allows() -> None:
    zone_spread = ("      topologySpreadConstraints:\n      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, "
                   "whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}\n")
    imported = k8s(deployment("web", 4, extra=zone_spread), zones=["a", "b", "c"])
    assert lines(imported, r"^zone ") == ["zone a", "zone b", "zone c"]
    assert [line.split()[3] for line in lines(imported, r"^service web-")] == ["a", "b", "c", "a"]
    assert verdict(check(imported), "zone-redundancy") == "proved"
    one_zone = k8s(deployment("web", 4), zones=["a", "b"])
    assert {line.split()[3] for line in lines(one_zone, r"^service web-")} == {"a"}
    pinned = "      nodeSelector: {topology.kubernetes.io/zone: b}\n"
    assert {line.split()[3] for line in lines(k8s(deployment("web", 2, extra=pinned), zones=["a", "b"]),
                                              r"^service web-")} == {"b"}
    (zone,) = refuted(check(one_zone), "zone-redundancy")
    assert zone.message.startswith("losing one zone stops a service: 'zone:a' stops 'web.running'")


@rows.cover("K16")
def test_workloads_a_service_picks_between_share_their_nodes() -> None:
    both = service("db", selector="{tier: db}", ports="[{port: 5432}]")
    imported = k8s(docs(deployment("pg-a", labels="{tier: db, n: a}", image="postgres"),
                        deployment("pg-b", labels="{tier: db, n: b}", image="postgres"), both,
                        deployment("api", env="[{name: DB_HOST, value: db}]")))
    nodes = {line.split()[1]: line.split()[3] for line in lines(imported, r"-0 host")}
    assert nodes == {"pg-a-0": "node-pg-a", "pg-b-0": "node-pg-a", "api-0": "node-api"}


@rows.cover("K16")
def test_the_group_placement_gives_the_verdicts_of_one_node_for_everything() -> None:
    text = docs(deployment("pg-a", labels="{tier: db, n: a}", image="postgres"),
                deployment("pg-b", labels="{tier: db, n: b}", image="postgres"),
                service("db", selector="{tier: db}", ports="[{port: 5432}]"),
                deployment("api", 2, env="[{name: DB_HOST, value: db}]", extra=ANTI_AFFINITY.replace("web", "api")))
    grouped, single = check(k8s(text)), check(k8s(text, one_node=True))
    for check_id in ("no-spof", "zone-redundancy", "available"):
        assert verdict(grouped, check_id) == verdict(single, check_id)


@rows.cover("K16")
def test_what_alternatives_depend_on_shares_their_group() -> None:
    """a and b are alternatives behind one Service; a needs x, b needs y: losing x and y together
    stops the service, so one node of the model must hold both (as a real node may)."""
    text = docs(deployment("a", labels="{tier: front, n: a}", env="[{name: X_HOST, value: x}]"),
                deployment("b", labels="{tier: front, n: b}", env="[{name: Y_HOST, value: y}]"),
                service("front", selector="{tier: front}", extra="  type: NodePort\n"),
                deployment("x", image="redis", extra=ANTI_AFFINITY.replace("web", "x")), service("x"),
                deployment("y", image="redis"), service("y"))
    imported = k8s(text)
    nodes = {line.split()[1]: line.split()[3] for line in lines(imported, r"-0 host")}
    assert nodes == {"a-0": "node-a", "b-0": "node-a", "x-0": "node-a", "y-0": "node-a"}
    (spof,) = refuted(check(imported), "no-spof")
    assert spof.message == "single point of failure: 'host:node-a' stops 'front.nodeport'"


@rows.cover("K17")
def test_a_consensus_statefulset_is_a_quorum_cluster() -> None:
    imported = k8s(deployment("etcd", 3, image="quay.io/coreos/etcd:v3.5", kind="StatefulSet",
                              extra=ANTI_AFFINITY.replace("web", "etcd")))
    assert lines(imported, r"^cluster|quorum") == ["cluster etcd {", "  quorum"]
    results = check(imported)
    assert verdict(results, "no-spof") == "proved"


@rows.cover("K18")
def test_a_cluster_ip_service_is_a_managed_load_balancer_over_its_pods() -> None:
    imported = k8s(docs(deployment("api", 2, ports="[{containerPort: 8080, name: http}]"),
                        service("api", ports="[{port: 80, targetPort: http}, {port: 81, targetPort: nope}]",
                                extra="  clusterIP: 10.96.5.5\n")))
    assert "lb api {\n  managed\n  address 10.96.5.5\n  listen tcp/80 -> api-0, api-1 tcp/8080\n}" in imported.text
    assert ("Service 'api' port 81 targets 'nope', which no container of Deployment 'api' names; that workload is no "
            "endpoint of the port") in notes(imported)


@rows.cover("K19")
def test_a_headless_service_names_its_pods() -> None:
    imported = k8s(docs(deployment("db", 2, image="cassandra", kind="StatefulSet"),
                        service("db", ports="[{port: 9042}]", extra="  clusterIP: None\n"),
                        deployment("app", env="[{name: SEEDS, value: 'db-1.db'}, {name: DB_HOST, value: db}]")))
    assert lines(imported, r" uses ") == ["app-0 uses db-1", "app-0 uses db-0, db-1", "app.running uses app-0"]
    assert "lb db" not in imported.text


@rows.cover("K20")
def test_node_port_and_load_balancer_services_are_public_entries() -> None:
    imported = k8s(docs(deployment("web"), service("web", extra="  type: NodePort\n"),
                        deployment("shop"), service("shop", extra="  type: LoadBalancer\n"
                                                    "  loadBalancerSourceRanges: [203.0.113.0/24]\n"
                                                    "status: {loadBalancer: {ingress: [{ip: 198.51.100.7}]}}\n")))
    assert "lb web-nodeport {\n  managed\n  address 192.0.2.10\n  listen tcp/30000-32767 -> web-0 tcp/8080\n}" \
        in imported.text
    assert "lb shop-loadbalancer {\n  managed\n  address 198.51.100.7\n  listen tcp/80 -> shop-0 tcp/8080\n}" \
        in imported.text
    assert lines(imported, r"^dns ") == ["dns web.nodeport {", "dns shop.loadbalancer {"]
    assert "allow 203.0.113.0/24 -> shop-loadbalancer tcp/80" in lines(imported, "^allow")
    assert verdict(check(imported), "available") == "proved"


@rows.cover("K21", "K22")
def test_services_that_cannot_be_mapped_or_serve_nothing_say_so() -> None:
    imported = k8s(docs("apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec: {type: ExternalName, "
                        "externalName: api.example.com}\n",
                        "apiVersion: v1\nkind: Service\nmetadata: {name: manual}\nspec: {ports: [{port: 80}]}\n",
                        service("ghost", ports="[{port: 80}, {port: 9, protocol: SCTP}]"), deployment("web")))
    assert notes(imported)[:4] == [
        "Service 'ext' is an ExternalName (a DNS alias of 'api.example.com'): not mapped; declare it as an 'external' "
        "target in the overlay if the system depends on it",
        "Service 'manual' has no selector: its endpoints are managed elsewhere, so it is not mapped",
        "Service 'ghost' port 9/SCTP: only TCP and UDP are modelled; skipped",
        "Service 'ghost' selects no pod of the manifests (app=ghost); nothing serves it",
    ]
    assert "lb ghost managed address 10.96.0.10" in imported.text


@rows.cover("K23")
def test_an_ingress_is_a_public_load_balancer_with_a_name_per_host() -> None:
    ingress = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: front}
spec:
  tls: [{hosts: [shop.example.com]}]
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
  - host: admin.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: missing, port: {number: 80}}}}
"""
    imported = k8s(docs(deployment("web"), service("web"), deployment("api"), service("api"), ingress))
    assert ("lb front-1 {\n  managed\n  address 192.0.2.10\n  listen tcp/80 -> web, api need 2\n"
            "  listen tcp/443 -> web, api need 2\n}") in imported.text
    assert lines(imported, r"^dns ") == ["dns shop.example.com {", "dns admin.example.com {"]
    assert "Ingress 'front' routes to Service 'missing', which is not in the manifests; that route serves nothing" \
        in notes(imported)
    results = check(imported)
    assert verdict(results, "private-web") == "proved"
    (down,) = refuted(results, "available")
    assert "'admin.example.com'" in down.message


@rows.cover("K24")
def test_requirements_come_from_values_that_name_a_service() -> None:
    cfg = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {PAYMENTS: 'http://pay:8080/x'}\n"
    env = ("[{name: CART_ADDR, value: 'cart:7070'}, {name: PRODUCT_URL, value: 'http://catalog.default.svc:3550'}, "
           "{name: POSTGRES_USER, value: cart}, {name: P, valueFrom: {configMapKeyRef: {name: cfg, key: PAYMENTS}}}]")
    imported = k8s(docs(cfg, deployment("front", 2, env=env), deployment("cart"), service("cart"),
                        deployment("catalog"), service("catalog"), deployment("pay"), service("pay"),
                        deployment("self", env="[{name: PEERS, value: self}]"), service("self")))
    assert lines(imported, r" uses ") == ["front-0, front-1 uses cart", "front-0, front-1 uses catalog",
                                          "front-0, front-1 uses pay", "self.clients uses self",
                                          "front.running uses front-0, front-1"]
    assert "# front names cart: env CART_ADDR=cart:7070 (m.yaml:" in imported.text
    assert "# front names pay: env P=http://pay:8080/x from ConfigMap cfg (m.yaml:4)" in imported.text
    assert "names its own Service self: its peers, not a requirement" in imported.text


@rows.cover("K24")
def test_arguments_name_services_too_and_databases_are_no_sources() -> None:
    imported = k8s(docs(deployment("worker", extra="", ports="[]").replace(
        "        ports: []", "        ports: []\n        args: ['--redis-host', 'queue', '--db=sql:5432']"),
        deployment("queue", image="redis"), service("queue", ports="[{port: 6379}]"),
        deployment("sql", image="postgres"), service("sql", ports="[{port: 5432}]"),
        deployment("replica", image="postgres", env="[{name: PRIMARY_HOST, value: sql}]")))
    assert lines(imported, r"^worker-0 uses ") == ["worker-0 uses queue", "worker-0 uses sql"]
    assert ("database Deployment 'replica' names Service 'sql' (env PRIMARY_HOST=sql); a database's own connections "
            "(replication) are not inferred") in notes(imported)


@rows.cover("K25")
def test_what_nothing_is_seen_to_use_gets_a_job_standing_for_its_clients() -> None:
    imported = k8s(docs(deployment("cache", image="redis"), service("cache"), deployment("worker")))
    assert lines(imported, r"^job |uses") == ["job cache.clients", "job worker.running", "cache.clients uses cache",
                                              "worker.running uses worker-0"]
    overlay = "service app address 10.0.0.1\napp uses cache\n"
    assert "cache.clients" not in k8s(docs(deployment("cache", image="redis"), service("cache")), overlay=overlay).text


@rows.cover("K26", "K27")
def test_network_policies_become_rules_and_no_policy_allows_everything() -> None:
    policy = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: only-api}\nspec:\n"
              "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {matchLabels: "
              "{app: api}}}]\n    ports: [{port: 5432}]\n")
    base = [deployment("db", image="postgres", ports="[{containerPort: 5432}]"), service("db", ports="[{port: 5432}]"),
            deployment("api", env="[{name: DB_HOST, value: db}]"),
            deployment("web", env="[{name: DB_HOST, value: db}]")]
    open_network = k8s(docs(*base))
    assert lines(open_network, r"^(allow|deny)") == ["allow db -> db-0 tcp/5432", "allow any -> any"]
    closed = k8s(docs(*base, policy))
    assert lines(closed, r"^(allow|deny) .*-> db(-0)?( |$)") == [
        "allow db -> db-0 tcp/5432", "allow api-0 -> db tcp/5432", "deny any -> db tcp/5432",
        "allow api-0 -> db-0 tcp/5432", "deny any -> db-0",
    ]  # (no address rule follows the pods' own: the pods left out need no deny by name)
    results = check(closed)
    (denied,) = refuted(results, "connection-denied")
    assert denied.message == ("the rule at m.yaml:56 denies what the rule at m.yaml:3 allows, and comes first: "
                              "web-0 -> db tcp/5432 is denied (the requirement 'web-0 uses db' needs it)")
    assert (denied.span.path, denied.span.line, denied.span.column) == ("m.yaml", 56, 16)
    assert denied.counterexamples[0].fields["fix"] == "allow web-0 -> db tcp/5432"


SAME_NAMESPACE = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: same-namespace, "
                  "namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{podSelector: {}}]\n")


@rows.cover("K26")
def test_pods_and_services_one_policy_admits_alike_share_one_block_of_rules() -> None:
    """The commonest policy (a namespace admits its own pods) treats every pod of the
    namespace alike: one block of rules for all its pods and one for all its Services,
    where a block each named every pod at every pod (the square of the applications)."""
    apps = [p for a in "abc" for p in (deployment(a, namespace="shop"), service(a, namespace="shop"))]
    tool = deployment("tool", namespace="ops", env="[{name: A_HOST, value: a.shop}]")
    imported = k8s(docs(*apps, tool, SAME_NAMESPACE))
    assert lines(imported, r"^(allow|deny) ") == [
        "allow a.shop -> a-0.shop tcp/8080", "allow b.shop -> b-0.shop tcp/8080", "allow c.shop -> c-0.shop tcp/8080",
        "allow a-0.shop, b-0.shop, c-0.shop -> a.shop, b.shop, c.shop tcp/80",
        "deny any -> a.shop, b.shop, c.shop tcp/80",
        "allow a-0.shop, b-0.shop, c-0.shop -> a-0.shop, b-0.shop, c-0.shop",
        "deny any -> a-0.shop, b-0.shop, c-0.shop",
        "allow any -> any",
    ]
    assert [line for line in imported.text.splitlines() if line.startswith(("# who", "# connections to"))] == [
        "# who may use Service a; the same for 2 more Services (m.yaml:83)",
        "# connections to a-0.shop and 2 more pods: NetworkPolicy same-namespace selects them for Ingress (m.yaml:83)",
    ]
    (denied,) = refuted(check(imported), "connection-denied")  # the pod of another namespace is not let in
    assert "tool-0.ops -> a.shop tcp/80 is denied" in denied.message
    # forty applications: still two blocks, and a rule naming each pod once per side
    many = k8s(docs(*[p for i in range(40) for p in (deployment(f"app{i}", namespace="shop"),
                                                         service(f"app{i}", namespace="shop"))], SAME_NAMESPACE))
    rules = lines(many, r"^(allow|deny) ")
    assert len(rules) == 40 + 4 + 1
    # (the forwards name each pod once, the Services' block once, the pods' block three times)
    assert sum(len(re.findall(r"\bapp\d+-0\b", rule)) for rule in rules) == 40 + 40 + 3 * 40


@rows.cover("K28")
def test_host_ports_and_host_network_are_noted() -> None:
    imported = k8s(deployment("web", ports="[{containerPort: 80, hostPort: 80}]",
                              extra="      hostNetwork: true\n"))
    assert notes(imported)[:2] == [
        "Deployment 'web' opens hostPort 80: its port on the node's own address is not modelled",
        "Deployment 'web' uses the node's network (hostNetwork): it is modelled with a pod address of its own",
    ]


@rows.cover("K29")
def test_an_overlay_places_imported_pods_and_its_zones_count() -> None:
    overlay = "zone east\nzone west\nservice web-1 zone west\n"
    imported = k8s(deployment("web", 2, extra=ANTI_AFFINITY), overlay=overlay)
    assert not lines(imported, r"^zone ")  # the overlay declares its zones itself
    assert lines(imported, r"^  zone|^service web-0") == ["service web-0 zone east host node-web-east-1 address "
                                                          "10.244.0.10 listen tcp/8080", "  zone west"]
    results = check(imported, overlay)
    assert verdict(results, "zone-redundancy") == "proved"


def test_every_import_is_canonical_text() -> None:
    for text in (deployment("web", 3), docs(deployment("a", 2, extra=ANTI_AFFINITY), service("a"))):
        imported = k8s(text, zones=["x", "y"])
        assert format_text(imported.text).text == imported.text


def test_every_row_of_the_mapping_table_is_tested() -> None:
    assert rows.in_spec() == rows.covered


@pytest.mark.parametrize("value, found", [
    ("redis-master", ["redis-master"]), ("cartservice:7070", ["cartservice"]),
    ("http://productcatalog:3550", ["productcatalog"]), ("user:pw@db:5432/x", ["db"]), ("0.0.0.0:80", []),
])
def test_references_in_values(value: str, found: list[str]) -> None:
    from checker.importers.evidence import references

    assert [r.host for r in references(value, "UPSTREAM_HOST")] == found
