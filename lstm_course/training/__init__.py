"""Training: the general loop (``loop``: ``fit``, ``evaluate``; ``metrics``: ``History``,
``accuracy``), language models (``language_model``: ``LanguageModel``, ``train_epoch``,
its own ``evaluate`` over BPTT windows, ``sample``, checkpoints; ``lm_fit``: ``fit_lm``, the
one language-model fit loop, and its ``LMRun`` record), and the pieces every
loop needs, written once (``model_tools``: ``model_device``, ``eval_mode``,
``count_parameters``, ``BestWeights``; ``schedules``: the cosine learning-rate decay).
"""

from lstm_course.training.language_model import (
    LanguageModel,
    detach_state,
    load_checkpoint,
    next_token_distribution,
    sample,
    save_checkpoint,
    train_epoch,
)
from lstm_course.training.lm_fit import LMRun, fit_lm
from lstm_course.training.loop import evaluate, fit
from lstm_course.training.metrics import History, accuracy
from lstm_course.training.model_tools import BestWeights, count_parameters, eval_mode, model_device
from lstm_course.training.schedules import cosine_factor, cosine_schedule

__all__ = [
    "BestWeights",
    "History",
    "LMRun",
    "LanguageModel",
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
    "sample",
    "save_checkpoint",
    "train_epoch",
]
