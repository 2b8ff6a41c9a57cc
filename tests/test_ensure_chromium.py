"""How ``make site`` gets a Chromium on a fresh machine (tests/ensure_chromium.py), every
branch tried on a faked machine: nothing is installed or run here."""

import pytest
from ensure_chromium import (
    Machine,
    ensure_chromium,
    find_chromium,
    install_ways,
    is_debian_like,
    stop_message,
)

APT = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
PLAYWRIGHT = [".venv/bin/python", "-m", "playwright", "install", "chromium"]


def machine(debian=True, euid=0, on_path=("apt-get", "sudo"), playwright=True):
    return Machine(
        debian_like=debian,
        euid=euid,
        which=lambda name: f"/usr/bin/{name}" if name in on_path else None,
        has_playwright=playwright,
        python=".venv/bin/python",
    )


def test_find_chromium_takes_the_variable_then_the_path():
    which = {
        "google-chrome": "/opt/chrome",
        "chromium-browser": "/usr/bin/chromium-browser",
        "/my/chrome": "/my/chrome",
    }.get
    assert find_chromium({}, which) == "/usr/bin/chromium-browser"
    assert find_chromium({"CHROMIUM": "/my/chrome"}, which) == "/my/chrome"
    assert find_chromium({"CHROMIUM": "/not/there"}, which) is None
    assert find_chromium({}, lambda name: None) is None


@pytest.mark.parametrize(
    "release, expected",
    [
        ('ID=debian\nVERSION_ID="12"', True),
        ("ID=ubuntu\nID_LIKE=debian", True),
        ('ID=linuxmint\nID_LIKE="ubuntu debian"', True),
        ('ID="fedora"', False),
        ("", False),
    ],
)
def test_debian_and_ubuntu_are_recognised(release, expected):
    assert is_debian_like(release) is expected


def test_root_on_debian_uses_apt_then_playwright():
    ways = install_ways(machine())
    assert ways == [
        [[*APT, "update", "-q"], [*APT, "install", "-y", "-q", "chromium"]],
        [PLAYWRIGHT],
    ]


def test_a_user_on_debian_goes_through_sudo():
    ways = install_ways(machine(euid=1000))
    assert ways[0][1] == ["sudo", *APT, "install", "-y", "-q", "chromium"]


def test_without_sudo_or_apt_or_debian_only_playwright_is_left():
    for fake in (
        machine(euid=1000, on_path=("apt-get",)),
        machine(on_path=("sudo",)),
        machine(debian=False),
    ):
        assert install_ways(fake) == [[PLAYWRIGHT]]
    assert install_ways(machine(debian=False, playwright=False)) == []


def test_the_stop_line_says_exactly_what_to_run():
    assert "`sudo apt-get install -y chromium`" in stop_message(machine())
    assert "`.venv/bin/python -m playwright install chromium`" in stop_message(
        machine(debian=False)
    )
    assert "pip install -r requirements-dev.txt && " in stop_message(
        machine(debian=False, playwright=False)
    )
    assert all("\n" not in stop_message(machine(debian=d)) for d in (True, False))


class FakeMachine:
    """Chromium appears once the install command ``installs`` has run successfully."""

    def __init__(self, installs, fails=()):
        self.installs, self.fails, self.ran, self.said = installs, fails, [], []
        self.browser = None

    def find(self):
        return self.browser

    def run(self, command):
        self.ran.append(command)
        if command in self.fails:
            return 1
        if command == self.installs:
            self.browser = "/usr/bin/chromium"
        return 0


def test_nothing_is_installed_when_chromium_is_there():
    fake = FakeMachine(installs=None)
    fake.browser = "/usr/bin/chromium"
    assert ensure_chromium(machine(), fake.find, fake.run, fake.said.append) == fake.browser
    assert fake.ran == [] and fake.said == []


def test_apt_installs_it():
    apt_install = [*APT, "install", "-y", "-q", "chromium"]
    fake = FakeMachine(installs=apt_install)
    assert ensure_chromium(machine(), fake.find, fake.run, fake.said.append)
    assert fake.ran == [[*APT, "update", "-q"], apt_install]
    assert "installing one: env DEBIAN_FRONTEND=noninteractive apt-get update" in fake.said[0]


def test_a_failed_apt_falls_back_to_playwright():
    fake = FakeMachine(installs=PLAYWRIGHT, fails=[[*APT, "update", "-q"]])
    assert ensure_chromium(machine(), fake.find, fake.run, fake.said.append)
    assert fake.ran == [[*APT, "update", "-q"], PLAYWRIGHT]  # no install after a failed update


def test_when_every_way_fails_it_stops_with_the_one_line():
    fake = FakeMachine(installs=None)
    with pytest.raises(SystemExit) as stop:
        ensure_chromium(machine(debian=False), fake.find, fake.run, fake.said.append)
    assert stop.value.code == stop_message(machine(debian=False))
    assert fake.ran == [PLAYWRIGHT]
    with pytest.raises(SystemExit):
        ensure_chromium(machine(debian=False, playwright=False), fake.find, fake.run)
