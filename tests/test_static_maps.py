"""Board-paper maps: layout, legend, hatching, labels, stamps, files and baselines."""

from __future__ import annotations

import os
import shutil
from io import BytesIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.testing.compare import compare_images
from PIL import Image
from tests import board_data as bd

from needsmap import vocabulary
from needsmap.maps import layers, static, style
from needsmap.scan import DisclosureError, check_texts, figure_text

BASELINE = Path(__file__).parent / "baseline"
LOW_DPI = 40


@pytest.fixture(scope="module")
def published():
    return bd.published_wards()


@pytest.fixture(scope="module")
def placed(published):
    return static.label_layout(published)


def spec(column: str) -> layers.LayerSpec:
    return next(s for s in layers.LAYERS if s.column == column)


def draw(published, column, *, ctx=None, placed=True, **kwargs):
    return static.layer_map(published, spec(column), ctx or bd.context(), labels=placed, **kwargs)


def test_every_registered_layer_and_services_written(published, tmp_path):
    paths = static.write_maps(
        published,
        bd.services(),
        tmp_path,
        bd.context(),
        formats=("png",),
        dpi=LOW_DPI,
        sites=bd.sites(),
    )
    names = sorted(p.name for p in paths)
    expected = sorted(f"{s.stem}.png" for s in layers.layers_for(published.columns))
    assert names == sorted([*expected, "services.png"])
    # every layer in the registry is exercised by the synthetic table
    assert len(expected) == len(layers.LAYERS)
    assert all(p.stat().st_size > 1000 for p in paths)


def test_all_three_formats_a4_and_reruns_identical(published, placed, tmp_path):
    fig = draw(published, "need_index", placed=placed)
    first = static.save_figure(fig, tmp_path / "a" / "need", ("png", "svg", "pdf"), LOW_DPI)
    again = static.save_figure(fig, tmp_path / "b" / "need", ("png", "svg", "pdf"), LOW_DPI)
    assert [p.suffix for p in first] == [".png", ".svg", ".pdf"]
    for a, b in zip(first, again, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    with Image.open(first[0]) as png:
        w, h = png.size
    # A4 landscape: 297 x 210 mm
    assert w / h == pytest.approx(297 / 210, rel=0.01)
    assert first[2].read_bytes().startswith(b"%PDF-")


def test_png_at_requested_dpi(published, placed, tmp_path):
    fig = draw(published, "need_index", placed=placed)
    (png,) = static.save_figure(fig, tmp_path / "m", ("png",), 300)
    with Image.open(png) as image:
        assert image.size == (3507, 2481)
        assert round(image.info["dpi"][0]) == 300


def test_title_subtitle_attribution_and_legend_classes(published, placed):
    fig = draw(published, "children_in_need_rate", placed=placed)
    texts = static.figure_texts(fig)
    assert texts[0] == "Testshire: children in need rate by ward"
    assert "Synthetic caseload at 31 March 2025 · children aged 0–17 · 9 wards (2024 boundaries)" in texts
    joined = " ".join(" ".join(texts).split())
    assert "Contains OS data © Crown copyright and database right 2025." in joined
    classes = style.layer_classes(published["children_in_need_rate"], digits=0)
    for label in classes.labels:
        assert label in texts
    assert "Units: per 10,000 children aged 0–17." in joined
    assert "Darker = more need. Classes are fifths of the wards" in joined


def test_same_classes_and_colours_as_the_interactive_map(published, placed):
    fig = draw(published, "need_index", placed=placed)
    ax = fig.axes[0]
    faces = [to_hex(c) for c in ax.collections[0].get_facecolors()]
    classes = style.layer_classes(published["need_index"], digits=2)
    assert faces == list(classes.colour_of(published["need_index"]))
    # the interactive map's classes (foundation) are these classes
    base = style.classify(published["need_index"])
    assert base.bins == classes.bins and base.colours == classes.colours


def test_suppressed_wards_hatched_and_explained(published, placed):
    fig = draw(published, "looked_after_children_rate", placed=placed)
    ax = fig.axes[0]
    hatched = [c for c in ax.collections if c.get_hatch()]
    # CLA counts 2 and 4 are suppressed, and 10 and 15 withheld (row order) so that the
    # total cannot narrow them: two wards hatched each way.
    assert [len(c.get_paths()) for c in hatched] == [2, 2]
    legend = fig.axes[1].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[-2:] == [
        "Suppressed: fewer than 5 children",
        "Withheld: protects a suppressed count",
    ]
    assert legend.legend_handles[-2].get_hatch() == style.SUPPRESSED_HATCH
    assert legend.legend_handles[-1].get_hatch() == style.WITHHELD_HATCH
    notes = " ".join(" ".join(static.figure_texts(fig)).split())
    assert "Hatched wards: a count of fewer than 5 children" in notes


def test_no_hatching_without_suppression(published, placed):
    fig = draw(published, "children_in_need_rate", placed=placed)
    assert not [c for c in fig.axes[0].collections if c.get_hatch()]


def test_watermark_and_stamp():
    pub = bd.published_wards(enabled=False)
    stamp = "UNSUPPRESSED — not for publication"
    fig = draw(pub, "need_index", ctx=bd.context(stamp=stamp), placed=False)
    texts = static.figure_texts(fig)
    assert "SYNTHETIC CASELOAD" in texts
    assert stamp.upper() in texts
    # deprivation-only layers are public data: no synthetic watermark
    fig = draw(pub, "imd_score", ctx=bd.context(stamp=stamp), placed=False)
    texts = static.figure_texts(fig)
    assert "SYNTHETIC CASELOAD" not in texts
    assert stamp.upper() in texts
    fig = draw(pub, "need_index", ctx=bd.context(synthetic=False), placed=False)
    assert "SYNTHETIC CASELOAD" not in static.figure_texts(fig)


def test_attribution_clear_of_legend_notes_and_map(published):
    fig = draw(published, "looked_after_children_rate", placed=True)
    renderer = fig.canvas.get_renderer()
    foot = next(t for t in fig.texts if t.get_text().startswith("Contains OS data"))
    foot_box = foot.get_window_extent(renderer)
    panel, ax = fig.axes[1], fig.axes[0]
    others = [panel.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer)]
    others += [t.get_window_extent(renderer) for t in panel.texts]
    for box in others:
        assert not foot_box.overlaps(box)
    # the attribution stays on the page
    assert foot_box.x1 <= fig.bbox.x1 and foot_box.y0 >= 0


