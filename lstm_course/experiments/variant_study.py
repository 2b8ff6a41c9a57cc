"""LSTM variants side by side: one language model, any recurrent layer, several seeds.

Chapter ``11_lstm_variants`` reproduces, at a small scale, the comparison of Greff et al. (2017, "LSTM: A
Search Space Odyssey", references.bib: greff2017odyssey): the same model and training
for every variant, only the recurrent layer differs, each trained from several seeds so
that a difference between variants can be told from the spread between seeds.

    layer = VARIANTS["CIFG"](E, H)                       # a RecurrentLayer or layers.GRU
    model = CellLanguageModel(V, E, layer)
    result = train_language_model(model, train_ids, val_ids, batch=32, bptt=32, epochs=8,
                                  lr=3e-3)
    result["val_loss"][-1]                                # nats per token, last epoch

Shapes: T steps, B parallel streams, V vocabulary size, E embedding size, H hidden size.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence

from torch import Tensor, nn

from lstm_course.checks import check_int
from lstm_course.layers import cells
from lstm_course.layers.rnn import GRU
from lstm_course.training.lm_fit import fit_lm
from lstm_course.training.model_tools import count_parameters

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
#: CIFG, NFG, NOAF and LN each change one piece of NP's cell, so against "vanilla" they
#: also drop the peepholes. LN and GRU are not in their study.
VARIANTS: dict[str, Callable[[int, int], nn.Module]] = {
    "vanilla": lambda D, H: cells.RecurrentLayer(cells.PeepholeLSTMCell(D, H)),
    "NP": lambda D, H: cells.RecurrentLayer(cells.LSTMCell(D, H)),
    "CIFG": lambda D, H: cells.RecurrentLayer(cells.CIFGLSTMCell(D, H)),
    "NFG": lambda D, H: cells.RecurrentLayer(cells.NoForgetGateLSTMCell(D, H)),
    "NOAF": lambda D, H: cells.RecurrentLayer(cells.NoOutputActivationLSTMCell(D, H)),
    "LN": lambda D, H: cells.RecurrentLayer(cells.LayerNormLSTMCell(D, H)),
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
        vocab_size = check_int("vocab_size", vocab_size)
        embed_size = check_int("embed_size", embed_size)
        if not isinstance(layer, nn.Module):
            raise TypeError(
                f"layer must be an nn.Module such as VARIANTS['NP'](E, H), got "
                f"{type(layer).__name__}"
            )
        core = getattr(layer, "cell", layer)  # RecurrentLayer keeps its sizes on the cell
        hidden = getattr(core, "hidden_size", None)
        if getattr(core, "input_size", embed_size) != embed_size or hidden is None:
            raise ValueError(
                f"layer must read embed_size = {embed_size} inputs and have a "
                f"hidden_size; got input_size {getattr(core, 'input_size', None)}"
                f" and hidden_size {hidden}"
            )
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.layer = layer
        self.decoder = nn.Linear(hidden, vocab_size)

    def forward(self, tokens: Tensor, state=None):
        if tokens.dim() != 2:
            raise ValueError(
                f"tokens must be (T, B) ids, time first, got shape {tuple(tokens.shape)}"
            )
        output, state = self.layer(self.embedding(tokens), state)
        return self.decoder(output), state


def train_language_model(
    model: nn.Module,
    train_ids: Tensor,
    val_ids: Tensor,
    *,
    batch: int,
    bptt: int,
    epochs: int,
    lr: float,
    clip: float = 1.0,
    progress: bool = True,
    desc: str = "train",
) -> dict:
    """Adam with the learning rate lowered along a cosine from ``lr`` to 0 over all updates,
    truncated BPTT over ``batch`` contiguous streams of ``train_ids`` (1-D ids), gradient
    norm clipped at ``clip``. After every epoch the whole of ``val_ids`` is scored.

    Returns a dict: ``train_loss`` and ``val_loss`` (nats per token, one per epoch),
    ``seconds`` (wall time of training and scoring) and ``updates``. The model keeps
    the last epoch's weights (a study compares where every run ends, not its best
    epoch). A thin view of :func:`lstm_course.training.lm_fit.fit_lm`, whose
    ``LMRun`` holds more; chapter ``11_lstm_variants`` reads these keys.
    """
    run = fit_lm(
        model,
        train_ids,
        val_ids,
        epochs,
        lr,
        clip,
        batch=batch,
        bptt=bptt,
        valid_batch=batch,
        progress=progress,
        keep_best=False,
        desc=desc,
    )
    return {
        "train_loss": run.train_loss,
        "val_loss": run.valid_loss,
        "seconds": run.total_seconds,
        "updates": run.updates,
    }


def chance_separated(n: int, m: int) -> float:
    """The chance that n scores of one variant and m of another all fall on one side of
    each other when the two do not differ at all (all n + m orderings equally likely):
    2 / C(n + m, n). For 3 and 3 seeds it is 0.1, for 4 and 4 about 0.03."""
    n = check_int("n", n, why=" (a number of seeds)")
    m = check_int("m", m, why=" (a number of seeds)")
    return min(1.0, 2 / math.comb(n + m, n))


def summarize(
    scores: Mapping[str, Sequence[float]], reference: str, higher_is_better: bool = False
) -> dict[str, dict]:
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
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values),
            "min": min(values),
            "max": max(values),
            "n": len(values),
            "diff": statistics.fmean(values) - statistics.fmean(ref),
            "separated": separated,
            "better": separated and above == higher_is_better,
        }
    return table
