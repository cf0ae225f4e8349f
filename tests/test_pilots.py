"""Pilots as data: config and services-file pilots, their wards and dates."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from needsmap.config import config_from_dict
from needsmap.errors import ConfigError, InputError
from needsmap.pilots import WARD_COLUMNS, load_pilots, provision_date
from needsmap.sources.services import load_services

BNG = "EPSG:27700"


@pytest.fixture
def wards():
    """Two 1 km square wards side by side: W1 (x 0-1000) and W2 (x 1000-2000)."""
    return gpd.GeoDataFrame(
        {"ward_name": ["Oak", "Elm"]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=BNG,
        index=pd.Index(["W1", "W2"], name="ward_code"),
    )


@pytest.fixture
def postcodes():
    return pd.DataFrame(
        {"easting": [1500.0], "northing": [500.0]}, index=pd.Index(["ZZ1 1ZZ"], name="postcode")
    )


@pytest.fixture
def services():
    return gpd.GeoDataFrame(
        {
            "service_id": ["S1", "S2"],
            "name": ["Oak School", "Elm School"],
            "type": ["school", "school"],
            "subtype": ["", ""],
            "pilot": [False, True],
            "pilot_start": pd.to_datetime([None, "2022-09-01"]),
            "pilot_end": pd.to_datetime([None, None]),
            "source": ["services.csv", "services.csv"],
        },
        geometry=gpd.points_from_xy([500, 1500], [500, 500]),
        crs=BNG,
    )


def pilots_from(data, services, wards, postcodes, as_of=dt.date(2025, 3, 31)):
    cfg = config_from_dict({"pilots": data})
    return load_pilots(cfg.pilots, services, wards, postcodes, as_of=as_of)


def test_config_and_file_pilots_give_the_tidy_ward_table(services, wards, postcodes):
    got = pilots_from(
        [
            {
                "name": "Oak pilot",
                "site": {"service": "Oak School"},
                "start": "2023-09-01",
                "end": dt.date(2024, 7, 31),
                "description": "Family support in school",
            },
            {"name": "Both wards", "wards": ["elm", "W1"], "start": dt.date(2025, 1, 6)},
            {"name": "By postcode", "site": {"postcode": "zz11zz"}, "start": "2026-01-01"},
        ],
        services,
        wards,
        postcodes,
    )
    table = got.table.set_index("pilot")
    assert table.loc["Oak pilot", ["service_id", "wards", "active"]].tolist() == ["S1", "W1", False]
    assert table.loc["Both wards", ["wards", "wards_given", "active"]].tolist() == [
        "W2; W1",
        True,
        True,
    ]
    assert table.loc["By postcode", ["wards", "active"]].tolist() == ["W2", False]  # not yet
    # the services file's pilot, with its dates from pilot_start
    assert table.loc["Elm School", ["service_id", "source", "active"]].tolist() == [
        "S2",
        "services.csv",
        True,
    ]
    assert list(got.wards.columns) == WARD_COLUMNS
    assert got.wards.values.tolist()[:3] == [
        ["Oak pilot", "W1", pd.Timestamp("2023-09-01"), pd.Timestamp("2024-07-31")],
        ["Both wards", "W2", pd.Timestamp("2025-01-06"), pd.NaT],
        ["Both wards", "W1", pd.Timestamp("2025-01-06"), pd.NaT],
    ]
    assert got.active_wards == ["W1", "W2"]
    assert got.service_ids == {"S1", "S2"}
    assert list(got.active_sites["pilot"]) == ["Elm School"]
    assert got.describe().startswith(
        "pilots: 4 (2 running on 2025-03-31): Oak pilot from 2023-09-01 to 2024-07-31"
    )


def test_a_config_pilot_at_a_flagged_service_is_one_pilot(services, wards, postcodes):
    got = pilots_from(
        [{"name": "Elm pilot", "site": {"service": "S2"}, "start": "2021-01-01"}],
        services,
        wards,
        postcodes,
    )
    assert got.table["pilot"].tolist() == ["Elm pilot"]


def test_undated_file_pilot_counts_but_is_noted(services, wards, postcodes):
    services = services.assign(pilot_start=pd.NaT)
    got = pilots_from([], services, wards, postcodes)
    assert got.table["active"].tolist() == [True]
    assert got.notes == [
        "pilots: ['Elm School'] have no start date (add a pilot_start column to the services "
        "file); they count as running, and are left out of comparisons over time"
    ]


def test_no_pilots_says_where_to_add_them(services, wards, postcodes):
    got = pilots_from([], services.assign(pilot=False), wards, postcodes)
    assert got.table.empty and got.wards.empty and got.active_wards == []
    assert got.describe() == (
        "pilots: none given (config key 'pilots', or pilot = yes in a services file)"
    )


@pytest.mark.parametrize(
    ("pilot", "message"),
    [
        ({"name": "A", "start": "2023-09-01"}, r"pilots\[1\] \(A\): give a site .* or the wards"),
        ({"name": "A", "wards": ["W1"]}, r"pilots\[1\]\.start: required"),
        (
            {"name": "A", "wards": ["W1"], "start": "Sept 2023"},
            r"pilots\[1\]\.start: 'Sept 2023' is not a date; write it as YYYY-MM-DD",
        ),
        (
            {"name": "A", "wards": ["W1"], "start": "2023-09-01", "end": "2023-01-01"},
            r"pilots\[1\] \(A\)\.end: 2023-01-01 is before its start 2023-09-01",
        ),
        (
            {"name": "A", "site": {"town": "Wallasey"}, "start": "2023-09-01"},
            r"pilots\[1\] \(A\)\.site: \['town'\] is not a location",
        ),
        (
            {"name": " ", "wards": ["W1"], "start": "2023-09-01"},
            r"pilots\[1\]\.name: give the pilot a name",
        ),
        (
            {"name": "A", "wards": ["W1"], "start": "2023-09-01", "lead": "x"},
            r"pilots\[1\]\.lead: unknown key",
        ),
    ],
)
def test_bad_pilot_in_the_config(pilot, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"pilots": [pilot]})


def test_pilot_names_are_unique():
    p = {"name": "A", "wards": ["W1"], "start": "2023-09-01"}
    with pytest.raises(ConfigError, match=r"pilots\[2\] \(A\): the name is used twice"):
        config_from_dict({"pilots": [p, p]})


def test_the_old_pilot_wards_key_says_what_replaced_it():
    with pytest.raises(
        ConfigError, match=r"siting.pilot_wards: replaced by the top-level 'pilots' list"
    ):
        config_from_dict({"siting": {"pilot_wards": ["Seacombe"]}})


@pytest.mark.parametrize(
    ("site", "message"),
    [
        (
            {"service": "Ash School"},
            r"pilots\[1\] \(P\)\.site: no service with service_id or name 'Ash School'",
        ),
        (
            {"postcode": "ZZ9 9ZZ"},
            r"pilots\[1\] \(P\)\.site: postcode 'ZZ9 9ZZ' is not in the area's postcode file",
        ),
        (
            {"lon": 200, "lat": 53},
            r"pilots\[1\] \(P\)\.site: .* is not a location; give lon/lat in degrees",
        ),
        ({"easting": 90000, "northing": 500}, r"pilots: \['P'\] more than 5 km outside the area"),
    ],
)
def test_pilot_site_that_cannot_be_placed(site, message, services, wards, postcodes):
    with pytest.raises(ConfigError, match=message):
        pilots_from(
            [{"name": "P", "site": site, "start": "2023-01-01"}], services, wards, postcodes
        )


def test_pilot_ward_not_in_the_area(services, wards, postcodes):
    with pytest.raises(
        ConfigError,
        match=r"pilots\[1\] \(P\)\.wards: \['Ash'\] not wards of this area; use codes or names such as W1 or Oak",
    ):
        pilots_from(
            [{"name": "P", "wards": ["Ash"], "start": "2023-01-01"}], services, wards, postcodes
        )


def test_services_file_gives_pilot_dates(tmp_path, wards, postcodes):
    path = tmp_path / "pilots.csv"
    path.write_text(
        "name,type,easting,northing,pilot,pilot_start,pilot_end\n"
        "Oak pilot,school,500,500,yes,2023-09-01,31/07/2024\n"
        "Elm School,school,1500,500,no,,\n"
    )
    got = load_services([path], postcodes, wards.union_all())
    assert got.placed["pilot_start"].tolist()[0] == pd.Timestamp("2023-09-01")
    assert got.placed["pilot_end"].tolist()[0] == pd.Timestamp("2024-07-31")
    assert got.placed["pilot_start"].isna().tolist() == [False, True]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "yes,Sept 2023,",
            r"pilots.csv: column 'pilot_start' is not a date at row 2 \(found \['Sept 2023'\]\)",
        ),
        (
            "no,2023-09-01,",
            r"pilots.csv: 'pilot_start'/'pilot_end' given where column 'pilot' is not yes at row 2",
        ),
        ("yes,2023-09-01,2022-01-01", r"pilots.csv: 'pilot_end' is before 'pilot_start' at row 2"),
    ],
)
def test_bad_pilot_dates_in_a_services_file(tmp_path, wards, postcodes, row, message):
    path = tmp_path / "pilots.csv"
    path.write_text(
        f"name,type,easting,northing,pilot,pilot_start,pilot_end\nOak,school,500,500,{row}\n"
    )
    with pytest.raises(InputError, match=message):
        load_services([path], postcodes, wards.union_all())


def test_provision_is_counted_on_the_caseloads_latest_date_by_default():
    # Reruns on another day count the same pilots: no default reads the clock.
    periods = ["2023-03-31", "2025-03-31", "2024-03-31"]
    assert provision_date(None, periods) == (dt.date(2025, 3, 31), "the caseload's latest date")
    assert provision_date(dt.date(2024, 9, 1), periods) == (dt.date(2024, 9, 1), "siting.as_of")
    when, why = provision_date(None, ["latest"])
    assert when == dt.date.today()
    assert why == "the day of the run: the caseload has no dated period; set siting.as_of"


def test_the_run_states_the_date_provision_is_counted_on(bundled_run):
    import json

    folder = bundled_run.written[0].parent
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert record["provision_counted_on"] == "2025-03-31"
    assert "existing provision counted on 2025-03-31 (the caseload's latest date)" in record["notes"]
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert (
        "Existing provision is counted as it stood on 31 March 2025 (the caseload&#39;s latest date)."
        in html
    )
