"""Scans and order, shapes, matrix structure, linear algebra and contractions (issue 14,
items 7-10), lowered to the primitives of `adjit.ir.numpy_primitives` and the table.

Views where NumPy gives a view: ``transpose(axes)``, ``swapaxes``, ``moveaxis`` (`permute`),
``flip``/``fliplr``/``flipud`` (a reversed slice), ``squeeze`` (an index 0, checked to be
a length-1 dimension), ``expand_dims``, ``atleast_2d`` of a 1-d array.  Copies where NumPy
copies: ``repeat``, ``tile``, ``roll`` (gathers), ``pad``, the stacks, ``diag``/``diagonal``
(NumPy's diagonal is a read-only view; here it is a copy), ``sort``, the scans.
"""
import ast

import numpy as np

from ..errors import AdjitTypeError, UnsupportedSyntaxError
from ..ir.core import Value
from ..ir.types import BOOL, F64, I64, Array, is_array
from .arrays import FULL_SLICE, _axis
from .numpy_stats import bind, is_none


def _arr(tr, e, node, path):
    v = tr.expr(e)
    if not (isinstance(v, Value) and is_array(v.type)):
        raise tr.error(AdjitTypeError, node, f"{path}() needs an array")
    return v


def _const_int(tr, e, node, what):
    v = tr.expr(e)
    if not (isinstance(v, Value) and v.const is not None and v.type == I64):
        raise tr.error(UnsupportedSyntaxError, node, f"{what} must be a constant int")
    return v.const[0]


def _ints(tr, e, node, what):
    """A constant int or tuple of constant ints, as a tuple."""
    from .translate import Tup
    if isinstance(e, (ast.Tuple, ast.List)):
        return tuple(_const_int(tr, x, node, what) for x in e.elts)
    v = tr.expr(e)
    if isinstance(v, Tup):
        out = []
        for x in v.items:
            if not (isinstance(x, Value) and x.const is not None and x.type == I64):
                raise tr.error(UnsupportedSyntaxError, node, f"{what} must be constant ints")
            out.append(x.const[0])
        return tuple(out)
    if not (isinstance(v, Value) and v.const is not None and v.type == I64):
        raise tr.error(UnsupportedSyntaxError, node, f"{what} must be a constant int or tuple of ints")
    return (v.const[0],)


def _norm_axis(tr, a, ndim, node):
    if not -ndim <= a < ndim:
        raise tr.error(AdjitTypeError, node, f"axis {a} is out of range for a {ndim}-d array")
    return a % ndim


def _shape(tr, a, d):
    return tr.b.emit("shape", [a], {"dim": d})


def _axis_or_flat(tr, x, e, node, path, default=None):
    """(array, axis): axis=None flattens, as NumPy's scans and sort do."""
    if e is None and default is not None:
        return x, default % x.type.ndim
    axis = _axis(tr, e, x.type.ndim, node, path)
    if axis is None:
        return tr.b.emit("ravel", [x]) if x.type.ndim != 1 else x, 0
    return x, axis


def _view_along(tr, x, axis, operands, entry):
    spec = tuple(entry if d == axis else FULL_SLICE for d in range(x.type.ndim))
    return tr.b.emit("view", [x] + operands, {"spec": spec})


# ---- item 9: scans and order --------------------------------------------------------------------
def _scan(prim):
    def handler(tr, node, path, x=None):
        a = bind(tr, node, path, ["a", "axis"] if x is None else ["axis"], required=1 if x is None else 0)
        x = _arr(tr, a["a"], node, path) if x is None else x
        if x.type.dtype == BOOL:
            x = tr.b.cast(x, I64)
        x, axis = _axis_or_flat(tr, x, a.get("axis"), node, path)
        return tr.b.emit(prim, [x], {"axis": axis})
    return handler


def _diff(tr, node, path, x=None):
    a = bind(tr, node, path, ["a", "n", "axis"])
    x = _arr(tr, a["a"], node, path)
    if x.type.dtype == BOOL:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() of a bool array is not supported")
    n = 1 if "n" not in a else _const_int(tr, a["n"], node, "n of np.diff")
    axis = _axis(tr, a.get("axis"), x.type.ndim, node, path, default=-1 % x.type.ndim)
    one = tr.b.const(1)
    for _ in range(n):
        hi = _view_along(tr, x, axis, [one], ("s", True, False, False))
        lo = _view_along(tr, x, axis, [tr.b.const(-1)], ("s", False, True, False))
        x = tr.b.emit("sub", [hi, lo])
    return x


def _sort(tr, node, path, x=None):
    a = bind(tr, node, path, ["a", "axis"])
    x = _arr(tr, a["a"], node, path)
    x, axis = _axis_or_flat(tr, x, a.get("axis"), node, path, default=-1)
    order = tr.b.emit("argsort", [x], {"axis": axis})
    return tr.b.emit("take_along", [x, order], {"axis": axis})


def _argsort(tr, node, path, x=None):
    a = bind(tr, node, path, ["a", "axis"] if x is None else ["axis"], required=1 if x is None else 0)
    x = _arr(tr, a["a"], node, path) if x is None else x
    x, axis = _axis_or_flat(tr, x, a.get("axis"), node, path, default=-1)
    return tr.b.emit("argsort", [x], {"axis": axis})


def _arg_extreme(prim):
    def handler(tr, node, path, x=None):
        a = bind(tr, node, path, ["a", "axis"] if x is None else ["axis"], required=1 if x is None else 0)
        x = _arr(tr, a["a"], node, path) if x is None else x
        axis = _axis(tr, a.get("axis"), x.type.ndim, node, path)
        return tr.b.emit(prim, [x], {"axis": axis})
    return handler


# ---- item 7: shapes ------------------------------------------------------------------------------
def permute(tr, x, axes):
    if tuple(axes) == tuple(range(x.type.ndim)):
        return x
    return tr.b.emit("permute", [x], {"axes": tuple(axes)})


def _transpose(tr, node, path, x=None):
    if x is None:
        a = bind(tr, node, path, ["a", "axes"])
        if "axes" not in a or is_none(tr, a["axes"]):
            if "axes" not in a:
                return None
            x = _arr(tr, a["a"], node, path)
            return permute(tr, x, tuple(range(x.type.ndim))[::-1])
        x = _arr(tr, a["a"], node, path)
        axes = _ints(tr, a["axes"], node, "axes")
    else:
        if not node.args or node.keywords:
            return None
        axes = _ints(tr, node.args[0], node, "axes") if len(node.args) == 1 else \
            tuple(_const_int(tr, e, node, "axes") for e in node.args)
    if sorted(_norm_axis(tr, k, x.type.ndim, node) for k in axes) != list(range(x.type.ndim)):
        raise tr.error(AdjitTypeError, node, "axes don't match array")
    return permute(tr, x, [_norm_axis(tr, k, x.type.ndim, node) for k in axes])


