"""Any English council from data/england: names, bundles, published figures, whole runs."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from needsmap.cli import main
from needsmap.config import (
    ClusteringConfig,
    NeedIndexConfig,
    OutputConfig,
    ReportConfig,
    RunConfig,
)
from needsmap.england import (
    child_poverty,
    council_bundle,
    council_lsoas,
    dfe_table,
    fill_child_poverty,
    find_council,
    latest_child_poverty,
)
from needsmap.errors import InputError
from needsmap.maps import layers
from needsmap.sources import load_area


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    """Bundles are built into one cache for the module's tests, never the user's."""
    monkeypatch.setenv("NEEDSMAP_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.mark.parametrize(
    ("text", "code", "name"),
    [
        ("Sefton", "E08000014", "Sefton"),
        ("  sefton ", "E08000014", "Sefton"),
        ("E08000014", "E08000014", "Sefton"),
        ("e06000017", "E06000017", "Rutland"),
        ("Kingston upon Hull", "E06000010", "Kingston upon Hull, City of"),
        ("Lancashire", "E10000017", "Lancashire"),
        ("E10000017", "E10000017", "Lancashire"),
    ],
)
def test_a_council_is_found_by_name_or_code(text, code, name):
    council = find_council(text)
    assert (council.code, council.name, council.note) == (code, name, "")


def test_a_district_runs_its_county_and_says_so():
    council = find_council("Preston")
    assert (council.code, council.name) == ("E10000017", "Lancashire")
    assert len(council.districts) == 12
    assert ("E07000123", "Preston") in council.districts
    assert council.note == (
        "Preston is a district of Lancashire, which runs its children's services (as DfE "
        "publishes them): running Lancashire, all 12 districts"
    )


def test_a_run_by_district_name_says_whose_services_it_runs():
    area = load_area("Preston")
    assert area.name == "Lancashire"
    assert area.notes[0].startswith("Preston is a district of Lancashire, which runs its")
    assert not any("is a district of" in n for n in load_area("Lancashire").notes)


def test_every_district_has_one_childrens_services_council():
    from needsmap.england import councils

    table = councils()
    assert len(table) == 296 and table["lad_code"].is_unique
    assert table["la_code"].nunique() == 153  # DfE's children's services authorities
    assert set(table.loc[table["la_name"] == "Lancashire", "lad_name"]) >= {"Preston", "Burnley"}


def test_an_unknown_council_names_what_it_might_mean():
    with pytest.raises(
        InputError,
        match=r"'Sefon': no area bundle folder and no English council of that name or code\. Did you mean Sefton",
    ):
        find_council("Sefon")


def test_a_name_two_councils_start_with_asks_which():
    with pytest.raises(
        InputError,
        match=r"^'Newcastle' could mean Newcastle upon Tyne \(E08000021\) or Newcastle-under-Lyme "
        r"\(E07000195, a district of Staffordshire\); give the full name or the code",
    ):
        find_council("Newcastle")


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (
            "E10000006",
            "E10000006 is Cumbria's code, which ended in March 2023; its children's services "
            "are now run by Cumberland (E06000063) and Westmorland and Furness (E06000064): "
            "give one of those instead",
        ),
        (
            "e06000028",
            "E06000028 is Bournemouth's code, which ended in March 2019; its children's "
            "services are now run by Bournemouth, Christchurch and Poole (E06000058): give "
            "that instead",
        ),
    ],
)
def test_a_retired_council_code_names_its_successors(code, said):
    with pytest.raises(InputError, match=f"^{re.escape(said)}$"):
        find_council(code)


def test_a_council_dfe_publishes_no_looked_after_figure_for_stops_in_one_line(
    tmp_path, capsys
):
    # DfE suppresses the Isles of Scilly's looked-after children in every year ("z").
    out = tmp_path / "scilly"
    assert main(["run", "--area", "Isles of Scilly", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "needsmap: error: Isles of Scilly: DfE publishes no looked-after children figure for "
        "it in any year since 2021 (suppressed: too few children), so no synthetic ward "
        "caseload can be calibrated to it; give the council's own ward caseload with --caseload"
    ]
    assert not out.exists()


def test_one_councils_rows_are_read_from_the_england_file():
    lsoa = council_lsoas("E10000017")
    assert len(lsoa) == 760 and lsoa["lad_code"].nunique() == 12
    assert lsoa.crs.to_epsg() == 27700
    wirral = council_lsoas("E08000015")
    # MANIFEST: Census 2021, Wirral aged 0-15: 58,105 in 209 LSOAs
    assert (len(wirral), int(wirral["age_0_15"].sum())) == (209, 58_105)
    assert wirral.area.sum() / 1e6 == pytest.approx(157.875, abs=0.05)


def test_dfe_figures_reproduce_wirrals_published_2025_numbers():
    dfe = dfe_table("E08000015")
    la = dfe[(dfe["group"] == "Local authority") & (dfe["year"] == 2025)].set_index("measure")
    assert la.loc["children_in_need_at_31_march", "number"] == 2707
    assert la.loc["children_in_need_at_31_march", "rate_per_10000"] == 409
    assert la.loc["children_looked_after_at_31_march", "number"] == 681
    neighbours = set(dfe.loc[dfe["group"] == "Statistical neighbour", "area_name"])
    assert neighbours == {
        "County Durham",
        "Sefton",
        "Halton",
        "Stockton-on-Tees",
        "Sunderland",
        "Gateshead",
        "Redcar and Cleveland",
        "Lancashire",
        "Bury",
        "South Tyneside",
    }


def test_a_ward_dwp_leaves_blank_takes_the_child_weighted_average():
    pct = pd.Series([10.0, np.nan, 30.0], index=["W1", "W2", "W3"])
    children = pd.Series([100.0, 50.0, 300.0], index=["W1", "W2", "W3"])
    filled, notes = fill_child_poverty(pct, children)
    # (10 x 100 + 30 x 300) / 400 = 25.0
    assert filled.tolist() == [10.0, 25.0, 30.0] and pct.isna().sum() == 1
    assert notes == [
        "child poverty: DWP publishes no figure for 1 ward(s) (W2); they take the area's "
        "average, 25.0%"
    ]


def test_child_poverty_reproduces_dwps_wirral_ward_total():
    wards = council_lsoas("E08000015")["ward_code"].unique()
    latest = latest_child_poverty(child_poverty(pd.Index(wards)))
    # MANIFEST: Wirral's 22 wards, relative BHC, FYE 2025: 11,636 children aged 0-15
    assert (len(latest), int(latest["child_poverty_children"].sum())) == (22, 11_636)


def test_a_council_bundle_is_complete_synthetic_and_calibrated_to_dfe():
    folder = council_bundle("Rutland")
    meta = json.loads((folder / "bundle.json").read_text(encoding="utf-8"))
    assert meta["area_name"] == "Rutland" and meta["caseload_synthetic"] is True
    area = load_area(folder)
    assert not area.has_idaci and area.iod2019 is None and area.postcodes.empty
    assert "bundled for Wirral only" in area.missing_note
    caseload = pd.read_csv(folder / "caseload_synthetic.csv")
    dfe = dfe_table("E06000017")
    la = dfe[dfe["group"] == "Local authority"]
    for measure, dfe_measure in (
        ("children_in_need", "children_in_need_at_31_march"),
        ("looked_after_children", "children_looked_after_at_31_march"),
    ):
        published = la[(la["measure"] == dfe_measure) & (la["year"] == 2025)]["number"].iloc[0]
        assert caseload.loc[caseload["period"] == "2025-03-31", measure].sum() == published
    # children 0-17 are Census 0-15 scaled to DfE's 0-17 population: the totals agree
    pop = la.dropna(subset=["population_0_17"]).sort_values("year")["population_0_17"].iloc[-1]
    assert area.lsoa["children"].sum() == pytest.approx(pop, abs=1)
    assert council_bundle("E06000017") == folder  # built once


def test_county_ward_names_shared_by_two_districts_say_which():
    area = load_area("Lancashire")
    names = area.lsoa.drop_duplicates("ward_code")["ward_name"]
    assert names.is_unique
    assert len(area.lsoa) == 760


def _quick(area: str, out) -> RunConfig:
    return RunConfig(
        area=out.parent / area,  # not a folder: read as a council's name
        need_index=NeedIndexConfig(draws=100),
        clustering=ClusteringConfig(bootstrap=10, hotspot_permutations=99),
        output=OutputConfig(folder=out, static_formats=("png",), dpi=50),
        report=ReportConfig(pdf=False, profiles=3, top_wards=5),
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("area", "name", "wards"),
    [
        ("Manchester", "Manchester", 32),
        ("Rutland", "Rutland", 15),
        ("Lancashire", "Lancashire", None),
    ],
)
def test_councils_of_each_kind_run_end_to_end(tmp_path, area, name, wards):
    from needsmap.pipeline import run

    res = run(_quick(area, tmp_path / "out"), out=tmp_path / "out")
    folder = tmp_path / "out"
    assert res.area.name == name and res.caseload.synthetic
    if wards is not None:
        assert len(res.wards) == wards
    table = pd.read_csv(folder / "wards.csv")
    assert table["child_poverty_pct"].between(0, 100).all()
    assert table["caseload_source"].eq("synthetic").all()
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert f"{name}: where children" in report
    assert "Synthetic caseload" in report
    assert "Children in low income families (%)" in report  # the ward profiles
    # One child-poverty column, and every output says what stands in for IDACI.
    assert "children_low_income_pct" not in table.columns and "idaci_score" not in table.columns
    stand_in = "with DWP child poverty in place of IDACI"
    assert f"{name}: where children" in report and stand_in in report
    assert "standing in for IDACI, which is bundled for Wirral only" in " ".join(report.split())
    assert stand_in in (folder / "needs_map.html").read_text(encoding="utf-8")
    book = load_workbook(folder / "wards.xlsx", read_only=True)
    about = " ".join(str(c) for row in book["About"].iter_rows(values_only=True) for c in row)
    glossary = [row[0] for row in book["Glossary"].iter_rows(values_only=True)]
    book.close()
    assert stand_in in about and "child_poverty_pct" in glossary
    poverty_layers = [s.column for s in layers.layers_for(table.columns) if "poverty" in s.column]
    assert poverty_layers == ["child_poverty_pct", "child_poverty_change", "child_poverty_trend"]
    notes = json.loads((folder / "run.json").read_text(encoding="utf-8"))["notes"]
    assert sum("bundled for Wirral only" in n for n in notes) == 1
    assert any("at IDACI's weight" in n for n in notes)
    bench = pd.read_csv(folder / "la_benchmark.csv")
    assert bench["england_rate"].notna().all()
    assert "Wards like ours nationally" in report
    mix = pd.read_csv(folder / "ward_types.csv")
    assert mix["la_share"].sum() == pytest.approx(1.0, abs=1e-3)
    assert table["similar_wards"].str.count("; ").eq(4).all()


def test_wirral_profiles_name_wards_like_seacombe(bundled_run):
    folder = bundled_run.written[0].parent
    table = pd.read_csv(folder / "wards.csv", index_col="ward_code")
    seacombe = table.loc["E05000972"]
    assert seacombe["ward_type"] == 1
    assert seacombe["similar_wards"].startswith("Brunswick (Blackpool); Anfield (Liverpool)")
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert (
        "Wards like Seacombe elsewhere in England, most alike first: Brunswick (Blackpool),"
        in report
    )
    assert "Number of groups: the largest k with silhouette within 10% of the best" in report


def test_cli_runs_a_council_by_name_into_its_own_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "q3", "--area", "Rutland"]) == 0
    caseload = pd.read_csv(tmp_path / "q3" / "caseload.csv")
    assert len(caseload) == 15
    config = (tmp_path / "q3" / "needsmap.yml").read_text(encoding="utf-8")
    assert "Rutland" in config
    assert "\narea: Rutland" in config
    capsys.readouterr()
    assert main(["validate", "--area", "Sefon"]) == 2
    assert "Did you mean Sefton" in capsys.readouterr().out
    main(["validate", "--config", "q3/needsmap.yml"])  # the blank template: problems, but
    out = capsys.readouterr().out  # the area is read by name
    assert "Rutland: " in out and "LSOAs in 15 wards" in out


def test_england_lsoas_dissolve_as_a_clean_coverage():
    """prepare_data snapped the 11 LSOAs (Milton Keynes, Devon...) that did not meet exactly."""
    import shapely

    lsoa = council_lsoas("E06000042")  # Milton Keynes
    assert shapely.is_empty(shapely.coverage_invalid_edges(lsoa.geometry.to_numpy())).all()


def test_lsoas_that_overlap_slightly_still_dissolve():
    import geopandas as gpd
    from shapely.geometry import box

    from needsmap.geography import outline, ward_polygons

    lsoa = gpd.GeoDataFrame(
        {"ward_code": ["W1", "W1", "W2"], "ward_name": ["One", "One", "Two"]},
        geometry=[box(0, 0, 10, 10), box(9.5, 0, 20, 10), box(20, 0, 30, 10)],
        crs="EPSG:27700",
    )
    wards = ward_polygons(lsoa)  # the first two overlap by half a metre: not a coverage
    assert wards.area.round(6).to_dict() == {"W1": 200.0, "W2": 100.0}
    assert outline(wards).area == pytest.approx(300.0)
