"""Which wards neighbour each other, and contiguous localities to commission as one patch.

Neighbours are Queen contiguity (libpysal): two wards are neighbours when their
boundaries share at least one point. A ward or group of wards that touches no other
(an island) is either linked to its nearest ward, with a message saying so, or
reported as an error, as the caller chooses.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from libpysal.weights import Queen, W
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import AgglomerativeClustering

from needsmap.clusters import number_by_need, single_thread, standardised_features
from needsmap.errors import ConfigError, InputError

Islands = Literal["nearest", "error"]


@dataclass
class Neighbours:
    """Ward adjacency, in the order of ``index``."""

    index: pd.Index
    adjacency: sparse.csr_matrix
    """Symmetric 0/1 matrix: Queen contiguity plus any links added for islands."""
    links: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Links added for islands: ``ward_code``, ``linked_to``, ``distance_m``."""
    notes: list[str] = field(default_factory=list)

    def weights(self) -> W:
        """A fresh binary libpysal W (esda transforms the W it is given in place)."""
        coo = sparse.triu(self.adjacency, k=1).tocoo()
        ids = list(self.index)
        neighbours: dict[object, list[object]] = {i: [] for i in ids}
        for i, j in zip(coo.row, coo.col, strict=True):
            neighbours[ids[i]].append(ids[j])
            neighbours[ids[j]].append(ids[i])
        return W(neighbours, id_order=ids, silence_warnings=True)

    def components(self) -> np.ndarray:
        return np.asarray(connected_components(self.adjacency, directed=False)[1])


def _label(wards: gpd.GeoDataFrame, positions: Sequence[int] | np.ndarray) -> str:
    names = wards["ward_name"] if "ward_name" in wards.columns else None
    items = [
        f"{names.iloc[p]} ({wards.index[p]})" if names is not None else str(wards.index[p])
        for p in positions
    ]
    if len(items) == 1:
        return f"Ward {items[0]}"
    shown = ", ".join(items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "")
    return f"Wards {shown}"


def ward_neighbours(wards: gpd.GeoDataFrame, *, islands: Islands = "nearest") -> Neighbours:
    """Queen contiguity between wards, with islands linked or reported.

    Parameters
    ----------
    wards
        Ward polygons, indexed by ward code (``ward_name`` is used in messages).
    islands
        ``nearest``: link each group of wards that touches no other ward to the nearest
        ward outside it (by boundary distance), with a warning naming both;
        ``error``: raise an InputError naming the unconnected wards.

    Returns
    -------
    Neighbours
        Adjacency in the order of ``wards.index`` and any links added.
    """
    if islands not in ("nearest", "error"):
        msg = f"clustering.islands: {islands!r} is not valid; choose from ['error', 'nearest']"
        raise ConfigError(msg)
    geoms = gpd.GeoDataFrame(geometry=wards.geometry.reset_index(drop=True), crs=wards.crs)
    with warnings.catch_warnings():
        # libpysal warns about islands and disconnected parts; handled below, in words.
        warnings.simplefilter("ignore", UserWarning)
        queen = Queen.from_dataframe(geoms, use_index=True)
    adjacency = queen.sparse.tocsr().astype(float)
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    adjacency.data[:] = 1.0
    n_parts, part = connected_components(adjacency, directed=False)
    links: list[dict[str, object]] = []
    notes: list[str] = []
    if n_parts > 1 and islands == "error":
        sizes = np.bincount(part)
        stray = np.flatnonzero(part != sizes.argmax())
        msg = (
            f"ward boundaries: {_label(wards, stray)} share no boundary with the rest of the "
            f"area ({n_parts} separate groups of wards), so they cannot join a contiguous "
            "locality. Set clustering.islands: nearest to link each to its nearest ward, "
            "or check the boundary file for gaps."
        )
        raise InputError(msg)
    if n_parts > 1:
        projected = geoms.to_crs(geoms.estimate_utm_crs()) if geoms.crs.is_geographic else geoms
        shapes = projected.geometry
        adjacency = adjacency.tolil()
        while n_parts > 1:
            sizes = np.bincount(part)
            smallest = int(np.lexsort((np.arange(n_parts), sizes))[0])
            inside = np.flatnonzero(part == smallest)
            outside = np.flatnonzero(part != smallest)
            pairs, dist = shapes.iloc[outside].sindex.nearest(
                shapes.iloc[inside], return_distance=True, return_all=False
            )
            best = int(np.argmin(dist))
            i, j = int(inside[pairs[0][best]]), int(outside[pairs[1][best]])
            adjacency[i, j] = adjacency[j, i] = 1.0
            metres = float(dist[best])
            links.append(
                {"ward_code": wards.index[i], "linked_to": wards.index[j], "distance_m": metres}
            )
            note = (
                f"{_label(wards, inside)} share(s) no boundary with the rest of the area; "
                f"linked to the nearest ward, {_label(wards, [j])[5:]}, {metres / 1000:.1f} km "
                "away, as a neighbour for localities and hot spots"
            )
            notes.append(note)
            warnings.warn(note, stacklevel=2)
            n_parts, part = connected_components(adjacency.tocsr(), directed=False)
        adjacency = adjacency.tocsr()
    return Neighbours(
        index=wards.index,
        adjacency=sparse.csr_matrix(adjacency),
        links=pd.DataFrame(links, columns=["ward_code", "linked_to", "distance_m"]),
        notes=notes,
    )


def contiguous_localities(
    wards: pd.DataFrame,
    features: Sequence[str],
    need: pd.Series,
    *,
    k: int,
    neighbours: Neighbours,
) -> pd.Series:
    """Split the area into ``k`` contiguous localities of similar wards.

    Agglomerative clustering (Ward linkage) on the standardised ``features``, allowed
    to merge only groups that neighbour each other, so every locality is one connected
    patch of wards (islands count as joined to the ward they were linked to).

    Parameters
    ----------
    wards
        One row per ward with the ``features`` columns, the same wards as
        ``neighbours``.
    need
        The need index, used only to number localities (1 = highest mean need).
    k
        Number of localities.

    Returns
    -------
    pd.Series
        Named "locality", integers 1..k, same index as ``wards``.
    """
    n = len(wards)
    if not 1 <= k <= n:
        msg = f"clustering.localities: {k} localities cannot be made from {n} wards; use 1 to {n}"
        raise ConfigError(msg)
    if not wards.index.sort_values().equals(neighbours.index.sort_values()):
        msg = "contiguous_localities: wards and neighbours must hold the same wards"
        raise ValueError(msg)
    z = standardised_features(wards, features).reindex(neighbours.index)
    if k == 1:
        raw = np.zeros(n, dtype=int)
    else:
        model = AgglomerativeClustering(
            n_clusters=k, linkage="ward", connectivity=neighbours.adjacency
        )
        with single_thread():
            raw = model.fit_predict(z.to_numpy())
    labels = number_by_need(pd.Series(raw, index=z.index), need, name="locality")
    return labels.reindex(wards.index)
