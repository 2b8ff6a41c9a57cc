"""minGRU and minLSTM (Feng et al. 2024, references.bib: feng2024minlstm), each computed two
ways: a loop over time, and a parallel scan in log space.

Chapter ``15_where_lstms_stand`` builds them. Both cells drop ``h_{t-1}`` from their gates, so the recurrence
becomes linear in the state,

    h_t = a_t * h_{t-1} + b_t,        a_t, b_t computed from x_t alone,

and the T states can be computed with cumulative sums instead of a loop:

    log h_t = A_t + logcumsumexp_k(log b_k - A_k),   A_t = sum_{j <= t} log a_j,

with k running over 0..t and b_0 = h_0, A_0 = 0 (the paper's ``parallel_scan_log``). In log
space this needs b_t > 0 and h_0 > 0, which is why the candidate goes through
``g(x) = x + 1/2 for x >= 0, sigmoid(x) for x < 0`` instead of nothing or tanh.

Shapes as in the rest of the course: x (T, B, D), states (B, H), outputs (T, B, H).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstm_course.checks import check_int

__all__ = ["g", "log_g", "scan_loop", "scan_log", "scan_doubling", "MinGRU", "MinLSTM"]


def g(x: Tensor) -> Tensor:
    """The candidate's activation: x + 1/2 for x >= 0, sigmoid(x) below. Always positive
    (so its log exists), continuous (both sides give 1/2 at 0), and linear for x >= 0."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    """log g(x), computed without forming g(x) for very negative x (log sigmoid there)."""
    # relu inside the log keeps the branch not taken finite, so its gradient is not NaN.
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), F.logsigmoid(x))


def _check_sequence(name: str, a: Tensor, b: Tensor, h0: Tensor | None) -> None:
    if a.dim() != 3 or a.shape != b.shape:
        raise ValueError(
            f"{name}: the coefficients and values must both be (T, B, H) with "
            f"the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.shape[0] < 1:
        raise ValueError(f"{name}: the sequence is empty (T = 0); pass at least one step")
    if h0 is not None and h0.shape != a.shape[1:]:
        raise ValueError(f"{name}: h0 must be (B, H) = {tuple(a.shape[1:])}, got {tuple(h0.shape)}")


def scan_loop(a: Tensor, b: Tensor, h0: Tensor | None = None) -> Tensor:
    """h_t = a_t * h_{t-1} + b_t for t = 1..T, one step after another (T sequential steps).

    Args:
        a, b: (T, B, H). h0: (B, H), zeros when None.

    Returns:
        (T, B, H), the states h_1 .. h_T.
    """
    _check_sequence("scan_loop", a, b, h0)
    h = torch.zeros_like(b[0]) if h0 is None else h0
    out = []
    for a_t, b_t in zip(a.unbind(0), b.unbind(0), strict=True):
        h = a_t * h + b_t
        out.append(h)
    return torch.stack(out)


def scan_log(log_a: Tensor, log_b: Tensor, log_h0: Tensor | None = None) -> Tensor:
    """The same recurrence from the logs of its (positive) terms, with no loop over time.

    Args:
        log_a: (T, B, H), log a_t (a_t in (0, 1] for a forgetting recurrence).
        log_b: (T, B, H), log b_t; b_t must be > 0.
        log_h0: (B, H), log h_0 (h_0 > 0), or None for h_0 = 0.

    Returns:
        (T, B, H), the states h_1 .. h_T.
    """
    _check_sequence("scan_log", log_a, log_b, log_h0)
    if log_h0 is not None:  # h_0 is the value of a step 0 whose coefficient is 1
        log_a = torch.cat([torch.zeros_like(log_h0)[None], log_a])
        log_b = torch.cat([log_h0[None], log_b])
    a_star = torch.cumsum(log_a, dim=0)  # log of a_1 a_2 ... a_t
    log_h = a_star + torch.logcumsumexp(log_b - a_star, dim=0)
    h = torch.exp(log_h)
    return h if log_h0 is None else h[1:]


def scan_doubling(a: Tensor, b: Tensor, h0: Tensor | None = None) -> tuple[Tensor, int]:
    """The same recurrence by recursive doubling (Hillis and Steele's scan), any signs.

    Step t is the affine map h -> a_t h + b_t; maps compose associatively,
    (a2, b2) after (a1, b1) = (a2 a1, a2 b1 + b2). Round r composes every prefix with the
    one 2^r steps before it, so after ceil(log2 T) rounds each position holds the map
    from h_0 to h_t. Each round is one elementwise operation over all T positions at once.

    Returns:
        ``(h, rounds)``: h (T, B, H) the states h_1 .. h_T; rounds, the number of
        sequential rounds, ceil(log2 T).
    """
    _check_sequence("scan_doubling", a, b, h0)
    A, Bv, T, shift, rounds = a, b, a.shape[0], 1, 0
    while shift < T:
        # Positions < shift have no partner yet: identity map (1, 0) in front of them.
        A_prev = torch.cat([torch.ones_like(A[:shift]), A[:-shift]])
        B_prev = torch.cat([torch.zeros_like(Bv[:shift]), Bv[:-shift]])
        A, Bv = A * A_prev, A * B_prev + Bv
        shift, rounds = 2 * shift, rounds + 1
    assert rounds == math.ceil(math.log2(T)) if T > 1 else rounds == 0
    return (Bv if h0 is None else A * h0 + Bv), rounds


class _MinimalRNN(nn.Module):
    """What minGRU and minLSTM share: one Linear layer for all gates, input checks."""

    num_blocks = 2

    def __init__(self, input_size: int, hidden_size: int, device=None, dtype=None):
        super().__init__()
        self.input_size = check_int("input_size", input_size)
        self.hidden_size = check_int("hidden_size", hidden_size)
        self.linear = nn.Linear(
            self.input_size, self.num_blocks * self.hidden_size, device=device, dtype=dtype
        )

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"

    def _project(self, x: Tensor, h0: Tensor | None) -> tuple[Tensor, ...]:
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"x must be (T, B, D) with D = input_size = {self.input_size}, "
                f"got shape {tuple(x.shape)}"
            )
        if h0 is not None and (
            h0.shape != (x.shape[1], self.hidden_size) or not bool((h0 > 0).all())
        ):
            raise ValueError(
                f"h0 must be (B, H) = ({x.shape[1]}, {self.hidden_size}) with "
                "every entry > 0 (the log-space scan takes its log; g(.) of "
                "anything is a valid choice), or None for zeros"
            )
        return self.linear(x).chunk(self.num_blocks, dim=-1)

    def forward(
        self, x: Tensor, h0: Tensor | None = None, parallel: bool = True
    ) -> tuple[Tensor, Tensor]:
        """Run over a sequence.

        Args:
            x: (T, B, D). h0: (B, H) with positive entries, or None for zeros.
            parallel: True for the log-space scan, False for the loop over time.

        Returns:
            ``(output, h_T)``: output (T, B, H), the states h_1 .. h_T; h_T (B, H).
        """
        parts = self._project(x, h0)
        if parallel:
            log_a, log_b = self._log_terms(*parts)
            out = scan_log(log_a, log_b, None if h0 is None else torch.log(h0))
        else:
            out = scan_loop(*self._terms(*parts), h0)
        return out, out[-1]


class MinGRU(_MinimalRNN):
    """minGRU: z_t = sigmoid(W_z x_t + b_z), h~_t = g(W_h x_t + b_h),
    h_t = (1 - z_t) * h_{t-1} + z_t * h~_t. Parameters: ``linear``, (2H, D) and (2H,)."""

    num_blocks = 2

    def _terms(self, k, pre):
        z = torch.sigmoid(k)
        return 1 - z, z * g(pre)

    def _log_terms(self, k, pre):
        # log(1 - sigmoid(k)) = log sigmoid(-k). logsigmoid, not -softplus(-k): softplus
        # switches to the identity above 20, an error of e^-20 ~ 2e-9 in float64.
        return F.logsigmoid(-k), F.logsigmoid(k) + log_g(pre)


class MinLSTM(_MinimalRNN):
    """minLSTM: f_t = sigmoid(W_f x_t + b_f), i_t = sigmoid(W_i x_t + b_i), normalized to
    f'_t = f_t / (f_t + i_t), i'_t = i_t / (f_t + i_t); h~_t = g(W_h x_t + b_h);
    h_t = f'_t * h_{t-1} + i'_t * h~_t. Parameters: ``linear``, (3H, D) and (3H,), blocks
    f, i, h~."""

    num_blocks = 3

    def _terms(self, kf, ki, pre):
        f, i = torch.sigmoid(kf), torch.sigmoid(ki)
        return f / (f + i), i / (f + i) * g(pre)

    def _log_terms(self, kf, ki, pre):
        # log(i/f) = log sigmoid(ki) - log sigmoid(kf) = d, so f' = sigmoid(-d), i' = sigmoid(d).
        d = F.logsigmoid(ki) - F.logsigmoid(kf)
        return F.logsigmoid(-d), F.logsigmoid(d) + log_g(pre)
