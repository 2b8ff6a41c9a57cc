"""A real PyTorch program on the course's LSTM and GRU: pytorch/examples'
word_language_model.

``RNNModel`` and the training step below are a short, faithful adaptation of
pytorch/examples, word_language_model/model.py (``RNNModel``) and main.py (``train``,
``repackage_hidden``, and the reload after training with ``model.rnn.flatten_parameters()``),
BSD-3-Clause. Two changes: the recurrent class is an argument (``rnn_cls``) instead of
``getattr(nn, rnn_type)``, and only the LSTM and GRU branches are kept (the course has
no ``nn.RNN``). The data is random token ids instead of WikiText-2.
"""

import io
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lstm_course.layers import GRU, LSTM

OURS = {"LSTM": LSTM, "GRU": GRU}


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(
        self, rnn_type, rnn_cls, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False
    ):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = rnn_cls(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (
                weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid),
            )
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def train(model, source, bptt=5, lr=20.0, clip=0.25):
    """main.py's train(): truncated BPTT over source (T, B), plain SGD by hand."""
    model.train()
    criterion = nn.NLLLoss()
    hidden = model.init_hidden(source.size(1))
    losses = []
    for i in range(0, source.size(0) - 1, bptt):
        seq_len = min(bptt, len(source) - 1 - i)
        data, targets = source[i : i + seq_len], source[i + 1 : i + 1 + seq_len].reshape(-1)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    return losses


def evaluate(model, source, bptt=5):
    model.eval()
    hidden, total = model.init_hidden(source.size(1)), 0.0
    with torch.no_grad():
        for i in range(0, source.size(0) - 1, bptt):
            seq_len = min(bptt, len(source) - 1 - i)
            output, hidden = model(source[i : i + seq_len], hidden)
            total += (
                len(output) * F.nll_loss(output, source[i + 1 : i + 1 + seq_len].reshape(-1)).item()
            )
    return total / (len(source) - 1) / source.size(1)


def _pair(rnn_type, **kw):
    """The model on nn.LSTM/nn.GRU and on the course's class, with the same weights."""
    torch.manual_seed(0)
    ref = RNNModel(rnn_type, getattr(nn, rnn_type), 50, 16, 16, 2, **kw).double()
    ours = RNNModel(rnn_type, OURS[rnn_type], 50, 16, 16, 2, **kw).double()
    ours.load_state_dict(ref.state_dict())
    return ref, ours


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU"])
def test_sgd_steps_equal_torchs_then_save_reload_and_state_dicts(rnn_type):
    ref, ours = _pair(rnn_type, dropout=0.0, tie_weights=True)
    assert isinstance(ours.rnn, nn.RNNBase)
    source = torch.randint(0, 50, (21, 4))
    losses = [train(m, source) for m in (ref, ours)]
    assert len(losses[0]) == 4 and all(math.isfinite(v) for v in losses[0])
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-10, atol=1e-10)
    for (n, p), (n2, q) in zip(ref.named_parameters(), ours.named_parameters(), strict=True):
        assert n == n2
        torch.testing.assert_close(q, p, rtol=1e-10, atol=1e-10)
    val = evaluate(ours, source)
    assert val == pytest.approx(evaluate(ref, source), rel=1e-10)

    # main.py: torch.save(model, f) after training; torch.load, then flatten_parameters.
    buf = io.BytesIO()
    torch.save(ours, buf)
    buf.seek(0)
    model = torch.load(buf, weights_only=False)
    model.rnn.flatten_parameters()
    assert type(model.rnn) is OURS[rnn_type]
    assert evaluate(model, source) == val

    # State dicts, both ways, strict: the course's into torch's and back.
    fresh_ref, fresh_ours = _pair(rnn_type, dropout=0.0, tie_weights=True)
    fresh_ref.load_state_dict(ours.state_dict())
    fresh_ours.load_state_dict(fresh_ref.state_dict())
    assert evaluate(fresh_ref, source) == pytest.approx(val, rel=1e-10)
    assert evaluate(fresh_ours, source) == val


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU"])
def test_trains_with_dropout(rnn_type):
    """The example's default: dropout 0.5 everywhere, the recurrent module's included
    (masks drawn differently from torch's, so only the loss going down is compared)."""
    _, ours = _pair(rnn_type, dropout=0.5)
    source = torch.randint(0, 10, (41, 4))  # few distinct tokens: learnable in a few steps
    before = evaluate(ours, source)
    train(ours, source, lr=5.0)
    assert evaluate(ours, source) < before
