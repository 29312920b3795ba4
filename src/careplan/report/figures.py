"""Static figures (matplotlib): the report's charts and the before/after PNG maps.

Text from data (area names, station ids, facility levels) is drawn as plain
text: ``text.parse_math`` is off (``$x^$`` is shown, not parsed) and labels are
cut to :data:`~careplan.report.escape.FIGURE_MAX_CHARS` characters
(:func:`~careplan.report.escape.figure_text`); tables keep the full values.

Chinese text needs a CJK font: a system font (e.g. Debian ``fonts-noto-cjk``) or
the Noto Sans CJK SC font of the optional ``mplfonts`` package (``pip install
careplan[zh]``); without one, figures fall back to English labels.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from careplan._errors import InputError
from careplan.report._common import (
    BOUNDARY_STYLE,
    C_BAD,
    C_NA,
    C_NETWORK,
    C_OK,
    C_PROPOSED,
    C_SA_EXISTING,
    C_SA_PROPOSED,
    LEVEL_COLORS,
    OUTPUT_FILES,
    area_names,
    attribution,
    boundary_layers,
    boundary_names,
    checked,
    level_order,
    proposed_legend,
    proposed_levels,
)
from careplan.report.atomic import atomic_file
from careplan.report.escape import figure_text
from careplan.report.format import flag, fmt, fmt_percent, truthy
from careplan.report.labels import check_lang, level_label, t

if TYPE_CHECKING:  # pragma: no cover
    from careplan.plan import LayoutPlan

__all__ = ["charts", "cjk_font", "fig_lang", "write_png_maps"]

_CJK_KEYS = ("CJK", "Hei", "Song", "WenQuanYi", "Noto Sans SC", "Noto Serif SC",
             "Droid Sans Fallback", "Source Han", "Microsoft YaHei", "PingFang", "Heiti",
             "SimSun", "AR PL")


def _mpl():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_FONT_FILES = ("NotoSansCJK", "SourceHanSans", "wqy-zenhei", "wqy-microhei",
               "DroidSansFallback", "NotoSerifCJK")


def _known_cjk_font() -> str | None:
    from matplotlib import font_manager

    names = [f.name for f in font_manager.fontManager.ttflist]
    for preferred in ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC"):
        if preferred in names:
            return preferred
    for name in names:
        if any(k in name for k in _CJK_KEYS):
            return name
    return None


def _add_system_cjk_fonts() -> None:
    """Register CJK font files installed after matplotlib built its font cache
    (e.g. Debian ``fonts-noto-cjk`` installed later)."""
    from matplotlib import font_manager

    files = sorted(font_manager.findSystemFonts())
    for key in _FONT_FILES:  # every weight of the first family found
        found = [f for f in files if Path(f).name.lower().startswith(key.lower())]
        for f in found:
            try:
                font_manager.fontManager.addfont(f)
            except (OSError, RuntimeError, ValueError):  # pragma: no cover
                continue
        if found:
            return


def cjk_font() -> str | None:
    """Name of an installed font that can draw Chinese, or None.

    Looks at the fonts matplotlib knows (preferring Noto Sans CJK SC, a simplified
    Chinese face), then at the Noto Sans CJK SC font of the optional ``mplfonts``
    package (found without importing it), then at CJK font files of the system
    that matplotlib's font cache does not list yet.
    """
    from matplotlib import font_manager

    spec = importlib.util.find_spec("mplfonts")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            f = Path(loc) / "fonts" / "NotoSansCJKsc-Regular.otf"
            known = {e.fname for e in font_manager.fontManager.ttflist}
            if f.is_file() and str(f) not in known:
                try:
                    font_manager.fontManager.addfont(str(f))
                except (OSError, RuntimeError, ValueError):  # pragma: no cover
                    continue
    font = _known_cjk_font()
    if font is None:
        _add_system_cjk_fonts()
        font = _known_cjk_font()
    return font


def fig_lang(lang: str) -> tuple[str, str | None]:
    """Language for figure text: Chinese only when a CJK font is installed."""
    if lang == "zh":
        font = cjk_font()
        if font is not None:
            return "zh", font
        return "en", None
    return lang, None


def _rc(font: str | None) -> dict:
    """matplotlib settings for careplan figures: plain text (no mathtext), and a CJK
    font whenever one is installed (names from data may be Chinese in any language)."""
    rc: dict = {"text.parse_math": False, "text.usetex": False, "axes.unicode_minus": False}
    if font:  # Chinese figure: CJK font first
        rc["font.family"] = [font, "DejaVu Sans"]
    elif (cjk := cjk_font()) is not None:  # English figure: Latin font, CJK as fallback
        rc["font.family"] = ["DejaVu Sans", cjk]
    return rc


def _households_covered(areas: pd.DataFrame) -> tuple[float, float, float]:
    hh = areas["households"].astype(float)
    return (
        float(hh.sum()),
        float(hh[truthy(areas["covered_before"])].sum()),
        float(hh[truthy(areas["covered_after"])].sum()),
    )


def _png_b64(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def charts(plan: LayoutPlan, lang: str, max_areas: int = 30) -> list[tuple[str, str]]:
    """(title, base64 PNG) of each chart: households covered, deficit by area, Lorenz
    curves of floor area per person before/after (:func:`lorenz_curves`).

    Titles, axes and legends are in *lang* when a font can draw it (see
    :func:`fig_lang`); areas are shown by name where they have one.
    """
    plt = _mpl()
    flang, font = fig_lang(lang)
    out = []
    with plt.rc_context(_rc(font)):
        total, cov_b, cov_a = _households_covered(plan.areas)
        fig, ax = plt.subplots(figsize=(5.5, 3.2))
        labels = [t("before", flang), t("after", flang)]
        ax.bar(labels, [total, total], color="#dddddd", edgecolor="#999999",
               label=t("hh_total", flang))
        bars = ax.bar(labels, [cov_b, cov_a], color=[C_SA_EXISTING, C_PROPOSED], width=0.55,
                      label=t("hh_covered", flang))
        for b_, v in zip(bars, [cov_b, cov_a], strict=True):
            share = f" ({fmt_percent(v / total)})" if total else ""
            ax.annotate(fmt(v) + share, (b_.get_x() + b_.get_width() / 2, v), ha="center",
                        va="bottom", fontsize=9)
        ax.set_ylim(0, max(total, 1.0) * 1.18)
        ax.set_ylabel(t("households", flang))
        ax.set_title(t("chart_households", flang))
        ax.legend(loc="upper center", ncols=2, fontsize=8, frameon=False)
        out.append((t("chart_households", lang), _png_b64(fig)))
        plt.close(fig)

        a = plan.areas
        d = pd.DataFrame({
            "id": [figure_text(s) for s in area_names(a)],
            "before": a["deficit_before_m2"].astype(float).to_numpy(),
            "after": a["deficit_after_m2"].astype(float).to_numpy(),
        })
        d = d[(d["before"] > 0) | (d["after"] > 0)]
        title = t("chart_deficit", lang)
        ftitle = t("chart_deficit", flang)
        if len(d):
            d = d.sort_values("before", ascending=False)
            if len(d) > max_areas:
                d = d.head(max_areas)
                title += t("deficit_top", lang).format(n=max_areas)
                ftitle += t("deficit_top", flang).format(n=max_areas)
            d = d.iloc[::-1]
            y = np.arange(len(d))
            fig, ax = plt.subplots(figsize=(6.5, 1.2 + 0.28 * len(d)))
            ax.barh(y + 0.2, d["before"], height=0.4, color=C_BAD, label=t("before", flang))
            ax.barh(y - 0.2, d["after"], height=0.4, color=C_OK, label=t("after", flang))
            ax.set_yticks(y, d["id"].tolist(), fontsize=8)
            ax.set_xlabel(t("deficit_m2", flang))
            ax.set_title(ftitle, fontsize=10)
            ax.legend(fontsize=8)
            out.append((title, _png_b64(fig)))
            plt.close(fig)
        lorenz = _lorenz_chart(plt, plan.areas, lang, flang)
        if lorenz is not None:
            out.append(lorenz)
    return out


def lorenz_curves(areas: pd.DataFrame) -> tuple[str, dict[str, pd.DataFrame]]:
    """Lorenz curves of floor area per person before and after the plan.

    The value of an area is ``provided_<when>_m2`` / its people (``elderly``, else
    ``households``), weighted by its people, as in
    :func:`careplan.equity.before_after`; a curve is left out when nobody has any floor
    area (undefined).

    Returns
    -------
    tuple
        ``(weight column, {"before": (curve, gini), "after": (curve, gini)})``; each
        curve from :func:`careplan.equity.lorenz` (``population_share``,
        ``value_share``), each Gini from :func:`careplan.equity.gini`.
    """
    from careplan._errors import InputError as _Err
    from careplan.equity import gini, lorenz

    weight = "elderly" if "elderly" in areas.columns else "households"
    people = pd.to_numeric(areas[weight], errors="coerce").astype(float)
    curves = {}
    for when in ("before", "after"):
        col = f"provided_{when}_m2"
        if col not in areas.columns:
            continue
        m2 = pd.to_numeric(areas[col], errors="coerce").astype(float)
        value = (m2 / people.where(people > 0)).fillna(0.0)
        x, w = value.to_numpy(), people.fillna(0.0).to_numpy()
        try:
            curves[when] = (lorenz(x, w), gini(x, w))
        except _Err:  # nobody has floor area (or no people): the curve is undefined
            continue
    return weight, curves


def _lorenz_chart(plt, areas: pd.DataFrame, lang: str, flang: str) -> tuple[str, str] | None:
    weight, curves = lorenz_curves(areas)
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="#777777", lw=1, ls="--", label=t("lorenz_equal", flang))
    colors = {"before": C_BAD, "after": C_OK}
    for when, (c, g) in curves.items():
        p, v = c["population_share"].to_numpy(), c["value_share"].to_numpy()
        ax.plot(p, v, color=colors[when], lw=2,
                label=f"{t(when, flang)} ({t('gini', flang)} {g:.2f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel(t(f"lorenz_x_{weight}", flang))
    ax.set_ylabel(t("lorenz_y", flang))
    ax.set_title(t("chart_lorenz", flang), fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    b64 = _png_b64(fig)
    plt.close(fig)
    return t("chart_lorenz", lang), b64


def _scale_bar(ax, xmin: float, xmax: float, ymin: float, ymax: float) -> float:
    """Draw a black/white scale bar of a round length (~1/5 of the width); return it (m)."""
    width = xmax - xmin
    target = max(width / 5, 1.0)
    exp = 10 ** math.floor(math.log10(target))
    bar = max(s * exp for s in (1, 2, 5) if s * exp <= target)
    x0, y0 = xmin + 0.04 * width, ymin + 0.04 * (ymax - ymin)
    from matplotlib.patches import Rectangle

    h = 0.008 * (ymax - ymin)
    for i in range(2):
        ax.add_patch(Rectangle((x0 + i * bar / 2, y0), bar / 2, h,
                               facecolor="black" if i == 0 else "white",
                               edgecolor="black", lw=0.8, zorder=8))
    label = f"{bar / 1000:g} km" if bar >= 1000 else f"{bar:.0f} m"
    for x, s in ((x0, "0"), (x0 + bar, label)):
        ax.text(x, y0 + 2.2 * h, s, ha="center", va="bottom", fontsize=8, zorder=8)
    return bar


def _north_arrow(ax, lang: str) -> None:
    """A north arrow in the upper-right corner (the map's y axis is grid north)."""
    ax.annotate(t("north", lang), xy=(0.95, 0.97), xytext=(0.95, 0.87),
                xycoords="axes fraction", ha="center", va="center", fontsize=11,
                fontweight="bold", zorder=9,
                arrowprops={"facecolor": "black", "width": 4, "headwidth": 11,
                            "headlength": 10, "edgecolor": "black"})


def _polygon_paths(geoms) -> tuple[list, list[int]]:
    """matplotlib Paths of the (multi)polygons in *geoms* (holes kept) and the position
    of the geometry each comes from; points become 30 m squares (areas may be points)."""
    import shapely
    from matplotlib.path import Path as MplPath

    paths, owner = [], []
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        if g.geom_type in ("Point", "MultiPoint"):
            g = g.buffer(15.0, cap_style="square")
        for poly in getattr(g, "geoms", [g]):
            if poly.geom_type != "Polygon":
                continue
            rings = [poly.exterior, *poly.interiors]
            paths.append(MplPath.make_compound_path(
                *[MplPath(np.asarray(shapely.get_coordinates(r)), closed=True) for r in rings]))
            owner.append(i)
    return paths, owner


def _add_polygons(ax, geoms, *, facecolor, edgecolor, alpha: float, linewidth: float,
                  zorder: int, linestyle: str = "-") -> None:
    """Draw polygons directly (geopandas' plot redraws the whole figure on every call)."""
    from matplotlib.collections import PathCollection

    paths, owner = _polygon_paths(geoms)
    if not isinstance(facecolor, str):  # one colour per geometry -> one per path
        facecolor = [facecolor[i] for i in owner]
    if paths:
        ax.add_collection(PathCollection(paths, facecolors=facecolor, edgecolors=edgecolor,
                                         alpha=alpha, linewidths=linewidth, zorder=zorder,
                                         linestyles=linestyle),
                          autolim=False)


#: Vertices per matplotlib line the street layer is drawn with (issue 15.1): the lines
#: go in as a few long NaN-separated polylines instead of one Path each (a
#: LineCollection of 186,000 street edges took ~27 s to build and ~25 s to draw at
#: 100k street nodes; Agg refuses a single path of millions of vertices).
PNG_LINE_CHUNK: int = 100_000


#: Above this many proposed stations the after map does not label each with its id
#: (issue 15.1): at 850 stations the labels were an unreadable block and 13 of the 35 s
#: CPU of the two maps of the 100k-node city (before :func:`place_labels`, which compares
#: each label with every other: quadratic); a note on the map says so.
PNG_MAX_LABELS: int = 200


def _add_lines(ax, geoms, *, color, linewidth: float, zorder: int) -> None:
    """Draw (multi)lines as a few NaN-separated polylines (see :data:`PNG_LINE_CHUNK`)."""
    import shapely

    arr = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    arr = arr[[g is not None for g in arr]] if arr.size else arr
    parts = shapely.get_parts(arr) if arr.size else arr
    parts = parts[shapely.get_type_id(parts) == 1] if parts.size else parts  # LineStrings
    if not parts.size:
        return
    xy, owner = shapely.get_coordinates(parts, return_index=True)
    if not len(xy):
        return
    # a NaN row after each line breaks the polyline there
    ends = np.flatnonzero(np.r_[owner[1:] != owner[:-1], True])
    out = np.insert(xy, ends + 1, np.nan, axis=0)
    cut = np.flatnonzero(np.isnan(out[:, 0]))  # break positions
    start = 0
    while start < len(out):
        stop = int(cut[np.searchsorted(cut, start + PNG_LINE_CHUNK)]) + 1 \
            if start + PNG_LINE_CHUNK < len(out) else len(out)
        ax.plot(out[start:stop, 0], out[start:stop, 1], color=color, linewidth=linewidth,
                zorder=zorder, scalex=False, scaley=False, solid_capstyle="butt")
        start = stop


def _draw_layers(ax, plan: LayoutPlan, when: str, flang: str) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    a = plan.areas
    handles = []
    edges = plan.network_edges
    if edges is not None and len(edges):
        _add_lines(ax, edges.geometry, color=C_NETWORK, linewidth=0.4, zorder=1)
        handles.append(Line2D([], [], color=C_NETWORK, lw=1, label=t("lg_network", flang)))
    sa = plan.service_areas
    if len(sa):
        for status, color, key in (("existing", C_SA_EXISTING, "lg_sa_existing"),
                                   ("proposed", C_SA_PROPOSED, "lg_sa_proposed")):
            part = sa[sa["status"] == status]
            if len(part) and (status == "existing" or when == "after"):
                _add_polygons(ax, part.geometry, facecolor=color, edgecolor=color, alpha=0.15,
                              linewidth=0.6, zorder=2)
                handles.append(Patch(color=color, alpha=0.3, label=t(key, flang)))
    flags = [flag(v) for v in a[f"compliant_{when}"]]
    colors = [{True: C_OK, False: C_BAD}.get(f, C_NA) for f in flags]
    _add_polygons(ax, a.geometry, facecolor=colors, edgecolor="#333333", alpha=0.5,
                  linewidth=0.6, zorder=3)
    handles += [Patch(color=C_OK, alpha=0.5, label=t("lg_compliant", flang)),
                Patch(color=C_BAD, alpha=0.5, label=t("lg_deficit", flang))]
    if any(f is None for f in flags):
        handles.append(Patch(color=C_NA, alpha=0.5, label=t("lg_na", flang)))
    for name, color in boundary_layers(plan):  # street / district polygons given
        g = getattr(plan, name)
        _add_polygons(ax, g.geometry, facecolor="none", edgecolor=color, alpha=0.9,
                      linewidth=BOUNDARY_STYLE[name][1] * 0.6, zorder=4, linestyle="--")
        handles.append(Line2D([], [], color=color, lw=BOUNDARY_STYLE[name][1] * 0.6, ls="--",
                              label=t(f"lg_{name}", flang)))
        # names just inside the top (streets) / bottom (districts) of each polygon's part on
        # the map (the middle is where its centre goes)
        from shapely.geometry import box

        frame = box(*a.total_bounds)  # the map shows the areas: name the part drawn
        for geom, n in zip(g.geometry, boundary_names(g), strict=True):
            seen = geom.intersection(frame) if geom is not None else None
            if seen is None or seen.is_empty:
                continue
            x_ = seen.representative_point().x
            top = name == "streets"  # streets named at the top, districts at the bottom
            ax.annotate(figure_text(n), (x_, seen.bounds[3 if top else 1]),
                        xytext=(0, -4 if top else 4), textcoords="offset points",
                        ha="center", va="top" if top else "bottom", fontsize=8,
                        color=color, zorder=4, annotation_clip=True, gid=_BOUNDARY_NAME)
    ex = plan.existing
    if len(ex):
        pts = ex.geometry.representative_point()
        levels = (ex["level"].astype(str) if "level" in ex.columns
                  else pd.Series("other", index=ex.index))
        for lv in sorted(levels.unique(), key=level_order):
            sel = (levels == lv).to_numpy()
            color = LEVEL_COLORS.get(lv, "#7f7f7f")
            ax.scatter(pts.x[sel], pts.y[sel], s=28, c=color, edgecolors="#222222",
                       linewidths=0.6, zorder=5)
            handles.append(Line2D([], [], marker="o", ls="", color=color, mec="#222222",
                                  label=figure_text(t("existing", flang) + t("colon", flang)
                                                    + level_label(lv, flang))))
    pr = plan.proposed
    if when == "after" and len(pr):
        handles += _draw_proposed(ax, plan, flang)
    return handles


def _draw_proposed(ax, plan: LayoutPlan, flang: str) -> list:
    """Proposed facilities: new sites as stars in their level's colour edged in orange,
    expansions and added canteen functions as dashed rings of the level's colour;
    sized by floor area.  Returns the legend handles."""
    from matplotlib.lines import Line2D

    pr = plan.proposed
    pts = pr.geometry.representative_point()
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    fa = pr["floor_area_m2"].astype(float).fillna(0).clip(lower=0).to_numpy()
    size = 60 + 340 * fa / (fa.max() or 1.0)
    levels = proposed_levels(plan)
    kinds = (pr["kind"].astype(str) if "kind" in pr.columns
             else pd.Series("new", index=pr.index)).to_numpy()
    handles = []
    for style, lv in proposed_legend(plan):
        color = LEVEL_COLORS.get(lv, "#7f7f7f")
        lvl = level_label(lv, flang)
        if style == "new":
            sel = (levels == lv) & ~np.isin(kinds, ("expansion", "canteen"))
            ax.scatter(x[sel], y[sel], s=size[sel], c=color, marker="*",
                       edgecolors=C_PROPOSED, linewidths=1.2, zorder=6)
            handles.append(Line2D([], [], marker="*", ls="", ms=12, color=color,
                                  mec=C_PROPOSED, label=t("lg_proposed_level", flang)
                                  .format(level=lvl)))
            continue
        sel = (levels == lv) & (kinds == style)
        ax.scatter(x[sel], y[sel], s=2 * size[sel], facecolors="none", edgecolors=color,
                   linewidths=2.2, linestyles="--", zorder=6)
        label = (t("lg_expansion_level", flang).format(level=lvl) if style == "expansion"
                 else t("lg_canteen_function", flang))
        handles.append(Line2D([], [], marker="o", ls="", ms=11, mfc="none", mec=color,
                              mew=2.2, label=label))
    return handles


def _label_groups(ax, plan: LayoutPlan, merge_px: float = 14.0) -> list[tuple[float, float,
                                                                            str, float]]:
    """``(x, y, text, floor area)`` of each label of the proposed facilities: ids of
    facilities drawn within *merge_px* pixels of each other share one label
    ("X-F04 / M-F04"), largest floor area first."""
    pr = plan.proposed
    pts = pr.geometry.representative_point()
    xy = ax.transData.transform(np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]))
    fa = pr["floor_area_m2"].astype(float).fillna(0).to_numpy()
    ids = [str(v) for v in pr["station_id"]]
    group = list(range(len(ids)))
    for i in range(len(ids)):
        for j in range(i):
            if np.hypot(*(xy[i] - xy[j])) <= merge_px:
                group[i] = group[j]
                break
    out = []
    for g in dict.fromkeys(group):
        members = [i for i in range(len(ids)) if group[i] == g]
        lead = max(members, key=lambda i: fa[i])
        out.append((float(pts.x.iloc[lead]), float(pts.y.iloc[lead]),
                    " / ".join(ids[i] for i in members), float(fa[members].sum())))
    return sorted(out, key=lambda r: -r[3])


