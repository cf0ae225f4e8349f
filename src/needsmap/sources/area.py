"""An area bundle: the folder of public data for one local authority (data/wirral)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from needsmap.errors import InputError
from needsmap.sources._table import read_table, rows_where, to_numbers
from needsmap.sources.boundaries import load_lsoa_boundaries
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
IOD2025_SCORES = tuple(f"{d}_score" for d in DOMAINS) + ("idaci_score", "idaopi_score")
IOD2025_RANKS = ("imd_rank", "imd_decile", "idaci_rank", "idaci_decile")
POPULATION = ("population", "children_0_15", "children")

FILES = {
    "boundaries": "lsoa21.geojson",
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
OPTIONAL = ("caseload", "child_poverty", "child_poverty_areas")
"""Bundle files a run can do without (a council's own caseload replaces the synthetic one;
without the DWP series there is no child poverty trend, and the outputs say so)."""


@dataclass
class Area:
    """Everything known about one area before the council's own files are added."""

    folder: Path
    meta: dict[str, Any]
    lsoa: gpd.GeoDataFrame
    """One row per 2021 LSOA, in EPSG:27700: codes, ward, IoD2025, population."""
    iod2019: pd.DataFrame
    lsoa11_lookup: pd.DataFrame
    postcodes: pd.DataFrame
    dfe: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)
    child_poverty: pd.DataFrame | None = None
    """DWP children in low income families by ward and year (None if not bundled)."""
    child_poverty_areas: pd.DataFrame | None = None
    """The same for the area, England and its statistical neighbours (summed from wards)."""

    @property
    def name(self) -> str:
        return str(self.meta.get("area_name", self.folder.name))


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


def load_area(folder: Path) -> Area:
    """Load and check a bundle folder; see data/README.md for its files."""
    folder = Path(folder)
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
    dep = _lsoa_table(files["deprivation"], IOD2025_SCORES + IOD2025_RANKS, codes, "deprivation")
    pop = _lsoa_table(files["population"], POPULATION, codes, "population")
    lsoa = lsoa.join(dep, on="lsoa_code").join(pop, on="lsoa_code")
    iod2019 = pd.read_csv(files["deprivation_2019"])
    lookup = pd.read_csv(files["lsoa11_lookup"])
    dfe = pd.read_csv(files["dfe"])
    postcodes = load_postcodes(files["postcodes"])
    cp, cp_areas = files["child_poverty"], files["child_poverty_areas"]
    return Area(
        folder=folder,
        meta=meta,
        lsoa=lsoa,
        iod2019=iod2019,
        lsoa11_lookup=lookup,
        postcodes=postcodes,
        dfe=dfe,
        files=files,
        child_poverty=load_child_poverty(cp) if cp.exists() else None,
        child_poverty_areas=load_child_poverty_areas(cp_areas) if cp_areas.exists() else None,
    )
