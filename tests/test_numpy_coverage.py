"""Issue 14, items 1-5, 11, 12: the NumPy people write around a loss.

Statistics (var/std/average), ufunc spellings, arrays built from numbers and ranges,
module-level arrays frozen as constants, None/np.newaxis and ``...`` in indexes, reduction
keywords (keepdims without an axis, axis tuples, clip keywords, dtype=) and keyword
arguments to helpers.  Every function's gradient is checked against central differences
and adjit.tape at two points, and its forward-mode derivative (adjit.jvp) against a central
difference along a random direction; adjit.jit results are checked against NumPy itself
(values, shapes and dtypes).  Each case is compiled once per transformation.
"""
import math

import numpy as np
import pytest

import adjit
import adjit.tape

RNG = np.random.default_rng(14)

# module-level data, read by compiled code as frozen constants
WEIGHTS = np.array([0.2, 0.5, 1.0])
DATA = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
LABELS = np.array([1, 0, 2, 1])
MASK = np.array([True, False, True])


# ---- item 1 (and 11): statistics --------------------------------------------------------------
def stats_var_std(x):
    return np.var(x) + np.sum(np.std(x, axis=0, ddof=1)) + np.var(x, axis=-1, keepdims=True).sum() \
        + np.std(x) * np.var(x, ddof=1) + np.sum(np.var(x, axis=0) * np.std(x, axis=-1, keepdims=True))


def stats_methods(x):
    return x.var() + x.std(axis=1).sum() + x.mean(axis=(0, 1)) + x.var(ddof=1, axis=0).sum() \
        + x.std(keepdims=True).sum()


def stats_average(x, w):
    return np.average(x, axis=1, weights=w).sum() + np.average(x, weights=x * x) + np.average(x) \
        + np.sum(np.average(x, axis=0)) + np.sum(np.average(x, axis=-1, weights=w, keepdims=True) * x)


def stats_average_data(x):
    a, s = np.average(DATA * x, axis=0, weights=np.abs(DATA) + 1.0, returned=True)
    return np.sum(a * s) + np.average(x, weights=np.array([1.0, 2.0, 3.0])) * np.var(DATA @ x)


def stats_3d(t):
    return np.var(t, axis=(0, 2)).sum() + np.std(t, axis=1).sum() + np.var(t, axis=(0, 1), keepdims=True).sum()


# ---- item 2: ufunc spellings -------------------------------------------------------------------
def uf_arith(x, y):
    return np.sum(np.add(x, y) * np.multiply(x, 2.0) - np.subtract(y, x) + np.divide(x, 1.5 + y * y)
                  + np.true_divide(1.0, 2.0 + x) + np.negative(x) * np.reciprocal(3.0 + y) + np.power(x, 2)
                  + np.square(y) + np.mod(x, 0.7) + np.remainder(y, 0.3))


def uf_math(x):
    return np.sum(np.exp2(x) + np.deg2rad(x) * np.rad2deg(x) + np.sinc(x) + np.hypot(x, 0.5)
                  + np.arctan2(x, 1.5 + x * x))


def uf_pairs(x, y):
    return np.sum(np.logaddexp(x, y) + np.logaddexp2(2.0 * x, y) + np.fmax(x, y) * np.fmin(x, 0.1)
                  + np.hypot(x, y) + np.arctan2(x, y + 2.0))


def uf_scalars(a, b):
    return np.add(a, b) * np.logaddexp(a, b) + np.exp2(a) + np.fmax(a, b) - np.fmin(a, b) + np.sinc(a) \
        + np.logaddexp2(a, b) + np.reciprocal(b) + np.negative(a) + np.deg2rad(b)


# ---- item 3: arrays from numbers and ranges ---------------------------------------------------
def build_lists(x):
    v = np.array([x[0], 2.0 * x[1], 3.0])
    m = np.array([[1.0, x[2]], [x[0] * x[1], 2]])
    r = np.array([x, x * x])
    t = np.asarray((x[1], x[2]))
    return np.sum(v * x) + np.sum(m @ t) + np.sum(r[1] * r[0]) + np.sum(np.array(x) * 2.0)


