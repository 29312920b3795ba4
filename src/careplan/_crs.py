"""Coordinate helpers: Chinese offset coordinate systems and metric projection.

Web maps in mainland China publish coordinates in two *offset* systems:

* **GCJ-02** ("Mars coordinates"), used by Amap/Gaode, Tencent and Google Maps in China;
  a deliberately obfuscated, nonlinear offset of WGS84 of a few hundred metres.
* **BD-09**, used by Baidu Maps; a further offset of GCJ-02.

Neither is an EPSG CRS, so pyproj cannot convert them. This module implements
the widely published forward formulas (WGS84 -> GCJ-02 -> BD-09) and inverts
them numerically (fixed-point iteration), which recovers WGS84 to well under
one metre inside China. Points outside the usual China bounding box are
returned unchanged, as every GCJ-02 implementation does.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "COORD_SYSTEMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
"""Accepted values of the ``coord_system`` option of the readers."""

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0


def in_china(lon, lat) -> np.ndarray:
    """Return a boolean array: True where the point is inside the GCJ-02 box.

    The box (longitude 72.004-137.8347, latitude 0.8293-55.8271) is the one used by
    the common open implementations; outside it no offset is applied.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _transform_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Forward transform WGS84 -> GCJ-02 (degrees; arrays or scalars)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Forward transform GCJ-02 -> BD-09 (degrees)."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Forward transform WGS84 -> BD-09 (degrees)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(forward, lon, lat, *, tol_deg: float = 1e-10, max_iter: int = 50):
    """Solve forward(w) = (lon, lat) for w by fixed-point iteration.

    The offsets vary slowly (their derivative is ~1e-5), so each step gains
    about five decimal digits; two or three steps reach 1e-10 degrees.
    """
    tlon = np.asarray(lon, dtype=float)
    tlat = np.asarray(lat, dtype=float)
    wlon, wlat = tlon.copy(), tlat.copy()
    for _ in range(max_iter):
        flon, flat = forward(wlon, wlat)
        dlon, dlat = flon - tlon, flat - tlat
        wlon = wlon - dlon
        wlat = wlat - dlat
        if np.all(np.abs(dlon[np.isfinite(dlon)]) < tol_deg) and np.all(
            np.abs(dlat[np.isfinite(dlat)]) < tol_deg
        ):
            break
    return wlon, wlat


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Inverse transform GCJ-02 -> WGS84 (iterative; error far below 1 m in China)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Inverse transform BD-09 -> GCJ-02 (iterative)."""
    return _invert(gcj02_to_bd09, lon, lat)


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Inverse transform BD-09 -> WGS84 (iterative)."""
    return _invert(wgs84_to_bd09, lon, lat)


def to_wgs84(lon, lat, coord_system: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert longitude/latitude in ``coord_system`` ('wgs84', 'gcj02', 'bd09') to WGS84."""
    if coord_system == "wgs84":
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if coord_system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if coord_system == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"coord_system must be one of {COORD_SYSTEMS}, got {coord_system!r}")
