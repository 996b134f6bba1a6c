"""A second generated shape for the scale table: many small, identical cells.

:mod:`benchmarks.generate` builds a few large applications with a dense, ordered
policy (2.5 rules per component, many of them shadowed on purpose). The scale issue
was also measured on files of another shape, written independently of that generator:
*cells*, each

* a managed DNS name answering the cell's load balancer;
* a managed load balancer (a public and a private address) in front of two web
  servers in two zones;
* two services, used by the webs as ordered alternatives;
* a database cluster (``failover auto``) of three members in three zones, written
  and read by the webs;

with the rules each cell needs (an allow per connection, in a few lines), the
internet denied from the cell's private block, and one final ``deny any -> any``.
Faults are planted at fixed strides, so every run knows its verdicts:

* every ``SINGLE``-th cell has one service where it should have two (a single point
  of failure: ``no-spof`` and ``zone-redundancy`` refute);
* every ``OPEN_DB``-th cell gives its primary a public address too, and lets the
  internet reach it (``private-db`` refutes) through an ``allow`` written above
  the cell's deny;
* every ``SHADOWED``-th cell repeats its web rule after it (``shadowed-rule``).

Nine components a cell (eight where the single point is planted): 1,100 cells are
about 10k components, 11,000 about 100k. Only the standard library; deterministic.

Usage::

    python benchmarks/cells.py 1100 > cells.topo
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["cells", "components", "SINGLE", "OPEN_DB", "SHADOWED"]

SINGLE = 97  # every SINGLE-th cell (from cell 0) has one service
OPEN_DB = 89  # every OPEN_DB-th cell (from cell 0) opens its primary to the internet
SHADOWED = 83  # every SHADOWED-th cell (from cell 0) repeats its web rule


def components(n: int) -> int:
    """How many components ``cells(n)`` declares (the internet included)."""
    return 1 + 9 * n - len(range(0, n, SINGLE))


def cells(n: int) -> str:
    """The text of a topology of ``n`` cells (at most 65,536: each owns a /24 of 10.0.0.0/8)."""
    if not 0 < n <= 65536:
        raise ValueError("between 1 and 65,536 cells")
    out = [f'topology "cells: {n}"', "",
           "zone az-1 region region-1", "zone az-2 region region-1", "zone az-3 region region-2", "",
           "internet users", ""]
    rules: list[str] = []
    for c in range(n):
        block = f"10.{c // 256}.{c % 256}"  # the cell's private /24
        public = f"11.{c // 65536}.{c // 256 % 256}.{c % 256}"  # and its public address
        single = c % SINGLE == 0
        opened = f"  address 11.{128 + c // 65536}.{c // 256 % 256}.{c % 256}" if c % OPEN_DB == 0 else ""
        services = [f"svc-{c}-a"] if single else [f"svc-{c}-a", f"svc-{c}-b"]
        webs = f"web-{c}-a, web-{c}-b"
        out += [
            f"# cell {c}",
            f"dns www.cell{c}.example.com {{ managed  answer lb-{c} }}",
            f"lb lb-{c} {{ managed  address {public}  address {block}.1  "
            f"listen tcp/443 -> {webs} tcp/8080 }}",
            f"web web-{c}-a zone az-1 address {block}.2 listen tcp/8080",
            f"web web-{c}-b zone az-2 address {block}.3 listen tcp/8080",
        ]
        out += [f"service {s} zone az-{1 + i} address {block}.{4 + i} listen tcp/9000" for i, s in enumerate(services)]
        out += [
            f"cluster db-{c} {{",
            "  failover auto",
            f"  db db-{c}-a {{ zone az-1  address {block}.10{opened}  listen tcp/5432  primary }}",
            f"  db db-{c}-b {{ zone az-2  address {block}.11  listen tcp/5432  replica }}",
            f"  db db-{c}-c {{ zone az-3  address {block}.12  listen tcp/5432  replica }}",
            "}",
            f"{webs} uses {', '.join(services)}",
            f"{webs} writes db-{c}",
            f"{webs} reads db-{c}",
            "",
        ]
        if c % OPEN_DB == 0:
            rules.append(f"allow internet -> db-{c}-a tcp/5432")
        rules += [
            f"deny internet -> {block}.0/24",
            f"allow internet -> lb-{c} tcp/443",
            f"allow lb-{c} -> {webs} tcp/8080",
        ]
        if c % SHADOWED == 0:
            rules.append(f"allow lb-{c} -> web-{c}-a tcp/8080")
        rules += [
            f"allow {webs} -> {', '.join(services)} tcp/9000",
            f"allow {webs} -> db-{c} tcp/5432",
            f"allow db-{c} -> db-{c} tcp/5432",
        ]
    return "\n".join(out + rules + ["deny any -> any", ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cells", type=int)
    args = parser.parse_args(argv)
    sys.stdout.write(cells(args.cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
