"""Deterministic generator of large, realistic topologies for benchmarks.

The shape follows the seed's walk to its end, repeated per *application*:

* a few managed DNS names, each answering the load balancers of a couple of
  applications;
* per application, a managed load balancer with a public and a private
  address, forwarding ``tcp/443`` to a pool of web servers spread over the
  zones;
* the webs read and write the application's clusters (``failover auto``, three
  members in three zones) and use the application's internal services, in
  pairs of ordered alternatives in different zones;
* the services use caches (pairs of alternatives) and a queue (optional);
  a cache and a queue of one zone sometimes share a host.

Each application owns an aligned private block of ``10.0.0.0/8``, so policies
can name it as a CIDR. The policy is ordered allow/deny: per application the
rules that the service needs, plus denies placed before them that never match
a needed connection (internet to private blocks, SSH, foreign clusters, caches
calling out), shadowed duplicates and dead denies after them, and one final
``deny any -> any``. With nothing failed, every needed connection is allowed,
so ``available`` is proved.

Usage::

    python benchmarks/generate.py 10000 --clusters 300 --rules-per-component 2.5 > big.topo

Only the standard library is used; 100,000 components take well under two
seconds, as everything is plain string building.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import random
import sys
from dataclasses import dataclass, field

__all__ = ["generate", "main"]

_WEB_PORT = "tcp/8080"
_SERVICE_PORT = "tcp/9000"
_CACHE_PORT = "tcp/6379"
_QUEUE_PORT = "tcp/5672"
_DB_PORT = "tcp/5432"
_FRONT_PORT = "tcp/443"
_COMPONENTS_PER_APP = 40  # a typical application's size, dns and lb excluded
_CHECKS = (
    "check no-spof k=3",
    "check zone-redundancy",
    "check private-web",
    "check private-db",
    "check write-to-primary k=2",
)


@dataclass
class _App:
    """One application: its names, placement and its private address block."""

    index: int
    lb: str
    webs: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)  # API instances, pairs of alternatives
    caches: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    clusters: list[tuple[str, list[str]]] = field(default_factory=list)  # (cluster, members)
    block: ipaddress.IPv4Network | None = None
    lines: list[str] = field(default_factory=list)  # declarations
    next_address: int = 1

    def address(self) -> str:
        """The next free address of the application's block."""
        assert self.block is not None
        value = int(self.block.network_address) + self.next_address
        self.next_address += 1
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"

    def all_components(self) -> list[str]:
        members = [m for _, ms in self.clusters for m in ms]
        return [self.lb, *self.webs, *self.services, *self.caches, *self.queues, *members]


