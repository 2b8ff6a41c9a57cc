"""An LSTM layer whose backward pass is written by hand (chapter ``03_lstm_backward``'s equations), for speed.

``functional.lstm_layer`` lets autograd differentiate a Python loop: every step records a
dozen graph nodes, and the backward pass replays them one by one. Chapter ``06_lstm_speed`` measures
what that bookkeeping costs. Here the whole time loop is one ``autograd.Function``:

- the forward loop runs without recording anything and writes every step's gates and
  cell state into preallocated (T, B, .) buffers;
- the backward pass first computes, for all T steps at once, every factor that does
  not depend on the recursion (the gates' local derivatives, chapter ``03_lstm_backward``), so that the
  loop over time is left with four elementwise operations and one matrix product per step;
- the recurrent weight gradient is one (4H, T*B) @ (T*B, H) product after the loop,
  not T small ones inside it.

Shapes: T steps, B batch, H hidden size; gate order i, f, g, o as in ``torch.nn.LSTM``.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "lstm_loop",
]


class _LSTMLoop(torch.autograd.Function):
    """(x_proj, h0, c0, weight_hh) -> (h for every step, h_T, c_T); see :func:`lstm_loop`."""

    @staticmethod
    def forward(ctx, x_proj: Tensor, h0: Tensor, c0: Tensor, weight_hh: Tensor):
        T, B, four_h = x_proj.shape
        H = four_h // 4
        gates = torch.empty_like(x_proj)  # after the activations: i, f, g, o
        cells = x_proj.new_empty(T, B, H)
        tanh_cells = torch.empty_like(cells)
        hs = torch.empty_like(cells)
        # Views made in bulk before the loop: creating them step by step costs as much
        # as the small elementwise kernels themselves.
        quads = gates.view(T, B, 4, H)
        i_s, f_s, g_s, o_s = (v.unbind(0) for v in quads.unbind(2))
        ifs, os_ = gates[..., : 2 * H].unbind(0), gates[..., 3 * H :].unbind(0)
        w_t = weight_hh.t()
        h, c = h0, c0
        steps = zip(
            gates.unbind(0),
            x_proj.unbind(0),
            cells.unbind(0),
            tanh_cells.unbind(0),
            hs.unbind(0),
            strict=True,
        )
        for t, (a, x_t, c_t, tc_t, h_t) in enumerate(steps):
            torch.addmm(x_t, h, w_t, out=a)
            ifs[t].sigmoid_()
            os_[t].sigmoid_()
            g_s[t].tanh_()
            torch.mul(f_s[t], c, out=c_t).addcmul_(i_s[t], g_s[t])
            torch.tanh(c_t, out=tc_t)
            torch.mul(o_s[t], tc_t, out=h_t)
            h, c = h_t, c_t
        ctx.save_for_backward(gates, cells, tanh_cells, hs, h0, c0, weight_hh)
        # h_T and c_T are copies: an autograd.Function may not return views of its outputs.
        return hs, hs[-1].clone(), cells[-1].clone()

    @staticmethod
    def backward(ctx, d_hs: Tensor | None, d_h_last: Tensor | None, d_c_last: Tensor | None):
        gates, cells, tanh_cells, hs, h0, c0, weight_hh = ctx.saved_tensors
        T, B, four_h = gates.shape
        H = four_h // 4
        i, f, g, o = gates.view(T, B, 4, H).unbind(2)
        c_prev = torch.cat([c0[None], cells[:-1]])
        # Everything that does not depend on the recursion, for all T steps at once:
        # d a_i = dc * g * i(1-i), d a_f = dc * c_{t-1} * f(1-f), d a_g = dc * i(1-g^2),
        # d a_o = dh * tanh(c) * o(1-o), and dc gets dh * o(1-tanh^2 c) from h.
        by_dc = torch.stack([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g)], 2)
        by_dh = tanh_cells * o * (1 - o)
        dh_to_dc = o * (1 - tanh_cells * tanh_cells)
        forget = f.contiguous()
        d_hs = torch.zeros_like(hs) if d_hs is None else d_hs.contiguous()
        d_gates = torch.empty_like(gates)
        d_quads = d_gates.view(T, B, 4, H)
        dh = d_hs[T - 1].clone()
        if d_h_last is not None:
            dh += d_h_last
        dc = torch.zeros_like(c0) if d_c_last is None else d_c_last.clone()
        for t in range(T - 1, -1, -1):
            dc.addcmul_(dh, dh_to_dc[t])
            torch.mul(by_dc[t], dc.unsqueeze(1), out=d_quads[t, :, :3])
            torch.mul(dh, by_dh[t], out=d_quads[t, :, 3])
            dc.mul_(forget[t])
            # dh for the step before: its own output's gradient plus what flows back
            # through W_hh, in one kernel.
            dh = torch.addmm(d_hs[t - 1], d_gates[t], weight_hh) if t else d_gates[0] @ weight_hh
        h_prev = torch.cat([h0[None], hs[:-1]])
        d_weight_hh = d_gates.view(T * B, four_h).t() @ h_prev.view(T * B, H)
        return d_gates, dh, dc, d_weight_hh


def lstm_loop(
    x_proj: Tensor, h0: Tensor, c0: Tensor, weight_hh: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """The LSTM's time loop with a handwritten backward pass.

    Args:
        x_proj: x W_ih^T + b_ih + b_hh for every step, (T, B, 4H), computed before the
            loop (autograd differentiates that part as usual).
        h0, c0: the initial state, each (B, H).
        weight_hh: (4H, H).

    Returns:
        ``(hs, h_T, c_T)``: hs (T, B, H) holds h after every step; h_T, c_T are (B, H).
        Gradients flow to all four arguments (checked against autograd in float64 by
        ``tests/test_handwritten_backward.py``). Twice-differentiating is not supported.
    """
    if x_proj.dim() != 3 or x_proj.shape[-1] % 4:
        raise ValueError(f"x_proj must be (T, B, 4H), got shape {tuple(x_proj.shape)}")
    T, B, four_h = x_proj.shape
    H = four_h // 4
    for name, s in (("h0", h0), ("c0", c0)):
        if s.shape != (B, H):
            raise ValueError(
                f"{name} must be (B, H) = {(B, H)} to match x_proj "
                f"{tuple(x_proj.shape)}, got {tuple(s.shape)}"
            )
    if weight_hh.shape != (four_h, H):
        raise ValueError(f"weight_hh must be (4H, H) = {(four_h, H)}, got {tuple(weight_hh.shape)}")
    if T == 0:
        raise ValueError("x_proj has no time steps (T = 0)")
    return _LSTMLoop.apply(x_proj.contiguous(), h0.contiguous(), c0.contiguous(), weight_hh)
