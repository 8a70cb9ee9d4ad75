"""Arrays that share memory or are written after use (issue 12): views, rows, reshapes,
parameters written through views, int/bool arrays changed after a whole-array use, arrays
computed in branches inside loops, double buffers, shape-changing carried arrays, the same
array passed twice, and adjit objects handed to adjit.

Every case runs at 2-3 points and checks that
- adjit.value_and_grad's value is plain Python's, and its gradient (and adjit.grad's) agrees
  with central differences and with adjit.tape;
- grad / value_and_grad leave the caller's arrays exactly as they were;
- adjit.jit returns Python's value and leaves the arguments exactly as Python leaves them.

A refusal is accepted only where issue 12 allows one: nested adjit objects must raise
adjit.AdjitError; the same array passed twice may raise it; double buffers and the Haar
pyramid may raise it with the offending file:line (``correct_or_refused``).  Everything else
must be right.

The functions under test are at module level (adjit reads their source); each one's adjit
objects are made once here and shared by its tests (adjit caches per type signature).
"""
import numpy as np
import pytest

import adjit
import adjit.tape
from adjit import AdjitError

H = 1e-6
RTOL = 1e-6
ATOL = 1e-6


# ---- helpers --------------------------------------------------------------------------------
def copies(args):
    """Fresh copies of the array arguments (the same object passed twice stays one object)."""
    memo = {}
    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            if id(a) not in memo:
                memo[id(a)] = a.copy()
            out.append(memo[id(a)])
        else:
            out.append(a)
    return out


def snapshot(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def assert_same_args(got, want, what):
    for k, (g, w) in enumerate(zip(got, want)):
        if isinstance(w, np.ndarray):
            assert g.dtype == w.dtype and g.shape == w.shape, f'{what}: argument {k}'
            assert np.array_equal(g, w), f'{what}: argument {k} is {g!r}, want {w!r}'


def central(f, args, k, h=H):
    """Central differences of Python's f(*args) with respect to args[k] (float or array);
    every evaluation runs on fresh copies, so writes into the arguments do not accumulate."""
    x = args[k]
    if isinstance(x, float):
        hi, lo = list(args), list(args)
        hi[k], lo[k] = x + h, x - h
        return (f(*copies(hi)) - f(*copies(lo))) / (2 * h)
    g = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        hi, lo = list(args), list(args)
        hi[k], lo[k] = xp, xm
        g[i] = (f(*copies(hi)) - f(*copies(lo))) / (2 * h)
    return g


def _tuple(g, argnums):
    return (g,) if isinstance(argnums, int) else tuple(g)


def _refused(e, may_refuse, what):
    if not may_refuse:
        raise AssertionError(f'{what} refused a construct issue 12 says must work: {e}') from e
    assert 'test_memory.py:' in str(e), f'{what}: the refusal does not name file:line: {e}'


def check(f, points, argnums=0, vg=None, g=None, jit=None, may_refuse=False):
    """The checks of the module docstring, at each point (a tuple of arguments)."""
    for args in points:
        args = list(args)
        py_args = copies(args)
        want = f(*py_args)                       # plain Python: its value and its effects
        nums = _tuple(argnums, argnums)
        fds = [central(f, args, k) for k in nums]
        # the tape engine is the independent oracle
        t_args = copies(args)
        t_before = snapshot(t_args)
        tv, tg = adjit.tape.value_and_grad(f, argnums=argnums)(*t_args)
        assert_same_args(t_args, t_before, 'adjit.tape changed the caller\'s arrays')
        assert tv == pytest.approx(want, rel=1e-12, abs=1e-300)
        for k, a, b in zip(nums, _tuple(tg, argnums), fds):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL,
                                       err_msg=f'adjit.tape vs central differences, arg {k}')
        if vg is not None:
            a_args = copies(args)
            before = snapshot(a_args)
            try:
                v, gr = vg(*a_args)
            except AdjitError as e:
                _refused(e, may_refuse, 'value_and_grad')
            else:
                assert_same_args(a_args, before, 'value_and_grad changed the caller\'s arrays')
                assert v == pytest.approx(want, rel=1e-12, abs=1e-300), 'value_and_grad value'
                for k, a, b, t in zip(nums, _tuple(gr, argnums), fds, _tuple(tg, argnums)):
                    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL,
                                               err_msg=f'gradient vs central differences, arg {k}')
                    np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-12,
                                               err_msg=f'gradient vs adjit.tape, arg {k}')
        if g is not None:
            a_args = copies(args)
            before = snapshot(a_args)
            try:
                gr = g(*a_args)
            except AdjitError as e:
                _refused(e, may_refuse, 'grad')
            else:
                assert_same_args(a_args, before, 'grad changed the caller\'s arrays')
                for k, a, t in zip(nums, _tuple(gr, argnums), _tuple(tg, argnums)):
                    np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-12,
                                               err_msg=f'grad vs adjit.tape, arg {k}')
        if jit is not None:
            j_args = copies(args)
            try:
                v = jit(*j_args)
            except AdjitError as e:
                _refused(e, may_refuse, 'jit')
            else:
                assert v == pytest.approx(want, rel=1e-12, abs=1e-300), 'jit value'
                assert_same_args(j_args, py_args, 'jit left the arguments unlike Python')


