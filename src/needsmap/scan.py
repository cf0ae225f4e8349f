"""The disclosure scan: no exported file may show a caseload count from 1 to threshold - 1.

Suppression (``disclosure.apply_suppression``) is applied once to the ward table before
anything is written; this scan is the independent check afterwards. It reads every
file a run wrote, the way a reader would see it:

- tables (``.csv``, ``.xlsx`` every sheet, ``.gpkg``): each caseload count column holds
  no count from 1 to threshold - 1, and where a count is suppressed its rate and
  interval are suppressed too;
- pages (``.html``): every figure tagged ``data-col`` with a count column, and the text
  a reader sees (tags stripped) for phrases such as "3 children" or "Children in need: 3";
- figures (``.png``, ``.svg``, ``.pdf``): the text drawn on them, which needsmap stores in
  the file's metadata when it saves a map (and checks before saving, ``check_texts``);
- ``.json``: numbers stored under a count column's name, and run notes' text.

A file type the scan cannot read is reported as unscanned rather than passed silently.
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from needsmap.config import CASELOAD_MEASURES
from needsmap.disclosure import RATE_SUFFIXES, small_counts
from needsmap.errors import NeedsmapError


class DisclosureError(NeedsmapError):
    """An output would show a small caseload count: nothing is written."""


@dataclass(frozen=True)
class Finding:
    file: str
    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.text!r}"


@dataclass
class ScanResult:
    findings: list[Finding]
    scanned: list[str]
    unscanned: list[str]


_NUMBER = r"(?<![\d.,])(\d{1,3}(?:,\d{3})*|\d+)(?![\d.,]*\d)"
_COUNT_AFTER = re.compile(
    _NUMBER + r"\s+(?:more\s+|fewer\s+|other\s+)?(?:looked[- ]after\s+)?"
    r"(?:children|child|young\s+people|cases|plans?)\b(?!['’]s\b)",  # not "children's centres"
    re.IGNORECASE,
)
_LABEL_BEFORE = re.compile(
    r"(?:children\s+in\s+need|child\s+protection\s+plans?|looked[- ]after\s+children|"
    r"\bCIN\b|\bCPP\b|\bCLA\b)\s*(?:\([^)]*\)\s*)?(?:[:=|]\s*)+" + _NUMBER,
    re.IGNORECASE,
)


def scan_text(text: str, threshold: int) -> list[str]:
    """Phrases in ``text`` that read as a count of 1 to threshold - 1 children.

    "3 children", "2 looked-after children", "Children in need: 4" and
    "CPP | 1" are caught; "fewer than 5 children", "per 10,000 children", "1 to 40"
    (a class break of rates), "22 wards" and "Area 4" above "Children's centre (1)" on
    a legend are not.
    """
    found = []
    for pattern in (_COUNT_AFTER, _LABEL_BEFORE):
        for match in pattern.finditer(text):
            value = int(match.group(1).replace(",", ""))
            if 1 <= value < threshold:
                found.append(match.group(0))
    return found


def check_texts(texts: Sequence[str], threshold: int, *, what: str = "figure") -> None:
    """Raise DisclosureError if any text shows a small count (run before saving)."""
    bad = [hit for t in texts for hit in scan_text(t, threshold)]
    if bad:
        msg = (
            f"{what}: would show a count of fewer than {threshold} children ({bad[:3]}); "
            "nothing was written. Draw suppressed values from the published ward table."
        )
        raise DisclosureError(msg)


def scan_table(
    frame: pd.DataFrame,
    *,
    threshold: int,
    measures: Sequence[str] = CASELOAD_MEASURES,
    name: str = "table",
) -> list[Finding]:
    """Count columns hold no small count; a hidden count's rates are hidden too.

    A count is hidden where its cell holds text ("fewer than 5", "withheld"); its rate
    and interval must then hold text as well, never a number.
    """
    out = []
    for m in measures:
        if m not in frame.columns:
            continue
        values = frame[m].astype(object)
        text = values.astype(str).str.replace(",", "")
        bad = small_counts(text, threshold)
        for row in values.index[bad][:5]:
            out.append(Finding(name, f"column {m}, row {row}", str(values[row])))
        hidden = _is_text(values)
        for suffix in RATE_SUFFIXES:
            col = f"{m}{suffix}"
            if col in frame.columns:
                shown = ~_is_text(frame[col]) & hidden & frame[col].notna().to_numpy()
                for row in frame.index[shown][:5]:
                    out.append(
                        Finding(
                            name,
                            f"column {col}, row {row} (count suppressed)",
                            str(frame.at[row, col]),
                        )
                    )
    return out


def _is_text(values: pd.Series) -> np.ndarray:
    """Cells holding words rather than a number (blank cells are neither)."""
    as_text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    number = pd.to_numeric(as_text.str.replace(",", ""), errors="coerce").notna()
    return ((as_text != "") & ~number & ~as_text.str.lower().isin({"nan", "none"})).to_numpy()


def _visible_text(page: str, *, scripts: bool = False) -> str:
    """The page's text with tags as separators (and, optionally, script contents)."""
    if not scripts:
        page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<[^<>]+>", " | ", page)
    return html.unescape(page)


