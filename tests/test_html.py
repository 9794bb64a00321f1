"""The HTML report: note pages and the batch index, checked as HTML and in a real browser.

Structure tests parse the pages with ``html.parser`` and always run. Browser tests load
the pages in headless Chromium (``tests/browser.py``; install it with
``.ci/install-browser.sh``) and are skipped only when no Chromium is installed.
The notes here are written for these tests; none comes from the corpus.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import browser
from opnote_audit.audit import audit_file, audit_text
from opnote_audit.errors import UsageError
from opnote_audit.models import ELEMENTS
from opnote_audit.report import RenderOptions, result_dict
from opnote_audit.report.html import (
    Span,
    batch_summary,
    page_name,
    render as render_html,
    render_index,
    render_page,
    segment_lines,
    write_batch,
)

# A note whose text holds markup and script that must show as text and never run.
HOSTILE = """OPERATIVE REPORT
PREOPERATIVE DIAGNOSIS: Metastatic renal cell carcinoma destroying the L2 vertebral body.
PROCEDURE: Complete L2 corpectomy through a left lateral extracavitary approach, with
decompression of the thecal sac and the left L2 nerve root.
<script>document.title = "PWNED"; document.body.setAttribute("data-pwned", "script")</script>
<img src="x" onerror="document.body.setAttribute('data-pwned', 'img')"> <b>bold</b> & "quoted" 'text'
DESCRIPTION: With the patient prone, the left lateral extracavitary exposure was carried out.
The entire L2 vertebral body was removed and the thecal sac was decompressed.
"""

# A note with no decompression stated and no extent: two elements short.
SHORT = """PROCEDURE: L3 corpectomy by a lateral extracavitary approach for a burst fracture of L3
with retropulsed fragments.
"""

CHROMIUM = browser.find_chromium()
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed: run .ci/install-browser.sh")


# ------------------------------------------------------------------ a small DOM


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None = None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        out = []
        for n in self.iter():
            if tag is not None and n.tag != tag:
                continue
            if all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(n)
        return out

    def by_id(self, ident: str) -> Node | None:
        return next((n for n in self.iter() if n.attrs.get("id") == ident), None)

    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, dict(attrs), self.cur))

    def handle_endtag(self, tag):
        node = self.cur
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.cur = node.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(html: str) -> Node:
    b = _Builder()
    b.feed(html)
    b.close()
    return b.root


def highlighted(dom: Node) -> dict[str, set[str]]:
    """element -> the evidence keys ("element:i") drawn by the page's highlight segments."""
    out: dict[str, set[str]] = {e: set() for e in ELEMENTS}
    for mark in dom.find_all("mark"):
        for key in mark.attrs["data-ev"].split():
            out[key.split(":")[0]].add(key)
    return out


def element_rows(dom: Node) -> dict[str, tuple[str, str]]:
    """element -> (data-status of its row, text of its status badge)."""
    out = {}
    for row in dom.find_all("tr"):
        if "data-element" in row.attrs and "data-status" in row.attrs:
            badge = next(n for n in row.iter() if "badge" in n.classes())
            out[row.attrs["data-element"]] = (row.attrs["data-status"], badge.text())
    return out


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def hostile():
    result = audit_text(HOSTILE, code="63102", file="hostile.txt",
                        source={"format": "txt", "encoding": "utf-8", "chars": len(HOSTILE)})
    return result


@pytest.fixture(scope="module")
def hostile_page(hostile):
    return render_page(hostile, HOSTILE, RenderOptions())


def record(file: str, statuses: dict[str, str], rules: tuple[str, ...] = (), errors: int = 0) -> dict:
    """A hand-made JSON-contract record for index tests (no note text needed)."""
    gaps = [e for e, s in statuses.items() if s not in ("documented", "not_applicable")]
    return {
        "schema_version": 1, "file": file, "code": "63102",
        "verdict": "supports" if not gaps and not errors else "gaps",
        "elements": {e: {"status": statuses[e], "value": None, "evidence": [], "reason": ""} for e in ELEMENTS},
        "findings": [{"rule": r, "severity": "error", "element": r.split("-")[0], "message": "m", "advice": "a",
                      "evidence": []} for r in rules],
        "suggested_codes": [], "summary": {"errors": errors, "warnings": 0, "info": 0, "gaps": gaps},
        "facts": {}, "source": {},
    }


