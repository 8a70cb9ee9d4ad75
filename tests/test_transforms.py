"""Composable transformations (issue 13): jvp, vjp, jacfwd, jacrev, hessian, hvp,
grad(grad(f)), jit(grad(f)) and gradients called from compiled code.

Every derivative is checked against central differences of the plain Python function, at a
few points, through the constructs reverse mode is tested on: loops, a `while` with a
data-dependent trip count, `break`, branches, element and slice writes (through views
too), whole-array NumPy.  The compiled objects are shared at module level: each new type
signature costs a Numba compile.
"""
import math

import numpy as np
import pytest

import adjit

RTOL, ATOL = 1e-6, 1e-7


# ---- central differences ------------------------------------------------------------------
def _copies(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def cd_jacobian(fun, args, k, h=1e-6):
    """d fun / d args[k] by central differences, shaped out.shape + x.shape (JAX's order)."""
    def at(point):
        a = _copies(args)
        a[k] = point
        return np.asarray(fun(*a), dtype=np.float64)

    x = args[k]
    if not isinstance(x, np.ndarray):
        return (at(x + h) - at(x - h)) / (2 * h)
    cols = []
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        cols.append((at(up) - at(down)) / (2 * h))
    J = np.stack(cols, axis=-1)
    return J.reshape(J.shape[:-1] + x.shape)


def cd_jvp(fun, args, tangents, h=1e-6):
    """The directional derivative of fun at args along tangents (None: not moved)."""
    def at(s):
        a = _copies(args)
        for k, t in enumerate(tangents):
            if t is not None:
                a[k] = a[k] + s * t
        return np.asarray(fun(*a), dtype=np.float64)
    return (at(h) - at(-h)) / (2 * h)


def close(a, b, rtol=RTOL, atol=ATOL):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert np.allclose(a, b, rtol=rtol, atol=atol), (a, b)


# ---- the functions (module level: adjit reads their source) -------------------------------
def loop_fn(x, n):
    s = 0.0
    for i in range(n):
        s += math.sin(x[i]) * x[(i + 1) % n] + 0.5 * x[i] ** 4
    return s


def while_fn(x, y):
    """A `while` whose trip count depends on x."""
    v = x
    s = 0.0
    while v > 0.1:
        s += math.sin(v) * y * y
        v = v * 0.5
    return s + v * y


def break_fn(x, n):
    s = 0.0
    for i in range(n):
        if x[i] < -0.9:
            break
        s += x[i] * x[i] * math.exp(0.3 * x[i])
    return s


def branch_fn(x, a):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] * a > 0.0:
            s += a * x[i] ** 3
        else:
            s -= math.cos(a * x[i])
    return s


def writes_fn(x):
    """Element writes, slice writes, and writes through a view; returns an array."""
    n = x.shape[0]
    a = np.zeros(n + 1)
    v = a[1:]                         # a view of a
    for i in range(n):
        v[i] = x[i] * x[(i + 1) % n]  # written through the view
    a[:2] += x[:2] ** 2               # a slice write
    a[0] = a[0] * x[n - 1]            # an element write
    b = a[::-1]                       # another view, read after the writes
    return a * b + np.sin(a)


def numpy_fn(W, x):
    h = np.tanh(W @ x)                # matmul
    col = np.sum(W * W, axis=0)       # a reduction with axis
    return np.sum(h * h) + np.dot(col, x) + np.mean(W * x)   # broadcasting (m, n) * (n,)


def numpy_fn_xw(x, W):
    return numpy_fn(W, x)             # a helper, inlined


def numpy_vec(W, x):
    return np.tanh(W @ x) + np.sum(W, axis=1) * np.mean(x)


def pair(x):
    return np.sum(x * x), x * 2.0


def cube(x):
    return x * x * x + math.sin(x)


def in_place(x, n):
    """Writes into its argument: no transformation may change the caller's array."""
    for i in range(n):
        x[i] = x[i] * x[i]
    return np.sum(x * x) + x[0] * x[n - 1]


# shared compiled objects
H_LOOP = adjit.hessian(loop_fn)
JFG_LOOP = adjit.jacfwd(adjit.grad(loop_fn))
G_LOOP = adjit.grad(loop_fn)
JF_WRITES, JR_WRITES = adjit.jacfwd(writes_fn), adjit.jacrev(writes_fn)
JF_VEC, JR_VEC = adjit.jacfwd(numpy_vec, argnums=(0, 1)), adjit.jacrev(numpy_vec, argnums=(0, 1))
H_NUMPY = adjit.hessian(numpy_fn_xw)  # (argnums=1 is wrong: see test_hessian_with_argnums_1)
GG_CUBE = adjit.grad(adjit.grad(cube))
GG_WHILE = adjit.grad(adjit.grad(while_fn))

