"""Unit tests for lstm_course.data.archive: safe extraction and corrupt archives.

Archives are built in the test with tarfile/zipfile; "hostile" ones try to write
outside the destination in every classic way.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from lstm_course.data import DatasetError, extract_archive
from lstm_course.data.archive import archive_errors, safe_tar_members


def build_tar(path: Path, members: list[tuple], mode: str = "w:gz") -> Path:
    """Write a tar from ``(kind, name[, data_or_target])`` tuples.

    kind is one of ``file``, ``dir``, ``sym``, ``link`` (hardlink), ``chr``, ``fifo``.
    """
    with tarfile.open(path, mode) as tar:
        for kind, name, *rest in members:
            info = tarfile.TarInfo(name)
            data = None
            if kind == "file":
                data = rest[0] if rest else b"content of " + name.encode()
                info.size = len(data)
            elif kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, rest[0]
            elif kind == "link":
                info.type, info.linkname = tarfile.LNKTYPE, rest[0]
            elif kind == "chr":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def build_zip(path: Path, names: list[str], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            zf.writestr(name, f"content of {name}" * 50)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    return path


def tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


GOOD = [
    ("dir", "pkg"),
    ("file", "pkg/a.txt", b"alpha"),
    ("file", "./pkg/sub/b.txt", b"beta"),
    ("sym", "pkg/sub/link_to_a", "../a.txt"),
    ("link", "pkg/hard_b", "pkg/sub/b.txt"),
]


@pytest.mark.parametrize("mode,suffix", [("w:gz", ".tar.gz"), ("w", ".tar"), ("w:gz", ".tgz")])
def test_extract_good_tar(tmp_path, mode, suffix):
    archive = build_tar(tmp_path / f"good{suffix}", GOOD, mode)
    dest = tmp_path / "out"
    assert extract_archive(archive, dest) == dest
    assert (dest / "pkg/a.txt").read_bytes() == b"alpha"
    assert (dest / "pkg/sub/b.txt").read_bytes() == b"beta"
    assert (dest / "pkg/sub/link_to_a").is_symlink()
    assert (dest / "pkg/sub/link_to_a").read_bytes() == b"alpha"
    assert (dest / "pkg/hard_b").read_bytes() == b"beta"


def test_extract_good_zip(tmp_path):
    archive = build_zip(tmp_path / "good.zip", ["d/x.txt", "d/e/y.txt"])
    dest = extract_archive(archive, tmp_path / "out")
    assert tree(dest) == ["d", "d/e", "d/e/y.txt", "d/x.txt"]
    assert (dest / "d/x.txt").read_text().startswith("content of d/x.txt")


HOSTILE = {
    "absolute path": ([("file", "/tmp/evil.txt")], "/tmp/evil.txt"),
    "dotdot": ([("file", "../evil.txt")], "../evil.txt"),
    "dotdot in the middle": ([("file", "pkg/../../evil.txt")], "pkg/../../evil.txt"),
    "dotdot after dot": ([("file", "./../evil.txt")], "./../evil.txt"),
    "windows dotdot": ([("file", "pkg\\..\\..\\evil.txt")], "pkg\\..\\..\\evil.txt"),
    "symlink to absolute": ([("sym", "passwd", "/etc/passwd")], "passwd"),
    "symlink outside": ([("sym", "pkg/up", "../../outside")], "pkg/up"),
    "symlink to parent": ([("sym", "up", "..")], "up"),
    "symlink chain": ([("sym", "x", "."), ("sym", "y", "x/..")], "y"),
    "symlink chain after dotdot": ([("sym", "x", "."), ("sym", "pkg/y", "../x/..")], "pkg/y"),
    "windows drive": ([("file", "C:/evil.txt")], "C:/evil.txt"),
    "symlink to windows path": ([("sym", "pkg/w", "..\\..\\evil")], "pkg/w"),
    "write through symlink": (
        [("dir", "pkg"), ("sym", "pkg/d", "."), ("file", "pkg/d/f.txt")],
        "pkg/d/f.txt",
    ),
    "hardlink to absolute": ([("link", "shadow", "/etc/shadow")], "shadow"),
    "hardlink outside": ([("link", "pkg/h", "../outside.txt")], "pkg/h"),
    "character device": ([("chr", "pkg/null")], "pkg/null"),
    "fifo": ([("fifo", "pkg/pipe")], "pkg/pipe"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_tar_is_rejected_before_anything_is_written(tmp_path, case):
    members, bad_name = HOSTILE[case]
    # A harmless member first: it must not be extracted either.
    archive = build_tar(tmp_path / "evil.tar.gz", [("file", "pkg/first.txt"), *members])
    dest = tmp_path / "box" / "out"
    before = tree(tmp_path)
    with pytest.raises(DatasetError) as info:
        extract_archive(archive, dest)
    assert repr(bad_name) in str(info.value)  # names the offending member
    assert str(archive) in str(info.value)
    assert tree(tmp_path) == before  # nothing written, inside or outside dest


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_tar_is_rejected_when_streaming(tmp_path, case):
    members, bad_name = HOSTILE[case]
    archive = build_tar(tmp_path / "evil.tar.gz", [("file", "pkg/first.txt"), *members])
    read = []
    with pytest.raises(DatasetError, match="Refusing") as info:
        with tarfile.open(archive, "r|gz") as tar:
            for name, _ in safe_tar_members(tar, archive):
                read.append(name)
    assert repr(bad_name) in str(info.value)
    # Members before the bad one (always the last here) come out; the bad one never does.
    before_bad = [m[1].removeprefix("./") for m in members[:-1]]
    assert read == ["pkg/first.txt", *before_bad]


@pytest.mark.parametrize(
    "names,symlink,bad",
    [
        (["ok.txt", "../evil.txt"], None, "../evil.txt"),
        (["ok.txt", "/abs/evil.txt"], None, "/abs/evil.txt"),
        (["ok.txt", "C:/evil.txt"], None, "C:/evil.txt"),
        (["ok.txt"], "link", "link"),
    ],
)
def test_hostile_zip_is_rejected(tmp_path, names, symlink, bad):
    archive = build_zip(tmp_path / "evil.zip", names, symlink)
    before = tree(tmp_path)
    with pytest.raises(DatasetError) as info:
        extract_archive(archive, tmp_path / "out")
    assert repr(bad) in str(info.value)
    assert tree(tmp_path) == before


def test_a_link_already_in_dest_cannot_lead_outside(tmp_path):
    # The archive is fine; the destination is not (left over from an earlier run).
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "pkg").symlink_to(outside)
    archive = build_tar(tmp_path / "a.tar.gz", [("file", "pkg/f.txt")])
    with pytest.raises(DatasetError, match="outside the destination") as info:
        extract_archive(archive, dest)
    assert repr("pkg/f.txt") in str(info.value)
    assert list(outside.iterdir()) == []


def test_python_without_the_data_filter_fails_clearly(tmp_path, monkeypatch):
    archive = build_tar(tmp_path / "a.tar.gz", GOOD)
    monkeypatch.delattr(tarfile, "data_filter")
    with pytest.raises(RuntimeError, match="3.11.4") as info:
        extract_archive(archive, tmp_path / "out")
    assert "extraction filters" in str(info.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(RuntimeError, match="extraction filters"):
        with tarfile.open(archive, "r|gz") as tar:
            next(safe_tar_members(tar, archive))


def test_safe_names_are_normalised(tmp_path):
    archive = build_tar(tmp_path / "a.tar", [("file", "./a//b.txt"), ("dir", "./")], "w")
    with tarfile.open(archive, "r|") as tar:
        names = [name for name, _ in safe_tar_members(tar, archive)]
    assert names == ["a/b.txt", ""]


# --- truncated and corrupt archives ------------------------------------------------


def _big_tar_gz(tmp_path: Path) -> bytes:
    # Incompressible-ish content so the gzip stream is long enough to cut and flip.
    members = [
        ("file", f"d/{i}.txt", bytes((i * j * 7919) % 251 for j in range(3000))) for i in range(20)
    ]
    return build_tar(tmp_path / "src.tar.gz", members).read_bytes()


def _flip(data: bytes, start: int, count: int = 64) -> bytes:
    out = bytearray(data)
    for i in range(start, start + count):
        out[i] ^= 0xFF
    return bytes(out)


@pytest.mark.parametrize("damage", ["truncated", "flipped bytes", "truncated header"])
def test_damaged_tar_gz_is_a_clear_error(tmp_path, damage):
    good = _big_tar_gz(tmp_path)
    bad = {
        "truncated": good[: len(good) // 2],
        "flipped bytes": _flip(good, len(good) // 3),
        "truncated header": good[:5],
    }[damage]
    archive = tmp_path / "data.tar.gz"
    archive.write_bytes(bad)
    dest = tmp_path / "out"
    with pytest.raises(DatasetError) as info:
        extract_archive(archive, dest)
    message = str(info.value)
    assert "truncated or corrupt" in message
    assert str(archive) in message
    assert "download it again" in message
    assert not dest.exists()


@pytest.mark.parametrize("damage", ["truncated", "flipped bytes"])
def test_damaged_zip_is_a_clear_error(tmp_path, damage):
    src = build_zip(tmp_path / "src.zip", [f"f{i}.txt" for i in range(10)])
    good = src.read_bytes()
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo("f3.txt")
    data_start = info.header_offset + 30 + len(info.filename)  # 30: fixed local header
    bad = good[: len(good) // 2] if damage == "truncated" else _flip(good, data_start + 2, 4)
    archive = tmp_path / "data.zip"
    archive.write_bytes(bad)
    dest = tmp_path / "out"
    with pytest.raises(DatasetError, match="corrupt") as info:
        extract_archive(archive, dest)
    assert str(archive) in str(info.value)
    assert not dest.exists()


def test_truncated_tar_gz_when_streaming(tmp_path):
    good = _big_tar_gz(tmp_path)
    archive = tmp_path / "cut.tar.gz"
    archive.write_bytes(good[: len(good) // 2])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        with archive_errors(archive), tarfile.open(archive, "r|*") as tar:
            for _, member in safe_tar_members(tar, archive):
                if member.isreg():
                    tar.extractfile(member).read()


@pytest.mark.parametrize(
    "exc", [EOFError("eof"), tarfile.ReadError("bad"), zipfile.BadZipFile("bad")]
)
def test_archive_errors_converts_read_errors(tmp_path, exc):
    with pytest.raises(DatasetError, match="truncated or corrupt") as info:
        with archive_errors(tmp_path / "x.tar.gz"):
            raise exc
    assert info.value.__cause__ is exc


def test_archive_errors_lets_other_errors_through(tmp_path):
    with pytest.raises(KeyError):
        with archive_errors(tmp_path / "x.tar.gz"):
            raise KeyError("not an archive problem")


def test_not_an_archive(tmp_path):
    path = tmp_path / "notes.tar.gz"
    path.write_text("just some text, not an archive\n" * 10)
    with pytest.raises(DatasetError, match="not a tar or zip archive"):
        extract_archive(path, tmp_path / "out")


@pytest.mark.parametrize("fmt", ["tar", "zip"])
def test_unwritable_destination_is_a_clear_error(tmp_path, monkeypatch, fmt):
    if fmt == "tar":
        archive = build_tar(tmp_path / "a.tar.gz", [("file", "x.txt")])
        monkeypatch.setattr(tarfile.TarFile, "makefile", _refuse_write)
    else:
        archive = build_zip(tmp_path / "a.zip", ["x.txt"])
        monkeypatch.setattr(zipfile.ZipFile, "_extract_member", _refuse_write)
    with pytest.raises(DatasetError, match="Cannot extract .* writable folder"):
        extract_archive(archive, tmp_path / "out")


def _refuse_write(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_missing_archive(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        extract_archive(tmp_path / "absent.tar.gz", tmp_path / "out")
