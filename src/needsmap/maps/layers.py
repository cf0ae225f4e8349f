"""Which ward columns become map layers, and how they read: shared by every map.

The interactive and static maps draw a layer for each spec whose column is in the ward
table, with the same classes, colours and words. Analyses add columns; this registry is
the one place that says how a column is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from needsmap import vocabulary
from needsmap.maps import style

Scale = Literal["quantiles", "probability", "diverging"]


@dataclass(frozen=True)
class LayerSpec:
    """A ward column drawn as a map layer. Its words (title, unit, which way is more
    need, what it means) come from :mod:`needsmap.vocabulary`."""

    column: str
    kind: Literal["continuous", "categorical"] = "continuous"
    scale: Scale = "quantiles"
    """How a continuous layer is classed: fifths of wards; fixed probability bands
    (under 10%, 10-50%, 50-90%, 90% or more); or bands either side of 0."""
    caseload: bool = False
    """True if the layer shows caseload (synthetic flag, suppression hatching apply)."""
    file_stem: str = ""
    """Static map file name; defaults to the column."""
    order_by: str = ""
    """Categorical layers: a numeric column that orders the categories (e.g. ``cluster``)."""
    source: str = ""
    """For a layer from public data other than IoD and the caseload: its source, named in
    the map's subtitle (no synthetic watermark)."""
    breaks: tuple[float, ...] = ()
    """Diverging layers: the positive class breaks (mirrored below 0)."""

    @property
    def stem(self) -> str:
        return self.file_stem or self.column

    @property
    def term(self) -> vocabulary.Term:
        return vocabulary.term(self.column)

    @property
    def title(self) -> str:
        """Legend and layer-control title, in plain words."""
        return self.term.label

    @property
    def digits(self) -> int:
        return self.term.digits

    @property
    def higher(self) -> Literal["need", "access", "neutral"]:
        """What a high value means: darker colours always mean more need."""
        direction = self.term.direction
        if direction == vocabulary.MORE_NEED:
            return "need"
        if direction in (vocabulary.MORE_ACCESS, vocabulary.LESS_NEED):
            return "access"
        return "neutral"


DWP = (
    "DWP Children in Low Income Families (provisional): children aged 0–15 in relative "
    "low income before housing costs, first to latest year"
)

LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec("need_index"),
    LayerSpec("p_top5", scale="probability"),
    LayerSpec("imd_score"),
    LayerSpec("idaci_score"),
    LayerSpec("child_poverty_pct", source=DWP),
    LayerSpec("child_poverty_change", source=DWP),
    LayerSpec("child_poverty_trend", kind="categorical", source=DWP),
    LayerSpec("children_in_need_rate", caseload=True),
    LayerSpec("child_protection_plans_rate", caseload=True),
    LayerSpec("looked_after_children_rate", caseload=True),
    LayerSpec("cluster_label", kind="categorical", order_by="cluster"),
    LayerSpec("locality", kind="categorical"),
    LayerSpec("hotspot", kind="categorical"),
    LayerSpec("gap_score", scale="diverging", breaks=(0.5, 1.5)),
    LayerSpec("review", kind="categorical", file_stem="review_before_commissioning"),
)


DEPRIVATION_COLUMNS = frozenset(
    {
        "imd_score",
        *(f"{d}_score" for d in vocabulary.DOMAINS),
        "idaci_score",
        "idaopi_score",
    }
)
PUBLIC_COLUMNS = DEPRIVATION_COLUMNS
"""Layers from public data only: no caseload, so no synthetic watermark or banner."""


