"""The built book as a reader meets it: every page of ``_build/html`` opened in headless
Chromium, served from localhost.

Checks, on every page: no JavaScript error (uncaught exceptions, ``console.error``,
browser log errors), no request that needs the network, math typeset by MathJax (every
math element holds an ``mjx-container``, no MathJax error, no raw TeX left in the
visible text), every image loaded, every internal link pointing at an existing file and,
with a ``#fragment``, at an existing id on that page. Then: the search page finds
"forget gate", each chapter's Colab button opens that chapter's notebook on the branch
of ``_config.yml``, and screenshots of the intro and of a chapter are saved to
``_build/screenshots/`` for a person to look at.

Playwright drives the system's Chromium (or its own, when that is what
``tests/ensure_chromium.py`` installed). Skips (with the reason) when the book is not
built, no Chromium is found, or the test dependencies are missing; ``make site`` first
gets a Chromium (``ensure_chromium.py``) and sets ``LSTM_COURSE_REQUIRE_BROWSER=1``,
which turns each of those skips into a failure, so CI cannot pass without running it.
MathJax comes from jsdelivr in the published book; offline, the test answers those
requests with the same version (3.2.2) from the ``django-static-mathjax`` wheel.
"""

from __future__ import annotations

import html.parser
import os
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from browser import MATHJAX_CDN, find_mathjax, open_tab, serve
from ensure_chromium import find_chromium, playwright_chromium

from lstm_course.book_tools.reproduce import ROOT, chapter_notebooks, toc_files

SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
REQUIRED = os.environ.get("LSTM_COURSE_REQUIRE_BROWSER", "") not in ("", "0")
SCREENSHOT_PAGES = {"intro.png": "book/intro.html", "chapter.png": "book/02_lstm_cell.html"}
SEARCH_QUERY = "forget gate"

# What the browser reports about one page, gathered in one evaluation.
PAGE_FACTS = r"""(() => {
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, #search-results';
  const math = [...document.querySelectorAll('.math')];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement && n.parentElement.closest(skip)
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const tex = /\$\$|\\\(|\\\[|\\begin\{|\\end\{|\\(frac|odot|sigma|tanh|mathbb|mathcal|partial)\b/;
  const rawTex = [];
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent;
    if (tex.test(text)) rawTex.push(text.trim().slice(0, 120));
  }
  return {
    url: location.href,
    title: document.title,
    math: math.length,
    unrendered: math.filter(m => !m.querySelector('mjx-container'))
                    .map(m => m.textContent.trim().slice(0, 120)),
    mathErrors: [...document.querySelectorAll('mjx-merror')]
                    .map(e => e.getAttribute('data-mjx-error') || e.textContent),
    // MathJax shows an undefined macro as its name in red instead of failing.
    undefinedMacros: [...document.querySelectorAll('mjx-container')]
      .filter(c => c.querySelector('mjx-mtext[style*="color: red"]'))
      .map(c => [...c.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]')]
                  .map(t => t.textContent).join(' ') || c.textContent.slice(0, 80)),
    rawTex,
    images: [...document.images].map(i => ({src: i.currentSrc || i.src,
                                             ok: i.complete && i.naturalWidth > 0})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id)
          .concat([...document.querySelectorAll('a[name]')].map(a => a.name)),
    colab: [...document.querySelectorAll('a[href*="colab.research.google.com"]')]
             .map(a => a.href),
  };
})()"""
IMAGES_SETTLED = "[...document.images].every(i => i.complete)"
SEARCH_DONE = r"""(() => {
  const box = document.querySelector('#search-results');
  const text = box ? box.innerText : '';
  return /Search finished|did not match/i.test(text) ? text : null;
})()"""


@dataclass
class PageReport:
    page: str  # path relative to the site, e.g. "book/intro.html"
    facts: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    mathjax: object = None  # True, False (never loaded) or an error message
    seconds: float = 0.0


@dataclass
class SiteVisit:
    base: str
    reports: dict[str, PageReport]
    search: dict
    screenshots: dict[str, Path]
    browser_version: str
    seconds: float


def _unavailable(reason: str):
    if REQUIRED:
        pytest.fail(
            f"the browser test cannot run: {reason} "
            "(LSTM_COURSE_REQUIRE_BROWSER is set, so this is an error, not a skip)"
        )
    pytest.skip(reason)


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the built book, relative to the site, in a stable order."""
    pages = [p.relative_to(site).as_posix() for p in site.rglob("*.html")]
    return sorted(p for p in pages if not p.startswith(("_static/", "_sources/", "_images/")))


def expected_colab_url(chapter: str, config: dict | None = None) -> str:
    """The Colab link a chapter page must carry, from ``_config.yml``'s repository."""
    config = config or yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = urllib.parse.urlparse(config["repository"]["url"]).path.strip("/")
    branch = config["repository"].get("branch", "main")
    book = config["repository"].get("path_to_book", "").strip("/")
    path = "/".join(part for part in (book, f"{chapter}.ipynb") if part)
    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    return f"{colab}/github/{repo}/blob/{branch}/{path}"


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)


