"""Groups of similar wards with scikit-learn: the choice of k, profiles in plain words,
and how stable each ward's group is when the wards are resampled.

Clusters are numbered by mean need (1 = highest). Results depend only on the data and
the seed: wards are sorted by code before fitting, so the order of the input rows does
not matter, and a rerun with the same seed gives the same labels.
"""

from __future__ import annotations

import contextlib
import math
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import sklearn
from scipy.cluster.hierarchy import cut_tree, linkage
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, silhouette_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from needsmap import vocabulary
from needsmap.errors import ConfigError, InputError

Method = Literal["kmeans", "agglomerative", "gmm"]
METHODS = ("agglomerative", "gmm", "kmeans")
N_INIT = 10
"""KMeans restarts for the reported clustering."""
BOOTSTRAP_N_INIT = 3
"""KMeans restarts inside each bootstrap resample (enough for tens of wards, 3x faster)."""
SILHOUETTE_SAMPLE = 3000
"""Above this many wards the silhouette is estimated on a seeded sample (memory)."""
STAY_JACCARD = 0.5
"""A ward stays with its cluster-mates when its old and new clusters overlap by more."""


# --- features -------------------------------------------------------------------------


def _ward_names(wards: pd.DataFrame, where: pd.Index) -> list[str]:
    if "ward_name" not in wards.columns:
        return [str(code) for code in where]
    names = wards.loc[where, "ward_name"].astype(str)
    return [f"{name} ({code})" for code, name in names.items()]


