"""The port-set algebra against sets of ports, by brute force on a small range."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.net import PortRange, PortSet

_PROTOCOLS = ("tcp", "udp")
_ranges = st.lists(st.tuples(st.sampled_from(_PROTOCOLS), st.integers(0, 40), st.integers(0, 12)), max_size=4)


def _set(ranges) -> PortSet:
    return PortSet.of(PortRange(p, low, low + width) for p, low, width in ranges)


def _ports(ports: PortSet) -> set[tuple[str, int]]:
    return {(r.protocol, port) for r in ports.ranges for port in range(r.low, r.high + 1)}


@settings(max_examples=300)
@given(_ranges, _ranges)
def test_meet_is_the_common_ports_and_one_of_the_two_when_it_equals_it(a_ranges, b_ranges) -> None:
    a, b = _set(a_ranges), _set(b_ranges)
    met = a & b
    assert _ports(met) == _ports(a) & _ports(b)
    assert met == PortSet.of(met.ranges)  # normalised
    if _ports(met) == _ports(b):
        assert met is b
    elif _ports(met) == _ports(a):
        assert met is a
    assert _ports(a - b) == _ports(a) - _ports(b)
    assert _ports(a | b) == _ports(a) | _ports(b)


def test_a_set_met_with_itself_is_itself() -> None:
    ports = PortSet.single("tcp", 443)
    assert ports & ports is ports
    assert (PortSet.single("tcp", 0, 65535) & ports) is ports
