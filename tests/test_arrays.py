"""Whole-array NumPy code: every operation's gradient against central finite differences
and against adjit.tape, at several random points and for several shapes (1-d, 2-d, 3-d,
broadcasting corners, a number with an array, reductions over each axis); adjit.jit
against NumPy itself.

Each case is one function compiled once (adjit caches per type signature); the points
differ in values, and where a case lists several shapes, in shape too.
"""
import math

import numpy as np
import pytest

import adjit
import adjit.tape

RNG = np.random.default_rng(2024)


# ---- functions under test (module level: adjit and adjit.tape read their source) -------------
def ew_arith(x, y):
    return np.sum(x * y + x / (1.5 + y * y) - 2.0 * x ** 2 + y ** 3 - (-x))


def ew_unary(x):
    return np.sum(np.exp(x) + np.log(2.0 + np.sin(x)) + np.log1p(x * x) + np.expm1(0.5 * x)
                  + np.sqrt(1.0 + x * x) + np.cos(x) + np.tan(0.3 * x) + np.tanh(x) + np.sinh(x)
                  + np.cosh(0.5 * x) + np.arctan(x) + np.abs(x) + np.square(x) + np.sign(x) * x)


def ew_unary_small(x):
    return np.sum(np.exp(x) * np.tanh(x) + np.log1p(x * x) + np.abs(x))


def ew_scalar_mix(x, s):
    return np.sum(s * x + x / s + s - x * x * s ** 2 + np.maximum(x, s) + np.minimum(s, x))


def ew_broadcast(a, b):
    return np.sum(np.tanh(a + b) * (a - b) + a * b * b / (1.0 + a * a))


def ew_max_where_clip(x, y):
    m = np.maximum(x, y) + np.minimum(x, 0.1)
    w = np.where(x > y, x * y, x - y)
    return np.sum(m * m + w + np.clip(x, -0.5, 0.5) * y)


def reduce_all(x):
    return np.sum(x) + 2.0 * np.mean(x * x) + np.max(x) - np.min(x) + np.prod(1.0 + 0.1 * x)


def reduce_axis0(x):
    return np.sum(np.sum(x * x, axis=0) * np.max(x, axis=0)) + np.sum(np.mean(x, axis=0) ** 2) \
        + np.sum(np.min(x, axis=0)) + np.sum(np.prod(1.0 + 0.1 * x, axis=0))


def reduce_axis1(x):
    return np.sum(np.sum(x * x, axis=1) * np.max(x, axis=1)) + np.sum(np.mean(x, axis=1) ** 2) \
        + np.sum(np.min(x, axis=1)) + np.sum(np.prod(1.0 + 0.1 * x, axis=1))


def reduce_last_keepdims(x):
    z = x - np.max(x, axis=-1, keepdims=True)
    return np.sum(z * np.sum(x, axis=-1, keepdims=True) + np.mean(x * x, axis=-1, keepdims=True))


def reduce_methods(x):
    return x.sum() + (x * x).mean() + x.max() - x.min() + x.sum(axis=0).sum() + (1.0 + 0.1 * x).prod()


def prod_with_zero(x):
    return np.prod(x) + np.sum(np.prod(x, axis=0))


def matmul_2_2(a, b):
    return np.sum(np.tanh(a @ b))


def matmul_2_1(a, v):
    return np.sum(np.sin(np.dot(a, v)))


def matmul_1_2(v, b):
    return np.sum(np.exp(0.3 * np.matmul(v, b)))


def matmul_1_1(u, v):
    return np.dot(u, v) * np.inner(u, v) + u @ v


def outer_trace_norm(u, v, a):
    return np.sum(np.outer(u, v) * a) + np.trace(a[:, :2] @ a[:2, :]) + np.linalg.norm(u) * np.linalg.norm(a)


def shapes(a):
    b = a.T
    c = np.transpose(b) * 2.0
    d = c.reshape(-1)
    e = np.ravel(b) + d
    f = a.reshape((a.shape[1], a.shape[0]))
    return np.sum(e * e) + np.sum(f @ a) + np.sum(a.ravel() * a.flatten())


