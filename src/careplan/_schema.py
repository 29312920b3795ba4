"""The one schema of careplan: column contracts, vocabularies and the CRS guard.

Every module reads its vocabularies and column names from here, and every
module that needs metres calls :func:`check_crs` (one guard, one message).
Nothing here imports another careplan module except :mod:`careplan._errors`,
so any layer may import it.

Contents
--------
* Vocabularies: :data:`FACILITY_LEVELS`, :data:`LEVEL_SYNONYMS`,
  :data:`BUILT_VALUES`, :data:`BUILT_SYNONYMS` and :func:`normalise_vocab`.
* Column contracts: :data:`CONTRACTS` (one :class:`Column` tuple per kind of
  input: areas, facilities, candidates, households) and
  :data:`HEADER_SYNONYMS` (common Chinese/English headers recognised by the
  readers without a ``columns=`` mapping).
* The CRS guard: :func:`check_crs`.
* Shared defaults: :data:`DEFAULT_WALK_SPEED_M_PER_MIN`,
  :data:`DEFAULT_SERVICE_CIRCLE_MINUTES`, :data:`DEFAULT_CIRCLE_LEVELS`,
  :data:`DEFAULT_FLOOR_AREA_LEVELS` (a loaded profile's values win) and
  :func:`walking_circle_m`, the one place minutes become metres.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from careplan._errors import CRSError, InputError

__all__ = [
    "BUILT_SYNONYMS",
    "BUILT_VALUES",
    "CONTRACTS",
    "DEFAULT_CIRCLE_LEVELS",
    "DEFAULT_FLOOR_AREA_LEVELS",
    "DEFAULT_SERVICE_CIRCLE_MINUTES",
    "DEFAULT_WALK_SPEED_M_PER_MIN",
    "FACILITY_LEVELS",
    "HEADER_SYNONYMS",
    "LEVEL_SYNONYMS",
    "Column",
    "check_crs",
    "normalise_vocab",
    "walking_circle_m",
]

# ----------------------------------------------------------------------------- vocabularies
FACILITY_LEVELS: tuple[str, ...] = (
    "district",
    "street",
    "community",
    "institution",
    "canteen",
    "other",
)
"""Facility levels of the three-level network plus institutions and canteens.

* ``district`` - district (regional) comprehensive elderly-care service centre
  (区级养老服务中心 / 区域养老服务中心).
* ``street`` - street/town comprehensive home-care service centre
  (街道/乡镇 综合养老服务中心, 居家养老服务中心).
* ``community`` - community/village home-care service station (社区/村 养老服务站),
  day-care centre (日间照料中心).
* ``institution`` - residential care institution (养老机构, 养老院, 敬老院, 福利院, 护理院).
* ``canteen`` - elderly canteen / meal-assistance point (长者饭堂, 老年食堂, 助餐点).
* ``other`` - anything else (mixed use, ...).

