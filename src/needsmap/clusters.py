"""Groups of similar wards with scikit-learn, numbered by need (1 = highest need)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from needsmap.errors import ConfigError


@dataclass
class Clustering:
    labels: pd.Series
    """Cluster number per ward, 1 = highest mean need."""
    k: int
    scores: pd.DataFrame
    """k -> silhouette and Calinski-Harabasz, for the k-selection table."""


def cluster_wards(
    wards: pd.DataFrame,
    features: Sequence[str],
    need: pd.Series,
    *,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    seed: int = 42,
) -> Clustering:
    """KMeans on standardised features; k by best silhouette unless fixed.

    Parameters
    ----------
    wards
        One row per ward with the ``features`` columns.
    need
        The need index, used only to number clusters (1 = highest mean need).
    """
    missing = [f for f in features if f not in wards.columns]
    if missing:
        msg = f"clustering.features: {missing} not available; choose from {sorted(wards.columns)}"
        raise ConfigError(msg)
    x = StandardScaler().fit_transform(wards[list(features)].astype(float).to_numpy())
    n = len(wards)
    lo, hi = k_range
    ks = [k] if k is not None else list(range(lo, min(hi, n - 1) + 1))
    if not ks or ks[0] >= n:
        msg = f"clustering.k: need fewer clusters than wards ({n})"
        raise ConfigError(msg)
    rows, fits = [], {}
    for kk in ks:
        labels = KMeans(n_clusters=kk, n_init=10, random_state=seed).fit_predict(x)
        fits[kk] = labels
        rows.append(
            {
                "k": kk,
                "silhouette": silhouette_score(x, labels),
                "calinski_harabasz": calinski_harabasz_score(x, labels),
            }
        )
    scores = pd.DataFrame(rows).set_index("k")
    best = k if k is not None else int(scores["silhouette"].to_numpy().argmax()) + ks[0]
    raw = pd.Series(fits[best], index=wards.index)
    order = need.groupby(raw).mean().sort_values(ascending=False).index
    renumber = {old: new for new, old in enumerate(order, start=1)}
    labels = raw.map(renumber).astype(int).rename("cluster")
    return Clustering(labels=labels, k=best, scores=scores)
