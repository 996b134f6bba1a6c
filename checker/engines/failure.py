"""Stopping sets: which sets of failed hosts stop a service.

The serving equations are compiled once (:class:`checker.engines.circuit.ServingCircuit`);
three procedures answer "which sets of at most L hosts stop a service":

* :func:`minimal_cut_sets`: every minimal *term* with at most L failed hosts
  under which a service is down, by the fault-tree method (minimal cut sets
  with truncation at L), computed as the least fixed point of *falsity* so
  that requirement cycles get greatest-fixed-point semantics. On monotone
  structures the terms are plain cut sets; on others a term also names hosts
  that must stay live ("db1 failed, api1 live"), which is how a set can stop a
  service that a superset does not stop.
* :class:`RelaxedCircuit`: a monotone circuit that serves only where the real
  one does; its cut sets bound the real ones from below, which settles most
  non-monotone structures cheaply.
* :func:`checker.engines.failure_z3.minimum_stopping_set` (any structure): a
  minimum stopping set as a MaxSAT problem.
"""

from __future__ import annotations

import heapq
import weakref
from dataclasses import dataclass
from itertools import combinations
from math import comb

from ..graphwalk import postorder
from ..model import FailureUnit
from .circuit import (
    CIRCUIT_KEY,
    Alternative,
    Cond,
    ServingCircuit,
    StaticGroup,
    circuit_for,
)

__all__ = ["CIRCUIT_KEY", "circuit_for", "minimal_cut_sets", "monotone_cut_sets", "smallest_stopping_sets",
           "RelaxedCircuit",
           "ServingCircuit", "StoppingSets", "BudgetExceeded"]


class BudgetExceeded(Exception):
    """The cut-set computation grew past its budget; use another method."""


CUT_BUDGET = 400_000  # term unions one node may take before giving up on the term method
CUT_BUDGET_PER_NODE = 256  # and, for the whole circuit, CUT_BUDGET plus this many per node of the cone

# A term (P, N) stands for "every host in P failed and every host in N live". The set of
# scenarios in which a node is false is a union of terms; F = P realises a consistent
# term exactly (P and N disjoint), so a smallest stopping set is a consistent term with
# the fewest failed hosts. On a monotone circuit N only ever narrows a term that P alone
# already stops (a live target that does not serve because something behind it failed):
# the failed parts are then the classic cut sets.
Term = tuple  # (frozenset[int], frozenset[int])
_EMPTY: Term = (frozenset(), frozenset())
_NONE: frozenset[int] = frozenset()


def _service_families(circuit, budget: int | None, node_family, service_family):
    """The fixed-point iteration shared by both term methods, one service at a time:
    for each service (in the circuit's order), the nodes its value depends on that no
    earlier service's did are computed (dependencies first, a node recomputed when
    the family of a node it reads changes) and ``(service's entries, their family
    from service_family)`` is yielded, so a caller that needs one answer stops early.

    Every cone is closed under dependencies, so once its nodes are stable they hold
    the whole least fixed point's families, whichever services come after. Each
    cone is walked only when its service comes (depth first, a node placed after
    what it reads, as :meth:`ServingCircuit.service_cone` orders them all), so an
    early stop never walks the rest. ``node_family(n, families, counter)`` computes
    one node's family."""
    if budget is None:
        budget = CUT_BUDGET + CUT_BUDGET_PER_NODE * circuit.cone_size()
    counter = _Counter(budget)
    position: dict[int, int] = {}  # a node -> its place in the order, given as its cone is walked
    order: list[int] = []
    dependents: dict[int, list[int]] = {}  # of the nodes placed so far
    families: dict = {}
    seen: set[int] = set()
    for _, entries in circuit.services:
        first = len(order)
        for node in postorder(entries, circuit.dependencies, seen):
            position[node] = len(order)
            order.append(node)
            for m in circuit.dependencies(node):
                dependents.setdefault(m, []).append(node)
        heap = list(range(first, len(order)))  # sorted, so a heap: dependencies come first
        queued = set(heap)
        while heap:
            n = order[heapq.heappop(heap)]
            queued.discard(position[n])
            counter.node = 0
            new = node_family(n, families, counter, budget)
            if new != families.get(n, []):
                families[n] = new
                for d in dependents.get(n, ()):
                    i = position[d]
                    if i not in queued:
                        queued.add(i)
                        heapq.heappush(heap, i)
        counter.node = 0
        yield entries, service_family(entries, families, counter, budget)


