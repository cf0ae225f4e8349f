"""The board summary: benchmark, cluster profiles, findings, figures, escaping, PDF."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html.parser import HTMLParser

import geopandas as gpd
import pandas as pd
import pytest
from tests import board_data as bd

from needsmap import report
from needsmap.disclosure import Disclosure, apply_suppression
from needsmap.indicators import caseload_rates

CTX = report.ReportContext(
    area="Testshire",
    period="2025-03-31",
    synthetic=True,
    stamp=None,
    attribution=("Contains OS data © Crown copyright and database right 2025.",),
    subtitle="IoD2025 · synthetic caseload at 2025-03-31 · 9 wards",
    version="0.1.0",
)


class Figures(HTMLParser):
    """Collects every tagged figure: (ward, column) -> text, and the image sources."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[tuple[str, str, str]] = []
        self.sums: list[tuple[str, list[str], str]] = []
        self.medians: list[tuple[str, str]] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self._open: list[tuple[str, dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src") or "")
        for key in ("href", "src"):
            if a.get(key) and not str(a[key]).startswith("data:"):
                self.links.append(str(a[key]))
        if tag == "span":
            self._open.append((tag, a, []))

    def handle_data(self, data):
        for _, _, parts in self._open:
            parts.append(data)

    def handle_endtag(self, tag):
        if tag != "span" or not self._open:
            return
        _, a, parts = self._open.pop()
        text = "".join(parts)
        if a.get("data-col"):
            # A category shown in words keeps the table's value in data-value.
            shown = str(a["data-value"]) if a.get("data-value") is not None else text
            self.figures.append((str(a["data-ward"]), str(a["data-col"]), shown))
        if a.get("data-sum"):
            self.sums.append((str(a["data-sum"]), str(a["data-wards"]).split(","), text))
        if a.get("data-median"):
            self.medians.append((str(a["data-median"]), text))


def parse(page: str) -> Figures:
    p = Figures()
    p.feed(page)
    return p


def matches(text: str, value: object) -> bool:
    """Does a printed figure read the same as the table's value?"""
    if isinstance(value, str) and not re.fullmatch(r"-?[\d.]+(e-?\d+)?", value):
        return text == value
    number = float(value)  # type: ignore[arg-type]
    if text.endswith("%"):
        return abs(float(text[:-1]) - 100 * number) <= 0.5
    digits = len(text.split(".")[1]) if "." in text else 0
    return abs(float(text.replace(",", "")) - number) <= 0.5 * 10**-digits + 1e-9


def assert_figures_match(page: str, table: pd.DataFrame) -> int:
    found = parse(page)
    assert found.figures, "no tagged figures in the report"
    for code, col, text in found.figures:
        assert matches(text, table.at[code, col]), (code, col, text, table.at[code, col])
    for col, codes, text in found.sums:
        assert matches(text, pd.to_numeric(table.loc[codes, col]).sum()), (col, text)
    for col, text in found.medians:
        if col.endswith("_rate"):  # over every ward, hidden ones too: see test_rate_medians_*
            continue
        assert matches(text, pd.to_numeric(table[col], errors="coerce").median()), (col, text)
    return len(found.figures)


# --- tables --------------------------------------------------------------------------------


def test_la_benchmark_hand_worked():
    comparison = report.la_comparison(bd.dfe())
    # only measures in the report; latest year with a rate for each of them
    assert set(comparison["measure"]) == {"children_in_need"}
    assert set(comparison["year"]) == {2025}
    bench = report.la_benchmark(comparison)
    assert list(bench.index) == ["children_in_need_at_31_march"]
    row = bench.iloc[0]
    assert row["caseload_measure"] == "children_in_need"
    assert (row["la_number"], row["la_rate"], row["england_rate"]) == (2000, 400, 330)
    assert row["neighbour_mean"] == pytest.approx(416.7)  # (300 + 500 + 450) / 3
    assert (row["neighbour_min"], row["neighbour_max"], row["neighbours"]) == (300, 500, 3)
    # 500 and 450 are higher: 3rd highest of the LA and its 3 neighbours
    assert row["la_rank_among_neighbours"] == 3


def test_cluster_profiles_leave_out_suppressed_rates():
    pub = bd.published_wards()
    profiles = report.cluster_profiles(pub).set_index("group")
    assert list(profiles.index) == [1, 2, 3]
    assert set(profiles["section"]) == {"cluster"}
    one = profiles.loc[1]
    assert one["wards"] == 3
    assert one["ward_names"] == "Bridge; Dale; Grange"
    assert one["children"] == 1200 + 1500 + 1300
    assert one["need_index_mean"] == pytest.approx((1.10 + 1.75 + 1.30) / 3, abs=5e-4)
    # cluster 3 = Castle and Dock (CLA 2, suppressed), East Moor, Hill Top (CLA 4, suppressed)
    three = profiles.loc[3]
    assert three["looked_after_children_rate_mean"] == pytest.approx(7 / 800 * 10_000, abs=0.05)
    assert three["suppressed_wards"] == 2
    assert "need index well above average" in one["description"]
    assert report.cluster_profiles(pub.drop(columns="cluster")) is None


def test_tables_shaped_like_the_pipeline_tables_render():
    """clusters.csv rows (with locality and k-selection rows) and a benchmark with a trend."""
    clusters = pd.DataFrame(
        {
            "section": ["cluster", "cluster", "locality", "k_selection"],
            "group": [1, 2, 1, None],
            "label": ["High need", "Lower need", "Locality 1", None],
            "description": ["deprivation well above average", "about average", "x", None],
            "wards": [3, 6, 9, None],
            "ward_names": ["Bridge; Dale; Grange", "Abbey; ...", "all", None],
            "children": [4000, 5500, 9500, None],
            "need_index_mean": [1.383, -0.5, 0.0, None],
        }
    )
    bench = report.la_benchmark(report.la_comparison(bd.dfe())).assign(
        trend_from=2021, la_change=12.5
    )
    html = page(clusters=clusters, benchmark=bench)
    assert "1: High need" in html and "Locality 1" not in html
    assert "Change in rate" in html and ">+12<" in html.replace('data-key="la_change">', ">")


# --- the page --------------------------------------------------------------------------------


def page(pub=None, **kwargs):
    pub = bd.published_wards() if pub is None else pub
    comparison = report.la_comparison(bd.dfe())
    kwargs.setdefault("benchmark", report.la_benchmark(comparison))
    kwargs.setdefault("clusters", report.cluster_profiles(pub))
    return report.build_report(pub, CTX, **kwargs)


def test_every_figure_matches_the_ward_table():
    pub = bd.published_wards()
    html = page(pub, sites=pd.DataFrame(bd.sites()))
    n = assert_figures_match(html, pub)
    # top table, findings, one profile per ward: many figures, each checked
    assert n > 9 * 15


def test_suppressed_figures_read_fewer_than_5():
    pub = bd.published_wards()
    found = parse(page(pub)).figures
    cla = {(c, t) for c, col, t in found if col == "looked_after_children"}
    assert ("E05000003", "fewer than 5") in cla
    assert ("E05000008", "fewer than 5") in cla
    rates = {(c, t) for c, col, t in found if col == "looked_after_children_rate"}
    assert ("E05000003", "fewer than 5") in rates


def test_key_findings_in_plain_words():
    pub = bd.published_wards()
    comparison = report.la_comparison(bd.dfe())
    findings = [
        re.sub(r"<[^>]+>", "", str(f))
        for f in report.key_findings(
            pub,
            CTX,
            benchmark=report.la_benchmark(comparison),
            clusters=report.cluster_profiles(pub),
            sites=None,
        )
    ]
    assert findings[0] == (
        "The 5 wards with most need are Dale, Grange, Bridge, Abbey and Ferry. They are home "
        "to 6,100 of Testshire&#39;s 9,500 children aged 0–17 (64%)."
    ).replace("&#39;", "'")
    assert (
        "11 of Testshire's 30 census neighbourhoods are among the most deprived 10%" in findings[1]
    )
    # From the numbers: Dale 100%, Grange 93%, Bridge 97% in the top 5; Abbey 55%, Ferry 31%.
    assert findings[2] == (
        "Allowing for uncertainty in the weights and small numbers, Dale, Grange and Bridge "
        "are in the top 5 in at least 9 of 10 simulations; less certain: Abbey 55%, Ferry 31% "
        "(the share of simulations in the top 5)."
    )
    assert findings[3] == (
        "In 2025, Testshire's rate of children in need was 400 per 10,000 children, higher "
        "than England (330) and below its statistical neighbours' average (417)."
    )
    assert findings[4] == (
        "The wards fall into 3 groups of similar wards. Group 1 (3 wards: Bridge, Dale, "
        "Grange) has the highest need: child protection plan rate well above average; "
        "child poverty score well above average; need index well above average."
    )
    assert findings[-1].startswith("Ward caseload figures in this report are synthetic")


@pytest.mark.parametrize(
    ("chances", "says"),
    [
        (
            [1.0, 0.95, 0.93, 0.92, 0.91],
            "all 5 of these wards are in the top 5 in at least 9 of 10",
        ),
        ([0.8, 0.7, 0.6, 0.5, 0.4], "no ward is in the top 5 in 9 of 10 simulations"),
    ],
)
def test_certainty_finding_follows_the_numbers(chances, says):
    # The sentence is chosen from p_top5: never "less certain" when all are at 91% or more.
    pub = bd.published_wards()
    top = pub.sort_values("need_rank").index[:5]
    pub.loc[top, "p_top5"] = chances
    findings = report.key_findings(pub, CTX, benchmark=None, clusters=None, sites=None)
    text = next(re.sub(r"<[^>]+>", "", str(f)) for f in findings if "uncertainty" in str(f))
    assert says in text
    assert ("less certain" in text) is False
    assert_figures_match(page(pub), pub)


def test_rank_intervals_in_top_table():
    html = page()
    assert "Rank range" in html and "Chance in top 5" in html
    found = parse(html).figures
    cols = {col for _, col, _ in found}
    assert {"need_rank_lo", "need_rank_hi", "p_top5"} <= cols


def test_sections_skip_cleanly_when_tables_are_absent():
    pub = bd.published_wards().drop(
        columns=["need_rank_lo", "need_rank_hi", "p_top5", "cluster", "cluster_label"]
    )
    html = report.build_report(pub, CTX)
    assert "Rank range" not in html
    assert 'id="clusters"' not in html and 'id="sites"' not in html
    assert 'id="benchmark"' not in html
    assert_figures_match(html, pub)


def test_sites_and_profiles():
    html = page(sites=pd.DataFrame(bd.sites()), profiles=3)
    assert 'id="sites"' in html and "Hub at Dale" in html
    table = pd.DataFrame(
        {
            "order": [1, 2],
            "site_id": ["URN-1", "URN-2"],
            "name": ["Dale School", "Bridge School"],
            "type": ["school", "school"],
            "wards_served": ["Dale; Abbey", "Bridge"],
            "children_covered": [2500, 1200],
            "share_covered_cumulative": [0.263, 0.389],
            "lon": [-3.0, -3.1],
        }
    )
    with_table = page(
        sites=table,
        sites_summary="12% of children live within 1,600 metres of existing provision (two "
        "family hubs); with the 2 new site(s), 39% would",
    )
    assert "<th>Children newly within reach</th>" in with_table and "<td>39%</td>" in with_table
    section = with_table.split('id="sites"')[1].split("</section>")[0]
    assert "<td>Dale, Abbey</td>" in section and "Lon" not in section and "URN-1" not in section
    assert (
        "2 new pilot site(s) are recommended where they reach most unmet need (see below). "
        "12% of children live within 1,600 metres of existing provision (two family hubs); "
        "with the 2 new site(s), 39% would."
    ) in with_table
    assert html.count('class="ward"') == 3
    # profiles follow need rank
    order = re.findall(r'<section class="ward" id="ward-(E\d+)"', html)
    assert order == ["E05000004", "E05000007", "E05000002"]
    assert "Profiles follow for the 3 wards with most need (of 9)" in html


def test_every_user_string_is_escaped():
    pub = bd.published_wards()
    pub.loc["E05000001", "ward_name"] = "<script>alert('x')</script> & Co"
    ctx = report.ReportContext(**{**CTX.__dict__, "area": "A <b>bold</b> council"})
    html = report.build_report(pub, ctx, clusters=report.cluster_profiles(pub))
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(" in html and "A &lt;b&gt;bold&lt;/b&gt; council" in html


def test_standalone_no_external_links_images_embedded():
    html = page(need_map=b"\x89PNG fake", locators={bd.CODES[0]: b"\x89PNG loc"})
    found = parse(html)
    assert found.links == []
    assert found.images and all(src.startswith("data:image/png;base64,") for src in found.images)
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html)


def test_stamp_and_synthetic_banner():
    ctx = report.ReportContext(**{**CTX.__dict__, "stamp": "UNSUPPRESSED — not for publication"})
    html = report.build_report(bd.published_wards(enabled=False), ctx)
    assert html.count("UNSUPPRESSED — not for publication") >= 1 + 9  # header + every profile
    assert "Synthetic caseload — illustrative, not real ward figures" in html


def test_board_report_draws_chart_and_locators():
    pub = bd.published_wards()
    html = report.board_report(pub, CTX, comparison=report.la_comparison(bd.dfe()), profiles=2)
    found = parse(html)
    assert len(found.images) == 1 + 2  # benchmark chart + two locator maps
    assert_figures_match(html, pub)


# --- PDF -----------------------------------------------------------------------------------


def test_pdf_skipped_quietly_without_a_browser(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "find_chromium", lambda: None)
    paths, note = report.write_report("<html></html>", tmp_path)
    assert [p.name for p in paths] == ["report.html"]
    assert (
        note
        == "report.pdf not written: no Chromium or Chrome found (install chromium to get report.pdf)"
    )
    assert not (tmp_path / "report.pdf").exists()


def test_pdf_failure_is_a_note_not_an_error(tmp_path):
    (tmp_path / "r.html").write_text("<html></html>")
    reason = report.html_to_pdf(tmp_path / "r.html", tmp_path / "r.pdf", browser="/bin/false")
    assert reason == "Chromium could not print the report (exit code 1)"
    assert not (tmp_path / "r.pdf").exists()


def test_pdf_not_asked_for(tmp_path):
    paths, note = report.write_report("<html></html>", tmp_path, pdf=False)
    assert [p.name for p in paths] == ["report.html"] and note is None


def test_embedded_map_is_shrunk_for_email(tmp_path):
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new("RGB", (3507, 2481), "#fd8d3c").save(buf, format="png")
    small = report.shrink_png(buf.getvalue())
    with Image.open(BytesIO(small)) as image:
        assert image.size == (1754, 1241) and image.mode == "P"


def test_suppression_lines_say_what_rounding_does():
    lines = dict(report.suppression_lines("fewer than 10", rounding=5))
    assert lines["Small numbers"].startswith('A count from 1 to 9 reads "fewer than 10"')
    assert lines["Rounding"].startswith(
        "Every published count of 10 or more is rounded to the nearest 5 (DfE practice)"
    )
    assert "the rate of 4.5 children" in lines["Hidden wards elsewhere"]


# --- print layout ------------------------------------------------------------------------


def _pdf_pages(path) -> list[list[str]]:
    """The text of each page of a PDF, as non-blank lines (poppler's pdftotext)."""
    pages = []
    for i in range(1, 500):
        done = subprocess.run(
            ["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(path), "-"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            break
        pages.append([line.strip() for line in done.stdout.splitlines() if line.strip()])
    return pages


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_printed_report_keeps_headings_with_their_content_and_profiles_on_one_page(bundled_run):
    pdf = next((p for p in bundled_run.written if p.name == "report.pdf"), None)
    if pdf is None:
        pytest.skip("report.pdf needs Chromium")
    pages = _pdf_pages(pdf)
    headings = ("Key findings", "Need by ward", "Groups of similar wards", "About these figures")
    for number, lines in enumerate(pages, start=1):
        # No page ends on a heading (the old "Need by ward" stranded at the foot of page 1).
        assert not lines[-1].startswith(headings), (number, lines[-1])
    profiles = [  # a long ward name wraps its heading onto a second line
        i
        for i, lines in enumerate(pages)
        if re.search(r"\(E\d{8}\) · need rank \d+\s+of 22", " ".join(lines[:2]))
    ]
    assert len(profiles) == 22
    # Each ward's profile is one page: its heading first, its last row on the same page.
    assert profiles == list(range(profiles[0], profiles[0] + 22))
    for i in profiles:
        assert any(line.startswith("Distance to the nearest school") for line in pages[i]), pages[i][0]
    assert len(pages) == profiles[-1] + 1  # nothing spills after the last profile


def test_sites_explained_with_provision_pilots_and_review():
    """Issue 17: each site and the review list in words, and what provision counts."""
    table = pd.DataFrame(
        {
            "order": [1],
            "name": ["Dale School"],
            "type": ["school"],
            "wards_served": ["Dale"],
            "children_covered": [2500],
            "share_covered_cumulative": [0.263],
            "why": ["Dale School would bring about 2,500 more children within reach."],
        }
    )
    pilots = pd.DataFrame(
        {
            "pilot": ["Dale pilot", "Old pilot"],
            "start": pd.to_datetime(["2023-09-01", "2020-01-06"]),
            "end": pd.to_datetime([None, "2021-07-31"]),
            "description": ["Early help in school", ""],
            "active": [True, False],
        }
    )
    review = pd.DataFrame(
        {"kind": ["ward"], "name": ["Abbey"], "reason": ["Abbey is among the third ..."]}
    )
    html = page(
        sites=table,
        sites_summary="No existing provision was supplied (family hubs, children's centres "
        "or pilots), so how many children are within reach of a service now is not known",
        pilots=pilots,
        review=review,
        provision_note="A partial list.",
        provision_date=(dt.date(2025, 3, 31), "the caseload's latest date"),
    )
    section = html.split('id="sites"')[1].split("</section>")[0]
    assert "<li>Dale School would bring about 2,500 more children within reach.</li>" in section
    assert "Existing provision: A partial list." in section
    assert "<li>Dale pilot (from 1 September 2023; running): Early help in school</li>" in section
    assert (
        "<li>Old pilot (from 6 January 2020 to 31 July 2021; not running on 31 March 2025)</li>"
    ) in section
    assert (
        "Existing provision is counted as it stood on 31 March 2025 (the caseload&#39;s "
        "latest date)."
    ) in section
    assert "now is not known." in section and "0% now" not in html
    review_html = html.split('id="review"')[1].split("</section>")[0]
    assert "This list is a prompt for review, not a recommendation to close" in review_html
    assert "<td>Ward</td><td>Abbey</td><td>Abbey is among the third ...</td>" in review_html


# --- medians over every ward ---------------------------------------------------------------


def _five_wards(counts: list[int]) -> tuple[pd.DataFrame, Disclosure]:
    wards = pd.DataFrame(
        {"children": [1000] * 5}, index=pd.Index([f"E0500000{i}" for i in range(5)])
    )
    wards = wards.join(
        caseload_rates(
            pd.DataFrame({"child_protection_plans": counts}, index=wards.index), wards["children"]
        )
    )
    return wards, apply_suppression(wards, ["child_protection_plans"])


def test_rate_medians_count_the_suppressed_wards():
    # Rates 0, 40 (both "fewer than 5": the zero is hidden with the small count), 300,
    # 400, 500: the median ward is 300, where the published wards alone would give 400.
    wards, disc = _five_wards([0, 4, 30, 40, 50])
    assert disc.table["child_protection_plans_rate"].iloc[:2].tolist() == [disc.marker] * 2
    assert report.rate_medians(wards, disc, ["child_protection_plans"]) == {
        "child_protection_plans_rate": 300.0
    }


def test_rate_medians_not_shown_when_they_rest_on_a_hidden_ward():
    wards, disc = _five_wards([30, 1, 2, 3, 50])  # the middle rate (20) is hidden
    assert report.rate_medians(wards, disc, ["child_protection_plans"]) == {
        "child_protection_plans_rate": "not shown"
    }


def test_rate_medians_on_the_board_data_hand_worked():
    full = bd.full_wards()
    # The rule under test is the median's, so the hidden cells are given: the small
    # counts and the CPP zero (which suppression alone would follow with withheld wards).
    mask = pd.DataFrame(False, index=full.index, columns=list(bd.MEASURES))
    mask.iloc[[2, 4], 1] = True  # CPP: 3 (Castle and Dock) and 0 (East Moor)
    mask.iloc[[2, 7], 2] = True  # CLA: 2 (Castle and Dock) and 4 (Hill Top ...)
    disc = apply_suppression(full, bd.MEASURES, mask=mask)
    medians = report.rate_medians(full, disc, bd.MEASURES)
    # CIN: nothing hidden; rates 500, 666.7, 333.3, 800, 250, 545.5, 692.3, 214.3, 400.
    assert medians["children_in_need_rate"] == 500.0
    # CLA: 2 of 900 and 4 of 700 are hidden; the median ward is Abbey at 100.0, and
    # both hidden wards lie below it whatever their count (4 / 700 = 57.1 < 100).
    assert medians["looked_after_children_rate"] == 100.0
    # CPP: 3 of 900 and 0 of 800 are hidden, both below the median ward (Grange, 85.7);
    # the published wards alone would give 90.0.
    assert medians["child_protection_plans_rate"] == 85.7
    published = gpd.GeoDataFrame(disc.table, geometry="geometry", crs=full.crs)
    page = report.build_report(published, CTX, medians=medians, profiles=1, top_wards=3)
    assert '<span class="median" data-median="looked_after_children_rate">100.0</span>' in page
    assert '<span class="median" data-median="child_protection_plans_rate">85.7</span>' in page


def test_rate_medians_not_shown_when_they_would_bound_a_withheld_count():
    # A disclosure that withheld 6 beside the 3 (given here: the rule under test is the
    # median's); the median (300) would say that the withheld ward's rate is below 300,
    # i.e. its count under 30.
    wards, _ = _five_wards([3, 30, 40, 50, 6])
    mask = pd.DataFrame({"child_protection_plans": [True, False, False, False, True]})
    disc = apply_suppression(wards, ["child_protection_plans"], mask=mask.set_index(wards.index))
    assert disc.table["child_protection_plans"].iloc[4] == disc.withheld
    medians = report.rate_medians(wards, disc, ["child_protection_plans"])
    assert medians == {"child_protection_plans_rate": "not shown"}
    page = report.build_report(
        bd.published_wards(), CTX, medians={"children_in_need_rate": "not shown"}, profiles=1
    )
    assert 'data-median="children_in_need_rate" title="it would tell where a withheld ward' in page


def _headers(html: str, after: str) -> list[str]:
    """The header cells of the first table after the text ``after``."""
    table = html[html.index(after) :]
    head = table[table.index("<tr") : table.index("</tr>")]
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def test_table_headers_are_the_vocabularys_words():
    # One vocabulary: the top table and the sites table read the same words as the map.
    sites = pd.DataFrame(
        {
            "order": [1],
            "name": ["Dale Primary"],
            "type": ["gp_practice"],
            "wards_served": ["Dale;Grange"],
            "children_covered": [420.0],
            "share_covered_cumulative": [0.61],
        }
    )
    html = page(sites=sites)
    assert _headers(html, "wards with most need</h3>") == [
        "Rank",
        "Ward",
        "Need index",
        "Rank range",
        "Chance in top 5",
        "Children",
        "Child poverty",
        "Children in need*",
        "Child protection plans*",
        "Looked-after children*",
    ]
    assert _headers(html, "Recommended pilot sites") == [
        "Order",
        "Name",
        "Type",
        "Wards served",
        "Children newly within reach",
        "Share of children within reach",
    ]
    assert "<td>GP practice</td>" in html and "<td>61%</td>" in html
    # A group is described in the vocabulary's words, mid-sentence.
    assert "child protection plan rate well above average" in html


def test_every_score_on_a_profile_says_which_way_is_more_need():
    pub = bd.published_wards()
    labels = [r.label for r in report.ward_profile(bd.CODES[0], pub)]
    assert "Need index (higher = more need)" in labels
    assert "Access gap (higher = more need)" in labels
    assert "Children aged 0–17" in labels  # a count: no direction


def test_a_key_finding_names_at_most_eight_wards():
    from needsmap.report import _group_names

    wards = "; ".join(f"Ward {i}" for i in range(1, 47))
    assert _group_names(wards) == (
        "Ward 1, Ward 2, Ward 3, Ward 4, Ward 5, Ward 6, Ward 7, Ward 8 and 38 more"
    )
    assert _group_names("Bridge; Dale; Grange") == "Bridge, Dale, Grange"
