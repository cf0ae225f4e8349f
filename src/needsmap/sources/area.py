"""An area bundle: the folder of public data for one local authority (data/wirral)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from needsmap.errors import InputError
from needsmap.geography import lsoa_ward_shares, main_ward, ward_coverage
from needsmap.sources._table import read_table, rows_where, to_numbers
from needsmap.sources.boundaries import load_lsoa_boundaries, load_ward_boundaries
from needsmap.sources.caseload import Caseload, load_caseload
from needsmap.sources.child_poverty import load_child_poverty, load_child_poverty_areas
from needsmap.sources.postcodes import load_postcodes

DOMAINS = (
    "imd",
    "income",
    "employment",
    "education",
    "health",
    "crime",
    "housing_and_services",
    "environment",
)
IOD2025_SCORES = tuple(f"{d}_score" for d in DOMAINS)
IOD2025_RANKS = ("imd_rank", "imd_decile")
IOD2025_CHILDREN = ("idaci_score", "idaopi_score", "idaci_rank", "idaci_decile")
"""Read when the deprivation file has them (the Wirral bundle; not the England data)."""
POPULATION = ("population", "children_0_15", "children")
POPULATION_OPTIONAL = ("population_60_plus",)
"""Read when the population file has it (IDAOPI's denominator: Wirral's bundle)."""
WARD_POPULATION = ("children_0_15", "children")
COVERAGE_NOTE = 0.9
"""Wards less covered than this by the LSOAs that give them data are named in the notes."""

FILES = {
    "boundaries": "lsoa21.geojson",
    "wards": "wards.geojson",
    "shares": "lsoa_ward_shares.csv",
    "ward_population": "population_wards.csv",
    "deprivation": "deprivation_iod2025_lsoa21.csv",
    "deprivation_2019": "deprivation_iod2019_lsoa11.csv",
    "lsoa11_lookup": "lsoa11_to_lsoa21.csv",
    "population": "population_lsoa21.csv",
    "postcodes": "postcodes.csv",
    "services": "services.csv",
    "caseload": "caseload_synthetic.csv",
    "dfe": "dfe_childrens_social_care.csv",
    "meta": "bundle.json",
    "child_poverty": "child_poverty_wards.csv",
    "child_poverty_areas": "child_poverty_areas.csv",
}
OPTIONAL = (
    "caseload",
    "shares",
    "ward_population",
    "deprivation_2019",
    "lsoa11_lookup",
    "postcodes",
    "child_poverty",
    "child_poverty_areas",
)
"""Files a bundle may lack: the caseload (the council gives its own), the LSOA -> ward
shares (computed at run time), official ward populations (summed from LSOAs), the DWP
child poverty series (without it there is no child poverty trend, and the outputs say
so), and what only Wirral's bundle has (the run says what is missing and goes on
without it)."""
NO_POSTCODES = pd.DataFrame(
    {"easting": pd.Series(dtype=float), "northing": pd.Series(dtype=float), "lsoa_code": ""},
    index=pd.Index([], name="postcode", dtype=object),
)


@dataclass
class Area:
    """Everything known about one area before the council's own files are added."""

    folder: Path
    meta: dict[str, Any]
    lsoa: gpd.GeoDataFrame
    """One row per 2021 LSOA, in EPSG:27700: codes, IoD2025, population, and the ward
    holding its largest share (``ward_code``, ``ward_name``)."""
    wards: gpd.GeoDataFrame
    """The wards as drawn (``ward_name``, polygons in EPSG:27700), indexed by ward_code."""
    shares: pd.DataFrame
    """``lsoa_code, ward_code, share, method``: how much of each LSOA is in each ward."""
    ward_population: pd.DataFrame
    """Official ward populations (``children_0_15``, ``children``) by ward_code, where the
    bundle has them (blank: the ward's share of its LSOAs is used)."""
    iod2019: pd.DataFrame | None
    """IoD2019 on 2011 LSOAs; None where the bundle has no 2011 -> 2021 lookup."""
    lsoa11_lookup: pd.DataFrame | None
    postcodes: pd.DataFrame
    """Postcode lookup; empty where the bundle has none (services need coordinates)."""
    dfe: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)
    coverage: pd.Series = field(default_factory=pd.Series)
    """Share of each ward's area covered by the LSOAs that give it data."""
    notes: list[str] = field(default_factory=list)
    child_poverty: pd.DataFrame | None = None
    """DWP children in low income families by ward and year (None if not bundled)."""
    child_poverty_areas: pd.DataFrame | None = None
    """The same for the area, England and its statistical neighbours (summed from wards)."""

    @property
    def name(self) -> str:
        return str(self.meta.get("area_name", self.folder.name))

    @property
    def has_idaci(self) -> bool:
        """Whether the bundle has IDACI scores (only Wirral's, among the bundled data)."""
        return "idaci_score" in self.lsoa.columns

    @property
    def missing_note(self) -> str:
        """One plain sentence on what this bundle lacks (blank for a complete one)."""
        said = self.meta.get("wirral_only")
        if not said:
            return ""
        return (
            f"{self.name}: {said}. Child poverty is DWP's share of children in low income "
            "families, deprivation change since IoD2019 is not shown, demand points are "
            "LSOA centres, and schools are the services"
        )


