"""A run drops each engine cache after the last check that reads it (``ENGINES`` in
each check module, :func:`checker.api.release_plan`): every engine is still built
once per file, and what comes after runs without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.api import check_text, execution_order, load_text, release_plan, requested_checks
from checker.checks import registry
from checker.context import ANSWERS_KEY
from checker.engines import circuit, failure_replay, writes
from checker.engines.circuit import CIRCUIT_KEY
from checker.engines.failure_replay import CACHE_KEY as REPLAY_KEY
from checker.engines.writes import FLOW_KEY

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "models/seed/04-replication.topo").read_text(encoding="utf-8")


def _checking(*checks: str) -> str:
    """The seed's stage 4 with these ``check`` lines instead of its own."""
    kept = "".join(line for line in SEED.splitlines(keepends=True) if not line.startswith("check "))
    return kept + "".join(f"check {check}\n" for check in checks)


EVERY_CHECK = _checking("no-spof k=1", "zone-redundancy", "private-web", "private-service", "private-db",
                        "write-to-primary k=2", "availability target=99.9", "no-spof k=2")


def _built(monkeypatch) -> list[str]:
    """A list that names each engine as it is built."""
    built: list[str] = []
    for owner, name, key in ((circuit.ServingCircuit, "__init__", CIRCUIT_KEY),
                             (failure_replay.ReplayEvaluator, "__init__", REPLAY_KEY)):
        original = getattr(owner, name)

        def counted(self, *args, original=original, key=key, **kwargs):
            built.append(key)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(owner, name, counted)
    original_build = writes.WriteFlow.build

    def counted_build(*args, **kwargs):
        built.append(FLOW_KEY)
        return original_build(*args, **kwargs)

    monkeypatch.setattr(writes.WriteFlow, "build", staticmethod(counted_build))
    return built


def _seen_by_each_check(monkeypatch) -> dict[str, set]:
    """The engine caches present when each check starts (by check id, the last run)."""
    seen: dict[str, set] = {}
    for info in registry().values():
        original = info.module.run

        def run(topology, request, context, original=original, check_id=info.id):
            seen[check_id] = {k for k in (CIRCUIT_KEY, REPLAY_KEY, FLOW_KEY) if k in context.cache}
            return original(topology, request, context)

        monkeypatch.setattr(info.module, "run", run)
    return seen


def test_every_engine_is_built_once_and_dropped_after_its_last_reader(monkeypatch) -> None:
    built = _built(monkeypatch)
    seen = _seen_by_each_check(monkeypatch)
    report = check_text(EVERY_CHECK, "t.topo")
    statuses = [(r.id, r.status.value) for r in report.results if r.id in ("no-spof", "availability", "write-to-primary")]
    # no-spof k=1 holds, k=2 does not ({web1, web2}); every failure check ran to a verdict
    assert statuses == [("no-spof", "proved"), ("no-spof", "refuted"), ("write-to-primary", "proved"),
                        ("availability", "proved")], statuses
    assert sorted(built) == sorted([CIRCUIT_KEY, REPLAY_KEY, FLOW_KEY])
    # availability comes last of the failure checks: the write flow went after
    # write-to-primary, the circuit and the replay after availability
    assert seen["write-to-primary"] == {CIRCUIT_KEY, REPLAY_KEY}
    assert seen["availability"] == {CIRCUIT_KEY, REPLAY_KEY}
    assert seen["shadowed-rule"] == set()
    # (connection-denied runs right after available: the circuit lives on for no-spof)
    assert seen["connection-denied"] == {CIRCUIT_KEY}


def test_without_the_failure_checks_the_circuit_goes_after_available(monkeypatch) -> None:
    seen = _seen_by_each_check(monkeypatch)
    check_text(_checking("private-web"), "t.topo")
    assert seen["private-web"] == set()


def test_the_plan_releases_each_cache_after_its_last_reader() -> None:
    def plan(text: str) -> dict[str, tuple[int, str]]:
        runs = requested_checks(load_text(text, "t.topo").topology)
        ordered = [runs[at] for at in execution_order(runs)]
        return {key: (at, ordered[at][0].id) for at, keys in release_plan(ordered).items() for key in keys}

    # (runs: available, connection-denied, no-spof, no-spof, zone-redundancy, ...)
    assert plan(EVERY_CHECK) == {CIRCUIT_KEY: (9, "availability"), REPLAY_KEY: (9, "availability"),
                                 FLOW_KEY: (8, "write-to-primary"), ANSWERS_KEY: (4, "zone-redundancy")}
    # of two requests of one check, the second (runs: available, connection-denied, no-spof,
    # no-spof, private-web, lints); with no write-to-primary, nothing names the write flow
    two = _checking("no-spof k=1", "private-web", "no-spof k=2")
    assert plan(two) == {CIRCUIT_KEY: (3, "no-spof"), REPLAY_KEY: (3, "no-spof"), ANSWERS_KEY: (3, "no-spof")}
    # without the failure checks, the answers go after connection-denied
    assert plan(_checking("private-web")) == {CIRCUIT_KEY: (0, "available"), ANSWERS_KEY: (1, "connection-denied")}


