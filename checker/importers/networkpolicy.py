"""Kubernetes NetworkPolicy: its semantics, and its translation into ordered allow/deny rules.

The semantics (:class:`PolicySet.allowed`) are the Kubernetes API's, read plainly:

* a pod no policy selects for ``Ingress`` accepts every connection; a pod some policy
  selects accepts exactly what the union of those policies' ``ingress`` rules allows;
  likewise for ``Egress`` on the source side; a connection between two pods needs both;
* ``policyTypes`` defaults to ``Ingress``, plus ``Egress`` when the policy has ``egress``;
* a rule without ``from``/``to`` (or with an empty list) matches every peer, one without
  ``ports`` every port; a peer is a ``podSelector`` (pods of the policy's namespace), a
  ``namespaceSelector`` (every pod of the namespaces it selects, by their labels, which
  always include ``kubernetes.io/metadata.name``), both (the pods of those namespaces the
  pod selector selects), or an ``ipBlock`` (its ``cidr`` minus its ``except``\\ s);
* a port is a number (with ``endPort``, a range) or the name of a container port of the
  destination pod; a name matches nothing on a destination that is not a pod;
  ``protocol`` defaults to TCP (SCTP never matches the TCP and UDP the model knows).

One choice the API leaves to the network plugin: an ``ipBlock`` matches addresses that
are not pods' (as Cilium does). Pod addresses in the model are the importer's own, so no
block written by the user could mean them.

:func:`translate` turns the policies into ``allow``/``deny`` rules over the model's pod
components and address networks whose first match gives exactly
:meth:`PolicySet.allowed` for every source and destination; ``tests/test_import_networkpolicy.py``
compares the two on generated policies and packets.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from ..model import Span
from ..net import ANY_PORT, NO_PORT, IPAddress, IPNetwork, PortRange, PortSet
from .emitter import Plain, comment, note
from .yamlnodes import Node

INGRESS, EGRESS = "Ingress", "Egress"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
_PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}


# -- the policy model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Selector:
    """A label selector: ``matchLabels`` and ``matchExpressions`` (In, NotIn, Exists, DoesNotExist)."""

    labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if any(labels.get(key) != value for key, value in self.labels):
            return False
        for key, operator, values in self.expressions:
            present = key in labels
            if operator == "In" and not (present and labels[key] in values):
                return False
            if operator == "NotIn" and present and labels[key] in values:
                return False
            if operator == "Exists" and not present:
                return False
            if operator == "DoesNotExist" and present:
                return False
        return True

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.labels]
        parts += [f"{k} {op.lower()} ({', '.join(vs)})" if vs else f"{k} {op.lower()}"
                  for k, op, vs in self.expressions]
        return ", ".join(parts) or "every pod"


EVERY = Selector()


@dataclass(frozen=True)
class Peer:
    """One ``from``/``to`` entry: pods by selectors, or an address block."""

    pods: Selector | None = None
    namespaces: Selector | None = None
    block: tuple[IPNetwork, ...] | None = None  # cidr minus except, as networks

    @property
    def is_block(self) -> bool:
        return self.block is not None


@dataclass(frozen=True)
class PortSpec:
    protocol: str  # tcp | udp | sctp
    port: int | str | None  # None: every port of the protocol
    end: int | None = None


@dataclass(frozen=True)
class PolicyRule:
    """One ``ingress`` or ``egress`` item; None for peers or ports: every one."""

    peers: tuple[Peer, ...] | None
    ports: tuple[PortSpec, ...] | None
    span: Span


@dataclass(frozen=True)
class NetworkPolicy:
    name: str
    namespace: str
    selector: Selector
    types: frozenset[str]
    ingress: tuple[PolicyRule, ...]
    egress: tuple[PolicyRule, ...]
    span: Span  # its spec.podSelector (else its name)


@dataclass(frozen=True)
class PodClass:
    """Pods the policies cannot tell apart: one namespace, the same labels and port names.

    ``members`` are the model's component names of its pods; ``ports`` maps a container
    port's name to its protocol and number.
    """

    key: str
    namespace: str
    labels: Mapping[str, str]
    ports: Mapping[str, tuple[str, int]]
    members: tuple[str, ...]
    origin: Span


Endpoint = "PodClass | IPAddress"


# -- reading policies from YAML ----------------------------------------------------------------


def read_selector(node: Node | None, notes: list, what: str) -> Selector | None:
    """A label selector, or None when ``node`` is absent (or null)."""
    if node is None or node.value is None:
        return None
    if not node.is_map:
        notes.append(note(f"{what} is not a label selector; read as selecting nothing", node.span))
        return Selector((("", "\0never"),))
    labels = tuple(sorted((node.get("matchLabels") or Node({}, node.span)).string_map().items()))
    expressions = []
    for expr in (node.get("matchExpressions") or Node([], node.span)).seq():
        key = (expr.get("key") or Node(None, expr.span)).text() or ""
        operator = (expr.get("operator") or Node(None, expr.span)).text() or ""
        values = tuple(v.text() or "" for v in (expr.get("values") or Node([], expr.span)).seq())
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            notes.append(note(f"{what}: operator '{operator}' is not a label selector operator; "
                              "read as selecting nothing", expr.span))
            return Selector((("", "\0never"),))
        expressions.append((key, operator, values))
    return Selector(labels, tuple(expressions))


def _block(node: Node, notes: list) -> tuple[IPNetwork, ...] | None:
    cidr_node = node.get("cidr")
    cidr = cidr_node.text() if cidr_node is not None else None
    try:
        network = ipaddress.ip_network(cidr or "", strict=False)
    except ValueError:
        notes.append(note(f"ipBlock cidr '{cidr}' is not a network; the peer matches nothing",
                          (cidr_node or node).span))
        return ()
    excepts = []
    for item in (node.get("except") or Node([], node.span)).seq():
        try:
            excepts.append(ipaddress.ip_network(item.text() or "", strict=False))
        except ValueError:
            notes.append(note(f"ipBlock except '{item.text()}' is not a network; left out", item.span))
    return exclude((network,), excepts)


def exclude(networks: Iterable[IPNetwork], holes: Iterable[IPNetwork]) -> tuple[IPNetwork, ...]:
    """The addresses of ``networks`` outside every hole, as few networks as possible."""
    current = list(networks)
    for hole in holes:
        nxt: list[IPNetwork] = []
        for net in current:
            if net.version != hole.version or not net.overlaps(hole):
                nxt.append(net)
            elif hole.supernet_of(net):
                continue
            else:
                nxt.extend(net.address_exclude(hole))
        current = nxt
    out: list[IPNetwork] = []
    for version in (4, 6):
        out.extend(ipaddress.collapse_addresses([n for n in current if n.version == version]))
    return tuple(out)


def _ports(node: Node | None, notes: list) -> tuple[PortSpec, ...] | None:
    if node is None or node.value is None or (node.is_seq and not node.value):
        return None
    out = []
    for item in node.seq():
        protocol_text = (item.get("protocol") or Node("TCP", item.span)).text() or "TCP"
        protocol = _PROTOCOLS.get(protocol_text.upper())
        if protocol is None:
            notes.append(note(f"protocol '{protocol_text}' is not TCP, UDP or SCTP; the port matches nothing",
                              item.span))
            continue
        if protocol == "sctp":
            notes.append(note("SCTP is not modelled (only TCP and UDP); this port matches no connection of the model",
                              item.span))
        port_node = item.get("port")
        port: int | str | None = None
        if port_node is not None and port_node.value is not None:
            port = port_node.integer()
            if port is None:
                port = port_node.text()
        end_node = item.get("endPort")
        end = end_node.integer() if end_node is not None else None
        out.append(PortSpec(protocol, port, end if isinstance(port, int) else None))
    return tuple(out)


def _rules(node: Node | None, direction: str, notes: list) -> tuple[PolicyRule, ...]:
    out = []
    peers_key = "from" if direction == INGRESS else "to"
    for item in (node.seq() if node is not None else []):
        if not item.is_map:
            if item.value is None or item.value == {}:
                out.append(PolicyRule(None, None, item.span))
            continue
        peers_node = item.get(peers_key)
        peers: tuple[Peer, ...] | None = None
        if peers_node is not None and peers_node.is_seq and peers_node.value:
            found = []
            for peer in peers_node.seq():
                block = peer.get("ipBlock")
                if block is not None:
                    found.append(Peer(block=_block(block, notes)))
                    continue
                pods = read_selector(peer.get("podSelector"), notes, "podSelector")
                namespaces = read_selector(peer.get("namespaceSelector"), notes, "namespaceSelector")
                if pods is None and namespaces is None:
                    notes.append(note("a peer with no podSelector, namespaceSelector or ipBlock matches nothing",
                                      peer.span))
                    continue
                found.append(Peer(pods=pods, namespaces=namespaces))
            peers = tuple(found)
        out.append(PolicyRule(peers, _ports(item.get("ports"), notes), item.span))
    return tuple(out)


def read_policy(doc: Node, name: str, namespace: str, notes: list) -> NetworkPolicy:
    spec = doc.get("spec") or Node({}, doc.span)
    selector_node = spec.get("podSelector")
    selector = read_selector(selector_node, notes, "podSelector") or EVERY
    types_node = spec.get("policyTypes")
    if types_node is not None and types_node.is_seq:
        types = frozenset(t.text() or "" for t in types_node.seq()) & {INGRESS, EGRESS}
    else:
        types = frozenset({INGRESS} | ({EGRESS} if spec.get("egress") is not None else set()))
    span = selector_node.span if selector_node is not None else (doc.path("metadata", "name") or doc).span
    return NetworkPolicy(name, namespace, selector, types, _rules(spec.get("ingress"), INGRESS, notes),
                         _rules(spec.get("egress"), EGRESS, notes), span)


# -- the semantics ------------------------------------------------------------------------------


def _resolve(spec: PortSpec, destination: "PodClass | None") -> PortSet:
    """The ports a port spec means on a destination (a pod class, or None: not a pod)."""
    if spec.protocol not in ("tcp", "udp"):
        return NO_PORT
    if spec.port is None:
        return PortSet.single(spec.protocol, 0, 65535)
    if isinstance(spec.port, int):
        high = spec.end if spec.end is not None and spec.end >= spec.port else spec.port
        if not 0 <= spec.port <= 65535:
            return NO_PORT
        return PortSet.single(spec.protocol, spec.port, min(high, 65535))
    if destination is None:
        return NO_PORT
    named = destination.ports.get(spec.port)
    if named is None or named[0] != spec.protocol:
        return NO_PORT
    return PortSet.single(named[0], named[1])


def _rule_ports(rule: PolicyRule, destination: "PodClass | None") -> PortSet:
    if rule.ports is None:
        return ANY_PORT
    out = NO_PORT
    for spec in rule.ports:
        out = out | _resolve(spec, destination)
    return out


@dataclass
class PolicySet:
    """The policies of the input and the namespaces' labels."""

    policies: Sequence[NetworkPolicy]
    namespace_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def labels_of_namespace(self, namespace: str) -> dict[str, str]:
        labels = dict(self.namespace_labels.get(namespace, {}))
        labels[NAMESPACE_NAME_LABEL] = namespace
        return labels

    def selecting(self, pod: PodClass, direction: str) -> list[NetworkPolicy]:
        """The policies of ``direction`` that select ``pod``, in input order; kept per pod
        class (every pair of classes asks it of both: a scan of every policy each time was
        the cube of a cluster's applications)."""
        key = (pod.namespace, tuple(sorted(pod.labels.items())), direction)  # what selection reads
        hit = self._selecting.get(key)
        if hit is None:
            hit = self._selecting[key] = [
                p for p in self._by_namespace.get(pod.namespace, ())
                if direction in p.types and p.selector.matches(pod.labels)]
        return hit

    def __post_init__(self) -> None:
        self._selecting: dict[tuple, list[NetworkPolicy]] = {}
        self._by_namespace: dict[str, list[NetworkPolicy]] = {}
        for policy in self.policies:
            self._by_namespace.setdefault(policy.namespace, []).append(policy)
        self._classes: _Classes | None = None

    def classes(self, classes: Sequence[PodClass]) -> "_Classes":
        """The pod classes indexed by namespace and label (the last ones asked for, kept)."""
        known = self._classes
        if known is not None and known.source is classes and len(known.order) == len(classes):
            return known  # (the same list, asked again: translate_pods asks it of every pod class)
        keys = tuple(c.key for c in classes)
        if known is None or known.order != keys:
            known = self._classes = _Classes(classes, keys, self)
        known.source = classes
        return known

    def matched_by_peers(self, pod: PodClass, direction: str, index: "_Classes") -> list[PodClass]:
        """The pod classes some peer of a rule of ``pod``'s policies in ``direction`` names
        (a rule with no peers names none: it treats every class alike); each found from
        the index by the peer's namespaces and first label, not by a scan of them all."""
        found: dict[str, PodClass] = {}
        for policy in self.selecting(pod, direction):
            for rule in policy.ingress if direction == INGRESS else policy.egress:
                for peer in rule.peers or ():
                    if peer.is_block:
                        continue
                    spaces = [policy.namespace] if peer.namespaces is None else index.namespaces(peer.namespaces, self)
                    for namespace in spaces:
                        if peer.pods is not None and peer.pods.labels:
                            key, value = peer.pods.labels[0]
                            candidates = index.by_label.get((namespace, key, value), ())
                        else:
                            candidates = index.by_namespace.get(namespace, ())
                        for other in candidates:
                            if other.key not in found and self.peer_matches(peer, policy, other):
                                found[other.key] = other
        return sorted(found.values(), key=lambda c: index.position[c.key])

    def unnamed_side_ports(self, pod: PodClass, direction: str,
                           destination: PodClass | None) -> tuple[PortSet, Span | None]:
        """What :meth:`_side_ports` gives for another pod class that no peer of ``pod``'s
        policies in ``direction`` names: the ports of the rules with no peers."""
        return self._side_ports(pod, direction, None, destination)

    def peer_matches(self, peer: Peer, policy: NetworkPolicy, other: "PodClass | IPAddress") -> bool:
        if peer.is_block:
            return not isinstance(other, PodClass) and any(
                other.version == net.version and other in net for net in peer.block or ())
        if not isinstance(other, PodClass):
            return False
        if peer.namespaces is None:
            if other.namespace != policy.namespace:
                return False
        elif not peer.namespaces.matches(self.labels_of_namespace(other.namespace)):
            return False
        return peer.pods is None or peer.pods.matches(other.labels)

    def _side(self, pod: PodClass, direction: str, other: "PodClass | IPAddress",
              destination: "PodClass | None", protocol: str, port: int) -> bool:
        policies = self.selecting(pod, direction)
        if not policies:
            return True
        for policy in policies:
            for rule in policy.ingress if direction == INGRESS else policy.egress:
                if rule.peers is not None and not any(self.peer_matches(p, policy, other) for p in rule.peers):
                    continue
                if _rule_ports(rule, destination).contains(protocol, port):
                    return True
        return False

    def allowed(self, source: "PodClass | IPAddress", destination: "PodClass | IPAddress",
                protocol: str, port: int) -> bool:
        """Whether the policies let ``source`` open a connection to ``destination`` on the port."""
        to_pod = destination if isinstance(destination, PodClass) else None
        if isinstance(destination, PodClass) and not self._side(destination, INGRESS, source, to_pod, protocol, port):
            return False
        if isinstance(source, PodClass) and not self._side(source, EGRESS, destination, to_pod, protocol, port):
            return False
        return True

    # -- the same, as sets: who may reach a pod, on which ports ---------------------------------

    def isolated(self, pod: PodClass, direction: str) -> bool:
        return bool(self.selecting(pod, direction))

    def ingress_from_pod(self, source: PodClass, destination: PodClass) -> tuple[PortSet, Span | None]:
        return self._side_ports(destination, INGRESS, source, destination)

    def egress_to_pod(self, source: PodClass, destination: PodClass) -> tuple[PortSet, Span | None]:
        return self._side_ports(source, EGRESS, destination, destination)

    def _side_ports(self, pod: PodClass, direction: str, other: PodClass | None,
                    destination: PodClass | None) -> tuple[PortSet, Span | None]:
        """The ports ``pod``'s policies in ``direction`` admit for ``other`` (None: a class
        no peer names, so only the rules without peers), and the first rule that does."""
        policies = self.selecting(pod, direction)
        if not policies:
            return ANY_PORT, None
        out, origin = NO_PORT, None
        for policy in policies:
            for rule in policy.ingress if direction == INGRESS else policy.egress:
                if rule.peers is not None and (other is None or
                                               not any(self.peer_matches(p, policy, other) for p in rule.peers)):
                    continue
                ports = _rule_ports(rule, destination)
                if ports and origin is None:
                    origin = rule.span
                out = out | ports
        return out, origin or policies[0].span

    def address_entries(self, pod: PodClass, direction: str,
                        destination: "PodClass | None") -> list[tuple[tuple[IPNetwork, ...] | None, PortSet, Span]]:
        """For addresses that are not pods: the (networks, ports) pairs the pod's policies
        admit in ``direction`` (their union); None as networks is every address. A pod no
        policy isolates admits every address on every port."""
        policies = self.selecting(pod, direction)
        if not policies:
            return [(None, ANY_PORT, pod.origin)]
        out = []
        for policy in policies:
            for rule in policy.ingress if direction == INGRESS else policy.egress:
                ports = _rule_ports(rule, destination)
                if not ports:
                    continue
                if rule.peers is None:
                    out.append((None, ports, rule.span))
                    continue
                for peer in rule.peers:
                    if peer.is_block and peer.block:
                        out.append((peer.block, ports, rule.span))
        return out


