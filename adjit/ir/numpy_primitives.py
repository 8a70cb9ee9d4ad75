"""Whole-array primitives of issue 14's items 6-10: gathers (integer-array and boolean-mask
indexing, and the copies built on them: repeat, tile, roll, diag, diagonal), scans
(cumsum, cumprod), sorting (argsort, take_along), arg-reductions, axis permutations
(transpose(axes), swapaxes, moveaxis: views), tril/triu and linear algebra (solve, inv, det,
slogdet, cholesky).  They join the one table, `PRIMITIVES`, each with a ``vjp`` rule (reverse
mode) and a ``jvp`` rule (forward mode).

A gather ``take(x, lin, axis)`` is NumPy's ``np.take(x, lin, axis)`` on indices already
normalised (`index_norm`); it is a copy, as NumPy's advanced indexing is.  Its adjoint is
``take_adjoint``, a scatter-add with ``np.add.at`` semantics (repeated indices accumulate),
and the two are each other's transposes.  The index-making primitives (`index_norm`,
`mask_index`, `repeat_index`...) have integer results and no derivative.
"""
from .primitives import _as_is, register as _add
from .sym import F
from .types import BOOL, F64, I64, Array, is_array


def _array(dtype, ndim):
    return Array(dtype, ndim) if ndim > 0 else dtype


def _linear(prim, nargs=None):
    """Forward rule of an op linear in operand 0 (the others: indices, shapes, held fixed)."""
    def jvp(ts, args, o, attrs):
        if ts[0] is None:
            return None
        return getattr(F, prim)(ts[0], *args[1:], **attrs)
    return jvp


def _f64_first(ts, attrs):
    return [Array(F64, ts[0].ndim) if is_array(ts[0]) else F64] + list(ts[1:])


_i64_array = lambda ndim: Array(I64, ndim)  # noqa: E731

# ---- index making (no derivative) --------------------------------------------------------------
_add("index_norm", lambda ts, a: [ts[0], I64], lambda ts, a: Array(I64, ts[0].ndim), "_rt.index_norm({0}, {1})")
_add("index_norm1", lambda ts, a: [I64, I64], lambda ts, a: I64, "_rt.index_norm1({0}, {1})")
_add("mask_index", _as_is, lambda ts, a: Array(I64, 1), "_rt.mask_index({0}, {1})")
for _name in ("repeat_index", "tile_index", "roll_index"):
    _add(_name, lambda ts, a: [I64, I64], lambda ts, a: Array(I64, 1), f"_rt.{_name}({{0}}, {{1}})", effect="alloc")
_add("diag_index", lambda ts, a: [I64, I64, I64], lambda ts, a: Array(I64, 1), "_rt.diag_index({0}, {1}, {2})",
     effect="alloc")

_add("squeeze_index", lambda ts, a: [I64], lambda ts, a: I64, "_rt.squeeze_index({0})")
_add("cross_index", lambda ts, a: [I64], lambda ts, a: Array(I64, 1), "_rt.cross_index({0})", effect="alloc")

# ---- gathers and their adjoints ------------------------------------------------------------------
_add("take", lambda ts, a: [ts[0], Array(I64, ts[1].ndim)],
     lambda ts, a: _array(ts[0].dtype, ts[0].ndim - 1 + ts[1].ndim), "_rt.take({0}, {1}, {axis})",
     vjp=lambda g, args, o, attrs: [F.take_adjoint(g, args[0], args[1], **attrs), None], jvp=_linear("take"))
_add("take_adjoint", lambda ts, a: [Array(F64, ts[0].ndim), ts[1], ts[2]], lambda ts, a: Array(F64, ts[1].ndim),
     "_rt.take_adjoint({0}, {1}, {2}, {axis})",
     vjp=lambda g, args, o, attrs: [F.take(g, args[2], **attrs), None, None], jvp=_linear("take_adjoint"))
_add("take_along", _as_is, lambda ts, a: Array(ts[0].dtype, ts[0].ndim), "_rt.take_along({0}, {1}, {axis})",
     vjp=lambda g, args, o, attrs: [F.take_along_adjoint(g, args[0], args[1], **attrs), None],
     jvp=_linear("take_along"))
