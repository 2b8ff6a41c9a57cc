import math

import pytest
import torch
from torch import nn

from lstm_course.layers import LSTM
from lstm_course.layers.cells import NoForgetGateLSTMCell
from lstm_course.layers.initialization import (
    PINNED_FORGET_BIAS,
    chrono_gru_init_,
    chrono_init_,
    orthogonal_recurrent_,
    remove_forget_gate_,
    set_forget_bias_,
    set_gate_bias_,
)

H = 5


def _blocks(t):
    return t.chunk(4)  # PyTorch's order: i, f, g, o


@pytest.mark.parametrize("cls", [nn.LSTM, LSTM])
def test_set_forget_bias_every_layer_and_direction(cls):
    lstm = cls(3, H, num_layers=2, bidirectional=True)
    set_forget_bias_(lstm, 2.5)
    for name, p in lstm.named_parameters():
        if name.startswith("bias_ih"):
            assert torch.all(_blocks(p)[1] == 2.5)
        if name.startswith("bias_hh"):
            assert torch.all(_blocks(p)[1] == 0)


def test_chrono_init_range_and_input_gate():
    torch.manual_seed(0)
    lstm = chrono_init_(nn.LSTM(2, 1000), max_lag=200, generator=torch.Generator().manual_seed(1))
    b_i, b_f, _, _ = _blocks(lstm.bias_ih_l0.detach())
    assert torch.all(b_f >= 0) and torch.all(b_f <= math.log(199) + 1e-6)
    assert torch.equal(b_i, -b_f)
    assert torch.all(lstm.bias_hh_l0[: 2 * 1000] == 0)
    # log u with u uniform on [1, 199]: the median of u is 100.
    assert abs(torch.exp(b_f).median().item() - 100) < 10


def test_chrono_init_is_seeded():
    a = chrono_init_(nn.LSTM(2, H), 50, torch.Generator().manual_seed(3)).bias_ih_l0
    b = chrono_init_(nn.LSTM(2, H), 50, torch.Generator().manual_seed(3)).bias_ih_l0
    assert torch.equal(a[: 2 * H], b[: 2 * H])


def test_removed_forget_gate_is_the_1997_cell_and_stays_pinned():
    """nn.LSTM with its forget gate pinned computes NoForgetGateLSTMCell's update (c only
    adds), in float64, and a few Adam steps leave the pinned rows as they were."""
    torch.manual_seed(0)
    lstm = remove_forget_gate_(nn.LSTM(3, H, batch_first=True).double())
    cell = NoForgetGateLSTMCell(3, H).double()
    keep = torch.cat([torch.arange(0, H), torch.arange(2 * H, 4 * H)])  # rows i, g, o
    with torch.no_grad():
        cell.weight_ih.copy_(lstm.weight_ih_l0[keep])
        cell.weight_hh.copy_(lstm.weight_hh_l0[keep])
        cell.bias_ih.copy_(lstm.bias_ih_l0[keep])
        cell.bias_hh.copy_(lstm.bias_hh_l0[keep])
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    out, (h_n, c_n) = lstm(x)
    h = c = torch.zeros(2, H, dtype=torch.float64)
    for t in range(7):
        h, c = cell(x[:, t], (h, c))
    torch.testing.assert_close(out[:, -1], h)
    torch.testing.assert_close(c_n[0], c)

    lstm = remove_forget_gate_(nn.LSTM(3, H, batch_first=True))  # float32, as trained
    before = {n: p.detach().clone() for n, p in lstm.named_parameters()}
    optimizer = torch.optim.Adam(lstm.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        lstm(torch.randn(4, 6, 3))[0].pow(2).sum().backward()
        optimizer.step()
    for name, p in lstm.named_parameters():
        forget = _blocks(p)[1]
        assert torch.equal(forget, _blocks(before[name])[1]), name
        assert not torch.equal(p, before[name]), f"{name}: the other gates should train"
    assert torch.all(_blocks(lstm.bias_ih_l0)[1] == PINNED_FORGET_BIAS)


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU])
def test_lstm_initializations_reject_other_layers(cls):
    with pytest.raises(ValueError, match="LSTM"):
        set_forget_bias_(cls(2, H), 1.0)


def test_chrono_rejects_short_lag():
    with pytest.raises(ValueError, match="max_lag"):
        chrono_init_(nn.LSTM(2, H), 2)


def test_orthogonal_recurrent():
    rnn = orthogonal_recurrent_(nn.RNN(2, 8, num_layers=2))
    for k in range(2):
        w = getattr(rnn, f"weight_hh_l{k}").detach()
        torch.testing.assert_close(w @ w.T, torch.eye(8), atol=1e-5, rtol=0)
        assert torch.all(getattr(rnn, f"bias_ih_l{k}") == 0)
    with pytest.raises(ValueError, match="gain"):
        orthogonal_recurrent_(nn.RNN(2, 8), gain=0.0)
    with pytest.raises(ValueError, match="bias=True"):
        set_forget_bias_(nn.LSTM(2, 3, bias=False), 1.0)


def test_set_gate_bias_and_chrono_forget_half():
    lstm = set_gate_bias_(nn.LSTM(2, H), "i", -3.0)
    assert torch.all(_blocks(lstm.bias_ih_l0)[0] == -3) and torch.all(
        _blocks(lstm.bias_hh_l0)[0] == 0
    )
    with pytest.raises(ValueError, match="gate"):
        set_gate_bias_(lstm, "z", 1.0)
    torch.manual_seed(0)
    lstm = nn.LSTM(2, H)
    before = _blocks(lstm.bias_ih_l0.detach().clone())[0]
    chrono_init_(lstm, 100, torch.Generator().manual_seed(0), input_gate=False)
    assert torch.equal(_blocks(lstm.bias_ih_l0.detach())[0], before)
    assert torch.all(_blocks(lstm.bias_ih_l0.detach())[1] >= 0)


def test_chrono_gru_init():
    gru = chrono_gru_init_(nn.GRU(2, 1000), 200, torch.Generator().manual_seed(0))
    b_r, b_z, b_n = gru.bias_ih_l0.detach().chunk(3)
    assert torch.all(b_z >= 0) and torch.all(b_z <= math.log(199) + 1e-6)
    assert torch.all(gru.bias_hh_l0.detach().chunk(3)[1] == 0)
    with pytest.raises(ValueError, match="GRU"):
        chrono_gru_init_(nn.LSTM(2, 3), 50)
