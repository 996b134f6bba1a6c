"""The immutable topology model.

Every object carries the :class:`Span` of the text it came from, so checks cite
model objects and never compute a line or column themselves. The model is built
by :mod:`checker.build` from the syntax tree after every name has been resolved:
a :class:`Topology` only ever holds names that exist.
"""

from __future__ import annotations

from array import array

from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from functools import cached_property
from typing import Mapping, NamedTuple

from .net import ANY_PORT, IPAddress, IPNetwork, PortSet, is_public


class Span(NamedTuple):
    """A region of a source file; lines and columns are 1-based, as Lark gives them.

    A named tuple rather than a frozen dataclass: immutable, ordered and hashable
    the same way, and several times cheaper to build (a large file has hundreds of
    thousands of them).
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def start_of(path: str) -> "Span":
        return Span(path, 1, 1, 1, 1)

    def to_json(self) -> dict:
        return {"line": self.line, "column": self.column, "end_line": self.end_line, "end_column": self.end_column}


class Kind(str, Enum):
    INTERNET = "internet"
    DNS = "dns"
    LB = "lb"
    GATEWAY = "gateway"
    WEB = "web"
    SERVICE = "service"
    DB = "db"
    CLIENTS = "clients"  # a client group: where a population of clients sits (version 2)
    JOB = "job"  # work that must keep running though no client calls it (version 2)
    EXTERNAL = "external"  # a third-party endpoint on the internet (version 2)

    # Each member's traits, plain attributes set below (read hundreds of thousands of
    # times in a large file; a property costs a call and a tuple each time):
    #   forwards: only load balancers and gateways forward packets;
    #   has_requirements: web servers, services and jobs issue requests of their own;
    #   by_networks: kinds that stand for many addresses (every public one, or the
    #     networks written for them) rather than a machine's own: rules match them by
    #     those networks, and a connection from or to them is decided per address cell;
    #   never_fails: kinds outside every failure domain (LANGUAGE.md section 7).
    forwards: bool
    has_requirements: bool
    by_networks: bool
    never_fails: bool


for _kind in Kind:
    _kind.forwards = _kind in (Kind.LB, Kind.GATEWAY)
    _kind.has_requirements = _kind in (Kind.WEB, Kind.SERVICE, Kind.JOB)
    _kind.by_networks = _kind in (Kind.INTERNET, Kind.CLIENTS, Kind.EXTERNAL)
    _kind.never_fails = _kind in (Kind.INTERNET, Kind.CLIENTS, Kind.JOB, Kind.EXTERNAL)
del _kind


class Role(str, Enum):
    PRIMARY = "primary"
    REPLICA = "replica"


class Verb(str, Enum):
    READS = "reads"
    WRITES = "writes"
    USES = "uses"


class Failover(str, Enum):
    AUTO = "auto"
    MANUAL = "manual"


UNZONED = "(unzoned)"
UNREGIONED = "(unregioned)"


class FailureUnit(NamedTuple):
    """Something that can fail: a host, a zone or a region.

    ``label`` is the name used in output: a component's own name for its
    implicit host, ``host:H``, ``zone:Z`` and ``region:R``. A named tuple: units
    are hashed in every liveness test, and a tuple hashes in C.
    """

    kind: str  # "host" | "zone" | "region"
    name: str
    implicit: bool = False  # a component's own host

    @property
    def label(self) -> str:
        if self.kind == "host" and self.implicit:
            return self.name
        return f"{self.kind}:{self.name}"

    def __str__(self) -> str:
        return self.label


PRIMARY_OF = "primary"
REPLICAS_OF = "replicas"


@dataclass(frozen=True, slots=True)
class Listener:
    """``listen PORTS -> TARGET, ... [TARGET_PORTS] [need N]`` on a load balancer or gateway.

    ``targets`` are component or cluster names; ``selectors`` says, per target,
    whether it was written ``primary of C`` (:data:`PRIMARY_OF`), ``replicas of C``
    (:data:`REPLICAS_OF`) or plainly (None). ``need`` targets must serve for the
    listener to serve (LANGUAGE.md section 7.6); a plain cluster counts as each
    of its members, a role of a cluster as one target.
    """

    ports: PortSet
    targets: tuple[str, ...]
    target_ports: PortSet | None  # None: each target's own listen port
    span: Span
    selectors: tuple[str | None, ...] = ()
    need: int = 1

    def selector(self, index: int) -> str | None:
        return self.selectors[index] if self.selectors else None

    def describe_target(self, index: int) -> str:
        selector = self.selector(index)
        name = self.targets[index]
        return f"{selector} of {name}" if selector else name


@dataclass(frozen=True, slots=True)
class Component:
    kind: Kind
    name: str
    span: Span  # the whole declaration
    name_column: int  # where its name starts, on the declaration's first line (see name_span)
    zone: str | None = None
    host: str | None = None
    addresses: tuple[IPAddress, ...] = ()
    managed: bool = False
    listen: PortSet | None = None  # None: serves on any port
    listeners: tuple[Listener, ...] = ()
    answers: tuple[str, ...] = ()
    role: Role | None = None
    replica_of: str | None = None
    cluster: str | None = None
    networks: tuple[IPNetwork, ...] = ()  # clients and external: every address written, as networks
    clients: tuple[str, ...] = ()  # dns: the client groups that resolve it (empty: the internet)
    served_by: tuple[str, ...] = ()  # dns: its name servers
    egress: tuple[str, ...] = ()  # the gateways to external targets, in order
    availability: Fraction | None = None  # its host's availability, as a fraction (99.9 % -> 999/1000)

    @property
    def name_span(self) -> Span:
        """Where its name is written (made when asked: a span per component kept was
        8 MB at 100k components; the grammar puts a name on its kind's line)."""
        span, column = self.span, self.name_column
        return Span(span.path, span.line, column, span.line, column + len(self.name))

    @property
    def public_addresses(self) -> tuple[IPAddress, ...]:
        return tuple(a for a in self.addresses if is_public(a))

    @property
    def service_ports(self) -> PortSet:
        """The ports this component accepts connections on."""
        if self.listeners:
            out = PortSet()
            for listener in self.listeners:
                out = out | listener.ports
            return out
        return self.listen if self.listen is not None else ANY_PORT


@dataclass(frozen=True, slots=True)
class Cluster:
    """A primary and its replicas (``db`` or ``service`` members, all of one kind);
    ``implicit`` for one formed by a standalone primary. A ``quorum`` cluster is
    usable only while more than half of its members are live, and may have no roles
    at all (``primary`` None): a consensus group."""

    name: str
    span: Span
    members: tuple[str, ...]
    primary: str | None
    failover: Failover = Failover.MANUAL
    implicit: bool = False
    quorum: bool = False

    @property
    def majority(self) -> int:
        """How many members must be live for a quorum cluster to act."""
        return len(self.members) // 2 + 1

    @property
    def has_roles(self) -> bool:
        return self.primary is not None


@dataclass(frozen=True, slots=True)
class Zone:
    name: str
    region: str | None
    span: Span
    egress: tuple[str, ...] = ()  # the egress gateways of its components that name none
    availability: Fraction | None = None


@dataclass(frozen=True, slots=True)
class RequirementStatement:
    """What a ``SOURCES verb TARGET, ...`` line says of each of its sources: one object
    per line, shared by the :class:`Requirement` of every source it names."""

    verb: Verb
    targets: tuple[str, ...]
    optional: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Requirement:
    """One ``SOURCE verb TARGET, ...`` requirement of one source: the source and its
    line's :class:`RequirementStatement` (a large file has hundreds of thousands of
    requirements, most of them from lines naming many sources: two slots each rather
    than five is 10 MB at 100k components)."""

    source: str
    statement: RequirementStatement

    @staticmethod
    def of(source: str, verb: Verb, targets: tuple[str, ...], optional: bool, span: Span) -> "Requirement":
        return Requirement(source, RequirementStatement(verb, targets, optional, span))

    @property
    def verb(self) -> Verb:
        return self.statement.verb

    @property
    def targets(self) -> tuple[str, ...]:
        return self.statement.targets

    @property
    def optional(self) -> bool:
        return self.statement.optional

    @property
    def span(self) -> Span:
        return self.statement.span

    def describe(self) -> str:
        tail = " optional" if self.optional else ""
        return f"{self.source} {self.verb.value} {', '.join(self.targets)}{tail}"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One side of a rule: a component, a cluster, a CIDR, ``internet`` or ``any``.

    Endpoints are values, shared by the rules that name them (a large file cites
    the same names hundreds of thousands of times): where one is written is its
    rule's ``span``, and ``span`` here is None."""

    kind: str  # "component" | "cluster" | "network" | "internet" | "any"
    value: str | IPNetwork | None
    span: Span | None = None

    def __str__(self) -> str:
        return self.kind if self.value is None else str(self.value)


class RulePlaces:
    """Where a file's rules are: its path, and per rule (by its index) the line and
    column of its first and last character, in four int arrays. A rule keeps this
    table and its index rather than five fields of its own (at 100k components,
    245k rules: 11 MB less, the line numbers above 256 being an int object each)."""

    __slots__ = ("path", "lines", "columns", "end_lines", "end_columns")

    def __init__(self, path: str, size: int = 0) -> None:
        self.path = path
        self.lines = array("i", bytes(4 * size))
        self.columns = array("i", self.lines)
        self.end_lines = array("i", self.lines)
        self.end_columns = array("i", self.lines)

    def set(self, index: int, line: int, column: int, end_line: int, end_column: int) -> None:
        """Record rule ``index``'s place (the arrays grow to hold it)."""
        while len(self.lines) <= index:
            for table in (self.lines, self.columns, self.end_lines, self.end_columns):
                table.append(0)
        self.lines[index] = line
        self.columns[index] = column
        self.end_lines[index] = end_line
        self.end_columns[index] = end_column


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """One firewall rule. Its place in the file is kept in its file's
    :class:`RulePlaces`, under its index; :attr:`span` makes a :class:`Span` when
    asked. Two rules are equal when every part and place is."""

    action: str  # "allow" | "deny"
    sources: tuple[Endpoint, ...]
    destinations: tuple[Endpoint, ...]
    ports: PortSet
    places: RulePlaces
    index: int  # position in file order

    @staticmethod
    def at(action: str, sources: tuple[Endpoint, ...], destinations: tuple[Endpoint, ...], ports: PortSet,
           span: Span, index: int, places: RulePlaces) -> "Rule":
        """The rule with this place (recorded in its file's ``places``)."""
        places.set(index, span.line, span.column, span.end_line, span.end_column)
        return Rule(action, sources, destinations, ports, places, index)

    @property
    def path(self) -> str:
        return self.places.path

    @property
    def line(self) -> int:
        return self.places.lines[self.index]

    @property
    def column(self) -> int:
        return self.places.columns[self.index]

    @property
    def end_line(self) -> int:
        return self.places.end_lines[self.index]

    @property
    def end_column(self) -> int:
        return self.places.end_columns[self.index]

    @property
    def span(self) -> Span:
        places, i = self.places, self.index
        return Span(places.path, places.lines[i], places.columns[i], places.end_lines[i], places.end_columns[i])

    def _key(self) -> tuple:
        return (self.action, self.sources, self.destinations, self.ports, self.index, self.span)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Rule:
            return NotImplemented
        return self is other or self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        # equal rules have equal positions: the hash need not read every endpoint (the
        # generated one did, and the near-miss analysis files a large file's rules in sets)
        return hash((self.index, self.line, self.column))

    def describe(self) -> str:
        src = ", ".join(map(str, self.sources))
        dst = ", ".join(map(str, self.destinations))
        return f"{self.action} {src} -> {dst} {self.ports}"


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """A ``check ID key=value`` line, or an implicit one from the default set."""

    id: str
    params: tuple[tuple[str, str], ...]
    span: Span | None  # None when the check runs by default

    def param(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.params:
            if k == key:
                return v
        return default


@dataclass(frozen=True)
class Topology:
    """A resolved topology file. Mappings keep declaration order."""

    path: str
    title: str | None
    zones: Mapping[str, Zone]
    components: Mapping[str, Component]
    clusters: Mapping[str, Cluster]
    requirements: tuple[Requirement, ...]
    rules: tuple[Rule, ...]
    checks: tuple[CheckRequest, ...]
    has_policy: bool
    host_spans: Mapping[str, Span] = field(default_factory=dict)
    region_spans: Mapping[str, Span] = field(default_factory=dict)
    region_availability: Mapping[str, Fraction] = field(default_factory=dict)

    # -- failure domains -------------------------------------------------

    def zone_of(self, name: str) -> str:
        """The zone a component runs in: its own, else its host's, else ``(unzoned)``."""
        comp = self.components[name]
        if comp.zone is not None:
            return comp.zone
        if comp.host is not None:
            zone = self._host_zones.get(comp.host)
            if zone is not None:
                return zone
        return UNZONED

    def region_of_zone(self, zone: str) -> str:
        z = self.zones.get(zone)
        return z.region if z is not None and z.region is not None else UNREGIONED

    @cached_property
    def _host_zones(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for comp in self.components.values():
            if comp.host is not None and comp.zone is not None:
                out.setdefault(comp.host, comp.zone)
        return out

    def host_unit(self, name: str) -> FailureUnit:
        comp = self.components[name]
        if comp.host is not None:
            return FailureUnit("host", comp.host)
        return FailureUnit("host", name, implicit=True)

    def placement(self, name: str) -> tuple[FailureUnit | None, FailureUnit | None, FailureUnit | None]:
        """(host, zone, region) a component fails with, None where it does not (see
        :meth:`_placement`; computed once per component)."""
        hit = self._placements.get(name)
        if hit is None:
            hit = self._placements[name] = self._placement(name)
        return hit

    @cached_property
    def _placements(self) -> dict[str, tuple[FailureUnit | None, FailureUnit | None, FailureUnit | None]]:
        return {}

    def _placement(self, name: str) -> tuple[FailureUnit | None, FailureUnit | None, FailureUnit | None]:
        """(host, zone, region) a component fails with, None where it does not.

        Client groups, jobs, external targets, the internet and a ``dns`` with
        ``served-by`` never fail (LANGUAGE.md section 7); a ``managed`` component
        never fails as a host, and fails with its zone and region only when it
        names a zone (section 7.7)."""
        comp = self.components[name]
        if comp.kind.never_fails or (comp.kind is Kind.DNS and comp.served_by):
            return (None, None, None)
        if comp.managed:
            if comp.zone is None:
                return (None, None, None)
            return (None, *self._zone_units(comp.zone))
        return (self.host_unit(name), *self._zone_units(self.zone_of(name)))

    def _zone_units(self, zone: str) -> tuple[FailureUnit, FailureUnit]:
        """(zone unit, region unit) of a zone, one pair of objects per zone (every
        component's placement holds them: at 100k components, 13 MB as copies)."""
        hit = self._zone_unit_pairs.get(zone)
        if hit is None:
            hit = self._zone_unit_pairs[zone] = (FailureUnit("zone", zone),
                                                 FailureUnit("region", self.region_of_zone(zone)))
        return hit

    @cached_property
    def _zone_unit_pairs(self) -> dict[str, tuple[FailureUnit, FailureUnit]]:
        return {}

    def units_of(self, name: str) -> tuple[FailureUnit, ...]:
        """Every unit whose failure fails this component (none for what never fails)."""
        placement = self.placement(name)
        if None not in placement:  # the placement itself (most components: no second table)
            return placement  # type: ignore[return-value]
        hit = self._units.get(name)
        if hit is None:
            hit = self._units[name] = tuple(u for u in placement if u is not None)
        return hit

    @cached_property
    def _units(self) -> dict[str, tuple[FailureUnit, ...]]:
        return {}

    def _units_at(self, level: int) -> tuple[FailureUnit, ...]:
        seen: dict[FailureUnit, None] = {}
        for name in self.components:
            unit = self.placement(name)[level]
            if unit is not None:
                seen.setdefault(unit, None)
        return tuple(seen)

    @cached_property
    def host_units(self) -> tuple[FailureUnit, ...]:
        """Every host that can fail, in declaration order."""
        return self._units_at(0)

    @cached_property
    def zone_units(self) -> tuple[FailureUnit, ...]:
        return self._units_at(1)

    @cached_property
    def region_units(self) -> tuple[FailureUnit, ...]:
        return self._units_at(2)

    def unit_span(self, unit: FailureUnit) -> Span | None:
        """Where a failure unit is declared (a component, a host's first use, a zone)."""
        if unit.kind == "host":
            if unit.implicit:
                return self.components[unit.name].name_span
            return self.host_spans.get(unit.name)
        if unit.kind == "zone":
            zone = self.zones.get(unit.name)
            return zone.span if zone else None
        return self.region_spans.get(unit.name)

    # -- structure ---------------------------------------------------------

    def requirements_of(self, name: str) -> tuple[Requirement, ...]:
        return self._requirements_by_source.get(name, ())

    @cached_property
    def _requirements_by_source(self) -> dict[str, tuple[Requirement, ...]]:
        out: dict[str, list[Requirement]] = {}
        for req in self.requirements:
            out.setdefault(req.source, []).append(req)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def services(self) -> tuple[str, ...]:
        """Every dns name and every job is a service, in declaration order (LANGUAGE.md
        sections 4 and 7.3). A file with neither has one implicit service, the public
        one: up when some component with a public address serves clients."""
        names = tuple(c.name for c in self.components.values() if c.kind in (Kind.DNS, Kind.JOB))
        return names or (PUBLIC_SERVICE,)

    @cached_property
    def has_public_service(self) -> bool:
        return PUBLIC_SERVICE in self.services

    def egress_of(self, name: str) -> tuple[str, ...]:
        """The egress gateways of a component: its own, else its zone's (section 7.8)."""
        comp = self.components[name]
        if comp.egress:
            return comp.egress
        zone = self.zones.get(self.zone_of(name))
        return zone.egress if zone is not None else ()

    @cached_property
    def name_servers(self) -> frozenset[str]:
        """Every component some ``dns`` is ``served-by``."""
        return frozenset(ns for c in self.components.values() for ns in c.served_by)

    def cluster_of(self, name: str) -> Cluster | None:
        """The cluster a component is a member of (unnamed clusters of a standalone
        primary included), or None."""
        cluster = self._member_clusters.get(name)
        return self.clusters[cluster] if cluster is not None else None

    @cached_property
    def cluster_members(self) -> frozenset[str]:
        """Every component that is a member of some cluster."""
        return frozenset(self._member_clusters)

    @cached_property
    def _member_clusters(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for cluster in self.clusters.values():
            for member in cluster.members:
                out.setdefault(member, cluster.name)
        return out

    def span_of(self, name: str) -> Span | None:
        """The declaration of a component or cluster by name."""
        if name in self.components:
            return self.components[name].name_span
        if name in self.clusters:
            return self.clusters[name].span
        return None


PUBLIC_SERVICE = "(public service)"
