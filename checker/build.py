"""Parsed statements to resolved model, reporting every naming and consistency error.

Errors are results with ids ``undefined-name`` (with "did you mean"),
``duplicate-name``, ``invalid-attribute`` (an attribute that does not fit its
component, or declarations that contradict each other) and ``syntax`` (a
malformed address or port). A file with errors gets no model; every error in it
is reported, in source order.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Mapping

import ipaddress
import re

from lark import Token

from .model import (
    PRIMARY_OF,
    CheckRequest,
    Cluster,
    Component,
    Endpoint,
    Failover,
    Kind,
    Listener,
    Requirement,
    RequirementStatement,
    Role,
    Rule,
    RulePlaces,
    Span,
    Topology,
    Verb,
    Zone,
)
from .fastparse import Record
from .limits import LIMIT_ID, MAX_NUMBER_DIGITS, number_too_long
from .net import ANY_PORT, PortSet, is_private, parse_address, parse_port
from .parser import token_span
from .results import Result, Severity, Status

_PLACED = frozenset({"zone", "host", "managed", "availability"})
# Which attributes each kind accepts (cluster attributes are checked separately).
_ALLOWED: dict[Kind, frozenset[str]] = {
    Kind.INTERNET: frozenset(),
    Kind.DNS: _PLACED | {"answer", "address", "clients", "served-by"},
    Kind.LB: _PLACED | {"address", "listen"},
    Kind.GATEWAY: _PLACED | {"address", "listen"},
    Kind.WEB: _PLACED | {"address", "listen", "egress"},
    Kind.SERVICE: _PLACED | {"address", "listen", "egress", "role"},
    Kind.DB: _PLACED | {"address", "listen", "role"},
    Kind.CLIENTS: frozenset({"address"}),
    Kind.JOB: frozenset(),
    Kind.EXTERNAL: frozenset({"address", "listen"}),
}
_SINGLE_VALUED = frozenset({"zone", "host", "managed", "role", "answer", "clients", "served-by", "egress",
                            "availability", "quorum"})
_MEMBER_KINDS = (Kind.DB, Kind.SERVICE)
# What may be the target of a requirement, an answer, a listener, a name server.
_SERVERS = frozenset({Kind.LB, Kind.GATEWAY, Kind.WEB, Kind.SERVICE, Kind.DB})

# An IPv4 address written plainly (no leading zeros); anything else goes to
# :func:`checker.net.parse_address`, which also words the errors.
_IPV4 = re.compile(r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\."
                   r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])")
_IPv4Address = ipaddress.IPv4Address


def _address(text: str):
    """``parse_address(text)``, with plain IPv4 addresses built from their integer."""
    match = _IPV4.fullmatch(text)
    if match is not None:
        a, b, c, d = match.groups()
        return _IPv4Address((int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d))
    return parse_address(text)


def parse_percentage(text: str) -> Fraction | str:
    """A percentage strictly between 0 and 100 (``99.95``) as an exact fraction of one
    (``Fraction(1999, 2000)``), or the reason it is not one."""
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return f"'{text}' is not a number"
    if not 0 < value < 100:
        return f"{text} is not a percentage strictly between 0 and 100"
    return value / 100


@dataclass
class _RawComponent:
    kind: Kind
    name: str
    span: Span
    name_span: Span
    statement: object  # its statement record (see checker.parser._Records), frozen or not
    cluster: str | None = None
    fields: dict = field(default_factory=dict)

    @property
    def attributes(self) -> list:
        """The attribute records, thawed from the statement when read (a frozen record
        keeps no tokens, so declaring 100k components holds none)."""
        return self.statement[3]


# What the passes after the components read of a component's fields.
_LATER_FIELDS = ("replica_of_token", "listener_tokens")


@dataclass(frozen=True)
class BuildOutcome:
    topology: Topology | None
    errors: tuple[Result, ...]


def build(statements: list, path: str, check_params: Mapping[str, Mapping[str, object]]) -> BuildOutcome:
    """Resolve the parser's statement records into a :class:`Topology`.

    ``check_params`` maps every known check id to its parameter validators
    (``{"k": callable}``); a validator returns an error message or ``None``.
    """
    return _Builder(path, check_params).run(statements)


class _Builder:
    def __init__(self, path: str, check_params: Mapping[str, Mapping[str, object]]):
        self.path = path
        self.check_params = check_params
        self.errors: list[Result] = []
        self.title: str | None = None
        self.title_span: Span | None = None
        self.zones: dict[str, Zone] = {}
        self.zone_egress: dict[str, list[Token]] = {}
        self.region_spans: dict[str, Span] = {}
        self.region_availability: dict[str, Fraction] = {}
        self.region_declared: dict[str, Span] = {}
        self.host_spans: dict[str, Span] = {}
        self.raw: dict[str, _RawComponent] = {}
        self.cluster_attributes: dict[str, tuple[Span, tuple]] = {}  # name -> (span, its statement)
        self.cluster_members: dict[str, list[str]] = {}
        self.declared_at: dict[str, Span] = {}
        self.requirement_stmts: list[tuple] = []
        self.rule_stmts: list[tuple] = []
        self.check_stmts: list[tuple] = []
        self.ports: dict[str, PortSet | str] = {}  # text -> port set, or the error message
        self.networks: dict[str, object] = {}  # text -> network, or the error message
        self.endpoints: dict[tuple[str, str], Endpoint] = {}  # (token type, text) -> the shared endpoint
        self.sides: dict[tuple, tuple] = {}  # the sides of rules, shared when equal
        self.raw_sides: dict[tuple, tuple] = {}  # (type codes, *values) of a side's tokens -> the side
        self.attribute_plans: dict = {}  # a component statement's shape -> its _attribute_plan

    # -- reporting ----------------------------------------------------------

    def error(self, id_: str, message: str, where: Token | Span, hint: str | None = None) -> None:
        span = where if isinstance(where, Span) else self.span(where)
        self.errors.append(Result(id_, Status.REFUTED, Severity.ERROR, message, span, "resolver", hint=hint))

    def undefined(self, what: str, token: Token, candidates: Iterable[str], extra: str = "") -> None:
        name = str(token)
        close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else None
        self.error("undefined-name", f"undefined {what} '{name}'{extra}", token, hint)

    def span(self, token: Token) -> Span:
        return Span(self.path, token.line, token.column, token.end_line, token.end_column)

    def spans(self, first: Token, last: Token) -> Span:
        return token_span(first, last, self.path)

    def percentage(self, token: Token, what: str) -> Fraction | None:
        value = parse_percentage(str(token))
        if isinstance(value, str):
            self.error("invalid-attribute", f"{what}: {value}", token,
                       "write availability as a percentage, e.g. 'availability 99.95'")
            return None
        return value

    # -- pass 1: declarations ----------------------------------------------

    def run(self, statements: list) -> BuildOutcome:
        declare = {
            "topology": self._declare_topology,
            "zone": self._declare_zone,
            "region": self._declare_region,
            "component": self._declare_component,
            "cluster": self._declare_cluster,
            "requirement": self.requirement_stmts.append,
            "rule": self.rule_stmts.append,
            "check": self.check_stmts.append,
        }
        for stmt in statements:
            declare[stmt[0]](stmt)
        components = self._resolve_components()
        self._resolve_zone_egress(components)
        clusters = self._resolve_clusters(components)
        self._check_listener_roles(components, clusters)
        requirements = self._resolve_requirements(components, clusters)
        rules = self._resolve_rules(components, clusters)
        checks = self._resolve_checks()
        self.errors.sort(key=lambda r: (r.span.line, r.span.column) if r.span else (0, 0))
        if self.errors:
            return BuildOutcome(None, tuple(self.errors))
        topology = Topology(
            path=self.path,
            title=self.title,
            zones=dict(self.zones),
            components=components,
            clusters=clusters,
            requirements=tuple(requirements),
            rules=tuple(rules),
            checks=tuple(checks),
            has_policy=bool(self.rule_stmts),
            host_spans=dict(self.host_spans),
            region_spans=dict(self.region_spans),
            region_availability=dict(self.region_availability),
        )
        return BuildOutcome(topology, ())

    def _declare_topology(self, stmt: tuple) -> None:
        _, keyword, string = stmt
        if self.title_span is not None:
            self.error(
                "duplicate-name",
                f"'topology' is given twice (first at line {self.title_span.line})",
                self.spans(keyword, string),
                "keep one title",
            )
            return
        raw = str(string)[1:-1]
        self.title = raw.replace('\\"', '"').replace("\\\\", "\\")
        self.title_span = self.spans(keyword, string)

    def _declare_zone(self, stmt: tuple) -> None:
        _, _, name_tok, clauses = stmt
        name = str(name_tok)
        if name in self.zones:
            first = self.zones[name].span.line
            self.error("duplicate-name", f"zone '{name}' is declared twice (first at line {first})", name_tok,
                       f"declare a zone once, with every clause: 'zone {name} region R egress GW availability P'"
                       if clauses else None)
            return
        seen: dict[str, int] = {}
        region = availability = None
        for what, first, last, value in clauses:
            if what in seen:
                self.error("invalid-attribute",
                           f"'{what}' is given twice for zone '{name}' (first at line {seen[what]})",
                           self.spans(first, last))
                continue
            seen[what] = first.line
            if what == "region":
                region = str(value)
                if region not in self.region_spans:
                    self.region_spans[region] = self.span(value)
            elif what == "egress":
                self.zone_egress[name] = list(value)
            else:
                availability = self.percentage(value, f"zone '{name}' availability")
        self.zones[name] = Zone(name, region, self.span(name_tok), (), availability)

    def _declare_region(self, stmt: tuple) -> None:
        _, _, name_tok, number = stmt
        name = str(name_tok)
        if name in self.region_declared:
            first = self.region_declared[name].line
            self.error("duplicate-name", f"region '{name}' is declared twice (first at line {first})", name_tok)
            return
        self.region_declared[name] = self.span(name_tok)
        self.region_spans.setdefault(name, self.span(name_tok))
        if number is not None:
            value = self.percentage(number, f"region '{name}' availability")
            if value is not None:
                self.region_availability[name] = value

    def _claim_name(self, token: Token, what: str) -> Span | None:
        """The name's span when it is new; ``None`` (and an error) when it is taken."""
        name = str(token)
        if name in self.declared_at:
            first = self.declared_at[name].line
            self.error(
                "duplicate-name",
                f"{what} '{name}' is declared twice (first at line {first}); components and clusters share one namespace",
                token,
            )
            return None
        span = self.declared_at[name] = self.span(token)
        return span

    def _declare_component(self, stmt: tuple, cluster: str | None = None) -> None:
        if stmt.__class__ is Record and self._declare_known(stmt, cluster):
            return
        kind_tok, name_tok, last = stmt[1], stmt[2], stmt[4]
        kind = Kind(str(kind_tok))
        if cluster is not None and kind not in _MEMBER_KINDS:
            self.error(
                "invalid-attribute",
                f"cluster '{cluster}' holds db or service members; '{name_tok}' is a{_n(kind.value)} {kind.value}",
                kind_tok,
                "declare it outside the cluster",
            )
        name_span = self._claim_name(name_tok, kind.value)
        if name_span is None:
            return
        name = str(name_tok)
        self.raw[name] = _RawComponent(kind, name, self.spans(kind_tok, last), name_span, stmt, cluster)
        if cluster is not None:
            self.cluster_members[cluster].append(name)

    def _declare_known(self, stmt: Record, cluster: str | None) -> bool:
        """Declare a frozen component statement with nothing to report (a new name; a
        kind its cluster may hold), read without making its tokens; False: the general
        path declares it (and reports what is wrong)."""
        codes, values, starts, offsets = stmt.flat()  # ("component", kind, name, attributes, last)
        kind = _KINDS[values[offsets[1]]]
        at = offsets[2]
        name = values[at]
        if name in self.declared_at or (cluster is not None and kind not in _MEMBER_KINDS):
            return False
        last = offsets[4]
        (line, column), (name_line, name_column), (end_line, end_column) = \
            stmt.positions((starts[0], starts[at], starts[last]))
        name_span = self.declared_at[name] = Span(self.path, name_line, name_column, name_line,
                                                  name_column + len(name))
        span = Span(self.path, line, column, end_line, end_column + len(values[last]))
        self.raw[name] = _RawComponent(kind, name, span, name_span, stmt, cluster)
        if cluster is not None:
            self.cluster_members[cluster].append(name)
        return True

    def _declare_cluster(self, stmt: tuple) -> None:
        name_tok = stmt[2]
        name = str(name_tok)
        if self._claim_name(name_tok, "cluster") is None:
            name = f"{name}@{name_tok.line}"  # keep checking its members
        self.cluster_members[name] = []
        # a frozen record's members stay frozen until their pass (as other components do)
        for member in stmt.items(4) if isinstance(stmt, Record) else stmt[4]:
            self._declare_component(member, cluster=name)
        self.cluster_attributes[name] = (self.span(name_tok), stmt)  # attributes read in their pass

    # -- pass 2: components ----------------------------------------------------

    def _resolve_components(self) -> dict[str, Component]:
        host_zone: dict[str, tuple[str, Span, str]] = {}
        host_availability: dict[str, tuple[Fraction, str]] = {}
        out: dict[str, Component] = {}
        for raw in self.raw.values():
            fields = self._component_fields(raw)
            zone = fields.get("zone")
            host = fields.get("host")
            if zone is not None and host is not None:
                if host in host_zone and host_zone[host][0] != zone:
                    other_zone, _, other = host_zone[host]
                    self.error(
                        "invalid-attribute",
                        f"host '{host}' is in zone '{other_zone}' (by '{other}') and in zone '{zone}' (by '{raw.name}');"
                        " one machine sits in one zone",
                        fields["zone_span"],
                    )
                else:
                    host_zone.setdefault(host, (zone, fields["zone_span"], raw.name))
            availability = fields.get("availability")
            if availability is not None:
                self._check_availability_placement(raw, fields, host_availability)
            out[raw.name] = Component(
                kind=raw.kind,
                name=raw.name,
                span=raw.span,
                name_column=raw.name_span.column,
                zone=zone,
                host=host,
                addresses=tuple(fields.get("addresses", ())),
                managed=fields.get("managed", False),
                listen=fields.get("listen"),
                listeners=tuple(fields.get("listeners", ())),
                answers=tuple(fields.get("answers", ())),
                role=fields.get("role"),
                replica_of=fields.get("replica_of"),
                cluster=raw.cluster,
                networks=tuple(fields.get("networks", ())),
                clients=tuple(str(t) for t in fields.get("clients", ())),
                served_by=tuple(str(t) for t in fields.get("served-by", ())),
                egress=tuple(str(t) for t in fields.get("egress", ())),
                availability=availability,
            )
            self._check_kind_needs(raw, out[raw.name], fields)
            raw.fields = {key: fields[key] for key in _LATER_FIELDS if key in fields}  # the rest is in the model
        self._check_references(out)
        return out

    def _check_availability_placement(self, raw: _RawComponent, fields: dict,
                                      seen: dict[str, tuple[Fraction, str]]) -> None:
        """``availability P`` is its host's; a host given two values is an error, and so
        is the attribute on something that never fails as a host."""
        span = fields["availability_span"]
        if fields.get("managed"):
            self.error("invalid-attribute",
                       f"'{raw.name}' is managed, so it never fails as a host; 'availability' has nothing to apply to",
                       span, "set the availability of its zone instead: 'zone Z availability P'")
            return
        if raw.kind is Kind.DNS and fields.get("served-by"):
            self.error("invalid-attribute",
                       f"dns '{raw.name}' fails only through its name servers; set their availability instead", span)
            return
        host = fields.get("host") or raw.name
        value = fields["availability"]
        if host in seen and seen[host][0] != value:
            other_value, other = seen[host]
            self.error("invalid-attribute",
                       f"host '{host}' is given availability {_percent(other_value)} by '{other}' and "
                       f"{_percent(value)} by '{raw.name}'; a machine has one availability",
                       span)
            return
        seen.setdefault(host, (value, raw.name))

    def _check_kind_needs(self, raw: _RawComponent, comp: Component, fields: dict) -> None:
        """What a kind must have, and combinations of attributes that contradict each other."""
        kind = raw.kind
        if kind is Kind.CLIENTS and not comp.networks:
            self.error("invalid-attribute", f"client group '{comp.name}' has no address, so no client sits anywhere",
                       comp.name_span, "add 'address CIDR', e.g. 'address 192.168.10.0/24'")
        elif kind is Kind.EXTERNAL and not comp.networks:
            self.error("invalid-attribute", f"external '{comp.name}' has no address, so nothing can reach it",
                       comp.name_span, "add 'address A' or 'address CIDR': where the provider's endpoint is")
        elif kind is Kind.DNS:
            if comp.served_by and comp.addresses:
                self.error("invalid-attribute",
                           f"dns '{comp.name}' takes 'served-by' or 'address', not both: with an address it is its "
                           "own name server", fields["served-by_span"],
                           "keep 'served-by' and put the address on the name servers")
            if comp.served_by and comp.managed:
                self.error("invalid-attribute",
                           f"dns '{comp.name}' is managed (run by a provider) and 'served-by' its own name servers",
                           fields["served-by_span"], "drop 'managed', or drop 'served-by'")
        elif kind is Kind.SERVICE and comp.role is not None and raw.cluster is None:
            self.error("invalid-attribute",
                       f"service '{comp.name}' has a role outside any cluster; a service is primary or replica "
                       "only as a cluster member", fields["role_span"], "declare it inside 'cluster NAME { ... }'")
        for address in comp.addresses:
            if not int(address):
                self.error("invalid-attribute",
                           f"'{address}' is the unspecified address; no packet goes to or comes from it",
                           fields["address_spans"][address], "write the component's real address")

    def _component_fields(self, raw: _RawComponent) -> dict:
        if raw.statement.__class__ is Record:
            known = self._known_fields(raw)
            if known is not None:
                raw.fields = known
                return known
        fields: dict = {}
        seen: dict[str, int] = {}  # single-valued attribute -> its first line
        allowed = _ALLOWED[raw.kind]
        for attr in raw.attributes:
            name, first, last, a, b, c = attr
            if name not in allowed:
                self.error(
                    "invalid-attribute",
                    f"'{name}' does not apply to {raw.kind.value} '{raw.name}'",
                    self.spans(first, last),
                    _attribute_hint(name, raw.kind),
                )
                continue
            if name in _SINGLE_VALUED:
                if name in seen:
                    self.error(
                        "invalid-attribute",
                        f"'{name}' is given twice for '{raw.name}' (first at line {seen[name]})",
                        self.spans(first, last),
                    )
                    continue
                seen[name] = first.line
            if name == "zone":
                zone = str(a)
                if zone not in self.zones:
                    self.undefined("zone", a, self.zones, "; declare it with 'zone NAME'")
                    continue
                fields["zone"] = zone
                fields["zone_span"] = self.span(a)
            elif name == "address":
                self._address_field(raw, a, fields)
            elif name == "listen":
                self._listen_field(raw, attr, fields)
            elif name == "host":
                host = str(a)
                fields["host"] = host
                if host not in self.host_spans:
                    self.host_spans[host] = self.span(a)
            elif name == "managed":
                fields["managed"] = True
            elif name == "answer":
                fields["answers"] = tuple(str(t) for t in a)
            elif name in ("clients", "served-by", "egress"):
                fields[name] = tuple(a)
                fields[f"{name}_span"] = self.spans(first, last)
            elif name == "availability":
                value = self.percentage(a, f"'{raw.name}' availability")
                if value is not None:
                    fields["availability"] = value
                    fields["availability_span"] = self.spans(first, last)
            elif name == "role":
                fields["role"] = Role(str(a))
                fields["role_span"] = self.spans(first, last)
                if b is not None:
                    fields["replica_of"] = str(b)
                    fields["replica_of_token"] = b
            else:  # pragma: no cover - failover and quorum are never allowed on a component
                raise AssertionError(f"unexpected attribute '{name}'")
        raw.fields = fields
        return fields

    def _known_fields(self, raw: _RawComponent) -> dict | None:
        """The fields of a frozen component statement whose attributes are all plain
        ones (:data:`_PLAIN`) with nothing to report (most statements of a large file),
        read without making its tokens: what the general path makes. None: the general
        path reads them (and reports what is wrong)."""
        stmt = raw.statement
        plan = self.attribute_plans.get(stmt.shape, False)
        if plan is False:
            plan = self.attribute_plans[stmt.shape] = _attribute_plan(stmt.item_tokens(3))
        if plan is None:
            return None
        allowed = _ALLOWED[raw.kind]
        codes, values, starts, offsets = stmt.flat()
        where = stmt.positions(starts)
        path = self.path
        fields: dict = {}
        for name, first, last, at in plan:
            if name not in allowed:
                return None
            value = values[at]
            if name == "zone":
                if value not in self.zones:
                    return None
                fields["zone"] = value
                line, column = where[at]
                fields["zone_span"] = Span(path, line, column, line, column + len(value))
            elif name == "address":
                if raw.kind.by_networks:
                    return None
                try:
                    address = _address(value)
                except ValueError:
                    return None
                if hasattr(address, "prefixlen"):
                    return None
                fields.setdefault("addresses", []).append(address)
                spans = fields.setdefault("address_spans", {})
                if address not in spans:
                    line, column = where[at]
                    spans[address] = Span(path, line, column, line, column + len(value))
            elif name == "listen":
                if raw.kind.forwards:
                    return None
                port = self._port_value(value)
                if port.__class__ is str:
                    return None
                fields["listen"] = port if fields.get("listen") is None else fields["listen"] | port
            elif name == "host":
                fields["host"] = value
                if value not in self.host_spans:
                    line, column = where[at]
                    self.host_spans[value] = Span(path, line, column, line, column + len(value))
            elif name == "managed":
                fields["managed"] = True
            else:  # a role without 'of'
                fields["role"] = Role(value)
                (line, column), (end_line, end_column) = where[first], where[last]
                fields["role_span"] = Span(path, line, column, end_line, end_column + len(values[last]))
        return fields

    def _address_field(self, raw: _RawComponent, token: Token, fields: dict) -> None:
        try:
            value = _address(str(token))
        except ValueError as exc:
            self.error("syntax", str(exc), token)
            return
        if raw.kind.by_networks:  # client groups and external targets: networks
            network = value if hasattr(value, "prefixlen") else ipaddress.ip_network(value)
            if raw.kind is Kind.EXTERNAL and (is_private(network.network_address)
                                              or is_private(network.broadcast_address)):
                self.error(
                    "invalid-attribute",
                    f"external '{raw.name}' has the private address {token}; an external target is on the internet",
                    token,
                    "model a private endpoint as a service; 'external' is for third parties on the internet",
                )
                return
            fields.setdefault("networks", []).append(network)
            return
        if hasattr(value, "prefixlen"):
            self.error(
                "invalid-attribute",
                f"'{token}' is a network; a component's address is a single address",
                token,
                "write the address without a prefix length",
            )
            return
        fields.setdefault("addresses", []).append(value)
        fields.setdefault("address_spans", {}).setdefault(value, self.span(token))

    def _listen_field(self, raw: _RawComponent, attr: tuple, fields: dict) -> None:
        _, first, last, port_tok, targets, tail = attr
        port = self._port(port_tok)
        if raw.kind.forwards:
            if targets is None:
                self.error(
                    "invalid-attribute",
                    f"{raw.kind.value} '{raw.name}' listens without forwarding anywhere",
                    self.spans(first, last),
                    f"name the targets: listen {port_tok} -> NAME, ...",
                )
                return
            target_port_tok, need_tok = tail
            target_ports = self._port(target_port_tok) if target_port_tok is not None else None
            need = 1
            if need_tok is not None:
                if number_too_long(str(need_tok)) or int(str(need_tok)) < 1:
                    self.error("invalid-attribute", f"need {need_tok}: expected a whole number of at least 1",
                               need_tok)
                    return
                need = int(str(need_tok))
            if port is None or (target_port_tok is not None and target_ports is None):
                return
            names = tuple(str(t[1]) for t in targets)
            selectors = tuple(t[0] for t in targets)
            listener = Listener(port, names, target_ports, self.spans(first, last),
                                selectors if any(selectors) else (), need)
            fields.setdefault("listeners", []).append(listener)
            fields.setdefault("listener_tokens", []).append((listener, targets, need_tok))
            return
        if targets is not None:
            self.error(
                "invalid-attribute",
                f"only lb and gateway forward; {raw.kind.value} '{raw.name}' cannot 'listen ... ->'",
                self.spans(targets[0][2], targets[-1][1]),
                "declare a requirement instead, e.g. 'web1 uses api'",
            )
            return
        if port is not None:
            fields["listen"] = port if fields.get("listen") is None else fields["listen"] | port

    def _port(self, token: Token) -> PortSet | None:
        known = self._port_value(str(token))
        if known.__class__ is str:
            self.error("syntax", known, token)
            return None
        return known

    def _port_value(self, text: str) -> PortSet | str:
        """The port set a port token's text spells, or why it spells none (once per text)."""
        known = self.ports.get(text)
        if known is None:
            if any(number_too_long(part) for part in text.replace("/", "-").split("-") if part.isdigit()):
                known = f"port '{text[:24]}...' is out of range 0-65535"
            else:
                try:
                    known = parse_port(text)
                except ValueError as exc:
                    known = str(exc)
            self.ports[text] = known
        return known

    def _check_references(self, comps: dict[str, Component]) -> None:
        names = list(self.declared_at)
        for raw in self.raw.values():
            comp = comps[raw.name]
            if raw.kind is Kind.DNS:
                for attr in raw.attributes:
                    if attr[0] == "answer":
                        for token in attr[3]:
                            self._check_target(token, names, comps, "answer", raw.name)
                    elif attr[0] == "clients":
                        for token in attr[3]:
                            self._check_kind_of(token, names, comps, "client group", (Kind.CLIENTS, Kind.INTERNET),
                                                "name a 'clients' group (or the internet)")
                    elif attr[0] == "served-by":
                        for token in attr[3]:
                            self._check_kind_of(token, names, comps, "name server", (Kind.SERVICE, Kind.WEB),
                                                "a name server is a service that listens on udp/53")
                if not comp.answers:
                    self.error(
                        "invalid-attribute",
                        f"dns '{comp.name}' has no answer, so it never resolves",
                        comp.name_span,
                        "add 'answer NAME'",
                    )
            elif raw.kind.forwards:
                for attr in raw.attributes:
                    if attr[0] == "listen" and attr[4] is not None:
                        for selector, token, _ in attr[4]:
                            if selector is None:
                                self._check_target(token, names, comps, "listener target", raw.name)
                            elif str(token) not in self.declared_at:
                                self.undefined("cluster", token, list(self.cluster_members))
                        self._check_need(raw, attr, comps)
            for attr in raw.attributes if comp.egress else ():
                if attr[0] == "egress":
                    for token in attr[3]:
                        self._check_kind_of(token, names, comps, "egress gateway", (Kind.GATEWAY,),
                                            "egress names the gateways (NAT) that reach the internet")

    def _check_need(self, raw: _RawComponent, attr: tuple, comps: dict[str, Component]) -> None:
        """``need N`` counts a plain cluster as its members and a role of a cluster as one."""
        _, first, last, _, targets, (_, need_tok) = attr
        if need_tok is None:
            return
        count = 0
        for selector, token, _ in targets:
            name = str(token)
            if selector is None and name in self.cluster_members:
                count += len(self.cluster_members[name])
            else:
                count += 1
        need = int(str(need_tok)) if not number_too_long(str(need_tok)) else 0
        if need > count:
            self.error("invalid-attribute",
                       f"need {need} is more than the listener's {count} target{'s' if count != 1 else ''}, "
                       "so it never serves", need_tok,
                       f"add targets, or lower 'need' to at most {count}")

    def _check_kind_of(self, token: Token, names: list[str], comps: dict[str, Component], what: str,
                       kinds: tuple[Kind, ...], hint: str) -> None:
        name = str(token)
        if name not in self.declared_at:
            self.undefined(what, token, [n for n in names if n in comps and comps[n].kind in kinds] or names)
            return
        target = comps.get(name)
        if target is None or target.kind not in kinds:
            found = "a cluster" if target is None else f"a{_n(target.kind.value)} {target.kind.value}"
            wanted = " or ".join(k.value for k in kinds)
            self.error("invalid-attribute", f"{what} '{name}' is {found}, not a{_n(wanted)} {wanted}", token, hint)

    def _check_target(self, token: Token, names: list[str], comps: dict[str, Component], what: str, owner: str) -> None:
        name = str(token)
        if name not in self.declared_at:
            self.undefined(what, token, names)
            return
        if name == owner:
            self.error("invalid-attribute", f"'{owner}' cannot forward to itself", token)
            return
        target = comps.get(name)
        if target is None:  # a cluster
            if what == "answer":
                self.error(
                    "invalid-attribute",
                    f"dns answer '{name}' is a cluster; an answer must be a component clients connect to",
                    token,
                )
            return
        if target.kind is Kind.DNS:
            self.error(
                "invalid-attribute",
                f"{what} '{name}' is a dns name; {'answers' if what == 'answer' else 'listeners'} must name servers",
                token,
                "name the component the dns answers with",
            )
        elif target.kind is Kind.INTERNET:
            self.error("invalid-attribute", f"{what} '{name}' is the internet, not a server", token)
        elif target.kind not in _SERVERS:
            self.error("invalid-attribute",
                       f"{what} '{name}' is a{_n(target.kind.value)} {target.kind.value}, not a server",
                       token, _kind_role_hint(target.kind))

    def _resolve_zone_egress(self, comps: dict[str, Component]) -> None:
        names = list(self.declared_at)
        for zone, tokens in self.zone_egress.items():
            for token in tokens:
                self._check_kind_of(token, names, comps, "egress gateway", (Kind.GATEWAY,),
                                    "egress names the gateways (NAT) that reach the internet")
            old = self.zones[zone]
            self.zones[zone] = Zone(old.name, old.region, old.span, tuple(str(t) for t in tokens), old.availability)

    # -- pass 3: clusters ------------------------------------------------------

    def _resolve_clusters(self, comps: dict[str, Component]) -> dict[str, Cluster]:
        clusters: dict[str, Cluster] = {}
        for name, (span, stmt) in self.cluster_attributes.items():
            attributes = stmt[3]
            failover = Failover.MANUAL
            seen: dict[str, int] = {}
            for attr in attributes:
                if attr[0] not in ("failover", "quorum"):
                    self.error(
                        "invalid-attribute",
                        f"'{attr[0]}' does not apply to a cluster; put it on a member",
                        self.spans(attr[1], attr[2]),
                    )
                    continue
                if attr[0] in seen:
                    self.error(
                        "invalid-attribute",
                        f"'{attr[0]}' is given twice for cluster '{name}' (first at line {seen[attr[0]]})",
                        self.spans(attr[1], attr[2]),
                    )
                    continue
                seen[attr[0]] = attr[1].line
                if attr[0] == "failover":
                    failover = Failover(str(attr[3]))
            quorum = "quorum" in seen
            members = tuple(self.cluster_members[name])
            present = [comps[m] for m in members if m in comps]
            kinds = {c.kind for c in present if c.kind in _MEMBER_KINDS}
            if len(kinds) > 1:
                first_kind = present[0].kind
                odd = next(c for c in present if c.kind is not first_kind and c.kind in _MEMBER_KINDS)
                self.error(
                    "invalid-attribute",
                    f"cluster '{name}' mixes member kinds: '{present[0].name}' is a {first_kind.value}, "
                    f"'{odd.name}' a {odd.kind.value}; the members of one cluster are of one kind",
                    odd.name_span,
                    "put the databases and the services in clusters of their own",
                )
            primaries = [c.name for c in present if c.role is Role.PRIMARY]
            with_role = [c for c in present if c.role is not None]
            without_role = [c for c in present if c.role is None and c.kind in _MEMBER_KINDS]
            if not members:
                self.error("invalid-attribute", f"cluster '{name}' has no members", span,
                           "declare 'db NAME { primary }'")
            elif quorum and not with_role:
                pass  # a consensus group: no roles at all
            elif without_role:
                if quorum:
                    self.error("invalid-attribute",
                               f"cluster '{name}' gives roles to some members but not to '{without_role[0].name}'; "
                               "in a quorum cluster either every member has a role or none does",
                               without_role[0].name_span, "add 'replica', or drop every role")
                else:
                    for member in without_role:
                        self.error(
                            "invalid-attribute",
                            f"cluster member '{member.name}' needs a role: 'primary', 'replica' or 'replica of NAME'",
                            member.name_span,
                            "or make the cluster a consensus group with 'quorum' and no roles",
                        )
            if len(primaries) > 1:
                self.error(
                    "invalid-attribute",
                    f"cluster '{name}' has two primaries, '{primaries[0]}' and '{primaries[1]}'",
                    comps[primaries[1]].name_span,
                    "make one of them 'replica'",
                )
            elif not primaries and with_role:
                self.error(
                    "invalid-attribute",
                    f"cluster '{name}' has no primary",
                    span,
                    "mark one member 'primary'",
                )
            if "failover" in seen and quorum and not with_role:
                self.error("invalid-attribute",
                           f"cluster '{name}' has no roles, so there is no primary to fail over",
                           span, "drop 'failover', or give the members roles")
            clusters[name] = Cluster(name, span, members, primaries[0] if primaries else None, failover,
                                     quorum=quorum)
        # Standalone primaries and the replicas that name them form unnamed manual clusters.
        standalone_primaries = [
            c.name for c in comps.values() if c.kind is Kind.DB and c.cluster is None and c.role is Role.PRIMARY
        ]
        for raw in self.raw.values():
            comp = comps[raw.name]
            if comp.kind not in _MEMBER_KINDS or comp.role is not Role.REPLICA:
                continue
            token = raw.fields.get("replica_of_token")
            if token is None:
                if comp.cluster is None and comp.kind is Kind.DB:
                    self.error(
                        "invalid-attribute",
                        f"replica '{comp.name}' is outside any cluster, so it must say what it replicates",
                        comp.name_span,
                        "write 'replica of NAME'",
                    )
                continue
            source = comps.get(str(token))
            if str(token) not in self.declared_at:
                self.undefined("replication source", token,
                               [c for c in comps if comps[c].kind is comp.kind])
            elif source is None or source.kind is not comp.kind:
                what = "a cluster" if source is None else f"a{_n(source.kind.value)} {source.kind.value}"
                self.error("invalid-attribute",
                           f"'{comp.name}' is a replica of '{token}', which is {what}, not a {comp.kind.value}",
                           token)
            elif source.name == comp.name:
                self.error("invalid-attribute", f"'{comp.name}' cannot replicate from itself", token)
            elif source.cluster != comp.cluster:
                where = f"cluster '{source.cluster}'" if source.cluster else "no cluster"
                self.error(
                    "invalid-attribute",
                    f"'{comp.name}' replicates from '{source.name}', which is in {where}",
                    token,
                    "a replica and its source belong to the same cluster",
                )
        for primary in standalone_primaries:
            members = [primary] + self._standalone_replicas(primary, comps)
            name = f"(cluster of {primary})"
            clusters[name] = Cluster(name, comps[primary].name_span, tuple(members), primary, Failover.MANUAL, implicit=True)
        return clusters

    def _standalone_replicas(self, primary: str, comps: dict[str, Component]) -> list[str]:
        """Replicas whose ``replica of`` chain (outside clusters) reaches ``primary``, in declaration order."""
        out = []
        for comp in comps.values():
            if comp.cluster is not None or comp.role is not Role.REPLICA:
                continue
            seen = {comp.name}
            source = comp.replica_of
            while source is not None and source not in seen and source in comps:
                if source == primary:
                    out.append(comp.name)
                    break
                seen.add(source)
                source = comps[source].replica_of
        return out

    def _check_listener_roles(self, comps: dict[str, Component], clusters: dict[str, Cluster]) -> None:
        """``primary of C`` and ``replicas of C`` name a cluster with roles."""
        for raw in self.raw.values():
            for listener, targets, _ in raw.fields.get("listener_tokens", ()) if raw.fields else ():
                for selector, token, first in targets:
                    if selector is None:
                        continue
                    name = str(token)
                    if name not in self.declared_at:
                        continue  # reported already
                    cluster = clusters.get(name)
                    written = f"{selector} of {name}"
                    if cluster is None:
                        self.error("invalid-attribute",
                                   f"'{written}' names {comps[name].kind.value} '{name}'; a role belongs to a cluster",
                                   self.spans(first, token), f"forward to '{name}' itself")
                    elif not cluster.has_roles:
                        self.error("invalid-attribute",
                                   f"'{written}': cluster '{name}' has no roles (a consensus group), so it has no "
                                   f"{'primary' if selector == PRIMARY_OF else 'replicas'}",
                                   self.spans(first, token), f"forward to '{name}' itself")
                    elif selector != PRIMARY_OF and len(cluster.members) < 2:
                        self.error("invalid-attribute", f"'{written}': cluster '{name}' has no replica",
                                   self.spans(first, token), f"forward to 'primary of {name}'")

    # -- pass 4: requirements, rules, checks ---------------------------------

    def _resolve_requirements(self, comps: dict[str, Component], clusters: dict[str, Cluster]) -> list[Requirement]:
        out: list[Requirement] = []
        names = list(self.declared_at)
        declared = self.declared_at
        verbs = {verb.value: verb for verb in Verb}
        for stmt in self.requirement_stmts:
            if stmt.__class__ is Record:
                quick = self._known_requirements(stmt, comps, verbs)
                if quick is not None:
                    out.extend(quick)
                    continue
            _, sources, verb_tok, targets, optional_tok = stmt
            optional = optional_tok is not None
            verb = verbs[str(verb_tok)]
            target_names = []
            ok = True
            for token in targets:
                name = str(token)
                if name not in declared:
                    self.undefined("requirement target", token, names)
                    ok = False
                elif name in comps and comps[name].kind is Kind.INTERNET:
                    self.error("invalid-attribute", f"'{name}' is the internet; requirements name servers or clusters", token)
                    ok = False
                elif name in comps and comps[name].kind in (Kind.CLIENTS, Kind.JOB):
                    kind = comps[name].kind
                    self.error("invalid-attribute",
                               f"'{name}' is a {kind.value}, never a requirement target",
                               token, _kind_role_hint(kind))
                    ok = False
                target_names.append(name)
            if len(set(target_names)) != len(target_names):
                self.error("duplicate-name", "a target is listed twice in one requirement", self.spans(targets[0], targets[-1]))
                ok = False
            target_tuple = tuple(target_names)
            statement = None  # one per line, shared by its sources
            for token in sources:
                name = str(token)
                if name not in declared:
                    self.undefined("requirement source", token, names)
                    continue
                source = comps.get(name)
                if source is None or not source.kind.has_requirements:
                    what = "a cluster" if source is None else f"a{_n(source.kind.value)} {source.kind.value}"
                    self.error(
                        "invalid-attribute",
                        f"'{name}' is {what}; only web, service and job components issue requests",
                        token,
                    )
                    continue
                if name in target_names:
                    self.error("invalid-attribute", f"'{name}' cannot require itself", token)
                    continue
                if ok:
                    if statement is None:
                        statement = RequirementStatement(verb, target_tuple, optional,
                                                         self.spans(sources[0], optional_tok or targets[-1]))
                    out.append(Requirement(name, statement))
        return out

    def _known_requirements(self, stmt: Record, comps: dict[str, Component],
                            verbs: dict[str, Verb]) -> list[Requirement] | None:
        """The requirements of a frozen statement whose sources and targets are all
        fine (most statements of a large file), read without making its tokens: what
        the general path makes, which would have nothing to report. None: the general
        path decides (and reports what is wrong)."""
        codes, values, starts, offsets = stmt.flat()  # ("requirement", sources, verb, targets, optional)
        sources, targets = values[:offsets[2]], values[offsets[3]:offsets[4]]
        declared = self.declared_at
        for name in targets:
            if name not in declared:
                return None
            comp = comps.get(name)
            if comp is not None and comp.kind in (Kind.INTERNET, Kind.CLIENTS, Kind.JOB):
                return None
        if len(set(targets)) != len(targets):
            return None
        for name in sources:
            comp = comps.get(name)
            if comp is None or not comp.kind.has_requirements or name in targets:
                return None
        last = len(values) - 1
        (line, column), (end_line, end_column) = stmt.positions((starts[0], starts[last]))
        statement = RequirementStatement(verbs[values[offsets[2]]], tuple(targets), last >= offsets[4],
                                         Span(self.path, line, column, end_line, end_column + len(values[last])))
        return [Requirement(name, statement) for name in sources]

    def _resolve_rules(self, comps: dict[str, Component], clusters: dict[str, Cluster]) -> list[Rule]:
        out: list[Rule] = []
        names = list(self.declared_at)
        self.rule_places = RulePlaces(self.path, len(self.rule_stmts))
        for index, stmt in enumerate(self.rule_stmts):
            if stmt.__class__ is Record:
                quick = self._known_rule(stmt, index, comps)
                if quick is not None:
                    out.append(quick)
                    continue
            _, action_tok, sources, destinations, port_tok = stmt
            sides = []
            ok = True
            for tokens in (sources, destinations):
                side = []
                for token in tokens:
                    resolved = self._endpoint(token, comps, names)
                    if resolved is None:
                        ok = False
                    else:
                        side.append(resolved)
                side = tuple(side)
                sides.append(self.sides.setdefault(side, side))  # shared: rules repeat their sides
            ports = ANY_PORT
            if port_tok is not None:
                port = self._port(port_tok)
                ok = ok and port is not None
                ports = port or ANY_PORT
            if ok:
                span = self.spans(action_tok, port_tok or destinations[-1])
                out.append(Rule.at(str(action_tok), sides[0], sides[1], ports, span, index, self.rule_places))
        return out

    def _known_rule(self, stmt: Record, index: int, comps: dict[str, Component]) -> Rule | None:
        """The rule of a frozen statement whose endpoints are components or were
        resolved before, and whose port was (most rules of a large file), read
        without making its tokens: the rule the general path makes, which would
        have nothing to report. None: the general path decides (and reports what is
        wrong)."""
        codes, values, starts, offsets = stmt.flat()  # ("rule", action, sources, destinations, port)
        sides = []
        for low, high in ((offsets[2], offsets[3]), (offsets[3], offsets[4])):
            raw = (codes[low:high], *values[low:high])
            side = self.raw_sides.get(raw)
            if side is None:
                side = self._known_side(stmt.type_names, codes[low:high], values[low:high], comps)
                if side is None:
                    return None
                self.raw_sides[raw] = side
            sides.append(side)
        last = len(values) - 1
        if offsets[4] == last:  # a port
            ports = self.ports.get(values[last])
            if ports is None or ports.__class__ is str:
                return None
        else:
            ports = ANY_PORT
        (line, column), (end_line, end_column) = stmt.positions((starts[0], starts[last]))
        self.rule_places.set(index, line, column, end_line, end_column + len(values[last]))
        return Rule(values[0], sides[0], sides[1], ports, self.rule_places, index)

    def _known_side(self, type_names: tuple[str, ...], codes: bytes, values: list[str],
                    comps: dict[str, Component]) -> tuple[Endpoint, ...] | None:
        """The shared side of a rule (:attr:`sides`) whose endpoint tokens have these
        type codes and values, when each is a component or was resolved before;
        else None."""
        side = []
        endpoints = self.endpoints
        for code, value in zip(codes, values):
            key = (type_names[code], value)
            known = endpoints.get(key)
            if known is None:
                if key[0] != "NAME":
                    return None
                known = _component_endpoint(value, comps)
                if known is None:
                    return None
                endpoints[key] = known
            side.append(known)
        side = tuple(side)
        return self.sides.setdefault(side, side)

    def _endpoint(self, token: Token, comps: dict[str, Component], names: list[str]) -> Endpoint | None:
        """The endpoint a token names (one shared object per distinct endpoint), or None
        after reporting why it names none."""
        key = (token.type, str(token))
        known = self.endpoints.get(key)
        if known is None:
            known = self._new_endpoint(token, comps, names)
            if known is not None:
                self.endpoints[key] = known
        return known

    def _new_endpoint(self, token: Token, comps: dict[str, Component], names: list[str]) -> Endpoint | None:
        kind = token.type
        if kind == "NAME":
            name = str(token)
            if name not in self.declared_at:
                self.undefined("rule endpoint", token, names)
                return None
            if name in comps:
                found = _component_endpoint(name, comps)
                if found is None:
                    self.error("invalid-attribute",
                               f"'{name}' is a job: it has no address, so no rule can match its packets", token,
                               "name the components that do the job's work")
                return found
            return Endpoint("cluster", name)
        if kind == "INTERNET":
            return Endpoint("internet", None)
        if kind == "ANY":
            return Endpoint("any", None)
        text = str(token)
        value = self.networks.get(text)
        if value is None:
            try:
                value = _address(text)
                if not hasattr(value, "prefixlen"):
                    value = parse_address(f"{value}/{value.max_prefixlen}")
            except ValueError as exc:
                value = str(exc)
            self.networks[text] = value
        if value.__class__ is str:
            self.error("syntax", value, token)
            return None
        return Endpoint("network", value)

    def _resolve_checks(self) -> list[CheckRequest]:
        out = []
        known = list(self.check_params)
        for stmt in self.check_stmts:
            _, keyword, id_tok, params_given, last = stmt
            check_id = str(id_tok)
            if check_id not in self.check_params:
                self.undefined("check", id_tok, known, f"; known checks: {', '.join(sorted(known))}")
                continue
            validators = self.check_params[check_id]
            params = []
            ok = True
            seen = set()
            for key_tok, value_tok in params_given:
                key, value = str(key_tok), str(value_tok)
                if key.startswith("_") or key not in validators:
                    accepted = ", ".join(sorted(k for k in validators if not k.startswith("_"))) or "no parameters"
                    self.error("invalid-attribute", f"check '{check_id}' has no parameter '{key}' (it takes {accepted})", key_tok)
                    ok = False
                    continue
                if key in seen:
                    self.error("invalid-attribute", f"parameter '{key}' is given twice", key_tok)
                    ok = False
                    continue
                seen.add(key)
                if value.replace(".", "", 1).isdigit() and number_too_long(value.split(".")[0]):
                    self.error(
                        LIMIT_ID,
                        f"check '{check_id}' {key}={value[:12]}...: a number of more than {MAX_NUMBER_DIGITS} digits",
                        value_tok,
                        "every count in a topology fits in a few digits",
                    )
                    ok = False
                    continue
                problem = validators[key](value)
                if problem:
                    self.error("invalid-attribute", f"check '{check_id}' {key}={value}: {problem}", value_tok)
                    ok = False
                    continue
                params.append((key, value))
            required = validators.get("_required", ())
            missing = [key for key in required if key not in seen]
            if ok and missing:
                self.error("invalid-attribute",
                           f"check '{check_id}' needs {', '.join(f'{k}=' for k in missing)}",
                           self.spans(keyword, last), f"e.g. 'check {check_id} {missing[0]}=99.95'")
                ok = False
            if ok:
                out.append(CheckRequest(check_id, tuple(params), self.spans(keyword, last)))
        return out