_add("take_along_adjoint", lambda ts, a: [Array(F64, ts[0].ndim), ts[1], ts[2]],
     lambda ts, a: Array(F64, ts[1].ndim), "_rt.take_along_adjoint({0}, {1}, {2}, {axis})",
     vjp=lambda g, args, o, attrs: [F.take_along(g, args[2], **attrs), None, None],
     jvp=_linear("take_along_adjoint"))

# ---- scans ------------------------------------------------------------------------------------
_add("cumsum", _as_is, lambda ts, a: ts[0], "_rt.cumsum_axis({0}, {axis})",
     vjp=lambda g, args, o, attrs: [F.rcumsum(g, **attrs)], jvp=_linear("cumsum"))
_add("rcumsum", _f64_first, lambda ts, a: ts[0], "_rt.rcumsum_axis({0}, {axis})",
     vjp=lambda g, args, o, attrs: [F.cumsum(g, **attrs)], jvp=_linear("rcumsum"))
_add("cumprod", _as_is, lambda ts, a: ts[0], "_rt.cumprod_axis({0}, {axis})",
     vjp=lambda g, args, o, attrs: [F.cumprod_adjoint(g, args[0], **attrs)],
     jvp=lambda ts, args, o, attrs: None if ts[0] is None else F.cumprod_jvp(ts[0], args[0], **attrs))
# (forward mode over them: linear in the adjoint / tangent; their derivative in x has no rule, a refusal)
_add("cumprod_adjoint", _f64_first, lambda ts, a: Array(F64, ts[1].ndim), "_rt.cumprod_adjoint({0}, {1}, {axis})",
     jvp=lambda ts, args, o, attrs: _no_second_order("cumprod_adjoint")(ts, args, o, attrs))
_add("cumprod_jvp", _f64_first, lambda ts, a: Array(F64, ts[1].ndim), "_rt.cumprod_jvp({0}, {1}, {axis})",
     jvp=lambda ts, args, o, attrs: _no_second_order("cumprod_jvp")(ts, args, o, attrs))

# ---- order: index results, no derivative -------------------------------------------------------------
for _name in ("running_argmax", "running_argmin"):  # np.maximum/minimum.accumulate: take_along these
    _add(_name, _as_is, lambda ts, a: Array(I64, ts[0].ndim), f"_rt.{_name}({{0}}, {{axis}})")
_add("argsort", _as_is, lambda ts, a: Array(I64, ts[0].ndim), "_rt.argsort_axis({0}, {axis})")
for _name in ("argmax", "argmin"):
    _add(_name, _as_is, lambda ts, a: I64 if a["axis"] is None else _array(I64, ts[0].ndim - 1),
         lambda args, a, _n=_name: f"_rt.{_n}_all({args[0]})" if a["axis"] is None
         else f"_rt.{_n}_axis({args[0]}, {a['axis']})")

# ---- axis permutations: views, as in NumPy -------------------------------------------------------------
def _inverse(axes):
    inv = [0] * len(axes)
    for k, a in enumerate(axes):
        inv[a] = k
    return tuple(inv)


_add("permute", _as_is, lambda ts, a: ts[0], "np.transpose({0}, {axes})", aliases=True,
     vjp=lambda g, args, o, attrs: [F.permute(g, axes=_inverse(attrs["axes"]))], jvp=_linear("permute"))

# ---- triangles (2-d): copies -------------------------------------------------------------------------
for _name in ("tril", "triu"):
    _add(_name, _as_is, lambda ts, a: ts[0], f"np.{_name}({{0}}, {{k}})",
         vjp=lambda g, args, o, attrs, _n=_name: [getattr(F, _n)(g, **attrs)], jvp=_linear(_name))


# ---- linear algebra -------------------------------------------------------------------------------------
def _floats(ts, attrs):
    return [Array(F64, t.ndim) for t in ts]


def _solve_vjp(g, args, o, attrs):
    a, b = args
    gb = F.solve(F.transpose(a), g)
    if b.value.type.ndim == 1:
        return [-F.outer(gb, o), gb]
    return [-F.matmul(gb, F.transpose(o)), gb]


def _solve_jvp(ts, args, o, attrs):
    ta, tb = ts
    if ta is None and tb is None:
        return None
    rhs = None if tb is None else tb
    if ta is not None:
        rhs = -F.matmul(ta, o) if rhs is None else rhs - F.matmul(ta, o)
    return F.solve(args[0], rhs)


def _inv_t(a):
    return F.transpose(F.inv(a))