def minimal_cut_sets(circuit, limit: int, budget: int | None = None) -> list[Term]:
    """The minimal terms with at most ``limit`` failed hosts under which some service is
    down, sorted by the number of failed hosts.

    Falsity is the least fixed point of ``false(n) = dead(owner) or some group is false``,
    ``false(group of need k over m members) = at least m - k + 1 members are false``, and
    a requirement is unmet when some alternative is chosen (every earlier one
    unavailable, this one available) and does not serve, or none is available. Term
    families follow the same equations (union for "or", pairwise union for "and"),
    dropping inconsistent terms and terms with more than ``limit`` failed hosts, and are
    iterated from "never false" upwards until stable, so requirement cycles keep their
    greatest-fixed-point serving semantics.

    Complexity: one pass per node on acyclic structures, each costing the product of its
    children's family sizes, bounded by ``budget`` (:class:`BudgetExceeded` beyond): by
    default :data:`CUT_BUDGET` plus :data:`CUT_BUDGET_PER_NODE` per node of the cone, so
    the bound grows with the file, while one node's families may take at most
    :data:`CUT_BUDGET` (a family that explodes stops the method wherever it is).
    References: minimal cut sets of fault trees (MOCUS; Vesely et al., *Fault Tree
    Handbook*, NUREG-0492), prime implicants for the non-coherent case.
    """
    terms = _CondTerms(circuit.host_of, limit, None)

    def node_family(n, families, counter, budget):
        terms.counter = counter
        return _node_family(circuit, n, families, limit, counter, budget, terms)

    def service_family(entries, families, counter, budget):
        family = [_EMPTY]
        for m in entries:
            family = _product(family, families.get(m, []), limit, counter, budget)
        return family

    return _merged((family for _, family in _service_families(circuit, budget, node_family, service_family)),
                   _minimize)


def _merged(families, minimize) -> list:
    """The minimal members of the union of ``families``, minimized whenever what came
    since the last time is as large as what that kept (so the work is about linear in
    all that came: minimizing again with each service's family was the square of the
    services when each adds a few: a thousand jobs behind two gateways took 5.4 s)."""
    result: list = []
    kept = 0  # the length of result when it was last minimized
    for family in families:
        result.extend(family)
        if len(result) >= 2 * kept + 64:
            result = minimize(result)
            kept = len(result)
    return minimize(result) if len(result) != kept else result


class _Counter:
    """Term unions made so far: in all, and for the node being computed."""

    __slots__ = ("total", "node", "budget")

    def __init__(self, budget: int) -> None:
        self.total = self.node = 0
        self.budget = budget

    def add(self, unions: int) -> None:
        self.total += unions
        self.node += unions
        if self.total > self.budget or self.node > CUT_BUDGET:
            raise BudgetExceeded()


def _false_family(families, nodes, need, limit, counter, budget) -> list[Term]:
    """Terms under which fewer than ``need`` of ``nodes`` hold: at least
    ``len(nodes) - need + 1`` of them are false."""
    nodes = list(nodes)
    falling = len(nodes) - need + 1
    if falling <= 0:
        return [_EMPTY]
    can_fall = [m for m in nodes if families.get(m)]  # the others are never false (within the limit)
    if len(can_fall) < falling:
        return []
    if falling == len(can_fall):
        family = [_EMPTY]
        for m in can_fall:
            family = _product(family, families[m], limit, counter, budget)
            if not family:
                break
        return family
    counter.add(comb(len(can_fall), falling))  # every subset is tried: a huge group gives up at once
    out: list[Term] = []
    for subset in combinations(can_fall, falling):
        family = [_EMPTY]
        for m in subset:
            family = _product(family, families[m], limit, counter, budget)
            if not family:
                break
        out.extend(family)
    return _minimize(out)


def _node_family(circuit, n, families, limit, counter, budget, terms: "_CondTerms") -> list[Term]:
    host = circuit.host_of[circuit.owner[n]]
    out: list[Term] = [(frozenset((host,)), _NONE)] if host >= 0 else []
    for g in circuit.node_static[n]:
        group: StaticGroup = circuit.static_groups[g]
        out.extend(_false_family(families, group.members, group.need, limit, counter, budget))
    for r in circuit.node_requirements[n]:
        alts = circuit.requirement_alternatives[r]
        before = [_EMPTY]  # every earlier alternative unavailable
        for alt in alts:
            up, down = terms.of(alt.cond)
            if alt.serve is not None:
                chosen = _product(before, up, limit, counter, budget)
                if chosen:
                    failing = _false_family(families, alt.serve, 1, limit, counter, budget)
                    out.extend(_product(chosen, failing, limit, counter, budget))
            before = _product(before, down, limit, counter, budget)
            if not before:
                break
        out.extend(before)
    return _minimize(out)


