from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from needsmap.disclosure import UNSUPPRESSED_STAMP, apply_suppression, small_counts


def table(counts):
    t = pd.DataFrame({"m": counts}, index=[f"W{i}" for i in range(len(counts))])
    t["m_rate"] = t["m"] * 10.0
    return t


def test_primary_and_secondary_suppression():
    d = apply_suppression(table([0, 3, 12, 9, 40]), ["m"])
    # 3 is primary; the smallest other non-zero count (9) goes too, so the LA total
    # minus the published wards cannot reveal it. Zero is never suppressed.
    assert d.table["m"].tolist() == [0, "fewer than 5", 12, "fewer than 5", 40]
    assert d.table["m_rate"].tolist()[1] == "fewer than 5"
    assert d.suppressed["m"].tolist() == [False, True, False, True, False]


def test_threshold_is_configurable_and_text_follows():
    d = apply_suppression(table([7, 8, 20]), ["m"], threshold=10)
    assert d.table["m"].tolist() == ["fewer than 10", "fewer than 10", 20]


def test_unsuppressed_output_is_stamped():
    d = apply_suppression(table([1, 2, 3]), ["m"], enabled=False)
    assert d.table["m"].tolist() == [1, 2, 3]
    assert d.stamp == UNSUPPRESSED_STAMP


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=2, max_size=30), st.integers(2, 11))
def test_no_small_count_survives(counts, threshold):
    d = apply_suppression(table(counts), ["m"], threshold=threshold)
    assert not small_counts(d.table["m"], threshold).any()
    # a single suppressed cell is never left alone in a column
    assert d.suppressed["m"].sum() != 1 or sum(1 for c in counts if c > 0) == 1
