"""Find a Chromium for the browser test, and install one when there is none.

``make site`` (so ``make test`` too) runs this before the browser test::

    python tests/ensure_chromium.py

It looks for, in order:

1. ``$CHROMIUM`` (a path or a command name), else ``chromium``, ``chromium-browser``,
   ``google-chrome`` or ``google-chrome-stable`` on the PATH: the system's browser, which
   Playwright drives through ``executable_path`` (no download, works offline);
2. Playwright's own Chromium, when ``python -m playwright install chromium`` has run.

With neither, it installs one: on Debian or Ubuntu ``apt-get install -y chromium`` (as
root, or through ``sudo``); elsewhere, or when that is not possible or fails,
``python -m playwright install chromium``. When nothing works it stops with one line
that says what to run. The decisions are functions of the machine's facts (a
:class:`Machine`), so the unit tests try every branch without installing anything.
"""

from __future__ import annotations

__all__ = [
    "CHROMIUM_NAMES",
    "Machine",
    "ensure_chromium",
    "find_chromium",
    "install_ways",
    "is_debian_like",
    "playwright_chromium",
    "stop_message",
]

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
Which = Callable[[str], str | None]


def find_chromium(environ: dict | None = None, which: Which = shutil.which) -> str | None:
    """The system's Chromium: ``$CHROMIUM`` if set, else the first of
    :data:`CHROMIUM_NAMES` on the PATH; None when there is none."""
    environ = os.environ if environ is None else environ
    if environ.get("CHROMIUM"):
        return which(environ["CHROMIUM"])
    return next((path for name in CHROMIUM_NAMES if (path := which(name))), None)


def playwright_chromium() -> str | None:
    """The path of Playwright's own Chromium when it is downloaded, else None."""
    if importlib.util.find_spec("playwright") is None:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        path = playwright.chromium.executable_path
    return path if Path(path).is_file() else None


def is_debian_like(os_release: str) -> bool:
    """Whether ``/etc/os-release``'s text names Debian or Ubuntu (itself or ``ID_LIKE``)."""
    fields = dict(line.split("=", 1) for line in os_release.splitlines() if "=" in line)
    names = " ".join(fields.get(key, "").strip("\"'") for key in ("ID", "ID_LIKE")).split()
    return bool({"debian", "ubuntu"} & set(names))


@dataclass(frozen=True)
class Machine:
    """The facts the install decision depends on."""

    debian_like: bool
    euid: int
    which: Which
    has_playwright: bool
    python: str  # the interpreter that runs Playwright, as the user would type it

    @classmethod
    def this_one(cls) -> Machine:
        release = Path("/etc/os-release")
        python = sys.executable
        if python.startswith(os.getcwd() + os.sep):  # .venv/bin/python reads better
            python = os.path.relpath(python)
        return cls(
            debian_like=release.is_file() and is_debian_like(release.read_text()),
            euid=os.geteuid() if hasattr(os, "geteuid") else -1,
            which=shutil.which,
            has_playwright=importlib.util.find_spec("playwright") is not None,
            python=python,
        )


def install_ways(machine: Machine) -> list[list[list[str]]]:
    """The ways to install a Chromium on ``machine``, best first; each is a list of
    commands (argv lists) run one after another."""
    ways = []
    if machine.debian_like and machine.which("apt-get"):
        sudo = [] if machine.euid == 0 else ["sudo"] if machine.which("sudo") else None
        if sudo is not None:
            # sudo drops the environment, so the variable goes through env.
            apt = [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
            ways.append([[*apt, "update", "-q"], [*apt, "install", "-y", "-q", "chromium"]])
    if machine.has_playwright:
        ways.append([[machine.python, "-m", "playwright", "install", "chromium"]])
    return ways


def stop_message(machine: Machine) -> str:
    """The one line printed when no way worked: exactly what to run."""
    if machine.debian_like:
        command = "sudo apt-get install -y chromium"
    elif machine.has_playwright:
        command = f"{machine.python} -m playwright install chromium"
    else:
        command = (
            f"{machine.python} -m pip install -r requirements-dev.txt && "
            f"{machine.python} -m playwright install chromium"
        )
    return (
        f"No Chromium for the browser test: run `{command}` (or set CHROMIUM to a "
        "Chromium-based browser), then run make again."
    )


def ensure_chromium(
    machine: Machine,
    find: Callable[[], str | None],
    run: Callable[[list[str]], int],
    say: Callable[[str], None] = print,
) -> str:
    """The Chromium the browser test will use, installed first when ``find()`` finds
    none; raises SystemExit with :func:`stop_message` when every way fails."""
    found = find()
    if found:
        return found
    for way in install_ways(machine):
        say("No Chromium found; installing one: " + " && ".join(map(shlex.join, way)))
        if all(run(command) == 0 for command in way) and (found := find()):
            say(f"Chromium installed: {found}")
            return found
    raise SystemExit(stop_message(machine))


def main() -> int:
    wanted = os.environ.get("CHROMIUM")
    if wanted and not shutil.which(wanted):
        sys.exit(f"CHROMIUM={wanted} is not an executable: fix or unset it.")
    machine = Machine.this_one()
    path = ensure_chromium(
        machine,
        find=lambda: find_chromium() or playwright_chromium(),
        run=lambda command: subprocess.run(command, check=False).returncode,
    )
    print(f"Chromium for the browser test: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
