"""The disclosure audit, and attacks that play a reader holding every published output.

The attacker here is independent of the library: it enumerates every whole-number
assignment of the hidden cells that agrees with what is published (the rules' bounds,
the column total and any other published fact) and reports each cell's possible values.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needsmap import audit
from needsmap.clusters import HIDDEN_TOTAL, publishable_totals
from needsmap.disclosure import (
    WITHHELD,
    apply_suppression,
    round_counts,
    suppression_mask,
)
from needsmap.indicators import caseload_change, caseload_rates, index_rates

F5 = "fewer than 5"


def attack(shown, total, t=5, *, caps=None, facts=()):
    """Every value each hidden cell can take, for a reader who knows the column total.

    ``shown``: the published column ("fewer than t", "withheld" or a number); ``caps``:
    extra upper bounds a rule implies (cell position -> cap); ``facts``: further
    published facts as functions of the full column that must hold.
    """
    caps = caps or {}
    hidden = [i for i, v in enumerate(shown) if isinstance(v, str)]
    rest = total - sum(v for v in shown if not isinstance(v, str))
    ranges = []
    for i in hidden:
        lo, hi = (0, t - 1) if shown[i].startswith("fewer") else (t, rest)
        ranges.append(range(lo, min(hi, caps.get(i, hi)) + 1))
    seen = [set() for _ in hidden]
    for combo in itertools.product(*ranges):
        if sum(combo) != rest:
            continue
        column = list(shown)
        for i, v in zip(hidden, combo, strict=True):
            column[i] = v
        if all(f(column) for f in facts):
            for k, v in enumerate(combo):
                seen[k].add(v)
    return dict(zip(hidden, seen, strict=True))


def published(counts, children=None, t=5, rounding=1):
    frame = pd.DataFrame({"m": counts}, index=[f"W{i}" for i in range(len(counts))])
    order = None if children is None else pd.Series(children, index=frame.index)
    mask = suppression_mask(frame, t, order=order, rounding=rounding)
    shown = round_counts(frame, rounding, t)
    d = apply_suppression(shown, ["m"], threshold=t, mask=mask)
    return d.table["m"].tolist(), mask["m"]


def protected(counts, shown, possible, t=5, p=5):
    """Every hidden cell's possible values cover its protection interval."""
    lo_need, hi_need = audit.required(np.array(counts, dtype=float), t, p, sum(counts))
    return all({int(lo_need[i]), int(hi_need[i])} <= v for i, v in possible.items())


# --- the two cases in the issue -----------------------------------------------------------


def test_ties_pinned_the_hidden_cells_under_the_old_rule_and_do_not_now():
    counts = [4, 5, 5, 12, 20, 31]  # Hoylake, Heswall, Pensby, ...
    old = [F5, WITHHELD, 5, 12, 20, 31]  # the smallest count withheld: capped at 5
    pinned = attack(old, sum(counts), caps={1: 5})
    assert pinned == {0: {4}, 1: {5}}  # Hoylake is 4, Heswall 5
    # The audit, given the old rule's cap, says so too.
    pub = audit.Publication(
        values=pd.DataFrame({"m": counts}, dtype=float),
        hidden=pd.DataFrame({"m": [True, True, False, False, False, False]}),
        lower=pd.DataFrame({"m": [0.0, 5, 5, 12, 20, 31]}),
        upper=pd.DataFrame({"m": [4.0, np.inf, 5, 12, 20, 31]}),
        relations=audit.column_totals(pd.DataFrame({"m": counts}, dtype=float)),
    )
    ranges = audit.audit(pub).ranges
    assert ranges[["lowest", "highest"]].to_numpy().tolist() == [[0.0, 4.0], [5.0, 9.0]]
    pub.relations += [audit.Relation(((1, "m"),), (1.0,), 5, 5, "old rule's cap")]
    pinned_by_audit = audit.audit(pub).ranges
    assert pinned_by_audit["lowest"].tolist() == [4.0, 5.0]
    assert not pinned_by_audit["protected"].any()
    # Now, with children deciding what is withheld (Heswall has the fewest after Hoylake):
    shown, _ = published(counts, children=[900, 1000, 2400, 1500, 2000, 3000])
    assert shown == [F5, WITHHELD, 5, WITHHELD, WITHHELD, 31]
    possible = attack(shown, sum(counts))
    assert possible[0] == {0, 1, 2, 3, 4}
    assert protected(counts, shown, possible)


