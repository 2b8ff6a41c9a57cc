"""Drive headless Chromium over the Chrome DevTools Protocol, for the browser test.

Test-only code (the book's readers never need it). Three pieces:

- :func:`serve` serves a folder (the built book) on an ephemeral localhost port;
- :class:`Browser` starts Debian's ``chromium`` headless with a fresh profile and talks
  CDP to it over one websocket (``websocket-client``, a pure-Python dev dependency);
- :class:`Page` is one tab: navigate, evaluate JavaScript, collect JavaScript errors,
  take screenshots.

Offline by design: every request that leaves the local server is intercepted
(``Fetch`` domain). Requests whose URL starts with a prefix in ``mirrors`` are answered
from a local folder (the book loads MathJax 3 from jsdelivr; the test serves the same
version from the ``django-static-mathjax`` wheel); any other external request is
blocked and recorded in :attr:`Page.blocked`, so a page that needs the network shows up
as a failure instead of a flaky pass.

Run as a script to take the README's screenshot of a built book::

    python tests/browser.py screenshot _build/html book/02_lstm_cell.html book/images/book.png
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import json
import mimetypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# The flags the issue asks for: no sandbox (CI runs as root), no GPU, and no traffic of
# Chromium's own (first-run, component updates, sync, background networking).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)
VIEWPORT = (1280, 800)
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/"


def find_chromium() -> str | None:
    """The Chromium executable: ``$CHROMIUM`` if set, else the first on the PATH."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"])
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def find_mathjax() -> Path | None:
    """MathJax 3's distribution folder (holding ``es5/``) from the ``mathjax`` package that
    the ``django-static-mathjax`` wheel installs, or None when it is not installed."""
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    return folder if (folder / "es5" / "tex-mml-chtml.js").exists() else None


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


class CDPError(RuntimeError):
    pass


class _Connection:
    """One websocket to the browser; commands and events of all tabs (flat sessions)."""

    def __init__(self, url: str):
        import websocket  # websocket-client

        # No Origin header: Chromium refuses websocket clients with a foreign Origin.
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True,
                                              enable_multithread=False)
        self._next_id = 0
        self._awaited: set[int] = set()
        self._results: dict[int, dict] = {}
        # Replies to commands nobody waits for (post) only matter when they failed.
        self.on_post_error: Callable[[str], None] | None = None
        self.handlers: dict[str, Callable[[dict, str | None], None]] = {}  # by event method
        self.events: list[dict] = []

    def post(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        return self._next_id

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60) -> dict:
        """Send a command and return its result; events that arrive meanwhile are kept."""
        ident = self.post(method, params, session)
        self._awaited.add(ident)
        try:
            self.pump(lambda: ident in self._results, timeout, f"the reply to {method}")
        finally:
            self._awaited.discard(ident)
        reply = self._results.pop(ident)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error'].get('message')} {reply['error']}")
        return reply.get("result", {})

    def pump(self, done, timeout: float, what: str) -> None:
        """Read messages until ``done()`` is true; raise TimeoutError after ``timeout`` s."""
        import websocket

        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {what} within {timeout:.0f} s")
            self.ws.settimeout(min(left, 1.0))
            try:
                raw = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            message = json.loads(raw)
            if "id" in message:
                if message["id"] in self._awaited:
                    self._results[message["id"]] = message
                elif "error" in message and self.on_post_error:
                    self.on_post_error(f"DevTools command failed: {message['error']}")
                continue
            handler = self.handlers.get(message.get("method"))
            if handler:
                handler(message.get("params", {}), message.get("sessionId"))
            self.events.append(message)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()