_KINDS = {kind.value: kind for kind in Kind}
# The attributes a component statement may have for the builder to read it from the
# frozen arrays (Builder._known_fields): each one token after its word, or (managed) none.
_PLAIN = frozenset({"zone", "address", "listen", "host", "managed", "role"})


def _attribute_plan(items: list[tuple]) -> list[tuple[str, int, int, int]] | None:
    """For the attributes of a component statement's shape (:meth:`Record.item_tokens`):
    (name, first token, last token, value token) of each, when each is plain (a word
    of :data:`_PLAIN` with its one value, or ``managed``, or a role without ``of``) and
    none that is single-valued comes twice; else None."""
    plan = []
    for name, first, last, value, more, tail in items:
        if name not in _PLAIN or more is not None or tail is not None or first is False or last is False:
            return None
        if name == "managed":
            value = first
        elif value is None or value is False:
            return None
        plan.append((name, first, last, value))
    names = [name for name, *_ in plan]
    if any(names.count(name) > 1 for name in names if name in _SINGLE_VALUED):
        return None
    return plan


def _component_endpoint(name: str, comps: Mapping[str, Component]) -> Endpoint | None:
    """The endpoint naming a component, when a rule may name it (a job it may not:
    it has no address); None for a job or a name that is no component."""
    comp = comps.get(name)
    if comp is None or comp.kind is Kind.JOB:
        return None
    return Endpoint("component", name)