def test_four_looked_after_fours_and_a_withheld_eight_give_nothing_away():
    counts = [4, 4, 4, 4, 8, 8, 15, 40]
    old = [F5, F5, F5, F5, WITHHELD, 8, 15, 40]
    assert attack(old, sum(counts), caps={4: 8}) == {0: {4}, 1: {4}, 2: {4}, 3: {4}, 4: {8}}
    shown, _ = published(counts, children=[800, 700, 900, 1000, 1100, 1200, 600, 3000])
    # 15 has the fewest children of the rest, then 8 (1100), then 8 (1200).
    assert shown == [F5, F5, F5, F5, WITHHELD, 8, WITHHELD, 40]
    possible = attack(shown, sum(counts))
    assert all(possible[i] == {0, 1, 2, 3, 4} for i in range(4))
    assert protected(counts, shown, possible)


# --- the rerun case ------------------------------------------------------------------------


def rerun(counts, children, rounding=1):
    frame = pd.DataFrame({"m": counts}, index=[f"W{i}" for i in range(len(counts))])
    kids = pd.Series(children, index=frame.index)
    mask = suppression_mask(frame, 5, order=kids, rounding=rounding)
    shown = round_counts(frame, rounding, 5)
    table = caseload_rates(shown, kids).join(index_rates(shown, kids, mask, threshold=5))
    return apply_suppression(table, ["m"], mask=mask).table


def test_a_rerun_with_one_child_more_in_a_small_ward_changes_nothing_published():
    children = [400, 500, 900, 1200, 1500, 2000, 2500]
    before = [2, 0, 30, 12, 18, 25, 40]
    after = [3, 0, 30, 12, 18, 25, 40]  # one child more, in the small ward W0
    # The old pooled stand-in moved with it: (2 + 0 + 30) / 1800 -> (3 + 0 + 30) / 1800.
    assert round(32 / 1800 * 10_000, 1) != round(33 / 1800 * 10_000, 1)
    pd.testing.assert_frame_equal(rerun(before, children), rerun(after, children))
    # With rounding, a child more in a published ward moves nothing either (18 -> 19).
    moved = [2, 0, 30, 12, 19, 25, 40]
    pd.testing.assert_frame_equal(
        rerun(before, children, rounding=5), rerun(moved, children, rounding=5)
    )


# --- more adversarial caseloads --------------------------------------------------------


def test_an_all_small_column_reads_fewer_than_5_throughout_and_reveals_only_the_total():
    counts = [1, 2, 3, 0, 4]
    shown, mask = published(counts)
    assert shown == [F5] * 5
    assert attack(shown, sum(counts)) == {i: {0, 1, 2, 3, 4} for i in range(5)}


def test_one_small_ward_in_a_large_area():
    counts = [3] + list(range(20, 60, 2))
    children = [1000] * len(counts)
    shown, mask = published(counts, children=children)
    possible = attack(shown, sum(counts))
    assert possible[0] == {0, 1, 2, 3, 4}
    assert protected(counts, shown, possible)


def two_periods():
    wards = [f"W{i}" for i in range(6)]
    idx = pd.MultiIndex.from_product([["2021", "2025"], wards], names=["period", "ward_code"])
    counts = pd.DataFrame({"m": [2, 10, 12, 8, 0, 30] + [20, 3, 12, 9, 40, 31]}, index=idx)
    kids = pd.Series([1000, 1200, 1500, 1800, 2100, 2400], index=wards, dtype=float)
    latest, first = counts.xs("2025", level="period"), counts.xs("2021", level="period")
    truth = latest.join(first.rename(columns={"m": "m@2021"}))
    mask = suppression_mask(truth, 5, order=kids)
    table = caseload_rates(latest, kids).join(caseload_change(counts, kids))
    d = apply_suppression(
        table,
        ["m"],
        hidden=truth[["m@2021"]],
        derived={"m_rate_change": ("m", "m@2021")},
        mask=mask,
    )
    return truth, kids, d


