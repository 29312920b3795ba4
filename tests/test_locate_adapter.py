"""cost_from_frames (the spopt user's adapter) and the spopt result names, on real data."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from careplan._errors import CareplanWarning, CRSError, InputError
from careplan.locate import MaximalCovering, PMedian, cost_from_frames

SPOPT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "spopt_tests"


def _sf():
    if not SPOPT.is_dir():
        pytest.skip("../shared/data/spopt_tests is not available")
    d = pd.read_csv(SPOPT / "SF_demand_205_centroid_uniform_weight.csv", dtype={"NAME": str})
    s = pd.read_csv(SPOPT / "SF_store_site_16_longlat.csv")
    dem = gpd.GeoDataFrame(d[["NAME", "POP2000"]], geometry=gpd.points_from_xy(d["long"], d["lat"]),
                           crs=4326).set_index("NAME").to_crs(32610)
    fac = gpd.GeoDataFrame(s[["NAME"]], geometry=gpd.points_from_xy(s["long"], s["lat"]),
                           crs=4326).set_index("NAME").to_crs(32610)
    return dem, fac


def test_straight_lines_equal_scipy_cdist_and_warn():
    dem, fac = _sf()
    with pytest.warns(CareplanWarning, match="straight-line"):
        cost = cost_from_frames(dem, fac)
    ref = cdist(np.column_stack((dem.geometry.x, dem.geometry.y)), np.column_stack((fac.geometry.x, fac.geometry.y)))
    assert list(cost.index) == list(dem.index) and list(cost.columns) == list(fac.index)
    np.testing.assert_allclose(cost.to_numpy(), ref, rtol=1e-12)
    with pytest.warns(CareplanWarning):
        cut = cost_from_frames(dem, fac, cutoff_m=3000)
    assert np.array_equal(np.isinf(cut.to_numpy()), ref > 3000)
    # the table goes straight into a model, labels in and out
    res = PMedian(p=4).solve(cost, weights=dem["POP2000"])
    assert set(res.selected) <= set(fac.index) and list(res.assignment.index) == list(dem.index)


def test_network_costs_equal_the_networks_own_pairs(sample, sample_network):
    areas, cands = sample.areas, sample.candidates
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        cost = cost_from_frames(areas, cands, network=sample_network, cutoff_m=1000)
        od = sample_network.distances(areas, cands, cutoff_m=1000, verbose=False)
    assert cost.shape == (len(areas), len(cands))
    long = cost.stack()
    long = long[np.isfinite(long)]
    ref = od.set_index(["origin", "destination"])["distance_m"]
    pd.testing.assert_series_equal(long.sort_index(), ref.sort_index(), check_names=False, check_index_type=False)


def test_bad_inputs_are_careplan_errors(sample, sample_network):
    dem, fac = _sf()
    with pytest.raises(CRSError):
        cost_from_frames(dem.to_crs(4326), fac.to_crs(4326))
    with pytest.raises(CRSError):
        cost_from_frames(dem, fac.to_crs(3857))
    with pytest.raises(InputError, match="unique"):
        cost_from_frames(pd.concat([dem, dem.iloc[:1]]), fac)
    with pytest.raises(InputError, match="cutoff_m"):
        cost_from_frames(sample.areas, sample.candidates, network=sample_network)
    with pytest.raises(InputError, match="GeoDataFrame"):
        cost_from_frames(np.zeros((3, 2)), fac)


def test_spopt_published_perc_cov_and_mean_dist():
    """spopt's test suite: MCLP p=4, 5,000 m -> perc_cov 89.756 %; p-median p=4 -> mean_dist 2982.127."""
    if not SPOPT.is_dir():
        pytest.skip("../shared/data/spopt_tests is not available")
    t = pd.read_csv(SPOPT / "SF_network_distance_candidateStore_16_censusTract_205_new.csv",
                    dtype={"DestinationName": str})
    cost = t.pivot_table(index="DestinationName", columns="name", values="distance")
    w = t.groupby("DestinationName")["demand"].first().reindex(cost.index)
    mc = MaximalCovering(p=4, cutoff_m=5000).solve(cost, weights=w)
    assert 100 * mc.coverage_share() == pytest.approx(89.75609756097561, abs=1e-9)
    pm = PMedian(p=4).solve(cost, weights=w)
    assert pm.mean_cost() == pytest.approx(2982.1268579890657, rel=1e-9)
