"""One plain-English vocabulary for every column, layer and service type.

Every output a councillor reads (the interactive and board maps, the report, the
workbook and the notebooks) takes its words from here: a column's plain label, its
unit, which way is "more need", and one sentence saying what it means. Service types
get one label, colour and map symbol each, the same on every map.

Adding a column is one line in ``TERMS`` (or in ``FAMILIES`` for a family of columns
such as one per caseload measure or per service type). A test fails when a published
column or map layer has no entry, so nothing reaches a reader as a raw column name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

MORE_NEED = "higher = more need"
LESS_NEED = "higher = less need"
MORE_ACCESS = "higher = better access"
NEUTRAL = ""

PER_10K = "per 10,000 children aged 0–17"
"""The DfE definition of a caseload rate."""
SCORE = "score"
PERCENT = "%"
POINTS = "percentage points"
YEAR = "year"
"""A calendar or financial year ending (2025): a number never written "2,025"."""


@dataclass(frozen=True)
class Term:
    """How one column reads, in plain words."""

    label: str
    """Short plain label, sentence case: "Children in need rate"."""
    meaning: str
    """One sentence a councillor can read without a glossary."""
    unit: str = ""
    """What the number counts, e.g. "per 10,000 children aged 0–17"; "" for text."""
    direction: str = NEUTRAL
    """Which way is more need, e.g. "higher = more need"; "" where neither."""
    digits: int = 1
    """Decimal places when shown as a number."""
    short: str = ""
    """A shorter label for a narrow table column ("Rank"); "" when the label is short."""
    per_100: bool = False
    """True when a percentage (or percentage points) is stored out of 100, as DWP
    publishes it (12.6); False when stored as a share out of 1 (0.126)."""

    @property
    def header(self) -> str:
        """Label with its unit, for a table header: "Children in need (per 10,000 ...)"."""
        said = self.unit.split(" ")[0].lower() in self.label.lower()  # "Children ... (children)"
        unit = f" ({self.unit})" if self.unit and self.unit != SCORE and not said else ""
        return f"{self.label}{unit}"

    @property
    def explained(self) -> str:
        """The meaning and the direction in one line, for legends and glossaries."""
        tail = f" ({self.direction}.)" if self.direction else ""
        return f"{self.meaning}{tail}"


def _t(
    label: str,
    meaning: str,
    unit: str = "",
    direction: str = NEUTRAL,
    digits: int = 1,
    *,
    short: str = "",
    per_100: bool = False,
) -> Term:
    return Term(label, meaning, unit, direction, digits, short, per_100)


# --- single columns -----------------------------------------------------------------

# fmt: off
TERMS: dict[str, Term] = {
    "ward_code": _t("Ward code", "The ward's ONS code (2024 boundaries)."),
    "ward_name": _t("Ward", "The electoral ward's name."),
    "population": _t("Population", "People living in the ward (ONS mid-year estimate).", "", digits=0),
    "children": _t("Children aged 0–17", "Children living in the ward (ONS mid-year estimate).", "children", digits=0, short="Children"),
    "children_0_15": _t("Children aged 0–15", "Children aged 0–15 living in the ward, who weight the child poverty score.", "children", digits=0),
    "lsoas": _t("Neighbourhoods (LSOAs)", "Small census neighbourhoods of about 1,500 people in the ward (lower-layer super output areas).", "neighbourhoods", digits=0),
    "lsoas_2019": _t("Neighbourhoods in 2019 (LSOAs)", "The ward's share of 2011 census neighbourhoods, used for the 2019 deprivation figures.", "neighbourhoods", digits=1),
    "imd_score": _t("Overall deprivation score", "How deprived the ward's neighbourhoods are overall, from the English Indices of Deprivation 2025, averaged over residents.", SCORE, MORE_NEED, 1, short="Overall deprivation"),
    "idaci_score": _t("Child poverty score", "Share of children aged 0–15 living in income-deprived families (IDACI), averaged over the ward's children.", "share of children (0–1)", MORE_NEED, 3, short="Child poverty"),
    "idaopi_score": _t("Older people's poverty score", "Share of people aged 60 and over who are income deprived (IDAOPI).", "share of older people (0–1)", MORE_NEED, 3, short="Older people's poverty"),
    "lsoas_most_deprived_10pc": _t("Neighbourhoods in England's most deprived 10%", "How many of the ward's neighbourhoods are in the most deprived tenth of England.", "neighbourhoods", MORE_NEED, 0),
    "lsoas_most_deprived_20pc": _t("Neighbourhoods in England's most deprived 20%", "How many of the ward's neighbourhoods are in the most deprived fifth of England.", "neighbourhoods", MORE_NEED, 0),
    "idaci_lsoas_most_deprived_20pc": _t("Neighbourhoods in England's worst 20% for child poverty", "How many of the ward's neighbourhoods are in the fifth of England with most child poverty.", "neighbourhoods", MORE_NEED, 0),
    "need_index": _t("Need index", "One score combining child poverty, overall deprivation and caseload rates; 0 is the area's average ward, 1 is one standard deviation above it.", "standard deviations from the area average", MORE_NEED, 2),
    "need_rank": _t("Need rank", "The ward's place by need index: 1 is the ward with most need.", "1 = most need", LESS_NEED, 0, short="Rank"),
    "need_rank_median": _t("Need rank (typical)", "The ward's middle rank across 1,000 simulations that vary the weights and the small numbers.", "1 = most need", LESS_NEED, 0),
    "need_rank_lo": _t("Need rank: best case", "The highest-need rank the ward reaches in 9 of 10 simulations (lower end of a 90% range).", "1 = most need", LESS_NEED, 0),
    "need_rank_hi": _t("Need rank: worst case", "The lowest-need rank the ward reaches in 9 of 10 simulations (upper end of a 90% range).", "1 = most need", LESS_NEED, 0),
    "p_top5": _t("Chance of being in the top 5 for need", "In how many of 1,000 simulations the ward is among the 5 wards of most need.", PERCENT, MORE_NEED, 0, short="Chance in top 5"),
    "cluster": _t("Group of similar wards (number)", "Wards with a similar mix of deprivation and caseload share a group; 1 is the group with most need.", "1 = most need", NEUTRAL, 0),
    "cluster_label": _t("Group of similar wards", "Wards with a similar mix of deprivation and caseload, named by what sets them apart."),
    "cluster_stability": _t("How often the ward stays in its group", "Share of re-samplings of the wards in which this ward lands in the same group.", PERCENT, NEUTRAL, 0),
    "child_poverty_pct": _t("Children in low income families (%)", "Share of children aged 0–15 in families with relative low income before housing costs, latest year (DWP, provisional).", PERCENT, MORE_NEED, 1, short="In low income families (%)", per_100=True),
    "child_poverty_children": _t("Children in low income families", "Children aged 0–15 in families with relative low income before housing costs, latest year (DWP).", "children", MORE_NEED, 0),
    "child_poverty_pct_first": _t("Children in low income families, first year (%)", "The same share in the first year of DWP's series (financial year ending 2022).", PERCENT, MORE_NEED, 1, per_100=True),
    "child_poverty_fye": _t("Child poverty: latest year", "Financial year ending of the latest DWP figure (2025 = April 2024 to March 2025).", YEAR, NEUTRAL, 0),
    "child_poverty_fye_first": _t("Child poverty: first year", "Financial year ending of the first DWP figure in the series.", YEAR, NEUTRAL, 0),
    "child_poverty_change": _t("Change in children in low income families", "Latest share minus the first year's.", "percentage points", MORE_NEED, 1, per_100=True),
    "child_poverty_trend": _t("Child poverty trend", "Whether the share of children in low income families is rising, falling or not clearly changing (weighted trend test, 95%)."),
    "child_poverty_trend_per_year": _t("Child poverty: change a year", "Average change a year in the share of children in low income families.", "percentage points a year", MORE_NEED, 2, per_100=True),
    "child_poverty_trend_lower": _t("Child poverty: change a year, low end", "Lower end of the 95% range for the change a year.", "percentage points a year", MORE_NEED, 2, per_100=True),
    "child_poverty_trend_upper": _t("Child poverty: change a year, high end", "Upper end of the 95% range for the change a year.", "percentage points a year", MORE_NEED, 2, per_100=True),
    "child_poverty_ahc_pct": _t("Children in low income families after housing costs (%)", "Share of children aged 0–15 in families with relative low income after housing costs, latest year (DWP).", PERCENT, MORE_NEED, 1, per_100=True),
    "area": _t("Area", "The council, England, or the middle of the council's statistical neighbours."),
    "change_points": _t("Change (percentage points)", "Latest year's share minus the first year's.", "percentage points", MORE_NEED, 1, per_100=True),
    "ward_type": _t("National ward type (number)", "Which of 8 types of ward in England this ward is most like, from deprivation, child poverty and its change, age mix and connectivity.", "", NEUTRAL, 0),
    "ward_type_name": _t("National ward type", "The national type of ward, named by what sets it apart from the average English ward."),
    "similar_wards": _t("Similar wards elsewhere in England", "The five wards in other councils whose deprivation, child poverty, age mix and connectivity are closest to this ward's."),
    "la_wards": _t("Wards of this type here", "How many of the council's wards are of this national type.", "wards", NEUTRAL, 0),
    "la_share": _t("Share of the council's children", "Share of the council's children aged 0–15 who live in wards of this type.", "share (0–1)", NEUTRAL, 3),
    "neighbour_share": _t("Share of statistical neighbours' children", "The same share across the council's DfE statistical neighbours together.", "share (0–1)", NEUTRAL, 3),
    "england_share": _t("Share of England's children", "The same share across all of England.", "share (0–1)", NEUTRAL, 3),
    "choice_ari": _t("How repeatable the groups are, for choosing k", "Agreement between groupings of re-sampled wards for this number of groups (adjusted Rand index), used in choosing it: 1 = identical every time.", SCORE, NEUTRAL, 2),
    "locality": _t("Commissioning area", "Neighbouring wards with similar need, grouped into areas a service could cover."),
    "locality_id": _t("Commissioning area (number)", "The commissioning area's number.", "", NEUTRAL, 0),
    "hotspot": _t("Hot spots and cold spots of need", "Whether the ward and its neighbours together have unusually high need (hot spot) or low need (cold spot), or a ward differs from its neighbours."),
    "local_moran_i": _t("Similarity to neighbours", "Local Moran's I: positive when the ward's need is like its neighbours', negative when it differs.", SCORE, NEUTRAL, 2),
    "local_moran_p": _t("Chance the pattern is luck", "Pseudo p-value from 999 shuffles; below 0.05 the pattern is unlikely to be chance.", "probability (0–1)", NEUTRAL, 3),
    "access_index": _t("Access to services", "How many services children can reach, against the area's average (1 = average, 2 = twice the average).", "times the area average", MORE_ACCESS, 2),
    "gap_score": _t("Access gap", "How far the ward's need is above its access to services; positive = more need than access, 0 = they match.", "standard deviations", MORE_NEED, 2),
    "caseload_period": _t("Caseload date", "The date the ward caseload counts refer to."),
    "caseload_source": _t("Caseload source", "Where the caseload counts come from; \"synthetic\" means made up for illustration, not real figures."),
    "share_covered_now": _t("Share of children near a service now", "Share of the ward's children within reach of an existing service of the kinds counted for siting.", PERCENT, MORE_ACCESS, 0),
    "share_covered_after": _t("Share of children near a service with the recommended sites", "The same share once the recommended sites are open.", PERCENT, MORE_ACCESS, 0),
    "children_covered_now": _t("Children near a service now", "Children in the ward within reach of an existing service.", "children", MORE_ACCESS, 0),
    "children_covered_after": _t("Children near a service with the recommended sites", "Children within reach once the recommended sites are open.", "children", MORE_ACCESS, 0),
    "need": _t("Need-weighted children", "Children counted between 1 (least needy ward) and 2 (most needy ward), so that sites favour high-need wards.", "need-weighted children", MORE_NEED, 0),
    "need_covered_now": _t("Need-weighted children near a service now", "Need-weighted children within reach of an existing service.", "need-weighted children", MORE_ACCESS, 0),
    "need_covered_after": _t("Need-weighted children near a service with the recommended sites", "The same once the recommended sites are open.", "need-weighted children", MORE_ACCESS, 0),
    "need_share_covered_now": _t("Share of need near a service now", "Share of need-weighted children within reach of an existing service.", PERCENT, MORE_ACCESS, 0),
    "need_share_covered_after": _t("Share of need near a service with the recommended sites", "The same share once the recommended sites are open.", PERCENT, MORE_ACCESS, 0),
    # recommended_sites.csv
    "order": _t("Order chosen", "The order the sites were picked in: site 1 adds the most on its own.", "", NEUTRAL, 0, short="Order"),
    "site_id": _t("Site reference", "The site's reference in the services file."),
    "name": _t("Name", "The service's or site's name, as in the services file."),
    "type": _t("Type of service", "What kind of service the site is (school, GP practice, ...).", short="Type"),
    "children_covered": _t("Children newly within reach", "Children who are within reach of this site and of no existing service or earlier site.", "children", MORE_ACCESS, 0),
    "need_covered": _t("Need-weighted children newly within reach", "Children newly within reach, counted between 1 and 2 by their ward's need, so high-need wards count more.", "need-weighted children", MORE_ACCESS, 0),
    "wards_served": _t("Wards served", "Wards with children newly within reach of the site."),
    "share_covered_cumulative": _t("Children within reach, with this and earlier sites", "Share of the area's children within reach of a service once this site and those before it are open.", PERCENT, MORE_ACCESS, 0, short="Share of children within reach"),
    "easting": _t("Easting", "British National Grid easting.", "metres", NEUTRAL, 0),
    "northing": _t("Northing", "British National Grid northing.", "metres", NEUTRAL, 0),
    "lon": _t("Longitude", "Longitude (WGS84).", "degrees", NEUTRAL, 5),
    "lat": _t("Latitude", "Latitude (WGS84).", "degrees", NEUTRAL, 5),
    "chosen_by": _t("How the sites were chosen", "Whether a solver chose the sites and proved that no other set reaches more need, or they were picked one at a time; when not proven best, how far short of the best possible they can be."),
    "category": _t("Kind of school", "Mainstream, special, independent or college: only mainstream schools are candidates by default."),
    "phase": _t("School phase", "Primary, secondary, all-through or nursery (DfE Get Information about Schools)."),
    "pupils": _t("Pupils", "Pupils on roll (DfE school census).", "pupils", NEUTRAL, 0),
    "fsm_share": _t("Pupils eligible for free school meals", "Share of the school's pupils eligible for free school meals.", PERCENT, MORE_NEED, 0),
    "ward_need_ranks": _t("Wards served and their need ranks", "The wards the site serves, each with its need rank (1 = most need)."),
    "nearest_provision": _t("Nearest existing provision", "The nearest family hub, children's centre or pilot already there."),
    "nearest_provision_m": _t("Distance to the nearest existing provision", "Straight-line distance from the site to the nearest existing provision.", "metres", NEUTRAL, 0),
    "next_best": _t("Next-best site", "The site that would have been chosen instead at this step."),
    "next_best_need": _t("Need-weighted children the next-best site reaches", "Need-weighted children newly within reach of the next-best site.", "need-weighted children", MORE_ACCESS, 0),
    "children_beyond_next_best": _t("Children reached that the next-best site would not", "Children this site brings within reach that the next-best site would not.", "children", MORE_ACCESS, 0),
    "need_beyond_next_best": _t("Need-weighted children reached that the next-best site would not", "The same, weighted by need.", "need-weighted children", MORE_ACCESS, 0),
    "why": _t("Why this site", "Why the site was chosen, in words."),
    # review_before_commissioning.csv (and the wards' review column)
    "review": _t("Review before commissioning more", "Wards with low need and good access, flagged as a prompt for review, not a decision to close or cut."),
    "kind": _t("Ward or site", "Whether the row is a ward or an existing site."),
    "code": _t("Code", "The ward's code or the site's reference."),
    "need_in_reach": _t("Need-weighted children in reach", "Need-weighted children within the existing site's catchment.", "need-weighted children", MORE_NEED, 0),
    "read_as": _t("How to read this", "A prompt for review, not a decision to close or cut."),
    # la_benchmark.csv
    "measure": _t("Measure", "The Department for Education measure."),
    "caseload_measure": _t("Ward column", "The ward table's column for the same measure."),
    "year": _t("Year", "Year ending 31 March of the DfE figures.", YEAR, NEUTRAL, 0),
    "la_number": _t("Council's number", "The council's count of children, as DfE publishes it.", "children", MORE_NEED, 0),
    "la_rate": _t("Council's rate", "The council's rate, as DfE publishes it.", PER_10K, MORE_NEED, 1),
    "england_rate": _t("England rate", "England's rate.", PER_10K, MORE_NEED, 1),
    "neighbour_median": _t("Similar councils: middle rate", "The middle rate of the council's statistical neighbours (the 10 councils most like it).", PER_10K, MORE_NEED, 1),
    "neighbour_mean": _t("Similar councils: average rate", "The average rate of the council's statistical neighbours.", PER_10K, MORE_NEED, 1),
    "neighbour_min": _t("Similar councils: lowest rate", "The lowest rate among the statistical neighbours.", PER_10K, MORE_NEED, 1),
    "neighbour_max": _t("Similar councils: highest rate", "The highest rate among the statistical neighbours.", PER_10K, MORE_NEED, 1),
    "neighbours": _t("Similar councils with figures", "How many statistical neighbours have a published rate.", "councils", NEUTRAL, 0),
    "la_vs_england": _t("Council's rate minus England's", "How far the council's rate is above England's (below it when negative).", PER_10K, MORE_NEED, 1),
    "la_rank_among_neighbours": _t("Council's place among similar councils (1 = highest rate)", "The council's place when it and its statistical neighbours are ordered from highest rate (1) to lowest.", "", LESS_NEED, 0),
    "trend_from": _t("Trend from", "The first year of the five-year trend.", YEAR, NEUTRAL, 0),
    "la_rate_then": _t("Council's rate then", "The council's rate in the first year of the trend.", PER_10K, MORE_NEED, 1),
    "la_change": _t("Change in council's rate", "The council's rate now minus five years before.", PER_10K, MORE_NEED, 1),
    "england_change": _t("Change in England rate", "England's rate now minus five years before.", PER_10K, MORE_NEED, 1),
    "neighbour_median_change": _t("Change in similar councils' middle rate", "The neighbours' middle rate now minus five years before.", PER_10K, MORE_NEED, 1),
    # clusters.csv
    "section": _t("Table part", "Which part of the table the row belongs to: groups of similar wards, commissioning areas, or the choice of the number of groups."),
    "group": _t("Group number", "The group's or area's number.", "", NEUTRAL, 0),
    "label": _t("Group name", "The group's name in plain words."),
    "description": _t("What sets the group apart", "The measures on which the group differs most from the area's average."),
    "k": _t("Number of groups tried", "The number of groups the wards were split into.", "groups", NEUTRAL, 0),
    "silhouette": _t("How distinct the groups are", "Mean silhouette: near 1 the groups are well apart, near 0 they overlap.", SCORE, NEUTRAL, 2),
    "calinski_harabasz": _t("Group separation (Calinski–Harabasz)", "Spread between groups against spread within them: higher = more distinct groups.", SCORE, NEUTRAL, 1),
    "chosen": _t("Chosen", "True for the number of groups used."),
    "bootstrap_ari": _t("How repeatable the groups are", "Agreement between groupings of re-sampled wards (adjusted Rand index): 1 = identical every time.", SCORE, NEUTRAL, 2),
    "need_index_mean": _t("Need index: group average", "The group's average need index.", "standard deviations from the area average", MORE_NEED, 2),
    "stability_mean": _t("How often wards stay in the group: average", "The group's average of how often its wards stay in it when the wards are re-sampled.", PERCENT, NEUTRAL, 0),
    "wards": _t("Wards", "How many wards the group holds.", "wards", NEUTRAL, 0),
    "ward_names": _t("Ward names", "The wards in the group."),
    # sensitivity.csv
    "indicator": _t("Measure whose weight moved", "The measure whose weight in the need index was moved."),
    "change": _t("Change to its weight", "How much the weight was moved (for example -50% or +50%)."),
    "weight": _t("Weight after the change", "The measure's weight after the change.", "", NEUTRAL, 2),
    "weight_share": _t("Share of all weights", "The measure's weight as a share of all the weights, after the change.", PERCENT, NEUTRAL, 0),
    "top_wards": _t("Wards of most need", "The wards in the top places after the change, most need first."),
    "enter": _t("Wards that join the top", "Wards that enter the top places after the change."),
    "leave": _t("Wards that drop out of the top", "Wards that leave the top places after the change."),
    "top_changed": _t("Top wards change", "True when any ward enters or leaves the top places."),
    "max_rank_shift": _t("Largest move in rank", "The most places any ward moves.", "places", NEUTRAL, 0),
    # services_unplaced.csv
    "source": _t("File", "The services file the row came from."),
    "row": _t("Row", "The row in that file.", "", NEUTRAL, 0),
    "postcode": _t("Postcode", "The postcode given for the service."),
    "reason": _t("Why it could not be placed", "Why the service's location could not be found."),
}
# fmt: on

# --- families of columns: one entry covers each member ---------------------------------

CASELOAD = {
    "children_in_need": "children in need",
    "child_protection_plans": "child protection plans",
    "looked_after_children": "looked-after children",
}
"""Caseload measures, in words (lower case: they sit mid-sentence)."""

DOMAINS = {
    "income": "income",
    "employment": "employment",
    "education": "education and skills",
    "health": "health and disability",
    "crime": "crime",
    "housing_and_services": "barriers to housing and services",
    "environment": "living environment",
}

TYPE_FEATURES = {
    "income_score": "income deprivation",
    "employment_score": "employment deprivation",
    "education_score": "education deprivation",
    "health_score": "health deprivation",
    "crime_score": "crime",
    "housing_and_services_score": "barriers to housing and services",
    "environment_score": "living-environment deprivation",
    "child_poverty_pct": "child poverty",
    "child_poverty_change": "rise in child poverty",
    "connectivity_score": "transport connectivity",
    "share_age_0_15": "children",
    "share_age_16_24": "young adults (16-24)",
    "share_age_25_34": "adults 25-34",
    "share_age_35_49": "adults 35-49",
    "share_age_50_64": "adults 50-64",
    "share_age_65_plus": "older people (65+)",
}
"""The national ward typology's features in words, mid-sentence: a type is named by
its three most distinctive ("high child poverty, low older people (65+), ...")."""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _rate(measure: str) -> str:
    """A caseload measure's rate, mid-sentence: "child protection plan rate"."""
    return CASELOAD[measure].replace(" plans", " plan") + " rate"


