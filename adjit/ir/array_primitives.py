"""Whole-array primitives: reductions, matrix products, reshapes, views, and the helpers
the reverse sweep of array code needs.  They join the one table, `PRIMITIVES`.

Elementwise arithmetic and math on arrays need no entry here: the scalar primitives
broadcast (see ``array_fmt`` in `adjit.ir.primitives`).  What is here has a ``vjp`` rule
instead of local partials: ``vjp(g, operands, o, attrs)`` returns, per operand, its adjoint
contribution (or None), written with the symbolic operations of `adjit.ir.sym`.  A
contribution has exactly the operand's shape.

Rank rules follow NumPy; the adjoint rules are the usual ones (``A @ B``: ``g @ B.T`` and
``A.T @ g``; ``sum``: broadcast ``g`` back; ``max``: ``g`` to the first maximal element,
the convention of `adjit.tape`).  Runtime helpers (``_rt.*``) are in
`adjit.codegen.runtime`, written once and specialised by Numba per array rank.
"""
from .primitives import _as_is, _first, register as _add
from .sym import F
from .types import BOOL, F64, I64, NUMPY_DTYPE, Array, is_array


def _array(dtype, ndim):
    """An array type, or the scalar dtype for rank 0 (NumPy returns scalars there)."""
    return Array(dtype, ndim) if ndim > 0 else dtype


def _sources(args):
    return "(" + "".join(a + ", " for a in args) + ")"


# ---- reductions: sum, mean, max, min, prod (attr axis: None or a non-negative int) ---------------
def _reduced(ts, attrs, dtype):
    x = ts[0]
    ndim = 0 if attrs["axis"] is None else x.ndim - 1
    return _array(dtype(x.dtype), ndim)


def _count(x, attrs):
    """The number of elements a reduction combines, as an f64 Sym."""
    if attrs["axis"] is not None:
        return F.f64(F.shape(x, dim=attrs["axis"]))
    n = F.shape(x, dim=0)
    for k in range(1, x.value.type.ndim):
        n = n * F.shape(x, dim=k)
    return F.f64(n)


def _spread(g, x, attrs):
    """g (the adjoint of a reduction) broadcast back to x's shape."""
    if attrs["axis"] is None:
        return F.full_like(x, g)
    return F.unreduce(g, x, axis=attrs["axis"])


_INT_SUM = {BOOL: I64, I64: I64, F64: F64}
_REDUCTIONS = {
    # name: (NumPy function, helper for one axis, result dtype, vjp)
    "sum": ("np.sum", "_rt.sum_axis", _INT_SUM.get, lambda g, x, o, a: _spread(g, x, a)),
    "mean": ("np.mean", "_rt.mean_axis", lambda t: F64, lambda g, x, o, a: _spread(g / _count(x, a), x, a)),
    "amax": ("np.max", "_rt.max_axis", lambda t: t, lambda g, x, o, a: _route(g, x, o, a)),
    "amin": ("np.min", "_rt.min_axis", lambda t: t, lambda g, x, o, a: _route(g, x, o, a)),
    "prod": ("np.prod", "_rt.prod_axis", _INT_SUM.get,
             lambda g, x, o, a: F.prod_adjoint(g, x, axis=a["axis"])),
}


def _route(g, x, o, attrs):
    """max/min route the adjoint to the first element equal to the result."""
    if attrs["axis"] is None:
        return F.route_all(g, x, o)
    return F.route(g, x, o, axis=attrs["axis"])


def _reduction_source(whole, one_axis):
    def source(args, attrs):
        if attrs["axis"] is None:
            return f"{whole}({args[0]})"
        return f"{one_axis}({args[0]}, {attrs['axis']})"
    return source


def _reduction_jvp(name):
    """Forward rules: sum and mean are linear; max/min take the tangent of the element the
    reverse rule routes to; prod weighs each tangent by the product of the others."""
    def jvp(ts, args, o, attrs):
        t, x, axis = ts[0], args[0], attrs["axis"]
        if t is None:
            return None
        if name in ("sum", "mean"):
            return getattr(F, name)(t, axis=axis)
        ones = 1.0 if axis is None else F.full_like(o, 1.0)
        weights = _route(ones, x, o, attrs) if name in ("amax", "amin") else F.prod_adjoint(ones, x, axis=axis)
        return F.sum(weights * t, axis=axis)
    return jvp