# -- translation --------------------------------------------------------------------------------


def port_tokens(ports: PortSet) -> list[str | None]:
    """How a rule writes a port set: None for every port, else one token per range."""
    if ports == ANY_PORT:
        return [None]
    return [_range_token(r) for r in ports]


def _range_token(r: PortRange) -> str:
    return f"{r.protocol}/{r.low}" if r.low == r.high else f"{r.protocol}/{r.low}-{r.high}"


def _networks_text(networks: tuple[IPNetwork, ...] | None) -> str:
    return "any" if networks is None else ", ".join(str(n) for n in networks)


class _Classes:
    """Pod classes by key, position, namespace and (namespace, label, value), and those
    that policies isolate for egress."""

    def __init__(self, classes: Sequence[PodClass], order: tuple[str, ...], policies: PolicySet) -> None:
        self.source: Sequence[PodClass] = classes
        self.order = order
        self.position = {key: at for at, key in enumerate(order)}
        self.by_namespace: dict[str, list[PodClass]] = {}
        self.by_label: dict[tuple[str, str, str], list[PodClass]] = {}
        for pod in classes:
            self.by_namespace.setdefault(pod.namespace, []).append(pod)
            for key, value in pod.labels.items():
                self.by_label.setdefault((pod.namespace, key, value), []).append(pod)
        self.egress_isolated = [pod for pod in classes if policies.isolated(pod, EGRESS)]
        self._namespaces: dict[Selector, list[str]] = {}
        self.admissions: dict[tuple, Admission] = {}  # see pod_admission

    def namespaces(self, selector: Selector, policies: PolicySet) -> list[str]:
        """The namespaces of these pods whose labels (as ``policies`` gives them) ``selector``
        matches, kept per selector (the policy set holds this index: not the other way round)."""
        hit = self._namespaces.get(selector)
        if hit is None:
            labels_of = policies.labels_of_namespace
            hit = self._namespaces[selector] = [ns for ns in self.by_namespace if selector.matches(labels_of(ns))]
        return hit


