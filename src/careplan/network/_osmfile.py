"""Reading the street ways of an OpenStreetMap file as an editor shows them.

OSM files come from many tools, and each has habits a naive reader turns into
wrong streets. :func:`read_osm_ways` reads them the way JOSM or the OSM website
would display the data:

* **Clipped extracts** (``osmium extract --strategy simple``, bounding-box
  cuts, hand-trimmed files) keep ways whose nodes are partly missing. A way
  is *split* where its nodes are missing, never bridged: joining the nodes on
  either side of a gap would invent a straight street that does not exist.
  One :class:`~careplan.CareplanWarning` counts the gaps and names the ways.
* **Editor files** (JOSM, Level0): elements marked ``action="delete"`` are
  deleted and left out; ``action="modify"`` and new objects with negative ids
  are ordinary data.
* **History and change-aware files** (osmium, osmosis, the API's history
  calls): ``visible="false"`` marks a deleted object; when an object appears
  in several versions the highest version wins (the file order breaks ties).
* **API and Overpass downloads**: ``<bounds>``, ``<note>``, ``<meta>``,
  relations and changesets are ignored; ways may come *before* their nodes
  (``out; >; out skel;``); ways may carry their node coordinates inline with no
  ``<node>`` elements at all (``out geom;``).
* **osmconvert / osmosis**: ``<bound box=...>`` and files without metadata.
* **Bad coordinates**: a node whose ``lat``/``lon`` is not a number (``nan``,
  ``abc``, empty) or is out of range is skipped, its ways are split there,
  and one warning names the nodes (pyosmium alone stops the whole file with
  ``InvalidLocationError``).

The fast path is one pass of pyosmium with its compiled node-location index;
a second pass (in Python, over the nodes) runs only when some way node has no
location after the first, to tell missing, deleted and badly located nodes
apart and to find nodes the index cannot hold (negative ids, nodes after their
ways, inline coordinates). Deletions marked ``action="delete"`` are found by a
byte scan of XML files (pyosmium does not report the ``action`` attribute).
"""

from __future__ import annotations

import bz2
import gzip
import math
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from careplan._errors import InputError
from careplan.network._common import _warn

__all__ = ["read_osm_ways"]

_OSM_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".osm.gz", ".pbf", ".osm.pbf")
_XML_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".osm.gz")
_CHUNK = 1 << 22
_LIST_LIMIT = 10


def _listing(items: list[str], total: int | None = None) -> str:
    total = len(items) if total is None else total
    shown = ", ".join(items[:_LIST_LIMIT])
    more = total - min(len(items), _LIST_LIMIT)
    return shown + (f" and {more} more" if more > 0 else "")


# ----------------------------------------------------------------------------
# XML byte scans (deletions, bad coordinates)
# ----------------------------------------------------------------------------
def _open_xml(p: Path):
    name = p.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(p, "rb")
    if name.endswith(".gz"):
        return gzip.open(p, "rb")
    return open(p, "rb")


_TAG = re.compile(rb"<(?:node|way|relation)\b[^>]*>")
_ATTR = re.compile(rb"""\b([a-z_]+)\s*=\s*(["'])(.*?)\2""", re.S)
# a lat/lon value that is empty or holds anything but digits, '-' and '.'
# (nan, abc, exponents: pyosmium reads "-1e999" silently as 0)
_SUSPECT = re.compile(rb"""l(?:at|on)\s*=\s*(?:"[-0-9.]*[^-0-9."]|'[-0-9.]*[^-0-9.']|""|'')""")
_INVISIBLE = (b'visible="false"', b"visible='false'")
_DELETE = (b'action="delete"', b"action='delete'")


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    return {k: v for k, _q, v in _ATTR.findall(tag)}


