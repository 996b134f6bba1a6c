"""How much private-web and private-db (and the policy lints) add to parsing.

Run ``python benchmarks/bench_exposure.py [SIZES...]`` (default 10000; add 100000
for the large case). For each size it generates a topology with
``benchmarks.generate.generate(n, rules_per_component=2.5)``, measures
parse-only time (``checker.api.load_text``) as the baseline, then the added time
of each check on a fresh context, and of computing every connection the model
needs through the indexed policy against the reference policy's time on a sample.
Targets: both checks under 0.5 s over parse-only at 10k, under 5 s at 100k.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import generate  # noqa: E402
from checker.api import check_topology, load_text  # noqa: E402
from checker.context import Context  # noqa: E402


def _timed(action):
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


def measure(n: int) -> dict[str, float]:
    text = generate(n, rules_per_component=2.5)
    parse, loaded = _timed(lambda: load_text(text, "bench.topo"))
    topology = loaded.topology
    out = {"components": len(topology.components), "rules": len(topology.rules), "parse": parse}
    both, results = _timed(lambda: check_topology(topology, select=["private-web", "private-db"]))
    out["private-web+private-db"] = both
    out["verdicts"] = ", ".join(f"{r.id}={r.status.value}" for r in results)
    for lint in ("connection-denied", "shadowed-rule", "open-network"):
        out[lint], _ = _timed(lambda: check_topology(topology, select=[lint]))
    from checker.checks.connection_denied import needed_connections

    context = Context(topology)
    needed = list(needed_connections(topology, context))
    out["connections"] = len(needed)
    out["connect-all"], _ = _timed(lambda: [context.policy.connect(s, t, p) for s, t, p, _, _ in needed])
    return out


def main(argv: list[str] | None = None) -> int:
    sizes = [int(a) for a in (argv if argv is not None else sys.argv[1:])] or [10_000]
    print(f"{'components':>10} {'rules':>7} {'parse s':>8} {'web+db s':>9} {'ratio':>6} "
          f"{'conn-denied s':>13} {'shadowed s':>10} {'connect-all s':>13} {'conns':>7}")
    for n in sizes:
        m = measure(n)
        print(f"{m['components']:>10} {m['rules']:>7} {m['parse']:>8.2f} {m['private-web+private-db']:>9.3f} "
              f"{m['private-web+private-db'] / m['parse']:>6.3f} {m['connection-denied']:>13.3f} "
              f"{m['shadowed-rule']:>10.3f} {m['connect-all']:>13.3f} {m['connections']:>7}")
        print(f"{'':>10} verdicts: {m['verdicts']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
