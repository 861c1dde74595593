"""courses.graph: one topological order, layering and cycle rule for every user."""

import pytest

from courses.graph import (
    GraphCycleError,
    cycle_find,
    requires_path,
    topological_layers,
    topological_order,
)

DIAMOND = {"top": {"left", "right"}, "left": {"bottom"}, "right": {"bottom"}}


def test_prerequisites_come_first_in_layers_with_ties_by_key():
    assert topological_layers(DIAMOND) == [["bottom"], ["left", "right"], ["top"]]
    assert topological_order(DIAMOND, key=lambda node: -len(node)) == [
        "bottom",
        "right",
        "left",
        "top",
    ]


def test_a_node_named_only_as_a_prerequisite_is_a_node():
    assert topological_order({2: {1}}) == [1, 2]


def test_strict_ordering_names_the_cycle():
    with pytest.raises(GraphCycleError, match="a requires b requires c requires a") as caught:
        topological_order({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}, strict=True)
    assert caught.value.cycle == ["a", "b", "c", "a"]


def test_a_cycle_is_broken_where_it_blocks_and_every_node_is_placed_once():
    order = topological_order({1: {3}, 2: {1}, 3: {2}, 4: set()})
    assert order == [4, 1, 2, 3]


def test_cycle_find_and_paths():
    assert cycle_find(DIAMOND) is None
    assert cycle_find({1: {1}}) == [1, 1]
    assert requires_path(DIAMOND, "top", "bottom") in (
        ["top", "left", "bottom"],
        ["top", "right", "bottom"],
    )
    assert requires_path(DIAMOND, "bottom", "top") is None