#: gid of the boundary names (labels of facilities keep clear of them).
_BOUNDARY_NAME = "careplan-boundary-name"

#: Where a label may go around its point (offset in points, alignment), in order.
_LABEL_SLOTS = ((6, 6, "left", "bottom"), (6, -6, "left", "top"), (-6, 6, "right", "bottom"),
                (-6, -6, "right", "top"), (0, 11, "center", "bottom"),
                (0, -11, "center", "top"), (11, 0, "left", "center"),
                (-11, 0, "right", "center"))


def place_labels(ax, plan: LayoutPlan) -> list:
    """Label the proposed facilities without overlaps where the map leaves room.

    Each label (co-located facilities share one, see :func:`_label_groups`) tries the
    slots of :data:`_LABEL_SLOTS` around its point and takes the first that overlaps
    no label placed before it and stays inside the axes; when none is free it takes
    the slot with the least overlap (a label is never dropped: the tables list every
    facility).  Call after the axes' limits and aspect are final.

    Returns
    -------
    list of matplotlib.text.Annotation
        The labels drawn, in placement order.
    """
    from matplotlib.transforms import Bbox

    fig = ax.figure
    ax.apply_aspect()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed: list = []
    boxes: list = [a.get_window_extent(renderer) for a in ax.texts
                   if a.get_gid() == _BOUNDARY_NAME]  # the boundary names stay readable
    pts = plan.proposed.geometry.representative_point()  # and the markers stay visible
    for px, py in ax.transData.transform(np.column_stack([pts.x, pts.y])):
        boxes.append(Bbox.from_extents(px - 5, py - 5, px + 5, py + 5))
    for x, y, text, _fa in _label_groups(ax, plan):
        best = None
        for dx, dy, ha, va in _LABEL_SLOTS:
            ann = ax.annotate(figure_text(text), (x, y), xytext=(dx, dy),
                              textcoords="offset points", ha=ha, va=va, fontsize=8, zorder=7,
                              bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none",
                                    "pad": 0.5})
            bb = ann.get_window_extent(renderer)
            cost = sum(_overlap(bb, o) for o in boxes)
            if not (frame.x0 <= bb.x0 and bb.x1 <= frame.x1 and frame.y0 <= bb.y0
                    and bb.y1 <= frame.y1):
                cost += bb.width * bb.height
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, ann, bb)
            else:
                ann.remove()
            if cost == 0:
                break
        placed.append(best[1])
        boxes.append(best[2])
    return placed


