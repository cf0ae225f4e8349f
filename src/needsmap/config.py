"""Run configuration: one frozen dataclass tree, loaded from YAML and validated.

Defaults describe the bundled Wirral case, so ``RunConfig()`` runs it. Relative paths
in a config file are read relative to that file's folder.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import yaml

from needsmap.errors import ConfigError
from needsmap.maps import style

REPO_ROOT = Path(__file__).resolve().parents[2]


def bundled_data_dir() -> Path:
    """The folder holding the bundled areas (``data/`` in the repository).

    ``NEEDSMAP_DATA`` overrides it, for an installed package used away from the repo.
    """
    return Path(os.environ.get("NEEDSMAP_DATA", REPO_ROOT / "data"))


CASELOAD_MEASURES = ("children_in_need", "child_protection_plans", "looked_after_children")


@dataclass(frozen=True)
class SuppressionConfig:
    enabled: bool = True
    threshold: int = 5
    """Counts from 1 to threshold - 1 are suppressed ("fewer than 5")."""


@dataclass(frozen=True)
class NeedIndexConfig:
    method: Literal["zscore", "rank", "minmax"] = "zscore"
    indicators: Mapping[str, float] = field(
        default_factory=lambda: {
            "idaci_score": 0.30,
            "imd_score": 0.20,
            "children_in_need_rate": 0.20,
            "child_protection_plans_rate": 0.15,
            "looked_after_children_rate": 0.15,
        }
    )
    top_n: int = 5
    draws: int = 1000
    weight_spread: float = 0.5
    """Monte Carlo weights are drawn uniformly within +/- this share of each weight."""


@dataclass(frozen=True)
class ClusteringConfig:
    method: Literal["kmeans", "agglomerative", "gmm"] = "kmeans"
    features: tuple[str, ...] = (
        "idaci_score",
        "imd_score",
        "children_in_need_rate",
        "child_protection_plans_rate",
        "looked_after_children_rate",
    )
    k: int | None = None
    k_min: int = 2
    k_max: int = 8
    seed: int = 42


@dataclass(frozen=True)
class OutputConfig:
    folder: Path = Path("out/wirral")
    static_formats: tuple[str, ...] = ("png", "svg", "pdf")
    dpi: int = 300


@dataclass(frozen=True)
class MapsConfig:
    """How the board maps look: a council's own colours and font (see maps/style.py)."""

    palette: tuple[str, ...] = style.SEQUENTIAL
    """Sequential colours for continuous layers, light to dark, as '#rrggbb' (quote them in
    YAML); one class of wards per colour, 3 to 9. Darker always means more need."""
    categorical: tuple[str, ...] = style.CATEGORICAL
    """Colours for clusters and localities ('#rrggbb'), used in turn; hot-spot classes
    keep their conventional colours."""
    font: str = style.FONT
    """Font family for the static maps; if it is not installed, DejaVu Sans with a warning."""
    labels: Literal["auto", "on", "off"] = "auto"
    """Ward names on the static maps; auto draws them up to label_max_wards wards."""
    label_max_wards: int = 60
    """With labels: auto, the most wards whose names are drawn (more would not be legible)."""


@dataclass(frozen=True)
class ReportConfig:
    """The board summary: report.html, and report.pdf where Chromium is installed."""

    pdf: bool = True
    """Also print report.pdf with headless Chromium; without Chromium the run notes why not."""
    top_wards: int = 10
    """How many wards the 'most need' table lists."""
    profiles: int = 100
    """How many one-page ward profiles, most need first (0 for none)."""


