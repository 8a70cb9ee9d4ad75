"""Reverse mode: adjit.grad against central finite differences and against adjit.tape,
at several random points, for every construct; the lecture notes' examples exactly."""
import math

import numpy as np
import pytest

import adjit

RNG = np.random.default_rng(1234)


# ---- the functions under test (module level: adjit and adjit.tape read their source) -----
def lecture_add_mul(x, y, z):
    return (x + y) * z


def lecture_router(x, y, z, w):
    return 2 * (x * y + max(z, w))


def lecture_fork(x):
    u = x + 1
    return x * u


def lecture_relu_unit(W, x, b):
    return max(0.0, W * x + b)


def lecture_exp_sq(x):
    return math.exp(x) + x ** 2


def lecture_exp_times_sq(x):
    return math.exp(x) * x ** 2


def sigmoid_neuron(w, x):
    return 1.0 / (1.0 + math.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))


def logistic3(x):
    l = x
    for i in range(3):
        l = 4 * l * (1 - l)
    return l


def loop_branch(x, n):
    s = 0.0
    for i in range(n):
        if x[i] > 0.0:
            s += x[i] * x[i]
        else:
            s -= math.sin(x[i])
    return s


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-13 * a:
        x = 0.5 * (x + a / x)
    return x


def nested_loops(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        t = 1.0
        for j in range(i + 1):
            t = t * math.cos(x[j] * y) + 0.1
        s += t * x[i]
    return s


def break_continue_return(x, c):
    s = 0.0
    for i in range(len(x)):
        if x[i] < -1.5:
            continue
        for j in range(3):
            s += math.tanh(x[i] * c + j)
            if s > 4.0:
                return s * c
        if s < -3.0:
            break
    return s


def while_data_dependent(x, k):
    v = x
    n = 0
    while v < 10.0 and n < 50:
        v = v * k + math.sin(v)
        n += 1
    return v


def recurrence(x, a):
    y = np.zeros(x.shape[0])
    y[0] = x[0]
    for i in range(1, x.shape[0]):
        y[i] = a * math.sin(y[i - 1]) + x[i]
    s = 0.0
    for i in range(y.shape[0]):
        s += y[i] * y[i]
    return s


def in_place_updates(x, w):
    a = x.copy()
    for it in range(3):
        for i in range(a.shape[0]):
            a[i] *= w
            a[i] += 0.1 * a[i - 1]
    s = 0.0
    for v in a:
        s += v
    return s


def writes_own_argument(x):
    for i in range(1, x.shape[0]):
        x[i] = x[i] * x[i - 1]
    return x[x.shape[0] - 1]


def matrix_loop(A, v):
    n, m = A.shape
    s = 0.0
    for i in range(n):
        r = 0.0
        for j in range(m):
            r += A[i, j] * v[j]
        s += math.exp(-r * r)
    return s


def _helper_inner(a, b):
    return a * math.exp(-b)


def _helper_outer(a, b):
    return _helper_inner(a, b) + _helper_inner(b, a)


def with_helpers(x, y):
    return _helper_outer(x, y) * _helper_outer(y, 0.5)


def math_zoo(x, y):
    s = math.sin(x) + math.cos(y) + math.tan(0.3 * x) + math.asin(0.4 * y) + math.acos(0.3 * x)
    s += math.atan(x * y) + math.atan2(y, x) + math.sinh(0.5 * x) + math.cosh(0.2 * y) + math.tanh(x)
    s += math.asinh(x) + math.acosh(1.5 + y * y) + math.atanh(0.4 * x) + math.exp(0.3 * y) + math.expm1(0.2 * x)
    s += math.log(2.0 + x * x) + math.log(3.0 + y * y, 2.5) + math.log1p(y * y) + math.log2(1.5 + x * x)
    s += math.log10(4.0 + y * y) + math.sqrt(1.0 + x * x) + math.pow(1.5 + y * y, x) + math.hypot(x, y)
    s += math.erf(x) + math.erfc(y) + math.fabs(x - 0.1) + math.copysign(x, y) + abs(y) + x ** y * 0.0
    s += (2.0 + x * x) ** y + y ** 3 + x / (1.5 + y * y) + x % 0.7 + np.sin(x) * np.exp(y) + np.arctan2(x, 1.0)
    s += min(x, y, 0.2) + max(x * y, 0.1) + float(int(x * 3)) + np.square(y) + np.maximum(x, y)
    return s


def ternary_and_compare(x, y):
    z = x * y if 0.0 < x < 1.0 or y > 2.0 else x - y
    return z * z + (x if x > y else y)


def int_float_mixing(x, n):
    s = 0
    for i in range(n):
        s += i
        s = s * x
    return s


def zero_trip(x, n):
    s = x
    for i in range(n):
        s = s * x
    return s


def negative_step(x):
    s = 0.0
    for i in range(x.shape[0] - 1, -1, -2):
        s = s * 0.5 + x[i] * x[i]
    return s


def for_else(x, limit):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        if s > limit:
            break
    else:
        s = s * 2.0
    return s


CASES = [
    # (function, argument generator, argnums)
    (loop_branch, lambda: (RNG.normal(size=7), 7), 0),
    (newton_sqrt, lambda: (RNG.uniform(0.5, 9.0),), 0),
    (nested_loops, lambda: (RNG.normal(size=5), RNG.normal()), (0, 1)),
    (break_continue_return, lambda: (RNG.normal(size=6), RNG.uniform(0.2, 1.2)), (0, 1)),
    (while_data_dependent, lambda: (RNG.uniform(0.5, 2.0), RNG.uniform(1.1, 1.6)), (0, 1)),
    (recurrence, lambda: (RNG.normal(size=6), RNG.uniform(0.3, 0.9)), (0, 1)),
    (in_place_updates, lambda: (RNG.normal(size=5), RNG.uniform(0.5, 1.5)), (0, 1)),
    (writes_own_argument, lambda: (RNG.uniform(0.5, 1.5, size=5),), 0),
    (matrix_loop, lambda: (RNG.normal(size=(3, 4)), RNG.normal(size=4)), (0, 1)),
    (with_helpers, lambda: (RNG.normal(), RNG.normal()), (0, 1)),
    (math_zoo, lambda: (RNG.uniform(0.2, 0.9), RNG.uniform(0.2, 0.9)), (0, 1)),
    (ternary_and_compare, lambda: (RNG.uniform(-1, 3), RNG.uniform(-1, 3)), (0, 1)),
    (int_float_mixing, lambda: (RNG.uniform(0.5, 1.5), 4), 0),
    (negative_step, lambda: (RNG.normal(size=7),), 0),
    (for_else, lambda: (RNG.uniform(0, 1, size=5), RNG.uniform(0.5, 4.0)), (0, 1)),
    (logistic3, lambda: (RNG.uniform(0.05, 0.95),), 0),
]
_GRADS = {f: adjit.value_and_grad(f, argnums=a) for f, _, a in CASES}


def _as_tuple(g, argnums):
    return g if isinstance(argnums, tuple) else (g,)


def _finite_differences(f, args, k, eps=1e-6):
    base = args[k]
    if isinstance(base, np.ndarray):
        out = np.zeros(base.shape)
        for idx in np.ndindex(base.shape):
            plus, minus = [a.copy() if isinstance(a, np.ndarray) else a for a in args], \
                          [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            out[idx] = (f(*plus) - f(*minus)) / (2 * eps)
        return out
    plus, minus = list(args), list(args)
    plus[k] += eps
    minus[k] -= eps
    return (f(*plus) - f(*minus)) / (2 * eps)


def _copies(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


@pytest.mark.parametrize("f, make_args, argnums", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient_matches_finite_differences_and_tape(f, make_args, argnums):
    for _ in range(3):
        args = list(make_args())
        originals = _copies(args)
        value, grads = _GRADS[f](*_copies(args))
        assert value == pytest.approx(f(*_copies(args)), rel=1e-12, abs=1e-12)
        tape_value, tape_grads = adjit.tape.value_and_grad(f, argnums=argnums)(*_copies(args))
        for k, g, tg in zip(_as_tuple(argnums, argnums), _as_tuple(grads, argnums), _as_tuple(tape_grads, argnums)):
            fd = _finite_differences(f, _copies(args), k)
            np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6, err_msg=f"{f.__name__} arg {k} vs finite differences")
            np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12, err_msg=f"{f.__name__} arg {k} vs adjit.tape")
        for a, o in zip(args, originals):  # the caller's arrays are never modified
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, o)


# ---- the lecture notes' worked examples, exactly -------------------------------------------------
def test_add_mul_example():
    assert adjit.grad(lecture_add_mul, argnums=(0, 1, 2))(-2.0, 5.0, -4.0) == (-4.0, -4.0, 3.0)


def test_max_routes_the_gradient():
    g = adjit.grad(lecture_router, argnums=(0, 1, 2, 3))
    assert g(3.0, -4.0, 2.0, -1.0) == (-8.0, 6.0, 2.0, 0.0)  # z wins: the gradient goes to z only
    assert g(3.0, -4.0, -2.0, 5.0) == (-8.0, 6.0, 0.0, 2.0)  # w wins
    assert g(1.0, 1.0, 1.0, 1.0)[2:] == (2.0, 0.0)           # a tie goes to the first argument


def test_fork():
    assert adjit.grad(lecture_fork)(17.0) == 35.0


def test_relu_unit():
    assert adjit.grad(lecture_relu_unit, argnums=(0, 1, 2))(2.0, 3.0, 1.0) == (3.0, 2.0, 1.0)
    assert adjit.grad(lecture_relu_unit, argnums=(0, 1, 2))(-2.0, 3.0, 1.0) == (0.0, 0.0, 0.0)


def test_exp_and_square():
    for x in (-1.0, 0.5, 2.0):
        assert adjit.grad(lecture_exp_sq)(x) == pytest.approx(math.exp(x) + 2 * x, rel=1e-14)
        assert adjit.grad(lecture_exp_times_sq)(x) == pytest.approx(math.exp(x) * x * x + 2 * x * math.exp(x), rel=1e-14)


def test_sigmoid_neuron():
    w, x = np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])
    dw, dx = adjit.grad(sigmoid_neuron, argnums=(0, 1))(w, x)
    s = 1.0 / (1.0 + math.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))
    local = s * (1 - s)
    np.testing.assert_allclose(dw, [x[0] * local, x[1] * local, local], rtol=1e-14)
    np.testing.assert_allclose(dx, [w[0] * local, w[1] * local], rtol=1e-14)
    np.testing.assert_allclose(dw, [-0.20, -0.39, 0.20], atol=0.005)
    np.testing.assert_allclose(dx, [0.39, -0.59], atol=0.005)