@dataclass
class Admission:
    """Who may open a connection to a destination, on which of its ports.

    ``pods`` gives the ports of pod classes (by key), and ``default`` those of every
    other class of ``order`` (all of them, in input order; empty: ``pods`` holds
    every class), so an admission is the size of what its policies name, not of the
    cluster; ``addresses`` the (networks, ports) pairs for addresses that are not
    pods (a union; networks None: every address); each with the YAML that says so.
    Only ports in ``scope`` are decided: a load balancer's admission says nothing of
    ports it does not forward.
    """

    pods: dict[str, tuple[PortSet, Span | None]]
    addresses: list[tuple[tuple[IPNetwork, ...] | None, PortSet, Span | None]]
    scope: PortSet = ANY_PORT
    default: tuple[PortSet, Span | None] = (NO_PORT, None)
    order: Sequence[str] = ()

    def ports_of(self, key: str) -> tuple[PortSet, Span | None]:
        return self.pods.get(key, self.default)

    def defaulted(self) -> bool:
        """Whether some class has the ``default`` ports (one of ``order`` not in ``pods``)."""
        return len(self.order) > len(self.pods)

    def every_class(self) -> Iterable[tuple[str, tuple[PortSet, Span | None]]]:
        """Each pod class's key and (ports, origin), in input order."""
        if not self.order:
            return self.pods.items()
        return ((key, self.pods.get(key, self.default)) for key in self.order)

    def every_address(self) -> bool:
        """Whether every address is admitted on the whole scope (an ``allow any`` on it)."""
        return any(n is None and not (self.scope - p) for n, p, _ in self.addresses)

    def everything(self) -> bool:
        """Whether every source is admitted on the whole scope; worked out once (one
        admission serves every pod class its policies treat alike, and each asks)."""
        hit = self.__dict__.get("_everything")
        if hit is None:
            hit = self.__dict__["_everything"] = (
                all(not (self.scope - p) for p, _ in self.pods.values())
                and (not self.defaulted() or not (self.scope - self.default[0]))
                and self.every_address())
        return hit


