"""Static connections between components, computed from an index of the rules.

The reference :meth:`checker.policy.Policy.connect` scans every rule for every
connection, which is O(rules) per question and too slow on large files. The
serving equations only ever ask "may A open a connection to B on these ports?"
for a fixed, finite set of pairs, and the answer never depends on failures, so
this module answers those questions once, from an index:

* every rule is filed under the packet ends it can match on each side: the
  addresses of the components and clusters it names (and their names, for
  components without an address), its CIDRs (grouped by prefix length, so an
  address finds its networks with one dictionary look-up per prefix length),
  ``internet`` (every public address) and ``any``;
* a question intersects the rules filed under a source end with those filed
  under a destination end and reads the survivors in file order, exactly as
  :meth:`Policy.first_match` does.

Questions from or to something that stands for many addresses (the internet,
a client group, an external target) go to the file's policy (the indexed
:class:`checker.engines.fastpolicy.FastPolicy`, which cuts the address space
into cells): they are few (DNS answers, public components, external targets).

Shared through ``context.cache["connections"]`` so every engine that needs
connection booleans computes each one once per file.
"""

from __future__ import annotations

from ..model import Kind, Topology
from ..net import IPAddress, PortSet, is_public
from ..policy import INTERNET, Policy

CACHE_KEY = "connections"


class ConnectionIndex:
    """``allowed(source, destination, ports)`` with the reference policy's meaning.

    ``source`` is a component name or :data:`checker.policy.INTERNET`.
    Building the index is O(total endpoint size of the rules); a question costs
    O(rules filed under both ends), cached per question.
    """

    def __init__(self, topology: Topology, policy: Policy):
        self.topology = topology
        self.policy = policy
        self.open = not topology.has_policy
        self.rules = topology.rules
        self._cache: dict[tuple[str, str, PortSet], bool] = {}
        self.ports = PortAlgebra()
        self._pairs: dict[tuple[int, int], tuple[int, ...]] = {}
        self._src = _Side(topology, [r.sources for r in self.rules])
        self._dst = _Side(topology, [r.destinations for r in self.rules])

    def allowed(self, source: str, destination: str, ports: PortSet) -> bool:
        """Whether ``source`` may open a connection to ``destination`` on one of ``ports``."""
        key = (source, destination, ports)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._compute(source, destination, ports)
            self._cache[key] = hit
        return hit

    def _compute(self, source: str, destination: str, ports: PortSet) -> bool:
        if not ports:
            return False
        components = self.topology.components
        if source == INTERNET or components[source].kind.by_networks or components[destination].kind.by_networks:
            return bool(self.policy.connect(source, destination, ports))
        if self.open:
            return any(a is None or b is None or a == b
                       for a, _ in self._src.ends_of(source) for b, _ in self._dst.ends_of(destination))
        for src_family, src_buckets in self._src.ends_of(source):
            if not src_buckets:
                continue
            for dst_family, dst_buckets in self._dst.ends_of(destination):
                if not dst_buckets or (src_family and dst_family and src_family != dst_family):
                    continue  # a packet's two ends are of one address family
                if self._first_match_allows(self._candidates(src_buckets, dst_buckets), ports):
                    return True
        return False

    def _candidates(self, src_buckets: tuple[int, ...], dst_buckets: tuple[int, ...]) -> list[int]:
        """The rules matching both packet ends, in file order: the union of the
        intersections of one source bucket with one destination bucket (each pair
        intersected once per file)."""
        out: list[int] = []
        pairs = self._pairs
        for sb in src_buckets:
            for db in dst_buckets:
                hit = pairs.get((sb, db))
                if hit is None:
                    left, right = self._src.sets[sb], self._dst.sets[db]
                    hit = pairs[(sb, db)] = tuple(left & right) if len(left) <= len(right) else tuple(right & left)
                out.extend(hit)
        if len(src_buckets) > 1 or len(dst_buckets) > 1:
            out = list(set(out))  # a rule may sit in several buckets of one side
        out.sort()
        return out

    def _first_match_allows(self, candidates: list[int], ports: PortSet) -> bool:
        remaining = ports
        meet, minus = self.ports.meet, self.ports.minus
        for index in candidates:
            rule = self.rules[index]
            hit = meet(remaining, rule.ports)
            if not hit:
                continue
            if rule.action == "allow":
                return True
            remaining = minus(remaining, hit)
            if not remaining:
                return False
        return False