def _station_labels(ax, plan: LayoutPlan, flang: str) -> None:
    """:func:`place_labels` up to :data:`PNG_MAX_LABELS` proposed facilities; above it one
    note on the map instead (the placement compares every label with every other: at
    thousands of stations it takes minutes and covers the map)."""
    n = len(plan.proposed)
    if n <= PNG_MAX_LABELS:
        place_labels(ax, plan)
        return
    ax.text(0.01, 0.99, figure_text(t("png_labels_omitted", flang).format(n=n)),
            transform=ax.transAxes, ha="left", va="top", fontsize=7, zorder=9,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 2})


def _overlap(a, b) -> float:
    """Area (px²) shared by two display boxes."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0.0) * max(h, 0.0)


def _draw_map(plan: LayoutPlan, when: str, path: Path, lang: str, dpi: int = 150) -> Path:
    plt = _mpl()
    from matplotlib.ticker import MaxNLocator

    flang, font = fig_lang(lang)
    with plt.rc_context(_rc(font)):
        fig, ax = plt.subplots(figsize=(8.27, 8.27))
        xmin, ymin, xmax, ymax = plan.areas.total_bounds
        pad = 0.05 * max(xmax - xmin, ymax - ymin, 100.0)
        xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
        handles = _draw_layers(ax, plan, when, flang)
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        ax.set_aspect("equal")
        # ticks at round distances from the lower-left corner
        for axis, lo, hi in ((ax.xaxis, xmin, xmax), (ax.yaxis, ymin, ymax)):
            ticks = [v for v in MaxNLocator(6).tick_values(0, hi - lo) if 0 <= v <= hi - lo]
            axis.set_ticks([lo + v for v in ticks], [f"{v:.0f}" for v in ticks])
        ax.set_xlabel(t("easting", flang))
        ax.set_ylabel(t("northing", flang))
        ax.tick_params(labelsize=8)
        _scale_bar(ax, xmin, xmax, ymin, ymax)
        _north_arrow(ax, flang)
        if when == "after" and len(plan.proposed):
            _station_labels(ax, plan, flang)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
                  framealpha=0.9, borderaxespad=0.0)
        ax.set_title(f"{t('map_title', flang)}{t('colon', flang)}{t('map_' + when, flang)}")
        ax.text(0.99, 0.01, f"{attribution(plan)} | {t('crs_note', flang)}{t('colon', flang)}"
                f"{plan.crs.to_string()}", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=7, color="#222222", zorder=9,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 2})
        try:
            with atomic_file(path) as tmp:
                fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
        finally:
            plt.close(fig)
    return path


def write_png_maps(plan: LayoutPlan, directory: str | os.PathLike, *,
                   lang: str = "zh", dpi: int = 150) -> list[Path]:
    """Write static before/after maps for print: ``map_before.png``, ``map_after.png``.

    Each shows areas coloured by compliance, existing facilities by level,
    service areas, streets, and (after) the proposed stations sized by floor area,
    with a legend, axes in metres from the lower-left corner, a scale bar, a north
    arrow and the attribution.  Chinese text needs a CJK font; without one the
    figures fall back to English (the HTML report is unaffected).

    Parameters
    ----------
    plan : LayoutPlan
    directory : path-like
        An existing directory.
    lang : {"zh", "en"}, default "zh"
    dpi : int, default 150
        Resolution (an A4-wide map at 150 dpi is about 1,300 pixels).

    Returns
    -------
    list of Path
        ``[map_before.png, map_after.png]``.

    Raises
    ------
    InputError
        If *directory* is not a directory or *dpi* is outside 10-1200.
    """
    lang = check_lang(lang)
    plan = checked(plan)
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory; create it first.")
    if not (isinstance(dpi, int | float) and 10 <= dpi <= 1200):
        raise InputError(f"dpi={dpi!r} is out of range; use a number from 10 to 1200.")
    return [_draw_map(plan, when, directory / OUTPUT_FILES[f"map_{when}"], lang, dpi)
            for when in ("before", "after")]