@dataclass(frozen=True)
class MapContext:
    """What every map of one run (interactive and board) says about its data: the one
    source of titles, subtitles, banners and attribution."""

    area: str
    period: str
    """Caseload period, e.g. 2025-03-31."""
    synthetic: bool
    stamp: str | None
    """"UNSUPPRESSED ..." when suppression is off; None otherwise."""
    attribution: tuple[str, ...]
    marker: str = "fewer than 5"
    """The text suppressed cells hold."""
    withheld: str = "withheld"
    """The text cells withheld to protect a suppressed count hold."""
    deprivation: str = "English Indices of Deprivation 2025"
    ward_vintage: str = "2024"
    poverty_stand_in: bool = False
    """No IDACI in the bundle: DWP's child poverty share takes its place in the need index."""

    @property
    def when(self) -> str:
        """The caseload period in words: "31 March 2025"."""
        return vocabulary.day(self.period)

    @property
    def caseload_source(self) -> str:
        return "synthetic caseload" if self.synthetic else "council caseload"

    def title(self, subject: str) -> str:
        """``"Wirral: need for children's services by ward"``."""
        return f"{self.area}: {subject}"

    def data_line(self, n_wards: int) -> str:
        """The data behind a map of the whole run, its vintage and period."""
        poverty = ", with DWP child poverty in place of IDACI," if self.poverty_stand_in else ""
        return (
            f"{self.deprivation}{poverty} and {self.caseload_source} at {self.when} · "
            f"{n_wards} wards ({self.ward_vintage} boundaries)"
        )

    def layer_title(self, spec: LayerSpec) -> str:
        """``"Wirral: overall deprivation score by ward"``."""
        by_ward = " by ward" if spec.kind == "continuous" else ""
        return self.title(f"{vocabulary.mid(spec.title)}{by_ward}")

    def layer_subtitle(self, spec: LayerSpec, n_wards: int) -> str:
        """The data one layer shows, its vintage and period."""
        wards = f"{n_wards} wards ({self.ward_vintage} boundaries)"
        if spec.source:
            return f"{spec.source} · {wards}"
        if spec.column in DEPRIVATION_COLUMNS:
            return f"{self.deprivation} · neighbourhood scores averaged over residents of {wards}"
        if spec.caseload:
            source = self.caseload_source.capitalize()
            return f"{source} at {self.when} · children aged 0–17 · {wards}"
        return self.data_line(n_wards)

    def layer_synthetic(self, spec: LayerSpec) -> bool:
        """Does this layer rest on the synthetic caseload? (Public data layers do not.)"""
        return self.synthetic and not spec.source and spec.column not in PUBLIC_COLUMNS


def layers_for(columns: object) -> list[LayerSpec]:
    """The registered layers whose column is present, in registry order."""
    present = set(columns)  # type: ignore[call-overload]
    return [spec for spec in LAYERS if spec.column in present]


def classes_for(
    spec: LayerSpec,
    wards: pd.DataFrame,
    *,
    palette: tuple[str, ...] = style.SEQUENTIAL,
    diverging: tuple[str, ...] = style.DIVERGING,
) -> style.Classes:
    """Class breaks for a continuous layer, as every map of it draws them.

    Quantile layers get one class per ``palette`` colour, from the published values:
    suppressed cells (text such as "fewer than 5") are left out, so no break can sit on
    a withheld value. Where a low value means more need (``higher="access"``) the
    palette is reversed: darker is always more need. Probabilities get fixed bands, and
    diverging layers bands either side of 0 in ``diverging`` (low to high).
    """
    values = wards[spec.column]
    if spec.scale == "probability":
        return style.probability_classes(palette=palette)
    if spec.scale == "diverging":
        return style.diverging_classes(
            values, breaks=spec.breaks, digits=spec.digits, palette=diverging
        )
    return style.layer_classes(values, digits=spec.digits, higher=spec.higher, palette=palette)


def legend_notes(spec: LayerSpec, classes: style.Classes | None) -> list[str]:
    """What a layer's legend says under its classes, the same on every map: what the
    value means, its unit, and how the classes were made."""
    term = spec.term
    notes = [term.meaning] if term.meaning else []
    plain_unit = term.unit not in ("", vocabulary.SCORE, vocabulary.PERCENT)
    if plain_unit and spec.kind != "categorical":
        notes.append(f"Units: {term.unit}.")
    if spec.kind == "categorical" or classes is None:
        return notes
    if not classes.colours:  # e.g. a measure suppressed in every ward
        return [*notes, "No ward's value can be shown."]
    if spec.scale == "probability":
        notes.append("Darker = more likely to be among the wards of most need.")
    elif spec.scale == "diverging":
        notes.append("Red: more need than access. Blue: more access than need.")
    else:
        darker = {"access": "less access", "neutral": "higher values"}.get(spec.higher, "more need")
        k = len(classes.colours)
        notes.append(
            f"Darker = {darker}. Classes are {style.groups_word(k)} of the wards "
            "(about as many wards in each)."
        )
    return notes


def category_label(spec: LayerSpec, name: str) -> str:
    """A category as the legend and profile show it (hot spots in plain words)."""
    return vocabulary.category(spec.column, name)


def categories_for(
    spec: LayerSpec, wards: pd.DataFrame, *, palette: tuple[str, ...] = style.CATEGORICAL
) -> style.Categories:
    """Categories of a categorical layer, in a stable order, with their colours from
    ``palette`` (hot-spot classes keep their conventional colours).

    Ordered by ``spec.order_by`` when that column is present (clusters: 1 = highest
    need first), otherwise alphabetically.
    """
    values = wards[spec.column]
    present = values.notna()
    names = values[present].astype(str)
    if spec.order_by and spec.order_by in wards.columns:
        rank = pd.to_numeric(wards.loc[present, spec.order_by], errors="coerce")
        order = rank.groupby(names).min().sort_values(kind="stable")
        ordered = [str(n) for n in order.index]
    else:
        ordered = sorted(set(names))
    return style.categorise(ordered, palette=palette)
