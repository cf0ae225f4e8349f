"""Travel times from LSOAs to services: optional, replaces straight-line distance.

Schema (one row per LSOA and service a family can reach; see data/README.md):

    lsoa_code    2021 LSOA code of the origin (E01...)
    service_id   the service's id, as in the service files
    minutes      travel time in minutes (walking, public transport: the council's choice)

A pair that is not in the file is treated as out of reach. Rows for LSOAs outside the
area or for services that were not placed are set aside and reported, not used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from needsmap.errors import InputError
from needsmap.sources._table import describe_rows, read_table, to_numbers

REQUIRED = ("lsoa_code", "service_id", "minutes")


@dataclass
class TravelTimes:
    times: pd.DataFrame
    """Columns lsoa_code, service_id, minutes; only the area's LSOAs and placed services."""
    notes: list[str] = field(default_factory=list)


def load_travel_times(path: Path, lsoa_codes: pd.Index, service_ids: pd.Index) -> TravelTimes:
    """Read and check a travel-time matrix against the area's LSOAs and placed services.

    Parameters
    ----------
    path
        CSV following the schema in this module's docstring.
    lsoa_codes
        The area's 2021 LSOA codes: every one needs at least one row.
    service_ids
        Ids of the placed services; rows for other ids are set aside with a note.
    """
    path = Path(path)
    name = path.name
    frame = read_table(path, REQUIRED, what="travel-time")
    minutes = to_numbers(frame, "minutes", path)
    out = pd.DataFrame(
        {
            "lsoa_code": frame["lsoa_code"].str.upper().to_numpy(),
            "service_id": frame["service_id"].to_numpy(),
            "minutes": minutes.to_numpy(),
        }
    )
    blank = (out["lsoa_code"] == "") | (out["service_id"] == "")
    if blank.any():
        msg = (
            f"{name}: 'lsoa_code' or 'service_id' is blank at "
            f"{describe_rows(np.flatnonzero(blank.to_numpy()))}; every row needs both"
        )
        raise InputError(msg)
    dup = out.duplicated(["lsoa_code", "service_id"], keep=False)
    if dup.any():
        msg = (
            f"{name}: the same LSOA and service appear more than once at "
            f"{describe_rows(np.flatnonzero(dup.to_numpy()))}; give one time per pair"
        )
        raise InputError(msg)
    notes = []
    inside = out["lsoa_code"].isin(lsoa_codes)
    if not inside.any():
        msg = (
            f"{name}: none of its LSOA codes are in this area (e.g. "
            f"{out['lsoa_code'].head(3).tolist()}; the area has e.g. {list(lsoa_codes[:3])}); "
            "use 2021 LSOA codes of the area"
        )
        raise InputError(msg)
    absent = pd.Index(lsoa_codes).difference(pd.Index(out.loc[inside, "lsoa_code"]))
    if len(absent):
        msg = (
            f"{name}: no row for {len(absent)} of the area's LSOAs, e.g. {list(absent[:3])}; "
            "give every LSOA its times to the services it can reach"
        )
        raise InputError(msg)
    if (~inside).any():
        notes.append(f"{name}: set aside {int((~inside).sum())} row(s) for LSOAs outside the area")
    known = out["service_id"].isin(service_ids)
    if not known.any():
        msg = (
            f"{name}: none of its service ids match a placed service (e.g. "
            f"{out['service_id'].head(3).tolist()}); use the service_id column of the service files"
        )
        raise InputError(msg)
    if (~known).any():
        unknown = sorted(set(out.loc[~known, "service_id"]))
        notes.append(
            f"{name}: set aside {int((~known).sum())} row(s) for {len(unknown)} service id(s) "
            f"not among the placed services, e.g. {unknown[:3]}"
        )
    missing = pd.Index(service_ids).difference(pd.Index(out.loc[known, "service_id"]))
    if len(missing):
        notes.append(
            f"{name}: {len(missing)} placed service(s) have no travel times and count as out "
            f"of reach, e.g. {list(missing[:3])}"
        )
    times = out.loc[inside & known].reset_index(drop=True)
    return TravelTimes(times=times, notes=notes)
