"""Training: the general loop (``loop``: ``fit``, ``evaluate``, ``History``) and language
models (``language_model``: ``LanguageModel``, ``train_epoch``, its own ``evaluate`` over
BPTT windows, ``sample``, checkpoints).
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
from lstm_course.training.loop import History, accuracy, evaluate, fit

__all__ = [
    "History",
    "LanguageModel",
    "accuracy",
    "detach_state",
    "evaluate",
    "fit",
    "load_checkpoint",
    "next_token_distribution",
    "sample",
    "save_checkpoint",
    "train_epoch",
]
