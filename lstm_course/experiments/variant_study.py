"""LSTM variants side by side: one language model, any recurrent layer, several seeds.

Chapter 11 reproduces, at a small scale, the comparison of Greff et al. (2017, "LSTM: A
Search Space Odyssey", references.bib: greff2017odyssey): the same model and training
for every variant, only the recurrent layer differs, each trained from several seeds so
that a difference between variants can be told from the spread between seeds.

    layer = VARIANTS["CIFG"](E, H)                       # a RecurrentLayer or modules.GRU
    model = CellLanguageModel(V, E, layer)
    result = train_language_model(model, train_ids, val_ids, batch=32, bptt=32, epochs=8,
                                  lr=3e-3)
    result["val_loss"][-1]                                # nats per token, last epoch

Shapes: T steps, B parallel streams, V vocabulary size, E embedding size, H hidden size.
"""

from __future__ import annotations

import math
import numbers
import statistics
import time
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor, nn

from lstm_course.data.text import batchify, bptt_batches
from lstm_course.layers.cells import (
    CIFGLSTMCell,
    LayerNormLSTMCell,
    LSTMCell,
    NoForgetGateLSTMCell,
    NoOutputActivationLSTMCell,
    PeepholeLSTMCell,
    RecurrentLayer,
)
from lstm_course.layers.rnn import GRU
from lstm_course.training.language_model import evaluate, train_epoch

__all__ = [
    "VARIANTS",
    "CellLanguageModel",
    "count_parameters",
    "train_language_model",
    "chance_separated",
    "summarize",
]

#: Each variant as ``make(input_size, hidden_size) -> layer``, the layer mapping inputs
#: (T, B, D) and a state (or None) to ``(output (T, B, H), state)``. Names follow Greff
#: et al.: "vanilla" is their baseline, with peepholes; NP has none (``nn.LSTM``'s cell);
#: CIFG, NFG and NOAF change one piece each. LN and GRU are not in their study.
VARIANTS: dict[str, Callable[[int, int], nn.Module]] = {
    "vanilla": lambda D, H: RecurrentLayer(PeepholeLSTMCell(D, H)),
    "NP": lambda D, H: RecurrentLayer(LSTMCell(D, H)),
    "CIFG": lambda D, H: RecurrentLayer(CIFGLSTMCell(D, H)),
    "NFG": lambda D, H: RecurrentLayer(NoForgetGateLSTMCell(D, H)),
    "NOAF": lambda D, H: RecurrentLayer(NoOutputActivationLSTMCell(D, H)),
    "LN": lambda D, H: RecurrentLayer(LayerNormLSTMCell(D, H)),
    "GRU": lambda D, H: GRU(D, H),
}


class CellLanguageModel(nn.Module):
    """Embedding -> any recurrent layer -> linear decoder to next-token logits.

    ``forward(tokens (T, B), state=None) -> (logits (T, B, V), state)``, the interface of
    ``language_model.LanguageModel``, so ``train_epoch`` and ``evaluate`` run it (they
    carry the state across windows and detach it). ``layer`` takes (T, B, E) inputs; its
    output size is read from ``layer.hidden_size`` (or ``layer.cell.hidden_size``).
    """

    def __init__(self, vocab_size: int, embed_size: int, layer: nn.Module):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("embed_size", embed_size)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if not isinstance(layer, nn.Module):
            raise ValueError(f"layer must be an nn.Module such as VARIANTS['NP'](E, H), got "
                             f"{type(layer).__name__}")
        core = getattr(layer, "cell", layer)  # RecurrentLayer keeps its sizes on the cell
        hidden = getattr(core, "hidden_size", None)
        if getattr(core, "input_size", embed_size) != embed_size or hidden is None:
            raise ValueError(f"layer must read embed_size = {embed_size} inputs and have a "
                             f"hidden_size; got input_size {getattr(core, 'input_size', None)}"
                             f" and hidden_size {hidden}")
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.layer = layer
        self.decoder = nn.Linear(hidden, vocab_size)

    def forward(self, tokens: Tensor, state=None):
        if tokens.dim() != 2:
            raise ValueError(f"tokens must be (T, B) ids, time first, got shape {tuple(tokens.shape)}")
        output, state = self.layer(self.embedding(tokens), state)
        return self.decoder(output), state