RNG = np.random.default_rng(13)
X3 = [np.array([0.3, -0.5, 1.2]), np.array([-1.1, 0.7, 0.4]), RNG.uniform(-1, 1, 3)]
W23 = RNG.uniform(-1, 1, (2, 3))


# ---- jvp ----------------------------------------------------------------------------------
@pytest.mark.parametrize("x", X3)
def test_jvp_loop(x):
    t = np.array([1.0, -2.0, 0.5])
    out, tout = adjit.jvp(loop_fn, (x, 3), (t, None))
    assert out == pytest.approx(loop_fn(x, 3), rel=1e-12)
    close(tout, cd_jvp(loop_fn, (x, 3), (t, None)))


@pytest.mark.parametrize("x, y", [(1.7, 0.3), (0.9, -1.2), (3.1, 2.0)])
def test_jvp_while_with_a_data_dependent_trip_count(x, y):
    out, tout = adjit.jvp(while_fn, (x, y), (0.7, -0.4))
    assert out == pytest.approx(while_fn(x, y), rel=1e-12)
    close(tout, cd_jvp(while_fn, (x, y), (0.7, -0.4)))


@pytest.mark.parametrize("x", [np.array([0.5, 0.2, -1.0, 0.3]), np.array([0.1, -0.2, 0.4, 0.9])])
def test_jvp_break(x):
    t = np.array([0.3, 1.0, -1.0, 2.0])
    out, tout = adjit.jvp(break_fn, (x, 4), (t, None))
    assert out == pytest.approx(break_fn(x, 4), rel=1e-12)
    close(tout, cd_jvp(break_fn, (x, 4), (t, None)))


@pytest.mark.parametrize("a", [0.7, -1.3])
def test_jvp_branches_float_and_array_tangents(a):
    x = np.array([0.5, -0.4, 1.1])
    t = np.array([1.0, 0.5, -0.5])
    out, tout = adjit.jvp(branch_fn, (x, a), (t, 0.3))
    assert out == pytest.approx(branch_fn(x, a), rel=1e-12)
    close(tout, cd_jvp(branch_fn, (x, a), (t, 0.3)))


@pytest.mark.parametrize("x", X3)
def test_jvp_writes_through_views_and_slices(x):
    t = np.array([0.2, -1.0, 0.7])
    out, tout = adjit.jvp(writes_fn, (x,), (t,))
    close(out, writes_fn(x.copy()), rtol=1e-12, atol=0)
    close(tout, cd_jvp(writes_fn, (x,), (t,)))


def test_jvp_whole_array_numpy():
    x = np.array([0.3, -0.2, 0.9])
    tW, tx = RNG.uniform(-1, 1, W23.shape), np.array([1.0, 0.0, -1.0])
    out, tout = adjit.jvp(numpy_fn, (W23, x), (tW, tx))
    assert out == pytest.approx(numpy_fn(W23, x), rel=1e-12)
    close(tout, cd_jvp(numpy_fn, (W23, x), (tW, tx)))
    out, tout = adjit.jvp(numpy_vec, (W23, x), (tW, tx))
    close(tout, cd_jvp(numpy_vec, (W23, x), (tW, tx)))


def test_jvp_agrees_with_vjp():
    """<u, J v> by forward mode equals <J^T u, v> by reverse mode."""
    x = X3[2]
    v, u = np.array([0.4, -0.3, 1.0]), RNG.uniform(-1, 1, 4)
    _, Jv = adjit.jvp(writes_fn, (x,), (v,))
    out, vjp_fn = adjit.vjp(writes_fn, x)
    (JTu,) = vjp_fn(u)
    assert np.dot(u, Jv) == pytest.approx(np.dot(JTu, v), rel=1e-12)
    close(out, writes_fn(x.copy()), rtol=1e-12, atol=0)


# ---- vjp ----------------------------------------------------------------------------------
def test_vjp_returns_one_entry_per_primal():
    x = np.array([0.3, -0.2, 0.9])
    out, vjp_fn = adjit.vjp(numpy_vec, W23, x)
    u = np.array([1.0, -2.0])
    cts = vjp_fn(u)
    assert isinstance(cts, tuple) and len(cts) == 2
    close(cts[0], np.tensordot(u, cd_jacobian(numpy_vec, (W23, x), 0), axes=1))
    close(cts[1], u @ cd_jacobian(numpy_vec, (W23, x), 1))
    close(out, numpy_vec(W23, x), rtol=1e-12, atol=0)