_TAGGED = re.compile(r"<(\w+)[^>]*\bdata-col=\"([^\"]+)\"[^>]*>(.*?)</\1>", re.DOTALL)


def scan_html(page: str, *, threshold: int, name: str = "page") -> list[Finding]:
    """Tagged count figures and the reader-visible text of an HTML page."""
    out = []
    for match in _TAGGED.finditer(page):
        col, value = match.group(2), html.unescape(re.sub(r"<[^>]+>", "", match.group(3)))
        if (
            col in CASELOAD_MEASURES
            and small_counts(pd.Series([value.replace(",", "")]), threshold)[0]
        ):
            out.append(Finding(name, f"figure data-col={col}", value))
    # Scripts are read too: the interactive map carries its tooltips as strings in JS.
    unquoted = page.replace("\\u003c", "<").replace("\\u003e", ">").replace('\\"', '"')
    text = _visible_text(page) + "\n" + _visible_text(unquoted, scripts=True)
    for hit in dict.fromkeys(scan_text(text, threshold)):
        out.append(Finding(name, "text", hit))
    return out


def scan_json(
    value: object,
    *,
    threshold: int,
    name: str = "json",
    key: str = "",
    measures: Sequence[str] = CASELOAD_MEASURES,
) -> list[Finding]:
    """Numbers stored under a caseload count's name (e.g. ``"looked_after_children": 3``),
    and run notes (text under ``notes``) that read as a small count of children, such as
    "3 child(ren) could not be placed": notes say "fewer than 5" instead.
    """
    if isinstance(value, dict):
        return [
            f
            for k, v in value.items()
            for f in scan_json(v, threshold=threshold, name=name, key=str(k), measures=measures)
        ]
    if isinstance(value, list):
        return [
            f
            for v in value
            for f in scan_json(v, threshold=threshold, name=name, key=key, measures=measures)
        ]
    if isinstance(value, str) and key == "notes":
        return [Finding(name, "notes", hit) for hit in scan_text(value, threshold)]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if key in measures and number and 1 <= float(value) < threshold:  # type: ignore[arg-type]
        return [Finding(name, f"key {key}", str(value))]
    return []


def _pdf_string(data: bytes, start: int) -> str:
    """Decode the PDF literal string beginning at ``data[start] == '('``."""
    out = bytearray()
    depth, i = 0, start
    escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
    while i < len(data):
        c = data[i]
        if c == ord("\\"):
            nxt = data[i + 1]
            if nxt in escapes:
                out += escapes[nxt]
                i += 2
            elif chr(nxt) in "01234567":
                digits = re.match(rb"[0-7]{1,3}", data[i + 1 : i + 4])
                assert digits is not None
                out.append(int(digits.group(0), 8) & 0xFF)
                i += 1 + len(digits.group(0))
            elif nxt in (ord("\n"), ord("\r")):
                i += 2
            else:
                out.append(nxt)
                i += 2
            continue
        if c == ord("("):
            depth += 1
            if depth > 1:
                out.append(c)
        elif c == ord(")"):
            depth -= 1
            if depth == 0:
                break
            out.append(c)
        else:
            out.append(c)
        i += 1
    raw = bytes(out)
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", errors="replace")
    return raw.decode("latin-1")


