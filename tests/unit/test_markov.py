"""Markov removal effects (orchestration/lib/markov.py): the published three-path example, exactly, and a larger
random set against the `ChannelAttribution` package (GPL, a test-only oracle from the package index) whose
simulation must agree within its own noise."""

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.markov import collapse, removal_effects


def test_published_example():
    result = removal_effects([(["C1", "C2", "C3"], 1, 0), (["C1"], 0, 1), (["C2", "C3"], 0, 1)])
    assert result.conversion_probability == pytest.approx(1 / 3, abs=1e-12)
    assert result.removal_effects == pytest.approx({"C1": 0.5, "C2": 1.0, "C3": 1.0}, abs=1e-12)
    assert result.weights(["C1", "C2", "C3"]) == pytest.approx({"C1": 0.2, "C2": 0.4, "C3": 0.4}, abs=1e-12)


def test_repeats_collapse_and_zero_effects_fall_back_to_linear():
    assert collapse(["a", "a", "b", "a", "a"]) == ["a", "b", "a"]
    same = removal_effects([(["a", "a", "b"], 1, 0)])
    assert same.removal_effects == pytest.approx(removal_effects([(["a", "b"], 1, 0)]).removal_effects)
    nothing_converts = removal_effects([(["a", "b"], 0, 3)])
    assert nothing_converts.conversion_probability == 0 and nothing_converts.weights(["a", "b"]) is None


def test_a_channel_only_on_non_converting_paths_has_no_effect():
    result = removal_effects([(["a"], 2, 1), (["b"], 0, 5)])
    assert result.removal_effects["b"] == 0 and result.removal_effects["a"] == pytest.approx(1.0)


def random_paths(seed: int, n: int = 400) -> list[tuple[list[str], int, int]]:
    rng = np.random.default_rng(seed)
    channels = ["direct", "email", "organic_search", "paid_search", "paid_social", "display"]
    lift = {
        "email": 0.10,
        "paid_search": 0.15,
        "organic_search": 0.05,
        "display": 0.02,
        "paid_social": 0.04,
        "direct": 0.08,
    }
    paths = []
    for _ in range(n):
        seq = list(rng.choice(channels, size=rng.integers(1, 7), p=[0.25, 0.2, 0.2, 0.15, 0.1, 0.1]))
        rate = min(0.9, 0.02 + sum(lift[c] for c in set(seq)))
        visits = int(rng.integers(1, 40))
        conv = int(rng.binomial(visits, rate))
        paths.append((seq, conv, visits - conv))
    return paths


def test_agrees_with_channelattribution_on_a_larger_set():
    import ChannelAttribution as ca  # the [test] extra installs it (`make test`)

    paths = random_paths(7)
    result = removal_effects(paths)
    data = pd.DataFrame(
        {
            "path": [">".join(seq) for seq, _, _ in paths],
            "conv": [c for _, c, _ in paths],
            "null": [n for _, _, n in paths],
        }
    )
    # its simulation stops at max_step steps per path: raised so that the long random walks finish
    oracle = ca.markov_model(
        data,
        "path",
        "conv",
        var_null="null",
        out_more=True,
        verbose=False,
        flg_pro=False,
        max_step=1000,
        nsim_start=3e5,
        conv_par=0.005,
        seed=1,
    )
    theirs = dict(
        zip(oracle["removal_effects"]["channel_name"], oracle["removal_effects"]["removal_effect"], strict=True)
    )
    assert set(theirs) == set(result.removal_effects)
    for channel, effect in result.removal_effects.items():
        assert theirs[channel] == pytest.approx(effect, abs=0.01), channel
    credited = dict(zip(oracle["result"]["channel_name"], oracle["result"]["total_conversions"], strict=True))
    total = sum(c for _, c, _ in paths)
    ours = {c: e / sum(result.removal_effects.values()) * total for c, e in result.removal_effects.items()}
    for channel in ours:
        assert credited[channel] == pytest.approx(ours[channel], rel=0.02), channel