def _swapaxes(tr, node, path, x=None):
    a = bind(tr, node, path, ["a", "axis1", "axis2"] if x is None else ["axis1", "axis2"], 3 if x is None else 2)
    x = _arr(tr, a["a"], node, path) if x is None else x
    n = x.type.ndim
    i = _norm_axis(tr, _const_int(tr, a["axis1"], node, "axis1"), n, node)
    j = _norm_axis(tr, _const_int(tr, a["axis2"], node, "axis2"), n, node)
    axes = list(range(n))
    axes[i], axes[j] = j, i
    return permute(tr, x, axes)


def _moveaxis(tr, node, path, x=None):
    a = bind(tr, node, path, ["a", "source", "destination"], 3)
    x = _arr(tr, a["a"], node, path)
    n = x.type.ndim
    src = [_norm_axis(tr, k, n, node) for k in _ints(tr, a["source"], node, "source")]
    dst = [_norm_axis(tr, k, n, node) for k in _ints(tr, a["destination"], node, "destination")]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise tr.error(AdjitTypeError, node, "`source` and `destination` arguments must have the same number "
                       "of distinct elements")
    order = [k for k in range(n) if k not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(tr, x, order)


def _rollaxis(tr, node, path, x=None):
    """np.rollaxis(a, axis, start=0): axis moved to before `start` (a view)."""
    a = bind(tr, node, path, ["a", "axis", "start"], 2)
    x = _arr(tr, a["a"], node, path)
    n = x.type.ndim
    k = _norm_axis(tr, _const_int(tr, a["axis"], node, "axis"), n, node)
    start = _const_int(tr, a["start"], node, "start") if "start" in a else 0
    if not -n <= start <= n:
        raise tr.error(AdjitTypeError, node, f"'start' arg requires {-n} <= start < {n + 1}")
    start = start % (n + 1) if start < 0 else start
    order = [d for d in range(n) if d != k]
    order.insert(start - (start > k), k)
    return permute(tr, x, order)


def _squeeze(tr, node, path, x=None):
    a = bind(tr, node, path, ["a", "axis"] if x is None else ["axis"], required=1 if x is None else 0)
    x = _arr(tr, a["a"], node, path) if x is None else x
    if "axis" not in a or (isinstance(a["axis"], ast.Constant) and a["axis"].value is None):
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() without axis= is not supported (adjit needs "
                       "the rank of the result when it compiles)", hint="write np.squeeze(x, axis=0)")
    axes = sorted({_norm_axis(tr, k, x.type.ndim, node) for k in _ints(tr, a["axis"], node, "axis")})
    operands, spec = [], []
    for d in range(x.type.ndim):
        if d in axes:
            operands.append(tr.b.emit("squeeze_index", [_shape(tr, x, d)]))
            spec.append(("i",))
        else:
            spec.append(FULL_SLICE)
    if len(axes) == x.type.ndim:
        return tr.b.emit("load", [x] + operands)
    return tr.b.emit("view", [x] + operands, {"spec": tuple(spec)})


def _expand_dims(tr, node, path, x=None):
    a = bind(tr, node, path, ["a", "axis"], 2)
    x = _arr(tr, a["a"], node, path)
    axes = _ints(tr, a["axis"], node, "axis")
    n = x.type.ndim + len(axes)
    for k in sorted(_norm_axis(tr, k, n, node) for k in axes):
        x = tr.b.emit("expand_dims", [x], {"axis": k})
    return x


def _flip_axes(tr, x, axes):
    operands, spec = [], []
    for d in range(x.type.ndim):
        if d in axes:
            operands.append(tr.b.const(-1))
            spec.append(("s", False, False, True))
        else:
            spec.append(FULL_SLICE)
    return tr.b.emit("view", [x] + operands, {"spec": tuple(spec)})


def _flip(tr, node, path, x=None):
    a = bind(tr, node, path, ["m", "axis"])
    x = _arr(tr, a["m"], node, path)
    if "axis" not in a or (isinstance(a["axis"], ast.Constant) and a["axis"].value is None):
        return _flip_axes(tr, x, set(range(x.type.ndim)))
    return _flip_axes(tr, x, {_norm_axis(tr, k, x.type.ndim, node) for k in _ints(tr, a["axis"], node, "axis")})


def _flip_fixed(axis):
    def handler(tr, node, path, x=None):
        a = bind(tr, node, path, ["m"])
        x = _arr(tr, a["m"], node, path)
        if x.type.ndim < axis + 1:
            raise tr.error(AdjitTypeError, node, f"{path}() needs an array of at least {axis + 1} dimension(s)")
        return _flip_axes(tr, x, {axis})
    return handler


def _scalar_int(tr, e, node, what):
    v = tr.expr(e)
    if not (isinstance(v, Value) and v.type in (I64, BOOL)):
        raise tr.error(AdjitTypeError, node, f"{what} must be an int")
    return tr.b.cast(v, I64)


def _int_list(tr, e, node, what):
    from .translate import Tup
    if isinstance(e, (ast.Tuple, ast.List)):
        return [_scalar_int(tr, x, node, what) for x in e.elts]
    v = tr.expr(e)
    if isinstance(v, Tup):
        return [tr.b.cast(x, I64) for x in v.items]
    return [_scalar_int(tr, e, node, what)]


def _repeat(tr, node, path, x=None):
    a = bind(tr, node, path, ["a", "repeats", "axis"] if x is None else ["repeats", "axis"], 2 if x is None else 1)
    x = _arr(tr, a["a"], node, path) if x is None else x
    r = _scalar_int(tr, a["repeats"], node, "repeats (an array of repeats is not supported)")
    x, axis = _axis_or_flat(tr, x, a.get("axis"), node, path)
    idx = tr.b.emit("repeat_index", [_shape(tr, x, axis), r])
    return tr.b.emit("take", [x, idx], {"axis": axis})


def _tile(tr, node, path, x=None):
    a = bind(tr, node, path, ["A", "reps"], 2)
    x = _arr(tr, a["A"], node, path)
    reps = _int_list(tr, a["reps"], node, "reps")
    while x.type.ndim < len(reps):
        x = tr.b.emit("expand_dims", [x], {"axis": 0})
    reps = [None] * (x.type.ndim - len(reps)) + reps
    out = x
    for d, r in enumerate(reps):
        if r is None:
            continue
        out = tr.b.emit("take", [out, tr.b.emit("tile_index", [_shape(tr, out, d), r])], {"axis": d})
    return out if out is not x else tr.b.emit("copy", [x])


def _roll(tr, node, path, x=None):
    a = bind(tr, node, path, ["a", "shift", "axis"], 2)
    x0 = _arr(tr, a["a"], node, path)
    shifts = _int_list(tr, a["shift"], node, "shift")
    if "axis" not in a or (isinstance(a["axis"], ast.Constant) and a["axis"].value is None):
        if len(shifts) != 1:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() with several shifts needs axis=")
        flat = tr.b.emit("ravel", [x0]) if x0.type.ndim != 1 else x0
        out = tr.b.emit("take", [flat, tr.b.emit("roll_index", [_shape(tr, flat, 0), shifts[0]])], {"axis": 0})
        return out if x0.type.ndim == 1 else tr.b.emit("reshape_like", [out, x0])
    axes = [_norm_axis(tr, k, x0.type.ndim, node) for k in _ints(tr, a["axis"], node, "axis")]
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise tr.error(AdjitTypeError, node, "'shift' and 'axis' should be scalars or 1D sequences of the same length")
    out = x0
    for d, s in zip(axes, shifts):
        out = tr.b.emit("take", [out, tr.b.emit("roll_index", [_shape(tr, out, d), s])], {"axis": d})
    return out if out is not x0 else tr.b.emit("copy", [x0])


def _pad(tr, node, path, x=None):
    a = bind(tr, node, path, ["array", "pad_width", "mode", "constant_values"], 2)
    x = _arr(tr, a["array"], node, path)
    if "mode" in a and not (isinstance(a["mode"], ast.Constant) and a["mode"].value == "constant"):
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() supports mode='constant' only")
    c = tr.b.const(0) if "constant_values" not in a else tr.expr(a["constant_values"])
    if not (isinstance(c, Value) and not is_array(c.type) and c.const is not None):
        raise tr.error(UnsupportedSyntaxError, node, f"constant_values of {path}() must be one constant number")
    n = x.type.ndim
    pw = a["pad_width"]
    if isinstance(pw, (ast.Tuple, ast.List)) and pw.elts and isinstance(pw.elts[0], (ast.Tuple, ast.List)):
        pairs = [[_scalar_int(tr, v, node, "pad widths") for v in p.elts] for p in pw.elts]
    else:
        pairs = [_int_list(tr, pw, node, "pad widths")]
    pairs = [p * 2 if len(p) == 1 else p for p in pairs]
    if len(pairs) == 1:
        pairs = pairs * n
    if len(pairs) != n or any(len(p) != 2 for p in pairs):
        raise tr.error(AdjitTypeError, node, f"pad_width of {path}() does not match the array's dimensions")
    b = tr.b
    dims = [b.emit("add", [b.emit("add", [_shape(tr, x, d), lo]), hi]) for d, (lo, hi) in enumerate(pairs)]
    dtype = F64 if x.type.dtype == F64 or c.type == F64 else x.type.dtype
    out = b.emit("full", dims + [b.cast(c, dtype)], {"dtype": dtype})
    operands = []
    for d, (lo, hi) in enumerate(pairs):
        operands += [lo, b.emit("add", [lo, _shape(tr, x, d)])]
    b.emit("view_store", [out] + operands + [x], {"spec": tuple(("s", True, True, False) for _ in range(n))})
    return out


def sequence(tr, e, node, path):
    """The arrays of a join's sequence: a tuple or list written out, or a tuple value (a tuple
    parameter, a split's result); None if `e` is neither."""
    from .translate import Tup
    if isinstance(e, (ast.Tuple, ast.List)):
        items = [tr.expr(x) for x in e.elts]
    else:
        v = tr.expr(e)
        if not isinstance(v, Tup):
            return None
        items = v.items
    for v in items:
        if not (isinstance(v, Value) and is_array(v.type)):
            raise tr.error(AdjitTypeError, node, f"{path}() takes arrays (a number or a nested tuple in the sequence "
                           "is not supported)")
    return items


def _seq(tr, node, path):
    items = sequence(tr, node.args[0], node, path) if len(node.args) == 1 and not node.keywords else None
    if items is None:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() takes a tuple of arrays: {path}((a, b))")
    parts = items
    if not parts:
        raise tr.error(AdjitTypeError, node, f"{path}() needs at least one array")
    return parts


# where np.atleast_{n}d puts the new length-1 axes of an array of ndim d (views): a 1-d array
# becomes a row (1, N) for 2 and (1, N, 1) for 3, a 2-d one (M, N, 1) for 3
_AT_LEAST_AXES = {(2, 1): (0,), (3, 1): (0, 2), (3, 2): (2,)}


def _at_least(tr, x, n):
    if not is_array(x.type):  # a number: a new array of shape (1,) * n holding it (as np.array([x]))
        from .numpy_build import from_numbers
        return from_numbers(tr, (1,) * n, [x], F64 if x.type == F64 else x.type)
    if x.type.ndim >= n:
        return x
    if x.type.ndim == 0:
        raise AssertionError
    for axis in _AT_LEAST_AXES[(n, x.type.ndim)]:
        x = tr.b.emit("expand_dims", [x], {"axis": axis})
    return x


def _join(tr, prim, parts, axis, node, path):
    if len({p.type.ndim for p in parts}) != 1:
        raise tr.error(AdjitTypeError, node, f"{path}(): all the input arrays must have the same number of dimensions")
    return tr.b.emit(prim, parts, {"axis": axis})


def _vstack(tr, node, path, x=None):
    parts = [_at_least(tr, p, 2) for p in _seq(tr, node, path)]
    return _join(tr, "concatenate", parts, 0, node, path)


def _hstack(tr, node, path, x=None):
    parts = _seq(tr, node, path)
    return _join(tr, "concatenate", parts, 0 if parts[0].type.ndim == 1 else 1, node, path)


def _column_stack(tr, node, path, x=None):
    parts = [tr.b.emit("expand_dims", [p], {"axis": 1}) if p.type.ndim == 1 else p for p in _seq(tr, node, path)]
    return _join(tr, "concatenate", parts, 1, node, path)


def _atleast(n):
    def handler(tr, node, path, x=None):
        from .translate import Tup
        if node.keywords or not node.args:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() takes arrays or numbers, by position")
        out = [_at_least(tr, tr.value(e, "an array or a number"), n) for e in node.args]
        return out[0] if len(out) == 1 else Tup(out)  # several arguments: a tuple, as NumPy's list
    return handler


def _rot90(tr, node, path, x=None):
    """np.rot90: flips and an axis swap, a view as in NumPy."""
    a = bind(tr, node, path, ["m", "k", "axes"])
    x = _arr(tr, a["m"], node, path)
    n = x.type.ndim
    k = (_const_int(tr, a["k"], node, "k of np.rot90") if "k" in a else 1) % 4
    axes = _ints(tr, a["axes"], node, "axes") if "axes" in a else (0, 1)
    if len(axes) != 2:
        raise tr.error(AdjitTypeError, node, f"{path}(): len(axes) must be 2")
    i, j = axes
    if n < 2:
        raise tr.error(AdjitTypeError, node, f"{path}() needs an array of at least 2 dimensions")
    i, j = _norm_axis(tr, i, n, node), _norm_axis(tr, j, n, node)
    if i == j:
        raise tr.error(AdjitTypeError, node, f"{path}(): the axes must be different")
    swap = list(range(n))
    swap[i], swap[j] = j, i
    if k == 0:
        return _flip_axes(tr, x, set())
    if k == 2:
        return _flip_axes(tr, x, {i, j})
    if k == 1:
        return permute(tr, _flip_axes(tr, x, {j}), swap)
    return _flip_axes(tr, permute(tr, x, swap), {j})


def _flat_parts(tr, values):
    """Arrays raveled and numbers made 1-element arrays: the operands of an axis=None join."""
    from .numpy_build import from_numbers
    out = []
    for v in values:
        if not is_array(v.type):
            out.append(from_numbers(tr, (1,), [v], v.type))
        else:
            out.append(tr.b.emit("ravel", [v]) if v.type.ndim != 1 else v)
    return out


def _append(tr, node, path, x=None):
    from .numpy_build import array_like
    a = bind(tr, node, path, ["arr", "values", "axis"], 2)
    arr, values = array_like(tr, a["arr"], node, path), array_like(tr, a["values"], node, path)
    if "axis" not in a or is_none(tr, a["axis"]):
        return tr.b.emit("concatenate", _flat_parts(tr, [arr, values]), {"axis": 0})
    for v in (arr, values):
        if not is_array(v.type) or v.type.ndim != arr.type.ndim:
            raise tr.error(AdjitTypeError, node, f"{path}(..., axis=) needs two arrays of the same number of "
                           "dimensions")
    return tr.b.emit("concatenate", [arr, values], {"axis": _axis(tr, a["axis"], arr.type.ndim, node, path)})


def _split(even, fixed=None):
    """np.split / np.array_split (np.vsplit, hsplit, dsplit: axis 0, 1 (0 for 1-d), 2) into a
    constant number of sections, or at constant (or computed) indices: a tuple of views, as
    NumPy's list of views."""
    def handler(tr, node, path, x=None):
        from .translate import Tup
        a = bind(tr, node, path, ["ary", "indices_or_sections"] + ([] if fixed is not None else ["axis"]), 2)
        x = _arr(tr, a["ary"], node, path)
        if fixed is not None and x.type.ndim < (3 if fixed == 2 else 2 if fixed == 0 else 1):
            raise tr.error(AdjitTypeError, node, f"{path}() needs an array of at least "
                           f"{3 if fixed == 2 else 2 if fixed == 0 else 1} dimensions")
        axis = _axis(tr, a.get("axis"), x.type.ndim, node, path, default=0) if fixed is None else \
            0 if fixed == 1 and x.type.ndim == 1 else fixed
        b, e = tr.b, a["indices_or_sections"]
        n = _shape(tr, x, axis)
        if isinstance(e, (ast.Tuple, ast.List)):
            cuts = [_scalar_int(tr, c, node, "the split indices") for c in e.elts]
            bounds = [b.const(0)] + [b.emit("min", [b.emit("max", [c, b.const(0)]), n]) for c in cuts] + [n]
            bounds = [bounds[0]] + [b.emit("max", [bounds[k], bounds[k - 1]]) for k in range(1, len(bounds))]
        else:
            sections = _const_int(tr, e, node, f"the number of sections of {path}() (or a list of indices)")
            if sections <= 0:
                raise tr.error(AdjitTypeError, node, "number sections must be larger than 0.")
            size, extra = b.emit("floordiv", [n, b.const(sections)]), b.emit("mod", [n, b.const(sections)])
            if even:
                b.emit("check", [b.emit("eq", [extra, b.const(0)])],
                       {"exception": "ValueError", "message": "array split does not result in an equal division"})
            # array_split: the first n % sections pieces are one longer, as NumPy's
            bounds = [b.emit("add", [b.emit("mul", [b.const(k), size]), b.emit("min", [b.const(k), extra])])
                      for k in range(sections)] + [n]
        pieces = [_view_along(tr, x, axis, [lo, hi], ("s", True, True, False)) for lo, hi in zip(bounds, bounds[1:])]
        return Tup(pieces)
    return handler


def _gradient(tr, node, path, x=None):
    """np.gradient(f, axis=) with unit spacing and edge_order=1: central differences inside,
    one-sided at the two ends (slices and a concatenate); several axes give a tuple."""
    from .translate import Tup
    if len(node.args) != 1 or any(k.arg not in ("axis",) for k in node.keywords):
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() is supported with unit spacing: {path}(f, axis=)",
                       hint="divide by the spacing afterwards: np.gradient(f) / dx")
    f = _arr(tr, node.args[0], node, path)
    f = tr.b.cast(f, Array(F64, f.type.ndim))
    e = next((k.value for k in node.keywords), None)
    n = f.type.ndim
    axes_ = list(range(n)) if e is None or is_none(tr, e) else \
        [_norm_axis(tr, k, n, node) for k in _ints(tr, e, node, "axis")]
    b = tr.b

    def along(axis):
        b.emit("check", [b.emit("ge", [_shape(tr, f, axis), b.const(2)])],
               {"exception": "ValueError", "message": "Shape of array too small to calculate a numerical gradient, "
                                                      "at least (edge_order + 1) elements are required."})

        def part(lo, hi):
            operands = [c for c in (lo, hi) if c is not None]
            return _view_along(tr, f, axis, [b.const(c) for c in operands], ("s", lo is not None, hi is not None,
                                                                             False))
        first = b.emit("sub", [part(1, 2), part(0, 1)])
        inner = b.emit("mul", [b.emit("sub", [part(2, None), part(None, -2)]), b.const(0.5)])
        last = b.emit("sub", [part(-1, None), part(-2, -1)])
        return b.emit("concatenate", [first, inner, last], {"axis": axis})
    out = [along(k) for k in axes_]
    return out[0] if len(out) == 1 else Tup(out)


