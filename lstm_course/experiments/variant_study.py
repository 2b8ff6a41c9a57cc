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

The statistics over seeds (``chance_separated``, ``summarize``, ``compare_pairs``) are
``seed_comparison``'s, re-exported here for the chapter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from lstm_course.checks import check_int, check_positive
from lstm_course.experiments.seed_comparison import chance_separated, compare_pairs, summarize
from lstm_course.layers import cells
from lstm_course.layers.rnn import GRU
from lstm_course.training.lm_fit import fit_lm
from lstm_course.training.model_tools import count_parameters

__all__ = [
    "VARIANTS",
    "CellLanguageModel",
    "StateTrace",
    "count_parameters",
    "set_forget_bias",
    "equal_size_hidden",
    "train_language_model",
    "first_blow_up",
    "chance_separated",
    "summarize",
    "compare_pairs",
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


@torch.no_grad()
def set_forget_bias(layer: nn.Module, value: float) -> nn.Module:
    """Start a four-block LSTM layer's forget gate near ``sigmoid(value)``, in place.

    ``layer`` is a ``VARIANTS`` layer whose cell has the blocks i, f, g, o (vanilla, NP,
    NOAF, LN): the f block of the cell's ``bias_ih`` is set to ``value`` and of its
    ``bias_hh`` to 0 (for LN these are the betas of the two normalizations, which add the
    same way). CIFG, NFG and the GRU have no forget-gate bias of their own: ValueError.
    Returns ``layer``.
    """
    cell = getattr(layer, "cell", None)
    if cell is None or not hasattr(cell, "bias_ih"):
        raise ValueError(
            f"{type(layer).__name__} has no cell with an LSTM forget gate: pass "
            "VARIANTS['vanilla' | 'NP' | 'NOAF' | 'LN'](D, H)"
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"value must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"value must be finite, got {value}")
    H = cell.hidden_size
    if cell.bias_ih.shape[0] != 4 * H:
        raise ValueError(
            f"{type(cell).__name__} has {cell.bias_ih.shape[0] // H} gate blocks, not "
            "i, f, g, o: its forget gate is tied to another gate or missing"
        )
    cell.bias_ih[H : 2 * H] = float(value)
    cell.bias_hh[H : 2 * H] = 0.0
    return layer


def equal_size_hidden(name: str, input_size: int, target: int) -> int:
    """The hidden size H whose ``VARIANTS[name](input_size, H)`` has the number of
    trainable parameters closest to ``target`` (the smaller H on a tie)."""
    if name not in VARIANTS:
        raise ValueError(f"name must be one of {list(VARIANTS)}, got {name!r}")
    input_size = check_int("input_size", input_size)
    target = check_int("target", target, why=" (a number of parameters)")
    best, best_gap, hidden = 1, math.inf, 1
    while True:
        gap = count_parameters(VARIANTS[name](input_size, hidden)) - target
        if abs(gap) < best_gap:
            best, best_gap = hidden, abs(gap)
        if gap >= 0:  # counts grow with H: no larger H comes closer
            return best
        hidden += 1


class StateTrace:
    """Forward hooks on a :class:`CellLanguageModel` that record every training window.

    Per window the model reads in training mode (one update of ``train_epoch``):

    - ``loss``: the mean cross-entropy of the window's first T - 1 predictions. Their
      targets are the window's own next inputs; the last target opens the next window,
      which the model has not read yet, so this is the update's loss less one step.
    - ``h_max``: the largest |h_t| over the window's T steps, B streams and H units.
    - ``c_max``: the same for the cell state c_t, read after every step of the cell
      (NaN for a layer without a cell state, such as the GRU).

    Windows read in eval mode (validation) are not recorded. Use as a context manager,
    or call :meth:`remove` to take the hooks off.
    """

    def __init__(self, model: CellLanguageModel):
        if not isinstance(model, CellLanguageModel):
            raise TypeError(f"model must be a CellLanguageModel, got {type(model).__name__}")
        self.loss: list[float] = []
        self.h_max: list[float] = []
        self.c_max: list[float] = []
        self._h, self._c = math.nan, None
        cell = getattr(model.layer, "cell", None)
        self._handles = [
            model.layer.register_forward_hook(self._layer_done),
            model.register_forward_hook(self._window_done),
        ]
        if cell is not None:
            self._handles.append(cell.register_forward_hook(self._step_done))

    def _step_done(self, cell, args, output):
        if cell.training:  # output is (h_t, c_t), each (B, H)
            largest = output[1].detach().abs().amax()
            self._c = largest if self._c is None else torch.maximum(self._c, largest)

    def _layer_done(self, layer, args, output):
        if layer.training:  # output[0] holds h after every step: (T, B, H)
            self._h = float(output[0].detach().abs().amax())

    def _window_done(self, model, args, output):
        if not model.training:
            return
        tokens, logits = args[0], output[0].detach()  # (T, B) and (T, B, V)
        loss = math.nan
        if len(tokens) > 1:
            loss = F.cross_entropy(
                logits[:-1].reshape(-1, logits.shape[-1]), tokens[1:].reshape(-1)
            )
        self.loss.append(float(loss))
        self.h_max.append(self._h)
        self.c_max.append(math.nan if self._c is None else float(self._c))
        self._h, self._c = math.nan, None

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> StateTrace:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def as_dict(self) -> dict[str, list[float]]:
        return {"loss": list(self.loss), "h_max": list(self.h_max), "c_max": list(self.c_max)}


def first_blow_up(losses: Sequence[float], jump: float = 1.0) -> int | None:
    """The index of the first loss that is not finite or exceeds the lowest loss before
    it by more than ``jump`` (nats); None if there is none. Made for the per-window
    losses of :class:`StateTrace`, where a trained model's windows differ by a few tenths."""
    check_positive("jump", jump)
    lowest = math.inf
    for k, loss in enumerate(losses):
        if not math.isfinite(loss) or loss > lowest + jump:
            return k
        lowest = min(lowest, loss)
    return None


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
    trace: bool = False,
) -> dict:
    """Adam with the learning rate lowered along a cosine from ``lr`` to 0 over all updates,
    truncated BPTT over ``batch`` contiguous streams of ``train_ids`` (1-D ids), gradient
    norm clipped at ``clip``. After every epoch the whole of ``val_ids`` is scored.

    Returns a dict: ``train_loss`` and ``val_loss`` (nats per token, one per epoch),
    ``best_epoch`` (from 1, the epoch of the lowest ``val_loss``), ``grad_norms`` (every
    update's gradient norm before clipping), ``seconds`` (wall time of training and
    scoring) and ``updates``; with ``trace``, also ``trace``: a :class:`StateTrace`'s
    per-update ``loss``, ``h_max`` and ``c_max`` (``model`` must then be a
    :class:`CellLanguageModel`). The model keeps the last epoch's weights (a study
    compares where every run ends, not its best epoch). A thin view of :func:`lstm_course.training.lm_fit.fit_lm`, whose
    ``LMRun`` holds more; chapter ``11_lstm_variants`` reads these keys.
    """
    recorder = StateTrace(model) if trace else None
    try:
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
    finally:
        if recorder is not None:
            recorder.remove()
    result = {
        "train_loss": run.train_loss,
        "val_loss": run.valid_loss,
        "best_epoch": run.best_epoch,
        "grad_norms": run.grad_norms,
        "seconds": run.total_seconds,
        "updates": run.updates,
    }
    if recorder is not None:
        result["trace"] = recorder.as_dict()
    return result