def day(text: str) -> str:
    """A date as a reader writes it: ``"2025-03-31"`` -> ``"31 March 2025"``; other text
    (a period such as "latest") stays as it is."""
    try:
        when = dt.date.fromisoformat(str(text))
    except ValueError:
        return str(text)
    return f"{when.day} {when:%B %Y}"


def financial_year(fye: int | float) -> str:
    """A financial year as councils write it: ``2025`` (year ending March 2025) -> ``2024/25``."""
    year = int(fye)
    return f"{year - 1}/{year % 100:02d}"


def mid(text: str) -> str:
    """A label mid-sentence: "School" -> "school"; acronyms stay ("GP practice", "IMD")."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


Family = tuple[str, Callable[..., Term]]
"""A regular expression over column names, and a function of its named groups."""

# fmt: off
FAMILIES: tuple[Family, ...] = (
    (r"(?P<m>{caseload})", lambda m: _t(_sentence(CASELOAD[m]), f"Number of {CASELOAD[m]} in the ward at the latest date.", "children", MORE_NEED, 0)),
    (r"(?P<m>{caseload})_first", lambda m: _t(f"{_sentence(CASELOAD[m])} (first period)", f"Number of {CASELOAD[m]} at the first date in the caseload file.", "children", MORE_NEED, 0)),
    (r"(?P<m>{caseload})_rate", lambda m: _t(f"{_sentence(_rate(m))}", f"{_sentence(CASELOAD[m])} for every 10,000 children living in the ward.", PER_10K, MORE_NEED, 0, short=_sentence(CASELOAD[m]))),
    (r"(?P<m>{caseload})_rate_lower", lambda m: _t(f"{_sentence(_rate(m))}: low end", f"Lower end of the 95% range for the {_rate(m)}.", PER_10K, MORE_NEED, 0)),
    (r"(?P<m>{caseload})_rate_upper", lambda m: _t(f"{_sentence(_rate(m))}: high end", f"Upper end of the 95% range for the {_rate(m)}.", PER_10K, MORE_NEED, 0)),
    (r"(?P<m>{caseload})_rate_unreliable", lambda m: _t(f"{_sentence(_rate(m))} is uncertain", "True when so few children are counted that the 95% range is wider than the rate itself.", "yes/no")),
    (r"(?P<m>{caseload})_rate_index", lambda m: _t(f"{_sentence(_rate(m))} used in the need index", "The published rate; for a ward whose count is hidden, a stand-in made only from published figures.", PER_10K, MORE_NEED, 0)),
    (r"(?P<m>{caseload})_rate_standin", lambda m: _t(f"{_sentence(CASELOAD[m])}: pooled rate used", "True when the ward's count is hidden and the need index uses a stand-in made only from published figures.", "yes/no")),
    (r"(?P<m>{caseload})_rate_change", lambda m: _t(f"Change in {_rate(m)}", f"Latest {_rate(m)} minus the first period's.", PER_10K, MORE_NEED, 0)),
    (r"(?P<m>{caseload})_trend", lambda m: _t(f"{_sentence(CASELOAD[m])}: trend", f"Whether the {_rate(m)} is rising, falling or not clearly changing across every period (weighted trend test, 95%).")),
    (r"(?P<m>{caseload})_trend_per_year", lambda m: _t(f"{_sentence(_rate(m))}: change a year", f"The {_rate(m)}'s average change a year across every period.", PER_10K, MORE_NEED, 1)),
    (r"(?P<m>{caseload})_trend_lower", lambda m: _t(f"{_sentence(_rate(m))}: change a year, low end", "Lower end of the 95% range for the change a year.", PER_10K, MORE_NEED, 1)),
    (r"(?P<m>{caseload})_trend_upper", lambda m: _t(f"{_sentence(_rate(m))}: change a year, high end", "Upper end of the 95% range for the change a year.", PER_10K, MORE_NEED, 1)),
    (r"(?P<d>{domain})_score", lambda d: _t(f"{_sentence(DOMAINS[d])} deprivation score", f"How deprived the ward's neighbourhoods are on {DOMAINS[d]}, averaged over residents.", SCORE, MORE_NEED, 1 if d != "income" and d != "employment" else 3, short=f"{_sentence(DOMAINS[d])} deprivation")),
    (r"(?P<p>idaci_)?lsoas_most_deprived_(?P<n>10|20)pc_2019", lambda p, n: _t(f"Neighbourhoods in England's most deprived {n}%{' for child poverty' if p else ''} (2019)", "The same count in the 2019 Indices, on 2011 neighbourhoods.", "neighbourhoods", MORE_NEED, 1)),
    (r"(?P<p>idaci_)?share_most_deprived_(?P<n>10|20)pc", lambda p, n: _t(f"Share of neighbourhoods in England's most deprived {n}%{' for child poverty' if p else ''}", f"Share of the ward's neighbourhoods in England's most deprived {n}%{' for child poverty' if p else ''} (2025).", PERCENT, MORE_NEED, 0)),
    (r"(?P<p>idaci_)?share_most_deprived_(?P<n>10|20)pc_2019", lambda p, n: _t(f"Share in England's most deprived {n}%{' for child poverty' if p else ''} (2019)", "The same share in the 2019 Indices.", PERCENT, MORE_NEED, 0)),
    (r"(?P<p>idaci_)?share_most_deprived_(?P<n>10|20)pc_change", lambda p, n: _t(f"Change in share in England's most deprived {n}%{' for child poverty' if p else ''}", "2025 share minus 2019 share: positive means more of the ward is among England's most deprived than in 2019.", "percentage points", MORE_NEED, 0)),
    (r"mean_z_(?P<c>\w+)", lambda c: _t(f"{term(c).label}: group average", f"The group's average {term(c).label.lower()}, in standard deviations from the area's average.", "standard deviations", term(c).direction, 2)),
    (r"dist_(?P<s>\w+)_m", lambda s: _t(f"Distance to the nearest {mid(service(s).label)}", f"Average straight-line distance from children's homes to the nearest {mid(service(s).label)}.", "metres", MORE_NEED, 0)),
    (r"share_within_(?P<s>\w+)", lambda s: _t(f"Share of children near a {mid(service(s).label)}", f"Share of the ward's children living within the catchment of a {mid(service(s).label)}.", PERCENT, MORE_ACCESS, 0)),
    (r"per_1000_children_(?P<s>\w+)", lambda s: _t(f"{service(s).plural} per 1,000 children", f"{service(s).plural} in the ward for every 1,000 children living there.", "per 1,000 children", MORE_ACCESS, 1)),
    (r"access_2sfca_(?P<s>\w+)", lambda s: _t(f"Access to {mid(service(s).plural)}", f"{service(s).plural} within reach, shared among all the children who can reach them (two-step floating catchment).", "capacity per 1,000 children", MORE_ACCESS, 2)),
    (r"(?P<y>\d{{4}}/\d{{2}})", lambda y: _t(f"Children in low income families, {y} (%)", f"Share of children aged 0–15 in families with relative low income before housing costs in the financial year {y} (DWP).", PERCENT, MORE_NEED, 1, per_100=True)),
    (r"access_e2sfca_(?P<s>\w+)", lambda s: _t(f"Access to {mid(service(s).plural)} (nearer counts more)", f"As access to {mid(service(s).plural)}, with nearer services counting more (enhanced two-step floating catchment).", "capacity per 1,000 children", MORE_ACCESS, 2)),
)
# fmt: on


def _pattern(regex: str) -> re.Pattern[str]:
    filled = regex.format(caseload="|".join(CASELOAD), domain="|".join(DOMAINS))
    return re.compile(filled)


_FAMILIES = tuple((_pattern(r), make) for r, make in FAMILIES)


def lookup(column: str) -> Term | None:
    """The term for a column, or None if it has no entry."""
    if column in TERMS:
        return TERMS[column]
    for pattern, make in _FAMILIES:
        found = pattern.fullmatch(column)
        if found:
            return make(**found.groupdict())
    return None


def term(column: str) -> Term:
    """The term for a column; a column with no entry reads as its name in words."""
    found = lookup(column)
    if found is not None:
        return found
    return Term(_sentence(column.replace("_", " ")), "")


def label(column: str) -> str:
    """The plain label of a column: ``"imd_score"`` -> ``"Overall deprivation score"``."""
    return term(column).label


def short(column: str) -> str:
    """The label for a narrow table column: ``"need_rank"`` -> ``"Rank"``."""
    found = term(column)
    return found.short or found.label


def phrase(column: str) -> str:
    """The label mid-sentence: ``"imd_score"`` -> ``"overall deprivation score"``."""
    return mid(label(column))


def missing(columns: Iterable[str]) -> list[str]:
    """Columns with no entry (a test keeps this empty for every published column)."""
    return [c for c in columns if lookup(str(c)) is None]


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with plain headers (label and unit) for reading, e.g. in a
    notebook; the index is left as it is."""
    return frame.rename(columns={c: term(str(c)).header for c in frame.columns})