# ---- real arrays: the complex-number functions NumPy code calls on them --------------------------
def _real_part(kind):
    """np.real/np.conj/np.real_if_close of a real array are the array (NumPy: a view for real,
    a copy for conj), np.imag zeros, np.angle 0 or pi; adjit's arrays and numbers are real."""
    def handler(tr, node, path, x=None):
        from .arrays import elementwise
        a = bind(tr, node, path, ["val" if kind != "angle" else "z"] + (["tol"] if kind == "real_if_close" else [])
                 + (["deg"] if kind == "angle" else []))
        v = tr.value(a["val" if kind != "angle" else "z"], "an array or a number")
        if is_array(v.type) and v.type.dtype == BOOL and kind != "real":
            v = tr.b.cast(v, Array(I64, v.type.ndim))
        if kind in ("real", "real_if_close"):
            return v
        if kind == "conj":
            return tr.b.emit("copy", [v]) if is_array(v.type) else v
        zero = tr.b.const(0.0 if kind == "angle" or v.type == F64 or (is_array(v.type) and v.type.dtype == F64)
                          else 0)
        if kind == "imag":
            return tr.b.emit("zeros_like", [v], {"dtype": v.type.dtype}) if is_array(v.type) else zero
        half_turn = tr.b.const(180.0 if "deg" in a and _const_bool_arg(tr, a["deg"], node) else float(np.pi))
        if is_array(v.type):
            return elementwise(tr, "select", [elementwise(tr, "lt", [v, zero], node, path), half_turn, zero],
                               node, path)
        return tr.b.emit("select", [tr.b.emit("lt", [tr.b.cast(v, F64), zero]), half_turn, zero])
    return handler


