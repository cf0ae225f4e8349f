from __future__ import annotations

import shutil

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box
from tests.conftest import write_csv

from needsmap.errors import InputError, RepairWarning
from needsmap.geography import ward_polygons
from needsmap.sources import load_area, load_caseload, load_services
from needsmap.sources._table import _NUMBER, _all_numbers, read_table, to_numbers
from needsmap.sources.boundaries import load_lsoa_boundaries, load_ward_boundaries
from needsmap.sources.postcodes import normalise_postcode

WARDS = pd.Series({"E05000954": "Bebington", "E05000955": "Bidston and St James"})
HEADER = "ward_code,period,children_in_need,child_protection_plans,looked_after_children\n"


def caseload(tmp_path, body, header=HEADER, **kw):
    return load_caseload(write_csv(tmp_path / "caseload.csv", header + body, **kw), WARDS)


def test_caseload_reads_counts_and_latest_period(tmp_path):
    cl = caseload(
        tmp_path,
        "E05000954,2024,10,5,6\nE05000955,2024,20,7,8\n"
        "E05000954,2025,11,5,6\nE05000955,2025,21,7,9\n",
    )
    assert cl.periods == ["2024", "2025"]
    assert cl.latest.loc["E05000955", "looked_after_children"] == 9
    assert cl.measures == ("children_in_need", "child_protection_plans", "looked_after_children")


def test_caseload_matches_names_and_repairs_codes(tmp_path):
    path = write_csv(
        tmp_path / "c.csv", "Ward Code,children_in_need\n e05000954 ,10\nBidston & St. James,12\n"
    )
    with pytest.warns(RepairWarning) as caught:
        cl = load_caseload(path, WARDS)
    assert sorted(cl.latest.index) == ["E05000954", "E05000955"]
    assert (
        [str(w.message) for w in caught]
        == cl.notes
        == [
            "c.csv: matched 1 ward name(s) to codes, 1 of them loosely "
            "('Bidston & St. James' -> E05000955 Bidston and St James)",
            "c.csv: trimmed spaces or fixed case in 1 ward code(s)",
        ]
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "E05000954,2025,10,5,6\nE05000999,2025,1,1,1\n",
            r"caseload.csv: column 'ward_code' has 1 ward\(s\) not in this area \(\['E05000999'\]\) at row 3",
        ),
        (
            "E05000954,2025,10,5,6\nE05000954,2025,10,5,6\nE05000955,2025,1,1,1\n",
            r"appear more than once in the same period at rows 2, 3",
        ),
        (
            "E05000954,2025,10,-5,6\nE05000955,2025,1,1,1\n",
            r"column 'child_protection_plans' has negative values at row 2",
        ),
        (
            "E05000954,2025,10.5,5,6\nE05000955,2025,1,1,1\n",
            r"column 'children_in_need' must hold whole counts; fractions at row 2",
        ),
        (
            "E05000954,2025,n/a,5,6\nE05000955,2025,1,1,1\n",
            r"column 'children_in_need' has values that are not numbers \('n/a'\) at row 2",
        ),
        (
            "E05000954,2025,,5,6\nE05000955,2025,1,1,1\n",
            r"column 'children_in_need' is blank at row 2",
        ),
        (
            "E05000954,2025,10,5,6\n",
            r"period 2025 has no row for 1 ward\(s\), e.g. \['E05000955 Bidston and St James'\]",
        ),
        ("", r"header but no data rows"),
    ],
)
def test_caseload_errors_name_file_column_and_rows(tmp_path, body, message):
    with pytest.raises(InputError, match=message):
        caseload(tmp_path, body)


