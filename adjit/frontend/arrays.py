"""The NumPy array subset: elementwise operations with broadcasting, reductions, matrix
products, reshapes, joins, and basic indexing and slicing.

Every supported array function or method is one entry of `ARRAY_FUNCTIONS` or
`ARRAY_METHODS` below, so what is supported can be read off this file; each lowers to
primitives of the table (`adjit.ir.primitives`, `adjit.ir.array_primitives`).
"""
import ast

import numpy as np

from ..errors import AdjitTypeError, UnsupportedSyntaxError
from ..ir.core import Value
from ..ir.primitives import PRIMITIVES
from ..ir.types import BOOL, F64, I64, Array, is_array

FULL_SLICE = ("s", False, False, False)


def view_ndim(spec):
    return sum(1 for entry in spec if entry[0] == "s")


def _is_array(v):
    return isinstance(v, Value) and is_array(v.type)


def _need_array(tr, v, node, what):
    if not _is_array(v):
        raise tr.error(AdjitTypeError, node, f"{what} needs an array, got {_describe(v)}")
    return v


def _describe(v):
    from .translate import describe  # one wording for every message (no internal names)
    return describe(v)


# ---- elementwise ------------------------------------------------------------------------------
def elementwise(tr, prim, args, node, path=None):
    """`prim` applied elementwise, NumPy broadcasting the operands."""
    for a in args:
        if not isinstance(a, Value):
            raise tr.error(UnsupportedSyntaxError, node, f"arithmetic on {_describe(a)} is not supported")
    if not PRIMITIVES[prim].elementwise:
        raise tr.error(UnsupportedSyntaxError, node, f"{path or prim}() of an array is not supported",
                       hint="apply it to the elements in a loop")
    return tr.b.emit(prim, args)


def unary(tr, op, v, node):
    if isinstance(op, ast.USub):
        return tr.b.emit("neg", [v])
    if isinstance(op, ast.UAdd):
        if v.type.dtype == BOOL:  # as NumPy: np.positive has no loop for bool
            raise tr.error(AdjitTypeError, node, "unary + of a bool array is not supported (NumPy refuses it too)",
                           hint="write m.copy() for a copy")
        return tr.b.emit("copy", [v])  # NumPy's +x is a new array, never x itself
    if isinstance(op, ast.Invert) and v.type.dtype == BOOL:
        return tr.b.emit("not_", [v])
    raise tr.error(UnsupportedSyntaxError, node, f"the operator {type(op).__name__} on arrays is not supported")


# ---- indexing -----------------------------------------------------------------------------------
def index(tr, arr, e, newaxes=None):
    """(index operands, spec) of ``arr[...]``: spec None for a single element, else the view spec.

    ``...`` stands for the full slices it covers.  None (np.newaxis) entries are left out of
    the spec; for a read, their positions in the result are appended to `newaxes` (the caller
    inserts those axes, `insert_newaxes`); a write ignores them (the value broadcasts the same)."""
    parts = list(e.slice.elts) if isinstance(e.slice, ast.Tuple) else [e.slice]
    ndim = arr.type.ndim
    parts = _expand_ellipsis(tr, parts, ndim, e)
    from .numpy_stats import is_none
    kept, dims = [], 0
    for p in parts:
        if is_none(tr, p):
            if newaxes is not None:
                newaxes.append(dims)
            dims += 1
            continue
        kept.append(p)
        dims += isinstance(p, ast.Slice)
    parts = kept
    if len(parts) > ndim:
        hint = "write a[i, j] rather than a[i][j]" if isinstance(e.value, ast.Subscript) else None
        raise tr.error(UnsupportedSyntaxError, e, f"an array with {ndim} dimension(s) indexed with {len(parts)} indexes",
                       hint=hint)
    operands, spec = [], []
    for p in parts:
        if isinstance(p, ast.Slice):
            entry = ["s"]
            for bound in (p.lower, p.upper, p.step):
                entry.append(bound is not None)
                if bound is not None:
                    operands.append(tr.int_value(bound, "slice bounds must be integers"))
            if p.step is not None and operands[-1].const == (0,):
                raise tr.error(AdjitTypeError, e, "slice step cannot be zero")
            spec.append(tuple(entry))
        else:
            v = tr.value(p, "an integer index")
            if is_array(v.type):
                raise tr.error(UnsupportedSyntaxError, e, "indexing with an array (fancy or boolean indexing) "
                               "is not supported", hint="use np.where(mask, a, b), or a loop")
            operands.append(tr.int_value(p, "array indices must be integers") if v.type != I64 else v)
            spec.append(("i",))
    if len(spec) == ndim and all(entry[0] == "i" for entry in spec):
        return operands, None
    spec += [FULL_SLICE] * (ndim - len(spec))
    return operands, tuple(spec)