def correct_or_refused(f, points, argnums=0, **objs):
    """Either the right answer or an AdjitError naming file:line (double buffers, Haar)."""
    check(f, points, argnums, may_refuse=True, **objs)


def objects(f, argnums=0):
    return dict(vg=adjit.value_and_grad(f, argnums=argnums), g=adjit.grad(f, argnums=argnums),
                jit=adjit.jit(f))


# ---- 0. an element write into the result of a whole-array op -------------------------------
def r0_tanh_write(a):
    t1 = np.tanh(a)
    t1[4] -= t1[1]
    return np.sum(t1 * t1)


R0 = objects(r0_tanh_write)


def test_r0_write_into_whole_array_result():
    a = np.linspace(-1, 1, 6)
    check(r0_tanh_write, [(a,), (a * 0.7 + 0.1,), (np.array([0.3, -0.2, 0.9, 1.1, -0.4, 0.5]),)],
          **R0)


# ---- 1. a write through a view is a write to its base --------------------------------------
def r1_view_write(x):
    p = np.zeros(3)
    v = p[1:]
    v[0] = x
    return p[1] * 3.0 + p[2] * x


R1A = objects(r1_view_write)


def test_r1_write_through_slice_reaches_base():
    check(r1_view_write, [(0.5,), (-1.25,), (2.0,)], **R1A)


def fill(out, x):
    out[0] = x


def r1_fill_row(x):
    K = np.zeros((2, 2))
    fill(K[0], x)
    return K[0, 0] * 3.0 + np.sum(K * K)


R1B = objects(r1_fill_row)


def test_r1_helper_fills_a_row():
    check(r1_fill_row, [(0.5,), (-1.25,), (2.0,)], **R1B)


def r1_reshape_write(x):
    buf = np.zeros(4)
    M = buf.reshape(2, 2)
    M[1, 1] = x
    return buf[3] * 3.0 + np.sum(buf * buf)


R1C = objects(r1_reshape_write)


def test_r1_write_through_reshape_reaches_base():
    check(r1_reshape_write, [(0.5,), (-1.25,), (2.0,)], **R1C)


# ---- 2. a view of a parameter, written ----------------------------------------------------
def r2_param_view(x):
    v = x[1:]
    v[0] = 5.0
    return np.sum(x * x)


R2A = objects(r2_param_view)


def test_r2_view_of_differentiated_parameter_written():
    x = np.array([1.0, 2.0, 3.0])
    assert R2A['g'](x.copy()).tolist() == [2.0, 0.0, 6.0]       # Python: 35, gradient [2, 0, 6]
    check(r2_param_view, [(x,), (np.array([-0.5, 0.25, 1.5]),)], **R2A)


