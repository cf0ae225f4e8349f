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
from needsmap.sources.caseload import Caseload, load_caseload
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
}


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
    absent = sorted(v for k, v in FILES.items() if k != "caseload" and not files[k].exists())
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
    return Area(
        folder=folder,
        meta=meta,
        lsoa=lsoa,
        iod2019=iod2019,
        lsoa11_lookup=lookup,
        postcodes=postcodes,
        dfe=dfe,
        files=files,
    )


def area_caseload(area: Area, path: Path | None = None) -> Caseload:
    """The caseload for ``area``, read the one way ``run`` and ``validate`` both use.

    ``path`` is the council's file (None: the bundle's synthetic caseload). Children are
    placed with the area's wards, postcodes and LSOA lookup (for record-level files), and
    every count is checked against its ward's children aged 0-17: a count of more
    children than live in the ward is a typo or the wrong column.
    """
    synthetic = path is None
    path = Path(path) if path is not None else area.files["caseload"]
    wards = area.lsoa.groupby("ward_code")["ward_name"].first()
    caseload = load_caseload(
        path,
        wards,
        synthetic=synthetic,
        postcodes=area.postcodes,
        lsoa_wards=area.lsoa.set_index("lsoa_code")["ward_code"],
    )
    children = area.lsoa.groupby("ward_code")["children"].sum()
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
