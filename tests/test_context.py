from __future__ import annotations

import pandas as pd
import pytest

from needsmap.context import la_benchmark, la_trend
from needsmap.errors import InputError

M = "children_in_need_at_31_march"


def dfe() -> pd.DataFrame:
    rows = []
    for year, la, eng, sns in (
        (2021, 400.0, 320.0, [300.0, 350.0, 500.0]),
        (2023, 410.0, 330.0, [310.0, 360.0, None]),
        (2025, 430.0, 335.0, [320.0, 440.0, 460.0]),
    ):
        rows.append(("Local authority", "Here", year, M, la * 5, la))
        rows.append(("England", "National", year, M, eng * 1000, eng))
        for i, rate in enumerate(sns):
            rows.append(("Statistical neighbour", f"SN{i}", year, M, None, rate))
    return pd.DataFrame(
        rows, columns=["group", "area_name", "year", "measure", "number", "rate_per_10000"]
    )


def test_la_benchmark_worked_by_hand():
    row = la_benchmark(dfe()).loc[M]
    assert row["caseload_measure"] == "children_in_need"
    assert row["year"] == 2025
    assert row["la_rate"] == 430.0
    assert row["la_number"] == 2150.0
    assert row["england_rate"] == 335.0
    assert row["neighbour_median"] == 440.0
    assert row["neighbour_mean"] == pytest.approx(406.7)
    assert (row["neighbour_min"], row["neighbour_max"]) == (320.0, 460.0)
    assert row["neighbours"] == 3
    assert row["la_vs_england"] == 95.0
    # 440 and 460 are higher: third of the LA and its three neighbours
    assert row["la_rank_among_neighbours"] == 3
    # five-year trend: 2021 -> 2025
    assert row["trend_from"] == 2021
    assert row["la_change"] == 30.0
    assert row["england_change"] == 15.0
    assert row["neighbour_median_change"] == 90.0


def test_la_trend_counts_neighbours_with_a_rate():
    trend = la_trend(dfe())
    assert trend.loc[(M, 2023), "neighbours"] == 2
    assert trend.loc[(M, 2023), "neighbour_median"] == 335.0


def test_short_history_trends_from_the_first_year():
    row = la_benchmark(dfe(), trend_years=3).loc[M]
    assert row["trend_from"] == 2023
    assert row["la_change"] == 20.0


def test_bad_dfe_table():
    with pytest.raises(
        InputError, match=r"dfe_childrens_social_care.csv: missing column\(s\) \['rate_per_10000'\]"
    ):
        la_benchmark(dfe().drop(columns="rate_per_10000"))
    with pytest.raises(InputError, match=r"needs rows for 'Local authority' and 'England'"):
        la_benchmark(dfe()[dfe()["group"] != "England"])


def test_bundled_wirral_benchmark(wirral_dir):
    table = la_benchmark(pd.read_csv(wirral_dir / "dfe_childrens_social_care.csv"))
    cpp = table.loc["child_protection_plans_at_31_march"]
    # DfE 2025: Wirral 53.3 per 10,000, England 40.6, ten statistical neighbours
    assert (cpp["year"], cpp["la_rate"], cpp["england_rate"], cpp["neighbours"]) == (
        2025,
        53.3,
        40.6,
        10,
    )
    assert set(table["caseload_measure"]) >= {
        "children_in_need",
        "child_protection_plans",
        "looked_after_children",
    }
