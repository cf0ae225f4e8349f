from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needsmap.config import Indicator
from needsmap.errors import ConfigError, InputError
from needsmap.geography import aggregate
from needsmap.indicators import (
    DOMAIN_SCORES,
    caseload_change,
    caseload_rates,
    change_links,
    deprivation_change,
    first_period_counts,
    index_rates,
    need_index,
    need_rank,
    poisson_interval,
    standardise,
    ward_deprivation,
)


def test_exact_poisson_interval_known_values():
    lo, hi = poisson_interval(np.array([0, 1, 10]))
    # Garwood 95% limits from published tables.
    assert lo == pytest.approx([0.0, 0.0253, 4.7954], abs=1e-3)
    assert hi == pytest.approx([3.6889, 5.5716, 18.3904], abs=1e-3)


def test_rates_per_10000_with_intervals_and_reliability():
    counts = pd.DataFrame({"children_in_need": [100, 3]}, index=["A", "B"])
    out = caseload_rates(counts, pd.Series({"A": 2000, "B": 1000}))
    assert out.loc["A", "children_in_need_rate"] == pytest.approx(500)
    assert out.loc["B", "children_in_need_rate"] == pytest.approx(30)
    assert (
        out.loc["A", "children_in_need_rate_lower"]
        < 500
        < out.loc["A", "children_in_need_rate_upper"]
    )
    assert not out.loc["A", "children_in_need_rate_unreliable"]
    assert out.loc["B", "children_in_need_rate_unreliable"]


def test_need_index_worked_by_hand():
    wards = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [30.0, 10.0, 20.0]}, index=["X", "Y", "Z"])
    # z-scores (population sd): a -> [-1.2247, 0, 1.2247]; b -> [1.2247, -1.2247, 0]
    idx = need_index(wards, {"a": 3, "b": 1})
    assert idx.tolist() == pytest.approx([-0.6124, -0.3062, 0.9186], abs=1e-4)
    assert need_rank(idx).tolist() == [3, 2, 1]
    mm = need_index(wards, {"a": 1, "b": 1}, method="minmax")
    assert mm.tolist() == pytest.approx([0.5, 0.25, 0.75])
    rk = need_index(wards, {"a": 1}, method="rank")
    assert rk.tolist() == pytest.approx([0.0, 0.5, 1.0])


def test_need_index_unknown_indicator():
    with pytest.raises(ConfigError, match=r"\['nope'\] not available; choose from \['a'\]"):
        need_index(pd.DataFrame({"a": [1.0, 2.0]}), {"nope": 1})


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 100, allow_nan=False), min_size=4, max_size=12, unique=True),
    st.floats(0.1, 50),
    st.randoms(use_true_random=False),
)
def test_need_index_row_order_and_weight_scale_invariant(values, scale, rnd):
    wards = pd.DataFrame(
        {"a": values, "b": values[::-1]}, index=[f"W{i}" for i in range(len(values))]
    )
    base = need_index(wards, {"a": 2, "b": 1})
    order = list(wards.index)
    rnd.shuffle(order)
    shuffled = need_index(wards.loc[order], {"a": 2, "b": 1})
    pd.testing.assert_series_equal(base, shuffled.loc[base.index], check_exact=False)
    scaled = need_index(wards, {"a": 2 * scale, "b": scale})
    assert need_rank(scaled).tolist() == need_rank(base).tolist()


def test_direction_lower_flips_an_indicator_worked_by_hand():
    wards = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [30.0, 10.0, 20.0]}, index=["X", "Y", "Z"])
    lower = need_index(wards, {"a": {"weight": 1, "direction": "lower"}})
    assert lower.tolist() == pytest.approx([1.2247, 0.0, -1.2247], abs=1e-4)
    # a higher (z = -1.2247, 0, 1.2247) x3; b lower (z = -1.2247, 1.2247, 0) x1; / 4
    mixed = need_index(wards, {"a": 3, "b": {"weight": 1, "direction": "lower"}})
    assert mixed.tolist() == pytest.approx([-1.2247, 0.3062, 0.9186], abs=1e-4)
    # the same with Indicator objects
    specs = [Indicator("a", 3.0), Indicator("b", 1.0, "lower")]
    pd.testing.assert_series_equal(need_index(wards, specs), mixed)
    # minmax and rank honour direction too
    assert need_index(
        wards, {"b": {"weight": 1, "direction": "lower"}}, method="minmax"
    ).tolist() == [
        0.0,
        1.0,
        0.5,
    ]
    assert standardise(wards["b"], "rank", direction="lower").tolist() == [0.0, 1.0, 0.5]


