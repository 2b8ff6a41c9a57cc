import numpy as np
import pytest

from lstm_course.scratch.gradcheck import (
    check_gradients,
    errors_below,
    numerical_gradient,
    relative_error,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --- numerical_gradient on functions whose gradient is known -------------------------------


def test_quadratic(rng):
    # f(x) = 1/2 x^T A x + b^T x has gradient (A + A^T) / 2 x + b; central differences are
    # exact for a quadratic up to rounding.
    A, b, x = rng.standard_normal((5, 5)), rng.standard_normal(5), rng.standard_normal(5)
    grad = numerical_gradient(lambda: 0.5 * x @ A @ x + b @ x, x)
    assert relative_error(grad, 0.5 * (A + A.T) @ x + b) < 1e-9


def test_sin_elementwise_any_shape(rng):
    x = rng.standard_normal((3, 4, 2))
    w = rng.standard_normal(x.shape)
    grad = numerical_gradient(lambda: np.sum(w * np.sin(x)), x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    assert relative_error(grad, w * np.cos(x)) < 1e-9


def test_matrix_product(rng):
    # L = sum(G * (W @ X)) has dL/dW = G X^T and dL/dX = W^T G.
    W, X, G = rng.standard_normal((4, 3)), rng.standard_normal((3, 6)), rng.standard_normal((4, 6))
    loss = lambda: np.sum(G * (W @ X))  # noqa: E731
    assert relative_error(numerical_gradient(loss, W), G @ X.T) < 1e-9
    assert relative_error(numerical_gradient(loss, X), W.T @ G) < 1e-9


def test_scalar_array_and_size_one_return(rng):
    x = np.array(0.3)
    assert np.isclose(numerical_gradient(lambda: np.exp(x), x), np.exp(0.3), rtol=1e-9)
    y = np.array([2.0])
    assert np.isclose(numerical_gradient(lambda: y**3, y)[0], 12.0, rtol=1e-9)


def test_perturbs_a_view_in_place(rng):
    # A view (here every other column) is perturbed through its base array, which f reads.
    base = rng.standard_normal((3, 6))
    view = base[:, ::2]
    grad = numerical_gradient(lambda: np.sum(base**2), view)
    assert relative_error(grad, 2 * view) < 1e-9


def test_eps_too_large_is_visibly_wrong():
    # Truncation error is of order eps^2 f''': with eps = 0.5 the estimate of cos is off.
    x = np.array([1.0])
    assert relative_error(numerical_gradient(lambda: np.sin(x).sum(), x, eps=0.5), np.cos(x)) > 1e-3


# --- restoring x ------------------------------------------------------------------------


def test_restores_x_bit_for_bit(rng):
    x = rng.standard_normal((4, 3)) * 1e3  # large values, where old + eps - eps != old
    before = x.copy()
    numerical_gradient(lambda: np.sum(np.tanh(x)), x, eps=1e-6)
    assert np.array_equal(x, before)


def test_restores_x_when_f_raises(rng):
    x = rng.standard_normal(4)
    before = x.copy()
    calls = []

    def f():
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return np.sum(x)

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert np.array_equal(x, before)


def test_f_sees_the_perturbation(rng):
    # f reading a copy would see no change and get a zero gradient: the values f sees
    # must be x + eps and x - eps.
    x = np.array([1.0, 2.0])
    seen = []
    numerical_gradient(lambda: seen.append(x.copy()) or 0.0, x, eps=0.25)
    assert np.allclose(seen, [[1.25, 2], [0.75, 2], [1, 2.25], [1, 1.75]])


# --- bad inputs ------------------------------------------------------------------------------


def test_rejects_float32():
    x = np.ones(3, dtype=np.float32)
    with pytest.raises(ValueError, match=r"float32.*float64"):
        numerical_gradient(lambda: np.sum(x**2), x)


def test_rejects_non_float64_arrays():
    with pytest.raises(ValueError, match="x has dtype int64, but finite differences need float64"):
        numerical_gradient(lambda: 0.0, np.arange(3, dtype=np.int64))


@pytest.mark.parametrize("x", [[1.0, 2.0], 1.0])
def test_rejects_what_is_no_array(x):
    with pytest.raises(TypeError, match=f"x must be a NumPy array .*, got {type(x).__name__}"):
        numerical_gradient(lambda: 0.0, x)


def test_rejects_read_only():
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        numerical_gradient(lambda: np.sum(x), x)


@pytest.mark.parametrize(
    "eps, error",
    [
        (0, ValueError),
        (-1e-6, ValueError),
        (np.inf, ValueError),
        (np.nan, ValueError),
        ("1e-6", TypeError),
    ],
)
def test_rejects_bad_eps(eps, error):
    x = np.ones(2)
    with pytest.raises(error, match="eps must be a finite number > 0, got"):
        numerical_gradient(lambda: np.sum(x), x, eps=eps)


def test_rejects_non_scalar_loss():
    x = np.ones(2)
    with pytest.raises(ValueError, match=r"scalar.*\(2,\)"):
        numerical_gradient(lambda: x * 2, x)


def test_rejects_non_finite_loss():
    x = np.zeros(2)
    with pytest.raises(ValueError, match="finite"):
        numerical_gradient(lambda: np.sum(x) + np.nan, x)
    assert np.array_equal(x, np.zeros(2))


# --- relative_error ---------------------------------------------------------------------------


def test_relative_error_values():
    a = np.array([1.0, -2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, np.zeros(3)) == 1.0
    assert relative_error(a, -a) == 1.0
    # max |a - b| = 0.03, max (|a| + |b|) = 6.03
    assert np.isclose(relative_error(a, a + [0, 0, 0.03]), 0.03 / 6.03)
    assert relative_error(np.empty(0), np.empty(0)) == 0.0


def test_relative_error_is_scale_invariant_and_symmetric(rng):
    a, b = rng.standard_normal(10), rng.standard_normal(10)
    assert np.isclose(relative_error(1e-8 * a, 1e-8 * b), relative_error(a, b))
    assert relative_error(a, b) == relative_error(b, a)
    assert 0 <= relative_error(a, b) <= 1


def test_relative_error_not_fooled_by_tiny_entries():
    # Entry by entry the second pair differs by 100%, but it is 1e-12 of the gradient.
    a, b = np.array([1.0, 1e-12]), np.array([1.0, 2e-12])
    assert relative_error(a, b) < 1e-12


def test_relative_error_shape_mismatch():
    with pytest.raises(ValueError, match=r"\(3,\) and \(1, 3\)"):
        relative_error(np.ones(3), np.ones((1, 3)))


# --- check_gradients -----------------------------------------------------------------------


def _problem(rng):
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    loss = lambda: np.sum(np.tanh(W @ x))  # noqa: E731
    s = 1 - np.tanh(W @ x) ** 2
    return loss, {"W": W, "x": x}, {"W": np.outer(s, x), "x": W.T @ s}


def test_check_gradients_passes_a_right_gradient(rng):
    loss, arrays, analytic = _problem(rng)
    errors = check_gradients(loss, arrays, analytic)
    assert list(errors) == ["W", "x"]
    assert all(err < 1e-9 for err in errors.values()), errors
    assert errors_below(errors, what="f") == "f: both relative errors below 1e-7 (W, x)"


def test_check_gradients_detects_a_wrong_gradient(rng):
    loss, arrays, analytic = _problem(rng)
    # A typical slip: forgetting the tanh derivative in one of the gradients.
    analytic["x"] = arrays["W"].T @ np.ones(3)
    errors = check_gradients(loss, arrays, analytic)
    assert errors["W"] < 1e-9 and errors["x"] > 1e-3
    with pytest.raises(AssertionError, match=r"f: 1 of 2 relative errors not below 1e-7") as missed:
        errors_below(errors, what="f")
    assert [line.endswith("NOT below") for line in str(missed.value).splitlines()[1:]] == [
        False,
        True,
    ]
    # A transposed gradient of a square array has the right shape but is wrong.
    A = rng.standard_normal((3, 3))
    v = rng.standard_normal(3)
    errors = check_gradients(lambda: v @ A @ v[::-1], {"A": A}, {"A": np.outer(v[::-1], v)})
    assert errors["A"] > 1e-3


def test_check_gradients_restores_arrays(rng):
    loss, arrays, analytic = _problem(rng)
    before = {k: v.copy() for k, v in arrays.items()}
    check_gradients(loss, arrays, analytic)
    assert all(np.array_equal(arrays[k], before[k]) for k in arrays)


def test_check_gradients_bad_inputs(rng):
    loss, arrays, analytic = _problem(rng)
    with pytest.raises(ValueError, match=r"only in arrays \['x'\]"):
        check_gradients(loss, arrays, {"W": analytic["W"]})
    with pytest.raises(ValueError, match=r"analytic\['x'\] has shape \(1, 4\)"):
        check_gradients(loss, arrays, {**analytic, "x": analytic["x"][None]})
    with pytest.raises(ValueError, match=r"arrays\['W'\].*float32"):
        check_gradients(loss, {**arrays, "W": arrays["W"].astype(np.float32)}, analytic)


def test_errors_below_is_the_same_text_wherever_the_check_holds():
    # Only the bar is printed, never the error's digits, so nbval can compare the cell.
    assert errors_below({"a": 3e-13}, 1e-12, "a") == errors_below({"a": 9.9e-13}, 1e-12, "a")
    assert errors_below({"a": 0.0}, 1e-12, "a") == "a: relative error below 1e-12 (a)"


def test_errors_below_rejects_empty():
    with pytest.raises(ValueError, match="empty"):
        errors_below({})


# --- errors_below --------------------------------------------------------------------------


def test_errors_below_says_it_in_one_sentence(rng):
    loss, arrays, analytic = _problem(rng)
    errors = check_gradients(loss, arrays, analytic)
    assert errors_below(errors, 1e-7, "tanh layer against finite differences") == (
        "tanh layer against finite differences: both relative errors below 1e-7 (W, x)"
    )
    assert errors_below({"a": 1e-9}, bar=2.5e-7, what="a") == ("a: relative error below 2.5e-7 (a)")
    # Only the bar is shown, never the errors' digits, so nbval can compare the cell.
    many = {f"w{i}": 0.0 for i in range(3)}
    assert errors_below(many, 1e-12, "w") == errors_below({k: 9.9e-13 for k in many}, 1e-12, "w")
    assert errors_below(many, 1e-12, "w") == "w: all 3 relative errors below 1e-12 (w0, w1, w2)"
    assert not any(word in errors_below(many, 1e-12, "w") for word in ("PASS", "FAIL"))


def test_errors_below_wraps_without_splitting_a_name():
    names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "x (grad)", "h0 (grad)", "c0 (grad)"]
    text = errors_below(dict.fromkeys(names, 0.0), 1e-12, "ours against nn.LSTM", width=50)
    lines = text.splitlines()
    assert len(lines) > 1 and all(len(line) <= 50 for line in lines)
    assert all(line.startswith("  ") for line in lines[1:])
    assert all(name in " ".join(lines) for name in names), text
    assert " ".join(line.strip() for line in lines) == (
        "ours against nn.LSTM: all 7 relative errors below 1e-12 "
        "(weight_ih, weight_hh, bias_ih, bias_hh, x (grad), h0 (grad), c0 (grad))"
    )


def test_errors_below_raises_with_every_error_when_one_misses(rng):
    loss, arrays, analytic = _problem(rng)
    analytic["x"] = arrays["W"].T @ np.ones(3)  # the tanh derivative forgotten
    errors = check_gradients(loss, arrays, analytic)
    with pytest.raises(AssertionError, match=r"^tanh layer: 1 of 2 relative errors not below 1e-7"):
        errors_below(errors, 1e-7, "tanh layer")
    with pytest.raises(AssertionError) as raised:
        errors_below({"h0": 0.0, "x (grad)": 1e-7, "c0": float("nan")}, 1e-7, "state")
    lines = str(raised.value).splitlines()
    assert lines[0] == "state: 2 of 3 relative errors not below 1e-7:"
    assert lines[1].split() == ["h0", "0.00e+00"]
    # The bar itself is not below the bar, and a NaN never is.
    assert lines[2].endswith("1.00e-07  NOT below") and lines[2].strip().startswith("x (grad)")
    assert lines[3].endswith("nan  NOT below")


@pytest.mark.parametrize(
    "errors, bar, what, error",
    [
        ({}, 1e-7, "w", ValueError),
        ({"a": 0.0}, 0.0, "w", ValueError),
        ({"a": 0.0}, float("nan"), "w", ValueError),
        ({"a": 0.0}, 1e-7, "", TypeError),
        ({"a": 0.0}, 1e-7, None, TypeError),
    ],
)
def test_errors_below_rejects_bad_arguments(errors, bar, what, error):
    with pytest.raises(error):
        errors_below(errors, bar, what)


def test_errors_below_rejects_a_narrow_width():
    with pytest.raises(ValueError, match="width"):
        errors_below({"a": 0.0}, 1e-7, "w", width=5)