def build_ranges(x, a, b):
    n = x.shape[0]
    i = np.arange(n)
    f = np.arange(0.5, 2.0, 0.5)
    ls = np.linspace(a, b, 5)
    ls2 = np.linspace(a, b, num=n, endpoint=False)
    return np.sum(i * x) + np.sum(f) * np.sum(ls * ls) + np.sum(ls2 * x) + np.sum(np.arange(1, n + 1) * x)


def build_matrices(x):
    n, m = x.shape
    e = np.eye(n) + np.eye(n, m, 1) @ x.T + 2.0 * np.identity(n)
    z = np.zeros((n, 2 * m))
    z[:, :m] = x
    z[:, m:] = 1.0
    o = np.ones([m, n])
    return np.sum(e @ x) + np.sum(z * z) + np.sum(o @ x) + np.sum(np.full_like(x, 0.5) * x) \
        + np.sum(np.full_like(x, 3) * x)


# ---- item 4: module-level arrays ------------------------------------------------------------------
def frozen_data(w):
    logits = DATA @ w
    z = logits - np.max(logits)
    return np.sum(np.exp(z)) + np.sum(WEIGHTS * w) + np.sum(np.where(MASK, w, 0.0)) + LABELS[0] * w[1]


def _make_closure():
    table = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 0.0]])

    def closure_data(w):
        return np.sum(np.tanh(table @ w)) + table[1, 1] * w[0]
    return closure_data


closure_data = _make_closure()


# ---- item 5: None / np.newaxis and ... -----------------------------------------------------------------
def newaxis_pairs(x, y):
    d = x[:, None] - y[None, :]
    e = x[:, np.newaxis] * y[np.newaxis]
    return np.sum(d * d) + np.sum(np.exp(-e)) + np.sum(x[None] * x[..., None])


def ellipsis_index(t):
    a = t[..., 0]
    b = t[0, ...]
    c = t[..., 1:, None]
    return np.sum(a * a) + np.sum(b ** 3) + np.sum(c * t[:, :, :1, None]) + np.sum(t[...]) + t[0, 0, 0, None][0]


def newaxis_writes(x, y):
    z = np.zeros((x.shape[0], 2))
    z[..., 0] = x
    z[None, :, 1] = y
    w = np.zeros((3, x.shape[0]))
    w[None, 1] = x * y
    w[..., 2] += y[:3]
    return np.sum(z * z) + np.sum(np.sin(w))


# ---- item 11: reduction keywords ------------------------------------------------------------------
def reduce_keywords(x):
    return np.sum(np.sum(x, keepdims=True) * x) + np.sum(np.sum(x, axis=(0, 1))) \
        + np.sum(np.clip(x, a_min=-0.2, a_max=0.5)) + np.sum(x, dtype=float) + np.sum(np.clip(x, None, 0.3)) \
        + np.sum(np.max(x, keepdims=True) * x) + np.sum(np.mean(x, axis=(1,), keepdims=True) * x) \
        + np.sum(np.prod(1.0 + 0.1 * x, axis=(0,), keepdims=True)) + x.clip(-0.1, 0.4).sum() \
        + np.sum(np.clip(x, a_min=0.0, a_max=None) * x)


def reduce_1d_keepdims(v):
    return np.sum(np.max(v, keepdims=True) * v) + np.sum(np.mean(v, axis=0, keepdims=True) * v) \
        + np.sum(v - np.min(v, axis=-1, keepdims=True)) + np.sum(v, axis=0, keepdims=True)[0]


def reduce_3d_axes(t):
    return np.sum(np.sum(t, axis=(0, 2)) ** 2) + np.sum(np.max(t, axis=(1, 2), keepdims=True) * t) \
        + np.sum(np.mean(t, axis=(-1, 0)) ** 2) + np.sum(np.min(t, axis=(0, 1, 2), keepdims=True))


# ---- item 12: Python around NumPy ---------------------------------------------------------------
def smooth_l1(x, beta=1.0):
    a = np.abs(x)
    return np.sum(np.where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta))


