"""Availability figures as numbers and text: exact fractions in, never rounded
toward the answer the user wants (STYLE.md).

A percentage is printed rounded down (an upper bound rounded up), with at least
four significant digits of the unavailability, and with more digits where fewer
would put it on the other side of the target. JSON numbers are the nearest
floats, moved by less than one unit in the last place where needed to stay on
the right side of the target's float.
"""

from __future__ import annotations

import math
from fractions import Fraction


def float_up(value: Fraction) -> float:
    """The smallest float not below ``value``."""
    f = float(value)
    if Fraction(f) < value:
        f = math.nextafter(f, math.inf)
    return f


def json_availability(value: Fraction, target: Fraction) -> float:
    """``value`` as a JSON number (the nearest float), moved by less than one unit
    in the last place where needed to stay on the same side of ``float(target)``
    as the exact value is of the target."""
    shown = float(value)
    mark = float(target)
    if value >= target and shown < mark:
        shown = mark
    elif value < target and shown >= mark:
        shown = math.nextafter(mark, -math.inf)
    return shown


def given_percent(value: Fraction) -> str:
    """A percentage the user wrote (``target=99.95``), as written: its exact decimal
    digits when it has finitely many, else :func:`percent`.

    >>> given_percent(Fraction(1999, 2000))
    '99.95%'
    """
    scaled = value * 100
    for decimals in range(0, 19):
        whole = scaled * 10 ** decimals
        if whole.denominator == 1:
            digits = str(whole.numerator).rjust(decimals + 1, "0")
            return (f"{digits[:-decimals]}.{digits[-decimals:]}" if decimals else digits) + "%"
    return percent(value)


def percent(value: Fraction, target: Fraction | None = None, up: bool = False, limit: int = 40) -> str:
    """``value`` (a fraction of one) as a percentage with at least four significant
    digits of ``1 - value``, rounded down (``up``: rounded up, for upper bounds),
    with more digits when fewer would put it on the other side of ``target``.

    >>> percent(Fraction(9999879, 10000000))
    '99.998790%'
    >>> percent(Fraction(19991, 20000))
    '99.95500%'
    >>> percent(Fraction(999500002, 10**9), Fraction(999500001, 10**9))
    '99.9500002%'
    """
    if value >= 1:
        return "100%"
    if value <= 0:
        return "0%"
    missing = (1 - value) * 100
    first = 0  # decimals before the first significant digit of 1 - value (in percent), up to the limit
    while first < limit and missing * 10 ** first < 1:  # (a service that stops only when 1,500
        first += 1  # regions fail has 7,500 of them: printed as the limit's nines, rounded down)
    decimals = min(max(2, first + 3), limit)
    while True:
        scaled = value * 100 * 10 ** decimals
        whole = math.ceil(scaled) if up else math.floor(scaled)
        shown = Fraction(whole, 100 * 10 ** decimals)
        crosses = target is not None and ((value >= target) != (shown >= target))
        if not crosses or decimals >= limit:
            break
        decimals += 1
    text = f"{whole // 10 ** decimals}.{whole % 10 ** decimals:0{decimals}d}"
    return f"{text}%"
