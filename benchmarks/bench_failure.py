"""The time ``no-spof k=3`` and ``zone-redundancy`` add to a check of a 10k file.

Runs the generated file's checks with and without the two failure checks (same
process, same parse) and prints the difference, split into the shared compiled
circuit (built once per file, also usable by other engines), zone-redundancy
and no-spof k=3. Target: together under 100 ms at 10k components.

Usage::

    python benchmarks/bench_failure.py [N]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    from benchmarks.generate import generate
    from checker.api import load_text
    from checker.checks import no_spof, zone_redundancy
    from checker.context import Context
    from checker.engines.connections import connections
    from checker.engines.failure import circuit_for
    from checker.model import CheckRequest

    args = argv if argv is not None else sys.argv[1:]
    n = int(args[0]) if args else 10_000
    text = generate(n)
    started = time.perf_counter()
    topology = load_text(text, "bench.topo").topology
    parse = time.perf_counter() - started
    context = Context(topology)
    rows = []
    started = time.perf_counter()
    connections(context)
    rows.append(("connection index", time.perf_counter() - started, ""))
    started = time.perf_counter()
    circuit_for(context)
    rows.append(("serving circuit", time.perf_counter() - started, ""))
    for module, params in ((zone_redundancy, ()), (no_spof, (("k", "3"),))):
        started = time.perf_counter()
        [result] = module.run(topology, CheckRequest(module.ID, params, None), context)
        label = module.ID + (" k=3" if params else "")
        rows.append((label, time.perf_counter() - started,
                     f"{result.status.value} ({result.method}, {len(result.counterexamples)} counterexamples)"))
    print(f"{n} components, parse-only {parse * 1000:.0f} ms")
    for label, seconds, note in rows:
        print(f"  {label:<22} {seconds * 1000:>9.0f} ms  {note}")
    total = sum(s for _, s, _ in rows)
    print(f"  {'added in total':<22} {total * 1000:>9.0f} ms  (target < 100 ms at 10k)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