def _scan_xml(p: Path) -> dict[str, Any]:
    """One byte scan of an XML file for what pyosmium does not report.

    Returns the node and way ids marked ``action="delete"`` (``del_nodes``,
    ``del_ways``), whether some coordinate is not a plain decimal
    (``suspect``) and whether some element is ``visible="false"``
    (``invisible``: a history file). Reads the decompressed file in chunks; a
    tag cut by a chunk boundary is carried over to the next chunk.
    """
    out: dict[str, Any] = {"del_nodes": set(), "del_ways": set(), "suspect": False,
                           "invisible": False}
    carry = b""
    with _open_xml(p) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            buf = carry + chunk
            if chunk:
                cut = buf.rfind(b"<")
                buf, carry = (buf[:cut], buf[cut:]) if cut > 0 else (buf, b"")
            out["suspect"] = out["suspect"] or _SUSPECT.search(buf) is not None
            out["invisible"] = out["invisible"] or any(x in buf for x in _INVISIBLE)
            if any(x in buf for x in _DELETE):
                for m in _TAG.finditer(buf):
                    tag = m.group(0)
                    a = _attrs(tag)
                    if a.get(b"action", b"").strip().lower() != b"delete":
                        continue
                    try:
                        i = int(a.get(b"id", b""))
                    except ValueError:
                        continue
                    if tag.startswith(b"<node"):
                        out["del_nodes"].add(i)
                    elif tag.startswith(b"<way"):
                        out["del_ways"].add(i)
            if not chunk:
                break
    return out


_PLAIN = re.compile(rb"-?\d+(?:\.\d+)?")  # what pyosmium parses


def _coordinate_ok(v: bytes) -> bool:
    try:
        f = float(v)
    except ValueError:
        return False
    return math.isfinite(f)


def _sanitized_copy(p: Path, tmpdir: str) -> tuple[Path, dict[int, str]]:
    """Copy of an XML file with unreadable node coordinates removed.

    A node whose ``lat`` or ``lon`` is not a finite number loses both
    attributes (pyosmium then reads it without a location); a finite value
    written in a form pyosmium does not parse (exponent, ``+`` sign) is
    rewritten as a plain decimal. Returns the copy and, per removed node id,
    a description of the bad values.
    """
    bad: dict[int, str] = {}
    node_tag = re.compile(rb"<node\b[^>]*>")

    def fix(m: re.Match) -> bytes:
        tag = m.group(0)
        a = _attrs(tag)
        coords = {k: a[k] for k in (b"lat", b"lon") if k in a}
        broken = {k: v for k, v in coords.items() if not _coordinate_ok(v)}
        if broken:
            try:
                bad[int(a.get(b"id", b""))] = ", ".join(
                    f"{k.decode()}={v.decode(errors='replace')!r}" for k, v in broken.items())
            except ValueError:
                pass
            return _ATTR.sub(lambda x: b"" if x.group(1) in (b"lat", b"lon") else x.group(0), tag)
        odd = {k: v for k, v in coords.items() if not _PLAIN.fullmatch(v)}
        if odd:
            return _ATTR.sub(lambda x: (x.group(1) + b'="' + f"{float(x.group(3)):.7f}".encode()
                                        + b'"') if x.group(1) in odd else x.group(0), tag)
        return tag

    with _open_xml(p) as fh:
        text = fh.read()
    out = Path(tmpdir) / (p.name.split(".")[0] + ".osm")
    out.write_bytes(node_tag.sub(fix, text))
    return out, bad


