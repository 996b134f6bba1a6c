"""A Docker Compose project to a topology (spec/IMPORT-COMPOSE.md is the mapping, row by row).

A project runs on one Docker host: every container is on it, so the host is one failure
unit (unless an overlay places containers elsewhere). Published ports are the project's
exposure to the internet: a service reached only through its published port has that
port as its front door (a load balancer in the model), while a database, or a service a
proxy in the project forwards to, published as well, has a side door (a gateway), which
``private-db`` and ``private-web``/``private-service`` refute. Networks are the policy:
containers on a common network reach each other on every port, others not at all.
Requirements come from ``depends_on``, ``links``, and environment values and arguments
that name a service.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import re
from dataclasses import dataclass, field
from typing import Iterator

from ..fastparse import paused_gc
from ..model import Span
from ..net import NO_PORT, PortSet
from ..results import Result
from .common import NO_OVERLAY, PUBLIC_STAND_INS, Addresses, OverlayInfo, Sources
from .emitter import (Attr, Component, Imported, Names, Plain, Statement, declared_kinds, emit, note, quoted,
                      stand_in_job, valid_name)
from .evidence import command_references, image_name, image_role, references
from .yamlnodes import Node

#: Linux's ephemeral ports: where a port published without a host port lands.
EPHEMERAL = (32768, 60999)
_KNOWN_TOP = frozenset({"name", "services", "networks", "volumes", "secrets", "configs", "version"})
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*)|(?P<dollar>\$))")


MAX_NETWORKS = 14 + 16 + 256 + 64  # the default subnets (_default_subnets)


def _default_subnets(taken: list) -> Iterator[ipaddress.IPv4Network]:
    """The subnets Docker gives networks without an ``ipam`` subnet, in its order: the
    /16s of 172.18.0.0 to 172.31.0.0 (172.17.0.0/16 is the default bridge's), then the
    /20s of 192.168.0.0/16; past those Docker refuses to make a network, and a project
    that names more gets the /16s of 10.0.0.0/8 and then of 100.64.0.0/10 (private, like
    Docker's: a 15th network once got 172.32.0.0/16, public addresses, and a 239th an
    address that does not exist). A subnet a network of the file gives itself is
    skipped."""
    pools = itertools.chain((ipaddress.ip_network(f"172.{b}.0.0/16") for b in range(18, 32)),
                            ipaddress.ip_network("192.168.0.0/16").subnets(new_prefix=20),
                            ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=16),
                            ipaddress.ip_network("100.64.0.0/10").subnets(new_prefix=16))
    for subnet in pools:
        if not any(subnet.version == t.version and subnet.overlaps(t) for t in taken):
            yield subnet
    raise OverflowError(f"more networks than the {MAX_NETWORKS} private subnets a project's networks are given")


@dataclass
class Published:
    host_ip: str  # "" for every address
    front: PortSet
    back: PortSet
    span: Span


@dataclass(eq=False)
class Service:
    name: str
    node: Node
    span: Span  # its key
    image: str | None
    replicas: int
    origin: Span
    networks: list[str] = field(default_factory=list)
    published: list[Published] = field(default_factory=list)
    listen: PortSet = NO_PORT
    role: str = "service"
    containers: list[str] = field(default_factory=list)
    forwards: list[tuple["Service", PortSet | None]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    aliases: set[str] = field(default_factory=set)
    proxied: bool = False
    used: bool = False
    labels: dict[str, str] = field(default_factory=dict)


def project_name(path: str, doc: Node | None) -> str:
    """The project's name: its ``name``, else its folder's, as Compose makes it."""
    given = doc.get("name").text() if doc is not None and doc.get("name") is not None else None
    if given:
        return given
    folder = os.path.basename(os.path.dirname(os.path.abspath(path))) if not path.startswith("<") else "stdin"
    return re.sub(r"[^a-z0-9_-]", "", folder.lower()) or "default"


def import_compose(path: str, text: str, overlay: OverlayInfo = NO_OVERLAY) -> Imported:
    """Import one Compose file (its project) as a topology."""
    with paused_gc():  # (as checking does: the YAML's nodes and the model all live on)
        sources = Sources([(path, text)])
        loaded, errors = sources.load()
        if errors:
            return Imported("compose", "", (), (), dict(sources.texts), sources.anchor, errors)
        return _Compose(sources, loaded[0].documents, overlay).run()


class _Compose:
    def __init__(self, sources: Sources, documents: tuple[Node, ...], overlay: OverlayInfo):
        self.sources = sources
        self.path = sources.anchor
        self.documents = documents
        self.overlay = overlay
        self.notes: list[Result] = []
        self.names = Names()
        self.services: list[Service] = []
        self.subnets: dict[str, ipaddress.IPv4Network] = {}
        self.internal: set[str] = set()
        self.network_spans: dict[str, Span] = {}
        self.public_addresses = Addresses(*PUBLIC_STAND_INS)
        self.requirements: list[Plain] = []
        self.rules: list[Plain] = []
        self.doors: list[Statement] = []
        self.jobs: list[Statement] = []

    def where(self, span: Span) -> str:
        return self.sources.where(span)

    def note(self, message: str, span: Span, hint: str | None = None) -> None:
        self.notes.append(note(message, span, hint))

    def run(self) -> Imported:
        start = Span.start_of(self.path)
        if not self.documents:
            self.note("the file holds no Compose project", start)
            return Imported("compose", "", (), tuple(self.notes), dict(self.sources.texts), self.path)
        doc = self.documents[0]
        for extra in self.documents[1:]:
            self.note("a Compose file is one YAML document; this one is skipped", extra.span)
        if not doc.is_map or not isinstance((doc.get("services") or Node(None, doc.span)).value, dict):
            self.note("no 'services' mapping: not a Compose project", doc.span)
            return Imported("compose", "", (), tuple(self.notes), dict(self.sources.texts), self.path)
        self.project = project_name(self.path, doc)
        services = doc.get("services")
        self.services_span = services.key_span or services.span
        self.host = valid_name(self.project)
        for key, node in doc.items():
            if key not in _KNOWN_TOP and not key.startswith("x-"):
                what = "'include' merges other files, which are not read" if key == "include" else \
                    f"top-level '{key}' is not mapped"
                self.note(what, node.key_span or node.span)
        try:
            self.read_networks(doc)
            self.read_services(doc)
            self.decide_kinds()
            self.infer_requirements()
            containers = self.write_containers()
            self.write_doors()
            self.write_jobs()
            self.write_network_rules()
        except OverflowError as exc:  # more networks, or published ports, than there are addresses for
            self.note(f"the project cannot be modelled: {exc}", self.services_span,
                      "split the project, or give its networks 'ipam' subnets")
            return Imported("compose", "", (), tuple(self.notes), dict(self.sources.texts), self.path)
        if not containers:  # nothing to check: the notes say why
            return Imported("compose", "", (), tuple(self.notes), dict(self.sources.texts), self.path)
        sections: list[list[Statement]] = [containers, self.doors, self.jobs, self.requirements, self.rules]
        first = next((s for s in sections if s), None)
        if first is not None:
            first[0].comments[:0] = [f"Compose project {self.project} imported by topocheck from "
                                     f"{self.sources.short[self.path]}; regenerate rather than edit "
                                     "(topocheck import compose)"]
        emitted = emit(sections, self.where)
        return Imported("compose", emitted.text, emitted.origins, tuple(self.notes), dict(self.sources.texts),
                        self.path, components=declared_kinds(sections))

    # -- reading ------------------------------------------------------------------------------

    def expand(self, node: Node | None, what: str, unknown: str | None = None) -> str | None:
        """A scalar with ``${VAR:-default}`` and ``${VAR-default}`` taken at their default.
        A variable with none is unknown here: with ``unknown`` it becomes that text, else the
        value is left out (None) with a note."""
        if node is None:
            return None
        text = node.text()
        if text is None or "$" not in text:
            return text
        missing = []

        def value(match: re.Match) -> str:
            if match.group("dollar"):
                return "$"
            body = match.group("braced") if match.group("braced") is not None else match.group("plain")
            name = re.match(r"[A-Za-z_][A-Za-z0-9_]*", body)
            rest = body[name.end():] if name else body
            if rest.startswith((":-", "-")):
                return rest.split("-", 1)[1]
            missing.append(name.group() if name else body)
            return unknown if unknown is not None else ""

        expanded = _VARIABLE.sub(value, text)
        if missing and unknown is None:
            self.note(f"{what} '{text}' depends on ${missing[0]}, which has no default here; left out", node.span)
            return None
        return expanded

    def read_networks(self, doc: Node) -> None:
        top = doc.get("networks")
        given: dict[str, ipaddress.IPv4Network | ipaddress.IPv6Network] = {}
        for name, node in (top.items() if top is not None else []):
            for config in (node.path("ipam", "config") or Node([], node.span)).seq():
                text = (config.get("subnet") or Node(None, config.span)).text()
                try:
                    given[name] = ipaddress.ip_network(text or "", strict=False)
                    break
                except ValueError:
                    continue
        self.pools = _default_subnets(list(given.values()))
        for name, node in (top.items() if top is not None else []):
            self.network_spans[name] = node.key_span or node.span
            self.subnets[name] = given.get(name) or next(self.pools)
            if node.get("internal") is not None and node.get("internal").value is True:
                self.internal.add(name)
            if node.get("external") is not None and node.get("external").value not in (None, False):
                self.note(f"network '{name}' is external: containers of other projects on it are not modelled",
                          self.network_spans[name])

    def subnet(self, name: str, span: Span) -> ipaddress.IPv4Network:
        if name not in self.subnets:
            self.subnets[name] = next(self.pools)
            self.network_spans.setdefault(name, span)
        return self.subnets[name]

    def read_services(self, doc: Node) -> None:
        for name, node in doc.get("services").items():
            key_span = node.key_span or node.span
            if not node.is_map:
                self.note(f"service '{name}' is not a mapping; skipped", node.span)
                continue
            profiles = node.get("profiles")
            if profiles is not None and profiles.seq():
                self.note(f"service '{name}' is in profile {', '.join(repr(p.text()) for p in profiles.seq())}, "
                          "which 'docker compose up' does not start unless asked; skipped", profiles.span)
                continue
            if node.get("extends") is not None:
                self.note(f"service '{name}' extends another; what it inherits is not read", node.get("extends").span)
            image = self.expand(node.get("image"), "image")
            replicas, origin = 1, key_span
            for path in (("deploy", "replicas"), ("scale",)):
                count = node.path(*path)
                if count is not None:
                    value = count.integer()
                    if value is None:
                        self.note(f"service '{name}': {'.'.join(path)} '{count.text()}' is not a number; taken as 1",
                                  count.span)
                    else:
                        replicas, origin = value, count.entry_span
            service = Service(name, node, key_span, image, replicas, origin)
            service.aliases = {name}
            container_name = node.get("container_name")
            if container_name is not None and container_name.text():
                service.aliases.add(container_name.text())
                service.comments.append(f"container name {container_name.text()}")
            self.read_labels(service)
            self.read_service_networks(service)
            self.read_ports(service)
            if replicas == 0:
                self.note(f"service '{name}' has no replicas: nothing of it runs", origin)
            self.services.append(service)

    def read_labels(self, service: Service) -> None:
        labels = service.node.get("labels")
        if labels is None:
            return
        if labels.is_map:
            service.labels = labels.string_map()
        else:
            for item in labels.seq():
                text = item.text() or ""
                key, _, value = text.partition("=")
                service.labels[key] = value

    def read_service_networks(self, service: Service) -> None:
        node = service.node
        mode = node.get("network_mode")
        if mode is not None and mode.text():
            self.note(f"service '{service.name}' uses network_mode '{mode.text()}': its addresses are not its own, "
                      "and are not modelled", mode.span)
            return
        networks = node.get("networks")
        if networks is None:
            service.networks = ["default"]
            self.subnet("default", service.span)
            return
        entries = list(networks.items()) if networks.is_map else [(n.text() or "", n) for n in networks.seq()]
        for name, entry in entries:
            service.networks.append(name)
            self.subnet(name, entry.key_span or entry.span)
            aliases = entry.get("aliases") if entry.is_map else None
            for alias in (aliases.seq() if aliases is not None else []):
                if alias.text():
                    service.aliases.add(alias.text())

    def read_ports(self, service: Service) -> None:
        node = service.node
        for item in (node.get("expose") or Node([], node.span)).seq():
            text = self.expand(item, "expose")
            ports = _port_range(text or "")
            if ports is not None:
                service.listen = service.listen | ports
        for item in (node.get("ports") or Node([], node.span)).seq():
            published = self.read_port(item, service)
            if published is None:
                continue
            service.listen = service.listen | published.back
            if published.host_ip in ("127.0.0.1", "::1", "localhost"):
                service.comments.append(f"port {_shown(published)} is published on the loopback address only "
                                        f"({self.where(item.span)}): not reachable from elsewhere")
                continue
            service.published.append(published)

    def read_port(self, item: Node, service: Service) -> Published | None:
        """One ``ports`` entry, short or long syntax. A host port that depends on a variable
        without a default may be any port: the mapping stays, on every port (worst case)."""
        unknown = "\0"
        if item.is_map:
            target = self.expand(item.get("target"), "port target", unknown)
            published = self.expand(item.get("published"), "published port", unknown)
            host_ip = self.expand(item.get("host_ip"), "host_ip", unknown) or ""
            protocol = (self.expand(item.get("protocol"), "protocol") or "tcp").lower()
            spec = f"{published}:{target}" if published else str(target or "")
        else:
            text = self.expand(item, "port", unknown)
            if text is None:
                return None
            spec, _, protocol = text.partition("/")
            protocol = (protocol or "tcp").lower()
            host_ip = ""
            match = re.match(r"^\[(?P<v6>[^\]]+)\]:(?P<rest>.*)$", spec)
            if match:
                host_ip, spec = match.group("v6"), match.group("rest")
            elif spec.count(":") == 2:
                host_ip, spec = spec.split(":", 1)
        shown = item.text() or spec.replace(unknown, "?")
        if protocol not in ("tcp", "udp"):
            self.note(f"service '{service.name}': protocol '{protocol}' is not modelled (only tcp and udp); "
                      "the port is left out", item.span)
            return None
        front_text, _, back_text = spec.rpartition(":")
        if unknown in back_text or unknown in host_ip:
            self.note(f"service '{service.name}': port '{shown}' depends on a variable without a default here; "
                      "left out", item.span)
            return None
        back = _port_range(back_text, protocol)
        if unknown in front_text:
            front = PortSet.single(protocol, 1, 65535)
            self.note(f"service '{service.name}': port '{shown}' is published on a host port a variable without a "
                      "default here chooses; taken as any port", item.span)
        else:
            front = _port_range(front_text, protocol) if front_text else PortSet.single(protocol, *EPHEMERAL)
        if back is None or front is None:
            self.note(f"service '{service.name}': port '{shown}' is not a port mapping; left out", item.span)
            return None
        if host_ip in ("0.0.0.0", "::"):
            host_ip = ""
        return Published(host_ip, front, back, item.span)

    # -- kinds and requirements -------------------------------------------------------------------

    def find(self, host: str) -> Service | None:
        for service in self.services:
            if host in service.aliases:
                return service
        return None

    def evidence(self, service: Service) -> list[tuple[str, str, Node, str, int | None]]:
        """(what, shown, node, host, port) for each name of another service it mentions."""
        out = []
        node = service.node
        depends = node.get("depends_on")
        entries = (list(depends.items()) if depends is not None and depends.is_map
                   else [(d.text() or "", d) for d in (depends.seq() if depends is not None else [])])
        for name, entry in entries:
            condition = entry.get("condition").text() if entry.is_map and entry.get("condition") is not None else None
            if condition == "service_completed_successfully":
                service.comments.append(f"depends_on {name} until it completes ({self.where(entry.span)}): a "
                                        "one-off task, not a requirement")
                continue
            out.append(("depends_on", f"depends_on {name}",
                        entry if not entry.is_map else Node(name, entry.key_span or entry.span), name, None))
        for link in (node.get("links") or Node([], node.span)).seq():
            name = (link.text() or "").split(":", 1)[0]
            out.append(("links", f"links {link.text() or ''}", link, name, None))
        env = node.get("environment")
        pairs: list[tuple[str, Node]] = []
        if env is not None and env.is_map:
            pairs = [(k, v) for k, v in env.items() if v.value is not None]
        elif env is not None:
            for item in env.seq():
                key, sep, value = (item.text() or "").partition("=")
                if sep:
                    pairs.append((key, Node(value, item.span, raw=value)))
        for key, value in pairs:
            text = value.text() or ""
            for ref in references(text, key):
                out.append(("env", f"env {key}={quoted(text)}", value, ref.host, ref.port))
        if node.get("env_file") is not None:
            self.note(f"service '{service.name}': env_file is not read, so the services it may name are not seen",
                      node.get("env_file").span)
        for field_name in ("command", "entrypoint"):
            for said, arg, ref in command_references(node.get(field_name), field_name):
                out.append((field_name, said, arg, ref.host, ref.port))
        return out

    def decide_kinds(self) -> None:
        self.found: dict[int, list] = {}
        for service in self.services:
            self.found[id(service)] = []
            for what, shown, node, host, port in self.evidence(service):
                target = self.find(host)
                if target is None:
                    continue
                if target is service:
                    service.comments.append(f"{shown} ({self.where(node.span)}) names itself")
                    continue
                self.found[id(service)].append((what, shown, node, target, port))
                if port is not None:
                    target.listen = target.listen | PortSet.single("tcp", port)
        for service in self.services:
            role = image_role(service.image)
            targets = [t for _, _, _, t, _ in self.found[id(service)]]
            if role == "proxy" and image_name(service.image or "") == "traefik":
                targets += [s for s in self.services if s is not service and _traefik_enabled(s)]
            if role == "proxy" and targets:
                service.role = "lb"
                for target in dict.fromkeys(targets):
                    port = next((p for _, _, _, t, p in self.found[id(service)] if t is target and p), None)
                    if port is None and image_name(service.image or "") == "traefik":
                        port = _traefik_port(target)
                    ports = PortSet.single("tcp", port) if port else None
                    if ports is not None:
                        target.listen = target.listen | ports
                    service.forwards.append((target, ports))
                    target.proxied = True
                    target.used = True
            elif role == "db":
                service.role = "db"
        for service in self.services:
            if service.role == "service" and (service.proxied or service.published):
                service.role = "web"
            if service.published and all(n in self.internal for n in service.networks) and service.networks:
                self.note(f"service '{service.name}' publishes ports but is on internal networks only, where "
                          "publishing has no effect; its ports are not exposed", service.published[0].span)
                service.published = []
        for service in self.services:
            service.containers = [self.names.claim(f"{service.name}-{i}") for i in range(1, service.replicas + 1)]

    def infer_requirements(self) -> None:
        for service in self.services:
            if service.role == "lb" or not service.containers:
                continue
            grouped: dict[int, tuple[Service, Node, list[str]]] = {}
            for what, shown, node, target, port in self.found[id(service)]:
                if not target.containers:
                    continue
                target.used = True
                if service.role == "db":
                    self.note(f"database service '{service.name}' names service '{target.name}' ({shown}); a "
                              "database's own connections are not inferred", node.span)
                    continue
                entry = grouped.setdefault(id(target), (target, node, []))
                evidence = f"{shown} ({self.where(node.span)})"
                if evidence not in entry[2]:
                    entry[2].append(evidence)
            for target, node, evidence in grouped.values():
                more = f"; and {len(evidence) - 3} more" if len(evidence) > 3 else ""
                shown = "; ".join(evidence[:3]) + more
                self.requirements.append(Plain(f"{', '.join(service.containers)} uses {', '.join(target.containers)}",
                                               node.span, [f"{service.name} names {target.name}: {shown}"]))

    # -- writing ------------------------------------------------------------------------------

    def write_containers(self) -> list[Statement]:
        out: list[Statement] = []
        counts: dict[str, int] = {}
        self.placed: dict[str, str] = {}
        for service in self.services:
            for index, name in enumerate(service.containers):
                comp = Component(service.role, name, service.origin)
                if not out and not index:  # the host's first mention: where the failure of the host is reported
                    comp.attr("host", f"host {self.host}", self.services_span,
                              f"the project's one Docker host ({self.where(self.services_span)})")
                else:
                    comp.attr("host", f"host {self.host}")
                for network in service.networks:
                    subnet = self.subnets[network]
                    position = counts.get(network, 0)
                    counts[network] = position + 1
                    comp.attr("address", f"address {subnet.network_address + 2 + position}")
                if service.role == "lb":
                    for port in _tokens(service.listen) or ["any"]:
                        for target, ports in self.forward_groups(service):
                            back = f" {_tokens(ports)[0]}" if ports else ""
                            comp.attr("forward", f"listen {port} -> {', '.join(target)}{back}")
                elif service.listen:
                    for token in _tokens(service.listen):
                        comp.attr("listen", f"listen {token}")
                for word, text, span in self.overlay.amendments.get(name, ()):
                    comp.attrs = [a for a in comp.attrs if a.word != word]
                    comp.attrs.append(Attr(word, text, span, f"from the overlay ({self.where(span)})"))
                host = next((a.text.split(" ", 1)[1] for a in comp.attrs if a.word == "host"), None)
                self.placed.setdefault(service.name, host)
                if index == 0:
                    comp.comments = [self.describe(service)] + service.comments
                out.append(comp)
        return out

    def forward_groups(self, proxy: Service) -> list[tuple[list[str], PortSet | None]]:
        groups: dict[PortSet | None, list[str]] = {}
        for target, ports in proxy.forwards:
            groups.setdefault(ports, []).extend(target.containers)
        if len({id(t) for t, _ in proxy.forwards}) > 1 and not getattr(proxy, "_said", False):
            proxy._said = True  # type: ignore[attr-defined]
            self.note(f"proxy '{proxy.name}' forwards to {', '.join(repr(t.name) for t, _ in proxy.forwards)}; which "
                      "request goes where is in its configuration, so it is counted up while any of them serves",
                      proxy.span)
        return [(targets, ports) for ports, targets in groups.items() if targets]

    def describe(self, service: Service) -> str:
        count = len(service.containers)
        what = {"db": "db (a data store image)", "lb": "lb (a proxy that forwards to "
                + ", ".join(t.name for t, _ in service.forwards) + ")",
                "web": "web (" + ("behind a proxy" if service.proxied else "its ports are published") + ")",
                "service": "service"}[service.role]
        image = image_name(service.image) if service.image else "a local build"
        return (f"service {service.name} ({self.where(service.origin)}): {count} container{'s' if count != 1 else ''} "
                f"of {image} on the project's host {self.host}; {what}")

    def write_doors(self) -> None:
        for service in self.services:
            if not service.published or not service.containers:
                continue
            by_ip: dict[str, list[Published]] = {}
            for published in service.published:
                by_ip.setdefault(published.host_ip, []).append(published)
            side = service.role == "db" or service.proxied
            for host_ip, entries in by_ip.items():
                name = self.names.claim(f"{service.name}-ports")
                kind = "gateway" if side else "lb"
                comp = Component(kind, name, entries[0].span)
                comp.attr("host", f"host {self.placed.get(service.name) or self.host}")
                address = host_ip if host_ip else self.public_addresses.take()
                comp.attr("address", f"address {address}")
                for published in entries:
                    comp.attr("forward", f"listen {_tokens(published.front)[0]} -> {', '.join(service.containers)} "
                                         f"{_tokens(published.back)[0]}", published.span)
                    source = "internet" if not host_ip else "any"
                    self.rules.append(Plain(f"allow {source} -> {name} {_tokens(published.front)[0]}", published.span,
                                            [f"{service.name} publishes {quoted(_shown(published))} "
                                             f"({self.where(published.span)})"]))
                    self.rules.append(Plain(f"allow {name} -> {', '.join(service.containers)} "
                                            f"{_tokens(published.back)[0]}", published.span))
                why = (f"a side door: {service.name} is a database" if service.role == "db" else
                       f"a side door: {service.name} is also reached through "
                       + ", ".join(p.name for p in self.services if any(t is service for t, _ in p.forwards))
                       if side else f"the front door of {service.name}")
                stand = f"; {address} stands for the host's public address" if not host_ip else ""
                comp.comments.append(f"Docker publishes {service.name}'s ports on the host "
                                     f"({self.where(entries[0].span)}; {kind}, {why}){stand}")
                self.doors.append(comp)
                if not side:
                    dns = Component("dns", self.names.claim(f"{service.name}.published"), entries[0].span)
                    dns.attr("managed", "managed")
                    dns.attr("answer", f"answer {name}")
                    dns.comments.append(f"the clients of {service.name}'s published ports "
                                        f"({self.where(entries[0].span)})")
                    self.doors.append(dns)
                    service.used = True

    def write_jobs(self) -> None:
        for service in self.services:
            if service.used or not service.containers or any(c in self.overlay.used for c in service.containers):
                continue
            name = self.names.claim(f"{service.name}.running")
            stand_in_job(self.jobs, self.requirements, name, service.containers, service.span,
                         f"nothing in the project is seen to use {service.name} ({self.where(service.span)}) "
                         "and it publishes no "
                         "port: this job stands for its work (or its clients elsewhere)")
            self.note(f"nothing in the project is seen to use service '{service.name}', and it publishes no port; "
                      f"the job '{name}' stands for its work", service.span,
                      f"say who uses it in an overlay (e.g. 'app-1 uses {service.containers[0]}')")

    def write_network_rules(self) -> None:
        for network, subnet in self.subnets.items():
            members = [s.name for s in self.services if network in s.networks and s.containers]
            if not members:
                continue
            span = self.network_spans.get(network, Span.start_of(self.path))
            internal = " (internal: no published port reaches it)" if network in self.internal else ""
            self.rules.append(Plain(f"allow {subnet} -> {subnet}", span,
                                    [f"network {network} ({self.where(span)}){internal}: {', '.join(members)} "
                                     "reach each other on every port"]))


def _traefik_enabled(service: Service) -> bool:
    return service.labels.get("traefik.enable", "").lower() == "true" or \
        any(k.startswith("traefik.http.routers.") for k in service.labels)


def _traefik_port(service: Service) -> int | None:
    for key, value in service.labels.items():
        if key.startswith("traefik.http.services.") and key.endswith(".loadbalancer.server.port") and value.isdigit():
            return int(value)
    return None


def _port_range(text: str, protocol: str = "tcp") -> PortSet | None:
    text = text.strip()
    if "/" in text:
        text, _, protocol = text.partition("/")
    match = re.fullmatch(r"(\d{1,5})(?:-(\d{1,5}))?", text)
    if match is None or protocol not in ("tcp", "udp"):
        return None
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not 0 <= low <= high <= 65535:
        return None
    return PortSet.single(protocol, low, high)


def _tokens(ports: PortSet | None) -> list[str]:
    if not ports:
        return []
    return [f"{r.protocol}/{r.low}" if r.low == r.high else f"{r.protocol}/{r.low}-{r.high}" for r in ports]


def _shown(published: Published) -> str:
    front = _tokens(published.front)[0]
    back = _tokens(published.back)[0]
    return f"{front} -> {back}" + (f" on {published.host_ip}" if published.host_ip else "")
