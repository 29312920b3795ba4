"""Tests of careplan.standards: shipped profiles, citations, user copies, bad profiles."""

from __future__ import annotations

import dataclasses
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from careplan import standards
from careplan._errors import CareplanError, InputError

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"

# The DESIGN.md rules table, typed in by hand: (kind, applies_to, value[, max]) that each
# profile must contain.
DESIGN_TABLE = {
    "jinwan-2020": [
        ("floor_area_per_100hh", "new", 20), ("floor_area_per_100hh", "existing", 15),
        ("town_centre_min_floor_area_m2", "all", 500), ("centre_per_town", "all", 1),
        ("station_coverage_share", "all", 1.0), ("service_circle", "all", 15),
        ("nursing_bed_share_min", "all", 0.5), ("canteen_coverage_share", "all", 1.0),
    ],
    "taiyuan-2021": [
        ("nursing_bed_share_min", "all", 0.6), ("care_land_m2_per_resident", "all", 0.1),
        ("community_centre_floor_area_range_m2", "all", 500, 2000),
        ("centres_per_street", "all", 2), ("street_coverage_share", "all", 1.0),
        ("welfare_home_beds", "city", 2000), ("welfare_home_beds", "urban_district", 200),
        ("welfare_home_beds", "county", 100),
    ],
    "urumqi-2024": [
        ("service_circle", "all", 15), ("district_centre_count", "all", 1),
        ("street_centre_share", "all", 0.6),
    ],
    "province-report": [
        ("nursing_bed_share_min", "all", 0.59), ("station_coverage_share", "all", 1.0),
    ],
    "sichuan-2020": [
        ("social_workers_per_1000_elderly", "all", 1), ("social_workers_per_100_beds", "all", 1),
    ],
    # DESIGN.md "Beyond the seeds" (secondary sources, verified = false)
    "gb50437-2018": [
        ("care_land_m2_per_resident", "all", 0.1), ("beds_per_1000_elderly", "all", 40),
        ("building_m2_per_bed", "all", 35),
    ],
    "gb50180-2018": [
        ("life_circle_m", "15min", 800, 1000), ("life_circle_m", "10min", 500),
        ("life_circle_m", "5min", 300),
    ],
    "anhui-2022": [
        ("floor_area_per_100hh", "new", 30), ("floor_area_per_100hh", "existing", 20),
        ("site_floor_area_range_m2", "all", 350), ("pooling_circle_minutes", "all", 5),
    ],
    "guangdong": [("floor_area_per_100hh", "new", 20), ("floor_area_per_100hh", "existing", 15)],
    "embedded-services-2024": [("site_floor_area_range_m2", "all", 600)],
}
DESIGN = SEEDS.parent / "DESIGN.md"


def test_available_lists_shipped_profiles():
    names = standards.available()
    assert names == sorted(names)
    assert {"jinwan-2020", "taiyuan-2021", "urumqi-2024"} <= set(names)
    assert set(DESIGN_TABLE) == set(names)


@pytest.mark.parametrize("name", sorted(DESIGN_TABLE))
def test_profile_encodes_design_table(name):
    std = standards.load(name)
    assert std.name == name
    have = {(r.kind, r.applies_to, r.value, r.max_value) for r in std.rules}
    for entry in DESIGN_TABLE[name]:
        kind, applies, value = entry[:3]
        mx = float(entry[3]) if len(entry) > 3 else None
        assert (kind, applies, float(value), mx) in have, (name, entry)


@pytest.mark.parametrize("name", sorted(DESIGN_TABLE))
def test_every_rule_cited_and_labelled(name):
    std = standards.load(name)
    ids = [r.id for r in std.rules]
    assert len(ids) == len(set(ids))
    files = {d.file for d in std.documents}
    for r in std.rules:
        c = r.citation
        # a value taken from the official text names its seed file; one that was not checked
        # against it says so and names its secondary source
        source = c.file if c.verified else c.secondary_source
        for text in (r.unit, r.label_en, r.label_zh, c.title, c.title_zh, source, c.clause,
                     c.quote):
            assert isinstance(text, str) and text.strip(), (name, r.id)
        assert c.file in files
        assert re.search(r"[\u4e00-\u9fff]", r.label_zh), r.id
        assert c.quote in str(c) and c.clause in str(c)
        assert r.kind in standards.KINDS
        assert set(r.levels) <= set(standards.FACILITY_LEVELS), r.id


