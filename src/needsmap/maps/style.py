"""Map styling in one place: palettes, class breaks and labels for both kinds of map.

A council can restyle every map by changing this module's values (or, later, the
config's ``maps`` section): interactive and static maps read the same classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import mapclassify
import numpy as np
import pandas as pd

# ColorBrewer YlOrRd, 5 classes: sequential, readable in greyscale and by the
# common forms of colour-blindness.
SEQUENTIAL = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
# Okabe-Ito: distinguishable under deuteranopia, protanopia and tritanopia.
CATEGORICAL = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
)
NO_DATA = "#d9d9d9"
OUTLINE = "#404040"
FONT = "DejaVu Sans"
SERVICE_COLOURS = {
    "gp_practice": "#0072B2",
    "school": "#009E73",
    "library": "#CC79A7",
    "family_hub": "#D55E00",
    "childrens_centre": "#E69F00",
    "pilot": "#000000",
}
SERVICE_LABELS = {
    "gp_practice": "GP practice",
    "school": "School",
    "library": "Library",
    "family_hub": "Family hub",
    "childrens_centre": "Children's centre",
    "pilot": "Pilot",
}


def service_colour(kind: str) -> str:
    if kind in SERVICE_COLOURS:
        return SERVICE_COLOURS[kind]
    return CATEGORICAL[sum(map(ord, kind)) % len(CATEGORICAL)]


def service_label(kind: str) -> str:
    return SERVICE_LABELS.get(kind, kind.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Classes:
    """Class breaks for a continuous variable, shared by every map of it."""

    bins: tuple[float, ...]
    """Upper bound of each class."""
    lower: float
    colours: tuple[str, ...]
    labels: tuple[str, ...]

    def colour_of(self, values: pd.Series) -> pd.Series:
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        idx = np.searchsorted(np.asarray(self.bins), x, side="left")
        idx = np.clip(idx, 0, len(self.colours) - 1)
        out = np.array(self.colours, dtype=object)[idx]
        out[np.isnan(x)] = NO_DATA
        return pd.Series(out, index=values.index)


def _fmt(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def classify(values: pd.Series, *, k: int = 5, digits: int = 2) -> Classes:
    """Quantile classes (k groups of about equal numbers of wards) via mapclassify.

    Quantiles read simply in a board paper ("the fifth of wards with most need").
    """
    x = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    k = max(1, min(k, len(np.unique(x))))
    scheme = mapclassify.Quantiles(x, k=k)
    bins = tuple(float(b) for b in scheme.bins)
    colours = SEQUENTIAL if k == len(SEQUENTIAL) else _spread(k)
    lows = (float(x.min()), *bins[:-1])
    labels = tuple(
        f"{_fmt(lo, digits)} to {_fmt(hi, digits)}" for lo, hi in zip(lows, bins, strict=True)
    )
    return Classes(bins=bins, lower=float(x.min()), colours=colours, labels=labels)


def _spread(k: int) -> tuple[str, ...]:
    picks = np.linspace(0, len(SEQUENTIAL) - 1, k).round().astype(int)
    return tuple(SEQUENTIAL[i] for i in picks)


# --- Styling a council can change (config section ``maps``) -------------------------

SUPPRESSED_HATCH = "////"
"""Hatching drawn over wards whose value is suppressed (explained in every legend)."""
WATERMARK = "#888888"
HOTSPOT_COLOURS = {
    # ColorBrewer RdYlBu end points: safe for the common forms of colour-blindness.
    "high-high": "#d7191c",
    "high-low": "#fdae61",
    "low-high": "#abd9e9",
    "low-low": "#2c7bb6",
    "not significant": "#f0f0f0",
}
GROUP_WORDS = {2: "halves", 3: "thirds", 4: "quarters", 5: "fifths", 10: "tenths"}


@dataclass(frozen=True)
class MapStyle:
    """Colours and font shared by every map; defaults are the values above.

    A council restyles all maps at once with the config's ``maps`` section.
    """

    sequential: tuple[str, ...] = SEQUENTIAL
    """Light to dark; darker always means more need. Its length sets the number of classes."""
    categorical: tuple[str, ...] = CATEGORICAL
    font: str = FONT
    no_data: str = NO_DATA
    outline: str = OUTLINE


def groups_word(k: int) -> str:
    """'fifths' for 5 classes; '7 equal-sized groups' where English has no word."""
    return GROUP_WORDS.get(k, f"{k} equal-sized groups")


def layer_classes(
    values: pd.Series,
    *,
    digits: int = 2,
    higher: str = "need",
    palette: tuple[str, ...] = SEQUENTIAL,
) -> Classes:
    """Quantile classes for one map layer, with darker colours for more need.

    Parameters
    ----------
    values
        The published column (suppressed cells are text and are left out, so no class
        break can reveal a suppressed value).
    higher
        What a high value means; for ``"access"`` the palette is reversed, so wards with
        the least access are darkest.
    palette
        Sequential colours, light to dark; one class per colour.
    """
    colours = tuple(palette)[::-1] if higher == "access" else tuple(palette)
    classes = classify(values, k=len(colours), digits=digits)
    picks = np.linspace(0, len(colours) - 1, len(classes.bins)).round().astype(int)
    return Classes(
        bins=classes.bins,
        lower=classes.lower,
        colours=tuple(colours[i] for i in picks),
        labels=classes.labels,
    )


@dataclass(frozen=True)
class Categories:
    """Colours for a categorical layer (clusters, localities, hot spots)."""

    values: tuple[str, ...]
    colours: tuple[str, ...]

    def colour_of(self, values: pd.Series, no_data: str = NO_DATA) -> pd.Series:
        lookup = dict(zip(self.values, self.colours, strict=True))
        return values.map(lambda v: lookup.get(str(v), no_data) if pd.notna(v) else no_data)


def _key(value: str) -> str:
    return " ".join(value.lower().replace("_", " ").replace("–", "-").split())


def categories(
    values: pd.Series,
    *,
    order: pd.Series | None = None,
    palette: tuple[str, ...] = CATEGORICAL,
) -> Categories:
    """Colours for each category, in a stable order.

    Parameters
    ----------
    values
        The category of each ward; missing values are drawn as no data.
    order
        Optional number per ward to sort categories by (e.g. ``cluster``: 1 first);
        otherwise categories are sorted by name.
    palette
        Colours used in turn (repeated if there are more categories than colours).
        Hot-spot classes (High-High, Low-Low, ...) always get their conventional colours.
    """
    present = values.dropna().astype(str)
    if order is not None:
        rank = order.reindex(present.index).groupby(present).min()
        cats = tuple(sorted(rank.index, key=lambda c: (rank[c], c)))
    else:
        cats = tuple(sorted(present.unique()))
    if any(_key(c) in HOTSPOT_COLOURS for c in cats):
        other = HOTSPOT_COLOURS["not significant"]
        return Categories(cats, tuple(HOTSPOT_COLOURS.get(_key(c), other) for c in cats))
    colours = tuple(palette[i % len(palette)] for i in range(len(cats)))
    return Categories(cats, colours)
