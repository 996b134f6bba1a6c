"""No rule is shadowed: every rule is the first match for some packet.

**What it proves.** For every `allow`/`deny` rule there is a packet (source,
destination, protocol, port) that it matches and no earlier rule matches, so
under first-match semantics (LANGUAGE.md section 3) the rule decides something.

**Why it matters.** A shadowed rule is dead text that looks like it does
something: a `deny` written after a broader `allow` blocks nothing, which is a
classic way to leave a database listener open while believing it closed.

**A failing example.**

    allow any -> lb1 any
    deny internet -> lb1 tcp/5432     # never matches: line 1 covers every packet

refuted (a warning at line 2): the rule at line 1 covers every packet it matches.

**The fix.** Move the narrower rule above the broader one (first match wins), or
delete it if it is redundant.

**Method.** `z3`: a packet of each rule is first tried concretely against the
indexed policy (most rules are the first match of their own corner packet);
for the rest, Z3 searches for a packet the rule matches and none of the
earlier rules that may overlap it match. `unsat` proves the rule shadowed, and
the unsat core names the earlier rules that cover it.
"""

from __future__ import annotations

import ipaddress
from itertools import islice, product
from typing import Iterator

from ..context import Context
from ..model import CheckRequest, Endpoint, Kind, Rule, Topology
from ..policy import Point
from ..results import Counterexample, Hop, Result, Severity, Status

ID = "shadowed-rule"
SEVERITY = Severity.WARNING
ORDER = 100
DEFAULT = False
ALWAYS = True
PARAMS: dict = {}

_SAMPLES = 24  # concrete packets tried per rule before asking the solver


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    from ..engines.fastpolicy import FastPolicy
    from ..engines.packets_paths import _fast

    if not topology.rules:
        yield Result(ID, Status.PROVED, SEVERITY, "the file has no rules to shadow", request.span, "z3")
        return
    index = context.policy if isinstance(context.policy, FastPolicy) else _fast(context)
    found = 0
    unknown: list[str] = []
    for rule in topology.rules:
        if _first_match_somewhere(topology, index, rule):
            continue
        status, cover, reason = _solve(topology, context, rule)
        if status is Status.UNKNOWN:
            unknown.append(f"line {rule.line}: {reason}")
        elif status is Status.REFUTED:
            found += 1
            yield _shadowed(rule, cover)
    if found:
        return
    if unknown:
        yield Result(ID, Status.UNKNOWN, SEVERITY, f"could not decide every rule: {unknown[0]}", request.span, "z3")
        return
    yield Result(ID, Status.PROVED, SEVERITY,
                 f"every rule ({len(topology.rules)}) is the first match for some packet", request.span, "z3")


def _shadowed(rule: Rule, cover: list[Rule]) -> Result:
    lines = [r.line for r in cover]
    if cover:
        which = (f"the rule at line {lines[0]} covers" if len(lines) == 1
                 else f"the rules at lines {', '.join(map(str, lines))} cover")
        text = f"the rule at line {rule.line} can never match: {which} every packet it matches"
        hint = "move the narrower rule above the broader one, or delete it"
    else:
        text = f"the rule at line {rule.line} can never match: no packet fits all of its parts"
        hint = "delete the rule"
    related = tuple(Hop(f"line {r.line} matches first", r.span) for r in cover)
    return Result(ID, Status.REFUTED, SEVERITY, text, rule.span, "z3",
                  (Counterexample({"rule": rule.line, "shadowed_by": lines}, related=related),), hint=hint)


def _endpoint_points(topology: Topology, endpoint: Endpoint) -> list[Point]:
    """A few concrete points the endpoint matches."""
    if endpoint.kind in ("any", "internet"):
        return [Point(ipaddress.IPv4Address("198.18.0.1"), None), Point(ipaddress.IPv4Address("0.0.0.0"), None)]
    if endpoint.kind == "network":
        net = endpoint.value
        return [Point(net.network_address, None), Point(net.broadcast_address, None)]
    members = topology.clusters[endpoint.value].members if endpoint.kind == "cluster" else (endpoint.value,)
    out: list[Point] = []
    for member in members:
        comp = topology.components[member]
        if comp.kind is Kind.INTERNET:
            out.append(Point(ipaddress.IPv4Address("198.18.0.1"), None))
        out.extend(Point(a, None) for a in comp.addresses[:2])
        if not comp.addresses:
            out.append(Point(None, member))
    return out[:4]


def _first_match_somewhere(topology: Topology, index, rule: Rule) -> bool:
    """True when a concrete packet of ``rule`` has ``rule`` as its first match."""
    srcs = [p for e in rule.sources for p in _endpoint_points(topology, e)]
    dsts = [p for e in rule.destinations for p in _endpoint_points(topology, e)]
    ports = [(r.protocol, port) for r in rule.ports for port in (r.low, r.high)]
    for src, dst, (protocol, port) in islice(product(srcs, dsts, ports), _SAMPLES):
        for i in index.matching_rules(src, dst):
            if topology.rules[i].ports.contains(protocol, port):
                if i == rule.index:
                    return True
                break
    return False


def _solve(topology: Topology, context: Context, rule: Rule):
    import z3

    from ..engines.packets import PacketSpace, sides_may_meet
    from ..solver import search_counterexample

    space = context.cache.get("packets.space")
    if space is None:
        space = context.cache["packets.space"] = PacketSpace(topology)
    earlier = [
        r for r in topology.rules[: rule.index]
        if r.ports & rule.ports
        and sides_may_meet(r.sources, rule.sources, topology)
        and sides_may_meet(r.destinations, rule.destinations, topology)
    ]
    packet = space.packet("shadow")
    solver = z3.Solver()
    solver.set("unsat_core", True)
    solver.add(space.well_formed(packet.src), space.well_formed(packet.dst))
    solver.add(space.matches(packet, rule))
    marks = {}
    for r in earlier:
        mark = z3.Bool(f"rule_{r.index}")
        marks[str(mark)] = r
        solver.assert_and_track(z3.Not(space.matches(packet, r)), mark)
    verdict = search_counterexample(solver, context.options.timeout)
    if verdict.status is Status.PROVED:  # unsat: no packet reaches the rule
        core = sorted((marks[str(m)] for m in solver.unsat_core()), key=lambda r: r.index)
        return Status.REFUTED, core, None
    if verdict.status is Status.REFUTED:
        return Status.PROVED, [], None
    return Status.UNKNOWN, [], verdict.reason