# ----------------------------------------------------------------------------
# pyosmium passes
# ----------------------------------------------------------------------------
def _way_pass(path: str, tag_keys: tuple[str, ...]) -> tuple[dict[int, dict[str, Any]],
                                                             dict[str, np.ndarray], bool]:
    """Latest version of every way with its tags, and the node refs and locations of all.

    Returns ``ways`` (id -> ``version``, ``visible``, ``highway``, and for visible
    street ways ``start``/``count``: where its nodes lie in the flat arrays, and
    ``tags``), ``flat`` (``refs`` int64, ``lon``/``lat`` float64 degrees, NaN where
    the location index has no valid location; an older version's entries stay
    unused) and whether the file holds several versions of an object (then the
    location index, which keeps the first version of a node, is not used).

    The loop per node only collects the node id and the raw fixed-point coordinates
    (``Location.x/y``, 1e-7 degrees); validity and the conversion to degrees are
    vectorised (``lon = x / 1e7``, as libosmium computes it).
    """
    import osmium

    fp = osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY).with_locations()
    fp = fp.with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
    ways: dict[int, dict[str, Any]] = {}
    refs: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    history = False
    for w in fp:
        old = ways.get(w.id)
        if old is not None:
            history = True
            if w.version < old["version"]:
                continue
        hw = w.tags.get("highway")
        rec: dict[str, Any] = {"version": w.version, "visible": w.visible, "highway": hw}
        if hw is not None and w.visible:
            start = len(refs)
            for nd in w.nodes:
                loc = nd.location
                refs.append(nd.ref)
                xs.append(loc.x)
                ys.append(loc.y)
            rec.update(start=start, count=len(refs) - start,
                       tags={k: w.tags.get(k) for k in tag_keys})
        ways[w.id] = rec
    reader = osmium.io.Reader(path, osmium.osm.NOTHING)
    try:
        history = history or reader.header().has_multiple_object_versions
    finally:
        reader.close()
    x = np.array(xs, dtype=np.int64)
    y = np.array(ys, dtype=np.int64)
    # osmium::Location::valid(): within +-180 / +-90 degrees (an undefined location is
    # 2**31 - 1 on both axes)
    ok = (np.abs(x) <= 1_800_000_000) & (np.abs(y) <= 900_000_000)
    flat = {"refs": np.array(refs, dtype=np.int64),
            "lon": np.where(ok, x / 1e7, np.nan), "lat": np.where(ok, y / 1e7, np.nan)}
    return ways, flat, history


def _node_pass(path: str, wanted: set[int]) -> tuple[dict[int, tuple[float, float]], set[int],
                                                        set[int], dict[int, tuple[float, float]]]:
    """Second pass for way nodes the location index did not resolve.

    Returns the located nodes (id -> lon, lat), the ids present with an
    invalid location, the ids deleted (``visible="false"`` latest version)
    and inline way-node coordinates (``out geom``) for wanted ids.
    """
    import osmium

    found: dict[int, tuple[float, float]] = {}
    version: dict[int, int] = {}
    invalid: set[int] = set()
    deleted: set[int] = set()
    inline: dict[int, tuple[float, float]] = {}
    for o in osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY):
        if o.is_node():
            i = o.id
            if i not in wanted or o.version < version.get(i, -1):
                continue
            version[i] = o.version
            found.pop(i, None)
            invalid.discard(i)
            deleted.discard(i)
            loc = o.location
            if not o.visible:
                deleted.add(i)
            elif loc.valid():
                found[i] = (loc.lon, loc.lat)
            else:
                invalid.add(i)
        else:
            for nd in o.nodes:
                if nd.ref in wanted:
                    loc = nd.location
                    if loc.valid():
                        inline[nd.ref] = (loc.lon, loc.lat)
    return found, invalid, deleted, inline


