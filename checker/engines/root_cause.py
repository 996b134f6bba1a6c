"""Root causes of denied connections: one finding per mistake in the policy.

One wrong rule usually denies many connections the model needs (a wrong port
on the rule that lets the web tier reach a cluster denies every web server to
every member, for reads and writes alike). This module groups the denied
connections (:func:`checker.checks.connection_denied.decided_connections`) by
the one change to the rules that would allow them, so ``connection-denied``
reports each mistake once, at the place to edit, and ``available``, ``no-spof``
and ``zone-redundancy`` cite that finding instead of repeating it.

For each denied connection (source, target, the ports it arrives on), the rules
are read for a *near miss*, an ``allow`` that would admit it but for one thing,
in this order of preference (the earliest rule wins within a kind):

``shadowed``
    an ``allow`` that matches the connection entirely, after the ``deny`` that
    decides it first (the fix goes above that deny);
``port``
    an ``allow`` before any deny that decides the connection, that matches its
    source and destination (a destination named, not ``any``) but none of the
    ports the target listens on;
``source`` / ``destination``
    an ``allow`` before any deciding deny, matching the ports and one end but not
    the other, whose other end names components of the same kind as the one left
    out, or a network (a rule for the database tier is not a near miss for a web
    server's connection to a cache).

Connections with no near miss are grouped by the ``deny`` that decides them, or,
when no rule matches them at all, by the rule to add: sources that need the same
targets on the same ports share one rule, and targets that cover every member of
a declared cluster are written as the cluster.

A near miss is judged packet by packet: for each pair of the connection's ends
that can reach each other at all (one address family; clients on the internet
reach only public addresses), a rule is before or after the first ``deny``
that matches that packet. Finding near misses reads, for every such packet, the
rules that match one of its ends (the policy index's buckets); past
:data:`NEAR_MISS_BUDGET` endpoint tests the remaining connections are grouped by
deny and missing rule only, which stays linear in them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from ..evaluator import Evaluator
from ..model import Endpoint, Kind, Rule, Span, Topology
from ..net import PortSet
from ..policy import INTERNET, Decision, Point, reaches
from ..results import Counterexample, Hop

CACHE_KEY = "root_cause.findings"
RUNNING_KEY = "checks.running"  # the ids of the checks this run reports (set by checker.api)
LOCATION_KEY = "available.location"  # where available reported services down (set by available)
# the services the reference evaluator found down with nothing failed (set by available)
DOWN_KEY = "available.down"
NEAR_MISS_BUDGET = 500_000  # endpoint tests; about a second of work

#: The ways a rule can nearly allow a connection, most telling first.
NEAR_MISS_KINDS = ("shadowed", "port", "source", "destination")


@dataclass(frozen=True)
class Denied:
    """One connection the model needs that the policy denies."""

    source: str  # a component or :data:`checker.policy.INTERNET`
    target: str
    ports: PortSet  # the ports it is sent to
    arriving: PortSet  # the ports it arrives on (of the first listener that takes them)
    span: Span  # the statement that needs it
    why: str  # "the requirement 'web1 writes orders'"
    blocker: Rule | None  # the first deny that decides it, if any

    @property
    def who(self) -> str:
        return "internet" if self.source == INTERNET else self.source

    def __str__(self) -> str:
        return f"{self.who} -> {self.target} {self.arriving}"


@dataclass(frozen=True)
class Finding:
    """One mistake: the denied connections one change to the rules would allow."""

    kind: str  # one of NEAR_MISS_KINDS, "deny" or "missing"
    rule: Rule | None  # the near miss, or the deny that decides them
    blocker: Rule | None  # for "shadowed": the deny that comes first
    denied: tuple[Denied, ...]
    fix: tuple[str, ...]  # the rules to write, in the language's syntax
    message: str
    hint: str
    span: Span
    #: How ``fix`` applies: "replace" the near-miss rule, "insert" above ``rule`` (the deny
    #: that decides, or the near miss in use), "append" anywhere (no rule matches them), or
    #: "none" (kind "unreachable": no rule can allow them; the hint says what to change).
    edit: str = "append"

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def anchor(self) -> Rule | None:
        """For ``edit == "insert"``: the rule to put ``fix`` above."""
        if self.edit != "insert":
            return None
        return self.blocker if self.kind == "shadowed" else self.rule

    def connections(self) -> list[dict[str, str]]:
        """The denied connections, each once: ``{"source", "target", "ports"}``."""
        seen: dict[tuple[str, str, str], None] = {}
        for d in self.denied:
            seen.setdefault((d.who, d.target, str(d.arriving)), None)
        return [{"source": s, "target": t, "ports": p} for s, t, p in seen]

    @property
    def needed_by(self) -> list[int]:
        return sorted({d.span.line for d in self.denied})

    def counterexample(self) -> Counterexample:
        fields = {
            "near_miss": self.kind if self.kind in NEAR_MISS_KINDS else None,
            "rule": self.rule.line if self.rule else None,
            "denied": self.connections(),
            "needed_by": self.needed_by,
            "fix": "; ".join(self.fix) or None,
        }
        related: list[Hop] = []
        if self.rule is not None:
            verb = "denies them" if self.rule.action == "deny" else f"nearly allows them ({self.kind})"
            related.append(Hop(f"line {self.rule.line} {verb}", self.rule.span))
        if self.blocker is not None:
            related.append(Hop(f"line {self.blocker.line} denies them first", self.blocker.span))
        seen: set[Span] = set()
        for denied in self.denied:
            if denied.span not in seen:
                seen.add(denied.span)
                related.append(Hop(f"{denied.why} needs {denied}", denied.span))
        return Counterexample(fields, related=tuple(related))


def findings(context) -> list[Finding]:
    """The root causes of every denied connection of the file, in source order; computed
    once per file and shared through ``context.cache``."""
    hit = context.cache.get(CACHE_KEY)
    if hit is None:
        hit = context.cache[CACHE_KEY] = _analyse(context)
    return hit


def _analyse(context) -> list[Finding]:
    from ..checks.connection_denied import admitting_rules, arriving_ports, decided_connections

    topology = context.topology
    denied: list[Denied] = []
    for (source, target, ports, span, why), decision in decided_connections(context).denied:
        ways_in = arriving_ports(topology, target, ports)  # one is enough: the first, in file order
        denied.append(Denied(source, target, ports, ways_in[0] if ways_in else ports, span, str(why),
                             decision.rule))
    if not denied:
        return []
    matcher = _Matcher(context.policy, topology)
    groups: dict[tuple, list[Denied]] = {}
    for item in denied:
        if not matcher.pairs(item):
            groups.setdefault(("unreachable", -1, -1), []).append(item)
            continue
        miss = matcher.near_miss(item)
        if miss is not None:
            key: tuple = (miss[0], miss[1].index, item.blocker.index if miss[0] == "shadowed" else -1)
        elif item.blocker is not None:
            key = ("deny", item.blocker.index, -1)
        else:
            key = ("missing", -1, -1)
        groups.setdefault(key, []).append(item)
    out: list[Finding] = []
    for (kind, index, _), items in groups.items():
        rule = topology.rules[index] if index >= 0 else None
        if kind == "unreachable":
            out.extend(_unreachable(context.policy, item) for item in items)
        elif kind == "missing":
            out.extend(_missing(topology, items))
        elif kind == "deny":
            out.append(_deny(topology, rule, items))
        elif kind == "shadowed":
            out.append(_shadowed(topology, rule, items))
        elif kind == "port":
            # (the rules admitting the allowed connections: computed only for such a finding,
            # each allowed connection's witness decision)
            out.append(_port(topology, rule, items, rule in admitting_rules(context)))
        else:
            out.append(_end(topology, kind, rule, items))
    out.sort(key=lambda f: (f.span.line, f.span.column, f.message))
    return out


# -- near misses -------------------------------------------------------------


class _Matcher:
    """Which ends of a denied connection a rule matches, packet end by packet end, by the
    policy's own endpoint test; counts its endpoint tests against a budget."""

    def __init__(self, policy, topology: Topology, budget: int = NEAR_MISS_BUDGET):
        self.policy = policy
        self.topology = topology
        self.budget = budget

    def _matched(self, endpoints: tuple[Endpoint, ...], point: Point) -> list[Endpoint]:
        self.budget -= len(endpoints)
        return [e for e in endpoints if self.policy.endpoint_matches(e, point)]

    def pairs(self, item: Denied) -> list[tuple[Point, Point]]:
        """The packets the connection may be: pairs of its ends that can reach each other
        at all, whatever the rules (:func:`checker.policy.reaches`)."""
        policy = self.policy
        by_networks = policy.by_networks(item.source)
        return [(src, dst) for src in policy.source_points(item.source)
                for dst in policy.destination_points(item.target) if reaches(src, dst, by_networks)]

    def near_miss(self, item: Denied) -> tuple[str, Rule] | None:
        """The best near miss over the packets the connection may be (pairs of its ends
        that can reach each other at all); a rule counts as before or after the deny that
        decides that packet first."""
        if self.budget <= 0:
            return None
        topology = self.topology
        from_internet = item.source == INTERNET or topology.components[item.source].kind is Kind.INTERNET
        best: tuple[int, Rule] | None = None
        for src, dst in self.pairs(item):
            first_deny: Rule | None = None
            for rule in self._candidates(src, dst):
                if self.budget <= 0:
                    return None
                src_hit = bool(self._matched(rule.sources, src))
                dst_hits = self._matched(rule.destinations, dst)
                ports = bool(rule.ports & item.arriving)
                if rule.action == "deny":
                    if src_hit and dst_hits and ports and first_deny is None:
                        first_deny = rule
                    continue
                kind = None
                if src_hit and dst_hits and ports:
                    kind = "shadowed" if first_deny is not None else None
                elif first_deny is not None:
                    continue
                elif src_hit and dst_hits:
                    if any(e.kind != "any" for e in dst_hits):
                        kind = "port"
                elif ports and dst_hits:
                    if not from_internet and self._alike(rule.sources, item.source):
                        kind = "source"
                elif ports and src_hit:
                    if self._alike(rule.destinations, item.target):
                        kind = "destination"
                if kind is None:
                    continue
                rank = NEAR_MISS_KINDS.index(kind)
                if best is None or (rank, rule.index) < (best[0], best[1].index):
                    best = (rank, rule)
        if best is None or (best[0] == 0 and item.blocker is None):
            return None
        return NEAR_MISS_KINDS[best[0]], best[1]

    def _candidates(self, src: Point, dst: Point):
        """The rules, in file order, that may be a near miss of a packet or the deny that
        decides it: each matches at least one of its ends, so only those whose sources
        match ``src`` or whose destinations match ``dst`` (from the indexed policy's
        per-side buckets, which hold exactly those; every rule with the plain policy). A
        scan of every rule per denied connection ran out of its budget after a few hundred
        connections of a large file, leaving the rest without their near miss."""
        sides = getattr(self.policy, "sources", None), getattr(self.policy, "destinations", None)
        if sides[0] is None or sides[1] is None:
            return self.topology.rules
        found: set[int] = set()
        for side, point in zip(sides, (src, dst)):
            for key in side.buckets(point):
                found.update(side.bucket(key))
        rules = self.topology.rules
        return [rules[i] for i in sorted(found)]

    def _alike(self, endpoints: tuple[Endpoint, ...], name: str) -> bool:
        """Whether a rule's side names things like ``name``: a component of its kind, a
        cluster with such a member, or a network of one of its address families."""
        comp = self.topology.components[name]
        for endpoint in endpoints:
            if endpoint.kind == "network":
                if any(a.version == endpoint.value.version for a in comp.addresses):
                    return True
            elif endpoint.kind == "component":
                if self.topology.components[endpoint.value].kind is comp.kind:
                    return True
            elif endpoint.kind == "cluster":
                members = self.topology.clusters[endpoint.value].members
                if any(self.topology.components[m].kind is comp.kind for m in members):
                    return True
        return False


