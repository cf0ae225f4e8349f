"""The input-safety layer: bytes to text, YAML, dates, the same way for every input.

- :func:`decode`: UTF-8 (with or without Excel's byte-order mark); UTF-16 with its mark
  and Windows-1252 are repaired with a note; anything else stops with one line.
- :func:`load_yaml`: YAML's safe loader without aliases (``*name``: a few lines can
  otherwise expand to gigabytes) and with an error for a key given twice (YAML would
  silently keep the last). Files over :data:`MAX_YAML_BYTES` are refused.
- :func:`parse_periods`: period labels read as real dates, whatever their format, so
  they sort in time order; a mixture of dates and other labels stops with one line.

Loaders and the config use these; none of them reads bytes or YAML any other way.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Hashable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import yaml

from needsmap.errors import InputError, RepairWarning

MAX_YAML_BYTES = 1_000_000
"""A config is a few kilobytes; a bigger file is not one."""

_MAGIC = {
    b"PK\x03\x04": "an Excel workbook (.xlsx) or another zip file",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF",
}


def decode(raw: bytes, name: str, *, utf16: bool = False, hint: str) -> str:
    """Text from a file's bytes, or one line saying why it cannot be read.

    ``utf16`` accepts UTF-16 with a byte-order mark (a note says it was converted);
    ``hint`` says how to save the file properly ("in Excel use Save As > CSV UTF-8").
    Windows-1252 (Excel's and Notepad's old default) is read with a note.
    """
    for magic, kind in _MAGIC.items():
        if raw.startswith(magic):
            msg = f"{name}: this is {kind}, not a text file; {hint}"
            raise InputError(msg)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        if not utf16:
            msg = f"{name}: saved as UTF-16 (Excel's 'Unicode Text'); {hint}"
            raise InputError(msg)
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            msg = f"{name}: marked as UTF-16 but cannot be read as it; {hint}"
            raise InputError(msg) from None
        _repaired(f"{name}: saved as UTF-16; read as such. Save it as UTF-8 to silence this.")
        return text.lstrip("\ufeff")
    if b"\x00" in raw:
        msg = f"{name}: not a text file (it holds NUL bytes); {hint}"
        raise InputError(msg)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        msg = f"{name}: the text encoding is neither UTF-8 nor Windows-1252; {hint}"
        raise InputError(msg) from None
    _repaired(
        f"{name}: not UTF-8; read as Windows-1252 (Excel's default). Save as UTF-8 to silence this."
    )
    return text


def _repaired(message: str) -> None:
    warnings.warn(message, RepairWarning, stacklevel=4)


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing aliases and keys given twice."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                problem="aliases (*name) are not allowed; write the value out in full",
                problem_mark=event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Hashable, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, Hashable) and key in seen:
                    raise yaml.MarkedYAMLError(
                        problem=(
                            f"key {key!r} is given twice (also at line {seen[key] + 1}); keep one"
                        ),
                        problem_mark=key_node.start_mark,
                    )
                if isinstance(key, Hashable):
                    seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml(raw: bytes, name: str) -> Any:
    """Parse a YAML file's bytes safely (see the module docstring); one line if not."""
    if len(raw) > MAX_YAML_BYTES:
        msg = f"{name}: {len(raw):,} bytes is too big for a config (at most {MAX_YAML_BYTES:,})"
        raise InputError(msg)
    text = decode(raw, name, utf16=True, hint="save it as UTF-8 text")
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        why = problem if problem and ("alias" in problem or "twice" in problem) else None
        msg = f"{name}: not valid YAML{where}; " + (why or "check indentation and colons")
        raise InputError(msg) from None
    except RecursionError:
        msg = f"{name}: nested too deeply to be a config"
        raise InputError(msg) from None


# ------------------------------------------------------------------------------ dates

DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%Y/%m/%d",
)
"""Day dates: ISO, or day first as in the UK (never month first)."""
MONTH_FORMATS = ("%Y-%m", "%b %Y", "%B %Y", "%m/%Y", "%b-%Y", "%b-%y")
"""Months: written as YYYY-MM."""
_YEAR = re.compile(r"(19|20)[0-9]{2}")


def as_date(label: str) -> str | None:
    """``label`` as an ISO date (YYYY-MM-DD, YYYY-MM for a month, YYYY for a year),
    or None if it is not a date in a form read unambiguously."""
    text = " ".join(label.split())
    if _YEAR.fullmatch(text):
        return text
    for fmts, out in ((DATE_FORMATS, "%Y-%m-%d"), (MONTH_FORMATS, "%Y-%m")):
        for fmt in fmts:
            try:
                when: date = datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            if not 1900 <= when.year <= 2100:
                return None
            return when.strftime(out)
    return None


def parse_periods(labels: Sequence[str], name: str) -> tuple[dict[str, str], str | None]:
    """Map each distinct period label to one that sorts in time order, and a note.

    When every label is a date (``as_date``), each becomes its ISO form and the note
    lists the changes (None if none). When none is, labels are kept as written
    (e.g. 2023-24, Q1) and sort as text. A mixture stops with one line: a label that is
    not a date would sort among dates by its letters, putting the wrong period last.
    """
    distinct = list(dict.fromkeys(labels))
    parsed = {p: as_date(p) for p in distinct}
    dates = {p: d for p, d in parsed.items() if d is not None}
    if not dates:
        return {p: p for p in distinct}, None
    others = [p for p, d in parsed.items() if d is None]
    if others:
        msg = (
            f"{name}: column 'period' mixes dates ({next(iter(dates))!r}) with labels that "
            f"are not dates in a form needsmap reads ({', '.join(map(repr, others[:3]))}); "
            "write every period as a date, e.g. 2025-03-31 (day first: 31/03/2025)"
        )
        raise InputError(msg)
    clash = _clashes(dates)
    if clash:
        msg = f"{name}: column 'period' has {clash} for the same date; give each period once"
        raise InputError(msg)
    changed = {p: d for p, d in dates.items() if p != d}
    note = None
    if changed:
        shown = ", ".join(f"{p} -> {d}" for p, d in list(changed.items())[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        note = f"{name}: periods read as dates and written as ISO dates ({shown}{more})"
    return {p: d for p, d in dates.items()}, note


def _clashes(dates: Mapping[str, str]) -> str | None:
    by_date: dict[str, list[str]] = {}
    for label, iso in dates.items():
        by_date.setdefault(iso, []).append(label)
    same = next((v for v in by_date.values() if len(v) > 1), None)
    return None if same is None else " and ".join(repr(v) for v in same)
