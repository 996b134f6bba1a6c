"""A file with no `allow` or `deny` rules has an open network.

**What it proves.** The file has at least one `allow` or `deny` rule, so the
first-match policy of LANGUAGE.md section 3 decides every connection (no match
denies).

**Why it matters.** With no rules at all the network is open: every
connection is allowed, from anywhere to anything on any port, so every
component with a public address is on the internet and `private-web` /
`private-db` can only rely on addresses and listeners. That is rarely what a
real network looks like; the note makes the assumption visible.

**A failing example.**

    lb lb1 address 203.0.113.10 listen tcp/443 -> web1
    web web1 address 10.0.1.11 listen tcp/8080
    # no allow/deny lines

refuted (a note): the file has no rules, so every connection is allowed.

**The fix.** Write the rules the system needs, e.g. `allow internet -> lb1
tcp/443` and `allow lb1 -> web1 tcp/8080`; everything else is then denied.

**Method.** `syntax`: whether the file has a rule; exact.
"""

from __future__ import annotations

from typing import Iterator

from ..context import Context
from ..model import CheckRequest, Topology
from ..results import Counterexample, Result, Severity, Status

ID = "open-network"
SEVERITY = Severity.NOTE
ORDER = 120
DEFAULT = False
ALWAYS = True
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    if topology.has_policy:
        yield Result(ID, Status.PROVED, SEVERITY,
                     f"the file has {len(topology.rules)} rule(s); connections no rule allows are denied",
                     request.span, "syntax")
        return
    yield Result(ID, Status.REFUTED, SEVERITY, "the file has no rules, so every connection is allowed",
                 request.span, "syntax", (Counterexample({"rules": 0}),),
                 hint="write allow rules for the connections the system needs; everything else is then denied")
