"""Hypothesis strategies that produce topology *source text*.

The strategies here feed the property tests that compare the fast engines
(graph algorithms, Z3) with the plain evaluator of LANGUAGE.md section 4, and
the fuzz tests of the parser. They therefore aim at two things at once:

* **Breadth.** Every construct of the language shows up: managed and unmanaged
  DNS names, load balancers and gateways forwarding to pools, to each other and
  to databases, ordered alternatives, optional requirements, requirement
  cycles, named clusters with ``failover auto`` / ``manual`` and chains of
  ``replica of``, the unnamed cluster of a standalone primary, shared hosts,
  zones with and without regions, unzoned components, components without an
  address, an open network or an ordered allow/deny policy that sometimes
  blocks what the model needs. Version 2 constructs each appear in a large
  share of files (see :data:`V2_SHARE`): client groups and DNS names resolved
  by them, self-hosted DNS (name servers with ``served-by``, or the name's
  own address), jobs, ``primary of`` / ``replicas of`` forwards, clusters of
  services with and without ``quorum`` (consensus groups without roles too),
  ``need N``, managed components in a zone, external targets reached through
  egress gateways (on components and on zones), and IPv6 addresses. The concrete syntax varies too (attributes on
  the name's line, in a block, in a one-line block; ``;`` separators;
  comments; declaration order).
* **Small failure spaces.** The number of failure units (distinct hosts of
  non-managed components) never exceeds ``max_hosts``, so an oracle that
  enumerates every subset of units stays cheap.

Every generated file resolves without errors: names are unique, every zone a
component names is declared, every referenced name exists, the components of
one host share one zone, only ``web``, ``service`` and ``job`` components have
requirements, DNS answers are neither ``dns`` nor ``internet`` components and
listener targets are never ``dns`` names.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from hypothesis import strategies as st

__all__ = ["topologies", "redundant_topologies", "mutated", "CHECK_IDS", "KEYWORDS"]

T = TypeVar("T")
Draw = st.DrawFn

#: Every check id of the contract (LANGUAGE.md section 4).
CHECK_IDS: tuple[str, ...] = (
    "available",
    "no-spof",
    "zone-redundancy",
    "private-web",
    "private-service",
    "private-db",
    "write-to-primary",
)

#: Roughly how often (in percent of files) each version-2 construct is drawn.
V2_SHARE = {
    "clients": 45, "name-servers": 45, "dns-address": 30, "jobs": 45, "roles": 75, "service-cluster": 55,
    "quorum": 55, "need": 65, "external": 45, "ipv6": 20,
}

#: Words with a fixed meaning in the language; generated names never equal one.
KEYWORDS: frozenset[str] = frozenset(
    {
        "topology", "zone", "region", "host", "address", "managed", "listen", "answer",
        "primary", "replica", "of", "failover", "auto", "manual", "reads", "writes",
        "uses", "optional", "allow", "deny", "any", "internet", "check", "tcp", "udp",
        "dns", "lb", "gateway", "web", "service", "db", "cluster",
        "clients", "job", "external", "served-by", "egress", "availability", "quorum", "need", "replicas",
    }
)

# ---------------------------------------------------------------------------
# The intermediate model: plain records, rendered to text at the end.
# ---------------------------------------------------------------------------


@dataclass
class _Listener:
    """``listen PORT -> TARGET, ... [TARGET_PORT] [need N]`` of a load balancer or gateway;
    a target may be written ``primary of C`` or ``replicas of C``."""

    port: str
    targets: list[str]
    target_port: str | None
    need: int = 1


@dataclass
class _Component:
    """One component declaration (a cluster member included)."""

    kind: str
    name: str
    zone: str | None = None
    host: str | None = None
    addresses: list[str] = field(default_factory=list)
    managed: bool = False
    listen: str | None = None
    listeners: list[_Listener] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    role: str | None = None  # "primary", "replica" or "replica of NAME"
    clients: list[str] = field(default_factory=list)  # dns: client groups
    served_by: list[str] = field(default_factory=list)  # dns: name servers
    egress: list[str] = field(default_factory=list)

    def served_ports(self) -> list[str]:
        """The ports a client connects to, as written in the file (``any`` when open)."""
        if self.listeners:
            return [listener.port for listener in self.listeners]
        return [self.listen or "any"]


@dataclass
class _Cluster:
    """A named cluster: its failover policy (None: not written), quorum and members."""

    name: str
    failover: str | None
    members: list[_Component]
    quorum: bool = False

    @property
    def has_roles(self) -> bool:
        return any(m.role for m in self.members)


@dataclass
class _Requirement:
    sources: list[str]
    verb: str
    targets: list[str]
    optional: bool


@dataclass
class _Rule:
    action: str
    sources: list[str]
    destinations: list[str]
    port: str | None  # None: no port written


def _chance(draw: Draw, percent: int) -> bool:
    """True with roughly ``percent``% probability; shrinks towards False."""
    return draw(st.integers(0, 99)) >= 100 - percent


def _pick(draw: Draw, items: list[T]) -> T:
    return draw(st.sampled_from(items))


def _pick_some(draw: Draw, items: list[T], low: int, high: int) -> list[T]:
    """Between ``low`` and ``high`` distinct items, in a drawn order."""
    high = min(high, len(items))
    low = min(low, high)
    count = draw(st.integers(low, high))
    return list(draw(st.permutations(items)))[:count]


class _Addresses:
    """Hands out unique addresses: one private /16 per zone, two public /24s."""

    def __init__(self, zones: list[str]) -> None:
        self._zone_index = {z: i for i, z in enumerate(zones)}
        self._private_next: dict[int, int] = {}
        self._public_next = 0
        self._other_private_next = 0

    def private(self, zone: str | None) -> str:
        """A fresh RFC 1918 address in ``10.Z.0.0/16`` (Z: the zone's index, 9 unzoned)."""
        index = self._zone_index.get(zone, 9) if zone is not None else 9
        n = self._private_next.get(index, 0)
        self._private_next[index] = n + 1
        return f"10.{index}.{n // 200 + 1}.{n % 200 + 10}"

    def other_private(self) -> str:
        """A fresh private address outside 10/8 (172.16/12 or 192.168/16)."""
        n = self._other_private_next
        self._other_private_next += 1
        return f"172.16.0.{n + 10}" if n % 2 == 0 else f"192.168.1.{n + 10}"

    def public(self) -> str:
        """A fresh public address from the documentation ranges."""
        n = self._public_next
        self._public_next += 1
        return f"203.0.113.{n + 10}" if n % 3 != 2 else f"198.51.100.{n + 10}"

    def public6(self) -> str:
        """A fresh public IPv6 address (the documentation prefix)."""
        self._public_next += 1
        return f"2001:db8::{self._public_next + 10:x}"

    def private6(self) -> str:
        """A fresh private (unique local) IPv6 address."""
        self._other_private_next += 1
        return f"fd00::{self._other_private_next + 10:x}"


# ---------------------------------------------------------------------------
# Building the model.
# ---------------------------------------------------------------------------

_WEB_PORTS = ["tcp/8080", "tcp/8080", "tcp/80", "8080"]
_SERVICE_PORTS = ["tcp/9000", "tcp/9000", "tcp/6379", "udp/53", "9090"]
_DB_PORTS = ["tcp/5432", "tcp/5432", "tcp/3306"]
_FRONT_PORTS = ["tcp/443", "tcp/443", "tcp/80", "443", "tcp/8443"]


def _name_styles(draw: Draw) -> dict[str, Callable[[int], str]]:
    """Per-file spelling of generated names; names stay unique by their number."""
    web = _pick(draw, ["web{}", "web-{}", "app_{}", "www{}.internal"])
    svc = _pick(draw, ["svc{}", "api-{}", "cache{}", "worker_{}"])
    lb = _pick(draw, ["lb{}", "lb-{}", "front{}"])
    gw = _pick(draw, ["gw{}", "proxy-{}", "nat{}"])
    db = _pick(draw, ["db{}", "pg-{}", "mysql{}"])
    cl = _pick(draw, ["orders{}", "cluster-{}", "users_db{}"])
    host = _pick(draw, ["h{}", "vm-{}", "server{}"])
    dns = _pick(draw, ["www{}.example.com", "api{}.example.net", "shop-{}.example.org"])
    return {
        "web": web.format,
        "service": svc.format,
        "lb": lb.format,
        "gateway": gw.format,
        "db": db.format,
        "cluster": cl.format,
        "host": host.format,
        "dns": dns.format,
    }


@dataclass
class _Draft:
    """Everything drawn for one file, before rendering."""

    title: str | None
    zones: list[tuple[str, str | None]]
    internet: str | None
    components: list[_Component]  # standalone components, declaration order
    clusters: list[_Cluster]
    requirements: list[_Requirement]
    rules: list[_Rule]
    checks: list[str]
    zone_egress: dict[str, list[str]] = field(default_factory=dict)


def _draw_draft(draw: Draw, max_hosts: int, with_policy: bool | None, with_checks: bool) -> _Draft:
    names = _name_styles(draw)

    # -- failure domains ---------------------------------------------------
    region_names = _pick(draw, [["seoul", "busan"], ["us-east-1", "eu-west-2"], ["r1", "r2"]])
    regions = region_names[: draw(st.integers(0, 2))]
    zone_names = _pick(draw, [["az-a", "az-b", "az-c"], ["dc1", "dc2", "dc3"], ["zone_a", "zone_b", "zone_c"]])
    zone_count = draw(st.integers(0, 3))
    zones = [(z, _pick(draw, [None, *regions]) if regions else None) for z in zone_names[:zone_count]]
    zone_list = [z for z, _ in zones]
    addresses = _Addresses(zone_list)

    internet = _pick(draw, ["users", "everyone"]) if _chance(draw, 60) else None

    # -- how many of each ----------------------------------------------------
    n_dns = draw(st.integers(1, 2))
    n_lb = draw(st.integers(0, 2))
    n_gw = draw(st.integers(0, 1))
    n_web = draw(st.integers(1, 3))
    n_svc = draw(st.integers(0, 3))
    cluster_sizes = draw(st.lists(st.integers(2, 3), max_size=2))
    standalone_replicas = draw(st.integers(0, 2)) if _chance(draw, 40) else -1

    # Failure units: each non-managed component is put in one of n_slots host
    # slots, so at most n_slots hosts (<= max_hosts) can fail.
    n_slots = draw(st.integers(1, max(1, max_hosts)))
    slot_zones = [_pick(draw, [None, *zone_list]) if zone_list else None for _ in range(n_slots)]
    slot_members: dict[int, list[_Component]] = {}
    placed: list[_Component] = []

    def place(comp: _Component, managed_percent: int) -> None:
        comp.managed = _chance(draw, managed_percent) if managed_percent else False
        if comp.managed:
            comp.zone = _pick(draw, [None, *zone_list]) if zone_list else None
            return
        # Mostly round-robin, so files with many hosts are common; sometimes a
        # drawn slot, so hosts are shared in every pattern.
        slot = len(placed) % n_slots if _chance(draw, 60) else draw(st.integers(0, n_slots - 1))
        placed.append(comp)
        comp.zone = slot_zones[slot]
        slot_members.setdefault(slot, []).append(comp)

    def give_addresses(comp: _Component, private_percent: int, public_percent: int) -> None:
        if _chance(draw, private_percent):
            comp.addresses.append(addresses.other_private() if _chance(draw, 10) else addresses.private(comp.zone))
        if _chance(draw, public_percent):
            comp.addresses.append(addresses.public())
        if _chance(draw, 5) and comp.addresses:
            comp.addresses.reverse()  # public first sometimes: order carries no meaning

    dns_list = [_Component("dns", names["dns"](i + 1)) for i in range(n_dns)]
    for comp in dns_list:
        place(comp, 55)
    fronts = [_Component("lb", names["lb"](i + 1)) for i in range(n_lb)]
    fronts += [_Component("gateway", names["gateway"](i + 1)) for i in range(n_gw)]
    for comp in fronts:
        place(comp, 50 if comp.kind == "lb" else 30)
        give_addresses(comp, 90, 85)
    webs = [_Component("web", names["web"](i + 1)) for i in range(n_web)]
    for comp in webs:
        place(comp, 5)
        give_addresses(comp, 92, 15)
        comp.listen = _pick(draw, _WEB_PORTS) if _chance(draw, 90) else None
    services = [_Component("service", names["service"](i + 1)) for i in range(n_svc)]
    for comp in services:
        place(comp, 5)
        give_addresses(comp, 88, 8)
        comp.listen = _pick(draw, _SERVICE_PORTS) if _chance(draw, 85) else None

    v2 = {key: _chance(draw, share) for key, share in V2_SHARE.items()}
    if v2["ipv6"]:
        for comp in fronts:
            if _chance(draw, 60):
                comp.addresses.append(addresses.public6())
        for comp in webs + services:
            if _chance(draw, 40):
                comp.addresses.append(addresses.private6())

    # client groups (never fail; where clients sit) and who resolves each name
    groups: list[_Component] = []
    if v2["clients"]:
        for i in range(draw(st.integers(1, 2))):
            group = _Component("clients", f"{_pick(draw, ['office', 'vpn', 'partner'])}{i + 1}")
            choice = draw(st.integers(0, 3))
            group.addresses = [["192.168.10.0/24"], ["10.8.0.0/16"], ["198.51.100.128/25"],
                               ["192.168.20.0/24", "fd00:8::/32"]][choice]
            groups.append(group)
        for comp in dns_list:
            if _chance(draw, 60):
                comp.clients = [g.name for g in _pick_some(draw, groups, 1, 2)]
                if internet is not None and _chance(draw, 30):
                    comp.clients.append(internet)

    # self-hosted DNS: name servers (services on udp/53), or a name's own address
    name_servers: list[_Component] = []
    if v2["name-servers"]:
        for i in range(draw(st.integers(1, 2))):
            ns = _Component("service", f"ns{i + 1}")
            place(ns, 0)
            give_addresses(ns, 100, 70)
            ns.listen = "udp/53"
            name_servers.append(ns)
        for comp in dns_list:
            if not comp.managed and _chance(draw, 70):
                comp.served_by = [n.name for n in _pick_some(draw, name_servers, 1, 2)]
                comp.host = None
    if v2["dns-address"]:
        for comp in dns_list:
            if not comp.served_by and _chance(draw, 60):
                comp.addresses.append(addresses.public())

    # external targets and the NAT gateways that reach them
    externals: list[_Component] = []
    nats: list[_Component] = []
    if v2["external"]:
        for i in range(draw(st.integers(1, 2))):
            ext = _Component("external", f"{_pick(draw, ['payments', 'saas', 'objects'])}{i + 1}")
            ext.addresses = [_pick(draw, ["192.0.2.0/24", "192.0.2.128/25", "192.0.2.7"])]
            ext.listen = _pick(draw, ["tcp/443", "tcp/443", None])
            externals.append(ext)
        for i in range(draw(st.integers(1, 2))):
            nat = _Component("gateway", f"nat-{i + 1}")
            place(nat, 25)
            give_addresses(nat, 100, 90)
            nats.append(nat)

    db_counter = 0

    def new_db() -> _Component:
        nonlocal db_counter
        db_counter += 1
        return _Component("db", names["db"](db_counter))

    clusters: list[_Cluster] = []
    for index, size in enumerate(cluster_sizes):
        port = _pick(draw, _DB_PORTS) if _chance(draw, 90) else None
        members = [new_db() for _ in range(size)]
        primary = draw(st.integers(0, size - 1))
        for i, member in enumerate(members):
            member.listen = port
            if i == primary:
                member.role = "primary"
            elif i > 0 and _chance(draw, 35):
                member.role = f"replica of {members[draw(st.integers(0, i - 1))].name}"
            else:
                member.role = "replica"
            place(member, 5)
            give_addresses(member, 92, 8)
        failover = _pick(draw, ["auto", "manual", None])
        quorum = v2["quorum"] and _chance(draw, 40)
        clusters.append(_Cluster(names["cluster"](index + 1), failover, members, quorum))
    if v2["service-cluster"]:
        size = draw(st.integers(2, 3))
        consensus = _chance(draw, 45)
        members = [_Component("service", f"redis{i + 1}") for i in range(size)]
        primary = draw(st.integers(0, size - 1))
        port = _pick(draw, ["tcp/6379", "tcp/2379", None])
        for i, member in enumerate(members):
            member.listen = port
            if not consensus:
                member.role = "primary" if i == primary else "replica"
            place(member, 5)
            give_addresses(member, 92, 8)
        quorum = consensus or (v2["quorum"] and _chance(draw, 60))
        failover = None if consensus else _pick(draw, ["auto", "manual", None])
        clusters.append(_Cluster(f"sessions{len(clusters) + 1}", failover, members, quorum))
    standalone: list[_Component] = []
    if standalone_replicas >= 0:
        port = _pick(draw, _DB_PORTS)
        head = new_db()
        head.role = "primary"
        standalone.append(head)
        for _ in range(standalone_replicas):
            replica = new_db()
            replica.role = f"replica of {_pick(draw, standalone).name}"
            standalone.append(replica)
        for comp in standalone:
            comp.listen = port
            place(comp, 5)
            give_addresses(comp, 92, 10)

    # Hosts: a slot with several components is a named host; a slot with one
    # is sometimes named anyway, else the component is its own host.
    host_number = 0
    for slot in sorted(slot_members):
        members = slot_members[slot]
        if len(members) > 1 or _chance(draw, 30):
            host_number += 1
            for comp in members:
                comp.host = names["host"](host_number)

    all_dbs = [m for c in clusters for m in c.members] + standalone
    role_targets = [f"{sel} of {c.name}" for c in clusters if c.has_roles for sel in ("primary", "replicas")]

    # -- forwarding and DNS ---------------------------------------------------
    # Fronts forward only to fronts declared after them (no forwarding loops);
    # drawing them last-first lets a listener reuse its target's listener port.
    for index in reversed(range(len(fronts))):
        front = fronts[index]
        later_fronts = fronts[index + 1 :]
        for _ in range(draw(st.integers(1, 2))):
            pool: list[_Component] = list(webs)
            if services and _chance(draw, 25):
                pool += services
            if later_fronts and _chance(draw, 30):
                pool += later_fronts
            if all_dbs and _chance(draw, 12):
                pool += all_dbs
            targets = _pick_some(draw, pool, 1, 3)
            if all(t.listen is not None and not t.listeners for t in targets) and _chance(draw, 50):
                target_port = None  # each target's own listen port
            else:
                own = [p for t in targets for p in ([t.listen] if t.listen else [x.port for x in t.listeners])]
                target_port = _pick(draw, own) if own and _chance(draw, 80) else _pick(draw, _WEB_PORTS)
            used = {_normal_port(x.port) for x in front.listeners}
            free = [p for p in _FRONT_PORTS if _normal_port(p) not in used]
            names_ = [t.name for t in targets]
            if v2["roles"] and role_targets and _chance(draw, 65):
                names_ = list(dict.fromkeys(names_ + _pick_some(draw, role_targets, 1, 2)))
            need = 1
            if v2["need"] and len(names_) >= 2 and _chance(draw, 70):
                need = draw(st.integers(2, len(names_)))
            front.listeners.append(_Listener(_pick(draw, free), names_, target_port, need))
    answerable = fronts + webs
    if _chance(draw, 10):
        answerable = answerable + services + all_dbs
    for comp in dns_list:
        comp.answers = [t.name for t in _pick_some(draw, answerable, 1, 3)]

    # -- requirements -----------------------------------------------------------
    sources = webs + services
    by_name = {c.name: c for c in dns_list + fronts + webs + services + all_dbs + name_servers + nats + externals}
    cluster_names = [c.name for c in clusters]
    primaries = [m.name for m in all_dbs if m.role == "primary"]
    requirements: list[_Requirement] = []
    ext_names = [e.name for e in externals]
    if externals:
        for comp in sources:
            if _chance(draw, 45):
                requirements.append(_Requirement([comp.name], "uses", _pick_some(draw, ext_names, 1, 2),
                                                 _chance(draw, 15)))
        zone_egress: dict[str, list[str]] = {}
        for zone in zone_list:
            if _chance(draw, 50):
                zone_egress[zone] = [n.name for n in _pick_some(draw, nats, 1, 2)]
        for comp in sources:
            if _chance(draw, 35):
                comp.egress = [n.name for n in _pick_some(draw, nats, 1, 2)]
    else:
        zone_egress = {}
    jobs: list[_Component] = []
    if v2["jobs"]:
        for i in range(draw(st.integers(1, 2))):
            job = _Component("job", f"pipeline{i + 1}")
            jobs.append(job)
            pool_names = [c.name for c in webs + services] + cluster_names + ext_names
            for _ in range(draw(st.integers(1, 2))):
                verb = _pick(draw, ["uses", "uses", "reads", "writes"])
                requirements.append(_Requirement([job.name], verb, _pick_some(draw, pool_names, 1, 3),
                                                 _chance(draw, 15)))
    for _ in range(draw(st.integers(0, 2 * len(sources)))):
        verb = _pick(draw, ["reads", "writes", "uses", "uses"])
        chosen = _pick_some(draw, [s.name for s in sources], 1, 2)
        if verb == "reads":
            pool_names = cluster_names + [d.name for d in all_dbs]
            if ext_names and _chance(draw, 20):
                pool_names = pool_names + ext_names
        elif verb == "writes":
            pool_names = cluster_names + primaries
            if _chance(draw, 20):
                pool_names = pool_names + [d.name for d in all_dbs if d.name not in primaries]
        else:
            pool_names = [s.name for s in services + webs]
            if _chance(draw, 15):
                pool_names += [f.name for f in fronts] + [d.name for d in all_dbs]
        pool_names = [n for n in pool_names if n not in chosen]
        if not pool_names:
            continue
        targets = _pick_some(draw, pool_names, 1, 3)
        requirements.append(_Requirement(chosen, verb, targets, _chance(draw, 20)))
    if len(sources) >= 2 and _chance(draw, 25):
        a, b = _pick_some(draw, [s.name for s in sources], 2, 2)
        requirements.append(_Requirement([a], "uses", [b], False))
        requirements.append(_Requirement([b], "uses", [a], _chance(draw, 20)))

    # -- policy -------------------------------------------------------------------
    has_policy = with_policy if with_policy is not None else _chance(draw, 70)
    rules: list[_Rule] = []
    if has_policy:
        cluster_of = {m.name: c for c in clusters for m in c.members}
        rules = _draw_rules(draw, dns_list, fronts, requirements, by_name, clusters, cluster_of, groups, jobs,
                            zone_egress, internet)

    # -- checks ---------------------------------------------------------------------
    checks: list[str] = []
    if with_checks:
        for check in _pick_some(draw, list(CHECK_IDS), 0, len(CHECK_IDS)):
            if check in ("no-spof", "write-to-primary") and _chance(draw, 40):
                check += f" k={draw(st.integers(1, 3))}"
            elif check == "zone-redundancy" and _chance(draw, 40):
                check += f" level={_pick(draw, ['zone', 'region'])}"
            checks.append(check)

    title = _pick(draw, ['a "quoted" title', "web tier", "back\\slash", "replicated db"]) if _chance(draw, 50) else None
    return _Draft(
        title=title,
        zones=zones,
        internet=internet,
        components=groups + dns_list + fronts + webs + services + name_servers + nats + externals + jobs + standalone,
        clusters=clusters,
        requirements=requirements,
        rules=rules,
        checks=checks,
        zone_egress=zone_egress,
    )


def _normal_port(port: str) -> str:
    """``443`` and ``tcp/443`` are one port; listeners of one front never repeat one."""
    return port if "/" in port or port == "any" else f"tcp/{port}"


def _covering_cidrs(address: str) -> list[str]:
    """CIDRs of several sizes that contain ``address``."""
    addr = ipaddress.ip_address(address)
    prefixes = (8, 16, 24, 32) if str(address).startswith("10.") else (24, 32)
    return [str(ipaddress.ip_network(f"{addr}/{p}", strict=False)) for p in prefixes]


def _covering_ports(port: str) -> list[str | None]:
    """Rule ports that admit a connection on ``port`` (None: no port written)."""
    out: list[str | None] = [port, "any", None]
    if port == "any":
        return ["any", None]
    protocol, _, number = port.rpartition("/")
    protocol = protocol or "tcp"
    value = int(number)
    out.append(f"{protocol}/{value}")
    if protocol == "tcp":
        out.append(str(value))
        if 8000 <= value <= 8099:
            out.append("tcp/8000-8099")
        else:
            out.append(f"tcp/{max(0, value - 10)}-{value + 10}")
    return out


def _draw_rules(
    draw: Draw,
    dns_list: list[_Component],
    fronts: list[_Component],
    requirements: list[_Requirement],
    by_name: dict[str, _Component],
    clusters: list[_Cluster],
    cluster_of: dict[str, _Cluster],
    groups: list[_Component] = (),
    jobs: list[_Component] = (),
    zone_egress: dict[str, list[str]] | None = None,
    internet: str | None = None,
) -> list[_Rule]:
    """An ordered policy: allows for most needed connections, denies among them.

    A needed connection is (source endpoints, destination component or cluster,
    port). About one in seven gets no allow at all, and some get a deny placed
    before their allow, so policies that stop the service are common.
    """
    cluster_by_name = {c.name: c for c in clusters}
    group_names = {g.name for g in groups}
    job_names = {j.name for j in jobs}
    zone_egress = zone_egress or {}
    needed: list[tuple[list[str], str, str]] = []
    for dns in dns_list:
        who = [c if c != internet else "internet" for c in dns.clients] or ["internet"]
        for group in who:
            for ns in dns.served_by:
                needed.append(([group], ns, "udp/53"))
            if dns.addresses:
                needed.append(([group], dns.name, "udp/53"))
            for answer in dns.answers:
                for port in by_name[answer].served_ports():
                    needed.append(([group], answer, port))
    for front in fronts:
        for listener in front.listeners:
            for target in listener.targets:
                name = target.split(" of ")[-1]
                port = listener.target_port or (
                    cluster_by_name[name].members[0].listen if name in cluster_by_name else by_name[name].listen
                ) or "any"
                needed.append(([front.name], name, port))
    for req in requirements:
        if req.sources[0] in job_names:
            continue  # a job needs no connection
        for target in req.targets:
            if target in cluster_by_name:
                ports = [cluster_by_name[target].members[0].listen or "any"]
            else:
                ports = by_name[target].served_ports()
            for port in ports:
                needed.append((list(req.sources), target, port))
            if target in by_name and by_name[target].kind == "external":
                for source in req.sources:
                    comp = by_name[source]
                    for gateway in comp.egress or zone_egress.get(comp.zone or "", []):
                        needed.append(([source], gateway, ports[0]))
    for cluster in clusters:
        if _chance(draw, 50):
            needed.append(([cluster.name], cluster.name, cluster.members[0].listen or "any"))

    def destination_forms(target: str) -> list[str]:
        forms = [target, "any"]
        if target in cluster_of:
            forms.append(cluster_of[target].name)
        if target in cluster_by_name:
            forms.append(", ".join(m.name for m in cluster_by_name[target].members))
            for member in cluster_by_name[target].members:
                for address in member.addresses:
                    forms.extend(_covering_cidrs(address))
        elif by_name[target].kind == "external":
            forms.extend(["internet", *by_name[target].addresses])
        else:
            for address in by_name[target].addresses:
                forms.extend(_covering_cidrs(address))
        return forms

    def source_forms(sources: list[str]) -> list[str]:
        if sources == ["internet"]:
            return ["internet", "internet", "any", "0.0.0.0/0", "203.0.113.0/24"]
        if sources[0] in group_names:
            group = next(g for g in groups if g.name == sources[0])
            return [group.name, group.name, "any", *group.addresses]
        forms = [", ".join(sources), "any"]
        for source in sources:
            if source in cluster_by_name:
                continue
            for address in by_name[source].addresses:
                forms.extend(_covering_cidrs(address)[:2])
        return forms

    rules: list[_Rule] = []
    for sources, target, port in needed:
        if _chance(draw, 15):
            continue  # a connection the policy forgot
        src = _pick(draw, source_forms(sources))
        dst = _pick(draw, destination_forms(target))
        rule_port = _pick(draw, _covering_ports(port))
        if _chance(draw, 12):
            rules.append(_Rule("deny", [_pick(draw, source_forms(sources))], [dst], _pick(draw, _covering_ports(port))))
        rules.append(_Rule("allow", [src], [dst], rule_port))

    dns_names = {d.name for d in dns_list}
    endpoints = ["any", "internet", *(n for n in by_name if n not in dns_names), *cluster_by_name, *group_names,
                 "10.0.0.0/16", "10.1.0.0/16", "10.0.0.0/8", "203.0.113.0/24", "192.168.0.0/16", "198.51.100.0/24"]
    ports: list[str | None] = ["tcp/443", "tcp/8000-8099", "443", "any", "udp/53", "tcp/5432", "tcp/22", None]
    for _ in range(draw(st.integers(0, 3))):
        extra = _Rule(
            _pick(draw, ["deny", "deny", "allow"]),
            _pick_some(draw, endpoints, 1, 2),
            _pick_some(draw, endpoints, 1, 2),
            _pick(draw, ports),
        )
        rules.insert(draw(st.integers(0, len(rules))), extra)
    if _chance(draw, 20):
        rules.append(_Rule(_pick(draw, ["deny", "allow"]), ["any"], ["any"], None))
    if not rules:
        # A policy must contain a rule to count as one; deny something harmless.
        rules.append(_Rule("deny", ["internet"], ["10.0.0.0/8"], "tcp/22"))
    return rules


# ---------------------------------------------------------------------------
# Rendering.
# ---------------------------------------------------------------------------


def _attributes(comp: _Component) -> tuple[list[str], list[str]]:
    """(simple attributes, list-valued attributes) of a component, as text."""
    simple: list[str] = []
    if comp.managed:
        simple.append("managed")
    if comp.zone is not None:
        simple.append(f"zone {comp.zone}")
    if comp.host is not None:
        simple.append(f"host {comp.host}")
    simple.extend(f"address {a}" for a in comp.addresses)
    if comp.listen is not None:
        simple.append(f"listen {comp.listen}")
    if comp.role is not None:
        simple.append(comp.role)
    listed: list[str] = []
    for listener in comp.listeners:
        tail = f" {listener.target_port}" if listener.target_port else ""
        tail += f" need {listener.need}" if listener.need > 1 else ""
        listed.append(f"listen {listener.port} -> {', '.join(listener.targets)}{tail}")
    if comp.answers:
        listed.append(f"answer {', '.join(comp.answers)}")
    for word, names in (("clients", comp.clients), ("served-by", comp.served_by), ("egress", comp.egress)):
        if names:
            listed.append(f"{word} {', '.join(names)}")
    return simple, listed


def _render_component(draw: Draw, comp: _Component, indent: str) -> list[str]:
    """One declaration in a drawn style: inline, block, one-line block or mixed.

    List-valued attributes (``answer``, forwarding listeners) always end their
    line, so a list never runs into the next attribute.
    """
    simple, listed = _attributes(comp)
    simple = list(draw(st.permutations(simple)))
    head = f"{indent}{comp.kind} {comp.name}"
    style = draw(st.integers(0, 3))
    if style == 0 and len(listed) <= 1:  # everything on the name's line
        return [" ".join([head, *simple, *listed])]
    if style == 1 and len(listed) <= 1 and (simple or listed):  # one-line block
        return [f"{head} {{ {'  '.join(simple + listed)} }}"]
    split = draw(st.integers(0, len(simple))) if style == 3 else 0
    first = " ".join([head, *simple[:split]])
    body = simple[split:] + listed
    if not body:
        return [first]
    return [f"{first} {{", *(f"{indent}  {line}" for line in body), f"{indent}}}"]


def _render_cluster(draw: Draw, cluster: _Cluster) -> list[str]:
    lines = [f"cluster {cluster.name} {{"]
    if cluster.failover is not None:
        lines.append(f"  failover {cluster.failover}")
    if cluster.quorum:
        lines.insert(1 if _chance(draw, 50) else len(lines), "  quorum")
    for member in cluster.members:
        lines.extend(_render_component(draw, member, "  "))
    lines.append("}")
    return lines


def _render_rule(rule: _Rule) -> str:
    tail = f" {rule.port}" if rule.port is not None else ""
    return f"{rule.action} {', '.join(rule.sources)} -> {', '.join(rule.destinations)}{tail}"


def _render(draw: Draw, draft: _Draft) -> str:
    """The file text: declarations (sometimes shuffled), requirements, rules, checks."""
    blocks: list[list[str]] = []
    for zone, region in draft.zones:
        clauses = [f"region {region}"] if region else []
        if draft.zone_egress.get(zone):
            clauses.append(f"egress {', '.join(draft.zone_egress[zone])}")
        clauses = list(draw(st.permutations(clauses)))
        blocks.append([" ".join([f"zone {zone}", *clauses])])
    if draft.internet is not None:
        blocks.append([f"internet {draft.internet}"])
    for comp in draft.components:
        blocks.append(_render_component(draw, comp, ""))
    for cluster in draft.clusters:
        blocks.append(_render_cluster(draw, cluster))
    if _chance(draw, 20):
        blocks = list(draw(st.permutations(blocks)))

    tail: list[list[str]] = []
    for req in draft.requirements:
        opt = " optional" if req.optional else ""
        tail.append([f"{', '.join(req.sources)} {req.verb} {', '.join(req.targets)}{opt}"])
    for rule in draft.rules:
        tail.append([_render_rule(rule)])
    for check in draft.checks:
        tail.append([f"check {check}"])

    lines: list[str] = []
    if draft.title is not None:
        escaped = draft.title.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'topology "{escaped}"')
    if _chance(draw, 30):
        lines.append("# generated by tests/strategies.py")
    for block in blocks + tail:
        if len(block) == 1 and lines and _chance(draw, 10) and not lines[-1].rstrip().endswith(("{", "}")) \
                and "#" not in lines[-1]:
            lines[-1] = f"{lines[-1]}; {block[0]}"  # two statements on one line
            continue
        block = list(block)
        if _chance(draw, 8):
            block[0] = f"{block[0]}  # note"
        if _chance(draw, 8):
            lines.append("")
        lines.extend(block)
    return "\n".join(lines) + "\n"


