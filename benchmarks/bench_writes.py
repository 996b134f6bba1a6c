"""How much `write-to-primary` adds to parse-only time at scale.

For each size, the model is parsed and resolved (`checker.api.load_text`, the
baseline), then `write-to-primary` runs with k=1 and k=2 on the loaded
topology in a fresh context. Both are timed in the same run; the table shows
seconds and the check's time as a ratio of parse-only.

Each size runs two models: `benchmarks/generate.py`'s (`generate(n,
n_clusters=100)`, when it is there) and `synthetic()` below, which stresses
this check:
three-member clusters (half `failover auto`), web servers writing to cluster
endpoints, and every tenth one writing through a driver's host list over
cluster members (the writes the check must search), services in between, and
an allow rule per tier.

    python benchmarks/bench_writes.py [N ...]    # default: 1000 10000
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checker.api import load_text  # noqa: E402
from checker.checks import write_to_primary  # noqa: E402
from checker.context import Context, Options  # noqa: E402
from checker.model import CheckRequest  # noqa: E402


def synthetic(n: int, n_clusters: int = 100) -> str:
    """A model of about ``n`` components with ``n_clusters`` clusters."""
    lines = ['topology "bench_writes synthetic"', "zone a region r1", "zone b region r1", "zone c region r2"]
    zones = ["a", "b", "c"]
    for c in range(n_clusters):
        lines.append(f"cluster c{c} {{")
        lines.append(f"  failover {'auto' if c % 2 else 'manual'}")
        for m in range(3):
            role = "primary" if m == 0 else ("replica" if m == 1 else f"replica of c{c}m1")
            lines.append(f"  db c{c}m{m} {{ zone {zones[m]} address 10.{c % 200}.{m}.{c // 200 + 1} listen tcp/5432 {role} }}")
        lines.append("}")
    remaining = max(0, n - 3 * n_clusters)
    n_services = remaining // 5
    n_webs = remaining - n_services
    for s in range(n_services):
        lines.append(f"service api{s} zone {zones[s % 3]} address 10.201.{s // 250}.{s % 250 + 1} listen tcp/9000")
        lines.append(f"api{s} writes c{s % n_clusters}")
    for w in range(n_webs):
        lines.append(f"web web{w} zone {zones[w % 3]} address 10.202.{w // 250}.{w % 250 + 1} listen tcp/8080")
        c = w % n_clusters
        if w % 10 == 0:
            lines.append(f"web{w} writes c{c}m0, c{c}m1")  # a host list: searched
        elif w % 10 == 1 and n_services:
            lines.append(f"web{w} writes api{w % n_services}")
        else:
            lines.append(f"web{w} writes c{c}")
    lines.append("allow 10.202.0.0/16 -> 10.201.0.0/16 tcp/9000")
    lines.append("allow 10.0.0.0/8 -> 10.0.0.0/8 tcp/5432")
    lines.append("check write-to-primary")
    lines.append("check write-to-primary k=2")
    return "\n".join(lines) + "\n"


def models(n: int) -> list[tuple[str, str]]:
    """The synthetic model, and the shared generator's when it is there."""
    out = [(synthetic(n), "synthetic")]
    try:
        from benchmarks.generate import generate
    except ImportError:
        return out
    return out + [(generate(n, n_clusters=100), "generate.py")]


def measure(text: str, source: str, n: int) -> dict:
    t0 = time.perf_counter()
    topology = load_text(text, "bench.topo").topology
    parse = time.perf_counter() - t0
    assert topology is not None
    out = {"n": n, "source": source, "parse": parse}
    for k in (1, 2):
        request = CheckRequest("write-to-primary", (("k", str(k)),), None)
        context = Context(topology, Options(default_k=k))
        t0 = time.perf_counter()
        results = list(write_to_primary.run(topology, request, context))
        out[f"k{k}"] = time.perf_counter() - t0
        out[f"k{k}_status"] = results[0].status.value
        out[f"k{k}_cx"] = len(results[0].counterexamples)
    return out


def main(argv: list[str] | None = None) -> None:
    sizes = [int(a) for a in (argv if argv is not None else sys.argv[1:])] or [1000, 10000]
    print(f"{'n':>7} {'model':>11} {'parse s':>8} {'k=1 s':>7} {'k=2 s':>7} {'k=2/parse':>9}  verdicts")
    for n in sizes:
        for text, source in models(n):
            r = measure(text, source, n)
            print(
                f"{r['n']:>7} {r['source']:>11} {r['parse']:>8.2f} {r['k1']:>7.2f} {r['k2']:>7.2f} "
                f"{r['k2'] / r['parse']:>9.2f}  k=1 {r['k1_status']} ({r['k1_cx']}), k=2 {r['k2_status']} ({r['k2_cx']})"
            )


if __name__ == "__main__":
    main()