Sources: the three-level network (district / street / community) of the Urumqi 2024
measures (二) and the provincial report 002_… (一); canteens: Jinwan 2020 task 9.
"""

LEVEL_SYNONYMS: dict[str, str] = {
    # district
    "district": "district",
    "district centre": "district",
    "district center": "district",
    "regional": "district",
    "regional centre": "district",
    "regional center": "district",
    "区级": "district",
    "区": "district",
    "区县级": "district",
    "区级中心": "district",
    "区域性": "district",
    "区域性养老服务中心": "district",
    "区域养老服务中心": "district",
    "区级养老服务中心": "district",
    "区级综合养老服务中心": "district",
    "区域性综合养老服务中心": "district",
    "县级养老服务中心": "district",
    # street / town
    "street": "street",
    "town": "street",
    "street centre": "street",
    "street center": "street",
    "town centre": "street",
    "town center": "street",
    "street/town centre": "street",
    "街道": "street",
    "乡镇": "street",
    "镇": "street",
    "街道级": "street",
    "镇级": "street",
    "乡镇级": "street",
    "街道中心": "street",
    "综合养老服务中心": "street",
    "居家养老服务中心": "street",
    "街道综合养老服务中心": "street",
    "乡镇综合养老服务中心": "street",
    "街道养老服务中心": "street",
    "乡镇养老服务中心": "street",
    "街道居家养老服务中心": "street",
    "镇居家养老服务中心": "street",
    "综合为老服务中心": "street",
    "社区综合为老服务中心": "street",
    # community / village
    "community": "community",
    "village": "community",
    "station": "community",
    "community station": "community",
    "day care": "community",
    "day-care centre": "community",
    "day care centre": "community",
    "day care center": "community",
    "社区": "community",
    "村": "community",
    "社区级": "community",
    "村级": "community",
    "居家养老服务站": "community",
    "养老服务站": "community",
    "服务站": "community",
    "社区养老服务站": "community",
    "社区居家养老服务站": "community",
    "村居家养老服务站": "community",
    "村级养老服务站": "community",
    "社区养老服务驿站": "community",
    "养老服务驿站": "community",
    "养老驿站": "community",
    "社区养老驿站": "community",
    "日间照料中心": "community",
    "社区日间照料中心": "community",
    "日间照料站": "community",
    "老年人日间照料中心": "community",
    "社区养老服务中心": "community",
    "农村幸福院": "community",
    "幸福院": "community",
    # institutions
    "institution": "institution",
    "nursing home": "institution",
    "care home": "institution",
    "机构": "institution",
    "养老机构": "institution",
    "养老院": "institution",
    "敬老院": "institution",
    "福利院": "institution",
    "社会福利院": "institution",
    "护理院": "institution",
    "老年公寓": "institution",
    "养护院": "institution",
    "养老护理院": "institution",
    "特困人员供养服务机构": "institution",
    "光荣院": "institution",
    # canteens
    "canteen": "canteen",
    "meal point": "canteen",
    "elderly canteen": "canteen",
    "长者饭堂": "canteen",
    "长者食堂": "canteen",
    "老年食堂": "canteen",
    "老年饭桌": "canteen",
    "助餐点": "canteen",
    "老年助餐点": "canteen",
    "助餐服务点": "canteen",
    "社区食堂": "canteen",
    # other
    "other": "other",
    "其他": "other",
    "其它": "other",
}
"""Accepted spellings of facility levels (case-insensitive, surrounding blanks ignored).

The Chinese names are those used by the seed documents (Jinwan 2020 tasks 3 and 9,
Urumqi 2024 (二), the provincial report 002_…) and by common facility registers
(驿站 in Beijing, 幸福院 in rural areas, 日间照料中心 as community-level day care).
"""

BUILT_VALUES: tuple[str, ...] = ("new", "existing")
"""Estate classes: newly built estates vs existing/old estates (different floor-area rates,
Jinwan 2020 task 5)."""

BUILT_SYNONYMS: dict[str, str] = {
    "new": "new",
    "新建": "new",
    "新区": "new",
    "新建小区": "new",
    "新建居住区": "new",
    "新": "new",
    "existing": "existing",
    "old": "existing",
    "既有": "existing",
    "老旧": "existing",
    "已建": "existing",
    "老旧小区": "existing",
    "已建成": "existing",
    "已建小区": "existing",
    "既有小区": "existing",
    "老城区": "existing",
    "旧": "existing",
}
"""Accepted spellings of ``built`` (case-insensitive)."""


def normalise_vocab(value: Any, synonyms: Mapping[str, str]) -> str | None:
    """Return the canonical vocabulary value of ``value``, or None when unknown/missing.

    Parameters
    ----------
    value : object
        A cell value (str; None/NaN are missing).
    synonyms : mapping of str to str
        e.g. :data:`LEVEL_SYNONYMS` or :data:`BUILT_SYNONYMS`.

    Returns
    -------
    str or None
        Case-insensitive, blank-trimmed look-up (full-width blanks included).
        An unknown value gives None (the caller says what is allowed); nothing is raised.
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    key = str(value).strip().replace("\u3000", " ").strip().lower()
    hit = synonyms.get(key)
    if hit is None:
        hit = {k.lower(): v for k, v in synonyms.items()}.get(key)
    return hit


# ----------------------------------------------------------------------------- column contracts
@dataclass(frozen=True)
class Column:
    """One column of an input contract.

    Attributes
    ----------
    name : str
        Canonical column name.
    dtype : str
        'str', 'int64', 'float64' or 'vocab' (a value of ``vocabulary``).
    required : bool
        Must be present after reading (readers may fill documented defaults).
    description : str
        Meaning and unit.
    vocabulary : tuple of str
        Allowed values when ``dtype == 'vocab'``.
    max_value : float or None
        Largest plausible value (numbers); larger values are refused as typos.
    """

    name: str
    dtype: str
    required: bool
    description: str
    vocabulary: tuple[str, ...] = ()
    max_value: float | None = None


