"""Small real sample data shipped with careplan.

``nanjing_xuanwu``: central Nanjing around Xinjiekou (parts of Xuanwu, Qinhuai and
Gulou districts), built from a real OpenStreetMap extract (Overpass, 2021-06-12) by
``examples/build_sample.py``. Residential areas come from OSM landuse polygons and
street blocks; households are *estimated* from building footprints; the elderly-care
facilities are *illustrative* (OSM has none there). See ``README.md`` in this folder.

Data © OpenStreetMap contributors, available under the Open Database Licence (ODbL 1.0).

Examples
--------
>>> import careplan as cp
>>> s = cp.datasets.load_sample()
>>> s.areas.crs.to_epsg()
32650
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

__all__ = ["Sample", "available", "load_sample", "path"]

_HERE = Path(__file__).resolve().parent

_SAMPLES: dict[str, dict[str, str]] = {
    "nanjing_xuanwu": {
        "gpkg": "sample.gpkg",
        "network": "nanjing_xuanwu.osm.bz2",
        "attribution": "© OpenStreetMap contributors (ODbL 1.0); households estimated and "
        "facilities illustrative (careplan sample)",
        "description": (
            "Central Nanjing around Xinjiekou (parts of Xuanwu, Qinhuai and Gulou districts), "
            "about 4 x 3.2 km, from OpenStreetMap (Overpass, 2021-06-12). Residential areas: "
            "OSM landuse=residential polygons plus street blocks with residential-like "
            "buildings. Households are estimated from building footprints "
            "(careplan.estimate_households defaults), elderly = 0.47 x households (assumed), "
            "built='new' where >= half the residential floor area is in buildings of >= 10 "
            "levels. Facilities are ILLUSTRATIVE (placed at real OSM features, sizes assumed; "
            "OSM has no elderly-care POIs here). Candidates: non-residential buildings. "
            "Network: the original OSM file."
        ),
    },
}


@dataclass(frozen=True)
class Sample:
    """A bundled sample: validated, projected layers plus the street network file.

    Attributes
    ----------
    name : str
        Sample name (see :func:`available`).
    areas, facilities, candidates : GeoDataFrame
        Read through :func:`careplan.read_areas`, :func:`careplan.read_facilities`,
        :func:`careplan.read_candidates`, so validated and in a projected CRS.
    network_path : Path
        OSM file (``.osm.bz2``) for :meth:`careplan.WalkNetwork.from_file`.
    attribution : str
        Text to show with any map or table made from the sample.
    description : str
        How the sample was made and what is assumed.
    """

    name: str
    areas: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    network_path: Path
    attribution: str
    description: str


def available() -> list[str]:
    """Names of the bundled samples."""
    return sorted(_SAMPLES)


def _entry(name: str) -> dict[str, str]:
    if name not in _SAMPLES:
        from careplan._errors import InputError

        raise InputError(f"unknown sample {name!r}; available: {', '.join(available())}.")
    return _SAMPLES[name]


def path(name: str = "nanjing_xuanwu") -> Path:
    """Path of the sample's GeoPackage (layers ``areas``, ``facilities``, ``candidates``)."""
    return _HERE / _entry(name)["gpkg"]


def network_path(name: str = "nanjing_xuanwu") -> Path:
    """Path of the sample's OSM network file (``.osm.bz2``)."""
    return _HERE / _entry(name)["network"]


def load_sample(name: str = "nanjing_xuanwu") -> Sample:
    """Load a bundled sample.

    Parameters
    ----------
    name : str
        One of :func:`available`.

    Returns
    -------
    Sample
        Frozen dataclass with ``areas``, ``facilities``, ``candidates`` (validated
        GeoDataFrames in the sample's projected CRS), ``network_path``, ``name``,
        ``attribution`` and ``description``.
    """
    from careplan.data import read_areas, read_candidates, read_facilities

    entry = _entry(name)
    gpkg = path(name)
    return Sample(
        name=name,
        areas=read_areas(gpkg, layer="areas"),
        facilities=read_facilities(gpkg, layer="facilities"),
        candidates=read_candidates(gpkg, layer="candidates"),
        network_path=network_path(name),
        attribution=entry["attribution"],
        description=entry["description"],
    )