@st.composite
def _topology_text(draw: Draw, max_hosts: int, with_policy: bool | None, with_checks: bool) -> str:
    return _render(draw, _draw_draft(draw, max_hosts, with_policy, with_checks))


def topologies(max_hosts: int = 8, with_policy: bool | None = None, with_checks: bool = False) -> st.SearchStrategy[str]:
    """Random layered topologies, as source text that resolves without errors.

    Parameters
    ----------
    max_hosts:
        Upper bound on the failure units that are hosts: the distinct hosts
        (explicit ``host H`` or a component's implicit own host) of non-managed,
        non-``internet`` components. Zones (at most 3) and regions (at most 2)
        come on top. Keep it small when an oracle enumerates every subset.
    with_policy:
        ``True``: always an ordered allow/deny policy; ``False``: never (an
        open network); ``None``: either, drawn.
    with_checks:
        ``True``: a drawn subset of ``check`` lines (possibly empty, which runs
        the default set), with ``k=`` and ``level=`` parameters sometimes.
        ``False``: no ``check`` line.

    The shape is DNS -> load balancers / gateways -> webs -> services and
    databases: 1-2 DNS names, 0-2 load balancers, 0-1 gateway, 1-3 webs, 0-3
    services, 0-2 named clusters of 2-3 members and sometimes a standalone
    primary with up to 2 replicas. Each file's requirements, forwarding and
    policy are drawn over those (see the module docstring for what varies).
    """
    if max_hosts < 1:
        raise ValueError("max_hosts must be at least 1")
    return _topology_text(max_hosts, with_policy, with_checks)