def test_vjp_of_an_int_argument_is_none_and_vjp_fn_can_be_called_often():
    x = X3[0]
    out, vjp_fn = adjit.vjp(loop_fn, x, 3)
    assert out == pytest.approx(loop_fn(x, 3), rel=1e-12)
    g, none = vjp_fn(1.0)
    assert none is None
    close(g, cd_jacobian(loop_fn, (x, 3), 0))
    g2, _ = vjp_fn(2.0)
    close(g2, 2 * g, rtol=1e-14, atol=0)


def test_vjp_of_a_tuple_output_takes_a_tuple_cotangent():
    x = np.array([0.5, -1.0, 2.0])
    (s, y), vjp_fn = adjit.vjp(pair, x)
    assert s == pytest.approx(5.25) and np.array_equal(y, 2 * x)
    (g,) = vjp_fn((2.0, np.array([1.0, 0.0, -1.0])))
    close(g, 2.0 * 2 * x + 2.0 * np.array([1.0, 0.0, -1.0]), rtol=1e-14, atol=0)


# ---- Jacobians ----------------------------------------------------------------------------
@pytest.mark.parametrize("x", X3)
def test_jacfwd_and_jacrev_through_writes(x):
    Jf, Jr = JF_WRITES(x), JR_WRITES(x)
    assert Jf.shape == writes_fn(x.copy()).shape + x.shape == (4, 3)
    close(Jf, cd_jacobian(writes_fn, (x,), 0))
    close(Jf, Jr, rtol=1e-12, atol=1e-14)


def test_jacobians_with_tuple_argnums_follow_jax():
    x = np.array([0.3, -0.2, 0.9])
    out_shape = numpy_vec(W23, x).shape
    for jac in (JF_VEC, JR_VEC):
        JW, Jx = jac(W23, x)
        assert JW.shape == out_shape + W23.shape and Jx.shape == out_shape + x.shape
        close(JW, cd_jacobian(numpy_vec, (W23, x), 0))
        close(Jx, cd_jacobian(numpy_vec, (W23, x), 1))


def test_jacobian_of_a_float_output_is_the_gradient():
    x = X3[1]
    J = adjit.jacfwd(loop_fn)(x, 3)
    assert J.shape == x.shape
    close(J, G_LOOP(x, 3), rtol=1e-12, atol=1e-14)
    close(adjit.jacrev(loop_fn)(x, 3), J, rtol=1e-12, atol=1e-14)


def test_jacobian_of_a_float_argument():
    J = adjit.jacfwd(while_fn, argnums=1)(1.7, 0.3)
    assert isinstance(J, float)
    close(J, cd_jacobian(while_fn, (1.7, 0.3), 1))


# ---- Hessians -----------------------------------------------------------------------------
@pytest.mark.parametrize("x", X3)
def test_hessian_symmetric_and_equal_to_jacfwd_of_grad(x):
    H = H_LOOP(x, 3)
    assert H.shape == (3, 3)
    close(H, H.T, rtol=1e-12, atol=1e-13)
    close(H, JFG_LOOP(x, 3), rtol=1e-14, atol=0)
    close(H, cd_jacobian(G_LOOP, (x, 3), 0))


def test_hessian_of_whole_array_numpy():
    x = np.array([0.3, -0.2, 0.9])
    H = H_NUMPY(x, W23)
    assert H.shape == (3, 3)
    close(H, H.T, rtol=1e-12, atol=1e-13)
    close(H, cd_jacobian(adjit.grad(numpy_fn_xw), (x, W23), 0))


@pytest.mark.parametrize("x", X3[:2])
def test_hvp_is_hessian_times_v(x):
    v = np.array([0.5, -1.0, 2.0])
    g, Hv = adjit.hvp(loop_fn, (x, 3), (v, None))
    close(g, G_LOOP(x, 3), rtol=1e-12, atol=1e-14)
    close(Hv, H_LOOP(x, 3) @ v, rtol=1e-12, atol=1e-13)


def test_hessian_through_break_and_branches():
    x = np.array([0.5, 0.2, -1.0, 0.3])
    H = adjit.hessian(break_fn)(x, 4)
    close(H, cd_jacobian(adjit.grad(break_fn), (x, 4), 0))
    xb = np.array([0.5, -0.4, 1.1])
    Hb = adjit.hessian(branch_fn)(xb, 0.7)
    close(Hb, cd_jacobian(adjit.grad(branch_fn), (xb, 0.7), 0))