class _CondTerms:
    """(terms under which a condition holds, terms under which it does not), over hosts,
    exact on every scenario of at most ``limit`` failed hosts (the only ones the term
    method asks about); memoised per condition."""

    def __init__(self, host_of, limit: int, counter: "_Counter") -> None:
        self.host_of = host_of
        self.limit = limit
        self.counter = counter
        self._memo: dict[Cond, tuple[list[Term], list[Term]]] = {}

    def of(self, cond: Cond) -> tuple[list[Term], list[Term]]:
        hit = self._memo.get(cond)
        if hit is None:
            hit = self._memo[cond] = self._compute(cond)
        return hit

    def _live(self, c: int) -> tuple[list[Term], list[Term]]:
        h = self.host_of[c]
        if h < 0:
            return [_EMPTY], []
        return [(_NONE, frozenset((h,)))], [(frozenset((h,)), _NONE)]

    def _compute(self, cond: Cond) -> tuple[list[Term], list[Term]]:
        op = cond[0]
        if op == "true":
            return [_EMPTY], []
        if op == "live":
            return self._live(cond[1])
        if op == "any":
            return self._atleast(cond[1], 1)
        if op == "atleast":
            return self._atleast(cond[1], cond[2])
        if op == "and":
            up, down = [_EMPTY], []
            for part in cond[1]:
                p_up, p_down = self.of(part)
                up = _conjoin(up, p_up, self.limit)
                down = down + p_down
            return _minimize(up), _minimize(down)
        if op == "first":  # the first live one of the order decides
            up: list[Term] = []
            down: list[Term] = []
            dead_so_far: list[Term] = [_EMPTY]
            for c, ok in cond[1]:
                live_c, dead_c = self._live(c)
                (up if ok else down).extend(_conjoin(dead_so_far, live_c, self.limit))
                # (more dead than the limit is no scenario asked about: a long order, a
                # failover cluster of thousands, stops at the limit's length)
                dead_so_far = _conjoin(dead_so_far, dead_c, self.limit)
                if not dead_so_far:
                    break
            down.extend(dead_so_far)  # none live
            return _minimize(up), _minimize(down)
        raise AssertionError(f"unknown condition {op}")

    def _atleast(self, comps, k: int) -> tuple[list[Term], list[Term]]:
        comps = list(comps)
        hosts = [self.host_of[c] for c in comps]
        down = [(p, _NONE) for p in _falling_host_sets(hosts, len(comps) - k + 1, self.limit, self.counter)]
        if not down:  # no scenario of at most ``limit`` failed hosts makes it false
            return [_EMPTY], []
        self.counter.add(comb(len(comps), k))  # the live subsets below, bounded like any term family
        lives = [self._live(c) for c in comps]
        up: list[Term] = []
        for subset in combinations(range(len(comps)), k):
            family = [_EMPTY]
            for i in subset:
                family = _conjoin(family, lives[i][0], self.limit)
            up.extend(family)
        return _minimize(up), _minimize(down)


def _conjoin(left: list[Term], right: list[Term], limit: int) -> list[Term]:
    """Consistent pairwise conjunctions with at most ``limit`` failed hosts (unminimized:
    conditions are small)."""
    out = []
    for p1, n1 in left:
        for p2, n2 in right:
            p, q = p1 | p2, n1 | n2
            if len(p) <= limit and not p & q:
                out.append((p, q))
    return out


def _product(left, right, limit, counter, budget) -> list[Term]:
    """Minimal consistent conjunctions of one term from each family, with at most
    ``limit`` failed hosts."""
    if not left or not right:
        return []
    shared: list[Term] = []
    if len(left) * len(right) > _SHARED_FROM:  # as _set_product: a term both hold is its own conjunction
        left, right, shared = _shared(left, right)
    work = len(shared) + len(left) * len(right)
    if counter.__class__ is list:  # a bare count, bounded by ``budget``
        counter[0] += work
        if counter[0] > budget:
            raise BudgetExceeded()
    else:
        counter.add(work)
    out = [t for t in shared if len(t[0]) <= limit]
    for p1, n1 in left:
        for p2, n2 in right:
            p = p1 | p2
            if len(p) > limit:
                continue
            q = n1 | n2
            if p & q:
                continue
            out.append((p, q))
    return _minimize(out)


def _minimize(family: list[Term]) -> list[Term]:
    """The terms no other term subsumes, without duplicates, in a stable order.

    A term is compared with the kept ones, or, once those outnumber the subsets of its
    failed hosts, looked up by each subset (terms are small, families need not be: a
    web tier needing ten thousand pairs was the square of them)."""
    unique = sorted(set(family), key=lambda t: (len(t[0]), len(t[1]), sorted(t[0]), sorted(t[1])))
    kept: list[Term] = []
    by_failed: dict[frozenset[int], list[frozenset[int]]] = {}
    for p, q in unique:
        if len(kept) < (1 << len(p)):
            if any(kp <= p and kq <= q for kp, kq in kept):
                continue
        elif any(kq <= q for sub in _subsets(p, True) for kq in by_failed.get(sub, ())):
            continue
        kept.append((p, q))
        by_failed.setdefault(p, []).append(q)
    return kept


def _subsets(p: frozenset[int], whole: bool):
    """The subsets of ``p``, with ``p`` itself when ``whole``."""
    items = tuple(p)
    for size in range(len(items) + (1 if whole else 0)):
        for combo in combinations(items, size):
            yield frozenset(combo)


# -- the same on a circuit whose conditions only fall as hosts fail -------------------------