def _const_bool_arg(tr, e, node):
    from .numpy_stats import const_bool
    return const_bool(tr, e, node, "deg")


def _nan_to_num(tr, node, path, x=None):
    """NaN -> nan, +-inf -> posinf/neginf (default: the largest float64), else the value:
    its derivative is 1 where the value is finite."""
    from .arrays import elementwise
    a = bind(tr, node, path, ["x", "copy", "nan", "posinf", "neginf"])
    v = tr.value(a["x"], "an array or a number")
    if (v.type.dtype if is_array(v.type) else v.type) != F64:
        return v
    big = float(np.finfo(np.float64).max)
    fill = {k: (tr.scalar(a[k]) if k in a and not is_none(tr, a[k]) else tr.b.const(d))
            for k, d in (("nan", 0.0), ("posinf", big), ("neginf", -big))}
    op = (lambda prim, args: elementwise(tr, prim, args, node, path)) if is_array(v.type) else \
        (lambda prim, args: tr.b.emit(prim, args))
    inf = tr.b.const(float("inf"))
    out = op("select", [op("eq", [v, inf]), tr.b.cast(fill["posinf"], F64), v])
    out = op("select", [op("eq", [v, tr.b.emit("neg", [inf])]), tr.b.cast(fill["neginf"], F64), out])
    return op("select", [op("ne", [v, v]), tr.b.cast(fill["nan"], F64), out])


