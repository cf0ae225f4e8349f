"""Ward indicators: deprivation aggregated from LSOAs, caseload rates, and the need index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from needsmap.config import Indicator, parse_indicators
from needsmap.errors import ConfigError, InputError
from needsmap.geography import aggregate

PER = 10_000
DOMAIN_SCORES = (
    "imd_score",
    "income_score",
    "employment_score",
    "education_score",
    "health_score",
    "crime_score",
    "housing_and_services_score",
    "environment_score",
)


def ward_deprivation(
    lsoa: pd.DataFrame,
    shares: pd.DataFrame | None = None,
    *,
    official: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Deprivation and population by ward from LSOA rows.

    Each LSOA counts towards a ward by its share (``shares``, from
    :func:`needsmap.geography.lsoa_ward_shares`; without it, wholly to its
    ``ward_code``). IMD and domain scores are means weighted by total population,
    IDACI by children aged 0-15 and IDAOPI by people aged 60 and over (each index's own
    denominator), so the population-weighted mean of the wards is the area's published
    average. Ranks are never averaged: instead each ward gets the number (split by share)
    and share of its LSOAs in England's most deprived 10% and 20% (IMD deciles 1 and 1-2).

    ``official`` (by ward_code: ``children_0_15``, ``children``) replaces the LSOA sums
    of those populations wherever it has a value (the official ward estimates).
    """
    frame = lsoa.copy()
    frame["lsoas"] = 1
    frame["lsoas_most_deprived_10pc"] = (frame["imd_decile"] <= 1).astype(int)
    frame["lsoas_most_deprived_20pc"] = (frame["imd_decile"] <= 2).astype(int)
    idaci = "idaci_decile" in frame.columns
    if idaci:
        frame["idaci_lsoas_most_deprived_20pc"] = (frame["idaci_decile"] <= 2).astype(int)
    weighted = {c: "population" for c in DOMAIN_SCORES}
    weighted |= {"idaci_score": "children_0_15", "idaopi_score": "population_60_plus"}
    weighted = {c: w for c, w in weighted.items() if c in frame.columns and w in frame.columns}
    out = aggregate(
        frame,
        sums=(
            "population",
            "children_0_15",
            "children",
            "lsoas",
            "lsoas_most_deprived_10pc",
            "lsoas_most_deprived_20pc",
            *(("idaci_lsoas_most_deprived_20pc",) if idaci else ()),
        ),
        weighted=weighted,
        shares=shares,
    )
    for col in ("children_0_15", "children"):
        if official is not None and col in official:
            out[col] = official[col].reindex(out.index).fillna(out[col])
    out["share_most_deprived_10pc"] = out["lsoas_most_deprived_10pc"] / out["lsoas"]
    out["share_most_deprived_20pc"] = out["lsoas_most_deprived_20pc"] / out["lsoas"]
    if idaci:
        out["idaci_share_most_deprived_20pc"] = out["idaci_lsoas_most_deprived_20pc"] / out["lsoas"]
    return out


IOD2019_FILE = "deprivation_iod2019_lsoa11.csv"
LOOKUP_FILE = "lsoa11_to_lsoa21.csv"
DEPRIVATION_CHANGE_NOTE = (
    "IoD2019 and IoD2025 scores are not comparable (methods and indicators changed), so "
    "change is shown only through each edition's position relative to England: the share "
    "of a ward's LSOAs in England's most deprived 10% / 20%. IoD2019 is on 2011 LSOAs, "
    "apportioned to 2021 LSOAs (and so wards) through the ONS lookup; a split 2011 LSOA "
    "counts equally towards each of its parts."
)


def _require(frame: pd.DataFrame, columns: Sequence[str], file: str) -> None:
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        msg = (
            f"{file}: missing column(s) {missing}; found {sorted(frame.columns)}. "
            "See data/README.md for the expected columns."
        )
        raise InputError(msg)