def test_connection_denied_runs_while_the_answers_are_kept_and_is_reported_in_its_place(monkeypatch) -> None:
    """It asks the policy what the serving circuit asked: it runs right after
    'available'. The failure checks' replays ask it again, so the policy's memo of
    answers lives through them, and is gone before the lints."""
    ran: list[tuple[str, int]] = []
    for info in registry().values():
        original = info.module.run

        def run(topology, request, context, original=original, check_id=info.id):
            ran.append((check_id, len(context.policy._allowed)))
            return original(topology, request, context)

        monkeypatch.setattr(info.module, "run", run)
    report = check_text(EVERY_CHECK, "t.topo")
    order = [check_id for check_id, _ in ran]
    assert order[:3] == ["available", "connection-denied", "no-spof"], order
    kept = dict(ran)
    assert kept["available"] == 0 and kept["connection-denied"] > 0 and kept["no-spof"] > 0, ran
    assert kept["zone-redundancy"] > 0 and kept["private-web"] == 0, ran
    ids = [r.id for r in report.results]
    orders = [registry()[i].order for i in ids]
    assert orders == sorted(orders) and ids.index("connection-denied") > ids.index("shadowed-rule"), ids


@pytest.mark.parametrize("later", [(), ("availability target=99",)], ids=["last", "availability-after"])
def test_zone_redundancy_drops_the_circuit_before_its_replays_when_it_reads_it_last(monkeypatch, later) -> None:
    """Its replays need no circuit: when no check after it reads the circuit, it drops
    it before them (Context.done_with); when one does, the circuit stays."""
    from checker.checks import zone_redundancy
    from checker.engines import failure_report

    running: list = []  # the context, while zone-redundancy runs
    original_run = zone_redundancy.run

    def run(topology, request, context):
        running.append(context)
        yield from original_run(topology, request, context)
        running.clear()

    replayed: list[bool] = []  # per replay of zone-redundancy's: whether the circuit was there
    original_replay = failure_report.stopping_counterexample

    def replay(*args, **kwargs):
        if running:
            replayed.append(CIRCUIT_KEY in running[0].cache)
        return original_replay(*args, **kwargs)

    monkeypatch.setattr(zone_redundancy, "run", run)
    monkeypatch.setattr(failure_report, "stopping_counterexample", replay)
    text = (ROOT / "models/seed/03-load-balancer.topo").read_text(encoding="utf-8")
    kept = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("check "))
    report = check_text(kept + "check zone-redundancy\n" + "".join(f"check {c}\n" for c in later), "t.topo")
    [zone] = [r for r in report.results if r.id == "zone-redundancy"]
    assert zone.status.value == "refuted" and zone.counterexamples[0].fields["failed"] == ["zone:az-a"]
    assert replayed == [bool(later)]


@pytest.mark.parametrize("info", list(registry().values()), ids=lambda info: info.id)
def test_a_check_names_only_engine_caches(info) -> None:
    assert set(getattr(info.module, "ENGINES", ())) <= {CIRCUIT_KEY, REPLAY_KEY, FLOW_KEY, ANSWERS_KEY}


@pytest.mark.parametrize("entry", ["check_text", "check_topology"])
def test_the_collector_comes_back_after_the_engines_are_gone(entry) -> None:
    """The collector is off while a file is checked (checker.fastparse.paused_gc); when
    it comes back on, its first collection walks every object made while it was off
    that is still alive. The model and the engines are dropped before that, so that
    walk is over what the caller keeps (the results), not the whole file's work."""
    import gc

    from benchmarks.cells import cells
    from checker.api import check_topology

    text = cells(200)  # 1,800 components, a few findings; the model and engines are ~30k objects
    loaded = load_text(text, "t.topo") if entry == "check_topology" else None
    walked: list[int] = []

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            walked.append(len(gc.get_objects(generation=0)))

    check_text(text, "t.topo")  # once before: the first run's imports live on (and are young)
    assert gc.isenabled()
    gc.collect()
    gc.callbacks.append(callback)
    try:
        if loaded is not None:
            results = check_topology(loaded.topology)
        else:
            results = check_text(text, "t.topo").results
    finally:
        gc.callbacks.remove(callback)
    assert any(result.status.value == "refuted" for result in results)
    # (measured: 100 and 3,900, where 21,900 and 27,400 were walked while the engines
    # lived; check_topology's caller keeps the topology, and with it what the checks
    # remembered on it: its failure units, by component)
    assert max(walked, default=0) < (1000 if entry == "check_text" else 8000), walked


def test_the_free_memory_goes_back_once_after_each_release(monkeypatch) -> None:
    """After the checks that drop engines (here: connection-denied drops the policy's
    answers, write-to-primary the write flow, availability the circuit and the
    replay), the C library's free pages go back to the system, once per such check."""
    import checker.api as api

    calls: list[int] = []
    monkeypatch.setattr(api, "release_free_memory", lambda: calls.append(1))
    check_text(EVERY_CHECK, "t.topo")
    assert len(calls) == 3


def test_the_c_library_gives_memory_back_where_it_can() -> None:
    import platform

    from checker import heap

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        assert not heap.can_release()
        pytest.skip("not the GNU C library: there is no malloc_trim to call")
    assert heap.can_release()
    heap.release_free_memory()  # (returns nothing; must not fail)