def test_labels_do_not_overlap_and_stay_on_the_map(published):
    fig = draw(published, "need_index", placed=True)
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    names = {n for n in bd.NAMES}
    labels = [t for t in ax.texts if t.get_text().replace("\n", " ") in names]
    assert len(labels) == len(bd.NAMES)
    boxes = [t.get_window_extent(renderer) for t in labels]
    for i, a in enumerate(boxes):
        assert ax.bbox.contains(a.x0, a.y0) and ax.bbox.contains(a.x1, a.y1)
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    # halo for legibility
    assert all(t.get_path_effects() for t in labels)


def test_titles_read_as_sentences():
    ctx = bd.context()
    assert ctx.layer_title(spec("imd_score")) == "Testshire: overall deprivation score by ward"
    assert ctx.layer_title(spec("hotspot")) == "Testshire: hot spots and cold spots of need"
    assert ctx.layer_subtitle(spec("imd_score"), 9) == (
        "English Indices of Deprivation 2025 · neighbourhood scores averaged over residents "
        "of 9 wards (2024 boundaries)"
    )
    assert not ctx.layer_synthetic(spec("imd_score"))  # public data: no synthetic watermark
    assert ctx.layer_synthetic(spec("need_index"))


def test_long_names_wrap_at_the_middle_word():
    assert static._wrap_name("Hill Top and Lower Marsh") == "Hill Top and\nLower Marsh"
    assert static._wrap_name("Isle") == "Isle"


def test_labels_switch_off_above_a_ward_count():
    assert static.use_labels(22, "auto", 60)
    assert not static.use_labels(7000, "auto", 60)
    assert static.use_labels(7000, "on", 60)
    assert not static.use_labels(3, "off", 60)


def test_categorical_layers(published, placed):
    fig = draw(published, "hotspot", placed=placed)
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend == [
        "Hot spot: high need, neighbours high too",
        "High need among low-need neighbours",
        "Cold spot: low need, neighbours low too",
        "No clear pattern",
    ]
    faces = [to_hex(c) for c in fig.axes[0].collections[0].get_facecolors()]
    assert faces[0] == style.LISA_COLOURS["high-high"]
    assert faces[4] == style.LISA_COLOURS["low-low"]
    # clusters read in cluster order (1 = highest need), not alphabetically
    fig = draw(published, "cluster_label", placed=placed)
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend == ["1: high need", "2: middling", "3: low need"]


def test_hot_spot_classes_keep_their_colours_with_notes_in_brackets():
    names = ["High-High (hot spot)", "Low-High (outlier)", "Low-Low (cold spot)", "Zone A"]
    colours = style.category_colours(names)
    assert colours[:3] == (
        style.LISA_COLOURS["high-high"],
        style.LISA_COLOURS["low-high"],
        style.LISA_COLOURS["low-low"],
    )
    assert colours[3] == style.CATEGORICAL[0]


