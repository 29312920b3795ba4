"""Policy standards as data: the :class:`Standard` / :class:`Rule` model and the TOML parser.

A profile is a TOML file (see ``careplan/standards/profiles/*.toml``)::

    name = "jinwan-2020"
    title = "..."
    title_zh = "..."

    [[documents]]            # every policy document the rules cite
    key = "jinwan-2020"
    title = "..."
    title_zh = "..."
    file = "000_3e652f51f0a30919.txt"

    [service_circle]         # walking assumptions (not policy text)
    speed_m_per_min = 60.0
    speed_source = "..."

    [[rules]]
    id = "floor_area_new"
    kind = "floor_area_per_100hh"
    applies_to = "new"
    value = 20.0
    unit = "m2 per 100 households"
    label_en = "..."
    label_zh = "..."
    [rules.citation]
    document = "jinwan-2020"
    clause = "..."
    quote = "..."

Range kinds (``community_centre_floor_area_range_m2``, ``centres_per_street``) take
``min`` (and optionally ``max``) instead of ``value``. Every problem is reported as an
:class:`~careplan.InputError` naming the file and the dotted path of the bad field.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from careplan._errors import InputError
from careplan._schema import (  # the one vocabulary and the one walking default
    BUILT_VALUES,
    DEFAULT_WALK_SPEED_M_PER_MIN,
    FACILITY_LEVELS,
    walking_circle_m,
)
from careplan.standards._registry import KINDS, RuleKind

#: Old name of :class:`~careplan.standards._registry.RuleKind` (kept for callers).
KindSpec = RuleKind

__all__ = [
    "BUILT_CLASSES",
    "DEFAULT_WALK_SPEED_M_PER_MIN",
    "FACILITY_LEVELS",
    "KINDS",
    "Citation",
    "Document",
    "KindSpec",
    "Rule",
    "RuleKind",
    "Standard",
    "parse_profile",
]

#: Classes of residential area for the floor-area rule.
BUILT_CLASSES: tuple[str, ...] = BUILT_VALUES


@dataclass(frozen=True)
class Document:
    """A policy document a profile cites.

    Attributes
    ----------
    key : str
        Short name the rules' citations use.
    title, title_zh : str
        Official title (English translation; simplified Chinese).
    file : str
        Seed file the quotes were checked against (internal; never shown as the source).
    issuer, date, url : str
    verified : bool
        False when the official text was not checked and the values come from a
        secondary source (named in ``secondary_source``).
    secondary_source : str
    """

    key: str
    title: str
    title_zh: str
    file: str = ""
    issuer: str = ""
    date: str = ""
    url: str = ""
    verified: bool = True
    secondary_source: str = ""


@dataclass(frozen=True)
class Citation:
    """Where a rule comes from: document title, clause and a short verbatim quote.

    ``str(citation)`` names the document by its title and clause (never by file name)
    and says when the value was not verified against the official text.

    Attributes
    ----------
    document : str
        Key of the cited :class:`Document` in the profile's ``[[documents]]``.
    title, title_zh : str
        The document's official title (English translation; simplified Chinese).
    file : str
        Seed file the quote was checked against (internal; never shown as the source).
    clause : str
        Clause or item of the document (e.g. "任务5", "(二)").
    quote : str
        Short verbatim quote of the clause giving the value.
    verified : bool
        False when the value was not checked against the official text.
    secondary_source : str
        Where an unverified value comes from (required when ``verified`` is False).
    """

    document: str
    title: str
    title_zh: str
    file: str
    clause: str
    quote: str
    verified: bool = True
    secondary_source: str = ""

    def __str__(self) -> str:
        s = f"{self.title_zh}, {self.clause}: “{self.quote}”"
        if not self.verified:
            s += " (未核对官方原文 / not verified against the official text"
            s += f"; source: {self.secondary_source})" if self.secondary_source else ")"
        return s


@dataclass(frozen=True)
class Rule:
    """One policy rule.

    Attributes
    ----------
    id : str
        Unique within its standard.
    kind : str
        One of :data:`KINDS`.
    value : float
        The threshold (for range kinds: the minimum).
    unit : str
    label_en, label_zh : str
    citation : Citation
    applies_to : str
        'new' / 'existing' for floor-area rules, 'city' / 'urban_district' / 'county'
        for welfare homes, else 'all'.
    max_value : float or None
        Upper bound for range kinds.
    levels : tuple of str
        Facility levels the rule counts.
    year : int or None
        Target year stated by the policy, if any.
    note : str
        Interpretation notes.
    """

    id: str
    kind: str
    value: float
    unit: str
    label_en: str
    label_zh: str
    citation: Citation
    applies_to: str = "all"
    max_value: float | None = None
    levels: tuple[str, ...] = ()
    year: int | None = None
    note: str = ""

    @property
    def min_value(self) -> float:
        """The lower bound (same as :attr:`value`)."""
        return self.value

    def label(self, lang: str = "en") -> str:
        """Return the rule's label in one language.

        Parameters
        ----------
        lang : {'en', 'zh'}, default 'en'
            Language; anything but 'zh' gives the English label.

        Returns
        -------
        str
            ``label_zh`` or ``label_en``.
        """
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class Standard:
    """A policy standard: a named, frozen set of cited rules.

    Build with :func:`careplan.standards.load`.

    Attributes
    ----------
    name, title, title_zh : str
    documents : tuple of Document
    rules : tuple of Rule
    walk_speed_m_per_min : float
        Assumed walking speed of older people (documented in ``walk_speed_source``).
    walk_speed_source : str
    default_minutes : float or None
        Service-circle minutes to use when the profile has no ``service_circle`` rule
        (an assumption, documented in ``default_minutes_source``).
    default_minutes_source : str
    description : str
    source : str
        The file the profile was read from.
    """

    name: str
    title: str
    title_zh: str
    documents: tuple[Document, ...]
    rules: tuple[Rule, ...]
    walk_speed_m_per_min: float = DEFAULT_WALK_SPEED_M_PER_MIN
    walk_speed_source: str = ""
    default_minutes: float | None = None
    default_minutes_source: str = ""
    description: str = ""
    source: str = field(default="", compare=False)

    def rule(self, rule_id: str) -> Rule:
        """Return the rule with id ``rule_id``.

        Parameters
        ----------
        rule_id : str
            A rule id of this standard (see :meth:`to_frame`, column ``rule_id``).

        Returns
        -------
        Rule

        Raises
        ------
        InputError
            If the standard has no rule of that id (the message lists its rules).
        """
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise InputError(
            f"standard {self.name!r} has no rule {rule_id!r}; its rules are "
            f"{[r.id for r in self.rules]}")

    def get(self, kind: str) -> tuple[Rule, ...]:
        """Return every rule of ``kind``.

        Parameters
        ----------
        kind : str
            A registered rule kind (:data:`careplan.standards.KINDS`), e.g.
            ``'floor_area_per_100hh'``.

        Returns
        -------
        tuple of Rule
            In profile order; empty if the standard has none of that kind.

        Raises
        ------
        InputError
            If ``kind`` is not a registered rule kind.
        """
        if kind not in KINDS:
            raise InputError(f"unknown rule kind {kind!r}; known kinds: {sorted(KINDS)}")
        return tuple(r for r in self.rules if r.kind == kind)

    def floor_area_rule(self, built: str) -> Rule | None:
        """Return the ``floor_area_per_100hh`` rule for one built class.

        Parameters
        ----------
        built : {'new', 'existing'}
            Built class of the estates.

        Returns
        -------
        Rule or None
            The rule, or None if the standard sets no rate for ``built``.

        Raises
        ------
        InputError
            If ``built`` is not 'new' or 'existing'.
        """
        if built not in BUILT_CLASSES:
            raise InputError(f"built must be one of {BUILT_CLASSES}, got {built!r}")
        for r in self.get("floor_area_per_100hh"):
            if r.applies_to == built:
                return r
        return None

    def floor_area_rate_m2_per_100hh(self, built: str) -> float:
        """Required community-care floor area (m2 per 100 households) for ``built``.

        Parameters
        ----------
        built : {'new', 'existing'}
            Built class of the estates.

        Returns
        -------
        float
            The rate, m2 of floor area per 100 households.

        Raises
        ------
        InputError
            If ``built`` is not 'new'/'existing' or the standard sets no rate for it.
        """
        r = self.floor_area_rule(built)
        if r is None:
            raise InputError(
                f"standard {self.name!r} sets no floor area per 100 households for "
                f"{built!r} areas; add a rule of kind 'floor_area_per_100hh' with "
                f"applies_to = {built!r} to a copy of the profile")
        return float(r.value)

    @property
    def service_circle_minutes(self) -> float | None:
        """Minutes of the service circle: the policy rule, else the profile's default."""
        rules = self.get("service_circle")
        if rules:
            return float(rules[0].value)
        return self.default_minutes

    @property
    def service_circle_m(self) -> float | None:
        """Walking distance of the service circle: minutes x walking speed."""
        m = self.service_circle_minutes
        return None if m is None else walking_circle_m(m, self.walk_speed_m_per_min)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table of the rules with their citations, one row per rule.

        Returns
        -------
        DataFrame
            Shape (n_rules, 19): ``rule_id, kind, applies_to, value, max_value, unit,
            levels, year, label_en, label_zh``, the citation (``document,
            document_zh, file, clause, quote, citation, verified,
            secondary_source``) and ``note``.
        """
        rows = []
        for r in self.rules:
            c = r.citation
            rows.append({
                "rule_id": r.id, "kind": r.kind, "applies_to": r.applies_to,
                "value": r.value, "max_value": r.max_value, "unit": r.unit,
                "levels": ",".join(r.levels), "year": r.year,
                "label_en": r.label_en, "label_zh": r.label_zh,
                "document": c.title, "document_zh": c.title_zh, "file": c.file,
                "clause": c.clause, "quote": c.quote, "citation": str(c),
                "verified": c.verified, "secondary_source": c.secondary_source, "note": r.note,
            })
        cols = ["rule_id", "kind", "applies_to", "value", "max_value", "unit", "levels",
                "year", "label_en", "label_zh", "document", "document_zh", "file",
                "clause", "quote", "citation", "verified", "secondary_source", "note"]
        return pd.DataFrame(rows, columns=cols)

    def __repr__(self) -> str:
        return f"Standard(name={self.name!r}, rules={len(self.rules)})"


# --------------------------------------------------------------------------- parsing


class _Ctx:
    """Error helper: every message names the file and a dotted field path."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, where: str, msg: str) -> InputError:
        return InputError(f"invalid standard profile {self.path}: field {where!r} {msg}")