# ---- item 10: matrix structure and linear algebra -------------------------------------------------------
def _matrix(tr, e, node, path):
    x = _arr(tr, e, node, path)
    if x.type.ndim != 2:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() is supported for 2-d arrays (got {x.type.ndim}-d)")
    return x


def _tri(prim):
    def handler(tr, node, path, x=None):
        a = bind(tr, node, path, ["m", "k"])
        x = _arr(tr, a["m"], node, path)
        if x.type.ndim < 2:   # (NumPy makes a matrix of a 1-d array: not supported)
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() is supported for arrays of 2 or more dimensions "
                           "(a stack of matrices: the last two axes)")
        k = 0 if "k" not in a else _const_int(tr, a["k"], node, "k")
        return tr.b.emit(prim, [x], {"k": k})
    return handler


def diagonal(tr, x, k):
    b = tr.b
    idx = b.emit("diag_index", [_shape(tr, x, 0), _shape(tr, x, 1), k])
    return b.emit("take", [b.emit("ravel", [x]), idx], {"axis": 0})


def diagonal_axes(tr, x, k, a1, a2, node):
    """NumPy's diagonal of an N-d array over axes a1, a2: those two moved last and flattened,
    the diagonal gathered there (the last axis of the result, as NumPy's)."""
    n = x.type.ndim
    a1, a2 = _norm_axis(tr, a1, n, node), _norm_axis(tr, a2, n, node)
    if a1 == a2:
        raise tr.error(AdjitTypeError, node, "axis1 and axis2 cannot be the same")
    if n == 2:
        return diagonal(tr, x if (a1, a2) == (0, 1) else permute(tr, x, (1, 0)), k)
    b = tr.b
    rest = [d for d in range(n) if d not in (a1, a2)]
    moved = permute(tr, x, rest + [a1, a2])
    rows, cols = _shape(tr, x, a1), _shape(tr, x, a2)
    flat = b.emit("reshape", [moved] + [_shape(tr, x, d) for d in rest] + [b.emit("mul", [rows, cols])])
    return b.emit("take", [flat, b.emit("diag_index", [rows, cols, k])], {"axis": n - 2})


def _diagonal(tr, node, path, x=None):
    a = bind(tr, node, path, (["a"] if x is None else []) + ["offset", "axis1", "axis2"], 1 if x is None else 0)
    x = _arr(tr, a["a"], node, path) if x is None else x
    if x.type.ndim < 2:
        raise tr.error(AdjitTypeError, node, "diag requires an array of at least two dimensions")
    k = tr.b.const(0) if "offset" not in a else _scalar_int(tr, a["offset"], node, "offset")
    return diagonal_axes(tr, x, k, *_two_axes(tr, a, node), node)


