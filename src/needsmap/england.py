"""Any English council, with no set-up: its bundle built from the England-wide data.

``data/england`` (made by ``scripts/prepare_data.py``; see data/README.md) holds every
LSOA of England with its polygon, best-fit 2024 ward, district and children's services
council, IoD2025 domains and Census 2021 ages; DWP children in low income families by
ward; open schools; and DfE children's social care for every council. ``council_bundle``
turns a council's name or code into a bundle folder that ``load_area`` reads as it reads
``data/wirral``: it is built once, from one council's rows of the England files, into a
cache folder.

Children's services belong to the upper-tier council, as DfE publishes them: a county
runs as all of its districts together, and a district's name runs its county.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from needsmap import __version__
from needsmap.config import Indicator, bundled_data_dir
from needsmap.errors import InputError
from needsmap.geography import _key, lsoa_ward_shares
from needsmap.synthetic import synthetic_caseload

log = logging.getLogger(__name__)

ENGLAND_CODE = "E92000001"
BUNDLE_LAYOUT = 2
"""Raised when what a council bundle holds changes, so cached bundles are rebuilt."""
SEED = 20251127
"""Seed of every council's synthetic caseload (the same as Wirral's)."""
DFE_MEASURES = {
    "children_in_need": "children_in_need_at_31_march",
    "child_protection_plans": "child_protection_plans_at_31_march",
    "looked_after_children": "children_looked_after_at_31_march",
}
CHILD_POVERTY = "child_poverty_pct"
"""Ward column: % of children aged 0-15 in relative low income families (DWP, BHC)."""
WIRRAL_ONLY = (
    "IDACI and IDAOPI scores, IoD2019 with the 2011->2021 LSOA lookup, postcodes, "
    "GP practices, libraries and family hubs are bundled for Wirral only"
)
ATTRIBUTION = [
    "Source: Office for National Statistics licensed under the Open Government Licence "
    "v3.0. Contains OS data © Crown copyright and database right 2025.",
    "English Indices of Deprivation 2025, MHCLG, OGL v3.0. ONS Census 2021. DWP Children "
    "in low income families 2025. DfE children's social care statistics, DfE GIAS and "
    "school census, OGL v3.0.",
]


def england_dir() -> Path:
    """The England-wide data folder (``data/england``)."""
    return bundled_data_dir() / "england"


def cache_dir() -> Path:
    """Where council bundles are built: ``NEEDSMAP_CACHE`` or ``~/.cache/needsmap``."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "needsmap"
    return Path(os.environ.get("NEEDSMAP_CACHE", default))


RETIRED = {
    # Children's services authorities replaced since 2019 (ONS code histories):
    # old code -> (old name, when it ended, the council codes that took over).
    "E06000028": ("Bournemouth", "March 2019", ("E06000058",)),
    "E06000029": ("Poole", "March 2019", ("E06000058",)),
    "E10000009": ("Dorset County Council", "March 2019", ("E06000059",)),
    "E10000021": ("Northamptonshire", "March 2021", ("E06000061", "E06000062")),
    "E10000006": ("Cumbria", "March 2023", ("E06000063", "E06000064")),
    "E10000023": ("North Yorkshire County Council", "March 2023", ("E06000065",)),
    "E10000027": ("Somerset County Council", "March 2023", ("E06000066",)),
}
"""Codes a user may still have from older tables, and the councils that replaced them."""


@dataclass(frozen=True)
class Council:
    """A children's services authority and the districts it covers."""

    code: str
    name: str
    districts: tuple[tuple[str, str], ...]
    """(LAD code, LAD name) of each 2024 district it covers."""
    asked: str = ""
    """What the user typed, when it named one of the districts rather than the council."""

    @property
    def note(self) -> str:
        """Say why a district's name runs its county (blank otherwise)."""
        if not self.asked:
            return ""
        return (
            f"{self.asked} is a district of {self.name}, which runs its children's services "
            f"(as DfE publishes them): running {self.name}, all {len(self.districts)} districts"
        )


def councils() -> pd.DataFrame:
    """``la_code, la_name, lad_code, lad_name``: every English district and its council."""
    return pd.read_csv(england_dir() / "councils.csv", dtype=str)


