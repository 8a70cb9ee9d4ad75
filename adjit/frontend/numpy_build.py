"""Arrays built from numbers, ranges and module-level data (issue 14).

* ``np.array([a, b, c])``, nested lists/tuples of numbers (computed ones too: the values
  are stored into a new array, so they differentiate), lists of arrays (a `stack`), an
  array (a copy); ``np.asarray`` (an array is returned as it is);
* ``np.arange``, ``np.eye``, ``np.identity`` (primitives without a derivative, in
  `adjit.ir.creation_primitives`); ``np.linspace`` lowered to arange and arithmetic exactly
  as NumPy computes it (it differentiates in its end points); ``np.full_like``;
  ``np.shape``/``np.ndim``/``np.size``;
* a module-level or closure ndarray read by the function: a constant frozen when the
  function is compiled (`frozen`), like a module-level number; writing into it is refused.
"""
import ast
import hashlib

import numpy as np

from ..errors import AdjitTypeError, UnsupportedSyntaxError
from ..ir.core import Value
from ..ir.types import BOOL, F64, I64, Array, is_array, promote
from .numpy_stats import bind, const_bool


def _dtype_arg(tr, e, node, path, default):
    from .calls import _DTYPES, _static
    if e is None or (isinstance(e, ast.Constant) and e.value is None):
        return default
    obj = _static(tr, e)
    if obj not in _DTYPES:
        raise tr.error(AdjitTypeError, node, f"dtype {ast.unparse(e)} is not supported",
                       hint="use float / np.float64, int / np.int64 or bool")
    return _DTYPES[obj]


# ---- np.array -----------------------------------------------------------------------------------
def _leaves(tr, e, node):
    """The nested structure of a list/tuple literal (or a compile-time tuple) as nested lists of
    Values."""
    from .translate import Tup
    if isinstance(e, (ast.List, ast.Tuple)):
        return [_leaves(tr, x, node) for x in e.elts]
    v = tr.expr(e) if isinstance(e, ast.AST) else e
    if isinstance(v, Tup):
        return [_leaves(tr, x, node) for x in v.items]
    if not isinstance(v, Value):
        raise tr.error(UnsupportedSyntaxError, node, "np.array() takes numbers, arrays and lists or tuples of them")
    return v


def _shape_of(tr, nested, node):
    if isinstance(nested, Value):
        return ()
    if not nested:
        return (0,)
    inner = [_shape_of(tr, x, node) for x in nested]
    if len(set(inner)) != 1:
        raise tr.error(AdjitTypeError, node, "np.array() of a ragged nested list (rows of different lengths or "
                       "depths) is not supported (NumPy refuses it too)")
    return (len(nested),) + inner[0]


def _flat(nested):
    if isinstance(nested, Value):
        return [nested]
    return [v for x in nested for v in _flat(x)]


def array(tr, node, path, copy=True):
    args = bind(tr, node, path, ("object", "dtype", "copy", "order", "ndmin", "like"))
    for k in ("order", "ndmin", "like"):
        if k in args:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}(..., {k}=) is not supported")
    if "copy" in args:
        copy = const_bool(tr, args["copy"], node, f"copy of {path}()")
    nested = _leaves(tr, args["object"], node)
    if isinstance(nested, Value) and is_array(nested.type):  # an array: a copy (np.array) or itself
        x = nested
        dtype = _dtype_arg(tr, args.get("dtype"), node, path, x.type.dtype)
        if dtype != x.type.dtype:
            return tr.b.cast(x, Array(dtype, x.type.ndim))
        return tr.b.emit("copy", [x]) if copy else x
    shape = _shape_of(tr, nested, node)
    leaves = _flat(nested)
    arrays_in = [v for v in leaves if is_array(v.type)]
    if arrays_in:
        return _stacked(tr, nested, shape, args, node, path)
    types = {v.type for v in leaves}
    if not shape:  # a 0-d array is a number in adjit (as a 0-d array argument is)
        return tr.b.cast(nested, _dtype_arg(tr, args.get("dtype"), node, path, nested.type))
    dtype = BOOL if types == {BOOL} else promote(*types) if leaves else F64
    dtype = _dtype_arg(tr, args.get("dtype"), node, path, dtype)
    for v in leaves:
        if not (dtype == F64 or v.type == dtype or (dtype == I64 and v.type == BOOL)):
            raise tr.error(AdjitTypeError, node, f"{path}(): a {v.type} value in an array of dtype {dtype}",
                           hint="convert it explicitly (int(...))")
    return from_numbers(tr, shape, leaves, dtype)