_ID_CACHE: dict[Path, set[str]] = {}


def ids_in(path: Path) -> set[str]:
    if path not in _ID_CACHE:
        parser = _Ids()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        _ID_CACHE[path] = parser.ids
    return _ID_CACHE[path]


def broken_internal_links(report: PageReport, base: str, site: Path) -> list[str]:
    """The links of a page to this site that miss their file or their #fragment."""
    broken = []
    for href in sorted(set(report.facts["links"])):
        if not href.startswith(base):
            continue
        parsed = urllib.parse.urlsplit(href)
        relative = urllib.parse.unquote(parsed.path[len(urllib.parse.urlsplit(base).path) :])
        target = site / relative
        if relative == "" or relative.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{href} (no file {target.relative_to(site)})")
            continue
        fragment = urllib.parse.unquote(parsed.fragment)
        if fragment and target.suffix == ".html":
            same_page = target == site / report.page
            known = ids_in(target) | (set(report.facts["ids"]) if same_page else set())
            if fragment not in known:
                broken.append(f"{href} (no id {fragment!r} on {target.relative_to(site)})")
    return broken


@pytest.fixture(scope="module")
def visit() -> SiteVisit:
    """Open every page once; everything the tests check is gathered here."""
    if not (SITE / "index.html").exists():
        _unavailable(
            f"the book is not built ({SITE.relative_to(ROOT)}/index.html is "
            "missing): run `make book` first"
        )
    try:
        import playwright  # noqa: F401
    except ImportError:
        _unavailable("Playwright is not installed: pip install -r requirements-dev.txt")
    chromium = find_chromium()  # None: Playwright's own Chromium, if it has one
    if chromium is None and playwright_chromium() is None:
        _unavailable(
            "no Chromium: run `python tests/ensure_chromium.py` (make site does), "
            "or set $CHROMIUM to a Chromium-based browser"
        )
    mathjax = find_mathjax()
    if mathjax is None:
        _unavailable(
            "MathJax 3 (the django-static-mathjax wheel) is not installed: "
            "pip install -r requirements-dev.txt"
        )

    start = time.perf_counter()
    reports: dict[str, PageReport] = {}
    screenshots: dict[str, Path] = {}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with serve(SITE) as base, open_tab(chromium, {MATHJAX_CDN: mathjax}) as tab:
        for name in site_pages(SITE):
            t0 = time.perf_counter()
            report = PageReport(name)
            # index.html redirects to the intro.
            tab.goto(base + name, lands_on="/book/intro.html" if name == "index.html" else None)
            if tab.evaluate("document.querySelector('.math') !== null"):
                report.mathjax = tab.wait_for_mathjax(timeout=120)
            tab.evaluate(
                "document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
            )
            tab.wait_for(IMAGES_SETTLED, timeout=60)
            report.facts = tab.evaluate(PAGE_FACTS)
            for shot, shot_page in SCREENSHOT_PAGES.items():
                if name == shot_page:
                    screenshots[shot] = tab.screenshot(SCREENSHOTS / shot)
            report.errors, report.blocked = list(tab.errors), list(tab.blocked)
            report.seconds = time.perf_counter() - t0
            reports[name] = report

        query = urllib.parse.urlencode({"q": SEARCH_QUERY})
        tab.goto(f"{base}search.html?{query}")
        summary = tab.wait_for(SEARCH_DONE, timeout=90)
        results = tab.evaluate(
            "[...document.querySelectorAll('#search-results li a')].map(a => a.href)"
        )
        search = {"summary": summary, "results": results, "errors": list(tab.errors), "base": base}
        version = tab.version
    return SiteVisit(base, reports, search, screenshots, version, time.perf_counter() - start)


def _failures(visit: SiteVisit, check) -> dict[str, list]:
    found = {}
    for name, report in visit.reports.items():
        problems = check(report)
        if problems:
            found[name] = problems
    return found


def test_every_page_of_the_toc_was_built_and_opened(visit):
    missing = [name for name in toc_files() if f"{name}.html" not in visit.reports]
    assert not missing, f"pages in _toc.yml that the build lacks (stale build?): {missing}"
    assert "search.html" in visit.reports and "index.html" in visit.reports
    intro = visit.reports["index.html"].facts["url"]
    assert intro.endswith("/book/intro.html"), f"index.html should open the intro, got {intro}"


def test_no_javascript_errors(visit):
    errors = _failures(visit, lambda r: r.errors)
    assert not errors, f"JavaScript errors: {errors}"
    assert not visit.search["errors"], f"JavaScript errors on the search: {visit.search['errors']}"


def test_pages_need_no_network(visit):
    blocked = _failures(visit, lambda r: r.blocked)
    assert not blocked, (
        "pages requested external resources (blocked; the book must work "
        f"with only MathJax from the CDN): {blocked}"
    )


