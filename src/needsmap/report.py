"""The board summary: report.html (and report.pdf where Chromium is installed).

One standalone file for councillors who will never open a notebook: key findings in
plain words, the wards with most need (with rank intervals when the need index has
them), the local authority against England and its statistical neighbours, groups of
similar wards, recommended pilot sites, and one profile page per ward with a small
locator map. Images are embedded, nothing is linked, every string is escaped.

Every ward figure is written by ``_figure`` as ``<span data-ward=... data-col=...>`` so
tests (and the disclosure scan) can check each one against the published ward table.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from needsmap import vocabulary
from needsmap.disclosure import Disclosure
from needsmap.integrity import die_with_parent
from needsmap.maps import layers, static, style
from needsmap.review import CAVEAT

DFE_MEASURES = {
    "children_in_need_at_31_march": "children_in_need",
    "child_protection_plans_at_31_march": "child_protection_plans",
    "children_looked_after_at_31_march": "looked_after_children",
}
MEASURES = tuple(vocabulary.CASELOAD)
"""The caseload measures, in the report's order; their words come from the vocabulary."""
SITE_COLUMNS = (
    "order",
    "name",
    "type",
    "wards_served",
    "children_covered",
    "share_covered_cumulative",
)
"""The columns of a recommended-sites table a board reads, in order."""
PROFILE_FEATURES = (
    "need_index",
    "idaci_score",
    "child_poverty_pct",
    "imd_score",
    "children_in_need_rate",
    "child_protection_plans_rate",
    "looked_after_children_rate",
)
"""The measures a group of wards is described by (one child-poverty measure of two)."""
POVERTY = ("idaci_score", "child_poverty_pct")
"""The ward's child-poverty measure: IDACI where the bundle has it, else DWP's."""


def poverty_column(wards: pd.DataFrame) -> str:
    """``idaci_score`` where the ward table has it, else DWP's ``child_poverty_pct``."""
    return "idaci_score" if "idaci_score" in wards.columns else "child_poverty_pct"


@dataclass(frozen=True)
class ReportContext(layers.MapContext):
    """What the report says about its run: what its maps say, and a little more."""

    subtitle: str = ""
    version: str = ""
    top_n: int = 5
    """The need index's 'top n' (the ``p_top5`` column) when rank intervals are present."""


@dataclass(frozen=True)
class ChangeSection:
    """The report's "Change" section: is need rising, where, and how sure."""

    findings: Sequence[str]
    """Plain-words answers (``needsmap.trends.change_findings``)."""
    chart: bytes | None = None
    """Small multiples of each ward's yearly figure (PNG)."""
    map: bytes | None = None
    """The board map of change (PNG)."""
    benchmark: pd.DataFrame | None = None
    """The area beside England and its statistical neighbours, by year."""
    caseload: Sequence[str] = ()
    """Caseload trends in words (``needsmap.trends.caseload_trend_findings``)."""
    pilots: Sequence[str] = ()
    """Pilot comparisons in words (``needsmap.trends.DiD.sentence``)."""
    test: str = ""
    """How rising and falling are decided."""
    headline: str | None = None
    """One short key finding (``needsmap.trends.change_headline``)."""


# --- tables the report (and wards.xlsx) use ---------------------------------------------


def la_comparison(dfe: pd.DataFrame, *, year: int | None = None) -> pd.DataFrame:
    """DfE rates for the LA, England and the statistical neighbours, one row per area and measure.

    Parameters
    ----------
    dfe
        The bundle's ``dfe_childrens_social_care.csv``: ``group``, ``area_name``,
        ``year``, ``measure``, ``number``, ``rate_per_10000``.
    year
        Defaults to the latest year with rates for every measure.
    """
    frame = dfe[dfe["measure"].isin(DFE_MEASURES)].copy()
    frame["measure"] = frame["measure"].map(DFE_MEASURES)
    frame["rate"] = pd.to_numeric(frame["rate_per_10000"], errors="coerce")
    frame["number"] = pd.to_numeric(frame["number"], errors="coerce")
    if year is None:
        complete = frame.dropna(subset=["rate"]).groupby("year")["measure"].nunique()
        full = complete[complete == frame["measure"].nunique()]
        if full.empty:
            return pd.DataFrame(columns=["measure", "group", "area_name", "year", "number", "rate"])
        year = int(full.index.max())
    frame = frame[frame["year"] == year]
    cols = ["measure", "group", "area_name", "year", "number", "rate"]
    return frame[cols].reset_index(drop=True)


def la_benchmark(comparison: pd.DataFrame) -> pd.DataFrame:
    """One row per measure: the LA's latest rate beside England and its neighbours.

    Parameters
    ----------
    comparison
        From ``la_comparison``.

    Returns
    -------
    pd.DataFrame
        Indexed by DfE ``measure``: ``caseload_measure`` (the ward column it totals),
        ``year``, ``la_number``, ``la_rate``, ``england_rate``, ``neighbour_mean`` (the
        simple mean of the neighbours' rates, as DfE publishes it), ``neighbour_min``,
        ``neighbour_max``, ``neighbours`` and ``la_rank_among_neighbours`` (1 = the
        highest rate among the LA and its neighbours).
    """
    rows = []
    for dfe_measure, m in DFE_MEASURES.items():
        part = comparison[comparison["measure"] == m]
        la = part[part["group"] == "Local authority"]
        if la.empty:
            continue
        eng = part[part["group"] == "England"]["rate"]
        sn = part[part["group"] == "Statistical neighbour"]["rate"].dropna()
        la_rate = float(la["rate"].iloc[0])
        rows.append(
            {
                "measure": dfe_measure,
                "caseload_measure": m,
                "year": int(la["year"].iloc[0]),
                "la_number": float(la["number"].iloc[0]),
                "la_rate": la_rate,
                "england_rate": float(eng.iloc[0]) if len(eng) else np.nan,
                "neighbour_mean": round(float(sn.mean()), 1) if len(sn) else np.nan,
                "neighbour_min": float(sn.min()) if len(sn) else np.nan,
                "neighbour_max": float(sn.max()) if len(sn) else np.nan,
                "neighbours": len(sn),
                "la_rank_among_neighbours": int((sn > la_rate).sum() + 1),
            }
        )
    return pd.DataFrame(rows).set_index("measure") if rows else pd.DataFrame()