def pod_admission(policies: PolicySet, classes: Sequence[PodClass], destination: PodClass) -> Admission:
    """Who may reach the pods of ``destination``, on their own ports: worked out for
    each class a peer of its ingress policies names and each class isolated for egress;
    every other class is admitted as the rules without peers say (asking it of every
    pair of classes was the square of a cluster's applications).

    One object for every destination that reads the same (:func:`_admission_key`): a
    policy that selects every pod of a namespace and admits them all ("allow the same
    namespace", the commonest policy there is) gives each class the same admission,
    and working it out for each was again the square of the applications."""
    index = policies.classes(classes)
    key = _admission_key(policies, index, destination)
    hit = index.admissions.get(key)
    if hit is None:
        hit = index.admissions[key] = _pod_admission(policies, index, destination)
    return hit


def _admission_key(policies: PolicySet, index: "_Classes", destination: PodClass) -> tuple:
    """What :func:`_pod_admission` reads of a destination: the ingress policies that
    select it (which classes they name, on which ports, from which addresses), its
    named ports (what a port given by name means on it), and, when some class is
    isolated for egress (whose policies name destinations by namespace and labels),
    its namespace and labels."""
    selecting = tuple(id(p) for p in policies.selecting(destination, INGRESS))
    named = tuple(sorted(destination.ports.items()))
    if index.egress_isolated:
        return selecting, named, destination.namespace, tuple(sorted(destination.labels.items()))
    return selecting, named