# ---- grad of grad ---------------------------------------------------------------------------
@pytest.mark.parametrize("x", [0.3, -1.2, 2.0])
def test_grad_of_grad_of_a_scalar_function(x):
    assert GG_CUBE(x) == pytest.approx(6 * x - math.sin(x), rel=1e-12)


@pytest.mark.parametrize("x, y", [(1.7, 0.3), (3.1, 2.0)])
def test_grad_of_grad_through_a_while(x, y):
    expected = cd_jacobian(adjit.grad(while_fn), (x, y), 0)
    close(GG_WHILE(x, y), expected)


def test_jit_of_grad_is_the_grad():
    assert adjit.jit(G_LOOP) is G_LOOP


# ---- nested: compiled code calling adjit gradients ----------------------------------------------
def pair_energy(r, k):
    return k * (r - 1.0) ** 2 + 0.1 * r ** 4


FORCE = adjit.grad(pair_energy)


def relax(x, k, n):
    """Gradient descent on each coordinate, through the inner gradient, inside loops."""
    s = 0.0
    for i in range(x.shape[0]):
        r = x[i]
        for step in range(n):
            r = r - 0.1 * FORCE(r, k)
        s += r * r * x[i]
    return s


def test_a_compiled_function_calling_a_gradient_inside_a_loop():
    x = np.array([0.3, 1.5, -0.4])
    assert adjit.jit(relax)(x, 0.8, 5) == pytest.approx(relax(x, 0.8, 5), rel=1e-12)
    gx, gk = adjit.grad(relax, argnums=(0, 1))(x, 0.8, 5)
    close(gx, cd_jacobian(relax, (x, 0.8, 5), 0))
    close(gk, cd_jacobian(relax, (x, 0.8, 5), 1))


def add(x, y):
    return x + y


def mul(x, y):
    return x * y


D_ADD_DY = adjit.grad(add, argnums=1)
D_MUL_DY = adjit.grad(mul, argnums=1)


def confusion(x):
    return x * D_ADD_DY(x, 3.0)    # x * d/dy (x + y) = x


def confusion_mul(x):
    return x * D_MUL_DY(x, 3.0)    # x * d/dy (x * y) = x * x


def test_no_perturbation_confusion():
    assert adjit.grad(confusion)(2.0) == 1.0
    assert adjit.jvp(confusion, (2.0,), (1.0,)) == (2.0, 1.0)
    assert adjit.grad(confusion_mul)(2.5) == 5.0
    assert adjit.grad(adjit.grad(confusion_mul))(2.5) == 2.0


# ---- the caller's arrays are never changed ---------------------------------------------------
def test_transformations_never_change_the_callers_arrays():
    x0 = np.array([0.5, -1.5, 0.8])
    x = x0.copy()
    expected_J = cd_jacobian(in_place, (x0, 3), 0)
    _, t = adjit.jvp(in_place, (x, 3), (np.ones(3), None))
    close(t, expected_J.sum())
    out, vjp_fn = adjit.vjp(in_place, x, 3)
    assert out == pytest.approx(in_place(x0.copy(), 3), rel=1e-12)
    close(vjp_fn(1.0)[0], expected_J)
    close(adjit.jacfwd(in_place)(x, 3), expected_J)
    close(adjit.jacrev(in_place)(x, 3), expected_J)
    close(adjit.hessian(in_place)(x, 3), cd_jacobian(adjit.grad(in_place), (x0, 3), 0))
    adjit.hvp(in_place, (x, 3), (np.ones(3), None))
    assert np.array_equal(x, x0)


# ---- clear refusals ------------------------------------------------------------------------
def pair_xy(x, y):
    return np.sum(x * x) * y, np.sin(x) * y


@pytest.mark.parametrize("jac", [adjit.jacfwd, adjit.jacrev])
def test_jacobians_of_a_tuple_output_are_a_tuple(jac):
    """JAX's convention: one Jacobian per output (a tuple of them per output for a tuple argnums)."""
    x = np.array([0.5, -1.0, 2.0])
    Js = jac(pair)(x)
    assert isinstance(Js, tuple) and len(Js) == 2 and np.shape(Js[0]) == (3,) and np.shape(Js[1]) == (3, 3)
    close(Js[0], cd_jacobian(lambda x: pair(x)[0], [x], 0))
    close(Js[1], cd_jacobian(lambda x: pair(x)[1], [x], 0))
    (Jsx, Jsy), (Jvx, Jvy) = jac(pair_xy, argnums=(0, 1))(x, 0.7)
    for k, J in ((0, Jsx), (1, Jsy)):
        close(J, cd_jacobian(lambda *a: pair_xy(*a)[0], [x, 0.7], k))
    for k, J in ((0, Jvx), (1, Jvy)):
        close(J, cd_jacobian(lambda *a: pair_xy(*a)[1], [x, 0.7], k))


