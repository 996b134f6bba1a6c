"""NetworkPolicy: the semantics, and a translation into ordered rules that decides exactly alike.

The property tests generate namespaces, pods, policies (selectors, namespace selectors,
ip blocks with holes, named and numbered ports, ranges, both directions) and packets,
and compare the first match of the translated rules (checker.policy, the evaluator's
own reading of rules) with a direct evaluation of the policies (PolicySet.allowed).
"""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.api import load_text
from checker.importers.networkpolicy import (EGRESS, INGRESS, Balancers, NetworkPolicy, Peer, PodClass, PolicyRule,
                                             PolicySet, PortSpec, RuleWriter, Selector, exclude, merge, pod_admission,
                                             read_policy, translate_pods)
from checker.importers.yamlnodes import load
from checker.model import Span
from checker.net import ANY_PORT, PortSet
from checker.policy import Point, Policy
from tests.conftest import examples

SPAN = Span("p.yaml", 1, 1, 1, 2)
LABELS = {"app": ("a", "b", "c"), "tier": ("x", "y")}
NAMED = {"http": ("tcp", 80), "dns": ("udp", 53), "alt": ("tcp", 8080)}
NAMESPACES = ("default", "other")
BLOCKS = ("10.0.0.0/8", "192.0.2.0/24", "0.0.0.0/0", "203.0.113.0/24", "10.244.0.0/16")
HOLES = ("10.1.0.0/16", "192.0.2.128/25", "10.244.0.8/29", "203.0.113.7/32")
PORTS = (53, 79, 80, 81, 443, 1000, 8080, 8081)
ADDRESSES = ("10.0.0.1", "10.1.2.3", "10.244.0.9", "192.0.2.1", "192.0.2.200", "203.0.113.7", "203.0.113.8",
             "198.51.100.1", "172.16.0.1")

labels = st.fixed_dictionaries({}, optional={k: st.sampled_from(v) for k, v in LABELS.items()})


@st.composite
def selectors(draw) -> Selector:
    match = tuple(sorted(draw(labels).items()))
    expressions = []
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(sorted(LABELS) + ["kubernetes.io/metadata.name", "env"]))
        operator = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
        values = tuple(draw(st.lists(st.sampled_from(["a", "b", "x", "default", "other", "prod"]), max_size=2)))
        expressions.append((key, operator, values if operator in ("In", "NotIn") else ()))
    return Selector(match, tuple(expressions))


@st.composite
def peers(draw) -> Peer:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        block = ipaddress.ip_network(draw(st.sampled_from(BLOCKS)))
        holes = [ipaddress.ip_network(h) for h in draw(st.lists(st.sampled_from(HOLES), max_size=2))
                 if ipaddress.ip_network(h).subnet_of(block)]
        return Peer(block=exclude((block,), holes))
    pods = draw(selectors()) if choice in (1, 3) else None
    namespaces = draw(selectors()) if choice in (2, 3) else None
    return Peer(pods=pods, namespaces=namespaces)


@st.composite
def port_specs(draw) -> PortSpec:
    protocol = draw(st.sampled_from(["tcp", "tcp", "udp", "sctp"]))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return PortSpec(protocol, None)
    if kind == 1:
        return PortSpec(protocol, draw(st.sampled_from(sorted(NAMED) + ["nope"])))
    low = draw(st.sampled_from(PORTS))
    end = draw(st.one_of(st.none(), st.sampled_from(PORTS)))
    return PortSpec(protocol, low, end)


@st.composite
def rules(draw) -> PolicyRule:
    peer_list = draw(st.one_of(st.none(), st.lists(peers(), min_size=1, max_size=3).map(tuple)))
    port_list = draw(st.one_of(st.none(), st.lists(port_specs(), min_size=1, max_size=3).map(tuple)))
    return PolicyRule(peer_list, port_list, SPAN)