_TOP_KEYS = {"schema", "name", "title", "title_zh", "description", "documents",
             "service_circle", "rules"}
_DOC_KEYS = {"key", "title", "title_zh", "file", "issuer", "date", "url", "verified",
             "secondary_source"}
_SC_KEYS = {"speed_m_per_min", "speed_source", "default_minutes", "default_minutes_source"}
_RULE_KEYS = {"id", "kind", "value", "min", "max", "unit", "label_en", "label_zh",
              "citation", "applies_to", "levels", "year", "note"}
_CIT_KEYS = {"document", "clause", "quote", "verified", "secondary_source"}
#: Plausible walking speed of older pedestrians, m/min (0.17-3.3 m/s).
_SPEED_RANGE = (10.0, 200.0)


def _unknown(ctx: _Ctx, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        prefix = f"{where}." if where else ""
        raise ctx.fail(f"{prefix}{extra[0]}",
                       f"is not a known field (allowed: {sorted(allowed)}); check the spelling")


def _str(ctx: _Ctx, table: Mapping[str, Any], key: str, where: str, *,
         required: bool = True, default: str = "") -> str:
    path = f"{where}.{key}" if where else key
    if key not in table:
        if required:
            raise ctx.fail(path, "is missing; add it (a non-empty string)")
        return default
    v = table[key]
    if not isinstance(v, str):
        raise ctx.fail(path, f"must be a string, got {type(v).__name__} {v!r}")
    if required and not v.strip():
        raise ctx.fail(path, "must not be empty")
    return v


def _num(ctx: _Ctx, table: Mapping[str, Any], key: str, where: str, *,
         required: bool = True) -> float | None:
    path = f"{where}.{key}" if where else key
    if key not in table:
        if required:
            raise ctx.fail(path, "is missing; add a non-negative number")
        return None
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ctx.fail(path, f"must be a number, got {type(v).__name__} {v!r}")
    v = float(v)
    if not math.isfinite(v):
        raise ctx.fail(path, f"must be a finite number, got {v!r}")
    if v < 0:
        raise ctx.fail(path, f"must not be negative, got {v:g}")
    return v


def _bool(ctx: _Ctx, table: Mapping[str, Any], key: str, where: str, *,
          default: bool) -> bool:
    if key not in table:
        return default
    v = table[key]
    if not isinstance(v, bool):
        raise ctx.fail(f"{where}.{key}", f"must be true or false, got {v!r}")
    return v


def _plausible(ctx: _Ctx, where: str, v: float | None, lo: float, hi: float,
               unit: str) -> None:
    if v is not None and not lo <= v <= hi:
        raise ctx.fail(where, f"= {v:g} is outside the plausible range {lo:g}-{hi:g} {unit}; "
                              "check the number (a typo or a wrong unit?)")


def parse_profile(data: Mapping[str, Any], *, source: str = "<dict>") -> Standard:
    """Validate a parsed TOML mapping and build a :class:`Standard`.

    Parameters
    ----------
    data : Mapping
        The profile as parsed from TOML (``tomllib.load``): ``name``, ``title``,
        ``title_zh``, ``[[documents]]``, ``[[rules]]`` with their citations, optional
        ``[service_circle]``.
    source : str
        Where the mapping came from (a file path), named in every error message.

    Returns
    -------
    Standard
        The frozen profile, every rule checked against its kind's declaration.

    Raises
    ------
    InputError
        Naming ``source`` and the dotted path of the first bad field.
    """
    import careplan.standards.kinds  # noqa: F401  (fills KINDS)

    ctx = _Ctx(source)
    _unknown(ctx, "", data, _TOP_KEYS)
    name = _str(ctx, data, "name", "")
    title = _str(ctx, data, "title", "")
    title_zh = _str(ctx, data, "title_zh", "")
    description = _str(ctx, data, "description", "", required=False)

    docs_raw = data.get("documents")
    if not isinstance(docs_raw, list) or not docs_raw:
        raise ctx.fail("documents", "is missing or empty; add at least one [[documents]] table")
    documents: dict[str, Document] = {}
    for i, d in enumerate(docs_raw):
        w = f"documents[{i}]"
        if not isinstance(d, dict):
            raise ctx.fail(w, "must be a table ([[documents]])")
        _unknown(ctx, w, d, _DOC_KEYS)
        key = _str(ctx, d, "key", w)
        if key in documents:
            raise ctx.fail(f"{w}.key", f"duplicates document key {key!r}; keys must be unique")
        documents[key] = Document(
            key=key, title=_str(ctx, d, "title", w), title_zh=_str(ctx, d, "title_zh", w),
            file=_str(ctx, d, "file", w, required=False),
            issuer=_str(ctx, d, "issuer", w, required=False),
            date=_str(ctx, d, "date", w, required=False),
            url=_str(ctx, d, "url", w, required=False),
            verified=_bool(ctx, d, "verified", w, default=True),
            secondary_source=_str(ctx, d, "secondary_source", w, required=False))
        if not documents[key].verified and not documents[key].secondary_source.strip():
            raise ctx.fail(f"{w}.secondary_source", "is missing; a document with verified = "
                                                    "false must name the secondary source")

    sc = data.get("service_circle", {})
    if not isinstance(sc, dict):
        raise ctx.fail("service_circle", "must be a table ([service_circle])")
    _unknown(ctx, "service_circle", sc, _SC_KEYS)
    speed = _num(ctx, sc, "speed_m_per_min", "service_circle", required=False)
    if speed is None:
        speed = DEFAULT_WALK_SPEED_M_PER_MIN
    if speed <= 0:
        raise ctx.fail("service_circle.speed_m_per_min", "must be positive")
    _plausible(ctx, "service_circle.speed_m_per_min", speed, *_SPEED_RANGE, "m/min")
    speed_source = _str(ctx, sc, "speed_source", "service_circle", required=False)
    default_minutes = _num(ctx, sc, "default_minutes", "service_circle", required=False)
    default_minutes_source = _str(ctx, sc, "default_minutes_source", "service_circle",
                                  required=False)
    _plausible(ctx, "service_circle.default_minutes", default_minutes,
               *KINDS["service_circle"].plausible, "minutes")

    rules_raw = data.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise ctx.fail("rules", "is missing or empty; add at least one [[rules]] table")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, r in enumerate(rules_raw):
        w = f"rules[{i}]"
        if not isinstance(r, dict):
            raise ctx.fail(w, "must be a table ([[rules]])")
        rid = _str(ctx, r, "id", w)
        wid = f"{w}<{rid}>"  # messages name the index and the id
        _unknown(ctx, wid, r, _RULE_KEYS)
        if rid in seen:
            raise ctx.fail(f"{wid}.id", f"duplicates rule id {rid!r}; ids must be unique")
        seen.add(rid)
        kind = _str(ctx, r, "kind", wid)
        if kind not in KINDS:
            raise ctx.fail(f"{wid}.kind", f"is an unknown rule kind {kind!r}; "
                                          f"known kinds: {sorted(KINDS)}")
        spec = KINDS[kind]
        max_value = None
        if spec.is_range:
            if "value" in r:
                raise ctx.fail(f"{wid}.value", f"is not used by range kind {kind!r}; "
                                               "give 'min' (and optionally 'max')")
            value = _num(ctx, r, "min", wid)
            max_value = _num(ctx, r, "max", wid, required=False)
            if max_value is not None and value > max_value:
                raise ctx.fail(f"{wid}.min", f"({value:g}) is greater than max "
                                             f"({max_value:g}); swap or fix them")
        else:
            for k in ("min", "max"):
                if k in r:
                    raise ctx.fail(f"{wid}.{k}", f"is only for range kinds; kind {kind!r} "
                                                 "takes 'value'")
            value = _num(ctx, r, "value", wid)
        if spec.is_share and value > 1:
            raise ctx.fail(f"{wid}.value", f"is a share and must be between 0 and 1, got "
                                           f"{value:g} (write 60% as 0.6)")
        vkey = "min" if spec.is_range else "value"
        _plausible(ctx, f"{wid}.{vkey}", value, *spec.plausible, f"({kind})")
        _plausible(ctx, f"{wid}.max", max_value, *spec.plausible, f"({kind})")
        if spec.is_count:
            for k, v in (("value" if not spec.is_range else "min", value), ("max", max_value)):
                if v is not None and v != int(v):
                    raise ctx.fail(f"{wid}.{k}", f"is a count and must be a whole number, "
                                                 f"got {v:g}")
        applies_to = _str(ctx, r, "applies_to", wid, required=False,
                          default=spec.applies_to[0])
        if applies_to not in spec.applies_to:
            raise ctx.fail(f"{wid}.applies_to", f"must be one of {list(spec.applies_to)} for "
                                                f"kind {kind!r}, got {applies_to!r}")
        if "levels" in r:
            lv = r["levels"]
            if not isinstance(lv, list) or not lv or not all(isinstance(x, str) for x in lv):
                raise ctx.fail(f"{wid}.levels", "must be a non-empty list of strings")
            bad = [x for x in lv if x not in FACILITY_LEVELS]
            if bad:
                raise ctx.fail(f"{wid}.levels", f"has unknown level(s) {bad}; use "
                                                f"{list(FACILITY_LEVELS)}")
            levels = tuple(lv)
        else:
            levels = spec.levels
        year = r.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            raise ctx.fail(f"{wid}.year", f"must be an integer year, got {year!r}")
        cit = r.get("citation")
        if not isinstance(cit, dict):
            raise ctx.fail(f"{wid}.citation", "is missing; add a [rules.citation] table "
                                              "with document, clause and quote")
        cw = f"{wid}.citation"
        _unknown(ctx, cw, cit, _CIT_KEYS)
        dkey = _str(ctx, cit, "document", cw)
        if dkey not in documents:
            raise ctx.fail(f"{cw}.document", f"refers to unknown document {dkey!r}; "
                                             f"documents are {sorted(documents)}")
        doc = documents[dkey]
        verified = _bool(ctx, cit, "verified", cw, default=doc.verified)
        secondary = _str(ctx, cit, "secondary_source", cw, required=False,
                         default=doc.secondary_source)
        if not verified and not secondary.strip():
            raise ctx.fail(f"{cw}.secondary_source", "is missing; a value with verified = "
                                                     "false must name its secondary source")
        citation = Citation(document=dkey, title=doc.title, title_zh=doc.title_zh,
                            file=doc.file, clause=_str(ctx, cit, "clause", cw),
                            quote=_str(ctx, cit, "quote", cw), verified=verified,
                            secondary_source=secondary)
        rules.append(Rule(
            id=rid, kind=kind, value=value, unit=_str(ctx, r, "unit", wid),
            label_en=_str(ctx, r, "label_en", wid), label_zh=_str(ctx, r, "label_zh", wid),
            citation=citation, applies_to=applies_to, max_value=max_value, levels=levels,
            year=year, note=_str(ctx, r, "note", wid, required=False)))

    floor = [r for r in rules if r.kind == "floor_area_per_100hh"]
    for b in BUILT_CLASSES:
        dup = [r.id for r in floor if r.applies_to == b]
        if len(dup) > 1:
            raise ctx.fail("rules", f"has more than one floor_area_per_100hh rule for "
                                    f"{b!r} areas ({dup}); keep one")
    if len([r for r in rules if r.kind == "service_circle"]) > 1:
        raise ctx.fail("rules", "has more than one service_circle rule; keep one")

    return Standard(name=name, title=title, title_zh=title_zh,
                    documents=tuple(documents.values()), rules=tuple(rules),
                    walk_speed_m_per_min=speed, walk_speed_source=speed_source,
                    default_minutes=default_minutes,
                    default_minutes_source=default_minutes_source,
                    description=description, source=source)


def read_profile(path: str | Path) -> Standard:
    """Read and validate a TOML profile file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"standard profile file {str(p)!r} does not exist; give the path "
                         "of a .toml profile or a name from careplan.standards.available()")
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid standard profile {p}: not valid TOML ({exc}); "
                         "fix the syntax at the reported line") from exc
    return parse_profile(data, source=str(p))