def test_two_periods_the_published_change_does_not_reveal_either_period():
    truth, kids, d = two_periods()
    change = d.table["m_rate_change"].tolist()
    # 2025: W1 (3) hidden, then W0 and W2 withheld (fewest children). 2021: W0 (2)
    # and the zero W4 hidden, then W1 and W2 withheld. The change is published only
    # where both periods are: W3 (9 - 8) / 1800 x 10,000 = 5.6; W5 (31 - 30) / 2400 = 4.2.
    assert d.table["m"].tolist() == [WITHHELD, F5, WITHHELD, 9, 40, 31]
    assert change == [WITHHELD, WITHHELD, WITHHELD, 5.6, WITHHELD, 4.2]
    lower = pd.DataFrame(0.0, index=truth.index, columns=truth.columns)
    upper = pd.DataFrame(np.inf, index=truth.index, columns=truth.columns)
    lower["m"], upper["m"] = audit.reader_bounds(d.table["m"], 5)
    hidden = d.suppressed.join(d.hidden_counts)
    lo, hi = audit.band_bounds(truth["m@2021"].to_numpy(), 5)
    lower["m@2021"] = lower["m@2021"].where(~hidden["m@2021"], lo)
    upper["m@2021"] = upper["m@2021"].where(~hidden["m@2021"], hi)
    relations = audit.column_totals(truth)
    relations += audit.change_relations(d.table, "m", "m@2021", kids, threshold=5)
    result = audit.audit(audit.Publication(truth, hidden, lower, upper, relations))
    assert result.ranges["protected"].all()
    # The reader learns W3's earlier count exactly (it is not hidden: 9 - 5.6 * 0.18 = 8)...
    w3 = audit.reader_ranges(
        audit.Publication(truth, hidden | (truth.index == "W3")[:, None], lower, upper, relations)
    ).set_index(["ward_code", "column"])
    assert w3.loc[("W3", "m@2021")].tolist() == [8.0, 8.0]
    # ... and every hidden earlier count stays anywhere in its band, as the attacker finds.
    earlier_shown = [
        (F5 if v < 5 else WITHHELD) if h else v
        for v, h in zip(truth["m@2021"], hidden["m@2021"], strict=True)
    ]
    possible = attack(earlier_shown, int(truth["m@2021"].sum()))
    assert protected(truth["m@2021"].tolist(), earlier_shown, possible)


def test_a_cluster_holding_one_suppressed_ward_keeps_its_total_back():
    counts = pd.Series([3, 12, 9, 40, 0, 25], index=[f"W{i}" for i in range(6)])
    children = pd.Series([800, 900, 1000, 3000, 1100, 2000], index=counts.index)
    mask = suppression_mask(counts.to_frame("m"), 5, order=children)["m"]
    groups = pd.Series([1, 1, 2, 2, 3, 3], index=counts.index)
    totals = publishable_totals(counts, groups, mask)
    # Hidden: W0 (3) and the zero W4, then W1 (12, 900 children) and W2 (9, 1000).
    assert mask.tolist() == [True, True, True, False, True, False]
    # Every cluster holds some, not all, of the hidden wards: no total is shown.
    assert totals.tolist() == [HIDDEN_TOTAL, HIDDEN_TOTAL, HIDDEN_TOTAL]
    # Had cluster 3 (W4 + W5) been published as 25, the audit pins W4 at 0:
    truth = counts.to_frame("m").astype(float)
    shown = apply_suppression(counts.to_frame("m"), ["m"], mask=mask.to_frame("m")).table["m"]
    lower, upper = audit.reader_bounds(shown, 5)
    pub = audit.Publication(
        truth,
        mask.to_frame("m"),
        pd.DataFrame({"m": lower}, index=truth.index),
        pd.DataFrame({"m": upper}, index=truth.index),
        audit.column_totals(truth),
    )
    assert audit.audit(pub).ranges["protected"].all()
    pub.relations += audit.group_relations(
        groups,
        pd.DataFrame({"m": [np.nan, np.nan, 25.0]}, index=[1, 2, 3]),
        shown.to_frame(),
        threshold=5,
    )
    leaked = audit.audit(pub).ranges.set_index("ward_code")
    assert leaked.loc["W4", ["lowest", "highest"]].tolist() == [0.0, 0.0]
    assert not leaked.loc["W4", "protected"]