def r2_nondiff_view(w, x):
    y = np.sum(w * x)
    v = w[:]
    v *= 0.5
    return y


R2B = objects(r2_nondiff_view, argnums=1)


def test_r2_view_of_other_parameter_written_after_use():
    w, x = np.array([3.0, 4.0]), np.array([1.0, -2.0])
    assert R2B['g'](w.copy(), x.copy()).tolist() == [3.0, 4.0]
    check(r2_nondiff_view, [(w, x), (np.array([-1.5, 0.5]), np.array([0.25, 2.0]))],
          argnums=1, **R2B)


# ---- 3. views of a written array keep seeing the writes ------------------------------------
def r3_inner_slice(x):
    u = np.zeros(4)
    u[0] = 1.0
    inner = u[1:-1]
    inner[:] = x
    return np.sum(u * u)


R3A = objects(r3_inner_slice)


def test_r3_slice_assignment_through_view():
    check(r3_inner_slice, [(np.array([1.0, 2.0]),), (np.array([-0.5, 0.75]),)], **R3A)


def r3_transpose_view(x):
    A = x.copy()
    At = A.T
    A[0, 0] = 0.0
    return np.sum(At * At) + np.sum(At[0] * x[:, 1])


R3B = objects(r3_transpose_view)


def test_r3_transpose_sees_later_write():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    check(r3_transpose_view, [(x,), (np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]),)],
          **R3B)


# ---- 4. int and bool arrays changed after a whole-array use ---------------------------------
def r4_int_changed(x, c):
    y = np.sum(c * x)
    c[0] = 10
    return y


R4A = objects(r4_int_changed)


def test_r4_int_array_changed_after_use():
    c = np.array([3, 4])
    assert R4A['g'](np.array([1.0, 2.0]), c.copy()).tolist() == [3.0, 4.0]
    check(r4_int_changed, [(np.array([1.0, 2.0]), c), (np.array([-0.5, 0.3]), np.array([-2, 7]))],
          **R4A)


def r4_mask_loop(x):
    m = x > 0.0
    s = 0.0
    for i in range(x.shape[0]):
        y = np.where(m, x, 0.0)
        s += np.sum(y * y) * (i + 1.0)
        m[i] = False
    return s


R4B = objects(r4_mask_loop)


def test_r4_bool_mask_updated_in_loop():
    check(r4_mask_loop, [(np.array([0.5, -1.0, 2.0]),), (np.array([1.5, 0.25, -0.75]),)], **R4B)


# ---- 5. +x is a copy ------------------------------------------------------------------------
def r5_unary_plus(x):
    y = +x
    y[0] = 0.0
    return np.sum(x * x) + np.sum(y * x)


R5 = objects(r5_unary_plus)


def test_r5_unary_plus_is_a_copy():
    x = np.array([1.0, 2.0])
    assert R5['jit'](x.copy()) == 9.0                 # Python: 5.0 + 4.0 (y is a copy)
    check(r5_unary_plus, [(np.array([1.0, 2.0]),), (np.array([-0.5, 1.5]),)], **R5)


# ---- 6. arrays needed from a branch in a loop; return in a loop; shape-changing carry -------
def r6_if_in_loop(x):
    s = 0.0
    for i in range(3):
        if x[i] > 0.5:
            s += np.sum(x * x) * x[i]
    return s


R6A = objects(r6_if_in_loop)


def test_r6_array_computed_in_branch_in_loop():
    check(r6_if_in_loop, [(np.array([1.0, 0.2, 0.7]),), (np.array([0.1, 0.9, 1.3]),),
                          (np.array([0.6, 0.8, 0.3]),)], **R6A)


def r6_return_in_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        buf = x * (i + 1.0)
        s += x[i]
        if s > 2.0:
            return np.sum(buf * buf) / s
    return s


R6B = objects(r6_return_in_loop)


