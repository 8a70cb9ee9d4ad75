"""What the speed optimisations of reverse mode do to the generated code, and that the
gradients stay exact (checked against adjit.tape, an independent engine).  No timings here:
speed is measured side by side by ``python -m adjit.bench``."""
import math

import numpy as np
import pytest

import adjit
from adjit.bench.problems.gmm import gmm_log_likelihood
from test_memory import central as _central  # (on fresh copies of the arguments)


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


# ---- what the reverse rules read: linear steps keep nothing ------------------------------------
def heat_slices(u0, target, c, steps):
    u = u0.copy()
    for t in range(steps):
        u[1:-1] = u[1:-1] + c * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum((u - target) ** 2)


def heat_double_buffer(u0, target, c, steps):
    u = u0.copy()
    un = u0.copy()
    for t in range(steps):
        un[1:-1] = u[1:-1] + c * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u, un = un, u
    return np.sum((u - target) ** 2)


def heat_new_arrays(u0, target, c, steps):
    u = u0
    for t in range(steps):
        u = u + c * np.concatenate((np.zeros(1), u[2:] - 2.0 * u[1:-1] + u[:-2], np.zeros(1)))
    return np.sum((u - target) ** 2)


@pytest.mark.parametrize("f", [heat_slices, heat_double_buffer, heat_new_arrays])
def test_a_linear_time_step_tapes_nothing(f):
    # the step is linear in u: its reverse reads no value of u, only shapes (known statically
    # for slices of one array, else a taped int), so no array is copied or taped per step
    rng = np.random.default_rng(3)
    for n in (7, 2):  # (n = 2: every slice is empty)
        u0, target = rng.standard_normal(n), rng.standard_normal(n)
        args = (u0, target, 0.2, 5)
        src = _source(f, args, 0)
        assert ".append(" not in src and ".copy()" not in src.split("d_u")[0].split("for ")[1]
        assert "np.empty((n" not in src or f is heat_new_arrays
        if f is not heat_new_arrays:
            assert "tape" not in src and "unbroadcast(d" not in src
        _check(f, args, 0, rtol=1e-12)
        g = adjit.grad(f, argnums=0)(*args)
        np.testing.assert_allclose(g, _central(lambda u: f(u, target, 0.2, 5), [u0], 0), rtol=1e-6, atol=1e-8)


gmm_scratch = gmm_log_likelihood  # (the bench problem: a scratch array lp filled per point)


def scratch_read_after(x, w):
    lp = np.zeros(x.shape[1])
    total = 0.0
    for i in range(x.shape[0]):
        for k in range(x.shape[1]):
            lp[k] = x[i, k] * w[k]
        total += lp[0] * lp[1]
    return total + lp[1] * lp[1]  # the last point's values are read after the loop


def scratch_partly_filled(x, w):
    lp = np.zeros(x.shape[1])
    total = 0.0
    for i in range(x.shape[0]):
        for k in range(x.shape[1] - 1):
            lp[k] = x[i, k] * w[k]
        total += lp[0] * lp[x.shape[1] - 1]  # the last entry is from before the loop
    return total


def test_scratch_arrays_let_a_loop_reverse_each_iteration_in_place():
    rng = np.random.default_rng(5)
    x, alphas = rng.standard_normal((6, 3)), rng.standard_normal(4)
    means, log_sigmas = rng.standard_normal((4, 3)), 0.2 * rng.standard_normal((4, 3))
    args = (x, alphas, means, log_sigmas)
    src = _source(gmm_scratch, args, (1, 2, 3))
    # one loop over the points (each point reversed right after its forward), whose nested
    # tapes are reserved once, before it: no tape is as long as the data
    assert src.count("range(n)") == 1 and "-1, -1)" in src
    assert "tape_reserve" not in src.split("for i in range(n):")[1]
    assert "tape_m" not in src and "if lp[k" in src  # the running max: routed by a comparison, not taped
    # exp(-log_sigmas[k, j]) is computed once per (k, j) before the point loop, not per point
    assert src.count("math.exp(-log_sigmas[") == 1 and "exp_table[k" in src.split("range(n)")[1]
    _check(gmm_scratch, args, (1, 2, 3), rtol=1e-12)
    for k, a in ((1, alphas), (2, means)):
        g = adjit.grad(gmm_scratch, argnums=k)(*args)
        np.testing.assert_allclose(g, _central(gmm_scratch, list(args), k), rtol=1e-6, atol=1e-8)
    xs, w = rng.standard_normal((5, 3)), rng.standard_normal(3)
    for f in (scratch_read_after, scratch_partly_filled):  # not scratch: the general path
        assert _source(f, (xs, w), 1).count("range(") >= 3
        _check(f, (xs, w), 1, rtol=1e-12)
        np.testing.assert_allclose(adjit.grad(f, argnums=1)(xs, w), _central(f, [xs, w], 1), rtol=1e-6, atol=1e-8)


