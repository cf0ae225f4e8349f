"""The one vocabulary: every published column and layer has plain words, and every
service type one symbol and colour, the same on every map."""

from __future__ import annotations

import pandas as pd
import pytest

from needsmap import vocabulary as v
from needsmap.maps import layers

TABLES = (
    "wards.csv",
    "recommended_sites.csv",
    "siting_scenario.csv",
    "la_benchmark.csv",
    "clusters.csv",
    "sensitivity.csv",
    "services_unplaced.csv",
    "review_before_commissioning.csv",
)


@pytest.mark.parametrize("name", TABLES)
def test_every_published_column_has_plain_words(bundled_run, name):
    # A new column must be registered in needsmap.vocabulary (one line) before it ships.
    path = next(p for p in bundled_run.written if p.name == name)
    columns = pd.read_csv(path, nrows=0).columns
    assert v.missing(columns) == [], f"{name}: add these to needsmap/vocabulary.py"


def test_every_map_layer_has_plain_words():
    assert v.missing(spec.column for spec in layers.LAYERS) == []


def test_every_bundled_service_type_has_its_own_symbol(bundled_run):
    kinds = set(bundled_run.services.placed["type"].astype(str))
    assert kinds <= set(v.SERVICES)
    looks = [(s.colour, s.shape) for s in v.SERVICES.values()]
    assert len(set(looks)) == len(looks)


def test_terms_read_as_a_councillor_would():
    rate = v.term("children_in_need_rate")
    assert rate.label == "Children in need rate"
    assert rate.unit == "per 10,000 children aged 0–17"
    assert rate.direction == "higher = more need"
    assert rate.header == "Children in need rate (per 10,000 children aged 0–17)"
    assert v.label("imd_score") == "Overall deprivation score"
    assert v.label("dist_gp_practice_m") == "Distance to nearest GP practice"
    assert v.label("access_e2sfca_library").startswith("Access to libraries")
    assert v.label("mean_z_idaci_score") == "Child poverty score: group average"
    assert v.term("need_index").explained.endswith("(higher = more need.)")
    rank = v.term("la_rank_among_neighbours")
    assert "1 = highest rate" in rank.label


def test_an_unregistered_column_reads_as_words_and_is_reported():
    assert v.lookup("brand_new_column") is None
    assert v.label("brand_new_column") == "Brand new column"
    assert v.missing(["need_index", "brand_new_column"]) == ["brand_new_column"]


def test_a_new_service_type_never_changes_another_types_symbol():
    before = v.service("school")
    hub = v.service("youth_club")
    assert v.service("school") == before
    assert hub.label == "Youth club" and hub.plural == "Youth clubs"
    assert hub.shape in v.SHAPES
    assert v.service("youth_club") == hub  # from its name alone


def test_glossary_rows():
    rows = v.glossary(["need_rank"])
    assert rows == [
        (
            "need_rank",
            "Need rank",
            "1 = most need",
            "higher = less need",
            "The ward's place by need index: 1 is the ward with most need.",
        )
    ]