def test_r6_return_of_array_expression_inside_loop():
    check(r6_return_in_loop, [(np.array([1.5, 1.0, 0.5]),), (np.array([0.5, 0.25, 2.0]),),
                              (np.array([0.1, 0.2, 0.3]),)], **R6B)


def r6_haar(x):
    a = x
    s = 0.0
    while a.shape[0] > 1:
        a = a[0::2] + a[1::2]
        s += np.sum(a * a)
    return s


R6C = objects(r6_haar)


def test_r6_haar_pyramid_shape_changing_carry():
    correct_or_refused(r6_haar, [(np.arange(1.0, 9.0),), (np.linspace(-1.0, 0.5, 8),)], **R6C)


# ---- 7. an array allocated inside a top-level if --------------------------------------------
def r7_alloc_in_if(x, mode):
    if mode > 0:
        buf = np.zeros(2)
        buf[0] = x
        s = buf[0] * 2.0 + buf[0] * x
    else:
        s = x
    return s


R7 = objects(r7_alloc_in_if)


def test_r7_array_allocated_in_top_level_if():
    check(r7_alloc_in_if, [(0.5, 1), (-1.5, 1), (2.0, 0)], **R7)


# ---- 8. adjit objects handed to adjit: transformations compose (forward over reverse) -----
def cube(x):
    return x ** 3


D_CUBE = adjit.grad(cube)


def calls_grad(x):
    return D_CUBE(x) * 2.0


def test_r8_grad_of_grad_is_the_second_derivative():
    assert D_CUBE(1.5) == pytest.approx(6.75)
    assert adjit.grad(adjit.grad(cube))(1.5) == pytest.approx(9.0, rel=1e-12)
    value, second = adjit.value_and_grad(adjit.grad(cube))(1.5)
    assert value == pytest.approx(6.75, rel=1e-12) and second == pytest.approx(9.0, rel=1e-12)


def test_r8_jit_of_grad_is_the_grad():
    assert adjit.jit(adjit.grad(cube))(1.5) == pytest.approx(6.75, rel=1e-12)


def test_r8_other_adjit_objects_given_to_adjit():
    # the gradient of value_and_grad's pair is not defined: a clear refusal naming the function
    for outer in (adjit.grad, adjit.value_and_grad):
        with pytest.raises(AdjitError) as e:
            outer(adjit.value_and_grad(cube))(1.5)
        assert 'cube' in str(e.value)
    assert adjit.jit(adjit.value_and_grad(cube))(1.5) == pytest.approx((3.375, 6.75), rel=1e-12)
    # a jit object computes f itself
    for outer, want in ((adjit.grad, 6.75), (adjit.value_and_grad, (3.375, 6.75)), (adjit.jit, 3.375)):
        assert outer(adjit.jit(cube))(1.5) == pytest.approx(want, rel=1e-12)


def test_r8_compiled_code_calling_a_grad_object():
    # the grad object's transformed IR is inlined, not cube's source
    assert calls_grad(1.5) == pytest.approx(13.5)                # plain Python
    assert adjit.jit(calls_grad)(1.5) == pytest.approx(13.5, rel=1e-12)
    assert adjit.grad(calls_grad)(1.5) == pytest.approx(18.0, rel=1e-12)  # d/dx 6x^2 = 12x


# ---- 9. the same array passed as two arguments, one written --------------------------------
def r9_two_args(x, out):
    out[0] = 2.0 * x[1]
    return np.sum(x * x) + out[1] * x[0]


R9 = objects(r9_two_args)


def _same_twice(x):
    return r9_two_args(x, x)