@st.composite
def _redundant_text(draw: Draw, max_hosts: int) -> str:
    """See :func:`redundant_topologies`."""
    hosts = [f"h{i}" for i in range(1, draw(st.integers(min(3, max_hosts), max_hosts)) + 1)]
    lines = ["internet users"]

    def host() -> str:
        return f" host {_pick(draw, hosts)}"

    n_svc = draw(st.integers(0, 3))
    services = [f"svc{i}" for i in range(1, n_svc + 1)]
    for name in services:
        lines.append(f"service {name}{host()} address 10.0.3.{len(lines)} listen tcp/9000")
    store = None
    if _chance(draw, 70):
        size = draw(st.integers(1, 3)) if _chance(draw, 30) else 2
        failover = _pick(draw, ["auto", "auto", "auto", "manual"])
        lines.append("cluster orders {")
        lines.append(f"  failover {failover}")
        for i in range(size):
            role = "primary" if i == 0 else "replica"
            lines.append(f"  db db{i + 1}{host()} address 10.0.4.{i + 10} listen tcp/5432 {role}")
        lines.append("}")
        store = "orders"
    n_web = draw(st.integers(2, 5))
    webs = [f"web{i}" for i in range(1, n_web + 1)]
    for name in webs:
        lines.append(f"web {name}{host()} address 10.0.1.{len(lines)} listen tcp/8080")
    for name in webs:
        if services and _chance(draw, 75):
            targets = _pick_some(draw, services, 1, 2)
            optional = " optional" if _chance(draw, 15) else ""
            lines.append(f"{name} uses {', '.join(targets)}{optional}")
        if store is not None and _chance(draw, 60):
            lines.append(f"{name} {_pick(draw, ['writes', 'reads'])} {store}")
    for name in services:
        if len(services) > 1 and _chance(draw, 25):
            other = _pick(draw, [s for s in services if s != name])
            lines.append(f"{name} uses {other}")
    n_lb = draw(st.integers(1, 3)) if _chance(draw, 30) else 2
    lbs = [f"lb{i}" for i in range(1, n_lb + 1)]
    for i, name in enumerate(lbs):
        where = " managed" if _chance(draw, 40) else host()
        pool = _pick_some(draw, webs, 1 if _chance(draw, 20) else 2, 3)
        lines.append(f"lb {name}{where} address 203.0.113.{i + 10} listen tcp/443 -> {', '.join(pool)} tcp/8080")
    for i in range(draw(st.integers(1, 2))):
        answers = _pick_some(draw, lbs, 1 if _chance(draw, 20) else 2, 2)
        lines.append(f"dns www{i}.example.com {{ managed; answer {', '.join(answers)} }}")
    return "\n".join(lines) + "\n"