for _name, (_whole, _one, _dtype, _rule) in _REDUCTIONS.items():
    _add(_name, _as_is, lambda ts, a, _d=_dtype: _reduced(ts, a, _d), _reduction_source(_whole, _one),
         vjp=lambda g, args, o, attrs, _r=_rule: [_r(g, args[0], o, attrs)], jvp=_reduction_jvp(_name))

# adjoint helpers of the reductions (used only in generated gradients)
def _linear_in_first(ts, args, o, attrs, prim):
    """The forward rule of an op linear in operand 0, the others held fixed (a mask, a shape):
    the same op applied to operand 0's tangent."""
    if ts[0] is None:
        return None
    return getattr(F, prim)(ts[0], *args[1:], **attrs)


def _linear(prim):
    return lambda ts, args, o, attrs: _linear_in_first(ts, args, o, attrs, prim)


_add("full_like", lambda ts, a: [ts[0], F64], lambda ts, a: Array(F64, ts[0].ndim), "np.full({0}.shape, {1})",
     vjp=lambda g, args, o, attrs: [None, F.sum(g, axis=None)],
     jvp=lambda ts, args, o, attrs: None if ts[1] is None else F.full_like(args[0], ts[1]))
# the adjoint helpers of reverse mode are linear in the adjoint g (operand 0), which is all
# that forward mode over reverse mode (Hessian-vector products) needs of them
_add("unreduce", lambda ts, a: [ts[0], ts[1]], lambda ts, a: Array(F64, ts[1].ndim),
     "_rt.unreduce({0}, {1}, {axis})", jvp=_linear("unreduce"))
_add("route_all", lambda ts, a: [F64, ts[1], F64], lambda ts, a: Array(F64, ts[1].ndim),
     "_rt.route_all({0}, {1}, {2})", jvp=_linear("route_all"))
_add("route", _as_is, lambda ts, a: Array(F64, ts[1].ndim), "_rt.route({0}, {1}, {2}, {axis})", jvp=_linear("route"))
# (forward mode over it: linear in g; its derivative in x has no rule yet, a refusal)
_add("prod_adjoint", _as_is, lambda ts, a: Array(F64, ts[1].ndim),
     jvp=lambda ts, args, o, attrs: NotImplemented if ts[1] is not None else _linear_in_first(
         ts, args, o, attrs, "prod_adjoint"),
     fmt=
     lambda args, a: (f"_rt.prod_adjoint_all({args[0]}, {args[1]})" if a["axis"] is None
                      else f"_rt.prod_adjoint({args[0]}, {args[1]}, {a['axis']})"))
# the adjoint of a broadcast operand: sum the broadcast dimensions away
_add("unbroadcast", _as_is, lambda ts, a: Array(F64, ts[1].ndim), "_rt.unbroadcast({0}, {1})",
     jvp=_linear("unbroadcast"),
     vjp=lambda g, args, o, attrs: [g + F.zeros_like(args[0], dtype=F64), None])
# D += c: accumulate into an adjoint array in place (c broadcasts)
_add("iadd", _as_is, lambda ts, a: None, "{0} += {1}", effect="write")


# ---- linear algebra ---------------------------------------------------------------------------
def _matmul_result(ts, attrs):
    a, b = ts
    return _array(F64, a.ndim + b.ndim - 2)


def _matmul_vjp(g, args, o, attrs):
    a, b = args
    na, nb = a.value.type.ndim, b.value.type.ndim
    if (na, nb) == (1, 1):
        return [g * b, g * a]
    if (na, nb) == (2, 1):
        return [F.outer(g, b), F.matmul(F.transpose(a), g)]
    if (na, nb) == (1, 2):
        return [F.matmul(b, g), F.outer(a, g)]
    return [F.matmul(g, F.transpose(b)), F.matmul(F.transpose(a), g)]


