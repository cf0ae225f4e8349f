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
    "child_poverty": "child_poverty_wards.csv",
    "meta": "bundle.json",
}
OPTIONAL = ("caseload", "deprivation_2019", "lsoa11_lookup", "postcodes", "child_poverty")
"""Files a bundle may lack: the run says what is missing and goes on without them."""
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
    """One row per 2021 LSOA, in EPSG:27700: codes, ward, IoD2025, population."""
    iod2019: pd.DataFrame | None
    """IoD2019 on 2011 LSOAs; None where the bundle has no 2011 -> 2021 lookup."""
    lsoa11_lookup: pd.DataFrame | None
    postcodes: pd.DataFrame
    """Postcode lookup; empty where the bundle has none (services need coordinates)."""
    dfe: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)
    child_poverty: pd.DataFrame | None = None
    """DWP children in low income families by ward, long format (see data/README.md)."""

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

    See data/README.md for a bundle's files, and ``resolve_area``.
    """
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
    pop = _lsoa_table(files["population"], POPULATION, codes, "population")
    lsoa = lsoa.join(dep, on="lsoa_code").join(pop, on="lsoa_code")
    has_2019 = files["deprivation_2019"].exists() and files["lsoa11_lookup"].exists()
    iod2019 = pd.read_csv(files["deprivation_2019"]) if has_2019 else None
    lookup = pd.read_csv(files["lsoa11_lookup"]) if has_2019 else None
    dfe = pd.read_csv(files["dfe"])
    has_pc = files["postcodes"].exists()
    postcodes = load_postcodes(files["postcodes"]) if has_pc else NO_POSTCODES.copy()
    poverty = pd.read_csv(files["child_poverty"]) if files["child_poverty"].exists() else None
    return Area(
        folder=folder,
        meta=meta,
        lsoa=lsoa,
        iod2019=iod2019,
        lsoa11_lookup=lookup,
        postcodes=postcodes,
        dfe=dfe,
        files=files,
        child_poverty=poverty,
    )