# -- findings ----------------------------------------------------------------


def _count(items: list[Denied]) -> str:
    unique = len(_unique(str(d) for d in items))
    if unique == 1:
        return f"{items[0]} is denied ({items[0].why} needs it)"
    lines = sorted({d.span.line for d in items})
    where = f"line {lines[0]}" if len(lines) == 1 else "lines " + ", ".join(map(str, lines))
    noun = "connection the model needs is" if unique == 1 else "connections the model needs are"
    return f"{unique} {noun} denied ({where})"


def _port(topology: Topology, rule: Rule, items: list[Denied], in_use: bool) -> Finding:
    by_ports: dict[PortSet, list[str]] = {}
    for item in items:
        names = by_ports.setdefault(item.arriving, [])
        if item.target not in names:
            names.append(item.target)
    listening = "; ".join(f"{_and(names)} {'listens' if len(names) == 1 else 'listen'} on {ports}"
                          for ports, names in by_ports.items())
    message = f"the rule at line {rule.line} allows {rule.ports}; {listening}: {_count(items)}"
    rewritten = [_rule_text("allow", rule.sources, rule.destinations, ports) for ports in by_ports]
    if len(rewritten) == 1 and not in_use:
        hint, edit = f"change line {rule.line} to '{rewritten[0]}'", "replace"
    else:  # the rule admits other needed connections as it is: keep it
        hint, edit = f"put {_quoted(rewritten)} above line {rule.line}", "insert"
    return Finding("port", rule, None, tuple(items), tuple(rewritten), message, hint, rule.span, edit)