def test_caseload_accepts_thousands_separators(tmp_path):
    cl = caseload(tmp_path, 'E05000954,2025,"1,234",5,6\nE05000955,2025,1,0,0\n')
    assert cl.latest.loc["E05000954", "children_in_need"] == 1234


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"the caseload file is empty"),
        ("ward_code;children_in_need\nE05000954;3\n", r"It looks semicolon-separated"),
        ("ward,period\nE05000954,2025\n", r"no caseload columns; expected one or more of"),
        ("area,children_in_need\nE05000954,2\n", r"no ward column; add 'ward_code'"),
    ],
)
def test_caseload_file_shape_errors(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        load_caseload(write_csv(tmp_path / "caseload.csv", text), WARDS)


def test_caseload_missing_file(tmp_path):
    with pytest.raises(InputError, match="caseload file not found"):
        load_caseload(tmp_path / "nope.csv", WARDS)


def test_caseload_reads_bom_and_windows_1252(tmp_path):
    text = "ward_name,children_in_need,note\nBebington,3,caf\u00e9\nBidston and St James,4,\n"
    cl = load_caseload(write_csv(tmp_path / "bom.csv", "\ufeff" + text), WARDS)
    assert cl.latest["children_in_need"].sum() == 7
    with pytest.warns(UserWarning, match="read as Windows-1252"):
        cl = load_caseload(write_csv(tmp_path / "w.csv", text, encoding="cp1252"), WARDS)
    assert cl.latest["children_in_need"].sum() == 7


def test_normalise_postcode():
    s = normalise_postcode(pd.Series(["ch41 0aa", "CH410AA", " CH41  0AA "]))
    assert s.tolist() == ["CH41 0AA"] * 3


def test_services_placed_by_postcode_coords_and_unplaced_listed(tmp_path):
    postcodes = pd.DataFrame(
        {"easting": [330221.0], "northing": [389698.0], "lsoa_code": [""]},
        index=pd.Index(["CH41 0AA"], name="postcode"),
    )
    area = box(320000, 380000, 340000, 395000)
    path = write_csv(
        tmp_path / "hubs.csv",
        "name,type,postcode,lon,lat,capacity\n"
        "Hub A,Family hub,ch410aa,,,30\n"
        "Hub B,Family hub,,-3.05,53.40,\n"
        "Hub C,Family hub,CH99 9ZZ,,,\n"
        "Hub D,Family hub,NOT A PC,,,\n"
        "Hub E,Family hub,,,,\n"
        "Hub F,Family hub,,-1.0,52.0,\n",
    )
    svc = load_services([path], postcodes, area)
    assert svc.placed["name"].tolist() == ["Hub A", "Hub B"]
    assert svc.placed["type"].unique().tolist() == ["family_hub"]
    assert svc.placed.crs == "EPSG:27700"
    assert svc.placed.loc[0, "capacity"] == 30
    reasons = dict(zip(svc.unplaced["name"], svc.unplaced["reason"], strict=True))
    assert reasons == {
        "Hub C": "postcode not in the postcode file",
        "Hub D": "postcode malformed",
        "Hub E": "no coordinates or postcode",
        "Hub F": "more than 5 km outside the area",
    }


def test_school_attributes_and_capacity_from_pupils(tmp_path):
    area = box(320000, 380000, 340000, 395000)
    path = write_csv(
        tmp_path / "schools.csv",
        "name,type,easting,northing,category,phase,capacity,pupils,fsm_share\n"
        "Oak Primary,school,330000,389000,Mainstream,Primary,,210,0.412\n"
        "Elm Special,school,331000,389000,special,,50,48,\n"
        "Ash Hub,family_hub,332000,389000,,,,,\n",
    )
    placed = load_services([path], pd.DataFrame(), area).placed
    assert placed["category"].tolist() == ["mainstream", "special", ""]
    assert placed["phase"].tolist() == ["Primary", "", ""]
    # no capacity given: the pupils on roll stand in; a given capacity is kept
    assert placed["capacity"].tolist()[:2] == [210, 50]
    assert placed["capacity"].isna().tolist()[2]
    assert placed["fsm_share"].tolist()[0] == 0.412


def test_fsm_share_above_one_is_a_percentage(tmp_path):
    path = write_csv(
        tmp_path / "schools.csv",
        "name,type,easting,northing,fsm_share\nOak,school,330000,389000,41.2\n",
    )
    with pytest.raises(
        InputError,
        match=r"schools.csv: column 'fsm_share' is the share .* above 1 at row 2; divide "
        "percentages by 100",
    ):
        load_services([path], pd.DataFrame(), box(320000, 380000, 340000, 395000))


def test_services_without_location_columns(tmp_path):
    path = write_csv(tmp_path / "s.csv", "name,type\nA,school\n")
    with pytest.raises(InputError, match=r"s.csv: no location columns; add 'postcode'"):
        load_services([path], pd.DataFrame(), box(0, 0, 1, 1))


def test_services_swapped_lon_lat(tmp_path):
    path = write_csv(tmp_path / "s.csv", "name,type,lon,lat\nA,school,53.4,-3.05\n")
    with pytest.raises(InputError, match=r"columns 'lon' and 'lat' look swapped at row 2"):
        load_services([path], pd.DataFrame(), box(0, 0, 1, 1))


def test_boundaries_without_crs(tmp_path, grid_lsoa):
    path = tmp_path / "b.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        grid_lsoa.set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(InputError, match="no coordinate reference system"):
        load_lsoa_boundaries(path)


def test_geojson_with_projected_coordinates(tmp_path, grid_lsoa):
    # GeoJSON is read as WGS84; metres in it mean the file was saved wrongly.
    path = tmp_path / "b.geojson"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        grid_lsoa.set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(InputError, match="coordinates are not longitude/latitude"):
        load_lsoa_boundaries(path)


def test_boundaries_missing_column_and_empty_geometry(tmp_path, grid_lsoa):
    path = tmp_path / "b.gpkg"
    grid_lsoa.drop(columns="ward_name").to_file(path)
    with pytest.raises(InputError, match=r"missing column\(s\) \['ward_name'\]"):
        load_lsoa_boundaries(path)
    broken = grid_lsoa.copy()
    broken.loc[2, "geometry"] = None
    broken.to_file(path)
    with pytest.raises(InputError, match=r"empty geometry for \['E01000003'\] at row 4"):
        load_lsoa_boundaries(path)


def test_bundled_area_loads(wirral_dir):
    area = load_area(wirral_dir)
    assert len(area.lsoa) == 209
    assert area.lsoa["ward_code"].nunique() == 22
    assert area.lsoa.crs == "EPSG:27700"
    # Children 0-17 are scaled to DfE's 2025 rate denominator for Wirral (66,223).
    assert area.lsoa["children"].sum() == pytest.approx(66223, abs=1)
    assert area.ward_population["children"].sum() == pytest.approx(66223, abs=1)
    assert area.wards.crs == "EPSG:27700" and len(area.wards) == 22
    assert area.meta["caseload_synthetic"] is True


def test_not_a_bundle(tmp_path):
    with pytest.raises(InputError, match="not an area bundle"):
        load_area(tmp_path)


def test_bundled_caseload_totals_equal_dfe(wirral_dir, wirral_wards):
    cl = load_caseload(wirral_dir / "caseload_synthetic.csv", wirral_wards, synthetic=True)
    totals = cl.latest.sum()
    assert totals["children_in_need"] == 2707
    assert totals["child_protection_plans"] == 353
    assert totals["looked_after_children"] == 681


VALUES = ["", "0", "12", "-3", "4.5", "-0.25", "1e5", "+1", ".5", "5.", "--1", "1.2.3", "x", "٣"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(VALUES), min_size=1, max_size=8))
def test_one_pass_number_check_agrees_with_the_value_by_value_check(values):
    column = pd.Series(values, dtype=str)
    by_value = all(v == "" or _NUMBER.match(v) for v in values)
    assert _all_numbers(column) == by_value


