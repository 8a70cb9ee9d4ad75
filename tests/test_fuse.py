"""The fusion pass (adjit/passes/fuse.py): elementwise chains become loop nests.

Two kinds of checks:
- on the IR (no compilation): which operations end up in a loop nest and which stay NumPy
  calls (shapes not proved equal, memory written between a read and its use), the fused
  IR verifies, and the pass leaves its input unchanged;
- compiled, at several points: the fused code's value is plain Python's, its gradient
  agrees with central differences and with adjit.tape, and with the unfused code's.
"""
import numpy as np
import pytest

import adjit
import adjit.tape
from adjit.ir.core import walk_ops
from adjit.ir.printer import format_function
from adjit.ir.verify import verify
from adjit.passes.fuse import fuse

H = 1e-6


@pytest.fixture
def fusing(monkeypatch):
    monkeypatch.setenv("ADJIT_FUSE", "1")


# ---- functions under test (module level: adjit reads their source) -------------------------
def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def centred(A, b):
    c = A - np.mean(A, axis=1, keepdims=True)   # (n, 1) broadcasts: proved by its extent 1
    return np.sum(c * c * b[None, :])           # b's extent against A's: not proved, NumPy's


def shift_in_place(x):
    y = x.copy()
    y[1:] += y[:-1] * 2.0                       # reads y while writing it: right side first
    return np.sum(y * y)


def written_between(x):
    y = x * 2.0
    z = y + 1.0
    y[0] = 5.0                                  # z was computed before this write
    return np.sum(z * y)


def heat(u0, c):
    u = u0.copy()
    for _ in range(3):
        u[1:-1] = u[1:-1] + c * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def reshaped_adjoint_in_a_loop(x, A):
    # the array campaign's seed 1541, reduced: the adjoint of the kron's reshape,
    # np.ascontiguousarray(d_ct1).reshape(...), must run after d_ct1[::2] += ... (Numba may copy)
    ct1 = np.kron(np.sin(np.clip(x[::-1], -0.5, 0.5)), np.tanh(np.fmax(A[2, 3:], 0.3)))
    h2 = ct1[::2] * np.concatenate((ct1[:3], ct1[7:]))
    for t in range(2):
        h2 = 0.5 * h2 + 0.5 * np.clip(ct1[4:], -0.5, 1.0) / (1.0 + np.clip(ct1[4:], -0.5, 1.0) ** 2)
        if np.sum(h2) > -0.5:
            return np.sum(h2 * h2)
    return np.sum(x * x)


def softplus_mean(x, w):
    t = np.log(1.0 + np.exp(x * w)) - np.maximum(x, 0.0)
    return np.mean(t * t) + np.sum(np.where(x > 0.0, x, -x))


# ---- helpers --------------------------------------------------------------------------------
def _ir(obj, *args):
    """The final IR adjit generates code from (before fusion)."""
    names, values, types = obj._types(args, {})
    key = types + (obj._wrt(names, types),) if isinstance(obj, adjit.api.Grad) else types
    return obj._build_ir(key)[0]


def _loops(fn):
    return [op for op in fn.body.ops if op.attrs.get("_fused")]


def _prims(fn):
    return [op.prim for op in walk_ops(fn.body)]