class PortAlgebra:
    """``&`` and ``-`` of port sets, memoised: a file has a handful of distinct port
    sets, asked about hundreds of thousands of times. Operands are keyed by identity
    (kept alive here, so identities stay valid) and results are interned, so a
    repeated question costs one dictionary probe instead of building ranges."""

    def __init__(self) -> None:
        self._intern: dict[PortSet, PortSet] = {}
        self._memo: dict[tuple[int, int, int], tuple[PortSet, PortSet, PortSet]] = {}

    def meet(self, a: PortSet, b: PortSet) -> PortSet:
        return self._op(0, a, b)

    def minus(self, a: PortSet, b: PortSet) -> PortSet:
        return self._op(1, a, b)

    def _op(self, op: int, a: PortSet, b: PortSet) -> PortSet:
        key = (op, id(a), id(b))
        hit = self._memo.get(key)
        if hit is not None:
            return hit[2]
        result = (a & b) if op == 0 else (a - b)
        result = self._intern.setdefault(result, result)
        self._memo[key] = (a, b, result)
        return result


class _Side:
    """The rules whose endpoints on one side (sources or destinations) match a packet end,
    as a few shared *buckets* (``any``, ``internet``, one CIDR, one address, one name):
    the rules matching a packet end are the union of its buckets."""

    def __init__(self, topology: Topology, sides: list[tuple]):
        self.topology = topology
        self.sets: list[frozenset[int]] = []
        self._ids: dict[tuple, int] = {}
        building: dict[tuple, set[int]] = {}
        self.prefixes: dict[int, set[int]] = {4: set(), 6: set()}  # version -> prefix lengths with rules
        self._memo: dict[tuple, tuple[int, ...]] = {}
        self._ends: dict[str, list[tuple[int | None, tuple[int, ...]]]] = {}
        for index, endpoints in enumerate(sides):
            for endpoint in endpoints:
                self._file(index, endpoint, building)
        for key, rules in building.items():
            self._ids[key] = len(self.sets)
            self.sets.append(frozenset(rules))

    def _file(self, index: int, endpoint, building) -> None:
        kind = endpoint.kind
        if kind == "any":
            building.setdefault(("any",), set()).add(index)
        elif kind == "internet":
            building.setdefault(("internet",), set()).add(index)
        elif kind == "network":
            net = endpoint.value
            bits = 32 if net.version == 4 else 128
            self.prefixes[net.version].add(net.prefixlen)
            key = ("net", net.version, net.prefixlen, int(net.network_address) >> (bits - net.prefixlen))
            building.setdefault(key, set()).add(index)
        elif kind == "cluster":
            for member in self.topology.clusters[endpoint.value].members:
                self._file_component(index, member, building)
        else:
            self._file_component(index, endpoint.value, building)

    def _file_component(self, index: int, name: str, building) -> None:
        comp = self.topology.components[name]
        if comp.kind is Kind.INTERNET:
            building.setdefault(("internet",), set()).add(index)  # every public address
            return
        if not comp.addresses and not comp.networks:
            building.setdefault(("name", name), set()).add(index)
        for address in comp.addresses:
            building.setdefault(("addr", address.version, int(address)), set()).add(index)
        for net in comp.networks:  # a client group or external target named in a rule
            bits = 32 if net.version == 4 else 128
            self.prefixes[net.version].add(net.prefixlen)
            key = ("net", net.version, net.prefixlen, int(net.network_address) >> (bits - net.prefixlen))
            building.setdefault(key, set()).add(index)

    def ends_of(self, name: str) -> list[tuple[int | None, tuple[int, ...]]]:
        """(address family or None, buckets) of each packet end of component ``name``
        (one per address; a component without addresses has one end, by name)."""
        hit = self._ends.get(name)
        if hit is None:
            hit = self._ends[name] = [(a.version if a is not None else None, self.buckets_for(a, name))
                                      for a in self.topology.components[name].addresses or (None,)]
        return hit

    def buckets_for(self, address: IPAddress | None, name: str) -> tuple[int, ...]:
        """The buckets whose union is the rules matching the packet end ``address`` (or
        the addressless component ``name``)."""
        key = ("name", name) if address is None else ("addr", address.version, int(address))
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        ids = self._ids
        keys = [("any",), key]
        if address is not None:
            if is_public(address):
                keys.append(("internet",))
            value = int(address)
            bits = 32 if address.version == 4 else 128
            for prefix in self.prefixes[address.version]:
                keys.append(("net", address.version, prefix, value >> (bits - prefix)))
        hit = tuple(ids[k] for k in keys if k in ids)
        self._memo[key] = hit
        return hit


def connections(context) -> ConnectionIndex:
    """The file's connection index, built once and shared through ``context.cache``."""
    index = context.cache.get(CACHE_KEY)
    if not isinstance(index, ConnectionIndex):
        index = ConnectionIndex(context.topology, context.policy)
        context.cache[CACHE_KEY] = index
    return index