DOC = dict.fromkeys(ELEMENTS, "documented") | {"co_surgeon": "not_applicable"}
BATCH = [
    record("a/one.txt", DOC),
    record("b/two.txt", DOC | {"extent": "missing"}, ("extent-missing",), errors=1),
    record("c/three.txt", DOC | {"approach": "insufficient", "extent": "insufficient"},
           ("approach-generic", "extent-unstated"), errors=2),
    {"schema_version": 1, "file": "d/broken.docx", "error": "d/broken.docx: not a valid .docx file"},
    record("e/four.txt", DOC | {"level": "conflict"}, ("level-region-conflict",), errors=1),
]


# ------------------------------------------------------------------ segmentation


def test_overlapping_spans_split_into_segments_naming_every_cover():
    a, b = Span("level:0", "level", 1, 4), Span("extent:0", "extent", 2, 9)
    lines = segment_lines("abcdef\nghij", [a, b])
    got = [[(s.text, tuple(x.key for x in s.spans)) for s in line] for line in lines]
    assert got == [
        [("a", ()), ("b", ("level:0",)), ("cd", ("level:0", "extent:0")), ("ef", ("extent:0",))],
        [("gh", ("extent:0",)), ("ij", ())],
    ]
    assert lines[0][2].elements == ("level", "extent")


def test_final_line_break_makes_no_extra_line_and_blank_lines_stay():
    lines = segment_lines("x\n\ny\n", [])
    assert [[s.text for s in line] for line in lines] == [["x"], [], ["y"]]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ab \n\r<&", max_size=40), st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=6))
def test_segments_give_back_the_lines_and_exact_coverage(text, pairs):
    spans = [Span(f"level:{i}", "level", s, e) for i, (s, e) in enumerate(pairs) if s < e <= len(text)]
    lines = segment_lines(text, spans)
    expected = text.split("\n")
    if text.endswith("\n"):
        expected.pop()
    assert ["".join(s.text for s in line) for line in lines] == expected
    pos = 0
    for line in lines:
        for seg in line:
            for k in range(pos, pos + len(seg.text)):
                assert {s.key for s in seg.spans} == {s.key for s in spans if s.start <= k < s.end}
            pos += len(seg.text)
        pos += 1  # the line break


# ------------------------------------------------------------------ note page


def test_every_evidence_span_is_highlighted_once_per_element(hostile, hostile_page):
    data = hostile.to_dict()
    dom = parse(hostile_page)
    marks = highlighted(dom)
    for name, el in data["elements"].items():
        assert marks[name] == {f"{name}:{i}" for i in range(len(el["evidence"]))}, name
    assert sum(len(v) for v in marks.values()) >= 6


def test_status_badges_match_the_json(hostile, hostile_page):
    data = hostile.to_dict()
    rows = element_rows(parse(hostile_page))
    assert rows == {n: (el["status"], el["status"].replace("_", " ")) for n, el in data["elements"].items()}
    legend = parse(hostile_page).by_id("legend")
    assert [b.text() for b in legend.iter() if "badge" in b.classes()] == \
        [el["status"].replace("_", " ") for el in data["elements"].values()]


def test_hover_title_names_element_and_status(hostile, hostile_page):
    data = hostile.to_dict()
    for mark in parse(hostile_page).find_all("mark"):
        els = mark.attrs["data-el"].split()
        titles = {"approach": "Approach", "level": "Level", "pathology": "Pathology", "extent": "Extent",
                  "neural_elements": "Neural elements", "co_surgeon": "Co-surgeon"}
        assert mark.attrs["title"] == "\n".join(f"{titles[e]}: {data['elements'][e]['status'].replace('_', ' ')}"
                                                 for e in els)


