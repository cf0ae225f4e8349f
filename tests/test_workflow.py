"""The analyst's workflow: needsmap init, fill in the templates, needsmap validate."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import write_csv

from needsmap.checks import validate_inputs
from needsmap.cli import main
from needsmap.config import CASELOAD_MEASURES, Pilot, RunConfig, load_config
from needsmap.errors import InputError
from needsmap.starter import (
    CASELOAD_FILE,
    CONFIG_FILE,
    SERVICES_FILE,
    area_wards,
    caseload_template,
    services_template,
    write_starter,
)

WARDS = pd.Series({"E05000955": "Bidston and St James", "E05000954": "Bebington"})


def test_caseload_template_has_every_ward_and_blank_counts():
    frame = caseload_template(WARDS, period="2025-03-31")
    assert list(frame.columns) == ["ward_code", "ward_name", "period", *CASELOAD_MEASURES]
    assert list(frame["ward_code"]) == ["E05000955", "E05000954"]
    assert (frame[list(CASELOAD_MEASURES)] == "").all().all()


def test_services_template_shows_each_way_to_give_a_location():
    postcodes = pd.DataFrame(
        {"easting": [330000, 331000, 332000], "northing": [389000, 388000, 387000]},
        index=pd.Index(["CH41 0AA", "CH42 0AA", "CH43 0AA"], name="postcode"),
    )
    frame = services_template(postcodes)
    assert list(frame["postcode"]) == ["CH41 0AA", "", ""]
    assert frame.loc[2, ["easting", "northing"]].tolist() == ["332000", "387000"]
    # The middle postcode, as WGS84 degrees (about 3.03 W, 53.39 N on the Wirral).
    lon, lat = float(frame.loc[1, "lon"]), float(frame.loc[1, "lat"])
    assert -3.05 < lon < -3.0 and 53.38 < lat < 53.40
    assert frame["name"].str.startswith("EXAMPLE").all()
    assert list(frame["pilot"]) == ["no", "yes", "no"]


def test_area_wards_from_the_lookup_of_an_incomplete_bundle(tmp_path):
    write_csv(
        tmp_path / "lsoa21_wards.csv",
        "lsoa_code,lsoa_name,ward_code,ward_name\n"
        "E01000001,A 001,E05000002,North\nE01000002,A 002,E05000001,South\n"
        "E01000003,A 003,E05000001,South\n",
    )
    assert area_wards(tmp_path).to_dict() == {"E05000001": "South", "E05000002": "North"}
    with pytest.raises(InputError, match="no wards.geojson, lsoa21.geojson or lsoa21_wards.csv"):
        area_wards(tmp_path / "nowhere")


def test_area_wards_needs_code_and_name(tmp_path):
    write_csv(tmp_path / "lsoa21_wards.csv", "lsoa_code,ward_code\nE01000001,E05000001\n")
    with pytest.raises(InputError, match=r"no column\(s\) \['ward_name'\]"):
        area_wards(tmp_path)


def run_cli(*args: str) -> tuple[int, str]:
    """Run the command line and return its exit code and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def starter(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("q3")
    code, out = run_cli("init", str(folder))
    assert code == 0
    assert out.startswith(f"Wrote needsmap.yml, caseload.csv and council_services.csv to {folder}/")
    return folder


def test_init_writes_a_config_that_points_at_the_templates(starter):
    cfg = load_config(starter / CONFIG_FILE)
    assert cfg.area == RunConfig().area
    assert cfg.caseload == starter.resolve() / CASELOAD_FILE
    assert cfg.services == (starter.resolve() / SERVICES_FILE,)
    assert cfg.output.folder == starter.resolve() / "out"
    assert cfg.need_index == RunConfig().need_index
    text = (starter / CONFIG_FILE).read_text(encoding="utf-8")
    assert "caseload: caseload.csv\n" in text
    assert "# Counts from 1 to threshold - 1 are suppressed" in text
    caseload = pd.read_csv(starter / CASELOAD_FILE)
    assert len(caseload) == 22


def test_init_refuses_to_overwrite_without_force(starter, capsys):
    with pytest.raises(InputError, match=r"already exist; use --force to overwrite them"):
        write_starter(starter)
    assert main(["init", str(starter)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "use --force" in err[0]
    (starter / CASELOAD_FILE).write_text("edited", encoding="utf-8")
    write_starter(starter, force=True)
    assert (starter / CASELOAD_FILE).read_text(encoding="utf-8").startswith("ward_code,")


def test_validate_bundled_case_reports_what_was_read():
    code, report = run_cli("validate")
    assert code == 0
    assert "Wirral: 209 LSOAs in 22 wards" in report
    assert (
        "child_poverty_wards.csv: DWP children in low income for 22 wards, 2021/22 to 2024/25" in report
    )
    assert "caseload_synthetic.csv (synthetic): 110 rows read; 5 periods" in report
    assert "22 of 22 wards matched" in report
    assert "services.csv: 199 rows read, 198 placed, 1 unplaced" in report
    assert "Marine Lake Medical Practice (CH48 4HZ) cannot be placed" in report
    assert "siting: 5 new site(s) from 112 candidate services" in report
    assert report.endswith("No problems: ready for 'needsmap run'.\n")


def test_validate_fresh_templates_lists_every_problem_and_exits_2(starter):
    code, report = run_cli("validate", "--config", str(starter / CONFIG_FILE))
    assert code == 2
    assert "council_services.csv: 3 rows read, 3 placed, 0 unplaced" in report
    problems = report.split("2 problems:\n")[1].splitlines()
    assert len(problems) == 2
    assert problems[0].startswith("  - caseload.csv: column 'children_in_need' is blank at rows 2")
    assert problems[1] == (
        "  - council_services.csv: 3 example row(s) from 'needsmap init' are still there; "
        "replace them with your own services or delete them"
    )


def test_validate_filled_in_templates_is_clean(tmp_path, starter):
    caseload = pd.read_csv(starter / CASELOAD_FILE)
    caseload["children_in_need"] = range(100, 122)
    caseload["child_protection_plans"] = [3] + [10] * 21  # one count will be suppressed
    caseload["looked_after_children"] = 20
    caseload.to_csv(tmp_path / "caseload.csv", index=False)
    services = pd.read_csv(starter / SERVICES_FILE, dtype=str, keep_default_na=False)
    services["name"] = ["Birkenhead family hub", "Seacombe pilot", "Leasowe centre"]
    services.to_csv(tmp_path / "hubs.csv", index=False)
    cfg = dataclasses.replace(
        RunConfig(), caseload=tmp_path / "caseload.csv", services=(tmp_path / "hubs.csv",)
    )
    v = validate_inputs(cfg)
    assert v.ok and v.problems == []
    report = v.report()
    assert "caseload.csv: 22 rows read; 1 period (2025-03-31); 22 of 22 wards matched" in report
    assert '1 count(s) of 1 to 4 in 2025-03-31 will read "fewer than 5"' in report
    assert "hubs.csv: 3 rows read, 3 placed, 0 unplaced" in report
    assert "existing provision: 7 site(s)" in report  # the bundle's 4, hub, pilot and centre
    assert "pilots: 1 (1 running on " in report and "Seacombe pilot from 2023-09-01" in report


def test_validate_reports_settings_the_data_cannot_meet(tmp_path, starter):
    # A council without looked-after counts that kept the default weights.
    caseload = pd.read_csv(starter / CASELOAD_FILE).drop(columns="looked_after_children")
    caseload[["children_in_need", "child_protection_plans"]] = 10
    caseload.to_csv(tmp_path / "caseload.csv", index=False)
    d = RunConfig()
    cfg = dataclasses.replace(
        d,
        caseload=tmp_path / "caseload.csv",
        clustering=dataclasses.replace(d.clustering, features=("idaci",)),
        siting=dataclasses.replace(d.siting, candidates=("schools", "lsoa")),
        pilots=(Pilot(name="X pilot", wards=("X",), start=dt.date(2024, 1, 1)),),
        access=dataclasses.replace(d.access, types=("hospital",)),
    )
    problems = validate_inputs(cfg).problems
    assert len(problems) == 5
    assert problems[0].startswith(
        "need_index.indicators: ['looked_after_children_rate_index'] not available; choose"
    )
    assert problems[1].startswith("clustering.features: ['idaci'] not available; choose from")
    assert problems[2].startswith("pilots[1] (X pilot).wards: ['X'] not wards of this area")
    assert problems[3].startswith("access.types: ['hospital'] not among the service types")
    assert problems[4].startswith("siting.candidates: ['schools'] not among the service types")


def test_validate_an_incomplete_bundle_names_what_is_missing(tmp_path, wirral_dir):
    (tmp_path / "bundle.json").write_bytes((wirral_dir / "bundle.json").read_bytes())
    (tmp_path / "MISSING.md").write_text("# What to add\n", encoding="utf-8")
    v = validate_inputs(RunConfig(area=tmp_path))
    assert len(v.problems) == 1
    assert "the area bundle lacks ['lsoa21.geojson'," in v.problems[0]
    assert "(listed in its MISSING.md)" in v.problems[0]
    assert "not checked: the area bundle must load first" in v.report()


def test_validate_a_folder_that_is_no_bundle(tmp_path):
    v = validate_inputs(RunConfig(area=tmp_path))
    assert v.problems[0].startswith(f"{tmp_path}: not an area bundle (no bundle.json)")


def test_validate_names_the_bundled_provision_and_warns_when_there_is_none():
    """Issue 17: 'existing provision: 0 service(s)' was all validate said."""
    report = validate_inputs(RunConfig()).report()
    assert "existing provision: 4 site(s)" in report
    assert "existing provision: Family hubs and children's centres are a partial list" in report
    d = RunConfig()
    cfg = dataclasses.replace(d, siting=dataclasses.replace(d.siting, existing=("drop_in",)))
    report = validate_inputs(cfg).report()
    assert "existing provision: 0 site(s)" in report
    assert (
        "existing provision: none supplied, so no output can say how many children are within "
        "reach of a service now. Add family hubs, children's centres or other sites of the "
        "types in siting.existing (drop_in) in a services file (config key 'services'), or "
        "pilots (config key 'pilots')"
    ) in report