def _end(topology: Topology, kind: str, rule: Rule, items: list[Denied]) -> Finding:
    side = "source" if kind == "source" else "destination"
    left_out = _unique(item.source if kind == "source" else item.target for item in items)
    if kind == "source":
        sources, destinations = _widened(topology, rule.sources, left_out), rule.destinations
        what = f"but not from {_and(left_out)}"
    else:
        sources, destinations = rule.sources, _widened(topology, rule.destinations, left_out)
        what = f"but not to {_and(left_out)}"
    rewritten = _rule_text("allow", sources, destinations, rule.ports)
    message = f"the rule at line {rule.line} allows {_rule_body(rule.sources, rule.destinations, rule.ports)} {what}: {_count(items)}"
    hint = f"add {', '.join(left_out)} to its {side}s: '{rewritten}'"
    return Finding(kind, rule, None, tuple(items), (rewritten,), message, hint, rule.span, "replace")


def _shadowed(topology: Topology, rule: Rule, items: list[Denied]) -> Finding:
    deny = items[0].blocker
    assert deny is not None
    fix = _rules_to_add(topology, items)
    message = (f"the rule at line {deny.line} denies what the rule at line {rule.line} allows, and comes first: "
               f"{_count(items)}")
    hint = f"put {_quoted(fix)} above line {deny.line}"
    return Finding("shadowed", rule, deny, tuple(items), fix, message, hint, deny.span, "insert")


