"""The small k-selection chart: silhouette and Calinski-Harabasz for each number of
clusters, with the chosen k marked."""

from __future__ import annotations

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from needsmap.maps import style

CHOSEN = "#D55E00"
LINE = "#0072B2"


def k_selection_figure(scores: pd.DataFrame, *, chosen: int, note: str = "") -> Figure:
    """Two small panels, one per score, against k.

    Parameters
    ----------
    scores
        Indexed by k with ``silhouette`` and ``calinski_harabasz`` columns.
    chosen
        The k used, marked on both panels.
    note
        Small print under the panels (e.g. how k was chosen, the data's vintage).
    """
    matplotlib.rcParams["font.family"] = style.FONT
    fig = Figure(figsize=(6.4, 2.8), layout="constrained")  # no pyplot: nothing to close
    axes = fig.subplots(1, 2)
    panels = (
        ("silhouette", "Mean silhouette (higher = better separated)"),
        ("calinski_harabasz", "Calinski–Harabasz (higher = more distinct)"),
    )
    for ax, (col, title) in zip(axes, panels, strict=True):
        ks = scores.index.to_numpy()
        ax.plot(ks, scores[col].to_numpy(), marker="o", color=LINE, linewidth=1.2)
        if chosen in scores.index:
            ax.plot([chosen], [scores.loc[chosen, col]], marker="o", markersize=9, color=CHOSEN)
        ax.set_xticks(ks)
        ax.set_xlabel("Number of clusters (k)", fontsize=8)
        ax.set_title(title, fontsize=8.5)
        ax.tick_params(labelsize=7.5)
        ax.grid(alpha=0.3, linewidth=0.5)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.suptitle(f"Choosing the number of ward clusters: k = {chosen} (orange)", fontsize=10)
    if note:
        fig.supxlabel(note, fontsize=6.5, color="#444444")
    return fig
