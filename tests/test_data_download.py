"""Unit tests for lstm_course.data.downloader and .checksum (pooch underneath).

Everything runs against a local http.server on 127.0.0.1, file:// URLs, or a closed
loopback port (to be "offline"); no test sends traffic anywhere else. Tests that need a
seam patch pooch's: its tqdm, its temporary files, ``os.makedirs``, ``open`` in its hashes.
"""

from __future__ import annotations

import errno
import hashlib
import http.server
import logging
import socket
import tempfile
import threading
from pathlib import Path

import pooch
import pooch.downloaders
import pooch.hashes
import pooch.utils
import pytest

from lstm_course.data import DatasetError, data_home, download, verify_checksum

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, not all one byte value


def digest(data: bytes, algo: str = "sha256") -> str:
    return f"{algo}:{hashlib.new(algo, data).hexdigest()}"


@pytest.fixture(autouse=True)
def data_env(tmp_path, monkeypatch):
    """Private data home and cache for each test."""
    home = tmp_path / "home"
    monkeypatch.setenv("LSTM_COURSE_DATA", str(home))
    monkeypatch.setenv("LSTM_COURSE_CACHE", str(tmp_path / "cache"))
    return home


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        if self.path == "/file.bin":
            self._send_headers(len(PAYLOAD))
            self.wfile.write(PAYLOAD)
        elif self.path == "/short.bin":
            # Announce the full length, send half, then hang up: a cut transfer.
            self._send_headers(len(PAYLOAD))
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif self.path == "/nolength.bin":
            # No Content-Length: only the checksum can tell the body is incomplete.
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(PAYLOAD[:1000])
            self.close_connection = True
        else:
            self.send_error(404, "Not Found")

    def _send_headers(self, length):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up early (the Ctrl-C test) are expected


