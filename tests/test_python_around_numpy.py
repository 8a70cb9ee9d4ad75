"""Issue 14, item 12: the Python a user writes around NumPy.  Integer powers that stay ints,
``assert``, the builtins sum/max/min/abs/len on arrays, and tuples and lists of arrays as
parameters (the parameter tuples ML code passes around), whose gradient has the same
structure.  Each gradient is checked against central differences and adjit.tape at two
points, and adjit.jit against Python itself.
"""
import copy

import numpy as np
import pytest

import adjit
import adjit.tape
from adjit import AdjitTypeError, GradientError

RNG = np.random.default_rng(1412)


# ---- helpers: leaves of (nested) tuple arguments, central differences over them ----------------------
def leaves(v):
    return [leaf for item in v for leaf in leaves(item)] if isinstance(v, (tuple, list)) else [v]


def central_differences(f, args, k, eps=1e-6):
    """d f / d args[k], one array (or float) per leaf of args[k], by central differences."""
    out = []
    for j in range(len(leaves(args[k]))):
        def at(delta, idx):
            a = copy.deepcopy(args)  # fresh arrays: the function may write into them
            leaf = leaves(a[k])[j]
            if isinstance(leaf, np.ndarray):
                leaf[idx] += delta
                return f(*a)
            return f(*_replace_leaf(a, k, j, leaf + delta))
        leaf = leaves(args[k])[j]
        if isinstance(leaf, np.ndarray):
            g = np.zeros(leaf.shape)
            for idx in np.ndindex(leaf.shape):
                g[idx] = (at(eps, idx) - at(-eps, idx)) / (2 * eps)
        else:
            g = (at(eps, None) - at(-eps, None)) / (2 * eps)
        out.append(g)
    return out


def _replace_leaf(args, k, j, value):
    flat = leaves(args[k])
    flat[j] = value
    it = iter(flat)

    def rebuild(v):
        return type(v)(rebuild(x) for x in v) if isinstance(v, (tuple, list)) else next(it)
    args = list(args)
    args[k] = rebuild(args[k])
    return args


def same_structure(a, b):
    if isinstance(b, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), (type(a), type(b))
        for x, y in zip(a, b):
            same_structure(x, y)
    else:
        assert np.shape(a) == np.shape(b)


def check_gradient(f, args, argnum=0, tol=1e-6):
    """adjit.grad == adjit.tape.grad == central differences, in the argument's structure;
    adjit.jit == Python; no argument changed by grad."""
    before = copy.deepcopy(args)
    assert adjit.jit(f)(*copy.deepcopy(args)) == pytest.approx(f(*copy.deepcopy(args)), rel=1e-12, abs=1e-12)
    g = adjit.grad(f, argnums=argnum)(*args)
    for x, y in zip(leaves(args), leaves(before)):
        assert np.array_equal(x, y), "adjit.grad changed the caller's argument"
    t = adjit.tape.grad(f, argnums=argnum)(*copy.deepcopy(args))
    same_structure(g, args[argnum])
    same_structure(t, args[argnum])
    fd = central_differences(f, args, argnum)
    for gj, tj, dj in zip(leaves(g), leaves(t), fd):
        np.testing.assert_allclose(gj, dj, rtol=tol, atol=tol)
        np.testing.assert_allclose(gj, tj, rtol=1e-10, atol=1e-12)
    return g


# ---- integer powers ----------------------------------------------------------------------------------
def int_powers(x, level):
    s = 0.0
    for i in range(2 ** level):  # an int ** int of unknown sign, taken back as the int by range()
        s += x * i
    for l in range(3):
        for j in range(2 ** l):  # 2 ** (a range counter from 0): an int
            s += np.sin(x * j)
    a = np.zeros((level ** 2, 2 ** level))  # shapes of int powers
    n = len(a) ** 2
    return s + np.sum(a + x) + n * x + x * 2 ** -level + x ** 3


def int_power_values(n):
    return 2 ** 10 + 3 ** n + n ** 2 + 7 // 2 ** 2


@pytest.mark.parametrize("x,level", [(0.7, 2), (-1.3, 3)])
def test_integer_powers_stay_ints(x, level):
    check_gradient(int_powers, (x, level))