def monotone_cut_sets(circuit, limit: int, budget: int | None = None, accept=None) -> list[frozenset[int]]:
    """:func:`minimal_cut_sets` of a circuit without live-first alternatives (every
    requirement's alternatives serve whenever available, every condition monotone:
    :class:`RelaxedCircuit`), whose terms need no hosts that stay live: each is a
    plain set of failed hosts, and sets are unioned and compared in C.

    Same fixed point, order, truncation and budget as :func:`minimal_cut_sets`; the
    terms are its terms' failed parts (their live parts are all empty)."""
    downs: dict[Cond, list[frozenset[int]]] = {}
    host_of, owner = circuit.host_of, circuit.owner
    statics, group_alternatives = circuit.static_groups, circuit.requirement_alternatives

    def node_family(n, families, counter, budget):
        host = host_of[owner[n]]
        out: list[frozenset[int]] = [frozenset((host,))] if host >= 0 else []
        for g in circuit.node_static[n]:
            group = statics[g]
            out.extend(_falling_sets(families, group.members, group.need, limit, counter))
        for r in circuit.node_requirements[n]:
            before = [_NONE]  # every alternative unavailable
            for alt in group_alternatives[r]:
                if alt.serve is not None:
                    raise AssertionError("a monotone circuit's alternatives serve whenever available")
                down = downs.get(alt.cond)
                if down is None:
                    down = downs[alt.cond] = _cond_down(alt.cond, host_of, limit, counter)
                before = _set_product(before, down, limit, counter)
                if not before:
                    break
            out.extend(before)
        return _minimal_sets(out)

    def service_family(entries, families, counter, budget):
        family = [_NONE]
        for m in entries:
            family = _set_product(family, families.get(m, []), limit, counter)
        return family

    def families():
        for _, family in _service_families(circuit, budget, node_family, service_family):
            if accept is not None:
                for p in family:
                    if accept(p):
                        raise _Accepted(p)
            yield family

    try:
        return _merged(families(), _minimal_sets)
    except _Accepted as found:
        return [found.args[0]]


class _Accepted(Exception):
    """A set ``accept`` took: the answer, whatever comes after."""


def _falling_sets(families, nodes, need, limit, counter) -> list[frozenset[int]]:
    """Sets under which fewer than ``need`` of ``nodes`` hold."""
    falling = len(nodes) - need + 1
    if falling <= 0:
        return [_NONE]
    if falling == 1 == len(nodes):  # most groups (a node and its body): the member's family,
        family = families.get(nodes[0], [])  # already minimal, and within the limit as every family is
        if family:
            counter.add(len(family))  # as the product with the empty set below would count
        counter.add(1)
        return family
    nodes = [m for m in nodes if families.get(m)]  # the others never fall (within the limit)
    if len(nodes) < falling:
        return []
    if falling < len(nodes) and comb(len(nodes), falling) > _host_sets_up_to(families, nodes, limit):
        return _covering_host_sets(families, nodes, falling, limit, counter)
    chosen = [nodes] if falling == len(nodes) else combinations(nodes, falling)
    out: list[frozenset[int]] = []
    for subset in chosen:
        family = [_NONE]
        for m in subset:
            family = _set_product(family, families.get(m, []), limit, counter)
            if not family:
                break
        out.extend(family)
        counter.add(1)  # every subset tried counts, so a huge group cannot run unbounded
    return _minimal_sets(out)


def _host_sets_up_to(families, nodes, limit: int) -> int:
    """How many sets of at most ``limit`` hosts the families of ``nodes`` name: what
    :func:`_covering_host_sets` tries at worst."""
    hosts = {h for m in nodes for p in families[m] for h in p}
    return sum(comb(len(hosts), size) for size in range(1, limit + 1))


def _covering_host_sets(families, nodes, falling: int, limit: int, counter) -> list[frozenset[int]]:
    """:func:`_falling_sets` by hosts rather than by subsets of nodes, for a group whose
    subsets are too many (a quorum of hundreds needs the fall of half of them): the
    minimal sets ``S`` of at most ``limit`` hosts under which at least ``falling`` of
    ``nodes`` fall, a node falling when one set of its family is inside ``S``.

    The same sets: a minimal ``S`` is the union of one set from each of ``falling``
    fallen nodes (that union makes them fall too), which is what the subsets give.
    A depth-first search over the hosts the families name, most nodes touched first,
    counting the fallen nodes as hosts are added (failing more only fells more) and
    pruned when even the heaviest hosts left could not fell enough: a host fells only
    nodes whose families name it. Each set tried is counted against the budget."""
    always = sum(1 for m in nodes if _NONE in families[m])
    if always >= falling:
        return [_NONE]
    touching: dict[int, list[tuple[int, frozenset[int]]]] = {}  # a host -> (node, set naming it)
    for i, m in enumerate(nodes):
        for p in families[m]:
            for h in p:
                touching.setdefault(h, []).append((i, p))
    ranked = sorted(touching, key=lambda h: (-len({i for i, _ in touching[h]}), h))
    weights = [len({i for i, _ in touching[h]}) for h in ranked]
    fallen = [_NONE in families[m] for m in nodes]
    out: list[frozenset[int]] = []
    _CoverSearch(ranked, weights, touching, fallen, falling, limit, counter, out).search(0, _NONE, always)
    return _minimal_sets(out)