def test_access_layers_darker_for_less_access():
    values = published = bd.published_wards()["gap_score"]
    need = style.layer_classes(values, higher="need")
    access = style.layer_classes(values, higher="access")
    assert access.colours == tuple(reversed(need.colours))
    assert published is values


def test_council_palette_and_font(published, placed):
    palette = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b", "#000033")
    look = style.MapStyle(sequential=palette, categorical=("#111111", "#222222", "#333333"))
    fig = draw(published, "need_index", placed=placed, map_style=look)
    faces = {to_hex(c) for c in fig.axes[0].collections[0].get_facecolors()}
    assert faces <= set(palette)
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert len(legend) == 6  # one class per colour
    assert "6 equal-sized groups" in " ".join(" ".join(static.figure_texts(fig)).split())
    fig = draw(published, "locality", placed=placed, map_style=look)
    faces = {to_hex(c) for c in fig.axes[0].collections[0].get_facecolors()}
    assert faces == {"#111111", "#222222", "#333333"}


def test_missing_font_falls_back_with_a_warning():
    with pytest.warns(UserWarning, match="maps.font: 'No Such Font' is not installed"):
        assert static.font_family("No Such Font") == style.FONT
    assert static.font_family("DejaVu Sans") == "DejaVu Sans"


def test_services_map_legend_counts_and_sites(published, placed):
    services = bd.services()
    hub = services[services["type"] == "family_hub"]
    provision = pd.concat([hub, services[services["pilot"]].assign(type="pilot")])
    fig = static.services_map(
        published, services, bd.context(), sites=bd.sites(), labels=placed, provision=provision
    )
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    # The interactive map's words (vocabulary.service_count): plural but for one.
    assert "Schools (2)" in legend and "GP practices (2)" in legend
    # Existing provision: large and on top, in the vocabulary's shape, as on every map.
    assert "Family hub (1)" in legend and "Existing pilot (1)" in legend
    assert legend.count("Family hub (1)") == 1  # drawn once, as provision
    marks = {h.get_label(): h for h in fig.axes[1].get_legend().legend_handles}
    assert marks["Family hub (1)"].get_marker() == static.MARKERS["triangle"]
    assert marks["Existing pilot (1)"].get_marker() == static.MARKERS[vocabulary.PILOT.shape]
    hubs = [c for c in fig.axes[0].collections if c.get_zorder() == 8]
    assert len(hubs) == 2 and all(c.get_sizes()[0] >= 80 for c in hubs)
    assert "Recommended site (numbered in the order\nchosen)" in legend
    assert {"1", "2"} <= set(static.figure_texts(fig))


def test_existing_provision_on_every_layer_map(published, placed):
    """Issue 17: the family hubs and pilots show on every map, not only on services."""
    services = bd.services()
    hub = services[services["type"] == "family_hub"]  # also the board data's one pilot
    provision = pd.concat([hub, hub.assign(type="pilot")], ignore_index=True)
    spec = layers.LAYERS[0]
    fig = static.layer_map(published, spec, bd.context(), labels=placed, provision=provision)
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend[-2:] == ["Family hub (1)", "Existing pilot (1)"]


def test_drawn_text_is_checked_before_saving(published, placed, tmp_path):
    fig = draw(published, "need_index", placed=placed)
    fig.axes[0].text(0.5, 0.5, "3 children", transform=fig.axes[0].transAxes)
    check = lambda texts: check_texts(texts, 5)  # noqa: E731
    with pytest.raises(DisclosureError, match=r"would show a count of fewer than 5 children"):
        static.save_figure(fig, tmp_path / "bad", ("png", "svg"), LOW_DPI, check=check)
    assert list(tmp_path.iterdir()) == []


def test_drawn_text_stored_in_every_format(published, placed, tmp_path):
    fig = draw(published, "looked_after_children_rate", placed=placed)
    paths = static.save_figure(fig, tmp_path / "m", ("png", "svg", "pdf"), LOW_DPI)
    drawn = static.figure_texts(fig)
    for path in paths:
        assert figure_text(path) == "\n".join(drawn), path.suffix


def test_locator_maps_highlight_one_ward(published):
    pngs = static.locator_maps(published, bd.CODES[:2], dpi=40)
    assert list(pngs) == bd.CODES[:2]
    assert pngs[bd.CODES[0]] != pngs[bd.CODES[1]]
    assert all(p.startswith(b"\x89PNG") for p in pngs.values())


# --- image regression: baselines in tests/baseline, low dpi, DejaVu Sans, Agg -----------


