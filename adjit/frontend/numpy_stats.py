"""Reductions with NumPy's keywords, and the statistics built on them (issue 14).

* every reduction (`np.sum`, `np.mean`, `np.max`, `np.min`, `np.prod` and their methods)
  takes ``axis=`` as an int, a tuple of ints or None, ``keepdims=True`` with any axis (and
  on 1-d arrays), and, for `sum`/`mean`/`prod`, a harmless ``dtype=`` (float64; int64 for
  an int or bool array);
* `np.var`, `np.std` (``axis=``, ``ddof=``, ``keepdims=``), `np.average` (``weights=``,
  ``returned=``, ``keepdims=``) and the `.var()`/`.std()` methods are lowered here to
  those reductions and broadcasting arithmetic, exactly as NumPy defines them, so they
  need no primitive of their own: reverse and forward mode follow from the table;
* `np.clip(a, a_min, a_max)` with its keywords (and None for an open side), `.clip()`.

An axis tuple reduces one axis after the other (highest first), which is the same
reduction for sum, mean (equal group sizes), max, min and prod.
"""
import ast

import numpy as np

from ..errors import AdjitTypeError, UnsupportedSyntaxError
from ..ir.core import Value
from ..ir.types import BOOL, F64, I64, Array, is_array


# ---- arguments --------------------------------------------------------------------------------
def bind(tr, node, path, params, required=1):
    """NumPy-style argument binding: {name: ast node} from the call's positional and keyword
    arguments, against the parameter names `params` (the first `required` are required)."""
    if len(node.args) > len(params):
        raise tr.error(AdjitTypeError, node, f"{path}() takes at most {len(params)} argument(s) here, "
                       f"got {len(node.args)}")
    out = dict(zip(params, node.args))
    for k in node.keywords:
        if k.arg not in params:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() got an unsupported keyword argument {k.arg!r}",
                           hint=f"supported here: {', '.join(params)}")
        if k.arg in out:
            raise tr.error(AdjitTypeError, node, f"{path}() got multiple values for {k.arg!r}")
        out[k.arg] = k.value
    for p in params[:required]:
        if p not in out:
            raise tr.error(AdjitTypeError, node, f"{path}() is missing the argument {p!r}")
    return out


def is_none(tr, e):
    """Is expression `e` the constant None (written None or np.newaxis)?"""
    if e is None:
        return False
    if isinstance(e, ast.Constant):
        return e.value is None
    root = e
    while isinstance(root, ast.Attribute):
        root = root.value
    if isinstance(root, ast.Name) and root.id not in tr.b.vars:
        from .calls import _static
        try:
            return _static(tr, e) is None and _names_none(tr, e)
        except Exception:  # an unknown name: not None; the normal path reports it
            return False
    return False


def _names_none(tr, e):
    # _static returns None both for "None" and for "not found": check the attribute exists
    if isinstance(e, ast.Attribute):
        from .calls import _static
        base = _static(tr, e.value)
        return base is not None and hasattr(base, e.attr) and getattr(base, e.attr) is None
    return tr.lookup_global(e.id, e) is None


def const_bool(tr, e, node, what):
    if e is None:
        return False
    v = tr.expr(e)
    if not (isinstance(v, Value) and v.const is not None and v.type == BOOL):
        raise tr.error(UnsupportedSyntaxError, node, f"{what} must be True or False")
    return v.const[0]


def _is_array(v):
    return isinstance(v, Value) and is_array(v.type)


def _float_array(tr, x):
    return x if x.type.dtype == F64 else tr.b.cast(x, Array(F64, x.type.ndim))


def axes(tr, e, ndim, node, path):
    """The axes a reduction combines: None for all of them, else a sorted tuple (normalised)."""
    from .arrays import _axis
    if e is None or (isinstance(e, ast.Constant) and e.value is None):
        return None
    items = e.elts if isinstance(e, ast.Tuple) else [e]
    out = [_axis(tr, item, ndim, node, path) for item in items]
    if len(set(out)) != len(out):
        raise tr.error(AdjitTypeError, node, f"{path}(): an axis is repeated in {ast.unparse(e)}")
    if len(out) == ndim:
        return None
    return tuple(sorted(out))


def _keep_all(tr, s, ndim):
    """Scalar `s` as an array of shape (1,) * ndim (keepdims over every axis), its derivative kept."""
    one = tr.b.const(1)
    dtype = s.type
    ones = tr.b.emit("ones", [one] * ndim, {"dtype": dtype})
    return tr.b.emit("and_" if dtype == BOOL else "mul", [ones, s])


