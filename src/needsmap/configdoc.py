"""The config reference, generated from the config dataclasses so that it cannot drift.

Each setting is documented once, by the docstring under its field in
:mod:`needsmap.config` (a section by its class docstring). From those this module
renders the commented YAML file ``needsmap init`` writes and ``docs/config.md``;
a test fails if a field has no docstring or ``docs/config.md`` is stale.

Regenerate the reference with ``make docs`` (``python -m needsmap.configdoc docs/config.md``).
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import functools
import inspect
import re
import sys
import textwrap
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import yaml

from needsmap import __version__
from needsmap.config import REPO_ROOT, RunConfig, bundled_data_dir

WIDTH = 88


@dataclass(frozen=True)
class Setting:
    """One key of the config file."""

    key: str
    """Dotted key, e.g. ``siting.sites``."""
    depth: int
    """0 for top-level keys, 1 inside a section."""
    hint: Any
    """The field's type."""
    value: Any
    """Its value in the config being rendered."""
    default: Any
    """Its default."""
    doc: str
    section: bool
    """True for a nested section (a dataclass of further settings)."""

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[-1]


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field of a dataclass, by field name."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for stmt, after in zip(body, body[1:], strict=False):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[stmt.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def settings(config: Any | None = None, *, prefix: str = "") -> Iterator[Setting]:
    """Every key of a config, sections followed by their keys, in declaration order.

    Parameters
    ----------
    config
        A config dataclass instance (default ``RunConfig()``); its values are rendered.
    prefix
        Dotted prefix for the keys (used for nested sections).
    """
    config = RunConfig() if config is None else config
    cls: type = type(config)
    hints = get_type_hints(cls)
    docs = field_docs(cls)
    depth = prefix.count(".")
    for f in dataclasses.fields(cls):
        hint, value = hints[f.name], getattr(config, f.name)
        key = f"{prefix}{f.name}"
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            doc = docs.get(f.name) or inspect.cleandoc(hint.__doc__ or "")
            if doc.startswith(f"{hint.__name__}("):  # dataclass's generated signature
                doc = ""
            yield Setting(key, depth, hint, value, None, doc, section=True)
            yield from settings(value, prefix=f"{key}.")
        else:
            yield Setting(key, depth, hint, value, _default(f), docs.get(f.name, ""), False)


def undocumented() -> list[str]:
    """Keys without a docstring (a test keeps this empty)."""
    return [s.key for s in settings() if not s.doc]


_WORDS = {
    str: "text",
    int: "whole number",
    float: "number",
    bool: "true or false",
    Path: "path",
    dt.date: "date (YYYY-MM-DD)",
}


def describe_type(hint: Any) -> str:
    """A type in the words a config file's reader uses: 'whole number or null'."""
    origin = get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        parts = [describe_type(a) for a in get_args(hint) if a is not type(None)]
        return " or ".join(parts) + " or null"
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(hint))
    if origin is tuple and dataclasses.is_dataclass(get_args(hint)[0]):
        return f"list of {get_args(hint)[0].__name__.lower()}s"
    if origin is tuple:
        return f"list of {describe_type(get_args(hint)[0])}s".replace("texts", "text")
    if origin in (Mapping, dict, typing.Mapping) or hint is dict:
        return "mapping"
    return _WORDS.get(hint, getattr(hint, "__name__", str(hint)))


def choices(hint: Any) -> tuple[Any, ...]:
    """The valid values of a Literal setting (also inside ``X | None``), else ()."""
    origin = get_origin(hint)
    if origin is Literal:
        return get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return tuple(c for a in get_args(hint) for c in choices(a))
    return ()


def plain(value: Any, base: Path | None = None) -> Any:
    """A value as YAML writes it: paths relative to ``base`` where they lie under it."""
    if isinstance(value, Path):
        if base is not None and value.is_absolute():
            try:
                return value.relative_to(base).as_posix()
            except ValueError:
                pass
        return value.as_posix()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return {f.name: plain(getattr(value, f.name), base) for f in fields}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v, base) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [plain(v, base) for v in value]
    return value