def test_rounded_counts_widen_what_the_reader_knows():
    lo, hi = audit.reader_bounds(pd.Series([F5, WITHHELD, 5, 10, 0]), 5, rounding=5)
    assert lo.tolist() == [0.0, 5.0, 5.0, 8.0, 0.0]
    assert hi.tolist() == [4.0, np.inf, 7.0, 12.0, 0.0]


def test_sum_ranges_by_hand():
    # Three cells 0..4, 0..4, 5.. adding to 12: the first two 0..4, the third 5..12.
    lo, hi = audit.sum_ranges(np.array([0, 0, 5.0]), np.array([4, 4, np.inf]), 12, 12)
    assert lo.tolist() == [0.0, 0.0, 5.0]
    assert hi.tolist() == [4.0, 4.0, 12.0]


def test_run_json_record_never_holds_true_values():
    counts = [4, 5, 5, 12, 20, 31]
    frame = pd.DataFrame({"m": counts}, dtype=float)
    mask = suppression_mask(frame, 5)
    shown = apply_suppression(frame, ["m"], mask=mask).table["m"]
    lower, upper = audit.reader_bounds(shown, 5)
    result = audit.audit(
        audit.Publication(
            frame,
            mask,
            pd.DataFrame({"m": lower}),
            pd.DataFrame({"m": upper}),
            audit.column_totals(frame),
        )
    )
    record = result.record()
    assert set(record[0]) == {"ward_code", "column", "reads", "lowest", "highest"}
    assert record[0] == {"ward_code": 0, "column": "m", "reads": F5, "lowest": 0, "highest": 4}


# --- properties ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 30), min_size=2, max_size=9),
    st.randoms(use_true_random=False),
    st.integers(2, 7),
    st.sampled_from([1, 5]),
)
def test_the_audit_never_finds_a_range_narrower_than_promised(counts, rnd, t, rounding):
    rounding = rounding if t % rounding == 0 else 1  # the config's rule
    children = [rnd.randint(500, 3000) for _ in counts]
    frame = pd.DataFrame({"m": counts}, dtype=float)
    mask = suppression_mask(frame, t, order=pd.Series(children, dtype=float), rounding=rounding)
    shown = apply_suppression(round_counts(frame, rounding, t), ["m"], threshold=t, mask=mask)
    column = shown.table["m"]
    # Nothing from 1 to t-1 is published, and the text is never false.
    for value, true in zip(column, counts, strict=True):
        if isinstance(value, str):
            assert (true < t) == value.startswith("fewer")
        else:
            assert not 1 <= value < t
    lower, upper = audit.reader_bounds(column, t, rounding=rounding)
    pub = audit.Publication(
        frame,
        mask,
        pd.DataFrame({"m": lower}),
        pd.DataFrame({"m": upper}),
        audit.column_totals(frame),
        threshold=t,
        protection=t,
    )
    assert audit.audit(pub).ranges["protected"].all()
    # The independent attacker agrees (unrounded, small enough to enumerate).
    hidden = [c for c, h in zip(counts, mask["m"], strict=True) if h]
    if rounding == 1 and len(hidden) <= 5 and sum(hidden) <= 60:
        shown_list = [v if isinstance(v, str) else int(v) for v in column]
        possible = attack(shown_list, sum(counts), t)
        assert protected(counts, shown_list, possible, t=t, p=t)


