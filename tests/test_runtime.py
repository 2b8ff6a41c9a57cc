import random
import re

import matplotlib as mpl
import numpy as np
import pytest
import torch

from lstm_course import runtime
from lstm_course.runtime import (
    FAST_ENV,
    Runtime,
    config,
    get_device,
    is_fast,
    mode,
    pick,
    seed_everything,
    setup,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    # Each test starts in the full mode with no forced device, whatever the shell says.
    monkeypatch.delenv(FAST_ENV, raising=False)
    monkeypatch.delenv("LSTM_COURSE_DEVICE", raising=False)


@pytest.fixture
def restore_rcparams():
    saved = mpl.rcParams.copy()
    yield
    mpl.rcParams.update(saved)


@pytest.fixture
def no_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: False)


# --- is_fast / mode / pick / config ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("", False),
        ("false", False),
        ("no", False),
        ("off", False),
    ],
)
def test_is_fast_parses_env(monkeypatch, value, expected):
    monkeypatch.setenv(FAST_ENV, value)
    assert is_fast() is expected


def test_is_fast_unset_is_full():
    assert is_fast() is False
    assert mode() == "full"


@pytest.mark.parametrize("value", ["2", "maybe", "fast"])
def test_is_fast_rejects_bad_value_naming_variable(monkeypatch, value):
    monkeypatch.setenv(FAST_ENV, value)
    with pytest.raises(ValueError, match=FAST_ENV) as info:
        is_fast()
    assert repr(value) in str(info.value)


def test_mode(monkeypatch):
    assert mode() == "full"
    monkeypatch.setenv(FAST_ENV, "1")
    assert mode() == "fast"
    monkeypatch.setenv(FAST_ENV, "0")
    assert mode() == "full"


def test_pick_in_both_modes(monkeypatch):
    assert pick("big", "small") == "big"
    monkeypatch.setenv(FAST_ENV, "1")
    assert pick("big", "small") == "small"


def test_config_full_mode():
    cfg = config(epochs=(20, 2), hidden=(128, 8))
    assert cfg.epochs == 20
    assert cfg.hidden == 128
    assert vars(cfg) == {"epochs": 20, "hidden": 128}


def test_config_fast_mode(monkeypatch):
    monkeypatch.setenv(FAST_ENV, "1")
    cfg = config(epochs=(20, 2), hidden=(128, 8))
    assert vars(cfg) == {"epochs": 2, "hidden": 8}


def test_config_empty():
    assert vars(config()) == {}


@pytest.mark.parametrize("bad", [20, (20,), (20, 2, 1), [20, 2], "ab"])
def test_config_rejects_non_pair(bad):
    with pytest.raises(ValueError, match="epochs"):
        config(epochs=bad)


# --- get_device -----------------------------------------------------------------------


def test_get_device_cpu_without_accelerators(no_accelerators):
    device = get_device()
    assert isinstance(device, torch.device)
    assert device.type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback on a CPU machine")
def test_get_device_is_cpu_here():
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        pytest.skip("MPS is available here")
    assert get_device().type == "cpu"


def test_get_device_prefers_cuda(monkeypatch, no_accelerators):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    # Only the device object is made: nothing is allocated on it.
    assert get_device().type == "cuda"


def test_get_device_prefers_cuda_over_mps(monkeypatch, no_accelerators):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert get_device().type == "cuda"


def test_get_device_then_mps(monkeypatch, no_accelerators):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert get_device().type == "mps"


def test_get_device_prefer_cpu_even_with_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device("cpu").type == "cpu"
    assert get_device(prefer="cpu") == torch.device("cpu")


def test_get_device_prefer_cuda_without_cuda(no_accelerators):
    with pytest.raises(ValueError, match="CUDA"):
        get_device("cuda")
    with pytest.raises(ValueError, match="CUDA"):
        get_device("cuda:0")