def array_like(tr, e, node, path):
    """An array_like argument as NumPy's functions take it: a number or an array as it is, a
    tuple or list of them (written out, or a tuple value) as np.array makes it."""
    nested = _leaves(tr, e, node)
    if isinstance(nested, Value):
        return nested
    shape, leaves = _shape_of(tr, nested, node), _flat(nested)
    if any(is_array(v.type) for v in leaves):
        return _stacked(tr, nested, shape, {}, node, path)
    types = {v.type for v in leaves}
    return from_numbers(tr, shape, leaves, BOOL if types == {BOOL} else promote(*types) if leaves else F64)


def from_numbers(tr, shape, leaves, dtype):
    """A new array of `shape` holding the numbers `leaves` (C order): stores, so it differentiates."""
    out = tr.b.emit("empty", [tr.b.const(n) for n in shape], {"dtype": dtype})
    for idx, v in zip(np.ndindex(*shape), leaves):
        tr.b.emit("store", [out] + [tr.b.const(i) for i in idx] + [tr.b.cast(v, dtype)])
    return out


def _stacked(tr, nested, shape, args, node, path):
    """A (nested) list whose leaves are arrays of one rank: stacks along new leading axes."""
    def build(n):
        if isinstance(n, Value):
            if not is_array(n.type):
                raise tr.error(AdjitTypeError, node, f"{path}() of a list mixing numbers and arrays is not supported")
            return n
        parts = [build(x) for x in n]
        if len({p.type.ndim for p in parts}) != 1:
            raise tr.error(AdjitTypeError, node, f"{path}(): the arrays in the list differ in dimensions")
        return tr.b.emit("stack", parts, {"axis": 0})
    out = build(nested)
    dtype = _dtype_arg(tr, args.get("dtype"), node, path, out.type.dtype)
    return tr.b.cast(out, Array(dtype, out.type.ndim))


# ---- ranges --------------------------------------------------------------------------------------
def _number(tr, e, what):
    v = tr.value(e, what)
    if is_array(v.type):
        raise tr.error(UnsupportedSyntaxError, e, f"{what} must be a number here, not an array")
    return v


def arange(tr, node, path):
    args = bind(tr, node, path, ("start", "stop", "step", "dtype"))
    values = [_number(tr, args[k], f"the {k} of {path}()") for k in ("start", "stop", "step") if k in args]
    if len(values) == 1:
        values = [tr.b.const(0)] + values
    if len(values) == 2:
        values.append(tr.b.const(1))
    start, stop, step = values
    if step.const in ((0,), (0.0,)):
        raise tr.error(AdjitTypeError, node, f"{path}(): the step must not be zero")
    kind = F64 if F64 in (v.type for v in values) else I64
    values = [tr.b.cast(v, kind) for v in values]
    out = tr.b.emit("arange", values) if kind == I64 else _float_arange(tr, *values)
    dtype = _dtype_arg(tr, args.get("dtype"), node, path, kind)
    if dtype != kind:
        if kind == F64:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() of floats with an int dtype is not supported")
        out = tr.b.cast(out, Array(dtype, 1))
    return out


def _float_arange(tr, start, stop, step):
    """NumPy's float arange: ceil((stop - start) / step) values; a[0] = start, a[1] = start + step,
    then a[i] = start + i * delta with delta = a[1] - a[0] (NumPy's fill)."""
    b = tr.b
    n = b.emit("max", [b.emit("ceil", [b.emit("div", [b.emit("sub", [stop, start]), step])]), b.const(0)])
    second = b.emit("add", [start, step])
    delta = b.emit("sub", [second, start])
    k = b.cast(b.emit("arange", [b.const(0), n, b.const(1)]), Array(F64, 1))
    y = b.emit("add", [start, b.emit("mul", [k, delta])])

    def fix_second():
        b.emit("store", [y, b.const(1), second])
    b.if_(b.emit("gt", [n, b.const(1)]), fix_second)
    return y