def resolve_area(value: Path | str) -> Path:
    """A bundle folder, or the bundle of the English council ``value`` names.

    A folder holding ``bundle.json`` is used as it is; anything that is not a folder is
    read as a council's name or code (``needsmap.england``).
    """
    folder = Path(value)
    if folder.is_dir():
        return folder
    from needsmap.england import council_bundle

    return council_bundle(folder.name if not isinstance(value, str) else value)


def _lsoa_table(
    path: Path, columns: tuple[str, ...], lsoa_codes: pd.Index, what: str
) -> pd.DataFrame:
    frame = read_table(path, ("lsoa_code", *columns), what=what)
    frame["lsoa_code"] = frame["lsoa_code"].str.upper()
    dup = frame["lsoa_code"].duplicated(keep=False)
    if dup.any():
        msg = (
            f"{path.name}: column 'lsoa_code' repeats at {rows_where(dup)}; give each LSOA one row"
        )
        raise InputError(msg)
    missing = lsoa_codes.difference(pd.Index(frame["lsoa_code"]))
    if len(missing):
        msg = (
            f"{path.name}: no row for {len(missing)} LSOA(s) in the boundaries, e.g. "
            f"{list(missing[:3])}; {what} must cover every 2021 LSOA (IoD2019 uses 2011 LSOAs: "
            "map it with the lsoa11_to_lsoa21 lookup first)"
        )
        raise InputError(msg)
    out = pd.DataFrame({"lsoa_code": frame["lsoa_code"]})
    for col in columns:
        # Domain scores such as health and crime are signed; counts and ranks are not.
        out[col] = to_numbers(frame, col, path, non_negative=not col.endswith("_score"))
    return out.set_index("lsoa_code")