def flow(value: Any) -> str:
    """One YAML value on one line: ``[png, svg]``, ``null``, ``0.3``, ``out/wirral``."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000)
    return text.removesuffix("\n...\n").removesuffix("\n")


def _text(doc: str) -> str:
    """Docstring markup to Markdown: ``x`` -> `x`; lines joined per paragraph or list item."""
    paras = []
    for para in doc.replace("``", "`").split("\n\n"):
        items = re.split(r"\n(?=- )", para)
        paras.append("\n".join(" ".join(item.split()) for item in items))
    return "\n\n".join(paras)


def _comment(doc: str, indent: str) -> list[str]:
    out = []
    for para in _text(doc).replace("`", "").replace("\n\n", "\n").split("\n"):
        out += textwrap.wrap(
            para,
            WIDTH,
            initial_indent=f"{indent}# ",
            subsequent_indent=f"{indent}# ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    return out


def _meaning(s: Setting) -> str:
    doc = _text(s.doc)
    options = choices(s.hint)
    if options and not all(str(o) in doc for o in options):
        doc += " Choose from " + ", ".join(str(o) for o in options) + "."
    return doc


def template(config: RunConfig | None = None, *, base: Path | None = None, note: str = "") -> str:
    """The config as a commented YAML file: every key, its value and what it means.

    Parameters
    ----------
    config
        The values to write (default: the defaults).
    base
        The folder the file will live in: paths under it are written relative to it
        (a config file's relative paths are read from its folder).
    note
        A paragraph for the top of the file (e.g. what to do next).

    Returns
    -------
    str
        YAML that :func:`needsmap.config.load_config` reads back to ``config``.
    """
    lines = [
        f"# needsmap configuration (written by needsmap {__version__}).",
        *_comment(
            "Every key is optional: delete one to take its default. Relative paths are read "
            "from this file's folder. Check the inputs with 'needsmap validate --config "
            "FILE', then 'needsmap run --config FILE'. Reference: docs/config.md.",
            "",
        ),
        *(["#", *_comment(note, "")] if note else []),
    ]
    for s in settings(config):
        indent = "  " * s.depth
        if s.section:
            lines += ["", *_comment(s.doc.split("\n\n")[0], indent), f"{indent}{s.name}:"]
            continue
        if s.depth == 0:
            lines.append("")
        lines += _comment(_meaning(s), indent)
        value = plain(s.value, base)
        if isinstance(value, dict) and value:
            lines.append(f"{indent}{s.name}:")
            lines += [f"{indent}  {flow(k)}: {flow(v)}" for k, v in value.items()]
        else:
            lines.append(f"{indent}{s.name}: {flow(value)}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _in_repo(value: Any) -> Any:
    """A path into the bundled data as the repository spells it (``NEEDSMAP_DATA`` aside)."""
    if isinstance(value, Path) and value.is_relative_to(bundled_data_dir()):
        return REPO_ROOT / "data" / value.relative_to(bundled_data_dir())
    return value


def _default_cell(s: Setting) -> str:
    value = plain(_in_repo(s.default), REPO_ROOT)
    if isinstance(value, dict) and value:
        return "<br>".join(f"`{k}: {flow(v)}`" for k, v in value.items())
    return f"`{flow(value)}`"


def markdown() -> str:
    """docs/config.md: every key with its type, default and meaning, then a full file."""
    head = [
        "# Configuration reference",
        "",
        "<!-- Generated from the settings in src/needsmap/config.py by `make docs`. "
        "Do not edit by hand: a test fails when this file is stale. -->",
        "",
        "A run is set up by one YAML file: `needsmap run --config needsmap.yml`. "
        "`needsmap init DIR` writes one with every key, its default and what it means, "
        "beside templates for your caseload and services files; "
        "`needsmap validate --config needsmap.yml` checks it and every input without "
        "running the analysis.",
        "",
        "- Every key is optional: a key left out takes the default below, and the defaults "
        "run the bundled Wirral case.",
        "- Relative paths are read from the config file's folder.",
        "- An unknown key or a bad value stops the run with one line naming the key and "
        "the valid keys or values.",
        "- Command-line options (`--caseload`, `--services`, `--out`) override the file.",
        "",
    ]
    body: list[str] = []
    table = ["| key | type | default | meaning |", "|---|---|---|---|"]
    top = [s for s in settings() if s.depth == 0 and not s.section]
    body += ["## Top level", "", *table]
    body += [_row(s) for s in top]
    for s in settings():
        if s.section:
            body += ["", f"## `{s.key}`", "", _text(s.doc), "", *table]
        elif s.depth > 0:
            body.append(_row(s))
    tail = [
        "",
        "## The whole file, with the defaults",
        "",
        "```yaml",
        template(RunConfig(area=_in_repo(RunConfig().area)), base=REPO_ROOT).rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(head + body + tail)


def _row(s: Setting) -> str:
    return f"| `{s.key}` | {describe_type(s.hint)} | {_default_cell(s)} | {_cell(_meaning(s))} |"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m needsmap.configdoc [PATH]``: write the reference (default: stdout)."""
    args = list(sys.argv[1:] if argv is None else argv)
    text = markdown()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