@pytest.mark.parametrize("column", ["need_index", "looked_after_children_rate"])
def test_matches_baseline_image(published, column, tmp_path):
    fig = draw(published, column, placed=True)
    (actual,) = static.save_figure(fig, tmp_path / column, ("png",), LOW_DPI)
    expected = BASELINE / f"{column}.png"
    if os.environ.get("NEEDSMAP_UPDATE_BASELINES"):
        BASELINE.mkdir(exist_ok=True)
        shutil.copy(actual, expected)
    assert expected.exists(), "run with NEEDSMAP_UPDATE_BASELINES=1 once to create it"
    result = compare_images(str(expected), str(actual), tol=3)
    assert result is None, result


def test_map_of_wirral_size_renders_quickly(published):
    """A guard for England scale: drawing stays vectorised (one collection per layer)."""
    fig = draw(published, "need_index", placed=False)
    polys = [c for c in fig.axes[0].collections if len(c.get_paths()) > 1]
    assert len(polys) == 1 and len(polys[0].get_paths()) == len(published)
    assert np.isfinite(fig.axes[0].get_xlim()).all()


def test_locator_maps_for_large_areas_show_the_surroundings(published, monkeypatch):
    monkeypatch.setattr(static, "LOCATOR_WHOLE_AREA", 3)
    pngs = static.locator_maps(published, [bd.CODES[4]], dpi=40)
    with Image.open(BytesIO(pngs[bd.CODES[4]])) as image:
        assert image.size == (96, 96)


def test_withheld_cells_cross_hatched_with_their_own_legend_entry(published, placed):
    pub = published.copy()
    for col in ("looked_after_children", "looked_after_children_rate"):
        values = pub[col].astype(object)
        values["E05000005"] = "withheld"
        pub[col] = values
    fig = draw(pub, "looked_after_children_rate", placed=placed)
    hatches = sorted(c.get_hatch() for c in fig.axes[0].collections if c.get_hatch())
    assert hatches == sorted([style.SUPPRESSED_HATCH, style.WITHHELD_HATCH])
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels[-2:] == [
        "Suppressed: fewer than 5 children",
        "Withheld: protects a suppressed count",
    ]
    assert "No data" not in labels


def test_one_cpu_draws_in_this_process_and_writes_the_same_files(published, tmp_path, monkeypatch):
    options = {"formats": ("png", "svg"), "dpi": LOW_DPI, "sites": bd.sites()}
    pooled = static.write_maps(published, bd.services(), tmp_path / "a", bd.context(), **options)
    monkeypatch.setattr(static.os, "cpu_count", lambda: 1)
    alone = static.write_maps(published, bd.services(), tmp_path / "b", bd.context(), **options)
    assert [p.name for p in alone] == [p.name for p in pooled]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(alone, pooled, strict=True))


def _raise(exc: BaseException) -> None:
    raise exc


def test_in_process_an_error_waits_for_result_and_an_interrupt_stops_at_once():
    with static.drawing_pool(1) as pool:  # one job: drawn in this process
        failed = pool.submit(_raise, ValueError("bad figure"))
        with pytest.raises(ValueError, match="bad figure"):
            failed.result()
        with pytest.raises(KeyboardInterrupt):
            pool.submit(_raise, KeyboardInterrupt())


def test_a_failing_figure_fails_the_whole_set(published, tmp_path, monkeypatch):
    def broken(fig, stem, *args, **kwargs):
        if stem.name == static.SERVICES_STEM:
            msg = "cannot draw"
            raise RuntimeError(msg)
        return []

    monkeypatch.setattr(static, "save_figure", broken)  # the workers fork with it
    with pytest.raises(RuntimeError, match="cannot draw"):
        static.write_maps(
            published, bd.services(), tmp_path, bd.context(), formats=("png",), dpi=LOW_DPI
        )


def test_a_measure_suppressed_in_every_ward_is_drawn_all_hatched(published, placed):
    """Every ward "fewer than 5": no classes at all, every ward hatched (it crashed)."""
    wards = published.copy()
    wards["looked_after_children_rate"] = "fewer than 5"
    classes = style.classify(wards["looked_after_children_rate"])
    assert classes.colour_of(wards["looked_after_children_rate"]).eq(style.NO_DATA).all()
    fig = draw(wards, "looked_after_children_rate", placed=placed)
    hatched = [c for c in fig.axes[0].collections if c.get_hatch()]
    assert len(hatched) == 1
    assert len(hatched[0].get_paths()) == len(wards)
    notes = " ".join(" ".join(static.figure_texts(fig)).split())
    assert "No ward's value can be shown." in notes
    assert "Classes:" not in notes