def redundant_topologies(max_hosts: int = 6) -> st.SearchStrategy[str]:
    """Open-network topologies built for redundancy, where a smallest stopping set of
    two hosts is common (:func:`topologies` nearly always has a single point): one or
    two managed DNS names answering one or two load balancers, each over a pool of
    webs that use services (ordered alternatives, optional ones) and write or read a
    cluster (``failover auto`` or ``manual``), every non-managed component on one of
    2 to ``max_hosts`` shared hosts."""
    return _redundant_text(max_hosts)


# ---------------------------------------------------------------------------
# Fuzzing.
# ---------------------------------------------------------------------------

_NOISE_TOKENS: tuple[str, ...] = (
    "{", "}", "->", ",", ";", "#", '"', '"unterminated', "\\", "/", "-", ".",
    "web", "db", "cluster", "zone", "host", "listen", "answer", "allow", "deny", "check", "managed",
    "primary", "replica of", "failover sideways", "reads", "writes", "uses", "optional", "internet", "any",
    "tcp/443", "udp/53", "tcp/8000-8099", "tcp/99999", "tcp/9-1", "sctp/1", "443",
    "10.0.0.0/16", "10.0.0.1/16", "300.1.2.3", "203.0.113.7", "::1", "fe80::1",
    "web-", "x.", "1abc", "no_such_name", "\t", "\n", "\r\n", "\u00e9", "\u00a0", "\x00", "k=", "level=",
)