def joins(a, b):
    c = np.concatenate((a, b), axis=0)
    d = np.concatenate((a, 2.0 * a), axis=1)
    s = np.stack((a, b), axis=0)
    t = np.stack((a, b), axis=1)
    return np.sum(c * c) + np.sum(np.sin(d)) + np.sum(s[1] * s[0]) + np.sum(t[:, 0] ** 3)


def slices_read(a):
    return np.sum(a[1:] * a[:-1]) + np.sum(a[::2] ** 2) + a[-1] * np.sum(a[1:3]) + np.sum(a[::-1] * a)


def slices_2d(a):
    return np.sum(a[:, 0] * a[:, 1]) + np.sum(a[1, :] ** 3) + np.sum(a[1:, 1:] * a[:-1, :-1]) + np.sum(a[0] * a[-1])


def slice_writes(a, v):
    b = np.zeros((a.shape[0], a.shape[1]))
    b[1:3] = a[0:2] * 2.0
    b[:, 0] += v[0] * a[:, 1]
    b[0, :] = v
    b[:, 1] -= 3.0 * v[1]
    b[-1] = np.tanh(a[-1])
    return np.sum(b * b) + np.sum(np.sin(b))


def inplace_name(x, y):
    b = x * 1.5
    b += y
    b *= y
    return np.sum(b * b)


def softmax_xent(W, b, X, Y):
    z = X @ W + b
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def mlp(W1, b1, W2, b2, X, Y):
    h = np.maximum(X @ W1 + b1, 0.0)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def rnn(W, U, b, x, h0):
    h = h0
    loss = 0.0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + U @ x[t] + b)
        loss += np.sum(h * h) * (t + 1)
    return loss


def rnn_stored(W, x):
    n = x.shape[0]
    H = np.zeros((n + 1, W.shape[0]))
    for t in range(n):
        H[t + 1, :] = np.tanh(W @ H[t, :] + x[t])
    return np.sum(H[1:] ** 2)


def array_while(x):
    v = x
    k = 0
    while np.sum(v * v) < 50.0 and k < 20:
        v = v * 1.3 + 0.1 * np.sin(v)
        k += 1
    return np.sum(v)


def array_branch(x, y):
    if np.sum(x) > 0.0:
        z = x * y
    else:
        z = np.exp(y) - x
    s = 0.0
    for i in range(x.shape[0]):
        if z[i] > 0.0:
            s += z[i] * x[i]
        else:
            s -= z[i]
    return s + np.sum(z)


def elementwise_in_loop(x, w):
    acc = np.zeros(x.shape[0])
    for k in range(3):
        acc = acc + np.sin(w * k + x) * w
    total = 0.0
    for i in range(x.shape[0]):
        total += acc[i] * acc[i]
    return total


def three_d(t):
    return np.sum(np.sum(t * t, axis=1) * np.max(t, axis=1)) + np.sum(np.min(t, axis=2)) + np.sum(np.mean(t, axis=0)) + np.sum(t[1:, 0, :] * t[:-1, 1, :])


def slice_then_write(x):
    b = x * 2.0
    s = np.sum(b[1:3] ** 2)
    b[1] = 10.0 * b[0]
    return s + np.sum(b[1:3]) * np.sum(b * b)


def write_then_whole_use(x):
    b = x * 2.0
    s = np.sum(b * b)
    b[0] = 0.0
    return s + np.sum(b)


def lse(x):
    m = np.max(x)
    return m + math.log(np.sum(np.exp(x - m)))