def _deny(topology: Topology, rule: Rule, items: list[Denied]) -> Finding:
    fix = _rules_to_add(topology, items)
    message = f"the rule at line {rule.line} denies what the model needs: {_count(items)}"
    return Finding("deny", rule, None, tuple(items), fix, message, f"put {_quoted(fix)} above line {rule.line}",
                   rule.span, "insert")


def _unreachable(policy, item: Denied) -> Finding:
    """A connection no rule can allow: no packet can go between its ends at all."""
    families = {a.version for p in policy.source_points(item.source) if (a := p.address) is not None}
    targets = {a.version for p in policy.destination_points(item.target) if (a := p.address) is not None}
    if families and targets and not families & targets:
        reason = f"{item.who} and {item.target} have no addresses of one family"
        hint = f"give {item.target} an address of the family {item.who} has (or the other way round)"
    else:
        reason = f"clients on the internet reach only public addresses, and {item.target} has none they can"
        hint = f"give {item.target} a public address"
    message = f"no rule can allow {item}: {reason} ({item.why} needs it)"
    return Finding("unreachable", None, None, (item,), (), message, hint, item.span, "none")


def _missing(topology: Topology, items: list[Denied]) -> list[Finding]:
    """One finding per rule to add."""
    out = []
    for text, group in _grouped_rules(topology, items):
        first = min(group, key=lambda d: (d.span.line, d.span.column))
        if len(_unique(str(d) for d in group)) == 1:
            message = f"no rule allows {first}; add '{text}' ({first.why} needs it)"
        else:
            message = f"no rule allows {text[len('allow '):]}: {_count(group)}"
        out.append(Finding("missing", None, None, tuple(group), (text,), message, f"add '{text}'", first.span))
    return out


