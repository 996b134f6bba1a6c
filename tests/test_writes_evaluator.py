"""The reference evaluator's write semantics (LANGUAGE.md section 4), on small
hand-written topologies: host lists, cluster endpoints, writes by name, writes
through services, and a failed writer (which issues no writes)."""

from __future__ import annotations

from checker.api import load_text
from checker.evaluator import Evaluator
from checker.model import FailureUnit


def _evaluator(text: str) -> Evaluator:
    loaded = load_text(text, "t.topo")
    assert loaded.topology is not None, [r.message for r in loaded.results]
    return Evaluator(loaded.topology)


def _host(name: str, implicit: bool = True) -> FailureUnit:
    return FailureUnit("host", name, implicit)


SHARED_HOST = """
web web1 host h1
cluster orders {
  db db1 { host h1  primary }
  db db2 { replica }
}
web1 writes db1, db2
"""


def test_failed_writer_issues_no_writes() -> None:
    # web1 and db1 share host h1: when h1 fails, web1 is down and writes nothing,
    # so no write can land on the replica db2.
    ev = _evaluator(SHARED_HOST)
    assert ev.writes(frozenset({_host("h1", implicit=False)})) == []
    # with db2 failed instead, web1 is live and writes to db1, the primary
    traces = ev.writes(frozenset({_host("db2")}))
    assert [(t.path, t.bad) for t in traces] == [(("web1", "db1"), False)]


HOST_LIST = """
web web1
cluster orders {
  failover auto
  db db1 { primary }
  db db3 { replica }
  db db2 { replica }
}
web1 writes db1, db2
web1 writes orders
"""


def test_host_list_against_promotion_order() -> None:
    ev = _evaluator(HOST_LIST)
    traces = ev.writes(frozenset({_host("db1")}))
    by_target = {t.requirement.targets: t for t in traces}
    bad = by_target[("db1", "db2")]
    assert bad.path == ("web1", "db2") and bad.primary == "db3" and bad.bad
    good = by_target[("orders",)]
    assert good.path == ("web1", "db3") and not good.bad


def test_write_through_service_lands_where_last_hop_sends_it() -> None:
    ev = _evaluator("""
web web1
service api
cluster orders {
  db db1 { primary }
  db db2 { replica }
}
web1 writes api
api writes db2
""")
    traces = [t for t in ev.writes(frozenset()) if t.writer == "web1"]
    assert [(t.path, t.landing, t.primary, t.bad) for t in traces] == [(("web1", "api", "db2"), "db2", "db1", True)]