def scaled(x, *, scale=2.0, shift=0.0):
    return scale * x + shift


def python_around(x):
    big = float("inf")
    s = sum(x)
    t = sum((x[0], x[1], 2.0), 1.0)
    return smooth_l1(x, beta=0.5) + smooth_l1(x) + smooth_l1(beta=0.25, x=x) + np.sum(scaled(x, shift=1.0)) \
        + min(big, s) + t


CASES = {
    "stats_var_std": (stats_var_std, [((3, 4),), ((5,),)], 0),
    "stats_methods": (stats_methods, [((3, 4),)], 0),
    "stats_average": (stats_average, [((2, 3), (3,))], (0, 1)),
    "stats_average_data": (stats_average_data, [((3,),)], 0),
    "stats_3d": (stats_3d, [((2, 3, 2),)], 0),
    "uf_arith": (uf_arith, [((5,), (5,)), ((2, 3), (3,))], (0, 1)),
    "uf_math": (uf_math, [((6,),)], 0),
    "uf_pairs": (uf_pairs, [((3, 1), (1, 4))], (0, 1)),
    "uf_scalars": (uf_scalars, [((), ())], (0, 1)),
    "build_lists": (build_lists, [((3,),)], 0),
    "build_ranges": (build_ranges, [((5,), (), ())], (0, 1, 2)),
    "build_matrices": (build_matrices, [((3, 4),)], 0),
    "frozen_data": (frozen_data, [((3,),)], 0),
    "closure_data": (closure_data, [((2,),)], 0),
    "newaxis_pairs": (newaxis_pairs, [((3,), (4,))], (0, 1)),
    "ellipsis_index": (ellipsis_index, [((2, 3, 2),)], 0),
    "newaxis_writes": (newaxis_writes, [((4,), (4,))], (0, 1)),
    "reduce_keywords": (reduce_keywords, [((3, 4),)], 0),
    "reduce_1d_keepdims": (reduce_1d_keepdims, [((5,),)], 0),
    "reduce_3d_axes": (reduce_3d_axes, [((2, 3, 2),)], 0),
    "python_around": (python_around, [((5,),)], 0),
}


def _point(shapes):
    return [float(RNG.uniform(0.5, 1.5)) if s == () else RNG.uniform(-1.0, 1.0, size=s) for s in shapes]


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


def _directional_fd(f, args, tangents, eps=1e-6):
    plus = [a + eps * t for a, t in zip(args, tangents)]
    minus = [a - eps * t for a, t in zip(args, tangents)]
    return (f(*plus) - f(*minus)) / (2 * eps)


def _as_tuple(g):
    return g if isinstance(g, tuple) else (g,)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_and_jvp(name):
    f, shape_sets, argnums = CASES[name]
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    grad = adjit.value_and_grad(f, argnums=argnums)
    tape = adjit.tape.value_and_grad(f, argnums=argnums)
    for shapes in shape_sets:
        for _ in range(2):
            args = _point(shapes)
            before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            value, g = grad(*args)
            for a, b in zip(args, before):
                np.testing.assert_array_equal(a, b)
            assert value == pytest.approx(f(*args), rel=1e-11, abs=1e-11)
            _, tg = tape(*args)
            for k, gk, tk in zip(nums, _as_tuple(g), _as_tuple(tg)):
                assert np.shape(gk) == np.shape(args[k])
                np.testing.assert_allclose(gk, tk, rtol=1e-9, atol=1e-11, err_msg=f"{name}: tape, arg {k}")
                np.testing.assert_allclose(gk, _fd(f, args, k), rtol=1e-5, atol=1e-6,
                                           err_msg=f"{name}: finite differences, arg {k}")
            tangents = [RNG.normal(size=np.shape(a)) if isinstance(a, np.ndarray) else float(RNG.normal())
                        for a in args]
            jvalue, jt = adjit.jvp(f, tuple(args), tuple(tangents))
            assert jvalue == pytest.approx(value, rel=1e-12, abs=1e-12)
            assert jt == pytest.approx(_directional_fd(f, args, tangents), rel=1e-5, abs=1e-6), name
            want = sum(np.sum(gk * tangents[k]) for k, gk in zip(nums, _as_tuple(g)))
            if len(nums) == len(args):
                assert jt == pytest.approx(want, rel=1e-9, abs=1e-10), name