def _pod_admission(policies: PolicySet, index: "_Classes", destination: PodClass) -> Admission:
    named = {pod.key: pod for pod in policies.matched_by_peers(destination, INGRESS, index)}
    for pod in index.egress_isolated:
        named.setdefault(pod.key, pod)
    pods = {}
    for key in sorted(named, key=index.position.__getitem__):
        source = named[key]
        into, origin_in = policies.ingress_from_pod(source, destination)
        out_of, origin_out = policies.egress_to_pod(source, destination)
        ports = into & out_of
        origin = origin_in if into != ANY_PORT else origin_out
        pods[key] = (ports, origin)
    into, origin_in = policies.unnamed_side_ports(destination, INGRESS, destination)
    return Admission(pods, policies.address_entries(destination, INGRESS, destination),
                     default=(into, origin_in if into != ANY_PORT else None), order=index.order)


def merge(admissions: Sequence[tuple[Admission, PortSet, PortSet]]) -> Admission:
    """The admission of a load balancer: for each (backend admission, backend port, the
    balancer's port), a source that may reach the backend on the backend port may reach the
    balancer on the balancer's port; a union over backends. It decides the balancer's ports
    only: a connection to another port reaches nothing, so no rule need say anything of it."""
    scope = NO_PORT
    for _, _, front in admissions:
        scope = scope | front
    order = next((a.order for a, _, _ in admissions if a.order), ())
    position = {key: at for at, key in enumerate(order)}
    named = dict.fromkeys(key for admission, _, _ in admissions for key in admission.pods)
    pods: dict[str, tuple[PortSet, Span | None]] = {}
    for key in sorted(named, key=lambda k: position.get(k, len(position))):
        pods[key] = _merged([(a.ports_of(key), back, front) for a, back, front in admissions])
    default = _merged([(a.default, back, front) for a, back, front in admissions])
    addresses: list = []
    for admission, backend_port, front_port in admissions:
        for networks, ports, origin in admission.addresses:
            if ports & backend_port:
                addresses.append((networks, front_port, origin))
    everywhere = NO_PORT
    for networks, ports, _ in addresses:
        if networks is None:
            everywhere = everywhere | ports
    merged: list = []
    if everywhere:
        merged.append((None, everywhere, next(o for n, _, o in addresses if n is None)))
    merged += [(n, p - everywhere, o) for n, p, o in addresses if n is not None and p - everywhere]
    return Admission(pods, merged, scope, default, order)


