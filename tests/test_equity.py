"""careplan.equity against hand values and the pairwise-difference definition of the Gini."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from careplan._errors import InputError
from careplan.equity import before_after, equity_by, gini, lorenz, palma, share_outside


def pairwise_gini(x, w):
    """Weighted Gini from its definition: sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean)."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    mean = (w * x).sum() / w.sum()
    return (w[:, None] * w[None, :] * np.abs(x[:, None] - x[None, :])).sum() / (2 * w.sum() ** 2 * mean)


def test_gini_hand_values():
    assert gini([1, 1, 1, 1]) == pytest.approx(0.0)
    # one of four holds everything: trapezoids give 1 - 1/4 = 0.75 (= (n - 1)/n)
    assert gini([0, 0, 0, 8]) == pytest.approx(0.75)
    # [1, 2, 3]: sum |xi - xj| = 8, / (2 * 9 * 2) = 2/9
    assert gini([3, 1, 2]) == pytest.approx(2 / 9)
    # a weight of 2 is two equal units
    assert gini([1, 5], [2, 1]) == pytest.approx(gini([1, 1, 5]))
    rng = np.random.default_rng(0)
    x, w = rng.gamma(2.0, size=40), rng.integers(1, 50, size=40)
    assert gini(x, w) == pytest.approx(pairwise_gini(x, w))


def test_lorenz_curve_hand():
    c = lorenz([3, 1], [1, 3])  # 3 people with 1, 1 person with 3: value 3 + 3 = 6
    assert c["population_share"].tolist() == pytest.approx([0, 0.75, 1])
    assert c["value_share"].tolist() == pytest.approx([0, 0.5, 1])
    assert lorenz([np.nan, 2, 2]).shape == (3, 2)  # NaN units (off the network) left out


def test_palma_hand():
    # ten people with 1..10: bottom 40 % hold 1+2+3+4 = 10, top 10 % hold 10 -> 1.0
    assert palma(np.arange(1, 11)) == pytest.approx(1.0)
    # equal values: 0.1 / 0.4
    assert palma([5] * 10) == pytest.approx(0.25)
    # five units of 2 people: the 0.4 and 0.9 cuts fall on unit boundaries / halves
    x = [0, 1, 2, 3, 4]
    v = np.cumsum([0, 0, 2, 4, 6, 8]) / 20  # value held at population 0, .2, ... 1
    bottom = np.interp(0.4, np.linspace(0, 1, 6), v)
    top = 1 - np.interp(0.9, np.linspace(0, 1, 6), v)
    assert palma(x, [2] * 5) == pytest.approx(top / bottom)
    assert palma([0, 0, 0, 0, 1]) == float("inf")


def test_share_outside_and_by_group():
    covered = pd.Series([True, False, True, False])
    assert share_outside(covered, [10, 30, 50, 10]) == pytest.approx(0.4)
    assert share_outside(covered) == pytest.approx(0.5)
    frame = pd.DataFrame({"street": ["s1", "s1", "s2", "s2"], "district": "d",
                          "elderly": [10, 30, 50, 10], "covered": covered,
                          "score": [1.0, 3.0, 2.0, 2.0]})
    before = frame.copy()
    out = equity_by(frame, value_col="score", weight_col="elderly", covered_col="covered", by="street")
    assert out.index.tolist() == ["s1", "s2"]
    assert out["share_outside"].tolist() == pytest.approx([0.75, 1 / 6])
    assert out.loc["s1", "gini"] == pytest.approx(pairwise_gini([1, 3], [10, 30]))
    assert out.loc["s2", "gini"] == pytest.approx(0.0)
    assert out["people"].tolist() == [40, 60]
    whole = equity_by(frame, covered_col="covered", weight_col="elderly")
    assert whole.loc["all", "share_outside"] == pytest.approx(0.4)
    two = equity_by(frame, value_col="score", by=["district", "street"])
    assert two.index.names == ["district", "street"]
    pd.testing.assert_frame_equal(frame, before)


def test_bad_inputs():
    with pytest.raises(InputError, match="length"):
        gini([1, 2], [1])
    with pytest.raises(InputError, match=">= 0"):
        gini([1, -2])
    with pytest.raises(InputError, match="every value is 0"):
        gini([0, 0])
    with pytest.raises(InputError, match="True/False"):
        share_outside([True, None])
    with pytest.raises(InputError, match="no column"):
        equity_by(pd.DataFrame({"a": [1]}), value_col="b")
    with pytest.raises(InputError, match="value_col"):
        equity_by(pd.DataFrame({"a": [1]}))


def test_before_after_from_plan_columns():
    areas = pd.DataFrame({"street": ["s1", "s1", "s2"], "elderly": [10, 30, 60],
                          "covered_before": [True, False, False], "covered_after": [True, True, False],
                          "provided_before_m2": [20.0, 0.0, 0.0], "provided_after_m2": [20.0, 60.0, 120.0]})
    out = before_after(areas)
    assert out.loc["all", "share_outside_before"] == pytest.approx(0.9)
    assert out.loc["all", "share_outside_after"] == pytest.approx(0.6)
    # after: every estate gets 2 m2 per person -> Gini 0; before: only 10 of 100 people have any
    assert out.loc["all", "gini_m2_per_person_after"] == pytest.approx(0.0)
    assert out.loc["all", "gini_m2_per_person_before"] == pytest.approx(
        pairwise_gini([2.0, 0.0, 0.0], [10, 30, 60]))
    by = before_after(areas, by="street")
    assert by["share_outside_after"].tolist() == pytest.approx([0.0, 1.0])
    with pytest.raises(InputError, match="covered_before"):
        before_after(areas.drop(columns="covered_before"))
