"""Headless Chromium through Playwright's sync API, for the browser test.

Test-only code (the book's readers never need it). Two pieces:

- :func:`serve` serves a folder (the built book) on an ephemeral localhost port;
- :func:`open_tab` launches Chromium (the system's, found by ``ensure_chromium.py``,
  through ``executable_path``; else Playwright's own) with one :class:`Tab`, which
  collects each page's JavaScript errors and external requests.

Offline by design: every request that leaves localhost is intercepted. Requests whose
URL starts with a prefix in ``mirrors`` are answered from a local folder (the book loads
MathJax 3 from jsdelivr; the test serves the same version from the
``django-static-mathjax`` wheel); any other is blocked and recorded in
:attr:`Tab.blocked`, so a page that needs the network fails instead of passing flakily.

Run as a script to take the README's screenshot of a built book::

    python tests/browser.py screenshot _build/html book/02_lstm_cell.html book/images/book.png
"""

from __future__ import annotations

__all__ = ["CHROMIUM_FLAGS", "MATHJAX_CDN", "Tab", "find_mathjax", "open_tab", "serve"]

import contextlib
import functools
import http.server
import importlib.util
import json
import mimetypes
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ensure_chromium import find_chromium

# No sandbox (CI runs as root), no GPU, and no traffic of Chromium's own (first run,
# component updates, sync, background networking, QUIC).
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
)
VIEWPORT = {"width": 1280, "height": 800}
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/"
LOCAL = "http://127.0.0.1:"
# MathJax's promise: True once its first typesetting pass is done, False when MathJax
# never loaded within %d ms, or the error message when its start-up failed.
MATHJAX_DONE = """new Promise(resolve => {
    const end = Date.now() + %d;
    (function poll() {
        const mj = window.MathJax;
        if (mj && mj.startup && mj.startup.promise)
            mj.startup.promise.then(() => resolve(true), e => resolve(String(e)));
        else if (Date.now() > end) resolve(false);
        else setTimeout(poll, 50);
    })();
})"""


def find_mathjax() -> Path | None:
    """MathJax 3's distribution folder (holding ``es5/``) from the ``mathjax`` package that
    the ``django-static-mathjax`` wheel installs, or None when it is not installed."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    return folder if (folder / "es5" / "tex-mml-chtml.js").exists() else None


_read = functools.lru_cache(maxsize=None)(Path.read_bytes)  # MathJax, once per run


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@contextlib.contextmanager
def serve(directory: Path):
    """Serve ``directory`` over HTTP on 127.0.0.1; yields the base URL (ending in ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Tab:
    """One Playwright page; JavaScript errors and external requests, per navigation."""

    page: object  # playwright.sync_api.Page
    mirrors: dict[str, Path]
    version: str = ""
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    mirrored: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught exception: {e}"))
        self.page.on("console", self._on_console)
        # Only what leaves localhost is routed: local pages load without a detour.
        self.page.route(re.compile("^(?!" + re.escape(LOCAL) + ")"), self._on_request)

    def _on_request(self, route) -> None:
        url = route.request.url
        for prefix, folder in self.mirrors.items():
            if not url.startswith(prefix):
                continue
            path = (folder / url[len(prefix) :].split("?", 1)[0].split("#", 1)[0]).resolve()
            if path.is_file() and folder.resolve() in path.parents:
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                self.mirrored.append(url)
                route.fulfill(
                    status=200,
                    body=_read(path),
                    headers={"Content-Type": kind, "Access-Control-Allow-Origin": "*"},
                )
                return
        self.blocked.append(url)
        route.abort("blockedbyclient")

    def _on_console(self, message) -> None:
        # console.error and console.assert, and the browser's own error log (a resource
        # that failed to load arrives here too, with its URL as the location).
        if message.type not in ("error", "assert"):
            return
        url = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and (
            url in self.blocked or url.endswith("/favicon.ico")
        ):
            return  # reported once, as a blocked request; or the browser's own icon probe
        self.errors.append(f"console.{message.type}: {message.text} {url}".strip())

    def goto(self, url: str, lands_on: str | None = None) -> None:
        """Load ``url`` and wait for its load event; clears errors and blocked requests.
        With ``lands_on``, the page redirects: wait until it has loaded a URL ending so."""
        for record in (self.errors, self.blocked, self.mirrored):
            record.clear()
        self.page.goto(url, wait_until="load")
        if lands_on:
            self.page.wait_for_url(
                lambda at: at.split("?")[0].endswith(lands_on), wait_until="load"
            )

    def evaluate(self, expression: str):
        """The value of a JavaScript expression (a promise is awaited)."""
        return self.page.evaluate(expression)

    def wait_for(self, expression: str, timeout: float = 60):
        """Wait until ``expression`` is truthy in the page; its value, or None after
        ``timeout`` seconds."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            handle = self.page.wait_for_function(expression, timeout=timeout * 1000, polling=50)
        except PlaywrightTimeout:
            return None
        return handle.json_value()

    def wait_for_mathjax(self, timeout: float = 120):
        """True once MathJax has typeset the page, False when it never loaded, or the
        error message when its start-up failed."""
        return self.evaluate(MATHJAX_DONE % int(timeout * 1000))

    def screenshot(self, path: Path) -> Path:
        """A PNG of the viewport (1280 x 800)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=path)
        return path


@contextlib.contextmanager
def open_tab(executable: str | None, mirrors: dict[str, Path] | None = None, timeout: float = 120):
    """Launch headless Chromium (``executable``, or Playwright's own when None) with a
    fresh profile and yield one :class:`Tab`; ``timeout`` (s) bounds each action."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
            page.set_default_timeout(timeout * 1000)
            yield Tab(page, dict(mirrors or {}), browser.version)
        finally:
            browser.close()


def shrink_png(path: Path, colors: int = 256) -> Path:
    """Re-save a screenshot as an optimized palette PNG (a fraction of the size)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(
            colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    small.save(path, optimize=True)
    return path


def _screenshot_main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Screenshot one page of a built book.")
    parser.add_argument("site", type=Path, help="the built HTML, e.g. _build/html")
    parser.add_argument(
        "page",
        help="the page, relative to the site, e.g. book/intro.html, "
        "with an optional #anchor to scroll to",
    )
    parser.add_argument("out", type=Path, help="the PNG to write")
    args = parser.parse_args(argv)
    mathjax = find_mathjax()
    with (
        serve(args.site) as base,
        open_tab(find_chromium(), {MATHJAX_CDN: mathjax} if mathjax else {}) as tab,
    ):
        name, _, anchor = args.page.partition("#")
        tab.goto(base + name)  # without the #anchor, which the theme would highlight
        if tab.evaluate("document.querySelector('.math') !== null"):
            tab.wait_for_mathjax()
        if anchor:  # scroll once the math is typeset, since typesetting moves things
            tab.evaluate(f"document.getElementById({json.dumps(anchor)}).scrollIntoView()")
        tab.page.wait_for_timeout(300)
        shrink_png(tab.screenshot(args.out))
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "screenshot":
        sys.exit(_screenshot_main(sys.argv[2:]))
    sys.exit("usage: python tests/browser.py screenshot SITE PAGE OUT.png")
