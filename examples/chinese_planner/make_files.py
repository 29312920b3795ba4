"""Make the planner's folder of Chinese files from the bundled Nanjing sample.

Writes, next to this script, what a district planning office typically hands over:

* ``小区.csv``: residential areas (estates) as points, **GBK**-encoded (what Excel saves
  as "CSV" on a Chinese Windows), Chinese headers (小区编号, 小区名称, 户数, 老年人口,
  类型, 经度, 纬度), ids with leading zeros ("001"), new/old as 新建/老旧小区;
* ``养老设施.xlsx``: existing facilities in a workbook whose first sheet is a cover page
  (说明) and whose second (设施) lists them with Chinese headers (设施编号, 名称, 设施类型,
  建筑面积, 床位数, 护理型床位, 所属街道, 经度, 纬度) and Chinese level names
  (区域养老服务中心, 街道综合养老服务中心, 社区养老服务站, 护理院, 长者饭堂, 其他);
* ``候选点.csv``: candidate sites, GBK, Chinese headers (候选点编号, 名称, 可用面积, 经度, 纬度).

All coordinates are **GCJ-02** (as copied from Amap/Gaode), converted from the
sample's WGS84 with :func:`careplan._crs.wgs84_to_gcj02`. The values are the sample's
(derived from OpenStreetMap, © OpenStreetMap contributors, ODbL; facilities are
illustrative): no personal data. ``plan.toml`` plans them with ``careplan plan``.

Run: ``python examples/chinese_planner/make_files.py`` (deterministic).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

import careplan as cp
from careplan._crs import wgs84_to_gcj02

HERE = Path(__file__).resolve().parent

LEVEL_NAMES = {"district": "区域养老服务中心", "street": "街道综合养老服务中心",
               "community": "社区养老服务站", "institution": "护理院", "canteen": "长者饭堂",
               "other": "其他"}
"""Chinese level names written for each careplan level (the sample's day-care centre has
level 'other', so it is written 其他; 日间照料中心 would read as 'community')."""

BUILT_NAMES = {"new": "新建", "existing": "老旧小区"}


def _gcj(gdf) -> tuple[pd.Series, pd.Series]:
    pts = gdf.geometry.representative_point().to_crs(4326)
    lon, lat = wgs84_to_gcj02(pts.x.to_numpy(), pts.y.to_numpy())
    return pd.Series(lon, index=gdf.index).round(7), pd.Series(lat, index=gdf.index).round(7)


def area_ids(sample_ids) -> dict[str, str]:
    """Sample area id -> the folder's id ('blk-01' -> '001')."""
    return {a: f"{i + 1:03d}" for i, a in enumerate(sample_ids)}


def make(out: Path = HERE) -> dict[str, Path]:
    """Write the three files into ``out``; return their paths."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        s = cp.datasets.load_sample()
    ids = area_ids(s.areas.index)
    a = s.areas
    lon, lat = _gcj(a)
    areas = pd.DataFrame({
        "小区编号": [ids[i] for i in a.index],
        "小区名称": [f"{i}号街坊" for i in range(1, len(a) + 1)],
        "户数": a["households"].to_numpy(),
        "老年人口": a["elderly"].to_numpy(),
        "类型": [BUILT_NAMES[b] for b in a["built"]],
        "经度": lon.to_numpy(), "纬度": lat.to_numpy(),
    })
    if "street" in a.columns:  # the bundled sample has none; a real list would have 所属街道
        areas.insert(5, "所属街道", a["street"].to_numpy())
    f = s.facilities
    lon, lat = _gcj(f)
    level = [LEVEL_NAMES[lv] for lv in f["level"]]
    facilities = pd.DataFrame({
        "设施编号": [f"{i + 1:04d}" for i in range(len(f))],
        "名称": [str(n).replace(" (illustrative)", "（示意）") for n in f["name"]],
        "设施类型": level,
        "建筑面积": f["floor_area_m2"].to_numpy(),
        "床位数": f["beds"].to_numpy(),
        "护理型床位": f["nursing_beds"].to_numpy(),
        "经度": lon.to_numpy(), "纬度": lat.to_numpy(),
    })
    c = s.candidates
    lon, lat = _gcj(c)
    candidates = pd.DataFrame({
        "候选点编号": [f"H{i + 1:03d}" for i in range(len(c))],
        "名称": [n if isinstance(n, str) else "" for n in c["name"]],
        "可用面积": c["max_floor_area_m2"].to_numpy(),
        "经度": lon.to_numpy(), "纬度": lat.to_numpy(),
    })
    paths = {"areas": out / "小区.csv", "facilities": out / "养老设施.xlsx",
             "candidates": out / "候选点.csv"}
    paths["areas"].write_bytes(areas.to_csv(index=False, lineterminator="\r\n").encode("gbk"))
    paths["candidates"].write_bytes(candidates.to_csv(index=False, lineterminator="\r\n").encode("gbk"))
    with pd.ExcelWriter(paths["facilities"], engine="openpyxl") as w:
        pd.DataFrame({"说明": ["玄武区养老服务设施一览表（示意数据，坐标为高德 GCJ-02）",
                              "数据来源：OpenStreetMap 贡献者（ODbL）"]}).to_excel(
            w, sheet_name="说明", index=False)
        facilities.to_excel(w, sheet_name="设施", index=False)
    return paths


if __name__ == "__main__":
    for kind, p in make().items():
        print(f"{kind}: {p}")