class Balancers:
    """The rules for who may connect to each load balancer, one block of rules for the
    balancers whose admissions are one object (as their backends' are: see
    :func:`pod_admission`) and come from one place. Each block's rules name only its own
    balancers, so blocks in any order decide the same; a block each was the square of a
    cluster's applications where one policy admits them all to each other."""

    def __init__(self) -> None:
        # (the parts kept with their merge: the ids in the key stay theirs)
        self._merged: dict[tuple, tuple[Admission, Sequence]] = {}
        self._blocks: dict[tuple, tuple[Admission, list[str], Span, list[str | None]]] = {}

    def merged(self, parts: Sequence[tuple[Admission, PortSet, PortSet]], order: Sequence[str]) -> Admission:
        """:func:`merge` of ``parts`` (no part: every pod class of ``order`` admitted on
        nothing), one object for parts of the same objects."""
        key = tuple((id(a), back, front) for a, back, front in parts)
        hit = self._merged.get(key)
        if hit is None:
            hit = self._merged[key] = (merge(parts) if parts else Admission({}, [], order=tuple(order)), parts)
        return hit[0]

    def add(self, balancer: str, admission: Admission, origin: Span, why: str | None) -> None:
        block = self._blocks.setdefault((id(admission), origin), (admission, [], origin, []))
        block[1].append(balancer)
        block[3].append(why)

    def write(self, writer: "RuleWriter") -> None:
        for admission, balancers, origin, whys in self._blocks.values():
            why = whys[0]
            if why is not None and len(whys) > 1:
                why = f"{why}; the same for {len(whys) - 1:,} more Services"
            writer.admission(admission, balancers, origin, why)


