"""Depth-first post-order, iteratively: what the engines use to lay out the parts of
a topology they evaluate so that a node comes after the nodes it reads."""

from __future__ import annotations

from typing import Callable, Hashable, Iterable, Iterator, TypeVar

N = TypeVar("N", bound=Hashable)


def postorder(starts: Iterable[N], successors: Callable[[N], Iterable[N]], seen: set) -> Iterator[N]:
    """Every node reachable from ``starts`` and not in ``seen``, each after the nodes it
    reaches (but on cycles), adding them to ``seen``: a caller walking several
    starting sets one after the other shares ``seen`` between the walks. No recursion,
    so a chain of any length is walked."""
    for start in starts:
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(successors(start)))]
        while stack:
            node, rest = stack[-1]
            for m in rest:
                if m not in seen:
                    seen.add(m)
                    stack.append((m, iter(successors(m))))
                    break
            else:
                stack.pop()
                yield node
