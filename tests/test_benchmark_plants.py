"""Faults planted in the benchmark generator's large topologies are found, exactly.

The generator (``benchmarks/generate.py``) builds the files the benchmarks time;
these tests assert the verdicts on them, so a speed-up can never buy a wrong
answer on the very inputs it was measured on.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import generate  # noqa: E402
from checker.api import check_topology, load_text  # noqa: E402


def test_planted_port_forward_at_10k_is_the_one_exposed_web_server() -> None:
    text = generate(10_000, plant=("port-forward",))
    topology = load_text(text, "bench.topo").topology
    assert topology is not None and len(topology.components) == 10_002  # + the gateway, `internet users`
    (result,) = check_topology(topology, select=["private-web"])
    assert result.status.value == "refuted"
    (example,) = result.counterexamples
    fields = example.fields
    assert fields["component"] == "web-0-0"
    assert fields["path"] == ["internet", "gw-planted", "web-0-0"]
    packet = fields["packet"]
    assert (packet["dst"], packet["protocol"], packet["port"]) == ("192.0.2.22", "tcp", 2222)
    assert ipaddress.ip_address(packet["src"]).version == 4
    # web-0-0 listens only on its web port: the exposure is the forward to tcp/22
    assert not topology.components["web-0-0"].listen.contains("tcp", 22)


def test_unplanted_10k_file_keeps_its_web_servers_private() -> None:
    topology = load_text(generate(10_000), "bench.topo").topology
    (result,) = check_topology(topology, select=["private-web"])
    assert result.status.value == "proved", result.message
