"""Adversarial topologies: the input shapes that make a checker slow.

Each function returns the source text of one deterministic topology, and each
shape stresses one part of the engines:

* :func:`all_down`: a generated file (:func:`benchmarks.generate.generate`) with
  ``deny internet -> any`` on top, so every service is down with nothing failed
  and every check that explains it explains all of them;
* :func:`chain`: a requirement chain ``svc-0 uses svc-1 uses ... svc-(n-1)``
  behind one load balancer, every link a single point of failure;
* :func:`cycle`: the same closed into a requirement cycle (``svc-(n-1) uses svc-0``),
  served by the greatest fixed point;
* :func:`overlapping_rules`: ``n`` rules between the same networks whose port
  ranges overlap, a third of them shadowed only by the union of several earlier
  ones (no single earlier rule covers them), the rest first matches somewhere
  strictly inside their range;
* :func:`alternatives`: one requirement with ``n`` ordered alternatives, each a
  service that may be live without serving (so failing more can restore it);
* :func:`huge_cluster`: one quorum cluster of ``n`` members behind the web tier;
* :func:`replica_pool`: the same cluster with failover, written through a balancer to its
  ``primary of`` and read through one to its ``replicas of`` (a group of ``n - 1``
  replicas that falls only when all do, inside a majority that falls with half);
* :func:`need_tree`: a binary tree of ``n`` load balancers and web servers, each
  balancer needing both of its children, so every one of the ``n`` is a single point
  whose failure reaches only the path above it;
* :func:`wide_needs`: two web servers that need each of ``n`` services, each a pair of
  servers in two zones (``n`` smallest stopping sets of two hosts, one per pair);
* :func:`shared_egress`: ``n`` jobs, each using two services in two zones that use a
  payment provider through their zone's one NAT gateway (the two gateways stop every
  job: ``no-spof k=2`` merges ``n`` services' cut sets);
* :func:`wide_rule`: ``n`` web servers, each using a service of its own, allowed by one
  rule that names all ``n`` web servers and all ``n`` services, and a deny after it with
  the same sides (shadowed by it: each side of ``n`` atoms inside the other's);
* :func:`zone_pool`: a pool of ``n`` web servers, each in a zone of its own (so more
  zones than ``availability`` conditions on, each next to its host in the variable order);
* :func:`cascade`: replicas copying from each other in three lines of ``n``: one down
  from a primary, one down from a server that is no primary (each of its replicas a
  finding, its chain elided), one closed into a cycle (one finding);
* :func:`suppressed`: ``n`` rules under one broad rule, each shadowed by it and each
  accepted by a suppression on its line;
* :func:`names`: ``n`` DNS names, each served by a name server of its own on a public
  address (so the internet has ``2n`` cells to resolve from), all answering one
  managed load balancer;
* :func:`k8s_apps`: not a topology but Kubernetes manifests for ``topocheck check --from
  k8s``: ``n`` applications (a Deployment of two pods, a Service, a NetworkPolicy
  admitting one other application) over ten namespaces, so the importer's NetworkPolicy
  translation meets ``n`` pod classes, each isolated.

* :func:`compose_ports`: not a topology but a Compose project for ``check --from
  compose``: ``n`` nginx proxies that each publish a port (so ``n`` public front doors,
  past the first network of public stand-ins) and forward to the database they depend on,
  on 40 networks and one they share with the databases.

``python benchmarks/shapes.py NAME N`` prints one.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import generate  # noqa: E402

__all__ = ["SHAPES", "all_down", "alternatives", "cascade", "chain", "cycle", "huge_cluster", "overlapping_rules",
           "replica_pool", "need_tree", "wide_needs", "shared_egress", "compose_ports", "wide_rule",
           "zone_pool",
           "k8s_apps", "names", "suppressed"]


def _address(i: int, base: int = 10) -> str:
    return f"{base}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def _front(lines: list[str], first: str) -> None:
    """A dns name, a load balancer and two web servers in two zones that use ``first``."""
    lines += [
        "zone az-1",
        "zone az-2",
        "internet users",
        "dns www.example.com { managed  answer lb }",
        "lb lb { managed  address 203.0.113.10  address 10.255.0.1  listen tcp/443 -> web-a, web-b tcp/8080 }",
        "web web-a zone az-1 address 10.255.0.2 listen tcp/8080",
        "web web-b zone az-2 address 10.255.0.3 listen tcp/8080",
        f"web-a, web-b uses {first}",
    ]


def all_down(n: int) -> str:
    """A generated file of ``n`` components in which no client reaches anything."""
    text = generate(n)
    head, _, policy = text.partition("\ndeny internet -> ")
    return head + "\ndeny internet -> any\ndeny internet -> " + policy


def chain(n: int) -> str:
    """``n`` services, each using the next: every one a single point of failure."""
    lines: list[str] = [f'topology "a requirement chain of {n}"']
    _front(lines, "svc-0")
    for i in range(n):
        lines.append(f"service svc-{i} zone az-{1 + i % 2} address {_address(i + 1)} listen tcp/9000")
    lines += [f"svc-{i} uses svc-{i + 1}" for i in range(n - 1)]
    lines += ["allow internet -> lb tcp/443", "allow lb -> web-a, web-b tcp/8080",
              "allow web-a, web-b -> 10.0.0.0/8 tcp/9000", "allow 10.0.0.0/8 -> 10.0.0.0/8 tcp/9000",
              "deny any -> any"]
    return "\n".join(lines) + "\n"


def cycle(n: int) -> str:
    """:func:`chain` closed into a cycle: up while every service on it is."""
    return chain(n).replace(f"svc-{n - 2} uses svc-{n - 1}\n",
                            f"svc-{n - 2} uses svc-{n - 1}\nsvc-{n - 1} uses svc-0\n")


def overlapping_rules(n: int) -> str:
    """``n`` rules on one pair of networks with overlapping port ranges (see the module doc)."""
    lines: list[str] = [f'topology "{n} overlapping rules"']
    _front(lines, "api")
    lines += ["service api zone az-1 address 10.1.0.1 listen tcp/9000",
              "service api-2 zone az-2 address 10.1.0.2 listen tcp/9000",
              "web-a, web-b uses api-2"]
    lines += ["allow internet -> lb tcp/443", "allow lb -> web-a, web-b tcp/8080",
              "allow web-a, web-b -> api, api-2 tcp/9000"]
    for i in range(n):
        low = 10_000 + 7 * (i // 3) * 3
        if i % 3 == 0:
            lines.append(f"allow 10.255.0.0/24 -> 10.1.0.0/24 tcp/{low}-{low + 20}")
        elif i % 3 == 1:
            lines.append(f"deny 10.255.0.0/16 -> 10.1.0.0/16 tcp/{low + 15}-{low + 40}")
        else:  # covered by the two before it together, by neither alone
            lines.append(f"deny 10.255.0.0/24 -> 10.1.0.0/24 tcp/{low + 5}-{low + 30}")
    lines.append("deny any -> any")
    return "\n".join(lines) + "\n"


def alternatives(n: int) -> str:
    """One requirement with ``n`` ordered alternatives, each needing a database of its own."""
    lines: list[str] = [f'topology "one requirement with {n} alternatives"']
    _front(lines, ", ".join(f"svc-{i}" for i in range(n)))
    for i in range(n):
        lines.append(f"service svc-{i} zone az-{1 + i % 2} address {_address(2 * i + 1)} listen tcp/9000")
        lines.append(f"db db-{i} zone az-{1 + (i + 1) % 2} address {_address(2 * i + 2)} listen tcp/5432")
        lines.append(f"svc-{i} reads db-{i}")
    lines += ["allow internet -> lb tcp/443", "allow lb -> web-a, web-b tcp/8080",
              "allow web-a, web-b -> 10.0.0.0/8 tcp/9000", "allow 10.0.0.0/8 -> 10.0.0.0/8 tcp/5432",
              "deny any -> any"]
    return "\n".join(lines) + "\n"


def huge_cluster(n: int) -> str:
    """The web tier writes to one quorum cluster of ``n`` database members."""
    lines: list[str] = [f'topology "one cluster of {n} members"']
    _front(lines, "orders")
    lines.append("web-a, web-b writes orders")
    lines.append("cluster orders {")
    lines.append("  failover auto")
    lines.append("  quorum")
    for i in range(n):
        role = "primary" if i == 0 else "replica"
        lines.append(f"  db db-{i} {{ zone az-{1 + i % 2}  address {_address(i + 1)}  listen tcp/5432  {role} }}")
    lines.append("}")
    lines += ["allow internet -> lb tcp/443", "allow lb -> web-a, web-b tcp/8080",
              "allow web-a, web-b -> orders tcp/5432", "allow orders -> orders tcp/5432", "deny any -> any"]
    return "\n".join(lines) + "\n"


def replica_pool(n: int) -> str:
    """The web tier writes through ``orders-rw`` to the current primary of a failover
    quorum cluster of ``n`` members and reads through ``orders-ro`` from its replicas."""
    lines: list[str] = [f'topology "a replica pool of {n} members"']
    _front(lines, "orders-rw, orders-ro")
    lines += [
        "web-a, web-b writes orders-rw",
        "web-a, web-b reads orders-ro",
        "lb orders-rw { managed  address 10.254.0.1  listen tcp/5432 -> primary of orders tcp/5432 }",
        "lb orders-ro { managed  address 10.254.0.2  listen tcp/5432 -> replicas of orders }",
        "cluster orders {",
        "  failover auto",
        "  quorum",
    ]
    for i in range(n):
        role = "primary" if i == 0 else "replica"
        lines.append(f"  db db-{i} {{ zone az-{1 + i % 2}  address {_address(i + 1)}  listen tcp/5432  {role} }}")
    lines.append("}")
    lines += ["allow internet -> lb tcp/443", "allow lb -> web-a, web-b tcp/8080",
              "allow web-a, web-b -> orders-rw, orders-ro tcp/5432", "allow orders-rw, orders-ro -> orders tcp/5432",
              "allow orders -> orders tcp/5432", "deny any -> any"]
    return "\n".join(lines) + "\n"


def need_tree(n: int) -> str:
    """Node ``i`` forwards to nodes ``2i + 1`` and ``2i + 2`` (those below ``n``) and needs
    them all; the nodes without children are web servers; node 0 is the public one."""
    lines: list[str] = [f'topology "a tree of {n} that needs every node"', "internet users",
                        "dns www { managed  answer n-0 }"]
    for i in range(n):
        children = [f"n-{c}" for c in (2 * i + 1, 2 * i + 2) if c < n]
        public = "  address 203.0.113.10" if i == 0 else ""
        if children:
            lines.append(f"lb n-{i} {{{public}  address {_address(i + 1)}  "
                         f"listen tcp/443 -> {', '.join(children)} need {len(children)} }}")
        else:
            lines.append(f"web n-{i}{public} address {_address(i + 1)} listen tcp/443")
    lines += ["allow internet -> n-0 tcp/443", "allow 10.0.0.0/8 -> 10.0.0.0/8 tcp/443", "deny any -> any"]
    return "\n".join(lines) + "\n"


def wide_needs(n: int) -> str:
    """``web-a`` and ``web-b`` use ``s-0`` to ``s-(n-1)``, each a balancer in front of two
    services, one per zone."""
    lines: list[str] = [f'topology "{n} services of two"']
    _front(lines, "s-0")
    for i in range(n):
        lines += [*([f"web-a, web-b uses s-{i}"] if i else []),
                  f"lb s-{i} {{ managed  address {_address(2 * n + i + 1)}  listen tcp/9000 -> s-{i}-a, s-{i}-b }}",
                  f"service s-{i}-a zone az-1 address {_address(2 * i + 1)} listen tcp/9000",
                  f"service s-{i}-b zone az-2 address {_address(2 * i + 2)} listen tcp/9000"]
    lines += ["allow internet -> lb tcp/443", "allow lb -> web-a, web-b tcp/8080",
              "allow 10.0.0.0/8 -> 10.0.0.0/8 tcp/9000", "deny any -> any"]
    return "\n".join(lines) + "\n"


def shared_egress(n: int) -> str:
    """Jobs ``j-0`` to ``j-(n-1)``, job ``j-i`` using ``s-i-a`` (in az-1) or ``s-i-b`` (in
    az-2), which use the external ``pay`` through their zone's egress gateway."""
    lines: list[str] = [f'topology "{n} jobs behind two gateways"', "zone az-1 egress nat-1", "zone az-2 egress nat-2",
                        "external pay address 198.51.100.0/24 listen tcp/443",
                        "gateway nat-1 zone az-1 address 203.0.113.11 address 10.255.1.1",
                        "gateway nat-2 zone az-2 address 203.0.113.12 address 10.255.2.1"]
    for i in range(n):
        lines += [f"job j-{i}", f"j-{i} uses s-{i}-a, s-{i}-b",
                  f"service s-{i}-a zone az-1 address {_address(2 * i + 1)} listen tcp/9000",
                  f"service s-{i}-b zone az-2 address {_address(2 * i + 2)} listen tcp/9000",
                  f"s-{i}-a, s-{i}-b uses pay"]
    lines += ["allow 10.0.0.0/8 -> nat-1, nat-2 tcp/443", "allow 10.0.0.0/8 -> pay tcp/443", "deny any -> any"]
    return "\n".join(lines) + "\n"