def _merged(sides: Sequence[tuple[tuple[PortSet, Span | None], PortSet, PortSet]]) -> tuple[PortSet, Span | None]:
    """One source's ports at a load balancer: each front port whose backend admits it on
    the backend port; the first origin."""
    current, first = NO_PORT, None
    for (ports, origin), backend_port, front_port in sides:
        if ports & backend_port:
            current = current | front_port
        first = first or origin
    return current, first


@dataclass
class RuleWriter:
    """Collects the translated rules as statements, in order."""

    members: Mapping[str, tuple[str, ...]]  # pod class key -> component names
    statements: list[Plain] = field(default_factory=list)
    where: Callable[[Span], str] | None = None  # how a comment names the place a rule comes from
    addresses: Mapping[str, "IPAddress | None"] = field(default_factory=dict)  # pod -> its one address
    # (missing or None: not known, so any address rule may match it)

    def add(self, action: str, sources: Sequence[str], destinations: Sequence[str], ports: PortSet | None,
            origin: Span, why: str | None = None) -> None:
        tokens = [None] if ports is None else port_tokens(ports)
        first = True
        for token in tokens:
            text = f"{action} {', '.join(sources)} -> {', '.join(destinations)}" + (f" {token}" if token else "")
            said = f"{why} ({self.where(origin)})" if why and self.where is not None else why
            self.statements.append(Plain(text, origin, [said] if said and first else []))
            first = False

    def admission(self, admission: Admission, destinations: Sequence[str], origin: Span, why: str | None) -> None:
        """Rules giving exactly ``admission`` for connections to ``destinations`` on the
        ports of its scope: each pod class's ports, then the addresses' (a union), every
        other connection on those ports denied."""
        scope = admission.scope
        whole = None if scope == ANY_PORT else scope
        if admission.everything():
            self.add("allow", ["any"], destinations, whole, origin, why)
            return
        said = False

        def reason() -> str | None:
            nonlocal said
            if said:
                return None
            said = True
            return why

        by_ports: dict[PortSet, list[str]] = {}
        origins: dict[PortSet, Span] = {}
        limited: list[str] = []
        could_pass = self._address_rule_matches(admission)
        classes = admission.every_class() if self._default_needs_rules(admission, could_pass) \
            else admission.pods.items()
        for key, (ports, pod_origin) in classes:
            ports = ports & scope
            by_ports.setdefault(ports, []).extend(self.members[key])
            origins.setdefault(ports, pod_origin or origin)
            if ports != scope and could_pass is not None:
                limited.extend(m for m in self.members[key] if could_pass(m))
        for ports, sources in by_ports.items():
            if ports and ports != scope:
                self.add("allow", sources, destinations, ports, origins[ports], reason())
        if scope in by_ports:
            self.add("allow", by_ports[scope], destinations, whole, origins[scope], reason())
        if limited:
            self.add("deny", limited, destinations, whole, origin, reason())
        if admission.every_address():
            self.add("allow", ["any"], destinations, whole, origin, reason())
            return
        seen = set()
        for networks, ports, entry_origin in admission.addresses:
            ports = ports & scope
            key = (networks, ports)
            if key in seen or not ports:
                continue
            seen.add(key)
            self.add("allow", [_networks_text(networks)], destinations, ports, entry_origin or origin, reason())
        self.add("deny", ["any"], destinations, whole, origin, reason())

    @staticmethod
    def _default_needs_rules(admission: Admission, could_pass: Callable[[str], bool] | None) -> bool:
        """Whether the classes with the ``default`` ports need rules naming them: unless
        they are admitted on the whole scope and an ``allow any`` on it follows, or
        admitted on no port and no address rule follows (the final ``deny any``)."""
        if not admission.defaulted():
            return False
        ports = admission.default[0] & admission.scope
        if ports == admission.scope:
            return not admission.every_address()
        return bool(ports) or could_pass is not None

    def _address_rule_matches(self, admission: Admission) -> Callable[[str], bool] | None:
        """Whether an address rule :meth:`admission` writes after its pods' rules may
        match connections from a pod (None: there is none): only then must the pods
        admitted on fewer ports (or none) be denied by name before them; otherwise the
        final ``deny any`` denies the same, and naming every other pod class at every
        isolated pod wrote the square of a cluster's applications (400 applications:
        9 MB of rules)."""
        entries = [networks for networks, ports, _ in admission.addresses if ports & admission.scope]
        if not entries:
            return None
        if any(networks is None for networks in entries):
            return lambda member: True
        networks = [net for nets in entries for net in nets]

        def matches(member: str) -> bool:
            address = self.addresses.get(member)
            return address is None or any(address.version == net.version and address in net for net in networks)
        return matches


