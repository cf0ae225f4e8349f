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
