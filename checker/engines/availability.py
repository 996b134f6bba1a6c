"""Availability: the exact probability that every service is up, from the serving circuit.

Every failure unit (host, zone, region) is up with its own probability, all of
them independently (LANGUAGE.md section 7.9). :class:`AvailabilityModel`
turns the compiled serving circuit (:class:`checker.engines.circuit.ServingCircuit`)
into binary decision diagrams over one variable per unit ("the unit is up"),
the first twelve regions and zones (:data:`MAX_CONDITIONED`) ordered first,
hosts in the order a depth-first walk from the services meets them, each
other zone and region just before the first host it holds, and computes with
them:

* **The serving functions.** The greatest fixed point of the serving equations,
  symbolically: every node starts as TRUE and is recomputed as
  ``live(owner) AND its groups AND its requirements`` (a threshold function for
  a static group, an if-then-else chain over the alternatives' liveness
  conditions for a requirement group) until no diagram changes. For every
  assignment of up/down to the units this is the concrete iteration from
  "everything serves" downwards, which the circuit's own evaluation and the
  reference evaluator compute, so each service's diagram is exactly the set of
  scenarios in which it is up. Nothing here assumes monotonicity: a failed
  first alternative that hands the request to a second one is an
  if-then-else, not an OR.
* **Exact probabilities.** ``P(f) = p(x) P(f | x up) + (1 - p(x)) P(f | x down)``
  over the diagram, in :class:`fractions.Fraction`. The probability that
  *every* service is up is computed without building their conjunction: the
  services fall into groups that share no host (nor any zone or region past
  the first :data:`MAX_CONDITIONED`), which, once the zones and regions are
  fixed, are independent; the zones and regions are conditioned on one by
  one (with memoised states), and per state the groups' probabilities
  multiply. Integers carry a common denominator, so the big numbers of a large
  file (the denominator of ``0.999 ** 10000`` has 30,000 digits) are
  multiplied, never reduced, until the end.
* **The scenarios that cost the most.** A stopping set is a set F of units
  whose failure (and nothing else's) stops a service; a minimal one has no
  proper subset that does. The most probable stopping set of a service is the
  heaviest path to TRUE in the diagram of "the service is down", a path's
  weight being the product of ``1 - p`` over the units it takes down (units
  off the path stay up); it is minimal, since a proper subset would weigh
  more. Excluding its supersets (conjoining "some unit of F is up") and asking
  again gives the next, so merging the services' sequences gives the minimal
  stopping sets of the whole file in decreasing order of ``P(every unit of F
  is down)``, ties broken by size and then by unit order. Each is reported
  with ``P(every unit of F is down and some service is down)`` (equal to the
  product on monotone structures) and its share of the unavailability.

When the exact computation cannot finish in its time, :func:`compute` returns
proven bounds instead (see :class:`Outcome`); it never guesses.

References: R. E. Bryant, *Graph-based algorithms for Boolean function
manipulation* (1986); A. Rauzy, *New algorithms for fault trees analysis*
(1993), for decision diagrams of fault trees and their minimal cut sets;
T. E. Harris (1960) and Fortuin, Kasteleyn and Ginibre (1971) for the
positive correlation of increasing events that the monotone bound uses.
"""

from __future__ import annotations

import heapq
import math
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Iterable, Sequence

from ..model import FailureUnit, Topology
from .circuit import ServingCircuit

#: Default availability of each level (99.9 %, 99.99 %, 99.999 %), as fractions of one.
DEFAULT_HOST = Fraction(999, 1000)
DEFAULT_ZONE = Fraction(9999, 10000)
DEFAULT_REGION = Fraction(99999, 100000)

#: Most zone and region variables conditioned on one by one when combining
#: groups of services (the rest join groups like hosts).
MAX_CONDITIONED = 12

#: Most stopping scenarios reported.
SCENARIOS = 5

ONE = Fraction(1)
ZERO = Fraction(0)


