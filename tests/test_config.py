from __future__ import annotations

from pathlib import Path

import pytest

from needsmap.config import Indicator, RunConfig, config_to_dict, load_config
from needsmap.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "needsmap.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_bundled_wirral_case():
    cfg = RunConfig()
    assert cfg.area.name == "wirral"
    assert cfg.caseload is None
    assert cfg.suppression.threshold == 5


def test_paths_relative_to_config_file(tmp_path):
    cfg = load_config(write(tmp_path, "caseload: my/caseload.csv\nneed_index:\n  method: rank\n"))
    assert cfg.caseload == tmp_path.resolve() / "my/caseload.csv"
    assert cfg.need_index.method == "rank"
    assert config_to_dict(cfg)["need_index"]["method"] == "rank"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour: red\n", r"needsmap.yml: colour: unknown key; valid keys here are \['area'"),
        (
            "suppression:\n  treshold: 5\n",
            r"suppression.treshold: unknown key; valid keys here are "
            r"\['enabled', 'threshold', 'protection', 'rounding'\]",
        ),
        (
            "need_index:\n  method: average\n",
            r"need_index.method: 'average' is not valid; choose from \['minmax', 'rank', 'zscore'\]",
        ),
        ("suppression:\n  threshold: 0\n", r"suppression.threshold: must be 1 or more"),
        ("suppression:\n  rounding: 0\n", r"suppression.rounding: must be 1 \(no rounding\)"),
        ("suppression:\n  protection: -1\n", r"suppression.protection: must be 0 or more"),
        (
            "suppression:\n  rounding: 5\n  threshold: 7\n",
            r"suppression.rounding: 5 does not divide suppression.threshold \(7\)",
        ),
        (
            "suppression:\n  threshold: five\n",
            r"suppression.threshold: expected a whole number, got 'five'",
        ),
        ("clustering:\n  k: 1\n", r"clustering.k: must be 2 or more"),
        ("need_index:\n  indicators:\n    imd_score: -1\n", r"weights must be positive numbers"),
        (
            "output:\n  static_formats: [png, gif]\n",
            r"\['gif'\] not valid; choose from \['pdf', 'png', 'svg'\]",
        ),
        ("- a\n- b\n", r"expected key: value settings"),
        ("a: [\n", r"not valid YAML at line"),
    ],
)
def test_bad_config_names_key_and_choices(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_missing_config(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "none.yml")


def test_indicators_accept_weight_or_weight_and_direction(tmp_path):
    cfg = load_config(
        write(
            tmp_path,
            "need_index:\n  indicators:\n    imd_score: 2\n"
            "    idaci_score: {weight: 1, direction: lower}\n",
        )
    )
    assert cfg.need_index.specs == (
        Indicator("imd_score", 2.0, "higher"),
        Indicator("idaci_score", 1.0, "lower"),
    )


def test_default_weights_sum_to_one_and_use_published_rates():
    specs = RunConfig().need_index.specs
    assert sum(i.weight for i in specs) == pytest.approx(1)
    assert all(i.direction == "higher" for i in specs)
    assert [i.column for i in specs if "rate" in i.column] == [
        "children_in_need_rate_index",
        "child_protection_plans_rate_index",
        "looked_after_children_rate_index",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "need_index:\n  indicators:\n    imd_score: {weight: 1, direction: up}\n",
            r"need_index.indicators.imd_score: direction 'up' is not valid; choose from \['higher', 'lower'\]",
        ),
        (
            "need_index:\n  indicators:\n    imd_score: {wieght: 1}\n",
            r"need_index.indicators.imd_score: unknown key 'wieght'; valid keys are \['direction', 'weight'\]",
        ),
        (
            "need_index:\n  indicators:\n    imd_score: {direction: lower}\n",
            r"need_index.indicators.imd_score: give a weight",
        ),
        (
            "need_index:\n  indicators:\n    imd_score: {weight: 0}\n",
            r"need_index.indicators.imd_score: weights must be positive numbers \(got 0\)",
        ),
        ("need_index:\n  indicators: {}\n", r"give at least one indicator with a weight"),
        (
            "need_index:\n  indicators:\n    children_in_need_rate: 1\n",
            r"use \['children_in_need_rate_index'\] instead of \['children_in_need_rate'\]",
        ),
        ("need_index:\n  sensitivity: 1.5\n", r"need_index.sensitivity: must be between 0 and 1"),
        ("need_index:\n  seed: x\n", r"need_index.seed: expected a whole number, got 'x'"),
    ],
)
def test_bad_need_index_settings(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_every_number_in_the_config_has_limits():
    from needsmap.config import LIMITS, numeric_settings

    assert sorted(numeric_settings(RunConfig())) == sorted(LIMITS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("need_index:\n  draws: 100000000\n", r"need_index.draws: must be from 1 to 100,000"),
        ("clustering:\n  bootstrap: 1000000\n", r"clustering.bootstrap: must be from 0 to 10,000"),
        ("output:\n  dpi: .inf\n", r"output.dpi: expected a whole number, got inf"),
        ("siting:\n  time_limit_s: .inf\n", r"siting.time_limit_s: must be from 0 to 3,600"),
    ],
)
def test_numbers_out_of_their_limits_are_one_line(tmp_path, text, message):
    path = tmp_path / "needsmap.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)