def deprivation_change(
    lsoa: pd.DataFrame,
    iod2019: pd.DataFrame,
    lookup: pd.DataFrame,
    shares: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Deprivation relative to England in IoD2019 and IoD2025, and the change, by ward.

    Raw scores are never compared across editions (see ``DEPRIVATION_CHANGE_NOTE``).
    Each 2011 LSOA is shared equally among the 2021 LSOAs it became (the ONS lookup),
    so a ward's 2019 counts may be fractional where a 2011 LSOA was split, and the
    area's totals are conserved.

    Parameters
    ----------
    lsoa
        One row per 2021 LSOA with ``lsoa_code``, ``ward_code`` and ``imd_decile``
        (``idaci_decile`` optional).
    iod2019
        IoD2019 on 2011 LSOAs: ``lsoa11_code``, ``imd_decile`` (``idaci_decile`` optional).
    lookup
        ``lsoa11_code`` -> ``lsoa_code`` (2021), one row per pair.
    shares
        Each 2021 LSOA's share of each ward (as in :func:`ward_deprivation`); without
        it, each LSOA is wholly in its ``ward_code``.

    Returns
    -------
    pd.DataFrame
        Indexed by ``ward_code``: ``lsoas_2019`` (2011 LSOAs apportioned),
        ``lsoas_most_deprived_10pc_2019``, ``lsoas_most_deprived_20pc_2019``, their
        ``share_`` columns, and ``share_most_deprived_10pc_change`` /
        ``share_most_deprived_20pc_change`` (IoD2025 share minus IoD2019 share); with
        ``idaci_decile`` in both, the same for IDACI's most deprived 20%.
    """
    _require(iod2019, ("lsoa11_code", "imd_decile"), IOD2019_FILE)
    _require(lookup, ("lsoa11_code", "lsoa_code"), LOOKUP_FILE)
    codes = pd.Index(lsoa["lsoa_code"])
    links = lookup[["lsoa11_code", "lsoa_code"]].drop_duplicates()
    # A 2011 LSOA split into n 2021 LSOAs counts 1/n towards each (counted over the whole
    # lookup, so a part that now lies in another area keeps its share there).
    parts = links.groupby("lsoa11_code")["lsoa_code"].transform("size")
    links = links.assign(lsoas_2019=1.0 / parts)[links["lsoa_code"].isin(codes)]
    orphans = codes.difference(pd.Index(links["lsoa_code"]))
    if len(orphans):
        msg = (
            f"{LOOKUP_FILE}: no 2011 LSOA for {len(orphans)} 2021 LSOA(s), e.g. "
            f"{list(orphans[:3])}; the lookup must cover every 2021 LSOA of the area"
        )
        raise InputError(msg)
    old = iod2019.drop_duplicates("lsoa11_code").set_index("lsoa11_code")
    absent = pd.Index(links["lsoa11_code"].unique()).difference(old.index)
    if len(absent):
        msg = (
            f"{IOD2019_FILE}: no row for {len(absent)} 2011 LSOA(s) named in {LOOKUP_FILE}, "
            f"e.g. {list(absent[:3])}; give IoD2019 for every 2011 LSOA of the area"
        )
        raise InputError(msg)
    idaci = "idaci_decile" in old.columns and "idaci_decile" in lsoa.columns
    frame = links.copy()
    decile = old["imd_decile"].reindex(frame["lsoa11_code"]).to_numpy()
    frame["lsoas_most_deprived_10pc_2019"] = frame["lsoas_2019"] * (decile <= 1)
    frame["lsoas_most_deprived_20pc_2019"] = frame["lsoas_2019"] * (decile <= 2)
    sums = ["lsoas_2019", "lsoas_most_deprived_10pc_2019", "lsoas_most_deprived_20pc_2019"]
    if idaci:
        d = old["idaci_decile"].reindex(frame["lsoa11_code"]).to_numpy()
        frame["idaci_lsoas_most_deprived_20pc_2019"] = frame["lsoas_2019"] * (d <= 2)
        sums.append("idaci_lsoas_most_deprived_20pc_2019")
    if shares is None:
        frame["ward_code"] = (
            lsoa.set_index("lsoa_code")["ward_code"].reindex(frame["lsoa_code"]).to_numpy()
        )
    out = aggregate(frame, sums=tuple(sums), shares=shares)
    now = pd.DataFrame(lsoa).assign(
        n=1,
        top10=lsoa["imd_decile"] <= 1,
        top20=lsoa["imd_decile"] <= 2,
        idaci20=lsoa["idaci_decile"] <= 2 if idaci else False,
    )
    now = aggregate(now, sums=("n", "top10", "top20", "idaci20"), shares=shares)
    for pc, top in (("10pc", "top10"), ("20pc", "top20")):
        share_2019 = out[f"lsoas_most_deprived_{pc}_2019"] / out["lsoas_2019"]
        share_2025 = now[top] / now["n"]
        out[f"share_most_deprived_{pc}_2019"] = share_2019
        out[f"share_most_deprived_{pc}_change"] = share_2025.reindex(out.index) - share_2019
    if idaci:
        share_2019 = out["idaci_lsoas_most_deprived_20pc_2019"] / out["lsoas_2019"]
        share_2025 = now["idaci20"] / now["n"]
        out["idaci_share_most_deprived_20pc_2019"] = share_2019
        out["idaci_share_most_deprived_20pc_change"] = share_2025.reindex(out.index) - share_2019
    return out


def poisson_interval(
    counts: pd.Series | np.ndarray, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) Poisson interval for counts: right for small numbers, 0 included."""
    k = np.asarray(counts, dtype=float)
    alpha = 1 - level
    lower = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * (k + 1)) / 2
    return lower, upper


