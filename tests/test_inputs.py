"""The input-safety layer: bytes to text, YAML, dates."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from needsmap.checks import check_measures
from needsmap.config import RunConfig, load_config
from needsmap.errors import ConfigError, InputError, RepairWarning
from needsmap.inputs import MAX_YAML_BYTES, as_date, decode, load_yaml, parse_periods
from needsmap.sources.caseload import Caseload

HINT = "save it as UTF-8"


@pytest.mark.parametrize(
    ("label", "iso"),
    [
        ("2025-03-31", "2025-03-31"),
        ("31/03/2025", "2025-03-31"),
        ("31-03-2025", "2025-03-31"),
        ("31.03.2025", "2025-03-31"),
        ("31 March 2025", "2025-03-31"),
        ("31 Mar 2025", "2025-03-31"),
        ("Mar 2025", "2025-03"),
        ("September 2024", "2024-09"),
        ("2025-03", "2025-03"),
        ("2025", "2025"),
        ("  31/03/2025 ", "2025-03-31"),
    ],
)
def test_dates_in_any_usual_form(label, iso):
    assert as_date(label) == iso


@pytest.mark.parametrize(
    "label", ["03/31/2025", "2024-25", "2024/25", "Q1", "latest", "31/02/2025"]
)
def test_not_dates(label):
    assert as_date(label) is None


def test_periods_sort_in_time_whatever_their_format():
    labels = ["31/03/2025", "30/09/2024", "31/03/2024"]
    mapping, note = parse_periods(labels, "c.csv")
    assert sorted(mapping.values()) == ["2024-03-31", "2024-09-30", "2025-03-31"]
    assert note == (
        "c.csv: periods read as dates and written as ISO dates (31/03/2025 -> 2025-03-31, "
        "30/09/2024 -> 2024-09-30, 31/03/2024 -> 2024-03-31)"
    )


def test_labels_that_are_not_dates_are_kept():
    assert parse_periods(["2023-24", "2024-25"], "c.csv") == (
        {"2023-24": "2023-24", "2024-25": "2024-25"},
        None,
    )


def test_two_labels_for_one_date_are_an_error():
    with pytest.raises(
        InputError,
        match=r"c.csv: column 'period' has '2025-03-31' and '31/03/2025' for the same date",
    ):
        parse_periods(["2025-03-31", "31/03/2025"], "c.csv")


def test_utf16_with_a_bad_body_is_one_line():
    with pytest.raises(InputError, match=r"x.yml: marked as UTF-16 but cannot be read as it"):
        decode(b"\xff\xfe\x00\xd8", "x.yml", utf16=True, hint=HINT)


def test_utf16_is_read_with_a_note():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = decode("a: 1\n".encode("utf-16"), "x.yml", utf16=True, hint=HINT)
    assert text == "a: 1\n"
    assert [w.category for w in caught] == [RepairWarning]


def test_a_huge_config_is_refused_unread():
    with pytest.raises(InputError, match=r"x.yml: 1,000,001 bytes is too big for a config"):
        load_yaml(b"#" * (MAX_YAML_BYTES + 1), "x.yml")


def test_deeply_nested_yaml_is_one_line():
    with pytest.raises(InputError, match=r"x.yml: nested too deeply to be a config"):
        load_yaml(b"[" * 100_000 + b"]" * 100_000, "x.yml")


def test_anchors_without_aliases_are_harmless():
    assert load_yaml(b"a: &x 1\nb: 2\n", "x.yml") == {"a": 1, "b": 2}


def test_a_config_that_is_a_folder(tmp_path):
    with pytest.raises(ConfigError, match=r"is a folder; give the config file"):
        load_config(tmp_path)


def test_a_caseload_without_a_measure_the_index_uses_names_the_file(tmp_path):
    counts = pd.DataFrame(
        {"children_in_need": [5]},
        index=pd.MultiIndex.from_tuples([("latest", "E05000954")], names=["period", "ward_code"]),
    )
    caseload = Caseload(
        counts=counts,
        measures=("children_in_need",),
        synthetic=False,
        source=tmp_path / "ours.csv",
    )
    with pytest.raises(
        InputError,
        match=r"ours.csv: has no \['child_protection_plans', 'looked_after_children'\] "
        r"column\(s\), which need_index.indicators and clustering.features use",
    ):
        check_measures(RunConfig(), caseload)