@st.composite
def policies(draw) -> NetworkPolicy:
    types = frozenset(draw(st.lists(st.sampled_from([INGRESS, EGRESS]), min_size=1, max_size=2)))
    return NetworkPolicy(f"p{draw(st.integers(0, 99))}", draw(st.sampled_from(NAMESPACES)), draw(selectors()), types,
                         tuple(draw(st.lists(rules(), max_size=3))), tuple(draw(st.lists(rules(), max_size=3))), SPAN)


@st.composite
def worlds(draw):
    count = draw(st.integers(1, 4))
    classes = []
    address = 10
    for index in range(count):
        size = draw(st.integers(1, 2))
        members = tuple(f"pod{index}-{m}" for m in range(size))
        named = {k: NAMED[k] for k in draw(st.lists(st.sampled_from(sorted(NAMED)), unique=True, max_size=2))}
        namespace, own = draw(st.sampled_from(NAMESPACES)), draw(labels)
        # often like the class before: its namespace and port names (other labels), or all
        # three, so that the same policies admit both alike and they share rules
        like = draw(st.integers(0, 2)) if classes else 0
        if like:
            before = classes[-1]
            namespace, named, own = before.namespace, dict(before.ports), dict(before.labels) if like == 2 else own
        classes.append(PodClass(f"class-{index}", namespace, own, named, members, SPAN))
    namespace_labels = {"default": {"env": "prod"}, "other": draw(st.sampled_from([{}, {"env": "dev"}]))}
    policy_set = PolicySet(draw(st.lists(policies(), max_size=4)), namespace_labels)
    addresses = {}
    for cls in classes:
        for member in cls.members:
            addresses[member] = f"10.244.0.{address}"
            address += 1
    return classes, policy_set, addresses


def _translated(classes, policy_set, addresses, lbs=()):
    """The rules as a topology: pods with their addresses, each lb (name, routes) admitted as merge() says.
    The writer is told the addresses of half the pods (as the importer tells it all but
    the overlay's): a pod whose address no address rule matches is not denied by name."""
    known = {m: ipaddress.ip_address(a) for m, a in addresses.items() if int(a.rsplit(".", 1)[1]) % 2 == 0}
    writer = RuleWriter({c.key: c.members for c in classes}, addresses=known)
    balancers = Balancers()  # (as the importer: balancers admitted alike share one block)
    for name, routes in lbs:
        balancers.add(name, balancers.merged(routes, [c.key for c in classes]), SPAN, None)
    balancers.write(writer)
    translate_pods(policy_set, classes, writer, lambda pod, direction: None,
                   skip_open=not any(policy_set.isolated(c, EGRESS) for c in classes))
    writer.add("allow", ["any"], ["any"], None, SPAN)
    lines = [f"service {member} address {addresses[member]}" for cls in classes for member in cls.members]
    lines += [f"lb {name} {{ managed; address 10.96.0.{10 + i} }}" for i, (name, _) in enumerate(lbs)]
    lines += [s.text for s in writer.statements]
    loaded = load_text("\n".join(lines) + "\n", "t.topo")
    assert loaded.topology is not None, [r.message for r in loaded.results]
    return Policy(loaded.topology)


def _point(end, addresses):
    if isinstance(end, PodClass):
        return Point(ipaddress.ip_address(addresses[end.members[-1]]), None)
    return Point(end, None)


ends = st.one_of(st.integers(0, 3), st.sampled_from(ADDRESSES).map(ipaddress.ip_address))


@settings(max_examples=examples(150))
@given(worlds(), st.lists(st.tuples(ends, ends, st.sampled_from(["tcp", "udp"]), st.sampled_from(PORTS)),
                          min_size=1, max_size=12))
