"""Every connection the model needs is allowed by the policy.

**What it proves.** Each connection the topology declares it needs is allowed
by the first-match policy (LANGUAGE.md section 3: from some address of the
source to some address of the target, on the target's port):

* each `lb`/`gateway` listener forward, to every target (a cluster target: every
  member), on the listener's target port or the target's own `listen` port;
* each `dns` answer, from each client group of the name (default: clients on
  the internet, to a public address of the answer), on the ports it listens
  on; and the name's resolution: each of its name servers (`served-by`) on
  their ports, or its own address on udp/53;
* each requirement alternative, from the source to the target on its `listen`
  port: a `dns` target through each of its answers (and its name servers), a
  cluster target through each member that may take the request (for `writes`
  under `failover manual`, only the declared primary), an `external` target
  directly and through each egress gateway of a source without a public
  address (LANGUAGE.md section 7.8). A source with neither a public address nor
  an egress gateway cannot reach an external target at all: that is reported
  too. Jobs need no connection.

**Why it matters.** A denied connection is a dead hop: a pool member that never
gets traffic, an alternative that silently never works, a failover that fails
when it is needed. `available` only notices the first one on the path it
follows; this lint finds every one.

**One finding per mistake.** One wrong rule usually denies many connections
(a wrong port on the rule from the web tier to a cluster denies every web
server to every member), so the denied connections are grouped by the one
change to the rules that allows them, and each group is one finding, at the
place to edit. Each connection's *near miss* is looked for first, an `allow`
that would admit it but for one thing (the earliest such rule of the first
kind that applies):

* `shadowed`: it matches entirely, but a `deny` decides first; reported at the
  deny, the fix goes above it;
* `port`: before any deciding deny, it matches both ends (the destination
  named, not `any`) but not the port the target listens on ("the rule at line
  23 allows tcp/5433; db1, db2 and db3 listen on tcp/5432"); reported at the
  rule, the fix changes its port (or, when the rule admits other needed
  connections as it is, adds one above it);
* `source` / `destination`: before any deciding deny, it matches the port and
  one end, and its other end names components of the same kind as the one left
  out (or a network): "allows web1 -> orders tcp/5432 but not from web2";
  reported at the rule, the fix adds the missing names.

Connections with no near miss are grouped by the `deny` that decides them
(reported at it), or, when no rule matches them, by the rule to add (sources
that need the same targets on the same port share one rule; targets that make
up a declared cluster are written as the cluster), reported at the first
statement that needs it. A connection whose ends cannot reach each other at all
(no address family in common) is a finding of its own: no rule can allow it.
Each counterexample has `denied` (the connections, each
`{"source", "target", "ports"}`), `needed_by` (the lines that need them),
`rule` and `near_miss` (the rule and how it nearly matches; null when none)
and `fix` (the rule to write, in the language's syntax). `available`, `no-spof` and `zone-redundancy` cite these
findings ("see connection-denied at line 23") instead of repeating them.

**A failing example.**

    web web1 address 10.0.1.11 listen tcp/8080
    web web2 address 10.0.1.12 listen tcp/8080
    db db1 address 10.0.3.10 listen tcp/5432 primary
    web1, web2 writes db1
    allow internet -> web1, web2 tcp/8080
    allow web1, web2 -> db1 tcp/5433

refuted (one finding, at line 6): the rule at line 6 allows tcp/5433; db1
listens on tcp/5432: 2 connections the model needs are denied (line 4).

**The fix.** The one the finding spells out: change the near-miss rule, or add
the rule it names (above the `deny` that blocks the connections); or remove the
forward, answer or alternative that is not meant to be used.

**Method.** `policy`: each connection is decided exactly by the indexed
first-match policy (the same decisions as the reference evaluator's); near
misses are found by the policy's own endpoint matching, rule by rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..context import ANSWERS_KEY, Context
from ..model import CheckRequest, Failover, Kind, Topology, Verb
from ..net import ANY_PORT, MAX_PORT, PortSet
from ..evaluator import DNS_PORT
from ..policy import INTERNET, Decision
from ..results import Counterexample, Result, Severity, Status

ID = "connection-denied"
SEVERITY = Severity.ERROR
ORDER = 110
# run right after 'available' (reported here): it asks the policy the connections the
# serving circuit asked, whose answers are then forgotten before the failure checks
RUN_ORDER = 1
DEFAULT = False
ALWAYS = True
ENGINES = (ANSWERS_KEY,)  # the engine caches it reads (see checker.checks)
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    from ..engines.root_cause import findings

    found = 0
    for req, target in _stranded(topology):
        found += 1
        text = (f"{req.source} has no public address and no egress gateway, so it cannot reach the external "
                f"target {target}")
        yield Result(ID, Status.REFUTED, SEVERITY, text, req.span, "policy",
                     (Counterexample({"source": req.source, "target": target, "ports": None,
                                      "missing": f"egress GATEWAY on {req.source} or its zone", "rule": None}),),
                     hint=f"name a NAT gateway: 'egress GW' on {req.source}, or 'zone Z egress GW' for its zone")
    for finding in findings(context):
        found += 1
        yield Result(ID, Status.REFUTED, SEVERITY, finding.message, finding.span, "policy",
                     (finding.counterexample(),), hint=finding.hint)
    if not found:
        checked = decided_connections(context).count
        yield Result(ID, Status.PROVED, SEVERITY,
                     f"the policy allows every connection the model needs ({checked})", request.span, "policy")


_ALLOWED = Decision(True)


def admitting_rules(context: Context) -> set:
    """The rules that decide the allowed needed connections (their witnesses, computed
    only when something is denied and the near-miss analysis asks)."""
    hit = context.cache.get("connections.admitting")
    if hit is None:
        hit = context.cache["connections.admitting"] = set()
        for source, target, ports, _span, _why in needed_connections(context.topology, context):
            decision = _decide(context, source, target, ports, witness=True)  # (a denied one: the policy's cache)
            if decision.allowed and decision.rule is not None:
                hit.add(decision.rule)
    return hit


@dataclass(frozen=True, slots=True)
class Decided:
    """The needed connections of a file, decided: how many, and the denied ones (each
    ``(needed, decision)``, in :func:`needed_connections` order). The allowed ones are
    not kept: at 100k components they are about a million tuples nobody reads again
    (:func:`admitting_rules` derives them anew, only when something is denied)."""

    count: int
    denied: tuple


def decided_connections(context: Context) -> Decided:
    """Every needed connection decided, once per file and shared through
    ``context.cache["connections.decided"]``."""
    hit = context.cache.get("connections.decided")
    if hit is None:
        hit = context.cache["connections.decided"] = _decide_all(context)
    return hit


def _decide_all(context: Context) -> Decided:
    """Each needed connection decided (the policy keeps the yes/no answers), the
    denied ones kept with their decisions."""
    topology, allowed = context.topology, context.policy.allowed
    # a target is needed by many sources, most often on the very port set (the same
    # object) each time: target -> (ports, arriving ports), the other port sets aside
    ways_in: dict = {}
    other_ways: dict = {}  # (target, ports) -> arriving ports
    count = 0
    denied = []
    for needed in needed_connections(topology, context):  # tens of thousands in a large file
        count += 1
        source, target, ports, _, _ = needed
        hit = ways_in.get(target)
        if hit is not None and hit[0] is ports:
            arriving = hit[1]
        elif hit is None:
            arriving = arriving_ports(topology, target, ports)
            ways_in[target] = (ports, arriving)
        else:
            arriving = other_ways.get((target, ports))
            if arriving is None:
                arriving = other_ways[(target, ports)] = arriving_ports(topology, target, ports)
        for entry in arriving:  # as _decide, inlined
            if allowed(source, target, entry):
                break
        else:  # (nothing listens there: a model mismatch, not a policy denial)
            if arriving:
                decision = _decide(context, source, target, ports)  # with its blocking rule
                if not decision.allowed:
                    denied.append((needed, decision))
    return Decided(count, tuple(denied))


def _stranded(topology: Topology):
    """(requirement, external target) where the source has no way out to the internet."""
    comps = topology.components
    every_external = {name for name, comp in comps.items() if comp.kind is Kind.EXTERNAL}
    if not every_external:
        return
    for req in topology.requirements:
        if every_external.isdisjoint(req.targets):
            continue  # most requirements (asked before the source's public addresses are computed)
        externals = [t for t in req.targets if t in every_external]
        source = comps[req.source]
        if source.kind is Kind.JOB or source.public_addresses or topology.egress_of(req.source):
            continue
        for target in externals:
            yield req, target


def needed_connections(topology: Topology, context: Context):
    """(source, target, ports, span, what needs it), in file order per kind (what needs
    it: its text, or an object whose ``str`` is the text)."""
    comps = topology.components
    for comp in comps.values():
        if comp.kind.forwards:
            for listener in comp.listeners:
                for target in listener.targets:
                    for member in _members(topology, target):
                        ports = listener.target_ports or comps[member].service_ports
                        yield comp.name, member, ports, listener.span, _Listener(comp.name, listener)
        elif comp.kind is Kind.DNS:
            for group in comp.clients or (INTERNET,):
                public_only = group == INTERNET or comps[group].kind is Kind.INTERNET
                for ns in comp.served_by:
                    yield group, ns, comps[ns].service_ports, comp.name_span, f"resolving {comp.name} at {ns}"
                if comp.addresses:
                    yield group, comp.name, DNS_PORT, comp.name_span, f"resolving {comp.name}"
                for answer in comp.answers:
                    target = comps[answer]
                    if target.public_addresses or not public_only:
                        yield group, answer, target.service_ports, comp.name_span, f"the answer {answer} of {comp.name}"
    for req in topology.requirements:
        source = comps[req.source]
        if source.kind is Kind.JOB:
            continue  # a job's requirements need no connection
        why = _Requirement(req)  # its text only for a connection that is denied
        name, span = req.source, req.span
        for target in req.targets:
            comp = comps.get(target)
            if comp is not None and comp.kind is Kind.EXTERNAL:
                ports = comp.service_ports
                if not source.public_addresses:
                    for gateway in topology.egress_of(name):
                        yield name, gateway, ports, span, f"{why}, through the egress gateway {gateway}"
                    if not topology.egress_of(name):
                        continue  # reported by _stranded
                yield name, target, ports, span, why
                continue
            if comp is not None and comp.kind is not Kind.DNS:  # one component (most targets)
                yield name, target, comp.service_ports, span, why
                continue
            if comp is not None:  # a dns name: its name servers and its own address, then its answers
                for ns in comp.served_by:
                    yield name, ns, comps[ns].service_ports, span, f"{why}, resolving {target} at {ns}"
                if comp.addresses:
                    yield name, target, DNS_PORT, span, f"{why}, resolving {target}"
            for member in _requirement_members(topology, req.verb, target):  # (a cluster's, a name's)
                yield name, member, comps[member].service_ports, span, why


class _Requirement:
    """"the requirement '...'", as the reason a connection is needed, written out when
    it is read (most needed connections are allowed, and nobody reads theirs)."""

    __slots__ = ("req",)

    def __init__(self, req) -> None:
        self.req = req

    def __str__(self) -> str:
        return f"the requirement '{self.req.describe()}'"


class _Listener:
    """"the listener P of LB", as :class:`_Requirement` (a listener's ports are written
    out only for a connection that is denied)."""

    __slots__ = ("owner", "listener")

    def __init__(self, owner: str, listener) -> None:
        self.owner, self.listener = owner, listener

    def __str__(self) -> str:
        return f"the listener {self.listener.ports} of {self.owner}"


def _members(topology: Topology, target: str) -> tuple[str, ...]:
    return topology.clusters[target].members if target in topology.clusters else (target,)


def _requirement_members(topology: Topology, verb: Verb, target: str) -> tuple[str, ...]:
    if target in topology.clusters:
        cluster = topology.clusters[target]
        if verb is Verb.WRITES and cluster.failover is Failover.MANUAL and cluster.primary is not None:
            return (cluster.primary,)
        return cluster.members
    comp = topology.components[target]
    if comp.kind is Kind.DNS:
        return comp.answers
    return (target,)


def _decide(context: Context, source: str, target: str, ports: PortSet, witness: bool = False) -> Decision:
    """As the evaluator decides a hop: an lb/gateway is entered on its listeners whose
    ports overlap, anything else on the ports it listens on. An allowed connection is
    answered by the policy's cached yes/no (the serving equations asked most of these
    already), without its rule and packet unless ``witness`` is asked for; a denied one
    always carries the rule that blocks it."""
    arriving = arriving_ports(context.topology, target, ports)
    if not arriving:
        return _ALLOWED  # nothing listens there: a model mismatch, not a policy denial
    if not witness and any(context.policy.allowed(source, target, entry) for entry in arriving):
        return _ALLOWED
    blocker = None
    for entry in arriving:
        decision = context.policy.connect(source, target, entry)
        if decision.allowed:
            return decision
        blocker = blocker or decision.rule
    return Decision(False, None, blocker)


def arriving_ports(topology: Topology, target: str, ports: PortSet) -> list[PortSet]:
    """The ports a connection to ``target`` on ``ports`` arrives on, one set per way in:
    each overlapping listener of an lb/gateway, else the ports the target listens on."""
    comp = topology.components[target]
    if comp.kind.forwards:
        arriving = [_meet(ports, listener.ports) for listener in comp.listeners]
    elif comp.kind.by_networks or (comp.kind is Kind.DNS and ports == DNS_PORT):
        arriving = [ports]
    else:
        arriving = [_meet(ports, comp.listen) if comp.listen is not None else ports]
    return [a for a in arriving if a]


def _meet(ports: PortSet, listen: PortSet) -> PortSet:
    """``ports & listen``, without building a new set when one contains the other."""
    if ports is listen or ports == listen:
        return ports
    return ports & listen


def port_text(ports: PortSet) -> str:
    """One port token for a rule: ``any``, ``tcp/443`` or ``tcp/8000-8099``."""
    if ports == ANY_PORT:
        return "any"
    first = ports.ranges[0]
    if first.low == first.high:
        return f"{first.protocol}/{first.low}"
    if first.low == 0 and first.high == MAX_PORT:
        return f"{first.protocol}/0-{MAX_PORT}"
    return f"{first.protocol}/{first.low}-{first.high}"
