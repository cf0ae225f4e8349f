"""Property tests for the loaders: valid tables round-trip, junk only ever gives InputError."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from needsmap.config import CASELOAD_MEASURES
from needsmap.errors import InputError, RepairWarning
from needsmap.sources import load_caseload, load_postcodes, load_services
from needsmap.sources.boundaries import load_lsoa_boundaries

WARDS = pd.Series(
    {
        "E05000954": "Bebington",
        "E05000955": "Bidston and St James",
        "E05000961": "Greasby, Frankby and Irby",
    }
)
LSOA_WARDS = pd.Series(
    {"E01000001": "E05000954", "E01000002": "E05000955", "E01000003": "E05000961"}
)
POSTCODES = pd.DataFrame(
    {
        "easting": [330000.0, 331000.0, 332000.0],
        "northing": [389000.0, 389000.0, 389000.0],
        "lsoa_code": ["E01000001", "E01000002", "E01000003"],
    },
    index=pd.Index(["CH41 0AA", "CH41 0AB", "CH62 1AA"], name="postcode"),
)
# NEEDSMAP_EXAMPLES=2000 searches harder (run before a release); the suite stays quick.
SETTINGS = settings(
    max_examples=int(os.environ.get("NEEDSMAP_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


SCRATCH = Path(tempfile.mkdtemp(prefix="needsmap-prop-"))
# Removed at exit, not by a fixture: the module is imported whenever it is collected,
# also when none of its tests run.
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)


def _write(text: str | bytes, name: str = "input.csv") -> Path:
    """Write to one scratch file, reused by every example (removed at exit)."""
    path = SCRATCH / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _noisy(code: str, draw: st.DrawFn) -> str:
    """The same code as a council extract might give it: any case, padded with spaces."""
    cased = "".join(c.lower() if draw(st.booleans()) else c for c in code)
    return " " * draw(st.integers(0, 2)) + cased + " " * draw(st.integers(0, 2))


@st.composite
def ward_tables(draw: st.DrawFn) -> tuple[str, pd.DataFrame]:
    """A valid ward caseload CSV (noisy codes, shuffled rows) and the counts it holds."""
    measures = draw(
        st.lists(st.sampled_from(CASELOAD_MEASURES), min_size=1, max_size=3, unique=True)
    )
    periods = draw(
        st.lists(st.sampled_from(["2023", "2024", "2025-03-31"]), min_size=1, unique=True)
    )
    rows = []
    for period in periods:
        for code in WARDS.index:
            counts = {m: draw(st.integers(0, 25_000)) for m in measures}
            rows.append({"ward_code": code, "period": period, **counts})
    truth = pd.DataFrame(rows).set_index(["period", "ward_code"]).sort_index()[measures]
    order = draw(st.permutations(range(len(rows))))
    header = ["Ward Code", " Period", *(m.replace("_", " ").title() for m in measures)]
    lines = [",".join(header)]
    for i in order:
        row = rows[i]
        cells = [_noisy(row["ward_code"], draw), row["period"]]
        for m in measures:
            n = row[m]
            cells.append(f'"{n:,}"' if n >= 1000 and draw(st.booleans()) else str(n))
        lines.append(",".join(cells))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + eol.join(lines) + eol, truth


@SETTINGS
@given(ward_tables())
def test_ward_counts_round_trip(table: tuple[str, pd.DataFrame]) -> None:
    text, truth = table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)  # case/padding repairs are expected
        cl = load_caseload(_write(text), WARDS)
    got = cl.counts[list(truth.columns)]
    pd.testing.assert_frame_equal(got, truth, check_dtype=False)
    assert cl.measures == tuple(m for m in CASELOAD_MEASURES if m in truth.columns)


@st.composite
def child_records(draw: st.DrawFn) -> tuple[str, pd.DataFrame]:
    """A record-level CSV (one row per child and measure) and the ward counts it gives."""
    n = draw(st.integers(1, 40))
    places = list(POSTCODES.index) + list(LSOA_WARDS.index) + list(WARDS.index)
    rows = []
    for i in range(n):
        where = draw(st.sampled_from(places))
        for m in draw(
            st.lists(st.sampled_from(CASELOAD_MEASURES), min_size=1, max_size=3, unique=True)
        ):
            rows.append((f"C{i:04d}", where, m))
    lines = ["Child ID,Ward Code,LSOA Code,Postcode,Measure"]
    ward_of = {}
    for child, where, m in rows:
        if where in POSTCODES.index:
            ward_of[child] = LSOA_WARDS[POSTCODES.loc[where, "lsoa_code"]]
            pc = where.replace(" ", "") if draw(st.booleans()) else where.lower()
            cells = [child, "", "", pc]
        elif where in LSOA_WARDS.index:
            ward_of[child] = LSOA_WARDS[where]
            cells = [child, "", _noisy(where, draw), ""]
        else:
            ward_of[child] = where
            cells = [child, _noisy(where, draw), "", ""]
        label = {"children_in_need": "CIN", "child_protection_plans": "cpp"}.get(m, m)
        lines.append(",".join([*cells, label]))
    frame = pd.DataFrame(rows, columns=["child", "where", "measure"])
    frame["ward_code"] = frame["child"].map(ward_of)
    truth = frame.groupby(["ward_code", "measure"]).size().unstack("measure")
    present = [m for m in CASELOAD_MEASURES if m in truth.columns]
    truth = truth.reindex(index=WARDS.index, columns=present).fillna(0).astype("int64")
    return "\n".join(lines) + "\n", truth


@settings(SETTINGS, max_examples=max(SETTINGS.max_examples // 2, 1))
@given(child_records())
def test_records_aggregate_to_ward_counts(table: tuple[str, pd.DataFrame]) -> None:
    text, truth = table
    cl = load_caseload(_write(text), WARDS, postcodes=POSTCODES, lsoa_wards=LSOA_WARDS)
    assert cl.record_level
    pd.testing.assert_frame_equal(
        cl.latest[list(truth.columns)], truth, check_dtype=False, check_names=False
    )
    for note in cl.notes:  # counts only: no id of any child
        assert "C0" not in note


HEADERS = [
    "ward_code",
    "ward_name",
    "period",
    "children_in_need",
    "child_protection_plans",
    "looked_after_children",
    "child_id",
    "postcode",
    "lsoa_code",
    "measure",
    "name",
    "type",
    "easting",
    "northing",
    "lon",
    "lat",
    "capacity",
    "pilot",
    "service_id",
]
CELLS = st.one_of(
    st.sampled_from(
        ["", " ", "E05000954", "e05000955 ", "Bebington", "CH41 0AA", "yes", "CIN", "n/a"]
    ),
    st.integers(-5, 10**13).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    st.sampled_from(['"', '""', '"1,234"', ",", ";", "\t", "\r", "\n", "\ufeff", "\x00"]),
)


@st.composite
def csv_like(draw: st.DrawFn) -> bytes:
    """Text shaped like a CSV (known headers, odd cells, stray quotes, ragged rows)."""
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=0, max_size=6))
    sep = draw(st.sampled_from([",", ",", ";", "\t"]))
    lines = [sep.join(header)]
    for _ in range(draw(st.integers(0, 6))):
        lines.append(sep.join(draw(st.lists(CELLS, min_size=0, max_size=len(header) + 1))))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return text.encode(encoding, errors="replace")


JUNK = st.one_of(st.binary(max_size=300), csv_like())


def _only_input_errors(call) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)
        try:
            call()
        except InputError as exc:
            assert "\n" not in str(exc)


@SETTINGS
@given(JUNK)
def test_junk_caseload_gives_input_error_only(data: bytes) -> None:
    path = _write(data)
    _only_input_errors(
        lambda: load_caseload(path, WARDS, postcodes=POSTCODES, lsoa_wards=LSOA_WARDS)
    )


@SETTINGS
@given(JUNK)
def test_junk_services_give_input_error_only(data: bytes) -> None:
    path = _write(data)
    area = box(320000, 380000, 340000, 395000)
    _only_input_errors(lambda: load_services([path], POSTCODES, area))


@SETTINGS
@given(JUNK)
def test_junk_postcodes_give_input_error_only(data: bytes) -> None:
    path = _write(data)
    _only_input_errors(lambda: load_postcodes(path))


GEOMETRY = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString", "Blob"]),
            "coordinates": st.recursive(
                st.floats(-1e6, 1e6, allow_nan=False),
                lambda c: st.lists(c, max_size=5),
                max_leaves=20,
            ),
        }
    ),
)
PROPERTIES = st.dictionaries(
    st.sampled_from(["lsoa_code", "lsoa_name", "ward_code", "ward_name", "other"]),
    st.one_of(st.text(max_size=10), st.integers(), st.none(), st.sampled_from(["E01000001"])),
)
GEOJSON = st.lists(st.tuples(PROPERTIES, GEOMETRY), max_size=4).map(
    lambda features: json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
        }
    )
)


@SETTINGS
@given(st.one_of(GEOJSON, st.binary(max_size=200)))
def test_junk_boundaries_give_input_error_only(data: str | bytes) -> None:
    path = _write(data, "boundaries.geojson")
    _only_input_errors(lambda: load_lsoa_boundaries(path))


@pytest.mark.parametrize("seed", [0, 1])
def test_row_order_does_not_change_counts(seed: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(seed)
    rows = [f"{c},{int(rng.integers(0, 50))}" for c in WARDS.index]
    a = load_caseload(_write("ward_code,children_in_need\n" + "\n".join(rows)), WARDS)
    b = load_caseload(
        _write("ward_code,children_in_need\n" + "\n".join(rows[::-1]), "b.csv"), WARDS
    )
    pd.testing.assert_frame_equal(a.counts, b.counts)