# ---- values, shapes and dtypes against NumPy ------------------------------------------------------
def numpy_values(x, v, n):
    return (np.var(x, axis=0), np.std(x, axis=(0, 1), keepdims=True), np.var(v, keepdims=True),
            np.average(x, axis=0, weights=v[:x.shape[0]]), np.average(x, axis=1, returned=True)[1],
            np.sum(x, keepdims=True), np.max(v, keepdims=True), np.sum(x, axis=(0, 1)), np.mean(x, axis=(-1,)),
            np.arange(n), np.arange(1.5, n), np.arange(n, 0, -2), np.arange(n, dtype=float),
            np.linspace(0.0, 1.0, 7), np.linspace(-1.0, 2.0, n, endpoint=False), np.linspace(2.0, 3.0, 1),
            np.linspace(1.0, 1.0, 3), np.eye(3), np.eye(2, 4, -1), np.eye(3, dtype=int), np.identity(2),
            np.array([1, 2, 3]), np.array([1.0, 2, True]), np.array([[1, 2], [3, 4]], dtype=float),
            np.array([True, False]), np.array(x), np.asarray(x), np.full_like(x, 7), np.full_like(LABELS, 2.7),
            np.full_like(x, 2, dtype=int), x[:, None].shape[1], x[None, ..., None], v[..., None], x[..., 1],
            np.zeros([n, 2]), np.sum(LABELS), DATA[1:3], np.sum(LABELS, dtype=float),
            np.fmax(v, np.nan), np.fmin(np.nan, v), np.logaddexp(v, 1000.0), np.logaddexp2(v, -1000.0),
            np.sinc(v), np.exp2(v), np.mod(v, -0.7), np.remainder(LABELS, 3), np.add(LABELS, LABELS),
            np.clip(v, a_min=-0.1, a_max=None), sum(LABELS), sum(x))


def test_jit_matches_numpy():
    x = RNG.uniform(-1, 1, size=(3, 4))
    v = np.array([0.0, 0.5, -1.5, np.nan, 2.0])
    got = adjit.jit(numpy_values)(x, v, 5)
    want = numpy_values(x, v, 5)
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want)):
        assert np.shape(a) == np.shape(b), k
        assert np.asarray(a).dtype == np.asarray(b).dtype, (k, np.asarray(a).dtype, np.asarray(b).dtype)
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15, err_msg=f"result {k}")


def test_linspace_and_arange_exactly_as_numpy():
    f = adjit.jit(lambda_free_linspace)
    for a, b, n in [(0.0, 1.0, 11), (-3.0, 7.5, 4), (0.1, 0.7, 50), (1.0, -1.0, 2)]:
        for got, want in zip(f(a, b, n), lambda_free_linspace(a, b, n)):
            np.testing.assert_array_equal(got, want)


def lambda_free_linspace(a, b, n):
    return np.linspace(a, b, n), np.linspace(a, b, n, endpoint=False), np.arange(a, b, 0.1)


# ---- non-smooth points and NaN semantics ---------------------------------------------------------------
def fmax_fmin_nan(x, y):
    return np.sum(np.fmax(x, y) + 2.0 * np.fmin(y, x))


def test_fmax_fmin_ignore_nan_and_route_the_gradient():
    x = np.array([1.0, -1.0, 0.5, 2.0])
    y = np.array([np.nan, 0.0, 0.5, 3.0])
    (gx, gy) = adjit.grad(fmax_fmin_nan, argnums=(0, 1))(x, y)
    (tx, ty) = adjit.tape.grad(fmax_fmin_nan, argnums=(0, 1))(x, y)
    assert adjit.jit(fmax_fmin_nan)(x, y) == fmax_fmin_nan(x, y)
    # y NaN: x selected by both; a tie goes to the first operand, as np.maximum
    np.testing.assert_array_equal(gx, [3.0, 2.0, 1.0, 2.0])
    np.testing.assert_array_equal(gy, [0.0, 1.0, 2.0, 1.0])
    np.testing.assert_array_equal(gx, tx)
    np.testing.assert_array_equal(gy, ty)