@pytest.mark.parametrize("name", sorted(DESIGN_TABLE))
def test_quotes_are_verbatim_from_the_seed_documents(name):
    if not SEEDS.is_dir():
        pytest.skip("shared seeds not available")
    std = standards.load(name)
    for r in std.rules:
        if not r.citation.verified:
            continue  # see test_unverified_quotes_are_verbatim_from_the_secondary_source
        text = (SEEDS / r.citation.file).read_text(encoding="utf-8")
        for fragment in r.citation.quote.split("……"):
            assert fragment in text, (name, r.id, fragment)
        # the quoted clause states the rule's number (share as a percentage)
        nums = {f"{r.value:g}", f"{r.value * 100:g}%"}
        if r.kind == "service_circle":
            nums |= {"一刻钟"}
        if r.id in ("street_centre_floor_area",):
            nums |= {"IOOO"}  # OCR of 1000 in the source
        if r.value == 1:  # "one" / "every" / "full coverage" written in words
            nums |= {"一個", "一个", "全覆盖", "覆蓋各", "設立區"}  # 設立區…中心: set up the district centre
        if r.kind == "floor_area_on_site":  # the whole requirement built in the estate: 配建
            nums |= {"配建"}
        assert any(n in r.citation.quote for n in nums), (name, r.id, nums)


@pytest.mark.parametrize("name", sorted(DESIGN_TABLE))
def test_unverified_quotes_are_verbatim_from_the_secondary_source(name):
    """verified = false values quote DESIGN.md's table (or issue 12 where it says so)."""
    if not DESIGN.is_file():
        pytest.skip("shared DESIGN.md not available")
    design = DESIGN.read_text(encoding="utf-8")
    for r in standards.load(name).rules:
        c = r.citation
        if c.verified:
            continue
        assert c.secondary_source.strip() and "not verified" in str(c)
        if c.secondary_source.startswith("careplan DESIGN.md"):
            assert c.quote in design, (name, r.id, c.quote)
            nums = {f"{r.value:g}"}
            assert any(n in c.quote for n in nums), (name, r.id)
        else:
            assert c.secondary_source.startswith("careplan issue 12"), (name, r.id)


def test_zh_labels_are_simplified_chinese():
    """Labels and titles in simplified characters (quotes stay verbatim in citations)."""
    traditional = set("區與為這們會來時後說過發對開關門問間長東車書學國實現產業務養護體機構")
    for name in standards.available():
        std = standards.load(name)
        texts = [std.title_zh] + [d.title_zh for d in std.documents]
        texts += [r.label_zh for r in std.rules]
        for t in texts:
            assert not set(t) & traditional, (name, t)


def test_combined_profiles_stricter_value_wins_and_says_who_set_it():
    std = standards.load("jinwan-2020+anhui-2022")
    assert std == standards.load(["jinwan-2020", "anhui-2022"])
    new = std.floor_area_rule("new")
    assert new.value == 30.0 and "anhui" in new.citation.document
    assert "jinwan-2020: floor_area_new = 20" in new.note and "anhui-2022" in new.note
    assert std.floor_area_rule("existing").value == 20.0
    # rules only one profile has are kept as they are
    assert std.rule("town_centre_floor_area").value == 500.0
    assert std.rule("site_min_floor_area").value == 350.0
    # a lower value is stricter for walking circles; ranges take the higher min, lower max
    a = standards.load("gb50180-2018")
    tight = dataclasses.replace(a, name="tight", rules=tuple(
        dataclasses.replace(r, max_value=900.0) if r.id == "life_circle_15min" else r
        for r in a.rules))
    both = standards.combine([a, tight])
    r15 = both.rule("life_circle_15min")
    assert (r15.value, r15.max_value) == (800.0, 900.0) and "maximum 900" in r15.note
    # combined with itself: same values
    j = standards.load("jinwan-2020")
    assert [r.value for r in standards.combine([j, j]).rules] == [r.value for r in j.rules]
    # a minimum above another profile's maximum cannot be combined
    t = standards.load("taiyuan-2021")
    big = dataclasses.replace(t, name="big", rules=tuple(
        dataclasses.replace(r, value=2500.0, max_value=None)
        if r.id == "community_centre_size" else r for r in t.rules))
    with pytest.raises(InputError, match="cannot be combined"):
        standards.combine([t, big])