class Browser:
    """Headless Chromium with a fresh profile, driven over CDP. Use as a context manager."""

    def __init__(self, executable: str, mirrors: dict[str, Path] | None = None,
                 local_prefix: str = "http://127.0.0.1:", log: Path | None = None):
        self.executable = executable
        self.mirrors = dict(mirrors or {})
        self.local_prefix = local_prefix
        self.log = log
        self._profile = None
        self._process = None
        self.connection: _Connection | None = None

    def __enter__(self) -> Browser:
        self._profile = tempfile.TemporaryDirectory(prefix="lstm-course-chromium-")
        profile = Path(self._profile.name)
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        self._process = subprocess.Popen(
            [self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             "--remote-debugging-port=0", f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
             "about:blank"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)  # its own process group, so close() ends it all
        if out is not subprocess.DEVNULL:
            out.close()
        try:
            port_file = profile / "DevToolsActivePort"
            deadline = time.monotonic() + 60
            while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
                if self._process.poll() is not None:
                    raise RuntimeError(f"{self.executable} exited with "
                                       f"{self._process.returncode} before opening its DevTools "
                                       f"port (log: {self.log})")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.executable} did not open its DevTools port in 60 s")
                time.sleep(0.1)
            port, path = port_file.read_text().splitlines()[:2]
            self.connection = _Connection(f"ws://127.0.0.1:{port}{path}")
            self.version = self.connection.call("Browser.getVersion")["product"]
        except BaseException:
            self.close()
            raise
        return self

    def new_page(self) -> Page:
        target = self.connection.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.connection.call("Target.attachToTarget",
                                       {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, session)

    def close(self) -> None:
        if self.connection:
            with contextlib.suppress(Exception):
                self.connection.post("Browser.close")
            self.connection.close()
            self.connection = None
        if self._process:
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                pass
            # Whatever of the browser's own process group is left (renderers, zygotes).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(10)
            self._process = None
        if self._profile:
            self._profile.cleanup()
            self._profile = None

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class Page:
    """One tab. JavaScript errors and blocked requests are collected per navigation."""

    browser: Browser
    session: str
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    mirrored: list[str] = field(default_factory=list)

    def __post_init__(self):
        conn = self.browser.connection
        conn.on_post_error = self.errors.append
        conn.handlers["Fetch.requestPaused"] = self._on_request
        conn.handlers["Runtime.exceptionThrown"] = self._on_exception
        conn.handlers["Runtime.consoleAPICalled"] = self._on_console
        conn.handlers["Log.entryAdded"] = self._on_log
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1,
                   "mobile": False})

    def call(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        return self.browser.connection.call(method, params, self.session, timeout)

    # --- events -------------------------------------------------------------------------

    def _on_request(self, params, session):
        url, request_id = params["request"]["url"], params["requestId"]
        conn = self.browser.connection
        if url.startswith(self.browser.local_prefix) or url.startswith("data:"):
            conn.post("Fetch.continueRequest", {"requestId": request_id}, session)
            return
        for prefix, folder in self.browser.mirrors.items():
            if url.startswith(prefix):
                relative = url[len(prefix):].split("?", 1)[0].split("#", 1)[0]
                path = (folder / relative).resolve()
                if path.is_file() and folder.resolve() in path.parents:
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    headers = [{"name": "Content-Type", "value": kind},
                               {"name": "Access-Control-Allow-Origin", "value": "*"}]
                    body = base64.b64encode(path.read_bytes()).decode("ascii")
                    conn.post("Fetch.fulfillRequest", {"requestId": request_id,
                              "responseCode": 200, "responseHeaders": headers, "body": body},
                              session)
                    self.mirrored.append(url)
                    return
        self.blocked.append(url)
        conn.post("Fetch.failRequest", {"requestId": request_id,
                                        "errorReason": "BlockedByClient"}, session)

    def _on_exception(self, params, session):
        if session == self.session:
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            self.errors.append(f"uncaught exception: {text} ({details.get('url', '')}"
                               f":{details.get('lineNumber', '?')})")

    def _on_console(self, params, session):
        if session == self.session and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.errors.append(f"console.{params['type']}: {text}")

    def _on_log(self, params, session):
        entry = params["entry"]
        if session != self.session or entry.get("level") != "error":
            return
        url = entry.get("url", "")
        if entry.get("source") == "network" and url in self.blocked:
            return  # reported once, as a blocked request
        if entry.get("source") == "network" and url.endswith("/favicon.ico"):
            return  # the browser's own probe on a site without an icon, not the page's
        self.errors.append(f"log ({entry.get('source')}): {entry.get('text')} {url}".strip())

    # --- actions ------------------------------------------------------------------------

    def goto(self, url: str, timeout: float = 60, lands_on: str | None = None) -> None:
        """Load ``url`` and wait for its load event; clears errors and blocked requests.

        With ``lands_on``, the page redirects: wait until the main frame has navigated
        to a URL ending in ``lands_on`` and that page has loaded.
        """
        self.errors.clear()
        self.blocked.clear()
        self.mirrored.clear()
        conn = self.browser.connection
        del conn.events[:]
        reply = self.call("Page.navigate", {"url": url}, timeout)
        if reply.get("errorText"):
            raise CDPError(f"navigating to {url}: {reply['errorText']}")

        def loaded():
            landed = lands_on is None
            for event in conn.events:
                if event.get("sessionId") != self.session:
                    continue
                frame = event.get("params", {}).get("frame", {})
                if (event.get("method") == "Page.frameNavigated" and not frame.get("parentId")
                        and lands_on and frame.get("url", "").split("?")[0].endswith(lands_on)):
                    landed = True
                if event.get("method") == "Page.loadEventFired" and landed:
                    return True
            return False

        conn.pump(loaded, timeout, f"load event of {url}")
        del conn.events[:]

    def evaluate(self, expression: str, timeout: float = 60, await_promise: bool = False):
        """The value of a JavaScript expression (JSON-serializable); raises on a JS error."""
        reply = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": await_promise}, timeout)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            raise CDPError(details.get("exception", {}).get("description") or details["text"])
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60, poll_ms: int = 50):
        """Wait, in the page, until ``expression`` is truthy; returns its value, or None
        after ``timeout`` seconds."""
        script = f"""new Promise(resolve => {{
            const end = Date.now() + {int(timeout * 1000)};
            (function poll() {{
                let value;
                try {{ value = ({expression}); }} catch (e) {{ value = undefined; }}
                if (value) resolve(value);
                else if (Date.now() > end) resolve(null);
                else setTimeout(poll, {poll_ms});
            }})();
        }})"""
        return self.evaluate(script, timeout + 30, await_promise=True)

    def wait_for_mathjax(self, timeout: float = 120):
        """Wait until MathJax has loaded and finished its first typesetting pass.

        Returns True when it has, False when MathJax never loaded, or the error message
        when its start-up failed.
        """
        script = f"""new Promise(resolve => {{
            const end = Date.now() + {int(timeout * 1000)};
            (function poll() {{
                const mj = window.MathJax;
                if (mj && mj.startup && mj.startup.promise)
                    mj.startup.promise.then(() => resolve(true), e => resolve(String(e)));
                else if (Date.now() > end) resolve(false);
                else setTimeout(poll, 50);
            }})();
        }})"""
        return self.evaluate(script, timeout + 30, await_promise=True)

    def screenshot(self, path: Path) -> Path:
        """A PNG of the viewport (1280 x 800)."""
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