# name: (function, list of argument-shape tuples (one per point), argnums); () is a float
CASES = {
    "ew_arith": (ew_arith, [((5,), (5,)), ((3, 4), (3, 4))], (0, 1)),
    "ew_unary_1d": (ew_unary, [((6,),)], 0),
    "ew_unary_3d": (ew_unary_small, [((2, 3, 2),)], 0),
    "ew_scalar_mix": (ew_scalar_mix, [((4,), ()), ((2, 3), ())], (0, 1)),
    "bcast_col_row": (ew_broadcast, [((3, 1), (1, 4))], (0, 1)),
    "bcast_vec_mat": (ew_broadcast, [((5,), (3, 5))], (0, 1)),
    "bcast_mat_vec": (ew_broadcast, [((3, 5), (5,))], (0, 1)),
    "bcast_3d": (ew_broadcast, [((2, 1, 3), (4, 1))], (0, 1)),
    "max_where_clip": (ew_max_where_clip, [((7,), (7,)), ((2, 3), (3,))], (0, 1)),
    "reduce_all": (reduce_all, [((6,),), ((3, 4),), ((2, 3, 2),)], 0),
    "reduce_axis0": (reduce_axis0, [((3, 4),)], 0),
    "reduce_axis1": (reduce_axis1, [((3, 4),)], 0),
    "reduce_keepdims": (reduce_last_keepdims, [((3, 4),), ((2, 2, 3),)], 0),
    "reduce_methods": (reduce_methods, [((3, 2),), ((2, 2, 3),)], 0),
    "matmul_2_2": (matmul_2_2, [((3, 4), (4, 2))], (0, 1)),
    "matmul_2_1": (matmul_2_1, [((3, 4), (4,))], (0, 1)),
    "matmul_1_2": (matmul_1_2, [((4,), (4, 3))], (0, 1)),
    "matmul_1_1": (matmul_1_1, [((5,), (5,))], (0, 1)),
    "outer_trace_norm": (outer_trace_norm, [((3,), (4,), (3, 4))], (0, 1, 2)),
    "shapes": (shapes, [((3, 4),)], 0),
    "joins": (joins, [((2, 3), (2, 3))], (0, 1)),
    "slices_read": (slices_read, [((6,),)], 0),
    "slices_2d": (slices_2d, [((4, 3),)], 0),
    "slice_writes": (slice_writes, [((4, 3), (3,))], (0, 1)),
    "inplace_name": (inplace_name, [((5,), (5,))], (0, 1)),
    "softmax_xent": (softmax_xent, [((4, 3), (3,), (5, 4), (5, 3))], (0, 1)),
    "mlp": (mlp, [((4, 6), (6,), (6, 3), (3,), (5, 4), (5, 3))], (0, 1, 2, 3)),
    "rnn": (rnn, [((3, 3), (3, 2), (3,), (4, 2), (3,))], (0, 1, 2, 3, 4)),
    "rnn_stored": (rnn_stored, [((3, 3), (5, 3))], (0, 1)),
    "array_while": (array_while, [((3,),)], 0),
    "array_branch": (array_branch, [((4,), (4,))], (0, 1)),
    "elementwise_in_loop": (elementwise_in_loop, [((4,), (4,))], (0, 1)),
    "three_d": (three_d, [((3, 2, 4),)], 0),
    "lse": (lse, [((7,),)], 0),
    "slice_then_write": (slice_then_write, [((4,),)], 0),
    "write_then_whole_use": (write_then_whole_use, [((4,),)], 0),
}


def _point(shapes):
    args = []
    for shape in shapes:
        if shape == ():
            args.append(float(RNG.uniform(0.5, 1.5)))
        else:
            args.append(RNG.uniform(-1.0, 1.0, size=shape))
    return args


def _fd(f, args, k, eps=1e-6):
    def at(value):
        a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
        a[k] = value
        return f(*a)
    base = args[k]
    if not isinstance(base, np.ndarray):
        return (at(base + eps) - at(base - eps)) / (2 * eps)
    out = np.zeros(base.shape)
    for idx in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[idx] += eps
        minus[idx] -= eps
        out[idx] = (at(plus) - at(minus)) / (2 * eps)
    return out