def count_parameters(module: nn.Module) -> int:
    """Number of trainable values in ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def train_language_model(model: nn.Module, train_ids: Tensor, val_ids: Tensor, *, batch: int,
                         bptt: int, epochs: int, lr: float, clip: float = 1.0,
                         progress: bool = True, desc: str = "train") -> dict:
    """Adam with the learning rate lowered along a cosine from ``lr`` to 0 over all updates,
    truncated BPTT over ``batch`` contiguous streams of ``train_ids`` (1-D ids), gradient
    norm clipped at ``clip``. After every epoch the whole of ``val_ids`` is scored.

    Returns a dict: ``train_loss`` and ``val_loss`` (nats per token, one per epoch),
    ``seconds`` (wall time of training and scoring) and ``updates``.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    if not (isinstance(lr, numbers.Real) and 0 < lr < math.inf):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    train_batches = bptt_batches(batchify(train_ids, batch), bptt)
    val_batches = bptt_batches(batchify(val_ids, batch), bptt)
    updates = epochs * len(train_batches)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # Stepped once per update: the last epochs take small steps, which lowers the
    # seed-to-seed spread of the final loss, the noise every comparison must beat.
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: 0.5 * (1 + math.cos(math.pi * k / updates)))
    history = {"train_loss": [], "val_loss": []}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        history["train_loss"].append(train_epoch(
            model, train_batches, optimizer, clip=clip, scheduler=scheduler,
            progress=progress, desc=f"{desc}, epoch {epoch}"))
        history["val_loss"].append(evaluate(model, val_batches))
    return {**history, "seconds": time.perf_counter() - start, "updates": updates}


def chance_separated(n: int, m: int) -> float:
    """The chance that n scores of one variant and m of another all fall on one side of
    each other when the two do not differ at all (all n + m orderings equally likely):
    2 / C(n + m, n). For 3 and 3 seeds it is 0.1, for 4 and 4 about 0.03."""
    for name, value in (("n", n), ("m", m)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an int >= 1 (a number of seeds), got {value!r}")
    return min(1.0, 2 / math.comb(n + m, n))


def summarize(scores: Mapping[str, Sequence[float]], reference: str,
              higher_is_better: bool = False) -> dict[str, dict]:
    """Per variant: mean, standard deviation (n - 1), min, max and count ``n`` of its
    scores (one per seed); ``diff``, its mean minus the reference's; ``separated``,
    whether every seed of one lies on the same side of every seed of the other (the
    ranges do not overlap); and ``better``, separated on the good side of the reference.

    Two variants that do not differ at all are still separated with the chance
    :func:`chance_separated` gives, so separated is evidence, not proof; overlapping
    ranges mean these seeds cannot tell the two apart.
    """
    if reference not in scores:
        raise ValueError(f"reference {reference!r} is not among the variants {list(scores)}")
    for name, values in scores.items():
        if len(values) < 2:
            raise ValueError(f"{name} has {len(values)} score(s): a spread needs >= 2 seeds")
    ref = list(scores[reference])
    table = {}
    for name, values in scores.items():
        values = list(values)
        above, below = min(values) > max(ref), max(values) < min(ref)
        separated = (above or below) and name != reference
        table[name] = {
            "mean": statistics.fmean(values), "std": statistics.stdev(values),
            "min": min(values), "max": max(values), "n": len(values),
            "diff": statistics.fmean(values) - statistics.fmean(ref),
            "separated": separated,
            "better": separated and above == higher_is_better,
        }
    return table