def reduce_values(tr, prim, x, ax, keep):
    """`prim` over axes `ax` (None: all) of array x, as NumPy's ``prim(x, axis=ax, keepdims=keep)``."""
    ndim = x.type.ndim
    if x.type.dtype == BOOL and prim not in ("amax", "amin"):
        x = tr.b.cast(x, Array(I64, ndim))
    if ax is None:
        out = tr.b.emit(prim, [x], {"axis": None})
        return _keep_all(tr, out, ndim) if keep else out
    out = x
    for a in reversed(ax):
        out = tr.b.emit(prim, [out], {"axis": a})
    if keep:
        for a in ax:
            out = tr.b.emit("expand_dims", [out], {"axis": a})
    return out


_DTYPE_OK = ("sum", "mean", "prod")


def reduce(tr, prim, x, keywords, node, path):
    """A reduction called with keyword nodes {axis, keepdims, dtype} (from arrays.py)."""
    dtype_node = keywords.get("dtype")
    if not _is_array(x):
        if not isinstance(x, Value):
            from .arrays import _describe
            raise tr.error(AdjitTypeError, node, f"{path}() needs an array, got {_describe(x)}")
        return tr.b.cast(x, F64) if prim == "mean" else x
    if dtype_node is not None:
        x = _with_dtype(tr, prim, x, dtype_node, node, path)
    ax = axes(tr, keywords.get("axis"), x.type.ndim, node, path)
    keep = const_bool(tr, keywords.get("keepdims"), node, f"keepdims of {path}()")
    return reduce_values(tr, prim, x, ax, keep)


def _with_dtype(tr, prim, x, e, node, path):
    from .calls import _DTYPES, _static
    if prim not in _DTYPE_OK:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() got an unsupported keyword argument 'dtype'")
    t = _DTYPES.get(_static(tr, e)) if not (isinstance(e, ast.Constant) and e.value is None) else x.type.dtype
    if t == F64 or (t == I64 and x.type.dtype in (I64, BOOL) and prim != "mean"):
        return tr.b.cast(x, Array(t, x.type.ndim))
    raise tr.error(UnsupportedSyntaxError, node, f"{path}(..., dtype={ast.unparse(e)}) is not supported here",
                   hint="dtype=float (or np.float64) is supported, and dtype=int for an int or bool array")


def count(tr, x, ax):
    """The number of elements combined over axes `ax` of x, as an f64 value."""
    dims = range(x.type.ndim) if ax is None else ax
    n = tr.b.const(1)
    for d in dims:
        n = tr.b.emit("mul", [n, tr.b.emit("shape", [x], {"dim": d})])
    return tr.b.cast(n, F64)


# ---- var, std, average ---------------------------------------------------------------------------
def variance(tr, x, ax, ddof, keep):
    """NumPy's var: mean((x - mean(x))**2) with the divisor max(n - ddof, 0)."""
    x = _float_array(tr, x)
    m = reduce_values(tr, "mean", x, ax, True)
    d = tr.b.emit("sub", [x, m])
    ss = reduce_values(tr, "sum", tr.b.emit("mul", [d, d]), ax, keep)
    n = tr.b.emit("sub", [count(tr, x, ax), tr.b.cast(ddof, F64)])
    return tr.b.emit("div", [ss, tr.b.emit("max", [n, tr.b.const(0.0)])])


def _var_std(which):
    def handler(tr, x, args, node, path):
        if not _is_array(x):
            if isinstance(x, Value) and x.type in (F64, I64, BOOL) and "ddof" not in args and not args.get("axis"):
                return tr.b.const(0.0)  # of a number: 0.0, as NumPy (a constant)
            raise tr.error(AdjitTypeError, node, f"{path}() needs an array")
        ax = axes(tr, args.get("axis"), x.type.ndim, node, path)
        ddof = tr.scalar(args["ddof"], "ddof (a number)") if "ddof" in args else tr.b.const(0)
        keep = const_bool(tr, args.get("keepdims"), node, f"keepdims of {path}()")
        if args.get("dtype") is not None:
            x = _with_dtype(tr, "mean", x, args["dtype"], node, path)
        v = variance(tr, x, ax, ddof, keep)
        return v if which == "var" else _sqrt0(tr, v, node, path)
    return handler


def _sqrt0(tr, v, node, path):
    """sqrt(v) whose derivative is 0 where v == 0 (adjit's convention, as for norm'(0)):
    std is constant there when the reduced axis has one element, and sqrt'(0) * 0 would be
    nan.  The inner select keeps sqrt's own derivative finite (the "double where")."""
    from .arrays import elementwise
    pick = (lambda args: elementwise(tr, "select", args, node, path)) if _is_array(v) else \
        (lambda args: tr.b.emit("select", args))
    pos = elementwise(tr, "gt", [v, tr.b.const(0.0)], node, path) if _is_array(v) else \
        tr.b.emit("gt", [v, tr.b.const(0.0)])
    return pick([pos, tr.b.emit("sqrt", [pick([pos, v, tr.b.const(1.0)])]), tr.b.const(0.0)])