def test_math_is_rendered_by_mathjax(visit):
    with_math = {n: r for n, r in visit.reports.items() if r.facts["math"]}
    assert len(with_math) >= len(chapter_notebooks()), "most pages should have math"
    problems = _failures(
        visit,
        lambda r: [
            *(
                [f"MathJax did not finish: {r.mathjax!r}"]
                if r.facts["math"] and r.mathjax is not True
                else []
            ),
            *(f"not typeset: {text}" for text in r.facts["unrendered"]),
            *(f"MathJax error: {text}" for text in r.facts["mathErrors"]),
            *(f"undefined TeX macro: {text}" for text in r.facts["undefinedMacros"]),
            *(f"raw TeX in the text: {text}" for text in r.facts["rawTex"]),
        ],
    )
    assert not problems, f"math problems: {problems}"


def test_every_image_loads(visit):
    broken = _failures(visit, lambda r: [i["src"] for i in r.facts["images"] if not i["ok"]])
    assert not broken, f"images that did not load: {broken}"
    assert sum(len(r.facts["images"]) for r in visit.reports.values()) > 0


def test_every_internal_link_resolves(visit):
    broken = _failures(visit, lambda r: broken_internal_links(r, visit.base, SITE))
    assert not broken, f"broken internal links: {broken}"


def test_search_finds_forget_gate(visit):
    search = visit.search
    assert search["summary"], "the search page never finished searching (index not loaded?)"
    assert search["results"], f"searching {SEARCH_QUERY!r} found nothing: {search['summary']}"
    chapters = {f"book/{p.stem}.html" for p in chapter_notebooks()}
    found = {urllib.parse.urlsplit(href).path.lstrip("/") for href in search["results"]}
    assert found & chapters, f"no chapter among the results: {sorted(found)}"


def test_each_chapter_has_a_colab_button_for_its_notebook(visit):
    for notebook in chapter_notebooks():
        page = f"book/{notebook.stem}.html"
        colab = visit.reports[page].facts["colab"]
        expected = expected_colab_url(notebook.relative_to(ROOT).with_suffix("").as_posix())
        assert colab == [expected], f"{page}: Colab links {colab}, expected [{expected}]"


def test_screenshots_are_saved_for_a_person_to_look_at(visit):
    for name in SCREENSHOT_PAGES:
        path = visit.screenshots.get(name)
        assert path and path.stat().st_size > 10_000, f"screenshot {name} missing or empty"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_expected_colab_url_follows_the_config():
    config = {
        "repository": {
            "url": "https://github.com/org/repo",
            "branch": "dev",
            "path_to_book": "docs",
        },
        "launch_buttons": {"colab_url": "https://colab.research.google.com/"},
    }
    assert expected_colab_url("book/01_x", config) == (
        "https://colab.research.google.com/github/org/repo/blob/dev/docs/book/01_x.ipynb"
    )


def test_broken_link_checker_catches_missing_files_and_ids(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.html").write_text('<h1 id="top">A</h1><a name="old"></a>')
    base = "http://127.0.0.1:1/"
    links = [
        base + "book/a.html#top",
        base + "book/a.html#old",
        base + "book/a.html",
        base + "book/a.html#nope",
        base + "book/missing.html",
        "https://example.org/x",
    ]
    report = PageReport("book/a.html", {"links": links, "ids": ["live"]})
    broken = broken_internal_links(report, base, tmp_path)
    assert len(broken) == 2
    assert "#nope" in broken[0] and "missing.html" in broken[1]
    report.facts["links"] = [base + "book/a.html#live"]
    assert broken_internal_links(report, base, tmp_path) == []


FAULTY_PAGE = """<!doctype html><html><head>
<script src="https://cdn.example.org/tracker.js"></script>
<script src="https://mirror.test/lib/ok.js"></script>
</head><body><img src="missing.png">
<script>console.error("boom"); throw new Error("bad page");</script></body></html>"""


def test_the_tab_records_errors_and_blocks_the_network(tmp_path):
    """The recorders the site checks rely on, on a page with one fault of each kind."""
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "ok.js").write_text("window.mirrored = 1;")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "bad.html").write_text(FAULTY_PAGE)
    (tmp_path / "site" / "good.html").write_text("<p>fine</p>")
    chromium = find_chromium()
    if chromium is None and playwright_chromium() is None:
        _unavailable("no Chromium: run `python tests/ensure_chromium.py`")
    mirrors = {"https://mirror.test/lib/": tmp_path / "mirror"}
    with serve(tmp_path / "site") as base, open_tab(chromium, mirrors, timeout=30) as tab:
        tab.goto(base + "bad.html")
        assert tab.evaluate("window.mirrored") == 1
        assert tab.mirrored == ["https://mirror.test/lib/ok.js"]
        assert tab.blocked == ["https://cdn.example.org/tracker.js"]
        errors = " | ".join(tab.errors)
        assert len(tab.errors) == 3, errors  # the blocked script and favicon.ico: not here
        assert "console.error: boom" in errors and "uncaught exception: " in errors
        assert "bad page" in errors and "404" in errors and "missing.png" in errors
        assert tab.wait_for("window.never", timeout=0.2) is None
        tab.goto(base + "good.html")
        assert tab.errors == tab.blocked == tab.mirrored == []