def _two_axes(tr, a, node):
    return (_const_int(tr, a["axis1"], node, "axis1") if "axis1" in a else 0,
            _const_int(tr, a["axis2"], node, "axis2") if "axis2" in a else 1)


def _diag(tr, node, path, x=None):
    a = bind(tr, node, path, ["v", "k"])
    v = _arr(tr, a["v"], node, path)
    k = tr.b.const(0) if "k" not in a else _scalar_int(tr, a["k"], node, "k")
    if v.type.ndim == 2:
        return diagonal(tr, v, k)
    if v.type.ndim != 1 or v.type.dtype == BOOL:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() is supported for 1-d (int or float) and 2-d arrays")
    b = tr.b
    absk = b.emit("abs", [k])
    n = b.emit("add", [_shape(tr, v, 0), absk])
    like = b.emit("zeros", [b.emit("mul", [n, n])], {"dtype": F64})
    flat = b.emit("take_adjoint", [v, like, b.emit("diag_index", [n, n, k])], {"axis": 0})
    out = b.emit("reshape", [flat, n, n])
    return out if v.type.dtype == F64 else b.emit("i64", [out])


def _trace(tr, node, path, x=None):
    """np.trace(a, offset=, axis1=, axis2=): the sum of diagonal_axes (of a 2-d array without
    offset, the `trace` primitive)."""
    a = bind(tr, node, path, ["a", "offset", "axis1", "axis2"])
    x = _arr(tr, a["a"], node, path)
    if set(a) == {"a"} and x.type.ndim == 2:
        return tr.b.emit("trace", [x])
    if x.type.ndim < 2:
        raise tr.error(AdjitTypeError, node, "diag requires an array of at least two dimensions")
    k = tr.b.const(0) if "offset" not in a else _scalar_int(tr, a["offset"], node, "offset")
    d = diagonal_axes(tr, x, k, *_two_axes(tr, a, node), node)
    return tr.b.emit("sum", [d], {"axis": None if d.type.ndim == 1 else d.type.ndim - 1})


def _linalg(prim, nargs=1):
    def handler(tr, node, path, x=None):
        a = bind(tr, node, path, ["a", "b"][:nargs], nargs)
        m = _matrix(tr, a["a"], node, path)
        if nargs == 1:
            return tr.b.emit(prim, [m])
        rhs = _arr(tr, a["b"], node, path)
        if rhs.type.ndim > 2:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() with a stack of right-hand sides is not supported")
        return tr.b.emit(prim, [m, rhs])
    return handler


def _slogdet(tr, node, path, x=None):
    from .translate import Tup
    a = bind(tr, node, path, ["a"])
    m = _matrix(tr, a["a"], node, path)
    return Tup([tr.b.emit("slogdet_sign", [m]), tr.b.emit("slogdet_log", [m])])


def _eigh(tr, node, path, x=None):
    """np.linalg.eigh -> (w, v); UPLO='U' reads the upper triangle, the lower one of A.T."""
    from .translate import Tup
    a = bind(tr, node, path, ["a", "UPLO"])
    m = _matrix(tr, a["a"], node, path)
    uplo = "L"
    if "UPLO" in a:
        if not (isinstance(a["UPLO"], ast.Constant) and a["UPLO"].value in ("L", "U")):
            raise tr.error(UnsupportedSyntaxError, node, f"UPLO of {path}() must be the constant 'L' or 'U'")
        uplo = a["UPLO"].value
    m = tr.b.cast(m, F64)
    if uplo == "U":
        m = permute(tr, m, (1, 0))
    return Tup([tr.b.emit("eigh_w", [m]), tr.b.emit("eigh_v", [m])])


def _eigvalsh(tr, node, path, x=None):
    return _eigh(tr, node, path).items[0]


# ---- item 8: contractions ----------------------------------------------------------------------------
def einsum_lower(tr, inputs, output, operands, node):
    """An explicit einsum as permutes, broadcasting products and sums."""
    for s, x in zip(inputs, operands):
        if len(s) != x.type.ndim:
            raise tr.error(AdjitTypeError, node, f"einsum: operand subscripts {s!r} do not match a {x.type.ndim}-d "
                           "array")
        if len(set(s)) != len(s):
            raise tr.error(UnsupportedSyntaxError, node, "einsum: a repeated index within one operand (a trace or "
                           "diagonal) is not supported", hint="use np.trace or np.diagonal")
    if len(set(output)) != len(output) or any(c not in "".join(inputs) for c in output):
        raise tr.error(AdjitTypeError, node, f"einsum: invalid output subscripts {output!r}")
    letters = list(output) + [c for c in dict.fromkeys("".join(inputs)) if c not in output]
    if not letters:
        raise tr.error(UnsupportedSyntaxError, node, "einsum of numbers is not supported")
    product = None
    for s, x in zip(inputs, operands):
        order = sorted(range(len(s)), key=lambda k: letters.index(s[k]))
        v = permute(tr, x, order)
        have = [s[k] for k in order]
        for pos, c in enumerate(letters):
            if c not in have:
                v = tr.b.emit("expand_dims", [v], {"axis": pos})
                have.insert(pos, c)
        product = v if product is None else tr.b.emit("mul", [product, v])
    if product is operands[0]:
        product = tr.b.emit("copy", [product])
    if not output:
        return tr.b.emit("sum", [product], {"axis": None})
    for axis in range(len(letters) - 1, len(output) - 1, -1):
        product = tr.b.emit("sum", [product], {"axis": axis})
    if product.type.ndim == len(output) and product is not None and any(v is product for v in operands):
        product = tr.b.emit("copy", [product])
    return product


