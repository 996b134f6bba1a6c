"""``check availability`` against ``--select available``, on generated topologies.

For each size N (default 10k; ``--sizes 10000,100000`` adds the large one), the
file from :func:`benchmarks.generate.generate` gets one more line,
``check availability target=99.9``, and two subprocesses run, alternately,
``runs`` times each (median wall time):

* the baseline: ``python -m checker check FILE --select available``;
* the check: ``python -m checker check FILE --select availability --format json``.

Target: at 10k the check takes at most 2x the baseline; at 100k it finishes
with an exact answer or decisive bounds. The table shows both times, the ratio,
and what the check said (exact or bounds, the value, the verdict). Both commands
run with ``--timeout`` large enough that the time limit is not what is measured.

Usage::

    python benchmarks/bench_availability.py                        # 10k
    python benchmarks/bench_availability.py --sizes 10000,100000 --runs 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = "3600"


def _run(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, out.stdout


def measure(n: int, runs: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from benchmarks.generate import generate

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"bench-{n}.topo"
        path.write_text(generate(n) + "\ncheck availability target=99.9\n")
        base = [sys.executable, "-m", "checker", "check", str(path), "--timeout", TIMEOUT, "--exit-zero"]
        baseline_times, check_times = [], []
        report = ""
        for _ in range(runs):
            baseline_times.append(_run(base + ["--select", "available"])[0])
            seconds, report = _run(base + ["--select", "availability", "--format", "json"])
            check_times.append(seconds)
    result = json.loads(report)["files"][0]["results"][0]
    return {"n": n, "baseline": statistics.median(baseline_times), "check": statistics.median(check_times),
            "status": result["status"], "method": result["method"], "exact": result.get("exact"),
            "availability": result.get("availability"), "bounds": result.get("bounds"),
            "scenarios": len(result.get("scenarios", []))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{'N':>8} {'available s':>12} {'availability s':>15} {'ratio':>6}  result")
    for n in (int(s) for s in args.sizes.split(",")):
        row = measure(n, args.runs)
        what = (f"{row['status']} ({row['method']}): {row['availability']}" if row["exact"]
                else f"{row['status']} ({row['method']}): bounds {row['bounds']}")
        print(f"{n:>8} {row['baseline']:>12.2f} {row['check']:>15.2f} {row['check'] / row['baseline']:>6.2f}  "
              f"{what}, {row['scenarios']} scenarios")
    return 0


if __name__ == "__main__":
    sys.exit(main())
