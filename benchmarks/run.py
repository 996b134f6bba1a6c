"""End-to-end benchmark: parse-only time against full-check time, per size.

For each N (default 1k, 10k, 100k components from :func:`benchmarks.generate.generate`,
with the generated file's own ``check`` lines) a fresh subprocess measures

* parse-only: :func:`checker.api.load_text` (the baseline, measured in the same run),
* full check: :func:`checker.api.check_text` (parse included, every requested check),
* peak memory of the subprocess (``resource.getrusage`` max RSS),

and the table shows the ratio full / parse. Targets (2 cores): 10k at most 1.3x,
100k end to end under 20 s and 500 MB.

Usage::

    python benchmarks/run.py                 # 1k, 10k, 100k
    python benchmarks/run.py --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(n: int) -> dict:
    """Parse-only and full-check seconds for one generated file of ``n`` components."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.generate import generate
    from checker.api import check_text, load_text
    from checker.context import Options

    text = generate(n)
    started = time.perf_counter()
    loaded = load_text(text, f"bench-{n}.topo")
    parse = time.perf_counter() - started
    assert loaded.topology is not None, [r.message for r in loaded.results][:3]
    del loaded
    started = time.perf_counter()
    report = check_text(text, f"bench-{n}.topo", Options(timeout=3600))  # the timeout bounds the whole file
    full = time.perf_counter() - started
    statuses = {r.id: r.status.value for r in report.results}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "parse": parse, "full": full, "peak_mb": peak_mb, "results": statuses}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0
    print(f"{'N':>8} {'parse s':>9} {'full s':>9} {'ratio':>7} {'peak MB':>9}  results")
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{n:>8} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(out.stdout)
        results = " ".join(f"{k}={v}" for k, v in sorted(row["results"].items()))
        print(f"{n:>8} {row['parse']:>9.2f} {row['full']:>9.2f} {row['full'] / row['parse']:>7.2f} "
              f"{row['peak_mb']:>9.0f}  {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