def _n(word: str) -> str:
    """'n' before a word that starts with a vowel ("an lb", "a db")."""
    return "n" if word[:1] in "aeiou" or word.startswith("lb") else ""


def _percent(value: Fraction) -> str:
    return f"{float(value * 100):g}"


def _kind_role_hint(kind: Kind) -> str | None:
    return {
        Kind.CLIENTS: "a client group says where clients sit; name it in a dns's 'clients' or in rules",
        Kind.JOB: "a job is work that runs by itself; it names what it uses, nothing uses it",
        Kind.EXTERNAL: "an external target is reached through requirements ('app1 uses payments')",
    }.get(kind)


def _attribute_hint(name: str, kind: Kind) -> str | None:
    if name == "answer":
        return "only a dns name has answers"
    if name == "role":
        return "only a db, or a service in a cluster, is primary or replica"
    if kind is Kind.INTERNET:
        return "'internet' stands for every public client and takes no attributes"
    if kind is Kind.JOB:
        return "a job has no host, zone or address: it is the work its requirements' targets do"
    if kind is Kind.CLIENTS:
        return "a client group has only addresses (its networks); it never fails"
    if kind is Kind.EXTERNAL:
        return "an external target has only addresses and 'listen'; it never fails"
    if name == "failover":
        return "failover belongs to a cluster"
    if name == "quorum":
        return "quorum belongs to a cluster: 'cluster NAME { quorum ... }'"
    if name in ("clients", "served-by"):
        return f"'{name}' belongs to a dns name"
    if name == "egress":
        return "egress belongs to a web or service component, or to a zone"
    return None