def _central(f, args, k):
    x = args[k]
    g = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        hi, lo = [a.copy() if isinstance(a, np.ndarray) else a for a in args], \
            [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        hi[k][i] += H
        lo[k][i] -= H
        g[i] = (f(*hi) - f(*lo)) / (2 * H)
    return g


def _check(f, points, argnums=(0,), monkeypatch=None):
    """Fused value_and_grad against Python, central differences, adjit.tape and unfused code."""
    monkeypatch.setenv("ADJIT_FUSE", "1")
    fused = adjit.value_and_grad(f, argnums=argnums)
    fused_jit = adjit.jit(f)
    monkeypatch.setenv("ADJIT_FUSE", "0")
    plain = adjit.value_and_grad(f, argnums=argnums)
    for args in points:
        want = f(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
        monkeypatch.setenv("ADJIT_FUSE", "1")
        v, g = fused(*args)
        assert fused_jit(*args) == pytest.approx(want, rel=1e-12)
        monkeypatch.setenv("ADJIT_FUSE", "0")
        pv, pg = plain(*args)
        tv, tg = adjit.tape.value_and_grad(f, argnums=argnums)(*args)
        assert v == pytest.approx(want, rel=1e-12)
        assert pv == pytest.approx(v, rel=1e-12)
        for k, a, p, t in zip(argnums, g, pg, tg):
            np.testing.assert_allclose(a, _central(f, list(args), k), rtol=1e-6, atol=1e-6)
            np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(a, p, rtol=1e-12, atol=1e-12)
    return fused


# ---- the IR ---------------------------------------------------------------------------------
def test_rosenbrock_gradient_is_one_loop(fusing):
    ir = _ir(adjit.value_and_grad(rosen), np.ones(5))
    before = format_function(ir)
    fused = fuse(ir)
    assert format_function(ir) == before, "fuse changed its input"
    verify(fused)
    assert len(_loops(fused)) == 1
    prims, top = _prims(fused), [op.prim for op in fused.body.ops]
    # the sum, its spread adjoint and the += into slices of d_x are all in the loop
    for gone in ("sum", "full_like", "unbroadcast", "view_add"):
        assert gone not in prims
    assert "sub" not in top and "mul" not in top
    assert prims.count("store_add") == 3 and "empty" not in prims


def test_primal_chain_has_no_temporaries(fusing):
    fused = fuse(_ir(adjit.jit(rosen), np.ones(5)))
    verify(fused)
    assert len(_loops(fused)) == 1 and "empty" not in _prims(fused) and "store" not in _prims(fused)


def test_unproved_broadcast_is_checked_at_run_time(fusing):
    fused = fuse(_ir(adjit.jit(centred), np.ones((3, 4)), np.ones(4)))
    verify(fused)
    # A - mean(A, keepdims) fuses (extent 1 proved); b's extent against A's is known only at
    # run time: the loop runs if they are equal, NumPy's broadcasting otherwise
    (branch,) = [op for op in fused.body.ops if op.prim == "if"]
    then, orelse = ([op.prim for op in b.ops] for b in branch.blocks)
    assert "for" in then and "mul" not in then and "sum" not in then
    assert "mul" in orelse and "sum" in orelse and "for" not in orelse
    assert "mean" in [op.prim for op in fused.body.ops]  # along an axis: NumPy's


def test_read_while_written_is_not_fused(fusing):
    fused = fuse(_ir(adjit.jit(shift_in_place), np.ones(4)))
    verify(fused)
    top = [op.prim for op in fused.body.ops]
    # y[1:] + y[:-1] * 2.0 is computed whole (a loop into a new array) before y[1:] is written
    write = top.index("view_store")
    assert top[write - 1] == "for" and "empty" in top[:write] and top.count("view_store") == 1


def test_values_written_later_are_computed_before(fusing):
    fused = fuse(_ir(adjit.jit(written_between), np.ones(4)))
    verify(fused)
    top = fused.body.ops
    store = next(k for k, op in enumerate(top) if op.prim == "store")
    # y and z are materialised by a loop before the write into y; the sum's loop comes after
    assert any(op.attrs.get("_fused") for op in top[:store])
    assert not any(op.prim == "empty" for op in top[store:])


def test_switched_off(monkeypatch):
    monkeypatch.delenv("ADJIT_FUSE", raising=False)  # off by default until a compiled-only bug is found
    ir = _ir(adjit.jit(rosen), np.ones(5))
    assert fuse(ir) is ir


# ---- compiled -----------------------------------------------------------------------------------
def test_rosenbrock(monkeypatch):
    rng = np.random.default_rng(1)
    vg = _check(rosen, [(rng.standard_normal(n),) for n in (2, 7, 12)], monkeypatch=monkeypatch)
    assert "for " in vg.source and "np.full" not in vg.source and "np.sum" not in vg.source
    assert adjit.value_and_grad(rosen)(np.ones(1)) == (0.0, pytest.approx(np.zeros(1)))  # empty slices


def test_size_one_broadcasting(monkeypatch):
    rng = np.random.default_rng(2)
    points = [(rng.standard_normal((3, 4)), rng.standard_normal(4)),
              (rng.standard_normal((2, 5)), rng.standard_normal(1)),   # b of extent 1 at run time
              (rng.standard_normal((1, 3)), rng.standard_normal(3))]
    _check(centred, points, argnums=(0, 1), monkeypatch=monkeypatch)


def test_aliasing(monkeypatch):
    rng = np.random.default_rng(3)
    for f in (shift_in_place, written_between):
        _check(f, [(rng.standard_normal(n),) for n in (3, 6)], monkeypatch=monkeypatch)


def test_stencil_in_a_time_loop(monkeypatch):
    rng = np.random.default_rng(4)
    _check(heat, [(rng.standard_normal(n), 0.2) for n in (3, 8)], monkeypatch=monkeypatch)


def test_where_maximum_mean(monkeypatch):
    rng = np.random.default_rng(5)
    points = [(rng.standard_normal(6), rng.standard_normal(6)), (rng.standard_normal(9), rng.standard_normal(9)),
              (rng.standard_normal(5), rng.standard_normal(1))]   # w broadcast: the NumPy branch
    vg = _check(softplus_mean, points, argnums=(0, 1), monkeypatch=monkeypatch)
    assert "if w.shape[0] == " in vg.source and "for " in vg.source


def relu_twice(x):
    return np.sum(np.maximum(x, 0.0) * 2.0 + np.maximum(0.0, x))


def test_maximum_propagates_nan(monkeypatch):
    # np.maximum propagates a NaN operand, on either side (Python's max does not)
    monkeypatch.setenv("ADJIT_FUSE", "1")
    f = adjit.jit(relu_twice)
    assert np.isnan(f(np.array([np.nan, 1.0]))) and f(np.array([-1.0, 2.0])) == 6.0
    assert "for " in f.source


def test_write_before_a_reshape_that_may_copy(monkeypatch):
    rng = np.random.default_rng(1541)
    points = [(rng.uniform(0.2, 0.9, 4), rng.uniform(-1.5, 1.5, (3, 5))) for _ in range(2)]
    _check(reshaped_adjoint_in_a_loop, points, argnums=(0, 1), monkeypatch=monkeypatch)