@pytest.mark.parametrize("seed", [0, 1])
def test_england_scale_columns_are_audited_in_closed_form_quickly(seed):
    rng = np.random.default_rng(seed)
    n = 6784
    truth = pd.DataFrame({m: rng.poisson(lam, n) for m, lam in (("a", 60), ("b", 8), ("c", 6))})
    truth = truth.astype(float)
    kids = pd.Series(rng.integers(400, 4000, n), dtype=float)
    mask = suppression_mask(truth, 5, order=kids)
    shown = apply_suppression(truth, list(truth.columns), mask=mask).table
    lower = pd.DataFrame(index=truth.index)
    upper = pd.DataFrame(index=truth.index)
    for m in truth.columns:
        lower[m], upper[m] = audit.reader_bounds(shown[m], 5)
    result = audit.audit(audit.Publication(truth, mask, lower, upper, audit.column_totals(truth)))
    assert result.ranges["protected"].all()
    assert len(result.ranges) > 1000
    assert result.seconds < 10


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 25), st.integers(0, 25), st.integers(1, 3)),
        min_size=3,
        max_size=10,
    ),
    st.randoms(use_true_random=False),
    st.sampled_from([1, 5]),
)
def test_two_periods_and_group_totals_together_never_narrow_a_hidden_count(rows, rnd, rounding):
    wards = [f"W{i}" for i in range(len(rows))]
    kids = pd.Series([rnd.randint(500, 3000) for _ in rows], index=wards, dtype=float)
    idx = pd.MultiIndex.from_product([["2021", "2025"], wards], names=["period", "ward_code"])
    true = pd.DataFrame({"m": [r[0] for r in rows] + [r[1] for r in rows]}, index=idx)
    groups = pd.Series([r[2] for r in rows], index=wards)
    latest, first = true.xs("2025", level="period"), true.xs("2021", level="period")
    truth = latest.join(first.rename(columns={"m": "m@2021"})).astype(float)
    mask = suppression_mask(truth, 5, order=kids, rounding=rounding)
    shown = round_counts(true, rounding, 5)
    table = caseload_rates(shown.xs("2025", level="period"), kids)
    table = table.join(caseload_change(shown, kids))
    d = apply_suppression(
        table,
        ["m"],
        hidden=truth[["m@2021"]],
        derived={"m_rate_change": ("m", "m@2021")},
        mask=mask,
    )
    totals = publishable_totals(shown.xs("2025", level="period")["m"], groups, mask["m"])
    lower = pd.DataFrame(0.0, index=wards, columns=truth.columns)
    upper = pd.DataFrame(np.inf, index=wards, columns=truth.columns)
    lower["m"], upper["m"] = audit.reader_bounds(d.table["m"], 5, rounding=rounding)
    hidden = d.suppressed.join(d.hidden_counts)
    lo, hi = audit.band_bounds(truth["m@2021"].to_numpy(), 5)
    lower["m@2021"] = lower["m@2021"].where(~hidden["m@2021"], lo)
    upper["m@2021"] = upper["m@2021"].where(~hidden["m@2021"], hi)
    relations = audit.column_totals(truth)
    relations += audit.change_relations(
        d.table, "m", "m@2021", kids, threshold=5, rounding=rounding
    )
    relations += audit.group_relations(
        groups, totals.to_frame("m"), d.table, threshold=5, rounding=rounding
    )
    result = audit.audit(audit.Publication(truth, hidden, lower, upper, relations))
    assert result.ranges["protected"].all()
    # and every fact the audit was given holds for the truth (it models the outputs)
    for rel in relations:
        value = sum(c * truth.at[w, col] for (w, col), c in zip(rel.cells, rel.coefs, strict=True))
        assert rel.lo - 1e-6 <= value <= rel.hi + 1e-6, rel.source
