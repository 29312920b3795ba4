"""CoverageResult.equity against hand computations (issue 13.4)."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from careplan._errors import InputError
from careplan.coverage import coverage_from_distances, walk_coverage
from careplan.network import WalkNetwork

CRS = "EPSG:32651"


def four_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area_id": ["a", "b", "c", "d"], "households": [25, 50, 75, 100], "elderly": [10, 20, 30, 40],
         "street": ["S1", "S1", "S2", "S2"], "district": "D"},
        geometry=[Point(k * 100.0, 0) for k in range(4)], crs=CRS, index=["a", "b", "c", "d"])


def hand_pairs() -> pd.DataFrame:
    # a: nothing; b: F (300 m); c: F (200 m); d: F (100 m) and G (250 m); one pair beyond the circle
    return pd.DataFrame({"origin": ["b", "c", "d", "d", "a"], "destination": ["F", "F", "F", "G", "G"],
                         "distance_m": [300.0, 200.0, 100.0, 250.0, 950.0]})


def test_equity_by_street_and_district_by_hand():
    cov = coverage_from_distances(four_areas(), hand_pairs(), cutoff_m=500)
    assert cov.areas["n_within"].tolist() == [0, 1, 1, 2]
    assert cov.areas["street"].tolist() == ["S1", "S1", "S2", "S2"]
    eq = cov.equity()
    assert eq[["level", "group"]].values.tolist() == [["all", "all"], ["street", "S1"], ["street", "S2"],
                                                       ["district", "D"]]
    assert eq.attrs == {"value": "n_within", "weight": "elderly"}
    rows = eq.set_index(["level", "group"])
    # share of elderly outside: a's 10 of 100; S1: 10 of 30; S2: none
    assert rows.loc[("all", "all"), "share_outside"] == pytest.approx(0.1)
    assert rows.loc[("street", "S1"), "share_outside"] == pytest.approx(1 / 3)
    assert rows.loc[("street", "S2"), "share_outside"] == 0.0
    # Gini = sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean), x = n_within, w = elderly:
    # all: 2 * (10*20*1 + 10*30*1 + 10*40*2 + 20*40*1 + 30*40*1) / (2 * 100^2 * 1.3) = 33/130
    assert rows.loc[("all", "all"), "gini"] == pytest.approx(33 / 130)
    assert rows.loc[("street", "S1"), "gini"] == pytest.approx(400 / 1200)  # mean 2/3
    assert rows.loc[("street", "S2"), "gini"] == pytest.approx(2400 / 15400)  # mean 11/7
    assert rows.loc[("district", "D"), "gini"] == pytest.approx(33 / 130)
    # Palma: Lorenz (0,0) (.1,0) (.3,20/130) (.6,50/130) (1,1): bottom 40% hold 30/130, top 10% 20/130
    assert rows.loc[("all", "all"), "palma"] == pytest.approx(2 / 3)
    assert rows.loc[("all", "all"), "value_mean"] == pytest.approx(1.3)
    assert rows["units"].tolist() == [4, 2, 2, 4] and rows["people"].tolist() == [100, 30, 70, 100]


def test_equity_of_another_value_and_weight():
    cov = coverage_from_distances(four_areas(), hand_pairs(), cutoff_m=500)
    score = pd.Series([np.nan, 1.0, 1.0, 3.0], index=["a", "b", "c", "d"], name="2sfca")
    eq = cov.equity(score, weight_col="households", by="street").set_index(["level", "group"])
    # a (NaN) is left out of the value measures, not of the share outside (25 of 250 households)
    assert eq.loc[("all", "all"), "share_outside"] == pytest.approx(0.1)
    # b, c, d: x = 1, 1, 3 with w = 50, 75, 100: mean = 425/225; Gini = 2*(50*100*2 + 75*100*2)/(2*225^2*mean)
    mean = 425 / 225
    assert eq.loc[("all", "all"), "value_mean"] == pytest.approx(mean)
    assert eq.loc[("all", "all"), "gini"] == pytest.approx(2 * (50 * 100 * 2 + 75 * 100 * 2) / (2 * 225**2 * mean))
    assert eq.loc[("street", "S1"), "gini"] == 0.0  # b alone holds S1's value
    assert list(eq.index.get_level_values(0)) == ["all", "street", "street"]
    nobody = coverage_from_distances(four_areas(), hand_pairs().iloc[:0], cutoff_m=500).equity()
    assert nobody["gini"].isna().all() and nobody["share_outside"].tolist() == [1.0] * 4
    with pytest.raises(InputError, match="no entry for areas"):
        cov.equity(score.iloc[1:])
    with pytest.raises(InputError, match="no column"):
        cov.equity("beds")
    with pytest.raises(InputError, match="no column"):
        cov.equity(by="town")


def test_walk_coverage_carries_the_groups_and_counts_off_network_areas_outside():
    G = nx.Graph(crs=CRS)
    G.add_node(0, x=0, y=0)
    G.add_node(1, x=1000, y=0)
    G.add_edge(0, 1, length=1000.0)
    net = WalkNetwork.from_graph(G)
    areas = four_areas()
    areas.loc["d", "geometry"] = Point(400, 5000)  # far from every street
    facs = gpd.GeoDataFrame({"level": ["community"]}, geometry=[Point(150, 0)], crs=CRS, index=["F"])
    with pytest.warns(Warning):
        cov = walk_coverage(net, areas, facs, cutoff_m=120)
    eq = cov.equity().set_index(["level", "group"])
    # covered: b and c (50 m); a (150 m > 120) not; d off the network: outside
    assert cov.areas["covered"].tolist() == [False, True, True, False]
    assert cov.unreachable_areas == ["d"]
    assert eq.loc[("all", "all"), "share_outside"] == pytest.approx(50 / 100)
    assert eq.loc[("street", "S2"), "share_outside"] == pytest.approx(40 / 70)
    assert eq.loc[("district", "D"), "share_outside"] == pytest.approx(50 / 100)