def test_logistic_map_closed_form():
    def exact(x):
        return (128 * x * (1 - x) * (-8 + 16 * x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x * x)
                + 64 * (1 - x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x * x) ** 2
                - 64 * x * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x * x) ** 2
                - 256 * x * (1 - x) * (1 - 2 * x) * (1 - 8 * x + 8 * x * x) ** 2)
    for x in RNG.uniform(0, 1, size=5):
        assert _GRADS[logistic3](x)[1] == pytest.approx(exact(x), rel=1e-10)


def test_newton_derivative_converges_to_implicit_answer():
    for a in (0.5, 2.0, 7.0):
        assert _GRADS[newton_sqrt](a)[1] == pytest.approx(1 / (2 * math.sqrt(a)), rel=1e-9)


def test_loops_that_run_zero_one_and_many_times():
    g = _GRADS[zero_trip] if zero_trip in _GRADS else adjit.value_and_grad(zero_trip)
    for n in (0, 1, 5):
        assert g(1.3, n)[1] == pytest.approx((n + 1) * 1.3 ** n, rel=1e-12)


def test_non_smooth_conventions():
    assert adjit.grad(_abs_at)(0.0) == 0.0
    assert adjit.grad(_abs_at)(-2.0) == -1.0
    assert adjit.grad(_floor_times)(2.5) == 0.0