# ----------------------------------------------------------------------------
# public entry
# ----------------------------------------------------------------------------
def read_osm_ways(path: Any, *, walkable_only: bool = True,
                  tag_keys: tuple[str, ...] = ("highway",),
                  is_walkable: Any = None) -> dict[str, Any]:
    """Read the ``highway`` ways of an OSM file, split where nodes are missing.

    Parameters
    ----------
    path : str or path-like
        ``.osm`` / ``.xml``, ``.osm.bz2`` / ``.osm.gz`` or ``.osm.pbf`` / ``.pbf``.
    walkable_only : bool
        Leave out ways failing ``is_walkable`` (counted in ``not_walkable``).
    tag_keys : tuple of str
        Tags kept per way (``highway`` and those the walkable filter reads).
    is_walkable : callable
        The walkable filter (:func:`careplan.network.is_walkable`).

    Returns
    -------
    dict
        ``refs``, ``lon``, ``lat`` (flat arrays, shape (n_refs,): node ids and
        their WGS84 coordinates in degrees, *piece* after piece of way; a way
        split at gaps gives several pieces), ``counts`` (nodes per piece, shape
        (n_pieces,)), ``tags`` (one dict per piece, with ``osmid`` = the
        way id), ``not_walkable`` (count of ways), ``source`` (file name) and
        ``report`` (counts: ``gaps``, ``missing_refs``, ``bad_coordinate_nodes``,
        ``deleted_ways``).

    Raises
    ------
    InputError
        Missing file, unknown suffix, a file pyosmium cannot parse, or no
        walkable way with two located nodes.

    Notes
    -----
    See the module docstring for how each tool's habits are read.
    """
    import osmium

    p = Path(path)
    if not p.exists():
        raise InputError(f"OSM file not found: {str(p)!r}.")
    name = p.name.lower()
    if not name.endswith(_OSM_SUFFIXES):
        raise InputError(f"{p.name!r}: unknown OSM file type; use .osm, .osm.bz2, .osm.gz or .osm.pbf.")
    is_xml = name.endswith(_XML_SUFFIXES)
    with tempfile.TemporaryDirectory(prefix="careplan-osm-") as tmp:
        read_path, bad_coords = str(p), {}
        try:
            scan = _scan_xml(p) if is_xml else {"del_nodes": set(), "del_ways": set(),
                                                "suspect": False, "invisible": False}
            if scan["suspect"]:
                fixed, bad_coords = _sanitized_copy(p, tmp)
                read_path = str(fixed)
            try:
                ways, flat, history = _way_pass(read_path, tag_keys)
            except osmium.InvalidLocationError:
                if not is_xml or read_path != str(p):
                    raise
                fixed, bad_coords = _sanitized_copy(p, tmp)
                read_path = str(fixed)
                ways, flat, history = _way_pass(read_path, tag_keys)
            pieces = _resolve(ways, flat, read_path, p.name, scan["del_nodes"], scan["del_ways"],
                              bad_coords, history or scan["invisible"], walkable_only,
                              is_walkable)
        except (RuntimeError, osmium.InvalidLocationError, OSError, EOFError) as exc:
            raise InputError(f"Could not read OSM file {p.name!r}: {exc}. Check that it is a "
                             "complete OSM XML or PBF file (open it in JOSM, or run "
                             "'osmium fileinfo' on it).") from exc
    return pieces