@st.composite
def _mutations(draw: Draw, text: str) -> str:
    edits = draw(st.integers(1, 4))
    for _ in range(edits):
        lines = text.split("\n")
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "truncate", "replace"]))
        if kind == "delete" and len(lines) > 1:
            del lines[draw(st.integers(0, len(lines) - 1))]
            text = "\n".join(lines)
        elif kind == "duplicate" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(draw(st.integers(0, len(lines))), lines[i])
            text = "\n".join(lines)
        elif kind == "swap" and len(lines) > 1:
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif kind == "insert":
            token = draw(st.sampled_from(_NOISE_TOKENS) | st.text(min_size=1, max_size=3))
            at = draw(st.integers(0, len(text)))
            pad = draw(st.sampled_from(["", " "]))
            text = f"{text[:at]}{pad}{token}{pad}{text[at:]}"
        elif kind == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif kind == "replace" and text:
            at = draw(st.integers(0, len(text) - 1))
            text = f"{text[:at]}{draw(st.characters())}{text[at + 1:]}"
    return text


def mutated(text: str) -> st.SearchStrategy[str]:
    """Random corruptions of ``text`` for fuzzing the parser.

    Applies 1-4 edits in sequence, each one of: delete a line, duplicate a line
    (to a drawn position), swap two lines, insert a token (a keyword, a piece
    of punctuation, a malformed address or port, an odd character or random
    text), truncate the text, replace one character. The result may or may not
    still be a valid file; a parser must report errors for it, never crash.

    Combine with :func:`topologies` through ``flatmap``::

        topologies().flatmap(mutated)
    """
    return _mutations(text)