def test_the_rules_decide_every_connection_as_the_policies_do(world, packets) -> None:
    classes, policy_set, addresses = world
    policy = _translated(classes, policy_set, addresses)
    for src, dst, protocol, port in packets:
        src = classes[src % len(classes)] if isinstance(src, int) else src
        dst = classes[dst % len(classes)] if isinstance(dst, int) else dst
        expected = policy_set.allowed(src, dst, protocol, port)
        got = policy.first_match(_point(src, addresses), _point(dst, addresses), PortSet.single(protocol, port))
        assert bool(got) == expected, (src, dst, protocol, port, [r.describe() for r in policy.rules])


def test_a_pod_an_ip_block_covers_is_denied_by_name_only_where_an_address_rule_follows() -> None:
    """An ipBlock never admits a pod (its address is the pod's, not "outside"), but the
    rule written for it matches the pod's address: a pod the policy does not admit is
    denied by name before it, and only where such a rule follows (naming every other
    pod class at every isolated pod wrote the square of a cluster's applications)."""
    block = Peer(block=(ipaddress.ip_network("10.0.0.0/8"),))
    a = PodClass("class-0", "default", {"app": "a"}, {}, ("a-0",), SPAN)
    b = PodClass("class-1", "default", {"app": "b"}, {}, ("b-0",), SPAN)
    addresses = {"a-0": "10.244.0.10", "b-0": "10.244.0.12"}  # both known to the writer (even)
    for peers, pod_denied in (((block,), True), ((Peer(pods=Selector((("app", "a"),), ())),), False)):
        policy_set = PolicySet([NetworkPolicy("p", "default", Selector((("app", "a"),), ()), frozenset({INGRESS}),
                                              (PolicyRule(peers, None, SPAN),), (), SPAN)])
        policy = _translated([a, b], policy_set, addresses)
        texts = [r.describe() for r in policy.rules]
        named = [t for t in texts if t.startswith("deny ") and "b-0" in t.split(" -> ")[0].split(", ")]
        assert bool(named) == pod_denied, texts
        got = policy.first_match(_point(b, addresses), _point(a, addresses), PortSet.single("tcp", 80))
        assert not got and not policy_set.allowed(b, a, "tcp", 80)
        assert bool(policy.first_match(Point(ipaddress.ip_address("10.1.2.3"), None), _point(a, addresses),
                                       PortSet.single("tcp", 80))) == pod_denied


@settings(max_examples=examples(80))
@given(worlds(), st.data())
def test_a_service_admits_a_client_that_may_reach_one_of_its_pods(world, data) -> None:
    """Each of one to three Services (some over the same backends on the same ports, so
    admitted by one object and written as one block) admits exactly the clients that
    may reach one of its pods on its target port."""
    classes, policy_set, addresses = world
    front = PortSet.single("tcp", 6379)
    services = []
    for _ in range(data.draw(st.integers(1, 3))):
        if services and data.draw(st.booleans()):  # the same backends and ports as the one before
            services.append(services[-1])
            continue
        backends = data.draw(st.lists(st.integers(0, len(classes) - 1), min_size=1, max_size=2, unique=True))
        # (few ports: two Services often route alike)
        services.append((backends, data.draw(st.lists(st.sampled_from(PORTS[1:4]), min_size=2, max_size=2))))
    lbs = [(f"svc{i}", [(pod_admission(policy_set, classes, classes[b]), PortSet.single("tcp", p), front)
                        for b, p in zip(backends, ports)]) for i, (backends, ports) in enumerate(services)]
    policy = _translated(classes, policy_set, addresses, lbs)
    for i, (backends, ports) in enumerate(services):
        lb = Point(ipaddress.ip_address(f"10.96.0.{10 + i}"), None)
        for client in list(classes) + [ipaddress.ip_address(a) for a in ADDRESSES]:
            expected = any(policy_set.allowed(client, classes[b], "tcp", p) for b, p in zip(backends, ports))
            assert bool(policy.first_match(_point(client, addresses), lb, front)) == expected, (i, client)


# -- the semantics, case by case ------------------------------------------------------------------

