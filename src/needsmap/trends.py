"""Is a ward's figure rising, falling or not clearly changing? And did piloted wards
change differently from comparable wards?

Two pieces, each a pure function on a tidy frame:

- ``linear_trends``: each ward's straight-line trend in a percentage or a rate over the
  years given, with an interval, and a plain verdict. The test is a weighted
  least-squares slope of the yearly values on the year, each year weighted by its
  denominator (children): under no change, a count of ``k`` out of ``n`` children
  varies as binomial (a percentage) or Poisson (a rate per 10,000), and this slope is
  then the Cochran-Armitage test for trend. Real year-to-year scatter is wider than
  that sampling noise (local economies move, DWP rounds its counts, caseloads follow
  practice as well as need), so the variance is scaled by the scatter the area's own
  wards show about their lines (a quasi-likelihood dispersion, pooled over wards, never
  below 1) and the interval uses Student's t on the pooled degrees of freedom. With
  four years per ward this is a test with little power: "not clearly changing" means
  the data cannot tell, not that nothing changed.
- ``difference_in_differences``: the mean change (after minus before) in the piloted
  wards minus the mean change in the comparison wards, with a t interval from the
  spread of the wards' own changes (pooled two-sample t). It is a comparison of
  trends, never an estimate of what the pilot did: wards are not chosen at random, and
  a handful of wards can rarely tell anything apart.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from needsmap import vocabulary
from needsmap.errors import InputError

log = logging.getLogger(__name__)

RISING, FALLING, STEADY = "rising", "falling", "not clearly changing"
VERDICTS = (RISING, STEADY, FALLING)
TREND_TEST = (
    "weighted least-squares trend (Cochran-Armitage form), variance scaled by the "
    "year-to-year scatter of the area's wards, 95% t interval"
)


@dataclass(frozen=True)
class Trends:
    table: pd.DataFrame
    """One row per ward: ``first``, ``latest`` (values), ``change`` (latest - first),
    ``slope``, ``slope_lower``, ``slope_upper`` (per year), ``p_value``, ``verdict``."""
    dispersion: float
    """Scatter about the lines relative to sampling noise (1 = as expected)."""
    df: int
    """Degrees of freedom behind the dispersion (0: not estimable, taken as 1)."""
    years: tuple[float, ...]


def linear_trends(
    panel: pd.DataFrame,
    *,
    family: Literal["binomial", "poisson"] = "binomial",
    scale: float = 100.0,
    level: float = 0.95,
) -> Trends:
    """Each ward's linear trend, interval and verdict.

    Parameters
    ----------
    panel
        Long: ``ward_code``, ``year`` (numeric), ``count`` and ``base`` (the
        denominator: children). Rows with a missing or zero base are left out.
    family
        ``binomial`` for a share of the base (a percentage), ``poisson`` for a rate.
    scale
        Values are ``count / base * scale`` (100: percent; 10,000: per 10,000).
    level
        Interval coverage.

    Returns
    -------
    Trends
        ``table`` indexed by ward (values in ``scale`` units, slopes per year).
    """
    need = {"ward_code", "year", "count", "base"}
    missing = sorted(need - set(panel.columns))
    if missing:
        msg = f"trend panel: missing column(s) {missing}; expected {sorted(need)}"
        raise InputError(msg)
    frame = panel[["ward_code", "year", "count", "base"]].copy()
    frame[["year", "count", "base"]] = frame[["year", "count", "base"]].astype(float)
    frame = frame.dropna()
    frame = frame[frame["base"] > 0].sort_values(["ward_code", "year"])
    if frame.empty:
        msg = "trend panel: no ward has a usable year (every base is missing or zero)"
        raise InputError(msg)
    # Weighted least squares of each ward's share on year, weights its base: all wards at
    # once, as sums by ward (England's 6,800 wards one by one took 4 s).
    ward, t, k, n = (frame[c] for c in ("ward_code", "year", "count", "base"))
    y = k / n
    by = frame.assign(y=y, nt=n * t).groupby("ward_code", sort=True)
    sums = by[["count", "base", "nt"]].sum()
    mean = sums["count"] / sums["base"]
    var_unit = mean * (1 - mean) if family == "binomial" else mean
    dt = t - ward.map(sums["nt"] / sums["base"])
    dy = y - ward.map(mean)
    moments = pd.DataFrame({"sxx": n * dt**2, "sxy": n * dt * dy}).groupby(ward).sum()
    usable = (by.size() >= 2) & (moments["sxx"] > 0) & (var_unit > 0)
    slope = (moments["sxy"] / moments["sxx"]).where(usable)
    residual = (n * (dy - ward.map(slope) * dt) ** 2).groupby(ward).sum() / var_unit
    x2 = float(residual[usable].sum())
    df = int((by.size() - 2)[usable].sum())
    table = pd.DataFrame(
        {
            "first": by["y"].first() * scale,
            "latest": by["y"].last() * scale,
            "change": (by["y"].last() - by["y"].first()) * scale,
            "slope": slope * scale,
            "var0": (var_unit / moments["sxx"] * scale**2).where(usable),
        }
    )
    table.index.name = "ward_code"
    dispersion = max(1.0, x2 / df) if df else 1.0
    crit = stats.t.ppf(0.5 + level / 2, df) if df else stats.norm.ppf(0.5 + level / 2)
    se = np.sqrt(dispersion * table.pop("var0"))
    table["slope_lower"] = table["slope"] - crit * se
    table["slope_upper"] = table["slope"] + crit * se
    z = table["slope"] / se
    tail = stats.t.sf(np.abs(z), df) if df else stats.norm.sf(np.abs(z))
    table["p_value"] = np.where(se > 0, 2 * tail, np.nan)
    table["verdict"] = np.select(
        [table["slope_lower"] > 0, table["slope_upper"] < 0], [RISING, FALLING], STEADY
    )
    table.loc[table["slope"].isna(), "verdict"] = pd.NA
    years = tuple(sorted(frame["year"].unique()))
    log.debug("trend dispersion %.2f on %d df", dispersion, df)
    return Trends(table=table, dispersion=dispersion, df=df, years=years)


@dataclass(frozen=True)
class DiD:
    estimate: float
    """Mean change in the piloted wards minus the mean change in the comparison wards."""
    lower: float
    upper: float
    pilot_change: float
    comparison_change: float
    pilot_wards: tuple[str, ...]
    comparison_wards: tuple[str, ...]
    before: tuple[str, ...]
    """Labels of the periods counted as before the start."""
    after: tuple[str, ...]
    comparison_rule: str

    @property
    def tells_apart(self) -> bool:
        return bool(self.lower > 0 or self.upper < 0)

    def sentence(self, what: str, unit: str) -> str:
        """The comparison in plain words; never calls it an effect of the pilot."""
        n_p, n_c = len(self.pilot_wards), len(self.comparison_wards)
        span = f"{_pp(self.lower)} to {_pp(self.upper)} {unit}"
        head = (
            f"{what}: piloted wards ({n_p}) changed by {_pp(self.pilot_change)} {unit}, "
            f"comparison wards ({n_c}, {self.comparison_rule}) by "
            f"{_pp(self.comparison_change)} {unit}; difference {_pp(self.estimate)} {unit} "
            f"(95% interval {span})."
        )
        if not self.tells_apart:
            return (
                f"{head} The interval includes no difference: these wards cannot tell "
                "the piloted and comparison wards apart."
            )
        return (
            f"{head} The piloted wards changed differently, but this is a comparison of "
            "trends in wards that were not chosen at random, not a measure of what the "
            "pilot did."
        )


def comparison_wards(
    pilot_wards: Sequence[str],
    groups: pd.Series,
    *,
    minimum: int = 2,
) -> tuple[list[str], str]:
    """Non-piloted wards in the same group (cluster or need band) as any piloted ward.

    Falls back to every non-piloted ward when fewer than ``minimum`` share a group; the
    returned rule says which was used, in words for the output.
    """
    piloted = set(pilot_wards)
    others = [w for w in groups.index if w not in piloted]
    shared = set(groups.reindex(list(piloted)).dropna())
    same = [w for w in others if groups[w] in shared]
    if len(same) >= minimum:
        return same, f"non-piloted wards in the same {groups.name or 'group'}"
    return others, f"all non-piloted wards (too few in the same {groups.name or 'group'})"


def difference_in_differences(
    panel: pd.DataFrame,
    pilot_wards: Sequence[str],
    start: pd.Timestamp | str,
    *,
    comparison: Sequence[str],
    comparison_rule: str = "chosen by the caller",
    level: float = 0.95,
) -> DiD:
    """Compare the change in piloted wards with the change in comparison wards.

    Parameters
    ----------
    panel
        Long: ``ward_code``, ``period`` (label), ``period_start``, ``period_end``
        (dates the figure covers: equal for a count at a date) and ``value``.
    pilot_wards, comparison
        Ward codes of the two groups (disjoint).
    start
        When the pilot began. A period is *before* if it ended before the start and
        *after* if it began on or after it; a period spanning the start is left out.

    Returns
    -------
    DiD
        Each ward's change is its mean value after minus its mean before; the estimate
        is the piloted wards' mean change minus the comparison wards'. The interval is
        Student's t from the spread of those ward changes, pooled over both groups
        (n_p + n_c - 2 df); with a single piloted ward the comparison wards' spread
        stands in for it.
    """
    start = pd.Timestamp(start)
    overlap = sorted(set(pilot_wards) & set(comparison))
    if overlap:
        msg = f"pilot comparison: ward(s) {overlap} are both piloted and comparison wards"
        raise InputError(msg)
    frame = panel.dropna(subset=["value"])
    frame = frame[frame["ward_code"].isin([*pilot_wards, *comparison])]
    ends = pd.to_datetime(frame["period_end"])
    begins = pd.to_datetime(frame["period_start"])
    side = np.select([ends < start, begins >= start], ["before", "after"], "")
    frame = frame.assign(side=side)[side != ""]
    labels = {
        s: tuple(sorted(frame.loc[frame["side"] == s, "period"].astype(str).unique()))
        for s in ("before", "after")
    }
    if not labels["before"] or not labels["after"]:
        msg = (
            f"pilot comparison: the data need a period before and after {start.date()}; "
            f"before: {list(labels['before']) or 'none'}, after: {list(labels['after']) or 'none'}"
        )
        raise InputError(msg)
    means = frame.pivot_table(index="ward_code", columns="side", values="value", aggfunc="mean")
    change = (means["after"] - means["before"]).dropna()
    p = change.reindex(list(pilot_wards)).dropna()
    c = change.reindex(list(comparison)).dropna()
    if len(p) < 1 or len(c) < 2:
        msg = (
            f"pilot comparison: {len(p)} piloted and {len(c)} comparison ward(s) have data "
            "before and after the start; need at least 1 and 2"
        )
        raise InputError(msg)
    est = float(p.mean() - c.mean())
    # Student's two-sample t: one spread of ward changes, pooled over both groups (a
    # single piloted ward adds no spread of its own), on n_p + n_c - 2 df.
    dof = len(p) + len(c) - 2
    pooled = (((p - p.mean()) ** 2).sum() + ((c - c.mean()) ** 2).sum()) / dof
    se = float(np.sqrt(pooled * (1 / len(p) + 1 / len(c))))
    crit = float(stats.t.ppf(0.5 + level / 2, dof))
    return DiD(
        estimate=est,
        lower=est - crit * se,
        upper=est + crit * se,
        pilot_change=float(p.mean()),
        comparison_change=float(c.mean()),
        pilot_wards=tuple(p.index),
        comparison_wards=tuple(c.index),
        before=labels["before"],
        after=labels["after"],
        comparison_rule=comparison_rule,
    )


CHILD_POVERTY_MEASURE = "relative_bhc"
CHILD_POVERTY_LABEL = "children in relative low income (%, DWP)"


def fye_label(fye: int | float) -> str:
    """A financial year as councils write it: ``2025`` (year ending March 2025) ->
    ``2024/25``."""
    return vocabulary.financial_year(fye)


def child_poverty_panel(
    cilif: pd.DataFrame, *, measure: str = CHILD_POVERTY_MEASURE
) -> pd.DataFrame:
    """The DWP ward series as a trend panel: ``ward_code``, ``year``, ``count``, ``base``.

    DWP gives the count and the percentage of children aged 0-15; the base (children
    aged 0-15 that DWP divided by) is the count over the percentage. A blank or zero
    percentage leaves that year out.
    """
    rows = cilif[cilif["measure"] == measure].dropna(subset=["children", "percentage"])
    rows = rows[rows["percentage"] > 0]
    return pd.DataFrame(
        {
            "ward_code": rows["ward_code"].to_numpy(),
            "year": rows["fye"].astype(float).to_numpy(),
            "count": rows["children"].astype(float).to_numpy(),
            "base": (rows["children"] / rows["percentage"] * 100).to_numpy(),
        }
    )


def child_poverty_columns(cilif: pd.DataFrame, wards: pd.Index) -> pd.DataFrame:
    """Child poverty (DWP, children 0-15 in relative low income before housing costs) by
    ward: latest level, change over the series and its trend.

    Returns
    -------
    pd.DataFrame
        Indexed by ``wards``: ``child_poverty_fye_first`` and ``child_poverty_fye``
        (the first and latest financial year ending), ``child_poverty_pct`` (latest, %),
        ``child_poverty_children`` (its count), ``child_poverty_pct_first`` (first
        year), ``child_poverty_change`` (percentage points, latest minus first),
        ``child_poverty_trend_per_year`` with ``_lower`` / ``_upper`` (95%, percentage
        points a year), ``child_poverty_trend`` (rising, falling or not clearly
        changing; see ``linear_trends``) and, where DWP gives it,
        ``child_poverty_ahc_pct`` (after housing costs, latest year).
    """
    trends = linear_trends(child_poverty_panel(cilif), family="binomial", scale=100.0)
    t = trends.table.reindex(wards)
    rel = cilif[cilif["measure"] == CHILD_POVERTY_MEASURE]
    latest = rel[rel["fye"] == rel["fye"].max()].set_index("ward_code")
    out = pd.DataFrame(index=wards)
    out["child_poverty_fye_first"] = int(min(trends.years))
    out["child_poverty_fye"] = int(rel["fye"].max())
    out["child_poverty_pct"] = latest["percentage"].reindex(wards).round(1)
    out["child_poverty_children"] = latest["children"].reindex(wards)
    out["child_poverty_pct_first"] = t["first"].round(1)
    out["child_poverty_change"] = t["change"].round(1)
    out["child_poverty_trend_per_year"] = t["slope"].round(2)
    out["child_poverty_trend_lower"] = t["slope_lower"].round(2)
    out["child_poverty_trend_upper"] = t["slope_upper"].round(2)
    out["child_poverty_trend"] = t["verdict"]
    ahc = cilif[cilif["measure"] == "relative_ahc"]
    if len(ahc):
        last = ahc[ahc["fye"] == ahc["fye"].max()].set_index("ward_code")["percentage"]
        out["child_poverty_ahc_pct"] = last.reindex(wards).round(1)
    return out


def period_years(periods: pd.Index | Sequence[object]) -> pd.Series:
    """Caseload period labels as decimal years (``2021-03-31`` -> 2021.25)."""
    dates = pd.to_datetime(pd.Index([str(p) for p in periods]))
    years = dates.year + (dates.day_of_year - 1) / 365.25
    return pd.Series(np.asarray(years, dtype=float), index=list(periods))


def caseload_trends(counts: pd.DataFrame, children: pd.Series) -> pd.DataFrame:
    """Each caseload measure's trend per ward over every period supplied.

    The same test as for child poverty, on counts with the ward's children (0-17) as
    the Poisson base (rates per 10,000). Needs at least three periods (two give a
    change, not a trend); otherwise no columns.

    Returns
    -------
    pd.DataFrame
        Indexed by ward: ``<m>_trend`` (rising, falling, not clearly changing) and
        ``<m>_trend_per_year`` with ``_lower`` / ``_upper`` (per 10,000 a year). The
        disclosure step withholds them wherever any period's count is hidden
        (``trend_links``).
    """
    periods = sorted(counts.index.get_level_values("period").unique())
    out = pd.DataFrame(index=children.index)
    if len(periods) < 3:
        return out
    years = period_years(periods)
    long = counts.reset_index()
    long["year"] = long["period"].map(lambda p: years[p])
    long["base"] = long["ward_code"].map(children.astype(float))
    for m in counts.columns:
        panel = long[["ward_code", "year", m, "base"]].rename(columns={m: "count"})
        t = linear_trends(panel, family="poisson", scale=10_000.0).table.reindex(children.index)
        out[f"{m}_trend"] = t["verdict"]
        out[f"{m}_trend_per_year"] = t["slope"].round(1)
        out[f"{m}_trend_lower"] = t["slope_lower"].round(1)
        out[f"{m}_trend_upper"] = t["slope_upper"].round(1)
    return out


TREND_SUFFIXES = ("_trend", "_trend_per_year", "_trend_lower", "_trend_upper")


def earlier_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Counts of every period before the latest, one column ``<m>@<period>`` each.

    Not published, but a published trend is computed from them: the disclosure step
    protects them as it protects the latest counts.
    """
    periods = sorted(counts.index.get_level_values("period").unique())
    frames = []
    for p in periods[:-1]:
        frame = counts.xs(p, level="period")
        assert isinstance(frame, pd.DataFrame)
        frames.append(frame.add_suffix(f"@{p}"))
    wards = counts.index.get_level_values("ward_code").unique()
    return pd.concat(frames, axis=1) if frames else pd.DataFrame(index=wards)