_VAR_PARAMS = ("a", "axis", "dtype", "out", "ddof", "keepdims")


def _refuse_out(tr, args, node, path):
    if "out" in args:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}(..., out=) is not supported",
                       hint="assign the result: y = ...")


def _var_call(which):
    def call(tr, node, path):
        args = bind(tr, node, path, _VAR_PARAMS)
        _refuse_out(tr, args, node, path)
        return _var_std(which)(tr, tr.expr(args["a"]), args, node, path)
    return call


def _average(tr, node, path):
    args = bind(tr, node, path, ("a", "axis", "weights", "returned", "keepdims"))
    a = tr.expr(args["a"])
    if not _is_array(a):
        raise tr.error(AdjitTypeError, node, f"{path}() needs an array")
    a = _float_array(tr, a)
    ndim = a.type.ndim
    ax = axes(tr, args.get("axis"), ndim, node, path)
    keep = const_bool(tr, args.get("keepdims"), node, f"keepdims of {path}()")
    returned = const_bool(tr, args.get("returned"), node, f"returned of {path}()")
    w_node = args.get("weights")
    if w_node is None or (isinstance(w_node, ast.Constant) and w_node.value is None):
        avg = reduce_values(tr, "mean", a, ax, keep)
        if not returned:
            return avg
        return _returned(tr, avg, count(tr, a, ax))
    w = tr.expr(w_node)
    if not _is_array(w):
        raise tr.error(AdjitTypeError, node, f"the weights of {path}() must be an array")
    w = _float_array(tr, w)
    if w.type.ndim != ndim:
        if w.type.ndim != 1 or ax is None or len(ax) != 1:
            raise tr.error(AdjitTypeError, node, f"{path}(): weights of another number of dimensions than the "
                           "array need a 1-d weights array and one int axis (as NumPy)")
        for _ in range(ndim - 1 - ax[0]):  # shape (n,) -> (n, 1, ..., 1): n along the axis
            w = tr.b.emit("expand_dims", [w], {"axis": w.type.ndim})
        scl = reduce_values(tr, "sum", w, None, False)
        if keep:
            scl = _keep_all(tr, scl, ndim)
    else:
        scl = reduce_values(tr, "sum", w, ax, keep)
    avg = tr.b.emit("div", [reduce_values(tr, "sum", tr.b.emit("mul", [a, w]), ax, keep), scl])
    return _returned(tr, avg, scl) if returned else avg


def _returned(tr, avg, scl):
    from .translate import Tup
    if is_array(avg.type):  # NumPy broadcasts the sum of weights to the shape of the average
        scl = tr.b.emit("add", [tr.b.emit("zeros_like", [avg], {"dtype": F64}), scl])
    return Tup([avg, scl])


# ---- clip -----------------------------------------------------------------------------------------
def clip(tr, x, lo_node, hi_node, node, path):
    from .arrays import elementwise
    if lo_node is None or hi_node is None:
        raise tr.error(AdjitTypeError, node, f"{path}() needs a_min and a_max (either may be None)")
    lo_none, hi_none = is_none(tr, lo_node), is_none(tr, hi_node)
    if lo_none and hi_none:
        raise tr.error(AdjitTypeError, node, f"{path}(): a_min and a_max cannot both be None (NumPy refuses it)")
    out = x
    if not lo_none:
        out = elementwise(tr, "max", [out, tr.value(lo_node)], node, path)
    if not hi_none:
        out = elementwise(tr, "min", [out, tr.value(hi_node)], node, path)
    return out


def _clip_call(tr, node, path):
    args = _clip_args(tr, node, path, ("a", "a_min", "a_max", "out"))
    _refuse_out(tr, args, node, path)
    return clip(tr, tr.value(args["a"]), args.get("a_min"), args.get("a_max"), node, path)


def _clip_args(tr, node, path, params):
    # NumPy 2 also spells the bounds min= and max=
    for k in node.keywords:
        if k.arg in ("min", "max"):
            k.arg = "a_" + k.arg
    return bind(tr, node, path, params)


