"""Issue 12, the API's part: nested adjit objects are refused, arguments that share memory
are detected at call time, and ``+x`` is a copy.

Each test states what Python (or the mathematics) says and checks adjit against it.
Functions are module-level (adjit reads their source); the adjit objects are module-level
too, so tests share their compiled specialisations.
"""
import functools
import inspect

import numpy as np
import pytest

import adjit
from adjit import AdjitError, AdjitTypeError, GradientError, SourceUnavailableError, UnsupportedSyntaxError


def cube(x):
    return x ** 3


def _central(f, args, k, eps=1e-6):
    """Central differences of f with respect to argument k, every argument copied (so the
    arguments are independent inputs even when they overlap in the caller's memory)."""
    base = args[k]

    def at(v):
        a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
        a[k] = v
        return f(*a)

    if not isinstance(base, np.ndarray):
        return (at(base + eps) - at(base - eps)) / (2 * eps)
    fd = np.zeros(base.shape)
    for idx in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[idx] += eps
        minus[idx] -= eps
        fd[idx] = (at(plus) - at(minus)) / (2 * eps)
    return fd


def _line_of(func, text):
    lines, first = inspect.getsourcelines(func)
    return first + next(i for i, line in enumerate(lines) if text in line)


# ---- 1. nested adjit objects compose (they used to be silently unwrapped) ------------------------
@pytest.mark.parametrize("outer, inner, want", [
    (adjit.grad, adjit.grad, 9.0),                 # d2/dx2 x^3 = 6x
    (adjit.jit, adjit.grad, 6.75),                 # jit of a transformation is itself
    (adjit.value_and_grad, adjit.grad, (6.75, 9.0)),
    (adjit.jit, adjit.value_and_grad, (3.375, 6.75)),
])
def test_a_gradient_given_to_a_transformation_composes(outer, inner, want):
    # grad(grad(cube))(1.5) used to be 6.75 (the first derivative), and jit(grad(cube)) cube itself
    assert outer(inner(cube))(1.5) == pytest.approx(want, rel=1e-12)


def test_the_gradient_of_a_value_and_gradient_pair_is_refused():
    with pytest.raises(GradientError, match="one float") as e:
        adjit.grad(adjit.value_and_grad(cube))(1.5)
    assert "cube" in str(e.value)


def test_decorator_form_of_a_nested_gradient():
    assert adjit.grad(argnums=0)(adjit.grad(cube))(2.0) == pytest.approx(12.0, rel=1e-12)


dcube = adjit.grad(cube)


def calls_a_gradient(x, n):
    s = 0.0
    for i in range(n):
        s += dcube(x) * x
    return s


def test_compiled_code_calling_a_gradient_inlines_the_gradient():
    # s = n * 3x^2 * x = 3n x^3, ds/dx = 9n x^2
    assert adjit.jit(calls_a_gradient)(1.5, 3) == pytest.approx(calls_a_gradient(1.5, 3), rel=1e-12)
    assert adjit.grad(calls_a_gradient)(1.5, 3) == pytest.approx(9 * 3 * 1.5 ** 2, rel=1e-12)


def inner_sum(x, y):
    return x + y


d_inner_sum = adjit.grad(inner_sum, argnums=1)


def perturbation(x):
    return x * d_inner_sum(x, 2.0)


def test_no_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1; a tool that confuses the two perturbations gives 2
    assert adjit.grad(perturbation)(3.0) == pytest.approx(1.0, rel=1e-14)


def test_jit_of_jit_is_jit():
    # jit is the identity transformation: unwrapping it is exact
    j = adjit.jit(adjit.jit(cube))
    assert j(1.5) == cube(1.5)


def test_grad_of_jit_is_grad():
    assert adjit.grad(adjit.jit(cube))(1.5) == pytest.approx(3 * 1.5 ** 2, rel=1e-14)


def test_check_grad_refuses_a_gradient_and_accepts_a_jit():
    with pytest.raises(GradientError, match="check_grad.*gradient") as e:
        adjit.check_grad(dcube, 1.5)
    assert "adjit.check_grad(cube" in str(e.value)
    assert adjit.check_grad(adjit.jit(cube), 1.5).ok


def test_tape_gradients_are_not_unwrapped():
    tg = adjit.tape.grad(cube)
    assert tg(1.5) == pytest.approx(6.75)
    with pytest.raises(GradientError, match="adjit.tape.*nested transformations"):
        adjit.grad(tg)
    with pytest.raises(AdjitTypeError, match="adjit.tape cannot differentiate through a function compiled by adjit"):
        adjit.tape.grad(dcube)(1.5)