def _einsum(tr, node, path, x=None):
    if node.keywords or len(node.args) < 2 or not (isinstance(node.args[0], ast.Constant)
                                                    and isinstance(node.args[0].value, str)):
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() takes a constant subscripts string and arrays")
    spec = node.args[0].value.replace(" ", "")
    lhs, output = spec.split("->") if "->" in spec else (spec, None)
    inputs = lhs.split(",")
    operands = [_arr(tr, e, node, path) for e in node.args[1:]]
    if len(inputs) != len(operands):
        raise tr.error(AdjitTypeError, node, f"{path}(): {len(inputs)} subscripts for {len(operands)} operands")
    inputs, output = _einsum_explicit(tr, inputs, output, operands, node)
    return einsum_lower(tr, inputs, output, [tr.b.cast(v, F64) if v.type.dtype != F64 else v for v in operands],
                        node)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _einsum_explicit(tr, inputs, output, operands, node):
    """Subscripts without '...' and with an output: each '...' becomes letters of its own
    (right-aligned across operands, so they broadcast), and an implicit output is NumPy's:
    the broadcast dimensions, then the letters used once, in alphabetical order."""
    if any(c not in _LETTERS + _LETTERS.upper() + "." for c in "".join(inputs) + (output or "")) or \
            any(s.count("...") != s.count(".") / 3 or s.count("...") > 1 for s in inputs + [output or ""]):
        raise tr.error(AdjitTypeError, node, "einsum: invalid subscripts (letters, ',', '->' and one '...' per "
                       "operand)")
    used = set("".join(inputs) + (output or ""))
    free = [c for c in _LETTERS + _LETTERS.upper() if c not in used]
    n_ell = max([x.type.ndim - (len(s) - 3) for s, x in zip(inputs, operands) if "..." in s] + [0])
    ell = "".join(free[:n_ell])
    out_in = []
    for s, x in zip(inputs, operands):
        if "..." in s:
            k = x.type.ndim - (len(s) - 3)
            if k < 0:
                raise tr.error(AdjitTypeError, node, f"einsum: operand subscripts {s!r} do not match a "
                               f"{x.type.ndim}-d array")
            s = s.replace("...", ell[n_ell - k:])
        out_in.append(s)
    if output is None:
        joined = "".join(out_in)
        output = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1 and c not in ell))
    elif "..." in output:
        output = output.replace("...", ell)
    elif ell:
        raise tr.error(AdjitTypeError, node, "einsum: output subscripts must include '...' when the inputs do")
    return out_in, output


def _tensordot(tr, node, path, x=None):
    a = bind(tr, node, path, ["a", "b", "axes"], 2)
    x, y = tr.value(a["a"], "an array"), tr.value(a["b"], "an array")
    if not (is_array(x.type) and is_array(y.type)):  # a number: axes must be 0, the product
        if "axes" in a and _const_int(tr, a["axes"], node, "axes") != 0:
            raise tr.error(AdjitTypeError, node, "shape-mismatch for sum")
        return tr.binop("mul", x, y, node)
    na, nb = x.type.ndim, y.type.ndim
    e = a.get("axes")
    if e is None or not isinstance(e, (ast.Tuple, ast.List)):
        n = 2 if e is None else _const_int(tr, e, node, "axes")
        ax, bx = list(range(na - n, na)), list(range(n))
    else:
        ax = [_norm_axis(tr, k, na, node) for k in _ints(tr, e.elts[0], node, "axes")]
        bx = [_norm_axis(tr, k, nb, node) for k in _ints(tr, e.elts[1], node, "axes")]
    if len(ax) != len(bx):
        raise tr.error(AdjitTypeError, node, "shape-mismatch for sum")
    sa = list(_LETTERS[:na])
    sb = list(_LETTERS[na:na + nb])
    for i, j in zip(ax, bx):
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in ax] + [c for k, c in enumerate(sb) if k not in bx]
    return einsum_lower(tr, ["".join(sa), "".join(sb)], "".join(out), [tr.b.cast(x, F64), tr.b.cast(y, F64)], node)


def contract_matmul(tr, a, b, node, path, dot=False):
    """a @ b (matmul: broadcast batch dimensions) or np.dot for arrays of more than 2 dims."""
    na, nb = a.type.ndim, b.type.ndim
    a, b = tr.b.cast(a, F64), tr.b.cast(b, F64)
    if nb == 1:
        sa = _LETTERS[:na]
        return einsum_lower(tr, [sa, sa[-1]], sa[:-1], [a, b], node)
    if dot:
        sa = _LETTERS[:na]
        sb = _LETTERS[na:na + nb - 2] + sa[-1] + _LETTERS[na + nb]
        return einsum_lower(tr, [sa, sb], sa[:-1] + sb[:-2] + sb[-1], [a, b], node)
    if na == 1:
        sb = _LETTERS[:nb]
        return einsum_lower(tr, [sb[-2], sb], sb[:-2] + sb[-1], [a, b], node)
    batch = max(na, nb) - 2
    bl = _LETTERS[:batch]
    i, k, j = "x", "y", "z"
    sa = bl[batch - (na - 2):] + i + k
    sb = bl[batch - (nb - 2):] + k + j
    return einsum_lower(tr, [sa, sb], bl + i + j, [a, b], node)


def _matmul_call(dot):
    def handler(tr, node, path, x=None):
        if node.keywords or len(node.args) != 2:
            return None
        a, b = tr.expr(node.args[0]), tr.expr(node.args[1])
        if not all(isinstance(v, Value) and is_array(v.type) for v in (a, b)) or max(a.type.ndim, b.type.ndim) <= 2:
            return _Fallback(a, b)
        return contract_matmul(tr, a, b, node, path, dot=dot)
    return handler


class _Fallback:
    def __init__(self, *values):
        self.values = values


def _inner(tr, node, path, x=None):
    if node.keywords or len(node.args) != 2:
        return None
    a, b = tr.expr(node.args[0]), tr.expr(node.args[1])
    if all(isinstance(v, Value) for v in (a, b)) and not (is_array(a.type) and is_array(b.type)):
        return tr.binop("mul", a, b, node)  # a number: NumPy's inner is the product
    if not all(isinstance(v, Value) and is_array(v.type) for v in (a, b)) or max(a.type.ndim, b.type.ndim) < 2:
        return _Fallback(a, b)
    sa = _LETTERS[:a.type.ndim]
    sb = _LETTERS[a.type.ndim:a.type.ndim + b.type.ndim - 1] + sa[-1]
    return einsum_lower(tr, [sa, sb], sa[:-1] + sb[:-1], [tr.b.cast(a, F64), tr.b.cast(b, F64)], node)