def standardised_features(wards: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """The clustering features as z-scores across wards.

    Parameters
    ----------
    wards
        One row per ward with the ``features`` columns.
    features
        Ward columns to cluster on.

    Returns
    -------
    pd.DataFrame
        Same index as ``wards``, one column per feature with mean 0 and (population)
        standard deviation 1; a feature with the same value in every ward becomes 0.
    """
    if not features:
        msg = "clustering.features: give at least one ward column to cluster on"
        raise ConfigError(msg)
    numeric = sorted(c for c in wards.columns if pd.api.types.is_numeric_dtype(wards[c]))
    missing = [f for f in features if f not in wards.columns]
    if missing:
        msg = f"clustering.features: {missing} not available; choose from {numeric}"
        raise ConfigError(msg)
    text = [f for f in features if f not in numeric]
    if text:
        msg = f"clustering.features: {text} are not numeric; choose from {numeric}"
        raise ConfigError(msg)
    values = wards[list(features)].astype(float)
    for col in features:
        gaps = values.index[values[col].isna()]
        if len(gaps):
            msg = (
                f"clustering.features: {col} has no value for {len(gaps)} ward(s), e.g. "
                f"{_ward_names(wards, gaps[:5])}; fill them in the input or remove {col} "
                "from clustering.features"
            )
            raise InputError(msg)
    sd = values.std(ddof=0).replace(0.0, 1.0)
    return (values - values.mean()) / sd


# --- fitting --------------------------------------------------------------------------


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run scikit-learn single-threaded and without re-validating checked inputs.

    Tens of wards fit several times faster without OpenMP start-up and per-call
    checks, and results cannot depend on the machine's core count.
    """
    with (
        threadpool_limits(limits=1),
        sklearn.config_context(assume_finite=True, skip_parameter_validation=True),
    ):
        yield


@dataclass
class _Fit:
    labels: np.ndarray
    assign: Callable[[np.ndarray], np.ndarray]
    """Cluster of any point in feature space (for resampled fits: every ward)."""


def _nearest_centre(x: np.ndarray, labels: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    ids = np.unique(labels)
    centres = np.vstack([x[labels == i].mean(axis=0) for i in ids])

    def assign(points: np.ndarray) -> np.ndarray:
        d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        return np.asarray(ids[d.argmin(axis=1)])

    return assign


def _fit(x: np.ndarray, k: int, method: Method, seed: int, *, n_init: int = N_INIT) -> _Fit:
    if method == "kmeans":
        km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(x)
        return _Fit(np.asarray(km.labels_), km.predict)
    if method == "agglomerative":
        return _fit_range(x, [k], method, seed)[k]
    if method == "gmm":
        # Diagonal covariances: a full covariance per group needs far more wards than
        # features, which a council's 20-odd wards do not have.
        gm = GaussianMixture(
            n_components=k, covariance_type="diag", n_init=n_init, random_state=seed
        ).fit(x)
        return _Fit(np.asarray(gm.predict(x)), gm.predict)
    msg = f"clustering.method: {method!r} is not valid; choose from {list(METHODS)}"
    raise ConfigError(msg)


def _fit_range(
    x: np.ndarray, ks: Sequence[int], method: Method, seed: int, *, n_init: int = N_INIT
) -> dict[int, _Fit]:
    """One fit per k. Ward's agglomerative tree does not depend on k, so it is built
    once (SciPy's Ward linkage, which scikit-learn's AgglomerativeClustering also uses
    when unconstrained) and cut at each k: at thousands of wards this is the slow part."""
    if method != "agglomerative":
        return {k: _fit(x, k, method, seed, n_init=n_init) for k in ks}
    cuts = cut_tree(linkage(x, method="ward"), n_clusters=list(ks))
    fits = {}
    for j, k in enumerate(ks):
        labels = np.asarray(cuts[:, j])
        fits[k] = _Fit(labels, _nearest_centre(x, labels))
    return fits


def _scores(x: np.ndarray, labels: np.ndarray, seed: int) -> tuple[float, float]:
    if not 2 <= len(np.unique(labels)) <= len(x) - 1:
        return math.nan, math.nan
    sample = SILHOUETTE_SAMPLE if len(x) > SILHOUETTE_SAMPLE else None
    sil = silhouette_score(x, labels, sample_size=sample, random_state=seed)
    return float(sil), float(calinski_harabasz_score(x, labels))


def number_by_need(raw: pd.Series, need: pd.Series, *, name: str) -> pd.Series:
    """Renumber group ids 1..k so that group 1 has the highest mean ``need``.

    Ties keep the order of the raw ids. Returns integers named ``name``.
    """
    means = need.reindex(raw.index).astype(float).groupby(raw).mean()
    order = means.sort_values(ascending=False, kind="stable").index
    renumber = {old: new for new, old in enumerate(order, start=1)}
    return raw.map(renumber).astype(int).rename(name)


# --- stability ------------------------------------------------------------------------


def stays_with_mates(reference: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Whether each ward is still grouped with its cluster-mates in a new clustering.

    A ward stays when the Jaccard overlap of its reference cluster and its new cluster
    (as sets of wards) is above one half: it is still with most of its old mates and
    not swamped by newcomers.
    """
    ref = np.unique(reference, return_inverse=True)[1].ravel()
    nw = np.unique(new, return_inverse=True)[1].ravel()
    table = np.zeros((ref.max() + 1, nw.max() + 1))
    np.add.at(table, (ref, nw), 1)
    both = table[ref, nw]
    union = table.sum(axis=1)[ref] + table.sum(axis=0)[nw] - both
    return np.asarray(both / union > STAY_JACCARD)


def _distinct(x: np.ndarray) -> int:
    return int(np.unique(x, axis=0).shape[0])


def bootstrap_stability(
    x: np.ndarray,
    labels: np.ndarray,
    *,
    method: Method = "kmeans",
    resamples: int = 100,
    seed: int = 42,
) -> tuple[np.ndarray, float]:
    """How stable a clustering is when the wards are resampled with replacement.

    Each resample refits ``method`` with the same k on a bootstrap sample of the wards,
    then places every ward (in or out of the sample) in its nearest new cluster.

    Parameters
    ----------
    x
        Standardised features, one row per ward.
    labels
        The clustering to assess, one label per row of ``x``.

    Returns
    -------
    tuple[np.ndarray, float]
        Per ward, the share of resamples in which it stays with its cluster-mates (see
        :func:`stays_with_mates`); and the mean adjusted Rand index between the
        clustering and the resampled ones (1 = identical every time).
    """
    n, k = len(x), len(np.unique(labels))
    rows = np.unique(x, axis=0, return_inverse=True)[1].ravel()  # identical wards share an id
    rng = np.random.default_rng(seed)
    stays = np.zeros(n)
    aris = []
    with single_thread():
        for _ in range(resamples):
            idx = rng.integers(0, n, n)
            while len(np.unique(rows[idx])) < k:  # k groups need k distinct wards
                idx = rng.integers(0, n, n)
            fit_seed = int(rng.integers(2**31 - 1))
            with warnings.catch_warnings():
                # A resample may converge slowly; its labels are still a fair draw.
                warnings.simplefilter("ignore", ConvergenceWarning)
                fit = _fit(x[idx], k, method, fit_seed, n_init=BOOTSTRAP_N_INIT)
            new = fit.assign(x)
            stays += stays_with_mates(labels, new)
            aris.append(adjusted_rand_score(labels, new))
    if not aris:
        return np.full(n, np.nan), math.nan
    return stays / len(aris), float(np.mean(aris))


# --- words ----------------------------------------------------------------------------

# Themes for the short cluster names, from high to low. A theme's level is the mean of
# its features' z-scores, each signed so that higher means more of the theme.
THEMES = {
    "deprivation": "{} deprivation",
    "statutory": "{} statutory demand",
    "gap": "{} access gap",
}
DISTANCE_WORDS = (
    "far from services",
    "fairly far from services",
    "average distance to services",
    "fairly close to services",
    "close to services",
)
NAME_LEVELS = ("high", "fairly high", "average", "fairly low", "low")
STATUTORY = ("children_in_need", "child_protection_plans", "looked_after_children")
SERVICE_PATTERNS = (
    (r"dist_(.+)_m", "distance", 1),
    (r"access_e?2sfca_(.+)", "distance", -1),
    (r"share_within_(.+)", "distance", -1),
    (r"per_1000_children_(.+)", "distance", -1),
)


def feature_words(column: str) -> str:
    """A ward column in plain words mid-sentence, from the vocabulary:
    ``dist_gp_practice_m`` -> "distance to the nearest GP practice"."""
    if column.endswith("_rate_index"):  # the published rate (a stand-in where suppressed)
        column = column.removesuffix("_index")
    return vocabulary.phrase(column)


def feature_theme(column: str) -> tuple[str, int]:
    """The theme a feature belongs to for short names, and +1 or -1: its direction."""
    if column.startswith(STATUTORY):
        return "statutory", 1
    if (
        (column.endswith("_score") and column != "gap_score")
        or column.startswith("share_most")
        or column == "child_poverty_pct"
    ):
        return "deprivation", 1
    if column == "access_index":
        return "distance", -1
    if column == "gap_score":
        return "gap", 1
    for pattern, theme, sign in SERVICE_PATTERNS:
        if re.fullmatch(pattern, column):
            return theme, sign
    return column, 1


def level_words(z: float) -> str:
    """How far a standardised mean is from the average ward, in words."""
    if z >= 1.0:
        return "much higher than average"
    if z >= 0.5:
        return "higher than average"
    if z > -0.5:
        return "about average"
    if z > -1.0:
        return "lower than average"
    return "much lower than average"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe(means: pd.Series) -> str:
    """A plain-English profile from standardised feature means, most distinctive first.

    >>> describe(pd.Series({"crime_score": 0.2, "imd_score": -1.1}))
    'much lower than average overall deprivation score; about average crime deprivation score'
    """
    order = means.abs().sort_values(ascending=False, kind="stable").index
    levels: dict[str, list[str]] = {}
    for col in order:
        levels.setdefault(level_words(float(means[col])), []).append(feature_words(str(col)))
    return "; ".join(f"{level} {_and(words)}" for level, words in levels.items())


def _name_level(z: float) -> int:
    """0 (high) to 4 (low): the five steps of the short names."""
    if z >= 0.75:
        return 0
    if z >= 0.25:
        return 1
    if z > -0.25:
        return 2
    return 3 if z > -0.75 else 4


def short_name(number: int, means: pd.Series) -> str:
    """A short name from the cluster's themes, e.g. "1: high deprivation, high statutory
    demand".

    Levels: high (mean z >= 0.75), fairly high (>= 0.25), average, fairly low (<= -0.25),
    low (<= -0.75).
    """
    themes: dict[str, list[float]] = {}
    for col, z in means.items():
        theme, sign = feature_theme(str(col))
        themes.setdefault(theme, []).append(sign * float(z))
    parts = []
    for theme, zs in themes.items():
        step = _name_level(float(np.mean(zs)))
        if theme == "distance":
            parts.append(DISTANCE_WORDS[step])
        else:
            template = THEMES.get(theme, "{} " + feature_words(theme))
            parts.append(template.format(NAME_LEVELS[step]))
    return f"{number}: " + ", ".join(parts)


# --- the clustering -------------------------------------------------------------------


@dataclass
class Clustering:
    """Groups of similar wards, how k was chosen, what each group is like, how stable."""

    labels: pd.Series
    """Cluster number per ward, 1 = highest mean need."""
    k: int
    scores: pd.DataFrame
    """k -> silhouette and Calinski-Harabasz, for the k-selection table."""
    method: str = "kmeans"
    features: tuple[str, ...] = ()
    means: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Cluster -> standardised mean of each feature (the basis of the profile words)."""
    names: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    """Cluster -> short name, e.g. "1: high deprivation, high statutory demand"."""
    descriptions: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    """Cluster -> plain-English profile."""
    stability: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    """Per ward: share of bootstrap resamples in which it stays with its cluster-mates."""
    ari: float = math.nan
    """Mean adjusted Rand index between the clustering and its bootstrap refits."""
    resamples: int = 0
    rule: str = ""
    """How k was chosen, in words, for the chart and the report."""

    def columns(self) -> pd.DataFrame:
        """The ward columns ``cluster``, ``cluster_label`` and ``cluster_stability``."""
        return pd.DataFrame(
            {
                "cluster": self.labels,
                "cluster_label": self.labels.map(self.names),
                "cluster_stability": self.stability.reindex(self.labels.index),
            }
        )


def _k_candidates(k_range: tuple[int, int], n: int, distinct: int) -> list[int]:
    lo, hi = k_range
    return list(range(lo, min(hi, n - 1, distinct) + 1))


CHOICE_RESAMPLES = 30
"""Bootstrap resamples behind each candidate k's stability when k is being chosen."""


def choose_k(
    x: np.ndarray,
    scores: pd.DataFrame,
    labels: dict[int, np.ndarray],
    *,
    tolerance: float = 0.1,
    min_stability: float = 0.6,
    method: Method = "kmeans",
    seed: int = 42,
) -> tuple[int, str]:
    """The number of groups a commissioner can use: the most that are still sound.

    The best mean silhouette often splits an area in two (high need and the rest),
    which tells a board nothing new. So the choice is the largest k whose silhouette is
    within ``tolerance`` (a share) of the best and whose groups are stable: the mean
    adjusted Rand index of ``CHOICE_RESAMPLES`` bootstrap refits is at least
    ``min_stability``. Candidates are tried from the largest down; if none is stable,
    the best silhouette's k is used. ``scores`` gains a ``choice_ari`` column for the
    candidates tried.

    Returns
    -------
    tuple[int, str]
        k, and the rule in words with the numbers behind it.
    """
    sil = scores["silhouette"]
    best_k = int(sil.index[int(np.nanargmax(sil.to_numpy()))])
    best = float(sil.max())
    floor = best - tolerance * abs(best)
    near = sorted((int(kk) for kk in sil.index[sil >= floor]), reverse=True)
    scores["choice_ari"] = np.nan
    for kk in near:
        if kk == best_k:
            break
        _, ari = bootstrap_stability(
            x, labels[kk], method=method, resamples=CHOICE_RESAMPLES, seed=seed
        )
        scores.loc[kk, "choice_ari"] = ari
        if ari >= min_stability:
            return kk, (
                f"largest k with silhouette within {tolerance:.0%} of the best "
                f"({sil[kk]:.2f} vs {best:.2f} at k = {best_k}) and stable "
                f"(bootstrap ARI {ari:.2f} ≥ {min_stability})"
            )
    return best_k, (
        f"highest mean silhouette ({best:.2f}); no larger k within {tolerance:.0%} of it "
        f"was stable (bootstrap ARI ≥ {min_stability})"
        if len(near) > 1
        else f"highest mean silhouette ({best:.2f}); no other k within {tolerance:.0%} of it"
    )


def cluster_wards(
    wards: pd.DataFrame,
    features: Sequence[str],
    need: pd.Series,
    *,
    method: Method = "kmeans",
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    seed: int = 42,
    resamples: int = 100,
    tolerance: float = 0.1,
    min_stability: float = 0.6,
) -> Clustering:
    """Group similar wards on standardised features; k chosen as ``choose_k`` says.

    Parameters
    ----------
    wards
        One row per ward with the ``features`` columns (and ``ward_name`` for messages).
    features
        Ward columns to cluster on; each is standardised across wards first.
    need
        The need index, used only to number clusters (1 = highest mean need).
    method
        ``kmeans`` (default), ``agglomerative`` (Ward linkage) or ``gmm`` (Gaussian
        mixture with diagonal covariances).
    k
        Number of clusters; None chooses it over ``k_range`` (see ``choose_k``).
    k_range
        Smallest and largest k scored; capped at one less than the number of wards.
    seed
        Seeds every random step (fits, bootstrap, silhouette sample).
    resamples
        Bootstrap resamples for stability; 0 skips it (stability is then NaN).
    tolerance, min_stability
        See ``choose_k``.

    Returns
    -------
    Clustering
        Labels aligned to ``wards``, the k-selection table (silhouette and
        Calinski-Harabasz for every k scored, plus a fixed k), names, profiles and
        stability.
    """
    if method not in METHODS:
        msg = f"clustering.method: {method!r} is not valid; choose from {list(METHODS)}"
        raise ConfigError(msg)
    n = len(wards)
    if n < 3:
        msg = f"clustering: needs at least 3 wards to compare groups; the area has {n}"
        raise InputError(msg)
    z = standardised_features(wards, features).sort_index()
    x = z.to_numpy()
    distinct = _distinct(x)
    ks = _k_candidates(k_range, n, distinct)
    if k is not None:
        if k > min(n - 1, distinct):
            msg = (
                f"clustering.k: {k} clusters is too many for {n} wards "
                f"({distinct} with distinct features); use at most {min(n - 1, distinct)}"
            )
            raise ConfigError(msg)
        ks = sorted({*ks, k})
    if not ks:
        msg = (
            f"clustering.k_min: {k_range[0]} is too many clusters for {n} wards "
            f"({distinct} with distinct features); use at most {min(n - 1, distinct)}"
        )
        raise ConfigError(msg)
    rows = []
    with single_thread():
        fits = _fit_range(x, ks, method, seed)
        for kk in ks:
            sil, ch = _scores(x, fits[kk].labels, seed)
            rows.append({"k": kk, "silhouette": sil, "calinski_harabasz": ch})
    scores = pd.DataFrame(rows).set_index("k")
    if k is None:
        if scores["silhouette"].isna().all():
            msg = "clustering: no k in the range gives two or more groups; fix clustering.k"
            raise InputError(msg)
        k, rule = choose_k(
            x,
            scores,
            {kk: fits[kk].labels for kk in ks},
            tolerance=tolerance,
            min_stability=min_stability,
            method=method,
            seed=seed,
        )
    else:
        rule = "fixed in the config"
    scores["chosen"] = scores.index == k
    raw = pd.Series(fits[k].labels, index=z.index)
    labels = number_by_need(raw, need, name="cluster")
    means = z.groupby(labels).mean()
    names = pd.Series({c: short_name(int(c), means.loc[c]) for c in means.index})
    descriptions = pd.Series({c: describe(means.loc[c]) for c in means.index})
    if resamples > 0:
        stable, ari = bootstrap_stability(
            x, labels.to_numpy(), method=method, resamples=resamples, seed=seed
        )
    else:
        stable, ari = np.full(n, np.nan), math.nan
    order = wards.index
    return Clustering(
        labels=labels.reindex(order),
        k=int(labels.nunique()),
        scores=scores,
        method=method,
        features=tuple(features),
        means=means,
        names=names,
        descriptions=descriptions,
        stability=pd.Series(stable, index=z.index, name="cluster_stability").reindex(order),
        ari=ari,
        resamples=resamples,
        rule=rule,
    )


# --- profiles for publication ---------------------------------------------------------

HIDDEN_TOTAL = "not shown: would reveal a suppressed ward"


def _whole(value: float | np.floating) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def publishable_totals(
    counts: pd.Series,
    groups: pd.Series,
    suppressed: pd.Series | None,
    *,
    threshold: int = 5,
) -> pd.Series:
    """Group totals of a count that can be published without revealing a suppressed ward.

    A group total is shown only when the group holds none of the suppressed wards: it is
    then a sum of published counts and adds nothing. Any other would reveal part of the
    suppressed wards' sum (for a group with one, its exact count) or, for a group
    holding all of them, the whole sum, which for a date DfE publishes no total for (a
    quarterly run) is not public. A total from 1 to ``threshold - 1`` is withheld too.

    Parameters
    ----------
    counts
        One count per ward.
    groups
        Group id per ward (same index).
    suppressed
        True where the ward's count is suppressed; None when suppression is off.

    Returns
    -------
    pd.Series
        Per group, the total (a number) or the reason it is withheld (text).
    """
    totals = counts.astype(float).groupby(groups).sum()
    if suppressed is None:
        return pd.Series([_whole(t) for t in totals], index=totals.index, dtype=object)
    mask = suppressed.reindex(counts.index).fillna(False).astype(bool)
    hits = mask.groupby(groups).sum().reindex(totals.index).to_numpy()
    values: list[object] = []
    for total, hit in zip(totals.to_numpy(), hits, strict=True):
        if hit:
            values.append(HIDDEN_TOTAL)
        elif 1 <= total < threshold:
            values.append(f"fewer than {threshold}")
        else:
            values.append(_whole(total))
    return pd.Series(values, index=totals.index, dtype=object)


def group_profiles(
    wards: pd.DataFrame,
    groups: pd.Series,
    *,
    measures: Sequence[str] = (),
    suppressed: pd.DataFrame | None = None,
    threshold: int = 5,
) -> pd.DataFrame:
    """Wards, children and caseload totals per group, safe to publish.

    Parameters
    ----------
    wards
        The unsuppressed ward table (``ward_name``, ``children``, ``population``,
        ``need_index`` and the ``measures`` count columns where present).
    groups
        Group id per ward.
    measures
        Caseload count columns to total (with a rate per 10,000 children).
    suppressed
        Boolean, one column per measure, True where the ward's count is suppressed
        (``Disclosure.suppressed``); None when suppression is off.

    Returns
    -------
    pd.DataFrame
        One row per group: ``wards`` (number), ``ward_names``, ``children``,
        ``population``, ``need_index_mean``, and per measure its total and
        ``_rate`` (per 10,000 children), or the reason they are withheld.
    """
    g = groups.reindex(wards.index)
    out = pd.DataFrame(index=pd.Index(sorted(g.unique()), name="group"))
    out["wards"] = g.value_counts()
    names = wards["ward_name"] if "ward_name" in wards.columns else wards.index.to_series()
    out["ward_names"] = names.astype(str).groupby(g).agg(lambda s: "; ".join(sorted(s)))
    for col in ("children", "population"):
        if col in wards.columns:
            out[col] = wards[col].groupby(g).sum()
    if "need_index" in wards.columns:
        out["need_index_mean"] = wards["need_index"].groupby(g).mean().round(3)
    for m in measures:
        if m not in wards.columns:
            continue
        mask = suppressed[m] if suppressed is not None and m in suppressed else None
        totals = publishable_totals(wards[m], g, mask, threshold=threshold)
        out[m] = totals
        if "children" in out.columns:
            numeric = pd.to_numeric(totals, errors="coerce")
            rate = (numeric / out["children"] * 10_000).round(1).astype(object)
            rate[numeric.isna().to_numpy()] = totals[numeric.isna()]
            out[f"{m}_rate"] = rate
    return out


def clusters_table(
    wards: pd.DataFrame,
    clustering: Clustering,
    *,
    localities: pd.Series | None = None,
    measures: Sequence[str] = (),
    suppressed: pd.DataFrame | None = None,
    threshold: int = 5,
) -> pd.DataFrame:
    """The rows of ``clusters.csv``: cluster profiles, locality profiles, k selection.

    ``section`` says which: "cluster" rows carry the short name (``label``), the
    plain-English profile (``description``), mean stability and the standardised
    feature means (``mean_z_<feature>``); "locality" rows the same profile for each
    contiguous locality; "k_selection" rows one k each with its silhouette and
    Calinski-Harabasz score, whether it was chosen (its ``description`` says by which
    rule) and, for the chosen k, the mean adjusted Rand index of its bootstrap refits
    (``bootstrap_ari``); ``choice_ari`` is each larger candidate's stability as tried
    by ``choose_k``.

    Standardised means of caseload features are left out while any ward's count of
    that measure is suppressed: with the published rates they could be solved for the
    suppressed ones.
    """
    protected = [m for m in measures if suppressed is not None and suppressed[m].any()]
    hidden = {f for f in clustering.features if f.startswith(tuple(protected))}
    kwargs = {"measures": measures, "suppressed": suppressed, "threshold": threshold}
    cl = group_profiles(wards, clustering.labels, **kwargs)  # type: ignore[arg-type]
    cl.insert(0, "section", "cluster")
    cl.insert(1, "label", clustering.names.reindex(cl.index))
    cl.insert(2, "description", clustering.descriptions.reindex(cl.index))
    cl["stability_mean"] = clustering.stability.groupby(clustering.labels).mean().round(3)
    for f in clustering.features:
        if f not in hidden:
            cl[f"mean_z_{f}"] = clustering.means[f].reindex(cl.index).round(3)
    parts = [cl]
    if localities is not None:
        z = standardised_features(wards, clustering.features)
        means = z.groupby(localities.reindex(z.index)).mean()
        loc = group_profiles(wards, localities, **kwargs)  # type: ignore[arg-type]
        loc.insert(0, "section", "locality")
        loc.insert(1, "label", [vocabulary.category("locality", i) for i in loc.index])
        loc.insert(2, "description", [describe(means.loc[i]) for i in loc.index])
        parts.append(loc)
    ks = clustering.scores.reset_index()
    ks.insert(0, "section", "k_selection")
    ks["silhouette"] = ks["silhouette"].round(4)
    ks["calinski_harabasz"] = ks["calinski_harabasz"].round(2)
    ks["bootstrap_ari"] = np.where(ks["chosen"], round(clustering.ari, 3), np.nan)
    if "choice_ari" in ks.columns:
        ks["choice_ari"] = ks["choice_ari"].round(3)
    ks["description"] = np.where(ks["chosen"], f"chosen: {clustering.rule}", "")
    table = pd.concat([*(p.reset_index() for p in parts), ks], ignore_index=True)
    for col in ("group", "k", "wards", "children", "population"):
        if col in table.columns:
            table[col] = pd.to_numeric(table[col]).round().astype("Int64")
    first = ["section", "group", "label", "description", "k", "silhouette"]
    first += ["calinski_harabasz", "chosen", "bootstrap_ari", "choice_ari"]
    return table[[c for c in first if c in table.columns] + [c for c in table if c not in first]]