# ---- np.linalg.norm ------------------------------------------------------------------------------
def _norm_call(tr, node, path):
    """np.linalg.norm(x, ord=, axis=, keepdims=): the 2-norm (Frobenius) as a reduction with
    norm'(0) = 0; vector ords 1, inf, -inf, 0, p; matrix ords 1, -1, inf, -inf.  The spectral
    and nuclear norms need singular values: refused."""
    from .arrays import elementwise
    args = bind(tr, node, path, ("x", "ord", "axis", "keepdims"))
    x = tr.value(args["x"], "an array")
    if not _is_array(x):
        return tr.b.emit("abs", [tr.b.cast(x, F64)])
    x = _float_array(tr, x)
    n = x.type.ndim
    keep = const_bool(tr, args.get("keepdims"), node, f"keepdims of {path}()")
    ordv = _norm_ord(tr, args.get("ord"), node, path)
    ax = axes(tr, args.get("axis"), n, node, path)
    ax = tuple(range(n)) if ax is None else ax
    if len(ax) > 2 and ordv is not None or len(ax) not in (1, 2) and ordv is not None:
        raise tr.error(AdjitTypeError, node, "Improper number of dimensions to norm.")
    red = None if len(ax) == n else ax   # reduce_values' "all axes"
    if ordv in (None, "fro") or (len(ax) == 1 and ordv == 2.0):
        if red is None and not keep and n <= 2:
            return tr.b.emit("norm", [x])
        return _sqrt0(tr, reduce_values(tr, "sum", tr.b.emit("mul", [x, x]), red, keep), node, path)
    ab = elementwise(tr, "abs", [x], node, path)
    if len(ax) == 1 and ordv in (float("inf"), float("-inf")):
        return reduce_values(tr, "amax" if ordv > 0 else "amin", ab, red, keep)
    if len(ax) == 1 and ordv == 0.0:  # the count of nonzeros: no derivative
        nonzero = tr.b.cast(elementwise(tr, "ne", [x, tr.b.const(0.0)], node, path), Array(F64, n))
        return reduce_values(tr, "sum", nonzero, red, keep)
    if len(ax) == 1 and isinstance(ordv, float):
        total = reduce_values(tr, "sum", ab if ordv == 1.0 else elementwise(tr, "pow", [ab, tr.b.const(ordv)],
                                                                          node, path), red, keep)
        if ordv == 1.0:
            return total
        inv = tr.b.const(1.0 / ordv)
        return elementwise(tr, "pow", [total, inv], node, path) if _is_array(total) else \
            tr.b.emit("pow", [total, inv])
    if len(ax) == 2 and ordv in (1.0, -1.0, float("inf"), float("-inf")):
        # the largest (smallest) absolute column sum (ord 1) or row sum (ord inf)
        summed, other = (ax[0], ax[1]) if abs(ordv) == 1.0 else (ax[1], ax[0])
        sums = reduce_values(tr, "sum", ab, (summed,), False)
        out = reduce_values(tr, "amax" if ordv > 0 else "amin", sums,
                            None if n == 2 else (other - (other > summed),), False)
        for a in sorted(ax) if keep else ():
            out = tr.b.emit("expand_dims", [out], {"axis": a})
        return out
    raise tr.error(UnsupportedSyntaxError, node, f"{path}(..., ord={ast.unparse(args['ord'])}) is not supported "
                   "here (the spectral and nuclear norms need singular values)",
                   hint="ord=None (2-norm / Frobenius), 1, np.inf, -np.inf, 0 or a number p for vectors; 1, -1, "
                        "np.inf, -np.inf for matrices")


def _norm_ord(tr, e, node, path):
    if e is None or is_none(tr, e):
        return None
    if isinstance(e, ast.Constant) and e.value in ("fro", "nuc"):
        return e.value
    v = tr.expr(e)
    if not (isinstance(v, Value) and v.const is not None and v.type in (I64, F64)):
        raise tr.error(UnsupportedSyntaxError, node, f"ord of {path}() must be a constant")
    return float(v.const[0])


# ---- tables -------------------------------------------------------------------------------------
FUNCTIONS = {np.var: _var_call("var"), np.std: _var_call("std"), np.average: _average, np.clip: _clip_call,
             np.linalg.norm: _norm_call}


def call(tr, target, path, node):
    handler = FUNCTIONS.get(target)
    return None if handler is None else handler(tr, node, path)


def method(tr, x, name, node):
    """``x.var()``, ``x.std()``, ``x.clip()`` of an array, or None."""
    path = f".{name}"
    if name in ("var", "std"):
        args = bind(tr, node, path, _VAR_PARAMS[1:], required=0)
        _refuse_out(tr, args, node, path)
        return _var_std(name)(tr, x, args, node, path)
    if name == "clip":
        args = _clip_args(tr, node, path, ("a_min", "a_max", "out"))
        _refuse_out(tr, args, node, path)
        return clip(tr, x, args.get("a_min"), args.get("a_max"), node, path)
    return None
