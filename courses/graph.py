"""Prerequisite graphs without Django: topological order, layers and cycle naming.

A graph maps each node (a skill id, or the demo's skill keys) to the nodes it requires; a node
named only as a prerequisite is a node too. Every user orders a graph through here, with one
rule for ties (the caller's ``key``, else the nodes' own order) and one for cycles:

- ``strict=True`` raises `GraphCycleError`, which names one cycle ("a requires b requires a").
  Authored content that must be a DAG uses it (the demo course's definition).
- By default a cycle, which the authoring services never store, is broken where it blocks, so
  that a page or a planner given bad data still terminates: when no node is ready, the first
  blocked node (by ``key``) is taken with its unmet prerequisites ignored, and the rest goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

N = TypeVar("N", bound=Hashable)


class GraphCycleError(ValueError):
    """The graph has a cycle; ``cycle`` lists it from a node back to the same node."""

    def __init__(self, cycle: list[Any]) -> None:
        self.cycle = cycle
        super().__init__(
            "The prerequisite graph has a cycle: " + " requires ".join(map(str, cycle)) + "."
        )


def graph_normalised(graph: Mapping[N, Iterable[N]]) -> dict[N, set[N]]:
    """A copy with a (possibly empty) entry for every node, prerequisites-only ones included."""
    normalised: dict[N, set[N]] = {node: set(requires) for node, requires in graph.items()}
    for requires in list(normalised.values()):
        for node in requires:
            normalised.setdefault(node, set())
    return normalised


def cycle_find(graph: Mapping[N, Iterable[N]]) -> list[N] | None:
    """One cycle of the graph as [a, b, ..., a] (a requires b ...), or None when it is a DAG."""
    normalised = graph_normalised(graph)
    done: set[N] = set()
    for root in normalised:
        if root in done:
            continue
        # Iterative depth-first search; `trail` is the current path from the root.
        trail: list[N] = [root]
        on_trail = {root}
        stack = [iter(normalised[root])]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                finished = trail.pop()
                on_trail.discard(finished)
                done.add(finished)
                continue
            if following in on_trail:
                return [*trail[trail.index(following) :], following]
            if following not in done:
                trail.append(following)
                on_trail.add(following)
                stack.append(iter(normalised[following]))
    return None


def requires_path(graph: Mapping[N, Iterable[N]], start: N, goal: N) -> list[N] | None:
    """Nodes from ``start`` to ``goal`` following "requires" edges, or None if none leads there."""
    normalised = graph_normalised(graph)
    previous: dict[N, N | None] = {start: None}
    frontier = [start]
    while frontier:
        following: list[N] = []
        for node in frontier:
            if node == goal:
                path = [node]
                while (before := previous[path[-1]]) is not None:
                    path.append(before)
                return path[::-1]
            for required in normalised.get(node, ()):
                if required not in previous:
                    previous[required] = node
                    following.append(required)
        frontier = following
    return None


def topological_layers(
    graph: Mapping[N, Iterable[N]],
    *,
    key: Callable[[N], Any] | None = None,
    strict: bool = False,
) -> list[list[N]]:
    """Layers of nodes: layer 0 requires nothing, each node's prerequisites in earlier layers.

    Within a layer, nodes are sorted by ``key`` (else by themselves). See the module for cycles.
    """
    remaining = graph_normalised(graph)
    order_key: Callable[[N], Any] = key if key is not None else (lambda node: node)
    placed: set[N] = set()
    layers: list[list[N]] = []
    while remaining:
        ready = sorted(
            (node for node, requires in remaining.items() if requires <= placed), key=order_key
        )
        if not ready:
            if strict:
                cycle = cycle_find(remaining)
                raise GraphCycleError(cycle or sorted(remaining, key=order_key))
            ready = [min(remaining, key=order_key)]
        for node in ready:
            del remaining[node]
        placed.update(ready)
        layers.append(ready)
    return layers


def topological_order(
    graph: Mapping[N, Iterable[N]],
    *,
    key: Callable[[N], Any] | None = None,
    strict: bool = False,
) -> list[N]:
    """Every node after all its prerequisites: the layers, one after the other."""
    return [node for layer in topological_layers(graph, key=key, strict=strict) for node in layer]