def test_a_transformation_of_the_jacobians_of_a_tuple_is_refused():
    with pytest.raises(adjit.AdjitError, match="returns a tuple"):
        adjit.jacfwd(adjit.jacfwd(pair))(np.ones(3))


def test_grad_of_value_and_grad_is_refused():
    with pytest.raises(adjit.AdjitError):
        adjit.grad(adjit.value_and_grad(cube))(1.0)


def test_wrong_tangents_are_refused():
    x = np.array([0.5, 1.0, 2.0])
    with pytest.raises(adjit.AdjitError, match="shape"):
        adjit.jvp(loop_fn, (x, 3), (np.ones(2), None))
    with pytest.raises(adjit.AdjitError, match="one tangent per primal"):
        adjit.jvp(loop_fn, (x, 3), (np.ones(3),))
    with pytest.raises(adjit.AdjitError, match="must be None"):
        adjit.jvp(loop_fn, (x, 3), (np.ones(3), 1))
    with pytest.raises(adjit.AdjitError, match="must be a number"):
        adjit.jvp(while_fn, (1.0, 2.0), (np.ones(2), 1.0))


def test_wrong_number_of_tuple_cotangents_is_refused():
    _, vjp_fn = adjit.vjp(pair, np.ones(3))
    with pytest.raises(adjit.AdjitError, match="returns 2 values"):
        vjp_fn((1.0,))


# ---- known bugs (strict xfail: each passes once the bug is fixed) --------------------------------
def quartic(x):
    return x * x * x * x


def f_xa(x, a):
    return a * a * x[0]


def square_sum(x):
    return x[0] * x[0] * x[1]


def test_hessian_with_argnums_1():
    assert adjit.hessian(f_xa, argnums=1)(np.array([1.0, 2.0]), 3.0) == 2.0


def test_hessian_with_tuple_argnums_is_a_nested_tuple():
    H = adjit.hessian(f_xa, argnums=(0, 1))(np.array([1.0, 2.0]), 3.0)
    assert isinstance(H, tuple) and len(H) == 2 and all(isinstance(row, tuple) and len(row) == 2 for row in H)


def _correct_or_refused(compute, expected):
    try:
        got = compute()
    except adjit.AdjitError:
        return
    close(got, expected, rtol=1e-12, atol=1e-12)


def test_jvp_of_grad_of_grad():
    _correct_or_refused(lambda: adjit.jvp(adjit.grad(adjit.grad(quartic)), (2.0,), (1.0,)), (48.0, 48.0))


def test_third_derivative():
    _correct_or_refused(lambda: adjit.grad(adjit.grad(adjit.grad(quartic)))(2.0), 48.0)


def test_jacfwd_of_jacfwd():
    _correct_or_refused(lambda: adjit.jacfwd(adjit.jacfwd(square_sum))(np.array([1.0, 2.0])),
                        np.array([[4.0, 2.0], [2.0, 0.0]]))


def test_grad_of_jacfwd_is_refused():
    with pytest.raises(adjit.AdjitError):
        adjit.grad(adjit.jacfwd(square_sum))(np.array([1.0, 2.0]))


def test_jvp_of_hessian_and_vjp_of_jacfwd():
    x = np.array([1.0, 2.0])
    H = np.array([[4.0, 2.0], [2.0, 0.0]])
    # third derivatives of x0^2 x1 along (1, 1): d/ds H(x + s(1, 1)) = [[2, 2], [2, 0]]
    _correct_or_refused(lambda: adjit.jvp(adjit.hessian(square_sum), (x,), (np.ones(2),)),
                        (H, np.array([[2.0, 2.0], [2.0, 0.0]])))
    _correct_or_refused(lambda: adjit.vjp(adjit.jacfwd(square_sum), x)[0], np.array([4.0, 1.0]))


def test_wrong_cotangent_shape_is_refused():
    _, vjp_fn = adjit.vjp(writes_fn, np.ones(3))
    with pytest.raises(adjit.AdjitError):
        vjp_fn(np.ones(7))


def test_show_of_a_hessian_with_arguments():
    text = adjit.show(adjit.hessian(square_sum), np.array([1.0, 2.0]), file=None)
    assert "def square_sum_jacfwd" in text


