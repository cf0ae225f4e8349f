"""What not to commission: a prompt for review, never a decision to close anything.

Two kinds of row, each with its reason in plain words:

- **Wards with low need and good access**: in the third of wards with least need
  (``need_rank`` above two thirds of the wards) and with access to services at least as
  good as the middle ward's (``access_index`` at or above the median across wards). New
  provision there would reach the least need.
- **Existing provision whose catchment holds the least need**: the third of existing
  sites (at least one, when there are three or more to compare) with the fewest
  need-weighted children within their catchment.

It does not weigh how much a service is used, what it offers beyond its catchment,
public transport, contracts or buildings, nor provision missing from the inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from needsmap.siting import about

READ_AS = "a prompt for review, not a decision to close or cut"
REVIEW_COLUMNS = [
    "kind",
    "code",
    "name",
    "ward_name",
    "need_rank",
    "access_index",
    "share_covered_now",
    "need_in_reach",
    "reason",
    "read_as",
]
WARD_FLAG = "Low need, good access: review before adding provision"
"""The ``review`` ward column's value for flagged wards (a map layer)."""
NOT_FLAGGED = "Not flagged"
CAVEAT = (
    "This list is a prompt for review, not a recommendation to close, cut or stop anything. "
    "It compares need and straight-line reach only. It does not take into account how many "
    "families use each service or how much, what a service offers beyond its catchment "
    "(outreach, specialist help, families from other wards), public transport, contracts "
    "and buildings, or provision the inputs do not list."
)


def review_list(
    wards: pd.DataFrame,
    provision: pd.DataFrame,
    *,
    reach: str,
    provision_note: str = "",
) -> pd.DataFrame:
    """Wards and existing sites to review before commissioning more there.

    Parameters
    ----------
    wards
        One row per ward with ``ward_name``, ``need_rank``, ``access_index`` and,
        when existing provision was counted, ``share_covered_now``.
    provision
        ``Siting.provision_reach``: one row per existing site with ``service_id``,
        ``name``, ``ward_code`` and ``need_in_reach``.
    reach
        The catchment in words, e.g. "1,600 metres".
    provision_note
        Appended to the reasons for existing sites when the list of provision is partial.

    Returns
    -------
    pd.DataFrame
        REVIEW_COLUMNS: flagged wards (least need first), then flagged sites.
    """
    n = len(wards)
    rank = pd.to_numeric(wards["need_rank"]).astype(int)
    access = pd.to_numeric(wards["access_index"])
    now = (
        pd.to_numeric(wards["share_covered_now"])
        if "share_covered_now" in wards
        else pd.Series(np.nan, index=wards.index)
    )
    middle = float(access.median())
    low = (rank > 2 * n / 3) & (access >= middle)
    rows = []
    for code in rank[low].sort_values(ascending=False).index.astype(str):
        reason = (
            f"{str(wards.at[code, 'ward_name'])} is among the third of wards with least need "
            f"(need rank {int(rank[code])} of {n}), and its access to services is as good as or "
            f"better than most wards' (access index {access[code]:.2f}, where 1 is the "
            f"area's average and the middle ward has {middle:.2f})"
        )
        if pd.notna(now[code]):
            share = "none" if now[code] == 0 else f"{now[code]:.0%}"
            reason += (
                f"; {share} of its children live within {reach} of the existing provision "
                "counted here"
            )
        rows.append(
            {
                "kind": "ward",
                "code": code,
                "name": wards.at[code, "ward_name"],
                "ward_name": wards.at[code, "ward_name"],
                "need_rank": int(rank[code]),
                "access_index": round(float(access[code]), 2),
                "share_covered_now": now[code],
                "need_in_reach": np.nan,
                "reason": reason + ".",
            }
        )
    if len(provision) >= 3:
        ordered = provision.sort_values("need_in_reach", kind="stable")
        median = float(provision["need_in_reach"].median())
        for _, site in ordered.head(max(1, len(provision) // 3)).iterrows():
            ward = str(site["ward_code"])
            ward_name = str(wards.at[ward, "ward_name"]) if ward in wards.index else ""
            reason = (
                f"{site['name']} has {about(site['need_in_reach'])} need-weighted children "
                f"within {reach}, the least of the {len(provision)} existing sites (their "
                f"median is {about(median).removeprefix('about ')})"
            )
            if ward_name:
                reason += f"; most of them live in {ward_name} (need rank {int(rank[ward])} of {n})"
            rows.append(
                {
                    "kind": "existing provision",
                    "code": site["service_id"],
                    "name": site["name"],
                    "ward_name": ward_name,
                    "need_rank": int(rank[ward]) if ward_name else pd.NA,
                    "access_index": np.nan,
                    "share_covered_now": np.nan,
                    "need_in_reach": site["need_in_reach"],
                    "reason": reason + (f". {provision_note}" if provision_note else "."),
                }
            )
    out = pd.DataFrame(rows, columns=REVIEW_COLUMNS)
    out["read_as"] = READ_AS
    return out


def ward_flags(wards: pd.DataFrame, review: pd.DataFrame) -> pd.Series:
    """The ``review`` ward column: WARD_FLAG for flagged wards, else NOT_FLAGGED."""
    flagged = set(review.loc[review["kind"] == "ward", "code"])
    return pd.Series(
        np.where(wards.index.isin(list(flagged)), WARD_FLAG, NOT_FLAGGED),
        index=wards.index,
        name="review",
    )