def sinc_sum(x):
    return np.sum(np.sinc(x))


def test_sinc_derivative_at_zero():
    x = np.array([0.0, 1e-3, 0.5, -2.0])
    g = adjit.grad(sinc_sum)(x)
    assert g[0] == 0.0
    np.testing.assert_allclose(g, adjit.tape.grad(sinc_sum)(x), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g[1:], _fd(sinc_sum, [x], 0)[1:], rtol=1e-5)
    _, t = adjit.jvp(sinc_sum, (x,), (np.ones(4),))
    assert t == pytest.approx(np.sum(g), rel=1e-12)


def lae(x, y):
    return np.sum(np.logaddexp(x, y)) + np.sum(np.logaddexp2(x, y))


def test_logaddexp_is_stable():
    x = np.array([1000.0, -1000.0, 0.0])
    y = np.array([999.0, -1001.0, -800.0])
    value, (gx, gy) = adjit.value_and_grad(lae, argnums=(0, 1))(x, y)
    assert math.isfinite(value) and value == pytest.approx(lae(x, y), rel=1e-15)
    np.testing.assert_allclose(gx + gy, 2.0 * np.ones(3), rtol=1e-12)
    np.testing.assert_allclose(gx[0], 1 / (1 + np.exp(-1)) + 1 / (1 + 2.0 ** -1), rtol=1e-12)


# ---- module-level arrays: frozen, and never written -----------------------------------------------------
SCALE = np.array([1.0, 2.0])


def uses_scale(w):
    return np.sum(SCALE * w)


def test_module_arrays_are_frozen_at_compile_time():
    global SCALE
    w = np.array([1.0, 1.0])
    f = adjit.jit(uses_scale)
    assert f(w) == 3.0
    saved = SCALE
    try:
        SCALE[0] = 10.0  # mutated after compiling: the compiled specialisation keeps its copy
        assert f(w) == 3.0
        SCALE = np.array([5.0, 5.0])
        assert f(w) == 3.0
        assert adjit.jit(uses_scale)(w) == 10.0  # a new object compiles again and sees the new value
    finally:
        SCALE = saved
        SCALE[0] = 1.0


TABLE = np.zeros(3)


def writes_module_array(x):
    TABLE[0] = x[0]
    return np.sum(TABLE * x)


def writes_module_array_view(x):
    v = TABLE[1:]
    v += x[1:]
    return np.sum(x)


def helper_writes(a, x):
    a[:] = x
    return np.sum(a)


def writes_module_array_in_helper(x):
    return helper_writes(TABLE, x)


def reciprocal_of_int(n):
    return np.reciprocal(n) * 1.0


def ragged(x):
    return np.sum(np.array([[x[0], x[1]], [x[2]]]))


def float32_global(x):
    return np.sum(F32 * x)


F32 = np.ones(3, dtype=np.complex64)


@pytest.mark.parametrize("f, cls, text", [
    (writes_module_array, adjit.UnsupportedSyntaxError, "writes into the module-level array 'TABLE'"),
    (writes_module_array_view, adjit.UnsupportedSyntaxError, "writes into the module-level array 'TABLE'"),
    (writes_module_array_in_helper, adjit.UnsupportedSyntaxError, "module-level array 'TABLE'"),
    (ragged, adjit.AdjitTypeError, "ragged"),
    (float32_global, adjit.UnsupportedSyntaxError, "dtype complex64"),
])
def test_refusals(f, cls, text):
    with pytest.raises(cls, match=text):
        adjit.grad(f)(np.ones(3))
    assert not TABLE.any()


def test_reciprocal_of_an_int_is_refused():
    with pytest.raises(adjit.AdjitTypeError, match="integer division"):
        adjit.jit(reciprocal_of_int)(3)