def glossary(columns: Iterable[str]) -> list[tuple[str, str, str, str, str]]:
    """(column, label, unit, direction, meaning) for each column, in the order given."""
    rows = []
    for c in columns:
        t = term(str(c))
        rows.append((str(c), t.label, t.unit, t.direction, t.meaning))
    return rows


# --- categories: what a category column's values say to a reader ---------------------

CATEGORY_WORDS: dict[str, dict[str, str]] = {
    "kind": {"ward": "Ward", "existing provision": "Existing provision"},
    "section": {
        "cluster": "Group of similar wards",
        "locality": "Commissioning area",
        "k_selection": "Choosing the number of groups",
    },
    "measure": {
        "children_in_need_at_31_march": "Children in need at 31 March",
        "child_protection_plans_at_31_march": "Child protection plans at 31 March",
        "children_looked_after_at_31_march": "Looked-after children at 31 March",
        "children_starting_to_be_looked_after": "Children starting to be looked after in the year",
        "children_ceasing_to_be_looked_after": "Children ceasing to be looked after in the year",
    },
    "hotspot": {
        "High-High (hot spot)": "Hot spot: high need, neighbours high too",
        "Low-Low (cold spot)": "Cold spot: low need, neighbours low too",
        "High-Low (outlier)": "High need among low-need neighbours",
        "Low-High (outlier)": "Low need among high-need neighbours",
        "Not significant": "No clear pattern",
    },
}
"""Column -> stored value -> the words maps and tables show."""
CODED = frozenset({*CATEGORY_WORDS, "type", "caseload_measure", "locality"})
"""Columns whose cells hold codes (``school``, ``ward``) that a table shows as words, with
``category``; the CSV files keep the codes."""


