"""needsmap.trends: ward trends with intervals, the pilot comparison, and the bundled DWP
series (expected values worked out by hand in the comments)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from tests.board_data import full_wards

from needsmap.disclosure import apply_suppression
from needsmap.errors import InputError
from needsmap.indicators import need_index
from needsmap.sources.child_poverty import load_child_poverty, load_child_poverty_areas
from needsmap.trends import (
    FALLING,
    RISING,
    STEADY,
    _pp,
    caseload_trends,
    change_findings,
    change_headline,
    child_poverty_columns,
    comparison_wards,
    dfe_trend_findings,
    difference_in_differences,
    earlier_counts,
    linear_trends,
    pilot_comparisons,
    poverty_benchmark,
    trend_links,
)

WIRRAL = Path(__file__).resolve().parents[1] / "data" / "wirral"
SEACOMBE = "E05000972"


def _panel(rows: dict[str, list[int]], base: float = 1000.0) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"ward_code": w, "year": 2022 + i, "count": k, "base": base}
            for w, counts in rows.items()
            for i, k in enumerate(counts)
        ]
    )


def test_straight_lines_give_the_binomial_interval_on_pooled_df():
    # Two wards, 1,000 children each. A: 10%, 20%, 30% (a perfect line); B: flat 20%.
    # A: p = 0.2, var = 0.16, Sxx = 1000 * (1 + 0 + 1) = 2000, slope 0.1 = 10 points a
    # year, se = sqrt(0.16 / 2000) * 100 = 0.894. Lines fit exactly: dispersion 1 on
    # 1 + 1 = 2 df, t(2) = 4.303, so 10 ± 3.85: rising. B: slope 0: not clearly changing.
    trends = linear_trends(_panel({"A": [100, 200, 300], "B": [200, 200, 200]}))
    a, b = trends.table.loc["A"], trends.table.loc["B"]
    se = np.sqrt(0.16 / 2000) * 100
    assert trends.dispersion == 1.0 and trends.df == 2
    assert a["slope"] == pytest.approx(10.0)
    assert a["slope_lower"] == pytest.approx(10 - stats.t.ppf(0.975, 2) * se)
    assert a["change"] == pytest.approx(20.0)
    assert (a["first"], a["latest"]) == pytest.approx((10.0, 30.0))
    assert a["verdict"] == RISING
    assert b["verdict"] == STEADY and b["slope"] == pytest.approx(0.0)


def test_year_to_year_scatter_widens_the_interval():
    # A: 10%, 30%, 20%: p = 0.2, slope 0.05, fitted 15, 20, 25%, residuals -5, +10, -5
    # points; Pearson X2 = 1000 * (0.0025 + 0.01 + 0.0025) / 0.16 = 93.75 on 1 df.
    trends = linear_trends(_panel({"A": [100, 300, 200]}))
    assert trends.dispersion == pytest.approx(93.75)
    assert trends.table.loc["A", "slope"] == pytest.approx(5.0)
    assert trends.table.loc["A", "verdict"] == STEADY


def test_falling_and_poisson_rates():
    # Rates per 10,000: 1,000 children, counts 400, 300, 200 -> 4,000, 3,000, 2,000 in a
    # straight line: slope -1,000 per 10,000 a year; se = sqrt(0.3 / 2000) * 10,000 = 122,
    # t(2) * 122 = 527 (B, flat, makes the df 2), so the interval is below 0: falling.
    panel = _panel({"A": [400, 300, 200], "B": [200, 200, 200]})
    table = linear_trends(panel, family="poisson", scale=10_000.0).table
    assert table.loc["A", "slope"] == pytest.approx(-1000.0)
    assert table.loc["A", "verdict"] == FALLING


def test_bad_trend_panels_are_refused():
    with pytest.raises(InputError, match=r"missing column\(s\) \['base'\]"):
        linear_trends(pd.DataFrame({"ward_code": ["A"], "year": [1], "count": [1]}))
    with pytest.raises(InputError, match="no ward has a usable year"):
        linear_trends(_panel({"A": [1, 2]}, base=0.0))


def test_seacombe_reproduces_dwp_32_0_to_33_9():
    # DWP Children in Low Income Families, FYE 2022-2025: Seacombe's children aged 0-15
    # in relative low income before housing costs, 32.0% -> 33.9% (1,122 -> 1,213).
    cilif = load_child_poverty(WIRRAL / "child_poverty_wards.csv")
    wards = pd.Index(sorted(cilif["ward_code"].unique()))
    cols = child_poverty_columns(cilif, wards)
    row = cols.loc[SEACOMBE]
    assert len(wards) == 22
    assert (row["child_poverty_pct_first"], row["child_poverty_pct"]) == (32.0, 33.9)
    assert row["child_poverty_children"] == 1213
    assert row["child_poverty_change"] == pytest.approx(1.8)  # 33.883 - 32.048
    assert (row["child_poverty_fye_first"], row["child_poverty_fye"]) == (2022, 2025)
    assert row["child_poverty_trend"] in (RISING, STEADY, FALLING)
    assert row["child_poverty_trend_lower"] < row["child_poverty_trend_per_year"]
    assert row["child_poverty_ahc_pct"] == pytest.approx(43.7)


def test_wirral_against_england_and_neighbours_from_ward_sums():
    # Wirral's 22 wards sum to 10,612 children in FYE 2022 and 11,636 in FYE 2025
    # (MANIFEST); the areas file carries those sums.
    areas = load_child_poverty_areas(WIRRAL / "child_poverty_areas.csv")
    wirral = areas[(areas["group"] == "Local authority") & (areas["measure"] == "relative_bhc")]
    assert wirral.set_index("fye")["children"].to_dict() == {
        2022: 10612,
        2023: 11769,
        2024: 11135,
        2025: 11636,
    }
    table = poverty_benchmark(areas)
    assert list(table.index[:2]) == ["Wirral", "England"]
    assert table.index[2].startswith("Statistical neighbours (median of 9)")
    assert list(table.columns) == ["2021/22", "2022/23", "2023/24", "2024/25", "change_points"]


def test_child_poverty_loader_refuses_bad_files(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_text("ward_code,fye,measure,children,percentage\nE1,2025,relative,10,5\n")
    with pytest.raises(InputError, match=r"cp.csv: column 'measure' has \['relative'\] at row 2"):
        load_child_poverty(path)
    path.write_text(
        "ward_code,fye,measure,children,percentage\n"
        "E1,2025,relative_bhc,10,5\nE1,2025,relative_bhc,11,6\n"
    )
    with pytest.raises(InputError, match="ward, fye and measure repeat at rows 2, 3"):
        load_child_poverty(path)
    path.write_text("ward_code,fye,measure,children,percentage\nE1,2025,relative_bhc,10,120\n")
    with pytest.raises(InputError, match="column 'percentage' is over 100 at row 2"):
        load_child_poverty(path)


def _counts(values: dict[str, list[int]]) -> pd.DataFrame:
    periods = ["2023-03-31", "2024-03-31", "2025-03-31"]
    rows = [
        {"period": p, "ward_code": w, "children_in_need": k}
        for w, ks in values.items()
        for p, k in zip(periods, ks, strict=True)
    ]
    return pd.DataFrame(rows).set_index(["period", "ward_code"])


def test_caseload_trend_is_withheld_where_any_period_is_hidden():
    # Ward B's middle year is 3 children: unpublished, but the trend is computed from it,
    # so B's trend is withheld (and, to protect the total of that year with the protection
    # interval, two more wards': equal children, so the first in order).
    counts = _counts({"A": [50, 60, 70], "B": [40, 3, 40], "C": [30, 30, 30], "D": [20, 25, 20]})
    kids = pd.Series(1000.0, index=["A", "B", "C", "D"])
    trends = caseload_trends(counts, kids)
    assert trends.loc["A", "children_in_need_trend_per_year"] == pytest.approx(100.0)
    table = kids.to_frame("children").join(counts.xs("2025-03-31", level="period")).join(trends)
    earlier = earlier_counts(counts)
    assert list(earlier.columns) == ["children_in_need@2023-03-31", "children_in_need@2024-03-31"]
    d = apply_suppression(
        table,
        ["children_in_need"],
        hidden=earlier,
        derived=trend_links(["children_in_need"], earlier),
    )
    assert d.table.loc["B", "children_in_need_trend"] == "withheld"
    assert d.table.loc["B", "children_in_need_trend_per_year"] == "withheld"
    assert (d.table["children_in_need_trend"] == "withheld").sum() == 3
    assert d.table.loc["D", "children_in_need_trend"] == "not clearly changing"
    assert d.table.loc["A", "children_in_need"] == 70


def test_two_periods_give_no_caseload_trend():
    counts = _counts({"A": [1, 2, 3]}).drop(index="2023-03-31", level="period")
    assert caseload_trends(counts, pd.Series(100.0, index=["A"])).columns.empty


def _did_panel() -> pd.DataFrame:
    # Yearly values for FYE 2022-2025 (a year runs April to March).
    values = {
        "P1": [10, 10, 14, 14],  # before mean 10, after 14: change 4
        "P2": [20, 20, 26, 26],  # change 6
        "C1": [10, 10, 11, 11],  # change 1
        "C2": [10, 10, 13, 13],  # change 3
        "C3": [10, 10, 12, 12],  # change 2
    }
    return pd.DataFrame(
        [
            {
                "ward_code": w,
                "period": f"{2021 + i}/{22 + i}",
                "period_start": f"{2021 + i}-04-01",
                "period_end": f"{2022 + i}-03-31",
                "value": v,
            }
            for w, vs in values.items()
            for i, v in enumerate(vs)
        ]
    )


def test_difference_in_differences_by_hand():
    # Pilot starts 1 April 2023: FYE 2022-2023 before, 2024-2025 after. Piloted mean
    # change 5, comparison 2: difference 3. Pooled: squared deviations 2 + 2 on 3 df,
    # variance 4/3; se = sqrt(4/3 * (1/2 + 1/3)) = sqrt(10/9); t(3) = 3.182.
    did = difference_in_differences(
        _did_panel(), ["P1", "P2"], "2023-04-01", comparison=["C1", "C2", "C3"]
    )
    se, df = np.sqrt(10 / 9), 3
    assert did.estimate == pytest.approx(3.0)
    assert (did.pilot_change, did.comparison_change) == pytest.approx((5.0, 2.0))
    assert did.lower == pytest.approx(3 - stats.t.ppf(0.975, df) * se)
    assert did.before == ("2021/22", "2022/23") and did.after == ("2023/24", "2024/25")
    assert not did.tells_apart  # a handful of wards: the interval spans 0
    text = did.sentence("Children in low income", "points")
    assert "cannot tell the piloted and comparison wards apart" in text
    assert "effect" not in text


def test_one_pilot_ward_uses_the_comparison_spread():
    # One piloted ward (change 4) against C1-C3 (2, squared deviations 2 on 1 + 3 - 2 =
    # 2 df: variance 1): se = sqrt(1 + 1/3).
    did = difference_in_differences(
        _did_panel(), ["P1"], "2023-04-01", comparison=["C1", "C2", "C3"]
    )
    assert did.estimate == pytest.approx(2.0)
    assert did.upper - did.estimate == pytest.approx(stats.t.ppf(0.975, 2) * np.sqrt(4 / 3))


def test_a_start_inside_a_year_leaves_that_year_out():
    # A start on 1 October 2023 falls inside FYE 2024: before = 2022-2023, after = 2025.
    did = difference_in_differences(
        _did_panel(), ["P1", "P2"], "2023-10-01", comparison=["C1", "C2", "C3"]
    )
    assert did.after == ("2024/25",)


def test_pilot_comparison_refuses_what_it_cannot_compare():
    panel = _did_panel()
    with pytest.raises(InputError, match=r"\['C1'\] are both piloted and comparison"):
        difference_in_differences(panel, ["P1", "C1"], "2023-04-01", comparison=["C1", "C2"])
    with pytest.raises(InputError, match="need a period before and after 2030-01-01"):
        difference_in_differences(panel, ["P1"], "2030-01-01", comparison=["C1", "C2"])
    with pytest.raises(InputError, match="1 piloted and 1 comparison ward"):
        difference_in_differences(panel, ["P1"], "2023-04-01", comparison=["C1"])


def test_pilot_comparisons_withhold_what_touches_a_hidden_count():
    # P1 and P2 piloted from 1 April 2023; comparison: the same group (C1-C3). A caseload
    # comparison involving C2, whose count is suppressed in some year, is not shown; one
    # whose dates cannot be split before and after says why.
    pilots = pd.DataFrame(
        {
            "pilot": ["Pilot", "Pilot", "Late"],
            "ward_code": ["P1", "P2", "C3"],
            "start": pd.to_datetime(["2023-04-01", "2023-04-01", "2030-01-01"]),
            "end": pd.NaT,
        }
    )
    groups = pd.Series({"P1": 1, "P2": 1, "C1": 1, "C2": 1, "C3": 1}, name="cluster")
    names = pd.Series({w: f"Ward {w}" for w in groups.index})
    panels = {"poverty": (_did_panel(), "points"), "caseload": (_did_panel(), "per 10,000")}
    table = pilot_comparisons(pilots, panels, groups, names, withheld={"caseload": {"C2"}})
    first = table[table["pilot"] == "Pilot"].set_index("indicator")
    assert first.loc["poverty", "comparison_wards"] == "Ward C1; Ward C2"  # C3 is piloted
    assert first.loc["poverty", "difference"] == pytest.approx(5 - 2)
    assert first.loc["caseload", "reading"] == (
        "Pilot: caseload: not shown: a ward involved has a suppressed count."
    )
    assert pd.isna(first.loc["caseload", "difference"])
    late = table[table["pilot"] == "Late"].set_index("indicator")
    assert late.loc["poverty", "reading"].startswith(
        "Late: poverty: cannot be compared (the data need a period before and after 2030-01-01"
    )


def test_comparison_wards_share_the_pilot_wards_group():
    groups = pd.Series({"P": 1, "A": 1, "B": 1, "C": 2}, name="cluster")
    assert comparison_wards(["P"], groups) == (["A", "B"], "non-piloted wards in the same cluster")
    wards, rule = comparison_wards(["C"], groups)
    assert wards == ["P", "A", "B"]
    assert rule == "all non-piloted wards (too few in the same cluster)"


def test_dfe_trends_read_the_la_benchmark():
    # DfE: Wirral's children-in-need rate 390 (2021) -> 409 (2025) per 10,000; England
    # 330 in both years; statistical neighbours' median +30.
    bench = pd.DataFrame(
        {
            "caseload_measure": ["children_in_need", None],
            "year": [2025, 2025],
            "la_rate": [409.0, 38.0],
            "trend_from": [2021, 2021],
            "la_rate_then": [390.0, 26.0],
            "la_change": [19.0, 12.0],
            "england_change": [0.0, 4.0],
            "neighbour_median_change": [30.0, 11.0],
        }
    )
    assert dfe_trend_findings(bench, {"children_in_need": "Children in need"}, area="Wirral") == [
        "Children in need (DfE, the whole council): Wirral 390 → 409 per 10,000 children "
        "from 2021 to 2025 (+19); England no change, statistical neighbours' median +30."
    ]


def test_child_poverty_can_be_a_need_index_indicator():
    # Offered, not a default: with it alone the index is its z-score across wards.
    wards = full_wards()
    index = need_index(wards, {"child_poverty_pct": 1.0})
    x = wards["child_poverty_pct"]
    assert index.to_numpy() == pytest.approx(((x - x.mean()) / x.std(ddof=0)).to_numpy())


def test_change_findings_name_the_wards_getting_worse():
    wards = pd.DataFrame(
        {
            "ward_name": ["Upton", "Seacombe", "Heswall"],
            "child_poverty_fye_first": 2022,
            "child_poverty_fye": 2025,
            "child_poverty_pct_first": [20.0, 32.0, 10.0],
            "child_poverty_pct": [24.0, 33.9, 8.0],
            "child_poverty_change": [4.0, 1.9, -2.0],
            "child_poverty_trend_per_year": [1.3, 0.6, -0.7],
            "child_poverty_trend_lower": [0.4, -0.5, -1.2],
            "child_poverty_trend_upper": [2.2, 1.7, -0.2],
            "child_poverty_trend": [RISING, STEADY, FALLING],
        },
        index=["U", "S", "H"],
    )
    text = change_findings(wards, pilot_wards=["H"])
    assert "went up in 2 of 3 wards and down in 1 from 2021/22 to 2024/25" in text[0]
    assert text[1] == (
        "Getting worse, with a clear rising trend (1 non-piloted ward): Upton (20.0% → 24.0%, "
        "+1.3 points a year, 95% interval +0.4 to +2.2)."
    )
    assert "not clearly rising" in text[2] and "Seacombe (32.0% → 33.9%" in text[2]
    assert text[3].startswith("Clearly falling: Heswall")
    assert change_headline(wards, pilot_wards=["H"]) == (
        "Child poverty (DWP, children in low income) is clearly rising in Upton over "
        "2021/22 to 2024/25 (none of them piloted); see Change for how sure that is."
    )
    assert change_findings(wards.drop(columns="child_poverty_trend"))[0].startswith(
        "No child poverty series"
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), min_size=3, max_size=3), min_size=4, max_size=8))
def test_no_published_trend_rests_on_a_hidden_count(rows):
    # Whatever the counts, a ward whose count is hidden in any period (the latest, or an
    # earlier one, which the trend uses) shows no trend: it reads "withheld".
    codes = [f"W{i}" for i in range(len(rows))]
    counts = _counts(dict(zip(codes, rows, strict=True)))
    kids = pd.Series(500.0, index=codes)
    earlier = earlier_counts(counts)
    table = kids.to_frame("children").join(counts.xs("2025-03-31", level="period"))
    table = table.join(caseload_trends(counts, kids))
    d = apply_suppression(
        table,
        ["children_in_need"],
        hidden=earlier,
        derived=trend_links(["children_in_need"], earlier),
    )
    hidden = d.suppressed["children_in_need"] | d.hidden_counts.any(axis=1)
    small = pd.DataFrame(rows, index=codes).isin([1, 2, 3, 4]).any(axis=1)
    assert (hidden | ~small).all()  # every small count is hidden somewhere
    for col in ("children_in_need_trend", "children_in_need_trend_per_year"):
        assert (d.table.loc[hidden, col] == "withheld").all()


def test_small_multiples_draw_the_highest_48_wards_of_a_large_area():
    from needsmap.maps.trend_chart import child_poverty_figure

    codes = [f"W{i:02d}" for i in range(50)]
    cilif = pd.DataFrame(
        [
            {"ward_code": c, "measure": "relative_bhc", "fye": y, "percentage": i + y - 2020}
            for i, c in enumerate(codes)
            for y in (2021, 2022)
        ]
    )
    wards = pd.DataFrame(
        {"ward_name": [f"Ward {c}" for c in codes], "child_poverty_trend": "rising"},
        index=pd.Index(codes, name="ward_code"),
    )
    fig = child_poverty_figure(cilif, wards, area_name="Shire")
    shown = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 48 and shown[0] == "Ward W49" and "Ward W01" not in shown
    fig.canvas.draw()
    bottom = [ax for ax in fig.axes if ax.get_visible()][-1]
    ticks = [t.get_text() for t in bottom.get_xticklabels()]
    assert ticks == ["2020/21", "2021/22"]  # financial years, as the title says
    assert fig.get_suptitle() == (
        "Shire: children aged 0–15 in relative low income, the 48 wards of 50 with the "
        "highest latest share, 2020/21 to 2021/22"
    )


def test_rising_child_poverty_names_the_eight_rising_most():
    from needsmap.trends import RISING, change_headline

    n = 12
    wards = pd.DataFrame(
        {
            "ward_name": [f"W{i}" for i in range(n)],
            "child_poverty_trend": RISING,
            "child_poverty_change": [float(i) for i in range(n)],
            "child_poverty_fye_first": 2022,
            "child_poverty_fye": 2025,
        }
    )
    assert change_headline(wards) == (
        "Child poverty (DWP, children in low income) is clearly rising in W11, W10, W9, W8, "
        "W7, W6, W5, W4 and 4 more over 2021/22 to 2024/25 (no pilot wards are set); see Change "
        "for how sure that is."
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [(-4.71, "−4.7"), (-0.04, "−0.04"), (0.004, "+0.004"), (0.0, "+0.0"), (1.25, "+1.2")],
)
def test_a_change_near_zero_keeps_its_sign_visible(value, shown):
    assert _pp(value) == shown
