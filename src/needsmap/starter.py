"""A starter folder for a council's own run: a commented config and input templates.

``needsmap init DIR`` writes, into DIR:

- ``needsmap.yml``: every setting with its value and what it means (from
  :mod:`needsmap.configdoc`), pointing at the two files below;
- ``caseload.csv``: one row per ward of the area with the counts left blank, to fill in;
- ``council_services.csv``: three example rows, one per way of giving a location (postcode,
  lon/lat, easting/northing), named "EXAMPLE ..." so that ``needsmap validate`` reports
  them until they are replaced.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import Transformer

from needsmap.config import CASELOAD_MEASURES, RunConfig
from needsmap.configdoc import template
from needsmap.errors import InputError
from needsmap.sources.area import FILES, resolve_area
from needsmap.sources.postcodes import load_postcodes

CONFIG_FILE = "needsmap.yml"
CASELOAD_FILE = "caseload.csv"
SERVICES_FILE = "council_services.csv"
EXAMPLE = "EXAMPLE"
"""Names of the template's example services start with this; validate reports them."""
LOOKUP_FILE = "lsoa21_wards.csv"
"""The LSOA -> ward lookup that scripts/prepare_data.py writes for a new area."""
SERVICE_COLUMNS = [
    "service_id",
    "name",
    "type",
    "subtype",
    "postcode",
    "lon",
    "lat",
    "easting",
    "northing",
    "capacity",
    "pilot",
    "pilot_start",
    "pilot_end",
]


def area_wards(area: Path) -> pd.Series:
    """Ward names indexed by ward code, from a bundle's ward or LSOA boundaries or its
    LSOA lookup, the first it has.

    Reads only the attributes, so it works on a bundle that is not complete yet (one
    made by ``scripts/prepare_data.py --lad`` has the wards before it has LSOAs).
    """
    area = Path(area)
    wards, boundaries, lookup = (
        area / FILES["wards"],
        area / FILES["boundaries"],
        area / LOOKUP_FILE,
    )
    if wards.exists() or boundaries.exists():
        path = wards if wards.exists() else boundaries
        frame = pd.DataFrame(gpd.read_file(path, ignore_geometry=True))
    elif lookup.exists():
        frame = pd.read_csv(lookup, dtype=str)
    else:
        msg = (
            f"{area}: no {FILES['wards']}, {FILES['boundaries']} or {LOOKUP_FILE} to list "
            "the wards from; point --area at a bundle folder such as data/wirral"
        )
        raise InputError(msg)
    missing = sorted({"ward_code", "ward_name"} - set(frame.columns))
    if missing:
        msg = f"{area}: the ward list has no column(s) {missing}; rebuild the bundle"
        raise InputError(msg)
    return frame.groupby("ward_code")["ward_name"].first().sort_index()


def caseload_template(wards: pd.Series, *, period: str = "2025-03-31") -> pd.DataFrame:
    """One row per ward for ``period`` with every caseload count blank, to be filled in.

    Parameters
    ----------
    wards
        Ward names indexed by ward code.
    period
        The period end the counts are for.
    """
    frame = pd.DataFrame(
        {"ward_code": wards.index.astype(str), "ward_name": wards.to_numpy(), "period": period}
    )
    for measure in CASELOAD_MEASURES:
        frame[measure] = ""
    return frame


def services_template(postcodes: pd.DataFrame | None) -> pd.DataFrame:
    """Three example services, one per way of giving a location.

    Parameters
    ----------
    postcodes
        The area's postcode lookup (postcode index, ``easting``, ``northing``); the
        examples use three of its postcodes so that they lie in the area. None gives
        placeholder locations.
    """
    if postcodes is not None and len(postcodes) >= 3:
        picks = postcodes.sort_index().iloc[[0, len(postcodes) // 2, -1]]
        pc = str(picks.index[0])
        east, north = (float(v) for v in picks[["easting", "northing"]].iloc[2])
        to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
        lon, lat = to_wgs84.transform(*picks[["easting", "northing"]].iloc[1].to_numpy())
    else:
        # No postcode file yet (a new area's bundle): placeholders in central England.
        pc, lon, lat, east, north = "AB1 2CD", -1.5, 52.5, 450000.0, 300000.0
    rows = [
        {
            "service_id": f"{EXAMPLE}-1",
            "name": f"{EXAMPLE} family hub (replace this row)",
            "type": "family_hub",
            "postcode": pc,
            "capacity": "40",
            "pilot": "no",
        },
        {
            "service_id": f"{EXAMPLE}-2",
            "name": f"{EXAMPLE} school-based pilot (replace this row)",
            "type": "pilot",
            "lon": f"{lon:.5f}",
            "lat": f"{lat:.5f}",
            "pilot": "yes",
            "pilot_start": "2023-09-01",
        },
        {
            "service_id": f"{EXAMPLE}-3",
            "name": f"{EXAMPLE} children's centre (replace this row)",
            "type": "childrens_centre",
            "easting": str(round(east)),
            "northing": str(round(north)),
            "capacity": "25",
            "pilot": "no",
        },
    ]
    return pd.DataFrame(rows, columns=SERVICE_COLUMNS, dtype=object).fillna("")


def write_starter(
    folder: Path, *, area: Path | str | None = None, force: bool = False
) -> list[Path]:
    """Write a commented config and the caseload and services templates into ``folder``.

    Parameters
    ----------
    folder
        Created if need be.
    area
        The area bundle the run is for (default: the bundled Wirral data), or an English
        council's name or code (``needsmap.england``), which the config then names.
    force
        Overwrite files that already exist (otherwise an InputError names them).

    Returns
    -------
    list[Path]
        The config, caseload and services files written.
    """
    folder = Path(folder)
    council = area
    named = area is not None and not Path(area).is_dir()  # a council's name or code
    area = resolve_area(area).resolve() if area is not None else RunConfig().area
    targets = [folder / CONFIG_FILE, folder / CASELOAD_FILE, folder / SERVICES_FILE]
    existing = [p.name for p in targets if p.exists()]
    if existing and not force:
        msg = (
            f"{folder}: {existing} already exist; use --force to overwrite them, "
            "or choose another folder"
        )
        raise InputError(msg)
    wards = area_wards(area)
    postcodes_file = area / FILES["postcodes"]
    postcodes = load_postcodes(postcodes_file) if postcodes_file.exists() else None
    folder.mkdir(parents=True, exist_ok=True)
    base = folder.resolve()
    defaults = RunConfig()
    cfg = dataclasses.replace(
        defaults,
        area=Path(str(council)) if named else area,
        caseload=base / CASELOAD_FILE,
        services=(base / SERVICES_FILE,),
        output=dataclasses.replace(defaults.output, folder=base / "out"),
    )
    note = (
        f"Next: fill in {CASELOAD_FILE} (a count for every ward, 0 if none; if you do not "
        "have a measure, delete its column and its _rate_index weight under need_index), "
        f"replace the {EXAMPLE} rows in "
        f"{SERVICES_FILE} with your services (or set services: []), then run "
        f"'needsmap validate --config {CONFIG_FILE}'."
    )
    targets[0].write_text(template(cfg, base=base, note=note), encoding="utf-8")
    caseload_template(wards).to_csv(targets[1], index=False, lineterminator="\n")
    services_template(postcodes).to_csv(targets[2], index=False, lineterminator="\n")
    return targets
