"""Build needsmap's bundled dataset for one local authority from the public raw files.

Usage::

    python scripts/prepare_data.py RAW_DIR [--out data/wirral] [--lad E08000015]

RAW_DIR is the folder described by its MANIFEST.md (``shared/data/raw`` beside this
repository). The script is deterministic: rerunning it on the same files writes the
same bytes. Every choice it makes is explained in ``data/README.md``.

It writes the Wirral bundle (``data/wirral``: Wirral alone has postcodes, GP practices,
libraries, IDACI and IoD2019 in the raw folder) and the England-wide files every other
council is run from (``data/england``; see ``needsmap.england``). With ``--lad CODE`` it
writes, from ``data/england``, the complete bundle of the council that runs that
district's children's services (a county for a shire district), into ``--out`` (default
``data/<council name>``), for a council that wants to add its own files to it::

    python scripts/prepare_data.py RAW_DIR --lad E06000017 --out data/rutland
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from needsmap import synthetic as model
from needsmap import typology
from needsmap.england import build_bundle, find_council
from needsmap.errors import NeedsmapError
from needsmap.geography import aggregate, lsoa_ward_shares
from needsmap.sources.boundaries import load_lsoa_boundaries, load_ward_boundaries
from needsmap.sources.postcodes import load_postcodes

BNG = "EPSG:27700"
DOMAINS_2025 = [
    "IMD",
    "Income",
    "Employment",
    "Education",
    "Health",
    "Crime",
    "Housing_and_Services",
    "Environment",
]
SUBDOMAINS_2025 = [
    "children_and_young_people",
    "adult_skills",
    "geographical_barriers",
    "wider_barriers",
    "indoors",
    "outdoors",
]
DOMAINS_2019 = [
    "IMD",
    "Income",
    "Employment",
    "Education",
    "Health",
    "Crime",
    "Housing_and_Access",
    "Environment",
]
CASELOAD_MEASURES = {
    "children_in_need": "children_in_need_at_31_march",
    "child_protection_plans": "child_protection_plans_at_31_march",
    "looked_after_children": "children_looked_after_at_31_march",
}
SEED = 20251127
WARDS_FILE = "england/england_wards_may2024_bsc_ukmaps.gpkg"
CILIF_FILE = "england/england_dwp_cilif_ward_wd24_fye2022_2025_long.csv.gz"
CILIF_YEAR = 2025
"""DWP's FYE 2025 ward percentages divide by the ONS mid-2022 ward estimates of 0-15s."""
# ONS lookup column -> needsmap column, for every file keyed by 2021 LSOA.
ONS_COLUMNS = {
    "LSOA21CD": "lsoa_code",
    "LSOA21NM": "lsoa_name",
    "WD24CD": "ward_code",
    "WD24NM": "ward_name",
    "LAD24CD": "lad_code",
    "LAD24NM": "lad_name",
}


def _csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", float_format="%.6g")
    print(f"  wrote {path} ({len(frame)} rows)")


def _snake(name: str) -> str:
    return name.lower()