def _is_ellipsis(p):
    return isinstance(p, ast.Constant) and p.value is Ellipsis


def _expand_ellipsis(tr, parts, ndim, e):
    from .numpy_stats import is_none
    marks = [k for k, p in enumerate(parts) if _is_ellipsis(p)]
    if not marks:
        return parts
    if len(marks) > 1:
        raise tr.error(AdjitTypeError, e, "an index can only have a single ellipsis ('...')")
    real = sum(1 for p in parts if not _is_ellipsis(p) and not is_none(tr, p))
    if real > ndim:
        raise tr.error(UnsupportedSyntaxError, e, f"an array with {ndim} dimension(s) indexed with {real} indexes")
    k = marks[0]
    return parts[:k] + [ast.Slice() for _ in range(ndim - real)] + parts[k + 1:]


def check_write_newaxes(tr, positions, spec, value, node):
    """A write through an index with None axes: the target's None axes have length 1, and the
    write is the one without them when the value has no dimension there (it broadcasts the
    same); a value with a dimension at a None axis is refused (NumPy needs it to be 1)."""
    if not positions:
        return
    total = (0 if spec is None else view_ndim(spec)) + len(positions)
    k = value.type.ndim if isinstance(value, Value) and is_array(value.type) else 0
    if any(p >= total - k for p in positions):
        raise tr.error(UnsupportedSyntaxError, node, "writing an array through an index with None (np.newaxis) "
                       "at a dimension the value also has is not supported",
                       hint="leave the None out of the index and give the value the shape of the target")


def insert_newaxes(tr, v, positions):
    """The result of an index read with its None (np.newaxis) axes inserted at `positions`."""
    if not is_array(v.type):  # every index was an integer: a number becomes a (1, ..., 1) array
        from .numpy_stats import _keep_all
        return _keep_all(tr, v, len(positions))
    for p in positions:
        v = tr.b.emit("expand_dims", [v], {"axis": p})
    return v


# ---- linear algebra and shapes ---------------------------------------------------------------------
def matmul(tr, a, b, node, path):
    if _is_array(a) and _is_array(b) and max(a.type.ndim, b.type.ndim) > 2:  # batched (issue 14)
        from .numpy_shapes import contract_matmul
        return contract_matmul(tr, a, b, node, path, dot="dot" in path)
    for v in (a, b):
        _need_array(tr, v, node, path)
        if v.type.ndim > 2:
            raise tr.error(UnsupportedSyntaxError, node, f"{path} of a {v.type.ndim}-d array is not supported",
                           hint="use 1-d and 2-d arrays (loop over the leading dimension)")
    return tr.b.emit("matmul", [a, b])


def transpose(tr, v, node):
    return v if v.type.ndim == 1 else tr.b.emit("transpose", [v])


def _dot(tr, args, node, path):
    a, b = args
    if _is_array(a) and _is_array(b):
        return matmul(tr, a, b, node, path)
    return tr.binop("mul", a, b, node)


def _outer(tr, args, node, path):
    for v in args:
        if not (_is_array(v) and v.type.ndim == 1):
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() is supported for two 1-d arrays")
    return tr.b.emit("outer", args)


def _inner(tr, args, node, path):
    for v in args:
        if not (_is_array(v) and v.type.ndim == 1):
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() is supported for two 1-d arrays",
                           hint="use np.dot or @ for matrices")
    return tr.b.emit("matmul", args)


