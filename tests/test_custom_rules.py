"""adjit.custom_vjp and adjit.custom_jvp: a user's derivative rule replaces the derived one
wherever the helper is inlined (issue 13)."""
import math

import numpy as np
import pytest

import adjit


# ---- custom_vjp: a numerically stable log(1 + e^x) -------------------------------------------
@adjit.custom_vjp
def log1pexp(x):
    return math.log1p(math.exp(x)) if x < 30.0 else x + math.log1p(math.exp(-x))


def log1pexp_fwd(x):
    return log1pexp(x), x


def log1pexp_bwd(x, g):
    return (g / (1.0 + math.exp(-x)),)


log1pexp.defvjp(log1pexp_fwd, log1pexp_bwd)


def softplus_loss(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += log1pexp(x[i]) * x[i]
    return s


def test_custom_vjp_gives_the_gradient():
    x = np.array([0.5, -1.0, 3.0])
    g = adjit.grad(softplus_loss)(x)
    sig = 1.0 / (1.0 + np.exp(-x))
    assert np.allclose(g, np.log1p(np.exp(x)) + x * sig, rtol=1e-12)
    assert adjit.check_grad(softplus_loss, x).ok


def test_custom_vjp_is_stable_where_the_derived_rule_is_not():
    # the derived rule of log1p(exp(x)) overflows at x = 800 (exp(800) = inf); bwd does not
    x = np.array([800.0])
    g = adjit.grad(softplus_loss)(x)
    assert np.isfinite(g).all() and g[0] == pytest.approx(800.0 + 800.0, rel=1e-12)


def plain(x):
    return log1pexp(x)


def test_custom_vjp_called_from_python_is_the_function():
    assert log1pexp(0.3) == pytest.approx(math.log1p(math.exp(0.3)))


# bwd deliberately differs from the true derivative: proves that bwd is what reverse mode uses
@adjit.custom_vjp
def marked(x):
    return x * x


def marked_fwd(x):
    return marked(x), x


def marked_bwd(x, g):
    return (g * 100.0,)


marked.defvjp(marked_fwd, marked_bwd)


def uses_marked(x, y):
    return marked(x) * y


def test_custom_vjp_replaces_the_derived_rule():
    gx, gy = adjit.grad(uses_marked, argnums=(0, 1))(1.5, 2.0)
    assert gx == pytest.approx(200.0) and gy == pytest.approx(2.25)


def test_forward_mode_through_custom_vjp_is_refused_with_the_line():
    with pytest.raises(adjit.GradientError, match="custom_vjp rule") as e:
        adjit.jvp(plain, (0.7,), (1.0,))
    assert "test_custom_rules.py:" in str(e.value)


# ---- custom_jvp -------------------------------------------------------------------------------
@adjit.custom_jvp
def sin_times(x, y):
    return math.sin(x) * y


@sin_times.defjvp
def sin_times_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    return sin_times(x, y), math.cos(x) * y * tx + math.sin(x) * ty


def uses_sin_times(x, y):
    return sin_times(x, y) * x


def test_custom_jvp_in_forward_and_reverse_mode():
    x, y = 0.3, 2.0
    want_dx = math.cos(x) * y * x + math.sin(x) * y
    want_dy = math.sin(x) * x
    out, t = adjit.jvp(uses_sin_times, (x, y), (1.0, 0.0))
    assert out == pytest.approx(uses_sin_times(x, y)) and t == pytest.approx(want_dx, rel=1e-12)
    gx, gy = adjit.grad(uses_sin_times, argnums=(0, 1))(x, y)
    assert gx == pytest.approx(want_dx, rel=1e-12) and gy == pytest.approx(want_dy, rel=1e-12)


@adjit.custom_vjp
def no_rules(x):
    return x


def calls_no_rules(x):
    return no_rules(x) * 2.0


def test_a_custom_vjp_without_rules_is_refused():
    with pytest.raises(adjit.AdjitError, match="defvjp"):
        adjit.grad(calls_no_rules)(1.0)