def load_area(folder: Path | str) -> Area:
    """Load and check a bundle folder, or an English council by name or code.

    See data/README.md for a bundle's files, and ``resolve_area``. A district's name
    runs its county, and the area's notes say so first.
    """
    asked = folder
    folder = resolve_area(folder)
    if not (folder / FILES["meta"]).exists():
        msg = (
            f"{folder}: not an area bundle (no {FILES['meta']}); point 'area' at a folder "
            "made by scripts/prepare_data.py, such as data/wirral"
        )
        raise InputError(msg)
    files = {k: folder / v for k, v in FILES.items()}
    absent = sorted(v for k, v in FILES.items() if k not in OPTIONAL and not files[k].exists())
    if absent:
        msg = (
            f"{folder}: the area bundle lacks {absent}; rebuild it with "
            "scripts/prepare_data.py (see data/README.md)"
        )
        raise InputError(msg)
    try:
        meta = json.loads(files["meta"].read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{files['meta']}: not valid JSON ({exc.__class__.__name__}); rebuild the bundle"
        raise InputError(msg) from None
    if not isinstance(meta, dict):
        msg = f"{files['meta']}: expected a JSON object with area_name and attribution"
        raise InputError(msg)
    lsoa = load_lsoa_boundaries(files["boundaries"])
    codes = pd.Index(lsoa["lsoa_code"])
    header = pd.read_csv(files["deprivation"], nrows=0).columns
    wanted = IOD2025_SCORES + IOD2025_RANKS + tuple(c for c in IOD2025_CHILDREN if c in header)
    dep = _lsoa_table(files["deprivation"], wanted, codes, "deprivation")
    pop_header = pd.read_csv(files["population"], nrows=0).columns
    wanted_pop = POPULATION + tuple(c for c in POPULATION_OPTIONAL if c in pop_header)
    pop = _lsoa_table(files["population"], wanted_pop, codes, "population")
    lsoa = lsoa.join(dep, on="lsoa_code").join(pop, on="lsoa_code")
    wards = load_ward_boundaries(files["wards"])
    has_2019 = files["deprivation_2019"].exists() and files["lsoa11_lookup"].exists()
    iod2019 = pd.read_csv(files["deprivation_2019"]) if has_2019 else None
    lookup = pd.read_csv(files["lsoa11_lookup"]) if has_2019 else None
    dfe = pd.read_csv(files["dfe"])
    has_pc = files["postcodes"].exists()
    postcodes = load_postcodes(files["postcodes"]) if has_pc else NO_POSTCODES.copy()
    notes = []
    if not Path(asked).is_dir():
        from needsmap.england import find_council

        district = find_council(asked if isinstance(asked, str) else Path(asked).name).note
        notes += [district] if district else []
    if files["shares"].exists():
        shares = _shares_table(files["shares"], codes, wards.index)
    else:
        shares = lsoa_ward_shares(lsoa, wards, postcodes=postcodes)
        notes.append(
            f"geography: no {FILES['shares']} in the bundle; LSOAs were split among wards "
            f"by {'their postcodes (or area)' if has_pc else 'area'} at run time"
        )
        del files["shares"]
    empty = wards.index.difference(pd.Index(shares["ward_code"]))
    if len(empty):
        msg = (
            f"{files['wards'].name}: no LSOA gives data to ward(s) {list(empty[:5])}; the "
            "ward and LSOA boundaries do not cover the same area (check both are for "
            f"{meta.get('area_name', folder.name)})"
        )
        raise InputError(msg)
    home = main_ward(shares).reindex(lsoa["lsoa_code"]).to_numpy()
    lsoa["ward_code"] = home
    lsoa["ward_name"] = wards["ward_name"].reindex(home).to_numpy()
    ward_pop = pd.DataFrame(index=wards.index, columns=list(WARD_POPULATION), dtype=float)
    if files["ward_population"].exists():
        ward_pop = _ward_population(files["ward_population"], wards.index)
    else:
        del files["ward_population"]
    coverage = ward_coverage(lsoa, wards, shares)
    notes += [
        f"geography: only {cover:.0%} of {wards.loc[code, 'ward_name']}'s area lies in LSOAs "
        "that give it data (the rest is in LSOAs whose postcodes all fall in other wards)"
        for code, cover in coverage.items()
        if cover < COVERAGE_NOTE
    ]
    cp, cp_areas = files["child_poverty"], files["child_poverty_areas"]
    return Area(
        folder=folder,
        meta=meta,
        lsoa=lsoa,
        wards=wards,
        shares=shares,
        ward_population=ward_pop,
        iod2019=iod2019,
        lsoa11_lookup=lookup,
        postcodes=postcodes,
        dfe=dfe,
        files=files,
        coverage=coverage,
        notes=notes,
        child_poverty=load_child_poverty(cp) if cp.exists() else None,
        child_poverty_areas=load_child_poverty_areas(cp_areas) if cp_areas.exists() else None,
    )


def _shares_table(path: Path, lsoa_codes: pd.Index, ward_codes: pd.Index) -> pd.DataFrame:
    """Read and check the LSOA -> ward shares (``needsmap.geography.lsoa_ward_shares``)."""
    frame = read_table(path, ("lsoa_code", "ward_code", "share"), what="LSOA -> ward shares")
    out = pd.DataFrame(
        {
            "lsoa_code": frame["lsoa_code"].str.upper(),
            "ward_code": frame["ward_code"].str.upper(),
            "share": to_numbers(frame, "share", path),
            "method": frame.get("method", pd.Series("given", index=frame.index)),
        }
    )
    bad = (out["share"] <= 0) | (out["share"] > 1)
    if bad.any():
        msg = f"{path.name}: column 'share' must be above 0 and at most 1 at {rows_where(bad)}"
        raise InputError(msg)
    unknown = ~out["ward_code"].isin(ward_codes)
    if unknown.any():
        msg = (
            f"{path.name}: column 'ward_code' has wards not in wards.geojson "
            f"{sorted(set(out.loc[unknown, 'ward_code']))[:3]} at {rows_where(unknown)}"
        )
        raise InputError(msg)
    missing = lsoa_codes.difference(pd.Index(out["lsoa_code"]))
    if len(missing):
        msg = (
            f"{path.name}: no row for {len(missing)} LSOA(s) in the boundaries, e.g. "
            f"{list(missing[:3])}; every LSOA needs its share of at least one ward"
        )
        raise InputError(msg)
    total = out.groupby("lsoa_code")["share"].transform("sum")
    off = (total - 1).abs() > 1e-4
    if off.any():
        msg = (
            f"{path.name}: the shares of LSOA(s) {sorted(set(out.loc[off, 'lsoa_code']))[:3]} "
            f"do not add up to 1 (at {rows_where(off)}); rebuild the file with "
            "needsmap.geography.lsoa_ward_shares"
        )
        raise InputError(msg)
    return out.loc[out["lsoa_code"].isin(lsoa_codes)].reset_index(drop=True)


def _ward_population(path: Path, ward_codes: pd.Index) -> pd.DataFrame:
    """Official ward populations by ward_code; blank cells stay blank (NaN)."""
    frame = read_table(path, ("ward_code", *WARD_POPULATION), what="ward population")
    frame["ward_code"] = frame["ward_code"].str.upper()
    unknown = ~frame["ward_code"].isin(ward_codes)
    if unknown.any():
        msg = (
            f"{path.name}: column 'ward_code' has wards not in wards.geojson "
            f"{sorted(set(frame.loc[unknown, 'ward_code']))[:3]} at {rows_where(unknown)}"
        )
        raise InputError(msg)
    out = pd.DataFrame(index=pd.Index(frame["ward_code"], name="ward_code"))
    for col in WARD_POPULATION:
        out[col] = to_numbers(frame, col, path, allow_blank=True).to_numpy()
    return out.reindex(ward_codes)


def area_caseload(area: Area, path: Path | None = None) -> Caseload:
    """The caseload for ``area``, read the one way ``run`` and ``validate`` both use.

    ``path`` is the council's file (None: the bundle's synthetic caseload). Children are
    placed with the area's wards, postcodes and LSOA lookup (for record-level files), and
    every count is checked against its ward's children aged 0-17: a count of more
    children than live in the ward is a typo or the wrong column.
    """
    synthetic = path is None
    unpublished = area.meta.get("caseload_unpublished") or []
    if synthetic and unpublished:
        words = " or ".join(str(m).replace("_", " ") for m in unpublished)
        words = words.replace("looked after", "looked-after")
        msg = (
            f"{area.name}: DfE publishes no {words} figure for it in any year since 2021 "
            "(suppressed: too few children), so no synthetic ward caseload can be "
            "calibrated to it; give the council's own ward caseload with --caseload"
        )
        raise InputError(msg)
    path = Path(path) if path is not None else area.files["caseload"]
    wards = area.wards["ward_name"]
    caseload = load_caseload(
        path,
        wards,
        synthetic=synthetic,
        postcodes=area.postcodes,
        lsoa_wards=area.lsoa.set_index("lsoa_code")["ward_code"],
    )
    shares = area.shares  # children 0-17 of each LSOA, split among its wards
    lsoa_children = shares["lsoa_code"].map(area.lsoa.set_index("lsoa_code")["children"])
    children = (shares["share"] * lsoa_children).groupby(shares["ward_code"]).sum()
    counts = caseload.counts
    over = counts.gt(
        children.reindex(counts.index.get_level_values("ward_code")).to_numpy(), axis=0
    )
    if over.to_numpy().any():
        (period, code), measure = next(
            (idx, m) for m in counts.columns for idx in counts.index[over[m].to_numpy()]
        )
        n = int(over.to_numpy().sum())
        msg = (
            f"{path.name}: column '{measure}' gives {int(counts.loc[(period, code), measure]):,} "
            f"children for ward {wards[code]} ({code}) in period {period}, more than the "
            f"{children[code]:,.0f} children aged 0-17 who live there"
            + (f" ({n} such counts)" if n > 1 else "")
            + "; check the column and the ward"
        )
        raise InputError(msg)
    return caseload
