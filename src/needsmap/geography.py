"""LSOA -> ward: dissolving polygons, weighted aggregation, and matching ward references."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry


def ward_polygons(lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve LSOA polygons to wards, so the map and the data agree exactly.

    Returns one row per ward, indexed by ``ward_code``, with ``ward_name`` and geometry,
    sorted by code.
    """
    frame = lsoa[["ward_code", "ward_name", "geometry"]]
    # The coverage union is fast but silently wrong where neighbours overlap or miss
    # each other's vertices (it is checked first: a council's LSOAs in a few ms); such
    # a file is dissolved by the general union, slower but exact.
    clean = shapely.coverage_is_valid(frame.geometry.to_numpy())
    wards = frame.dissolve(by="ward_code", aggfunc="first", method="coverage" if clean else "unary")
    return wards.sort_index()


def outline(wards: gpd.GeoDataFrame) -> BaseGeometry:
    """The area's outline: the union of its ward polygons (fast where they tile it)."""
    clean = shapely.coverage_is_valid(wards.geometry.to_numpy())
    return wards.union_all(method="coverage" if clean else "unary")


def aggregate(
    lsoa: pd.DataFrame,
    *,
    sums: tuple[str, ...] = (),
    weighted: Mapping[str, str] | None = None,
    by: str = "ward_code",
) -> pd.DataFrame:
    """Aggregate LSOA rows to wards.

    Parameters
    ----------
    lsoa
        One row per LSOA with a ``by`` column.
    sums
        Columns summed (counts, populations): totals are conserved.
    weighted
        Column -> weight column. Each becomes the weight-weighted mean of the LSOA values,
        e.g. ``{"imd_score": "population"}``. Scores are averaged this way; ranks never are.

    Returns
    -------
    pd.DataFrame
        One row per ward, indexed by ``by``, sorted.
    """
    weighted = dict(weighted or {})
    grouped = lsoa.groupby(by, sort=True)
    out = grouped[list(sums)].sum() if sums else pd.DataFrame(index=grouped.size().index)
    for col, wcol in weighted.items():
        w = lsoa[wcol].astype(float)
        num = (lsoa[col].astype(float) * w).groupby(lsoa[by]).sum()
        den = w.groupby(lsoa[by]).sum()
        out[col] = num / den.replace(0, np.nan)
    return out


def _key(text: str) -> str:
    """Case-, space- and punctuation-insensitive key: 'St. James ' ~ 'st james'."""
    text = text.lower().replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", "", text)


@dataclass
class WardMatch:
    """Result of matching ward references (codes or names) to the area's wards."""

    codes: pd.Series
    """Matched ward code per input row; NaN where unmatched."""
    unmatched: list[str] = field(default_factory=list)
    by_name: dict[str, str] = field(default_factory=dict)
    """Input names matched to a code, for the run report."""
    repaired: int = 0
    """Codes matched only after trimming spaces or changing case."""


def match_wards(values: pd.Series, wards: pd.Series) -> WardMatch:
    """Match ward codes or names to ``wards`` (ward_name indexed by ward_code).

    Codes match after trimming and upper-casing; names match case- and
    punctuation-insensitively ("Bidston & St. James" finds "Bidston and St James").
    """
    raw = values.astype(str)
    upper = raw.str.strip().str.upper()
    codes = upper.where(upper.isin(wards.index))
    repaired = int((codes.notna() & (raw != upper)).sum())
    by_key = {_key(str(name)): str(code) for code, name in wards.items()}
    by_name: dict[str, str] = {}
    for i in codes.index[codes.isna()]:
        code = by_key.get(_key(raw[i]))
        if code is not None:
            codes[i] = code
            by_name[raw[i]] = code
    unmatched = sorted(set(raw[codes.isna()]))
    return WardMatch(codes=codes, unmatched=unmatched, by_name=by_name, repaired=repaired)
