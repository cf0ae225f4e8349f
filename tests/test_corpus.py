"""The malformed-input corpus: every file in tests/corpus/cases.yaml gives its message.

Each error must be one line naming the file; record-level (private) files must not have
any of their cells repeated in a message, warning or note.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from needsmap import errors
from needsmap.config import load_config
from needsmap.errors import NeedsmapError, RepairWarning
from needsmap.geography import ward_polygons
from needsmap.sources import load_area, load_caseload, load_postcodes, load_services
from needsmap.sources.area import area_caseload
from needsmap.sources.boundaries import load_lsoa_boundaries

CORPUS = Path(__file__).parent / "corpus"
CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
PUBLIC_COLUMNS = {
    "measure",
    "period",
    "children_in_need",
    "child_protection_plans",
    "looked_after_children",
}
"""Record-level columns whose values are categories, not about a child."""


@pytest.fixture(scope="module")
def wirral(wirral_dir: Path) -> dict[str, Any]:
    lsoa = load_lsoa_boundaries(wirral_dir / "lsoa21.geojson")
    wards = ward_polygons(lsoa)
    return {
        "area": load_area(wirral_dir),
        "wards": wards["ward_name"],
        "lsoa_wards": lsoa.set_index("lsoa_code")["ward_code"],
        "postcodes": load_postcodes(wirral_dir / "postcodes.csv"),
        "outline": wards.union_all(),
    }


@pytest.fixture(scope="module")
def wirral_dir() -> Path:  # module scope: the loaders above are read once
    from needsmap.config import bundled_data_dir

    return bundled_data_dir() / "wirral"


def _load(case: dict[str, Any], ctx: dict[str, Any]) -> Any:
    path = CORPUS / case["file"]
    loader = case["loader"]
    if loader == "caseload":  # as run and validate read it
        return area_caseload(ctx["area"], path)
    if loader == "services":
        return load_services([path], ctx["postcodes"], ctx["outline"])
    if loader == "postcodes":
        return load_postcodes(path)
    if loader == "boundaries":
        return load_lsoa_boundaries(path)
    if loader == "config":
        return load_config(path)
    msg = f"unknown loader {loader}"
    raise AssertionError(msg)


def _private_values(path: Path) -> set[str]:
    """Every cell of a record-level file that could identify or locate a child."""
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = [re.sub(r"[^0-9a-z]+", "_", h.strip().lower()).strip("_") for h in rows[0]]
    values = set()
    for row in rows[1:]:
        for col, value in zip(header, row, strict=False):
            if col not in PUBLIC_COLUMNS and len(value.strip()) >= 2:
                values.add(value.strip())
    return values


def _said(caught: list[warnings.WarningMessage], result: Any, exc: Exception | None) -> list[str]:
    out = [str(w.message) for w in caught]
    out += list(getattr(result, "notes", []) or [])
    if exc is not None:
        out.append(str(exc))
    return out


def test_corpus_is_big_enough():
    assert len(CASES) >= 40
    assert {c["loader"] for c in CASES} == {
        "caseload",
        "services",
        "postcodes",
        "boundaries",
        "config",
    }
    for case in CASES:
        assert (CORPUS / case["file"]).exists() or "not_exist" in case["file"], case["file"]


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_corpus_case(case: dict[str, Any], wirral: dict[str, Any]) -> None:
    path = CORPUS / case["file"]
    result, exc = None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = _load(case, wirral)
        except NeedsmapError as e:  # anything else is a bug and fails the test
            exc = e
    said = _said(caught, result, exc)

    if "error" in case:
        assert exc is not None, f"expected {case['error']}, loaded fine"
        assert type(exc) is getattr(errors, case["error"])
        message = str(exc)
        assert re.search(case["match"], message), message
        assert "\n" not in message
        assert path.name in message
        assert exc.__cause__ is None or exc.__suppress_context__
    else:
        assert exc is None, str(exc)
    if "warns" in case:
        repairs = [str(w.message) for w in caught if issubclass(w.category, RepairWarning)]
        assert any(re.search(case["match"], m) for m in repairs), repairs
    elif "error" not in case:  # a repair may come before the error that stops the load
        assert not [w for w in caught if issubclass(w.category, RepairWarning)], said
    if "unplaced" in case:
        gone = result.unplaced
        row = gone[gone["row"] == case["row"]]
        assert row["reason"].tolist() == [case["unplaced"]], gone
        assert len(result.placed) >= 1
    if "note" in case:
        assert any(re.search(case["note"], n) for n in result.notes), result.notes
    if "latest" in case:
        assert result.periods[-1] == case["latest"], result.periods
    if "types" in case:
        assert sorted(set(result.placed["type"])) == case["types"]
    if "total" in case:
        assert int(result.latest.to_numpy().sum()) == case["total"]
    if case.get("private"):
        secrets = _private_values(path)
        for text in said:
            leaked = [v for v in secrets if v in text]
            assert not leaked, (text, leaked)
    # no other warnings than repairs
    assert all(issubclass(w.category, RepairWarning) for w in caught), said


def test_record_level_counts_by_hand(wirral: dict[str, Any]) -> None:
    """ok_with_unplaced.csv, worked out by hand.

    C001 CH41 0AA -> E01007122 -> E05000955 (CIN); C002 ch410ad -> CH41 0AD -> E01007125
    -> E05000959 (CLA); C003 CH41 0AA, two rows: CIN and CPP in E05000955. C004's
    postcode is not in Wirral, C005's is malformed: counted as unplaced, not in a ward.
    """
    cl = load_caseload(
        CORPUS / "records/ok_with_unplaced.csv",
        wirral["wards"],
        postcodes=wirral["postcodes"],
        lsoa_wards=wirral["lsoa_wards"],
    )
    latest = cl.latest
    assert cl.record_level
    assert cl.measures == ("children_in_need", "child_protection_plans", "looked_after_children")
    assert latest.loc["E05000955"].tolist() == [2, 1, 0]
    assert latest.loc["E05000959"].tolist() == [0, 0, 1]
    assert latest.drop(["E05000955", "E05000959"]).to_numpy().sum() == 0
    assert len(latest) == 22
    assert cl.notes[0] == (
        "ok_with_unplaced.csv: one row per child; 5 children aggregated to ward counts "
        "for 1 period(s) in memory (no record is written anywhere)"
    )


def test_unplaced_rows_are_true_rows(wirral: dict[str, Any], tmp_path: Path) -> None:
    """A blank line in the file still counts when naming rows (as Excel numbers them)."""
    path = tmp_path / "hubs.csv"
    path.write_text("name,type,postcode\nA,hub,CH41 0AA\n\nB,hub,CH99 9ZZ\n")
    svc = load_services([path], wirral["postcodes"], wirral["outline"])
    assert svc.unplaced[["row", "reason"]].to_dict("records") == [
        {"row": 4, "reason": "postcode not in the postcode file"}
    ]
    assert isinstance(svc.placed, pd.DataFrame)