def test_note_text_is_shown_whole_and_escaped(hostile_page):
    dom = parse(hostile_page)
    lines = [n for n in dom.by_id("note").children if isinstance(n, Node)]
    assert [n.text() for n in lines] == HOSTILE.rstrip("\n").split("\n")
    assert [n.attrs["id"] for n in lines] == [f"L{i}" for i in range(1, len(lines) + 1)]
    assert "<script" not in hostile_page and "<img" not in hostile_page and "<b>bold" not in hostile_page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34; &#39;text&#39;" in hostile_page
    assert "&lt;script&gt;document.title = &#34;PWNED&#34;;" in hostile_page
    assert dom.find_all("script") == [] and dom.find_all("img") == []


def test_page_is_self_contained_with_a_strict_csp(hostile_page):
    dom = parse(hostile_page)
    csp = [m.attrs["content"] for m in dom.find_all("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert csp == ["default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src 'none'; "
                   "font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'"]
    assert not [n for n in dom.iter() if "src" in n.attrs]
    assert not [n for n in dom.find_all("link")]
    hrefs = {n.attrs["href"] for n in dom.find_all("a")}
    assert all(h.startswith("#") for h in hrefs), hrefs
    assert "url(" not in hostile_page and "@import" not in hostile_page and "@media print" in hostile_page


def test_findings_link_to_existing_line_anchors(hostile, hostile_page):
    dom = parse(hostile_page)
    items = dom.find_all("li", **{"class": "finding"})
    assert [i.attrs["data-rule"] for i in items] == [f.rule for f in hostile.findings]
    for item, finding in zip(items, hostile.findings):
        links = [a.attrs["href"] for a in item.find_all("a")]
        assert links == [f"#L{n}" for n in sorted({e.line for e in finding.evidence})]
        for href in links:
            assert dom.by_id(href[1:]) is not None


def test_missing_elements_show_the_advice_from_their_findings():
    result = audit_text(SHORT, file="short.txt", source={"chars": len(SHORT)})
    dom = parse(render_page(result, SHORT, RenderOptions()))
    data = result.to_dict()
    gaps = [n for n, el in data["elements"].items() if el["status"] in ("missing", "insufficient", "conflict")]
    assert "neural_elements" in gaps and "extent" in gaps
    for name in gaps:
        row = dom.by_id(f"el-{name}")
        advice = [p.text() for p in row.find_all("p", **{"class": "advice"})]
        assert advice == list(dict.fromkeys(f["advice"] for f in data["findings"] if f["element"] == name))
        assert advice, name
    assert dom.by_id("verdict").text() == f"{len(data['summary']['gaps'])} gaps: does not yet support 63102"


def test_no_evidence_page_holds_no_note_text(hostile):
    html = render_page(hostile, HOSTILE, RenderOptions(with_text=False))
    dom = parse(html)
    assert dom.by_id("note") is None and dom.find_all("mark") == []
    for line in HOSTILE.splitlines():
        for piece in re.split(r"[,.]", line):
            if len(piece.strip()) >= 20:
                assert piece.strip() not in html
    json_without_text = json.dumps(result_dict(hostile, RenderOptions(with_text=False)))
    for ev in (e for el in hostile.elements.values() for e in el.evidence):
        if len(ev.text) >= 12 and ev.text in html:  # only the tool's own words, e.g. a reason
            assert ev.text in json_without_text
    assert "PWNED" not in html and "carcinoma destroying" not in html
    rows = element_rows(dom)
    assert rows == {n: (el.status, el.status.replace("_", " ")) for n, el in hostile.elements.items()}
    approach_lines = sorted({e.line for e in hostile.elements["approach"].evidence})
    assert len(approach_lines) > 1
    assert dom.by_id("el-approach").find_all("td")[-1].text() == "lines " + ", ".join(map(str, approach_lines))
    assert dom.by_id("no-evidence") is not None


def test_claim_review_is_shown_generically(hostile):
    hostile.claim = {"billed": [{"code": "63102", "units": 2, "modifiers": ["62"]}],
                     "supported_codes": ["63102", "63103 x1"], "differences": [], "ok": False}
    try:
        dom = parse(render_page(hostile, HOSTILE, RenderOptions()))
    finally:
        hostile.claim = None
    claim = dom.by_id("claim")
    assert claim is not None
    box = next(n for n in dom.iter() if "claim" in n.classes())
    assert [dt.text() for dt in box.find_all("dt")] == ["billed", "supported codes", "differences", "ok"]
    assert [th.text() for th in box.find_all("th")] == ["code", "units", "modifiers"]
    assert [td.text().strip() for td in box.find_all("td")] == ["63102", "2", "62"]
    assert [dd.text().strip() for dd in box.find_all("dd")][2:] == ["none", "no"]
    assert parse(render_page(hostile, HOSTILE, RenderOptions())).by_id("claim") is None


def test_render_reads_the_note_again_or_says_why_not(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text(HOSTILE, encoding="utf-8")
    result = audit_file(path)
    dom = parse(render_html(result, RenderOptions()))
    assert dom.by_id("note") is not None and dom.find_all("mark")
    assert not [n for n in dom.iter() if "notice" in n.classes()]
    path.write_text(HOSTILE + "One more line.\n", encoding="utf-8")
    dom = parse(render_html(result, RenderOptions()))
    assert dom.by_id("note") is None
    assert [n.text() for n in dom.iter() if "notice" in n.classes()] == [
        "The note file changed after it was audited (its length differs): highlights are left out."]
    result.file = "<stdin>"
    dom = parse(render_html(result, RenderOptions()))
    assert dom.by_id("note") is None and "cannot be read again" in dom.find_all("p", **{"class": "notice"})[0].text()


def test_check_format_html_writes_the_page(tmp_path):
    from typer.testing import CliRunner

    from opnote_audit.cli import _register, app

    _register()
    note, out = tmp_path / "n.txt", tmp_path / "report.html"
    note.write_text(HOSTILE, encoding="utf-8")
    res = CliRunner().invoke(app, ["check", str(note), "--format", "html", "--output", str(out), "--fail-on", "never"])
    assert res.exit_code == 0, res.output
    dom = parse(out.read_text(encoding="utf-8"))
    assert dom.by_id("note") is not None and dom.find_all("h1")[0].text() == str(note)


# ------------------------------------------------------------------ batch


def test_page_names_are_safe_and_unique():
    taken: set[str] = set()
    files = ["a/One Note.txt", "a/one-note.txt", "../x/<b>é.txt", "a/One Note.txt", "", "Z" * 300 + ".txt"]
    names = [page_name(f, taken) for f in files]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]*\.html", n) for n in names), names
    assert names[0].startswith("a-one-note-txt-") and names[3] == names[0][:-5] + "-2.html"
    assert names[4].startswith("note-") and len(names[5]) <= 60 + 1 + 8 + 5


def test_batch_summary_counts_statuses_gap_rates_and_rules():
    s = batch_summary(BATCH)
    assert (s["notes"], s["readable"], s["unreadable"], s["supports"], s["gaps"]) == (5, 4, 1, 1, 3)
    assert s["elements"]["extent"]["counts"] == {"documented": 2, "insufficient": 1, "missing": 1, "conflict": 0,
                                                 "not_applicable": 0}
    assert s["elements"]["extent"]["rate"] == 0.5
    assert s["elements"]["level"]["rate"] == 0.25 and s["elements"]["pathology"]["rate"] == 0.0
    assert [(r["rule"], r["notes"]) for r in s["rules"]] == [
        ("approach-generic", 1), ("extent-missing", 1), ("extent-unstated", 1), ("level-region-conflict", 1)]


def test_index_rows_rates_and_unreadable_files():
    pages = [page_name(r["file"]) if "error" not in r else None for r in BATCH]
    html = render_index(BATCH, pages)
    dom = parse(html)
    rows = dom.find_all("tr", **{"class": "note-row"})
    assert [r.attrs["data-file"] for r in rows] == ["a/one.txt", "b/two.txt", "c/three.txt", "e/four.txt"]
    assert [r.find_all("a")[0].attrs["href"] for r in rows] == [p for p in pages if p]
    assert [r.attrs["data-s-extent"] for r in rows] == ["documented", "missing", "insufficient", "documented"]
    assert rows[2].attrs["data-rules"] == " approach-generic extent-unstated "
    rates = {tr.attrs["data-element"]: tr.find_all("td")[-1].text().strip()
             for tr in dom.by_id("gap-rates").parent.find_all("tr") if "data-gaps" in tr.attrs}
    assert rates == {"approach": "25%", "level": "25%", "pathology": "0%", "extent": "50%",
                     "neural_elements": "0%", "co_surgeon": "0%"}
    unreadable = dom.find_all("table", **{"class": "unreadable"})[0]
    assert [td.text() for td in unreadable.find_all("td")] == ["d/broken.docx", "d/broken.docx: not a valid .docx file"]
    script = dom.find_all("script")[0].text()
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = next(m.attrs["content"] for m in dom.find_all("meta") if m.attrs.get("http-equiv"))
    assert f"script-src 'sha256-{digest}';" in csp and "unsafe-inline'; img-src" in csp


def test_write_batch_writes_index_and_one_page_per_readable_note(tmp_path):
    notes = tmp_path / "notes"
    (notes / "x").mkdir(parents=True)
    (notes / "x" / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    (notes / "short.txt").write_text(SHORT, encoding="utf-8")
    recs = [audit_file(notes / "x" / "hostile.txt", display_name="x/hostile.txt").to_dict(),
            audit_file(notes / "short.txt", display_name="short.txt").to_dict(),
            {"schema_version": 1, "file": "gone.txt", "error": "gone.txt: no such file"}]
    (notes / "short.txt").write_text(SHORT + "changed\n", encoding="utf-8")
    index = write_batch(recs, tmp_path / "out", notes)
    assert index == tmp_path / "out" / "index.html"
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(written) == 3 and "index.html" in written
    links = [a.attrs["href"] for a in parse(index.read_text()).find_all("a") if a.attrs["href"].endswith(".html")]
    assert sorted(links) == sorted(n for n in written if n != "index.html")
    first = parse((tmp_path / "out" / links[0]).read_text())
    assert highlighted(first)["approach"] == {f"approach:{i}" for i in range(len(recs[0]["elements"]["approach"]["evidence"]))}
    assert [a.attrs["href"] for a in first.find_all("a") if not a.attrs["href"].startswith("#")] == ["index.html"]
    second = parse((tmp_path / "out" / links[1]).read_text())
    assert second.by_id("note") is None and "changed after it was audited" in second.find_all("p", **{"class": "notice"})[0].text()


def test_write_batch_without_evidence_writes_no_note_text(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "h.txt").write_text(HOSTILE, encoding="utf-8")
    result = audit_file(notes / "h.txt", display_name="h.txt")
    for recs, opts in (([result.to_dict()], RenderOptions(with_text=False)),
                       ([result_dict(result, RenderOptions(with_text=False))], None)):
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        write_batch(recs, out, notes, opts)
        for page in out.iterdir():
            html = page.read_text()
            assert "carcinoma destroying" not in html and "PWNED" not in html and "<mark" not in html


def test_write_batch_without_options_keeps_note_text_out_when_records_hold_no_quote(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "h.txt").write_text(HOSTILE, encoding="utf-8")
    (notes / "bare.txt").write_text("Clinic letter.\nThe patient is seen for follow-up today.\n", encoding="utf-8")
    bare = audit_file(notes / "bare.txt", display_name="bare.txt")
    assert not [e for el in bare.elements.values() for e in el.evidence]
    hostile = audit_file(notes / "h.txt", display_name="h.txt")
    opts = RenderOptions(with_text=False)
    for recs in ([result_dict(hostile, opts), result_dict(bare, opts)], [result_dict(bare, opts)]):
        out = tmp_path / f"out{len(recs)}"
        write_batch(recs, out, notes)
        for page in out.iterdir():
            html = page.read_text()
            assert "follow-up today" not in html and "carcinoma destroying" not in html and 'id="note"' not in html
    out = tmp_path / "with-text"
    write_batch([hostile.to_dict(), bare.to_dict()], out, notes)
    assert sum('id="note"' in p.read_text() for p in out.iterdir()) == 2


def test_write_batch_never_overwrites_a_note(tmp_path):
    (tmp_path / "index.html").write_text("a note that happens to be called index.html")
    recs = [record("index.html", DOC)]
    with pytest.raises(UsageError, match="would overwrite a note"):
        write_batch(recs, tmp_path, tmp_path)
    assert (tmp_path / "index.html").read_text() == "a note that happens to be called index.html"


# ------------------------------------------------------------------ in the browser


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    pages = [page_name(r["file"]) if "error" not in r else None for r in BATCH]
    (out / "index.html").write_text(render_index(BATCH, pages), encoding="utf-8")
    return out


def visible(dom: Node) -> list[str]:
    return [r.attrs["data-file"] for r in dom.find_all("tr", **{"class": "note-row"}) if "hidden" not in r.attrs]


@needs_browser
def test_browser_note_page_highlights_badges_and_inert_script(tmp_path, hostile, hostile_page):
    page = tmp_path / "note.html"
    page.write_text(hostile_page, encoding="utf-8")
    dom = parse(browser.dump_dom(browser.file_url(page)))
    data = hostile.to_dict()
    assert {e: len(v) for e, v in highlighted(dom).items()} == {n: len(el["evidence"]) for n, el in data["elements"].items()}
    assert element_rows(dom) == {n: (el["status"], el["status"].replace("_", " ")) for n, el in data["elements"].items()}
    assert dom.find_all("title")[0].text() == "hostile.txt: Supports 63102 - opnote-audit"
    body = dom.find_all("body")[0]
    assert "data-pwned" not in body.attrs and dom.find_all("img") == [] and dom.find_all("script") == []
    assert dom.by_id("L5").text() == HOSTILE.split("\n")[4]


@needs_browser
@pytest.mark.parametrize("fragment, expected", [
    ("", ["a/one.txt", "b/two.txt", "c/three.txt", "e/four.txt"]),
    ("status=missing", ["b/two.txt"]),
    ("element=extent&status=gap", ["b/two.txt", "c/three.txt"]),
    ("element=approach&status=insufficient", ["c/three.txt"]),
    ("status=gap", ["b/two.txt", "c/three.txt", "e/four.txt"]),
    ("rule=level-region-conflict", ["e/four.txt"]),
    ("rule=extent-unstated&status=missing", []),
    ("verdict=supports", ["a/one.txt"]),
    ("sort=errors&dir=desc", ["c/three.txt", "b/two.txt", "e/four.txt", "a/one.txt"]),
    ("sort=file&dir=desc&verdict=gaps", ["e/four.txt", "c/three.txt", "b/two.txt"]),
    ("sort=extent", ["b/two.txt", "c/three.txt", "a/one.txt", "e/four.txt"]),
])
def test_browser_index_filters_and_sorts_from_the_url(batch_dir, fragment, expected):
    dom = parse(browser.dump_dom(browser.file_url(batch_dir / "index.html", fragment)))
    assert visible(dom) == expected
    assert dom.by_id("shown").text() == f"{len(expected)} of 4 notes shown"


@needs_browser
def test_browser_index_marks_the_sorted_column(batch_dir):
    dom = parse(browser.dump_dom(browser.file_url(batch_dir / "index.html", "status=gap&rule=extent-missing&sort=level&dir=desc")))
    heads = {th.attrs["data-key"]: th.attrs.get("aria-sort") for th in dom.find_all("th") if "data-key" in th.attrs}
    assert heads["level"] == "descending" and heads["file"] is None
    assert visible(dom) == ["b/two.txt"]


@needs_browser
def test_browser_screenshot_is_a_png_of_the_window(tmp_path, hostile_page):
    page = tmp_path / "note.html"
    page.write_text(hostile_page, encoding="utf-8")
    png = browser.screenshot(browser.file_url(page), tmp_path / "note.png", width=900, height=700)
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (900, 700)


@needs_browser
def test_browser_print_keeps_counts_and_columns_and_drops_controls(batch_dir, tmp_path):
    from pypdf import PdfReader

    pdf = browser.print_pdf(browser.file_url(batch_dir / "index.html"), tmp_path / "index.pdf")
    reader = PdfReader(pdf)
    text = "\n".join(p.extract_text() for p in reader.pages)
    box = reader.pages[0].mediabox
    assert box.width > box.height  # the index prints in landscape
    assert "Extent 2 1 1 0 0 50%" in text and "Approach 3 1 0 0 0 25%" in text
    assert "not applicable 2 0\n" in text  # c/three.txt: the last columns (errors, warnings) fit on the page
    assert "Status" not in text and "clear" not in text and "Click a count" not in text