class _CoverSearch:
    """The depth-first search of :func:`_covering_host_sets` (an object, not a closure
    calling itself, as :class:`_HostSearch`)."""

    __slots__ = ("ranked", "weights", "touching", "fallen", "falling", "limit", "counter", "out")

    def __init__(self, ranked, weights, touching, fallen, falling, limit, counter, out) -> None:
        self.ranked, self.weights, self.touching, self.fallen = ranked, weights, touching, fallen
        self.falling, self.limit, self.counter, self.out = falling, limit, counter, out

    def search(self, start: int, chosen: frozenset[int], count: int) -> None:
        weights, falling, fallen = self.weights, self.falling, self.fallen
        slots = self.limit - len(chosen)
        for i in range(start, len(self.ranked)):
            if count + sum(weights[i:i + slots]) < falling:
                return  # the weights only shrink from here
            h = self.ranked[i]
            grown = chosen | {h}
            self.counter.add(1)
            felled = []
            for node, p in self.touching[h]:
                if not fallen[node] and p <= grown:
                    fallen[node] = True
                    felled.append(node)
            if count + len(felled) >= falling:
                self.out.append(grown)  # a superset is not minimal: do not grow it
            elif slots > 1:
                self.search(i + 1, grown, count + len(felled))
            for node in felled:
                fallen[node] = False


def _cond_down(cond: Cond, host_of, limit: int, counter) -> list[frozenset[int]]:
    """The minimal sets of at most ``limit`` failed hosts under which a monotone
    condition is false."""
    op = cond[0]
    if op == "true":
        return []
    if op == "live":
        h = host_of[cond[1]]
        return [frozenset((h,))] if h >= 0 else []
    if op in ("any", "atleast"):
        comps = cond[1]
        k = 1 if op == "any" else cond[2]
        # false when more than len - k are down; a component that never fails never falls
        return _falling_host_sets([host_of[c] for c in comps], len(comps) - k + 1, limit, counter)
    if op == "and":
        out = []
        for part in cond[1]:
            out.extend(_cond_down(part, host_of, limit, counter))
        return _minimal_sets(out)
    raise AssertionError(f"not a monotone condition: {op}")


