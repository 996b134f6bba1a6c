"""Startup and parsing benchmark: how fast the common case feels.

Measured in one run, each against its own baseline:

1. **Small file, wall time**: a subprocess ``python -m checker check
   models/seed/04-replication.topo`` against ``python -c "import lark"``
   (median of several runs each). Target: under 2.5x. The subprocesses run
   with bytecode caching on (``PYTHONPYCACHEPREFIX`` in a temporary folder, as
   an installed package has ``.pyc`` files) and a warm grammar cache
   (``TOPOCHECK_CACHE_DIR``); one untimed run warms both.
2. **Parse throughput**: parsing and building the model
   (:func:`checker.api.load_text`) against Lark's lexer alone
   (``lark_parser().lex``) on the same generated file. Target: under 1.6x.
3. **100k components end to end** (``--large``; slow): a subprocess
   ``topocheck check`` of ``benchmarks.generate.generate(100_000)``, with its
   parse-only time for comparison.

Usage::

    python benchmarks/bench_startup.py            # 1 and 2
    python benchmarks/bench_startup.py --large    # 1, 2 and 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "models" / "seed" / "04-replication.topo"


def _wall(command: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def small_file(runs: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPYCACHEPREFIX=str(Path(scratch) / "pyc"), TOPOCHECK_CACHE_DIR=str(Path(scratch) / "cache"))
        check = [sys.executable, "-m", "checker", "check", str(SEED)]
        baseline = [sys.executable, "-c", "import lark"]
        _wall(check, env, 1)
        _wall(baseline, env, 1)
        # Interleave so machine load hits both alike.
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(_wall(check, env, 1))
            theirs.append(_wall(baseline, env, 1))
        return statistics.median(ours), statistics.median(theirs)


def parse_throughput(n_components: int, repeats: int) -> tuple[float, float, int]:
    sys.path.insert(0, str(ROOT))
    from benchmarks.generate import generate
    from checker.api import load_text
    from checker.parser import lark_parser

    text = generate(n_components)
    parser = lark_parser()

    def best(function) -> float:  # noqa: ANN001
        function()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            function()
            times.append(time.perf_counter() - started)
        return min(times)

    lex = best(lambda: sum(1 for _ in parser.lex(text)))
    load = best(lambda: load_text(text, "bench.topo"))
    return load, lex, len(text)


def large(n_components: int) -> tuple[float, float]:
    sys.path.insert(0, str(ROOT))
    from benchmarks.generate import generate
    from checker.api import load_text

    text = generate(n_components)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "large.topo"
        path.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        load_text(text, str(path))
        parse_only = time.perf_counter() - started
        started = time.perf_counter()
        # --timeout bounds a file's whole work: give the end-to-end figure room to be measured whole.
        subprocess.run([sys.executable, "-m", "checker", "check", "--timeout", "3600", str(path)], cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return time.perf_counter() - started, parse_only


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_startup.py", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="subprocess runs per command (median)")
    parser.add_argument("--components", type=int, default=2000, help="size of the file for parse throughput")
    parser.add_argument("--large", action="store_true", help="also check 100k components end to end (slow)")
    args = parser.parse_args(argv)

    ours, lark_import = small_file(args.runs)
    load, lex, size = parse_throughput(args.components, 3)
    rows = [
        ("small file: check 04-replication.topo", f"{ours * 1000:.0f} ms", f"import lark {lark_import * 1000:.0f} ms",
         f"{ours / lark_import:.2f}x", "< 2.5x"),
        (f"parse+model {args.components} components ({size // 1024} KiB)", f"{load * 1000:.0f} ms",
         f"lex only {lex * 1000:.0f} ms", f"{load / lex:.2f}x", "< 1.6x"),
    ]
    if args.large:
        total, parse_only = large(100_000)
        rows.append(("100k components end to end", f"{total:.1f} s", f"parse only {parse_only:.1f} s",
                     f"{total / parse_only:.2f}x", "-"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(5)]
    header = ("measure", "topocheck", "baseline", "ratio", "target")
    widths = [max(w, len(h)) for w, h in zip(widths, header)]
    for row in (header, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
