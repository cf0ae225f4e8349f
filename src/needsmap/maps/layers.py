"""Which ward columns become map layers, and how they read: shared by every map.

The interactive and static maps draw a layer for each spec whose column is in the ward
table, with the same classes, colours and words. Analyses add columns; this registry is
the one place that says how a column is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from needsmap.maps import style


@dataclass(frozen=True)
class LayerSpec:
    column: str
    title: str
    """Legend and layer-control title, in plain words."""
    kind: Literal["continuous", "categorical"] = "continuous"
    digits: int = 1
    """Decimal places in legends and tooltips."""
    higher: Literal["need", "access", "neutral"] = "need"
    """What a high value means: darker colours always mean more need."""
    caseload: bool = False
    """True if the layer shows caseload (synthetic flag, suppression hatching apply)."""
    file_stem: str = ""
    """Static map file name; defaults to the column."""
    order_by: str = ""
    """Categorical layers: a numeric column that orders the categories (e.g. ``cluster``)."""

    @property
    def stem(self) -> str:
        return self.file_stem or self.column


LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec("need_index", "Need index", digits=2),
    LayerSpec("p_top5", "Chance of being among the 5 wards of most need", digits=2),
    LayerSpec("imd_score", "IMD score (population-weighted)"),
    LayerSpec("idaci_score", "Child income deprivation (IDACI)", digits=3),
    LayerSpec("children_low_income_pct", "Children in low income families (%)", digits=1),
    LayerSpec(
        "children_in_need_rate", "Children in need per 10,000 children", digits=0, caseload=True
    ),
    LayerSpec(
        "child_protection_plans_rate",
        "Child protection plans per 10,000 children",
        digits=0,
        caseload=True,
    ),
    LayerSpec(
        "looked_after_children_rate",
        "Looked-after children per 10,000 children",
        digits=0,
        caseload=True,
    ),
    LayerSpec("cluster_label", "Clusters of similar wards", kind="categorical", order_by="cluster"),
    LayerSpec("locality", "Commissioning localities", kind="categorical"),
    LayerSpec("hotspot", "Hot spots of need (local Moran's I)", kind="categorical"),
    LayerSpec("gap_score", "Access gap (high need, low access)", digits=2),
    LayerSpec(
        "review",
        "Wards to review before commissioning more (low need, good access)",
        kind="categorical",
        file_stem="review_before_commissioning",
    ),
)


def layers_for(columns: object) -> list[LayerSpec]:
    """The registered layers whose column is present, in registry order."""
    present = set(columns)  # type: ignore[call-overload]
    return [spec for spec in LAYERS if spec.column in present]


def classes_for(
    spec: LayerSpec, wards: pd.DataFrame, *, palette: tuple[str, ...] = style.SEQUENTIAL
) -> style.Classes:
    """Class breaks for a continuous layer, as every map of it draws them: one quantile
    class per ``palette`` colour.

    Breaks come from the published values: suppressed cells (text such as "fewer than
    5") are left out, so no break can sit on a withheld value. Where a low value means
    more need (``higher="access"``) the palette is reversed: darker is always more need.
    """
    return style.layer_classes(
        wards[spec.column], digits=spec.digits, higher=spec.higher, palette=palette
    )


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