def compose_ports(n: int) -> str:
    """Services ``app0`` to ``app(n-1)`` (nginx, a proxy of what it depends on, each publishing port 80, every tenth on a
    host port of its own) on networks ``net0`` to ``net39`` and ``shared``, each depending
    on one of 50 postgres databases on ``shared``."""
    lines = ["services:"]
    for i in range(n):
        port = f'"{8000 + i}:80"' if i % 10 == 0 else '"80"'
        lines += [f"  app{i}:", "    image: nginx", f"    ports: [{port}]", f"    networks: [net{i % 40}, shared]",
                  f"    depends_on: [db{i % 50}]"]
    for j in range(50):
        lines += [f"  db{j}:", "    image: postgres", "    networks: [shared]"]
    lines += ["networks:"] + [f"  net{k}: {{}}" for k in range(40)] + ["  shared: {}"]
    return "\n".join(lines) + "\n"


def wide_rule(n: int) -> str:
    """Web servers ``w0`` to ``w(n-1)`` behind one balancer, ``wi uses si``; one rule allows
    every web server to every service, and a deny of the same sides follows it."""
    webs = ", ".join(f"w{i}" for i in range(n))
    services = ", ".join(f"s{i}" for i in range(n))
    lines: list[str] = [f'topology "one rule of {n} by {n}"', "internet users", "dns www { managed  answer lb }",
                        f"lb lb {{ managed  address 203.0.113.10  address 10.255.0.1  listen tcp/443 -> {webs} tcp/8080 }}"]
    for i in range(n):
        lines += [f"web w{i} address {_address(i + 1)} listen tcp/8080",
                  f"service s{i} address {_address(100_000 + i)} listen tcp/9000", f"w{i} uses s{i}"]
    lines += ["allow internet -> lb tcp/443", f"allow lb -> {webs} tcp/8080", f"allow {webs} -> {services} tcp/9000",
              f"deny {webs} -> {services} tcp/9000", "deny any -> any"]
    return "\n".join(lines) + "\n"


