from __future__ import annotations

import pandas as pd
import pytest

from needsmap.disclosure import (
    UNSUPPRESSED_STAMP,
    WITHHELD,
    apply_suppression,
    count_text,
    round_counts,
    small_counts,
    stamped,
    suppression_mask,
)

F5 = "fewer than 5"


def table(counts):
    t = pd.DataFrame({"m": counts}, index=[f"W{i}" for i in range(len(counts))])
    t["m_rate"] = t["m"] * 10.0
    t["m_rate_unreliable"] = False
    return t


def test_a_small_count_hides_every_zero_then_withholds_by_children():
    d = apply_suppression(table([0, 3, 12, 9, 40]), ["m"])
    # 3 is primary; the zero is hidden with it (both read "fewer than 5", so a reader
    # cannot tell none from a few). Hidden total 3 would cap both at 3, short of the
    # 0..4 band, so cells are withheld in order (here row order; the pipeline orders
    # by children): 12, then 9 (12 alone could be narrowed to 7..15, not 7..17).
    assert d.table["m"].tolist() == [F5, F5, WITHHELD, WITHHELD, 40]
    assert d.table["m_rate"].tolist()[:4] == [F5, F5, WITHHELD, WITHHELD]
    assert d.table["m_rate_unreliable"].tolist() == [True, True, True, True, False]
    assert d.suppressed["m"].tolist() == [True, True, True, True, False]
    assert d.primary["m"].tolist() == [False, True, False, False, False]


def test_withheld_cells_follow_the_order_given_not_the_smallest_count():
    counts = pd.DataFrame({"m": [3, 12, 9, 40, 30]}, index=list("ABCDE"))
    children = pd.Series({"A": 900, "B": 1200, "C": 3000, "D": 800, "E": 2500})
    mask = suppression_mask(counts, 5, order=children)
    # Fewest children first after A: D (40), then B (12). Hidden 3 + 40 + 12 = 55:
    # A can be 0..4, D 5..50 and B 5..50 (each the total less the others' least).
    assert mask["m"].tolist() == [True, True, False, True, False]


def test_protection_sets_how_far_a_withheld_count_must_stay_uncertain():
    counts = pd.DataFrame({"m": [3, 12, 9, 40]})
    # 12 withheld: hidden 15 leaves 3 at 0..4 and 12 at 11..15. With protection 0 that
    # is enough; by default (5) 12 must reach 7..17, so 9 is withheld too.
    assert suppression_mask(counts, 5, protection=0)["m"].tolist() == [True, True, False, False]
    assert suppression_mask(counts, 5)["m"].tolist() == [True, True, True, False]


def test_column_without_small_counts_is_left_alone_zeros_included():
    mask = suppression_mask(pd.DataFrame({"m": [0, 12, 9, 0]}), 5)
    assert not mask["m"].any()


def test_round_counts_half_up_and_small_counts_untouched():
    counts = pd.DataFrame({"m": [0, 3, 5, 7, 8, 12, 13]})
    assert round_counts(counts, 5, 5)["m"].tolist() == [0, 3, 5, 5, 10, 10, 15]
    assert round_counts(counts, 1, 5)["m"].tolist() == counts["m"].tolist()


def test_count_text_for_messages():
    assert count_text(2) == "fewer than 5"
    assert count_text(0) == "0"
    assert count_text(1234) == "1,234"
    assert count_text(7, 10) == "fewer than 10"


def test_threshold_is_configurable_and_text_follows():
    d = apply_suppression(table([7, 8, 20, 30, 45]), ["m"], threshold=10)
    # 7 + 8 = 15 would put both at 6..9; 20 withheld leaves 20 itself at 17..35 (it
    # must reach 10..30), so 30 is withheld too.
    assert d.table["m"].tolist() == ["fewer than 10", "fewer than 10", WITHHELD, WITHHELD, 45]


def test_unsuppressed_output_is_stamped():
    d = apply_suppression(table([1, 2, 3]), ["m"], enabled=False)
    assert d.table["m"].tolist() == [1, 2, 3]
    assert d.stamp == UNSUPPRESSED_STAMP
    out = stamped(pd.DataFrame({"a": [1]}), d)
    assert out.columns.tolist() == ["status", "a"]
    assert out["status"].tolist() == [UNSUPPRESSED_STAMP]
    on = apply_suppression(table([1, 2, 3]), ["m"])
    assert stamped(pd.DataFrame({"a": [1]}), on).columns.tolist() == ["a"]


def test_change_is_withheld_where_either_period_is_hidden():
    t = table([20, 3, 12, 9, 40])
    t["m_rate_change"] = [1.0, 2.0, 3.0, 4.0, 5.0]
    earlier = pd.DataFrame({"m@2021": [2, 10, 12, 8, 0]}, index=t.index)
    d = apply_suppression(t, ["m"], hidden=earlier, derived={"m_rate_change": ("m", "m@2021")})
    # latest: 3 is primary, then 20 and 12 withheld in row order (no zero; hidden
    # 3 + 20 = 23 leaves 20 only 5..23, short of 15..25). 2021: 2 is primary and hides
    # the zero; hidden total 2 then needs 10 and 12 withheld as well.
    assert d.table["m"].tolist() == [WITHHELD, F5, WITHHELD, 9, 40]
    assert d.hidden_counts["m@2021"].tolist() == [True, True, True, False, True]
    assert d.table["m_rate_change"].tolist() == [WITHHELD, WITHHELD, WITHHELD, 4.0, WITHHELD]
    assert "m@2021" not in d.table.columns


def test_small_counts_helper():
    assert small_counts(pd.Series(["3", "fewer than 5", "0", "12", "4.0"]), 5).tolist() == [
        True,
        False,
        False,
        False,
        True,
    ]


@pytest.mark.parametrize("enabled", [True, False])
def test_caller_frame_is_not_changed(enabled):
    t = table([0, 3, 12])
    before = t.copy()
    apply_suppression(t, ["m"], enabled=enabled)
    pd.testing.assert_frame_equal(t, before)
