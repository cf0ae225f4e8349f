"""Map styling in one place: palettes, class breaks and labels for both kinds of map.

A council can restyle every map by changing this module's values (or, later, the
config's ``maps`` section): interactive and static maps read the same classes.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import mapclassify
import numpy as np
import pandas as pd

from needsmap import vocabulary

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
SUPPRESSED = "#a6a6a6"
"""Wards whose value is withheld (small numbers): grey, darker than no data."""
OUTLINE = "#404040"
FONT = "DejaVu Sans"
DIVERGING = ("#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b")
"""ColorBrewer RdBu, 5 classes, blue to red: for values either side of 0 (red = more need)."""
MARKER_SHAPES = vocabulary.SHAPES
PILOT_COLOUR = vocabulary.PILOT.colour
SITE_COLOUR = vocabulary.SITE.colour
"""Recommended sites: numbered purple markers, unlike any service colour."""


def service_colour(kind: str) -> str:
    return vocabulary.service(kind).colour


def service_label(kind: str) -> str:
    """One service of this type, in words: ``"gp_practice"`` -> ``"GP practice"``."""
    return vocabulary.service(kind).label


def service_shape(kind: str) -> str:
    """Marker shape for a service type (one of ``vocabulary.SHAPES``), on every map."""
    return vocabulary.service(kind).shape


@dataclass(frozen=True)
class Classes:
    """Class breaks for a continuous variable, shared by every map of it."""

    bins: tuple[float, ...]
    """Upper bound of each class (included in it; see ``side``)."""
    lower: float
    colours: tuple[str, ...]
    labels: tuple[str, ...]
    side: Literal["left", "right"] = "left"
    """"left": a value equal to a bound is in the class below it; "right": above it."""

    def index_of(self, values: pd.Series) -> np.ndarray:
        """Class number (0 = lowest) of each value; -1 where it is missing or not a number."""
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        if not self.bins:
            return np.full(len(x), -1)
        idx = np.searchsorted(np.asarray(self.bins), x, side=self.side)
        idx = np.clip(idx, 0, len(self.colours) - 1)
        return np.where(np.isnan(x), -1, idx)

    def colour_of(self, values: pd.Series) -> pd.Series:
        """Each value's colour; NO_DATA where missing (every value, with no classes)."""
        return _colours(self.colours, self.index_of(values), values.index)

    def reversed(self) -> Classes:
        """The same classes with the palette reversed: for layers where low means need."""
        return replace(self, colours=self.colours[::-1])


@dataclass(frozen=True)
class Categories:
    """Named categories and their colours, shared by every map of a column."""

    names: tuple[str, ...]
    colours: tuple[str, ...]

    def index_of(self, values: pd.Series) -> np.ndarray:
        """Position of each value in ``names``; -1 where missing or not listed."""
        lookup = {name: i for i, name in enumerate(self.names)}
        return np.array([lookup.get(str(v), -1) if pd.notna(v) else -1 for v in values])

    def colour_of(self, values: pd.Series) -> pd.Series:
        """Each value's colour; NO_DATA where missing (every value, with no classes)."""
        return _colours(self.colours, self.index_of(values), values.index)


def _colours(colours: Sequence[str], idx: np.ndarray, index: pd.Index) -> pd.Series:
    """``colours[i]`` for each position, NO_DATA for -1 (a measure suppressed in every
    ward has no classes at all)."""
    out = np.full(len(idx), NO_DATA, dtype=object)
    known = idx >= 0
    out[known] = np.array(colours, dtype=object)[idx[known]]
    return pd.Series(out, index=index)


def categorise(names: Sequence[str], *, palette: Sequence[str] = CATEGORICAL) -> Categories:
    """Colours for categories in the order given (see :func:`category_colours`)."""
    return Categories(names=tuple(names), colours=category_colours(names, palette=palette))


