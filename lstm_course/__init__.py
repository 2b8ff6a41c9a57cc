"""Helper package of the LSTM course. Notebooks import from here.

The notebook helpers live at the top: ``setup``, ``config``, ``pick``, ``get_device``,
``glue`` and ``meets_bar``. The rest is grouped by what it holds; imports run downwards
in this list, never up:

    experiments/   one module per study behind a chapter (long_lags, lag_study, sentiment, ptb, ...)
    perf/          timing side by side, and the LSTM implementations chapter ``06_lstm_speed`` times
    book_tools/    glue and meets_bar, `make reproduce`, the exercises page
    training/      the training loop (fit, evaluate, History), training until solved
                   (until_solved), language models, the cosine
                   schedule (schedules), best weights, eval mode, model device and
                   parameter count (model_tools)
    layers/        PyTorch modules that re-implement nn.LSTM and nn.GRU (drop-ins), the
                   variant cells, minGRU/minLSTM, recurrent dropout, initializations
    scratch/       the LSTM in NumPy, by hand: forward, backward, gradient checks
    data/          datasets (download, checksum, loaders), text (tokenizer, Vocab) and
                   batching (padding, packing, BPTT batches)
    plot.py, diagrams/     the figures the chapters draw; the LSTM drawn (cell, chain,
                           weights, returns, packing)
    runtime.py     modes (full/fast), seeds, device, plot defaults, jobs in worker processes
    checks.py      argument checks shared by every public function

Where does X live? The LSTM layer: ``layers.LSTM``. The NumPy LSTM: ``scratch``. The
language-model training loop: ``training.fit_lm``. A dataset: ``data``.
"""

from lstm_course.book_tools.report import glue, meets_bar
from lstm_course.runtime import config, get_device, is_fast, mode, pick, seed_everything, setup

__all__ = [
    "config",
    "get_device",
    "glue",
    "is_fast",
    "meets_bar",
    "mode",
    "pick",
    "seed_everything",
    "setup",
]
__version__ = "0.1.0"
