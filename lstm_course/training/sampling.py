"""Text from a trained language model: the next-token distribution (temperature, top-k)
and sampling a continuation of a prompt, one token at a time."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from lstm_course.checks import check_int, check_nonnegative
from lstm_course.data.text import Vocab
from lstm_course.training.language_model import LanguageModel
from lstm_course.training.model_tools import eval_mode, model_device

__all__ = ["next_token_distribution", "sample"]


def next_token_distribution(
    logits: Tensor, temperature: float = 1.0, top_k: int | None = None
) -> Tensor:
    """Probabilities (..., V) from logits (..., V): softmax(logits / temperature), with
    everything outside the ``top_k`` largest logits set to 0. ``temperature=0`` puts
    all the mass on the argmax (greedy decoding)."""
    check_nonnegative("temperature", temperature)  # 0 is allowed: greedy decoding
    vocab_size = logits.shape[-1]
    if top_k is not None:
        check_int("top_k", top_k)
        if top_k > vocab_size:
            raise ValueError(f"top_k={top_k} is larger than the vocabulary ({vocab_size})")
    if temperature == 0:
        return F.one_hot(logits.argmax(dim=-1), vocab_size).to(logits.dtype)
    logits = logits / temperature
    if top_k is not None and top_k < vocab_size:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    return torch.softmax(logits, dim=-1)


@torch.no_grad()
def sample(
    model: LanguageModel,
    vocab: Vocab,
    prompt: str | Sequence[str],
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> str | list[str]:
    """Continue ``prompt`` by ``length`` tokens drawn from the model; returns the continuation.

    The model first reads the whole prompt (its state then holds the context), then
    draws each next token from :func:`next_token_distribution` and feeds it back.
    ``prompt``: a str is read as characters and a str is returned (character models);
    a list of tokens gives a list of tokens (word models). ``generator`` (a CPU
    ``torch.Generator``) makes the draw reproducible.
    """
    check_int("length", length, minimum=0)
    tokens = list(prompt)
    if not tokens:
        raise ValueError("prompt is empty: give at least one token for the model to start from")
    unknown = sorted({t for t in tokens if t not in vocab and vocab.unk_index is None})
    if unknown:
        raise ValueError(f"prompt has tokens that are not in the vocabulary: {unknown}")
    next_token_distribution(torch.zeros(len(vocab)), temperature, top_k)  # checks the arguments
    device = model_device(model)
    with eval_mode(model):
        ids = torch.tensor(vocab.encode(tokens), device=device).unsqueeze(1)  # (T, 1)
        logits, state = model(ids, None)
        out = []
        for _ in range(length):
            p = next_token_distribution(logits[-1, 0].float().cpu(), temperature, top_k)
            next_id = int(torch.multinomial(p, 1, generator=generator))
            out.append(vocab.itos[next_id])
            logits, state = model(torch.tensor([[next_id]], device=device), state)
    return "".join(out) if isinstance(prompt, str) else out