def figure_text(path: Path) -> str | None:
    """The drawn text a needsmap figure stores in its metadata (None if it has none)."""
    suffix = path.suffix.lower()
    if suffix == ".png":
        from PIL import Image

        with Image.open(path) as image:
            # needsmap writes its text chunks before the image data, so ``info`` has them
            # without decoding the image; ``text`` also finds chunks at the end.
            text = image.info.get("Description")
            if text is None:
                text = getattr(image, "text", {}).get("Description")
        return str(text) if text is not None else None
    if suffix == ".svg":
        page = path.read_text(encoding="utf-8")
        match = re.search(r"<dc:description>(.*?)</dc:description>", page, re.DOTALL)
        return html.unescape(match.group(1)) if match else None
    if suffix == ".pdf":
        data = path.read_bytes()
        at = data.find(b"/Subject (")
        return _pdf_string(data, at + len(b"/Subject ")) if at >= 0 else None
    return None


def _as_shown(value: object) -> object:
    """A cell as Excel shows it: blank as None, a whole number without ".0"."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def workbook_tables(path: Path) -> Iterable[tuple[str, pd.DataFrame]]:
    """Each sheet of a workbook as (sheet name, table headed by its column names).

    Cells are as Excel shows them: numbers as numbers, suppressed cells as their text,
    empty cells None. Read by calamine (python-calamine): a reader independent of the
    one that wrote the file, and a national workbook in 0.4 s rather than openpyxl's 4.
    """
    from python_calamine import CalamineWorkbook

    from needsmap.workbook import header_and_rows

    book = CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        rows = [
            [_as_shown(v) for v in row]
            for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        ]
        if rows:
            header, data = header_and_rows(rows)
            yield name, pd.DataFrame(data, columns=header)


def scan_file(path: Path, *, threshold: int, name: str | None = None) -> list[Finding] | None:
    """Findings for one file; None if the scan cannot read this kind of file."""
    name = name or path.name
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        return scan_table(frame, threshold=threshold, name=name)
    if suffix == ".gpkg":
        import pyogrio

        out = []
        for layer, _ in pyogrio.list_layers(path):
            frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
            out += scan_table(frame, threshold=threshold, name=f"{name}:{layer}")
        return out
    if suffix == ".xlsx":
        if not zipfile.is_zipfile(path):
            return [Finding(name, "file", "not a readable workbook")]
        out = []
        for sheet, frame in workbook_tables(path):
            out += scan_table(frame, threshold=threshold, name=f"{name}:{sheet}")
        return out
    if suffix in (".html", ".htm"):
        return scan_html(path.read_text(encoding="utf-8"), threshold=threshold, name=name)
    if suffix in (".png", ".svg", ".pdf"):
        text = figure_text(path)
        if text is None:
            return None
        return [Finding(name, "drawn text", hit) for hit in scan_text(text, threshold)]
    if suffix == ".json":
        return scan_json(
            json.loads(path.read_text(encoding="utf-8")), threshold=threshold, name=name
        )
    return None


def scan_folder(folder: Path, *, threshold: int) -> ScanResult:
    """Scan every file under ``folder``.

    Files the scan cannot read (another kind of file, or a PDF/PNG with no stored
    text, such as the report PDF printed from the scanned report.html) are listed in
    ``unscanned``.
    """
    folder = Path(folder)
    findings: list[Finding] = []
    scanned, unscanned = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        found = scan_file(path, threshold=threshold, name=rel)
        if found is None:
            unscanned.append(rel)
        else:
            scanned.append(rel)
            findings += found
    return ScanResult(findings=findings, scanned=scanned, unscanned=unscanned)


def assert_clean(folder: Path, *, threshold: int) -> ScanResult:
    """Scan ``folder`` and raise DisclosureError naming the first findings, if any."""
    result = scan_folder(folder, threshold=threshold)
    if result.findings:
        shown = "; ".join(str(f) for f in result.findings[:3])
        msg = (
            f"disclosure scan: {len(result.findings)} small count(s) in the outputs ({shown}); "
            "nothing was published"
        )
        raise DisclosureError(msg)
    return result
