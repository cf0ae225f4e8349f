"""Wards like ours nationally: a typology of every English ward, and its nearest wards.

An analyst comparing a ward with "somewhere like it" needs wards alike in what drives
need, not neighbours on the map. Every English ward (2024, best fit from 2021 LSOAs) is
described by:

- the seven IoD2025 domain scores (income, employment, education, health, crime,
  barriers to housing and services, living environment), population-weighted from LSOAs;
- child poverty: DWP's share of children aged 0-15 in relative low income families in
  the latest year, and its change since the first year of the series (points);
- population structure: the share of residents in each Census 2021 age band;
- connectivity (IoD2025's transport connectivity score, population-weighted).

Each feature is standardised across England. KMeans (``TYPES`` groups, seeded) gives the
ward types, numbered by child poverty (type 1 the highest) and named by their most
distinctive features. The similar wards of a ward are its nearest wards in the same
standardised space that belong to other councils.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from needsmap.geography import aggregate
from needsmap.indicators import DOMAIN_SCORES
from needsmap.vocabulary import TYPE_FEATURES

TYPES = 8
"""Number of national ward types (as many as ONS's area classifications have groups)."""
SIMILAR = 5
"""Similar wards listed per ward."""
SEED = 20251127
DOMAINS = tuple(c for c in DOMAIN_SCORES if c != "imd_score")
"""The seven IoD2025 domain scores (the IMD itself is made from them)."""
AGES = ("age_0_15", "age_16_24", "age_25_34", "age_35_49", "age_50_64", "age_65_plus")
LSOA_COLUMNS = (
    "ward_code",
    "ward_name",
    "la_code",
    "population",
    *DOMAINS,
    "connectivity_score",
    *AGES,
)
"""The columns of data/england/lsoa21.parquet that the typology reads."""
FEATURES = (
    *DOMAINS,
    "child_poverty_pct",
    "child_poverty_change",
    "connectivity_score",
    *(f"share_{band}" for band in AGES),
)
"""What the typology groups wards by (their words: ``vocabulary.TYPE_FEATURES``)."""


def ward_features(lsoa: pd.DataFrame, child_poverty: pd.DataFrame) -> pd.DataFrame:
    """The typology's features for every ward, from LSOA rows and DWP's ward series.

    Parameters
    ----------
    lsoa
        One row per LSOA: ``ward_code``, ``ward_name``, ``la_code``, ``population``,
        the ``DOMAINS`` scores, ``connectivity_score`` and the Census ``AGES`` counts.
    child_poverty
        DWP long format: ``ward_code, fye, measure, children, percentage``.

    Returns
    -------
    pd.DataFrame
        Indexed by ward code: ``ward_name``, ``la_code``, ``children_0_15`` and the
        ``FEATURES``. A ward DWP leaves blank takes England's median.
    """
    frame = pd.DataFrame(lsoa.drop(columns="geometry", errors="ignore"))
    weighted = {c: "population" for c in (*DOMAINS, "connectivity_score")}
    out = aggregate(frame, sums=("population", *AGES), weighted=weighted)
    for band in AGES:
        out[f"share_{band}"] = out[band] / out["population"]
    names = frame.groupby("ward_code")[["ward_name", "la_code"]].first()
    out = names.join(out)
    out["children_0_15"] = out["age_0_15"]
    rel = child_poverty[child_poverty["measure"] == "relative_bhc"]
    pct = rel.pivot_table(index="ward_code", columns="fye", values="percentage")
    first, last = pct.columns.min(), pct.columns.max()
    out["child_poverty_pct"] = pct[last].reindex(out.index)
    out["child_poverty_change"] = (pct[last] - pct[first]).reindex(out.index)
    for col in ("child_poverty_pct", "child_poverty_change"):
        out[col] = out[col].fillna(out[col].median())
    return out[["ward_name", "la_code", "children_0_15", *FEATURES]]


@dataclass
class Typology:
    """Ward types of England and each ward's most similar wards in other councils."""

    wards: pd.DataFrame
    """Indexed by ward code: ``ward_name``, ``la_code``, ``children_0_15``,
    ``ward_type`` (1 = highest child poverty), ``ward_type_name`` and
    ``similar_wards`` (ward codes, most similar first, separated by ``;``)."""
    types: pd.DataFrame
    """Indexed by type: ``name``, ``description``, ``wards`` and the standardised mean
    of each feature (``mean_z_<feature>``)."""


def _words(means: pd.Series, n: int = 3) -> list[str]:
    top = means.abs().sort_values(ascending=False, kind="stable").index[:n]
    return [("high " if means[c] > 0 else "low ") + TYPE_FEATURES[str(c)] for c in top]


def ward_typology(features: pd.DataFrame, *, types: int = TYPES, seed: int = SEED) -> Typology:
    """Group every ward into ``types`` national types and find its similar wards.

    Parameters
    ----------
    features
        From :func:`ward_features`: one row per ward with ``la_code`` and ``FEATURES``.

    Returns
    -------
    Typology
        The same wards, in the same order, with their type and similar wards.
    """
    x = StandardScaler().fit_transform(features[list(FEATURES)].to_numpy(dtype=float))
    with threadpool_limits(1):  # the same labels on any number of cores
        raw = KMeans(types, n_init=10, random_state=seed).fit_predict(x)
        nn = NearestNeighbors(n_neighbors=min(len(x), 60)).fit(x)
        _, near = nn.kneighbors(x)
    z = pd.DataFrame(x, index=features.index, columns=list(FEATURES))
    # Type 1 has the highest child poverty: numbers that mean something, whatever the seed.
    order = z.groupby(raw)["child_poverty_pct"].mean().sort_values(ascending=False).index
    number = {int(old): i + 1 for i, old in enumerate(order)}
    labels = pd.Series([number[int(r)] for r in raw], index=features.index, name="ward_type")
    means = z.groupby(labels).mean()
    names = {int(t): f"{t}: " + ", ".join(_words(means.loc[t])) for t in means.index}
    described = {int(t): ", ".join(_words(means.loc[t], n=6)) for t in means.index}
    la = features["la_code"].to_numpy()
    codes = features.index.to_numpy()
    similar = []
    for i, row in enumerate(near):
        others = [j for j in row if la[j] != la[i]][:SIMILAR]
        similar.append(";".join(str(codes[j]) for j in others))
    wards = features[["ward_name", "la_code", "children_0_15"]].copy()
    wards["ward_type"] = labels
    wards["ward_type_name"] = labels.map(names)
    wards["similar_wards"] = similar
    table = pd.DataFrame(
        {
            "name": pd.Series(names),
            "description": pd.Series(described),
            "wards": labels.value_counts(),
        }
    )
    table = table.join(means.add_prefix("mean_z_").round(3))
    table.index.name = "ward_type"
    return Typology(wards=wards, types=table.sort_index())


def type_mix(
    wards: pd.DataFrame, la_code: str, neighbours: list[str] | tuple[str, ...]
) -> pd.DataFrame:
    """A council's mix of ward types beside its statistical neighbours' and England's.

    Shares are of children aged 0-15 (Census 2021), so a type matters as much as the
    children living in it.

    Parameters
    ----------
    wards
        ``Typology.wards`` (every English ward).
    la_code
        The council (children's services authority) code.
    neighbours
        Its DfE statistical neighbours' codes.

    Returns
    -------
    pd.DataFrame
        Indexed by ``ward_type``: ``ward_type_name``, ``la_wards``, ``la_share``,
        ``neighbour_share`` (the neighbours together) and ``england_share``.
    """
    kids = wards["children_0_15"]

    def share(mask: pd.Series) -> pd.Series:
        by_type = kids[mask].groupby(wards.loc[mask, "ward_type"]).sum()
        return (by_type / by_type.sum()).reindex(range(1, wards["ward_type"].max() + 1))

    mine = wards["la_code"] == la_code
    names = wards.groupby("ward_type")["ward_type_name"].first()
    out = pd.DataFrame(
        {
            "ward_type_name": names,
            "la_wards": wards[mine].groupby("ward_type").size(),
            "la_share": share(mine),
            "neighbour_share": share(wards["la_code"].isin(neighbours)),
            "england_share": share(pd.Series(True, index=wards.index)),
        }
    )
    out["la_wards"] = out["la_wards"].fillna(0).astype(int)
    out.index.name = "ward_type"
    shares = ["la_share", "neighbour_share", "england_share"]
    out[shares] = out[shares].round(4)
    return out.fillna({"la_share": 0.0, "neighbour_share": 0.0})


TYPES_FILE = "ward_types.csv.gz"


@dataclass
class AreaTypes:
    """The national typology as it concerns one area."""

    columns: pd.DataFrame
    """Per ward of the area: ``ward_type``, ``ward_type_name`` and ``similar_wards``
    ("Brunswick (Blackpool); Anfield (Liverpool); ...")."""
    mix: pd.DataFrame
    """``type_mix``: the area's mix of types beside its neighbours' and England's."""


def area_types(
    ward_codes: pd.Index, *, la_code: str, neighbours: list[str], folder: Path
) -> AreaTypes | None:
    """Read the national typology (``folder/ward_types.csv.gz``) for the area's wards.

    Returns None when the file is absent or none of the wards is in it (a bundle whose
    wards are not England's 2024 wards).
    """
    path = folder / TYPES_FILE
    if not path.exists():
        return None
    wards = pd.read_csv(path, index_col="ward_code")
    mine = wards.reindex(ward_codes)
    if mine["ward_type"].isna().all():
        return None
    councils = pd.read_csv(folder / "councils.csv").drop_duplicates("la_code")
    council = dict(zip(councils["la_code"], councils["la_name"], strict=True))
    label = wards["ward_name"] + " (" + wards["la_code"].map(council).fillna("") + ")"

    def names(codes: object) -> str:
        if not isinstance(codes, str):
            return ""
        return "; ".join(label.get(c, c) for c in codes.split(";"))

    columns = pd.DataFrame(
        {
            "ward_type": mine["ward_type"].astype("Int64"),
            "ward_type_name": mine["ward_type_name"],
            "similar_wards": mine["similar_wards"].map(names),
        },
        index=ward_codes,
    )
    # A bundle of one district (not a children's services council) still has a mix.
    code = la_code if (wards["la_code"] == la_code).any() else str(mine["la_code"].mode()[0])
    return AreaTypes(columns=columns, mix=type_mix(wards, code, neighbours))
