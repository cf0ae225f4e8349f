"""The config reference and template are generated from the dataclasses and cannot drift."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from needsmap import configdoc
from needsmap.config import REPO_ROOT, RunConfig, load_config


@dataclass(frozen=True)
class Toy:
    """A toy section."""

    size: int = 3
    """How big."""
    colour: Literal["red", "blue"] = "red"
    label: str | None = None
    """A label, or null."""


def test_every_setting_has_a_doc():
    assert configdoc.undocumented() == [], (
        "document these fields with a docstring under the field in src/needsmap/config.py, "
        "then run 'make docs'"
    )


def test_docs_config_md_is_up_to_date():
    path = REPO_ROOT / "docs" / "config.md"
    assert path.read_text(encoding="utf-8") == configdoc.markdown(), (
        "docs/config.md is stale: run 'make docs'"
    )


def test_field_docs_read_the_docstring_under_each_field():
    assert configdoc.field_docs(Toy) == {"size": "How big.", "label": "A label, or null."}


def test_settings_walk_sections_in_order_with_defaults():
    rows = list(configdoc.settings())
    keys = [s.key for s in rows]
    assert keys[:5] == ["area", "caseload", "services", "pilots", "suppression"]
    assert keys[5:7] == ["suppression.enabled", "suppression.threshold"]
    threshold = rows[6]
    assert (threshold.depth, threshold.default, threshold.section) == (1, 5, False)
    assert rows[4].section and rows[4].doc.startswith("Small-number suppression")
    assert configdoc.describe_type(rows[3].hint) == "list of pilots"
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    assert {k for k in keys if "." not in k} == fields


def test_types_in_plain_words():
    d = configdoc.describe_type
    assert d(int) == "whole number"
    assert d(int | None) == "whole number or null"
    assert d(tuple[str, ...]) == "list of text"
    assert d(tuple[Path, ...]) == "list of paths"
    assert d(Literal["a", "b"]) == "one of a, b"
    assert configdoc.choices(Literal["a", "b"] | None) == ("a", "b")


def test_template_lists_every_key_with_its_doc_and_reads_back(tmp_path):
    text = configdoc.template()
    data = yaml.safe_load(text)
    for s in configdoc.settings():
        node = data
        for part in s.key.split("."):
            node = node[part]
    assert "# Hide small caseload counts in every output." in text
    assert "  method: kmeans" in text  # nested keys are indented under their section
    # A Literal field without its choices in the doc gets them appended.
    assert "Clustering algorithm. Choose from kmeans, agglomerative, gmm." in text
    path = tmp_path / "needsmap.yml"
    path.write_text(text, encoding="utf-8")
    # Relative paths in a file are read from its folder; everything else is the default.
    out = dataclasses.replace(RunConfig().output, folder=tmp_path.resolve() / "out/wirral")
    assert load_config(path) == dataclasses.replace(RunConfig(), output=out)


def test_template_writes_paths_relative_to_its_folder(tmp_path):
    cfg = dataclasses.replace(
        RunConfig(),
        caseload=tmp_path / "caseload.csv",
        services=(tmp_path / "hubs.csv", tmp_path / "pilots.csv"),
        output=dataclasses.replace(RunConfig().output, folder=tmp_path / "out"),
    )
    text = configdoc.template(cfg, base=tmp_path, note="Fill in caseload.csv.")
    assert "caseload: caseload.csv\n" in text
    assert "services: [hubs.csv, pilots.csv]\n" in text
    assert "  folder: out\n" in text
    assert "#\n# Fill in caseload.csv.\n" in text
    path = tmp_path / "needsmap.yml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path) == cfg


def test_markdown_has_a_row_per_key_and_the_whole_file():
    text = configdoc.markdown()
    for s in configdoc.settings():
        if not s.section:
            assert f"| `{s.key}` |" in text
    assert "| `siting.sites` | whole number | `5` |" in text
    assert "| `area` | path | `data/wirral` |" in text
    assert text.count("```yaml") == 1