# ---- every construct: jvp against vjp, Jacobians and Hessians in one sweep ----------------------
# (function, args, float argument positions): loops, a data-dependent `while`, `break`, branches,
# writes through views and slices, whole-array NumPy
CONSTRUCTS = {
    "loop": (loop_fn, (X3[2], 3), (0,)),
    "while": (while_fn, (1.7, 0.3), (0, 1)),
    "break": (break_fn, (np.array([0.5, 0.2, -1.0, 0.3]), 4), (0,)),
    "branches": (branch_fn, (np.array([0.5, -0.4, 1.1]), 0.7), (0, 1)),
    "writes": (writes_fn, (X3[1],), (0,)),
    "numpy": (numpy_vec, (W23, np.array([0.3, -0.2, 0.9])), (0, 1)),
}


def _direction(arg, seed):
    r = np.random.default_rng(seed)
    return r.uniform(-1, 1, np.shape(arg)) if isinstance(arg, np.ndarray) else float(r.uniform(-1, 1))


@pytest.mark.parametrize("name", list(CONSTRUCTS))
def test_jvp_against_vjp_on_every_construct(name):
    """<u, J v> by forward mode equals <J^T u, v> by reverse mode, and J v central differences."""
    fun, args, floats = CONSTRUCTS[name]
    tangents = tuple(_direction(a, 7 + k) if k in floats else None for k, a in enumerate(args))
    out, Jv = adjit.jvp(fun, args, tangents)
    close(Jv, cd_jvp(fun, args, tangents))
    u = _direction(out, 3)
    _, vjp_fn = adjit.vjp(fun, *args)
    pulled = vjp_fn(u)
    forward_side = np.sum(np.asarray(u) * np.asarray(Jv))
    reverse_side = sum(np.sum(pulled[k] * tangents[k]) for k in floats)
    assert forward_side == pytest.approx(reverse_side, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name", list(CONSTRUCTS))
def test_jacfwd_in_one_sweep_on_every_construct(name, monkeypatch):
    """jacfwd with every float argument at once, with the per-direction fallback disabled (so
    the batched sweep is what runs, when an array is among them), against central differences
    and jacrev."""
    fun, args, floats = CONSTRUCTS[name]
    if any(isinstance(args[k], np.ndarray) for k in floats):
        _no_fallback(monkeypatch)
    Js = adjit.jacfwd(fun, argnums=floats)(*args)
    Jr = adjit.jacrev(fun, argnums=floats)(*args)
    for k, J, R in zip(floats, Js, Jr):
        assert np.shape(J) == np.shape(fun(*_copies(args))) + np.shape(args[k])
        close(J, cd_jacobian(fun, list(args), k))
        close(J, R, rtol=1e-10, atol=1e-12)


def recurrence(W, x, n):
    """An array state carried by a loop: its gradient keeps a tape of arrays."""
    h = x
    for i in range(n):
        h = np.tanh(W @ h) + 0.1 * h
    return np.sum(h * h)


CONSTRUCTS_SCALAR = dict(CONSTRUCTS, recurrence=(recurrence, (W23.T @ W23, np.array([0.3, -0.2, 0.9]), 3), (1, 0)))


def _no_fallback(monkeypatch):
    import adjit.transforms as tr

    def no_fallback(*a, **k):
        raise AssertionError("the Jacobian fell back to one sweep per direction")
    monkeypatch.setattr(tr, "jacobian_ir", no_fallback)


@pytest.mark.parametrize("name", ["loop", "while", "break", "branches", "recurrence"])
def test_hessian_symmetric_and_equal_to_differences_of_the_gradient(name, monkeypatch):
    """In one sweep (the fallback disabled), through gradients that keep tapes of numbers
    (while) and of arrays (recurrence)."""
    fun, args, floats = CONSTRUCTS_SCALAR[name]
    k = floats[0]
    if isinstance(args[k], np.ndarray):
        _no_fallback(monkeypatch)
    H = adjit.hessian(fun, argnums=k)(*args)
    n = np.size(args[k])
    Hm = np.reshape(H, (n, n))
    close(Hm, Hm.T, rtol=1e-10, atol=1e-12)
    close(H, cd_jacobian(adjit.grad(fun, argnums=k), list(args), k), rtol=1e-5, atol=1e-6)


def test_batched_and_per_direction_jacobians_agree(monkeypatch):
    """The two ways of building a Jacobian (one sweep carrying all directions, and one sweep
    per direction) give the same numbers."""
    import adjit.transforms as tr
    x = np.array([0.5, -0.4, 1.1])
    batched = adjit.jacfwd(branch_fn, argnums=(0, 1))(x, 0.7)
    monkeypatch.setattr(tr, "BATCHED", False)
    single = adjit.jacfwd(branch_fn, argnums=(0, 1))(x, 0.7)
    for a, b in zip(batched, single):
        close(a, b, rtol=1e-14, atol=0)


def test_a_jacobian_is_one_sweep_in_the_generated_code():
    """The generated Jacobian computes the primal once: one copy of the loop, and the
    directions in an inner loop over k."""
    text = adjit.show(adjit.jacfwd(loop_fn), X3[0], 3, file=None)
    assert text.count("math.sin(") == 1 and "for q in range(k)" in text


# ---- combinations of transformations: each works or is refused clearly ---------------------------
def sin_scaled(x):
    return np.sin(x) * x[0]


def jvp_inside(x, v):
    """A function calling adjit.jvp: J(x) v for sin_scaled."""
    out, t = adjit.jvp(sin_scaled, (x,), (v,))
    return t


def jvp_inside_reference(x, v):
    return np.cos(x) * v * x[0] + np.sin(x) * v[0]


G_WHILE_KEEPS_TAPES = adjit.grad(while_fn)


def calls_a_taping_gradient(x, y):
    s = 0.0
    for i in range(2):
        s += G_WHILE_KEEPS_TAPES(x + i, y)
    return s


def test_jit_of_a_function_calling_jvp():
    x, v = np.array([0.3, -0.5, 1.2]), np.array([1.0, 0.5, -2.0])
    close(adjit.jit(jvp_inside)(x, v), jvp_inside_reference(x, v), rtol=1e-12, atol=0)


@pytest.mark.parametrize("x", X3[:2])
def test_vjp_of_a_jvp(x):
    """Reverse mode over forward mode: vjp of a function that calls adjit.jvp."""
    v = np.array([1.0, 0.5, -2.0])
    out, vjp_fn = adjit.vjp(jvp_inside, x, v)
    close(out, jvp_inside_reference(x, v), rtol=1e-12, atol=0)
    u = np.array([0.3, -1.0, 0.7])
    gx, gv = vjp_fn(u)
    close(gx, u @ cd_jacobian(jvp_inside_reference, [x, v], 0))
    close(gv, u @ cd_jacobian(jvp_inside_reference, [x, v], 1))


def test_jvp_in_compiled_code_refuses_bad_calls():
    def bad(x):
        return adjit.jvp(sin_scaled, x, x)
    with pytest.raises(adjit.AdjitError, match="tuples"):
        adjit.jit(bad)(np.ones(3))


@pytest.mark.parametrize("x", X3[:2])
def test_jacrev_of_grad_is_the_hessian(x):
    close(adjit.jacrev(G_LOOP)(x, 3), H_LOOP(x, 3), rtol=1e-10, atol=1e-12)


def test_jacrev_of_a_gradient_that_keeps_tapes():
    """Reverse over a reverse sweep with tapes is not supported: jacrev computes the same
    Jacobian by forward mode over it."""
    J = adjit.jacrev(G_WHILE_KEEPS_TAPES)(1.7, 0.3)
    close(J, cd_jacobian(G_WHILE_KEEPS_TAPES, [1.7, 0.3], 0))


def test_vjp_of_a_gradient_that_keeps_tapes_is_refused_with_the_alternative():
    with pytest.raises(adjit.AdjitError, match="forward mode over it"):
        adjit.vjp(G_WHILE_KEEPS_TAPES, 1.7, 0.3)


def test_vjp_of_a_gradient_without_tapes_is_the_hessian_product():
    x, u = X3[0], np.array([0.2, 1.0, -0.5])
    _, vjp_fn = adjit.vjp(G_LOOP, x, 3)
    close(vjp_fn(u)[0], H_LOOP(x, 3) @ u, rtol=1e-10, atol=1e-12)


def test_grad_of_a_function_calling_a_taping_gradient_in_a_loop_is_refused():
    """The outer reverse sweep would have to reverse the inner one's tapes: a clear error,
    and forward mode over it works."""
    with pytest.raises(adjit.AdjitError):
        adjit.grad(calls_a_taping_gradient)(1.7, 0.3)
    _, t = adjit.jvp(calls_a_taping_gradient, (1.7, 0.3), (1.0, 0.0))
    close(t, cd_jvp(calls_a_taping_gradient, (1.7, 0.3), (1.0, None)))


def test_jit_of_grad_computes_the_gradient():
    x = X3[1]
    g = adjit.jit(adjit.grad(loop_fn))
    close(g(x, 3), cd_jacobian(loop_fn, [x, 3], 0))


def test_hessian_of_the_bench_problem_equals_the_hand_written_ones():
    from adjit.bench.problems.derivatives import rosenbrock_hessian, rosenbrock_hessian_dense
    from adjit.bench.problems.rosenbrock import rosenbrock
    x = np.random.default_rng(5).uniform(-1.2, 1.2, 6)
    H = adjit.hessian(rosenbrock)(x)
    close(H, rosenbrock_hessian(x)[1][0], rtol=1e-12, atol=1e-12)
    close(H, rosenbrock_hessian_dense(x)[1][0], rtol=1e-12, atol=1e-12)
    close(H, cd_jacobian(adjit.grad(rosenbrock), [x], 0), rtol=1e-6, atol=1e-5)


def lanes_torture(x, s):
    """Number tangents crossing lane loops every way: carried and swapped, out of branches,
    used in a nested loop after being made outside it; array ops mixing number and array
    tangents; views, reshapes, transposes, slice writes of a number, np.full of a varied fill."""
    n = x.shape[0]
    a, b = s, x[0]
    c = s * x[1]                          # made outside the loops, read inside the inner one
    for i in range(n):
        a, b = b, a * math.cos(x[i])      # a swap of carried numbers
        if x[i] > 0.0:
            d = a * c
        else:
            d = b - c * c
        for j in range(2):
            a = a + 0.1 * d * c
    y = np.full(n, b) + x * s             # np.full of a varied number, array * number
    y[1:3] = a                            # a slice write of a number
    M = np.reshape(y, (2, n // 2)).T      # a reshape and a transpose (views)
    M[0, :] += x[:2] * c                  # a write through them
    return np.sum(M * M) + np.sum(np.expand_dims(y, 0) * x) + a * b


def test_jacobian_of_lane_crossing_tangents_in_one_sweep(monkeypatch):
    _no_fallback(monkeypatch)
    for x, s in ((np.array([0.3, -0.5, 1.2, 0.7]), 0.8), (np.array([-0.4, 0.9, -1.1, 0.2]), -1.3)):
        Jx, Js = adjit.jacfwd(lanes_torture, argnums=(0, 1))(x, s)
        close(Jx, cd_jacobian(lanes_torture, [x, s], 0))
        close(Js, cd_jacobian(lanes_torture, [x, s], 1))
        H = adjit.hessian(lanes_torture)(x, s)
        close(H, H.T, rtol=1e-9, atol=1e-10)
        close(H, cd_jacobian(adjit.grad(lanes_torture), [x, s], 0), rtol=1e-5, atol=1e-6)


def full_of_a_varied_number(x, s):
    y = np.full(x.shape[0], s * x[0])   # every element is s * x[0]
    y[1] = x[1]
    return np.sum(y * y * x)


def test_np_full_of_a_varied_number_has_its_derivative():
    """np.full had no derivative rule: its fill's derivative was silently zero in every mode."""
    x, s = np.array([0.3, -0.5, 1.2]), 0.8
    for k in (0, 1):
        expected = cd_jacobian(full_of_a_varied_number, [x, s], k)
        close(adjit.grad(full_of_a_varied_number, argnums=k)(x, s), expected)
        close(adjit.jacfwd(full_of_a_varied_number, argnums=k)(x, s), expected)
    t = np.array([1.0, -0.5, 0.25])
    close(adjit.jvp(full_of_a_varied_number, (x, s), (t, 0.5))[1], cd_jvp(full_of_a_varied_number, (x, s), (t, 0.5)))


def test_hessian_of_an_array_output_is_jacfwd_of_jacrev():
    """JAX's hessian of a vector function: shape out.shape + x.shape + x.shape, each slice
    symmetric, equal to differences of the Jacobian."""
    x = np.array([0.3, -0.2, 0.9])
    H = adjit.hessian(numpy_vec, argnums=1)(W23, x)
    assert H.shape == (2, 3, 3)
    close(H, np.transpose(H, (0, 2, 1)), rtol=1e-10, atol=1e-12)
    close(H, cd_jacobian(adjit.jacrev(numpy_vec, argnums=1), [W23, x], 1), rtol=1e-5, atol=1e-6)


def test_jacobians_in_numbers_allocate_nothing_per_direction():
    """With respect to numbers only, one jvp per direction with number tangents: the
    generated code allocates no array."""
    text = adjit.show(adjit.jacfwd(while_fn, argnums=(0, 1)), 1.7, 0.3, file=None)
    assert "np.zeros" not in text and "np.empty" not in text and "np.full" not in text