def test_integer_power_types_follow_python():
    j = adjit.jit(int_power_values)
    assert j(3) == int_power_values(3)
    assert j(0) == int_power_values(0)
    # 3 ** n with n of unknown sign is the float Python gives for a negative n; equal values
    assert j(-2) == pytest.approx(int_power_values(-2))


def test_negative_exponent_in_range_is_pythons_type_error():
    for f in (adjit.jit(int_powers), adjit.grad(int_powers)):
        with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
            f(0.5, -1)
    with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
        int_powers(0.5, -1)


# ---- assert ----------------------------------------------------------------------------------------
def asserts(x, n):
    assert n > 0, "n must be positive"
    assert x.ndim == 1  # known when compiling: costs nothing
    s = 0.0
    for i in range(n):
        assert x[i] < 10.0
        s += np.sum(np.exp(x)) * x[i]
    return s


@pytest.mark.parametrize("seed", [0, 1])
def test_assert_passing(seed):
    x = np.random.default_rng(seed).normal(size=4)
    check_gradient(asserts, (x, 3))


@pytest.mark.parametrize("make", [adjit.jit, adjit.grad, adjit.value_and_grad])
def test_assert_failing_raises_like_python(make):
    f = make(asserts)
    x = np.array([0.5, 20.0, 0.1])
    with pytest.raises(AssertionError, match="^n must be positive$"):
        f(x, 0)
    with pytest.raises(AssertionError) as info:  # no message: AssertionError() as in Python
        f(x, 2)
    assert info.value.args == ()
    with pytest.raises(AssertionError):
        asserts(x, 2)


# ---- builtins on arrays ------------------------------------------------------------------------------
def builtins_on_arrays(x, m):
    return sum(x) + max(x) + min(x) + np.sum(abs(x) * x) + len(x) * x[0] + abs(x[1]) \
        + max((x[0], x[2], 0.25)) + min(x[1], x[2]) + np.sum(sum(m) ** 2) + len(m) + sum(x, 1.5)


@pytest.mark.parametrize("seed", [2, 3])
def test_builtins_on_arrays(seed):
    rng = np.random.default_rng(seed)
    x, m = rng.normal(size=5), rng.normal(size=(3, 2))
    check_gradient(builtins_on_arrays, (x, m), 0)
    check_gradient(builtins_on_arrays, (x, m), 1)


# ---- tuples and lists of arrays as parameters ------------------------------------------------------------
def mlp(params, x):
    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    return np.sum((h @ W2 + b2) ** 2) / len(params)


def layers(params, x):
    h = x
    for i in range(len(params) // 2):  # params[2*i]: unrolled
        W, b = params[2 * i], params[2 * i + 1]
        h = np.tanh(h @ W + b)
    return np.sum(h ** 2)


def loops_over_params(params, scale):
    s = 0.0
    for p in params:
        s += np.sum(p ** 2)
    for k, p in enumerate(params):
        s += k * np.sum(np.sin(p))
    for p, q in zip(params, params[1:]):
        s += np.sum(p[0]) * np.sum(q[0])
    return scale * s + params[-1][0, 1] * params[0][1, 0]


def nested(params, x):
    (W1, b1), (W2, b2) = params
    return np.sum(np.tanh(x @ W1 + b1) @ W2 + b2) + helper(params[0], x)


def helper(layer, x, scale=0.5):
    W, b = layer
    return scale * np.sum((x @ W + b) ** 2)


def regularised(params, x, lam):
    W, b = params
    p = 3.0
    l2 = sum(np.sum(p ** 2) for p in params)  # a generator over a tuple; p stays 3.0 after it
    top = max([np.max(q) for q in params])
    return np.sum((x @ W + b) ** 2) + lam * l2 + top + sum(k * np.sum(a) for k, a in enumerate(params)) + p


def with_numbers(params, x):
    w, c, n = params  # an array, a float and an int in one tuple
    return np.sum((x * w) ** 2) * c + n


def breaks_early(params):
    s = 0.0
    for p in params:
        if np.sum(p) > 0.5:
            break
        s += np.sum(np.cos(p))
    return s


def _mlp_params(rng):
    return (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2)), rng.normal(size=2))