def shrink_png(path: Path, colors: int = 256) -> Path:
    """Re-save a screenshot as an optimized palette PNG (a fraction of the size)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    return path


def _screenshot_main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Screenshot one page of a built book.")
    parser.add_argument("site", type=Path, help="the built HTML, e.g. _build/html")
    parser.add_argument("page", help="the page, relative to the site, e.g. book/intro.html, "
                        "with an optional #anchor to scroll to")
    parser.add_argument("out", type=Path, help="the PNG to write")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        parser.error("no chromium on the PATH: apt-get install chromium")
    mathjax = find_mathjax()
    mirrors = {MATHJAX_CDN: mathjax} if mathjax else {}
    with serve(args.site) as base, Browser(chromium, mirrors) as browser:
        page = browser.new_page()
        name, _, anchor = args.page.partition("#")
        page.goto(base + name)  # without the #anchor, which the theme would highlight
        if page.evaluate("document.querySelector('.math') !== null"):
            page.wait_for_mathjax()
        if anchor:  # scroll once the math is typeset, since typesetting moves things
            page.evaluate(f"document.getElementById({json.dumps(anchor)}).scrollIntoView()")
        page.evaluate("new Promise(r => setTimeout(r, 300))", await_promise=True)
        shrink_png(page.screenshot(args.out))
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "screenshot":
        sys.exit(_screenshot_main(sys.argv[2:]))
    sys.exit("usage: python tests/browser.py screenshot SITE PAGE OUT.png")
