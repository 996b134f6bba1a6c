"""Kubernetes manifests to a topology (spec/IMPORT-K8S.md is the mapping, row by row).

The input is every object of a set of manifests (``kubectl apply -f`` of the same files,
or the output of ``helm template`` / ``kustomize build``), taken as one cluster. What the
manifests do not guarantee is taken at its worst: replicas share a node unless a required
pod anti-affinity or a ``DoNotSchedule`` spread constraint on ``kubernetes.io/hostname``
keeps them apart, and a zone unless the same holds for ``topology.kubernetes.io/zone``.
Requirements come only from evidence (environment variables and arguments that name a
Service), each one written down in a comment. Whatever the importer does not map is a
located note.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

from ..fastparse import paused_gc
from ..model import Span
from ..net import NO_PORT, IPAddress, PortSet
from ..results import Result
from .common import (NO_OVERLAY, PUBLIC_STAND_INS, Addresses, OverlayInfo, Sources, alternative_groups, place,
                     zone_spread)
from .emitter import (Attr, Cluster, Component, Imported, Names, Plain, Statement, declared_kinds, emit, note, quoted,
                      stand_in_job, valid_name)
from .evidence import Reference, command_references, image_name, image_role, is_consensus, references
from .networkpolicy import (EGRESS, INGRESS, Admission, Balancers, NetworkPolicy, PodClass, PolicySet, RuleWriter,
                            describe_policies, pod_admission, read_policy, read_selector, translate_pods)
from .yamlnodes import Node

HOSTNAME = "kubernetes.io/hostname"
ZONE_KEYS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "DaemonSet", "Pod")
#: Pod addresses, Service addresses and the stand-ins for public addresses nobody wrote down.
POD_NETWORK, SERVICE_NETWORK = "10.244.0.0/16", "10.96.0.0/12"
NODE_PORTS = (30000, 32767)

# Kinds read for what they say about others, never mapped themselves.
_READ = frozenset({"Namespace", "ConfigMap", "HorizontalPodAutoscaler", "NetworkPolicy", "Ingress", "Service"})
# Why a kind that is not mapped does not matter to the checks (else: "is not mapped").
_WHY_NOT = {
    "PodDisruptionBudget": "it limits voluntary evictions (drains), not failures",
    "StorageClass": "storage is not modelled",
    "PersistentVolume": "storage is not modelled",
    "PersistentVolumeClaim": "storage is not modelled",
    "Secret": "its values are not read",
    "ServiceAccount": "identities are not modelled",
    "Role": "permissions are not modelled", "ClusterRole": "permissions are not modelled",
    "RoleBinding": "permissions are not modelled", "ClusterRoleBinding": "permissions are not modelled",
    "Job": "a run-to-completion Job is no service that must stay up",
    "CronJob": "a run-to-completion Job is no service that must stay up",
    "LimitRange": "resource limits are not modelled", "ResourceQuota": "resource limits are not modelled",
    "CustomResourceDefinition": "custom resources are not modelled",
}


@dataclass
class Obj:
    kind: str
    name: str
    namespace: str
    doc: Node
    api: str

    @property
    def name_span(self) -> Span:
        node = self.doc.path("metadata", "name")
        return node.span if node is not None else self.doc.span

    def spec(self) -> Node:
        return self.doc.get("spec") or Node({}, self.doc.span)


@dataclass(eq=False)
class Workload:
    obj: Obj
    name: str  # its name in the topology (qualified by namespace when there are several)
    template: Node  # the pod template (a Pod's own document)
    labels: dict[str, str]
    replicas: int
    origin: Span
    role: str = "service"
    consensus: bool = False
    pods: list[str] = field(default_factory=list)
    ports: dict[str, tuple[str, int]] = field(default_factory=dict)  # named container ports
    listen: PortSet = NO_PORT
    images: list[str] = field(default_factory=list)
    public: list[str] = field(default_factory=list)  # why it is a web: the public entries in front
    comments: list[str] = field(default_factory=list)

    def pod_spec(self) -> Node:
        return self.template.get("spec") or Node({}, self.template.span)

    def containers(self) -> list[Node]:
        return (self.pod_spec().get("containers") or Node([], self.template.span)).seq()


@dataclass
class ServicePort:
    port: int
    protocol: str
    target: int | str
    node_port: int | None
    name: str | None
    span: Span


@dataclass(eq=False)
class Svc:
    obj: Obj
    type: str
    headless: bool
    selector: dict[str, str] | None
    ports: list[ServicePort]
    workloads: list[Workload]
    component: str | None = None  # the lb in the model (None: headless)
    public: str | None = None  # the public lb (NodePort, LoadBalancer)
    used: bool = False


def import_k8s(files: Sequence[tuple[str, str]], zones: Sequence[str] = (), overlay: OverlayInfo = NO_OVERLAY,
               one_node: bool = False) -> Imported:
    """Import the objects of ``files`` ((path, text) pairs, one cluster) as a topology.

    ``zones`` names the cluster's zones (``--zones``), after any the overlay declares;
    ``one_node`` puts every replica nothing spreads on one node (the placement the group
    placement is tested against)."""
    with paused_gc():  # (as checking does: the YAML's nodes and the model all live on)
        sources = Sources(files)
        loaded, errors = sources.load()
        if errors:
            return Imported("k8s", "", (), (), dict(sources.texts), sources.anchor, errors)
        return _K8s(sources, loaded, tuple(zones), overlay, one_node).run()


class _K8s:
    def __init__(self, sources: Sources, loaded, zones: tuple[str, ...], overlay: OverlayInfo, one_node: bool):
        self.sources = sources
        self.loaded = loaded
        self.overlay = overlay
        self.zones = tuple(dict.fromkeys(overlay.zones + zones))
        self.new_zones = [z for z in dict.fromkeys(zones) if z not in overlay.zones]
        self.one_node = one_node
        self.notes: list[Result] = []
        self.names = Names()
        self.hosts = Names()
        self.objects: list[Obj] = []
        self.workloads: list[Workload] = []
        self.services: list[Svc] = []
        self.configmaps: dict[tuple[str, str], Node] = {}
        self.namespace_labels: dict[str, dict[str, str]] = {}
        self.policies: list[NetworkPolicy] = []
        self.ingresses: list[Obj] = []
        self.hpas: list[Obj] = []
        self.pod_addresses = Addresses(POD_NETWORK)
        self.pod_address: dict[str, IPAddress | None] = {}  # pod -> its address (None: the overlay's own)
        self.service_addresses = Addresses(SERVICE_NETWORK)
        self.public_addresses = Addresses(*PUBLIC_STAND_INS)
        self.requirements: list[Plain] = []
        self.requires: dict[str, set[str]] = {}  # workload -> workloads it needs
        self.lbs: list[Component] = []
        self.entries: list[Statement] = []  # public lbs and their dns names
        self.hops: list[tuple[str, list[str], PortSet | None, Span, str]] = []  # lb -> targets, for rules
        self.entrances: list[tuple[str, PortSet, Span, str]] = []  # internet -> an Ingress
        # who may connect to a load balancer: its routes to pods, and the sources it admits at most (None: any)
        self.admissions: list[tuple[str, list[tuple[Workload, PortSet, PortSet]], Span, str, tuple | None]] = []
        self.jobs: list[Statement] = []
        self.service_names: dict[tuple[str, str], str] = {}
        self.adopted: set[int] = set()
        self.total = 0  # objects in the input, mapped or not
        self.mixed_said: set[tuple[str, str]] = set()
        self.zone_first: dict[str, Span] = {}

    def where(self, span: Span) -> str:
        return self.sources.where(span)

    def note(self, message: str, span: Span, hint: str | None = None) -> None:
        self.notes.append(note(message, span, hint))

    # -- objects ------------------------------------------------------------------------------

    def run(self) -> Imported:
        self.collect()
        multi = len({o.namespace for o in self.objects if o.kind != "Namespace"}) > 1
        self.qualify = (lambda name, ns: f"{name}.{ns}") if multi else (lambda name, ns: name)
        self.read_context()
        self.read_workloads()
        self.read_services()
        self.read_ingresses()
        self.decide_kinds()
        self.schedule()
        self.infer_requirements()
        workloads = self.place_and_write_workloads()
        self.write_services()
        self.write_ingresses()
        self.write_jobs()
        rules = self.write_rules()
        zones: list[Statement] = [Plain(f"zone {valid_name(z)}", self.zone_first.get(z, self.anchor_span))
                                  for z in self.new_zones]
        sections: list[list[Statement]] = [zones, workloads, self.lbs, self.entries, self.jobs,
                                           self.requirements, rules]
        if not (workloads or self.lbs or self.entries):  # nothing to check: the notes say why
            return Imported("k8s", "", (), tuple(self.notes), dict(self.sources.texts), self.sources.anchor)
        first = next((section for section in sections if section), None)
        if first is not None:
            files = len(self.sources.texts)
            first[0].comments[:0] = [
                f"Kubernetes manifests imported by topocheck: {self.total} objects from {files} "
                f"file{'s' if files != 1 else ''}; regenerate rather than edit (topocheck import k8s)"]
        emitted = emit(sections, self.where)
        notes = tuple({(n.message, n.span): n for n in self.notes}.values())  # a selector is read once per key
        return Imported("k8s", emitted.text, emitted.origins, notes, dict(self.sources.texts),
                        self.sources.anchor, components=declared_kinds(sections))

    @property
    def anchor_span(self) -> Span:
        return Span.start_of(self.sources.anchor)

    def collect(self) -> None:
        seen: dict[tuple[str, str, str], Span] = {}
        for documents in self.loaded:
            for doc in documents.documents:
                for item in self._items(doc):
                    obj = self._object(item)
                    if obj is None:
                        continue
                    key = (obj.kind, obj.namespace, obj.name)
                    if key in seen:
                        self.note(f"{obj.kind} '{obj.name}' is defined again (first at {self.where(seen[key])}); "
                                  "the later one is skipped, as 'kubectl apply' would replace it", obj.name_span)
                        continue
                    seen[key] = obj.name_span
                    self.objects.append(obj)

    def _items(self, doc: Node) -> Iterable[Node]:
        if doc.is_map and (doc.get("kind") or Node(None, doc.span)).text() == "List":
            yield from (doc.get("items") or Node([], doc.span)).seq()
        else:
            yield doc

    def _object(self, doc: Node) -> Obj | None:
        if doc.value is None:
            return None
        kind = doc.get("kind").text() if doc.is_map and doc.get("kind") is not None else None
        if not doc.is_map or not kind:
            self.note("a document that is not a Kubernetes object (no 'kind') is skipped", doc.span)
            return None
        name_node = doc.path("metadata", "name")
        name = name_node.text() if name_node is not None else None
        if not name:
            generated = doc.path("metadata", "generateName")
            self.note(f"{kind} without 'metadata.name' is skipped"
                      + (" (a generateName gets its name only when created)" if generated is not None else ""),
                      doc.span)
            return None
        namespace_node = doc.path("metadata", "namespace")
        namespace = (namespace_node.text() if namespace_node is not None else None) or "default"
        api = (doc.get("apiVersion") or Node("", doc.span)).text() or ""
        obj = Obj(kind, name, namespace, doc, api)
        self.total += 1
        if kind in WORKLOAD_KINDS or kind in _READ:
            return obj
        why = _WHY_NOT.get(kind)
        self.note(f"{kind} '{name}' is not mapped" + (f": {why}" if why else
                                                     " (a kind topocheck does not know); skipped"),
                  obj.name_span)
        return None

    # -- workloads ----------------------------------------------------------------------------

    def read_context(self) -> None:
        """What workloads need to know first: namespaces, config maps, autoscalers, policies,
        and the names of the Services (which keep their own names)."""
        for obj in self.objects:
            if obj.kind == "Namespace":
                labels = obj.doc.path("metadata", "labels")
                self.namespace_labels[obj.name] = labels.string_map() if labels is not None else {}
            elif obj.kind == "ConfigMap":
                data = obj.doc.get("data")
                if data is not None and data.is_map:
                    self.configmaps[(obj.namespace, obj.name)] = data
            elif obj.kind == "HorizontalPodAutoscaler":
                self.hpas.append(obj)
            elif obj.kind == "NetworkPolicy":
                self.policies.append(read_policy(obj.doc, obj.name, obj.namespace, self.notes))
            elif obj.kind == "Service":
                spec = obj.spec()
                headless = (spec.get("clusterIP") or Node(None, obj.doc.span)).text() == "None"
                if not headless and (spec.get("type") or Node("", obj.doc.span)).text() != "ExternalName" \
                        and spec.get("selector") is not None:
                    self.service_names[(obj.namespace, obj.name)] = self.names.claim(
                        self.qualify(obj.name, obj.namespace))

    def read_workloads(self) -> None:
        bare_pods = [o for o in self.objects if o.kind == "Pod"]
        for obj in self.objects:
            if obj.kind not in WORKLOAD_KINDS:
                continue
            spec = obj.spec()
            if obj.kind == "Pod":
                template = obj.doc
            else:
                template = spec.get("template")
                if template is None or not template.is_map:
                    self.note(f"{obj.kind} '{obj.name}' has no pod template; skipped", obj.name_span)
                    continue
            labels_node = template.path("metadata", "labels")
            labels = labels_node.string_map() if labels_node is not None else {}
            replicas_node = spec.get("replicas") if obj.kind != "Pod" else None
            replicas, origin = 1, obj.name_span
            if replicas_node is not None:
                origin = replicas_node.entry_span
                value = replicas_node.integer()
                if value is None:
                    self.note(f"{obj.kind} '{obj.name}': replicas '{replicas_node.text()}' is not a number; "
                              "taken as 1", replicas_node.span)
                else:
                    replicas = value
            workload = Workload(obj, self.qualify(obj.name, obj.namespace), template, labels, replicas, origin)
            if obj.kind == "DaemonSet":
                self.note(f"DaemonSet '{obj.name}' runs a pod on every node; how many nodes there are is not in "
                          "the manifests, so it is taken as one pod on one node", obj.name_span)
            self.autoscale(workload)
            adopting = self.adopt(workload, bare_pods)
            if obj.kind in ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController") \
                    and workload.replicas == 0 and not adopting:
                self.note(f"{obj.kind} '{obj.name}' has no replicas: nothing of it runs", origin)
            self.workloads.append(workload)

    def autoscale(self, workload: Workload) -> None:
        obj = workload.obj
        for hpa in self.hpas:
            target = hpa.spec().get("scaleTargetRef")
            if target is None or hpa.namespace != obj.namespace:
                continue
            if (target.get("kind") or Node("", hpa.doc.span)).text() != obj.kind or \
                    (target.get("name") or Node("", hpa.doc.span)).text() != obj.name:
                continue
            low_node = hpa.spec().get("minReplicas")
            low = low_node.integer() if low_node is not None else 1
            low = 1 if low is None else low
            workload.replicas = low
            workload.origin = low_node.entry_span if low_node is not None else hpa.name_span
            self.note(f"{obj.kind} '{obj.name}' is scaled by HorizontalPodAutoscaler '{hpa.name}', which may "
                      f"scale it down to {low} replica{'s' if low != 1 else ''}; taken as {low}", workload.origin)

    def adopt(self, workload: Workload, bare_pods: list[Obj]) -> bool:
        """A ReplicationController or ReplicaSet counts the bare pods its selector matches (and
        no other controller owns) as its own; whether it adopted any."""
        obj = workload.obj
        if obj.kind not in ("ReplicationController", "ReplicaSet"):
            return False
        selector_node = obj.spec().get("selector")
        if obj.kind == "ReplicationController":
            selector = selector_node.string_map() if selector_node is not None else workload.labels
            matches = lambda labels: all(labels.get(k) == v for k, v in selector.items())  # noqa: E731
        else:
            read = read_selector(selector_node, self.notes, "selector")
            matches = (lambda labels: read.matches(labels)) if read is not None else (lambda labels: False)
        adopted = []
        for pod in bare_pods:
            labels_node = pod.doc.path("metadata", "labels")
            labels = labels_node.string_map() if labels_node is not None else {}
            if pod.namespace == obj.namespace and labels and matches(labels) and id(pod) not in self.adopted:
                adopted.append(pod.name)
                self.adopted.add(id(pod))
        if adopted and workload.replicas:
            before = workload.replicas
            workload.replicas = max(0, before - len(adopted))
            self.note(f"{obj.kind} '{obj.name}' selects Pod {', '.join(repr(a) for a in adopted)} too, and counts "
                      f"it among its {before} replica{'s' if before != 1 else ''}: it runs "
                      f"{workload.replicas} pod{'s' if workload.replicas != 1 else ''} of its own", workload.origin)
        return bool(adopted)

    # -- services -----------------------------------------------------------------------------

    def selects(self, selector: dict[str, str], workload: Workload, namespace: str) -> bool:
        return (workload.obj.namespace == namespace and bool(selector)
                and all(workload.labels.get(k) == v for k, v in selector.items()))

    def selected(self, selector: dict[str, str], namespace: str,
                 by_label: dict[tuple[str, str, str], list[Workload]]) -> list[Workload]:
        """The workloads a Service's selector selects, in input order: those with its first
        label (from ``by_label``, by namespace, label and value), then all of it."""
        if not selector:
            return []
        key, value = next(iter(selector.items()))
        return [w for w in by_label.get((namespace, key, value), ()) if self.selects(selector, w, namespace)]

    def read_services(self) -> None:
        by_label: dict[tuple[str, str, str], list[Workload]] = {}
        for workload in self.workloads:
            for key, value in workload.labels.items():
                by_label.setdefault((workload.obj.namespace, key, value), []).append(workload)
        for obj in self.objects:
            if obj.kind != "Service":
                continue
            spec = obj.spec()
            kind = (spec.get("type") or Node("ClusterIP", obj.doc.span)).text() or "ClusterIP"
            if kind == "ExternalName":
                target = (spec.get("externalName") or Node("", obj.doc.span)).text()
                self.note(f"Service '{obj.name}' is an ExternalName (a DNS alias of '{target}'): not mapped; "
                          "declare it as an 'external' target in the overlay if the system depends on it",
                          obj.name_span)
                continue
            selector_node = spec.get("selector")
            if selector_node is None or not selector_node.is_map or not selector_node.value:
                self.note(f"Service '{obj.name}' has no selector: its endpoints are managed elsewhere, so it is not "
                          "mapped", obj.name_span)
                continue
            selector = selector_node.string_map()
            headless = (spec.get("clusterIP") or Node(None, obj.doc.span)).text() == "None"
            ports = []
            for item in (spec.get("ports") or Node([], obj.doc.span)).seq():
                port = (item.get("port") or Node(None, item.span)).integer()
                protocol = ((item.get("protocol") or Node("TCP", item.span)).text() or "TCP").lower()
                if port is None:
                    self.note("a Service port without a number is skipped", item.span)
                    continue
                if protocol not in ("tcp", "udp"):
                    self.note(f"Service '{obj.name}' port {port}/{protocol.upper()}: only TCP and UDP are modelled; "
                              "skipped", item.span)
                    continue
                target_node = item.get("targetPort")
                target: int | str = port
                if target_node is not None and target_node.value is not None:
                    number = target_node.integer()
                    target = number if number is not None else (target_node.text() or port)
                node_port_node = item.get("nodePort")
                node_port = node_port_node.integer() if node_port_node is not None else None
                name_node = item.get("name")
                ports.append(ServicePort(port, protocol, target, node_port,
                                         name_node.text() if name_node is not None else None, item.span))
            workloads = self.selected(selector, obj.namespace, by_label)
            svc = Svc(obj, kind, headless, selector, ports, workloads)
            if not workloads:
                self.note(f"Service '{obj.name}' selects no pod of the manifests ({_labels(selector)}); "
                          "nothing serves it", (selector_node.key_span or selector_node.span))
            self.services.append(svc)

    def resolve_target(self, port: ServicePort, workload: Workload) -> int | None:
        if isinstance(port.target, int):
            return port.target
        named = workload.ports.get(port.target)
        return named[1] if named is not None and named[0] == port.protocol else None

    def read_ingresses(self) -> None:
        for obj in self.objects:
            if obj.kind == "Ingress":
                self.ingresses.append(obj)

    # -- kinds, ports and names of pods --------------------------------------------------------

    def decide_kinds(self) -> None:
        for workload in self.workloads:
            for container in workload.containers():
                image = (container.get("image") or Node("", container.span)).text() or ""
                workload.images.append(image)
                for port in (container.get("ports") or Node([], container.span)).seq():
                    number = (port.get("containerPort") or Node(None, port.span)).integer()
                    protocol = ((port.get("protocol") or Node("TCP", port.span)).text() or "TCP").lower()
                    if number is None or protocol not in ("tcp", "udp") or not 0 <= number <= 65535:
                        continue
                    workload.listen = workload.listen | PortSet.single(protocol, number)
                    name_node = port.get("name")
                    if name_node is not None and name_node.text():
                        workload.ports[name_node.text()] = (protocol, number)
                    host_port = port.get("hostPort")
                    if host_port is not None and host_port.integer():
                        self.note(f"{workload.obj.kind} '{workload.obj.name}' opens hostPort {host_port.integer()}: "
                                  "its port on the node's own address is not modelled", host_port.span)
            if (workload.pod_spec().get("hostNetwork") or Node(False, workload.template.span)).value is True:
                self.note(f"{workload.obj.kind} '{workload.obj.name}' uses the node's network (hostNetwork): "
                          "it is modelled with a pod address of its own", workload.pod_spec().get("hostNetwork").span)
            roles = [image_role(i) for i in workload.images]
            if "db" in roles:
                workload.role = "db"
            workload.consensus = workload.obj.kind == "StatefulSet" and any(is_consensus(i) for i in workload.images)
        for svc in self.services:
            for port in svc.ports:
                for workload in svc.workloads:
                    number = self.resolve_target(port, workload)
                    if number is not None:
                        workload.listen = workload.listen | PortSet.single(port.protocol, number)
                    else:
                        self.note(f"Service '{svc.obj.name}' port {port.port} targets '{port.target}', which no "
                                  f"container of {workload.obj.kind} '{workload.obj.name}' names; that workload "
                                  "is no endpoint of the port", port.span)
            if svc.type in ("NodePort", "LoadBalancer"):
                for workload in svc.workloads:
                    workload.public.append(f"{svc.type} Service {svc.obj.name}")
        for ingress in self.ingresses:
            for backend in self.ingress_backends(ingress, quiet=True):
                for workload in backend[0].workloads:
                    if f"Ingress {ingress.name}" not in workload.public:
                        workload.public.append(f"Ingress {ingress.name}")
        for workload in self.workloads:
            if workload.role != "db" and workload.public:
                workload.role = "web"
            if workload.obj.kind == "Pod":
                base = workload.name if workload.name not in self.names else f"{workload.name}-pod"
                workload.pods = [self.names.claim(base)] if workload.replicas else []
            else:
                workload.pods = [self.names.claim(self.qualify(f"{workload.obj.name}-{i}", workload.obj.namespace))
                                 for i in range(workload.replicas)]
        for svc in self.services:
            if not svc.headless:
                svc.component = self.service_names[(svc.obj.namespace, svc.obj.name)]

    # -- requirements ---------------------------------------------------------------------------

    def evidence(self, workload: Workload) -> list[tuple[str, str, Node, list[Reference]]]:
        """(what, shown text, node, references) for each env value and argument of its containers."""
        out = []
        ns = workload.obj.namespace
        for container in workload.containers():
            for env in (container.get("env") or Node([], container.span)).seq():
                key = (env.get("name") or Node("", env.span)).text() or ""
                value = env.get("value")
                if value is not None and value.text():
                    out.append(("env", f"env {key}={quoted(value.text())}", value, references(value.text(), key)))
                ref = env.path("valueFrom", "configMapKeyRef")
                if ref is not None:
                    name = (ref.get("name") or Node("", ref.span)).text() or ""
                    item = (ref.get("key") or Node("", ref.span)).text() or ""
                    data = self.configmaps.get((ns, name))
                    found = data.get(item) if data is not None else None
                    if found is not None and found.text():
                        out.append(("env", f"env {key}={quoted(found.text())} from ConfigMap {name}", found,
                                    references(found.text(), key) + references(found.text(), item)))
            for source in (container.get("envFrom") or Node([], container.span)).seq():
                ref = source.get("configMapRef")
                name = (ref.get("name") or Node("", ref.span)).text() if ref is not None else None
                data = self.configmaps.get((ns, name or ""))
                prefix = (source.get("prefix") or Node("", source.span)).text() or ""
                for item, found in (data.items() if data is not None else ()):
                    if found.text():
                        key = prefix + item
                        out.append(("env", f"env {key}={quoted(found.text())} from ConfigMap {name}", found,
                                    references(found.text(), key)))
            for field_name in ("command", "args"):
                for said, node, ref in command_references(container.get(field_name), field_name):
                    out.append((field_name, said, node, [ref]))
        return out

    def lookup(self, ref: Reference, namespace: str) -> tuple[Svc, str | None] | None:
        """The Service a host names from a pod in ``namespace`` (``svc``, ``svc.ns``,
        ``svc.ns.svc...``), with the pod for a StatefulSet pod's name (``pod.svc...``)."""
        labels = ref.host.split(".")

        def service(name: str, rest: list[str]) -> Svc | None:
            target_ns = rest[0] if rest else namespace
            if len(rest) > 1 and rest[1] != "svc":
                return None
            return next((s for s in self.services if s.obj.name == name and s.obj.namespace == target_ns), None)

        found = service(labels[0], labels[1:])
        if found is not None:
            return found, None
        if len(labels) >= 2:
            found = service(labels[1], labels[2:])
            if found is not None:
                return found, labels[0]
        return None

    def infer_requirements(self) -> None:
        found: dict[tuple[str, str], tuple[list[str], Node, list[str]]] = {}
        order: list[tuple[str, str]] = []
        for workload in self.workloads:
            self.requires.setdefault(workload.name, set())
            for what, shown, node, refs in self.evidence(workload):
                for ref in refs:
                    hit = self.lookup(ref, workload.obj.namespace)
                    if hit is None:
                        continue
                    svc, pod = hit
                    if workload in svc.workloads:
                        workload.comments.append(f"{shown} ({self.where(node.span)}) names its own Service "
                                                 f"{svc.obj.name}: its peers, not a requirement")
                        continue
                    targets = self.targets_of(svc, pod)
                    if not targets:
                        continue
                    svc.used = True
                    self.requires[workload.name].update(w.name for w in svc.workloads)
                    if workload.role == "db" or not workload.pods:
                        if workload.pods:
                            self.note(f"database {workload.obj.kind} '{workload.obj.name}' names Service "
                                      f"'{svc.obj.name}' ({shown}); a database's own connections (replication) are "
                                      "not inferred", node.span)
                        continue
                    key = (workload.name, ", ".join(targets))
                    if key not in found:
                        found[key] = (targets, node, [])
                        order.append(key)
                    found[key][2].append(f"{shown} ({self.where(node.span)})")
        for key in order:
            targets, node, evidence = found[key]
            workload = next(w for w in self.workloads if w.name == key[0])
            more = f" and {len(evidence) - 2} more" if len(evidence) > 2 else ""
            why = f"{workload.obj.name} names {_target_words(targets)}: {'; '.join(evidence[:2])}{more}"
            self.requirements.append(Plain(f"{', '.join(workload.pods)} uses {', '.join(targets)}", node.span,
                                           [why]))

    def targets_of(self, svc: Svc, pod: str | None) -> list[str]:
        if pod is not None:
            for workload in svc.workloads:
                for name in workload.pods:
                    if name == pod or name == self.qualify(pod, svc.obj.namespace):
                        return [name]
        if svc.component is not None:
            return [svc.component]
        return [p for w in svc.workloads for p in w.pods]

    # -- placement and the workloads' components -----------------------------------------------

    def spread(self, workload: Workload, keys: Sequence[str]) -> tuple[int | None, int | None, str | None]:
        """(cap per domain from a required anti-affinity, maxSkew of a DoNotSchedule spread, what
        says so) for topology keys ``keys``; None where nothing constrains."""
        spec = workload.pod_spec()
        cap = skew = None
        why = None
        terms = spec.path("affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
        for term in (terms.seq() if terms is not None else []):
            key = (term.get("topologyKey") or Node("", term.span)).text()
            selector = read_selector(term.get("labelSelector"), self.notes, "labelSelector")
            namespaces = [n.text() for n in (term.get("namespaces") or Node([], term.span)).seq()]
            if key in keys and selector is not None and selector.matches(workload.labels) and \
                    (not namespaces or workload.obj.namespace in namespaces):
                cap, why = 1, f"a required pod anti-affinity on {key} ({self.where(term.span)})"
        for item in (spec.get("topologySpreadConstraints") or Node([], spec.span)).seq():
            key = (item.get("topologyKey") or Node("", item.span)).text()
            when = (item.get("whenUnsatisfiable") or Node("", item.span)).text()
            selector = read_selector(item.get("labelSelector"), self.notes, "labelSelector")
            if key in keys and when == "DoNotSchedule" and selector is not None and selector.matches(workload.labels):
                value = (item.get("maxSkew") or Node(1, item.span)).integer() or 1
                if skew is None or value < skew:
                    skew = value
                    if cap is None:
                        why = f"a DoNotSchedule spread on {key} with maxSkew {value} ({self.where(item.span)})"
        return cap, skew, why

    def eligible_zones(self, workload: Workload) -> list[str]:
        chosen = None
        selector = workload.pod_spec().get("nodeSelector")
        for key in ZONE_KEYS:
            value = selector.get(key) if selector is not None else None
            if value is not None and value.text():
                chosen = [value.text()]
        terms = workload.pod_spec().path("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                                         "nodeSelectorTerms")
        allowed: set[str] = set()
        restricted = False
        for term in (terms.seq() if terms is not None else []):
            for expr in (term.get("matchExpressions") or Node([], term.span)).seq():
                if (expr.get("key") or Node("", expr.span)).text() in ZONE_KEYS and \
                        (expr.get("operator") or Node("", expr.span)).text() == "In":
                    restricted = True
                    allowed.update(v.text() or "" for v in (expr.get("values") or Node([], expr.span)).seq())
        zones = list(self.zones)
        if chosen is not None:
            zones = [z for z in zones if z in chosen]
        if restricted:
            zones = [z for z in zones if z in allowed]
        if self.zones and not zones:
            self.note(f"{workload.obj.kind} '{workload.obj.name}' may run only in zones that are not among the "
                      f"cluster's ({', '.join(self.zones)}); it is placed in none, so nothing of it runs",
                      workload.origin)
        return zones

    def schedule(self) -> None:
        """How many replicas fit and in which zones, before anything refers to them."""
        self.plans = []
        for workload in self.workloads:
            host_cap, host_skew, host_why = self.spread(workload, (HOSTNAME,))
            per_node = host_cap if host_cap is not None else host_skew
            zones_of: list[str | None] = [None] * len(workload.pods)
            zone_why = None
            if self.zones:
                zone_cap, zone_skew, zone_why = self.spread(workload, ZONE_KEYS)
                zones_of = zone_spread(len(workload.pods), self.eligible_zones(workload), zone_cap, zone_skew)
                if any(z is None for z in zones_of):
                    dropped = [p for p, z in zip(workload.pods, zones_of) if z is None]
                    self.note(f"{workload.obj.kind} '{workload.obj.name}': {len(dropped)} of its "
                              f"{len(workload.pods)} replicas cannot be scheduled ({zone_why or 'no eligible zone'}); "
                              "they are left out", workload.origin)
                    workload.pods = [p for p, z in zip(workload.pods, zones_of) if z is not None]
                    zones_of = [z for z in zones_of if z is not None]
            self.plans.append((workload, zones_of, per_node, host_why, zone_why))

    def place_and_write_workloads(self) -> list[Statement]:
        plans = self.plans
        alternatives = [[w.name for w in svc.workloads] for svc in self.services]
        pod_owner = {p: w.name for w in self.workloads for p in w.pods}
        svc_owner = {svc.component: [w.name for w in svc.workloads] for svc in self.services if svc.component}
        for names in self.overlay.alternatives:
            owners: list[str] = []
            for name in names:
                owners.extend([pod_owner[name]] if name in pod_owner else svc_owner.get(name, []))
            alternatives.append(owners)
        for source, target in self.overlay.needs:
            owner = pod_owner.get(source)
            if owner is not None:
                needed = [pod_owner[target]] if target in pod_owner else svc_owner.get(target, [])
                self.requires.setdefault(owner, set()).update(needed)
        groups = alternative_groups([w.name for w in self.workloads], alternatives, self.requires, self.one_node)
        placements = place([(w.name, zones, cap) for w, zones, cap, _, _ in plans], groups)
        out: list[Statement] = []
        for workload, zones_of, per_node, host_why, zone_why in plans:
            members = []
            nodes = []
            for index, pod in enumerate(workload.pods):
                where = placements[(workload.name, index)]
                node = valid_name(where.node)
                nodes.append(node)
                comp = Component(workload.role, pod, workload.origin)
                if where.zone is not None:
                    comp.attr("zone", f"zone {valid_name(where.zone)}")
                    self.zone_first.setdefault(where.zone, workload.origin)
                comp.attr("host", f"host {node}")
                address = self.pod_addresses.take()
                comp.attr("address", f"address {address}")
                if workload.listen:
                    for token in _listen_tokens(workload.listen):
                        comp.attr("listen", f"listen {token}")
                self.amend(comp)
                amended = any(a.word == "address" and a.text != f"address {address}" for a in comp.attrs)
                self.pod_address[pod] = None if amended else ipaddress.ip_address(address)
                members.append(comp)
            comments = [self.describe_workload(workload, nodes, per_node, host_why, zone_why)] + workload.comments
            if not members:
                continue
            if workload.consensus:
                cluster = Cluster(self.names.claim(workload.name), workload.origin, [Attr("quorum", "quorum")],
                                  members, comments + [f"{workload.obj.name} is a consensus store "
                                                       f"({image_name(workload.images[0])}): it acts while a majority "
                                                       "of its members is live"])
                out.append(cluster)
            else:
                members[0].comments = comments
                out.extend(members)
        return out

    def amend(self, comp: Component) -> None:
        """Placement the overlay gives an imported component replaces the importer's."""
        for word, text, span in self.overlay.amendments.get(comp.name, ()):
            comp.attrs = [a for a in comp.attrs if a.word != word]
            comp.attrs.append(Attr(word, text, span, f"from the overlay ({self.where(span)})"))

    def describe_workload(self, workload: Workload, nodes: list[str], per_node: int | None,
                          host_why: str | None, zone_why: str | None) -> str:
        obj = workload.obj
        count = len(workload.pods)
        images = ", ".join(dict.fromkeys(image_name(i) for i in workload.images if i)) or "no image"
        kind = {"db": "db (a data store image)", "web": f"web (behind {', '.join(workload.public)})",
                "service": "service"}[workload.role]
        text = (f"{obj.kind} {obj.name} ({self.where(workload.origin)}): {count} replica{'s' if count != 1 else ''} "
                f"of {images}; {kind}")
        distinct = list(dict.fromkeys(nodes))
        if count > 1 and len(distinct) == 1:
            text += (f"; they may share node {distinct[0]}: nothing requires them apart (no required pod "
                     f"anti-affinity or DoNotSchedule spread on {HOSTNAME})")
            self.note(f"{obj.kind} '{obj.name}': its {count} replicas may all run on one node, since nothing "
                      f"requires them apart (no required pod anti-affinity or DoNotSchedule topology spread on "
                      f"{HOSTNAME}); they are placed on node '{distinct[0]}'", workload.origin,
                      "add a required pod anti-affinity on kubernetes.io/hostname")
        elif count > 1:
            text += f"; {per_node or 1} per node at most, by {host_why}"
        if self.zones and count > 1 and zone_why is None:
            text += f"; one zone, since nothing spreads them over {ZONE_KEYS[0]}"
        return text

    # -- Services, Ingresses, jobs ----------------------------------------------------------------

    def service_listeners(self, svc: Svc, public: bool) -> list[tuple[str, PortSet, list[str], PortSet, list]]:
        """(listener text, front ports, targets, target ports, [(workload, target ports, front ports)])."""
        out = []
        for port in svc.ports:
            front = PortSet.single(port.protocol, port.port)
            if public and svc.type == "NodePort":
                front = (PortSet.single(port.protocol, port.node_port) if port.node_port
                         else PortSet.single(port.protocol, *NODE_PORTS))
            by_target: dict[int, list[Workload]] = {}
            for workload in svc.workloads:
                number = self.resolve_target(port, workload)
                if number is not None and workload.pods:
                    by_target.setdefault(number, []).append(workload)
            for number, workloads in by_target.items():
                targets = [p for w in workloads for p in w.pods]
                back = PortSet.single(port.protocol, number)
                text = f"listen {_listen_tokens(front)[0]} -> {', '.join(targets)} {_listen_tokens(back)[0]}"
                out.append((text, front, targets, back, [(w, back, front) for w in workloads], port.span))
        return out

    def write_services(self) -> None:
        for svc in self.services:
            obj = svc.obj
            if svc.headless:
                continue
            cluster_ip = (obj.spec().get("clusterIP") or Node(None, obj.doc.span)).text()
            address = cluster_ip if _is_address(cluster_ip) else self.service_addresses.take()
            comp = Component("lb", svc.component, obj.name_span)
            comp.attr("managed", "managed")
            comp.attr("address", f"address {address}")
            listeners = self.service_listeners(svc, public=False)
            routes = []
            for text, front, targets, back, admitted, span in listeners:
                comp.attr("forward", text, span)
                self.hops.append((svc.component, targets, back, span, f"Service {obj.name} forwards to its pods"))
                routes.extend(admitted)
            shown = ", ".join(f"{p.port} -> {p.target}" for p in svc.ports) or "no port"
            comp.comments.append(f"Service {obj.name} ({self.where(obj.name_span)}): {svc.type}, managed by "
                                 f"Kubernetes, ports {shown}")
            self.lbs.append(comp)
            self.admissions.append((svc.component, routes, obj.name_span, f"who may use Service {obj.name}", None))
            if svc.type in ("NodePort", "LoadBalancer"):
                self.write_public_entry(svc)

    def write_public_entry(self, svc: Svc) -> None:
        obj = svc.obj
        spec = obj.spec()
        kind = svc.type.lower()
        name = self.names.claim(f"{svc.component}-{kind}")
        addresses = []
        status = obj.doc.path("status", "loadBalancer", "ingress")
        for item in (status.seq() if status is not None and svc.type == "LoadBalancer" else []):
            ip = (item.get("ip") or Node("", item.span)).text()
            if _is_address(ip):
                addresses.append(ip)
        fixed = (spec.get("loadBalancerIP") or Node("", obj.doc.span)).text()
        if svc.type == "LoadBalancer" and _is_address(fixed) and fixed not in addresses:
            addresses.append(fixed)
        stand_in = not addresses
        if stand_in:
            addresses.append(self.public_addresses.take())
        comp = Component("lb", name, obj.name_span)
        comp.attr("managed", "managed")
        for address in addresses:
            comp.attr("address", f"address {address}")
        what = ("every node's address, on its node port" if svc.type == "NodePort"
                else "the cloud load balancer's address")
        comp.comments.append(f"Service {obj.name} ({self.where(obj.name_span)}) is a {svc.type}: the internet "
                             f"reaches it at {what}" + (f"; {addresses[0]} stands for it" if stand_in else ""))
        sources = None
        ranges = spec.get("loadBalancerSourceRanges")
        if svc.type == "LoadBalancer" and ranges is not None and ranges.seq():
            nets = []
            for item in ranges.seq():
                try:
                    nets.append(ipaddress.ip_network(item.text() or "", strict=False))
                except ValueError:
                    self.note(f"loadBalancerSourceRanges '{item.text()}' is not a network; left out", item.span)
            sources = (tuple(nets), ranges.entry_span)
        routes = []
        for text, front, targets, back, admitted, span in self.service_listeners(svc, public=True):
            comp.attr("forward", text, span)
            self.hops.append((name, targets, back, span, f"the {svc.type} forwards to the pods"))
            routes.extend(admitted)
        self.entries.append(comp)
        svc.public = name
        self.admissions.append((name, routes, obj.name_span, f"who may reach the {svc.type} of Service {obj.name}",
                                sources))
        dns = Component("dns", self.names.claim(f"{svc.component}.{kind}"), obj.name_span)
        dns.attr("managed", "managed")
        dns.attr("answer", f"answer {name}")
        dns.comments.append(f"the clients of {svc.type} Service {obj.name} ({self.where(obj.name_span)})")
        self.entries.append(dns)
        svc.used = True

    def ingress_backends(self, ingress: Obj, quiet: bool = False):
        """(Service, port node, host) for every backend an Ingress names."""
        spec = ingress.spec()
        found = []

        def backend(node: Node | None, host: str | None):
            if node is None:
                return
            service = node.get("service")
            if service is not None:
                name = (service.get("name") or Node("", node.span)).text()
                port = service.get("port")
            else:
                name = (node.get("serviceName") or Node("", node.span)).text()
                port = node.get("servicePort")
            svc = next((s for s in self.services if s.obj.name == name and s.obj.namespace == ingress.namespace), None)
            if svc is None:
                if not quiet:
                    self.note(f"Ingress '{ingress.name}' routes to Service '{name}', which is not in the manifests; "
                              "that route serves nothing", node.span)
                return
            found.append((svc, port, host, node.span))

        backend(spec.get("defaultBackend") or spec.get("backend"), None)
        for rule in (spec.get("rules") or Node([], spec.span)).seq():
            host = (rule.get("host") or Node(None, rule.span)).text()
            for path in (rule.path("http", "paths") or Node([], rule.span)).seq():
                backend(path.get("backend"), host)
        return found

    def write_ingresses(self) -> None:
        for ingress in self.ingresses:
            spec = ingress.spec()
            backends = self.ingress_backends(ingress)
            default = [b for b in backends if b[2] is None]
            rules = (spec.get("rules") or Node([], spec.span)).seq()
            hosts = list(dict.fromkeys((r.get("host") or Node(None, r.span)).text() for r in rules))
            if not hosts and default:
                hosts = [None]
            tls_hosts = {h.text() for t in (spec.get("tls") or Node([], spec.span)).seq()
                         for h in (t.get("hosts") or Node([], t.span)).seq()}
            status = ingress.doc.path("status", "loadBalancer", "ingress")
            fixed = [(i.get("ip") or Node("", i.span)).text() for i in (status.seq() if status is not None else [])]
            fixed = [a for a in fixed if _is_address(a)]
            for index, host in enumerate(hosts):
                routes = [b for b in backends if b[2] == host] or default
                name = self.names.claim(ingress.name if len(hosts) == 1 else f"{ingress.name}-{index + 1}")
                comp = Component("lb", name, ingress.name_span)
                comp.attr("managed", "managed")
                stand_in = not (fixed and index == 0)
                address = self.public_addresses.take() if stand_in else fixed[0]
                comp.attr("address", f"address {address}")
                targets = list(dict.fromkeys(s.component for s, _, _, _ in routes if s.component))
                ports = ["tcp/80"] + (["tcp/443"] if (host in tls_hosts or (host is None and tls_hosts)) else [])
                for svc, _, _, _ in routes:
                    svc.used = True
                need = f" need {len(targets)}" if len(targets) > 1 else ""
                for port in ports:
                    if targets:
                        comp.attr("forward", f"listen {port} -> {', '.join(targets)}{need}")
                entrance = NO_PORT
                for port in ports:
                    entrance = entrance | PortSet.single("tcp", int(port[4:]))
                self.entrances.append((name, entrance, ingress.name_span,
                                       f"the internet reaches Ingress {ingress.name}"))
                if targets:
                    self.hops.append((name, targets, None, ingress.name_span,
                                      "the ingress controller forwards to the Services"))
                shown = host or "any host"
                comp.comments.append(
                    f"Ingress {ingress.name} ({self.where(ingress.name_span)}), {shown}: a managed public load "
                    f"balancer" + (f"; {address} stands for its address" if stand_in else "")
                    + ("; every path's Service must serve" if len(targets) > 1 else ""))
                if not targets:
                    self.note(f"Ingress '{ingress.name}' ({shown}) routes to no Service of the manifests; it serves "
                              "nothing", ingress.name_span)
                self.entries.append(comp)
                dns_name = self.names.claim(host.replace("*", "wildcard") if host else f"{ingress.name}.ingress")
                dns = Component("dns", dns_name, ingress.name_span)
                dns.attr("managed", "managed")
                dns.attr("answer", f"answer {name}")
                dns.comments.append(f"clients of {shown} through Ingress {ingress.name} "
                                    f"({self.where(ingress.name_span)})")
                self.entries.append(dns)

    def write_jobs(self) -> None:
        used_workloads = set()
        for needed in self.requires.values():
            used_workloads.update(needed)
        governing = {(w.obj.namespace, (w.obj.spec().get("serviceName") or Node("", w.obj.doc.span)).text())
                     for w in self.workloads if w.obj.kind == "StatefulSet"}
        for svc in self.services:
            used = svc.used or (svc.component in self.overlay.used if svc.component else False) or \
                any(p in self.overlay.used for w in svc.workloads for p in w.pods)
            for workload in svc.workloads:
                if used:
                    used_workloads.add(workload.name)
            if used or not svc.workloads or not any(w.pods for w in svc.workloads):
                continue
            mine = {id(w) for w in svc.workloads}
            if svc.headless and (svc.obj.namespace, svc.obj.name) in governing and \
                    any(other is not svc and not other.headless and mine & {id(w) for w in other.workloads}
                        for other in self.services):
                continue  # a StatefulSet's governing Service: pod names, not an entry of its own
            targets = self.targets_of(svc, None)
            name = self.names.claim(f"{valid_name(self.qualify(svc.obj.name, svc.obj.namespace))}.clients")
            stand_in_job(self.jobs, self.requirements, name, targets, svc.obj.name_span,
                         f"nothing in the manifests is seen to use Service {svc.obj.name} "
                         f"({self.where(svc.obj.name_span)}): this job "
                         "stands for its clients (an overlay that names who uses it replaces it)")
            for workload in svc.workloads:
                used_workloads.add(workload.name)
            self.note(f"nothing in the manifests is seen to use Service '{svc.obj.name}'; the job '{name}' stands for "
                      "its clients", svc.obj.name_span,
                      "say who uses it in an overlay (e.g. 'app-0 uses " + (svc.component or targets[0]) + "')")
        for workload in self.workloads:
            if workload.name in used_workloads or not workload.pods or workload.public:
                continue
            if any(p in self.overlay.used for p in workload.pods):
                continue
            if any(workload in svc.workloads for svc in self.services):
                continue
            name = self.names.claim(f"{workload.name}.running")
            stand_in_job(self.jobs, self.requirements, name, workload.pods, workload.origin,
                         f"no Service selects {workload.obj.kind} {workload.obj.name} "
                         f"({self.where(workload.origin)}) and nothing "
                         "is seen to use it: this job stands for its work")

    # -- the network policy -------------------------------------------------------------------

    def pod_classes(self) -> tuple[list[PodClass], dict[str, str]]:
        classes: dict[tuple, PodClass] = {}
        owner: dict[str, str] = {}
        for workload in self.workloads:
            if not workload.pods:
                continue
            key = (workload.obj.namespace, tuple(sorted(workload.labels.items())),
                   tuple(sorted(workload.ports.items())))
            current = classes.get(key)
            if current is None:
                classes[key] = PodClass(f"class-{len(classes)}", workload.obj.namespace, dict(workload.labels),
                                        dict(workload.ports), tuple(workload.pods), workload.origin)
            else:
                classes[key] = PodClass(current.key, current.namespace, current.labels, current.ports,
                                        current.members + tuple(workload.pods), current.origin)
            owner[workload.name] = classes[key].key
        return list(classes.values()), owner

    def write_rules(self) -> list[Statement]:
        """The rules, in the order that makes their first match the cluster's decision:
        the Ingresses' entrances, every load balancer's forwards to its targets (kube-proxy
        and the ingress controller are not subject to NetworkPolicy), who may connect to
        each load balancer (a client that may reach one of its pods on the target port),
        who may connect to each pod, where egress-isolated pods may go, and what is left."""
        classes, owner = self.pod_classes()
        policy_set = PolicySet(self.policies, self.namespace_labels)
        writer = RuleWriter({c.key: c.members for c in classes}, where=self.where, addresses=self.pod_address)
        by_key = {c.key: c for c in classes}
        any_egress = any(policy_set.isolated(c, EGRESS) for c in classes)
        for name, ports, span, why in self.entrances:
            writer.add("allow", ["internet"], [name], ports, span, why)

        for lb, targets, ports, span, why in self.hops:
            writer.add("allow", [lb], targets, ports, span, why)
        balancers = Balancers()
        for lb, routes, span, why, sources in self.admissions:
            parts = [(pod_admission(policy_set, classes, by_key[owner[w.name]]), back, front)
                     for w, back, front in routes]
            admission = balancers.merged(parts, tuple(c.key for c in classes))
            self.mixed(lb, admission, parts, by_key)
            if sources is not None:
                ranges, ranges_span = sources
                admission = replace(admission, addresses=[(_within(nets, ranges), ports, ranges_span)
                                                          for nets, ports, _ in admission.addresses])
            elif admission.everything() and not any_egress:
                if lb in self.public_lbs:  # said once, so an exposure names the Service
                    front = NO_PORT
                    for _, _, port in routes:
                        front = front | port
                    writer.add("allow", ["internet"], [lb], front or None, span, why)
                continue  # the final rule allows it
            isolating = [p.span for w, _, _ in routes for p in policy_set.selecting(by_key[owner[w.name]], INGRESS)]
            balancers.add(lb, admission, isolating[0] if isolating else span, why)
        balancers.write(writer)
        describe = lambda pod, direction: describe_policies(policy_set, pod, direction)  # noqa: E731
        translate_pods(policy_set, classes, writer, describe, skip_open=not any_egress)
        origin = self.objects[0].name_span if self.objects else self.anchor_span
        writer.add("allow", ["any"], ["any"], None, origin,
                   "what no NetworkPolicy restricts, Kubernetes allows" if self.policies else
                   "no NetworkPolicy in the manifests: Kubernetes allows every connection")
        return list(writer.statements)

    @property
    def public_lbs(self) -> set[str]:
        return {svc.public for svc in self.services if svc.public}

    def mixed(self, lb: str, admission: Admission, parts, by_key) -> None:
        """A note for each client a Service's pods admit differently (the classes their
        policies do not name all alike: asked once for them)."""
        if len(parts) < 2:
            return  # (one backend cannot disagree with itself)
        differ = len({bool(adm.default[0] & back) for adm, back, _ in parts}) > 1
        for key, _ in admission.every_class() if differ else admission.pods.items():
            self._mixed(lb, key, parts, by_key)

    def _mixed(self, lb: str, key: str, parts, by_key) -> None:
        verdicts = {bool(adm.ports_of(key)[0] & back) for adm, back, _ in parts}
        if len(verdicts) > 1 and (lb, key) not in self.mixed_said:
            self.mixed_said.add((lb, key))
            source = by_key[key]
            self.note(f"'{lb}' forwards to pods whose NetworkPolicies treat {source.members[0]} differently: some "
                      "admit it and some do not; the model lets it use the Service (some of its connections fail "
                      "in the cluster)", source.origin)


def _within(networks, sources) -> tuple:
    """The addresses of ``networks`` (None: every address) that lie in ``sources``."""
    if networks is None:
        return tuple(sources)
    out = []
    for net in networks:
        for src in sources:
            if net.version == src.version and net.overlaps(src):
                out.append(net if src.supernet_of(net) else src)
    return tuple(out)


def _labels(selector: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in selector.items())


def _target_words(targets: list[str]) -> str:
    return targets[0] if len(targets) == 1 else f"{targets[0]} .. {targets[-1]}"


def _listen_tokens(ports: PortSet) -> list[str]:
    out = []
    for r in ports:
        out.append(f"{r.protocol}/{r.low}" if r.low == r.high else f"{r.protocol}/{r.low}-{r.high}")
    return out


def _is_address(text: str | None) -> bool:
    if not text:
        return False
    try:
        return bool(int(ipaddress.ip_address(text)))
    except ValueError:
        return False