def _trace(tr, args, node, path):
    (x,) = args
    if not (_is_array(x) and x.type.ndim == 2):
        raise tr.error(AdjitTypeError, node, f"{path}() needs a 2-d array")
    return tr.b.emit("trace", [x])


def _transpose_call(tr, args, node, path):
    (x,) = args
    _need_array(tr, x, node, path)
    return transpose(tr, x, node)


def _shape_operands(tr, values, node, path):
    from .translate import Tup
    dims = values[0].items if len(values) == 1 and isinstance(values[0], Tup) else values
    for d in dims:
        if not (isinstance(d, Value) and d.type in (I64, BOOL)):
            raise tr.error(AdjitTypeError, node, f"the shape given to {path}() must be ints or a tuple of ints")
    return [tr.b.cast(d, I64) for d in dims]


def _reshape(tr, x, shape, node, path):
    _need_array(tr, x, node, path)
    dims = _shape_operands(tr, shape, node, path)
    if not dims:
        raise tr.error(UnsupportedSyntaxError, node, "reshaping to a 0-d array is not supported")
    return tr.b.emit("reshape", [x] + dims)


def _ravel(tr, args, node, path):
    (x,) = args
    _need_array(tr, x, node, path)
    return tr.b.emit("ravel", [x])


def _joined(prim):
    def join(tr, node, path, keywords):
        if len(node.args) == 2 and "axis" not in keywords:  # a positional axis
            keywords["axis"] = node.args[1]
        from .numpy_shapes import sequence
        items = sequence(tr, node.args[0], node, path) if len(node.args) in (1, 2) else None
        if items is None:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() takes a tuple of arrays: "
                           f"{path}((a, b), axis=0)")
        parts = items
        for x in parts:
            _need_array(tr, x, node, path)
        from .numpy_stats import is_none
        if prim == "concatenate" and parts and is_none(tr, keywords.get("axis")):  # NumPy flattens them first
            from .numpy_shapes import _flat_parts
            return tr.b.emit(prim, _flat_parts(tr, parts), {"axis": 0})
        if not parts or len({x.type.ndim for x in parts}) != 1:
            raise tr.error(AdjitTypeError, node, f"{path}() needs one or more arrays of the same number of dimensions")
        ndim = parts[0].type.ndim + (prim == "stack")
        axis = _axis(tr, keywords.get("axis"), ndim, node, path, default=0)
        if axis is None:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}(..., axis=None) is not supported")
        return tr.b.emit(prim, parts, {"axis": axis})
    return join


def _where(tr, args, node, path):
    cond, a, b = args
    if not _is_array(cond):
        cond = tr.b.cast(cond, BOOL)
    elif cond.type.dtype != BOOL:
        cond = tr.b.emit("truth", [cond])
    return elementwise(tr, "select", [cond, a, b], node, path)


def _clip(tr, args, node, path):
    x, lo, hi = args
    return elementwise(tr, "min", [elementwise(tr, "max", [x, lo], node, path), hi], node, path)


# ---- reductions ----------------------------------------------------------------------------------
def _axis(tr, e, ndim, node, path, default=None):
    """A constant axis (negative counts from the end), normalised; None for all axes."""
    if e is None:
        return default
    if isinstance(e, ast.Constant) and e.value is None:
        return None
    v = tr.expr(e)
    if not (isinstance(v, Value) and v.const is not None and v.type == I64):
        raise tr.error(UnsupportedSyntaxError, node, f"the axis of {path}() must be a constant int",
                       hint="write axis=0, axis=1 or axis=-1")
    axis = v.const[0]
    if not -ndim <= axis < ndim:
        raise tr.error(AdjitTypeError, node, f"axis {axis} is out of range for a {ndim}-d array")
    return axis % ndim


def _keepdims(tr, e, node, path):
    if e is None:
        return False
    v = tr.expr(e)
    if not (isinstance(v, Value) and v.const is not None and v.type == BOOL):
        raise tr.error(UnsupportedSyntaxError, node, f"keepdims of {path}() must be True or False")
    return v.const[0]