def find_council(text: str) -> Council:
    """The council a name or code means, matched forgivingly.

    A council or district code (E06..., E08..., E10...), or a name ignoring case, spaces
    and punctuation ("kingston upon hull" finds "Kingston upon Hull, City of"). A
    district's name or code gives its county. A near miss lists what it might mean.
    """
    table = councils()
    key = _key(text)
    code = text.strip().upper()
    la = table["la_code"] == code
    lad = table["lad_code"] == code
    if not (la.any() or lad.any()):
        la = table["la_name"].map(_key) == key
        lad = table["lad_name"].map(_key) == key
    if not (la.any() or lad.any()) and len(key) >= 4:
        # "Bristol" for "Bristol, City of", "Herefordshire" for "Herefordshire, County of"
        starts_la = table["la_name"].map(_key).str.startswith(key)
        starts_lad = table["lad_name"].map(_key).str.startswith(key)
        meant = table[starts_la | starts_lad].drop_duplicates("la_code")
        if len(meant) > 1:  # "Newcastle": upon Tyne, or under Lyme (Staffordshire's)?
            hits = table[starts_lad].drop_duplicates("lad_code")
            said = [
                f"{lad} ({code})" if code == la else f"{lad} ({code}, a district of {county})"
                for lad, code, la, county in hits[
                    ["lad_name", "lad_code", "la_code", "la_name"]
                ].itertuples(index=False)
            ]
            msg = (
                f"{text!r} could mean {' or '.join(said[:4])}; give the full name or the code "
                "(a district runs its county's children's services)"
            )
            raise InputError(msg)
        if starts_la.any():
            la = starts_la
        elif table.loc[starts_lad, "lad_code"].nunique() == 1:
            lad = starts_lad
    if la.any():
        la_code = str(table.loc[la, "la_code"].iloc[0])
        asked = ""
    elif lad.any():
        row = table[lad].iloc[0]
        la_code = str(row["la_code"])
        asked = "" if row["lad_code"] == la_code else str(row["lad_name"])
    elif code in RETIRED:
        old, ended, new = RETIRED[code]
        named = dict(zip(table["la_code"], table["la_name"], strict=True))
        now = " and ".join(f"{named[c]} ({c})" for c in new)
        msg = (
            f"{code} is {old}'s code, which ended in {ended}; its children's services are "
            f"now run by {now}: give {'that' if len(new) == 1 else 'one of those'} instead"
        )
        raise InputError(msg)
    else:
        names = sorted(set(table["la_name"]) | set(table["lad_name"]))
        close = difflib.get_close_matches(text.strip(), names, n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        msg = (
            f"{text!r}: no area bundle folder and no English council of that name or "
            f"code.{hint} Give a council's name or code (e.g. Sefton, E08000014, "
            "Lancashire) or a bundle folder such as data/wirral"
        )
        raise InputError(msg)
    rows = table[table["la_code"] == la_code]
    districts = tuple(zip(rows["lad_code"], rows["lad_name"], strict=True))
    return Council(la_code, str(rows["la_name"].iloc[0]), districts, asked)


def _data_version() -> str:
    """A short hash of the England files: a bundle is rebuilt when they change."""
    digest = hashlib.sha256(f"{__version__}/{BUNDLE_LAYOUT}".encode())
    for path in sorted(england_dir().iterdir()):
        digest.update(path.name.encode())
        digest.update(str(path.stat().st_size).encode())
    return digest.hexdigest()[:10]


def council_bundle(text: str) -> Path:
    """The bundle folder for the council ``text`` names; built on first use."""
    council = find_council(text)
    if council.note:
        log.info("%s", council.note)
    folder = cache_dir() / "areas" / f"{council.code}-{_data_version()}"
    if (folder / "bundle.json").exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Built beside its place and moved in whole: a bundle is complete or absent.
    tmp = Path(tempfile.mkdtemp(prefix=f".{council.code}-", dir=folder.parent))
    try:
        build_bundle(council, tmp)
        try:
            tmp.rename(folder)
        except OSError:  # another run built it meanwhile
            if not (folder / "bundle.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def council_lsoas(code: str) -> gpd.GeoDataFrame:
    """One council's LSOAs from ``lsoa21.parquet``: only its row groups are read.

    ``ENGLAND_CODE`` reads them all.
    """
    path = england_dir() / "lsoa21.parquet"
    if code == ENGLAND_CODE:
        return gpd.read_parquet(path)
    return gpd.read_parquet(path, filters=[("la_code", "==", code)])


def england() -> Council:
    """All of England as one area (the benchmark's national case)."""
    table = councils()
    districts = tuple(zip(table["lad_code"], table["lad_name"], strict=True))
    return Council(ENGLAND_CODE, "England", districts)


def dfe_table(code: str) -> pd.DataFrame:
    """The council's DfE figures beside England and its statistical neighbours.

    In the bundle's layout (``group``: Local authority, England or Statistical
    neighbour). Neighbours are DfE's April 2021 groupings; a council made since (as
    Cumberland in 2023) has none, and its benchmark shows England only.
    """
    folder = england_dir()
    csc = pd.read_csv(folder / "dfe_childrens_social_care.csv.gz")
    sn = pd.read_csv(folder / "statistical_neighbours.csv")
    neighbours = set(sn.loc[sn["la_code"] == code, "neighbour_code"].dropna())
    group = np.select(
        [csc["la_code"] == ENGLAND_CODE, csc["la_code"] == code, csc["la_code"].isin(neighbours)],
        ["England", "Local authority", "Statistical neighbour"],
        "",
    )
    frame = csc.assign(group=group)[group != ""]
    if code == ENGLAND_CODE:  # the area is England: its own figures are England's
        frame = pd.concat([frame, frame.assign(group="Local authority")], ignore_index=True)
    frame = frame[
        [
            "group",
            "area_name",
            "la_code",
            "year",
            "measure",
            "number",
            "rate_per_10000",
            "population_0_17",
            "rate_raw",
        ]
    ]
    return frame.sort_values(["measure", "year", "group", "area_name"], ignore_index=True)


def child_poverty(ward_codes: pd.Index) -> pd.DataFrame:
    """DWP children in low income families for these wards, long format.

    ``ward_code, ward_name, fye, measure, children, percentage`` (children aged 0-15).
    """
    frame = pd.read_csv(england_dir() / "child_poverty_wards.csv.gz")
    return frame[frame["ward_code"].isin(ward_codes)].reset_index(drop=True)


def _unique_ward_names(frame: pd.DataFrame) -> pd.Series:
    """Ward names (of LSOA or ward rows), the district added where two districts share one."""
    names = frame.drop_duplicates("ward_code").set_index("ward_code")
    shared = names["ward_name"].duplicated(keep=False)
    unique = names["ward_name"].where(~shared, names["ward_name"] + " (" + names["lad_name"] + ")")
    return frame["ward_code"].map(unique)


def build_bundle(council: Council, folder: Path) -> None:
    """Write a complete bundle for ``council`` into ``folder`` (see data/README.md).

    What is bundled for Wirral only (``WIRRAL_ONLY``) is absent; the pipeline says so
    once and runs without it.
    """
    lsoa = council_lsoas(council.code)
    dfe = dfe_table(council.code)
    la = dfe[dfe["group"] == "Local authority"]
    lsoa["ward_name"] = _unique_ward_names(lsoa)
    # The wards as drawn (ONS May 2024), each LSOA split among those it overlaps by area
    # (no postcodes here); a ward no LSOA gives data to (in the City of London, where
    # wards are smaller than LSOAs) is left out.
    lads = [code for code, _ in council.districts]
    wards = gpd.read_parquet(england_dir() / "wards.parquet", filters=[("lad_code", "in", lads)])
    shares = lsoa_ward_shares(lsoa[["lsoa_code", "ward_code", "geometry"]], wards)
    wards = wards[wards["ward_code"].isin(shares["ward_code"])].copy()
    wards["ward_name"] = _unique_ward_names(wards).to_numpy()
    wards[["ward_code", "ward_name", "geometry"]].to_crs("EPSG:4326").to_file(
        folder / "wards.geojson", driver="GeoJSON", COORDINATE_PRECISION=6
    )
    shares.to_csv(
        folder / "lsoa_ward_shares.csv", index=False, lineterminator="\n", float_format="%.6g"
    )
    # Children 0-17 (the DfE rate denominator): Census 2021 children 0-15 in each LSOA,
    # scaled so that the council's total is DfE's latest population aged 0-17.
    pop = la.dropna(subset=["population_0_17"]).sort_values("year")["population_0_17"]
    # Without a DfE population: 18/16, as if each single year of age were as large.
    scale = float(pop.iloc[-1]) / lsoa["age_0_15"].sum() if len(pop) else 18 / 16
    lsoa["children"] = (lsoa["age_0_15"] * scale).round(1)
    lsoa["children_0_15"] = lsoa["age_0_15"]
    keys = ["lsoa_code", "lsoa_name", "ward_code", "ward_name", "lad_code", "lad_name"]
    poly = lsoa[[*keys, "geometry"]].to_crs("EPSG:4326")
    poly.to_file(folder / "lsoa21.geojson", driver="GeoJSON", COORDINATE_PRECISION=6)
    scores = [c for c in lsoa.columns if c.endswith(("_score", "_rank", "_decile"))]
    lsoa[["lsoa_code", *scores]].to_csv(
        folder / "deprivation_iod2025_lsoa21.csv", index=False, lineterminator="\n"
    )
    lsoa[["lsoa_code", "population", "children_0_15", "children"]].to_csv(
        folder / "population_lsoa21.csv", index=False, lineterminator="\n"
    )
    dfe.to_csv(folder / "dfe_childrens_social_care.csv", index=False, lineterminator="\n")
    where = None if council.code == ENGLAND_CODE else [("la_code", "==", council.code)]
    schools = pd.read_parquet(england_dir() / "schools.parquet", filters=where)
    schools.drop(columns=["la_code", "lsoa_code"]).to_csv(
        folder / "services.csv", index=False, lineterminator="\n"
    )
    cp = child_poverty(pd.Index(wards["ward_code"]))
    cp.to_csv(folder / "child_poverty_wards.csv", index=False, lineterminator="\n")
    kids = shares.merge(lsoa[["lsoa_code", "children"]], on="lsoa_code")
    per_ward = (kids["share"] * kids["children"]).groupby(kids["ward_code"]).sum()
    wards = wards.assign(children=wards["ward_code"].map(per_ward).to_numpy())
    wards = _caseload_wards(wards, cp)
    totals = {
        m: {
            int(y): int(n)
            for y, n in la[la["measure"] == d].dropna(subset=["number"])[["year", "number"]].values
            if y >= 2021
        }
        for m, d in DFE_MEASURES.items()
    }
    # A measure DfE suppresses every year (the Isles of Scilly's looked-after children)
    # leaves nothing to calibrate to: no synthetic caseload, and the run says why.
    unpublished = [m for m, t in totals.items() if not t]
    if not unpublished:
        caseload = synthetic_caseload(wards, totals, seed=SEED, deprivation=CHILD_POVERTY)
        caseload.to_csv(folder / "caseload_synthetic.csv", index=False, lineterminator="\n")
    meta = {
        "area_name": council.name,
        "la_code": council.code,
        "lad_codes": [code for code, _ in council.districts],
        "districts": [name for _, name in council.districts],
        "ward_vintage": "WD24 (best-fit from LSOA 2021)",
        "lsoa_vintage": "LSOA21",
        "deprivation": "English Indices of Deprivation 2025 (MHCLG)",
        "population": (
            "ONS Census 2021 (total, 0-15); children 0-17 = Census 0-15 scaled to DfE's "
            "latest population aged 0-17 for the council"
        ),
        "child_poverty": "DWP children in low income families, relative BHC, FYE 2025",
        "services": "Open schools, DfE GIAS May 2025 (pupils), school census January 2023 (FSM)",
        "caseload_synthetic": True,
        "caseload_note": (
            "Synthetic ward caseload, calibrated to DfE published totals for the council; "
            "not real ward figures."
        ),
        "england": True,
        "caseload_unpublished": unpublished,
        "wirral_only": WIRRAL_ONLY,
        "attribution": ATTRIBUTION,
    }
    (folder / "bundle.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def latest_child_poverty(frame: pd.DataFrame) -> pd.DataFrame:
    """Per ward, DWP's latest relative (before housing costs) count and percentage.

    Returns ``child_poverty_children`` (aged 0-15) and ``child_poverty_pct``, indexed by
    ward code: the ward table's columns of the same names
    (:func:`needsmap.trends.child_poverty_columns`).
    """
    rel = frame[frame["measure"] == "relative_bhc"]
    latest = rel[rel["fye"] == rel["fye"].max()].set_index("ward_code")
    return pd.DataFrame(
        {"child_poverty_children": latest["children"], CHILD_POVERTY: latest["percentage"]}
    )


def fill_child_poverty(pct: pd.Series, children: pd.Series) -> tuple[pd.Series, list[str]]:
    """DWP's share for every ward of ``pct``, where it stands in for IDACI.

    A ward DWP leaves blank (two of the City of London's, where counts are negligible)
    takes the area's child-weighted average percentage, and a note names it.
    """
    gap = pct.isna()
    if not gap.any():
        return pct, []
    if (~gap).any():
        weights = children.reindex(pct.index)[~gap].clip(lower=1e-9)
        mean = float(np.average(pct[~gap], weights=weights))
        whose = "the area's average"
    else:  # none published for the area: England's median ward
        every = latest_child_poverty(pd.read_csv(england_dir() / "child_poverty_wards.csv.gz"))
        mean, whose = float(every[CHILD_POVERTY].median()), "England's median ward"
    note = (
        f"child poverty: DWP publishes no figure for {int(gap.sum())} ward(s) "
        f"({', '.join(map(str, pct.index[gap][:3]))}); they take {whose}, {mean:.1f}%"
    )
    return pct.fillna(round(mean, 1)), [note]


def ward_child_poverty(frame: pd.DataFrame, children: pd.Series) -> tuple[pd.DataFrame, list[str]]:
    """DWP's latest share (``child_poverty_pct``) for each ward of ``children`` (its
    index), gaps filled (:func:`fill_child_poverty`) and said."""
    pct, notes = fill_child_poverty(
        latest_child_poverty(frame)[CHILD_POVERTY].reindex(children.index), children
    )
    return pct.to_frame(CHILD_POVERTY), notes


def _caseload_wards(wards: pd.DataFrame, cp: pd.DataFrame) -> pd.DataFrame:
    """Ward children and child poverty, the inputs of the synthetic caseload model."""
    wards = pd.DataFrame(wards[["ward_code", "ward_name", "children"]]).sort_values("ward_code")
    poverty, _ = ward_child_poverty(cp, wards.set_index("ward_code")["children"])
    wards[CHILD_POVERTY] = wards["ward_code"].map(poverty[CHILD_POVERTY])
    return wards


def poverty_stand_in(
    specs: tuple[Indicator, ...], features: tuple[str, ...], columns: pd.Index
) -> tuple[tuple[Indicator, ...], tuple[str, ...], list[str]]:
    """Where a bundle has no IDACI, DWP's child poverty takes its place, at its weight.

    IDACI is bundled for Wirral only; every ward in England has DWP's share of children
    aged 0-15 in low income families, the nearest measure of the same thing (children
    in families on low incomes). The need index keeps IDACI's weight for it, so that
    child poverty still carries the weight the default weights give it.
    """
    if "idaci_score" in columns or CHILD_POVERTY not in columns:
        return specs, features, []
    if not any(s.column == "idaci_score" for s in specs) and "idaci_score" not in features:
        return specs, features, []
    specs = tuple(
        dataclasses.replace(s, column=CHILD_POVERTY) if s.column == "idaci_score" else s
        for s in specs
    )
    features = tuple(CHILD_POVERTY if f == "idaci_score" else f for f in features)
    note = (
        "need index and clusters: no IDACI for this area, so child poverty is DWP's share "
        f"of children aged 0-15 in low income families ({CHILD_POVERTY}), at IDACI's weight"
    )
    return specs, features, [note]