def linspace(tr, node, path):
    """NumPy's linspace: ``arange(num) * step + start`` with ``step = (stop - start) / div``, the last
    element set to ``stop`` exactly when ``endpoint``."""
    args = bind(tr, node, path, ("start", "stop", "num", "endpoint", "retstep", "dtype", "axis"), required=2)
    for k in ("retstep", "axis"):
        if k in args:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}(..., {k}=) is not supported")
    if _dtype_arg(tr, args.get("dtype"), node, path, F64) != F64:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() with an int or bool dtype is not supported")
    start = tr.b.cast(_number(tr, args["start"], f"the start of {path}()"), F64)
    stop = tr.b.cast(_number(tr, args["stop"], f"the stop of {path}()"), F64)
    num = tr.int_value(args["num"], f"num of {path}() must be an int") if "num" in args else tr.b.const(50)
    endpoint = const_bool(tr, args["endpoint"], node, f"endpoint of {path}()") if "endpoint" in args else True
    div = tr.b.emit("sub", [num, tr.b.const(1)]) if endpoint else num
    div = tr.b.emit("max", [div, tr.b.const(1)])  # num == 1: NumPy's single value is start
    step = tr.b.emit("div", [tr.b.emit("sub", [stop, start]), tr.b.cast(div, F64)])
    k = tr.b.cast(tr.b.emit("arange", [tr.b.const(0), num, tr.b.const(1)]), Array(F64, 1))
    y = tr.b.emit("add", [tr.b.emit("mul", [k, step]), start])
    if endpoint:
        last = tr.b.emit("sub", [num, tr.b.const(1)])
        def set_last():
            tr.b.emit("store", [y, last, stop])
        tr.b.if_(tr.b.emit("gt", [num, tr.b.const(1)]), set_last)
    return y


def eye(tr, node, path):
    args = bind(tr, node, path, ("N", "M", "k", "dtype", "order", "like"))
    for k in ("order", "like"):
        if k in args:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}(..., {k}=) is not supported")
    n = tr.int_value(args["N"], f"the size given to {path}() must be an int")
    m = n if "M" not in args or _is_none_node(args["M"]) else tr.int_value(args["M"], f"M of {path}() must be an int")
    k = tr.int_value(args["k"], f"k of {path}() must be an int") if "k" in args else tr.b.const(0)
    dtype = _dtype_arg(tr, args.get("dtype"), node, path, F64)
    return tr.b.emit("eye", [n, m, k], {"dtype": dtype})


def identity(tr, node, path):
    args = bind(tr, node, path, ("n", "dtype", "like"))
    if "like" in args:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}(..., like=) is not supported")
    n = tr.int_value(args["n"], f"the size given to {path}() must be an int")
    return tr.b.emit("eye", [n, n, tr.b.const(0)], {"dtype": _dtype_arg(tr, args.get("dtype"), node, path, F64)})


def _is_none_node(e):
    return isinstance(e, ast.Constant) and e.value is None


def full_like(tr, node, path):
    args = bind(tr, node, path, ("a", "fill_value", "dtype", "order", "subok", "shape"), required=2)
    for k in ("order", "subok", "shape"):
        if k in args:
            raise tr.error(UnsupportedSyntaxError, node, f"{path}(..., {k}=) is not supported")
    a = tr.value(args["a"])
    if not is_array(a.type):
        raise tr.error(AdjitTypeError, node, f"{path}() needs an array argument")
    fill = _number(tr, args["fill_value"], f"the fill value of {path}()")
    dtype = _dtype_arg(tr, args.get("dtype"), node, path, a.type.dtype)
    if dtype == F64:
        return tr.b.emit("full_like", [a, tr.b.cast(fill, F64)])
    if fill.type == F64 and dtype == I64:
        fill = tr.b.emit("i64", [fill])  # NumPy casts the fill to the array's dtype (truncation)
    dims = [tr.b.emit("shape", [a], {"dim": d}) for d in range(a.type.ndim)]
    return tr.b.emit("full", dims + [tr.b.cast(fill, dtype)], {"dtype": dtype})