@dataclass(frozen=True)
class RunConfig:
    area: Path = field(default_factory=lambda: bundled_data_dir() / "wirral")
    """A bundle folder: bundle.json plus the files listed in data/README.md."""
    caseload: Path | None = None
    """Ward caseload CSV; None uses the bundle's synthetic caseload."""
    services: tuple[Path, ...] = ()
    """Extra service CSVs, added to the bundle's services.csv."""
    suppression: SuppressionConfig = field(default_factory=SuppressionConfig)
    need_index: NeedIndexConfig = field(default_factory=NeedIndexConfig)
    clustering: ClusteringConfig = field(default_factory=ClusteringConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    maps: MapsConfig = field(default_factory=MapsConfig)
    report: ReportConfig = field(default_factory=ReportConfig)

    def __post_init__(self) -> None:
        _check(self)


def _check(cfg: RunConfig) -> None:
    s = cfg.suppression
    if s.threshold < 1:
        msg = f"suppression.threshold: must be 1 or more (got {s.threshold})"
        raise ConfigError(msg)
    ni = cfg.need_index
    if not ni.indicators:
        msg = "need_index.indicators: give at least one indicator with a weight"
        raise ConfigError(msg)
    bad = {k: w for k, w in ni.indicators.items() if not isinstance(w, int | float) or w <= 0}
    if bad:
        msg = f"need_index.indicators: weights must be positive numbers (got {bad})"
        raise ConfigError(msg)
    if ni.draws < 1 or ni.top_n < 1:
        msg = "need_index.draws and need_index.top_n must be 1 or more"
        raise ConfigError(msg)
    if not 0 <= ni.weight_spread < 1:
        msg = f"need_index.weight_spread: must be in [0, 1) (got {ni.weight_spread})"
        raise ConfigError(msg)
    c = cfg.clustering
    if c.k is not None and c.k < 2:
        msg = f"clustering.k: must be 2 or more, or null to choose it (got {c.k})"
        raise ConfigError(msg)
    if not 2 <= c.k_min <= c.k_max:
        msg = f"clustering.k_min/k_max: need 2 <= k_min <= k_max (got {c.k_min}, {c.k_max})"
        raise ConfigError(msg)
    fmts = set(cfg.output.static_formats) - {"png", "svg", "pdf"}
    if fmts:
        msg = f"output.static_formats: {sorted(fmts)} not valid; choose from ['pdf', 'png', 'svg']"
        raise ConfigError(msg)
    _check_board(cfg)


HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _check_board(cfg: RunConfig) -> None:
    """The maps and report sections (board-paper outputs)."""
    _check_maps(cfg.maps)
    r = cfg.report
    if r.top_wards < 1 or r.profiles < 0:
        msg = (
            f"report: top_wards must be 1 or more and profiles 0 or more "
            f"(got {r.top_wards}, {r.profiles})"
        )
        raise ConfigError(msg)


def _check_maps(m: MapsConfig) -> None:
    for key, colours in (("palette", m.palette), ("categorical", m.categorical)):
        bad = [c for c in colours if not isinstance(c, str) or not HEX_COLOUR.fullmatch(c)]
        if bad:
            msg = (
                f"maps.{key}: {bad} not colours; write each as #rrggbb in quotes, "
                "e.g. '#fd8d3c' (unquoted, YAML reads # as a comment)"
            )
            raise ConfigError(msg)
    if not 3 <= len(m.palette) <= 9:
        msg = (
            f"maps.palette: give 3 to 9 colours, light to dark (got {len(m.palette)}); "
            "each colour is one class of wards"
        )
        raise ConfigError(msg)
    if not m.categorical:
        msg = "maps.categorical: give at least one colour (#rrggbb)"
        raise ConfigError(msg)
    if not m.font.strip():
        msg = "maps.font: give a font family name, e.g. 'DejaVu Sans'"
        raise ConfigError(msg)
    if m.label_max_wards < 0:
        msg = f"maps.label_max_wards: must be 0 or more (got {m.label_max_wards})"
        raise ConfigError(msg)


def _convert(value: Any, hint: Any, key: str, base: Path) -> Any:
    """Turn a YAML value into the type a dataclass field expects, or say why not."""
    origin = get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            msg = f"{key}: expected a mapping of settings, got {value!r}"
            raise ConfigError(msg)
        return _build(hint, value, base, prefix=f"{key}.")  # type: ignore[arg-type]
    if origin in (types.UnionType, typing.Union):
        args = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(value, args[0], key, base)
    if origin is Literal:
        choices = get_args(hint)
        if value not in choices:
            msg = f"{key}: {value!r} is not valid; choose from {sorted(choices)}"
            raise ConfigError(msg)
        return value
    if origin is tuple:
        items = value if isinstance(value, list | tuple) else [value]
        return tuple(_convert(v, get_args(hint)[0], key, base) for v in items)
    if origin in (Mapping, dict, typing.Mapping):
        if not isinstance(value, Mapping):
            msg = f"{key}: expected a mapping, got {value!r}"
            raise ConfigError(msg)
        return dict(value)
    if hint is Path:
        if not isinstance(value, str | Path):
            msg = f"{key}: expected a file or folder path, got {value!r}"
            raise ConfigError(msg)
        path = Path(value).expanduser()
        return path if path.is_absolute() else base / path
    if hint is bool:
        if not isinstance(value, bool):
            msg = f"{key}: expected true or false, got {value!r}"
            raise ConfigError(msg)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"{key}: expected a whole number, got {value!r}"
            raise ConfigError(msg)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"{key}: expected a number, got {value!r}"
            raise ConfigError(msg)
        return float(value)
    if hint is str:
        return str(value)
    return value


def _build(cls: type, data: Mapping[str, Any], base: Path, prefix: str = "") -> Any:
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        msg = f"{prefix}{unknown[0]}: unknown key; valid keys here are {names}"
        raise ConfigError(msg)
    kwargs = {k: _convert(v, hints[k], f"{prefix}{k}", base) for k, v in data.items()}
    return cls(**kwargs)


def config_from_dict(data: Mapping[str, Any] | None, *, base: Path | None = None) -> RunConfig:
    """Build a RunConfig from a mapping (as read from YAML); paths relative to ``base``."""
    return _build(RunConfig, data or {}, base or Path.cwd())  # type: ignore[no-any-return]


def load_config(path: Path) -> RunConfig:
    """Read and validate a YAML config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        msg = f"{path}: config file not found; create one with 'needsmap init DIR'"
        raise ConfigError(msg) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        msg = f"{path.name}: not valid YAML{where}; check indentation and colons"
        raise ConfigError(msg) from None
    if data is not None and not isinstance(data, Mapping):
        msg = f"{path.name}: expected key: value settings at the top level"
        raise ConfigError(msg)
    try:
        return config_from_dict(data, base=path.parent.resolve())
    except ConfigError as exc:
        msg = f"{path.name}: {exc}"
        raise ConfigError(msg) from None


def config_to_dict(cfg: RunConfig) -> dict[str, Any]:
    """A plain, JSON-friendly view of the config (for run.json)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        return value

    return plain(cfg)  # type: ignore[no-any-return]