def _fmt(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def classify(values: pd.Series, *, k: int = 5, digits: int = 2) -> Classes:
    """Quantile classes (k groups of about equal numbers of wards) via mapclassify.

    Quantiles read simply in a board paper ("the fifth of wards with most need").
    """
    x = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if not len(x):  # nothing published to classify: every ward reads "no data"
        return Classes(bins=(), lower=float("nan"), colours=(), labels=())
    k = max(1, min(k, len(np.unique(x))))
    with warnings.catch_warnings():
        # Ties (many wards at 0) leave fewer distinct quantiles; mapclassify then lowers
        # k with a warning. The classes below are built from the bins it returns.
        warnings.filterwarnings("ignore", "Not enough unique values", UserWarning)
        scheme = mapclassify.Quantiles(x, k=k)
    bins = tuple(float(b) for b in np.unique(scheme.bins))
    k = len(bins)
    colours = SEQUENTIAL if k == len(SEQUENTIAL) else _spread(k)
    lows = (float(x.min()), *bins[:-1])
    labels = tuple(
        _fmt(hi, digits)
        if _fmt(lo, digits) == _fmt(hi, digits)
        else f"{_fmt(lo, digits)} to {_fmt(hi, digits)}"
        for lo, hi in zip(lows, bins, strict=True)
    )
    return Classes(bins=bins, lower=float(x.min()), colours=colours, labels=labels)


def _spread(k: int) -> tuple[str, ...]:
    picks = np.linspace(0, len(SEQUENTIAL) - 1, k).round().astype(int)
    return tuple(SEQUENTIAL[i] for i in picks)


# --- Styling a council can change (config section ``maps``) -------------------------

SUPPRESSED_HATCH = "////"
"""Hatching over wards whose count is suppressed (fewer than 5), explained in the legend."""
WITHHELD_HATCH = "\\\\\\\\"
"""Hatching over wards withheld so a total cannot reveal a suppressed count."""
WATERMARK = "#888888"
LISA_COLOURS = {
    # Local Moran's I classes in the ColorBrewer RdBu colours readers know from LISA
    # maps (distinguishable with the common forms of colour-blindness).
    "high-high": "#b2182b",
    "hot spot": "#b2182b",
    "high-low": "#f4a582",
    "low-high": "#92c5de",
    "low-low": "#2166ac",
    "cold spot": "#2166ac",
    "not significant": "#f0f0f0",
    # Trend verdicts (needsmap.trends) read the same way: red = rising, blue = falling.
    "rising": "#b2182b",
    "falling": "#2166ac",
    "not clearly changing": "#f0f0f0",
    # the review layer's wards that are not flagged (needsmap.review)
    "not flagged": "#f0f0f0",
}
GROUP_WORDS = {2: "halves", 3: "thirds", 4: "quarters", 5: "fifths", 10: "tenths"}


@dataclass(frozen=True)
class MapStyle:
    """Colours and font shared by every static map; defaults are the values above.

    A council restyles the maps at once with the config's ``maps`` section.
    """

    sequential: tuple[str, ...] = SEQUENTIAL
    """Light to dark; darker always means more need. Its length sets the number of classes."""
    categorical: tuple[str, ...] = CATEGORICAL
    diverging: tuple[str, ...] = DIVERGING
    """Blue to red, for values either side of 0 (red = more need)."""
    font: str = FONT
    no_data: str = NO_DATA
    outline: str = OUTLINE
    suppressed: str = "#a6a6a6"
    """Fill under the hatching of suppressed wards (the interactive map's withheld grey)."""


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
    if pd.to_numeric(values, errors="coerce").notna().sum() == 0:
        return Classes(bins=(), lower=float("nan"), colours=(), labels=())
    with warnings.catch_warnings():
        # Tied values leave fewer distinct quantiles than colours; mapclassify then
        # lowers k with a warning, and the colours below spread over the classes left.
        warnings.filterwarnings("ignore", "Not enough unique values", UserWarning)
        classes = classify(values, k=len(colours), digits=digits)
    picks = np.linspace(0, len(colours) - 1, len(classes.bins)).round().astype(int)
    return Classes(
        bins=classes.bins,
        lower=classes.lower,
        colours=tuple(colours[i] for i in picks),
        labels=classes.labels,
    )


PROBABILITY_BANDS = (0.1, 0.5, 0.9)
PROBABILITY_LABELS = ("Under 10%", "10% to 50%", "50% to 90%", "90% or more")


def probability_classes(*, palette: Sequence[str] = SEQUENTIAL) -> Classes:
    """Fixed bands for a probability (0-1), the same for every run: under 10%, 10-50%,
    50-90%, 90% or more, so 9% and 100% never share a colour."""
    picks = np.linspace(0, len(palette) - 1, len(PROBABILITY_LABELS)).round().astype(int)
    return Classes(
        bins=(*PROBABILITY_BANDS, 1.0),
        lower=0.0,
        colours=tuple(palette[i] for i in picks),
        labels=PROBABILITY_LABELS,
        side="right",
    )


def diverging_classes(
    values: pd.Series,
    *,
    breaks: Sequence[float] = (),
    digits: int = 2,
    palette: Sequence[str] = DIVERGING,
) -> Classes:
    """Classes either side of 0, mirrored, one per ``palette`` colour (low to high).

    ``breaks`` are the positive bounds between classes, e.g. (0.5, 1.5) for five
    classes: below -1.5, -1.5 to -0.5, -0.5 to 0.5 (about 0), 0.5 to 1.5, above 1.5.
    Without them the bounds are a third and all of the largest absolute value, rounded.
    """
    x = pd.to_numeric(values, errors="coerce").dropna()
    if not len(x):
        return Classes(bins=(), lower=float("nan"), colours=(), labels=())
    if not breaks:
        top = float(x.abs().max()) or 1.0
        breaks = (round(top / 3, digits) or top / 3, round(top, digits) or top)
    inner = sorted(float(b) for b in breaks)
    bounds = [-b for b in reversed(inner)] + inner
    n = len(bounds) + 1
    picks = np.linspace(0, len(palette) - 1, n).round().astype(int)
    f = functools.partial(_fmt, digits=digits)
    labels = [f"Below {f(bounds[0])}"]
    labels += [f"{f(lo)} to {f(hi)}" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    labels.append(f"Above {f(bounds[-1])}")
    middle = len(bounds) // 2
    labels[middle] += " (about 0)"
    top_bin = max(float(x.max()), bounds[-1]) + 1.0
    return Classes(
        bins=(*bounds, top_bin),
        lower=float(x.min()),
        colours=tuple(palette[i] for i in picks),
        labels=tuple(labels),
    )


def _lisa_colour(name: str) -> str | None:
    """The conventional colour of a Local Moran's I class: "High-High (hot spot)" too."""
    key = " ".join(name.lower().split())
    return LISA_COLOURS.get(key) or LISA_COLOURS.get(key.split(" (")[0].strip())


def category_colours(
    names: Sequence[str], *, palette: Sequence[str] = CATEGORICAL
) -> tuple[str, ...]:
    """A colour for each category name, in the order given.

    Local Moran's I classes (High-High, Low-Low, ... in any case, with or without a note
    in brackets such as "High-High (hot spot)") keep their conventional colours; other
    names take the palette's colours in turn, skipping those already used.
    """
    fixed = [_lisa_colour(str(n)) for n in names]
    free = [c for c in palette if c not in fixed] or list(palette)
    out, n_free = [], 0
    for colour in fixed:
        if colour is None:
            colour, n_free = free[n_free % len(free)], n_free + 1
        out.append(colour)
    return tuple(out)