class OutOfTime(Exception):
    """The exact computation ran past its share of the check's time."""


@dataclass(frozen=True)
class Rates:
    """The availability of a unit of each level that sets none of its own."""

    host: Fraction = DEFAULT_HOST
    zone: Fraction = DEFAULT_ZONE
    region: Fraction = DEFAULT_REGION


def unit_availability(topology: Topology, units: Iterable[FailureUnit], rates: Rates) -> dict[FailureUnit, Fraction]:
    """Each unit's probability of being up: its own ``availability`` (a host's
    through any component on it, a zone's clause, a region's statement), else the
    level's rate. The implicit ``zone:(unzoned)`` and ``region:(unregioned)`` take
    the rates."""
    hosts: dict[FailureUnit, Fraction] = {}
    for name, comp in topology.components.items():
        if comp.availability is not None:
            hosts.setdefault(topology.host_unit(name), comp.availability)
    out: dict[FailureUnit, Fraction] = {}
    for unit in units:
        if unit.kind == "host":
            out[unit] = hosts.get(unit, rates.host)
        elif unit.kind == "zone":
            zone = topology.zones.get(unit.name)
            out[unit] = zone.availability if zone is not None and zone.availability is not None else rates.zone
        else:
            out[unit] = topology.region_availability.get(unit.name, rates.region)
    return out


@dataclass(frozen=True)
class Scenario:
    """A minimal stopping set, with what it costs."""

    units: tuple[FailureUnit, ...]  # sorted by label
    all_down: Fraction  # P(every unit of it is down)
    probability: Fraction  # P(every unit of it is down and some service is down)
    services: tuple[str, ...]  # the services whose diagram produced it (the replay says what it stops)


@dataclass
class Outcome:
    """What :func:`compute` established.

    ``exact`` is True when ``lower == upper`` is the probability that every
    service is up. Otherwise ``lower <= P(every service up) <= upper`` is proved
    and ``reason`` says why the exact value is missing. ``services`` holds each
    service's own exact availability (those computed), ``scenarios`` the most
    probable minimal stopping sets found, ``method`` how the value was obtained.
    """

    lower: Fraction
    upper: Fraction
    exact: bool
    services: dict[str, Fraction] = field(default_factory=dict)
    scenarios: list[Scenario] = field(default_factory=list)
    method: str = "bdd"
    reason: str | None = None
    backend: str = ""
    nodes: int = 0  # decision-diagram nodes in the manager at the end

    @property
    def unavailability(self) -> Fraction:
        return 1 - self.lower


def compute(circuit: ServingCircuit, availability: dict[FailureUnit, Fraction], monotone: bool,
            deadline: float, scenario_deadline: float, scenarios: int = SCENARIOS,
            backend: str | None = None) -> Outcome:
    """The probability that every service of ``circuit`` is up, and what costs the most.

    ``availability`` gives each unit's probability of being up; ``monotone`` is
    :attr:`ServingCircuit.monotone` (it allows the stronger bound below).
    The exact computation stops at ``deadline`` (``time.monotonic()``), the
    search for scenarios at ``scenario_deadline``.

    Bounds when the exact value is not reached in time: each service, and each
    group of services, whose probability was computed exactly gives
    ``P(all up) <= P(it is up)``;
    with every group computed, ``P(all up) >= 1 - sum(P(group down))`` (the
    union bound) and, on monotone structures, ``P(all up) >= prod(P(group up))``
    (the groups being up are increasing events of independent units, which are
    positively correlated: Harris-FKG); with a group missing, the lower bound
    is 0.
    """
    model = AvailabilityModel(circuit, availability, deadline, backend)
    outcome = Outcome(ZERO, ONE, False, backend=model.backend)
    try:
        model.build()
        for name, function in model.service_functions:
            outcome.services[name] = model.probability(function)
            outcome.upper = min(outcome.upper, outcome.services[name])
        groups = model.groups()
        group_probabilities = [model.probability(g) for g in groups]
        if group_probabilities:
            outcome.upper = min(group_probabilities)
            union = 1 - sum((1 - p for p in group_probabilities), ZERO)
            outcome.lower = max(ZERO, union)
            if monotone:
                outcome.lower = max(outcome.lower, _product_fractions(group_probabilities))
        else:
            outcome.lower = outcome.upper = ONE
        value = model.all_up(groups)
        outcome.lower = outcome.upper = value
        outcome.exact = True
    except OutOfTime:
        outcome.reason = "the exact computation did not finish in the time left"
    except RecursionError:
        outcome.reason = "the decision diagrams grew too deep for the pure-Python backend"
    model.deadline = scenario_deadline
    try:
        if model.built:
            outcome.scenarios = model.costliest(scenarios, monotone, outcome if outcome.exact else None)
    except (OutOfTime, RecursionError):
        pass
    outcome.nodes = model.size()
    model.close()
    return outcome


