import pytest
import torch

from lstm_course.layers.functional import lstm_layer
from lstm_course.layers.handwritten_backward import lstm_loop
from lstm_course.layers.rnn import LSTM

F64 = torch.float64


def _inputs(T=4, B=3, H=2, seed=0, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(*s, generator=g, dtype=dtype).requires_grad_()
        for s in ((T, B, 4 * H), (B, H), (B, H), (4 * H, H))
    ]


def test_gradcheck_in_float64():
    assert torch.autograd.gradcheck(lstm_loop, _inputs())


@pytest.mark.parametrize("T, B, H", [(1, 1, 1), (6, 2, 3)])
def test_matches_autograd_through_the_plain_loop(T, B, H):
    x_proj, h0, c0, w_hh = _inputs(T, B, H, seed=T)
    hs, h, c = lstm_loop(x_proj, h0, c0, w_hh)
    # The autograd version: lstm_layer with an identity input projection.
    eye = torch.eye(4 * H, dtype=F64)
    ref_hs, (ref_h, ref_c) = lstm_layer(x_proj, h0, c0, eye, w_hh)
    weights = [torch.randn_like(a) for a in (hs, h, c)]
    args = (x_proj, h0, c0, w_hh)
    ours = torch.autograd.grad(
        sum((a * w).sum() for a, w in zip((hs, h, c), weights, strict=True)), args
    )
    ref = torch.autograd.grad(
        sum((a * w).sum() for a, w in zip((ref_hs, ref_h, ref_c), weights, strict=True)), args
    )
    for a, b in zip((hs, h, c), (ref_hs, ref_h, ref_c), strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-12)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("used", ["hs", "h", "c"])
def test_gradients_when_only_one_output_is_used(used):
    args = _inputs(seed=3)
    out = dict(zip(("hs", "h", "c"), lstm_loop(*args), strict=True))
    grads = torch.autograd.grad(out[used].sum(), args)
    x_proj, h0, c0, w_hh = args
    ref_out = dict(
        zip(
            ("hs", "h", "c"),
            (lambda r: (r[0], *r[1]))(
                lstm_layer(x_proj, h0, c0, torch.eye(x_proj.shape[-1], dtype=F64), w_hh)
            ),
            strict=True,
        )
    )
    ref = torch.autograd.grad(ref_out[used].sum(), args)
    for a, b in zip(grads, ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-12)


def test_outputs_are_not_views_of_each_other():
    hs, h, c = lstm_loop(*[a.detach() for a in _inputs()])
    h += 1
    assert not torch.equal(hs[-1], h)


def test_module_with_handwritten_backward_trains_like_autograd_in_float32():
    torch.manual_seed(0)
    a = LSTM(3, 5, num_layers=2, bidirectional=True)
    b = LSTM(3, 5, num_layers=2, bidirectional=True, handwritten_backward=True)
    b.load_state_dict(a.state_dict())
    x = torch.randn(7, 4, 3)
    for model in (a, b):
        model(x)[0].pow(2).sum().backward()
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, atol=1e-5, rtol=1e-4, msg=name)
    assert "handwritten_backward=True" in repr(b)


@pytest.mark.parametrize(
    "shapes, match",
    [
        (((4, 3, 7), (3, 2), (3, 2), (8, 2)), "x_proj must be"),
        (((4, 3, 8), (2, 2), (3, 2), (8, 2)), "h0 must be"),
        (((4, 3, 8), (3, 2), (3, 3), (8, 2)), "c0 must be"),
        (((4, 3, 8), (3, 2), (3, 2), (8, 3)), "weight_hh must be"),
        (((0, 3, 8), (3, 2), (3, 2), (8, 2)), "no time steps"),
    ],
)
def test_clear_errors(shapes, match):
    with pytest.raises(ValueError, match=match):
        lstm_loop(*[torch.zeros(s) for s in shapes])


def test_constructor_flag_is_checked():
    with pytest.raises(TypeError, match="handwritten_backward must be True or False, got 'yes'"):
        LSTM(2, 3, handwritten_backward="yes")