@pytest.mark.parametrize("values", [["1", "2\n3"], ["1", None], []])
def test_one_pass_number_check_defers_when_unsure(values):
    assert not _all_numbers(pd.Series(values, dtype=object))


def test_numbers_keep_blank_rows_and_report_bad_values(tmp_path):
    path = write_csv(tmp_path / "n.csv", "a,b\n1,x\n,2\n , \n3.5,y\n")
    frame = read_table(path, ("a", "b"), what="test")
    assert len(frame) == 3  # the row of blank cells is dropped
    values = to_numbers(frame, "a", path, allow_blank=True)
    assert values.isna().tolist() == [False, True, False]
    with pytest.raises(
        InputError, match=r"column 'b' has values that are not numbers \('x', 'y'\)"
    ):
        to_numbers(frame, "b", path, allow_blank=True)


# --- ward boundaries, LSOA -> ward shares and ward populations in a bundle ----------------


@pytest.fixture
def bundle_copy(tmp_path, wirral_dir):
    """A copy of the Wirral bundle to break one file at a time."""
    folder = tmp_path / "wirral"
    shutil.copytree(wirral_dir, folder)
    return folder


def test_ward_boundaries_are_read_and_checked(tmp_path, grid_lsoa):
    wards = ward_polygons(grid_lsoa).reset_index()
    wards.to_file(tmp_path / "wards.gpkg")
    read = load_ward_boundaries(tmp_path / "wards.gpkg")
    assert list(read.index) == ["E05000001", "E05000002"] and read.crs == "EPSG:27700"
    wards.assign(ward_code=["E05000001", "W1"]).to_file(tmp_path / "bad.gpkg")
    with pytest.raises(
        InputError,
        match=r"bad.gpkg: column 'ward_code' has values that are not ward codes \['W1'\] at row 3",
    ):
        load_ward_boundaries(tmp_path / "bad.gpkg")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda s: s.assign(share=s["share"].where(s.index != 0, 1.5)),
            r"lsoa_ward_shares.csv: column 'share' must be above 0 and at most 1 at row 2",
        ),
        (
            lambda s: s.assign(ward_code=s["ward_code"].where(s.index != 3, "E05009288")),
            r"column 'ward_code' has wards not in wards.geojson \['E05009288'\] at row 5",
        ),
        (
            lambda s: s.iloc[1:],
            r"no row for 1 LSOA\(s\) in the boundaries, e.g. \['E01007110'\]",
        ),
        (
            lambda s: s.assign(share=s["share"].where(s.index != 2, 0.5)),
            r"the shares of LSOA\(s\) \['E01007112'\] do not add up to 1",
        ),
    ],
)
def test_a_broken_shares_file_stops_with_one_line(bundle_copy, edit, message):
    path = bundle_copy / "lsoa_ward_shares.csv"
    edit(pd.read_csv(path)).to_csv(path, index=False)
    with pytest.raises(InputError, match=message):
        load_area(bundle_copy)