POD_A = PodClass("a", "default", {"app": "a"}, {"http": ("tcp", 80)}, ("a-0",), SPAN)
POD_B = PodClass("b", "default", {"app": "b"}, {}, ("b-0",), SPAN)
POD_OTHER = PodClass("o", "other", {"app": "a"}, {}, ("o-0",), SPAN)


def _policies(text: str) -> PolicySet:
    notes: list = []
    docs = load(text, "p.yaml").documents
    found = [read_policy(doc, doc.path("metadata", "name").text(),
                         (doc.path("metadata", "namespace").text() if doc.path("metadata", "namespace") else "default"),
                         notes) for doc in docs]
    return PolicySet(found, {"other": {"team": "blue"}})


def test_a_pod_no_policy_selects_accepts_everything() -> None:
    policies = _policies("kind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  podSelector: {matchLabels: {app: b}}\n")
    assert policies.allowed(POD_B, POD_A, "tcp", 1234)
    assert policies.allowed(ipaddress.ip_address("203.0.113.1"), POD_A, "udp", 53)
    assert not policies.allowed(POD_A, POD_B, "tcp", 80)  # b is isolated, with no ingress rule


def test_an_empty_pod_selector_isolates_the_namespace_and_types_default_to_ingress() -> None:
    policies = _policies("kind: NetworkPolicy\nmetadata: {name: deny-all}\nspec:\n  podSelector: {}\n")
    assert not policies.allowed(POD_B, POD_A, "tcp", 80)
    assert policies.allowed(POD_A, POD_OTHER, "tcp", 80)  # other namespace: not selected
    assert policies.allowed(POD_A, ipaddress.ip_address("8.8.8.8"), "udp", 53)  # egress not isolated


def test_peers_by_pod_namespace_and_both() -> None:
    policies = _policies("""kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: b}}
    - namespaceSelector: {matchLabels: {team: blue}}
      podSelector: {matchLabels: {app: a}}
""")
    assert policies.allowed(POD_B, POD_A, "tcp", 9)
    assert policies.allowed(POD_OTHER, POD_A, "tcp", 9)
    assert not policies.allowed(PodClass("x", "other", {"app": "b"}, {}, ("x",), SPAN), POD_A, "tcp", 9)
    assert not policies.allowed(ipaddress.ip_address("10.0.0.1"), POD_A, "tcp", 9)


def test_ip_blocks_with_holes_and_named_and_ranged_ports() -> None:
    policies = _policies("""kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    ports:
    - port: http
    - port: 8000
      endPort: 8002
      protocol: TCP
""")
    ten = ipaddress.ip_address("10.2.0.1")
    assert policies.allowed(ten, POD_A, "tcp", 80) and policies.allowed(ten, POD_A, "tcp", 8002)
    assert not policies.allowed(ten, POD_A, "tcp", 8003) and not policies.allowed(ten, POD_A, "udp", 80)
    assert not policies.allowed(ipaddress.ip_address("10.1.0.1"), POD_A, "tcp", 80)
    assert not policies.allowed(POD_B, POD_A, "tcp", 80)  # an ip block never means a pod


def test_egress_needs_both_ends_to_agree() -> None:
    policies = _policies("""kind: NetworkPolicy
metadata: {name: out}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{port: http}]
""")
    assert policies.allowed(POD_B, POD_A, "tcp", 80)
    assert not policies.allowed(POD_B, POD_A, "tcp", 81)
    assert not policies.allowed(POD_B, ipaddress.ip_address("8.8.8.8"), "tcp", 80)  # named port: pods only
    assert policies.allowed(POD_A, POD_B, "tcp", 5)  # b accepts everything: no ingress isolation


