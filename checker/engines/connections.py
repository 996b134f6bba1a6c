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

Questions from the internet (a public address that stands for every client)
go to the reference policy: they are few (DNS answers and public components).

Shared through ``context.cache["connections"]`` so every engine that needs
connection booleans computes each one once per file.
"""

from __future__ import annotations

from typing import Any

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
        if source == INTERNET or components[source].kind is Kind.INTERNET:
            return bool(self.policy.connect(source, destination, ports))
        dst_comp = components[destination]
        if self.open:
            return True
        src_comp = components[source]
        src_points = src_comp.addresses or (None,)
        dst_points = dst_comp.addresses or (None,)
        for src in src_points:
            src_rules = self._src.rules_for(src, source)
            if not src_rules:
                continue
            for dst in dst_points:
                dst_rules = self._dst.rules_for(dst, destination)
                if not dst_rules:
                    continue
                if self._first_match_allows(sorted(src_rules & dst_rules), ports):
                    return True
        return False

    def _first_match_allows(self, candidates: list[int], ports: PortSet) -> bool:
        remaining = ports
        for index in candidates:
            rule = self.rules[index]
            hit = remaining & rule.ports
            if not hit:
                continue
            if rule.action == "allow":
                return True
            remaining = remaining - hit
            if not remaining:
                return False
        return False


class _Side:
    """The rules whose endpoints on one side (sources or destinations) match a packet end."""

    def __init__(self, topology: Topology, sides: list[tuple]):
        self.topology = topology
        self.by_address: dict[IPAddress, set[int]] = {}
        self.by_name: dict[str, set[int]] = {}
        self.any: set[int] = set()
        self.internet: set[int] = set()
        self.networks: dict[tuple[int, int], dict[Any, set[int]]] = {}  # (version, prefix) -> network -> rules
        self._memo: dict[tuple[Any, str], frozenset[int]] = {}
        for index, endpoints in enumerate(sides):
            for endpoint in endpoints:
                self._file(index, endpoint)

    def _file(self, index: int, endpoint) -> None:
        kind = endpoint.kind
        if kind == "any":
            self.any.add(index)
        elif kind == "internet":
            self.internet.add(index)
        elif kind == "network":
            net = endpoint.value
            self.networks.setdefault((net.version, net.prefixlen), {}).setdefault(net, set()).add(index)
        elif kind == "cluster":
            for member in self.topology.clusters[endpoint.value].members:
                self._file_component(index, member)
        else:
            self._file_component(index, endpoint.value)

    def _file_component(self, index: int, name: str) -> None:
        comp = self.topology.components[name]
        self.by_name.setdefault(name, set()).add(index)
        if comp.kind is Kind.INTERNET:
            self.internet.add(index)  # an internet component stands for every public address
            return
        for address in comp.addresses:
            self.by_address.setdefault(address, set()).add(index)

    def rules_for(self, address: IPAddress | None, name: str) -> frozenset[int]:
        """Rules matching the packet end ``address`` (or the addressless component ``name``)."""
        key = (name, 0) if address is None else ("", int(address), address.version)  # ipaddress hashes slowly
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        out = set(self.any)
        if address is None:
            out |= self.by_name.get(name, set())
        else:
            out |= self.by_address.get(address, set())
            if is_public(address):
                out |= self.internet
            for (version, prefix), nets in self.networks.items():
                if version != address.version:
                    continue
                network = _network_of(address, prefix)
                out |= nets.get(network, set())
        hit = frozenset(out)
        self._memo[key] = hit
        return hit


def _network_of(address: IPAddress, prefix: int):
    import ipaddress

    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def connections(context) -> ConnectionIndex:
    """The file's connection index, built once and shared through ``context.cache``."""
    index = context.cache.get(CACHE_KEY)
    if not isinstance(index, ConnectionIndex):
        index = ConnectionIndex(context.topology, context.policy)
        context.cache[CACHE_KEY] = index
    return index
