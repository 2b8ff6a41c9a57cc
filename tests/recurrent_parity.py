"""Checks shared by the LSTM and GRU drop-in tests (test_rnn.py, test_gru.py)."""

import re

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

F64 = torch.float64


def error(match, kind=ValueError):
    """pytest.raises(kind) whose message contains ``match`` literally."""
    return pytest.raises(kind, match=re.escape(match))


# Constructor arguments that torch.nn.LSTM / nn.GRU reject, and the exception type it
# raises: a drop-in must raise the same type (with the course's own message).
BAD_CONSTRUCTOR_ARGS = [
    ((3, 0), {}, ValueError),
    ((0, 4), {}, ValueError),
    ((3.0, 4), {}, TypeError),
    ((3, 4.0), {}, TypeError),
    ((3, 4), {"num_layers": 0}, ValueError),
    ((3, 4), {"num_layers": 1.5}, TypeError),
    ((3, 4), {"num_layers": "2"}, TypeError),
    ((3, 4), {"bias": 1}, TypeError),
    ((3, 4), {"batch_first": "yes"}, TypeError),
    ((3, 4), {"num_layers": 2, "dropout": 1.5}, ValueError),
    ((3, 4), {"num_layers": 2, "dropout": -0.1}, ValueError),
    ((3, 4), {"num_layers": 2, "dropout": True}, ValueError),
    ((3, 4), {"num_layers": 2, "dropout": "0.5"}, ValueError),
]


def assert_same_constructor_errors(ref_cls, our_cls):
    """Every call in BAD_CONSTRUCTOR_ARGS raises the listed type in torch and in ours."""
    for args, kwargs, kind in BAD_CONSTRUCTOR_ARGS:
        for cls in (ref_cls, our_cls):
            with pytest.raises(kind):
                cls(*args, **kwargs)


def assert_same(ref, ours, tol):
    """Two dicts of results: same keys, and every tensor equal in shape and to ``tol``."""
    assert ref.keys() == ours.keys()
    for k in ref:
        assert ref[k].shape == ours[k].shape, k
        torch.testing.assert_close(ours[k], ref[k], atol=tol, rtol=tol, msg=k)


def _states(state):
    return state if isinstance(state, tuple) else (state,)


def assert_packed_parity(ref, ours, enforce_sorted, with_hx, n_states):
    """Both models (2 layers, bidirectional, D = 3, H = 4) on the same packed batch give
    the same packed output, final states and gradients. ``n_states`` is 2 for an LSTM
    (h, c) and 1 for a GRU (h alone, passed and returned as one tensor)."""
    lengths = [4, 6, 1, 4, 2] if not enforce_sorted else [6, 4, 4, 2, 1]  # ties on purpose
    x = torch.randn(6, 5, 3, dtype=F64)
    hx = [torch.randn(4, 5, 4, dtype=F64) for _ in range(n_states)]
    w_out = torch.randn(sum(lengths), 8, dtype=F64)
    w_states = [torch.randn(4, 5, 4, dtype=F64) for _ in range(n_states)]
    names = ["h", "c"][:n_states]
    results = []
    for model in (ref, ours):
        xg = x.clone().requires_grad_()
        hx_g = [a.clone().requires_grad_() for a in hx]
        packed = pack_padded_sequence(xg, lengths, enforce_sorted=enforce_sorted)
        arg = (tuple(hx_g) if n_states > 1 else hx_g[0]) if with_hx else None
        out, state = model(packed, arg)
        states = _states(state)
        assert len(states) == n_states
        assert torch.equal(out.batch_sizes, packed.batch_sizes)
        for a, b in [
            (out.sorted_indices, packed.sorted_indices),
            (out.unsorted_indices, packed.unsorted_indices),
        ]:
            assert (a is None and b is None) or torch.equal(a, b)
        loss = (out.data * w_out).sum() + sum(
            (s * w).sum() for s, w in zip(states, w_states, strict=True)
        )
        loss.backward()
        res = {"output": out.data, "dx": xg.grad}
        res |= {f"{n}_n": s for n, s in zip(names, states, strict=True)}
        if with_hx:
            res |= {f"d{n}0": a.grad for n, a in zip(names, hx_g, strict=True)}
        results.append(res | {n: p.grad for n, p in model.named_parameters()})
        model.zero_grad()
    assert_same(*results, 1e-10)