def _falling_host_sets(hosts: list[int], falling: int, limit: int, counter) -> list[frozenset[int]]:
    """The minimal sets of at most ``limit`` failed hosts under which at least
    ``falling`` of the components on ``hosts`` (one entry per component, -1 for one
    that never fails) are down.

    A depth-first search over the hosts by number of components, largest first,
    pruned when even the largest hosts left cannot reach ``falling``: a quorum of a
    thousand members on a thousand hosts with ``limit`` 2 costs nothing, where the
    subsets of size ``falling`` are astronomically many. Each set is counted against
    the budget."""
    if falling <= 0:
        return [_NONE]
    counts: dict[int, int] = {}
    for h in hosts:
        if h >= 0:
            counts[h] = counts.get(h, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    out: list[frozenset[int]] = []
    _HostSearch(ranked, falling, limit, counter, out).search(0, [], 0)
    return _minimal_sets(out)


class _HostSearch:
    """The depth-first search of :func:`_falling_host_sets` (an object, not a closure
    calling itself: that would be a reference cycle, freed only by the cyclic
    collector, which is paused while a file is checked)."""

    __slots__ = ("ranked", "weights", "falling", "limit", "counter", "out")

    def __init__(self, ranked: list[tuple[int, int]], falling: int, limit: int, counter, out: list) -> None:
        self.ranked, self.weights = ranked, [c for _, c in ranked]
        self.falling, self.limit, self.counter, self.out = falling, limit, counter, out

    def search(self, start: int, chosen: list[int], fallen: int) -> None:
        if fallen >= self.falling:
            # minimal: the set without its last (lightest) host fell too few, or the
            # search would have stopped there; without a heavier one, fewer still
            self.out.append(frozenset(self.ranked[i][0] for i in chosen))
            self.counter.add(1)
            return
        weights, falling = self.weights, self.falling
        slots = self.limit - len(chosen)
        # (the most components ``slots`` hosts from ``i`` fell: the heaviest of them)
        if slots <= 0 or fallen + sum(weights[start:start + slots]) < falling:
            return
        for i in range(start, len(self.ranked)):
            if fallen + sum(weights[i:i + slots]) < falling:
                return  # the weights only shrink from here
            chosen.append(i)
            self.search(i + 1, chosen, fallen + weights[i])
            chosen.pop()


def _set_product(left, right, limit, counter) -> list[frozenset[int]]:
    """Minimal unions of one set from each family, of at most ``limit`` hosts.

    A set in both families is its own union, and inside every union made with it:
    those are kept as they are and only the others paired (the two members of a
    pool share the cut sets of everything both need: ten thousand services needed by
    two web servers made a product of a hundred million pairs, now of one)."""
    if not left or not right:
        return []
    if len(left) == 1 and not left[0]:
        counter.add(len(right))
        return right if all(len(p) <= limit for p in right) else [p for p in right if len(p) <= limit]
    shared: list[frozenset[int]] = []
    if len(left) * len(right) > _SHARED_FROM:
        left, right, shared = _shared(left, right)
    counter.add(len(shared) + len(left) * len(right))
    return _minimal_sets([p for p in shared if len(p) <= limit] +
                         [u for a in left for b in right if len(u := a | b) <= limit])


_SHARED_FROM = 64  # pairs from which a product first sets apart what both families hold


def _shared(left: list, right: list) -> tuple[list, list, list]:
    """(left without, right without, what both hold), in the families' order."""
    both = set(left).intersection(right)
    if not both:
        return left, right, []
    return [a for a in left if a not in both], [b for b in right if b not in both], [b for b in right if b in both]


def _minimal_sets(family: list[frozenset[int]]) -> list[frozenset[int]]:
    """The sets no other set of the family is inside, without duplicates, in a stable order."""
    if len(family) <= 1:
        return family
    unique = list(set(family))
    unique.sort(key=sorted)  # then by size, stably: by (size, sorted members), with keys in C
    unique.sort(key=len)
    kept: list[frozenset[int]] = []
    index: set[frozenset[int]] = set()
    for p in unique:  # as _minimize: by the kept ones, or by p's subsets once those are fewer
        if len(kept) < (1 << len(p)):
            for k in kept:
                if k <= p:
                    break
            else:
                kept.append(p)
                index.add(p)
        elif index.isdisjoint(_subsets(p, False)):
            kept.append(p)
            index.add(p)
    return kept


# -- shared by the checks -------------------------------------------------------------------

@dataclass(frozen=True)
class StoppingSets:
    """The answer to "which sets of at most ``limit`` hosts stop a service"."""

    status: str  # "found" | "none" (no stopping set of at most ``limit``) | "unknown"
    smallest: int | None  # size of a smallest stopping set when known and <= limit
    sets: tuple[tuple[FailureUnit, ...], ...]  # smallest sets (all singletons when smallest is 1)
    method: str
    reason: str | None = None
    # per set of ``sets``, the services it stops where the search found them (single
    # hosts: each was tried on the circuit), else None: a check reporting them need not
    # try them again
    stopped: tuple[list[str], ...] | None = None


def smallest_stopping_sets(circuit: ServingCircuit, limit: int, timeout: float,
                           every_set: bool = True) -> StoppingSets:
    """Smallest sets of at most ``limit`` hosts that stop a service (baseline must be up).

    Single hosts are tried one by one on the circuit (:meth:`ServingCircuit.stopped_by`:
    exact on any structure, each costing what its failure reaches), so every single
    point is listed. Larger sets come from the term method (method ``graph``, from two
    hosts up): on monotone circuits :func:`minimal_cut_sets`, the classic minimal cut
    sets; on others the relaxed monotone circuit first (:func:`monotone_cut_sets`),
    then terms that also carry the hosts that must stay live (a live first alternative
    that does not serve). When the term families exceed their budget, MaxSAT (method
    ``z3``).

    ``every_set=False``: only the size matters (``no-spof`` with k=1 reports the margin,
    not the sets): the relaxed search stops at the first set that really stops a
    service, which is a smallest one, and ``sets`` holds that one.
    """
    units, members = circuit.members_of("host")
    singles = []
    stops: dict[FailureUnit, list[str]] = {}  # a single point -> the services it stops
    watched, groups = _near_entries(circuit) if not every_set and limit >= 2 else (set(), {})
    killers: dict[int, list[int]] = {}  # a watched node -> the hosts that alone take it down
    for h in range(len(units)):
        changed = circuit.changed_by(members[h])
        down = circuit.down_after(changed)
        if down:
            singles.append((units[h],))
            stops[units[h]] = down
        elif watched and not singles:
            for n in circuit.fallen(changed, watched):
                killers.setdefault(n, []).append(h)
    if singles:
        sets = _sorted_sets(singles)
        return StoppingSets("found", 1, sets, "graph", stopped=tuple(stops[unit] for unit, in sets))
    if limit < 2:
        return StoppingSets("none", None, (), "graph")
    if not every_set:
        pair = _pair_of_single_killers(circuit, killers, groups)
        if pair is not None:
            return StoppingSets("found", 2, _sorted_sets([tuple(units[h] for h in pair)]), "graph")
    if not circuit.monotone:
        relaxed = _relaxed_stopping_sets(circuit, limit, every_set)
        if relaxed is not None:
            return relaxed
    terms = None
    try:
        # iterative deepening: a small stopping set is found with small (cheap) families
        for depth in range(2, limit + 1):
            terms = minimal_cut_sets(circuit, depth)
            if terms:
                break
    except BudgetExceeded:
        terms = None
    if terms is not None:
        if not terms:
            return StoppingSets("none", None, (), "graph")
        size = min(len(p) for p, _ in terms)
        chosen = {p for p, _ in terms if len(p) == size}
        return StoppingSets("found", size, _sorted_sets([tuple(circuit.hosts[h] for h in p) for p in chosen]),
                            "graph")
    from ..results import Status
    from .failure_z3 import minimum_stopping_set

    outcome = minimum_stopping_set(circuit, timeout, at_most=limit)
    if outcome.status is Status.UNKNOWN:
        return StoppingSets("unknown", None, (), "z3", outcome.reason)
    if outcome.status is Status.PROVED or len(outcome.hosts) > limit:
        return StoppingSets("none", None, (), "z3")
    return StoppingSets("found", len(outcome.hosts), (tuple(circuit.hosts[h] for h in outcome.hosts),), "z3")


_PAIR_TRIES = 64  # pairs of single killers tried before the term methods


def _near_entries(circuit: ServingCircuit) -> tuple[set[int], dict[int, list[StaticGroup]]]:
    """The services' entry nodes with the members of their static groups (where a pair
    of single points shows: a name with two answers, a pool of two, each with its own
    weak spot), and each entry's static groups."""
    entries = {n for _, nodes in circuit.services for n in nodes}
    groups: dict[int, list[StaticGroup]] = {}
    watched = set(entries)
    for group in circuit.static_groups:
        if group.node in entries:
            groups.setdefault(group.node, []).append(group)
            watched.update(group.members)
    return watched, groups


def _pair_of_single_killers(circuit: ServingCircuit, killers: dict[int, list[int]],
                            groups: dict[int, list[StaticGroup]]) -> tuple[int, int] | None:
    """Two hosts that really stop a service, guessed from what single hosts take down,
    or None (``killers``: an entry node or a member of an entry's static group -> the
    hosts whose failure alone takes it down; ``groups``: each entry's static groups).

    No single host stops a service, so a pair that does is a smallest stopping set:
    the common shape of a service whose every answer (entry, pool member) has its
    own single point of failure is found without the term methods. The guesses, one
    per service in the circuit's order: hosts taking down the two entries between
    them, else, for a service of one entry, hosts taking down two members of one of
    its groups that falls with two. A guess is kept only when the circuit confirms
    it (failing more can revive a node, so two singles' effects together prove
    nothing), at most :data:`_PAIR_TRIES` tried."""
    if not killers:
        return None
    _, members = circuit.members_of("host")
    tries = 0
    for _, entries in circuit.services:
        pair = _guess_pair(entries, killers, groups)
        if pair is None:
            continue
        if circuit.stopped_by([c for h in pair for c in members[h]]):
            return pair
        tries += 1
        if tries >= _PAIR_TRIES:
            return None
    return None


def _guess_pair(entries, killers: dict[int, list[int]],
                groups: dict[int, list[StaticGroup]]) -> tuple[int, int] | None:
    """Two distinct hosts, each taking down one of two nodes whose fall together would
    stop the service of ``entries`` (see :func:`_pair_of_single_killers`), or None."""
    if len(entries) == 2:
        x, y = entries
        return _distinct(killers.get(x), killers.get(y))
    if len(entries) != 1:
        return None
    (entry,) = entries
    for group in groups.get(entry, ()):
        if len(group.members) - group.need + 1 != 2:
            continue
        weak = [m for m in group.members if m in killers]
        for i, x in enumerate(weak):
            for y in weak[i + 1:]:
                pair = _distinct(killers[x], killers[y])
                if pair is not None:
                    return pair
    return None


def _distinct(a: list[int] | None, b: list[int] | None) -> tuple[int, int] | None:
    """A host of ``a`` and another of ``b`` (the first such), or None."""
    if not a or not b:
        return None
    for x in a[:2]:
        for y in b[:2]:
            if x != y:
                return (x, y)
    return None


def _relaxed_stopping_sets(circuit: ServingCircuit, limit: int, every_set: bool = True) -> StoppingSets | None:
    """The answer from :class:`RelaxedCircuit` when it settles the question, no single
    host stopping a service: no relaxed stopping set of at most ``limit`` hosts (then
    there is no real one), or smallest relaxed sets of which some really stop a
    service (then they are the smallest real ones). None otherwise (a budget
    exceeded, or no smallest relaxed set really stops).

    Without ``every_set``, the first relaxed set found that really stops a service
    (service by service) is the answer: no real set is smaller, because a smaller
    real one would be a relaxed one found at an earlier depth, and no single host
    stops a service."""
    relaxed = RelaxedCircuit(circuit)
    _, members = circuit.members_of("host")

    def really_stops(p: frozenset[int]) -> bool:
        return bool(circuit.stopped_by([c for h in p for c in members[h]]))

    try:
        for depth in range(2, limit + 1):  # no single host stops a service (tried first)
            terms = monotone_cut_sets(relaxed, depth, accept=None if every_set else really_stops)
            if terms:
                break
    except BudgetExceeded:
        return None
    if not terms:
        return StoppingSets("none", None, (), "graph")
    size = min(len(p) for p in terms)
    real = [p for p in {p for p in terms if len(p) == size} if really_stops(p)]
    if not real:
        return None
    return StoppingSets("found", size, _sorted_sets([tuple(circuit.hosts[h] for h in p) for p in real]), "graph")


def _sorted_sets(sets: list[tuple[FailureUnit, ...]]) -> tuple[tuple[FailureUnit, ...], ...]:
    normal = [tuple(sorted(s, key=lambda u: u.label)) for s in sets]
    return tuple(sorted(normal, key=lambda s: [u.label for u in s]))


# -- a monotone under-approximation of serving, for proofs on non-monotone structures ------

class RelaxedCircuit:
    """A monotone circuit whose services serve only where the real ones do.

    Each node ``n`` of the real circuit becomes a *value* node (``n``: its owner is
    live and its body holds) and a *body* node (``N + n``, owned by nothing that can
    fail). A requirement with alternatives ``a_1 .. a_j`` is replaced by "some
    alternative is available" AND, for every alternative, "its target's body
    holds" (or, where the entry nodes are not the target's own, their values):
    whichever alternative the real requirement picks is available and its body
    holds, so it serves. A condition is narrowed to a monotone one no larger than
    it: "the first live one of an order is acceptable" becomes "a member of the
    acceptable prefix of the order is live" (then the first live one is in it).

    Every operator is pointwise at most the real one and monotone, so its greatest
    fixed point is at most the real one: every set that stops a real service stops
    a relaxed one. Hence "no relaxed stopping set of at most L hosts" proves the
    same for the real circuit, and a smallest relaxed set that really stops a
    service is a smallest real one.
    """

    def __init__(self, circuit: ServingCircuit) -> None:
        n_nodes = len(circuit.node_keys)
        self._real = circuit
        self._n = n_nodes
        self.hosts = circuit.hosts
        self.host_of = circuit.host_of
        self.owner = list(circuit.owner) + [circuit.never] * n_nodes
        self.static_groups: list[StaticGroup] = []
        self.requirement_nodes: list[int] = []  # per requirement group, as the real circuit's
        self.requirement_alternatives: list[list[Alternative]] = []
        # built node by node, when a search first reads a node (most stop early)
        self._static: dict[int, list[int]] = {}
        self._requirements: dict[int, list[int]] = {}
        self.node_static = _Built(self, self._static)
        self.node_requirements = _Built(self, self._requirements)
        self.services = circuit.services
        self.node_keys = [None] * (2 * n_nodes)
        self._dependencies: dict[int, list[int]] = {}
        # id of a real alternative -> (it, kept alive for the id, its narrowed form or None)
        self._narrowed: dict[int, tuple[Alternative, Alternative | None]] = {}

    def _build(self, n: int) -> None:
        """The groups of value node ``n`` and body node ``N + n``."""
        circuit, n_nodes = self._real, self._n
        body = n_nodes + n
        groups = self.static_groups
        self._static[n] = [len(groups)]
        groups.append(StaticGroup(n, (body,), 1))
        of_body = self._static[body] = []
        self._requirements[n] = []
        self._requirements[body] = of_body_requirements = []
        real_groups = circuit.static_groups
        for g in circuit.node_static[n]:
            group = real_groups[g]
            of_body.append(len(groups))
            groups.append(StaticGroup(body, group.members, group.need))
        owners, narrowed_of = circuit.owner, self._narrowed
        for r in circuit.node_requirements[n]:
            available = []
            for alt in circuit.requirement_alternatives[r]:
                narrowed = narrowed_of.get(id(alt))
                if narrowed is None:  # an alternative is often shared by the nodes of a pool
                    cond = _monotone_cond(alt.cond)
                    narrowed = narrowed_of[id(alt)] = (alt, None if cond is None else
                                                       Alternative(alt.target, cond, None, True))
                if narrowed[1] is not None:
                    available.append(narrowed[1])
                serve = alt.serve
                if serve is None:
                    continue
                owner = circuit.comp_index.get(alt.target)
                if owner is not None:
                    for m in serve:
                        if owners[m] != owner:
                            break
                    else:
                        serve = tuple(n_nodes + m for m in serve)
                of_body.append(len(groups))
                groups.append(StaticGroup(body, serve, 1))
            of_body_requirements.append(len(self.requirement_nodes))
            self.requirement_nodes.append(body)
            self.requirement_alternatives.append(available)

    service_cone = ServingCircuit.service_cone

    def cone_size(self) -> int:
        """At least the size of :meth:`service_cone`: a value and a body node per node
        of the real circuit's (without walking, so building, every node)."""
        return 2 * self._real.cone_size()

    def dependencies(self, n: int) -> list[int]:
        """As :meth:`ServingCircuit.dependencies`, computed once per node (the term
        method walks them three times; this circuit lives for one search)."""
        hit = self._dependencies.get(n)
        if hit is None:
            hit = self._dependencies[n] = ServingCircuit.dependencies(self, n)
        return hit


class _Built:
    """A node's group indices in a :class:`RelaxedCircuit`, built on first reading."""

    __slots__ = ("_circuit", "_lists")

    def __init__(self, circuit: RelaxedCircuit, lists: dict[int, list[int]]) -> None:
        # weakly: the circuit holds this object, and a cycle would keep both (with the
        # whole model behind them) until the paused cyclic collector runs
        self._circuit = weakref.ref(circuit)
        self._lists = lists

    def __getitem__(self, node: int) -> list[int]:
        hit = self._lists.get(node)
        if hit is None:
            circuit = self._circuit()
            circuit._build(node % circuit._n)
            hit = self._lists[node]
        return hit


def _monotone_cond(cond: Cond) -> Cond | None:
    """A monotone condition that implies ``cond`` (None when none but "never")."""
    op = cond[0]
    if op == "first":
        prefix = []
        for c, ok in cond[1]:
            if not ok:
                break
            prefix.append(c)
        return ("any", tuple(prefix)) if prefix else None
    if op == "and":
        parts = []
        for part in cond[1]:
            narrowed = _monotone_cond(part)
            if narrowed is None:
                return None
            parts.append(narrowed)
        return ("and", tuple(parts))
    return cond