def _float_arrays(ts, attrs):
    return [Array(F64, t.ndim) for t in ts]


def _bilinear(prim):
    """The forward rule of a product: d(a b) = da b + a db."""
    def jvp(ts, args, o, attrs):
        parts = [getattr(F, prim)(ts[0], args[1])] if ts[0] is not None else []
        if ts[1] is not None:
            parts.append(getattr(F, prim)(args[0], ts[1]))
        return None if not parts else parts[0] if len(parts) == 1 else parts[0] + parts[1]
    return jvp


_add("matmul", _float_arrays, _matmul_result, "np.dot({0}, {1})", vjp=_matmul_vjp, jvp=_bilinear("matmul"))
_add("outer", _float_arrays, lambda ts, a: Array(F64, 2), "np.outer({0}, {1})",
     vjp=lambda g, args, o, attrs: [F.matmul(g, args[1]), F.matmul(F.transpose(g), args[0])],
     jvp=_bilinear("outer"))
_add("trace", _float_arrays, lambda ts, a: F64, "np.trace({0})",
     vjp=lambda g, args, o, attrs: [g * F.eye_like(args[0])], jvp=_linear("trace"))
_add("eye_like", _as_is, lambda ts, a: Array(F64, 2), "np.eye({0}.shape[0], {0}.shape[1])")
# the 2-norm of a vector (Frobenius for a matrix); norm'(0) = 0.  The rules divide by the
# norm where it is positive and by 1 elsewhere ("double where"): a select's forward rule
# multiplies the branch it drops by 0, and 0 * (g / 0) would be nan in a Hessian.
def _positive_or_one(o):
    return F.select(F.gt(o, 0.0), o, 1.0)


_add("norm", _float_arrays, lambda ts, a: F64, "_rt.norm2({0})",
     vjp=lambda g, args, o, attrs: [F.select(F.gt(o, 0.0), g / _positive_or_one(o), 0.0) * args[0]],
     jvp=lambda ts, args, o, attrs: None if ts[0] is None else
     F.select(F.gt(o, 0.0), F.sum(args[0] * ts[0], axis=None) / _positive_or_one(o), 0.0))

# ---- shapes -------------------------------------------------------------------------------------
_reshape_back = lambda g, args, o, attrs: [F.reshape_like(g, args[0])] + [None] * (len(args) - 1)  # noqa: E731
_add("transpose", _as_is, _first, "{0}.T", vjp=lambda g, args, o, attrs: [F.transpose(g)], aliases=True,
     jvp=_linear("transpose"))
_add("reshape", lambda ts, a: [ts[0]] + [I64] * (len(ts) - 1), lambda ts, a: Array(ts[0].dtype, len(ts) - 1),
     lambda args, a: f"np.ascontiguousarray({args[0]}).reshape({_sources(args[1:])})", vjp=_reshape_back,
     aliases=True, jvp=_linear("reshape"))
_add("reshape_like", _as_is, lambda ts, a: Array(ts[0].dtype, ts[1].ndim),
     "np.ascontiguousarray({0}).reshape({1}.shape)", vjp=_reshape_back, aliases=True,
     jvp=_linear("reshape_like"))
_add("ravel", _as_is, lambda ts, a: Array(ts[0].dtype, 1), "np.ravel({0})", vjp=_reshape_back, aliases=True,
     jvp=_linear("ravel"))
_add("expand_dims", _as_is, lambda ts, a: Array(ts[0].dtype, ts[0].ndim + 1), "np.expand_dims({0}, {axis})",
     vjp=_reshape_back, aliases=True, jvp=_linear("expand_dims"))


def _joined_vjp(stacked):
    """Adjoints of concatenate / stack: each operand's part of g."""
    def vjp(g, args, o, attrs):
        axis, out, start = attrs["axis"], [], 0
        ndim = g.value.type.ndim
        for k, x in enumerate(args):
            if stacked:
                spec = tuple(("i",) if d == axis else ("s", False, False, False) for d in range(ndim))
                out.append(F.view(g, k, spec=spec))
            else:
                stop = start + F.shape(x, dim=axis)
                spec = tuple(("s", True, True, False) if d == axis else ("s", False, False, False)
                             for d in range(ndim))
                out.append(F.view(g, start, stop, spec=spec))
                start = stop
        return out
    return vjp