def _shape_info(which):
    def handler(tr, node, path):
        from .translate import Tup
        args = bind(tr, node, path, ("a",))
        a = tr.value(args["a"])
        if not is_array(a.type):
            return Tup([]) if which == "shape" else tr.b.const(0 if which == "ndim" else 1)
        dims = [tr.b.emit("shape", [a], {"dim": d}) for d in range(a.type.ndim)]
        if which == "shape":
            return Tup(dims)
        if which == "ndim":
            return tr.b.const(a.type.ndim)
        n = tr.b.const(1)
        for d in dims:
            n = tr.b.emit("mul", [n, d])
        return n
    return handler


FUNCTIONS = {np.array: array, np.asarray: lambda tr, node, path: array(tr, node, path, copy=False),
             np.arange: arange, np.linspace: linspace, np.eye: eye, np.identity: identity, np.full_like: full_like,
             np.shape: _shape_info("shape"), np.ndim: _shape_info("ndim"), np.size: _shape_info("size")}


def call(tr, target, path, node):
    try:
        handler = FUNCTIONS.get(target)
    except TypeError:  # an unhashable callable
        return None
    return None if handler is None else handler(tr, node, path)


# ---- module-level arrays ---------------------------------------------------------------------------
_KINDS = {"f": F64, "i": I64, "u": I64, "b": BOOL}
_NP = {F64: np.float64, I64: np.int64, BOOL: np.bool_}


def frozen(tr, obj, path, node):
    """A module-level or closure ndarray as a constant of the compiled code: a copy taken now
    (when this specialisation is compiled), as for a module-level number."""
    from ..codegen import runtime
    dtype = _KINDS.get(obj.dtype.kind)
    if dtype is None:
        raise tr.error(UnsupportedSyntaxError, node, f"the global array {path!r} has dtype {obj.dtype}, which "
                       "compiled code cannot use", hint="use a float64, int64 or bool array")
    if obj.dtype.kind == "u" and obj.size and obj.max() >= 2 ** 63:
        raise tr.error(AdjitTypeError, node, f"the global array {path!r} holds integers beyond int64")
    data = np.array(obj, dtype=_NP[dtype], order="C", copy=True)
    if data.ndim == 0:
        return tr.b.const(data.item())
    data.flags.writeable = False
    digest = hashlib.sha256(f"{data.dtype.str}{data.shape}".encode() + data.tobytes()).hexdigest()[:20]
    name = f"frozen_{digest}"
    if not hasattr(runtime, name):
        setattr(runtime, name, data)
    return tr.b.emit("frozen_array", [], {"key": digest, "type": Array(dtype, data.ndim), "name": path})


def refuse_frozen_writes(fn):
    """Writing into a module-level array is refused: the compiled code holds a frozen copy."""
    from ..ir.alias import MemoryModel
    from ..ir.core import walk_ops
    frozen_ops = {op.result: op for op in walk_ops(fn.body) if op.prim == "frozen_array"}
    if not frozen_ops:
        return
    mm = MemoryModel(fn)
    for op in mm.writes:
        hit = [frozen_ops[r] for r in mm.roots(op.args[0]) if r in frozen_ops]
        if hit:
            filename, lineno, text = op.loc if op.loc else (fn.filename, None, None)
            name = hit[0].attrs["name"]
            raise UnsupportedSyntaxError(
                f"this writes into the module-level array {name!r}: compiled code reads module-level and closure "
                "arrays as constants, frozen when it is compiled, so the write could not reach the array",
                filename=filename, lineno=lineno, source_line=text,
                hint=f"pass {name} as an argument to write into it, or write into a copy: {name}.copy()")