# ---- loops recomputed one iteration at a time in the reverse sweep ------------------------------
def chain_steps(c, s):
    n = c.shape[0]
    y = np.zeros(n)
    y[0] = 1.0
    for step in range(s):
        prev = y[0]
        k_prev = 0.5
        for i in range(1, n):
            old = y[i]
            k = c[i] * (prev + 0.1 * k_prev)
            y[i] = old + 0.3 * k
            prev = old
            k_prev = k
    return y[n - 1] * y[n - 2] + np.sum(y * c)


def chain_steps_read_later(c, s):
    n = c.shape[0]
    y = np.zeros(n)
    w = c * 1.0
    total = 0.0
    for step in range(s):
        prev = 1.0
        for i in range(n):
            old = y[i]
            y[i] = old + 0.3 * math.sin(w[i] * prev)
            prev = old
        total += y[n - 1]
    w[0] = 2.0  # written after the loop: the loop cannot be recomputed from w later
    return total + w[0] * y[0]


def test_a_loop_with_taping_nested_loops_is_recomputed_per_iteration():
    c = np.linspace(0.3, 1.1, 7)
    src = _source(chain_steps, (c, 4))
    # the forward sweep keeps a copy of y per step, no tape of the inner loop across steps
    assert "snap_y.append(" in src and "y[:] = snap_y[" in src
    assert "tape_reserve" not in src.split("snap_y.append(")[0]
    for f in (chain_steps, chain_steps_read_later):
        for s in (0, 1, 4):
            _check(f, (c, s), 0, rtol=1e-12)
            np.testing.assert_allclose(adjit.grad(f)(c, s), _central(lambda x: f(x, s), [c], 0),
                                       rtol=1e-6, atol=1e-8)
    assert "snap_" not in _source(chain_steps_read_later, (c, 3))


def invariant_and_not(x, s, w):
    total = 0.0
    for i in range(x.shape[0]):
        for k in range(s.shape[0]):
            a = math.exp(s[k] * 0.5 - 1.0)  # k only: moved out of the loop over i
            b = math.sin(x[i] * s[k])       # depends on i: stays
            total += a * b * w
    w2 = w * 2.0
    for i in range(0):  # never runs: nothing is precomputed
        for k in range(s.shape[0]):
            total += math.exp(s[k] * w2)
    return total


def test_loop_invariant_expensive_work_is_computed_once():
    rng = np.random.default_rng(11)
    args = (rng.standard_normal(5), rng.standard_normal(3), 0.7)
    src = _source(invariant_and_not, args, (0, 1, 2))
    assert "_table" in src and "math.sin(x[" in src
    _check(invariant_and_not, args, (0, 1, 2), rtol=1e-12)
    for k in (0, 1):
        g = adjit.grad(invariant_and_not, argnums=k)(*args)
        np.testing.assert_allclose(g, _central(invariant_and_not, list(args), k), rtol=1e-6, atol=1e-8)


def running_max_then_min(x, w):
    m = x[0]
    for k in range(1, x.shape[0]):
        if x[k] > m:
            m = x[k]
    lo = x[2] * w
    for k in range(x.shape[0]):
        if x[k] * w < lo:
            lo = x[k] * w  # (not a load: the general path)
    lo2 = x[1]
    for k in range(x.shape[0] - 1, -1, -1):
        if x[k] < lo2:
            lo2 = x[k]
    return m * w + lo + 3.0 * lo2


def test_a_running_max_is_routed_by_a_comparison():
    f = running_max_then_min
    src = _source(f, (np.array([0.3, 1.2, -0.4, 0.9]), 0.5), (0, 1))
    assert "tape_m" not in src and "tape_lo2" not in src and "tape_lo" in src  # (x[k] * w is not a load: taped)
    # ties (the first maximal element took the max and keeps it), the initial value kept,
    # the initial value tied later, nan at the start or inside (tape: the branches as taken)
    for x in ([0.3, 1.2, -0.4, 1.2], [2.0, 1.2, -0.4, 2.0], [-1.0, -1.0, -1.0, -1.0], [0.5, 0.1, 0.7, 0.2],
              [math.nan, 0.1, 0.7, 0.2], [0.1, math.nan, 0.7, 0.7], [0.9, 0.1, -0.7, -0.7]):
        x = np.array(x)
        for w in (0.5, -1.5):
            value, grads = adjit.value_and_grad(f, argnums=(0, 1))(x, w)
            tvalue, tgrads = _tape(f, (x, w), (0, 1))
            np.testing.assert_equal(value, tvalue)
            for g, t in zip(grads, tgrads):
                np.testing.assert_allclose(g, t, rtol=1e-14, atol=0)
    x = np.array([0.3, 1.2, -0.4, 0.9])  # away from ties: against differences
    np.testing.assert_allclose(adjit.grad(f)(x, 0.5), _central(f, [x, 0.5], 0), rtol=1e-6, atol=1e-8)
