"""What an importer reads from the user's files besides structure: images and references.

Two questions, answered only from evidence in the file and the same way for
Kubernetes and Compose (spec/IMPORT-K8S.md and spec/IMPORT-COMPOSE.md give the
tables):

* **What kind of component does an image run?** :func:`image_role` looks at the
  image's repository name (``registry.k8s.io/redis:e2e`` is ``redis``) and answers
  ``db`` for data stores, ``proxy`` for reverse proxies, or None. A data store whose
  members agree by majority (etcd, ZooKeeper, Consul, CockroachDB) is also a *consensus*
  store (:func:`is_consensus`). Tools around a data store (``mongo-express``,
  ``redis-exporter``, ``postgres-operator``) are not data stores.
* **Which other service does a process name?** :func:`references` finds host names in an
  environment value or an argument: ``redis-master``, ``cartservice:7070``,
  ``http://productcatalog:3550/path``, ``user:secret@db:5432``. A bare word counts only
  where it cannot be anything else: as the whole value of a variable whose name says it
  holds an address (``REDIS_HOST``, ``DB_ADDR``, ``API_URL``, ``SEEDS``...), or as the
  value of a command-line flag that does (``--host db``, ``--redis=cache``). The caller
  keeps the names that are services of the input; everything else is left alone, so
  ``POSTGRES_USER=gitea`` never makes a requirement on a service called ``gitea``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Repository names of data stores (a name token starting with one is one).
DATA_STORES = ("postgres", "postgis", "timescaledb", "mysql", "mariadb", "percona", "mongo", "redis", "valkey",
               "keydb", "memcached", "cassandra", "scylla", "cockroach", "couchdb", "couchbase", "neo4j",
               "influxdb", "clickhouse", "elasticsearch", "opensearch", "etcd", "rethinkdb", "dynamodb-local")
#: Data stores whose members act only while a majority of them is live.
CONSENSUS = ("etcd", "zookeeper", "consul", "cockroach")
#: Reverse proxies: a container of one of these that names other services forwards to them.
PROXIES = ("nginx", "traefik", "haproxy", "caddy", "envoy")
# Tokens that make a repository a tool around a data store, not the store.
_TOOLS = frozenset({"exporter", "express", "commander", "admin", "ui", "web", "operator", "proxy", "backup",
                    "client", "cli", "init", "insight", "dashboard", "gui", "browser", "sentinel-exporter"})


def image_name(image: str) -> str:
    """The repository's last path element, without tag or digest: ``gcr.io/a/b:v1`` is ``b``."""
    name = image.strip().split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def _tokens(image: str) -> list[str]:
    return [t for t in re.split(r"[-_.]", image_name(image)) if t]


def image_role(image: str | None) -> str | None:
    """``db`` for a data store, ``service`` for ZooKeeper and Consul (coordination, not
    data), ``proxy`` for a reverse proxy, None for anything else or no image."""
    tokens = _tokens(image) if image else []
    if not tokens or any(t in _TOOLS for t in tokens):
        return None
    if any(t.startswith(word) for t in tokens for word in DATA_STORES):
        return "db"
    if any(t.startswith(word) for t in tokens for word in ("zookeeper", "consul")):
        return "service"
    if tokens[0] in PROXIES:
        return "proxy"
    return None


def is_consensus(image: str | None) -> bool:
    """Whether the image is a store whose members agree by majority (etcd, ZooKeeper...)."""
    if not image:
        return False
    tokens = _tokens(image)
    if any(t in _TOOLS for t in tokens):
        return False
    return bool(tokens) and any(tokens[0].startswith(word) for word in CONSENSUS)


# -- references --------------------------------------------------------------------------------

#: Variable-name words that say a value is an address.
ADDRESS_WORDS = ("HOST", "HOSTS", "HOSTNAME", "ADDR", "ADDRESS", "URL", "URI", "SERVER", "SERVERS", "SERVICE",
                 "ENDPOINT", "ENDPOINTS", "DSN", "SEED", "SEEDS", "PEER", "PEERS", "BROKER", "BROKERS", "MASTER",
                 "UPSTREAM", "BACKEND", "TARGET", "CONNECTION", "CONN", "NODES", "CLUSTER", "JOIN")

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?)*$")
_SPLIT = re.compile(r"[\s,;'\"()\[\]{}]+")


@dataclass(frozen=True)
class Reference:
    """A host a value names, with the port when one is written."""

    host: str
    port: int | None


def key_names_address(key: str) -> bool:
    """Whether a variable's (or flag's) name says it holds an address: a word of it is in
    :data:`ADDRESS_WORDS` (``REDIS_HOST``, ``db-addr``, ``--upstream``)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", key.upper()) if w]
    return any(w in ADDRESS_WORDS for w in words)


def _host_port(token: str, bare: bool) -> Reference | None:
    """The host (and port) a token names, or None. ``bare`` allows a plain word."""
    text = token.strip()
    had_scheme = bool(_SCHEME.match(text))
    text = _SCHEME.sub("", text)
    text = text.split("/", 1)[0].split("?", 1)[0]
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    host, port = text, None
    if text.count(":") == 1:
        host, port_text = text.split(":")
        if not port_text.isdigit() or len(port_text) > 5:
            return None
        port = int(port_text)
        if port > 65535:
            return None
    elif ":" in text:
        return None
    if not host or not _HOST.match(host) or host.replace(".", "").isdigit():
        return None
    if port is None and not had_scheme and not bare:
        return None
    return Reference(host.lower(), port)


def references(value: str, key: str | None = None) -> list[Reference]:
    """The hosts an environment value (``key`` its variable's name) names.

    Every whitespace- or comma-separated token of the form ``host:port`` or
    ``scheme://host...`` counts; a plain word counts when the variable's name says it
    holds an address (:func:`key_names_address`)."""
    bare = key is not None and key_names_address(key)
    out: list[Reference] = []
    for token in _SPLIT.split(value):
        if not token:
            continue
        found = _host_port(token, bare)
        if found is not None and found not in out:
            out.append(found)
    return out


def argument_references(args: list[str]) -> list[tuple[int, Reference]]:
    """The hosts a command line names, each with the index of the argument that names it:
    ``host:port`` and URLs anywhere; a plain word as the value of a flag whose name says
    it is an address (``--host=db``, ``--redis-host db``, ``-seeds=a,b``)."""
    out: list[tuple[int, Reference]] = []
    previous_flag: str | None = None
    for index, arg in enumerate(args):
        for token in _SPLIT.split(arg):
            if not token:
                continue
            flag, value = None, token
            if token.startswith("-") and "=" in token:
                flag, value = token.split("=", 1)
            elif token.startswith("-"):
                previous_flag = token
                continue
            elif previous_flag is not None:
                flag = previous_flag
            bare = flag is not None and key_names_address(flag)
            for part in value.split(","):
                found = _host_port(part, bare)
                if found is not None and (index, found) not in out:
                    out.append((index, found))
            previous_flag = None
    return out


def command_references(node, field_name: str) -> list[tuple[str, object, Reference]]:
    """(what it says, the argument's node, reference) for each host a ``command``/``args``
    (or ``entrypoint``) field names, given as a list or as one string."""
    if node is None:
        return []
    items = node.seq() if node.is_seq else [node]
    texts = [item.text() or "" for item in items]
    from .emitter import quoted

    return [(f"{field_name} {quoted(texts[index])}", items[index], ref) for index, ref in argument_references(texts)]
