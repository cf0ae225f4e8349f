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
    assert v.label("dist_gp_practice_m") == "Distance to the nearest GP practice"
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


def _words_tables(path):
    """Dict literals (and tuples of pairs) in a module that map published column names to
    words: each is a second vocabulary."""
    import ast

    def is_words(node):
        if isinstance(node, ast.Tuple) and node.elts:
            node = node.elts[0]
        text = node.value if isinstance(node, ast.Constant) else None
        return isinstance(text, str) and (" " in text or text[:1].isupper())

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        pairs = []
        if isinstance(node, ast.Dict):
            pairs = [(k.value, val) for k, val in zip(node.keys, node.values, strict=True)
                     if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        elif isinstance(node, ast.Tuple | ast.List):
            pairs = [(e.elts[1].value, e.elts[0]) for e in node.elts
                     if isinstance(e, ast.Tuple) and len(e.elts) == 2
                     and isinstance(e.elts[1], ast.Constant) and isinstance(e.elts[1].value, str)]
        columns = [k for k, val in pairs if v.lookup(k) is not None and is_words(val)]
        if len(columns) >= 2:
            found.append(f"{path.name}:{node.lineno} {columns[:3]}")
    return found


def test_no_module_keeps_its_own_column_words():
    from pathlib import Path

    import needsmap

    src = Path(needsmap.__file__).parent
    tables = [
        hit
        for path in sorted([*src.rglob("*.py"), *src.parents[1].joinpath("notebooks").glob("*.py")])
        if path.name != "vocabulary.py"
        for hit in _words_tables(path)
    ]
    assert tables == [], "column words belong in needsmap/vocabulary.py"


def test_the_words_table_scan_finds_a_second_vocabulary(tmp_path):
    rogue = tmp_path / "rogue.py"
    rogue.write_text('WORDS = {"need_index": "Need score", "imd_score": "IMD"}\n')
    assert _words_tables(rogue) == ["rogue.py:1 ['need_index', 'imd_score']"]
    pairs = tmp_path / "pairs.py"
    pairs.write_text('ROWS = (("In need", "children_in_need"), ("CLA", "looked_after_children"))\n')
    assert len(_words_tables(pairs)) == 1


def test_short_labels_and_phrases():
    assert v.short("need_rank") == "Rank"
    assert v.short("ward_name") == "Ward"  # no short form: the label
    assert v.short("children_in_need_rate") == "Children in need"
    assert v.short("health_score") == "Health and disability deprivation"
    assert v.short("child_poverty_pct") == "In low income families (%)"  # the report's top table
    assert v.phrase("imd_score") == "overall deprivation score"
    assert v.phrase("per_1000_children_gp_practice") == "GP practices per 1,000 children"


def test_dates_and_financial_years_read_as_a_council_writes_them():
    assert v.day("2025-03-31") == "31 March 2025"
    assert v.day("latest") == "latest"
    assert v.financial_year(2025) == "2024/25"
    assert v.financial_year(2000.0) == "1999/00"


def test_every_typology_feature_has_words_and_the_types_read_them():
    from needsmap import typology
    from needsmap.vocabulary import TYPE_FEATURES

    assert set(typology.FEATURES) == set(TYPE_FEATURES)
    means = pd.Series(0.0, index=list(typology.FEATURES))
    means[["child_poverty_pct", "share_age_65_plus", "connectivity_score"]] = [2.0, -1.5, 1.0]
    assert typology._words(means) == [
        "high child poverty",
        "low older people (65+)",
        "high transport connectivity",
    ]