for _long, _words in list(CATEGORY_WORDS["hotspot"].items()):  # "High-High" too
    CATEGORY_WORDS["hotspot"][_long.split(" (")[0]] = _words


def category(column: str, value: object) -> str:
    """A category as a reader sees it: ``("hotspot", "Low-High (outlier)")`` ->
    "Low need among high-need neighbours"; commissioning areas read "Area 2"."""
    text = str(value)
    if column == "type":
        return PILOT.label if text == "pilot" else service(text).label
    if column == "caseload_measure":
        return label(text) if text in CASELOAD else text
    if column == "locality":
        number = text.removeprefix("Locality ").removesuffix(".0")
        return f"Area {number}" + (" (most need)" if number == "1" else "")
    return CATEGORY_WORDS.get(column, {}).get(text, text)


# --- service types: one label, colour and symbol each, on every map -------------------


@dataclass(frozen=True)
class Service:
    """How one service type reads and looks, on every map."""

    label: str
    """One service, sentence case: "GP practice"."""
    plural: str
    colour: str
    shape: str
    """One of ``SHAPES``: the interactive map's SVG and the board map's marker."""


SHAPES = ("circle", "square", "diamond", "triangle", "hexagon", "pentagon", "down", "cross")
"""Marker shapes for service types; the star is kept for existing pilots."""

