"""The interactive map's payload and page, checked in Python (the browser tests drive it)."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from matplotlib.colors import to_hex
from tests import board_data as bd
from tests import map_fixtures as mf

from needsmap import vocabulary
from needsmap.config import InteractiveMapConfig, RunConfig, config_from_dict
from needsmap.errors import ConfigError, InputError
from needsmap.maps import interactive, layers, offline, static, style
from needsmap.maps.interactive import Comparison

COMPARISON = Comparison(
    year=2025, area="Testshire", rates={"children_in_need_rate": (409.0, 330.0)}
)


def payload(page: str) -> dict:
    data = interactive.read_map_data(page)
    assert data is not None, "no data element in the page"
    return data


def render(tmp_path, **kwargs) -> str:
    fmap = interactive.build_map(
        mf.square_wards(), mf.services(), mf.text(), sites=mf.sites(), **kwargs
    )
    path = tmp_path / "map.html"
    interactive.save_map(fmap, str(path))
    return path.read_text(encoding="utf-8")


# --- words and colours ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "plural"),
    [
        ("library", "Libraries"),
        ("gp_practice", "GP practices"),
        ("school", "Schools"),
        ("nursery", "Nurseries"),
        ("play_day", "Play days"),
        ("church", "Churches"),
        ("youth_club", "Youth clubs"),
    ],
)
def test_service_plurals(kind, plural):
    assert vocabulary.service(kind).plural == plural
    assert vocabulary.service_count(kind, 2) == f"{plural} (2)"


def test_service_shapes_known_and_fallback():
    assert style.service_shape("gp_practice") == "square"
    assert style.service_shape("school") == "circle"
    assert style.service_shape("youth_club") in style.MARKER_SHAPES


def test_categorise_keeps_conventional_colours_and_skips_used_ones():
    cats = style.categorise(["High-High", "North", "low-low", "South"])
    # High-High and Low-Low keep their LISA colours; the others take Okabe-Ito in turn.
    assert cats.colours == ("#b2182b", "#E69F00", "#2166ac", "#56B4E9")
    assert cats.index_of(pd.Series(["South", None, "Nowhere"])).tolist() == [3, -1, -1]


def test_categories_ordered_by_cluster_number():
    wards = mf.square_wards()
    spec = next(s for s in layers.LAYERS if s.column == "cluster_label")
    assert layers.categories_for(spec, wards).names == ("Highest", "Middle", "Lower need")
    spec = next(s for s in layers.LAYERS if s.column == "locality")
    assert layers.categories_for(spec, wards).names == ("East", "West")


def test_access_layers_reverse_the_palette():
    wards = mf.square_wards().assign(access_index=[6.0, 5.0, 4.0, 3.0, 2.0, 1.0])
    spec = layers.LayerSpec("access_index")  # vocabulary: higher = better access
    assert spec.higher == "access"
    classes = layers.classes_for(spec, wards)
    assert classes.colours == style.SEQUENTIAL[::-1]
    # Ward 6 has the least access: the darkest colour.
    assert classes.colour_of(wards["access_index"]).iloc[5] == style.SEQUENTIAL[-1]


def test_class_breaks_leave_out_withheld_values():
    spec = next(s for s in layers.LAYERS if s.column == "children_in_need_rate")
    classes = layers.classes_for(spec, mf.square_wards())
    # The five published rates 250, 333.3, 387.1, 600, 736.8 (Charlie's is withheld);
    # quintile p sits at position 4p between them: 20% -> 250 + 0.8 * 83.3, and so on.
    assert classes.bins == pytest.approx((316.64, 365.58, 472.26, 627.36, 736.8))
    assert classes.lower == 250.0
    assert classes.labels[0] == "250 to 317"


def test_classes_with_ties_and_with_nothing_to_classify():
    # Eight wards at 0 and four above: quintile breaks 0, 0, 0, 0.42, 1 collapse to three
    # distinct classes, each with a colour and a label.
    values = pd.Series([0.0] * 8 + [0.1, 0.5, 0.9, 1.0])
    classes = style.classify(values)
    assert classes.bins == pytest.approx((0.0, 0.42, 1.0))
    assert classes.labels == ("0.00", "0.00 to 0.42", "0.42 to 1.00")
    assert len(classes.colours) == 3
    assert classes.index_of(values).tolist() == [0] * 8 + [1, 2, 2, 2]
    empty = style.classify(pd.Series(["fewer than 5", np.nan]))
    assert empty.colours == () and empty.index_of(pd.Series([1.0])).tolist() == [-1]
    spec = layers.LayerSpec("x", "X")
    t = interactive.theme(spec, pd.DataFrame({"x": ["fewer than 5", np.nan]}))
    assert [e["label"] for e in t["legend"]] == ["Not shown: fewer than 5", "No data"]
    assert t["index"] == [0, 1]


# --- geometry ---------------------------------------------------------------------------


def test_encode_rings_hand_worked():
    square = shapely.box(-3.0, 53.4, -2.99, 53.41)  # exterior starts at (maxx, miny)
    assert interactive.encode_rings(square) == [[[5340000, -299000, 1000, 0, 0, -1000, -1000, 0]]]
    back = interactive.decode_rings(interactive.encode_rings(square))
    assert back.equals(shapely.MultiPolygon([square]))


def test_encode_rings_drops_rings_that_collapse():
    outer = shapely.box(0, 0, 0.01, 0.01)
    tiny_hole = shapely.box(0.005, 0.005, 0.005000001, 0.005000001)
    poly = shapely.Polygon(outer.exterior.coords, [tiny_hole.exterior.coords])
    encoded = interactive.encode_rings(poly)
    assert len(encoded) == 1 and len(encoded[0]) == 1  # the hole is gone


def _staircase_coverage() -> gpd.GeoSeries:
    """Four wards dissolved from 10 m cells: long, jagged, exactly shared borders."""
    rng = np.random.default_rng(7)
    seeds = rng.uniform(0, 1000, size=(4, 2))
    xs, ys = np.meshgrid(np.arange(5, 1000, 10), np.arange(5, 1000, 10))
    cells = gpd.GeoSeries(gpd.points_from_xy(xs.ravel(), ys.ravel()).buffer(5, cap_style=3))
    centres = np.column_stack([xs.ravel(), ys.ravel()])
    owner = np.argmin(((centres[:, None, :] - seeds[None]) ** 2).sum(axis=2), axis=1)
    wards = gpd.GeoDataFrame({"ward": owner}, geometry=cells, crs="EPSG:27700")
    return wards.dissolve("ward", method="coverage").geometry


def test_coverage_simplification_keeps_borders_shared():
    original = _staircase_coverage()
    simplified = interactive.simplify_coverage(original, 15.0)
    geoms = simplified.to_numpy()
    assert shapely.coverage_is_valid(geoms)  # no overlaps, edges matched
    union = shapely.union_all(geoms)
    # No gaps: the pieces still make one square with no holes, of the same area.
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert sum(g.area for g in geoms) == pytest.approx(union.area, rel=1e-9)
    assert union.area == pytest.approx(1000 * 1000, rel=0.01)
    assert (
        shapely.get_num_coordinates(geoms).sum()
        < shapely.get_num_coordinates(original.to_numpy()).sum() / 3
    )
    assert (
        max(o.hausdorff_distance(s) for o, s in zip(original, simplified, strict=True))
        <= 15.0 + 1e-6
    )
    assert interactive.simplify_coverage(original, 0).equals(original)


def test_wirral_map_small_offline_and_a_valid_coverage(bundled_run):
    page_path = bundled_run.written[0].parent / "needs_map.html"
    size = page_path.stat().st_size
    assert size < 1_000_000, f"needs_map.html is {size:,} bytes"
    page = page_path.read_text(encoding="utf-8")
    assert offline.external_references(page) == []
    assert "Content-Security-Policy" in page
    data = payload(page)
    shapes = [interactive.decode_rings(s) for s in data["wards"]["shapes"]]
    assert len(shapes) == 22
    # Simplified and rounded, the wards still tile Wirral: no gaps, no overlaps.
    assert shapely.coverage_is_valid(np.array(shapes))
    union = shapely.union_all(shapes)
    assert sum(s.area for s in shapes) == pytest.approx(union.area, rel=1e-9)
    original = bundled_run.wards.geometry.to_crs(interactive.WGS84).union_all()
    assert union.symmetric_difference(original).area / original.area < 0.002
    assert [t["key"] for t in data["themes"]][0] == "need_index"
    assert data["profile"]["sections"][1]["head"][2:] == ["Wirral", "England"]
    assert data["tiles"]["on"] is False


# --- ward profiles ----------------------------------------------------------------------


def test_profile_hand_worked():
    wards = mf.square_wards()
    wards.loc["E05000001", "children_in_need_rate_unreliable"] = True
    prof = interactive.ward_profiles(wards, comparison=COMPARISON, synthetic=True)
    assert prof["sub"][0] == "E05000001 · need rank 6 of 6 (90% interval 5–6)"
    main, caseload, distance = prof["sections"]
    rows = {r["label"]: r["values"] for r in main["rows"]}
    assert rows["Children aged 0–17"][3] == "3,100"
    # The scores say which way is more need, in the popup as on the report's pages.
    assert rows["Need index (higher = more need)"][0] == "-1.00"
    assert "Access gap (higher = more need)" in rows
    chance = main["rows"][2]  # labelled as the p_top5 map layer is
    assert chance["label"] == "Chance of being in the top 5 for need"
    assert chance["values"] == ["0%", "5%", "40%", "62%", "95%", "100%"]
    assert rows["Neighbourhoods in England's most deprived 10%"][4] == "3 of 4"
    assert rows["Group of similar wards"][4] == "Highest"
    numbers = interactive.ward_profiles(wards.drop(columns="cluster_label"))
    rows = {r["label"]: r["values"] for r in numbers["sections"][0]["rows"]}
    assert rows["Group of similar wards"] == [
        f"{c} of 3 (1 = most need)" for c in (3, 3, 2, 2, 1, 1)
    ]
    assert rows["Hot spots and cold spots of need"][3] == "Hot spot: high need, neighbours high too"
    assert caseload["head"] == ["Per 10,000 children (number)", "Ward", "Testshire", "England"]
    cin = caseload["rows"][0]
    assert cin["values"][:3] == ["333 (40) †", "250 (60)", "fewer than 5"]
    assert cin["extra"] == ["409", "330"]
    assert caseload["dagger"].startswith("† few children")
    assert "synthetic" in caseload["note"]
    assert caseload["title"] == "Caseload (synthetic)"
    assert distance["rows"][0]["label"] == "School"
    assert distance["rows"][0]["values"] == ["420 m", "640 m", "1.2 km", "300 m", "980 m", "2.2 km"]


def test_profile_shows_child_poverty_and_caseload_trends():
    wards = mf.square_wards()
    wards["child_poverty_fye_first"], wards["child_poverty_fye"] = 2022, 2025
    wards["child_poverty_pct_first"] = [32.048, 10.0, 11.0, 12.0, 13.0, 14.0]
    wards["child_poverty_pct"] = [33.883, 10.0, 11.0, 12.0, 13.0, 14.0]
    wards["child_poverty_trend"] = ["not clearly changing", "rising", *["falling"] * 4]
    wards["children_in_need_trend"] = ["withheld", "rising", *["falling"] * 4]
    prof = interactive.ward_profiles(wards, synthetic=True)
    rows = {r["label"]: r["values"] for r in prof["sections"][0]["rows"]}
    assert rows["Children in low income families, 2021/22 → 2024/25 (DWP)"][0] == "32.0% → 33.9%"
    # DWP's latest share is read once, in the first -> latest row.
    labels = [r["label"] for r in prof["sections"][0]["rows"]]
    assert "Children in low income families (%)" not in labels
    assert rows["Child poverty trend"][:2] == ["not clearly changing", "rising"]
    trend = next(s for s in prof["sections"] if s.get("title", "").startswith("Caseload trend"))
    assert trend["title"] == "Caseload trend over every period (synthetic)"
    assert trend["rows"] == [
        {"label": "Children in need", "values": ["withheld", "rising", *["falling"] * 4]}
    ]


def test_profile_without_optional_columns():
    wards = mf.square_wards()[["ward_name", "need_index", "need_rank", "geometry"]]
    prof = interactive.ward_profiles(wards)
    assert prof["sub"][5] == "E05000006 · need rank 1 of 6"
    assert [r["label"] for r in prof["sections"][0]["rows"]] == ["Need index (higher = more need)"]
    assert len(prof["sections"]) == 1


@pytest.mark.parametrize(
    ("metres", "text"), [(0, "0 m"), (994, "990 m"), (996, "1.0 km"), (12_345, "12.3 km")]
)
def test_distance_words(metres, text):
    assert interactive.fmt_distance(metres) == text


def test_theme_lists_withheld_and_missing_wards_separately():
    wards = mf.square_wards()
    wards.loc["E05000002", "children_in_need_rate"] = np.nan
    spec = next(s for s in layers.LAYERS if s.column == "children_in_need_rate")
    t = interactive.theme(spec, wards, synthetic=True)
    labels = [e["label"] for e in t["legend"]]
    assert labels[-2:] == ["Not shown: fewer than 5", "No data"]
    assert t["index"][2] == len(labels) - 2  # Charlie: withheld
    assert t["index"][1] == len(labels) - 1  # Bravo: no data
    assert t["legend"][-2]["colour"] == style.SUPPRESSED
    assert "synthetic" in t["note"]
    wards.loc["E05000001", "children_in_need_rate"] = "withheld"  # complementary
    t = interactive.theme(spec, wards, synthetic=True)
    assert t["legend"][-2]["label"] == "Not shown: fewer than 5 or withheld"
    assert t["index"][0] == t["index"][2] == len(t["legend"]) - 2


def test_comparison_from_the_la_benchmark():
    benchmark = pd.DataFrame(
        {
            "caseload_measure": ["children_in_need", "looked_after_children", None],
            "year": [2025, 2025, 2025],
            "la_rate": [409.0, None, 24.0],
            "england_rate": [330.0, 67.0, 26.0],
        },
        index=["cin", "cla", "starts"],
    )
    cmp = interactive.comparison(benchmark, area="Wirral")
    assert cmp is not None and cmp.year == 2025 and cmp.area == "Wirral"
    assert cmp.rates == {"children_in_need_rate": (409.0, 330.0)}
    assert interactive.comparison(benchmark.iloc[1:2], area="Wirral") is None


def test_build_map_says_which_columns_are_missing():
    wards = mf.square_wards().drop(columns="need_rank")
    with pytest.raises(InputError, match=r"missing column\(s\) \['need_rank'\]"):
        interactive.build_map(wards, mf.services(), mf.text())
    with pytest.raises(InputError, match="projected CRS"):
        interactive.build_map(mf.square_wards().to_crs(4326), mf.services(), mf.text())


# --- the page ---------------------------------------------------------------------------


def test_page_has_every_layer_and_marker_set(tmp_path):
    data = payload(render(tmp_path, comparison=COMPARISON))
    keys = [t["key"] for t in data["themes"]]
    assert keys == [s.column for s in layers.layers_for(mf.square_wards().columns)]
    for key in ("need_index", "children_in_need_rate", "cluster_label", "locality", "hotspot"):
        assert key in keys
    assert "gap_score" in keys
    svc = data["services"]
    # the board maps' legend words (static.provision_markers, services_map)
    assert [t["label"] for t in svc["types"]] == [
        "Family hub (1)",
        "GP practice (1)",
        "Library (1)",
        "Schools (3)",
    ]
    assert [svc["name"][j] for j in svc["pilot"]] == ["Fox Family Hub"]
    assert svc["pilotLabel"] == "Existing pilot (1)"
    assert [(s["order"], s["name"]) for s in data["sites"]] == [
        (1, "Echo Library"),
        (2, "Bravo High"),
    ]
    assert data["sites"][0]["lines"] == [
        "Library",
        "Children newly within reach: 4,600",
        "Wards served: Echo, Delta",
    ]
    assert len(str(svc["lat"][0]).split(".")[1]) <= 5


def test_user_strings_cannot_become_markup(tmp_path):
    page = render(tmp_path)
    assert mf.XSS not in page
    assert "<b>" not in page.split('id="needsmap-data">')[1]
    data = payload(page)
    assert mf.XSS in data["services"]["name"]  # kept as text, shown with textContent
    assert data["wards"]["names"][5] == 'Fox & "Co" <b>'
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page


def test_profile_table_reads_back_what_the_page_shows(tmp_path):
    cells = interactive.profile_table(render(tmp_path, comparison=COMPARISON))
    cin = cells[cells["label"] == "Children in need"].set_index("ward_code")["text"]
    assert cin.to_dict() == {
        "E05000001": "333 (40)",
        "E05000002": "250 (60)",
        "E05000003": "fewer than 5",
        "E05000004": "387 (120)",
        "E05000005": "600 (90)",
        "E05000006": "737 (70)",
    }
    assert set(cells["section"]) >= {"", "Caseload (synthetic)"}
    assert interactive.profile_table("<html></html>").empty


def test_title_banners_are_escaped_and_stamped(tmp_path):
    fmap = interactive.build_map(
        mf.square_wards(), mf.services(), mf.text(stamp="UNSUPPRESSED <not> for publication")
    )
    path = tmp_path / "m.html"
    interactive.save_map(fmap, str(path))
    page = path.read_text(encoding="utf-8")
    assert "Synthetic caseload — illustrative" in page
    assert "UNSUPPRESSED &lt;not&gt; for publication" in page


def test_same_inputs_write_the_same_file(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert render(tmp_path / "a") == render(tmp_path / "b")


def test_content_security_policy_allows_only_the_pages_scripts():
    page = (
        "<head></head><script>var a = 1;</script>"
        '<script type="application/json" id="d">{"x": 1}</script>'
    )
    policy = offline.content_security_policy(page, img_hosts=["https://tiles.example"])
    digest = base64.b64encode(hashlib.sha256(b"var a = 1;").digest()).decode()
    assert f"script-src 'sha256-{digest}';" in policy
    assert policy.count("sha256-") == 1  # the JSON data is not a script
    assert "img-src data: https://tiles.example;" in policy
    assert policy.startswith("default-src 'none';")


def test_every_script_in_the_saved_page_is_allowed(tmp_path):
    page = render(tmp_path)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    for code in offline.inline_scripts(page):
        digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "img-src data: https://tile.openstreetmap.org;" in policy


def test_json_script_cannot_be_closed_by_its_data():
    element = offline.json_script("d", {"name": "</script><script>alert(1)</script>", "n": 1})
    assert element.count("</script>") == 1 and element.endswith("</script>")
    inner = element[len('<script type="application/json" id="d">') : -len("</script>")]
    assert json.loads(inner) == {"name": "</script><script>alert(1)</script>", "n": 1}


@pytest.mark.parametrize(
    ("page", "found"),
    [
        (
            '<script src="https://cdn.example/leaflet.js"></script>',
            ["https://cdn.example/leaflet.js"],
        ),
        ("<link rel='stylesheet' href='local.css'>", ["local.css"]),
        (
            '<style>@import url("https://fonts.example/a.css");</style>',
            ["https://fonts.example/a.css"],
        ),
        ("<style>.a{background:url(//img.example/x.png)}</style>", ["//img.example/x.png"]),
        ("<style>.a{background:url(data:image/png;base64,AAAA)}</style>", []),
        ("<script>var a = 1;</script>", []),
    ],
)
def test_external_references_are_found(page, found):
    assert offline.external_references(page) == found


# --- configuration ----------------------------------------------------------------------


def test_map_config_defaults_match_the_module():
    m = RunConfig().interactive_map
    assert m == InteractiveMapConfig()
    assert (m.tiles_url, m.tiles_attribution) == (
        interactive.TILES_URL,
        interactive.TILES_ATTRIBUTION,
    )
    assert (m.simplify_m, m.decimals, m.background) == (
        interactive.SIMPLIFY_M,
        interactive.DECIMALS,
        False,
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"tiles_url": "http://tiles.example/{z}/{x}/{y}.png"},
            r"interactive_map.tiles_url: .* https address",
        ),
        (
            {"tiles_url": "https://tiles.example/tile.png"},
            r"interactive_map.tiles_url: .*\{z\}, \{x\} and \{y\}",
        ),
        (
            {"simplify_m": -1},
            r"interactive_map.simplify_m: must be from 0 to 500 metres \(got -1.0\)",
        ),
        ({"decimals": 9}, r"interactive_map.decimals: must be from 3 to 7 \(got 9\)"),
        ({"background": "yes"}, r"interactive_map.background: expected true or false"),
    ],
)
def test_map_config_errors(settings, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"interactive_map": settings})


def test_map_config_from_yaml_values():
    cfg = config_from_dict({"interactive_map": {"background": True, "simplify_m": 25}})
    assert cfg.interactive_map.background is True
    assert cfg.interactive_map.simplify_m == 25.0


def test_hot_spot_labels_share_colours_across_maps():
    names = ["High-High (hot spot)", "Low-Low (cold spot)", "Not significant"]
    assert style.categorise(names).colours == style.category_colours(names)
    assert style.categorise(names).colours[0] == "#b2182b"


def test_a_council_palette_colours_the_interactive_map_like_the_board_maps():
    wards = mf.square_wards()
    look = style.MapStyle(
        sequential=("#f7fbff", "#c6dbef", "#6baed6", "#08306b"),
        categorical=("#111111", "#222222"),
    )
    spec = next(s for s in layers.LAYERS if s.column == "need_index")
    fig = static.layer_map(wards, spec, bd.context(), map_style=look, labels=False)
    board = [to_hex(p.get_facecolor()) for p in fig.axes[1].get_legend().get_patches()]
    t = interactive.theme(spec, wards, map_style=look)
    assert [e["colour"] for e in t["legend"]] == board == list(look.sequential)
    locality = next(s for s in layers.LAYERS if s.column == "locality")
    t = interactive.theme(locality, wards, map_style=look)
    assert [e["colour"] for e in t["legend"]] == ["#111111", "#222222"]  # East, West