def _same_dtype(ts, attrs):
    dtype = F64 if any(t.dtype == F64 for t in ts) else ts[0].dtype
    return [Array(dtype, t.ndim) for t in ts]


def _joined_jvp(prim):
    """Joins are linear: the join of the tangents (zeros for an operand without one)."""
    def jvp(ts, args, o, attrs):
        if all(t is None for t in ts):
            return None
        parts = [t if t is not None else F.zeros_like(a, dtype=F64) for t, a in zip(ts, args)]
        return getattr(F, prim)(*parts, **attrs)
    return jvp


_add("concatenate", _same_dtype, _first, lambda args, a: f"np.concatenate({_sources(args)}, axis={a['axis']})",
     vjp=_joined_vjp(stacked=False), jvp=_joined_jvp("concatenate"))
_add("stack", _same_dtype, lambda ts, a: Array(ts[0].dtype, ts[0].ndim + 1),
     lambda args, a: f"np.stack({_sources(args)}, axis={a['axis']})", vjp=_joined_vjp(stacked=True),
     jvp=_joined_jvp("stack"))


# ---- views: basic indexing and slicing --------------------------------------------------------
# attr spec: one entry per dimension, ("i",) for an index (one i64 operand) or
# ("s", has_start, has_stop, has_step) for a slice (one i64 operand per part present).
def _index_source(parts, spec):
    out, k = [], 0
    for entry in spec:
        if entry[0] == "i":
            out.append(parts[k])
            k += 1
            continue
        bounds = []
        for present in entry[1:]:
            bounds.append(parts[k] if present else "")
            k += present
        out.append(f"{bounds[0]}:{bounds[1]}" + (f":{bounds[2]}" if entry[3] else ""))
    return ", ".join(out)


def _view_ndim(spec):
    return sum(1 for e in spec if e[0] == "s")


def _view_args(ts, attrs):
    return [ts[0]] + [I64] * (len(ts) - 1)


def _store_args(ts, attrs):
    value = ts[-1]
    return [ts[0]] + [I64] * (len(ts) - 2) + [value if is_array(value) else ts[0].dtype]


_add("view", _view_args, lambda ts, a: _array(ts[0].dtype, _view_ndim(a["spec"])),
     lambda args, a: f"{args[0]}[{_index_source(args[1:], a['spec'])}]", effect="read", aliases=True)
_add("view_store", _store_args, lambda ts, a: None,
     lambda args, a: f"{args[0]}[{_index_source(args[1:-1], a['spec'])}] = {args[-1]}", effect="write")
_add("view_add", _store_args, lambda ts, a: None,
     lambda args, a: f"{args[0]}[{_index_source(args[1:-1], a['spec'])}] += {args[-1]}", effect="write")

# ---- tapes of arrays (arrays the reverse sweep needs from inside a loop) -------------------------
# A tape of arrays is a list, one entry per iteration (entries may differ in shape: a value
# from a branch not taken, a loop-carried array that shrinks); its IR type is the
# (ndim+1)-d array it stands for, so that tape_row's result type follows.  Entries are made
# contiguous so that the list has one element type.
def _array_tape_source(args, attrs):
    t = attrs["type"]
    empty = f"np.empty({(0,) * (t.ndim - 1)}, dtype={NUMPY_DTYPE[t.dtype]})"
    return f"[{empty} for _ in range(0)]"


_add("array_tape", _as_is, lambda ts, a: a["type"], _array_tape_source, effect="alloc")
_add("tape_append", _as_is, lambda ts, a: None, "{0}.append(np.ascontiguousarray({1}))", effect="write")
_add("tape_row", lambda ts, a: [ts[0], I64], lambda ts, a: Array(ts[0].dtype, ts[0].ndim - 1), "{0}[{1}]",
     effect="read", aliases=True)