def _resolve(ways, flat, read_path, source, del_nodes, del_ways, bad_coords, history, walkable_only,
             is_walkable) -> dict[str, Any]:
    """Pieces of the walkable street ways with located nodes, and the warnings."""
    streets = []
    dropped = deleted_ways = 0
    for wid, rec in ways.items():
        if rec["highway"] is None:
            continue
        if not rec["visible"] or wid in del_ways:
            deleted_ways += 1
            continue
        if walkable_only and not is_walkable(rec["tags"]):
            dropped += 1
            continue
        streets.append((wid, rec))
    # all street way nodes in one array each (gathered from the flat arrays)
    counts = np.fromiter((rec["count"] for _, rec in streets), dtype=np.int64,
                         count=len(streets))
    first = np.fromiter((rec["start"] for _, rec in streets), dtype=np.int64,
                        count=len(streets))
    n = int(counts.sum())
    take = np.repeat(first - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(n)
    refs = flat["refs"][take]
    lon = flat["lon"][take]
    lat = flat["lat"][take]
    if history:  # node versions: resolve every node in the second pass
        lon[:] = np.nan
    if del_nodes:
        lon[np.isin(refs, np.fromiter(del_nodes, dtype=np.int64))] = np.nan
    # locate what the index could not: deleted, negative ids, out of order, inline
    miss = np.isnan(lon)
    lat[miss] = np.nan
    unresolved: set[int] = set(refs[miss].tolist())
    invalid: set[int] = set()
    if unresolved:
        found, invalid, _deleted, inline = _node_pass(read_path, unresolved - del_nodes)
        for k, v in inline.items():
            found.setdefault(k, v)
        for i in np.flatnonzero(miss):
            loc = found.get(int(refs[i]))
            if loc is not None and int(refs[i]) not in del_nodes:
                lon[i], lat[i] = loc
    bad_nodes = invalid | (set(bad_coords) & unresolved)
    pieces = _split_at_gaps(streets, counts, refs, lon, lat, bad_nodes)
    n_gaps, missing_refs, gaps, gap_ways = pieces.pop("gaps")
    if bad_nodes:
        desc = [f"node {i}" + (f" ({bad_coords[i]})" if i in bad_coords else " (out of range)")
                for i in sorted(bad_nodes)]
        _warn(f"{len(bad_nodes)} node(s) in {source!r} have invalid coordinates and were "
              f"skipped, their ways split there: {_listing(desc)}. Fix their lat/lon in an "
              "editor if these streets matter.")
    if n_gaps:
        _warn(f"{n_gaps} gap(s) in {gap_ways} way(s) of {source!r}: {missing_refs} node "
              "reference(s) point to nodes missing from the extract (a clipped file?) or "
              "deleted. The ways were split at the gaps, never bridged: "
              f"{_listing(gaps, gap_ways)}. Use an extract made with complete ways "
              "(osmium extract --strategy complete_ways) to keep these streets whole.")
    if dropped:
        _warn(f"{dropped} way(s) in {source!r} are not walkable (motorway, "
              "access=no, ...) and were left out; pass walkable_only=False to keep them.")
    if not len(pieces["counts"]):
        raise InputError(f"{source!r} has no walkable highway ways with located nodes: the "
                         "walking network is empty.")
    return {**pieces, "not_walkable": dropped, "source": source,
            "report": {"gaps": n_gaps, "missing_refs": missing_refs,
                       "bad_coordinate_nodes": len(bad_nodes), "deleted_ways": deleted_ways}}


_NO_RUNS: dict[str, Any] = {"refs": np.zeros(0, np.int64), "lon": np.zeros(0), "lat": np.zeros(0),
                            "counts": np.zeros(0, np.int64), "tags": []}


def _split_at_gaps(streets, counts, refs, lon, lat, bad_nodes: set[int]) -> dict[str, Any]:
    """Runs of located nodes of every street way (vectorised over all ways).

    Returns the runs of two or more consecutive located nodes as flat arrays
    ``refs``, ``lon``, ``lat`` (run after run), ``counts`` (nodes per run) and
    ``tags`` (one dict per run), and ``gaps``: (number of gaps, number of
    references to missing or deleted nodes, one description per way with gaps).
    Nodes with bad coordinates split ways too but are reported separately.
    """
    if not streets or refs.size == 0:
        return {**_NO_RUNS, "gaps": (0, 0, [], 0)}
    way = np.repeat(np.arange(len(streets)), counts)
    first = np.zeros(refs.size, dtype=bool)
    first[np.cumsum(counts)[:-1]] = True
    first[0] = True
    ok = ~np.isnan(lon)
    lost = ~ok
    if bad_nodes:
        lost &= ~np.isin(refs, np.fromiter(bad_nodes, dtype=np.int64))
    gap_start = lost & (first | ~np.roll(lost, 1))
    gap_ways = np.flatnonzero(np.bincount(way[lost], minlength=len(streets)))
    gaps = []
    for w in gap_ways[:_LIST_LIMIT]:
        ids = refs[lost & (way == w)]
        more = "..." if ids.size > 5 else ""
        gaps.append(f"way {streets[w][0]} (node{'s' if ids.size > 1 else ''} "
                    f"{', '.join(map(str, ids[:5].tolist()))}{more})")
    # runs of located nodes within one way
    run_start = ok & (first | ~np.roll(ok, 1))
    run = np.cumsum(run_start) - 1
    run_len = np.bincount(run[ok], minlength=int(run_start.sum()))
    keep = ok & (run_len[np.maximum(run, 0)] >= 2) if run_len.size else ok
    if not keep.any():
        return {**_NO_RUNS,
                "gaps": (int(gap_start.sum()), int(lost.sum()), gaps, int(gap_ways.size))}
    cut = np.flatnonzero(run_start[keep])[1:]
    run_way = way[keep][np.concatenate([[0], cut])]
    return {"refs": refs[keep], "lon": lon[keep], "lat": lat[keep],
            "counts": np.diff(np.concatenate([[0], cut, [int(keep.sum())]])),
            "tags": [{**streets[w][1]["tags"], "osmid": streets[w][0]} for w in run_way],
            "gaps": (int(gap_start.sum()), int(lost.sum()), gaps, int(gap_ways.size))}