def test_need_index_refuses_missing_values():
    wards = pd.DataFrame({"a": [1.0, np.nan, 3.0]}, index=["X", "Y", "Z"])
    with pytest.raises(
        InputError, match=r"indicator 'a' has no usable value for 1 ward\(s\), e.g. \['Y'\]"
    ):
        need_index(wards, {"a": 1})


def test_index_rates_stand_ins_are_made_from_published_values_only():
    counts = pd.DataFrame({"m": [3, 1, 40, 0, 6, 9]}, index=list("ABCDEF"))
    children = pd.Series({"A": 1000, "B": 500, "C": 2000, "D": 1000, "E": 3000, "F": 1000})
    hidden = pd.DataFrame({"m": [True, True, False, False, True, False]}, index=counts.index)
    out = index_rates(counts, children, hidden, threshold=5)
    # "fewer than 5": 2 children (the middle of 0..4) over the ward's children:
    # A 2 / 1000 * 10,000 = 20.0, B 2 / 500 = 40.0. Withheld E: the median published
    # rate (C 200, D 0, F 90 -> 90.0), above 5 / 3000 * 10,000 = 16.7.
    assert out["m_rate_index"].tolist() == [20.0, 40.0, 200.0, 0.0, 90.0, 90.0]
    assert out["m_rate_standin"].tolist() == [True, True, False, False, True, False]
    # A hidden count moving by one child (a rerun) leaves every stand-in where it was.
    moved = counts.assign(m=[4, 1, 40, 0, 7, 9])
    pd.testing.assert_frame_equal(index_rates(moved, children, hidden, threshold=5), out)


def test_caseload_change_between_first_and_latest_period():
    idx = pd.MultiIndex.from_product(
        [["2021", "2023", "2025"], ["A", "B"]], names=["period", "ward_code"]
    )
    counts = pd.DataFrame({"m": [10, 5, 99, 99, 20, 3]}, index=idx)
    children = pd.Series({"A": 1000, "B": 500})
    out = caseload_change(counts, children)
    # A: (20 - 10) / 1000 * 10,000 = 100; B: (3 - 5) / 500 * 10,000 = -40
    assert out["m_rate_change"].tolist() == [100.0, -40.0]
    earlier = first_period_counts(counts)
    assert earlier["m@2021"].tolist() == [10, 5]
    assert change_links(["m"], earlier) == {"m_rate_change": ("m", "m@2021")}
    single = counts.xs("2025", level="period", drop_level=False)
    assert caseload_change(single, children).columns.tolist() == []
    assert change_links(["m"], first_period_counts(single)) == {}


def _old_editions():
    # 2011 LSOAs A..E; D was split into 2021 LSOAs 4 (ward W1) and 6 (ward W2).
    lookup = pd.DataFrame(
        {
            "lsoa11_code": ["A", "B", "C", "D", "D", "E"],
            "lsoa_code": [
                "E01000001",
                "E01000002",
                "E01000003",
                "E01000004",
                "E01000006",
                "E01000005",
            ],
        }
    )
    iod2019 = pd.DataFrame(
        {
            "lsoa11_code": list("ABCDE"),
            "imd_decile": [1, 2, 3, 1, 5],
            "idaci_decile": [2, 2, 9, 9, 1],
        }
    )
    return lookup, iod2019


def test_deprivation_change_relative_to_england_worked_by_hand(grid_lsoa):
    lookup, iod2019 = _old_editions()
    lsoa = grid_lsoa.assign(idaci_decile=[1, 3, 2, 2, 5, 1])
    out = deprivation_change(lsoa, iod2019, lookup)
    w1, w2 = "E05000001", "E05000002"
    # W1 holds A, B, E and half of D: 3.5 old LSOAs; most deprived 10%: A + D/2 = 1.5;
    # 20%: A + B + D/2 = 2.5. In IoD2025 its LSOAs 1, 2, 4, 5 have deciles 5, 2, 4, 1.
    assert out.loc[w1, "lsoas_2019"] == 3.5
    assert out.loc[w1, "lsoas_most_deprived_10pc_2019"] == 1.5
    assert out.loc[w1, "lsoas_most_deprived_20pc_2019"] == 2.5
    assert out.loc[w1, "share_most_deprived_10pc_change"] == pytest.approx(1 / 4 - 1.5 / 3.5)
    assert out.loc[w1, "share_most_deprived_20pc_change"] == pytest.approx(2 / 4 - 2.5 / 3.5)
    # W2 holds C and half of D: 1.5; 10% and 20%: D/2. IoD2025 deciles 1 and 6.
    assert out.loc[w2, "share_most_deprived_10pc_2019"] == pytest.approx(1 / 3)
    assert out.loc[w2, "share_most_deprived_20pc_change"] == pytest.approx(1 / 2 - 1 / 3)
    # IDACI: W1 2019 = A, B, E (3 of 3.5); 2025 = LSOAs 1, 4 (2 of 4)
    assert out.loc[w1, "idaci_share_most_deprived_20pc_change"] == pytest.approx(2 / 4 - 3 / 3.5)
    # totals are conserved: five 2011 LSOAs, two in England's most deprived 10%
    assert out["lsoas_2019"].sum() == 5
    assert out["lsoas_most_deprived_10pc_2019"].sum() == 2