def _split(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal non-negative integers."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _pairs(items: list[str]) -> list[list[str]]:
    """Consecutive pairs (the last may be single): ordered alternatives."""
    return [items[i : i + 2] for i in range(0, len(items), 2)]


def _public_address(index: int) -> str:
    """A unique public address for the ``index``-th load balancer."""
    if index < 240:
        return f"203.0.113.{index + 10}"
    if index < 480:
        return f"198.51.100.{index - 230}"
    value = index - 480
    return f"52.{(value >> 16) & 255}.{(value >> 8) & 255}.{(value & 255)}"


def generate(
    n_components: int,
    *,
    n_clusters: int | None = None,
    rules_per_component: float = 2.5,
    zones: int = 3,
    regions: int = 2,
    seed: int = 0,
    plant: tuple[str, ...] = (),
) -> str:
    """A topology of exactly ``n_components`` components, as source text.

    Parameters
    ----------
    n_components:
        Components in the file, cluster members and DNS names included
        (``internet users`` is not counted). At least 3 (a DNS name, a load
        balancer and a web server), plus 3 per cluster asked for.
    n_clusters:
        Database clusters of three members each; default one per application
        (an application per about 40 components).
    rules_per_component:
        The policy has about ``rules_per_component * n_components`` rules, and
        never fewer than the service needs.
    zones, regions:
        Zones to spread over (at least 1) and regions to group them in (0: no
        regions).
    seed:
        The seed of the ``random.Random`` that picks rule variants; the same
        arguments always give the same text.
    plant:
        Faults to plant (see :data:`PLANTS`), each adding its own components and
        rules on top of the ``n_components`` asked for.

    Raises
    ------
    ValueError
        When the arguments cannot give a valid topology (too few components
        for the clusters asked for, no zone, too many to address).

    Notes
    -----
    Runs in O(n_components + rules) time; the text is built once with
    ``str.join``.
    """
    unknown = [name for name in plant if name not in PLANTS]
    if unknown:
        raise ValueError(f"unknown plant '{unknown[0]}' (known: {', '.join(PLANTS)})")
    if zones < 1:
        raise ValueError("zones must be at least 1")
    if regions < 0:
        raise ValueError("regions must not be negative")
    if rules_per_component < 0:
        raise ValueError("rules_per_component must not be negative")
    rng = random.Random(seed)

    n_apps = max(1, round(n_components / (_COMPONENTS_PER_APP + 2)))
    clusters = n_apps if n_clusters is None else n_clusters
    if clusters < 0:
        raise ValueError("n_clusters must not be negative")

    def budget(apps: int) -> int:
        dns = math.ceil(apps / 2)
        return n_components - dns - apps - 3 * clusters

    # Every application needs at least one web server.
    while n_apps > 1 and budget(n_apps) < n_apps:
        n_apps -= 1
    if n_clusters is None:
        clusters = min(clusters, n_apps)
        while clusters > 0 and budget(n_apps) < n_apps:
            clusters -= 1
    if budget(n_apps) < n_apps:
        raise ValueError(
            f"{n_components} components are too few for {clusters} clusters of 3 members "
            f"(and at least a dns name, a load balancer and a web server)"
        )
    n_dns = math.ceil(n_apps / 2)

    zone_names = [f"az-{i + 1}" for i in range(zones)]
    region_names = [f"region-{i + 1}" for i in range(regions)]

    # Address blocks: one aligned block per application, big enough for it.
    sizes = _split(budget(n_apps), n_apps)
    cluster_counts = _split(clusters, n_apps)
    largest = max(s + 3 * c for s, c in zip(sizes, cluster_counts)) + 4
    block_bits = max(4, (largest - 1).bit_length())
    if n_apps << block_bits > 1 << 24:
        raise ValueError("too many components to address inside 10.0.0.0/8")
    prefix = 32 - block_bits

    apps: list[_App] = []
    for a in range(n_apps):
        app = _App(a, f"lb-{a}")
        app.block = ipaddress.IPv4Network((int(ipaddress.IPv4Address("10.0.0.0")) + (a << block_bits), prefix))
        size = sizes[a]
        n_web = max(1, math.ceil(size * 0.5))
        rest = size - n_web
        n_svc = math.ceil(rest * 0.5)
        n_cache = math.ceil((rest - n_svc) * 0.6)
        n_queue = rest - n_svc - n_cache
        app.webs = [f"web-{a}-{i}" for i in range(n_web)]
        app.services = [f"api-{a}-{i}" for i in range(n_svc)]
        app.caches = [f"cache-{a}-{i}" for i in range(n_cache)]
        app.queues = [f"queue-{a}-{i}" for i in range(n_queue)]
        for c in range(cluster_counts[a]):
            name = f"db-{a}-{c}"
            app.clusters.append((name, [f"{name}-{m}" for m in "abc"]))
        apps.append(app)

    out: list[str] = [f'topology "benchmark: {n_components} components, seed {seed}"', ""]
    for i, zone in enumerate(zone_names):
        region = f" region {region_names[i % regions]}" if regions else ""
        out.append(f"zone {zone}{region}")
    out += ["", "internet users", ""]

    for d in range(n_dns):
        answers = ", ".join(app.lb for app in apps[2 * d : 2 * d + 2])
        out.append(f"dns www.app{d}.example.com {{ managed  answer {answers} }}")
    out.append("")

    for app in apps:
        _declare_app(app, zone_names)
        out.extend(app.lines)

    requirements: list[str] = []
    for app in apps:
        requirements.extend(_requirements(app))
    out.append("")
    out.extend(requirements)

    essential = [_essential_rules(app) for app in apps]
    n_essential = sum(len(rules) for rules in essential) + 1  # + the final deny
    target = round(rules_per_component * n_components)
    filler = _FillerCounts(max(0, target - n_essential), sum(len(app.all_components()) for app in apps))
    foreign_clusters = [name for app in apps for name, _ in app.clusters]

    planted_rules: list[str] = []
    for name in plant:
        declarations, rules = PLANTS[name](apps[0])
        out.extend(declarations)
        planted_rules.extend(rules)
    out.append("")
    out.extend(planted_rules)
    for app, rules in zip(apps, essential):
        before, after = _filler_rules(app, filler, foreign_clusters, rng)
        out.append(rules[0])
        out.extend(before)
        out.extend(rules[1:])
        out.extend(after)
    out.append("deny any -> any")
    out.append("")
    out.extend(_CHECKS)
    return "\n".join(out) + "\n"


def _plant_port_forward(app: _App) -> tuple[list[str], list[str]]:
    """A NAT gateway that forwards ``tcp/2222`` from the internet to SSH (``tcp/22``)
    on the first web server, which listens only on its web port: exposure counts
    the port the forward delivers to, so ``private-web`` must name that server."""
    web = app.webs[0]
    return (
        ["# planted: an SSH port-forward to a web server", "gateway gw-planted {",
         "  address 192.0.2.22", "  address 100.64.0.22", f"  listen tcp/2222 -> {web} tcp/22", "}"],
        ["allow internet -> gw-planted tcp/2222", f"allow gw-planted -> {web} tcp/22"],
    )


#: Faults :func:`generate` can plant, by name: each gives (declarations, rules placed
#: first in the policy).
PLANTS = {"port-forward": _plant_port_forward}


def _declare_app(app: _App, zone_names: list[str]) -> None:
    """The declarations of one application, appended to ``app.lines``."""
    a = app.index
    lines = app.lines
    lines.append(f"# application {a}")
    lines.append(f"lb {app.lb} {{")
    lines.append("  managed")
    lines.append(f"  address {_public_address(a)}")
    lines.append(f"  address {app.address()}")
    lines.append(f"  listen {_FRONT_PORT} -> {', '.join(app.webs)} {_WEB_PORT}")
    lines.append("}")
    zone_count = len(zone_names)
    for i, web in enumerate(app.webs):
        lines.append(f"web {web} zone {zone_names[i % zone_count]} address {app.address()} listen {_WEB_PORT}")
    for i, svc in enumerate(app.services):
        lines.append(f"service {svc} zone {zone_names[i % zone_count]} address {app.address()} listen {_SERVICE_PORT}")
    # A cache and a queue with the same index share a host, hence a zone.
    for i, cache in enumerate(app.caches):
        host = f" host data-{a}-{i}" if i < len(app.queues) else ""
        lines.append(f"service {cache} zone {zone_names[i % zone_count]}{host} address {app.address()} listen {_CACHE_PORT}")
    for i, queue in enumerate(app.queues):
        host = f" host data-{a}-{i}" if i < len(app.caches) else ""
        lines.append(f"service {queue} zone {zone_names[i % zone_count]}{host} address {app.address()} listen {_QUEUE_PORT}")
    for c, (name, members) in enumerate(app.clusters):
        lines.append(f"cluster {name} {{")
        lines.append("  failover auto")
        for m, member in enumerate(members):
            role = "primary" if m == 0 else ("replica" if m == 1 else f"replica of {members[1]}")
            zone = zone_names[(m + c) % zone_count]
            lines.append(f"  db {member} {{ zone {zone}  address {app.address()}  listen {_DB_PORT}  {role} }}")
        lines.append("}")


def _requirements(app: _App) -> list[str]:
    """Who needs what in one application."""
    out: list[str] = []
    webs = ", ".join(app.webs)
    for name, _ in app.clusters:
        out.append(f"{webs} writes {name}")
        out.append(f"{webs} reads {name}")
    for pair in _pairs(app.services):
        out.append(f"{webs} uses {', '.join(pair)}")
    if app.services:
        services = ", ".join(app.services)
        for pair in _pairs(app.caches):
            out.append(f"{services} uses {', '.join(pair)}")
        if app.queues:
            out.append(f"{services} uses {', '.join(app.queues[:2])} optional")
    return out


def _essential_rules(app: _App) -> list[str]:
    """The rules of one application that every file has: first a deny that keeps
    the internet off the application's private block, then the allows every
    needed connection relies on."""
    webs = ", ".join(app.webs)
    out = [
        f"deny internet -> {app.block}",
        f"allow internet -> {app.lb} {_FRONT_PORT}",
        f"allow {app.lb} -> {webs} {_WEB_PORT}",
    ]
    if app.clusters:
        names = ", ".join(name for name, _ in app.clusters)
        out.append(f"allow {webs} -> {names} {_DB_PORT}")
        out.append(f"allow {names} -> {names} {_DB_PORT}")
    if app.services:
        out.append(f"allow {webs} -> {', '.join(app.services)} {_SERVICE_PORT}")
        services = ", ".join(app.services)
        if app.caches:
            out.append(f"allow {services} -> {', '.join(app.caches)} {_CACHE_PORT}")
        if app.queues:
            out.append(f"allow {services} -> {', '.join(app.queues[:2])} {_QUEUE_PORT}")
    return out


class _FillerCounts:
    """Spreads ``total`` rules over ``components`` components as evenly as
    integers allow (Bresenham): the counts handed out sum to exactly ``total``."""

    def __init__(self, total: int, components: int) -> None:
        self._total = total
        self._components = max(1, components)
        self._index = 0

    def next(self) -> int:
        """The number of filler rules for the next component."""
        i = self._index
        self._index += 1
        return (i + 1) * self._total // self._components - i * self._total // self._components


def _filler_rules(
    app: _App, counts: _FillerCounts, all_clusters: list[str], rng: random.Random
) -> tuple[list[str], list[str]]:
    """Rules that change nothing the service needs: (before the allows, after them).

    Before: denies that match no needed connection of any application. After:
    duplicates of earlier allows and denies they shadow. ``counts`` says how
    many rules each component gets; ``rng`` picks the variants.
    """
    assert app.block is not None
    block = str(app.block)
    own_cluster = app.clusters[0][0] if app.clusters else None
    own_names = {name for name, _ in app.clusters}
    has_foreign = len(own_names) < len(all_clusters)
    before: list[str] = []
    after: list[str] = []

    def foreign_cluster() -> str | None:
        """A random cluster of another application (redrawn while it is our own)."""
        if not has_foreign:
            return None
        while True:
            name = all_clusters[rng.randrange(len(all_clusters))]
            if name not in own_names:
                return name

    def variant(name: str, kind: str, which: int) -> tuple[bool, str]:
        """Variant ``which`` (0-4) of a filler rule: (goes before the allows, rule)."""
        if which == 0:
            # The internet needs the load balancer on tcp/443, nothing else.
            return True, (f"deny internet -> {name}" if kind != "lb" else f"deny internet -> {name} tcp/80")
        if which == 1:
            return True, f"deny any -> {name} tcp/22"
        if which == 2:
            return True, f"deny {block} -> {name} tcp/3306"
        shadowed = which == 3
        if kind == "web":
            if shadowed:
                return False, f"allow {app.lb} -> {name} {_WEB_PORT}"
            foreign = foreign_cluster()
            if foreign is not None:
                return True, f"deny {name} -> {foreign} {_DB_PORT}"
            if own_cluster is not None:
                return False, f"deny {name} -> {own_cluster} {_DB_PORT}"
            return True, f"deny {name} -> any udp/53"
        if kind == "service":
            if shadowed:
                return False, f"allow {app.webs[0]} -> {name} {_SERVICE_PORT}"
            return True, f"deny {name} -> 10.0.0.0/8 tcp/8000-8099"
        if kind == "data":
            if shadowed:
                return False, f"deny 10.0.0.0/8 -> {name} {_CACHE_PORT}"
            return True, f"deny {name} -> any"
        if kind == "db":
            if shadowed:
                return False, f"allow {name} -> {name} {_DB_PORT}"
            return True, f"deny internet -> {name} {_DB_PORT}"
        if shadowed:  # the load balancer
            return False, f"allow internet -> {name} 443"
        return True, f"deny {block} -> {name} udp/53"

    members = [(m, "db") for _, ms in app.clusters for m in ms]
    kinds = (
        [(app.lb, "lb")]
        + [(w, "web") for w in app.webs]
        + [(s, "service") for s in app.services]
        + [(c, "data") for c in app.caches + app.queues]
        + members
    )
    for name, kind in kinds:
        count = counts.next()
        if count == 0:
            continue
        for _ in range(count):
            first, rule = variant(name, kind, rng.randrange(5))
            (before if first else after).append(rule)
    return before, after


def main(argv: list[str] | None = None) -> int:
    """The command line: print a generated topology to standard output."""
    parser = argparse.ArgumentParser(
        prog="python benchmarks/generate.py",
        description="print a deterministic benchmark topology of N components",
    )
    parser.add_argument("n_components", metavar="N", type=int, help="number of components")
    parser.add_argument("--clusters", type=int, default=None, help="database clusters (default: one per application)")
    parser.add_argument("--rules-per-component", type=float, default=2.5, help="policy size per component (default 2.5)")
    parser.add_argument("--zones", type=int, default=3, help="zones (default 3)")
    parser.add_argument("--regions", type=int, default=2, help="regions (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--plant", action="append", default=[], metavar="FAULT",
                        help=f"plant a fault (repeatable): {', '.join(sorted(PLANTS))}")
    args = parser.parse_args(argv)
    try:
        text = generate(
            args.n_components,
            n_clusters=args.clusters,
            rules_per_component=args.rules_per_component,
            zones=args.zones,
            regions=args.regions,
            seed=args.seed,
            plant=tuple(args.plant),
        )
    except ValueError as exc:
        print(f"generate.py: error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
