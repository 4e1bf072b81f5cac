"""Shapley attribution (orchestration/lib/shapley.py) against a three-channel example worked by hand from the
formula of docs/attribution.md.

Paths (distinct channel set: conversions / paths): {A} 2/10, {B} 1/10, {A,B} 5/10, {A,C} 3/10, {B,C} 2/10,
{A,B,C} 6/10; no path has {C} alone, so v(C) = 0. For S = {A,B,C} the weights are 1/3 (|T| = 0), 1/6 (|T| = 1),
1/3 (|T| = 2):
  φ_A = 0.2/3 + (0.5−0.1)/6 + (0.3−0)/6 + (0.6−0.2)/3 = 0.316667
  φ_B = 0.1/3 + (0.5−0.2)/6 + (0.2−0)/6 + (0.6−0.3)/3 = 0.216667
  φ_C = 0/3   + (0.3−0.2)/6 + (0.2−0.1)/6 + (0.6−0.5)/3 = 0.066667
Σφ = 0.6 = v(ABC) (efficiency); shares 19/36, 13/36, 4/36.
"""

import pytest

from orchestration.lib.shapley import Coalitions, shapley_values, shapley_weights

PATHS = [
    (["A"], 2, 8),
    (["B"], 1, 9),
    (["A", "B"], 5, 5),
    (["A", "C"], 3, 7),
    (["B", "A", "C"], 2, 3),
    (["C", "B"], 2, 8),
    (["A", "B", "C"], 4, 1),
]  # {A,B,C} given as two path orders: 6 of 10


def test_hand_worked_three_channel_example():
    phi = shapley_values(["A", "B", "C"], Coalitions(PATHS))
    assert phi == pytest.approx({"A": 0.316667, "B": 0.216667, "C": 0.066667}, abs=1e-6)
    assert sum(phi.values()) == pytest.approx(0.6)
    weights = shapley_weights(PATHS).weights[frozenset("ABC")]
    assert weights == pytest.approx({"A": 19 / 36, "B": 13 / 36, "C": 4 / 36})


def test_two_channel_sets_and_singletons():
    weights = shapley_weights(PATHS).weights
    # S = {A,B}: φ_A = ½·0.2 + ½·(0.5−0.1) = 0.3, φ_B = ½·0.1 + ½·(0.5−0.2) = 0.2
    assert weights[frozenset("AB")] == pytest.approx({"A": 0.6, "B": 0.4})
    assert weights[frozenset("A")] == {"A": 1.0}


def test_negative_values_count_as_zero_and_symmetric_channels_split_evenly():
    # B alone converts better than A and B together: φ_A < 0 is set to 0
    paths = [(["A"], 0, 10), (["B"], 5, 5), (["A", "B"], 2, 8)]
    assert shapley_weights(paths).weights[frozenset("AB")] == {"A": 0.0, "B": 1.0}
    assert shapley_weights([(["A", "B"], 1, 0), (["A"], 0, 0)]).weights[frozenset("AB")] == pytest.approx(
        {"A": 0.5, "B": 0.5}
    )
    assert shapley_weights([(["A", "B"], 0, 4)]).weights == {}  # only converting sets are credited


def test_sets_above_the_cap_fall_back_and_are_counted():
    channels = [f"c{i}" for i in range(5)]
    result = shapley_weights([(channels, 3, 1), (channels[:2], 1, 1)], max_channels=4)
    assert result.weights[frozenset(channels)] is None
    assert result.capped_sets == 1 and result.capped_conversions == 3
    assert result.weights[frozenset(channels[:2])] is not None
