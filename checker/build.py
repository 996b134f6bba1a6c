"""Syntax tree to resolved model, reporting every naming and consistency error.

Errors are results with ids ``undefined-name`` (with "did you mean"),
``duplicate-name``, ``invalid-attribute`` (an attribute that does not fit its
component, or declarations that contradict each other) and ``syntax`` (a
malformed address or port). A file with errors gets no model; every error in it
is reported, in source order.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from lark import Token, Tree

from .model import (
    CheckRequest,
    Cluster,
    Component,
    Endpoint,
    Failover,
    Kind,
    Listener,
    Requirement,
    Role,
    Rule,
    Span,
    Topology,
    Verb,
    Zone,
)
from .limits import LIMIT_ID, MAX_NUMBER_DIGITS, number_too_long
from .net import ANY_PORT, PortSet, parse_address, parse_port
from .parser import tree_span
from .results import Result, Severity, Status

# Which attributes each kind accepts (cluster attributes are checked separately).
_ALLOWED: dict[Kind, frozenset[str]] = {
    Kind.INTERNET: frozenset(),
    Kind.DNS: frozenset({"zone", "host", "managed", "answer"}),
    Kind.LB: frozenset({"zone", "host", "address", "managed", "listen"}),
    Kind.GATEWAY: frozenset({"zone", "host", "address", "managed", "listen"}),
    Kind.WEB: frozenset({"zone", "host", "address", "managed", "listen"}),
    Kind.SERVICE: frozenset({"zone", "host", "address", "managed", "listen"}),
    Kind.DB: frozenset({"zone", "host", "address", "managed", "listen", "role"}),
}
_SINGLE_VALUED = frozenset({"zone", "host", "managed", "role", "answer"})

_ATTRIBUTE_NAMES = {
    "zone_attr": "zone",
    "host_attr": "host",
    "address_attr": "address",
    "managed_attr": "managed",
    "listen_attr": "listen",
    "answer_attr": "answer",
    "role_attr": "role",
    "failover_attr": "failover",
}


@dataclass
class _RawComponent:
    kind: Kind
    name: str
    span: Span
    name_span: Span
    attributes: list[Tree]
    cluster: str | None = None
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BuildOutcome:
    topology: Topology | None
    errors: tuple[Result, ...]


def build(tree: Tree, path: str, check_params: Mapping[str, Mapping[str, object]]) -> BuildOutcome:
    """Resolve ``tree`` into a :class:`Topology`.

    ``check_params`` maps every known check id to its parameter validators
    (``{"k": callable}``); a validator returns an error message or ``None``.
    """
    return _Builder(path, check_params).run(tree)


class _Builder:
    def __init__(self, path: str, check_params: Mapping[str, Mapping[str, object]]):
        self.path = path
        self.check_params = check_params
        self.errors: list[Result] = []
        self.title: str | None = None
        self.title_span: Span | None = None
        self.zones: dict[str, Zone] = {}
        self.region_spans: dict[str, Span] = {}
        self.host_spans: dict[str, Span] = {}
        self.raw: dict[str, _RawComponent] = {}
        self.cluster_trees: dict[str, tuple[Span, list[Tree]]] = {}
        self.cluster_members: dict[str, list[str]] = {}
        self.declared_at: dict[str, Span] = {}
        self.requirement_trees: list[Tree] = []
        self.rule_trees: list[Tree] = []
        self.check_trees: list[Tree] = []

    # -- reporting ----------------------------------------------------------

    def error(self, id_: str, message: str, where: Tree | Token | Span, hint: str | None = None) -> None:
        span = where if isinstance(where, Span) else tree_span(where, self.path)
        self.errors.append(Result(id_, Status.REFUTED, Severity.ERROR, message, span, "resolver", hint=hint))

    def undefined(self, what: str, token: Token, candidates: Iterable[str], extra: str = "") -> None:
        name = str(token)
        close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else None
        self.error("undefined-name", f"undefined {what} '{name}'{extra}", token, hint)

    def span(self, node: Tree | Token) -> Span:
        return tree_span(node, self.path)

    # -- pass 1: declarations ----------------------------------------------

    def run(self, tree: Tree) -> BuildOutcome:
        for stmt in tree.children:
            if not isinstance(stmt, Tree):
                continue
            getattr(self, f"_declare_{stmt.data}")(stmt)
        components = self._resolve_components()
        clusters = self._resolve_clusters(components)
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
            has_policy=bool(self.rule_trees),
            host_spans=dict(self.host_spans),
            region_spans=dict(self.region_spans),
        )
        return BuildOutcome(topology, ())

    def _declare_topology(self, stmt: Tree) -> None:
        if self.title_span is not None:
            self.error(
                "duplicate-name",
                f"'topology' is given twice (first at line {self.title_span.line})",
                stmt,
                "keep one title",
            )
            return
        raw = str(stmt.children[0])[1:-1]
        self.title = raw.replace('\\"', '"').replace("\\\\", "\\")
        self.title_span = self.span(stmt)

    def _declare_zone(self, stmt: Tree) -> None:
        name_tok = stmt.children[0]
        region_tok = stmt.children[1] if len(stmt.children) > 1 else None
        name = str(name_tok)
        if name in self.zones:
            first = self.zones[name].span.line
            self.error("duplicate-name", f"zone '{name}' is declared twice (first at line {first})", name_tok)
            return
        region = str(region_tok) if region_tok is not None else None
        if region_tok is not None:
            self.region_spans.setdefault(region, self.span(region_tok))
        self.zones[name] = Zone(name, region, self.span(name_tok))

    def _claim_name(self, token: Token, what: str) -> bool:
        name = str(token)
        if name in self.declared_at:
            first = self.declared_at[name].line
            self.error(
                "duplicate-name",
                f"{what} '{name}' is declared twice (first at line {first}); components and clusters share one namespace",
                token,
            )
            return False
        self.declared_at[name] = self.span(token)
        return True

    def _declare_component(self, stmt: Tree, cluster: str | None = None) -> None:
        kind = Kind(str(stmt.children[0].children[0]))
        name_tok = stmt.children[1]
        attributes: list[Tree] = []
        for child in stmt.children[2:]:
            if child.data == "block":
                attributes.extend(c for c in child.children if isinstance(c, Tree))
            else:
                attributes.append(child)
        if cluster is not None and kind is not Kind.DB:
            self.error(
                "invalid-attribute",
                f"cluster '{cluster}' holds only db members; '{name_tok}' is a {kind.value}",
                stmt.children[0],
                "declare it outside the cluster",
            )
        if not self._claim_name(name_tok, kind.value):
            return
        self.raw[str(name_tok)] = _RawComponent(
            kind, str(name_tok), self.span(stmt), self.span(name_tok), attributes, cluster
        )
        if cluster is not None:
            self.cluster_members[cluster].append(str(name_tok))

    def _declare_cluster(self, stmt: Tree) -> None:
        name_tok = stmt.children[0]
        name = str(name_tok)
        attributes = [c for c in stmt.children[1:-1] if isinstance(c, Tree)]
        block = stmt.children[-1]
        if not self._claim_name(name_tok, "cluster"):
            name = f"{name}@{name_tok.line}"  # keep checking its members
        self.cluster_members[name] = []
        for child in block.children:
            if not isinstance(child, Tree):
                continue
            if child.data == "component":
                self._declare_component(child, cluster=name)
            else:
                attributes.append(child)
        self.cluster_trees[name] = (self.span(name_tok), attributes)

    def _declare_requirement(self, stmt: Tree) -> None:
        self.requirement_trees.append(stmt)

    def _declare_rule(self, stmt: Tree) -> None:
        self.rule_trees.append(stmt)

    def _declare_check(self, stmt: Tree) -> None:
        self.check_trees.append(stmt)

    # -- pass 2: components ----------------------------------------------------

    def _resolve_components(self) -> dict[str, Component]:
        host_zone: dict[str, tuple[str, Span, str]] = {}
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
            out[raw.name] = Component(
                kind=raw.kind,
                name=raw.name,
                span=raw.span,
                name_span=raw.name_span,
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
            )
        self._check_references(out)
        return out

    def _component_fields(self, raw: _RawComponent) -> dict:
        fields: dict = {}
        seen: dict[str, Span] = {}
        allowed = _ALLOWED[raw.kind]
        for attr in raw.attributes:
            name = _ATTRIBUTE_NAMES[attr.data]
            if name not in allowed:
                self.error(
                    "invalid-attribute",
                    f"'{name}' does not apply to {raw.kind.value} '{raw.name}'",
                    attr,
                    _attribute_hint(name, raw.kind),
                )
                continue
            if name in _SINGLE_VALUED and name in seen:
                self.error(
                    "invalid-attribute",
                    f"'{name}' is given twice for '{raw.name}' (first at line {seen[name].line})",
                    attr,
                )
                continue
            seen.setdefault(name, self.span(attr))
            getattr(self, f"_attr_{name}")(raw, attr, fields)
        if raw.kind is Kind.DB and raw.cluster is not None and "role" not in fields:
            self.error(
                "invalid-attribute",
                f"cluster member '{raw.name}' needs a role: 'primary', 'replica' or 'replica of NAME'",
                raw.name_span,
            )
        return fields

    def _attr_zone(self, raw: _RawComponent, attr: Tree, fields: dict) -> None:
        token = attr.children[0]
        if str(token) not in self.zones:
            self.undefined("zone", token, self.zones, "; declare it with 'zone NAME'")
            return
        fields["zone"] = str(token)
        fields["zone_span"] = self.span(token)

    def _attr_host(self, raw: _RawComponent, attr: Tree, fields: dict) -> None:
        token = attr.children[0]
        fields["host"] = str(token)
        self.host_spans.setdefault(str(token), self.span(token))

    def _attr_address(self, raw: _RawComponent, attr: Tree, fields: dict) -> None:
        token = attr.children[0]
        try:
            value = parse_address(str(token))
        except ValueError as exc:
            self.error("syntax", str(exc), token)
            return
        if not hasattr(value, "version") or hasattr(value, "prefixlen"):
            self.error(
                "invalid-attribute",
                f"'{token}' is a network; a component's address is a single address",
                token,
                "write the address without a prefix length",
            )
            return
        fields.setdefault("addresses", []).append(value)

    def _attr_managed(self, raw: _RawComponent, attr: Tree, fields: dict) -> None:
        fields["managed"] = True

    def _attr_listen(self, raw: _RawComponent, attr: Tree, fields: dict) -> None:
        port = self._port(attr.children[0])
        rest = attr.children[1:]
        if raw.kind.forwards:
            if not rest:
                self.error(
                    "invalid-attribute",
                    f"{raw.kind.value} '{raw.name}' listens without forwarding anywhere",
                    attr,
                    f"name the targets: listen {attr.children[0].children[0]} -> NAME, ...",
                )
                return
            targets = tuple(str(t) for t in rest[0].children)
            target_ports = self._port(rest[1]) if len(rest) > 1 else None
            if port is None or (len(rest) > 1 and target_ports is None):
                return
            fields.setdefault("listeners", []).append(
                Listener(port, targets, target_ports, self.span(attr))
            )
            fields.setdefault("listener_trees", []).append(rest[0])
            return
        if rest:
            self.error(
                "invalid-attribute",
                f"only lb and gateway forward; {raw.kind.value} '{raw.name}' cannot 'listen ... ->'",
                rest[0],
                "declare a requirement instead, e.g. 'web1 uses api'",
            )
            return
        if port is not None:
            fields["listen"] = port if fields.get("listen") is None else fields["listen"] | port

    def _attr_answer(self, raw: _RawComponent, attr: Tree, fields: dict) -> None:
        fields["answers"] = tuple(str(t) for t in attr.children[0].children)
        fields["answer_tree"] = attr.children[0]

    def _attr_role(self, raw: _RawComponent, attr: Tree, fields: dict) -> None:
        role_tok = attr.children[0]
        fields["role"] = Role(str(role_tok))
        if len(attr.children) > 1:
            fields["replica_of"] = str(attr.children[1])
            fields["replica_of_token"] = attr.children[1]
        raw.fields = fields

    def _attr_failover(self, raw: _RawComponent, attr: Tree, fields: dict) -> None:  # pragma: no cover
        raise AssertionError("failover is never allowed on a component")

    def _port(self, node: Tree) -> PortSet | None:
        token = node.children[0]
        if any(number_too_long(part) for part in str(token).replace("/", "-").split("-") if part.isdigit()):
            self.error("syntax", f"port '{str(token)[:24]}...' is out of range 0-65535", token)
            return None
        try:
            return parse_port(str(token))
        except ValueError as exc:
            self.error("syntax", str(exc), token)
            return None

    def _check_references(self, comps: dict[str, Component]) -> None:
        names = list(self.declared_at)
        for raw in self.raw.values():
            comp = comps[raw.name]
            for attr in raw.attributes:
                if attr.data == "answer_attr" and raw.kind is Kind.DNS:
                    for token in attr.children[0].children:
                        self._check_target(token, names, comps, "answer", raw.name)
                elif attr.data == "listen_attr" and raw.kind.forwards and len(attr.children) > 1:
                    for token in attr.children[1].children:
                        self._check_target(token, names, comps, "listener target", raw.name)
            if comp.kind is Kind.DNS and not comp.answers:
                self.error(
                    "invalid-attribute",
                    f"dns '{comp.name}' has no answer, so it never resolves",
                    comp.name_span,
                    "add 'answer NAME'",
                )

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

    # -- pass 3: clusters ------------------------------------------------------

    def _resolve_clusters(self, comps: dict[str, Component]) -> dict[str, Cluster]:
        clusters: dict[str, Cluster] = {}
        for name, (span, attributes) in self.cluster_trees.items():
            failover = Failover.MANUAL
            failover_seen = None
            for attr in attributes:
                if attr.data != "failover_attr":
                    self.error(
                        "invalid-attribute",
                        f"'{_ATTRIBUTE_NAMES[attr.data]}' does not apply to a cluster; put it on a member",
                        attr,
                    )
                    continue
                if failover_seen is not None:
                    self.error(
                        "invalid-attribute",
                        f"'failover' is given twice for cluster '{name}' (first at line {failover_seen})",
                        attr,
                    )
                    continue
                failover_seen = attr.meta.line
                failover = Failover(str(attr.children[0].children[0]))
            members = tuple(self.cluster_members[name])
            primaries = [m for m in members if m in comps and comps[m].role is Role.PRIMARY]
            if len(primaries) > 1:
                self.error(
                    "invalid-attribute",
                    f"cluster '{name}' has two primaries, '{primaries[0]}' and '{primaries[1]}'",
                    comps[primaries[1]].name_span,
                    "make one of them 'replica'",
                )
            elif not primaries and members:
                self.error(
                    "invalid-attribute",
                    f"cluster '{name}' has no primary",
                    span,
                    "mark one member 'primary'",
                )
            elif not members:
                self.error("invalid-attribute", f"cluster '{name}' has no members", span, "declare 'db NAME { primary }'")
            clusters[name] = Cluster(name, span, members, primaries[0] if primaries else None, failover)
        # Standalone primaries and the replicas that name them form unnamed manual clusters.
        standalone_primaries = [
            c.name for c in comps.values() if c.kind is Kind.DB and c.cluster is None and c.role is Role.PRIMARY
        ]
        for raw in self.raw.values():
            comp = comps[raw.name]
            if comp.kind is not Kind.DB or comp.role is not Role.REPLICA:
                continue
            token = raw.fields.get("replica_of_token")
            if token is None:
                if comp.cluster is None:
                    self.error(
                        "invalid-attribute",
                        f"replica '{comp.name}' is outside any cluster, so it must say what it replicates",
                        comp.name_span,
                        f"write 'replica of NAME'",
                    )
                continue
            source = comps.get(str(token))
            if str(token) not in self.declared_at:
                self.undefined("replication source", token, [c for c in comps if comps[c].kind is Kind.DB])
            elif source is None or source.kind is not Kind.DB:
                what = "a cluster" if source is None else f"a {source.kind.value}"
                self.error("invalid-attribute", f"'{comp.name}' is a replica of '{token}', which is {what}, not a db", token)
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

    # -- pass 4: requirements, rules, checks ---------------------------------

    def _resolve_requirements(self, comps: dict[str, Component], clusters: dict[str, Cluster]) -> list[Requirement]:
        out: list[Requirement] = []
        names = list(self.declared_at)
        for stmt in self.requirement_trees:
            sources, verb_tree, targets = stmt.children[0], stmt.children[1], stmt.children[2]
            optional = len(stmt.children) > 3
            verb = Verb(str(verb_tree.children[0]))
            target_names = []
            ok = True
            for token in targets.children:
                name = str(token)
                if name not in self.declared_at:
                    self.undefined("requirement target", token, names)
                    ok = False
                elif name in comps and comps[name].kind is Kind.INTERNET:
                    self.error("invalid-attribute", f"'{name}' is the internet; requirements name servers or clusters", token)
                    ok = False
                target_names.append(name)
            if len(set(target_names)) != len(target_names):
                self.error("duplicate-name", "a target is listed twice in one requirement", targets)
                ok = False
            for token in sources.children:
                name = str(token)
                if name not in self.declared_at:
                    self.undefined("requirement source", token, names)
                    continue
                source = comps.get(name)
                if source is None or not source.kind.has_requirements:
                    what = "a cluster" if source is None else f"a {source.kind.value}"
                    self.error(
                        "invalid-attribute",
                        f"'{name}' is {what}; only web and service components issue requests",
                        token,
                    )
                    continue
                if name in target_names:
                    self.error("invalid-attribute", f"'{name}' cannot require itself", token)
                    continue
                if ok:
                    out.append(Requirement(name, verb, tuple(target_names), optional, self.span(stmt)))
        return out

    def _resolve_rules(self, comps: dict[str, Component], clusters: dict[str, Cluster]) -> list[Rule]:
        out: list[Rule] = []
        names = list(self.declared_at)
        for index, stmt in enumerate(self.rule_trees):
            action = str(stmt.children[0].children[0])
            sides = []
            ok = True
            for endpoint_list in stmt.children[1:3]:
                side = []
                for ep in endpoint_list.children:
                    resolved = self._endpoint(ep, comps, names)
                    if resolved is None:
                        ok = False
                    else:
                        side.append(resolved)
                sides.append(tuple(side))
            ports = ANY_PORT
            if len(stmt.children) > 3:
                port = self._port(stmt.children[3])
                ok = ok and port is not None
                ports = port or ANY_PORT
            if ok:
                out.append(Rule(action, sides[0], sides[1], ports, self.span(stmt), index))
        return out

    def _endpoint(self, ep: Tree, comps: dict[str, Component], names: list[str]) -> Endpoint | None:
        span = self.span(ep)
        if ep.data == "internet_endpoint":
            return Endpoint("internet", None, span)
        if ep.data == "any_endpoint":
            return Endpoint("any", None, span)
        token = ep.children[0]
        if ep.data == "network_endpoint":
            try:
                value = parse_address(str(token))
            except ValueError as exc:
                self.error("syntax", str(exc), token)
                return None
            if not hasattr(value, "prefixlen"):
                value = parse_address(f"{value}/{value.max_prefixlen}")
            return Endpoint("network", value, span)
        name = str(token)
        if name not in self.declared_at:
            self.undefined("rule endpoint", token, names)
            return None
        if name in comps:
            return Endpoint("component", name, span)
        return Endpoint("cluster", name, span)

    def _resolve_checks(self) -> list[CheckRequest]:
        out = []
        known = list(self.check_params)
        for stmt in self.check_trees:
            id_tok = stmt.children[0]
            check_id = str(id_tok)
            if check_id not in self.check_params:
                self.undefined("check", id_tok, known, f"; known checks: {', '.join(sorted(known))}")
                continue
            validators = self.check_params[check_id]
            params = []
            ok = True
            seen = set()
            for param in stmt.children[1:]:
                key_tok, value_tok = param.children
                key, value = str(key_tok), str(value_tok)
                if key not in validators:
                    accepted = ", ".join(sorted(validators)) or "no parameters"
                    self.error("invalid-attribute", f"check '{check_id}' has no parameter '{key}' (it takes {accepted})", key_tok)
                    ok = False
                    continue
                if key in seen:
                    self.error("invalid-attribute", f"parameter '{key}' is given twice", key_tok)
                    ok = False
                    continue
                seen.add(key)
                if value.isdigit() and number_too_long(value):
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
            if ok:
                out.append(CheckRequest(check_id, tuple(params), self.span(stmt)))
        return out


def _attribute_hint(name: str, kind: Kind) -> str | None:
    if name == "answer":
        return "only a dns name has answers"
    if name == "role":
        return "only a db is primary or replica"
    if name == "address" and kind is Kind.DNS:
        return "a dns name has no address; its answers do"
    if kind is Kind.INTERNET:
        return "'internet' stands for every public client and takes no attributes"
    if name == "failover":
        return "failover belongs to a cluster"
    return None