def _kron(tr, node, path, x=None):
    """np.kron of any ranks: the smaller one gets leading length-1 axes (NumPy's rule), then
    out[i0 k0, i1 k1, ...] = x[i0, i1...] y[k0, k1...]; a number scales."""
    a = bind(tr, node, path, ["a", "b"], 2)
    x, y = tr.value(a["a"], "an array or a number"), tr.value(a["b"], "an array or a number")
    if not (is_array(x.type) and is_array(y.type)):
        return tr.binop("mul", x, y, node)
    x, y = tr.b.cast(x, F64), tr.b.cast(y, F64)
    b = tr.b
    n = max(x.type.ndim, y.type.ndim)
    while x.type.ndim < n:
        x = b.emit("expand_dims", [x], {"axis": 0})
    while y.type.ndim < n:
        y = b.emit("expand_dims", [y], {"axis": 0})
    sx, sy = _LETTERS[:n], _LETTERS[n:2 * n]
    out = einsum_lower(tr, [sx, sy], "".join(p + q for p, q in zip(sx, sy)), [x, y], node)
    return b.emit("reshape", [out] + [b.emit("mul", [_shape(tr, x, d), _shape(tr, y, d)]) for d in range(n)])


def _to_last(tr, v, e, node):
    """v with its axis `e` (a constant, default -1) moved last (a view), as np.cross's axisa/axisb."""
    k = _norm_axis(tr, -1 if e is None else _const_int(tr, e, node, "the axis of np.cross"), v.type.ndim, node)
    return permute(tr, v, [d for d in range(v.type.ndim) if d != k] + [k])


def _cross(tr, node, path, x=None):
    a = bind(tr, node, path, ["a", "b", "axisa", "axisb", "axisc", "axis"], 2)
    if "axis" in a and not is_none(tr, a["axis"]):   # NumPy: axis= overrides the three
        a["axisa"] = a["axisb"] = a["axisc"] = a["axis"]
    x, y = _arr(tr, a["a"], node, path), _arr(tr, a["b"], node, path)
    x, y = _to_last(tr, x, a.get("axisa"), node), _to_last(tr, y, a.get("axisb"), node)
    out = _cross_last(tr, x, y)
    if out.type.ndim > 1 and "axisc" in a:
        c = _norm_axis(tr, _const_int(tr, a["axisc"], node, "axisc of np.cross"), out.type.ndim, node)
        order = list(range(out.type.ndim - 1))
        order.insert(c, out.type.ndim - 1)
        out = permute(tr, out, order)
    return out


def _cross_last(tr, x, y):
    b = tr.b

    def parts(v):
        last = v.type.ndim - 1
        three = b.emit("take", [tr.b.cast(v, F64), b.emit("cross_index", [_shape(tr, v, last)])], {"axis": last})
        return [b.emit("view", [three, b.const(c)], {"spec": tuple(("i",) if d == last else FULL_SLICE
                                                               for d in range(v.type.ndim))})
                if v.type.ndim > 1 else b.emit("load", [three, b.const(c)]) for c in range(3)]
    (a0, a1, a2), (b0, b1, b2) = parts(x), parts(y)

    def cross(p, q, r, s):
        return b.emit("sub", [b.emit("mul", [p, q]), b.emit("mul", [r, s])])
    comps = [cross(a1, b2, a2, b1), cross(a2, b0, a0, b2), cross(a0, b1, a1, b0)]
    if not any(is_array(c.type) for c in comps):
        return _stack_numbers(tr, comps)
    comps = [c if is_array(c.type) else None for c in comps]
    if any(c is None for c in comps):
        raise AssertionError
    return b.emit("stack", comps, {"axis": comps[0].type.ndim})


def _stack_numbers(tr, comps):
    b = tr.b
    out = b.emit("empty", [b.const(3)], {"dtype": F64})
    for k, c in enumerate(comps):
        b.emit("store", [out, b.const(k), c])
    return out


FUNCTIONS = {
    np.cumsum: _scan("cumsum"), np.cumprod: _scan("cumprod"), np.diff: _diff, np.sort: _sort,
    np.argsort: _argsort, np.argmax: _arg_extreme("argmax"), np.argmin: _arg_extreme("argmin"),
    np.transpose: _transpose, np.swapaxes: _swapaxes, np.moveaxis: _moveaxis, np.rollaxis: _rollaxis,
    np.squeeze: _squeeze,
    np.expand_dims: _expand_dims, np.flip: _flip, np.fliplr: _flip_fixed(1), np.flipud: _flip_fixed(0),
    np.repeat: _repeat, np.tile: _tile, np.roll: _roll, np.pad: _pad, np.vstack: _vstack, np.hstack: _hstack,
    np.column_stack: _column_stack, np.atleast_1d: _atleast(1), np.atleast_2d: _atleast(2),
    np.atleast_3d: _atleast(3), np.rot90: _rot90, np.append: _append, np.split: _split(True),
    np.array_split: _split(False), np.vsplit: _split(True, 0), np.hsplit: _split(True, 1),
    np.dsplit: _split(True, 2),
    np.tril: _tri("tril"), np.triu: _tri("triu"), np.diag: _diag, np.diagonal: _diagonal, np.trace: _trace,
    np.linalg.solve: _linalg("solve", 2), np.linalg.inv: _linalg("inv"), np.linalg.det: _linalg("det"),
    np.linalg.slogdet: _slogdet, np.linalg.cholesky: _linalg("cholesky"), np.linalg.eigh: _eigh,
    np.linalg.eigvalsh: _eigvalsh, np.real: _real_part("real"), np.imag: _real_part("imag"),
    np.conjugate: _real_part("conj"), np.angle: _real_part("angle"),
    np.real_if_close: _real_part("real_if_close"), np.nan_to_num: _nan_to_num, np.gradient: _gradient,
    np.einsum: _einsum, np.tensordot: _tensordot, np.matmul: _matmul_call(False), np.dot: _matmul_call(True),
    np.inner: _inner, np.kron: _kron, np.cross: _cross,
}


def call(tr, target, path, node):
    try:
        handler = FUNCTIONS.get(target)
    except TypeError:
        return None
    if handler is None:
        return None
    out = handler(tr, node, path)
    if isinstance(out, _Fallback):
        return None
    return out


METHODS = {"cumsum": _scan("cumsum"), "cumprod": _scan("cumprod"), "argsort": _argsort,
           "argmax": _arg_extreme("argmax"), "argmin": _arg_extreme("argmin"), "repeat": _repeat,
           "swapaxes": _swapaxes, "squeeze": _squeeze, "transpose": _transpose, "diagonal": _diagonal}


def method(tr, x, name, node):
    handler = METHODS.get(name)
    if handler is None:
        return None
    return handler(tr, node, f".{name}", x=x)