def test_jinwan_accessors():
    std = standards.load("jinwan-2020")
    assert std.floor_area_rate_m2_per_100hh("new") == 20.0
    assert std.floor_area_rate_m2_per_100hh("existing") == 15.0
    assert std.service_circle_minutes == 15.0
    assert std.walk_speed_m_per_min == 60.0
    assert std.service_circle_m == 900.0
    assert "Assumption" in std.walk_speed_source
    assert std.rule("floor_area_new").value == 20.0
    assert [r.id for r in std.get("floor_area_per_100hh")] == ["floor_area_new",
                                                                "floor_area_existing"]
    assert std.get("centres_per_street") == ()
    assert std.title and std.title_zh and std.documents[0].file.startswith("000_")


def test_standard_is_frozen():
    std = standards.load("jinwan-2020")
    with pytest.raises(dataclasses.FrozenInstanceError):
        std.name = "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        std.rules[0].value = 1.0
    assert isinstance(std.rules, tuple)


def test_accessor_errors():
    std = standards.load("jinwan-2020")
    with pytest.raises(InputError, match="no rule 'nope'"):
        std.rule("nope")
    with pytest.raises(InputError, match="unknown rule kind"):
        std.get("nope")
    with pytest.raises(InputError, match="built must be"):
        std.floor_area_rate_m2_per_100hh("old")
    ty = standards.load("taiyuan-2021")
    with pytest.raises(InputError, match="sets no floor area per 100 households"):
        ty.floor_area_rate_m2_per_100hh("new")
    # no service_circle rule: documented default used
    assert ty.service_circle_minutes == 15.0 and "Assumption" in ty.default_minutes_source


def test_to_frame_one_row_per_rule_with_citation():
    std = standards.load("taiyuan-2021")
    t = std.to_frame()
    assert len(t) == len(std.rules)
    assert list(t["rule_id"]) == [r.id for r in std.rules]
    for col in ("value", "unit", "label_en", "label_zh", "document", "file", "clause",
                "quote", "citation"):
        assert t[col].notna().all(), col
    row = t.set_index("rule_id").loc["community_centre_size"]
    assert row["value"] == 500.0 and row["max_value"] == 2000.0


def test_load_accepts_standard_and_path_types():
    std = standards.load("urumqi-2024")
    assert standards.load(std) is std
    p = standards.profile_path("urumqi-2024")
    assert standards.load(p) == std
    assert standards.load(str(p)) == std


def test_unknown_name_and_missing_file():
    with pytest.raises(InputError, match="unknown standard 'nowhere-2030'.*available"):
        standards.load("nowhere-2030")
    with pytest.raises(InputError, match="does not exist"):
        standards.load("missing/profile.toml")
    with pytest.raises(InputError, match="no shipped standard"):
        standards.profile_path("nowhere-2030")
    with pytest.raises(InputError):
        standards.load(42)


def _set_rule_value(text: str, rule_id: str, new: str) -> str:
    """Replace the first ``value = ...`` line after ``id = "<rule_id>"``."""
    start = text.index(f'id = "{rule_id}"')
    m = re.compile(r"^value = .*$", re.M).search(text, start)
    return text[:m.start()] + f"value = {new}" + text[m.end():]


def test_user_copy_with_other_numbers(tmp_path):
    dst = tmp_path / "my-standard.toml"
    shutil.copy(standards.profile_path("jinwan-2020"), dst)
    text = dst.read_text(encoding="utf-8")
    text = _set_rule_value(text, "floor_area_new", "30.0")
    text = _set_rule_value(text, "floor_area_existing", "20.0")
    text = text.replace('name = "jinwan-2020"', 'name = "my-30-20"')
    dst.write_text(text, encoding="utf-8")
    std = standards.load(dst)
    assert std.name == "my-30-20"
    assert std.floor_area_rate_m2_per_100hh("new") == 30.0
    assert std.floor_area_rate_m2_per_100hh("existing") == 20.0
    assert std.source == str(dst)
    # the rest is unchanged
    orig = standards.load("jinwan-2020")
    assert std.rule("nursing_bed_share") == orig.rule("nursing_bed_share")


JINWAN = "jinwan-2020"
TAIYUAN = "taiyuan-2021"
R0 = "rules[0]<floor_area_new>"