def test_deprivation_change_errors_name_the_file(grid_lsoa):
    lookup, iod2019 = _old_editions()
    with pytest.raises(
        InputError,
        match=r"lsoa11_to_lsoa21.csv: no 2011 LSOA for 1 2021 LSOA\(s\), e.g. \['E01000005'\]",
    ):
        deprivation_change(grid_lsoa, iod2019, lookup[lookup["lsoa11_code"] != "E"])
    with pytest.raises(
        InputError,
        match=r"deprivation_iod2019_lsoa11.csv: no row for 1 2011 LSOA\(s\) named in lsoa11_to_lsoa21.csv, e.g. \['C'\]",
    ):
        deprivation_change(grid_lsoa, iod2019[iod2019["lsoa11_code"] != "C"], lookup)
    with pytest.raises(
        InputError, match=r"deprivation_iod2019_lsoa11.csv: missing column\(s\) \['imd_decile'\]"
    ):
        deprivation_change(grid_lsoa, iod2019.drop(columns="imd_decile"), lookup)


def test_ward_deprivation_counts_idaci_most_deprived(grid_lsoa):
    grid_lsoa = grid_lsoa.assign(**{c: 1.0 for c in (*DOMAIN_SCORES, "idaopi_score")})
    out = ward_deprivation(grid_lsoa.assign(idaci_decile=[1, 3, 2, 2, 5, 1]))
    assert out["idaci_lsoas_most_deprived_20pc"].tolist() == [2, 2]
    assert out["idaci_share_most_deprived_20pc"].tolist() == [0.5, 1.0]
    # without IDACI deciles the columns are simply absent
    assert "idaci_share_most_deprived_20pc" not in ward_deprivation(grid_lsoa).columns


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 5000), st.integers(1, 10)),
        min_size=1,
        max_size=30,
    )
)
def test_aggregation_conserves_totals(rows):
    lsoa = pd.DataFrame(rows, columns=["ward", "children", "imd_decile"])
    lsoa["ward_code"] = "W" + lsoa["ward"].astype(str)
    out = aggregate(lsoa, sums=("children",))
    assert out["children"].sum() == lsoa["children"].sum()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.integers(0, 2), st.integers(1, 10)), min_size=1, max_size=15
    )
)
def test_deprivation_change_conserves_old_lsoa_totals(old):
    # each 2011 LSOA splits into 1-3 new LSOAs, each in one of three wards
    links, deciles, wards = [], {}, {}
    for i, (parts, ward, decile) in enumerate(old):
        deciles[f"L{i}"] = decile
        for j in range(parts):
            code = f"N{i}_{j}"
            links.append((f"L{i}", code))
            wards[code] = f"W{(ward + j) % 3}"
    lookup = pd.DataFrame(links, columns=["lsoa11_code", "lsoa_code"])
    iod2019 = pd.DataFrame({"lsoa11_code": list(deciles), "imd_decile": list(deciles.values())})
    lsoa = pd.DataFrame(
        {"lsoa_code": list(wards), "ward_code": list(wards.values()), "imd_decile": 5}
    )
    out = deprivation_change(lsoa, iod2019, lookup)
    assert out["lsoas_2019"].sum() == pytest.approx(len(old))
    assert out["lsoas_most_deprived_20pc_2019"].sum() == pytest.approx(
        sum(1 for d in deciles.values() if d <= 2)
    )


def test_split_across_the_area_boundary_keeps_only_its_share(grid_lsoa):
    lookup, iod2019 = _old_editions()
    # E was also split, into LSOA 5 here and one in a neighbouring area
    lookup = pd.concat([lookup, pd.DataFrame({"lsoa11_code": ["E"], "lsoa_code": ["E01999999"]})])
    out = deprivation_change(grid_lsoa, iod2019, lookup)
    assert out.loc["E05000001", "lsoas_2019"] == 3.0
    assert out["lsoas_2019"].sum() == 4.5
