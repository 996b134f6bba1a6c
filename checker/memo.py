"""Bounded memos: what was asked lately, for the facts that are cheap to work out again
and asked in runs (a component's packet ends, a rule side's sample points)."""

from __future__ import annotations

_MISSING = object()


class Recent:
    """A memo of what was asked lately: between ``size`` and ``2 * size`` entries.

    The per-component facts of the index (a component's packet ends, their keys,
    the index rows they read) are cheap to work out again and asked in runs (one
    component's requirements are compiled together, an application's components
    ask of each other); kept for every component they were 70 MB at 100k
    components, at the run's peak. Two generations: when the new one is full it
    becomes the old one and the oldest is dropped; a hit in the old one moves the
    entry back to the new one."""

    __slots__ = ("size", "new", "old")

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.new: dict = {}
        self.old: dict = {}

    def get(self, key, default=None):
        hit = self.new.get(key, _MISSING)
        if hit is _MISSING:
            hit = self.old.get(key, _MISSING)
            if hit is _MISSING:
                return default
            self.put(key, hit)
        return hit

    def put(self, key, value):
        new = self.new
        if len(new) >= self.size:
            self.old = new
            new = self.new = {}
        new[key] = value
        return value