def _rules_to_add(topology: Topology, items: list[Denied]) -> tuple[str, ...]:
    return tuple(text for text, _ in _grouped_rules(topology, items))


def _grouped_rules(topology: Topology, items: list[Denied]) -> list[tuple[str, list[Denied]]]:
    """The fewest ``allow`` rules of the form sources x targets x port that cover the
    connections: per port, sources needing the same targets share one rule."""
    from ..checks.connection_denied import port_text

    out: list[tuple[str, list[Denied]]] = []
    by_ports: dict[PortSet, dict[str, list[Denied]]] = {}
    for item in items:
        by_ports.setdefault(item.arriving, {}).setdefault(item.who, []).append(item)
    for ports, by_source in by_ports.items():
        by_targets: dict[tuple[str, ...], list[str]] = {}
        for who, group in by_source.items():
            targets = tuple(_collapse(topology, _unique(d.target for d in group)))
            by_targets.setdefault(targets, []).append(who)
        for targets, sources in by_targets.items():
            text = f"allow {', '.join(sources)} -> {', '.join(targets)} {port_text(ports)}"
            out.append((text, [d for who in sources for d in by_source[who]]))
    return out


def _collapse(topology: Topology, names: list[str]) -> list[str]:
    """``names`` with every declared cluster whose members are all there written once, as the cluster."""
    out: list[str] = []
    done: set[str] = set()
    for name in names:
        if name in done:
            continue
        cluster = topology.components[name].cluster
        if cluster is not None and not topology.clusters[cluster].implicit \
                and set(topology.clusters[cluster].members) <= set(names):
            out.append(cluster)
            done.update(topology.clusters[cluster].members)
        else:
            out.append(name)
            done.add(name)
    return out


def _widened(topology: Topology, endpoints: tuple[Endpoint, ...], names: list[str]) -> tuple[Endpoint, ...]:
    """A rule side with ``names`` added after what it names; the components that then make up
    a whole declared cluster are written once, as the cluster, where the first of them was."""
    named = {e.value for e in endpoints if e.kind == "component"}
    side = list(endpoints) + [Endpoint("component", n, Span.start_of("")) for n in names if n not in named]
    present = {e.value for e in side if e.kind == "component"}
    for cluster in topology.clusters.values():
        if cluster.implicit or not set(cluster.members) <= present:
            continue
        first = next(i for i, e in enumerate(side) if e.kind == "component" and e.value in cluster.members)
        side[first] = Endpoint("cluster", cluster.name, side[first].span)
        side = [e for e in side if not (e.kind == "component" and e.value in cluster.members)]
    return tuple(side)


def _rule_text(action: str, sources: Iterable[Endpoint], destinations: Iterable[Endpoint], ports: PortSet) -> str:
    return f"{action} {_rule_body(sources, destinations, ports)}"