# Plausibility bounds: a residential area (小区) with more than 10 million households or a
# facility with more than 10 km2 of floor space or a million beds is a typo or an overflow
# (the largest Chinese estates hold ~10^5 households; the largest care homes ~10^4 beds).
_MAX_COUNT = 1e7
_MAX_AREA_M2 = 1e7
_MAX_BEDS = 1e6

CONTRACTS: dict[str, tuple[Column, ...]] = {
    "areas": (
        Column("area_id", "str", True, "identifier (text, '007' stays '007')"),
        Column("households", "int64", True, "households (户), whole number >= 0", max_value=_MAX_COUNT),
        Column("elderly", "int64", False, "residents aged 60+ (60岁以上), whole number >= 0",
               max_value=_MAX_COUNT),
        Column("population", "int64", False, "residents, whole number >= 0", max_value=_MAX_COUNT),
        Column("built", "vocab", True, "'new' or 'existing' estate", vocabulary=BUILT_VALUES),
        Column("name", "str", False, "name (名称)"),
        Column("address", "str", False, "address (地址)"),
        Column("street", "str", False, "street / town (街道 / 乡镇)"),
        Column("district", "str", False, "district / county (区 / 县)"),
    ),
    "facilities": (
        Column("facility_id", "str", True, "identifier (text)"),
        Column("level", "vocab", True, "facility level", vocabulary=FACILITY_LEVELS),
        Column("floor_area_m2", "float64", True, "building floor area (建筑面积), m2",
               max_value=_MAX_AREA_M2),
        Column("beds", "int64", True, "beds (床位), 0 when absent", max_value=_MAX_BEDS),
        Column("nursing_beds", "int64", True, "nursing-type beds (护理型床位) <= beds",
               max_value=_MAX_BEDS),
        Column("area_id", "str", False, "area the facility belongs to"),
        Column("name", "str", False, "name (名称)"),
        Column("address", "str", False, "address (地址)"),
        Column("street", "str", False, "street / town (街道 / 乡镇)"),
        Column("district", "str", False, "district / county (区 / 县)"),
    ),
    "candidates": (
        Column("candidate_id", "str", True, "identifier (text)"),
        Column("max_floor_area_m2", "float64", False, "largest floor area the site can hold, m2",
               max_value=_MAX_AREA_M2),
        Column("name", "str", False, "name (名称)"),
        Column("address", "str", False, "address (地址)"),
        Column("street", "str", False, "street / town (街道 / 乡镇)"),
        Column("district", "str", False, "district / county (区 / 县)"),
    ),
    "households": (
        Column("household_id", "str", True, "identifier (text)"),
        Column("households", "int64", True, "households at the point, 1 when absent",
               max_value=_MAX_COUNT),
        Column("elderly", "int64", False, "residents aged 60+", max_value=_MAX_COUNT),
    ),
    "boundaries": (
        Column("boundary_id", "str", True, "identifier = the street/district name (text)"),
        Column("name", "str", True, "street / town (街道 / 镇) or district (区 / 县) name"),
        Column("level", "str", True, "'street' or 'district'"),
        Column("street", "str", False, "street / town name (街道 / 镇), the name of street polygons"),
        Column("district", "str", False, "district / county (区 / 县)"),
        Column("address", "str", False, "address (地址)"),
    ),
}
"""Column contract of each kind of input (what the readers return, what the rest of
careplan may rely on without re-checking)."""

_COMMON_HEADERS: dict[str, str] = {
    "名称": "name",
    "名字": "name",
    "地址": "address",
    "详细地址": "address",
    "所属街道": "street",
    "街道": "street",
    "乡镇": "street",
    "街道/乡镇": "street",
    "街道（乡镇）": "street",
    "街道(乡镇)": "street",
    "所属乡镇": "street",
    "镇街": "street",
    "所属区": "district",
    "区县": "district",
    "所属区县": "district",
    "区": "district",
    "行政区": "district",
    "所属行政区": "district",
}

