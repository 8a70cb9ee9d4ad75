"""What the speed optimisations of reverse mode do to the generated code, and that the
gradients stay exact (checked against adjit.tape, an independent engine).  No timings here:
speed is measured side by side by ``python -m adjit.bench``."""
import math

import numpy as np
import pytest

import adjit


def _tape(f, args, argnums):
    return adjit.tape.value_and_grad(f, argnums=argnums)(*[a.copy() if isinstance(a, np.ndarray) else a
                                                          for a in args])


def _check(f, args, argnums=0, rtol=1e-13):
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    value, grads = adjit.value_and_grad(f, argnums=nums)(*args)
    tvalue, tgrads = _tape(f, args, nums)
    assert value == pytest.approx(tvalue, rel=rtol, abs=1e-300)
    for g, t in zip(grads, tgrads):
        np.testing.assert_allclose(g, t, rtol=rtol, atol=1e-14)
    only = adjit.grad(f, argnums=nums)(*args)
    for g, t in zip(only, tgrads):
        np.testing.assert_allclose(g, t, rtol=rtol, atol=1e-14)


def _source(f, args, argnums=0, with_value=True):
    g = (adjit.value_and_grad if with_value else adjit.grad)(f, argnums=argnums)
    g(*args)
    return g.source


# ---- integer powers ------------------------------------------------------------------------
def rosen_pow(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def powers(x, y):
    return x ** 3 + x ** 4 * y + x ** -2 + y ** 2.0 + math.pow(x, 2)  # (a float exponent other than 2.0 stays pow)


def array_powers(x):
    return np.sum(x ** 2) + np.sum(x ** 3 * 0.5)


def test_integer_powers_are_products_with_product_derivatives():
    x = np.linspace(-1.3, 1.7, 9)
    src = _source(rosen_pow, (x,))
    assert "**" not in src and "_rt.pow" not in src and "tape" not in src
    _check(rosen_pow, (x,))
    _check(powers, (1.3, -0.7), (0, 1))
    src = _source(powers, (1.3, -0.7), (0, 1))
    assert "**" not in src and "_rt.pow" not in src and "math.pow" not in src
    _check(array_powers, (x,))
    src = _source(array_powers, (x,))
    assert "_rt.pow" not in src  # (arrays keep x ** 2, which Numba fuses into the expression around it)


def test_integer_powers_keep_numbas_values_bit_for_bit():
    def cube(x):
        return x ** 3

    def fourth(x):
        return x ** 4
    for v in (0.14793014303273438, 1.1, -2.7, 1e-200):
        assert adjit.jit(cube)(v) == v * (v * v)
        assert adjit.jit(fourth)(v) == (v * v) * (v * v)


# ---- grad alone does not compute the value --------------------------------------------------
def test_grad_alone_drops_the_value():
    x = np.linspace(-1.0, 1.0, 6)
    src = _source(rosen_pow, (x,), with_value=False)
    assert "math.nan" in src and "s +" not in src
    np.testing.assert_allclose(adjit.grad(rosen_pow)(x), _tape(rosen_pow, (x,), (0,))[1][0], rtol=1e-13)


# ---- accumulation loops ------------------------------------------------------------------------
def branchy(x, w):
    s = 0.0
    t = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            s += x[i] * w
        else:
            s -= math.sin(x[i])
        t += x[i] * x[i]
    return s + 2.0 * t


def decaying(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s * 0.5 + x[i]
    return s


def read_then_written(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * x[i]
    x[0] = 3.0 * x[1]
    return s + x[0] * x[2]


def scaled_after(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += math.sin(x[i])
    return s * s


def per_point(x, mu, a):
    n, d = x.shape
    total = 0.0
    for i in range(n):
        lp = np.zeros(mu.shape[0])
        for j in range(mu.shape[0]):
            acc = a[j]
            for c in range(d):
                z = x[i, c] - mu[j, c]
                acc -= 0.5 * z * z
            lp[j] = acc
        m = lp[0]
        for j in range(1, mu.shape[0]):
            if lp[j] > m:
                m = lp[j]
        s = 0.0
        for j in range(mu.shape[0]):
            s += math.exp(lp[j] - m)
        total += m + math.log(s)
    return total


def test_an_accumulation_loop_is_fused_with_its_adjoint():
    x = np.linspace(-1.3, 1.7, 9)
    src = _source(rosen_pow, (x,))
    assert src.count("for ") == 1 and "tape" not in src  # one loop: forward and adjoint
    src = _source(branchy, (x, 0.7), (0, 1))
    assert src.count("for ") == 1
    _check(branchy, (x, 0.7), (0, 1))


def test_fusion_falls_back_where_the_order_matters():
    x = np.linspace(-1.3, 1.7, 9)
    assert "-1, -1)" in _source(decaying, (x,))  # a carried value that is not only accumulated
    _check(decaying, (x,))
    assert _source(read_then_written, (x,)).count("for ") == 2  # x is written after the loop
    _check(read_then_written, (x,))
    assert _source(scaled_after, (x,)).count("for ") == 2  # the sum's adjoint is known only after it
    _check(scaled_after, (x,))


def test_a_fused_loop_with_nested_loops_and_a_local_array():
    rng = np.random.default_rng(1)
    args = (rng.standard_normal((6, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4))
    _check(per_point, args, (0, 1, 2))


def test_hessian_through_a_fused_loop():
    def f(x):
        s = 0.0
        for i in range(x.shape[0] - 1):
            s += (x[i + 1] - x[i] ** 2) ** 2 + x[i] ** 3
        return s
    x = np.array([0.3, -0.8, 1.1, 0.5])
    h = adjit.hessian(f)(x)
    expect = np.zeros((4, 4))
    for i in range(3):  # d2/dx2 of (b - a^2)^2 + a^3 at (a, b) = (x[i], x[i+1])
        a, b = x[i], x[i + 1]
        expect[i, i] += 12 * a * a - 4 * b + 6 * a
        expect[i, i + 1] += -4 * a
        expect[i + 1, i] += -4 * a
        expect[i + 1, i + 1] += 2
    np.testing.assert_allclose(h, expect, rtol=1e-12, atol=1e-12)


# ---- arrays taped for their shapes ----------------------------------------------------------
def heat(u0, alpha, steps):
    u = u0.copy()
    for t in range(steps):
        u[1:-1] = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def test_arrays_needed_for_their_shape_only_are_not_taped():
    u0 = np.sin(np.linspace(0.0, 3.0, 11))
    src = _source(heat, (u0, 0.1, 4), (0, 1))
    assert src.count(".append(") == 1  # the laplacian, for d_alpha; the others' shapes are ints
    _check(heat, (u0, 0.1, 4), (0, 1), rtol=1e-12)
