"""A minimum stopping set as MaxSAT (Z3 ``Optimize``), for any serving structure.

Used where the structure is not monotone (a live first alternative that does not
serve, uneven reachability in a ``failover auto`` cluster), so that failing more
hosts can restore a service and cut-set methods do not apply, and as the
fall-back when the cut-set families grow too large.

Encoding, over the nodes the services depend on:

* ``f_h``: host ``h`` failed; a component is dead when its host failed (managed
  components never are).
* ``s_n``: node ``n`` serves, constrained to ``s_n == body_n(s)`` where the body
  is the serving equation: live owner, every static group (at least ``need`` of
  its nodes, a pseudo-Boolean constraint) and every requirement (an
  if-then-else chain over its alternatives' conditions, which depend on
  liveness only, choosing the first available one's serving).
* Greatest fixed point: a fixed point alone would let a requirement cycle be
  "false because false". Nodes on a cycle (a strongly connected component of
  the dependency graph) get an integer rank, and a false node must be false
  *even when every peer of its component ranked at or above it counts as
  serving*: ``not s_n -> not body_n(s')`` with ``s'_m = s_m or rank_m >= rank_n``
  for peers. Falsity is thereby well founded (the least fixed point of falsity,
  i.e. the complement of the greatest fixed point of serving), and every
  greatest-fixed-point assignment satisfies it (rank = the round of the downward
  iteration in which a node fell).
* Some service is down; soft constraints ``not f_h`` (weight 1 each), so the
  optimum is a smallest stopping set, and its size proves or refutes "at most k".

The only ``check()`` is :func:`checker.solver.search_counterexample`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..results import Status
from ..solver import search_counterexample
from .circuit import ServingCircuit


@dataclass(frozen=True)
class MinimumOutcome:
    status: Status  # REFUTED: ``hosts`` is a smallest stopping set; PROVED: none exists
    hosts: tuple[int, ...] = ()
    reason: str | None = None


def minimum_stopping_set(circuit: ServingCircuit, timeout: float, at_most: int | None = None) -> MinimumOutcome:
    """A smallest set of hosts whose failure stops some service, or proof that none does;
    with ``at_most``, among the sets of at most that many hosts (a search asked about
    small sets need not find how large the smallest is: a pool of 800 that needs 400
    ran for more than five minutes proving its smallest set has 401 hosts)."""
    import z3

    cone = circuit.service_cone()
    in_cone = set(cone)
    failed: dict[int, z3.BoolRef] = {}

    def dead(c: int):
        h = circuit.host_of[c]
        if h < 0:
            return z3.BoolVal(False)
        var = failed.get(h)
        if var is None:
            var = failed[h] = z3.Bool(f"f{h}")
        return var

    serves = {n: z3.Bool(f"s{n}") for n in cone}
    components = _strong_components(cone, circuit)
    peers_of: dict[int, int] = {}
    for index, comp in enumerate(components):
        if len(comp) > 1 or any(n in circuit.dependencies(n) for n in comp):
            for n in comp:
                peers_of[n] = index
    rank = {n: z3.Int(f"r{n}") for n in peers_of}

    # every member of a quorum cluster shares one majority condition: encode it once (a
    # cluster of 400 members asked for 400 copies of a 400-term sum)
    encoded: dict[int, tuple[object, z3.BoolRef]] = {}

    def holds(cond):
        return _holds(cond, dead, encoded)

    def group(members, need, value):
        if need <= 1:
            return z3.Or([value(m) for m in members]) if members else z3.BoolVal(False)
        if len(members) < need:
            return z3.BoolVal(False)
        return z3.PbGe([(value(m), 1) for m in members], need)

    def body(n: int, value) -> z3.BoolRef:
        parts = [z3.Not(dead(circuit.owner[n]))]
        for g in circuit.node_static[n]:
            static = circuit.static_groups[g]
            parts.append(group(static.members, static.need, value))
        for r in circuit.node_requirements[n]:
            met = z3.BoolVal(False)
            for alt in reversed(circuit.requirement_alternatives[r]):
                serving = z3.BoolVal(True) if alt.serve is None else group(alt.serve, 1, value)
                met = z3.If(holds(alt.cond), serving, met)
            parts.append(met)
        return z3.And(parts)

    opt = z3.Optimize()
    for n in cone:
        opt.add(serves[n] == body(n, lambda m: serves[m]))
        if n in peers_of:
            own = peers_of[n]

            def optimistic(m, n=n, own=own):
                if peers_of.get(m) == own:
                    return z3.Or(serves[m], rank[m] >= rank[n])
                return serves[m]

            opt.add(z3.Implies(z3.Not(serves[n]), z3.Not(body(n, optimistic))))
    for n in peers_of:
        opt.add(rank[n] >= 0, rank[n] <= len(peers_of))
    downs = []
    for _, entries in circuit.services:
        downs.append(z3.Not(z3.Or([serves[m] for m in entries if m in in_cone])) if entries else z3.BoolVal(True))
    opt.add(z3.Or(downs))
    if at_most is not None:
        opt.add(z3.AtMost(*failed.values(), at_most) if failed else z3.BoolVal(True))
    for h, var in sorted(failed.items()):
        opt.add_soft(z3.Not(var), 1)
    verdict = search_counterexample(opt, timeout)
    if verdict.status is not Status.REFUTED:
        return MinimumOutcome(verdict.status, reason=verdict.reason)
    model = verdict.model
    hosts = tuple(sorted(h for h, var in failed.items() if z3.is_true(model.eval(var, model_completion=True))))
    return MinimumOutcome(Status.REFUTED, hosts)


def _holds(cond, dead, encoded):
    """A liveness condition (:data:`checker.engines.circuit.Cond`) as a Z3 formula, ``dead(c)``
    giving component ``c``'s deadness, each condition object encoded once (``encoded``, by
    identity, holds the object beside its formula); a module function, not a closure: a
    recursive closure is a reference cycle that keeps the whole encoding alive until a
    collection."""
    known = encoded.get(id(cond))
    if known is None:
        known = encoded[id(cond)] = (cond, _encode(cond, dead, encoded))
    return known[1]


def _encode(cond, dead, encoded):
    import z3

    op = cond[0]
    if op == "true":
        return z3.BoolVal(True)
    if op == "live":
        return z3.Not(dead(cond[1]))
    if op == "any":
        return z3.Or([z3.Not(dead(c)) for c in cond[1]])
    if op == "atleast":
        return z3.PbGe([(z3.Not(dead(c)), 1) for c in cond[1]], cond[2])
    if op == "and":
        return z3.And([_holds(c, dead, encoded) for c in cond[1]])
    decided = z3.BoolVal(False)  # "first": the first live one decides
    for c, ok in reversed(cond[1]):
        decided = z3.If(z3.Not(dead(c)), z3.BoolVal(ok), decided)
    return decided


def _strong_components(nodes: list[int], circuit: ServingCircuit) -> list[list[int]]:
    """Tarjan's strongly connected components of the dependency graph (iterative)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(circuit.dependencies(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for m in it:
                if m not in index:
                    index[m] = low[m] = counter
                    counter += 1
                    stack.append(m)
                    on_stack.add(m)
                    work.append((m, iter(circuit.dependencies(m))))
                    advanced = True
                    break
                if m in on_stack:
                    low[node] = min(low[node], index[m])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                out.append(comp)
    return out
