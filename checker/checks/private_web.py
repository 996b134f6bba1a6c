"""Web servers are private and reached from the internet only through a load balancer.

**What it proves.** Every `web` has only private addresses (LANGUAGE.md section 3:
10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 127.0.0.0/8,
169.254.0.0/16; the documentation ranges are public), and every internet path to
a web server (a packet from a public address to a public address of a
`gateway` or `lb`, forwarded by listeners, every hop allowed by the first-match
policy) passes through an `lb`. The last hop counts whatever port the forward
delivers to, whether or not the web server `listen`s there: `listen` says what
it serves, not that nothing else on the machine answers (sshd, an admin
console).

**Why it matters.** A web server on the internet, or behind a plain NAT
port-forward, takes every client's traffic itself: no load balancer spreads the
load, terminates connections, or stands between the client and the
application.

**A failing example.**

    gateway edge address 203.0.113.20 address 192.168.0.1 listen tcp/443 -> web1 tcp/8443
    web web1 address 192.168.0.10 listen tcp/8443
    allow internet -> edge tcp/443
    allow edge -> web1 tcp/8443

refuted: a packet from a public address to 203.0.113.20 tcp/443 is admitted by
the rule at line 3 and forwarded to `web1` (line 4): the path
`internet -> edge -> web1` has no load balancer.

**The fix.** Remove public addresses from web servers and put an `lb` in front
of them (a gateway in front of the `lb` is fine); or close the path with a
`deny` placed before the rule that admits it.

**Method.** `z3`: the forwarding graph is sliced to the gateways from which a
web server is reachable without a load balancer; for each, Z3 searches for a
client packet (public source, public destination of the gateway, a port of the
listener) whose first matching rule is an `allow`; the forwards are then
followed through the indexed policy. A `sat` answer is a witness packet, which
is replayed through the plain first-match evaluator with every hop of its path
before it is reported; `unsat` for every entry proves the check; a solver
timeout gives `unknown`.
"""

from __future__ import annotations

from typing import Iterator

from ..context import Context
from ..model import CheckRequest, Kind, Topology
from ..results import Result, Severity

ID = "private-web"
SEVERITY = Severity.ERROR
ORDER = 30
DEFAULT = True
ALWAYS = False
PARAMS: dict = {}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    from ._exposure import exposure_result

    goals = [c.name for c in topology.components.values() if c.kind is Kind.WEB]
    yield from exposure_result(
        ID, SEVERITY, request, context, goals, through_lb_allowed=True,
        proved="every web server ({count}) has only private addresses and is reached from the internet only "
               "through a load balancer",
        hint="give web servers private addresses only and put an lb in front of them")