def translate_pods(policies: PolicySet, classes: Sequence[PodClass], writer: RuleWriter,
                   describe, skip_open: bool = True) -> None:
    """Rules for every connection to a pod (per class), then for every connection from an
    egress-isolated pod to an address that is not a pod; what follows in the rule list may
    allow the rest (nothing restricts it). With ``skip_open``, a pod class anyone may reach
    on any port gets no rules of its own (the final ``allow any -> any`` admits it); only
    right when no pod is isolated for egress, whose final ``deny`` would come first.
    ``describe(classes, direction)`` gives the comment on the rules for those classes."""
    # classes with one admission (one object: see pod_admission) and one isolating
    # policy first get one block of rules for all their pods: each block's rules name only
    # its own destinations and every block comes before the egress rules, so which block
    # comes first decides nothing (a block each was the square of a cluster's
    # applications where one policy admits them all to each other)
    blocks: dict[tuple, tuple[Admission, list[PodClass]]] = {}
    for destination in classes:
        admission = pod_admission(policies, classes, destination)
        if skip_open and admission.everything():
            continue  # the final rule allows it
        isolating = policies.selecting(destination, INGRESS)
        key = (id(admission), id(isolating[0])) if isolating else (destination.key,)
        blocks.setdefault(key, (admission, []))[1].append(destination)
    for admission, group in blocks.values():
        isolating = policies.selecting(group[0], INGRESS)
        writer.admission(admission, [m for c in group for m in c.members],
                         isolating[0].span if isolating else group[0].origin, describe(group, INGRESS))
    for source in classes:
        if not policies.isolated(source, EGRESS):
            continue
        first = True
        for networks, ports, origin in policies.address_entries(source, EGRESS, None):
            if ports:
                writer.add("allow", source.members, [_networks_text(networks)], ports, origin,
                           describe([source], EGRESS) if first else None)
                first = False
        writer.add("deny", source.members, ["any"], None, policies.selecting(source, EGRESS)[0].span,
                   describe([source], EGRESS) if first else None)


def describe_policies(policies: PolicySet, group: Sequence[PodClass], direction: str) -> str:
    """A comment on what isolates pod classes (one or more, that the same policies
    isolate alike): the policies that select them."""
    selecting = policies.selecting(group[0], direction)
    names = ", ".join(p.name for p in selecting[:3])
    more = f" and {len(selecting) - 3} more" if len(selecting) > 3 else ""
    word = "to" if direction == INGRESS else "from"
    pod = group[0]
    count = sum(len(c.members) for c in group)
    if len(group) > 1:
        pods = f"{pod.members[0]} and {count - 1:,} more pods"
    else:
        pods = pod.members[0] if len(pod.members) == 1 else f"{pod.members[0]} .. {pod.members[-1]}"
    return (f"connections {word} {pods}: NetworkPolicy {names}{more} select{'s' if len(selecting) == 1 else ''} "
            f"{'it' if count == 1 else 'them'} for {direction}")


__all__ = ["Admission", "Balancers", "EVERY", "INGRESS", "EGRESS", "NetworkPolicy", "PodClass", "PolicySet",
           "RuleWriter", "Selector", "comment", "describe_policies", "exclude", "merge", "pod_admission", "port_tokens",
           "read_policy", "translate_pods"]