def caseload_rates(counts: pd.DataFrame, children: pd.Series) -> pd.DataFrame:
    """Rates per 10,000 children (0-17) with 95% exact Poisson intervals.

    For each count column ``m`` returns ``m`` (the count), ``m_rate``, ``m_rate_lower``,
    ``m_rate_upper`` and ``m_rate_unreliable``: True where the interval is wider than the
    rate itself (about fewer than 16 children), too wide to rank wards on.
    """
    children = children.reindex(counts.index).astype(float)
    out = pd.DataFrame(index=counts.index)
    for m in counts.columns:
        k = counts[m].astype(float)
        lo, hi = poisson_interval(k)
        rate = k / children * PER
        out[m] = counts[m]
        # One decimal place: what a board paper shows, and what wards.csv holds, so the
        # need index can be recomputed from the published table.
        out[f"{m}_rate"] = rate.round(1)
        out[f"{m}_rate_lower"] = (lo / children * PER).round(1)
        out[f"{m}_rate_upper"] = (hi / children * PER).round(1)
        width = out[f"{m}_rate_upper"] - out[f"{m}_rate_lower"]
        out[f"{m}_rate_unreliable"] = (width > rate).to_numpy()
    return out


def caseload_change(counts: pd.DataFrame, children: pd.Series) -> pd.DataFrame:
    """Change in each caseload rate per ward between the first and the latest period.

    ``<m>_rate_change`` is the latest rate minus the first (per 10,000 children, one
    decimal). Both periods use the same children (0-17) denominator, so the change is
    the change in count scaled to the ward's children, not a change in population.

    Parameters
    ----------
    counts
        Counts indexed by (``period``, ``ward_code``), one column per measure.
    children
        Children aged 0-17 by ward.

    Returns
    -------
    pd.DataFrame
        Indexed by ward; no columns when there is only one period.
    """
    periods = sorted(counts.index.get_level_values("period").unique())
    wards = children.index
    out = pd.DataFrame(index=wards)
    if len(periods) < 2:
        return out
    first = counts.xs(periods[0], level="period").reindex(wards).astype(float)
    latest = counts.xs(periods[-1], level="period").reindex(wards).astype(float)
    kids = children.astype(float)
    for m in counts.columns:
        out[f"{m}_rate_change"] = ((latest[m] - first[m]) / kids * PER).round(1)
    return out


def first_period_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Counts in the first period, one column ``<m>@<period>`` per measure.

    Not published, but recoverable from a published change: the disclosure step
    protects them as it protects the latest counts.
    """
    periods = sorted(counts.index.get_level_values("period").unique())
    if len(periods) < 2:
        return pd.DataFrame(index=counts.index.get_level_values("ward_code").unique())
    first = counts.xs(periods[0], level="period")
    assert isinstance(first, pd.DataFrame)
    return first.rename(columns=lambda m: f"{m}@{periods[0]}")


def change_links(measures: Sequence[str], earlier: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Each ``<m>_rate_change`` column -> the count columns it is computed from."""
    return {
        f"{m}_rate_change": (m, *[c for c in earlier.columns if c.startswith(f"{m}@")])
        for m in measures
        if any(c.startswith(f"{m}@") for c in earlier.columns)
    }


def index_rates(
    counts: pd.DataFrame,
    children: pd.Series,
    suppressed: pd.DataFrame,
    *,
    threshold: int,
) -> pd.DataFrame:
    """The caseload rates the need index uses: published values only.

    For a ward whose count is published, ``<m>_rate_index`` is its rate (one decimal,
    as in ``<m>_rate``). A suppressed ward gets a stand-in made only from what is
    published, so it cannot move when a hidden count does (a rerun with one child
    more must not be differenced): for a "fewer than 5" ward, the rate of
    (threshold - 1) / 2 children (the middle of 0 to 4); for a withheld ward, the
    column's median published rate, or the rate of ``threshold`` children (the least
    a withheld count can be) if that is higher. The index can be recomputed from
    ``wards.csv``. ``<m>_rate_standin`` is True where the stand-in is used.

    Parameters
    ----------
    counts
        Latest counts by ward (as published: rounded where rounding is on), one
        column per measure.
    children
        Children aged 0-17 by ward.
    suppressed
        Boolean by ward and measure: True where the count is suppressed.
    """
    kids = children.reindex(counts.index).astype(float)
    out = pd.DataFrame(index=counts.index)
    for m in counts.columns:
        hidden = suppressed[m].reindex(counts.index).fillna(False).astype(bool)
        k = counts[m].astype(float)
        rate = k / kids * PER
        if hidden.any():
            shown = rate[~hidden]
            median = float(shown.median()) if len(shown) else 0.0
            fewer = (threshold - 1) / 2 / kids * PER
            withheld = np.maximum(threshold / kids * PER, median)
            standin = pd.Series(np.where(k < threshold, fewer, withheld), index=k.index)
            rate = rate.where(~hidden, standin)
        out[f"{m}_rate_index"] = rate.round(1)
        out[f"{m}_rate_standin"] = hidden.to_numpy()
    return out


