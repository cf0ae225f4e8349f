"""Check every input of a run without running the analysis (``needsmap validate``).

Each input is read with the same loader the run uses, so a file that passes here will
not stop the run. Problems are collected, not raised: the report lists all of them.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from shapely.geometry.base import BaseGeometry

from needsmap.access import resolve_types, type_key
from needsmap.config import CASELOAD_MEASURES, RunConfig
from needsmap.context import la_benchmark
from needsmap.england import poverty_stand_in, ward_child_poverty
from needsmap.errors import InputError, NeedsmapError
from needsmap.indicators import (
    caseload_change,
    caseload_rates,
    deprivation_change,
    index_rates,
    need_index,
    ward_deprivation,
)
from needsmap.pilots import load_pilots, provision_date
from needsmap.siting import eligible, existing_provision
from needsmap.sources import Area, load_area, load_services
from needsmap.sources.area import FILES, OPTIONAL, area_caseload, resolve_area
from needsmap.sources.caseload import Caseload
from needsmap.sources.services import Services
from needsmap.sources.travel_times import load_travel_times
from needsmap.starter import EXAMPLE
from needsmap.vocabulary import financial_year

SHOW = 5
"""How many unplaced services the report lists by name."""


@dataclass
class Check:
    """What was read for one input, and what is wrong with it."""

    name: str
    facts: list[str] = field(default_factory=list)
    """What was read: rows, wards matched, services placed."""
    notes: list[str] = field(default_factory=list)
    """Worth knowing, but the run will go ahead (e.g. services that cannot be placed)."""
    problems: list[str] = field(default_factory=list)
    """What would stop the run or make it wrong; each says what to do."""


@dataclass
class Validation:
    """The checks of one config's inputs, in the order they were made."""

    area: Path
    checks: list[Check]

    @property
    def problems(self) -> list[str]:
        return [p for c in self.checks for p in c.problems]

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        """A short plain-text report: what was read, notes, problems."""
        width = max(len(c.name) for c in self.checks)
        lines = [f"Checked the inputs for {self.area}"]
        for c in self.checks:
            shown = c.facts or (["see the problems below"] if c.problems else ["not checked"])
            for i, fact in enumerate(shown):
                lines.append(f"  {c.name if i == 0 else '':<{width}}  {fact}")
        notes = [n for c in self.checks for n in c.notes]
        if notes:
            lines += ["Notes:", *(f"  - {n}" for n in notes)]
        if self.problems:
            n = len(self.problems)
            lines += [f"{n} problem{'s' if n > 1 else ''}:", *(f"  - {p}" for p in self.problems)]
        else:
            lines.append("No problems: ready for 'needsmap run'.")
        return "\n".join(lines)


def check_measures(cfg: RunConfig, caseload: Caseload) -> None:
    """Stop, naming the caseload file, if the need index or the clusters use a caseload
    measure the file does not have (the defaults use all three).

    For ``run``; ``validate`` reports the same as settings the data cannot meet.
    """
    used = {i.column for i in cfg.need_index.specs} | set(cfg.clustering.features)
    absent = [
        m
        for m in CASELOAD_MEASURES
        if m not in caseload.measures and any(c.startswith(f"{m}_") for c in used)
    ]
    if absent:
        msg = (
            f"{Path(caseload.source).name}: has no {absent} column(s), which "
            "need_index.indicators and clustering.features use (by default all three "
            "measures); add them, or list only the indicators you have under "
            "need_index.indicators and clustering.features in your config"
        )
        raise InputError(msg)