def test_sctp_and_bad_selectors_are_noted() -> None:
    notes: list = []
    doc = load("""kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {matchExpressions: [{key: app, operator: Near, values: [a]}]}
  ingress:
  - ports: [{protocol: SCTP, port: 5}]
""", "p.yaml").documents[0]
    policy = read_policy(doc, "p", "default", notes)
    assert [n.message for n in notes] == [
        "podSelector: operator 'Near' is not a label selector operator; read as selecting nothing",
        "SCTP is not modelled (only TCP and UDP); this port matches no connection of the model",
    ]
    assert [(n.span.line, n.span.column) for n in notes] == [(4, 36), (6, 13)]
    assert not PolicySet([policy]).selecting(POD_A, INGRESS)


@settings(max_examples=examples(100))
@given(worlds())
def test_the_policies_selecting_a_pod_are_those_a_scan_finds(world) -> None:
    """``selecting`` (kept per namespace and labels, from the policies of the pod's
    namespace) is every policy of that direction whose namespace is the pod's and whose
    selector matches it, in input order, asked twice."""
    classes, policy_set, _ = world
    for _ in range(2):
        for pod in classes:
            for direction in (INGRESS, EGRESS):
                assert policy_set.selecting(pod, direction) == [
                    p for p in policy_set.policies
                    if direction in p.types and p.namespace == pod.namespace and p.selector.matches(pod.labels)]


@settings(max_examples=examples(150))
@given(worlds())
def test_an_admission_gives_each_class_what_the_pair_gives(world) -> None:
    """``pod_admission`` works out only the classes a peer names and those isolated for
    egress, and gives every other class the ``default``: for every pair of classes, the
    ports and origin are what asking that pair gives, and only the default classes go
    without an entry of their own."""
    classes, policy_set, _ = world
    for destination in classes:
        admission = pod_admission(policy_set, classes, destination)
        assert list(admission.order) == [c.key for c in classes]
        assert list(admission.pods) == [c.key for c in classes if c.key in admission.pods]  # input order
        for source in classes:
            into, origin_in = policy_set.ingress_from_pod(source, destination)
            out_of, origin_out = policy_set.egress_to_pod(source, destination)
            expected = (into & out_of, origin_in if into != ANY_PORT else origin_out)
            assert admission.ports_of(source.key) == expected, (source.key, destination.key)
        assert dict(admission.every_class()) == {c.key: admission.ports_of(c.key) for c in classes}


def test_pods_one_policy_selects_share_an_admission_only_where_they_read_alike() -> None:
    """One admission object serves every destination its ingress policies treat alike
    (a namespace admitting its own pods gives every pod the same); a port named in the
    policy means each destination's own port, and an egress policy of a source names
    destinations by their labels, so pods that differ there get admissions of their own."""
    policies = _policies("""kind: NetworkPolicy
metadata: {name: same-namespace}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {}}]
    ports: [{port: http}]
""")
    web = PodClass("w", "default", {"app": "w"}, {"http": ("tcp", 80)}, ("w-0",), SPAN)
    web2 = PodClass("w2", "default", {"app": "w2"}, {"http": ("tcp", 80)}, ("w2-0",), SPAN)
    alt = PodClass("alt", "default", {"app": "alt"}, {"http": ("tcp", 8080)}, ("alt-0",), SPAN)
    classes = [web, web2, alt]
    shared = pod_admission(policies, classes, web)
    assert pod_admission(policies, classes, web2) is shared
    assert shared.ports_of("alt")[0] == PortSet.single("tcp", 80)
    assert pod_admission(policies, classes, alt).ports_of("w")[0] == PortSet.single("tcp", 8080)
    egress = PolicySet([*policies.policies, *_policies("""kind: NetworkPolicy
metadata: {name: to-w-only}
spec:
  podSelector: {matchLabels: {app: alt}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: w}}}]
""").policies])
    to_web, to_web2 = pod_admission(egress, classes, web), pod_admission(egress, classes, web2)
    assert to_web is not to_web2  # (alt may reach w, not w2: the same ingress policy, other labels)
    assert to_web.ports_of("alt")[0] == PortSet.single("tcp", 80) and not to_web2.ports_of("alt")[0]