HEADER_SYNONYMS: dict[str, dict[str, str]] = {
    "areas": {
        **_COMMON_HEADERS,
        "小区编号": "area_id", "小区id": "area_id", "编号": "area_id",
        "户数": "households", "住户数": "households", "总户数": "households",
        "老年人口": "elderly", "60岁以上人口": "elderly", "60岁及以上人口": "elderly",
        "老年人数": "elderly", "老人数": "elderly",
        "人口": "population", "常住人口": "population", "总人口": "population",
        "类型": "built", "小区类型": "built", "建成类型": "built", "新旧": "built",
        "小区名称": "name",
    },
    "facilities": {
        **_COMMON_HEADERS,
        "设施编号": "facility_id", "机构编号": "facility_id", "编号": "facility_id",
        "等级": "level", "类型": "level", "设施类型": "level", "设施等级": "level",
        "机构类型": "level", "层级": "level",
        "建筑面积": "floor_area_m2", "面积": "floor_area_m2", "建筑面积(m2)": "floor_area_m2",
        "建筑面积（平方米）": "floor_area_m2", "建筑面积(平方米)": "floor_area_m2",
        "建筑面积（㎡）": "floor_area_m2", "建筑面积(㎡)": "floor_area_m2",
        "床位": "beds", "床位数": "beds", "床位数（张）": "beds", "床位数(张)": "beds",
        "护理型床位": "nursing_beds", "护理型床位数": "nursing_beds",
        "护理床位": "nursing_beds", "护理床位数": "nursing_beds",
        "床位总数": "beds", "总床位数": "beds", "总床位": "beds", "核定床位数": "beds",
        "设施面积": "floor_area_m2", "用房面积": "floor_area_m2", "总建筑面积": "floor_area_m2",
        "机构名称": "name", "设施名称": "name",
        "小区编号": "area_id",
    },
    "candidates": {
        **_COMMON_HEADERS,
        "候选点编号": "candidate_id", "编号": "candidate_id",
        "可用面积": "max_floor_area_m2", "最大面积": "max_floor_area_m2",
    },
    "boundaries": {
        **_COMMON_HEADERS,
        "镇": "street", "街道名称": "street", "乡镇名称": "street", "街镇": "street",
        "区名": "district", "区名称": "district", "区县名称": "district", "县": "district",
    },
    "households": {
        "编号": "household_id", "户数": "households",
        "老年人口": "elderly", "60岁以上人口": "elderly", "60岁及以上人口": "elderly",
    },
}
"""Common headers of planners' tables, recognised without a ``columns=`` mapping:
``{kind: {header: canonical}}``. A header is used only when the canonical column is not
already present; an explicit ``columns=`` always wins."""

LOOKALIKE_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "areas": {"户": ("households",), "老年": ("elderly",), "老人": ("elderly",),
              "60岁": ("elderly",)},
    "facilities": {"床": ("beds", "nursing_beds"), "面积": ("floor_area_m2",),
                   "等级": ("level",), "类型": ("level",), "类别": ("level",)},
    "candidates": {"面积": ("max_floor_area_m2",)},
}
"""Words of a header that look like a canonical field ``{kind: {word: fields}}``: a column
containing one, left unrecognised while one of its fields is absent, is reported (never
read as a silent 0)."""

LON_HEADERS: tuple[str, ...] = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "x坐标", "經度")
"""Longitude column names (case-insensitive) of tables without geometry."""

LAT_HEADERS: tuple[str, ...] = ("lat", "latitude", "y", "纬度", "北纬", "y坐标", "緯度")
"""Latitude column names (case-insensitive) of tables without geometry."""


# ----------------------------------------------------------------------------- CRS guard
def check_crs(data: Any, what: str, *, like: Any = None, like_what: str = "the areas") -> Any:
    """The one CRS guard: ``data`` must be in a projected CRS in metres (the same as ``like``).

    Parameters
    ----------
    data : GeoDataFrame, GeoSeries, WalkNetwork or CRS-like
        Anything with a ``.crs`` attribute, or a CRS itself. None, and an empty frame
        without CRS (e.g. no existing facilities), pass: there is nothing to measure.
    what : str
        How the message names ``data`` ("facilities", "the network").
    like : same kinds as ``data``, optional
        Reference whose CRS ``data`` must equal (e.g. the areas).
    like_what : str
        How the message names ``like``.

    Returns
    -------
    pyproj.CRS or None
        The CRS of ``data``.

    Raises
    ------
    CRSError
        No CRS, a geographic CRS (degrees), or a CRS different from ``like``'s. The message
        always reads "<what>: <problem>; careplan measures in metres, so every input must be
        in one projected CRS: <fix>".
    """
    if data is None:
        return None
    crs = _crs_of(data)
    if crs is None and hasattr(data, "__len__") and len(data) == 0:
        return None  # an empty frame has no positions to measure (no facilities yet)
    tail = "careplan measures in metres, so every input must be in one projected CRS: "
    if crs is None:
        raise CRSError(
            f"{what}: no CRS; {tail}set it with .set_crs(...) (e.g. 'EPSG:4326' for longitude/"
            "latitude degrees), then .to_crs(...) a projected CRS, or read the data with "
            "careplan.read_* (src_crs= for files without one), which reprojects it."
        )
    if not crs.is_projected:
        raise CRSError(
            f"{what}: geographic CRS {crs.to_string()} (degrees, not projected); {tail}reproject "
            "with .to_crs(gdf.estimate_utm_crs()) or read the data with careplan.read_*, which "
            "reprojects it."
        )
    if like is not None:
        ref = _crs_of(like)
        if ref is not None and not crs.equals(ref):
            raise CRSError(
                f"{what}: CRS {crs.to_string()} differs from the CRS of {like_what} ({ref.to_string()}); "
                f"{tail}reproject with .to_crs({ref.to_string()!r})."
            )
    return crs