def _rule_body(sources: Iterable[Endpoint], destinations: Iterable[Endpoint], ports: PortSet) -> str:
    from ..checks.connection_denied import port_text

    return f"{', '.join(map(str, sources))} -> {', '.join(map(str, destinations))} {port_text(ports)}"


def _quoted(rules: Iterable[str]) -> str:
    return " and ".join(f"'{r}'" for r in rules)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# -- citing the findings -----------------------------------------------------


def running(context, check_id: str) -> bool:
    """Whether ``check_id`` reports in this run (checks cite only findings that are shown)."""
    ids = context.cache.get(RUNNING_KEY)
    return ids is None or check_id in ids


def cited(context, service: str) -> list[Finding]:
    """The ``connection-denied`` findings on the paths ``service`` needs: those with a
    denied connection out of a component the service depends on (through answers,
    forwards and its non-optional requirements) or from the internet to one of them."""
    if not running(context, "connection-denied"):
        return []
    found = findings(context)
    if not found:
        return []
    cone = _cone(context.topology, service)
    return [f for f in found if any(d.source in cone or (d.source == INTERNET and d.target in cone)
                                    for d in f.denied)]


def citation(found: list[Finding]) -> str:
    """``connection-denied at line 36`` or ``connection-denied at lines 36, 40``."""
    lines = sorted({f.line for f in found})
    return f"connection-denied at line {lines[0]}" if len(lines) == 1 else \
        "connection-denied at lines " + ", ".join(map(str, lines))


def _cone(topology: Topology, service: str) -> set[str]:
    """Every component ``service`` depends on with nothing failed."""
    from ..model import PUBLIC_SERVICE

    if service == PUBLIC_SERVICE:
        todo = [c.name for c in topology.components.values() if c.public_addresses]
    else:
        todo = [service]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in topology.clusters:
            todo.extend(topology.clusters[name].members)
            continue
        comp = topology.components[name]
        todo.extend(comp.answers)
        for listener in comp.listeners:
            todo.extend(listener.targets)
        for req in topology.requirements_of(name):
            if not req.optional:
                todo.extend(req.targets)
    return seen


class AllowingPolicy:
    """A policy that also allows the given denied connections: what the service would
    look like with every ``connection-denied`` finding fixed."""

    def __init__(self, policy, denied: Iterable[Denied]):
        self.policy = policy
        self.extra: dict[tuple[str, str], PortSet] = {}
        for item in denied:
            key = (item.source, item.target)
            self.extra[key] = self.extra.get(key, PortSet()) | item.ports

    def allowed(self, source: str, destination: str, ports: PortSet) -> bool:
        return self._allows(source, destination, ports) or self.policy.allowed(source, destination, ports)

    def connect(self, source: str, destination: str, ports: PortSet) -> Decision:
        if self._allows(source, destination, ports):
            return Decision(True)
        return self.policy.connect(source, destination, ports)

    def connect_from(self, src: Point, source: str, destination: str, ports: PortSet) -> Decision:
        if self._allows(source, destination, ports):
            return Decision(True)
        return self.policy.connect_from(src, source, destination, ports)

    def _allows(self, source: str, destination: str, ports: PortSet) -> bool:
        extra = self.extra.get((source, destination))
        return extra is not None and bool(extra & ports)

    def __getattr__(self, name: str):  # everything else is the policy's own
        return getattr(self.policy, name)


def fixed_evaluator(context) -> Evaluator:
    """The reference evaluator with every denied connection that ``connection-denied``
    reports allowed: what is still down there is down for another reason."""
    denied = [d for f in findings(context) for d in f.denied] if running(context, "connection-denied") else []
    if not denied:
        return context.evaluator
    return Evaluator(context.topology, AllowingPolicy(context.policy, denied))  # type: ignore[arg-type]


