from __future__ import annotations

import pandas as pd

from needsmap.synthetic import synthetic_caseload

WARDS = pd.DataFrame(
    {
        "ward_code": ["A", "B", "C"],
        "ward_name": ["Ay", "Bee", "Sea"],
        "children": [1000.0, 1000.0, 2000.0],
        "idaci": [0.05, 0.40, 0.20],
    }
)
TOTALS = {
    "children_in_need": {2024: 300, 2025: 320},
    "looked_after_children": {2024: 70, 2025: 80, 2023: 60},
}


def test_totals_equal_published_and_seed_reproduces():
    a = synthetic_caseload(WARDS, TOTALS, seed=1)
    b = synthetic_caseload(WARDS, TOTALS, seed=1)
    pd.testing.assert_frame_equal(a, b)
    # 2023 is published for one measure only, so it is not drawn
    assert a.groupby("period")["children_in_need"].sum().tolist() == [300, 320]
    assert a.loc[a["period"] == "2025-03-31", "looked_after_children"].sum() == 80
    assert list(a.columns) == ["ward_code", "ward_name", "period", *TOTALS]


def test_more_deprived_wards_get_higher_rates_on_average():
    big = {"children_in_need": {2025: 100_000}}
    out = synthetic_caseload(WARDS, big, seed=3).set_index("ward_code")
    rate = out["children_in_need"] / WARDS.set_index("ward_code")["children"]
    assert rate["B"] > rate["C"] > rate["A"]