def test_get_device_env(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LSTM_COURSE_DEVICE", "cpu")
    assert get_device().type == "cpu"


def test_get_device_env_cuda_without_cuda(monkeypatch, no_accelerators):
    monkeypatch.setenv("LSTM_COURSE_DEVICE", "cuda")
    with pytest.raises(ValueError, match="CUDA"):
        get_device()


def test_get_device_argument_beats_env(monkeypatch, no_accelerators):
    monkeypatch.setenv("LSTM_COURSE_DEVICE", "cuda")
    assert get_device("cpu").type == "cpu"


# --- seed_everything ------------------------------------------------------------------


def _draws():
    return (
        [random.random() for _ in range(3)],
        np.random.rand(3).tolist(),  # noqa: NPY002 -- the global generator is what is seeded
        torch.rand(3).tolist(),
    )


def test_seed_everything_repeats_draws():
    seed_everything(123)
    first = _draws()
    seed_everything(123)
    second = _draws()
    assert first == second
    seed_everything(124)
    third = _draws()
    for a, b in zip(first, third, strict=True):
        assert a != b


@pytest.mark.parametrize(
    "bad, error",
    [(-1, ValueError), (1.5, TypeError), ("1", TypeError), (None, TypeError), (True, TypeError)],
)
def test_seed_everything_rejects_bad_seed(bad, error):
    with pytest.raises(error, match=re.escape(f"seed must be an int >= 0, got {bad!r}")):
        seed_everything(bad)


def test_seed_everything_accepts_zero():
    seed_everything(0)
    a = torch.rand(2)
    seed_everything(0)
    assert torch.equal(a, torch.rand(2))


# --- setup ----------------------------------------------------------------------------


def test_setup_prints_one_banner_line(capsys, restore_rcparams, no_accelerators):
    rt = setup(seed=3)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 1
    line = lines[0]
    assert "mode: full" in line
    assert f"NumPy {np.__version__}" in line
    assert f"torch {torch.__version__}" in line
    assert "Python " in line
    assert "device: cpu" in line
    assert f"threads: {torch.get_num_threads()}" in line
    assert isinstance(rt, Runtime)
    assert rt.device == torch.device("cpu")
    assert rt.mode == "full"
    assert rt.seed == 3
    assert rt.threads == torch.get_num_threads()
    assert rt.banner() == line


def test_setup_banner_python_version(capsys, restore_rcparams, no_accelerators):
    import platform

    setup()
    assert f"Python {platform.python_version()}" in capsys.readouterr().out


def test_setup_fast_mode(monkeypatch, capsys, restore_rcparams, no_accelerators):
    monkeypatch.setenv(FAST_ENV, "1")
    rt = setup()
    out = capsys.readouterr().out
    assert "mode: fast" in out
    assert "mode: full" not in out
    assert rt.mode == "fast"


def test_setup_quiet_prints_nothing(capsys, restore_rcparams, no_accelerators):
    rt = setup(quiet=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert rt.device.type == "cpu"


def test_setup_device_argument(capsys, restore_rcparams, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    rt = setup(device="cpu", quiet=True)
    assert rt.device == torch.device("cpu")


def test_setup_seeds(restore_rcparams):
    setup(seed=7, quiet=True)
    a = _draws()
    setup(seed=7, quiet=True)
    assert _draws() == a


def test_setup_sets_plot_defaults(restore_rcparams):
    mpl.rcParams["axes.grid"] = False
    mpl.rcParams["axes.spines.top"] = True
    setup(quiet=True)
    assert mpl.rcParams["axes.grid"] is True
    assert mpl.rcParams["axes.spines.top"] is False
    assert mpl.rcParams["axes.spines.right"] is False
    assert list(mpl.rcParams["figure.figsize"]) == [7.0, 3.6]


def test_runtime_is_frozen():
    rt = Runtime(mode="full", device=torch.device("cpu"), seed=0, threads=1)
    with pytest.raises(AttributeError):
        rt.mode = "fast"  # type: ignore[misc]
    assert "threads: 1" in rt.banner()
    assert runtime.FAST_ENV == "LSTM_COURSE_FAST"


def test_setup_threads_sets_and_reports_the_count(capsys, restore_rcparams, no_accelerators):
    before = torch.get_num_threads()
    try:
        rt = setup(quiet=False, threads=1)
        assert torch.get_num_threads() == 1 and rt.threads == 1
        assert capsys.readouterr().out.rstrip().endswith("threads: 1")
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    "threads, error",
    [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)],
)
def test_setup_rejects_bad_thread_counts(threads, error, restore_rcparams):
    before = torch.get_num_threads()
    with pytest.raises(
        error, match=re.escape(f"threads must be an int >= 1 or None, got {threads!r}")
    ):
        setup(quiet=True, threads=threads)
    assert torch.get_num_threads() == before


def test_progress_bars_follow_the_bars_variable(monkeypatch):
    monkeypatch.delenv(runtime.BARS_ENV, raising=False)
    assert runtime.show_bars()
    assert not runtime.progress_bar(range(3), progress=True).disable
    assert runtime.progress_bar(range(3), progress=False).disable
    monkeypatch.setenv(runtime.BARS_ENV, "0")  # what make reproduce sets
    assert not runtime.show_bars()
    bar = runtime.progress_bar(range(3), progress=True)
    assert bar.disable and list(bar) == [0, 1, 2]  # still iterates, draws nothing