def available_location(context, stopped: list[str]) -> Span | None:
    """Where ``available`` reported services that are down with nothing failed (it runs
    first and says so in ``context.cache``); else where it would: the first unmet
    requirement on their paths, else its own ``check`` line, else the first service."""
    if LOCATION_KEY in context.cache:
        return context.cache[LOCATION_KEY]
    for service in stopped:
        for reason in context.evaluator.explain(service, ()):
            if reason.requirement is not None:
                return reason.requirement.span
    request = next((c for c in context.topology.checks if c.id == "available"), None)
    if request is not None and request.span is not None:
        return request.span
    return next((context.topology.span_of(s) for s in stopped if context.topology.span_of(s)), None)


def already_down(context, stopped: list[str]) -> tuple[str, Counterexample] | None:
    """For a failure check on a file whose services are down with nothing failed: the
    message and counterexample that refer to ``available`` (which explains it) instead of
    repeating its explanation; None when ``available`` does not report in this run."""
    if not running(context, "available"):
        return None
    span = available_location(context, stopped)
    see = f"see available at line {span.line}" if span is not None else "see available"
    verb = "is" if len(stopped) == 1 else "are"
    names = ", ".join(f"'{s}'" for s in stopped)
    message = f"{names} {verb} already down with nothing failed ({see}), so no failure was analysed"
    explanation = [f"{s} is already down with nothing failed ({see})" for s in stopped]
    related = tuple(Hop(s, context.topology.span_of(s)) for s in stopped if context.topology.span_of(s))
    return message, Counterexample({"failed": [], "stopped": stopped, "explanation": explanation}, related=related)


def down_with_nothing_failed(context, evaluator: Evaluator, down: list[str],
                             check_id: str) -> tuple[str, Counterexample]:
    """The message and counterexample of a failure check on a file whose services
    ``down`` (the serving circuit's claim) are down with nothing failed.

    When ``available`` found exactly those services down with the reference evaluator
    in this run (``DOWN_KEY``), the claim is replayed already and this check refers to
    its report (:func:`already_down`); else the claim is replayed here, with
    ``evaluator`` (every service down in a file of 10k components: a second evaluation
    of the whole file, only to be set aside for the referral)."""
    from .failure_report import quote, stopping_counterexample

    known = context.cache.get(DOWN_KEY)
    if known is not None and known == sorted(set(down)):
        referred = already_down(context, known)
        if referred is not None:
            return referred
    example = cite_in(context, stopping_counterexample(context.topology, evaluator, (), check_id,
                                                       claimed=down))  # replayed
    stopped = example.fields["stopped"]
    referred = already_down(context, stopped)
    if referred is not None:  # available explains it once; this check refers to it
        return referred
    return (f"{quote(stopped)} {'is' if len(stopped) == 1 else 'are'} already down with nothing failed "
            "(see available)"), example


_DENIAL = re.compile(r"(?:no rule allows|the rule at line \d+ denies) (clients on the internet|\S+) -> (\S+) (.+)$")


def cite_in(context, counterexample: Counterexample) -> Counterexample:
    """A failure counterexample whose explanation cites the ``connection-denied`` finding
    for each denied hop instead of restating why the policy denies it (the text of
    :func:`checker.evaluator.denial_text`)."""
    lines = counterexample.fields.get("explanation")
    if not lines or not running(context, "connection-denied"):
        return counterexample
    if not any(_DENIAL.search(line) for line in lines):  # nothing to cite: the findings are not needed
        return counterexample
    by_pair = {}
    for finding in findings(context):
        for denied in finding.denied:
            who = "clients on the internet" if denied.source == INTERNET else denied.source
            by_pair.setdefault((who, denied.target), finding)
    if not by_pair:
        return counterexample

    def cite(line: str) -> str:
        match = _DENIAL.search(line)
        finding = by_pair.get((match.group(1), match.group(2))) if match else None
        if finding is None:
            return line
        return (f"{line[:match.start()]}{match.group(1)} -> {match.group(2)} {match.group(3)} is denied "
                f"(see connection-denied at line {finding.line})")

    fields = {**counterexample.fields, "explanation": [cite(line) for line in lines]}
    return Counterexample(fields, counterexample.related, counterexample.flow)