SERVICES: dict[str, Service] = {
    "school": Service("School", "Schools", "#009E73", "circle"),
    "gp_practice": Service("GP practice", "GP practices", "#0072B2", "square"),
    "library": Service("Library", "Libraries", "#CC79A7", "diamond"),
    "family_hub": Service("Family hub", "Family hubs", "#D55E00", "triangle"),
    "childrens_centre": Service("Children's centre", "Children's centres", "#E69F00", "hexagon"),
    "early_help": Service("Early Help service", "Early Help services", "#56B4E9", "pentagon"),
}
"""Known types. Others get a colour and shape from their name alone, so adding a file of
one type never changes another type's symbol."""

PILOT = Service("Existing pilot", "Existing pilots", "#000000", "star")
SITE = Service("Recommended site", "Recommended sites", "#6a1b9a", "numbered square")

_SPARE_COLOURS = ("#F0E442", "#56B4E9", "#999999", "#882255", "#117733", "#44AA99")


def _plural(label: str) -> str:
    if label.endswith("y") and label[-2:-1] not in tuple("aeiou"):
        return label[:-1] + "ies"
    if label.endswith(("s", "x", "z", "ch", "sh")):
        return label + "es"
    return label + "s"


def service(kind: str) -> Service:
    """Label, colour and shape of a service type: ``"gp_practice"`` -> GP practice."""
    if kind in SERVICES:
        return SERVICES[kind]
    key = sum(map(ord, kind))
    name = _sentence(kind.replace("_", " "))
    return Service(
        name, _plural(name), _SPARE_COLOURS[key % len(_SPARE_COLOURS)], SHAPES[key % len(SHAPES)]
    )


def service_count(kind: str, n: int) -> str:
    """A service type with how many there are, as every map's legend reads it:
    ``("family_hub", 3)`` -> "Family hubs (3)"; ``("pilot", 1)`` -> "Existing pilot (1)"."""
    look = PILOT if kind == "pilot" else service(kind)
    return f"{look.label if n == 1 else look.plural} ({n:,})"


def service_number(kind: str, n: int) -> str:
    """How many services of a type, mid-sentence: ``("school", 12)`` -> "12 schools",
    ``("gp_practice", 1)`` -> "1 GP practice"."""
    look = service(kind)
    return f"{n:,} {mid(look.label if n == 1 else look.plural)}"