def _as_tuple(g):
    return g if isinstance(g, tuple) else (g,)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_against_fd_and_tape(name):
    f, shape_sets, argnums = CASES[name]
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    grad = adjit.value_and_grad(f, argnums=argnums)
    tape = adjit.tape.value_and_grad(f, argnums=argnums)
    for shapes in shape_sets:
        for _ in range(2):
            args = _point(shapes)
            before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            value, g = grad(*args)
            for a, b in zip(args, before):  # the gradient leaves its arguments alone
                np.testing.assert_array_equal(a, b)
            assert value == pytest.approx(f(*args), rel=1e-12, abs=1e-12)
            tvalue, tg = tape(*args)
            for k, gk, tk in zip(nums, _as_tuple(g), _as_tuple(tg)):
                assert np.shape(gk) == np.shape(args[k])
                np.testing.assert_allclose(gk, tk, rtol=1e-9, atol=1e-11, err_msg=f"{name}: tape, arg {k}")
                np.testing.assert_allclose(gk, _fd(f, args, k), rtol=1e-5, atol=1e-6,
                                           err_msg=f"{name}: finite differences, arg {k}")


def test_jit_matches_numpy():
    for name in ("shapes", "joins", "slice_writes", "three_d", "reduce_keepdims"):
        f, shape_sets, _ = CASES[name]
        args = _point(shape_sets[0])
        assert adjit.jit(f)(*args) == pytest.approx(f(*args), rel=1e-12)


def array_results(x, y):
    z = x.reshape((x.shape[0], 1)) * y
    return z.T, np.sum(z, axis=0), np.max(z, axis=1), x > 0.0


def test_jit_returns_arrays():
    x, y = RNG.normal(size=3), RNG.normal(size=4)
    got = adjit.jit(array_results)(x, y)
    want = array_results(x, y)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def max_ties(x):
    return np.max(x) + np.sum(np.max(x.reshape((2, 3)), axis=1))


def test_max_routes_to_first_maximum_like_the_tape():
    x = np.array([1.0, 3.0, 3.0, 2.0, 5.0, 5.0])
    g = adjit.grad(max_ties)(x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0, 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(g, adjit.tape.grad(max_ties)(x))


def test_prod_gradient_is_exact_at_zero():
    x = np.array([[0.0, 2.0], [3.0, 0.0], [4.0, 5.0]])
    g = adjit.grad(prod_with_zero)(x)
    np.testing.assert_allclose(g, _fd(prod_with_zero, [x], 0), atol=1e-6)
    assert g[0, 0] == 3.0 * 4.0 and g[1, 1] == 2.0 * 5.0


# ---- refusals ---------------------------------------------------------------------------------------
def slice_used_after_write(x):
    b = x * 2.0
    v = b[1:3]
    b[1] = 10.0
    return np.sum(v * v)


def test_slice_used_after_a_write_into_its_base():
    # the slice is a view: it sees the write, in the value and in the gradient
    x = np.array([0.5, -1.0, 2.0, 0.25])
    v, g = adjit.value_and_grad(slice_used_after_write)(x)
    assert v == slice_used_after_write(x.copy())
    assert np.allclose(g, [0.0, 0.0, 16.0, 0.0])
    assert adjit.check_grad(slice_used_after_write, x).ok


def write_into_loop_array(x):
    h = x * 1.0
    for i in range(3):
        h = h * 2.0
        h[0] = 1.0
    return np.sum(h)


def fancy_index(x, i):
    return np.sum(x[None, x > 0.0])  # a mask read (x[x > 0]) is supported; with None it is not


def erf_of_array(x):
    return np.sum(math.erf(x))


@pytest.mark.parametrize("f, args, cls, text", [
    (write_into_loop_array, (np.ones(3),), adjit.GradientError, "h = h + v"),
    (fancy_index, (np.ones(3), 1), adjit.UnsupportedSyntaxError, "together with an index array"),
    (erf_of_array, (np.ones(3),), adjit.UnsupportedSyntaxError, "of an array"),
])
def test_refusals_name_the_line(f, args, cls, text):
    with pytest.raises(cls) as info:
        adjit.grad(f)(*args)
    assert text in str(info.value)
    assert f"test_arrays.py:{f.__code__.co_firstlineno}" not in str(info.value)  # the offending line, not the def
    assert "test_arrays.py:" in str(info.value)