@pytest.fixture(scope="module")
def server():
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port():
    """A loopback port nobody listens on: connecting is refused, like being offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listing(folder: Path) -> list[str]:
    """Every file under ``folder`` (hidden temp files included)."""
    if not folder.exists():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --- successful downloads -----------------------------------------------------------


@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256"])
def test_download_over_http_verifies_and_writes_atomically(server, tmp_path, algo):
    dest = tmp_path / "deep" / "er" / "file.bin"
    result = download(f"{server}/file.bin", dest, digest(PAYLOAD, algo), progress=False)
    assert result == dest
    assert dest.read_bytes() == PAYLOAD
    assert listing(tmp_path / "deep") == ["er/file.bin"]  # no temp file left


def test_download_shows_tqdm_progress_with_total(server, tmp_path, monkeypatch):
    seen = {}
    real_tqdm = pooch.downloaders.tqdm

    def spy(*args, **kwargs):
        bar = real_tqdm(*args, **kwargs)
        seen["bar"] = bar
        return bar

    monkeypatch.setattr(pooch.downloaders, "tqdm", spy)
    download(f"{server}/file.bin", tmp_path / "f.bin", digest(PAYLOAD), chunk_size=64 * 1024)
    assert seen["bar"].total == len(PAYLOAD)
    assert seen["bar"].n == len(PAYLOAD)


def test_download_from_file_url_replaces_existing_file(tmp_path):
    source = tmp_path / "source.txt"
    source.write_bytes(b"hello world\n")
    dest = tmp_path / "out" / "copy.txt"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    download(source.as_uri(), dest, digest(b"hello world\n"), progress=False)
    assert dest.read_bytes() == b"hello world\n"
    assert listing(dest.parent) == ["copy.txt"]


@pytest.mark.parametrize("progress", [True, False])
def test_pooch_says_where_from_only_with_the_progress_bar(tmp_path, progress):
    source = tmp_path / "source.txt"
    source.write_bytes(b"data")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = pooch.get_logger()
    filters = list(logger.filters)
    logger.addHandler(handler)
    try:
        download(source.as_uri(), tmp_path / "f.txt", digest(b"data"), progress=progress)
    finally:
        logger.removeHandler(handler)
    assert [source.as_uri() in r.getMessage() for r in records] == ([True] if progress else [])
    assert logger.filters == filters  # pooch's logger is left as it was


# --- failures leave nothing behind --------------------------------------------------


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    dest = tmp_path / "d" / "file.bin"
    with pytest.raises(DatasetError) as info:
        download(f"{server}/file.bin", dest, digest(b"something else"), progress=False)
    message = str(info.value)
    assert hashlib.sha256(PAYLOAD).hexdigest() in message
    assert hashlib.sha256(b"something else").hexdigest() in message
    assert "Nothing was saved" in message
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    "path,checksum",
    [("short.bin", digest(PAYLOAD)), ("file.bin", digest(b"other")), ("nope.bin", digest(PAYLOAD))],
)
def test_failure_keeps_previous_file_untouched(server, tmp_path, path, checksum):
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"previous good copy")
    with pytest.raises(DatasetError):
        download(f"{server}/{path}", dest, checksum, progress=False)
    assert dest.read_bytes() == b"previous good copy"
    assert listing(tmp_path) == ["file.bin"]  # no temporary file either


def test_a_file_that_already_has_the_checksum_is_kept(closed_port, tmp_path):
    dest = tmp_path / "file.bin"
    dest.write_bytes(PAYLOAD)
    before = dest.stat().st_mtime_ns
    url = f"http://127.0.0.1:{closed_port}/file.bin"  # would fail if it were fetched
    assert download(url, dest, digest(PAYLOAD), progress=False) == dest
    assert dest.stat().st_mtime_ns == before


def test_truncated_transfer_is_detected_and_cleaned_up(server, tmp_path):
    dest = tmp_path / "d" / "file.bin"
    with pytest.raises(DatasetError, match="cut short") as info:
        download(f"{server}/short.bin", dest, digest(PAYLOAD), progress=False)
    assert f"{len(PAYLOAD) // 2:,} of {len(PAYLOAD):,} bytes" in str(info.value)
    assert not (tmp_path / "d").exists()


def test_truncated_transfer_without_length_fails_checksum(server, tmp_path):
    dest = tmp_path / "d" / "file.bin"
    with pytest.raises(DatasetError, match="expected"):
        download(f"{server}/nolength.bin", dest, digest(PAYLOAD), progress=False)
    assert not (tmp_path / "d").exists()


def test_keyboard_interrupt_mid_stream_leaves_nothing(server, tmp_path, monkeypatch):
    dest = tmp_path / "d" / "file.bin"
    seen = {}

    class InterruptingBar:
        """Stands in for tqdm; the reader presses Ctrl-C after the first chunk."""

        def __init__(self, *args, **kwargs):
            self.calls = 0

        def update(self, n):
            self.calls += 1
            if self.calls == 2:
                seen["files"] = listing(tmp_path / "d")
                raise KeyboardInterrupt

    monkeypatch.setattr(pooch.downloaders, "tqdm", InterruptingBar)
    with pytest.raises(KeyboardInterrupt):
        download(f"{server}/file.bin", dest, digest(PAYLOAD), chunk_size=64 * 1024)
    # Mid-download only a temporary file existed, never ``dest``; afterwards, nothing.
    assert len(seen["files"]) == 1 and seen["files"] != ["file.bin"]
    assert not (tmp_path / "d").exists()


def test_http_error_is_clear(server, tmp_path):
    dest = tmp_path / "d" / "nope.bin"
    with pytest.raises(DatasetError, match="HTTP 404") as info:
        download(f"{server}/nope.bin", dest, digest(PAYLOAD), progress=False)
    assert str(dest) in str(info.value)
    assert not (tmp_path / "d").exists()


def test_offline_error_says_what_to_put_where(closed_port, data_env):
    url = f"http://127.0.0.1:{closed_port}/ptb.train.txt"
    dest = data_home() / "ptb" / "ptb.train.txt"
    with pytest.raises(DatasetError) as info:
        download(url, dest, digest(b"x", "md5"), progress=False)
    message = str(info.value)
    assert "LSTM_COURSE_DATA" in message
    assert str(dest) in message  # the full expected path
    assert url in message
    assert "ptb/ptb.train.txt" in message
    assert "offline" in message
    assert not data_env.exists()  # not even the folders it created for the file


def test_unwritable_destination_is_a_clear_error(monkeypatch, data_env, tmp_path):
    # We run as root, so chmod cannot make a folder read-only: refuse temp files instead.
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", kwargs.get("dir"))

    monkeypatch.setattr(pooch.utils.tempfile, "NamedTemporaryFile", refuse)
    source = tmp_path / "src.txt"
    source.write_bytes(b"data")
    dest = data_home() / "timemachine" / "timemachine.txt"
    with pytest.raises(DatasetError) as info:
        download(source.as_uri(), dest, digest(b"data"), progress=False)
    message = str(info.value)
    assert "LSTM_COURSE_DATA" in message and "writable" in message
    assert str(dest) in message
    assert source.as_uri() in message
    assert not data_home().exists()  # the folders made for the file are gone again


def test_folder_that_cannot_be_created_is_a_clear_error(monkeypatch, tmp_path):
    def refuse(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(pooch.utils.os, "makedirs", refuse)
    dest = tmp_path / "ro" / "f.txt"
    with pytest.raises(DatasetError, match="LSTM_COURSE_DATA to a writable folder"):
        download((tmp_path / "x").as_uri(), dest, digest(b""), progress=False)


# --- bad arguments ------------------------------------------------------------------


@pytest.mark.parametrize("url", ["", "   ", None, "ftp://example.invalid/x", "no-scheme"])
def test_bad_url_is_value_error(url, tmp_path):
    with pytest.raises(ValueError, match="url"):
        download(url, tmp_path / "f", digest(b""), progress=False)


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"progress": 1}, TypeError),
        ({"progress": None}, TypeError),
        ({"timeout": 0}, ValueError),
        ({"timeout": "60"}, TypeError),
        ({"chunk_size": 0}, ValueError),
        ({"chunk_size": 1.5}, TypeError),
    ],
)
def test_bad_options_are_refused_before_anything_happens(tmp_path, kwargs, error):
    source = tmp_path / "src.txt"
    source.write_bytes(b"data")
    with pytest.raises(error, match=next(iter(kwargs))):
        download(source.as_uri(), tmp_path / "d" / "f", digest(b"data"), **kwargs)
    assert listing(tmp_path) == ["src.txt"]


BAD_CHECKSUMS = [
    "crc:1234abcd",
    "md5:abc",  # too short
    "sha1:" + "0" * 64,  # a sha256-length digest labelled sha1
    "sha256:" + "g" * 64,  # not hex
    "0" * 64,  # no algorithm
    "",
    None,
]


@pytest.mark.parametrize("bad", BAD_CHECKSUMS)
def test_bad_checksum_is_value_error(bad, tmp_path):
    with pytest.raises(ValueError):
        download((tmp_path / "x").as_uri(), tmp_path / "f", bad, progress=False)
    path = tmp_path / "exists.txt"
    path.write_text("x")
    with pytest.raises(ValueError):
        verify_checksum(path, bad)
    assert listing(tmp_path) == ["exists.txt"]


# --- verify_checksum ----------------------------------------------------------------


@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256"])
def test_verify_checksum_accepts_good_file(tmp_path, algo):
    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD)
    verify_checksum(path, digest(PAYLOAD, algo))
    verify_checksum(str(path), digest(PAYLOAD, algo).upper().replace(algo.upper(), algo))


def test_verify_checksum_mismatch_explains_the_fix(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD[:-1])  # one byte short: an incomplete copy
    with pytest.raises(DatasetError) as info:
        verify_checksum(path, digest(PAYLOAD))
    message = str(info.value)
    assert "corrupt or incomplete" in message
    assert str(path) in message
    assert hashlib.sha256(PAYLOAD).hexdigest() in message  # expected
    assert hashlib.sha256(PAYLOAD[:-1]).hexdigest() in message  # actual
    assert "Delete it and download it again" in message
    assert "copy the verified file" in message


def test_verify_checksum_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        verify_checksum(tmp_path / "absent", digest(b""))


def test_verify_checksum_reads_in_chunks(tmp_path, monkeypatch):
    path = tmp_path / "big.bin"
    path.write_bytes(PAYLOAD * 3)  # 3 MiB
    sizes = []
    real_open = open

    def spy_open(*args, **kwargs):
        f = real_open(*args, **kwargs)
        real_read = f.read

        def read(n=-1):
            sizes.append(n)
            return real_read(n)

        f.read = read
        return f

    monkeypatch.setattr(pooch.hashes, "open", spy_open, raising=False)
    verify_checksum(path, digest(PAYLOAD * 3))
    assert len(sizes) >= 4
    assert all(0 < n <= 1 << 20 for n in sizes)  # never the whole file at once


def test_verify_checksum_of_a_file_that_is_not_whole_chunks(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD[:100_007])
    verify_checksum(path, digest(PAYLOAD[:100_007], "sha1"))
    with pytest.raises(DatasetError):
        verify_checksum(path, digest(PAYLOAD[:100_006], "sha1"))


def test_temp_files_are_created_next_to_the_destination(server, tmp_path, monkeypatch):
    folders = []
    real = tempfile.NamedTemporaryFile

    def spy(*args, **kwargs):
        folders.append(Path(kwargs["dir"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(pooch.utils.tempfile, "NamedTemporaryFile", spy)
    dest = tmp_path / "x" / "file.bin"
    download(f"{server}/file.bin", dest, digest(PAYLOAD), progress=False)
    assert folders == [dest.parent]  # same filesystem, so the final move is an atomic rename
    assert (dest.stat().st_mode & 0o777) == 0o644  # readable like any other dataset file