BAD_CASES = [
    # (profile, old, new, expected field path, message fragment)
    (JINWAN, "value = 20.0\n", "", f"{R0}.value", "missing"),
    (JINWAN, "value = 20.0", 'value = "20"', f"{R0}.value", "must be a number"),
    (JINWAN, "value = 20.0", "value = true", f"{R0}.value", "must be a number"),
    (JINWAN, "value = 20.0", "value = -20.0", f"{R0}.value", "must not be negative"),
    (JINWAN, "value = 20.0", "value = nan", f"{R0}.value", "finite"),
    (JINWAN, 'kind = "floor_area_per_100hh"', 'kind = "floor_area"', f"{R0}.kind",
     "unknown rule kind"),
    (JINWAN, 'label_en = "New estates', 'lable_en = "New estates', f"{R0}.lable_en",
     "not a known field"),
    (JINWAN, 'applies_to = "new"', 'applies_to = "old"', f"{R0}.applies_to", "must be one of"),
    (JINWAN, 'applies_to = "new"', 'applies_to = "new"\nlevels = ["station"]', f"{R0}.levels",
     "unknown level"),
    (JINWAN, 'applies_to = "new"', 'applies_to = "new"\nlevels = "community"', f"{R0}.levels",
     "list of strings"),
    (JINWAN, 'applies_to = "new"', 'applies_to = "new"\nyear = "2020"', f"{R0}.year",
     "integer year"),
    (JINWAN, 'applies_to = "new"', 'applies_to = "new"\nmin = 3', f"{R0}.min",
     "only for range kinds"),
    (JINWAN, 'unit = "m2 per 100 households"', "unit = 5", f"{R0}.unit", "must be a string"),
    (JINWAN, "clause = \"二(二)5 落實社區養老設施用房工程\"\n", "", f"{R0}.citation.clause",
     "missing"),
    (JINWAN, 'document = "jinwan-2020"', 'document = "jinwan"', f"{R0}.citation.document",
     "unknown document"),
    (JINWAN, 'id = "floor_area_existing"', 'id = "floor_area_new"',
     "rules[1]<floor_area_new>.id", "duplicates rule id"),
    (JINWAN, 'applies_to = "existing"', 'applies_to = "new"', "rules",
     "more than one floor_area_per_100hh"),
    (JINWAN, "value = 0.5", "value = 50", "rules[7]<nursing_bed_share>.value", "share"),
    (JINWAN, 'value = 1\nunit = "centres per town"', 'value = 1.5\nunit = "centres per town"',
     "rules[3]<town_centre_count>.value", "whole number"),
    (JINWAN, "speed_m_per_min = 60.0", "speed_m_per_min = 0.0",
     "service_circle.speed_m_per_min", "positive"),
    (JINWAN, 'name = "jinwan-2020"\n', "", "name", "missing"),
    (JINWAN, 'schema = 1', 'schema = 1\ncolour = "red"', "colour", "not a known field"),
    (JINWAN, 'key = "jinwan-2020"', 'key = ""', "documents[0].key", "must not be empty"),
    (TAIYUAN, "max = 2000.0", "max = 400.0", "rules[4]<community_centre_size>.min",
     "greater than max"),
    (TAIYUAN, "min = 500.0", "value = 500.0", "rules[4]<community_centre_size>.value",
     "range kind"),
    (TAIYUAN, "min = 2\n", "min = 2.5\n", "rules[5]<centres_per_street>.min", "whole number"),
]


@pytest.mark.parametrize("profile,old,new,where,fragment", BAD_CASES,
                         ids=[f"{c[0]}:{c[3]}:{c[4]}" for c in BAD_CASES])
def test_bad_profile_names_file_and_field(tmp_path, profile, old, new, where, fragment):
    text = standards.profile_path(profile).read_text(encoding="utf-8")
    assert old in text, "test case does not apply to the shipped profile any more"
    bad = tmp_path / "broken-profile.toml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        standards.load(bad)
    msg = str(exc.value)
    assert "broken-profile.toml" in msg
    assert f"field {where!r}" in msg
    assert fragment in msg
    assert isinstance(exc.value, CareplanError) and isinstance(exc.value, ValueError)


def test_bad_toml_syntax(tmp_path):
    bad = tmp_path / "syntax.toml"
    bad.write_text('name = "x"\nvalue = = 3\n', encoding="utf-8")
    with pytest.raises(InputError, match="syntax.toml.*not valid TOML"):
        standards.load(bad)


def test_missing_tables(tmp_path):
    data = tomllib.loads(standards.profile_path(JINWAN).read_text(encoding="utf-8"))
    for key in ("rules", "documents"):
        d = dict(data)
        del d[key]
        with pytest.raises(InputError, match=f"field '{key}' is missing"):
            standards.parse_profile(d, source="mem.toml")
    d = dict(data, rules=[])
    with pytest.raises(InputError, match="'rules' is missing or empty"):
        standards.parse_profile(d, source="mem.toml")
    d = dict(data, rules=[dict(data["rules"][0], citation="see text")])
    with pytest.raises(InputError, match=r"rules\[0\]<floor_area_new>.citation"):
        standards.parse_profile(d, source="mem.toml")