@pytest.mark.parametrize("seed", [4, 5])
def test_tuple_parameters(seed):
    rng = np.random.default_rng(seed)
    params, x = _mlp_params(rng), rng.normal(size=(5, 3))
    check_gradient(mlp, (params, x))
    check_gradient(layers, (list(params), x))  # a list: the gradient is a list
    check_gradient(loops_over_params, (tuple(rng.normal(size=(2, 2)) for _ in range(3)), 0.7))
    check_gradient(nested, (((params[0], params[1]), (params[2], params[3])), x))
    check_gradient(breaks_early, ((rng.normal(size=2), rng.normal(size=2) + 1.0, rng.normal(size=2)),))
    check_gradient(regularised, ((params[0], params[1]), rng.normal(size=(5, 3)), 0.1))


def test_value_and_grad_with_tuples():
    rng = np.random.default_rng(6)
    params, x = _mlp_params(rng), rng.normal(size=(5, 3))
    value, (g_params, g_x) = adjit.value_and_grad(mlp, argnums=(0, 1))(params, x)
    assert value == pytest.approx(mlp(params, x), rel=1e-12)
    t_params, t_x = adjit.tape.grad(mlp, argnums=(0, 1))(params, x)
    same_structure(g_params, params)
    for a, b in zip(g_params + (g_x,), t_params + (t_x,)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert adjit.check_grad(mlp, params, x, argnums=(0, 1)).ok


def test_numbers_in_a_tuple():
    rng = np.random.default_rng(7)
    args = ((rng.normal(size=3), 1.5, 2), rng.normal(size=3))
    check_gradient(with_numbers, args, 1)
    assert adjit.jit(with_numbers)(*args) == pytest.approx(with_numbers(*args))
    with pytest.raises(GradientError, match=r"'params\[2\]'.*an int"):
        adjit.grad(with_numbers)(*args)  # one gradient per item: the int has none
    g = adjit.grad(with_numbers)((args[0][0], 1.5, 2.0), args[1])
    t = adjit.tape.grad(with_numbers)((args[0][0], 1.5, 2.0), args[1])
    assert isinstance(g, tuple) and g[2] == 1.0 == t[2] and g[1] == pytest.approx(t[1])


def writes_params(params, x):
    W, b = params
    W *= 2.0
    b[0] = x[0]
    return np.sum(W * W) + np.sum(b * x)


def test_writes_into_tuple_items():
    W, b, x = RNG.normal(size=(2, 2)), RNG.normal(size=2), RNG.normal(size=2)
    check_gradient(writes_params, ((W, b), x))  # the caller's W and b are left alone
    W1, b1 = W.copy(), b.copy()
    assert adjit.jit(writes_params)((W1, b1), x) == pytest.approx(writes_params((W.copy(), b.copy()), x))
    assert np.array_equal(W1, 2.0 * W) and b1[0] == x[0]  # jit runs on the caller's memory, as Python
    for args, names in ((((W, W[0]), x), "'params[0]' and 'params[1]'"), (((W, b), b), "'params[1]' and 'x'")):
        with pytest.raises(GradientError) as info:
            adjit.grad(writes_params)(*args)
        assert names in str(info.value)


def test_transformations_without_tuple_support_refuse_clearly():
    params, x = _mlp_params(RNG), RNG.normal(size=(5, 3))
    for call in (lambda: adjit.jacfwd(mlp)(params, x), lambda: adjit.hessian(mlp)(params, x),
                 lambda: adjit.jvp(mlp, (params, x), (params, x))):
        with pytest.raises(AdjitTypeError, match="argument 'params' of mlp"):
            call()


# ---- messages in the user's words ------------------------------------------------------------------------
def mean_of_tuple(x):
    return np.mean((x, x))


def clash(x):
    y = x if x[0] > 0 else 1.0
    return np.sum(y)


def test_messages_name_python_types():
    x = np.ones(3)
    with pytest.raises(AdjitTypeError) as info:
        adjit.jit(mean_of_tuple)(x)
    assert "a tuple" in str(info.value) and "Tup" not in str(info.value)
    with pytest.raises(AdjitTypeError) as info:
        adjit.jit(clash)(x)
    assert "1-D float64 array" in str(info.value) and "a float" in str(info.value)
    assert "f64" not in str(info.value)