def _crs_of(obj: Any):
    from pyproj import CRS

    if isinstance(obj, CRS):
        return obj
    if hasattr(obj, "crs"):
        crs = obj.crs
        return None if crs is None else CRS.from_user_input(crs)
    try:
        return CRS.from_user_input(obj)
    except Exception as exc:  # pyproj raises CRSError (its own) and others
        raise InputError(f"not a CRS or an object with one: {obj!r} ({exc})") from exc


# ----------------------------------------------------------------------------- defaults
# The shared defaults of careplan, each defined once. A loaded standard (profile) wins
# where it gives a value: its ``[service_circle] speed_m_per_min``, the ``value`` and
# ``levels`` of its ``service_circle`` rule and the ``levels`` of its floor-area rules.

DEFAULT_WALK_SPEED_M_PER_MIN: float = 60.0
"""Assumed walking speed of older pedestrians, metres per minute (1.0 m/s).

An assumption, not policy text. Sources: Knoblauch, Pietrucha & Nitzburg (1996),
Transportation Research Record 1538: 15th-percentile walking speed of pedestrians
aged 65+ about 0.97 m/s; the US MUTCD (2009, section 4E.06) times crossings at
3.5 ft/s (1.07 m/s) and 3.0 ft/s (0.91 m/s) for slower pedestrians; GB 50180-2018
table 3.0.4 describes the 15-minute life circle as a walk of 800-1,000 m, i.e.
53-67 m/min. A profile's ``[service_circle] speed_m_per_min`` wins.
"""

DEFAULT_SERVICE_CIRCLE_MINUTES: float = 15.0
"""Minutes of the home & community care circle: "15分钟居家和社区养老服务圈"
(Jinwan 2020, task 6; Urumqi 2024, (二)). A profile's ``service_circle`` rule wins."""

DEFAULT_CIRCLE_LEVELS: tuple[str, ...] = ("district", "street", "community")
"""Facility levels whose walking reach counts toward the home & community care circle:
the three-level network (Urumqi 2024 (二); provincial report 002_… (一)); institutions
and canteens do not provide home/community care visits. The ``levels`` of a profile's
``service_circle`` rule win."""

DEFAULT_FLOOR_AREA_LEVELS: tuple[str, ...] = ("community", "street")
"""Facility levels whose floor area counts toward the per-100-households rule: the
community rooms and street centres that "配建社区养老服务用房" refers to (Jinwan 2020,
task 5). The ``levels`` of a profile's ``floor_area_per_100hh`` rules win."""


def walking_circle_m(minutes: float, speed_m_per_min: float) -> float:
    """Walking distance of a service circle: ``minutes * speed_m_per_min`` (metres).

    The one place careplan turns a circle in minutes into metres.

    Parameters
    ----------
    minutes : float
        Size of the circle, minutes (> 0, finite).
    speed_m_per_min : float
        Walking speed, metres per minute (> 0, finite).

    Returns
    -------
    float
        Metres.

    Raises
    ------
    InputError
        A value that is not a finite number > 0.
    """
    for name, v in (("minutes", minutes), ("speed_m_per_min", speed_m_per_min)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) \
                or v <= 0:
            raise InputError(f"{name} must be a finite number > 0, got {v!r}")
    return float(minutes) * float(speed_m_per_min)