def test_without_a_shares_file_they_are_computed_at_run_time(bundle_copy, wirral_dir):
    (bundle_copy / "lsoa_ward_shares.csv").unlink()
    area = load_area(bundle_copy)
    bundled = pd.read_csv(wirral_dir / "lsoa_ward_shares.csv")
    assert len(area.shares) == len(bundled) == 260
    assert area.notes[0].startswith("geography: no lsoa_ward_shares.csv in the bundle")


def test_a_ward_no_lsoa_reaches_stops_the_run(bundle_copy):
    path = bundle_copy / "wards.geojson"
    wards = gpd.read_file(path)
    far = wards.iloc[[0]].assign(ward_code="E05099999", ward_name="Nowhere")
    far["geometry"] = far.geometry.translate(5, 0)  # 5 degrees east: the North Sea
    pd.concat([wards, far]).to_file(path, driver="GeoJSON")
    with pytest.raises(
        InputError, match=r"wards.geojson: no LSOA gives data to ward\(s\) \['E05099999'\]"
    ):
        load_area(bundle_copy)


def test_ward_population_must_name_the_bundle_wards(bundle_copy):
    path = bundle_copy / "population_wards.csv"
    pop = pd.read_csv(path)
    pop.loc[4, "ward_code"] = "E05009288"
    pop.to_csv(path, index=False)
    with pytest.raises(
        InputError, match=r"population_wards.csv: column 'ward_code' has wards not in wards.geojson"
    ):
        load_area(bundle_copy)