def _doubled(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2.0 * fn(x)
    return wrapper


doubled_cube = _doubled(cube)


def calls_a_decorated_helper(x):
    return doubled_cube(x) + 1.0


def test_functools_wraps_functions_are_not_compiled_without_their_decorator():
    # inspect.getsource follows __wrapped__: compiling would read cube's source and drop the 2.0
    with pytest.raises(SourceUnavailableError, match="decorated"):
        adjit.jit(doubled_cube)
    line = _line_of(calls_a_decorated_helper, "doubled_cube(x)")
    with pytest.raises(UnsupportedSyntaxError, match=f"test_api_trust.py:{line}: doubled_cube is a decorated"):
        adjit.jit(calls_a_decorated_helper)(1.5)


# ---- 2. arguments that share memory ------------------------------------------------------------------
def write_first(a, b):
    a[0] = 2.0 * b[1]
    return np.sum(a * b)


def write_through_view(a, b):
    v = a[1:]
    v[0] = b[0]
    return np.sum(a * b)


def reads_only(a, b):
    return np.sum(a * b * b) + a[0] * b[1]


g_write_first = adjit.grad(write_first)
vg_write_first = adjit.value_and_grad(write_first)
g_write_first_b = adjit.grad(write_first, argnums=1)
g_write_through_view = adjit.grad(write_through_view)
j_write_first = adjit.jit(write_first)
g_reads_only = adjit.grad(reads_only, argnums=(0, 1))


def _same_twice():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    return x, (x, x)


def _overlapping_views():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    return x, (x[1:], x[:-1])


@pytest.mark.parametrize("make", [_same_twice, _overlapping_views])
@pytest.mark.parametrize("g", [g_write_first, vg_write_first, g_write_first_b, g_write_through_view],
                         ids=["grad", "value_and_grad", "grad-argnums1", "grad-write-through-view"])
def test_gradient_refuses_a_written_argument_sharing_memory(g, make):
    x, args = make()
    before = x.copy()
    with pytest.raises(GradientError, match="'a' and 'b' .* share memory") as e:
        g(*args)
    assert "pass a copy" in str(e.value) and ".copy()" in str(e.value)
    func, write = (write_through_view, "v[0] = b[0]") if g is g_write_through_view else (write_first, "a[0] =")
    assert f"test_api_trust.py:{_line_of(func, write)}:" in str(e.value)  # where the function writes 'a'
    assert np.array_equal(x, before)


@pytest.mark.parametrize("make", [_same_twice, _overlapping_views])
def test_jit_with_arguments_sharing_memory_follows_python(make):
    x, args = make()
    want_x, want_args = make()
    want = write_first(*want_args)
    got = j_write_first(*args)
    assert got == want
    assert np.array_equal(x, want_x)  # the same effect on the caller's memory


def test_written_arguments_that_do_not_overlap_are_differentiated():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    a, b = x[:2], x[2:]  # views of one array, disjoint: np.may_share_memory says no
    value, g = vg_write_first(a, b)
    assert value == write_first(a.copy(), b.copy())
    assert np.allclose(g, _central(write_first, (a, b), 0), atol=1e-6)
    assert np.array_equal(x, [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("make", [_same_twice, _overlapping_views])
def test_overlapping_arguments_that_are_not_written_get_the_right_gradient(make):
    x, args = make()
    before = x.copy()
    ga, gb = g_reads_only(*args)
    assert np.allclose(ga, _central(reads_only, args, 0), atol=1e-6)
    assert np.allclose(gb, _central(reads_only, args, 1), atol=1e-6)
    assert np.array_equal(x, before)


# ---- 3. +x is a copy ------------------------------------------------------------------------------------
def plus_then_write(x):
    y = +x
    y[0] = 0.0
    return np.sum(x * x) + np.sum(y)


def plus_of_bool(m):
    y = +m
    return np.sum(y)


def test_unary_plus_is_a_copy_under_jit():
    x = np.array([1.0, 2.0])
    want = plus_then_write(x.copy())  # 5.0 + 2.0
    got = adjit.jit(plus_then_write)(x)
    assert got == want == 7.0
    assert np.array_equal(x, [1.0, 2.0])  # Python leaves x alone


def test_unary_plus_is_a_copy_under_grad():
    x = np.array([1.0, 2.0])
    value, g = adjit.value_and_grad(plus_then_write)(x)
    assert value == 7.0
    assert np.allclose(g, _central(plus_then_write, (x,), 0), atol=1e-6)  # [2, 5]
    assert np.array_equal(x, [1.0, 2.0])


def test_unary_plus_of_a_bool_array_is_refused_as_numpy_does():
    with pytest.raises(TypeError):
        +np.array([True])
    with pytest.raises(AdjitTypeError, match="unary \\+ of a bool array"):
        adjit.jit(plus_of_bool)(np.array([True, False]))


def test_the_memory_check_runs_only_for_functions_that_write_an_argument(monkeypatch):
    import adjit.api
    calls = []
    monkeypatch.setattr(adjit.api, "_may_share_memory", lambda a, b: calls.append(1) or np.may_share_memory(a, b))
    x, y = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    g_reads_only(x, y)
    assert g_reads_only.last.written == () and calls == []  # the fast path: no check at all
    g_write_first(x.copy(), y)
    assert g_write_first.last.written == (0,) and len(calls) == 1