Method = Literal["zscore", "rank", "minmax"]
METHODS: tuple[str, ...] = ("minmax", "rank", "zscore")
IndicatorSpec = Mapping[str, float | Mapping[str, Any]] | Sequence[Indicator]


def as_indicators(indicators: IndicatorSpec) -> tuple[Indicator, ...]:
    """Indicators from a config-style mapping or a sequence of ``Indicator``."""
    if isinstance(indicators, Mapping):
        return parse_indicators(indicators)
    return tuple(indicators)


def scale(x: np.ndarray, method: Method) -> np.ndarray:
    """Standardise each row of ``x`` (draws x wards) across its wards.

    zscore: (x - mean) / population sd; rank: (rank - 1) / (n - 1), ties averaged;
    minmax: (x - min) / (max - min). A row with no spread standardises to 0.
    """
    x = np.asarray(x, dtype=float)
    if method == "zscore":
        sd = x.std(axis=-1, ddof=0, keepdims=True)
        centred = x - x.mean(axis=-1, keepdims=True)
        return np.divide(centred, sd, out=np.zeros_like(x), where=sd > 0)
    if method == "rank":
        n = x.shape[-1]
        return (stats.rankdata(x, method="average", axis=-1) - 1) / max(n - 1, 1)
    if method == "minmax":
        lo = x.min(axis=-1, keepdims=True)
        span = x.max(axis=-1, keepdims=True) - lo
        return np.divide(x - lo, span, out=np.zeros_like(x), where=span > 0)
    msg = f"need_index.method: {method!r} is not valid; choose from {list(METHODS)}"
    raise ConfigError(msg)


def standardise(values: pd.Series, method: Method, *, direction: str = "higher") -> pd.Series:
    """Put an indicator on a common scale where higher = more need.

    ``direction="lower"`` (a lower value means more need) standardises ``-values``.
    """
    x = values.to_numpy(dtype=float)
    sign = -1.0 if direction == "lower" else 1.0
    return pd.Series(scale(sign * x, method), index=values.index, name=values.name)


def indicator_matrix(wards: pd.DataFrame, indicators: Sequence[Indicator]) -> np.ndarray:
    """Indicator values (wards x indicators), signed so that higher = more need.

    Raises ConfigError for a column that is not in the table and InputError for a
    missing value (the index never drops a ward or an indicator silently).
    """
    missing = [i.column for i in indicators if i.column not in wards.columns]
    if missing:
        msg = (
            f"need_index.indicators: {missing} not available; choose from "
            f"{sorted(c for c in wards.columns if pd.api.types.is_numeric_dtype(wards[c]))}"
        )
        raise ConfigError(msg)
    cols = []
    for ind in indicators:
        values = pd.to_numeric(wards[ind.column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float))
        if bad.any():
            msg = (
                f"need_index: indicator {ind.column!r} has no usable value for "
                f"{int(bad.sum())} ward(s), e.g. {list(wards.index[bad.to_numpy()][:3])}; "
                "fix the input or leave the indicator out of need_index.indicators"
            )
            raise InputError(msg)
        sign = -1.0 if ind.direction == "lower" else 1.0
        cols.append(sign * values.to_numpy(dtype=float))
    return np.column_stack(cols)


def need_index(
    wards: pd.DataFrame,
    indicators: IndicatorSpec,
    *,
    method: Method = "zscore",
) -> pd.Series:
    """Combine ward indicators into one need score (higher = more need).

    need_index = sum_i w_i * s(d_i * x_i) / sum_i w_i, where s standardises each
    indicator across the wards (``method``), d_i is +1 where a higher value means more
    need and -1 where a lower one does, and w_i are the weights.

    Parameters
    ----------
    wards
        One row per ward, indexed by ward code.
    indicators
        Column -> weight (or -> {weight, direction}), or a sequence of ``Indicator``.
        Weights are normalised to sum to 1.
    method
        How each indicator is standardised before weighting.

    Returns
    -------
    pd.Series
        Named "need_index", same index as `wards`.
    """
    specs = as_indicators(indicators)
    x = indicator_matrix(wards, specs)
    weights = np.array([i.weight for i in specs])
    z = scale(x.T, method)  # indicators x wards
    score = weights @ z / weights.sum()
    return pd.Series(score, index=wards.index, name="need_index")


def need_rank(index: pd.Series) -> pd.Series:
    """1 = most need; ties share the better rank."""
    return index.rank(ascending=False, method="min").astype(int).rename("need_rank")