def reduction(prim):
    """The handler of reduction `prim`: axis= an int, a tuple or None, keepdims=, dtype= (see
    `adjit.frontend.numpy_stats`, which also builds var, std and average on it)."""
    def reduce(tr, x, keywords, node, path):
        from . import numpy_stats
        return numpy_stats.reduce(tr, prim, x, keywords, node, path)
    return reduce


_REDUCTIONS = {np.sum: "sum", np.mean: "mean", np.max: "amax", np.amax: "amax", np.min: "amin",
               np.amin: "amin", np.prod: "prod"}
_REDUCTION_METHODS = {"sum": "sum", "mean": "mean", "max": "amax", "min": "amin", "prod": "prod"}

# numpy function -> (number of positional arguments, handler(tr, args, node, path))
ARRAY_FUNCTIONS = {
    np.dot: (2, _dot), np.matmul: (2, lambda tr, args, node, path: matmul(tr, *args, node, path)),
    np.outer: (2, _outer), np.inner: (2, _inner), np.trace: (1, _trace),
    np.transpose: (1, _transpose_call), np.ravel: (1, _ravel), np.where: (3, _where), np.clip: (3, _clip),
    np.reshape: (2, lambda tr, args, node, path: _reshape(tr, args[0], [args[1]], node, path)),
}
JOINS = {np.concatenate: _joined("concatenate"), np.stack: _joined("stack")}


def call(tr, target, path, node):
    """Translate a call of a whole-array NumPy function, or return None if `target` is not one."""
    if target in JOINS:
        keywords = _keywords(tr, node, path, ("axis",))
        return JOINS[target](tr, node, path, keywords)
    if target in _REDUCTIONS:
        keywords = _keywords(tr, node, path, ("axis", "keepdims", "dtype"))
        if len(node.args) == 2 and "axis" not in keywords:
            keywords["axis"] = node.args[1]
        elif len(node.args) != 1:
            raise tr.error(AdjitTypeError, node, f"{path}() takes one array (and an axis)")
        return reduction(_REDUCTIONS[target])(tr, tr.expr(node.args[0]), keywords, node, path)
    if target in ARRAY_FUNCTIONS:
        n, handler = ARRAY_FUNCTIONS[target]
        _keywords(tr, node, path, ())
        if len(node.args) != n:
            raise tr.error(AdjitTypeError, node, f"{path}() takes {n} argument(s) here, got {len(node.args)}")
        return handler(tr, [tr.expr(a) for a in node.args], node, path)
    return None


def _keywords(tr, node, path, allowed):
    out = {}
    for k in node.keywords:
        if k.arg not in allowed:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() got an unsupported keyword argument {k.arg!r}")
        out[k.arg] = k.value
    return out


def method(tr, x, name, node):
    """Translate ``x.name(...)`` for an array x, or return None if it is not an array method we know."""
    path = f".{name}"
    if name in _REDUCTION_METHODS:
        keywords = _keywords(tr, node, path, ("axis", "keepdims", "dtype"))
        if len(node.args) == 1 and "axis" not in keywords:
            keywords["axis"] = node.args[0]
        elif node.args:
            raise tr.error(AdjitTypeError, node, f"{path}() takes an axis only")
        return reduction(_REDUCTION_METHODS[name])(tr, x, keywords, node, path)
    if not _is_array(x):
        return None
    simple = {"dot": (1, lambda args: _dot(tr, [x] + args, node, path)),
              "ravel": (0, lambda args: _ravel(tr, [x], node, path)),
              "flatten": (0, lambda args: tr.b.emit("copy", [_ravel(tr, [x], node, path)])),
              "transpose": (0, lambda args: transpose(tr, x, node))}
    if name == "reshape":
        _keywords(tr, node, path, ())
        return _reshape(tr, x, [tr.expr(a) for a in node.args], node, path)
    if name in simple:
        n, handler = simple[name]
        _keywords(tr, node, path, ())
        if len(node.args) != n:
            raise tr.error(AdjitTypeError, node, f"{path}() takes {n} argument(s) here")
        return handler([tr.expr(a) for a in node.args])
    return None