def _abs_at(x):
    return abs(x)


def _floor_times(x):
    return float(math.floor(x))


def test_check_grad_reports_errors():
    result = adjit.check_grad(nested_loops, RNG.normal(size=4), 0.7, argnums=(0, 1))
    assert result.ok and result.max_error < 1e-6 and result.names == ["x", "y"]


def test_show_prints_forward_and_backward():
    g = adjit.grad(loop_branch)
    text = adjit.show(g, np.array([1.0, -1.0]), 2)
    assert "def loop_branch_grad(x, n):" in text and "d_x" in text and "math.cos" in text


def _early_returns_then_while(a):
    n = a.shape[0]
    if n == 1:
        return a[0, 0]
    if n == 2:
        return a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    partial = np.ones(n)
    k = 0
    while True:
        if k == n:
            return partial[0]
        partial[0] += a[k, 0] * partial[1] * a[k, k]
        k += 1


def test_jit_and_grad_of_one_function_in_either_order():
    """The parsed tree is cached per function; each translation (jit, grad, value_and_grad)
    used to rewrite its early returns in place, so the second one saw the rest of the body
    twice and the tree came to contain itself (a RecursionError from inside adjit)."""
    import types as pytypes
    for first in ("jit", "grad"):
        # a fresh function object per order: the parse cache is keyed by the function
        f = pytypes.FunctionType(_early_returns_then_while.__code__, _early_returns_then_while.__globals__)
        jitted, grad, vg = adjit.jit(f), adjit.grad(f), adjit.value_and_grad(f)
        for n in (4, 2, 3):
            a = RNG.normal(size=(n, n))
            if first == "jit":
                assert jitted(a) == pytest.approx(f(a), rel=1e-12)
            g = grad(a)
            if first == "grad":
                assert jitted(a) == pytest.approx(f(a), rel=1e-12)
            value, g2 = vg(a)
            assert value == pytest.approx(f(a), rel=1e-12)
            np.testing.assert_allclose(g, _finite_differences(f, [a.copy()], 0), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(g, adjit.tape.grad(f)(a.copy()), rtol=1e-10, atol=1e-12)
            np.testing.assert_array_equal(g, g2)
