"""No set of at most k failed hosts stops a service (`k=1` by default).

**What it proves.** For every set F of at most k hosts (a component without
`host` is its own host; `managed` components never fail as hosts), every service stays
up: each `dns` name still resolves to an answer that serves, through the
policy, with failover promotion and ordered alternatives applied as
LANGUAGE.md section 4 says. With `k=1` a refutation lists **every** single
point of failure, one counterexample per host; with `k>1` it shows one smallest
stopping set. Every result carries `margin`: the size of the smallest stopping
set when it is at most k+1, else null. A service that is already down with
nothing failed has the empty set as its smallest stopping set: the check is
refuted with margin 0 (never proved: a service that is down tolerates
nothing), its one counterexample fails nothing, and it refers to `available`
("already down with nothing failed (see available at line 4), so no failure
was analysed") instead of repeating why; fix that and run again. Where an
explanation crosses a connection that `connection-denied` reports, it cites
that finding instead of restating the denial.

**Why it matters.** One machine burning out should not take the service down;
the seed's first stages (web and database on one server, one database behind a
pool) are exactly the designs this finds.

**A failing example.**

    dns www { managed; answer lb1 }
    lb lb1 { managed; address 203.0.113.10; listen tcp/443 -> web1, web2 tcp/8080 }
    web web1 address 10.0.1.11 listen tcp/8080
    web web2 address 10.0.2.11 listen tcp/8080
    db db1 primary address 10.0.3.10 listen tcp/5432
    web1, web2 writes db1

refuted: `failing db1 stops www: www -> lb1 -> web1: web1 writes db1 (line 6): db1 is down (failed: db1)`.

**The fix.** Run a second instance of whatever the counterexample names, on a
separate host: a replica in a cluster with `failover auto` and writes to the
cluster endpoint, a second web server behind the load balancer, a second
answer for the DNS name.

**Method.** The serving equations are compiled once (every policy question
answered from an index of the rules). Each host is tried on its own, in time
proportional to what its failure reaches, so every single point is listed,
whatever the structure. Larger sets (from k=1 the margin, the size of a smallest
stopping set up to k+1) come from the fault-tree method: minimal cut sets of
at most k+1 hosts, computed as a least fixed point of falsity so that
requirement cycles keep their greatest-fixed-point meaning (method `graph`);
where a requirement can pick a live target that does not serve before one
that would, first on a monotone relaxation that serves only where the real
structure does, then with terms that also name the hosts that must stay live.
Families are computed service by service; with k=1 (only the margin is
reported) the search ends at the first relaxed set that really stops a
service, a smallest one since no single host does. Before it, two hosts
that each alone take down one of a service's two entries (or of two members
of an entry's group that needs all but one, such as a name's two answers)
are tried, per service, from what the single failures took down: a pair is
kept only when the circuit confirms that it stops a service (failing more can
revive a node), so the common shape of two answers each with its own single
point costs no term families. When the term families
exceed their budget, a smallest stopping set is a
MaxSAT problem solved by Z3 `Optimize` (method `z3`), whose optimum also
proves tolerance when it exceeds k; a timeout is `unknown`. Every
counterexample is replayed through the reference evaluator (on the part of the
topology the stopped services depend on); the first 100
single points are also explained step by step (the others say what they stop:
a chain of n single points would otherwise have n^2 lines of explanation).
"""

from __future__ import annotations

from typing import Iterator

from ..context import ANSWERS_KEY, Context
from ..engines.circuit import CIRCUIT_KEY
from ..engines.failure_replay import CACHE_KEY as REPLAY_KEY
from ..model import CheckRequest, Topology
from ..results import Result, Severity, Status
from . import positive_int

ID = "no-spof"
SEVERITY = Severity.ERROR
ORDER = 10
DEFAULT = True
ALWAYS = False
ENGINES = (CIRCUIT_KEY, REPLAY_KEY, ANSWERS_KEY)  # the engine caches it reads (see checker.checks)
EXPLAINED = 100  # single points explained step by step; the others say what they stop

PARAMS = {"k": positive_int}


def run(topology: Topology, request: CheckRequest, context: Context) -> Iterator[Result]:
    from ..engines.failure import circuit_for, smallest_stopping_sets
    from ..engines.failure_replay import replay_evaluator
    from ..engines.failure_report import quote, stopping_counterexample, unit_location
    from ..engines.root_cause import cite_in, down_with_nothing_failed

    k_text = request.param("k")
    k = int(k_text) if k_text is not None else context.options.default_k
    extra = {"params": dict(request.params)} if request.params else {}
    circuit = circuit_for(context)
    evaluator = replay_evaluator(context)
    hosts = f"{k} host" if k == 1 else f"{k} hosts"

    down = circuit.services_down(circuit.baseline[0])
    if down:
        message, example = down_with_nothing_failed(context, evaluator, down, ID)  # replayed (here or by available)
        yield Result(ID, Status.REFUTED, SEVERITY, message, request.span, "graph", (example,), margin=0,
                     hint="make the service available first", extra=extra)
        return

    # with k=1 a proof reports the margin, never the sets: the search may stop at the first
    found = smallest_stopping_sets(circuit, k + 1, context.options.timeout, every_set=k > 1)
    if found.status == "unknown":
        yield Result(ID, Status.UNKNOWN, SEVERITY,
                     f"could not decide whether failing {hosts} can stop a service: {found.reason}",
                     request.span, found.method, margin=None, extra=extra)
        return
    if found.status == "none" or found.smallest > k:
        margin = found.smallest
        if margin is None:
            tail = f"every stopping set has more than {k + 1} hosts" if circuit.hosts else "nothing can fail"
        else:
            tail = f"the smallest stopping set has {margin} hosts"
        yield Result(ID, Status.PROVED, SEVERITY,
                     f"no failure of at most {hosts} stops a service ({tail})",
                     request.span, found.method, margin=margin, extra=extra)
        return

    reported = found.sets if k == 1 else found.sets[:1]  # every single point; else one smallest set
    # every single point is replayed and reported; the first EXPLAINED of them explained
    # step by step (a chain of n single points has explanations of total length n^2)
    # (what each stops: as the search found it, else tried on the circuit)
    claims = found.stopped or [circuit.stopped_by(circuit.dead_for(units)) for units in reported]
    examples = tuple(cite_in(context, stopping_counterexample(topology, evaluator, units, ID,
                                                              explain_at_most=None if i < EXPLAINED else 0,
                                                              claimed=claim))
                     for i, (units, claim) in enumerate(zip(reported, claims)))
    first = examples[0]
    if k == 1:
        points = [c.fields["failed"][0] for c in examples]
        what = f"single point{'s' if len(points) > 1 else ''} of failure: "
        message = what + "; ".join(
            f"'{c.fields['failed'][0]}' stops {quote(c.fields['stopped'])}" for c in examples
        )
    else:
        message = (f"failing {quote(first.fields['failed'])} ({found.smallest} hosts) stops "
                   f"{quote(first.fields['stopped'])}")
    unit = found.sets[0][0]
    yield Result(ID, Status.REFUTED, SEVERITY, message, unit_location(topology, unit) or request.span,
                 found.method, examples, margin=found.smallest,
                 hint="add redundancy on a separate host for what the counterexample names", extra=extra)