def _measure_label(measure: object, caseload: object = "") -> str:
    if isinstance(caseload, str) and caseload in MEASURES:
        return vocabulary.label(caseload)
    text = str(measure).replace("_at_31_march", "").replace("_", " ")
    return text[:1].upper() + text[1:]


def _level(z: float) -> str:
    if z >= 1:
        return "well above average"
    if z >= 0.3:
        return "above average"
    if z <= -1:
        return "well below average"
    if z <= -0.3:
        return "below average"
    return "about average"


def cluster_profiles(wards: pd.DataFrame) -> pd.DataFrame | None:
    """Each cluster's wards, children, mean need and a profile in plain words.

    Uses the published table: suppressed rates are left out of the means (so a mean
    cannot reveal them); ``suppressed_wards`` says how many were left out. The columns
    follow clusters.csv (``section``, ``group``, ``label``, ``description``, ``wards``,
    ``ward_names``, ``children``, ``need_index_mean``) plus the mean of each feature.
    """
    if "cluster" not in wards.columns:
        return None
    poverty = poverty_column(wards)  # one child-poverty measure: IDACI where there is one
    features = [c for c in PROFILE_FEATURES if c in wards and (c not in POVERTY or c == poverty)]
    numeric = {c: pd.to_numeric(wards[c], errors="coerce") for c in features}
    rows = []
    for _, members in wards.groupby("cluster", sort=True):
        row: dict[str, object] = {"section": "cluster", "group": int(members["cluster"].iloc[0])}
        if "cluster_label" in wards:
            row["label"] = str(members["cluster_label"].iloc[0])
        words = []
        for col, values in numeric.items():
            part = values.loc[members.index]
            sd = float(values.std(ddof=0))
            if sd > 0 and part.notna().any():
                z = (float(part.mean()) - float(values.mean())) / sd
                words.append((abs(z), f"{vocabulary.phrase(col)} {_level(z)}"))
        row["description"] = "; ".join(w for _, w in sorted(words, key=lambda t: -t[0])[:3])
        row["wards"] = len(members)
        row["ward_names"] = "; ".join(sorted(members["ward_name"].astype(str)))
        row["children"] = float(pd.to_numeric(members["children"]).sum())
        if "need_index" in numeric:
            row["need_index_mean"] = round(
                float(numeric["need_index"].loc[members.index].mean()), 3
            )
        for col, values in numeric.items():
            if col != "need_index":
                part = values.loc[members.index]
                row[f"{col}_mean"] = float(part.mean()) if part.notna().any() else np.nan
        rates = [c for c in numeric if c.endswith("_rate")]
        row["suppressed_wards"] = int(
            max((numeric[c].loc[members.index].isna().sum() for c in rates), default=0)
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _cluster_view(clusters: pd.DataFrame) -> pd.DataFrame:
    """The cluster rows of a clusters table, whichever made it, indexed by group."""
    table = clusters
    if "section" in table.columns:
        table = table[table["section"] == "cluster"]
    if "group" in table.columns:
        table = table.set_index("group")
    if pd.api.types.is_numeric_dtype(table.index):
        table.index = [int(k) for k in table.index]
    return table


def suppression_lines(marker: str, *, rounding: int = 1) -> list[tuple[str, str]]:
    """The disclosure policy in plain words: what a reader can and cannot learn.

    ``marker`` is what a suppressed cell reads ("fewer than 5"); ``rounding`` the
    ``suppression.rounding`` setting.
    """
    last = marker.rsplit(" ", 1)[-1]
    t = int(last) if last.isdigit() else 5
    rounded = (
        f"Every published count of {t} or more is rounded to the nearest {rounding} (DfE "
        "practice), and the rates, changes and totals are made from the rounded counts, "
        "so two runs a child apart usually publish the same figures."
        if rounding > 1
        else "Counts are not rounded: two runs show exactly how each published count moved."
    )
    return [
        (
            "Small numbers",
            f'A count from 1 to {t - 1} reads "{marker}", and so do its rate and interval. '
            f'In a column with any such count, wards with none read "{marker}" too, so '
            "the words never say whether a ward has none or a few.",
        ),
        (
            "Withheld",
            f'"withheld" is a count of {t} or more, hidden so that the local-authority '
            "total (published by DfE) cannot be used to work out the others. Wards are "
            "withheld in order of their number of children, fewest first, never by their "
            f'count, so "withheld" says only "{t} or more".',
        ),
        (
            "What a reader can learn",
            "Holding every table, map and report of this run and the DfE totals, a reader "
            f'can narrow a "{marker}" count no further than 0 to {t - 1}, and a withheld '
            f"count no closer than {t} either side of its true value (unless the DfE total "
            "alone already says more). Every run checks this for every hidden count before "
            "it writes anything, and lists each range in run.json.",
        ),
        (
            "Hidden wards elsewhere",
            "Changes since the first period are withheld wherever either period is "
            "hidden; a cluster's or locality's total is withheld where it would separate "
            "hidden wards. The need index uses a stand-in rate for a hidden ward made only "
            f'from published figures (the rate of {(t - 1) / 2:g} children for "{marker}"; '
            f"for withheld, the median published rate, at least that of {t} children), so "
            "it does not move when a hidden count does.",
        ),
        ("Rounding", rounded),
    ]


def about_lines(
    ctx: object,
    *,
    subtitle: str,
    notes: Sequence[str] = (),
    version: str = "",
    rounding: int = 1,
) -> list[tuple[str, str]]:
    """The About sheet of wards.xlsx: what the tables are, their sources and warnings.

    ``ctx`` is a ``layers.MapContext`` or ``ReportContext`` (area, period, synthetic,
    stamp, marker, attribution); ``rounding`` the ``suppression.rounding`` setting.
    """
    area = str(getattr(ctx, "area", ""))
    synthetic = bool(getattr(ctx, "synthetic", False))
    marker = str(getattr(ctx, "marker", "fewer than 5"))
    lines = [
        ("Title", f"{area}: where children's services are most needed, by ward"),
        ("Data", subtitle),
        (
            "Caseload",
            "SYNTHETIC: illustrative, calibrated to published totals; not real ward figures"
            if synthetic
            else f"Council caseload at {getattr(ctx, 'period', '')}",
        ),
        *(() if getattr(ctx, "stamp", None) else suppression_lines(marker, rounding=rounding)),
        ("Sheets", "Wards; Clusters; Recommended sites; LA benchmark (those a run produced)"),
    ]
    lines += [("Note", n) for n in notes]
    lines.append(("Attribution", " ".join(getattr(ctx, "attribution", ()))))
    if version:
        lines.append(("Made with", f"needsmap {version}"))
    return lines


# --- formatting --------------------------------------------------------------------------


def number(value: object, digits: int = 0) -> str:
    """A figure as the report prints it: thousands separators, fixed decimals, text kept."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def _figure(code: str, col: str, value: object, digits: int = 0) -> Markup:
    return Markup('<span class="fig" data-ward="{}" data-col="{}">{}</span>').format(
        code, col, number(value, digits)
    )


def _category(code: str, col: str, value: object) -> Markup:
    """A category in plain words (hot spots, commissioning areas); the stored value is
    kept in ``data-value`` for checks against the ward table."""
    return Markup(
        '<span class="fig" data-ward="{}" data-col="{}" data-value="{}">{}</span>'
    ).format(code, col, number(value), vocabulary.category(col, value))


def _percent(code: str, col: str, value: object) -> Markup:
    if isinstance(value, str) or pd.isna(value):  # type: ignore[call-overload]
        return _figure(code, col, value)
    return Markup('<span class="fig pct" data-ward="{}" data-col="{}">{:.0f}%</span>').format(
        code,
        col,
        float(value) * 100,  # type: ignore[arg-type]
    )


def _dfe(row: pd.Series, key: str, digits: int = 0, *, signed: bool = False) -> Markup:
    """A published DfE figure, tagged with its measure (the row's name) and column."""
    value = row[key]
    text = number(value, digits)
    if signed and not isinstance(value, str) and not pd.isna(value) and float(value) > 0:
        text = "+" + text
    return Markup('<span class="dfe" data-measure="{}" data-key="{}">{}</span>').format(
        row.name, key, text
    )


def shrink_png(data: bytes, *, width: int = 1800) -> bytes:
    """A PNG at most ``width`` pixels wide with a 256-colour palette, for embedding.

    A 300 dpi A4 map is 700 KB; at screen and print size in the report it needs a
    quarter of that.
    """
    from PIL import Image

    with Image.open(BytesIO(data)) as image:
        image.load()
        rgb = image.convert("RGB")
    if rgb.width > width:
        rgb = rgb.reduce(-(-rgb.width // width))  # box average by a whole factor: fast
    small = rgb.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = BytesIO()
    small.save(out, format="png")
    return out.getvalue()


def png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _names(names: Sequence[str], *, most: int | None = None) -> str:
    """'A, B and C'; beyond ``most`` names, 'A, B, ... and 38 more' (a board reads a
    sentence, not a county's ward list)."""
    names = list(names)
    if most is not None and len(names) > most:
        return ", ".join(names[:most]) + f" and {len(names) - most} more"
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


FINDING_NAMES = 8
"""Ward names a key finding lists at most."""


def _group_names(names: str) -> str:
    """A group's wards ('A; B; C') as 'A, B, C', or the first eight 'and 38 more'."""
    wards = [n.strip() for n in names.split(";") if n.strip()]
    if len(wards) > FINDING_NAMES:
        return _names(wards, most=FINDING_NAMES)
    return ", ".join(wards)


# --- plain-words findings ---------------------------------------------------------------


def _certainty(wards: pd.DataFrame, top: pd.Index, n: int) -> Markup:
    """How sure the top ``n`` is, from each ward's chance of being in it (``p_top5``)."""
    p = pd.to_numeric(wards["p_top5"], errors="coerce")
    sure = [c for c in top if p[c] >= 0.9]
    unsure = [c for c in top if c not in sure]

    def who(codes: Sequence[str]) -> str:
        return _names([str(wards.at[c, "ward_name"]) for c in codes])

    lead = Markup("Allowing for uncertainty in the weights and small numbers, ")
    if not unsure:
        return lead + Markup(
            "all {k} of these wards are in the top {n} in at least 9 of 10 simulations: "
            "the ranking is robust."
        ).format(k=len(sure), n=n)
    chances = Markup(", ").join(
        Markup("{} {}").format(str(wards.at[c, "ward_name"]), _percent(c, "p_top5", p[c]))
        for c in unsure
    )
    if not sure:
        return lead + Markup(
            "no ward is in the top {n} in 9 of 10 simulations; the chances are: {chances}."
        ).format(n=n, chances=chances)
    return lead + Markup(
        "{sure} {verb} in the top {n} in at least 9 of 10 simulations; less certain: "
        "{chances} (the share of simulations in the top {n})."
    ).format(sure=who(sure), verb="is" if len(sure) == 1 else "are", n=n, chances=chances)


def key_findings(
    wards: pd.DataFrame,
    ctx: ReportContext,
    *,
    benchmark: pd.DataFrame | None,
    clusters: pd.DataFrame | None,
    sites: pd.DataFrame | None,
    sites_summary: str | None = None,
    top: int = 5,
) -> list[Markup]:
    """Short sentences a board can read aloud; every figure is tagged with its source."""
    out: list[Markup] = []
    ranked = wards.sort_values("need_rank")
    head = ranked.head(top)
    names = [
        Markup('<span data-ward="{}">{}</span>').format(code, name)
        for code, name in head["ward_name"].items()
    ]
    children = pd.to_numeric(wards["children"])
    share = float(children.loc[head.index].sum() / children.sum())
    out.append(
        Markup(
            "The {n} wards with most need are {names}. They are home to "
            '<span class="sum" data-sum="children" data-wards="{codes}">{kids}</span> of '
            "{area}'s {total} children aged 0–17 ({share:.0%})."
        ).format(
            n=len(head),
            names=Markup(", ").join(names[:-1]) + Markup(" and ") + names[-1]
            if len(names) > 1
            else Markup("").join(names),
            codes=",".join(head.index),
            kids=number(children.loc[head.index].sum()),
            area=ctx.area,
            total=number(children.sum()),
            share=share,
        )
    )
    if "lsoas_most_deprived_10pc" in wards:
        deprived = pd.to_numeric(wards["lsoas_most_deprived_10pc"])
        if deprived.sum() > 0:
            out.append(
                Markup(
                    "{n} of {area}'s {lsoas} census neighbourhoods are among the most deprived "
                    "10% in England; {top} of them are in these {k} wards."
                ).format(
                    n=number(deprived.sum()),
                    area=ctx.area,
                    lsoas=number(pd.to_numeric(wards["lsoas"]).sum()),
                    top=number(deprived.loc[head.index].sum()),
                    k=len(head),
                )
            )
    if "p_top5" in wards:
        out.append(_certainty(wards, head.index, ctx.top_n))
    bench = _benchmark_view(benchmark)
    if bench is not None:
        for measure, row in bench.iterrows():
            if str(row.get("caseload_measure", "")) not in MEASURES:
                continue
            la, eng, sn = row["la_rate"], row["england_rate"], row.get("neighbour_mean")
            versus = "higher than" if la > eng else "lower than" if la < eng else "the same as"
            sentence = Markup(
                "In {year}, {area}'s rate of {what} was {rate} per 10,000 children, {versus} "
                "England ({eng})"
            ).format(
                year=int(row["year"]),
                area=ctx.area,
                rate=_dfe(row, "la_rate"),
                what=_measure_label(measure, row.get("caseload_measure")).lower(),
                versus=versus,
                eng=_dfe(row, "england_rate"),
            )
            if sn is not None and not pd.isna(sn):
                above = "above" if la > sn else "below" if la < sn else "level with"
                sentence += Markup(
                    " and {above} its statistical neighbours' average ({sn})"
                ).format(above=above, sn=_dfe(row, "neighbour_mean"))
            out.append(sentence + Markup("."))
    groups = _cluster_view(clusters) if clusters is not None else None
    if groups is not None and len(groups) and "description" in groups:
        first = groups.iloc[0]
        out.append(
            Markup(
                "The wards fall into {k} groups of similar wards. Group {c} ({n} wards: {names}) "
                "has the highest need: {profile}."
            ).format(
                k=len(groups),
                c=groups.index[0],
                n=int(first["wards"]),
                names=_group_names(str(first["ward_names"])),
                profile=str(first["description"]).rstrip("."),
            )
        )
    if sites is not None and len(sites):
        sentence = Markup(
            "{n} new pilot site(s) are recommended where they reach most unmet need (see below)."
        ).format(n=len(sites))
        if sites_summary:
            # siting.coverage: what provision it counts, or that none was supplied
            sentence += Markup(" {}.").format(sites_summary.rstrip("."))
        out.append(sentence)
    if ctx.synthetic:
        out.append(
            Markup(
                "<strong>Ward caseload figures in this report are synthetic</strong>: "
                "illustrative, calibrated to {area}'s published totals, not real ward figures."
            ).format(area=ctx.area)
        )
    return out


# --- tables as HTML rows -------------------------------------------------------------------


def _top_rows(wards: pd.DataFrame, n: int) -> tuple[list[str], list[list[Markup]]]:
    ranked = wards.sort_values("need_rank").head(n)
    has_interval = {"need_rank_lo", "need_rank_hi"} <= set(wards)
    has_p = "p_top5" in wards
    header = [vocabulary.short(c) for c in ("need_rank", "ward_name", "need_index")]
    if has_interval:
        header.append("Rank range")
    if has_p:
        header.append(vocabulary.short("p_top5"))
    poverty = poverty_column(wards)
    header += [vocabulary.short("children"), vocabulary.short(poverty)]
    header += [f"{vocabulary.short(f'{m}_rate')}*" for m in MEASURES if f"{m}_rate" in wards]
    rows = []
    for code, w in ranked.iterrows():
        code = str(code)
        row = [
            _figure(code, "need_rank", w["need_rank"]),
            Markup("<b>{}</b>").format(w["ward_name"]),
            _figure(code, "need_index", w["need_index"], 2),
        ]
        if has_interval:
            row.append(
                Markup("{}–{}").format(
                    _figure(code, "need_rank_lo", w["need_rank_lo"]),
                    _figure(code, "need_rank_hi", w["need_rank_hi"]),
                )
            )
        if has_p:
            row.append(_percent(code, "p_top5", w["p_top5"]))
        row += [
            _figure(code, "children", w["children"]),
            _figure(code, poverty, w[poverty], vocabulary.term(poverty).digits),
        ]
        for m in MEASURES:
            if f"{m}_rate" in wards:
                row.append(_rate(code, m, w))
        rows.append(row)
    return header, rows


def _rate(code: str, m: str, w: pd.Series) -> Markup:
    cell = _figure(code, f"{m}_rate", w[f"{m}_rate"], 1)
    if _flag(w.get(f"{m}_rate_unreliable")) and not isinstance(w[f"{m}_rate"], str):
        cell += Markup('<sup title="95% interval wider than the rate">†</sup>')
    return cell


def _day(when: pd.Timestamp) -> str:
    """'1 September 2023'."""
    return f"{when.day} {when:%B %Y}"


def _pilot_lines(pilots: pd.DataFrame | None, *, on: dt.date | None = None) -> list[str]:
    """One line per pilot: name, dates and whether it runs on the date provision is
    counted (``on``)."""
    if pilots is None or not len(pilots):
        return []
    out = []
    for _, p in pilots.iterrows():
        start, end = p["start"], p["end"]
        when = "start date not given" if pd.isna(start) else f"from {_day(start)}"
        if pd.notna(end):
            when += f" to {_day(end)}"
        when_counted = _day(pd.Timestamp(on)) if on else "the date provision is counted"
        state = "running" if p["active"] else f"not running on {when_counted}"
        desc = f": {p['description']}" if p.get("description") else ""
        out.append(f"{p['pilot']} ({when}; {state}){desc}")
    return out


def _review_rows(review: pd.DataFrame) -> tuple[list[str], list[list[Markup]]]:
    """The review list: what it is, where, and why, in words."""
    header = ["What", "Where", "Why it is on this list"]
    rows = [
        [
            Markup("{}").format("Ward" if r["kind"] == "ward" else "Existing site"),
            Markup("{}").format(r["name"]),
            Markup("{}").format(r["reason"]),
        ]
        for _, r in review.iterrows()
    ]
    return header, rows


def _flag(value: object) -> bool:
    return value is True or value is np.True_


def _sites_rows(sites: pd.DataFrame) -> tuple[list[str], list[list[Markup]]]:
    """The recommended sites: the columns a board reads when the table has them."""
    cols = [c for c in SITE_COLUMNS if c in sites.columns]
    if len(cols) < 3:
        return _generic_table(sites)
    rows = []
    for _, r in sites.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if c.startswith("share_") and not isinstance(v, str) and not pd.isna(v):
                cells.append(Markup("{:.0%}").format(float(v)))
            elif c == "wards_served":
                cells.append(Markup("{}").format(str(v).replace(";", ",")))
            elif c == "type":
                cells.append(Markup("{}").format(style.service_label(str(v))))
            else:
                cells.append(Markup("{}").format(number(v)))
        rows.append(cells)
    return [vocabulary.short(c) for c in cols], rows


def _generic_table(frame: pd.DataFrame) -> tuple[list[str], list[list[Markup]]]:
    table = frame.reset_index() if frame.index.name is not None else frame
    if "geometry" in table.columns:
        geom = table["geometry"]
        table = table.drop(columns="geometry")
        if hasattr(geom, "x"):
            table = table.assign(easting=geom.x.round(0), northing=geom.y.round(0))
    header = [vocabulary.short(str(c)) for c in table.columns]
    rows = []
    for _, r in table.iterrows():
        cells = []
        for col, v in r.items():
            digits = 0
            if isinstance(v, float) and not float(v).is_integer():
                digits = 3 if abs(v) < 1 else 1
            if "rate" in str(col) and not isinstance(v, str):
                digits = 1
            cells.append(Markup("{}").format(number(v, digits)))
        rows.append(cells)
    return header, rows


def _change_table(benchmark: pd.DataFrame) -> tuple[list[str], list[list[Markup]]]:
    """Percentages by year, one decimal, and the change in points with its sign."""
    header = ["Area", *(str(c) for c in benchmark.columns[:-1]), "Change (points)"]
    rows = [
        [
            Markup("{}").format(name),
            *(Markup("{}%").format(f"{v:.1f}") for v in r.iloc[:-1]),
            Markup("{}").format(f"{r.iloc[-1]:+.1f}".replace("-", "−")),
        ]
        for name, r in benchmark.iterrows()
    ]
    return header, rows


def _benchmark_view(benchmark: pd.DataFrame | None) -> pd.DataFrame | None:
    """The LA benchmark indexed by DfE measure, or None if it has no rates."""
    if benchmark is None or not len(benchmark):
        return None
    table = benchmark.set_index("measure") if "measure" in benchmark.columns else benchmark
    if not {"la_rate", "england_rate", "year"} <= set(table.columns):
        return None
    if "caseload_measure" in table.columns:  # the report's measures first, in its order
        rank = {m: i for i, m in enumerate(MEASURES)}
        key = [rank.get(str(c), len(rank)) for c in table["caseload_measure"]]
        table = table.iloc[np.argsort(key, kind="stable")]
    return table


def _benchmark_rows(benchmark: pd.DataFrame) -> tuple[list[str], list[list[Markup]]]:
    table = _benchmark_view(benchmark)
    if table is None:
        return _generic_table(benchmark)
    trend = {"la_change", "trend_from"} <= set(table.columns)
    header = ["Measure at 31 March", "Children", "Rate*", "England*"]
    header += ["Neighbours' average*", "Neighbours' range*", "Rank among neighbours"]
    if trend:
        header.append("Change in rate*")
    rows = []
    for measure, r in table.iterrows():
        row = [
            Markup("{} {}").format(
                _measure_label(measure, r.get("caseload_measure")), int(r["year"])
            ),
            _dfe(r, "la_number"),
            Markup("<b>{}</b>").format(_dfe(r, "la_rate")),
            _dfe(r, "england_rate"),
            _dfe(r, "neighbour_mean"),
            Markup("{}–{}").format(_dfe(r, "neighbour_min"), _dfe(r, "neighbour_max")),
            Markup("{} highest of {}").format(
                _ordinal(int(r["la_rank_among_neighbours"])), int(r["neighbours"]) + 1
            ),
        ]
        if trend:
            row.append(
                Markup("{} since {}").format(
                    _dfe(r, "la_change", signed=True), int(r["trend_from"])
                )
            )
        rows.append(row)
    return header, rows


def _cluster_rows(clusters: pd.DataFrame) -> tuple[list[str], list[list[Markup]]]:
    table = _cluster_view(clusters)
    if not {"wards", "ward_names", "description"} <= set(table.columns):
        return _generic_table(clusters)
    header = ["Group", "Wards", "Children 0–17", "Mean need index", "Profile", "Wards in it"]
    rows = []
    for k, r in table.iterrows():
        name = Markup("{}").format(k)
        label = r.get("label")
        if isinstance(label, str) and label:
            numbered = label.split(":")[0].strip() == str(k)
            name = Markup("{}").format(label) if numbered else Markup("{}: {}").format(k, label)
        rows.append(
            [
                name,
                Markup("{}").format(number(r["wards"])),
                Markup("{}").format(number(r.get("children"))),
                Markup("{}").format(number(r.get("need_index_mean"), 2)),
                Markup("{}").format(r["description"]),
                Markup("{}").format(str(r["ward_names"]).replace(";", ",")),
            ]
        )
    return header, rows


def wards_like(code: str, wards: pd.DataFrame) -> Markup:
    """ "Wards like Seacombe": its national type and the most similar wards elsewhere."""
    if not {"ward_type_name", "similar_wards"} <= set(wards.columns):
        return Markup("")
    w = wards.loc[code]
    if not isinstance(w["similar_wards"], str) or not w["similar_wards"]:
        return Markup("")
    return Markup(
        "Type of ward in England: “{t}”. Wards like {name} elsewhere in England, most alike "
        "first: {similar}."
    ).format(
        t=w["ward_type_name"],
        name=w["ward_name"],
        similar=w["similar_wards"].replace(";", ","),
    )


def _k_rule(clusters: pd.DataFrame | None) -> str:
    """How the number of groups was chosen, from the k-selection rows of clusters.csv."""
    if clusters is None or not {"section", "chosen", "description"} <= set(clusters.columns):
        return ""
    chosen = clusters[(clusters["section"] == "k_selection") & (clusters["chosen"] == True)]  # noqa: E712
    if not len(chosen) or not isinstance(chosen["description"].iloc[0], str):
        return ""
    return str(chosen["description"].iloc[0]).removeprefix("chosen: ")


def _type_rows(mix: pd.DataFrame, area: str) -> tuple[list[str], list[list[Markup]]]:
    header = ["Type of ward", f"Wards in {area}", f"{area}", "Statistical neighbours", "England"]
    rows = [
        [
            Markup("{}").format(r["ward_type_name"]),
            Markup("{}").format(number(r["la_wards"])),
            Markup("{}%").format(number(100 * r["la_share"])),
            Markup("{}%").format(number(100 * r["neighbour_share"]))
            if pd.notna(r["neighbour_share"])
            else Markup("–"),
            Markup("{}%").format(number(100 * r["england_share"])),
        ]
        for _, r in mix.iterrows()
    ]
    return header, rows


# --- ward profiles -------------------------------------------------------------------------


@dataclass
class ProfileRow:
    label: str
    value: Markup
    context: Markup = Markup("")
    median: Markup = Markup("")


MEDIAN_WITHHELD = "not shown"


def rate_medians(
    wards: pd.DataFrame, disclosure: Disclosure, measures: Sequence[str]
) -> dict[str, float | str]:
    """The median ward's caseload rate, over every ward, suppressed ones included.

    Leaving hidden wards out would bias the median (they are mostly the smallest
    counts), but a median over all wards tells a reader on which side of it each hidden
    ward lies. So it is given only when that says nothing new: the median must not be a
    hidden ward's rate, every "fewer than t" ward must lie below it even with t - 1
    children counted, and every "withheld" ward (t or more) above it even with t. Else
    the reason it is not shown.

    Parameters
    ----------
    wards
        The full ward table (before suppression): ``children`` and ``<m>_rate``.
    disclosure
        The run's suppression (``apply_suppression``).

    Returns
    -------
    dict
        ``<m>_rate`` -> the median (one decimal), or the text saying why it is not shown.
    """
    out: dict[str, float | str] = {}
    kids = wards["children"].astype(float)
    t = disclosure.threshold
    for m in measures:
        col = f"{m}_rate"
        if col not in wards:
            continue
        rates = wards[col].astype(float)
        hidden = pd.Series(False, index=wards.index)
        if disclosure.enabled and m in disclosure.suppressed:
            hidden = disclosure.suppressed[m].reindex(wards.index, fill_value=False).astype(bool)
        order = rates.sort_values(kind="mergesort")
        middle = order.index[[(len(order) - 1) // 2, len(order) // 2]]
        median = round(float(order.loc[middle].mean()), 1)
        reads = disclosure.table[m].reindex(wards.index).astype(str)
        small = hidden & (reads == disclosure.marker)
        large = hidden & ~small
        implied_below = (t - 1) / kids * 10_000 < median
        implied_above = t / kids * 10_000 > median
        safe = (
            not hidden.loc[middle].any()
            and bool((rates[small] < median).all() and implied_below[small].all())
            and bool((rates[large] > median).all() and implied_above[large].all())
        )
        out[col] = median if safe else MEDIAN_WITHHELD
    return out


def _median(wards: pd.DataFrame, col: str, digits: int) -> Markup:
    values = pd.to_numeric(wards[col], errors="coerce")
    if values.notna().sum() == 0:
        return Markup("")
    return Markup('<span class="median" data-median="{}">{}</span>').format(
        col, number(float(values.median()), digits)
    )


def _rate_median(medians: Mapping[str, float | str], col: str) -> Markup:
    value = medians.get(col)
    if value is None:
        return Markup("")
    if isinstance(value, str):
        return Markup('<span class="median" data-median="{}" title="{}">{}</span>').format(
            col, "it would tell where a withheld ward's rate lies", value
        )
    return Markup('<span class="median" data-median="{}">{}</span>').format(col, number(value, 1))


def _directed(column: str) -> str:
    """A score's label with which way is more need: "Access gap (higher = more need)";
    counts and other columns without a direction keep their label."""
    term = vocabulary.term(column)
    return f"{term.label} ({term.direction})" if term.direction else term.label


def ward_profile(
    code: str,
    wards: pd.DataFrame,
    *,
    top_n: int = 5,
    medians: Mapping[str, float | str] | None = None,
) -> list[ProfileRow]:
    """The figures on one ward's page, each tagged with its ward-table column.

    ``medians`` holds the caseload rates' medians over every ward (``rate_medians``);
    the published table cannot give them, as it hides some wards' rates.
    """
    medians = medians or {}
    w = wards.loc[code]
    assert isinstance(w, pd.Series)
    n = len(wards)
    rows = [
        ProfileRow(
            _directed("need_index"),
            _figure(code, "need_index", w["need_index"], 2),
            Markup("rank {} of {}").format(_figure(code, "need_rank", w["need_rank"]), n),
            _median(wards, "need_index", 2),
        )
    ]
    if {"need_rank_lo", "need_rank_hi"} <= set(wards):
        rows.append(
            ProfileRow(
                "Rank range (90% of simulations)",
                Markup("{}–{}").format(
                    _figure(code, "need_rank_lo", w["need_rank_lo"]),
                    _figure(code, "need_rank_hi", w["need_rank_hi"]),
                ),
                Markup("in the top {} in {} of simulations").format(
                    top_n, _percent(code, "p_top5", w["p_top5"])
                )
                if "p_top5" in wards
                else Markup(""),
            )
        )
    for col in ("cluster_label", "locality", "hotspot"):
        if col in wards:
            value = _category(code, col, w[col])
            rows.append(ProfileRow(vocabulary.label(col), value))
    if "cluster" in wards and "cluster_label" not in wards:
        rows.append(ProfileRow("Group of similar wards", _figure(code, "cluster", w["cluster"])))
    poverty = poverty_column(wards)
    rows += [
        ProfileRow(
            vocabulary.label(col),
            _figure(code, col, w[col], vocabulary.term(col).digits),
            median=_median(wards, col, vocabulary.term(col).digits),
        )
        for col in ("population", "children", poverty, "imd_score")
    ]
    if {"lsoas_most_deprived_10pc", "lsoas"} <= set(wards):
        rows.append(
            ProfileRow(
                vocabulary.label("lsoas_most_deprived_10pc"),
                Markup("{} of {}").format(
                    _figure(code, "lsoas_most_deprived_10pc", w["lsoas_most_deprived_10pc"]),
                    _figure(code, "lsoas", w["lsoas"]),
                ),
            )
        )
    for m in MEASURES:
        if m not in wards:
            continue
        rows.append(ProfileRow(vocabulary.label(m), _figure(code, m, w[m])))
        if f"{m}_rate" in wards:
            interval = Markup("")
            if f"{m}_rate_lower" in wards and not isinstance(w[f"{m}_rate"], str):
                interval = Markup("95% interval {}–{}").format(
                    _figure(code, f"{m}_rate_lower", w[f"{m}_rate_lower"], 1),
                    _figure(code, f"{m}_rate_upper", w[f"{m}_rate_upper"], 1),
                )
                if _flag(w.get(f"{m}_rate_unreliable")):
                    interval += Markup(" (too wide to rank on)")
            rows.append(
                ProfileRow(
                    "  per 10,000 children",
                    _rate(code, m, w),
                    interval,
                    _rate_median(medians, f"{m}_rate"),
                )
            )
    for col in ("access_index", "gap_score"):
        if col in wards:
            rows.append(
                ProfileRow(
                    _directed(col),
                    _figure(code, col, w[col], 2),
                    median=_median(wards, col, 2),
                )
            )
    for col in sorted(c for c in wards.columns if c.startswith("dist_") and c.endswith("_m")):
        rows.append(
            ProfileRow(
                f"{vocabulary.label(col)} (m)",
                _figure(code, col, w[col]),
                median=_median(wards, col, 0),
            )
        )
    return rows


def at_a_glance(code: str, wards: pd.DataFrame, ctx: ReportContext) -> Markup:
    """Two sentences beside the locator map of a ward's page."""
    w = wards.loc[code]
    assert isinstance(w, pd.Series)
    text = Markup("{name} ranks {rank} of {n} wards for need").format(
        name=w["ward_name"], rank=_figure(code, "need_rank", w["need_rank"]), n=len(wards)
    )
    if {"need_rank_lo", "need_rank_hi"} <= set(wards):
        lo, hi = w["need_rank_lo"], w["need_rank_hi"]
        if str(lo) == str(hi):
            text += Markup(" (rank {} in 90% of simulations)").format(
                _figure(code, "need_rank_lo", lo)
            )
        else:
            text += Markup(" (between {} and {} allowing for uncertainty)").format(
                _figure(code, "need_rank_lo", lo), _figure(code, "need_rank_hi", hi)
            )
    # Worded so no number sits before "children": the disclosure scan reads such
    # phrases as caseload counts.
    text += Markup(". Children aged 0–17 living here: {kids}").format(
        kids=_figure(code, "children", w["children"])
    )
    if {"lsoas_most_deprived_10pc", "lsoas"} <= set(wards):
        text += Markup(
            "; {d} of its {k} neighbourhoods are among the most deprived 10% in England"
        ).format(
            d=_figure(code, "lsoas_most_deprived_10pc", w["lsoas_most_deprived_10pc"]),
            k=_figure(code, "lsoas", w["lsoas"]),
        )
    text += Markup(".")
    if "cluster_label" in wards:
        text += Markup(" It belongs to the group “{}”.").format(
            _figure(code, "cluster_label", w["cluster_label"])
        )
    elif "cluster" in wards:
        text += Markup(" It is in group {} of similar wards.").format(
            _figure(code, "cluster", w["cluster"])
        )
    return text


# --- the page ------------------------------------------------------------------------------


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("needsmap", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def build_report(
    wards: pd.DataFrame,
    ctx: ReportContext,
    *,
    need_map: bytes | None = None,
    locators: Mapping[str, bytes] | None = None,
    benchmark: pd.DataFrame | None = None,
    benchmark_chart: bytes | None = None,
    clusters: pd.DataFrame | None = None,
    sites: pd.DataFrame | None = None,
    sites_summary: str | None = None,
    ward_types: pd.DataFrame | None = None,
    review: pd.DataFrame | None = None,
    provision_note: str = "",
    pilots: pd.DataFrame | None = None,
    provision_date: tuple[dt.date, str] | None = None,
    top_wards: int = 10,
    profiles: int = 100,
    change: ChangeSection | None = None,
    medians: Mapping[str, float | str] | None = None,
) -> str:
    """The board summary as one standalone HTML page.

    Parameters
    ----------
    wards
        The published ward table (suppression applied), indexed by ward code, with
        ``ward_name``, ``need_index``, ``need_rank`` and the indicator columns.
    need_map, benchmark_chart
        PNG images to embed.
    locators
        Ward code -> small PNG locator map, for the profile pages.
    profiles
        How many ward profile pages, most need first.
    change
        The "Change" section (trends and pilot comparisons); left out when None.
    medians
        The caseload rates' medians over every ward (``rate_medians``).
    provision_date
        The date existing provision is counted on, and where it comes from
        (``pilots.provision_date``).
    """
    locators = locators or {}
    ranked = wards.sort_values("need_rank")
    top_header, top_rows = _top_rows(wards, top_wards)
    findings = key_findings(
        wards,
        ctx,
        benchmark=benchmark,
        clusters=clusters,
        sites=sites,
        sites_summary=sites_summary,
    )
    if change is not None and change.headline:
        findings = [*findings, Markup("{}").format(change.headline)]
    ward_pages = [
        {
            "code": code,
            "name": w["ward_name"],
            "rank": int(w["need_rank"]),
            "locator": png_uri(locators[str(code)]) if str(code) in locators else None,
            "rows": ward_profile(str(code), wards, top_n=ctx.top_n, medians=medians),
            "glance": at_a_glance(str(code), wards, ctx),
            "like": wards_like(str(code), wards),
        }
        for code, w in ranked.head(profiles).iterrows()
    ]
    sections = {
        "benchmark": _benchmark_rows(benchmark)
        if benchmark is not None and len(benchmark)
        else None,
        "clusters": _cluster_rows(clusters) if clusters is not None and len(clusters) else None,
        "sites": _sites_rows(pd.DataFrame(sites)) if sites is not None and len(sites) else None,
        "change": change,
        "change_chart": png_uri(change.chart) if change is not None and change.chart else None,
        "change_map": png_uri(change.map) if change is not None and change.map else None,
        "change_table": _change_table(change.benchmark)
        if change is not None and change.benchmark is not None and len(change.benchmark)
        else None,
        "k_rule": _k_rule(clusters),
        "ward_types": _type_rows(ward_types, ctx.area)
        if ward_types is not None and len(ward_types)
        else None,
        "why": list(pd.DataFrame(sites)["why"]) if sites is not None and "why" in sites else [],
        "coverage": sites_summary,
        "provision_note": provision_note,
        "pilots": _pilot_lines(pilots, on=provision_date[0] if provision_date else None),
        "counted_on": f"{_day(pd.Timestamp(provision_date[0]))} ({provision_date[1]})"
        if provision_date
        else "",
        "review": _review_rows(review) if review is not None and len(review) else None,
        "review_caveat": CAVEAT,
    }
    template = _environment().get_template("report.html.j2")
    return template.render(
        ctx=ctx,
        n_wards=len(wards),
        findings=findings,
        need_map=png_uri(need_map) if need_map else None,
        benchmark_chart=png_uri(benchmark_chart) if benchmark_chart else None,
        top_header=top_header,
        top_rows=top_rows,
        sections=sections,
        wards=ward_pages,
        n_profiles=len(ward_pages),
        has_interval={"need_rank_lo", "need_rank_hi"} <= set(wards),
        has_idaci="idaci_score" in wards.columns,
    )


def board_report(
    wards: gpd.GeoDataFrame,
    ctx: ReportContext,
    *,
    comparison: pd.DataFrame | None = None,
    benchmark: pd.DataFrame | None = None,
    clusters: pd.DataFrame | None = None,
    sites: pd.DataFrame | None = None,
    sites_summary: str | None = None,
    ward_types: pd.DataFrame | None = None,
    review: pd.DataFrame | None = None,
    provision_note: str = "",
    pilots: pd.DataFrame | None = None,
    provision_date: tuple[dt.date, str] | None = None,
    need_map: bytes | None = None,
    map_style: style.MapStyle | None = None,
    top_wards: int = 10,
    profiles: int = 100,
    change: ChangeSection | None = None,
    medians: Mapping[str, float | str] | None = None,
) -> str:
    """``build_report`` with its figures drawn: the benchmark chart and locator maps.

    Parameters
    ----------
    wards
        The published ward table with geometry (EPSG:27700).
    comparison
        From ``la_comparison``: drawn as bars, and summarised by ``la_benchmark``
        unless ``benchmark`` is given.
    """
    look = map_style or style.MapStyle()
    if need_map is not None:
        need_map = shrink_png(need_map)
    chart = None
    if (benchmark is None or not len(benchmark)) and comparison is not None:
        benchmark = la_benchmark(comparison)
    if comparison is not None and len(comparison):
        fig = static.benchmark_chart(comparison, ctx.area, measures=MEASURES, map_style=look)
        chart = static.figure_png(fig, dpi=150, font=look.font)
    codes = [str(c) for c in wards.sort_values("need_rank").index[:profiles]]
    locators = static.locator_maps(wards, codes, map_style=look) if codes else {}
    return build_report(
        wards,
        ctx,
        need_map=need_map,
        locators=locators,
        benchmark=benchmark,
        benchmark_chart=chart,
        clusters=clusters,
        sites=sites,
        sites_summary=sites_summary,
        ward_types=ward_types,
        review=review,
        provision_note=provision_note,
        pilots=pilots,
        provision_date=provision_date,
        top_wards=top_wards,
        profiles=profiles,
        change=change,
        medians=medians,
    )


# --- PDF -----------------------------------------------------------------------------------


def find_chromium() -> str | None:
    """Chromium or Chrome on this machine, if any (used headless to print the PDF)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def html_to_pdf(
    html: Path, pdf: Path, *, browser: str | None = None, timeout: float = 120
) -> str | None:
    """Print ``html`` to ``pdf`` with headless Chromium, offline.

    Returns None when the PDF was written, else the reason it was not (no browser,
    or the browser failed), for the run notes.
    """
    browser = browser or find_chromium()
    if browser is None:
        return "no Chromium or Chrome found (install chromium to get report.pdf)"
    # The browser profile lives beside the PDF (in a run, inside its staging folder),
    # so a run killed while printing leaves nothing that the next run does not remove.
    with tempfile.TemporaryDirectory(prefix=".chromium-", dir=pdf.parent) as profile:
        args = [
            browser,
            "--headless=new",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
        try:
            done = subprocess.run(
                args,
                capture_output=True,
                timeout=timeout,
                check=False,
                preexec_fn=die_with_parent,  # noqa: PLW1509 (one system call, no locks)
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"Chromium could not print the report ({type(exc).__name__})"
    if done.returncode != 0 or not pdf.exists() or pdf.read_bytes()[:5] != b"%PDF-":
        pdf.unlink(missing_ok=True)
        return f"Chromium could not print the report (exit code {done.returncode})"
    pdf.write_bytes(pinned_pdf(pdf.read_bytes()))
    return None


_PDF_DATE = re.compile(rb"(/(?:CreationDate|ModDate) ?\(D:)([0-9]{14})")
_PDF_ID = re.compile(rb"(/ID ?\[ ?<)([0-9A-Fa-f]+)(> ?<)([0-9A-Fa-f]+)(>)")


def pinned_pdf(data: bytes) -> bytes:
    """The PDF with its creation and modification times fixed and its /ID derived from
    its content, so two runs print the same bytes.

    Chromium stamps both times and a random document ID; each is replaced by one of the
    same length, so the cross-reference offsets stay true.
    """
    data = _PDF_DATE.sub(rb"\g<1>20000101000000", data)
    digest = hashlib.sha256(_PDF_ID.sub(rb"", data)).hexdigest().encode()

    def same_id(m: re.Match[bytes]) -> bytes:
        first, second = m.group(2), m.group(4)
        return m.group(1) + digest[: len(first)] + m.group(3) + digest[: len(second)] + m.group(5)

    return _PDF_ID.sub(same_id, data)


def write_report(page: str, folder: Path, *, pdf: bool = True) -> tuple[list[Path], str | None]:
    """Write report.html (and report.pdf when asked and possible).

    Returns the paths written and, when the PDF was asked for but not written, why.
    """
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    written = [path]
    note = None
    if pdf:
        reason = html_to_pdf(path, folder / "report.pdf")
        if reason is None:
            written.append(folder / "report.pdf")
        else:
            note = f"report.pdf not written: {reason}"
    return written, note