# --------------------------------------------------------------------------- registry


def test_a_new_rule_kind_is_declared_in_one_place(tmp_path):
    """A kind declared with rule_kind() is parsed, validated and evaluated by check()."""
    import geopandas as gpd
    from shapely.geometry import Point, box

    from careplan import compliance
    from careplan.standards import Outcome, rule_kind

    @rule_kind("test_max_facilities", "At most N facilities of the levels.",
               levels=("community",), is_count=True, plausible=(0.0, 10.0),
               stricter="lower")
    def _eval(rule, ctx):
        n = len(ctx.of_levels(rule.levels))
        return Outcome(n <= rule.value, f"{n} facilities", found=n)

    try:
        text = standards.profile_path(JINWAN).read_text(encoding="utf-8")
        text += ('\n[[rules]]\nid = "few"\nkind = "test_max_facilities"\nvalue = 1\n'
                 'unit = "facilities"\nlabel_en = "few"\nlabel_zh = "少"\n[rules.citation]\n'
                 'document = "jinwan-2020"\nclause = "x"\nquote = "y"\n')
        p = tmp_path / "few.toml"
        p.write_text(text, encoding="utf-8")
        std = standards.load(p)
        areas = gpd.GeoDataFrame({"area_id": ["A"], "households": [100], "built": ["new"]},
                                 geometry=[box(0, 0, 10, 10)], crs="EPSG:32650")
        facs = gpd.GeoDataFrame({"facility_id": ["a", "b"], "level": ["community"] * 2,
                                 "floor_area_m2": [10.0, 10.0], "beds": [0, 0],
                                 "nursing_beds": [0, 0]},
                                geometry=[Point(1, 1), Point(2, 2)], crs="EPSG:32650")
        row = compliance.check(areas, facs, standard=std).rules.set_index("rule_id").loc["few"]
        assert row["passed"] is False and row["found"] == 2 and row["note"] == "2 facilities"
        with pytest.raises(InputError, match="plausible range"):
            standards.parse_profile(tomllib.loads(text.replace("value = 1\nunit = \"fac",
                                                               "value = 11\nunit = \"fac")))
    finally:
        del standards.KINDS["test_max_facilities"]


@pytest.mark.parametrize("old,new,where", [
    ("value = 20.0", "value = 1e308", f"{R0}.value"),
    ("value = 20.0", "value = 501.0", f"{R0}.value"),
    ("value = 15.0", "value = 9e99", "rules[1]<floor_area_existing>.value"),
    ("speed_m_per_min = 60.0", "speed_m_per_min = 5000.0", "service_circle.speed_m_per_min"),
    ('value = 15.0\nunit = "minutes"', 'value = 1e5\nunit = "minutes"',
     "rules[6]<service_circle>.value"),
])
def test_implausible_profile_numbers_refused_in_one_line(tmp_path, old, new, where):
    text = standards.profile_path(JINWAN).read_text(encoding="utf-8")
    assert old in text
    p = tmp_path / "big.toml"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError, match="plausible range") as exc:
        standards.load(p)
    msg = str(exc.value)
    assert where in msg and "\n" not in msg


def test_unverified_value_needs_a_secondary_source_and_says_so():
    data = tomllib.loads(standards.profile_path(JINWAN).read_text(encoding="utf-8"))
    d = dict(data, rules=[dict(data["rules"][0],
                               citation=dict(data["rules"][0]["citation"], verified=False))])
    with pytest.raises(InputError, match="secondary_source"):
        standards.parse_profile(d, source="mem.toml")
    d["rules"][0]["citation"]["secondary_source"] = "a textbook, p. 3"
    std = standards.parse_profile(d, source="mem.toml")
    c = std.rules[0].citation
    assert not c.verified and "not verified" in str(c) and "a textbook, p. 3" in str(c)


@pytest.mark.parametrize("name", standards.available())
def test_citations_name_documents_never_files(name):
    for r in standards.load(name).rules:
        s = str(r.citation)
        assert ".txt" not in s and not re.search(r"\d{3}_[0-9a-f]{8}", s), s
        assert r.citation.title_zh in s
