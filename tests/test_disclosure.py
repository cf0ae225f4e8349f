from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needsmap.disclosure import (
    UNSUPPRESSED_STAMP,
    WITHHELD,
    apply_suppression,
    feasible_values,
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


def test_primary_suppression_protected_by_a_zero():
    d = apply_suppression(table([0, 3, 12, 9, 40]), ["m"])
    # 3 alone could be read off the LA total (64) minus the published wards, so one more
    # cell is hidden. The zero costs the reader least and truthfully reads "fewer than 5":
    # the hidden pair sums to 3, which could be 0+3, 1+2, 2+1 or 3+0.
    assert d.table["m"].tolist() == [F5, F5, 12, 9, 40]
    assert d.table["m_rate"].tolist()[:2] == [F5, F5]
    assert d.table["m_rate_unreliable"].tolist() == [True, True, False, False, False]
    assert d.suppressed["m"].tolist() == [True, True, False, False, False]
    assert d.primary["m"].tolist() == [False, True, False, False, False]


def test_complement_of_five_or_more_reads_withheld_not_fewer_than_5():
    d = apply_suppression(table([3, 12, 9, 40]), ["m"])
    # No zero to hide, so the smallest other count (9) is withheld. Hidden total 12:
    # the "fewer than 5" cell could be anything from 0 to 4 (withheld 12..8).
    assert d.table["m"].tolist() == [F5, 12, WITHHELD, 40]
    assert d.table["m_rate"].tolist() == [F5, 120.0, WITHHELD, 400.0]


def test_two_small_cells_that_add_up_to_their_maximum_get_a_complement():
    # 4 + 4 = 8: two "fewer than 5" cells (0..4 each) summing to 8 must both be 4.
    d = apply_suppression(table([4, 4, 12, 9, 40]), ["m"])
    assert d.table["m"].tolist() == [F5, F5, 12, WITHHELD, 40]
    # 1 + 5 = 6 with 5 withheld leaves the small cell 0 or 1: two values, enough.
    d = apply_suppression(table([1, 5, 12, 9, 40]), ["m"])
    assert d.table["m"].tolist() == [F5, WITHHELD, 12, 9, 40]


def test_feasible_values_worked_by_hand():
    # hidden cells: "fewer than 5" x2, total 3 -> small cell is 0, 1, 2 or 3
    assert feasible_values(3, 2, 0, 5) == 4
    # x2, total 8 -> both 4
    assert feasible_values(8, 2, 0, 5) == 1
    # one small, one withheld (>= 5), total 6 -> small is 0 or 1
    assert feasible_values(6, 1, 1, 5) == 2
    # one small alone, total 3 -> exactly 3
    assert feasible_values(3, 1, 0, 5) == 1


def test_threshold_is_configurable_and_text_follows():
    d = apply_suppression(table([7, 8, 20]), ["m"], threshold=10)
    assert d.table["m"].tolist() == ["fewer than 10", "fewer than 10", 20]


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
    # latest: 3 is primary, 9 withheld (no zero). 2021: 2 is primary, the zero hides it.
    assert d.table["m"].tolist() == [20, F5, 12, WITHHELD, 40]
    assert d.hidden_counts["m@2021"].tolist() == [True, False, False, False, True]
    assert d.table["m_rate_change"].tolist() == [WITHHELD, WITHHELD, 3.0, WITHHELD, WITHHELD]
    assert "m@2021" not in d.table.columns


def test_row_totals_are_protected_too():
    counts = pd.DataFrame({"a": [3, 0, 9], "b": [7, 8, 6]}, index=["X", "Y", "Z"])
    # Column a alone: 3 is hidden with the zero at Y.
    alone = suppression_mask(counts, 5)
    assert alone["a"].tolist() == [True, True, False]
    assert not alone["b"].any()
    # If a + b is also published per ward, row X would give the 3 away (10 - 7) and row Y
    # the hidden zero (8 - 8), and with it the 3 again. So X's and Y's b are withheld;
    # column b then has two hidden cells (7 and 8, no small count) and is safe.
    mask = suppression_mask(counts, 5, row_totals=[("a", "b")])
    assert mask["a"].tolist() == [True, True, False]
    assert mask["b"].tolist() == [True, True, False]


def _attacker(published: list, total: int, t: int) -> list[set[int]]:
    """Every value each hidden cell could take, for a reader who knows the line total.

    Independent of the library: "fewer than t" cells are 0..t-1, "withheld" ones t..total,
    and the hidden cells must add up to the total minus the published cells.
    """
    known = sum(v for v in published if isinstance(v, int | float))
    hidden = [v for v in published if isinstance(v, str)]
    ranges = [range(0, t) if v.startswith("fewer") else range(t, total + 1) for v in hidden]
    target = total - known
    out = []
    for i in range(len(hidden)):
        # sums reachable by the other hidden cells
        sums = {0}
        for j, r in enumerate(ranges):
            if j != i:
                sums = {s + v for s in sums for v in r if s + v <= target}
        out.append({v for v in ranges[i] if target - v in sums})
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 25), min_size=2, max_size=8), st.integers(2, 7))
def test_no_small_count_survives_or_can_be_recovered(counts, threshold):
    d = apply_suppression(table(counts), ["m"], threshold=threshold)
    published = d.table["m"].tolist()
    assert not small_counts(pd.Series(published), threshold).any()
    # Text is never false: "fewer than t" only on counts below t.
    for shown, true in zip(published, counts, strict=True):
        if shown == f"fewer than {threshold}":
            assert true < threshold
        elif shown == WITHHELD:
            assert true >= threshold
        else:
            assert shown == true
    # A reader who knows the LA total cannot pin down any small count...
    small = [c for c in counts if 1 <= c < threshold]
    others_all_hidden = d.suppressed["m"].all()
    if small and not others_all_hidden:
        options = _attacker(published, sum(counts), threshold)
        hidden_true = [c for c, s in zip(counts, published, strict=True) if isinstance(s, str)]
        for true, values in zip(hidden_true, options, strict=True):
            assert true in values
            if 1 <= true < threshold:
                assert len(values) >= 2, (counts, published)


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