def zone_pool(n: int) -> str:
    """One name, one managed balancer, ``n`` web servers in zones ``z0`` to ``z(n-1)``."""
    webs = ", ".join(f"w{i}" for i in range(n))
    lines: list[str] = [f'topology "a pool over {n} zones"', *(f"zone z{i}" for i in range(n)), "internet users",
                        "dns www { managed  answer lb }",
                        f"lb lb {{ managed  address 203.0.113.10  address 10.255.0.1  listen tcp/443 -> {webs} tcp/8080 }}"]
    lines += [f"web w{i} zone z{i} address {_address(i + 1)} listen tcp/8080" for i in range(n)]
    lines += ["allow internet -> lb tcp/443", "allow lb -> 10.0.0.0/8 tcp/8080", "deny any -> any"]
    return "\n".join(lines) + "\n"


def cascade(n: int) -> str:
    """Three replication lines of ``n`` replicas, each copying from the one before: below
    a primary (healthy), below a server that is neither primary nor replica (``n``
    replication-source findings), and closed into a cycle (one replication-cycle finding)."""
    lines: list[str] = [f'topology "replication cascades of {n}"', "cluster orders {", "  db up-0 primary"]
    lines += [f"  db up-{i} replica of up-{i - 1}" for i in range(1, n)]
    lines += ["}", "db old", "db down-0 replica of old"]
    lines += [f"db down-{i} replica of down-{i - 1}" for i in range(1, n)]
    lines += ["cluster ring {", "  db ring-primary primary"]
    lines += [f"  db ring-{i} replica of ring-{(i - 1) % n}" for i in range(n)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def suppressed(n: int) -> str:
    """``n`` rules to one web server under a broad rule that shadows them all, each
    accepted by a suppression on its line."""
    lines: list[str] = [f'topology "{n} suppressed rules"', "internet users",
                        "web w address 203.0.113.10 listen tcp/443", "allow internet -> w"]
    lines += [f"allow internet -> w tcp/{1 + i % 60000}  # topocheck: ignore[shadowed-rule] kept for the audit trail"
              for i in range(n)]
    return "\n".join(lines) + "\n"


def names(n: int) -> str:
    """``n`` DNS names with a name server each, answering one load balancer: every name
    server a single point of failure of its name."""
    lines: list[str] = [f'topology "{n} names with their own name servers"', "zone az-1", "zone az-2",
                        "internet users",
                        "lb lb { managed  address 203.0.113.10  address 10.255.0.1  listen tcp/443 -> web-a, web-b tcp/8080 }",
                        "web web-a zone az-1 address 10.255.0.2 listen tcp/8080",
                        "web web-b zone az-2 address 10.255.0.3 listen tcp/8080"]
    for i in range(n):
        lines.append(f"dns name-{i}.example.com {{ served-by ns-{i}  answer lb }}")
        lines.append(f"web ns-{i} zone az-{1 + i % 2} address {_address(i + 1, 100)} listen udp/53")
    lines += ["allow internet -> lb tcp/443", "allow internet -> 100.0.0.0/8 udp/53",
              "allow lb -> web-a, web-b tcp/8080", "deny any -> any"]
    return "\n".join(lines) + "\n"


def _k8s_app(i: int, labels: str, container: str) -> str:
    """Application ``i`` of a Kubernetes shape, in namespace ``ns{i % 10}``: a Deployment of
    two pods labelled ``labels`` running ``container`` on port 8080, and its Service on
    port 80."""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: app{i}, namespace: ns{i % 10}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: app{i}}}}}
  template:
    metadata: {{labels: {{{labels}}}}}
    spec:
      containers:
      - {{name: main, {container}, ports: [{{containerPort: 8080}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: app{i}, namespace: ns{i % 10}}}
spec:
  selector: {{app: app{i}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def k8s_apps(n: int) -> str:
    """``n`` applications as one multi-document YAML file: application ``i`` (namespace
    ``ns{i % 10}``) admits connections to its pods' port only from application ``i - 10``
    (the one before it in its namespace; the first ten admit themselves)."""
    docs = []
    for i in range(n):
        caller = max(i - 10, i % 10)
        docs.append(_k8s_app(i, f"app: app{i}, tier: t{i % 3}", "image: nginx") + f"""---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: app{i}, namespace: ns{i % 10}}}
spec:
  podSelector: {{matchLabels: {{app: app{i}}}}}
  ingress:
  - from: [{{podSelector: {{matchLabels: {{app: app{caller}}}}}}}]
    ports: [{{port: 8080}}]
""")
    return "---\n".join(docs)


def k8s_namespaces(n: int) -> str:
    """``n`` applications in ten namespaces (application ``i`` in ``ns{i % 10}``), each
    namespace with the commonest NetworkPolicy there is: every pod admits every pod of
    its namespace (``podSelector: {}`` from ``podSelector: {}``); application ``i`` calls
    application ``i - 10``, the one before it in its namespace."""
    docs = []
    for i in range(n):
        env = f", env: [{{name: UPSTREAM_HOST, value: app{i - 10}}}]" if i >= 10 else ""
        docs.append(_k8s_app(i, f"app: app{i}", f"image: example/app:1{env}"))
    for space in range(min(n, 10)):
        docs.append(f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: same-namespace, namespace: ns{space}}}
spec:
  podSelector: {{}}
  ingress:
  - from: [{{podSelector: {{}}}}]
""")
    return "---\n".join(docs)


#: name -> (function, the size the benchmarks use)
SHAPES = {
    "all-down": (all_down, 10_000),
    "chain": (chain, 600),
    "cycle": (cycle, 400),
    "overlapping-rules": (overlapping_rules, 5_000),
    "alternatives": (alternatives, 3_000),
    "huge-cluster": (huge_cluster, 1_001),
    "replica-pool": (replica_pool, 1_001),
    "need-tree": (need_tree, 4_095),
    "wide-needs": (wide_needs, 10_000),
    "shared-egress": (shared_egress, 10_000),
    "wide-rule": (wide_rule, 10_000),
    "zone-pool": (zone_pool, 3_000),
    "cascade": (cascade, 5_000),
    "suppressed": (suppressed, 20_000),
    "names": (names, 4_000),
    "k8s-apps": (k8s_apps, 1_000),
    "k8s-namespaces": (k8s_namespaces, 1_000),
    "compose-ports": (compose_ports, 2_000),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in SHAPES:
        print(f"usage: python benchmarks/shapes.py {{{','.join(SHAPES)}}} [N]", file=sys.stderr)
        return 2
    function, size = SHAPES[args[0]]
    sys.stdout.write(function(int(args[1]) if len(args) > 1 else size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
