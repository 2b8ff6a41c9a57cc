"""Training: the general loop (``loop``: ``fit``; ``epoch``: one pass of updates and
``evaluate``; ``metrics``: ``History``, ``accuracy``; ``stream``: ``train_on_stream``, one
pass over fresh synthetic batches, and its ``StreamRun``; ``until_solved``:
``train_until_solved``, the 1997 paper's stopping rule, and its ``SolveRun``), language models (``language_model``: ``LanguageModel``, ``train_epoch``,
its own ``evaluate`` over BPTT windows, checkpoints; ``sampling``: ``sample``, ``next_token_distribution``; ``lm_fit``: ``fit_lm``, the
one language-model fit loop, and its ``LMRun`` record), and the pieces every
loop needs, written once (``model_tools``: ``model_device``, ``eval_mode``,
``count_parameters``, ``BestWeights``; ``schedules``: the cosine learning-rate decay).
"""

from lstm_course.training.epoch import evaluate
from lstm_course.training.language_model import (
    LanguageModel,
    detach_state,
    load_checkpoint,
    save_checkpoint,
    train_epoch,
)
from lstm_course.training.lm_fit import LMRun, fit_lm
from lstm_course.training.loop import fit
from lstm_course.training.metrics import History, accuracy
from lstm_course.training.model_tools import BestWeights, count_parameters, eval_mode, model_device
from lstm_course.training.sampling import next_token_distribution, sample
from lstm_course.training.schedules import cosine_factor, cosine_schedule
from lstm_course.training.stream import FreshBatches, StreamRun, train_on_stream
from lstm_course.training.until_solved import SolveRun, running_mean, train_until_solved

__all__ = [
    "BestWeights",
    "FreshBatches",
    "History",
    "LMRun",
    "LanguageModel",
    "SolveRun",
    "StreamRun",
    "accuracy",
    "cosine_factor",
    "cosine_schedule",
    "count_parameters",
    "detach_state",
    "eval_mode",
    "evaluate",
    "fit",
    "fit_lm",
    "load_checkpoint",
    "model_device",
    "next_token_distribution",
    "running_mean",
    "sample",
    "save_checkpoint",
    "train_epoch",
    "train_on_stream",
    "train_until_solved",
]
