"""What not to commission: the review list, worked by hand on six wards."""

from __future__ import annotations

import pandas as pd

from needsmap.review import (
    CAVEAT,
    NOT_FLAGGED,
    READ_AS,
    REVIEW_COLUMNS,
    WARD_FLAG,
    review_list,
    ward_flags,
)


def six_wards():
    # need ranks 1-6; the least-need third is ranks 5 and 6 (rank > 2 x 6 / 3 = 4).
    # access medians: values 0.4, 0.6, 0.8, 1.0, 1.2, 0.5 -> median 0.7
    return pd.DataFrame(
        {
            "ward_name": ["A", "B", "C", "D", "E", "F"],
            "need_rank": [1, 2, 3, 4, 5, 6],
            "access_index": [0.4, 0.6, 0.8, 1.0, 1.2, 0.5],
            "share_covered_now": [0.9, 0.5, 0.0, 0.2, 0.25, 0.0],
        },
        index=pd.Index([f"W{i}" for i in range(1, 7)], name="ward_code"),
    )


def provision():
    return pd.DataFrame(
        {
            "service_id": ["H1", "H2", "H3"],
            "name": ["Hub one", "Hub two", "Hub three"],
            "ward_code": ["W1", "W2", "W5"],
            "need_in_reach": [900.0, 400.0, 120.0],
        }
    )


def test_low_need_good_access_wards_and_least_need_sites():
    got = review_list(six_wards(), provision(), reach="1,600 metres")
    assert list(got.columns) == REVIEW_COLUMNS
    # E (rank 5, access 1.2 >= 0.7) is flagged; F (rank 6) has poor access (0.5); one of
    # three sites, the one with least need in reach (Hub three, 120), is listed
    assert got[["kind", "code"]].values.tolist() == [["ward", "W5"], ["existing provision", "H3"]]
    assert got.loc[0, "reason"] == (
        "E is among the third of wards with least need (need rank 5 of 6), and its access to "
        "services is as good as or better than most wards' (access index 1.20, where 1 is the "
        "area's average and the middle ward has 0.70); 25% of its children live within 1,600 metres of the existing "
        "provision counted here."
    )
    assert got.loc[1, "reason"] == (
        "Hub three has about 120 need-weighted children within 1,600 metres, the least of the "
        "3 existing sites (their median is 400); most of them live in E (need rank 5 of 6)."
    )
    assert (got["read_as"] == READ_AS).all()
    flags = ward_flags(six_wards(), got)
    assert flags["W5"] == WARD_FLAG and (flags.drop("W5") == NOT_FLAGGED).all()


def test_too_few_sites_to_compare_and_unknown_coverage():
    wards = six_wards().drop(columns="share_covered_now")
    got = review_list(wards, provision().head(2), reach="15 minutes", provision_note="Partial.")
    assert got["kind"].tolist() == ["ward"]
    assert got.loc[0, "reason"].endswith("and the middle ward has 0.70).")


def test_the_caveat_says_it_is_a_prompt_not_a_decision():
    assert CAVEAT.startswith("This list is a prompt for review, not a recommendation to close")
    assert "how many families use each service" in CAVEAT


def test_wirral_review_list_in_the_outputs(bundled_run):
    folder = bundled_run.written[0].parent
    table = pd.read_csv(folder / "review_before_commissioning.csv")
    assert set(table["kind"]) == {"ward", "existing provision"}
    assert (table["read_as"] == READ_AS).all()
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "What not to commission: places to review" in html
    assert "This list is a prompt for review, not a recommendation to close" in html
    assert (folder / "maps" / "review_before_commissioning.png").exists()