def _product_fractions(values: Sequence[Fraction]) -> Fraction:
    return Fraction(_product([v.numerator for v in values]), _product([v.denominator for v in values]))


def _product(values: Sequence[int]) -> int:
    """The product of integers, multiplied in a balanced tree (big factors meet late)."""
    values = list(values)
    if not values:
        return 1
    while len(values) > 1:
        values = [values[i] * values[i + 1] if i + 1 < len(values) else values[i] for i in range(0, len(values), 2)]
    return values[0]


def _manager(backend: str | None = None):
    """A decision-diagram manager: CUDD through ``dd.cudd`` where its wheel is
    installed, else ``dd.autoref`` (pure Python); ``backend`` ("cudd",
    "autoref") forces one. Reordering stays off, so the variable order is the
    one chosen here, and results do not depend on the backend."""
    try:
        if backend == "autoref":
            raise ImportError("pure Python asked for")
        from dd import cudd

        from ..limits import memory_cap_mb

        cap = memory_cap_mb()
        estimate = 1 << 30 if cap is None else max(64, cap // 2) << 20
        try:
            manager = cudd.BDD(memory_estimate=estimate)
        except ValueError:  # more than the machine has
            manager = cudd.BDD(memory_estimate=256 << 20)
        manager.configure(reordering=False)
        return manager, "cudd"
    except ImportError:
        from dd import autoref

        manager = autoref.BDD()
        manager.configure(reordering=False)
        return manager, "autoref"


class AvailabilityModel:
    """The serving functions of a circuit as decision diagrams over unit variables."""

    def __init__(self, circuit: ServingCircuit, availability: dict[FailureUnit, Fraction], deadline: float,
                 backend: str | None = None) -> None:
        self.circuit = circuit
        self.deadline = deadline
        self.bdd, self.backend = _manager(backend)
        order = self._unit_order()
        self.units: list[FailureUnit] = [unit for _, unit in order]
        self.names = [f"u{i}" for i in range(len(order))]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.up = [availability[unit] for unit in self.units]
        self.base = math.lcm(*(p.denominator for p in self.up)) if self.up else 1
        self.weights = [p.numerator * (self.base // p.denominator) for p in self.up]
        self.conditioned = sum(1 for _, unit in order if unit.kind != "host")
        self.conditioned = min(self.conditioned, MAX_CONDITIONED)
        if self.names:
            self.bdd.declare(*self.names)
        self.var_of: dict[tuple[str, int], str] = {key: self.names[i] for i, (key, _) in enumerate(order)}
        self.true, self.false = self.bdd.true, self.bdd.false
        self._live: dict[int, object] = {}
        self._conds: dict[tuple, object] = {}
        self._p: dict[int, tuple[object, tuple[int, int]]] = {}
        self._supports: dict[int, tuple[object, set[str]]] = {}
        self._groups: list | None = None
        self._logs: list[float] | None = None  # per variable (see heaviest)
        self._classes: list[int] | None = None
        self._class_factors: list[Fraction] = []
        self.service_functions: list[tuple[str, object]] = []
        self.built = False
        self._ticks = 0

    # -- the variable order ---------------------------------------------------------------

    def _unit_order(self) -> list[tuple[tuple[str, int], FailureUnit]]:
        """The first :data:`MAX_CONDITIONED` regions and zones (regions first), then the
        hosts in the order a depth-first walk from the services meets their components
        (each host next to what it serves with), each after its zone and region when
        those are not among the first: a zone's variable sits next to its hosts'. With
        every zone first, a pool of 20 web servers in 20 zones of their own had a diagram
        of 2^20 nodes (50 s and 2 GB), the zones' states all kept until the hosts."""
        c = self.circuit
        levels = [(("region", i), u) for i, u in enumerate(c.regions)] + [(("zone", i), u) for i, u in enumerate(c.zones)]
        out: list[tuple[tuple[str, int], FailureUnit]] = levels[:MAX_CONDITIONED]
        placed = {key for key, _ in out}
        seen_hosts: set[int] = set()
        hosts: list[tuple[tuple[str, int], FailureUnit]] = []

        def meet(comp: int) -> None:
            for key in (("region", c.region_of[comp]), ("zone", c.zone_of[comp])):
                if key[1] >= 0 and key not in placed:
                    placed.add(key)
                    hosts.append((key, c.regions[key[1]] if key[0] == "region" else c.zones[key[1]]))
            h = c.host_of[comp]
            if h >= 0 and h not in seen_hosts:
                seen_hosts.add(h)
                hosts.append((("host", h), c.hosts[h]))

        from .circuit import cond_components

        visited = bytearray(len(c.node_keys))
        stack: list[int] = []
        for _, entries in c.services:
            stack.extend(reversed(entries))
        while stack:
            n = stack.pop()
            if visited[n]:
                continue
            visited[n] = 1
            meet(c.owner[n])
            children: list[int] = []
            for g in c.node_static[n]:
                children.extend(c.static_groups[g].members)
            for r in c.node_requirements[n]:
                for alt in c.requirement_alternatives[r]:
                    for comp in sorted(cond_components(alt.cond)):
                        meet(comp)
                    children.extend(alt.serve or ())
            stack.extend(m for m in reversed(children) if not visited[m])
        out += hosts
        out += [(key, unit) for key, unit in levels if key not in placed]
        out += [(("host", h), c.hosts[h]) for h in range(len(c.hosts)) if h not in seen_hosts]
        return out

    # -- building ---------------------------------------------------------------------------

    def _tick(self) -> None:
        self._ticks += 1
        if self._ticks & 63 == 0 and time.monotonic() > self.deadline:
            raise OutOfTime()

    def live(self, comp: int):
        """The component is live: every unit it runs on is up."""
        hit = self._live.get(comp)
        if hit is not None:
            return hit
        c = self.circuit
        f = self.true
        if comp != c.never:
            for level, table in (("host", c.host_of), ("zone", c.zone_of), ("region", c.region_of)):
                uid = table[comp]
                if uid >= 0:
                    f = f & self.bdd.var(self.var_of[(level, uid)])
        self._live[comp] = f
        return f

    def cond(self, cond: tuple):
        """A liveness condition of the circuit (:data:`checker.engines.circuit.Cond`)."""
        hit = self._conds.get(cond)
        if hit is not None:
            return hit
        op = cond[0]
        if op == "true":
            f = self.true
        elif op == "live":
            f = self.live(cond[1])
        elif op == "any":
            f = self.disjoin([self.live(c) for c in cond[1]])
        elif op == "atleast":
            f = self.at_least([self.live(c) for c in cond[1]], cond[2])
        elif op == "first":  # the first live one of the order decides
            f = self.false
            for comp, ok in reversed(cond[1]):
                f = self.bdd.ite(self.live(comp), self.true if ok else self.false, f)
        elif op == "and":
            f = self.conjoin([self.cond(part) for part in cond[1]])
        else:
            raise AssertionError(f"unknown condition {op}")
        self._conds[cond] = f
        return f

    def conjoin(self, fs: Sequence):
        return _balanced(list(fs), lambda a, b: a & b, self.true)

    def disjoin(self, fs: Sequence):
        return _balanced(list(fs), lambda a, b: a | b, self.false)

    def at_least(self, fs: Sequence, k: int):
        """At least ``k`` of ``fs`` hold (a threshold, by dynamic programming)."""
        n = len(fs)
        if k <= 0:
            return self.true
        if k > n:
            return self.false
        if k == 1:
            return self.disjoin(fs)
        if k == n:
            return self.conjoin(fs)
        # row[j]: at least j of the items seen so far hold. At least j implies at least
        # j - 1, so row[j] | (f & row[j - 1]) is ite(f, row[j - 1], row[j]); taken with the
        # deepest items first, f's own variable lies above the rows' and the step is one
        # new node where the apply walked the rows (a quorum of 401 members: 38 s)
        index, support = self.index, self.support
        deepest = [max((index[v] for v in support(f)), default=-1) for f in fs]
        ite = self.bdd.ite
        row = [self.true] + [self.false] * k
        for t, i in enumerate(sorted(range(n), key=lambda i: -deepest[i]), start=1):
            f = fs[i]
            # only the counts from which the items left can still reach k matter
            for j in range(min(k, t), max(1, k - (n - t)) - 1, -1):
                row[j] = ite(f, row[j - 1], row[j])
            self._tick()
        return row[k]

    def build(self) -> None:
        """Every service's function: the greatest fixed point of the serving equations."""
        if time.monotonic() > self.deadline:
            raise OutOfTime()
        c = self.circuit
        order = c.service_cone()
        position = {n: i for i, n in enumerate(order)}
        value: dict[int, object] = {n: self.true for n in order}
        dependents: dict[int, list[int]] = {n: [] for n in order}
        for n in order:
            for m in c.dependencies(n):
                dependents[m].append(n)
        heap = list(range(len(order)))
        queued = set(heap)
        limit = sys.getrecursionlimit()
        if self.backend == "autoref" and sys.version_info >= (3, 11):
            sys.setrecursionlimit(max(limit, 100_000))  # dd.bdd recurses once per level
        try:
            while heap:
                i = heapq.heappop(heap)
                queued.discard(i)
                n = order[i]
                new = self._node(n, value)
                self._tick()
                if new != value[n]:
                    value[n] = new
                    for d in dependents[n]:
                        j = position[d]
                        if j not in queued:
                            queued.add(j)
                            heapq.heappush(heap, j)
            self.service_functions = [(name, self.disjoin([value[m] for m in entries]))
                                      for name, entries in c.services]
        finally:
            sys.setrecursionlimit(limit)
        self.built = True

    def _node(self, n: int, value: dict[int, object]):
        c = self.circuit
        parts = [self.live(c.owner[n])]
        for g in c.node_static[n]:
            group = c.static_groups[g]
            parts.append(self.at_least([value[m] for m in group.members], group.need))
        for r in c.node_requirements[n]:
            chosen = self.false  # no alternative available: unmet
            for alt in reversed(c.requirement_alternatives[r]):
                serves = self.true if alt.serve is None else self.disjoin([value[m] for m in alt.serve])
                chosen = self.bdd.ite(self.cond(alt.cond), serves, chosen)
            parts.append(chosen)
        return self.conjoin(parts)

    def size(self) -> int:
        return len(self.bdd)

    def close(self) -> None:
        """Drop every diagram before the manager (a manager must outlive its nodes)."""
        self._live.clear()
        self._conds.clear()
        self._p.clear()
        self._supports.clear()
        self._groups = None
        self.service_functions = []
        self.true = self.false = None

    # -- probabilities ------------------------------------------------------------------------

    def _children(self, u):
        """(low, high): the function with the top variable down, and up."""
        low, high = u.low, u.high
        if u.negated:
            low, high = ~low, ~high
        return low, high

    def probability(self, root) -> Fraction:
        """P(root) exactly."""
        numerator, exponent = self.scaled(root)
        return Fraction(numerator, self.base ** exponent)

    def scaled(self, root) -> tuple[int, int]:
        """P(root) as ``(N, e)`` with ``P = N / base ** e``, memoised per diagram node
        (iteratively: diagrams can be deep). Every unit's probability is
        ``weight / base`` for the common denominator ``base``, so no step reduces a
        fraction: ``N(u) = w N(high) base^(e - e_high) + (base - w) N(low) base^(e - e_low)``
        with ``e = 1 + max(e_high, e_low)``."""
        base, weights = self.base, self.weights

        def node(i: int, low: tuple[int, int], high: tuple[int, int]) -> tuple[int, int]:
            (n_low, e_low), (n_high, e_high) = low, high
            e = max(e_high, e_low)
            if e_high < e:
                n_high *= base ** (e - e_high)
            if e_low < e:
                n_low *= base ** (e - e_low)
            return weights[i] * n_high + (base - weights[i]) * n_low, e + 1

        return self._fold(root, self._p, lambda holds: (1 if holds else 0, 0), node)

    def _fold(self, root, memo: dict, leaf: Callable, node: Callable):
        """A value per node of ``root``'s diagram, bottom-up (iteratively: diagrams can
        be deep): ``leaf(holds)`` at the terminals, ``node(i, low, high)`` from the
        children's values at a node of variable ``i``. ``memo`` maps ``int(u)`` to
        ``(u, value)``, keeping ``u`` alive so that its number is not reused."""
        true, false = self.true, self.false
        stack = [root]
        while stack:
            u = stack[-1]
            key = int(u)
            if key in memo:
                stack.pop()
                continue
            if u == true or u == false:
                memo[key] = (u, leaf(u == true))
                stack.pop()
                continue
            low, high = self._children(u)
            pending = [w for w in (low, high) if int(w) not in memo]
            if pending:
                stack.extend(pending)
                continue
            memo[key] = (u, node(self.index[u.var], memo[int(low)][1], memo[int(high)][1]))
            stack.pop()
            self._tick()
        return memo[int(root)][1]

    def support(self, f) -> set[str]:
        """The variables ``f`` depends on (memoised; the entry keeps ``f`` alive)."""
        hit = self._supports.get(int(f))
        if hit is None:
            hit = self._supports[int(f)] = (f, self.bdd.support(f))
        return hit[1]

    def groups(self) -> list:
        """The conjunctions of services that share a variable other than the
        conditioned zones and regions (union-find over supports)."""
        if self._groups is not None:
            return self._groups
        parent = list(range(len(self.service_functions)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        owner: dict[str, int] = {}
        for i, (_, f) in enumerate(self.service_functions):
            for var in self.support(f):
                if self.index[var] < self.conditioned:
                    continue
                j = owner.setdefault(var, i)
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        members: dict[int, list] = {}
        for i, (_, f) in enumerate(self.service_functions):
            members.setdefault(find(i), []).append(f)
            self._tick()
        self._groups = [self.conjoin(fs) for _, fs in sorted(members.items())]
        return self._groups

    def all_up(self, groups: Sequence, fixed: dict[str, bool] | None = None) -> Fraction:
        """P(every group holds [given the units in ``fixed``]), exactly.

        The first :attr:`conditioned` variables (zones and regions) are fixed one
        at a time, in order, by taking cofactors (memoised per state of the
        groups); once all are fixed the groups share no variable, so their
        probabilities multiply. Each group's probability ``N / base^e`` is brought
        to the exponent ``E`` of its whole support, so that the states' sum has
        one denominator, ``base^(conditioned + sum E)``.
        """
        if fixed:
            groups = [self.bdd.let(fixed, g) if not fixed.keys().isdisjoint(self.support(g)) else g for g in groups]
        if any(g == self.false for g in groups):
            return ZERO
        groups = [g for g in groups if g != self.true]
        if not groups:
            return ONE
        base = self.base
        count = self.conditioned
        exponents = [sum(1 for var in self.support(g) if self.index[var] >= count) for g in groups]
        memo: dict[tuple, int] = {}

        def leaf(state: tuple) -> int:
            factors = []
            for g, top in zip(state, exponents):
                n, e = self.scaled(g)
                if n == 0:
                    return 0
                factors.append(n * base ** (top - e) if top > e else n)
            return _product(factors)

        def value(i: int, state: tuple) -> int:
            key = (i, tuple(int(g) for g in state))
            hit = memo.get(key)
            if hit is not None:
                return hit
            self._tick()
            if i == count:
                result = leaf(state)
            else:
                var = self.names[i]
                lows, highs = [], []
                for g in state:
                    if g != self.true and g != self.false and g.var == var:
                        low, high = self._children(g)
                    else:
                        low = high = g
                    lows.append(low)
                    highs.append(high)
                w = self.weights[i]
                result = w * value(i + 1, tuple(highs)) + (base - w) * value(i + 1, tuple(lows))
            memo[key] = result
            return result

        try:
            numerator = value(0, tuple(groups))
        finally:
            value = None  # type: ignore[assignment]  # the recursive closure is a cycle: break it
        return Fraction(numerator, base ** (count + sum(exponents)))

    # -- the scenarios that cost the most ---------------------------------------------------------

    def heaviest(self, root) -> tuple[Fraction, tuple[int, ...]] | None:
        """The most probable set F of variables such that F down (every other up)
        satisfies ``root``: weight ``prod(1 - p)`` over F, ties broken by fewer
        units, then by the smaller sorted tuple of variable indices. None when
        ``root`` is FALSE.

        A candidate is ``(log of its weight, size, how many of F fail with each
        distinct probability, F)``, F a chain of ``(index, rest)`` pairs sharing their
        tails, so a node costs the same whatever the size of its F (a quorum of 1,001
        members has sets of 501). Weights are compared by their logarithms where
        those differ by more than rounding, and exactly otherwise (:meth:`_heavier`);
        equal counts are equal weights. F comes out sorted, a node's variable lying
        above its children's: the set through the node's "down" edge starts with the
        smallest index, so of two sets of one weight and size it is the smaller."""
        logs, classes = self._down_logs(), self._down_classes()
        heavier = self._heavier

        def node(i: int, low, high):
            if low is None:
                return high
            counts = list(low[2])
            counts[classes[i]] += 1
            down = (low[0] + logs[i], low[1] + 1, tuple(counts), (i, low[3]))
            if high is None:
                return down
            if down[2] != high[2]:
                side = heavier(down, high)
                if side is not None:
                    return down if side else high
            return high if high[1] < down[1] else down  # equal weights: the smaller, then the first

        zero = (0,) * len(self._class_factors)
        found = self._fold(root, {}, lambda holds: (0.0, 0, zero, ()) if holds else None, node)
        if found is None:
            return None
        chosen = _unchain(found[3])
        weights, base = self.weights, self.base
        return Fraction(_product([base - weights[i] for i in chosen]), base ** len(chosen)), chosen

    def _down_logs(self) -> list[float]:
        """Per variable, the logarithm of its unit's failure probability (-inf: never
        fails); made once (each service's search asks)."""
        if self._logs is None:
            base = self.base
            self._logs = [math.log((base - w) / base) if w < base else -math.inf for w in self.weights]
        return self._logs

    def _down_classes(self) -> list[int]:
        """Per variable, the index of its failure probability among the distinct ones
        (:attr:`_class_factors`, each ``Fraction(base - weight, base)``); made once."""
        if self._classes is None:
            distinct = sorted(set(self.weights))
            self._class_factors = [Fraction(self.base - w, self.base) for w in distinct]
            place = {w: i for i, w in enumerate(distinct)}
            self._classes = [place[w] for w in self.weights]
        return self._classes

    def _heavier(self, a, b) -> bool | None:
        """Whether candidate ``a`` weighs more than ``b`` (None: they weigh the same): by
        the logarithms where they differ by more than rounding, else exactly."""
        la, lb = a[0], b[0]
        if la != lb and abs(la - lb) > _LOG_TOLERANCE * max(1.0, abs(la), abs(lb)):
            return la > lb
        wa, wb = ONE, ONE
        for factor, ca, cb in zip(self._class_factors, a[2], b[2]):
            wa *= factor ** ca
            wb *= factor ** cb
        return None if wa == wb else wa > wb

    def costliest(self, count: int, monotone: bool, exact: Outcome | None) -> list[Scenario]:
        """The ``count`` most probable minimal stopping sets (see the module docstring).

        ``exact``: the outcome whose exact unavailability the probabilities are
        shares of; without it (no exact value) the joint probability is the
        product of the units' failure probabilities on monotone structures, and
        only an upper bound (that product) otherwise.
        """
        heap: list[tuple] = []
        down = []
        for s, (_, f) in enumerate(self.service_functions):
            down.append(~f)
            found = self.heaviest(down[s])
            if found is not None:
                heap.append((-found[0], len(found[1]), found[1], s))
        heapq.heapify(heap)
        accepted: list[tuple[int, ...]] = []
        by_set: dict[tuple[int, ...], list[int]] = {}
        skipped = 0  # supersets of accepted sets (a service's next set that is not minimal)
        while heap and len(accepted) < count and skipped < 50 * count:
            negative, _, chosen, s = heapq.heappop(heap)
            if chosen in by_set:  # the same set, found for another service
                by_set[chosen].append(s)
            elif not any(set(a) <= set(chosen) for a in accepted):
                accepted.append(chosen)
                by_set[chosen] = [s]
            else:
                skipped += 1
            # exclude every superset of ``chosen`` from this service's family
            some_up = self.disjoin([self.bdd.var(self.names[i]) for i in chosen])
            down[s] = down[s] & some_up
            found = self.heaviest(down[s])
            if found is not None:
                heapq.heappush(heap, (-found[0], len(found[1]), found[1], s))
        groups = self.groups() if (exact is not None and not monotone) else None
        out = []
        for chosen in accepted:  # each costs a conditional probability on non-monotone structures
            all_down = _product_fractions([1 - self.up[i] for i in chosen]) if chosen else ONE
            if monotone or groups is None:
                joint = all_down
            else:
                try:
                    up_given = self.all_up(groups, {self.names[i]: False for i in chosen})
                except OutOfTime:
                    break  # the scenarios found so far, each with its exact probability
                joint = all_down * (1 - up_given)
            units = tuple(sorted((self.units[i] for i in chosen), key=lambda u: u.label))
            names = tuple(self.service_functions[s][0] for s in by_set[chosen])
            out.append(Scenario(units, all_down, joint, names))
        return out


_LOG_TOLERANCE = 1e-9  # relative: far above the rounding of a sum of thousands of logarithms


def _unchain(chain) -> tuple[int, ...]:
    """The indices of a chain of ``(index, rest)`` pairs, in order."""
    out = []
    while chain:
        index, chain = chain
        out.append(index)
    return tuple(out)


def _balanced(fs: list, op: Callable, empty):
    """``op`` over ``fs`` in a balanced tree (operands of similar size meet)."""
    if not fs:
        return empty
    while len(fs) > 1:
        fs = [op(fs[i], fs[i + 1]) if i + 1 < len(fs) else fs[i] for i in range(0, len(fs), 2)]
    return fs[0]