@contextlib.contextmanager
def _collect(check: Check) -> Iterator[None]:
    """Turn a NeedsmapError into a problem and any warning into a note."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except NeedsmapError as exc:
            check.problems.append(str(exc))
    check.notes += [str(w.message) for w in caught]


def _area(cfg: RunConfig, check: Check) -> Area | None:
    folder = None
    with _collect(check):
        folder = resolve_area(cfg.area)
    if folder is None:
        return None
    absent = [n for k, n in FILES.items() if k not in OPTIONAL and not (folder / n).exists()]
    if (folder / FILES["meta"]).exists() and absent:
        hint = " (listed in its MISSING.md)" if (folder / "MISSING.md").exists() else ""
        check.problems.append(
            f"{folder}: the area bundle lacks {absent}{hint}; add them as data/README.md "
            "describes, or rebuild the bundle with scripts/prepare_data.py"
        )
        return None
    area = None
    with _collect(check):
        area = load_area(folder)
        if area.iod2019 is not None and area.lsoa11_lookup is not None:
            deprivation_change(area.lsoa, area.iod2019, area.lsoa11_lookup, area.shares)
        la_benchmark(area.dfe)
        split = area.shares.loc[area.shares["share"] < 1, "lsoa_code"].nunique()
        check.facts.append(
            f"{area.name}: {len(area.lsoa)} LSOAs in {len(area.wards)} wards ({split} LSOAs "
            f"split between wards); deprivation and population for every LSOA; "
            f"{len(area.postcodes):,} postcodes; DfE context"
        )
        if area.missing_note:
            check.notes.append(area.missing_note)
        cp = area.child_poverty
        if cp is None:
            check.notes.append(
                f"{FILES['child_poverty']} is not in the bundle: no child poverty trend "
                "(rebuild the bundle with scripts/prepare_data.py)"
            )
        else:
            years = sorted(int(y) for y in cp["fye"].unique())
            check.facts.append(
                f"{FILES['child_poverty']}: DWP children in low income for "
                f"{cp['ward_code'].nunique()} wards, {financial_year(years[0])} to "
                f"{financial_year(years[-1])} (provisional)"
            )
        check.notes += area.notes
    return area


def _caseload(cfg: RunConfig, area: Area, check: Check) -> Caseload | None:
    path = cfg.caseload or area.files["caseload"]
    wards = area.wards["ward_name"]
    caseload = None
    with _collect(check):
        caseload = area_caseload(area, cfg.caseload)  # exactly as the run reads it
        periods = caseload.periods
        span = periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"
        latest = caseload.latest
        matched = latest.index.nunique()
        kind = " (synthetic)" if caseload.synthetic else ""
        check.facts += [
            f"{path.name}{kind}: {len(caseload.counts)} rows read; {len(periods)} "
            f"period{'s' if len(periods) > 1 else ''} ({span}); {matched} of {len(wards)} "
            "wards matched",
            f"measures: {', '.join(caseload.measures)}",
        ]
        t = cfg.suppression.threshold
        small = int(((latest >= 1) & (latest < t)).to_numpy().sum())
        if cfg.suppression.enabled and small:
            check.facts.append(
                f"{small} count(s) of 1 to {t - 1} in {periods[-1]} will read "
                f'"fewer than {t}" in every output'
            )
        check.notes += caseload.notes
    return caseload


def _service_file(path: Path, label: str, area: Area, outline: BaseGeometry, check: Check) -> bool:
    """Read one service file; record its rows, unplaced services and leftover examples."""
    one = None
    with _collect(check):
        one = load_services([path], area.postcodes, outline)
    if one is None:
        return False
    placed, unplaced = one.placed, one.unplaced
    check.facts.append(
        f"{label}: {len(placed) + len(unplaced)} rows read, {len(placed)} placed, "
        f"{len(unplaced)} unplaced"
    )
    for row in unplaced.head(SHOW).to_dict("records"):
        check.notes.append(
            f"{label} row {row['row']}: {row['name']} ({row['postcode'] or 'no postcode'}) "
            f"cannot be placed: {row['reason']}"
        )
    if len(unplaced) > SHOW:
        check.notes.append(f"{label}: {len(unplaced) - SHOW} more cannot be placed")
    examples = int(pd.concat([placed["name"], unplaced["name"]]).str.startswith(EXAMPLE).sum())
    if examples:
        check.problems.append(
            f"{label}: {examples} example row(s) from 'needsmap init' are still there; "
            "replace them with your own services or delete them"
        )
    return True


def _services(cfg: RunConfig, area: Area, check: Check) -> Services | None:
    paths = [Path(p) for p in (area.files["services"], *cfg.services)]
    names = [p.name for p in paths]
    outline = area.lsoa.geometry.union_all()
    read = [  # one at a time, so that each file's rows and problems are its own
        _service_file(
            path,
            path.name if names.count(path.name) == 1 else f"{path.parent.name}/{path.name}",
            area,
            outline,
            check,
        )
        for path in paths
    ]
    if not all(read):
        return None
    services = None
    with _collect(check):  # all files together: service ids must not repeat across them
        services = load_services(paths, area.postcodes, outline)
        by_type = services.placed["type"].value_counts().sort_index()
        check.facts.append("placed by type: " + ", ".join(f"{t} {n}" for t, n in by_type.items()))
    return services


def _travel_times(cfg: RunConfig, area: Area, services: Services, check: Check) -> None:
    path = cfg.access.travel_times
    if path is None:
        return
    with _collect(check):
        ids = pd.Index(services.placed["service_id"])
        tt = load_travel_times(path, pd.Index(area.lsoa["lsoa_code"]), ids)
        check.facts.append(
            f"{path.name}: {len(tt.times)} LSOA-to-service times used, "
            f"{tt.times['lsoa_code'].nunique()} LSOAs"
        )
        check.notes += tt.notes


def _settings(
    cfg: RunConfig, area: Area, caseload: Caseload | None, services: Services | None, check: Check
) -> None:
    if caseload is not None:
        # The ward columns the need index and clustering can use: the first steps of
        # pipeline.analyse, which are cheap (no Monte Carlo, access or clustering).
        table = ward_deprivation(area.lsoa, area.shares, official=area.ward_population)
        table = table.reindex(area.wards.index)
        if area.child_poverty is not None:
            table = table.join(ward_child_poverty(area.child_poverty, table["children"])[0])
        specs, features, _ = poverty_stand_in(
            cfg.need_index.specs, cfg.clustering.features, table.columns
        )
        table = table.join(caseload_rates(caseload.latest, table["children"]))
        if area.iod2019 is not None and area.lsoa11_lookup is not None:
            table = table.join(
                deprivation_change(area.lsoa, area.iod2019, area.lsoa11_lookup, area.shares)
            )
        table = table.join(caseload_change(caseload.counts, table["children"]))
        latest = caseload.latest
        hidden = pd.DataFrame(False, index=latest.index, columns=latest.columns)
        t = cfg.suppression.threshold
        table = table.join(index_rates(latest, table["children"], hidden, threshold=t))
        with _collect(check):
            need_index(table, specs, method=cfg.need_index.method)
            check.facts.append(f"need index: {len(specs)} indicators, all present for every ward")
        missing = [f for f in features if f not in table.columns]
        if missing:
            numeric = sorted(c for c in table.columns if pd.api.types.is_numeric_dtype(table[c]))
            check.problems.append(
                f"clustering.features: {missing} not available; choose from {numeric}"
            )
    if services is None:
        return
    pilots = None
    with _collect(check):
        periods = caseload.periods if caseload is not None else []
        as_of, _ = provision_date(cfg.siting.as_of, periods)
        pilots = load_pilots(cfg.pilots, services.placed, area.wards, area.postcodes, as_of=as_of)
        check.facts.append(pilots.describe())
        check.notes += pilots.notes
    present = sorted(services.placed["type"].unique())
    with _collect(check):
        resolve_types(cfg.access.types, present, key="access.types")
    sc = cfg.siting
    if sc.sites:
        keys = {type_key(t) for t in present} | {"lsoa"}
        unknown = [k for k in sc.candidates if type_key(k) not in keys]
        if unknown:
            check.problems.append(
                f"siting.candidates: {unknown} not among the service types; choose from "
                f"{[*present, 'lsoa']}"
            )
        placed = services.placed
        by_type = placed["type"].map(type_key).isin({type_key(k) for k in sc.existing})
        provision = existing_provision(placed.loc[by_type], pilots)
        fixed = by_type | placed["pilot"].astype(bool)
        if pilots is not None:
            fixed |= placed["service_id"].isin(pilots.service_ids)
        wanted = {type_key(k) for k in sc.candidates}
        allowed = pd.Series(True, index=placed.index)
        with _collect(check):
            allowed = eligible(placed, sc.candidate_categories)
        n_cands = int((placed["type"].map(type_key).isin(wanted) & ~fixed & allowed).sum())
        lsoas = " plus LSOA centres" if "lsoa" in wanted else ""
        ward_pilots = pilots.active_wards if pilots is not None else []
        check.facts.append(
            f"siting: {sc.sites} new site(s) from {n_cands} candidate services{lsoas}; "
            f"existing provision: {len(provision)} site(s)"
            + (f" and {len(ward_pilots)} ward(s) a pilot serves" if ward_pilots else "")
        )
        if provision.empty and not ward_pilots:
            check.notes.append(
                "existing provision: none supplied, so no output can say how many children "
                "are within reach of a service now. Add family hubs, children's centres or "
                f"other sites of the types in siting.existing ({', '.join(sc.existing)}) in a "
                "services file (config key 'services'), or pilots (config key 'pilots')"
            )
        elif area.meta.get("provision_note"):
            check.notes.append(f"existing provision: {area.meta['provision_note']}")


def validate_inputs(cfg: RunConfig) -> Validation:
    """Read every input of ``cfg`` as a run would, and report without running it.

    Parameters
    ----------
    cfg
        The run's configuration (with any command-line overrides applied).

    Returns
    -------
    Validation
        One check each for the area bundle, the caseload, the services (and travel
        times) and the settings that depend on the data; ``ok`` is False if any input
        would stop the run.
    """
    area_check, caseload_check = Check("area"), Check("caseload")
    services_check, settings_check = Check("services"), Check("settings")
    checks = [area_check, caseload_check, services_check, settings_check]
    area = _area(cfg, area_check)
    if area is None:
        for c in checks[1:]:
            c.facts.append("not checked: the area bundle must load first")
        return Validation(area=Path(cfg.area), checks=checks)
    caseload = _caseload(cfg, area, caseload_check)
    services = _services(cfg, area, services_check)
    if services is not None:
        _travel_times(cfg, area, services, services_check)
    _settings(cfg, area, caseload, services, settings_check)
    if not settings_check.facts and not settings_check.problems:
        settings_check.facts.append("not checked: the caseload and services must load first")
    return Validation(area=Path(cfg.area), checks=checks)