def _no_second_order(name):
    """Forward rule of an adjoint helper: linear in its operand 0; no rule in the others."""
    return lambda ts, args, o, attrs: None if ts[0] is None and ts[1] is None else (
        NotImplemented if ts[1] is not None else getattr(F, name)(ts[0], args[1], **attrs))


_add("solve", _floats, lambda ts, a: ts[1], "_rt.solve({0}, {1})", vjp=_solve_vjp, jvp=_solve_jvp)
_add("inv", _floats, lambda ts, a: ts[0], "_rt.inv({0})",
     vjp=lambda g, args, o, attrs: [-F.matmul(F.matmul(F.transpose(o), g), F.transpose(o))],
     jvp=lambda ts, args, o, attrs: None if ts[0] is None else -F.matmul(F.matmul(o, ts[0]), o))
_add("det", _floats, lambda ts, a: F64, "_rt.det({0})",
     vjp=lambda g, args, o, attrs: [(g * o) * _inv_t(args[0])],
     jvp=lambda ts, args, o, attrs: None if ts[0] is None else o * F.trace(F.matmul(F.inv(args[0]), ts[0])))
_add("slogdet_sign", _floats, lambda ts, a: F64, "_rt.slogdet_sign({0})")
_add("slogdet_log", _floats, lambda ts, a: F64, "_rt.slogdet_log({0})",
     vjp=lambda g, args, o, attrs: [g * _inv_t(args[0])],
     jvp=lambda ts, args, o, attrs: None if ts[0] is None else F.trace(F.matmul(F.inv(args[0]), ts[0])))
_add("cholesky", _floats, lambda ts, a: ts[0], "_rt.cholesky({0})",
     vjp=lambda g, args, o, attrs: [F.cholesky_adjoint(g, o)],
     jvp=lambda ts, args, o, attrs: None if ts[0] is None else F.cholesky_jvp(ts[0], o))
_add("cholesky_adjoint", _floats, lambda ts, a: ts[1], "_rt.cholesky_adjoint({0}, {1})",
     jvp=_no_second_order("cholesky_adjoint"))
_add("cholesky_jvp", _floats, lambda ts, a: ts[1], "_rt.cholesky_jvp({0}, {1})",
     jvp=_no_second_order("cholesky_jvp"))

# eigh (symmetric, NumPy's UPLO='L': the lower triangle is read): eigenvalues and
# eigenvectors, each with the standard rules (the eigenvectors' need distinct eigenvalues)
def _no_second_order3(name):
    """Forward rule of a three-operand adjoint helper: linear in operand 0 only."""
    return lambda ts, args, o, attrs: None if all(t is None for t in ts) else (
        NotImplemented if any(t is not None for t in ts[1:]) else getattr(F, name)(ts[0], *args[1:], **attrs))


_add("eigh_w", _floats, lambda ts, a: Array(F64, 1), "_rt.eigh_w({0})",
     vjp=lambda g, args, o, attrs: [F.eigh_w_adjoint(g, F.eigh_v(args[0]))],
     jvp=lambda ts, args, o, attrs: None if ts[0] is None else F.eigh_w_jvp(ts[0], F.eigh_v(args[0])))
_add("eigh_v", _floats, lambda ts, a: ts[0], "_rt.eigh_v({0})",
     vjp=lambda g, args, o, attrs: [F.eigh_v_adjoint(g, F.eigh_w(args[0]), o)],
     jvp=lambda ts, args, o, attrs: None if ts[0] is None else F.eigh_v_jvp(ts[0], F.eigh_w(args[0]), o))
_add("eigh_w_adjoint", _floats, lambda ts, a: ts[1], "_rt.eigh_w_adjoint({0}, {1})",
     jvp=_no_second_order("eigh_w_adjoint"))
_add("eigh_w_jvp", _floats, lambda ts, a: Array(F64, 1), "_rt.eigh_w_jvp({0}, {1})",
     jvp=_no_second_order("eigh_w_jvp"))
_add("eigh_v_adjoint", _floats, lambda ts, a: ts[2], "_rt.eigh_v_adjoint({0}, {1}, {2})",
     jvp=_no_second_order3("eigh_v_adjoint"))
_add("eigh_v_jvp", _floats, lambda ts, a: ts[2], "_rt.eigh_v_jvp({0}, {1}, {2})",
     jvp=_no_second_order3("eigh_v_jvp"))

_ = BOOL