def prepare_geography(raw: Path, out: Path) -> gpd.GeoDataFrame:
    lsoa = gpd.read_file(raw / "boundaries/wirral_lsoa21_bsc.geojson")
    lookup = pd.read_csv(raw / "lookups/wirral_lsoa21_wd24_lad24_bestfit.csv")
    lsoa = lsoa[["LSOA21CD", "LSOA21NM", "geometry"]].merge(
        lookup[["LSOA21CD", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM"]],
        on="LSOA21CD",
        how="left",
        validate="1:1",
    )
    if lsoa["WD24CD"].isna().any():
        sys.exit("LSOA without a ward in the best-fit lookup; check the raw files.")
    lsoa = lsoa.rename(columns=ONS_COLUMNS).sort_values("lsoa_code", ignore_index=True)
    lsoa = lsoa.to_crs("EPSG:4326")
    path = _geojson(lsoa, out / "lsoa21.geojson")
    print(f"  wrote {path} ({len(lsoa)} LSOAs, {lsoa['ward_code'].nunique()} wards)")
    return lsoa


def _geojson(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """Write ``frame`` as RFC 7946 GeoJSON (6 dp), replacing an earlier build's file."""
    if path.exists():
        path.unlink()
    frame.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=6, RFC7946="YES")
    return path


def prepare_wards(raw: Path, out: Path, lad: str) -> gpd.GeoDataFrame:
    """The LAD's wards from the ONS May 2024 BSC ward boundaries (EPSG:4326, 6 dp)."""
    wards = gpd.read_file(raw / WARDS_FILE, where=f"LAD24CD = '{lad}'")
    if wards.empty:
        sys.exit(f"{lad}: no wards in {WARDS_FILE}.")
    wards = wards.rename(columns=ONS_COLUMNS)[["ward_code", "ward_name", "geometry"]]
    wards = wards.sort_values("ward_code", ignore_index=True).to_crs("EPSG:4326")
    path = _geojson(wards, out / "wards.geojson")
    print(f"  wrote {path} ({len(wards)} wards, ONS May 2024 BSC)")
    return wards


def prepare_shares(out: Path) -> pd.DataFrame:
    """Each LSOA's share of each ward (needsmap.geography.lsoa_ward_shares), computed
    from the bundled LSOAs, wards and postcodes, so a run that recomputed it agrees."""
    lsoa = load_lsoa_boundaries(out / "lsoa21.geojson")
    wards = load_ward_boundaries(out / "wards.geojson")
    postcodes = load_postcodes(out / "postcodes.csv")
    shares = lsoa_ward_shares(lsoa, wards, postcodes=postcodes)
    _csv(shares, out / "lsoa_ward_shares.csv")
    split = shares.loc[shares["share"] < 1, "lsoa_code"].nunique()
    print(f"  {split} of {len(lsoa)} LSOAs are split between wards")
    return shares


def prepare_deprivation(raw: Path, out: Path) -> None:
    iod = pd.read_csv(raw / "deprivation/wirral_iod2025_lsoa21_domains.csv")
    sup = pd.read_csv(raw / "deprivation/wirral_iod2025_lsoa21_idaci_idaopi_popdenominators.csv")
    scores = pd.read_csv(raw / "deprivation/wirral_iod2025_lsoa21_idaci_idaopi_scores.csv")
    check = iod.merge(scores, on="LSOA21CD", suffixes=("", "_check"))
    for col in ("IMD_score", "Income_score", "Employment_score"):
        if not np.allclose(check[col], check[f"{col}_check"]):
            sys.exit(f"{col} differs between the IoD2025 domain and score files.")
    cols = ["LSOA21CD"]
    for d in DOMAINS_2025 + SUBDOMAINS_2025:
        cols += [f"{d}_score", f"{d}_rank", f"{d}_decile"]
    frame = (
        iod[cols]
        .merge(scores[["LSOA21CD", "IDACI_score", "IDAOPI_score"]], on="LSOA21CD", validate="1:1")
        .merge(
            sup[["LSOA21CD", "IDACI_rank", "IDACI_decile", "IDAOPI_rank", "IDAOPI_decile"]],
            on="LSOA21CD",
            validate="1:1",
        )
    )
    frame.columns = ["lsoa_code"] + [_snake(c) for c in frame.columns[1:]]
    _csv(frame.sort_values("lsoa_code"), out / "deprivation_iod2025_lsoa21.csv")

    old = pd.read_csv(raw / "deprivation/wirral_iod2019_lsoa11_domains_idaci_pop.csv")
    cols = ["LSOA11CD"]
    for d in DOMAINS_2019:
        cols += [f"{d}_rank", f"{d}_decile"]
    cols += ["IDACI_rank", "IDACI_decile", "IDAOPI_rank", "IDAOPI_decile"]
    frame = old[cols].copy()
    frame.columns = ["lsoa11_code"] + [_snake(c) for c in frame.columns[1:]]
    _csv(frame.sort_values("lsoa11_code"), out / "deprivation_iod2019_lsoa11.csv")

    lookup = pd.read_csv(raw / "lookups/wirral_lsoa11_lsoa21_lad22.csv")
    lookup = lookup[["LSOA11CD", "LSOA21CD", "CHGIND"]].rename(
        columns={"LSOA11CD": "lsoa11_code", "LSOA21CD": "lsoa_code", "CHGIND": "change"}
    )
    _csv(lookup.sort_values(["lsoa11_code", "lsoa_code"]), out / "lsoa11_to_lsoa21.csv")


def dfe_children(la_rows: pd.DataFrame) -> tuple[int, float]:
    """DfE's latest year and its population aged 0-17 for the LA (the rate denominator)."""
    rows = la_rows.dropna(subset=["population_0_17"])
    latest = rows.loc[rows["year"] == rows["year"].max(), "population_0_17"]
    return int(rows["year"].max()), float(latest.iloc[0])


def prepare_population(raw: Path, out: Path, dfe_total: float) -> pd.DataFrame:
    """Mid-2022 total, 0-15 and 60+ (IoD2025 File 6); 16-17 mid-2020 mapped to LSOA21;
    children 0-17 = 0-15 + 16-17, scaled so the LSOAs sum to DfE's denominator."""
    denom = pd.read_csv(raw / "deprivation/wirral_iod2025_lsoa21_idaci_idaopi_popdenominators.csv")
    pop = denom[["LSOA21CD", "pop_total_mid2022", "pop_0_15_mid2022", "pop_60plus_mid2022"]]
    pop = pop.rename(
        columns={
            "LSOA21CD": "lsoa_code",
            "pop_total_mid2022": "population",
            "pop_0_15_mid2022": "children_0_15",
            "pop_60plus_mid2022": "population_60_plus",
        }
    )
    single = pd.read_csv(raw / "population/wirral_lsoa11_mid2020_single_year_age.csv")
    single["age_16_17"] = single["16"] + single["17"]
    lookup = pd.read_csv(raw / "lookups/wirral_lsoa11_lsoa21_lad22.csv")
    kids = lookup[["LSOA11CD", "LSOA21CD"]].merge(
        single[["LSOA11CD", "age_16_17"]], on="LSOA11CD", validate="m:1"
    )
    # A split LSOA11's 16-17s are shared among its LSOA21 parts by their mid-2022
    # population; unchanged LSOAs keep their count. Totals are conserved exactly.
    kids = kids.merge(pop[["lsoa_code", "population"]], left_on="LSOA21CD", right_on="lsoa_code")
    share = kids["population"] / kids.groupby("LSOA11CD")["population"].transform("sum")
    kids["children_16_17"] = kids["age_16_17"] * share
    pop = pop.merge(kids[["lsoa_code", "children_16_17"]], on="lsoa_code", validate="1:1")
    if not np.isclose(pop["children_16_17"].sum(), single["age_16_17"].sum()):
        sys.exit("Children 16-17 not conserved when mapping LSOA11 to LSOA21.")
    unscaled = pop["children_0_15"] + pop["children_16_17"]
    pop["children"] = (unscaled * dfe_total / unscaled.sum()).round(1)
    pop["children_16_17"] = pop["children_16_17"].round(1)
    _csv(pop.sort_values("lsoa_code"), out / "population_lsoa21.csv")
    return pop


def official_children_0_15(raw: Path, wards: pd.Series) -> pd.Series:
    """ONS mid-2022 children aged 0-15 per ward, read back from DWP's FYE 2025 ward table.

    DWP's percentages divide its counts by the ONS mid-2022 ward estimates (its note 3),
    so count / percentage gives the estimate back, to within the rounding of the
    percentage (3 decimal places: well under one child). Blank where DWP shows none.
    """
    cilif = pd.read_csv(raw / CILIF_FILE, dtype={"source_flag": str})
    rows = cilif[(cilif["fye"] == CILIF_YEAR) & (cilif["measure"] == "relative_bhc")]
    rows = rows.set_index("ward_code").reindex(wards.index)
    estimate = rows["children_0_15"] / (rows["percentage"] / 100)
    return estimate.where(rows["percentage"] > 0).round(0)


def prepare_ward_population(
    raw: Path,
    out: Path,
    wards: gpd.GeoDataFrame,
    shares: pd.DataFrame,
    pop: pd.DataFrame,
    dfe_total: float,
) -> pd.DataFrame:
    """Children 0-15 (official ward estimate) and 0-17 (scaled to DfE) for each ward."""
    names = wards.set_index("ward_code")["ward_name"]
    frame = shares.merge(pop[["lsoa_code", "children_16_17", "children_0_15"]], on="lsoa_code")
    split = frame[["children_16_17", "children_0_15"]].mul(frame["share"], axis=0)
    from_lsoas = split.groupby(frame["ward_code"]).sum().reindex(names.index)
    official = official_children_0_15(raw, names)
    table = pd.DataFrame({"ward_name": names})
    table["children_0_15"] = official.fillna(from_lsoas["children_0_15"].round(0))
    table["children_0_15_source"] = np.where(
        official.notna(), "ONS mid-2022 ward estimate (via DWP)", "LSOAs by share"
    )
    table["children_16_17"] = from_lsoas["children_16_17"].round(1)
    unscaled = table["children_0_15"] + table["children_16_17"]
    table["children"] = (unscaled * dfe_total / unscaled.sum()).round(1)
    _csv(table.reset_index(), out / "population_wards.csv")
    return table


def prepare_postcodes(raw: Path, out: Path, lsoa: gpd.GeoDataFrame, lad: str) -> None:
    """Live postcodes in the LAD, each with the 2021 LSOA it falls in.

    The LSOA polygons are generalised (BSC), so about 0.3% of postcodes fall just
    outside all of them; those take the nearest LSOA within 250 m.
    """
    pc = pd.read_csv(raw / "postcodes/ch41-49_ch60-66_codepoint_open_2025-10.csv")
    pc = pc[pc["admin_district_code"] == lad]
    points = gpd.GeoDataFrame(
        pc[["postcode", "positional_quality", "easting", "northing"]],
        geometry=gpd.points_from_xy(pc["easting"], pc["northing"]),
        crs=BNG,
    )
    polys = lsoa[["lsoa_code", "geometry"]].to_crs(BNG)
    joined = gpd.sjoin_nearest(points, polys, how="left", max_distance=250)
    joined = joined[~joined.index.duplicated()]
    n_far = int(joined["lsoa_code"].isna().sum())
    frame = pd.DataFrame(joined.drop(columns=["geometry", "index_right"]))
    frame = frame.sort_values("postcode", ignore_index=True)
    _csv(frame, out / "postcodes.csv")
    print(f"  {n_far} postcodes more than 250 m from any LSOA polygon kept without LSOA")


WIRRAL_LA = "344"
"""Wirral's three-digit DfE local authority code (GIAS and the school census)."""
SERVICES_COLUMNS = [
    "service_id",
    "name",
    "type",
    "subtype",
    "category",
    "phase",
    "postcode",
    "easting",
    "northing",
    "capacity",
    "pupils",
    "fsm_share",
    "fsm_source",
    "provenance",
]
STATE_GROUPS = {"Local authority maintained schools", "Academies", "Free Schools"}


def school_category(group: str, kind: str, phase: str) -> str:
    """What kind of school, for choosing candidate sites (``siting.candidate_categories``).

    mainstream: state-funded nursery, primary, secondary, middle and all-through schools;
    special; independent; alternative_provision (pupil referral units and AP academies);
    college (16-19, sixth-form, further and higher education); other.
    """
    low = kind.lower()
    if "special" in low:
        return "special"
    if "alternative provision" in low or low == "pupil referral unit":
        return "alternative_provision"
    if group in ("Colleges", "Universities") or "16" in low or phase == "16 plus":
        return "college"
    if group == "Independent schools":
        return "independent"
    if group in STATE_GROUPS:
        return "mainstream"
    return "other"


def prepare_schools(raw: Path, la: str) -> pd.DataFrame:
    """Open establishments in GIAS (May 2025) with phase, type, pupils and FSM share.

    FSM share is the January 2023 school census (eligible / headcount) where the URN is in
    it; otherwise GIAS's own percentage (schools that opened or converted since); blank
    where neither publishes it (independent schools). Capacity is pupils on roll: GIAS
    has no school capacity.
    """
    gias = pd.read_csv(
        raw / "england/england_gias_open_establishments_2025-05-24.csv.gz", dtype=str
    )
    gias = gias[gias["la_code"] == la].copy()
    census = pd.read_csv(
        raw / "england/england_school_census_jan2023_school_level.csv.gz", dtype=str
    )
    census = census[census["la_code"] == la]
    fsm_n = pd.to_numeric(census["fsm_eligible_n"], errors="coerce")
    head = pd.to_numeric(census["headcount_pupils"], errors="coerce")
    census_share = pd.Series((fsm_n / head).to_numpy(), index=census["urn"])
    census_share = census_share[census_share.notna()]
    pupils = pd.to_numeric(gias["number_of_pupils"])
    from_census = gias["urn"].map(census_share)
    from_gias = pd.to_numeric(gias["percentage_fsm"]) / 100
    share = from_census.fillna(from_gias)
    source = np.where(
        from_census.notna(),
        "school census January 2023",
        np.where(from_gias.notna(), "GIAS May 2025", ""),
    )
    return pd.DataFrame(
        {
            "service_id": "URN-" + gias["urn"],
            "name": gias["establishment_name"],
            "type": "school",
            "subtype": gias["establishment_type"],
            "category": [
                school_category(g, k, p)
                for g, k, p in zip(
                    gias["establishment_type_group"],
                    gias["establishment_type"],
                    gias["education_phase"],
                    strict=True,
                )
            ],
            "phase": gias["education_phase"].replace("Not applicable", ""),
            "easting": pd.to_numeric(gias["easting"]),
            "northing": pd.to_numeric(gias["northing"]),
            "capacity": pupils,
            "pupils": pupils,
            "fsm_share": share.round(3),
            "fsm_source": source,
        }
    )


def prepare_family_hubs(raw: Path) -> pd.DataFrame:
    """The known family hubs and children's centres: a partial list, with its sources."""
    hubs = pd.read_csv(raw / "services/wirral_family_hubs_childrens_centres_partial.csv", dtype=str)
    prefix = hubs["type"].map({"family_hub": "FH-", "childrens_centre": "CC-"})
    return pd.DataFrame(
        {
            "service_id": prefix
            + hubs["name"].str.upper().str.replace(r"[^A-Z]+", "-", regex=True).str.strip("-"),
            "name": hubs["name"],
            "type": hubs["type"],
            "subtype": hubs["type"].map(
                {"family_hub": "Family hub", "childrens_centre": "Children's centre"}
            ),
            "postcode": hubs["postcode"],
            "provenance": "as of " + hubs["as_of"] + "; " + hubs["basis"] + "; " + hubs["source"],
        }
    )


PROVISION_NOTE = (
    "Family hubs and children's centres are a partial list: 3 of the 8 family hubs open "
    "in 2024 (St James Centre, Ganneys Meadow, Seacombe) and one children's centre "
    "(Leasowe). The others (in Bromborough, New Ferry, Moreton and two more in Birkenhead) "
    "are not named in any public source used here; add them in a services file."
)
"""What the bundle's existing provision is, for every output that states coverage now."""


def prepare_services(raw: Path, out: Path) -> None:
    """GP practices, schools (GIAS 2025), libraries and the known family hubs."""
    gp = pd.read_csv(raw / "services/wirral_gp_practices_epraccur_2023-02.csv", dtype=str)
    gp = gp[(gp["status_code"] == "A") & (gp["prescribing_setting"] == "4")]
    gp_rows = pd.DataFrame(
        {
            "service_id": "ODS-" + gp["org_code"],
            "name": gp["name"].str.title(),
            "type": "gp_practice",
            "subtype": "GP practice",
            "postcode": gp["postcode"],
        }
    )

    school_rows = prepare_schools(raw, WIRRAL_LA)
    hub_rows = prepare_family_hubs(raw)

    libs = pd.read_csv(raw / "services/wirral_public_libraries_ace_2023.csv", dtype=str)
    libs = libs[libs["operation_23"].isin(["LA", "CR"]) & (libs["type"] == "Static Library")]
    lib_rows = pd.DataFrame(
        {
            "service_id": "LIB-"
            + libs["name"].str.upper().str.replace(r"[^A-Z]+", "-", regex=True),
            "name": libs["name"] + " Library",
            "type": "library",
            "subtype": libs["operation_23"].map(
                {"LA": "Council-run library", "CR": "Community-run library"}
            ),
            "postcode": libs["postcode"],
            "capacity": pd.to_numeric(libs["hours"]),
        }
    )
    services = pd.concat([gp_rows, school_rows, lib_rows, hub_rows], ignore_index=True)
    services = services.reindex(columns=SERVICES_COLUMNS)
    services = services.sort_values(["type", "service_id"], ignore_index=True)
    _csv(services, out / "services.csv")
    print("  " + ", ".join(f"{n} {t}" for t, n in services["type"].value_counts().items()))


def dfe_area_name(raw: Path, lad: str) -> str | None:
    """The DfE name of the children's services authority with this code, if DfE has one."""
    csc = pd.read_csv(raw / "social_care/england_la_childrens_social_care_2013_2025.csv")
    la = csc.loc[csc["new_la_code"] == lad, "area_name"].dropna().unique()
    return str(la[0]) if len(la) == 1 else None


def prepare_social_care(raw: Path, out: Path, lad: str) -> pd.DataFrame:
    csc = pd.read_csv(raw / "social_care/england_la_childrens_social_care_2013_2025.csv")
    sn = pd.read_csv(raw / "social_care/dfe_statistical_neighbours_april2021.csv")
    la_name = dfe_area_name(raw, lad)
    if la_name is None:
        sys.exit(f"{lad}: not found in the DfE children's social care file.")
    row = sn[sn["LA.Name"] == la_name]
    neighbours = row[[f"SN{i}" for i in range(1, 11)]].iloc[0].tolist() if len(row) else []
    keep = csc[
        (csc["geographic_level"] == "National")
        | (csc["area_name"] == la_name)
        | (csc["area_name"].isin(neighbours) & (csc["geographic_level"] == "Local authority"))
    ].copy()
    keep["group"] = np.select(
        [keep["geographic_level"] == "National", keep["area_name"] == la_name],
        ["England", "Local authority"],
        "Statistical neighbour",
    )
    keep = keep[
        [
            "group",
            "area_name",
            "new_la_code",
            "time_period",
            "measure",
            "number",
            "rate_per_10000",
            "population_0_17",
            "rate_raw",
        ]
    ].rename(columns={"new_la_code": "la_code", "time_period": "year"})
    keep = keep.sort_values(["measure", "year", "group", "area_name"], ignore_index=True)
    _csv(keep, out / "dfe_childrens_social_care.csv")
    return keep[keep["group"] == "Local authority"]


CILIF_FILE = "england/england_dwp_cilif_ward_wd24_fye2022_2025_long.csv.gz"


def _cilif_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Children in low income and the percentage for a group of wards, by year and measure.

    The percentage is the ward counts' sum over the sum of each ward's children aged 0-15
    implied by its count and percentage (count / percentage); wards with a blank cell
    are left out of both sums.
    """
    rows = rows.dropna(subset=["children_0_15", "percentage"])
    rows = rows[rows["percentage"] > 0]
    base = rows["children_0_15"] / rows["percentage"] * 100
    frame = (
        rows.assign(base=base)
        .groupby(["fye", "measure"], as_index=False)[["children_0_15", "base"]]
        .sum()
    )
    frame["percentage"] = (frame["children_0_15"] / frame["base"] * 100).round(3)
    frame["children_0_15"] = frame["children_0_15"].round().astype("int64")
    return frame.drop(columns="base").rename(columns={"children_0_15": "children"})


def prepare_child_poverty(raw: Path, out: Path, lad: str) -> None:
    """DWP Children in Low Income Families for the area's wards, and for the area, England
    and its DfE statistical neighbours (summed from their wards).

    Writes ``child_poverty_wards.csv`` (ward_code, ward_name, fye, measure, children,
    percentage) and ``child_poverty_areas.csv`` (group, area_name, fye, measure, children,
    percentage). The MSOA series (FYE 2015-2022) is not used: DWP says figures before
    FYE 2022 are not on a consistent basis (MANIFEST).
    """
    text = {"ward_code": str, "la_code": str, "source_flag": str}
    cilif = pd.read_csv(raw / CILIF_FILE, dtype=text)
    wards = cilif[cilif["la_code"] == lad]
    if wards.empty:
        print(f"  {lad}: no ward in the DWP children in low income file; skipped")
        return
    table = wards[["ward_code", "ward_name", "fye", "measure", "children_0_15", "percentage"]]
    table = table.rename(columns={"children_0_15": "children"})
    table = table.sort_values(["ward_code", "measure", "fye"], ignore_index=True)
    table["children"] = table["children"].astype("Int64")
    _csv(table, out / "child_poverty_wards.csv")
    la_name = str(wards["la_name"].iloc[0])
    sn = pd.read_csv(raw / "social_care/dfe_statistical_neighbours_april2021.csv")
    row = sn[sn["LA.Name"] == (dfe_area_name(raw, lad) or la_name)]
    neighbours = row[[f"SN{i}" for i in range(1, 11)]].iloc[0].tolist() if len(row) else []
    groups = [("England", "England", cilif), ("Local authority", la_name, wards)]
    groups += [
        ("Statistical neighbour", name, cilif[cilif["la_name"] == name])
        for name in neighbours
        if (cilif["la_name"] == name).any()
    ]
    absent = [name for name in neighbours if not (cilif["la_name"] == name).any()]
    areas = pd.concat(
        [_cilif_summary(rows).assign(group=g, area_name=n) for g, n, rows in groups],
        ignore_index=True,
    )
    areas = areas[["group", "area_name", "fye", "measure", "children", "percentage"]]
    _csv(areas, out / "child_poverty_areas.csv")
    print(
        f"  child poverty: {table['ward_code'].nunique()} wards, FYE "
        f"{table['fye'].min()}-{table['fye'].max()}; {len(groups) - 2} statistical neighbours"
        + (f" ({', '.join(absent)} not a DWP local authority: left out)" if absent else "")
    )


def synthetic_caseload(
    ward_pop: pd.DataFrame,
    shares: pd.DataFrame,
    pop: pd.DataFrame,
    dep: pd.DataFrame,
    la_rows: pd.DataFrame,
) -> pd.DataFrame:
    """Seeded synthetic ward caseload whose totals equal the LA's published DfE counts.

    The model is ``needsmap.synthetic`` (documented there and in data/README.md); this
    builds its inputs: ward children 0-17, IDACI weighted by children 0-15 (LSOAs split
    by their ward shares, as a run aggregates them), and DfE totals 2021-2025.
    """
    lsoa = pop[["lsoa_code", "children_0_15"]].merge(dep[["lsoa_code", "idaci_score"]])
    idaci = aggregate(lsoa, weighted={"idaci_score": "children_0_15"}, shares=shares)
    wards = ward_pop[["ward_name", "children"]].join(idaci["idaci_score"].rename("idaci"))
    totals = {}
    for measure, dfe_measure in CASELOAD_MEASURES.items():
        rows = la_rows[la_rows["measure"] == dfe_measure].set_index("year")["number"]
        totals[measure] = {
            int(y): int(rows[y]) for y in range(2021, 2026) if y in rows.index and pd.notna(rows[y])
        }
    return model.synthetic_caseload(wards.reset_index(), totals, seed=SEED)


def prepare_england(raw: Path, out: Path) -> None:
    """England-wide files for every council (``needsmap.england``; data/README.md)."""
    councils = prepare_councils(raw, out)
    prepare_england_lsoas(raw, out, councils)
    prepare_england_wards(raw, out)
    prepare_england_child_poverty(raw, out)
    prepare_england_schools(raw, out, councils)
    prepare_england_social_care(raw, out)
    prepare_ward_typology(out)


# Parquet: zstd, small row groups sorted by council, so that reading one council's rows
# (pyarrow filters on the row-group statistics) touches a few groups, not the file.
PARQUET = {"compression": "zstd", "compression_level": 19, "row_group_size": 1024}


def _parquet(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(frame, gpd.GeoDataFrame):
        frame.to_parquet(path, index=False, schema_version="1.0.0", **PARQUET)
    else:
        frame.to_parquet(path, index=False, **PARQUET)
    size = path.stat().st_size / 1e6
    print(f"  wrote {path} ({len(frame)} rows, {size:.1f} MB)")


def _gz_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(
        path,
        index=False,
        lineterminator="\n",
        float_format="%.6g",
        compression={"method": "gzip", "mtime": 0},
    )
    print(f"  wrote {path} ({len(frame)} rows)")


def prepare_ward_typology(out: Path) -> None:
    """The national ward typology and similar wards (``needsmap.typology``), from the
    England files just written."""
    lsoa = pd.read_parquet(
        out / "lsoa21.parquet",
        columns=list(typology.LSOA_COLUMNS),
    )
    cp = pd.read_csv(out / "child_poverty_wards.csv.gz")
    result = typology.ward_typology(typology.ward_features(lsoa, cp))
    _gz_csv(result.wards.reset_index(), out / "ward_types.csv.gz")
    _csv(result.types.reset_index(), out / "ward_type_profiles.csv")


def prepare_councils(raw: Path, out: Path) -> pd.DataFrame:
    """Each 2024 district with the council that runs its children's services.

    Children's services belong to the upper-tier council, which is how DfE publishes
    them: a unitary, metropolitan or London borough is its own; a shire district's is
    its county. The county comes from the January 2023 school census, which gives every
    school's district (``district_code``) and its children's services authority
    (``new_la_code``): a district takes the authority of most of its schools. A district
    that DfE publishes under its own code (the unitaries made in 2023) is its own.
    """
    lookup = pd.read_csv(raw / "lookups/ew_lsoa21_wd24_lad24_bestfit.csv.gz", dtype=str)
    lads = (
        lookup[lookup["LAD24CD"].str.startswith("E")][["LAD24CD", "LAD24NM"]]
        .drop_duplicates()
        .rename(columns={"LAD24CD": "lad_code", "LAD24NM": "lad_name"})
    )
    csc = pd.read_csv(raw / "social_care/england_la_childrens_social_care_2013_2025.csv")
    la = csc[(csc["geographic_level"] == "Local authority") & csc["new_la_code"].notna()]
    la = la.sort_values("time_period").drop_duplicates("new_la_code", keep="last")
    la_names = dict(zip(la["new_la_code"], la["area_name"], strict=True))
    census = pd.read_csv(
        raw / "england/england_school_census_jan2023_school_level.csv.gz", dtype=str
    )
    votes = census.groupby(["district_code", "new_la_code"]).size().reset_index(name="n")
    votes = votes.sort_values(["district_code", "n", "new_la_code"], ascending=[True, False, True])
    by_census = votes.drop_duplicates("district_code").set_index("district_code")["new_la_code"]
    own = lads["lad_code"].where(lads["lad_code"].isin(la_names))
    lads["la_code"] = own.fillna(lads["lad_code"].map(by_census))
    lost = lads[lads["la_code"].isna() | ~lads["la_code"].isin(la_names)]
    if len(lost):
        sys.exit(f"{len(lost)} district(s) without a children's services authority: {lost}")
    lads["la_name"] = lads["la_code"].map(la_names)
    frame = lads[["la_code", "la_name", "lad_code", "lad_name"]]
    frame = frame.sort_values(["la_code", "lad_code"], ignore_index=True)
    _csv(frame, out / "councils.csv")
    print(f"  {frame['lad_code'].nunique()} districts in {frame['la_code'].nunique()} councils")
    return frame


def prepare_england_lsoas(raw: Path, out: Path, councils: pd.DataFrame) -> None:
    """Every LSOA: polygon, best-fit ward, district, council, IoD2025, Census 2021 ages."""
    poly = gpd.read_file(raw / "england/england_lsoa21_boundaries_bsc_v4.gpkg")
    lookup = pd.read_csv(raw / "lookups/ew_lsoa21_wd24_lad24_bestfit.csv.gz", dtype=str)
    iod = pd.read_csv(raw / "deprivation/england_iod2025_lsoa21_domains.csv.gz")
    conn = pd.read_csv(raw / "england/england_iod2025_lsoa21_connectivity_score.csv.gz")
    ages = pd.read_csv(raw / "england/england_lsoa21_census2021_usual_residents_age6.csv.gz")
    cols = ["LSOA21CD"]
    for d in DOMAINS_2025 + SUBDOMAINS_2025:
        cols += [f"{d}_score", f"{d}_rank", f"{d}_decile"]
    frame = (
        poly[["LSOA21CD", "geometry"]]
        .merge(
            lookup[["LSOA21CD", "LSOA21NM", *list(ONS_COLUMNS)[2:]]], on="LSOA21CD", validate="1:1"
        )
        .merge(iod[cols], on="LSOA21CD", validate="1:1")
        .merge(conn, on="LSOA21CD", validate="1:1")
        .merge(ages.rename(columns={"total": "population"}), on="LSOA21CD", validate="1:1")
    )
    if len(frame) != len(poly):
        sys.exit("England LSOA files do not cover the same LSOAs.")
    frame = frame.rename(columns=ONS_COLUMNS)
    frame.columns = [c.lower() for c in frame.columns]
    frame = frame.merge(councils[["lad_code", "la_code"]], on="lad_code", validate="m:1")
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=poly.crs).to_crs(BNG)
    # Metres, rounded to 1 m: far finer than the 200 m generalisation, and it compresses.
    frame["geometry"] = frame.geometry.set_precision(1.0)
    frame["geometry"] = _clean_coverage(frame.geometry.to_numpy())
    bad = ~frame.geometry.is_valid | frame.geometry.is_empty
    if bad.any():
        sys.exit(f"{int(bad.sum())} LSOA polygons invalid after rounding to 1 m.")
    first = ["lsoa_code", "lsoa_name", "ward_code", "ward_name", "lad_code", "lad_name", "la_code"]
    frame = frame[[*first, *[c for c in frame.columns if c not in first]]]
    frame = frame.sort_values(["la_code", "lad_code", "lsoa_code"], ignore_index=True)
    _parquet(frame, out / "lsoa21.parquet")


def _clean_coverage(geoms: np.ndarray) -> np.ndarray:
    """Make neighbouring LSOAs meet exactly, so wards dissolve as a coverage (fast).

    In ONS's BSC file 11 LSOAs (in Milton Keynes, Devon and a few more places) overlap
    or miss their neighbours' vertices by under a metre. Each is snapped to each
    neighbour and back within 1 m, which moves no area by more than 160 m².
    """
    geoms = geoms.copy()
    bad = np.flatnonzero(~shapely.is_empty(shapely.coverage_invalid_edges(geoms)))
    tree = shapely.STRtree(geoms)
    for i in bad:
        for j in tree.query(geoms[i], predicate="intersects"):
            if j != i:
                geoms[i] = shapely.snap(geoms[i], geoms[j], 1.0)
                geoms[j] = shapely.snap(geoms[j], geoms[i], 1.0)
    left = int((~shapely.is_empty(shapely.coverage_invalid_edges(geoms))).sum())
    if left:
        sys.exit(f"{left} LSOA polygons still do not meet their neighbours exactly.")
    print(f"  snapped {len(bad)} LSOA polygons to their neighbours (within 1 m)")
    return geoms


def prepare_england_wards(raw: Path, out: Path) -> None:
    """May 2024 ward polygons (ONS BSC), for England-wide maps and the benchmark."""
    wards = gpd.read_file(raw / "england/england_wards_may2024_bsc_ukmaps.gpkg")
    wards = wards.rename(columns={k: v for k, v in ONS_COLUMNS.items() if k in wards.columns})
    wards = wards[["ward_code", "ward_name", "lad_code", "lad_name", "geometry"]].to_crs(BNG)
    wards["geometry"] = wards.geometry.set_precision(1.0)
    bad = ~wards.geometry.is_valid
    wards.loc[bad, "geometry"] = wards.loc[bad, "geometry"].make_valid()
    _parquet(wards.sort_values(["lad_code", "ward_code"], ignore_index=True), out / "wards.parquet")


def prepare_england_child_poverty(raw: Path, out: Path) -> None:
    """DWP children aged 0-15 in low income families by 2024 ward, long format."""
    cp = pd.read_csv(
        raw / "england/england_dwp_cilif_ward_wd24_fye2022_2025_long.csv.gz",
        usecols=["ward_code", "ward_name", "fye", "measure", "children_0_15", "percentage"],
    )
    cp = cp.rename(columns={"children_0_15": "children"})
    cp = cp[["ward_code", "ward_name", "fye", "measure", "children", "percentage"]]
    _gz_csv(cp.sort_values(["ward_code", "measure", "fye"]), out / "child_poverty_wards.csv.gz")


def prepare_england_schools(raw: Path, out: Path, councils: pd.DataFrame) -> None:
    """Open schools (GIAS, May 2025) with location, pupils and census FSM (Jan 2023).

    Universities, online providers and "other" establishments are left out; each school
    takes the council of the LSOA it is in (GIAS gives the 2021 LSOA).
    """
    gias = pd.read_csv(raw / "england/england_gias_open_establishments_2025-05-24.csv.gz")
    census = pd.read_csv(raw / "england/england_school_census_jan2023_school_level.csv.gz")
    keep = ~gias["establishment_type_group"].isin(
        ["Universities", "Online provider", "Other types"]
    )
    located = (gias["easting"] > 0) & gias["lsoa_code"].str.startswith("E01")
    gias = gias[keep & located]
    lookup = pd.read_csv(raw / "lookups/ew_lsoa21_wd24_lad24_bestfit.csv.gz", dtype=str)
    lad = dict(zip(lookup["LSOA21CD"], lookup["LAD24CD"], strict=True))
    la = dict(zip(councils["lad_code"], councils["la_code"], strict=True))
    fsm = pd.to_numeric(census.set_index("urn")["fsm_eligible_n"], errors="coerce")
    frame = pd.DataFrame(
        {
            "la_code": gias["lsoa_code"].map(lad).map(la),
            "service_id": "URN-" + gias["urn"].astype(str),
            "name": gias["establishment_name"],
            "type": "school",
            "subtype": gias["establishment_type"],
            "phase": gias["education_phase"],
            "easting": gias["easting"].astype(float),
            "northing": gias["northing"].astype(float),
            "lsoa_code": gias["lsoa_code"],
            "capacity": gias["number_of_pupils"],
            "pupils": gias["number_of_pupils"],
            "fsm_pupils": gias["urn"].map(fsm),
        }
    )
    _parquet(
        frame.sort_values(["la_code", "service_id"], ignore_index=True), out / "schools.parquet"
    )


def prepare_england_social_care(raw: Path, out: Path) -> None:
    """DfE children's social care for every council and England, and the neighbours."""
    csc = pd.read_csv(raw / "social_care/england_la_childrens_social_care_2013_2025.csv")
    csc = csc[csc["geographic_level"].isin(["National", "Local authority"])]
    codes = csc.dropna(subset=["new_la_code"]).drop_duplicates("area_name")
    code_of = dict(zip(codes["area_name"], codes["new_la_code"], strict=True))
    csc = csc.assign(la_code=csc["area_name"].map(code_of))
    csc.loc[csc["geographic_level"] == "National", "la_code"] = "E92000001"
    frame = csc[
        [
            "la_code",
            "area_name",
            "time_period",
            "measure",
            "number",
            "rate_per_10000",
            "population_0_17",
            "rate_raw",
        ]
    ].rename(columns={"time_period": "year"})
    _gz_csv(
        frame.sort_values(["la_code", "measure", "year"], ignore_index=True),
        out / "dfe_childrens_social_care.csv.gz",
    )
    sn = pd.read_csv(raw / "social_care/dfe_statistical_neighbours_april2021.csv")
    rows = [
        {
            "la_code": code_of.get(r["LA.Name"]),
            "la_name": r["LA.Name"],
            "rank": i,
            "neighbour_code": code_of.get(r[f"SN{i}"]),
            "neighbour_name": r[f"SN{i}"],
        }
        for _, r in sn.iterrows()
        for i in range(1, 11)
    ]
    _csv(pd.DataFrame(rows).dropna(subset=["la_code"]), out / "statistical_neighbours.csv")


def _area_identity(lad: str, lad_name: str) -> dict[str, str]:
    """The bundle.json fields every bundle, complete or partial, starts with."""
    return {
        "area_name": lad_name,
        "lad_code": lad,
        "ward_vintage": "WD24 (ONS May 2024 ward boundaries, BSC)",
        "lsoa_vintage": "LSOA21",
        "deprivation": "English Indices of Deprivation 2025 (MHCLG)",
    }


def _write_meta(out: Path, meta: dict[str, object]) -> None:
    path = out / "bundle.json"
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"  wrote {path}")


def write_bundle_meta(out: Path, lad: str, lad_name: str) -> None:
    meta = {
        **_area_identity(lad, lad_name),
        "population": (
            "ONS mid-2022 (IoD2025 File 6; ward 0-15: ONS mid-2022 ward estimates via DWP); "
            "0-17 = 0-15 plus mid-2020 16-17, scaled to DfE's 2025 denominator"
        ),
        "caseload_synthetic": True,
        "caseload_note": (
            "Synthetic ward caseload, calibrated to DfE published totals for the LA; "
            "not real ward figures."
        ),
        "provision_note": PROVISION_NOTE,
        "attribution": [
            "Source: Office for National Statistics licensed under the Open Government "
            "Licence v3.0. Contains OS data © Crown copyright and database right 2025.",
            "Contains Royal Mail data © Royal Mail copyright and database right 2025. "
            "Contains National Statistics data © Crown copyright and database right 2025.",
            "English Indices of Deprivation 2025 and 2019, MHCLG, OGL v3.0. DfE children's "
            "social care statistics, OGL v3.0. DWP Children in Low Income Families, OGL "
            "v3.0. NHS ODS, DfE GIAS and school census, Arts Council England libraries data.",
        ],
    }
    _write_meta(out, meta)


WIRRAL = "E08000015"


def _slug(name: str) -> str:
    return "_".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def prepare_council(lad: str, out: Path | None) -> Path:
    """Write the complete bundle of the council that runs ``lad``'s children's services.

    It is the bundle ``needsmap run --area CODE`` builds in its cache (from data/england,
    which ``make data`` writes), written where a council can add its own files to it.
    """
    if not lad.startswith("E"):
        sys.exit(f"{lad}: needsmap's England data cover English councils only.")
    try:
        council = find_council(lad)
    except NeedsmapError as exc:
        sys.exit(str(exc))
    if council.note:
        print(council.note)
    out = out or Path("data") / _slug(council.name)
    out.mkdir(parents=True, exist_ok=True)
    build_bundle(council, out)
    print(f"  wrote {council.name} ({council.code}) into {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="folder with MANIFEST.md (shared/data/raw)")
    parser.add_argument(
        "--out", type=Path, help="bundle folder (default data/wirral, or data/<area name>)"
    )
    parser.add_argument("--lad", default=WIRRAL, help="LAD code (default Wirral)")
    parser.add_argument(
        "--england", type=Path, default=Path("data/england"), help="where the England file goes"
    )
    args = parser.parse_args(argv)
    raw = args.raw
    if not (raw / "MANIFEST.md").exists():
        sys.exit(f"{raw}: no MANIFEST.md here; pass the shared/data/raw folder.")
    if args.lad != WIRRAL:
        prepare_council(args.lad, args.out)
        return 0
    out = args.out or Path("data/wirral")
    out.mkdir(parents=True, exist_ok=True)
    print(f"Preparing {args.lad} from {raw} into {out}")
    lsoa = prepare_geography(raw, out)
    wards = prepare_wards(raw, out, args.lad)
    prepare_deprivation(raw, out)
    la_rows = prepare_social_care(raw, out, args.lad)
    year, dfe_total = dfe_children(la_rows)
    print(f"  children 0-17 scaled to DfE's {year} denominator, {dfe_total:,.0f}")
    pop = prepare_population(raw, out, dfe_total)
    prepare_postcodes(raw, out, lsoa, args.lad)
    shares = prepare_shares(out)
    ward_pop = prepare_ward_population(raw, out, wards, shares, pop, dfe_total)
    prepare_services(raw, out)
    prepare_child_poverty(raw, out, args.lad)
    dep = pd.read_csv(out / "deprivation_iod2025_lsoa21.csv")
    caseload = synthetic_caseload(ward_pop, shares, pop, dep, la_rows)
    _csv(caseload, out / "caseload_synthetic.csv")
    write_bundle_meta(out, args.lad, str(lsoa["lad_name"].iloc[0]))
    prepare_england(raw, args.england)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