def trend_links(measures: Sequence[str], earlier: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Each published trend column -> every count column it is computed from."""
    links: dict[str, tuple[str, ...]] = {}
    for m in measures:
        sources = (m, *[c for c in earlier.columns if c.startswith(f"{m}@")])
        links |= {f"{m}{s}": sources for s in TREND_SUFFIXES}
    return links


# --- in words, for the report -------------------------------------------------------------


def _names(items: Sequence[str], *, most: int | None = None) -> str:
    items = list(items)
    if most is not None and len(items) > most:
        return ", ".join(items[:most]) + f" and {len(items) - most} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _pp(x: float) -> str:
    """Signed, to one decimal; a value that one decimal would show as 0.0 keeps its first
    significant digit, so an interval that excludes no change never reads "to −0.0"."""
    text = f"{x:+.1g}" if x and round(x, 1) == 0 else f"{x:+.1f}"
    return text.replace("-", "−")


def poverty_benchmark(areas: pd.DataFrame, *, measure: str = CHILD_POVERTY_MEASURE) -> pd.DataFrame:
    """The area, England and its statistical neighbours' median, by year (% of children).

    Returns
    -------
    pd.DataFrame
        One row per ``area`` (the council, "England", "Statistical neighbours
        (median)"), one column per financial year (``2024/25``), and ``change`` (latest
        minus first, in percentage points).
    """
    rows = areas[areas["measure"] == measure]
    wide = rows.pivot_table(index=["group", "area_name"], columns="fye", values="percentage")
    out = []
    for group in ("Local authority", "England"):
        part = wide.xs(group, level="group") if group in wide.index.get_level_values(0) else None
        if part is not None and len(part):
            out.append(part.iloc[[0]])
    if "Statistical neighbour" in wide.index.get_level_values(0):
        sn = wide.xs("Statistical neighbour", level="group")
        median = pd.DataFrame(
            [sn.median()], index=[f"Statistical neighbours (median of {len(sn)})"]
        )
        out.append(median)
    table = pd.concat(out) if out else pd.DataFrame()
    if table.empty:
        return table
    years = list(table.columns)
    # The change of the shown (rounded) figures, so a reader's subtraction agrees with it.
    table = table.round(1)
    table["change_points"] = table[years[-1]] - table[years[0]]
    table.columns = pd.Index([fye_label(int(c)) for c in years] + ["change_points"])
    table.index.name = "area"
    return table.round(1)


def change_findings(
    wards: pd.DataFrame,
    *,
    pilot_wards: Sequence[str] = (),
    benchmark: pd.DataFrame | None = None,
) -> list[str]:
    """The board's question in plain words: which non-piloted wards are getting worse, on
    what evidence, and how sure.

    Parameters
    ----------
    wards
        The published ward table with the ``child_poverty_*`` columns (and, optionally,
        caseload ``<m>_trend`` columns).
    pilot_wards
        Ward codes where a pilot runs (from the config); the rest count as non-piloted.
    benchmark
        From ``poverty_benchmark``.
    """
    if "child_poverty_trend" not in wards.columns:
        return [
            "No child poverty series in the area bundle (child_poverty_wards.csv), so this "
            "report cannot say which wards are getting worse."
        ]
    w = wards
    first, last = int(w["child_poverty_fye_first"].iloc[0]), int(w["child_poverty_fye"].iloc[0])
    span = f"{fye_label(first)} to {fye_label(last)}"
    up = int((w["child_poverty_change"] > 0).sum())
    down = int((w["child_poverty_change"] < 0).sum())
    out = [
        f"Children aged 0–15 in relative low income (DWP, before housing costs) went up in "
        f"{up} of {len(w)} wards and down in {down} from {span} (the financial years to "
        f"March {first} and March {last}). A ward's yearly figure "
        "moves for many reasons, so each ward's four years are tested for a trend "
        "(a weighted straight-line fit; its 95% interval is widened by the year-to-year "
        "scatter all wards show): only where the interval excludes no change is a ward "
        "called rising or falling."
    ]
    piloted = set(pilot_wards)

    def one(code: str) -> str:
        r = w.loc[code]
        keys = ("pct_first", "pct", "trend_per_year", "trend_lower", "trend_upper")
        v = {
            k: float(x) for k, x in zip(keys, r[[f"child_poverty_{k}" for k in keys]], strict=True)
        }
        lo, hi = v["trend_lower"], v["trend_upper"]
        return (
            f"{r['ward_name']} ({v['pct_first']:.1f}% → {v['pct']:.1f}%, "
            f"{_pp(v['trend_per_year'])} points a year, 95% interval {_pp(lo)} to {_pp(hi)})"
        )

    def listing(codes: Sequence[str]) -> str:
        return _names([one(c) for c in codes])

    by_change = w.sort_values("child_poverty_change", ascending=False)
    verdict, change = by_change["child_poverty_trend"], by_change["child_poverty_change"]
    rising = [c for c in by_change.index[verdict == RISING] if c not in piloted]
    falling = list(by_change.index[verdict == FALLING][::-1])
    worse = rising
    who = "non-piloted " if piloted else ""
    wards_word = "ward" if len(worse) == 1 else "wards"
    none_set = (
        ""
        if piloted
        else "; no pilot wards are set in the config, so every ward counts as non-piloted"
    )
    if worse:
        out.append(
            f"Getting worse, with a clear rising trend ({len(worse)} {who}{wards_word}"
            f"{none_set}): {listing(worse)}."
        )
    else:
        out.append(f"No {who}ward shows a clearly rising trend over {span}{none_set}.")
    up_only = by_change.index[(verdict == STEADY) & (change > 0)]
    steady_up = [c for c in up_only if c not in piloted][:5]
    if steady_up:
        out.append(
            "Higher in the latest year than the first, but not clearly rising (the "
            f"movement is within year-to-year variation): {listing(steady_up)}."
        )
    if falling:
        out.append(f"Clearly falling: {listing(falling)}.")
    if benchmark is not None and len(benchmark):
        cols = [c for c in benchmark.columns if c != "change_points"]
        parts = [
            f"{name} {row[cols[0]]:.1f}% → {row[cols[-1]]:.1f}% "
            f"({_pp(row['change_points'])} points)"
            for name, row in benchmark.iterrows()
        ]
        out.append(f"For comparison, {cols[0]} → {cols[-1]}: " + "; ".join(parts) + ".")
    out.append(
        "DWP's figures are provisional, and 2021/22 is the first year on the current basis: "
        "the older MSOA series is not comparable and is not used."
    )
    return out


def change_headline(wards: pd.DataFrame, *, pilot_wards: Sequence[str] = ()) -> str | None:
    """One short key finding: where child poverty is clearly rising, and whether piloted."""
    if "child_poverty_trend" not in wards.columns:
        return None
    rising = wards[wards["child_poverty_trend"] == RISING]
    rising = rising.sort_values("child_poverty_change", ascending=False)
    first, last = (int(wards[c].iloc[0]) for c in ("child_poverty_fye_first", "child_poverty_fye"))
    span = f"{fye_label(first)} to {fye_label(last)}"
    if rising.empty:
        return f"No ward's child poverty (DWP) is clearly rising over {span}; see Change."
    names = _names(list(rising["ward_name"]), most=8)  # those rising most first
    piloted = [c for c in rising.index if c in set(pilot_wards)]
    which = (
        f"{len(piloted)} of them piloted"
        if piloted
        else "none of them piloted"
        if pilot_wards
        else "no pilot wards are set"
    )
    return (
        f"Child poverty (DWP, children in low income) is clearly rising in {names} over "
        f"{span} ({which}); see Change for how sure that is."
    )


def caseload_trend_findings(
    wards: pd.DataFrame, measures: dict[str, str], *, synthetic: bool = False
) -> list[str]:
    """One sentence per caseload measure with a trend: how many wards rise and fall.

    ``wards`` is the published table: withheld trends are counted as withheld, never
    read. ``measures``: column -> label (e.g. ``children_in_need`` -> "Children in need").
    """
    out = []
    for m, label in measures.items():
        col = f"{m}_trend"
        if col not in wards.columns:
            continue
        verdict = wards[col].astype(str)
        rising = list(wards.loc[verdict == RISING, "ward_name"])
        n_fall, n_steady = int((verdict == FALLING).sum()), int((verdict == STEADY).sum())
        hidden = int((~verdict.isin(VERDICTS)).sum())
        text = f"{label}{' (synthetic)' if synthetic else ''}: rising in {len(rising)} ward"
        text += "" if len(rising) == 1 else "s"
        text += f" ({_names(rising)})" if rising else ""
        text += f", falling in {n_fall}, not clearly changing in {n_steady}"
        text += f"; withheld in {hidden} to protect small counts." if hidden else "."
        out.append(text)
    return out


# --- panels for the pilot comparison --------------------------------------------------------


def poverty_did_panel(cilif: pd.DataFrame) -> pd.DataFrame:
    """The DWP ward series as a comparison panel: a financial year runs April to March."""
    rows = cilif[cilif["measure"] == CHILD_POVERTY_MEASURE].dropna(subset=["percentage"])
    fye = rows["fye"].astype(int)
    return pd.DataFrame(
        {
            "ward_code": rows["ward_code"].to_numpy(),
            "period": [fye_label(y) for y in fye],
            "period_start": pd.to_datetime([f"{y - 1}-04-01" for y in fye]),
            "period_end": pd.to_datetime([f"{y}-03-31" for y in fye]),
            "value": rows["percentage"].to_numpy(),
        }
    )


def caseload_did_panel(counts: pd.DataFrame, children: pd.Series, measure: str) -> pd.DataFrame:
    """One caseload measure as a comparison panel: the rate per 10,000 at each date."""
    frame = counts[measure].reset_index()
    dates = pd.to_datetime(frame["period"].astype(str))
    kids = frame["ward_code"].map(children.astype(float))
    return pd.DataFrame(
        {
            "ward_code": frame["ward_code"].to_numpy(),
            "period": frame["period"].astype(str).to_numpy(),
            "period_start": dates.to_numpy(),
            "period_end": dates.to_numpy(),
            "value": (frame[measure].astype(float) / kids * 10_000).to_numpy(),
        }
    )


PILOT_COLUMNS = (
    "pilot",
    "indicator",
    "start",
    "pilot_wards",
    "comparison_wards",
    "comparison_rule",
    "before",
    "after",
    "pilot_change",
    "comparison_change",
    "difference",
    "lower",
    "upper",
    "reading",
)


def pilot_comparisons(
    pilots: pd.DataFrame,
    panels: dict[str, tuple[pd.DataFrame, str]],
    groups: pd.Series,
    names: pd.Series,
    *,
    withheld: dict[str, set[str]] | None = None,
) -> pd.DataFrame:
    """Every pilot with a start date against comparable non-piloted wards, per indicator.

    Parameters
    ----------
    pilots
        Tidy ``pilot, ward_code, start, end`` (``needsmap.pilots.Pilots.wards``).
    panels
        Indicator label -> (panel for ``difference_in_differences``, unit).
    groups
        Ward -> the group comparison wards must share with a piloted ward (e.g. its
        cluster; named, so the rule reads "same cluster").
    names
        Ward -> name, for the output.
    withheld
        Indicator label -> wards whose figures are suppressed in some period: a
        comparison that involves one is not shown (it could reveal the count).

    Returns
    -------
    pd.DataFrame
        One row per pilot and indicator (``PILOT_COLUMNS``); ``reading`` says in words
        what the comparison shows, or why it could not be made.
    """
    withheld = withheld or {}
    rows = []
    all_piloted = set(pilots["ward_code"])
    for name, part in pilots.dropna(subset=["start"]).groupby("pilot", sort=False):
        wards = list(dict.fromkeys(part["ward_code"]))
        start = pd.Timestamp(part["start"].min())
        others = groups.drop(index=[w for w in all_piloted if w not in wards], errors="ignore")
        comparison, rule = comparison_wards(wards, others)
        for label, (panel, unit) in panels.items():
            row: dict[str, object] = {
                "pilot": name,
                "indicator": label,
                "start": start.date().isoformat(),
                "pilot_wards": "; ".join(str(names.get(w, w)) for w in wards),
                "comparison_wards": "; ".join(str(names.get(w, w)) for w in comparison),
                "comparison_rule": rule,
            }
            hidden = withheld.get(label, set()) & {*wards, *comparison}
            if hidden:
                row["reading"] = (
                    f"{name}: {label}: not shown: a ward involved has a suppressed count."
                )
                rows.append(row)
                continue
            try:
                did = difference_in_differences(
                    panel, wards, start, comparison=comparison, comparison_rule=rule
                )
            except InputError as exc:
                why = str(exc).removeprefix("pilot comparison: ")
                row["reading"] = f"{name}: {label}: cannot be compared ({why})."
                rows.append(row)
                continue
            row |= {
                "before": ", ".join(did.before),
                "after": ", ".join(did.after),
                "pilot_change": round(did.pilot_change, 2),
                "comparison_change": round(did.comparison_change, 2),
                "difference": round(did.estimate, 2),
                "lower": round(did.lower, 2),
                "upper": round(did.upper, 2),
                "reading": did.sentence(f"{name}: {label}", unit),
            }
            rows.append(row)
    return pd.DataFrame(rows, columns=list(PILOT_COLUMNS))


def _num(x: float, *, signed: bool = False) -> str:
    """One decimal, without a trailing ``.0``: ``409``, ``53.3``, ``+19``, ``−1.8``."""
    text = f"{x:+.1f}" if signed else f"{x:.1f}"
    text = text.removesuffix(".0")
    return "no change" if signed and float(text) == 0 else text.replace("-", "−")


def dfe_trend_findings(
    benchmark: pd.DataFrame, measures: dict[str, str], *, area: str
) -> list[str]:
    """The council's published DfE rates over five years beside England and its
    statistical neighbours (``needsmap.context.la_benchmark``), one sentence a measure."""
    out = []
    rows = benchmark.dropna(subset=["caseload_measure", "la_change"])
    for _, r in rows.iterrows():
        label = measures.get(str(r["caseload_measure"]))
        if label is None:
            continue
        out.append(
            f"{label} (DfE, the whole council): {area} {_num(r['la_rate_then'])} → "
            f"{_num(r['la_rate'])} per 10,000 children from {int(r['trend_from'])} to "
            f"{int(r['year'])} ({_num(r['la_change'], signed=True)}); England "
            f"{_num(r['england_change'], signed=True)}, statistical neighbours' median "
            f"{_num(r['neighbour_median_change'], signed=True)}."
        )
    return out