def test_r9_same_array_passed_twice():
    for x in (np.array([1.0, 2.0, 3.0]), np.array([-0.5, 0.75, 1.25])):
        want = _same_twice(x.copy())
        want_after = x.copy()
        _same_twice(want_after)
        fd = central(_same_twice, [x], 0)
        # adjit.tape: x and out stay one array
        xa = x.copy()
        tv, tg = adjit.tape.value_and_grad(r9_two_args)(xa, xa)
        assert np.array_equal(xa, x)
        assert tv == pytest.approx(want, rel=1e-12)
        np.testing.assert_allclose(tg, fd, rtol=RTOL, atol=ATOL)
        # adjit: Python's answer or an AdjitError
        for name in ('vg', 'g'):
            xa = x.copy()
            try:
                r = R9[name](xa, xa)
            except AdjitError as e:
                assert 'test_memory.py:' in str(e), f'the refusal does not name file:line: {e}'
                continue
            assert np.array_equal(xa, x), f'{name} changed the caller\'s array'
            if name == 'vg':
                assert r[0] == pytest.approx(want, rel=1e-12)
                r = r[1]
            np.testing.assert_allclose(r, fd, rtol=RTOL, atol=ATOL)
        xa = x.copy()
        try:
            v = R9['jit'](xa, xa)
        except AdjitError as e:
            assert 'test_memory.py:' in str(e), f'the refusal does not name file:line: {e}'
            continue
        assert v == pytest.approx(want, rel=1e-12)
        assert np.array_equal(xa, want_after)


def test_r9_distinct_arrays_still_work():
    check(r9_two_args, [(np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 4.0]))], **R9)


# ---- realistic idioms -----------------------------------------------------------------------
def stencil(u, k):
    for step in range(3):
        inner = u[1:-1]
        inner += k * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


STENCIL = objects(stencil, argnums=(0, 1))


def test_stencil_inner_view_updated_in_time_loop():
    check(stencil, [(np.array([0.0, 1.0, 0.5, -0.25, 0.0]), 0.2),
                    (np.array([1.0, -0.5, 0.75, 0.3, 0.1]), 0.35)], argnums=(0, 1), **STENCIL)


def fill_pair(out, v):
    out[0] = v
    out[1] = 2.0 * v * v


def fill_rows(x):
    K = np.zeros((3, 2))
    for i in range(3):
        fill_pair(K[i], x[i] * x[(i + 1) % 3])
    return np.sum(K * K) + K[2, 1] * x[0]


FILL = objects(fill_rows)


def test_helper_fills_rows_in_loop():
    check(fill_rows, [(np.array([0.5, -1.0, 1.5]),), (np.array([1.25, 0.3, -0.6]),)], **FILL)


def reshape_write(x, buf):
    M = buf.reshape(2, 2)
    M[1, 1] = x
    M[0, 1] = x * x
    return np.sum(buf * buf) * x


RESHAPE = objects(reshape_write)


def test_reshape_of_argument_written():
    check(reshape_write, [(0.5, np.array([1.0, 2.0, 3.0, 4.0])),
                          (-1.5, np.array([0.25, -0.5, 0.0, 2.0]))], **RESHAPE)


def double_buffer(x):
    u = x.copy()
    un = np.zeros(x.shape[0])
    for step in range(3):
        un[0] = u[0]
        un[-1] = u[-1]
        un[1:-1] = 0.5 * u[1:-1] + 0.25 * (u[:-2] + u[2:]) + 0.1 * u[1:-1] * u[1:-1]
        u, un = un, u
    return np.sum(u * u) + u[1] * un[2]


DOUBLE = objects(double_buffer)


def test_double_buffer_swap_in_loop():
    correct_or_refused(double_buffer, [(np.array([0.0, 1.0, 0.5, -0.25, 0.3]),),
                                       (np.array([1.0, -0.5, 0.75, 0.2, 0.1]),)], **DOUBLE)


def per_step_buffers(x):
    s = 0.0
    for step in range(3):
        buf = np.zeros(x.shape[0])
        buf[step] = x[step] * 2.0
        buf[1:] += x[:-1] * x[1:]
        s += np.sum(buf * x) * (step + 1.0)
    return s


PER_STEP = objects(per_step_buffers)


def test_per_step_buffers_allocated_in_loop():
    check(per_step_buffers, [(np.array([0.5, -1.0, 1.5, 0.25]),),
                             (np.array([1.25, 0.3, -0.6, 0.8]),)], **PER_STEP)
